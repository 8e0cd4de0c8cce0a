/*
 * libFuzzer harness for the sealed configuration's decoder (STYLE 9):
 * the input is the contents of the memfd conf_load_sealed hands the
 * session image.  conf_sealed_decode must never crash or read out of
 * bounds; what it accepts must encode again to exactly the input (the
 * format has one encoding per value, so encoder and decoder agree), and
 * its text is then parsed with the decoded table as the only source of
 * port names.  The flags are forced to CONF_PARSE_NO_ENV |
 * CONF_PARSE_ASSUME_OWNED, so that a run depends on its input alone and
 * never on the machine's interfaces.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
diag_sink(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	size_t *total = ctx;

	(void)line;
	(void)is_error;
	*total += strlen(file) + strlen(msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf_sealed s;
	struct conf *conf = NULL;
	uint8_t *again;
	size_t total = 0, len = 0;
	unsigned port;

	if (conf_sealed_decode(data, size, &s) != 0)
		return 0;
	if (conf_sealed_size(&s) != size || (again = malloc(size + 1)) == NULL)
		abort();
	if (conf_sealed_encode(&s, again, size, &len) != 0 || len != size ||
	    memcmp(again, data, size) != 0)
		abort();
	free(again);
	if (s.n_svc > 0 && (!conf_sealed_lookup(&s, s.svc[0].name, &port) ||
	    port != s.svc[0].port))
		abort();
	s.flags = CONF_PARSE_NO_ENV | CONF_PARSE_ASSUME_OWNED;
	if (conf_sealed_parse(&s, &conf, diag_sink, &total) == 0) {
		(void)conf_permit_count(conf);
		(void)conf_name(conf);
		conf_free(conf);
	}
	return 0;
}
