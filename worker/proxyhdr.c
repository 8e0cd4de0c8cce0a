/*
 * The PROXY protocol step of a session (contract in session.h).
 *
 * Why here: the header is untrusted bytes until we know who sent them,
 * and even from a listed load balancer it is parsed only in the sandboxed
 * worker (STYLE 3: parse as little as possible in privileged code).  The
 * master decides nothing from it.
 *
 * Who may send one: only a TCP peer listed in SOCKS5_PROXY_PROTOCOL, and
 * such a peer must.  Every other connection goes straight to SOCKS, so a
 * header from it fails as a SOCKS protocol error and no client can claim
 * another client's address.
 *
 * What changes: s->client_sa becomes the client named in the header, so
 * every later step (auth and access rules, the UDP client check, every
 * audit record) sees the real client; the load balancer is kept in
 * s->lb_sa for the records' `lb` field.  The ban section is applied here
 * again, to the real client, because the master's accept-time ban check
 * only saw the load balancer.
 *
 * identd: not asked for a proxied client (docs/socks5.conf-extensions.md
 * section 10): RFC 1413 describes the querier's own TCP connection, which
 * behind a load balancer is the load balancer's, so the real client's
 * identd has nothing true to tell us.  Code that adds identd lookups must
 * skip them when s->lb_sa != NULL.
 */
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/io.h"
#include "common/log.h"
#include "common/net.h"
#include "common/proxyproto.h"
#include "common/rd.h"
#include "conf/conf.h"
#include "worker/session.h"

static const char *
header_error(int rc, const struct rd *r)
{
	switch (rc) {
	case ERR_UNSUPPORTED:
		return "PROXY header: family is not TCP over IPv4 or IPv6";
	case ERR_NOSPACE:
		return "PROXY header longer than 1024 bytes";
	case ERR_TIMEOUT:
		return rd_left(r) == 0 ?
		    "no PROXY header from a load balancer in time" :
		    "PROXY header incomplete at the negotiation deadline";
	case ERR_EOF:
		return rd_left(r) == 0 ?
		    "load balancer closed before a PROXY header" :
		    "load balancer closed inside a PROXY header";
	case ERR_PROTO:
		return pp_detect(r) == ERR_PROTO ?
		    "no PROXY header from a load balancer" :
		    "malformed PROXY header";
	default:
		return "reading the PROXY header failed";
	}
}

/* The contract is in session.h. */
int
session_worker_ban(struct session *s, const char *rule, const char *reason)
{
	struct audit_rec rec = AUDIT_REC("ban");

	rec.decision = "deny";
	rec.client = s->client_sa;
	rec.lb = s->lb_sa;
	rec.rule = rule;
	rec.reason = reason;
	rec.pid = getpid();
	(void)audit_write(&rec);
	s->no_close_record = true;
	return ERR_DENIED;
}

/* The real client is banned: the master's accept-time ban only saw the
 * load balancer. */
static int
proxied_ban(struct session *s, unsigned line)
{
	char rule[300];

	conf_rule_format(s->conf, line, rule, sizeof(rule));
	return session_worker_ban(s, rule, NULL);
}

int
session_proxy_header(struct session *s)
{
	struct pp_header h;
	struct rd r;
	unsigned line;
	int rc;

	if (s->client_sa == NULL || !rules_proxy_trusted(s->conf, s->client_sa))
		return 0;
	for (;;) {
		rd_init(&r, s->in, s->in_len);
		rc = pp_parse(&r, &h);
		if (rc != ERR_SHORT)
			break;
		rc = io_read_some(s->client->in_fd, s->in, sizeof(s->in),
		    &s->in_len, &s->deadline);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		rd_init(&r, s->in, s->in_len);
		s->reason = header_error(rc, &r);
		return rc == ERR_TIMEOUT || rc == ERR_EOF ? rc : ERR_PROTO;
	}
	/* The header's bytes are used up; what follows is SOCKS. */
	memmove(s->in, s->in + r.off, s->in_len - r.off);
	s->in_len -= r.off;
	if (h.local) {
		char lb[NET_ADDRSTR_MAX];

		net_addr_format(s->client_sa, lb, sizeof(lb));
		log_debug("PROXY v%d %s from %s: health check", h.version,
		    h.version == 2 ? "LOCAL" : "UNKNOWN", lb);
		s->no_close_record = true;
		return SESSION_PROXY_LOCAL;
	}
	s->real_client = h.src;
	s->lb_sa = s->client_sa;
	s->client_sa = (const struct sockaddr *)&s->real_client;
	if ((line = rules_ban(s->conf, s->client_sa)) != 0)
		return proxied_ban(s, line);
	/* Before any byte the client chose is parsed (master/door.c). */
	return session_door_real_client(s);
}
