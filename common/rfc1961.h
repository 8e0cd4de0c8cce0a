/*
 * RFC 1961 framing (GSS-API authentication for SOCKS5, method 0x01): the
 * codec only, no I/O and no GSS-API call, so that the worker, the unit
 * tests and the fuzzer run the same bytes through it.
 *
 *   +------+------+------+.......................+
 *   | ver  | mtyp | len  |       token           |
 *   | 0x01 | 0x01 | 2 B  |  up to 2^16 - 1 bytes |
 *   +------+------+------+.......................+
 *
 * mtyp 1: context establishment (section 3), 2: protection-level
 * negotiation (section 4), 3: per-message encapsulation (section 5).
 * The failure/abort message is two bytes, ver 0x01 mtyp 0xff, no length
 * (section 3.6).
 */
#ifndef SOCKS5D_RFC1961_H
#define SOCKS5D_RFC1961_H

#include <stddef.h>
#include <stdint.h>

struct rd;
struct wr;

enum {
	RFC1961_VERSION = 0x01,
	RFC1961_AUTH = 0x01,        /* mtyp: context establishment */
	RFC1961_PROTECT = 0x02,     /* mtyp: protection-level negotiation */
	RFC1961_ENCAP = 0x03,       /* mtyp: per-message encapsulation */
	RFC1961_ABORT = 0xff,       /* mtyp: failure (server) or abort (client) */
	RFC1961_HDR_LEN = 4,
	RFC1961_TOKEN_MAX = 65535,  /* what the 2-byte length can say */
	RFC1961_FAILURE_LEN = 2,
	/* Bounds on one exchange (authd enforces the same): Kerberos needs one
	 * round trip, SPNEGO two; more is an attacker keeping authd busy. */
	RFC1961_ROUNDS_MAX = 4,
};

/* Protection levels (section 4), the one octet of a message type 2 token
 * once unwrapped.  0 is the de-facto "no per-message protection" Dante and
 * curl send (RFC 1961 itself lists only 1-3). */
enum {
	RFC1961_PROT_NONE = 0,
	RFC1961_PROT_INTEGRITY = 1,
	RFC1961_PROT_CONFIDENTIALITY = 2,
	RFC1961_PROT_SELECTIVE = 3,
};

struct rfc1961_frame {
	uint8_t mtyp;
	const uint8_t *token;   /* into the reader's buffer; NULL for ABORT */
	size_t len;             /* 1..RFC1961_TOKEN_MAX; 0 for ABORT */
};

/*
 * One frame from r: 0 with *f filled (and r advanced past it); ERR_SHORT
 * when more bytes are needed; ERR_PROTO for a version other than 1, an
 * unknown mtyp, or an empty token (no message type carries one).
 */
int rfc1961_frame_parse(struct rd *r, struct rfc1961_frame *f);

/* Write one frame of type mtyp (1..3) with token (1..RFC1961_TOKEN_MAX
 * bytes); ERR_PROTO for bounds, ERR_NOSPACE when w is full. */
int rfc1961_frame_put(struct wr *w, uint8_t mtyp, const void *token,
    size_t len);

/* The two-byte failure message. */
int rfc1961_failure_put(struct wr *w);

#endif
