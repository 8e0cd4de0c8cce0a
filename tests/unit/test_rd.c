/*
 * The bounded reader and writer: every getter refuses to run past the end
 * without moving, rd_sub bounds a field, rd_end sees leftovers.
 */
#include <string.h>

#include "common/err.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/wr.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static void
test_reader(void)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7 };
	const uint8_t *p;
	struct rd r, sub;
	uint8_t u8, dst[4];
	uint16_t u16;
	uint32_t u32;
	size_t n;

	rd_init(&r, b, sizeof(b));
	CHECK(rd_u8(&r, &u8) == 0 && u8 == 1 && r.off == 1, "rd_u8");
	CHECK(rd_u16be(&r, &u16) == 0 && u16 == 0x0203, "rd_u16be is big-endian");
	CHECK(rd_u32be(&r, &u32) == 0 && u32 == 0x04050607, "rd_u32be");
	CHECK(rd_end(&r) == 0, "rd_end at the end");
	CHECK(rd_u8(&r, &u8) == ERR_SHORT && r.off == 7, "rd_u8 past the end");

	rd_init(&r, b, 3);
	CHECK(rd_u32be(&r, &u32) == ERR_SHORT && r.off == 0,
	    "rd_u32be short: nothing consumed");
	CHECK(rd_end(&r) == ERR_PROTO, "rd_end with bytes left");
	CHECK(rd_bytes(&r, 4, &p) == ERR_SHORT, "rd_bytes beyond the end");
	CHECK(rd_bytes(&r, SIZE_MAX, &p) == ERR_SHORT, "rd_bytes SIZE_MAX");
	CHECK(rd_copy(&r, dst, 2, 3) == ERR_NOSPACE && r.off == 0,
	    "rd_copy larger than the destination is refused first");
	CHECK(rd_sub(&r, 2, &sub) == 0 && rd_left(&sub) == 2 && r.off == 2,
	    "rd_sub takes a bounded field");
	CHECK(rd_u16be(&sub, &u16) == 0 && rd_u8(&sub, &u8) == ERR_SHORT,
	    "sub-reader cannot read past its field");

	rd_init(&r, "abc\0def", 7);
	CHECK(rd_find(&r, 0, 10, &n) == 0 && n == 3, "rd_find finds NUL");
	rd_init(&r, "abcdef", 6);
	CHECK(rd_find(&r, 0, 10, &n) == ERR_SHORT, "rd_find: not yet seen");
	CHECK(rd_find(&r, 0, 4, &n) == ERR_PROTO, "rd_find: beyond max");
	rd_init(&r, NULL, 5);
	CHECK(rd_left(&r) == 0, "NULL buffer reads as empty");
}

static void
test_writer(void)
{
	uint8_t buf[4];
	struct wr w;

	wr_init(&w, buf, sizeof(buf));
	CHECK(wr_u16be(&w, 0x0102) == 0 && buf[0] == 1 && buf[1] == 2,
	    "wr_u16be");
	CHECK(wr_u32be(&w, 1) == ERR_NOSPACE && w.off == 2,
	    "wr_u32be without room writes nothing");
	CHECK(wr_u8(&w, 9) == 0 && wr_u8(&w, 8) == 0 && wr_u8(&w, 7) == ERR_NOSPACE,
	    "wr_u8 up to the capacity");
}

/* net_addr_format writes addresses by hand: it must agree with
 * inet_ntop and snprintf, cut like snprintf, and name what it cannot. */
static void
test_addr_format(void)
{
	struct sockaddr_storage ss;
	char got[NET_ADDRSTR_MAX], want[NET_ADDRSTR_MAX], host[INET6_ADDRSTRLEN];
	const uint8_t v4s[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 },
	    { 127, 0, 0, 1 }, { 10, 9, 100, 99 }, { 1, 20, 200, 0 } };
	const uint16_t ports[] = { 0, 1, 9, 10, 99, 100, 1080, 9999, 10000,
	    65535 };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 7 };
	int bad = 0;

	for (size_t i = 0; i < sizeof(v4s) / sizeof(v4s[0]); i++)
		for (size_t j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
			net_addr_make(&ss, AF_INET, v4s[i], ports[j]);
			net_addr_format((struct sockaddr *)&ss, got, sizeof(got));
			inet_ntop(AF_INET, v4s[i], host, sizeof(host));
			snprintf(want, sizeof(want), "%s:%u", host, ports[j]);
			bad += strcmp(got, want) != 0;
		}
	CHECK(bad == 0, "IPv4 as inet_ntop and snprintf write it (%d differ)",
	    bad);
	net_addr_make(&ss, AF_INET6, mapped, 443);
	net_addr_format((struct sockaddr *)&ss, got, sizeof(got));
	CHECK(strcmp(got, "192.0.2.7:443") == 0, "IPv4-mapped as IPv4: %s", got);
	net_addr_make(&ss, AF_INET6, v6, 65535);
	net_addr_format((struct sockaddr *)&ss, got, sizeof(got));
	CHECK(strcmp(got, "[2001:db8::1]:65535") == 0, "IPv6: %s", got);
	net_addr_make(&ss, AF_INET, v4s[1], 65535);
	net_addr_format((struct sockaddr *)&ss, got, 8);
	CHECK(strcmp(got, "255.255") == 0, "cut to fit, terminated: %s", got);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	net_addr_format((struct sockaddr *)&ss, got, sizeof(got));
	CHECK(strcmp(got, "unknown") == 0, "another family: %s", got);
}

static void
test_listen_parse(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char shown[NET_ADDRSTR_MAX];

	CHECK(net_parse_listen("127.0.0.1:1080", &ss, &len) == 0 &&
	    (net_addr_format((struct sockaddr *)&ss, shown, sizeof(shown)),
	    strcmp(shown, "127.0.0.1:1080") == 0), "listen: IPv4");
	CHECK(net_parse_listen("[::1]:1081", &ss, &len) == 0 &&
	    (net_addr_format((struct sockaddr *)&ss, shown, sizeof(shown)),
	    strcmp(shown, "[::1]:1081") == 0), "listen: IPv6");
	CHECK(net_parse_listen(":1080", &ss, &len) == 0 &&
	    (net_addr_format((struct sockaddr *)&ss, shown, sizeof(shown)),
	    strcmp(shown, "0.0.0.0:1080") == 0), "listen: :port is 0.0.0.0");
	CHECK(net_parse_listen("1080", &ss, &len) == 0, "listen: bare port");
	CHECK(net_parse_listen("127.0.0.1:0", &ss, &len) == ERR_RANGE,
	    "listen: port 0 refused");
	CHECK(net_parse_listen("127.0.0.1:65536", &ss, &len) == ERR_RANGE,
	    "listen: port 65536 refused");
	CHECK(net_parse_listen("localhost:1080", &ss, &len) == ERR_PROTO,
	    "listen: names are not looked up");
	CHECK(net_parse_listen("[::1]1080", &ss, &len) == ERR_PROTO,
	    "listen: IPv6 without ':' after ']'");
	CHECK(net_parse_listen("::1:1080", &ss, &len) == ERR_PROTO,
	    "listen: bare IPv6 needs brackets");
}

static void
test_addr_compare(void)
{
	struct sockaddr_storage a, b, c, d, any4, any6;
	socklen_t len;

	net_parse_listen("10.1.2.3:80", &a, &len);
	net_parse_listen("[::ffff:10.1.2.3]:81", &b, &len);
	net_parse_listen("10.1.2.4:80", &c, &len);
	net_parse_listen("[2001:db8::1]:80", &d, &len);
	net_parse_listen("0.0.0.0:1", &any4, &len);
	net_parse_listen("[::]:1", &any6, &len);
	CHECK(net_addr_same_host((struct sockaddr *)&a, (struct sockaddr *)&b),
	    "same host: IPv4 and its mapped IPv6 form, ports ignored");
	CHECK(!net_addr_same_host((struct sockaddr *)&a, (struct sockaddr *)&c),
	    "same host: a neighbour is another host");
	CHECK(!net_addr_same_host((struct sockaddr *)&a, (struct sockaddr *)&d),
	    "same host: IPv4 vs native IPv6");
	CHECK(net_addr_is_any((struct sockaddr *)&any4) &&
	    net_addr_is_any((struct sockaddr *)&any6) &&
	    !net_addr_is_any((struct sockaddr *)&a), "0.0.0.0 and :: are any");
	net_addr_set_port(&d, 4242);
	CHECK(net_addr_port((struct sockaddr *)&d) == 4242, "set port, IPv6");
	net_addr_set_port(&a, 7);
	CHECK(net_addr_port((struct sockaddr *)&a) == 7, "set port, IPv4");
}

int
main(void)
{
	test_addr_compare();
	test_reader();
	test_writer();
	test_addr_format();
	test_listen_parse();
	return unit_done();
}
