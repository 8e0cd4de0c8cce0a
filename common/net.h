/*
 * Socket address helpers shared by master and worker.
 */
#ifndef SOCKS5D_NET_H
#define SOCKS5D_NET_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* Room for "[ffff:...:ffff%scope]:65535". */
enum { NET_ADDRSTR_MAX = 80 };

/* "a.b.c.d:port" or "[v6]:port"; IPv4-mapped IPv6 is written as IPv4. */
void net_addr_format(const struct sockaddr *sa, char *buf, size_t size);

/* v's decimal digits (at most 20) written at p, unterminated; returns
 * the end.  No snprintf: see net_addr_format. */
char *net_put_decimal(char *p, uint64_t v);

/* An address written at p, unterminated, returning the end: "a.b.c.d"
 * for AF_INET (4 bytes at ip), "[v6]" for AF_INET6 (16 bytes; at most
 * INET6_ADDRSTRLEN + 1 bytes written).  No snprintf: see net.c. */
char *net_put_ip(char *p, int family, const uint8_t *ip);

/* n bytes of s into buf as snprintf would: cut to fit, always
 * terminated; nothing written when size is 0. */
void net_copy_cut(char *buf, size_t size, const char *s, size_t n);

/* The length of a sockaddr of its family (0 for an unknown family). */
socklen_t net_addr_len(const struct sockaddr *sa);

/* The port in host order (0 for an unknown family). */
uint16_t net_addr_port(const struct sockaddr *sa);

/*
 * Parse a numeric listen address: "a.b.c.d:port", "[v6]:port", ":port"
 * (0.0.0.0) or "port" alone (0.0.0.0).  No name lookups.  Returns 0,
 * ERR_PROTO for a malformed string, ERR_RANGE for a bad port.
 */
int net_parse_listen(const char *s, struct sockaddr_storage *ss,
    socklen_t *len);

/* An AF_INET (4 address bytes) or AF_INET6 (16) address with the port
 * (host order); the rest of ss zeroed. */
void net_addr_make(struct sockaddr_storage *ss, int family,
    const uint8_t *ip, uint16_t port);

/* Set the port (host order) of an AF_INET or AF_INET6 address. */
void net_addr_set_port(struct sockaddr_storage *ss, uint16_t port);

/* Whether a and b are the same host (ports ignored); an IPv4 address and
 * its IPv4-mapped IPv6 form are the same host. */
int net_addr_same_host(const struct sockaddr *a, const struct sockaddr *b);

/* 0.0.0.0 or :: (also ::ffff:0.0.0.0). */
int net_addr_is_any(const struct sockaddr *sa);

/* Set O_NONBLOCK on fd; 0 or ERR_SYS. */
int net_set_nonblock(int fd, int on);

/* Options of net_listen. */
enum net_listen_flag {
	NET_LISTEN_REUSEADDR = 1 << 0,  /* the daemon's own listeners */
	NET_LISTEN_V6ONLY = 1 << 1,     /* [::] must not also take IPv4 */
};

/*
 * A non-blocking, close-on-exec TCP socket bound to sa and listening with
 * the given backlog: the master's listeners (master/listen.c) and a
 * worker's BIND socket (worker/bind.c).  0, or ERR_SYS with errno set and
 * nothing left open.
 */
int net_listen(const struct sockaddr *sa, int backlog, unsigned flags,
    int *fd_out);

#endif
