/*
 * The master's accept loop.
 *
 * Globals: the three signal flags below (set by handlers, acted on by the
 * loop, STYLE 6).  Everything else lives in struct master, one per process.
 */
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
#include "common/log.h"
#include "common/net.h"
#include "common/proctitle.h"
#include "conf/conf.h"
#include "master/master.h"
#include "master/health.h"
#include "master/kmsg.h"
#include "master/penalty.h"
#include "master/spare.h"
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

/* A helper that dies sooner than this after its start is restarted only
 * after this delay, so a helper that cannot start does not spin. */
enum { HELPER_RESTART_DELAY_S = 1 };

/* Spare workers kept ready (master/spare.h): enough that a burst of
 * clients finds one while the master forks the next.  A spare that fails
 * before it has a client (no descriptors, no memory, a sandbox error)
 * would otherwise be replaced at once, forever: after a failure, none is
 * started for SPARES_BACKOFF_S and each connection gets a fresh fork. */
enum { SPARES_WANTED = 2, SPARES_BACKOFF_S = 1 };

struct child {
	pid_t pid;
	struct sockaddr_storage client;
};

struct master {
	const struct master_opts *opts;
	struct conf *conf;
	const struct sandbox *sb;
	struct helper helpers[2];          /* HELPER_AUTHD, HELPER_RESOLVER */
	struct timespec helper_started[2];
	bool helper_pending[2];            /* restart due at helper_restart_at */
	struct timespec helper_restart_at[2];
	struct penalty *penalty;
	struct spare_pool spares;
	int kmsg_fd;                       /* kernel log, for SIGSYS details */
	struct health health;              /* upstream health (health.h) */
	int *listen_fds;
	size_t n_listen;
	struct child *children;
	size_t n_children, cap_children;
	bool at_limit;          /* not accepting: SOCKS5_MAXCHILD workers run */
	bool stopping;
	bool killed_children;   /* grace over: our SIGKILLs are not crashes */
	struct timespec stop_deadline;
	bool accept_paused;     /* out of descriptors or memory: back off */
	struct timespec spares_resume;  /* no spares before this (a spare
	                                 * failed to start) */
};

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

static int
children_add(struct master *m, pid_t pid, const struct sockaddr_storage *client)
{
	if (m->n_children == m->cap_children) {
		size_t cap = m->cap_children == 0 ? 64 : m->cap_children * 2;
		struct child *c = reallocarray(m->children, cap, sizeof(*c));

		if (c == NULL)
			return ERR_NOMEM;
		m->children = c;
		m->cap_children = cap;
	}
	m->children[m->n_children].pid = pid;
	m->children[m->n_children].client = *client;
	m->n_children++;
	return 0;
}

/* Remove pid from the table; the client it served goes to *client. */
static bool
children_remove(struct master *m, pid_t pid, struct sockaddr_storage *client)
{
	for (size_t i = 0; i < m->n_children; i++) {
		if (m->children[i].pid != pid)
			continue;
		*client = m->children[i].client;
		m->children[i] = m->children[--m->n_children];
		return true;
	}
	return false;
}

static void
spawn_ctx_fill(const struct master *m, bool wrap_rules, struct spawn_ctx *ctx)
{
	*ctx = (struct spawn_ctx){ .conf = m->conf, .sb = m->sb,
	    .authd_door = m->helpers[HELPER_AUTHD].worker_door,
	    .resolver_door = m->helpers[HELPER_RESOLVER].worker_door,
	    .health_fd = m->health.worker_fd, .health = m->health.ro,
	    .health_gen = m->health.gen,
	    .relay_copy = m->opts->relay_copy, .wrap_rules = wrap_rules };
}

/* Keep SPARES_WANTED spares ready, within SOCKS5_MAXCHILD. */
static void
spares_fill(struct master *m)
{
	struct spawn_ctx ctx;

	struct timespec now;

	if (m->stopping || m->helper_pending[0] || m->helper_pending[1])
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < m->spares_resume.tv_sec ||
	    (now.tv_sec == m->spares_resume.tv_sec &&
	    now.tv_nsec < m->spares_resume.tv_nsec))
		return;
	spawn_ctx_fill(m, false, &ctx);
	while (m->spares.n < SPARES_WANTED &&
	    m->n_children + m->spares.n < conf_vars(m->conf)->max_child) {
		if (spare_start(&m->spares, &ctx) != 0) {
			log_warn("cannot start a spare worker; none for %d s",
			    SPARES_BACKOFF_S);
			m->spares_resume = now;
			m->spares_resume.tv_sec += SPARES_BACKOFF_S;
			return;
		}
	}
}

static void
spares_failed(struct master *m, pid_t pid, int status)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec >= m->spares_resume.tv_sec)
		log_warnx("spare worker %ld %s %d; no spares for %d s",
		    (long)pid, WIFSIGNALED(status) ? "killed by signal" :
		    "failed with status", WIFSIGNALED(status) ?
		    WTERMSIG(status) : WEXITSTATUS(status), SPARES_BACKOFF_S);
	m->spares_resume = now;
	m->spares_resume.tv_sec += SPARES_BACKOFF_S;
}

static void
helper_launch(struct master *m, int i)
{
	int close_fds[LISTEN_MAX + 5];
	size_t n = 0;
	uid_t uid;
	gid_t gid;

	/* Spares hold the old door, so they go; and they go first: a helper
	 * forked while the master still held their channels would keep a
	 * copy open, and a retired spare would never see its channel close. */
	spare_retire_all(&m->spares);
	for (size_t j = 0; j < m->n_listen; j++)
		close_fds[n++] = m->listen_fds[j];
	/* The other helper's door is not this helper's business. */
	close_fds[n++] = m->helpers[1 - i].worker_door;
	close_fds[n++] = m->kmsg_fd;
	/* Helpers report nothing about upstreams. */
	close_fds[n++] = m->health.master_fd;
	close_fds[n++] = m->health.worker_fd;
	sandbox_ids(m->sb, &uid, &gid);
	m->helper_pending[i] = false;
	if (helper_start(&m->helpers[i], m->conf, uid, gid, close_fds, n) != 0) {
		log_warn("cannot start %s", i == HELPER_AUTHD ? "authd" :
		    "resolver");
		m->helper_pending[i] = true;
		clock_gettime(CLOCK_MONOTONIC, &m->helper_restart_at[i]);
		m->helper_restart_at[i].tv_sec += HELPER_RESTART_DELAY_S;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &m->helper_started[i]);
}

/* A helper exited: workers holding its old door fail closed; new workers
 * get the restarted one. */
static bool
helper_reaped(struct master *m, pid_t pid, int status)
{
	struct timespec now;

	for (int i = 0; i < 2; i++) {
		if (m->helpers[i].pid != pid)
			continue;
		helper_gone(&m->helpers[i]);
		if (m->stopping)
			return true;
		log_warnx("%s (pid %ld) exited (status %d%s); restarting",
		    i == HELPER_AUTHD ? "authd" : "resolver", (long)pid,
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		    WIFSIGNALED(status) ? ", signal" : "");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - m->helper_started[i].tv_sec <
		    HELPER_RESTART_DELAY_S) {
			m->helper_pending[i] = true;
			m->helper_restart_at[i] = now;
			m->helper_restart_at[i].tv_sec += HELPER_RESTART_DELAY_S;
		} else {
			helper_launch(m, i);
		}
		return true;
	}
	return false;
}

static void
helpers_due(struct master *m)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (int i = 0; i < 2; i++)
		if (m->helper_pending[i] && !m->stopping &&
		    now.tv_sec >= m->helper_restart_at[i].tv_sec)
			helper_launch(m, i);
}

/* A worker died by a signal we did not send: audit it, and penalise its
 * client if the signal is one a probe produces (master/penalty.c says
 * why). */
static void
worker_crashed(struct master *m, pid_t pid, int sig,
    const struct sockaddr_storage *client, bool known)
{
	struct audit_rec rec = AUDIT_REC("error");
	time_t blocked = 0;

	rec.client = known ? (const struct sockaddr *)client : NULL;
	rec.pid = pid;
	rec.signal = sig;
	if (sig == SIGSYS)
		rec.syscall = kmsg_seccomp_syscall(m->kmsg_fd, pid);
	rec.reason = sig == SIGSYS ? "worker killed by the sandbox" :
	    "worker killed by a signal";
	(void)audit_write(&rec);
	if (known && penalty_signal_counts(sig))
		blocked = penalty_strike(m->penalty,
		    (const struct sockaddr *)client,
		    conf_vars(m->conf)->penalty_s,
		    conf_vars(m->conf)->penalty_max_s);
	log_warnx("worker %ld killed by signal %d%s; client blocked for %lld s",
	    (long)pid, sig, sig == SIGSYS ? " (seccomp)" : "",
	    (long long)blocked);
}

static void
children_reap(struct master *m)
{
	struct sockaddr_storage client;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		bool known;

		if (helper_reaped(m, pid, status))
			continue;
		if (spare_reaped(&m->spares, pid)) {
			/* It had no client yet: nobody to penalise. */
			if (WIFSIGNALED(status) ||
			    WEXITSTATUS(status) != WORKER_EXIT_OK)
				spares_failed(m, pid, status);
			continue;
		}
		known = children_remove(m, pid, &client);
		if (WIFSIGNALED(status) && !m->killed_children)
			worker_crashed(m, pid, WTERMSIG(status), &client, known);
		else if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == WORKER_EXIT_INTERNAL)
			log_warnx("worker %ld failed (exit %d)", (long)pid,
			    WEXITSTATUS(status));
	}
	if (m->at_limit && m->n_children < conf_vars(m->conf)->max_child) {
		m->at_limit = false;
		log_info("below SOCKS5_MAXCHILD again (%zu workers); accepting",
		    m->n_children);
	}
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

/* SIGHUP: the new file replaces the old only if it loads completely.
 * Running workers keep the copy they forked with. */
static void
master_reload(struct master *m)
{
	struct conf *fresh;
	const struct conf_vars *old_vars = conf_vars(m->conf);

	log_info("SIGHUP: reloading %s", m->opts->conf_path);
	/* Reopen the audit file too, so that log rotation works. */
	if (m->opts->audit_path != NULL && audit_open(m->opts->audit_path) != 0)
		log_warn("cannot reopen the audit file %s; still writing the "
		    "old one", m->opts->audit_path);
	if (conf_load_flags(m->opts->conf_path, CONF_PARSE_UNKNOWN_VAR_WARNS,
	    &fresh, master_conf_diag, NULL) != 0) {
		log_warnx("reload of %s refused; the previous rules stay in "
		    "force", m->opts->conf_path);
		return;
	}
	if (strcmp(old_vars->bindintfc, conf_vars(fresh)->bindintfc) != 0 ||
	    old_vars->has_bindintfc != conf_vars(fresh)->has_bindintfc)
		log_warnx("SOCKS5_BINDINTFC changed: takes effect at restart");
	if (old_vars->penalty_table != conf_vars(fresh)->penalty_table)
		log_warnx("SOCKS5_PENALTY_TABLE changed: takes effect at "
		    "restart");
	conf_free(m->conf);
	m->conf = fresh;
	penalty_v6_prefix(m->penalty, conf_vars(fresh)->penalty_v6_prefix);
	/* Line numbers of the old file mean nothing in the new one. */
	health_reload(&m->health);
	/* authd checks with its own copy of the settings (PAM service):
	 * replace it; the reaper starts the new one. */
	if (m->helpers[HELPER_AUTHD].pid > 0)
		kill(m->helpers[HELPER_AUTHD].pid, SIGTERM);
	/* Spares were forked with the old rules. */
	spare_retire_all(&m->spares);
	log_info("reloaded %s", m->opts->conf_path);
}

/* Close a connection refused before any byte is read (grammar 4.1: no
 * reply), with its audit record. */
static void
refuse_at_accept(int fd, const struct sockaddr_storage *client,
    const char *rule, const char *reason)
{
	struct audit_rec rec = AUDIT_REC("ban");

	rec.decision = "deny";
	rec.client = (const struct sockaddr *)client;
	rec.rule = rule;
	rec.reason = reason;
	(void)audit_write(&rec);
	close(fd);
}

/* Account for a worker now serving client; one that cannot be accounted
 * for must not run (the grace period could not end it). */
static void
child_track(struct master *m, pid_t pid, const struct sockaddr_storage *client)
{
	if (children_add(m, pid, client) != 0) {
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
		pid_t pid;
		int fd;

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
			refuse_at_accept(fd, &client, "penalty",
			    "an earlier worker for this address crashed");
			continue;
		}
		if ((ban_line = rules_ban(m->conf, (struct sockaddr *)&client))
		    != 0) {
			char rule[300];

			conf_rule_format(m->conf, ban_line, rule,
			    sizeof(rule));
			refuse_at_accept(fd, &client, rule, NULL);
			continue;
		}
		wrap_rules = wrap_needed(m->conf);
		/* A spare is already sandboxed, so it can only serve a client
		 * whose hosts_access check has nothing to read. */
		if (!wrap_rules && spare_hand(&m->spares, fd, &client, &pid)) {
			close(fd);
			child_track(m, pid, &client);
			continue;
		}
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
			spawn_worker(&ctx, fd, &client);
		}
		close(fd);
		if (pid == -1) {
			log_warn("fork");
			return;
		}
		child_track(m, pid, &client);
	}
}

static void
master_stop_begin(struct master *m)
{
	unsigned grace = conf_vars(m->conf)->shutdown_grace_s;

	m->stopping = true;
	spare_retire_all(&m->spares);
	for (size_t i = 0; i < m->n_listen; i++)
		close(m->listen_fds[i]);
	m->n_listen = 0;
	clock_gettime(CLOCK_MONOTONIC, &m->stop_deadline);
	m->stop_deadline.tv_sec += grace;
	log_info("stopping: %zu session(s) may run for up to %u s",
	    m->n_children, grace);
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
    const struct sandbox *sb, int *listen_fds, size_t n_listen)
{
	struct master m = { .opts = opts, .conf = conf, .sb = sb,
	    .listen_fds = listen_fds, .n_listen = n_listen, .kmsg_fd = -1 };
	sigset_t wait_mask;

	m.helpers[HELPER_AUTHD] = (struct helper){ .kind = HELPER_AUTHD,
	    .worker_door = -1 };
	m.helpers[HELPER_RESOLVER] = (struct helper){ .kind = HELPER_RESOLVER,
	    .worker_door = -1 };
	/* Sized once: SOCKS5_PENALTY_TABLE changes take effect at restart,
	 * so a reload never forgets who is blocked. */
	if (penalty_new(conf_vars(conf)->penalty_table, &m.penalty) != 0)
		fatalx("out of memory");
	penalty_v6_prefix(m.penalty, conf_vars(conf)->penalty_v6_prefix);
	if (sandbox_privileged(sb))
		m.kmsg_fd = kmsg_open();
	/* Without it chaining still works, only without the memory of
	 * failed upstreams. */
	if (health_open(&m.health) != 0)
		log_warnx("upstream health disabled");
	signals_install(&wait_mask);
	proctitle_set("socks5d: master");
	/* The helpers exist before the first worker can ask them. */
	helper_launch(&m, HELPER_AUTHD);
	helper_launch(&m, HELPER_RESOLVER);
	for (;;) {
		struct pollfd pfds[LISTEN_MAX + 1];
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
		spares_fill(&m);
		if (m.stopping) {
			if (m.n_children == 0)
				break;
			if (stop_ms_left(&m) == 0 && !m.killed_children) {
				log_warnx("grace period over: ending %zu "
				    "session(s)", m.n_children);
				m.killed_children = true;
				for (size_t i = 0; i < m.n_children; i++)
					kill(m.children[i].pid, SIGKILL);
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
		    m.spares.n < SPARES_WANTED) {
			/* Wake up to restart a helper or refill the spares
			 * once their back-off is over. */
			ts.tv_sec = m.helper_pending[0] || m.helper_pending[1] ?
			    HELPER_RESTART_DELAY_S : SPARES_BACKOFF_S;
			ts.tv_nsec = 0;
			tsp = &ts;
		}
		if (!m.stopping && !m.at_limit && !m.accept_paused) {
			for (size_t i = 0; i < m.n_listen; i++) {
				pfds[npfd].fd = m.listen_fds[i];
				pfds[npfd].events = POLLIN;
				pfds[npfd].revents = 0;
				npfd++;
			}
		}
		if (m.health.master_fd != -1) {
			pfds[npfd].fd = m.health.master_fd;
			pfds[npfd].events = POLLIN;
			pfds[npfd].revents = 0;
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
			if ((pfds[i].revents & POLLIN) == 0)
				continue;
			if (pfds[i].fd == m.health.master_fd)
				health_reports(&m.health, m.conf);
			else
				master_accept(&m, pfds[i].fd);
		}
	}
	for (int i = 0; i < 2; i++)
		if (m.helpers[i].pid > 0)
			kill(m.helpers[i].pid, SIGTERM);
	log_info("stopped");
	conf_free(m.conf);
	free(m.children);
	penalty_free(m.penalty);
	return EXIT_CLEAN;
}
