/*
 * proctitle_init moves argv and environ out of the area titles overwrite.
 * The environment's strings must stay reachable after unsetenv(3) drops
 * one from environ, as master/listen.c does with LISTEN_PID: a string
 * allocated on its own was then lost (LeakSanitizer, master.bats under
 * make check-sanitize).  The leak point runs in SANITIZE=1 builds only.
 */
#include <sys/prctl.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef SOCKS5D_SANITIZE
#include <sanitizer/lsan_interface.h>
#endif

#include "common/proctitle.h"
#include "unit.h"

extern char **environ;

/* As the kernel lays them out: argv strings, then environ strings, in one
 * contiguous block. */
static char area[] = "socks5d\0-f\0/etc/socks5.conf\0"
    "HOME=/root\0LISTEN_PID=4242\0LISTEN_FDS=1\0";
/* And the arrays pointing into it, which outlive main() as the kernel's do
 * (proctitle_init's copies are reachable through them). */
static char *argv[4], *envp[4];

static bool
in_area(const char *p)
{
	return p >= area && p < area + sizeof(area);
}

/* NAME is set to VALUE, in a string outside the title area. */
static bool
env_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v != NULL && !in_area(v) && strcmp(v, value) == 0;
}

int
main(void)
{
	size_t off = 0;
	bool moved = true;

	/* The points so far stay visible if the leak check at exit ends the
	 * program. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < 3; i++) {
		argv[i] = area + off;
		off += strlen(area + off) + 1;
	}
	argv[3] = NULL;
	for (int i = 0; i < 3; i++) {
		envp[i] = area + off;
		off += strlen(area + off) + 1;
	}
	envp[3] = NULL;
	environ = envp;

	proctitle_init(3, argv);
	for (int i = 0; i < 3; i++)
		moved = moved && !in_area(argv[i]);
	CHECK(moved && strcmp(argv[2], "/etc/socks5.conf") == 0,
	    "the arguments move out of the title area, unchanged");
	CHECK(environ != envp && env_is("HOME", "/root") &&
	    env_is("LISTEN_FDS", "1"),
	    "the environment moves out of it, unchanged");

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	CHECK(getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	    env_is("HOME", "/root"),
	    "unsetenv drops a variable, the others stay");
#ifdef SOCKS5D_SANITIZE
	CHECK(__lsan_do_recoverable_leak_check() == 0,
	    "no string is lost once unsetenv drops it from environ");
#else
	printf("ok %d - no string is lost once unsetenv drops it from environ "
	    "# SKIP a SANITIZE=1 build checks it\n", ++unit_points);
#endif

	proctitle_set("worker", "10.1.2.3:50312");
	CHECK(strcmp(area, "socks5d: worker 10.1.2.3:50312") == 0 &&
	    env_is("HOME", "/root") && strcmp(argv[1], "-f") == 0,
	    "a title overwrites the area; arguments and environment stay");
	{
		char comm[16] = "";
		bool rest_clear = true;

		(void)prctl(PR_GET_NAME, comm, 0, 0, 0);
		CHECK(strcmp(comm, "worker 10.1.2.3") == 0,
		    "the comm name is the title without socks5d: (%s)", comm);
		proctitle_set("spare", NULL);
		for (size_t i = sizeof("socks5d: spare") - 1;
		    i < sizeof("socks5d: worker 10.1.2.3:50312"); i++)
			rest_clear = rest_clear && area[i] == '\0';
		(void)prctl(PR_GET_NAME, comm, 0, 0, 0);
		CHECK(strcmp(area, "socks5d: spare") == 0 && rest_clear &&
		    strcmp(comm, "spare") == 0,
		    "a shorter title clears what the longer one left");
		proctitle_set("worker", "[2001:db8:1111:2222:3333:4444:5555:6666]:"
		    "65535 and more than the area holds");
		CHECK(strlen(area) == sizeof(area) - 2 &&
		    strncmp(area, "socks5d: worker [2001:db8:", 26) == 0,
		    "a title longer than the area is cut to it (%zu bytes)",
		    strlen(area));
	}
	return unit_done();
}
