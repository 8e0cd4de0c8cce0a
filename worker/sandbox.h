/*
 * The worker sandbox (README "Security model").  Everything a worker may do
 * after it has been forked is decided in worker/sandbox.c: the drop order
 * and the seccomp allow-list, nowhere else.
 */
#ifndef SOCKS5D_SANDBOX_H
#define SOCKS5D_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sandbox;

/* Where workers are chrooted: created at start if missing, and refused if
 * it is not a root-owned directory that nobody else can write to. */
#define SANDBOX_ROOT_DIR "/run/socks5d/empty"

/*
 * In the master, once (worker/sandbox_prepare.c): look up user (the -u user; NULL means "nobody")
 * and, when root, helper_user (SOCKS5_HELPER_USER: the resolver's and the
 * audit logger's, which must exist and differ from user in uid and gid),
 * check or create the chroot directory (when root), and compile the seccomp
 * filter to BPF so each worker only loads it (compiling per fork is the
 * expensive part of libseccomp).  Returns 0, or ERR_CONFIG / ERR_SYS after
 * logging why; the master refuses to start then.
 */
int sandbox_prepare(const char *user, const char *helper_user,
    struct sandbox **out);

/* What sandbox_prepare looked up, all the session image (forker/image.c)
 * needs to build the same sandbox without NSS. */
struct sandbox_ids {
	uid_t uid, gid;                /* the workers' (-u) */
	uid_t helper_uid;              /* SOCKS5_HELPER_USER's */
	gid_t helper_gid;
	bool privileged;               /* started as root */
};

/* A sandbox from ids already checked (sandbox_prepare's, or the master's
 * in the image): compiles both filters.  0, or an error after logging. */
int sandbox_adopt(const struct sandbox_ids *ids, struct sandbox **out);
void sandbox_ids_get(const struct sandbox *sb, struct sandbox_ids *ids);

/* Free what sandbox_prepare made (at the master's exit). */
void sandbox_free(struct sandbox *sb);

/* Whether workers will chroot and change user (the master runs as root). */
bool sandbox_privileged(const struct sandbox *sb);

/* The workers' (and forkers') unprivileged ids. */
void sandbox_ids(const struct sandbox *sb, uid_t *uid, gid_t *gid);

/* The ids the resolver and the audit logger drop to (SOCKS5_HELPER_USER):
 * never the workers', so no helper can signal or trace a worker.  When
 * not root they are this process's own (nobody drops). */
void sandbox_helper_ids(const struct sandbox *sb, uid_t *uid, gid_t *gid);

/*
 * In a freshly forked worker, before it reads a byte from the client:
 * close every fd but keep[0..n_keep) and 0-2, chroot to the empty
 * directory, drop to the user and prove it cannot come back, set
 * no_new_privs and the rlimits, then load the filter.  Any failure is
 * returned (the worker must exit without serving); when not root, the
 * chroot and the id change are skipped and the rest applies.
 */
int sandbox_enter(const struct sandbox *sb, const int *keep, size_t n_keep);

/*
 * The forker (forker/forker.h): the same drop order and rlimits except
 * RLIMIT_NPROC, and a filter that adds what forking and reaping need
 * (sc_forker in sandbox_filter.c, which says why each is harmless in a
 * worker).
 * Each of its children calls sandbox_narrow first thing: RLIMIT_NPROC 0,
 * so it can never fork.
 */
int sandbox_enter_forker(const struct sandbox *sb, const int *keep,
    size_t n_keep);
int sandbox_narrow(const struct sandbox *sb);

/* Internal to the filter build (worker/sandbox_filter.c): the worker's
 * table, with forker the forker's rows too, exported as BPF into prog (its
 * filter malloc'd).  0, or an error after logging. */
struct sock_fprog;
int sandbox_filter_build(struct sock_fprog *prog, bool forker);

/* Internal to the filter build (worker/sandbox_args.c): add the rows that
 * check arguments (socket, socketpair, setsockopt, getsockopt, futex) and,
 * in SANITIZE builds only, what the sanitizer runtime needs, to a
 * libseccomp context (scmp_filter_ctx).  0, or -1 after logging. */
int sandbox_rules_args(void *ctx);
int sandbox_rules_sanitizer(void *ctx);

/* The seccomp part alone (tests/unit/test_sandbox.c installs it on itself). */
int sandbox_load_filter(const struct sandbox *sb);

#endif
