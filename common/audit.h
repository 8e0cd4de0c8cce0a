/*
 * Audit records (SPEC "Audit records"): one JSON object per access decision
 * and per session end, written to the audit file with a single write(2) and
 * to syslog (authpriv).  The file is opened O_APPEND by the master and
 * inherited by every worker: one write of a whole line to an O_APPEND file
 * is placed atomically, so records from many workers never interleave.
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
	pid_t pid;              /* the worker's */
};

#define AUDIT_REC(ev) ((struct audit_rec){ .event = (ev), .reply = -1, \
	.bytes_out = -1, .bytes_in = -1, .duration_ms = -1, .signal = -1, \
	.syscall = -1 })

/* Whether each record also goes to syslog's authpriv facility (the file,
 * if any, is audit_open's).  Called by the master before forking. */
void audit_init(bool to_syslog);

/* Open (append, create 0600, no symlink) the audit file at path as the
 * record sink.  Called again, e.g. on SIGHUP after log rotation, it puts
 * the newly opened file on the same descriptor number, so workers forked
 * later write there while running ones finish in the old file.
 * 0 or ERR_SYS (the previous file stays in use). */
int audit_open(const char *path);

/* The audit file's fd (-1 if none), which a sandboxed worker must keep. */
int audit_file_fd(void);

/* Format rec stamped with now into buf as one line ending in '\n'.
 * Returns the length, or ERR_NOSPACE (the record is never cut). */
int audit_format(char *buf, size_t size, const struct audit_rec *rec,
    const struct timespec *now);

/* Format and write rec.  Returns 0, or ERR_SYS when the file write failed
 * (the caller decides whether a decision may proceed unaudited). */
int audit_write(const struct audit_rec *rec);

#endif
