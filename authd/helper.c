/*
 * The door loop shared by authd and the resolver, and the worker-side call
 * that opens a channel through a door.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd/authd.h"
#include "authd/pam.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/proctitle.h"

/* Children serving channels at once, per helper: past this a new channel
 * is closed unanswered (its worker fails closed) instead of forking without
 * bound on behalf of clients. */
enum { HELPER_CHILDREN_MAX = 256 };

static void
helper_drop(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1 || setuid(0) != -1)
		fatal("resolver: cannot drop privileges");
}

/* The helper's main loop: take channels from the door, fork a child per
 * channel.  Ends when the door closes (the master is gone). */
static void __attribute__((noreturn))
helper_loop(enum helper_kind kind, int door, const struct conf *conf)
{
	size_t running = 0;

	for (;;) {
		uint8_t payload[4];
		size_t len;
		pid_t pid;
		int chan, rc;

		while (running > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			running--;
		rc = ipc_recv(door, IPC_OPEN, FROM_WORKER, payload,
		    sizeof(payload), &len, &chan, NULL);
		if (rc == ERR_EOF)
			_exit(0);
		if (rc != 0 || chan == -1 || payload[0] != IPC_VERSION) {
			/* A bad frame from one worker is that worker's
			 * problem: drop it and serve the rest. */
			log_warnx("door: refused a malformed open request");
			if (chan != -1)
				close(chan);
			continue;
		}
		if (running >= HELPER_CHILDREN_MAX) {
			log_warnx("%d requests in progress; refusing another",
			    HELPER_CHILDREN_MAX);
			close(chan);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(door);
			if (kind == HELPER_AUTHD)
				authd_serve_channel(chan, conf);
			resolver_serve_channel(chan);
		}
		if (pid == -1)
			log_warn("fork");
		else
			running++;
		close(chan);
	}
}

int
helper_start(struct helper *h, const struct conf *conf, uid_t uid, gid_t gid,
    const int *close_fds, size_t n_close)
{
	int door[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, door) == -1)
		return ERR_SYS;
	pid = fork();
	if (pid == -1) {
		close(door[0]);
		close(door[1]);
		return ERR_SYS;
	}
	if (pid == 0) {
		close(door[1]);
		for (size_t i = 0; i < n_close; i++)
			if (close_fds[i] >= 0)
				close(close_fds[i]);
		proc_child_signals();
		/* Die with the master rather than serve stale doors. */
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (h->kind == HELPER_AUTHD) {
			proctitle_set("socks5d: authd");
			log_procname("authd");
			/* Once, here: each request's child inherits it.  If it
			 * fails, every password check answers "refused". */
			(void)authd_pam_load();
		} else {
			proctitle_set("socks5d: resolver");
			log_procname("resolver");
			helper_drop(uid, gid);
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
				fatal("PR_SET_NO_NEW_PRIVS");
		}
		helper_loop(h->kind, door[0], conf);
	}
	close(door[0]);
	h->pid = pid;
	h->worker_door = door[1];
	return 0;
}

void
helper_gone(struct helper *h)
{
	if (h->worker_door != -1)
		close(h->worker_door);
	h->worker_door = -1;
	h->pid = 0;
}
