/*
 * Dirty limits, writer throttling and the background writeback thread
 * (balance.c): the kernel's balance_dirty_pages and its flusher, for the
 * pages of one cache.
 */
#ifndef PGC_BALANCE_INTERNAL_H
#define PGC_BALANCE_INTERNAL_H

#include "mapping_internal.h"

/* Sets up a new cache's limits from its configuration (and starts the
 * thread if asked); 0, or -EAGAIN if the thread could not start. */
int pgc__wb_init(struct pgc_cache *c, const struct pgc_cache_config *cfg, uint64_t capacity);

/* Stops the thread (in the process that started it) and frees what init set up. */
void pgc__wb_fini(struct pgc_cache *c);

/* Wakes the writeback thread if it sleeps while it has work. */
void pgc__wb_kick(struct pgc_cache *c);

/*
 * Called before a write dirties a page of m: waits while the cache is at
 * its dirty limit (see pgc_mapping_balance_dirty()). The caller holds no
 * page lock and no mapping lock. 0, or why the write cannot go on.
 */
int pgc__balance_dirty(struct pgc_mapping *m);

/*
 * What the dirty limit counts: dirty pages and pages under writeback, as
 * the kernel's balance_dirty_pages does. A batched writeback has many pages
 * in flight at once; if writers could dirty more meanwhile, a store that
 * then fails the batch would find most of the cache dirty and leave readers
 * no frame to take.
 */
static inline uint64_t pgc__dirty_and_writeback(const struct pgc_cache *c)
{
	return atomic_load_explicit(&c->wb.nr_dirty, memory_order_relaxed) +
	       atomic_load_explicit(&c->nr_writeback, memory_order_relaxed);
}

/* True when dirtying one more page of m must go through pgc__balance_dirty(). */
static inline bool pgc__dirty_exceeded(const struct pgc_mapping *m)
{
	const struct pgc_wb *wb = &m->cache->wb;
	return m->wb_counted && pgc__dirty_and_writeback(m->cache) >= wb->background;
}

#endif /* PGC_BALANCE_INTERNAL_H */
