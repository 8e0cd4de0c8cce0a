/*
 * The audit logger's check of a record (auditd/auditd.h): the bytes come
 * from any process, a hijacked worker included, so they are parsed as
 * untrusted input through the reader, against the one shape audit_format
 * writes: a flat JSON object without white space, string keys of [a-z_],
 * each once, values strings of printable ASCII (escapes \" \\ \u00XX) or
 * non-negative integers.  Nothing else is ever appended to the file.
 */
#include <stdio.h>
#include <string.h>

#include "auditd/auditd.h"
#include "common/err.h"
#include "common/rd.h"

enum { KEYS_MAX = 32, KEY_MAX = 16, INT_DIGITS_MAX = 18 };

static int
expect(struct rd *r, uint8_t want)
{
	uint8_t c;
	int rc;

	if ((rc = rd_u8(r, &c)) != 0)
		return rc;
	return c == want ? 0 : ERR_PROTO;
}

/* The next byte, left unread. */
static int
peek(const struct rd *r, uint8_t *c)
{
	struct rd ahead = *r;

	return rd_u8(&ahead, c) == 0 ? 0 : ERR_PROTO;
}

static bool
is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A string value, the opening quote already read. */
static int
string_rest(struct rd *r)
{
	uint8_t c;

	for (;;) {
		if (rd_u8(r, &c) != 0)
			return ERR_PROTO;
		if (c == '"')
			return 0;
		if (c < 0x20 || c > 0x7e)
			return ERR_PROTO;
		if (c != '\\')
			continue;
		if (rd_u8(r, &c) != 0)
			return ERR_PROTO;
		if (c == '"' || c == '\\')
			continue;
		if (c != 'u')
			return ERR_PROTO;
		{
			const uint8_t *h;

			if (rd_bytes(r, 4, &h) != 0 || h[0] != '0' ||
			    h[1] != '0' || !is_hex(h[2]) || !is_hex(h[3]))
				return ERR_PROTO;
		}
	}
}

static int
key(struct rd *r, char *out)
{
	size_t n = 0;
	uint8_t c;

	if (expect(r, '"') != 0)
		return ERR_PROTO;
	for (;;) {
		if (rd_u8(r, &c) != 0)
			return ERR_PROTO;
		if (c == '"')
			break;
		if (!((c >= 'a' && c <= 'z') || c == '_') || n == KEY_MAX)
			return ERR_PROTO;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n == 0 ? ERR_PROTO : 0;
}

/* An integer: no sign, no leading zero, at most 18 digits (fits int64). */
static int
integer(struct rd *r, int64_t *val)
{
	size_t n = 0;
	uint8_t c;

	*val = 0;
	while (peek(r, &c) == 0 && c >= '0' && c <= '9') {
		if (n == INT_DIGITS_MAX || (n == 1 && *val == 0))
			return ERR_PROTO;
		(void)rd_u8(r, &c);
		*val = *val * 10 + (c - '0');
		n++;
	}
	return n == 0 ? ERR_PROTO : 0;
}

int
auditd_record_check(const uint8_t *buf, size_t len, int64_t *pid)
{
	char keys[KEYS_MAX][KEY_MAX + 1];
	size_t n_keys = 0;
	bool have_event = false;
	struct rd r;
	uint8_t c;

	*pid = 0;
	rd_init(&r, buf, len);
	if (expect(&r, '{') != 0)
		return ERR_PROTO;
	for (;;) {
		char *k;

		if (n_keys == KEYS_MAX)
			return ERR_PROTO;
		k = keys[n_keys];
		if (key(&r, k) != 0 || expect(&r, ':') != 0)
			return ERR_PROTO;
		for (size_t i = 0; i < n_keys; i++)
			if (strcmp(keys[i], k) == 0)
				return ERR_PROTO;
		n_keys++;
		if (peek(&r, &c) != 0)
			return ERR_PROTO;
		if (c == '"') {
			(void)rd_u8(&r, &c);
			/* pid is the one field the logger vouches for: it
			 * must be a number. */
			if (strcmp(k, "pid") == 0 || string_rest(&r) != 0)
				return ERR_PROTO;
			if (strcmp(k, "event") == 0)
				have_event = true;
		} else {
			int64_t v;

			if (integer(&r, &v) != 0 || strcmp(k, "event") == 0)
				return ERR_PROTO;
			if (strcmp(k, "pid") == 0) {
				if (v == 0)
					return ERR_PROTO;
				*pid = v;
			}
		}
		if (rd_u8(&r, &c) != 0)
			return ERR_PROTO;
		if (c == '}')
			break;
		if (c != ',')
			return ERR_PROTO;
	}
	if (rd_end(&r) != 0 || !have_event)
		return ERR_PROTO;
	return 0;
}

int
auditd_record_line(const uint8_t *rec, size_t len, pid_t sender,
    bool trusted, char *out, size_t cap)
{
	int64_t pid;
	int n;

	if (auditd_record_check(rec, len, &pid) != 0)
		return ERR_PROTO;
	/* A record naming a process is that process's own, except the
	 * master's (it reports on the workers it reaps). */
	if (!trusted && pid != 0 && pid != sender)
		return ERR_DENIED;
	if (pid != 0 || trusted)
		n = snprintf(out, cap, "%.*s\n", (int)len, (const char *)rec);
	else
		n = snprintf(out, cap, "%.*s,\"pid\":%ld}\n", (int)len - 1,
		    (const char *)rec, (long)sender);
	if (n < 0 || (size_t)n >= cap)
		return ERR_NOSPACE;
	return n;
}
