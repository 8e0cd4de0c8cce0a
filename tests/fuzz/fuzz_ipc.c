/*
 * libFuzzer harness for what a helper or a worker decodes from the other
 * side: whole frames through ipc_recv (sent as one datagram on a
 * SOCK_SEQPACKET pair, as in production), the authd request payload, the
 * resolver answer and the IPC_IMAGE_SETUP payload the session image
 * decodes (both from one input), the IPC_FORK payload the forker decodes, the
 * IPC_FORKED / IPC_REAPED payloads and frames the master takes from the
 * forker, the IPC_IDENT_ANSWER payload a worker decodes, and an open
 * request on a helper's door (ipc_recv_open) with the descriptors the
 * second byte picks.  The first byte selects the target (% 8); 0xd0
 * selects what the master takes from its door (master/door.c): a frame
 * through ipc_recv_cred on a datagram pair with SO_PASSCRED, and the
 * IPC_REAL_CLIENT and IPC_SESSION_USER payloads.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/version.h"
#include "common/rd.h"
#include "common/socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pair[2] = { -1, -1 };
static int door[2] = { -1, -1 };

/* What the master decodes from a worker on its door. */
static void
fuzz_door(const uint8_t *data, size_t size)
{
	struct sockaddr_storage client;
	uint8_t buf[IPC_FRAME_MAX];
	char user[256];
	int fds[IPC_FDS_MAX], pid, on = 1;
	uint32_t id;
	uint16_t type;
	size_t len;

	if (ipc_real_client_get(data, size, &id, &client) == 0 &&
	    (size != IPC_REAL_CLIENT_LEN || (client.ss_family != AF_INET &&
	    client.ss_family != AF_INET6)))
		abort();
	if (ipc_session_user_get(data, size, &id, user) == 0 &&
	    (user[0] == '\0' || strlen(user) != size - 5))
		abort();
	if (door[0] == -1 &&
	    (socketpair(AF_UNIX, SOCK_DGRAM, 0, door) == -1 ||
	    setsockopt(door[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1))
		abort();
	if (size > IPC_FRAME_MAX + 16 ||
	    send(door[0], data, size, 0) != (ssize_t)size)
		return;
	if (ipc_recv_cred(door[1], FROM_WORKER, &type, buf, sizeof(buf), &len,
	    fds, &pid) == 0) {
		/* No descriptor was sent: only frames that carry none pass. */
		if (len > sizeof(buf) || pid != getpid() || fds[0] != -1 ||
		    ipc_msgdef(type)->n_fds != 0)
			abort();
	}
}

/* Send bytes as one datagram on a door (SO_PASSCRED on the receiving
 * end), with the descriptors pick's bits choose: a channel this process
 * made, a UDP socket, a pipe end; then take it as a helper does.  Only a
 * channel of ours may come out, with no client socket (none was TCP). */
static void
door_open(const uint8_t *bytes, size_t len, uint8_t pick)
{
	static int door[2] = { -1, -1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 3)];
	} control;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)bytes,
	    .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int pass[3], npass = 0, sp[2] = { -1, -1 }, pp[2] = { -1, -1 }, on = 1;
	int chan, cfd;
	pid_t sender;

	if (door[0] == -1 && (socketpair(AF_UNIX, SOCK_SEQPACKET, 0,
	    door) == -1 || setsockopt(door[1], SOL_SOCKET, SO_PASSCRED, &on,
	    sizeof(on)) == -1))
		abort();
	if ((pick & 1) != 0 &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0)
		pass[npass++] = sp[1];
	if ((pick & 2) != 0 && (pass[npass] = socket(AF_INET, SOCK_DGRAM,
	    0)) != -1)
		npass++;
	if ((pick & 4) != 0 && pipe(pp) == 0)
		pass[npass++] = pp[0];
	if (npass > 0) {
		struct cmsghdr *cm;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)npass);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)npass);
		memcpy(CMSG_DATA(cm), pass, sizeof(int) * (size_t)npass);
	}
	if (sendmsg(door[0], &msg, 0) == (ssize_t)len &&
	    ipc_recv_open(door[1], &chan, &cfd, &sender) == 0) {
		if (chan == -1 || cfd != -1 || sender != getpid())
			abort();
		close(chan);
	}
	for (int i = 0; i < npass; i++)
		close(pass[i]);
	if (sp[0] != -1)
		close(sp[0]);
	if (pp[1] != -1)
		close(pp[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage addrs[IPC_ADDRS_MAX], client;
	struct socks5_userpass up;
	uint8_t buf[IPC_FRAME_MAX], status;
	struct timespec deadline = { 0, 0 };
	size_t n, len;
	int fd;

	if (size < 1)
		return 0;
	if (data[0] == 0xd0) {
		fuzz_door(data + 1, size - 1);
		return 0;
	}
	switch (data[0] % 8) {
	case 0:
		if (pair[0] == -1 &&
		    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == -1)
			abort();
		if (size - 1 > IPC_FRAME_MAX + 16)
			return 0;
		if (send(pair[0], data + 1, size - 1, 0) != (ssize_t)(size - 1))
			return 0;
		for (int t = IPC_OPEN; t < IPC_TYPE_MAX; t++) {
			/* One frame queued: only the first call consumes it;
			 * the rest time out at once (deadline in the past). */
			int rc = ipc_recv(pair[1], (enum ipc_type)t,
			    ipc_msgdef((uint16_t)t)->from, buf, sizeof(buf),
			    &len, &fd, &deadline);
			if (rc == 0 && len > sizeof(buf))
				abort();
			if (fd != -1)
				close(fd);
		}
		break;
	case 1:
		if (authd_request_parse(data + 1, size - 1, &up) == 0 &&
		    (up.user[0] == '\0' || strlen(up.user) > 255 ||
		    strlen(up.pass) > 255))
			abort();
		break;
	case 3: {
		/* The IPC_FORK payload, as the forker decodes it. */
		struct ipc_fork f;

		if (ipc_fork_get(data + 1, size - 1, &f) == 0 &&
		    (size - 1 != IPC_FORK_LEN || (f.client.ss_family != AF_INET &&
		    f.client.ss_family != AF_INET6)))
			abort();
		break;
	}
	case 4: {
		/* What the master decodes from a forker. */
		struct ipc_forked fk;
		struct ipc_reaped rp;

		if (ipc_forked_get(data + 1, size - 1, &fk) == 0 &&
		    (size - 1 != IPC_FORKED_LEN || fk.pid > INT32_MAX))
			abort();
		if (ipc_reaped_get(data + 1, size - 1, &rp) == 0 &&
		    (size - 1 != IPC_REAPED_LEN || rp.pid == 0))
			abort();
		/* IPC_SPARE from a forker (IPC_TAKEN is the master's). */
		{
			uint32_t pid;

			if (ipc_pid_get(data + 1, size - 1, &pid) == 0 &&
			    (size - 1 != IPC_PID_LEN || pid == 0 ||
			    pid > INT32_MAX))
				abort();
		}
		break;
	}
	case 5: {
		/* A frame from the forker, as the master receives it. */
		int fds[IPC_FDS_MAX];
		uint16_t type;

		if (pair[0] == -1 &&
		    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == -1)
			abort();
		if (size - 1 > IPC_FRAME_MAX + 16 ||
		    send(pair[0], data + 1, size - 1, 0) != (ssize_t)(size - 1))
			return 0;
		if (ipc_recv_msg(pair[1], FROM_FORKER, &type, buf, sizeof(buf),
		    &len, fds, &deadline) == 0 && (len > sizeof(buf) ||
		    (type != IPC_FORKED && type != IPC_REAPED) || fds[0] != -1))
			abort();
		break;
	}
	case 6: {
		char user[IPC_IDENT_USER_MAX + 1];
		unsigned reason;

		if (ident_answer_parse(data + 1, size - 1, user, sizeof(user),
		    &reason) == 0) {
			if (reason >= AUTH_R_MAX ||
			    (reason == AUTH_R_OK) != (user[0] != '\0'))
				abort();
			for (const char *c = user; *c != '\0'; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					abort();
		}
		break;
	}
	case 7:
		if (size >= 2 && size - 2 <= IPC_FRAME_MAX + 16)
			door_open(data + 2, size - 2, data[1]);
		break;
	default:
		if (resolve_answer_parse(data + 1, size - 1, 80, addrs,
		    IPC_ADDRS_MAX, &n, &status) == 0 && n > IPC_ADDRS_MAX)
			abort();
		/* IPC_IMAGE_SETUP, as the session image decodes it.  The
		 * build id changes with every build, so a seed's cannot
		 * match: this build's is written over it (when the input is
		 * long enough), and the fields after it are what is fuzzed. */
		if (size - 1 <= IPC_FRAME_MAX) {
			struct ipc_image_setup s;

			memcpy(buf, data + 1, size - 1);
			if (size - 1 >= 4 + IPC_IMAGE_VERSION_LEN)
				memcpy(buf + 4, socks5d_build_id,
				    strnlen(socks5d_build_id,
				    IPC_IMAGE_VERSION_LEN));
			if (ipc_image_setup_get(buf, size - 1, &s) != 0)
				break;
			if (size - 1 != IPC_IMAGE_SETUP_LEN ||
			    s.fds[IMAGE_FD_CONF] == -1)
				abort();
			for (int i = 0; i < IPC_IMAGE_FDS; i++)
				if (s.fds[i] != -1 && s.fds[i] < 3)
					abort();
		}
		break;
	}
	return 0;
}
