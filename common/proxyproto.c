/*
 * PROXY protocol v1 and v2 decoder; the contract is in proxyproto.h.
 * Every byte is read through common/rd.h.  A working copy of the reader is
 * advanced and written back only when a whole header parsed, so a partial
 * header consumes nothing and the caller can read more and call again.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "common/err.h"
#include "common/net.h"
#include "common/proxyproto.h"
#include "common/rd.h"

static const uint8_t v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN (sizeof(v1_sig) - 1)

enum { V2_CMD_LOCAL = 0, V2_CMD_PROXY = 1 };
enum { V2_TCP4 = 0x11, V2_TCP6 = 0x21 };

/* Whether the available bytes agree with the first min(avail, n) bytes of
 * sig; *complete when all n are there. */
static bool
prefix_matches(const struct rd *r, const void *sig, size_t n, bool *complete)
{
	struct rd t = *r;
	size_t k = rd_left(r) < n ? rd_left(r) : n;
	const uint8_t *p;

	*complete = k == n;
	if (rd_bytes(&t, k, &p) != 0)
		return false;
	return memcmp(p, sig, k) == 0;
}

int
pp_detect(const struct rd *r)
{
	bool c1, c2;
	bool m1 = prefix_matches(r, v1_sig, V1_SIG_LEN, &c1);
	bool m2 = prefix_matches(r, v2_sig, sizeof(v2_sig), &c2);

	if (m1 && c1)
		return 1;
	if (m2 && c2)
		return 2;
	if (m1 || m2)
		return ERR_SHORT;
	return ERR_PROTO;
}

/* ---- version 2 ---- */

/* The address block of a PROXY command: the addresses, then TLVs, each of
 * which must lie inside the block (spec 2.2.7).  The block is complete, so
 * running short inside it is malformed, not "read more". */
static int
v2_addresses(struct rd *blk, uint8_t fam, struct pp_header *out)
{
	const uint8_t *src, *dst, *val;
	size_t alen;
	uint16_t sport, dport, tlen;
	uint8_t type;

	if (fam == V2_TCP4)
		alen = 4;
	else if (fam == V2_TCP6)
		alen = 16;
	else
		return ERR_UNSUPPORTED;
	if (rd_bytes(blk, alen, &src) != 0 || rd_bytes(blk, alen, &dst) != 0 ||
	    rd_u16be(blk, &sport) != 0 || rd_u16be(blk, &dport) != 0)
		return ERR_PROTO;
	if (alen == 4) {
		net_addr_make(&out->src, AF_INET, src, sport);
		net_addr_make(&out->dst, AF_INET, dst, dport);
		out->addr_len = sizeof(struct sockaddr_in);
	} else {
		net_addr_make(&out->src, AF_INET6, src, sport);
		net_addr_make(&out->dst, AF_INET6, dst, dport);
		out->addr_len = sizeof(struct sockaddr_in6);
	}
	/* TLVs (ALPN, authority, CRC32C, unique id, SSL, NETNS...): none
	 * changes who the client is, so each is only bounds-checked. */
	while (rd_left(blk) > 0) {
		if (rd_u8(blk, &type) != 0 || rd_u16be(blk, &tlen) != 0 ||
		    rd_bytes(blk, tlen, &val) != 0)
			return ERR_PROTO;
	}
	return 0;
}

static int
parse_v2(struct rd *t, struct pp_header *out)
{
	const uint8_t *sig;
	uint8_t ver_cmd, fam;
	uint16_t len;
	struct rd blk;
	int rc;

	if ((rc = rd_bytes(t, sizeof(v2_sig), &sig)) != 0)
		return rc;
	if (memcmp(sig, v2_sig, sizeof(v2_sig)) != 0)
		return ERR_PROTO;
	/* Each field is judged as soon as it arrives, so a bad header is
	 * refused without waiting for a length's worth of bytes. */
	if ((rc = rd_u8(t, &ver_cmd)) != 0)
		return rc;
	if ((ver_cmd >> 4) != 2 || ((ver_cmd & 0x0f) != V2_CMD_LOCAL &&
	    (ver_cmd & 0x0f) != V2_CMD_PROXY))
		return ERR_PROTO;
	if ((rc = rd_u8(t, &fam)) != 0 || (rc = rd_u16be(t, &len)) != 0)
		return rc;
	if ((size_t)PP_V2_FIXED + len > PP_V2_MAX)
		return ERR_NOSPACE;
	if ((rc = rd_sub(t, len, &blk)) != 0)
		return rc;
	out->version = 2;
	if ((ver_cmd & 0x0f) == V2_CMD_LOCAL) {
		/* Spec 2.2: the receiver ignores a LOCAL header's block. */
		out->local = true;
		return 0;
	}
	return v2_addresses(&blk, fam, out);
}

/* ---- version 1 ---- */

/* A port: 0-65535 in decimal, no sign, no leading zero. */
static bool
v1_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* An address of family af from a token (inet_pton: strict dotted quad,
 * standard IPv6 text). */
static bool
v1_addr(int af, const char *s, size_t len, uint8_t out[16])
{
	char text[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	return inet_pton(af, text, out) == 1;
}

/* "PROXY TCP4|TCP6 src dst sport dport" or "PROXY UNKNOWN[ ...]", the
 * CRLF already removed; single spaces only (spec 2.1). */
static int
v1_line(const char *line, size_t len, struct pp_header *out)
{
	const char *tok[6];
	size_t tlen[6], n = 0, i, start = 0;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	int af;

	if (len >= V1_SIG_LEN + 7 &&
	    memcmp(line + V1_SIG_LEN, "UNKNOWN", 7) == 0 &&
	    (len == V1_SIG_LEN + 7 || line[V1_SIG_LEN + 7] == ' ')) {
		/* Whatever follows UNKNOWN is to be ignored. */
		out->local = true;
		return 0;
	}
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		if (i == start || n == 6)
			return ERR_PROTO;   /* empty token or too many */
		tok[n] = line + start;
		tlen[n++] = i - start;
		start = i + 1;
	}
	if (n != 6)
		return ERR_PROTO;
	if (tlen[1] == 4 && memcmp(tok[1], "TCP4", 4) == 0)
		af = AF_INET;
	else if (tlen[1] == 4 && memcmp(tok[1], "TCP6", 4) == 0)
		af = AF_INET6;
	else
		return ERR_PROTO;
	if (!v1_addr(af, tok[2], tlen[2], src) ||
	    !v1_addr(af, tok[3], tlen[3], dst) ||
	    !v1_port(tok[4], tlen[4], &sport) ||
	    !v1_port(tok[5], tlen[5], &dport))
		return ERR_PROTO;
	if (af == AF_INET) {
		net_addr_make(&out->src, AF_INET, src, sport);
		net_addr_make(&out->dst, AF_INET, dst, dport);
		out->addr_len = sizeof(struct sockaddr_in);
	} else {
		net_addr_make(&out->src, AF_INET6, src, sport);
		net_addr_make(&out->dst, AF_INET6, dst, dport);
		out->addr_len = sizeof(struct sockaddr_in6);
	}
	return 0;
}

static int
parse_v1(struct rd *t, struct pp_header *out)
{
	const uint8_t *p;
	size_t n, i;
	int rc;

	/* The LF must come within the 107 bytes the spec allows. */
	if ((rc = rd_find(t, '\n', PP_V1_MAX, &n)) != 0)
		return rc;
	if ((rc = rd_bytes(t, n + 1, &p)) != 0)
		return rc;
	if (n < V1_SIG_LEN + 1 || p[n - 1] != '\r')
		return ERR_PROTO;
	/* Printable ASCII only: no CR, NUL or other control byte inside. */
	for (i = 0; i < n - 1; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return ERR_PROTO;
	out->version = 1;
	return v1_line((const char *)p, n - 1, out);
}

int
pp_parse(struct rd *r, struct pp_header *out)
{
	struct rd t = *r;
	struct pp_header h;
	int rc;

	memset(&h, 0, sizeof(h));
	if ((rc = pp_detect(r)) < 0)
		return rc;
	rc = rc == 1 ? parse_v1(&t, &h) : parse_v2(&t, &h);
	if (rc != 0)
		return rc;
	*out = h;
	*r = t;
	return 0;
}
