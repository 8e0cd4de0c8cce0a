/*
 * The values of server variables that are more than a number or a string
 * (conf/vars.c applies them): flags, names, the bind interface, the UDP
 * port range, SOCKS5_MAXSTARTUPS and SOCKS5_GSS_PROTECTION.  Each parser
 * returns false on an invalid value and then changes nothing.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_int.h"

bool
var_text_ok(const char *s, size_t len, size_t cap)
{
	size_t i;

	if (len == 0 || len >= cap)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || ch == '#')
			return false;
	}
	return true;
}

/* 1 to cap - 1 bytes of letters, digits, '.', '_' and '-': PAM service
 * and user names. */
bool
var_name_ok(const char *s, size_t len, size_t cap)
{
	if (len == 0 || len >= cap)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-'))
			return false;
	}
	return true;
}

bool
var_flag_value(const char *s, bool *on)
{
	static const char *const yes[] = { "1", "yes", "on" };
	static const char *const no[] = { "0", "no", "off" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*on = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*on = false;
			return true;
		}
	}
	return false;
}

/* [host]:port: host empty (0.0.0.0), an IPv4 literal or [IPv6]; no name,
 * because nothing is resolved at load (grammar 3.1). */
bool
var_bindintfc_parse(const char *s, size_t len, struct conf_vars *v)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const char *colon;
	uint16_t port;
	uint32_t v4 = 0;
	char text[INET6_ADDRSTRLEN];

	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		size_t host_len;

		if (close == NULL || close + 1 >= s + len || close[1] != ':')
			return false;
		host_len = (size_t)(close - s - 1);
		if (host_len == 0 || host_len >= sizeof(text))
			return false;
		memcpy(text, s + 1, host_len);
		text[host_len] = '\0';
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, text, &sin6.sin6_addr) != 1)
			return false;
		colon = close + 1;
		if (pat_port_value(colon + 1, len - (size_t)(colon + 1 - s),
		    &port) != 0)
			return false;
		sin6.sin6_port = htons(port);
		memcpy(&v->bind_addr, &sin6, sizeof(sin6));
		v->bind_addr_len = sizeof(sin6);
		return true;
	}
	if ((colon = memchr(s, ':', len)) == NULL)
		return false;
	if (colon > s && !pat_ipv4(s, (size_t)(colon - s), &v4))
		return false;
	if (pat_port_value(colon + 1, len - (size_t)(colon + 1 - s), &port) !=
	    0)
		return false;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(v4);
	sin.sin_port = htons(port);
	memcpy(&v->bind_addr, &sin, sizeof(sin));
	v->bind_addr_len = sizeof(sin);
	return true;
}

bool
var_portrange_parse(const char *s, size_t len, struct conf_vars *v)
{
	const char *dash = memchr(s, '-', len);
	uint16_t lo, hi;

	if (len == 3 && memcmp(s, "0-0", 3) == 0) {
		v->udp_port_lo = v->udp_port_hi = 0;
		return true;
	}
	if (dash == NULL ||
	    pat_port_value(s, (size_t)(dash - s), &lo) != 0 ||
	    pat_port_value(dash + 1, len - (size_t)(dash + 1 - s), &hi) != 0 ||
	    lo > hi)
		return false;
	v->udp_port_lo = lo;
	v->udp_port_hi = hi;
	return true;
}

/* SOCKS5_MAXSTARTUPS: "start:rate:full" as sshd's MaxStartups, or "0"
 * (no early drop; the per-source cap still applies). */
bool
var_startups_parse(const char *s, struct conf_vars *v)
{
	unsigned long n[3];
	const char *p = s;
	char *end;

	if (strcmp(s, "0") == 0) {
		v->startups_start = v->startups_rate = v->startups_full = 0;
		return true;
	}
	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9' || strspn(p, "0123456789") > 6)
			return false;
		n[i] = strtoul(p, &end, 10);
		if (*end != (i < 2 ? ':' : '\0'))
			return false;
		p = end + 1;
	}
	if (n[0] < 1 || n[0] >= n[2] || n[2] > 100000 || n[1] > 100)
		return false;
	v->startups_start = (unsigned)n[0];
	v->startups_rate = (unsigned)n[1];
	v->startups_full = (unsigned)n[2];
	return true;
}

/*
 * SOCKS5_GSS_PROTECTION: the RFC 1961 section 4 levels the server accepts,
 * comma-separated.  Only "none" is served: per-message protection needs
 * the worker to import the security context authd established, and the
 * MIT krb5 1.20 of Debian 12 cannot import one inside the worker's empty
 * chroot (docs/socks5.conf-extensions.md).  Naming integrity or
 * confidentiality is an error rather than a silent downgrade: an operator
 * who asked for encryption must not believe he has it.
 */
bool
var_gssprot_parse(const char *s, size_t len, struct conf_vars *v)
{
	uint8_t mask = 0;
	size_t i = 0;

	while (i <= len) {
		size_t j = i;

		while (j < len && s[j] != ',')
			j++;
		if (j - i == 4 && memcmp(s + i, "none", 4) == 0)
			mask |= CONF_GSS_PROT_NONE;
		else
			return false;
		i = j + 1;
	}
	v->gss_protection = mask;
	return mask != 0;
}
