/*
 * master: the privileged parent.  Binds the listen sockets (or takes them
 * from systemd), loads the configuration, accepts, applies the ban list,
 * hands each client to a forker (forker/forker.h), which forks its worker,
 * accounts for the workers and limits them, reloads on SIGHUP, stops
 * gracefully on SIGTERM/SIGINT.
 */
#ifndef SOCKS5D_MASTER_H
#define SOCKS5D_MASTER_H

#include <stdbool.h>
#include <stddef.h>

struct conf;

/* Exit statuses (SPEC "Exit status"). */
enum master_exit {
	EXIT_CLEAN = 0,
	EXIT_CONFIG = 1,
	EXIT_USAGE = 2,
	EXIT_BIND = 3,
};

enum { LISTEN_MAX = 16 };

struct master_opts {
	const char *conf_path;
	const char *listen[LISTEN_MAX]; /* -l values, in order */
	size_t n_listen;
	const char *audit_path;        /* -a, or NULL */
	int audit_fd;                  /* -a opened (O_APPEND), or -1 */
	const char *user;              /* -u, or NULL */
	bool inetd;                    /* -i */
	bool relay_copy;               /* SOCKS5D_RELAY_COPY=1 in the environment */
	int image_fd;                  /* the session image (master/image.h),
	                                * or -1 */
};

/* Open the audit file at path for appending (create 0600, no symlink):
 * the fd, or -1 with errno (master/auditlog.c). */
int auditlog_open(const char *path);

/* The listening sockets: from systemd (LISTEN_PID/LISTEN_FDS) when it
 * passed any, else bound from -l, or SOCKS5_BINDINTFC, or 0.0.0.0:1080.
 * Returns 0, or EXIT_BIND / EXIT_USAGE after logging why. */
int listen_open(const struct master_opts *opts, const struct conf *conf,
    int *fds, size_t max, size_t *n);

struct sandbox;
struct sockaddr;

/* The accept loop; returns the process exit status.  Takes ownership of
 * conf and conf_sealed (conf_load_sealed's; both replaced on SIGHUP) and
 * the listen fds.  sb is the prepared worker
 * sandbox (worker/sandbox.h). */
int master_serve(const struct master_opts *opts, struct conf *conf,
    int conf_sealed, const struct sandbox *sb, int *listen_fds,
    size_t n_listen);

/* -i: serve the client on stdin/stdout in this process, sandboxed, with
 * the helpers started for it.  Returns the exit status. */
int master_serve_inetd(const struct master_opts *opts, struct conf *conf,
    const struct sandbox *sb);

/* Load path (start-up and SIGHUP), logging each diagnostic: for_image
 * (the master uses a session image) also sealed for it
 * (conf_load_sealed), otherwise *sealed is -1.  0, or the load's error. */
int master_conf_load(const char *path, bool for_image, struct conf **out,
    int *sealed);

/* conf_diag_fn that logs each diagnostic (start-up and SIGHUP). */
void master_conf_diag(void *ctx, const char *file, unsigned line,
    bool is_error, const char *msg);

/* TCP wrappers for one connection (master/wrap.c); writes the wrap audit
 * record.  Runs in a worker the master forked, before its sandbox;
 * hosts_access is skipped when the master found no rule in either table
 * (and in a forker's worker, which only serves then). */
bool wrap_check(const struct conf *conf, int client_fd,
    const struct sockaddr *client, bool tables_have_rules);

/* In the master, per connection: whether hosts.allow or hosts.deny holds
 * any rule (a stat of each; re-read only when one changed). */
bool wrap_needed(const struct conf *conf);

#endif
