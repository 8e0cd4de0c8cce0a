/*
 * The client side of the SOCKS codec (what a worker says to an upstream and
 * parses back): every reply parser over a table of valid, truncated,
 * wrong-version and oversized inputs, and the encoders' exact bytes.
 */
#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/socks_client.h"
#include "common/wr.h"
#include "unit.h"

enum parser { P_METHOD, P_USERPASS, P_REPLY5, P_REPLY4 };

struct reply_case {
	const char *what;
	enum parser p;
	size_t len;
	uint8_t msg[300];
	int want;          /* 0, ERR_PROTO */
	uint8_t code;      /* method, status or REP when want == 0 */
};

static const struct reply_case cases[] = {
	{ "method none", P_METHOD, 2, { 5, 0 }, 0, 0 },
	{ "method userpass", P_METHOD, 2, { 5, 2 }, 0, 2 },
	{ "method no acceptable", P_METHOD, 2, { 5, 0xff }, 0, 0xff },
	{ "method reply version 4", P_METHOD, 2, { 4, 0 }, ERR_PROTO, 0 },
	{ "userpass ok", P_USERPASS, 2, { 1, 0 }, 0, 0 },
	{ "userpass refused", P_USERPASS, 2, { 1, 1 }, 0, 1 },
	{ "userpass version 5", P_USERPASS, 2, { 5, 0 }, ERR_PROTO, 0 },
	{ "reply5 ipv4", P_REPLY5, 10, { 5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90 },
	    0, 0 },
	{ "reply5 ipv6 refused", P_REPLY5, 22, { 5, 5, 0, 4, 0x20, 1, 0xd, 0xb8,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80 }, 0, 5 },
	{ "reply5 domain", P_REPLY5, 11, { 5, 2, 0, 3, 4, 'h', 'o', 's', 't',
	    0, 80 }, 0, 2 },
	{ "reply5 version 4", P_REPLY5, 10, { 4, 0, 0, 1, 1, 2, 3, 4, 0, 80 },
	    ERR_PROTO, 0 },
	{ "reply5 unknown atyp", P_REPLY5, 10, { 5, 0, 0, 9, 1, 2, 3, 4, 0, 80 },
	    ERR_PROTO, 0 },
	{ "reply5 atyp 0", P_REPLY5, 6, { 5, 0, 0, 0, 0, 80 }, ERR_PROTO, 0 },
	{ "reply5 empty domain", P_REPLY5, 7, { 5, 0, 0, 3, 0, 0, 80 },
	    ERR_PROTO, 0 },
	{ "reply5 NUL in domain", P_REPLY5, 9, { 5, 0, 0, 3, 2, 'a', 0, 0, 80 },
	    ERR_PROTO, 0 },
	{ "reply4 granted", P_REPLY4, 8, { 0, 90, 0x1f, 0x90, 127, 0, 0, 1 },
	    0, 90 },
	{ "reply4 rejected", P_REPLY4, 8, { 0, 91, 0, 0, 0, 0, 0, 0 }, 0, 91 },
	{ "reply4 version 4", P_REPLY4, 8, { 4, 90, 0, 0, 0, 0, 0, 0 },
	    ERR_PROTO, 0 },
};

static int
run(enum parser p, struct rd *r, uint8_t *code, struct socks_addr *a)
{
	switch (p) {
	case P_METHOD: return socks5_method_reply_parse(r, code);
	case P_USERPASS: return socks5_userpass_reply_parse(r, code);
	case P_REPLY5: return socks5_reply_parse(r, code, a);
	default: return socks4_reply_parse(r, code, a);
	}
}

static void
test_reply_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reply_case *c = &cases[i];
		uint8_t buf[320], code = 0xee;
		struct socks_addr a;
		struct rd r;
		int bad = 0, rc;

		/* Every strict prefix: more bytes needed, cursor untouched --
		 * unless the prefix already shows the message is malformed. */
		for (size_t n = 0; n < c->len; n++) {
			rd_init(&r, c->msg, n);
			rc = run(c->p, &r, &code, &a);
			if (r.off != 0 || (rc != ERR_SHORT &&
			    !(c->want == ERR_PROTO && rc == ERR_PROTO)))
				bad++;
		}
		CHECK(bad == 0, "%s: every truncated prefix is ERR_SHORT and "
		    "consumes nothing", c->what);
		memcpy(buf, c->msg, c->len);
		memcpy(buf + c->len, "XY", 2);
		rd_init(&r, buf, c->len + 2);
		rc = run(c->p, &r, &code, &a);
		if (c->want == 0)
			CHECK(rc == 0 && r.off == c->len && code == c->code,
			    "%s: parses, code %u, trailing bytes left (rc %d, "
			    "off %zu)", c->what, c->code, rc, r.off);
		else
			CHECK(rc == c->want && r.off == 0, "%s: refused (rc %d)",
			    c->what, rc);
	}
}

static void
test_reply_addresses(void)
{
	static const uint8_t dom[] = { 5, 0, 0, 3, 4, 'h', 'o', 's', 't', 1, 2 };
	static const uint8_t v4[] = { 0, 90, 0x1f, 0x90, 127, 0, 0, 9 };
	uint8_t big[4 + 1 + 255 + 2], code;
	struct socks_addr a;
	struct rd r;

	rd_init(&r, dom, sizeof(dom));
	CHECK(socks5_reply_parse(&r, &code, &a) == 0 &&
	    a.atyp == ATYP_DOMAIN && strcmp(a.name, "host") == 0 &&
	    a.port == 0x0102, "reply5: domain BND.ADDR and port");
	rd_init(&r, v4, sizeof(v4));
	CHECK(socks4_reply_parse(&r, &code, &a) == 0 && a.atyp == ATYP_IPV4 &&
	    a.ip[0] == 127 && a.ip[3] == 9 && a.port == 8080,
	    "reply4: DSTIP and DSTPORT");
	/* The longest domain BND.ADDR fits, and its terminator too. */
	memset(big, 'a', sizeof(big));
	big[0] = 5; big[1] = 0; big[2] = 0; big[3] = 3; big[4] = 255;
	rd_init(&r, big, sizeof(big));
	CHECK(socks5_reply_parse(&r, &code, &a) == 0 &&
	    strlen(a.name) == 255 && r.off == sizeof(big),
	    "reply5: a 255-byte domain is the largest reply");
}

static void
test_encoders(void)
{
	static const uint8_t g0[] = { 5, 1, 0 }, g2[] = { 5, 2, 0, 2 };
	static const uint8_t up[] = { 1, 2, 'u', 's', 3, 'p', 'w', 'd' };
	static const uint8_t r5d[] = { 5, 1, 0, 3, 3, 'a', '.', 'b', 0, 80 };
	static const uint8_t r5v4[] = { 5, 2, 0, 1, 10, 0, 0, 1, 0x1f, 0x90 };
	static const uint8_t r4[] = { 4, 1, 0, 80, 10, 0, 0, 1, 'u', 0 };
	static const uint8_t r4a[] = { 4, 1, 0, 80, 0, 0, 0, 1, 0, 'a', '.',
	    'b', 0 };
	struct socks_addr name = { .atyp = ATYP_DOMAIN, .name = "a.b",
	    .port = 80 };
	struct socks_addr ip4 = { .atyp = ATYP_IPV4, .ip = { 10, 0, 0, 1 },
	    .port = 8080 };
	struct socks_addr ip6 = { .atyp = ATYP_IPV6, .port = 80 };
	char long_user[300];
	uint8_t buf[600];
	struct wr w;

	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_greeting_put(&w, false) == 0 && w.off == sizeof(g0) &&
	    memcmp(buf, g0, sizeof(g0)) == 0, "greeting: none only");
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_greeting_put(&w, true) == 0 && w.off == sizeof(g2) &&
	    memcmp(buf, g2, sizeof(g2)) == 0, "greeting: none and userpass");
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_userpass_put(&w, "us", "pwd") == 0 && w.off == sizeof(up)
	    && memcmp(buf, up, sizeof(up)) == 0, "RFC 1929 request bytes");
	memset(long_user, 'x', 256);
	long_user[256] = '\0';
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_userpass_put(&w, long_user, "p") == ERR_RANGE &&
	    socks5_userpass_put(&w, "", "p") == ERR_RANGE && w.off == 0,
	    "RFC 1929: empty or 256-byte user refused, nothing written");
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_request_put(&w, CMD_CONNECT, &name) == 0 &&
	    w.off == sizeof(r5d) && memcmp(buf, r5d, sizeof(r5d)) == 0,
	    "SOCKS5 request: a name stays a name");
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_request_put(&w, CMD_BIND, &ip4) == 0 &&
	    w.off == sizeof(r5v4) && memcmp(buf, r5v4, sizeof(r5v4)) == 0,
	    "SOCKS5 request: an address stays an address");
	ip4.port = 80;
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks4_request_put(&w, CMD_CONNECT, &ip4, "u") == 0 &&
	    w.off == sizeof(r4) && memcmp(buf, r4, sizeof(r4)) == 0,
	    "SOCKS4 request bytes");
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks4_request_put(&w, CMD_CONNECT, &name, "") == 0 &&
	    w.off == sizeof(r4a) && memcmp(buf, r4a, sizeof(r4a)) == 0,
	    "SOCKS4a request for a name");
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks4_request_put(&w, CMD_CONNECT, &ip6, "") == ERR_UNSUPPORTED,
	    "SOCKS4 cannot carry IPv6");
	wr_init(&w, buf, 5);
	CHECK(socks5_request_put(&w, CMD_CONNECT, &name) == ERR_NOSPACE,
	    "SOCKS5 request: a short buffer is ERR_NOSPACE");
}

static void
test_rep_map(void)
{
	CHECK(socks4_rep_to_5(90) == REP_SUCCEEDED &&
	    socks4_rep_to_5(91) == REP_GENERAL_FAILURE &&
	    socks4_rep_to_5(92) == REP_NOT_ALLOWED &&
	    socks4_rep_to_5(93) == REP_NOT_ALLOWED &&
	    socks4_rep_to_5(0) == REP_GENERAL_FAILURE,
	    "SOCKS4 CD to SOCKS5 REP");
}

int
main(void)
{
	test_reply_table();
	test_reply_addresses();
	test_encoders();
	test_rep_map();
	return unit_done();
}
