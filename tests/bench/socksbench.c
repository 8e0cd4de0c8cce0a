/*
 * socksbench: load generator and destination servers for `make bench`.
 * tests/bench/bench.sh runs it; see usage() for the subcommands.  Output is
 * one key=value per line on stdout, for the driver to collect.
 */
#include <sys/resource.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/sb.h"

static void
usage(void)
{
	fputs(
"usage: socksbench serve-sink|serve-source|serve-echo ADDR:PORT [--threads N]\n"
"       socksbench throughput [--proxy A:P] --dest A:P [--streams N]\n"
"                  [--download] [--seconds S] [--warmup S] [--server-pid PID]\n"
"       socksbench sessions [--proxy A:P] --dest A:P [--concurrency N]\n"
"                  [--count M] [--timeout-ms T]\n"
"       socksbench hold [--proxy A:P] --dest A:P --count M [--settle S]\n"
"                  [--server-pid PID]\n"
"       socksbench firstbyte --proxy A:P [--count M] [--interval-ms T]\n"
"       socksbench wait ADDR:PORT\n"
"       socksbench treestat --server-pid PID\n"
"common: --src RANGE|none (client source addresses, default 127.0.0.2-9),\n"
"        --max-seconds S (hard time cap).  Without --proxy the client talks\n"
"        to --dest directly (the no-proxy reference).  Every address must be\n"
"        loopback (127.0.0.0/8 or ::1).\n", stderr);
	exit(2);
}

/* Parse a number within [lo, hi] or exit with usage. */
static double
num_arg(const char *name, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "socksbench: --%s wants a number in [%g, %g]\n",
		    name, lo, hi);
		exit(2);
	}
	return v;
}

static void
addr_arg(const char *name, const char *s, struct sb_addr *a)
{
	if (sb_addr_parse(s, a) != 0) {
		fprintf(stderr, "socksbench: --%s: bad address %s "
		    "(want 127.x.y.z:PORT or [::1]:PORT)\n", name, s);
		exit(2);
	}
}

static void
parse_opts(int argc, char **argv, struct sb_opts *o)
{
	static const struct option longopts[] = {
		{ "proxy", required_argument, NULL, 'p' },
		{ "dest", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 'S' },
		{ "streams", required_argument, NULL, 'n' },
		{ "download", no_argument, NULL, 'D' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'N' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "settle", required_argument, NULL, 'e' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "threads", required_argument, NULL, 'T' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *name = longopts[0].name;
		for (const struct option *lo = longopts; lo->name; lo++)
			if (lo->val == ch)
				name = lo->name;
		switch (ch) {
		case 'p':
			addr_arg(name, optarg, &o->proxy);
			o->have_proxy = true;
			break;
		case 'd':
			addr_arg(name, optarg, &o->dest);
			o->have_dest = true;
			break;
		case 'S':
			if (sb_srcs_parse(optarg, &o->srcs) != 0) {
				fprintf(stderr, "socksbench: bad --src %s\n",
				    optarg);
				exit(2);
			}
			break;
		case 'n':
			o->streams = (int)num_arg(name, optarg, 1,
			    SB_MAX_STREAMS);
			break;
		case 'D':
			o->download = true;
			break;
		case 's':
			o->seconds = num_arg(name, optarg, 0.1, 600);
			break;
		case 'w':
			o->warmup = num_arg(name, optarg, 0, 60);
			break;
		case 'c':
			o->concurrency = (int)num_arg(name, optarg, 1,
			    SB_MAX_CONC);
			break;
		case 'N':
			o->count = (int)num_arg(name, optarg, 1, SB_MAX_COUNT);
			break;
		case 't':
			o->timeout_ms = (int)num_arg(name, optarg, 1, 600000);
			break;
		case 'i':
			o->interval_ms = (int)num_arg(name, optarg, 0, 10000);
			break;
		case 'e':
			o->settle = num_arg(name, optarg, 0, 600);
			break;
		case 'm':
			o->max_seconds = num_arg(name, optarg, 0.1, 86400);
			break;
		case 'T':
			o->threads = (int)num_arg(name, optarg, 1, 64);
			break;
		case 'P':
			o->server_pid = (pid_t)num_arg(name, optarg, 1, 1 << 22);
			break;
		default:
			usage();
		}
	}
}

/* Holding a thousand sessions takes more descriptors than the usual soft
 * limit of 1024; take what the hard limit allows. */
static void
raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	struct sb_opts o = {
		.streams = 1,
		.seconds = 5,
		.warmup = 1,
		.concurrency = 0, /* per subcommand, below */
		.count = 1000,
		.timeout_ms = 5000,
		.interval_ms = 2,
		.settle = 2,
		.max_seconds = 120,
		.threads = 1,
	};

	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	bool serving = strncmp(cmd, "serve-", 6) == 0;
	bool positional = serving || strcmp(cmd, "wait") == 0;
	if (positional) {
		if (argc < 3)
			usage();
		addr_arg("listen", argv[2], &o.listen);
		argv += 1;
		argc -= 1;
	}
	if (serving)
		o.max_seconds = 3600;
	(void)sb_srcs_parse("127.0.0.2-9", &o.srcs);
	parse_opts(argc - 1, argv + 1, &o);
	if (optind != argc - 1)
		usage();

	/* A server that closes on us must show as a failed session, not
	 * kill the client. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (serving) {
		if (strcmp(cmd, "serve-sink") != 0 &&
		    strcmp(cmd, "serve-source") != 0 &&
		    strcmp(cmd, "serve-echo") != 0)
			usage();
		return sb_serve(cmd, &o);
	}
	if (strcmp(cmd, "wait") == 0)
		return sb_wait(&o);
	if (strcmp(cmd, "treestat") == 0)
		return sb_treestat(&o);
	if (strcmp(cmd, "firstbyte") == 0) {
		if (!o.have_proxy)
			usage();
		return sb_firstbyte(&o);
	}
	if (!o.have_dest)
		usage();
	if (strcmp(cmd, "throughput") == 0)
		return sb_throughput(&o);
	if (strcmp(cmd, "sessions") == 0) {
		if (o.concurrency == 0)
			o.concurrency = 1;
		return sb_sessions(&o, false);
	}
	if (strcmp(cmd, "hold") == 0) {
		/* Held sessions are opened 64 at a time: one by one is slow
		 * and thousands at once would measure the backlog. */
		if (o.concurrency == 0)
			o.concurrency = 64;
		return sb_sessions(&o, true);
	}
	usage();
}
