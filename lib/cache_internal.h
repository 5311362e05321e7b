/*
 * The cache object shared by the layers above the frames: its nodes (frame
 * pool and LRU lists of each), statistics, and the diagnostics callback.
 */
#ifndef PGC_CACHE_INTERNAL_H
#define PGC_CACHE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include <urcu/list.h>

#include <pgcache/cache.h>

#include "assert_internal.h"
#include "frames_internal.h"
#include "lru_internal.h"
#include "fill_internal.h"
#include "workers_internal.h"

/* Event counters, striped over cache lines so the hit path does not bounce one. */
enum pgc_stat {
	PGC_ST_HITS,
	PGC_ST_MISSES,
	PGC_ST_INSERTS,
	PGC_ST_DELETES,
	PGC_ST_EVICTIONS,
	PGC_ST_RECLAIM_SCANS,
	PGC_ST_RECLAIM_WRITES,
	PGC_ST_ALLOC_FAILURES,
	PGC_NR_STATS
};

/*
 * Statistics are striped: each of the first PGC_STAT_STRIPES - 1 threads
 * alive at a time owns a stripe of every cache's counters and adds to it
 * with a plain load and store (no locked instruction on the hit path: an
 * atomic add costs as much as the rest of a cached read); threads beyond
 * them share the last stripe and add atomically. A thread's stripe is
 * given back when it exits (cache.c).
 */
#define PGC_STAT_STRIPES 32u
#define PGC_STAT_SHARED (PGC_STAT_STRIPES - 1u)

struct pgc_stat_stripe {
	_Atomic uint64_t v[PGC_NR_STATS];
} __attribute__((aligned(64)));

/* One NUMA node of a cache. */
struct pgc_node {
	int id;
	struct pgc_frame_pool pool;
	struct pgc_lru lru;
} __attribute__((aligned(64)));

/* Cumulative migration counts of one reason (migrate.c). */
#define PGC_MIG_REASONS 6
struct pgc_mig_counters {
	_Atomic uint64_t calls, succeeded, failed, retried, bytes;
};

/*
 * Dirty limits and background writeback of a cache (balance.c, the
 * kernel's page-writeback.c and fs-writeback.c). Only pages of mappings
 * that can write back (writepage or writepages) count against the limits:
 * the others can never be cleaned, as the kernel's tmpfs pages are not
 * counted. Limits are set at create and never change.
 */
struct pgc_wb {
	_Atomic uint64_t nr_dirty;    /* dirty pages of mappings that can write back */
	uint64_t limit;               /* writers wait at or above it */
	uint64_t background;          /* background writeback starts above it */
	uint64_t wait_ns;             /* longest a writer waits with no progress */
	uint64_t expire_ns;           /* the thread writes data dirty this long */
	_Atomic uint64_t throttled, throttle_ns, bg_written, wb_failures;
	_Atomic bool idle;            /* the thread sleeps and wants a signal */
	/* Under lock: the mappings with dirty pages that count, oldest
	 * dirtied first (their wb_link), and the thread's state. */
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* the thread sleeps on it */
	pthread_cond_t done;          /* a step on a mapping ended (wb_busy) */
	struct cds_list_head dirty;
	bool running, stop;
	pid_t pid;                    /* process that started the thread */
	pthread_t thread;
};

struct pgc_cache {
	struct pgc_frames frames;
	unsigned nr_nodes;
	struct pgc_node *nodes;       /* nr_nodes entries */
	int max_node_id;
	int16_t *node_index;          /* node id -> index in nodes, or -1 */
	unsigned *fallback;           /* nr_nodes x nr_nodes: pools by distance */
	_Atomic uint64_t nr_dirty;
	_Atomic uint64_t nr_writeback;
	_Atomic long nr_mappings;
	_Atomic int nr_isolating;     /* threads holding pages off the LRU (lru.c) */
	pgc_log_fn log;
	void *log_arg;
	int log_level;
	bool huge_pages;              /* frames advised MADV_HUGEPAGE */
	uint32_t fork_gen;            /* pgc__fork_generation() at create (fork_internal.h) */
	struct pgc_stat_stripe stats[PGC_STAT_STRIPES];
	struct pgc_wb wb;
	struct pgc_mig_counters mig[PGC_MIG_REASONS];
	struct pgc_workers workers;   /* helper threads for large copies (workers.c) */
	struct pgc_filler filler;     /* background fills (fill.c) */
	struct pgc_place *_Atomic place; /* placement state, made by the first
					  * pgc_placement_set() (placement.c) */
};

unsigned pgc__stat_stripe(void);

/* CLOCK_MONOTONIC in nanoseconds (no system call: the vDSO serves it). */
static inline uint64_t pgc__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A CLOCK_MONOTONIC time in ns as the timespec of pthread_cond_timedwait(). */
static inline struct timespec pgc__timespec_ns(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
}

/* A condition variable whose timed waits count in CLOCK_MONOTONIC. */
static inline void pgc__cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
}

static inline void pgc__stat_add(struct pgc_cache *c, enum pgc_stat s, uint64_t n)
{
	unsigned i = pgc__stat_stripe();
	_Atomic uint64_t *v = &c->stats[i].v[s];
	if (pgc_likely(i != PGC_STAT_SHARED))
		/* Only this thread writes it: readers see one value or the next. */
		atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
				      memory_order_relaxed);
	else
		atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

static inline void pgc__stat_inc(struct pgc_cache *c, enum pgc_stat s)
{
	pgc__stat_add(c, s, 1);
}

/* The index of a node in cache->nodes, or -1 if the cache does not use it. */
static inline int pgc__node_index(const struct pgc_cache *c, int node)
{
	if (node < 0 || node > c->max_node_id)
		return -1;
	return c->node_index[node];
}

static inline struct pgc_node *pgc__page_node(struct pgc_cache *c, const struct pgc_page *page)
{
	return &c->nodes[c->node_index[pgc__page_node_of(page)]];
}

__attribute__((format(printf, 3, 4))) void pgc__log(const struct pgc_cache *c, int level,
						     const char *fmt, ...);

#endif /* PGC_CACHE_INTERNAL_H */
