/*
 * Upstream health (master/health.c, common/health.c): the master's checks
 * of IPC_UPSTREAM_DOWN (exact length, generation, line and index within
 * the configuration), the table seen through the read-only view, a reload
 * forgetting it, and the sharing itself: the children's view cannot be
 * made writable and no child inherits the writable one.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/health.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/wr.h"
#include "conf/conf.h"
#include "master/health.h"
#include "unit.h"

static const char conf_text[] =
    "socks5 .a.test - 127.0.0.1:1,127.0.0.1:2\n"    /* line 1 */
    "noproxy .b.test -\n"                            /* line 2 */
    "socks4 .c.test - 127.0.0.1:3\n"                 /* line 3 */
    "set SOCKS5_UPSTREAM_RETRY 60\n"
    "permit - - - - - -\n";

static void
report(const struct health *h, uint32_t gen, uint32_t line, uint16_t index)
{
	uint8_t msg[IPC_UPSTREAM_DOWN_LEN];
	struct wr w;

	wr_init(&w, msg, sizeof(msg));
	wr_u32be(&w, gen);
	wr_u32be(&w, line);
	wr_u16be(&w, index);
	(void)ipc_send(h->worker_fd, IPC_UPSTREAM_DOWN, msg, w.off, -1);
}

/* A raw frame, bypassing ipc_send's own bounds check. */
static void
report_raw(const struct health *h, const void *frame, size_t len)
{
	(void)send(h->worker_fd, frame, len, 0);
}

static bool
down(const struct health *h, uint32_t gen, unsigned line, size_t i)
{
	bool d[4];

	if (health_down_set(h->ro, gen, line, 4, d, health_now_ms()) != 0)
		return false;
	return d[i];
}

static int
count_down(const struct health *h)
{
	int n = 0;

	for (unsigned line = 0; line <= 4; line++)
		for (size_t i = 0; i < 4; i++)
			n += down(h, h->gen, line, i);
	return n;
}

int
main(void)
{
	static const uint8_t short_frame[] = { 0, IPC_UPSTREAM_DOWN, 0, 9,
	    0, 0, 0, 1, 0, 0, 0, 1, 0 };
	static const uint8_t long_frame[] = { 0, IPC_UPSTREAM_DOWN, 0, 11,
	    0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0 };
	static const uint8_t wrong_type[] = { 0, IPC_RESOLVE, 0, 10,
	    0, 0, 0, 1, 0, 0, 0, 1, 0, 0 };
	struct health h;
	struct conf *conf = NULL;
	void *ro_addr;
	pid_t pid;
	int status;

	log_init("test_health", false);
	CHECK(conf_parse_flags("h.conf", conf_text, strlen(conf_text),
	    CONF_PARSE_NO_ENV | CONF_PARSE_ASSUME_OWNED, &conf, NULL, NULL) == 0,
	    "configuration parses");
	if (conf == NULL || health_open(&h) != 0) {
		CHECK(0, "health_open");
		return unit_done();
	}
	CHECK(rules_route_upstreams(conf, 1) == 2 &&
	    rules_route_upstreams(conf, 2) == 0 &&
	    rules_route_upstreams(conf, 3) == 1 &&
	    rules_route_upstreams(conf, 4) == 0, "upstreams per proxy line");

	/* Everything invalid is dropped. */
	report_raw(&h, short_frame, sizeof(short_frame));
	report_raw(&h, long_frame, sizeof(long_frame));
	report_raw(&h, wrong_type, sizeof(wrong_type));
	report(&h, h.gen + 1, 1, 0);      /* another generation */
	report(&h, h.gen, 2, 0);          /* noproxy line */
	report(&h, h.gen, 4, 0);          /* not a proxy line */
	report(&h, h.gen, 1, 2);          /* index past the list */
	report(&h, h.gen, 3, 1);
	report(&h, h.gen, 0, 0);
	health_reports(&h, conf);
	CHECK(count_down(&h) == 0, "malformed, stale or out-of-range reports "
	    "mark nothing (%d marked)", count_down(&h));

	report(&h, h.gen, 1, 1);
	report(&h, h.gen, 3, 0);
	health_reports(&h, conf);
	CHECK(down(&h, h.gen, 1, 1) && !down(&h, h.gen, 1, 0) &&
	    down(&h, h.gen, 3, 0) && count_down(&h) == 2,
	    "valid reports mark exactly those upstreams");
	CHECK(!down(&h, h.gen + 1, 1, 1), "a reader of another generation "
	    "sees nothing");

	/* The children's view. */
	memcpy(&ro_addr, &h.ro, sizeof(ro_addr));
	CHECK(mprotect(ro_addr, HEALTH_PAGE_SIZE, PROT_READ | PROT_WRITE)
	    == -1 && errno == EACCES, "the read-only view cannot be made "
	    "writable (EACCES)");
	pid = fork();
	if (pid == 0) {
		/* The writable view is not mapped here: this must fault. */
		signal(SIGSEGV, SIG_DFL);
		((volatile struct health_page *)h.rw)->seq = 12345;
		_exit(0);
	}
	status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV &&
	    h.rw->seq != 12345, "a child does not inherit the writable view");
	pid = fork();
	if (pid == 0)
		_exit(down(&h, h.gen, 1, 1) ? 0 : 1);
	status = -1;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a child reads the table through its inherited view");

	health_reload(&h);
	CHECK(count_down(&h) == 0 && h.ro->gen == h.gen,
	    "a reload forgets every upstream");
	report(&h, h.gen - 1, 1, 1);
	health_reports(&h, conf);
	CHECK(count_down(&h) == 0, "a report from before the reload is dropped");

	/* More reports than entries: the table keeps working. */
	for (int i = 0; i < HEALTH_ENTRIES + 20; i++)
		report(&h, h.gen, 1, (uint16_t)(i % 2));
	for (int i = 0; i < 10; i++)
		health_reports(&h, conf);
	CHECK(down(&h, h.gen, 1, 0) && down(&h, h.gen, 1, 1) &&
	    count_down(&h) == 2, "repeated reports reuse their entries");
	conf_free(conf);
	return unit_done();
}
