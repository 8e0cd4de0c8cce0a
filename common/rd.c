#include <string.h>

#include "common/err.h"
#include "common/rd.h"

void
rd_init(struct rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = buf == NULL ? 0 : len;
	r->off = 0;
}

size_t
rd_left(const struct rd *r)
{
	return r->len - r->off;
}

int
rd_bytes(struct rd *r, size_t n, const uint8_t **out)
{
	if (n > rd_left(r))
		return ERR_SHORT;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

int
rd_u8(struct rd *r, uint8_t *out)
{
	const uint8_t *b;
	int rc;

	if ((rc = rd_bytes(r, 1, &b)) != 0)
		return rc;
	*out = b[0];
	return 0;
}

int
rd_u16be(struct rd *r, uint16_t *out)
{
	const uint8_t *b;
	int rc;

	if ((rc = rd_bytes(r, 2, &b)) != 0)
		return rc;
	*out = (uint16_t)((unsigned)b[0] << 8 | b[1]);
	return 0;
}

int
rd_u32be(struct rd *r, uint32_t *out)
{
	const uint8_t *b;
	int rc;

	if ((rc = rd_bytes(r, 4, &b)) != 0)
		return rc;
	*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	return 0;
}

int
rd_copy(struct rd *r, void *dst, size_t dst_size, size_t n)
{
	const uint8_t *b;
	int rc;

	if (n > dst_size)
		return ERR_NOSPACE;
	if ((rc = rd_bytes(r, n, &b)) != 0)
		return rc;
	if (n > 0)
		memcpy(dst, b, n);
	return 0;
}

int
rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	const uint8_t *b;
	int rc;

	if ((rc = rd_bytes(r, n, &b)) != 0)
		return rc;
	rd_init(sub, b, n);
	return 0;
}

int
rd_find(const struct rd *r, uint8_t c, size_t max, size_t *n)
{
	size_t avail = rd_left(r);
	size_t span = avail < max ? avail : max;
	const uint8_t *hit;

	if (span > 0 && (hit = memchr(r->p + r->off, c, span)) != NULL) {
		*n = (size_t)(hit - (r->p + r->off));
		return 0;
	}
	return avail < max ? ERR_SHORT : ERR_PROTO;
}

int
rd_end(const struct rd *r)
{
	return rd_left(r) == 0 ? 0 : ERR_PROTO;
}
