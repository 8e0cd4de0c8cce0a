#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/wr.h"

static int sockaddr_ipv4(const struct sockaddr *sa, uint8_t ip[4],
    uint16_t *port);

int
socks_peek_version(const struct rd *r)
{
	struct rd peek = *r;
	uint8_t ver;

	if (rd_u8(&peek, &ver) != 0)
		return ERR_SHORT;
	if (ver == SOCKS_V4 || ver == SOCKS_V5)
		return ver;
	return ERR_PROTO;
}

/*
 * Each parser reads into a copy of the reader and commits it only on
 * success, so an ERR_SHORT leaves the caller's cursor where it was and the
 * same call can be repeated once more bytes have arrived.
 */

int
socks5_greeting_parse(struct rd *r, struct socks5_greeting *g)
{
	struct rd cur = *r;
	uint8_t ver, n;
	int rc;

	if ((rc = rd_u8(&cur, &ver)) != 0)
		return rc;
	if (ver != SOCKS_V5)
		return ERR_PROTO;
	if ((rc = rd_u8(&cur, &n)) != 0)
		return rc;
	if (n == 0)
		return ERR_PROTO;
	if ((rc = rd_copy(&cur, g->methods, sizeof(g->methods), n)) != 0)
		return rc;
	g->n_methods = n;
	*r = cur;
	return 0;
}

/* A domain name field: the bytes must not hold a NUL, since the name is used
 * as a C string from here on, and an empty name names nothing. */
static int
name_take(struct rd *r, size_t n, char *dst, size_t dst_size)
{
	const uint8_t *b;
	int rc;

	if (n == 0 || n >= dst_size)
		return ERR_PROTO;
	if ((rc = rd_bytes(r, n, &b)) != 0)
		return rc;
	if (memchr(b, '\0', n) != NULL)
		return ERR_PROTO;
	memcpy(dst, b, n);
	dst[n] = '\0';
	return 0;
}

int
socks5_request_parse(struct rd *r, struct socks_request *req)
{
	struct rd cur = *r;
	uint8_t ver, cmd, rsv, atyp, len;
	int rc;

	if ((rc = rd_u8(&cur, &ver)) != 0)
		return rc;
	if (ver != SOCKS_V5)
		return ERR_PROTO;
	if ((rc = rd_u8(&cur, &cmd)) != 0 || (rc = rd_u8(&cur, &rsv)) != 0 ||
	    (rc = rd_u8(&cur, &atyp)) != 0)
		return rc;
	/* RSV is not checked: RFC 1928 names it X'00' but gives a server no
	 * action for another value, and refusing it would break clients that
	 * every other server accepts. */
	memset(&req->dst, 0, sizeof(req->dst));
	req->version = SOCKS_V5;
	req->cmd = cmd;
	req->userid[0] = '\0';
	req->dst.atyp = atyp;
	switch (atyp) {
	case ATYP_IPV4:
		rc = rd_copy(&cur, req->dst.ip, sizeof(req->dst.ip), 4);
		break;
	case ATYP_IPV6:
		rc = rd_copy(&cur, req->dst.ip, sizeof(req->dst.ip), 16);
		break;
	case ATYP_DOMAIN:
		if ((rc = rd_u8(&cur, &len)) != 0)
			return rc;
		rc = name_take(&cur, len, req->dst.name, sizeof(req->dst.name));
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if (rc != 0)
		return rc;
	if ((rc = rd_u16be(&cur, &req->dst.port)) != 0)
		return rc;
	*r = cur;
	return 0;
}

/* A NUL-terminated field of at most max bytes before the NUL. */
static int
cstring_take(struct rd *r, size_t max, char *dst, size_t dst_size)
{
	const uint8_t *b;
	size_t n;
	int rc;

	if ((rc = rd_find(r, '\0', max + 1, &n)) != 0)
		return rc;
	if (n >= dst_size)
		return ERR_PROTO;
	if ((rc = rd_bytes(r, n + 1, &b)) != 0)
		return rc;
	memcpy(dst, b, n);
	dst[n] = '\0';
	return 0;
}

int
socks4_request_parse(struct rd *r, struct socks_request *req)
{
	struct rd cur = *r;
	uint8_t ver, cmd;
	int rc;

	if ((rc = rd_u8(&cur, &ver)) != 0)
		return rc;
	if (ver != SOCKS_V4)
		return ERR_PROTO;
	memset(&req->dst, 0, sizeof(req->dst));
	if ((rc = rd_u8(&cur, &cmd)) != 0 ||
	    (rc = rd_u16be(&cur, &req->dst.port)) != 0 ||
	    (rc = rd_copy(&cur, req->dst.ip, sizeof(req->dst.ip), 4)) != 0)
		return rc;
	if ((rc = cstring_take(&cur, SOCKS4_USERID_MAX, req->userid,
	    sizeof(req->userid))) != 0)
		return rc;
	req->version = SOCKS_V4;
	req->cmd = cmd;
	req->dst.atyp = ATYP_IPV4;
	/* SOCKS4A: DSTIP 0.0.0.x with x non-zero means "a host name follows". */
	if (req->dst.ip[0] == 0 && req->dst.ip[1] == 0 && req->dst.ip[2] == 0 &&
	    req->dst.ip[3] != 0) {
		if ((rc = cstring_take(&cur, SOCKS_NAME_MAX, req->dst.name,
		    sizeof(req->dst.name))) != 0)
			return rc;
		if (req->dst.name[0] == '\0')
			return ERR_PROTO;
		req->dst.atyp = ATYP_DOMAIN;
		memset(req->dst.ip, 0, sizeof(req->dst.ip));
	}
	*r = cur;
	return 0;
}

int
socks5_userpass_parse(struct rd *r, struct socks5_userpass *up)
{
	struct rd cur = *r;
	uint8_t ver, ulen, plen;
	const uint8_t *b;
	int rc;

	if ((rc = rd_u8(&cur, &ver)) != 0)
		return rc;
	if (ver != USERPASS_VERSION)
		return ERR_PROTO;
	if ((rc = rd_u8(&cur, &ulen)) != 0)
		return rc;
	if ((rc = name_take(&cur, ulen, up->user, sizeof(up->user))) != 0)
		return rc;
	if ((rc = rd_u8(&cur, &plen)) != 0)
		return rc;
	/* RFC 1929 allows PLEN 0; an empty password is PAM's to refuse. */
	if ((rc = rd_bytes(&cur, plen, &b)) != 0)
		return rc;
	if (memchr(b, '\0', plen) != NULL)
		return ERR_PROTO;
	memcpy(up->pass, b, plen);
	up->pass[plen] = '\0';
	*r = cur;
	return 0;
}

int
socks5_udp_parse(struct rd *r, uint8_t *frag, struct socks_addr *dst)
{
	struct rd cur = *r;
	uint16_t rsv;
	uint8_t atyp, len;
	int rc;

	/* RSV is not checked, for the reason given for the request's RSV. */
	if (rd_u16be(&cur, &rsv) != 0 || rd_u8(&cur, frag) != 0 ||
	    rd_u8(&cur, &atyp) != 0)
		return ERR_PROTO;
	memset(dst, 0, sizeof(*dst));
	dst->atyp = atyp;
	switch (atyp) {
	case ATYP_IPV4:
		rc = rd_copy(&cur, dst->ip, sizeof(dst->ip), 4);
		break;
	case ATYP_IPV6:
		rc = rd_copy(&cur, dst->ip, sizeof(dst->ip), 16);
		break;
	case ATYP_DOMAIN:
		if (rd_u8(&cur, &len) != 0)
			return ERR_PROTO;
		rc = name_take(&cur, len, dst->name, sizeof(dst->name));
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if (rc != 0 || rd_u16be(&cur, &dst->port) != 0)
		return ERR_PROTO;
	*r = cur;
	return 0;
}

int
socks5_udp_put(struct wr *w, const struct sockaddr *from)
{
	uint8_t ip4[4];
	uint16_t port;
	int rc;

	if ((rc = wr_u16be(w, 0)) != 0 || (rc = wr_u8(w, 0)) != 0)
		return rc;
	if (sockaddr_ipv4(from, ip4, &port)) {
		if ((rc = wr_u8(w, ATYP_IPV4)) != 0 ||
		    (rc = wr_bytes(w, ip4, 4)) != 0)
			return rc;
		return wr_u16be(w, port);
	}
	if (from->sa_family != AF_INET6)
		return ERR_PROTO;
	if ((rc = wr_u8(w, ATYP_IPV6)) != 0 ||
	    (rc = wr_bytes(w, &((const struct sockaddr_in6 *)from)->sin6_addr,
	    16)) != 0)
		return rc;
	return wr_u16be(w, ntohs(((const struct sockaddr_in6 *)from)->sin6_port));
}

int
socks5_method_reply_put(struct wr *w, uint8_t method)
{
	int rc;

	if ((rc = wr_u8(w, SOCKS_V5)) != 0)
		return rc;
	return wr_u8(w, method);
}

int
socks5_userpass_reply_put(struct wr *w, uint8_t status)
{
	int rc;

	if ((rc = wr_u8(w, USERPASS_VERSION)) != 0)
		return rc;
	return wr_u8(w, status);
}

/* The IPv4 address inside an AF_INET or IPv4-mapped AF_INET6 sockaddr. */
static int
sockaddr_ipv4(const struct sockaddr *sa, uint8_t ip[4], uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		memcpy(ip, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(ip, &sin6->sin6_addr.s6_addr[12], 4);
			*port = ntohs(sin6->sin6_port);
			return 1;
		}
	}
	return 0;
}

int
socks5_reply_put(struct wr *w, uint8_t rep, const struct sockaddr *bound)
{
	uint8_t ip4[4] = { 0 };
	uint16_t port = 0;
	int rc;

	if ((rc = wr_u8(w, SOCKS_V5)) != 0 || (rc = wr_u8(w, rep)) != 0 ||
	    (rc = wr_u8(w, 0)) != 0)
		return rc;
	if (bound != NULL && bound->sa_family == AF_INET6 &&
	    !sockaddr_ipv4(bound, ip4, &port)) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)bound;

		if ((rc = wr_u8(w, ATYP_IPV6)) != 0 ||
		    (rc = wr_bytes(w, &sin6->sin6_addr, 16)) != 0)
			return rc;
		return wr_u16be(w, ntohs(sin6->sin6_port));
	}
	if (bound != NULL)
		(void)sockaddr_ipv4(bound, ip4, &port);
	if ((rc = wr_u8(w, ATYP_IPV4)) != 0 || (rc = wr_bytes(w, ip4, 4)) != 0)
		return rc;
	return wr_u16be(w, port);
}

int
socks4_reply_put(struct wr *w, uint8_t rep, const struct sockaddr *bound)
{
	uint8_t ip4[4] = { 0 };
	uint16_t port = 0;
	int rc;

	if (bound != NULL && !sockaddr_ipv4(bound, ip4, &port)) {
		/* IPv6 has no place in a SOCKS4 reply; keep the port. */
		if (bound->sa_family == AF_INET6)
			port = ntohs(((const struct sockaddr_in6 *)bound)->sin6_port);
	}
	/* The reply's VN is 0, not 4 (NEC SOCKS4 protocol note). */
	if ((rc = wr_u8(w, 0)) != 0 || (rc = wr_u8(w, rep)) != 0 ||
	    (rc = wr_u16be(w, port)) != 0)
		return rc;
	return wr_bytes(w, ip4, 4);
}

/* Written by hand, as net_addr_format is (common/net.c says why): every
 * request's destination is formatted in the worker, for its records. */
void
socks_addr_format(const struct socks_addr *a, char *buf, size_t size)
{
	char text[sizeof(a->name) + sizeof("[]:65535")], *p = text;
	size_t n;

	switch (a->atyp) {
	case ATYP_IPV4:
		p = net_put_ip(p, AF_INET, a->ip);
		break;
	case ATYP_IPV6:
		p = net_put_ip(p, AF_INET6, a->ip);
		break;
	case ATYP_DOMAIN:
		n = strnlen(a->name, sizeof(a->name) - 1);
		memcpy(p, a->name, n);
		p += n;
		break;
	default:
		*p++ = '?';
		break;
	}
	*p++ = ':';
	p = net_put_decimal(p, a->port);
	net_copy_cut(buf, size, text, (size_t)(p - text));
}

int
socks_addr_to_sockaddr(const struct socks_addr *a, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->atyp == ATYP_IPV4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->ip, 4);
		*len = sizeof(*sin);
		return 0;
	}
	if (a->atyp == ATYP_IPV6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(a->port);
		memcpy(&sin6->sin6_addr, a->ip, 16);
		*len = sizeof(*sin6);
		return 0;
	}
	return ERR_PROTO;
}
