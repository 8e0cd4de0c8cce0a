/*
 * relay: moves bytes between the client and the destination (or upstream
 * proxy) until both directions are done.  splice(2) through one pipe per
 * direction, so payload pages move between sockets without being copied to
 * user space; read/write where splice is refused for an fd type.
 */
#ifndef SOCKS5D_RELAY_H
#define SOCKS5D_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The two pipes of a session, made by relay_pipes_open before the worker
 * drops privileges: pipe buffers are charged to the user who creates them,
 * and an unprivileged user past pipe-user-pages-soft gets one-page pipes. */
struct relay_pipes {
	int c2d[2];   /* client -> destination: [0] read end, [1] write end */
	int d2c[2];
};

int relay_pipes_open(struct relay_pipes *pipes);
void relay_pipes_close(struct relay_pipes *pipes);

struct relay_params {
	int client_in;          /* read from the client */
	int client_out;         /* write to the client (== client_in for a socket) */
	int dest_fd;            /* destination or upstream, a connected socket */
	unsigned idle_timeout_s; /* 0: no idle limit */
	bool force_copy;        /* read/write instead of splice (tests, diagnosis) */
	const uint8_t *early;   /* client bytes read before the relay started */
	size_t early_len;       /* (pipelined data): sent to dest first */
};

struct relay_stats {
	uint64_t bytes_out;     /* client -> destination */
	uint64_t bytes_in;      /* destination -> client */
};

/*
 * Relay until both directions have seen EOF and delivered everything (each
 * EOF is passed on as shutdown(SHUT_WR) on the other side), a side fails,
 * or nothing moved for idle_timeout_s.  Sets the fds non-blocking.  Returns
 * 0 for a clean end, ERR_TIMEOUT for the idle limit, ERR_EOF when a peer
 * reset or vanished, ERR_SYS for a local failure; *stats is filled in every
 * case.
 */
int relay_run(const struct relay_params *params, struct relay_pipes *pipes,
    struct relay_stats *stats);

#endif
