/*
 * Operational log: stderr and syslog (daemon facility).  Audit records are
 * not log lines; they go through audit.h.
 */
#ifndef SOCKS5D_LOG_H
#define SOCKS5D_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* procname prefixes every line ("socks5d", "worker", "authd").  to_syslog
 * connects a datagram socket to /dev/log now, so a process that later
 * chroots keeps it (log_syslog_fd says which fd to keep). */
void log_init(const char *procname, bool to_syslog);

/* The syslog socket, or -1 (no /dev/log, or syslog off). */
int log_syslog_fd(void);
/* Use fd (connected to /dev/log, or -1) as the syslog socket: the session
 * image takes the master's connection instead of opening its own. */
void log_syslog_adopt(int fd);

/* Send one message to syslog with a full priority (facility | level); no
 * time stamp (the syslog daemon adds its own; computing a local one would
 * read /etc/localtime, which a chrooted worker cannot). */
void log_syslog(int priority, const char *msg, size_t len);
/* Change the prefix after a fork. */
void log_procname(const char *procname);
void log_set_debug(bool on);

/* Copy src to dst (size bytes, always NUL-terminated) with every byte
 * outside printable ASCII written as \xNN and a backslash as two, so the
 * result is one line and cannot be mistaken for anything the source did
 * not say.  Every log call does this to its whole message.  Returns the
 * length written; an escape that does not fit is left out whole. */
size_t log_escape(char *dst, size_t size, const char *src);

/* log_warn appends ": strerror(errno)" and preserves errno. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
