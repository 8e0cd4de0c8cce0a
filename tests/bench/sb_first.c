/*
 * socksbench firstbyte: how long a fresh connection waits for the server's
 * first byte -- the method-selection reply to a greeting sent right after
 * the TCP handshake.  For a fork-per-connection server this is accept +
 * fork + the worker's setup (sandbox, privilege drop); for a threaded or
 * pre-forked server it is the hand-off to a thread or child.  Samples are
 * taken one at a time with a pause between them, so each one meets an idle
 * server, as a new client usually does.
 *
 * socksbench wait: poll until ADDR:PORT accepts a TCP connection.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/sb.h"

int
sb_firstbyte(const struct sb_opts *o)
{
	static const uint8_t greeting[3] = { 5, 1, 0 };
	uint32_t *lat = calloc((size_t)o->count, sizeof(*lat));
	uint64_t end = sb_now_us() + (uint64_t)(o->max_seconds * 1e6);
	int ok = 0, failed = 0;

	if (lat == NULL)
		return 1;
	for (int i = 0; i < o->count && sb_now_us() < end; i++) {
		const struct sb_addr *src =
		    o->srcs.n ? &o->srcs.a[i % o->srcs.n] : NULL;
		int fd = sb_socket(&o->proxy, src, false);
		if (fd < 0) {
			failed++;
			continue;
		}
		sb_set_timeouts(fd, o->timeout_ms);
		uint8_t b;
		uint64_t t0 = sb_now_us();
		/* On loopback a blocking connect returns once the handshake
		 * is done, before the server has accepted; the greeting sits
		 * in its receive queue until the worker reads it. */
		if (connect(fd, (const struct sockaddr *)&o->proxy.ss,
		    o->proxy.len) == 0 &&
		    write(fd, greeting, sizeof(greeting)) ==
		    (ssize_t)sizeof(greeting) &&
		    read(fd, &b, 1) == 1) {
			uint64_t us = sb_now_us() - t0;
			lat[ok++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		} else {
			failed++;
		}
		close(fd);
		sb_sleep_s(o->interval_ms / 1e3);
	}
	qsort(lat, (size_t)ok, sizeof(*lat), sb_cmp_u32);
	printf("count=%d\nok=%d\nfailed=%d\n", o->count, ok, failed);
	printf("p50_us=%u\np90_us=%u\np99_us=%u\n",
	    sb_pct(lat, (size_t)ok, 50), sb_pct(lat, (size_t)ok, 90),
	    sb_pct(lat, (size_t)ok, 99));
	free(lat);
	return ok > 0 && failed == 0 ? 0 : 1;
}

int
sb_wait(const struct sb_opts *o)
{
	uint64_t end = sb_now_us() + (uint64_t)(o->max_seconds * 1e6);
	char name[64];

	while (sb_now_us() < end) {
		int fd = sb_socket(&o->listen, NULL, false);
		if (fd < 0)
			break;
		int rc = connect(fd, (const struct sockaddr *)&o->listen.ss,
		    o->listen.len);
		close(fd);
		if (rc == 0)
			return 0;
		sb_sleep_s(0.02);
	}
	sb_addr_str(&o->listen, name, sizeof(name));
	fprintf(stderr, "socksbench: nothing listens on %s\n", name);
	return 1;
}
