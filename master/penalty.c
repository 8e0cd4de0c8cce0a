/*
 * Penalties for clients whose worker died by a signal.  Workers are forked,
 * not re-executed, so every worker shares the master's address layout and
 * stack canary; a client that can crash its worker and retry could probe
 * them.  Each crash blocks the client's address for a period that doubles
 * with every repeat (SOCKS5_PENALTY base, capped at SOCKS5_PENALTY_MAX), in
 * a table of bounded size (SOCKS5_PENALTY_TABLE).  As OpenSSH's per-source
 * penalties, keyed by address only: the port changes on every retry.
 *
 * What an attacker could otherwise use to get around it:
 * - an IPv6 host owns a whole /64 (SLAAC, privacy addresses): keyed by
 *   /128 it would have 2^64 fresh addresses; IPv6 keys are cut to
 *   SOCKS5_PENALTY_V6PREFIX bits (default 64), as sshd's PerSourceNetBlockSize;
 * - a full table must not forget a repeat offender: the entry evicted is
 *   one whose block is over and that has the fewest strikes, else the
 *   least-struck one (the one whose block ends first among equals), so
 *   filling the table from many addresses with one crash each cannot reset
 *   an address that has crashed its workers many times;
 * - only the signals a memory-corruption probe produces count
 *   (penalty_signal_counts): an OOM kill or a SIGKILL from elsewhere says
 *   nothing about the client.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "master/penalty.h"
#include "master/private_mem.h"

struct penalty_entry {
	uint8_t addr[16];       /* IPv4 as IPv4-mapped IPv6 */
	unsigned strikes;
	time_t until;           /* CLOCK_MONOTONIC seconds */
};

struct penalty {
	struct penalty_entry *entries;
	size_t size, used;
	unsigned v6_prefix;     /* bits of an IPv6 address that make its key */
};

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* An IPv4 key (the IPv4-mapped IPv6 form), read byte by byte: keys are
 * plain byte arrays, not aligned struct in6_addr. */
static bool
key_is_v4(const uint8_t k[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(k, mapped, sizeof(mapped)) == 0;
}

/* IPv4 (and IPv4-mapped IPv6) addresses are keyed whole; native IPv6
 * ones by their first v6_prefix bits. */
static bool
addr_key(const struct penalty *p, const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family != AF_INET6)
		return false;
	memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	if (key_is_v4(key))
		return true;
	for (unsigned bit = p->v6_prefix; bit < 128; bit++)
		key[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return true;
}

bool
penalty_key(const struct penalty *p, const struct sockaddr *sa,
    uint8_t key[16])
{
	return addr_key(p, sa, key);
}

void
penalty_v6_prefix(struct penalty *p, unsigned bits)
{
	p->v6_prefix = bits > 128 ? 128 : bits;
}

bool
penalty_signal_counts(int sig)
{
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGABRT:
	case SIGSYS:
	case SIGFPE:
		return true;
	default:
		return false;
	}
}

int
penalty_new(size_t size, struct penalty **out)
{
	struct penalty *p;

	*out = NULL;
	if (size == 0)
		size = 1;
	/* Clients' addresses: forked children see them zeroed
	 * (master/private_mem.h). */
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->entries = private_calloc(size, sizeof(*p->entries))) == NULL) {
		free(p);
		return ERR_NOMEM;
	}
	p->size = size;
	p->v6_prefix = PENALTY_V6_PREFIX_DEFAULT;
	*out = p;
	return 0;
}

void
penalty_free(struct penalty *p)
{
	if (p == NULL)
		return;
	private_free(p->entries, p->size, sizeof(*p->entries));
	free(p);
}

/* Keys match on the bits the current prefix keeps (an entry made under
 * another prefix before a reload is compared the same way). */
static bool
key_match(const struct penalty *p, const uint8_t a[16], const uint8_t b[16])
{
	unsigned full = p->v6_prefix / 8, rest = p->v6_prefix % 8;

	if (key_is_v4(a) || key_is_v4(b))
		return memcmp(a, b, 16) == 0;
	if (memcmp(a, b, full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

static struct penalty_entry *
penalty_find(struct penalty *p, const uint8_t key[16])
{
	for (size_t i = 0; i < p->used; i++)
		if (key_match(p, p->entries[i].addr, key))
			return &p->entries[i];
	return NULL;
}

time_t
penalty_check(struct penalty *p, const struct sockaddr *client)
{
	struct penalty_entry *e;
	uint8_t key[16];
	time_t now;

	if (p == NULL || p->used == 0 || !addr_key(p, client, key))
		return 0;
	if ((e = penalty_find(p, key)) == NULL)
		return 0;
	now = now_s();
	return e->until > now ? e->until - now : 0;
}

/* Whether a is a better entry to evict than b (the header says why). */
static bool
evict_before(const struct penalty_entry *a, const struct penalty_entry *b,
    time_t now)
{
	bool a_over = a->until <= now, b_over = b->until <= now;

	if (a_over != b_over)
		return a_over;
	if (a->strikes != b->strikes)
		return a->strikes < b->strikes;
	return a->until < b->until;
}

static struct penalty_entry *
penalty_victim(struct penalty *p, time_t now)
{
	struct penalty_entry *e = &p->entries[0];

	for (size_t i = 1; i < p->used; i++)
		if (evict_before(&p->entries[i], e, now))
			e = &p->entries[i];
	return e;
}

time_t
penalty_strike(struct penalty *p, const struct sockaddr *client,
    unsigned base_s, unsigned max_s)
{
	struct penalty_entry *e;
	uint8_t key[16];
	time_t now = now_s(), period;

	if (p == NULL || base_s == 0 || !addr_key(p, client, key))
		return 0;
	if ((e = penalty_find(p, key)) == NULL) {
		e = p->used < p->size ? &p->entries[p->used++] :
		    penalty_victim(p, now);
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
