/*
 * The master's side of loading: open and read socks5.conf (conf_load), or
 * take a buffer (conf_parse: tests, the fuzzer), and parse it with port
 * names looked up in the services database and interface lines checked
 * against getifaddrs(); conf_load_sealed also seals what it read, the
 * names it resolved and the addresses it checked against, for the
 * session image (sealed.c defines the format).  This is the only conf/ file
 * that calls NSS: the static session image links the rest of conf/ and
 * must not pull in getservbyname_r, which a static glibc serves by
 * dlopen()ing libnss_*.so.  It is also the only one that calls
 * getifaddrs: not NSS, but the image must not read the host's addresses
 * of its own, hours after the master did, and parse other rules.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/io.h"
#include "conf/conf_int.h"

/* getservbyname_r(name, "tcp"): the reentrant form, so that loading does
 * not disturb any other user of the static servent. */
static bool
nss_service(void *ctx, const char *name, unsigned *port)
{
	char buf[2048];
	struct servent ent, *res = NULL;

	(void)ctx;
	if (getservbyname_r(name, "tcp", &ent, buf, sizeof(buf), &res) != 0 ||
	    res == NULL)
		return false;
	*port = ntohs((uint16_t)res->s_port);
	return true;
}

static const struct conf_services nss_services = { nss_service, NULL };

/* This host's addresses for one parse: getifaddrs() when a line first
 * needs them, its AF_INET and AF_INET6 entries copied into v, which lives
 * until host_release (conf_load_sealed seals it after the parse). */
struct host_ifaddrs {
	bool read;                  /* the parse asked for the list */
	struct conf_iflist list;
	struct conf_ifaddr *v;
};

/* One getifaddrs entry as iface.c reads it; false for any other family. */
static bool
ifaddr_copy(const struct ifaddrs *ifa, struct conf_ifaddr *out)
{
	size_t name_len;

	if (ifa->ifa_addr == NULL)
		return false;
	if (ifa->ifa_addr->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, ifa->ifa_addr, sizeof(sin));
		memcpy(out->addr, &sin.sin_addr, 4);
	} else if (ifa->ifa_addr->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, ifa->ifa_addr, sizeof(sin6));
		memcpy(out->addr, &sin6.sin6_addr, 16);
		out->scope_id = sin6.sin6_scope_id;
	} else {
		return false;
	}
	out->family = ifa->ifa_addr->sa_family;
	/* An interface's name (or an IPv4 label such as eth0:1) is at most
	 * 15 bytes, but Linux lets it hold control and non-ASCII bytes.  One
	 * the sealed format cannot carry becomes "?": iface.c's ifname_ok
	 * refuses '?' as it refuses every byte outside [A-Za-z0-9_.:@-], so
	 * no line can name either, in the master or the image, and the
	 * entry's address still counts. */
	name_len = ifa->ifa_name != NULL ? strnlen(ifa->ifa_name, IFNAMSIZ) :
	    0;
	if (ifa->ifa_name != NULL &&
	    conf_ifaddr_name_ok(ifa->ifa_name, name_len))
		memcpy(out->name, ifa->ifa_name, name_len);
	else
		out->name[0] = '?';
	return true;
}

static const struct conf_iflist *
host_ifaddrs(void *ctx)
{
	struct host_ifaddrs *h = ctx;
	struct ifaddrs *list, *ifa;
	size_t n = 0;

	h->read = true;
	if (getifaddrs(&list) != 0) {
		h->list.error = errno != 0 ? errno : EIO;
		return &h->list;
	}
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next)
		n++;
	if (n > 0 && (h->v = calloc(n, sizeof(*h->v))) == NULL) {
		freeifaddrs(list);
		h->list.error = ENOMEM;
		return &h->list;
	}
	n = 0;
	for (ifa = list; ifa != NULL; ifa = ifa->ifa_next)
		if (ifaddr_copy(ifa, &h->v[n]))
			n++;
	freeifaddrs(list);
	h->list.n = n;
	h->list.v = h->v;
	return &h->list;
}

static void
host_release(struct host_ifaddrs *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int
conf_parse_flags(const char *name, const void *buf, size_t len,
    unsigned flags, struct conf **out, conf_diag_fn *diag, void *ctx)
{
	struct host_ifaddrs host = { 0 };
	const struct conf_ifaddrs ifaddrs = { host_ifaddrs, &host };
	int rc;

	if (buf == NULL)
		len = 0;
	rc = parse_common(name, buf, len, flags, false, &nss_services,
	    &ifaddrs, out, diag, ctx);
	host_release(&host);
	return rc;
}

int
conf_parse(const char *name, const void *buf, size_t len, struct conf **out,
    conf_diag_fn *diag, void *ctx)
{
	return conf_parse_flags(name, buf, len, 0, out, diag, ctx);
}

/* Read all of fd (a regular file of st_size bytes, which may still change
 * under us) into a new buffer; at most CONF_FILE_MAX bytes. */
static int
read_all(int fd, size_t size_hint, uint8_t **out, size_t *out_len)
{
	size_t cap = size_hint + 1, len = 0;
	uint8_t *buf, *grown;
	ssize_t n;

	if ((buf = malloc(cap)) == NULL)
		return ERR_NOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= CONF_FILE_MAX + 1) {
				free(buf);
				errno = EFBIG;
				return ERR_SYS;
			}
			cap = cap * 2 > CONF_FILE_MAX + 1 ? CONF_FILE_MAX + 1 :
			    cap * 2;
			if ((grown = realloc(buf, cap)) == NULL) {
				free(buf);
				return ERR_NOMEM;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			free(buf);
			errno = saved;
			return ERR_SYS;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FILE_MAX) {
		free(buf);
		errno = EFBIG;
		return ERR_SYS;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

/* Open path, check that it is a regular file of at most CONF_FILE_MAX
 * bytes and read it into *buf (the caller wipes and frees it: it may hold
 * SOCKS5_PASSWD).  Every failure is reported through p at line 0. */
static int
read_file(struct parser *p, const char *path, uint8_t **buf, size_t *len,
    bool *world_readable)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		parser_diag_at(p, 0, true, "cannot open: %s", strerror(errno));
		return ERR_SYS;
	}
	if (fstat(fd, &st) != 0) {
		parser_diag_at(p, 0, true, "cannot stat: %s", strerror(errno));
		close(fd);
		return ERR_SYS;
	}
	/* A FIFO or device could block or never end; a directory reads as an
	 * error anyway.  Say so plainly. */
	if (!S_ISREG(st.st_mode)) {
		parser_diag_at(p, 0, true,
		    "not a regular file (expected a socks5.conf text file)");
		close(fd);
		return ERR_CONFIG;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > CONF_FILE_MAX) {
		parser_diag_at(p, 0, true,
		    "file larger than %u bytes (expected a socks5.conf text file)",
		    CONF_FILE_MAX);
		close(fd);
		return ERR_CONFIG;
	}
	rc = read_all(fd, (size_t)st.st_size, buf, len);
	if (rc == ERR_SYS)
		parser_diag_at(p, 0, true, "cannot read: %s", strerror(errno));
	else if (rc == ERR_NOMEM)
		parser_diag_at(p, 0, true, "out of memory");
	close(fd);
	*world_readable = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
	return rc;
}

/* SOCKS5_PWDFILE is checked where the master loads the file, at start and
 * on SIGHUP: a password file anyone but root can read refuses the whole
 * configuration, so a reload with one keeps the old rules (and the old
 * authd, which re-reads the file itself).  Only its status is looked at
 * here: the master never reads the secrets, so no worker forked from it
 * can hold them. */
static int
pwdfile_gate(struct parser *p, const struct conf *conf)
{
	const struct conf_vars *v = conf_vars(conf);
	struct stat st;
	char why[200];

	if (!v->has_pwdfile)
		return 0;
	if (stat(v->pwdfile, &st) != 0) {
		parser_diag_at(p, 0, true, "SOCKS5_PWDFILE %s: %s", v->pwdfile,
		    strerror(errno));
		return ERR_CONFIG;
	}
	if (conf_secret_file_problem(&st, why, sizeof(why)) != NULL) {
		parser_diag_at(p, 0, true, "SOCKS5_PWDFILE %s refused: %s",
		    v->pwdfile, why);
		return ERR_CONFIG;
	}
	return 0;
}

/* conf_load_sealed's lookup: NSS, as conf_load's, writing every name it
 * resolved into the table the image gets (once; later uses of a name are
 * answered from the table, so one load cannot see two ports for it). */
struct recorder {
	struct conf_sealed *sealed;
	bool full;          /* a name found no room: the load fails */
};

static bool
recording_service(void *ctx, const char *name, unsigned *port)
{
	struct recorder *rec = ctx;
	struct conf_sealed *s = rec->sealed;
	struct conf_sealed_svc *svc;

	if (conf_sealed_lookup(s, name, port))
		return true;
	/* A service on port 0 is no port the table can carry: unknown here
	 * as in the image, so both parse the same. */
	if (!nss_service(NULL, name, port) || *port == 0)
		return false;
	if (s->n_svc == CONF_SEALED_SVC_MAX) {
		/* Answer anyway, so the parse reports what it would. */
		rec->full = true;
		return true;
	}
	svc = &s->svc[s->n_svc++];
	memcpy(svc->name, name, strlen(name) + 1);
	svc->port = (uint16_t)*port;
	return true;
}

/* What the parse read of this host's addresses, into s: nothing when no
 * line asked (the image then has no list either), getifaddrs's errno, or
 * the list, which must fit the sealed format's bound. */
static int
record_ifaddrs(struct parser *p, const struct host_ifaddrs *h,
    struct conf_sealed *s)
{
	if (!h->read) {
		s->if_state = SEALED_IF_NONE;
	} else if (h->list.error != 0) {
		s->if_state = SEALED_IF_FAILED;
		s->if_error = h->list.error;
	} else if (h->list.n > CONF_SEALED_IF_MAX) {
		parser_diag_at(p, 0, true, "this host has %zu IPv4 and IPv6 "
		    "addresses, more than the %u the session image can be "
		    "given to check interface lines against", h->list.n,
		    CONF_SEALED_IF_MAX);
		return ERR_CONFIG;
	} else {
		s->if_state = SEALED_IF_LIST;
		s->n_if = h->list.n;
		if (h->list.n > 0)
			memcpy(s->ifs, h->list.v, h->list.n * sizeof(s->ifs[0]));
	}
	return 0;
}

/* s encoded into a new memfd, sealed so that neither the master nor the
 * image can change it any more (F_SEAL_SEAL: nor the seals), and wound
 * back to offset 0 for a reader that uses read rather than pread. */
static int
seal_write(struct parser *p, const struct conf_sealed *s, int *sealed)
{
	size_t size = conf_sealed_size(s), len = 0;
	uint8_t *enc;
	int fd = -1, rc;

	if ((enc = malloc(size)) == NULL) {
		parser_diag_at(p, 0, true, "out of memory");
		return ERR_NOMEM;
	}
	if ((rc = conf_sealed_encode(s, enc, size, &len)) != 0) {
		parser_diag_at(p, 0, true, "cannot seal the configuration: %s",
		    err_str(rc));
		goto out;
	}
	rc = ERR_SYS;
	fd = memfd_create("socks5d-conf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || io_write_all(fd, enc, len, NULL) != 0)
		goto sys;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		goto sys;
	*sealed = fd;
	fd = -1;
	rc = 0;
	goto out;
sys:
	parser_diag_at(p, 0, true, "cannot seal the configuration: %s",
	    strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	/* The encoding holds the file's bytes. */
	explicit_bzero(enc, size);
	free(enc);
	return rc;
}

/* conf_load_flags; with rec, port names go through rec and a successful
 * load is also sealed into *sealed. */
static int
load(const char *path, unsigned flags, struct recorder *rec,
    struct conf **out, int *sealed, conf_diag_fn *diag, void *ctx)
{
	const struct conf_services recording = { recording_service, rec };
	struct host_ifaddrs host = { 0 };
	const struct conf_ifaddrs ifaddrs = { host_ifaddrs, &host };
	struct parser p;
	uint8_t *buf = NULL;
	size_t len = 0;
	bool world_readable = false;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.diag = diag;
	p.diag_ctx = ctx;
	if ((rc = read_file(&p, path, &buf, &len, &world_readable)) != 0)
		return rc;
	rc = parse_common(path, buf, len, flags, world_readable,
	    rec != NULL ? &recording : &nss_services, &ifaddrs, out, diag,
	    ctx);
	if (rc == 0 && rec != NULL && rec->full) {
		parser_diag_at(&p, 0, true, "more than %u distinct service "
		    "names in ports (write some as numbers)",
		    CONF_SEALED_SVC_MAX);
		rc = ERR_CONFIG;
	}
	if (rc == 0 && rec != NULL)
		rc = record_ifaddrs(&p, &host, rec->sealed);
	if (rc == 0)
		rc = pwdfile_gate(&p, *out);
	if (rc == 0 && rec != NULL) {
		rec->sealed->flags = flags;
		rec->sealed->world_readable = world_readable;
		memcpy(rec->sealed->path, path, strlen(path) + 1);
		rec->sealed->file = buf;
		rec->sealed->file_len = len;
		rc = seal_write(&p, rec->sealed, sealed);
	}
	/* The buffer may hold SOCKS5_PASSWD. */
	explicit_bzero(buf, len);
	free(buf);
	host_release(&host);
	if (rc != 0) {
		conf_free(*out);
		*out = NULL;
	}
	return rc;
}

int
conf_load_flags(const char *path, unsigned flags, struct conf **out,
    conf_diag_fn *diag, void *ctx)
{
	return load(path, flags, NULL, out, NULL, diag, ctx);
}

int
conf_load_sealed(const char *path, unsigned flags, struct conf **out,
    int *sealed, conf_diag_fn *diag, void *ctx)
{
	struct recorder rec = { NULL, false };
	struct parser p;
	int rc;

	*out = NULL;
	*sealed = -1;
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.diag = diag;
	p.diag_ctx = ctx;
	/* Refused before the file is read: the image could not be given
	 * what this load would be. */
	if (strlen(path) > CONF_SEALED_PATH_MAX ||
	    (flags & ~CONF_PARSE_KNOWN) != 0) {
		parser_diag_at(&p, 0, true, "cannot seal the configuration: %s",
		    (flags & ~CONF_PARSE_KNOWN) != 0 ? "unknown flags" :
		    "path longer than 4095 bytes");
		return ERR_CONFIG;
	}
	if ((rec.sealed = calloc(1, sizeof(*rec.sealed))) == NULL) {
		parser_diag_at(&p, 0, true, "out of memory");
		return ERR_NOMEM;
	}
	rc = load(path, flags, &rec, out, sealed, diag, ctx);
	free(rec.sealed);
	return rc;
}

int
conf_load(const char *path, struct conf **out, conf_diag_fn *diag, void *ctx)
{
	return conf_load_flags(path, 0, out, diag, ctx);
}
