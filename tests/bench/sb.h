/*
 * socksbench: the load generator and destination servers of `make bench`.
 * One program, one subcommand per job (socksbench.c lists them); this header
 * holds what the subcommand files share.
 *
 * Network safety: every address the tool is given must be loopback
 * (127.0.0.0/8 or ::1); sb_addr_parse refuses anything else, so no
 * subcommand can be pointed at another host by mistake.  Every loop is
 * bounded in count and in time (sb_opts.max_seconds).
 */
#ifndef SB_H
#define SB_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds, so a typo on the command line cannot start a runaway. */
#define SB_MAX_STREAMS 256
#define SB_MAX_CONC 4096
#define SB_MAX_COUNT 1000000
#define SB_MAX_SRCS 256
#define SB_PAYLOAD 64 /* echo payload of one session (the figure) */

struct sb_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Client source addresses, used round robin (127.0.0.2-9 by default). */
struct sb_srcs {
	struct sb_addr a[SB_MAX_SRCS];
	int n;
};

/* Every option of every subcommand; each subcommand reads what it needs. */
struct sb_opts {
	bool have_proxy;        /* false: talk to dest directly (reference) */
	struct sb_addr proxy;
	bool have_dest;
	struct sb_addr dest;
	struct sb_addr listen;  /* serve-*, wait */
	struct sb_srcs srcs;
	int streams;            /* throughput */
	bool download;          /* throughput: dest -> client instead of up */
	double seconds;         /* throughput measurement window */
	double warmup;          /* throughput: untimed lead-in */
	int concurrency;        /* sessions, hold */
	int count;              /* sessions, hold, firstbyte */
	int timeout_ms;         /* one session or one step */
	int interval_ms;        /* firstbyte: pause between samples */
	double settle;          /* hold: wait before sampling memory */
	double max_seconds;     /* hard cap on the whole subcommand */
	int threads;            /* serve-*: event loops */
	pid_t server_pid;       /* root of the server's process tree, or 0 */
};

/* Process-tree figures of the server under test (sb_proc.c). */
struct sb_tree {
	double cpu_s;      /* utime+stime(+cutime+cstime) of every process */
	uint64_t pss_kib;  /* sum of smaps_rollup Pss over the tree */
	uint64_t faults;   /* minflt+majflt(+cminflt+cmajflt) of every process */
	int nproc;
};

/* sb_net.c */
int sb_addr_parse(const char *s, struct sb_addr *out);
int sb_srcs_parse(const char *s, struct sb_srcs *out);
void sb_addr_str(const struct sb_addr *a, char *buf, size_t len);
uint64_t sb_now_us(void);
void sb_sleep_s(double s);
/* A TCP socket, bound to src (port chosen at connect) when src != NULL. */
int sb_socket(const struct sb_addr *peer, const struct sb_addr *src,
    bool nonblock);
void sb_set_timeouts(int fd, int timeout_ms);
/* Encode a SOCKS5 CONNECT request for dest into buf; returns its length. */
size_t sb_socks5_request(const struct sb_addr *dest, uint8_t *buf,
    size_t len);
/* Length of a complete SOCKS5 reply whose first 5 bytes are hdr, or 0 if
 * the header is malformed (RFC 1928 section 6). */
size_t sb_socks5_reply_len(const uint8_t hdr[5]);
/* Blocking: connect fd (already created) to the proxy and run the greeting
 * and CONNECT for dest, or just connect to dest when there is no proxy.
 * Returns 0 or -1 with a reason in *why. */
int sb_client_open(int fd, const struct sb_opts *o, const char **why);
/* Percentile p (0..100) of n sorted values. */
uint32_t sb_pct(const uint32_t *sorted, size_t n, double p);
int sb_cmp_u32(const void *a, const void *b);

/* sb_proc.c */
int sb_tree_sample(pid_t root, bool want_pss, struct sb_tree *out);
/* Slab + KernelStack + PageTables from /proc/meminfo, in KiB. */
int sb_kernel_kib(uint64_t *out, uint64_t *pagetables);

/* Subcommands: each returns the process exit status. */
int sb_serve(const char *kind, const struct sb_opts *o);
int sb_throughput(const struct sb_opts *o);
int sb_sessions(const struct sb_opts *o, bool hold);
int sb_firstbyte(const struct sb_opts *o);
int sb_wait(const struct sb_opts *o);
int sb_treestat(const struct sb_opts *o);

#endif
