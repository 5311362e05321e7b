/*
 * Suite "page": page descriptors (page.h) — allocation, references, freezing,
 * the page lock, writeback waits, flags, the private value, data and the
 * memory overhead of a descriptor.
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <sys/prctl.h>

static pgc_page *alloc_page(pgc_cache *cache)
{
	pgc_page *p = NULL;
	int ret = pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p);
	ck_assert_msg(ret == 0, "pgc_page_alloc = %d (%s)", ret, pgc_strerror(ret));
	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(alloc_any_node)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = NULL;

	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), 0);
	ck_assert_ptr_nonnull(p);
	/* A new page: one reference, no flags, index 0, no mapping. */
	ck_assert_int_eq(pgc_page_refcount(p), 1);
	ck_assert_uint_eq(pgc_page_flags(p), 0);
	ck_assert_uint_eq(pgc_page_index(p), 0);
	ck_assert_ptr_null(pgc_page_mapping(p));
	ck_assert_ptr_eq(pgc_page_cache(p), cache);
	ck_assert_int_ge(pgc_page_node(p), 0);

	int nodes[PGC_MAX_NODES];
	int n = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	int found = 0;
	for (int i = 0; i < n; i++)
		found |= nodes[i] == pgc_page_node(p);
	ck_assert_msg(found, "page on node %d, which the cache does not use", pgc_page_node(p));

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(alloc_strict_node)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	int node = pgc_test_first_node(cache);
	pgc_page *p = NULL;

	ck_assert_int_eq(pgc_page_alloc(cache, node, PGC_ALLOC_STRICT, &p), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pgc_page_node(p), node);
	pgc_page_put(p);

	p = NULL;
	ck_assert_int_eq(pgc_page_alloc(cache, node, 0, &p), 0);
	ck_assert_ptr_nonnull(p);
	pgc_page_put(p);

	p = NULL;
	ck_assert_int_eq(pgc_page_alloc(cache, node, PGC_ALLOC_STRICT | PGC_ALLOC_NOWAIT, &p), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pgc_page_node(p), node);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(alloc_unknown_node)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = (pgc_page *)&p; /* must be reset to NULL */

	ck_assert_int_eq(pgc_page_alloc(cache, 999, 0, &p), -ENOENT);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_page_alloc(cache, 999, PGC_ALLOC_STRICT, &p), -ENOENT);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_STATS_NODES + 1, 0, &p), -ENOENT);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	/* -1 is PGC_NODE_ANY; -2 names no node. */
	ck_assert_int_eq(pgc_page_alloc(cache, -2, 0, &p), -ENOENT);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(alloc_bad_args)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = (pgc_page *)&p;

	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0x4, &p), -EINVAL);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0x80000000u, &p), -EINVAL);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_page_alloc(NULL, PGC_NODE_ANY, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, NULL), -EINVAL);

	/* Nothing was allocated by the failed calls. */
	struct pgc_stats st;
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.resident, 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(alloc_capacity_enomem)
{
	enum { CAP = 4 };
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_page *pages[CAP], *p;
	struct pgc_stats st;

	for (int i = 0; i < CAP; i++)
		pages[i] = alloc_page(cache);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.resident, CAP);
	uint64_t failures = st.alloc_failures;

	/* Held pages in no mapping cannot be reclaimed. */
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), -ENOMEM);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, PGC_ALLOC_NOWAIT, &p), -ENOMEM);
	ck_assert_ptr_null(p);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.resident, CAP);
	ck_assert_uint_ge(st.alloc_failures, failures + 2);

	/* A freed frame is reused. */
	pgc_page_put(pages[0]);
	pages[0] = alloc_page(cache);
	pgc_test_stats(cache, &st);
	ck_assert_uint_le(st.resident, CAP);

	for (int i = 0; i < CAP; i++)
		pgc_page_put(pages[i]);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(alloc_node_limit_strict)
{
	struct pgc_cache_config cfg;
	pgc_cache *cache = NULL;
	int node0;
	pgc_page *a, *b, *c = NULL;

	/* Learn a node of the machine first. */
	cache = pgc_test_cache(8, 0);
	node0 = pgc_test_first_node(cache);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);

	int nodes[1] = { node0 };
	uint64_t limits[1] = { 2 };
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 8;
	cfg.nodes = nodes;
	cfg.nr_nodes = 1;
	cfg.node_pages = limits;
	cfg.nr_node_pages = 1;
	ck_assert_int_eq(pgc_cache_create(&cfg, &cache), 0);

	struct pgc_node_stats ns = { .size = sizeof ns };
	ck_assert_int_eq(pgc_cache_node_stats(cache, node0, &ns), 0);
	ck_assert_uint_eq(ns.limit, 2);

	ck_assert_int_eq(pgc_page_alloc(cache, node0, PGC_ALLOC_STRICT, &a), 0);
	ck_assert_int_eq(pgc_page_alloc(cache, node0, PGC_ALLOC_STRICT, &b), 0);
	ck_assert_int_eq(pgc_page_alloc(cache, node0, PGC_ALLOC_STRICT, &c), -ENOMEM);
	ck_assert_ptr_null(c);
	/* The only node is full: without STRICT there is nowhere else to go. */
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &c), -ENOMEM);
	ck_assert_ptr_null(c);

	pgc_page_put(a);
	pgc_page_put(b);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(refcount_get_put)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	ck_assert_int_eq(pgc_page_refcount(p), 1);
	ck_assert_int_eq(pgc_page_get(p), 0);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	ck_assert_int_eq(pgc_page_get_unless_zero(p), 0);
	ck_assert_int_eq(pgc_page_refcount(p), 3);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_page_refcount(p), 1);

	ck_assert_int_eq(pgc_page_get(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_get_unless_zero(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_refcount(NULL), -EINVAL);
	pgc_page_put(NULL); /* nothing happens */

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(refcount_freeze)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	ck_assert_int_eq(pgc_page_get(p), 0); /* count 2 */

	ck_assert_int_eq(pgc_page_ref_freeze(p, 1), -EBUSY);
	ck_assert_int_eq(pgc_page_ref_freeze(p, 3), -EBUSY);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	ck_assert_int_eq(pgc_page_ref_freeze(p, 0), -EINVAL);
	ck_assert_int_eq(pgc_page_ref_freeze(p, -1), -EINVAL);
	ck_assert_int_eq(pgc_page_ref_freeze(NULL, 1), -EINVAL);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	/* Unfreezing a page that is not frozen is refused. */
	ck_assert_int_eq(pgc_page_ref_unfreeze(p, 2), -EINVAL);
	ck_assert_int_eq(pgc_page_refcount(p), 2);

	ck_assert_int_eq(pgc_page_ref_freeze(p, 2), 0);
	ck_assert_int_eq(pgc_page_refcount(p), 0);
	/* Frozen: no new reference appears. */
	ck_assert_int_eq(pgc_page_get_unless_zero(p), -EAGAIN);
	ck_assert_int_eq(pgc_page_get(p), -EINVAL);
	ck_assert_int_eq(pgc_page_refcount(p), 0);
	ck_assert_int_eq(pgc_page_ref_freeze(p, 2), -EBUSY);

	ck_assert_int_eq(pgc_page_ref_unfreeze(p, 0), -EINVAL);
	ck_assert_int_eq(pgc_page_ref_unfreeze(NULL, 1), -EINVAL);
	ck_assert_int_eq(pgc_page_refcount(p), 0);
	ck_assert_int_eq(pgc_page_ref_unfreeze(p, 3), 0);
	ck_assert_int_eq(pgc_page_refcount(p), 3);
	ck_assert_int_eq(pgc_page_ref_unfreeze(p, 1), -EINVAL);
	ck_assert_int_eq(pgc_page_refcount(p), 3);
	ck_assert_int_eq(pgc_page_get_unless_zero(p), 0);
	ck_assert_int_eq(pgc_page_refcount(p), 4);

	for (int i = 0; i < 4; i++)
		pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(lock_trylock_unlock)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_uint_ne(pgc_page_flags(p) & PGC_PAGE_BIT(PGC_PG_LOCKED), 0);
	ck_assert_int_eq(pgc_page_trylock(p), -EBUSY);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);
	ck_assert_int_eq(pgc_page_unlock(p), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);

	ck_assert_int_eq(pgc_page_trylock(p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_int_eq(pgc_page_trylock(p), -EBUSY);
	ck_assert_int_eq(pgc_page_unlock(p), 0);

	/* Not locked: wait_unlocked returns at once. */
	ck_assert_int_eq(pgc_page_wait_unlocked(p), 0);

	ck_assert_int_eq(pgc_page_lock(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_trylock(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_unlock(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_wait_unlocked(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_wait_writeback(NULL), -EINVAL);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

struct lock_waiter {
	pgc_page *page;
	atomic_int started;
	atomic_int acquired;   /* the waiter holds the lock */
	atomic_int released;   /* the main thread has released it */
	int released_seen;     /* value of released when the waiter got the lock */
	int ret;
	int mode;              /* 0: pgc_page_lock, 1: pgc_page_wait_unlocked */
};

static void *lock_waiter_fn(void *arg)
{
	struct lock_waiter *w = arg;
	atomic_store(&w->started, 1);
	if (w->mode == 0)
		w->ret = pgc_page_lock(w->page);
	else
		w->ret = pgc_page_wait_unlocked(w->page);
	w->released_seen = atomic_load(&w->released);
	atomic_store(&w->acquired, 1);
	return NULL;
}

static void lock_wakeup_case(int mode)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);
	struct lock_waiter w = { .page = p, .mode = mode };
	pthread_t t;

	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, lock_waiter_fn, &w), 0);
	while (!atomic_load(&w.started))
		pgc_test_sleep_ms(1);
	pgc_test_sleep_ms(100); /* let the waiter block */
	/* Mutual exclusion: the waiter cannot have returned while we hold the lock. */
	ck_assert_int_eq(atomic_load(&w.acquired), 0);
	atomic_store(&w.released, 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);

	ck_assert_int_eq(w.ret, 0);
	ck_assert_int_eq(atomic_load(&w.acquired), 1);
	ck_assert_int_eq(w.released_seen, 1);
	if (mode == 0) {
		/* The waiter now holds the lock. */
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
		ck_assert_int_eq(pgc_page_trylock(p), -EBUSY);
		ck_assert_int_eq(pgc_page_unlock(p), 0);
	} else {
		/* wait_unlocked does not take the lock. */
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);
	}
	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}

START_TEST(lock_waiter_wakes_on_unlock)
{
	lock_wakeup_case(0);
}
END_TEST

START_TEST(wait_unlocked_wakes_on_unlock)
{
	lock_wakeup_case(1);
}
END_TEST

struct wb_waiter {
	pgc_page *page;
	atomic_int started;
	atomic_int done;
	atomic_int ended;
	int ended_seen;
	int ret;
};

static void *wb_waiter_fn(void *arg)
{
	struct wb_waiter *w = arg;
	atomic_store(&w->started, 1);
	w->ret = pgc_page_wait_writeback(w->page);
	w->ended_seen = atomic_load(&w->ended);
	atomic_store(&w->done, 1);
	return NULL;
}

START_TEST(writeback_wait_and_end)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);
	struct wb_waiter w = { .page = p };
	pthread_t t;

	/* Not under writeback: returns at once; ending it is refused. */
	ck_assert_int_eq(pgc_page_wait_writeback(p), 0);
	ck_assert_int_eq(pgc_page_end_writeback(p), -EINVAL);
	/* start_writeback needs the page lock. */
	ck_assert_int_eq(pgc_page_start_writeback(p), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 0);
	ck_assert_int_eq(pgc_page_start_writeback(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_end_writeback(NULL), -EINVAL);

	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_start_writeback(p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 1);
	ck_assert_int_eq(pgc_page_start_writeback(p), -EBUSY);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 1);

	ck_assert_int_eq(pthread_create(&t, NULL, wb_waiter_fn, &w), 0);
	while (!atomic_load(&w.started))
		pgc_test_sleep_ms(1);
	pgc_test_sleep_ms(100); /* let the waiter block */
	ck_assert_int_eq(atomic_load(&w.done), 0);
	atomic_store(&w.ended, 1);
	ck_assert_int_eq(pgc_page_end_writeback(p), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.ret, 0);
	ck_assert_int_eq(w.ended_seen, 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 0);
	ck_assert_int_eq(pgc_page_end_writeback(p), -EINVAL);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(flags_simple)
{
	static const enum pgc_page_flag simple[] = {
		PGC_PG_UPTODATE, PGC_PG_ERROR, PGC_PG_CHECKED, PGC_PG_MAPPEDTODISK,
		PGC_PG_REFERENCED,
	};
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	ck_assert_int_eq(pgc_page_lock(p), 0); /* UPTODATE is set under the lock */
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		enum pgc_page_flag f = simple[i];
		ck_assert_int_eq(pgc_page_test_flag(p, f), 0);
		ck_assert_int_eq(pgc_page_set_flag(p, f), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, f), 1);
		ck_assert_uint_ne(pgc_page_flags(p) & PGC_PAGE_BIT(f), 0);
		/* Setting twice is harmless. */
		ck_assert_int_eq(pgc_page_set_flag(p, f), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, f), 1);
		ck_assert_int_eq(pgc_page_clear_flag(p, f), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, f), 0);
		ck_assert_uint_eq(pgc_page_flags(p) & PGC_PAGE_BIT(f), 0);
	}
	/* Flags are independent. */
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_CHECKED), 0);
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_ERROR), 0);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_CHECKED), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ERROR), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_uint_eq(pgc_page_flags(p),
			  PGC_PAGE_BIT(PGC_PG_ERROR) | PGC_PAGE_BIT(PGC_PG_LOCKED));
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_ERROR), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);

	/* Simple flags may be cleared without the lock. */
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_REFERENCED), 0);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
	ck_assert_uint_eq(pgc_page_flags(p), 0);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(flags_not_simple)
{
	static const enum pgc_page_flag complex[] = {
		PGC_PG_LOCKED, PGC_PG_DIRTY, PGC_PG_WRITEBACK, PGC_PG_ACTIVE,
		PGC_PG_PRIVATE, PGC_PG_UNEVICTABLE, PGC_PG_LRU,
	};
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	for (size_t i = 0; i < sizeof complex / sizeof complex[0]; i++) {
		enum pgc_page_flag f = complex[i];
		ck_assert_msg(pgc_page_set_flag(p, f) == -EINVAL, "set_flag(%d) accepted", f);
		ck_assert_msg(pgc_page_test_flag(p, f) == 0, "set_flag(%d) changed the flag", f);
		ck_assert_msg(pgc_page_clear_flag(p, f) == -EINVAL, "clear_flag(%d) accepted", f);
	}
	ck_assert_uint_eq(pgc_page_flags(p), 0);

	/* Clearing LOCKED through clear_flag must not unlock. */
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_LOCKED), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);

	/* Unknown flags. */
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_NR_FLAGS), -EINVAL);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_NR_FLAGS), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_NR_FLAGS), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, (enum pgc_page_flag)31), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, (enum pgc_page_flag)-1), -EINVAL);
	ck_assert_int_eq(pgc_page_set_flag(p, (enum pgc_page_flag)-1), -EINVAL);

	/* NULL page. */
	ck_assert_int_eq(pgc_page_set_flag(NULL, PGC_PG_UPTODATE), -EINVAL);
	ck_assert_int_eq(pgc_page_clear_flag(NULL, PGC_PG_UPTODATE), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(NULL, PGC_PG_UPTODATE), -EINVAL);
	ck_assert_uint_eq(pgc_page_flags(NULL), 0);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(mark_accessed_sets_referenced)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_REFERENCED), 0);
	pgc_page_mark_accessed(p);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_REFERENCED), 1);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(unevictable_flag)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	ck_assert_int_eq(pgc_page_set_unevictable(p, 1), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UNEVICTABLE), 1);
	ck_assert_int_eq(pgc_page_set_unevictable(p, 0), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UNEVICTABLE), 0);
	ck_assert_int_eq(pgc_page_set_unevictable(NULL, 1), -EINVAL);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(private_value)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);
	uintptr_t v = 77;

	/* The lock is required. */
	ck_assert_int_eq(pgc_page_set_private(p, 0x1234), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 0);
	ck_assert_int_eq(pgc_page_clear_private(p, &v), -EINVAL);
	ck_assert_int_eq(pgc_page_set_private(NULL, 1), -EINVAL);
	ck_assert_int_eq(pgc_page_clear_private(NULL, &v), -EINVAL);

	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_clear_private(p, &v), -ENOENT);
	ck_assert_int_eq(pgc_page_set_private(p, 0x1234), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 1);
	ck_assert_uint_eq(pgc_page_private(p), 0x1234);
	ck_assert_int_eq(pgc_page_set_private(p, 0x5678), -EEXIST);
	ck_assert_uint_eq(pgc_page_private(p), 0x1234);

	/* Unlocked: clear refused, value kept. */
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pgc_page_clear_private(p, &v), -EINVAL);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 1);
	ck_assert_int_eq(pgc_page_lock(p), 0);

	ck_assert_int_eq(pgc_page_clear_private(p, &v), 0);
	ck_assert_uint_eq(v, 0x1234);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 0);
	ck_assert_uint_eq(pgc_page_private(p), 0);
	ck_assert_int_eq(pgc_page_clear_private(p, &v), -ENOENT);

	/* 0 is a value like any other. */
	ck_assert_int_eq(pgc_page_set_private(p, 0), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 1);
	ck_assert_int_eq(pgc_page_set_private(p, 1), -EEXIST);
	ck_assert_int_eq(pgc_page_clear_private(p, NULL), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 0);

	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(dirty_for_io_needs_lock)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_page *p = alloc_page(cache);

	ck_assert_int_eq(pgc_page_clear_dirty_for_io(p), -EINVAL);
	ck_assert_int_eq(pgc_page_clear_dirty_for_io(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_set_dirty(NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_clear_dirty_for_io(p), 0); /* was clean */
	ck_assert_int_eq(pgc_page_unlock(p), 0);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(accessors_null)
{
	ck_assert_ptr_null(pgc_page_data(NULL));
	ck_assert_uint_eq(pgc_page_index(NULL), 0);
	ck_assert_ptr_null(pgc_page_mapping(NULL));
	ck_assert_int_eq(pgc_page_node(NULL), -EINVAL);
	ck_assert_ptr_null(pgc_page_cache(NULL));
	ck_assert_uint_eq(pgc_page_private(NULL), 0);
}
END_TEST

static void data_case(uint32_t page_size)
{
	enum { N = 8 };
	pgc_cache *cache = pgc_test_cache(N, page_size);
	pgc_page *pages[N];
	size_t ps = pgc_cache_page_size(cache);

	ck_assert_uint_eq(ps, page_size ? page_size : pgc_test_os_page());
	for (int i = 0; i < N; i++) {
		pages[i] = alloc_page(cache);
		unsigned char *d = pgc_page_data(pages[i]);
		ck_assert_ptr_nonnull(d);
		ck_assert_msg(((uintptr_t)d % ps) == 0, "data %p not aligned to %zu", (void *)d, ps);
		ck_assert_msg(((uintptr_t)d % pgc_test_os_page()) == 0, "data not page aligned");
		memset(d, 0x40 + i, ps);
	}
	/* Each page kept its own bytes: no two pages overlap. */
	for (int i = 0; i < N; i++) {
		unsigned char *d = pgc_page_data(pages[i]);
		for (size_t off = 0; off < ps; off++)
			if (d[off] != 0x40 + i)
				ck_abort_msg("page %d byte %zu is %#x, expected %#x", i, off, d[off],
					     0x40 + i);
	}
	for (int i = 0; i < N; i++)
		pgc_page_put(pages[i]);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}

START_TEST(data_aligned_writable_4k)
{
	data_case(0);
}
END_TEST

START_TEST(data_aligned_writable_16k)
{
	data_case(16384);
}
END_TEST

START_TEST(data_aligned_writable_64k)
{
	data_case(65536);
}
END_TEST

START_TEST(data_aligned_writable_max)
{
	data_case(PGC_MAX_PAGE_SIZE);
}
END_TEST

/*
 * Memory per page beyond its data: the RSS of the process before the cache
 * is created and after every page of its capacity is allocated and filled,
 * less the data. With every frame in use, frames that the library maps or
 * pre-faults a chunk at a time are all counted as data; fixed costs (the
 * cache object, its tables) are amortised over OVERHEAD_PAGES pages, and the
 * one-time costs of the process are paid by a small cache before measuring.
 * Transparent huge pages are disabled for this process so that the kernel
 * does not round residency up.
 */
#define OVERHEAD_PAGES 65536u
#define OVERHEAD_LIMIT 64.0
#define OVERHEAD_TOLERANCE 2.0 /* bytes per page: fixed costs, per-chunk headers, RSS noise */

START_TEST(descriptor_overhead)
{
	if (pgc_test_sanitized()) {
		/* Shadow memory of a sanitizer would be counted: nothing to measure. */
		printf("descriptor_overhead: sanitizer runtime present, not measured\n");
		return;
	}
	(void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);

	size_t ps = pgc_test_os_page();
	pgc_page **pages = calloc(OVERHEAD_PAGES, sizeof *pages);
	ck_assert_ptr_nonnull(pages);
	memset(pages, 0xff, OVERHEAD_PAGES * sizeof *pages); /* fault it in now */
	(void)pgc_test_rss();
	/* One-time costs of the process (libnuma's and liburcu's initialisation,
	 * malloc's arena) are paid by a first small cache, not counted. */
	pgc_cache *warm = pgc_test_cache(16, 0);
	for (int i = 0; i < 16; i++)
		pages[i] = alloc_page(warm);
	for (int i = 0; i < 16; i++)
		pgc_page_put(pages[i]);
	ck_assert_int_eq(pgc_cache_destroy(warm), 0);

	uint64_t rss0 = pgc_test_rss();
	pgc_cache *cache = pgc_test_cache(OVERHEAD_PAGES, 0);
	for (unsigned i = 0; i < OVERHEAD_PAGES; i++) {
		int ret = pgc_page_alloc(cache, PGC_NODE_ANY, 0, &pages[i]);
		if (ret != 0)
			ck_abort_msg("allocation %u of %u failed: %d (%s)", i, OVERHEAD_PAGES, ret,
				     pgc_strerror(ret));
		memset(pgc_page_data(pages[i]), (int)(i & 0xff) | 1, ps);
	}
	uint64_t rss1 = pgc_test_rss();
	ck_assert_uint_gt(rss0, 0);

	double n = OVERHEAD_PAGES;
	double per_page = ((double)rss1 - (double)rss0) / n - (double)ps;
	printf("descriptor_overhead: RSS %.1f MiB -> %.1f MiB for %.0f pages of %zu bytes: "
	       "%.2f bytes per page beyond the data (limit %.0f)\n",
	       rss0 / 1048576.0, rss1 / 1048576.0, n, ps, per_page, OVERHEAD_LIMIT);
	fflush(stdout);

	/* The pages really were resident (the measurement measured something). */
	ck_assert_msg((double)(rss1 - rss0) >= n * (double)ps,
		      "RSS grew by %" PRIu64 " bytes for %.0f pages of data", rss1 - rss0, n);
	ck_assert_msg(per_page <= OVERHEAD_LIMIT + OVERHEAD_TOLERANCE,
		      "%.2f bytes of memory per page beyond its data (limit %.0f)", per_page,
		      OVERHEAD_LIMIT);

	struct pgc_stats st;
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.resident, OVERHEAD_PAGES);
	/* Every frame is in use: the data was written where the pages say. */
	for (unsigned i = 0; i < OVERHEAD_PAGES; i += 997)
		ck_assert_int_eq(((unsigned char *)pgc_page_data(pages[i]))[ps - 1], (int)(i & 0xff) | 1);

	for (unsigned i = 0; i < OVERHEAD_PAGES; i++)
		pgc_page_put(pages[i]);
	free(pages);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

static Suite *page_suite(void)
{
	Suite *s = suite_create("page");
	PGC_ADD(s, alloc_any_node, 30);
	PGC_ADD(s, alloc_strict_node, 30);
	PGC_ADD(s, alloc_unknown_node, 30);
	PGC_ADD(s, alloc_bad_args, 30);
	PGC_ADD(s, alloc_capacity_enomem, 30);
	PGC_ADD(s, alloc_node_limit_strict, 30);
	PGC_ADD(s, refcount_get_put, 30);
	PGC_ADD(s, refcount_freeze, 30);
	PGC_ADD(s, lock_trylock_unlock, 30);
	PGC_ADD(s, lock_waiter_wakes_on_unlock, 30);
	PGC_ADD(s, wait_unlocked_wakes_on_unlock, 30);
	PGC_ADD(s, writeback_wait_and_end, 30);
	PGC_ADD(s, flags_simple, 30);
	PGC_ADD(s, flags_not_simple, 30);
	PGC_ADD(s, mark_accessed_sets_referenced, 30);
	PGC_ADD(s, unevictable_flag, 30);
	PGC_ADD(s, private_value, 30);
	PGC_ADD(s, dirty_for_io_needs_lock, 30);
	PGC_ADD(s, accessors_null, 30);
	PGC_ADD(s, data_aligned_writable_4k, 30);
	PGC_ADD(s, data_aligned_writable_16k, 30);
	PGC_ADD(s, data_aligned_writable_64k, 30);
	PGC_ADD(s, data_aligned_writable_max, 30);
	PGC_ADD(s, descriptor_overhead, 60);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, page_suite());
}
