/*
 * The master's side of loading: open and read socks5.conf (conf_load), or
 * take a buffer (conf_parse: tests, the fuzzer), and parse it with port
 * names looked up in the services database; conf_load_sealed also seals
 * what it read, and the names it resolved, for the session image
 * (sealed.c defines the format).  This is the only conf/ file
 * that calls NSS: the static session image links the rest of conf/ and
 * must not pull in getservbyname_r, which a static glibc serves by
 * dlopen()ing libnss_*.so.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
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

int
conf_parse_flags(const char *name, const void *buf, size_t len,
    unsigned flags, struct conf **out, conf_diag_fn *diag, void *ctx)
{
	if (buf == NULL)
		len = 0;
	return parse_common(name, buf, len, flags, false, &nss_services, out,
	    diag, ctx);
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

/* s encoded into a new memfd, sealed so that neither the master nor the
 * image can change it any more (F_SEAL_SEAL: nor the seals), and wound
 * back to offset 0 for a reader that uses read rather than pread. */
static int
seal_write(struct parser *p, const struct conf_sealed *s, int *sealed)
{
	size_t size = conf_sealed_size(s), len = 0, off = 0;
	uint8_t *enc;
	ssize_t n;
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
	if (fd < 0)
		goto sys;
	while (off < len) {
		if ((n = write(fd, enc + off, len - off)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto sys;
		}
		off += (size_t)n;
	}
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
	    rec != NULL ? &recording : &nss_services, out, diag, ctx);
	if (rc == 0 && rec != NULL && rec->full) {
		parser_diag_at(&p, 0, true, "more than %u distinct service "
		    "names in ports (write some as numbers)",
		    CONF_SEALED_SVC_MAX);
		rc = ERR_CONFIG;
	}
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
