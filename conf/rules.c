/*
 * The rule engine: first-match walks over the compiled sections (grammar
 * 2, 4, 5).  Every function is a pure function of the configuration and
 * its arguments: no DNS, no I/O, no allocation.  Each query is normalised
 * once (address into the 128-bit space of conf_int.h, name measured and its
 * trailing dot dropped), then every line costs a few integer comparisons
 * and, for name patterns, one pass over at most the pattern's length, so a
 * match is linear in the size of the section.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "common/err.h"
#include "conf/conf_int.h"

/* A name longer than this was not sent by a SOCKS client (RFC 1928 allows
 * 255 bytes) and can only match `-`. */
#define QUERY_NAME_MAX 1024

/* A host as the query knows it: an address, a name, both or neither. */
struct query_host {
	bool has_addr;
	struct naddr addr;
	const char *name;     /* NULL: no name */
	size_t name_len;      /* without the one trailing dot */
};

/* AF_INET and AF_INET6 only; *port in host order.  IPv4 lands in its
 * mapped form, so ::ffff:a.b.c.d from a dual-stack socket is the same
 * address as a.b.c.d from an AF_INET one. */
static bool
query_addr(const struct sockaddr *sa, struct naddr *out, uint16_t *port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (sa == NULL)
		return false;
	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		naddr_from_v4(out, ntohl(sin.sin_addr.s_addr));
		if (port != NULL)
			*port = ntohs(sin.sin_port);
		return true;
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		naddr_from_v6(out, sin6.sin6_addr.s6_addr);
		if (port != NULL)
			*port = ntohs(sin6.sin6_port);
		return true;
	default:
		return false;
	}
}

static void
query_name(struct query_host *q, const char *name)
{
	size_t len;

	q->name = NULL;
	q->name_len = 0;
	if (name == NULL || (len = strnlen(name, QUERY_NAME_MAX)) ==
	    QUERY_NAME_MAX)
		return;
	/* "www.example.com." is "www.example.com" (grammar 3.1). */
	if (len > 0 && name[len - 1] == '.')
		len--;
	q->name = name;
	q->name_len = len;
}

/* s (any case) equals lower (already lower case) over len bytes. */
static bool
name_eq(const char *s, const char *lower, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (ch != lower[i])
			return false;
	}
	return true;
}

static bool
host_match(const struct hostpat *h, const struct query_host *q)
{
	switch (h->kind) {
	case HP_ANY:
		return true;
	case HP_ADDR:
		return q->has_addr &&
		    (q->addr.w[0] & h->mask.w[0]) == h->addr.w[0] &&
		    (q->addr.w[1] & h->mask.w[1]) == h->addr.w[1];
	case HP_NAME:
		return q->name != NULL && q->name_len == h->name_len &&
		    name_eq(q->name, h->name, h->name_len);
	case HP_SUFFIX:
		/* A plain suffix test, leading dot included: .example.com
		 * matches a.example.com, not example.com (grammar 3.1). */
		return q->name != NULL && q->name_len >= h->name_len &&
		    name_eq(q->name + q->name_len - h->name_len, h->name,
		    h->name_len);
	default:
		return false;
	}
}

static bool
port_match(struct portpat pp, uint16_t port)
{
	return pp.lo <= port && port <= pp.hi;
}

static bool
user_match(const struct userlist *users, const char *user)
{
	size_t i;

	if (users->n == 0)
		return true;
	if (user == NULL)
		return false;
	for (i = 0; i < users->n; i++)   /* exact, case-sensitive (3.5) */
		if (strcmp(users->names[i], user) == 0)
			return true;
	return false;
}

/* The client as a source host: its address, and under SOCKS5_REVERSEMAP
 * its confirmed PTR name (grammar 5.5). */
static void
query_client(const struct conf *conf, const struct sockaddr *client,
    const char *client_name, struct query_host *q, uint16_t *port)
{
	*port = 0;
	q->has_addr = query_addr(client, &q->addr, port);
	query_name(q, conf->vars.reversemap ? client_name : NULL);
}

/* A destination (grammar 5): the name if sent, the address if known; the
 * PTR name stands in for a missing name only under SOCKS5_REVERSEMAP. */
static void
query_dest(const struct conf *conf, const struct rules_dest *dest,
    bool use_addr, struct query_host *q)
{
	const char *name = dest->name;

	if (name == NULL && conf->vars.reversemap)
		name = dest->ptr_name;
	query_name(q, name);
	q->has_addr = use_addr && query_addr(dest->addr, &q->addr, NULL);
}

unsigned
rules_ban(const struct conf *conf, const struct sockaddr *client)
{
	struct query_host q;
	uint16_t port;
	size_t i;

	/* A ban is decided before a byte is read: no PTR name yet. */
	query_client(conf, client, NULL, &q, &port);
	for (i = 0; i < conf->n_bans; i++) {
		const struct ban_line *b = &conf->bans[i];

		if (port_match(b->sport, port) && host_match(&b->src, &q))
			return b->line;
	}
	return 0;
}

bool
rules_proxy_trusted(const struct conf *conf, const struct sockaddr *peer)
{
	struct query_host q = { 0 };
	size_t i;

	/* Addresses only: the list holds no names (vars.c refuses them). */
	if (!query_addr(peer, &q.addr, NULL))
		return false;
	q.has_addr = true;
	for (i = 0; i < conf->n_lbs; i++)
		if (host_match(&conf->lbs[i], &q))
			return true;
	return false;
}

int
rules_auth(const struct conf *conf, const struct sockaddr *client,
    uint8_t *methods, size_t max, size_t *n, unsigned *line)
{
	struct query_host q;
	uint16_t port;
	size_t i, k;

	*n = 0;
	*line = 0;
	if (conf->n_auths == 0) {
		/* NEC: no auth line is `auth - - -`; socks5d offers "none"
		 * only where a permit line could then match (SPEC). */
		if (*n < max)
			methods[(*n)++] = 0x02;
		if (*n < max && rules_could_permit(conf, client, CONF_AUTH_NONE,
		    false))
			methods[(*n)++] = 0x00;
		return 0;
	}
	query_client(conf, client, NULL, &q, &port);
	for (i = 0; i < conf->n_auths; i++) {
		const struct auth_line *a = &conf->auths[i];

		if (!port_match(a->sport, port) || !host_match(&a->src, &q))
			continue;
		for (k = 0; k < a->n_methods && *n < max; k++)
			methods[(*n)++] = a->methods[k];
		*line = a->line;
		return 0;
	}
	return ERR_DENIED;
}

bool
rules_offer_gssapi(const struct conf *conf)
{
	for (size_t i = 0; i < conf->n_auths; i++)
		if (memchr(conf->auths[i].methods, 0x01,
		    conf->auths[i].n_methods) != NULL)
			return true;
	return false;
}

size_t
rules_route_upstreams(const struct conf *conf, unsigned line)
{
	for (size_t i = 0; i < conf->n_proxies; i++)
		if (conf->proxies[i].line == line && line != 0)
			return conf->proxies[i].kind == ROUTE_DIRECT ? 0 :
			    conf->proxies[i].n_upstreams;
	return 0;
}

void
rules_route(const struct conf *conf, const struct rules_dest *dest,
    struct rules_route *route)
{
	struct query_host q;
	size_t i;

	memset(route, 0, sizeof(*route));
	route->kind = ROUTE_DIRECT;
	/* Grammar 5.1: a name is matched as a name only; nothing has been
	 * resolved yet, and a name bound upstream never will be here. */
	query_dest(conf, dest, dest->name == NULL, &q);
	for (i = 0; i < conf->n_proxies; i++) {
		const struct proxy_line *x = &conf->proxies[i];

		if (!port_match(x->dport, dest->port) ||
		    !host_match(&x->dst, &q))
			continue;
		route->kind = x->kind;
		route->line = x->line;
		route->upstreams = x->upstreams;
		route->n_upstreams = x->n_upstreams;
		return;
	}
}

void
rules_access(const struct conf *conf, const struct rules_request *req,
    struct rules_verdict *verdict)
{
	struct query_host src, dst;
	uint16_t src_port;
	/* p and t are parsed but never match a request (grammar 3.4). */
	uint8_t cmd = (uint8_t)(req->cmd & CONF_CMD_REQUEST);
	uint8_t method = (uint8_t)req->method;
	size_t i;

	verdict->permit = false;
	verdict->line = 0;
	if (cmd == 0 || method == 0)
		return;
	query_client(conf, req->client, req->client_name, &src, &src_port);
	query_dest(conf, &req->dest, true, &dst);
	for (i = 0; i < conf->n_acls; i++) {
		const struct acl_line *a = &conf->acls[i];

		/* Cheapest tests first: most lines fail on a bit or port. */
		if (!(a->auth & method) || !(a->cmd & cmd) ||
		    !port_match(a->sport, src_port) ||
		    !port_match(a->dport, req->dest.port) ||
		    !host_match(&a->src, &src) || !host_match(&a->dst, &dst) ||
		    !user_match(&a->users, req->user))
			continue;
		verdict->permit = a->permit;
		verdict->line = a->line;
		return;
	}
}

bool
rules_could_permit(const struct conf *conf, const struct sockaddr *client,
    enum conf_auth method, bool with_user)
{
	struct query_host q;
	uint16_t port;
	size_t i;

	query_client(conf, client, NULL, &q, &port);
	for (i = 0; i < conf->n_acls; i++) {
		const struct acl_line *a = &conf->acls[i];
		bool name_src = a->src.kind == HP_NAME ||
		    a->src.kind == HP_SUFFIX;
		bool decides_all;

		if (!(a->auth & method) || !(a->cmd & CONF_CMD_REQUEST) ||
		    !port_match(a->sport, port))
			continue;
		/* A source name pattern is matched against the client's PTR
		 * name, unknown before the request: assume it could match
		 * when SOCKS5_REVERSEMAP makes that possible. */
		if (name_src ? !conf->vars.reversemap : !host_match(&a->src, &q))
			continue;
		decides_all = !name_src &&
		    (a->cmd & CONF_CMD_REQUEST) == CONF_CMD_REQUEST &&
		    a->dst.kind == HP_ANY && a->dport.lo == 0 &&
		    a->dport.hi == 65535 && a->users.n == 0;
		if (with_user ? a->users.n > 0 : a->permit)
			return true;
		if (decides_all)
			return false;
	}
	return false;
}

/* Fill *local with line's address in a form usable on a socket towards a
 * peer of the given family (0: unknown); false if there is none. */
static bool
iface_local(const struct iface_line *x, sa_family_t peer_family,
    bool peer_mapped, struct sockaddr_storage *local)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	bool as_v6;

	if (peer_family == AF_INET && x->family != AF_INET)
		return false;
	if (peer_family == AF_INET6 && (x->family == AF_INET) != peer_mapped)
		return false;
	as_v6 = x->family == AF_INET6 || peer_family == AF_INET6;
	memset(local, 0, sizeof(*local));
	if (as_v6) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, x->local.w, sizeof(sin6.sin6_addr));
		sin6.sin6_scope_id = x->scope_id;
		memcpy(local, &sin6, sizeof(sin6));
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, (const uint8_t *)x->local.w + 12,
		    sizeof(sin.sin_addr));
		memcpy(local, &sin, sizeof(sin));
	}
	return true;
}

bool
rules_interface(const struct conf *conf, const struct sockaddr *peer,
    const char *peer_name, uint16_t peer_port, struct sockaddr_storage *local)
{
	struct query_host q;
	sa_family_t family = 0;
	bool mapped = false;
	size_t i;

	q.has_addr = query_addr(peer, &q.addr, NULL);
	if (q.has_addr) {
		family = peer->sa_family;
		mapped = family == AF_INET6 && naddr_is_v4(&q.addr);
	}
	query_name(&q, peer_name);
	for (i = 0; i < conf->n_ifaces; i++) {
		const struct iface_line *x = &conf->ifaces[i];

		if (port_match(x->port, peer_port) && host_match(&x->peer, &q) &&
		    iface_local(x, family, mapped, local))
			return true;
	}
	return false;
}
