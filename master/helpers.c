/*
 * Starting and restarting the master's long-lived children: authd, the
 * resolver and the forker.  Each restarts when it dies, after
 * HELPER_RESTART_DELAY_S if it died that soon after its start.
 */
#include <sys/wait.h>

#include <signal.h>
#include <string.h>
#include <time.h>

#include "authd/authd.h"
#include "common/audit.h"
#include "common/log.h"
#include "forker/forker.h"
#include "master/spawn.h"
#include "master/state.h"
#include "worker/sandbox.h"

void
spawn_ctx_fill(const struct master *m, bool wrap_rules, struct spawn_ctx *ctx)
{
	*ctx = (struct spawn_ctx){ .conf = m->conf, .sb = m->sb,
	    .authd_door = m->helpers[HELPER_AUTHD].worker_door,
	    .resolver_door = m->helpers[HELPER_RESOLVER].worker_door,
	    .health_fd = m->health.worker_fd, .health = m->health.ro,
	    .health_gen = m->health.gen, .master_door = m->door_worker_fd,
	    .relay_copy = m->opts->relay_copy, .wrap_rules = wrap_rules,
	    .conf_sealed = m->conf_sealed,
	    .health_page_fd = m->health.page_fd };
	spawn_inherit_fill(ctx);
}

static bool
due(const struct timespec *at)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > at->tv_sec ||
	    (now.tv_sec == at->tv_sec && now.tv_nsec >= at->tv_nsec);
}

static void
delay(struct timespec *at)
{
	clock_gettime(CLOCK_MONOTONIC, at);
	at->tv_sec += HELPER_RESTART_DELAY_S;
}

static bool
died_young(const struct timespec *started)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - started->tv_sec < HELPER_RESTART_DELAY_S;
}

/* Retire every forker: they hold the old configuration or doors.  Their
 * queued clients are still forked for; their workers keep running. */
void
forkers_retire(struct master *m)
{
	for (size_t i = 0; i < FORKERS_MAX; i++)
		if (m->forkers[i].pid > 0)
			forker_retire(&m->forkers[i]);
}

/* Start forkers until forkers_wanted serve. */
void
forkers_fill(struct master *m)
{
	struct spawn_ctx ctx;
	size_t active = 0;

	m->forker_pending = false;
	if (m->stopping)
		return;
	for (size_t i = 0; i < FORKERS_MAX; i++)
		if (m->forkers[i].pid > 0 && !m->forkers[i].retiring)
			active++;
	spawn_ctx_fill(m, false, &ctx);
	for (size_t i = 0; i < FORKERS_MAX && active < m->forkers_wanted; i++) {
		if (m->forkers[i].pid != 0)
			continue;
		if (forker_spawn(&m->forkers[i], &ctx, m->image_fd) != 0) {
			/* Until they are back, the master forks itself. */
			log_warn("cannot start a forker");
			m->forker_pending = true;
			delay(&m->forker_restart_at);
			return;
		}
		active++;
	}
	if (active < m->forkers_wanted) {
		log_warnx("no free forker slot; retrying");
		m->forker_pending = true;
		delay(&m->forker_restart_at);
	}
}

/* New forkers for all: after a reload or a helper restart. */
void
forker_launch(struct master *m)
{
	forkers_retire(m);
	forkers_fill(m);
}

/* A forker from the session image that exited, or was killed by its
 * filter, before its first spare did not start (the image refused its
 * set-up, could not run, or lacks a system call).  After a few in a row
 * the master stops using the image: its forkers are forks of itself from
 * then on, which serve the same clients.  A retired one, or one killed by
 * another signal (an operator's), says nothing about the image. */
static void
image_forker_gone(struct master *m, const struct forker *f, int status)
{
	if (!f->from_image || m->image_fd == -1)
		return;
	if (f->ready) {
		m->image_failures = 0;
		return;
	}
	if (f->retiring || !((WIFEXITED(status) && WEXITSTATUS(status) != 0) ||
	    (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)))
		return;
	if (++m->image_failures < IMAGE_FAILURES_MAX)
		return;
	log_warnx("the session image failed %u times in a row; forkers are "
	    "forks of the master from now on", m->image_failures);
	close(m->image_fd);
	m->image_fd = -1;
}

bool
forker_reaped(struct master *m, pid_t pid, int status)
{
	for (size_t i = 0; i < FORKERS_MAX; i++) {
		struct forker *f = &m->forkers[i];
		bool current;

		if (f->pid != pid)
			continue;
		current = !f->retiring;
		forker_drain(m, f);
		image_forker_gone(m, f, status);
		children_forker_gone(m, pid);
		forker_closed(f);
		if (!current || m->stopping)
			return true;
		log_warnx("forker (pid %ld) exited (status %d%s); restarting",
		    (long)pid, WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status), WIFSIGNALED(status) ? ", signal" : "");
		if (died_young(&f->started)) {
			m->forker_pending = true;
			delay(&m->forker_restart_at);
		} else {
			forkers_fill(m);
		}
		return true;
	}
	return false;
}

void
helper_launch(struct master *m, int i)
{
	int close_fds[LISTEN_MAX + 12 + 2 * FORKERS_MAX];
	size_t n = 0;
	uid_t uid;
	gid_t gid;

	for (size_t j = 0; j < m->n_listen; j++)
		close_fds[n++] = m->listen_fds[j];
	/* The other helper's door is not this helper's business; nor are
	 * the forkers' channels and their spares' (a copy would keep one
	 * open after the master closed it: a dropped spare would never see
	 * its end, and wait for ever). */
	close_fds[n++] = m->helpers[1 - i].worker_door;
	close_fds[n++] = m->kmsg_fd;
	/* Only the logger writes the audit file, and only the master
	 * speaks for itself on its channel. */
	close_fds[n++] = m->audit_file;
	close_fds[n++] = m->auditd.ctl;
	close_fds[n++] = m->auditd.door;
	/* Helpers report nothing about upstreams. */
	close_fds[n++] = m->health.master_fd;
	close_fds[n++] = m->health.worker_fd;
	close_fds[n++] = m->health.page_fd;
	/* The sealed configuration is for session images (it may hold
	 * SOCKS5_PASSWD, which helpers never send). */
	close_fds[n++] = m->conf_sealed;
	close_fds[n++] = m->image_fd;
	/* Nor about sessions. */
	close_fds[n++] = m->door_fd;
	close_fds[n++] = m->door_worker_fd;
	for (size_t j = 0; j < FORKERS_MAX; j++) {
		if (m->forkers[j].pid > 0 && m->forkers[j].chan != -1)
			close_fds[n++] = m->forkers[j].chan;
		if (m->forkers[j].spare_chan != -1)
			close_fds[n++] = m->forkers[j].spare_chan;
	}
	/* authd stays root (PAM); the resolver drops to the helpers' user,
	 * never the workers'. */
	sandbox_helper_ids(m->sb, &uid, &gid);
	m->helper_pending[i] = false;
	if (helper_start(&m->helpers[i], m->conf, uid, gid, close_fds, n) != 0) {
		log_warn("cannot start %s", i == HELPER_AUTHD ? "authd" :
		    "resolver");
		m->helper_pending[i] = true;
		delay(&m->helper_restart_at[i]);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &m->helper_started[i]);
	/* The forker holds the old door: a new one, with the new door. */
	if (forker_current(m) != NULL)
		forker_launch(m);
}

/* A helper exited: workers holding its old door fail closed; new workers
 * get the restarted one. */
bool
helper_reaped(struct master *m, pid_t pid, int status)
{
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
		if (died_young(&m->helper_started[i])) {
			m->helper_pending[i] = true;
			delay(&m->helper_restart_at[i]);
		} else {
			helper_launch(m, i);
		}
		return true;
	}
	return false;
}

void
helpers_due(struct master *m)
{
	for (int i = 0; i < 2; i++)
		if (m->helper_pending[i] && !m->stopping &&
		    due(&m->helper_restart_at[i]))
			helper_launch(m, i);
	if (m->forker_pending && !m->stopping && due(&m->forker_restart_at))
		forkers_fill(m);
}
