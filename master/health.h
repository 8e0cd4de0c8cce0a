/*
 * Upstream health, the master's side (master-internal): the report socket
 * every worker inherits, and the writable view of the shared table
 * (common/health.h says how the page is shared read-only).
 */
#ifndef SOCKS5D_MASTER_HEALTH_H
#define SOCKS5D_MASTER_HEALTH_H

#include <stdint.h>

#include "common/health.h"

struct conf;

struct health {
	struct health_page *rw;        /* ours only (MADV_DONTFORK) */
	const struct health_page *ro;  /* what children inherit */
	int master_fd;                 /* reports arrive here (polled) */
	int worker_fd;                 /* every worker keeps this end */
	int page_fd;                   /* read-only, for the session image */
	uint32_t gen;                  /* configuration generation */
	int64_t drop_logged_ms;        /* rate limit of the "dropped" line */
	unsigned dropped;              /* reports dropped since then */
};

/* At start: the socketpair and the page.  0, or ERR_SYS (logged). */
int health_open(struct health *h);

/* A reload: a new generation, and the table forgets every upstream. */
void health_reload(struct health *h);

/* Read the queued reports (a bounded number per call), validate each
 * against conf, record the valid ones for SOCKS5_UPSTREAM_RETRY seconds;
 * anything else is dropped with a rate-limited log line.  Never fails. */
void health_reports(struct health *h, const struct conf *conf);

#endif
