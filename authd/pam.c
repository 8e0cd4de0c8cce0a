/*
 * libpam, loaded with dlopen by authd alone.
 *
 * Why not link it: every worker is forked from the master, and each shared
 * library the master maps is copied into every fork (its mappings, page
 * tables and relocated data).  libpam brings libaudit and libcap-ng; only
 * authd ever calls it.  authd loads it once at start (as root, before any
 * request), and its per-request children inherit the loaded copy.
 *
 * Why RTLD_GLOBAL and dlsym(RTLD_DEFAULT): the entry points are looked up
 * the way a linked program's would be, in load order, so a PAM library
 * interposed with LD_PRELOAD (pam_wrapper, the harness Samba and SSSD test
 * with) wins over the libpam loaded here.  dlsym(handle) would bypass it
 * and read /etc/pam.d behind the wrapper's back.
 *
 * Globals: pam_fns, the resolved entry points, written once by
 * authd_pam_load in authd.
 */
#include <dlfcn.h>
#include <stddef.h>

#include "authd/pam.h"
#include "common/err.h"
#include "common/log.h"

struct authd_pam pam_fns;

int
authd_pam_load(void)
{
	if (pam_fns.start != NULL)
		return 0;
	if (dlopen("libpam.so.0", RTLD_NOW | RTLD_GLOBAL) == NULL) {
		log_warnx("cannot load libpam.so.0: %s", dlerror());
		return ERR_SYS;
	}
	/* The casts go through void * as POSIX dlsym requires. */
	*(void **)&pam_fns.start = dlsym(RTLD_DEFAULT, "pam_start");
	*(void **)&pam_fns.end = dlsym(RTLD_DEFAULT, "pam_end");
	*(void **)&pam_fns.set_item = dlsym(RTLD_DEFAULT, "pam_set_item");
	*(void **)&pam_fns.authenticate = dlsym(RTLD_DEFAULT, "pam_authenticate");
	*(void **)&pam_fns.acct_mgmt = dlsym(RTLD_DEFAULT, "pam_acct_mgmt");
	*(void **)&pam_fns.strerror = dlsym(RTLD_DEFAULT, "pam_strerror");
	if (pam_fns.start == NULL || pam_fns.end == NULL ||
	    pam_fns.set_item == NULL || pam_fns.authenticate == NULL ||
	    pam_fns.acct_mgmt == NULL || pam_fns.strerror == NULL) {
		log_warnx("libpam.so.0 lacks a PAM entry point");
		pam_fns.start = NULL;
		return ERR_SYS;
	}
	return 0;
}
