/*
 * The child side of a fork that becomes a worker (master-internal): either
 * forked by the master itself (TCP wrappers with rules, or no forker) or
 * by the forker (forker/forker.h).
 */
#ifndef SOCKS5D_SPAWN_H
#define SOCKS5D_SPAWN_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"

struct conf;
struct health_page;
struct sandbox;

/* Descriptors every worker inherits, whoever forks it. */
enum { SPAWN_INHERIT_MAX = 8 };

struct spawn_ctx {
	const struct conf *conf;
	const struct sandbox *sb;
	int authd_door;
	int resolver_door;
	int health_fd;                 /* worker_opts has the same three */
	int master_door;               /* master/door.c, -1: none */
	const struct health_page *health;
	uint32_t health_gen;
	bool relay_copy;
	bool wrap_rules;     /* the hosts_access tables hold rules */
	/* Kept through every sandbox: the audit file, syslog, the helper
	 * doors.  Another descriptor every worker must hold is one more line
	 * in master/helpers.c spawn_ctx_fill; the forker keeps the same
	 * list. */
	int inherit[SPAWN_INHERIT_MAX];
	size_t n_inherit;
};

/* In the child after the master's fork(), with the listen sockets already
 * closed: become the worker for client_fd and exit with its status. */
void spawn_worker(const struct spawn_ctx *ctx, int client_fd,
    const struct sockaddr_storage *client, uint32_t id)
    __attribute__((noreturn));

/* In a child of the forker, sandboxed and narrowed (sandbox_narrow): fds
 * are the IPC_FORK descriptors (client socket, then the relay pipes' c2d
 * read, c2d write, d2c read, d2c write); id is the IPC_FORK's session id,
 * the worker's name for its session on the master's door.  Serves the
 * client and exits with the worker's status. */
void spawn_forked(const struct spawn_ctx *ctx,
    const struct sockaddr_storage *client, const int fds[IPC_FORK_FDS],
    uint32_t id) __attribute__((noreturn));

#endif
