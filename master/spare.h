/*
 * Spare workers (master-internal): processes forked and sandboxed before
 * any client arrives, each waiting on its own socketpair for the master to
 * hand it one accepted client (IPC_CLIENT).  Still one client per process;
 * the fork just happens before the client is there, not while it waits.
 */
#ifndef SOCKS5D_SPARE_H
#define SOCKS5D_SPARE_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct spawn_ctx;

enum { SPARES_MAX = 4 };

struct spare_pool {
	struct { pid_t pid; int chan; } spares[SPARES_MAX];
	size_t n;
};

/* Fork one spare; it enters its sandbox at once, which closes every
 * descriptor of the master it does not need.  Returns 0 or ERR_SYS. */
int spare_start(struct spare_pool *pool, const struct spawn_ctx *ctx);

/* Hand client_fd to a spare.  On success returns true and the serving
 * worker's pid; the spare leaves the pool.  False when the pool is empty
 * or the spare is gone (the caller forks a worker the usual way). */
bool spare_hand(struct spare_pool *pool, int client_fd,
    const struct sockaddr_storage *client, pid_t *pid);

/* Retire every spare (after a reload, or a helper restart: they hold the
 * old configuration and doors).  Their channels close; each exits 0. */
void spare_retire_all(struct spare_pool *pool);

/* Whether pid is a spare of the pool (and remove it: it exited). */
bool spare_reaped(struct spare_pool *pool, pid_t pid);

#endif
