/*
 * The session image (forker/image.c says why there is one): where the
 * master finds it, and how a forker is started from it.
 *
 * It is opened once, at start, and every forker is exec'd from that
 * descriptor: an upgrade that replaces the file while the master runs
 * cannot give one master forkers of another build (the image also refuses
 * a set-up from another version).  It is looked for next to the running
 * program first (a build tree), then in ../libexec/socks5d/ from the
 * program's directory (make install's PREFIX/sbin and
 * PREFIX/libexec/socks5d, the Debian package's /usr/sbin and
 * /usr/libexec/socks5d): found from where the program is, not from a
 * path compiled in, so an installed tree can be moved whole.  As root the
 * master execs it as root, before it chroots: so it must be owned by root
 * or by us, in a directory that is too, neither writable by group or
 * others, or the master does not use it.  Without an image the forker is
 * a fork of the master, as before the image existed (the sanitizer build
 * has none: its runtime cannot be linked statically).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "common/wr.h"
#include "master/image.h"
#include "master/spawn.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

extern char **environ;

/* Owned by root or by us, and writable by nobody else. */
static bool
owner_ok(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) &&
	    (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* The file is opened from the directory we checked, not by a path that
 * could lead elsewhere by then. */
static int
image_try(const char *dir)
{
	struct stat st, dst;
	int dfd, fd;

	if ((dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	fd = openat(dfd, IMAGE_NAME, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || fstat(fd, &st) != 0 || fstat(dfd, &dst) != 0 ||
	    !S_ISREG(st.st_mode) || (st.st_mode & S_IXUSR) == 0) {
		if (fd != -1)
			close(fd);
		close(dfd);
		return -1;
	}
	close(dfd);
	/* Set-id bits would also make the image hide the environment from
	 * itself (it refuses to run so). */
	if (!owner_ok(&st) || !owner_ok(&dst) ||
	    (st.st_mode & (S_ISUID | S_ISGID)) != 0) {
		log_warnx("%s/" IMAGE_NAME ": not used: it and its directory "
		    "must be owned by root (or by this user) and writable by "
		    "nobody else, and it must not be set-id", dir);
		close(fd);
		return -1;
	}
	log_info("session image %s/" IMAGE_NAME, dir);
	return fd;
}

int
image_open(void)
{
	char dir[PATH_MAX], libexec[PATH_MAX], *slash;
	ssize_t n;
	int fd = -1;

	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0 || (dir[n] = '\0', slash = strrchr(dir, '/')) == NULL) {
		log_warn("/proc/self/exe");
		return -1;
	}
	*slash = '\0';
	if ((fd = image_try(dir[0] != '\0' ? dir : "/")) != -1)
		return fd;
	/* PREFIX/sbin -> PREFIX/libexec/socks5d */
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(libexec, sizeof(libexec), "%s/libexec/socks5d",
	    dir) < sizeof(libexec) && (fd = image_try(libexec)) != -1)
		return fd;
	log_info("no session image (" IMAGE_NAME " next to socks5d or in "
	    "../libexec/socks5d): forkers are forks of the master");
	return -1;
}

/* The descriptors a forker from the image inherits, by enum ipc_image_fd:
 * the one list image_exec keeps across the exec and IPC_IMAGE_SETUP
 * names. */
static void
image_fds(const struct spawn_ctx *ctx, int fds[IPC_IMAGE_FDS])
{
	fds[IMAGE_FD_CONF] = ctx->conf_sealed;
	fds[IMAGE_FD_HEALTH_PAGE] = ctx->health_page_fd;
	fds[IMAGE_FD_HEALTH_REPORT] = ctx->health_fd;
	fds[IMAGE_FD_AUDIT_DOOR] = audit_door_fd();
	fds[IMAGE_FD_SYSLOG] = log_syslog_fd();
	fds[IMAGE_FD_AUTHD_DOOR] = ctx->authd_door;
	fds[IMAGE_FD_RESOLVER_DOOR] = ctx->resolver_door;
	fds[IMAGE_FD_MASTER_DOOR] = ctx->master_door;
}

/* One descriptor across the exec: its close-on-exec flag cleared. */
static int
keep_across(int fd)
{
	return fd == -1 || fcntl(fd, F_SETFD, 0) == 0 ? 0 : ERR_SYS;
}

void
image_exec(const struct spawn_ctx *ctx, int chan, int image_fd)
{
	int fds[IPC_IMAGE_FDS];
	char arg[16];
	char *argv[] = { (char *)"socks5d-session", arg, NULL };

	/* Made here: once the child has exec'd, the master's own
	 * setpgid(pid, pid) fails (EACCES), and its kill(-pgid) must never
	 * miss the group. */
	(void)setpgid(0, 0);
	/* Nothing the master holds goes across unless named below: the
	 * image runs as root until its sandbox closes the rest. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
		log_warn("session image: close_range");
		_exit(WORKER_EXIT_INTERNAL);
	}
	image_fds(ctx, fds);
	if (keep_across(chan) != 0) {
		log_warn("session image: channel %d", chan);
		_exit(WORKER_EXIT_INTERNAL);
	}
	for (size_t i = 0; i < IPC_IMAGE_FDS; i++)
		if (keep_across(fds[i]) != 0) {
			log_warn("session image: descriptor %d", fds[i]);
			_exit(WORKER_EXIT_INTERNAL);
		}
	snprintf(arg, sizeof(arg), "%d", chan);
	/* With the master's environment: the image's parse reads the same
	 * SOCKS5_* variables the master's did. */
	execveat(image_fd, "", argv, environ, AT_EMPTY_PATH);
	log_warn("session image: exec");
	_exit(WORKER_EXIT_INTERNAL);
}

int
image_setup_send(const struct spawn_ctx *ctx, int chan)
{
	struct ipc_image_setup s = { .relay_copy = ctx->relay_copy,
	    .audit_on = audit_logging(), .health_gen = ctx->health_gen };
	uint8_t buf[IPC_IMAGE_SETUP_LEN];
	struct sandbox_ids ids;
	struct wr w;
	int rc;

	sandbox_ids_get(ctx->sb, &ids);
	s.uid = ids.uid;
	s.gid = ids.gid;
	s.helper_uid = ids.helper_uid;
	s.helper_gid = ids.helper_gid;
	s.privileged = ids.privileged;
	image_fds(ctx, s.fds);
	wr_init(&w, buf, sizeof(buf));
	if ((rc = ipc_image_setup_put(&w, &s)) != 0)
		return rc;
	return ipc_send(chan, IPC_IMAGE_SETUP, buf, w.off, -1);
}
