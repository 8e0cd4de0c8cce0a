/*
 * The master's side of the spare workers (master/spare.h says what they
 * are; master/spawn.c is their side).
 */
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/wr.h"
#include "master/spare.h"
#include "master/spawn.h"

int
spare_start(struct spare_pool *pool, const struct spawn_ctx *ctx)
{
	int pair[2];
	pid_t pid;

	if (pool->n >= SPARES_MAX)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == -1)
		return ERR_SYS;
	pid = fork();
	if (pid == -1) {
		close(pair[0]);
		close(pair[1]);
		return ERR_SYS;
	}
	if (pid == 0) {
		close(pair[0]);
		spawn_spare(ctx, pair[1]);
	}
	close(pair[1]);
	pool->spares[pool->n].pid = pid;
	pool->spares[pool->n].chan = pair[0];
	pool->n++;
	return 0;
}

static void
spare_remove(struct spare_pool *pool, size_t i)
{
	close(pool->spares[i].chan);
	pool->spares[i] = pool->spares[--pool->n];
}

bool
spare_hand(struct spare_pool *pool, int client_fd,
    const struct sockaddr_storage *client, pid_t *pid)
{
	uint8_t msg[IPC_ADDR_LEN + 2];
	const struct sockaddr *sa = (const struct sockaddr *)client;
	struct wr w;

	wr_init(&w, msg, sizeof(msg));
	if (ipc_endpoint_put(&w, sa) != 0)
		return false;
	while (pool->n > 0) {
		size_t i = pool->n - 1;
		int rc = ipc_send(pool->spares[i].chan, IPC_CLIENT, msg, w.off,
		    client_fd);

		*pid = pool->spares[i].pid;
		spare_remove(pool, i);
		if (rc == 0)
			return true;
		/* That spare died before it got a client: try the next. */
		log_warnx("spare worker %ld unavailable (%s)", (long)*pid,
		    err_str(rc));
	}
	return false;
}

void
spare_retire_all(struct spare_pool *pool)
{
	while (pool->n > 0)
		spare_remove(pool, pool->n - 1);
}

bool
spare_reaped(struct spare_pool *pool, pid_t pid)
{
	for (size_t i = 0; i < pool->n; i++) {
		if (pool->spares[i].pid == pid) {
			spare_remove(pool, i);
			return true;
		}
	}
	return false;
}
