/*
 * The child side of the master's fork (master-internal).
 */
#ifndef SOCKS5D_SPAWN_H
#define SOCKS5D_SPAWN_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct health_page;
struct sandbox;

struct spawn_ctx {
	const struct conf *conf;
	const struct sandbox *sb;
	int authd_door;
	int resolver_door;
	int health_fd;                 /* worker_opts has the same three */
	const struct health_page *health;
	uint32_t health_gen;
	bool relay_copy;
	bool wrap_rules;     /* the hosts_access tables hold rules */
};

/* In the child after fork(), with the listen sockets already closed:
 * become the worker for client_fd and exit with its status. */
void spawn_worker(const struct spawn_ctx *ctx, int client_fd,
    const struct sockaddr_storage *client) __attribute__((noreturn));

/* In the child after fork(): become a spare worker (master/spare.h) that
 * waits on chan for its client, then serves it; exits with its status. */
void spawn_spare(const struct spawn_ctx *ctx, int chan)
    __attribute__((noreturn));

#endif
