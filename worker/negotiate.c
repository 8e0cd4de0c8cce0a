/*
 * Who the client is (grammar 2 steps 2 and 3): SOCKS5 method selection in
 * the server's order from the auth section, RFC 1929 through authd, and
 * the auth-section check a SOCKS4 request must pass as method n.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/socks.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "worker/helper_wrap.h"
#include "worker/session.h"

/* RFC 1929: the user name and password go to authd, which asks PAM; the
 * decision is audited before the status reply is sent. */
static int
session_userpass(struct session *s)
{
	struct socks5_userpass up;
	struct audit_rec rec = AUDIT_REC("auth");
	uint8_t buf[2];
	struct wr w;
	bool ok = false;
	int rc;

	/* A malformed or missing message is owed no reply. */
	if ((rc = session_recv(s, MSG_USERPASS, &up)) != 0)
		return rc;
	snprintf(s->user_buf, sizeof(s->user_buf), "%s", up.user);
	rc = authd_userpass(s->opts->authd_door, s->client_sa, up.user, up.pass,
	    &s->deadline, &ok);
	explicit_bzero(up.pass, sizeof(up.pass));
	if (rc != 0)
		log_warnx("authd did not answer (%s): refusing %s", err_str(rc),
		    s->user_buf);
	rec.decision = ok ? "permit" : "deny";
	rec.client = s->client_sa;
	rec.lb = s->lb_sa;
	rec.version = SOCKS_V5;
	rec.method = "userpass";
	rec.user = s->user_buf;
	rec.reason = ok ? NULL : rc == 0 ? "bad user name or password" :
	    "authd unavailable";
	rec.pid = getpid();
	if (audit_write(&rec) != 0 && ok) {
		log_warn("audit write failed; refusing %s", s->user_buf);
		ok = false;
	}
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
 * this client (the auth section) that the client offered.  0x02 needs
 * authd; without it only 0x00 can be completed. */
int
session_negotiate5(struct session *s)
{
	struct socks5_greeting greet;
	uint8_t offered[4], buf[2];
	size_t n_offered = 0;
	unsigned line = 0;
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
			    !(offered[i] == METHOD_USERPASS &&
			    s->opts->authd_door >= 0))
				continue;
			if (memchr(greet.methods, offered[i],
			    greet.n_methods) != NULL)
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
		rec.reason = "no acceptable method";
		rec.pid = getpid();
		(void)audit_write(&rec);
		(void)session_send(s, &w);
		s->reason = "no acceptable method";
		return ERR_DENIED;
	}
	if ((rc = session_send(s, &w)) != 0)
		return rc;
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
