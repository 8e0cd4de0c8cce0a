/*
 * MADV_WIPEONFORK blocks (master/private_mem.h).
 */
#include <sys/mman.h>

#include <stdint.h>
#include <string.h>

#include "common/log.h"
#include "master/private_mem.h"

static size_t
block_bytes(size_t n, size_t size)
{
	if (n == 0)
		n = 1;
	if (size != 0 && n > SIZE_MAX / size)
		return 0;
	return n * size;
}

void *
private_calloc(size_t n, size_t size)
{
	size_t bytes = block_bytes(n, size);
	void *p;

	if (bytes == 0)
		return NULL;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, bytes, MADV_WIPEONFORK) == -1) {
		log_warn("madvise(MADV_WIPEONFORK)");
		munmap(p, bytes);
		return NULL;
	}
	return p;
}

void *
private_realloc(void *old, size_t old_n, size_t n, size_t size)
{
	void *p = private_calloc(n, size);

	if (p == NULL)
		return NULL;
	if (old != NULL)
		memcpy(p, old, (old_n < n ? old_n : n) * size);
	private_free(old, old_n, size);
	return p;
}

void
private_free(void *p, size_t n, size_t size)
{
	size_t bytes = block_bytes(n, size);

	if (p == NULL || bytes == 0)
		return;
	explicit_bzero(p, bytes);
	munmap(p, bytes);
}
