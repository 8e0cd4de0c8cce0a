/*
 * The resolver helper: getaddrinfo on behalf of chrooted workers.  It runs
 * as the unprivileged user with no_new_privs, outside the chroot because
 * the resolver needs /etc/hosts, /etc/resolv.conf and the NSS modules.
 * One forked child per worker channel answers one IPC_RESOLVE.
 *
 * RESOLVE payload: u8 length, the name.  RESOLVE_ANSWER: u8 status (0, or
 * a SOCKS5 reply code), u8 count, count IPC addresses (family 4|6 + 16
 * bytes).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/wr.h"
#include "conf/conf.h"

/*
 * Globals: the "not found" answer frame and the channel it goes to, built
 * before getaddrinfo so the SIGALRM handler (SOCKS5_RESOLVE_TIMEOUT) only
 * sends and exits.
 */
static uint8_t g_timeout_frame[IPC_HDR_LEN + 2];
static int g_timeout_len = -1, g_timeout_chan = -1;

/* A worker that opened a channel and sends nothing is not waited for. */
enum { RESOLVER_REQUEST_TIMEOUT_S = 5 };

unsigned
resolver_request_limit_s(const struct conf *conf)
{
	return RESOLVER_REQUEST_TIMEOUT_S +
	    conf_vars(conf)->resolve_timeout_s + 2;
}

/* A name in a black-holed zone keeps getaddrinfo waiting for the resolver
 * library's retries (30 s and more); the worker gave up long before, and
 * the child's slot is one of a few the client's address may hold.  Answer
 * "host unreachable", as for a name that does not exist, and end.  Only
 * send(2) and _exit(2), both async-signal-safe. */
static void
on_resolve_timeout(int sig)
{
	(void)sig;
	if (g_timeout_len > 0)
		(void)send(g_timeout_chan, g_timeout_frame,
		    (size_t)g_timeout_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	_exit(0);
}

void
resolver_serve_channel(int chan, const struct conf *conf)
{
	uint8_t req[256], ans[2 + IPC_ADDRS_MAX * IPC_ADDR_LEN];
	char name[SOCKS_NAME_MAX + 1];
	struct addrinfo hints, *res = NULL;
	struct timespec deadline;
	uint8_t name_len, count = 0, status = 0;
	const uint8_t *name_bytes;
	struct wr w;
	struct rd r;
	size_t len;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += RESOLVER_REQUEST_TIMEOUT_S;
	if (ipc_recv(chan, IPC_RESOLVE, FROM_WORKER, req, sizeof(req), &len,
	    NULL, &deadline) != 0)
		_exit(1);
	rd_init(&r, req, len);
	if (rd_u8(&r, &name_len) != 0 || name_len == 0 ||
	    rd_bytes(&r, name_len, &name_bytes) != 0 || rd_end(&r) != 0 ||
	    memchr(name_bytes, '\0', name_len) != NULL) {
		log_warnx("malformed resolve request; channel closed");
		_exit(1);
	}
	memcpy(name, name_bytes, name_len);
	name[name_len] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	{
		const uint8_t unreachable[2] = { REP_HOST_UNREACHABLE, 0 };

		g_timeout_chan = chan;
		g_timeout_len = ipc_frame(IPC_RESOLVE_ANSWER, unreachable,
		    sizeof(unreachable), g_timeout_frame,
		    sizeof(g_timeout_frame));
		signal(SIGALRM, on_resolve_timeout);
		alarm(conf_vars(conf)->resolve_timeout_s);
	}
	rc = getaddrinfo(name, NULL, &hints, &res);
	alarm(0);
	wr_init(&w, ans, sizeof(ans));
	if (rc != 0) {
		status = rc == EAI_NONAME || rc == EAI_NODATA ||
		    rc == EAI_AGAIN || rc == EAI_FAIL || rc == EAI_ADDRFAMILY ?
		    REP_HOST_UNREACHABLE : REP_GENERAL_FAILURE;
		res = NULL;
	}
	/* Count first: the answer's header carries it. */
	for (struct addrinfo *ai = res; ai != NULL && count < IPC_ADDRS_MAX;
	    ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			count++;
	if (rc == 0 && count == 0)
		status = REP_HOST_UNREACHABLE;
	(void)wr_u8(&w, status);
	(void)wr_u8(&w, status == 0 ? count : 0);
	count = 0;
	for (struct addrinfo *ai = res; status == 0 && ai != NULL &&
	    count < IPC_ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		(void)ipc_addr_put(&w, ai->ai_addr);
		count++;
	}
	if (res != NULL)
		freeaddrinfo(res);
	(void)ipc_send(chan, IPC_RESOLVE_ANSWER, ans, w.off, -1);
	_exit(0);
}
