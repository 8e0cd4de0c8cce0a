/*
 * forkfloor: what one new process costs on this host, the floor under any
 * design with one process per client.  Built static and tiny (bench.mk),
 * so its fork copies as few page tables as a process can have.
 *
 *   forkfloor fork N       fork + _exit + waitpid, N times: us each
 *   forkfloor par P N      P such loops at once (one per core): forks/s
 *   forkfloor spawn N      posix_spawn of this program (exec of a minimal
 *                          static image, OpenSSH's sshd-session model) +
 *                          waitpid, N times: us each
 */
#include <sys/wait.h>

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
fork_loop(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid == -1 || waitpid(pid, NULL, 0) != pid)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long n, p;
	double t0;

	if (argc == 2 && strcmp(argv[1], "exit") == 0)
		return 0;
	if (argc < 3)
		goto usage;
	n = strtol(argv[argc - 1], NULL, 10);
	if (n <= 0 || n > 1000000)
		goto usage;
	t0 = now_s();
	if (argc == 3 && strcmp(argv[1], "fork") == 0) {
		if (fork_loop(n) != 0)
			return 1;
		printf("fork_us=%.1f\n", (now_s() - t0) / (double)n * 1e6);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "spawn") == 0) {
		char *args[] = { argv[0], (char *)"exit", NULL };

		for (long i = 0; i < n; i++) {
			pid_t pid;

			if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args,
			    environ) != 0 || waitpid(pid, NULL, 0) != pid)
				return 1;
		}
		printf("spawn_us=%.1f\n", (now_s() - t0) / (double)n * 1e6);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "par") == 0 &&
	    (p = strtol(argv[2], NULL, 10)) > 0 && p <= 256) {
		int bad = 0;

		for (long i = 0; i < p; i++) {
			pid_t pid = fork();

			if (pid == 0)
				_exit(fork_loop(n));
			if (pid == -1)
				return 1;
		}
		for (long i = 0; i < p; i++) {
			int st;

			if (wait(&st) == -1 || !WIFEXITED(st) ||
			    WEXITSTATUS(st) != 0)
				bad = 1;
		}
		if (bad)
			return 1;
		printf("forks_s=%.0f\n", (double)(p * n) / (now_s() - t0));
		return 0;
	}
usage:
	fprintf(stderr, "usage: forkfloor fork N | par P N | spawn N\n");
	return 2;
}
