/*
 * The helper processes and the calls workers make to them.
 *
 *   authd    (root)   the only process that talks to PAM (and, later, to
 *                     identd); answers yes/no to a worker's RFC 1929 check.
 *   resolver (the -u user, not chrooted)  getaddrinfo for workers, whose
 *                     chroot has no /etc and whose filter allows no open().
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
 * resolver drops to (authd keeps root).  conf is the helper's own copy of
 * the configuration (it re-checks its settings, never a worker's claim).
 * keep_fds are descriptors the helper must close (listen sockets, the
 * other helper's door).  Returns 0 or ERR_SYS.
 */
int helper_start(struct helper *h, const struct conf *conf, uid_t uid,
    gid_t gid, const int *close_fds, size_t n_close);

/* Master side: forget a helper that exited (closes its door). */
void helper_gone(struct helper *h);

/* Codec of the resolver answer, shared by both sides and the fuzzer
 * (addresses in it: ipc_addr_get, common/ipc.h). */
int resolve_answer_parse(const uint8_t *buf, size_t len, uint16_t port,
    struct sockaddr_storage *addrs, size_t max, size_t *n, uint8_t *status);

/* Decode an IPC_AUTH_USERPASS payload (authd side); ERR_PROTO when
 * malformed.  The password is wiped from up on failure. */
struct socks5_userpass;
int authd_request_parse(const uint8_t *buf, size_t len,
    struct sockaddr_storage *client, struct socks5_userpass *up);

/* Helper side entry points (each runs its door loop and never returns). */
void authd_serve_channel(int chan, const struct conf *conf)
    __attribute__((noreturn));
void resolver_serve_channel(int chan) __attribute__((noreturn));

#endif
