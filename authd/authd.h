/*
 * The helper processes and the calls workers make to them.
 *
 *   authd    (root)   the only process that talks to PAM (and, later, to
 *                     identd); answers yes/no to a worker's RFC 1929 check.
 *   resolver (SOCKS5_HELPER_USER, never the workers' -u user; not
 *            chrooted)  getaddrinfo for workers, whose chroot has no /etc
 *                     and whose filter allows no open().
 *
 * Each helper listens on a "door": a SOCK_SEQPACKET socketpair made by the
 * master, whose worker end every worker inherits.  A worker opens a private
 * channel by sending one end of a new socketpair through the door
 * (IPC_OPEN); the helper forks a child for that channel, which serves it
 * as a strict state machine (each request legal once, in order) and exits.
 * A crash in PAM or the resolver thus ends one request, never the helper.
 */
#ifndef SOCKS5D_AUTHD_H
#define SOCKS5D_AUTHD_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conf;
struct timespec;

enum helper_kind {
	HELPER_AUTHD,
	HELPER_RESOLVER,
};

struct helper {
	enum helper_kind kind;
	pid_t pid;            /* 0 when not running */
	int worker_door;      /* inherited by workers; -1 when down */
};

/*
 * Master side: fork the helper.  uid/gid are the unprivileged ids the
 * resolver drops to (SOCKS5_HELPER_USER's, sandbox_helper_ids; authd
 * keeps root).  conf is the helper's own copy of
 * the configuration (it re-checks its settings, never a worker's claim).
 * keep_fds are descriptors the helper must close (listen sockets, the
 * other helper's door).  Returns 0 or ERR_SYS.
 */
int helper_start(struct helper *h, const struct conf *conf, uid_t uid,
    gid_t gid, const int *close_fds, size_t n_close);

/* Master side: forget a helper that exited (closes its door). */
void helper_gone(struct helper *h);

/* Decode an IPC_AUTH_USERPASS payload (authd side); ERR_PROTO when
 * malformed.  The password is wiped from up on failure. */
struct socks5_userpass;
int authd_request_parse(const uint8_t *buf, size_t len,
    struct socks5_userpass *up);

/* Decode an IPC_IDENT_ANSWER payload (worker side): *reason, and the user
 * (NUL-terminated in user, cap >= IPC_IDENT_USER_MAX + 1) when it is
 * AUTH_R_OK.  ERR_PROTO when malformed (a user with a control byte, a
 * user with a failure reason, an unknown reason). */
int ident_answer_parse(const uint8_t *buf, size_t len, char *user, size_t cap,
    unsigned *reason);

/*
 * authd's own state, set up once in the long-lived authd process before
 * any request (authd/authd.c): the local addresses clients reach the
 * daemon on (from the descriptors the master gives authd to close: listen
 * sockets, or in inetd mode the client's own socket), and the password
 * file when SOCKS5_PWDFILE is set.
 */
void authd_setup(const struct conf *conf, const int *fds, size_t n);

/* A per-request child: serve one channel (one IPC_AUTH_USERPASS or one
 * IPC_IDENT) and exit.  ctl is the socketpair end to the authd process
 * that keeps the throttling counters. */
void authd_serve_channel(int chan, int ctl, const struct conf *conf)
    __attribute__((noreturn));

/* RFC 1961 (authd/gssapi.c).  In authd at start: load libgssapi_krb5 and
 * register SOCKS5_KEYTAB as the acceptor keytab, when some auth line
 * offers k (0 and nothing loaded otherwise). */
int authd_gss_load(const struct conf *conf);

/* A per-request child: one RFC 1961 exchange on chan, from the first
 * token of IPC_GSS_ACCEPT (the client's socket already checked) to the
 * protection-level answer; exits. */
void authd_serve_gss(int chan, const struct conf *conf, const uint8_t *first,
    size_t first_len) __attribute__((noreturn));

/* RFC 1413 (authd/ident.c).  A reply is at most this long, EOL included. */
enum { IDENT_LINE_MAX = 1000 };

/* Parse one identd reply (the whole bytes the connection carried) to our
 * query "port_client , port_local".  0 with the user id in user (cap bytes;
 * 1..255 bytes and no control byte); ERR_DENIED for an ERROR reply;
 * ERR_PROTO for anything else.  *reason says which (enum auth_reason). */
int ident_reply_parse(const uint8_t *buf, size_t len, uint16_t port_client,
    uint16_t port_local, char *user, size_t cap, unsigned *reason);

/* Ask the identd on peer's host who owns the connection peer -> local,
 * from local's address, until deadline.  Returns an enum auth_reason. */
unsigned ident_query(const struct sockaddr_storage *peer,
    const struct sockaddr_storage *local, const struct timespec *deadline,
    char *user, size_t cap);

/* The password file (authd/pwdfile.c). */
struct pwdfile;
int pwdfile_load(const char *path, struct pwdfile **out);
void pwdfile_free(struct pwdfile *pf);
/* An enum auth_reason: OK, BAD_PASSWORD, UNKNOWN_USER or INTERNAL. */
unsigned pwdfile_check(const struct pwdfile *pf, const char *user,
    const char *pass);

/* Throttling (authd/throttle.c), in the authd process. */
enum { THROTTLE_SLOTS = 1024 };

struct throttle_entry {
	uint8_t key[255];
	uint16_t klen;
	bool used;
	bool logged;         /* the burst has been logged */
	uint32_t failures;
	time_t last;         /* CLOCK_MONOTONIC seconds of the last attempt */
};

struct throttle {
	struct throttle_entry addr[THROTTLE_SLOTS];
	struct throttle_entry user[THROTTLE_SLOTS];
};

/* The key of a client address; its length, 0 if not AF_INET/AF_INET6. */
size_t throttle_addr_key(const struct sockaddr *sa, uint8_t *key,
    size_t cap);
/* The delay (ms) the attempt of (address key, user) must wait; counts it
 * as a failure until throttle_result says otherwise. */
uint32_t throttle_ask(struct throttle *t, const uint8_t *akey, size_t alen,
    const char *user, unsigned max_s);
void throttle_result(struct throttle *t, const uint8_t *akey, size_t alen,
    const char *user, int outcome);
void resolver_serve_channel(int chan, const struct conf *conf)
    __attribute__((noreturn));

/* The longest a helper's per-request child may live, from its fork: past
 * it the helper kills it (authd/helper.c), whatever it is stuck in.  Each
 * covers the child's own limits (the request's arrival, throttling delay,
 * SOCKS5_AUTH_TIMEOUT, the ident query; SOCKS5_RESOLVE_TIMEOUT) and a
 * margin, so a child that keeps to them is never killed. */
unsigned authd_request_limit_s(const struct conf *conf);

/* The resolver's seccomp filter (authd/resolver_sandbox.c), loaded once
 * after its privilege drop and inherited by its children; 0 or ERR_*. */
int resolver_sandbox(void);
unsigned resolver_request_limit_s(const struct conf *conf);

#endif
