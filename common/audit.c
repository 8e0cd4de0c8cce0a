/*
 * Globals: the record sinks, set by the master before it forks and
 * inherited: audit_syslog, audit_on (-a was given), audit_door (the
 * logger's door), and this process's channel to the logger (audit_chan,
 * opened by audit_chan_pid: a child that inherits it never uses it, and
 * never closes it either, as its sandbox may have closed that number
 * already and reused it).  audit_nowait_pid is the master's.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/layout.h"
#include "common/log.h"
#include "common/net.h"

enum { AUDIT_LINE_MAX = IPC_AUDIT_RECORD_MAX + 1, AUDIT_LINE_SHORT = 512 };

static bool audit_syslog;
static bool audit_on;
static int audit_door = -1;
static int audit_chan = -1;
static pid_t audit_chan_pid SESSION_WRITTEN;
static pid_t audit_nowait_pid;
/* Acknowledgements the logger owes this process's channel for records
 * audit_post sent: the next audit_write reads them before its own. */
static unsigned audit_acks_owed SESSION_WRITTEN;
/* The channel was opened ahead (audit_prepare) and has carried nothing:
 * if the first send fails, the logger it reached has gone since. */
static bool audit_chan_ahead SESSION_WRITTEN;

void
audit_init(bool to_syslog)
{
	audit_syslog = to_syslog;
}

void
audit_set_logger(int door, int ctl)
{
	audit_on = true;
	audit_door = door;
	audit_chan = ctl;
	audit_chan_pid = getpid();
	audit_nowait_pid = ctl == -1 ? 0 : getpid();
}

int
audit_chan_fd(void)
{
	return audit_chan_pid == getpid() ? audit_chan : -1;
}

int
audit_door_fd(void)
{
	return audit_door;
}

bool
audit_logging(void)
{
	return audit_on;
}

struct jbuf {
	char *p;
	size_t size, len;
	bool overflow;
	bool first;
};

static void
jb_raw(struct jbuf *jb, const char *s, size_t n)
{
	if (jb->overflow || n >= jb->size - jb->len) {
		jb->overflow = true;
		return;
	}
	memcpy(jb->p + jb->len, s, n);
	jb->len += n;
	jb->p[jb->len] = '\0';
}

static void
jb_key(struct jbuf *jb, const char *key)
{
	if (!jb->first)
		jb_raw(jb, ",", 1);
	jb->first = false;
	jb_raw(jb, "\"", 1);
	jb_raw(jb, key, strlen(key));
	jb_raw(jb, "\":", 2);
}

/* Strings come from clients (names, user ids): escape quotes, backslashes,
 * control bytes and every byte above 0x7e as \u00XX, so each record is
 * valid JSON whatever the bytes, and a line break can never forge a second
 * record. */
static void
jb_str(struct jbuf *jb, const char *key, const char *val)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s;

	if (val == NULL)
		return;
	jb_key(jb, key);
	jb_raw(jb, "\"", 1);
	for (s = (const unsigned char *)val; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			char esc[2] = { '\\', (char)*s };
			jb_raw(jb, esc, 2);
		} else if (*s < 0x20 || *s > 0x7e) {
			char esc[6] = { '\\', 'u', '0', '0', hex[*s >> 4],
			    hex[*s & 15] };
			jb_raw(jb, esc, 6);
		} else {
			jb_raw(jb, (const char *)s, 1);
		}
	}
	jb_raw(jb, "\"", 1);
}

static void
jb_int(struct jbuf *jb, const char *key, int64_t val)
{
	char num[24];

	if (val < 0)
		return;
	jb_key(jb, key);
	jb_raw(jb, num, (size_t)(net_put_decimal(num, (uint64_t)val) - num));
}

/*
 * UTC calendar date of a day count since 1970-01-01 (Howard Hinnant's
 * days_from_civil inverse).  Not gmtime_r: glibc initialises its time zone
 * state on the first call, reading /etc/localtime, which a chrooted worker
 * under seccomp cannot open (it would be killed).
 */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;                    /* shift the epoch to 0000-03-01 */
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;         /* day of the 400-year era */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;       /* month from March, 0..11 */
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* n as exactly `width` digits (the low ones) at p; returns the end. */
static char *
put_digits(char *p, uint64_t n, int width)
{
	for (int i = width - 1; i >= 0; i--, n /= 10)
		p[i] = (char)('0' + n % 10);
	return p + width;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", by hand for the reason net_addr_format
 * gives; a year past 9999 keeps all its digits. */
static void
ts_format(char *ts, int64_t year, unsigned month, unsigned mday,
    int64_t secs, long ms)
{
	char *p = ts;

	p = year > 9999 ? net_put_decimal(p, (uint64_t)year) :
	    put_digits(p, (uint64_t)year, 4);
	*p++ = '-';
	p = put_digits(p, month, 2);
	*p++ = '-';
	p = put_digits(p, mday, 2);
	*p++ = 'T';
	p = put_digits(p, (uint64_t)(secs / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (uint64_t)(secs / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (uint64_t)(secs % 60), 2);
	*p++ = '.';
	p = put_digits(p, (uint64_t)ms, 3);
	*p++ = 'Z';
	*p = '\0';
}

int
audit_format(char *buf, size_t size, const struct audit_rec *rec,
    const struct timespec *now)
{
	struct jbuf jb = { .p = buf, .size = size, .first = true };
	char ts[96], client[NET_ADDRSTR_MAX];
	int64_t days, secs, year;
	unsigned month, mday;

	if (size == 0)
		return ERR_NOSPACE;
	buf[0] = '\0';
	days = (int64_t)now->tv_sec / 86400;
	secs = (int64_t)now->tv_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &year, &month, &mday);
	ts_format(ts, year, month, mday, secs, now->tv_nsec / 1000000);

	jb_raw(&jb, "{", 1);
	jb_str(&jb, "ts", ts);
	jb_str(&jb, "event", rec->event);
	jb_str(&jb, "decision", rec->decision);
	if (rec->client != NULL) {
		net_addr_format(rec->client, client, sizeof(client));
		jb_str(&jb, "client", client);
	}
	if (rec->lb != NULL) {
		net_addr_format(rec->lb, client, sizeof(client));
		jb_str(&jb, "lb", client);
	}
	if (rec->version > 0)
		jb_int(&jb, "version", rec->version);
	jb_str(&jb, "method", rec->method);
	jb_str(&jb, "user", rec->user);
	jb_str(&jb, "principal", rec->principal);
	jb_str(&jb, "userid", rec->userid);
	jb_str(&jb, "cmd", rec->cmd);
	jb_str(&jb, "dest", rec->dest);
	jb_str(&jb, "via", rec->via);
	jb_str(&jb, "route", rec->route);
	jb_str(&jb, "route_rule", rec->route_rule);
	jb_str(&jb, "rule", rec->rule);
	jb_int(&jb, "reply", rec->reply);
	jb_int(&jb, "bytes_out", rec->bytes_out);
	jb_int(&jb, "bytes_in", rec->bytes_in);
	jb_int(&jb, "duration_ms", rec->duration_ms);
	jb_int(&jb, "signal", rec->signal);
	jb_int(&jb, "syscall", rec->syscall);
	jb_str(&jb, "reason", rec->reason);
	jb_int(&jb, "count", rec->count);
	if (rec->pid > 0)
		jb_int(&jb, "pid", rec->pid);
	jb_raw(&jb, "}\n", 2);
	if (jb.overflow)
		return ERR_NOSPACE;
	return (int)jb.len;
}

/* This process's own channel: one end of a new socketpair sent through
 * the door.  The logger learns who holds the other end from the kernel
 * (SO_PEERCRED), never from us. */
static int
audit_chan_open(void)
{
	uint8_t version = IPC_VERSION;
	int pair[2], rc;

	if (audit_door == -1)
		return ERR_EOF;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == -1)
		return ERR_SYS;
	rc = ipc_send(audit_door, IPC_OPEN, &version, sizeof(version), pair[1]);
	close(pair[1]);
	if (rc != 0) {
		close(pair[0]);
		return rc;
	}
	audit_chan = pair[0];
	audit_chan_pid = getpid();
	audit_acks_owed = 0;
	return 0;
}

/* A logger that is gone or late: the next record tries a new channel
 * (through the door of this process's fork). */
static void
audit_chan_lost(void)
{
	close(audit_chan);
	audit_chan = -1;
	audit_acks_owed = 0;
}

void
audit_prepare(void)
{
	pid_t self = getpid();

	if (!audit_on || self == audit_nowait_pid)
		return;
	if (audit_chan_pid != self)
		audit_chan = -1;
	if (audit_chan == -1 && audit_chan_open() == 0)
		audit_chan_ahead = true;
}

/*
 * Send one formatted record (len bytes with its newline) to the logger:
 * 0 when an answer is owed for it, AUDIT_SENT_DONE when none is (no audit
 * file; the master's records), or an error.
 */
enum { AUDIT_SENT_DONE = 1 };

static int
audit_deliver(const char *line, int len, pid_t self)
{
	int rc;

	if (audit_syslog)
		log_syslog(LOG_AUTHPRIV | LOG_INFO, line, (size_t)len - 1);
	if (!audit_on)
		return AUDIT_SENT_DONE;
	if (audit_chan_pid != self)
		audit_chan = -1;
	for (;;) {
		if (audit_chan == -1 && audit_chan_open() != 0)
			return ERR_SYS;
		/* The master only queues its record: it must never wait for
		 * the logger (nor block on a full queue: that record is
		 * lost). */
		rc = ipc_send_fds(audit_chan, self == audit_nowait_pid ?
		    IPC_AUDIT_MASTER : IPC_AUDIT_RECORD, line, (size_t)len - 1,
		    NULL, 0, self == audit_nowait_pid);
		if (rc == 0 || !audit_chan_ahead)
			break;
		/* Opened ahead for a logger that has dropped it since: once
		 * more, on a new channel. */
		audit_chan_lost();
		audit_chan_ahead = false;
	}
	audit_chan_ahead = false;
	if (self == audit_nowait_pid)
		return rc == 0 ? AUDIT_SENT_DONE : ERR_SYS;
	if (rc != 0) {
		audit_chan_lost();
		return ERR_SYS;
	}
	return 0;
}

static __attribute__((noinline)) int
audit_send_long(const struct audit_rec *rec, const struct timespec *now,
    pid_t self)
{
	char line[AUDIT_LINE_MAX];
	int len;

	if ((len = audit_format(line, sizeof(line), rec, now)) < 0)
		return len;
	return audit_deliver(line, len, self);
}

/*
 * Format rec and deliver it.  Most records are a few hundred bytes, so
 * they are formatted into a buffer of that size first, and only one that
 * does not fit takes the full AUDIT_LINE_MAX.  Out of line, so that the
 * buffer is off the stack before audit_submit waits for the logger: a
 * worker writes its records under its deepest call chain, and every stack
 * page it touches is a page of its own.
 */
static __attribute__((noinline)) int
audit_send(const struct audit_rec *rec, pid_t self)
{
	char line[AUDIT_LINE_SHORT];
	struct timespec now;
	int len;

	clock_gettime(CLOCK_REALTIME, &now);
	if ((len = audit_format(line, sizeof(line), rec, &now)) == ERR_NOSPACE)
		return audit_send_long(rec, &now, self);
	if (len < 0)
		return len;
	return audit_deliver(line, len, self);
}

static int
audit_submit(const struct audit_rec *rec, bool wait)
{
	struct timespec deadline;
	uint8_t ack = 1;
	size_t n;
	int rc;

	if ((rc = audit_send(rec, getpid())) != 0)
		return rc == AUDIT_SENT_DONE ? 0 : rc;
	if (!wait) {
		audit_acks_owed++;
		return 0;
	}
	/* The logger answers a channel's records in order: first what it
	 * owes for posted ones, then this record's. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += AUDIT_ACK_TIMEOUT_MS / 1000;
	for (; rc == 0 && audit_acks_owed > 0; audit_acks_owed--)
		rc = ipc_recv(audit_chan, IPC_AUDIT_ACK, FROM_HELPER, &ack,
		    sizeof(ack), &n, NULL, &deadline);
	if (rc == 0)
		rc = ipc_recv(audit_chan, IPC_AUDIT_ACK, FROM_HELPER, &ack,
		    sizeof(ack), &n, NULL, &deadline);
	if (rc != 0) {
		audit_chan_lost();
		return ERR_SYS;
	}
	return ack == 0 ? 0 : ERR_SYS;
}

int
audit_write(const struct audit_rec *rec)
{
	return audit_submit(rec, true);
}

int
audit_post(const struct audit_rec *rec)
{
	return audit_submit(rec, false);
}

static bool
window_over(const struct audit_limit *l, const struct timespec *now)
{
	return now->tv_sec - l->start.tv_sec > AUDIT_SUMMARY_S ||
	    (now->tv_sec - l->start.tv_sec == AUDIT_SUMMARY_S &&
	    now->tv_nsec >= l->start.tv_nsec);
}

void
audit_limit_flush(struct audit_limit *l)
{
	struct audit_rec rec = AUDIT_REC("summary");

	if (l->suppressed == 0)
		return;
	rec.decision = "deny";
	rec.cmd = l->cmd;
	rec.reason = l->what;
	rec.count = l->suppressed;
	rec.pid = getpid();
	l->suppressed = 0;
	(void)audit_write(&rec);
}

bool
audit_limit_pass(struct audit_limit *l)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((l->start.tv_sec == 0 && l->start.tv_nsec == 0) ||
	    window_over(l, &now)) {
		audit_limit_flush(l);
		l->start = now;
		l->written = 0;
	}
	if (l->written < AUDIT_SUMMARY_BURST) {
		l->written++;
		return true;
	}
	l->suppressed++;
	return false;
}

int
audit_limit_wait_ms(const struct audit_limit *l)
{
	struct timespec now;
	long long ms;

	if (l->suppressed == 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(l->start.tv_sec + AUDIT_SUMMARY_S - now.tv_sec) *
	    1000 + (l->start.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

void
audit_limit_tick(struct audit_limit *l)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (l->suppressed > 0 && window_over(l, &now)) {
		audit_limit_flush(l);
		l->start = now;
		l->written = 0;
	}
}

void
audit_post_wrap_none(const struct sockaddr *client)
{
	struct audit_rec rec = AUDIT_REC("wrap");

	rec.decision = "permit";
	rec.client = client;
	rec.reason = "no rules in the hosts_access tables";
	rec.pid = getpid();
	(void)audit_post(&rec);
}

void
audit_post_accept(const struct sockaddr *client)
{
	struct audit_rec rec = AUDIT_REC("accept");

	rec.decision = "permit";
	rec.client = client;
	rec.pid = getpid();
	/* No reply follows it: the request record's wait covers it. */
	(void)audit_post(&rec);
}
