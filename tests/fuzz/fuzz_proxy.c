/*
 * libFuzzer harness for the PROXY protocol decoder (common/proxyproto.c),
 * the first bytes a worker parses from a listed load balancer.  Besides
 * memory safety it checks the codec's contract: a failure consumes
 * nothing, a success consumes at most the input and PP_V2_MAX bytes, and
 * feeding the same bytes in two pieces (ERR_SHORT, then the rest) gives
 * the same answer as feeding them at once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/proxyproto.h"
#include "common/rd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_header h, h2;
	struct rd r, r2;
	int rc, rc2;
	size_t cut;

	rd_init(&r, data, size);
	rc = pp_parse(&r, &h);
	if (rc != 0 && r.off != 0)
		abort();
	if (rc == 0 && (r.off > size || r.off > PP_V2_MAX ||
	    (h.local && h.addr_len != 0)))
		abort();
	/* Incremental use: a prefix either gives the same final answer or
	 * asks for more and consumes nothing. */
	cut = size == 0 ? 0 : data[0] % (size + 1);
	rd_init(&r2, data, cut);
	rc2 = pp_parse(&r2, &h2);
	if (rc2 == ERR_SHORT && r2.off != 0)
		abort();
	if (rc2 == 0 && (rc != 0 || r2.off != r.off ||
	    memcmp(&h, &h2, sizeof(h)) != 0))
		abort();
	if (rc2 != 0 && rc2 != ERR_SHORT && rc != rc2)
		abort();
	return 0;
}
