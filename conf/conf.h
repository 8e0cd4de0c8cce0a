/*
 * socks5.conf: loading (conf_load) and the compiled rule set the master
 * builds once and the workers inherit through fork.  The grammar is
 * ../shared/docs/socks5.conf.md; docs/socks5.conf-extensions.md lists where
 * socks5d goes beyond it.  Nothing here does I/O per connection and nothing
 * re-parses text after load: patterns are pre-compiled (addresses as binary
 * masks, service names as port numbers).
 */
#ifndef SOCKS5D_CONF_H
#define SOCKS5D_CONF_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;

/* Authentication method bits (authpattern letters, grammar 3.3). */
enum conf_auth {
	CONF_AUTH_NONE = 1 << 0,     /* n: 0x00, and every SOCKS4 request */
	CONF_AUTH_GSSAPI = 1 << 1,   /* k: 0x01, RFC 1961 (authd/gssapi.c) */
	CONF_AUTH_USERPASS = 1 << 2, /* u: 0x02, RFC 1929 */
};

/* RFC 1961 section 4 protection levels, as SOCKS5_GSS_PROTECTION bits.
 * Only "none" is served (see docs/socks5.conf-extensions.md for why). */
enum conf_gss_prot {
	CONF_GSS_PROT_NONE = 1 << 0,
	CONF_GSS_PROT_INTEGRITY = 1 << 1,
	CONF_GSS_PROT_CONFIDENTIALITY = 1 << 2,
};

/* Command bits (commandpattern letters, grammar 3.4). */
enum conf_cmd {
	CONF_CMD_CONNECT = 1 << 0, /* c */
	CONF_CMD_BIND = 1 << 1,    /* b */
	CONF_CMD_UDP = 1 << 2,     /* u */
	CONF_CMD_PING = 1 << 3,    /* p: parsed, never matches a request */
	CONF_CMD_TRACE = 1 << 4,   /* t: parsed, never matches a request */
};

enum conf_route_kind {
	ROUTE_DIRECT = 0,  /* noproxy, or no proxy entry matched */
	ROUTE_SOCKS4 = 4,
	ROUTE_SOCKS5 = 5,
};

/* One upstream SOCKS server of a socks4/socks5 line, as written. */
struct conf_upstream {
	char host[256];     /* IPv4/IPv6 literal or a name, resolved per use */
	uint16_t port;      /* default 1080 */
};

/* Server variables (grammar 6 and "Extensions").  Defaults are set by the
 * loader; `set` lines override them, the command line overrides both. */
struct conf_vars {
	unsigned neg_timeout_s;      /* SOCKS5_NEGTIMEOUT, default 30 */
	unsigned idle_timeout_min;   /* SOCKS5_TIMEOUT, default 15, 0 = none */
	unsigned max_child;          /* SOCKS5_MAXCHILD, default 1024 */
	unsigned shutdown_grace_s;   /* SOCKS5_SHUTDOWN_GRACE, default 30 */
	unsigned penalty_s;          /* SOCKS5_PENALTY: first block after a
	                              * worker crash, default 10; 0 = off */
	unsigned penalty_max_s;      /* SOCKS5_PENALTY_MAX, default 600 */
	unsigned penalty_table;      /* SOCKS5_PENALTY_TABLE, default 1024 */
	unsigned penalty_v6_prefix;  /* SOCKS5_PENALTY_V6PREFIX: bits of an
	                              * IPv6 client that make its penalty
	                              * key, default 64 */
	/* Limits (master/limits.c): 0 = none. */
	unsigned max_child_per_source; /* SOCKS5_MAXCHILD_PER_SOURCE */
	unsigned max_child_per_user;   /* SOCKS5_MAXCHILD_PER_USER */
	/* SOCKS5_MAXSTARTUPS start:rate:full, default 100:30:300; start 0
	 * = no early drop.  SOCKS5_MAXSTARTUPS_PER_SOURCE, default 64. */
	unsigned startups_start, startups_rate, startups_full;
	unsigned startups_per_source;
	bool noident;                /* SOCKS5_NOIDENT */
	bool demand_ident;           /* SOCKS5_DEMAND_IDENT */
	bool reversemap;             /* SOCKS5_REVERSEMAP */
	bool v4support;              /* SOCKS5_V4SUPPORT, default true */
	bool audit_required;         /* SOCKS5_AUDIT_REQUIRED, default true: a
	                              * permitted request whose record cannot
	                              * be written is refused */
	bool has_bindintfc;          /* SOCKS5_BINDINTFC given */
	char bindintfc[300];         /* "[host]:port" as written */
	char pwdfile[4096];          /* SOCKS5_PWDFILE, default /etc/socks5.passwd */
	bool has_pwdfile;            /* SOCKS5_PWDFILE given: authd checks u
	                              * against it instead of PAM */
	unsigned auth_timeout_s;     /* SOCKS5_AUTH_TIMEOUT, default 10 */
	unsigned auth_delay_max_s;   /* SOCKS5_AUTH_DELAY_MAX, default 4 */
	unsigned resolve_timeout_s;  /* SOCKS5_RESOLVE_TIMEOUT, default 10 */
	char hosts_allow[4096];      /* SOCKS5_HOSTS_ALLOW, default /etc/hosts.allow */
	char hosts_deny[4096];       /* SOCKS5_HOSTS_DENY, default /etc/hosts.deny */
	char pam_service[64];        /* SOCKS5_PAM_SERVICE, default "socks5" */
	char upstream_user[256];     /* SOCKS5_USER, "" = none */
	char upstream_passwd[256];   /* SOCKS5_PASSWD, "" = none */
	bool balance;                /* SOCKS5_BALANCE: shuffle proxy-lists */
	unsigned upstream_retry_s;   /* SOCKS5_UPSTREAM_RETRY: an upstream that
	                              * failed is skipped this long, default
	                              * 30; 0 = never skipped */
	/* RFC 1961 (method k; docs/socks5.conf-extensions.md).  Only authd
	 * reads the keytab; a worker never sees its path's contents. */
	char gss_keytab[4096];       /* SOCKS5_KEYTAB, default /etc/krb5.keytab */
	char gss_service[64];        /* SOCKS5_GSS_SERVICE, default "rcmd" */
	bool gss_strip_realm;        /* SOCKS5_GSS_STRIP_REALM: the user is the
	                              * principal's local name */
	uint8_t gss_protection;      /* SOCKS5_GSS_PROTECTION: CONF_GSS_PROT_*
	                              * bits the server accepts */
	/* SOCKS5_HELPER_USER, default "_socks5d": the resolver and the
	 * audit logger run as this user, never as the workers' -u user, so
	 * that neither can signal or trace a worker (issue 12 finding 4).
	 * Read at start only; used only when started as root. */
	char helper_user[33];
	uint16_t udp_port_lo;        /* SOCKS5_UDPPORTRANGE, 0-0 = any */
	uint16_t udp_port_hi;
	/* Added by the parser (conf_int.h users may rely on them too): */
	bool noreversemap;           /* SOCKS5_NOREVERSEMAP (no effect) */
	/* SOCKS5_BINDINTFC decoded: the address and port to listen on
	 * (0.0.0.0 when the host part is empty).  Meaningful only when
	 * has_bindintfc; the host part must be an address literal, so no
	 * lookup is needed.  bind_addr_len is 0 otherwise. */
	struct sockaddr_storage bind_addr;
	socklen_t bind_addr_len;
};

/* Diagnostic sink: called once per error or warning, in file order, with
 * the file's path as given to conf_load, the (first physical) line number
 * and a message without the "FILE:LINE: " prefix. */
typedef void conf_diag_fn(void *ctx, const char *file, unsigned line,
    bool is_error, const char *msg);

/*
 * Where values come from (grammar 4.4): command line > `set` in the file >
 * environment > built-in default.  conf_load and conf_parse apply the
 * last three of those themselves: every variable the file does not set is
 * taken from the environment variable of the same name when that is set
 * (a flag is on when the variable is set to "", 1, yes or on; an invalid
 * value is a configuration error reported at line 0 as "environment
 * variable NAME: ...").  SOCKS5_CONFFILE is the caller's business (-f).
 * The command line (-l over SOCKS5_BINDINTFC) is applied by the caller.
 *
 * Diagnostics that concern the file as a whole (no permit line, the
 * environment, an unreadable file) are reported with line 0, after every
 * line's own diagnostics.
 */

/*
 * Parse and compile the file at path.  On success returns 0 and *out owns a
 * new configuration (free with conf_free).  On any error returns ERR_CONFIG
 * (or ERR_SYS if the file cannot be read; the diag callback also reports
 * it), *out is NULL, and every error in the file has been reported through
 * diag (all of them, not just the first).  Warnings never fail the load.
 * diag may be NULL.  (Also: ERR_CONFIG for a path that is not a regular
 * file or is larger than 64 MiB, ERR_NOMEM when out of memory; each is
 * reported through diag at line 0.)
 */
int conf_load(const char *path, struct conf **out, conf_diag_fn *diag,
    void *ctx);

/* The same from a buffer (unit tests and the fuzzer); name is used in
 * diagnostics and in conf_name().  Does not touch the file system except
 * the services database (through NSS, for port names) and, when an
 * interface line needs this host's addresses, getifaddrs() (once). */
int conf_parse(const char *name, const void *buf, size_t len,
    struct conf **out, conf_diag_fn *diag, void *ctx);

/* Options for conf_parse_flags / conf_load_flags. */
enum conf_parse_flag {
	/* Do not require interface addresses to belong to this host (unit
	 * tests; checking a file meant for another machine).  Interface
	 * names are still resolved against this host's addresses. */
	CONF_PARSE_ASSUME_OWNED = 1 << 0,
	/* Ignore SOCKS5_* environment variables (tests, the fuzzer). */
	CONF_PARSE_NO_ENV = 1 << 1,
	/* The running daemon's reading (start and SIGHUP): a `set` of an
	 * unknown variable is a warning and the line is ignored, so a file
	 * written for a newer socks5d still loads.  Without the flag (-t,
	 * tests) it is an error, as grammar 8 lists it.  The Rules issue asks
	 * for exactly this split. */
	CONF_PARSE_UNKNOWN_VAR_WARNS = 1 << 2,
};

/* conf_parse / conf_load with CONF_PARSE_* flags (0 = the defaults). */
int conf_parse_flags(const char *name, const void *buf, size_t len,
    unsigned flags, struct conf **out, conf_diag_fn *diag, void *ctx);
int conf_load_flags(const char *path, unsigned flags, struct conf **out,
    conf_diag_fn *diag, void *ctx);

/*
 * The master execs a static session image (the forker and its workers)
 * that must work from exactly the configuration the master loaded, and
 * must not carry NSS (a static glibc's NSS dlopen()s libnss_*.so).  So
 * the master hands it the text it parsed with every port name and every
 * interface address already answered, in a memfd nobody can change any
 * more:
 *
 * conf_load_flags, and on success also *sealed: a sealed memfd (O_CLOEXEC)
 * holding what the session image needs to parse exactly this configuration
 * again: the path as given, the flags, the file's bytes, every port name
 * resolved while parsing with the port it got, and, when some interface
 * line needed this host's addresses, the list getifaddrs() gave (each
 * IPv4 and IPv6 address with its interface's name and, for IPv6, its
 * scope).  *sealed is -1 and *out NULL on any failure.  Fails as
 * conf_load_flags does, and also with ERR_CONFIG for a path longer than
 * 4095 bytes, unknown flag bits, a file naming more than 128 distinct
 * services, or interface lines to check on a host with more than 4096
 * IPv4 and IPv6 addresses (each at line 0), and ERR_SYS when the memfd
 * cannot be made.  A service whose port is 0 is unknown here.  The memfd
 * holds the file's bytes, so SOCKS5_PASSWD too: pass it only to the
 * image.
 */
int conf_load_sealed(const char *path, unsigned flags, struct conf **out,
    int *sealed, conf_diag_fn *diag, void *ctx);

/*
 * In the session image: parse what conf_load_sealed sealed.  Port names
 * come from the sealed table only (no NSS); the environment is read as in
 * the master (the image is exec'd with the master's environment).  Refuses
 * (ERR_PROTO) an fd that is not a memfd sealed against write, grow and
 * shrink, or whose contents do not decode.  Otherwise returns what
 * conf_parse would (ERR_SYS if fd cannot be read), with the master's
 * warnings again: diagnostics name the sealed path and its lines, a name
 * missing from the table is an unknown service.  Interface lines are
 * checked against the master's list only, never getifaddrs(): an image
 * started hours later, on a host whose addresses have changed since,
 * builds the interface rules the master built (and if the master's
 * getifaddrs failed, reports the same error).  Reads fd with pread from
 * offset 0 and does not close it.  SOCKS5_PWDFILE is not looked at again: the
 * master's load checked it.
 */
int conf_parse_sealed(int fd, struct conf **out, conf_diag_fn *diag,
    void *ctx);

/* Frees everything conf owns; NULL is accepted. */
void conf_free(struct conf *conf);

/* The variables in force. */
const struct conf_vars *conf_vars(const struct conf *conf);

/* In a process forked from the master, before it serves: wipe
 * SOCKS5_PASSWD from its copy of conf and of the environment, always
 * (unless_used false: authd, the resolver) or when no socks5 proxy line
 * could make it send the value (workers). */
void conf_forget_upstream_secret(const struct conf *conf, bool unless_used);

/* Why a file that holds secrets (SOCKS5_PWDFILE) must not be used: not a
 * regular file, not owned by root, or mode & 077 != 0.  NULL when it is
 * fine, else buf holding the reason (with the mode). */
struct stat;
const char *conf_secret_file_problem(const struct stat *st, char *buf,
    size_t size);

/* The file's base name ("socks5.conf"), for audit "rule" fields written as
 * "socks5.conf:12". */
const char *conf_name(const struct conf *conf);

/* The audit "rule" field for a line of this file: "socks5.conf:12", or
 * "default" for line 0 (no line matched).  Always NUL-terminated. */
void conf_rule_format(const struct conf *conf, unsigned line, char *buf,
    size_t size);

/* How many permit lines the file has (0 means every request is denied). */
size_t conf_permit_count(const struct conf *conf);

/* ---- The rule engine (conf/rules.c).  All lookups are pure functions of
 * the compiled configuration and their arguments: no DNS, no I/O. ---- */

/* The ban section (grammar 4.1): the line number of the first ban entry
 * matching the client's address and port, or 0 if none matches. */
unsigned rules_ban(const struct conf *conf, const struct sockaddr *client);

/* Whether peer (the TCP peer of an accepted connection) is a load balancer
 * listed in SOCKS5_PROXY_PROTOCOL, so that its connection must start with
 * a PROXY header; false for every peer when the variable is not set. */
bool rules_proxy_trusted(const struct conf *conf, const struct sockaddr *peer);

/*
 * The auth section (grammar 2 step 2, 4.2) for a client.  Fills methods[]
 * with the SOCKS5 method codes the server accepts from this client, in the
 * server's order of preference (0x00 none, 0x02 user/password; never 0x01),
 * at most max entries, and sets *n.  *line is the auth line that matched, 0
 * when the file has no auth line (then every supported method is offered,
 * but 0x00 only when some permit line could match a method-n request from
 * this client).  Returns ERR_DENIED when the file has auth lines and none
 * matches this client (*n is 0).
 *
 * Order: a matching auth line gives its own order; `-` stands for 0x02
 * then 0x00, minus those already listed (`n,-` is 0x00 0x02); `k` is 0x01
 * and is never part of `-` (it needs a keytab, so it is offered only
 * where named).  Without
 * auth lines the order is 0x02 then 0x00: a client that offers
 * user/password has credentials, and an authenticated session has a user
 * name that user-list lines can match, where choosing "none" would drop
 * it.  The worker picks the first of these the client also offered.
 * SOCKS4 requests are method n: allowed when 0x00 is in the list.
 */
int rules_auth(const struct conf *conf, const struct sockaddr *client,
    uint8_t *methods, size_t max, size_t *n, unsigned *line);

/* Whether some auth line offers method k (0x01): authd then loads
 * libgssapi_krb5, which no process maps otherwise. */
bool rules_offer_gssapi(const struct conf *conf);

/*
 * A destination as the client gave it, with what is known of it.
 *
 * Host patterns (grammar 5): `-` always matches; an address pattern matches
 * when addr is set and inside it; a name pattern (.domain or host.name)
 * matches when name is set and fits it (case-insensitive, one trailing dot
 * ignored).  So a request by name that was resolved (5.2) passes both name
 * and addr, a chained one (5.3) passes name only, a request by address
 * passes addr only.  A name that is an address literal ("10.1.2.3" sent as
 * a domain name) is compared as a name; convert it before calling if it
 * should count as an address.  AF_INET6 addresses of the form ::ffff:a.b.c.d
 * match IPv4 patterns.
 */
struct rules_dest {
	const char *name;             /* domain name sent by the client, or NULL */
	const struct sockaddr *addr;  /* the address sent, or the resolved one
	                               * (grammar 5.2), or NULL if unresolved */
	uint16_t port;                /* DST.PORT, host order */
	/* SOCKS5_REVERSEMAP hook (grammar 5.4): the forward-confirmed PTR name
	 * of addr, or NULL.  Consulted only when name is NULL and the file
	 * sets SOCKS5_REVERSEMAP; the caller does the lookups. */
	const char *ptr_name;
};

struct rules_route {
	enum conf_route_kind kind;
	unsigned line;                        /* 0 when no proxy entry matched */
	const struct conf_upstream *upstreams; /* kind != ROUTE_DIRECT */
	size_t n_upstreams;
};

/* How many upstreams the socks4/socks5 line at this line number lists; 0
 * when no proxy line starts there (the master checks upstream health
 * reports against it). */
size_t rules_route_upstreams(const struct conf *conf, unsigned line);

/* The proxy section (grammar 4.5, 5.1): matched with the name when the
 * client sent one (address patterns cannot match a name), else the
 * address.  Always succeeds; no match is ROUTE_DIRECT with line 0. */
void rules_route(const struct conf *conf, const struct rules_dest *dest,
    struct rules_route *route);

struct rules_request {
	const struct sockaddr *client;   /* address and source port */
	enum conf_auth method;           /* exactly one bit */
	enum conf_cmd cmd;               /* exactly one bit */
	struct rules_dest dest;
	const char *user;                /* authenticated or identd user, or NULL */
	/* SOCKS5_REVERSEMAP hook (grammar 5.5): the client's forward-confirmed
	 * PTR name, or NULL; name patterns on src-host match it only when the
	 * file sets SOCKS5_REVERSEMAP.  Without it they never match. */
	const char *client_name;
};

struct rules_verdict {
	bool permit;
	unsigned line;    /* the deciding line; 0 = no line matched (denied) */
};

/* The access-control section (grammar 4.6, 5): first matching permit/deny
 * line decides; no match denies with line 0. */
void rules_access(const struct conf *conf, const struct rules_request *req,
    struct rules_verdict *verdict);

/*
 * Could some permit line match a request from this client with this method
 * (any command, any destination, any user)?  Used to decide whether to
 * offer method 0x00 when the file has no auth line, and whether an identd
 * answer could change a decision (with_user: only lines that have a user
 * list count).
 *
 * Precisely: the lines are walked in order, considering only those whose
 * auth field allows method, whose src-host and src-port match the client
 * and whose command field allows c, b or u.  A line of that kind that would
 * decide every request of this client and method (command, destination,
 * ports and users all `-`) ends the walk: a permit answers true, a deny
 * false.  Otherwise, without with_user, any permit line answers true; with
 * with_user, any permit *or deny* line with a user list answers true
 * (grammar 2 step 3: an identd answer matters when a line with a user list
 * could match, whichever way it decides).  The answer errs towards true.
 * Source name patterns count as possible matches only under
 * SOCKS5_REVERSEMAP.
 */
bool rules_could_permit(const struct conf *conf, const struct sockaddr *client,
    enum conf_auth method, bool with_user);

/* The interface section (grammar 4.3): the local address to use towards a
 * peer.  Returns true and fills *local (port 0) when a line matches, false
 * when the kernel should choose.  peer_name may be NULL.
 *
 * The host pattern is matched like a destination (see rules_dest): address
 * patterns against peer, name patterns against peer_name.  A line whose
 * interface address cannot be used on a socket towards this peer is
 * skipped: an IPv6 interface address for an AF_INET peer, an IPv4 one for
 * a native IPv6 peer.  For an AF_INET6 peer ::ffff:a.b.c.d an IPv4
 * interface address is returned in its mapped AF_INET6 form, so that it
 * can be bound on the same dual-stack socket.  Otherwise *local has the
 * interface address's own family (AF_INET6 link-local with its scope). */
bool rules_interface(const struct conf *conf, const struct sockaddr *peer,
    const char *peer_name, uint16_t peer_port, struct sockaddr_storage *local);

#endif
