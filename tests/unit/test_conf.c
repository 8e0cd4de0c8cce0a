/*
 * conf_parse errors (grammar 8): one row per message, each checked for its
 * file name, line and exact text; a file with many errors reports all of
 * them; a failed load hands back no configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf.h"
#include "tests/unit/unit.h"

#define DIAG_MAX 64

struct diag {
	char file[64];
	unsigned line;
	bool is_error;
	char msg[512];
};

struct diags {
	struct diag d[DIAG_MAX];
	size_t n;
};

static void
collect(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	struct diags *dg = ctx;

	if (dg->n == DIAG_MAX)
		return;
	snprintf(dg->d[dg->n].file, sizeof(dg->d[dg->n].file), "%s", file);
	dg->d[dg->n].line = line;
	dg->d[dg->n].is_error = is_error;
	snprintf(dg->d[dg->n].msg, sizeof(dg->d[dg->n].msg), "%s", msg);
	dg->n++;
}

static int
parse(const char *text, size_t len, unsigned flags, struct diags *dg,
    struct conf **out)
{
	memset(dg, 0, sizeof(*dg));
	return conf_parse_flags("test.conf", text, len, flags, out, collect,
	    dg);
}

static size_t
count_errors(const struct diags *dg)
{
	size_t i, n = 0;

	for (i = 0; i < dg->n; i++)
		n += dg->d[i].is_error;
	return n;
}

/* One configuration with one error: the message at that line. */
struct error_row {
	const char *text;
	unsigned line;
	const char *msg;
};

static const struct error_row error_rows[] = {
	{ "permit - - - - - -\nfoo - -\n", 2,
	  "unknown keyword 'foo' (expected ban, auth, interface, route, set, "
	  "socks5, socks4, noproxy, permit or deny)" },
	{ "ban 10.\n", 1,
	  "'ban' takes 2 fields after the keyword (src-host src-port), "
	  "found 1" },
	{ "auth - - u n\n", 1,
	  "'auth' takes 3 fields after the keyword (src-host src-port "
	  "auth-methods), found 4" },
	{ "interface - -\n", 1,
	  "'interface' takes 3 fields after the keyword (host-pattern "
	  "port-pattern interface-address), found 2" },
	{ "permit - - - - -\n", 1,
	  "'permit' takes 6 or 7 fields after the keyword (auth cmd src-host "
	  "dest-host src-port dest-port [user-list]), found 5" },
	{ "deny - - - - - - a b\n", 1,
	  "'deny' takes 6 or 7 fields after the keyword (auth cmd src-host "
	  "dest-host src-port dest-port [user-list]), found 8" },
	{ "socks5 - - 10.0.0.1 x\n", 1,
	  "'socks5' takes 3 fields after the keyword (dest-host dest-port "
	  "proxy-list), found 4" },
	{ "ban 10 -\n", 1,
	  "invalid host pattern '10' (expected -, n1., n1.n2., n1.n2.n3., "
	  "a.b.c.d, addr/mask, .domain or host.name)" },
	{ "ban 10.1.2 -\n", 1,
	  "invalid host pattern '10.1.2' (expected -, n1., n1.n2., n1.n2.n3., "
	  "a.b.c.d, addr/mask, .domain or host.name)" },
	{ "ban 10..1. -\n", 1,
	  "invalid host pattern '10..1.' (expected -, n1., n1.n2., n1.n2.n3., "
	  "a.b.c.d, addr/mask, .domain or host.name)" },
	{ "ban 1.2.3.4.5 -\n", 1,
	  "invalid host pattern '1.2.3.4.5' (expected -, n1., n1.n2., "
	  "n1.n2.n3., a.b.c.d, addr/mask, .domain or host.name)" },
	{ "ban *.example.com -\n", 1,
	  "invalid host pattern '*.example.com' (expected -, n1., n1.n2., "
	  "n1.n2.n3., a.b.c.d, addr/mask, .domain or host.name)" },
	{ "ban 10.#x -\n", 1,
	  "invalid host pattern '10.#x' (expected -, n1., n1.n2., n1.n2.n3., "
	  "a.b.c.d, addr/mask, .domain or host.name)" },
	{ "ban host.123 -\n", 1,
	  "invalid host pattern 'host.123' (expected -, n1., n1.n2., "
	  "n1.n2.n3., a.b.c.d, addr/mask, .domain or host.name)" },
	{ "ban 10.256. -\n", 1,
	  "invalid host pattern '10.256.' (octet 256 is above 255)" },
	{ "ban 10.1.2.3. -\n", 1,
	  "invalid host pattern '10.1.2.3.' (a full address takes no "
	  "trailing dot)" },
	{ "ban 10.1.0.0/s -\n", 1,
	  "invalid host pattern '10.1.0.0/s' ('/s' is not supported; write "
	  "the mask, e.g. 10.1.0.0/255.255.0.0 or 10.1.0.0/16)" },
	{ "ban 224.0.0.1/n -\n", 1,
	  "invalid host pattern '224.0.0.1/n' ('/n' is undefined for class D "
	  "and E addresses; write the mask)" },
	{ "ban ::1/n -\n", 1,
	  "invalid host pattern '::1/n' ('/n' takes an IPv4 class A, B or C "
	  "address)" },
	{ "ban 10.0.0.0/33 -\n", 1,
	  "invalid host pattern '10.0.0.0/33' (prefix length 33 is above 32)" },
	{ "ban fe80::/129 -\n", 1,
	  "invalid host pattern 'fe80::/129' (prefix length 129 is above "
	  "128)" },
	{ "ban 10.0.0.0/255.0 -\n", 1,
	  "invalid host pattern '10.0.0.0/255.0' (expected a mask after '/': "
	  "a.b.c.d, a prefix length 0-32, or a, n, h)" },
	{ "ban fe80::/ffc0:: -\n", 1,
	  "invalid host pattern 'fe80::/ffc0::' (expected a prefix length "
	  "0-128, or a or h, after '/')" },
	{ "ban 10./8 -\n", 1,
	  "invalid host pattern '10./8' (the part before '/' must be a full "
	  "IPv4 or IPv6 address)" },
	{ "ban 2001:db8::g -\n", 1,
	  "invalid host pattern '2001:db8::g' (not a valid IPv6 address)" },
	{ "ban fe80::1%eth0 -\n", 1,
	  "invalid host pattern 'fe80::1%eth0' (not a valid IPv6 address)" },
	{ "ban - 65536\n", 1,
	  "invalid port pattern '65536' (ports are 0-65535; -1 and 65536 only "
	  "at an exclusive end)" },
	{ "ban - [-1,5]\n", 1,
	  "invalid port pattern '[-1,5]' (ports are 0-65535; -1 and 65536 "
	  "only at an exclusive end)" },
	{ "ban - [1,2\n", 1,
	  "invalid port pattern '[1,2' (expected -, a port 0-65535, a service "
	  "name, or a range [a,b], (a,b), [a,b) or (a,b])" },
	{ "ban - [1,2,3]\n", 1,
	  "invalid port pattern '[1,2,3]' (expected -, a port 0-65535, a "
	  "service name, or a range [a,b], (a,b), [a,b) or (a,b])" },
	{ "ban - 12ab!\n", 1,
	  "invalid port pattern '12ab!' (expected -, a port 0-65535, a "
	  "service name, or a range [a,b], (a,b), [a,b) or (a,b])" },
	{ "ban - no-such-service\n", 1,
	  "unknown service in port pattern 'no-such-service' (expected a TCP "
	  "service name from the services database, or a number)" },
	{ "ban - (5,6)\n", 1,
	  "empty port range '(5,6)' (no port lies between its ends)" },
	{ "ban - [6,5]\n", 1,
	  "empty port range '[6,5]' (no port lies between its ends)" },
	{ "ban - (65535,65536)\n", 1,
	  "empty port range '(65535,65536)' (no port lies between its ends)" },
	{ "auth - - u,x\n", 1,
	  "invalid auth methods 'u,x' (expected n, u, k or -, "
	  "comma-separated)" },
	{ "auth - - nu\n", 1,
	  "invalid auth methods 'nu' (expected n, u, k or -, "
	  "comma-separated)" },
	{ "auth - - u,,n\n", 1,
	  "empty element in list 'u,,n' (expected items separated by single "
	  "commas, without spaces)" },
	{ "permit u, - - - - -\n", 1,
	  "empty element in list 'u,' (expected items separated by single "
	  "commas, without spaces)" },
	{ "permit - cx - - - -\n", 1,
	  "invalid command pattern 'cx' (expected -, or letters c, b, u, p, "
	  "t, run together or comma-separated)" },
	{ "permit - c,- - - - -\n", 1,
	  "invalid command pattern 'c,-' (expected -, or letters c, b, u, p, "
	  "t, run together or comma-separated)" },
	{ "permit - ,c - - - -\n", 1,
	  "empty element in list ',c' (expected items separated by single "
	  "commas, without spaces)" },
	{ "permit - - - - - - alice,b#b\n", 1,
	  "invalid user list 'alice,b#b' (expected - or user names of at most "
	  "255 printable bytes, comma-separated)" },
	{ "permit - - - - - - alice,-\n", 1,
	  "invalid user list 'alice,-' (expected - or user names of at most "
	  "255 printable bytes, comma-separated)" },
	{ "noproxy - - 10.0.0.1\n", 1,
	  "'noproxy' takes no proxy-list (expected noproxy dest-host "
	  "dest-port)" },
	{ "socks5 - -\n", 1,
	  "'socks5' needs a proxy-list (expected socks5 dest-host dest-port "
	  "host[:port],...)" },
	{ "socks4 .x.org -\n", 1,
	  "'socks4' needs a proxy-list (expected socks4 dest-host dest-port "
	  "host[:port],...)" },
	{ "socks5 - - ::1\n", 1,
	  "invalid upstream in proxy list '::1' (expected host[:port] or "
	  "[IPv6][:port], port 1-65535 or a service name, comma-separated)" },
	{ "socks5 - - 10.0.1\n", 1,
	  "invalid upstream in proxy list '10.0.1' (expected host[:port] or "
	  "[IPv6][:port], port 1-65535 or a service name, comma-separated)" },
	{ "socks5 - - 10.0.0.1:0\n", 1,
	  "invalid upstream in proxy list '10.0.0.1:0' (expected host[:port] "
	  "or [IPv6][:port], port 1-65535 or a service name, "
	  "comma-separated)" },
	{ "socks5 - - [::1]1080\n", 1,
	  "invalid upstream in proxy list '[::1]1080' (expected host[:port] "
	  "or [IPv6][:port], port 1-65535 or a service name, "
	  "comma-separated)" },
	{ "socks4 - - a.example,,b.example\n", 1,
	  "empty element in list 'a.example,,b.example' (expected items "
	  "separated by single commas, without spaces)" },
	{ "interface - - 10.0.3\n", 1,
	  "invalid interface address '10.0.3' (expected an IPv4 or IPv6 "
	  "address of this host, or an interface name)" },
	{ "interface - - no-such-if9\n", 1,
	  "interface 'no-such-if9' has no IPv4 address on this host (expected "
	  "an interface with an IPv4 address, or an address of this host)" },
	{ "set\n", 1,
	  "'set' takes a variable name and at most one value (found 0 fields "
	  "after the keyword)" },
	{ "set SOCKS5_TIMEOUT 1 2\n", 1,
	  "'set' takes a variable name and at most one value (found 3 fields "
	  "after the keyword)" },
	{ "set SOCKS5_FOO 1\n", 1,
	  "unknown variable 'SOCKS5_FOO' (expected a SOCKS5_* server variable "
	  "listed in socks5.conf(5), e.g. SOCKS5_TIMEOUT)" },
	{ "set SOCKS5_BINDPORT 1080\n", 1,   /* Sun's, not NEC's (grammar 6) */
	  "unknown variable 'SOCKS5_BINDPORT' (expected a SOCKS5_* server "
	  "variable listed in socks5.conf(5), e.g. SOCKS5_TIMEOUT)" },
	{ "set SOCKS5_CONFFILE /etc/x.conf\n", 1,
	  "SOCKS5_CONFFILE cannot be set in the configuration file (set it in "
	  "the environment before starting, or use -f)" },
	{ "set SOCKS5_TIMEOUT\n", 1,
	  "SOCKS5_TIMEOUT needs a value (expected minutes, 0-35791)" },
	{ "set SOCKS5_TIMEOUT ten\n", 1,
	  "invalid value 'ten' for SOCKS5_TIMEOUT (expected minutes, "
	  "0-35791)" },
	{ "set SOCKS5_NOIDENT maybe\n", 1,
	  "invalid value 'maybe' for SOCKS5_NOIDENT (expected 1, 0, yes, no, "
	  "on or off, or no value)" },
	{ "set SOCKS5_PWDFILE etc/passwd\n", 1,
	  "invalid value 'etc/passwd' for SOCKS5_PWDFILE (expected an absolute "
	  "path of at most 4095 bytes)" },
};

static void
test_error_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
		const struct error_row *row = &error_rows[i];
		struct conf *conf = (struct conf *)1;
		struct diags dg;
		int rc;

		rc = parse(row->text, strlen(row->text),
		    CONF_PARSE_NO_ENV | CONF_PARSE_ASSUME_OWNED, &dg, &conf);
		CHECK(rc == ERR_CONFIG && conf == NULL && count_errors(&dg) == 1,
		    "error row %zu: fails with one error (rc %d, %zu errors)",
		    i, rc, count_errors(&dg));
		CHECK(dg.n > 0 && dg.d[0].is_error &&
		    strcmp(dg.d[0].file, "test.conf") == 0 &&
		    dg.d[0].line == row->line &&
		    strcmp(dg.d[0].msg, row->msg) == 0,
		    "error row %zu: test.conf:%u: %s (got %s:%u: %s)", i,
		    row->line, row->msg, dg.n ? dg.d[0].file : "",
		    dg.n ? dg.d[0].line : 0, dg.n ? dg.d[0].msg : "nothing");
	}
}

static void
test_ownership(void)
{
	const char *text = "interface - - 203.0.113.77\npermit - - - - - -\n";
	struct conf *conf;
	struct diags dg;
	int rc;

	/* 203.0.113.0/24 is TEST-NET-3: never configured on a test host. */
	rc = parse(text, strlen(text), CONF_PARSE_NO_ENV, &dg, &conf);
	CHECK(rc == ERR_CONFIG && dg.n >= 1 && dg.d[0].line == 1 &&
	    strcmp(dg.d[0].msg, "interface address 203.0.113.77 is not an "
	    "address of this host (expected one of its own addresses, or an "
	    "interface name such as eth0)") == 0,
	    "interface address not owned is an error: %s",
	    dg.n ? dg.d[0].msg : "");
	rc = parse(text, strlen(text), CONF_PARSE_NO_ENV |
	    CONF_PARSE_ASSUME_OWNED, &dg, &conf);
	CHECK(rc == 0 && count_errors(&dg) == 0,
	    "CONF_PARSE_ASSUME_OWNED skips the ownership check");
	conf_free(conf);
}

static void
test_long_and_nul(void)
{
	static const char nul_entry[] = "permit - - - - - -\nban 10.\0 -\n";
	static const char nul_comment[] = "# \0 in a comment\n"
	    "permit - - - - - -\n";
	char *text;
	struct conf *conf;
	struct diags dg;
	size_t len;
	int rc;

	/* 4096 bytes of logical line is fine; 4097 is not. */
	text = malloc(3 * 4200);
	len = (size_t)snprintf(text, 64, "permit - - - - - -");
	memset(text + len, ' ', 4096 - len);
	len = 4096;
	text[len++] = '\n';
	rc = parse(text, len, CONF_PARSE_NO_ENV, &dg, &conf);
	CHECK(rc == 0, "a 4096-byte line is accepted (rc %d)", rc);
	conf_free(conf);

	memset(text + 18, ' ', 4097 - 18);
	memcpy(text + 4097, "\npermit - - - - - -\n", 20);
	rc = parse(text, 4097 + 20, CONF_PARSE_NO_ENV, &dg, &conf);
	CHECK(rc == ERR_CONFIG && dg.n == 1 && dg.d[0].line == 1 &&
	    strcmp(dg.d[0].msg, "line longer than 4096 bytes (the limit is on "
	    "the logical line, continuation lines included)") == 0,
	    "a 4097-byte line is an error at its line: %s",
	    dg.n ? dg.d[0].msg : "");

	/* Two physical lines of 3000 bytes joined by a backslash: the
	 * logical line is too long even though neither physical one is. */
	memset(text, ' ', 3000);
	memcpy(text, "permit", 6);
	text[3000] = '\\';
	text[3001] = '\n';
	memset(text + 3002, ' ', 3000);
	text[6002] = '-';
	text[6003] = '\n';
	rc = parse(text, 6004, CONF_PARSE_NO_ENV, &dg, &conf);
	CHECK(rc == ERR_CONFIG && count_errors(&dg) == 1 &&
	    dg.d[0].line == 1 && strstr(dg.d[0].msg, "longer than 4096"),
	    "the limit applies to the joined line");
	free(text);

	rc = parse(nul_entry, sizeof(nul_entry) - 1, CONF_PARSE_NO_ENV, &dg,
	    &conf);
	CHECK(rc == ERR_CONFIG && dg.n == 1 && dg.d[0].line == 2 &&
	    strcmp(dg.d[0].msg, "NUL byte in line (expected text; is this a "
	    "binary file?)") == 0, "a NUL byte is an error at its line: %s",
	    dg.n ? dg.d[0].msg : "");
	rc = parse(nul_comment, sizeof(nul_comment) - 1, CONF_PARSE_NO_ENV,
	    &dg, &conf);
	CHECK(rc == ERR_CONFIG && dg.n == 1 && dg.d[0].line == 1,
	    "a NUL byte is an error even in a comment");
}

static void
test_all_errors(void)
{
	static const char text[] =
	    "ban 10 -\n"                          /* 1 */
	    "permit - - - - - -\n"                /* 2: fine */
	    "auth - - x\n"                        /* 3 */
	    "# comment\n"                         /* 4 */
	    "\n"                                  /* 5 */
	    "bogus\n"                             /* 6 */
	    "permit - c \\\n"                     /* 7 */
	    "   10 - - -\n"                       /* 8: joined to 7 */
	    "set SOCKS5_MAXCHILD 0\n"             /* 9 */
	    "permit x y 10 300. [2,1] 70000 a,,b\n"; /* 10: 7 errors */
	static const unsigned want_lines[] = { 1, 3, 6, 7, 9, 10, 10, 10, 10,
	    10, 10, 10 };
	struct conf *conf = (struct conf *)1;
	struct diags dg;
	size_t i, n_want = sizeof(want_lines) / sizeof(want_lines[0]);
	bool lines_ok = true;
	int rc;

	rc = parse(text, sizeof(text) - 1, CONF_PARSE_NO_ENV, &dg, &conf);
	CHECK(rc == ERR_CONFIG && conf == NULL,
	    "a file with errors fails and returns no configuration");
	CHECK(count_errors(&dg) == n_want, "every error is reported: %zu of "
	    "%zu", count_errors(&dg), n_want);
	for (i = 0; i < dg.n && i < n_want; i++)
		if (!dg.d[i].is_error || dg.d[i].line != want_lines[i])
			lines_ok = false;
	CHECK(lines_ok, "errors come in file order with the first physical "
	    "line of each entry");
	CHECK(dg.n > 5 && strstr(dg.d[4].msg, "SOCKS5_MAXCHILD") != NULL &&
	    strstr(dg.d[4].msg, "workers, 1-100000") != NULL,
	    "SOCKS5_MAXCHILD 0 is out of range: %s", dg.n > 4 ? dg.d[4].msg :
	    "");
	/* The same with no diag callback: still fails, nothing to report. */
	rc = conf_parse_flags("x", text, sizeof(text) - 1, CONF_PARSE_NO_ENV,
	    &conf, NULL, NULL);
	CHECK(rc == ERR_CONFIG && conf == NULL, "diag may be NULL");
}

static void
test_quoting(void)
{
	static const char text[] = "ban \x1b[31mred -\n";
	char long_field[300];
	struct conf *conf;
	struct diags dg;

	parse(text, sizeof(text) - 1, CONF_PARSE_NO_ENV, &dg, &conf);
	CHECK(count_errors(&dg) == 1 && strchr(dg.d[0].msg, '\x1b') == NULL &&
	    strstr(dg.d[0].msg, "'?[31mred'") != NULL,
	    "control bytes are not echoed: %s", dg.n ? dg.d[0].msg : "");
	memset(long_field, 'x', sizeof(long_field));
	memcpy(long_field, "ban ", 4);
	long_field[200] = '!';
	memcpy(long_field + 290, " -\n", 3);
	parse(long_field, 293, CONF_PARSE_NO_ENV, &dg, &conf);
	CHECK(count_errors(&dg) == 1 && strstr(dg.d[0].msg, "...'") != NULL &&
	    strlen(dg.d[0].msg) < 250, "long fields are cut in messages");
}

int
main(void)
{
	test_error_rows();
	test_ownership();
	test_long_and_nul();
	test_all_errors();
	test_quoting();
	return unit_done();
}
