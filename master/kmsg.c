/*
 * The syscall a seccomp filter refused, from the kernel log.  Production
 * workers are killed outright (SECCOMP_RET_KILL_PROCESS) and cannot report
 * it themselves; the kernel logs each such kill as an audit record
 * "type=1326 ... pid=N ... syscall=S", which the master, as root, reads
 * from /dev/kmsg.  Best effort: without /dev/kmsg, or with the kernel's
 * seccomp logging turned off, the error record goes without the number.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/kmsg.h"

enum { KMSG_WAIT_MS = 200 };

int
kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	/* Only records written from now on are of interest. */
	if (fd != -1)
		(void)lseek(fd, 0, SEEK_END);
	return fd;
}

int
kmsg_seccomp_syscall(int fd, pid_t pid)
{
	char rec[8192], needle[32];
	int found = -1;

	if (fd == -1)
		return -1;
	snprintf(needle, sizeof(needle), " pid=%ld ", (long)pid);
	/* Each read returns one record; EAGAIN once none is left, EPIPE when
	 * records were overwritten before we read them (read on).  kauditd
	 * prints after the kill, so the record may trail the child's exit:
	 * wait for it briefly (a sandbox kill is rare; the stall is short). */
	for (int i = 0, waited = 0; i < 4096 && found == -1; i++) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		const char *sc;

		if (n == -1 && errno == EPIPE)
			continue;
		if (n == -1 && errno == EAGAIN && waited < KMSG_WAIT_MS) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			(void)poll(&pfd, 1, 10);
			waited += 10;
			continue;
		}
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, "type=1326") == NULL ||
		    strstr(rec, needle) == NULL ||
		    (sc = strstr(rec, " syscall=")) == NULL)
			continue;
		found = atoi(sc + 9);
	}
	return found;
}
