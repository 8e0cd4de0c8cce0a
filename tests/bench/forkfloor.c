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
 *   forkfloor pages N      what a child pays per page of N its parent had
 *                          touched: its first read (fork copied the entry),
 *                          its first write (a copy-on-write fault), and a
 *                          first write of a page nobody had: us each
 *
 * The per-page figures are the price of every page a worker touches; under
 * a hypervisor that shadows page tables even the first read of a page the
 * kernel already mapped traps (README, Performance).
 */
#include <sys/mman.h>
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

enum { PAGE = 4096, PAGES_REPS = 20 };

/* In a child: the three per-page times, in seconds, into d. */
static void
pages_child(volatile unsigned char *shared, volatile unsigned char *fresh,
    size_t len, double d[3])
{
	unsigned sum = 0;
	double t0 = now_s(), t1, t2;

	for (size_t i = 0; i < len; i += PAGE)
		sum += shared[i];
	t1 = now_s();
	/* Another cache line of the same pages: only the copy costs. */
	for (size_t i = 0; i < len; i += PAGE)
		shared[i + 64] = (unsigned char)sum;
	t2 = now_s();
	for (size_t i = 0; i < len; i += PAGE)
		fresh[i] = 1;
	d[0] = t1 - t0;
	d[1] = t2 - t1;
	d[2] = now_s() - t2;
}

static int
pages(long n)
{
	size_t len = (size_t)n * PAGE;
	volatile unsigned char *shared, *fresh;
	double sum[3] = { 0, 0, 0 };
	int p[2];

	shared = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fresh = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED || fresh == MAP_FAILED || pipe(p) != 0)
		return 1;
	for (size_t i = 0; i < len; i += PAGE)
		shared[i] = 1;
	for (int r = 0; r < PAGES_REPS; r++) {
		double d[3];
		pid_t pid = fork();

		if (pid == 0) {
			pages_child(shared, fresh, len, d);
			_exit(write(p[1], d, sizeof(d)) == (ssize_t)sizeof(d) ? 0 : 1);
		}
		if (pid == -1 || read(p[0], d, sizeof(d)) != (ssize_t)sizeof(d) ||
		    waitpid(pid, NULL, 0) != pid)
			return 1;
		for (int k = 0; k < 3; k++)
			sum[k] += d[k];
	}
	printf("page_read_us=%.2f\npage_cow_us=%.2f\npage_fresh_us=%.2f\n",
	    sum[0] / PAGES_REPS / (double)n * 1e6,
	    sum[1] / PAGES_REPS / (double)n * 1e6,
	    sum[2] / PAGES_REPS / (double)n * 1e6);
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
	if (argc == 3 && strcmp(argv[1], "pages") == 0)
		return pages(n);
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
	fprintf(stderr, "usage: forkfloor fork N | par P N | spawn N | pages N\n");
	return 2;
}
