/*
 * Deadline-bounded socket I/O: a worker's negotiation, authd's identd
 * query, the IPC frame receiver.  Deadlines are CLOCK_MONOTONIC.
 */
#ifndef SOCKS5D_COMMON_IO_H
#define SOCKS5D_COMMON_IO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A CLOCK_MONOTONIC deadline seconds from now. */
void io_deadline(struct timespec *deadline, unsigned seconds);

/* Milliseconds left until deadline (0 when passed; -1, wait forever,
 * for NULL), for poll(2). */
int io_ms_left(const struct timespec *deadline);

/* Wait until fd has the poll events or the deadline passes: 0 or
 * ERR_TIMEOUT / ERR_SYS. */
int io_wait(int fd, short events, const struct timespec *deadline);

/* One read of whatever is available into buf[*len..cap), after waiting up
 * to the deadline.  ERR_EOF when the peer closed, ERR_NOSPACE when the
 * buffer is already full. */
int io_read_some(int fd, uint8_t *buf, size_t cap, size_t *len,
    const struct timespec *deadline);

/* Write all of buf before the deadline. */
int io_write_all(int fd, const void *buf, size_t len,
    const struct timespec *deadline);

#endif
