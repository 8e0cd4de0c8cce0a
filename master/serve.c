/*
 * The master's loop: accept, reload, stop.  Per accepted client the master
 * does only this: the penalty and ban checks, two pipes, one IPC_FORK to
 * the forker, one row in the child table.  The forker forks (master/
 * forker.c, forker/forker.c); the master forks a worker itself only when
 * TCP wrappers have rules to read (hosts_access needs the files, which
 * the chrooted forker cannot open; see master/wrap.c) or while no forker
 * runs.
 *
 * Globals: the three signal flags below (set by handlers, acted on by the
 * loop, STYLE 6).  Everything else lives in struct master (master/state.h),
 * one per process.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/proctitle.h"
#include "conf/conf.h"
#include "master/master.h"
#include "master/health.h"
#include "master/kmsg.h"
#include "master/penalty.h"
#include "master/state.h"
#include "master/spawn.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

static volatile sig_atomic_t got_sigchld;
static volatile sig_atomic_t got_sighup;
static volatile sig_atomic_t got_stop;

/* How many connections one wake-up accepts before the loop looks at
 * signals again, so a flood cannot starve reaping or a stop. */
enum { ACCEPT_BURST = 64 };

/* After accept fails for want of descriptors or memory. */
enum { ACCEPT_PAUSE_MS = 100 };

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGCHLD:
		got_sigchld = 1;
		break;
	case SIGHUP:
		got_sighup = 1;
		break;
	default:
		got_stop = 1;
		break;
	}
}

static void
signals_install(sigset_t *wait_mask)
{
	struct sigaction sa;
	sigset_t block;
	const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	/* Blocked except inside ppoll, so a signal can never slip in between
	 * checking the flags and going to sleep. */
	sigprocmask(SIG_BLOCK, &block, wait_mask);
	sigdelset(wait_mask, SIGCHLD);
	sigdelset(wait_mask, SIGHUP);
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
}

void
master_conf_diag(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	(void)ctx;
	if (line == 0)
		log_warnx("%s: %s%s", file, is_error ? "" : "warning: ", msg);
	else
		log_warnx("%s:%u: %s%s", file, line,
		    is_error ? "" : "warning: ", msg);
}

int
master_conf_load(const char *path, bool for_image, struct conf **out,
    int *sealed)
{
	*sealed = -1;
	/* Without an image nothing needs the sealed copy, and what only it
	 * bounds (the number of port names) must not refuse a file. */
	if (!for_image)
		return conf_load_flags(path, CONF_PARSE_UNKNOWN_VAR_WARNS, out,
		    master_conf_diag, NULL);
	return conf_load_sealed(path, CONF_PARSE_UNKNOWN_VAR_WARNS, out,
	    sealed, master_conf_diag, NULL);
}

/* SIGHUP: the new file replaces the old only if it loads completely.
 * Running workers keep the copy they forked with. */
static void
master_reload(struct master *m)
{
	struct conf *fresh;
	const struct conf_vars *old_vars = conf_vars(m->conf);
	int sealed;

	log_info("SIGHUP: reloading %s", m->opts->conf_path);
	/* m->image_fd, not the start's: the master may have given the
	 * image up since. */
	if (master_conf_load(m->opts->conf_path, m->image_fd != -1, &fresh,
	    &sealed) != 0) {
		log_warnx("reload of %s refused; the previous rules stay in "
		    "force", m->opts->conf_path);
		/* Log rotation works even so. */
		auditlog_reopen(m);
		return;
	}
	if (strcmp(old_vars->bindintfc, conf_vars(fresh)->bindintfc) != 0 ||
	    old_vars->has_bindintfc != conf_vars(fresh)->has_bindintfc)
		log_warnx("SOCKS5_BINDINTFC changed: takes effect at restart");
	if (old_vars->penalty_table != conf_vars(fresh)->penalty_table)
		log_warnx("SOCKS5_PENALTY_TABLE changed: takes effect at "
		    "restart");
	/* The ids were looked up and checked at start (sandbox_prepare);
	 * restarted helpers keep them. */
	if (strcmp(old_vars->helper_user, conf_vars(fresh)->helper_user) != 0)
		log_warnx("SOCKS5_HELPER_USER changed: takes effect at "
		    "restart");
	conf_free(m->conf);
	m->conf = fresh;
	if (m->conf_sealed != -1)
		close(m->conf_sealed);
	m->conf_sealed = sealed;
	/* Reopen the audit file too, so that log rotation works. */
	auditlog_reopen(m);
	penalty_v6_prefix(m->penalty, conf_vars(fresh)->penalty_v6_prefix);
	/* Line numbers of the old file mean nothing in the new one. */
	health_reload(&m->health);
	/* authd checks with its own copy of the settings (PAM service):
	 * replace it; the reaper starts the new one. */
	if (m->helpers[HELPER_AUTHD].pid > 0)
		kill(m->helpers[HELPER_AUTHD].pid, SIGTERM);
	/* The forker was forked with the old rules. */
	forker_launch(m);
	log_info("reloaded %s", m->opts->conf_path);
}

/* Close a connection refused before any byte is read (grammar 4.1: no
 * reply), with its audit record. */
static void
refuse_at_accept(struct master *m, int fd,
    const struct sockaddr_storage *client, const char *rule,
    const char *reason)
{
	struct audit_rec rec = AUDIT_REC("ban");

	rec.decision = "deny";
	rec.client = (const struct sockaddr *)client;
	rec.rule = rule;
	rec.reason = reason;
	/* A flood of these is counted, not written (README "Audit
	 * records"). */
	auditlog_refused(m, &rec);
	close(fd);
}

/* Account for a worker now serving client; one that cannot be accounted
 * for must not run (the grace period could not end it). */
static void
child_track(struct master *m, pid_t pid, uint32_t id,
    const struct sockaddr_storage *client)
{
	if (children_add(m, pid, 0, id, client) != 0) {
		log_warnx("child table full; dropping worker %ld", (long)pid);
		kill(pid, SIGKILL);
	}
}

static void
master_accept(struct master *m, int listen_fd)
{
	for (int burst = 0; burst < ACCEPT_BURST; burst++) {
		struct sockaddr_storage client;
		socklen_t len = sizeof(client);
		unsigned ban_line;
		bool wrap_rules;
		uint32_t id;
		pid_t pid;
		int fd, limit;

		if (m->n_children >= conf_vars(m->conf)->max_child) {
			if (!m->at_limit)
				log_warnx("SOCKS5_MAXCHILD (%u) workers running; "
				    "new clients wait until one exits",
				    conf_vars(m->conf)->max_child);
			m->at_limit = true;
			return;
		}
		fd = accept4(listen_fd, (struct sockaddr *)&client, &len,
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* The connection stays queued and the socket
				 * readable: polling it again at once would spin.
				 * Pause accepting for a moment instead. */
				if (!m->accept_paused)
					log_warn("accept: pausing for %d ms",
					    ACCEPT_PAUSE_MS);
				m->accept_paused = true;
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED) {
				log_warn("accept");
			}
			return;
		}
		m->accept_paused = false;
		if (penalty_check(m->penalty, (struct sockaddr *)&client) > 0) {
			refuse_at_accept(m, fd, &client, "penalty",
			    "an earlier worker for this address crashed");
			continue;
		}
		if ((ban_line = rules_ban(m->conf, (struct sockaddr *)&client))
		    != 0) {
			char rule[300];

			conf_rule_format(m->conf, ban_line, rule,
			    sizeof(rule));
			refuse_at_accept(m, fd, &client, rule, NULL);
			continue;
		}
		if ((limit = limits_accept(m, &client, rules_proxy_trusted(m->conf,
		    (struct sockaddr *)&client))) != LIMIT_GO) {
			refuse_at_accept(m, fd, &client, limit_rule_str(limit),
			    limit_reason_str(limit));
			continue;
		}
		wrap_rules = wrap_needed(m->conf);
		/* The forker's children are already sandboxed, so it can only
		 * serve a client whose hosts_access check has nothing to
		 * read.  A forker that is behind or gone: the master forks. */
		if (!wrap_rules && forker_hand(m, fd, &client) == 0) {
			close(fd);
			continue;
		}
		id = ++m->next_id;
		pid = fork();
		if (pid == 0) {
			struct spawn_ctx ctx;

			spawn_ctx_fill(m, wrap_rules, &ctx);
			for (size_t i = 0; i < m->n_listen; i++)
				close(m->listen_fds[i]);
			if (m->kmsg_fd != -1)
				close(m->kmsg_fd);
			if (m->health.master_fd != -1)
				close(m->health.master_fd);
			if (m->door_fd != -1)
				close(m->door_fd);
			spawn_worker(&ctx, fd, &client, id);
		}
		close(fd);
		if (pid == -1) {
			log_warn("fork");
			return;
		}
		child_track(m, pid, id, &client);
	}
}

static void
master_stop_begin(struct master *m)
{
	unsigned grace = conf_vars(m->conf)->shutdown_grace_s;

	m->stopping = true;
	/* It forks for the clients already queued, then exits; its workers
	 * become the master's, and run out their grace. */
	forkers_retire(m);
	for (size_t i = 0; i < m->n_listen; i++)
		close(m->listen_fds[i]);
	m->n_listen = 0;
	clock_gettime(CLOCK_MONOTONIC, &m->stop_deadline);
	m->stop_deadline.tv_sec += grace;
	log_info("stopping: %zu session(s) may run for up to %u s",
	    m->n_children, grace);
}

static bool
forkers_alive(const struct master *m)
{
	for (size_t i = 0; i < FORKERS_MAX; i++)
		if (m->forkers[i].pid > 0)
			return true;
	return false;
}

static int
stop_ms_left(const struct master *m)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(m->stop_deadline.tv_sec - now.tv_sec) * 1000 +
	    (m->stop_deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms <= 0 ? 0 : ms > 1000000000 ? 1000000000 : (int)ms;
}

int
master_serve(const struct master_opts *opts, struct conf *conf,
    int conf_sealed, const struct sandbox *sb, int *listen_fds,
    size_t n_listen)
{
	struct master m = { .opts = opts, .conf = conf,
	    .conf_sealed = conf_sealed, .image_fd = opts->image_fd, .sb = sb,
	    .listen_fds = listen_fds, .n_listen = n_listen, .kmsg_fd = -1,
	    .door_fd = -1, .door_worker_fd = -1 };
	sigset_t wait_mask;

	m.helpers[HELPER_AUTHD] = (struct helper){ .kind = HELPER_AUTHD,
	    .worker_door = -1 };
	m.helpers[HELPER_RESOLVER] = (struct helper){ .kind = HELPER_RESOLVER,
	    .worker_door = -1 };
	m.audit_file = opts->audit_fd;
	m.auditd = (struct auditd){ .door = -1, .ctl = -1 };
	m.refused = (struct audit_limit){ .what = "connections refused at "
	    "accept" };
	/* Sized once: SOCKS5_PENALTY_TABLE changes take effect at restart,
	 * so a reload never forgets who is blocked. */
	if (penalty_new(conf_vars(conf)->penalty_table, &m.penalty) != 0)
		fatalx("out of memory");
	penalty_v6_prefix(m.penalty, conf_vars(conf)->penalty_v6_prefix);
	for (size_t i = 0; i < FORKERS_MAX; i++)
		m.forkers[i].chan = m.forkers[i].spare_chan = -1;
	if (sandbox_privileged(sb))
		m.kmsg_fd = kmsg_open();
	/* Without it chaining still works, only without the memory of
	 * failed upstreams. */
	if (health_open(&m.health) != 0)
		log_warnx("upstream health disabled");
	/* Without it the limits that need a worker's word (SOCKS5_MAXSTARTUPS
	 * counts every connection as negotiating until it ends, the real
	 * client behind a load balancer, the per-user limit) fail closed. */
	if (door_open(&m) != 0)
		log_warnx("master door disabled");
	/* Workers of a forker that dies are re-parented to the master, which
	 * reaps and accounts for them like its own. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		fatal("PR_SET_CHILD_SUBREAPER");
	signals_install(&wait_mask);
	proctitle_set("master", NULL);
	/* The logger, then the helpers, before the first worker. */
	auditlog_launch(&m);
	helper_launch(&m, HELPER_AUTHD);
	helper_launch(&m, HELPER_RESOLVER);
	/* One forker per CPU: each forks serially, and forks on different
	 * CPUs overlap. */
	{
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		m.forkers_wanted = ncpu < 1 ? 1 : ncpu > FORKERS_ACTIVE_MAX ?
		    FORKERS_ACTIVE_MAX : (size_t)ncpu;
	}
	forker_launch(&m);
	for (;;) {
		/* The listeners, one channel per forker, and the upstream
		 * health reports. */
		struct pollfd pfds[LISTEN_MAX + FORKERS_MAX + 2];
		struct forker *pf[LISTEN_MAX + FORKERS_MAX + 2];
		struct timespec ts, *tsp = NULL;
		nfds_t npfd = 0;
		int n;

		if (got_sigchld) {
			got_sigchld = 0;
			children_reap(&m);
		}
		if (got_sighup) {
			got_sighup = 0;
			if (!m.stopping)
				master_reload(&m);
		}
		if (got_stop) {
			got_stop = 0;
			if (!m.stopping)
				master_stop_begin(&m);
		}
		helpers_due(&m);
		auditlog_due(&m);
		if (m.stopping) {
			if (m.n_children == 0 && !forkers_alive(&m))
				break;
			if (stop_ms_left(&m) == 0 && !m.killed_children) {
				log_warnx("grace period over: ending %zu "
				    "session(s)", m.n_children);
				children_kill_all(&m);
			}
			ts.tv_sec = stop_ms_left(&m) / 1000;
			ts.tv_nsec = (long)(stop_ms_left(&m) % 1000) * 1000000;
			if (!m.killed_children)
				tsp = &ts;
		} else if (m.accept_paused) {
			ts.tv_sec = 0;
			ts.tv_nsec = (long)ACCEPT_PAUSE_MS * 1000000;
			tsp = &ts;
		} else if (m.helper_pending[0] || m.helper_pending[1] ||
		    m.forker_pending) {
			/* Wake up to restart a helper or the forker. */
			ts.tv_sec = HELPER_RESTART_DELAY_S;
			ts.tv_nsec = 0;
			tsp = &ts;
		}
		{
			/* A logger restart, a summary due. */
			int ms = auditlog_wait_ms(&m);

			if (ms >= 0 && (tsp == NULL || ms < ts.tv_sec * 1000 +
			    ts.tv_nsec / 1000000)) {
				ts.tv_sec = ms / 1000;
				ts.tv_nsec = (long)(ms % 1000) * 1000000;
				tsp = &ts;
			}
		}
		if (!m.stopping && !m.at_limit && !m.accept_paused) {
			for (size_t i = 0; i < m.n_listen; i++) {
				pfds[npfd].fd = m.listen_fds[i];
				pfds[npfd].events = POLLIN;
				pfds[npfd].revents = 0;
				pf[npfd] = NULL;
				npfd++;
			}
		}
		if (m.health.master_fd != -1) {
			pfds[npfd].fd = m.health.master_fd;
			pfds[npfd].events = POLLIN;
			pfds[npfd].revents = 0;
			pf[npfd] = NULL;
			npfd++;
		}
		for (size_t i = 0; i < FORKERS_MAX; i++) {
			if (m.forkers[i].pid == 0 || m.forkers[i].chan == -1)
				continue;
			pfds[npfd].fd = m.forkers[i].chan;
			pfds[npfd].events = POLLIN;
			pfds[npfd].revents = 0;
			pf[npfd] = &m.forkers[i];
			npfd++;
		}
		/* After the forkers: their fork reports come first. */
		if (m.door_fd != -1) {
			pfds[npfd].fd = m.door_fd;
			pfds[npfd].events = POLLIN;
			pfds[npfd].revents = 0;
			pf[npfd] = NULL;
			npfd++;
		}
		n = ppoll(pfds, npfd, tsp, &wait_mask);
		if (n == 0 && m.accept_paused)
			m.accept_paused = false;   /* try the listeners again */
		if (n == -1) {
			if (errno != EINTR)
				fatal("ppoll");
			continue;
		}
		for (nfds_t i = 0; i < npfd && n > 0; i++) {
			if (pfds[i].revents == 0)
				continue;
			if (pf[i] != NULL)
				forker_drain(&m, pf[i]);
			else if ((pfds[i].revents & POLLIN) == 0)
				continue;
			else if (pfds[i].fd == m.health.master_fd)
				health_reports(&m.health, m.conf);
			else if (pfds[i].fd == m.door_fd)
				door_drain(&m);
			else
				master_accept(&m, pfds[i].fd);
		}
	}
	for (int i = 0; i < 2; i++)
		if (m.helpers[i].pid > 0)
			kill(m.helpers[i].pid, SIGTERM);
	audit_limit_flush(&m.refused);
	auditlog_stop(&m);
	log_info("stopped");
	conf_free(m.conf);
	while (m.n_children > 0)
		children_drop(&m, m.n_children - 1);
	children_free(&m);
	penalty_free(m.penalty);
	return EXIT_CLEAN;
}
