/*
 * Mappings inside the library: the radix-tree index of one object's pages
 * (pgindex_internal.h) with its tags, and the helpers that the layers
 * above (writeback, reclaim, filemap) use to look up, remove and account
 * pages.
 */
#ifndef PGC_MAPPING_INTERNAL_H
#define PGC_MAPPING_INTERNAL_H

#include <pgcache/mapping.h>

#include "cache_internal.h"
#include "page_internal.h"
#include "pgindex_internal.h"

#include <stdalign.h>

/*
 * What the handle layer (clpage.c, above) does when a page that carries a
 * handle (PGC_PGI_HANDLE) is to be released or leaves its mapping. The
 * mapping layer calls down to nothing here: the layer above installs the
 * table on the mapping when it attaches its first handle.
 */
struct pgc__private_ops {
	/* May the locked page's handle go? If so it is detached; false if in use. */
	bool (*release)(struct pgc_mapping *m, struct pgc_page *page);
	/* The locked page leaves the mapping: the handle is detached. */
	void (*detach)(struct pgc_mapping *m, struct pgc_page *page);
	/* The frozen, locked page is replaced by newpage (locked): the handle
	 * moves to it. -EAGAIN (nothing changed) while the handle is in use. */
	int (*migrate)(struct pgc_mapping *m, struct pgc_page *page, struct pgc_page *newpage);
};

/*
 * Laid out by how often the fields are written, so that the hit path
 * (pgc_read, lookups) reads only lines that nobody writes on the hot paths
 * (no false sharing): first the read-mostly fields, then the index root on
 * a line of its own, then what the index's writers and the accounting
 * write, then what fills, buffered writes and misses write.
 */
struct pgc_mapping {
	/* Read-mostly: set at create, or by rare calls (limits, size growth). */
	struct pgc_cache *cache;
	void *owner;
	_Atomic uint64_t size;       /* written when a write grows it, or truncate */
	const struct pgc__private_ops *_Atomic priv_ops;
	_Atomic uint32_t dio_block;  /* direct-I/O limits, see mapping.h */
	_Atomic uint32_t dio_mem_align;
	_Atomic uint64_t dio_max_segment;
	_Atomic uint32_t ra_max;     /* readahead window cap in pages (rw.c) */
	uint32_t fork_gen;           /* pgc__fork_generation() at create (fork_internal.h) */
	struct pgc_mapping_ops ops;

	/* page number -> frame id, RCU readers: root alone on its line, the
	 * writers' counts on the next (pgindex_internal.h) */
	struct pgc_pgx index;
	/* The index's writers and its tags; page->mapping, ONDIRTY and the
	 * dirty counts change under it too. */
	pthread_mutex_t index_lock;
	_Atomic uint64_t nr_pages;
	_Atomic uint64_t nr_dirty;   /* pages tagged dirty (ONDIRTY) */
	_Atomic uint64_t nr_writeback; /* its pages with PG_writeback set */
	_Atomic uint32_t wb_err;     /* errseq of write errors (errseq.c) */

	/* Direct writes take it exclusive; buffered writes (pgc_write, but
	 * not its tiny-write path) and page fills from the store (pgc_read,
	 * pgc_mapping_read_page) shared: see pgc__mapping_fill_begin(). */
	alignas(PGC_CACHELINE) pthread_rwlock_t dio_lock;
	/* Direct writes in flight on an aio context's ring, which hold no
	 * lock while they run: the shared side of dio_lock waits for them
	 * (pgc__mapping_fill_begin). */
	_Atomic uint32_t ring_dio_writes;
	_Atomic uint64_t ra_next;    /* index expected next by a sequential reader */
	_Atomic uint32_t ra_window;  /* current readahead window in pages */
	_Atomic uint64_t ra_trigger; /* the index whose hit queues the next window */
	_Atomic uint64_t ra_bg_start, ra_bg_end; /* the windows of this run of readahead */
	unsigned fills;              /* background fills queued or running (fill.c,
				      * under cache->filler.lock) */

	/* Background writeback and write errors (balance.c). wb_link,
	 * dirtied_ns, wb_index and wb_busy are under cache->wb.lock; the
	 * mapping is on cache->wb.dirty exactly while wb_counted and nr_dirty
	 * > 0 (both transitions under index_lock, then wb.lock). */
	alignas(PGC_CACHELINE) struct cds_list_head wb_link;
	uint64_t dirtied_ns;         /* when nr_dirty last went from 0 to 1 */
	uint64_t wb_index;           /* where the next background step starts */
	int wb_busy;                 /* steps working on it (destroy waits) */
	bool wb_counted;             /* can write back: counts against the limits */
	_Atomic uint64_t wb_retry_ns; /* after a failure: no background or reclaim write before */
	_Atomic int wb_last_err;     /* the last write error, 0 after a success */
	/* Failures and the log's rate limit, under wb_log_lock. */
	pthread_mutex_t wb_log_lock;
	uint32_t wb_backoff_ms;
	uint64_t wb_failures, wb_unlogged, wb_log_ns;
	char name[PGC_MAPPING_NAME_MAX];
};

/* The default direct-I/O limits and readahead cap of a new mapping. */
#define PGC_DIO_DEFAULT_BLOCK 512u
#define PGC_DIO_DEFAULT_SEGMENT (1ull << 20)
#define PGC_RA_DEFAULT_MAX 32u

/* The mapping's name for log lines (pgc_mapping_set_name()). */
static inline const char *pgc__mapping_log_name(const struct pgc_mapping *m)
{
	return m->name[0] ? m->name : "(unnamed)";
}

static inline struct pgc_cache *pgc__mapping_cache(const struct pgc_mapping *m)
{
	return m->cache;
}

/* Grows the mapping's size to end if it is smaller (never shrinks it). */
static inline void pgc__mapping_grow_size(struct pgc_mapping *m, uint64_t end)
{
	uint64_t cur = atomic_load_explicit(&m->size, memory_order_relaxed);
	while (cur < end && !atomic_compare_exchange_weak_explicit(&m->size, &cur, end,
								    memory_order_release,
								    memory_order_relaxed))
		;
}

/*
 * Passes the mapping's size on to its store (the resize operation, if any),
 * logging a failure with the size; returns the operation's result. Called
 * by truncate and by sync, with no page lock held.
 */
int pgc__mapping_resize_store(struct pgc_mapping *m);

/* Finds the page at index and takes a reference (lock free), or NULL. */
/*
 * Coherence of direct writes with the cache. A direct write writes back the
 * cached pages of its range, writes the store, then copies its bytes into
 * the pages cached meanwhile. Without exclusion, a buffered write could
 * dirty a page of the range (with the old bytes of the range around its
 * own) after the first step, and that page could be written back over the
 * direct write's bytes, or a page filled from the store before the direct
 * write could stay cached after it. So buffered writes and fills hold the
 * mapping's dio_lock shared, and a direct write holds it exclusive (the
 * same rule as a file system's inode lock). The lock prefers writers, so a
 * stream of buffered I/O cannot starve direct writes; it is not recursive.
 */
/*
 * A direct write on an aio context's ring (aio.c) cannot hold dio_lock
 * while it runs: its thread goes back to its event loop, and its
 * completion comes in a later turn. It takes the lock exclusive for a
 * moment instead, checks that its range is clean, and counts itself in
 * ring_dio_writes; holders of the shared side wait, after taking it, until
 * no such write is in flight, so the exclusion is the same as for a
 * synchronous direct write. A thread with ring writes of its own in flight
 * does not wait (only it can reap their completions): its own buffered
 * writes that overlap them are ordered as with O_DIRECT and buffered I/O
 * mixed on one file, which is its business.
 */
void pgc__mapping_fill_wait_ring(struct pgc_mapping *m);

static inline void pgc__mapping_fill_begin(struct pgc_mapping *m)
{
	pthread_rwlock_rdlock(&m->dio_lock);
	if (pgc_unlikely(atomic_load_explicit(&m->ring_dio_writes, memory_order_acquire) != 0))
		pgc__mapping_fill_wait_ring(m);
}

/* Whether no page of [first, last] is dirty or under writeback (tags). */
bool pgc__mapping_range_clean(struct pgc_mapping *m, uint64_t first, uint64_t last);

/*
 * Starts a ring direct write of pages [first, last] of m (aio.c): true
 * with the write counted, if dio_lock could be had exclusive at once and
 * the range is clean under it; false otherwise (the write then takes the
 * synchronous path). pgc__mapping_ring_write_end() ends it, in the thread
 * that started it.
 */
bool pgc__mapping_ring_write_begin(struct pgc_mapping *m, uint64_t first, uint64_t last);
void pgc__mapping_ring_write_end(struct pgc_mapping *m);

static inline void pgc__mapping_fill_end(struct pgc_mapping *m)
{
	pthread_rwlock_unlock(&m->dio_lock);
}

/* A direct write's side of the same lock (dio.c). */
static inline void pgc__mapping_dio_write_begin(struct pgc_mapping *m)
{
	pthread_rwlock_wrlock(&m->dio_lock);
}

static inline void pgc__mapping_dio_write_end(struct pgc_mapping *m)
{
	pthread_rwlock_unlock(&m->dio_lock);
}

struct pgc_page *pgc__mapping_lookup(struct pgc_mapping *m, uint64_t index);
/* Whether index has a page in m, at this moment; takes no reference. */
bool pgc__mapping_present(struct pgc_mapping *m, uint64_t index);
/* The first index in [index, end] with a page in m at this moment (an RCU
 * walk of the index: a page added or removed meanwhile may be seen or not),
 * or UINT64_MAX. */
uint64_t pgc__mapping_next_present(struct pgc_mapping *m, uint64_t index, uint64_t end);

/* Inserts a page with a reference held by the caller; 0, -EEXIST or -EINVAL. */
int pgc__mapping_add(struct pgc_mapping *m, struct pgc_page *page, uint64_t index);

/*
 * A new page of m at index, locked and held by the caller (filemap.c), for
 * readahead: -EEXIST, with no reference taken, when index has a page
 * already (the kernel's readahead skips it the same way), -EAGAIN or
 * -ENOMEM when no frame can be had (without sleeping if nowait).
 */
int pgc__mapping_create(struct pgc_mapping *m, uint64_t index, bool nowait,
			struct pgc_page **pagep);

/*
 * Evicts a locked, clean page held by the mapping and by the caller only
 * (expected references: 2). On success the page is unlocked and freed, the
 * caller's reference consumed; returns -EBUSY (nothing changed) otherwise.
 */
int pgc__mapping_evict(struct pgc_mapping *m, struct pgc_page *page);

/* Asks releasepage (or the default) whether a locked page's private data may go. */
bool pgc__mapping_release_private(struct pgc_mapping *m, struct pgc_page *page);

/*
 * Puts newpage in page's slot of m's index (the kernel's
 * folio_migrate_mapping, without the reference freeze, which is the
 * caller's): one slot store, so a concurrent lookup sees one or the other,
 * and the slot keeps its tags: the new page is dirty if the old one was
 * (page may not be under writeback). The old page leaves the mapping.
 * Both are locked, page frozen. 0, or -ENOENT if page is not in the index.
 */
int pgc__mapping_replace(struct pgc_mapping *m, struct pgc_page *page, struct pgc_page *newpage);

/*
 * Brings the page's dirty tag (and ONDIRTY) in line with its DIRTY flag.
 * It takes the tag away only from a page whose flag is clear, so callers
 * that may see a page between clear_dirty_for_io and start_writeback (its
 * flag clear, the page locked by the writeback, the tag all a sync has to
 * find it by) must not call it for such a page: a writer's commit does not
 * (pgc_write_end() tags under the page lock instead).
 */
void pgc__mapping_sync_dirty(struct pgc_page *page);


/*
 * Sets (on) or clears the WRITEBACK tag of a page of m; on setting it, the
 * dirty tag follows the DIRTY flag in the same step. For start and end of
 * writeback (writeback.c).
 */
void pgc__mapping_writeback_tag(struct pgc_mapping *m, struct pgc_page *page, bool on);

/*
 * The gang lookup under every walk (find_get_pages_tag): up to nr pages of
 * m in [*pos, end] that carry tag (PGC_TAG_ANY: all), in index order, each
 * with a reference. *pos is left after the last page looked at, *done set
 * once the range is exhausted. A page frozen for replacement is waited
 * for, so its successor is found instead. Never fails.
 */
unsigned pgc__mapping_gang(struct pgc_mapping *m, uint64_t *pos, uint64_t end, int tag,
			   struct pgc_page **pages, unsigned nr, bool *done);

/* Calls fn (pgc_page_visit_fn) on the tagged pages of [start, end] in index order. */
int pgc__mapping_walk(struct pgc_mapping *m, uint64_t start, uint64_t end, int tag,
		      pgc_page_visit_fn fn, void *arg);

/*
 * Tags TOWRITE every page of [start, end] tagged DIRTY now, so that a sync
 * writes what was dirty when it began and is not kept going by pages
 * dirtied behind it (the kernel's tag_pages_for_writeback).
 */
void pgc__mapping_tag_towrite(struct pgc_mapping *m, uint64_t start, uint64_t end);

/*
 * Waits until no page of m in [start, end] that was under writeback when
 * called still is (the kernel's filemap_fdatawait_range), by a walk of the
 * WRITEBACK tag. This is what a sync needs: a page another thread took out
 * of the dirty set for its own writeback is waited for here. Returns 0.
 */
int pgc__mapping_wait_writeback(struct pgc_mapping *m, uint64_t start, uint64_t end);

/*
 * Reads pages [first, first + nr) that are missing, without waiting for any
 * page: present or locked pages are skipped, and a frame that cannot be had
 * without sleeping ends it (rw.c). The caller holds the fill lock shared.
 */
void pgc__readahead_range(struct pgc_mapping *m, uint64_t first, unsigned nr);

/* For the asynchronous layer (aio.c). */

/*
 * A read that takes cached, up-to-date pages only (rw.c): the bytes if every
 * page of the range was cached (0 at or past the size), -EAGAIN at the
 * first page that was not (some bytes may have been copied by then).
 */
ssize_t pgc__read_cached(struct pgc_mapping *m, void *buf, size_t len, uint64_t off);

/* pgc_direct_io()'s checks of its arguments; *total gets the bytes (dio.c). */
int pgc__dio_check(struct pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
		   uint64_t offset, size_t *total);

/*
 * After a direct write of len bytes at pos from iov done on an aio
 * context's ring (counted in ring_dio_writes, which keeps buffered writes
 * and fills out): up-to-date cached pages of the range get the bytes, as
 * after a synchronous direct write. They stay clean: the store has the
 * bytes. (Marking them dirty, as this once did, let the first of two ring
 * writes into one page dirty it with the old bytes of the second's range;
 * reclaim could write those back after the second reached the store and
 * evict the page before the second's completion: a lost write.)
 */
void pgc__dio_update_cached(struct pgc_mapping *m, const struct iovec *iov, int iovcnt,
			    uint64_t pos, size_t len);

#endif /* PGC_MAPPING_INTERNAL_H */
