/**
 * @file cache.h
 * @brief The page cache object: configuration, creation, statistics.
 *
 * A cache owns page frames of one size, allocated in large aligned chunks on
 * the NUMA nodes it is configured to use, their descriptors, the LRU lists of
 * each node and the reclaim that keeps the number of pages in use at or below
 * the configured capacity. Mappings (see mapping.h) are created on a cache.
 *
 * @par fork(2)
 * A process that uses the library may fork at any time, from any thread,
 * with no call of its own: the first pgc_cache_create() registers
 * pthread_atfork(3) handlers (once per process) that carry liburcu's state
 * across the fork (its call_rcu worker is paused in the parent for the
 * fork, typically a millisecond, and restarted in the child). posix_spawn(3)
 * and vfork(2) run no such handlers and need none. Do not fork from inside
 * a function the library calls (an operation of struct pgc_mapping_ops, the
 * log callback). In the child, the caches and mappings made before the fork
 * are copies of the parent's, and threads the library started in the
 * parent do not exist:
 * - the child may exit or exec, and may destroy its copies:
 *   pgc_mapping_destroy() and pgc_cache_destroy() of a copy return 0 at
 *   once, without writing back (dirty pages are the parent's to write),
 *   without waiting for any lock and without freeing the copy's memory,
 *   which the child gets back when it exits or execs; pgc_store_close()
 *   closes the child's descriptor as usual;
 * - the child may go on using its copies (read, write, sync, truncate,
 *   make mappings) only if no other thread of the parent was inside the
 *   library at the fork (a thread that held a lock there is gone, and the
 *   lock stays held in the child), for instance when it forked while
 *   single-threaded; its writebacks then write its copies of the pages to
 *   the same store as the parent, so the two must not share a store they
 *   both write;
 * - caches and mappings the child makes after the fork work as in any
 *   process (writeback threads included), and the same rule holds for its
 *   own children.
 * The handlers also keep the library's own threads out of liburcu's
 *   call_rcu() across the fork (docs/concurrency.md says why); an
 *   application that calls call_rcu() itself from several threads and
 *   forks must do the same for its calls.
 */
#ifndef PGCACHE_CACHE_H
#define PGCACHE_CACHE_H

#include <pgcache/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of nodes a #pgc_cache_config may list. */
#define PGC_MAX_NODES 1024

/** Number of nodes whose resident count is in #pgc_stats::node_resident. */
#define PGC_STATS_NODES 64

/** Smallest page size a cache accepts is the OS page size; this is the largest. */
#define PGC_MAX_PAGE_SIZE (1u << 20)

/**
 * @brief Configuration of a cache. Initialise it with
 * pgc_cache_config_init(), then change the fields you need.
 *
 * The structure may grow in later versions; @ref size tells the library which
 * version the caller was built with.
 */
struct pgc_cache_config {
	/** sizeof(struct pgc_cache_config), set by pgc_cache_config_init(). */
	uint32_t size;
	/**
	 * Page size in bytes: a power of two from the OS page size up to
	 * #PGC_MAX_PAGE_SIZE. 0 means the OS page size.
	 */
	uint32_t page_size;
	/**
	 * Capacity in pages: the cache never has more pages in use than this.
	 * If 0, @ref capacity_bytes is used instead.
	 */
	uint64_t capacity_pages;
	/** Capacity in bytes (rounded down to whole pages) when capacity_pages is 0. */
	uint64_t capacity_bytes;
	/**
	 * The NUMA nodes whose memory the cache may use, or NULL for every
	 * node the process may allocate on (its mems_allowed). Where libnuma
	 * reports that NUMA is unavailable, the only node is 0.
	 */
	const int *nodes;
	/** Number of entries in @ref nodes (0 when nodes is NULL). */
	uint32_t nr_nodes;
	/**
	 * Optional per-node limits, in pages, parallel to @ref nodes (or, when
	 * nodes is NULL, indexed by node number up to nr_node_pages). 0 in an
	 * entry means "no limit beyond the capacity". NULL means no limits.
	 */
	const uint64_t *node_pages;
	/** Number of entries in @ref node_pages. */
	uint32_t nr_node_pages;
	/** Diagnostics callback, or NULL to drop diagnostics. */
	pgc_log_fn log;
	/** Argument passed to @ref log. */
	void *log_arg;
	/** Most verbose #pgc_log_level passed to @ref log. */
	int log_level;
	/**
	 * Nonzero: ask the kernel to back the frames with transparent huge
	 * pages (madvise MADV_HUGEPAGE), which can save a TLB miss per lookup
	 * in a large cache. 0 (the default): frames use base pages
	 * (MADV_NOHUGEPAGE), which frames moved between NUMA nodes in place
	 * need, since the kernel moves a huge page as a whole. Measure before
	 * turning it on: under some hypervisors huge pages made random lookups
	 * ten times slower (see bench/README.md). Advice only.
	 */
	int huge_pages;

	/* Fields below were added in 0.2; a 0.1 caller's size leaves them 0. */

	/**
	 * Dirty limit in percent of the capacity (1-100), used when
	 * @ref dirty_limit_pages is 0. 0 means the default, 50. A writer that
	 * would dirty a page while this many pages are dirty waits for
	 * writeback first (the kernel's balance_dirty_pages): it writes back
	 * the oldest dirty mappings itself, or, with a writeback thread
	 * (#PGC_CACHE_WRITEBACK_THREAD), waits for the thread. Only pages of
	 * mappings that can write back (a writepage or writepages operation)
	 * count. A workload that keeps more pages dirty than this runs at
	 * the store's write speed; raise it (up to 100) to let the cache
	 * absorb more, at the price of fewer clean frames for reads and more
	 * of the cache pinned by a store that fails.
	 */
	uint32_t dirty_ratio;
	/**
	 * Background threshold in percent of the capacity, used when
	 * @ref dirty_background_pages is 0. 0 means half the dirty limit.
	 * Above it the writeback thread, if any, writes back oldest first.
	 */
	uint32_t dirty_background_ratio;
	/** Dirty limit in pages; 0: @ref dirty_ratio applies. */
	uint64_t dirty_limit_pages;
	/** Background threshold in pages; 0: @ref dirty_background_ratio applies. */
	uint64_t dirty_background_pages;
	/**
	 * Longest a writer waits at the dirty limit while no writeback makes
	 * progress, in milliseconds; then the write fails with -EAGAIN.
	 * 0 means the default, 30000. (While writeback progresses, writers
	 * wait as long as it takes; while it fails, they get its error.)
	 */
	uint32_t dirty_wait_ms;
	/**
	 * With a writeback thread: data dirty this long is written back even
	 * below the background threshold, in milliseconds (the kernel's
	 * dirty_expire_centisecs). 0 means the default, 30000.
	 */
	uint32_t dirty_expire_ms;
	/** 0 or #PGC_CACHE_WRITEBACK_THREAD. */
	uint32_t flags;
};

/**
 * Flag of pgc_cache_config::flags: pgc_cache_create() starts the cache's
 * writeback thread (as pgc_cache_start_writeback() does).
 */
#define PGC_CACHE_WRITEBACK_THREAD 0x1u

/**
 * @brief Size of struct pgc_cache_config in release 0.1, the first: the
 * smallest @c size pgc_cache_create() accepts. Never changes (see "Versioned
 * structures" in common.h).
 */
#ifdef PGC_ABI_LP64
#define PGC_CACHE_CONFIG_SIZE_0_1 80u
#else
#define PGC_CACHE_CONFIG_SIZE_0_1 PGC_OFFSETOFEND(struct pgc_cache_config, huge_pages)
#endif

/**
 * @brief Size of struct pgc_cache_config in release 0.2 (the dirty limits
 * and flags added). Never changes.
 */
#ifdef PGC_ABI_LP64
#define PGC_CACHE_CONFIG_SIZE_0_2 120u
#else
#define PGC_CACHE_CONFIG_SIZE_0_2 PGC_OFFSETOFEND(struct pgc_cache_config, flags)
#endif

/**
 * @brief A snapshot of a cache's statistics, filled by pgc_cache_stats().
 *
 * Counters are monotonic since the cache was created; gauges (dirty,
 * writeback, resident, free) are the values at the time of the call. The
 * snapshot is not atomic across fields: each field is exact, but fields read
 * while other threads work may belong to slightly different instants.
 */
struct pgc_stats {
	/** sizeof(struct pgc_stats): set by the caller before the call. */
	uint32_t size;
	/** Number of nodes the cache uses. */
	uint32_t nr_nodes;
	/** Page size in bytes. */
	uint64_t page_size;
	/** Capacity in pages. */
	uint64_t capacity;
	/** Lookups that found a page. */
	uint64_t hits;
	/** Lookups that found no page. */
	uint64_t misses;
	/** Pages inserted into a mapping. */
	uint64_t inserts;
	/** Pages removed from a mapping by delete, truncate or invalidate. */
	uint64_t deletes;
	/** Pages removed from a mapping by reclaim. */
	uint64_t evictions;
	/** Pages examined by reclaim. */
	uint64_t reclaim_scans;
	/** Dirty pages that reclaim wrote back through writepage. */
	uint64_t reclaim_writes;
	/** Page allocations that failed with -ENOMEM. */
	uint64_t alloc_failures;
	/** Pages now dirty. */
	uint64_t dirty;
	/** Pages now under writeback. */
	uint64_t writeback;
	/** Pages now in use (allocated, in a mapping or not). */
	uint64_t resident;
	/** Pages now on the active LRU lists. */
	uint64_t active;
	/** Pages now on the inactive LRU lists. */
	uint64_t inactive;
	/** Pages now on the unevictable lists. */
	uint64_t unevictable;
	/** Pages in use per node, indexed by node number (nodes >= #PGC_STATS_NODES: see pgc_cache_node_stats()). */
	uint64_t node_resident[PGC_STATS_NODES];

	/* Fields below were added in 0.2. */

	/** The dirty limit in pages (see pgc_cache_config::dirty_ratio). */
	uint64_t dirty_limit;
	/** The background threshold in pages. */
	uint64_t dirty_background;
	/** Pages now dirty that count against the limits. */
	uint64_t dirty_counted;
	/** Times a writer waited at the dirty limit. */
	uint64_t throttled;
	/** Nanoseconds writers spent waiting at the dirty limit, in all. */
	uint64_t throttled_ns;
	/** Pages the writeback thread wrote back. */
	uint64_t background_written;
	/** Page writes that failed (every mapping, every path). */
	uint64_t write_failures;
};

/**
 * @brief Size of struct pgc_stats in release 0.1, the first: the smallest @c
 * size pgc_cache_stats() accepts. Never changes (see "Versioned structures"
 * in common.h).
 */
#ifdef PGC_ABI_LP64
#define PGC_STATS_SIZE_0_1 648u
#else
#define PGC_STATS_SIZE_0_1 PGC_OFFSETOFEND(struct pgc_stats, node_resident)
#endif

/** @brief Size of struct pgc_stats in release 0.2 (dirty limits and writeback). Never changes. */
#ifdef PGC_ABI_LP64
#define PGC_STATS_SIZE_0_2 704u
#else
#define PGC_STATS_SIZE_0_2 PGC_OFFSETOFEND(struct pgc_stats, write_failures)
#endif

/**
 * @brief Per-node figures of a cache, filled by pgc_cache_node_stats().
 */
struct pgc_node_stats {
	/** sizeof(struct pgc_node_stats): set by the caller before the call. */
	uint32_t size;
	/** The node number. */
	int node;
	/** Pages in use on the node. */
	uint64_t resident;
	/** Frames allocated on the node and free for reuse. */
	uint64_t free;
	/** Most pages the cache may place on the node. */
	uint64_t limit;
	/** Pages on the node's active list. */
	uint64_t active;
	/** Pages on the node's inactive list. */
	uint64_t inactive;
	/** Pages on the node's unevictable list. */
	uint64_t unevictable;
};

/**
 * @brief Size of struct pgc_node_stats in release 0.1, the first: the
 * smallest @c size pgc_cache_node_stats() accepts. Never changes (see
 * "Versioned structures" in common.h).
 */
#ifdef PGC_ABI_LP64
#define PGC_NODE_STATS_SIZE_0_1 56u
#else
#define PGC_NODE_STATS_SIZE_0_1 PGC_OFFSETOFEND(struct pgc_node_stats, unevictable)
#endif

/**
 * @brief Fills a configuration with the defaults: OS page size, a capacity
 * of 4 MiB (in @ref pgc_cache_config::capacity_bytes, with capacity_pages 0;
 * set either to change it), every allowed node, no per-node limits, no log
 * callback.
 *
 * @param cfg the configuration to fill; nothing happens if NULL.
 * @par Thread safety
 * Safe from any thread; touches only @p cfg.
 */
PGC_API void pgc_cache_config_init(struct pgc_cache_config *cfg);

/**
 * @brief Creates a cache.
 *
 * No page memory is allocated here: frames are allocated on their node in
 * chunks as pages are needed, up to the capacity.
 *
 * @param cfg    the configuration (copied; the caller keeps ownership of it
 *               and of the arrays it points to). Its @c size may be that
 *               of any release from 0.1 on: members the caller's release
 *               did not have get their defaults (0).
 * @param cachep where the new cache is stored; it is set to NULL on error.
 * @return 0 on success;
 *         -EINVAL if @p cfg or @p cachep is NULL, @p cfg->size is smaller
 *         than #PGC_CACHE_CONFIG_SIZE_0_1 (the first release's), the page size is
 *         not a power of two in range, the capacity is 0 or too large, a node
 *         is listed twice or nr_nodes exceeds #PGC_MAX_NODES, a ratio is
 *         above 100, the background threshold is not below the dirty limit,
 *         or flags has unknown bits;
 *         -ENODEV if a listed node does not exist or has no memory;
 *         -EACCES if a listed node is outside the process's allowed nodes;
 *         -E2BIG if @p cfg->size is larger than the structure this library
 *         knows and one of the bytes it does not know is not zero (a
 *         caller of a newer release asks for something this library
 *         cannot do), or is above 4096;
 *         -ENOMEM if memory for the cache's own structures is missing, or
 *         the library's fork handlers could not be registered;
 *         -EAGAIN if #PGC_CACHE_WRITEBACK_THREAD is set and the thread
 *         could not be created.
 * @par Thread safety
 * Safe from any thread. The cache returned is safe to use from many threads.
 */
PGC_API int pgc_cache_create(const struct pgc_cache_config *cfg, pgc_cache **cachep);

/**
 * @brief Destroys a cache and frees all its memory.
 *
 * Every mapping of the cache must have been destroyed first. Pages the
 * caller still holds references on become invalid.
 *
 * In a child of fork(2), a cache made before the fork is a copy: it is
 * dropped without freeing its memory and 0 is returned (see cache.h).
 *
 * @param cache the cache, or NULL (then nothing happens).
 * @return 0 on success (also for NULL, and for a copy inherited through
 *         fork(2)); -EBUSY if mappings of the cache still exist (then nothing
 *         is freed).
 * @par Thread safety
 * No other thread may use the cache or any of its pages during or after
 * the call.
 */
PGC_API int pgc_cache_destroy(pgc_cache *cache);

/**
 * @brief Starts the cache's writeback thread, if it is not running.
 *
 * The thread writes back dirty pages, oldest dirtied mapping first, while
 * more than the background threshold are dirty, and data dirty longer than
 * pgc_cache_config::dirty_expire_ms; writers at the dirty limit then wait
 * for it instead of writing back themselves. After a write fails it retries
 * that mapping with a delay growing from 10 ms to 30 s. pgc_cache_destroy()
 * stops it.
 * @param cache the cache.
 * @return 0 (also if it runs already); -EINVAL for NULL; -EAGAIN or
 *         -ENOMEM if the thread could not be created (writers then keep
 *         writing back themselves).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_cache_start_writeback(pgc_cache *cache);

/**
 * @brief Stops the cache's writeback thread and waits for it to exit.
 * Dirty pages stay dirty; writers write back themselves again.
 * @param cache the cache.
 * @return 0 (also if no thread runs); -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread but the writeback thread itself (from a callback).
 */
PGC_API int pgc_cache_stop_writeback(pgc_cache *cache);

/**
 * @brief The page size of a cache in bytes, or 0 if @p cache is NULL.
 * @param cache the cache.
 * @return the page size.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API size_t pgc_cache_page_size(const pgc_cache *cache);

/**
 * @brief Fills a statistics snapshot.
 *
 * @param cache the cache.
 * @param st    the snapshot; the caller sets @c st->size to
 *              sizeof(struct pgc_stats) first (any release's size from
 *              #PGC_STATS_SIZE_0_1 on). Exactly @c st->size bytes are
 *              written: nothing past them, and zeros for the members of a
 *              newer release than this library's. @c st->size is left as
 *              the caller set it.
 * @return 0 on success; -EINVAL if an argument is NULL or @c st->size is
 *         smaller than #PGC_STATS_SIZE_0_1; -E2BIG if it is above 4096.
 * @par Thread safety
 * Safe from any thread while the cache is in use; takes no lock that the
 * lookup path takes.
 */
PGC_API int pgc_cache_stats(pgc_cache *cache, struct pgc_stats *st);

/**
 * @brief Fills the per-node figures of one node of a cache.
 *
 * @param cache the cache.
 * @param node  a node number.
 * @param st    the result; the caller sets @c st->size first (at least
 *              #PGC_NODE_STATS_SIZE_0_1); filled as pgc_cache_stats() fills
 *              its snapshot.
 * @return 0 on success; -EINVAL if an argument is NULL or the size is
 *         smaller than #PGC_NODE_STATS_SIZE_0_1; -E2BIG if it is above 4096;
 *         -ENOENT if the cache does not use @p node.
 * @par Thread safety
 * Safe from any thread; takes the node's LRU lock briefly.
 */
PGC_API int pgc_cache_node_stats(pgc_cache *cache, int node, struct pgc_node_stats *st);

/**
 * @brief Lists the nodes a cache uses.
 *
 * @param cache the cache.
 * @param nodes an array of @p max entries to fill (may be NULL if max is 0).
 * @param max   number of entries in @p nodes.
 * @return the number of nodes the cache uses (which may be more than
 *         @p max; only the first @p max are stored), or -EINVAL if
 *         @p cache is NULL or @p nodes is NULL with max > 0.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_cache_nodes(const pgc_cache *cache, int *nodes, unsigned max);

/**
 * @brief Reclaims pages until at least @p nr pages are free or nothing more
 * can be reclaimed.
 *
 * Reclaim scans the inactive list of each node from its tail: referenced
 * pages get a second chance on the active list; clean pages that nobody
 * else holds, that are not locked and whose releasepage (if any) agrees are
 * freed; dirty pages are written back through their mapping's writepage and
 * freed once clean. The allocation path calls the same machinery when a
 * frame is needed and none is free.
 *
 * @param cache the cache.
 * @param nr    the number of pages to free.
 * @return the number of pages freed (0 or more), or -EINVAL if @p cache is
 *         NULL.
 * @par Thread safety
 * Safe from any thread; must not be called with a page lock held, since it
 * may wait for page locks and call writepage.
 */
PGC_API long pgc_cache_reclaim(pgc_cache *cache, unsigned long nr);

/**
 * @brief Makes frames of a node free ahead of need, so that a later
 * allocation or migration to that node finds them without creating memory
 * on its own path.
 *
 * A cache maps its frames lazily, in chunks, as allocations need them; the
 * first pages bound for a node then pay for mapping and faulting in that
 * memory (several microseconds per page). This call does that work now:
 * it maps chunks on @p node until at least @p frames of its frames are free,
 * within the cache's capacity and the node's limit. Call it before moving many
 * pages to a node (pgc_move_pages(), pgc_migrate_nodes()), or at start-up.
 * The frames stay the cache's: reclaim does not give them back.
 *
 * @param cache  the cache.
 * @param node   a node of the cache (pgc_cache_nodes()).
 * @param frames how many free frames the node should have; 0 does nothing.
 * @return 0 when the node has at least @p frames free frames; -ENOSPC when
 *         the capacity or the node's limit leaves fewer, after making as
 *         many as it could; -ENOMEM when the system refused the memory of
 *         a chunk (the frames made so far are kept); -EINVAL if
 *         @p cache is NULL; -ENODEV if @p node is not a node with memory;
 *         -EACCES if it is not one of the cache's nodes.
 * @par Thread safety
 * Safe from any thread, concurrently with any use of the cache. It takes
 * the cache's frame locks and may fault in memory; it never waits for a
 * page.
 */
PGC_API int pgc_cache_reserve(pgc_cache *cache, int node, uint64_t frames);

/**
 * @brief Checks that the cache's internal structures agree with each other:
 * a debugging and testing aid, as fsck is for a file system.
 *
 * It first waits for the background readahead of the cache's mappings to
 * finish. It walks every frame, the free lists and the LRU lists of each
 * node, and the index and its tags of every mapping that has pages, and
 * checks that they agree: a page in an index names that mapping and index,
 * holds a reference and is on an LRU list (or isolated); a free frame has no
 * references and no mapping; the LRU list a page is on matches its ACTIVE and
 * UNEVICTABLE flags and its node; DIRTY matches dirty-list membership and a
 * dirty page is up to date and lies below the mapping's size; a page handle
 * points back to its page; and every counter (pages, dirty, writeback, free
 * and in-use frames per node) equals what the walk counted. Lists are walked
 * with a step limit, so a corrupted list is reported, not followed forever.
 * Each problem is logged at #PGC_LOG_ERROR through the cache's log callback.
 *
 * @param cache   the cache.
 * @param why     NULL, or a buffer that receives a description of the first
 *                problem found (an empty string when there is none).
 * @param why_len the size of @p why.
 * @return 0 if everything agrees; -EUCLEAN if a problem was found;
 *         -EINVAL if @p cache is NULL; -ENOMEM if the check's own memory
 *         (one pointer per frame) cannot be allocated.
 * @par Thread safety
 * Only for a quiescent cache: no other thread may call into the cache (or
 * hold pages it changes) while it runs, or transient states are reported as
 * problems. It takes the cache's locks, so it must not run from a callback.
 */
PGC_API int pgc_cache_check(pgc_cache *cache, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_CACHE_H */
