#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/socks_client.h"
#include "common/wr.h"

int
socks5_greeting_put(struct wr *w, bool userpass)
{
	int rc;

	if ((rc = wr_u8(w, SOCKS_V5)) != 0 ||
	    (rc = wr_u8(w, userpass ? 2 : 1)) != 0 ||
	    (rc = wr_u8(w, METHOD_NONE)) != 0)
		return rc;
	return userpass ? wr_u8(w, METHOD_USERPASS) : 0;
}

int
socks5_userpass_put(struct wr *w, const char *user, const char *pass)
{
	size_t ulen = strlen(user), plen = strlen(pass);
	int rc;

	if (ulen == 0 || ulen > SOCKS_NAME_MAX || plen > SOCKS_NAME_MAX)
		return ERR_RANGE;
	if ((rc = wr_u8(w, USERPASS_VERSION)) != 0 ||
	    (rc = wr_u8(w, (uint8_t)ulen)) != 0 ||
	    (rc = wr_bytes(w, user, ulen)) != 0 ||
	    (rc = wr_u8(w, (uint8_t)plen)) != 0)
		return rc;
	return wr_bytes(w, pass, plen);
}

int
socks5_request_put(struct wr *w, uint8_t cmd, const struct socks_addr *dst)
{
	size_t n;
	int rc;

	if ((rc = wr_u8(w, SOCKS_V5)) != 0 || (rc = wr_u8(w, cmd)) != 0 ||
	    (rc = wr_u8(w, 0)) != 0 || (rc = wr_u8(w, dst->atyp)) != 0)
		return rc;
	switch (dst->atyp) {
	case ATYP_IPV4:
		rc = wr_bytes(w, dst->ip, 4);
		break;
	case ATYP_IPV6:
		rc = wr_bytes(w, dst->ip, 16);
		break;
	case ATYP_DOMAIN:
		n = strnlen(dst->name, sizeof(dst->name));
		if (n == 0 || n > SOCKS_NAME_MAX)
			return ERR_RANGE;
		if ((rc = wr_u8(w, (uint8_t)n)) == 0)
			rc = wr_bytes(w, dst->name, n);
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	if (rc != 0)
		return rc;
	return wr_u16be(w, dst->port);
}

int
socks4_request_put(struct wr *w, uint8_t cmd, const struct socks_addr *dst,
    const char *userid)
{
	static const uint8_t socks4a_ip[4] = { 0, 0, 0, 1 };
	size_t ulen = strlen(userid), n = 0;
	int rc;

	if (ulen > SOCKS4_USERID_MAX)
		return ERR_RANGE;
	if (dst->atyp == ATYP_DOMAIN) {
		n = strnlen(dst->name, sizeof(dst->name));
		if (n == 0 || n > SOCKS_NAME_MAX)
			return ERR_RANGE;
	} else if (dst->atyp != ATYP_IPV4) {
		return ERR_UNSUPPORTED;
	}
	if ((rc = wr_u8(w, SOCKS_V4)) != 0 || (rc = wr_u8(w, cmd)) != 0 ||
	    (rc = wr_u16be(w, dst->port)) != 0 ||
	    (rc = wr_bytes(w, dst->atyp == ATYP_DOMAIN ? socks4a_ip : dst->ip,
	    4)) != 0 ||
	    (rc = wr_bytes(w, userid, ulen)) != 0 || (rc = wr_u8(w, 0)) != 0)
		return rc;
	if (dst->atyp != ATYP_DOMAIN)
		return 0;
	if ((rc = wr_bytes(w, dst->name, n)) != 0)
		return rc;
	return wr_u8(w, 0);
}

/* Each parser works on a copy of the reader and commits it on success
 * only, as in common/socks.c. */

int
socks5_method_reply_parse(struct rd *r, uint8_t *method)
{
	struct rd cur = *r;
	uint8_t ver, m;
	int rc;

	if ((rc = rd_u8(&cur, &ver)) != 0)
		return rc;
	if (ver != SOCKS_V5)
		return ERR_PROTO;
	if ((rc = rd_u8(&cur, &m)) != 0)
		return rc;
	*method = m;
	*r = cur;
	return 0;
}

int
socks5_userpass_reply_parse(struct rd *r, uint8_t *status)
{
	struct rd cur = *r;
	uint8_t ver, st;
	int rc;

	if ((rc = rd_u8(&cur, &ver)) != 0)
		return rc;
	if (ver != USERPASS_VERSION)
		return ERR_PROTO;
	if ((rc = rd_u8(&cur, &st)) != 0)
		return rc;
	*status = st;
	*r = cur;
	return 0;
}

int
socks5_reply_parse(struct rd *r, uint8_t *rep, struct socks_addr *bnd)
{
	struct rd cur = *r;
	uint8_t ver, code, rsv, atyp, len;
	const uint8_t *b;
	int rc;

	if ((rc = rd_u8(&cur, &ver)) != 0)
		return rc;
	if (ver != SOCKS_V5)
		return ERR_PROTO;
	if ((rc = rd_u8(&cur, &code)) != 0 || (rc = rd_u8(&cur, &rsv)) != 0 ||
	    (rc = rd_u8(&cur, &atyp)) != 0)
		return rc;
	memset(bnd, 0, sizeof(*bnd));
	bnd->atyp = atyp;
	switch (atyp) {
	case ATYP_IPV4:
		rc = rd_copy(&cur, bnd->ip, sizeof(bnd->ip), 4);
		break;
	case ATYP_IPV6:
		rc = rd_copy(&cur, bnd->ip, sizeof(bnd->ip), 16);
		break;
	case ATYP_DOMAIN:
		if ((rc = rd_u8(&cur, &len)) != 0)
			return rc;
		if (len == 0)
			return ERR_PROTO;
		if ((rc = rd_bytes(&cur, len, &b)) != 0)
			return rc;
		if (memchr(b, '\0', len) != NULL)
			return ERR_PROTO;
		memcpy(bnd->name, b, len);
		bnd->name[len] = '\0';
		break;
	default:
		return ERR_PROTO;
	}
	if (rc != 0)
		return rc;
	if ((rc = rd_u16be(&cur, &bnd->port)) != 0)
		return rc;
	*rep = code;
	*r = cur;
	return 0;
}

int
socks4_reply_parse(struct rd *r, uint8_t *rep, struct socks_addr *bnd)
{
	struct rd cur = *r;
	uint8_t vn, cd;
	int rc;

	if ((rc = rd_u8(&cur, &vn)) != 0)
		return rc;
	/* The NEC note: the reply's VN is 0, never 4. */
	if (vn != 0)
		return ERR_PROTO;
	memset(bnd, 0, sizeof(*bnd));
	bnd->atyp = ATYP_IPV4;
	if ((rc = rd_u8(&cur, &cd)) != 0 ||
	    (rc = rd_u16be(&cur, &bnd->port)) != 0 ||
	    (rc = rd_copy(&cur, bnd->ip, sizeof(bnd->ip), 4)) != 0)
		return rc;
	*rep = cd;
	*r = cur;
	return 0;
}

uint8_t
socks4_rep_to_5(uint8_t cd)
{
	switch (cd) {
	case REP4_GRANTED:
		return REP_SUCCEEDED;
	case REP4_NO_IDENTD:
	case REP4_IDENT_MISMATCH:
		return REP_NOT_ALLOWED;
	default:
		return REP_GENERAL_FAILURE;
	}
}
