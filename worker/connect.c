#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "worker/helper_wrap.h"
#include "common/err.h"
#include "common/io.h"
#include "common/log.h"
#include "common/net.h"
#include "common/socks.h"
#include "conf/conf.h"
#include "worker/connect.h"

int
connect_resolve(int resolver_door, const struct socks_addr *dst,
    struct sockaddr_storage *addrs, size_t max, size_t *n,
    const struct timespec *deadline)
{
	socklen_t len;

	*n = 0;
	if (max == 0)
		return REP_GENERAL_FAILURE;
	if (dst->atyp != ATYP_DOMAIN) {
		/* Address literals never go through the resolver. */
		if (socks_addr_to_sockaddr(dst, &addrs[0], &len) != 0)
			return REP_ATYP_UNSUPPORTED;
		*n = 1;
		return 0;
	}
	/* The sandbox has no /etc and no open(): names are resolved by the
	 * resolver helper (authd/resolver.c). */
	return resolver_lookup(resolver_door, dst->name, dst->port, addrs, max,
	    n, deadline);
}

/* The SOCKS5 reply code for a connect(2) errno. */
static uint8_t
connect_errno_reply(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return REP_CONN_REFUSED;
	case ENETUNREACH:
	case ENETDOWN:
		return REP_NET_UNREACHABLE;
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ETIMEDOUT:
		/* RFC 1928 has no "timed out"; Dante and most clients read a
		 * silent host as unreachable. */
		return REP_HOST_UNREACHABLE;
	default:
		return REP_GENERAL_FAILURE;
	}
}

/* Bind to the interface section's choice for this peer, if any. */
static int
bind_interface(const struct conf *conf, int fd, const struct sockaddr *peer)
{
	struct sockaddr_storage local;
	int one = 1;

	if (!rules_interface(conf, peer, NULL, net_addr_port(peer), &local))
		return 0;
	if (local.ss_family != peer->sa_family) {
		/* An IPv4 interface line cannot source an IPv6 connection
		 * (and vice versa): let the kernel choose. */
		return 0;
	}
	/* Without this, bind() picks a port at once, and busy sessions run
	 * out of ephemeral ports that connect() could have shared between
	 * destinations (Dante's failure in the baseline). */
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one)) == -1)
		log_warn("IP_BIND_ADDRESS_NO_PORT");
	if (bind(fd, (struct sockaddr *)&local,
	    net_addr_len((struct sockaddr *)&local)) == -1)
		return errno;
	return 0;
}

int
connect_open(const struct conf *conf, const struct sockaddr *peer,
    const struct timespec *deadline, int *fd_out)
{
	socklen_t errlen;
	int fd, err, rc;

	*fd_out = -1;
	fd = socket(peer->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_TCP);
	if (fd == -1)
		return connect_errno_reply(errno);
	if ((err = bind_interface(conf, fd, peer)) != 0)
		goto fail;
	if (connect(fd, peer, net_addr_len(peer)) == 0)
		goto done;
	if (errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	if ((rc = io_wait(fd, POLLOUT, deadline)) != 0) {
		err = rc == ERR_TIMEOUT ? ETIMEDOUT : errno;
		goto fail;
	}
	errlen = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) == -1)
		err = errno;
	if (err != 0)
		goto fail;
done:
	*fd_out = fd;
	return 0;
fail:
	close(fd);
	return connect_errno_reply(err);
}
