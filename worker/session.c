/*
 * One client session: SOCKS 4/4a/5 negotiation, the rules, the outgoing
 * connection, then the relay.  A session is one struct passed by pointer;
 * nothing here is global.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/io.h"
#include "common/log.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "relay/relay.h"
#include "worker/connect.h"
#include "worker/helper_wrap.h"
#include "worker/session.h"
#include "worker/upstream.h"
#include "worker/worker.h"


static void
session_consume(struct session *s, size_t n)
{
	memmove(s->in, s->in + n, s->in_len - n);
	s->in_len -= n;
	/* The consumed bytes may hold an RFC 1929 password. */
	explicit_bzero(s->in + s->in_len, n);
}

/* The contract is in session.h. */
int
session_recv(struct session *s, enum msg_kind kind, void *out)
{
	struct rd r;
	int rc;

	for (;;) {
		rd_init(&r, s->in, s->in_len);
		switch (kind) {
		case MSG_GREETING:
			rc = socks5_greeting_parse(&r, out);
			break;
		case MSG_REQUEST5:
			rc = socks5_request_parse(&r, out);
			break;
		case MSG_REQUEST4:
			rc = socks4_request_parse(&r, out);
			break;
		case MSG_USERPASS:
			rc = socks5_userpass_parse(&r, out);
			break;
		default:
			return ERR_PROTO;
		}
		if (rc == 0) {
			session_consume(s, r.off);
			return 0;
		}
		if (rc != ERR_SHORT)
			return rc;
		rc = io_read_some(s->client->in_fd, s->in, sizeof(s->in),
		    &s->in_len, &s->deadline);
		if (rc != 0)
			return rc;
	}
}

int
session_send(struct session *s, const struct wr *w)
{
	return io_write_all(s->client->out_fd, w->p, w->off, &s->deadline);
}

static const char *
cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case CMD_CONNECT: return "connect";
	case CMD_BIND: return "bind";
	case CMD_UDP_ASSOCIATE: return "udp";
	}
	return NULL;
}

enum conf_cmd
session_cmd_bit(uint8_t cmd)
{
	switch (cmd) {
	case CMD_BIND: return CONF_CMD_BIND;
	case CMD_UDP_ASSOCIATE: return CONF_CMD_UDP;
	default: return CONF_CMD_CONNECT;
	}
}

static const char *
method_name(const struct session *s)
{
	return s->method == METHOD_USERPASS ? "userpass" :
	    s->method == METHOD_GSSAPI ? "gssapi" :
	    s->ident_used ? "ident" : "none";
}

void
session_rule(struct session *s, unsigned line)
{
	conf_rule_format(s->conf, line, s->rule, sizeof(s->rule));
}

void
session_rules_request(const struct session *s, struct rules_request *rq,
    struct sockaddr_storage *literal)
{
	socklen_t len;

	memset(rq, 0, sizeof(*rq));
	rq->client = s->client_sa;
	rq->method = s->method == METHOD_USERPASS ? CONF_AUTH_USERPASS :
	    s->method == METHOD_GSSAPI ? CONF_AUTH_GSSAPI : CONF_AUTH_NONE;
	rq->cmd = session_cmd_bit(s->req.cmd);
	rq->dest.name = s->req.dst.atyp == ATYP_DOMAIN ? s->req.dst.name :
	    NULL;
	rq->dest.port = s->req.dst.port;
	rq->user = s->user;
	if (s->req.dst.atyp != ATYP_DOMAIN &&
	    socks_addr_to_sockaddr(&s->req.dst, literal, &len) == 0)
		rq->dest.addr = (struct sockaddr *)literal;
}

/* The contract is in session.h. */
void
session_route_note(struct session *s, const struct rules_route *route)
{
	s->route = route->kind == ROUTE_SOCKS5 ? "socks5" :
	    route->kind == ROUTE_SOCKS4 ? "socks4" : "direct";
	if (route->line != 0)
		conf_rule_format(s->conf, route->line, s->route_rule,
		    sizeof(s->route_rule));
	/* s->via is set by worker/upstream.c: the upstream that answered. */
}

/* The contract is in session.h.  SOCKS4 has no finer failure codes than
 * 91, so every SOCKS5 failure maps to it. */
int
session_reply(struct session *s, bool permit, uint8_t rep5,
    const struct sockaddr *bound)
{
	struct audit_rec rec = AUDIT_REC("request");
	uint8_t buf[SOCKS5_REPLY_MAX];
	struct wr w;
	int rep, rc;

	wr_init(&w, buf, sizeof(buf));
	if (s->version == SOCKS_V5) {
		rep = rep5;
		rc = socks5_reply_put(&w, rep5, bound);
	} else {
		rep = rep5 == REP_SUCCEEDED ? REP4_GRANTED :
		    s->rep4 != 0 ? s->rep4 : REP4_REJECTED;
		rc = socks4_reply_put(&w, (uint8_t)rep, bound);
	}
	if (rc != 0)
		return rc;
	s->denied = !permit;
	rec.decision = permit ? "permit" : "deny";
	rec.client = s->client_sa;
	rec.lb = s->lb_sa;
	rec.version = s->version;
	rec.method = method_name(s);
	rec.user = s->user;
	rec.userid = s->version == SOCKS_V4 && s->req.userid[0] != '\0' ?
	    s->req.userid : NULL;
	rec.cmd = cmd_name(s->req.cmd);
	rec.dest = s->dest_str[0] != '\0' ? s->dest_str : NULL;
	rec.rule = s->rule[0] != '\0' ? s->rule : NULL;
	rec.route = s->route;
	rec.route_rule = s->route_rule[0] != '\0' ? s->route_rule : NULL;
	rec.via = s->via[0] != '\0' ? s->via : NULL;
	rec.reply = rep;
	rec.reason = s->reason;
	rec.pid = getpid();
	/* A permitted session that cannot be audited does not run, unless
	 * SOCKS5_AUDIT_REQUIRED is off.  The logger logs the failure once
	 * per change of state, not once per session. */
	if (audit_write(&rec) != 0 && permit &&
	    conf_vars(s->conf)->audit_required)
		return ERR_SYS;
	return session_send(s, &w);
}

/* The contract is in session.h. */
int
session_refuse_unspecified(struct session *s)
{
	s->reason = SESSION_UNSPECIFIED_REASON;
	return session_reply(s, false, REP_NOT_ALLOWED, NULL);
}

/* Resolve (when the route is direct), apply the access rules, connect. */
static int
session_connect(struct session *s)
{
	struct sockaddr_storage addrs[CONNECT_ADDRS_MAX], bound, literal;
	struct timespec conn_deadline;
	struct rules_request rq;
	struct rules_verdict verdict, first_verdict;
	bool chained;
	socklen_t bound_len = sizeof(bound);
	size_t n_addrs = 0;
	int rep = REP_GENERAL_FAILURE, rc;

	session_rules_request(s, &rq, &literal);
	if (rq.dest.addr != NULL && net_addr_is_any(rq.dest.addr))
		return session_refuse_unspecified(s);

	/* Grammar 5.1: the proxy section sees the name when one was sent. */
	if ((rc = upstream_route(s, &rq, &chained)) != 0 || chained)
		return rc;

	rc = connect_resolve(s->opts->resolver_door, &s->req.dst, addrs,
	    CONNECT_ADDRS_MAX, &n_addrs, &s->deadline);
	if (rc != 0) {
		/* An unresolvable name may still be denied by a name rule:
		 * decide on what is known before reporting the lookup. */
		rules_access(s->conf, &rq, &verdict);
		session_rule(s, verdict.line);
		s->reason = verdict.permit ? "name not found" : "denied by rule";
		return session_reply(s, verdict.permit,
		    verdict.permit ? (uint8_t)rc : REP_NOT_ALLOWED, NULL);
	}
	/* "0", "0.0.0.0" or "::" as a name, or a name whose DNS answers
	 * 0.0.0.0 (a sinkhole, or a rebinding attempt): refused like the
	 * literal, before the rules see any of its addresses. */
	for (size_t i = 0; i < n_addrs; i++)
		if (net_addr_is_any((struct sockaddr *)&addrs[i]))
			return session_refuse_unspecified(s);
	/* Grammar 5.2: the decision uses the first resolved address.  Later
	 * addresses are only tried if the rules permit them too. */
	rq.dest.addr = (struct sockaddr *)&addrs[0];
	rules_access(s->conf, &rq, &first_verdict);
	session_rule(s, first_verdict.line);
	if (!first_verdict.permit) {
		s->reason = "denied by rule";
		return session_reply(s, false, REP_NOT_ALLOWED, NULL);
	}
	/* One deadline for the whole request, however many addresses the
	 * name has: with one each, eight black-holed addresses held the
	 * client for eight times SOCKS5_NEGTIMEOUT. */
	io_deadline(&conn_deadline, conf_vars(s->conf)->neg_timeout_s);
	for (size_t i = 0; i < n_addrs && io_ms_left(&conn_deadline) > 0; i++) {
		if (i > 0) {
			rq.dest.addr = (struct sockaddr *)&addrs[i];
			rules_access(s->conf, &rq, &verdict);
			if (!verdict.permit)
				continue;
		}
		rep = connect_open(s->conf, (struct sockaddr *)&addrs[i],
		    &conn_deadline, &s->dest_fd);
		if (rep == 0)
			break;
	}
	if (rep != 0) {
		s->reason = "connect failed";
		return session_reply(s, true, (uint8_t)rep, NULL);
	}
	if (getsockname(s->dest_fd, (struct sockaddr *)&bound, &bound_len) == -1)
		memset(&bound, 0, sizeof(bound));
	return session_reply(s, true, REP_SUCCEEDED, (struct sockaddr *)&bound);
}

/* Read the request (after the greeting for SOCKS5) and check what this
 * server can do with it before the rules are asked. */
static int
session_request(struct session *s)
{
	int rc;

	if (s->version == SOCKS_V5) {
		rc = session_recv(s, MSG_REQUEST5, &s->req);
		if (rc == ERR_UNSUPPORTED) {
			s->req.cmd = 0;
			s->reason = "address type not supported";
			(void)session_reply(s, false, REP_ATYP_UNSUPPORTED, NULL);
			return ERR_PROTO;
		}
	} else {
		rc = session_recv(s, MSG_REQUEST4, &s->req);
	}
	if (rc != 0)
		return rc;
	socks_addr_format(&s->req.dst, s->dest_str, sizeof(s->dest_str));
	if (s->version == SOCKS_V4 && !conf_vars(s->conf)->v4support) {
		s->reason = "SOCKS4 is disabled (SOCKS5_V4SUPPORT)";
		snprintf(s->rule, sizeof(s->rule), "SOCKS5_V4SUPPORT");
		(void)session_reply(s, false, REP_NOT_ALLOWED, NULL);
		return ERR_DENIED;
	}
	if (s->version == SOCKS_V4 && !session_v4_auth_allows(s)) {
		s->reason = "the auth section does not allow method n";
		(void)session_reply(s, false, REP_NOT_ALLOWED, NULL);
		return ERR_DENIED;
	}
	if ((rc = session_ident_apply(s)) != 0) {
		(void)session_reply(s, false, REP_NOT_ALLOWED, NULL);
		return rc;
	}
	if ((rc = session_door_user(s)) != 0)
		return rc;
	if (s->req.cmd != CMD_CONNECT && s->req.cmd != CMD_BIND &&
	    !(s->req.cmd == CMD_UDP_ASSOCIATE && s->version == SOCKS_V5)) {
		s->reason = "command not supported";
		(void)session_reply(s, false, REP_CMD_UNSUPPORTED, NULL);
		return ERR_UNSUPPORTED;
	}
	return 0;
}

static int
session_run(struct session *s)
{
	struct relay_params rp;
	struct rd r;
	int rc;

	if ((rc = session_proxy_header(s)) != 0) {
		if (rc == SESSION_PROXY_LOCAL)
			rc = 0;
		goto out;
	}
	/* The PROXY step may have left SOCKS bytes in the buffer already. */
	for (;;) {
		rd_init(&r, s->in, s->in_len);
		if ((rc = socks_peek_version(&r)) != ERR_SHORT)
			break;
		rc = io_read_some(s->client->in_fd, s->in, sizeof(s->in),
		    &s->in_len, &s->deadline);
		if (rc != 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	s->version = rc;
	s->method = METHOD_NONE;
	if (s->version == SOCKS_V5 && (rc = session_negotiate5(s)) != 0)
		goto out;
	if ((rc = session_request(s)) != 0)
		goto out;
	session_door_negotiated(s);
	switch (s->req.cmd) {
	case CMD_BIND:
		rc = session_bind(s);
		break;
	case CMD_UDP_ASSOCIATE:
		rc = session_udp(s);
		break;
	default:
		rc = session_connect(s);
		break;
	}
	if (rc != 0)
		goto out;
	if (s->dest_fd == -1) {
		/* Answered with a failure reply: denied, or the destination
		 * could not be reached (a normal end for the worker). */
		rc = s->denied ? ERR_DENIED : 0;
		goto out;
	}

	rp = (struct relay_params){
		.client_in = s->client->in_fd,
		.client_out = s->client->out_fd,
		.dest_fd = s->dest_fd,
		.idle_timeout_s = conf_vars(s->conf)->idle_timeout_min * 60,
		.force_copy = s->opts->relay_copy,
		.early = s->in,
		.early_len = s->in_len,
	};
	rc = relay_run(&rp, s->pipes, &s->stats);
	if (rc == ERR_TIMEOUT)
		s->reason = "idle timeout";
	else if (rc == ERR_EOF)
		s->reason = "connection reset";
	else if (rc != 0)
		s->reason = "relay failed";
	/* An idle timeout or a reset ends a session normally. */
	if (rc == ERR_TIMEOUT || rc == ERR_EOF)
		rc = 0;
out:
	relay_pipes_close(s->pipes);
	return rc;
}

int
worker_serve(const struct conf *conf, const struct worker_client *client,
    const struct worker_opts *opts, struct relay_pipes *pipes)
{
	struct session s;
	struct audit_rec rec = AUDIT_REC("close");
	struct timespec now;
	int rc, status;

	memset(&s, 0, sizeof(s));
	s.conf = conf;
	s.client = client;
	s.opts = opts;
	s.client_sa = client->have_addr ? (const struct sockaddr *)&client->addr
	    : NULL;
	s.dest_fd = -1;
	s.pipes = pipes;
	helper_attribute(client->have_addr ? client->in_fd : -1);
	conf_forget_upstream_secret(conf, true);
	clock_gettime(CLOCK_MONOTONIC, &s.started);
	io_deadline(&s.deadline, conf_vars(conf)->neg_timeout_s);
	session_ident_start(&s);

	rc = session_run(&s);
	if (s.ident_chan >= 0)
		close(s.ident_chan);
	switch (rc) {
	case 0:
		status = WORKER_EXIT_OK;
		break;
	case ERR_DENIED:
		status = WORKER_EXIT_DENIED;
		break;
	case ERR_SYS:
	case ERR_NOMEM:
		status = WORKER_EXIT_INTERNAL;
		break;
	default:
		status = WORKER_EXIT_CLIENT;
		if (s.reason == NULL)
			s.reason = rc == ERR_TIMEOUT ? "negotiation timeout" :
			    rc == ERR_EOF ? "client closed during negotiation" :
			    rc == ERR_UNSUPPORTED ? "command not supported" :
			    "protocol error";
		break;
	}
	if (s.dest_fd != -1)
		close(s.dest_fd);

	if (s.no_close_record)
		return status;
	audit_limit_flush(&s.flood);
	clock_gettime(CLOCK_MONOTONIC, &now);
	rec.client = s.client_sa;
	rec.lb = s.lb_sa;
	if (s.version != 0)
		rec.version = s.version;
	rec.user = s.user;
	rec.cmd = cmd_name(s.req.cmd);
	rec.dest = s.dest_str[0] != '\0' ? s.dest_str : NULL;
	rec.bytes_out = (int64_t)s.stats.bytes_out;
	rec.bytes_in = (int64_t)s.stats.bytes_in;
	rec.duration_ms = (int64_t)(now.tv_sec - s.started.tv_sec) * 1000 +
	    (now.tv_nsec - s.started.tv_nsec) / 1000000;
	rec.reason = s.reason;
	rec.via = s.via[0] != '\0' ? s.via : NULL;
	rec.pid = getpid();
	/* The session is over: nothing waits for this record, and the
	 * logger reads it even after this process is gone. */
	(void)audit_post(&rec);
	return status;
}
