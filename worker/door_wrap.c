/*
 * The worker's side of the master's door (contracts in session.h; what
 * the master trusts and why in master/door.c).  Each query travels with
 * the worker's end of a fresh socketpair, on which the master answers;
 * every send is non-blocking, so a busy master delays a session by a
 * bounded number of retries and never blocks it.
 */
#include <sys/socket.h>

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/io.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/socks.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "worker/session.h"
#include "worker/worker.h"

/* Tries of one query: the master answers LIMIT_RETRY while the forker's
 * report of this worker is still on its way, or the door is full. */
enum { DOOR_TRIES = 50, DOOR_RETRY_MS = 10 };

/* One query; *verdict is the master's answer (not LIMIT_RETRY). */
static int
door_ask(struct session *s, enum ipc_type type, const uint8_t *req,
    size_t len, unsigned *verdict)
{
	int rc = ERR_TIMEOUT;

	for (int t = 0; t < DOOR_TRIES; t++) {
		uint8_t ans[IPC_VERDICT_LEN];
		size_t n;
		int pair[2];

		if (t > 0)
			(void)poll(NULL, 0, DOOR_RETRY_MS);
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
		    pair) == -1)
			return ERR_SYS;
		rc = ipc_send_fds(s->opts->master_door, type, req, len,
		    &pair[1], 1, 1);
		close(pair[1]);
		if (rc == 0)
			rc = ipc_recv(pair[0], IPC_VERDICT, FROM_MASTER, ans,
			    sizeof(ans), &n, NULL, &s->deadline);
		close(pair[0]);
		if (rc == 0 && ans[0] >= LIMIT_MAX)
			return ERR_PROTO;
		if (rc == 0 && ans[0] != LIMIT_RETRY) {
			*verdict = ans[0];
			return 0;
		}
		/* Not known yet, or the door was full: again.  Anything else
		 * (the master gone, the deadline) ends it. */
		if (rc != 0 && rc != ERR_TIMEOUT)
			return rc;
		if (rc == ERR_TIMEOUT && io_ms_left(&s->deadline) == 0)
			return rc;
	}
	return rc;
}

int
session_door_real_client(struct session *s)
{
	uint8_t req[IPC_REAL_CLIENT_LEN];
	unsigned verdict;
	struct wr w;
	int rc;

	if (s->opts->master_door < 0)
		return 0;
	wr_init(&w, req, sizeof(req));
	if ((rc = ipc_real_client_put(&w, s->opts->session_id,
	    s->client_sa)) != 0)
		return rc;
	if ((rc = door_ask(s, IPC_REAL_CLIENT, req, w.off, &verdict)) != 0) {
		log_warnx("the master did not answer (%s): closing",
		    err_str(rc));
		s->reason = "the master did not answer";
		return ERR_SYS;
	}
	if (verdict == LIMIT_GO)
		return 0;
	return session_worker_ban(s, limit_rule_str(verdict),
	    limit_reason_str(verdict));
}

int
session_door_user(struct session *s)
{
	uint8_t req[4 + 1 + 255];
	unsigned verdict;
	struct wr w;
	int rc;

	if (s->opts->master_door < 0 || s->user == NULL ||
	    conf_vars(s->conf)->max_child_per_user == 0)
		return 0;
	wr_init(&w, req, sizeof(req));
	if ((rc = ipc_session_user_put(&w, s->opts->session_id, s->user)) != 0)
		return rc;
	if ((rc = door_ask(s, IPC_SESSION_USER, req, w.off, &verdict)) != 0) {
		log_warnx("the master did not answer (%s): refusing",
		    err_str(rc));
		s->reason = "the master did not answer";
		(void)session_reply(s, false, REP_GENERAL_FAILURE, NULL);
		return ERR_SYS;
	}
	/* It counted this session as negotiated with the user. */
	s->door_told = true;
	if (verdict == LIMIT_GO)
		return 0;
	s->reason = limit_reason_str(verdict);
	snprintf(s->rule, sizeof(s->rule), "%s", limit_rule_str(verdict));
	(void)session_reply(s, false, REP_NOT_ALLOWED, NULL);
	return ERR_DENIED;
}

void
session_door_negotiated(struct session *s)
{
	uint8_t buf[IPC_NEGOTIATED_LEN];
	struct wr w;

	if (s->opts->master_door < 0 || s->door_told)
		return;
	s->door_told = true;
	wr_init(&w, buf, sizeof(buf));
	/* A full door loses it: the master then counts this connection as
	 * negotiating until it ends, which errs on the safe side. */
	if (wr_u32be(&w, s->opts->session_id) == 0)
		(void)ipc_send_fds(s->opts->master_door, IPC_NEGOTIATED, buf,
		    w.off, NULL, 0, 1);
}
