/*
 * The sealed configuration: what the master hands the session image (the
 * static forker and workers it execs) so that the image parses exactly the
 * configuration the master parsed, without NSS.  conf_load_sealed
 * (load.c) records every port name it resolved and, when an interface
 * line needed it, the list of this host's addresses getifaddrs() gave it;
 * the image gets that table and that list, the text and how it was read,
 * and parses the text again with the table as its only source of port
 * names and the list as its only source of addresses: an image started
 * hours later, after an address came or went, still builds the rules the
 * master built.
 *
 * The format is defined here once, encoder beside decoder; both are pure
 * (no I/O), so tests/unit/test_conf_sealed.c and
 * tests/fuzz/fuzz_conf_sealed.c drive them directly.  Integers are
 * big-endian:
 *
 *   u32 magic           "S5CF"
 *   u16 version         2
 *   u32 flags           CONF_PARSE_* bits; an unknown bit is refused
 *   u8  world_readable  0 or 1 (the SOCKS5_PASSWD warning depends on it)
 *   u16 path length     1-4095, then the path as given, no NUL
 *   u16 services        0-128, then per service:
 *       u8 name length, the name (pat_service_name_ok), u16 port 1-65535;
 *       no name twice
 *   u8  addresses       0: no line asked for them, nothing follows;
 *                       1: u16 count 0-4096, then per address:
 *       u8 name length 1-15, the interface's name (bytes 0x21-0x7e),
 *       u8 family 4 or 6, the address (4 or 16 bytes), and for 6 only
 *       u32 scope id; in getifaddrs()'s order, repeats allowed (the
 *       first entry with an address decides);
 *                       2: getifaddrs failed, u16 its errno 1-4095
 *   u32 file length     0-CONF_FILE_MAX, then the file's bytes
 *   nothing after that
 *
 * The image trusts its master, but a decoder that checks every length
 * costs nothing and keeps a stray or stale descriptor from being parsed
 * as something it is not.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/rd.h"
#include "common/wr.h"
#include "conf/conf_int.h"

#define SEALED_MAGIC 0x53354346u    /* "S5CF" */
#define SEALED_VERSION 2
/* magic, version, flags, world_readable, the path and service lengths,
 * the addresses byte and the file length */
#define SEALED_HEAD (4 + 2 + 4 + 1 + 2 + 2 + 1 + 4)
/* One address: name length and family bytes, and for IPv6 the scope. */
#define IF_HEAD(family) (2 + ((family) == AF_INET ? 4 : 16 + 4))
#define ERRNO_MAX 4095              /* Linux's MAX_ERRNO */
/* The largest valid encoding: a longer fd is refused before it is read. */
#define SEALED_MAX ((size_t)SEALED_HEAD + CONF_SEALED_PATH_MAX + \
	(size_t)CONF_SEALED_SVC_MAX * (3 + CONF_SERVICE_NAME_MAX) + 2 + \
	(size_t)CONF_SEALED_IF_MAX * (IF_HEAD(AF_INET6) + IFNAMSIZ - 1) + \
	CONF_FILE_MAX)
/* What an fd must be sealed against before its bytes are taken: nothing
 * can change them afterwards, so what is decoded is what is parsed. */
#define SEALS_NEEDED (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

/* The entry among svc[0..n) that names name, or NULL. */
static const struct conf_sealed_svc *
svc_find(const struct conf_sealed_svc *svc, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(svc[i].name, name) == 0)
			return &svc[i];
	return NULL;
}

bool
conf_sealed_lookup(const struct conf_sealed *s, const char *name,
    unsigned *port)
{
	const struct conf_sealed_svc *svc = svc_find(s->svc, s->n_svc, name);

	if (svc == NULL)
		return false;
	*port = svc->port;
	return true;
}

/* Entry i may be written and read: a service name, a port that is one,
 * and not named by an earlier entry (two ports for one name would make
 * the answer depend on the order of the walk). */
static bool
svc_ok(const struct conf_sealed *s, size_t i)
{
	const struct conf_sealed_svc *svc = &s->svc[i];

	return pat_service_name_ok(svc->name, strnlen(svc->name,
	    sizeof(svc->name))) && svc->port != 0 &&
	    svc_find(s->svc, i, svc->name) == NULL;
}

bool
conf_ifaddr_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* An address the format carries, such that decoding its encoding gives
 * it back: a name, a family, and for AF_INET no scope and nothing past
 * the 4 bytes. */
static bool
ifaddr_ok(const struct conf_ifaddr *ifa)
{
	static const uint8_t zero[12];

	if (!conf_ifaddr_name_ok(ifa->name, strnlen(ifa->name,
	    sizeof(ifa->name))))
		return false;
	if (ifa->family == AF_INET6)
		return true;
	return ifa->family == AF_INET && ifa->scope_id == 0 &&
	    memcmp(ifa->addr + 4, zero, sizeof(zero)) == 0;
}

/* The addresses section is one the decoder accepts. */
static bool
ifaddrs_ok(const struct conf_sealed *s)
{
	size_t i;

	switch (s->if_state) {
	case SEALED_IF_NONE:
		return s->n_if == 0 && s->if_error == 0;
	case SEALED_IF_FAILED:
		return s->n_if == 0 && s->if_error >= 1 &&
		    s->if_error <= ERRNO_MAX;
	case SEALED_IF_LIST:
		if (s->n_if > CONF_SEALED_IF_MAX || s->if_error != 0)
			return false;
		for (i = 0; i < s->n_if; i++)
			if (!ifaddr_ok(&s->ifs[i]))
				return false;
		return true;
	}
	return false;
}

size_t
conf_sealed_size(const struct conf_sealed *s)
{
	size_t size = SEALED_HEAD + strnlen(s->path, sizeof(s->path)) +
	    s->file_len, i;

	for (i = 0; i < s->n_svc && i < CONF_SEALED_SVC_MAX; i++)
		size += 3 + strnlen(s->svc[i].name, sizeof(s->svc[i].name));
	if (s->if_state != SEALED_IF_NONE)
		size += 2;
	for (i = 0; s->if_state == SEALED_IF_LIST && i < s->n_if &&
	    i < CONF_SEALED_IF_MAX; i++)
		size += IF_HEAD(s->ifs[i].family) + strnlen(s->ifs[i].name,
		    sizeof(s->ifs[i].name));
	return size;
}

/* The addresses section (ifaddrs_ok has passed). */
static int
ifaddrs_encode(struct wr *w, const struct conf_sealed *s)
{
	size_t i;
	int rc;

	if ((rc = wr_u8(w, (uint8_t)s->if_state)) != 0)
		return rc;
	if (s->if_state == SEALED_IF_FAILED)
		return wr_u16be(w, (uint16_t)s->if_error);
	if (s->if_state == SEALED_IF_NONE)
		return 0;
	if ((rc = wr_u16be(w, (uint16_t)s->n_if)) != 0)
		return rc;
	for (i = 0; i < s->n_if; i++) {
		const struct conf_ifaddr *ifa = &s->ifs[i];
		size_t name_len = strlen(ifa->name);
		bool v6 = ifa->family == AF_INET6;

		if ((rc = wr_u8(w, (uint8_t)name_len)) != 0 ||
		    (rc = wr_bytes(w, ifa->name, name_len)) != 0 ||
		    (rc = wr_u8(w, v6 ? 6 : 4)) != 0 ||
		    (rc = wr_bytes(w, ifa->addr, v6 ? 16 : 4)) != 0 ||
		    (v6 && (rc = wr_u32be(w, ifa->scope_id)) != 0))
			return rc;
	}
	return 0;
}

/* The addresses section into out; ERR_PROTO for anything ifaddrs_ok
 * would refuse. */
static int
ifaddrs_decode(struct rd *r, struct conf_sealed *out)
{
	uint8_t state, name_len, family;
	uint16_t n, error;
	const uint8_t *name;
	size_t i;

	if (rd_u8(r, &state) != 0)
		return ERR_PROTO;
	if (state == SEALED_IF_NONE)
		return 0;
	if (state == SEALED_IF_FAILED) {
		if (rd_u16be(r, &error) != 0 || error == 0 || error > ERRNO_MAX)
			return ERR_PROTO;
		out->if_state = SEALED_IF_FAILED;
		out->if_error = error;
		return 0;
	}
	if (state != SEALED_IF_LIST || rd_u16be(r, &n) != 0 ||
	    n > CONF_SEALED_IF_MAX)
		return ERR_PROTO;
	out->if_state = SEALED_IF_LIST;
	for (i = 0; i < n; i++) {
		struct conf_ifaddr *ifa = &out->ifs[i];

		/* The name is checked before it is copied: at most 15 bytes
		 * into a 16-byte array. */
		if (rd_u8(r, &name_len) != 0 ||
		    rd_bytes(r, name_len, &name) != 0 ||
		    !conf_ifaddr_name_ok((const char *)name, name_len) ||
		    rd_u8(r, &family) != 0 || (family != 4 && family != 6) ||
		    rd_copy(r, ifa->addr, sizeof(ifa->addr),
		    family == 6 ? 16 : 4) != 0 ||
		    (family == 6 && rd_u32be(r, &ifa->scope_id) != 0))
			return ERR_PROTO;
		memcpy(ifa->name, name, name_len);
		ifa->family = family == 6 ? AF_INET6 : AF_INET;
		out->n_if = i + 1;
	}
	return 0;
}

int
conf_sealed_encode(const struct conf_sealed *s, void *buf, size_t cap,
    size_t *len)
{
	size_t path_len = strnlen(s->path, sizeof(s->path)), i;
	struct wr w;
	int rc;

	if ((s->flags & ~CONF_PARSE_KNOWN) != 0 || path_len == 0 ||
	    path_len > CONF_SEALED_PATH_MAX || s->n_svc > CONF_SEALED_SVC_MAX ||
	    s->file_len > CONF_FILE_MAX || !ifaddrs_ok(s))
		return ERR_RANGE;
	for (i = 0; i < s->n_svc; i++)
		if (!svc_ok(s, i))
			return ERR_RANGE;
	wr_init(&w, buf, cap);
	if ((rc = wr_u32be(&w, SEALED_MAGIC)) != 0 ||
	    (rc = wr_u16be(&w, SEALED_VERSION)) != 0 ||
	    (rc = wr_u32be(&w, s->flags)) != 0 ||
	    (rc = wr_u8(&w, s->world_readable)) != 0 ||
	    (rc = wr_u16be(&w, (uint16_t)path_len)) != 0 ||
	    (rc = wr_bytes(&w, s->path, path_len)) != 0 ||
	    (rc = wr_u16be(&w, (uint16_t)s->n_svc)) != 0)
		return rc;
	for (i = 0; i < s->n_svc; i++) {
		const struct conf_sealed_svc *svc = &s->svc[i];
		size_t name_len = strlen(svc->name);

		if ((rc = wr_u8(&w, (uint8_t)name_len)) != 0 ||
		    (rc = wr_bytes(&w, svc->name, name_len)) != 0 ||
		    (rc = wr_u16be(&w, svc->port)) != 0)
			return rc;
	}
	if ((rc = ifaddrs_encode(&w, s)) != 0 ||
	    (rc = wr_u32be(&w, (uint32_t)s->file_len)) != 0 ||
	    (rc = wr_bytes(&w, s->file, s->file_len)) != 0)
		return rc;
	*len = w.off;
	return 0;
}

int
conf_sealed_decode(const void *buf, size_t len, struct conf_sealed *out)
{
	struct rd r;
	uint32_t magic, flags, file_len;
	uint16_t version, path_len, n_svc;
	uint8_t world_readable, name_len;
	const uint8_t *name;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (len > SEALED_MAX)
		return ERR_PROTO;
	rd_init(&r, buf, len);
	if (rd_u32be(&r, &magic) != 0 || magic != SEALED_MAGIC ||
	    rd_u16be(&r, &version) != 0 || version != SEALED_VERSION ||
	    rd_u32be(&r, &flags) != 0 || (flags & ~CONF_PARSE_KNOWN) != 0 ||
	    rd_u8(&r, &world_readable) != 0 || world_readable > 1 ||
	    rd_u16be(&r, &path_len) != 0 || path_len == 0 ||
	    path_len > CONF_SEALED_PATH_MAX ||
	    rd_copy(&r, out->path, CONF_SEALED_PATH_MAX, path_len) != 0 ||
	    memchr(out->path, '\0', path_len) != NULL ||
	    rd_u16be(&r, &n_svc) != 0 || n_svc > CONF_SEALED_SVC_MAX)
		return ERR_PROTO;
	out->flags = flags;
	out->world_readable = world_readable;
	for (i = 0; i < n_svc; i++) {
		struct conf_sealed_svc *svc = &out->svc[i];

		/* The name is checked before it is copied: at most 63 bytes
		 * into a 64-byte array. */
		if (rd_u8(&r, &name_len) != 0 ||
		    rd_bytes(&r, name_len, &name) != 0 ||
		    !pat_service_name_ok((const char *)name, name_len) ||
		    rd_u16be(&r, &svc->port) != 0)
			return ERR_PROTO;
		memcpy(svc->name, name, name_len);
		if (!svc_ok(out, i))
			return ERR_PROTO;
		out->n_svc = i + 1;
	}
	if (ifaddrs_decode(&r, out) != 0 ||
	    rd_u32be(&r, &file_len) != 0 || file_len > CONF_FILE_MAX ||
	    rd_bytes(&r, file_len, &out->file) != 0 || rd_end(&r) != 0)
		return ERR_PROTO;
	out->file_len = file_len;
	return 0;
}

/* The session image's port-name lookup: the table, and nothing else. */
static bool
table_service(void *ctx, const char *name, unsigned *port)
{
	return conf_sealed_lookup(ctx, name, port);
}

/* The session image's source of this host's addresses: the master's
 * list (ctx), or none when the master's parse never asked for it.  Never
 * getifaddrs: the host may have other addresses by now. */
static const struct conf_iflist *
recorded_ifaddrs(void *ctx)
{
	return ctx;
}

int
conf_sealed_parse(struct conf_sealed *s, struct conf **out,
    conf_diag_fn *diag, void *ctx)
{
	const struct conf_services services = { table_service, s };
	struct conf_iflist list = { s->if_error, s->n_if, s->ifs };
	const struct conf_ifaddrs ifaddrs = { recorded_ifaddrs,
	    s->if_state != SEALED_IF_NONE ? &list : NULL };

	return parse_common(s->path, s->file, s->file_len, s->flags,
	    s->world_readable, &services, &ifaddrs, out, diag, ctx);
}

/* Read the sealed fd whole, from offset 0 whatever its file position. */
static int
sealed_read(struct parser *p, int fd, uint8_t **buf, size_t *size)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) != 0) {
		parser_diag_at(p, 0, true, "cannot stat: %s", strerror(errno));
		return ERR_SYS;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > SEALED_MAX) {
		parser_diag_at(p, 0, true, "%jd bytes, more than a sealed "
		    "configuration holds", (intmax_t)st.st_size);
		return ERR_PROTO;
	}
	*size = (size_t)st.st_size;
	if ((*buf = malloc(*size + 1)) == NULL) {
		parser_diag_at(p, 0, true, "out of memory");
		return ERR_NOMEM;
	}
	while (got < *size) {
		n = pread(fd, *buf + got, *size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			parser_diag_at(p, 0, true, "cannot read: %s",
			    strerror(errno));
			return ERR_SYS;
		}
		if (n == 0) {
			/* F_SEAL_SHRINK makes this impossible; say so if not. */
			parser_diag_at(p, 0, true, "shorter than its size");
			return ERR_PROTO;
		}
		got += (size_t)n;
	}
	return 0;
}

int
conf_parse_sealed(int fd, struct conf **out, conf_diag_fn *diag, void *ctx)
{
	struct parser p;
	struct conf_sealed *s = NULL;
	uint8_t *buf = NULL;
	size_t size = 0;
	int seals, rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = "sealed configuration";
	p.diag = diag;
	p.diag_ctx = ctx;
	/* Only shmem files (a memfd) answer F_GET_SEALS, and only a memfd
	 * made with MFD_ALLOW_SEALING can have more than F_SEAL_SEAL: a
	 * plain file, a pipe or an unsealed memfd are all refused here. */
	if ((seals = fcntl(fd, F_GET_SEALS)) < 0) {
		parser_diag_at(&p, 0, true, "not a sealed memfd: %s",
		    strerror(errno));
		return ERR_PROTO;
	}
	if ((seals & SEALS_NEEDED) != SEALS_NEEDED) {
		parser_diag_at(&p, 0, true, "memfd not sealed against write, "
		    "grow and shrink (seals 0x%x)", (unsigned)seals);
		return ERR_PROTO;
	}
	if ((rc = sealed_read(&p, fd, &buf, &size)) != 0)
		goto out;
	if ((s = malloc(sizeof(*s))) == NULL) {
		parser_diag_at(&p, 0, true, "out of memory");
		rc = ERR_NOMEM;
		goto out;
	}
	if ((rc = conf_sealed_decode(buf, size, s)) != 0) {
		parser_diag_at(&p, 0, true, "does not decode (not written by "
		    "this version's conf_load_sealed)");
		goto out;
	}
	rc = conf_sealed_parse(s, out, diag, ctx);
out:
	/* The text may hold SOCKS5_PASSWD. */
	if (buf != NULL)
		explicit_bzero(buf, size);
	free(buf);
	free(s);
	return rc;
}
