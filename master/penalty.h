/*
 * Per-address penalties after worker crashes (master-internal).
 */
#ifndef SOCKS5D_PENALTY_H
#define SOCKS5D_PENALTY_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct penalty;

/* A table of at most size addresses. */
int penalty_new(size_t size, struct penalty **out);
void penalty_free(struct penalty *p);

/* Seconds the client's address is still blocked, 0 if it may connect. */
time_t penalty_check(struct penalty *p, const struct sockaddr *client);

/* Record a crash: the address is blocked for base_s << (strikes - 1),
 * at most max_s.  Returns the period set (0 with base_s 0: penalties off). */
time_t penalty_strike(struct penalty *p, const struct sockaddr *client,
    unsigned base_s, unsigned max_s);

#endif
