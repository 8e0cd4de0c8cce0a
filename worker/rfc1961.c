/*
 * Method 0x01 in the worker (RFC 1961): a relay between the client and
 * authd, which alone holds the keytab and runs the GSS-API acceptor
 * (authd/gssapi.c).  The worker decodes the client's frames with the
 * bounds-checked codec (common/rfc1961.h), passes their tokens on, and
 * writes authd's answers back as frames; it never calls GSS-API, maps no
 * Kerberos library and needs no KDC.  What it learns is the principal
 * (for the audit record) and the user name the rules match.
 *
 * Every failure after the method reply ends the session with the RFC's
 * failure message (ver 1, mtyp 0xff) and an audit `auth` record whose
 * reason says why; a malformed frame is closed on without it (the peer is
 * not speaking RFC 1961).  The negotiation deadline covers the whole
 * exchange, both the client's frames and authd's answers.
 *
 * Globals: gss_in and gss_msg, the frame buffers of the one session a
 * worker process serves (64 KiB each, too large for the stack).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/io.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/rd.h"
#include "common/rfc1961.h"
#include "common/socks.h"
#include "common/wr.h"
#include "worker/helper_wrap.h"
#include "worker/session.h"

/* Client bytes not yet consumed: one whole frame fits. */
static struct {
	uint8_t buf[RFC1961_HDR_LEN + RFC1961_TOKEN_MAX];
	size_t len;
} gss_in;
static struct ipc_large gss_msg;

/* The next frame from the client, into gss_in; f points there until
 * gss_consume.  ERR_PROTO for a frame the codec refuses. */
static int
gss_recv(struct session *s, struct rfc1961_frame *f, size_t *used)
{
	struct rd r;
	int rc;

	for (;;) {
		rd_init(&r, gss_in.buf, gss_in.len);
		rc = rfc1961_frame_parse(&r, f);
		if (rc == 0) {
			*used = r.off;
			return 0;
		}
		if (rc != ERR_SHORT)
			return rc;
		if ((rc = io_read_some(s->client->in_fd, gss_in.buf,
		    sizeof(gss_in.buf), &gss_in.len, &s->deadline)) != 0)
			return rc;
	}
}

static void
gss_consume(size_t n)
{
	memmove(gss_in.buf, gss_in.buf + n, gss_in.len - n);
	gss_in.len -= n;
}

static int
gss_send(struct session *s, uint8_t mtyp, const uint8_t *token, size_t len)
{
	static uint8_t out[RFC1961_HDR_LEN + RFC1961_TOKEN_MAX];
	struct wr w;
	int rc;

	wr_init(&w, out, sizeof(out));
	if ((rc = rfc1961_frame_put(&w, mtyp, token, len)) != 0)
		return rc;
	return session_send(s, &w);
}

/* The client's next frame of type mtyp; *why says what went wrong. */
static int
gss_expect(struct session *s, uint8_t mtyp, struct rfc1961_frame *f,
    size_t *used, const char **why)
{
	int rc = gss_recv(s, f, used);

	if (rc == ERR_TIMEOUT)
		*why = "gssapi: negotiation timeout";
	else if (rc == ERR_EOF)
		*why = "gssapi: client closed during negotiation";
	else if (rc != 0)
		*why = "gssapi: malformed frame";
	else if (f->mtyp == RFC1961_ABORT)
		*why = "gssapi: client aborted";
	else if (f->mtyp != mtyp)
		*why = "gssapi: unexpected message type";
	else
		return 0;
	return rc != 0 ? rc : ERR_PROTO;
}

static void
gss_audit(struct session *s, bool permit, const struct ipc_gss_established *e,
    const char *reason)
{
	struct audit_rec rec = AUDIT_REC("auth");

	rec.decision = permit ? "permit" : "deny";
	rec.client = s->client_sa;
	rec.lb = s->lb_sa;
	rec.version = SOCKS_V5;
	rec.method = "gssapi";
	rec.user = e != NULL ? e->user : NULL;
	rec.principal = e != NULL ? e->principal : NULL;
	rec.reason = reason;
	rec.pid = getpid();
	(void)audit_write(&rec);
}

/* End the session after a failure: the failure message, except to a
 * peer that spoke no RFC 1961 (ERR_PROTO) or that left (ERR_EOF). */
static int
gss_fail(struct session *s, const char *why, int rc)
{
	uint8_t buf[RFC1961_FAILURE_LEN];
	struct wr w;

	s->reason = why;
	wr_init(&w, buf, sizeof(buf));
	if (rc != ERR_PROTO && rc != ERR_EOF && rfc1961_failure_put(&w) == 0)
		(void)session_send(s, &w);
	return rc == ERR_PROTO || rc == ERR_EOF || rc == ERR_TIMEOUT ? rc :
	    ERR_DENIED;
}

/* Context establishment (section 3), relayed to authd. */
static int
gss_establish(struct session *s, int chan, struct ipc_gss_established *e,
    const char **why)
{
	struct rfc1961_frame f;
	size_t used;
	int client_fd = s->client->in_fd, rc;

	if ((rc = gss_expect(s, RFC1961_AUTH, &f, &used, why)) != 0)
		return rc;
	rc = ipc_send_fds(chan, IPC_GSS_ACCEPT, f.token, f.len, &client_fd, 1,
	    0);
	gss_consume(used);
	for (unsigned round = 1; rc == 0; round++) {
		rc = ipc_recv_large(chan, IPC_GSS_CONTINUE, IPC_GSS_ESTABLISHED,
		    FROM_HELPER, &gss_msg, NULL, &s->deadline);
		if (rc != 0)
			break;
		if (gss_msg.type == IPC_GSS_ESTABLISHED) {
			if ((rc = ipc_gss_established_get(gss_msg.payload,
			    gss_msg.len, e)) != 0)
				break;
			if (!e->ok) {
				*why = auth_reason_str(e->reason);
				return ERR_DENIED;
			}
			return 0;
		}
		/* authd bounds the rounds too; this side does not trust
		 * it to. */
		if (round >= RFC1961_ROUNDS_MAX) {
			*why = auth_reason_str(AUTH_R_GSS_ROUNDS);
			return ERR_DENIED;
		}
		if ((rc = gss_send(s, RFC1961_AUTH, gss_msg.payload,
		    gss_msg.len)) != 0 ||
		    (rc = gss_expect(s, RFC1961_AUTH, &f, &used, why)) != 0)
			return rc;
		rc = ipc_send(chan, IPC_GSS_TOKEN, f.token, f.len, -1);
		gss_consume(used);
	}
	*why = rc == ERR_TIMEOUT ? "gssapi: negotiation timeout" :
	    "authd unavailable";
	log_warnx("authd: no RFC 1961 answer (%s)", err_str(rc));
	return ERR_DENIED;
}

/* Protection-level negotiation (section 4): authd unwraps the client's
 * level, decides, and wraps the answer. */
static int
gss_protect(struct session *s, int chan, const char **why)
{
	struct ipc_gss_protect_answer a;
	struct rfc1961_frame f;
	size_t used;
	int rc;

	if ((rc = gss_expect(s, RFC1961_PROTECT, &f, &used, why)) != 0)
		return rc;
	rc = ipc_send(chan, IPC_GSS_PROTECT, f.token, f.len, -1);
	gss_consume(used);
	if (rc == 0)
		rc = ipc_recv_large(chan, IPC_GSS_PROTECT_ANSWER,
		    IPC_GSS_PROTECT_ANSWER, FROM_HELPER, &gss_msg, NULL,
		    &s->deadline);
	if (rc == 0)
		rc = ipc_gss_protect_answer_get(gss_msg.payload, gss_msg.len,
		    &a);
	if (rc != 0) {
		*why = rc == ERR_TIMEOUT ? "gssapi: negotiation timeout" :
		    "authd unavailable";
		return ERR_DENIED;
	}
	if (!a.ok || a.level != RFC1961_PROT_NONE) {
		*why = auth_reason_str(AUTH_R_GSS_PROTECTION);
		return ERR_DENIED;
	}
	return gss_send(s, RFC1961_PROTECT, a.token, a.token_len);
}

int
session_gssapi(struct session *s)
{
	struct ipc_gss_established e;
	const char *why = "gssapi: malformed frame";
	int chan = -1, rc;

	/* Bytes the client sent after its greeting are its first frame. */
	memcpy(gss_in.buf, s->in, s->in_len);
	gss_in.len = s->in_len;
	explicit_bzero(s->in, s->in_len);
	s->in_len = 0;
	if (helper_open(s->opts->authd_door, &s->deadline, &chan) != 0) {
		log_warnx("authd unavailable: refusing method 0x01");
		gss_audit(s, false, NULL, "authd unavailable");
		return gss_fail(s, "authd unavailable", ERR_DENIED);
	}
	rc = gss_establish(s, chan, &e, &why);
	if (rc == 0) {
		/* The decision is recorded before the client learns it. */
		snprintf(s->user_buf, sizeof(s->user_buf), "%s", e.user);
		gss_audit(s, true, &e, NULL);
		if (e.token_len > 0)
			rc = gss_send(s, RFC1961_AUTH, e.token, e.token_len);
		if (rc == 0)
			rc = gss_protect(s, chan, &why);
		if (rc == 0 && gss_in.len > sizeof(s->in))
			rc = ERR_PROTO;
	} else {
		gss_audit(s, false, NULL, why);
	}
	close(chan);
	if (rc != 0)
		return gss_fail(s, why, rc);
	/* What the client pipelined after its last frame is its request. */
	memcpy(s->in, gss_in.buf, gss_in.len);
	s->in_len = gss_in.len;
	s->user = s->user_buf;
	return 0;
}
