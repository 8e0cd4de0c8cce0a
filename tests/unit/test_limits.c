/*
 * The master's limits (master/limits.c) and its door (master/door.c):
 * sshd's MaxStartups arithmetic, the SOCKS5_MAXSTARTUPS grammar, and the
 * door's validation of a real-client claim driven through a real door
 * socketpair, so the sender's pid is the kernel's (SCM_CREDENTIALS): a
 * claim for a session whose TCP peer is not a trusted load balancer is
 * ignored, a claim from another process or for another session gets no
 * answer, a session the forker has not reported yet is told to retry,
 * and a trusted claim is checked against the penalty table and the
 * per-source limit of the real client.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ipc.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "master/limits.h"
#include "master/penalty.h"
#include "master/state.h"
#include "addr_fixture.h"
#include "unit.h"

/* How many r in [0, 100) drop the next connection. */
static unsigned
drops(unsigned n, unsigned start, unsigned rate, unsigned full)
{
	unsigned k = 0;

	for (unsigned r = 0; r < 100; r++)
		k += limits_startups_drop(n, start, rate, full, r);
	return k;
}

static void
test_startups_arithmetic(void)
{
	static const struct {
		unsigned n, start, rate, full, want;
	} rows[] = {
		{ 0, 10, 30, 100, 0 },
		{ 9, 10, 30, 100, 0 },      /* below start: never */
		{ 10, 10, 30, 100, 30 },    /* at start: rate % */
		{ 55, 10, 30, 100, 65 },    /* halfway: 30 + 70 * 45 / 90 */
		{ 99, 10, 30, 100, 99 },
		{ 100, 10, 30, 100, 100 },  /* at full: always */
		{ 5000, 10, 30, 100, 100 },
		{ 4, 4, 100, 50, 100 },     /* rate 100: always from start */
		{ 4, 4, 0, 5, 0 },          /* rate 0 at start ... */
		{ 5, 4, 0, 5, 100 },        /* ... and full right after */
		{ 100000, 0, 30, 100, 0 },  /* start 0: off */
	};
	unsigned prev = 0;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK(drops(rows[i].n, rows[i].start, rows[i].rate,
		    rows[i].full) == rows[i].want,
		    "MaxStartups %u:%u:%u with %u negotiating drops %u %%",
		    rows[i].start, rows[i].rate, rows[i].full, rows[i].n,
		    rows[i].want);
	/* The chance rises with n and never falls (100:30:300, the default). */
	for (unsigned n = 0; n <= 400; n++) {
		unsigned d = drops(n, 100, 30, 300);

		if (d < prev)
			break;
		prev = d;
	}
	CHECK(prev == 100, "the default's drop chance rises to 100 %% and "
	    "never falls");
}

static struct conf *
load(const char *text)
{
	struct conf *c = NULL;

	if (conf_parse_flags("t.conf", text, strlen(text), CONF_PARSE_NO_ENV,
	    &c, NULL, NULL) != 0)
		return NULL;
	return c;
}

static void
test_startups_grammar(void)
{
	static const struct {
		const char *value;
		bool ok;
		unsigned start, rate, full;
	} rows[] = {
		{ "10:30:100", true, 10, 30, 100 },
		{ "0", true, 0, 0, 0 },
		{ "1:0:2", true, 1, 0, 2 },
		{ "10:100:11", true, 10, 100, 11 },
		{ "10:30:10", false, 0, 0, 0 },    /* full must pass start */
		{ "0:30:100", false, 0, 0, 0 },
		{ "10:101:100", false, 0, 0, 0 },
		{ "10:30", false, 0, 0, 0 },
		{ "10:30:100:5", false, 0, 0, 0 },
		{ "10:30:100000000", false, 0, 0, 0 },
		{ "a:b:c", false, 0, 0, 0 },
		{ "10::100", false, 0, 0, 0 },
		{ "-1:30:100", false, 0, 0, 0 },
	};
	struct conf *c = load("permit - - - - - -\n");
	const struct conf_vars *v;

	CHECK(c != NULL, "a file without limits loads");
	if (c != NULL) {
		v = conf_vars(c);
		CHECK(v->startups_start == 100 && v->startups_rate == 30 &&
		    v->startups_full == 300 && v->startups_per_source == 64 &&
		    v->max_child_per_source == 0 && v->max_child_per_user == 0,
		    "defaults: 100:30:300, 64 per source, no session limits");
		conf_free(c);
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[200];

		snprintf(text, sizeof(text), "set SOCKS5_MAXSTARTUPS %s\n"
		    "permit - - - - - -\n", rows[i].value);
		c = load(text);
		CHECK((c != NULL) == rows[i].ok, "SOCKS5_MAXSTARTUPS %s %s",
		    rows[i].value, rows[i].ok ? "loads" : "is refused");
		if (c == NULL)
			continue;
		v = conf_vars(c);
		CHECK(v->startups_start == rows[i].start &&
		    v->startups_rate == rows[i].rate &&
		    v->startups_full == rows[i].full,
		    "SOCKS5_MAXSTARTUPS %s reads as %u:%u:%u", rows[i].value,
		    rows[i].start, rows[i].rate, rows[i].full);
		conf_free(c);
	}
}

/* Send a real-client claim for session id naming real on the door, run
 * the master's drain, and return its verdict (-1: no answer). */
static int
claim(struct master *m, uint32_t id, const struct sockaddr_storage *real)
{
	uint8_t req[IPC_REAL_CLIENT_LEN], ans[IPC_VERDICT_LEN];
	struct timespec soon = { 0, 0 };
	struct wr w;
	size_t n;
	int pair[2], rc;

	wr_init(&w, req, sizeof(req));
	if (ipc_real_client_put(&w, id, (const struct sockaddr *)real) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
		return -2;
	rc = ipc_send_fds(m->door_worker_fd, IPC_REAL_CLIENT, req, w.off,
	    &pair[1], 1, 1);
	close(pair[1]);
	if (rc == 0) {
		door_drain(m);
		clock_gettime(CLOCK_MONOTONIC, &soon);
		soon.tv_sec += 2;
		rc = ipc_recv(pair[0], IPC_VERDICT, FROM_MASTER, ans,
		    sizeof(ans), &n, NULL, &soon);
	}
	close(pair[0]);
	return rc == 0 ? ans[0] : -1;
}

static void
test_door_real_client(void)
{
	struct master m;
	struct sockaddr_storage lb = mk_addr("127.0.0.1:40000");
	struct sockaddr_storage other = mk_addr("192.0.2.9:40001");
	struct sockaddr_storage real = mk_addr("10.9.0.4:5000");
	struct sockaddr_storage real2 = mk_addr("10.9.0.5:5001");
	pid_t me = getpid();
	int rc;

	memset(&m, 0, sizeof(m));
	m.conf = load("set SOCKS5_PROXY_PROTOCOL 127.0.0.1\n"
	    "set SOCKS5_MAXCHILD_PER_SOURCE 1\npermit - - - - - -\n");
	CHECK(m.conf != NULL, "the door test's configuration loads");
	if (m.conf == NULL || penalty_new(16, &m.penalty) != 0 ||
	    door_open(&m) != 0) {
		CHECK(0, "door test set-up");
		return;
	}
	/* Sessions, all "served" by this process, so the door's pid check
	 * passes for the ids that name them: 1 from an untrusted peer, 2
	 * and 3 from the load balancer, 4 someone else's, 5 not forked. */
	children_add(&m, me, 0, 1, &other);
	children_add(&m, me, 0, 2, &lb);
	children_add(&m, me, 0, 3, &lb);
	children_add(&m, me + 1, 0, 4, &lb);
	children_add(&m, 0, 0, 5, &lb);
	CHECK(m.n_negotiating == 5, "every new session counts as negotiating");
	CHECK(m.children[0].has_key && !m.children[1].has_key,
	    "a direct client is keyed at accept, a proxied one is not");

	rc = claim(&m, 1, &real);
	CHECK(rc == LIMIT_GO && !m.children[0].has_real,
	    "a claim from a session whose peer is not trusted is ignored "
	    "(verdict %d)", rc);
	rc = claim(&m, 2, &real);
	CHECK(rc == LIMIT_GO && m.children[1].has_real &&
	    m.children[1].has_key, "a trusted claim keys the session on the "
	    "real client (verdict %d)", rc);
	rc = claim(&m, 2, &real2);
	CHECK(rc == LIMIT_GO && m.children[1].real.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&m.children[1].real)->sin_addr.s_addr ==
	    ((struct sockaddr_in *)&real)->sin_addr.s_addr,
	    "a second claim for the same session changes nothing");
	rc = claim(&m, 4, &real2);
	CHECK(rc == -1 && !m.children[3].has_real,
	    "a claim for another process's session gets no answer");
	rc = claim(&m, 99, &real2);
	CHECK(rc == -1, "a claim for no session gets no answer");
	rc = claim(&m, 5, &real2);
	CHECK(rc == LIMIT_RETRY, "a session not reported forked yet: retry "
	    "(verdict %d)", rc);
	rc = claim(&m, 3, &real);
	CHECK(rc == LIMIT_PER_SOURCE && !m.children[2].has_real,
	    "the same real client on a second session: per-source limit "
	    "(verdict %d)", rc);
	penalty_strike(m.penalty, (const struct sockaddr *)&real2, 10, 10);
	rc = claim(&m, 3, &real2);
	CHECK(rc == LIMIT_PENALTY, "a penalised real client is refused "
	    "(verdict %d)", rc);
	CHECK(limits_accept(&m, &lb, true) == LIMIT_GO,
	    "the load balancer itself is never limited per source");
	CHECK(limits_accept(&m, &other, false) == LIMIT_PER_SOURCE,
	    "a direct client at its limit is refused at accept");
	while (m.n_children > 0)
		children_drop(&m, m.n_children - 1);
	CHECK(m.n_negotiating == 0, "dropping every row leaves none "
	    "negotiating");
	children_free(&m);
	close(m.door_fd);
	close(m.door_worker_fd);
	penalty_free(m.penalty);
	conf_free(m.conf);
}

int
main(void)
{
	test_startups_arithmetic();
	test_startups_grammar();
	test_door_real_client();
	return unit_done();
}
