/* RFC 1961 framing; the contract is in common/rfc1961.h. */
#include "common/err.h"
#include "common/rd.h"
#include "common/rfc1961.h"
#include "common/wr.h"

int
rfc1961_frame_parse(struct rd *r, struct rfc1961_frame *f)
{
	struct rd tmp = *r;
	uint8_t ver, mtyp;
	uint16_t len;
	int rc;

	/* Work on a copy: a partial frame leaves r where it was, so the
	 * caller can read more and parse again from the frame's start. */
	if ((rc = rd_u8(&tmp, &ver)) != 0)
		return rc;
	if (ver != RFC1961_VERSION)
		return ERR_PROTO;
	if ((rc = rd_u8(&tmp, &mtyp)) != 0)
		return rc;
	if (mtyp == RFC1961_ABORT) {
		*f = (struct rfc1961_frame){ .mtyp = mtyp };
		*r = tmp;
		return 0;
	}
	if (mtyp != RFC1961_AUTH && mtyp != RFC1961_PROTECT &&
	    mtyp != RFC1961_ENCAP)
		return ERR_PROTO;
	if ((rc = rd_u16be(&tmp, &len)) != 0)
		return rc;
	if (len == 0)
		return ERR_PROTO;
	if ((rc = rd_bytes(&tmp, len, &f->token)) != 0)
		return rc;
	f->mtyp = mtyp;
	f->len = len;
	*r = tmp;
	return 0;
}

int
rfc1961_frame_put(struct wr *w, uint8_t mtyp, const void *token, size_t len)
{
	int rc;

	if (mtyp < RFC1961_AUTH || mtyp > RFC1961_ENCAP || len == 0 ||
	    len > RFC1961_TOKEN_MAX)
		return ERR_PROTO;
	if ((rc = wr_u8(w, RFC1961_VERSION)) != 0 || (rc = wr_u8(w, mtyp)) != 0 ||
	    (rc = wr_u16be(w, (uint16_t)len)) != 0)
		return rc;
	return wr_bytes(w, token, len);
}

int
rfc1961_failure_put(struct wr *w)
{
	int rc;

	if ((rc = wr_u8(w, RFC1961_VERSION)) != 0)
		return rc;
	return wr_u8(w, RFC1961_ABORT);
}
