/*
 * Globals: title_area and title_size, the argv/environ block the title is
 * written over, and env_copy and env_strings, the environment moved out of
 * it; set once in proctitle_init.
 */
#include <sys/prctl.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/layout.h"
#include "common/proctitle.h"

extern char **environ;

static char *title_area;
static size_t title_size;
/* How much of the area may hold something other than NULs: all of it
 * until the first title, then the last title's length. */
static size_t title_used SESSION_WRITTEN;
/* environ's new home, kept for the life of the process (environ points
 * here; held so that leak checkers see it as reachable, not lost), and
 * the strings, in one block held here too: unsetenv(3) drops a string's
 * only pointer from environ (master/listen.c, LISTEN_PID), and a string
 * allocated on its own was then a leak. */
static char **volatile env_copy;
static char *volatile env_strings;

/* s into dst (room bytes, room >= 1), cut to fit and terminated; returns
 * the length written. */
static size_t
put_cut(char *dst, size_t room, const char *s)
{
	size_t n = strnlen(s, room - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
	return n;
}

void
proctitle_init(int argc, char **argv)
{
	char *end, *strings;
	size_t n = 0, size = 0;
	char **new_env;

	if (argc < 1 || argv[0] == NULL)
		return;
	/* argv strings and then environ strings are contiguous: the title
	 * may use all of them once environ has been copied elsewhere. */
	end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	for (int i = 0; environ[i] != NULL; i++) {
		if (environ[i] == end)
			end = environ[i] + strlen(environ[i]) + 1;
		n++;
		size += strlen(environ[i]) + 1;
	}
	if ((new_env = calloc(n + 1, sizeof(*new_env))) == NULL)
		return;
	if ((strings = malloc(size > 0 ? size : 1)) == NULL) {
		free(new_env);
		return;
	}
	for (size_t i = 0, off = 0; i < n; i++) {
		size_t len = strlen(environ[i]) + 1;

		new_env[i] = memcpy(strings + off, environ[i], len);
		off += len;
	}
	env_strings = strings;
	environ = env_copy = new_env;
	title_area = argv[0];
	title_size = (size_t)(end - argv[0]);
	title_used = title_size;
	/* The arguments move too, so that option values kept from argv stay
	 * valid once a title is written over the area.  On failure the title
	 * simply stays as it was. */
	for (int i = 0; i < argc; i++) {
		char *copy = strdup(argv[i]);

		if (copy == NULL) {
			title_area = NULL;
			return;
		}
		argv[i] = copy;
	}
}

void
proc_child_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The title is put together with memcpy, not printf: the worker sets it
 * first thing, and vfprintf's code and its 2 KiB of stack are pages a
 * worker would otherwise touch for this alone (README, Performance). */
void
proctitle_set(const char *role, const char *detail)
{
	static const char prefix[] = "socks5d: ";
	char title[256];
	size_t len = sizeof(prefix) - 1;

	memcpy(title, prefix, len);
	len += put_cut(title + len, sizeof(title) - len, role);
	if (detail != NULL && len < sizeof(title) - 1) {
		title[len++] = ' ';
		len += put_cut(title + len, sizeof(title) - len, detail);
	}
	/* comm is what top and the kernel log show. */
	prctl(PR_SET_NAME, title + sizeof(prefix) - 1, 0, 0, 0);
	if (title_area == NULL || title_size < 2)
		return;
	/* Only the bytes the last title used are cleared, not the whole
	 * area: a worker's title then writes one page of its stack (the
	 * one it starts in), not every page the environment took. */
	if (len > title_size - 1)
		len = title_size - 1;
	memcpy(title_area, title, len);
	if (title_used > len)
		memset(title_area + len, '\0', title_used - len);
	else
		title_area[len] = '\0';
	title_used = len;
}
