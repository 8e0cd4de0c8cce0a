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

/* Open a private channel through door; 0 or ERR_EOF when the helper is
 * gone (the caller fails closed). */
int helper_open(int door, int *chan);

/*
 * Ask authd to check an RFC 1929 user name and password for this client.
 * Sets *ok; returns 0, or an error when authd could not be asked or did
 * not answer before the deadline (fail closed: no access).
 */
int authd_userpass(int door, const struct sockaddr *client, const char *user,
    const char *pass, const struct timespec *deadline, bool *ok);

/*
 * Resolve name through the resolver helper.  Fills addrs (port set to
 * port) in the resolver's order; returns 0, or a SOCKS5 reply code > 0
 * (4: not found or no answer in time, 1: helper unavailable).
 */
int resolver_lookup(int door, const char *name, uint16_t port,
    struct sockaddr_storage *addrs, size_t max, size_t *n,
    const struct timespec *deadline);

#endif
