/*
 * Globals: the log state below (procname, syslog socket, debug switch); set
 * once at start and after fork, read by every log call.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/log.h"

static const char *log_name = "socks5d";
static int log_syslog_sock = -1;
static bool log_debug_on;

void
log_init(const char *procname, bool to_syslog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX,
	    .sun_path = "/dev/log" };

	log_name = procname;
	if (!to_syslog || log_syslog_sock != -1)
		return;
	log_syslog_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (log_syslog_sock != -1 &&
	    connect(log_syslog_sock, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		/* No syslog daemon: stderr (and the audit file) remain. */
		close(log_syslog_sock);
		log_syslog_sock = -1;
	}
}

void
log_syslog_adopt(int fd)
{
	log_syslog_sock = fd;
}

int
log_syslog_fd(void)
{
	return log_syslog_sock;
}

void
log_syslog(int priority, const char *msg, size_t len)
{
	char dgram[4608];
	int n;

	if (log_syslog_sock == -1)
		return;
	n = snprintf(dgram, sizeof(dgram), "<%d>socks5d[%ld]: %.*s", priority,
	    (long)getpid(), (int)(len > 4096 ? 4096 : len), msg);
	if (n > 0)
		(void)send(log_syslog_sock, dgram,
		    (size_t)n < sizeof(dgram) ? (size_t)n : sizeof(dgram) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
log_procname(const char *procname)
{
	log_name = procname;
}

void
log_set_debug(bool on)
{
	log_debug_on = on;
}

/* The contract is in log.h. */
size_t
log_escape(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)src; *p != '\0';
	    p++) {
		bool plain = *p >= 0x20 && *p < 0x7f && *p != '\\';
		size_t need = plain ? 1 : *p == '\\' ? 2 : 4;

		/* Whole escapes only: a cut one could read as another. */
		if (o + need >= size)
			break;
		if (plain) {
			dst[o++] = (char)*p;
		} else if (*p == '\\') {
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 0xf];
		}
	}
	dst[o] = '\0';
	return o;
}

/* One line, one write(2) on stderr, so lines from several processes sharing
 * stderr do not interleave.  The message is escaped as a whole: user names,
 * host names and other client strings reach it through %s, and a newline
 * in one must not forge a line of its own in the journal (as sshd's
 * do_log passes every message through strnvis). */
static void
log_vemit(int prio, const char *errstr, const char *fmt, va_list ap)
{
	char raw[1024], msg[1024], line[1200];
	int n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	(void)log_escape(msg, sizeof(msg), raw);
	if (errstr != NULL)
		n = snprintf(line, sizeof(line), "%s[%ld]: %s: %s\n", log_name,
		    (long)getpid(), msg, errstr);
	else
		n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_name,
		    (long)getpid(), msg);
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		ssize_t wn = write(STDERR_FILENO, line, len);
		(void)wn;   /* nowhere left to report a failed log write */
	}
	if (log_syslog_sock != -1) {
		n = snprintf(line, sizeof(line), "%s: %s%s%s", log_name, msg,
		    errstr != NULL ? ": " : "", errstr != NULL ? errstr : "");
		if (n > 0)
			log_syslog(LOG_DAEMON | prio, line, strlen(line));
	}
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_debug_on)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
