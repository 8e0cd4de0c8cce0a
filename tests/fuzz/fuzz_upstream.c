/*
 * libFuzzer harness for the upstream reply parsers (common/socks_client.h):
 * what an upstream SOCKS server sends back is untrusted.  The first byte
 * picks the parser.  Each must succeed having consumed no more than it was
 * given (a domain BND.ADDR 1..255 bytes, NUL-terminated), or fail without
 * moving the cursor; a parsed SOCKS5 reply is re-encoded as the request
 * encoder would write it, which must not fail for a parsed address.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/rd.h"
#include "common/socks.h"
#include "common/socks_client.h"
#include "common/wr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct socks_addr bnd;
	uint8_t code, out[SOCKS5_REPLY_MAX + 8];
	struct rd r;
	struct wr w;
	int rc;

	if (size < 1)
		return 0;
	rd_init(&r, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		rc = socks5_method_reply_parse(&r, &code);
		break;
	case 1:
		rc = socks5_userpass_reply_parse(&r, &code);
		break;
	case 2:
		rc = socks5_reply_parse(&r, &code, &bnd);
		if (rc == 0) {
			if (bnd.atyp == ATYP_DOMAIN && (bnd.name[0] == '\0' ||
			    strlen(bnd.name) > SOCKS_NAME_MAX))
				abort();
			wr_init(&w, out, sizeof(out));
			if (socks5_request_put(&w, CMD_CONNECT, &bnd) != 0 ||
			    w.off != r.off)
				abort();
		}
		break;
	default:
		rc = socks4_reply_parse(&r, &code, &bnd);
		if (rc == 0 && r.off != SOCKS4_REPLY_LEN)
			abort();
		break;
	}
	if (rc != 0 && r.off != 0)
		abort();
	if (rc != 0 && rc != ERR_SHORT && rc != ERR_PROTO)
		abort();
	if (r.off > r.len)
		abort();
	return 0;
}
