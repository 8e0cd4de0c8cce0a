/*
 * Upstream health: which upstream SOCKS servers recently failed, shared by
 * the master with every worker (issue 9, "upstream health").
 *
 * The table is one page the master writes (master/health.c) and every
 * worker sees read-only: the master maps it read-write for itself with
 * MADV_DONTFORK, so no child inherits that mapping, and a second time
 * read-only MAP_SHARED from an O_RDONLY descriptor, so the mapping a child
 * inherits has no VM_MAYWRITE and cannot be made writable by mprotect.  A
 * worker learns of failures only through this page, and tells the master
 * of new ones with IPC_UPSTREAM_DOWN (common/ipc.h).
 *
 * Consistency is a seqlock: the master makes seq odd, writes, makes it
 * even.  A reader that sees an odd or changed seq tries again, a bounded
 * number of times; a torn read can only change which upstream is tried
 * first, never whether the rules permit a request.
 */
#ifndef SOCKS5D_HEALTH_H
#define SOCKS5D_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { HEALTH_PAGE_SIZE = 4096, HEALTH_ENTRIES = 160 };

struct health_entry {
	uint32_t gen;        /* configuration generation it belongs to */
	uint32_t line;       /* the socks4/socks5 line */
	uint32_t index;      /* upstream index in that line's proxy-list */
	uint32_t pad;
	int64_t until_ms;    /* CLOCK_MONOTONIC ms; down until then */
};

struct health_page {
	uint32_t seq;        /* seqlock: odd while the master writes */
	uint32_t gen;        /* current configuration generation */
	struct health_entry e[HEALTH_ENTRIES];
};

_Static_assert(sizeof(struct health_page) <= HEALTH_PAGE_SIZE,
    "the health table must fit one page");

/* CLOCK_MONOTONIC in milliseconds. */
int64_t health_now_ms(void);

/* For the upstreams 0..n-1 of the proxy line `line` of configuration
 * generation gen, set down[i] when the table marks upstream i down at
 * now_ms.  pg may be NULL (no table: none is down).  Returns 0, or
 * ERR_SHORT when no consistent read was had (down[] all false). */
int health_down_set(const struct health_page *pg, uint32_t gen,
    unsigned line, size_t n, bool *down, int64_t now_ms);

#endif
