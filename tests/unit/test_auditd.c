/*
 * The audit logger (auditd/): its check of a record (every malformed shape
 * refused, every truncated prefix refused, whatever audit_format writes
 * accepted), the pid it stamps, and the real logger process: a record is
 * attributed to the process that sent it, one naming another pid is not
 * written, the master's go unanswered, a reopened file takes the next.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auditd/auditd.h"
#include "common/audit.h"
#include "common/err.h"
#include "unit.h"

static int
check(const char *s)
{
	int64_t pid;

	return auditd_record_check((const uint8_t *)s, strlen(s), &pid);
}

static const char *const good[] = {
	"{\"event\":\"close\"}",
	"{\"ts\":\"2026-11-23T07:00:00.123Z\",\"event\":\"request\",\"reply\":0}",
	"{\"event\":\"x\",\"dest\":\"a\\\"b\\\\c\\u000a\\u00ff\",\"bytes_in\":"
	    "123456789012345678}",
	"{\"event\":\"x\",\"pid\":4242}",
};

static const char *const bad[] = {
	"",
	"{}",
	"[\"event\"]",
	"{\"event\":\"close\"}x",
	"{\"event\":\"close\"}\n",
	"{ \"event\":\"close\"}",
	"{\"event\": \"close\"}",
	"{\"event\":\"cl\nose\"}",
	"{\"event\":\"cl\tose\"}",
	"{\"event\":\"cl\x7fose\"}",
	"{\"event\":\"cl\xc3\xa9se\"}",
	"{\"event\":\"a\\nb\"}",
	"{\"event\":\"a\\u0100\"}",
	"{\"event\":\"a\\u00AB\"}",
	"{\"event\":\"a\\u00a\"}",
	"{\"event\":\"a\",\"event\":\"b\"}",
	"{\"event\":\"a\",\"pid\":\"12\"}",
	"{\"event\":\"a\",\"pid\":0}",
	"{\"event\":\"a\",\"reply\":01}",
	"{\"event\":\"a\",\"reply\":-1}",
	"{\"event\":\"a\",\"reply\":1234567890123456789}",
	"{\"event\":\"a\",\"reply\":1.5}",
	"{\"event\":5}",
	"{\"\":\"a\",\"event\":\"b\"}",
	"{\"Event\":\"a\"}",
	"{\"event\":\"a\",\"x\":{\"y\":1}}",
	"{\"event\":\"a\",\"x\":true}",
	"{\"event\":\"a\",}",
	"{\"reply\":0}",
	"{\"event\":\"a\",\"abcdefghijklmnopq\":1}",
};

static void
test_check(void)
{
	const char *full = good[1];
	size_t n = strlen(full);
	int64_t pid;
	bool all = true;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(check(good[i]) == 0, "valid record %zu accepted", i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(check(bad[i]) == ERR_PROTO, "malformed record %zu refused",
		    i);
	for (size_t i = 0; i < n; i++)
		all = all && auditd_record_check((const uint8_t *)full, i,
		    &pid) == ERR_PROTO;
	CHECK(all, "every truncated prefix of a record is refused");
	CHECK(auditd_record_check((const uint8_t *)good[3], strlen(good[3]),
	    &pid) == 0 && pid == 4242, "the pid field is read");
}

static void
test_format_round_trip(void)
{
	struct timespec ts = { .tv_sec = 1795417200, .tv_nsec = 0 };
	struct audit_rec rec = AUDIT_REC("request");
	char hostile[256], line[4096];
	int64_t pid;
	int n;

	for (int i = 0; i < 255; i++)
		hostile[i] = (char)(i + 1);
	hostile[255] = '\0';
	rec.user = hostile;
	rec.dest = "\"}\n{\"event\":\"forged\"";
	rec.reply = 0;
	rec.count = 7;
	n = audit_format(line, sizeof(line), &rec, &ts);
	CHECK(n > 0 && auditd_record_check((const uint8_t *)line,
	    (size_t)n - 1, &pid) == 0 && pid == 0,
	    "what audit_format writes, hostile strings and all, is accepted");
}

static void
test_line(void)
{
	const char *rec = "{\"event\":\"close\"}";
	const char *named = "{\"event\":\"close\",\"pid\":7}";
	char out[256];
	int n;

	n = auditd_record_line((const uint8_t *)rec, strlen(rec), 42, false,
	    out, sizeof(out));
	CHECK(n > 0 && strcmp(out, "{\"event\":\"close\",\"pid\":42}\n") == 0,
	    "the sender's pid is stamped into a record without one");
	CHECK(auditd_record_line((const uint8_t *)named, strlen(named), 42,
	    false, out, sizeof(out)) == ERR_DENIED,
	    "a record naming another pid is refused");
	n = auditd_record_line((const uint8_t *)named, strlen(named), 7, false,
	    out, sizeof(out));
	CHECK(n > 0 && strcmp(out, "{\"event\":\"close\",\"pid\":7}\n") == 0,
	    "a record naming its sender is kept as it is");
	n = auditd_record_line((const uint8_t *)named, strlen(named), 1, true,
	    out, sizeof(out));
	CHECK(n > 0 && strcmp(out, "{\"event\":\"close\",\"pid\":7}\n") == 0,
	    "the master's record about a worker keeps that worker's pid");
	CHECK(auditd_record_line((const uint8_t *)rec, strlen(rec), 42, false,
	    out, 10) == ERR_NOSPACE, "a line that does not fit is refused");
}

/* Wait until path holds a line containing want (bounded). */
static bool
file_has(const char *path, const char *want)
{
	for (int i = 0; i < 300; i++) {
		char buf[8192];
		FILE *f = fopen(path, "r");
		bool found = false;

		if (f != NULL) {
			while (!found && fgets(buf, sizeof(buf), f) != NULL)
				found = strstr(buf, want) != NULL;
			fclose(f);
		}
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

static bool
file_lacks(const char *path, const char *unwanted)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	bool found = false;

	if (f == NULL)
		return true;
	while (!found && fgets(buf, sizeof(buf), f) != NULL)
		found = strstr(buf, unwanted) != NULL;
	fclose(f);
	return !found;
}

/* The lines holding a, b and c come in that order in path. */
static bool
in_order(const char *path, const char *a, const char *b, const char *c)
{
	const char *want[] = { a, b, c };
	char buf[8192];
	size_t next = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return false;
	while (next < 3 && fgets(buf, sizeof(buf), f) != NULL)
		if (strstr(buf, want[next]) != NULL)
			next++;
	fclose(f);
	return next == 3;
}

/* In a child, as a worker would: one record through the door.  Exit 0 if
 * audit_write said it was written. */
static int
child_writes(int door, const char *reason, pid_t claim)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct audit_rec rec = AUDIT_REC("request");

		audit_set_logger(door, -1);
		rec.reason = reason;
		rec.pid = claim != 0 ? claim : getpid();
		_exit(audit_write(&rec) == 0 ? 0 : 1);
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* In a child, as a worker would, with the logger's door: body(path),
 * whose result is the exit status returned (-1 if it did not exit). */
static int
child_run(int door, const char *path, int (*body)(const char *path))
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		audit_set_logger(door, -1);
		_exit(body(path));
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* n records of event and reason, posted: 0 if all were sent. */
static int
post_n(const char *event, const char *reason, int n)
{
	struct audit_rec r = AUDIT_REC("accept");
	int rc = 0;

	r.event = event;
	r.reason = reason;
	for (int i = 0; i < n; i++)
		rc |= audit_post(&r);
	return rc;
}

static int
posts_then_waits(const char *path)
{
	struct audit_rec r = AUDIT_REC("request");
	int rc = post_n("accept", "posted one", 1);

	/* Enough that the logger is still writing them when a write that
	 * read only the first answer returned. */
	rc |= post_n("accept", "posted filler", 64);
	rc |= post_n("accept", "posted two", 1);
	r.reason = "waited";
	rc |= audit_write(&r);
	return rc == 0 && !file_lacks(path, "\"waited\"") ? 0 : 1;
}

/* A spare's channel opened ahead, and lost before its first record (its
 * descriptor closed under it, as a logger that dropped the channel would
 * close its end): the record goes on a new channel.  0 if written. */
static int
ahead_then_lost(const char *path)
{
	struct audit_rec rec = AUDIT_REC("request");

	(void)path;
	audit_prepare();
	if (audit_chan_fd() < 0)
		return 2;
	close(audit_chan_fd());
	rec.reason = "after a lost channel";
	rec.pid = getpid();
	return audit_write(&rec) == 0 ? 0 : 1;
}

/* The same with a channel opened by a record: a channel that carried
 * records and is lost is not retried (which acks it owed is unknown). */
static int
used_then_lost(const char *path)
{
	struct audit_rec rec = AUDIT_REC("request");

	(void)path;
	rec.reason = "first on its channel";
	rec.pid = getpid();
	if (audit_write(&rec) != 0 || audit_chan_fd() < 0)
		return 2;
	close(audit_chan_fd());
	rec.reason = "second, on a lost channel";
	return audit_write(&rec) == 0 ? 0 : 1;
}

static int
posts_then_exits(const char *path)
{
	(void)path;
	return post_n("accept", "early filler", 64) != 0 ||
	    post_n("close", "early close", 1) != 0;
}

/*
 * A close record posted while the answer to an earlier record lies
 * unread, and the process gone before the logger reads it: the kernel
 * then reports ECONNRESET to the logger ahead of the queued record.  The
 * logger is stopped (SIGSTOP) from the child's second post until its
 * exit, so that this order is certain.  Returns whether the second
 * record reached the file.
 */
static bool
post_with_answer_unread(int door, pid_t logger, const char *path)
{
	int ready[2], go[2], status;
	char c = 0;
	pid_t pid;
	bool written;

	if (pipe(ready) != 0 || pipe(go) != 0)
		return false;
	if ((pid = fork()) == 0) {
		struct pollfd pfd = { .events = POLLIN };

		audit_set_logger(door, -1);
		if (post_n("accept", "answered first", 1) != 0)
			_exit(1);
		/* Its answer arrives, and is left unread. */
		pfd.fd = audit_chan_fd();
		if (poll(&pfd, 1, 3000) != 1 || write(ready[1], &c, 1) != 1 ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(post_n("close", "posted at exit", 1) != 0);
	}
	written = pid > 0 && read(ready[0], &c, 1) == 1 &&
	    kill(logger, SIGSTOP) == 0 && write(go[1], &c, 1) == 1 &&
	    waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0;
	kill(logger, SIGCONT);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(go[i]);
	}
	return written && file_has(path, "\"posted at exit\"");
}

static void
test_logger(void)
{
	char dir[] = "/tmp/test_auditd.XXXXXX", path[64], path2[64], want[96];
	struct auditd_ids ids = { .uid = getuid(), .gid = getgid(),
	    .privileged = false };
	struct audit_rec rec = AUDIT_REC("error");
	struct auditd a = { .door = -1, .ctl = -1 };
	int fd, fd2, status;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/audit", dir);
	snprintf(path2, sizeof(path2), "%s/audit.new", dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd != -1 && auditd_start(&a, fd, true, &ids) == 0,
	    "the logger starts");
	audit_set_logger(a.door, a.ctl);

	CHECK(child_writes(a.door, "from a child", 0) == 0,
	    "a child's record is acknowledged as written");
	CHECK(file_has(path, "\"reason\":\"from a child\""),
	    "and is in the file");
	CHECK(child_writes(a.door, "forged", 1) == 1,
	    "a record claiming another process's pid is not acknowledged");
	{
		pid_t pid = fork();

		if (pid == 0) {
			struct audit_rec r = AUDIT_REC("request");

			audit_set_logger(a.door, -1);
			r.reason = "stamped";
			_exit(audit_write(&r) == 0 ? 0 : 1);
		}
		waitpid(pid, &status, 0);
		snprintf(want, sizeof(want), "\"reason\":\"stamped\",\"pid\":%ld}",
		    (long)pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    file_has(path, want),
		    "a record without a pid gets its sender's, from the kernel");
	}
	/* Posted records, then one waited for: the write reads the
	 * acknowledgements owed first and its own last, so all are in the
	 * file, in order, when it returns. */
	CHECK(child_run(a.door, path, posts_then_waits) == 0,
	    "66 posted records and a waited one: written before the "
	    "write returns");
	CHECK(file_has(path, "\"posted two\"") &&
	    in_order(path, "posted one", "posted two", "waited"),
	    "in the order they were sent");
	/* A session that ends early posts all its records (wrap, accept,
	 * close) and exits at once: the logger, unable to answer a sender
	 * that is gone, still writes every one. */
	CHECK(child_run(a.door, path, posts_then_exits) == 0 &&
	    file_has(path, "\"early close\""),
	    "65 records posted by a process that then exits: all written");
	CHECK(post_with_answer_unread(a.door, a.pid, path),
	    "a record posted at exit is written");
	CHECK(child_run(a.door, path, ahead_then_lost) == 0 &&
	    file_has(path, "\"after a lost channel\""),
	    "a channel opened ahead and lost: the record goes on a new one");
	CHECK(child_run(a.door, path, used_then_lost) == 1 &&
	    file_lacks(path, "\"second, on a lost channel\""),
	    "a used channel lost: that record fails, as before");
	{
		/* Past the short buffer audit_send tries first: formatted
		 * again at full size, written whole. */
		char longer[1500];

		memset(longer, 'L', sizeof(longer) - 1);
		longer[sizeof(longer) - 1] = '\0';
		rec.reason = longer;
		CHECK(audit_write(&rec) == 0 && file_has(path, longer),
		    "a 1.5 KB record is written whole");
	}
	rec.reason = "the master's";
	rec.pid = 99999;
	CHECK(audit_write(&rec) == 0 && file_has(path,
	    "\"reason\":\"the master's\",\"pid\":99999"),
	    "the master's records go unanswered on its channel, pid kept");
	CHECK(file_lacks(path, "forged"), "the forged record is not in the file");

	fd2 = open(path2, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd2 != -1 && auditd_reopen(&a, fd2, true) == 0,
	    "the logger takes a reopened file");
	CHECK(child_writes(a.door, "after reopen", 0) == 0 &&
	    file_has(path2, "after reopen") && file_lacks(path, "after reopen"),
	    "and writes the next record there");

	{
		pid_t pid = a.pid;

		auditd_gone(&a);
		audit_set_logger(-1, -1);
		CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0,
		    "the logger exits once nobody can send to it");
	}
	close(fd);
	close(fd2);
	unlink(path);
	unlink(path2);
	rmdir(dir);
}

int
main(void)
{
	test_check();
	test_format_round_trip();
	test_line();
	test_logger();
	return unit_done();
}
