/*
 * The one reader for untrusted bytes (STYLE 2).  A reader is a cursor over a
 * buffer it does not own.  Every getter checks the remaining length first
 * and returns ERR_SHORT without moving when the bytes are not there, so an
 * incremental parser can simply be called again with a longer buffer.  No
 * other code indexes a wire buffer.
 */
#ifndef SOCKS5D_RD_H
#define SOCKS5D_RD_H

#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Start reading buf[0..len). */
void rd_init(struct rd *r, const void *buf, size_t len);

/* Bytes not yet consumed. */
size_t rd_left(const struct rd *r);

/* Fixed-size getters; *out is untouched on failure. */
int rd_u8(struct rd *r, uint8_t *out);
int rd_u16be(struct rd *r, uint16_t *out);
int rd_u32be(struct rd *r, uint32_t *out);

/* Point *out at the next n bytes (inside the reader's buffer) and skip them. */
int rd_bytes(struct rd *r, size_t n, const uint8_t **out);

/* Copy the next n bytes to dst, which holds dst_size bytes; ERR_NOSPACE if
 * n > dst_size (checked before anything is consumed). */
int rd_copy(struct rd *r, void *dst, size_t dst_size, size_t n);

/* A sub-reader over the next n bytes, which are skipped in r. */
int rd_sub(struct rd *r, size_t n, struct rd *sub);

/* Find the byte c within the next `max` bytes and return through *n the
 * count of bytes before it (c itself is not consumed).  ERR_SHORT if c is
 * not in the available bytes and fewer than max are available; ERR_PROTO
 * if max bytes are available and none is c. */
int rd_find(const struct rd *r, uint8_t c, size_t max, size_t *n);

/* 0 when every byte was consumed, ERR_PROTO otherwise. */
int rd_end(const struct rd *r);

#endif
