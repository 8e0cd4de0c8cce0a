/*
 * The worker's (and the forker's) seccomp allow-list, each row with its
 * reason, built once by the master with libseccomp and exported as BPF
 * (sandbox.c loads it).  The rows that look at arguments are in
 * sandbox_args.c.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "worker/sandbox.h"

/* Syscalls a worker may make, each with its reason.  No argument filter
 * means any arguments. */
struct sc_rule {
	int nr;
	const char *why;
};

static const struct sc_rule sc_allow[] = {
	{ SCMP_SYS(read), "negotiation reads; relay copy fallback" },
	{ SCMP_SYS(write), "replies, log lines, relay copy (not audit "
	    "records: the logger writes those)" },
	{ SCMP_SYS(close), "end of a socket or pipe" },
	{ SCMP_SYS(splice), "relay: move pages between sockets and pipes" },
	{ SCMP_SYS(poll), "negotiation and relay wait (x86_64 glibc)" },
	{ SCMP_SYS(ppoll), "negotiation and relay wait (aarch64 glibc)" },
	{ SCMP_SYS(connect), "reach the destination or an upstream proxy" },
	{ SCMP_SYS(bind), "interface lines; BIND command" },
	{ SCMP_SYS(listen), "BIND command" },
	{ SCMP_SYS(accept4), "BIND command: the peer's connection" },
	{ SCMP_SYS(getsockname), "BND.ADDR of replies" },
	{ SCMP_SYS(getpeername), "BIND peer check" },
	{ SCMP_SYS(shutdown), "relay: pass half-close on" },
	{ SCMP_SYS(sendto), "syslog datagrams; UDP relay" },
	{ SCMP_SYS(recvfrom), "UDP relay" },
	{ SCMP_SYS(sendmsg), "IPC to authd/resolver/audit logger (with an fd)" },
	{ SCMP_SYS(recvmsg), "IPC answers" },
	{ SCMP_SYS(clock_gettime), "deadlines, audit time stamps" },
	{ SCMP_SYS(gettimeofday), "vDSO fallback" },
	{ SCMP_SYS(getpid), "audit pid field" },
	{ SCMP_SYS(brk), "malloc" },
	{ SCMP_SYS(munmap), "malloc" },
	{ SCMP_SYS(mremap), "malloc" },
	{ SCMP_SYS(madvise), "malloc trimming" },
	{ SCMP_SYS(getrandom), "glibc malloc and hash seeds" },
	{ SCMP_SYS(restart_syscall), "interrupted poll" },
	{ SCMP_SYS(rt_sigreturn), "return from a signal handler" },
	{ SCMP_SYS(rt_sigprocmask), "glibc internals around signals" },
	{ SCMP_SYS(exit), "end" },
	{ SCMP_SYS(exit_group), "end" },
};

/* Syscalls answered with EPERM instead of a kill. */
static const struct sc_rule sc_errno[] = {
	{ SCMP_SYS(fstat), "stdio probing a descriptor" },
	{ SCMP_SYS(newfstatat), "stdio probing a descriptor" },
};

/*
 * What the forker (forker/forker.c) needs beyond a worker, to fork, reap
 * and lower its children's limits.  Its children inherit this filter: a
 * stacked filter that took these rows away again cost each worker a BPF
 * compile and JIT (with a text_poke TLB shootdown), about 5% of all CPU in
 * a 32-client run under PVM, so instead every row here is harmless in a
 * worker.  clone: a plain fork only (sc_clone_deny), and every child's
 * RLIMIT_NPROC 0 (sandbox_narrow) makes it fail; wait4: a worker has no
 * children; prlimit64: pid 0 only, i.e. its own limits, which an
 * unprivileged process can only lower; signalfd4: about itself only.
 * No set_robust_list: glibc's fork() makes that call in the child, and
 * the forker's children are made with the bare clone (forker.c).
 */
static const struct sc_rule sc_forker[] = {
	{ SCMP_SYS(wait4), "reap a worker" },
	{ SCMP_SYS(signalfd4), "SIGCHLD as a descriptor, no handler" },
};

/* clone flags the forker may not pass: threads, shared memory, new
 * namespaces, tracing. */
static const scmp_datum_t sc_clone_deny = CLONE_VM | CLONE_THREAD |
    CLONE_SIGHAND | CLONE_PARENT | CLONE_PTRACE | CLONE_NEWNS |
    CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC |
    CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_UNTRACED;

/* fcntl commands a worker uses: non-blocking mode, close-on-exec, and
 * growing a relay pipe (relay.c). */
static const int fcntl_cmds[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD,
    F_SETPIPE_SZ };

/* Export ctx's BPF once; a process then loads the bytes with one prctl,
 * without libseccomp. */
static int
filter_export(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int memfd, rc = ERR_SYS;
	off_t size;
	void *bpf = NULL;

	if ((memfd = memfd_create("socks5d-seccomp", MFD_CLOEXEC)) == -1 ||
	    seccomp_export_bpf(ctx, memfd) != 0 ||
	    (size = lseek(memfd, 0, SEEK_END)) <= 0 ||
	    size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		log_warn("seccomp: cannot export the filter");
		goto out;
	}
	if ((bpf = malloc((size_t)size)) == NULL ||
	    pread(memfd, bpf, (size_t)size, 0) != size) {
		log_warn("seccomp: cannot read the filter back");
		free(bpf);
		goto out;
	}
	prog->filter = bpf;
	prog->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	rc = 0;
out:
	if (memfd != -1)
		close(memfd);
	return rc;
}

static uint32_t
deny_action(void)
{
#ifdef SANDBOX_DEBUG
	/* Debug builds trap, so worker/sandbox_debug can name the syscall. */
	return SCMP_ACT_TRAP;
#else
	return SCMP_ACT_KILL_PROCESS;
#endif
}

/* The contract is in sandbox.h. */
int
sandbox_filter_build(struct sock_fprog *prog, bool forker)
{
	scmp_filter_ctx ctx;
	int rc = ERR_SYS;
	uint32_t deny = deny_action();

	if ((ctx = seccomp_init(deny)) == NULL)
		return ERR_NOMEM;
	/* A binary tree instead of libseccomp's default linear chain.  When a
	 * filter is attached, the kernel runs it once for every syscall number
	 * of every architecture it could see, to cache the always-allowed
	 * ones; that emulation is most of the per-worker cost of the sandbox,
	 * and it is proportional to the path length through the filter. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0)
		log_warnx("seccomp: binary-tree filters not available");
	for (size_t i = 0; i < sizeof(sc_allow) / sizeof(sc_allow[0]); i++) {
		/* A negative number is libseccomp's name for a syscall this
		 * architecture does not have (poll on aarch64): nothing to
		 * allow. */
		if (sc_allow[i].nr < 0)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc_allow[i].nr, 0) != 0) {
			log_warnx("seccomp: cannot allow syscall %d (%s)",
			    sc_allow[i].nr, sc_allow[i].why);
			goto out;
		}
	}
	/* socket, socketpair, setsockopt, getsockopt and futex, each only
	 * with the arguments the code passes (worker/sandbox_args.c).  No
	 * netlink, packet or unix sockets of its own: syslog and the helpers
	 * are reached through inherited descriptors. */
	if (sandbox_rules_args(ctx) != 0)
		goto out;
	for (size_t i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmds[i])) != 0)
			goto out;
	/* A spare worker names itself once it has a client (ps shows it). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)) != 0)
		goto out;
	/* Memory for malloc, never executable: no new code in a worker. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		goto out;
	/* Harmless libc probes (stdio sizing a buffer) get an error instead
	 * of a kill. */
	for (size_t i = 0; i < sizeof(sc_errno) / sizeof(sc_errno[0]); i++)
		if (sc_errno[i].nr >= 0 && seccomp_rule_add(ctx,
		    SCMP_ACT_ERRNO(EPERM), sc_errno[i].nr, 0) != 0)
			goto out;

	for (size_t i = 0; forker && i < sizeof(sc_forker) / sizeof(sc_forker[0]);
	    i++)
		if (sc_forker[i].nr >= 0 && seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    sc_forker[i].nr, 0) != 0)
			goto out;
	if (forker && (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone),
	    1, SCMP_A0(SCMP_CMP_MASKED_EQ, sc_clone_deny, 0)) != 0 ||
	    /* setrlimit(2) is prlimit64(0, ...) in glibc. */
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
	    SCMP_A0(SCMP_CMP_EQ, 0)) != 0))
		goto out;
	rc = filter_export(ctx, prog);
out:
	seccomp_release(ctx);
	return rc;
}
