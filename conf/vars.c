/*
 * Server variables (grammar 4.4, 6 and "Extensions"): `set NAME [value]` in
 * the file, and the environment variables of the same names for whatever
 * the file does not set (file > environment > default; the command line
 * is applied by the caller).  One table says each variable's kind, range
 * and field; one function applies a value from either source, so the two
 * cannot drift apart.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "conf/conf_int.h"

enum var_kind {
	VK_FLAG,        /* named alone, or 1|0|yes|no|on|off */
	VK_UINT,        /* decimal in [min, max] */
	VK_PATH,        /* absolute path */
	VK_TEXT,        /* printable bytes (user names, passwords) */
	VK_SERVICE,     /* a PAM service name */
	VK_BINDINTFC,   /* [host]:port */
	VK_PORTRANGE,   /* lo-hi */
	VK_NEC_CLIENT,  /* NEC client library variable: warn, ignore */
	VK_PIDFILE,     /* accepted, ignored with a warning */
	VK_CONFFILE,    /* environment only: an error in the file */
	VK_HOSTLIST,    /* host-pattern[,host-pattern...]: addresses/masks */
	VK_GSSPROT,     /* none|integrity|confidentiality[,...] */
	VK_STARTUPS,    /* start:rate:full */
	VK_USER,        /* a system user name */
};

struct var_def {
	const char *name;
	enum var_kind kind;
	size_t offset;      /* of the field in struct conf_vars */
	size_t size;        /* of that field (char arrays: the capacity) */
	unsigned min, max;  /* VK_UINT */
	const char *unit;   /* VK_UINT, for messages */
};

#define FIELD(f) offsetof(struct conf_vars, f), \
	sizeof(((struct conf_vars *)NULL)->f)

/* Limits: SOCKS5_TIMEOUT in milliseconds must fit an int (poll(2)); the
 * others are sanity bounds an operator will not meet in practice. */
static const struct var_def var_defs[] = {
	{ "SOCKS5_BINDINTFC", VK_BINDINTFC, FIELD(bindintfc), 0, 0, NULL },
	{ "SOCKS5_CONFFILE", VK_CONFFILE, 0, 0, 0, 0, NULL },
	{ "SOCKS5_PIDFILE", VK_PIDFILE, 0, 0, 0, 0, NULL },
	{ "SOCKS5_PWDFILE", VK_PATH, FIELD(pwdfile), 0, 0, NULL },
	{ "SOCKS5_TIMEOUT", VK_UINT, FIELD(idle_timeout_min), 0, 35791,
	    "minutes" },
	{ "SOCKS5_NOIDENT", VK_FLAG, FIELD(noident), 0, 0, NULL },
	{ "SOCKS5_DEMAND_IDENT", VK_FLAG, FIELD(demand_ident), 0, 0, NULL },
	{ "SOCKS5_MAXCHILD", VK_UINT, FIELD(max_child), 1, 100000,
	    "workers" },
	{ "SOCKS5_UDPPORTRANGE", VK_PORTRANGE, 0, 0, 0, 0, NULL },
	{ "SOCKS5_NOREVERSEMAP", VK_FLAG, FIELD(noreversemap), 0, 0, NULL },
	{ "SOCKS5_REVERSEMAP", VK_FLAG, FIELD(reversemap), 0, 0, NULL },
	{ "SOCKS5_V4SUPPORT", VK_FLAG, FIELD(v4support), 0, 0, NULL },
	{ "SOCKS5_USER", VK_TEXT, FIELD(upstream_user), 0, 0, NULL },
	{ "SOCKS5_PASSWD", VK_TEXT, FIELD(upstream_passwd), 0, 0, NULL },
	{ "SOCKS5_BALANCE", VK_FLAG, FIELD(balance), 0, 0, NULL },
	{ "SOCKS5_UPSTREAM_RETRY", VK_UINT, FIELD(upstream_retry_s), 0, 86400,
	    "seconds" },
	{ "SOCKS5_NEGTIMEOUT", VK_UINT, FIELD(neg_timeout_s), 1, 3600,
	    "seconds" },
	{ "SOCKS5_SHUTDOWN_GRACE", VK_UINT, FIELD(shutdown_grace_s), 0, 86400,
	    "seconds" },
	{ "SOCKS5_HOSTS_ALLOW", VK_PATH, FIELD(hosts_allow), 0, 0, NULL },
	{ "SOCKS5_HOSTS_DENY", VK_PATH, FIELD(hosts_deny), 0, 0, NULL },
	{ "SOCKS5_PAM_SERVICE", VK_SERVICE, FIELD(pam_service), 0, 0, NULL },
	{ "SOCKS5_PENALTY", VK_UINT, FIELD(penalty_s), 0, 86400, "seconds" },
	{ "SOCKS5_PENALTY_MAX", VK_UINT, FIELD(penalty_max_s), 0, 604800,
	    "seconds" },
	{ "SOCKS5_PENALTY_TABLE", VK_UINT, FIELD(penalty_table), 1, 1000000,
	    "addresses" },
	{ "SOCKS5_PENALTY_V6PREFIX", VK_UINT, FIELD(penalty_v6_prefix), 1, 128,
	    "bits" },
	{ "SOCKS5_AUTH_TIMEOUT", VK_UINT, FIELD(auth_timeout_s), 1, 600,
	    "seconds" },
	{ "SOCKS5_AUTH_DELAY_MAX", VK_UINT, FIELD(auth_delay_max_s), 0, 60,
	    "seconds" },
	{ "SOCKS5_RESOLVE_TIMEOUT", VK_UINT, FIELD(resolve_timeout_s), 1, 600,
	    "seconds" },
	{ "SOCKS5_PROXY_PROTOCOL", VK_HOSTLIST, 0, 0, 0, 0, NULL },
	{ "SOCKS5_AUDIT_REQUIRED", VK_FLAG, FIELD(audit_required), 0, 0, NULL },
	{ "SOCKS5_KEYTAB", VK_PATH, FIELD(gss_keytab), 0, 0, NULL },
	{ "SOCKS5_GSS_SERVICE", VK_SERVICE, FIELD(gss_service), 0, 0, NULL },
	{ "SOCKS5_GSS_STRIP_REALM", VK_FLAG, FIELD(gss_strip_realm), 0, 0,
	    NULL },
	{ "SOCKS5_GSS_PROTECTION", VK_GSSPROT, FIELD(gss_protection), 0, 0,
	    NULL },
	{ "SOCKS5_MAXCHILD_PER_SOURCE", VK_UINT, FIELD(max_child_per_source),
	    0, 100000, "sessions, 0 = no limit" },
	{ "SOCKS5_MAXCHILD_PER_USER", VK_UINT, FIELD(max_child_per_user), 0,
	    100000, "sessions, 0 = no limit" },
	{ "SOCKS5_MAXSTARTUPS", VK_STARTUPS, 0, 0, 0, 0, NULL },
	{ "SOCKS5_MAXSTARTUPS_PER_SOURCE", VK_UINT, FIELD(startups_per_source),
	    0, 100000, "connections, 0 = no limit" },
	{ "SOCKS5_HELPER_USER", VK_USER, FIELD(helper_user), 0, 0, NULL },
	{ "SOCKS5_FAKEALLHOSTS", VK_NEC_CLIENT, 0, 0, 0, 0, NULL },
	{ "SOCKS5_LOCALDNSONLY", VK_NEC_CLIENT, 0, 0, 0, 0, NULL },
	{ "SOCKS5_LIBCONF", VK_NEC_CLIENT, 0, 0, 0, 0, NULL },
};
#define N_VAR_DEFS (sizeof(var_defs) / sizeof(var_defs[0]))
_Static_assert(N_VAR_DEFS <= VAR_COUNT, "raise VAR_COUNT in conf_int.h");

void
vars_defaults(struct conf_vars *v)
{
	memset(v, 0, sizeof(*v));
	v->neg_timeout_s = 30;
	v->idle_timeout_min = 15;
	v->max_child = 1024;
	v->shutdown_grace_s = 30;
	v->penalty_s = 10;
	v->penalty_max_s = 600;
	v->penalty_table = 1024;
	v->penalty_v6_prefix = 64;
	v->upstream_retry_s = 30;
	v->v4support = true;
	v->audit_required = true;
	v->auth_timeout_s = 10;
	v->resolve_timeout_s = 10;
	v->auth_delay_max_s = 4;
	/* sshd's MaxStartups 10:30:100, times ten: this server's sessions
	 * are ten times as many as an sshd's (SOCKS5_MAXCHILD 1024), and a
	 * SOCKS negotiation is a few round trips, not a key exchange. */
	v->startups_start = 100;
	v->startups_rate = 30;
	v->startups_full = 300;
	v->startups_per_source = 64;
	snprintf(v->pwdfile, sizeof(v->pwdfile), "/etc/socks5.passwd");
	snprintf(v->hosts_allow, sizeof(v->hosts_allow), "/etc/hosts.allow");
	snprintf(v->hosts_deny, sizeof(v->hosts_deny), "/etc/hosts.deny");
	snprintf(v->pam_service, sizeof(v->pam_service), "socks5");
	snprintf(v->gss_keytab, sizeof(v->gss_keytab), "/etc/krb5.keytab");
	snprintf(v->gss_service, sizeof(v->gss_service), "rcmd");
	/* As OpenSSH's privsep user: a system user of its own, which no
	 * other program runs as (docs/socks5.conf-extensions.md). */
	snprintf(v->helper_user, sizeof(v->helper_user), "_socks5d");
	v->gss_protection = CONF_GSS_PROT_NONE;
}

/* What a valid value looks like, for messages. */
static void
var_expected(const struct var_def *d, char *out, size_t size)
{
	switch (d->kind) {
	case VK_FLAG:
		snprintf(out, size, "1, 0, yes, no, on or off, or no value");
		break;
	case VK_UINT:
		snprintf(out, size, "%s, %u-%u", d->unit, d->min, d->max);
		break;
	case VK_PATH:
		snprintf(out, size, "an absolute path of at most %zu bytes",
		    d->size - 1);
		break;
	case VK_TEXT:
		snprintf(out, size, "at most %zu printable bytes", d->size - 1);
		break;
	case VK_SERVICE:
		snprintf(out, size, "a PAM service name: letters, digits, '.', "
		    "'_' or '-', at most %zu bytes", d->size - 1);
		break;
	case VK_BINDINTFC:
		snprintf(out, size, "[host]:port, host empty, an IPv4 address "
		    "or [IPv6 address], port 1-65535 or a service name");
		break;
	case VK_PORTRANGE:
		snprintf(out, size, "lo-hi with ports 1-65535 and lo <= hi, or "
		    "0-0 for any port");
		break;
	case VK_GSSPROT:
		snprintf(out, size, "none; integrity and confidentiality "
		    "(RFC 1961 message protection) are not served");
		break;
	case VK_USER:
		snprintf(out, size, "a user name: letters, digits, '.', '_' "
		    "or '-', not starting with '-', at most %zu bytes",
		    d->size - 1);
		break;
	case VK_STARTUPS:
		snprintf(out, size, "start:rate:full, connections and a "
		    "percentage, 1 <= start < full <= 100000, rate 0-100; or 0 "
		    "for no early drop");
		break;
	default:
		snprintf(out, size, "no value");
		break;
	}
}

/* Apply value (NULL: the variable was named alone) to v; false if the
 * value is not valid for d.  Nothing is changed on failure. */
static bool
var_apply(struct conf_vars *v, const struct var_def *d, const char *value)
{
	char *field = (char *)v + d->offset;
	size_t len = value == NULL ? 0 : strlen(value);
	unsigned long n;
	char *end;
	bool on = true;
	size_t i;

	if (value == NULL && d->kind != VK_FLAG)
		return false;
	switch (d->kind) {
	case VK_FLAG:
		if (value != NULL && !var_flag_value(value, &on))
			return false;
		memcpy(field, &on, sizeof(on));
		return true;
	case VK_UINT:
		for (i = 0; i < len; i++)
			if (value[i] < '0' || value[i] > '9')
				return false;
		if (len == 0 || len > 9)
			return false;
		n = strtoul(value, &end, 10);
		if (n < d->min || n > d->max)
			return false;
		{
			unsigned u = (unsigned)n;

			memcpy(field, &u, sizeof(u));
		}
		return true;
	case VK_PATH:
		if (value[0] != '/' || !var_text_ok(value, len, d->size))
			return false;
		memcpy(field, value, len + 1);
		if (d->offset == offsetof(struct conf_vars, pwdfile))
			v->has_pwdfile = true;
		return true;
	case VK_TEXT:
		if (!var_text_ok(value, len, d->size))
			return false;
		memcpy(field, value, len + 1);
		return true;
	case VK_SERVICE:
	case VK_USER:
		/* A user name: the portable set of useradd(8) and adduser(8),
		 * which getpwnam can look up and a log line can show; no
		 * leading '-', which commands would read as an option. */
		if (!var_name_ok(value, len, d->size) ||
		    (d->kind == VK_USER && value[0] == '-'))
			return false;
		memcpy(field, value, len + 1);
		return true;
	case VK_BINDINTFC:
		if (len >= d->size || !var_bindintfc_parse(value, len, v))
			return false;
		memcpy(field, value, len + 1);
		v->has_bindintfc = true;
		return true;
	case VK_PORTRANGE:
		return var_portrange_parse(value, len, v);
	case VK_GSSPROT:
		return var_gssprot_parse(value, len, v);
	case VK_STARTUPS:
		return var_startups_parse(value, v);
	default:
		return true;
	}
}

/*
 * SOCKS5_PROXY_PROTOCOL: comma-separated host patterns (grammar 3.1),
 * compiled by pat_host like any source pattern.  Only addresses and masks
 * are allowed: the list is checked against the TCP peer before a byte is
 * read, when no name is known, so a name could never match, and "-" would
 * let every client claim any address (the very hole a trust list closes;
 * write 0.0.0.0/0 if that is really meant).  A later setting replaces the
 * list.  Errors are reported at line (0 for the environment).
 */
static int
hostlist_apply(struct parser *p, const char *name, const char *value,
    unsigned line)
{
	char elem[CONF_NAME_MAX + 2], q[QUOTE_MAX];
	const char *s = value, *comma;
	struct hostpat *pats;
	size_t n = 1, i = 0, len;
	unsigned saved = p->line;
	int rc = 0;

	if (value == NULL || value[0] == '\0') {
		parser_diag_at(p, line, true, "%s needs a value (expected host "
		    "patterns separated by commas, e.g. 10.0.0.5,10.0.1.0/24)",
		    name);
		return ERR_CONFIG;
	}
	for (comma = value; (comma = strchr(comma, ',')) != NULL; comma++)
		n++;
	if ((pats = conf_alloc(p->conf, n * sizeof(*pats))) == NULL)
		return ERR_NOMEM;
	p->line = line;
	for (;;) {
		struct field f;

		comma = strchr(s, ',');
		len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if (len == 0 || len >= sizeof(elem)) {
			parser_error(p, "%s: empty or over-long entry in '%s' "
			    "(expected host patterns separated by commas)", name,
			    conf_quote(q, value));
			rc = ERR_CONFIG;
			break;
		}
		memcpy(elem, s, len);
		elem[len] = '\0';
		f = (struct field){ .s = elem, .len = len };
		if ((rc = pat_host(p, &f, &pats[i])) != 0)
			break;
		if (pats[i].kind != HP_ADDR) {
			parser_error(p, "%s: '%s' is not an address or "
			    "address/mask (a load balancer is known by its "
			    "address: names are never looked up for it, and "
			    "'-' would trust every client)", name,
			    conf_quote(q, elem));
			rc = ERR_CONFIG;
			break;
		}
		i++;
		if (comma == NULL)
			break;
		s = comma + 1;
	}
	p->line = saved;
	if (rc != 0)
		return rc;
	p->conf->lbs = pats;
	p->conf->n_lbs = i;
	return 0;
}

static const struct var_def *
var_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_VAR_DEFS; i++)
		if (strcasecmp(var_defs[i].name, name) == 0)
			return &var_defs[i];
	return NULL;
}

int
vars_set(struct parser *p, const struct field *fields, size_t n)
{
	const struct var_def *d;
	const char *value = n == 3 ? fields[2].s : NULL;
	char expected[160], q[QUOTE_MAX], qv[QUOTE_MAX];
	size_t idx;
	int rc;

	if (n < 2 || n > 3) {
		parser_error(p, "'set' takes a variable name and at most one "
		    "value (found %zu fields after the keyword)", n - 1);
		return ERR_CONFIG;
	}
	if ((d = var_find(fields[1].s)) == NULL) {
		if (p->flags & CONF_PARSE_UNKNOWN_VAR_WARNS) {
			parser_warn(p, "unknown variable '%s' ignored (socks5d "
			    "-t reports it as an error)",
			    conf_quote(q, fields[1].s));
			return 0;
		}
		parser_error(p, "unknown variable '%s' (expected a SOCKS5_* "
		    "server variable listed in socks5.conf(5), e.g. "
		    "SOCKS5_TIMEOUT)", conf_quote(q, fields[1].s));
		return ERR_CONFIG;
	}
	idx = (size_t)(d - var_defs);
	switch (d->kind) {
	case VK_CONFFILE:
		parser_error(p, "SOCKS5_CONFFILE cannot be set in the "
		    "configuration file (set it in the environment before "
		    "starting, or use -f)");
		return ERR_CONFIG;
	case VK_PIDFILE:
		parser_warn(p, "SOCKS5_PIDFILE is ignored: socks5d runs in the "
		    "foreground and writes no PID file");
		return 0;
	case VK_NEC_CLIENT:
		parser_warn(p, "%s is a variable of NEC's client library; the "
		    "server ignores it", d->name);
		return 0;
	case VK_HOSTLIST:
		if ((rc = hostlist_apply(p, d->name, value, p->line)) != 0)
			return rc;
		break;
	default:
		break;
	}
	if (d->kind != VK_HOSTLIST && !var_apply(&p->conf->vars, d, value)) {
		var_expected(d, expected, sizeof(expected));
		if (value == NULL)
			parser_error(p, "%s needs a value (expected %s)",
			    d->name, expected);
		else
			parser_error(p, "invalid value '%s' for %s (expected "
			    "%s)", conf_quote(qv, value), d->name, expected);
		return ERR_CONFIG;
	}
	if (p->var_line[idx] != 0)
		parser_warn(p, "%s is set again (already set at line %u); the later "
		    "value wins", d->name, p->var_line[idx]);
	p->var_line[idx] = p->line;
	if (strcmp(d->name, "SOCKS5_PASSWD") == 0 && p->world_readable)
		parser_warn(p, "SOCKS5_PASSWD is set in a file that its group "
		    "or every user can read (chmod go-r the file, or pass "
		    "SOCKS5_PASSWD in the environment)");
	return 0;
}

void
vars_from_env(struct parser *p)
{
	char expected[160], qv[QUOTE_MAX];
	const char *value;
	size_t i;

	for (i = 0; i < N_VAR_DEFS; i++) {
		const struct var_def *d = &var_defs[i];

		if (d->kind == VK_CONFFILE || d->kind == VK_PIDFILE ||
		    d->kind == VK_NEC_CLIENT || p->var_line[i] != 0)
			continue;
		/* secure_getenv: should socks5d ever run set-id, a caller's
		 * environment must not configure it. */
		if ((value = secure_getenv(d->name)) == NULL)
			continue;
		/* NEC tests flags for presence: an empty value means on. */
		if (d->kind == VK_FLAG && value[0] == '\0')
			value = NULL;
		if (d->kind == VK_HOSTLIST) {
			if (hostlist_apply(p, d->name, value, 0) == ERR_NOMEM)
				p->nomem = true;
			continue;
		}
		if (var_apply(&p->conf->vars, d, value))
			continue;
		var_expected(d, expected, sizeof(expected));
		parser_diag_at(p, 0, true, "environment variable %s: invalid "
		    "value '%s' (expected %s)", d->name,
		    conf_quote(qv, value == NULL ? "" : value), expected);
	}
}
