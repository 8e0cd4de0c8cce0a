/*
 * The door loop shared by authd and the resolver, and the worker-side call
 * that opens a channel through a door.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

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
 * bound on behalf of clients.  One session needs one or two channels at a
 * time (an ident query and a password check; a lookup), so one worker may
 * hold a few, and all the workers of one client address (IPv4, or an IPv6
 * /64) an eighth of the whole: neither a hijacked worker nor one source's
 * slow lookups or slow bad passwords can take the slots every other client
 * needs (issue 12, findings 1 and 5). */
enum {
	HELPER_CHILDREN_MAX = 256,
	HELPER_PER_WORKER_MAX = 4,
	HELPER_PER_SOURCE_MAX = HELPER_CHILDREN_MAX / 8,
};

/* How late a finished child may be reaped. */
enum { HELPER_REAP_MS = 100 };

static void
helper_drop(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1 || setuid(0) != -1 ||
	    setgid(0) != -1 || getegid() != gid)
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
		if (ipc_send_fds(c->fd, IPC_THROTTLE_DELAY, ans, w.off, NULL, 0,
		    1) != 0)
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

/* One child serving one channel, and whom it serves: the worker (by the
 * kernel's word, SCM_CREDENTIALS) and the client address of the socket
 * the worker attached (IPv4, or the IPv6 /64; klen 0 when none came). */
struct child {
	pid_t pid;                     /* 0: free */
	pid_t worker;
	uint8_t key[1 + 8];
	size_t klen;
	struct timespec kill_at;       /* CLOCK_MONOTONIC */
};

/* The client address a worker's socket is connected from, as a key: the
 * address clients share a NAT or a /64 with is theirs to share. */
static size_t
source_key(int client_fd, uint8_t *key)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

	if (client_fd < 0 ||
	    getpeername(client_fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
		return 5;
	}
	if (ss.ss_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		key[0] = 4;
		memcpy(key + 1, sin6->sin6_addr.s6_addr + 12, 4);
		return 5;
	}
	key[0] = 6;
	memcpy(key + 1, sin6->sin6_addr.s6_addr, 8);
	return 9;
}

/* Why a new channel may not have a child now; NULL when it may. */
static const char *
admission(const struct child *kids, pid_t worker, const uint8_t *key,
    size_t klen)
{
	size_t running = 0, of_worker = 0, of_source = 0;

	for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++) {
		if (kids[i].pid == 0)
			continue;
		running++;
		of_worker += kids[i].worker == worker;
		of_source += klen > 0 && kids[i].klen == klen &&
		    memcmp(kids[i].key, key, klen) == 0;
	}
	if (running >= HELPER_CHILDREN_MAX)
		return "all request slots in use";
	if (of_worker >= HELPER_PER_WORKER_MAX)
		return "this worker's channels in use";
	if (of_source >= HELPER_PER_SOURCE_MAX)
		return "this client address's channels in use";
	return NULL;
}

/* Reap every child that has exited; free its entry. */
static void
reap(struct child *kids)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++)
			if (kids[i].pid == pid)
				kids[i].pid = 0;
}

static bool
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Kill each child past its time limit (it then counts no more once
 * reaped); the poll timeout (ms) until the next limit, -1 for none. */
static int
enforce_limits(struct child *kids)
{
	struct timespec now, next = { 0, 0 };
	bool have_next = false;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++) {
		if (kids[i].pid == 0)
			continue;
		if (!ts_before(&now, &kids[i].kill_at)) {
			(void)kill(kids[i].pid, SIGKILL);
			/* Reaped soon; no second kill of a pid that may be
			 * reused once it is. */
			kids[i].kill_at.tv_sec = now.tv_sec + 3600;
		}
		if (!have_next || ts_before(&kids[i].kill_at, &next)) {
			next = kids[i].kill_at;
			have_next = true;
		}
	}
	if (!have_next)
		return -1;
	ms = (long long)(next.tv_sec - now.tv_sec) * 1000 +
	    (next.tv_nsec - now.tv_nsec) / 1000000 + 1;
	return ms < 1 ? 1 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Refusals are logged at most once a second: a worker flooding the door
 * must not flood the log too. */
static void
log_refusal(const char *why, time_t *last)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec == *last)
		return;
	*last = now.tv_sec;
	log_warnx("door: refused a channel (%s)", why);
}

/* The helper's main loop: take channels from the door, fork a child per
 * channel.  Ends when the door closes (the master is gone). */
static void __attribute__((noreturn))
helper_loop(enum helper_kind kind, int door, const struct conf *conf)
{
	static struct ctl_slot slots[HELPER_CHILDREN_MAX];
	static struct child kids[HELPER_CHILDREN_MAX];
	struct pollfd pfd[1 + HELPER_CHILDREN_MAX];
	size_t pfd_slot[1 + HELPER_CHILDREN_MAX];
	const unsigned limit_s = kind == HELPER_AUTHD ?
	    authd_request_limit_s(conf) : resolver_request_limit_s(conf);
	time_t last_log = 0;

	for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++)
		slots[i].fd = -1;
	for (;;) {
		uint8_t key[sizeof(kids[0].key)];
		size_t n = 1, free_slot = HELPER_CHILDREN_MAX, free_kid = 0,
		    klen;
		int ctl[2] = { -1, -1 };
		const char *why;
		pid_t pid, worker;
		int chan, client_fd, rc, timeout;

		reap(kids);
		timeout = enforce_limits(kids);
		/* While a child runs, wake up to reap it: otherwise the last
		 * request's child stays a zombie until the next request
		 * (tests/soak.bats saw one in the resolver). */
		if (timeout == -1 || timeout > HELPER_REAP_MS)
			for (size_t i = 0; i < HELPER_CHILDREN_MAX; i++)
				if (kids[i].pid != 0) {
					timeout = HELPER_REAP_MS;
					break;
				}
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
		if (poll(pfd, n, timeout) == -1) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		for (size_t i = 1; i < n; i++)
			if (pfd[i].revents != 0)
				ctl_message(&slots[pfd_slot[i]], conf);
		if (pfd[0].revents == 0)
			continue;
		rc = ipc_recv_open(door, &chan, &client_fd, &worker);
		if (rc == ERR_EOF)
			_exit(0);
		if (rc == ERR_TIMEOUT)
			continue;
		if (rc != 0) {
			/* A bad frame from one worker is that worker's
			 * problem: its descriptors are closed (without
			 * lingering), the rest are served. */
			log_refusal("malformed open request", &last_log);
			continue;
		}
		klen = source_key(client_fd, key);
		ipc_close_passed(client_fd);
		/* Children that ended while we slept count no more. */
		reap(kids);
		while (free_kid < HELPER_CHILDREN_MAX && kids[free_kid].pid != 0)
			free_kid++;
		why = admission(kids, worker, key, klen);
		if (why == NULL && kind == HELPER_AUTHD &&
		    (free_slot == HELPER_CHILDREN_MAX || socketpair(AF_UNIX,
		    SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) == -1))
			why = "no control socket";
		if (why != NULL || free_kid == HELPER_CHILDREN_MAX) {
			log_refusal(why != NULL ? why : "no free entry",
			    &last_log);
			ipc_close_passed(chan);
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
			resolver_serve_channel(chan, conf);
		}
		if (pid == -1) {
			log_warn("fork");
			if (ctl[0] != -1)
				close(ctl[0]);
		} else {
			kids[free_kid] = (struct child){ .pid = pid,
			    .worker = worker, .klen = klen };
			memcpy(kids[free_kid].key, key, klen);
			clock_gettime(CLOCK_MONOTONIC, &kids[free_kid].kill_at);
			kids[free_kid].kill_at.tv_sec += limit_s;
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
	int door[2], on = 1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, door) == -1)
		return ERR_SYS;
	/* Before any worker can send: the kernel then names the sender of
	 * every open request (SCM_CREDENTIALS), which the per-worker limit
	 * counts by. */
	if (setsockopt(door[0], SOL_SOCKET, SO_PASSCRED, &on,
	    sizeof(on)) == -1) {
		close(door[0]);
		close(door[1]);
		return ERR_SYS;
	}
	pid = fork();
	if (pid == -1) {
		close(door[0]);
		close(door[1]);
		return ERR_SYS;
	}
	if (pid == 0) {
		close(door[1]);
		proc_child_signals();
		/* Neither helper ever chains through an upstream. */
		conf_forget_upstream_secret(conf, false);
		/* Die with the master rather than serve stale doors. */
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		if (h->kind == HELPER_AUTHD) {
			proctitle_set("authd", NULL);
			log_procname("authd");
			/* Once, here: each request's child inherits libpam or
			 * the password file, and the addresses clients reach
			 * the daemon on (the listen sockets, about to be
			 * closed).  If loading fails, every password check
			 * answers "refused". */
			authd_setup(conf, close_fds, n_close);
		} else {
			proctitle_set("resolver", NULL);
			log_procname("resolver");
			helper_drop(uid, gid);
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
				fatal("PR_SET_NO_NEW_PRIVS");
		}
		for (size_t i = 0; i < n_close; i++)
			if (close_fds[i] >= 0)
				close(close_fds[i]);
		/* Last, once nothing needs more than lookups: a resolver
		 * without its filter does not serve. */
		if (h->kind == HELPER_RESOLVER && resolver_sandbox() != 0)
			fatalx("resolver: no seccomp filter");
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
