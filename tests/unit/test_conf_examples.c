/*
 * The example configurations of conf/examples/ (the seed paper's three
 * gateways, grammar section 9): each loads without an error or warning when
 * the interface addresses are taken as owned, and answers the requests the
 * grammar's notes describe, including the repaired Socks-D1 defect.
 * Run from the top of the tree (make check does).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf.h"
#include "tests/unit/unit.h"

struct diags {
	size_t n;
	char first[512];
};

static void
collect(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	struct diags *dg = ctx;

	if (dg->n++ == 0)
		snprintf(dg->first, sizeof(dg->first), "%s:%u: %s%s", file,
		    line, is_error ? "" : "warning: ", msg);
}

/* The number of the line of path that reads exactly text, or 0. */
static unsigned
line_of(const char *path, const char *text)
{
	char buf[512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		n++;
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, text) == 0) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

static struct conf *
load(const char *path)
{
	struct conf *conf = NULL;
	struct diags dg = { 0, "" };
	int rc;

	rc = conf_load_flags(path, CONF_PARSE_ASSUME_OWNED | CONF_PARSE_NO_ENV,
	    &conf, collect, &dg);
	CHECK(rc == 0 && dg.n == 0, "%s loads cleanly (rc %d, %s)", path, rc,
	    dg.first);
	return conf;
}

static struct sockaddr_in
v4(const char *addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	inet_pton(AF_INET, addr, &sin.sin_addr);
	return sin;
}

/* rules_access for one request; returns +line, -line or 0. */
static int
decide(const struct conf *conf, const char *client, enum conf_auth method,
    enum conf_cmd cmd, const char *name, const char *addr, uint16_t port)
{
	struct sockaddr_in c = v4(client, 40000), d = v4(addr ? addr : "0", 0);
	struct rules_request req;
	struct rules_verdict v;

	memset(&req, 0, sizeof(req));
	req.client = (const struct sockaddr *)&c;
	req.method = method;
	req.cmd = cmd;
	req.dest.name = name;
	req.dest.addr = addr != NULL ? (const struct sockaddr *)&d : NULL;
	req.dest.port = port;
	rules_access(conf, &req, &v);
	return v.permit ? (int)v.line : -(int)v.line;
}

static void
test_int1(void)
{
	const char *path = "conf/examples/socks-int1.conf";
	struct conf *conf = load(path);
	unsigned permit = line_of(path, "permit u c 10. - - 80");
	struct sockaddr_in c = v4("10.20.30.40", 5000), peer;
	struct sockaddr_storage local;
	uint8_t methods[4];
	size_t n;
	unsigned line;

	if (conf == NULL)
		return;
	CHECK(rules_auth(conf, (const struct sockaddr *)&c, methods, 4, &n,
	    &line) == 0 && n == 1 && methods[0] == 0x02 &&
	    line == line_of(path, "auth - - u"),
	    "Int1: username/password only");
	CHECK(decide(conf, "10.20.30.40", CONF_AUTH_USERPASS, CONF_CMD_CONNECT,
	    "www.example.com", "93.184.216.34", 80) == (int)permit,
	    "Int1: CONNECT to port 80 from 10/8 is permitted");
	CHECK(decide(conf, "10.20.30.40", CONF_AUTH_USERPASS, CONF_CMD_CONNECT,
	    "www.example.com", "93.184.216.34", 443) == 0,
	    "Int1: port 443 is denied by default");
	CHECK(decide(conf, "10.20.30.40", CONF_AUTH_USERPASS, CONF_CMD_BIND,
	    NULL, "93.184.216.34", 80) == 0, "Int1: BIND is denied");
	CHECK(decide(conf, "192.0.2.7", CONF_AUTH_USERPASS, CONF_CMD_CONNECT,
	    NULL, "93.184.216.34", 80) == 0, "Int1: outsiders are denied");
	peer = v4("10.1.1.1", 0);
	CHECK(rules_interface(conf, (const struct sockaddr *)&peer, NULL, 80,
	    &local) && local.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&local)->sin_addr.s_addr ==
	    v4("10.0.3.1", 0).sin_addr.s_addr,
	    "Int1: internal peers are reached from 10.0.3.1");
	peer = v4("93.184.216.34", 0);
	CHECK(rules_interface(conf, (const struct sockaddr *)&peer, NULL, 80,
	    &local) && ((struct sockaddr_in *)&local)->sin_addr.s_addr ==
	    v4("198.51.100.1", 0).sin_addr.s_addr,
	    "Int1: the rest from the outside address");
	conf_free(conf);
}

static void
test_d1(void)
{
	const char *path = "conf/examples/socks-d1.conf";
	struct conf *conf = load(path);
	unsigned by_addr = line_of(path, "permit - - 10. 192.168. - -");
	unsigned by_name = line_of(path, "permit - c 10. .private-net.org - -");
	struct rules_dest d;
	struct rules_route r;

	if (conf == NULL)
		return;
	memset(&d, 0, sizeof(d));
	d.name = "db.private-net.org";
	d.port = 5432;
	rules_route(conf, &d, &r);
	CHECK(r.kind == ROUTE_SOCKS5 && r.n_upstreams == 1 &&
	    strcmp(r.upstreams[0].host, "192.168.100.2") == 0 &&
	    r.upstreams[0].port == 1080 &&
	    r.line == line_of(path, "socks5 .private-net.org - 192.168.100.2"),
	    "D1: *.private-net.org is chained to P1:1080");
	/* The defect: chained, so unresolved, so only a name can match. */
	CHECK(by_name != 0 && decide(conf, "10.1.1.1", CONF_AUTH_NONE,
	    CONF_CMD_CONNECT, "db.private-net.org", NULL, 5432) ==
	    (int)by_name, "D1: the chained name is permitted by the added "
	    "line");
	CHECK(decide(conf, "10.1.1.1", CONF_AUTH_NONE, CONF_CMD_CONNECT, NULL,
	    "192.168.100.7", 22) == (int)by_addr,
	    "D1: the subsidiary by address is permitted");
	CHECK(decide(conf, "10.1.1.1", CONF_AUTH_NONE, CONF_CMD_CONNECT, NULL,
	    "192.168.200.7", 22) == (int)by_addr,
	    "D1: 192.168. is a /16, as the notes say");
	CHECK(decide(conf, "10.1.1.1", CONF_AUTH_NONE, CONF_CMD_CONNECT,
	    "private-net.org", NULL, 80) == 0,
	    "D1: the bare name private-net.org is not covered");
	CHECK(decide(conf, "10.1.1.1", CONF_AUTH_NONE, CONF_CMD_BIND,
	    "db.private-net.org", NULL, 5432) == 0,
	    "D1: the added line is CONNECT only");
	conf_free(conf);
}

static void
test_p1(void)
{
	const char *path = "conf/examples/socks-p1.conf";
	struct conf *conf = load(path);
	unsigned permit = line_of(path,
	    "permit - - 192.168.100. .private-net.org - -");

	if (conf == NULL)
		return;
	CHECK(decide(conf, "192.168.100.1", CONF_AUTH_NONE, CONF_CMD_CONNECT,
	    "db.private-net.org", "172.31.0.10", 5432) == (int)permit,
	    "P1: a name it resolves itself is permitted (5.2)");
	CHECK(decide(conf, "192.168.100.1", CONF_AUTH_NONE, CONF_CMD_CONNECT,
	    NULL, "172.31.0.10", 5432) == 0,
	    "P1: the same host by address is denied");
	CHECK(decide(conf, "192.168.101.1", CONF_AUTH_NONE, CONF_CMD_CONNECT,
	    "db.private-net.org", "172.31.0.10", 5432) == 0,
	    "P1: clients outside 192.168.100.0/24 are denied");
	conf_free(conf);
}

int
main(void)
{
	test_int1();
	test_d1();
	test_p1();
	return unit_done();
}
