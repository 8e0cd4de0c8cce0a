/*
 * -i: one inetd-style session in this process.  It starts its own audit
 * logger, authd and resolver (they exit with it), runs TCP wrappers,
 * enters the worker sandbox itself and serves the client on stdin/stdout.
 */
#include <sys/socket.h>

#include <unistd.h>

#include "auditd/auditd.h"
#include "authd/authd.h"
#include "common/audit.h"
#include "common/log.h"
#include "common/proctitle.h"
#include "conf/conf.h"
#include "master/master.h"
#include "master/spawn.h"
#include "relay/relay.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

#ifdef SOCKS5D_SANITIZE
#include <sanitizer/lsan_interface.h>
#endif

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
	audit_post_accept(wc.have_addr ?
	    (const struct sockaddr *)&wc.addr : NULL);
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
