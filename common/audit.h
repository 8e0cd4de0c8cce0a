/*
 * Audit records (SPEC "Audit records"): one JSON object per access decision
 * and per session end, in the audit file and as a syslog message (authpriv).
 *
 * No process but the audit logger (auditd/auditd.h) holds the audit file.
 * Every other process hands each record over as one message on a channel
 * of its own, which it opens through the logger's door; the logger stamps
 * the sender's pid, known to the kernel, into the record, validates it and
 * appends it.  A worker waits for the logger's answer before the reply the
 * record explains, so a record is in the file before its reply is sent; a
 * hijacked worker can forge, tear or suppress none but its own records.
 */
#ifndef SOCKS5D_AUDIT_H
#define SOCKS5D_AUDIT_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timespec;

/* A record.  Absent fields: NULL strings, negative numbers, NULL client,
 * version 0, pid 0.  Start from AUDIT_REC(event). */
struct audit_rec {
	const char *event;      /* accept wrap ban auth request close error */
	const char *decision;   /* "permit" / "deny" */
	const struct sockaddr *client;
	const struct sockaddr *lb;  /* the load balancer that sent a PROXY
	                             * header naming client, or NULL */
	int version;            /* 4 or 5 */
	const char *method;     /* none userpass ident gssapi */
	const char *user;
	const char *principal;  /* method gssapi: the Kerberos principal */
	const char *userid;     /* SOCKS4 USERID as sent: unverified, never
	                         * a user for user lists (grammar 2 step 3) */
	const char *cmd;        /* connect bind udp */
	const char *dest;       /* as the client asked */
	const char *via;        /* upstream SOCKS server */
	const char *route;      /* direct, socks4 or socks5: how dest is reached */
	const char *route_rule; /* the proxy line that chose it, if one did */
	const char *rule;       /* "socks5.conf:12" or "default" */
	int reply;              /* reply code sent */
	int64_t bytes_out;      /* client -> destination */
	int64_t bytes_in;       /* destination -> client */
	int64_t duration_ms;
	int signal;             /* error: the signal that ended a worker */
	int syscall;            /* error: the syscall seccomp refused */
	const char *reason;     /* error / deny: short explanation */
	int64_t count;          /* summary, lost: how many records it stands
	                         * for */
	pid_t pid;              /* the worker's (the logger checks it) */
};

#define AUDIT_REC(ev) ((struct audit_rec){ .event = (ev), .reply = -1, \
	.bytes_out = -1, .bytes_in = -1, .duration_ms = -1, .signal = -1, \
	.syscall = -1, .count = -1 })

/* Whether each record also goes to syslog's authpriv facility.  Called by
 * the master before forking. */
void audit_init(bool to_syslog);

/* The master, with -a: door is the logger's door, which every process
 * forked later inherits (-1 while the logger is down: their records then
 * fail); ctl the master's own channel to the logger, on which its records
 * go without waiting for an answer (the master never blocks on the
 * logger).  Called again when the logger restarts.  ctl -1 (-i, where this
 * process becomes the worker): its records go through the door like a
 * worker's and wait. */
void audit_set_logger(int door, int ctl);

/* The door a sandboxed process must keep (-1 if there is none), and the
 * channel this process opened through it already, which it must keep too
 * (-1 if none). */
int audit_door_fd(void);
/* Whether records go to a logger (-a), working or not (door -1). */
bool audit_logging(void);
int audit_chan_fd(void);

/* For a process that will write records but has none yet (a spare,
 * waiting for its client): open its channel to the logger now, so that
 * the first record costs one send, off the client's path.  Nothing
 * without a logger, in the master, or with a channel open; a failure is
 * not reported (the first record tries again), nor is a logger gone by
 * the first record (it is sent once more on a new channel). */
void audit_prepare(void);

/* Format rec stamped with now into buf as one line ending in '\n'.
 * Returns the length, or ERR_NOSPACE (the record is never cut). */
int audit_format(char *buf, size_t size, const struct audit_rec *rec,
    const struct timespec *now);

/* Format rec and hand it to the logger; in any process but the master,
 * wait (at most AUDIT_ACK_TIMEOUT_MS) until it is in the file.  Returns 0
 * (also when there is no audit file), or ERR_SYS when it is not written
 * (the caller decides whether a decision may proceed unaudited), or
 * ERR_NOSPACE when it does not fit a record. */
int audit_write(const struct audit_rec *rec);

/* audit_write without the wait, for a record that explains no reply: a
 * session's wrap and accept records (the wait for its request record
 * covers them, since the logger writes a channel's records in order) and
 * its close record.  Each acknowledgement waited for costs the worker a
 * sleep and the logger a wake-up: about 0.1 ms of a 0.7 ms session.
 * Returns 0 once the record is on its way, ERR_SYS if it cannot be sent. */
int audit_post(const struct audit_rec *rec);

/* The two records every session starts with, posted by its worker before
 * it reads a byte (whichever process forked it): "wrap" permitted because
 * the hosts_access tables hold no rule (master/wrap.c runs them when they
 * do), and "accept".  client may be NULL (inetd, a pipe). */
void audit_post_wrap_none(const struct sockaddr *client);
void audit_post_accept(const struct sockaddr *client);

enum { AUDIT_ACK_TIMEOUT_MS = 5000 };

/*
 * Floods of records that a client can cause at will (a denied UDP
 * datagram, a stray BIND peer, a connection refused at accept) are
 * limited, so that a flood cannot fill the disk: per AUDIT_SUMMARY_S
 * window, the first AUDIT_SUMMARY_BURST records of a kind are written in
 * full and the rest only counted; a "summary" record gives the count
 * (README "Audit records").  One limiter per kind and process.
 */
enum { AUDIT_SUMMARY_S = 10, AUDIT_SUMMARY_BURST = 5 };

struct audit_limit {
	const char *what;       /* the summary's reason, e.g. "UDP datagram
	                         * denied" */
	const char *cmd;        /* the summary's cmd, or NULL */
	struct timespec start;  /* of the current window (CLOCK_MONOTONIC);
	                         * zero: none yet */
	unsigned written;       /* in full, this window */
	int64_t suppressed;     /* counted only, since the last summary */
};

/* Whether the next record of this kind is to be written in full (true)
 * or only counted (false).  Writes a due summary first. */
bool audit_limit_pass(struct audit_limit *l);

/* Write the summary of what was counted, if anything (at a session's end,
 * at the master's stop). */
void audit_limit_flush(struct audit_limit *l);

/* For a loop with nothing else to wake it: milliseconds until the summary
 * of l is due (-1: none pending); audit_limit_tick writes it once due. */
int audit_limit_wait_ms(const struct audit_limit *l);
void audit_limit_tick(struct audit_limit *l);

#endif
