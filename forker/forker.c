/*
 * The forker's loop (forker/forker.h says what it is).
 *
 * Between two forks it writes as little as it can: every page it dirties
 * while a child still shares it costs a copy-on-write fault, so it keeps no
 * per-session state at all.  The master holds the table of which pid
 * serves which client; the forker only says which pid it made for which
 * id, and which pid it reaped with which status.
 *
 * SIGCHLD comes as a signalfd, not through a handler: a child then
 * inherits no handler to reset, only a mask to clear.
 *
 * One spare: the forker keeps one child forked ahead, waiting on its own
 * socketpair, whose other end it gives the master (IPC_SPARE).  The master
 * sends the next client straight to the spare, one process hop from
 * accept instead of two, and tells the forker (IPC_TAKEN), which forks the
 * next spare while that client is served: no fork is on a client's path
 * while the clients come one at a time.  A spare that dies before it has
 * a client is replaced only at the next client, so a spare that cannot
 * start cannot make a fork loop.
 */
#include <sys/rseq.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/proctitle.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "forker/forker.h"
#include "master/spawn.h"
#include "relay/relay.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

static void
close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/*
 * Every page a child writes becomes its own (README, Performance: PSS per
 * held session), so a child is made with the bare clone system call, not
 * glibc's fork(): in the child, fork() resets the dynamic loader's locks
 * and libc's list, abort and malloc locks (three pages: two of ld.so's
 * data, one of libc's) and the kernel stores the thread id in the thread
 * control block.  The forker is single-threaded and holds none of those
 * locks when it forks, so there is nothing to reset.  What a stale thread
 * id could still mislead (robust or priority-inheritance mutexes,
 * pthread_kill of another thread) a worker never uses, and raise()
 * asks the kernel for the thread id itself.
 */
static pid_t
fork_bare(void)
{
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
}

/*
 * The kernel writes a registered restartable-sequence area (which glibc
 * registers for every thread, in its thread control block) after each
 * preemption or migration, which makes that page of every worker its
 * own.  Neither the forker nor a worker uses restartable sequences, so the
 * forker unregisters before its first fork; its children inherit that.
 * Only sched_getcpu() reads the area, which nothing here calls.
 */
static void
rseq_unregister(void)
{
	char *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	if (__rseq_size == 0)   /* glibc did not register one */
		return;
	/* The kernel wants the length registered, which glibc does not
	 * export: the 32-byte original area, or (later glibc) its own. */
	if (syscall(SYS_rseq, area, (unsigned)sizeof(struct rseq),
	    RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0)
		(void)syscall(SYS_rseq, area, __rseq_size,
		    RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
}

struct worker_opts
spawn_worker_opts(const struct spawn_ctx *ctx, uint32_t id)
{
	return (struct worker_opts){ .relay_copy = ctx->relay_copy,
	    .authd_door = ctx->authd_door, .resolver_door = ctx->resolver_door,
	    .health_fd = ctx->health_fd, .health = ctx->health,
	    .health_gen = ctx->health_gen, .master_door = ctx->master_door,
	    .session_id = id };
}

void
spawn_inherit_fill(struct spawn_ctx *ctx)
{
	/* What every worker inherits (and the forker keeps for them). */
	ctx->n_inherit = 0;
	ctx->inherit[ctx->n_inherit++] = audit_door_fd();
	ctx->inherit[ctx->n_inherit++] = log_syslog_fd();
	ctx->inherit[ctx->n_inherit++] = ctx->authd_door;
	ctx->inherit[ctx->n_inherit++] = ctx->resolver_door;
	ctx->inherit[ctx->n_inherit++] = ctx->health_fd;
	ctx->inherit[ctx->n_inherit++] = ctx->master_door;
}

/* Tell the master; it is gone if this fails, and so must we be. */
static void
report(int chan, enum ipc_type type, uint32_t a, uint32_t b)
{
	uint8_t buf[8];
	struct wr w;
	int rc;

	wr_init(&w, buf, sizeof(buf));
	rc = type == IPC_FORKED ? ipc_forked_put(&w, a, b) :
	    ipc_reaped_put(&w, a, b);
	if (rc != 0 || ipc_send(chan, type, buf, w.off, -1) != 0)
		_exit(WORKER_EXIT_OK);
}

/*
 * Every child is reported, the spare too: the master may have handed it a
 * client (its IPC_TAKEN can still be on the way), and only the master
 * knows.  A spare whose pid the master never tabled is dropped there
 * without a record.  The spare's end is not replaced here: a spare that
 * dies at once must not make a fork loop; the next client brings the next
 * spare (an IPC_TAKEN or an IPC_FORK).
 */
static void
reap(int chan, int sigfd, pid_t *spare)
{
	struct signalfd_siginfo si;
	pid_t pid;
	int status;

	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		continue;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == *spare)
			*spare = 0;
		report(chan, IPC_REAPED, (uint32_t)pid, (uint32_t)status);
	}
}

/* In a child, sandboxed and narrowed: fds are the IPC_FORK descriptors
 * (client socket, then the relay pipes' c2d read, c2d write, d2c read, d2c
 * write); id is the session's id, the worker's name for it on the
 * master's door. */
static void __attribute__((noreturn))
child_serve(const struct spawn_ctx *ctx,
    const struct sockaddr_storage *client, const int fds[IPC_FORK_FDS],
    uint32_t id)
{
	struct worker_client wc = { .in_fd = fds[0], .out_fd = fds[0],
	    .addr = *client, .have_addr = true };
	struct worker_opts wo = spawn_worker_opts(ctx, id);
	struct relay_pipes pipes = { .c2d = { fds[1], fds[2] },
	    .d2c = { fds[3], fds[4] } };
	char shown[NET_ADDRSTR_MAX];

	/* The title is formatted here, in the child, in parallel with the
	 * next fork: neither the master nor the forker formats anything per
	 * session. */
	net_addr_format((const struct sockaddr *)client, shown, sizeof(shown));
	proctitle_set("worker", shown);
	log_procname("worker");
	/* The master hands a client to the forker only when the hosts_access
	 * tables hold no rule; the record says so. */
	audit_post_wrap_none((const struct sockaddr *)client);
	audit_post_accept((const struct sockaddr *)client);
	_exit(worker_serve(ctx->conf, &wc, &wo, &pipes));
}


/* In a spare: wait for the one client, from the master, then serve it. */
static void
spare_serve(const struct spawn_ctx *ctx, int own)
{
	uint8_t buf[IPC_FORK_LEN];
	int fds[IPC_FDS_MAX];
	struct ipc_fork f;
	uint16_t type;
	size_t len;

	proctitle_set("spare", NULL);
	audit_prepare();
	if (ipc_recv_msg(own, FROM_MASTER, &type, buf, sizeof(buf), &len, fds,
	    NULL) != 0 || type != IPC_FORK)
		_exit(WORKER_EXIT_OK);   /* the master dropped us, or is gone */
	close(own);
	if (ipc_fork_get(buf, len, &f) != 0)
		_exit(WORKER_EXIT_INTERNAL);
	child_serve(ctx, &f.client, fds, f.id);
}

/* In a child just forked: drop the forker's own descriptors and mask,
 * then RLIMIT_NPROC 0 (sandbox_narrow), so it can never fork. */
static void
child_enter(const struct spawn_ctx *ctx, int chan, int sigfd)
{
	sigset_t none;

	close(chan);
	close(sigfd);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (sandbox_narrow(ctx->sb) != 0)
		_exit(WORKER_EXIT_INTERNAL);
}

/* Fork the next spare and give the master its channel (after a client,
 * never in a loop). */
static void
spare_start(const struct spawn_ctx *ctx, int chan, int sigfd, pid_t *spare)
{
	uint8_t buf[IPC_PID_LEN];
	int pair[2];
	struct wr w;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == -1)
		return;
	pid = fork_bare();
	if (pid == 0) {
		close(pair[0]);
		child_enter(ctx, chan, sigfd);
		spare_serve(ctx, pair[1]);
	}
	close(pair[1]);
	if (pid == -1) {
		close(pair[0]);
		return;
	}
	*spare = pid;
	wr_init(&w, buf, sizeof(buf));
	/* Its end is the master's now.  A master that cannot take it is
	 * gone: the spare sees its channel close and exits. */
	if (ipc_pid_put(&w, (uint32_t)pid) != 0 ||
	    ipc_send(chan, IPC_SPARE, buf, w.off, pair[0]) != 0)
		_exit(WORKER_EXIT_OK);
	close(pair[0]);
}

/* One IPC_FORK from the master, which had no spare to give it to: fork
 * the worker and say its pid. */
static void
fork_one(const struct spawn_ctx *ctx, int chan, int sigfd, pid_t *spare,
    const uint8_t *buf, size_t len, const int fds[IPC_FORK_FDS])
{
	struct ipc_fork f;
	pid_t pid;

	/* The master is trusted, but its message is still checked: a bad
	 * one means the two disagree, and the master restarts us. */
	if (ipc_fork_get(buf, len, &f) != 0) {
		log_warnx("forker: malformed fork request");
		_exit(WORKER_EXIT_INTERNAL);
	}
	pid = fork_bare();
	if (pid == 0) {
		child_enter(ctx, chan, sigfd);
		child_serve(ctx, &f.client, fds, f.id);
	}
	close_all(fds, IPC_FORK_FDS);
	/* On failure the client's socket is closed: it sees a clean close,
	 * and the master frees the slot. */
	report(chan, IPC_FORKED, f.id, pid > 0 ? (uint32_t)pid : 0);
	if (pid > 0 && *spare == 0)
		spare_start(ctx, chan, sigfd, spare);
}

/* IPC_TAKEN: the master handed our spare a client; fork the next one.
 * One about a spare already replaced (it died, and was reported) is
 * old news. */
static void
spare_taken(const struct spawn_ctx *ctx, int chan, int sigfd, pid_t *spare,
    const uint8_t *buf, size_t len)
{
	uint32_t pid;

	if (ipc_pid_get(buf, len, &pid) != 0) {
		log_warnx("forker: malformed taken message");
		_exit(WORKER_EXIT_INTERNAL);
	}
	if ((pid_t)pid == *spare || *spare == 0) {
		*spare = 0;
		spare_start(ctx, chan, sigfd, spare);
	}
}

void
forker_main(const struct spawn_ctx *ctx, int chan)
{
	const struct timespec now = { 0, 0 };
	int keep[SPAWN_INHERIT_MAX + 2];
	pid_t spare = 0;
	size_t n_keep = 0;
	sigset_t chld;
	int sigfd;

	proc_child_signals();
	/* Its own process group, which its workers inherit: the master ends
	 * them all with one kill(-pgid) at the end of the grace period, with
	 * no pid that could have been reused. */
	(void)setpgid(0, 0);
	proctitle_set("forker", NULL);
	log_procname("forker");
	/* Its workers inherit its memory. */
	conf_forget_upstream_secret(ctx->conf, true);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1) {
		log_warn("forker: signalfd");
		_exit(WORKER_EXIT_INTERNAL);
	}
	for (size_t i = 0; i < ctx->n_inherit && i < SPAWN_INHERIT_MAX; i++)
		keep[n_keep++] = ctx->inherit[i];
	keep[n_keep++] = chan;
	keep[n_keep++] = sigfd;
	rseq_unregister();
	if (sandbox_enter_forker(ctx->sb, keep, n_keep) != 0) {
		struct audit_rec rec = AUDIT_REC("error");

		rec.reason = "forker sandbox set-up failed";
		rec.pid = getpid();
		(void)audit_write(&rec);
		_exit(WORKER_EXIT_INTERNAL);
	}
	spare_start(ctx, chan, sigfd, &spare);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = chan, .events = POLLIN },
		    { .fd = sigfd, .events = POLLIN } };
		uint8_t buf[IPC_FORK_LEN];
		int fds[IPC_FDS_MAX];
		uint16_t type;
		size_t len;
		int rc;

		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(WORKER_EXIT_INTERNAL);
		}
		if (pfd[1].revents != 0)
			reap(chan, sigfd, &spare);
		if (pfd[0].revents == 0)
			continue;
		rc = ipc_recv_msg(chan, FROM_MASTER, &type, buf, sizeof(buf),
		    &len, fds, &now);
		if (rc == ERR_TIMEOUT)
			continue;
		if (rc != 0 || type == IPC_RETIRE)
			_exit(WORKER_EXIT_OK);   /* master gone, or retired us */
		if (type == IPC_TAKEN) {
			spare_taken(ctx, chan, sigfd, &spare, buf, len);
			continue;
		}
		if (type != IPC_FORK) {
			close_all(fds, IPC_FDS_MAX);
			_exit(WORKER_EXIT_INTERNAL);
		}
		fork_one(ctx, chan, sigfd, &spare, buf, len, fds);
	}
}
