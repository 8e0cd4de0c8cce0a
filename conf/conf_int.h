/*
 * Internal to conf/: the compiled form of socks5.conf and the parser state
 * shared by the files that build it.  Nothing outside conf/ includes this
 * but the sealed format's unit test and fuzzer; the public contract is
 * conf/conf.h.
 *
 * Files: load.c (the master's reading of a file or a buffer; the only
 * conf/ file that uses NSS or getifaddrs), conf.c (parse, free, accessors, arena),
 * lines.c (physical and logical lines, fields, diagnostics), parse.c (one
 * function per entry kind), pattern.c (host and port patterns), lists.c
 * (auth, command, user and proxy lists), vars.c (set and the environment),
 * var_values.c (the set values that need parsing), iface.c (interface
 * addresses), shadow.c (lines that can never match), rules.c (the
 * matcher), sealed.c (the session image's copy of a loaded file).
 */
#ifndef SOCKS5D_CONF_INT_H
#define SOCKS5D_CONF_INT_H

#include <sys/socket.h>
#include <net/if.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define CONF_LINE_MAX 4096      /* logical line limit, grammar 1.2 */
#define CONF_FIELDS_MAX 8       /* keyword + the 7 fields of permit/deny */
#define CONF_FILE_MAX (64u << 20) /* conf_load refuses larger files */
#define CONF_NAME_MAX 253       /* longest DNS name without the final dot */
#define CONF_USER_MAX 255       /* RFC 1929 ULEN */
/* Every CONF_PARSE_* bit (a sealed configuration refuses any other). */
#define CONF_PARSE_KNOWN (CONF_PARSE_ASSUME_OWNED | CONF_PARSE_NO_ENV | \
	CONF_PARSE_UNKNOWN_VAR_WARNS)

/*
 * An address in one 128-bit space: IPv4 is stored as the IPv4-mapped IPv6
 * address ::ffff:a.b.c.d (RFC 4291 2.5.5.2).  IPv4 patterns become masks in
 * that space, so an AF_INET client and an AF_INET6 client connecting as
 * ::ffff:a.b.c.d match the same IPv4 patterns with one comparison.  The two
 * words hold the bytes in network order as laid out in memory; only AND and
 * equality are applied to them, so host byte order does not matter.
 */
struct naddr {
	uint64_t w[2];
};

enum hostpat_kind {
	HP_ANY = 0,     /* -, or NEC's ADDR/a: anything, names and unresolved */
	HP_ADDR,        /* addr/mask in the 128-bit space */
	HP_NAME,        /* exact host name */
	HP_SUFFIX,      /* .domain.suffix, stored with its leading dot */
};

#define HP_NONCONTIG 0xff  /* prefix_len of a non-contiguous mask */

struct hostpat {
	uint8_t kind;
	uint8_t prefix_len;   /* HP_ADDR: mask length 0-128, or HP_NONCONTIG */
	uint16_t name_len;    /* HP_NAME, HP_SUFFIX */
	const char *name;     /* lower case, NUL-terminated, in the arena */
	struct naddr addr;    /* HP_ADDR: already ANDed with mask */
	struct naddr mask;
};

/* Inclusive port range; "-" is 0-65535. */
struct portpat {
	uint16_t lo, hi;
};

/* A user list; n == 0 means "-" or absent: any user, including none. */
struct userlist {
	const char **names;   /* arena */
	size_t n;
};

struct ban_line {
	unsigned line;
	struct hostpat src;
	struct portpat sport;
};

#define AUTH_METHODS_MAX 3   /* 0x01, 0x02 and 0x00 are all we offer */

struct auth_line {
	unsigned line;
	struct hostpat src;
	struct portpat sport;
	uint8_t n_methods;
	uint8_t methods[AUTH_METHODS_MAX];  /* SOCKS5 codes, preference order */
};

struct iface_line {
	unsigned line;
	struct hostpat peer;
	struct portpat port;
	sa_family_t family;    /* AF_INET or AF_INET6: of the local address */
	struct naddr local;    /* AF_INET: mapped form */
	uint32_t scope_id;     /* AF_INET6 link-local: the owning interface */
};

struct proxy_line {
	unsigned line;
	enum conf_route_kind kind;
	struct hostpat dst;
	struct portpat dport;
	struct conf_upstream *upstreams;   /* arena */
	size_t n_upstreams;
};

#define CONF_CMD_REQUEST (CONF_CMD_CONNECT | CONF_CMD_BIND | CONF_CMD_UDP)
#define CONF_CMD_ALL (CONF_CMD_REQUEST | CONF_CMD_PING | CONF_CMD_TRACE)
#define CONF_AUTH_ALL (CONF_AUTH_NONE | CONF_AUTH_GSSAPI | CONF_AUTH_USERPASS)

struct acl_line {
	unsigned line;
	bool permit;
	uint8_t auth;          /* enum conf_auth bits */
	uint8_t cmd;           /* enum conf_cmd bits */
	struct portpat sport, dport;
	struct hostpat src, dst;
	struct userlist users;
};

struct arena_chunk;

struct conf {
	char *name;                  /* base name, for audit "rule" fields */
	struct conf_vars vars;
	struct ban_line *bans;
	size_t n_bans, cap_bans;
	struct auth_line *auths;
	size_t n_auths, cap_auths;
	struct iface_line *ifaces;
	size_t n_ifaces, cap_ifaces;
	struct proxy_line *proxies;
	size_t n_proxies, cap_proxies;
	struct acl_line *acls;
	size_t n_acls, cap_acls;
	size_t n_permits;
	/* SOCKS5_PROXY_PROTOCOL: the load balancers whose connections must
	 * start with a PROXY header (addresses and masks only). */
	struct hostpat *lbs;         /* arena */
	size_t n_lbs;
	struct arena_chunk *arena;   /* names, user lists, upstreams */
};

/* ---- conf.c: parsing and allocation ---- */

/* How a parse turns a TCP service name in a port (grammar 3.2, and the
 * ports of SOCKS5_BINDINTFC, SOCKS5_UDPPORTRANGE and upstreams) into a
 * number: true and *port (0-65535) when name is known.  name is
 * NUL-terminated and already passed pat_service_name_ok.  The master asks
 * NSS (load.c); the session image only the table it was handed (sealed.c),
 * for a static binary must not load NSS modules. */
typedef bool conf_service_fn(void *ctx, const char *name, unsigned *port);
struct conf_services {
	conf_service_fn *fn;
	void *ctx;
};

/* One address of this host as iface.c reads it: an AF_INET or AF_INET6
 * entry of getifaddrs(), its interface's name (NUL-terminated; a name no
 * interface line could give may be kept as "?", see load.c), the address
 * (AF_INET: 4 bytes, the other 12 zero) and, for AF_INET6, its scope id
 * (binding a link-local address needs it; 0 for AF_INET). */
struct conf_ifaddr {
	char name[IFNAMSIZ];
	sa_family_t family;
	uint8_t addr[16];
	uint32_t scope_id;
};

/* This host's addresses, getifaddrs()'s entries in its order, or the
 * errno it failed with (error != 0: then n is 0). */
struct conf_iflist {
	int error;
	size_t n;
	const struct conf_ifaddr *v;
};

/* How a parse gets the list its interface lines are checked against:
 * called at most once per parse, and only when a line needs it.  The
 * master reads the host (load.c); the session image gets what the master
 * read, and nothing else (sealed.c), so that both parse the same however
 * much later the image starts.  The list lives until the caller of
 * parse_common releases the source.  NULL: this parse has no list. */
typedef const struct conf_iflist *conf_ifaddrs_fn(void *ctx);
struct conf_ifaddrs {
	conf_ifaddrs_fn *fn;
	void *ctx;
};

/* The parser behind every entry point: file is the path or name as given
 * (diagnostics; its base name becomes conf_name), buf[0..len) the text,
 * world_readable whether the file's mode lets group or others read it (a
 * SOCKS5_PASSWD line then warns), services the port-name lookup for this
 * parse (NULL: every name is an unknown service), ifaddrs the source of
 * this host's addresses (NULL: an interface line that needs them is an
 * error).  Returns 0 and *out, or ERR_CONFIG / ERR_NOMEM with *out NULL,
 * as conf_parse does. */
int parse_common(const char *file, const void *buf, size_t len,
    unsigned flags, bool world_readable, const struct conf_services *services,
    const struct conf_ifaddrs *ifaddrs, struct conf **out, conf_diag_fn *diag,
    void *ctx);

/* Zeroed, suitably aligned bytes that live until conf_free; NULL when out
 * of memory. */
void *conf_alloc(struct conf *conf, size_t size);
/* A NUL-terminated copy of s[0..len), lower-cased if fold. */
char *conf_strdup(struct conf *conf, const char *s, size_t len, bool fold);
/* Make index n of a growing array valid (*cap > n); ERR_NOMEM on failure
 * or size overflow. */
int conf_grow(void **arr, size_t *cap, size_t n, size_t elem_size);

/* ---- lines.c: logical lines, fields, diagnostics ---- */

struct field {
	const char *s;    /* NUL-terminated inside the logical line buffer */
	size_t len;
};

struct shadow;

/* Variables the parser tracks; VAR_COUNT bounds the table in vars.c. */
#define VAR_COUNT 64

struct parser {
	struct conf *conf;
	const char *file;        /* as given, for diagnostics */
	conf_diag_fn *diag;
	void *diag_ctx;
	unsigned flags;          /* CONF_PARSE_* */
	unsigned line;           /* first physical line of the current entry */
	unsigned n_errors;
	bool nomem;              /* an allocation failed: the load fails */
	bool has_chain;          /* some socks4/socks5 line exists (pass 1) */
	bool world_readable;     /* conf_load: the mode lets group or others read */
	const struct conf_ifaddrs *ifaddrs;   /* parse_common's source */
	bool iflist_asked;       /* ifaddrs was called (once per parse) */
	const struct conf_iflist *iflist;     /* what it answered */
	unsigned var_line[VAR_COUNT];   /* where the file set each variable */
	struct shadow *shadow[5];       /* one per section, see shadow.c */
};

__attribute__((format(printf, 2, 3)))
void parser_error(struct parser *p, const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
void parser_warn(struct parser *p, const char *fmt, ...);
/* The same at an explicit line (0: the file as a whole). */
__attribute__((format(printf, 4, 5)))
void parser_diag_at(struct parser *p, unsigned line, bool is_error,
    const char *fmt, ...);

/* s made safe to print inside quotes: control and non-ASCII bytes become
 * '?', long values are cut with "...".  Returns out. */
#define QUOTE_MAX 100
const char *conf_quote(char out[QUOTE_MAX], const char *s);

/* Iterate over the logical lines of buf: calls fn once per entry (non-empty
 * after comments) with its fields; reports over-long lines and NUL bytes
 * itself when report is true.  Returns 0 or the first negative value fn
 * returned that is not ERR_CONFIG (the parse carries on past ERR_CONFIG so
 * that every error is reported). */
typedef int line_fn(struct parser *p, const struct field *fields,
    size_t n_fields);
int lines_each(struct parser *p, const uint8_t *buf, size_t len, bool report,
    line_fn *fn);

/* Case-insensitive comparison of a field with a lower-case keyword. */
bool field_is(const struct field *f, const char *lower_word);

/* ---- parse.c ---- */
int parse_entry(struct parser *p, const struct field *fields, size_t n);
int parse_scan_entry(struct parser *p, const struct field *fields, size_t n);
void parse_finish(struct parser *p);

/* ---- pattern.c ---- */
int pat_host(struct parser *p, const struct field *f, struct hostpat *out);
int pat_port(struct parser *p, const struct field *f, struct portpat *out);
/* A port number or TCP service name (no ranges); 0 is refused. */
int pat_port_value(const char *s, size_t len, uint16_t *out);
/* Install next as the port-name lookup of the parse in progress (NULL:
 * none) and return the one it replaces; parse_common puts that back. */
const struct conf_services *pat_services_swap(
    const struct conf_services *next);
/* What may be a service name: 1-63 bytes of [A-Za-z0-9._+-], not all
 * digits. */
#define CONF_SERVICE_NAME_MAX 63
bool pat_service_name_ok(const char *s, size_t len);
/* Strict IPv4 dotted quad (leading zeros are decimal, grammar 3.1). */
bool pat_ipv4(const char *s, size_t len, uint32_t *out);
/* A host name: labels of [A-Za-z0-9_-], 1-63 bytes, at most 253 bytes in
 * all, the last label not all digits (so 10 or 1.2.3 are never names). */
bool pat_hostname_ok(const char *s, size_t len);
void naddr_from_v4(struct naddr *a, uint32_t v4);        /* v4 host order */
void naddr_from_v6(struct naddr *a, const uint8_t v6[16]);
void naddr_prefix(struct naddr *mask, unsigned prefix_len); /* 0-128 */
bool naddr_is_v4(const struct naddr *a);

/* ---- lists.c ---- */
struct auth_spec {
	uint8_t mask;                         /* enum conf_auth bits */
	uint8_t n_methods;
	uint8_t methods[AUTH_METHODS_MAX];    /* SOCKS5 codes, in order */
};
int pat_auth(struct parser *p, const struct field *f, struct auth_spec *out);
int pat_cmd(struct parser *p, const struct field *f, uint8_t *out);
int pat_users(struct parser *p, const struct field *f, struct userlist *out);
int pat_proxies(struct parser *p, const struct field *f,
    struct conf_upstream **out, size_t *n);

/* ---- vars.c ---- */
void vars_defaults(struct conf_vars *v);
int vars_set(struct parser *p, const struct field *fields, size_t n);
/* Apply the environment to the variables the file did not set. */
void vars_from_env(struct parser *p);

/* ---- var_values.c ---- */
/* 1 to cap - 1 printable bytes, no '#'. */
bool var_text_ok(const char *s, size_t len, size_t cap);
/* 1 to cap - 1 bytes of letters, digits, '.', '_' and '-'. */
bool var_name_ok(const char *s, size_t len, size_t cap);
/* 1|0|yes|no|on|off, any case. */
bool var_flag_value(const char *s, bool *on);
/* SOCKS5_BINDINTFC, SOCKS5_UDP_PORTRANGE (len bytes of s), and
 * SOCKS5_MAXSTARTUPS, SOCKS5_GSS_PROTECTION, into v. */
bool var_bindintfc_parse(const char *s, size_t len, struct conf_vars *v);
bool var_portrange_parse(const char *s, size_t len, struct conf_vars *v);
bool var_startups_parse(const char *s, struct conf_vars *v);
bool var_gssprot_parse(const char *s, size_t len, struct conf_vars *v);

/* ---- iface.c ---- */
int iface_resolve(struct parser *p, const struct field *f,
    struct iface_line *out);
void iface_release(struct parser *p);

/* ---- shadow.c ---- */
enum shadow_section { SH_BAN, SH_AUTH, SH_IFACE, SH_PROXY, SH_ACL,
	SH_COUNT };
/* Warn when the newest line of section s can never match because an
 * earlier line covers it; then index it.  ERR_NOMEM only. */
int shadow_add(struct parser *p, enum shadow_section s);
void shadow_release(struct parser *p);
bool hostpat_covers(const struct hostpat *wide, const struct hostpat *narrow);

/* ---- sealed.c: what conf_load_sealed hands the session image ---- */

/* 128 distinct port names: more than any configuration writes (Debian's
 * /etc/services has some 220 TCP entries in all), and the table stays a
 * fixed 8 KiB array the image searches linearly.  A file that needs more
 * fails conf_load_sealed at line 0. */
#define CONF_SEALED_SVC_MAX 128
#define CONF_SEALED_PATH_MAX 4095   /* PATH_MAX less its NUL */
/* 4096 addresses of this host.  256 would be too few: each container's
 * veth on a container host adds an IPv6 link-local address, so a host
 * running a few hundred containers has more.  4096 costs the image a
 * fixed 160 KiB array (malloc'd, as the rest of struct conf_sealed) and
 * each interface line a linear walk of at most 4096 entries.  A host
 * with more fails conf_load_sealed at line 0, and only when some line
 * asked for the list. */
#define CONF_SEALED_IF_MAX 4096

/* What the sealed configuration says of getifaddrs(). */
enum conf_sealed_if {
	SEALED_IF_NONE = 0,     /* no line asked for the list */
	SEALED_IF_LIST = 1,     /* the list, in n_if and ifs */
	SEALED_IF_FAILED = 2,   /* getifaddrs failed with if_error */
};

struct conf_sealed_svc {
	char name[CONF_SERVICE_NAME_MAX + 1];
	uint16_t port;                  /* 1-65535 */
};

/* A decoded (or to be encoded) sealed configuration. */
struct conf_sealed {
	unsigned flags;                 /* CONF_PARSE_* of the master's load */
	bool world_readable;            /* the file's mode, for the warning */
	char path[CONF_SEALED_PATH_MAX + 1];    /* as given to conf_load */
	size_t n_svc;
	struct conf_sealed_svc svc[CONF_SEALED_SVC_MAX];
	enum conf_sealed_if if_state;
	int if_error;                   /* SEALED_IF_FAILED: 1-4095 */
	size_t n_if;                    /* SEALED_IF_LIST: 0-4096 */
	struct conf_ifaddr ifs[CONF_SEALED_IF_MAX];
	const uint8_t *file;            /* decoded: inside the input buffer */
	size_t file_len;
};

/* The encoding's exact size, and the encoding into buf[0..cap): 0 and
 * *len, ERR_RANGE when s holds what the decoder would refuse (so every
 * encoding decodes), ERR_NOSPACE when cap is short. */
size_t conf_sealed_size(const struct conf_sealed *s);
int conf_sealed_encode(const struct conf_sealed *s, void *buf, size_t cap,
    size_t *len);
/* buf[0..len) into *out (file points into buf); ERR_PROTO for anything
 * but an encoding of the format sealed.c describes. */
int conf_sealed_decode(const void *buf, size_t len, struct conf_sealed *out);
/* What the format carries as an interface's name: 1 to IFNAMSIZ - 1
 * bytes, each printable and not a space (Linux names have none). */
bool conf_ifaddr_name_ok(const char *s, size_t len);
/* The port s's table gives name: true and *port, or false. */
bool conf_sealed_lookup(const struct conf_sealed *s, const char *name,
    unsigned *port);
/* Parse s's text as conf_load parsed it, port names from s's table only
 * and this host's addresses from s's list only (s is not changed). */
int conf_sealed_parse(struct conf_sealed *s, struct conf **out,
    conf_diag_fn *diag, void *ctx);

#endif
