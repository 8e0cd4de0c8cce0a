/*
 * rules_access, table-driven (STYLE 9): rows of (client, method, command,
 * destination, port, user) -> decision and line, against small
 * configurations.  At least one row per host pattern form and per boundary:
 * prefix and mask edges, suffix versus exact name, IPv4-mapped IPv6, port
 * range ends, method and command letters, user lists, first match, the
 * default deny, and grammar 5's name/address rules.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf.h"
#include "tests/unit/addr_fixture.h"
#include "tests/unit/unit.h"

struct row {
	const char *client;
	char method;          /* n u k */
	char cmd;             /* c b u p t */
	const char *name;     /* destination name, or NULL */
	const char *addr;     /* destination address, or NULL */
	uint16_t port;
	const char *user;
	int want;             /* permit at line N: N; deny at N: -N; default: 0 */
};

struct table {
	const char *conf;
	const struct row *rows;
	size_t n_rows;
};

/* Every host pattern form, on the destination side (lines 1-20). */
static const char conf_hosts[] =
    "permit - c - 10.1.2.3 - -\n"                 /* 1 */
    "permit - c - 10.2. - -\n"                    /* 2 */
    "permit - c - 10.3.4. - -\n"                  /* 3 */
    "permit - c - 10.5.6.7/255.255.0.0 - -\n"     /* 4 */
    "permit - c - 10.6.0.0/255.0.255.0 - -\n"     /* 5: non-contiguous */
    "permit - c - 10.7.0.0/16 - -\n"              /* 6 */
    "permit - c - 11. - -\n"                      /* 7 */
    "permit - c - 2001:db8::/32 - -\n"            /* 8 */
    "permit - c - ::1 - -\n"                      /* 9 */
    "permit - c - fe80::/10 - -\n"                /* 10 */
    "permit - c - .example.com - -\n"             /* 11 */
    "permit - c - www.example.org - -\n"          /* 12 */
    "permit - c - 12.1.2.3/h - -\n"               /* 13 */
    "permit - c - 12.1.0.0/n - -\n"               /* 14: class A */
    "permit - c - 172.16.5.5/N - -\n"             /* 15: class B */
    "permit - c - 192.168.7.7/n - -\n"            /* 16: class C */
    "permit - c - ::ffff:13.0.0.0/104 - -\n"      /* 17 */
    "permit - c - 0.0.0.0/0 - -\n"                /* 18: every IPv4 */
    "permit - c - 2001:db9::/32 - -\n"            /* 19: after 18 */
    "deny - c - - - -\n";                         /* 20 */

#define C "10.0.0.1:40000"
static const struct row rows_hosts[] = {
	{ C, 'n', 'c', NULL, "10.1.2.3", 80, NULL, 1 },
	{ C, 'n', 'c', NULL, "10.1.2.4", 80, NULL, 18 },
	{ C, 'n', 'c', NULL, "10.2.0.0", 80, NULL, 2 },
	{ C, 'n', 'c', NULL, "10.2.255.255", 80, NULL, 2 },
	{ C, 'n', 'c', NULL, "10.3.4.200", 80, NULL, 3 },
	{ C, 'n', 'c', NULL, "10.3.5.1", 80, NULL, 18 },
	{ C, 'n', 'c', NULL, "10.5.200.1", 80, NULL, 4 },
	{ C, 'n', 'c', NULL, "10.4.0.1", 80, NULL, 5 },
	{ C, 'n', 'c', NULL, "10.99.0.255", 80, NULL, 5 },
	{ C, 'n', 'c', NULL, "10.4.1.1", 80, NULL, 18 },
	{ C, 'n', 'c', NULL, "10.7.255.255", 80, NULL, 6 },
	{ C, 'n', 'c', NULL, "10.8.1.0", 80, NULL, 18 },
	{ C, 'n', 'c', NULL, "11.0.0.0", 80, NULL, 7 },
	{ C, 'n', 'c', NULL, "11.255.255.255", 80, NULL, 7 },
	{ C, 'n', 'c', NULL, "2001:db8:ffff::1", 80, NULL, 8 },
	{ C, 'n', 'c', NULL, "2001:db9::1", 80, NULL, 19 },
	{ C, 'n', 'c', NULL, "2001:dba::1", 80, NULL, -20 },
	{ C, 'n', 'c', NULL, "::1", 80, NULL, 9 },
	{ C, 'n', 'c', NULL, "::2", 80, NULL, -20 },
	{ C, 'n', 'c', NULL, "fe80::1", 80, NULL, 10 },
	{ C, 'n', 'c', NULL, "febf:ffff::1", 80, NULL, 10 },
	{ C, 'n', 'c', NULL, "fec0::1", 80, NULL, -20 },
	{ C, 'n', 'c', "www.example.com", NULL, 80, NULL, 11 },
	{ C, 'n', 'c', "WWW.Example.COM.", NULL, 80, NULL, 11 },
	{ C, 'n', 'c', "a.b.example.com", NULL, 80, NULL, 11 },
	/* a plain suffix test, leading dot included (grammar 3.1) */
	{ C, 'n', 'c', ".example.com", NULL, 80, NULL, 11 },
	{ C, 'n', 'c', "example.com", NULL, 80, NULL, -20 },
	{ C, 'n', 'c', "xexample.com", NULL, 80, NULL, -20 },
	{ C, 'n', 'c', "www.example.com.evil", NULL, 80, NULL, -20 },
	{ C, 'n', 'c', "www.example.org", NULL, 80, NULL, 12 },
	{ C, 'n', 'c', "www.example.org.", NULL, 80, NULL, 12 },
	{ C, 'n', 'c', "a.www.example.org", NULL, 80, NULL, -20 },
	{ C, 'n', 'c', "ww.example.org", NULL, 80, NULL, -20 },
	{ C, 'n', 'c', NULL, "12.1.2.3", 80, NULL, 13 },
	{ C, 'n', 'c', NULL, "12.9.9.9", 80, NULL, 14 },
	{ C, 'n', 'c', NULL, "172.16.200.1", 80, NULL, 15 },
	{ C, 'n', 'c', NULL, "172.17.0.1", 80, NULL, 18 },
	{ C, 'n', 'c', NULL, "192.168.7.99", 80, NULL, 16 },
	{ C, 'n', 'c', NULL, "192.168.8.1", 80, NULL, 18 },
	{ C, 'n', 'c', NULL, "13.1.1.1", 80, NULL, 17 },
	/* IPv4-mapped IPv6 destinations match IPv4 patterns. */
	{ C, 'n', 'c', NULL, "::ffff:13.1.1.1", 80, NULL, 17 },
	{ C, 'n', 'c', NULL, "::ffff:10.1.2.3", 80, NULL, 1 },
	{ C, 'n', 'c', NULL, "::ffff:10.3.4.1", 80, NULL, 3 },
	/* Grammar 5: a name never matches an address pattern, even when it
	 * is written like an address; with its resolved address it does. */
	{ C, 'n', 'c', "10.1.2.3", NULL, 80, NULL, -20 },
	{ C, 'n', 'c', "host.other.net", "10.2.0.1", 80, NULL, 2 },
	{ C, 'n', 'c', "www.example.org", "10.1.2.3", 80, NULL, 1 },
	{ C, 'n', 'c', NULL, NULL, 80, NULL, -20 },
};

/* Ports, methods, commands, users, first match, default deny. */
static const char conf_fields[] =
    "permit u c 10. - - 80\n"                     /* 1 */
    "permit n c 10. - - [1024,2047]\n"            /* 2 */
    "permit n c 10. - - (3000,3010)\n"            /* 3 */
    "permit n c 10. - - [4000,4010)\n"            /* 4 */
    "permit n c 10. - - (5000,5010]\n"            /* 5 */
    "permit n c 10. - - [6000-6010]\n"            /* 6 */
    "permit n c 10. - - http\n"                   /* 7 */
    "permit - b 10. - - -\n"                      /* 8 */
    "permit - cb,U 11. - - -\n"                   /* 9 */
    "permit u c 12. - - - alice,bob\n"            /* 10 */
    "deny u c 12. - - -\n"                        /* 11 */
    "permit n c 13. - [1000,2000] -\n"            /* 12 */
    "deny - c 14. - - -\n"                        /* 13 */
    "permit - c 14.1. - - -\n"                    /* 14: shadowed */
    "permit N,u u 15. - - -\n"                    /* 15 */
    "permit - c 16. - (-1,1] -\n"                 /* 16 */
    "permit - c 16. - - [65535,65536)\n";         /* 17 */

static const struct row rows_fields[] = {
	{ "10.0.0.1:1", 'u', 'c', NULL, "10.9.9.9", 80, NULL, 1 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 80, NULL, 7 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 1023, NULL, 0 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 1024, NULL, 2 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 2047, NULL, 2 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 2048, NULL, 0 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 3000, NULL, 0 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 3001, NULL, 3 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 3009, NULL, 3 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 3010, NULL, 0 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 4000, NULL, 4 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 4009, NULL, 4 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 4010, NULL, 0 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 5000, NULL, 0 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 5001, NULL, 5 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 5010, NULL, 5 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 6000, NULL, 6 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 6010, NULL, 6 },
	{ "10.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 6011, NULL, 0 },
	{ "10.0.0.1:1", 'n', 'b', NULL, "10.9.9.9", 6011, NULL, 8 },
	{ "10.0.0.1:1", 'n', 'u', NULL, "0.0.0.0", 0, NULL, 0 },
	{ "11.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 1, NULL, 9 },
	{ "11.0.0.1:1", 'u', 'b', NULL, "10.9.9.9", 1, NULL, 9 },
	{ "11.0.0.1:1", 'u', 'u', NULL, "10.9.9.9", 1, NULL, 9 },
	{ "11.0.0.1:1", 'n', 'p', NULL, "10.9.9.9", 1, NULL, 0 },
	{ "11.0.0.1:1", 'n', 't', NULL, "10.9.9.9", 1, NULL, 0 },
	{ "12.0.0.1:1", 'u', 'c', "x.org", NULL, 1, "alice", 10 },
	{ "12.0.0.1:1", 'u', 'c', "x.org", NULL, 1, "bob", 10 },
	{ "12.0.0.1:1", 'u', 'c', "x.org", NULL, 1, "Alice", -11 },
	{ "12.0.0.1:1", 'u', 'c', "x.org", NULL, 1, "alic", -11 },
	{ "12.0.0.1:1", 'u', 'c', "x.org", NULL, 1, NULL, -11 },
	{ "13.0.0.1:999", 'n', 'c', "x.org", NULL, 1, NULL, 0 },
	{ "13.0.0.1:1000", 'n', 'c', "x.org", NULL, 1, NULL, 12 },
	{ "13.0.0.1:2000", 'n', 'c', "x.org", NULL, 1, NULL, 12 },
	{ "13.0.0.1:2001", 'n', 'c', "x.org", NULL, 1, NULL, 0 },
	{ "14.1.1.1:1", 'n', 'c', "x.org", NULL, 1, NULL, -13 },
	{ "15.0.0.1:1", 'n', 'u', NULL, "10.9.9.9", 1, NULL, 15 },
	{ "15.0.0.1:1", 'k', 'u', NULL, "10.9.9.9", 1, NULL, 0 },
	{ "15.0.0.1:1", 'u', 'c', NULL, "10.9.9.9", 1, NULL, 0 },
	{ "16.0.0.1:0", 'n', 'c', NULL, "10.9.9.9", 7, NULL, 16 },
	{ "16.0.0.1:1", 'n', 'c', NULL, "10.9.9.9", 7, NULL, 16 },
	{ "16.0.0.1:2", 'n', 'c', NULL, "10.9.9.9", 65534, NULL, 0 },
	{ "16.0.0.1:2", 'n', 'c', NULL, "10.9.9.9", 65535, NULL, 17 },
	{ "17.0.0.1:1", 'u', 'c', NULL, "10.9.9.9", 80, NULL, 0 },
	/* The client side: an IPv4-mapped IPv6 client is an IPv4 client. */
	{ "[::ffff:10.0.0.1]:1", 'u', 'c', NULL, "10.9.9.9", 80, NULL, 1 },
	{ "[::ffff:12.0.0.1]:1", 'u', 'c', NULL, NULL, 1, "bob", 10 },
	{ "[2001:db8::1]:1", 'u', 'c', NULL, "10.9.9.9", 80, NULL, 0 },
};

/* Grammar 5: chained names, resolved names, addresses. */
static const char conf_names[] =
    "socks5 .up.example - 10.0.0.1\n"             /* 1 */
    "permit - c - 10.5. - -\n"                    /* 2 */
    "deny - c - .blocked.example - -\n"           /* 3 */
    "permit - c - .up.example - 443\n"            /* 4 */
    "deny - c - - - -\n";                         /* 5 */

static const struct row rows_names[] = {
	/* chained (5.3): name only, address patterns cannot match */
	{ C, 'n', 'c', "a.up.example", NULL, 80, NULL, -5 },
	{ C, 'n', 'c', "a.up.example", NULL, 443, NULL, 4 },
	/* direct and resolved (5.2): name or address */
	{ C, 'n', 'c', "www.other", "10.5.0.1", 80, NULL, 2 },
	{ C, 'n', 'c', "x.blocked.example", "10.6.0.1", 80, NULL, -3 },
	{ C, 'n', 'c', "x.blocked.example", "10.5.0.1", 80, NULL, 2 },
	/* by address (5.4): name patterns cannot match */
	{ C, 'n', 'c', NULL, "10.5.9.9", 80, NULL, 2 },
	{ C, 'n', 'c', NULL, "10.6.9.9", 443, NULL, -5 },
};

static const struct table tables[] = {
	{ conf_hosts, rows_hosts, sizeof(rows_hosts) / sizeof(rows_hosts[0]) },
	{ conf_fields, rows_fields,
	  sizeof(rows_fields) / sizeof(rows_fields[0]) },
	{ conf_names, rows_names, sizeof(rows_names) / sizeof(rows_names[0]) },
};

static enum conf_auth
method_bit(char m)
{
	return m == 'n' ? CONF_AUTH_NONE : m == 'u' ? CONF_AUTH_USERPASS :
	    CONF_AUTH_GSSAPI;
}

static enum conf_cmd
cmd_bit(char c)
{
	switch (c) {
	case 'c': return CONF_CMD_CONNECT;
	case 'b': return CONF_CMD_BIND;
	case 'u': return CONF_CMD_UDP;
	case 'p': return CONF_CMD_PING;
	default: return CONF_CMD_TRACE;
	}
}

static void
run_table(size_t t)
{
	const struct table *tab = &tables[t];
	struct conf *conf = NULL;
	size_t i;
	int rc;

	rc = conf_parse_flags("rules.conf", tab->conf, strlen(tab->conf),
	    CONF_PARSE_NO_ENV, &conf, NULL, NULL);
	CHECK(rc == 0, "table %zu loads", t);
	if (rc != 0)
		return;
	for (i = 0; i < tab->n_rows; i++) {
		const struct row *r = &tab->rows[i];
		struct sockaddr_storage client = mk_addr(r->client);
		struct sockaddr_storage dst;
		struct rules_request req;
		struct rules_verdict v = { true, 12345 };
		int got;

		memset(&req, 0, sizeof(req));
		req.client = (const struct sockaddr *)&client;
		req.method = method_bit(r->method);
		req.cmd = cmd_bit(r->cmd);
		req.dest.name = r->name;
		if (r->addr != NULL) {
			dst = mk_addr(r->addr);
			req.dest.addr = (const struct sockaddr *)&dst;
		}
		req.dest.port = r->port;
		req.user = r->user;
		rules_access(conf, &req, &v);
		got = v.line == 0 ? (v.permit ? 99999 : 0) :
		    v.permit ? (int)v.line : -(int)v.line;
		CHECK(got == r->want, "table %zu row %zu: %s %c%c -> %s %s:%u "
		    "user %s: want %d, got %d", t, i, r->client, r->method,
		    r->cmd, r->name ? r->name : "-", r->addr ? r->addr : "-",
		    r->port, r->user ? r->user : "-", r->want, got);
	}
	conf_free(conf);
}

/* Grammar 5.4, 5.5: PTR names count only under SOCKS5_REVERSEMAP. */
static void
test_reversemap(void)
{
	static const char body[] =
	    "permit - c .corp.example - - -\n"
	    "permit - c - .dest.example - -\n";
	char text[256];
	struct sockaddr_storage client = mk_addr("10.0.0.1:5"),
	    dst = mk_addr("10.1.1.1");
	struct rules_request req;
	struct rules_verdict v;
	struct conf *on = NULL, *off = NULL;

	snprintf(text, sizeof(text), "set SOCKS5_REVERSEMAP\n%s", body);
	conf_parse_flags("r", text, strlen(text), CONF_PARSE_NO_ENV, &on,
	    NULL, NULL);
	conf_parse_flags("r", body, strlen(body), CONF_PARSE_NO_ENV, &off,
	    NULL, NULL);
	memset(&req, 0, sizeof(req));
	req.client = (const struct sockaddr *)&client;
	req.method = CONF_AUTH_NONE;
	req.cmd = CONF_CMD_CONNECT;
	req.dest.addr = (const struct sockaddr *)&dst;
	req.client_name = "pc.corp.example";
	rules_access(on, &req, &v);
	CHECK(v.permit && v.line == 2, "REVERSEMAP: the client's PTR name "
	    "matches a source name pattern");
	rules_access(off, &req, &v);
	CHECK(!v.permit && v.line == 0, "without REVERSEMAP it does not");
	req.client_name = NULL;
	req.dest.ptr_name = "www.dest.example";
	rules_access(on, &req, &v);
	CHECK(v.permit && v.line == 3, "REVERSEMAP: the destination's PTR "
	    "name matches a destination name pattern");
	rules_access(off, &req, &v);
	CHECK(!v.permit && v.line == 0, "without REVERSEMAP it does not");
	conf_free(on);
	conf_free(off);
}

int
main(void)
{
	size_t t;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		run_table(t);
	test_reversemap();
	return unit_done();
}
