/*
 * socks5d: command line (SPEC "Command line"), configuration check, and the
 * start of the master or, with -i, of one inetd-style session.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"
#include "common/proctitle.h"
#include "common/version.h"
#include "conf/conf.h"
#include "master/image.h"
#include "master/master.h"
#include "worker/sandbox.h"

/*
 * Every process inherits descriptors 0-2.  stdin is never read (except as
 * the client with -i): /dev/null.  A terminal on stdout or stderr stays for
 * output but is reopened write-only: opened read-write by the shell, it
 * let any worker or helper read what is typed there (issue 12 finding 8).
 * A closed one gets /dev/null, so no later open lands on it.  Files and
 * pipes the caller gave (a log file, journald's stream) are left as they
 * are: they are the caller's choice of where output goes.
 */
static void
stdio_narrow(bool inetd)
{
	for (int fd = 0; fd <= 2; fd++) {
		const char *tty = NULL;
		int nfd, fl;

		if (inetd && fd != 2)
			continue;
		fl = fcntl(fd, F_GETFL);
		if (fd > 0 && fl != -1 && !isatty(fd))
			continue;
		if (fd > 0 && fl != -1)
			tty = ttyname(fd);
		nfd = open(tty != NULL ? tty : "/dev/null",
		    (fd == 0 ? O_RDONLY : O_WRONLY) | O_NOCTTY);
		if (nfd == -1 && tty != NULL)
			nfd = open("/dev/null", O_WRONLY | O_NOCTTY);
		if (nfd == -1)
			continue;
		if (nfd != fd) {
			(void)dup2(nfd, fd);
			close(nfd);
		}
	}
}

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: socks5d [-f config] [-l addr:port]... [-a auditfile] "
	    "[-u user] [-i] [-t] [-V] [-h]\n"
	    "  -f FILE       configuration file (default /etc/socks5.conf)\n"
	    "  -l ADDR:PORT  listen address, repeatable; IPv6 as [::1]:1080\n"
	    "  -a FILE       audit log file (JSON lines, appended)\n"
	    "  -u USER       unprivileged user for workers (default nobody; the\n"
	    "                resolver and the audit logger: SOCKS5_HELPER_USER)\n"
	    "  -i            inetd mode: serve the client on stdin and exit\n"
	    "  -t            check the configuration and exit\n"
	    "  -V            print the version and exit\n"
	    "  -h            this help\n");
}

/* -t prints every diagnostic as FILE:LINE: message. */
static void
conf_diag_print(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	(void)ctx;
	/* Line 0 is the file as a whole (unreadable, no permit line). */
	if (line == 0)
		fprintf(stderr, "%s: %s%s\n", file, is_error ? "" : "warning: ",
		    msg);
	else
		fprintf(stderr, "%s:%u: %s%s\n", file, line,
		    is_error ? "" : "warning: ", msg);
}

int
main(int argc, char **argv)
{
	struct master_opts opts = { 0 };
	struct conf *conf = NULL;
	struct sandbox *sb = NULL;
	int listen_fds[LISTEN_MAX];
	size_t n_listen = 0;
	bool test_only = false;
	const char *relay_env;
	int ch, rc, conf_sealed;

	proctitle_init(argc, argv);
	log_init("socks5d", false);
	/* proctitle_init moved argv out of the title area: option values
	 * can point into it. */
	opts.conf_path = "/etc/socks5.conf";
	while ((ch = getopt(argc, argv, "f:l:a:u:itVh")) != -1) {
		switch (ch) {
		case 'f':
			opts.conf_path = optarg;
			break;
		case 'l':
			if (opts.n_listen == LISTEN_MAX) {
				fprintf(stderr, "socks5d: at most %d -l options\n",
				    LISTEN_MAX);
				return EXIT_USAGE;
			}
			opts.listen[opts.n_listen++] = optarg;
			break;
		case 'a':
			opts.audit_path = optarg;
			break;
		case 'u':
			opts.user = optarg;
			break;
		case 'i':
			opts.inetd = true;
			break;
		case 't':
			test_only = true;
			break;
		case 'V':
			printf("socks5d %s\n", SOCKS5D_VERSION);
			return EXIT_CLEAN;
		case 'h':
			usage(stdout);
			return EXIT_CLEAN;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "socks5d: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (opts.user != NULL && getpwnam(opts.user) == NULL) {
		fprintf(stderr, "socks5d: -u %s: no such user\n", opts.user);
		return EXIT_USAGE;
	}
	stdio_narrow(opts.inetd);
	relay_env = getenv("SOCKS5D_RELAY_COPY");
	opts.relay_copy = relay_env != NULL && strcmp(relay_env, "1") == 0;

	if (test_only) {
		rc = conf_load(opts.conf_path, &conf, conf_diag_print, NULL);
		if (rc != 0)
			return EXIT_CONFIG;
		fprintf(stderr, "%s: configuration OK\n", opts.conf_path);
		conf_free(conf);
		return EXIT_CLEAN;
	}
	/* Opened before anything is served, kept for the master's life; -i
	 * forks no forker. */
	opts.image_fd = opts.inetd ? -1 : image_open();
	if (master_conf_load(opts.conf_path, opts.image_fd != -1, &conf,
	    &conf_sealed) != 0) {
		log_warnx("%s: configuration refused", opts.conf_path);
		return EXIT_CONFIG;
	}
	/* Syslog is connected now, before any worker exists, so workers
	 * inherit the connection instead of each opening their own. */
	log_init("socks5d", true);
	if (sandbox_prepare(opts.user, conf_vars(conf)->helper_user,
	    &sb) != 0) {
		log_warnx("cannot prepare the worker sandbox; not starting");
		conf_free(conf);
		return EXIT_CONFIG;
	}
	opts.audit_fd = -1;
	if (opts.audit_path != NULL &&
	    (opts.audit_fd = auditlog_open(opts.audit_path)) == -1)
		fatal("cannot open audit file %s", opts.audit_path);
	audit_init(true);
	signal(SIGPIPE, SIG_IGN);
	if (opts.inetd) {
		rc = master_serve_inetd(&opts, conf, sb);
		sandbox_free(sb);
		return rc;
	}
	if ((rc = listen_open(&opts, conf, listen_fds, LISTEN_MAX,
	    &n_listen)) != 0) {
		conf_free(conf);
		sandbox_free(sb);
		return rc;
	}
	/* Building the seccomp filter and the rules left freed heap behind;
	 * every fork would copy its page tables, every child fault on it. */
	malloc_trim(0);
	log_info("socks5d %s started", SOCKS5D_VERSION);
	rc = master_serve(&opts, conf, conf_sealed, sb, listen_fds, n_listen);
	sandbox_free(sb);
	return rc;
}
