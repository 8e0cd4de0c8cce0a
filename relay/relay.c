/*
 * Globals: copy_buf, the per-direction staging buffers.  A worker serves one
 * session, so they are never shared; they sit in .bss and cost no memory
 * until the copy path or early data touches them.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/net.h"
#include "relay/relay.h"

enum {
	COPY_BUF_SIZE = 65536,
	SPLICE_CHUNK = 1 << 20,
	/* A pipe starts at the kernel's 64 KiB and grows to this the first
	 * time it fills: bulk transfers then move 16x more per splice (about
	 * +40% for one stream here), while idle sessions keep small pipes. */
	PIPE_GROWN_SIZE = 1 << 20,
	/* Wake-ups in a row that found src readable and moved nothing, even
	 * by read(2), before that direction gives up splice for good: no
	 * kernel behaviour may turn the loop into a spin. */
	RELAY_STALLS_MAX = 8,
};

static uint8_t copy_buf[2][COPY_BUF_SIZE];

/* One direction of the session. */
struct dir {
	int src, dst;
	int pipe_r, pipe_w;
	size_t pipe_bytes;     /* spliced into the pipe, not yet out */
	uint8_t *buf;          /* staging buffer: early data, or the copy path */
	size_t buf_off, buf_len;
	bool copy;             /* splice refused: read/write through buf */
	bool pipe_full;        /* last fill found the pipe full: wait for a drain */
	bool pipe_grown;       /* tried to enlarge the pipe (once) */
	bool eof;              /* src has no more data */
	bool shut;             /* EOF passed on to dst */
	bool readable;         /* the last poll said src is readable and
	                        * nothing has been taken from it since */
	unsigned stalls;       /* readable wake-ups in a row that moved nothing */
	uint64_t *count;
};

int
relay_pipes_open(struct relay_pipes *pipes)
{
	pipes->c2d[0] = pipes->c2d[1] = pipes->d2c[0] = pipes->d2c[1] = -1;
	if (pipe2(pipes->c2d, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(pipes->d2c, O_CLOEXEC | O_NONBLOCK) == -1) {
		relay_pipes_close(pipes);
		return ERR_SYS;
	}
	return 0;
}

void
relay_pipes_close(struct relay_pipes *pipes)
{
	int *fds[] = { &pipes->c2d[0], &pipes->c2d[1], &pipes->d2c[0],
	    &pipes->d2c[1] };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] != -1)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static size_t
dir_pending(const struct dir *d)
{
	return d->pipe_bytes + (d->buf_len - d->buf_off);
}

/* Errors that mean the peer went away, not that we failed. */
static bool
errno_is_peer(int e)
{
	return e == ECONNRESET || e == EPIPE || e == ENOTCONN ||
	    e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH;
}

/*
 * splice(2) from a TCP socket stops at the urgent mark (tcp_read_sock reads
 * up to it and no further) and then fails with EAGAIN while poll(2) goes
 * on reporting the socket readable: without this, one byte sent with
 * MSG_OOB stalled the direction and spun the worker until the client gave
 * up.  Only a read(2) moves past the mark.  relay_run makes both sockets
 * SO_OOBINLINE, so that read returns the urgent byte in its place in the
 * stream, and it is passed on as ordinary data like every other byte (its
 * urgency is not: RFC 6093 advises against relying on it, and no other
 * byte may be lost or reordered).  The pipe is empty when this runs, so
 * the staging buffer cannot overtake spliced bytes; splice resumes on the
 * next call.
 */
static int
dir_fill_past_mark(struct dir *d)
{
	ssize_t n;

	d->readable = false;
	if (d->buf_len > d->buf_off) {
		/* Early data still going out: wait for that drain, not for
		 * src, which stays readable and would spin the loop. */
		d->pipe_full = true;
		return 0;
	}
	d->buf_off = d->buf_len = 0;
	n = read(d->src, d->buf, COPY_BUF_SIZE);
	if (n > 0) {
		d->buf_len = (size_t)n;
		d->stalls = 0;
		return 1;
	}
	if (n == 0) {
		d->eof = true;
		return 1;
	}
	if (errno != EAGAIN && errno != EINTR)
		return errno_is_peer(errno) ? ERR_EOF : ERR_SYS;
	if (++d->stalls >= RELAY_STALLS_MAX)
		d->copy = true;
	return 0;
}

/* Pull from src.  Returns 1 on progress, 0 when it would block, <0 on error. */
static int
dir_fill(struct dir *d)
{
	ssize_t n;

	if (d->eof)
		return 0;
	if (d->copy) {
		int from = d->pipe_bytes > 0 ? d->pipe_r : d->src;

		if (d->buf_len > d->buf_off)
			return 0;
		d->buf_off = d->buf_len = 0;
		n = read(from, d->buf, COPY_BUF_SIZE);
		if (n > 0) {
			d->buf_len = (size_t)n;
			if (from == d->pipe_r)
				d->pipe_bytes -= (size_t)n;
			return 1;
		}
		if (n == 0 && from == d->src) {
			d->eof = true;
			return 1;
		}
	} else {
		if (d->pipe_full)
			return 0;
		n = splice(d->src, NULL, d->pipe_w, NULL, SPLICE_CHUNK,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			d->pipe_bytes += (size_t)n;
			d->readable = false;
			d->stalls = 0;
			return 1;
		}
		if (n == 0) {
			d->eof = true;
			return 1;
		}
		if (errno == EINVAL) {
			/* This fd type cannot be spliced (a tty, say). */
			d->copy = true;
			return 1;
		}
		if (errno == EAGAIN && d->pipe_bytes > 0) {
			/* EAGAIN with bytes in the pipe: the pipe may be full
			 * (slots, not bytes, run out).  Polling src would then
			 * spin, so wait for the drain to make room; and if this
			 * is a bulk transfer, give the pipe room to grow.  Past
			 * the pipe-user-pages limits the kernel refuses: the
			 * pipe keeps its size. */
			if (!d->pipe_grown) {
				d->pipe_grown = true;
				(void)fcntl(d->pipe_w, F_SETPIPE_SZ,
				    PIPE_GROWN_SIZE);
			}
			d->pipe_full = true;
			return 0;
		}
		if (errno == EAGAIN && d->readable)
			return dir_fill_past_mark(d);
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n == -1 && errno_is_peer(errno) ? ERR_EOF : ERR_SYS;
}

/* Push to dst.  Returns 1 on progress, 0 when it would block, <0 on error. */
static int
dir_drain(struct dir *d)
{
	ssize_t n;

	if (d->buf_len > d->buf_off) {
		n = write(d->dst, d->buf + d->buf_off, d->buf_len - d->buf_off);
		if (n > 0) {
			d->buf_off += (size_t)n;
			d->pipe_full = false;
			*d->count += (uint64_t)n;
			return 1;
		}
	} else if (d->pipe_bytes > 0 && !d->copy) {
		n = splice(d->pipe_r, NULL, d->dst, NULL, d->pipe_bytes,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			d->pipe_bytes -= (size_t)n;
			d->pipe_full = false;
			*d->count += (uint64_t)n;
			return 1;
		}
		if (n == -1 && errno == EINVAL) {
			/* dst cannot take a splice: empty the pipe by read. */
			d->copy = true;
			return 1;
		}
	} else {
		return 0;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n == -1 && errno_is_peer(errno) ? ERR_EOF : ERR_SYS;
}

/* Pass EOF on once everything before it is out.  A client fd that is not a
 * socket (inetd mode with stdout a pipe) is closed instead. */
static void
dir_shut(struct dir *d)
{
	if (d->shut || !d->eof || dir_pending(d) > 0)
		return;
	if (shutdown(d->dst, SHUT_WR) == -1 && errno == ENOTSOCK)
		close(d->dst);
	d->shut = true;
}

/* Add events for fd to the poll set, merging entries for the same fd. */
static void
poll_want(struct pollfd *pfds, nfds_t *n, int fd, short events)
{
	for (nfds_t i = 0; i < *n; i++) {
		if (pfds[i].fd == fd) {
			pfds[i].events = (short)(pfds[i].events | events);
			return;
		}
	}
	pfds[*n].fd = fd;
	pfds[*n].events = events;
	pfds[*n].revents = 0;
	(*n)++;
}

static bool
poll_readable(const struct pollfd *pfds, nfds_t n, int fd)
{
	for (nfds_t i = 0; i < n; i++)
		if (pfds[i].fd == fd)
			return (pfds[i].revents & POLLIN) != 0;
	return false;
}

/* Urgent data stays in the stream (see dir_fill_past_mark).  Not a socket
 * (inetd mode with pipes): nothing to do. */
static void
oob_inline(int fd)
{
	int one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
}

int
relay_run(const struct relay_params *params, struct relay_pipes *pipes,
    struct relay_stats *stats)
{
	struct dir dirs[2];
	int timeout_ms = params->idle_timeout_s == 0 ? -1 :
	    (params->idle_timeout_s > 2000000 ? 2000000000 :
	    (int)params->idle_timeout_s * 1000);
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	memset(dirs, 0, sizeof(dirs));
	dirs[0] = (struct dir){ .src = params->client_in,
	    .dst = params->dest_fd, .pipe_r = pipes->c2d[0],
	    .pipe_w = pipes->c2d[1], .buf = copy_buf[0],
	    .copy = params->force_copy, .count = &stats->bytes_out };
	dirs[1] = (struct dir){ .src = params->dest_fd,
	    .dst = params->client_out, .pipe_r = pipes->d2c[0],
	    .pipe_w = pipes->d2c[1], .buf = copy_buf[1],
	    .copy = params->force_copy, .count = &stats->bytes_in };
	if (params->early_len > 0) {
		size_t n = params->early_len < COPY_BUF_SIZE ?
		    params->early_len : COPY_BUF_SIZE;

		memcpy(dirs[0].buf, params->early, n);
		dirs[0].buf_len = n;
	}
	oob_inline(params->client_in);
	oob_inline(params->dest_fd);
	if (net_set_nonblock(params->client_in, 1) != 0 ||
	    net_set_nonblock(params->client_out, 1) != 0 ||
	    net_set_nonblock(params->dest_fd, 1) != 0)
		return ERR_SYS;

	for (;;) {
		struct pollfd pfds[3];
		nfds_t npfd = 0;
		bool progress = true;
		int pr;

		/* Move everything that can move without waiting. */
		while (progress) {
			progress = false;
			for (int i = 0; i < 2; i++) {
				struct dir *d = &dirs[i];
				int r;

				if (d->shut)
					continue;
				if ((r = dir_drain(d)) < 0 ||
				    (r == 0 && (r = dir_fill(d)) < 0)) {
					rc = r;
					goto out;
				}
				if (r > 0)
					progress = true;
				dir_shut(d);
			}
		}
		if (dirs[0].shut && dirs[1].shut)
			break;
		for (int i = 0; i < 2; i++) {
			struct dir *d = &dirs[i];

			if (d->shut)
				continue;
			if (dir_pending(d) > 0)
				poll_want(pfds, &npfd, d->dst, POLLOUT);
			if (!d->eof && !d->pipe_full &&
			    !(d->copy && dir_pending(d) > 0))
				poll_want(pfds, &npfd, d->src, POLLIN);
		}
		do {
			pr = poll(pfds, npfd, timeout_ms);
		} while (pr == -1 && errno == EINTR);
		if (pr == 0) {
			rc = ERR_TIMEOUT;
			break;
		}
		if (pr == -1) {
			rc = ERR_SYS;
			break;
		}
		for (int i = 0; i < 2; i++)
			dirs[i].readable = poll_readable(pfds, npfd, dirs[i].src);
	}
out:
	return rc;
}
