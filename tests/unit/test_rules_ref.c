/*
 * The host and port matchers against a naive reference (STYLE 9, as
 * openssh's regress/unittests/match): random patterns in every written
 * form, random inputs near and far from them, and an independent
 * bit-by-bit / byte-by-byte definition of what should match.  A fixed seed
 * keeps the run reproducible; a failure prints the pattern and input.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "conf/conf.h"
#include "tests/unit/unit.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static unsigned
rnd_below(unsigned n)
{
	return rnd() % n;
}

/* The pattern under test: as the reference sees it. */
struct ref {
	int kind;                 /* 4, 6, 'n' exact name, 's' suffix, '*' */
	uint8_t addr[16], mask[16];
	char name[128];           /* lower case, no trailing dot */
};

static bool
bits_match(const uint8_t *x, const uint8_t *addr, const uint8_t *mask,
    unsigned bits)
{
	unsigned i;

	for (i = 0; i < bits; i++) {
		unsigned byte = i / 8, bit = 7 - i % 8;

		if (((mask[byte] >> bit) & 1) &&
		    ((x[byte] >> bit) & 1) != ((addr[byte] >> bit) & 1))
			return false;
	}
	return true;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* The reference: is the input (an IPv4 address, an IPv6 address, or a
 * name) matched by the pattern? */
static bool
ref_match(const struct ref *r, int in_kind, const uint8_t *in_addr,
    const char *in_name)
{
	char name[300];
	size_t len, plen;

	if (r->kind == '*')
		return true;
	if (r->kind == 4)
		return in_kind == 4 && bits_match(in_addr, r->addr, r->mask, 32);
	if (r->kind == 6 && in_kind == 4) {
		/* An IPv4 address is ::ffff:a.b.c.d to an IPv6 pattern
		 * (docs/socks5.conf-extensions.md). */
		uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff };

		memcpy(mapped + 12, in_addr, 4);
		return bits_match(mapped, r->addr, r->mask, 128);
	}
	if (r->kind == 6)
		return in_kind == 6 && bits_match(in_addr, r->addr, r->mask,
		    128);
	if (in_kind != 'n')
		return false;
	snprintf(name, sizeof(name), "%s", in_name);
	lower(name);
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		name[--len] = '\0';
	plen = strlen(r->name);
	if (r->kind == 'n')
		return strcmp(name, r->name) == 0;
	return len >= plen && strcmp(name + len - plen, r->name) == 0;
}

static const char *const labels[] = { "a", "b", "ab", "x-y", "c1", "B" };

static void
rnd_name(char *out, size_t size, unsigned max_labels)
{
	unsigned n = 1 + rnd_below(max_labels), i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(out, labels[rnd_below(6)], size - strlen(out) - 1);
		if (i + 1 < n)
			strncat(out, ".", size - strlen(out) - 1);
	}
}

/* Write a random IPv4 pattern in one of the NEC forms into text. */
static void
gen_v4(struct ref *r, char *text, size_t size)
{
	uint8_t a[4];
	uint32_t mask = 0;
	unsigned form = rnd_below(7), n, i;

	for (i = 0; i < 4; i++)
		a[i] = (uint8_t)(rnd_below(4) == 0 ? rnd() : 10 + rnd_below(3));
	r->kind = 4;
	switch (form) {
	case 0: case 1: case 2:                   /* n1.  n1.n2.  n1.n2.n3. */
		n = form + 1;
		text[0] = '\0';
		for (i = 0; i < n; i++)
			snprintf(text + strlen(text), size - strlen(text),
			    "%s%u.", rnd_below(8) == 0 ? "0" : "", a[i]);
		mask = ~(uint32_t)0 << (32 - 8 * n);
		break;
	case 3:                                   /* a.b.c.d */
		snprintf(text, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		mask = ~(uint32_t)0;
		break;
	case 4:                                   /* addr/dotted, any mask */
		mask = rnd_below(2) ? rnd() : ~(uint32_t)0 << rnd_below(32);
		snprintf(text, size, "%u.%u.%u.%u/%u.%u.%u.%u", a[0], a[1],
		    a[2], a[3], mask >> 24, (mask >> 16) & 255,
		    (mask >> 8) & 255, mask & 255);
		break;
	case 5:                                   /* addr/N */
		n = rnd_below(33);
		mask = n == 0 ? 0 : ~(uint32_t)0 << (32 - n);
		snprintf(text, size, "%u.%u.%u.%u/%u", a[0], a[1], a[2], a[3],
		    n);
		break;
	default:                                  /* /h, /n, /a */
		n = rnd_below(3);
		if (n == 1 && a[0] >= 224)
			a[0] = (uint8_t)(a[0] - 100);
		snprintf(text, size, "%u.%u.%u.%u/%c", a[0], a[1], a[2], a[3],
		    "hNa"[n]);
		mask = n == 0 ? ~(uint32_t)0 : n == 2 ? 0 :
		    a[0] < 128 ? 0xff000000u : a[0] < 192 ? 0xffff0000u :
		    0xffffff00u;
		if (n == 2)
			r->kind = '*';
		break;
	}
	memcpy(r->addr, a, 4);
	for (i = 0; i < 4; i++)
		r->mask[i] = (uint8_t)(mask >> (24 - 8 * i));
}

static void
gen_v6(struct ref *r, char *text, size_t size)
{
	unsigned n = rnd_below(129), i;
	char addr_text[INET6_ADDRSTRLEN];

	r->kind = 6;
	for (i = 0; i < 16; i++) {
		r->addr[i] = (uint8_t)(i < 2 ? 0x20 + rnd_below(2) :
		    rnd_below(3) == 0 ? rnd() : 0);
		r->mask[i] = (uint8_t)(n >= 8 * (i + 1) ? 0xff :
		    n <= 8 * i ? 0 : 0xff << (8 - (n - 8 * i)));
	}
	inet_ntop(AF_INET6, r->addr, addr_text, sizeof(addr_text));
	snprintf(text, size, "%s/%u", addr_text, n);
}

static void
gen_name(struct ref *r, char *text, size_t size)
{
	char name[128];

	rnd_name(name, sizeof(name), 3);
	if (rnd_below(2)) {
		r->kind = 's';
		snprintf(text, size, ".%s", name);
	} else {
		r->kind = 'n';
		snprintf(text, size, "%s", name);
	}
	if (rnd_below(4) == 0 && strlen(text) + 1 < size)
		strcat(text, ".");
	snprintf(r->name, sizeof(r->name), "%s", r->kind == 's' ? text : name);
	if (r->name[strlen(r->name) - 1] == '.')
		r->name[strlen(r->name) - 1] = '\0';
	lower(r->name);
}

/* An input near the pattern: its address with a few random bits flipped,
 * or a random name; as an AF_INET or a mapped AF_INET6 address. */
static void
probe_hosts(const struct conf *conf, const struct ref *r, const char *pat,
    size_t *mismatches)
{
	unsigned t;

	for (t = 0; t < 64; t++) {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		struct rules_request req;
		struct rules_verdict v;
		struct sockaddr_in client;
		uint8_t x[16];
		char name[128] = "";
		int in_kind = rnd_below(3) == 0 ? 'n' : rnd_below(2) ? 4 : 6;
		unsigned flips = rnd_below(4), i;
		bool want;

		memset(&req, 0, sizeof(req));
		memset(&client, 0, sizeof(client));
		client.sin_family = AF_INET;
		req.client = (const struct sockaddr *)&client;
		req.method = CONF_AUTH_NONE;
		req.cmd = CONF_CMD_CONNECT;
		memcpy(x, r->addr, 16);
		for (i = 0; i < flips; i++)
			x[rnd_below(in_kind == 4 ? 4 : 16)] ^=
			    (uint8_t)(1 << rnd_below(8));
		if (in_kind == 'n') {
			rnd_name(name, sizeof(name), 4);
			if (rnd_below(4) == 0)
				strcat(name, ".");
			req.dest.name = name;
		} else if (in_kind == 4 && rnd_below(2)) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			memcpy(&sin.sin_addr, x, 4);
			req.dest.addr = (const struct sockaddr *)&sin;
		} else {
			/* in_kind 4 as ::ffff:a.b.c.d must match the same. */
			memset(&sin6, 0, sizeof(sin6));
			sin6.sin6_family = AF_INET6;
			if (in_kind == 4) {
				sin6.sin6_addr.s6_addr[10] = 0xff;
				sin6.sin6_addr.s6_addr[11] = 0xff;
				memcpy(&sin6.sin6_addr.s6_addr[12], x, 4);
			} else {
				memcpy(&sin6.sin6_addr, x, 16);
			}
			req.dest.addr = (const struct sockaddr *)&sin6;
		}
		want = ref_match(r, in_kind, x, name);
		rules_access(conf, &req, &v);
		if (v.permit != want && (*mismatches)++ < 5)
			CHECK(0, "pattern '%s', input %s: want %d", pat,
			    in_kind == 'n' ? name : "(address)", want);
	}
}

static void
test_hosts(void)
{
	size_t i, mismatches = 0, loaded = 0;

	for (i = 0; i < 3000; i++) {
		struct ref r;
		char pat[160], text[256];
		struct conf *conf = NULL;
		unsigned which = rnd_below(3);

		memset(&r, 0, sizeof(r));
		if (which == 0)
			gen_v4(&r, pat, sizeof(pat));
		else if (which == 1)
			gen_v6(&r, pat, sizeof(pat));
		else
			gen_name(&r, pat, sizeof(pat));
		snprintf(text, sizeof(text), "permit - c - %s - -\n", pat);
		if (conf_parse_flags("ref", text, strlen(text),
		    CONF_PARSE_NO_ENV, &conf, NULL, NULL) != 0) {
			if (mismatches++ < 5)
				CHECK(0, "pattern '%s' loads", pat);
			continue;
		}
		loaded++;
		probe_hosts(conf, &r, pat, &mismatches);
		conf_free(conf);
	}
	CHECK(mismatches == 0 && loaded == 3000, "3000 random host patterns x "
	    "64 inputs agree with the reference (%zu mismatches)", mismatches);
}

/* Port ranges: random ends and brackets; the reference is the written
 * inequality itself. */
static void
test_ports(void)
{
	size_t i, mismatches = 0;

	for (i = 0; i < 2000; i++) {
		long a = (long)rnd_below(70) - 1 + (rnd_below(2) ? 65470 : 0);
		long b = (long)rnd_below(70) - 1 + (rnd_below(2) ? 65470 : 0);
		bool a_open = rnd_below(2), b_open = rnd_below(2);
		char text[128];
		struct conf *conf = NULL;
		bool valid_ends = (a_open ? a >= -1 && a <= 65536 :
		    a >= 0 && a <= 65535) && (b_open ? b >= -1 && b <= 65536 :
		    b >= 0 && b <= 65535);
		bool nonempty = (a_open ? a + 1 : a) <= (b_open ? b - 1 : b);
		int rc;
		long p;

		snprintf(text, sizeof(text), "permit - c - - - %c%ld%c%ld%c\n",
		    a_open ? '(' : '[', a, rnd_below(2) ? ',' : '-', b,
		    b_open ? ')' : ']');
		rc = conf_parse_flags("ref", text, strlen(text),
		    CONF_PARSE_NO_ENV, &conf, NULL, NULL);
		if ((rc == 0) != (valid_ends && nonempty)) {
			if (mismatches++ < 5)
				CHECK(0, "'%s' loads iff valid and non-empty",
				    text);
			conf_free(conf);
			continue;
		}
		if (rc != 0)
			continue;
		for (p = a - 2; p <= b + 2; p += (b - a > 200 ? 37 : 1)) {
			struct sockaddr_in client;
			struct rules_request req;
			struct rules_verdict v;
			bool want = (a_open ? p > a : p >= a) &&
			    (b_open ? p < b : p <= b);

			if (p < 0 || p > 65535)
				continue;
			memset(&client, 0, sizeof(client));
			client.sin_family = AF_INET;
			memset(&req, 0, sizeof(req));
			req.client = (const struct sockaddr *)&client;
			req.method = CONF_AUTH_NONE;
			req.cmd = CONF_CMD_CONNECT;
			req.dest.port = (uint16_t)p;
			rules_access(conf, &req, &v);
			if (v.permit != want && mismatches++ < 5)
				CHECK(0, "'%s' port %ld: want %d", text, p,
				    want);
		}
		conf_free(conf);
	}
	CHECK(mismatches == 0, "2000 random port ranges agree with the "
	    "reference (%zu mismatches)", mismatches);
}

/* Linear time: a 255-byte name against 2000 suffix patterns that all
 * fail on their first byte compared and 2000 that fail on their last. */
static void
test_linear(void)
{
	static char text[2 * 2000 * 300];
	char name[256];
	size_t len = 0, i;
	struct conf *conf = NULL;
	struct rules_request req;
	struct rules_verdict v;
	struct sockaddr_in client;
	clock_t t0;
	double per_match_us;

	memset(name, 'a', 253);
	for (i = 1; i < 253; i += 2)
		name[i] = '.';
	name[253] = '\0';
	for (i = 0; i < 4000; i++) {
		/* ".a.a....a.b" (differs at the end) and ".b.a.a...." */
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "deny - c - %s%.*s%s - -\n", i % 2 ? ".b" : "",
		    (int)(200 - i % 50 * 2), name + 1 + i % 50 * 2,
		    i % 2 ? "" : ".b");
	}
	len += (size_t)snprintf(text + len, sizeof(text) - len,
	    "permit - c - - - -\n");
	CHECK(conf_parse_flags("lin", text, len, CONF_PARSE_NO_ENV, &conf, NULL,
	    NULL) == 0, "4000 long suffix patterns load");
	memset(&client, 0, sizeof(client));
	client.sin_family = AF_INET;
	memset(&req, 0, sizeof(req));
	req.client = (const struct sockaddr *)&client;
	req.method = CONF_AUTH_NONE;
	req.cmd = CONF_CMD_CONNECT;
	req.dest.name = name;
	t0 = clock();
	for (i = 0; i < 200; i++)
		rules_access(conf, &req, &v);
	per_match_us = (double)(clock() - t0) * 1e6 / CLOCKS_PER_SEC / 200;
	CHECK(v.permit && v.line == 4001, "the long name falls through to the "
	    "last line");
	/* 4000 patterns x <= 254 bytes is about 1M byte compares: well under
	 * 20 ms even on a slow, sanitized build.  A quadratic matcher would
	 * need seconds. */
	CHECK(per_match_us < 20000, "one match over 4000 long suffixes takes "
	    "%.0f us", per_match_us);
	conf_free(conf);
}

int
main(void)
{
	test_hosts();
	test_ports();
	test_linear();
	return unit_done();
}
