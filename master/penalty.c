/*
 * Penalties for clients whose worker died by a signal.  Workers are forked,
 * not re-executed, so every worker shares the master's address layout and
 * stack canary; a client that can crash its worker and retry could probe
 * them.  Each crash blocks the client's address for a period that doubles
 * with every repeat (SOCKS5_PENALTY base, capped at SOCKS5_PENALTY_MAX), in
 * a table of bounded size (SOCKS5_PENALTY_TABLE) where the entry that
 * expires first makes room.  As OpenSSH's per-source penalties, keyed by
 * address only: the port changes on every retry.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "master/penalty.h"

struct penalty_entry {
	uint8_t addr[16];       /* IPv4 as IPv4-mapped IPv6 */
	unsigned strikes;
	time_t until;           /* CLOCK_MONOTONIC seconds */
};

struct penalty {
	struct penalty_entry *entries;
	size_t size, used;
};

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static bool
addr_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

int
penalty_new(size_t size, struct penalty **out)
{
	struct penalty *p;

	*out = NULL;
	if (size == 0)
		size = 1;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->entries = calloc(size, sizeof(*p->entries))) == NULL) {
		free(p);
		return ERR_NOMEM;
	}
	p->size = size;
	*out = p;
	return 0;
}

void
penalty_free(struct penalty *p)
{
	if (p == NULL)
		return;
	free(p->entries);
	free(p);
}

static struct penalty_entry *
penalty_find(struct penalty *p, const uint8_t key[16])
{
	for (size_t i = 0; i < p->used; i++)
		if (memcmp(p->entries[i].addr, key, 16) == 0)
			return &p->entries[i];
	return NULL;
}

time_t
penalty_check(struct penalty *p, const struct sockaddr *client)
{
	struct penalty_entry *e;
	uint8_t key[16];
	time_t now;

	if (p == NULL || p->used == 0 || !addr_key(client, key))
		return 0;
	if ((e = penalty_find(p, key)) == NULL)
		return 0;
	now = now_s();
	return e->until > now ? e->until - now : 0;
}

time_t
penalty_strike(struct penalty *p, const struct sockaddr *client,
    unsigned base_s, unsigned max_s)
{
	struct penalty_entry *e;
	uint8_t key[16];
	time_t now = now_s(), period;

	if (p == NULL || base_s == 0 || !addr_key(client, key))
		return 0;
	if ((e = penalty_find(p, key)) == NULL) {
		if (p->used < p->size) {
			e = &p->entries[p->used++];
		} else {
			/* Full: reuse the entry whose block ends first. */
			e = &p->entries[0];
			for (size_t i = 1; i < p->used; i++)
				if (p->entries[i].until < e->until)
					e = &p->entries[i];
		}
		memcpy(e->addr, key, 16);
		e->strikes = 0;
	}
	if (e->strikes < 31)
		e->strikes++;
	period = (time_t)base_s << (e->strikes - 1 < 20 ? e->strikes - 1 : 20);
	if (period > (time_t)max_s)
		period = max_s;
	e->until = now + period;
	return period;
}
