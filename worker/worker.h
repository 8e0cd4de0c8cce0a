/*
 * worker: serves one client connection from the first byte to the end of
 * the relay.  The master forks one per accepted connection and calls
 * worker_serve in the child; in inetd mode (-i) it is called on stdin and
 * stdout directly.
 */
#ifndef SOCKS5D_WORKER_H
#define SOCKS5D_WORKER_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

struct conf;
struct health_page;
struct relay_pipes;

/* Exit statuses of a worker process; the master reads them (STYLE 5). */
enum worker_exit {
	WORKER_EXIT_OK = 0,        /* session ran and ended normally */
	WORKER_EXIT_CLIENT = 1,    /* client error: malformed, timed out, gone */
	WORKER_EXIT_DENIED = 2,    /* refused by the configuration */
	WORKER_EXIT_INTERNAL = 3,  /* our failure (resources, set-up) */
};

struct worker_client {
	int in_fd;                     /* read from the client */
	int out_fd;                    /* write to the client; == in_fd for a socket */
	struct sockaddr_storage addr;  /* the client's address and port */
	bool have_addr;                /* false when stdin is not a socket */
};

struct worker_opts {
	bool relay_copy;               /* relay with read/write, not splice */
	int authd_door;                /* -1: no authd, method 0x02 not offered */
	int resolver_door;             /* -1: no resolver, names fail (reply 1) */
	/* Upstream health (common/health.h): the report socket (-1: none),
	 * the read-only table (NULL: none) and the configuration generation
	 * both are about. */
	int health_fd;
	const struct health_page *health;
	uint32_t health_gen;
	/* The master's door (master/door.c, -1: none, as under -i) and
	 * this session's id there. */
	int master_door;
	uint32_t session_id;
};

/* Serve the client and return an enum worker_exit value.  Writes the
 * request and close audit records.  pipes were made before the sandbox
 * (relay_pipes_open); worker_serve closes them, not the client fds. */
int worker_serve(const struct conf *conf, const struct worker_client *client,
    const struct worker_opts *opts, struct relay_pipes *pipes);

#endif
