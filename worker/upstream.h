/*
 * Chaining (worker-internal): a request whose destination selects a
 * socks4/socks5 line is carried to an upstream SOCKS server of its
 * proxy-list (grammar 4.5; issue 9).
 */
#ifndef SOCKS5D_WORKER_UPSTREAM_H
#define SOCKS5D_WORKER_UPSTREAM_H

#include <stdbool.h>

struct rules_request;
struct rules_route;
struct session;

/* Upstreams a session tries at most (a longer proxy-list is cut). */
enum { UPSTREAM_TRY_MAX = 32 };

/*
 * Try the route's upstreams in list order (shuffled per session under
 * SOCKS5_BALANCE; those the master marks down skipped unless all are):
 * connect from the interface section's address, SOCKS5 greeting (+ RFC
 * 1929 with SOCKS5_USER/SOCKS5_PASSWD) or nothing for SOCKS4, then the
 * client's own command with its destination as sent.  The next upstream
 * is tried only when one cannot be reached, times out, or fails the
 * greeting or authentication; those are reported to the master.  The
 * reply to the request is final and is passed to the client (for BIND,
 * both replies).  On success s->dest_fd is the upstream connection, ready
 * for the relay; every answer has been audited (via, reason).  Returns 0,
 * or an error about the client connection.
 */
int upstream_serve(struct session *s, const struct rules_route *route);

/*
 * The proxy section for a CONNECT or BIND request (grammar 4.5, 5.1):
 * notes the route for the audit record and sets *chained.  When chained,
 * the request has been handled here: checked against the access section
 * (grammar 5.3: the name is not resolved, so only name patterns and -
 * can match it), refused with reply 2 or carried by upstream_serve, and
 * the return value is the caller's.  Direct: returns 0 and does nothing
 * else.
 */
int upstream_route(struct session *s, const struct rules_request *rq,
    bool *chained);

#endif
