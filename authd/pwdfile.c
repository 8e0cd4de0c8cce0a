/*
 * NEC's password file (SOCKS5_PWDFILE, grammar 4.2): `name password` per
 * line.  Read by authd alone, at its start (the master restarts authd on
 * every reload), so the secrets are never in the master's memory and thus
 * never in a worker forked from it.
 *
 * A password beginning with '$' is a crypt(3) hash (yescrypt $y$, SHA-512
 * $6$, bcrypt $2b$ where libcrypt has it) checked with crypt_r and a
 * constant-time compare; anything else is a plain NEC password, accepted
 * with a warning naming its line so that an unchanged NEC file keeps
 * working while the operator converts it (`mkpasswd -m yescrypt`, README).
 *
 * Globals: none; the table is the caller's.
 */
#include <sys/stat.h>

#include <crypt.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd/authd.h"
#include "common/err.h"
#include "common/ipc.h"
#include "common/log.h"
#include "conf/conf.h"

enum {
	PWD_LINE_MAX = 1024,
	PWD_FILE_MAX = 16 * 1024 * 1024,
};

struct pwd_entry {
	char *name;
	char *secret;
	bool plain;
};

struct pwdfile {
	struct pwd_entry *e;
	size_t n;
};

void
pwdfile_free(struct pwdfile *pf)
{
	if (pf == NULL)
		return;
	for (size_t i = 0; i < pf->n; i++) {
		explicit_bzero(pf->e[i].secret, strlen(pf->e[i].secret));
		free(pf->e[i].secret);
		free(pf->e[i].name);
	}
	free(pf->e);
	free(pf);
}

/* One line (NUL-terminated, no newline) into pf; 0, 1 when it holds no
 * entry, or ERR_NOMEM. */
static int
pwd_line(struct pwdfile *pf, char *line, const char *path, unsigned lineno)
{
	char *name, *secret, *extra, *save = NULL;
	struct pwd_entry *grown;

	if ((name = strtok_r(line, " \t\r", &save)) == NULL || name[0] == '#')
		return 1;
	secret = strtok_r(NULL, " \t\r", &save);
	extra = strtok_r(NULL, " \t\r", &save);
	if (secret == NULL || extra != NULL || strlen(name) > 255 ||
	    strlen(secret) > 255) {
		log_warnx("%s:%u: not 'name password'; line ignored", path,
		    lineno);
		return 1;
	}
	grown = realloc(pf->e, (pf->n + 1) * sizeof(*pf->e));
	if (grown == NULL)
		return ERR_NOMEM;
	pf->e = grown;
	pf->e[pf->n].name = strdup(name);
	pf->e[pf->n].secret = strdup(secret);
	pf->e[pf->n].plain = secret[0] != '$';
	if (pf->e[pf->n].name == NULL || pf->e[pf->n].secret == NULL) {
		free(pf->e[pf->n].name);
		free(pf->e[pf->n].secret);
		return ERR_NOMEM;
	}
	if (pf->e[pf->n].plain)
		log_warnx("%s:%u: plain-text password for '%s' (accepted; "
		    "replace it with a hash: mkpasswd -m yescrypt)", path,
		    lineno, name);
	pf->n++;
	return 0;
}

int
pwdfile_load(const char *path, struct pwdfile **out)
{
	struct pwdfile *pf;
	struct stat st;
	char *buf = NULL, *line, *next;
	char problem[200];
	unsigned lineno = 0;
	size_t len = 0;
	ssize_t n;
	int fd, rc = ERR_SYS;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		log_warn("password file %s", path);
		return ERR_SYS;
	}
	/* The same rule the master applied at load, on what was opened. */
	if (fstat(fd, &st) == -1) {
		log_warn("password file %s", path);
		close(fd);
		return ERR_SYS;
	}
	if (conf_secret_file_problem(&st, problem, sizeof(problem)) != NULL) {
		log_warnx("password file %s refused: %s", path, problem);
		close(fd);
		return ERR_CONFIG;
	}
	if (st.st_size > PWD_FILE_MAX || (buf = malloc((size_t)st.st_size + 1))
	    == NULL) {
		log_warnx("password file %s: too large", path);
		close(fd);
		return ERR_NOMEM;
	}
	while (len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		goto out;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		if (strlen(line) > PWD_LINE_MAX) {
			log_warnx("%s:%u: line too long; ignored", path, lineno);
			continue;
		}
		if ((rc = pwd_line(pf, line, path, lineno)) < 0) {
			pwdfile_free(pf);
			pf = NULL;
			goto out;
		}
	}
	log_info("password file %s: %zu entries", path, pf->n);
	*out = pf;
	rc = 0;
out:
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/* Equal strings in time that depends only on the lengths given. */
static bool
same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
	volatile unsigned char diff = alen != blen;
	size_t n = alen > blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)((i < alen ? a[i] : 0) ^
		    (i < blen ? b[i] : 0));
	return diff == 0;
}

static bool
entry_matches(const struct pwd_entry *e, const char *pass)
{
	struct crypt_data *cd;
	const char *h;
	bool ok;

	if (e->plain)
		return same_secret(e->secret, strlen(e->secret), pass,
		    strlen(pass));
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return false;
	h = crypt_r(pass, e->secret, cd);
	/* libxcrypt answers a failure token starting with '*'. */
	ok = h != NULL && h[0] != '*' &&
	    same_secret(h, strlen(h), e->secret, strlen(e->secret));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

unsigned
pwdfile_check(const struct pwdfile *pf, const char *user, const char *pass)
{
	const struct pwd_entry *hit = NULL;

	if (pf == NULL || pf->n == 0)
		return AUTH_R_INTERNAL;
	for (size_t i = 0; i < pf->n; i++)
		if (hit == NULL && strcmp(pf->e[i].name, user) == 0)
			hit = &pf->e[i];
	if (hit == NULL) {
		/* An unknown user costs what a known one does: the first
		 * entry's check is run and its answer thrown away. */
		(void)entry_matches(&pf->e[0], pass);
		return AUTH_R_UNKNOWN_USER;
	}
	return entry_matches(hit, pass) ? AUTH_R_OK : AUTH_R_BAD_PASSWORD;
}
