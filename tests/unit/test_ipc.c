/*
 * IPC framing (common/ipc.c) and the payload codecs (common/ipc_codec.c)
 * of authd and the resolver: every message within its bounds, truncated and oversized
 * frames, wrong types and senders, passed descriptors, answers that do not
 * match their request.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/version.h"
#include "common/wr.h"
#include "unit.h"

static int pair[2];

static void
fresh_pair(void)
{
	if (pair[0] > 0) {
		close(pair[0]);
		close(pair[1]);
	}
	socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
}

/* Send raw frame bytes, bypassing ipc_send's own checks. */
static void
send_raw(const void *buf, size_t len)
{
	(void)send(pair[0], buf, len, 0);
}

static int
recv_as(enum ipc_type type, enum ipc_from from, uint8_t *buf, size_t cap,
    size_t *len)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 2;
	return ipc_recv(pair[1], type, from, buf, cap, len, NULL, &deadline);
}

static void
test_framing(void)
{
	uint8_t buf[IPC_FRAME_MAX], big[IPC_FRAME_MAX + 64];
	uint8_t ok_frame[] = { 0, IPC_AUTH_ANSWER, 0, 3, 0, 0, 0 };
	uint8_t lying_len[] = { 0, IPC_AUTH_ANSWER, 0, 4, 0, 0, 0 };
	uint8_t unknown[] = { 0, 99, 0, 1, 0 };
	uint8_t short_hdr[] = { 0, IPC_AUTH_ANSWER, 0 };
	uint8_t v = IPC_VERSION;
	struct timespec deadline;
	size_t len;
	int got_fd, null_fd;

	fresh_pair();
	CHECK(ipc_send(pair[0], IPC_AUTH_ANSWER, "\0\0\0", 3, -1) == 0 &&
	    recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, sizeof(buf), &len) == 0 &&
	    len == 3 && buf[0] == 0, "round trip of a 3-byte answer");
	send_raw(ok_frame, sizeof(ok_frame));
	CHECK(recv_as(IPC_RESOLVE_ANSWER, FROM_HELPER, buf, sizeof(buf), &len) ==
	    ERR_PROTO, "an answer of another type than expected is refused");
	send_raw(ok_frame, sizeof(ok_frame));
	CHECK(recv_as(IPC_AUTH_ANSWER, FROM_WORKER, buf, sizeof(buf), &len) ==
	    ERR_PROTO, "a helper's message claimed by a worker is refused");
	send_raw(lying_len, sizeof(lying_len));
	CHECK(recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, sizeof(buf), &len) ==
	    ERR_PROTO, "header length larger than the frame is refused");
	send_raw(unknown, sizeof(unknown));
	CHECK(recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, sizeof(buf), &len) ==
	    ERR_PROTO, "unknown type is refused");
	send_raw(short_hdr, sizeof(short_hdr));
	CHECK(recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, sizeof(buf), &len) ==
	    ERR_PROTO, "3-byte frame (short header) is refused");
	memset(big, 0, sizeof(big));
	big[1] = IPC_RESOLVE;
	big[2] = (IPC_FRAME_MAX + 60) >> 8;
	big[3] = (IPC_FRAME_MAX + 60) & 0xff;
	send_raw(big, sizeof(big));
	CHECK(recv_as(IPC_RESOLVE, FROM_WORKER, buf, sizeof(buf), &len) ==
	    ERR_PROTO, "frame longer than IPC_FRAME_MAX is refused whole");
	/* A short answer is received into a frame of its own size
	 * (recv_short): a longer frame is still refused whole, and the
	 * frame after it is read from its start. */
	CHECK(ipc_send(pair[0], IPC_AUTH_ANSWER, "\1\2\3", 3, -1) == 0 &&
	    recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, 3, &len) == 0 &&
	    len == 3 && buf[2] == 3, "round trip into a 3-byte buffer");
	send_raw(ok_frame, sizeof(ok_frame));
	CHECK(ipc_send(pair[0], IPC_AUTH_ANSWER, "\7\0\0", 3, -1) == 0 &&
	    recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, 2, &len) == ERR_PROTO,
	    "a 3-byte answer into a 2-byte buffer is refused");
	CHECK(recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, 3, &len) == 0 &&
	    len == 3 && buf[0] == 7, "the next frame is read whole after it");
	send_raw(big, sizeof(big));
	CHECK(recv_as(IPC_RESOLVE, FROM_WORKER, buf, 8, &len) == ERR_PROTO,
	    "a frame of IPC_FRAME_MAX into a short buffer is refused whole");
	CHECK(ipc_send(pair[0], IPC_AUTH_ANSWER, "\5\0\0", 3, -1) == 0 &&
	    recv_as(IPC_AUTH_ANSWER, FROM_HELPER, buf, 3, &len) == 0 &&
	    buf[0] == 5, "and no tail of it is read as the next frame");
	CHECK(ipc_send(pair[0], IPC_AUTH_ANSWER, "\0\0\0\0", 4, -1) ==
	    ERR_PROTO, "ipc_send refuses a payload above the type's bound");
	CHECK(ipc_send(pair[0], IPC_RESOLVE, "\0", 1, -1) == ERR_PROTO,
	    "ipc_send refuses a payload below the type's bound");
	CHECK(ipc_send(pair[0], (enum ipc_type)77, "\0", 1, -1) == ERR_PROTO,
	    "ipc_send refuses an unknown type");

	/* A descriptor travels with IPC_OPEN; one sent where none is
	 * expected is closed, never leaked. */
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(ipc_send(pair[0], IPC_OPEN, &v, 1, null_fd) == 0, "send with fd");
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 2;
	CHECK(ipc_recv(pair[1], IPC_OPEN, FROM_WORKER, buf, sizeof(buf), &len,
	    &got_fd, &deadline) == 0 && got_fd >= 0 && got_fd != null_fd &&
	    fcntl(got_fd, F_GETFD) == FD_CLOEXEC, "fd received, close-on-exec");
	close(got_fd);
	close(null_fd);

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	CHECK(ipc_recv(pair[1], IPC_OPEN, FROM_WORKER, buf, sizeof(buf), &len,
	    NULL, &deadline) == ERR_TIMEOUT, "nothing sent: timeout, no hang");
	close(pair[0]);
	pair[0] = -1;
	CHECK(ipc_recv(pair[1], IPC_OPEN, FROM_WORKER, buf, sizeof(buf), &len,
	    NULL, NULL) == ERR_EOF, "peer closed: ERR_EOF");
	close(pair[1]);
	pair[0] = pair[1] = 0;
}

static size_t
userpass_payload(uint8_t *buf, size_t cap, const char *user, const char *pass)
{
	struct wr w;

	wr_init(&w, buf, cap);
	wr_u8(&w, (uint8_t)strlen(user));
	wr_bytes(&w, user, strlen(user));
	wr_u8(&w, (uint8_t)strlen(pass));
	wr_bytes(&w, pass, strlen(pass));
	return w.off;
}

static void
test_authd_payload(void)
{
	uint8_t buf[600];
	struct socks5_userpass up;
	size_t len, bad = 0;

	len = userpass_payload(buf, sizeof(buf), "alice", "s3cret");
	CHECK(authd_request_parse(buf, len, &up) == 0 &&
	    strcmp(up.user, "alice") == 0 && strcmp(up.pass, "s3cret") == 0,
	    "userpass payload decoded (no address: authd reads the socket)");
	for (size_t n = 0; n < len; n++)
		if (authd_request_parse(buf, n, &up) != ERR_PROTO)
			bad++;
	CHECK(bad == 0, "every truncated userpass payload is refused");
	buf[len] = 'x';
	CHECK(authd_request_parse(buf, len + 1, &up) == ERR_PROTO,
	    "trailing byte after the password is refused");
	len = userpass_payload(buf, sizeof(buf), "alice", "");
	CHECK(authd_request_parse(buf, len, &up) == 0 &&
	    up.pass[0] == '\0', "empty password decoded (PAM decides)");
	buf[0] = 0;
	CHECK(authd_request_parse(buf, len, &up) == ERR_PROTO,
	    "an empty user name is refused");
	len = userpass_payload(buf, sizeof(buf), "alXce", "pw");
	buf[1 + 2] = '\0';
	CHECK(authd_request_parse(buf, len, &up) == ERR_PROTO,
	    "NUL inside the user name is refused");
}

static void
test_resolve_answer(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage addrs[IPC_ADDRS_MAX];
	uint8_t buf[256], status;
	struct wr w;
	size_t n;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	wr_init(&w, buf, sizeof(buf));
	wr_u8(&w, 0);
	wr_u8(&w, 2);
	ipc_addr_put(&w, (struct sockaddr *)&sin6);
	ipc_addr_put(&w, (struct sockaddr *)&sin);
	CHECK(resolve_answer_parse(buf, w.off, 8080, addrs, IPC_ADDRS_MAX, &n,
	    &status) == 0 && n == 2 && status == 0 &&
	    addrs[0].ss_family == AF_INET6 && addrs[1].ss_family == AF_INET &&
	    ntohs(((struct sockaddr_in *)&addrs[1])->sin_port) == 8080,
	    "two addresses, order kept, port applied");
	CHECK(resolve_answer_parse(buf, w.off - 1, 80, addrs, IPC_ADDRS_MAX, &n,
	    &status) == ERR_PROTO, "truncated address refused");
	buf[1] = 3;
	CHECK(resolve_answer_parse(buf, w.off, 80, addrs, IPC_ADDRS_MAX, &n,
	    &status) == ERR_PROTO, "count larger than the addresses refused");
	buf[1] = IPC_ADDRS_MAX + 1;
	CHECK(resolve_answer_parse(buf, w.off, 80, addrs, IPC_ADDRS_MAX, &n,
	    &status) == ERR_PROTO, "count above IPC_ADDRS_MAX refused");
	CHECK(resolve_answer_parse((const uint8_t *)"\x04\x00", 2, 80, addrs,
	    IPC_ADDRS_MAX, &n, &status) == 0 && status == 4 && n == 0,
	    "failure status with no address");
	CHECK(resolve_answer_parse((const uint8_t *)"\x04\x01", 2, 80, addrs,
	    IPC_ADDRS_MAX, &n, &status) == ERR_PROTO,
	    "failure status with addresses is inconsistent");
	CHECK(resolve_answer_parse((const uint8_t *)"\x00\x00", 2, 80, addrs,
	    IPC_ADDRS_MAX, &n, &status) == ERR_PROTO,
	    "success with no address is inconsistent");
}

/* The client endpoint (in IPC_FORK, IPC_AUTH_USERPASS), both families, port kept. */
static void
test_endpoint(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(50312) };
	struct sockaddr_storage out;
	uint8_t buf[IPC_ADDR_LEN + 2];
	struct wr w;
	struct rd r;
	size_t bad = 0;

	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_endpoint_put(&w, (struct sockaddr *)&sin6) == 0 &&
	    w.off == sizeof(buf), "endpoint: 19 bytes");
	rd_init(&r, buf, w.off);
	CHECK(ipc_endpoint_get(&r, &out) == 0 && rd_end(&r) == 0 &&
	    out.ss_family == AF_INET6 &&
	    ntohs(((struct sockaddr_in6 *)&out)->sin6_port) == 50312 &&
	    memcmp(&((struct sockaddr_in6 *)&out)->sin6_addr,
	    &sin6.sin6_addr, 16) == 0, "endpoint: round trip, IPv6");
	for (size_t n = 0; n < sizeof(buf); n++) {
		rd_init(&r, buf, n);
		if (ipc_endpoint_get(&r, &out) == 0)
			bad++;
	}
	CHECK(bad == 0, "endpoint: every truncation refused");
	wr_init(&w, buf, sizeof(buf) - 1);
	CHECK(ipc_endpoint_put(&w, (struct sockaddr *)&sin6) == ERR_NOSPACE,
	    "endpoint: no room, refused");
}

/* The master <-> forker messages: fixed sizes, round trips, every
 * truncation refused, pid 0 in IPC_REAPED refused; IPC_FORK needs exactly
 * its five descriptors. */
static void
test_forker_msgs(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(4242) };
	uint8_t buf[IPC_FRAME_MAX];
	struct ipc_fork f;
	struct ipc_forked fk;
	struct ipc_reaped rp;
	int sp[2], pipes[2][2], fds[IPC_FDS_MAX];
	uint16_t type;
	size_t len, bad = 0;
	struct wr w;
	struct timespec now = { 0, 0 };

	inet_pton(AF_INET, "192.0.2.9", &sin.sin_addr);
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_fork_put(&w, 77, (struct sockaddr *)&sin) == 0 &&
	    w.off == IPC_FORK_LEN, "fork: IPC_FORK_LEN bytes");
	CHECK(ipc_fork_get(buf, w.off, &f) == 0 && f.id == 77 &&
	    f.client.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&f.client)->sin_port == htons(4242),
	    "fork: round trip");
	for (size_t n = 0; n < IPC_FORK_LEN; n++)
		if (ipc_fork_get(buf, n, &f) == 0)
			bad++;
	CHECK(bad == 0 && ipc_fork_get(buf, IPC_FORK_LEN + 1, &f) != 0,
	    "fork: every other length refused");
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_forked_put(&w, 5, 4321) == 0 && w.off == IPC_FORKED_LEN &&
	    ipc_forked_get(buf, w.off, &fk) == 0 && fk.id == 5 &&
	    fk.pid == 4321, "forked: round trip");
	CHECK(ipc_forked_get(buf, w.off - 1, &fk) != 0, "forked: short refused");
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_reaped_put(&w, 4321, 0x8b) == 0 && w.off == IPC_REAPED_LEN &&
	    ipc_reaped_get(buf, w.off, &rp) == 0 && rp.pid == 4321 &&
	    rp.status == 0x8b, "reaped: round trip");
	wr_init(&w, buf, sizeof(buf));
	(void)ipc_reaped_put(&w, 0, 0);
	CHECK(ipc_reaped_get(buf, w.off, &rp) == ERR_PROTO, "reaped: pid 0 refused");
	wr_init(&w, buf, sizeof(buf));
	(void)ipc_reaped_put(&w, 0x80000000u, 0);
	CHECK(ipc_reaped_get(buf, w.off, &rp) == ERR_PROTO,
	    "reaped: a pid above INT32_MAX refused");
	{
		uint32_t pid = 0;

		wr_init(&w, buf, sizeof(buf));
		CHECK(ipc_pid_put(&w, 4321) == 0 && w.off == IPC_PID_LEN &&
		    ipc_pid_get(buf, w.off, &pid) == 0 && pid == 4321,
		    "spare/taken pid: round trip");
		CHECK(ipc_pid_get(buf, w.off - 1, &pid) != 0 &&
		    ipc_pid_get(buf, w.off + 1, &pid) != 0,
		    "spare/taken pid: other lengths refused");
		wr_init(&w, buf, sizeof(buf));
		(void)ipc_pid_put(&w, 0);
		CHECK(ipc_pid_get(buf, w.off, &pid) == ERR_PROTO,
		    "spare/taken pid: 0 refused");
		wr_init(&w, buf, sizeof(buf));
		(void)ipc_pid_put(&w, 0x80000000u);
		CHECK(ipc_pid_get(buf, w.off, &pid) == ERR_PROTO,
		    "spare/taken pid: above INT32_MAX refused");
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) != 0 ||
	    pipe(pipes[0]) != 0 || pipe(pipes[1]) != 0) {
		CHECK(0, "socketpair/pipe");
		return;
	}
	{
		int five[IPC_FORK_FDS] = { sp[0], pipes[0][0], pipes[0][1],
		    pipes[1][0], pipes[1][1] };

		wr_init(&w, buf, sizeof(buf));
		(void)ipc_fork_put(&w, 9, (struct sockaddr *)&sin);
		CHECK(ipc_send_fds(sp[0], IPC_FORK, buf, w.off, five, 4, 1) ==
		    ERR_PROTO, "fork: sending four descriptors refused");
		CHECK(ipc_send_fds(sp[0], IPC_FORK, buf, w.off, five,
		    IPC_FORK_FDS, 1) == 0, "fork: sent with five descriptors");
		CHECK(ipc_recv_msg(sp[1], FROM_MASTER, &type, buf, sizeof(buf),
		    &len, fds, &now) == 0 && type == IPC_FORK &&
		    len == IPC_FORK_LEN && fds[0] >= 0 && fds[4] >= 0,
		    "fork: received with five descriptors");
		for (int i = 0; i < IPC_FDS_MAX; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		/* A FORKED frame carrying a descriptor is refused whole. */
		wr_init(&w, buf, sizeof(buf));
		(void)ipc_forked_put(&w, 1, 2);
		CHECK(ipc_send_fds(sp[0], IPC_FORKED, buf, w.off, five, 1, 1) ==
		    ERR_PROTO, "forked: sending a descriptor refused");
		CHECK(ipc_send(sp[0], IPC_FORKED, buf, w.off, -1) == 0 &&
		    ipc_recv_msg(sp[1], FROM_MASTER, &type, buf, sizeof(buf),
		    &len, fds, &now) == ERR_PROTO,
		    "forked: refused from the wrong sender");
		CHECK(ipc_recv_msg(sp[1], FROM_FORKER, &type, buf, sizeof(buf),
		    &len, fds, &now) == ERR_TIMEOUT, "nothing left queued");
	}
	close(sp[0]);
	close(sp[1]);
	for (int i = 0; i < 2; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
}

/*
 * The kernel's limit on descriptors in flight: an unprivileged sender
 * (here uid 65534 with RLIMIT_NOFILE 8) gets ETOOMANYREFS once more than
 * its limit of descriptors it sent are still unread, counted for its
 * whole uid.  A non-blocking send says "full" (ERR_TIMEOUT); a blocking
 * one waits until the receiver (this process, 300 ms later) has drained
 * them.  Needs root to change uid; skipped otherwise.
 */
enum { REFS_LIMIT = 8, REFS_SENDS = 16 };

static int
refs_sender(int s)
{
	const struct rlimit lim = { REFS_LIMIT + 8, REFS_LIMIT + 8 };
	const struct rlimit inflight = { REFS_LIMIT, REFS_LIMIT + 8 };
	uint8_t v = IPC_VERSION;
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC), full = 0;

	if (null_fd == -1 || setrlimit(RLIMIT_NOFILE, &lim) != 0 ||
	    setresgid(65534, 65534, 65534) != 0 ||
	    setresuid(65534, 65534, 65534) != 0 ||
	    setrlimit(RLIMIT_NOFILE, &inflight) != 0)
		return 10;
	/* Non-blocking first: past the limit it must say full, not fail. */
	for (int i = 0; i < REFS_LIMIT + 2; i++) {
		int rc = ipc_send_fds(s, IPC_OPEN, &v, 1, &null_fd, 1, 1);

		if (rc == ERR_TIMEOUT)
			full++;
		else if (rc != 0)
			return 11;
	}
	if (full == 0)
		return 12;   /* the kernel never refused: nothing tested */
	for (int i = 0; i < REFS_SENDS; i++)
		if (ipc_send(s, IPC_OPEN, &v, 1, null_fd) != 0)
			return 13;
	return 0;
}

static void
test_refs_in_flight(void)
{
	int sp[2], status = -1, got = 0;
	pid_t pid;

	if (geteuid() != 0) {
		CHECK(1, "# SKIP descriptors in flight: needs root");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0) {
		CHECK(0, "socketpair");
		return;
	}
	if ((pid = fork()) == 0) {
		close(sp[1]);
		_exit(refs_sender(sp[0]));
	}
	close(sp[0]);
	usleep(300000);
	for (int i = 0; i < 2 * REFS_SENDS + 2; i++) {
		struct timespec deadline;
		uint8_t buf[8];
		size_t len;
		int fd = -1;

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += 3;
		if (ipc_recv(sp[1], IPC_OPEN, FROM_WORKER, buf, sizeof(buf), &len,
		    &fd, &deadline) != 0)
			break;
		close(fd);
		got++;
	}
	waitpid(pid, &status, 0);
	close(sp[1]);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "past the descriptors-in-flight limit: non-blocking sends say full, "
	    "blocking ones wait for the receiver (sender status %d)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	CHECK(got >= REFS_SENDS, "every blocking send arrived (%d frames)", got);
}

/* IPC_IMAGE_SETUP: what the session image takes from the master before
 * anything else; every field is checked. */
static void
test_image_setup(void)
{
	struct ipc_image_setup s = { .uid = 65534, .gid = 65533,
	    .helper_uid = 101, .helper_gid = 102, .privileged = true,
	    .relay_copy = false, .audit_on = true, .health_gen = 7 }, out;
	uint8_t buf[IPC_IMAGE_SETUP_LEN + 8], bad_buf[IPC_IMAGE_SETUP_LEN];
	size_t bad = 0;
	struct wr w;

	for (int i = 0; i < IPC_IMAGE_FDS; i++)
		s.fds[i] = i == IMAGE_FD_SYSLOG ? -1 : 10 + i;
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_image_setup_put(&w, &s) == 0 && w.off == IPC_IMAGE_SETUP_LEN,
	    "image setup: IPC_IMAGE_SETUP_LEN bytes (%zu)", w.off);
	CHECK(ipc_image_setup_get(buf, w.off, &out) == 0 && out.uid == 65534 &&
	    out.gid == 65533 && out.helper_uid == 101 &&
	    out.helper_gid == 102 && out.privileged && !out.relay_copy &&
	    out.audit_on &&
	    out.health_gen == 7 && out.fds[IMAGE_FD_CONF] == 10 &&
	    out.fds[IMAGE_FD_SYSLOG] == -1 &&
	    out.fds[IMAGE_FD_MASTER_DOOR] == 10 + IMAGE_FD_MASTER_DOOR &&
	    strcmp(out.version, socks5d_build_id) == 0,
	    "image setup: round trip, -1 kept");
	for (size_t n = 0; n < IPC_IMAGE_SETUP_LEN; n++)
		if (ipc_image_setup_get(buf, n, &out) == 0)
			bad++;
	CHECK(bad == 0 && ipc_image_setup_get(buf, IPC_IMAGE_SETUP_LEN + 1,
	    &out) != 0, "image setup: every other length refused");
	/* One byte changed at a time, where a change must be refused. */
	{
		static const struct { size_t off; uint8_t v; const char *what; }
		    cases[] = {
			{ 3, 2, "another ABI" },
			{ 4, 'x', "another build" },
			{ 4 + IPC_IMAGE_VERSION_LEN - 1, 'x', "another build" },
			{ 4 + IPC_IMAGE_VERSION_LEN + 16, 2, "privileged 2" },
			{ 4 + IPC_IMAGE_VERSION_LEN + 17, 9, "relay_copy 9" },
			{ 4 + IPC_IMAGE_VERSION_LEN + 18, 2, "audit_on 2" },
			/* The conf descriptor's low byte: 2, stdio. */
			{ 4 + IPC_IMAGE_VERSION_LEN + 23 + 3, 2, "descriptor 2" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memcpy(bad_buf, buf, sizeof(bad_buf));
			bad_buf[cases[i].off] = cases[i].v;
			CHECK(ipc_image_setup_get(bad_buf, sizeof(bad_buf),
			    &out) == ERR_PROTO, "image setup: %s refused",
			    cases[i].what);
		}
	}
	s.fds[IMAGE_FD_CONF] = -1;
	wr_init(&w, buf, sizeof(buf));
	CHECK(ipc_image_setup_put(&w, &s) == 0 &&
	    ipc_image_setup_get(buf, w.off, &out) == ERR_PROTO,
	    "image setup: no configuration descriptor refused");
}

int
main(void)
{
	test_refs_in_flight();
	test_forker_msgs();
	test_endpoint();
	test_framing();
	test_authd_payload();
	test_resolve_answer();
	test_image_setup();
	return unit_done();
}
