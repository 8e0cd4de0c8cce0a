/*
 * One client session (worker-internal): the state session.c and bind.c
 * share.  A session is one struct passed by pointer; nothing is global.
 */
#ifndef SOCKS5D_WORKER_SESSION_H
#define SOCKS5D_WORKER_SESSION_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/audit.h"
#include "common/socks.h"
#include "conf/conf.h"
#include "relay/relay.h"
#include "worker/worker.h"

/* The largest negotiation message is a SOCKS4a request (8 + 256 + 256
 * bytes); the rest of the buffer holds data the client pipelined after its
 * request, which goes to the destination before the relay starts. */
enum { SESSION_INBUF = 2048 };

enum msg_kind { MSG_GREETING, MSG_REQUEST5, MSG_REQUEST4, MSG_USERPASS };

struct session {
	const struct conf *conf;
	const struct worker_client *client;
	const struct worker_opts *opts;
	const struct sockaddr *client_sa;   /* NULL when unknown (inetd pipe);
	                                     * behind a load balancer, the
	                                     * client its PROXY header named */
	const struct sockaddr *lb_sa;       /* that load balancer, or NULL */
	struct sockaddr_storage real_client;  /* client_sa points here then */
	bool no_close_record;               /* health check or worker ban */
	struct audit_limit flood;           /* denied UDP datagrams or stray
	                                     * BIND peers: past a burst only
	                                     * counted (audit.h) */
	bool door_told;                     /* the master knows we negotiated */
	struct timespec started;            /* CLOCK_MONOTONIC */
	struct timespec deadline;           /* negotiation deadline */
	uint8_t in[SESSION_INBUF];          /* bytes read, not yet consumed */
	size_t in_len;
	int version;
	uint8_t method;
	const char *user;                   /* NULL, or user_buf */
	char user_buf[SOCKS_NAME_MAX + 1];
	struct socks_request req;
	char dest_str[SOCKS_NAME_MAX + 16];
	char rule[300];
	const char *route;                  /* "direct", "socks4", "socks5" */
	char route_rule[300];               /* proxy line that chose it, or "" */
	char via[300];                      /* the upstream that answered the
	                                     * request, when chained */
	const char *reason;                 /* why the session ended early */
	char why[1024];                     /* reason text built for it */
	bool denied;                        /* the rules refused the request */
	uint8_t rep4;                       /* SOCKS4 failure code, 0 = 91 */
	/* identd (grammar 2 step 3), asked through authd at session start. */
	bool ident_asked;
	int ident_chan;                     /* answer pending; -1 otherwise */
	struct timespec ident_deadline;
	unsigned ident_reason;              /* enum auth_reason */
	char ident_user[256];
	bool ident_used;                    /* s->user is the identd user */
	int dest_fd;
	struct relay_pipes *pipes;
	struct relay_stats stats;
};

/* Parse one message of the given kind from the input buffer, reading more
 * from the client until it is complete, malformed, or the negotiation
 * deadline passes; the message's bytes are then consumed (and wiped). */
int session_recv(struct session *s, enum msg_kind kind, void *out);

/* Send w's bytes to the client within the negotiation deadline. */
struct wr;
int session_send(struct session *s, const struct wr *w);

/*
 * The PROXY protocol step (worker/proxyhdr.c), before any SOCKS byte:
 * when the TCP peer is listed in SOCKS5_PROXY_PROTOCOL, read its header
 * within the negotiation deadline and make the client it names
 * s->client_sa (the peer becomes s->lb_sa), then apply the ban section to
 * that client.  0: go on (also for a peer that is not listed: nothing is
 * read).  SESSION_PROXY_LOCAL: a health check, end quietly.  ERR_DENIED:
 * banned, the ban record written.  Other errors: no valid header, with
 * s->reason saying why (the close record explains it).
 */
enum { SESSION_PROXY_LOCAL = 1 };
int session_proxy_header(struct session *s);

/* The master's door (worker/door_wrap.c; master/door.c says what the
 * master trusts).  session_door_real_client: after a PROXY header, ask
 * the master whether the real client may be served (its penalty and
 * per-source limits); 0, or ERR_DENIED with its `ban` record written, or
 * ERR_SYS when the master did not answer (fail closed).
 * session_door_user: with SOCKS5_MAXCHILD_PER_USER and s->user known,
 * 0 or ERR_DENIED after the refusal reply (2, "not allowed") and its
 * `request` record.  session_door_negotiated: the client has finished
 * negotiating (SOCKS5_MAXSTARTUPS); said once, never waits.  Each does
 * nothing without a door (-i). */
int session_door_real_client(struct session *s);
/* A refusal before any SOCKS byte was parsed, written as the master
 * writes one at accept (`ban`, decision deny, rule, reason) plus `lb`;
 * no `close` record follows.  Returns ERR_DENIED. */
int session_worker_ban(struct session *s, const char *rule,
    const char *reason);
int session_door_user(struct session *s);
void session_door_negotiated(struct session *s);

/* RFC 1928 method selection (worker/negotiate.c), then RFC 1929 when that
 * method was chosen.  0 when the client may send its request; a refusal
 * has been answered and audited (ERR_DENIED). */
int session_negotiate5(struct session *s);

/* RFC 1961 (worker/rfc1961.c), once method 0x01 was chosen: relay the
 * context establishment and the protection-level negotiation between the
 * client and authd.  0 with s->user the authenticated name; otherwise the
 * session has been refused (failure message, audit record, s->reason). */
int session_gssapi(struct session *s);

/* Grammar 2 step 3 (worker/negotiate.c): start the identd query through
 * authd when an answer could change a decision; then, with the request
 * read and method n chosen, use its answer (SOCKS4 under the demand: 92 or
 * 93 set in s->rep4 and ERR_DENIED, audited, reply left to the caller). */
void session_ident_start(struct session *s);
int session_ident_apply(struct session *s);

/* Grammar 2 step 2 for SOCKS4 (method n): whether the auth section lets
 * this client through; sets s->rule to the deciding line. */
bool session_v4_auth_allows(struct session *s);

/* Write the request record, then send the reply it explains (SPEC: the
 * record comes first).  rep5 is the SOCKS5 code; SOCKS4 gets 90 for
 * success and 91 for every failure.  bound is BND.ADDR (NULL: zeros). */
int session_reply(struct session *s, bool permit, uint8_t rep5,
    const struct sockaddr *bound);

/*
 * Destinations 0.0.0.0, :: and ::ffff:0.0.0.0 are refused for CONNECT and
 * for UDP datagrams, whatever the rules say, whether sent as an address or
 * reached through a name: Linux connects (and sends) to them as to the
 * host's own loopback (or, from a socket bound by an interface line, to
 * that address), which the rules never saw, so `deny - - - 127. - -`
 * would not stop them (the class of Dante's CVE-2024-54662).  BIND is
 * different: there DST names the expected peer and 0.0.0.0 means any.
 * session_refuse_unspecified audits the request with this reason and
 * answers reply 2 (SOCKS4: 91).
 */
#define SESSION_UNSPECIFIED_REASON "unspecified destination address"
int session_refuse_unspecified(struct session *s);

/* Record the proxy section's answer (grammar 4.5) for the audit record:
 * s->route and s->route_rule. */
struct rules_route;
void session_route_note(struct session *s, const struct rules_route *route);

/* s->rule as "FILE:LINE", or "default" for line 0. */
void session_rule(struct session *s, unsigned line);

/* The command pattern bit of a request's CMD byte. */
enum conf_cmd session_cmd_bit(uint8_t cmd);

/* The access-control question for this session's request: client,
 * method, command, user, and DST as sent (for an address, its sockaddr is
 * put in *literal and rq->dest.addr points there; a name is left
 * unresolved for the caller, grammar 5). */
void session_rules_request(const struct session *s, struct rules_request *rq,
    struct sockaddr_storage *literal);

/*
 * RFC 1928 BIND (and SOCKS4 BIND): check the rules, listen on the address
 * the interface section picks for the expected peer, send the first
 * reply, accept the peer (only DST.ADDR unless it is 0.0.0.0), send the
 * second reply.  On success s->dest_fd is the peer's connection, ready
 * for the relay; a refusal has been answered and audited.
 */
int session_bind(struct session *s);

/* RFC 1928 UDP ASSOCIATE (worker/udp.c): check the request, open the
 * client-side socket, reply, relay datagrams until the TCP connection
 * ends.  Returns when the association is over (s->dest_fd stays -1). */
int session_udp(struct session *s);

#endif
