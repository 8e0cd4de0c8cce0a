/*
 * The door loop shared by authd and the resolver, and the worker-side call
 * that opens a channel through a door.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
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
#include "common/rd.h"
#include "common/wr.h"
#include "conf/conf.h"

/* Children serving channels at once, per helper: past this a new channel
 * is closed unanswered (its worker fails closed) instead of forking without
 * bound on behalf of clients. */
enum { HELPER_CHILDREN_MAX = 256 };

/* How late a finished child may be reaped. */
enum { HELPER_REAP_MS = 100 };

static void
helper_drop(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1 || setuid(0) != -1)
		fatal("resolver: cannot drop privileges");
}

/* authd's side of its per-request children (authd's process only): one
 * control socket per child, over which the child asks the throttling
 * delay of its attempt once and reports the outcome once. */
struct ctl_slot {
	int fd;                        /* -1: free */
	bool asked, reported;
	uint8_t akey[IPC_ADDR_LEN];
	size_t alen;
	char user[256];
};

/* Globals: the throttling counters, authd's alone (helper.c's loop is the
 * only writer); static so the resolver, which never touches them, costs
 * no memory for them. */
static struct throttle counters;

static void
ctl_message(struct ctl_slot *c, const struct conf *conf)
{
	uint8_t buf[IPC_ADDR_LEN + 1 + 255], ans[4];
	struct sockaddr_storage ss;
	enum ipc_type type;
	const uint8_t *u;
	uint8_t ulen, outcome;
	struct rd r;
	size_t len;
	struct wr w;
	uint32_t ms;

	if (ipc_recv_either(c->fd, IPC_THROTTLE_ASK, IPC_THROTTLE_RESULT,
	    FROM_AUTHD_CHILD, buf, sizeof(buf), &len, &type, NULL, NULL) != 0)
		goto drop;
	rd_init(&r, buf, len);
	if (type == IPC_THROTTLE_ASK) {
		if (c->asked || ipc_addr_get(&r, &ss) != 0 ||
		    rd_u8(&r, &ulen) != 0 || ulen == 0 ||
		    rd_bytes(&r, ulen, &u) != 0 || rd_end(&r) != 0 ||
		    memchr(u, '\0', ulen) != NULL)
			goto drop;
		c->asked = true;
		c->alen = IPC_ADDR_LEN;
		memcpy(c->akey, buf, IPC_ADDR_LEN);
		memcpy(c->user, u, ulen);
		c->user[ulen] = '\0';
		ms = throttle_ask(&counters, c->akey, c->alen, c->user,
		    conf_vars(conf)->auth_delay_max_s);
		wr_init(&w, ans, sizeof(ans));
		(void)wr_u32be(&w, ms);
		if (ipc_send(c->fd, IPC_THROTTLE_DELAY, ans, w.off, -1) != 0)
			goto drop;
		return;
	}
	if (!c->asked || c->reported || rd_u8(&r, &outcome) != 0 ||
	    rd_end(&r) != 0 || outcome > THROTTLE_NOT_COUNTED)
		goto drop;
	c->reported = true;
	throttle_result(&counters, c->akey, c->alen, c->user, outcome);
	return;
drop:
	/* The end of the child (EOF), or a frame out of order: either way
	 * this slot is done.  An attempt asked about and never reported
	 * stays counted as a failure. */
	close(c->fd);
	c->fd = -1;
}

/* The helper's main loop: take channels from the door, fork a child per
 * channel.  Ends when the door closes (the master is gone). */
static void __attribute__((noreturn))
helper_loop(enum helper_kind kind, int door, const struct conf *conf)
{
	static struct ctl_slot slots[HELPER_CHILDREN_MAX];
	struct pollfd pfd[1 + HELPER_CHILDREN_MAX];
	size_t pfd_slot[1 + HELPER_CHILDREN_MAX];
	size_t running = 0;

	for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++)
		slots[i].fd = -1;
	for (;;) {
		uint8_t payload[4];
		size_t len, n = 1, free_slot = HELPER_CHILDREN_MAX;
		int ctl[2] = { -1, -1 };
		pid_t pid;
		int chan, rc;

		while (running > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			running--;
		/* Only the slots in use: poll refuses (EINVAL) more entries
		 * than RLIMIT_NOFILE, and under ulimit -n 64 all 257 made
		 * every helper exit (tests/soak.bats). */
		pfd[0] = (struct pollfd){ .fd = door, .events = POLLIN };
		for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++) {
			if (slots[i].fd != -1) {
				pfd_slot[n] = i;
				pfd[n++] = (struct pollfd){ .fd = slots[i].fd,
				    .events = POLLIN };
			} else if (free_slot == HELPER_CHILDREN_MAX) {
				free_slot = i;
			}
		}
		/* While a child runs, wake up to reap it: otherwise the last
		 * request's child stays a zombie until the next request
		 * (tests/soak.bats saw one in the resolver). */
		if (poll(pfd, n, running > 0 ? HELPER_REAP_MS : -1) == -1) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		for (size_t i = 1; i < n; i++)
			if (pfd[i].revents != 0)
				ctl_message(&slots[pfd_slot[i]], conf);
		if (pfd[0].revents == 0)
			continue;
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
		if (running >= HELPER_CHILDREN_MAX ||
		    free_slot == HELPER_CHILDREN_MAX || (kind == HELPER_AUTHD &&
		    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    ctl) == -1)) {
			log_warnx("%d requests in progress; refusing another",
			    HELPER_CHILDREN_MAX);
			close(chan);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(door);
			if (kind == HELPER_AUTHD) {
				for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++)
					if (slots[i].fd != -1)
						close(slots[i].fd);
				close(ctl[0]);
				authd_serve_channel(chan, ctl[1], conf);
			}
			resolver_serve_channel(chan);
		}
		if (pid == -1) {
			log_warn("fork");
			if (ctl[0] != -1)
				close(ctl[0]);
		} else {
			running++;
			if (ctl[0] != -1)
				slots[free_slot] = (struct ctl_slot){
				    .fd = ctl[0] };
		}
		if (ctl[1] != -1)
			close(ctl[1]);
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
		proc_child_signals();
		/* Die with the master rather than serve stale doors. */
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (h->kind == HELPER_AUTHD) {
			proctitle_set("socks5d: authd");
			log_procname("authd");
			/* Once, here: each request's child inherits libpam or
			 * the password file, and the addresses clients reach
			 * the daemon on (the listen sockets, about to be
			 * closed).  If loading fails, every password check
			 * answers "refused". */
			authd_setup(conf, close_fds, n_close);
		} else {
			proctitle_set("socks5d: resolver");
			log_procname("resolver");
			helper_drop(uid, gid);
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
				fatal("PR_SET_NO_NEW_PRIVS");
		}
		for (size_t i = 0; i < n_close; i++)
			if (close_fds[i] >= 0)
				close(close_fds[i]);
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
