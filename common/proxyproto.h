/*
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the
 * header a load balancer sends first on a connection to say which client
 * it carries.  A pure incremental codec over common/rd.h: no I/O, no
 * allocation, so the worker calls it again with more bytes after
 * ERR_SHORT, and the unit tests and tests/fuzz/fuzz_proxy.c drive it
 * directly.  Trust is not decided here: the caller only parses a header
 * from a peer the configuration lists (SOCKS5_PROXY_PROTOCOL).
 */
#ifndef SOCKS5D_PROXYPROTO_H
#define SOCKS5D_PROXYPROTO_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

struct rd;

enum {
	PP_V1_MAX = 107,        /* a v1 line with its CRLF (spec 2.1) */
	PP_V2_FIXED = 16,       /* signature, ver/cmd, family, length */
	/* The longest v2 header accepted, TLVs included.  The protocol
	 * allows 16 + 65535; what HAProxy sends (addresses, ALPN,
	 * authority, a unique id of at most 128 bytes, SSL details) fits
	 * in far less, and the worker's fixed input buffer must hold the
	 * whole header plus the SOCKS bytes pipelined after it. */
	PP_V2_MAX = 1024,
};

struct pp_header {
	int version;                   /* 1 or 2 */
	bool local;                    /* v2 LOCAL or v1 UNKNOWN: no client
	                                * (a health check) */
	struct sockaddr_storage src;   /* the client, when !local */
	struct sockaddr_storage dst;   /* where the client connected to */
	socklen_t addr_len;            /* of src and dst; 0 when local */
};

/* Which header the buffer starts with, judging by as many bytes as are
 * there: 1 or 2; ERR_SHORT while the bytes so far are a prefix of both or
 * of one; ERR_PROTO when they cannot start a PROXY header.  Consumes
 * nothing. */
int pp_detect(const struct rd *r);

/*
 * Parse one header at the reader's position.  0: *out is filled and the
 * header consumed.  ERR_SHORT: incomplete, nothing consumed.  ERR_PROTO:
 * malformed (wrong signature, version or command, a v1 line that breaks
 * the grammar, an address block shorter than its family needs, a TLV
 * running past the block).  ERR_NOSPACE: a v2 header longer than
 * PP_V2_MAX.  ERR_UNSUPPORTED: a PROXY command for a family other than
 * TCP over IPv4 or IPv6 (UDP, UNIX, UNSPEC), which a SOCKS server cannot
 * attribute to a client.
 */
int pp_parse(struct rd *r, struct pp_header *out);

#endif
