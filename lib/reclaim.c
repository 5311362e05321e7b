/*
 * Reclaim and page allocation: the layer that keeps the cache within its
 * capacity.
 *
 * Allocation takes a free frame from the wanted node, or (unless strict) the
 * nearest node that has one; a strict allocation whose node has none and may
 * not grow gets a free frame of another node moved to it (frames.c); when no
 * node has room left, reclaim runs on the wanted node first, then on the
 * others by distance.
 *
 * Reclaim works like the kernel's shrink_inactive_list on a second-chance
 * LRU. It isolates a batch of pages from the tail of a node's inactive list
 * (taking a reference each) and decides about each page alone: a referenced
 * page is activated; a page that is locked, under writeback, pinned by
 * another holder or refused by releasepage is kept; a dirty page is written
 * back through writepage first (unless the caller may not sleep); a clean
 * page is frozen at the expected count (mapping + reclaim), removed from
 * its index and freed. The active list is aged into the inactive list so it
 * never outgrows it. Reclaim only trylocks pages, so it cannot deadlock with
 * a caller that holds page locks.
 */
#include <errno.h>
#include <time.h>

#include "numa_internal.h"
#include "reclaim_internal.h"
#include "writeback_internal.h"

#define PGC_RECLAIM_BATCH 32u

enum shrink_result { PAGE_KEEP, PAGE_FREED };

/*
 * What reclaim found in its way: the write error of a dirty page it could
 * not clean (its own writepage failed, or the mapping backs off after
 * failures). When no frame can be had, the allocation fails with it rather
 * than with -ENOMEM: the store is the problem, not memory.
 */
struct shrink_ctl {
	bool may_write;
	int write_err;
};

static enum shrink_result shrink_page(struct pgc_cache *c, struct pgc_page *p,
				      struct shrink_ctl *sc)
{
	bool may_write = sc->may_write;
	pgc__stat_inc(c, PGC_ST_RECLAIM_SCANS);
	struct pgc_mapping *m = atomic_load_explicit(&p->mapping, memory_order_acquire);
	/* A page that left its mapping is not put back (see lru putback). */
	if (!m || pgc__test(p, PGC_PG_UNEVICTABLE))
		return PAGE_KEEP;
	if (pgc__test_and_clear(p, PGC_PG_REFERENCED)) {
		pgc__set(p, PGC_PG_ACTIVE);
		return PAGE_KEEP;
	}
	if (!pgc__trylock(p))
		return PAGE_KEEP;
	if (atomic_load_explicit(&p->mapping, memory_order_relaxed) != m ||
	    pgc__test(p, PGC_PG_WRITEBACK))
		goto keep_locked;
	if (pgc__test(p, PGC_PG_DIRTY)) {
		if (!may_write || !m->ops.writepage)
			goto keep_locked;
		if (pgc__wb_backing_off(m)) {
			/* Its store failed lately: no retry in a tight loop.
			 * Out of the inactive list's way (the kernel activates
			 * what it cannot reclaim), so clean pages behind it
			 * are found. */
			if (!sc->write_err)
				sc->write_err = atomic_load_explicit(&m->wb_last_err,
								     memory_order_relaxed);
			pgc__set(p, PGC_PG_ACTIVE);
			goto keep_locked;
		}
		struct pgc_writeback_control wbc = {
			.size = sizeof(wbc),
			.sync_mode = PGC_WB_NONE,
			.range_start = atomic_load_explicit(&p->index, memory_order_relaxed),
			.nr_to_write = 1,
			.for_reclaim = 1,
		};
		wbc.range_end = wbc.range_start;
		pgc__stat_inc(c, PGC_ST_RECLAIM_WRITES);
		int err = pgc_mapping_write_page(p, &wbc);
		if (err && !sc->write_err)
			sc->write_err = err;
		if (err || pgc__test(p, PGC_PG_DIRTY))
			goto keep_locked;
	}
	if (!pgc__mapping_release_private(m, p))
		goto keep_locked;
	if (pgc__mapping_evict(m, p) == 0) {
		pgc__stat_inc(c, PGC_ST_EVICTIONS);
		return PAGE_FREED;
	}
keep_locked:
	pgc__unlock(p);
	return PAGE_KEEP;
}

/* Frees up to nr pages of one node; returns how many it freed. */
static unsigned long shrink_node(struct pgc_cache *c, unsigned pi, unsigned long nr,
				 struct shrink_ctl *sc)
{
	struct pgc_page *batch[PGC_RECLAIM_BATCH], *keep[PGC_RECLAIM_BATCH];
	uint64_t counts[PGC_NR_LRU];
	pgc__lru_counts(c, pi, counts);
	unsigned long budget = 2 * (counts[PGC_LRU_INACTIVE] + counts[PGC_LRU_ACTIVE]) +
			       PGC_RECLAIM_BATCH;
	unsigned long freed = 0, scanned = 0;

	pgc__lru_isolating_begin(c);
	while (freed < nr && scanned < budget) {
		pgc__lru_counts(c, pi, counts);
		if (counts[PGC_LRU_ACTIVE] > counts[PGC_LRU_INACTIVE])
			pgc__lru_age_active(c, pi, PGC_RECLAIM_BATCH);
		unsigned want = nr - freed < PGC_RECLAIM_BATCH ? (unsigned)(nr - freed) : PGC_RECLAIM_BATCH;
		unsigned n = pgc__lru_isolate(c, pi, PGC_LRU_INACTIVE, batch, want);
		if (n == 0) {
			if (counts[PGC_LRU_ACTIVE] == 0 ||
			    !pgc__lru_age_active(c, pi, PGC_RECLAIM_BATCH)) {
				if (counts[PGC_LRU_ACTIVE] == 0)
					break;
				scanned += PGC_RECLAIM_BATCH;
			}
			continue;
		}
		scanned += n;
		unsigned nk = 0;
		for (unsigned i = 0; i < n; i++) {
			if (shrink_page(c, batch[i], sc) == PAGE_FREED)
				freed++;
			else
				keep[nk++] = batch[i];
		}
		pgc__lru_putback(c, keep, nk);
		/* Nothing of the batch could go (dirty, locked, busy): the
		 * clean pages may all be active; bring some down to look at. */
		if (nk == n && counts[PGC_LRU_ACTIVE] > 0)
			pgc__lru_age_active(c, pi, PGC_RECLAIM_BATCH);
	}
	pgc__lru_isolating_end(c);
	return freed;
}

/* Reclaims from the pools in order[0..nr_order), stopping once nr pages are free. */
static unsigned long reclaim_order(struct pgc_cache *c, const unsigned *order, unsigned nr_order,
				   unsigned long nr, struct shrink_ctl *sc)
{
	unsigned long freed = 0;
	for (unsigned i = 0; i < nr_order && freed < nr; i++)
		freed += shrink_node(c, order[i], nr - freed, sc);
	return freed;
}

static unsigned home_pool(struct pgc_cache *c)
{
	int i = pgc__node_index(c, pgc__numa_current_node());
	return i < 0 ? 0 : (unsigned)i;
}

PGC_API long pgc_cache_reclaim(pgc_cache *cache, unsigned long nr)
{
	if (!cache)
		return -EINVAL;
	const unsigned *order = &cache->fallback[home_pool(cache) * cache->nr_nodes];
	struct shrink_ctl sc = {.may_write = true};
	return (long)reclaim_order(cache, order, cache->nr_nodes, nr, &sc);
}

#define PGC_ALLOC_MAX_WAITS 100u
#define PGC_ALLOC_MAX_RECLAIMS 1024u

PGC_API int pgc_page_alloc(pgc_cache *cache, int node, unsigned flags, pgc_page **pagep)
{
	if (pagep)
		*pagep = NULL;
	if (!cache || !pagep || (flags & ~(PGC_ALLOC_NOWAIT | PGC_ALLOC_STRICT)))
		return -EINVAL;
	return pgc__page_alloc(cache, node, flags, pagep);
}

int pgc__page_alloc(struct pgc_cache *cache, int node, unsigned flags, struct pgc_page **pagep)
{
	unsigned pi;
	if (node == PGC_NODE_ANY) {
		pi = home_pool(cache);
	} else {
		int i = pgc__node_index(cache, node);
		if (i < 0)
			return -ENOENT;
		pi = (unsigned)i;
	}
	bool strict = flags & PGC_ALLOC_STRICT, may_sleep = !(flags & PGC_ALLOC_NOWAIT);
	const unsigned *order = strict ? &pi : &cache->fallback[pi * cache->nr_nodes];
	unsigned nr_order = strict ? 1 : cache->nr_nodes;
	/* A batch, but not most of a small cache for one page. */
	unsigned long want = cache->frames.capacity / 64;
	want = want < 1 ? 1 : want > PGC_RECLAIM_BATCH ? PGC_RECLAIM_BATCH : want;

	/* Attempts that reclaimed something, and waits after one that found
	 * nothing it could take while other threads hold pages off the LRU
	 * lists (a concurrent reclaim or migration): a small cache under load
	 * should wait for them, not fail; so for pages under writeback. The
	 * waits grow from 20 us to 2 ms, about 0.1 s in all. When nobody else
	 * holds pages (this thread's own migration holds them, say), waiting
	 * cannot help. */
	unsigned idle = 0;
	struct shrink_ctl sc = {.may_write = may_sleep};
	/* The first frame this thread's reclaim frees is captured for it
	 * (frames_internal.h); the others go to the free list, where other
	 * allocators may take them. A reclaim that freed something but had
	 * nothing captured (it freed frames another thread then put back, or
	 * pages of a pool not allowed here) made progress for others and is
	 * retried, up to PGC_ALLOC_MAX_RECLAIMS times. */
	for (unsigned attempt = 0; attempt < PGC_ALLOC_MAX_RECLAIMS;) {
		/* Free frames on any allowed node first. */
		for (unsigned i = 0; i < nr_order; i++) {
			struct pgc_page *p = pgc__frames_get(cache, order[i]);
			if (p) {
				*pagep = p;
				return 0;
			}
		}
		if (strict && cache->nr_nodes > 1) {
			/* The node has no free frame and may not grow: other
			 * nodes' frames may hold the capacity while they are
			 * free. One of them moves here rather than a page of
			 * this node being evicted. */
			struct pgc_page *p;
			if (pgc__frames_get_moved(cache, pi, &p) == 0) {
				*pagep = p;
				return 0;
			}
		}
		if (flags & PGC__ALLOC_NORECLAIM)
			break;
		struct pgc_frame_capture cc;
		pgc__frames_capture_begin(&cc, cache, order, nr_order);
		unsigned long got = reclaim_order(cache, order, nr_order, want, &sc);
		struct pgc_page *captured = pgc__frames_capture_end(&cc);
		if (captured) {
			*pagep = captured;
			return 0;
		}
		if (got > 0) {
			attempt++;
			continue;
		}
		/* Pages under writeback come back clean (or dirty again,
		 * with the store's error) when their write ends, which a
		 * batched writeback of many runs makes take a while: wait for
		 * them too, as the kernel's reclaim throttles on writeback. */
		bool others = pgc__lru_others_isolating(cache) ||
			      atomic_load_explicit(&cache->nr_writeback, memory_order_relaxed) > 0;
		if (!may_sleep || idle >= PGC_ALLOC_MAX_WAITS || !others)
			break;
		idle++;
		struct timespec ts = {0, (long)idle * 20000L};
		nanosleep(&ts, NULL);
	}
	pgc__stat_inc(cache, PGC_ST_ALLOC_FAILURES);
	/* Dirty pages whose store fails held the frames: its error, not ours. */
	return sc.write_err ? sc.write_err : -ENOMEM;
}
