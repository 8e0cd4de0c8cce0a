/*
 * authd: the root helper that checks RFC 1929 user names and passwords
 * (through PAM, or NEC's password file when SOCKS5_PWDFILE is set) and asks
 * clients' identd (RFC 1413), and accepts RFC 1961 GSS-API contexts
 * (authd/gssapi.c).  One forked child per worker channel: it accepts
 * exactly one request (STYLE 3: IPC_AUTH_USERPASS, IPC_IDENT or one RFC
 * 1961 exchange, once), answers, wipes the password and exits.
 *
 * Who the client is comes from the client's socket, which the worker
 * attaches to its request, never from the worker's words: authd reads the
 * address from getpeername, and accepts only a connected TCP socket whose
 * local address is one clients reach this daemon on (authd_setup).  A
 * hijacked worker holds, besides its own client's socket, only sockets it
 * made itself: outgoing connections (an ephemeral local port, or the
 * daemon's port on another address than the one it listens on: refused)
 * and BIND peers (local port of the worker's own choosing, never a port
 * the daemon listens on for that address: the kernel refuses the bind).
 * So it can vouch for no address but its own client's, and cannot make
 * authd count failures against, or forget them for, anyone else.
 *
 * Globals: authd_state, written once by authd_setup in the authd process
 * before any request; the per-request children read their inherited copy.
 * The g_* variables belong to one per-request child and its SIGALRM
 * handler.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "authd/pam.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/wr.h"
#include "conf/conf.h"

enum {
	/* A worker that opened a channel and sends nothing is not waited
	 * for longer than this. */
	AUTHD_REQUEST_TIMEOUT_S = 10,
	/* Grammar 2 step 3. */
	AUTHD_IDENT_TIMEOUT_S = 3,
	/* Every refusal is answered no sooner than this after the check
	 * began: an unknown user (no hash to compute, or PAM's shortcut) and
	 * a wrong password then take the same time on the wire. */
	AUTHD_FAIL_FLOOR_MS = 250,
	AUTHD_LOCAL_MAX = 64,
};

static struct {
	struct sockaddr_storage local[AUTHD_LOCAL_MAX];
	size_t n_local;
	struct pwdfile *pwd;
	bool use_pwd;
} authd_state;

/* The frames the SIGALRM handler sends, built before the alarm is set. */
static int g_chan = -1, g_ctl = -1;
static uint8_t g_answer[IPC_HDR_LEN + 3], g_result[IPC_HDR_LEN + 1];
static int g_answer_len, g_result_len;

struct pam_creds {
	const char *user;
	const char *pass;
};

/* The conversation answers PAM's prompts from what the client sent: the
 * password for a hidden prompt, the user name for a visible one. */
static int
pam_converse(int n, const struct pam_message **msgs, struct pam_response **out,
    void *data)
{
	const struct pam_creds *creds = data;
	struct pam_response *resp;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((resp = calloc((size_t)n, sizeof(*resp))) == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *answer = NULL;

		switch (msgs[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			answer = creds->pass;
			break;
		case PAM_PROMPT_ECHO_ON:
			answer = creds->user;
			break;
		default:
			continue;   /* PAM_TEXT_INFO, PAM_ERROR_MSG */
		}
		if ((resp[i].resp = strdup(answer)) == NULL) {
			for (int j = 0; j < i; j++) {
				if (resp[j].resp != NULL) {
					explicit_bzero(resp[j].resp,
					    strlen(resp[j].resp));
					free(resp[j].resp);
				}
			}
			free(resp);
			return PAM_BUF_ERR;
		}
	}
	*out = resp;
	return PAM_SUCCESS;
}

/* PAM's answer as an enum auth_reason.  Everything that is not a clear
 * success counts as a failed guess for throttling (a module reporting a
 * "system error" for a wrong password must not open a free path). */
static unsigned
pam_reason(int rc, bool in_account)
{
	switch (rc) {
	case PAM_SUCCESS:
		return AUTH_R_OK;
	case PAM_USER_UNKNOWN:
		return AUTH_R_UNKNOWN_USER;
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_AUTHTOK_EXPIRED:
		return AUTH_R_ACCOUNT;
	default:
		return in_account ? AUTH_R_ACCOUNT : AUTH_R_BAD_PASSWORD;
	}
}

static unsigned
pam_check(const char *service, const char *rhost, struct pam_creds *creds)
{
	struct pam_conv conv = { pam_converse, creds };
	pam_handle_t *pamh = NULL;
	unsigned reason;
	int rc;

	if (authd_pam_load() != 0)
		return AUTH_R_INTERNAL;
	if ((rc = pam_fns.start(service, creds->user, &conv, &pamh)) != PAM_SUCCESS) {
		log_warnx("pam_start(%s): %s", service, pam_fns.strerror(pamh, rc));
		return AUTH_R_INTERNAL;
	}
	(void)pam_fns.set_item(pamh, PAM_RHOST, rhost);
	rc = pam_fns.authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	reason = pam_reason(rc, false);
	if (rc == PAM_SUCCESS) {
		rc = pam_fns.acct_mgmt(pamh, PAM_SILENT);
		reason = pam_reason(rc, true);
	}
	if (rc != PAM_SUCCESS)
		log_info("user '%s' from %s refused: %s", creds->user, rhost,
		    pam_fns.strerror(pamh, rc));
	pam_fns.end(pamh, rc);
	return reason;
}

int
authd_request_parse(const uint8_t *buf, size_t len, struct socks5_userpass *up)
{
	const uint8_t *b;
	uint8_t ulen, plen;
	struct rd r;

	rd_init(&r, buf, len);
	if (rd_u8(&r, &ulen) != 0 || ulen == 0 || rd_bytes(&r, ulen, &b) != 0 ||
	    memchr(b, '\0', ulen) != NULL)
		return ERR_PROTO;
	memcpy(up->user, b, ulen);
	up->user[ulen] = '\0';
	if (rd_u8(&r, &plen) != 0 || rd_bytes(&r, plen, &b) != 0 ||
	    memchr(b, '\0', plen) != NULL || rd_end(&r) != 0) {
		explicit_bzero(up, sizeof(*up));
		return ERR_PROTO;
	}
	memcpy(up->pass, b, plen);
	up->pass[plen] = '\0';
	return 0;
}

void
authd_setup(const struct conf *conf, const int *fds, size_t n)
{
	const struct conf_vars *v = conf_vars(conf);

	for (size_t i = 0; i < n && authd_state.n_local < AUTHD_LOCAL_MAX; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len = sizeof(ss);
		int type = 0;
		socklen_t tlen = sizeof(type);

		if (fds[i] < 0 || getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type,
		    &tlen) == -1 || type != SOCK_STREAM ||
		    getsockname(fds[i], (struct sockaddr *)&ss, &len) == -1 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		authd_state.local[authd_state.n_local++] = ss;
	}
	authd_state.use_pwd = v->has_pwdfile;
	/* A refused file leaves pwd NULL: every method-u login is refused
	 * (logged by pwdfile_load) rather than falling back to PAM. */
	if (v->has_pwdfile)
		(void)pwdfile_load(v->pwdfile, &authd_state.pwd);
	else
		(void)authd_pam_load();
	/* Only when some auth line offers k; a failure is logged and every
	 * method-k client refused (authd_serve_gss). */
	(void)authd_gss_load(conf);
}

/* Whether local is an address clients reach the daemon on. */
static bool
local_known(const struct sockaddr *local)
{
	for (size_t i = 0; i < authd_state.n_local; i++) {
		const struct sockaddr *l =
		    (const struct sockaddr *)&authd_state.local[i];

		if (net_addr_port(l) == net_addr_port(local) &&
		    (net_addr_is_any(l) || net_addr_same_host(l, local)))
			return true;
	}
	return false;
}

/* The client's socket a worker attached: see the comment at the top. */
static int
client_socket(int fd, struct sockaddr_storage *peer,
    struct sockaddr_storage *local)
{
	socklen_t len = sizeof(int), plen = sizeof(*peer), llen = sizeof(*local);
	int type = 0, listening = 1;

	memset(peer, 0, sizeof(*peer));
	memset(local, 0, sizeof(*local));
	/* TCP, not merely a stream: an SCTP or MPTCP socket is no client's
	 * connection to us. */
	if ((!ipc_fd_is(fd, AF_INET, SOCK_STREAM, IPPROTO_TCP) &&
	    !ipc_fd_is(fd, AF_INET6, SOCK_STREAM, IPPROTO_TCP)) ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    type != SOCK_STREAM)
		return ERR_PROTO;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1 ||
	    listening != 0)
		return ERR_PROTO;
	if (getpeername(fd, (struct sockaddr *)peer, &plen) == -1 ||
	    getsockname(fd, (struct sockaddr *)local, &llen) == -1 ||
	    (peer->ss_family != AF_INET && peer->ss_family != AF_INET6) ||
	    peer->ss_family != local->ss_family)
		return ERR_PROTO;
	return local_known((const struct sockaddr *)local) ? 0 : ERR_DENIED;
}

static void
answer_userpass(int chan, unsigned reason, uint8_t flags)
{
	uint8_t a[3] = { reason == AUTH_R_OK ? 0 : 1, (uint8_t)reason, flags };

	(void)ipc_send(chan, IPC_AUTH_ANSWER, a, sizeof(a), -1);
}

static void
report(int ctl, enum throttle_outcome outcome)
{
	uint8_t o = (uint8_t)outcome;

	(void)ipc_send(ctl, IPC_THROTTLE_RESULT, &o, 1, -1);
}

/* SOCKS5_AUTH_TIMEOUT passed in PAM (a hung module: an unreachable LDAP
 * server): "no", reason timeout, not counted as a guess.  Only send(2)
 * and _exit(2), both async-signal-safe, on frames built beforehand. */
static void
on_auth_timeout(int sig)
{
	(void)sig;
	if (g_result_len > 0)
		(void)send(g_ctl, g_result, (size_t)g_result_len, MSG_NOSIGNAL);
	if (g_answer_len > 0)
		(void)send(g_chan, g_answer, (size_t)g_answer_len, MSG_NOSIGNAL);
	_exit(0);
}

static void
arm_timeout(int chan, int ctl, uint8_t flags, unsigned seconds)
{
	uint8_t a[3] = { 1, AUTH_R_TIMEOUT, flags }, o = THROTTLE_NOT_COUNTED;

	g_chan = chan;
	g_ctl = ctl;
	g_answer_len = ipc_frame(IPC_AUTH_ANSWER, a, sizeof(a), g_answer,
	    sizeof(g_answer));
	g_result_len = ipc_frame(IPC_THROTTLE_RESULT, &o, 1, g_result,
	    sizeof(g_result));
	signal(SIGALRM, on_auth_timeout);
	alarm(seconds);
}

static void
sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

static void
add_ms(struct timespec *t, uint32_t ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* The throttling delay for this attempt, from the authd process; fails
 * closed (ERR_*) when it does not answer. */
static int
ask_delay(int ctl, const struct sockaddr_storage *peer, const char *user,
    uint32_t *ms)
{
	uint8_t req[IPC_ADDR_LEN + 1 + 255], ans[4], key[IPC_ADDR_LEN];
	size_t klen, ulen = strlen(user), len;
	struct timespec deadline;
	struct wr w;
	struct rd r;
	int rc;

	if ((klen = throttle_addr_key((const struct sockaddr *)peer, key,
	    sizeof(key))) == 0)
		return ERR_PROTO;
	wr_init(&w, req, sizeof(req));
	if ((rc = wr_bytes(&w, key, klen)) != 0 ||
	    (rc = wr_u8(&w, (uint8_t)ulen)) != 0 ||
	    (rc = wr_bytes(&w, user, ulen)) != 0 ||
	    (rc = ipc_send(ctl, IPC_THROTTLE_ASK, req, w.off, -1)) != 0)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 5;
	if ((rc = ipc_recv(ctl, IPC_THROTTLE_DELAY, FROM_HELPER, ans,
	    sizeof(ans), &len, NULL, &deadline)) != 0)
		return rc;
	rd_init(&r, ans, len);
	return rd_u32be(&r, ms);
}

static void __attribute__((noreturn))
serve_userpass(int chan, int ctl, const struct conf *conf, uint8_t *req,
    size_t len, const struct sockaddr_storage *peer)
{
	const struct conf_vars *v = conf_vars(conf);
	struct socks5_userpass up;
	struct timespec t;
	char rhost[NET_ADDRSTR_MAX];
	unsigned reason;
	uint32_t delay = 0;
	uint8_t flags;
	int rc;

	rc = authd_request_parse(req, len, &up);
	explicit_bzero(req, len);
	if (rc != 0) {
		log_warnx("malformed auth request; channel closed");
		_exit(1);
	}
	if (ask_delay(ctl, peer, up.user, &delay) != 0) {
		log_warnx("authd does not answer its child; refusing '%s'",
		    up.user);
		explicit_bzero(&up, sizeof(up));
		answer_userpass(chan, AUTH_R_INTERNAL, 0);
		_exit(0);
	}
	flags = delay > 0 ? AUTH_F_THROTTLED : 0;
	clock_gettime(CLOCK_MONOTONIC, &t);
	add_ms(&t, delay);
	sleep_until(&t);
	/* PAM_RHOST is the address only, as sshd sets it. */
	if (peer->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr,
		    rhost, sizeof(rhost));
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)peer)->sin6_addr, rhost,
		    sizeof(rhost));
	arm_timeout(chan, ctl, flags, v->auth_timeout_s);
	if (authd_state.use_pwd) {
		reason = pwdfile_check(authd_state.pwd, up.user, up.pass);
	} else {
		struct pam_creds creds = { up.user, up.pass };

		reason = pam_check(v->pam_service, rhost, &creds);
	}
	alarm(0);
	explicit_bzero(&up, sizeof(up));
	report(ctl, reason == AUTH_R_OK ? THROTTLE_SUCCESS :
	    reason == AUTH_R_INTERNAL ? THROTTLE_NOT_COUNTED : THROTTLE_FAILURE);
	if (reason != AUTH_R_OK) {
		add_ms(&t, AUTHD_FAIL_FLOOR_MS);
		sleep_until(&t);
	}
	answer_userpass(chan, reason, flags);
	_exit(0);
}

static void __attribute__((noreturn))
serve_ident(int chan, const uint8_t *req, size_t len,
    const struct sockaddr_storage *peer, const struct sockaddr_storage *local)
{
	uint8_t ans[2 + IPC_IDENT_USER_MAX];
	char user[IPC_IDENT_USER_MAX + 1];
	struct timespec deadline;
	unsigned reason;
	size_t ulen;

	if (len != 1 || req[0] != 0) {
		log_warnx("malformed ident request; channel closed");
		_exit(1);
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += AUTHD_IDENT_TIMEOUT_S;
	reason = ident_query(peer, local, &deadline, user, sizeof(user));
	ulen = reason == AUTH_R_OK ? strlen(user) : 0;
	ans[0] = (uint8_t)reason;
	ans[1] = (uint8_t)ulen;
	memcpy(ans + 2, user, ulen);
	(void)ipc_send(chan, IPC_IDENT_ANSWER, ans, 2 + ulen, -1);
	_exit(0);
}

unsigned
authd_request_limit_s(const struct conf *conf)
{
	const struct conf_vars *v = conf_vars(conf);
	/* ask_delay waits up to 5 s for the throttling delay. */
	unsigned ident = AUTHD_IDENT_TIMEOUT_S, pass = 5 +
	    v->auth_delay_max_s + v->auth_timeout_s + 1;

	return AUTHD_REQUEST_TIMEOUT_S + (pass > ident ? pass : ident) + 5;
}

void
authd_serve_channel(int chan, int ctl, const struct conf *conf)
{
	/* Large enough for an RFC 1961 token (IPC_GSS_ACCEPT); static, as a
	 * 64 KiB frame on the stack would be. */
	static struct ipc_large m;
	uint8_t req[2 + 255 + 255];
	struct sockaddr_storage peer, local;
	struct timespec deadline;
	enum ipc_type type;
	size_t len;
	int cfd, rc;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += AUTHD_REQUEST_TIMEOUT_S;
	if (ipc_recv_large(chan, IPC_ANY, IPC_ANY, FROM_WORKER, &m, &cfd,
	    &deadline) != 0)
		_exit(1);
	type = m.type;
	if ((type != IPC_AUTH_USERPASS && type != IPC_IDENT &&
	    type != IPC_GSS_ACCEPT) ||
	    (type != IPC_GSS_ACCEPT && m.len > sizeof(req))) {
		log_warnx("a worker opened a channel with a %s frame; closed",
		    ipc_msgdef((uint16_t)type)->name);
		_exit(1);
	}
	len = m.len;
	if (type != IPC_GSS_ACCEPT) {
		memcpy(req, m.payload, len);
		/* It may hold a password. */
		explicit_bzero(m.frame, sizeof(m.frame));
	}
	rc = cfd == -1 ? ERR_PROTO : client_socket(cfd, &peer, &local);
	/* Only the addresses were wanted; the connection is the worker's
	 * (close drops our reference, it never shuts the connection). */
	if (cfd != -1)
		ipc_close_passed(cfd);
	if (rc != 0) {
		log_warnx("a worker's %s request came without its client's "
		    "socket (%s); refused", type == IPC_IDENT ? "ident" :
		    "auth", rc == ERR_DENIED ? "not a connection to this "
		    "daemon" : "not a connected TCP socket");
		explicit_bzero(req, sizeof(req));
		if (type == IPC_IDENT) {
			uint8_t a[2] = { AUTH_R_INTERNAL, 0 };

			(void)ipc_send(chan, IPC_IDENT_ANSWER, a, 2, -1);
		} else if (type == IPC_GSS_ACCEPT) {
			uint8_t a[4] = { 1, AUTH_R_INTERNAL, 0, 0 };

			(void)ipc_send(chan, IPC_GSS_ESTABLISHED, a, 4, -1);
		} else {
			answer_userpass(chan, AUTH_R_INTERNAL, 0);
		}
		_exit(0);
	}
	if (type == IPC_IDENT)
		serve_ident(chan, req, len, &peer, &local);
	if (type == IPC_GSS_ACCEPT)
		authd_serve_gss(chan, conf, m.payload, m.len);
	serve_userpass(chan, ctl, conf, req, len, &peer);
}
