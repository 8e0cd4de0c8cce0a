/*
 * What a forked child does before it becomes a worker.  Forked by the
 * master: TCP wrappers, the accept record, the relay pipes (made as root,
 * see relay.h), the sandbox, then worker_serve.  Forked by the forker: the
 * sandbox is inherited and only narrowed; the master made the pipes.  Also
 * -i, where this process itself is the worker.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "auditd/auditd.h"
#include "authd/authd.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/proctitle.h"
#include "common/rd.h"
#include "conf/conf.h"
#include "master/master.h"
#include "master/spawn.h"
#include "relay/relay.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#ifdef SOCKS5D_SANITIZE
#include <sanitizer/lsan_interface.h>
#endif

/* Enter the sandbox keeping only what a worker uses; on failure the worker
 * must not serve (audited, exit). */
static int
spawn_sandbox(const struct sandbox *sb, const struct worker_client *wc,
    const struct relay_pipes *pipes, const int *inherit, size_t n_inherit)
{
	int keep[SPAWN_INHERIT_MAX + 7] = { wc->in_fd, wc->out_fd,
	    pipes->c2d[0], pipes->c2d[1], pipes->d2c[0], pipes->d2c[1] };
	size_t n_keep = 6;
	int rc;

	for (size_t i = 0; i < n_inherit && i < SPAWN_INHERIT_MAX; i++)
		keep[n_keep++] = inherit[i];
	/* The wrap and accept records opened this worker's audit channel. */
	keep[n_keep++] = audit_chan_fd();
	if ((rc = sandbox_enter(sb, keep, n_keep)) != 0) {
		struct audit_rec rec = AUDIT_REC("error");

		rec.client = wc->have_addr ? (const struct sockaddr *)&wc->addr :
		    NULL;
		rec.reason = "sandbox set-up failed";
		rec.pid = getpid();
		(void)audit_write(&rec);
	}
	return rc;
}

static void
audit_accept(const struct worker_client *wc)
{
	struct audit_rec rec = AUDIT_REC("accept");

	rec.decision = "permit";
	rec.client = wc->have_addr ? (const struct sockaddr *)&wc->addr : NULL;
	rec.pid = getpid();
	/* No reply follows it: the request record's wait covers it. */
	(void)audit_post(&rec);
}

void
spawn_worker(const struct spawn_ctx *ctx, int client_fd,
    const struct sockaddr_storage *client, uint32_t id)
{
	struct worker_client wc = { .in_fd = client_fd, .out_fd = client_fd,
	    .addr = *client, .have_addr = true };
	struct worker_opts wo = { .relay_copy = ctx->relay_copy,
	    .authd_door = ctx->authd_door, .resolver_door = ctx->resolver_door,
	    .health_fd = ctx->health_fd, .health = ctx->health,
	    .health_gen = ctx->health_gen, .master_door = ctx->master_door,
	    .session_id = id };
	struct relay_pipes pipes;
	char shown[NET_ADDRSTR_MAX];

	proc_child_signals();
	net_addr_format((const struct sockaddr *)client, shown, sizeof(shown));
	proctitle_set("worker", shown);
	log_procname("worker");

	if (!wrap_check(ctx->conf, client_fd, (const struct sockaddr *)client,
	    ctx->wrap_rules))
		_exit(WORKER_EXIT_DENIED);
	audit_accept(&wc);
	if (relay_pipes_open(&pipes) != 0) {
		log_warn("relay pipes");
		_exit(WORKER_EXIT_INTERNAL);
	}
	if (spawn_sandbox(ctx->sb, &wc, &pipes, ctx->inherit,
	    ctx->n_inherit) != 0)
		_exit(WORKER_EXIT_INTERNAL);
	_exit(worker_serve(ctx->conf, &wc, &wo, &pipes));
}

void
spawn_forked(const struct spawn_ctx *ctx,
    const struct sockaddr_storage *client, const int fds[IPC_FORK_FDS],
    uint32_t id)
{
	struct worker_client wc = { .in_fd = fds[0], .out_fd = fds[0],
	    .addr = *client, .have_addr = true };
	struct worker_opts wo = { .relay_copy = ctx->relay_copy,
	    .authd_door = ctx->authd_door, .resolver_door = ctx->resolver_door,
	    .health_fd = ctx->health_fd, .health = ctx->health,
	    .health_gen = ctx->health_gen, .master_door = ctx->master_door,
	    .session_id = id };
	struct relay_pipes pipes = { .c2d = { fds[1], fds[2] },
	    .d2c = { fds[3], fds[4] } };
	char shown[NET_ADDRSTR_MAX];

	/* The title is formatted here, in the child, in parallel with the
	 * next fork: neither the master nor the forker formats anything per
	 * session. */
	net_addr_format((const struct sockaddr *)client, shown, sizeof(shown));
	proctitle_set("worker", shown);
	log_procname("worker");
	/* The master hands a client to the forker only when the hosts_access
	 * tables hold no rule; the record says so. */
	(void)wrap_check(ctx->conf, wc.in_fd, (const struct sockaddr *)client,
	    false);
	audit_accept(&wc);
	_exit(worker_serve(ctx->conf, &wc, &wo, &pipes));
}

int
master_serve_inetd(const struct master_opts *opts, struct conf *conf,
    const struct sandbox *sb)
{
	struct worker_client wc = { .in_fd = STDIN_FILENO,
	    .out_fd = STDOUT_FILENO };
	struct worker_opts wo = { .relay_copy = opts->relay_copy,
	    .health_fd = -1, .master_door = -1 };
	struct helper authd = { .kind = HELPER_AUTHD, .worker_door = -1 };
	struct helper resolver = { .kind = HELPER_RESOLVER, .worker_door = -1 };
	struct relay_pipes pipes;
	socklen_t len = sizeof(wc.addr);
	uid_t uid;
	gid_t gid;

	if (getpeername(STDIN_FILENO, (struct sockaddr *)&wc.addr, &len) == 0 &&
	    (wc.addr.ss_family == AF_INET || wc.addr.ss_family == AF_INET6)) {
		wc.have_addr = true;
		wc.out_fd = STDIN_FILENO;
	}
	proc_child_signals();
	/* The helpers' ids (SOCKS5_HELPER_USER): this process becomes the
	 * worker, and the helpers must not share its uid. */
	sandbox_helper_ids(sb, &uid, &gid);
	if (opts->audit_fd != -1) {
		struct auditd_ids ids = { .uid = uid, .gid = gid,
		    .privileged = sandbox_privileged(sb) };
		struct auditd logger;

		/* This process becomes the worker: it keeps only the door,
		 * and its records wait like any worker's. */
		if (auditd_start(&logger, opts->audit_fd,
		    conf_vars(conf)->audit_required, &ids) != 0)
			fatal("cannot start the audit logger");
		close(logger.ctl);
		close(opts->audit_fd);
		audit_set_logger(logger.door, -1);
	}
	/* The helpers exit with this process (PR_SET_PDEATHSIG).  They must
	 * not hold the client's socket (stdin/stdout here): its close is the
	 * end of the session the client sees. */
	{
		int for_authd[] = { STDIN_FILENO, STDOUT_FILENO };
		int for_resolver[] = { STDIN_FILENO, STDOUT_FILENO, -1 };

		if (helper_start(&authd, conf, uid, gid, for_authd, 2) != 0)
			fatal("cannot start authd");
		for_resolver[2] = authd.worker_door;
		if (helper_start(&resolver, conf, uid, gid, for_resolver, 3) != 0)
			fatal("cannot start the resolver");
	}
	wo.authd_door = authd.worker_door;
	wo.resolver_door = resolver.worker_door;
	if (wc.have_addr && !wrap_check(conf, STDIN_FILENO,
	    (const struct sockaddr *)&wc.addr, true))
		return WORKER_EXIT_DENIED;
	audit_accept(&wc);
	if (relay_pipes_open(&pipes) != 0)
		fatal("relay pipes");
#ifdef SOCKS5D_SANITIZE
	/* Unlike a worker, this process ends with exit(), whose leak check
	 * cannot run under the filter (it stops the world with prctl, clone
	 * and ptrace; the trap ended the session with status 125).  So it
	 * runs here, the last point it can, which turns the exit one off. */
	__lsan_do_leak_check();
#endif
	{
		int inherit[] = { audit_door_fd(), log_syslog_fd(),
		    wo.authd_door, wo.resolver_door };

		if (spawn_sandbox(sb, &wc, &pipes, inherit, 4) != 0)
			return WORKER_EXIT_INTERNAL;
	}
	return worker_serve(conf, &wc, &wo, &pipes) == WORKER_EXIT_INTERNAL ?
	    1 : 0;
}
