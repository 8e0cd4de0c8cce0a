/*
 * socksbench throughput: N bulk streams through the proxy's CONNECT.
 *
 * One blocking thread per stream: with at most a few streams on a 2-core
 * machine that is the cheapest client, and it leaves the CPU to the server
 * being measured.  Upload streams write to serve-sink, download streams read
 * from serve-source.  The rate counts only the bytes moved inside the
 * measurement window (after --warmup), and the server's CPU time is sampled
 * at the same two instants, so CPU per GiB covers exactly those bytes.
 */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/sb.h"

#define STREAM_BUF (128 * 1024)

struct stream {
	pthread_t th;
	int fd;
	bool download;
	atomic_bool *stop;
	_Atomic uint64_t bytes;
};

static void *
stream_loop(void *arg)
{
	struct stream *s = arg;
	uint8_t *buf = malloc(STREAM_BUF);

	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < STREAM_BUF; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	while (!atomic_load_explicit(s->stop, memory_order_relaxed)) {
		ssize_t n = s->download ? read(s->fd, buf, STREAM_BUF) :
		    write(s->fd, buf, STREAM_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the main thread shut the socket down, or the
				* proxy dropped us: the byte count tells */
		atomic_fetch_add_explicit(&s->bytes, (uint64_t)n,
		    memory_order_relaxed);
	}
	free(buf);
	return NULL;
}

static uint64_t
total_bytes(struct stream *ss, int n)
{
	uint64_t sum = 0;
	for (int i = 0; i < n; i++)
		sum += atomic_load_explicit(&ss[i].bytes, memory_order_relaxed);
	return sum;
}

int
sb_throughput(const struct sb_opts *o)
{
	struct stream *ss = calloc((size_t)o->streams, sizeof(*ss));
	atomic_bool stop = false;
	struct sb_tree cpu0 = { 0 }, cpu1 = { 0 };
	int started = 0, rc = 1;

	if (ss == NULL)
		return 1;
	/* Open every stream before any moves data, so the window sees all
	 * of them running. */
	for (int i = 0; i < o->streams; i++) {
		const char *why = "socket";
		const struct sb_addr *src =
		    o->srcs.n ? &o->srcs.a[i % o->srcs.n] : NULL;
		ss[i].fd = sb_socket(o->have_proxy ? &o->proxy : &o->dest, src,
		    false);
		if (ss[i].fd < 0) {
			fprintf(stderr, "socksbench: stream %d: socket: %s\n",
			    i, strerror(errno));
			goto out;
		}
		/* Timeouts bound the handshake; in the window a stalled proxy
		 * ends a stream after timeout_ms, which the rate shows. */
		sb_set_timeouts(ss[i].fd, o->timeout_ms);
		if (sb_client_open(ss[i].fd, o, &why) != 0) {
			fprintf(stderr, "socksbench: stream %d: %s failed: %s\n",
			    i, why, strerror(errno));
			close(ss[i].fd);
			goto out;
		}
		ss[i].download = o->download;
		ss[i].stop = &stop;
		started++;
	}
	int running = 0;
	for (; running < started; running++) {
		if (pthread_create(&ss[running].th, NULL, stream_loop,
		    &ss[running]) != 0) {
			fprintf(stderr, "socksbench: pthread_create failed\n");
			break;
		}
	}

	uint64_t b0 = 0, b1 = 0, t0 = 0, t1 = 0;
	if (running == started) {
		sb_sleep_s(o->warmup);
		b0 = total_bytes(ss, started);
		t0 = sb_now_us();
		if (o->server_pid > 0)
			(void)sb_tree_sample(o->server_pid, false, &cpu0);
		sb_sleep_s(o->seconds);
		b1 = total_bytes(ss, started);
		t1 = sb_now_us();
		if (o->server_pid > 0)
			(void)sb_tree_sample(o->server_pid, false, &cpu1);
	}

	/* shutdown() wakes a thread blocked in read or write. */
	atomic_store(&stop, true);
	for (int i = 0; i < started; i++)
		shutdown(ss[i].fd, SHUT_RDWR);
	for (int i = 0; i < running; i++)
		pthread_join(ss[i].th, NULL);
	if (running < started)
		goto out;

	double secs = (double)(t1 - t0) / 1e6;
	double mib = (double)(b1 - b0) / (1024.0 * 1024.0);
	printf("streams=%d\ndirection=%s\nseconds=%.3f\nbytes=%llu\n"
	    "mib_s=%.1f\n", started, o->download ? "down" : "up", secs,
	    (unsigned long long)(b1 - b0), secs > 0 ? mib / secs : 0.0);
	if (o->server_pid > 0) {
		double cpu = cpu1.cpu_s - cpu0.cpu_s;
		printf("cpu_s=%.3f\ncpu_s_per_gib=%.3f\n", cpu,
		    b1 > b0 ? cpu / (mib / 1024.0) : 0.0);
	}
	rc = b1 > b0 ? 0 : 1;
out:
	for (int i = 0; i < started; i++)
		close(ss[i].fd);
	free(ss);
	return rc;
}
