/*
 * IPC framing (common/ipc.h): the table of messages, sending frames with
 * descriptors, and receiving them, where each frame is checked against
 * its definition (type, sender, length, descriptors, credentials) before
 * a caller sees a byte of it.  The payload codecs are common/ipc_codec.c.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/io.h"
#include "common/ipc.h"
#include "common/rd.h"
#include "common/wr.h"

/* Payload bounds.  RESOLVE: u8 length + 1..255 name bytes.  ANSWER: u8
 * status, u8 count, count addresses.  USERPASS: u8-prefixed user (1..255)
 * and password (0..255), with the client's socket attached (authd reads
 * the address from the socket, never from the worker's words).
 * AUTH_ANSWER: u8 status (0 accepted, 1 refused), u8 auth_reason, u8
 * flags.  IDENT: one zero byte, with the client's socket.  IDENT_ANSWER:
 * u8 auth_reason, u8 length + user (present exactly when the reason is
 * AUTH_R_OK).  THROTTLE_ASK: client address (17), u8-prefixed user
 * (1..255).  THROTTLE_DELAY: u32 ms.  THROTTLE_RESULT: u8
 * throttle_outcome.  FORK, FORKED, REAPED: fixed (ipc.h).  AUDIT_RECORD,
 * AUDIT_MASTER: one JSON object (auditd/record.c checks it).  AUDIT_ACK:
 * u8 0 written, 1 not.  AUDIT_FILE: u8 flags, + the file.  The last column
 * is the number of descriptors a frame of the type carries (ipc_recv_msg
 * requires exactly that many); IPC_OPEN's is its most, taken by
 * ipc_recv_open: the channel, and the client's socket when the worker has
 * one. */
static const struct ipc_msgdef ipc_table[] = {
	{ IPC_OPEN, FROM_WORKER, 1, 1, 2, "open" },
	{ IPC_RESOLVE, FROM_WORKER, 2, 256, 0, "resolve" },
	{ IPC_RESOLVE_ANSWER, FROM_HELPER, 2, 2 + IPC_ADDRS_MAX * IPC_ADDR_LEN,
	    0, "resolve-answer" },
	{ IPC_AUTH_USERPASS, FROM_WORKER, 2 + 1, 2 + 255 + 255, 1,
	    "auth-userpass" },
	{ IPC_AUTH_ANSWER, FROM_HELPER, 3, 3, 0, "auth-answer" },
	{ IPC_IDENT, FROM_WORKER, 1, 1, 1, "ident" },
	{ IPC_IDENT_ANSWER, FROM_HELPER, 2, 2 + IPC_IDENT_USER_MAX, 0,
	    "ident-answer" },
	{ IPC_THROTTLE_ASK, FROM_AUTHD_CHILD, IPC_ADDR_LEN + 2,
	    IPC_ADDR_LEN + 1 + 255, 0, "throttle-ask" },
	{ IPC_THROTTLE_DELAY, FROM_HELPER, 4, 4, 0, "throttle-delay" },
	{ IPC_THROTTLE_RESULT, FROM_AUTHD_CHILD, 1, 1, 0, "throttle-result" },
	{ IPC_FORK, FROM_MASTER, IPC_FORK_LEN, IPC_FORK_LEN, IPC_FORK_FDS,
	    "fork" },
	{ IPC_FORKED, FROM_FORKER, IPC_FORKED_LEN, IPC_FORKED_LEN, 0,
	    "forked" },
	{ IPC_REAPED, FROM_FORKER, IPC_REAPED_LEN, IPC_REAPED_LEN, 0,
	    "reaped" },
	{ IPC_RETIRE, FROM_MASTER, 0, 0, 0, "retire" },
	{ IPC_SPARE, FROM_FORKER, IPC_PID_LEN, IPC_PID_LEN, 1, "spare" },
	{ IPC_TAKEN, FROM_MASTER, IPC_PID_LEN, IPC_PID_LEN, 0, "taken" },
	{ IPC_IMAGE_SETUP, FROM_MASTER, IPC_IMAGE_SETUP_LEN,
	    IPC_IMAGE_SETUP_LEN, 0, "image-setup" },
	{ IPC_UPSTREAM_DOWN, FROM_WORKER, IPC_UPSTREAM_DOWN_LEN,
	    IPC_UPSTREAM_DOWN_LEN, 0, "upstream-down" },
	{ IPC_AUDIT_RECORD, FROM_WORKER, 2, IPC_AUDIT_RECORD_MAX, 0,
	    "audit-record" },
	{ IPC_AUDIT_ACK, FROM_HELPER, 1, 1, 0, "audit-ack" },
	{ IPC_AUDIT_FILE, FROM_MASTER, 1, 1, 1, "audit-file" },
	{ IPC_AUDIT_MASTER, FROM_MASTER, 2, IPC_AUDIT_RECORD_MAX, 0,
	    "audit-master" },
	/* RFC 1961 tokens: 1..65535 bytes, as the 2-byte length allows. */
	{ IPC_GSS_ACCEPT, FROM_WORKER, 1, IPC_LARGE_MAX, 1, "gss-accept" },
	{ IPC_GSS_TOKEN, FROM_WORKER, 1, IPC_LARGE_MAX, 0, "gss-token" },
	{ IPC_GSS_CONTINUE, FROM_HELPER, 1, IPC_LARGE_MAX, 0, "gss-continue" },
	{ IPC_GSS_ESTABLISHED, FROM_HELPER, IPC_GSS_ESTABLISHED_MIN,
	    IPC_LARGE_MAX, 0, "gss-established" },
	{ IPC_GSS_PROTECT, FROM_WORKER, 1, IPC_LARGE_MAX, 0, "gss-protect" },
	{ IPC_GSS_PROTECT_ANSWER, FROM_HELPER, 2, IPC_LARGE_MAX, 0,
	    "gss-protect-answer" },
	{ IPC_NEGOTIATED, FROM_WORKER, IPC_NEGOTIATED_LEN, IPC_NEGOTIATED_LEN,
	    0, "negotiated" },
	{ IPC_REAL_CLIENT, FROM_WORKER, IPC_REAL_CLIENT_LEN,
	    IPC_REAL_CLIENT_LEN, 1, "real-client" },
	{ IPC_SESSION_USER, FROM_WORKER, 4 + 1 + 1, 4 + 1 + 255, 1,
	    "session-user" },
	{ IPC_VERDICT, FROM_MASTER, IPC_VERDICT_LEN, IPC_VERDICT_LEN, 0,
	    "verdict" },
};

const struct ipc_msgdef *
ipc_msgdef(uint16_t type)
{
	for (size_t i = 0; i < sizeof(ipc_table) / sizeof(ipc_table[0]); i++)
		if (ipc_table[i].type == type)
			return &ipc_table[i];
	return NULL;
}

int
ipc_frame(enum ipc_type type, const void *payload, size_t len, uint8_t *out,
    size_t cap)
{
	const struct ipc_msgdef *def = ipc_msgdef((uint16_t)type);
	struct wr w;

	if (def == NULL || len < def->min_len || len > def->max_len)
		return ERR_PROTO;
	wr_init(&w, out, cap);
	if (wr_u16be(&w, (uint16_t)type) != 0 || wr_u16be(&w, (uint16_t)len) != 0 ||
	    (len > 0 && wr_bytes(&w, payload, len) != 0))
		return ERR_PROTO;
	return (int)w.off;
}

int
ipc_send_fds(int fd, enum ipc_type type, const void *payload, size_t len,
    const int *fds, size_t n_fds, int nowait)
{
	const struct ipc_msgdef *def = ipc_msgdef((uint16_t)type);
	uint8_t hdr[IPC_HDR_LEN];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IPC_FDS_MAX)];
	} control;
	/* Header and payload as two pieces of one datagram: no copy, and a
	 * large frame (common/ipc.h) needs no large buffer here. */
	struct iovec iov[2];
	struct msghdr msg;
	struct wr w;
	ssize_t n;

	if (def == NULL || len < def->min_len || len > def->max_len ||
	    n_fds > IPC_FDS_MAX || (type != IPC_OPEN && n_fds != def->n_fds))
		return ERR_PROTO;
	wr_init(&w, hdr, sizeof(hdr));
	if (wr_u16be(&w, (uint16_t)type) != 0 || wr_u16be(&w, (uint16_t)len) != 0)
		return ERR_PROTO;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	/* sendmsg only reads it: the union drops const without a cast. */
	iov[1].iov_base = ((union { const void *c; void *v; }){ .c = payload }).v;
	iov[1].iov_len = len;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = len > 0 ? 2 : 1;
	if (n_fds > 0) {
		struct cmsghdr *cm;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
	}
	/* ETOOMANYREFS: the kernel refuses to put more descriptors in
	 * flight (sent, not yet received) than the sender's RLIMIT_NOFILE,
	 * counted over its whole uid.  Every worker and forker shares one
	 * uid under a limit of 64, so a receiver a few milliseconds late
	 * (the audit logger, a spare, on a loaded host) made other
	 * sessions' sends fail.  It is a full queue, not an error: a
	 * blocking send waits for it to drain, bounded; a non-blocking one
	 * says "full". */
	for (int waited_ms = 0;;) {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL | (nowait ? MSG_DONTWAIT : 0));
		if (n != -1)
			break;
		if (errno == EINTR)
			continue;
		if (errno != ETOOMANYREFS || nowait ||
		    waited_ms >= IPC_REFS_WAIT_MS)
			break;
		(void)poll(NULL, 0, 1);
		waited_ms++;
	}
	if (n == -1)
		return errno == EPIPE || errno == ECONNRESET ||
		    errno == ECONNREFUSED ? ERR_EOF :
		    errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ETOOMANYREFS ? ERR_TIMEOUT : ERR_SYS;
	return (size_t)n == sizeof(hdr) + len ? 0 : ERR_SYS;
}

int
ipc_send(int fd, enum ipc_type type, const void *payload, size_t len,
    int pass_fd)
{
	return ipc_send_fds(fd, type, payload, len, &pass_fd,
	    pass_fd >= 0 ? 1 : 0, 0);
}

/* Take the descriptors a message carried: up to max into fds (the count
 * to *n), closing any beyond.  Returns how many were closed. */
static size_t
take_fds(struct msghdr *msg, int *fds, size_t max, size_t *n)
{
	size_t extra = 0;

	*n = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL;
	    cm = CMSG_NXTHDR(msg, cm)) {
		size_t nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*n < max)
				fds[(*n)++] = fd;
			else {
				ipc_close_passed(fd);
				extra++;
			}
		}
	}
	return extra;
}

static void
close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ipc_close_passed(fds[i]);
		fds[i] = -1;
	}
}

/* The contract is in ipc.h. */
void
ipc_close_passed(int fd)
{
	struct linger off = { 0, 0 };

	if (fd < 0)
		return;
	/* Fails with ENOTSOCK on anything else, which closes at once. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
	close(fd);
}

bool
ipc_fd_is(int fd, int domain, int type, int protocol)
{
	int v[3] = { -1, -1, -1 };
	const int opt[3] = { SO_DOMAIN, SO_TYPE, SO_PROTOCOL };

	for (size_t i = 0; i < 3; i++) {
		socklen_t len = sizeof(v[i]);

		if (getsockopt(fd, SOL_SOCKET, opt[i], &v[i], &len) == -1 ||
		    len != sizeof(v[i]))
			return false;
	}
	return v[0] == domain && v[1] == type &&
	    (protocol == -1 || v[2] == protocol);
}

/* One frame from `from`; expect 0 takes any type.  With exact_fds the
 * type's n_fds descriptors must come, else at most max_fds may. */
static int
recv_frame(int fd, uint16_t expect, uint16_t expect2, enum ipc_from from,
    uint16_t *type, uint8_t *frame, size_t frame_cap,
    const uint8_t **payload, size_t cap, size_t *len, int *fds,
    size_t max_fds, bool exact_fds, const struct timespec *deadline,
    struct ucred *cred)
{
	/* Room for as many descriptors as the kernel lets one message carry
	 * (SCM_MAX_FD), so that it never drops any itself: its close of a
	 * lingering socket would run in this process and block it (a worker
	 * could stall a helper so).  Every extra one is closed here, without
	 * lingering.  And the sender's credentials, where asked for. */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IPC_PASSED_FDS_MAX) +
		    CMSG_SPACE(sizeof(struct ucred))];
	} control;
	bool have_cred = false;
	const struct ipc_msgdef *def;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = frame, .iov_len = frame_cap };
	struct msghdr msg;
	uint16_t plen;
	size_t n_fds = 0, extra;
	struct rd r;
	ssize_t n;
	int pr;

	/* A zero deadline is a drain: recvmsg alone says whether a frame is
	 * queued (EAGAIN), one syscall fewer per frame for the master and the
	 * forker. */
	while (deadline == NULL || deadline->tv_sec != 0 ||
	    deadline->tv_nsec != 0) {
		pr = poll(&pfd, 1, io_ms_left(deadline));
		if (pr > 0)
			break;
		if (pr == 0)
			return ERR_TIMEOUT;
		if (errno != EINTR)
			return ERR_SYS;
	}
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.buf;
	msg.msg_controllen = sizeof(control.buf);
	/* ECONNRESET: the peer closed with frames of ours it had not read.
	 * The kernel reports that once, ahead of the frames the peer had
	 * sent us, which are still queued (a worker that posted its last
	 * audit records and exited; a forker that died with reports
	 * pending): read on, and the end of file follows them. */
	for (bool reset_seen = false;;) {
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n != -1 || (errno != EINTR &&
		    (errno != ECONNRESET || reset_seen)))
			break;
		reset_seen = reset_seen || errno == ECONNRESET;
	}
	if (n == 0)
		return ERR_EOF;
	if (n == -1)
		return errno == ECONNRESET ? ERR_EOF : errno == EAGAIN ||
		    errno == EWOULDBLOCK ? ERR_TIMEOUT : ERR_SYS;
	extra = take_fds(&msg, fds, max_fds, &n_fds);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cred != NULL && cm != NULL;
	    cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(*cred))) {
			memcpy(cred, CMSG_DATA(cm), sizeof(*cred));
			have_cred = true;
		}
	/* A frame longer than any message, or cut by the kernel, is refused
	 * whole: its tail would otherwise read as the next frame. */
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || extra > 0 ||
	    (size_t)n >= frame_cap)
		goto fail;
	rd_init(&r, frame, (size_t)n);
	if (rd_u16be(&r, type) != 0 || rd_u16be(&r, &plen) != 0)
		goto fail;
	if ((def = ipc_msgdef(*type)) == NULL ||
	    (expect != 0 && *type != expect && *type != expect2) ||
	    def->from != from || plen < def->min_len || plen > def->max_len ||
	    plen > cap || rd_bytes(&r, plen, payload) != 0 || rd_end(&r) != 0 ||
	    (exact_fds && n_fds != def->n_fds) ||
	    (cred != NULL && !have_cred))
		goto fail;
	*len = plen;
	return 0;
fail:
	close_fds(fds, n_fds);
	return ERR_PROTO;
}

/* ipc_recv into a frame buffer of frame_cap bytes. */
static int
recv_copy(int fd, enum ipc_type expect, enum ipc_from from, uint8_t *frame,
    size_t frame_cap, uint8_t *buf, size_t cap, size_t *len, int *fd_out,
    const struct timespec *deadline)
{
	const uint8_t *payload;
	int got = -1;
	uint16_t type;
	int rc;

	rc = recv_frame(fd, (uint16_t)expect, (uint16_t)expect, from, &type,
	    frame, frame_cap, &payload, cap, len, &got,
	    fd_out != NULL ? 1 : 0, false, deadline, NULL);
	if (rc == 0 && *len > 0)
		memcpy(buf, payload, *len);
	if (fd_out != NULL)
		*fd_out = rc == 0 ? got : -1;
	return rc;
}

/*
 * A frame longer than cap is refused either way (too long for the buffer,
 * or its length past cap), so a short answer (an ack, a verdict) needs a
 * frame buffer of its own size only.  Each size is its own function, so
 * that a worker waiting for an ack does not reach 4 KiB deeper into its
 * stack for a buffer it never fills: every stack page a worker touches is
 * a page of its own (README, Performance: PSS per held session).
 */
static __attribute__((noinline)) int
recv_short(int fd, enum ipc_type expect, enum ipc_from from, uint8_t *buf,
    size_t cap, size_t *len, int *fd_out, const struct timespec *deadline)
{
	uint8_t frame[IPC_HDR_LEN + IPC_SHORT_MAX + 1];

	return recv_copy(fd, expect, from, frame, IPC_HDR_LEN + cap + 1, buf,
	    cap, len, fd_out, deadline);
}

static __attribute__((noinline)) int
recv_long(int fd, enum ipc_type expect, enum ipc_from from, uint8_t *buf,
    size_t cap, size_t *len, int *fd_out, const struct timespec *deadline)
{
	uint8_t frame[IPC_FRAME_MAX + 1];

	return recv_copy(fd, expect, from, frame, sizeof(frame), buf, cap,
	    len, fd_out, deadline);
}

int
ipc_recv(int fd, enum ipc_type expect, enum ipc_from from, uint8_t *buf,
    size_t cap, size_t *len, int *fd_out, const struct timespec *deadline)
{
	if (cap <= IPC_SHORT_MAX)
		return recv_short(fd, expect, from, buf, cap, len, fd_out,
		    deadline);
	return recv_long(fd, expect, from, buf, cap, len, fd_out, deadline);
}

int
ipc_recv_either(int fd, enum ipc_type a, enum ipc_type b,
    enum ipc_from from, uint8_t *buf, size_t cap, size_t *len,
    enum ipc_type *got_type, int *fd_out, const struct timespec *deadline)
{
	uint8_t frame[IPC_FRAME_MAX + 1];
	const uint8_t *payload;
	int got = -1;
	uint16_t type;
	int rc;

	rc = recv_frame(fd, (uint16_t)a, (uint16_t)b, from, &type, frame,
	    sizeof(frame), &payload, cap, len, &got, fd_out != NULL ? 1 : 0,
	    false, deadline, NULL);
	if (rc == 0 && *len > 0)
		memcpy(buf, payload, *len);
	if (fd_out != NULL)
		*fd_out = rc == 0 ? got : -1;
	if (rc == 0)
		*got_type = (enum ipc_type)type;
	return rc;
}

int
ipc_recv_msg(int fd, enum ipc_from from, uint16_t *type, uint8_t *buf,
    size_t cap, size_t *len, int *fds, const struct timespec *deadline)
{
	uint8_t frame[IPC_FRAME_MAX + 1];
	const uint8_t *payload;
	int rc;

	for (size_t i = 0; i < IPC_FDS_MAX; i++)
		fds[i] = -1;
	rc = recv_frame(fd, 0, 0, from, type, frame, sizeof(frame), &payload,
	    cap, len, fds, IPC_FDS_MAX, true, deadline, NULL);
	if (rc == 0 && *len > 0)
		memcpy(buf, payload, *len);
	return rc;
}

/* The contract is in ipc.h. */
int
ipc_recv_cred(int fd, enum ipc_from from, uint16_t *type, uint8_t *buf,
    size_t cap, size_t *len, int *fds, int *pid)
{
	static const struct timespec now = { 0, 0 };
	uint8_t frame[IPC_FRAME_MAX + 1];
	const uint8_t *payload;
	struct ucred cred = { 0 };
	int rc;

	*pid = 0;
	for (size_t i = 0; i < IPC_FDS_MAX; i++)
		fds[i] = -1;
	rc = recv_frame(fd, 0, 0, from, type, frame, sizeof(frame), &payload,
	    cap, len, fds, IPC_FDS_MAX, true, &now, &cred);
	if (rc == 0 && cred.pid <= 0) {
		close_fds(fds, IPC_FDS_MAX);
		rc = ERR_PROTO;
	}
	if (rc != 0)
		return rc;
	if (*len > 0)
		memcpy(buf, payload, *len);
	*pid = cred.pid;
	return 0;
}

int
ipc_recv_large(int fd, enum ipc_type a, enum ipc_type b, enum ipc_from from,
    struct ipc_large *m, int *fd_out, const struct timespec *deadline)
{
	uint16_t type;
	int got = -1, rc;

	rc = recv_frame(fd, (uint16_t)a, (uint16_t)b, from, &type, m->frame,
	    sizeof(m->frame), &m->payload, IPC_LARGE_MAX, &m->len, &got,
	    fd_out != NULL ? 1 : 0, false, deadline, NULL);
	if (fd_out != NULL)
		*fd_out = rc == 0 ? got : -1;
	if (rc == 0)
		m->type = (enum ipc_type)type;
	return rc;
}

/* The contract is in ipc.h. */
int
ipc_recv_open(int door, int *chan, int *client_fd, pid_t *sender)
{
	const struct timespec now = { 0, 0 };
	struct ucred cred = { 0 }, chan_cred = { 0 };
	socklen_t clen = sizeof(chan_cred);
	int fds[2] = { -1, -1 }, rc;
	uint8_t frame[IPC_FRAME_MAX + 1];
	const uint8_t *payload = NULL;
	uint16_t type;
	size_t len = 0;

	*chan = *client_fd = -1;
	*sender = 0;
	rc = recv_frame(door, IPC_OPEN, IPC_OPEN, FROM_WORKER, &type, frame,
	    sizeof(frame), &payload, 1, &len, fds, 2, false, &now, &cred);
	if (rc != 0)
		return rc;
	/* The channel must be a socketpair end its sender made (not the
	 * door, nor anything else a worker holds), and the client's socket a
	 * TCP socket: anything else is closed unused. */
	if (len != 1 || payload[0] != IPC_VERSION || fds[0] == -1 ||
	    !ipc_fd_is(fds[0], AF_UNIX, SOCK_SEQPACKET, -1) ||
	    getsockopt(fds[0], SOL_SOCKET, SO_PEERCRED, &chan_cred,
	    &clen) == -1 || chan_cred.pid != cred.pid || cred.pid <= 0 ||
	    (fds[1] != -1 && (!ipc_fd_is(fds[1], AF_INET, SOCK_STREAM,
	    IPPROTO_TCP) && !ipc_fd_is(fds[1], AF_INET6, SOCK_STREAM,
	    IPPROTO_TCP)))) {
		close_fds(fds, 2);
		return ERR_PROTO;
	}
	*chan = fds[0];
	*client_fd = fds[1];
	*sender = cred.pid;
	return 0;
}
