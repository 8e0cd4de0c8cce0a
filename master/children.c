/*
 * The master's child table: who serves which client, reaping (its own
 * children and the forkers' reports), the crash record and penalty, the
 * end of the grace period.  The master is the only holder of this table
 * and of the penalty table (master/penalty.c).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "conf/conf.h"
#include "master/kmsg.h"
#include "master/penalty.h"
#include "master/private_mem.h"
#include "master/state.h"
#include "worker/worker.h"

void
children_free(struct master *m)
{
	private_free(m->children, m->cap_children, sizeof(*m->children));
	m->children = NULL;
	m->n_children = m->cap_children = 0;
}

int
children_add(struct master *m, pid_t pid, pid_t forker, uint32_t id,
    const struct sockaddr_storage *client)
{
	if (m->n_children == m->cap_children) {
		size_t cap = m->cap_children == 0 ? 64 : m->cap_children * 2;
		/* Forked children see it zeroed (master/private_mem.h): no
		 * worker holds the addresses of every other session. */
		struct child *c = private_realloc(m->children, m->cap_children,
		    cap, sizeof(*c));

		if (c == NULL)
			return ERR_NOMEM;
		m->children = c;
		m->cap_children = cap;
	}
	m->children[m->n_children] = (struct child){ .pid = pid,
	    .forker = forker, .id = id, .client = *client };
	limits_row_init(m, &m->children[m->n_children]);
	m->n_children++;
	return 0;
}

void
children_drop(struct master *m, size_t i)
{
	limits_row_free(m, &m->children[i]);
	m->children[i] = m->children[--m->n_children];
}

/* A worker died by a signal we did not send: audit it, and penalise its
 * client if the signal is one a probe produces (master/penalty.c says
 * why).  Behind a load balancer the client is the real one its worker
 * named (master/door.c); a worker that died before naming one is not
 * held against the load balancer, which would block every client behind
 * it: it died on bytes the balancer wrote, not on a client's. */
static void
worker_crashed(struct master *m, pid_t pid, int sig, const struct child *c)
{
	struct audit_rec rec = AUDIT_REC("error");
	const struct sockaddr_storage *client = NULL;
	time_t blocked = 0;

	if (c != NULL)
		client = c->has_real ? &c->real : c->proxied ? NULL : &c->client;
	rec.client = c == NULL ? NULL : (const struct sockaddr *)(c->has_real ?
	    &c->real : &c->client);
	if (c != NULL && c->has_real)
		rec.lb = (const struct sockaddr *)&c->client;
	rec.pid = pid;
	rec.signal = sig;
	if (sig == SIGSYS)
		rec.syscall = kmsg_seccomp_syscall(m->kmsg_fd, pid);
	rec.reason = sig == SIGSYS ? "worker killed by the sandbox" :
	    "worker killed by a signal";
	(void)audit_write(&rec);
	if (client != NULL && penalty_signal_counts(sig))
		blocked = penalty_strike(m->penalty,
		    (const struct sockaddr *)client,
		    conf_vars(m->conf)->penalty_s,
		    conf_vars(m->conf)->penalty_max_s);
	log_warnx("worker %ld killed by signal %d%s; client blocked for %lld s",
	    (long)pid, sig, sig == SIGSYS ? " (seccomp)" : "",
	    (long long)blocked);
}

/* A worker's end, whoever reaped it; i is its row or -1 if unknown. */
static void
worker_ended(struct master *m, ssize_t i, pid_t pid, int status)
{
	struct child row;
	bool known = i >= 0;

	if (known) {
		row = m->children[i];
		row.user = NULL;   /* freed with the row */
		children_drop(m, (size_t)i);
	}
	if (m->at_limit && m->n_children < conf_vars(m->conf)->max_child) {
		m->at_limit = false;
		log_info("below SOCKS5_MAXCHILD again (%zu workers); accepting",
		    m->n_children);
	}
	if (WIFSIGNALED(status) && !m->killed_children)
		worker_crashed(m, pid, WTERMSIG(status), known ? &row : NULL);
	else if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == WORKER_EXIT_INTERNAL)
		log_warnx("worker %ld failed (exit %d)", (long)pid,
		    WEXITSTATUS(status));
}

/* forker -1: a row of any forker. */
static ssize_t
children_find(const struct master *m, pid_t forker, pid_t pid)
{
	for (size_t i = 0; i < m->n_children; i++)
		if (m->children[i].pid == pid &&
		    (forker < 0 || m->children[i].forker == forker))
			return (ssize_t)i;
	return -1;
}

void
children_forked(struct master *m, pid_t forker, uint32_t id, uint32_t pid)
{
	for (size_t i = 0; i < m->n_children; i++) {
		struct child *c = &m->children[i];

		if (c->forker != forker || c->pid != 0 || c->id != id)
			continue;
		if (pid == 0) {
			log_warnx("forker %ld could not fork; a client was "
			    "closed", (long)forker);
			children_drop(m, i);
		} else if (children_find(m, forker, (pid_t)pid) >= 0) {
			log_warnx("forker %ld: pid %lu reported twice",
			    (long)forker, (unsigned long)pid);
			children_drop(m, i);
		} else {
			c->pid = (pid_t)pid;
			/* Its IPC_NEGOTIATED came first (master/door.c). */
			if (c->claim_pid == c->pid)
				limits_row_negotiated(m, c);
		}
		return;
	}
	log_warnx("forker %ld: fork report for an unknown session",
	    (long)forker);
}

void
children_exited(struct master *m, pid_t forker, pid_t pid, int status)
{
	ssize_t i = children_find(m, forker, pid);

	if (i < 0)
		log_warnx("forker %ld: exit report for unknown pid %ld",
		    (long)forker, (long)pid);
	/* An unknown pid gets no record: the forker's word alone names no
	 * client and is not worth a penalty. */
	else
		worker_ended(m, i, pid, status);
}

/* A forker exited; its channel is drained.  Its workers are now the
 * master's children (PR_SET_CHILD_SUBREAPER) and keep running; the clients
 * it had not forked for yet were closed with its queue. */
void
children_forker_gone(struct master *m, pid_t forker)
{
	for (size_t i = 0; i < m->n_children;) {
		struct child *c = &m->children[i];

		if (c->forker != forker) {
			i++;
			continue;
		}
		if (c->pid != 0) {
			c->forker = 0;
			i++;
			continue;
		}
		if (!m->killed_children) {
			struct audit_rec rec = AUDIT_REC("error");

			rec.client = (const struct sockaddr *)&c->client;
			rec.reason = "forker exited before forking; client "
			    "closed";
			(void)audit_write(&rec);
		}
		children_drop(m, i);
	}
}

void
children_reap(struct master *m)
{
	pid_t pid;
	int status;

	/* Reports a forker queued before it died come first: its orphans
	 * can only be reaped here after that. */
	for (size_t i = 0; i < FORKERS_MAX; i++)
		if (m->forkers[i].pid > 0)
			forker_drain(m, &m->forkers[i]);
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (helper_reaped(m, pid, status) ||
		    forker_reaped(m, pid, status) ||
		    auditlog_reaped(m, pid, status))
			continue;
		/* Ours to reap: forked by the master, or orphaned by a
		 * forker that died (maybe reaped later in this loop). */
		worker_ended(m, children_find(m, -1, pid), pid, status);
	}
}

/* The grace period is over.  The master's own children by pid (a zombie
 * keeps its pid until we reap it); a forker's, with the forker, by process
 * group, which exists as long as one of them does. */
void
children_kill_all(struct master *m)
{
	m->killed_children = true;
	for (size_t i = 0; i < m->n_children; i++)
		if (m->children[i].forker == 0 && m->children[i].pid > 0)
			kill(m->children[i].pid, SIGKILL);
	for (size_t i = 0; i < FORKERS_MAX; i++)
		if (m->forkers[i].pid > 0)
			kill(-m->forkers[i].pid, SIGKILL);
}
