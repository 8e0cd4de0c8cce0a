/*
 * What a forked child does before it becomes a worker: TCP wrappers, the
 * accept record, the relay pipes (made as root, see relay.h), the sandbox,
 * then worker_serve.  Also -i, where this process itself is the worker.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

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

/* Enter the sandbox keeping only what a worker uses; on failure the worker
 * must not serve (audited, exit). */
static int
spawn_sandbox(const struct sandbox *sb, const struct worker_client *wc,
    const struct worker_opts *wo, const struct relay_pipes *pipes,
    const int *extra, size_t n_extra)
{
	int keep[16] = { wc->in_fd, wc->out_fd, audit_file_fd(),
	    log_syslog_fd(), wo->authd_door, wo->resolver_door, pipes->c2d[0],
	    pipes->c2d[1], pipes->d2c[0], pipes->d2c[1], wo->health_fd };
	size_t n_keep = 11;
	int rc;

	for (size_t i = 0; i < n_extra && n_keep < 16; i++)
		keep[n_keep++] = extra[i];
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
	(void)audit_write(&rec);
}

void
spawn_worker(const struct spawn_ctx *ctx, int client_fd,
    const struct sockaddr_storage *client)
{
	struct worker_client wc = { .in_fd = client_fd, .out_fd = client_fd,
	    .addr = *client, .have_addr = true };
	struct worker_opts wo = { .relay_copy = ctx->relay_copy,
	    .authd_door = ctx->authd_door, .resolver_door = ctx->resolver_door,
	    .health_fd = ctx->health_fd, .health = ctx->health,
	    .health_gen = ctx->health_gen };
	struct relay_pipes pipes;
	char shown[NET_ADDRSTR_MAX];

	proc_child_signals();
	net_addr_format((const struct sockaddr *)client, shown, sizeof(shown));
	proctitle_set("socks5d: worker %s", shown);
	log_procname("worker");

	if (!wrap_check(ctx->conf, client_fd, (const struct sockaddr *)client,
	    ctx->wrap_rules))
		_exit(WORKER_EXIT_DENIED);
	audit_accept(&wc);
	if (relay_pipes_open(&pipes) != 0) {
		log_warn("relay pipes");
		_exit(WORKER_EXIT_INTERNAL);
	}
	if (spawn_sandbox(ctx->sb, &wc, &wo, &pipes, NULL, 0) != 0)
		_exit(WORKER_EXIT_INTERNAL);
	_exit(worker_serve(ctx->conf, &wc, &wo, &pipes));
}

void
spawn_spare(const struct spawn_ctx *ctx, int chan)
{
	struct worker_client wc = { .in_fd = -1, .out_fd = -1,
	    .have_addr = true };
	struct worker_opts wo = { .relay_copy = ctx->relay_copy,
	    .authd_door = ctx->authd_door, .resolver_door = ctx->resolver_door,
	    .health_fd = ctx->health_fd, .health = ctx->health,
	    .health_gen = ctx->health_gen };
	struct relay_pipes pipes;
	uint8_t msg[IPC_ADDR_LEN + 2];
	char shown[NET_ADDRSTR_MAX];
	struct rd r;
	size_t len;
	int fd, keep_chan[1] = { chan };

	proc_child_signals();
	proctitle_set("socks5d: spare");
	log_procname("worker");
	if (relay_pipes_open(&pipes) != 0) {
		log_warn("relay pipes");
		_exit(WORKER_EXIT_INTERNAL);
	}
	/* The whole sandbox before any client exists: the spare's only
	 * extra descriptor is its channel to the master. */
	if (spawn_sandbox(ctx->sb, &wc, &wo, &pipes, keep_chan, 1) != 0)
		_exit(WORKER_EXIT_INTERNAL);
	if (ipc_recv(chan, IPC_CLIENT, FROM_MASTER, msg, sizeof(msg), &len,
	    &fd, NULL) != 0 || fd == -1)
		_exit(WORKER_EXIT_OK);   /* retired, or the master is gone */
	close(chan);
	rd_init(&r, msg, len);
	if (ipc_endpoint_get(&r, &wc.addr) != 0 || rd_end(&r) != 0)
		_exit(WORKER_EXIT_INTERNAL);
	wc.in_fd = wc.out_fd = fd;
	net_addr_format((const struct sockaddr *)&wc.addr, shown, sizeof(shown));
	proctitle_set("socks5d: worker %s", shown);
	/* The master hands a client to a spare only when the hosts_access
	 * tables hold no rule; the record says so. */
	(void)wrap_check(ctx->conf, fd, (const struct sockaddr *)&wc.addr,
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
	    .health_fd = -1 };
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
	sandbox_ids(sb, &uid, &gid);
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
	if (spawn_sandbox(sb, &wc, &wo, &pipes, NULL, 0) != 0)
		return WORKER_EXIT_INTERNAL;
	return worker_serve(conf, &wc, &wo, &pipes) == WORKER_EXIT_INTERNAL ?
	    1 : 0;
}
