/*
 * One function per entry kind (grammar 1.3, 4): check the field count,
 * compile every field (reporting each invalid one, so that one pass shows
 * every error), then append the line to its section and run the shadow
 * check.  A line with an error is not added: the load fails anyway, and
 * leaving it out keeps later checks from tripping over half-built lines.
 */
#include <string.h>

#include "common/err.h"
#include "conf/conf_int.h"

/* Combine two field results: out of memory wins, then any error. */
static int
merge(int a, int b)
{
	if (a == ERR_NOMEM || b == ERR_NOMEM)
		return ERR_NOMEM;
	return a != 0 ? a : b;
}

/* n counts the keyword; min/max count the fields after it. */
static bool
fields_ok(struct parser *p, const struct field *fields, size_t n,
    size_t min, size_t max, const char *usage)
{
	char q[QUOTE_MAX];
	size_t after = n - 1;

	if (after >= min && after <= max)
		return true;
	if (min == max)
		parser_error(p, "'%s' takes %zu fields after the keyword (%s), "
		    "found %zu", conf_quote(q, fields[0].s), min, usage, after);
	else
		parser_error(p, "'%s' takes %zu or %zu fields after the keyword "
		    "(%s), found %zu", conf_quote(q, fields[0].s), min, max,
		    usage, after);
	return false;
}

static int
parse_ban(struct parser *p, const struct field *fields, size_t n)
{
	struct ban_line b = { .line = p->line };
	struct conf *conf = p->conf;
	int rc;

	if (!fields_ok(p, fields, n, 2, 2, "src-host src-port"))
		return ERR_CONFIG;
	rc = merge(pat_host(p, &fields[1], &b.src),
	    pat_port(p, &fields[2], &b.sport));
	if (rc != 0)
		return rc;
	if (conf_grow((void **)&conf->bans, &conf->cap_bans, conf->n_bans,
	    sizeof(b)) != 0)
		return ERR_NOMEM;
	conf->bans[conf->n_bans++] = b;
	return shadow_add(p, SH_BAN);
}

static int
parse_auth(struct parser *p, const struct field *fields, size_t n)
{
	struct auth_line a = { .line = p->line };
	struct conf *conf = p->conf;
	struct auth_spec spec;
	int rc;

	if (!fields_ok(p, fields, n, 3, 3, "src-host src-port auth-methods"))
		return ERR_CONFIG;
	rc = merge(pat_host(p, &fields[1], &a.src),
	    pat_port(p, &fields[2], &a.sport));
	rc = merge(rc, pat_auth(p, &fields[3], &spec));
	if (rc != 0)
		return rc;
	a.n_methods = spec.n_methods;
	memcpy(a.methods, spec.methods, sizeof(a.methods));
	if (conf_grow((void **)&conf->auths, &conf->cap_auths, conf->n_auths,
	    sizeof(a)) != 0)
		return ERR_NOMEM;
	conf->auths[conf->n_auths++] = a;
	return shadow_add(p, SH_AUTH);
}

static int
parse_iface(struct parser *p, const struct field *fields, size_t n)
{
	struct iface_line i = { .line = p->line };
	struct conf *conf = p->conf;
	int rc;

	if (!fields_ok(p, fields, n, 3, 3,
	    "host-pattern port-pattern interface-address"))
		return ERR_CONFIG;
	rc = merge(pat_host(p, &fields[1], &i.peer),
	    pat_port(p, &fields[2], &i.port));
	rc = merge(rc, iface_resolve(p, &fields[3], &i));
	if (rc != 0)
		return rc;
	if (conf_grow((void **)&conf->ifaces, &conf->cap_ifaces,
	    conf->n_ifaces, sizeof(i)) != 0)
		return ERR_NOMEM;
	conf->ifaces[conf->n_ifaces++] = i;
	return shadow_add(p, SH_IFACE);
}

static int
parse_proxy(struct parser *p, const struct field *fields, size_t n,
    enum conf_route_kind kind)
{
	struct proxy_line x = { .line = p->line, .kind = kind };
	struct conf *conf = p->conf;
	int rc;

	if (kind == ROUTE_DIRECT && n == 4) {
		parser_error(p, "'noproxy' takes no proxy-list (expected "
		    "noproxy dest-host dest-port)");
		return ERR_CONFIG;
	}
	if (kind != ROUTE_DIRECT && n == 3) {
		parser_error(p, "'socks%d' needs a proxy-list (expected "
		    "socks%d dest-host dest-port host[:port],...)", (int)kind,
		    (int)kind);
		return ERR_CONFIG;
	}
	if (kind == ROUTE_DIRECT ?
	    !fields_ok(p, fields, n, 2, 2, "dest-host dest-port") :
	    !fields_ok(p, fields, n, 3, 3, "dest-host dest-port proxy-list"))
		return ERR_CONFIG;
	rc = merge(pat_host(p, &fields[1], &x.dst),
	    pat_port(p, &fields[2], &x.dport));
	if (kind != ROUTE_DIRECT)
		rc = merge(rc, pat_proxies(p, &fields[3], &x.upstreams,
		    &x.n_upstreams));
	if (rc != 0)
		return rc;
	if (conf_grow((void **)&conf->proxies, &conf->cap_proxies,
	    conf->n_proxies, sizeof(x)) != 0)
		return ERR_NOMEM;
	conf->proxies[conf->n_proxies++] = x;
	return shadow_add(p, SH_PROXY);
}

/* Warnings about what an access line means rather than how it is written
 * (grammar 8). */
static void
acl_warn(struct parser *p, const struct acl_line *a, const struct field *cmd)
{
	if (a->permit && cmd->len == 1 && cmd->s[0] == '-' &&
	    a->dport.lo == a->dport.hi)
		parser_warn(p, "command '-' also permits BIND and UDP ASSOCIATE "
		    "to port %u (write 'c' if only CONNECT is meant)",
		    a->dport.lo);
	if (!a->permit && a->dst.kind == HP_ADDR && p->has_chain)
		parser_warn(p, "deny with an address destination does not stop "
		    "a request by name that a socks4/socks5 line sends "
		    "upstream, since such names are not resolved here "
		    "(grammar 5.3; add a deny with a name pattern or -)");
}

static int
parse_acl(struct parser *p, const struct field *fields, size_t n,
    bool permit)
{
	struct acl_line a = { .line = p->line, .permit = permit };
	struct conf *conf = p->conf;
	struct auth_spec spec;
	int rc;

	if (!fields_ok(p, fields, n, 6, 7, "auth cmd src-host dest-host "
	    "src-port dest-port [user-list]"))
		return ERR_CONFIG;
	rc = pat_auth(p, &fields[1], &spec);
	rc = merge(rc, pat_cmd(p, &fields[2], &a.cmd));
	rc = merge(rc, pat_host(p, &fields[3], &a.src));
	rc = merge(rc, pat_host(p, &fields[4], &a.dst));
	rc = merge(rc, pat_port(p, &fields[5], &a.sport));
	rc = merge(rc, pat_port(p, &fields[6], &a.dport));
	if (n == 8)
		rc = merge(rc, pat_users(p, &fields[7], &a.users));
	if (rc != 0)
		return rc;
	a.auth = spec.mask;
	acl_warn(p, &a, &fields[2]);
	if (conf_grow((void **)&conf->acls, &conf->cap_acls, conf->n_acls,
	    sizeof(a)) != 0)
		return ERR_NOMEM;
	conf->acls[conf->n_acls++] = a;
	if (permit)
		conf->n_permits++;
	return shadow_add(p, SH_ACL);
}

int
parse_entry(struct parser *p, const struct field *fields, size_t n)
{
	const struct field *kw = &fields[0];
	char q[QUOTE_MAX];
	int rc;

	if (field_is(kw, "ban"))
		rc = parse_ban(p, fields, n);
	else if (field_is(kw, "auth"))
		rc = parse_auth(p, fields, n);
	else if (field_is(kw, "interface") || field_is(kw, "route"))
		rc = parse_iface(p, fields, n);
	else if (field_is(kw, "set"))
		rc = vars_set(p, fields, n);
	else if (field_is(kw, "socks5"))
		rc = parse_proxy(p, fields, n, ROUTE_SOCKS5);
	else if (field_is(kw, "socks4"))
		rc = parse_proxy(p, fields, n, ROUTE_SOCKS4);
	else if (field_is(kw, "noproxy"))
		rc = parse_proxy(p, fields, n, ROUTE_DIRECT);
	else if (field_is(kw, "permit"))
		rc = parse_acl(p, fields, n, true);
	else if (field_is(kw, "deny"))
		rc = parse_acl(p, fields, n, false);
	else {
		parser_error(p, "unknown keyword '%s' (expected ban, auth, "
		    "interface, route, set, socks5, socks4, noproxy, permit or "
		    "deny)", conf_quote(q, kw->s));
		rc = ERR_CONFIG;
	}
	if (rc == ERR_NOMEM)
		p->nomem = true;
	return rc;
}

int
parse_scan_entry(struct parser *p, const struct field *fields, size_t n)
{
	(void)n;
	if (field_is(&fields[0], "socks5") || field_is(&fields[0], "socks4"))
		p->has_chain = true;
	return 0;
}

void
parse_finish(struct parser *p)
{
	if (p->conf->n_permits == 0)
		parser_diag_at(p, 0, false, "no permit line: every request "
		    "will be denied");
}
