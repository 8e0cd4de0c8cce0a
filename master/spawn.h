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
	/* Kept through every sandbox: the audit door, syslog, the helper
	 * doors (spawn_inherit_fill, forker/forker.h).  Another descriptor
	 * every worker must hold is one more line there, and, for the
	 * session image, one more enum ipc_image_fd (common/ipc.h), a line
	 * in master/image.c's image_fds and a check in forker/image.c. */
	int inherit[SPAWN_INHERIT_MAX];
	size_t n_inherit;
};

/* In the child after the master's fork(), with the listen sockets already
 * closed: become the worker for client_fd and exit with its status. */
void spawn_worker(const struct spawn_ctx *ctx, int client_fd,
    const struct sockaddr_storage *client, uint32_t id)
    __attribute__((noreturn));

struct relay_pipes;
struct worker_client;

/* Enter the worker sandbox keeping wc's socket, the pipes and inherit;
 * on failure writes the error record (the worker must not serve). */
int spawn_sandbox(const struct sandbox *sb, const struct worker_client *wc,
    const struct relay_pipes *pipes, const int *inherit, size_t n_inherit);

#endif
