/*
 * The limits' pure parts (master-internal), apart so that the unit tests
 * can drive them without a running master: sshd's MaxStartups arithmetic
 * and the door's check of who sent a claim.
 */
#ifndef SOCKS5D_LIMITS_H
#define SOCKS5D_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct child;
struct conf;

/* SOCKS5_MAXSTARTUPS start:rate:full with n connections negotiating:
 * whether the next one is dropped, r being uniform in [0, 100).  Below
 * start never; from start the chance is rate %, rising linearly to 100 %
 * at full; at full and above always.  start 0: never. */
bool limits_startups_drop(unsigned n, unsigned start, unsigned rate,
    unsigned full, unsigned r);

/* Who sent a door message: the row whose session id is id and whose pid
 * is the kernel's word for the sender (SCM_CREDENTIALS).  DOOR_PENDING:
 * that session's pid is not known yet (its forker has not reported the
 * fork), ask again; DOOR_UNKNOWN: no such session, or another process's
 * (a forged or stale claim: ignored). */
enum door_claim { DOOR_OK, DOOR_PENDING, DOOR_UNKNOWN };
enum door_claim door_attribute(const struct child *rows, size_t n,
    int sender_pid, uint32_t id, size_t *row);

/* Whether row c may name a real client: its TCP peer, which the master
 * accepted itself, is a load balancer in conf's SOCKS5_PROXY_PROTOCOL,
 * and it has not named one before (one claim per session). */
bool door_real_client_allowed(const struct conf *conf, const struct child *c);

#endif
