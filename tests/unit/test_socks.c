/*
 * The SOCKS 4/4a/5 codec, message by message: each valid form, every
 * truncated prefix (must be ERR_SHORT and consume nothing), malformed and
 * oversized fields, and the encoders' exact bytes.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/wr.h"
#include "unit.h"

typedef int parse_fn(struct rd *, void *);

static int p_greet(struct rd *r, void *o) { return socks5_greeting_parse(r, o); }
static int p_req5(struct rd *r, void *o) { return socks5_request_parse(r, o); }
static int p_req4(struct rd *r, void *o) { return socks4_request_parse(r, o); }
static int p_up(struct rd *r, void *o) { return socks5_userpass_parse(r, o); }

/* Every strict prefix must ask for more and leave the cursor alone; the
 * whole message must parse and consume exactly len bytes, leaving trailing
 * (pipelined) bytes unread. */
static void
check_prefixes(const char *what, parse_fn *parse, const uint8_t *msg,
    size_t len, void *out)
{
	uint8_t buf[1200];
	struct rd r;
	int bad = 0;

	for (size_t n = 0; n < len; n++) {
		rd_init(&r, msg, n);
		if (parse(&r, out) != ERR_SHORT || r.off != 0)
			bad++;
	}
	CHECK(bad == 0, "%s: all %zu truncated prefixes give ERR_SHORT", what, len);
	memcpy(buf, msg, len);
	memcpy(buf + len, "XYZ", 3);
	rd_init(&r, buf, len + 3);
	CHECK(parse(&r, out) == 0 && r.off == len,
	    "%s: whole message parses, trailing bytes left", what);
}

static void
test_greeting(void)
{
	static const uint8_t ok[] = { 5, 3, 0, 1, 2 };
	static const uint8_t zero[] = { 5, 0 };
	static const uint8_t v4[] = { 4, 1, 0 };
	uint8_t all[257];
	struct socks5_greeting g;
	struct rd r;

	check_prefixes("greeting", p_greet, ok, sizeof(ok), &g);
	rd_init(&r, ok, sizeof(ok));
	CHECK(socks5_greeting_parse(&r, &g) == 0 && g.n_methods == 3 &&
	    g.methods[0] == 0 && g.methods[2] == 2, "greeting: methods copied");
	rd_init(&r, zero, sizeof(zero));
	CHECK(socks5_greeting_parse(&r, &g) == ERR_PROTO,
	    "greeting: NMETHODS 0 is malformed");
	rd_init(&r, v4, sizeof(v4));
	CHECK(socks5_greeting_parse(&r, &g) == ERR_PROTO,
	    "greeting: version 4 is not a SOCKS5 greeting");
	all[0] = 5;
	all[1] = 255;
	for (int i = 0; i < 255; i++)
		all[2 + i] = (uint8_t)i;
	check_prefixes("greeting 255 methods", p_greet, all, sizeof(all), &g);
	CHECK(g.n_methods == 255 && g.methods[254] == 254,
	    "greeting: 255 methods (the maximum) fit");
}

static void
test_request5(void)
{
	static const uint8_t v4[] = { 5, 1, 0, 1, 10, 1, 2, 3, 0x1f, 0x90 };
	static const uint8_t v6[] = { 5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 1, 0, 80 };
	static const uint8_t dom[] = { 5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p',
	    'l', 'e', '.', 'c', 'o', 'm', 1, 187 };
	static const uint8_t dom0[] = { 5, 1, 0, 3, 0, 0, 80 };
	static const uint8_t domnul[] = { 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80 };
	static const uint8_t atyp5[] = { 5, 1, 0, 5, 1, 2, 3, 4, 0, 80 };
	static const uint8_t ver4[] = { 4, 1, 0, 1, 1, 2, 3, 4, 0, 80 };
	static const uint8_t cmd9[] = { 5, 9, 0, 1, 1, 2, 3, 4, 0, 80 };
	uint8_t longname[4 + 1 + 255 + 2];
	struct socks_request req;
	struct rd r;
	char shown[300];

	check_prefixes("request5 ipv4", p_req5, v4, sizeof(v4), &req);
	CHECK(req.version == 5 && req.cmd == CMD_CONNECT &&
	    req.dst.atyp == ATYP_IPV4 && req.dst.port == 8080 &&
	    memcmp(req.dst.ip, "\x0a\x01\x02\x03", 4) == 0,
	    "request5 ipv4: fields decoded");
	socks_addr_format(&req.dst, shown, sizeof(shown));
	CHECK(strcmp(shown, "10.1.2.3:8080") == 0, "request5 ipv4: formatted %s", shown);

	check_prefixes("request5 ipv6", p_req5, v6, sizeof(v6), &req);
	socks_addr_format(&req.dst, shown, sizeof(shown));
	CHECK(req.dst.atyp == ATYP_IPV6 && strcmp(shown, "[::1]:80") == 0,
	    "request5 ipv6: formatted %s", shown);

	/* Formatted by hand: every form, the widest values, and a cut. */
	{
		struct socks_addr a = { .atyp = ATYP_IPV4,
		    .ip = { 255, 255, 255, 255 }, .port = 65535 };
		char small[8];

		socks_addr_format(&a, shown, sizeof(shown));
		CHECK(strcmp(shown, "255.255.255.255:65535") == 0,
		    "addr format: widest ipv4 %s", shown);
		memset(a.ip, 0, sizeof(a.ip));
		a.port = 0;
		socks_addr_format(&a, shown, sizeof(shown));
		CHECK(strcmp(shown, "0.0.0.0:0") == 0, "addr format: zero ipv4 %s",
		    shown);
		a.atyp = ATYP_DOMAIN;
		a.port = 443;
		memcpy(a.name, "example.org", sizeof("example.org"));
		socks_addr_format(&a, shown, sizeof(shown));
		CHECK(strcmp(shown, "example.org:443") == 0, "addr format: domain %s",
		    shown);
		socks_addr_format(&a, small, sizeof(small));
		CHECK(strcmp(small, "example") == 0, "addr format: cut to %s", small);
		memset(a.name, 'a', sizeof(a.name) - 1);
		a.name[sizeof(a.name) - 1] = '\0';
		socks_addr_format(&a, shown, sizeof(shown));
		CHECK(strlen(shown) == SOCKS_NAME_MAX + sizeof(":443") - 1 &&
		    strcmp(shown + SOCKS_NAME_MAX, ":443") == 0,
		    "addr format: longest name whole");
		a.atyp = 9;
		a.port = 7;
		socks_addr_format(&a, shown, sizeof(shown));
		CHECK(strcmp(shown, "?:7") == 0, "addr format: unknown %s", shown);
		a.atyp = ATYP_IPV6;
		memset(a.ip, 0, sizeof(a.ip));
		a.ip[0] = 0x20, a.ip[1] = 0x01, a.ip[2] = 0x0d, a.ip[3] = 0xb8;
		a.ip[15] = 1;
		a.port = 443;
		socks_addr_format(&a, shown, sizeof(shown));
		CHECK(strcmp(shown, "[2001:db8::1]:443") == 0,
		    "addr format: ipv6 %s", shown);
		socks_addr_format(&a, small, 6);
		CHECK(strcmp(small, "[2001") == 0, "addr format: ipv6 cut to %s",
		    small);
		/* A client's IPv4-mapped request stays as it asked: IPv6. */
		memset(a.ip, 0, sizeof(a.ip));
		a.ip[10] = a.ip[11] = 0xff;
		a.ip[12] = 192, a.ip[13] = 0, a.ip[14] = 2, a.ip[15] = 7;
		socks_addr_format(&a, shown, sizeof(shown));
		CHECK(strcmp(shown, "[::ffff:192.0.2.7]:443") == 0,
		    "addr format: mapped ipv6 stays ipv6 %s", shown);
		memcpy(small, "keep", 5);
		socks_addr_format(&a, small, 0);
		CHECK(strcmp(small, "keep") == 0,
		    "addr format: no room, nothing written");
	}

	check_prefixes("request5 domain", p_req5, dom, sizeof(dom), &req);
	CHECK(req.dst.atyp == ATYP_DOMAIN &&
	    strcmp(req.dst.name, "example.com") == 0 && req.dst.port == 443,
	    "request5 domain: name and port");

	longname[0] = 5; longname[1] = 1; longname[2] = 0; longname[3] = 3;
	longname[4] = 255;
	memset(longname + 5, 'a', 255);
	longname[260] = 0; longname[261] = 80;
	check_prefixes("request5 255-byte name", p_req5, longname,
	    sizeof(longname), &req);
	CHECK(strlen(req.dst.name) == 255, "request5: 255-byte name kept whole");

	rd_init(&r, dom0, sizeof(dom0));
	CHECK(socks5_request_parse(&r, &req) == ERR_PROTO,
	    "request5: empty domain name is malformed");
	rd_init(&r, domnul, sizeof(domnul));
	CHECK(socks5_request_parse(&r, &req) == ERR_PROTO,
	    "request5: NUL inside a domain name is malformed");
	rd_init(&r, atyp5, sizeof(atyp5));
	CHECK(socks5_request_parse(&r, &req) == ERR_UNSUPPORTED,
	    "request5: unknown ATYP gives ERR_UNSUPPORTED (reply 8)");
	rd_init(&r, ver4, sizeof(ver4));
	CHECK(socks5_request_parse(&r, &req) == ERR_PROTO,
	    "request5: wrong version is malformed");
	rd_init(&r, cmd9, sizeof(cmd9));
	CHECK(socks5_request_parse(&r, &req) == 0 && req.cmd == 9,
	    "request5: unknown CMD is returned for reply 7");
}

static void
test_request4(void)
{
	static const uint8_t plain[] = { 4, 1, 0, 80, 127, 0, 0, 1, 'b', 'o',
	    'b', 0 };
	static const uint8_t noid[] = { 4, 1, 0, 80, 127, 0, 0, 1, 0 };
	static const uint8_t v4a[] = { 4, 1, 0, 80, 0, 0, 0, 9, 'u', 0, 'h',
	    'o', 's', 't', 0 };
	static const uint8_t v4a_empty[] = { 4, 1, 0, 80, 0, 0, 0, 1, 0, 0 };
	static const uint8_t zero_ip[] = { 4, 1, 0, 80, 0, 0, 0, 0, 0 };
	uint8_t longid[8 + 256 + 1], toolong[8 + 300], longhost[8 + 1 + 257];
	struct socks_request req;
	struct rd r;

	check_prefixes("request4", p_req4, plain, sizeof(plain), &req);
	CHECK(req.version == 4 && req.cmd == 1 && req.dst.port == 80 &&
	    req.dst.atyp == ATYP_IPV4 && strcmp(req.userid, "bob") == 0,
	    "request4: fields decoded");
	check_prefixes("request4 empty userid", p_req4, noid, sizeof(noid), &req);
	check_prefixes("request4a", p_req4, v4a, sizeof(v4a), &req);
	CHECK(req.dst.atyp == ATYP_DOMAIN && strcmp(req.dst.name, "host") == 0 &&
	    strcmp(req.userid, "u") == 0, "request4a: host name decoded");
	rd_init(&r, v4a_empty, sizeof(v4a_empty));
	CHECK(socks4_request_parse(&r, &req) == ERR_PROTO,
	    "request4a: empty host name is malformed");
	rd_init(&r, zero_ip, sizeof(zero_ip));
	CHECK(socks4_request_parse(&r, &req) == 0 && req.dst.atyp == ATYP_IPV4,
	    "request4: 0.0.0.0 is an address, not 4a");

	/* USERID of exactly 255 bytes fits; 256 without a NUL is refused
	 * as soon as 256 bytes are there, not after reading forever. */
	memcpy(longid, plain, 8);
	memset(longid + 8, 'x', 255);
	longid[263] = 0;
	check_prefixes("request4 255-byte userid", p_req4, longid, 264, &req);
	memcpy(toolong, plain, 8);
	memset(toolong + 8, 'x', 300);
	rd_init(&r, toolong, sizeof(toolong));
	CHECK(socks4_request_parse(&r, &req) == ERR_PROTO,
	    "request4: unterminated 300-byte userid is malformed");
	rd_init(&r, toolong, 8 + 200);
	CHECK(socks4_request_parse(&r, &req) == ERR_SHORT,
	    "request4: 200 bytes of userid without NUL: need more");
	memcpy(longhost, v4a, 8);
	longhost[8] = 0;
	memset(longhost + 9, 'h', 257);
	rd_init(&r, longhost, sizeof(longhost));
	CHECK(socks4_request_parse(&r, &req) == ERR_PROTO,
	    "request4a: host name over 255 bytes is malformed");
}

static void
test_userpass(void)
{
	static const uint8_t ok[] = { 1, 5, 'a', 'l', 'i', 'c', 'e', 3, 'p',
	    'w', 'd' };
	static const uint8_t nopass[] = { 1, 1, 'a', 0 };
	static const uint8_t nouser[] = { 1, 0, 1, 'p' };
	static const uint8_t ver2[] = { 2, 1, 'a', 1, 'p' };
	static const uint8_t nul[] = { 1, 1, 'a', 2, 'p', 0 };
	struct socks5_userpass up;
	struct rd r;

	check_prefixes("userpass", p_up, ok, sizeof(ok), &up);
	CHECK(strcmp(up.user, "alice") == 0 && strcmp(up.pass, "pwd") == 0,
	    "userpass: name and password decoded");
	check_prefixes("userpass empty password", p_up, nopass, sizeof(nopass), &up);
	rd_init(&r, nouser, sizeof(nouser));
	CHECK(socks5_userpass_parse(&r, &up) == ERR_PROTO,
	    "userpass: empty user name is malformed");
	rd_init(&r, ver2, sizeof(ver2));
	CHECK(socks5_userpass_parse(&r, &up) == ERR_PROTO,
	    "userpass: sub-negotiation version 2 is malformed");
	rd_init(&r, nul, sizeof(nul));
	CHECK(socks5_userpass_parse(&r, &up) == ERR_PROTO,
	    "userpass: NUL in the password is malformed");
}

static void
test_encoders(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(4321) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(1080) };
	uint8_t buf[64];
	struct wr w;

	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_reply_put(&w, REP_SUCCEEDED, (struct sockaddr *)&sin) == 0 &&
	    w.off == 10 && memcmp(buf, "\x05\x00\x00\x01\xc0\x00\x02\x07\x10\xe1",
	    10) == 0, "reply5: IPv4 bound address");

	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_reply_put(&w, REP_CONN_REFUSED, (struct sockaddr *)&sin6) == 0 &&
	    w.off == 22 && buf[1] == 5 && buf[3] == ATYP_IPV6 && buf[4] == 0x20 &&
	    buf[20] == 0x04 && buf[21] == 0x38, "reply5: IPv6 bound address");

	inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6.sin6_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_reply_put(&w, 0, (struct sockaddr *)&sin6) == 0 &&
	    w.off == 10 && buf[3] == ATYP_IPV4 && buf[4] == 10 && buf[7] == 1,
	    "reply5: IPv4-mapped address written as IPv4");

	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_reply_put(&w, REP_CMD_UNSUPPORTED, NULL) == 0 &&
	    w.off == 10 && memcmp(buf, "\x05\x07\x00\x01\0\0\0\0\0\0", 10) == 0,
	    "reply5: no address gives 0.0.0.0:0");

	wr_init(&w, buf, 9);
	CHECK(socks5_reply_put(&w, 0, (struct sockaddr *)&sin) == ERR_NOSPACE,
	    "reply5: a 9-byte buffer is too small");

	wr_init(&w, buf, sizeof(buf));
	CHECK(socks4_reply_put(&w, REP4_GRANTED, (struct sockaddr *)&sin) == 0 &&
	    w.off == 8 && memcmp(buf, "\x00\x5a\x10\xe1\xc0\x00\x02\x07", 8) == 0,
	    "reply4: VN 0, CD 90, port, address");
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks4_reply_put(&w, REP4_REJECTED, (struct sockaddr *)&sin6) == 0 &&
	    w.off == 8 && buf[1] == 91 && buf[2] == 0x04 && buf[3] == 0x38 &&
	    memcmp(buf + 4, "\0\0\0\0", 4) == 0,
	    "reply4: IPv6 bound address becomes 0.0.0.0");

	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_method_reply_put(&w, METHOD_NO_ACCEPTABLE) == 0 &&
	    w.off == 2 && buf[0] == 5 && buf[1] == 0xff, "method reply 0xFF");
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_userpass_reply_put(&w, 1) == 0 && w.off == 2 &&
	    buf[0] == 1 && buf[1] == 1, "userpass reply");
}

static int p_udp(struct rd *r, void *o)
{
	uint8_t frag;
	int rc = socks5_udp_parse(r, &frag, o);

	/* A datagram is whole: here "short" reads as malformed. */
	return rc == ERR_PROTO ? ERR_SHORT : rc;
}

static void
test_udp(void)
{
	static const uint8_t v4[] = { 0, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90,
	    'h', 'i' };
	static const uint8_t dom[] = { 0, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 53 };
	static const uint8_t frag[] = { 0, 0, 1, 1, 1, 2, 3, 4, 0, 53 };
	static const uint8_t atyp9[] = { 0, 0, 0, 9, 1, 2, 3, 4, 0, 53 };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(53) };
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(5353) };
	struct socks_addr a;
	uint8_t buf[64], f;
	struct rd r;
	struct wr w;

	/* Header only (the data is the rest of the datagram). */
	check_prefixes("udp header ipv4", p_udp, v4, 10, &a);
	rd_init(&r, v4, sizeof(v4));
	CHECK(socks5_udp_parse(&r, &f, &a) == 0 && f == 0 &&
	    a.atyp == ATYP_IPV4 && a.port == 8080 && rd_left(&r) == 2,
	    "udp: header parsed, data left in the reader");
	check_prefixes("udp header domain", p_udp, dom, sizeof(dom), &a);
	CHECK(strcmp(a.name, "host") == 0 && a.port == 53, "udp: domain");
	rd_init(&r, frag, sizeof(frag));
	CHECK(socks5_udp_parse(&r, &f, &a) == 0 && f == 1,
	    "udp: FRAG is returned so the caller can drop it");
	rd_init(&r, atyp9, sizeof(atyp9));
	CHECK(socks5_udp_parse(&r, &f, &a) == ERR_UNSUPPORTED,
	    "udp: unknown ATYP");
	rd_init(&r, v4, 9);
	CHECK(socks5_udp_parse(&r, &f, &a) == ERR_PROTO && r.off == 0,
	    "udp: a truncated header is malformed, nothing consumed");

	inet_pton(AF_INET, "10.0.0.2", &sin.sin_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_udp_put(&w, (struct sockaddr *)&sin) == 0 && w.off == 10 &&
	    memcmp(buf, "\0\0\0\x01\x0a\0\0\x02\x14\xe9", 10) == 0,
	    "udp: reply header for an IPv4 source");
	inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(socks5_udp_put(&w, (struct sockaddr *)&sin6) == 0 && w.off == 22 &&
	    buf[3] == ATYP_IPV6 && buf[21] == 53, "udp: reply header, IPv6");
	wr_init(&w, buf, 9);
	CHECK(socks5_udp_put(&w, (struct sockaddr *)&sin) == ERR_NOSPACE,
	    "udp: no room, nothing written past the buffer");
}

static void
test_peek(void)
{
	struct rd r;

	rd_init(&r, "\x05", 1);
	CHECK(socks_peek_version(&r) == SOCKS_V5 && r.off == 0, "peek: 5");
	rd_init(&r, "\x04", 1);
	CHECK(socks_peek_version(&r) == SOCKS_V4, "peek: 4");
	rd_init(&r, "G", 1);
	CHECK(socks_peek_version(&r) == ERR_PROTO, "peek: 'G' (HTTP) is no SOCKS");
	rd_init(&r, NULL, 0);
	CHECK(socks_peek_version(&r) == ERR_SHORT, "peek: empty needs more");
}

int
main(void)
{
	test_peek();
	test_greeting();
	test_request5();
	test_request4();
	test_userpass();
	test_encoders();
	test_udp();
	return unit_done();
}
