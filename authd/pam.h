/*
 * The PAM entry points authd uses, resolved at run time (authd/pam.c says
 * why libpam is not linked).
 */
#ifndef SOCKS5D_AUTHD_PAM_H
#define SOCKS5D_AUTHD_PAM_H

#include <security/pam_appl.h>

struct authd_pam {
	int (*start)(const char *, const char *, const struct pam_conv *,
	    pam_handle_t **);
	int (*end)(pam_handle_t *, int);
	int (*set_item)(pam_handle_t *, int, const void *);
	int (*authenticate)(pam_handle_t *, int);
	int (*acct_mgmt)(pam_handle_t *, int);
	const char *(*strerror)(pam_handle_t *, int);
};

extern struct authd_pam pam_fns;

/* dlopen libpam and resolve the entry points; 0 or ERR_SYS (logged). */
int authd_pam_load(void);

#endif
