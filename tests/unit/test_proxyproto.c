/*
 * The PROXY protocol codec (common/proxyproto.c), table-driven: valid v1
 * and v2 headers with the addresses they carry, every truncated prefix
 * (ERR_SHORT, nothing consumed), wrong signatures, versions and commands,
 * lengths beyond the address block or beyond PP_V2_MAX, families other
 * than TCP4/TCP6, TLVs inside and across the block, v1's grammar.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "common/net.h"
#include "common/proxyproto.h"
#include "common/rd.h"
#include "unit.h"

#define SIG "\r\n\r\n\0\r\nQUIT\n"
#define SIGLEN 12

struct vec {
	const char *what;
	const char *bytes;
	size_t len;           /* 0: strlen(bytes) */
	int rc;               /* expected pp_parse result on the whole input */
	const char *client;   /* net_addr_format of src, or NULL */
	bool local;
};

#define B(s) s, sizeof(s) - 1

/* v2 TCP4 127.0.0.4:40000 -> 127.0.0.1:1080, then what follows. */
#define V2_TCP4_HDR(cmd, fam, hi, lo) SIG cmd fam hi lo
#define V2_TCP4_ADDR "\x7f\x00\x00\x04" "\x7f\x00\x00\x01" "\x9c\x40" "\x04\x38"

static const struct vec vecs[] = {
	/* version 2 */
	{ "v2 PROXY TCP4", B(V2_TCP4_HDR("\x21", "\x11", "\x00", "\x0c")
	    V2_TCP4_ADDR), 0, "127.0.0.4:40000", false },
	{ "v2 PROXY TCP4 with TLVs", B(V2_TCP4_HDR("\x21", "\x11", "\x00",
	    "\x18") V2_TCP4_ADDR "\x01\x00\x02h2" "\x04\x00\x00" "\x03\x00\x01Z"),
	    0, "127.0.0.4:40000", false },
	{ "v2 PROXY TCP6", B(SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x05"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\x01\xbb\x04\x38"),
	    0, "[2001:db8::5]:443", false },
	{ "v2 LOCAL (health check)", B(SIG "\x20\x00\x00\x00"), 0, NULL, true },
	{ "v2 LOCAL ignores its block", B(SIG "\x20\x11\x00\x03" "abc"), 0,
	    NULL, true },
	{ "v2 wrong signature byte", B("\r\n\r\n\0\r\nQUIX\n" "\x21\x11\x00\x0c"
	    V2_TCP4_ADDR), ERR_PROTO, NULL, false },
	{ "v2 version 1 nibble", B(SIG "\x11\x11\x00\x0c" V2_TCP4_ADDR),
	    ERR_PROTO, NULL, false },
	{ "v2 version 3 nibble", B(SIG "\x31\x11\x00\x0c" V2_TCP4_ADDR),
	    ERR_PROTO, NULL, false },
	{ "v2 command 2", B(SIG "\x22\x11\x00\x0c" V2_TCP4_ADDR), ERR_PROTO,
	    NULL, false },
	{ "v2 TCP4 block shorter than addresses", B(SIG "\x21\x11\x00\x08"
	    "\x7f\x00\x00\x04\x7f\x00\x00\x01"), ERR_PROTO, NULL, false },
	{ "v2 TCP6 block sized for TCP4", B(SIG "\x21\x21\x00\x0c"
	    V2_TCP4_ADDR), ERR_PROTO, NULL, false },
	{ "v2 TLV longer than the block", B(V2_TCP4_HDR("\x21", "\x11", "\x00",
	    "\x10") V2_TCP4_ADDR "\x01\x00\x05h"), ERR_PROTO, NULL, false },
	{ "v2 TLV header cut by the block", B(V2_TCP4_HDR("\x21", "\x11",
	    "\x00", "\x0e") V2_TCP4_ADDR "\x01\x00"), ERR_PROTO, NULL, false },
	{ "v2 length beyond the packet", B(V2_TCP4_HDR("\x21", "\x11", "\x00",
	    "\x40") V2_TCP4_ADDR), ERR_SHORT, NULL, false },
	{ "v2 length beyond PP_V2_MAX", B(SIG "\x21\x11\x03\xf1"), ERR_NOSPACE,
	    NULL, false },
	{ "v2 UDP4 refused", B(SIG "\x21\x12\x00\x0c" V2_TCP4_ADDR),
	    ERR_UNSUPPORTED, NULL, false },
	{ "v2 UNIX refused", B(SIG "\x21\x31\x00\x0c" V2_TCP4_ADDR),
	    ERR_UNSUPPORTED, NULL, false },
	{ "v2 UNSPEC with PROXY refused", B(SIG "\x21\x00\x00\x00"),
	    ERR_UNSUPPORTED, NULL, false },
	{ "v2 family 4 refused", B(SIG "\x21\x41\x00\x0c" V2_TCP4_ADDR),
	    ERR_UNSUPPORTED, NULL, false },
	/* version 1 */
	{ "v1 TCP4", B("PROXY TCP4 127.0.0.4 127.0.0.1 40000 1080\r\n"), 0,
	    "127.0.0.4:40000", false },
	{ "v1 TCP6", B("PROXY TCP6 2001:db8::5 2001:db8::1 443 1080\r\n"), 0,
	    "[2001:db8::5]:443", false },
	{ "v1 UNKNOWN", B("PROXY UNKNOWN\r\n"), 0, NULL, true },
	{ "v1 UNKNOWN with addresses", B("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"),
	    0, NULL, true },
	{ "v1 port 0 and 65535", B("PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n"),
	    0, "1.2.3.4:0", false },
	{ "v1 UNKNOWNX", B("PROXY UNKNOWNX\r\n"), ERR_PROTO, NULL, false },
	{ "v1 lower case", B("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"), ERR_PROTO,
	    NULL, false },
	{ "v1 TCP5", B("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), ERR_PROTO, NULL,
	    false },
	{ "v1 UDP4", B("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"), ERR_PROTO, NULL,
	    false },
	{ "v1 LF without CR", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), ERR_PROTO,
	    NULL, false },
	{ "v1 double space", B("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), ERR_PROTO,
	    NULL, false },
	{ "v1 trailing space", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 too few fields", B("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), ERR_PROTO,
	    NULL, false },
	{ "v1 too many fields", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 TCP4 with an IPv6 address", B("PROXY TCP4 ::1 ::1 1 2\r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 TCP6 with an IPv4 address", B("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 octal-looking octet", B("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 port 65536", B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 port leading zero", B("PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 port with a sign", B("PROXY TCP4 1.2.3.4 5.6.7.8 +80 2\r\n"),
	    ERR_PROTO, NULL, false },
	{ "v1 control byte", B("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n"), ERR_PROTO,
	    NULL, false },
	{ "v1 no LF in 107 bytes", B("PROXY UNKNOWN "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"), ERR_PROTO, NULL, false },
	/* neither */
	{ "SOCKS5 greeting", B("\x05\x01\x00"), ERR_PROTO, NULL, false },
	{ "SOCKS4 request", B("\x04\x01\x00\x50\x7f\x00\x00\x01\x00"), ERR_PROTO,
	    NULL, false },
	{ "PROXZ", B("PROXZ TCP4"), ERR_PROTO, NULL, false },
	{ "empty", "", 0, ERR_SHORT, NULL, false },
};

static void
test_vectors(void)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		struct pp_header h;
		char addr[NET_ADDRSTR_MAX];
		struct rd r;
		int rc;

		rd_init(&r, v->bytes, v->len);
		rc = pp_parse(&r, &h);
		CHECK(rc == v->rc, "%s: pp_parse gives %d (got %d)", v->what,
		    v->rc, rc);
		if (rc != 0) {
			CHECK(r.off == 0, "%s: nothing consumed on failure",
			    v->what);
			continue;
		}
		CHECK(r.off == v->len, "%s: the whole header consumed",
		    v->what);
		CHECK(h.local == v->local, "%s: local is %d", v->what, v->local);
		if (v->client != NULL) {
			net_addr_format((struct sockaddr *)&h.src, addr,
			    sizeof(addr));
			CHECK(strcmp(addr, v->client) == 0,
			    "%s: client %s (got %s)", v->what, v->client, addr);
		}
	}
}

/* Every strict prefix of every valid header asks for more bytes and
 * consumes nothing; each header followed by SOCKS bytes stops at its end. */
static void
test_prefixes(void)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		uint8_t buf[256];
		struct pp_header h;
		struct rd r;
		int bad = 0;

		if (v->rc != 0)
			continue;
		for (size_t n = 0; n < v->len; n++) {
			rd_init(&r, v->bytes, n);
			if (pp_parse(&r, &h) != ERR_SHORT || r.off != 0)
				bad++;
		}
		CHECK(bad == 0, "%s: all %zu truncated prefixes give ERR_SHORT",
		    v->what, v->len);
		memcpy(buf, v->bytes, v->len);
		memcpy(buf + v->len, "\x05\x01\x00", 3);
		rd_init(&r, buf, v->len + 3);
		CHECK(pp_parse(&r, &h) == 0 && r.off == v->len,
		    "%s: pipelined SOCKS bytes left unread", v->what);
	}
}

/* A bad first byte is refused at once, without waiting for more. */
static void
test_detect(void)
{
	struct rd r;

	rd_init(&r, "\x05", 1);
	CHECK(pp_detect(&r) == ERR_PROTO, "a SOCKS5 first byte is not PROXY");
	rd_init(&r, "PRO", 3);
	CHECK(pp_detect(&r) == ERR_SHORT, "\"PRO\" may still be v1");
	rd_init(&r, "\r\n\r", 3);
	CHECK(pp_detect(&r) == ERR_SHORT, "\"\\r\\n\\r\" may still be v2");
	rd_init(&r, "PROXY ", 6);
	CHECK(pp_detect(&r) == 1, "\"PROXY \" is v1");
	rd_init(&r, SIG, SIGLEN);
	CHECK(pp_detect(&r) == 2, "the 12-byte signature is v2");
	rd_init(&r, "\r\n\r\n\0\r\nQ!", 9);
	CHECK(pp_detect(&r) == ERR_PROTO, "a v2 signature broken at byte 9");
}

/* The largest v2 header accepted parses; one byte more is refused. */
static void
test_v2_max(void)
{
	static uint8_t buf[PP_V2_MAX + 1];
	size_t blk = PP_V2_MAX - PP_V2_FIXED;
	struct pp_header h;
	struct rd r;

	memcpy(buf, SIG "\x21\x11", 14);
	buf[14] = (uint8_t)(blk >> 8);
	buf[15] = (uint8_t)blk;
	memcpy(buf + 16, V2_TCP4_ADDR, 12);
	/* One NOOP TLV fills the rest of the block. */
	buf[28] = 0x04;
	buf[29] = (uint8_t)((blk - 15) >> 8);
	buf[30] = (uint8_t)(blk - 15);
	rd_init(&r, buf, PP_V2_MAX);
	CHECK(pp_parse(&r, &h) == 0 && r.off == PP_V2_MAX,
	    "a %d-byte v2 header parses", PP_V2_MAX);
	blk++;
	buf[14] = (uint8_t)(blk >> 8);
	buf[15] = (uint8_t)blk;
	rd_init(&r, buf, PP_V2_MAX + 1);
	CHECK(pp_parse(&r, &h) == ERR_NOSPACE, "a %d-byte one is refused",
	    PP_V2_MAX + 1);
}

int
main(void)
{
	test_vectors();
	test_prefixes();
	test_detect();
	test_v2_max();
	return unit_done();
}
