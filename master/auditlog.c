/*
 * The master's side of the audit logger (auditd/auditd.h): open the audit
 * file, start the logger and restart it when it dies (as helpers.c does
 * for authd and the resolver), hand it the reopened file on SIGHUP, and
 * the summary of connections refused at accept (README "Audit records").
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "auditd/auditd.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "conf/conf.h"
#include "master/state.h"
#include "worker/sandbox.h"

int
auditlog_open(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
}

void
auditlog_launch(struct master *m)
{
	struct auditd_ids ids = { .privileged = sandbox_privileged(m->sb) };

	if (m->audit_file == -1)
		return;
	/* The helpers' user, not the workers': a worker may not signal the
	 * process its records wait for. */
	sandbox_helper_ids(m->sb, &ids.uid, &ids.gid);
	m->auditd_pending = false;
	if (auditd_start(&m->auditd, m->audit_file,
	    conf_vars(m->conf)->audit_required, &ids) != 0) {
		log_warn("cannot start the audit logger");
		audit_set_logger(-1, -1);
		m->auditd_pending = true;
		clock_gettime(CLOCK_MONOTONIC, &m->auditd_restart_at);
		m->auditd_restart_at.tv_sec += HELPER_RESTART_DELAY_S;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &m->auditd_started);
	audit_set_logger(m->auditd.door, m->auditd.ctl);
	/* Forkers hand their workers the door they were started with. */
	if (forker_current(m) != NULL)
		forker_launch(m);
}

bool
auditlog_reaped(struct master *m, pid_t pid, int status)
{
	struct timespec now;

	if (m->auditd.pid == 0 || m->auditd.pid != pid)
		return false;
	auditd_gone(&m->auditd);
	/* Until it is back, every record fails: workers refuse their
	 * sessions when SOCKS5_AUDIT_REQUIRED is on. */
	audit_set_logger(-1, -1);
	if (m->stopping)
		return true;
	log_warnx("audit logger (pid %ld) exited (status %d%s); restarting",
	    (long)pid, WIFSIGNALED(status) ? WTERMSIG(status) :
	    WEXITSTATUS(status), WIFSIGNALED(status) ? ", signal" : "");
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - m->auditd_started.tv_sec < HELPER_RESTART_DELAY_S) {
		m->auditd_pending = true;
		m->auditd_restart_at = now;
		m->auditd_restart_at.tv_sec += HELPER_RESTART_DELAY_S;
	} else {
		auditlog_launch(m);
	}
	return true;
}

/* SIGHUP: a new file at the path (log rotation moved the old one); the
 * logger switches to it, workers need not know. */
void
auditlog_reopen(struct master *m)
{
	int fd;

	if (m->opts->audit_path == NULL)
		return;
	if ((fd = auditlog_open(m->opts->audit_path)) == -1) {
		log_warn("cannot reopen the audit file %s; still writing the "
		    "old one", m->opts->audit_path);
		return;
	}
	close(m->audit_file);
	m->audit_file = fd;
	if (m->auditd.pid > 0 && auditd_reopen(&m->auditd, fd,
	    conf_vars(m->conf)->audit_required) != 0)
		log_warnx("could not hand the audit logger the reopened file; "
		    "restarting it");
	else
		return;
	kill(m->auditd.pid, SIGTERM);
}

void
auditlog_refused(struct master *m, const struct audit_rec *rec)
{
	if (audit_limit_pass(&m->refused))
		(void)audit_write(rec);
}

int
auditlog_wait_ms(const struct master *m)
{
	int ms = audit_limit_wait_ms(&m->refused);

	if (m->auditd_pending && (ms == -1 || ms > HELPER_RESTART_DELAY_S *
	    1000))
		ms = HELPER_RESTART_DELAY_S * 1000;
	return ms;
}

void
auditlog_due(struct master *m)
{
	struct timespec now;

	audit_limit_tick(&m->refused);
	if (!m->auditd_pending || m->stopping)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > m->auditd_restart_at.tv_sec ||
	    (now.tv_sec == m->auditd_restart_at.tv_sec &&
	    now.tv_nsec >= m->auditd_restart_at.tv_nsec))
		auditlog_launch(m);
}

/* At the master's exit: the logger writes what is queued and ends once
 * the last holder of its door is gone; wait for it, boundedly, so that
 * the daemon's exit means the records are in the file. */
void
auditlog_stop(struct master *m)
{
	pid_t pid = m->auditd.pid;

	if (pid == 0)
		return;
	auditd_gone(&m->auditd);
	audit_set_logger(-1, -1);
	for (int i = 0; i < 200; i++) {
		struct timespec tick = { 0, 10000000L };

		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		nanosleep(&tick, NULL);
	}
	log_warnx("audit logger (pid %ld) did not exit; killing it",
	    (long)pid);
	kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}
