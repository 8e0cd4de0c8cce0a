/*
 * The master's door: the one socket on which workers tell the master
 * about their sessions (common/ipc.h): IPC_NEGOTIATED, IPC_REAL_CLIENT,
 * IPC_SESSION_USER.  The master parses nothing else a worker sends, and
 * these are fixed-size or length-prefixed frames read with the bounded
 * reader; the PROXY header itself is never seen here.
 *
 * Why a claim can be attributed: the door is an AF_UNIX datagram
 * socketpair with SO_PASSCRED on the master's end, so every frame comes
 * with the sender's pid as the kernel saw it; an unprivileged process
 * (every worker is one, without capabilities) cannot put another pid in
 * SCM_CREDENTIALS.  A frame also names the session id the master gave
 * that worker (IPC_FORK, or at its own fork), and is taken only if the
 * child table has that id with that pid: a worker can speak only for its
 * own session, and a frame still queued from a worker that has exited
 * cannot be taken for a later worker that got its pid (the id differs).
 * A frame whose session the forker has not reported yet (its IPC_FORKED
 * is still on the way) is answered LIMIT_RETRY, never guessed.
 *
 * Who can forge what:
 * - A real client is taken only from a worker whose TCP peer (the
 *   address the master itself accepted) is a SOCKS5_PROXY_PROTOCOL
 *   sender, checked against the master's configuration, and only once
 *   per session.  The worker sends it right after parsing the header the
 *   load balancer wrote, before it parses a byte the client chose, so a
 *   client that later takes over its worker finds its own address
 *   already recorded and cannot change it.  From any other worker the
 *   claim is ignored (answered LIMIT_GO; the row stays keyed on the
 *   peer).
 * - A hijacked worker can lie only about its own session: claim to have
 *   negotiated early (it then stops counting toward SOCKS5_MAXSTARTUPS,
 *   which it could equally do by negotiating) or name a user it did not
 *   authenticate as (it can only use up that user's
 *   SOCKS5_MAXCHILD_PER_USER slots for as long as its own session lasts).
 * - The descriptor a query carries is where the answer goes.  It is used
 *   only if it is an AF_UNIX SOCK_SEQPACKET socket, answered without
 *   waiting, and any descriptor is closed with lingering off, so a TCP
 *   socket with SO_LINGER cannot stall the master in close().
 *
 * Cost: a session that uses no PROXY header and no per-user limit costs
 * the master one recvmsg (its IPC_NEGOTIATED), read in bursts.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/rd.h"
#include "conf/conf.h"
#include "master/limits.h"
#include "master/state.h"

/* Frames read per wake-up, so a flood cannot starve accept or reaping. */
enum { DOOR_BURST = 64 };
/* The workers' shared end may hold this many bytes of queued frames (a
 * datagram socketpair is bounded by the sender's buffer). */
enum { DOOR_SNDBUF = 4 << 20 };

int
door_open(struct master *m)
{
	int sv[2], on = 1, size = DOOR_SNDBUF;

	m->door_fd = m->door_worker_fd = -1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("door: socketpair");
		return ERR_SYS;
	}
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1) {
		log_warn("door: SO_PASSCRED");
		close(sv[0]);
		close(sv[1]);
		return ERR_SYS;
	}
	/* Root may exceed wmem_max; without it the default still works,
	 * with less room for a burst of IPC_NEGOTIATED. */
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size));
	m->door_fd = sv[0];
	m->door_worker_fd = sv[1];
	return 0;
}

enum door_claim
door_attribute(const struct child *rows, size_t n, int sender_pid,
    uint32_t id, size_t *row)
{
	for (size_t i = 0; i < n; i++) {
		if (rows[i].id != id)
			continue;
		*row = i;
		if (rows[i].pid == 0)
			return DOOR_PENDING;
		return rows[i].pid == (pid_t)sender_pid ? DOOR_OK :
		    DOOR_UNKNOWN;
	}
	return DOOR_UNKNOWN;
}

bool
door_real_client_allowed(const struct conf *conf, const struct child *c)
{
	return c->proxied && !c->has_real &&
	    rules_proxy_trusted(conf, (const struct sockaddr *)&c->client);
}

/* Attribute a frame; a session whose fork report is still queued on its
 * forker's channel gets one drain of that channel first. */
static struct child *
door_find(struct master *m, int pid, uint32_t id, bool *pending)
{
	enum door_claim claim;
	size_t i = 0;

	*pending = false;
	claim = door_attribute(m->children, m->n_children, pid, id, &i);
	if (claim == DOOR_PENDING) {
		pid_t forker = m->children[i].forker;

		for (size_t f = 0; f < FORKERS_MAX; f++)
			if (m->forkers[f].pid == forker && forker > 0)
				forker_drain(m, &m->forkers[f]);
		claim = door_attribute(m->children, m->n_children, pid, id, &i);
	}
	if (claim == DOOR_PENDING)
		*pending = true;
	return claim == DOOR_OK ? &m->children[i] : NULL;
}

/* Answer a query on the descriptor it carried, then close it. */
static void
door_answer(int fd, int verdict)
{
	uint8_t v = (uint8_t)verdict;
	int domain = 0, type = 0;
	socklen_t len = sizeof(domain);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	    domain == AF_UNIX &&
	    (len = sizeof(type), getsockopt(fd, SOL_SOCKET, SO_TYPE, &type,
	    &len)) == 0 && type == SOCK_SEQPACKET)
		(void)ipc_send_fds(fd, IPC_VERDICT, &v, sizeof(v), NULL, 0, 1);
	ipc_close_passed(fd);
}

static void
door_negotiated(struct master *m, int pid, const uint8_t *buf, size_t len)
{
	struct child *c;
	uint32_t id;
	bool pending;
	struct rd r;

	rd_init(&r, buf, len);
	if (rd_u32be(&r, &id) != 0 || rd_end(&r) != 0)
		return;
	if ((c = door_find(m, pid, id, &pending)) != NULL) {
		limits_row_negotiated(m, c);
		return;
	}
	/* children_forked takes it if this pid is the one reported. */
	if (pending) {
		size_t i = 0;

		(void)door_attribute(m->children, m->n_children, pid, id, &i);
		m->children[i].claim_pid = (pid_t)pid;
	}
}

/* The session a query speaks for, or NULL when it has been answered
 * already: LIMIT_RETRY while its fork is unreported, no answer at all
 * (the reply channel closed) for a claim that is not its sender's. */
static struct child *
door_claimant(struct master *m, int pid, uint32_t id, int reply)
{
	struct child *c;
	bool pending;

	if ((c = door_find(m, pid, id, &pending)) != NULL)
		return c;
	if (pending)
		door_answer(reply, LIMIT_RETRY);
	else
		ipc_close_passed(reply);
	return NULL;
}

static void
door_real_client(struct master *m, int pid, const uint8_t *buf, size_t len,
    int reply)
{
	struct sockaddr_storage real;
	struct child *c;
	uint32_t id;
	int verdict;

	if (ipc_real_client_get(buf, len, &id, &real) != 0) {
		ipc_close_passed(reply);
		return;
	}
	if ((c = door_claimant(m, pid, id, reply)) == NULL)
		return;
	if (!door_real_client_allowed(m->conf, c)) {
		log_debug("worker %ld named a real client it may not name; "
		    "ignored", (long)pid);
		door_answer(reply, LIMIT_GO);
		return;
	}
	verdict = limits_real_client(m, c, &real);
	door_answer(reply, verdict);
}

static void
door_user(struct master *m, int pid, const uint8_t *buf, size_t len,
    int reply)
{
	char user[256];
	struct child *c;
	uint32_t id;
	int verdict;

	if (ipc_session_user_get(buf, len, &id, user) != 0) {
		ipc_close_passed(reply);
		return;
	}
	if ((c = door_claimant(m, pid, id, reply)) == NULL)
		return;
	if (c->user != NULL) {
		/* One user per session: the first one counts. */
		door_answer(reply, LIMIT_GO);
		return;
	}
	verdict = limits_user(m, c, user);
	/* Asked once the request is read: that is the end of negotiation. */
	if (verdict == LIMIT_GO)
		limits_row_negotiated(m, c);
	door_answer(reply, verdict);
}

void
door_drain(struct master *m)
{
	for (int i = 0; i < DOOR_BURST && m->door_fd != -1; i++) {
		uint8_t buf[IPC_FRAME_MAX];
		int fds[IPC_FDS_MAX];
		uint16_t type;
		size_t len;
		int pid, rc;

		rc = ipc_recv_cred(m->door_fd, FROM_WORKER, &type, buf,
		    sizeof(buf), &len, fds, &pid);
		if (rc == ERR_TIMEOUT || rc == ERR_EOF)
			return;
		if (rc == ERR_SYS) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("door: recv");
			return;
		}
		if (rc != 0)
			continue;   /* malformed: refused whole, fds closed */
		switch (type) {
		case IPC_NEGOTIATED:
			door_negotiated(m, pid, buf, len);
			break;
		case IPC_REAL_CLIENT:
			door_real_client(m, pid, buf, len, fds[0]);
			break;
		case IPC_SESSION_USER:
			door_user(m, pid, buf, len, fds[0]);
			break;
		default:
			/* A worker's frame meant for a helper. */
			for (size_t j = 0; j < IPC_FDS_MAX; j++)
				ipc_close_passed(fds[j]);
			break;
		}
	}
}
