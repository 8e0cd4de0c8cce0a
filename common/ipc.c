#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/wr.h"

/* Payload bounds.  RESOLVE: u8 length + 1..255 name bytes.  ANSWER: u8
 * status, u8 count, count addresses.  USERPASS: u8-prefixed user (1..255)
 * and password (0..255), with the client's socket attached (authd reads
 * the address from the socket, never from the worker's words).
 * AUTH_ANSWER: u8 status (0 accepted, 1 refused), u8 auth_reason, u8
 * flags.  CLIENT: IPC address (17) + u16 port.  IDENT: one zero byte, with
 * the client's socket.  IDENT_ANSWER: u8 auth_reason, u8 length + user
 * (present exactly when the reason is AUTH_R_OK).  THROTTLE_ASK: client
 * address (17), u8-prefixed user (1..255).  THROTTLE_DELAY: u32 ms.
 * THROTTLE_RESULT: u8 throttle_outcome. */
static const struct ipc_msgdef ipc_table[] = {
	{ IPC_OPEN, FROM_WORKER, 1, 1, "open" },
	{ IPC_RESOLVE, FROM_WORKER, 2, 256, "resolve" },
	{ IPC_RESOLVE_ANSWER, FROM_HELPER, 2, 2 + IPC_ADDRS_MAX * IPC_ADDR_LEN,
	    "resolve-answer" },
	{ IPC_AUTH_USERPASS, FROM_WORKER, 2 + 1, 2 + 255 + 255,
	    "auth-userpass" },
	{ IPC_AUTH_ANSWER, FROM_HELPER, 3, 3, "auth-answer" },
	{ IPC_CLIENT, FROM_MASTER, IPC_ADDR_LEN + 2, IPC_ADDR_LEN + 2, "client" },
	{ IPC_IDENT, FROM_WORKER, 1, 1, "ident" },
	{ IPC_IDENT_ANSWER, FROM_HELPER, 2, 2 + IPC_IDENT_USER_MAX,
	    "ident-answer" },
	{ IPC_THROTTLE_ASK, FROM_AUTHD_CHILD, IPC_ADDR_LEN + 2,
	    IPC_ADDR_LEN + 1 + 255, "throttle-ask" },
	{ IPC_THROTTLE_DELAY, FROM_HELPER, 4, 4, "throttle-delay" },
	{ IPC_THROTTLE_RESULT, FROM_AUTHD_CHILD, 1, 1, "throttle-result" },
};

const char *
auth_reason_str(unsigned reason)
{
	static const char *const text[AUTH_R_MAX] = {
		[AUTH_R_BAD_PASSWORD] = "bad password",
		[AUTH_R_UNKNOWN_USER] = "unknown user",
		[AUTH_R_ACCOUNT] = "account expired or locked",
		[AUTH_R_TIMEOUT] = "timeout",
		[AUTH_R_INTERNAL] = "authd could not check",
		[AUTH_R_IDENT_UNREACHABLE] = "identd unreachable",
		[AUTH_R_IDENT_ERROR] = "identd answered ERROR",
		[AUTH_R_IDENT_MALFORMED] = "identd reply malformed",
	};

	return reason < AUTH_R_MAX ? text[reason] : NULL;
}

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
	    wr_bytes(&w, payload, len) != 0)
		return ERR_PROTO;
	return (int)w.off;
}

int
ipc_send(int fd, enum ipc_type type, const void *payload, size_t len,
    int pass_fd)
{
	uint8_t frame[IPC_FRAME_MAX];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;
	int flen;

	if ((flen = ipc_frame(type, payload, len, frame, sizeof(frame))) < 0)
		return flen;
	iov.iov_base = frame;
	iov.iov_len = (size_t)flen;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	do {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EPIPE || errno == ECONNRESET ||
		    errno == ECONNREFUSED ? ERR_EOF : ERR_SYS;
	return n == flen ? 0 : ERR_SYS;
}

static int
ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (deadline == NULL)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > 1000000000 ? 1000000000 : (int)ms;
}

/* Close every descriptor a message carried that we will not keep. */
static int
take_fds(struct msghdr *msg, int *fd_out)
{
	int kept = -1, extra = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL;
	    cm = CMSG_NXTHDR(msg, cm)) {
		size_t nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (kept == -1 && fd_out != NULL)
				kept = fd;
			else {
				close(fd);
				extra++;
			}
		}
	}
	if (fd_out != NULL)
		*fd_out = kept;
	return extra;
}

int
ipc_recv(int fd, enum ipc_type expect, enum ipc_from from, uint8_t *buf,
    size_t cap, size_t *len, int *fd_out, const struct timespec *deadline)
{
	enum ipc_type got;

	return ipc_recv_either(fd, expect, expect, from, buf, cap, len, &got,
	    fd_out, deadline);
}

int
ipc_recv_either(int fd, enum ipc_type a, enum ipc_type b,
    enum ipc_from from, uint8_t *buf, size_t cap, size_t *len,
    enum ipc_type *got, int *fd_out, const struct timespec *deadline)
{
	uint8_t frame[IPC_FRAME_MAX + 1];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	const struct ipc_msgdef *def;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
	struct msghdr msg;
	const uint8_t *payload;
	uint16_t type, plen;
	struct rd r;
	ssize_t n;
	int pr, extra, rc;

	if (fd_out != NULL)
		*fd_out = -1;
	for (;;) {
		pr = poll(&pfd, 1, ms_until(deadline));
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
	do {
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == 0)
		return ERR_EOF;
	if (n == -1)
		return errno == ECONNRESET ? ERR_EOF : ERR_SYS;
	extra = take_fds(&msg, fd_out);
	rc = ERR_PROTO;
	/* A frame longer than any message, or cut by the kernel, is refused
	 * whole: its tail would otherwise read as the next frame. */
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || extra > 0 ||
	    (size_t)n > IPC_FRAME_MAX)
		goto fail;
	rd_init(&r, frame, (size_t)n);
	if (rd_u16be(&r, &type) != 0 || rd_u16be(&r, &plen) != 0)
		goto fail;
	if ((def = ipc_msgdef(type)) == NULL || (type != a && type != b) ||
	    def->from != from || plen < def->min_len || plen > def->max_len ||
	    plen > cap || rd_bytes(&r, plen, &payload) != 0 || rd_end(&r) != 0)
		goto fail;
	memcpy(buf, payload, plen);
	*len = plen;
	*got = (enum ipc_type)type;
	return 0;
fail:
	if (fd_out != NULL && *fd_out != -1) {
		close(*fd_out);
		*fd_out = -1;
	}
	return rc;
}

int
ipc_addr_put(struct wr *w, const struct sockaddr *sa)
{
	uint8_t ip[16] = { 0 };
	int rc;

	if (sa->sa_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		rc = wr_u8(w, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		rc = wr_u8(w, 6);
	} else {
		return ERR_PROTO;
	}
	return rc != 0 ? rc : wr_bytes(w, ip, sizeof(ip));
}

int
ipc_addr_get(struct rd *r, struct sockaddr_storage *ss)
{
	const uint8_t *ip;
	uint8_t family;
	int rc;

	if ((rc = rd_u8(r, &family)) != 0 || (rc = rd_bytes(r, 16, &ip)) != 0)
		return rc;
	memset(ss, 0, sizeof(*ss));
	if (family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip, 4);
		return 0;
	}
	if (family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, ip, 16);
		return 0;
	}
	return ERR_PROTO;
}

int
ipc_endpoint_put(struct wr *w, const struct sockaddr *sa)
{
	int rc;

	if ((rc = ipc_addr_put(w, sa)) != 0)
		return rc;
	return wr_u16be(w, net_addr_port(sa));
}

int
ipc_endpoint_get(struct rd *r, struct sockaddr_storage *ss)
{
	uint16_t port;
	int rc;

	if ((rc = ipc_addr_get(r, ss)) != 0 || (rc = rd_u16be(r, &port)) != 0)
		return rc;
	net_addr_set_port(ss, port);
	return 0;
}
