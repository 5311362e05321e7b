/*
 * Suite "concurrency": many threads on one mapping — lookups, find-or-create,
 * insert, delete and truncate racing, with and without reclaim pressure —
 * and the mutual exclusion of the page lock.
 *
 * Each page's data is stamped with its index (and, where pages are never
 * evicted, with a per-index version), at the start and at the end of the
 * page. A lookup must always see the page it asked for. The operation
 * sequences come from the executable's seed (printed; replay with
 * PGC_TEST_SEED=<n>); PGC_TEST_SCALE scales the operation counts (e.g. 0.1
 * under ThreadSanitizer). Each test also stops at a deadline so that it
 * stays within its time limit on slow machines.
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <sched.h>

#define NTHREADS 4
#define STAMP_MAGIC 0x7067637374616d70ull /* "pgcstamp" */
#define DEADLINE_S 15.0

struct stamp {
	uint64_t magic;
	uint64_t index;
	uint64_t version;
};

static void write_stamp(pgc_page *p, size_t ps, uint64_t idx, uint64_t version)
{
	struct stamp s = { STAMP_MAGIC, idx, version };
	unsigned char *d = pgc_page_data(p);
	memcpy(d, &s, sizeof s);
	memcpy(d + ps - sizeof s, &s, sizeof s);
}

static struct stamp read_stamp(pgc_page *p, size_t ps, int tail)
{
	struct stamp s;
	const unsigned char *d = pgc_page_data(p);
	memcpy(&s, tail ? d + ps - sizeof s : d, sizeof s);
	return s;
}

static int g_head_only; /* set by the truncate test: tails may be zeroed by truncate */

/* Whether both stamps of a page say idx (and version, unless version is ~0). */
static int stamp_ok(struct pgc_tfail *f, pgc_page *p, size_t ps, uint64_t idx, uint64_t version)
{
	for (int tail = 0; tail < 2 - g_head_only; tail++) {
		struct stamp s = read_stamp(p, ps, tail);
		if (!TCHECK(f, s.magic == STAMP_MAGIC && s.index == idx,
			    "page for index %" PRIu64 " carries stamp (magic %#" PRIx64
			    ", index %" PRIu64 ") at its %s",
			    idx, s.magic, s.index, tail ? "end" : "start"))
			return 0;
		if (version != UINT64_MAX &&
		    !TCHECK(f, s.version == version,
			    "page %" PRIu64 " has version %" PRIu64 ", the index says %" PRIu64, idx,
			    s.version, version))
			return 0;
	}
	return 1;
}

struct shared {
	pgc_cache *cache;
	pgc_mapping *m;
	size_t ps;
	uint64_t nkeys;
	unsigned long ops;
	double deadline;
	uint64_t seed;
	struct pgc_tfail fail;
	_Atomic uint64_t *state; /* per index: even = absent, odd = present; +1 per change */
	int track;               /* state is tracked (no eviction) */
	atomic_ulong creates, inserts, deletes, finds_hit, finds_miss, enomem, enomem_nowait, eagain;
	atomic_ulong reads, truncates;
	atomic_int stop;
};

struct worker {
	struct shared *sh;
	int id;
	pthread_t thread;
};

static int stopped(struct shared *sh)
{
	return atomic_load_explicit(&sh->stop, memory_order_relaxed) ||
	       atomic_load_explicit(&sh->fail.failed, memory_order_relaxed);
}

/* A page found by a lookup for idx: checks it under its lock. */
static int check_found(struct shared *sh, pgc_page *p, uint64_t idx)
{
	struct pgc_tfail *f = &sh->fail;
	int ok = 1;

	/* Holding a reference: the identity cannot change under us. */
	if (!TCHECK(f, pgc_page_index(p) == idx, "lookup for %" PRIu64 " returned page of index %" PRIu64,
		    idx, pgc_page_index(p)))
		return 0;
	if (!TCHECK(f, pgc_page_cache(p) == sh->cache, "page of another cache"))
		return 0;
	if (!TCHECK(f, pgc_page_lock(p) == 0, "pgc_page_lock failed"))
		return 0;
	pgc_mapping *pm = pgc_page_mapping(p);
	ok = TCHECK(f, pm == sh->m || pm == NULL, "page of index %" PRIu64 " in a foreign mapping %p",
		    idx, (void *)pm);
	if (ok && pgc_page_test_flag(p, PGC_PG_UPTODATE) == 1) {
		uint64_t version = UINT64_MAX;
		if (sh->track && pm == sh->m) {
			version = atomic_load(&sh->state[idx]);
			ok = TCHECK(f, version & 1,
				    "page %" PRIu64 " in the mapping but the index says absent (version %" PRIu64 ")",
				    idx, version);
		}
		if (ok)
			ok = stamp_ok(f, p, sh->ps, idx, version);
	} else if (ok && sh->track) {
		/* Every creator fills the page before it unlocks it. */
		ok = TCHECK(f, 0, "page %" PRIu64 " found not up to date after its creator unlocked it",
			    idx);
	}
	pgc_page_unlock(p);
	return ok;
}

/* The caller created page p at idx (locked, not up to date): stamp and publish. */
static int publish_new(struct shared *sh, pgc_page *p, uint64_t idx)
{
	uint64_t version = 0;
	if (sh->track) {
		uint64_t v = atomic_load(&sh->state[idx]);
		if ((v & 1) != 0) {
			struct pgc_stats st;
			memset(&st, 0, sizeof st);
			st.size = sizeof st;
			pgc_cache_stats(sh->cache, &st);
			TCHECK(&sh->fail, 0,
			       "index %" PRIu64 " had to be created although it was never deleted (version %" PRIu64
			       "): the page vanished (a duplicate, or an eviction: %" PRIu64
			       " evictions with %" PRIu64 " of %" PRIu64 " pages resident)",
			       idx, v, st.evictions, st.resident, st.capacity);
			return 0;
		}
		if (!TCHECK(&sh->fail, atomic_compare_exchange_strong(&sh->state[idx], &v, v + 1),
			    "index %" PRIu64 " changed under a locked new page", idx))
			return 0;
		version = v + 1;
	}
	write_stamp(p, sh->ps, idx, version);
	return TCHECK(&sh->fail, pgc_page_set_flag(p, PGC_PG_UPTODATE) == 0, "set UPTODATE failed");
}

static void op_find(struct shared *sh, uint64_t idx, int lock_variant)
{
	pgc_page *p = NULL;
	int ret = lock_variant ? pgc_mapping_find_lock(sh->m, idx, &p) : pgc_mapping_find(sh->m, idx, &p);
	if (ret == -ENOENT) {
		TCHECK(&sh->fail, p == NULL, "find miss left a page pointer");
		atomic_fetch_add_explicit(&sh->finds_miss, 1, memory_order_relaxed);
		return;
	}
	if (!TCHECK(&sh->fail, ret == 0, "find(%" PRIu64 ") = %d", idx, ret))
		return;
	atomic_fetch_add_explicit(&sh->finds_hit, 1, memory_order_relaxed);
	if (lock_variant) {
		/* find_lock returns a locked page of this mapping. */
		TCHECK(&sh->fail, pgc_page_mapping(p) == sh->m && pgc_page_index(p) == idx,
		       "find_lock(%" PRIu64 ") returned index %" PRIu64 " mapping %p", idx,
		       pgc_page_index(p), (void *)pgc_page_mapping(p));
		pgc_page_unlock(p);
	}
	check_found(sh, p, idx);
	pgc_page_put(p);
}

static void op_find_or_create(struct shared *sh, struct pgc_rng *rng, uint64_t idx)
{
	pgc_page *p = NULL;
	unsigned flags = pgc_rng_below(rng, 8) == 0 ? PGC_FIND_NOWAIT : 0;
	int ret = pgc_mapping_find_or_create(sh->m, idx, flags, &p);
	if (ret == -EAGAIN && flags) {
		atomic_fetch_add_explicit(&sh->eagain, 1, memory_order_relaxed);
		return;
	}
	if (ret == -ENOMEM && flags) {
		/* NOWAIT reclaims only clean pages, without writing or waiting: allowed to fail. */
		atomic_fetch_add_explicit(&sh->enomem_nowait, 1, memory_order_relaxed);
		return;
	}
	if (ret == -ENOMEM) {
		atomic_fetch_add_explicit(&sh->enomem, 1, memory_order_relaxed);
		TCHECK(&sh->fail, !sh->track,
		       "find_or_create(%" PRIu64 ") = -ENOMEM with a cache far from full", idx);
		return;
	}
	if (!TCHECK(&sh->fail, ret == 0, "find_or_create(%" PRIu64 ", %#x) = %d (%s)", idx, flags, ret,
		    pgc_strerror(ret)))
		return;
	int ok = TCHECK(&sh->fail, pgc_page_test_flag(p, PGC_PG_LOCKED) == 1,
			"find_or_create returned an unlocked page") &&
		 TCHECK(&sh->fail, pgc_page_index(p) == idx && pgc_page_mapping(p) == sh->m,
			"find_or_create(%" PRIu64 ") returned index %" PRIu64 " mapping %p", idx,
			pgc_page_index(p), (void *)pgc_page_mapping(p));
	if (ok) {
		if (pgc_page_test_flag(p, PGC_PG_UPTODATE) != 1) {
			if (publish_new(sh, p, idx)) {
				atomic_fetch_add_explicit(&sh->creates, 1, memory_order_relaxed);
				if (!sh->track && pgc_rng_below(rng, 4) == 0)
					TCHECK(&sh->fail, pgc_page_set_dirty(p) >= 0, "set_dirty failed");
			}
		} else {
			uint64_t version = UINT64_MAX;
			if (sh->track) {
				version = atomic_load(&sh->state[idx]);
				TCHECK(&sh->fail, version & 1,
				       "existing page %" PRIu64 " but the index says absent", idx);
			}
			stamp_ok(&sh->fail, p, sh->ps, idx, version);
		}
	}
	pgc_page_unlock(p);
	pgc_page_put(p);
}

static void op_delete(struct shared *sh, uint64_t idx)
{
	pgc_page *p = NULL;
	int ret = pgc_mapping_find_lock(sh->m, idx, &p);
	if (ret == -ENOENT)
		return;
	if (!TCHECK(&sh->fail, ret == 0, "find_lock(%" PRIu64 ") = %d", idx, ret))
		return;
	int ok = TCHECK(&sh->fail, pgc_page_mapping(p) == sh->m && pgc_page_index(p) == idx,
			"find_lock(%" PRIu64 ") returned a page not at that index", idx);
	if (ok && pgc_page_test_flag(p, PGC_PG_UPTODATE) == 1)
		ok = stamp_ok(&sh->fail, p, sh->ps, idx,
			      sh->track ? atomic_load(&sh->state[idx]) : UINT64_MAX);
	if (ok && sh->track) {
		uint64_t v = atomic_load(&sh->state[idx]);
		ok = TCHECK(&sh->fail, (v & 1) && atomic_compare_exchange_strong(&sh->state[idx], &v, v + 1),
			    "deleting page %" PRIu64 " that the index says is absent (version %" PRIu64 ")",
			    idx, v);
	}
	if (ok) {
		ret = pgc_mapping_delete(p);
		if (sh->track)
			TCHECK(&sh->fail, ret == 0, "delete(%" PRIu64 ") = %d", idx, ret);
		else
			TCHECK(&sh->fail, ret == 0 || ret == -EBUSY, "delete(%" PRIu64 ") = %d", idx, ret);
		if (ret == 0) {
			atomic_fetch_add_explicit(&sh->deletes, 1, memory_order_relaxed);
			TCHECK(&sh->fail, pgc_page_mapping(p) == NULL, "deleted page still in a mapping");
		}
	}
	pgc_page_unlock(p);
	pgc_page_put(p);
}

static void op_insert(struct shared *sh, uint64_t idx)
{
	pgc_page *p = NULL;
	int ret = pgc_page_alloc(sh->cache, PGC_NODE_ANY, 0, &p);
	if (ret == -ENOMEM) {
		atomic_fetch_add_explicit(&sh->enomem, 1, memory_order_relaxed);
		TCHECK(&sh->fail, !sh->track, "pgc_page_alloc = -ENOMEM with a cache far from full");
		return;
	}
	if (!TCHECK(&sh->fail, ret == 0, "pgc_page_alloc = %d", ret))
		return;
	/* A provisional stamp: never visible, the page is locked until published. */
	write_stamp(p, sh->ps, ~idx, 0);
	pgc_page_lock(p);
	ret = pgc_mapping_insert(sh->m, p, idx);
	if (ret == 0) {
		if (TCHECK(&sh->fail, pgc_page_index(p) == idx && pgc_page_mapping(p) == sh->m,
			   "inserted page has index %" PRIu64, pgc_page_index(p)) &&
		    publish_new(sh, p, idx))
			atomic_fetch_add_explicit(&sh->inserts, 1, memory_order_relaxed);
	} else {
		TCHECK(&sh->fail, ret == -EEXIST, "insert(%" PRIu64 ") = %d", idx, ret);
		TCHECK(&sh->fail, pgc_page_mapping(p) == NULL, "failed insert left a mapping");
	}
	pgc_page_unlock(p);
	pgc_page_put(p);
}

static void op_read(struct shared *sh, uint64_t idx)
{
	pgc_page *p = NULL;
	int ret = pgc_mapping_read_page(sh->m, idx, &p);
	if (ret == -ENOMEM) {
		atomic_fetch_add_explicit(&sh->enomem, 1, memory_order_relaxed);
		return;
	}
	if (!TCHECK(&sh->fail, ret == 0, "read_page(%" PRIu64 ") = %d", idx, ret))
		return;
	atomic_fetch_add_explicit(&sh->reads, 1, memory_order_relaxed);
	TCHECK(&sh->fail, pgc_page_test_flag(p, PGC_PG_UPTODATE) == 1,
	       "read_page(%" PRIu64 ") returned a page not up to date", idx);
	check_found(sh, p, idx);
	pgc_page_put(p);
}

static void check_capacity(struct shared *sh)
{
	struct pgc_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	if (!TCHECK(&sh->fail, pgc_cache_stats(sh->cache, &st) == 0, "stats failed"))
		return;
	TCHECK(&sh->fail, st.resident <= st.capacity, "%" PRIu64 " pages resident, capacity %" PRIu64,
	       st.resident, st.capacity);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct pgc_rng rng = { sh->seed + 0x1000003ull * (uint64_t)(w->id + 1) };

	for (unsigned long i = 0; i < sh->ops && !stopped(sh); i++) {
		if ((i & 255) == 0 && pgc_test_now() > sh->deadline)
			break;
		uint64_t idx = pgc_rng_below(&rng, sh->nkeys);
		unsigned op = (unsigned)pgc_rng_below(&rng, 100);
		if (op < 35)
			op_find(sh, idx, 0);
		else if (op < 40)
			op_find(sh, idx, 1);
		else if (op < 65)
			op_find_or_create(sh, &rng, idx);
		else if (op < 78)
			op_delete(sh, idx);
		else if (op < 90)
			op_insert(sh, idx);
		else if (!sh->track)
			op_read(sh, idx);
		else
			op_find(sh, idx, 0);
		if ((i & 63) == 0)
			check_capacity(sh);
	}
	return NULL;
}

static void run_workers(struct shared *sh, void *(*extra)(void *), void *extra_arg)
{
	struct worker w[NTHREADS];
	pthread_t xt;

	for (int i = 0; i < NTHREADS; i++) {
		w[i].sh = sh;
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&w[i].thread, NULL, worker_fn, &w[i]), 0);
	}
	if (extra)
		ck_assert_int_eq(pthread_create(&xt, NULL, extra, extra_arg), 0);
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_join(w[i].thread, NULL), 0);
	atomic_store(&sh->stop, 1);
	if (extra)
		ck_assert_int_eq(pthread_join(xt, NULL), 0);
}

static void shared_init(struct shared *sh, const char *name, uint64_t capacity, uint64_t nkeys,
			int track, const struct pgc_mapping_ops *ops)
{
	memset(sh, 0, sizeof *sh);
	sh->cache = pgc_test_cache(capacity, 0);
	sh->ps = pgc_cache_page_size(sh->cache);
	ck_assert_int_eq(pgc_mapping_create(sh->cache, ops, sh, nkeys * sh->ps, &sh->m), 0);
	sh->nkeys = nkeys;
	sh->track = track;
	sh->ops = pgc_test_scaled(60000, 500);
	sh->deadline = pgc_test_now() + DEADLINE_S;
	sh->seed = pgc_test_seed_for(name);
	sh->state = calloc(nkeys, sizeof *sh->state);
	ck_assert_ptr_nonnull(sh->state);
	printf("%s: %d threads, %lu ops each, %" PRIu64 " keys, capacity %" PRIu64
	       ", seed %" PRIu64 "\n",
	       name, NTHREADS, sh->ops, nkeys, capacity, pgc_test_seed());
}

static void shared_report(struct shared *sh, const char *name)
{
	printf("%s: creates %lu inserts %lu deletes %lu hits %lu misses %lu reads %lu "
	       "truncates %lu eagain %lu enomem %lu (nowait %lu)\n",
	       name, atomic_load(&sh->creates), atomic_load(&sh->inserts), atomic_load(&sh->deletes),
	       atomic_load(&sh->finds_hit), atomic_load(&sh->finds_miss), atomic_load(&sh->reads),
	       atomic_load(&sh->truncates), atomic_load(&sh->eagain), atomic_load(&sh->enomem),
	       atomic_load(&sh->enomem_nowait));
	struct pgc_stats st;
	memset(&st, 0, sizeof st);
	st.size = sizeof st;
	if (pgc_cache_stats(sh->cache, &st) == 0)
		printf("%s: cache: resident %" PRIu64 " inserts %" PRIu64 " deletes %" PRIu64
		       " evictions %" PRIu64 " reclaim writes %" PRIu64 " alloc failures %" PRIu64
		       ", mapping: %" PRIu64 " pages\n",
		       name, st.resident, st.inserts, st.deletes, st.evictions, st.reclaim_writes,
		       st.alloc_failures, pgc_mapping_nr_pages(sh->m));
	fflush(stdout);
}

static void shared_fini(struct shared *sh)
{
	ck_assert_int_eq(pgc_mapping_truncate(sh->m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(sh->m), 0);
	ck_assert_int_eq(pgc_cache_destroy(sh->cache), 0);
	free(sh->state);
}

START_TEST(index_consistency)
{
	struct shared sh;
	const uint64_t K = 512;

	/* Room for every key and more: nothing is evicted, so the index state is exact. */
	shared_init(&sh, "index_consistency", 4 * K, K, 1, NULL);
	run_workers(&sh, NULL, NULL);
	shared_report(&sh, "index_consistency");
	PGC_ASSERT_NO_THREAD_FAILURE(&sh.fail);

	/* Every index: present exactly when the tracked state says so. */
	uint64_t found = 0;
	for (uint64_t i = 0; i < K; i++) {
		pgc_page *p = NULL;
		uint64_t v = atomic_load(&sh.state[i]);
		int ret = pgc_mapping_find(sh.m, i, &p);
		if (v & 1) {
			ck_assert_msg(ret == 0, "page %" PRIu64 " lost (version %" PRIu64 ")", i, v);
			ck_assert_uint_eq(pgc_page_index(p), i);
			ck_assert(stamp_ok(&sh.fail, p, sh.ps, i, v));
			found++;
			pgc_page_put(p);
		} else {
			ck_assert_msg(ret == -ENOENT, "page %" PRIu64 " present but deleted (version %" PRIu64 ")",
				      i, v);
		}
	}
	ck_assert_uint_eq(found, pgc_mapping_nr_pages(sh.m));

	struct pgc_stats st;
	pgc_test_stats(sh.cache, &st);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.inserts, atomic_load(&sh.creates) + atomic_load(&sh.inserts));
	ck_assert_uint_eq(st.deletes, atomic_load(&sh.deletes));
	ck_assert_uint_eq(st.inserts - st.deletes, found);
	ck_assert_uint_gt(atomic_load(&sh.creates) + atomic_load(&sh.inserts), 0);
	ck_assert_uint_gt(atomic_load(&sh.deletes), 0);
	ck_assert_uint_gt(atomic_load(&sh.finds_hit), 0);
	shared_fini(&sh);
}
END_TEST

static int pressure_readpage(pgc_mapping *m, pgc_page *p)
{
	struct shared *sh = pgc_mapping_owner(m);
	write_stamp(p, sh->ps, pgc_page_index(p), 0);
	return 0;
}

static int pressure_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	struct shared *sh = pgc_mapping_owner(m);
	(void)wbc;
	/* The page being written must be the page of its index. */
	TCHECK(&sh->fail, pgc_page_test_flag(p, PGC_PG_LOCKED) == 1, "writepage on an unlocked page");
	stamp_ok(&sh->fail, p, sh->ps, pgc_page_index(p), UINT64_MAX);
	return 0;
}

START_TEST(lookups_under_reclaim)
{
	struct shared sh;
	const uint64_t K = 512;
	const struct pgc_mapping_ops ops = {
		.size = sizeof ops, .readpage = pressure_readpage, .writepage = pressure_writepage,
	};

	/* Far fewer frames than keys: frames are recycled while readers look up. */
	shared_init(&sh, "lookups_under_reclaim", 64, K, 0, &ops);
	run_workers(&sh, NULL, NULL);
	shared_report(&sh, "lookups_under_reclaim");
	PGC_ASSERT_NO_THREAD_FAILURE(&sh.fail);

	struct pgc_stats st;
	pgc_test_stats(sh.cache, &st);
	printf("lookups_under_reclaim: evictions %" PRIu64 ", reclaim writes %" PRIu64
	       ", alloc failures %" PRIu64 "\n",
	       st.evictions, st.reclaim_writes, st.alloc_failures);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_le(st.resident, st.capacity);
	ck_assert_uint_le(pgc_mapping_nr_pages(sh.m), 64);
	/* Nothing can be reclaimed only when everything is pinned; 4 threads pin a few pages. */
	ck_assert_msg(atomic_load(&sh.enomem) == 0,
		      "%lu allocations failed with -ENOMEM although at most %d of 64 pages were held",
		      atomic_load(&sh.enomem), 2 * NTHREADS);

	/* What is left is consistent. */
	uint64_t found = 0;
	for (uint64_t i = 0; i < K; i++) {
		pgc_page *p = NULL;
		if (pgc_mapping_find(sh.m, i, &p) != 0)
			continue;
		found++;
		ck_assert_uint_eq(pgc_page_index(p), i);
		if (pgc_page_test_flag(p, PGC_PG_UPTODATE) == 1)
			ck_assert(stamp_ok(&sh.fail, p, sh.ps, i, UINT64_MAX));
		pgc_page_put(p);
	}
	ck_assert_uint_eq(found, pgc_mapping_nr_pages(sh.m));
	ck_assert_int_eq(pgc_mapping_writeback(sh.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	shared_fini(&sh);
}
END_TEST

static void *truncator_fn(void *arg)
{
	struct shared *sh = arg;
	struct pgc_rng rng = { sh->seed ^ 0x5555 };
	while (!stopped(sh)) {
		/* A partial last page keeps at least its first 64 bytes (the stamp). */
		uint64_t size = pgc_rng_below(&rng, sh->nkeys) * sh->ps;
		if (pgc_rng_below(&rng, 2))
			size += 64 + pgc_rng_below(&rng, sh->ps - 64);
		int ret = pgc_mapping_truncate(sh->m, size);
		if (!TCHECK(&sh->fail, ret == 0, "truncate = %d", ret))
			break;
		atomic_fetch_add_explicit(&sh->truncates, 1, memory_order_relaxed);
		pgc_mapping_set_size(sh->m, sh->nkeys * sh->ps);
		sched_yield();
	}
	return NULL;
}

START_TEST(lookups_racing_truncate)
{
	struct shared sh;
	const uint64_t K = 256;
	const struct pgc_mapping_ops ops = {
		.size = sizeof ops, .readpage = pressure_readpage, .writepage = pressure_writepage,
	};

	/* Truncate removes pages behind the tracked state's back: identity checks only;
	 * it zeroes the tail of the last page: check the stamp at the start only. */
	g_head_only = 1;
	shared_init(&sh, "lookups_racing_truncate", 4 * K, K, 0, &ops);
	run_workers(&sh, truncator_fn, &sh);
	shared_report(&sh, "lookups_racing_truncate");
	PGC_ASSERT_NO_THREAD_FAILURE(&sh.fail);
	ck_assert_uint_gt(atomic_load(&sh.truncates), 0);
	/* 256 keys in a cache of 1024 pages: there is always room. */
	ck_assert_msg(atomic_load(&sh.enomem) == 0,
		      "%lu allocations failed with -ENOMEM in a cache never a quarter full",
		      atomic_load(&sh.enomem));

	uint64_t found = 0;
	for (uint64_t i = 0; i < K; i++) {
		pgc_page *p = NULL;
		if (pgc_mapping_find(sh.m, i, &p) != 0)
			continue;
		found++;
		ck_assert_uint_eq(pgc_page_index(p), i);
		pgc_page_put(p);
	}
	ck_assert_uint_eq(found, pgc_mapping_nr_pages(sh.m));
	shared_fini(&sh);
}
END_TEST

struct lock_shared {
	pgc_page *page;
	unsigned long iters;
	unsigned long counter; /* protected by the page lock only */
	atomic_int inside;
	struct pgc_tfail fail;
	double deadline;
	atomic_ulong done;
};

static void *locker_fn(void *arg)
{
	struct lock_shared *ls = arg;
	for (unsigned long i = 0; i < ls->iters; i++) {
		if ((i & 127) == 0 && pgc_test_now() > ls->deadline)
			break;
		if (atomic_load_explicit(&ls->fail.failed, memory_order_relaxed))
			break;
		if (pgc_page_get(ls->page) != 0) {
			TCHECK(&ls->fail, 0, "pgc_page_get failed");
			break;
		}
		if (i & 1) {
			if (pgc_page_lock(ls->page) != 0) {
				TCHECK(&ls->fail, 0, "pgc_page_lock failed");
				pgc_page_put(ls->page);
				break;
			}
		} else {
			int ret;
			while ((ret = pgc_page_trylock(ls->page)) == -EBUSY)
				sched_yield();
			if (!TCHECK(&ls->fail, ret == 0, "trylock = %d", ret)) {
				pgc_page_put(ls->page);
				break;
			}
		}
		int was = atomic_fetch_add(&ls->inside, 1);
		TCHECK(&ls->fail, was == 0, "%d other holders inside the page lock", was);
		unsigned long c = ls->counter;
		if ((i & 31) == 0)
			sched_yield();
		ls->counter = c + 1;
		atomic_fetch_sub(&ls->inside, 1);
		atomic_fetch_add_explicit(&ls->done, 1, memory_order_relaxed);
		TCHECK(&ls->fail, pgc_page_unlock(ls->page) == 0, "unlock failed");
		pgc_page_put(ls->page);
	}
	return NULL;
}

START_TEST(page_lock_mutual_exclusion)
{
	pgc_cache *cache = pgc_test_cache(8, 0);
	struct lock_shared ls;
	pthread_t t[NTHREADS];

	memset(&ls, 0, sizeof ls);
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &ls.page), 0);
	ls.iters = pgc_test_scaled(20000, 200);
	ls.deadline = pgc_test_now() + DEADLINE_S;
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, locker_fn, &ls), 0);
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	PGC_ASSERT_NO_THREAD_FAILURE(&ls.fail);
	printf("page_lock_mutual_exclusion: %lu critical sections\n", atomic_load(&ls.done));
	ck_assert_uint_eq(ls.counter, atomic_load(&ls.done));
	ck_assert_uint_gt(ls.counter, 0);
	ck_assert_int_eq(pgc_page_refcount(ls.page), 1);
	ck_assert_int_eq(pgc_page_test_flag(ls.page, PGC_PG_LOCKED), 0);
	pgc_page_put(ls.page);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

struct first_alloc {
	pgc_cache *cache;
	pthread_barrier_t *barrier;
	int ret;
	pgc_page *page;
};

static void *first_alloc_fn(void *arg)
{
	struct first_alloc *fa = arg;
	pthread_barrier_wait(fa->barrier);
	fa->ret = pgc_page_alloc(fa->cache, PGC_NODE_ANY, 0, &fa->page);
	return NULL;
}

START_TEST(first_allocations_race)
{
	/* Threads that allocate the first pages of a new cache at the same time
	 * all get one: the cache is empty, far from its capacity. */
	unsigned long rounds = pgc_test_scaled(300, 20);
	unsigned long failed = 0;
	int first_err = 0;

	for (unsigned long r = 0; r < rounds; r++) {
		pgc_cache *cache = pgc_test_cache(64, 0);
		pthread_barrier_t barrier;
		struct first_alloc fa[NTHREADS];
		pthread_t t[NTHREADS];

		pthread_barrier_init(&barrier, NULL, NTHREADS);
		for (int i = 0; i < NTHREADS; i++) {
			fa[i] = (struct first_alloc){ .cache = cache, .barrier = &barrier };
			ck_assert_int_eq(pthread_create(&t[i], NULL, first_alloc_fn, &fa[i]), 0);
		}
		for (int i = 0; i < NTHREADS; i++) {
			ck_assert_int_eq(pthread_join(t[i], NULL), 0);
			if (fa[i].ret != 0) {
				failed++;
				if (!first_err)
					first_err = fa[i].ret;
			} else {
				pgc_page_put(fa[i].page);
			}
		}
		pthread_barrier_destroy(&barrier);
		ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	}
	printf("first_allocations_race: %lu of %lu allocations failed\n", failed,
	       rounds * NTHREADS);
	ck_assert_msg(failed == 0,
		      "%lu of %lu first allocations of a fresh cache of 64 pages failed (first: %d, %s)",
		      failed, rounds * NTHREADS, first_err, pgc_strerror(first_err));
}
END_TEST

/* ---- Optimistic reads against writers, truncate, reclaim, migration ---- */

#define OR_PAGES 48u
#define OR_CACHE 64u

struct orshared {
	pgc_cache *cache;
	pgc_mapping *m;
	size_t ps;
	unsigned char *store; /* the backing store: OR_PAGES pages */
	pthread_mutex_t store_lock;
	_Atomic uint64_t started[OR_PAGES];   /* version of the latest write begun */
	_Atomic uint64_t completed[OR_PAGES]; /* version of the latest write done */
	_Atomic uint64_t truncs[OR_PAGES];    /* truncates that dropped the page */
	atomic_bool stop;
	atomic_ulong reads, zero_reads, chaos;
	struct pgc_tfail fail;
	uint64_t seed;
};

/* Every 8-byte word of a page: (version + 1) << 16 | index (index < 2^16),
 * never 0, so that zeros only come from a truncate. */
static void or_fill(unsigned char *d, size_t ps, uint64_t idx, uint64_t v)
{
	uint64_t w = (v + 1) << 16 | idx;
	for (size_t i = 0; i < ps; i += 8)
		memcpy(d + i, &w, 8);
}

static int or_readpage(pgc_mapping *m, pgc_page *p)
{
	struct orshared *sh = pgc_mapping_owner(m);
	uint64_t idx = pgc_page_index(p);
	pthread_mutex_lock(&sh->store_lock);
	if (idx < OR_PAGES)
		memcpy(pgc_page_data(p), sh->store + idx * sh->ps, sh->ps);
	else
		memset(pgc_page_data(p), 0, sh->ps);
	pthread_mutex_unlock(&sh->store_lock);
	return 0;
}

static int or_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	(void)wbc;
	struct orshared *sh = pgc_mapping_owner(m);
	uint64_t idx = pgc_page_index(p);
	pthread_mutex_lock(&sh->store_lock);
	if (idx < OR_PAGES)
		memcpy(sh->store + idx * sh->ps, pgc_page_data(p), sh->ps);
	pthread_mutex_unlock(&sh->store_lock);
	return 0;
}

/* The store follows a truncate: the bytes past the size become zeros. */
static int or_resize(pgc_mapping *m, uint64_t size)
{
	struct orshared *sh = pgc_mapping_owner(m);
	pthread_mutex_lock(&sh->store_lock);
	uint64_t cap = (uint64_t)OR_PAGES * sh->ps;
	if (size < cap)
		memset(sh->store + size, 0, cap - size);
	pthread_mutex_unlock(&sh->store_lock);
	return 0;
}

static const struct pgc_mapping_ops or_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = or_readpage,
	.writepage = or_writepage,
	.migratepage = pgc_migrate_page,
	.resize = or_resize,
};

static pgc_page *or_new_page(pgc_page *old, void *arg)
{
	pgc_page *p;
	return pgc_page_alloc(arg, pgc_page_node(old), 0, &p) ? NULL : p;
}

static void *or_writer(void *arg)
{
	struct orshared *sh = arg;
	struct pgc_rng r = {sh->seed * 3 + 1};
	unsigned char *buf = malloc(2 * sh->ps);
	while (!atomic_load(&sh->stop) && !atomic_load(&sh->fail.failed)) {
		uint64_t idx = pgc_rng_below(&r, OR_PAGES - 1);
		unsigned nr = 1 + (unsigned)pgc_rng_below(&r, 2);
		uint64_t v[2];
		for (unsigned k = 0; k < nr; k++) {
			v[k] = atomic_load(&sh->started[idx + k]) + 1;
			or_fill(buf + k * sh->ps, sh->ps, idx + k, v[k]);
			atomic_store(&sh->started[idx + k], v[k]);
		}
		ssize_t n = pgc_write(sh->m, buf, nr * sh->ps, idx * sh->ps, 0);
		if (!TCHECK(&sh->fail, n == (ssize_t)(nr * sh->ps) || n == -ENOMEM,
			    "pgc_write = %zd", n))
			break;
		for (unsigned k = 0; k < nr && n > 0; k++)
			atomic_store(&sh->completed[idx + k], v[k]);
	}
	free(buf);
	return NULL;
}

/*
 * Reclaim, migration by copy, invalidate, and a truncate of the last pages
 * followed by a growth back (those pages then read as zeros until written).
 */
static void *or_chaos(void *arg)
{
	struct orshared *sh = arg;
	struct pgc_rng r = {sh->seed * 5 + 2};
	while (!atomic_load(&sh->stop) && !atomic_load(&sh->fail.failed)) {
		switch (pgc_rng_below(&r, 4)) {
		case 0:
			pgc_cache_reclaim(sh->cache, OR_CACHE / 4);
			break;
		case 1: {
			pgc_page *pages[8];
			unsigned n = 0;
			for (unsigned k = 0; k < 8; k++)
				if (pgc_mapping_find(sh->m, pgc_rng_below(&r, OR_PAGES), &pages[n]) == 0)
					n++;
			int status[8];
			/* Copies every page to a new frame, even on one node. */
			long left = pgc_migrate_pages(pages, n, or_new_page, sh->cache,
						      PGC_MIGRATE_SYNC, PGC_MR_MEMPOLICY, status, NULL);
			(void)left; /* busy pages (-EBUSY, -EAGAIN) stay: that is allowed */
			for (unsigned k = 0; k < n; k++)
				pgc_page_put(pages[k]);
			break;
		}
		case 2:
			pgc_mapping_invalidate(sh->m, 0, OR_PAGES);
			break;
		default: {
			uint64_t keep = OR_PAGES - 1 - pgc_rng_below(&r, 4);
			/* Counted before and after: a read that overlaps sees a change. */
			for (uint64_t i = keep; i < OR_PAGES; i++)
				atomic_fetch_add(&sh->truncs[i], 1);
			int err = pgc_mapping_truncate(sh->m, keep * sh->ps);
			TCHECK(&sh->fail, err == 0, "truncate: %d", err);
			pgc_mapping_set_size(sh->m, (uint64_t)OR_PAGES * sh->ps);
			for (uint64_t i = keep; i < OR_PAGES; i++)
				atomic_fetch_add(&sh->truncs[i], 1);
			break;
		}
		}
		atomic_fetch_add(&sh->chaos, 1);
	}
	return NULL;
}

/*
 * Every page a reader gets is whole: one word everywhere, naming its own
 * index (never bytes of a freed or reused frame), a version between the
 * last write completed before the read and the last begun after it, or
 * zeros where a truncate dropped the page.
 */
static void or_check(struct orshared *sh, const unsigned char *d, uint64_t idx, uint64_t lo,
		     uint64_t hi, uint64_t t0, uint64_t t1)
{
	uint64_t w;
	memcpy(&w, d, 8);
	for (size_t i = 8; i < sh->ps; i += 8)
		if (!TCHECK(&sh->fail, memcmp(d + i, &w, 8) == 0,
			    "page %" PRIu64 " is torn at byte %zu", idx, i))
			return;
	if (w == 0) {
		TCHECK(&sh->fail, t1 > 0, "page %" PRIu64 " reads as zeros, never truncated", idx);
		atomic_fetch_add(&sh->zero_reads, 1);
		return;
	}
	uint64_t v = (w >> 16) - 1;
	TCHECK(&sh->fail, (w & 0xffff) == idx, "page %" PRIu64 " holds the data of page %" PRIu64, idx,
	       w & 0xffff);
	/* Not older than the last write done before the read began, unless a
	 * truncate dropped the page since that write (a write of an older
	 * version may then be the one that brought it back). */
	TCHECK(&sh->fail, v <= hi && (v >= lo || t1 != t0 || t0 > 0),
	       "page %" PRIu64 ": version %" PRIu64 " outside [%" PRIu64 ", %" PRIu64 "]", idx, v,
	       lo, hi);
}

static void *or_reader(void *arg)
{
	struct orshared *sh = arg;
	struct pgc_rng r = {sh->seed * 7 + 3};
	unsigned char *buf = malloc(2 * sh->ps);
	while (!atomic_load(&sh->stop) && !atomic_load(&sh->fail.failed)) {
		uint64_t idx = pgc_rng_below(&r, OR_PAGES - 1);
		uint64_t lo[2], t0[2];
		for (unsigned k = 0; k < 2; k++) {
			lo[k] = atomic_load(&sh->completed[idx + k]);
			t0[k] = atomic_load(&sh->truncs[idx + k]);
		}
		ssize_t n = pgc_read(sh->m, buf, 2 * sh->ps, idx * sh->ps);
		if (n == -ENOMEM)
			continue;
		/* Short only while a truncate had the size below these pages. */
		unsigned got = n > 0 ? (unsigned)((size_t)n / sh->ps) : 0;
		if (!TCHECK(&sh->fail, n >= 0 && (size_t)n % sh->ps == 0 &&
				       (got == 2 || atomic_load(&sh->truncs[idx + got]) != t0[got] ||
					(t0[got] & 1)),
			    "pgc_read of pages %" PRIu64 "-%" PRIu64 " = %zd", idx, idx + 1, n))
			break;
		for (unsigned k = 0; k < got; k++)
			or_check(sh, buf + k * sh->ps, idx + k, lo[k], atomic_load(&sh->started[idx + k]),
				 t0[k], atomic_load(&sh->truncs[idx + k]));
		atomic_fetch_add(&sh->reads, 1);
	}
	free(buf);
	return NULL;
}

/*
 * Hit counts stay exact with more threads than owned stat stripes (the
 * rest share one, atomically) and with threads coming and going (a
 * stripe given back at a thread's exit is taken by the next).
 */
#define SC_WAVES 3
#define SC_THREADS 40 /* more than the 31 owned stripes */
#define SC_READS 2000

struct sc_arg {
	pgc_mapping *m;
	size_t ps;
	struct pgc_tfail *fail;
};

static void *sc_reader(void *arg)
{
	struct sc_arg *a = arg;
	unsigned char b[8];
	for (unsigned i = 0; i < SC_READS; i++)
		if (!TCHECK(a->fail, pgc_read(a->m, b, sizeof(b), (uint64_t)(i % 4) * a->ps) ==
					    (ssize_t)sizeof(b),
			    "pgc_read of a cached page failed"))
			break;
	return NULL;
}

START_TEST(stat_counts_exact_across_threads)
{
	pgc_cache *c = pgc_test_cache(16, 0);
	size_t ps = pgc_cache_page_size(c);
	pgc_mapping *m;
	ck_assert_int_eq(pgc_mapping_create(c, NULL, NULL, 4 * ps, &m), 0);
	unsigned char *buf = calloc(4, ps);
	ck_assert_int_eq(pgc_write(m, buf, 4 * ps, 0, 0), (ssize_t)(4 * ps));
	struct pgc_stats before = {.size = sizeof(before)}, after = {.size = sizeof(after)};
	ck_assert_int_eq(pgc_cache_stats(c, &before), 0);
	struct pgc_tfail fail = {0};
	struct sc_arg a = {.m = m, .ps = ps, .fail = &fail};
	for (int w = 0; w < SC_WAVES; w++) {
		pthread_t th[SC_THREADS];
		for (int i = 0; i < SC_THREADS; i++)
			ck_assert_int_eq(pthread_create(&th[i], NULL, sc_reader, &a), 0);
		for (int i = 0; i < SC_THREADS; i++)
			pthread_join(th[i], NULL);
	}
	PGC_ASSERT_NO_THREAD_FAILURE(&fail);
	ck_assert_int_eq(pgc_cache_stats(c, &after), 0);
	ck_assert_uint_eq(after.hits - before.hits, (uint64_t)SC_WAVES * SC_THREADS * SC_READS);
	ck_assert_uint_eq(after.misses, before.misses);
	free(buf);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0); /* no store: drop the dirty pages */
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
}
END_TEST

START_TEST(optimistic_reads_consistent)
{
	static struct orshared sh;
	memset(&sh, 0, sizeof(sh));
	sh.seed = pgc_test_seed_for("concurrency.optimistic_reads_consistent");
	sh.cache = pgc_test_cache(OR_CACHE, 0);
	sh.ps = pgc_cache_page_size(sh.cache);
	sh.store = malloc((size_t)OR_PAGES * sh.ps);
	ck_assert_ptr_nonnull(sh.store);
	for (uint64_t i = 0; i < OR_PAGES; i++)
		or_fill(sh.store + i * sh.ps, sh.ps, i, 0);
	pthread_mutex_init(&sh.store_lock, NULL);
	ck_assert_int_eq(pgc_mapping_create(sh.cache, &or_ops, &sh, (uint64_t)OR_PAGES * sh.ps, &sh.m),
			 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(sh.m, 0), 0);
	pthread_t th[4];
	void *(*fn[4])(void *) = {or_reader, or_reader, or_writer, or_chaos};
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, fn[i], &sh), 0);
	unsigned long want = pgc_test_scaled(200000, 5000);
	double t0 = pgc_test_now();
	while (atomic_load(&sh.reads) < want && !atomic_load(&sh.fail.failed) &&
	       pgc_test_now() - t0 < DEADLINE_S)
		pgc_test_sleep_ms(20);
	atomic_store(&sh.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&sh.fail);
	printf("concurrency: optimistic reads: seed %" PRIu64 ", %lu reads checked (%lu pages of "
	       "zeros after truncates), %lu reclaims, migrations, invalidates and truncates\n",
	       sh.seed, atomic_load(&sh.reads), atomic_load(&sh.zero_reads), atomic_load(&sh.chaos));
	ck_assert_uint_gt(atomic_load(&sh.reads), 1000);
	ck_assert_int_eq(pgc_sync_range(sh.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(pgc_cache_check(sh.cache, NULL, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(sh.m), 0);
	ck_assert_int_eq(pgc_cache_destroy(sh.cache), 0);
	pthread_mutex_destroy(&sh.store_lock);
	free(sh.store);
}
END_TEST

static Suite *concurrency_suite(void)
{
	Suite *s = suite_create("concurrency");
	PGC_ADD(s, index_consistency, 60);
	PGC_ADD(s, lookups_under_reclaim, 60);
	PGC_ADD(s, lookups_racing_truncate, 60);
	PGC_ADD(s, page_lock_mutual_exclusion, 60);
	PGC_ADD(s, first_allocations_race, 60);
	PGC_ADD(s, optimistic_reads_consistent, 60);
	PGC_ADD(s, stat_counts_exact_across_threads, 60);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, concurrency_suite());
}
