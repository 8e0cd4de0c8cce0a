/*
 * The interface-address field of interface/route lines (grammar 4.3): an
 * address this host owns, or an interface name resolved to its first IPv4
 * address.  Both are checked against this host's list of addresses, asked
 * for once per load and only when a line needs it, through the source the
 * parse was given (conf_int.h): getifaddrs() in the master (load.c), the
 * master's list in the session image (sealed.c).  This file never calls
 * getifaddrs itself, so the image, which links it, cannot see addresses
 * its master did not.
 *
 * Every 127.0.0.0/8 address counts as owned: Linux routes the whole block
 * to lo (the "local" route table), so a socket can bind to 127.0.0.2 even
 * though only 127.0.0.1 is configured.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <net/if.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf_int.h"

void
iface_release(struct parser *p)
{
	/* The list belongs to the source, which outlives the parse. */
	p->iflist = NULL;
	p->iflist_asked = false;
}

/* The list, or NULL when there is none (reported at each line that needs
 * it, since each such line is then unusable). */
static const struct conf_iflist *
iflist_get(struct parser *p)
{
	if (!p->iflist_asked) {
		p->iflist_asked = true;
		p->iflist = p->ifaddrs != NULL ?
		    p->ifaddrs->fn(p->ifaddrs->ctx) : NULL;
	}
	if (p->iflist == NULL) {
		parser_error(p, "cannot check the interface address: no list "
		    "of this host's addresses was recorded for this parse");
		return NULL;
	}
	if (p->iflist->error != 0) {
		parser_error(p, "cannot list this host's addresses to check "
		    "the interface address: %s", strerror(p->iflist->error));
		return NULL;
	}
	return p->iflist;
}

/* Is addr (AF_INET: mapped form) configured on an interface?  For IPv6,
 * *scope_id receives the interface's scope (needed to bind link-local);
 * the first entry with the address decides, as getifaddrs lists them. */
static bool
address_owned(const struct conf_iflist *list, sa_family_t family,
    const struct naddr *addr, uint32_t *scope_id)
{
	struct naddr have;
	size_t i;

	for (i = 0; i < list->n; i++) {
		const struct conf_ifaddr *ifa = &list->v[i];
		uint32_t v4;

		if (ifa->family != family)
			continue;
		if (family == AF_INET) {
			memcpy(&v4, ifa->addr, sizeof(v4));
			naddr_from_v4(&have, ntohl(v4));
		} else {
			naddr_from_v6(&have, ifa->addr);
		}
		if (memcmp(&have, addr, sizeof(have)) == 0) {
			*scope_id = family == AF_INET6 ? ifa->scope_id : 0;
			return true;
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
	const struct conf_iflist *list;
	char q[QUOTE_MAX];
	size_t i;

	if ((list = iflist_get(p)) == NULL)
		return ERR_CONFIG;
	for (i = 0; i < list->n; i++) {
		const struct conf_ifaddr *ifa = &list->v[i];
		uint32_t v4;

		if (ifa->family != AF_INET || strcmp(ifa->name, f->s) != 0)
			continue;
		memcpy(&v4, ifa->addr, sizeof(v4));
		out->family = AF_INET;
		naddr_from_v4(&out->local, ntohl(v4));
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
	const struct conf_iflist *list;
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
	if ((list = iflist_get(p)) == NULL)
		return ERR_CONFIG;
	if (!address_owned(list, out->family, &out->local, &out->scope_id)) {
		parser_error(p, "interface address %s is not an address of this "
		    "host (expected one of its own addresses, or an interface "
		    "name such as eth0)", conf_quote(q, f->s));
		return ERR_CONFIG;
	}
	return 0;
}
