/**
 * @file placement.h
 * @brief Placement that follows the accesses: cached pages moved to the
 * node that uses them, cold pages demoted to a slower tier of memory and
 * hot ones promoted back.
 *
 * With placement on, every hit notes the node of the calling CPU in the
 * page's descriptor: a few bits (the node, how many notes in a row came
 * from it, the hits in the current step up to 15, and the step of the last
 * note), written only when they change: a page read from one node over and
 * over costs at most 15 writes of its descriptor per step, then none.
 * A placement step (pgc_placement_step(), or the background thread of
 * pgc_placement_start()) then walks a bounded part of the cache's frames,
 * as a clock hand, and moves pages by copy (pgc_move_pages() without
 * waiting, #PGC_MOVE_ASYNC), in batches:
 *
 * - **Locality** (#PGC_PLACE_LOCALITY): a hot page (noted in the last
 *   pgc_placement_config::hot_steps steps) whose last
 *   pgc_placement_config::min_samples notes came from another node of
 *   the cache, with at least pgc_placement_config::min_hits hits in one
 *   step, moves to that node (the kernel's NUMA balancing, for cache
 *   pages and without page faults). Reason #PGC_MR_NUMA_MISPLACED.
 * - **Tiering** (#PGC_PLACE_TIERING): nodes are ranked in tiers, 0 the
 *   fastest. By default a node with CPUs is tier 0 and a node without
 *   (far memory, CXL) tier 1, as the kernel's default memory tiers; the
 *   caller may give its own (pgc_placement_config::tiers). When a node
 *   that has a slower tier below it has fewer free frames than
 *   pgc_placement_config::free_pct of its limit (counting the cache's
 *   capacity too), cold pages of it (no note for cold_steps steps) are
 *   demoted to the nearest node of a slower tier (by libnuma's
 *   distances), reason #PGC_MR_DEMOTION, instead of waiting to be evicted:
 *   the cache then evicts on the slowest tier. A node also demotes as many
 *   cold pages as the last step could not move in for want of room. A hot page on a slower
 *   tier than the node that uses it is promoted to that node, reason
 *   #PGC_MR_PROMOTION, if the node has free frames above its margin.
 *
 * A step never blocks on a page: pages that are locked, under writeback,
 * pinned by a holder other than their mapping, or whose handle is in use
 * are skipped (counted as refused), as are moves to a node without free
 * frames above its margin. Moves within a step run demotions first, so
 * promotions find the room. A rate limit (pages per second, a token bucket
 * with one second of burst) bounds the moves of the steps together.
 *
 * The policy's counters are in pgc_placement_stats(); the moves are also
 * counted per reason in pgc_cache_migrate_stats().
 *
 * On a cache with one node, steps scan and move nothing.
 */
#ifndef PGCACHE_PLACEMENT_H
#define PGCACHE_PLACEMENT_H

#include <pgcache/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Policy of pgc_placement_config::policies: pages move to the node that uses them. */
#define PGC_PLACE_LOCALITY 0x1u
/** Policy of pgc_placement_config::policies: cold pages demoted, hot ones promoted across tiers. */
#define PGC_PLACE_TIERING 0x2u
/**
 * With #PGC_PLACE_LOCALITY or #PGC_PLACE_TIERING: a move or promotion into
 * a node without room trades places with a cold page of that node
 * (#PGC_MOVE_EXCHANGE) in the same step, instead of waiting for the next
 * step's demotions.
 */
#define PGC_PLACE_EXCHANGE 0x4u

/** Most tiers a node may be given. */
#define PGC_PLACE_MAX_TIER 15

/**
 * @brief The placement policy of a cache and its knobs. Initialise it with
 * pgc_placement_config_init(), then change what you need.
 */
struct pgc_placement_config {
	/** sizeof(struct pgc_placement_config), set by pgc_placement_config_init(). */
	uint32_t size;
	/** #PGC_PLACE_LOCALITY and/or #PGC_PLACE_TIERING, optionally with
	 *  #PGC_PLACE_EXCHANGE; 0 turns placement off. */
	uint32_t policies;
	/** Frames a step examines (the clock hand moves this far); 0: 4096.
	 *  Raised to a 32768th of the cache's frames if below. */
	uint32_t scan_pages;
	/** Most pages a step moves; 0: 1024. */
	uint32_t max_moves;
	/** Most pages the steps move per second (token bucket, one second of burst); 0: no limit. */
	uint64_t rate_pages;
	/** Background thread: milliseconds between steps; 0: 100. */
	uint32_t interval_ms;
	/** A page noted within this many steps is hot; 0: 2. */
	uint32_t hot_steps;
	/** A page not noted for this many steps (or never) is cold; 0: 8. Must exceed hot_steps. */
	uint32_t cold_steps;
	/** Notes in a row from one node before a locality move or a promotion, 1-3; 0: 2. */
	uint32_t min_samples;
	/**
	 * Hits within one step (counted up to 15) that make a page hot enough
	 * to move or promote, 1-15; 0: 4. When a node has less room than
	 * pages to move in, the pages with the most hits go first, and pages
	 * with fewer hits (or none for hot_steps steps) are demoted for them.
	 * Set it well above the hits of the pages you call cold in one step:
	 * near that rate, pages move back and forth.
	 */
	uint32_t min_hits;
	/** Tiering: percent of a node's limit kept free by demotion, 1-50; 0: 2. */
	uint32_t free_pct;
	/** Number of entries in @ref tiers (0: the default tiers). */
	uint32_t nr_tiers;
	/**
	 * Optional tier of each node, indexed by node number (0 the fastest, up
	 * to #PGC_PLACE_MAX_TIER); nodes of the cache beyond @ref nr_tiers are
	 * tier 0. NULL: nodes with CPUs are tier 0, nodes without are tier 1.
	 * Copied by pgc_placement_set().
	 */
	const int *tiers;
};

/**
 * @brief Size of struct pgc_placement_config in release 0.2, the first that
 * has it: the smallest @c size pgc_placement_set() accepts. Never changes.
 */
#ifdef PGC_ABI_LP64
#define PGC_PLACEMENT_CONFIG_SIZE_0_2 64u
#else
#define PGC_PLACEMENT_CONFIG_SIZE_0_2 PGC_OFFSETOFEND(struct pgc_placement_config, tiers)
#endif

/** Counters of the placement of a cache (pgc_placement_stats()) or of one step. */
struct pgc_placement_stats {
	/** sizeof(struct pgc_placement_stats): set by the caller. */
	uint32_t size;
	/** Zero. */
	uint32_t reserved;
	/** Steps taken. */
	uint64_t steps;
	/** Frames examined. */
	uint64_t scanned;
	/** Pages moved to the node that uses them (locality). */
	uint64_t moved;
	/** Pages promoted to a faster tier. */
	uint64_t promoted;
	/** Pages demoted to a slower tier. */
	uint64_t demoted;
	/** Moves chosen and not made: page busy or pinned, or no room on the target. */
	uint64_t refused;
	/** Moves left for a later step by the rate limit or max_moves. */
	uint64_t deferred;
	/** Bytes of the pages moved, promoted and demoted (an exchange counts twice). */
	uint64_t bytes;
	/** Of the moved and promoted pages, those that traded places with a
	 *  cold page of a full node (#PGC_PLACE_EXCHANGE). */
	uint64_t exchanged;
};

/**
 * @brief Size of struct pgc_placement_stats in release 0.2, the first that
 * has it: the smallest @c size the library fills. Never changes.
 */
#ifdef PGC_ABI_LP64
#define PGC_PLACEMENT_STATS_SIZE_0_2 80u
#else
#define PGC_PLACEMENT_STATS_SIZE_0_2 PGC_OFFSETOFEND(struct pgc_placement_stats, exchanged)
#endif

/**
 * @brief Fills a placement configuration with the defaults: locality and
 * tiering with exchange, the default knobs, the default tiers.
 * @param cfg the configuration (NULL does nothing).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API void pgc_placement_config_init(struct pgc_placement_config *cfg);

/**
 * @brief Sets a cache's placement policy, or turns placement off.
 *
 * From the call on, hits note their node (see the file's description);
 * with @p cfg NULL or its policies 0 they stop. Notes taken before stay
 * in the descriptors. A background thread, if started, keeps running
 * with the new configuration.
 * @param cache the cache.
 * @param cfg   the configuration (its size set by
 *              pgc_placement_config_init()), or NULL for off.
 * @return 0; -EINVAL for a NULL cache, a size below the first release's,
 *         unknown policies (or #PGC_PLACE_EXCHANGE alone), min_samples
 *         above 3, min_hits above 15, free_pct above 50,
 *         cold_steps not above hot_steps, a tier above
 *         #PGC_PLACE_MAX_TIER or tiers NULL with nr_tiers set; -E2BIG for a
 *         size above 4096; -ENOMEM.
 * @par Thread safety
 * Safe from any thread; waits for a step in progress.
 */
PGC_API int pgc_placement_set(pgc_cache *cache, const struct pgc_placement_config *cfg);

/**
 * @brief Takes one placement step: bounded work (scan_pages frames, at
 * most max_moves moves within the rate limit) that never waits for a page.
 * @param cache the cache.
 * @param stats optional: the counts of this step (its size set by the
 *              caller); NULL for none.
 * @return the number of pages moved, promoted or demoted; -ENOENT if
 *         placement is off; -EINVAL for a NULL cache or a bad @p stats
 *         size; -E2BIG for a size above 4096.
 * @par Thread safety
 * Safe from any thread; steps of one cache run one at a time. The caller
 * holds no page lock.
 */
PGC_API long pgc_placement_step(pgc_cache *cache, struct pgc_placement_stats *stats);

/**
 * @brief Starts a thread that takes a placement step every interval_ms.
 * @param cache the cache (placement on).
 * @return 0; -ENOENT if placement is off; -EALREADY if the thread runs;
 *         -EINVAL for NULL; a negative errno of pthread_create().
 * @par Thread safety
 * Safe from any thread. After fork(), a child's copy of the cache has no
 * thread (as with every cache a child inherits, see cache.h).
 */
PGC_API int pgc_placement_start(pgc_cache *cache);

/**
 * @brief Stops the placement thread and waits for it (pgc_cache_destroy()
 * does it too).
 * @param cache the cache.
 * @return 0; -ESRCH if no thread runs (a caller that comes while another
 *         stops it waits for the thread to end, then gets -ESRCH);
 *         -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread but the placement thread.
 */
PGC_API int pgc_placement_stop(pgc_cache *cache);

/**
 * @brief The cumulative placement counters of a cache.
 * @param cache the cache.
 * @param stats filled; its size set by the caller.
 * @return 0; -EINVAL for NULL or a size below the first release's; -E2BIG
 *         for a size above 4096.
 * @par Thread safety
 * Safe from any thread; a step in progress may be partly in.
 */
PGC_API int pgc_placement_stats(pgc_cache *cache, struct pgc_placement_stats *stats);

/**
 * @brief The node a page's hits were last noted from, or -1 if none was
 * noted (placement off since the page came in).
 * @param page a page held by the caller.
 * @return the node; -1; -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread that holds a reference on the page.
 */
PGC_API int pgc_page_access_node(const pgc_page *page);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_PLACEMENT_H */
