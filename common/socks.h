/*
 * SOCKS 4, 4a and 5 wire codec (RFC 1928, RFC 1929, the NEC SOCKS4 and 4A
 * notes).  Pure functions over the bounded reader and writer: no I/O, no
 * allocation, so the same code is unit-tested, fuzzed and run by workers.
 *
 * Parsers are incremental: ERR_SHORT means "call again with more bytes";
 * on success the reader has consumed exactly the message, so bytes after it
 * (pipelined data) stay in the caller's buffer.  ERR_PROTO: malformed.
 */
#ifndef SOCKS5D_SOCKS_H
#define SOCKS5D_SOCKS_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct rd;
struct wr;

enum socks_version {
	SOCKS_V4 = 4,
	SOCKS_V5 = 5,
};

/* RFC 1928 section 3 method codes. */
enum socks5_method {
	METHOD_NONE = 0x00,
	METHOD_GSSAPI = 0x01,
	METHOD_USERPASS = 0x02,
	METHOD_NO_ACCEPTABLE = 0xff,
};

/* RFC 1928 section 4 command codes; SOCKS4 uses 1 and 2 as well. */
enum socks_cmd {
	CMD_CONNECT = 0x01,
	CMD_BIND = 0x02,
	CMD_UDP_ASSOCIATE = 0x03,
};

/* RFC 1928 section 5 address types. */
enum socks_atyp {
	ATYP_IPV4 = 0x01,
	ATYP_DOMAIN = 0x03,
	ATYP_IPV6 = 0x04,
};

/* RFC 1928 section 6 reply codes. */
enum socks5_reply {
	REP_SUCCEEDED = 0,
	REP_GENERAL_FAILURE = 1,
	REP_NOT_ALLOWED = 2,
	REP_NET_UNREACHABLE = 3,
	REP_HOST_UNREACHABLE = 4,
	REP_CONN_REFUSED = 5,
	REP_TTL_EXPIRED = 6,
	REP_CMD_UNSUPPORTED = 7,
	REP_ATYP_UNSUPPORTED = 8,
};

/* SOCKS4 reply codes (CD field of the reply). */
enum socks4_reply {
	REP4_GRANTED = 90,
	REP4_REJECTED = 91,
	REP4_NO_IDENTD = 92,
	REP4_IDENT_MISMATCH = 93,
};

/* RFC 1929: the sub-negotiation version, and the status that means success. */
enum { USERPASS_VERSION = 0x01, USERPASS_SUCCESS = 0x00 };

/* Protocol bounds that size our fixed buffers (STYLE 2: no malloc). */
enum {
	SOCKS_NAME_MAX = 255,          /* RFC 1928 domain, RFC 1929 name/password */
	SOCKS4_USERID_MAX = 255,       /* ours; NEC sets none */
	SOCKS5_REPLY_MAX = 4 + 1 + 255 + 2,
	SOCKS4_REPLY_LEN = 8,
};

/* A destination as the client wrote it. */
struct socks_addr {
	uint8_t atyp;                      /* enum socks_atyp */
	uint8_t ip[16];                    /* 4 bytes for IPv4, 16 for IPv6 */
	char name[SOCKS_NAME_MAX + 1];     /* ATYP_DOMAIN, NUL-terminated */
	uint16_t port;                     /* host order */
};

struct socks5_greeting {
	uint8_t n_methods;
	uint8_t methods[255];
};

struct socks_request {
	uint8_t version;                   /* 4 or 5 */
	uint8_t cmd;                       /* raw CMD / CD byte */
	struct socks_addr dst;
	char userid[SOCKS4_USERID_MAX + 1]; /* SOCKS4 USERID; "" for SOCKS5 */
};

struct socks5_userpass {
	char user[SOCKS_NAME_MAX + 1];
	char pass[SOCKS_NAME_MAX + 1];
};

/* First byte of a connection: SOCKS_V4, SOCKS_V5, ERR_SHORT or ERR_PROTO. */
int socks_peek_version(const struct rd *r);

/* RFC 1928 method selection: VER=5 NMETHODS METHODS[NMETHODS].  NMETHODS 0
 * is malformed (a client must offer something). */
int socks5_greeting_parse(struct rd *r, struct socks5_greeting *g);

/*
 * RFC 1928 request: VER=5 CMD RSV ATYP DST.ADDR DST.PORT.  Any CMD byte is
 * returned (the caller answers 7 for what it does not serve).  An unknown
 * ATYP gives ERR_UNSUPPORTED (answer 8): its length is unknown, so nothing
 * after it can be read.  A domain name must be 1..255 bytes with no NUL.
 */
int socks5_request_parse(struct rd *r, struct socks_request *req);

/*
 * SOCKS4/4a request: VN=4 CD DSTPORT DSTIP USERID NUL, and for 4a (DSTIP
 * 0.0.0.x, x != 0) HOSTNAME NUL.  USERID is at most SOCKS4_USERID_MAX bytes
 * and the host name 1..255, else ERR_PROTO.  A 4a request yields
 * ATYP_DOMAIN, a plain one ATYP_IPV4.
 */
int socks4_request_parse(struct rd *r, struct socks_request *req);

/* RFC 1929 request: VER=1 ULEN UNAME PLEN PASSWD; ULEN >= 1, no NUL bytes. */
int socks5_userpass_parse(struct rd *r, struct socks5_userpass *up);

/* RFC 1928 section 7, the header of a UDP datagram: RSV(2) FRAG ATYP
 * DST.ADDR DST.PORT, then the data.  A datagram is whole, so ERR_SHORT
 * means truncated (malformed) here; an unknown ATYP is ERR_UNSUPPORTED.
 * *frag is returned for the caller to drop fragments (socks5d does not
 * reassemble, as RFC 1928 allows). */
int socks5_udp_parse(struct rd *r, uint8_t *frag, struct socks_addr *dst);

/* The header for a datagram from `from` going back to the client. */
int socks5_udp_put(struct wr *w, const struct sockaddr *from);

/* Encoders.  bound may be NULL (0.0.0.0:0); an AF_INET6 address that is an
 * IPv4-mapped one is written as IPv4. */
int socks5_method_reply_put(struct wr *w, uint8_t method);
int socks5_userpass_reply_put(struct wr *w, uint8_t status);
int socks5_reply_put(struct wr *w, uint8_t rep, const struct sockaddr *bound);
/* SOCKS4 replies carry only IPv4: any other bound address becomes 0.0.0.0
 * with the port kept. */
int socks4_reply_put(struct wr *w, uint8_t rep, const struct sockaddr *bound);

/* "host:port" as the client asked ("[v6]:port" for IPv6), for audit records
 * and logs; always NUL-terminated, truncated if buf is too small. */
void socks_addr_format(const struct socks_addr *a, char *buf, size_t size);

/* The sockaddr for an IPv4/IPv6 destination; ERR_PROTO for ATYP_DOMAIN. */
int socks_addr_to_sockaddr(const struct socks_addr *a,
    struct sockaddr_storage *ss, socklen_t *len);

#endif
