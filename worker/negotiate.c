/*
 * Who the client is (grammar 2 steps 2 and 3): SOCKS5 method selection in
 * the server's order from the auth section, RFC 1929 through authd, the
 * auth-section check a SOCKS4 request must pass as method n, and the
 * client's identd (RFC 1413), asked by authd alongside the negotiation.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/socks.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "worker/helper_wrap.h"
#include "worker/session.h"

/* Grammar 2 step 3: ask identd only when its answer can change a
 * decision, so that hosts without identd do not stall sessions. */
void
session_ident_start(struct session *s)
{
	const struct conf_vars *v = conf_vars(s->conf);

	s->ident_chan = -1;
	/* No answer until one comes (also when none is asked for). */
	s->ident_reason = AUTH_R_IDENT_UNREACHABLE;
	if (s->client_sa == NULL || s->opts->authd_door < 0 || v->noident ||
	    !(v->demand_ident || rules_could_permit(s->conf, s->client_sa,
	    CONF_AUTH_NONE, true)))
		return;
	/* Behind a load balancer the TCP connection is the balancer's: RFC
	 * 1413 can only name the owner of our own connection, so a proxied
	 * client is never asked about (README "Deploying"); under
	 * SOCKS5_DEMAND_IDENT it has no answer. */
	if (rules_proxy_trusted(s->conf, s->client_sa))
		return;
	/* authd gives up after 3 s; the margin covers its fork. */
	s->ident_deadline = s->started;
	s->ident_deadline.tv_sec += 3;
	s->ident_deadline.tv_nsec += 500000000;
	if (s->ident_deadline.tv_nsec >= 1000000000) {
		s->ident_deadline.tv_sec++;
		s->ident_deadline.tv_nsec -= 1000000000;
	}
	if (authd_ident_start(s->opts->authd_door, s->client->in_fd,
	    &s->ident_deadline, &s->ident_chan) != 0)
		log_warnx("authd unavailable: no identd query");
	s->ident_asked = true;
}

/* The identd user, collected on first need; NULL without an answer. */
static const char *
session_ident_user(struct session *s)
{
	const struct timespec *dl = &s->ident_deadline;

	if (s->ident_chan >= 0) {
		if (s->deadline.tv_sec < dl->tv_sec ||
		    (s->deadline.tv_sec == dl->tv_sec &&
		    s->deadline.tv_nsec < dl->tv_nsec))
			dl = &s->deadline;
		(void)authd_ident_collect(s->ident_chan, dl, s->ident_user,
		    sizeof(s->ident_user), &s->ident_reason);
		s->ident_chan = -1;
	}
	return s->ident_reason == AUTH_R_OK ? s->ident_user : NULL;
}

static void
ident_audit(struct session *s, bool permit, const char *reason)
{
	struct audit_rec rec = AUDIT_REC("auth");

	rec.decision = permit ? "permit" : "deny";
	rec.client = s->client_sa;
	rec.version = s->version;
	rec.method = "ident";
	rec.user = s->ident_reason == AUTH_R_OK ? s->ident_user : NULL;
	rec.reason = reason;
	rec.pid = getpid();
	(void)audit_write(&rec);
}

/* Method n with the request read: the identd answer, if any, is the
 * session's user (grammar 3.5).  SOCKS4 under SOCKS5_DEMAND_IDENT: no
 * answer is reply 92, an answer other than the USERID is 93; without the
 * demand the USERID is taken as given and never used as a user. */
int
session_ident_apply(struct session *s)
{
	bool demand = conf_vars(s->conf)->demand_ident;
	const char *user;

	/* Under the demand a query that could not even be asked (no authd,
	 * no client address) is no answer: fail closed. */
	if (s->method != METHOD_NONE || (!s->ident_asked && !demand))
		return 0;
	user = session_ident_user(s);
	if (s->version == SOCKS_V4 && demand &&
	    (user == NULL || strcmp(user, s->req.userid) != 0)) {
		s->rep4 = user == NULL ? REP4_NO_IDENTD : REP4_IDENT_MISMATCH;
		s->reason = user == NULL ? auth_reason_str(s->ident_reason) :
		    "identd mismatch";
		ident_audit(s, false, s->reason);
		return ERR_DENIED;
	}
	if (user == NULL)
		return 0;
	ident_audit(s, true, NULL);
	s->user = user;
	s->ident_used = true;
	return 0;
}

/* RFC 1929: the user name and password go to authd, which asks PAM or the
 * password file; the decision is audited (with authd's reason, which never
 * reaches the wire) before the status reply is sent. */
static int
session_userpass(struct session *s)
{
	struct socks5_userpass up;
	struct audit_rec rec = AUDIT_REC("auth");
	struct authd_verdict v;
	char reason[80];
	uint8_t buf[2];
	struct wr w;
	bool ok;
	int rc;

	/* A malformed or missing message is owed no reply. */
	if ((rc = session_recv(s, MSG_USERPASS, &up)) != 0)
		return rc;
	snprintf(s->user_buf, sizeof(s->user_buf), "%s", up.user);
	rc = authd_userpass(s->opts->authd_door, s->client->in_fd, up.user,
	    up.pass, &s->deadline, &v);
	explicit_bzero(up.pass, sizeof(up.pass));
	if (rc != 0)
		log_warnx("authd did not answer (%s): refusing %s", err_str(rc),
		    s->user_buf);
	ok = rc == 0 && v.ok;
	if (rc != 0)
		snprintf(reason, sizeof(reason), "authd unavailable");
	else
		snprintf(reason, sizeof(reason), "%s%s",
		    v.ok ? "" : auth_reason_str(v.reason),
		    !v.ok && v.throttled ? ", throttled" : "");
	rec.decision = ok ? "permit" : "deny";
	rec.client = s->client_sa;
	rec.lb = s->lb_sa;
	rec.version = SOCKS_V5;
	rec.method = "userpass";
	rec.user = s->user_buf;
	rec.reason = ok ? NULL : reason;
	rec.pid = getpid();
	if (audit_write(&rec) != 0 && ok &&
	    conf_vars(s->conf)->audit_required)
		ok = false;
	wr_init(&w, buf, sizeof(buf));
	if ((rc = socks5_userpass_reply_put(&w, ok ? USERPASS_SUCCESS : 1)) != 0 ||
	    (rc = session_send(s, &w)) != 0)
		return rc;
	if (!ok) {
		s->reason = "authentication failed";
		return ERR_DENIED;
	}
	s->user = s->user_buf;
	return 0;
}

/* RFC 1928 method selection: the first method in the server's order for
 * this client (the auth section) that the client offered.  0x01 and 0x02
 * need authd; without it only 0x00 can be completed. */
int
session_negotiate5(struct session *s)
{
	struct socks5_greeting greet;
	uint8_t offered[4], buf[2];
	size_t n_offered = 0;
	unsigned line = 0;
	bool no_ident = false;
	struct wr w;
	int rc;

	if ((rc = session_recv(s, MSG_GREETING, &greet)) != 0)
		return rc;
	s->method = METHOD_NO_ACCEPTABLE;
	if (rules_auth(s->conf, s->client_sa, offered, sizeof(offered),
	    &n_offered, &line) == 0) {
		/* The server's order of preference decides (grammar 2). */
		for (size_t i = 0; i < n_offered &&
		    s->method == METHOD_NO_ACCEPTABLE; i++) {
			if (offered[i] != METHOD_NONE &&
			    !((offered[i] == METHOD_USERPASS ||
			    offered[i] == METHOD_GSSAPI) &&
			    s->opts->authd_door >= 0))
				continue;
			if (memchr(greet.methods, offered[i],
			    greet.n_methods) == NULL)
				continue;
			/* Grammar 2 step 3: under the demand, n is offered
			 * only with an identd answer. */
			if (offered[i] == METHOD_NONE &&
			    conf_vars(s->conf)->demand_ident &&
			    session_ident_user(s) == NULL) {
				no_ident = true;
				continue;
			}
			s->method = offered[i];
		}
	}
	wr_init(&w, buf, sizeof(buf));
	if ((rc = socks5_method_reply_put(&w, s->method)) != 0)
		return rc;
	if (s->method == METHOD_NO_ACCEPTABLE) {
		struct audit_rec rec = AUDIT_REC("auth");

		session_rule(s, line);
		rec.decision = "deny";
		rec.client = s->client_sa;
		rec.lb = s->lb_sa;
		rec.version = SOCKS_V5;
		rec.rule = s->rule;
		rec.reason = no_ident ? auth_reason_str(s->ident_reason) :
		    "no acceptable method";
		if (no_ident)
			rec.method = "ident";
		rec.pid = getpid();
		(void)audit_write(&rec);
		(void)session_send(s, &w);
		s->reason = rec.reason;
		return ERR_DENIED;
	}
	if ((rc = session_send(s, &w)) != 0)
		return rc;
	if (s->method == METHOD_GSSAPI)
		return session_gssapi(s);
	return s->method == METHOD_USERPASS ? session_userpass(s) : 0;
}

/* Grammar 2 step 2: SOCKS4 has no method negotiation and counts as method
 * n, so the first auth line matching the client must allow n (or -).  A
 * file without auth lines leaves the decision to the access rules, whose
 * record then names the deciding line (the SPEC's "none only where a
 * permit could match" is about what a SOCKS5 client is offered). */
bool
session_v4_auth_allows(struct session *s)
{
	uint8_t methods[4];
	size_t n = 0;
	unsigned line = 0;

	if (rules_auth(s->conf, s->client_sa, methods, sizeof(methods), &n,
	    &line) != 0) {
		session_rule(s, 0);
		return false;
	}
	if (line == 0)
		return true;
	session_rule(s, line);
	return memchr(methods, METHOD_NONE, n) != NULL;
}
