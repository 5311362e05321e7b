/**
 * @file migrate.h
 * @brief The NUMA migration engine: moving cached pages between nodes.
 *
 * A storage server on a multi-socket machine wants its cached pages on the
 * node whose threads use them, or wants to drain a node, or to demote cold
 * pages to a far memory tier. The kernel cannot move the cache's frames by
 * itself without breaking the cache's own pointers and pins; this engine
 * can. It follows the design of Linux's mm/migrate.c, and pgc_move_pages()
 * answers like move_pages(2).
 *
 * @par Two ways to move a page
 * - **Copy** (the default): a frame is taken on the target node, the data
 *   and the page's state are copied, and the new page replaces the old one
 *   in the mapping's index. The data address changes, so the move happens
 *   only when nobody but the mapping, the caller and the engine holds the
 *   page (its reference count equals the expected count, frozen at zero
 *   while the index slot is swapped): a lookup that races sees the old page
 *   or the new one, never none. Works with any frame, huge pages included,
 *   and moves page handles (clpage.h) and private values with the page.
 * - **In place** (#PGC_MOVE_INPLACE): the kernel moves the physical memory
 *   under the frame (move_pages(2) on the frame's address). The descriptor
 *   and the data address stay, so a page that others hold can move too
 *   (with #PGC_MOVE_ALL; without it, only pages that nobody but the mapping
 *   and the caller holds move, as by copy); the frame's recorded node
 *   follows. Needs frames in base pages (the cache's
 *   huge_pages option off, the default), since the kernel would move a
 *   whole 2 MiB huge page.
 *
 * Use copy mode to move pages that are idle in the cache (the common case),
 * and in-place mode with #PGC_MOVE_ALL for pages that stay pinned by their
 * users for long.
 *
 * With the kernel's automatic NUMA balancing on, the kernel may move a
 * frame's memory by itself; the recorded node (pgc_page_node()) then no
 * longer tells the truth, pgc_page_kernel_node() does. Storage servers that
 * place their cache themselves usually turn it off
 * (/proc/sys/kernel/numa_balancing).
 *
 * @par References
 * Every page passed to pgc_migrate_pages() and pgc_move_pages() must be held
 * by one reference of the caller (as move_pages(2) needs the page mapped in
 * the calling process). The expected count of a page is then three: the
 * mapping's, the caller's and the engine's own while it works. A page moved
 * by copy is replaced in the caller's array by its new page, and the
 * caller's reference moves with it.
 */
#ifndef PGCACHE_MIGRATE_H
#define PGCACHE_MIGRATE_H

#include <pgcache/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How much a migration may wait (the kernel's migrate_mode). */
enum pgc_migrate_mode {
	/** Never blocks: page locks are tried, pages under writeback are busy. */
	PGC_MIGRATE_ASYNC = 0,
	/** Waits for page locks, not for writeback. */
	PGC_MIGRATE_SYNC_LIGHT = 1,
	/** Waits for locks and writeback, and writes out dirty pages of
	 *  mappings that cannot move them (no migratepage operation). */
	PGC_MIGRATE_SYNC = 2,
};

/** Why pages are migrated: recorded in the cache's statistics. */
enum pgc_migrate_reason {
	PGC_MR_SYSCALL = 0,         /**< An explicit request (pgc_move_pages()). */
	PGC_MR_MEMPOLICY = 1,       /**< A placement policy of the caller. */
	PGC_MR_NUMA_MISPLACED = 2,  /**< Pages used from another node. */
	PGC_MR_DEMOTION = 3,        /**< Cold pages to a far memory tier. */
	PGC_MR_DRAIN = 4,           /**< Emptying a node (hot-unplug like). */
	PGC_MR_PROMOTION = 5,       /**< Hot pages to a faster tier (placement.h). */
	PGC_MR_NR_REASONS = 6       /**< Number of reasons. */
};

/** Most passes pgc_migrate_pages() makes over pages that were busy. */
#define PGC_MIGRATE_PASSES 10

/**
 * @brief Counts of one migration call, or of all calls with one reason
 * (pgc_cache_migrate_stats()).
 */
struct pgc_migrate_stats {
	/** sizeof(struct pgc_migrate_stats): set by the caller. */
	uint32_t size;
	/** Passes made (1 to #PGC_MIGRATE_PASSES) in one call; calls in the cumulative figures. */
	uint32_t passes;
	/** Pages moved. */
	uint64_t succeeded;
	/** Pages not moved (each page counted once, whatever the passes). */
	uint64_t failed;
	/** Attempts that found a page busy and left it for the next pass. */
	uint64_t retried;
	/** Bytes copied (copy mode). */
	uint64_t bytes;
};

/**
 * @brief Size of struct pgc_migrate_stats in release 0.1, the first: the
 * smallest @c size the migration calls accept. Never changes (see "Versioned
 * structures" in common.h).
 */
#ifdef PGC_ABI_LP64
#define PGC_MIGRATE_STATS_SIZE_0_1 40u
#else
#define PGC_MIGRATE_STATS_SIZE_0_1 PGC_OFFSETOFEND(struct pgc_migrate_stats, bytes)
#endif

/**
 * @brief Gives a new page for a page being migrated (the kernel's
 * new_folio_t).
 * @param page    the page to migrate (locked by the engine, do not touch its lock).
 * @param arg     the argument given to pgc_migrate_pages().
 * @return a page with one reference and no mapping (pgc_page_alloc(), with
 *         or without #PGC_ALLOC_NOWAIT: it may be called under the page
 *         lock), or NULL if there is none (the migration stops with
 *         -ENOMEM).
 */
typedef pgc_page *(*pgc_new_page_fn)(pgc_page *page, void *arg);

/**
 * @brief Migrates pages to new pages by copy (the kernel's migrate_pages()).
 *
 * Up to #PGC_MIGRATE_PASSES passes. A page that is busy (locked in async
 * mode, held by more references than expected, under writeback, its handle
 * in use) is retried in the next pass; -ENOMEM from @p new_page stops the
 * call; other errors are final for their page. Pages are handled in
 * batches: new pages are allocated, old ones locked and taken off their
 * LRU lists, the data copied (by several threads for large batches), then
 * each page is swapped in.
 *
 * Moving one page: the new page gets the old page's identity, then the
 * mapping's migratepage operation runs if it has one (pgc_migrate_page() is
 * the usual choice), else the default: a dirty page is written out first in
 * #PGC_MIGRATE_SYNC mode and is busy in other modes; a clean page moves
 * with pgc_migrate_page().
 *
 * @param pages    @p nr pages of this cache's mappings, each held by one
 *                 reference of the caller. On success for pages[i], pages[i]
 *                 is replaced by the new page and the caller's reference
 *                 moves to it. Pages not migrated stay as they were (back on
 *                 their LRU list).
 * @param nr       number of pages.
 * @param new_page gives the new pages.
 * @param arg      passed to @p new_page.
 * @param mode     a #pgc_migrate_mode.
 * @param reason   a #pgc_migrate_reason, for the statistics.
 * @param status   optional, @p nr entries: 0 for a page moved, else a
 *                 negative errno: -EBUSY still busy after every pass,
 *                 -ENOENT no longer in a mapping, -ENOMEM no new page,
 *                 -EIO a dirty page could not be written out, or an error of
 *                 migratepage.
 * @param stats    optional: the counts of this call; its size member set by
 *                 the caller (at least #PGC_MIGRATE_STATS_SIZE_0_1),
 *                 filled as pgc_cache_stats() fills its snapshot.
 * @return the number of pages not migrated; -ENOMEM if a new page was
 *         missing (the pages not yet migrated have status -ENOMEM);
 *         -EINVAL for bad arguments (a @p stats size below
 *         #PGC_MIGRATE_STATS_SIZE_0_1 included: then nothing is done);
 *         -E2BIG for a @p stats size above 4096.
 * @par Thread safety
 * Safe from any thread; the caller holds no page lock. Sleeps on page
 * locks and writeback in the synchronous modes.
 */
PGC_API long pgc_migrate_pages(pgc_page **pages, unsigned nr, pgc_new_page_fn new_page,
			       void *arg, int mode, int reason, int *status,
			       struct pgc_migrate_stats *stats);

/**
 * @brief Moves a locked page's identity, data and state to a locked new page
 * (the kernel's migrate_folio): the migratepage operation of mappings whose
 * pages need nothing special.
 *
 * The old page's reference count is frozen at its expected count, the new
 * page takes its slot in the mapping's index, its data, its flags (error,
 * referenced, uptodate, active, checked, mappedtodisk, unevictable, dirty
 * with its accounting) and its private value or page handle.
 * @param mapping the mapping of @p page.
 * @param newpage the new page (locked, no mapping).
 * @param page    the page (locked, not under writeback).
 * @param mode    the #pgc_migrate_mode of the migration.
 * @return 0; -EAGAIN if the page is held by more than the expected
 *         references or its handle is in use; -EINVAL if called outside a
 *         migration or with bad arguments.
 * @par Thread safety
 * Only from a migratepage operation called by the engine.
 */
PGC_API int pgc_migrate_page(pgc_mapping *mapping, pgc_page *newpage, pgc_page *page, int mode);

/**
 * @brief A migratepage operation for mappings whose pages must never move
 * (the kernel's fail_migrate_page).
 * @param mapping the mapping (unused).
 * @param newpage the new page (unused).
 * @param page    the page (unused).
 * @param mode    the #pgc_migrate_mode (unused).
 * @return -EIO, always.
 * @par Thread safety
 * Safe from any thread (it touches nothing).
 */
PGC_API int pgc_fail_migrate_page(pgc_mapping *mapping, pgc_page *newpage, pgc_page *page,
				  int mode);

/**
 * Flag of pgc_move_pages() and pgc_migrate_nodes(), after MPOL_MF_MOVE_ALL:
 * pages that other holders pin are tried too. Without it, as move_pages(2)
 * without MPOL_MF_MOVE_ALL moves only pages that the calling process alone
 * maps, a page held by anyone but its mapping and the caller stays where it
 * is, -EACCES, by copy and in place alike. With it, in place
 * (#PGC_MOVE_INPLACE) such pages move, as the frame stays; by copy they
 * cannot (the holders would keep the old page) and are reported -EBUSY
 * instead of -EACCES.
 */
#define PGC_MOVE_ALL 0x1u
/** Flag of pgc_move_pages(): move in place (the kernel moves the memory under the frame). */
#define PGC_MOVE_INPLACE 0x2u
/** Flag of pgc_move_pages(): never block (#PGC_MIGRATE_ASYNC instead of #PGC_MIGRATE_SYNC). */
#define PGC_MOVE_ASYNC 0x4u
/** Flag of pgc_move_pages() with nodes == NULL: ask the kernel where each frame's memory is. */
#define PGC_MOVE_QUERY_KERNEL 0x8u
/**
 * Flag of pgc_move_pages(), by copy only: a page that the target node has
 * no room for (at its limit, or the cache at its capacity) trades places
 * with a cold page of the target (from the tail of its inactive list, one
 * not referenced since preferred, not locked, dirty or clean but not under
 * writeback, held by no one else), after Nimble's page exchange: both
 * data and identities swap, no frame is allocated or freed, so the node's
 * count stays at its limit. The cold page lands on
 * the moved page's node. Such a page is reported moved (its status the
 * target node, the caller's array holding its new descriptor); it stays
 * -ENOMEM only when no cold page fits. Only pages whose mapping's
 * migratepage is pgc_migrate_page(), or clean pages of a mapping without
 * one, take part (a page of another mapping is -EBUSY and never a
 * partner). The private values and idle page handles of both pages are
 * released first (the mapping's releasepage decides, called with the moved
 * page locked; a handle in use makes the page -EBUSY). With the flag, a full
 * node trades pages instead of evicting one of its clean pages for the
 * move (as the copy does without it). Counted as moved in the statistics, with twice its
 * bytes.
 */
#define PGC_MOVE_EXCHANGE 0x10u

/**
 * @brief Moves pages of a cache to nodes, or reports where they are, with
 * the answers of move_pages(2).
 *
 * @param cache  the cache.
 * @param count  number of pages.
 * @param pages  @p count pages, each held by one reference of the caller
 *               (see the file's description); a page moved by copy is
 *               replaced by its new page, the reference moving with it.
 * @param nodes  @p count target nodes, or NULL to only report where each
 *               page is.
 * @param status @p count results: the node the page is on now, or
 *               -EFAULT not a page of this cache; -ENOENT not in a mapping
 *               (deleted, truncated) or free; -EBUSY locked, under I/O, its
 *               handle in use or otherwise held after every pass (a
 *               background readahead reading it, say); -EACCES held by
 *               other holders than the mapping and the caller, without
 *               #PGC_MOVE_ALL; -ENOMEM the target
 *               node is full: at its limit (pgc_cache_node_stats()), or
 *               every frame of the cache in use (a node whose own frames
 *               are all taken gets free frames of other nodes, their memory
 *               moved by the kernel, except in a cache with huge pages);
 *               -EIO a dirty page could not be written back.
 * @param flags  0 or #PGC_MOVE_ALL, #PGC_MOVE_INPLACE, #PGC_MOVE_ASYNC,
 *               #PGC_MOVE_QUERY_KERNEL, #PGC_MOVE_EXCHANGE (not with
 *               #PGC_MOVE_INPLACE).
 * @return 0 if every page is where it was asked to be (or, with
 *         @p nodes NULL, the query was made); the number of pages not moved;
 *         -EINVAL for unknown flags, #PGC_MOVE_EXCHANGE with
 *         #PGC_MOVE_INPLACE, or bad arguments; -ENODEV if a target
 *         node does not exist or has no memory; -EACCES if a target node is
 *         outside the cache's nodes or the process's allowed nodes;
 *         -EOPNOTSUPP for #PGC_MOVE_INPLACE on a cache with huge pages.
 * @par Thread safety
 * Safe from any thread; the caller holds no page lock.
 */
PGC_API long pgc_move_pages(pgc_cache *cache, unsigned long count, pgc_page **pages,
			    const int *nodes, int *status, unsigned flags);

/**
 * @brief Moves every page of a cache (or of one mapping) from some nodes to
 * others, in the spirit of migrate_pages(2): pages on @p from[i] go to
 * @p to[i]. Draining a node is from = {n}, to = {another node}.
 *
 * The sets may overlap, as migrate_pages(2) allows: each page's target is
 * decided by the node it was on when the call began, and a page moves at
 * most once per call. Swapping two nodes is from = {0, 1}, to = {1, 0};
 * rotating three, from = {0, 1, 2}, to = {1, 2, 0}. A node named twice in
 * @p from keeps its first pair. Pages that arrive on a source node while
 * the call runs may or may not move.
 * @param cache   the cache.
 * @param mapping only the pages of this mapping, or NULL for all.
 * @param from    @p nr source nodes.
 * @param to      @p nr target nodes.
 * @param nr      number of node pairs (0: nothing to do, returns 0).
 * @param flags   0 or #PGC_MOVE_ALL, #PGC_MOVE_INPLACE, #PGC_MOVE_ASYNC (as
 *                for pgc_move_pages()).
 * @param reason  a #pgc_migrate_reason.
 * @param stats   optional: the counts of the call, as for
 *                pgc_migrate_pages().
 * @return the number of pages that could not be moved, or -EINVAL,
 *         -ENODEV, -EACCES as pgc_move_pages() (-EINVAL also for a
 *         @p stats size below #PGC_MIGRATE_STATS_SIZE_0_1), -E2BIG for a
 *         @p stats size above 4096, -ENOMEM if the walk could not
 *         allocate.
 * @par Thread safety
 * Safe from any thread; the caller holds no page lock.
 */
PGC_API long pgc_migrate_nodes(pgc_cache *cache, pgc_mapping *mapping, const int *from,
			       const int *to, unsigned nr, unsigned flags, int reason,
			       struct pgc_migrate_stats *stats);

/**
 * @brief The cumulative migration counts of a cache for one reason.
 * @param cache  the cache.
 * @param reason a #pgc_migrate_reason.
 * @param stats  filled; its size member set by the caller (at least
 *               #PGC_MIGRATE_STATS_SIZE_0_1), as for pgc_migrate_pages().
 * @return 0; -EINVAL for bad arguments; -E2BIG for a size above 4096.
 * @par Thread safety
 * Safe from any thread; the counts of calls in progress may be partly in.
 */
PGC_API int pgc_cache_migrate_stats(pgc_cache *cache, int reason, struct pgc_migrate_stats *stats);

/**
 * @brief Where a page's memory is, according to the kernel (move_pages(2)
 * with no target nodes on the frame's address).
 * @param page a page of a cache (held by the caller).
 * @return the node; -EINVAL for NULL; a negative errno from the kernel; on
 *         a machine without NUMA support, 0.
 * @par Thread safety
 * Safe from any thread that holds a reference on the page.
 */
PGC_API int pgc_page_kernel_node(const pgc_page *page);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_MIGRATE_H */
