/*
 * Upstream health, the master's side.  Workers report an upstream they
 * could not use (IPC_UPSTREAM_DOWN); the master records it in the shared
 * page for SOCKS5_UPSTREAM_RETRY seconds, and new sessions skip it.
 *
 * Why a hijacked worker can harm no other session beyond routing
 * preference: the report socket carries only this one fixed-size message,
 * which names a (line, index) that must exist in the current
 * configuration, so the most a worker can do is mark valid upstreams down
 * for RETRY seconds.  A marked upstream is skipped, not refused: when every
 * upstream of a line is down, every one is tried again (worker/upstream.c),
 * so no request is denied or sent anywhere the configuration does not
 * name.  The page itself is read-only in every child (common/health.h),
 * and the master parses nothing else from this socket; a flood is drained
 * a bounded number of messages per wake-up and never ends the master.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/rd.h"
#include "conf/conf.h"
#include "master/health.h"

/* Reports read per wake-up, so a flood cannot starve accept or reaping. */
enum { HEALTH_BURST = 64 };
/* At most one "dropped" log line this often. */
enum { HEALTH_DROP_LOG_MS = 10000 };

int
health_open(struct health *h)
{
	char path[64];
	void *rw, *ro;
	int sv[2], mfd, rfd;

	memset(h, 0, sizeof(*h));
	h->master_fd = h->worker_fd = h->page_fd = -1;
	h->gen = 1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		log_warn("health: socketpair");
		return ERR_SYS;
	}
	if ((mfd = memfd_create("socks5d-health", MFD_CLOEXEC)) == -1 ||
	    ftruncate(mfd, HEALTH_PAGE_SIZE) == -1) {
		log_warn("health: memfd");
		goto fail_fd;
	}
	rw = mmap(NULL, HEALTH_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    mfd, 0);
	if (rw == MAP_FAILED) {
		log_warn("health: mmap");
		goto fail_fd;
	}
	/* No child (worker, spare, helper) inherits the writable view. */
	if (madvise(rw, HEALTH_PAGE_SIZE, MADV_DONTFORK) == -1) {
		log_warn("health: madvise");
		goto fail_map;
	}
	/* The children's view comes from a read-only descriptor: the mapping
	 * then has no VM_MAYWRITE, and mprotect cannot make it writable. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	if ((rfd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("health: %s", path);
		goto fail_map;
	}
	ro = mmap(NULL, HEALTH_PAGE_SIZE, PROT_READ, MAP_SHARED, rfd, 0);
	if (ro == MAP_FAILED) {
		log_warn("health: mmap read-only");
		close(rfd);
		goto fail_map;
	}
	/* Kept: an exec'd session image maps the page from it, read-only
	 * the same way. */
	h->page_fd = rfd;
	close(mfd);
	h->rw = rw;
	h->ro = ro;
	h->master_fd = sv[0];
	h->worker_fd = sv[1];
	h->rw->gen = h->gen;
	return 0;
fail_map:
	munmap(rw, HEALTH_PAGE_SIZE);
fail_fd:
	if (mfd != -1)
		close(mfd);
	close(sv[0]);
	close(sv[1]);
	return ERR_SYS;
}

static void
write_begin(struct health_page *pg)
{
	__atomic_store_n(&pg->seq, pg->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void
write_end(struct health_page *pg)
{
	__atomic_store_n(&pg->seq, pg->seq + 1, __ATOMIC_RELEASE);
}

void
health_reload(struct health *h)
{
	if (h->rw == NULL)
		return;
	h->gen++;
	write_begin(h->rw);
	memset(h->rw->e, 0, sizeof(h->rw->e));
	__atomic_store_n(&h->rw->gen, h->gen, __ATOMIC_RELAXED);
	write_end(h->rw);
}

/* Mark (line, index) down until `until`: its own entry, else a free or
 * expired one, else the one that expires first. */
static bool
health_mark(struct health *h, uint32_t line, uint32_t index, int64_t now,
    int64_t until)
{
	struct health_entry *e = NULL, *slot = NULL;
	bool was_down = false, slot_live = true;

	for (size_t i = 0; i < HEALTH_ENTRIES; i++) {
		struct health_entry *x = &h->rw->e[i];
		bool live = x->gen == h->gen && x->until_ms > now;

		if (x->gen == h->gen && x->line == line && x->index == index) {
			e = x;
			was_down = live;
			break;
		}
		/* The first free slot, else the live one expiring first. */
		if (!slot_live)
			continue;
		if (!live || slot == NULL || x->until_ms < slot->until_ms) {
			slot = x;
			slot_live = live;
		}
	}
	if (e == NULL)
		e = slot;
	write_begin(h->rw);
	__atomic_store_n(&e->gen, h->gen, __ATOMIC_RELAXED);
	__atomic_store_n(&e->line, line, __ATOMIC_RELAXED);
	__atomic_store_n(&e->index, index, __ATOMIC_RELAXED);
	__atomic_store_n(&e->until_ms, until, __ATOMIC_RELAXED);
	write_end(h->rw);
	return was_down;
}

static void
health_dropped(struct health *h, const char *why)
{
	int64_t now = health_now_ms();

	h->dropped++;
	if (h->drop_logged_ms != 0 &&
	    now - h->drop_logged_ms < HEALTH_DROP_LOG_MS)
		return;
	log_warnx("upstream health: dropped %u invalid report(s) (last: %s)",
	    h->dropped, why);
	h->dropped = 0;
	h->drop_logged_ms = now;
}

void
health_reports(struct health *h, const struct conf *conf)
{
	static const struct timespec now_deadline = { 0, 0 };
	uint8_t msg[IPC_UPSTREAM_DOWN_LEN];

	if (h->master_fd == -1)
		return;
	for (int i = 0; i < HEALTH_BURST; i++) {
		uint32_t gen, line;
		uint16_t index;
		size_t len;
		struct rd r;
		int64_t now;
		unsigned retry;
		int rc;

		/* A deadline in the past: poll without waiting. */
		rc = ipc_recv(h->master_fd, IPC_UPSTREAM_DOWN, FROM_WORKER, msg,
		    sizeof(msg), &len, NULL, &now_deadline);
		if (rc == ERR_TIMEOUT || rc == ERR_EOF)
			return;
		if (rc == ERR_SYS) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("upstream health: recv");
			return;
		}
		if (rc != 0 || len != IPC_UPSTREAM_DOWN_LEN) {
			health_dropped(h, "malformed");
			continue;
		}
		rd_init(&r, msg, len);
		if (rd_u32be(&r, &gen) != 0 || rd_u32be(&r, &line) != 0 ||
		    rd_u16be(&r, &index) != 0 || rd_end(&r) != 0) {
			health_dropped(h, "malformed");
			continue;
		}
		if (gen != h->gen) {
			/* A worker still running with the rules before a
			 * reload: its line numbers mean nothing now. */
			health_dropped(h, "an earlier configuration");
			continue;
		}
		if (index >= rules_route_upstreams(conf, line)) {
			health_dropped(h, "no such proxy line or upstream");
			continue;
		}
		retry = conf_vars(conf)->upstream_retry_s;
		if (retry == 0)
			continue;
		now = health_now_ms();
		if (!health_mark(h, line, index, now, now + (int64_t)retry * 1000))
			log_info("upstream %u of line %u failed; skipped for "
			    "%u s", (unsigned)index + 1, line, retry);
	}
}
