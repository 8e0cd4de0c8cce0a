/*
 * Bounded writer, the encoding twin of rd.h: every put checks the space left
 * and fails with ERR_NOSPACE without writing anything.
 */
#ifndef SOCKS5D_WR_H
#define SOCKS5D_WR_H

#include <stddef.h>
#include <stdint.h>

struct wr {
	uint8_t *p;
	size_t cap;
	size_t off;
};

void wr_init(struct wr *w, void *buf, size_t cap);
int wr_u8(struct wr *w, uint8_t v);
int wr_u16be(struct wr *w, uint16_t v);
int wr_u32be(struct wr *w, uint32_t v);
int wr_bytes(struct wr *w, const void *src, size_t n);

#endif
