#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/net.h"

char *
net_put_decimal(char *p, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

void
net_copy_cut(char *buf, size_t size, const char *s, size_t n)
{
	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/*
 * Every audit record and most log lines name an address, so it is
 * written by hand, not with snprintf or inet_ntop (which formats an IPv4
 * address with sprintf): vfprintf takes 2 KiB of stack, and a worker
 * formats its records under its deepest call chain, where every stack
 * page it touches is a page of its own.  IPv6 text (RFC 5952's zero
 * compression) stays inet_ntop's.
 */
char *
net_put_ip(char *p, int family, const uint8_t *ip)
{
	if (family == AF_INET) {
		for (size_t i = 0; i < 4; i++) {
			if (i > 0)
				*p++ = '.';
			p = net_put_decimal(p, ip[i]);
		}
		return p;
	}
	*p++ = '[';
	if (inet_ntop(AF_INET6, ip, p, INET6_ADDRSTRLEN) == NULL)
		*p = '\0';
	p += strlen(p);
	*p++ = ']';
	return p;
}

void
net_addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	char text[NET_ADDRSTR_MAX], *p = text;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	switch (sa->sa_family) {
	case AF_INET:
		p = net_put_ip(p, AF_INET, (const uint8_t *)&sin->sin_addr);
		break;
	case AF_INET6:
		p = IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) ?
		    net_put_ip(p, AF_INET, &sin6->sin6_addr.s6_addr[12]) :
		    net_put_ip(p, AF_INET6, sin6->sin6_addr.s6_addr);
		break;
	default:
		net_copy_cut(buf, size, "unknown", sizeof("unknown") - 1);
		return;
	}
	*p++ = ':';
	p = net_put_decimal(p, net_addr_port(sa));
	net_copy_cut(buf, size, text, (size_t)(p - text));
}

socklen_t
net_addr_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET: return sizeof(struct sockaddr_in);
	case AF_INET6: return sizeof(struct sockaddr_in6);
	}
	return 0;
}

uint16_t
net_addr_port(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET: return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	case AF_INET6: return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	return 0;
}

static int
port_parse(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return ERR_PROTO;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return ERR_PROTO;
	if (v == 0 || v > 65535)
		return ERR_RANGE;
	*port = (uint16_t)v;
	return 0;
}

int
net_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_str, *close_br;
	uint16_t port;
	size_t hlen;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		if ((close_br = strchr(s, ']')) == NULL || close_br[1] != ':')
			return ERR_PROTO;
		hlen = (size_t)(close_br - (s + 1));
		if (hlen == 0 || hlen >= sizeof(host))
			return ERR_PROTO;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if ((rc = port_parse(close_br + 2, &port)) != 0)
			return rc;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return ERR_PROTO;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_ANY);
	*len = sizeof(*sin);
	if ((port_str = strrchr(s, ':')) == NULL) {
		if ((rc = port_parse(s, &port)) != 0)
			return rc;
		sin->sin_port = htons(port);
		return 0;
	}
	hlen = (size_t)(port_str - s);
	if (hlen >= sizeof(host))
		return ERR_PROTO;
	if ((rc = port_parse(port_str + 1, &port)) != 0)
		return rc;
	sin->sin_port = htons(port);
	if (hlen == 0)
		return 0;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return ERR_PROTO;
	return 0;
}

void
net_addr_make(struct sockaddr_storage *ss, int family, const uint8_t *ip,
    uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, ip, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, ip, 16);
	net_addr_set_port(ss, port);
}

void
net_addr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* The address as 16 bytes, IPv4 in its mapped form; 0 for other families. */
static int
addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 1;
	}
	return 0;
}

int
net_addr_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t x[16], y[16];

	return addr_bytes(a, x) && addr_bytes(b, y) && memcmp(x, y, 16) == 0;
}

int
net_addr_is_any(const struct sockaddr *sa)
{
	static const uint8_t zero[16];
	static const uint8_t mapped_zero[16] = { [10] = 0xff, [11] = 0xff };
	uint8_t x[16];

	return addr_bytes(sa, x) && (memcmp(x, zero, 16) == 0 ||
	    memcmp(x, mapped_zero, 16) == 0);
}

int
net_set_nonblock(int fd, int on)
{
	int flags = fcntl(fd, F_GETFL), want;

	if (flags == -1)
		return ERR_SYS;
	want = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	/* Already so (a socket made SOCK_NONBLOCK, or one descriptor both
	 * ways of a relay): no second call. */
	if (want == flags)
		return 0;
	return fcntl(fd, F_SETFL, want) == -1 ? ERR_SYS : 0;
}

int
net_listen(const struct sockaddr *sa, int backlog, unsigned flags,
    int *fd_out)
{
	int fd, one = 1, saved;

	*fd_out = -1;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return ERR_SYS;
	if ((flags & NET_LISTEN_REUSEADDR) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if ((flags & NET_LISTEN_V6ONLY) != 0 && sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, sa, net_addr_len(sa)) == -1 || listen(fd, backlog) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return ERR_SYS;
	}
	*fd_out = fd;
	return 0;
}
