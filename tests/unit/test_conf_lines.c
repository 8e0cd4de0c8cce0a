/*
 * conf_parse warnings (grammar 8) and the line rules (grammar 1.2): one row
 * per warning with its line and exact text, rows where no warning may
 * appear (the shadow check must be conservative), then continuation, CRLF,
 * comments, case and white space.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf.h"
#include "tests/unit/unit.h"

#define DIAG_MAX 32

struct diag {
	unsigned line;
	bool is_error;
	char msg[512];
};

struct diags {
	struct diag d[DIAG_MAX];
	size_t n, errors, warnings;
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
	if (dg->n == DIAG_MAX)
		return;
	dg->d[dg->n].line = line;
	dg->d[dg->n].is_error = is_error;
	snprintf(dg->d[dg->n].msg, sizeof(dg->d[dg->n].msg), "%s", msg);
	dg->n++;
}

static int
parse(const char *text, struct diags *dg, struct conf **out)
{
	memset(dg, 0, sizeof(*dg));
	return conf_parse_flags("test.conf", text, strlen(text),
	    CONF_PARSE_NO_ENV | CONF_PARSE_ASSUME_OWNED, out, collect, dg);
}

static bool
has_warning(const struct diags *dg, unsigned line, const char *msg)
{
	size_t i;

	for (i = 0; i < dg->n; i++)
		if (!dg->d[i].is_error && dg->d[i].line == line &&
		    strcmp(dg->d[i].msg, msg) == 0)
			return true;
	return false;
}

#define SHADOW(n) "this line can never match: line " #n " of the same " \
	"section matches everything it matches (same or wider patterns)"
#define P "permit - - - - - -\n"   /* keeps "no permit line" away */

struct warn_row {
	const char *text;
	unsigned line;
	const char *msg;
};

static const struct warn_row warn_rows[] = {
	{ "deny - cp - - - -\n" P, 1, "commands 'p' and 't' (ping, traceroute) "
	  "are not supported: they never match a request" },
	{ "deny - t - - - -\n" P, 1, "commands 'p' and 't' (ping, traceroute) "
	  "are not supported: they never match a request" },
	{ "deny - - 10.0.0.0/255.0.255.0 - - -\n" P, 1, "non-contiguous mask in "
	  "'10.0.0.0/255.0.255.0' (matching is a bitwise AND; write a "
	  "contiguous mask or /N unless this is intended)" },
	{ "permit - - 10. - - -\npermit - c 10.1. - - 80\n", 2, SHADOW(1) },
	{ "ban 10. -\nban 10.1.2.3 [1,5]\n" P, 2, SHADOW(1) },
	{ "auth - - u\nauth 10. - n\n" P, 2, SHADOW(1) },
	{ "interface - - 127.0.0.1\nroute 10. 80 127.0.0.2\n" P, 2,
	  SHADOW(1) },
	{ "socks5 .example.com - 10.0.0.1\nnoproxy www.Example.COM 80\n" P, 2,
	  SHADOW(1) },
	{ "deny - - - .example.com - -\ndeny - - - .a.example.com - -\n" P, 2,
	  SHADOW(1) },
	{ "permit u - - - - - alice,bob\npermit u c - - - 80 bob\n", 2,
	  SHADOW(1) },
	{ "permit - - 10. - - -\npermit - - 11. - - -\npermit - c 10.1.2.3 - - "
	  "-\n", 3, SHADOW(1) },
	{ "deny - - 10.0.0.0/8 - - -\ndeny - - 10.1.0.0/255.255.0.0 - - -\n" P,
	  2, SHADOW(1) },
	{ "deny - - 10.0.0.0/255.0.0.255 - - -\ndeny - - 10.5.5.0 - - -\n" P,
	  2, SHADOW(1) },
	{ "deny - - 2001:db8::/32 - - -\ndeny - - 2001:db8:1::/48 - - -\n" P,
	  2, SHADOW(1) },
	{ "deny - - 10. - - -\ndeny - - ::ffff:10.1.2.3 - - -\n" P, 2,
	  SHADOW(1) },
	{ "deny - - 10.1.2.3/a - - -\ndeny - - fe80::1 - - -\n" P, 2,
	  SHADOW(1) },
	{ "deny - - - - (1023,65536) -\ndeny - - - - [1024-2000] -\n" P, 2,
	  SHADOW(1) },
	{ "deny n,u - - - - -\ndeny u,n c - - - -\n" P, 2, SHADOW(1) },
	{ "set SOCKS5_TIMEOUT 5\nset SOCKS5_TIMEOUT 6\n" P, 2, "SOCKS5_TIMEOUT "
	  "is set again (already set at line 1); the later value wins" },
	{ "set SOCKS5_LOCALDNSONLY\n" P, 1, "SOCKS5_LOCALDNSONLY is a variable "
	  "of NEC's client library; the server ignores it" },
	{ "set SOCKS5_FAKEALLHOSTS 1\n" P, 1, "SOCKS5_FAKEALLHOSTS is a "
	  "variable of NEC's client library; the server ignores it" },
	{ "set SOCKS5_PIDFILE /tmp/socks5.pid\n" P, 1, "SOCKS5_PIDFILE is "
	  "ignored: socks5d runs in the foreground and writes no PID file" },
	{ "deny - - - - - -\n", 0, "no permit line: every request will be "
	  "denied" },
	{ "", 0, "no permit line: every request will be denied" },
	{ "deny - - - 10. - -\n" P "socks5 .x.org - 10.0.0.1\n", 1, "deny with "
	  "an address destination does not stop a request by name that a "
	  "socks4/socks5 line sends upstream, since such names are not "
	  "resolved here (grammar 5.3; add a deny with a name pattern or -)" },
	{ "socks4 - - 10.0.0.1\ndeny - - - 10.1.2.3 - -\n" P, 2, "deny with "
	  "an address destination does not stop a request by name that a "
	  "socks4/socks5 line sends upstream, since such names are not "
	  "resolved here (grammar 5.3; add a deny with a name pattern or -)" },
	{ "permit u - 10. - - 80\n", 1, "command '-' also permits BIND and "
	  "UDP ASSOCIATE to port 80 (write 'c' if only CONNECT is meant)" },
	{ "permit u - 10. - - [443,443]\n", 1, "command '-' also permits BIND "
	  "and UDP ASSOCIATE to port 443 (write 'c' if only CONNECT is "
	  "meant)" },
	{ "# a comment \\\n" P, 1, "comment ends with a backslash, so the next "
	  "line is part of the comment (remove the backslash if that line is "
	  "an entry)" },
};

static void
test_warn_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(warn_rows) / sizeof(warn_rows[0]); i++) {
		const struct warn_row *row = &warn_rows[i];
		struct conf *conf = NULL;
		struct diags dg;
		int rc = parse(row->text, &dg, &conf);

		CHECK(rc == 0 && conf != NULL && dg.errors == 0,
		    "warning row %zu loads (rc %d)", i, rc);
		CHECK(has_warning(&dg, row->line, row->msg),
		    "warning row %zu: test.conf:%u: %s (first: %u: %s)", i,
		    row->line, row->msg, dg.n ? dg.d[0].line : 0,
		    dg.n ? dg.d[0].msg : "none");
		conf_free(conf);
	}
}

/* Files that must load without any warning: the shadow check never calls
 * a line shadowed when some request can still reach it. */
static const char *const quiet_rows[] = {
	"permit - c 10.1. - - 80\npermit - - 10. - - -\n",
	"permit u - - - - -\npermit n - - - - -\n",
	"permit - - - - - - alice\npermit - - - - - -\n",
	"permit - - - - - - alice,bob\npermit - - - - - - bob,carol\n",
	"permit - c - - - -\npermit - b - - - -\n",
	"permit - - - .example.com - -\npermit - - - example.com - -\n",
	"permit - - - .example.com - -\npermit - - - .xexample.com - -\n",
	"permit - - - 10. - -\npermit - - - www.example.org - -\n",
	"permit - - - www.example.org - -\npermit - - - 10. - -\n",
	"permit - - 10.0.0.0/255.0.0.255 - - -\npermit - - 10.5.5.0/24 - - "
	"-\n",
	"permit - - ::/0 - - -\npermit - - - - - -\n",
	"permit - - - - [1024,2000] -\npermit - - - - (1023,2001] -\n",
	"interface - - 127.0.0.1\ninterface - - ::1\n" P,
	"noproxy - -\n" P,
	"ban 10.1. -\nban 10. -\n" P,
	"deny - - 2001:db8::/48 - - -\ndeny - - 2001:db8::/32 - - -\n" P,
	"deny - - - 10. - -\n" P,
	"deny - - - .x.org - -\nsocks5 .x.org - 10.0.0.1\n" P,
	"permit - c 10. - - 80\npermit - - 10. - - [80,81]\n",
	"permit - - 10.1.2.3/h - - -\npermit - - 10.1.2.0/n - - -\n",
	"# comment\n   # indented comment\n" P,
	/* k is a method like the others now (RFC 1961): no warning, and a
	 * k line never shadows a u line nor the reverse. */
	"auth - - k,u\n" P,
	"deny k - - - - -\n" P,
	"permit k - - - - -\npermit u - - - - -\n",
};

/* k parses to method 0x01, in the line's order, and is never part of
 * `-` (it needs a keytab: offered only where named). */
static void
test_method_k(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct conf *conf = NULL;
	struct diags dg;
	uint8_t m[4];
	size_t n = 0;
	unsigned line = 0;

	sin.sin_addr.s_addr = htonl(0x0a000001);
	CHECK(parse("auth - - k,u\n" P, &dg, &conf) == 0 && dg.n == 0,
	    "auth - - k,u loads quietly");
	CHECK(rules_auth(conf, (struct sockaddr *)&sin, m, sizeof(m), &n,
	    &line) == 0 && n == 2 && m[0] == 0x01 && m[1] == 0x02 && line == 1,
	    "k,u offers 0x01 then 0x02");
	CHECK(rules_offer_gssapi(conf), "an auth line offers k");
	conf_free(conf);
	conf = NULL;
	CHECK(parse("auth - - -\n" P, &dg, &conf) == 0, "auth - - - loads");
	CHECK(rules_auth(conf, (struct sockaddr *)&sin, m, sizeof(m), &n,
	    &line) == 0 && n == 2 && m[0] == 0x02 && m[1] == 0x00,
	    "- offers 0x02 then 0x00, not 0x01");
	CHECK(!rules_offer_gssapi(conf), "no auth line offers k");
	conf_free(conf);
}

static void
test_quiet_rows(void)
{
	size_t i;

	for (i = 0; i < sizeof(quiet_rows) / sizeof(quiet_rows[0]); i++) {
		struct conf *conf = NULL;
		struct diags dg;
		int rc = parse(quiet_rows[i], &dg, &conf);

		size_t k, others = 0;

		/* The mask warning of a non-contiguous row is expected. */
		for (k = 0; k < dg.n; k++)
			if (strncmp(dg.d[k].msg, "non-contiguous", 14) != 0)
				others++;
		CHECK(rc == 0 && others == 0, "quiet row %zu: no diagnostics "
		    "(got %zu, first %u: %s)", i, dg.n, dg.n ? dg.d[0].line : 0,
		    dg.n ? dg.d[0].msg : "");
		conf_free(conf);
	}
}

static void
expect_errors(const char *what, const char *text, size_t n, const unsigned
    *lines)
{
	struct conf *conf = NULL;
	struct diags dg;
	size_t i, k;
	bool ok;
	int rc = parse(text, &dg, &conf);

	ok = (n == 0 ? rc == 0 : rc == ERR_CONFIG) && dg.errors == n;
	for (i = 0, k = 0; ok && i < dg.n; i++)
		if (dg.d[i].is_error)
			ok = dg.d[i].line == lines[k++];
	CHECK(ok, "%s: %zu error(s) at the expected lines (got %zu, first %u: "
	    "%s)", what, n, dg.errors, dg.n ? dg.d[0].line : 0,
	    dg.n ? dg.d[0].msg : "");
	conf_free(conf);
}

static void
test_lines(void)
{
	static const unsigned l2_5[] = { 2, 5 }, l1[] = { 1 }, l2[] = { 2 },
	    l4[] = { 4 };
	struct conf *conf = NULL;
	struct diags dg;
	int rc;

	expect_errors("continued entries are numbered by their first line",
	    P "ban \\\n 10 \\\n -\nban 10 -\n", 2, l2_5);
	expect_errors("continuation joins with a space",
	    P "ban 10.\\\n1. -\n", 1, l2);   /* "ban 10. 1. -" */
	expect_errors("a backslash before CRLF continues the line",
	    "permit - - - - - \\\r\n-\r\n", 0, NULL);
	expect_errors("a backslash at the end of the file is harmless",
	    P "permit - - - - - -\\", 0, NULL);
	expect_errors("a backslash inside a line is an ordinary byte",
	    P "ban 10.\\1 -\n", 1, l2);
	expect_errors("CRLF line ends are accepted",
	    "permit - - - - - -\r\nban 10. -\r\n", 0, NULL);
	expect_errors("only a trailing CR is removed",
	    P "ban 10.\r1. -\r\n", 1, l2);
	expect_errors("comments: whole line, indented, after fields",
	    "# one\n\t# two\npermit - - - - - - # three\n", 0, NULL);
	expect_errors("'#' inside a field is not a comment",
	    "permit - - - - - -#x\n", 1, l1);
	expect_errors("tabs and runs of blanks separate fields",
	    "permit\t-  \t -\t-\t-   -\t-\t\n", 0, NULL);
	expect_errors("blank and white-space-only lines are ignored",
	    "\n   \n\t\n\r\n" P, 0, NULL);
	expect_errors("a comment swallowed by a backslash hides the next line",
	    "# x \\\nbogus\n" P "ban 10 -\n", 1, l4);
	expect_errors("the last line needs no newline", "ban 10 -", 1, l1);
	expect_errors("keywords and letters are case-insensitive",
	    "PERMIT U C 10. - - -\nBan 10.9. -\nRoute - - lo\nNoProxy - -\n"
	    "SOCKS4 .X.ORG - 10.0.0.1\nAUTH - - N,U,-\n"
	    "permit - CB,U 10.0.0.0/A - - -\nDeny - - 10.0.0.0/N - - -\n"
	    "set SOCKS5_NOIDENT ON\nset socks5_timeout 1\n", 0, NULL);

	rc = parse("permit - - - - - -", &dg, &conf);
	CHECK(rc == 0 && conf_permit_count(conf) == 1,
	    "the last line without a newline is an entry");
	conf_free(conf);
	rc = parse("permit - - - - - -\ndeny - - - - - -\npermit - c - - - -\n",
	    &dg, &conf);
	CHECK(rc == 0 && conf_permit_count(conf) == 2,
	    "conf_permit_count counts permit lines");
	conf_free(conf);
	rc = conf_parse_flags("/etc/socks5d/socks5.conf", P, strlen(P),
	    CONF_PARSE_NO_ENV, &conf, NULL, NULL);
	CHECK(rc == 0 && strcmp(conf_name(conf), "socks5.conf") == 0,
	    "conf_name is the base name");
	conf_free(conf);
	rc = conf_parse_flags("socks5.conf", NULL, 0, CONF_PARSE_NO_ENV, &conf,
	    NULL, NULL);
	CHECK(rc == 0 && conf_permit_count(conf) == 0,
	    "an empty buffer is an empty configuration");
	conf_free(conf);
}

int
main(void)
{
	test_warn_rows();
	test_quiet_rows();
	test_method_k();
	test_lines();
	return unit_done();
}
