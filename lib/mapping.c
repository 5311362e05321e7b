/*
 * Mappings: the index from page number to page of one cached object (the
 * kernel's address_space), its tagged dirty set, truncate and invalidate.
 *
 * The index is a radix tree of frame ids (pgindex.c) with RCU readers and
 * its writers under the mapping's index lock. A lookup runs inside an RCU
 * read-side critical section, takes a speculative reference (get unless
 * zero) on the descriptor the id names and re-checks the page's mapping
 * and index, as find_get_page does: a page being evicted is frozen at count
 * 0, so the lookup retries and then misses; a descriptor reused meanwhile
 * fails the re-check. Nothing of the index lives in a descriptor, so a
 * page that left one index may enter another at once.
 *
 * Writers change a page's membership only with the page locked (insert of a
 * new page excepted), which serialises truncate, delete, reclaim and
 * invalidate on the same page. The index's tags (dirty, writeback, to
 * write) and page->mapping change under the index lock too, so dirty
 * accounting never sees half a removal, and writeback, sync, truncate and
 * invalidate walk exactly the pages they need, in index order.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdalign.h>
#include <string.h>

#include "abi_internal.h"
#include "alloc_internal.h"
#include "fork_internal.h"
#include "mapping_internal.h"
#include "tsan_internal.h"
#include "wait_internal.h"

/*
 * The speculative reference of a lookup: the page frame id names, with a
 * reference, if it still is m's page at index; NULL if it is free, frozen
 * or now another page. Under rcu_read_lock().
 *
 * Frames are reused without a grace period (frames.c), so the frame a slot
 * named may meanwhile be another page, or a page that is about to enter
 * the index at this very place and is not there yet (the new page of a
 * migration, whose mapping and index are set before the slot store, or a
 * page whose insertion loses a race). Its identity alone does not prove
 * it: once the reference is held, the slot must still name it (the
 * kernel's xas_reload() after folio_try_get()).
 */
static inline struct pgc_page *get_if_at(struct pgc_mapping *m, uint32_t id, uint64_t index)
{
	struct pgc_page *p = pgc__frames_page(&m->cache->frames, id);
	pgc__hb_acquire(p); /* published by pgc__mapping_add() */
	if (pgc_unlikely(!pgc__get_unless_zero(p)))
		return NULL;
	if (pgc_likely(atomic_load_explicit(&p->mapping, memory_order_acquire) == m &&
		       atomic_load_explicit(&p->index, memory_order_relaxed) == index &&
		       pgc__pgx_load(&m->index, index) == id))
		return p;
	pgc__put(p);
	return NULL;
}

struct pgc_page *pgc__mapping_lookup(struct pgc_mapping *m, uint64_t index)
{
	struct pgc_page *p;
	unsigned tries = 0;

	rcu_read_lock();
	for (;;) {
		uint32_t id = pgc__pgx_load(&m->index, index);
		if (id == PGC_FRAME_NONE) {
			p = NULL;
			break;
		}
		p = get_if_at(m, id, index);
		if (pgc_likely(p))
			break;
		/* Frozen (being evicted or replaced) or recycled: look again. */
		if (++tries > 64)
			caa_cpu_relax();
	}
	pgc__rcu_read_unlock();
	return p;
}

/* Ring direct writes this thread started and has not ended (see
 * pgc__mapping_fill_begin). */
static __thread unsigned tl_ring_writes;

void pgc__mapping_fill_wait_ring(struct pgc_mapping *m)
{
	if (tl_ring_writes)
		return;
	for (;;) {
		uint32_t n = atomic_load_explicit(&m->ring_dio_writes, memory_order_acquire);
		if (n == 0)
			return;
		/* Let go while waiting: the ring write's start needs the lock
		 * exclusive (briefly), and a direct write of a worker too. */
		pthread_rwlock_unlock(&m->dio_lock);
		pgc__wait_on(&m->ring_dio_writes, n);
		pthread_rwlock_rdlock(&m->dio_lock);
	}
}

bool pgc__mapping_range_clean(struct pgc_mapping *m, uint64_t first, uint64_t last)
{
	bool busy = false;
	rcu_read_lock();
	for (int tag = PGC_TAG_DIRTY; tag <= PGC_TAG_WRITEBACK && !busy; tag++) {
		uint64_t at = first;
		/* The root's tag bits first: one load says "none in the mapping". */
		busy = pgc__pgx_any_tagged(&m->index, tag) &&
		       pgc__pgx_next_tagged(&m->index, &at, last, tag) != PGC_FRAME_NONE;
	}
	pgc__rcu_read_unlock();
	return !busy;
}

bool pgc__mapping_ring_write_begin(struct pgc_mapping *m, uint64_t first, uint64_t last)
{
	if (pthread_rwlock_trywrlock(&m->dio_lock) != 0)
		return false;
	bool ok = pgc__mapping_range_clean(m, first, last);
	if (ok) {
		atomic_fetch_add_explicit(&m->ring_dio_writes, 1, memory_order_acq_rel);
		tl_ring_writes++;
	}
	pthread_rwlock_unlock(&m->dio_lock);
	return ok;
}

void pgc__mapping_ring_write_end(struct pgc_mapping *m)
{
	/* Ended in the thread that started it (a context is used by one
	 * thread at a time); if not, that thread merely stops waiting. */
	if (tl_ring_writes)
		tl_ring_writes--;
	if (atomic_fetch_sub_explicit(&m->ring_dio_writes, 1, memory_order_acq_rel) == 1)
		pgc__wake_all(&m->ring_dio_writes);
}

bool pgc__mapping_present(struct pgc_mapping *m, uint64_t index)
{
	rcu_read_lock();
	bool present = pgc__pgx_load(&m->index, index) != PGC_FRAME_NONE;
	pgc__rcu_read_unlock();
	return present;
}

uint64_t pgc__mapping_next_present(struct pgc_mapping *m, uint64_t index, uint64_t end)
{
	rcu_read_lock();
	uint64_t at = index;
	if (pgc__pgx_next(&m->index, &at, end) == PGC_FRAME_NONE)
		at = UINT64_MAX;
	pgc__rcu_read_unlock();
	return at;
}

static void sync_dirty_locked(struct pgc_mapping *m, struct pgc_page *page);

int pgc__mapping_add(struct pgc_mapping *m, struct pgc_page *page, uint64_t index)
{
	struct pgc_mapping *none = NULL;
	if (pgc__page_chunk(page)->cache != m->cache ||
	    atomic_load_explicit(&page->refcount, memory_order_relaxed) <= 0)
		return -EINVAL;
	if (pgc__test(page, PGC_PG_WRITEBACK))
		return -EBUSY; /* its end would miss the mapping's writeback count */
	if (!atomic_compare_exchange_strong(&page->mapping, &none, m))
		return -EINVAL;
	atomic_store_explicit(&page->index, index, memory_order_relaxed);
	pgc__page_seq_bump(page);
	pgc__get(page); /* the mapping's reference */
	pgc__hb_release(page); /* the index publishes the page */
	pthread_mutex_lock(&m->index_lock);
	int err = pgc__pgx_insert(&m->index, index, pgc__page_id(page));
	if (!err)
		sync_dirty_locked(m, page); /* a page inserted dirty */
	pthread_mutex_unlock(&m->index_lock);
	if (err) {
		atomic_store_explicit(&page->mapping, NULL, memory_order_release);
		pgc__put(page);
		return err; /* -EEXIST, or -ENOMEM for an index node */
	}
	atomic_fetch_add_explicit(&m->nr_pages, 1, memory_order_relaxed);
	pgc__stat_inc(m->cache, PGC_ST_INSERTS);
	pgc__lru_add(m->cache, page);
	return 0;
}

/*
 * The dirty set is the index's DIRTY tag, kept in line with the pages'
 * DIRTY flags through ONDIRTY (set exactly while the page's slot carries
 * the tag). Under m->index_lock, with page in m.
 */
/*
 * A mapping that can write back is on its cache's list of dirty mappings
 * (balance.c walks it, oldest dirtied first) while it has dirty pages, and
 * its dirty pages count against the cache's limits. Under m->index_lock,
 * where nr_dirty changes, so the two transitions come in order.
 */
static void dirty_count_add(struct pgc_mapping *m)
{
	if (atomic_fetch_add_explicit(&m->nr_dirty, 1, memory_order_relaxed) == 0 && m->wb_counted) {
		struct pgc_wb *wb = &m->cache->wb;
		pthread_mutex_lock(&wb->lock);
		m->dirtied_ns = pgc__now_ns();
		cds_list_add_tail(&m->wb_link, &wb->dirty);
		if (atomic_load_explicit(&wb->idle, memory_order_relaxed))
			pthread_cond_signal(&wb->wake); /* to time its expiry */
		pthread_mutex_unlock(&wb->lock);
	}
	atomic_fetch_add_explicit(&m->cache->nr_dirty, 1, memory_order_relaxed);
	if (m->wb_counted)
		atomic_fetch_add(&m->cache->wb.nr_dirty, 1); /* seq_cst: see pgc__wb_kick() */
}

static void dirty_count_sub(struct pgc_mapping *m)
{
	if (atomic_fetch_sub_explicit(&m->nr_dirty, 1, memory_order_relaxed) == 1 && m->wb_counted) {
		struct pgc_wb *wb = &m->cache->wb;
		pthread_mutex_lock(&wb->lock);
		cds_list_del_init(&m->wb_link);
		pthread_mutex_unlock(&wb->lock);
	}
	atomic_fetch_sub_explicit(&m->cache->nr_dirty, 1, memory_order_relaxed);
	if (m->wb_counted)
		atomic_fetch_sub_explicit(&m->cache->wb.nr_dirty, 1, memory_order_relaxed);
}

static void dirty_tag_set(struct pgc_mapping *m, struct pgc_page *p)
{
	uint64_t idx = atomic_load_explicit(&p->index, memory_order_relaxed);
	int err = pgc__pgx_tag_set(&m->index, idx, PGC_TAG_DIRTY);
	pgc_assert(err == 0);
	(void)err;
	pgc__set(p, PGC_PGI_ONDIRTY);
	dirty_count_add(m);
}

/* Clears DIRTY and TOWRITE (a page to write is a dirty one); erase clears them itself. */
static void dirty_tag_clear(struct pgc_mapping *m, struct pgc_page *p, bool in_index)
{
	if (in_index) {
		uint64_t idx = atomic_load_explicit(&p->index, memory_order_relaxed);
		pgc__pgx_tag_clear(&m->index, idx, PGC_TAG_DIRTY);
		pgc__pgx_tag_clear(&m->index, idx, PGC_TAG_TOWRITE);
	}
	pgc__clear(p, PGC_PGI_ONDIRTY);
	dirty_count_sub(m);
}

/* Under m->index_lock: the page's DIRTY tag follows its flag, if it is still m's. */
static void sync_dirty_locked(struct pgc_mapping *m, struct pgc_page *page)
{
	if (atomic_load_explicit(&page->mapping, memory_order_relaxed) != m)
		return;
	uint32_t f = pgc__flags(page);
	bool dirty = f & PGC_BIT(PGC_PG_DIRTY), on = f & PGC_BIT(PGC_PGI_ONDIRTY);
	if (dirty && !on)
		dirty_tag_set(m, page);
	else if (!dirty && on)
		dirty_tag_clear(m, page, true);
}

void pgc__mapping_sync_dirty(struct pgc_page *page)
{
	struct pgc_mapping *m = atomic_load_explicit(&page->mapping, memory_order_acquire);
	if (!m)
		return;
	pthread_mutex_lock(&m->index_lock);
	sync_dirty_locked(m, page); /* re-reads mapping: removal clears it under the lock */
	pthread_mutex_unlock(&m->index_lock);
}

void pgc__mapping_writeback_tag(struct pgc_mapping *m, struct pgc_page *page, bool on)
{
	pthread_mutex_lock(&m->index_lock);
	if (atomic_load_explicit(&page->mapping, memory_order_relaxed) == m) {
		uint64_t idx = atomic_load_explicit(&page->index, memory_order_relaxed);
		if (on)
			pgc__pgx_tag_set(&m->index, idx, PGC_TAG_WRITEBACK);
		else
			pgc__pgx_tag_clear(&m->index, idx, PGC_TAG_WRITEBACK);
		/* Tagged under writeback first, out of the dirty set second
		 * (if clean now), in one step for readers of the tags. */
		if (on)
			sync_dirty_locked(m, page);
	}
	pthread_mutex_unlock(&m->index_lock);
}

/* Takes a locked (or frozen) page out of the index; the mapping's reference stays for the caller to drop. */
static void remove_page(struct pgc_mapping *m, struct pgc_page *page)
{
	if (pgc__test(page, PGC_PGI_HANDLE))
		atomic_load_explicit(&m->priv_ops, memory_order_acquire)->detach(m, page);
	pthread_mutex_lock(&m->index_lock);
	int err = pgc__pgx_erase(&m->index, atomic_load_explicit(&page->index, memory_order_relaxed),
				 pgc__page_id(page)); /* and its tags */
	pgc_assert(err == 0);
	(void)err;
	pgc__page_seq_bump(page);
	pgc__clear(page, PGC_PG_DIRTY);
	if (pgc__test(page, PGC_PGI_ONDIRTY))
		dirty_tag_clear(m, page, false);
	atomic_store_explicit(&page->mapping, NULL, memory_order_release);
	pthread_mutex_unlock(&m->index_lock);
	atomic_fetch_sub_explicit(&m->nr_pages, 1, memory_order_relaxed);
}

int pgc__mapping_replace(struct pgc_mapping *m, struct pgc_page *old, struct pgc_page *new)
{
	uint64_t index = atomic_load_explicit(&old->index, memory_order_relaxed);
	atomic_store_explicit(&new->index, index, memory_order_relaxed);
	atomic_store_explicit(&new->mapping, m, memory_order_relaxed);
	pgc__hb_release(new); /* the index publishes the page */
	pthread_mutex_lock(&m->index_lock);
	/* One slot store; the slot's tags stay, and so do the counts. */
	int err = pgc__pgx_replace(&m->index, index, pgc__page_id(old), pgc__page_id(new));
	if (err) {
		pthread_mutex_unlock(&m->index_lock);
		atomic_store_explicit(&new->mapping, NULL, memory_order_relaxed);
		return err;
	}
	if (pgc__test(old, PGC_PGI_ONDIRTY)) {
		pgc__clear(old, PGC_PGI_ONDIRTY);
		pgc__set(new, PGC_PG_DIRTY);
		pgc__set(new, PGC_PGI_ONDIRTY);
	}
	pgc__clear(old, PGC_PG_DIRTY);
	pgc__page_seq_bump(old);
	atomic_store_explicit(&old->mapping, NULL, memory_order_release);
	pthread_mutex_unlock(&m->index_lock);
	return 0;
}

bool pgc__mapping_release_private(struct pgc_mapping *m, struct pgc_page *page)
{
	if (!pgc__test(page, PGC_PG_PRIVATE))
		return true;
	if (pgc__test(page, PGC_PGI_HANDLE))
		return atomic_load_explicit(&m->priv_ops, memory_order_acquire)->release(m, page);
	if (m->ops.releasepage)
		return m->ops.releasepage(m, page) != 0 && !pgc__test(page, PGC_PG_PRIVATE);
	page->private_value = 0;
	pgc__clear(page, PGC_PG_PRIVATE);
	return true;
}

int pgc__mapping_evict(struct pgc_mapping *m, struct pgc_page *page)
{
	pgc_assert(pgc__test(page, PGC_PG_LOCKED));
	if (pgc__flags(page) & (PGC_BIT(PGC_PG_DIRTY) | PGC_BIT(PGC_PG_WRITEBACK)))
		return -EBUSY;
	/* Nobody else may hold it: the mapping's reference and ours. */
	if (pgc_page_ref_freeze(page, 2))
		return -EBUSY;
	if (pgc__flags(page) & (PGC_BIT(PGC_PG_DIRTY) | PGC_BIT(PGC_PG_WRITEBACK))) {
		pgc_page_ref_unfreeze(page, 2);
		return -EBUSY;
	}
	remove_page(m, page);
	/*
	 * Frozen at 0 with no other holder: nobody sleeps on its lock, and no
	 * LRU list will take it back (reclaim isolated it, or it is on a list
	 * that the free path leaves).
	 */
	atomic_fetch_and_explicit(&page->flags, ~(PGC_BIT(PGC_PG_LOCKED) | PGC_BIT(PGC_PGI_ISOLATED)),
				  memory_order_release);
	pgc__page_free(page);
	return 0;
}

PGC_API int pgc_mapping_create(pgc_cache *cache, const struct pgc_mapping_ops *ops, void *owner,
			       uint64_t size, pgc_mapping **mappingp)
{
	if (mappingp)
		*mappingp = NULL;
	if (!cache || !mappingp)
		return -EINVAL;
	/* The caller's release of the table: operations it did not know are
	 * NULL, so their defaults apply. */
	struct pgc_mapping_ops local = {.size = sizeof(local)};
	if (ops) {
		int err = PGC__ABI_IN(local, ops, PGC_MAPPING_OPS_SIZE_0_1);
		if (err)
			return err;
	}
	struct pgc_mapping *m;
	/* Aligned, so that its cache-line groups are lines (mapping_internal.h). */
	if (pgc__memalign((void **)&m, alignof(struct pgc_mapping), sizeof(*m)))
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	/*
	 * Only the caller's size is read (PGC__ABI_IN): the members an older
	 * caller's table lacks (sync, since 0.2) stay NULL in the zeroed copy,
	 * which means their default.
	 */
	m->ops = local;
	m->cache = cache;
	m->owner = owner;
	m->fork_gen = pgc__fork_generation();
	atomic_init(&m->size, size);
	atomic_init(&m->dio_block, PGC_DIO_DEFAULT_BLOCK);
	atomic_init(&m->dio_mem_align, PGC_DIO_DEFAULT_BLOCK);
	atomic_init(&m->dio_max_segment, PGC_DIO_DEFAULT_SEGMENT);
	atomic_init(&m->ra_max, PGC_RA_DEFAULT_MAX);
	atomic_init(&m->ring_dio_writes, 0);
	atomic_init(&m->ra_next, UINT64_MAX); /* no miss yet: the first is not sequential */
	atomic_init(&m->ra_trigger, UINT64_MAX);
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&m->dio_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pgc__pgx_init(&m->index); /* empty: nothing to allocate */
	pthread_mutex_init(&m->index_lock, NULL);
	CDS_INIT_LIST_HEAD(&m->wb_link);
	m->wb_counted = m->ops.writepage || m->ops.writepages;
	pthread_mutex_init(&m->wb_log_lock, NULL);
	atomic_fetch_add(&cache->nr_mappings, 1);
	*mappingp = m;
	return 0;
}

static void truncate_pages(struct pgc_mapping *m, uint64_t new_size);

PGC_API int pgc_mapping_destroy(pgc_mapping *m)
{
	if (!m)
		return 0;
	/*
	 * A child's copy of a parent's mapping is dropped as it is: its dirty
	 * pages are the parent's to write, and its locks may be held by
	 * threads that are not in this process (cache.h, fork).
	 */
	if (pgc_unlikely(pgc__fork_inherited(m->fork_gen))) {
		atomic_fetch_sub(&m->cache->nr_mappings, 1);
		return 0;
	}
	if (atomic_load(&m->nr_dirty) > 0 || atomic_load(&m->nr_writeback) > 0)
		return -EBUSY;
	pgc__fill_wait(m); /* background reads of its pages */
	/* Drops the clean pages; the store keeps its size (no resize). */
	truncate_pages(m, 0);
	if (atomic_load(&m->nr_dirty) > 0 || atomic_load(&m->nr_pages) > 0)
		return -EBUSY;
	/* Clean, so off the dirty list; a background step that took it
	 * before it went clean may still be working on it. */
	struct pgc_wb *wb = &m->cache->wb;
	pthread_mutex_lock(&wb->lock);
	while (m->wb_busy)
		pthread_cond_wait(&wb->done, &wb->lock);
	pgc_assert(cds_list_empty(&m->wb_link));
	pthread_mutex_unlock(&wb->lock);
	pgc__pgx_destroy(&m->index); /* empty by now; frees the root if any */
	pthread_mutex_destroy(&m->index_lock);
	pthread_mutex_destroy(&m->wb_log_lock);
	atomic_fetch_sub(&m->cache->nr_mappings, 1);
	pthread_rwlock_destroy(&m->dio_lock);
	free(m);
	return 0;
}

PGC_API void *pgc_mapping_owner(const pgc_mapping *m)
{
	return m ? m->owner : NULL;
}

PGC_API pgc_cache *pgc_mapping_cache(const pgc_mapping *m)
{
	return m ? m->cache : NULL;
}

PGC_API uint64_t pgc_mapping_size(const pgc_mapping *m)
{
	return m ? atomic_load_explicit(&m->size, memory_order_acquire) : 0;
}

PGC_API int pgc_mapping_set_size(pgc_mapping *m, uint64_t size)
{
	if (!m)
		return -EINVAL;
	atomic_store_explicit(&m->size, size, memory_order_release);
	return 0;
}

PGC_API uint64_t pgc_mapping_nr_pages(const pgc_mapping *m)
{
	return m ? atomic_load_explicit(&m->nr_pages, memory_order_relaxed) : 0;
}

PGC_API int pgc_mapping_set_name(pgc_mapping *m, const char *name)
{
	if (!m || !name)
		return -EINVAL;
	pthread_mutex_lock(&m->wb_log_lock);
	snprintf(m->name, sizeof(m->name), "%s", name);
	pthread_mutex_unlock(&m->wb_log_lock);
	return 0;
}

PGC_API const char *pgc_mapping_name(const pgc_mapping *m)
{
	return m ? m->name : NULL;
}

PGC_API int pgc_mapping_stats(pgc_mapping *m, struct pgc_mapping_stats *st)
{
	if (!m)
		return -EINVAL;
	int err = pgc__abi_check_out(st, PGC_MAPPING_STATS_SIZE_0_2);
	if (err)
		return err;
	struct pgc_mapping_stats s;
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.pages = atomic_load_explicit(&m->nr_pages, memory_order_relaxed);
	s.dirty = atomic_load_explicit(&m->nr_dirty, memory_order_relaxed);
	s.writeback = atomic_load_explicit(&m->nr_writeback, memory_order_relaxed);
	s.last_error = atomic_load_explicit(&m->wb_last_err, memory_order_relaxed);
	uint64_t retry = atomic_load_explicit(&m->wb_retry_ns, memory_order_relaxed), now = pgc__now_ns();
	s.retry_in_ms = retry > now ? (retry - now + 999999) / 1000000 : 0;
	pthread_mutex_lock(&m->wb_log_lock);
	s.write_failures = m->wb_failures;
	pthread_mutex_unlock(&m->wb_log_lock);
	PGC__ABI_OUT(st, s);
	return 0;
}

PGC_API uint64_t pgc_mapping_nr_dirty(const pgc_mapping *m)
{
	return m ? atomic_load_explicit(&m->nr_dirty, memory_order_relaxed) : 0;
}

PGC_API int pgc_mapping_find(pgc_mapping *m, uint64_t index, pgc_page **pagep)
{
	if (pgc_unlikely(!m || !pagep)) {
		if (pagep)
			*pagep = NULL;
		return -EINVAL;
	}
	struct pgc_page *p = pgc__mapping_lookup(m, index);
	*pagep = p;
	if (!p) {
		pgc__stat_inc(m->cache, PGC_ST_MISSES);
		return -ENOENT;
	}
	pgc__mark_accessed(p);
	pgc__stat_inc(m->cache, PGC_ST_HITS);
	return 0;
}

PGC_API int pgc_mapping_find_lock(pgc_mapping *m, uint64_t index, pgc_page **pagep)
{
	if (!m || !pagep) {
		if (pagep)
			*pagep = NULL;
		return -EINVAL;
	}
	for (;;) {
		int err = pgc_mapping_find(m, index, pagep);
		if (err)
			return err;
		struct pgc_page *p = *pagep;
		pgc__lock(p);
		if (atomic_load_explicit(&p->mapping, memory_order_acquire) == m &&
		    atomic_load_explicit(&p->index, memory_order_relaxed) == index)
			return 0;
		/* Truncated or evicted while we waited for the lock. */
		pgc__unlock(p);
		pgc__put(p);
	}
}

PGC_API int pgc_mapping_insert(pgc_mapping *m, pgc_page *page, uint64_t index)
{
	if (!m || !page)
		return -EINVAL;
	return pgc__mapping_add(m, page, index);
}

PGC_API int pgc_mapping_delete(pgc_page *page)
{
	if (!page || !pgc__test(page, PGC_PG_LOCKED))
		return -EINVAL;
	struct pgc_mapping *m = atomic_load_explicit(&page->mapping, memory_order_acquire);
	if (!m)
		return -EINVAL;
	if (pgc__test(page, PGC_PG_WRITEBACK))
		return -EBUSY;
	remove_page(m, page);
	pgc__stat_inc(m->cache, PGC_ST_DELETES);
	pgc__put(page); /* the mapping's reference; the caller keeps its own */
	return 0;
}

unsigned pgc__mapping_gang(struct pgc_mapping *m, uint64_t *pos, uint64_t end, int tag,
			   struct pgc_page **pages, unsigned nr, bool *done)
{
	uint64_t idx = *pos;
	unsigned n = 0;
	*done = false;
	rcu_read_lock();
	while (n < nr) {
		uint32_t id = pgc__pgx_next_tagged(&m->index, &idx, end, tag);
		if (id == PGC_FRAME_NONE) {
			*done = true;
			break;
		}
		struct pgc_page *p;
		unsigned tries = 0;
		/* Frozen (being evicted or replaced) or recycled: look again at
		 * the same index; a replacement keeps the slot's tags. */
		while (!(p = get_if_at(m, id, idx))) {
			id = pgc__pgx_load(&m->index, idx);
			if (id == PGC_FRAME_NONE)
				break;
			if (++tries > 64)
				caa_cpu_relax();
		}
		if (p)
			pages[n++] = p;
		if (idx == end) {
			*done = true;
			break;
		}
		idx++;
	}
	pgc__rcu_read_unlock();
	*pos = idx;
	return n;
}

/* Pages fetched per step of a walk: references held, no lock. */
#define WALK_BATCH 16u

int pgc__mapping_walk(struct pgc_mapping *m, uint64_t start, uint64_t end, int tag,
		      pgc_page_visit_fn fn, void *arg)
{
	struct pgc_page *v[WALK_BATCH];
	uint64_t pos = start;
	bool done = false;
	int ret = 0;
	while (!done && !ret) {
		unsigned n = pgc__mapping_gang(m, &pos, end, tag, v, WALK_BATCH, &done);
		for (unsigned i = 0; i < n; i++) {
			if (!ret)
				ret = fn(v[i], arg);
			pgc__put(v[i]);
		}
	}
	return ret;
}

void pgc__mapping_tag_towrite(struct pgc_mapping *m, uint64_t start, uint64_t end)
{
	bool more = true;
	while (more) {
		pthread_mutex_lock(&m->index_lock);
		/* In steps, so that the lock is never held for long. */
		start = pgc__pgx_tag_copy(&m->index, start, end, PGC_TAG_DIRTY, PGC_TAG_TOWRITE,
					  4096, &more);
		pthread_mutex_unlock(&m->index_lock);
	}
}

PGC_API long pgc_mapping_find_range(pgc_mapping *m, uint64_t start, uint64_t end, int tag,
				    pgc_page **pages, unsigned nr)
{
	if (!m || !pages || start > end || tag < PGC_TAG_ANY || tag > PGC_TAG_TOWRITE)
		return -EINVAL;
	bool done;
	return (long)pgc__mapping_gang(m, &start, end, tag, pages, nr, &done);
}

static int wait_one(pgc_page *page, void *arg)
{
	(void)arg;
	pgc__wait_bit(page, PGC_PG_WRITEBACK);
	return 0;
}

int pgc__mapping_wait_writeback(struct pgc_mapping *m, uint64_t start, uint64_t end)
{
	/* A page leaves the dirty set only once tagged here (see
	 * pgc_page_start_writeback), so zero means nothing to wait for. */
	if (atomic_load_explicit(&m->nr_writeback, memory_order_acquire) == 0)
		return 0;
	return pgc__mapping_walk(m, start, end, PGC_TAG_WRITEBACK, wait_one, NULL);
}

/* Drops one locked page of the mapping for truncate. */
static void truncate_page(struct pgc_mapping *m, struct pgc_page *p, size_t psize)
{
	pgc__wait_bit(p, PGC_PG_WRITEBACK);
	/* A page handle is not the owner's private value: remove_page()
	 * detaches it through the handle layer. */
	bool owner_private = pgc__test(p, PGC_PG_PRIVATE) && !pgc__test(p, PGC_PGI_HANDLE);
	if (owner_private && m->ops.invalidatepage)
		m->ops.invalidatepage(m, p, 0, psize);
	if (owner_private) {
		p->private_value = 0;
		pgc__clear(p, PGC_PG_PRIVATE);
	}
	remove_page(m, p);
	pgc__stat_inc(m->cache, PGC_ST_DELETES);
	pgc__put(p); /* the mapping's reference */
}

static void truncate_partial(struct pgc_mapping *m, uint64_t index, size_t offset, size_t psize)
{
	struct pgc_page *p;
	if (pgc_mapping_find_lock(m, index, &p))
		return;
	pgc__wait_bit(p, PGC_PG_WRITEBACK);
	pgc__page_seq_begin(p);
	memset((char *)pgc__page_data(p) + offset, 0, psize - offset);
	pgc__page_seq_end(p);
	if (m->ops.invalidatepage)
		m->ops.invalidatepage(m, p, offset, psize - offset);
	pgc__unlock(p);
	pgc__put(p);
}

struct truncate_walk {
	struct pgc_mapping *m;
	uint64_t first; /* the first index past the size */
	size_t psize;
	bool found;     /* a page was there */
};

static int truncate_one(pgc_page *p, void *arg)
{
	struct truncate_walk *t = arg;
	t->found = true;
	pgc__lock(p);
	if (atomic_load_explicit(&p->mapping, memory_order_relaxed) == t->m &&
	    atomic_load_explicit(&p->index, memory_order_relaxed) >= t->first)
		truncate_page(t->m, p, t->psize);
	pgc__unlock(p);
	return 0;
}

/* Sets the size and drops the pages past it; the store is not told. */
static void truncate_pages(struct pgc_mapping *m, uint64_t new_size)
{
	size_t psize = m->cache->frames.page_size;
	uint32_t shift = m->cache->frames.page_shift;
	atomic_store_explicit(&m->size, new_size, memory_order_release);
	uint64_t first = (new_size + psize - 1) >> shift;
	if (new_size > UINT64_MAX - psize)
		first = UINT64_MAX; /* nothing past the last possible page */

	/* Pages inserted past the size meanwhile are the caller's race: a
	 * few passes, each a walk of the pages past the size in index order. */
	for (int pass = 0; pass < 64 && first != UINT64_MAX; pass++) {
		struct truncate_walk t = {.m = m, .first = first, .psize = psize, .found = false};
		pgc__mapping_walk(m, first, UINT64_MAX, PGC_TAG_ANY, truncate_one, &t);
		if (!t.found)
			break;
	}
	size_t offset = (size_t)(new_size & (psize - 1));
	if (offset)
		truncate_partial(m, new_size >> shift, offset, psize);
}

PGC_API int pgc_mapping_truncate(pgc_mapping *m, uint64_t new_size)
{
	if (!m)
		return -EINVAL;
	truncate_pages(m, new_size);
	/* Last, the store: once no page past the size is left to be written
	 * there, its bytes past the size can go for good. */
	return pgc__mapping_resize_store(m);
}

int pgc__mapping_resize_store(struct pgc_mapping *m)
{
	if (!m->ops.resize)
		return 0;
	int err = m->ops.resize(m, atomic_load_explicit(&m->size, memory_order_acquire));
	if (err)
		pgc__log(m->cache, PGC_LOG_ERROR, "mapping %s: resize of the store to %llu bytes failed: %s (%s)",
			 pgc__mapping_log_name(m), (unsigned long long)atomic_load(&m->size),
			 pgc_errname(err), pgc_strerror(err));
	return err;
}

PGC_API long pgc_mapping_invalidate(pgc_mapping *m, uint64_t start, uint64_t end)
{
	if (!m || start > end)
		return -EINVAL;
	long dropped = 0;
	struct pgc_page *v[WALK_BATCH];
	bool done = false;
	while (!done) {
		unsigned n = pgc__mapping_gang(m, &start, end, PGC_TAG_ANY, v, WALK_BATCH, &done);
		for (unsigned i = 0; i < n; i++) {
			struct pgc_page *p = v[i];
			if (!pgc__trylock(p)) {
				pgc__put(p);
				continue;
			}
			if (atomic_load_explicit(&p->mapping, memory_order_relaxed) == m &&
			    !(pgc__flags(p) & (PGC_BIT(PGC_PG_DIRTY) | PGC_BIT(PGC_PG_WRITEBACK))) &&
			    atomic_load_explicit(&p->refcount, memory_order_relaxed) == 2 &&
			    pgc__mapping_release_private(m, p) && pgc__mapping_evict(m, p) == 0) {
				pgc__stat_inc(m->cache, PGC_ST_DELETES);
				dropped++;
				continue; /* evict unlocked and freed it, with our reference */
			}
			pgc__unlock(p);
			pgc__put(p);
		}
	}
	return dropped;
}

PGC_API int pgc_mapping_for_each_dirty(pgc_mapping *m, uint64_t start, uint64_t end,
				       pgc_page_visit_fn fn, void *arg)
{
	if (!m || !fn || start > end)
		return -EINVAL;
	return pgc__mapping_walk(m, start, end, PGC_TAG_DIRTY, fn, arg);
}

PGC_API int pgc_mapping_account_dirty(pgc_page *page)
{
	if (!page)
		return -EINVAL;
	if (pgc__test_and_set(page, PGC_PG_DIRTY))
		return 0;
	pgc__mapping_sync_dirty(page);
	return 1;
}

PGC_API int pgc_page_set_dirty(pgc_page *page)
{
	if (!page)
		return -EINVAL;
	struct pgc_mapping *m = atomic_load_explicit(&page->mapping, memory_order_acquire);
	if (m && m->ops.set_page_dirty)
		return m->ops.set_page_dirty(m, page);
	return pgc_mapping_account_dirty(page);
}

PGC_API int pgc_page_clear_dirty_for_io(pgc_page *page)
{
	if (!page || !pgc__test(page, PGC_PG_LOCKED))
		return -EINVAL;
	if (!pgc__test_and_clear(page, PGC_PG_DIRTY))
		return 0;
	/* Like the kernel's, the page keeps its dirty tag until its
	 * writeback starts: a concurrent sync that walks the tag in between
	 * still finds it and waits. Already under writeback (started first),
	 * it may lose the tag now. */
	if (pgc__test(page, PGC_PG_WRITEBACK))
		pgc__mapping_sync_dirty(page);
	return 1;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

PGC_API int pgc_mapping_set_dio_limits(pgc_mapping *m, const struct pgc_dio_limits *ul)
{
	if (!m || !ul)
		return -EINVAL;
	struct pgc_dio_limits local;
	int err = PGC__ABI_IN(local, ul, PGC_DIO_LIMITS_SIZE_0_1);
	if (err)
		return err;
	const struct pgc_dio_limits *l = &local;
	if (!is_pow2(l->block_size) ||
	    !is_pow2(l->mem_align) || l->max_segment == 0 || l->max_segment % l->block_size)
		return -EINVAL;
	atomic_store(&m->dio_block, l->block_size);
	atomic_store(&m->dio_mem_align, l->mem_align);
	atomic_store(&m->dio_max_segment, l->max_segment);
	return 0;
}

PGC_API int pgc_mapping_dio_limits(const pgc_mapping *m, struct pgc_dio_limits *l)
{
	if (!m)
		return -EINVAL;
	int err = pgc__abi_check_out(l, PGC_DIO_LIMITS_SIZE_0_1);
	if (err)
		return err;
	struct pgc_dio_limits v = {
		.size = sizeof(v),
		.block_size = atomic_load(&m->dio_block),
		.mem_align = atomic_load(&m->dio_mem_align),
		.max_segment = atomic_load(&m->dio_max_segment),
	};
	PGC__ABI_OUT(l, v);
	return 0;
}
