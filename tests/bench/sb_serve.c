/*
 * socksbench: the destination servers (sink, source, echo).
 *
 * Each is an epoll loop per thread; with --threads N every thread binds its
 * own SO_REUSEPORT listener, so the kernel spreads connections over them
 * without a shared accept lock.  They run until SIGTERM/SIGINT or until
 * --max-seconds, whichever comes first, so a crashed driver cannot leave
 * them running for ever.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/sb.h"

#define SERVE_BUF (256 * 1024) /* large reads and writes: fewer syscalls */
#define MAX_EVENTS 256

enum serve_kind { SERVE_SINK, SERVE_SOURCE, SERVE_ECHO };

/* Set by the signal handler, read by every loop (STYLE 6). */
static volatile sig_atomic_t stop_requested;

struct conn {
	int fd;
	uint8_t *pend;    /* echo: bytes read but not yet written back */
	size_t pend_off;
	size_t pend_len;
};

struct serve_thread {
	pthread_t th;
	enum serve_kind kind;
	const struct sb_opts *o;
	int listen_fd;
	int ep;
	int rc;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
conn_close(struct serve_thread *t, struct conn *c)
{
	(void)epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pend);
	free(c);
}

static int
conn_watch(struct serve_thread *t, struct conn *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	return epoll_ctl(t->ep, op, c->fd, &ev);
}

/* Echo: write back what was read; when the socket is full keep the rest and
 * stop reading until it drains, so a client that does not read cannot make
 * us buffer without bound. */
static void
echo_event(struct serve_thread *t, struct conn *c, uint32_t events,
    uint8_t *buf)
{
	if (c->pend_len > c->pend_off) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		ssize_t n = write(c->fd, c->pend + c->pend_off,
		    c->pend_len - c->pend_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(t, c);
			return;
		}
		c->pend_off += (size_t)n;
		if (c->pend_off == c->pend_len) {
			c->pend_off = c->pend_len = 0;
			(void)conn_watch(t, c, EPOLLIN, EPOLL_CTL_MOD);
		}
		return;
	}
	ssize_t n = read(c->fd, buf, SERVE_BUF);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(t, c);
		return;
	}
	ssize_t w = write(c->fd, buf, (size_t)n);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		conn_close(t, c);
		return;
	}
	if (w < 0)
		w = 0;
	if (w < n) {
		size_t rest = (size_t)(n - w);
		uint8_t *p = realloc(c->pend, rest);
		if (p == NULL) {
			conn_close(t, c);
			return;
		}
		memcpy(p, buf + w, rest);
		c->pend = p;
		c->pend_off = 0;
		c->pend_len = rest;
		(void)conn_watch(t, c, EPOLLOUT, EPOLL_CTL_MOD);
	}
}

static void
conn_event(struct serve_thread *t, struct conn *c, uint32_t events,
    uint8_t *buf)
{
	ssize_t n;

	switch (t->kind) {
	case SERVE_ECHO:
		echo_event(t, c, events, buf);
		return;
	case SERVE_SINK:
		n = read(c->fd, buf, SERVE_BUF);
		break;
	case SERVE_SOURCE:
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			/* Discard what the client sends; notice its EOF.  A
			 * scratch buffer keeps the send pattern intact. */
			uint8_t scratch[4096];
			n = read(c->fd, scratch, sizeof(scratch));
			if (n == 0 || (n < 0 && errno != EAGAIN &&
			    errno != EINTR)) {
				conn_close(t, c);
				return;
			}
		}
		if (!(events & EPOLLOUT))
			return;
		n = write(c->fd, buf, SERVE_BUF);
		break;
	default:
		return;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		conn_close(t, c);
}

static void
accept_all(struct serve_thread *t)
{
	/* Bounded: at most one backlog's worth per wakeup. */
	for (int i = 0; i < 4096; i++) {
		int fd = accept4(t->listen_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or EMFILE: retry on the next event */
		struct conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		uint32_t ev = EPOLLIN;
		if (t->kind == SERVE_SOURCE)
			ev |= EPOLLOUT;
		if (conn_watch(t, c, ev, EPOLL_CTL_ADD) != 0) {
			close(fd);
			free(c);
		}
	}
}

static void *
serve_loop(void *arg)
{
	struct serve_thread *t = arg;
	struct epoll_event evs[MAX_EVENTS];
	uint64_t end = sb_now_us() + (uint64_t)(t->o->max_seconds * 1e6);
	uint8_t *buf = malloc(SERVE_BUF);

	if (buf == NULL) {
		t->rc = 1;
		return NULL;
	}
	/* The source sends a recognisable pattern rather than zeros. */
	for (size_t i = 0; i < SERVE_BUF; i++)
		buf[i] = (uint8_t)(i * 31 + 7);

	while (!stop_requested && sb_now_us() < end) {
		int n = epoll_wait(t->ep, evs, MAX_EVENTS, 200);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_all(t);
			else
				conn_event(t, evs[i].data.ptr, evs[i].events,
				    buf);
		}
	}
	/* Connections still open are released by exit(). */
	free(buf);
	return NULL;
}

static int
listen_on(const struct sb_addr *a)
{
	int one = 1;
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 ||
	    listen(fd, 4096) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
sb_serve(const char *kind_name, const struct sb_opts *o)
{
	enum serve_kind kind;
	struct serve_thread *ts;
	char name[64];

	if (strcmp(kind_name, "serve-sink") == 0)
		kind = SERVE_SINK;
	else if (strcmp(kind_name, "serve-source") == 0)
		kind = SERVE_SOURCE;
	else
		kind = SERVE_ECHO;

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);

	ts = calloc((size_t)o->threads, sizeof(*ts));
	if (ts == NULL)
		return 1;
	sb_addr_str(&o->listen, name, sizeof(name));
	for (int i = 0; i < o->threads; i++) {
		struct serve_thread *t = &ts[i];
		t->kind = kind;
		t->o = o;
		t->listen_fd = listen_on(&o->listen);
		t->ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
		if (t->listen_fd < 0 || t->ep < 0 ||
		    epoll_ctl(t->ep, EPOLL_CTL_ADD, t->listen_fd, &ev) != 0) {
			fprintf(stderr, "socksbench: %s on %s: %s\n",
			    kind_name, name, strerror(errno));
			return 1;
		}
	}
	for (int i = 0; i < o->threads; i++) {
		if (pthread_create(&ts[i].th, NULL, serve_loop, &ts[i]) != 0) {
			fprintf(stderr, "socksbench: pthread_create failed\n");
			return 1;
		}
	}
	int rc = 0;
	for (int i = 0; i < o->threads; i++) {
		pthread_join(ts[i].th, NULL);
		rc |= ts[i].rc;
	}
	free(ts);
	return rc;
}
