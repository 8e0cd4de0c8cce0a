#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "common/err.h"
#include "common/io.h"

void
io_deadline(struct timespec *deadline, unsigned seconds)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += (time_t)seconds;
}

int
io_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (deadline == NULL)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 2000000000 ? 2000000000 : (int)ms;
}

int
io_wait(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&pfd, 1, io_ms_left(deadline));
		if (n > 0)
			return 0;
		if (n == 0)
			return ERR_TIMEOUT;
		if (errno != EINTR)
			return ERR_SYS;
	}
}

int
io_read_some(int fd, uint8_t *buf, size_t cap, size_t *len,
    const struct timespec *deadline)
{
	ssize_t n;
	int rc;

	if (*len >= cap)
		return ERR_NOSPACE;
	for (;;) {
		if ((rc = io_wait(fd, POLLIN, deadline)) != 0)
			return rc;
		n = read(fd, buf + *len, cap - *len);
		if (n > 0) {
			*len += (size_t)n;
			return 0;
		}
		if (n == 0)
			return ERR_EOF;
		if (errno == ECONNRESET)
			return ERR_EOF;
		if (errno != EAGAIN && errno != EINTR)
			return ERR_SYS;
	}
}

int
io_write_all(int fd, const void *buf, size_t len,
    const struct timespec *deadline)
{
	const uint8_t *p = buf;
	ssize_t n;
	int rc;

	while (len > 0) {
		n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EAGAIN) {
			if ((rc = io_wait(fd, POLLOUT, deadline)) != 0)
				return rc;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return n == -1 && (errno == EPIPE || errno == ECONNRESET) ?
		    ERR_EOF : ERR_SYS;
	}
	return 0;
}
