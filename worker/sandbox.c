/*
 * The worker sandbox: drop order and seccomp allow-list.
 *
 * Drop order (as OpenSSH's privsep child and OpenNTPD's constraint
 * process): close what the worker must not hold; chroot while still root,
 * then chdir("/"); setgroups, setresgid, setresuid; prove setuid(0) now
 * fails; PR_SET_NO_NEW_PRIVS; rlimits (no core dumps, few fds, no
 * processes); last the seccomp filter, which from then on kills the process
 * on any syscall not in its table (sandbox_filter.c).
 *
 * Name resolution is not done here: getaddrinfo needs /etc files and NSS
 * modules, which a chrooted process cannot open.  Workers ask the resolver
 * helper over IPC instead (authd/resolver.c), so open/openat stay out of
 * the table.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "worker/sandbox.h"

enum { WORKER_NOFILE = 64 };

struct sandbox {
	uid_t uid;
	gid_t gid;
	uid_t helper_uid;              /* the resolver and the audit logger */
	gid_t helper_gid;
	bool privileged;
	struct sock_fprog prog;        /* a worker forked by the master */
	struct sock_fprog forker_prog; /* the forker: prog plus sc_forker */
};

int
sandbox_adopt(const struct sandbox_ids *ids, struct sandbox **out)
{
	struct sandbox *sb;
	int rc;

	*out = NULL;
	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return ERR_NOMEM;
	sb->uid = ids->uid;
	sb->gid = ids->gid;
	sb->helper_uid = ids->helper_uid;
	sb->helper_gid = ids->helper_gid;
	sb->privileged = ids->privileged;
	if ((rc = sandbox_filter_build(&sb->prog, false)) != 0 ||
	    (rc = sandbox_filter_build(&sb->forker_prog, true)) != 0) {
		sandbox_free(sb);
		return rc;
	}
	*out = sb;
	return 0;
}

void
sandbox_ids_get(const struct sandbox *sb, struct sandbox_ids *ids)
{
	*ids = (struct sandbox_ids){ .uid = sb->uid, .gid = sb->gid,
	    .helper_uid = sb->helper_uid, .helper_gid = sb->helper_gid,
	    .privileged = sb->privileged };
}

void
sandbox_free(struct sandbox *sb)
{
	if (sb == NULL)
		return;
	free(sb->prog.filter);
	free(sb->forker_prog.filter);
	free(sb);
}

bool
sandbox_privileged(const struct sandbox *sb)
{
	return sb->privileged;
}

void
sandbox_ids(const struct sandbox *sb, uid_t *uid, gid_t *gid)
{
	*uid = sb->uid;
	*gid = sb->gid;
}

void
sandbox_helper_ids(const struct sandbox *sb, uid_t *uid, gid_t *gid)
{
	*uid = sb->helper_uid;
	*gid = sb->helper_gid;
}

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Close every descriptor from 3 up except those in keep. */
static int
close_all_but(const int *keep, size_t n_keep)
{
	int sorted[32] = { 0 };
	unsigned next = 3;

	if (n_keep > sizeof(sorted) / sizeof(sorted[0]))
		return ERR_RANGE;
	if (n_keep > 0)
		memcpy(sorted, keep, n_keep * sizeof(int));
	qsort(sorted, n_keep, sizeof(int), int_cmp);
	for (size_t i = 0; i < n_keep; i++) {
		if (sorted[i] < 0 || (unsigned)sorted[i] < next) {
			if (sorted[i] >= 0 && (unsigned)sorted[i] + 1 > next)
				next = (unsigned)sorted[i] + 1;
			continue;
		}
		if ((unsigned)sorted[i] > next &&
		    close_range(next, (unsigned)sorted[i] - 1, 0) == -1)
			return ERR_SYS;
		next = (unsigned)sorted[i] + 1;
	}
	if (close_range(next, ~0U, 0) == -1)
		return ERR_SYS;
	return 0;
}

static int
drop_ids(const struct sandbox *sb)
{
	if (chroot(SANDBOX_ROOT_DIR) == -1 || chdir("/") == -1) {
		log_warn("chroot %s", SANDBOX_ROOT_DIR);
		return ERR_SYS;
	}
	if (setgroups(0, NULL) == -1 ||
	    setresgid(sb->gid, sb->gid, sb->gid) == -1 ||
	    setresuid(sb->uid, sb->uid, sb->uid) == -1) {
		log_warn("cannot drop to uid %u", (unsigned)sb->uid);
		return ERR_SYS;
	}
	/* Prove it: a process that can still become root must not serve. */
	if (setuid(0) != -1 || setgid(0) != -1 || geteuid() != sb->uid ||
	    getegid() != sb->gid) {
		log_warnx("privileges could be regained after the drop");
		return ERR_SYS;
	}
	return 0;
}

#ifdef SANDBOX_DEBUG
/* Above every x86_64 and aarch64 syscall number, below the x32 bit. */
#define SANDBOX_NO_SUCH_SYSCALL 1000L
/* si_code of a seccomp trap: <asm-generic/siginfo.h> has it, but clashes
 * with <signal.h>. */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/*
 * Debug builds (make CFLAGS+=-DSANDBOX_DEBUG) trap instead of killing:
 * say which syscall the table lacks, then exit.  Only async-signal-safe
 * calls (write, _exit), both allowed by the filter.
 */
static void
sandbox_sigsys(int sig, siginfo_t *info, void *uctx)
{
	char msg[64] = "socks5d: seccomp refused syscall ";
	char *end = msg + strlen(msg);
	ssize_t wn;

	(void)sig;
	(void)uctx;
	/* A SIGSYS sent with kill(2) is no refused call: die of it, as a
	 * production build does (forker.bats audits that death), and not
	 * with status 125.  A call no table has traps again, and the kernel
	 * forces that SIGSYS, blocked in this handler, with its default
	 * action.  Before the filter is loaded it returns ENOSYS. */
	if (info->si_code != SYS_SECCOMP) {
		(void)syscall(SANDBOX_NO_SUCH_SYSCALL);
		_exit(125);
	}
	/* At most 10 digits: the prefix leaves room for 30. */
	end = net_put_decimal(end, (uint32_t)info->si_syscall);
	*end++ = '\n';
	wn = write(STDERR_FILENO, msg, (size_t)(end - msg));
	(void)wn;
	_exit(125);
}
#endif

static int
load_prog(const struct sock_fprog *prog)
{
#ifdef SANDBOX_DEBUG
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_warn("PR_SET_NO_NEW_PRIVS");
		return ERR_SYS;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog) == -1) {
		log_warn("seccomp filter");
		return ERR_SYS;
	}
	return 0;
}

int
sandbox_load_filter(const struct sandbox *sb)
{
	return load_prog(&sb->prog);
}

/* The drop order for a worker (forker false) or the forker. */
static int
enter(const struct sandbox *sb, const int *keep, size_t n_keep, bool forker)
{
	const struct rlimit none = { 0, 0 };
	/* Client, destination, relay pipes, a BIND/UDP socket or two, the
	 * helper channels, audit and syslog: 64 is ample and bounds what a
	 * hijacked worker can hold.  Only ever lowered: an unprivileged
	 * process cannot raise a hard limit someone set below 64.  The
	 * forker holds no more: its channel, a signalfd and one session's
	 * five descriptors between receiving and forking. */
	struct rlimit nofile = { WORKER_NOFILE, WORKER_NOFILE };
	struct rlimit cur;
	int rc;

	if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max < WORKER_NOFILE)
		nofile.rlim_cur = nofile.rlim_max = cur.rlim_max;

	if ((rc = close_all_but(keep, n_keep)) != 0) {
		log_warn("closing inherited descriptors");
		return rc;
	}
	if (sb->privileged && (rc = drop_ids(sb)) != 0)
		return rc;
	if (setrlimit(RLIMIT_CORE, &none) == -1 ||
	    setrlimit(RLIMIT_NOFILE, &nofile) == -1 ||
	    /* After the uid change: counted against the new user, so no
	     * fork or clone can succeed from here on.  The forker must
	     * fork: each of its children sets this (sandbox_narrow). */
	    (!forker && setrlimit(RLIMIT_NPROC, &none) == -1)) {
		log_warn("setrlimit");
		return ERR_SYS;
	}
	return load_prog(forker ? &sb->forker_prog : &sb->prog);
}

int
sandbox_enter(const struct sandbox *sb, const int *keep, size_t n_keep)
{
	return enter(sb, keep, n_keep, false);
}

int
sandbox_enter_forker(const struct sandbox *sb, const int *keep,
    size_t n_keep)
{
	return enter(sb, keep, n_keep, true);
}

int
sandbox_narrow(const struct sandbox *sb)
{
	const struct rlimit none = { 0, 0 };

	(void)sb;
	/* The forker's uid is the worker's: no fork or clone from here on. */
	return setrlimit(RLIMIT_NPROC, &none) == -1 ? ERR_SYS : 0;
}
