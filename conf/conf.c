/*
 * Loading a configuration: read the file, run the two passes of the parser
 * over it, hand back the compiled struct conf.  Also the allocation helpers
 * every conf/ file uses: one arena per configuration for the small strings
 * and lists (so conf_free is a walk over a few chunks), and growing arrays
 * for the per-section lines.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "conf/conf_int.h"

#define ARENA_CHUNK ((size_t)16 * 1024)
#define ARENA_ALIGN alignof(max_align_t)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

void *
conf_alloc(struct conf *conf, size_t size)
{
	struct arena_chunk *c = conf->arena;
	size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	void *ptr;

	if (size == 0 || need < size)
		need = ARENA_ALIGN;
	if (c == NULL || c->size - c->used < need) {
		/* A request larger than a chunk gets a chunk of its own. */
		size_t size_chunk = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		if (size_chunk > SIZE_MAX - sizeof(*c))
			return NULL;
		if ((c = malloc(sizeof(*c) + size_chunk)) == NULL)
			return NULL;
		c->used = 0;
		c->size = size_chunk;
		c->next = conf->arena;
		conf->arena = c;
	}
	ptr = c->data + c->used;
	c->used += need;
	memset(ptr, 0, need);
	return ptr;
}

char *
conf_strdup(struct conf *conf, const char *s, size_t len, bool fold)
{
	char *copy;
	size_t i;

	if (len == SIZE_MAX || (copy = conf_alloc(conf, len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		copy[i] = s[i];
		if (fold && s[i] >= 'A' && s[i] <= 'Z')
			copy[i] = (char)(s[i] - 'A' + 'a');
	}
	copy[len] = '\0';
	return copy;
}

int
conf_grow(void **arr, size_t *cap, size_t n, size_t elem_size)
{
	size_t new_cap;
	void *grown;

	if (n < *cap)
		return 0;
	/* Double until index n fits (callers may skip indices). */
	for (new_cap = *cap == 0 ? 16 : *cap; new_cap <= n; new_cap *= 2)
		if (new_cap > SIZE_MAX / 2)
			return ERR_NOMEM;
	if (new_cap > SIZE_MAX / elem_size)
		return ERR_NOMEM;
	if ((grown = realloc(*arr, new_cap * elem_size)) == NULL)
		return ERR_NOMEM;
	*arr = grown;
	*cap = new_cap;
	return 0;
}

void
conf_free(struct conf *conf)
{
	struct arena_chunk *c, *next;

	if (conf == NULL)
		return;
	for (c = conf->arena; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(conf->bans);
	free(conf->auths);
	free(conf->ifaces);
	free(conf->proxies);
	free(conf->acls);
	free(conf->name);
	/* The file may carry SOCKS5_PASSWD; do not leave it in freed memory. */
	explicit_bzero(&conf->vars, sizeof(conf->vars));
	free(conf);
}

/* The base name of path: what follows the last '/', or path itself. */
static const char *
path_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

static int
parse_common(const char *file, const char *base, const void *buf, size_t len,
    unsigned flags, bool world_readable, struct conf **out,
    conf_diag_fn *diag, void *ctx)
{
	struct parser p;
	struct conf *conf;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = file;
	p.diag = diag;
	p.diag_ctx = ctx;
	p.flags = flags;
	p.world_readable = world_readable;
	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (conf->name = strdup(base)) == NULL) {
		free(conf);
		parser_diag_at(&p, 0, true, "out of memory");
		return ERR_NOMEM;
	}
	p.conf = conf;
	vars_defaults(&conf->vars);

	/* Pass 1 only learns whether any socks4/socks5 line exists, so that
	 * the warning about deny lines with address destinations (grammar 5)
	 * comes out at the deny line, in file order, wherever the proxy line
	 * is.  Pass 2 parses and reports. */
	rc = lines_each(&p, buf, len, false, parse_scan_entry);
	if (rc == 0)
		rc = lines_each(&p, buf, len, true, parse_entry);
	if (rc == 0 && !p.nomem) {
		if (!(flags & CONF_PARSE_NO_ENV))
			vars_from_env(&p);
		parse_finish(&p);
	}
	iface_release(&p);
	shadow_release(&p);
	if (rc == 0 && p.nomem)
		rc = ERR_NOMEM;
	if (rc == ERR_NOMEM)
		parser_diag_at(&p, 0, true, "out of memory");
	if (rc == 0 && p.n_errors > 0)
		rc = ERR_CONFIG;
	if (rc != 0) {
		conf_free(conf);
		return rc;
	}
	*out = conf;
	return 0;
}

int
conf_parse_flags(const char *name, const void *buf, size_t len,
    unsigned flags, struct conf **out, conf_diag_fn *diag, void *ctx)
{
	if (buf == NULL)
		len = 0;
	return parse_common(name, path_base(name), buf, len, flags, false, out,
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

static int pwdfile_gate(struct parser *p, const struct conf *conf);

int
conf_load_flags(const char *path, unsigned flags, struct conf **out,
    conf_diag_fn *diag, void *ctx)
{
	struct parser p;
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.diag = diag;
	p.diag_ctx = ctx;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		parser_diag_at(&p, 0, true, "cannot open: %s", strerror(errno));
		return ERR_SYS;
	}
	if (fstat(fd, &st) != 0) {
		parser_diag_at(&p, 0, true, "cannot stat: %s", strerror(errno));
		close(fd);
		return ERR_SYS;
	}
	/* A FIFO or device could block or never end; a directory reads as an
	 * error anyway.  Say so plainly. */
	if (!S_ISREG(st.st_mode)) {
		parser_diag_at(&p, 0, true,
		    "not a regular file (expected a socks5.conf text file)");
		close(fd);
		return ERR_CONFIG;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > CONF_FILE_MAX) {
		parser_diag_at(&p, 0, true,
		    "file larger than %u bytes (expected a socks5.conf text file)",
		    CONF_FILE_MAX);
		close(fd);
		return ERR_CONFIG;
	}
	rc = read_all(fd, (size_t)st.st_size, &buf, &len);
	if (rc == ERR_SYS)
		parser_diag_at(&p, 0, true, "cannot read: %s", strerror(errno));
	else if (rc == ERR_NOMEM)
		parser_diag_at(&p, 0, true, "out of memory");
	close(fd);
	if (rc != 0)
		return rc;
	rc = parse_common(path, path_base(path), buf, len, flags,
	    (st.st_mode & (S_IRGRP | S_IROTH)) != 0, out, diag, ctx);
	/* The buffer may hold SOCKS5_PASSWD. */
	explicit_bzero(buf, len);
	free(buf);
	if (rc == 0 && (rc = pwdfile_gate(&p, *out)) != 0) {
		conf_free(*out);
		*out = NULL;
	}
	return rc;
}

const char *
conf_secret_file_problem(const struct stat *st, char *buf, size_t size)
{
	if (!S_ISREG(st->st_mode))
		snprintf(buf, size, "not a regular file");
	else if (st->st_uid != 0)
		snprintf(buf, size, "owned by uid %u, not root (chown root)",
		    (unsigned)st->st_uid);
	else if ((st->st_mode & 077) != 0)
		snprintf(buf, size, "mode %04o lets group or others read or "
		    "write it (chmod 600)", (unsigned)(st->st_mode & 07777));
	else
		return NULL;
	return buf;
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

int
conf_load(const char *path, struct conf **out, conf_diag_fn *diag, void *ctx)
{
	return conf_load_flags(path, 0, out, diag, ctx);
}

const struct conf_vars *
conf_vars(const struct conf *conf)
{
	return &conf->vars;
}

const char *
conf_name(const struct conf *conf)
{
	return conf->name;
}

void
conf_rule_format(const struct conf *conf, unsigned line, char *buf,
    size_t size)
{
	if (line == 0)
		snprintf(buf, size, "default");
	else
		snprintf(buf, size, "%s:%u", conf->name, line);
}

size_t
conf_permit_count(const struct conf *conf)
{
	return conf->n_permits;
}
