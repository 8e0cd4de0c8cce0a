/*
 * Host and port patterns (grammar 3.1, 3.2) compiled to their binary form:
 * host patterns to a mask in the 128-bit address space of conf_int.h or a
 * lower-case name, port patterns to an inclusive range.  Service names are
 * looked up at load, so that matching never touches the services database
 * (a chrooted worker could not); through the lookup the parse in progress
 * installed, never through NSS here, so that the session image, which is
 * static and must carry no NSS code, can link this file.
 *
 * Globals: that lookup (services), set by parse_common for one parse and
 * put back after it; every process that parses is single-threaded.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "conf/conf_int.h"

#define HOST_EXPECTED "(expected -, n1., n1.n2., n1.n2.n3., a.b.c.d, " \
	"addr/mask, .domain or host.name)"
#define PORT_EXPECTED "(expected -, a port 0-65535, a service name, " \
	"or a range [a,b], (a,b), [a,b) or (a,b])"

/* ---- the 128-bit address space ---- */

void
naddr_from_v4(struct naddr *a, uint32_t v4)
{
	uint8_t b[16] = { [10] = 0xff, [11] = 0xff };

	b[12] = (uint8_t)(v4 >> 24);
	b[13] = (uint8_t)(v4 >> 16);
	b[14] = (uint8_t)(v4 >> 8);
	b[15] = (uint8_t)v4;
	memcpy(a->w, b, sizeof(b));
}

void
naddr_from_v6(struct naddr *a, const uint8_t v6[16])
{
	memcpy(a->w, v6, 16);
}

void
naddr_prefix(struct naddr *mask, unsigned prefix_len)
{
	uint8_t b[16] = { 0 };
	unsigned i;

	for (i = 0; i < 16 && prefix_len >= 8; i++, prefix_len -= 8)
		b[i] = 0xff;
	if (i < 16 && prefix_len > 0)
		b[i] = (uint8_t)(0xff << (8 - prefix_len));
	memcpy(mask->w, b, sizeof(b));
}

bool
naddr_is_v4(const struct naddr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a->w, mapped, sizeof(mapped)) == 0;
}

/* The length of a contiguous mask, or HP_NONCONTIG. */
static uint8_t
mask_prefix_len(const struct naddr *mask)
{
	uint8_t b[16];
	unsigned len = 0, i;
	bool ended = false;

	memcpy(b, mask->w, sizeof(b));
	for (i = 0; i < 128; i++) {
		bool bit = (b[i / 8] >> (7 - i % 8)) & 1;

		if (bit && ended)
			return HP_NONCONTIG;
		if (bit)
			len++;
		else
			ended = true;
	}
	return (uint8_t)len;
}

static void
hostpat_addr(struct hostpat *out, const struct naddr *addr,
    const struct naddr *mask)
{
	out->kind = HP_ADDR;
	out->mask = *mask;
	out->addr.w[0] = addr->w[0] & mask->w[0];
	out->addr.w[1] = addr->w[1] & mask->w[1];
	out->prefix_len = mask_prefix_len(mask);
}

/* ---- IPv4 and IPv6 text ---- */

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* Decimal digits s[0..len) as a number, saturating at 99999 so that huge
 * inputs cannot wrap; false if len is 0 or a byte is not a digit. */
static bool
decimal(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 99999)
			v = 99999;
	}
	*out = v;
	return true;
}

enum octets_rc { OCT_OK, OCT_SYNTAX, OCT_RANGE };

/*
 * Up to four dot-separated decimal octets, with an optional dot at the end
 * (the n1. prefix forms).  *bad receives an octet's value above 255.
 */
static enum octets_rc
octets_parse(const char *s, size_t len, uint8_t oct[4], size_t *count,
    bool *trailing_dot, unsigned *bad)
{
	size_t start = 0, n = 0, i;

	*trailing_dot = len > 0 && s[len - 1] == '.';
	if (*trailing_dot)
		len--;
	for (i = 0; i <= len; i++) {
		unsigned v;

		if (i < len && s[i] != '.')
			continue;
		if (n == 4 || !decimal(s + start, i - start, &v))
			return OCT_SYNTAX;
		if (v > 255) {
			*bad = v;
			return OCT_RANGE;
		}
		oct[n++] = (uint8_t)v;
		start = i + 1;
	}
	*count = n;
	return OCT_OK;
}

bool
pat_ipv4(const char *s, size_t len, uint32_t *out)
{
	uint8_t oct[4];
	size_t count;
	bool trailing_dot;
	unsigned bad;

	if (octets_parse(s, len, oct, &count, &trailing_dot, &bad) != OCT_OK ||
	    count != 4 || trailing_dot)
		return false;
	*out = (uint32_t)oct[0] << 24 | (uint32_t)oct[1] << 16 |
	    (uint32_t)oct[2] << 8 | oct[3];
	return true;
}

/* An IPv6 literal (no zone index: a pattern is not tied to a link). */
static bool
parse_v6(const char *s, size_t len, struct naddr *out)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t bytes[16];

	if (len == 0 || len >= sizeof(text) || memchr(s, '%', len) != NULL)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET6, text, bytes) != 1)
		return false;
	naddr_from_v6(out, bytes);
	return true;
}

/* ---- host patterns ---- */

bool
pat_hostname_ok(const char *s, size_t len)
{
	size_t label_start = 0, i;
	bool all_digits = true;

	if (len == 0 || len > CONF_NAME_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		/* The end of the name ends its last label. */
		char ch = '.';

		if (i < len)
			ch = s[i];
		if (ch == '.') {
			if (i == label_start || i - label_start > 63)
				return false;
			if (i == len && all_digits)
				return false;   /* 10, 1.2.3: not names */
			label_start = i + 1;
			all_digits = true;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    is_digit(ch) || ch == '-' || ch == '_'))
			return false;
		if (!is_digit(ch))
			all_digits = false;
	}
	return true;
}

static int
host_bad(struct parser *p, const struct field *f, const char *why)
{
	char q[QUOTE_MAX];

	parser_error(p, "invalid host pattern '%s' %s", conf_quote(q, f->s),
	    why);
	return ERR_CONFIG;
}

/* n1. n1.n2. n1.n2.n3. and a.b.c.d */
static int
host_v4(struct parser *p, const struct field *f, struct hostpat *out)
{
	uint8_t oct[4] = { 0 };
	struct naddr addr, mask;
	size_t count = 0;
	bool trailing_dot;
	unsigned bad = 0;
	char why[64];

	switch (octets_parse(f->s, f->len, oct, &count, &trailing_dot, &bad)) {
	case OCT_OK:
		break;
	case OCT_RANGE:
		snprintf(why, sizeof(why), "(octet %u is above 255)", bad);
		return host_bad(p, f, why);
	case OCT_SYNTAX:
		return host_bad(p, f, HOST_EXPECTED);
	}
	if (trailing_dot && count == 4)
		return host_bad(p, f, "(a full address takes no trailing dot)");
	if (!trailing_dot && count != 4)
		return host_bad(p, f, HOST_EXPECTED);
	naddr_from_v4(&addr, (uint32_t)oct[0] << 24 | (uint32_t)oct[1] << 16 |
	    (uint32_t)oct[2] << 8 | oct[3]);
	naddr_prefix(&mask, 96 + 8 * (unsigned)count);
	hostpat_addr(out, &addr, &mask);
	return 0;
}

/* ADDR/MASK, ADDR/N and NEC's ADDR/a, /n, /h, /s. */
static int
host_masked(struct parser *p, const struct field *f, size_t slash,
    struct hostpat *out)
{
	const char *mask_text = f->s + slash + 1;
	size_t mask_len = f->len - slash - 1;
	struct naddr addr, mask;
	uint32_t v4 = 0, v4mask;
	unsigned prefix;
	bool is_v4;
	char why[96], q[QUOTE_MAX];

	if (pat_ipv4(f->s, slash, &v4)) {
		is_v4 = true;
		naddr_from_v4(&addr, v4);
	} else if (memchr(f->s, ':', slash) != NULL &&
	    parse_v6(f->s, slash, &addr)) {
		/* Written as IPv6 (even ::ffff:a.b.c.d): IPv6 prefix lengths. */
		is_v4 = false;
	} else {
		return host_bad(p, f, "(the part before '/' must be a full "
		    "IPv4 or IPv6 address)");
	}
	if (mask_len == 1) {
		switch (mask_text[0] | 0x20) {   /* letters are case-blind */
		case 'a':
			out->kind = HP_ANY;
			return 0;
		case 'h':
			naddr_prefix(&mask, 128);
			hostpat_addr(out, &addr, &mask);
			return 0;
		case 'n':
			if (!naddr_is_v4(&addr))
				return host_bad(p, f, "('/n' takes an IPv4 "
				    "class A, B or C address)");
			if (((const uint8_t *)addr.w)[12] >= 224)
				return host_bad(p, f, "('/n' is undefined for "
				    "class D and E addresses; write the mask)");
			prefix = ((const uint8_t *)addr.w)[12] < 128 ? 8 :
			    ((const uint8_t *)addr.w)[12] < 192 ? 16 : 24;
			naddr_prefix(&mask, 96 + prefix);
			hostpat_addr(out, &addr, &mask);
			return 0;
		case 's':
			return host_bad(p, f, "('/s' is not supported; write "
			    "the mask, e.g. 10.1.0.0/255.255.0.0 or "
			    "10.1.0.0/16)");
		default:
			break;
		}
	}
	if (decimal(mask_text, mask_len, &prefix)) {
		/* A bare number is a CIDR prefix length (extension, 3.1). */
		unsigned max = is_v4 ? 32 : 128;

		if (prefix > max) {
			snprintf(why, sizeof(why), "(prefix length %u is above "
			    "%u)", prefix, max);
			return host_bad(p, f, why);
		}
		naddr_prefix(&mask, (is_v4 ? 96 : 0) + prefix);
		hostpat_addr(out, &addr, &mask);
		return 0;
	}
	if (is_v4 && pat_ipv4(mask_text, mask_len, &v4mask)) {
		naddr_from_v4(&mask, v4mask);
		/* The mapped prefix ::ffff: must be kept whole. */
		mask.w[0] = ~(uint64_t)0;
		memset((uint8_t *)mask.w + 8, 0xff, 4);
		hostpat_addr(out, &addr, &mask);
		if (out->prefix_len == HP_NONCONTIG)
			parser_warn(p, "non-contiguous mask in '%s' (matching "
			    "is a bitwise AND; write a contiguous mask or /N "
			    "unless this is intended)", conf_quote(q, f->s));
		return 0;
	}
	return host_bad(p, f, is_v4 ?
	    "(expected a mask after '/': a.b.c.d, a prefix length 0-32, "
	    "or a, n, h)" :
	    "(expected a prefix length 0-128, or a or h, after '/')");
}

/* .domain.suffix and host.name */
static int
host_name(struct parser *p, const struct field *f, struct hostpat *out)
{
	bool suffix = f->s[0] == '.';
	size_t len = f->len;
	char *name;

	/* One trailing dot (a fully qualified name) is ignored, as it is on
	 * the names clients send (grammar 3.1). */
	if (len > 1 && f->s[len - 1] == '.')
		len--;
	if (!pat_hostname_ok(f->s + suffix, len - suffix))
		return host_bad(p, f, HOST_EXPECTED);
	if ((name = conf_strdup(p->conf, f->s, len, true)) == NULL)
		return ERR_NOMEM;
	out->kind = suffix ? HP_SUFFIX : HP_NAME;
	out->name = name;
	out->name_len = (uint16_t)len;
	return 0;
}

int
pat_host(struct parser *p, const struct field *f, struct hostpat *out)
{
	const char *slash;
	struct naddr addr, mask;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (f->len == 1 && f->s[0] == '-') {
		out->kind = HP_ANY;
		return 0;
	}
	if ((slash = memchr(f->s, '/', f->len)) != NULL)
		return host_masked(p, f, (size_t)(slash - f->s), out);
	if (memchr(f->s, ':', f->len) != NULL) {
		if (!parse_v6(f->s, f->len, &addr))
			return host_bad(p, f, "(not a valid IPv6 address)");
		naddr_prefix(&mask, 128);
		hostpat_addr(out, &addr, &mask);
		return 0;
	}
	for (i = 0; i < f->len && (is_digit(f->s[i]) || f->s[i] == '.'); i++)
		;
	if (i == f->len)
		return host_v4(p, f, out);
	return host_name(p, f, out);
}

/* ---- port patterns ---- */

enum port_rc { PORT_OK, PORT_SYNTAX, PORT_RANGE, PORT_SERVICE };

static const struct conf_services *services;

const struct conf_services *
pat_services_swap(const struct conf_services *next)
{
	const struct conf_services *prev = services;

	services = next;
	return prev;
}

bool
pat_service_name_ok(const char *s, size_t len)
{
	size_t i;
	bool digits_only = true;

	if (len == 0 || len > CONF_SERVICE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    is_digit(ch) || ch == '-' || ch == '_' || ch == '.' ||
		    ch == '+'))
			return false;
		if (!is_digit(ch))
			digits_only = false;
	}
	return !digits_only;
}

/* A TCP service name through the installed lookup; with none, every name
 * is unknown. */
static bool
service_port(const char *s, size_t len, unsigned *out)
{
	char name[CONF_SERVICE_NAME_MAX + 1];

	if (services == NULL || !pat_service_name_ok(s, len))
		return false;
	memcpy(name, s, len);
	name[len] = '\0';
	return services->fn(services->ctx, name, out) && *out <= 65535;
}

/* One port: a number or a service name.  At an exclusive range end, -1 and
 * 65536 are allowed so that (1023,65536) can be written (grammar 3.2). */
static enum port_rc
port_value(const char *s, size_t len, bool exclusive_end, long *out)
{
	unsigned v;

	if (len > 0 && s[0] == '-') {
		if (!decimal(s + 1, len - 1, &v))
			return PORT_SYNTAX;
		if (!exclusive_end || v != 1)
			return PORT_RANGE;
		*out = -1;
		return PORT_OK;
	}
	if (decimal(s, len, &v)) {
		if (v > (exclusive_end ? 65536u : 65535u))
			return PORT_RANGE;
		*out = v;
		return PORT_OK;
	}
	if (!pat_service_name_ok(s, len))
		return PORT_SYNTAX;
	if (!service_port(s, len, &v))
		return PORT_SERVICE;
	*out = v;
	return PORT_OK;
}

int
pat_port_value(const char *s, size_t len, uint16_t *out)
{
	long v;

	if (port_value(s, len, false, &v) != PORT_OK || v == 0)
		return ERR_CONFIG;
	*out = (uint16_t)v;
	return 0;
}

/* [a,b] (a,b) [a,b) (a,b], with ',' or '-' between the ends. */
static enum port_rc
port_range(const char *s, size_t len, long *lo, long *hi)
{
	bool lo_excl, hi_excl, tried = false;
	const char *inner = s + 1, *comma;
	size_t inner_len, k;
	enum port_rc rc, first_rc = PORT_SYNTAX;

	if (len < 2 || (s[len - 1] != ']' && s[len - 1] != ')'))
		return PORT_SYNTAX;
	lo_excl = s[0] == '(';
	hi_excl = s[len - 1] == ')';
	inner_len = len - 2;
	if ((comma = memchr(inner, ',', inner_len)) != NULL) {
		k = (size_t)(comma - inner);
		if (memchr(comma + 1, ',', inner_len - k - 1) != NULL)
			return PORT_SYNTAX;
		if ((rc = port_value(inner, k, lo_excl, lo)) != PORT_OK)
			return rc;
		rc = port_value(comma + 1, inner_len - k - 1, hi_excl, hi);
		goto bounds;
	}
	/* With '-' as the separator, an end may itself hold a '-' (-1, a
	 * service name such as x11-ssh): the first split that makes two
	 * valid ends wins.  Bounded: one try per '-' in a 4 KiB line. */
	for (k = 1; k + 1 < inner_len; k++) {
		if (inner[k] != '-')
			continue;
		rc = port_value(inner, k, lo_excl, lo);
		if (rc == PORT_OK)
			rc = port_value(inner + k + 1, inner_len - k - 1,
			    hi_excl, hi);
		if (rc == PORT_OK)
			goto bounds;
		if (!tried)
			first_rc = rc;
		tried = true;
	}
	return first_rc;
bounds:
	if (rc != PORT_OK)
		return rc;
	if (lo_excl)
		(*lo)++;
	if (hi_excl)
		(*hi)--;
	return PORT_OK;
}

int
pat_port(struct parser *p, const struct field *f, struct portpat *out)
{
	long lo = 0, hi = 65535;
	enum port_rc rc;
	char q[QUOTE_MAX];

	if (f->len == 1 && f->s[0] == '-') {
		out->lo = 0;
		out->hi = 65535;
		return 0;
	}
	if (f->s[0] == '[' || f->s[0] == '(') {
		rc = port_range(f->s, f->len, &lo, &hi);
		if (rc == PORT_OK && lo > hi) {
			parser_error(p, "empty port range '%s' (no port lies "
			    "between its ends)", conf_quote(q, f->s));
			return ERR_CONFIG;
		}
	} else {
		rc = port_value(f->s, f->len, false, &lo);
		hi = lo;
	}
	switch (rc) {
	case PORT_OK:
		out->lo = (uint16_t)lo;
		out->hi = (uint16_t)hi;
		return 0;
	case PORT_RANGE:
		parser_error(p, "invalid port pattern '%s' (ports are 0-65535; "
		    "-1 and 65536 only at an exclusive end)",
		    conf_quote(q, f->s));
		break;
	case PORT_SERVICE:
		parser_error(p, "unknown service in port pattern '%s' "
		    "(expected a TCP service name from the services database, "
		    "or a number)", conf_quote(q, f->s));
		break;
	case PORT_SYNTAX:
		parser_error(p, "invalid port pattern '%s' " PORT_EXPECTED,
		    conf_quote(q, f->s));
		break;
	}
	return ERR_CONFIG;
}
