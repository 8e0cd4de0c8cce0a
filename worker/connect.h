/*
 * Outgoing connections of a worker: name resolution and a non-blocking
 * connect bounded by a deadline (worker-internal).
 */
#ifndef SOCKS5D_WORKER_CONNECT_H
#define SOCKS5D_WORKER_CONNECT_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conf;
struct socks_addr;

enum { CONNECT_ADDRS_MAX = 8 };

/*
 * The addresses of a destination: the literal for ATYP_IPV4/IPV6, else the
 * resolver helper's answers (getaddrinfo's order, RFC 6724), at most max.
 * Returns 0, or a SOCKS5 reply code > 0 explaining the failure (name not
 * found or no answer before the deadline: 4).
 */
int connect_resolve(int resolver_door, const struct socks_addr *dst,
    struct sockaddr_storage *addrs, size_t max, size_t *n,
    const struct timespec *deadline);

/*
 * Connect a new TCP socket to peer before the deadline, from the local
 * address the interface section chooses for it (bound with
 * IP_BIND_ADDRESS_NO_PORT, so the port is picked at connect time and shared
 * across destinations).  Returns 0 with *fd_out set (non-blocking,
 * close-on-exec), or a SOCKS5 reply code > 0: 5 refused, 3 network
 * unreachable, 4 host unreachable or timed out, 1 anything else.
 */
int connect_open(const struct conf *conf, const struct sockaddr *peer,
    const struct timespec *deadline, int *fd_out);

#endif
