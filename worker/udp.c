/*
 * RFC 1928 UDP ASSOCIATE (section 7).  The client gets a UDP socket of
 * ours (BND.ADDR/PORT in the reply) and sends datagrams to it, each with a
 * header naming its destination; we send the data on, and pass back what
 * the destinations answer, with a header naming the source.  The
 * association lives as long as the TCP connection that asked for it.
 *
 * Grammar 4.3 and 4.6: the client-side socket is bound to the address the
 * interface section picks for the client; each datagram is checked against
 * the access rules with command u (a refused one is dropped and audited)
 * and leaves from the address picked for its destination; datagrams from a
 * remote host are passed back only if the client has sent to that address
 * and port in this association.
 *
 * Globals: dgram, the datagram buffer (one session per worker process; in
 * .bss, it costs nothing until an association uses it).
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
#include "common/rd.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "worker/connect.h"
#include "worker/session.h"

enum {
	UDP_HDR_MAX = 4 + 1 + 255 + 2,   /* the largest RFC 1928 header */
	UDP_DATA_MAX = 65535,
	UDP_PEERS_MAX = 64,              /* destinations remembered for replies */
	UDP_OUT_MAX = 4,                 /* outgoing sockets (local addresses) */
	UDP_PORT_TRIES = 64,             /* SOCKS5_UDPPORTRANGE attempts */
};

static uint8_t dgram[UDP_HDR_MAX + UDP_DATA_MAX];

struct udp_out {
	int fd;
	int family;
	bool bound;                      /* bound to an interface address */
	struct sockaddr_storage local;
};

struct udp_assoc {
	struct session *s;
	int client_fd;                   /* the socket the client sends to */
	struct sockaddr_storage client;  /* where the client sends from */
	bool client_known;
	uint16_t client_port;            /* DST.PORT of the request, 0 = any */
	struct udp_out out[UDP_OUT_MAX];
	size_t n_out;
	struct sockaddr_storage peers[UDP_PEERS_MAX];
	size_t n_peers, next_peer;
	char cached_name[SOCKS_NAME_MAX + 1];
	struct sockaddr_storage cached_addr;
};

static bool
same_endpoint(const struct sockaddr *a, const struct sockaddr *b)
{
	return net_addr_same_host(a, b) && net_addr_port(a) == net_addr_port(b);
}

/* Bind fd to local, on a port of SOCKS5_UDPPORTRANGE when one is set. */
static int
bind_in_range(const struct session *s, int fd, struct sockaddr_storage *local)
{
	const struct conf_vars *v = conf_vars(s->conf);
	unsigned span, first;

	if (v->udp_port_lo == 0 && v->udp_port_hi == 0) {
		net_addr_set_port(local, 0);
		return bind(fd, (struct sockaddr *)local,
		    net_addr_len((struct sockaddr *)local)) == 0 ? 0 : ERR_SYS;
	}
	span = (unsigned)v->udp_port_hi - v->udp_port_lo + 1;
	first = (unsigned)getpid() % span;
	for (unsigned i = 0; i < span && i < UDP_PORT_TRIES; i++) {
		net_addr_set_port(local,
		    (uint16_t)(v->udp_port_lo + (first + i) % span));
		if (bind(fd, (struct sockaddr *)local,
		    net_addr_len((struct sockaddr *)local)) == 0)
			return 0;
	}
	return ERR_SYS;
}

/* The socket the client sends to: on the interface section's choice for
 * the client, else on the address the client reached us on. */
static int
client_socket(struct udp_assoc *ua, struct sockaddr_storage *bound)
{
	struct session *s = ua->s;
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int fd;

	if (s->client_sa == NULL)
		return ERR_SYS;
	if (!rules_interface(s->conf, s->client_sa, NULL,
	    net_addr_port(s->client_sa), &local) ||
	    local.ss_family != s->client_sa->sa_family) {
		if (getsockname(s->client->in_fd, (struct sockaddr *)&local,
		    &len) == -1)
			return ERR_SYS;
	}
	if ((fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return ERR_SYS;
	len = sizeof(*bound);
	if (bind_in_range(s, fd, &local) != 0 ||
	    getsockname(fd, (struct sockaddr *)bound, &len) == -1) {
		close(fd);
		return ERR_SYS;
	}
	ua->client_fd = fd;
	return 0;
}

/* The outgoing socket for dest: one per (family, local address). */
static int
out_socket(struct udp_assoc *ua, const struct sockaddr *dest)
{
	struct sockaddr_storage local;
	bool bound = rules_interface(ua->s->conf, dest, NULL,
	    net_addr_port(dest), &local) && local.ss_family == dest->sa_family;
	struct udp_out *o;

	for (size_t i = 0; i < ua->n_out; i++) {
		o = &ua->out[i];
		if (o->family == dest->sa_family && o->bound == bound &&
		    (!bound || net_addr_same_host((struct sockaddr *)&o->local,
		    (struct sockaddr *)&local)))
			return o->fd;
	}
	if (ua->n_out == UDP_OUT_MAX)
		return -1;
	o = &ua->out[ua->n_out];
	o->fd = socket(dest->sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (o->fd == -1)
		return -1;
	o->family = dest->sa_family;
	o->bound = bound;
	if (bound) {
		o->local = local;
		if (bind_in_range(ua->s, o->fd, &o->local) != 0) {
			close(o->fd);
			return -1;
		}
	}
	ua->n_out++;
	return o->fd;
}

static void
peer_remember(struct udp_assoc *ua, const struct sockaddr *dest)
{
	for (size_t i = 0; i < ua->n_peers; i++)
		if (same_endpoint((struct sockaddr *)&ua->peers[i], dest))
			return;
	memcpy(&ua->peers[ua->next_peer], dest, net_addr_len(dest));
	ua->next_peer = (ua->next_peer + 1) % UDP_PEERS_MAX;
	if (ua->n_peers < UDP_PEERS_MAX)
		ua->n_peers++;
}

static bool
peer_known(const struct udp_assoc *ua, const struct sockaddr *from)
{
	for (size_t i = 0; i < ua->n_peers; i++)
		if (same_endpoint((const struct sockaddr *)&ua->peers[i], from))
			return true;
	return false;
}

/* ruled: the access section decided (at line, 0 = default); otherwise a
 * built-in check did and the record names no rule. */
static void
audit_dropped(struct udp_assoc *ua, const char *dest, bool ruled,
    unsigned line, const char *reason)
{
	struct audit_rec rec = AUDIT_REC("request");
	char rule[300];

	/* A flood of these must not fill the disk: counted past a burst. */
	ua->s->flood.what = "UDP datagrams denied";
	ua->s->flood.cmd = "udp";
	if (!audit_limit_pass(&ua->s->flood))
		return;
	conf_rule_format(ua->s->conf, line, rule, sizeof(rule));
	rec.decision = "deny";
	rec.client = (struct sockaddr *)&ua->client;
	rec.version = SOCKS_V5;
	rec.cmd = "udp";
	rec.dest = dest;
	rec.rule = ruled ? rule : NULL;
	rec.reason = reason;
	rec.pid = getpid();
	(void)audit_write(&rec);
}

/* A datagram from the client: check, resolve, rule, send on. */
static void
from_client(struct udp_assoc *ua, const uint8_t *buf, size_t len,
    const struct sockaddr *from)
{
	struct session *s = ua->s;
	struct sockaddr_storage dest, unused;
	struct rules_request rq;
	struct rules_verdict verdict;
	struct socks_addr dst;
	char shown[SOCKS_NAME_MAX + 16];
	const uint8_t *data;
	socklen_t dlen;
	uint8_t frag;
	size_t n;
	struct rd r;
	int fd;

	/* Only the client's host may use the association; once it has
	 * sent, only from that port (RFC 1928 section 7). */
	if (!net_addr_same_host(from, s->client_sa) ||
	    (ua->client_port != 0 && net_addr_port(from) != ua->client_port) ||
	    (ua->client_known &&
	    !same_endpoint(from, (struct sockaddr *)&ua->client)))
		return;
	if (!ua->client_known) {
		memcpy(&ua->client, from, net_addr_len(from));
		ua->client_known = true;
	}
	rd_init(&r, buf, len);
	if (socks5_udp_parse(&r, &frag, &dst) != 0 || frag != 0)
		return;   /* malformed, or a fragment (not reassembled) */
	data = buf + r.off;
	n = rd_left(&r);
	socks_addr_format(&dst, shown, sizeof(shown));
	if (dst.atyp == ATYP_DOMAIN) {
		if (strcmp(dst.name, ua->cached_name) == 0) {
			dest = ua->cached_addr;
		} else {
			struct timespec deadline;
			size_t n_addrs;

			io_deadline(&deadline, conf_vars(s->conf)->neg_timeout_s);
			if (connect_resolve(s->opts->resolver_door, &dst, &dest,
			    1, &n_addrs, &deadline) != 0)
				return;
			snprintf(ua->cached_name, sizeof(ua->cached_name), "%s",
			    dst.name);
			ua->cached_addr = dest;
		}
		net_addr_set_port(&dest, dst.port);
	} else if (socks_addr_to_sockaddr(&dst, &dest, &dlen) != 0) {
		return;
	}
	if (net_addr_is_any((struct sockaddr *)&dest)) {
		/* session.h: sendto(0.0.0.0) reaches this host's loopback. */
		audit_dropped(ua, shown, false, 0, SESSION_UNSPECIFIED_REASON);
		return;
	}
	/* The association's question, asked again for this datagram's
	 * source and destination (grammar 4.6). */
	session_rules_request(s, &rq, &unused);
	rq.client = from;
	rq.dest.name = dst.atyp == ATYP_DOMAIN ? dst.name : NULL;
	rq.dest.addr = (struct sockaddr *)&dest;
	rq.dest.port = dst.port;
	rules_access(s->conf, &rq, &verdict);
	if (!verdict.permit) {
		audit_dropped(ua, shown, true, verdict.line,
		    "datagram denied by rule");
		return;
	}
	if ((fd = out_socket(ua, (struct sockaddr *)&dest)) == -1)
		return;
	if (sendto(fd, data, n, MSG_DONTWAIT, (struct sockaddr *)&dest,
	    net_addr_len((struct sockaddr *)&dest)) >= 0) {
		s->stats.bytes_out += n;
		peer_remember(ua, (struct sockaddr *)&dest);
	}
}

/* A datagram from a destination: back to the client with a header. */
static void
from_peer(struct udp_assoc *ua, size_t len, const struct sockaddr *from)
{
	uint8_t hdr[UDP_HDR_MAX];
	struct wr w;

	if (!ua->client_known || !peer_known(ua, from))
		return;
	wr_init(&w, hdr, sizeof(hdr));
	if (socks5_udp_put(&w, from) != 0 ||
	    w.off + len > sizeof(dgram))
		return;
	/* The data was read at offset UDP_HDR_MAX: put the header right
	 * before it and send both in one datagram. */
	memcpy(dgram + UDP_HDR_MAX - w.off, hdr, w.off);
	if (sendto(ua->client_fd, dgram + UDP_HDR_MAX - w.off, w.off + len,
	    MSG_DONTWAIT, (struct sockaddr *)&ua->client,
	    net_addr_len((struct sockaddr *)&ua->client)) >= 0)
		ua->s->stats.bytes_in += len;
}

static void
udp_relay(struct udp_assoc *ua)
{
	unsigned idle_s = conf_vars(ua->s->conf)->idle_timeout_min * 60;
	int timeout = idle_s == 0 ? -1 :
	    idle_s > 2000000 ? 2000000000 : (int)idle_s * 1000;

	for (;;) {
		struct pollfd pfds[2 + UDP_OUT_MAX];
		nfds_t n = 0;
		int pr;

		pfds[n++] = (struct pollfd){ .fd = ua->s->client->in_fd,
		    .events = POLLIN };
		pfds[n++] = (struct pollfd){ .fd = ua->client_fd,
		    .events = POLLIN };
		for (size_t i = 0; i < ua->n_out; i++)
			pfds[n++] = (struct pollfd){ .fd = ua->out[i].fd,
			    .events = POLLIN };
		pr = poll(pfds, n, timeout);
		if (pr == 0) {
			ua->s->reason = "idle timeout";
			return;
		}
		if (pr == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		/* The TCP connection carries nothing after the reply: any
		 * event there is its end (RFC 1928: the association ends
		 * with it). */
		if (pfds[0].revents != 0)
			return;
		for (nfds_t i = 1; i < n; i++) {
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			ssize_t got;

			if ((pfds[i].revents & POLLIN) == 0)
				continue;
			if (i == 1) {
				got = recvfrom(ua->client_fd, dgram,
				    sizeof(dgram), 0, (struct sockaddr *)&from,
				    &flen);
				if (got > 0)
					from_client(ua, dgram, (size_t)got,
					    (struct sockaddr *)&from);
			} else {
				got = recvfrom(pfds[i].fd, dgram + UDP_HDR_MAX,
				    UDP_DATA_MAX, 0, (struct sockaddr *)&from,
				    &flen);
				if (got >= 0)
					from_peer(ua, (size_t)got,
					    (struct sockaddr *)&from);
			}
		}
	}
}

int
session_udp(struct session *s)
{
	struct udp_assoc ua;
	struct sockaddr_storage bound, literal;
	struct rules_request rq;
	struct rules_verdict verdict;
	struct rules_route route;
	int rc;

	memset(&ua, 0, sizeof(ua));
	ua.s = s;
	ua.client_fd = -1;
	session_rules_request(s, &rq, &literal);
	/* Grammar 4.5: no UDP through an upstream proxy. */
	rules_route(s->conf, &rq.dest, &route);
	if (route.kind != ROUTE_DIRECT) {
		session_rule(s, route.line);
		s->reason = "UDP through an upstream proxy is not supported";
		return session_reply(s, false, REP_CMD_UNSUPPORTED, NULL);
	}
	rules_access(s->conf, &rq, &verdict);
	session_rule(s, verdict.line);
	if (!verdict.permit) {
		s->reason = "denied by rule";
		return session_reply(s, false, REP_NOT_ALLOWED, NULL);
	}
	/* DST.PORT names the port the client will send from, if it knows. */
	ua.client_port = s->req.dst.port;
	if (client_socket(&ua, &bound) != 0) {
		log_warn("UDP ASSOCIATE socket");
		s->reason = "cannot open the UDP relay socket";
		return session_reply(s, true, REP_GENERAL_FAILURE, NULL);
	}
	if ((rc = session_reply(s, true, REP_SUCCEEDED,
	    (struct sockaddr *)&bound)) == 0)
		udp_relay(&ua);
	close(ua.client_fd);
	for (size_t i = 0; i < ua.n_out; i++)
		close(ua.out[i].fd);
	return rc;
}
