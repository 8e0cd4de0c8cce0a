/*
 * Server variables (grammar 4.4, 6, Extensions): defaults, every variable
 * through `set`, range ends, the environment and its precedence; conf_load
 * on real files; the three example configurations of conf/examples/.
 */
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "conf/conf.h"
#include "tests/unit/addr_fixture.h"
#include "tests/unit/unit.h"

struct diags {
	size_t errors, warnings;
	unsigned last_line;
	char last[512];
};

static void
collect(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	struct diags *dg = ctx;

	(void)file;
	if (is_error)
		dg->errors++;
	else
		dg->warnings++;
	dg->last_line = line;
	snprintf(dg->last, sizeof(dg->last), "%s", msg);
}

/* Parse "set ..." plus a permit line; returns the configuration or NULL. */
static struct conf *
load(const char *set_lines, unsigned flags, struct diags *dg)
{
	char text[1024];
	struct conf *conf = NULL;

	memset(dg, 0, sizeof(*dg));
	snprintf(text, sizeof(text), "%spermit - - - - - -\n", set_lines);
	if (conf_parse_flags("test.conf", text, strlen(text), flags, &conf,
	    collect, dg) != 0)
		return NULL;
	return conf;
}

static void
test_defaults(void)
{
	struct diags dg;
	struct conf *conf = load("", CONF_PARSE_NO_ENV, &dg);
	const struct conf_vars *v = conf_vars(conf);

	CHECK(v->neg_timeout_s == 30 && v->idle_timeout_min == 15 &&
	    v->max_child == 1024 && v->shutdown_grace_s == 30,
	    "numeric defaults: 30 s, 15 min, 1024, 30 s");
	CHECK(v->penalty_s == 10 && v->penalty_max_s == 600 &&
	    v->penalty_table == 1024, "penalty defaults: 10 s, 600 s, 1024");
	CHECK(!v->balance && v->upstream_retry_s == 30,
	    "chaining defaults: no balance, upstream retry 30 s");
	CHECK(!v->noident && !v->demand_ident && !v->reversemap &&
	    !v->noreversemap && v->v4support, "flag defaults");
	CHECK(!v->has_bindintfc && v->bind_addr_len == 0 &&
	    v->udp_port_lo == 0 && v->udp_port_hi == 0 &&
	    v->upstream_user[0] == '\0' && v->upstream_passwd[0] == '\0',
	    "unset values");
	CHECK(strcmp(v->pwdfile, "/etc/socks5.passwd") == 0 &&
	    strcmp(v->hosts_allow, "/etc/hosts.allow") == 0 &&
	    strcmp(v->hosts_deny, "/etc/hosts.deny") == 0 &&
	    strcmp(v->pam_service, "socks5") == 0, "path and name defaults");
	CHECK(strcmp(v->gss_keytab, "/etc/krb5.keytab") == 0 &&
	    strcmp(v->gss_service, "rcmd") == 0 && !v->gss_strip_realm &&
	    v->gss_protection == CONF_GSS_PROT_NONE,
	    "RFC 1961 defaults: /etc/krb5.keytab, rcmd, realm kept, none");
	CHECK(strcmp(v->helper_user, "_socks5d") == 0,
	    "helper user default: _socks5d");
	conf_free(conf);
}

/* One `set` line and a check of its effect (or of its rejection). */
struct var_row {
	const char *line;
	bool ok;
	const char *field;   /* which value to check, see var_value */
	long want;           /* numbers and flags */
	const char *want_s;  /* strings */
};

static const struct var_row var_rows[] = {
	{ "set SOCKS5_NOIDENT", true, "noident", 1, NULL },
	{ "set SOCKS5_NOIDENT yes", true, "noident", 1, NULL },
	{ "set SOCKS5_NOIDENT On", true, "noident", 1, NULL },
	{ "set SOCKS5_NOIDENT 1", true, "noident", 1, NULL },
	{ "set SOCKS5_NOIDENT no", true, "noident", 0, NULL },
	{ "set SOCKS5_NOIDENT off", true, "noident", 0, NULL },
	{ "set SOCKS5_NOIDENT 0", true, "noident", 0, NULL },
	{ "set SOCKS5_NOIDENT 2", false, NULL, 0, NULL },
	{ "set SOCKS5_DEMAND_IDENT", true, "demand_ident", 1, NULL },
	{ "set SOCKS5_REVERSEMAP", true, "reversemap", 1, NULL },
	{ "set SOCKS5_NOREVERSEMAP on", true, "noreversemap", 1, NULL },
	{ "set SOCKS5_V4SUPPORT off", true, "v4support", 0, NULL },
	{ "set SOCKS5_TIMEOUT 0", true, "idle", 0, NULL },
	{ "set SOCKS5_TIMEOUT 35791", true, "idle", 35791, NULL },
	{ "set SOCKS5_TIMEOUT 35792", false, NULL, 0, NULL },
	{ "set SOCKS5_TIMEOUT -1", false, NULL, 0, NULL },
	{ "set SOCKS5_TIMEOUT 99999999999999999999", false, NULL, 0, NULL },
	{ "set SOCKS5_MAXCHILD 1", true, "maxchild", 1, NULL },
	{ "set SOCKS5_MAXCHILD 100000", true, "maxchild", 100000, NULL },
	{ "set SOCKS5_MAXCHILD 0", false, NULL, 0, NULL },
	{ "set SOCKS5_MAXCHILD 100001", false, NULL, 0, NULL },
	{ "set SOCKS5_NEGTIMEOUT 1", true, "neg", 1, NULL },
	{ "set SOCKS5_NEGTIMEOUT 3600", true, "neg", 3600, NULL },
	{ "set SOCKS5_NEGTIMEOUT 0", false, NULL, 0, NULL },
	{ "set SOCKS5_SHUTDOWN_GRACE 0", true, "grace", 0, NULL },
	{ "set SOCKS5_SHUTDOWN_GRACE 86400", true, "grace", 86400, NULL },
	{ "set SOCKS5_SHUTDOWN_GRACE 86401", false, NULL, 0, NULL },
	{ "set SOCKS5_PENALTY 0", true, "penalty", 0, NULL },
	{ "set SOCKS5_PENALTY 86400", true, "penalty", 86400, NULL },
	{ "set SOCKS5_PENALTY 86401", false, NULL, 0, NULL },
	{ "set SOCKS5_PENALTY_MAX 604800", true, "penalty_max", 604800, NULL },
	{ "set SOCKS5_PENALTY_MAX 604801", false, NULL, 0, NULL },
	{ "set SOCKS5_PENALTY_TABLE 1", true, "penalty_table", 1, NULL },
	{ "set SOCKS5_BALANCE", true, "balance", 1, NULL },
	{ "set SOCKS5_BALANCE off", true, "balance", 0, NULL },
	{ "set SOCKS5_BALANCE maybe", false, NULL, 0, NULL },
	{ "set SOCKS5_UPSTREAM_RETRY 0", true, "retry", 0, NULL },
	{ "set SOCKS5_UPSTREAM_RETRY 86400", true, "retry", 86400, NULL },
	{ "set SOCKS5_UPSTREAM_RETRY 86401", false, NULL, 0, NULL },
	{ "set SOCKS5_UPSTREAM_RETRY -1", false, NULL, 0, NULL },
	{ "set SOCKS5_PENALTY_TABLE 0", false, NULL, 0, NULL },
	{ "set SOCKS5_PENALTY_TABLE 1000001", false, NULL, 0, NULL },
	{ "set SOCKS5_PWDFILE /etc/socks5d/passwd", true, "pwdfile", 0,
	  "/etc/socks5d/passwd" },
	{ "set SOCKS5_PWDFILE", false, NULL, 0, NULL },
	{ "set SOCKS5_HOSTS_ALLOW /etc/socks5d.allow", true, "allow", 0,
	  "/etc/socks5d.allow" },
	{ "set SOCKS5_HOSTS_DENY /etc/socks5d.deny", true, "deny", 0,
	  "/etc/socks5d.deny" },
	{ "set SOCKS5_HOSTS_DENY hosts.deny", false, NULL, 0, NULL },
	{ "set SOCKS5_PAM_SERVICE socks5d", true, "pam", 0, "socks5d" },
	{ "set SOCKS5_PAM_SERVICE ../login", false, NULL, 0, NULL },
	{ "set SOCKS5_USER upstream-user", true, "user", 0, "upstream-user" },
	{ "set SOCKS5_PASSWD s3cr3t!", true, "passwd", 0, "s3cr3t!" },
	{ "set SOCKS5_UDPPORTRANGE 40000-40100", true, "udp", 40000,
	  "40100" },
	{ "set SOCKS5_UDPPORTRANGE 0-0", true, "udp", 0, "0" },
	{ "set SOCKS5_UDPPORTRANGE 5000-4999", false, NULL, 0, NULL },
	{ "set SOCKS5_UDPPORTRANGE 0-10", false, NULL, 0, NULL },
	{ "set SOCKS5_UDPPORTRANGE 5000", false, NULL, 0, NULL },
	{ "set SOCKS5_BINDINTFC :1080", true, "bind", 1080, "0.0.0.0" },
	{ "set SOCKS5_BINDINTFC 127.0.0.1:1081", true, "bind", 1081,
	  "127.0.0.1" },
	{ "set SOCKS5_BINDINTFC [::1]:1082", true, "bind", 1082, "::1" },
	{ "set SOCKS5_BINDINTFC :socks", true, "bind", 1080, "0.0.0.0" },
	{ "set SOCKS5_BINDINTFC proxy.example.com:1080", false, NULL, 0,
	  NULL },
	{ "set SOCKS5_BINDINTFC 1080", false, NULL, 0, NULL },
	{ "set SOCKS5_BINDINTFC [::1]", false, NULL, 0, NULL },
	{ "set SOCKS5_BINDINTFC :0", false, NULL, 0, NULL },
	{ "set SOCKS5_KEYTAB /etc/socks5.keytab", true, "keytab", 0,
	  "/etc/socks5.keytab" },
	{ "set SOCKS5_KEYTAB krb5.keytab", false, NULL, 0, NULL },
	{ "set SOCKS5_GSS_SERVICE socks", true, "gss_service", 0, "socks" },
	{ "set SOCKS5_GSS_SERVICE rcmd@host", false, NULL, 0, NULL },
	{ "set SOCKS5_GSS_STRIP_REALM", true, "strip", 1, NULL },
	{ "set SOCKS5_GSS_PROTECTION none", true, "prot", CONF_GSS_PROT_NONE,
	  NULL },
	{ "set SOCKS5_GSS_PROTECTION none,none", true, "prot",
	  CONF_GSS_PROT_NONE, NULL },
	/* Not served, so not accepted (conf/vars.c gssprot_parse). */
	{ "set SOCKS5_GSS_PROTECTION integrity", false, NULL, 0, NULL },
	{ "set SOCKS5_GSS_PROTECTION none,confidentiality", false, NULL, 0,
	  NULL },
	{ "set SOCKS5_GSS_PROTECTION none,", false, NULL, 0, NULL },
	{ "set SOCKS5_GSS_PROTECTION", false, NULL, 0, NULL },
	{ "set SOCKS5_HELPER_USER socks5-helper", true, "helper", 0,
	  "socks5-helper" },
	{ "set SOCKS5_HELPER_USER _s5.d", true, "helper", 0, "_s5.d" },
	{ "set SOCKS5_HELPER_USER 0123456789abcdef0123456789abcdef", true,
	  "helper", 0, "0123456789abcdef0123456789abcdef" },
	{ "set SOCKS5_HELPER_USER 0123456789abcdef0123456789abcdefg", false,
	  NULL, 0, NULL },
	{ "set SOCKS5_HELPER_USER -rf", false, NULL, 0, NULL },
	{ "set SOCKS5_HELPER_USER ../root", false, NULL, 0, NULL },
	{ "set SOCKS5_HELPER_USER a:b", false, NULL, 0, NULL },
	{ "set SOCKS5_HELPER_USER", false, NULL, 0, NULL },
};

/* Does the variable named by row->field hold the row's value? */
static bool
var_value(const struct conf_vars *v, const struct var_row *row)
{
	const char *f = row->field;
	char text[64] = "";
	uint16_t port = 0;

	if (strcmp(f, "noident") == 0) return v->noident == row->want;
	if (strcmp(f, "demand_ident") == 0) return v->demand_ident == row->want;
	if (strcmp(f, "reversemap") == 0) return v->reversemap == row->want;
	if (strcmp(f, "noreversemap") == 0) return v->noreversemap == row->want;
	if (strcmp(f, "v4support") == 0) return v->v4support == row->want;
	if (strcmp(f, "idle") == 0) return v->idle_timeout_min == row->want;
	if (strcmp(f, "maxchild") == 0) return v->max_child == row->want;
	if (strcmp(f, "neg") == 0) return v->neg_timeout_s == row->want;
	if (strcmp(f, "grace") == 0) return v->shutdown_grace_s == row->want;
	if (strcmp(f, "penalty") == 0) return v->penalty_s == row->want;
	if (strcmp(f, "penalty_max") == 0)
		return v->penalty_max_s == row->want;
	if (strcmp(f, "penalty_table") == 0)
		return v->penalty_table == row->want;
	if (strcmp(f, "balance") == 0) return v->balance == row->want;
	if (strcmp(f, "retry") == 0) return v->upstream_retry_s == row->want;
	if (strcmp(f, "pwdfile") == 0) return !strcmp(v->pwdfile, row->want_s);
	if (strcmp(f, "allow") == 0) return !strcmp(v->hosts_allow, row->want_s);
	if (strcmp(f, "deny") == 0) return !strcmp(v->hosts_deny, row->want_s);
	if (strcmp(f, "pam") == 0) return !strcmp(v->pam_service, row->want_s);
	if (strcmp(f, "keytab") == 0) return !strcmp(v->gss_keytab, row->want_s);
	if (strcmp(f, "gss_service") == 0)
		return !strcmp(v->gss_service, row->want_s);
	if (strcmp(f, "strip") == 0) return v->gss_strip_realm == row->want;
	if (strcmp(f, "prot") == 0) return v->gss_protection == row->want;
	if (strcmp(f, "helper") == 0)
		return !strcmp(v->helper_user, row->want_s);
	if (strcmp(f, "user") == 0)
		return !strcmp(v->upstream_user, row->want_s);
	if (strcmp(f, "passwd") == 0)
		return !strcmp(v->upstream_passwd, row->want_s);
	if (strcmp(f, "udp") == 0)
		return v->udp_port_lo == row->want &&
		    v->udp_port_hi == atoi(row->want_s);
	if (strcmp(f, "bind") != 0 || !v->has_bindintfc)
		return false;
	if (v->bind_addr.ss_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, &v->bind_addr, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
		port = ntohs(sin.sin_port);
	} else if (v->bind_addr.ss_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, &v->bind_addr, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
		port = ntohs(sin6.sin6_port);
	}
	return port == row->want && strcmp(text, row->want_s) == 0 &&
	    strcmp(v->bindintfc, strchr(row->line + 4, ' ') + 1) == 0;
}

static void
test_var_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(var_rows) / sizeof(var_rows[0]); i++) {
		const struct var_row *row = &var_rows[i];
		char text[256];
		struct diags dg;
		struct conf *conf;

		snprintf(text, sizeof(text), "%s\n", row->line);
		conf = load(text, CONF_PARSE_NO_ENV, &dg);
		if (row->ok)
			CHECK(conf != NULL && var_value(conf_vars(conf), row),
			    "'%s' sets %s", row->line, row->field);
		else
			CHECK(conf == NULL && dg.errors == 1 &&
			    dg.last_line == 1, "'%s' is rejected at line 1 (%s)",
			    row->line, dg.last);
		conf_free(conf);
	}
}

static void
test_env(void)
{
	struct diags dg;
	struct conf *conf;

	setenv("SOCKS5_TIMEOUT", "7", 1);
	setenv("SOCKS5_NOIDENT", "", 1);
	setenv("SOCKS5_CONFFILE", "/nonexistent", 1);
	conf = load("", 0, &dg);
	CHECK(conf != NULL && conf_vars(conf)->idle_timeout_min == 7 &&
	    conf_vars(conf)->noident, "the environment sets what the file "
	    "does not (an empty flag is on)");
	conf_free(conf);
	conf = load("set SOCKS5_TIMEOUT 3\n", 0, &dg);
	CHECK(conf != NULL && conf_vars(conf)->idle_timeout_min == 3,
	    "the file wins over the environment");
	conf_free(conf);
	conf = load("", CONF_PARSE_NO_ENV, &dg);
	CHECK(conf != NULL && conf_vars(conf)->idle_timeout_min == 15 &&
	    !conf_vars(conf)->noident, "CONF_PARSE_NO_ENV ignores it");
	conf_free(conf);

	setenv("SOCKS5_MAXCHILD", "many", 1);
	conf = load("", 0, &dg);
	CHECK(conf == NULL && dg.errors == 1 && dg.last_line == 0 &&
	    strcmp(dg.last, "environment variable SOCKS5_MAXCHILD: invalid "
	    "value 'many' (expected workers, 1-100000)") == 0,
	    "an invalid environment value is an error at line 0: %s", dg.last);
	conf = load("set SOCKS5_MAXCHILD 9\n", 0, &dg);
	CHECK(conf != NULL && dg.errors == 0 &&
	    conf_vars(conf)->max_child == 9,
	    "an environment value the file overrides is not checked");
	conf_free(conf);
	unsetenv("SOCKS5_MAXCHILD");
	unsetenv("SOCKS5_TIMEOUT");
	unsetenv("SOCKS5_NOIDENT");
	unsetenv("SOCKS5_CONFFILE");
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

static void
test_load(void)
{
	char dir[] = "/tmp/test_conf_vars.XXXXXX", path[128];
	struct diags dg;
	struct conf *conf = NULL;
	int rc;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/socks5.conf", dir);
	write_file(path, "set SOCKS5_PASSWD pw\npermit - - - - - -\n", 0600);
	memset(&dg, 0, sizeof(dg));
	rc = conf_load_flags(path, CONF_PARSE_NO_ENV, &conf, collect, &dg);
	CHECK(rc == 0 && dg.warnings == 0 &&
	    strcmp(conf_name(conf), "socks5.conf") == 0 &&
	    strcmp(conf_vars(conf)->upstream_passwd, "pw") == 0,
	    "conf_load reads a file (mode 0600: no warning)");
	conf_free(conf);
	chmod(path, 0644);
	memset(&dg, 0, sizeof(dg));
	rc = conf_load(path, &conf, collect, &dg);
	CHECK(rc == 0 && dg.warnings == 1 && dg.last_line == 1 &&
	    strcmp(dg.last, "SOCKS5_PASSWD is set in a file that its group or "
	    "every user can read (chmod go-r the file, or pass SOCKS5_PASSWD "
	    "in the environment)") == 0, "SOCKS5_PASSWD in a world-readable "
	    "file warns: %s", dg.last);
	conf_free(conf);
	chmod(path, 0640);
	memset(&dg, 0, sizeof(dg));
	rc = conf_load(path, &conf, collect, &dg);
	CHECK(rc == 0 && dg.warnings == 1 && strstr(dg.last, "its group") !=
	    NULL, "SOCKS5_PASSWD in a group-readable file warns");
	conf_free(conf);
	unlink(path);

	memset(&dg, 0, sizeof(dg));
	rc = conf_load(path, &conf, collect, &dg);
	CHECK(rc == ERR_SYS && conf == NULL && dg.errors == 1 &&
	    dg.last_line == 0 && strcmp(dg.last, "cannot open: No such file or "
	    "directory") == 0, "a missing file is ERR_SYS, reported at line 0");
	memset(&dg, 0, sizeof(dg));
	rc = conf_load(dir, &conf, collect, &dg);
	CHECK(rc == ERR_CONFIG && conf == NULL && dg.errors == 1 &&
	    strcmp(dg.last, "not a regular file (expected a socks5.conf text "
	    "file)") == 0, "a directory is refused");
	rmdir(dir);
}

/* -t refuses an unknown variable; the running daemon warns and goes on
 * (CONF_PARSE_UNKNOWN_VAR_WARNS), keeping every other setting. */
static void
test_unknown_var(void)
{
	struct diags dg;
	struct conf *conf;

	conf = load("set SOCKS5_FROM_THE_FUTURE 1\nset SOCKS5_TIMEOUT 7\n",
	    CONF_PARSE_NO_ENV, &dg);
	CHECK(conf == NULL && dg.errors == 1 && dg.last_line == 1,
	    "unknown variable: an error by default (-t)");
	conf = load("set SOCKS5_FROM_THE_FUTURE 1\nset SOCKS5_TIMEOUT 7\n",
	    CONF_PARSE_NO_ENV | CONF_PARSE_UNKNOWN_VAR_WARNS, &dg);
	CHECK(conf != NULL && dg.errors == 0 && dg.warnings == 1 &&
	    conf_vars(conf)->idle_timeout_min == 7,
	    "unknown variable: a warning for the daemon, the rest applies");
	conf_free(conf);
}

/* SOCKS5_PROXY_PROTOCOL: which TCP peers must send a PROXY header. */
static bool
trusted(const struct conf *conf, const char *addr)
{
	struct sockaddr_storage ss = mk_addr(addr);

	return rules_proxy_trusted(conf, (struct sockaddr *)&ss);
}

static void
test_proxy_protocol(void)
{
	static const char *const bad[] = {
		"set SOCKS5_PROXY_PROTOCOL\n",
		"set SOCKS5_PROXY_PROTOCOL -\n",
		"set SOCKS5_PROXY_PROTOCOL lb.example.com\n",
		"set SOCKS5_PROXY_PROTOCOL .example.com\n",
		"set SOCKS5_PROXY_PROTOCOL 10.0.0.5,\n",
		"set SOCKS5_PROXY_PROTOCOL ,10.0.0.5\n",
		"set SOCKS5_PROXY_PROTOCOL 10.0.0.5,,10.0.0.6\n",
		"set SOCKS5_PROXY_PROTOCOL 10.0.0.256\n",
		"set SOCKS5_PROXY_PROTOCOL 10.0.0.0/33\n",
		"set SOCKS5_PROXY_PROTOCOL 10.0.0.5,-\n",
	};
	struct diags dg;
	struct conf *conf;

	conf = load("", CONF_PARSE_NO_ENV, &dg);
	CHECK(conf != NULL && !trusted(conf, "127.0.0.1:5") &&
	    !trusted(conf, "[::1]:5"), "PROXY_PROTOCOL unset: no peer trusted");
	conf_free(conf);

	conf = load("set SOCKS5_PROXY_PROTOCOL 127.0.0.1,10.1.0.0/16,"
	    "2001:db8::/32\n", CONF_PARSE_NO_ENV, &dg);
	CHECK(conf != NULL && dg.errors == 0, "PROXY_PROTOCOL list parses");
	CHECK(conf != NULL && trusted(conf, "127.0.0.1:40000") &&
	    trusted(conf, "10.1.200.3:1") && trusted(conf, "[2001:db8::9]:1") &&
	    trusted(conf, "[::ffff:127.0.0.1]:1"),
	    "PROXY_PROTOCOL: listed addresses, masks and mapped IPv4 trusted");
	CHECK(conf != NULL && !trusted(conf, "127.0.0.2:1") &&
	    !trusted(conf, "10.2.0.1:1") && !trusted(conf, "[2001:db9::1]:1"),
	    "PROXY_PROTOCOL: other addresses are not");
	conf_free(conf);

	conf = load("set SOCKS5_PROXY_PROTOCOL 10.0.0.5\n"
	    "set SOCKS5_PROXY_PROTOCOL 10.0.0.6\n", CONF_PARSE_NO_ENV, &dg);
	CHECK(conf != NULL && dg.warnings == 1 && !trusted(conf, "10.0.0.5:1") &&
	    trusted(conf, "10.0.0.6:1"),
	    "PROXY_PROTOCOL set twice: the later list replaces the first");
	conf_free(conf);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf = load(bad[i], CONF_PARSE_NO_ENV, &dg);
		CHECK(conf == NULL && dg.errors == 1 && dg.last_line == 1,
		    "'%.*s' is rejected at line 1 (%s)",
		    (int)strlen(bad[i]) - 1, bad[i], dg.last);
		conf_free(conf);
	}

	setenv("SOCKS5_PROXY_PROTOCOL", "192.0.2.7", 1);
	conf = load("", 0, &dg);
	CHECK(conf != NULL && trusted(conf, "192.0.2.7:1") &&
	    !trusted(conf, "192.0.2.8:1"),
	    "PROXY_PROTOCOL from the environment");
	conf_free(conf);
	setenv("SOCKS5_PROXY_PROTOCOL", "lb.example.com", 1);
	conf = load("", 0, &dg);
	CHECK(conf == NULL && dg.errors == 1 && dg.last_line == 0,
	    "an invalid PROXY_PROTOCOL environment value is an error at "
	    "line 0");
	conf_free(conf);
	unsetenv("SOCKS5_PROXY_PROTOCOL");
}

int
main(void)
{
	unsetenv("SOCKS5_TIMEOUT");
	test_unknown_var();
	test_defaults();
	test_var_rows();
	test_env();
	test_load();
	test_proxy_protocol();
	return unit_done();
}
