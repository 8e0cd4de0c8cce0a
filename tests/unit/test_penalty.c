/*
 * The crash-penalty table (master/penalty.c): a struck address is blocked
 * for base << (strikes - 1) up to the cap, keyed by address alone (an IPv4
 * client and its IPv4-mapped IPv6 form are one key; native IPv6 by /64),
 * bounded in size without forgetting repeat offenders; only the signals of
 * a memory-corruption probe count.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "master/penalty.h"
#include "unit.h"

static struct sockaddr_storage
v4(const char *ip, unsigned short port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return ss;
}

static struct sockaddr_storage
v6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* A host owns its /64: one address struck blocks its neighbours in the
 * /64, not those of the next /64; the prefix is configurable. */
static void
test_v6_prefix(void)
{
	struct sockaddr_storage h = v6("2001:db8:1:2::1");
	struct sockaddr_storage same64 = v6("2001:db8:1:2:ffff:ffff:ffff:fffe");
	struct sockaddr_storage next64 = v6("2001:db8:1:3::1");
	struct sockaddr_storage mapped = v6("::ffff:10.9.9.9");
	struct sockaddr_storage mapped_nb = v6("::ffff:10.9.9.10");
	struct penalty *p;

	CHECK(penalty_new(8, &p) == 0, "table of 8");
	penalty_strike(p, SA(h), 10, 600);
	CHECK(penalty_check(p, SA(same64)) > 0,
	    "another address of the same /64 is blocked");
	CHECK(penalty_check(p, SA(next64)) == 0, "the next /64 is not");
	penalty_strike(p, SA(mapped), 10, 600);
	CHECK(penalty_check(p, SA(mapped_nb)) == 0,
	    "IPv4-mapped addresses are keyed whole, not by /64");
	penalty_free(p);

	CHECK(penalty_new(8, &p) == 0, "table of 8");
	penalty_v6_prefix(p, 128);
	penalty_strike(p, SA(h), 10, 600);
	CHECK(penalty_check(p, SA(h)) > 0 && penalty_check(p, SA(same64)) == 0,
	    "with SOCKS5_PENALTY_V6PREFIX 128 only the address itself");
	penalty_v6_prefix(p, 48);
	CHECK(penalty_check(p, SA(next64)) > 0,
	    "with 48 the neighbouring /64 of the same /48 too");
	penalty_free(p);
}

/* Many addresses with one crash each must not push out one that crashed
 * many times. */
static void
test_eviction_keeps_offenders(void)
{
	struct sockaddr_storage offender = v4("10.0.0.66", 1);
	struct penalty *p;
	char ip[32];
	time_t t = 0;

	CHECK(penalty_new(4, &p) == 0, "table of 4");
	for (int i = 0; i < 5; i++)
		penalty_strike(p, SA(offender), 1, 600);
	for (int i = 0; i < 100; i++) {
		struct sockaddr_storage filler;

		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250);
		filler = v4(ip, 1);
		penalty_strike(p, SA(filler), 1, 600);
	}
	CHECK(penalty_check(p, SA(offender)) > 0,
	    "a full table keeps the five-strike address blocked");
	t = penalty_strike(p, SA(offender), 1, 600);
	CHECK(t == 32, "and its history: the sixth strike doubles on (%lld s)",
	    (long long)t);
	penalty_free(p);
}

static void
test_signals(void)
{
	static const struct { int sig; bool counts; } rows[] = {
		{ SIGSEGV, true }, { SIGBUS, true }, { SIGILL, true },
		{ SIGABRT, true }, { SIGSYS, true }, { SIGFPE, true },
		{ SIGKILL, false }, { SIGTERM, false }, { SIGHUP, false },
		{ SIGPIPE, false }, { SIGUSR1, false }, { SIGXCPU, false },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK(penalty_signal_counts(rows[i].sig) == rows[i].counts,
		    "signal %d %s", rows[i].sig,
		    rows[i].counts ? "is struck" : "is not struck");
}

int
main(void)
{
	struct sockaddr_storage a = v4("10.0.0.1", 1000), a2 = v4("10.0.0.1", 2000);
	struct sockaddr_storage b = v4("10.0.0.2", 1000);
	struct sockaddr_storage a_mapped = v6("::ffff:10.0.0.1");
	struct sockaddr_storage c = v6("2001:db8::1");
	struct penalty *p;
	time_t t1, t2, t3;

	CHECK(penalty_new(2, &p) == 0, "table of 2");
	CHECK(penalty_check(p, SA(a)) == 0, "nobody is blocked at first");
	t1 = penalty_strike(p, SA(a), 10, 600);
	t2 = penalty_strike(p, SA(a), 10, 600);
	t3 = penalty_strike(p, SA(a), 10, 600);
	CHECK(t1 == 10 && t2 == 20 && t3 == 40, "periods double: %lld %lld %lld",
	    (long long)t1, (long long)t2, (long long)t3);
	for (int i = 0; i < 40; i++)
		t3 = penalty_strike(p, SA(a), 10, 600);
	CHECK(t3 == 600, "capped at the maximum (%lld)", (long long)t3);
	CHECK(penalty_check(p, SA(a2)) > 0, "another source port is blocked too");
	CHECK(penalty_check(p, SA(a_mapped)) > 0,
	    "the IPv4-mapped form of the address is the same client");
	CHECK(penalty_check(p, SA(b)) == 0, "a neighbour is not blocked");
	CHECK(penalty_strike(p, SA(b), 0, 600) == 0 && penalty_check(p, SA(b)) == 0,
	    "base 0 turns penalties off");
	penalty_strike(p, SA(b), 10, 600);
	penalty_strike(p, SA(c), 10, 600);
	CHECK(penalty_check(p, SA(c)) > 0 && penalty_check(p, SA(a)) > 0 &&
	    penalty_check(p, SA(b)) == 0,
	    "full table: the entry that expires first (b) made room for c");
	penalty_free(p);

	test_v6_prefix();
	test_eviction_keeps_offenders();
	test_signals();
	return unit_done();
}
