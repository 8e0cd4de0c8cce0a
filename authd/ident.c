/*
 * RFC 1413 identd queries, made by authd's per-request child (never by a
 * worker: the query leaves from the address the client connected to, which
 * a chrooted worker without bind rights on it should not choose).
 *
 * The reply is untrusted bytes from the client's host: it is parsed
 * strictly through the bounds-checked reader (ident_reply_parse, fuzzed by
 * tests/fuzz/fuzz_ident.c).  Grammar (RFC 1413 section 6, spaces and tabs
 * allowed around every token):
 *
 *     reply  = ports ":" "USERID" ":" opsys [ "," charset ] ":" user EOL
 *            | ports ":" "ERROR" ":" reason EOL
 *     ports  = 1*5DIGIT "," 1*5DIGIT     (each 1..65535, equal to ours)
 *     EOL    = [CR] LF, the last bytes of the connection
 *
 * The whole reply is at most IDENT_LINE_MAX bytes; the user id is 1..255
 * bytes with no control byte (a longer one is refused, not cut: a cut name
 * could match another user's list entry).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/io.h"
#include "common/ipc.h"
#include "common/net.h"
#include "common/rd.h"

enum { IDENT_PORT = 113 };

static void
skip_blank(struct rd *r)
{
	while (rd_left(r) > 0 && (r->p[r->off] == ' ' || r->p[r->off] == '\t'))
		r->off++;
}

/* A port number 1..65535 between optional blanks. */
static int
rd_port(struct rd *r, uint16_t *port)
{
	unsigned long v = 0;
	size_t digits = 0;

	skip_blank(r);
	while (rd_left(r) > 0 && r->p[r->off] >= '0' && r->p[r->off] <= '9') {
		if (++digits > 5)
			return ERR_PROTO;
		v = v * 10 + (unsigned long)(r->p[r->off++] - '0');
	}
	skip_blank(r);
	if (digits == 0 || v == 0 || v > 65535)
		return ERR_PROTO;
	*port = (uint16_t)v;
	return 0;
}

static int
rd_char(struct rd *r, uint8_t want)
{
	uint8_t c;

	if (rd_u8(r, &c) != 0 || c != want)
		return ERR_PROTO;
	return 0;
}

/* The next field up to (not including) ':', blanks trimmed on both sides;
 * the ':' is consumed.  Empty fields are refused. */
static int
rd_field(struct rd *r, const uint8_t **f, size_t *flen)
{
	size_t n;

	skip_blank(r);
	if (rd_find(r, ':', rd_left(r), &n) != 0 || rd_bytes(r, n, f) != 0)
		return ERR_PROTO;
	r->off++;               /* the ':' rd_find saw */
	while (n > 0 && ((*f)[n - 1] == ' ' || (*f)[n - 1] == '\t'))
		n--;
	*flen = n;
	return n > 0 ? 0 : ERR_PROTO;
}

int
ident_reply_parse(const uint8_t *buf, size_t len, uint16_t port_client,
    uint16_t port_local, char *user, size_t cap, unsigned *reason)
{
	const uint8_t *f, *line;
	size_t flen, n, line_len;
	uint16_t p1, p2;
	struct rd all, r;

	*reason = AUTH_R_IDENT_MALFORMED;
	if (cap > 0)
		user[0] = '\0';
	rd_init(&all, buf, len);
	if (len > IDENT_LINE_MAX || rd_find(&all, '\n', len, &n) != 0 ||
	    rd_bytes(&all, n, &line) != 0 || rd_char(&all, '\n') != 0 ||
	    rd_end(&all) != 0)
		return ERR_PROTO;
	line_len = n > 0 && line[n - 1] == '\r' ? n - 1 : n;
	rd_init(&r, line, line_len);
	if (rd_port(&r, &p1) != 0 || rd_char(&r, ',') != 0 ||
	    rd_port(&r, &p2) != 0 || rd_char(&r, ':') != 0)
		return ERR_PROTO;
	/* A reply about another connection says nothing about this one. */
	if (p1 != port_client || p2 != port_local)
		return ERR_PROTO;
	if (rd_field(&r, &f, &flen) != 0)
		return ERR_PROTO;
	if (flen == 5 && memcmp(f, "ERROR", 5) == 0) {
		/* reason: printable, non-empty; it is not passed on. */
		skip_blank(&r);
		if (rd_left(&r) == 0)
			return ERR_PROTO;
		for (size_t i = r.off; i < r.len; i++)
			if (r.p[i] < 0x20 || r.p[i] == 0x7f)
				return ERR_PROTO;
		*reason = AUTH_R_IDENT_ERROR;
		return ERR_DENIED;
	}
	if (flen != 6 || memcmp(f, "USERID", 6) != 0)
		return ERR_PROTO;
	/* opsys[,charset]: tokens of printable bytes. */
	if (rd_field(&r, &f, &flen) != 0)
		return ERR_PROTO;
	for (size_t i = 0; i < flen; i++)
		if (f[i] < 0x20 || f[i] == 0x7f)
			return ERR_PROTO;
	/* The user id is the rest of the line (it may hold ':'). */
	skip_blank(&r);
	n = rd_left(&r);
	while (n > 0 && (r.p[r.off + n - 1] == ' ' || r.p[r.off + n - 1] == '\t'))
		n--;
	if (n == 0 || n > IPC_IDENT_USER_MAX || n >= cap ||
	    rd_bytes(&r, n, &f) != 0)
		return ERR_PROTO;
	for (size_t i = 0; i < n; i++)
		if (f[i] < 0x20 || f[i] == 0x7f)
			return ERR_PROTO;
	memcpy(user, f, n);
	user[n] = '\0';
	*reason = AUTH_R_OK;
	return 0;
}

unsigned
ident_query(const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local, const struct timespec *deadline,
    char *user, size_t cap)
{
	struct sockaddr_storage from = *local, to = *peer;
	uint8_t buf[IDENT_LINE_MAX + 1];
	char query[32];
	size_t got = 0;
	unsigned reason = AUTH_R_IDENT_UNREACHABLE;
	int fd, err = 0, qlen;
	socklen_t elen = sizeof(err);
	ssize_t n;

	user[0] = '\0';
	/* The client's port is the one on the identd's host, first. */
	qlen = snprintf(query, sizeof(query), "%u , %u\r\n",
	    net_addr_port((const struct sockaddr *)peer),
	    net_addr_port((const struct sockaddr *)local));
	net_addr_set_port(&from, 0);
	net_addr_set_port(&to, IDENT_PORT);
	fd = socket(from.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return reason;
	if (bind(fd, (struct sockaddr *)&from,
	    net_addr_len((struct sockaddr *)&from)) == -1)
		goto out;
	if (connect(fd, (struct sockaddr *)&to,
	    net_addr_len((struct sockaddr *)&to)) == -1 &&
	    errno != EINPROGRESS)
		goto out;
	if (io_wait(fd, POLLOUT, deadline) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 || err != 0)
		goto out;
	if (send(fd, query, (size_t)qlen, MSG_NOSIGNAL) != qlen)
		goto out;
	/* Read to the end of the connection (the reply is its last line),
	 * but never more than one line's worth plus one byte. */
	for (;;) {
		if (io_wait(fd, POLLIN, deadline) != 0)
			goto out;
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(buf))
			break;
		/* A complete line ends the wait; more bytes after it make
		 * the reply malformed anyway. */
		if (buf[got - 1] == '\n')
			break;
	}
	if (got == 0)
		goto out;
	(void)ident_reply_parse(buf, got,
	    net_addr_port((const struct sockaddr *)peer),
	    net_addr_port((const struct sockaddr *)local), user, cap, &reason);
out:
	close(fd);
	return reason;
}

int
ident_answer_parse(const uint8_t *buf, size_t len, char *user, size_t cap,
    unsigned *reason)
{
	const uint8_t *b;
	uint8_t rs, ulen;
	struct rd r;

	rd_init(&r, buf, len);
	if (rd_u8(&r, &rs) != 0 || rd_u8(&r, &ulen) != 0 ||
	    rd_bytes(&r, ulen, &b) != 0 || rd_end(&r) != 0 ||
	    rs >= AUTH_R_MAX || (rs == AUTH_R_OK) != (ulen > 0) ||
	    (size_t)ulen >= cap)
		return ERR_PROTO;
	for (size_t i = 0; i < ulen; i++)
		if (b[i] < 0x20 || b[i] == 0x7f)
			return ERR_PROTO;
	memcpy(user, b, ulen);
	user[ulen] = '\0';
	*reason = rs;
	return 0;
}
