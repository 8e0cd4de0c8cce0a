/*
 * Parsing a configuration: run the two passes of the parser over its text,
 * hand back the compiled struct conf.  Where the text comes from (a file,
 * a buffer, the session image's sealed copy), how port names are looked
 * up and where this host's addresses come from is the caller's: load.c in
 * the master, sealed.c in the session image.
 * Also the allocation helpers every conf/ file uses: one arena per
 * configuration for the small strings and lists (so conf_free is a walk
 * over a few chunks), and growing arrays for the per-section lines.
 */
#include <sys/stat.h>

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
parse_common(const char *file, const void *buf, size_t len, unsigned flags,
    bool world_readable, const struct conf_services *services,
    const struct conf_ifaddrs *ifaddrs, struct conf **out, conf_diag_fn *diag,
    void *ctx)
{
	const struct conf_services *saved;
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
	p.ifaddrs = ifaddrs;
	if ((conf = calloc(1, sizeof(*conf))) == NULL ||
	    (conf->name = strdup(path_base(file))) == NULL) {
		free(conf);
		parser_diag_at(&p, 0, true, "out of memory");
		return ERR_NOMEM;
	}
	p.conf = conf;
	vars_defaults(&conf->vars);

	/* Port names, in the file and in the environment, are looked up
	 * through services for this parse only: the master's NSS, or the
	 * table the session image was handed (pattern.c has no parser to
	 * carry it). */
	saved = pat_services_swap(services);
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
	(void)pat_services_swap(saved);
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
