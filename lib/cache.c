/*
 * The cache object: validates a configuration against the machine's NUMA
 * topology, sets up one frame pool and one set of LRU lists per node, and
 * reports statistics. It allocates no page memory: frames come later, a
 * chunk at a time, from frames.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pgcache/cache.h>

#include "abi_internal.h"
#include "alloc_internal.h"
#include "cache_internal.h"
#include "balance_internal.h"
#include "fork_internal.h"
#include "numa_internal.h"
#include "placement_internal.h"


/* Owned stripes: bit i set while a live thread owns stripe i. */
static _Atomic uint32_t stripes_owned;
static pthread_key_t stripe_key;
static pthread_once_t stripe_once = PTHREAD_ONCE_INIT;
static bool stripe_key_made;
static __thread unsigned stripe_mine = ~0u;

/* At a thread's exit: its stripe (value: stripe + 1) is free again. */
static void stripe_release(void *v)
{
	unsigned i = (unsigned)(uintptr_t)v - 1u;
	atomic_fetch_and_explicit(&stripes_owned, ~(1u << i), memory_order_release);
}

/* The library may be unloaded (dlclose) while threads live: no destructor may run then. */
__attribute__((destructor)) static void stripe_key_fini(void)
{
	if (stripe_key_made)
		pthread_key_delete(stripe_key);
}

static void stripe_key_init(void)
{
	if (pthread_key_create(&stripe_key, stripe_release) != 0)
		stripe_key = (pthread_key_t)-1;
	else
		stripe_key_made = true;
}

static unsigned stripe_claim(void)
{
	pthread_once(&stripe_once, stripe_key_init);
	uint32_t owned = atomic_load_explicit(&stripes_owned, memory_order_relaxed);
	const uint32_t all = (1u << PGC_STAT_SHARED) - 1u;
	while ((owned & all) != all && stripe_key != (pthread_key_t)-1) {
		unsigned i = (unsigned)__builtin_ctz(~owned & all);
		if (atomic_compare_exchange_weak_explicit(&stripes_owned, &owned, owned | (1u << i),
							  memory_order_acquire, memory_order_relaxed)) {
			/* The last owner's plain stores come before ours (release at its
			 * exit, acquire here). Without the key, no release: share. */
			if (pthread_setspecific(stripe_key, (void *)(uintptr_t)(i + 1u)) == 0)
				return i;
			stripe_release((void *)(uintptr_t)(i + 1u));
			break;
		}
	}
	return PGC_STAT_SHARED;
}

unsigned pgc__stat_stripe(void)
{
	if (pgc_unlikely(stripe_mine == ~0u))
		stripe_mine = stripe_claim();
	return stripe_mine;
}

PGC_API void pgc_cache_config_init(struct pgc_cache_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	/* In bytes, so that a caller who sets capacity_bytes is heard:
	 * a nonzero capacity_pages would win over it. */
	cfg->capacity_bytes = (uint64_t)4 << 20;
	cfg->log_level = PGC_LOG_WARN;
	cfg->huge_pages = 0;
}

static int check_config(const struct pgc_cache_config *cfg, size_t *page_size, uint64_t *capacity)
{
	size_t os_page = (size_t)sysconf(_SC_PAGESIZE);
	size_t ps = cfg->page_size ? cfg->page_size : os_page;
	if (ps < os_page || ps > PGC_MAX_PAGE_SIZE || (ps & (ps - 1)))
		return -EINVAL;
	uint64_t cap = cfg->capacity_pages ? cfg->capacity_pages : cfg->capacity_bytes / ps;
	if (cap == 0 || cap > (1ull << 32) - (1ull << 24))
		return -EINVAL;
	if (cfg->nr_nodes > PGC_MAX_NODES || (cfg->nr_nodes && !cfg->nodes) ||
	    (!cfg->nr_nodes && cfg->nodes))
		return -EINVAL;
	if (cfg->nr_node_pages && !cfg->node_pages)
		return -EINVAL;
	if (cfg->nodes && cfg->node_pages && cfg->nr_node_pages != cfg->nr_nodes)
		return -EINVAL;
	if (cfg->dirty_ratio > 100 || cfg->dirty_background_ratio > 100 ||
	    (cfg->flags & ~PGC_CACHE_WRITEBACK_THREAD))
		return -EINVAL;
	*page_size = ps;
	*capacity = cap;
	return 0;
}

/* Picks the node list: the caller's, validated, or every allowed node. */
static int pick_nodes(const struct pgc_cache_config *cfg, int **nodesp, unsigned *nrp)
{
	int max = pgc__numa_max_node();
	int *nodes;
	unsigned nr;
	if (cfg->nodes) {
		nr = cfg->nr_nodes;
		nodes = pgc__malloc(nr * sizeof(int));
		if (!nodes)
			return -ENOMEM;
		for (unsigned i = 0; i < nr; i++) {
			int n = cfg->nodes[i];
			int err = 0;
			if (n < 0 || n >= PGC_NODE_LIMIT || n > max || !pgc__numa_node_has_memory(n))
				err = -ENODEV;
			else if (!pgc__numa_node_allowed(n))
				err = -EACCES;
			for (unsigned j = 0; j < i && !err; j++)
				if (nodes[j] == n)
					err = -EINVAL;
			if (err) {
				free(nodes);
				return err;
			}
			nodes[i] = n;
		}
	} else {
		int count = pgc__numa_allowed_nodes(NULL, 0);
		if (count <= 0)
			return -ENODEV;
		nodes = pgc__malloc((size_t)count * sizeof(int));
		if (!nodes)
			return -ENOMEM;
		nr = (unsigned)pgc__numa_allowed_nodes(nodes, count);
		if (nr > (unsigned)count)
			nr = (unsigned)count;
	}
	*nodesp = nodes;
	*nrp = nr;
	return 0;
}

static uint64_t node_limit(const struct pgc_cache_config *cfg, unsigned i, int node, uint64_t cap)
{
	uint64_t lim = 0;
	if (cfg->node_pages) {
		if (cfg->nodes)
			lim = cfg->node_pages[i];
		else if ((unsigned)node < cfg->nr_node_pages)
			lim = cfg->node_pages[node];
	}
	return lim && lim < cap ? lim : cap;
}

/* For each node, the pools in order of distance: itself first. */
static int build_fallback(struct pgc_cache *c)
{
	unsigned n = c->nr_nodes;
	c->fallback = pgc__malloc((size_t)n * n * sizeof(unsigned));
	if (!c->fallback)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		unsigned *row = &c->fallback[i * n];
		for (unsigned j = 0; j < n; j++)
			row[j] = j;
		/* Insertion sort by distance; the node itself has the least. */
		for (unsigned a = 1; a < n; a++) {
			unsigned v = row[a];
			int dv = v == i ? -1 : pgc__numa_distance(c->nodes[i].id, c->nodes[v].id);
			unsigned b = a;
			while (b > 0) {
				unsigned u = row[b - 1];
				int du = u == i ? -1 : pgc__numa_distance(c->nodes[i].id, c->nodes[u].id);
				if (du <= dv)
					break;
				row[b] = u;
				b--;
			}
			row[b] = v;
		}
	}
	return 0;
}

static void cache_teardown(struct pgc_cache *c);

static void cache_free(struct pgc_cache *c)
{
	free(c->fallback);
	free(c->node_index);
	free(c->nodes);
	free(c);
}

PGC_API int pgc_cache_create(const struct pgc_cache_config *ucfg, pgc_cache **cachep)
{
	if (cachep)
		*cachep = NULL;
	if (!ucfg || !cachep)
		return -EINVAL;
	/* The caller's release of the structure, members it did not know 0. */
	struct pgc_cache_config local;
	int err = PGC__ABI_IN(local, ucfg, PGC_CACHE_CONFIG_SIZE_0_1);
	if (err)
		return err;
	const struct pgc_cache_config *cfg = &local;
	size_t page_size;
	uint64_t capacity;
	err = check_config(cfg, &page_size, &capacity);
	if (err)
		return err;
	/* Before the first cache exists, so that every fork after it is safe. */
	err = pgc__fork_init();
	if (err)
		return err;
	int *ids;
	unsigned nr;
	err = pick_nodes(cfg, &ids, &nr);
	if (err)
		return err;

	struct pgc_cache *c = NULL;
	if (pgc__memalign((void **)&c, 64, sizeof(*c))) {
		free(ids);
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	pgc__workers_init(&c->workers);
	pgc__filler_init(&c->filler);
	c->fork_gen = pgc__fork_generation();
	c->log = cfg->log;
	c->log_arg = cfg->log_arg;
	c->log_level = cfg->log_level;
	c->huge_pages = cfg->huge_pages != 0;
	c->nr_nodes = nr;
	c->max_node_id = 0;
	for (unsigned i = 0; i < nr; i++)
		if (ids[i] > c->max_node_id)
			c->max_node_id = ids[i];
	c->nodes = aligned_alloc(64, sizeof(struct pgc_node) * nr);
	c->node_index = pgc__malloc(sizeof(int16_t) * (size_t)(c->max_node_id + 1));
	if (!c->nodes || !c->node_index) {
		free(ids);
		cache_free(c);
		return -ENOMEM;
	}
	memset(c->nodes, 0, sizeof(struct pgc_node) * nr);
	for (int i = 0; i <= c->max_node_id; i++)
		c->node_index[i] = -1;
	for (unsigned i = 0; i < nr; i++) {
		c->nodes[i].id = ids[i];
		c->node_index[ids[i]] = (int16_t)i;
	}
	free(ids);
	err = build_fallback(c);
	if (err) {
		cache_free(c);
		return err;
	}
	err = pgc__frames_init(&c->frames, page_size, capacity, nr);
	if (err) {
		cache_free(c);
		return err;
	}
	for (unsigned i = 0; i < nr; i++) {
		pgc__frame_pool_init(&c->nodes[i].pool, node_limit(cfg, i, c->nodes[i].id, capacity));
		pgc__lru_init(&c->nodes[i].lru);
	}
	err = pgc__wb_init(c, cfg, capacity);
	if (err) {
		cache_teardown(c);
		return err;
	}
	pgc__log(c, PGC_LOG_INFO, "cache: %zu-byte pages, capacity %llu, %u node(s)", page_size,
		 (unsigned long long)capacity, nr);
	*cachep = c;
	return 0;
}

PGC_API int pgc_cache_destroy(pgc_cache *cache)
{
	if (!cache)
		return 0;
	/*
	 * The child's copy of a parent's cache: its locks may be held and its
	 * lists half changed by threads that are not in this process, so it is
	 * left as it is; its memory goes with the process (cache.h, fork).
	 */
	if (pgc_unlikely(pgc__fork_inherited(cache->fork_gen)))
		return 0;
	if (atomic_load(&cache->nr_mappings) > 0)
		return -EBUSY;
	pgc__wb_fini(cache);
	cache_teardown(cache);
	return 0;
}

static void cache_teardown(struct pgc_cache *c)
{
	pgc__place_fini(c); /* its thread moves pages: first */
	pgc__workers_fini(&c->workers);
	pgc__filler_fini(&c->filler);
	pgc__frames_fini(&c->frames);
	for (unsigned i = 0; i < c->nr_nodes; i++) {
		pgc__frame_pool_fini(&c->nodes[i].pool);
		pgc__lru_fini(&c->nodes[i].lru);
	}
	cache_free(c);
}

PGC_API size_t pgc_cache_page_size(const pgc_cache *cache)
{
	return cache ? cache->frames.page_size : 0;
}

PGC_API int pgc_cache_nodes(const pgc_cache *cache, int *nodes, unsigned max)
{
	if (!cache || (!nodes && max))
		return -EINVAL;
	for (unsigned i = 0; i < cache->nr_nodes && i < max; i++)
		nodes[i] = cache->nodes[i].id;
	return (int)cache->nr_nodes;
}

static uint64_t stat_sum(struct pgc_cache *c, enum pgc_stat s)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < PGC_STAT_STRIPES; i++)
		v += atomic_load_explicit(&c->stats[i].v[s], memory_order_relaxed);
	return v;
}

PGC_API int pgc_cache_stats(pgc_cache *cache, struct pgc_stats *st)
{
	if (!cache)
		return -EINVAL;
	int err = pgc__abi_check_out(st, PGC_STATS_SIZE_0_1);
	if (err)
		return err;
	struct pgc_stats s;
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.nr_nodes = cache->nr_nodes;
	s.page_size = cache->frames.page_size;
	s.capacity = cache->frames.capacity;
	s.hits = stat_sum(cache, PGC_ST_HITS);
	s.misses = stat_sum(cache, PGC_ST_MISSES);
	s.inserts = stat_sum(cache, PGC_ST_INSERTS);
	s.deletes = stat_sum(cache, PGC_ST_DELETES);
	s.evictions = stat_sum(cache, PGC_ST_EVICTIONS);
	s.reclaim_scans = stat_sum(cache, PGC_ST_RECLAIM_SCANS);
	s.reclaim_writes = stat_sum(cache, PGC_ST_RECLAIM_WRITES);
	s.alloc_failures = stat_sum(cache, PGC_ST_ALLOC_FAILURES);
	s.dirty = atomic_load_explicit(&cache->nr_dirty, memory_order_relaxed);
	s.writeback = atomic_load_explicit(&cache->nr_writeback, memory_order_relaxed);
	s.dirty_limit = cache->wb.limit;
	s.dirty_background = cache->wb.background;
	s.dirty_counted = atomic_load_explicit(&cache->wb.nr_dirty, memory_order_relaxed);
	s.throttled = atomic_load_explicit(&cache->wb.throttled, memory_order_relaxed);
	s.throttled_ns = atomic_load_explicit(&cache->wb.throttle_ns, memory_order_relaxed);
	s.background_written = atomic_load_explicit(&cache->wb.bg_written, memory_order_relaxed);
	s.write_failures = atomic_load_explicit(&cache->wb.wb_failures, memory_order_relaxed);
	for (unsigned i = 0; i < cache->nr_nodes; i++) {
		uint64_t inuse = atomic_load_explicit(&cache->nodes[i].pool.nr_inuse,
						      memory_order_relaxed);
		uint64_t nr[PGC_NR_LRU];
		pgc__lru_counts(cache, i, nr);
		s.resident += inuse;
		s.inactive += nr[PGC_LRU_INACTIVE];
		s.active += nr[PGC_LRU_ACTIVE];
		s.unevictable += nr[PGC_LRU_UNEVICTABLE];
		if (cache->nodes[i].id < PGC_STATS_NODES)
			s.node_resident[cache->nodes[i].id] = inuse;
	}
	PGC__ABI_OUT(st, s);
	return 0;
}

PGC_API int pgc_cache_reserve(pgc_cache *cache, int node, uint64_t frames)
{
	if (!cache)
		return -EINVAL;
	if (node < 0 || node > pgc__numa_max_node() || !pgc__numa_node_has_memory(node))
		return -ENODEV;
	int i = pgc__node_index(cache, node);
	if (i < 0)
		return -EACCES;
	return pgc__frames_reserve(cache, (unsigned)i, frames);
}

PGC_API int pgc_cache_node_stats(pgc_cache *cache, int node, struct pgc_node_stats *st)
{
	if (!cache)
		return -EINVAL;
	int err = pgc__abi_check_out(st, PGC_NODE_STATS_SIZE_0_1);
	if (err)
		return err;
	int i = pgc__node_index(cache, node);
	if (i < 0)
		return -ENOENT;
	struct pgc_node *n = &cache->nodes[i];
	struct pgc_node_stats s;
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.node = node;
	s.resident = atomic_load_explicit(&n->pool.nr_inuse, memory_order_relaxed);
	pthread_mutex_lock(&n->pool.lock);
	s.free = n->pool.nr_free;
	pthread_mutex_unlock(&n->pool.lock);
	s.limit = n->pool.limit;
	uint64_t nr[PGC_NR_LRU];
	pgc__lru_counts(cache, (unsigned)i, nr);
	s.inactive = nr[PGC_LRU_INACTIVE];
	s.active = nr[PGC_LRU_ACTIVE];
	s.unevictable = nr[PGC_LRU_UNEVICTABLE];
	PGC__ABI_OUT(st, s);
	return 0;
}
