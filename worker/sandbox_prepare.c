/*
 * The master's half of the sandbox set-up (worker/sandbox.h): the user
 * look-ups and the chroot directory's checks, done once at start.  Apart
 * from worker/sandbox.c because it needs NSS (getpwnam), and the session
 * image (forker/image.c), which is static and has no NSS, must not link
 * it: the image gets the ids from the master (sandbox_adopt).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "worker/sandbox.h"

/* The chroot must be a directory only root can change: a worker that could
 * write there could plant files for the next one (or a hard link target). */
static int
root_dir_check(void)
{
	struct stat st;

	if (mkdir("/run/socks5d", 0755) == -1 && errno != EEXIST) {
		log_warn("mkdir /run/socks5d");
		return ERR_SYS;
	}
	if (mkdir(SANDBOX_ROOT_DIR, 0755) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", SANDBOX_ROOT_DIR);
		return ERR_SYS;
	}
	if (lstat(SANDBOX_ROOT_DIR, &st) == -1) {
		log_warn("%s", SANDBOX_ROOT_DIR);
		return ERR_SYS;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_warnx("%s must be a directory owned by root and writable "
		    "by nobody else (mode %o, owner %u)", SANDBOX_ROOT_DIR,
		    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
		return ERR_CONFIG;
	}
	/* Empty: whatever lay there would be every worker's to read. */
	{
		DIR *dir = opendir(SANDBOX_ROOT_DIR);
		struct dirent *de;
		bool empty = dir != NULL;

		while (dir != NULL && (de = readdir(dir)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				empty = false;
		if (dir != NULL)
			closedir(dir);
		if (!empty) {
			log_warnx("%s must be empty: workers are chrooted "
			    "there", SANDBOX_ROOT_DIR);
			return ERR_CONFIG;
		}
	}
	if (lstat("/run/socks5d", &st) == -1 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		log_warnx("/run/socks5d must be owned by root and writable by "
		    "nobody else");
		return ERR_CONFIG;
	}
	return 0;
}

/*
 * The resolver and the audit logger run as a user of their own, as
 * OpenSSH's privsep child runs as sshd: kill(2) is allowed within one uid,
 * so a resolver sharing the workers' (NSS modules, no chroot: the weakest
 * sandbox) could end or stop every session, and a SIGSEGV it sent would
 * penalise the worker's client (issue 12 finding 4).  The group differs
 * too, or it would share what the system lets that group touch.  No
 * fallback to the workers' user: as sshd's missing privsep user, a
 * missing helper user refuses the start.
 */
static int
helper_ids(struct sandbox_ids *ids, const char *name, const char *worker_user)
{
	const struct passwd *pw;

	if ((pw = getpwnam(name)) == NULL) {
		log_warnx("SOCKS5_HELPER_USER %s: no such user (the resolver "
		    "and the audit logger run as it); create it with: adduser "
		    "--system --group --no-create-home %s", name, name);
		return ERR_CONFIG;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_warnx("SOCKS5_HELPER_USER %s: the resolver and the audit "
		    "logger must not run as root or in group root", name);
		return ERR_CONFIG;
	}
	if (pw->pw_uid == ids->uid) {
		log_warnx("SOCKS5_HELPER_USER %s is the workers' user (-u %s): "
		    "the resolver and the audit logger need a user of their "
		    "own, so that they cannot signal a worker", name,
		    worker_user);
		return ERR_CONFIG;
	}
	if (pw->pw_gid == ids->gid) {
		log_warnx("SOCKS5_HELPER_USER %s has the workers' group (gid "
		    "%u, -u %s): give it a group of its own (adduser --system "
		    "--group)", name, (unsigned)pw->pw_gid, worker_user);
		return ERR_CONFIG;
	}
	ids->helper_uid = pw->pw_uid;
	ids->helper_gid = pw->pw_gid;
	return 0;
}

int
sandbox_prepare(const char *user, const char *helper_user,
    struct sandbox **out)
{
	struct sandbox_ids ids = { .privileged = geteuid() == 0 };
	struct passwd *pw;
	int rc;

	*out = NULL;
	if (user == NULL)
		user = "nobody";
	if ((pw = getpwnam(user)) == NULL) {
		log_warnx("unknown user '%s' (-u)", user);
		return ERR_CONFIG;
	}
	if (ids.privileged && pw->pw_uid == 0) {
		log_warnx("-u %s: workers must not run as root", user);
		return ERR_CONFIG;
	}
	ids.uid = pw->pw_uid;
	ids.gid = pw->pw_gid;
	/* Not root: no one changes ids (the warning below says so). */
	ids.helper_uid = ids.privileged ? 0 : geteuid();
	ids.helper_gid = ids.privileged ? 0 : getegid();
	if (ids.privileged && (rc = helper_ids(&ids, helper_user, user)) != 0)
		return rc;
	if (ids.privileged && (rc = root_dir_check()) != 0)
		return rc;
	if (!ids.privileged)
		log_warnx("not started as root: workers are not chrooted and "
		    "they and the helpers keep this user (-u and "
		    "SOCKS5_HELPER_USER do not apply); no_new_privs, rlimits "
		    "and seccomp still apply");
	return sandbox_adopt(&ids, out);
}
