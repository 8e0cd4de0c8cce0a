/*
 * A helper's door against misbehaving workers (issue 12, findings 1 and 5):
 * a real resolver (helper_start, as the master starts it) and this program
 * in the worker's place, holding the worker end of the door and speaking
 * the door protocol as worker/helper_wrap.c does, or breaking it.
 *
 *  - descriptors that linger: a TCP socket with SO_LINGER {1, 10} and
 *    unsent data, passed in three malformed open requests, must not stall
 *    the next lookup (the helper's close() blocked 10 s each);
 *  - one worker holding 260 channels leaves the resolver to everyone else;
 *  - 256 channels that ended while the helper slept are not counted
 *    against the next one;
 *  - one client address (attributed by its socket) holds at most its
 *    share; another address is still served, that one is not;
 *  - a lookup in a black-holed DNS zone is answered "host unreachable" at
 *    SOCKS5_RESOLVE_TIMEOUT (root: in a private mount namespace whose
 *    /etc/resolv.conf names a loopback address that never answers);
 *  - a door whose queue is full makes helper_open give up at the caller's
 *    deadline.
 */
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/socks.h"
#include "conf/conf.h"
#include "worker/helper_wrap.h"
#include "unit.h"

static struct conf *conf;
static uid_t nobody_uid;
static gid_t nobody_gid;

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
deadline_in(struct timespec *d, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	d->tv_sec += ms / 1000;
	d->tv_nsec += (ms % 1000) * 1000000;
	if (d->tv_nsec >= 1000000000) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000;
	}
}

/* "localhost" through the door, as a worker asks it: 0 when answered. */
static int
lookup_localhost(int door, long ms)
{
	struct sockaddr_storage addrs[IPC_ADDRS_MAX];
	struct timespec d;
	size_t n = 0;

	deadline_in(&d, ms);
	return resolver_lookup(door, "localhost", 80, addrs, IPC_ADDRS_MAX, &n,
	    &d) == 0 && n > 0 ? 0 : -1;
}

/* The same from another process (another worker, by the kernel's word),
 * attributed to client_fd: 0 when it was answered. */
static int
lookup_elsewhere(int door, int client_fd)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		helper_attribute(client_fd);
		_exit(lookup_localhost(door, 3000) == 0 ? 0 : 1);
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int
start_resolver(struct helper *h)
{
	*h = (struct helper){ .kind = HELPER_RESOLVER, .worker_door = -1 };
	return helper_start(h, conf, nobody_uid, nobody_gid, NULL, 0);
}

static void
stop_resolver(struct helper *h)
{
	close(h->worker_door);
	(void)waitpid(h->pid, NULL, 0);
}

static int
listener(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1)
		return -1;
	return fd;
}

/* A connection to lfd from src: *client the connecting end, the accepted
 * end returned (its peer is src, as a worker's client socket). */
static int
connection_from(int lfd, const char *src, int *client)
{
	struct sockaddr_in sin = { .sin_family = AF_INET }, dst;
	socklen_t len = sizeof(dst);

	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, src, &sin.sin_addr);
	if (*client == -1 || bind(*client, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&dst, &len) == -1 ||
	    connect(*client, (struct sockaddr *)&dst, sizeof(dst)) == -1)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* A socket whose close() would wait 10 s: lingering, with data queued
 * that the peer (*peer, never read) has no window for. */
static int
lingering_socket(int lfd, int *peer)
{
	struct linger l = { 1, 10 };
	int fd, small = 4096, fl;
	char junk[4096] = { 0 };

	*peer = connection_from(lfd, "127.0.0.1", &fd);
	if (*peer == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	fl = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (int i = 0; i < 4096 && write(fd, junk, sizeof(junk)) > 0; i++)
		;
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) == -1)
		return -1;
	return fd;
}

static void
check_lingering(int door, int lfd)
{
	uint8_t bad = 99, good = IPC_VERSION;
	int peers[3], pair[2], fds[3], rc1, rc2, rc3;
	double t0;

	/* Version 99 with the socket; the socket as the channel; a valid
	 * channel with the socket as a third descriptor. */
	fds[0] = lingering_socket(lfd, &peers[0]);
	rc1 = ipc_send_fds(door, IPC_OPEN, &bad, 1, fds, 1, 0);
	close(fds[0]);
	fds[0] = lingering_socket(lfd, &peers[1]);
	rc2 = ipc_send_fds(door, IPC_OPEN, &good, 1, fds, 1, 0);
	close(fds[0]);
	(void)socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
	fds[0] = pair[1];
	fds[1] = peers[1];
	fds[2] = lingering_socket(lfd, &peers[2]);
	rc3 = ipc_send_fds(door, IPC_OPEN, &good, 1, fds, 3, 0);
	close(fds[2]);
	close(pair[1]);
	CHECK(rc1 == 0 && rc2 == 0 && rc3 == 0,
	    "three malformed opens with a lingering socket sent (%d %d %d)",
	    rc1, rc2, rc3);
	t0 = now_s();
	rc1 = lookup_localhost(door, 3000);
	t0 = now_s() - t0;
	CHECK(rc1 == 0 && t0 < 2.5,
	    "the next lookup is answered at once (%.1f s), not after the "
	    "helper's close() of each lingering socket", t0);
	close(pair[0]);
	for (int i = 0; i < 3; i++)
		close(peers[i]);
}

static void
check_per_worker(int door)
{
	int chans[260], opened = 0;

	helper_attribute(-1);
	for (int i = 0; i < 260; i++)
		if (helper_open(door, NULL, &chans[opened]) == 0)
			opened++;
	usleep(300000);
	CHECK(opened == 260 && lookup_elsewhere(door, -1) == 0,
	    "one worker holding %d idle channels leaves the resolver to "
	    "another worker", opened);
	for (int i = 0; i < opened; i++)
		close(chans[i]);
}

/* n processes each opening per channels attributed to client_fd and
 * holding them until release is readable; ready gets one byte each. */
static void
hold_channels(int door, int client_fd, int n, int per, const int *ready,
    const int *rel, pid_t *pids)
{
	for (int p = 0; p < n; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			int chans[8];
			char c;

			/* EOF on rel[0] is the release: only the parent may
			 * hold its write end. */
			close(rel[1]);
			close(ready[0]);
			helper_attribute(client_fd);
			for (int i = 0; i < per && i < 8; i++)
				(void)helper_open(door, NULL, &chans[i]);
			if (write(ready[1], "r", 1) != 1 || read(rel[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	for (int p = 0; p < n; p++) {
		char c;

		if (read(ready[0], &c, 1) != 1)
			break;
	}
}

static void
release_channels(int *rel, int n, pid_t *pids)
{
	close(rel[1]);
	for (int p = 0; p < n; p++)
		(void)waitpid(pids[p], NULL, 0);
	close(rel[0]);
}

static void
check_stale_count(int door)
{
	int ready[2], rel[2];
	pid_t pids[64];

	if (pipe(ready) == -1 || pipe(rel) == -1) {
		CHECK(0, "pipes");
		return;
	}
	hold_channels(door, -1, 64, 4, ready, rel, pids);
	usleep(300000);
	CHECK(lookup_elsewhere(door, -1) != 0,
	    "256 channels held by 64 workers fill the resolver");
	release_channels(rel, 64, pids);
	close(ready[0]);
	close(ready[1]);
	/* Their children see EOF and exit; the helper, asleep in poll,
	 * learns of it only from the next open. */
	usleep(500000);
	CHECK(lookup_elsewhere(door, -1) == 0,
	    "once they ended, the next open is served (children reaped after "
	    "the receive, not only before the wait)");
}

static void
check_per_source(int door, int lfd)
{
	int ready[2], rel[2], c5, c6, a5, a6;
	pid_t pids[16];

	a5 = connection_from(lfd, "127.0.0.5", &c5);
	a6 = connection_from(lfd, "127.0.0.6", &c6);
	if (pipe(ready) == -1 || pipe(rel) == -1) {
		CHECK(0, "pipes");
		return;
	}
	hold_channels(door, a5, 16, 4, ready, rel, pids);
	usleep(300000);
	CHECK(a5 != -1 && a6 != -1 && lookup_elsewhere(door, a6) == 0,
	    "64 channels from 16 workers of client 127.0.0.5 leave the "
	    "resolver to 127.0.0.6");
	CHECK(lookup_elsewhere(door, a5) != 0,
	    "a 17th worker of 127.0.0.5 is refused: its address has its share");
	release_channels(rel, 16, pids);
	close(ready[0]);
	close(ready[1]);
	close(a5);
	close(a6);
	close(c5);
	close(c6);
}

static void
check_door_deadline(void)
{
	int pair[2], chan = -1, rc = 0, sent = 0;
	struct timespec d;
	double t0;

	(void)socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
	/* A helper that reads nothing: fill its queue. */
	helper_attribute(-1);
	while (sent < 100000) {
		uint8_t v = IPC_VERSION;

		if (ipc_send_fds(pair[1], IPC_OPEN, &v, 1, NULL, 0, 1) != 0)
			break;
		sent++;
	}
	deadline_in(&d, 300);
	t0 = now_s();
	rc = helper_open(pair[1], &d, &chan);
	CHECK(rc == ERR_TIMEOUT && now_s() - t0 < 2.0,
	    "a full door: helper_open gives up at the caller's deadline "
	    "(%s after %.2f s)", err_str(rc), now_s() - t0);
	close(pair[0]);
	close(pair[1]);
}

/* Root only: a resolver whose DNS server never answers (a UDP socket that
 * is never read, named by a private /etc/resolv.conf). */
static void
check_blackhole(void)
{
	const char *rc_text = "nameserver 127.77.53.1\n"
	    "options timeout:30 attempts:1\n";
	struct sockaddr_in ns = { .sin_family = AF_INET, .sin_port = htons(53) };
	char path[] = "/tmp/socks5d-test-resolv-XXXXXX";
	uint8_t req[64], ans[2 + IPC_ADDRS_MAX * IPC_ADDR_LEN];
	struct timespec d;
	struct helper h;
	size_t len = 0;
	int status = -1, fd, sink, chan, rc;
	double t0, took;
	pid_t pid;

	if (geteuid() != 0) {
		printf("ok %d - black-holed zone # SKIP not root\n",
		    ++unit_points);
		return;
	}
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, rc_text, strlen(rc_text)) != (ssize_t)strlen(rc_text) ||
	    fchmod(fd, 0644) == -1) {
		CHECK(0, "black-holed zone: a resolv.conf");
		return;
	}
	close(fd);
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) == -1 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
		    mount(path, "/etc/resolv.conf", NULL, MS_BIND, NULL) == -1)
			_exit(10);
		inet_pton(AF_INET, "127.77.53.1", &ns.sin_addr);
		if ((sink = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
		    bind(sink, (struct sockaddr *)&ns, sizeof(ns)) == -1)
			_exit(11);
		if (start_resolver(&h) != 0 ||
		    helper_open(h.worker_door, NULL, &chan) != 0)
			_exit(12);
		req[0] = (uint8_t)strlen("blackholed.socks5d.test");
		memcpy(req + 1, "blackholed.socks5d.test", req[0]);
		if (ipc_send(chan, IPC_RESOLVE, req, 1 + req[0], -1) != 0)
			_exit(13);
		t0 = now_s();
		deadline_in(&d, 8000);
		rc = ipc_recv(chan, IPC_RESOLVE_ANSWER, FROM_HELPER, ans,
		    sizeof(ans), &len, NULL, &d);
		took = now_s() - t0;
		stop_resolver(&h);
		if (rc != 0)
			_exit(20);
		if (len != 2 || ans[0] != REP_HOST_UNREACHABLE || ans[1] != 0)
			_exit(21);
		_exit(took < 4.0 ? 0 : 22);
	}
	if (pid != -1)
		(void)waitpid(pid, &status, 0);
	unlink(path);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a name in a black-holed zone: \"host unreachable\" at "
	    "SOCKS5_RESOLVE_TIMEOUT 1, not after the 30 s of the resolver "
	    "library (exit %d; 20: no answer in 8 s)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int
main(void)
{
	static const char text[] = "set SOCKS5_RESOLVE_TIMEOUT 1\n"
	    "permit - - - - - -\n";
	struct passwd *pw;
	struct helper h;
	int lfd;

	log_init("test_helper_door", false);
	signal(SIGPIPE, SIG_IGN);
	if (conf_parse_flags("door.conf", text, sizeof(text) - 1,
	    CONF_PARSE_NO_ENV, &conf, NULL, NULL) != 0 ||
	    (pw = getpwnam("nobody")) == NULL) {
		CHECK(0, "configuration and user nobody");
		return unit_done();
	}
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	check_door_deadline();
	check_blackhole();
	if (start_resolver(&h) != 0 || (lfd = listener()) == -1) {
		CHECK(0, "resolver started");
		return unit_done();
	}
	CHECK(lookup_localhost(h.worker_door, 3000) == 0,
	    "localhost through a real resolver");
	check_lingering(h.worker_door, lfd);
	check_per_worker(h.worker_door);
	check_stale_count(h.worker_door);
	check_per_source(h.worker_door, lfd);
	stop_resolver(&h);
	close(lfd);
	conf_free(conf);
	return unit_done();
}
