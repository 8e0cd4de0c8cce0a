/*
 * The crash-penalty table (master/penalty.c): a struck address is blocked
 * for base << (strikes - 1) up to the cap, keyed by address alone (an IPv4
 * client and its IPv4-mapped IPv6 form are one key), bounded in size.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
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
	return unit_done();
}
