/*
 * The rows of the worker (and forker) filter that look at arguments: which
 * sockets a worker may make, which options it may set, which futex
 * operations glibc may use.  Whatever matches no row here gets the filter's
 * default action (a kill; a trap in SANDBOX_DEBUG builds).
 *
 * Each row is narrowed to what the code in worker/, relay/ and common/
 * actually passes, because the rest is kernel attack surface a hijacked
 * worker could reach: DCCP, SCTP, L2TP/IP, ping, MPTCP and UDP-Lite
 * sockets; TCP_ULP "tls" (the CVE-2023-0461 class); SO_ATTACH_FILTER (BPF
 * verifier bugs); IP_ADD_MEMBERSHIP; a unix datagram socketpair, whose end
 * could sendto an abstract-namespace socket outside the chroot; futex PI
 * and requeue operations (CVE-2014-3153).  tests/unit/test_sandbox.c
 * probes each of them in a sandboxed child.
 */
#include <sys/socket.h>

#include <linux/futex.h>
#include <netinet/in.h>
#include <seccomp.h>

#include "common/log.h"
#include "worker/sandbox.h"

/* Compare the low 32 bits only: the kernel reads these arguments as int,
 * and the flag bits are masked away where a caller may add them. */
#define LOW32 ((scmp_datum_t)0xffffffffu)
#define SOCK_KIND_MASK (LOW32 & ~(scmp_datum_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))
#define FUTEX_OP_MASK (LOW32 & \
    ~(scmp_datum_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

/* socket(domain, type, protocol): TCP and UDP over IPv4 and IPv6, with the
 * protocol given as 0 or by its number (worker/connect.c names TCP). */
static const struct {
	int type, protocol;
	const char *why;
} sock_kinds[] = {
	{ SOCK_STREAM, 0, "BIND listener (common/net.c)" },
	{ SOCK_STREAM, IPPROTO_TCP, "CONNECT (worker/connect.c)" },
	{ SOCK_DGRAM, 0, "UDP relay; BIND's local address probe" },
	{ SOCK_DGRAM, IPPROTO_UDP, "UDP relay" },
};
static const int sock_domains[] = { AF_INET, AF_INET6 };

/* setsockopt(fd, level, optname, ...): every call in the worker's code. */
static const struct {
	int level, optname;
	const char *why;
} sockopts[] = {
	{ IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, "worker/connect.c: interface" },
	{ SOL_SOCKET, SO_REUSEADDR, "common/net.c: BIND listener" },
	{ IPPROTO_IPV6, IPV6_V6ONLY, "common/net.c: BIND listener" },
	{ SOL_SOCKET, SO_OOBINLINE, "relay/relay.c: urgent data in-line" },
};

/* futex(uaddr, op, ...): glibc's locks wait and wake, with or without the
 * private and realtime-clock flags (the _BITSET forms are glibc's timed
 * wait); no PI, requeue or wake-op. */
static const int futex_ops[] = { FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_BITSET,
    FUTEX_WAKE_BITSET };

int
sandbox_rules_args(void *ctx)
{
	for (size_t d = 0; d < sizeof(sock_domains) / sizeof(sock_domains[0]);
	    d++)
		for (size_t k = 0; k < sizeof(sock_kinds) / sizeof(sock_kinds[0]);
		    k++)
			if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket),
			    3, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock_domains[d]),
			    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_KIND_MASK,
			    (scmp_datum_t)sock_kinds[k].type),
			    SCMP_A2(SCMP_CMP_EQ,
			    (scmp_datum_t)sock_kinds[k].protocol)) != 0) {
				log_warnx("seccomp: socket row (%s)",
				    sock_kinds[k].why);
				return -1;
			}
	/* A private channel to a helper (worker/helper_wrap.c). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 3,
	    SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
	    SCMP_A1(SCMP_CMP_MASKED_EQ, SOCK_KIND_MASK, SOCK_SEQPACKET),
	    SCMP_A2(SCMP_CMP_EQ, 0)) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(sockopts) / sizeof(sockopts[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32,
		    (scmp_datum_t)sockopts[i].level),
		    SCMP_A2(SCMP_CMP_MASKED_EQ, LOW32,
		    (scmp_datum_t)sockopts[i].optname)) != 0) {
			log_warnx("seccomp: setsockopt row (%s)",
			    sockopts[i].why);
			return -1;
		}
	/* SO_ERROR of a non-blocking connect (worker/connect.c). */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, SOL_SOCKET),
	    SCMP_A2(SCMP_CMP_MASKED_EQ, LOW32, SO_ERROR)) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(futex_ops) / sizeof(futex_ops[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, FUTEX_OP_MASK,
		    (scmp_datum_t)futex_ops[i])) != 0)
			return -1;
	return sandbox_rules_sanitizer(ctx);
}

/*
 * SANITIZE=1 builds only (GNUmakefile): what the ASan/UBSan runtime does in
 * a sandboxed process when it reports (and at exit): an alternate signal
 * stack for its SEGV handler, its thread id, the terminal probe of its
 * report printer, sched_yield in its spin locks, and its own signal
 * handlers.  Never in a production build.
 */
int
sandbox_rules_sanitizer(void *ctx)
{
#ifdef SOCKS5D_SANITIZE
	static const int sc_sanitizer[] = { SCMP_SYS(sigaltstack),
	    SCMP_SYS(gettid), SCMP_SYS(ioctl), SCMP_SYS(sched_yield),
	    SCMP_SYS(rt_sigaction), SCMP_SYS(tgkill) };

	for (size_t i = 0; i < sizeof(sc_sanitizer) / sizeof(sc_sanitizer[0]);
	    i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc_sanitizer[i], 0) != 0)
			return -1;
#else
	(void)ctx;
#endif
	return 0;
}
