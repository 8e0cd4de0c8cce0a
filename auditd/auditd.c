/*
 * The audit logger process (auditd/auditd.h): start, drop, and the loop
 * that appends records.
 *
 * Globals: none; the loop's state is one struct logger on its stack.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auditd/auditd.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/proctitle.h"
#include "worker/sandbox.h"

/* Ready channels taken per wake-up. */
enum { EVENTS_MAX = 64 };

/* epoll tags for the two fixed descriptors; a channel's tag is its slot. */
enum { TAG_CTL = -1, TAG_DOOR = -2 };

struct chan {
	int fd;               /* -1: slot free */
	pid_t pid;            /* its creator, from SO_PEERCRED */
	bool deaf;            /* an answer could not be sent: send no more */
};

struct logger {
	int file_fd;
	bool required;        /* SOCKS5_AUDIT_REQUIRED: only for log lines */
	int ctl, door, ep;     /* ctl, door: -1 once at EOF */
	pid_t master_pid;
	struct chan *chans;
	size_t n_chans;       /* slots in chans */
	int64_t lost;         /* records not written since the last success */
	bool torn;            /* a fragment could not be cut back: the next
	                       * write starts with a newline */
};

/* What the logger may do once it serves: move records from channels to the
 * file, and log.  Anything else kills it (the master restarts it). */
static const int sc_logger[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(sendto), SCMP_SYS(write), SCMP_SYS(lseek),
	SCMP_SYS(ftruncate), SCMP_SYS(close), SCMP_SYS(getsockopt),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getpid),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(futex), SCMP_SYS(getrandom),
	SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static int
logger_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = 0;

	if (ctx == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < sizeof(sc_logger) / sizeof(sc_logger[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc_logger[i], 0) != 0)
			rc = ERR_SYS;
	/* stdio probes: an errno, not a kill. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fstat), 0)
	    != 0 || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(newfstatat), 0) != 0)
		rc = ERR_SYS;
	/* SANITIZE=1 builds only: the runtime's sigaltstack at _exit(2)
	 * killed every logger that ended (tests/unit/test_auditd.c). */
	if (sandbox_rules_sanitizer(ctx) != 0)
		rc = ERR_SYS;
	if (rc == 0 && seccomp_load(ctx) != 0)
		rc = ERR_SYS;
	seccomp_release(ctx);
	return rc;
}

/* Drop order as a worker's (worker/sandbox.c): close what is not ours,
 * chroot, ids, no way back, no core or ptrace by the same user, then the
 * filter. */
static void
logger_drop(const struct auditd_ids *ids, const int *keep, size_t n_keep)
{
	struct rlimit rl;
	long max = sysconf(_SC_OPEN_MAX);
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Not the client's socket (fds 0 and 1 under -i), nor a terminal. */
	if (null_fd == -1 || dup2(null_fd, STDIN_FILENO) == -1 ||
	    dup2(null_fd, STDOUT_FILENO) == -1)
		fatal("audit logger: /dev/null");
	close(null_fd);
	for (int fd = 3; fd < (max > 0 ? max : 1024); fd++) {
		bool kept = false;

		for (size_t i = 0; i < n_keep; i++)
			kept = kept || keep[i] == fd;
		if (!kept)
			(void)close(fd);
	}
	/* One channel per running worker: as many as the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (ids->privileged) {
		if (chroot(SANDBOX_ROOT_DIR) == -1 || chdir("/") == -1)
			fatal("audit logger: chroot %s", SANDBOX_ROOT_DIR);
		if (setgroups(0, NULL) == -1 ||
		    setresgid(ids->gid, ids->gid, ids->gid) == -1 ||
		    setresuid(ids->uid, ids->uid, ids->uid) == -1 ||
		    setuid(0) != -1 || setgid(0) != -1)
			fatal("audit logger: cannot drop privileges");
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("audit logger: prctl");
	if (logger_filter() != 0)
		fatalx("audit logger: cannot load its seccomp filter");
}

/* One write of a whole line.  A short write (the disk is full) is cut
 * back to where the line began, so no torn record stays in the file; if
 * even that fails, the next line starts on a fresh one. */
static int
append(struct logger *lg, const char *buf, size_t len)
{
	ssize_t n;

	if (lg->torn) {
		do {
			n = write(lg->file_fd, "\n", 1);
		} while (n == -1 && errno == EINTR);
		if (n != 1)
			return ERR_SYS;
		lg->torn = false;
	}
	do {
		n = write(lg->file_fd, buf, len);
	} while (n == -1 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	if (n > 0) {
		/* O_APPEND left the offset at the fragment's end. */
		off_t end = lseek(lg->file_fd, 0, SEEK_CUR);

		if (end < n || ftruncate(lg->file_fd, end - n) == -1)
			lg->torn = true;
		errno = ENOSPC;
	}
	return ERR_SYS;
}

/* Append one line; after a run of failures, first the record of how
 * many were lost.  One log line per change of state. */
static int
logger_write(struct logger *lg, const char *line, size_t len)
{
	if (lg->lost > 0) {
		struct audit_rec rec = AUDIT_REC("lost");
		char buf[256];
		struct timespec now;
		int n;

		rec.reason = "audit file could not be written";
		rec.count = lg->lost;
		rec.pid = getpid();
		clock_gettime(CLOCK_REALTIME, &now);
		n = audit_format(buf, sizeof(buf), &rec, &now);
		if (n < 0 || append(lg, buf, (size_t)n) != 0) {
			lg->lost++;
			return ERR_SYS;
		}
		log_warnx("audit file writable again, %lld record(s) lost; %s",
		    (long long)lg->lost, lg->required ? "serving new sessions "
		    "again" : "still serving");
		lg->lost = 0;
	}
	if (append(lg, line, len) != 0) {
		if (lg->lost == 0)
			log_warn("audit file cannot be written; %s",
			    lg->required ? "new sessions are refused until it "
			    "can (SOCKS5_AUDIT_REQUIRED)" : "sessions go on, "
			    "lost records are counted");
		lg->lost++;
		return ERR_SYS;
	}
	return 0;
}

static void
chan_drop(struct logger *lg, size_t slot)
{
	(void)epoll_ctl(lg->ep, EPOLL_CTL_DEL, lg->chans[slot].fd, NULL);
	close(lg->chans[slot].fd);
	lg->chans[slot].fd = -1;
}

static int
chan_slot(struct logger *lg, size_t *slot)
{
	struct chan *grown;
	size_t cap;

	for (size_t i = 0; i < lg->n_chans; i++)
		if (lg->chans[i].fd == -1) {
			*slot = i;
			return 0;
		}
	cap = lg->n_chans == 0 ? 64 : lg->n_chans * 2;
	if ((grown = reallocarray(lg->chans, cap, sizeof(*grown))) == NULL)
		return ERR_NOMEM;
	for (size_t i = lg->n_chans; i < cap; i++)
		grown[i].fd = -1;
	lg->chans = grown;
	*slot = lg->n_chans;
	lg->n_chans = cap;
	return 0;
}

/* A channel from the door.  Only an AF_UNIX SOCK_SEQPACKET end qualifies
 * (nothing else can carry frames), and it is its creator's: one channel
 * per process, so a newer one replaces the older. */
static void
door_open(struct logger *lg)
{
	const struct timespec now = { 0, 0 };
	struct ucred cred;
	socklen_t sl;
	uint8_t version;
	size_t len, slot;
	int chan, domain, type;
	struct epoll_event ev;

	for (;;) {
		int rc = ipc_recv(lg->door, IPC_OPEN, FROM_WORKER, &version,
		    sizeof(version), &len, &chan, &now);

		if (rc == ERR_TIMEOUT)
			return;
		if (rc == ERR_EOF) {
			/* Every holder of the door is gone. */
			(void)epoll_ctl(lg->ep, EPOLL_CTL_DEL, lg->door, NULL);
			close(lg->door);
			lg->door = -1;
			return;
		}
		if (rc != 0 || chan == -1 || version != IPC_VERSION)
			goto refuse;
		sl = sizeof(domain);
		if (getsockopt(chan, SOL_SOCKET, SO_DOMAIN, &domain, &sl) != 0 ||
		    domain != AF_UNIX)
			goto refuse;
		sl = sizeof(type);
		if (getsockopt(chan, SOL_SOCKET, SO_TYPE, &type, &sl) != 0 ||
		    type != SOCK_SEQPACKET)
			goto refuse;
		sl = sizeof(cred);
		if (getsockopt(chan, SOL_SOCKET, SO_PEERCRED, &cred, &sl) != 0 ||
		    cred.pid <= 0)
			goto refuse;
		for (size_t i = 0; i < lg->n_chans; i++)
			if (lg->chans[i].fd != -1 && lg->chans[i].pid == cred.pid)
				chan_drop(lg, i);
		if (chan_slot(lg, &slot) != 0)
			goto refuse;
		ev = (struct epoll_event){ .events = EPOLLIN,
		    .data.u64 = (uint64_t)slot };
		if (epoll_ctl(lg->ep, EPOLL_CTL_ADD, chan, &ev) != 0)
			goto refuse;
		lg->chans[slot] = (struct chan){ .fd = chan, .pid = cred.pid };
		continue;
refuse:
		log_warnx("audit door: refused a channel");
		if (chan != -1)
			close(chan);
	}
}

/* One record from a channel: written or not, the sender is told. */
static void
chan_record(struct logger *lg, size_t slot)
{
	const struct timespec now = { 0, 0 };
	uint8_t rec[IPC_AUDIT_RECORD_MAX];
	char line[IPC_AUDIT_RECORD_MAX + 32];
	uint8_t ack = 1;
	size_t len;
	int rc, n;

	rc = ipc_recv(lg->chans[slot].fd, IPC_AUDIT_RECORD, FROM_WORKER, rec,
	    sizeof(rec), &len, NULL, &now);
	if (rc == ERR_TIMEOUT)
		return;
	if (rc != 0) {
		/* EOF (the process is done) or a bad frame: the channel is
		 * the sender's only, so closing it costs nobody else. */
		if (rc != ERR_EOF)
			log_warnx("audit: malformed frame from pid %ld",
			    (long)lg->chans[slot].pid);
		chan_drop(lg, slot);
		return;
	}
	n = auditd_record_line(rec, len, lg->chans[slot].pid, false, line,
	    sizeof(line));
	if (n < 0) {
		log_warnx("audit: refused a %s record from pid %ld",
		    n == ERR_DENIED ? "misattributed" : "malformed",
		    (long)lg->chans[slot].pid);
		chan_drop(lg, slot);
		return;
	}
	if (logger_write(lg, line, (size_t)n) == 0)
		ack = 0;
	/* A sender that has already ended (a worker posts its close record
	 * and exits: audit_post) or does not read its answers cannot be
	 * answered, but the records it queued before are still read and
	 * written, up to its end of file. */
	if (!lg->chans[slot].deaf && ipc_send_fds(lg->chans[slot].fd,
	    IPC_AUDIT_ACK, &ack, 1, NULL, 0, 1) != 0)
		lg->chans[slot].deaf = true;
}

/* Everything the master queued, first of all in each wake-up, so that
 * its records come before what its decisions caused. */
static void
ctl_drain(struct logger *lg)
{
	const struct timespec now = { 0, 0 };
	uint8_t buf[IPC_AUDIT_RECORD_MAX];
	char line[IPC_AUDIT_RECORD_MAX + 32];
	int fds[IPC_FDS_MAX];
	uint16_t type;
	size_t len;

	for (;;) {
		int rc = ipc_recv_msg(lg->ctl, FROM_MASTER, &type, buf,
		    sizeof(buf), &len, fds, &now);

		if (rc == ERR_TIMEOUT)
			return;
		if (rc == ERR_EOF) {
			(void)epoll_ctl(lg->ep, EPOLL_CTL_DEL, lg->ctl, NULL);
			close(lg->ctl);
			lg->ctl = -1;
			return;
		}
		if (rc != 0)
			fatalx("audit logger: bad frame from the master");
		if (type == IPC_AUDIT_FILE) {
			close(lg->file_fd);
			lg->file_fd = fds[0];
			lg->required = (buf[0] & 1) != 0;
			lg->torn = false;
			continue;
		}
		if (type != IPC_AUDIT_MASTER)
			fatalx("audit logger: unexpected frame from the master");
		rc = auditd_record_line(buf, len, lg->master_pid, true, line,
		    sizeof(line));
		if (rc < 0)
			log_warnx("audit: the master's record is malformed");
		else
			(void)logger_write(lg, line, (size_t)rc);
	}
}

/* The logger's end: the master gone and nobody left who could send. */
static bool
chans_open(const struct logger *lg)
{
	for (size_t i = 0; i < lg->n_chans; i++)
		if (lg->chans[i].fd != -1)
			return true;
	return false;
}

static void __attribute__((noreturn))
logger_loop(struct logger *lg)
{
	struct epoll_event ev[EVENTS_MAX];

	for (;;) {
		int n = epoll_wait(lg->ep, ev, EVENTS_MAX, -1);

		if (n == -1) {
			if (errno != EINTR)
				fatal("audit logger: epoll_wait");
			continue;
		}
		/* The master's queue first (ctl_drain), then new channels,
		 * then records, in that order within one wake-up. */
		if (lg->ctl != -1)
			ctl_drain(lg);
		for (int i = 0; i < n; i++)
			if ((int64_t)ev[i].data.u64 == TAG_DOOR)
				door_open(lg);
		for (int i = 0; i < n; i++) {
			int64_t tag = (int64_t)ev[i].data.u64;

			if (tag >= 0 && (size_t)tag < lg->n_chans &&
			    lg->chans[tag].fd != -1)
				chan_record(lg, (size_t)tag);
		}
		if (lg->ctl == -1 && lg->door == -1 && !chans_open(lg))
			_exit(0);
	}
}

int
auditd_start(struct auditd *a, int file_fd, bool required,
    const struct auditd_ids *ids)
{
	int door[2], ctl[2];
	pid_t master = getpid(), pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, door) == -1)
		return ERR_SYS;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) == -1) {
		close(door[0]);
		close(door[1]);
		return ERR_SYS;
	}
	pid = fork();
	if (pid == -1) {
		close(door[0]);
		close(door[1]);
		close(ctl[0]);
		close(ctl[1]);
		return ERR_SYS;
	}
	if (pid == 0) {
		struct logger lg = { .file_fd = file_fd, .required = required,
		    .ctl = ctl[0], .door = door[0], .master_pid = master };
		struct epoll_event ev[2] = {
		    { .events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)TAG_CTL },
		    { .events = EPOLLIN,
		      .data.u64 = (uint64_t)(int64_t)TAG_DOOR } };

		proc_child_signals();
		/* A file size limit then fails a write like a full disk,
		 * instead of killing the logger. */
		signal(SIGXFSZ, SIG_IGN);
		proctitle_set("audit logger", NULL);
		log_procname("auditd");
		if ((lg.ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    epoll_ctl(lg.ep, EPOLL_CTL_ADD, lg.ctl, &ev[0]) != 0 ||
		    epoll_ctl(lg.ep, EPOLL_CTL_ADD, lg.door, &ev[1]) != 0)
			fatal("audit logger: epoll");
		{
			int keep[] = { file_fd, ctl[0], door[0],
			    log_syslog_fd(), lg.ep };

			logger_drop(ids, keep, sizeof(keep) / sizeof(keep[0]));
		}
		logger_loop(&lg);
	}
	close(door[0]);
	close(ctl[0]);
	a->pid = pid;
	a->door = door[1];
	a->ctl = ctl[1];
	return 0;
}

void
auditd_gone(struct auditd *a)
{
	if (a->door != -1)
		close(a->door);
	if (a->ctl != -1)
		close(a->ctl);
	*a = (struct auditd){ .pid = 0, .door = -1, .ctl = -1 };
}

int
auditd_reopen(const struct auditd *a, int file_fd, bool required)
{
	uint8_t flags = required ? 1 : 0;

	if (a->ctl == -1)
		return ERR_EOF;
	return ipc_send_fds(a->ctl, IPC_AUDIT_FILE, &flags, 1, &file_fd, 1, 1);
}
