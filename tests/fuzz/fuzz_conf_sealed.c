/*
 * libFuzzer harness for the sealed configuration's decoder (STYLE 9):
 * the input is the contents of the memfd conf_load_sealed hands the
 * session image.  conf_sealed_decode must never crash or read out of
 * bounds; what it accepts must encode again to exactly the input (the
 * format has one encoding per value, so encoder and decoder agree), and
 * its text is then parsed with the decoded table as the only source of
 * port names and the decoded list as the only source of this host's
 * addresses.  CONF_PARSE_NO_ENV is forced, so that a run depends on its
 * input alone; CONF_PARSE_ASSUME_OWNED is left as the input has it, for
 * interface lines are checked against the decoded list, never the
 * machine's: this program's getifaddrs aborts.
 */
#include <sys/socket.h>

#include <ifaddrs.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int getifaddrs(struct ifaddrs **out);

/* The executable's definition wins over libc's: a sealed parse that
 * asked the host (the session image must not) is a crash. */
int
getifaddrs(struct ifaddrs **out)
{
	(void)out;
	abort();
}

/* What the decoder let through is what iface.c may read. */
static void
check_ifaddrs(const struct conf_sealed *s)
{
	size_t i;

	if (s->if_state != SEALED_IF_LIST && s->n_if != 0)
		abort();
	for (i = 0; i < s->n_if; i++) {
		const struct conf_ifaddr *ifa = &s->ifs[i];

		if (!conf_ifaddr_name_ok(ifa->name, strnlen(ifa->name,
		    sizeof(ifa->name))) || (ifa->family != AF_INET &&
		    ifa->family != AF_INET6) || (ifa->family == AF_INET &&
		    ifa->scope_id != 0))
			abort();
	}
}

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
	check_ifaddrs(&s);
	s.flags |= CONF_PARSE_NO_ENV;
	if (conf_sealed_parse(&s, &conf, diag_sink, &total) == 0) {
		(void)conf_permit_count(conf);
		(void)conf_name(conf);
		conf_free(conf);
	}
	return 0;
}
