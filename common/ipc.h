/*
 * Messages between workers and the helper processes (authd, resolver).
 * This is the only place a message is defined (STYLE 3): one enum of types,
 * requests paired with their answers, and one table row per type giving
 * who may send it and its payload bounds.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, so one datagram is one frame and a
 * frame can never be torn or merged.  Frame = header (type u16, payload
 * length u16, big-endian) + payload.  A worker reaches a helper by making a
 * socketpair and sending one end over the helper's shared "door" socket
 * (IPC_OPEN, carrying the fd); every later frame of that worker travels on
 * its private channel, so answers cannot reach another worker.
 *
 * Each forker (forker/forker.h) keeps one child forked ahead, a spare, and
 * gives the master the master's end of the spare's own socketpair with
 * IPC_SPARE (its pid, + that descriptor).  The master hands an accepted
 * client to a spare directly with IPC_FORK: a session id, the client's
 * address and port, and five descriptors (the client socket and the two
 * relay pipes the master made as root); then it tells the forker with
 * IPC_TAKEN (the spare's pid), which forks the next spare.  When no spare
 * is ready, the same IPC_FORK goes to a forker on their one socketpair,
 * which forks for it and answers IPC_FORKED (the id and the worker's pid,
 * 0 when fork failed).  The forker reports every child it reaps, spare or
 * worker, with IPC_REAPED (pid and wait status).  All are fixed-size; the
 * master, which keeps the only table of who serves whom, validates each
 * against that table.  IPC_RETIRE tells a forker to exit once it has
 * forked for every IPC_FORK sent before it.
 *
 * A worker tells the master that an upstream SOCKS server failed with
 * IPC_UPSTREAM_DOWN on the one report socket (SOCK_DGRAM) all workers
 * share: configuration generation u32, proxy line u32, upstream index u16,
 * exactly IPC_UPSTREAM_DOWN_LEN bytes (master/health.c checks the rest).
 *
 * A worker tells the master about its session on a second shared socket,
 * the master's door (SOCK_DGRAM; master/door.c says why it can be
 * trusted): IPC_NEGOTIATED (session id) when the client has finished
 * negotiating, for SOCKS5_MAXSTARTUPS; IPC_REAL_CLIENT (id, the client a
 * PROXY header named) and IPC_SESSION_USER (id, user name), each carrying
 * the worker's end of a fresh socketpair on which the master answers
 * with one IPC_VERDICT (enum limit_verdict).
 *
 * authd's channels open with IPC_AUTH_USERPASS, IPC_IDENT or IPC_GSS_ACCEPT,
 * each carrying the client's socket; authd's per-request child asks its
 * parent for the throttling delay (IPC_THROTTLE_ASK/DELAY) and reports the
 * outcome (IPC_THROTTLE_RESULT).
 *
 * Audit records (auditd/auditd.h) travel as IPC_AUDIT_RECORD, the JSON
 * object without its newline, on a channel opened through the audit
 * logger's door with IPC_OPEN; the logger answers each with IPC_AUDIT_ACK
 * (0: written, 1: not written).  The master's records go on its control
 * channel to the logger as IPC_AUDIT_MASTER, unanswered, as does
 * IPC_AUDIT_FILE: the audit file reopened after SIGHUP (flag bit 0:
 * SOCKS5_AUDIT_REQUIRED).
 *
 * RFC 1961 (method 0x01) on one authd channel, strictly in this order:
 * IPC_GSS_ACCEPT (the client's first token, + its socket); then while
 * authd answers IPC_GSS_CONTINUE (a token for the client) the worker
 * sends the client's next token as IPC_GSS_TOKEN, at most
 * RFC1961_ROUNDS_MAX rounds in all; authd ends the exchange with
 * IPC_GSS_ESTABLISHED (refused, or the principal, the user name the rules
 * see, and a last token for the client).  After an accepted one the worker
 * relays the client's protection-level message (IPC_GSS_PROTECT) and
 * authd answers IPC_GSS_PROTECT_ANSWER (the level and the wrapped answer
 * for the client).  Tokens are up to 65535 bytes: these are the "large"
 * types, received with ipc_recv_large only.
 */
#ifndef SOCKS5D_IPC_H
#define SOCKS5D_IPC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timespec;

#define IPC_VERSION 1

enum ipc_type {
	IPC_ANY = 0,              /* ipc_recv_large: any type from the sender */
	IPC_OPEN = 1,             /* worker -> helper door: version, + fd */
	IPC_RESOLVE = 2,          /* worker -> resolver: a host name */
	IPC_RESOLVE_ANSWER = 3,   /* resolver -> worker: status, addresses */
	IPC_AUTH_USERPASS = 4,    /* worker -> authd: user, password, + fd */
	IPC_AUTH_ANSWER = 5,      /* authd -> worker: status, reason */
	IPC_FORK = 6,             /* master -> forker: id, client, + 5 fds */
	IPC_FORKED = 7,           /* forker -> master: id, pid (0: failed) */
	IPC_REAPED = 8,           /* forker -> master: pid, wait status */
	IPC_RETIRE = 9,           /* master -> forker: exit after the queue */
	IPC_UPSTREAM_DOWN = 10,   /* worker -> master: generation, line, index */
	IPC_IDENT = 11,           /* worker -> authd: 0, + the client's fd */
	IPC_IDENT_ANSWER = 12,    /* authd -> worker: result, user */
	IPC_THROTTLE_ASK = 13,    /* authd child -> authd: address, user */
	IPC_THROTTLE_DELAY = 14,  /* authd -> authd child: delay (ms) */
	IPC_THROTTLE_RESULT = 15, /* authd child -> authd: outcome */
	IPC_AUDIT_RECORD = 16,    /* any process -> audit logger: one record */
	IPC_AUDIT_ACK = 17,       /* audit logger -> worker: written or not */
	IPC_AUDIT_FILE = 18,      /* master -> audit logger: flags, + file fd */
	IPC_AUDIT_MASTER = 19,    /* master -> audit logger: one record */
	IPC_GSS_ACCEPT = 20,      /* worker -> authd: first token, + fd */
	IPC_GSS_TOKEN = 21,       /* worker -> authd: the client's next token */
	IPC_GSS_CONTINUE = 22,    /* authd -> worker: a token for the client */
	IPC_GSS_ESTABLISHED = 23, /* authd -> worker: verdict, names, token */
	IPC_GSS_PROTECT = 24,     /* worker -> authd: protection message */
	IPC_GSS_PROTECT_ANSWER = 25, /* authd -> worker: level, token */
	IPC_NEGOTIATED = 26,      /* worker -> master door: session id */
	IPC_REAL_CLIENT = 27,     /* worker -> master door: id, client, + fd */
	IPC_SESSION_USER = 28,    /* worker -> master door: id, user, + fd */
	IPC_VERDICT = 29,         /* master -> worker: enum limit_verdict */
	IPC_SPARE = 30,           /* forker -> master: a spare's pid, + its fd */
	IPC_TAKEN = 31,           /* master -> forker: that spare has a client */
	IPC_IMAGE_SETUP = 32,     /* master -> session image: ids, fd numbers */
	IPC_TYPE_MAX = 33,
};

/*
 * Why a check failed, in IPC_AUTH_ANSWER (second byte) and
 * IPC_IDENT_ANSWER (first byte).  The worker maps it to the audit
 * record's reason (auth_reason_str); the client's wire only ever sees
 * RFC 1929 status 1 or SOCKS4 92/93, whatever the reason.
 */
enum auth_reason {
	AUTH_R_OK = 0,
	AUTH_R_BAD_PASSWORD = 1,
	AUTH_R_UNKNOWN_USER = 2,
	AUTH_R_ACCOUNT = 3,          /* expired, locked, not allowed */
	AUTH_R_TIMEOUT = 4,          /* SOCKS5_AUTH_TIMEOUT passed */
	AUTH_R_INTERNAL = 5,         /* PAM missing, password file refused, a
	                              * socket that is not the client's */
	AUTH_R_IDENT_UNREACHABLE = 6,
	AUTH_R_IDENT_ERROR = 7,      /* identd answered ERROR */
	AUTH_R_IDENT_MALFORMED = 8,  /* not an RFC 1413 reply to our query */
	/* RFC 1961, from gss_accept_sec_context and gss_unwrap. */
	AUTH_R_GSS_DEFECTIVE = 9,    /* a token that does not decode */
	AUTH_R_GSS_EXPIRED = 10,     /* the ticket's lifetime is over */
	AUTH_R_GSS_REPLAY = 11,      /* an authenticator seen before */
	AUTH_R_GSS_FAILED = 12,      /* no key for the ticket, bad integrity,
	                              * any other refusal */
	AUTH_R_GSS_ROUNDS = 13,      /* more than RFC1961_ROUNDS_MAX rounds */
	AUTH_R_GSS_PROTECTION = 14,  /* a level SOCKS5_GSS_PROTECTION refuses */
	AUTH_R_GSS_NAME = 15,        /* a principal with no usable name */
	AUTH_R_MAX = 16,
};

/* Flags, third byte of IPC_AUTH_ANSWER. */
enum { AUTH_F_THROTTLED = 1 };

/* Outcomes in IPC_THROTTLE_RESULT. */
enum throttle_outcome {
	THROTTLE_SUCCESS = 0,        /* forget this address's and user's failures */
	THROTTLE_FAILURE = 1,        /* a wrong user name or password */
	THROTTLE_NOT_COUNTED = 2,    /* timeout, internal error: no guess made */
};

/* Text for the audit record; NULL for AUTH_R_OK or an unknown value. */
const char *auth_reason_str(unsigned reason);

/* The master's answer in IPC_VERDICT. */
enum limit_verdict {
	LIMIT_GO = 0,             /* served (also: the claim was ignored) */
	LIMIT_RETRY = 1,          /* the master does not know this worker yet */
	LIMIT_PENALTY = 2,        /* the real client is blocked after a crash */
	LIMIT_PER_SOURCE = 3,     /* SOCKS5_MAXCHILD_PER_SOURCE reached */
	LIMIT_STARTUPS = 4,       /* SOCKS5_MAXSTARTUPS_PER_SOURCE reached */
	LIMIT_PER_USER = 5,       /* SOCKS5_MAXCHILD_PER_USER reached */
	LIMIT_EARLY_DROP = 6,     /* SOCKS5_MAXSTARTUPS (at accept only) */
	LIMIT_MAX = 7,
};

/* The variable a refusal names (the record's `rule`) and its reason;
 * NULL for LIMIT_GO, LIMIT_RETRY or an unknown value. */
const char *limit_rule_str(unsigned verdict);
const char *limit_reason_str(unsigned verdict);

enum ipc_from {
	FROM_WORKER = 1,
	FROM_HELPER = 2,
	FROM_MASTER = 3,
	FROM_FORKER = 4,
	FROM_AUTHD_CHILD = 5,     /* authd's per-request child to authd */
};

struct ipc_msgdef {
	enum ipc_type type;
	enum ipc_from from;
	uint16_t min_len;
	uint16_t max_len;
	uint8_t n_fds;            /* descriptors it carries (ipc_recv_msg) */
	const char *name;
};

enum {
	IPC_HDR_LEN = 4,
	/* An audit record (one JSON line, AUDIT_LINE_MAX) fits one frame. */
	IPC_FRAME_MAX = 4100,
	/* Answers up to this long are received into a frame of their own
	 * size (ipc_recv). */
	IPC_SHORT_MAX = 64,
	/* How long, in 1 ms steps, a blocking send waits for the kernel's
	 * descriptors-in-flight limit to let it through (ipc_send_fds). */
	IPC_REFS_WAIT_MS = 1000,
	IPC_AUDIT_RECORD_MAX = 4095,
	IPC_ADDRS_MAX = 8,
	/* One address in a RESOLVE_ANSWER: family (4 or 6), 16 bytes. */
	IPC_ADDR_LEN = 17,
	IPC_UPSTREAM_DOWN_LEN = 4 + 4 + 2,
	/* IPC_FORK: id (u32) + client endpoint; its descriptors, in order:
	 * client socket, c2d read, c2d write, d2c read, d2c write. */
	IPC_FORK_LEN = 4 + IPC_ADDR_LEN + 2,
	IPC_FORK_FDS = 5,
	IPC_FORKED_LEN = 8,       /* id (u32), pid (u32) */
	IPC_REAPED_LEN = 8,       /* pid (u32), wait status (u32) */
	IPC_PID_LEN = 4,          /* IPC_SPARE, IPC_TAKEN: pid (u32) */
	IPC_IMAGE_ABI = 1,
	IPC_IMAGE_VERSION_LEN = 16,
	/* ABI u32, build id, four ids (u32), privileged u8, relay_copy u8,
	 * audit_on u8, health generation u32, IPC_IMAGE_FDS descriptor
	 * numbers (u32). */
	IPC_IMAGE_FDS = 8,
	IPC_IMAGE_SETUP_LEN = 4 + IPC_IMAGE_VERSION_LEN + 16 + 3 + 4 +
	    4 * IPC_IMAGE_FDS,
	IPC_NEGOTIATED_LEN = 4,   /* session id (u32) */
	IPC_REAL_CLIENT_LEN = 4 + IPC_ADDR_LEN + 2,   /* id, endpoint */
	IPC_VERDICT_LEN = 1,
	IPC_FDS_MAX = 5,          /* most descriptors any message carries */
	/* Most descriptors a peer can attach to one message (the kernel's
	 * SCM_MAX_FD): a receiver makes room for all (recv_frame). */
	IPC_PASSED_FDS_MAX = 253,
	/* The longest identd user id passed on (RFC 1413 allows 512; a
	 * longer one is refused as malformed, SOCKS user names stop at 255). */
	IPC_IDENT_USER_MAX = 255,
	/* Large frames (the RFC 1961 tokens): any u16 payload. */
	IPC_LARGE_MAX = 65535,
	/* IPC_GSS_ESTABLISHED: status, reason, u8-prefixed principal and
	 * user, then the token; the token may use what the names leave. */
	IPC_GSS_ESTABLISHED_MIN = 4,
	IPC_GSS_NAME_MAX = 255,
};

struct rd;
struct wr;
struct sockaddr;
struct sockaddr_storage;

/* An address in a payload: family byte (4 or 6) + 16 address bytes
 * (IPC_ADDR_LEN); ipc_addr_get refuses any other family byte. */
int ipc_addr_put(struct wr *w, const struct sockaddr *sa);
int ipc_addr_get(struct rd *r, struct sockaddr_storage *ss);

/* An address and its port (IPC_ADDR_LEN + 2): the client in
 * IPC_FORK. */
int ipc_endpoint_put(struct wr *w, const struct sockaddr *sa);
int ipc_endpoint_get(struct rd *r, struct sockaddr_storage *ss);

/* The fixed-size messages between the master and the forker.  Each _get
 * decodes a whole payload (rd_end included) and checks its values; each
 * _put writes exactly its _LEN bytes. */
struct ipc_fork {
	uint32_t id;
	struct sockaddr_storage client;
};
struct ipc_forked {
	uint32_t id;
	uint32_t pid;             /* 0: fork failed */
};
struct ipc_reaped {
	uint32_t pid;             /* never 0 */
	uint32_t status;          /* as from waitpid */
};
int ipc_fork_put(struct wr *w, uint32_t id, const struct sockaddr *client);
int ipc_fork_get(const uint8_t *buf, size_t len, struct ipc_fork *out);
int ipc_forked_put(struct wr *w, uint32_t id, uint32_t pid);
int ipc_forked_get(const uint8_t *buf, size_t len, struct ipc_forked *out);
int ipc_reaped_put(struct wr *w, uint32_t pid, uint32_t status);
int ipc_reaped_get(const uint8_t *buf, size_t len, struct ipc_reaped *out);
/* IPC_SPARE and IPC_TAKEN: one pid, never 0. */
int ipc_pid_put(struct wr *w, uint32_t pid);
int ipc_pid_get(const uint8_t *buf, size_t len, uint32_t *pid);

/*
 * IPC_IMAGE_SETUP: the first message on a forker's channel when the
 * master exec'd the session image (forker/image.c) for it.  The
 * descriptors are not passed with it: the image inherits them across
 * execve at the numbers named here (the master cleared their close-on-exec
 * flag in the child), and checks each before use.  -1: none.
 */
enum ipc_image_fd {
	IMAGE_FD_CONF = 0,        /* conf_load_sealed's memfd; never -1 */
	IMAGE_FD_HEALTH_PAGE,     /* the health page, read-only */
	IMAGE_FD_HEALTH_REPORT,   /* workers' IPC_UPSTREAM_DOWN socket */
	IMAGE_FD_AUDIT_DOOR,
	IMAGE_FD_SYSLOG,
	IMAGE_FD_AUTHD_DOOR,
	IMAGE_FD_RESOLVER_DOOR,
	IMAGE_FD_MASTER_DOOR,
	IMAGE_FD_COUNT
};
_Static_assert((int)IMAGE_FD_COUNT == (int)IPC_IMAGE_FDS,
    "one number per descriptor");
struct ipc_image_setup {
	char version[IPC_IMAGE_VERSION_LEN + 1];   /* the master's build id */
	uint32_t uid, gid, helper_uid, helper_gid;
	bool privileged;
	bool relay_copy;
	/* -a: records go to the logger, and fail while there is none (door
	 * -1), as the master's own do; never "no audit file". */
	bool audit_on;
	uint32_t health_gen;
	int fds[IPC_IMAGE_FDS];
};
int ipc_image_setup_put(struct wr *w, const struct ipc_image_setup *s);
/* Also refuses another ABI or build than this one's (ERR_PROTO): the
 * build id is a digest of every object the two programs share
 * (common/version.h). */
int ipc_image_setup_get(const uint8_t *buf, size_t len,
    struct ipc_image_setup *out);

/* IPC_RESOLVE_ANSWER (status u8, count u8, count addresses), decoded by
 * the worker and the fuzzer: up to max addresses with port set into addrs,
 * *n of them.  The whole payload is checked (rd_end). */
int resolve_answer_parse(const uint8_t *buf, size_t len, uint16_t port,
    struct sockaddr_storage *addrs, size_t max, size_t *n, uint8_t *status);

/* IPC_GSS_ESTABLISHED and IPC_GSS_PROTECT_ANSWER, decoded by the worker
 * (_get: whole payload, values checked; token points into buf) and built
 * by authd.  ESTABLISHED: u8 status (0 accepted, 1 refused), u8
 * auth_reason (AUTH_R_OK exactly when accepted), u8 length + principal,
 * u8 length + user (both 1..255 printable bytes when accepted, empty when
 * refused), token for the client (the rest; empty when refused).
 * PROTECT_ANSWER: u8 status, u8 level (RFC1961_PROT_*; 0 when refused),
 * the wrapped answer for the client (the rest: 1.. bytes exactly when
 * accepted). */
struct ipc_gss_established {
	int ok;
	uint8_t reason;
	char principal[IPC_GSS_NAME_MAX + 1];
	char user[IPC_GSS_NAME_MAX + 1];
	const uint8_t *token;
	size_t token_len;
};
struct ipc_gss_protect_answer {
	int ok;
	uint8_t level;
	const uint8_t *token;
	size_t token_len;
};
int ipc_gss_established_put(struct wr *w, const struct ipc_gss_established *e);
int ipc_gss_established_get(const uint8_t *buf, size_t len,
    struct ipc_gss_established *out);
int ipc_gss_protect_answer_put(struct wr *w,
    const struct ipc_gss_protect_answer *a);
int ipc_gss_protect_answer_get(const uint8_t *buf, size_t len,
    struct ipc_gss_protect_answer *out);

/* The door messages: IPC_REAL_CLIENT (id, endpoint) and
 * IPC_SESSION_USER (id, u8 length + 1..255 user bytes, no NUL).  Each
 * _get decodes the whole payload; user must have room for 256 bytes. */
int ipc_real_client_put(struct wr *w, uint32_t id, const struct sockaddr *sa);
int ipc_real_client_get(const uint8_t *buf, size_t len, uint32_t *id,
    struct sockaddr_storage *client);
int ipc_session_user_put(struct wr *w, uint32_t id, const char *user);
int ipc_session_user_get(const uint8_t *buf, size_t len, uint32_t *id,
    char user[256]);

/* The row for type, or NULL for a type that does not exist. */
const struct ipc_msgdef *ipc_msgdef(uint16_t type);

/* Build the frame ipc_send would send into out (cap bytes); its length,
 * or ERR_PROTO (bounds) / ERR_NOSPACE.  For a frame that must be sent
 * from a signal handler with nothing but send(2). */
int ipc_frame(enum ipc_type type, const void *payload, size_t len,
    uint8_t *out, size_t cap);

/*
 * Send one frame; pass_fd >= 0 attaches that descriptor (SCM_RIGHTS).
 * The payload must fit the type's bounds: a violation is our bug, so it
 * fails with ERR_PROTO before anything is sent.
 */
int ipc_send(int fd, enum ipc_type type, const void *payload, size_t len,
    int pass_fd);

/* ipc_send with up to IPC_FDS_MAX descriptors, as many as the type's row
 * says (ERR_PROTO otherwise).  nowait: fail with ERR_TIMEOUT instead of
 * blocking when the peer's queue is full. */
int ipc_send_fds(int fd, enum ipc_type type, const void *payload, size_t len,
    const int *fds, size_t n_fds, int nowait);

/*
 * Receive one frame of any type sent by `from`, with exactly the number of
 * descriptors the type's row gives (returned in fds, which has room for
 * IPC_FDS_MAX); otherwise as ipc_recv.  *type is set on success.  A zero
 * deadline ({0, 0}) never waits: ERR_TIMEOUT when nothing is queued.
 */
int ipc_recv_msg(int fd, enum ipc_from from, uint16_t *type, uint8_t *buf,
    size_t cap, size_t *len, int *fds, const struct timespec *deadline);

/* ipc_recv_msg on a socket with SO_PASSCRED (the master's door), never
 * waiting: *pid is the sender's process as the kernel saw it (0 if no
 * credentials came, and then the frame is refused, ERR_PROTO). */
int ipc_recv_cred(int fd, enum ipc_from from, uint16_t *type, uint8_t *buf,
    size_t cap, size_t *len, int *fds, int *pid);

/*
 * Receive one frame of exactly the expected type, sent by `from`, before
 * the deadline (NULL: wait forever).  The payload is copied to buf (cap
 * bytes) and *len set.  If fd_out is non-NULL a passed descriptor is
 * returned there (-1 if none); a descriptor that arrives where none is
 * expected is closed.  Every check of the table is applied: unknown type,
 * wrong sender, wrong type, length outside the bounds or different from the
 * header's all give ERR_PROTO; ERR_EOF when the peer closed.
 */
int ipc_recv(int fd, enum ipc_type expect, enum ipc_from from, uint8_t *buf,
    size_t cap, size_t *len, int *fd_out, const struct timespec *deadline);

/*
 * A helper's door (authd/helper.c): take one IPC_OPEN without waiting
 * (ERR_TIMEOUT when none is queued).  The door must have SO_PASSCRED set,
 * so the kernel names the sending process: *sender.  *chan is the channel,
 * an AF_UNIX SOCK_SEQPACKET socket made by *sender itself; *client_fd the
 * worker's client socket (a TCP socket) or -1 when it attached none.  A
 * frame that breaks any of this gives ERR_PROTO with every descriptor it
 * carried closed (ipc_close_passed).
 */
int ipc_recv_open(int door, int *chan, int *client_fd, pid_t *sender);

/* Whether fd is a socket of this domain, type and protocol (-1: any). */
bool ipc_fd_is(int fd, int domain, int type, int protocol);

/* Close a descriptor another process passed.  A socket it set to linger
 * with unsent data would make close(2) wait up to its linger time; turn
 * lingering off first, so close returns at once and the kernel sends what
 * is queued in the background (no reset of a legitimate connection). */
void ipc_close_passed(int fd);

/* The same for the first frame of a channel that may open with either of
 * two requests (authd: IPC_AUTH_USERPASS or IPC_IDENT); *type is the one
 * that came. */
int ipc_recv_either(int fd, enum ipc_type a, enum ipc_type b,
    enum ipc_from from, uint8_t *buf, size_t cap, size_t *len,
    enum ipc_type *type, int *fd_out, const struct timespec *deadline);

/*
 * A large frame (the IPC_GSS_* types), received whole into m->frame:
 * either of types a and b (pass a twice for one; IPC_ANY twice for any
 * type, as authd takes a channel's first request), sent by `from`, before
 * the deadline, with the same checks as ipc_recv; m->payload then points
 * into m->frame.  A large type can only be received this way: ipc_recv's
 * buffer refuses any frame longer than IPC_FRAME_MAX.
 */
struct ipc_large {
	uint8_t frame[IPC_HDR_LEN + IPC_LARGE_MAX + 1];
	enum ipc_type type;
	const uint8_t *payload;
	size_t len;
};
int ipc_recv_large(int fd, enum ipc_type a, enum ipc_type b,
    enum ipc_from from, struct ipc_large *m, int *fd_out,
    const struct timespec *deadline);

#endif
