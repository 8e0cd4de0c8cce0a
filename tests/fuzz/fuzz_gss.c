/*
 * libFuzzer harness for RFC 1961 (method 0x01): what the worker decodes.
 * The first byte selects the target: the client's frames (a stream of
 * them, as gss_recv in worker/rfc1961.c takes them, every frame checked
 * against its bounds), authd's IPC_GSS_ESTABLISHED and
 * IPC_GSS_PROTECT_ANSWER payloads, or whole large frames through
 * ipc_recv_large on a SOCK_SEQPACKET pair.
 */
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/rd.h"
#include "common/rfc1961.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pair[2] = { -1, -1 };
static struct ipc_large m;

static void
frames(const uint8_t *p, size_t n)
{
	struct rfc1961_frame f;
	struct rd r;
	int rc;

	rd_init(&r, p, n);
	while ((rc = rfc1961_frame_parse(&r, &f)) == 0) {
		if (f.mtyp == RFC1961_ABORT ? f.len != 0 || f.token != NULL :
		    f.len == 0 || f.len > RFC1961_TOKEN_MAX ||
		    f.token < p || f.token + f.len > p + n)
			abort();
		if (f.mtyp != RFC1961_ABORT && f.mtyp != RFC1961_AUTH &&
		    f.mtyp != RFC1961_PROTECT && f.mtyp != RFC1961_ENCAP)
			abort();
	}
	if ((rc != ERR_SHORT && rc != ERR_PROTO) || r.off > n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec now = { 0, 0 };

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		frames(data + 1, size - 1);
		break;
	case 1: {
		struct ipc_gss_established e;

		if (ipc_gss_established_get(data + 1, size - 1, &e) == 0 &&
		    (e.ok ? e.principal[0] == '\0' || e.user[0] == '\0' ||
		    e.reason != AUTH_R_OK : e.token_len != 0 ||
		    e.principal[0] != '\0' || auth_reason_str(e.reason) == NULL))
			abort();
		break;
	}
	case 2: {
		struct ipc_gss_protect_answer a;

		if (ipc_gss_protect_answer_get(data + 1, size - 1, &a) == 0 &&
		    ((a.ok != 0) != (a.token_len > 0) || a.level > 3))
			abort();
		break;
	}
	default: {
		int fd;

		if (pair[0] == -1) {
			int sz = 4 * IPC_LARGE_MAX;

			if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, pair) == -1)
				abort();
			(void)setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &sz,
			    sizeof(sz));
		}
		if (size - 1 > sizeof(m.frame) + 16 ||
		    send(pair[0], data + 1, size - 1, 0) != (ssize_t)(size - 1))
			return 0;
		if (ipc_recv_large(pair[1], IPC_ANY, IPC_ANY, FROM_WORKER, &m,
		    &fd, &now) == 0) {
			const struct ipc_msgdef *def = ipc_msgdef((uint16_t)m.type);

			if (def == NULL || m.len < def->min_len ||
			    m.len > def->max_len || m.payload < m.frame ||
			    m.payload + m.len > m.frame + sizeof(m.frame))
				abort();
		}
		if (fd != -1)
			close(fd);
		/* Whatever failed to decode is not left queued. */
		while (recv(pair[1], m.frame, sizeof(m.frame), MSG_DONTWAIT) > 0)
			;
		break;
	}
	}
	return 0;
}
