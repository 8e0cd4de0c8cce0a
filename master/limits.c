/*
 * The master's limits on new connections (docs/socks5.conf-extensions.md
 * section 11): SOCKS5_MAXSTARTUPS (sshd's random early drop while many
 * connections are still negotiating), SOCKS5_MAXSTARTUPS_PER_SOURCE,
 * SOCKS5_MAXCHILD_PER_SOURCE and SOCKS5_MAXCHILD_PER_USER.
 *
 * What "a source" is: the penalty table's key (master/penalty.h), so one
 * IPv6 host's /64 is one client here as there.  Behind a load balancer a
 * row has no key until its worker names the real client (master/door.c);
 * until then it counts only toward the global SOCKS5_MAXSTARTUPS, never
 * toward the load balancer's own address, which would make every client
 * behind it share one limit.
 *
 * Cost: the common path (no limit reached) adds one scan of the child
 * table per accept when a per-source limit is set, a compare of 16 bytes
 * per row, as OpenSSH's srclimit.c does; no syscall.  A random number is
 * drawn only once start connections are negotiating.
 */
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/log.h"
#include "conf/conf.h"
#include "master/limits.h"
#include "master/penalty.h"
#include "master/state.h"

bool
limits_startups_drop(unsigned n, unsigned start, unsigned rate,
    unsigned full, unsigned r)
{
	unsigned long p;

	if (start == 0 || n < start)
		return false;
	if (n >= full || full <= start)
		return true;
	/* sshd's drop(): rate at start, +(100 - rate) spread over
	 * [start, full). */
	p = (unsigned long)(100 - rate) * (n - start) / (full - start) + rate;
	return r < p;
}

void
limits_row_init(struct master *m, struct child *c)
{
	c->proxied = rules_proxy_trusted(m->conf,
	    (const struct sockaddr *)&c->client);
	c->has_key = !c->proxied && penalty_key(m->penalty,
	    (const struct sockaddr *)&c->client, c->key);
	c->negotiating = true;
	m->n_negotiating++;
}

void
limits_row_negotiated(struct master *m, struct child *c)
{
	if (!c->negotiating)
		return;
	c->negotiating = false;
	m->n_negotiating--;
}

void
limits_row_free(struct master *m, struct child *c)
{
	limits_row_negotiated(m, c);
	free(c->user);
	c->user = NULL;
}

/* Sessions, and of them connections still negotiating, keyed key. */
static void
limits_count(const struct master *m, const uint8_t key[16], size_t *sessions,
    size_t *negotiating)
{
	*sessions = *negotiating = 0;
	for (size_t i = 0; i < m->n_children; i++) {
		const struct child *c = &m->children[i];

		if (!c->has_key || memcmp(c->key, key, 16) != 0)
			continue;
		(*sessions)++;
		if (c->negotiating)
			(*negotiating)++;
	}
}

/* The per-source limits for one more session keyed key. */
static int
limits_source(const struct master *m, const uint8_t key[16])
{
	const struct conf_vars *v = conf_vars(m->conf);
	size_t sessions, negotiating;

	if (v->max_child_per_source == 0 && v->startups_per_source == 0)
		return LIMIT_GO;
	limits_count(m, key, &sessions, &negotiating);
	if (v->max_child_per_source != 0 &&
	    sessions >= v->max_child_per_source)
		return LIMIT_PER_SOURCE;
	if (v->startups_per_source != 0 &&
	    negotiating >= v->startups_per_source)
		return LIMIT_STARTUPS;
	return LIMIT_GO;
}

int
limits_accept(struct master *m, const struct sockaddr_storage *client,
    bool proxied)
{
	const struct conf_vars *v = conf_vars(m->conf);
	uint8_t key[16];

	if (v->startups_start != 0 && m->n_negotiating >= v->startups_start &&
	    limits_startups_drop((unsigned)m->n_negotiating, v->startups_start,
	    v->startups_rate, v->startups_full, arc4random_uniform(100)))
		return LIMIT_EARLY_DROP;
	/* A load balancer's sources are counted when the worker names
	 * them (limits_real_client). */
	if (proxied ||
	    !penalty_key(m->penalty, (const struct sockaddr *)client, key))
		return LIMIT_GO;
	return limits_source(m, key);
}

/* The contract is in state.h. */
int
limits_real_client(struct master *m, struct child *c,
    const struct sockaddr_storage *real)
{
	uint8_t key[16];
	int verdict;

	if (!penalty_key(m->penalty, (const struct sockaddr *)real, key))
		return LIMIT_PENALTY;   /* no family ipc_addr_get gives */
	if (penalty_check(m->penalty, (const struct sockaddr *)real) > 0)
		return LIMIT_PENALTY;
	if ((verdict = limits_source(m, key)) != LIMIT_GO)
		return verdict;
	c->real = *real;
	c->has_real = true;
	memcpy(c->key, key, 16);
	c->has_key = true;
	return LIMIT_GO;
}

/* The contract is in state.h. */
int
limits_user(struct master *m, struct child *c, const char *user)
{
	unsigned max = conf_vars(m->conf)->max_child_per_user;
	size_t n = 0;

	if (max != 0)
		for (size_t i = 0; i < m->n_children; i++)
			if (m->children[i].user != NULL &&
			    strcmp(m->children[i].user, user) == 0)
				n++;
	if (max != 0 && n >= max)
		return LIMIT_PER_USER;
	if ((c->user = strdup(user)) == NULL) {
		log_warnx("out of memory: session of %s not counted", user);
		return LIMIT_PER_USER;
	}
	return LIMIT_GO;
}
