/*
 * Per-address penalties after worker crashes (master-internal).
 */
#ifndef SOCKS5D_PENALTY_H
#define SOCKS5D_PENALTY_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct penalty;

/* A table of at most size addresses, IPv6 keyed by /64 until
 * penalty_v6_prefix says otherwise. */
enum { PENALTY_V6_PREFIX_DEFAULT = 64 };
int penalty_new(size_t size, struct penalty **out);
void penalty_free(struct penalty *p);

/* How many leading bits of a native IPv6 address make its key
 * (SOCKS5_PENALTY_V6PREFIX); at start and on every reload. */
void penalty_v6_prefix(struct penalty *p, unsigned bits);

/* The key the table would file sa under (IPv4 as IPv4-mapped IPv6, a
 * native IPv6 address cut to the prefix): what "one client" means for
 * the per-source limits too.  false for a family other than IPv4/6. */
bool penalty_key(const struct penalty *p, const struct sockaddr *sa,
    uint8_t key[16]);

/* Whether a worker killed by sig is struck: only the signals a memory
 * corruption or a sandbox violation produces (SEGV BUS ILL ABRT SYS FPE). */
bool penalty_signal_counts(int sig);

/* Seconds the client's address is still blocked, 0 if it may connect. */
time_t penalty_check(struct penalty *p, const struct sockaddr *client);

/* Record a crash: the address is blocked for base_s << (strikes - 1),
 * at most max_s.  Returns the period set (0 with base_s 0: penalties off). */
time_t penalty_strike(struct penalty *p, const struct sockaddr *client,
    unsigned base_s, unsigned max_s);

#endif
