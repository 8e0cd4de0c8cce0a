/*
 * socksbench sessions / hold: many short SOCKS5 sessions from one epoll
 * loop.
 *
 * A session is what the issue counts: connect, greeting (no-auth only),
 * CONNECT to the echo server, a 64-byte round trip, close -- the client
 * closes first, so its TIME_WAIT lands on the client's own addresses
 * (127.0.0.2-9) and the proxy's outgoing connections have the server's
 * ephemeral port range to themselves.  Each step waits for the server's
 * answer before sending the next message, as a real client does; nothing is
 * pipelined, because some servers (microsocks) assume one read is one
 * message.
 *
 * `hold` runs the same steps but keeps every session open after its echo,
 * then samples the server tree's PSS and the kernel's memory, so the cost
 * of one idle session is (held - before) / count.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/sb.h"

enum step {
	STEP_FREE = 0,
	STEP_CONNECT, /* non-blocking connect in progress */
	STEP_METHOD,  /* greeting sent, want VER METHOD */
	STEP_REPLY,   /* CONNECT sent, want the reply */
	STEP_ECHO,    /* payload sent, want it back */
	STEP_HELD,    /* hold: open and idle */
};

enum fail_reason {
	F_SOCKET,    /* socket/bind/connect failed locally */
	F_CONNECT,   /* the proxy refused or reset the TCP connection */
	F_EOF,       /* the server closed mid-session */
	F_IO,        /* read/write error (reset) mid-session */
	F_REFUSED,   /* method or CONNECT refused (REP != 0) */
	F_PROTO,     /* malformed SOCKS reply */
	F_MISMATCH,  /* echo came back different */
	F_TIMEOUT,   /* session exceeded --timeout-ms */
	F_UNFINISHED, /* still running when --max-seconds ran out */
	F_NOTSTARTED, /* never started before --max-seconds ran out */
	F_DROPPED,   /* hold: the server closed an idle session */
	F_COUNT
};

static const char *const fail_names[F_COUNT] = {
	"socket", "connect", "eof", "io", "refused", "proto", "mismatch",
	"timeout", "unfinished", "notstarted", "dropped",
};

struct sess {
	int fd;
	enum step step;
	uint32_t id;
	uint64_t t0;       /* connect() issued */
	uint64_t deadline;
	uint8_t out[32 + SB_PAYLOAD];
	size_t out_len, out_off;
	uint8_t in[300];   /* largest reply: 4 + 1 + 255 + 2 */
	size_t in_len, in_want;
};

struct run {
	const struct sb_opts *o;
	bool hold;
	int ep;
	struct sess *slots;
	int nslots;
	int *free_idx;     /* stack of free slot indices */
	int nfree;
	int started, ok, failed, in_flight, held;
	uint32_t fails[F_COUNT];
	uint32_t *lat_us;  /* one per successful session */
};

static void
sess_release(struct run *r, struct sess *s)
{
	if (s->fd >= 0)
		close(s->fd); /* also removes it from the epoll set */
	s->fd = -1;
	s->step = STEP_FREE;
	r->free_idx[r->nfree++] = (int)(s - r->slots);
}

static void
sess_fail(struct run *r, struct sess *s, enum fail_reason why)
{
	if (s->step == STEP_HELD)
		r->held--;
	else
		r->in_flight--;
	r->failed++;
	r->fails[why]++;
	sess_release(r, s);
}

static void
sess_ok(struct run *r, struct sess *s)
{
	uint64_t us = sb_now_us() - s->t0;
	r->lat_us[r->ok++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	r->in_flight--;
	if (r->hold) {
		s->step = STEP_HELD;
		r->held++;
	} else {
		sess_release(r, s);
	}
}

/* Queue the next message and the length of the answer it expects. */
static void
sess_send(struct sess *s, enum step next, const void *msg, size_t len,
    size_t want)
{
	memcpy(s->out, msg, len);
	s->out_len = len;
	s->out_off = 0;
	s->in_len = 0;
	s->in_want = want;
	s->step = next;
}

static void
sess_send_payload(struct sess *s)
{
	uint8_t payload[SB_PAYLOAD];
	/* Per-session bytes, so data crossing sessions would show. */
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(s->id * 7u + i);
	sess_send(s, STEP_ECHO, payload, sizeof(payload), sizeof(payload));
}

/* A full answer for the current step is in s->in.  Returns false when the
 * session ended (ok or failed). */
static bool
sess_advance(struct run *r, struct sess *s)
{
	uint8_t req[32];
	size_t len;

	switch (s->step) {
	case STEP_METHOD:
		if (s->in[0] != 5) {
			sess_fail(r, s, F_PROTO);
			return false;
		}
		if (s->in[1] != 0) {
			sess_fail(r, s, F_REFUSED);
			return false;
		}
		len = sb_socks5_request(&r->o->dest, req, sizeof(req));
		sess_send(s, STEP_REPLY, req, len, 5);
		return true;
	case STEP_REPLY:
		if (s->in_want == 5) {
			size_t full = sb_socks5_reply_len(s->in);
			if (full == 0) {
				sess_fail(r, s, F_PROTO);
				return false;
			}
			if (s->in[1] != 0) {
				sess_fail(r, s, F_REFUSED);
				return false;
			}
			s->in_want = full; /* read the bound address too */
			if (full > 5)
				return true;
		}
		sess_send_payload(s);
		return true;
	case STEP_ECHO:
		if (memcmp(s->in, s->out, SB_PAYLOAD) != 0) {
			sess_fail(r, s, F_MISMATCH);
			return false;
		}
		sess_ok(r, s);
		return false;
	default:
		return false;
	}
}

/* Edge-triggered: do everything the socket allows now.  Each pass of the
 * loop either moves bytes or returns, and a session has a fixed number of
 * bytes to move, so the loop is bounded. */
static void
sess_drive(struct run *r, struct sess *s)
{
	for (;;) {
		if (s->step == STEP_CONNECT) {
			int err = 0;
			socklen_t elen = sizeof(err);
			if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err,
			    &elen) != 0 || err != 0) {
				sess_fail(r, s, F_CONNECT);
				return;
			}
			if (r->o->have_proxy) {
				static const uint8_t greeting[3] = { 5, 1, 0 };
				sess_send(s, STEP_METHOD, greeting,
				    sizeof(greeting), 2);
			} else {
				sess_send_payload(s);
			}
		}
		if (s->out_off < s->out_len) {
			ssize_t n = write(s->fd, s->out + s->out_off,
			    s->out_len - s->out_off);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n <= 0) {
				sess_fail(r, s, F_IO);
				return;
			}
			s->out_off += (size_t)n;
			continue;
		}
		if (s->step == STEP_HELD) {
			uint8_t junk[64];
			ssize_t n = read(s->fd, junk, sizeof(junk));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			/* EOF, a reset or stray bytes: the session is gone. */
			sess_fail(r, s, F_DROPPED);
			return;
		}
		ssize_t n = read(s->fd, s->in + s->in_len,
		    s->in_want - s->in_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			sess_fail(r, s, n == 0 ? F_EOF : F_IO);
			return;
		}
		s->in_len += (size_t)n;
		if (s->in_len < s->in_want)
			continue;
		if (!sess_advance(r, s))
			return;
	}
}

static void
sess_start(struct run *r)
{
	const struct sb_opts *o = r->o;
	const struct sb_addr *peer = o->have_proxy ? &o->proxy : &o->dest;
	const struct sb_addr *src =
	    o->srcs.n ? &o->srcs.a[r->started % o->srcs.n] : NULL;
	struct sess *s = &r->slots[r->free_idx[--r->nfree]];

	memset(s, 0, sizeof(*s));
	s->id = (uint32_t)r->started++;
	s->t0 = sb_now_us();
	s->deadline = s->t0 + (uint64_t)o->timeout_ms * 1000u;
	s->step = STEP_CONNECT;
	r->in_flight++;
	s->fd = sb_socket(peer, src, true);
	if (s->fd < 0) {
		sess_fail(r, s, F_SOCKET);
		return;
	}
	int rc = connect(s->fd, (const struct sockaddr *)&peer->ss, peer->len);
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		.data.ptr = s,
	};
	if ((rc != 0 && errno != EINPROGRESS) ||
	    epoll_ctl(r->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
		sess_fail(r, s, F_SOCKET);
		return;
	}
	/* Registering reports readiness that already exists, so a connect
	 * that completed at once is seen by the next epoll_wait. */
}

static void
expire(struct run *r, uint64_t now, bool all)
{
	for (int i = 0; i < r->nslots; i++) {
		struct sess *s = &r->slots[i];
		if (s->step == STEP_FREE || s->step == STEP_HELD)
			continue;
		if (all)
			sess_fail(r, s, F_UNFINISHED);
		else if (now > s->deadline)
			sess_fail(r, s, F_TIMEOUT);
	}
}

/* Drive sessions until `count` have ended (or, in hold mode, are held) or
 * the time cap passes; what is unfinished then counts as failed. */
static void
run_loop(struct run *r, uint64_t end)
{
	const struct sb_opts *o = r->o;
	struct epoll_event evs[256];

	for (;;) {
		uint64_t now = sb_now_us();
		if (now >= end) {
			expire(r, now, true);
			r->failed += o->count - r->started;
			r->fails[F_NOTSTARTED] += (uint32_t)(o->count - r->started);
			return;
		}
		while (r->started < o->count && r->in_flight < o->concurrency &&
		    r->nfree > 0)
			sess_start(r);
		if (r->started == o->count && r->in_flight == 0)
			return;
		int n = epoll_wait(r->ep, evs, 256, 20);
		for (int i = 0; i < n; i++) {
			struct sess *s = evs[i].data.ptr;
			if (s->step != STEP_FREE)
				sess_drive(r, s);
		}
		expire(r, sb_now_us(), false);
	}
}

static void
print_sessions(struct run *r, double elapsed)
{
	qsort(r->lat_us, (size_t)r->ok, sizeof(uint32_t), sb_cmp_u32);
	printf("count=%d\nok=%d\nfailed=%d\nelapsed_s=%.3f\nsessions_s=%.1f\n",
	    r->o->count, r->ok, r->failed, elapsed,
	    elapsed > 0 ? r->ok / elapsed : 0.0);
	printf("p50_ms=%.3f\np90_ms=%.3f\np99_ms=%.3f\nmax_ms=%.3f\n",
	    sb_pct(r->lat_us, (size_t)r->ok, 50) / 1e3,
	    sb_pct(r->lat_us, (size_t)r->ok, 90) / 1e3,
	    sb_pct(r->lat_us, (size_t)r->ok, 99) / 1e3,
	    sb_pct(r->lat_us, (size_t)r->ok, 100) / 1e3);
	for (int i = 0; i < F_COUNT; i++) {
		if (r->fails[i] != 0)
			printf("fail_%s=%u\n", fail_names[i], r->fails[i]);
	}
}

/* Memory figures of a hold run, before and while the sessions are held. */
struct mem_sample {
	struct sb_tree tree;
	uint64_t kernel_kib;
	uint64_t pagetables_kib;
};

static void
mem_sample(const struct sb_opts *o, struct mem_sample *m)
{
	memset(m, 0, sizeof(*m));
	/* meminfo first: walking /proc for a thousand workers creates proc
	 * inodes and dentries, slab the sessions did not cost. */
	(void)sb_kernel_kib(&m->kernel_kib, &m->pagetables_kib);
	if (o->server_pid > 0)
		(void)sb_tree_sample(o->server_pid, true, &m->tree);
}

int
sb_sessions(const struct sb_opts *o, bool hold)
{
	struct run r = { .o = o, .hold = hold };
	struct mem_sample before, during;
	int rc = 1;

	r.nslots = hold ? o->count : o->concurrency;
	r.slots = calloc((size_t)r.nslots, sizeof(*r.slots));
	r.free_idx = calloc((size_t)r.nslots, sizeof(*r.free_idx));
	r.lat_us = calloc((size_t)o->count, sizeof(*r.lat_us));
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	if (r.slots == NULL || r.free_idx == NULL || r.lat_us == NULL ||
	    r.ep < 0)
		goto out;
	for (int i = r.nslots - 1; i >= 0; i--) {
		r.slots[i].fd = -1;
		r.free_idx[r.nfree++] = i;
	}

	if (hold)
		mem_sample(o, &before);
	uint64_t t0 = sb_now_us();
	uint64_t end = t0 + (uint64_t)(o->max_seconds * 1e6);
	run_loop(&r, end);
	double elapsed = (double)(sb_now_us() - t0) / 1e6;
	print_sessions(&r, elapsed);

	if (hold) {
		/* Let the server finish whatever it does after a session's
		 * start (Dante hands sessions between processes), watching for
		 * sessions it drops meanwhile. */
		uint64_t settle_end = sb_now_us() + (uint64_t)(o->settle * 1e6);
		struct epoll_event evs[256];
		while (sb_now_us() < settle_end) {
			int n = epoll_wait(r.ep, evs, 256, 50);
			for (int i = 0; i < n; i++) {
				struct sess *s = evs[i].data.ptr;
				if (s->step == STEP_HELD)
					sess_drive(&r, s);
			}
		}
		mem_sample(o, &during);
		int held = r.held > 0 ? r.held : 1;
		printf("held=%d\n", r.held);
		if (o->server_pid > 0) {
			printf("nproc_before=%d\nnproc_held=%d\n"
			    "pss_before_kib=%llu\npss_held_kib=%llu\n"
			    "pss_per_session_kib=%.1f\n", before.tree.nproc,
			    during.tree.nproc,
			    (unsigned long long)before.tree.pss_kib,
			    (unsigned long long)during.tree.pss_kib,
			    ((double)during.tree.pss_kib -
			    (double)before.tree.pss_kib) / held);
		}
		printf("kernel_before_kib=%llu\nkernel_held_kib=%llu\n"
		    "kernel_per_session_kib=%.1f\n",
		    (unsigned long long)before.kernel_kib,
		    (unsigned long long)during.kernel_kib,
		    ((double)during.kernel_kib - (double)before.kernel_kib) /
		    held);
		/* Page tables alone: what one address space per client costs
		 * beyond its kernel stack (README, Performance). */
		printf("pagetables_per_session_kib=%.1f\n",
		    ((double)during.pagetables_kib -
		    (double)before.pagetables_kib) / held);
		for (int i = 0; i < r.nslots; i++) {
			if (r.slots[i].step != STEP_FREE)
				close(r.slots[i].fd);
		}
	}
	rc = r.failed == 0 ? 0 : 1;
out:
	if (r.ep >= 0)
		close(r.ep);
	free(r.slots);
	free(r.free_idx);
	free(r.lat_us);
	return rc;
}
