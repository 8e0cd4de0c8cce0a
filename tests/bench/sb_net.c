/*
 * socksbench: addresses, sockets, the SOCKS5 client side, small helpers.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/bench/sb.h"

/* The safety rule of the benchmark: loopback only. */
static bool
addr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)ss;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return false;
}

/* Parse a numeric host and an optional ":port" ("127.0.0.1:1080",
 * "[::1]:1080", or a bare host when port_optional). */
static int
addr_parse(const char *s, struct sb_addr *out, bool port_optional)
{
	char host[64];
	const char *port = NULL;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL)
			return -1;
		hlen = (size_t)(end - s - 1);
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else {
		const char *colon = strrchr(s, ':');
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (colon != NULL)
			port = colon + 1;
	}

	unsigned long pnum = 0;
	if (port != NULL) {
		char *end;
		errno = 0;
		pnum = strtoul(port, &end, 10);
		if (errno != 0 || *end != '\0' || end == port || pnum > 65535)
			return -1;
	} else if (!port_optional) {
		return -1;
	}

	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pnum);
		out->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pnum);
		out->len = sizeof(*sin6);
	} else {
		return -1;
	}
	if (!addr_is_loopback(&out->ss)) {
		fprintf(stderr, "socksbench: %s is not a loopback address; "
		    "the benchmark only talks to 127.0.0.0/8 and ::1\n", s);
		return -1;
	}
	return 0;
}

int
sb_addr_parse(const char *s, struct sb_addr *out)
{
	return addr_parse(s, out, false);
}

/* "none", one address, or an IPv4 range in the last octet: "127.0.0.2-9". */
int
sb_srcs_parse(const char *s, struct sb_srcs *out)
{
	char first[64];
	const char *dash = strchr(s, '-');

	out->n = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	if (dash == NULL)
		return addr_parse(s, &out->a[out->n++], true);

	size_t flen = (size_t)(dash - s);
	if (flen >= sizeof(first))
		return -1;
	memcpy(first, s, flen);
	first[flen] = '\0';
	struct sb_addr base;
	if (addr_parse(first, &base, true) != 0 || base.ss.ss_family != AF_INET)
		return -1;
	char *end;
	unsigned long last = strtoul(dash + 1, &end, 10);
	struct sockaddr_in *bsin = (struct sockaddr_in *)&base.ss;
	uint32_t a = ntohl(bsin->sin_addr.s_addr);
	if (*end != '\0' || last > 255 || last < (a & 0xff))
		return -1;
	for (uint32_t o = a & 0xff; o <= last; o++) {
		struct sb_addr *dst = &out->a[out->n++];
		*dst = base;
		((struct sockaddr_in *)&dst->ss)->sin_addr.s_addr =
		    htonl((a & ~0xffu) | o);
	}
	return 0;
}

void
sb_addr_str(const struct sb_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	}
}

uint64_t
sb_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
sb_sleep_s(double s)
{
	struct timespec ts;
	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
sb_socket(const struct sb_addr *peer, const struct sb_addr *src, bool nonblock)
{
	int fd = socket(peer->ss.ss_family,
	    SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	if (src != NULL && src->ss.ss_family == peer->ss.ss_family) {
		/* Let connect() pick the port per 4-tuple: without this,
		 * bind() reserves a port for the address alone and the
		 * client would run out of ports long before the server. */
		int one = 1;
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (const struct sockaddr *)&src->ss, src->len) != 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

void
sb_set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* RFC 1928 section 4: VER CMD RSV ATYP DST.ADDR DST.PORT. */
size_t
sb_socks5_request(const struct sb_addr *dest, uint8_t *buf, size_t len)
{
	size_t n = 0;
	if (len < 22)
		return 0;
	buf[n++] = 5;
	buf[n++] = 1; /* CONNECT */
	buf[n++] = 0;
	if (dest->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)&dest->ss;
		buf[n++] = 4;
		memcpy(buf + n, &sin6->sin6_addr, 16);
		n += 16;
		memcpy(buf + n, &sin6->sin6_port, 2);
	} else {
		const struct sockaddr_in *sin =
		    (const struct sockaddr_in *)&dest->ss;
		buf[n++] = 1;
		memcpy(buf + n, &sin->sin_addr, 4);
		n += 4;
		memcpy(buf + n, &sin->sin_port, 2);
	}
	return n + 2;
}

/* RFC 1928 section 6: VER REP RSV ATYP BND.ADDR BND.PORT; the fifth byte
 * is the domain length when ATYP is 3. */
size_t
sb_socks5_reply_len(const uint8_t hdr[5])
{
	if (hdr[0] != 5 || hdr[2] != 0)
		return 0;
	switch (hdr[3]) {
	case 1:
		return 4 + 4 + 2;
	case 4:
		return 4 + 16 + 2;
	case 3:
		return 4 + 1 + (size_t)hdr[4] + 2;
	default:
		return 0;
	}
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
sb_client_open(int fd, const struct sb_opts *o, const char **why)
{
	const struct sb_addr *peer = o->have_proxy ? &o->proxy : &o->dest;
	uint8_t buf[300];

	if (connect(fd, (const struct sockaddr *)&peer->ss, peer->len) != 0) {
		*why = "connect";
		return -1;
	}
	if (!o->have_proxy)
		return 0;

	/* Greeting offering only "no authentication" (RFC 1928 section 3). */
	static const uint8_t greeting[3] = { 5, 1, 0 };
	if (write_all(fd, greeting, sizeof(greeting)) != 0 ||
	    read_all(fd, buf, 2) != 0) {
		*why = "greeting";
		return -1;
	}
	if (buf[0] != 5 || buf[1] != 0) {
		*why = "method refused";
		return -1;
	}
	size_t rlen = sb_socks5_request(&o->dest, buf, sizeof(buf));
	if (write_all(fd, buf, rlen) != 0 || read_all(fd, buf, 5) != 0) {
		*why = "request";
		return -1;
	}
	size_t want = sb_socks5_reply_len(buf);
	if (want == 0 || read_all(fd, buf + 5, want - 5) != 0) {
		*why = "malformed reply";
		return -1;
	}
	if (buf[1] != 0) {
		*why = "CONNECT refused";
		return -1;
	}
	return 0;
}

int
sb_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile. */
uint32_t
sb_pct(const uint32_t *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}
