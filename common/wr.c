#include <string.h>

#include "common/err.h"
#include "common/wr.h"

void
wr_init(struct wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = cap;
	w->off = 0;
}

int
wr_bytes(struct wr *w, const void *src, size_t n)
{
	if (n > w->cap - w->off)
		return ERR_NOSPACE;
	if (n > 0)
		memcpy(w->p + w->off, src, n);
	w->off += n;
	return 0;
}

int
wr_u8(struct wr *w, uint8_t v)
{
	return wr_bytes(w, &v, 1);
}

int
wr_u16be(struct wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return wr_bytes(w, b, sizeof(b));
}

int
wr_u32be(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	return wr_bytes(w, b, sizeof(b));
}
