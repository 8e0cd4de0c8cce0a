/*
 * The operational log escapes what it is given: a client's user name or
 * host name with a newline in it must not forge a line of its own.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "unit.h"

static void
test_escape_table(void)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "alice", "alice" },
		{ "", "" },
		{ "a\nb", "a\\x0ab" },
		{ "a\r\nsocks5d[1]: forged", "a\\x0d\\x0asocks5d[1]: forged" },
		{ "tab\there", "tab\\x09here" },
		{ "esc\x1b[2J", "esc\\x1b[2J" },
		{ "del\x7f", "del\\x7f" },
		{ "caf\xc3\xa9", "caf\\xc3\\xa9" },
		{ "csi\x9b", "csi\\x9b" },
		{ "back\\slash", "back\\\\slash" },
		{ "\\x0a", "\\\\x0a" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = log_escape(buf, sizeof(buf), rows[i].in);

		CHECK(strcmp(buf, rows[i].out) == 0 && n == strlen(rows[i].out),
		    "escape row %zu gives \"%s\" (got \"%s\")", i, rows[i].out,
		    buf);
	}
}

static void
test_escape_bounds(void)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	CHECK(log_escape(buf, sizeof(buf), "abcdefghij") == 7 &&
	    strcmp(buf, "abcdefg") == 0, "plain text is cut to fit, terminated");
	CHECK(log_escape(buf, sizeof(buf), "abcd\n") == 4 &&
	    strcmp(buf, "abcd") == 0, "an escape that does not fit is left out whole");
	CHECK(log_escape(buf, 1, "x") == 0 && buf[0] == '\0', "room for the NUL only");
	CHECK(log_escape(buf, 0, "x") == 0, "no room at all");
}

/* What log_warnx writes on stderr for a hostile string. */
static void
test_one_line(void)
{
	int pipefd[2], saved;
	char out[512];
	ssize_t n;
	int lines = 0;

	if (pipe(pipefd) != 0) {
		CHECK(0, "pipe");
		return;
	}
	saved = dup(STDERR_FILENO);
	dup2(pipefd[1], STDERR_FILENO);
	log_init("test", false);
	log_warnx("user '%s' refused", "bob\nsocks5d[1]: user 'root' accepted");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(pipefd[1]);
	n = read(pipefd[0], out, sizeof(out) - 1);
	close(pipefd[0]);
	out[n > 0 ? n : 0] = '\0';
	/* The line's own newline would break the TAP line below. */
	for (char *p = out; *p != '\0'; p++)
		lines += *p == '\n';
	out[strcspn(out, "\n")] = '\0';
	CHECK(lines == 1, "one log call is one line (got %d)", lines);
	CHECK(strstr(out, "bob\\x0asocks5d[1]: user 'root' accepted") != NULL,
	    "the newline is shown escaped: %s", out);
}

int
main(void)
{
	test_escape_table();
	test_escape_bounds();
	test_one_line();
	return unit_done();
}
