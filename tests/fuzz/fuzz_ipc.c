/*
 * libFuzzer harness for what a helper or a worker decodes from the other
 * side: whole frames through ipc_recv (sent as one datagram on a
 * SOCK_SEQPACKET pair, as in production), the authd request payload, the
 * resolver answer, the IPC_CLIENT payload a spare decodes and the
 * IPC_IDENT_ANSWER payload a worker decodes.  The first byte selects the
 * target.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/rd.h"
#include "common/socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pair[2] = { -1, -1 };

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
	switch (data[0] % 5) {
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
		/* The IPC_CLIENT payload, as a spare worker decodes it. */
		struct rd r;

		rd_init(&r, data + 1, size - 1);
		if (ipc_endpoint_get(&r, &client) == 0 && rd_end(&r) == 0 &&
		    client.ss_family != AF_INET && client.ss_family != AF_INET6)
			abort();
		break;
	}
	case 4: {
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
	default:
		if (resolve_answer_parse(data + 1, size - 1, 80, addrs,
		    IPC_ADDRS_MAX, &n, &status) == 0 && n > IPC_ADDRS_MAX)
			abort();
		break;
	}
	return 0;
}
