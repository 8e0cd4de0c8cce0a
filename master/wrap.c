/*
 * TCP wrappers (hosts_access(5)) for each new connection, daemon name
 * "socks5d".
 *
 * Where: in the forked worker, before the sandbox and before any byte is
 * read, not in the master's accept loop.  hosts_access re-reads both
 * tables on every call and may resolve names (host name patterns,
 * PARANOID, user@host ident patterns); done in the master, one slow DNS
 * answer would stop every accept.  In the worker it runs in parallel, and
 * it is still before the privilege drop, so it can read the tables.  The
 * cost is a fork for a refused client, bounded like every other client by
 * SOCKS5_MAXCHILD.
 */
#include <sys/socket.h>

#include <string.h>
#include <syslog.h>
#include <tcpd.h>
#include <unistd.h>

#include "common/audit.h"
#include "conf/conf.h"
#include "master/master.h"

/* libwrap reads these to decide its own log priority. */
int allow_severity = LOG_INFO;
int deny_severity = LOG_WARNING;

bool
wrap_check(const struct conf *conf, int client_fd,
    const struct sockaddr *client)
{
	const struct conf_vars *vars = conf_vars(conf);
	struct audit_rec rec = AUDIT_REC("wrap");
	struct request_info req;
	bool allowed;

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
	(void)audit_write(&rec);
	return allowed;
}
