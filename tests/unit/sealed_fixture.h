/*
 * Test fixture shared by the sealed configuration's unit tests
 * (test_conf_sealed.c, test_conf_sealed_ifaddrs.c): a diagnostics
 * collector, a file written with a mode, a memfd with given seals, and
 * reading one back.  Include from one file per test program.
 */
#ifndef SOCKS5D_SEALED_FIXTURE_H
#define SOCKS5D_SEALED_FIXTURE_H

#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct diags {
	size_t errors, warnings;
	unsigned last_line;
	char first[512], last[512];
	char file[256];
};

static void
collect(void *ctx, const char *file, unsigned line, bool is_error,
    const char *msg)
{
	struct diags *dg = ctx;

	if (is_error)
		dg->errors++;
	else
		dg->warnings++;
	if (dg->errors + dg->warnings == 1)
		snprintf(dg->first, sizeof(dg->first), "%s", msg);
	dg->last_line = line;
	snprintf(dg->last, sizeof(dg->last), "%s", msg);
	snprintf(dg->file, sizeof(dg->file), "%s", file);
}

/* path holding text, with mode; false when it cannot be written. */
static bool
put_file(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len &&
	    fchmod(fd, mode) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* A memfd holding buf[0..len), with the given seals added (0: none;
 * -1: made without MFD_ALLOW_SEALING). */
static int
memfd_with(const void *buf, size_t len, int seals)
{
	int fd = memfd_create("test", MFD_CLOEXEC |
	    (seals >= 0 ? MFD_ALLOW_SEALING : 0));

	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != (ssize_t)len ||
	    (seals > 0 && fcntl(fd, F_ADD_SEALS, seals) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

#define ALL_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

/* The whole of fd's contents into buf (size cap); the length or 0. */
static size_t
slurp(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap, 0);

	return n > 0 ? (size_t)n : 0;
}

#endif
