/*
 * From bytes to entries (grammar 1.2): physical lines, CR removal,
 * backslash continuation, the 4096-byte logical line limit, NUL bytes,
 * comments and fields.  Also the diagnostic helpers: every message goes out
 * through parser_diag_at, which formats it once and counts errors.
 *
 * The file's bytes are read through common/rd.h like any untrusted input
 * (STYLE 2): the text comes from root, but the fuzzer feeds it too.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "conf/conf_int.h"

/* Every diagnostic goes through here: count errors, format once, call
 * the sink (if any) with the file and line. */
__attribute__((format(printf, 4, 0)))
static void
parser_vdiag(struct parser *p, unsigned line, bool is_error, const char *fmt,
    va_list ap)
{
	char msg[1024];

	if (is_error)
		p->n_errors++;
	if (p->diag == NULL)
		return;
	/* Every caller va_start()s ap; the analyzer loses track of it
	 * across the call when it checks several files in one run. */
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	p->diag(p->diag_ctx, p->file, line, is_error, msg);
}

void
parser_diag_at(struct parser *p, unsigned line, bool is_error,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parser_vdiag(p, line, is_error, fmt, ap);
	va_end(ap);
}

void
parser_error(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parser_vdiag(p, p->line, true, fmt, ap);
	va_end(ap);
}

void
parser_warn(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parser_vdiag(p, p->line, false, fmt, ap);
	va_end(ap);
}

const char *
conf_quote(char out[QUOTE_MAX], const char *s)
{
	/* Leave room for "..." and the NUL. */
	const size_t keep = QUOTE_MAX - 4;
	size_t i;

	for (i = 0; i < keep && s[i] != '\0'; i++) {
		/* A field is echoed to a terminal by -t: never pass control
		 * bytes or partial UTF-8 through. */
		out[i] = s[i];
		if (s[i] < 0x20 || s[i] >= 0x7f)   /* char may be signed */
			out[i] = '?';
	}
	if (s[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

bool
field_is(const struct field *f, const char *lower_word)
{
	size_t i;

	for (i = 0; i < f->len; i++) {
		char ch = f->s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (lower_word[i] == '\0' || ch != lower_word[i])
			return false;
	}
	return lower_word[i] == '\0';
}

/* One logical line being assembled from physical lines. */
struct logical {
	char text[CONF_LINE_MAX + 1];
	size_t len;
	unsigned first_line;
	size_t last_join;     /* offset of the last continuation space, or 0 */
	bool too_long;
	bool has_nul;
};

static void
logical_append(struct logical *lg, const uint8_t *bytes, size_t n)
{
	if (lg->too_long || n > CONF_LINE_MAX - lg->len) {
		lg->too_long = true;
		return;
	}
	if (n > 0)
		memcpy(lg->text + lg->len, bytes, n);
	lg->len += n;
}

/* Read the next logical line from r; false at the end of the input. */
static bool
logical_next(struct rd *r, unsigned *phys_line, struct logical *lg)
{
	bool joined;

	lg->len = 0;
	lg->last_join = 0;
	lg->too_long = false;
	lg->has_nul = false;
	if (rd_left(r) == 0)
		return false;
	lg->first_line = *phys_line + 1;
	do {
		const uint8_t *line;
		size_t n;
		uint8_t newline;

		if (rd_find(r, '\n', rd_left(r), &n) != 0)
			n = rd_left(r);     /* the last line has no newline */
		if (rd_bytes(r, n, &line) != 0)
			n = 0;              /* cannot happen: n <= rd_left */
		if (rd_left(r) > 0)
			(void)rd_u8(r, &newline);
		if (*phys_line < UINT32_MAX)
			(*phys_line)++;
		if (n > 0 && memchr(line, '\0', n) != NULL)
			lg->has_nul = true;
		/* CRLF files: one trailing CR goes, before looking for the
		 * backslash (grammar 1.2). */
		if (n > 0 && line[n - 1] == '\r')
			n--;
		joined = n > 0 && line[n - 1] == '\\';
		if (joined)
			n--;
		logical_append(lg, line, n);
		if (joined) {
			/* The backslash is replaced by one space. */
			lg->last_join = lg->len;
			logical_append(lg, (const uint8_t *)" ", 1);
		}
	} while (joined && rd_left(r) > 0);
	lg->text[lg->too_long ? 0 : lg->len] = '\0';
	return true;
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Split lg's text in place into fields (NUL-terminating each).  fields[]
 * receives at most CONF_FIELDS_MAX; the return value is the real count.
 * *comment_at is the offset of a comment's '#', or SIZE_MAX.
 */
static size_t
split_fields(struct logical *lg, struct field *fields, size_t *comment_at)
{
	size_t i = 0, n_fields = 0;

	*comment_at = SIZE_MAX;
	while (i < lg->len) {
		size_t start;

		while (i < lg->len && is_blank(lg->text[i]))
			i++;
		if (i >= lg->len)
			break;
		/* '#' starts a comment only at the start of a field; inside
		 * one it is an ordinary (and always invalid) byte. */
		if (lg->text[i] == '#') {
			*comment_at = i;
			break;
		}
		start = i;
		while (i < lg->len && !is_blank(lg->text[i]))
			i++;
		if (n_fields < CONF_FIELDS_MAX) {
			fields[n_fields].s = lg->text + start;
			fields[n_fields].len = i - start;
		}
		n_fields++;
		if (i < lg->len)
			lg->text[i++] = '\0';
	}
	return n_fields;
}

int
lines_each(struct parser *p, const uint8_t *buf, size_t len, bool report,
    line_fn *fn)
{
	struct logical *lg;
	struct field fields[CONF_FIELDS_MAX];
	unsigned phys_line = 0;
	struct rd r;
	int rc = 0;

	/* The 4 KiB line buffer lives on the heap: the fuzzer and any
	 * caller on a small stack stay clear of stack limits. */
	if ((lg = malloc(sizeof(*lg))) == NULL)
		return ERR_NOMEM;
	rd_init(&r, buf, len);
	while (rc == 0 && logical_next(&r, &phys_line, lg)) {
		size_t n_fields, comment_at;
		int line_rc;

		p->line = lg->first_line;
		if (lg->has_nul || lg->too_long) {
			if (report && lg->has_nul)
				parser_error(p, "NUL byte in line (expected "
				    "text; is this a binary file?)");
			else if (report)
				parser_error(p, "line longer than %u bytes "
				    "(the limit is on the logical line, "
				    "continuation lines included)",
				    CONF_LINE_MAX);
			continue;
		}
		n_fields = split_fields(lg, fields, &comment_at);
		if (report && comment_at != SIZE_MAX &&
		    lg->last_join > comment_at)
			parser_warn(p, "comment ends with a backslash, so the "
			    "next line is part of the comment (remove the "
			    "backslash if that line is an entry)");
		if (n_fields == 0)
			continue;
		line_rc = fn(p, fields, n_fields);
		if (line_rc != 0 && line_rc != ERR_CONFIG)
			rc = line_rc;
	}
	/* Lines may carry SOCKS5_PASSWD. */
	explicit_bzero(lg, sizeof(*lg));
	free(lg);
	return rc;
}
