/*
 * RFC 1928 BIND (section 4, "BIND") and SOCKS4 BIND: the client asks the
 * server to accept one connection for it, typically the data connection
 * of a protocol like FTP, and gets two replies: the address it listens on,
 * then the address of the peer that connected.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/io.h"
#include "common/log.h"
#include "common/net.h"
#include "conf/conf.h"
#include "worker/connect.h"
#include "worker/session.h"
#include "worker/upstream.h"

/*
 * The local address to listen on (grammar 4.3): the interface section's
 * choice for the expected peer; else the address this host would use to
 * reach that peer (a connected UDP socket tells, nothing is sent); for an
 * unspecified peer, the address the client reached us on.
 */
static int
bind_local(struct session *s, const struct sockaddr *peer,
    struct sockaddr_storage *local)
{
	socklen_t len = sizeof(*local);
	int fd, rc = 0;

	if (rules_interface(s->conf, peer, NULL, net_addr_port(peer), local) &&
	    local->ss_family == peer->sa_family)
		return 0;
	if (net_addr_is_any(peer) || s->client->in_fd < 0) {
		if (getsockname(s->client->in_fd, (struct sockaddr *)local,
		    &len) == -1)
			return ERR_SYS;
	} else {
		if ((fd = socket(peer->sa_family, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) == -1)
			return ERR_SYS;
		if (connect(fd, peer, net_addr_len(peer)) == -1 ||
		    getsockname(fd, (struct sockaddr *)local, &len) == -1)
			rc = ERR_SYS;
		close(fd);
	}
	net_addr_set_port(local, 0);
	return rc;
}

/* An incoming connection that may not be relayed is audited and dropped;
 * the wait goes on for an acceptable one (grammar 4.6).  rule is NULL
 * when the peer was not the expected host. */
static void
audit_stray_peer(struct session *s, const struct sockaddr *from,
    const char *rule, const char *reason)
{
	struct audit_rec rec = AUDIT_REC("request");
	char shown[NET_ADDRSTR_MAX];

	/* Anyone may connect to a BIND port: counted past a burst. */
	s->flood.what = "BIND peers refused";
	s->flood.cmd = "bind";
	if (!audit_limit_pass(&s->flood))
		return;
	net_addr_format(from, shown, sizeof(shown));
	rec.decision = "deny";
	rec.client = s->client_sa;
	rec.lb = s->lb_sa;
	rec.version = s->version;
	rec.cmd = "bind";
	rec.dest = shown;
	rec.rule = rule;
	rec.reason = reason;
	rec.pid = getpid();
	(void)audit_write(&rec);
}

/*
 * Whether the peer that connected may be relayed.  A named DST.ADDR admits
 * that host only.  An unspecified one (0.0.0.0, ::) admits any peer, so the
 * request's own check saw only "0.0.0.0": the rules are asked again with
 * the peer's real address (and DST.PORT), or `deny - - - 127. - -` would
 * not keep a loopback peer out.
 */
static bool
bind_peer_allowed(struct session *s, const struct sockaddr *expect,
    const struct sockaddr *peer)
{
	struct sockaddr_storage literal;
	struct rules_request rq;
	struct rules_verdict verdict;
	char rule[300];

	if (!net_addr_is_any(expect)) {
		if (net_addr_same_host(peer, expect))
			return true;
		audit_stray_peer(s, peer, NULL,
		    "BIND: connection from a host other than DST.ADDR");
		return false;
	}
	session_rules_request(s, &rq, &literal);
	rq.dest.name = NULL;
	rq.dest.addr = peer;
	rules_access(s->conf, &rq, &verdict);
	if (verdict.permit)
		return true;
	conf_rule_format(s->conf, verdict.line, rule, sizeof(rule));
	audit_stray_peer(s, peer, rule, "BIND: peer denied by rule");
	return false;
}

/* Wait for the expected peer, or for the client to give up. */
static int
bind_accept(struct session *s, int listen_fd, const struct sockaddr *expect,
    int *peer_fd, struct sockaddr_storage *peer)
{
	unsigned idle_s = conf_vars(s->conf)->idle_timeout_min * 60;
	struct timespec deadline;

	io_deadline(&deadline, idle_s);
	for (;;) {
		struct pollfd pfds[2] = {
			{ .fd = listen_fd, .events = POLLIN },
			{ .fd = s->client->in_fd, .events = POLLIN },
		};
		socklen_t len = sizeof(*peer);
		int n, fd;

		n = poll(pfds, 2, idle_s == 0 ? -1 : io_ms_left(&deadline));
		if (n == 0)
			return ERR_TIMEOUT;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return ERR_SYS;
		}
		/* Anything from the client before the peer arrives is either
		 * its close or a protocol violation: end the attempt. */
		if (pfds[1].revents != 0)
			return ERR_EOF;
		fd = accept4(listen_fd, (struct sockaddr *)peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1 && (errno == EAGAIN || errno == EINTR ||
		    errno == ECONNABORTED || errno == EPROTO))
			continue;   /* gone before we took it: wait on */
		if (fd == -1) {
			/* Out of descriptors or memory: the peer stays queued
			 * and the socket readable, so waiting on would spin
			 * until the idle limit.  This BIND has failed. */
			log_warn("BIND: accept");
			return ERR_SYS;
		}
		if (!bind_peer_allowed(s, expect, (struct sockaddr *)peer)) {
			close(fd);
			continue;
		}
		*peer_fd = fd;
		return 0;
	}
}

int
session_bind(struct session *s)
{
	struct sockaddr_storage addrs[CONNECT_ADDRS_MAX], local, bound, peer;
	struct sockaddr_storage literal;
	struct rules_request rq;
	struct rules_verdict verdict;
	bool chained;
	socklen_t bound_len = sizeof(bound);
	char shown[NET_ADDRSTR_MAX], why[NET_ADDRSTR_MAX + 32];
	size_t n_addrs = 0;
	int listen_fd = -1, rc;

	session_rules_request(s, &rq, &literal);
	/* Grammar 4.5: BIND goes through an upstream too; the upstream
	 * listens and sends both replies. */
	if ((rc = upstream_route(s, &rq, &chained)) != 0 || chained)
		return rc;
	/* DST is the peer the client expects: its address, resolved if the
	 * client named it, decides with the rules as for CONNECT. */
	rc = connect_resolve(s->opts->resolver_door, &s->req.dst, addrs,
	    CONNECT_ADDRS_MAX, &n_addrs, &s->deadline);
	if (rc == 0)
		rq.dest.addr = (struct sockaddr *)&addrs[0];
	rules_access(s->conf, &rq, &verdict);
	session_rule(s, verdict.line);
	if (!verdict.permit) {
		s->reason = "denied by rule";
		return session_reply(s, false, REP_NOT_ALLOWED, NULL);
	}
	if (rc != 0) {
		s->reason = "expected peer not found";
		return session_reply(s, true, (uint8_t)rc, NULL);
	}
	if (bind_local(s, (struct sockaddr *)&addrs[0], &local) != 0 ||
	    net_listen((struct sockaddr *)&local, 1, 0, &listen_fd) != 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&bound, &bound_len) == -1) {
		log_warn("BIND for %s", s->dest_str);
		if (listen_fd != -1)
			close(listen_fd);
		s->reason = "cannot listen";
		return session_reply(s, true, REP_GENERAL_FAILURE, NULL);
	}
	/* First reply: where the peer should connect. */
	if ((rc = session_reply(s, true, REP_SUCCEEDED,
	    (struct sockaddr *)&bound)) != 0) {
		close(listen_fd);
		return rc;
	}
	rc = bind_accept(s, listen_fd, (struct sockaddr *)&addrs[0],
	    &s->dest_fd, &peer);
	close(listen_fd);
	if (rc != 0) {
		s->dest_fd = -1;
		s->reason = rc == ERR_TIMEOUT ? "BIND: no peer in time" :
		    rc == ERR_SYS ? "BIND: cannot accept the peer" :
		    "BIND: client left before the peer came";
		/* The client is still owed an answer if it is waiting. */
		if (rc == ERR_TIMEOUT || rc == ERR_SYS)
			(void)session_reply(s, true, rc == ERR_TIMEOUT ?
			    REP_TTL_EXPIRED : REP_GENERAL_FAILURE, NULL);
		return 0;
	}
	/* Second reply: who connected. */
	net_addr_format((struct sockaddr *)&peer, shown, sizeof(shown));
	snprintf(why, sizeof(why), "BIND: peer %s connected", shown);
	s->reason = why;
	rc = session_reply(s, true, REP_SUCCEEDED, (struct sockaddr *)&peer);
	s->reason = NULL;
	return rc;
}
