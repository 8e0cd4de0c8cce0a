/*
 * The master's state, shared by its files (master-internal): serve.c (the
 * loop, accept, reload, stop), children.c (the child table, reaping,
 * penalties), helpers.c (authd, resolver and forker start and restart),
 * forker.c (the master's side of the forker channel).
 */
#ifndef SOCKS5D_MASTER_STATE_H
#define SOCKS5D_MASTER_STATE_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auditd/auditd.h"
#include "authd/authd.h"
#include "common/audit.h"
#include "master/health.h"
#include "master/master.h"

struct conf;
struct penalty;
struct sandbox;
struct spawn_ctx;

/* A helper that dies sooner than this after its start is restarted only
 * after this delay, so a helper that cannot start does not spin.  The
 * forker is restarted the same way. */
enum { HELPER_RESTART_DELAY_S = 1 };

/* Forkers serving at once: one per CPU (forks do not overlap within one
 * process), at most FORKERS_ACTIVE_MAX.  FORKERS_MAX slots hold those and
 * the retired ones (after a reload or a helper restart) not yet exited. */
enum { FORKERS_ACTIVE_MAX = 4, FORKERS_MAX = 16 };

/* One worker.  pid 0: handed to forker, which has not said its pid yet.
 * forker 0: the master's own child (forked by the master, or orphaned by a
 * forker that died and re-parented to the master, a subreaper). */
struct child {
	pid_t pid;
	pid_t forker;
	uint32_t id;
	struct sockaddr_storage client;   /* the TCP peer the master accepted */
	/* What the per-source limits and the penalties key on (penalty
	 * key form, master/penalty.h): the TCP peer, or behind a load
	 * balancer the real client once the worker said it (master/door.c);
	 * has_key false until then. */
	uint8_t key[16];
	bool has_key;
	bool proxied;        /* the peer is a SOCKS5_PROXY_PROTOCOL sender */
	bool has_real;       /* IPC_REAL_CLIENT taken: real is set */
	bool negotiating;    /* counted in n_negotiating (SOCKS5_MAXSTARTUPS) */
	pid_t claim_pid;     /* IPC_NEGOTIATED that came before IPC_FORKED */
	struct sockaddr_storage real;
	char *user;          /* IPC_SESSION_USER taken (malloc'd) */
};

struct forker {
	pid_t pid;                  /* 0: slot free */
	int chan;                   /* -1 once drained after its exit */
	bool retiring;              /* sent IPC_RETIRE: no more clients */
	struct timespec started;
	pid_t spare_pid;            /* its spare, ready for a client; 0: none */
	int spare_chan;             /* our end of the spare's channel, or -1 */
	pid_t spare_dropped;        /* the last spare let go without a client:
	                             * its exit report is expected */
	bool from_image;            /* exec'd from the session image */
	bool ready;                 /* has sent a spare: it started */
};

/* Forkers from the session image that fail in a row before the master
 * stops using it (helpers.c). */
enum { IMAGE_FAILURES_MAX = 3 };

struct master {
	const struct master_opts *opts;
	struct conf *conf;
	int conf_sealed;                   /* conf's sealed copy, for images */
	int image_fd;                      /* the session image, or -1 */
	unsigned image_failures;           /* image forkers that never started */
	const struct sandbox *sb;
	struct helper helpers[2];          /* HELPER_AUTHD, HELPER_RESOLVER */
	struct timespec helper_started[2];
	bool helper_pending[2];            /* restart due at helper_restart_at */
	struct timespec helper_restart_at[2];
	struct forker forkers[FORKERS_MAX];
	size_t forkers_wanted;             /* active forkers: one per CPU */
	size_t forker_next;                /* round-robin position */
	bool forker_pending;               /* (re)start due at forker_restart_at */
	struct timespec forker_restart_at;
	struct penalty *penalty;
	int kmsg_fd;                       /* kernel log, for SIGSYS details */
	struct health health;              /* upstream health (health.h) */
	int *listen_fds;
	size_t n_listen;
	struct child *children;
	size_t n_children, cap_children;
	size_t n_negotiating;              /* rows with negotiating set */
	int door_fd;                       /* master's door: ours, polled */
	int door_worker_fd;                /* every worker keeps this end */
	uint32_t next_id;                  /* of the next IPC_FORK */
	bool at_limit;          /* not accepting: SOCKS5_MAXCHILD workers run */
	bool stopping;
	bool killed_children;   /* grace over: our SIGKILLs are not crashes */
	struct timespec stop_deadline;
	bool accept_paused;     /* out of descriptors or memory: back off */
	/* auditlog.c: the audit file (-a; -1 without), its logger. */
	int audit_file;
	struct auditd auditd;
	struct timespec auditd_started;
	bool auditd_pending;               /* restart due at auditd_restart_at */
	struct timespec auditd_restart_at;
	struct audit_limit refused;        /* ban records at accept */
};

/* children.c */
void children_free(struct master *m);
int children_add(struct master *m, pid_t pid, pid_t forker, uint32_t id,
    const struct sockaddr_storage *client);
void children_drop(struct master *m, size_t i);
void children_reap(struct master *m);
void children_forked(struct master *m, pid_t forker, uint32_t id,
    uint32_t pid);
void children_exited(struct master *m, pid_t forker, pid_t pid, int status);
void children_forker_gone(struct master *m, pid_t forker);
void children_kill_all(struct master *m);

/* helpers.c */
void spawn_ctx_fill(const struct master *m, bool wrap_rules,
    struct spawn_ctx *ctx);
void helper_launch(struct master *m, int i);
bool helper_reaped(struct master *m, pid_t pid, int status);
void helpers_due(struct master *m);
void forker_launch(struct master *m);
void forkers_fill(struct master *m);
void forkers_retire(struct master *m);
bool forker_reaped(struct master *m, pid_t pid, int status);

/* auditlog.c */
struct audit_rec;
void auditlog_launch(struct master *m);
bool auditlog_reaped(struct master *m, pid_t pid, int status);
void auditlog_reopen(struct master *m);
void auditlog_refused(struct master *m, const struct audit_rec *rec);
int auditlog_wait_ms(const struct master *m);
void auditlog_due(struct master *m);
void auditlog_stop(struct master *m);

/* limits.c: SOCKS5_MAXSTARTUPS, the per-source and per-user limits. */
void limits_row_init(struct master *m, struct child *c);
void limits_row_negotiated(struct master *m, struct child *c);
void limits_row_free(struct master *m, struct child *c);
/* At accept: LIMIT_GO, or the reason to refuse this connection. */
int limits_accept(struct master *m, const struct sockaddr_storage *client,
    bool proxied);
/* A worker behind a load balancer named its real client: the penalty
 * and per-source checks for it; on LIMIT_GO c is keyed on it. */
int limits_real_client(struct master *m, struct child *c,
    const struct sockaddr_storage *real);
/* An authenticated user: LIMIT_GO (c now counts as one of user's
 * sessions) or LIMIT_PER_USER. */
int limits_user(struct master *m, struct child *c, const char *user);

/* door.c: the worker -> master door (master/door.c says why). */
int door_open(struct master *m);
void door_drain(struct master *m);

/* forker.c */
struct forker *forker_current(struct master *m);
int forker_spawn(struct forker *f, const struct spawn_ctx *ctx, int image_fd);
int forker_hand(struct master *m, int client_fd,
    const struct sockaddr_storage *client);
void forker_retire(struct forker *f);
/* f has exited and its reports are drained: close both its channels (a
 * spare still waiting sees its end close, and exits) and free the slot. */
void forker_closed(struct forker *f);
void forker_drain(struct master *m, struct forker *f);

#endif
