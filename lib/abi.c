/*
 * Versioned structures (abi_internal.h): the copy into and out of the
 * caller's structures, and the compile-time record of the released sizes.
 *
 * The assertions below say that today's structures have the sizes of
 * their newest release (0.2 for the cache configuration, the cache
 * statistics and the operations table, which gained members then, and for
 * the mapping statistics, new then; 0.1 for the others). When a member is appended to one of them, its assertion
 * fails on purpose: the release that adds it defines a new constant in the
 * structure's header (PGC_CACHE_CONFIG_SIZE_0_2 for 0.2, ...) with the new
 * size, the assertion is changed to check sizeof against that newest
 * constant, and the 0.1 constant stays as it was (it remains the smallest
 * size the library accepts). See docs/abi.md.
 */
#include <errno.h>
#include <string.h>

#include <pgcache/pgcache.h>

#include "abi_internal.h"

#ifdef PGC_ABI_LP64
#define PGC__ABI_NEWEST(type, size)                                                            \
	_Static_assert(sizeof(type) == (size), #type " has grown: define the next release's "    \
						"size constant in its header, keep " #size        \
						", and assert against the new one (docs/abi.md)")
#else
/* Elsewhere the constants are the end of the last member: no tail padding. */
#define PGC__ABI_NEWEST(type, size)                                                            \
	_Static_assert(sizeof(type) >= (size) && sizeof(type) - (size) < 8,                       \
		       #type " has grown: see docs/abi.md")
#endif

PGC__ABI_NEWEST(struct pgc_cache_config, PGC_CACHE_CONFIG_SIZE_0_2);
PGC__ABI_NEWEST(struct pgc_stats, PGC_STATS_SIZE_0_2);
PGC__ABI_NEWEST(struct pgc_node_stats, PGC_NODE_STATS_SIZE_0_1);
PGC__ABI_NEWEST(struct pgc_mapping_ops, PGC_MAPPING_OPS_SIZE_0_2);
PGC__ABI_NEWEST(struct pgc_mapping_stats, PGC_MAPPING_STATS_SIZE_0_2);
PGC__ABI_NEWEST(struct pgc_writeback_control, PGC_WRITEBACK_CONTROL_SIZE_0_1);
PGC__ABI_NEWEST(struct pgc_dio_limits, PGC_DIO_LIMITS_SIZE_0_1);
PGC__ABI_NEWEST(struct pgc_migrate_stats, PGC_MIGRATE_STATS_SIZE_0_1);
PGC__ABI_NEWEST(struct pgc_placement_config, PGC_PLACEMENT_CONFIG_SIZE_0_2);
PGC__ABI_NEWEST(struct pgc_placement_stats, PGC_PLACEMENT_STATS_SIZE_0_2);

/* No versioned structure comes near this; a larger size is a caller's bug
 * (an uninitialised size member), refused before a byte is read past the
 * structure we know. */
#define ABI_MAX_SIZE 4096u

static uint32_t size_of(const void *s)
{
	uint32_t n;
	memcpy(&n, s, sizeof(n));
	return n;
}

int pgc__abi_copy_in(void *local, size_t local_size, const void *caller, uint32_t first_size)
{
	if (!caller)
		return -EINVAL;
	uint32_t n = size_of(caller);
	if (n < first_size)
		return -EINVAL;
	if (n > ABI_MAX_SIZE)
		return -E2BIG;
	if (n > local_size) {
		/* A newer caller: heard only if it asks nothing we do not know. */
		const unsigned char *extra = (const unsigned char *)caller + local_size;
		for (size_t i = 0; i < n - local_size; i++)
			if (extra[i])
				return -E2BIG;
	}
	memset(local, 0, local_size);
	memcpy(local, caller, n < local_size ? n : local_size);
	uint32_t whole = (uint32_t)local_size;
	memcpy(local, &whole, sizeof(whole));
	return 0;
}

int pgc__abi_check_out(const void *caller, uint32_t first_size)
{
	if (!caller || size_of(caller) < first_size)
		return -EINVAL;
	return size_of(caller) > ABI_MAX_SIZE ? -E2BIG : 0;
}

void pgc__abi_copy_out(void *caller, const void *local, size_t local_size)
{
	uint32_t n = size_of(caller);
	size_t k = n < local_size ? n : local_size;
	if (k > sizeof(uint32_t))
		memcpy((char *)caller + sizeof(uint32_t), (const char *)local + sizeof(uint32_t),
		       k - sizeof(uint32_t));
	if (n > local_size)
		memset((char *)caller + local_size, 0, n - local_size);
}
