/*
 * The sections other than access control: rules_ban, rules_auth (with the
 * "offer none only if a permit could match" rule), rules_could_permit,
 * rules_route and rules_interface; then the three example configurations
 * of conf/examples/ answering the requests the grammar's section 9 talks
 * about.
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

#define SA(ss) ((const struct sockaddr *)&(ss))

static struct conf *
parse(const char *text)
{
	struct conf *conf = NULL;

	if (conf_parse_flags("s.conf", text, strlen(text), CONF_PARSE_NO_ENV |
	    CONF_PARSE_ASSUME_OWNED, &conf, NULL, NULL) != 0)
		return NULL;
	return conf;
}

static void
test_ban(void)
{
	static const struct { const char *client; unsigned want; } rows[] = {
		{ "10.9.1.1:5000", 1 }, { "10.8.1.1:5000", 0 },
		{ "10.8.1.1:1023", 2 }, { "10.8.1.1:1024", 0 },
		{ "10.8.1.1:0", 2 }, { "[2001:db8::1]:2000", 3 },
		{ "[2001:db8::1]:2001", 0 }, { "[2001:db9::1]:2000", 0 },
		{ "[::ffff:10.9.0.1]:9999", 1 },
	};
	struct conf *conf = parse("ban 10.9. -\nban - [0,1023]\n"
	    "ban 2001:db8::/32 2000\npermit - - - - - -\n");
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct sockaddr_storage c = mk_addr(rows[i].client);
		unsigned got = conf ? rules_ban(conf, SA(c)) : 99;

		CHECK(got == rows[i].want, "ban %s: line %u (got %u)",
		    rows[i].client, rows[i].want, got);
	}
	conf_free(conf);
}

/* Expected method list as a string of codes: "\x02\x00" etc. */
static void
check_auth(struct conf *conf, const char *client, size_t max, int want_rc,
    const char *want, size_t want_n, unsigned want_line)
{
	struct sockaddr_storage c = mk_addr(client);
	uint8_t methods[4] = { 0xee, 0xee, 0xee, 0xee };
	size_t n = 99;
	unsigned line = 99;
	int rc = rules_auth(conf, SA(c), methods, max, &n, &line);

	CHECK(rc == want_rc && n == want_n && line == want_line &&
	    memcmp(methods, want, want_n) == 0 && methods[n] == 0xee,
	    "auth %s (max %zu): rc %d, %zu methods, line %u (got rc %d, "
	    "%zu: %02x %02x, line %u)", client, max, want_rc, want_n,
	    want_line, rc, n, methods[0], methods[1], line);
}

static void
test_auth(void)
{
	struct conf *conf = parse("auth 10.1. - n\nauth 10. 1080 k\n"
	    "auth 10. - u,-\nauth 11. - n,-\nauth 12. - -\nauth 13. - U,N\n"
	    "permit - - - - - -\n");

	check_auth(conf, "10.1.0.1:5", 4, 0, "\x00", 1, 1);
	/* k is offered since RFC 1961 (issue 14): 0x01. */
	check_auth(conf, "10.2.0.1:1080", 4, 0, "\x01", 1, 2);
	check_auth(conf, "10.2.0.1:5", 4, 0, "\x02\x00", 2, 3);
	check_auth(conf, "11.0.0.1:5", 4, 0, "\x00\x02", 2, 4);
	check_auth(conf, "11.0.0.1:5", 1, 0, "\x00", 1, 4);
	check_auth(conf, "12.0.0.1:5", 4, 0, "\x02\x00", 2, 5);
	check_auth(conf, "13.0.0.1:5", 4, 0, "\x02\x00", 2, 6);
	check_auth(conf, "[::ffff:10.1.0.1]:5", 4, 0, "\x00", 1, 1);
	check_auth(conf, "14.0.0.1:5", 4, ERR_DENIED, "", 0, 0);
	conf_free(conf);

	/* No auth line: 0x02 always, 0x00 only where a permit could match
	 * a method-n request from this client (SPEC). */
	conf = parse("permit u c - - - -\npermit n c 10. - - -\n");
	check_auth(conf, "10.0.0.1:5", 4, 0, "\x02\x00", 2, 0);
	check_auth(conf, "11.0.0.1:5", 4, 0, "\x02", 1, 0);
	check_auth(conf, "10.0.0.1:5", 1, 0, "\x02", 1, 0);
	conf_free(conf);
	conf = parse("deny n - 10. - - -\npermit - - - - - -\n");
	check_auth(conf, "10.0.0.1:5", 4, 0, "\x02", 1, 0);
	check_auth(conf, "11.0.0.1:5", 4, 0, "\x02\x00", 2, 0);
	conf_free(conf);
	conf = parse("deny n c 10. - - -\npermit - - - - - -\n");
	check_auth(conf, "10.0.0.1:5", 4, 0, "\x02\x00", 2, 0);
	conf_free(conf);
	conf = parse("deny - - - - - -\n");
	check_auth(conf, "10.0.0.1:5", 4, 0, "\x02", 1, 0);
	conf_free(conf);
}

static void
check_could(const char *text, const char *client, enum conf_auth method,
    bool with_user, bool want)
{
	struct conf *conf = parse(text);
	struct sockaddr_storage c = mk_addr(client);
	bool got = conf != NULL && rules_could_permit(conf, SA(c), method,
	    with_user);
	char shown[256];
	size_t i;

	/* TAP descriptions are one line. */
	snprintf(shown, sizeof(shown), "%s", text);
	for (i = 0; shown[i] != '\0'; i++)
		if (shown[i] == '\n')
			shown[i] = '|';
	CHECK(conf != NULL && got == want, "could_permit(%s, %s%s) on '%s' "
	    "is %s", client, method == CONF_AUTH_NONE ? "n" : "u",
	    with_user ? ", with_user" : "", shown, want ? "true" : "false");
	conf_free(conf);
}

static void
test_could_permit(void)
{
	const bool T = true, F = false;
	const enum conf_auth N = CONF_AUTH_NONE, U = CONF_AUTH_USERPASS;

	check_could("permit n c 10. - - -\n", "10.0.0.1:1", N, F, T);
	check_could("permit n c 10. - - -\n", "11.0.0.1:1", N, F, F);
	check_could("permit n c 10. - - -\n", "10.0.0.1:1", U, F, F);
	check_could("permit - c 10. - - 80\n", "10.0.0.1:1", U, F, T);
	check_could("permit n c - - 1000 -\n", "10.0.0.1:999", N, F, F);
	check_could("permit n p - - - -\n", "10.0.0.1:1", N, F, F);
	check_could("deny n - 10. - - -\npermit n - - - - -\n", "10.0.0.1:1",
	    N, F, F);
	check_could("deny n c 10. - - -\npermit n - - - - -\n", "10.0.0.1:1",
	    N, F, T);
	check_could("deny n - 10. 10. - -\npermit n - - - - -\n",
	    "10.0.0.1:1", N, F, T);
	check_could("deny n - 10. - - - bob\npermit n - - - - -\n",
	    "10.0.0.1:1", N, F, T);
	check_could("permit n c .corp - - -\n", "10.0.0.1:1", N, F, F);
	check_could("set SOCKS5_REVERSEMAP\npermit n c .corp - - -\n",
	    "10.0.0.1:1", N, F, T);
	/* with_user: does a line with a user list stay reachable? */
	check_could("permit n c 10. - - - alice\n", "10.0.0.1:1", N, T, T);
	check_could("permit n c 10. - - -\n", "10.0.0.1:1", N, T, F);
	check_could("permit n - 10. - - -\npermit n c 10. - - - alice\n",
	    "10.0.0.1:1", N, T, F);
	check_could("permit n c 10. - - -\npermit n c 10. - - - alice\n",
	    "10.0.0.1:1", N, T, T);
	check_could("deny n - - - - - bob\npermit n - - - - -\n",
	    "10.0.0.1:1", N, T, T);
	check_could("permit u - - - - - alice\n", "10.0.0.1:1", N, T, F);
}

static void
test_route(void)
{
	struct conf *conf = parse(
	    "socks5 .corp.example - 10.0.0.1,[2001:db8::1]:1081,"
	    "proxy.example:socks\n"
	    "socks4 10. 80 10.0.0.2:1090\n"
	    "noproxy - 22\n"
	    "socks5 - - 10.0.0.3\n"
	    "permit - - - - - -\n");
	struct sockaddr_storage a = mk_addr("10.1.1.1");
	struct rules_dest d;
	struct rules_route r;

	memset(&d, 0, sizeof(d));
	d.name = "a.Corp.example";
	d.port = 443;
	rules_route(conf, &d, &r);
	CHECK(r.kind == ROUTE_SOCKS5 && r.line == 1 && r.n_upstreams == 3 &&
	    strcmp(r.upstreams[0].host, "10.0.0.1") == 0 &&
	    r.upstreams[0].port == 1080 &&
	    strcmp(r.upstreams[1].host, "2001:db8::1") == 0 &&
	    r.upstreams[1].port == 1081 &&
	    strcmp(r.upstreams[2].host, "proxy.example") == 0 &&
	    r.upstreams[2].port == 1080, "route by name: socks5, three "
	    "upstreams in order, default port 1080");
	d.addr = SA(a);
	d.port = 80;
	rules_route(conf, &d, &r);
	CHECK(r.kind == ROUTE_SOCKS5 && r.line == 1,
	    "a name is routed by the name even if an address is known");
	d.name = "x.org";
	rules_route(conf, &d, &r);
	CHECK(r.kind == ROUTE_SOCKS5 && r.line == 4,
	    "route by name: address patterns cannot match a name (5.1)");
	d.name = NULL;
	rules_route(conf, &d, &r);
	CHECK(r.kind == ROUTE_SOCKS4 && r.line == 2 && r.n_upstreams == 1 &&
	    r.upstreams[0].port == 1090, "route by address: socks4");
	d.port = 22;
	rules_route(conf, &d, &r);
	CHECK(r.kind == ROUTE_DIRECT && r.line == 3 && r.n_upstreams == 0,
	    "noproxy: direct, with its line");
	conf_free(conf);
	conf = parse("socks5 .x - 10.0.0.1\npermit - - - - - -\n");
	d.name = "y.org";
	rules_route(conf, &d, &r);
	CHECK(r.kind == ROUTE_DIRECT && r.line == 0 && r.upstreams == NULL,
	    "no proxy line matches: direct, line 0");
	conf_free(conf);
}

/* Expected local address "a.b.c.d" or "v6", or NULL for no match. */
static void
check_iface(struct conf *conf, const char *peer, const char *name,
    uint16_t port, int want_family, const char *want)
{
	struct sockaddr_storage p = mk_addr(peer != NULL ? peer : "none"),
	    local;
	char text[64] = "";
	bool got;

	memset(&local, 0xaa, sizeof(local));
	got = rules_interface(conf, peer != NULL ? SA(p) : NULL, name, port,
	    &local);
	if (got && local.ss_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, &local, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, text, sizeof(text));
		got = sin.sin_port == 0;
	} else if (got && local.ss_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, &local, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof(text));
		got = sin6.sin6_port == 0;
	}
	CHECK(want == NULL ? !got : got && local.ss_family == want_family &&
	    strcmp(text, want) == 0, "interface for %s %s port %u: %s (got %s)",
	    peer ? peer : "-", name ? name : "-", port, want ? want : "none",
	    text);
}

static void
test_interface(void)
{
	struct conf *conf = parse(
	    "interface 10. - 127.0.0.5\n"
	    "interface .lan 22 lo\n"
	    "route 2001:db8::/32 - ::1\n"
	    "interface 192.0.2. - ::1\n"
	    "interface - - 127.0.0.9\n"
	    "permit - - - - - -\n");

	check_iface(conf, "10.1.1.1", NULL, 80, AF_INET, "127.0.0.5");
	check_iface(conf, "192.0.2.9", "host.lan", 22, AF_INET, "127.0.0.1");
	check_iface(conf, "192.0.2.9", "host.lan", 23, AF_INET, "127.0.0.9");
	check_iface(conf, "2001:db8::5", NULL, 1, AF_INET6, "::1");
	check_iface(conf, "2001:db9::5", NULL, 1, 0, NULL);
	/* An IPv6 interface address is no use towards an IPv4 peer. */
	check_iface(conf, "192.0.2.9", NULL, 1, AF_INET, "127.0.0.9");
	check_iface(conf, "::ffff:10.1.1.1", NULL, 1, AF_INET6,
	    "::ffff:127.0.0.5");
	check_iface(conf, NULL, NULL, 80, AF_INET, "127.0.0.9");
	check_iface(conf, NULL, "x.lan", 22, AF_INET, "127.0.0.1");
	conf_free(conf);
	conf = parse("permit - - - - - -\n");
	check_iface(conf, "10.1.1.1", NULL, 80, 0, NULL);
	conf_free(conf);
}

int
main(void)
{
	test_ban();
	test_auth();
	test_could_permit();
	test_route();
	test_interface();
	return unit_done();
}
