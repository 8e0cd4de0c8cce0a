/*
 * What a worker is handed, whoever forks it: the master itself (TCP
 * wrappers with rules, or no forker; master/spawn.c) or a forker
 * (forker/forker.h).
 */
#ifndef SOCKS5D_SPAWN_H
#define SOCKS5D_SPAWN_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ipc.h"
#include "worker/worker.h"

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
	int conf_sealed;     /* conf_load_sealed's memfd, for the image */
	int health_page_fd;  /* the health page, read-only, for the image */
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

/* A worker's options for session id from ctx (forker/forker.c). */
struct worker_opts spawn_worker_opts(const struct spawn_ctx *ctx,
    uint32_t id);

/* ctx->inherit from the descriptors above, the audit door and syslog
 * (forker/forker.c, which the master and the session image share). */
void spawn_inherit_fill(struct spawn_ctx *ctx);

struct relay_pipes;
struct worker_client;

/* Enter the worker sandbox keeping wc's socket, the pipes and inherit;
 * on failure writes the error record (the worker must not serve). */
int spawn_sandbox(const struct sandbox *sb, const struct worker_client *wc,
    const struct relay_pipes *pipes, const int *inherit, size_t n_inherit);

#endif
