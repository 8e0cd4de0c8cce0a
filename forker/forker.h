/*
 * The forker ("zygote"): the one process that forks workers for the
 * master.  Forked by the master once its helpers run, it enters a sandbox
 * at once (chroot, the -u user, no_new_privs, rlimits, a seccomp filter:
 * worker/sandbox.c), so each worker it forks inherits the sandbox instead
 * of building it.  It keeps one spare child forked ahead, whose channel
 * it gives the master (IPC_SPARE), and forks the next when the master
 * says that one has a client (IPC_TAKEN); for an IPC_FORK (no spare was
 * ready) it forks and answers IPC_FORKED; it reports each child it reaps
 * with IPC_REAPED (common/ipc.h).  It holds no table and formats nothing
 * per session.
 */
#ifndef SOCKS5D_FORKER_H
#define SOCKS5D_FORKER_H

#include <stdint.h>

#include "worker/worker.h"

struct spawn_ctx;

/* A worker's options for session id from ctx; shared by the master's own
 * forks (master/spawn.c) and the forker's. */
struct worker_opts spawn_worker_opts(const struct spawn_ctx *ctx,
    uint32_t id);

/* ctx->inherit from ctx's descriptors, the audit door and syslog: the
 * master fills it for its forks and its in-process forkers, the session
 * image for itself (forker/image.c). */
void spawn_inherit_fill(struct spawn_ctx *ctx);

/* In the child of the master's fork: become the forker on chan (the
 * forker's end of the socketpair).  Exits 0 on IPC_RETIRE or when the
 * master's end closes, WORKER_EXIT_INTERNAL when the sandbox fails. */
void forker_main(const struct spawn_ctx *ctx, int chan)
    __attribute__((noreturn));

#endif
