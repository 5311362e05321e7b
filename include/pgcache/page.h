/**
 * @file page.h
 * @brief Page descriptors: flags, references, the page lock, data.
 *
 * A page descriptor stands for one page frame of a cache. Its life follows
 * the kernel's struct page:
 * - a page is allocated with a reference count of 1 (pgc_page_alloc(), or
 *   by the find-or-create calls of mapping.h);
 * - a page in a mapping is also held by the mapping (one reference), and
 *   sits on an LRU list of its node;
 * - when the last reference is dropped the frame goes back to its node's
 *   free list at once, and the next allocation may reuse it.
 *
 * Descriptors are type stable: the memory of a descriptor stays a descriptor
 * while the cache lives. A caller that found a page pointer without holding
 * a reference may therefore call pgc_page_get_unless_zero() on it and, if
 * that succeeds, re-check the page's mapping and index.
 */
#ifndef PGCACHE_PAGE_H
#define PGCACHE_PAGE_H

#include <pgcache/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The flags of a page, as bit numbers in the word pgc_page_flags() returns. */
enum pgc_page_flag {
	PGC_PG_LOCKED = 0,       /**< The page lock is held. */
	PGC_PG_UPTODATE = 1,     /**< The data is valid. */
	PGC_PG_DIRTY = 2,        /**< The data is newer than the backing store. */
	PGC_PG_WRITEBACK = 3,    /**< The data is being written back. */
	PGC_PG_REFERENCED = 4,   /**< Used since reclaim last looked at it. */
	PGC_PG_ACTIVE = 5,       /**< On the active LRU list. */
	PGC_PG_ERROR = 6,        /**< An I/O error happened on this page. */
	PGC_PG_PRIVATE = 7,      /**< The mapping's owner attached a private value. */
	PGC_PG_CHECKED = 8,      /**< Free for the owner's use (file systems' PG_checked). */
	PGC_PG_MAPPEDTODISK = 9, /**< The page has blocks allocated on the store. */
	PGC_PG_UNEVICTABLE = 10, /**< Reclaim must not evict the page. */
	PGC_PG_LRU = 11,         /**< On an LRU list (read only). */
	PGC_PG_NR_FLAGS = 12     /**< Number of public flags. */
};

/** The bit of flag @p f in the word pgc_page_flags() returns. */
#define PGC_PAGE_BIT(f) (1u << (f))

/** Node argument meaning "the node of the calling CPU, else any node of the cache". */
#define PGC_NODE_ANY (-1)

/** Flag for pgc_page_alloc() and the find-or-create calls: never sleep. */
#define PGC_ALLOC_NOWAIT 0x1u
/** Flag for pgc_page_alloc(): take the frame from @p node or fail; never fall back to another node. */
#define PGC_ALLOC_STRICT 0x2u

/**
 * @brief Allocates a page that belongs to no mapping.
 *
 * The page has one reference (the caller's), no flags, index 0 and no
 * mapping. If no frame is free and the capacity is reached, reclaim runs
 * (see pgc_cache_reclaim()). When reclaim finds nothing to take while other
 * threads hold pages off the LRU lists (their reclaim or migration), the
 * call waits for them, about 0.1 s at most, before it fails.
 *
 * Frames stay on the node where they were created, and the capacity is
 * shared by all nodes, so a node may have no free frame while others have
 * many. A #PGC_ALLOC_STRICT allocation on such a node (below its limit)
 * then takes a free frame of another node, nearest first, and the kernel
 * moves its memory to the node (move_pages(2)), before any page is evicted;
 * not in a cache with huge pages, where the kernel would move 2 MiB.
 *
 * @param cache the cache.
 * @param node  the node to allocate on, or #PGC_NODE_ANY. Without
 *              #PGC_ALLOC_STRICT another node of the cache is used when that
 *              node is full.
 * @param flags 0 or a combination of #PGC_ALLOC_NOWAIT (reclaim only what
 *              can be reclaimed without sleeping or writing back) and
 *              #PGC_ALLOC_STRICT.
 * @param pagep where the page is stored (NULL on error).
 * @return 0 on success; -EINVAL for a NULL argument or unknown flags;
 *         -ENOENT if @p node is not a node of the cache; -ENOMEM if the
 *         capacity (or the node's limit with #PGC_ALLOC_STRICT) is reached and
 *         nothing could be reclaimed, or the operating system refused memory;
 *         the write error of a store (-ENOSPC, -EIO...) instead when dirty
 *         pages that could not be written back (their write failed, or their
 *         mapping backs off after failures) held the frames;
 * @par Thread safety
 * Safe from any thread, also with page locks held: reclaim only tries
 * page locks and skips pages under writeback, so it never waits for a
 * page (without #PGC_ALLOC_NOWAIT it may write dirty pages through their
 * mapping's writepage, and wait a little for pages under writeback).
 */
PGC_API int pgc_page_alloc(pgc_cache *cache, int node, unsigned flags, pgc_page **pagep);

/**
 * @brief Takes a reference on a page the caller already holds a reference on.
 * @param page the page.
 * @return 0; -EINVAL if @p page is NULL or its count is 0 (a bug: use
 *         pgc_page_get_unless_zero() for speculative references).
 * @par Thread safety
 * Safe from any thread; lock free.
 */
PGC_API int pgc_page_get(pgc_page *page);

/**
 * @brief Takes a reference unless the count is 0 (free or frozen page).
 *
 * The speculative reference of the lookup path: after it succeeds, the
 * caller re-checks that the page is still the one it wanted (its mapping and
 * index), and drops the reference if not.
 *
 * @param page a descriptor of a live cache.
 * @return 0 if a reference was taken; -EAGAIN if the count was 0;
 *         -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread; lock free.
 */
PGC_API int pgc_page_get_unless_zero(pgc_page *page);

/**
 * @brief Drops a reference; the last one frees the page.
 *
 * A page in a mapping is held by the mapping, so the last reference of a
 * cached page is only dropped once it has left its mapping.
 *
 * @param page the page, or NULL (nothing happens).
 * @par Thread safety
 * Safe from any thread. The page must not be locked by the caller when the
 * last reference is dropped.
 */
PGC_API void pgc_page_put(pgc_page *page);

/**
 * @brief The current reference count (a snapshot).
 * @param page the page.
 * @return the count, or -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_page_refcount(const pgc_page *page);

/**
 * @brief Freezes the reference count: sets it to 0 if it equals @p expected.
 *
 * While frozen, pgc_page_get_unless_zero() fails, so lookups retry and no
 * new reference appears. Migration freezes a page at the count it expects
 * (the mapping's reference plus its own) while it swaps the page in the index.
 *
 * @param page     the page.
 * @param expected the count the caller expects; at least 1.
 * @return 0 if frozen; -EBUSY if the count was not @p expected;
 *         -EINVAL if @p page is NULL or @p expected < 1.
 * @par Thread safety
 * Safe from any thread; lock free.
 */
PGC_API int pgc_page_ref_freeze(pgc_page *page, int expected);

/**
 * @brief Unfreezes a frozen reference count, setting it to @p count.
 * @param page  a page frozen by pgc_page_ref_freeze().
 * @param count the new count; at least 1.
 * @return 0; -EINVAL if @p page is NULL, @p count < 1 or the page is not frozen.
 * @par Thread safety
 * Only the thread that froze the page may unfreeze it.
 */
PGC_API int pgc_page_ref_unfreeze(pgc_page *page, int count);

/**
 * @brief Takes the page lock, sleeping (without spinning) while another
 * thread holds it.
 * @param page the page; the caller holds a reference.
 * @return 0; -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread. Page locks are not recursive: a thread that already
 * holds this page's lock deadlocks. Lock pages of one mapping in index order.
 */
PGC_API int pgc_page_lock(pgc_page *page);

/**
 * @brief Takes the page lock if it is free.
 * @param page the page; the caller holds a reference.
 * @return 0 if the lock was taken; -EBUSY if another holder has it;
 *         -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread; never sleeps.
 */
PGC_API int pgc_page_trylock(pgc_page *page);

/**
 * @brief Releases the page lock and wakes its waiters.
 * @param page a page locked by the caller.
 * @return 0; -EINVAL if @p page is NULL or not locked.
 * @par Thread safety
 * Any thread may unlock a page locked for it (the lock is not owned by a
 * thread, as in the kernel, so an I/O completion may unlock it).
 */
PGC_API int pgc_page_unlock(pgc_page *page);

/**
 * @brief Sleeps until the page is not locked (without taking the lock).
 * @param page the page; the caller holds a reference.
 * @return 0; -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread that does not hold the page lock.
 */
PGC_API int pgc_page_wait_unlocked(pgc_page *page);

/**
 * @brief Sleeps until the page is not under writeback.
 * @param page the page; the caller holds a reference.
 * @return 0; -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_page_wait_writeback(pgc_page *page);

/**
 * @brief A snapshot of the page's flags, a word of PGC_PAGE_BIT(flag) bits.
 * @param page the page.
 * @return the flags (0 if @p page is NULL).
 * @par Thread safety
 * Safe from any thread; flags may change right after the call.
 */
PGC_API uint32_t pgc_page_flags(const pgc_page *page);

/**
 * @brief Tests one flag.
 * @param page the page.
 * @param flag one of #pgc_page_flag.
 * @return 1 if set, 0 if clear, -EINVAL for a NULL page or an unknown flag.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_page_test_flag(const pgc_page *page, enum pgc_page_flag flag);

/**
 * @brief Sets a simple flag: UPTODATE, ERROR, CHECKED, MAPPEDTODISK or
 * REFERENCED.
 *
 * Flags with more meaning have their own calls: the lock
 * (pgc_page_lock()), DIRTY (pgc_page_set_dirty()), WRITEBACK
 * (pgc_page_start_writeback()), PRIVATE (pgc_page_set_private()),
 * UNEVICTABLE (pgc_page_set_unevictable()); ACTIVE and LRU belong to
 * reclaim.
 *
 * @param page the page; the caller holds a reference and, for UPTODATE,
 *             the page lock.
 * @param flag the flag.
 * @return 0; -EINVAL for a NULL page or a flag not listed above.
 * @par Thread safety
 * Safe from any thread (atomic).
 */
PGC_API int pgc_page_set_flag(pgc_page *page, enum pgc_page_flag flag);

/**
 * @brief Clears a simple flag (see pgc_page_set_flag() for which).
 * @param page the page; the caller holds a reference.
 * @param flag the flag.
 * @return 0; -EINVAL for a NULL page or a flag that is not simple.
 * @par Thread safety
 * Safe from any thread (atomic).
 */
PGC_API int pgc_page_clear_flag(pgc_page *page, enum pgc_page_flag flag);

/**
 * @brief Marks a page dirty through its mapping's set_page_dirty operation
 * (or the default, which sets the flag and accounts the page in its
 * mapping's dirty set).
 * @param page the page; the caller holds a reference, and should hold the
 *             page lock so that truncate cannot race.
 * @return 1 if the page became dirty, 0 if it already was;
 *         -EINVAL if @p page is NULL; an error of the set_page_dirty operation.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_page_set_dirty(pgc_page *page);

/**
 * @brief Clears the dirty flag before the page is written back
 * (the kernel's clear_page_dirty_for_io).
 *
 * As in the kernel, the page keeps its dirty tag in its mapping's index
 * (#PGC_TAG_DIRTY) until pgc_page_start_writeback(), so that a concurrent
 * sync never finds it in neither state. Call pgc_page_start_writeback() next (before or
 * after this call); a page made clean without being written must be marked
 * dirty again with pgc_page_set_dirty().
 * @param page a locked page.
 * @return 1 if the page was dirty, 0 if not; -EINVAL if @p page is NULL or
 *         not locked.
 * @par Thread safety
 * The caller holds the page lock.
 */
PGC_API int pgc_page_clear_dirty_for_io(pgc_page *page);

/**
 * @brief Sets the writeback flag.
 *
 * The page is counted and tagged under writeback (#PGC_TAG_WRITEBACK), and
 * in the same step loses its dirty and to-write tags if it is clean; a sync
 * (pgc_mapping_writeback() with ::PGC_WB_ALL) waits for it until
 * pgc_page_end_writeback(), which takes the writeback tag away.
 * @param page a locked page.
 * @return 0; -EBUSY if the page is already under writeback;
 *         -EINVAL if @p page is NULL or not locked.
 * @par Thread safety
 * The caller holds the page lock.
 */
PGC_API int pgc_page_start_writeback(pgc_page *page);

/**
 * @brief Clears the writeback flag and wakes those waiting for it.
 * @param page a page under writeback (locked or not).
 * @return 0; -EINVAL if @p page is NULL or not under writeback.
 * @par Thread safety
 * Safe from any thread, typically an I/O completion.
 */
PGC_API int pgc_page_end_writeback(pgc_page *page);

/**
 * @brief Attaches a private value for the mapping's owner and sets PRIVATE.
 *
 * While PRIVATE is set, reclaim asks the mapping's releasepage before it
 * frees the page, and truncate hands the page to invalidatepage.
 *
 * @param page  a locked page.
 * @param value the value (any, including 0).
 * @return 0; -EINVAL if @p page is NULL or not locked; -EEXIST if a private
 *         value is already attached.
 * @par Thread safety
 * The caller holds the page lock.
 */
PGC_API int pgc_page_set_private(pgc_page *page, uintptr_t value);

/**
 * @brief Detaches the private value and clears PRIVATE.
 * @param page   a locked page.
 * @param valuep where the old value is stored (may be NULL).
 * @return 0; -EINVAL if @p page is NULL or not locked; -ENOENT if no value
 *         is attached.
 * @par Thread safety
 * The caller holds the page lock.
 */
PGC_API int pgc_page_clear_private(pgc_page *page, uintptr_t *valuep);

/**
 * @brief The private value (0 when PRIVATE is clear).
 * @param page the page.
 * @return the value.
 * @par Thread safety
 * Stable while the caller holds the page lock.
 */
PGC_API uintptr_t pgc_page_private(const pgc_page *page);

/**
 * @brief Marks a page unevictable (reclaim skips it) or evictable again.
 * @param page a page; the caller holds a reference.
 * @param on   nonzero to set, 0 to clear.
 * @return 0; -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread; takes the node's LRU lock.
 */
PGC_API int pgc_page_set_unevictable(pgc_page *page, int on);

/**
 * @brief Notes a use of the page for reclaim (the kernel's
 * mark_page_accessed): sets REFERENCED, and a page referenced twice moves
 * to the active list when reclaim next looks at it.
 * @param page the page; the caller holds a reference.
 * @par Thread safety
 * Safe from any thread; takes no lock.
 */
PGC_API void pgc_page_mark_accessed(pgc_page *page);

/**
 * @brief The page's data: pgc_cache_page_size() bytes, aligned to the page
 * size (at least the OS page size).
 * @param page the page; the caller holds a reference.
 * @return the address, or NULL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread. Access to the data is the caller's to serialise,
 * usually with the page lock.
 */
PGC_API void *pgc_page_data(const pgc_page *page);

/**
 * @brief The page's index in its mapping (meaningful while it has one).
 * @param page the page.
 * @return the index (0 if @p page is NULL).
 * @par Thread safety
 * Stable while the caller holds the page lock.
 */
PGC_API uint64_t pgc_page_index(const pgc_page *page);

/**
 * @brief The page's mapping, or NULL if it is in none (free, just
 * allocated, or removed by truncate).
 * @param page the page.
 * @return the mapping.
 * @par Thread safety
 * Stable while the caller holds the page lock.
 */
PGC_API pgc_mapping *pgc_page_mapping(const pgc_page *page);

/**
 * @brief The NUMA node of the page's frame.
 * @param page the page.
 * @return the node, or -EINVAL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_page_node(const pgc_page *page);

/**
 * @brief The cache a page belongs to.
 * @param page the page.
 * @return the cache, or NULL if @p page is NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API pgc_cache *pgc_page_cache(const pgc_page *page);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_PAGE_H */
