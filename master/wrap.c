/*
 * TCP wrappers (hosts_access(5)) for each new connection, daemon name
 * "socks5d".
 *
 * Where: in a worker the master forks itself, before the sandbox and
 * before any byte is read, not in the master's accept loop.  hosts_access
 * re-reads both tables on every call and may resolve names (host name
 * patterns, PARANOID, user@host ident patterns); done in the master, one
 * slow DNS answer would stop every accept.  In the worker it runs in
 * parallel, and it is still before the privilege drop, so it can read the
 * tables.  The cost is a fork for a refused client, bounded like every
 * other client by SOCKS5_MAXCHILD.
 *
 * Not in the forker (forker/forker.h): it is chrooted to an empty
 * directory as the -u user, so it can open neither table nor the resolver
 * files, and giving it those would give them to every worker it forks.
 * Running hosts_access in the master before the hand-off would put file
 * reads and DNS on the accept path (above).  So while the tables hold a
 * rule, the master forks each worker itself, as before the forker; that
 * path costs what a session cost then, and is only taken by hosts that
 * use TCP wrappers.
 *
 * Most hosts carry hosts.allow and hosts.deny with comments only.  Then
 * hosts_access can only answer "allow", and reading both files in every
 * worker costs syscalls and private pages; the master keeps track (one
 * stat of each file per connection, a re-read only when one changed),
 * hands the client to a forker when neither holds a rule, and tells a
 * worker it forks whether the tables hold any rule at all.
 *
 * Why it stays as root before the sandbox (issue 12 finding 8 asked; its
 * item 11.2 allows it): hosts_access must read root-owned tables and may
 * need NSS and DNS, none of which exists inside the chroot or the filter,
 * and it runs before the worker has read a single byte from the client,
 * so what it parses is ours (the tables) and the kernel's (the peer's
 * address), plus DNS answers for name patterns.  Moving it to the
 * resolver would put every accepted client's first step behind a shared
 * helper and a round trip; running it unprivileged would need the tables
 * readable by the -u user, i.e. by every worker.  This process is
 * already one client's own fork, so a DNS-answer exploit here reaches
 * root in a process that holds only that client's socket plus what the
 * master holds: the price of hosts_access, paid only on hosts whose
 * tables hold a rule.
 *
 * Globals: wrap_cache, that master-side record of the two files.
 */
#include <sys/socket.h>

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <tcpd.h>
#include <unistd.h>

#include "common/audit.h"
#include "conf/conf.h"
#include "master/master.h"

/*
 * libwrap.a calls yp_get_default_domain (libnsl) only for @netgroup
 * patterns, to pass the NIS domain to innetgr(3).  Linking libnsl would map
 * NIS, RPC and Kerberos libraries into every worker; instead socks5d
 * answers "no NIS domain", and innetgr then matches a netgroup member of
 * any domain (netgroups from /etc/netgroup or any NSS source still work).
 */
int yp_get_default_domain(char **domain);

int
yp_get_default_domain(char **domain)
{
	*domain = NULL;
	return 12;   /* YPERR_NODOM */
}

struct wrap_file {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool has_rules;
};

static struct {
	char allow_path[4096], deny_path[4096];
	struct wrap_file allow, deny;
} wrap_cache;

/* hosts_access(5): blank lines and lines whose first non-blank character
 * is '#' are ignored; anything else is (part of) a rule. */
static bool
file_has_rules(const char *path)
{
	char line[1024];
	bool found = false;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return errno != ENOENT;   /* unreadable: let libwrap decide */
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		const char *p = line + strspn(line, " \t\r\n");

		found = *p != '\0' && *p != '#';
	}
	fclose(f);
	return found;
}

static bool
wrap_file_check(const char *path, char *cached_path, size_t cached_size,
    struct wrap_file *wf)
{
	struct stat st;
	bool same;

	if (stat(path, &st) == -1) {
		wf->present = false;
		/* Missing: no rules.  Unreadable for another reason: let
		 * hosts_access see what it makes of it. */
		wf->has_rules = errno != ENOENT;
		snprintf(cached_path, cached_size, "%s", path);
		return wf->has_rules;
	}
	same = wf->present && strcmp(cached_path, path) == 0 &&
	    wf->dev == st.st_dev && wf->ino == st.st_ino &&
	    wf->size == st.st_size &&
	    wf->mtime.tv_sec == st.st_mtim.tv_sec &&
	    wf->mtime.tv_nsec == st.st_mtim.tv_nsec;
	if (!same) {
		snprintf(cached_path, cached_size, "%s", path);
		wf->present = true;
		wf->dev = st.st_dev;
		wf->ino = st.st_ino;
		wf->size = st.st_size;
		wf->mtime = st.st_mtim;
		wf->has_rules = file_has_rules(path);
	}
	return wf->has_rules;
}

bool
wrap_needed(const struct conf *conf)
{
	const struct conf_vars *vars = conf_vars(conf);
	bool allow = wrap_file_check(vars->hosts_allow, wrap_cache.allow_path,
	    sizeof(wrap_cache.allow_path), &wrap_cache.allow);
	bool deny = wrap_file_check(vars->hosts_deny, wrap_cache.deny_path,
	    sizeof(wrap_cache.deny_path), &wrap_cache.deny);

	return allow || deny;
}

/* libwrap reads these to decide its own log priority. */
int allow_severity = LOG_INFO;
int deny_severity = LOG_WARNING;

bool
wrap_check(const struct conf *conf, int client_fd,
    const struct sockaddr *client, bool tables_have_rules)
{
	const struct conf_vars *vars = conf_vars(conf);
	struct audit_rec rec = AUDIT_REC("wrap");
	struct request_info req;
	bool allowed;

	if (!tables_have_rules) {
		audit_post_wrap_none(client);
		return true;
	}

	/* libwrap's globals name the tables (as writable strings); set per
	 * call, since a reload may have changed them. */
	static char allow_path[sizeof(vars->hosts_allow)];
	static char deny_path[sizeof(vars->hosts_deny)];

	memcpy(allow_path, vars->hosts_allow, sizeof(allow_path));
	memcpy(deny_path, vars->hosts_deny, sizeof(deny_path));
	hosts_allow_table = allow_path;
	hosts_deny_table = deny_path;
	request_init(&req, RQ_DAEMON, "socks5d", RQ_FILE, client_fd, 0);
	fromhost(&req);
	allowed = hosts_access(&req) != 0;
	rec.decision = allowed ? "permit" : "deny";
	rec.client = client;
	rec.rule = allowed ? NULL : "hosts_access";
	rec.pid = getpid();
	/* A refusal explains the close that follows: it is written first. */
	(void)(allowed ? audit_post(&rec) : audit_write(&rec));
	return allowed;
}
