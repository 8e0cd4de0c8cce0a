#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/health.h"

/* A torn read is retried this often, then treated as "nothing known". */
enum { HEALTH_READ_TRIES = 16 };

int64_t
health_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
health_down_set(const struct health_page *pg, uint32_t gen, unsigned line,
    size_t n, bool *down, int64_t now_ms)
{
	memset(down, 0, n * sizeof(*down));
	if (pg == NULL)
		return 0;
	for (int t = 0; t < HEALTH_READ_TRIES; t++) {
		uint32_t s1 = __atomic_load_n(&pg->seq, __ATOMIC_ACQUIRE), s2;

		if ((s1 & 1) != 0)
			continue;
		memset(down, 0, n * sizeof(*down));
		for (size_t i = 0; i < HEALTH_ENTRIES; i++) {
			const struct health_entry *e = &pg->e[i];
			uint32_t eg = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
			uint32_t el = __atomic_load_n(&e->line, __ATOMIC_RELAXED);
			uint32_t ei = __atomic_load_n(&e->index,
			    __ATOMIC_RELAXED);
			int64_t until = __atomic_load_n(&e->until_ms,
			    __ATOMIC_RELAXED);

			if (eg == gen && el == line && ei < n && until > now_ms)
				down[ei] = true;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&pg->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return 0;
	}
	memset(down, 0, n * sizeof(*down));
	return ERR_SHORT;
}
