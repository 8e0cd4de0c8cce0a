/*
 * Brute-force throttling, kept by the long-lived authd process (root).
 * Its per-request children ask it for the delay of (client address, user)
 * before they check a password, and report the outcome afterwards
 * (authd/helper.c carries the messages).  Worker deaths cannot touch the
 * counters: workers never speak to this code, and the address is the one
 * authd's child read from the client's socket itself.
 *
 * Counting: an attempt counts as a failure from the moment it is asked
 * about, so that parallel guesses see each other; a success forgets the
 * address's and the user's failures, an attempt that made no guess (PAM
 * timeout, internal error) is taken back.  From THROTTLE_FREE failures on,
 * each attempt waits THROTTLE_BASE_MS doubled per further failure, capped
 * at SOCKS5_AUTH_DELAY_MAX.  Failures older than THROTTLE_FORGET_S are
 * forgotten.  IPv6 addresses count per /64 (one host's whole prefix).
 *
 * The tables are fixed (THROTTLE_SLOTS each); a new key takes a free slot,
 * else evicts the slot whose last failure is oldest: an active guesser's
 * entry is the newest, so flooding the table with other keys costs the
 * flooder its own history last.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "authd/authd.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/net.h"
#include "common/wr.h"

enum {
	THROTTLE_FREE = 3,
	THROTTLE_BASE_MS = 500,
	THROTTLE_FORGET_S = 900,
};

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct throttle_entry *
entry_get(struct throttle_entry *tab, const uint8_t *key, size_t klen,
    time_t now)
{
	struct throttle_entry *oldest = NULL;

	for (size_t i = 0; i < THROTTLE_SLOTS; i++) {
		struct throttle_entry *e = &tab[i];

		if (e->used && now - e->last > THROTTLE_FORGET_S)
			e->used = false;
		if (e->used && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
		if (oldest == NULL || !e->used ||
		    (oldest->used && e->last < oldest->last))
			oldest = e;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->used = true;
	oldest->klen = (uint16_t)klen;
	memcpy(oldest->key, key, klen);
	oldest->last = now;
	return oldest;
}

static uint32_t
delay_for(uint32_t failures, unsigned max_s)
{
	uint64_t ms;

	if (failures < THROTTLE_FREE)
		return 0;
	ms = (uint64_t)THROTTLE_BASE_MS << (failures - THROTTLE_FREE > 16 ? 16 :
	    failures - THROTTLE_FREE);
	return ms > (uint64_t)max_s * 1000 ? max_s * 1000 : (uint32_t)ms;
}

/* The address key: the IPC form, an IPv6 address cut to its /64. */
size_t
throttle_addr_key(const struct sockaddr *sa, uint8_t *key, size_t cap)
{
	struct wr w;

	wr_init(&w, key, cap);
	if (ipc_addr_put(&w, sa) != 0)
		return 0;
	if (key[0] == 6 && !IN6_IS_ADDR_V4MAPPED(
	    &((const struct sockaddr_in6 *)sa)->sin6_addr))
		memset(key + 1 + 8, 0, 8);
	return w.off;
}

uint32_t
throttle_ask(struct throttle *t, const uint8_t *akey, size_t alen,
    const char *user, unsigned max_s)
{
	time_t now = now_s();
	struct throttle_entry *a = entry_get(t->addr, akey, alen, now);
	struct throttle_entry *u = entry_get(t->user, (const uint8_t *)user,
	    strlen(user), now);
	uint32_t f = a->failures > u->failures ? a->failures : u->failures;
	uint32_t ms = delay_for(f, max_s);
	bool a_hot, u_hot;

	a_hot = a->failures >= THROTTLE_FREE;
	u_hot = u->failures >= THROTTLE_FREE;
	/* Once per burst of each key: until a success or THROTTLE_FORGET_S. */
	if (ms > 0 && ((a_hot && !a->logged) || (u_hot && !u->logged))) {
		char text[INET6_ADDRSTRLEN] = "?";

		(void)inet_ntop(akey[0] == 4 ? AF_INET : AF_INET6, akey + 1,
		    text, sizeof(text));
		log_warnx("throttling logins %s %s%s (%u failures): each "
		    "further attempt waits up to %u s", a_hot ? "from" : "for",
		    a_hot ? text : user, a_hot && akey[0] == 6 ? "/64" : "",
		    f, max_s);
		a->logged = a->logged || a_hot;
		u->logged = u->logged || u_hot;
	}
	a->failures++;
	u->failures++;
	a->last = u->last = now;
	return ms;
}

void
throttle_result(struct throttle *t, const uint8_t *akey, size_t alen,
    const char *user, int outcome)
{
	time_t now = now_s();
	struct throttle_entry *a = entry_get(t->addr, akey, alen, now);
	struct throttle_entry *u = entry_get(t->user, (const uint8_t *)user,
	    strlen(user), now);

	switch (outcome) {
	case THROTTLE_SUCCESS:
		a->used = u->used = false;
		break;
	case THROTTLE_NOT_COUNTED:
		if (a->failures > 0)
			a->failures--;
		if (u->failures > 0)
			u->failures--;
		break;
	case THROTTLE_FAILURE:
		break;
	}
}
