/*
 * The worker's side of authd and the resolver (worker/helper_wrap.h).
 */
/*
 * Globals: attributed_client, the client socket attached to every channel
 * this worker opens (set once by worker_serve, helper_attribute).
 */
#include <sys/socket.h>

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/io.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/socks.h"
#include "common/wr.h"
#include "worker/helper_wrap.h"

static int attributed_client = -1;

void
helper_attribute(int client_fd)
{
	attributed_client = client_fd;
}

/* The door is shared by every worker: when a stalled helper lets its queue
 * fill, a send must give up at the caller's deadline, not block past it. */
static int
door_send(int door, const int *fds, size_t n_fds,
    const struct timespec *deadline)
{
	uint8_t version = IPC_VERSION;
	int rc;

	for (;;) {
		rc = ipc_send_fds(door, IPC_OPEN, &version, sizeof(version), fds,
		    n_fds, 1);
		if (rc != ERR_TIMEOUT || deadline == NULL)
			return rc;
		if ((rc = io_wait(door, POLLOUT, deadline)) != 0)
			return rc;
	}
}

int
helper_open(int door, const struct timespec *deadline, int *chan)
{
	int pair[2], fds[2], rc;

	*chan = -1;
	if (door < 0)
		return ERR_EOF;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == -1)
		return ERR_SYS;
	fds[0] = pair[1];
	fds[1] = attributed_client;
	rc = door_send(door, fds, attributed_client >= 0 ? 2 : 1, deadline);
	close(pair[1]);
	if (rc != 0) {
		close(pair[0]);
		return rc;
	}
	*chan = pair[0];
	return 0;
}

int
authd_userpass(int door, int client_fd, const char *user, const char *pass,
    const struct timespec *deadline, struct authd_verdict *v)
{
	uint8_t req[2 + 255 + 255], answer[3];
	size_t ulen = strlen(user), plen = strlen(pass), len;
	struct wr w;
	int chan, rc;

	*v = (struct authd_verdict){ .ok = false, .reason = AUTH_R_INTERNAL };
	if (client_fd < 0 || ulen == 0 || ulen > 255 || plen > 255)
		return ERR_PROTO;
	wr_init(&w, req, sizeof(req));
	if ((rc = wr_u8(&w, (uint8_t)ulen)) != 0 ||
	    (rc = wr_bytes(&w, user, ulen)) != 0 ||
	    (rc = wr_u8(&w, (uint8_t)plen)) != 0 ||
	    (rc = wr_bytes(&w, pass, plen)) != 0)
		goto out;
	if ((rc = helper_open(door, deadline, &chan)) != 0)
		goto out;
	rc = ipc_send(chan, IPC_AUTH_USERPASS, req, w.off, client_fd);
	if (rc == 0)
		rc = ipc_recv(chan, IPC_AUTH_ANSWER, FROM_HELPER, answer,
		    sizeof(answer), &len, NULL, deadline);
	close(chan);
	/* Status and reason must agree; anything else is a refusal. */
	if (rc == 0 && (answer[0] > 1 || answer[1] >= AUTH_R_MAX ||
	    (answer[0] == 0) != (answer[1] == AUTH_R_OK)))
		rc = ERR_PROTO;
	if (rc == 0)
		*v = (struct authd_verdict){ .ok = answer[0] == 0,
		    .reason = answer[1],
		    .throttled = (answer[2] & AUTH_F_THROTTLED) != 0 };
out:
	explicit_bzero(req, sizeof(req));
	return rc;
}

int
authd_ident_start(int door, int client_fd, const struct timespec *deadline,
    int *chan)
{
	uint8_t zero = 0;
	int rc;

	if (client_fd < 0)
		return ERR_PROTO;
	if ((rc = helper_open(door, deadline, chan)) != 0)
		return rc;
	if ((rc = ipc_send(*chan, IPC_IDENT, &zero, 1, client_fd)) != 0) {
		close(*chan);
		*chan = -1;
	}
	return rc;
}

int
authd_ident_collect(int chan, const struct timespec *deadline, char *user,
    size_t cap, unsigned *reason)
{
	uint8_t ans[2 + IPC_IDENT_USER_MAX];
	size_t len;
	int rc;

	*reason = AUTH_R_IDENT_UNREACHABLE;
	user[0] = '\0';
	rc = ipc_recv(chan, IPC_IDENT_ANSWER, FROM_HELPER, ans, sizeof(ans),
	    &len, NULL, deadline);
	close(chan);
	if (rc == 0 && (rc = ident_answer_parse(ans, len, user, cap,
	    reason)) != 0) {
		*reason = AUTH_R_IDENT_MALFORMED;
		user[0] = '\0';
	}
	return rc;
}

int
resolver_lookup(int door, const char *name, uint16_t port,
    struct sockaddr_storage *addrs, size_t max, size_t *n,
    const struct timespec *deadline)
{
	uint8_t req[256], ans[2 + IPC_ADDRS_MAX * IPC_ADDR_LEN], status;
	size_t name_len = strlen(name), len;
	struct wr w;
	int chan, rc;

	*n = 0;
	if (name_len == 0 || name_len > SOCKS_NAME_MAX)
		return REP_HOST_UNREACHABLE;
	wr_init(&w, req, sizeof(req));
	if (wr_u8(&w, (uint8_t)name_len) != 0 ||
	    wr_bytes(&w, name, name_len) != 0)
		return REP_GENERAL_FAILURE;
	if (helper_open(door, deadline, &chan) != 0) {
		log_warnx("resolver unavailable");
		return REP_GENERAL_FAILURE;
	}
	rc = ipc_send(chan, IPC_RESOLVE, req, w.off, -1);
	if (rc == 0)
		rc = ipc_recv(chan, IPC_RESOLVE_ANSWER, FROM_HELPER, ans,
		    sizeof(ans), &len, NULL, deadline);
	close(chan);
	if (rc == ERR_TIMEOUT)
		return REP_HOST_UNREACHABLE;
	if (rc != 0 || resolve_answer_parse(ans, len, port, addrs, max, n,
	    &status) != 0) {
		log_warnx("resolver: no valid answer for %s", name);
		return REP_GENERAL_FAILURE;
	}
	return status;
}
