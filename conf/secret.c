/*
 * SOCKS5_PASSWD out of processes that never send it (issue 12 finding 8).
 * The master keeps it: a SIGHUP re-reads the environment, and the value
 * may come from there.  A worker sends it only through a socks5 proxy
 * line; authd and the resolver never do.
 */
#include <string.h>

#include "conf/conf.h"
#include "conf/conf_int.h"

extern char **environ;

static bool
uses_socks5_upstream(const struct conf *conf)
{
	for (size_t i = 0; i < conf->n_proxies; i++)
		if (conf->proxies[i].kind == ROUTE_SOCKS5)
			return true;
	return false;
}

static bool
all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\0')
			return false;
	return true;
}

void
conf_forget_upstream_secret(const struct conf *conf, bool unless_used)
{
	/* The configuration is shared read-only inside a process; this
	 * process's copy (its own since fork) is wiped in place, once, before
	 * it serves anything. */
	union {
		const struct conf *ro;
		struct conf *rw;
	} mine = { .ro = conf };
	static const char name[] = "SOCKS5_PASSWD=";
	/* Once wiped, a child of this process (a worker of the forker) has
	 * nothing left to look at: its pass over the environment and the
	 * configuration would only touch pages it never needs again. */
	static bool wiped;

	if (conf == NULL || wiped ||
	    (unless_used && uses_socks5_upstream(conf)))
		return;
	/* Wiped only if not yet: a worker's write of the zeros its forker
	 * already wrote would still make that page its own. */
	if (!all_zero(conf->vars.upstream_passwd,
	    sizeof(conf->vars.upstream_passwd)))
		explicit_bzero(mine.rw->vars.upstream_passwd,
		    sizeof(mine.rw->vars.upstream_passwd));
	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, sizeof(name) - 1) == 0)
			explicit_bzero(*e + sizeof(name) - 1,
			    strlen(*e + sizeof(name) - 1));
	wiped = true;
}
