/*
 * The interface-address field of interface/route lines (grammar 4.3): an
 * address this host owns, or an interface name resolved to its first IPv4
 * address.  Both are checked against getifaddrs(), read once per load and
 * only when the file has an interface line.
 *
 * Every 127.0.0.0/8 address counts as owned: Linux routes the whole block
 * to lo (the "local" route table), so a socket can bind to 127.0.0.2 even
 * though only 127.0.0.1 is configured.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf_int.h"

void
iface_release(struct parser *p)
{
	if (p->ifaddrs != NULL)
		freeifaddrs(p->ifaddrs);
	p->ifaddrs = NULL;
	p->ifaddrs_state = 0;
}

/* 1 when the list is at hand, -1 when getifaddrs failed (reported at each
 * line that needs the list, since each such line is then unusable). */
static int
ifaddrs_get(struct parser *p)
{
	if (p->ifaddrs_state == 0) {
		if (getifaddrs(&p->ifaddrs) == 0) {
			p->ifaddrs_state = 1;
		} else {
			p->ifaddrs_state = -1;
			p->ifaddrs_errno = errno;
		}
	}
	if (p->ifaddrs_state < 0)
		parser_error(p, "cannot list this host's addresses to check "
		    "the interface address: %s", strerror(p->ifaddrs_errno));
	return p->ifaddrs_state;
}

/* Is addr (AF_INET: mapped form) configured on an interface?  For IPv6,
 * *scope_id receives the interface's scope (needed to bind link-local). */
static bool
address_owned(const struct ifaddrs *list, sa_family_t family,
    const struct naddr *addr, uint32_t *scope_id)
{
	const struct ifaddrs *ifa;
	struct naddr have;

	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET) {
			struct sockaddr_in sin;

			memcpy(&sin, ifa->ifa_addr, sizeof(sin));
			naddr_from_v4(&have, ntohl(sin.sin_addr.s_addr));
			if (memcmp(&have, addr, sizeof(have)) == 0)
				return true;
		} else {
			struct sockaddr_in6 sin6;

			memcpy(&sin6, ifa->ifa_addr, sizeof(sin6));
			naddr_from_v6(&have, sin6.sin6_addr.s6_addr);
			if (memcmp(&have, addr, sizeof(have)) == 0) {
				*scope_id = sin6.sin6_scope_id;
				return true;
			}
		}
	}
	return false;
}

static bool
ifname_ok(const char *s, size_t len)
{
	size_t i;
	bool has_letter = false;

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    ch == '_' || ch == '-' || ch == '@')
			has_letter = true;
		else if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == ':'))
			return false;
	}
	return has_letter;
}

static int
iface_by_name(struct parser *p, const struct field *f, struct iface_line *out)
{
	const struct ifaddrs *ifa;
	char q[QUOTE_MAX];

	if (ifaddrs_get(p) < 0)
		return ERR_CONFIG;
	for (ifa = p->ifaddrs; ifa != NULL; ifa = ifa->ifa_next) {
		struct sockaddr_in sin;

		if (ifa->ifa_addr == NULL ||
		    ifa->ifa_addr->sa_family != AF_INET ||
		    strcmp(ifa->ifa_name, f->s) != 0)
			continue;
		memcpy(&sin, ifa->ifa_addr, sizeof(sin));
		out->family = AF_INET;
		naddr_from_v4(&out->local, ntohl(sin.sin_addr.s_addr));
		return 0;
	}
	parser_error(p, "interface '%s' has no IPv4 address on this host "
	    "(expected an interface with an IPv4 address, or an address of "
	    "this host)", conf_quote(q, f->s));
	return ERR_CONFIG;
}

int
iface_resolve(struct parser *p, const struct field *f, struct iface_line *out)
{
	uint32_t v4;
	uint8_t v6[16];
	char text[INET6_ADDRSTRLEN], q[QUOTE_MAX];

	out->scope_id = 0;
	if (pat_ipv4(f->s, f->len, &v4)) {
		out->family = AF_INET;
		naddr_from_v4(&out->local, v4);
	} else if (memchr(f->s, ':', f->len) != NULL && f->len < sizeof(text) &&
	    inet_pton(AF_INET6, f->s, v6) == 1) {
		naddr_from_v6(&out->local, v6);
		/* ::ffff:a.b.c.d is the IPv4 address a.b.c.d. */
		out->family = naddr_is_v4(&out->local) ? AF_INET : AF_INET6;
	} else if (ifname_ok(f->s, f->len)) {
		return iface_by_name(p, f, out);
	} else {
		parser_error(p, "invalid interface address '%s' (expected an "
		    "IPv4 or IPv6 address of this host, or an interface name)",
		    conf_quote(q, f->s));
		return ERR_CONFIG;
	}
	if (p->flags & CONF_PARSE_ASSUME_OWNED)
		return 0;
	if (out->family == AF_INET && ((const uint8_t *)out->local.w)[12] ==
	    127)
		return 0;
	if (ifaddrs_get(p) < 0)
		return ERR_CONFIG;
	if (!address_owned(p->ifaddrs, out->family, &out->local,
	    &out->scope_id)) {
		parser_error(p, "interface address %s is not an address of this "
		    "host (expected one of its own addresses, or an interface "
		    "name such as eth0)", conf_quote(q, f->s));
		return ERR_CONFIG;
	}
	return 0;
}
