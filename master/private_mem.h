/*
 * Memory of the master's that no process it forks may read (README
 * "Security model"): the table of which worker serves which client and the
 * penalty table hold every client's address.
 */
#ifndef SOCKS5D_PRIVATE_MEM_H
#define SOCKS5D_PRIVATE_MEM_H

#include <stddef.h>

/*
 * n * size zeroed bytes in a mapping of their own marked MADV_WIPEONFORK:
 * every child forked afterwards (workers, the forker, the helpers) sees
 * the range zero-filled instead of a copy, so none needs code of its own to
 * forget it, and fork copies nothing of it.  NULL on overflow, when out of
 * memory, or on a kernel without MADV_WIPEONFORK (before 4.14): the caller
 * fails as for ENOMEM rather than hand the table to every worker.
 */
void *private_calloc(size_t n, size_t size);

/* Grow (or shrink) a private_calloc block from old_n to n elements of
 * size, keeping the first min(old_n, n); the old block is wiped and
 * unmapped.  NULL (old left intact) on failure. */
void *private_realloc(void *old, size_t old_n, size_t n, size_t size);

/* Wipe and unmap a block of n elements of size (NULL: nothing). */
void private_free(void *p, size_t n, size_t size);

#endif
