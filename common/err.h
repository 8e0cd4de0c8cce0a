/*
 * Error codes shared by every role.  Functions return 0 on success or one of
 * these negative values; results travel through out-parameters (STYLE 5).
 */
#ifndef SOCKS5D_ERR_H
#define SOCKS5D_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_SHORT = -1,     /* need more bytes: read more and call again */
	ERR_PROTO = -2,     /* malformed input from a peer */
	ERR_NOSPACE = -3,   /* output buffer too small */
	ERR_NOMEM = -4,     /* allocation failed */
	ERR_SYS = -5,       /* system call failed; errno says why */
	ERR_TIMEOUT = -6,   /* deadline passed */
	ERR_EOF = -7,       /* peer closed before a full message */
	ERR_CONFIG = -8,    /* invalid configuration */
	ERR_DENIED = -9,    /* refused by policy */
	ERR_RANGE = -10,    /* value outside its allowed range */
	ERR_UNSUPPORTED = -11, /* valid, but not something this server does */
};

/* A short static description of code, never NULL. */
const char *err_str(int code);

#endif
