/*
 * The client side of SOCKS 4/4a/5 (RFC 1928, RFC 1929, the NEC notes):
 * what a worker says to an upstream SOCKS server when a socks4/socks5 line
 * chains a request, and the parsers for what the upstream answers.  Pure
 * functions over the bounded reader and writer, like common/socks.h: an
 * upstream is as untrusted as a client, so its replies are parsed here and
 * fuzzed (tests/fuzz/fuzz_upstream.c).
 *
 * Parsers are incremental: ERR_SHORT means "call again with more bytes" and
 * leaves the cursor alone; on success exactly the message is consumed, so
 * bytes the upstream sent after it (a server banner relayed after CONNECT)
 * stay in the caller's buffer.  ERR_PROTO: malformed, including a wrong
 * version, an unknown or oversized address type.
 */
#ifndef SOCKS5D_SOCKS_CLIENT_H
#define SOCKS5D_SOCKS_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/socks.h"

struct rd;
struct wr;

/* VER=5 NMETHODS METHODS: 0x00, and 0x02 too when userpass. */
int socks5_greeting_put(struct wr *w, bool userpass);

/* RFC 1929 request; user 1..255 bytes, pass 0..255 (else ERR_RANGE). */
int socks5_userpass_put(struct wr *w, const char *user, const char *pass);

/* RFC 1928 request with the destination as the client sent it: a name
 * stays a name (ATYP 3), an address stays an address. */
int socks5_request_put(struct wr *w, uint8_t cmd, const struct socks_addr *dst);

/* SOCKS4 request for an IPv4 destination, SOCKS4a (DSTIP 0.0.0.1, the name
 * after USERID) for a name; an IPv6 destination cannot be said in SOCKS4
 * (ERR_UNSUPPORTED). */
int socks4_request_put(struct wr *w, uint8_t cmd, const struct socks_addr *dst,
    const char *userid);

/* Method selection reply: VER=5 METHOD. */
int socks5_method_reply_parse(struct rd *r, uint8_t *method);

/* RFC 1929 status reply: VER=1 STATUS (0 = success). */
int socks5_userpass_reply_parse(struct rd *r, uint8_t *status);

/* RFC 1928 reply: VER=5 REP RSV ATYP BND.ADDR BND.PORT.  A domain BND.ADDR
 * must be 1..255 bytes with no NUL; an unknown ATYP is ERR_PROTO (its
 * length is unknown, so nothing after it could be trusted). */
int socks5_reply_parse(struct rd *r, uint8_t *rep, struct socks_addr *bnd);

/* SOCKS4 reply: VN=0 CD DSTPORT DSTIP (8 bytes); bnd is ATYP_IPV4. */
int socks4_reply_parse(struct rd *r, uint8_t *rep, struct socks_addr *bnd);

/* An upstream's SOCKS4 CD as the SOCKS5 REP given to our client: 90 is
 * success, 92/93 (identd) are "not allowed", 91 and anything else is a
 * general failure.  (The other way, session_reply maps every SOCKS5
 * failure to 91.) */
uint8_t socks4_rep_to_5(uint8_t cd);

#endif
