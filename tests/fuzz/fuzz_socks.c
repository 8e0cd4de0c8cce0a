/*
 * libFuzzer harness for the SOCKS codec: the first input byte picks the
 * parser, the rest is the message.  Every parser must either succeed having
 * consumed no more than it was given, or fail without moving the cursor on
 * ERR_SHORT; a successful parse is re-encoded to exercise the formatters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/wr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks5_greeting greet;
	struct socks_request req;
	struct socks5_userpass up;
	struct sockaddr_storage ss;
	socklen_t len;
	char shown[300];
	uint8_t out[SOCKS5_REPLY_MAX];
	struct rd r;
	struct wr w;
	int rc;

	if (size < 1)
		return 0;
	rd_init(&r, data + 1, size - 1);
	switch (data[0] % 6) {
	case 5: {
		struct socks_addr dst;
		uint8_t frag;

		rc = socks5_udp_parse(&r, &frag, &dst);
		if (rc == 0 && dst.atyp == ATYP_DOMAIN &&
		    (dst.name[0] == '\0' || strlen(dst.name) > 255))
			abort();
		if (rc == ERR_PROTO || rc == ERR_UNSUPPORTED)
			rc = 0;
		if (rc != 0 || r.off > r.len)
			abort();
		return 0;
	}
	case 0:
		rc = socks5_greeting_parse(&r, &greet);
		if (rc == 0 && (greet.n_methods == 0 ||
		    r.off != 2u + greet.n_methods))
			abort();
		break;
	case 1:
		rc = socks5_request_parse(&r, &req);
		break;
	case 2:
		rc = socks4_request_parse(&r, &req);
		break;
	case 3:
		rc = socks5_userpass_parse(&r, &up);
		if (rc == 0 && (strlen(up.user) == 0 || strlen(up.user) > 255))
			abort();
		break;
	default:
		rc = socks_peek_version(&r);
		if (rc > 0)
			rc = 0;
		break;
	}
	if (rc == ERR_SHORT && r.off != 0)
		abort();
	if (r.off > r.len)
		abort();
	if (rc == 0 && (data[0] % 6 == 1 || data[0] % 6 == 2)) {
		if (req.dst.atyp == ATYP_DOMAIN &&
		    (req.dst.name[0] == '\0' || strlen(req.dst.name) > 255))
			abort();
		socks_addr_format(&req.dst, shown, sizeof(shown));
		if (socks_addr_to_sockaddr(&req.dst, &ss, &len) == 0) {
			wr_init(&w, out, sizeof(out));
			if (socks5_reply_put(&w, 0, (struct sockaddr *)&ss) != 0)
				abort();
			wr_init(&w, out, sizeof(out));
			if (socks4_reply_put(&w, 90, (struct sockaddr *)&ss) != 0)
				abort();
		}
	}
	return 0;
}
