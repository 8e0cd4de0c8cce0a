/*
 * The worker's side of its helpers (as OpenSSH's monitor_wrap.c is the
 * child's side of the monitor): each call opens a private channel through
 * a helper's door, sends one request defined in common/ipc.h, waits for
 * the answer within the caller's deadline and closes the channel.  Nothing
 * here trusts the helper's answer more than its codec allows.
 */
#ifndef SOCKS5D_WORKER_HELPER_WRAP_H
#define SOCKS5D_WORKER_HELPER_WRAP_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timespec;

/* Open a private channel through door, giving up at deadline (NULL: wait)
 * when the door's queue is full; 0, ERR_TIMEOUT, or ERR_EOF when the helper
 * is gone (the caller fails closed).  The client socket named by
 * helper_attribute goes with it: the helper counts channels per client
 * address with it (authd/helper.c), and per worker by the kernel's word. */
int helper_open(int door, const struct timespec *deadline, int *chan);

/* Once per worker: the socket of the client it serves (-1: none, as in
 * inetd mode with pipes). */
void helper_attribute(int client_fd);

/* authd's answer to one check. */
struct authd_verdict {
	bool ok;
	unsigned reason;       /* enum auth_reason (common/ipc.h) */
	bool throttled;        /* authd delayed the answer */
};

/*
 * Ask authd to check an RFC 1929 user name and password for the client on
 * client_fd (attached, so that authd reads the address from the socket).
 * Fills *v; returns 0, or an error when authd could not be asked or did
 * not answer before the deadline (fail closed: v->ok false).
 */
int authd_userpass(int door, int client_fd, const char *user,
    const char *pass, const struct timespec *deadline,
    struct authd_verdict *v);

/*
 * RFC 1413 through authd, in two steps so that the query runs alongside
 * the negotiation: authd_ident_start sends the query (the client's socket
 * attached) on a channel of its own, returned in *chan; authd_ident_collect
 * waits for the answer until deadline and closes the channel.  user (cap
 * >= 256) holds the identd user when *reason is AUTH_R_OK.
 */
int authd_ident_start(int door, int client_fd,
    const struct timespec *deadline, int *chan);
int authd_ident_collect(int chan, const struct timespec *deadline,
    char *user, size_t cap, unsigned *reason);

/*
 * Resolve name through the resolver helper.  Fills addrs (port set to
 * port) in the resolver's order; returns 0, or a SOCKS5 reply code > 0
 * (4: not found or no answer in time, 1: helper unavailable).
 */
int resolver_lookup(int door, const char *name, uint16_t port,
    struct sockaddr_storage *addrs, size_t max, size_t *n,
    const struct timespec *deadline);

#endif
