/*
 * socks5d-session: the session image.  The master execs it once per
 * forker (master/image.c); it becomes that forker, and every worker is a
 * fork of it (forker/forker.h).
 *
 * Why a program of its own: every worker pays, at fork and at exit and at
 * each first touch, for the pages and page tables of the address space it
 * inherits.  The master's is a dynamic program with libc, ld.so and the
 * code of every role; this image is linked -static-pie from the objects a
 * forker and a worker use, so a worker maps one program, a heap and a
 * stack (README, Performance, has the figures).  An exec also gives each
 * forker, and so its workers, an address layout and a stack canary of its
 * own, instead of the master's.  No NSS in it: it is chrooted before its
 * first fork, and the master did every look-up (the -u ids, the port names
 * of the rules: conf_load_sealed).
 *
 * It is started only by the master: argv[1] is its channel's descriptor
 * number, and the first message there (IPC_IMAGE_SETUP) names the other
 * descriptors it inherited.  Each is checked before use; anything amiss
 * ends it with WORKER_EXIT_INTERNAL before its sandbox, and the master
 * restarts forkers like a crashed helper.
 */
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/health.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/proctitle.h"
#include "conf/conf.h"
#include "forker/forker.h"
#include "master/spawn.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

enum { IMAGE_SETUP_WAIT_S = 10 };

/* The master already reported every warning; an error here means the two
 * parses disagree, which the image must say. */
static void
image_diag(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	(void)ctx;
	if (is_error)
		log_warnx("session image: %s:%u: %s", file, line, msg);
}

static int
chan_arg(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 3 || v > INT32_MAX)
		return -1;
	return (int)v;
}

/* Each inherited descriptor is what the master said it is, or -1, and
 * none is named twice or is the channel. */
static int
fds_check(const int fds[IPC_IMAGE_FDS], int chan)
{
	static const struct {
		enum ipc_image_fd which;
		int type;
	} sockets[] = {
		{ IMAGE_FD_HEALTH_REPORT, SOCK_DGRAM },
		{ IMAGE_FD_AUDIT_DOOR, SOCK_SEQPACKET },
		{ IMAGE_FD_SYSLOG, SOCK_DGRAM },
		{ IMAGE_FD_AUTHD_DOOR, SOCK_SEQPACKET },
		{ IMAGE_FD_RESOLVER_DOOR, SOCK_SEQPACKET },
		{ IMAGE_FD_MASTER_DOOR, SOCK_DGRAM },
	};
	int page = fds[IMAGE_FD_HEALTH_PAGE];
	struct stat st;
	int fl;

	for (size_t i = 0; i < IPC_IMAGE_FDS; i++) {
		bool twice = fds[i] != -1 && fds[i] == chan;

		for (size_t j = i + 1; j < IPC_IMAGE_FDS; j++)
			twice = twice || (fds[i] != -1 && fds[i] == fds[j]);
		if (twice) {
			log_warnx("session image: descriptor %d named twice",
			    fds[i]);
			return ERR_PROTO;
		}
	}

	for (size_t i = 0; i < sizeof(sockets) / sizeof(sockets[0]); i++) {
		int fd = fds[sockets[i].which];

		if (fd != -1 && !ipc_fd_is(fd, AF_UNIX, sockets[i].type, -1)) {
			log_warnx("session image: descriptor %d is not the "
			    "socket the master named", fd);
			return ERR_PROTO;
		}
	}
	if (page != -1 && ((fl = fcntl(page, F_GETFL)) == -1 ||
	    (fl & O_ACCMODE) != O_RDONLY || fstat(page, &st) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_size < HEALTH_PAGE_SIZE)) {
		log_warnx("session image: descriptor %d is not a read-only "
		    "health page", page);
		return ERR_PROTO;
	}
	/* Ours now: none goes further than this process and its forks. */
	for (size_t i = 0; i < IPC_IMAGE_FDS; i++)
		if (fds[i] != -1)
			(void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	return 0;
}

/* What the master looked up, checked against what this process is: the
 * ids it drops to are never root's, and it runs as root exactly when
 * the master said so. */
static int
ids_check(const struct ipc_image_setup *s)
{
	if (s->privileged != (geteuid() == 0) ||
	    (s->privileged && (s->uid == 0 || s->gid == 0 ||
	    s->helper_uid == 0 || s->helper_gid == 0))) {
		log_warnx("session image: the master's ids do not fit this "
		    "process (euid %u)", (unsigned)geteuid());
		return ERR_PROTO;
	}
	return 0;
}

static int
setup_read(int chan, struct ipc_image_setup *s)
{
	uint8_t buf[IPC_IMAGE_SETUP_LEN];
	int fds[IPC_FDS_MAX];
	struct timespec deadline;
	uint16_t type;
	size_t len;
	int rc;

	if (!ipc_fd_is(chan, AF_UNIX, SOCK_SEQPACKET, -1))
		return ERR_PROTO;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += IMAGE_SETUP_WAIT_S;
	if ((rc = ipc_recv_msg(chan, FROM_MASTER, &type, buf, sizeof(buf),
	    &len, fds, &deadline)) != 0)
		return rc;
	if (type != IPC_IMAGE_SETUP)
		return ERR_PROTO;
	if ((rc = ipc_image_setup_get(buf, len, s)) != 0 ||
	    (rc = ids_check(s)) != 0)
		return rc;
	return fds_check(s->fds, chan);
}

int
main(int argc, char **argv)
{
	struct ipc_image_setup s;
	struct sandbox_ids ids;
	struct spawn_ctx ctx;
	struct sandbox *sb;
	struct conf *conf;
	void *page = NULL;
	int chan, rc;

	/* The master's mask and ignored signals came across the exec: a
	 * SIGTERM during the set-up must not wait for the forker's loop. */
	proc_child_signals();
	proctitle_init(argc, argv);
	log_init("socks5d", false);
	log_procname("forker");
	if (argc != 2 || (chan = chan_arg(argv[1])) == -1) {
		fprintf(stderr, "socks5d-session: not a command: socks5d "
		    "starts it for each forker\n");
		return WORKER_EXIT_INTERNAL;
	}
	/* Set-id or with file capabilities, the C library would hide the
	 * environment (secure_getenv), and the image would parse another
	 * configuration than the master's. */
	if (getauxval(AT_SECURE) != 0) {
		log_warnx("session image: started set-id or with capabilities; "
		    "refusing");
		return WORKER_EXIT_INTERNAL;
	}
	if ((rc = setup_read(chan, &s)) != 0) {
		log_warnx("session image: no valid set-up from the master "
		    "(%s; are socks5d and socks5d-session from one build?)",
		    err_str(rc));
		return WORKER_EXIT_INTERNAL;
	}
	log_syslog_adopt(s.fds[IMAGE_FD_SYSLOG]);
	audit_init(true);
	if (s.audit_on)
		audit_set_logger(s.fds[IMAGE_FD_AUDIT_DOOR], -1);
	rc = conf_parse_sealed(s.fds[IMAGE_FD_CONF], &conf, image_diag, NULL);
	close(s.fds[IMAGE_FD_CONF]);
	if (rc != 0) {
		log_warnx("session image: cannot parse the master's "
		    "configuration (%s)", err_str(rc));
		return WORKER_EXIT_INTERNAL;
	}
	ids = (struct sandbox_ids){ .uid = s.uid, .gid = s.gid,
	    .helper_uid = s.helper_uid, .helper_gid = s.helper_gid,
	    .privileged = s.privileged };
	if (sandbox_adopt(&ids, &sb) != 0)
		return WORKER_EXIT_INTERNAL;
	if (s.fds[IMAGE_FD_HEALTH_PAGE] != -1) {
		page = mmap(NULL, HEALTH_PAGE_SIZE, PROT_READ, MAP_SHARED,
		    s.fds[IMAGE_FD_HEALTH_PAGE], 0);
		close(s.fds[IMAGE_FD_HEALTH_PAGE]);
		if (page == MAP_FAILED) {
			log_warn("session image: health page");
			return WORKER_EXIT_INTERNAL;
		}
	}
	ctx = (struct spawn_ctx){ .conf = conf, .sb = sb,
	    .authd_door = s.fds[IMAGE_FD_AUTHD_DOOR],
	    .resolver_door = s.fds[IMAGE_FD_RESOLVER_DOOR],
	    .health_fd = s.fds[IMAGE_FD_HEALTH_REPORT], .health = page,
	    .health_gen = s.health_gen,
	    .master_door = s.fds[IMAGE_FD_MASTER_DOOR],
	    .relay_copy = s.relay_copy, .conf_sealed = -1 };
	spawn_inherit_fill(&ctx);
	forker_main(&ctx, chan);
}
