/*
 * Rule engine benchmark: writes a 10,000-line socks5.conf with mixed
 * patterns (prefixes, masks, CIDR, IPv6, names, suffixes, port ranges,
 * user lists, permit and deny) whose only matching access line is near the
 * end, then reports
 *   rules: load 10000 lines: X ms                 (median conf_load time)
 *   rules: match (10000 lines, last matches): Y ns  (mean rules_access)
 * Exit status 1 if the configuration does not load or the match is wrong.
 *
 * Build: gcc -std=gnu11 -O2 -I. -D_GNU_SOURCE tests/bench/bench_rules.c \
 *            build/libsocks5d.a -o build/bench_rules
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"

#define N_LINES 10000
#define LOAD_RUNS 9

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One line of the mix; none of them matches the benchmark request (client
 * 198.51.100.7, method u, CONNECT, host.target.example / 203.0.113.9,
 * port 8443, user "bench"). */
static int
write_line(FILE *f, unsigned i)
{
	unsigned a = i % 250 + 1, b = i / 250 % 250 + 1;

	switch (i % 12) {
	case 0:
		return fprintf(f, "deny - - 10.%u.%u. - - -\n", a, b);
	case 1:
		return fprintf(f, "permit u c 172.16.%u.0/24 .dom%u.example - "
		    "443\n", a, i);
	case 2:
		return fprintf(f, "permit n c,b 192.168.%u.%u www%u.example.com "
		    "- [1024,65535]\n", a, b, i);
	case 3:
		return fprintf(f, "deny - u 2001:db8:%x::/48 - - -\n", i);
	case 4:
		return fprintf(f, "permit - c - 10.%u.%u.0/255.255.255.0 "
		    "(1023,65536) - user%u,admin\n", a, b, i);
	case 5:
		return fprintf(f, "permit u c 11.%u.%u.0/22 host%u.corp.example "
		    "- 80\n", a, b, i);
	case 6:
		return fprintf(f, "deny n - 12.%u. .bad%u.example - -\n", a, i);
	case 7:
		return fprintf(f, "permit u cb 13.%u.%u.%u/32 - - [%u,%u]\n", a,
		    b, i % 200, 2000 + i % 100, 3000 + i % 100);
	case 8:
		return fprintf(f, "socks5 .chain%u.example - 10.0.0.%u:1080\n", i,
		    a);
	case 9:
		return fprintf(f, "permit u c - 100.64.%u.%u - 8443 user%u\n", a,
		    b, i);
	case 10:
		return fprintf(f, "deny - - fd00:%x::/32 - - -\n", i);
	default:
		return fprintf(f, "permit - c 14.%u.%u.0/255.255.0.255 "
		    "x%u.example.net - -\n", a, b, i);
	}
}

static int
write_conf(const char *path, unsigned *match_line)
{
	FILE *f = fopen(path, "w");
	unsigned i, line = 0;

	if (f == NULL)
		return -1;
	for (i = 0; i < N_LINES - 3; i++, line++)
		if (write_line(f, i) < 0)
			break;
	fprintf(f, "auth - - u,n\n");
	fprintf(f, "permit u c 198.51.100.0/24 .target.example - 8443 "
	    "bench,ops\n");
	*match_line = line + 2;
	fprintf(f, "deny - - - - - -\n");
	return fclose(f);
}

int
main(void)
{
	char path[] = "/tmp/bench_rules.XXXXXX";
	double load_ns[LOAD_RUNS], t0, elapsed;
	struct conf *conf = NULL;
	struct sockaddr_in client, dst;
	struct rules_request req;
	struct rules_verdict v;
	unsigned match_line, i;
	volatile unsigned sink = 0;
	unsigned long n, batch;
	int fd;

	if ((fd = mkstemp(path)) < 0 || close(fd) != 0 ||
	    write_conf(path, &match_line) != 0) {
		perror("bench_rules: temporary file");
		return 1;
	}
	for (i = 0; i < LOAD_RUNS; i++) {
		t0 = now_ns();
		if (conf_load_flags(path, CONF_PARSE_NO_ENV, &conf, NULL,
		    NULL) != 0) {
			fprintf(stderr, "bench_rules: %s does not load\n", path);
			unlink(path);
			return 1;
		}
		load_ns[i] = now_ns() - t0;
		if (i + 1 < LOAD_RUNS)
			conf_free(conf);
	}
	unlink(path);
	qsort(load_ns, LOAD_RUNS, sizeof(load_ns[0]), cmp_double);

	memset(&client, 0, sizeof(client));
	client.sin_family = AF_INET;
	client.sin_port = htons(40000);
	inet_pton(AF_INET, "198.51.100.7", &client.sin_addr);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	inet_pton(AF_INET, "203.0.113.9", &dst.sin_addr);
	memset(&req, 0, sizeof(req));
	req.client = (const struct sockaddr *)&client;
	req.method = CONF_AUTH_USERPASS;
	req.cmd = CONF_CMD_CONNECT;
	req.dest.name = "host.target.example";
	req.dest.addr = (const struct sockaddr *)&dst;
	req.dest.port = 8443;
	req.user = "bench";
	rules_access(conf, &req, &v);
	if (!v.permit || v.line != match_line) {
		fprintf(stderr, "bench_rules: wrong verdict %s line %u "
		    "(expected permit line %u)\n", v.permit ? "permit" : "deny",
		    v.line, match_line);
		conf_free(conf);
		return 1;
	}
	/* Grow the batch until it runs for at least half a second. */
	for (batch = 1000;; batch *= 2) {
		t0 = now_ns();
		for (n = 0; n < batch; n++) {
			rules_access(conf, &req, &v);
			sink += v.line;
		}
		elapsed = now_ns() - t0;
		if (elapsed >= 5e8 || batch >= (1ul << 30))
			break;
	}
	conf_free(conf);
	printf("rules: load %d lines: %.1f ms\n", N_LINES,
	    load_ns[LOAD_RUNS / 2] / 1e6);
	printf("rules: match (%d lines, last matches): %.0f ns\n", N_LINES,
	    elapsed / (double)batch);
	return sink == 0;
}
