/*
 * Consistency checks of a quiescent cache (pgc_cache_check,
 * pgc_mapping_check): the frames, the free lists, the LRU lists, each
 * mapping's index and its tags, the handles attached to pages and the
 * counters that summarise them must all tell the same story.
 * pgc_cache_check first waits for background readahead to finish.
 *
 * The checks read structures that other threads change without the locks
 * taken here (flags, reference counts), so they are meant for a cache that
 * no other thread is using: tests call them between operations. Lists are
 * walked under their locks and with a step limit, so a corrupted list ends
 * the walk with a report rather than a loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fork_internal.h"
#include "clpage_internal.h"
#include "mapping_internal.h"
#include "tsan_internal.h"

/* What a check found: the first problem's text, and how many there were. */
struct check {
	const struct pgc_cache *cache;
	char *why;
	size_t why_len;
	unsigned problems;
};

__attribute__((format(printf, 2, 3))) static void problem(struct check *ck, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ck->problems++ == 0 && ck->why && ck->why_len)
		snprintf(ck->why, ck->why_len, "%s", buf);
	pgc__log(ck->cache, PGC_LOG_ERROR, "consistency check: %s", buf);
}

static void check_init(struct check *ck, const struct pgc_cache *c, char *why, size_t why_len)
{
	ck->cache = c;
	ck->why = why;
	ck->why_len = why_len;
	ck->problems = 0;
	if (why && why_len)
		why[0] = '\0';
}

static int check_result(const struct check *ck)
{
	return ck->problems ? -EUCLEAN : 0;
}

static uint64_t nr_frames(const struct pgc_cache *c)
{
	return atomic_load_explicit(&c->frames.nr_frames, memory_order_acquire);
}

/* A frame id that names an existing frame. */
static bool valid_id(const struct pgc_cache *c, uint32_t id)
{
	uint32_t chunk = id >> PGC_CHUNK_SHIFT, slot = id & ((1u << PGC_CHUNK_SHIFT) - 1u);
	return id != PGC_FRAME_NONE &&
	       chunk < atomic_load_explicit(&c->frames.nr_chunks, memory_order_acquire) &&
	       slot >= 1 && slot <= c->frames.chunks[chunk]->nr_frames;
}

/* --- a mapping: its index and its tags --- */

static void check_index(struct check *ck, struct pgc_mapping *m)
{
	size_t ps = m->cache->frames.page_size;
	uint64_t size = atomic_load_explicit(&m->size, memory_order_relaxed);
	uint64_t listed = 0, limit = nr_frames(m->cache) + 1;
	uint64_t at = 0;
	uint32_t id;

	rcu_read_lock();
	while ((id = pgc__pgx_next(&m->index, &at, UINT64_MAX)) != PGC_FRAME_NONE) {
		uint64_t slot_index = at;
		if (at != UINT64_MAX)
			at++;
		if (!valid_id(m->cache, id)) {
			problem(ck, "mapping %p: index %llu holds %#x, which names no frame", (void *)m,
				(unsigned long long)slot_index, id);
			if (slot_index == UINT64_MAX)
				break;
			continue;
		}
		struct pgc_page *p = pgc__frames_page(&m->cache->frames, id);
		if (++listed > limit) {
			problem(ck, "mapping %p: index holds more pages than the cache has frames",
				(void *)m);
			break;
		}
		if (!pgc__frames_owns(&m->cache->frames, p)) {
			problem(ck, "mapping %p: index entry %p is not a frame of the cache", (void *)m,
				(void *)p);
			continue;
		}
		uint32_t f = pgc__flags(p);
		uint64_t index = atomic_load_explicit(&p->index, memory_order_relaxed);
		if (index != slot_index)
			problem(ck, "page %#x is at index %llu of mapping %p's index but says %llu",
				pgc__page_id(p), (unsigned long long)slot_index, (void *)m,
				(unsigned long long)index);
		int refs = atomic_load_explicit(&p->refcount, memory_order_relaxed);
		if (atomic_load_explicit(&p->mapping, memory_order_relaxed) != m)
			problem(ck, "page %#x (index %llu) is in mapping %p's index but names mapping %p",
				pgc__page_id(p), (unsigned long long)index, (void *)m,
				(void *)atomic_load_explicit(&p->mapping, memory_order_relaxed));
		if (f & PGC_BIT(PGC_PGI_FREE))
			problem(ck, "page %#x (index %llu) is in an index and free", pgc__page_id(p),
				(unsigned long long)index);
		if (refs < 1)
			problem(ck, "page %#x (index %llu) is in an index with %d references",
				pgc__page_id(p), (unsigned long long)index, refs);
		if (pgc__mapping_lookup(m, index) != p)
			problem(ck, "mapping %p: a lookup of index %llu does not find its page %#x",
				(void *)m, (unsigned long long)index, pgc__page_id(p));
		else
			pgc__put(p); /* the lookup's reference */
		if ((f & PGC_BIT(PGC_PGI_ONDIRTY)) && !pgc__pgx_tagged(&m->index, index, PGC_TAG_DIRTY))
			problem(ck, "page %#x (index %llu) has ONDIRTY but no dirty tag",
				pgc__page_id(p), (unsigned long long)index);
		bool locked = f & PGC_BIT(PGC_PG_LOCKED);
		bool is_dirty = f & PGC_BIT(PGC_PG_DIRTY), on = f & PGC_BIT(PGC_PGI_ONDIRTY);
		/* A locked page may be between clear_dirty_for_io and start_writeback. */
		if (is_dirty != on && !locked)
			problem(ck, "page %#x (index %llu): DIRTY is %d but tagged dirty is %d",
				pgc__page_id(p), (unsigned long long)index, is_dirty, on);
		if (is_dirty && index * ps >= size)
			problem(ck, "page %#x: dirty at index %llu, past the mapping's size %llu",
				pgc__page_id(p), (unsigned long long)index, (unsigned long long)size);
		if (is_dirty && !(f & PGC_BIT(PGC_PG_UPTODATE)))
			problem(ck, "page %#x (index %llu) is dirty but not up to date",
				pgc__page_id(p), (unsigned long long)index);
		if (!(f & (PGC_BIT(PGC_PG_LRU) | PGC_BIT(PGC_PGI_ISOLATED))))
			problem(ck, "page %#x (index %llu) is in an index but on no LRU list",
				pgc__page_id(p), (unsigned long long)index);
		if ((f & PGC_BIT(PGC_PGI_HANDLE)) && !pgc__clpage_attached_to(p))
			problem(ck, "page %#x (index %llu): its handle does not point back to it",
				pgc__page_id(p), (unsigned long long)index);
		if (slot_index == UINT64_MAX)
			break;
	}
	pgc__rcu_read_unlock();

	uint64_t nr = atomic_load_explicit(&m->nr_pages, memory_order_relaxed);
	if (m->index.nr != listed)
		problem(ck, "mapping %p: the index counts %llu ids, a walk finds %llu", (void *)m,
			(unsigned long long)m->index.nr, (unsigned long long)listed);
	if (listed != nr)
		problem(ck, "mapping %p: index holds %llu pages, the count says %llu", (void *)m,
			(unsigned long long)listed, (unsigned long long)nr);
}

/* The index's own invariants and its tags against the pages' flags. */
static void check_tags(struct check *ck, struct pgc_mapping *m)
{
	uint64_t limit = nr_frames(m->cache) + 1;
	uint64_t nr_tagged[PGC_PGX_NR_TAGS] = {0};
	const char *why;

	pthread_mutex_lock(&m->index_lock);
	if (pgc__pgx_check(&m->index, &why))
		problem(ck, "mapping %p: the index is damaged: %s", (void *)m, why);
	for (int tag = 0; tag < (int)PGC_PGX_NR_TAGS; tag++) {
		uint64_t at = 0;
		uint32_t id;
		while ((id = pgc__pgx_next_tagged(&m->index, &at, UINT64_MAX, tag)) !=
		       PGC_FRAME_NONE) {
			if (++nr_tagged[tag] > limit || !valid_id(m->cache, id))
				break; /* check_index() tells what is wrong with the ids */
			struct pgc_page *p = pgc__frames_page(&m->cache->frames, id);
			uint32_t f = pgc__flags(p);
			if (tag == PGC_TAG_DIRTY && !(f & PGC_BIT(PGC_PGI_ONDIRTY)))
				problem(ck, "page %#x (index %llu) is tagged dirty without ONDIRTY",
					id, (unsigned long long)at);
			if (tag == PGC_TAG_WRITEBACK && !(f & PGC_BIT(PGC_PG_WRITEBACK)))
				problem(ck, "page %#x (index %llu) is tagged writeback but is not",
					id, (unsigned long long)at);
			if (tag == PGC_TAG_TOWRITE && !pgc__pgx_tagged(&m->index, at, PGC_TAG_DIRTY))
				problem(ck, "page %#x (index %llu) is tagged to write but not dirty",
					id, (unsigned long long)at);
			if (at == UINT64_MAX)
				break;
			at++;
		}
	}
	uint64_t nr = atomic_load_explicit(&m->nr_dirty, memory_order_relaxed);
	pthread_mutex_unlock(&m->index_lock);
	if (nr_tagged[PGC_TAG_DIRTY] != nr)
		problem(ck, "mapping %p: %llu pages are tagged dirty, the count says %llu", (void *)m,
			(unsigned long long)nr_tagged[PGC_TAG_DIRTY], (unsigned long long)nr);
}

static void check_mapping(struct check *ck, struct pgc_mapping *m)
{
	check_index(ck, m);
	check_tags(ck, m);
}

PGC_API int pgc_mapping_check(pgc_mapping *mapping, char *why, size_t why_len)
{
	if (!mapping)
		return -EINVAL;
	struct check ck;
	check_init(&ck, mapping->cache, why, why_len);
	check_mapping(&ck, mapping);
	return check_result(&ck);
}

/* --- the cache: frames, pools, LRU lists, and every mapping that has pages --- */

/* Per pool: what the frames say. */
struct pool_tally {
	uint64_t inuse, free, writeback;
};

static void check_free_list(struct check *ck, struct pgc_cache *c, unsigned idx)
{
	struct pgc_frame_pool *pool = &c->nodes[idx].pool;
	uint64_t limit = nr_frames(c) + 1, walked = 0;
	int node = c->nodes[idx].id;

	for (uint32_t id = pool->free_head; id != PGC_FRAME_NONE;) {
		if (!valid_id(c, id)) {
			problem(ck, "node %d: free list holds the bad frame id %#x", node, id);
			break;
		}
		if (++walked > limit) {
			problem(ck, "node %d: free list has a cycle", node);
			break;
		}
		struct pgc_page *p = pgc__frames_page(&c->frames, id);
		if (!pgc__test(p, PGC_PGI_FREE))
			problem(ck, "page %#x is on node %d's free list without FREE", id, node);
		if (pgc__page_node_of(p) != node)
			problem(ck, "page %#x of node %d is on node %d's free list", id,
				pgc__page_node_of(p), node);
		id = p->lru_next;
	}
	if (walked != pool->nr_free)
		problem(ck, "node %d: free list holds %llu frames, the count says %llu", node,
			(unsigned long long)walked, (unsigned long long)pool->nr_free);
}

static void check_pool(struct check *ck, struct pgc_cache *c, unsigned idx,
		       const struct pool_tally *t)
{
	struct pgc_frame_pool *pool = &c->nodes[idx].pool;
	int node = c->nodes[idx].id;

	pthread_mutex_lock(&pool->lock);
	check_free_list(ck, c, idx);
	uint64_t inuse = atomic_load_explicit(&pool->nr_inuse, memory_order_relaxed);
	uint64_t free_all = pool->nr_free + pool->nr_taken;
	if (inuse + free_all != pool->nr_frames)
		problem(ck, "node %d: %llu in use + %llu free or on their way != %llu frames",
			node, (unsigned long long)inuse, (unsigned long long)free_all,
			(unsigned long long)pool->nr_frames);
	if (t->inuse != inuse)
		problem(ck, "node %d: %llu frames are in use, the count says %llu", node,
			(unsigned long long)t->inuse, (unsigned long long)inuse);
	if (t->free != free_all)
		problem(ck, "node %d: %llu frames are free, the counts say %llu", node,
			(unsigned long long)t->free, (unsigned long long)free_all);
	if (pool->nr_frames > pool->limit)
		problem(ck, "node %d: %llu frames, over its limit of %llu", node,
			(unsigned long long)pool->nr_frames, (unsigned long long)pool->limit);
	pthread_mutex_unlock(&pool->lock);
}

static void check_lru(struct check *ck, struct pgc_cache *c, unsigned idx)
{
	static const char *const names[PGC_NR_LRU] = { "inactive", "active", "unevictable" };
	struct pgc_lru *lru = &c->nodes[idx].lru;
	int node = c->nodes[idx].id;
	uint64_t limit = nr_frames(c) + 1;

	pthread_mutex_lock(&lru->lock);
	for (int l = 0; l < PGC_NR_LRU; l++) {
		uint64_t walked = 0;
		uint32_t prev = PGC_FRAME_NONE;
		for (uint32_t id = lru->head[l]; id != PGC_FRAME_NONE;) {
			if (!valid_id(c, id)) {
				problem(ck, "node %d: %s list holds the bad frame id %#x", node,
					names[l], id);
				break;
			}
			if (++walked > limit) {
				problem(ck, "node %d: %s list has a cycle", node, names[l]);
				break;
			}
			struct pgc_page *p = pgc__frames_page(&c->frames, id);
			uint32_t f = pgc__flags(p);
			if (p->lru_prev != prev)
				problem(ck, "node %d: %s list page %#x links back to %#x, not %#x",
					node, names[l], id, p->lru_prev, prev);
			if (!(f & PGC_BIT(PGC_PG_LRU)) || (f & PGC_BIT(PGC_PGI_ISOLATED)) ||
			    (f & PGC_BIT(PGC_PGI_FREE)))
				problem(ck, "page %#x on node %d's %s list has flags %#x", id, node,
					names[l], f & PGC_FLAGS_MASK);
			int want = (f & PGC_BIT(PGC_PG_UNEVICTABLE)) ? PGC_LRU_UNEVICTABLE
				   : (f & PGC_BIT(PGC_PG_ACTIVE))    ? PGC_LRU_ACTIVE
								       : PGC_LRU_INACTIVE;
			if (want != l)
				problem(ck, "page %#x is on node %d's %s list, its flags say %s", id,
					node, names[l], names[want]);
			if (pgc__page_node_of(p) != node)
				problem(ck, "page %#x of node %d is on node %d's %s list", id,
					pgc__page_node_of(p), node, names[l]);
			prev = id;
			id = p->lru_next;
		}
		if (prev != lru->tail[l] && walked <= limit)
			problem(ck, "node %d: %s list ends at %#x, its tail says %#x", node, names[l],
				prev, lru->tail[l]);
		if (walked != lru->nr[l])
			problem(ck, "node %d: %s list holds %llu pages, the count says %llu", node,
				names[l], (unsigned long long)walked, (unsigned long long)lru->nr[l]);
	}
	pthread_mutex_unlock(&lru->lock);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
	return x < y ? -1 : x > y;
}

PGC_API int pgc_cache_check(pgc_cache *cache, char *why, size_t why_len)
{
	if (!cache)
		return -EINVAL;
	/* Background fills add pages as they go: the check needs them done. */
	if (!pgc__fork_inherited(cache->fork_gen))
		pgc__filler_drain(&cache->filler);
	struct check ck;
	check_init(&ck, cache, why, why_len);

	struct pool_tally *tally = calloc(cache->nr_nodes, sizeof(*tally));
	uint64_t frames = nr_frames(cache), in_maps = 0, nr_maps = 0, writeback = 0;
	struct pgc_mapping **maps = calloc(frames ? frames : 1, sizeof(*maps));
	if (!tally || !maps) {
		free(tally);
		free(maps);
		return -ENOMEM;
	}

	uint32_t chunks = atomic_load_explicit(&cache->frames.nr_chunks, memory_order_acquire);
	uint64_t counted = 0;
	for (uint32_t ci = 0; ci < chunks; ci++) {
		struct pgc_chunk *ch = cache->frames.chunks[ci];
		if (ch->magic != PGC_CHUNK_MAGIC || ch->chunk_no != ci || ch->cache != cache) {
			problem(&ck, "chunk %u has a bad header", ci);
			continue;
		}
		counted += ch->nr_frames;
		for (uint32_t s = 1; s <= ch->nr_frames; s++) {
			struct pgc_page *p = pgc__chunk_page(ch, s);
			uint32_t f = pgc__flags(p);
			int node = pgc__page_node_of(p), idx = pgc__node_index(cache, node);
			int refs = atomic_load_explicit(&p->refcount, memory_order_relaxed);
			struct pgc_mapping *m = atomic_load_explicit(&p->mapping, memory_order_relaxed);
			if (idx < 0) {
				problem(&ck, "page %#x names node %d, which the cache does not use",
					pgc__page_id(p), node);
				continue;
			}
			if (f & PGC_BIT(PGC_PGI_FREE)) {
				tally[idx].free++;
				if (refs != 0 || m)
					problem(&ck, "free page %#x has %d references and mapping %p",
						pgc__page_id(p), refs, (void *)m);
				continue;
			}
			tally[idx].inuse++;
			if (refs < 1)
				problem(&ck, "page %#x is in use with %d references", pgc__page_id(p),
					refs);
			if (f & PGC_BIT(PGC_PG_WRITEBACK))
				writeback++;
			if ((f & PGC_BIT(PGC_PGI_HANDLE)) && !(f & PGC_BIT(PGC_PG_PRIVATE)))
				problem(&ck, "page %#x has a handle but no PRIVATE flag",
					pgc__page_id(p));
			if (!m) {
				if (f & (PGC_BIT(PGC_PGI_ONDIRTY) | PGC_BIT(PGC_PGI_HANDLE)))
					problem(&ck, "page %#x is in no mapping but has flags %#x",
						pgc__page_id(p), f & PGC_FLAGS_MASK);
				continue;
			}
			in_maps++;
			maps[nr_maps++] = m;
		}
	}
	if (counted != frames)
		problem(&ck, "the chunks hold %llu frames, the count says %llu",
			(unsigned long long)counted, (unsigned long long)frames);

	for (unsigned i = 0; i < cache->nr_nodes; i++) {
		check_pool(&ck, cache, i, &tally[i]);
		check_lru(&ck, cache, i);
	}

	/* Each mapping that has pages, once; their counts add up to the cache's. */
	qsort(maps, nr_maps, sizeof(*maps), cmp_ptr);
	uint64_t pages = 0, dirty = 0, dirty_counted = 0;
	for (uint64_t i = 0; i < nr_maps; i++) {
		if (i > 0 && maps[i] == maps[i - 1])
			continue;
		check_mapping(&ck, maps[i]);
		pages += atomic_load_explicit(&maps[i]->nr_pages, memory_order_relaxed);
		uint64_t d = atomic_load_explicit(&maps[i]->nr_dirty, memory_order_relaxed);
		dirty += d;
		if (maps[i]->wb_counted)
			dirty_counted += d;
		/* On the dirty list exactly while it has dirty pages that count. */
		pthread_mutex_lock(&cache->wb.lock);
		bool listed = !cds_list_empty(&maps[i]->wb_link);
		pthread_mutex_unlock(&cache->wb.lock);
		if (listed != (maps[i]->wb_counted && d > 0))
			problem(&ck, "a mapping with %llu dirty pages is %son the dirty list",
				(unsigned long long)d, listed ? "" : "not ");
	}
	/* Mappings without pages have no dirty ones: the lists agree. */
	uint64_t c_counted = atomic_load_explicit(&cache->wb.nr_dirty, memory_order_relaxed);
	if (dirty_counted != c_counted)
		problem(&ck, "the mappings hold %llu dirty pages that count, the cache counts %llu",
			(unsigned long long)dirty_counted, (unsigned long long)c_counted);
	if (pages != in_maps)
		problem(&ck, "%llu frames name a mapping, the mappings count %llu pages",
			(unsigned long long)in_maps, (unsigned long long)pages);
	uint64_t c_dirty = atomic_load_explicit(&cache->nr_dirty, memory_order_relaxed);
	if (dirty != c_dirty)
		problem(&ck, "the mappings hold %llu dirty pages, the cache counts %llu",
			(unsigned long long)dirty, (unsigned long long)c_dirty);
	uint64_t c_wb = atomic_load_explicit(&cache->nr_writeback, memory_order_relaxed);
	if (writeback != c_wb)
		problem(&ck, "%llu pages are under writeback, the cache counts %llu",
			(unsigned long long)writeback, (unsigned long long)c_wb);

	free(maps);
	free(tally);
	return check_result(&ck);
}
