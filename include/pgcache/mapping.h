/**
 * @file mapping.h
 * @brief Mappings: the index from page number to page of one file or object
 * (the kernel's address_space), and the operations its owner supplies.
 *
 * Lookups take no lock that writers hold: a reader finds the page in a
 * radix tree read under RCU (liburcu), takes a speculative reference and
 * re-checks the page's identity. Inserts, deletes and truncate are safe from
 * any thread at the same time.
 */
#ifndef PGCACHE_MAPPING_H
#define PGCACHE_MAPPING_H

#include <sys/types.h>
#include <sys/uio.h>

#include <pgcache/common.h>
#include <pgcache/page.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Direction of a direct I/O: read from the store. */
#define PGC_READ 0
/** Direction of a direct I/O: write to the store. */
#define PGC_WRITE 1

/** Writeback that does not wait: pages locked or under writeback are skipped. */
#define PGC_WB_NONE 0
/** Writeback of integrity: waits for locks and writeback, writes every dirty page in range. */
#define PGC_WB_ALL 1

/**
 * @brief What a writepage or writepages call is asked to do (the kernel's
 * writeback_control).
 */
struct pgc_writeback_control {
	/** sizeof(struct pgc_writeback_control). */
	uint32_t size;
	/** #PGC_WB_NONE or #PGC_WB_ALL. */
	int sync_mode;
	/** First page index of the range. */
	uint64_t range_start;
	/** Last page index of the range (inclusive). */
	uint64_t range_end;
	/** Pages still to write; writepages decrements it. */
	long nr_to_write;
	/** Nonzero when reclaim is the caller. */
	int for_reclaim;
};

/**
 * @brief Size of struct pgc_writeback_control in release 0.1, the first: the
 * smallest @c size pgc_mapping_write_page() and pgc_mapping_writeback_runs()
 * accept. Never changes (see "Versioned structures" in common.h).
 */
#ifdef PGC_ABI_LP64
#define PGC_WRITEBACK_CONTROL_SIZE_0_1 40u
#else
#define PGC_WRITEBACK_CONTROL_SIZE_0_1 PGC_OFFSETOFEND(struct pgc_writeback_control, for_reclaim)
#endif

/**
 * @brief The operations of a mapping, supplied by its owner. Any member may
 * be NULL: the documented default applies.
 *
 * The operations are called without internal locks held, except that the
 * page lock is held where said; they may block and do I/O. They must not
 * destroy the mapping.
 */
struct pgc_mapping_ops {
	/** sizeof(struct pgc_mapping_ops). */
	uint32_t size;
	/**
	 * Fill a locked page's data from the store. Return 0 on success
	 * (the library then sets UPTODATE) or a negative errno (the library
	 * sets ERROR). The library unlocks the page afterwards.
	 * Default (NULL): the page is zero-filled (a mapping without a store).
	 */
	int (*readpage)(pgc_mapping *mapping, pgc_page *page);
	/**
	 * Write one page to the store. Called with the page locked, its dirty
	 * flag already cleared and its writeback flag set; return 0 on success
	 * or a negative errno. The library then ends writeback; the page stays
	 * locked for whoever locked it. On an error the library marks the page
	 * dirty again and sets ERROR, so nothing is lost; the mapping then
	 * backs off (reclaim and the writeback thread leave its dirty pages
	 * alone for 10 ms, doubling up to 30 s while failures go on), the
	 * error is logged once and then summed up every 10 s, and writers at
	 * the cache's dirty limit and allocations that find only such pages
	 * get the error (see pgc_mapping_balance_dirty()).
	 * Default (NULL): dirty pages cannot be written back, so
	 * reclaim never evicts them and writeback returns -EROFS.
	 */
	int (*writepage)(pgc_mapping *mapping, pgc_page *page,
			 struct pgc_writeback_control *wbc);
	/**
	 * Write the dirty pages of a range. Default (NULL): each dirty page in
	 * index order is locked (or skipped if busy with #PGC_WB_NONE), its
	 * dirty flag cleared and written through writepage.
	 */
	int (*writepages)(pgc_mapping *mapping, struct pgc_writeback_control *wbc);
	/**
	 * Asked by reclaim before freeing a locked page that has PRIVATE set.
	 * Return nonzero to allow the release (the op must then have cleared the
	 * private value with pgc_page_clear_private()), 0 to refuse.
	 * Default (NULL): the private value is cleared and the release allowed.
	 */
	int (*releasepage)(pgc_mapping *mapping, pgc_page *page);
	/**
	 * Tells the owner that bytes [offset, offset + length) of a locked page
	 * are being invalidated by truncate: length is the page size for a
	 * page that leaves the mapping (which happens after the call; a
	 * remaining private value is then cleared), less for the last partial
	 * page, which stays. Default (NULL): nothing.
	 */
	void (*invalidatepage)(pgc_mapping *mapping, pgc_page *page,
			       size_t offset, size_t length);
	/**
	 * Move a locked page's contents and state to a locked new page (used
	 * by the migration engine, see migrate.h). Return 0 or a negative
	 * errno (-EAGAIN: busy, retried in the next pass). pgc_migrate_page()
	 * moves any page, dirty ones included; pgc_fail_migrate_page() refuses
	 * every page. Default (NULL): clean pages move as with
	 * pgc_migrate_page(); dirty pages are written out first in
	 * #PGC_MIGRATE_SYNC mode and are busy in the other modes.
	 */
	int (*migratepage)(pgc_mapping *mapping, pgc_page *newpage,
			   pgc_page *page, int mode);
	/**
	 * Mark a page dirty. Return 1 if it became dirty, 0 if it already was,
	 * or a negative errno. The page becomes dirty only through
	 * pgc_mapping_account_dirty(), which an owner's operation calls (after
	 * its own bookkeeping, or not at all to refuse). Default (NULL):
	 * pgc_mapping_account_dirty().
	 */
	int (*set_page_dirty)(pgc_mapping *mapping, pgc_page *page);
	/**
	 * Fill @p nr locked, not up-to-date pages of consecutive indexes
	 * (pages[0] has the lowest) in one request; used by readahead.
	 * Return 0 if all were read, or a negative errno (then every page
	 * gets ERROR and none is up to date; a later read retries one by one).
	 * The library sets UPTODATE and unlocks. Default (NULL): readpage on
	 * each page.
	 */
	int (*readpages)(pgc_mapping *mapping, pgc_page **pages, unsigned nr);
	/**
	 * Transfer bytes between the store and caller memory, bypassing the
	 * cache (called by pgc_direct_io() once per segment, with @p offset,
	 * every length and every address aligned as pgc_mapping_dio_limits()
	 * says). @p rw is #PGC_READ or #PGC_WRITE. Return the bytes done
	 * (short only at the end of the store for a read), or a negative
	 * errno; -ENOMEM makes pgc_direct_io() retry with smaller segments.
	 * Default (NULL): direct I/O fails with -EOPNOTSUPP.
	 */
	ssize_t (*direct_IO)(pgc_mapping *mapping, int rw, const struct iovec *iov, int iovcnt,
			     uint64_t offset);
	/**
	 * Make the stored object @p size bytes long, the mapping's size when
	 * the library called (the store's side of the kernel's setattr of
	 * i_size). Called by pgc_mapping_truncate() once the pages past the
	 * new size have left the mapping and the last partial page is
	 * zeroed: on a shrink the store must discard what it holds past
	 * @p size, so that a later growth reads zeros there (as ftruncate(2)
	 * does). Called by pgc_sync_range() once the range is written, so
	 * that an object grown by pgc_mapping_set_size(), or by writes that
	 * leave a hole at its end, has its whole size in the store. A store
	 * whose page writes may run concurrently should read
	 * pgc_mapping_size() again under the lock that orders it against
	 * them (the size may have grown since), as the built-in file store
	 * does. Return 0 or a negative errno, which the calling function
	 * returns. Default (NULL): nothing; the store's size is whatever its
	 * writes make it.
	 */
	int (*resize)(pgc_mapping *mapping, uint64_t size);
	/**
	 * Make durable what the store holds of bytes [@p start, @p end]
	 * (@p end inclusive, UINT64_MAX for the whole object) and its size:
	 * once it returns 0, those bytes as last written by writepage,
	 * writepages or direct_IO, and the size last given to resize,
	 * survive a crash or a power loss (fdatasync(2)'s promise). Called
	 * by pgc_sync_range() with its byte range, after the range was
	 * written back and waited for and after resize, also when that
	 * writeback failed (pages written before the failure are then made
	 * durable all the same). The store may make more durable than asked:
	 * the built-in file store syncs its whole file with fdatasync(2).
	 * Called without locks held; may block. Return 0 or a negative errno,
	 * which pgc_sync_range() returns and records in the mapping's
	 * write-error sequence (pgc_mapping_set_error()), so that every
	 * holder of an error sample sees it. Default (NULL): nothing; a store
	 * whose writes are durable when they return needs none.
	 *
	 * Added after 0.1.0: read only when the caller's @c size covers it,
	 * so an ops table built for 0.1.0 (whose @c size ends at resize) has
	 * no sync operation.
	 */
	int (*sync)(pgc_mapping *mapping, uint64_t start, uint64_t end);
};

/**
 * @brief Size of struct pgc_mapping_ops in release 0.1, the first: the
 * smallest @c size pgc_mapping_create() accepts. Never changes (see
 * "Versioned structures" in common.h).
 */
#ifdef PGC_ABI_LP64
#define PGC_MAPPING_OPS_SIZE_0_1 88u
#else
#define PGC_MAPPING_OPS_SIZE_0_1 PGC_OFFSETOFEND(struct pgc_mapping_ops, resize)
#endif

/** @brief Size of struct pgc_mapping_ops in release 0.2 (sync added). Never changes. */
#ifdef PGC_ABI_LP64
#define PGC_MAPPING_OPS_SIZE_0_2 96u
#else
#define PGC_MAPPING_OPS_SIZE_0_2 PGC_OFFSETOFEND(struct pgc_mapping_ops, sync)
#endif

/**
 * @brief Alignment and size limits of direct I/O on a mapping (see
 * pgc_mapping_set_dio_limits()).
 */
struct pgc_dio_limits {
	/** sizeof(struct pgc_dio_limits). */
	uint32_t size;
	/** Offsets and lengths must be multiples of this (a power of two). */
	uint32_t block_size;
	/** Buffer addresses must be multiples of this (a power of two). */
	uint32_t mem_align;
	/** Largest segment handed to direct_IO in one call, in bytes. */
	uint64_t max_segment;
};

/**
 * @brief Size of struct pgc_dio_limits in release 0.1, the first: the
 * smallest @c size pgc_mapping_set_dio_limits() and pgc_mapping_dio_limits()
 * accept. Never changes (see "Versioned structures" in common.h).
 */
#ifdef PGC_ABI_LP64
#define PGC_DIO_LIMITS_SIZE_0_1 24u
#else
#define PGC_DIO_LIMITS_SIZE_0_1 PGC_OFFSETOFEND(struct pgc_dio_limits, max_segment)
#endif

/** Flag for the find-or-create calls: never sleep (the kernel's grab_cache_page_nowait). */
#define PGC_FIND_NOWAIT PGC_ALLOC_NOWAIT

/**
 * @brief Creates a mapping on a cache.
 * @param cache   the cache.
 * @param ops     the operations (copied), or NULL for all defaults. Its
 *                @c size may be that of any release from 0.1 on: the
 *                operations the caller's release did not have are NULL,
 *                so their defaults apply.
 * @param owner   a pointer for the caller (see pgc_mapping_owner()).
 * @param size    the initial size in bytes of the object it caches.
 * @param mappingp where the mapping is stored (NULL on error).
 * @return 0; -EINVAL if @p cache or @p mappingp is NULL, or @p ops->size is
 *         smaller than #PGC_MAPPING_OPS_SIZE_0_1; -E2BIG if @p ops->size is
 *         larger than this version knows with nonzero extra bytes (an
 *         operation this library would not call), or above 4096;
 *         -ENOMEM if memory is missing.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_create(pgc_cache *cache, const struct pgc_mapping_ops *ops,
			       void *owner, uint64_t size, pgc_mapping **mappingp);

/**
 * @brief Destroys a mapping: drops all its clean pages, then frees it.
 *
 * Dirty data is never dropped silently: if pages are dirty or under
 * writeback, nothing is destroyed and -EBUSY is returned; write them back
 * (pgc_mapping_writeback()) or truncate the mapping first. In a child of
 * fork(2), a mapping made before the fork is a copy: it is dropped at once,
 * dirty pages included (they are the parent's to write), without waiting
 * for any lock or freeing its memory, and 0 is returned (see cache.h).
 *
 * @param mapping the mapping, or NULL (nothing happens, returns 0).
 * @return 0 (also for a copy inherited through fork(2)); -EBUSY if dirty
 *         or writeback pages remain.
 * @par Thread safety
 * No other thread may use the mapping during or after the call. Pages the
 * caller still holds stay valid, with no mapping.
 */
PGC_API int pgc_mapping_destroy(pgc_mapping *mapping);

/**
 * @brief The owner pointer given at creation.
 * @param mapping the mapping.
 * @return the owner, or NULL if @p mapping is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API void *pgc_mapping_owner(const pgc_mapping *mapping);

/**
 * @brief The cache a mapping belongs to.
 * @param mapping the mapping.
 * @return the cache, or NULL if @p mapping is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API pgc_cache *pgc_mapping_cache(const pgc_mapping *mapping);

/**
 * @brief The size in bytes of the cached object.
 * @param mapping the mapping.
 * @return the size (0 if @p mapping is NULL).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API uint64_t pgc_mapping_size(const pgc_mapping *mapping);

/**
 * @brief Sets the size without dropping pages (for growth; use
 * pgc_mapping_truncate() to shrink). Dirty pages must lie below the size:
 * stores may skip writing pages wholly past it and trim their file to it.
 * The store is not told at once (no I/O here): the next pgc_sync_range()
 * or pgc_mapping_truncate() passes the size on through the resize
 * operation.
 * @param mapping the mapping.
 * @param size    the new size in bytes.
 * @return 0; -EINVAL if @p mapping is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_set_size(pgc_mapping *mapping, uint64_t size);

/**
 * @brief Number of pages in the mapping.
 * @param mapping the mapping.
 * @return the count (0 if @p mapping is NULL).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API uint64_t pgc_mapping_nr_pages(const pgc_mapping *mapping);

/** Longest mapping name kept, with its terminating NUL (pgc_mapping_set_name()). */
#define PGC_MAPPING_NAME_MAX 32


/**
 * @brief Figures of one mapping, filled by pgc_mapping_stats().
 */
struct pgc_mapping_stats {
	/** sizeof(struct pgc_mapping_stats): set by the caller before the call. */
	uint32_t size;
	/**
	 * The error of the last failed write back of one of its pages, or 0
	 * if none failed since the last one that succeeded.
	 */
	int last_error;
	/** Pages cached. */
	uint64_t pages;
	/** Pages dirty. */
	uint64_t dirty;
	/** Pages under writeback. */
	uint64_t writeback;
	/** Page writes that failed since the mapping was created. */
	uint64_t write_failures;
	/**
	 * After failures: milliseconds until background writeback and reclaim
	 * try its dirty pages again (they back off, from 10 ms doubling up to
	 * 30 s, while the store keeps failing); 0 when they may now.
	 */
	uint64_t retry_in_ms;
};

/**
 * @brief Size of struct pgc_mapping_stats in release 0.2, the first: the
 * smallest @c size pgc_mapping_stats() accepts. Never changes.
 */
#ifdef PGC_ABI_LP64
#define PGC_MAPPING_STATS_SIZE_0_2 48u
#else
#define PGC_MAPPING_STATS_SIZE_0_2 PGC_OFFSETOFEND(struct pgc_mapping_stats, retry_in_ms)
#endif

/**
 * @brief Names a mapping for the log, e.g. after the file it caches.
 *
 * The log lines about a mapping's write failures carry the name. A mapping
 * has no name until this is called (the built-in store's mappings are named
 * after the store's file, see pgc_store_mapping_create()).
 * @param mapping the mapping.
 * @param name    the name, copied (cut at #PGC_MAPPING_NAME_MAX - 1 bytes).
 * @return 0; -EINVAL if an argument is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_set_name(pgc_mapping *mapping, const char *name);

/**
 * @brief The name of a mapping ("" if it has none).
 * @param mapping the mapping.
 * @return the name, valid until the next pgc_mapping_set_name() or the
 *         mapping's destruction; NULL if @p mapping is NULL.
 * @par Thread safety
 * Safe from any thread; the text may be torn by a concurrent rename.
 */
PGC_API const char *pgc_mapping_name(const pgc_mapping *mapping);

/**
 * @brief Fills the figures of a mapping.
 * @param mapping the mapping.
 * @param st      the figures; the caller sets @c st->size first (at least
 *                #PGC_MAPPING_STATS_SIZE_0_2). Fields beyond it are not written.
 * @return 0; -EINVAL if an argument is NULL or @c st->size is too small.
 * @par Thread safety
 * Safe from any thread; fields read while others work may belong to
 * slightly different instants.
 */
PGC_API int pgc_mapping_stats(pgc_mapping *mapping, struct pgc_mapping_stats *st);

/**
 * @brief Number of dirty pages in the mapping.
 * @param mapping the mapping.
 * @return the count (0 if @p mapping is NULL).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API uint64_t pgc_mapping_nr_dirty(const pgc_mapping *mapping);

/**
 * @brief Finds a page and takes a reference on it (the kernel's
 * find_get_page). The hit path: no lock is taken.
 *
 * Also notes the use for reclaim (sets REFERENCED).
 *
 * @param mapping the mapping.
 * @param index   the page number.
 * @param pagep   where the page is stored (NULL if none).
 * @return 0 if found; -ENOENT if no page is at @p index; -EINVAL for a NULL
 *         argument.
 * @par Thread safety
 * Safe from any thread, concurrently with every other call on the mapping.
 * The caller drops the reference with pgc_page_put().
 */
PGC_API int pgc_mapping_find(pgc_mapping *mapping, uint64_t index, pgc_page **pagep);

/**
 * @brief Finds a page, takes a reference and locks it (the kernel's
 * find_lock_page). A page that leaves the mapping while the caller waits for
 * its lock is not returned: the lookup is repeated.
 * @param mapping the mapping.
 * @param index   the page number.
 * @param pagep   where the locked page is stored (NULL if none).
 * @return 0; -ENOENT if absent; -EINVAL for a NULL argument.
 * @par Thread safety
 * Safe from any thread; sleeps on the page lock. The caller unlocks and
 * puts the page.
 */
PGC_API int pgc_mapping_find_lock(pgc_mapping *mapping, uint64_t index, pgc_page **pagep);

/**
 * @brief Finds a page or creates it, and returns it locked with a reference
 * (the kernel's grab_cache_page, or grab_cache_page_nowait with
 * #PGC_FIND_NOWAIT).
 *
 * A new page is allocated on the calling CPU's node when the cache uses it,
 * is not UPTODATE, and is inserted locked, so that concurrent finders wait
 * until the creator has filled it.
 *
 * @param mapping the mapping.
 * @param index   the page number.
 * @param flags   0 or #PGC_FIND_NOWAIT (then: -EAGAIN instead of waiting for a
 *                locked page, and allocation reclaims only without sleeping).
 * @param pagep   where the locked page is stored (NULL on error).
 * @return 0; -EINVAL for a NULL argument or unknown flags; -EAGAIN with
 *         #PGC_FIND_NOWAIT if the page is locked by another holder;
 *         -ENOMEM if no frame could be had, or no node of the index.
 * @par Thread safety
 * Safe from any thread. Without #PGC_FIND_NOWAIT it may sleep and reclaim:
 * the caller must hold no page lock.
 */
PGC_API int pgc_mapping_find_or_create(pgc_mapping *mapping, uint64_t index,
				       unsigned flags, pgc_page **pagep);

/**
 * @brief Inserts a page that belongs to no mapping at @p index (the kernel's
 * add_to_page_cache_lru). The mapping takes its own reference and the page
 * joins its node's inactive list.
 *
 * @param mapping the mapping.
 * @param page    a page from pgc_page_alloc() (or one that left its mapping),
 *                usually locked by the caller until its data is filled.
 * @param index   the page number.
 * @return 0; -EEXIST if a page is already at @p index; -EBUSY if the page
 *         is under writeback; -EINVAL for a NULL argument, a page of another
 *         cache, or a page that already is in a mapping; -ENOMEM if a node of
 *         the index could not be allocated (nothing changed).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_insert(pgc_mapping *mapping, pgc_page *page, uint64_t index);

/**
 * @brief Removes a locked page from its mapping (the kernel's
 * delete_from_page_cache). Its dirty state is cancelled: the caller decides
 * to drop that data. The mapping's reference is dropped; the caller's
 * remains.
 * @param page a locked page the caller holds a reference on.
 * @return 0; -EINVAL if @p page is NULL, not locked or in no mapping;
 *         -EBUSY if it is under writeback.
 * @par Thread safety
 * The caller holds the page lock.
 */
PGC_API int pgc_mapping_delete(pgc_page *page);

/**
 * @brief Sets the size and drops the pages beyond it (the kernel's
 * truncate_setsize).
 *
 * Whole pages past the new size leave the mapping, dirty or not (waiting
 * for writeback and page locks); the partial last page stays, its tail is
 * zeroed and handed to invalidatepage with the offset and length of the
 * dropped bytes. Pages that other holders still reference leave the mapping
 * too; they are freed when the holders put them. Then the store follows
 * through the mapping's resize operation (for the built-in file store, an
 * ftruncate(2) of the file), whether the size shrinks or grows, so bytes
 * past a shrunken size read as zeros after a later growth, from the cache
 * or from the store.
 *
 * @param mapping  the mapping.
 * @param new_size the size in bytes.
 * @return 0; -EINVAL if @p mapping is NULL; the error of the resize
 *         operation (the mapping is truncated even then; the store may not
 *         be, and a later pgc_sync_range() tries again).
 * @par Thread safety
 * Safe from any thread; sleeps on page locks and writeback, so the caller
 * holds no page lock of this mapping.
 */
PGC_API int pgc_mapping_truncate(pgc_mapping *mapping, uint64_t new_size);

/**
 * @brief Drops the clean, unlocked, unreferenced pages of an index range
 * (the kernel's invalidate_mapping_pages). Dirty, locked, under-writeback or
 * otherwise held pages are left alone; releasepage is asked for pages with
 * PRIVATE.
 * @param mapping the mapping.
 * @param start   first index.
 * @param end     last index (inclusive).
 * @return the number of pages dropped, or -EINVAL for a NULL mapping or
 *         start > end.
 * @par Thread safety
 * Safe from any thread; never sleeps on a page.
 */
PGC_API long pgc_mapping_invalidate(pgc_mapping *mapping, uint64_t start, uint64_t end);

/**
 * @brief Checks that a mapping's index, its tags and counters agree: the
 * part of pgc_cache_check() that concerns one mapping, which also covers
 * mappings without pages.
 *
 * @param mapping the mapping.
 * @param why     NULL, or a buffer that receives a description of the first
 *                problem found (an empty string when there is none).
 * @param why_len the size of @p why.
 * @return 0 if everything agrees; -EUCLEAN if a problem was found (each is
 *         also logged at #PGC_LOG_ERROR); -EINVAL if @p mapping is NULL.
 * @par Thread safety
 * Only while no other thread uses the mapping (see pgc_cache_check()).
 */
PGC_API int pgc_mapping_check(pgc_mapping *mapping, char *why, size_t why_len);

/**
 * @brief The tags of a mapping's page index (pgc_mapping_find_range()).
 *
 * Each cached page's slot in the index carries these marks, and every node
 * of the index the union of those below it, so a walk by tag visits only
 * the pages that carry it, in index order (the kernel's xarray marks).
 */
enum pgc_mapping_tag {
	PGC_TAG_ANY = -1,      /**< no tag: every cached page */
	PGC_TAG_DIRTY = 0,     /**< dirty pages (pgc_mapping_nr_dirty() counts them) */
	PGC_TAG_WRITEBACK = 1, /**< pages under writeback */
	PGC_TAG_TOWRITE = 2,   /**< dirty pages a sync in progress is to write */
};

/**
 * @brief Finds up to @p nr cached pages of an index range, optionally only
 * those with a tag, in index order (the kernel's find_get_pages_range_tag).
 *
 * Each page returned carries a reference for the caller (drop it with
 * pgc_page_put()), not the lock: the page may leave the mapping or change
 * state at once, so check under the page lock. The walk is lock-free (RCU);
 * a page that is being migrated is waited for and its replacement returned.
 * To go on after a full batch, call again from the index after the last
 * page's, pgc_page_index(pages[nr - 1]) + 1 (unless that page was at
 * @p end).
 *
 * @param mapping the mapping.
 * @param start   first index.
 * @param end     last index (inclusive).
 * @param tag     a #pgc_mapping_tag; #PGC_TAG_ANY for every page.
 * @param pages   receives the pages.
 * @param nr      room in @p pages.
 * @return the number of pages stored, from 0 to @p nr; fewer than @p nr
 *         means none is left in the range; -EINVAL for NULL arguments,
 *         start > end or an unknown tag.
 * @par Thread safety
 * Safe from any thread; never sleeps on a page and allocates nothing.
 */
PGC_API long pgc_mapping_find_range(pgc_mapping *mapping, uint64_t start, uint64_t end, int tag,
				    pgc_page **pages, unsigned nr);

/**
 * @brief Visitor for pgc_mapping_for_each_dirty().
 * @param page a page that was dirty when the walk reached it; the iterator
 *             holds a reference during the call, not the lock.
 * @param arg  the caller's argument.
 * @return 0 to go on, nonzero to stop (that value is returned).
 */
typedef int (*pgc_page_visit_fn)(pgc_page *page, void *arg);

/**
 * @brief Calls @p fn on each dirty page of an index range, in index order.
 *
 * The walk follows the index's dirty tag (as the kernel's tagged writeback
 * does) a few pages at a time, so a page dirtied during the walk is visited
 * if the walk has not passed its index yet, and a page may be clean again
 * by the time it is visited: check under the page lock. A page that is
 * being migrated is waited for and its replacement visited.
 *
 * @param mapping the mapping.
 * @param start   first index.
 * @param end     last index (inclusive).
 * @param fn      the visitor.
 * @param arg     passed to @p fn.
 * @return 0 after visiting every page; the visitor's nonzero value if it
 *         stopped; -EINVAL for NULL arguments or start > end. It allocates
 *         nothing, so it never fails for lack of memory.
 * @par Thread safety
 * Safe from any thread; the visitor may lock pages, write them back or put
 * them dirty again.
 */
PGC_API int pgc_mapping_for_each_dirty(pgc_mapping *mapping, uint64_t start, uint64_t end,
				       pgc_page_visit_fn fn, void *arg);

/**
 * @brief Sets a page's DIRTY flag and accounts it in its mapping's dirty
 * set: what the default set_page_dirty does (the kernel's
 * __set_page_dirty_nobuffers), for an owner's own set_page_dirty, which
 * calls it to mark the page (DIRTY cannot be set with pgc_page_set_flag()).
 * @param page the page.
 * @return 1 if the page became dirty, 0 if it already was; -EINVAL if
 *         @p page is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_account_dirty(pgc_page *page);

/**
 * @brief Returns an up-to-date page with a reference, reading it through
 * readpage if needed (the kernel's read_cache_page).
 * @param mapping the mapping.
 * @param index   the page number.
 * @param pagep   where the page is stored, not locked (NULL on error).
 * @return 0; -EINVAL for a NULL argument; -ENOMEM if no frame could be had;
 *         the readpage error if the read failed (the page is then left in
 *         the mapping, not up to date, with ERROR set).
 * @par Thread safety
 * Safe from any thread; may sleep and reclaim.
 */
PGC_API int pgc_mapping_read_page(pgc_mapping *mapping, uint64_t index, pgc_page **pagep);

/**
 * @brief Writes back the dirty pages of an index range through writepages
 * (or its default).
 * @param mapping the mapping.
 * @param start   first index.
 * @param end     last index (inclusive).
 * @param sync_mode #PGC_WB_ALL to wait for busy pages and for writeback to
 *                complete, #PGC_WB_NONE to skip busy pages. With
 *                #PGC_WB_ALL the call also waits for the pages of the range
 *                that other threads have under writeback (the kernel's
 *                filemap_write_and_wait_range), so that on return every
 *                write completed before the call is on the store.
 * @return 0; -EINVAL for bad arguments; -ENOMEM if the list of dirty pages
 *         could not be allocated; -EROFS if dirty pages exist and the
 *         mapping has no writepage; the first error of writepage (the pages
 *         that failed stay dirty).
 * @par Thread safety
 * Safe from any thread; sleeps on page locks with #PGC_WB_ALL. The caller
 * holds no page lock of this mapping.
 */
PGC_API int pgc_mapping_writeback(pgc_mapping *mapping, uint64_t start, uint64_t end,
				  int sync_mode);

/**
 * @brief Writes back one locked dirty page through writepage (used by
 * reclaim and by writepages implementations).
 * @param page a locked page; it stays locked.
 * @param wbc  the writeback control passed to writepage (may be NULL: a
 *             #PGC_WB_ALL control for this page). A control of this
 *             release or a newer one is passed itself; an older (smaller)
 *             one is copied into one of this release, the members it lacks
 *             0, and the members it has are copied back after writepage.
 * @return 0 if the page was written or was not dirty; -EROFS if the mapping
 *         has no writepage; -EINVAL if @p page is NULL, not locked or in no
 *         mapping, or @p wbc->size is below #PGC_WRITEBACK_CONTROL_SIZE_0_1;
 *         -E2BIG if @p wbc is larger than this release's with nonzero bytes
 *         past it, or its size is above 4096; the writepage error (the page
 *         is dirty again).
 * @par Thread safety
 * The caller holds the page lock.
 */
PGC_API int pgc_mapping_write_page(pgc_page *page, struct pgc_writeback_control *wbc);

/**
 * @brief The function pgc_mapping_writeback_runs() calls for each run of
 * pages to write.
 *
 * @param mapping the mapping.
 * @param pages   @p nr pages of consecutive indexes, lowest first, each
 *                locked, no longer dirty and under writeback.
 * @param nr      the number of pages (at least 1).
 * @param arg     the argument given to pgc_mapping_writeback_runs().
 * @return 0 if every page was written, or a negative errno (then every page
 *         of the run is dirtied again and gets ERROR).
 */
typedef int (*pgc_write_run_fn)(pgc_mapping *mapping, pgc_page **pages, unsigned nr, void *arg);

/** The longest run pgc_mapping_writeback_runs() passes, in pages. */
#define PGC_MAX_RUN 1024u

/**
 * @brief A writepages for stores that write many pages in one request:
 * gathers the dirty pages of the wbc's range in index order into runs of
 * consecutive indexes (at most @p max_run pages each), locks them, clears
 * their dirty flag, sets writeback, calls @p fn once per run, then ends
 * writeback and unlocks. A failed run is dirtied again and the error is
 * recorded on the mapping (see pgc_mapping_check_error()).
 *
 * @param mapping the mapping.
 * @param wbc     the writeback control given to writepages; with
 *                #PGC_WB_NONE, locked pages and pages under writeback are
 *                skipped, with #PGC_WB_ALL they are waited for. An older
 *                release's (smaller) control is used as
 *                pgc_mapping_write_page() uses it.
 * @param fn      writes one run.
 * @param arg     passed to @p fn.
 * @param max_run most pages in one run (0 means 256; at most #PGC_MAX_RUN,
 *                larger values mean #PGC_MAX_RUN).
 * @return 0; -EINVAL for a NULL argument or a @p wbc->size below
 *         #PGC_WRITEBACK_CONTROL_SIZE_0_1; -E2BIG as for
 *         pgc_mapping_write_page(); -ENOMEM if the dirty set could not be
 *         snapshotted; otherwise the first error of @p fn.
 * @par Thread safety
 * Safe from any thread; may sleep on page locks. The caller holds no page
 * lock of the mapping.
 */
PGC_API int pgc_mapping_writeback_runs(pgc_mapping *mapping, struct pgc_writeback_control *wbc,
				       pgc_write_run_fn fn, void *arg, unsigned max_run);

/**
 * @brief Writes a batch of runs for pgc_mapping_writeback_batch(): a store
 * that can have many requests in flight (io_uring, a disk array) submits
 * them all, then waits for all.
 * @param mapping the mapping.
 * @param pages   the pages of every run, one run after the other; each run
 *                has consecutive indexes, lowest first; every page is
 *                locked, no longer dirty and under writeback.
 * @param run_nr  the length of each run in pages (each at least 1).
 * @param errors  one per run, 0 on entry: set a run's to a negative errno
 *                if it was not written (then every page of that run is
 *                dirtied again and gets ERROR; a positive value counts as
 *                -EIO).
 * @param nr_runs the number of runs (at least 1).
 * @param arg     the argument given to pgc_mapping_writeback_batch().
 */
typedef void (*pgc_write_batch_fn)(pgc_mapping *mapping, pgc_page **pages, const unsigned *run_nr,
				   int *errors, unsigned nr_runs, void *arg);

/** The most runs pgc_mapping_writeback_batch() passes in one call. */
#define PGC_MAX_BATCH_RUNS 256u

/** The most pages pgc_mapping_writeback_batch() passes in one call. */
#define PGC_MAX_BATCH_PAGES 4096u

/**
 * @brief pgc_mapping_writeback_runs() for stores that take many requests at
 * once: the runs are gathered as there, and @p fn gets up to @p max_runs of
 * them (and up to #PGC_MAX_BATCH_PAGES pages) in one call, so that their
 * writes can be in flight together. A batch is passed early when the walk
 * must wait for a page (with #PGC_WB_ALL), so that no page of it stays
 * locked while the walk sleeps. Each run's error is handled as a failed
 * run of pgc_mapping_writeback_runs().
 *
 * @param mapping  the mapping.
 * @param wbc      as for pgc_mapping_writeback_runs().
 * @param fn       writes a batch of runs.
 * @param arg      passed to @p fn.
 * @param max_run  most pages in one run (0 means 256; at most #PGC_MAX_RUN,
 *                 larger values mean #PGC_MAX_RUN).
 * @param max_runs most runs in one call (0 means 32; at most
 *                 #PGC_MAX_BATCH_RUNS, larger values mean it).
 * @return as pgc_mapping_writeback_runs(): 0, -EINVAL, -E2BIG, -ENOMEM, or
 *         the first error of a run.
 * @par Thread safety
 * Safe from any thread; may sleep on page locks. The caller holds no page
 * lock of the mapping.
 */
PGC_API int pgc_mapping_writeback_batch(pgc_mapping *mapping, struct pgc_writeback_control *wbc,
					pgc_write_batch_fn fn, void *arg, unsigned max_run,
					unsigned max_runs);

/**
 * @brief Sets the alignment and size limits that pgc_direct_io() enforces.
 * A store sets them when it attaches a mapping (pgc_store_mapping_create()).
 * Default: 512-byte blocks and buffers, 1 MiB segments.
 * @param mapping the mapping.
 * @param limits  the limits: size set to sizeof(struct pgc_dio_limits);
 *                block_size and mem_align powers of two, max_segment a
 *                nonzero multiple of block_size.
 * @return 0; -EINVAL for a NULL argument, a size smaller than
 *         #PGC_DIO_LIMITS_SIZE_0_1, or limits out of range; -E2BIG for a
 *         larger structure than this library knows with nonzero bytes past
 *         it, or a size above 4096.
 * @par Thread safety
 * Safe from any thread; direct I/O already running keeps the old limits.
 */
PGC_API int pgc_mapping_set_dio_limits(pgc_mapping *mapping, const struct pgc_dio_limits *limits);

/**
 * @brief Returns the direct-I/O limits of a mapping.
 * @param mapping the mapping.
 * @param limits  filled; its size field must be set by the caller, and
 *                is left as it was (exactly that many bytes are written,
 *                zeros for members of a newer release).
 * @return 0; -EINVAL for a NULL argument or a size field smaller than
 *         #PGC_DIO_LIMITS_SIZE_0_1; -E2BIG for a size above 4096.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_dio_limits(const pgc_mapping *mapping, struct pgc_dio_limits *limits);

/** A sample of a mapping's write-error sequence (the kernel's errseq_t). */
typedef uint32_t pgc_errseq_t;

/**
 * @brief Samples the mapping's write-error state, as a file descriptor does
 * when it is opened (the kernel's errseq_sample): errors recorded after the
 * sample are reported to its holder, once. An error recorded before it that
 * no holder has been told of yet is reported too (the sample is then 0),
 * so that a write error is never lost just because nobody was watching;
 * errors that some holder has already seen are not.
 * @param mapping the mapping.
 * @return the sample (0 for a NULL mapping).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API pgc_errseq_t pgc_mapping_sample_error(pgc_mapping *mapping);

/**
 * @brief Reports a write error recorded on the mapping since @p since, once
 * per sample holder (the kernel's file_check_and_advance_wb_err): every
 * holder sees each error once, however many holders there are.
 * @param mapping the mapping.
 * @param since   the holder's sample; advanced to the current state.
 * @return 0 if no error was recorded since the sample; the negative errno
 *         of the latest error otherwise; -EINVAL for a NULL argument.
 * @par Thread safety
 * Safe from any thread; each holder owns its sample.
 */
PGC_API int pgc_mapping_check_error(pgc_mapping *mapping, pgc_errseq_t *since);

/**
 * @brief Records a write error on the mapping (done by the library when a
 * writepage or a write run fails; a store may call it for errors it finds
 * otherwise).
 * @param mapping the mapping.
 * @param err     a negative errno.
 * @return 0; -EINVAL for a NULL mapping or @p err not a negative errno.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_set_error(pgc_mapping *mapping, int err);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_MAPPING_H */
