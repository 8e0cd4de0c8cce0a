/*
 * Chaining through upstream SOCKS servers.  One deadline, SOCKS5_NEGTIMEOUT
 * from the request, bounds the whole chained request; each upstream's
 * connect, greeting and authentication get an equal share of what is left
 * (the last one all of it), so a black-holed first upstream leaves time
 * for the next.  The reply to the request itself may use the rest of the
 * deadline: the upstream is connecting to the destination meanwhile.
 *
 * The upstream password is only ever written into the RFC 1929 message
 * buffer, which is wiped after sending; it never reaches a reason string,
 * an audit record or a log line.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/health.h"
#include "common/io.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/socks_client.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "worker/connect.h"
#include "worker/session.h"
#include "worker/upstream.h"

/* What an upstream may send before the relay: a reply, and whatever came
 * right after it (a server's banner), passed on to the client. */
enum { UP_BUF = 1024 };

struct up_conn {
	int fd;
	int client_fd;           /* watched while we wait for the upstream */
	bool client_gone;
	uint8_t buf[UP_BUF];
	size_t len;
};

enum up_msg { UP_METHOD, UP_USERPASS, UP_REPLY5, UP_REPLY4 };

struct up_reply {
	uint8_t code;
	struct socks_addr bnd;
};

/*
 * Wait until the upstream has bytes, the deadline passes, or the client
 * goes away.  A client that has closed its side (POLLRDHUP) before its
 * reply is treated as gone: on a chain that loops back through another
 * proxy, waiting on for it is what would keep the loop alive, each hop
 * starting the next before its own deadline ends it.  Watched this way,
 * the loop collapses hop by hop once its first worker gives up.
 */
static int
up_wait(struct up_conn *c, const struct timespec *deadline)
{
	for (;;) {
		struct pollfd pfds[2] = {
			{ .fd = c->fd, .events = POLLIN },
			{ .fd = c->client_fd, .events = POLLRDHUP },
		};
		int n = poll(pfds, 2, io_ms_left(deadline));

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return ERR_SYS;
		if (n == 0)
			return ERR_TIMEOUT;
		if ((pfds[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
			c->client_gone = true;
			return ERR_EOF;
		}
		if (pfds[0].revents != 0)
			return 0;
	}
}

/* Parse one message from the upstream, reading until it is whole, the
 * upstream closes, or the deadline passes; the bytes are consumed. */
static int
up_recv(struct up_conn *c, enum up_msg kind, struct up_reply *out,
    const struct timespec *deadline)
{
	struct rd r;
	int rc;

	for (;;) {
		rd_init(&r, c->buf, c->len);
		switch (kind) {
		case UP_METHOD:
			rc = socks5_method_reply_parse(&r, &out->code);
			break;
		case UP_USERPASS:
			rc = socks5_userpass_reply_parse(&r, &out->code);
			break;
		case UP_REPLY5:
			rc = socks5_reply_parse(&r, &out->code, &out->bnd);
			break;
		default:
			rc = socks4_reply_parse(&r, &out->code, &out->bnd);
			break;
		}
		if (rc == 0) {
			memmove(c->buf, c->buf + r.off, c->len - r.off);
			c->len -= r.off;
			return 0;
		}
		if (rc != ERR_SHORT)
			return rc;
		if ((rc = up_wait(c, deadline)) != 0 ||
		    (rc = io_read_some(c->fd, c->buf, sizeof(c->buf), &c->len,
		    deadline)) != 0)
			return rc;
	}
}

static const char *
io_why(int rc, const char *what)
{
	switch (rc) {
	case ERR_TIMEOUT: return "no answer in time";
	case ERR_EOF: return "closed the connection";
	case ERR_PROTO: return what;
	default: return "connection failed";
	}
}

/* Append "host:port: why" to the session's reason. */
static void
why_add(struct session *s, const char *up, const char *why)
{
	size_t off = strlen(s->why);

	snprintf(s->why + off, sizeof(s->why) - off, "%s%s: %s",
	    off == 0 ? "every upstream failed: " : "; ", up, why);
	s->reason = s->why;
}

/* Tell the master (master/health.c); a lost report only costs the next
 * session one more try of this upstream. */
static void
report_down(const struct session *s, unsigned line, size_t index)
{
	uint8_t msg[IPC_UPSTREAM_DOWN_LEN];
	struct wr w;

	if (s->opts->health_fd == -1)
		return;
	wr_init(&w, msg, sizeof(msg));
	if (wr_u32be(&w, s->opts->health_gen) != 0 || wr_u32be(&w, line) != 0 ||
	    wr_u16be(&w, (uint16_t)index) != 0)
		return;
	(void)ipc_send(s->opts->health_fd, IPC_UPSTREAM_DOWN, msg, w.off, -1);
}

/* The order in which this session tries the proxy-list. */
static size_t
up_order(const struct session *s, const struct rules_route *route,
    size_t *order)
{
	bool down[UPSTREAM_TRY_MAX];
	size_t n = route->n_upstreams < UPSTREAM_TRY_MAX ? route->n_upstreams :
	    UPSTREAM_TRY_MAX, m = 0;
	uint32_t rnd[UPSTREAM_TRY_MAX];

	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (conf_vars(s->conf)->balance && n > 1 &&
	    getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) == (ssize_t)sizeof(rnd)) {
		/* Fisher-Yates; the modulo bias of 32 bits over at most 32
		 * entries is far below anything a load share can show. */
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = rnd[i] % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	}
	(void)health_down_set(s->opts->health, s->opts->health_gen, route->line,
	    n, down, health_now_ms());
	for (size_t i = 0; i < n; i++)
		if (!down[order[i]])
			order[m++] = order[i];
	/* Every upstream marked down: try them all, in the same order. */
	if (m == 0) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		m = n;
	}
	return m;
}

/* Whether peer is the address this session's client came in on: a chain
 * to ourselves would only feed itself. */
static bool
is_self(const struct session *s, const struct sockaddr *peer)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);

	memset(&local, 0, sizeof(local));
	if (getsockname(s->client->in_fd, (struct sockaddr *)&local, &len) == -1 ||
	    (local.ss_family != AF_INET && local.ss_family != AF_INET6))
		return false;
	return net_addr_same_host((struct sockaddr *)&local, peer) &&
	    net_addr_port((struct sockaddr *)&local) == net_addr_port(peer);
}

/* Connect to upstream up, greet and authenticate before the deadline.
 * 0 with c->fd set, or a failover reason in *why. */
static int
up_open(struct session *s, const struct conf_upstream *up, bool socks4,
    const struct timespec *deadline, struct up_conn *c, const char **why)
{
	const struct conf_vars *v = conf_vars(s->conf);
	struct sockaddr_storage addrs[CONNECT_ADDRS_MAX];
	struct socks_addr host;
	struct up_reply rep;
	uint8_t msg[3 + 2 * SOCKS_NAME_MAX];
	bool creds = v->upstream_user[0] != '\0';
	size_t n = 0;
	struct wr w;
	int rc = 0;

	memset(&host, 0, sizeof(host));
	host.port = up->port;
	if (inet_pton(AF_INET, up->host, host.ip) == 1) {
		host.atyp = ATYP_IPV4;
	} else if (inet_pton(AF_INET6, up->host, host.ip) == 1) {
		host.atyp = ATYP_IPV6;
	} else {
		host.atyp = ATYP_DOMAIN;
		snprintf(host.name, sizeof(host.name), "%s", up->host);
	}
	if (connect_resolve(s->opts->resolver_door, &host, addrs,
	    CONNECT_ADDRS_MAX, &n, deadline) != 0) {
		*why = "name not found";
		return ERR_PROTO;
	}
	c->fd = -1;
	c->len = 0;
	c->client_fd = s->client->in_fd;
	c->client_gone = false;
	*why = "unreachable";
	for (size_t i = 0; i < n; i++) {
		if (is_self(s, (struct sockaddr *)&addrs[i])) {
			*why = "loop: that is the address this client came in on";
			continue;
		}
		rc = connect_open(s->conf, (struct sockaddr *)&addrs[i], deadline,
		    &c->fd);
		if (rc == 0)
			break;
		*why = rc == REP_CONN_REFUSED ? "connection refused" :
		    rc == REP_HOST_UNREACHABLE ? "unreachable or no answer in time" :
		    "unreachable";
	}
	if (c->fd == -1)
		return ERR_PROTO;
	if (socks4)
		return 0;

	wr_init(&w, msg, sizeof(msg));
	if (socks5_greeting_put(&w, creds) != 0 ||
	    (rc = io_write_all(c->fd, msg, w.off, deadline)) != 0 ||
	    (rc = up_recv(c, UP_METHOD, &rep, deadline)) != 0) {
		*why = rc == 0 ? "greeting failed" : io_why(rc,
		    "malformed method selection");
		goto fail;
	}
	if (rep.code == METHOD_NONE)
		return 0;
	if (rep.code != METHOD_USERPASS || !creds) {
		*why = "no acceptable authentication method";
		goto fail;
	}
	wr_init(&w, msg, sizeof(msg));
	rc = socks5_userpass_put(&w, v->upstream_user, v->upstream_passwd);
	if (rc == 0)
		rc = io_write_all(c->fd, msg, w.off, deadline);
	explicit_bzero(msg, sizeof(msg));
	if (rc != 0 || (rc = up_recv(c, UP_USERPASS, &rep, deadline)) != 0) {
		*why = io_why(rc, "malformed authentication reply");
		goto fail;
	}
	if (rep.code != USERPASS_SUCCESS) {
		*why = "authentication failed";
		goto fail;
	}
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return c->client_gone ? ERR_EOF : ERR_PROTO;
}

/* One reply of the upstream to the request, passed to the client with
 * the upstream's code and BND (a domain BND becomes 0.0.0.0 and its port:
 * the client reply is written from a socket address). */
static int
up_reply_pass(struct session *s, struct up_conn *c, bool socks4,
    bool pass_rest, const struct timespec *deadline, bool *ok)
{
	struct sockaddr_storage bnd;
	struct sockaddr_in any;
	struct up_reply rep;
	socklen_t len;
	uint8_t code;
	int rc;

	*ok = false;
	rc = up_recv(c, socks4 ? UP_REPLY4 : UP_REPLY5, &rep, deadline);
	if (rc != 0 && c->client_gone) {
		s->reason = "client closed while an upstream was asked";
		return rc;
	}
	if (rc != 0) {
		snprintf(s->why, sizeof(s->why), "upstream %s: %s", s->via,
		    io_why(rc, "malformed reply"));
		s->reason = s->why;
		/* RFC 1928 has no "timed out"; as for a silent host. */
		return session_reply(s, true, rc == ERR_TIMEOUT ?
		    REP_HOST_UNREACHABLE : REP_GENERAL_FAILURE, NULL);
	}
	code = socks4 ? socks4_rep_to_5(rep.code) : rep.code;
	if (socks_addr_to_sockaddr(&rep.bnd, &bnd, &len) != 0) {
		memset(&any, 0, sizeof(any));
		any.sin_family = AF_INET;
		any.sin_port = htons(rep.bnd.port);
		memcpy(&bnd, &any, sizeof(any));
	}
	if (code != REP_SUCCEEDED) {
		snprintf(s->why, sizeof(s->why), "upstream %s answered %u",
		    s->via, rep.code);
		s->reason = s->why;
	}
	if ((rc = session_reply(s, true, code, (struct sockaddr *)&bnd)) != 0)
		return rc;
	*ok = code == REP_SUCCEEDED;
	/* What the upstream sent after its reply belongs to the client. */
	if (*ok && pass_rest && c->len > 0) {
		rc = io_write_all(s->client->out_fd, c->buf, c->len, deadline);
		c->len = 0;
		return rc;
	}
	return 0;
}

int
upstream_serve(struct session *s, const struct rules_route *route)
{
	const struct conf_vars *v = conf_vars(s->conf);
	bool socks4 = route->kind == ROUTE_SOCKS4, ok;
	size_t order[UPSTREAM_TRY_MAX], n;
	struct timespec deadline;
	struct up_conn c;
	uint8_t req[8 + 2 * 256];
	char up_str[sizeof(s->via)];
	struct wr w;
	int rc;

	s->via[0] = '\0';
	s->why[0] = '\0';
	if (socks4 && s->req.dst.atyp == ATYP_IPV6) {
		s->reason = "SOCKS4 upstream cannot carry an IPv6 destination";
		return session_reply(s, true, REP_ATYP_UNSUPPORTED, NULL);
	}
	wr_init(&w, req, sizeof(req));
	rc = socks4 ? socks4_request_put(&w, s->req.cmd, &s->req.dst,
	    v->upstream_user) : socks5_request_put(&w, s->req.cmd, &s->req.dst);
	if (rc != 0) {
		s->reason = "request cannot be sent upstream";
		return session_reply(s, true, REP_GENERAL_FAILURE, NULL);
	}
	io_deadline(&deadline, v->neg_timeout_s);
	n = up_order(s, route, order);
	for (size_t k = 0; k < n; k++) {
		const struct conf_upstream *up = &route->upstreams[order[k]];
		struct timespec share = deadline;
		const char *why;
		int left = io_ms_left(&deadline), each;

		snprintf(up_str, sizeof(up_str), strchr(up->host, ':') != NULL ?
		    "[%s]:%u" : "%s:%u", up->host, up->port);
		if (left == 0) {
			why_add(s, up_str, "not tried: SOCKS5_NEGTIMEOUT passed");
			continue;
		}
		each = left / (int)(n - k);
		if (k + 1 < n) {
			/* A share, at least a second (a connect needs one
			 * round trip; SOCKS5_NEGTIMEOUT is at least 1 s). */
			io_deadline(&share, 0);
			each = each < 1000 ? 1000 : each;
			share.tv_sec += each / 1000;
			share.tv_nsec += (long)(each % 1000) * 1000000;
			if (share.tv_nsec >= 1000000000) {
				share.tv_sec++;
				share.tv_nsec -= 1000000000;
			}
			if (share.tv_sec > deadline.tv_sec ||
			    (share.tv_sec == deadline.tv_sec &&
			    share.tv_nsec > deadline.tv_nsec))
				share = deadline;
		}
		rc = up_open(s, up, socks4, &share, &c, &why);
		if (rc == ERR_EOF) {
			s->reason = "client closed while an upstream was asked";
			return rc;
		}
		if (rc != 0) {
			why_add(s, up_str, why);
			log_info("%s via %s: %s", s->dest_str, up_str, why);
			/* A loop is our configuration, not the upstream's
			 * health. */
			if (strncmp(why, "loop", 4) != 0)
				report_down(s, route->line, order[k]);
			continue;
		}
		/* From here the upstream's answer is final. */
		snprintf(s->via, sizeof(s->via), "%s", up_str);
		s->why[0] = '\0';
		s->reason = NULL;
		if ((rc = io_write_all(c.fd, req, w.off, &deadline)) != 0) {
			close(c.fd);
			snprintf(s->why, sizeof(s->why), "upstream %s: %s", s->via,
			    io_why(rc, "refused the request"));
			s->reason = s->why;
			return session_reply(s, true, REP_GENERAL_FAILURE, NULL);
		}
		rc = up_reply_pass(s, &c, socks4, s->req.cmd != CMD_BIND,
		    &deadline, &ok);
		if (rc != 0 || !ok) {
			close(c.fd);
			return rc;
		}
		if (s->req.cmd == CMD_BIND) {
			/* The second reply names the peer; the upstream waits
			 * for it as long as it likes, we as long as the
			 * session may stay idle. */
			struct timespec idle;
			unsigned idle_s = v->idle_timeout_min * 60;

			io_deadline(&idle, idle_s == 0 ? 86400 * 365 : idle_s);
			s->reason = "BIND: second reply through the upstream";
			rc = up_reply_pass(s, &c, socks4, true, &idle, &ok);
			s->reason = NULL;
			if (rc != 0 || !ok) {
				close(c.fd);
				return rc;
			}
		}
		s->dest_fd = c.fd;
		return 0;
	}
	if (s->why[0] == '\0')
		why_add(s, "-", "no upstream to try");
	log_warnx("%s: %s", s->dest_str, s->why);
	return session_reply(s, true, REP_HOST_UNREACHABLE, NULL);
}

int
upstream_route(struct session *s, const struct rules_request *rq,
    bool *chained)
{
	struct rules_route route;
	struct rules_verdict verdict;

	rules_route(s->conf, &rq->dest, &route);
	session_route_note(s, &route);
	*chained = route.kind != ROUTE_DIRECT;
	if (!*chained)
		return 0;
	rules_access(s->conf, rq, &verdict);
	session_rule(s, verdict.line);
	if (!verdict.permit) {
		s->reason = "denied by rule";
		return session_reply(s, false, REP_NOT_ALLOWED, NULL);
	}
	return upstream_serve(s, &route);
}
