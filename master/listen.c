#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "common/err.h"
#include "common/log.h"
#include "common/net.h"
#include "conf/conf.h"
#include "master/master.h"

/* sd_listen_fds(3) without libsystemd: fds 3.. when LISTEN_PID is us. */
static size_t
listen_from_systemd(int *fds, size_t max)
{
	const char *pid_s = getenv("LISTEN_PID");
	const char *n_s = getenv("LISTEN_FDS");
	char *end;
	long pid, n;
	size_t got = 0;

	if (pid_s == NULL || n_s == NULL)
		return 0;
	pid = strtol(pid_s, &end, 10);
	if (*end != '\0' || pid != (long)getpid())
		return 0;
	n = strtol(n_s, &end, 10);
	if (*end != '\0' || n <= 0)
		return 0;
	/* They are ours now; a child must not see them as its own. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (long i = 0; i < n && got < max; i++) {
		int fd = 3 + (int)i;

		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
		    net_set_nonblock(fd, 1) != 0) {
			log_warn("systemd socket %d", fd);
			continue;
		}
		fds[got++] = fd;
	}
	log_info("serving %zu socket(s) passed by systemd", got);
	return got;
}

/* Bind and listen on ss; EXIT_BIND after logging why it failed. */
static int
listen_bind_addr(const struct sockaddr_storage *addr, int *fd_out)
{
	char shown[NET_ADDRSTR_MAX];

	net_addr_format((const struct sockaddr *)addr, shown, sizeof(shown));
	/* [::]:1080 must not also take IPv4: an explicit 0.0.0.0:1080 next to
	 * it would then fail to bind. */
	if (net_listen((const struct sockaddr *)addr, SOMAXCONN,
	    NET_LISTEN_REUSEADDR | NET_LISTEN_V6ONLY, fd_out) != 0) {
		log_warn("cannot listen on %s", shown);
		return EXIT_BIND;
	}
	log_info("listening on %s", shown);
	return 0;
}

/* A -l value: numeric only (no name service before the sandbox exists). */
static int
listen_bind(const char *spec, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (net_parse_listen(spec, &ss, &len) != 0) {
		log_warnx("invalid listen address '%s' (expected ADDR:PORT, "
		    "[IPV6]:PORT or PORT)", spec);
		return EXIT_USAGE;
	}
	return listen_bind_addr(&ss, fd_out);
}

int
listen_open(const struct master_opts *opts, const struct conf *conf,
    int *fds, size_t max, size_t *n)
{
	const struct conf_vars *vars = conf_vars(conf);
	int rc;

	*n = listen_from_systemd(fds, max);
	if (*n > 0)
		return 0;
	if (opts->n_listen == 0) {
		/* SOCKS5_BINDINTFC, already decoded by the loader (a service
		 * name as the port included), else SPEC's 0.0.0.0:1080. */
		if (vars->has_bindintfc)
			rc = listen_bind_addr(&vars->bind_addr, &fds[0]);
		else
			rc = listen_bind("0.0.0.0:1080", &fds[0]);
		if (rc != 0)
			return rc;
		*n = 1;
		return 0;
	}
	for (size_t i = 0; i < opts->n_listen && i < max; i++) {
		if ((rc = listen_bind(opts->listen[i], &fds[i])) != 0) {
			for (size_t j = 0; j < i; j++)
				close(fds[j]);
			return rc;
		}
		*n = i + 1;
	}
	return 0;
}
