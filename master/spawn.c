/*
 * What a child the master forks itself does before it becomes a worker:
 * TCP wrappers, the accept record, the relay pipes (made as root, see
 * relay.h), the sandbox, then worker_serve.  A forker's child inherits
 * the sandbox instead (forker/forker.c); -i enters it too
 * (master/inetd.c).
 */
#include <sys/socket.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/proctitle.h"
#include "conf/conf.h"
#include "master/master.h"
#include "forker/forker.h"
#include "master/spawn.h"
#include "relay/relay.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

/* Enter the sandbox keeping only what a worker uses; on failure the worker
 * must not serve (audited, exit). */
int
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

void
spawn_worker(const struct spawn_ctx *ctx, int client_fd,
    const struct sockaddr_storage *client, uint32_t id)
{
	struct worker_client wc = { .in_fd = client_fd, .out_fd = client_fd,
	    .addr = *client, .have_addr = true };
	struct worker_opts wo = spawn_worker_opts(ctx, id);
	struct relay_pipes pipes;
	char shown[NET_ADDRSTR_MAX];

	proc_child_signals();
	net_addr_format((const struct sockaddr *)client, shown, sizeof(shown));
	proctitle_set("worker", shown);
	log_procname("worker");

	if (!wrap_check(ctx->conf, client_fd, (const struct sockaddr *)client,
	    ctx->wrap_rules))
		_exit(WORKER_EXIT_DENIED);
	audit_post_accept((const struct sockaddr *)&wc.addr);
	if (relay_pipes_open(&pipes) != 0) {
		log_warn("relay pipes");
		_exit(WORKER_EXIT_INTERNAL);
	}
	if (spawn_sandbox(ctx->sb, &wc, &pipes, ctx->inherit,
	    ctx->n_inherit) != 0)
		_exit(WORKER_EXIT_INTERNAL);
	_exit(worker_serve(ctx->conf, &wc, &wo, &pipes));
}

