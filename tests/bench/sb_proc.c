/*
 * socksbench: what the server under test costs, read from /proc.
 *
 * The server is a tree: socks5d forks a worker per connection, Dante keeps
 * pools of children, microsocks is one process with a thread per client.
 * The tree is found by following ppid links from the master.  CPU time
 * counts every live member's utime+stime plus its cutime+cstime: a worker
 * that has exited and been reaped has moved its time into its parent's
 * cutime/cstime, so nothing a finished session burnt is lost.
 */
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/sb.h"

struct proc_ent {
	pid_t pid;
	pid_t ppid;
	unsigned long long ticks; /* utime+stime+cutime+cstime */
	unsigned long long faults; /* minflt+cminflt+majflt+cmajflt */
	bool in_tree;
};

/* Read pid, ppid and the four time fields of /proc/PID/stat.  The command
 * name may hold spaces and parentheses, so fields are counted from the last
 * ')' (proc(5): fields 4 ppid, 14-17 utime stime cutime cstime). */
static int
read_stat(pid_t pid, struct proc_ent *e)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;

	char state;
	int ppid;
	unsigned long long ut, st, mn, cmn, mj, cmj;
	long long cut, cst;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime cutime cstime */
	if (sscanf(p + 1, " %c %d %*d %*d %*d %*d %*u %llu %llu %llu %llu %llu"
	    " %llu %lld %lld", &state, &ppid, &mn, &cmn, &mj, &cmj, &ut, &st,
	    &cut, &cst) != 10)
		return -1;
	e->pid = pid;
	e->ppid = ppid;
	e->faults = mn + cmn + mj + cmj;
	e->ticks = ut + st + (unsigned long long)(cut > 0 ? cut : 0) +
	    (unsigned long long)(cst > 0 ? cst : 0);
	e->in_tree = false;
	return 0;
}

/* Pss of one process in KiB, from smaps_rollup (Linux 4.14+). */
static uint64_t
read_pss(pid_t pid)
{
	char path[64], line[256];
	unsigned long long kib = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return 0; /* exited meanwhile, or a kernel thread */
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Pss: %llu kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

int
sb_tree_sample(pid_t root, bool want_pss, struct sb_tree *out)
{
	struct proc_ent *ents = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	DIR *d = opendir("/proc");
	if (d == NULL)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct proc_ent *ne = realloc(ents, ncap * sizeof(*ne));
			if (ne == NULL)
				goto out;
			ents = ne;
			cap = ncap;
		}
		if (read_stat((pid_t)atoi(de->d_name), &ents[n]) == 0)
			n++;
	}

	/* Mark the root, then anything whose parent is marked, until a pass
	 * adds nothing; the trees here are at most a few levels deep. */
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		if (ents[i].pid == root) {
			ents[i].in_tree = true;
			found = true;
		}
	}
	if (!found)
		goto out;
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			if (ents[i].in_tree)
				continue;
			for (size_t j = 0; j < n; j++) {
				if (ents[j].in_tree && ents[j].pid == ents[i].ppid) {
					ents[i].in_tree = true;
					grew = true;
					break;
				}
			}
		}
	}

	unsigned long long ticks = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ents[i].in_tree)
			continue;
		out->nproc++;
		ticks += ents[i].ticks;
		out->faults += ents[i].faults;
		if (want_pss)
			out->pss_kib += read_pss(ents[i].pid);
	}
	out->cpu_s = (double)ticks / (double)sysconf(_SC_CLK_TCK);
	rc = 0;
out:
	closedir(d);
	free(ents);
	return rc;
}

int
sb_kernel_kib(uint64_t *out, uint64_t *pagetables)
{
	char line[256];
	unsigned long long v, sum = 0, pt = 0;
	int seen = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* Slab holds socket structures, KernelStack a forked worker's
		 * stack, PageTables its page tables: what PSS does not see. */
		if (sscanf(line, "PageTables: %llu kB", &v) == 1)
			pt = v;
		else if (sscanf(line, "Slab: %llu kB", &v) != 1 &&
		    sscanf(line, "KernelStack: %llu kB", &v) != 1)
			continue;
		sum += v;
		seen++;
	}
	fclose(f);
	*out = sum;
	if (pagetables != NULL)
		*pagetables = pt;
	return seen == 3 ? 0 : -1;
}

int
sb_treestat(const struct sb_opts *o)
{
	struct sb_tree t;
	uint64_t kern = 0;
	if (o->server_pid <= 0 || sb_tree_sample(o->server_pid, true, &t) != 0) {
		fprintf(stderr, "socksbench: no such process tree\n");
		return 1;
	}
	(void)sb_kernel_kib(&kern, NULL);
	printf("nproc=%d\ncpu_s=%.3f\nfaults=%llu\npss_kib=%llu\n"
	    "kernel_kib=%llu\n", t.nproc, t.cpu_s,
	    (unsigned long long)t.faults, (unsigned long long)t.pss_kib,
	    (unsigned long long)kern);
	return 0;
}
