/*
 * The master's side of the forker (forker/forker.h): start one, hand it a
 * client, read its reports, retire it.
 *
 * Per accepted client the master makes the two relay pipes and sends one
 * IPC_FORK.  The pipes are made here, as root, on purpose: pipe buffers are
 * charged to the user who creates them, and an unprivileged user past
 * pipe-user-pages-soft gets one-page pipes (relay.h), while root is exempt.
 * Made by the forker (the -u user), a few hundred held sessions would cut
 * every later session's relay to one page a pipe.
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/wr.h"
#include "forker/forker.h"
#include "master/image.h"
#include "master/spawn.h"
#include "master/state.h"
#include "relay/relay.h"

/* The next active forker, round-robin (a forker whose spare died gets
 * its next spare with its next client), or NULL if none runs. */
struct forker *
forker_current(struct master *m)
{
	for (size_t n = 0; n < FORKERS_MAX; n++) {
		size_t i = (m->forker_next + n) % FORKERS_MAX;
		struct forker *f = &m->forkers[i];

		if (f->pid > 0 && !f->retiring && f->chan != -1) {
			m->forker_next = i + 1;
			return f;
		}
	}
	return NULL;
}

/* Close our end of f's spare.  With expect_report, the spare goes
 * without a client: it sees its end and exits, and the exit report that
 * comes for it is dropped (spare_dropped).  Without: it has a client and
 * is in the child table, or this is its report. */
static void
spare_release(struct forker *f, bool expect_report)
{
	if (f->spare_chan != -1)
		close(f->spare_chan);
	if (f->spare_pid != 0 && expect_report)
		f->spare_dropped = f->spare_pid;
	f->spare_chan = -1;
	f->spare_pid = 0;
}

int
forker_spawn(struct forker *f, const struct spawn_ctx *ctx, int image_fd)
{
	int pair[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == -1)
		return ERR_SYS;
	pid = fork();
	if (pid == -1) {
		close(pair[0]);
		close(pair[1]);
		return ERR_SYS;
	}
	if (pid == 0) {
		close(pair[0]);
		if (image_fd != -1)
			image_exec(ctx, pair[1], image_fd);
		/* forker_main's sandbox closes everything else the master
		 * holds (listen sockets, kernel log, other channels). */
		forker_main(ctx, pair[1]);
	}
	close(pair[1]);
	/* Also here, so a kill(-pgid) can never miss a group not yet made. */
	(void)setpgid(pid, pid);
	*f = (struct forker){ .pid = pid, .chan = pair[0], .spare_chan = -1,
	    .from_image = image_fd != -1 };
	/* A child that cannot exec never reads it: it is reaped, and
	 * forker_reaped counts the failure. */
	if (image_fd != -1 && image_setup_send(ctx, pair[0]) != 0) {
		log_warn("forker %ld: cannot send its set-up", (long)pid);
		kill(pid, SIGKILL);
	}
	clock_gettime(CLOCK_MONOTONIC, &f->started);
	return 0;
}

/*
 * A spare's pid is known before it has the client, so its row goes in
 * with the pid, and the master does not wait for an IPC_FORKED.  Sent
 * without waiting: a spare that is gone (its end closed) or not reading
 * makes the send fail, and the client goes to a forker to be forked for.
 * The spare is the master's to use once: its end is closed either way.
 */
static int
spare_hand(struct master *m, struct forker *f, uint32_t id,
    const uint8_t *buf, size_t len, const int fds[IPC_FORK_FDS],
    const struct sockaddr_storage *client)
{
	pid_t pid = f->spare_pid;
	uint8_t taken[IPC_PID_LEN];
	struct wr w;
	int rc;

	if ((rc = children_add(m, pid, f->pid, id, client)) != 0)
		return rc;
	rc = ipc_send_fds(f->spare_chan, IPC_FORK, buf, len, fds,
	    IPC_FORK_FDS, 1);
	spare_release(f, rc != 0);
	if (rc != 0) {
		children_drop(m, m->n_children - 1);
		return rc;
	}
	/* The next spare.  A forker that cannot take this now (its queue is
	 * full) still replaces the spare when it reaps it. */
	wr_init(&w, taken, sizeof(taken));
	if (ipc_pid_put(&w, (uint32_t)pid) == 0)
		(void)ipc_send_fds(f->chan, IPC_TAKEN, taken, w.off, NULL, 0, 1);
	return 0;
}

/* forker_current, but not a forker from the image before its first spare:
 * one that cannot start would take its queue of clients with it. */
static struct forker *
forker_for_client(struct master *m)
{
	for (size_t n = 0; n < FORKERS_MAX; n++) {
		struct forker *f = forker_current(m);

		if (f == NULL || !f->from_image || f->ready)
			return f;
	}
	return NULL;
}

int
forker_hand(struct master *m, int client_fd,
    const struct sockaddr_storage *client)
{
	struct forker *f = forker_for_client(m);
	struct relay_pipes pipes;
	uint8_t buf[IPC_FORK_LEN];
	uint32_t id;
	struct wr w;
	int rc;

	if (f == NULL)
		return ERR_EOF;
	if (relay_pipes_open(&pipes) != 0)
		return ERR_SYS;
	id = ++m->next_id;
	wr_init(&w, buf, sizeof(buf));
	if ((rc = ipc_fork_put(&w, id, (const struct sockaddr *)client)) == 0) {
		int fds[IPC_FORK_FDS] = { client_fd, pipes.c2d[0],
		    pipes.c2d[1], pipes.d2c[0], pipes.d2c[1] };

		if (f->spare_chan != -1 &&
		    spare_hand(m, f, id, buf, w.off, fds, client) == 0) {
			relay_pipes_close(&pipes);
			return 0;
		}
		/* Never wait on the forker: a full queue (it is behind) or a
		 * dead forker sends this client the master's own way. */
		if ((rc = children_add(m, 0, f->pid, id, client)) == 0 &&
		    (rc = ipc_send_fds(f->chan, IPC_FORK, buf, w.off, fds,
		    IPC_FORK_FDS, 1)) != 0)
			children_drop(m, m->n_children - 1);
	}
	relay_pipes_close(&pipes);
	return rc;
}

void
forker_closed(struct forker *f)
{
	if (f->chan != -1)
		close(f->chan);
	spare_release(f, true);
	f->pid = 0;
	f->chan = -1;
}

void
forker_retire(struct forker *f)
{
	static const uint8_t none[1];

	if (f->retiring || f->chan == -1)
		return;
	f->retiring = true;
	spare_release(f, true);
	/* After every IPC_FORK already queued: those clients are served. */
	if (ipc_send(f->chan, IPC_RETIRE, none, 0, -1) != 0)
		log_warnx("forker %ld: cannot retire it; it ends with its "
		    "channel", (long)f->pid);
}

/* IPC_SPARE: the channel of f's next spare.  The forker keeps one spare
 * at a time, so a second one while the first waits, or a descriptor that
 * is not a seqpacket socket, is a forker not itself: ERR_PROTO. */
static int
spare_take(struct forker *f, const uint8_t *buf, size_t len, int fd)
{
	uint32_t pid;

	if (ipc_pid_get(buf, len, &pid) != 0 || f->spare_chan != -1 ||
	    !ipc_fd_is(fd, AF_UNIX, SOCK_SEQPACKET, -1)) {
		ipc_close_passed(fd);
		return ERR_PROTO;
	}
	f->spare_pid = (pid_t)pid;
	f->spare_chan = fd;
	f->ready = true;
	/* A retiring forker's spare gets no client: it is let go at once,
	 * like the one forker_retire let go.  The forker sends a spare only
	 * after a client went to the one before, or after reporting that one
	 * reaped, so no other let-go spare's report is still due. */
	if (f->retiring)
		spare_release(f, true);
	return 0;
}

/* Every report queued on f's channel, validated against the table. */
void
forker_drain(struct master *m, struct forker *f)
{
	static const struct timespec now = { 0, 0 };

	while (f->chan != -1) {
		uint8_t buf[IPC_FRAME_MAX];
		int fds[IPC_FDS_MAX];
		struct ipc_forked fk;
		struct ipc_reaped rp;
		uint16_t type;
		size_t len;
		int rc;

		rc = ipc_recv_msg(f->chan, FROM_FORKER, &type, buf, sizeof(buf),
		    &len, fds, &now);
		if (rc == ERR_TIMEOUT)
			return;
		if (rc == ERR_EOF) {
			close(f->chan);
			f->chan = -1;
			return;
		}
		if (rc == 0 && type == IPC_FORKED &&
		    (rc = ipc_forked_get(buf, len, &fk)) == 0) {
			children_forked(m, f->pid, fk.id, fk.pid);
			continue;
		}
		if (rc == 0 && type == IPC_REAPED &&
		    (rc = ipc_reaped_get(buf, len, &rp)) == 0) {
			/* A spare that never had a client: no record. */
			if ((pid_t)rp.pid == f->spare_pid)
				spare_release(f, false);
			else if ((pid_t)rp.pid == f->spare_dropped)
				f->spare_dropped = 0;
			else
				children_exited(m, f->pid, (pid_t)rp.pid,
				    (int)rp.status);
			continue;
		}
		if (rc == 0 && type == IPC_SPARE &&
		    (rc = spare_take(f, buf, len, fds[0])) == 0)
			continue;
		/* The forker is sandboxed like a worker: a message we cannot
		 * take means it is not itself.  Stop listening; it gets
		 * SIGKILL, and is reaped and replaced like a crash. */
		log_warnx("forker %ld: bad message (%s); killing it",
		    (long)f->pid, err_str(rc != 0 ? rc : ERR_PROTO));
		close(f->chan);
		f->chan = -1;
		kill(f->pid, SIGKILL);
		return;
	}
}
