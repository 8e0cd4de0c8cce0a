/*
 * The resolver's seccomp filter (issue 12 finding 8).  The resolver runs
 * unchrooted, because getaddrinfo reads /etc/hosts, /etc/resolv.conf and
 * the NSS configuration, so the filter is what keeps a resolver child
 * hijacked by a hostile DNS answer from doing anything else: no exec, no
 * writes to files, no executable memory, no sockets but IP and the nscd
 * probe.  Measured with strace -f on the resolver during lookups through
 * "files" (localhost, ip6-localhost) and "dns" (answered and black-holed
 * names), glibc 2.36 with hosts: files dns.  NSS modules that need
 * dlopen (mdns, myhostname) are refused executable mappings with EPERM
 * and are skipped by glibc like a missing module.
 *
 * Loaded once by the long-lived resolver after its privilege drop; each
 * per-request child inherits it.  The default is a kill (a trap in
 * SANDBOX_DEBUG builds, which the kernel log names either way).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <seccomp.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/log.h"
#include "worker/sandbox.h"

static const int resolver_allow[] = {
	/* The door loop (authd/helper.c): channels, children, limits. */
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(getpeername), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(wait4), SCMP_SYS(kill), SCMP_SYS(set_robust_list),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getpid),
	/* getaddrinfo: reading /etc files, talking to the DNS servers. */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(uname),
	SCMP_SYS(connect), SCMP_SYS(sendto), SCMP_SYS(sendmmsg),
	SCMP_SYS(recvfrom), SCMP_SYS(getsockname), SCMP_SYS(bind),
	SCMP_SYS(getrandom),
	/* Memory (never executable: see below). */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* SOCKS5_RESOLVE_TIMEOUT and signals. */
	SCMP_SYS(alarm), SCMP_SYS(setitimer), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* clone flags refused: only a plain fork of a child per request. */
static const scmp_datum_t resolver_clone_deny = CLONE_VM | CLONE_THREAD |
    CLONE_SIGHAND | CLONE_PARENT | CLONE_PTRACE | CLONE_NEWNS |
    CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC |
    CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_UNTRACED;

static int
resolver_rules(scmp_filter_ctx ctx)
{
	const scmp_datum_t low32 = 0xffffffffu;
	const scmp_datum_t kind = low32 &
	    ~(scmp_datum_t)(SOCK_NONBLOCK | SOCK_CLOEXEC);
	const int domains[] = { AF_INET, AF_INET6 };
	const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	const int futex_ops[] = { FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET,
	    FUTEX_WAKE_BITSET };

	for (size_t i = 0; i < sizeof(resolver_allow) / sizeof(resolver_allow[0]);
	    i++)
		if (resolver_allow[i] >= 0 && seccomp_rule_add(ctx,
		    SCMP_ACT_ALLOW, resolver_allow[i], 0) != 0)
			return -1;
	/* DNS over UDP, and TCP for a truncated answer. */
	for (size_t d = 0; d < 2; d++)
		for (size_t t = 0; t < 2; t++)
			if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
			    2, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)domains[d]),
			    SCMP_A1(SCMP_CMP_MASKED_EQ, kind,
			    (scmp_datum_t)types[t])) != 0)
				return -1;
	/* glibc asks nscd first over a unix socket: "not there". */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX)) != 0)
		return -1;
	/* A name with several addresses is sorted (RFC 6724), and glibc
	 * first asks rtnetlink which address families the host has
	 * (__check_pf); refused, it assumes both, and sorts all the same.
	 * Killing it instead cost every such name its answer. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_NETLINK)) != 0)
		return -1;
	/* Files for reading only. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
	    O_APPEND, O_RDONLY)) != 0 ||
	    (SCMP_SYS(open) >= 0 && seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
	    SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE |
	    O_CREAT | O_TRUNC | O_APPEND, O_RDONLY)) != 0))
		return -1;
	/* The size of a DNS answer waiting on the socket. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, low32, FIONREAD)) != 0)
		return -1;
	/* Memory: never executable; dlopen of an NSS module gets EPERM. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(futex_ops) / sizeof(futex_ops[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, low32 &
		    ~(scmp_datum_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME),
		    (scmp_datum_t)futex_ops[i])) != 0)
			return -1;
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, resolver_clone_deny, 0)) != 0)
		return -1;
	/* SANITIZE=1 builds only, as for workers. */
	return sandbox_rules_sanitizer(ctx);
}

int
resolver_sandbox(void)
{
#ifdef SANDBOX_DEBUG
	uint32_t deny = SCMP_ACT_TRAP;
#else
	uint32_t deny = SCMP_ACT_KILL_PROCESS;
#endif
	scmp_filter_ctx ctx;
	int rc = ERR_SYS;

	if ((ctx = seccomp_init(deny)) == NULL)
		return ERR_NOMEM;
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (resolver_rules(ctx) != 0)
		log_warnx("seccomp: cannot build the resolver's filter");
	else if (seccomp_load(ctx) != 0)
		log_warnx("seccomp: cannot load the resolver's filter");
	else
		rc = 0;
	seccomp_release(ctx);
	return rc;
}
