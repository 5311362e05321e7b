/*
 * Suite "reclaim": keeping a cache within its capacity (cache.h
 * pgc_cache_reclaim and the allocation path) — eviction of clean pages,
 * pinned, dirty, private and unevictable pages, the second chance of
 * referenced pages, and the count pgc_cache_reclaim returns.
 *
 * Every test uses a cache of CAP pages so that a few dozen pages are enough
 * to force reclaim many times.
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#define CAP 8
#define BACKING_PAGES 128

struct owner {
	pthread_mutex_t lock;
	size_t ps;
	unsigned char *backing;
	int writepage_calls, writepage_for_reclaim, writepage_unlocked;
	int readpage_calls;
	int releasepage_calls, releasepage_unlocked, release_allow;
};

static void owner_init(struct owner *o, size_t ps)
{
	memset(o, 0, sizeof *o);
	pthread_mutex_init(&o->lock, NULL);
	o->ps = ps;
	o->backing = calloc(BACKING_PAGES, ps);
	ck_assert_ptr_nonnull(o->backing);
}

static void owner_fini(struct owner *o)
{
	free(o->backing);
	pthread_mutex_destroy(&o->lock);
}

static unsigned char stamp(uint64_t idx)
{
	return (unsigned char)(idx * 13 + 7);
}

static int o_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	struct owner *o = pgc_mapping_owner(m);
	uint64_t idx = pgc_page_index(p);
	pthread_mutex_lock(&o->lock);
	o->writepage_calls++;
	if (wbc && wbc->for_reclaim)
		o->writepage_for_reclaim++;
	if (pgc_page_test_flag(p, PGC_PG_LOCKED) != 1)
		o->writepage_unlocked++;
	pthread_mutex_unlock(&o->lock);
	if (idx < BACKING_PAGES)
		memcpy(o->backing + idx * o->ps, pgc_page_data(p), o->ps);
	return 0;
}

static int o_readpage(pgc_mapping *m, pgc_page *p)
{
	struct owner *o = pgc_mapping_owner(m);
	uint64_t idx = pgc_page_index(p);
	pthread_mutex_lock(&o->lock);
	o->readpage_calls++;
	pthread_mutex_unlock(&o->lock);
	if (idx >= BACKING_PAGES)
		return -EIO;
	memcpy(pgc_page_data(p), o->backing + idx * o->ps, o->ps);
	return 0;
}

static int o_releasepage(pgc_mapping *m, pgc_page *p)
{
	struct owner *o = pgc_mapping_owner(m);
	pthread_mutex_lock(&o->lock);
	o->releasepage_calls++;
	if (pgc_page_test_flag(p, PGC_PG_LOCKED) != 1)
		o->releasepage_unlocked++;
	int allow = o->release_allow;
	pthread_mutex_unlock(&o->lock);
	if (!allow)
		return 0;
	return pgc_page_clear_private(p, NULL) == 0;
}

static pgc_mapping *new_mapping(pgc_cache *cache, const struct pgc_mapping_ops *ops, void *owner)
{
	pgc_mapping *m = NULL;
	int ret = pgc_mapping_create(cache, ops, owner, 0, &m);
	ck_assert_msg(ret == 0, "pgc_mapping_create = %d", ret);
	return m;
}

/*
 * Creates page idx filled with stamp(idx), up to date, REFERENCED cleared
 * (so that reclaim sees a cold page), optionally dirty; holds nothing after.
 */
static void create(pgc_mapping *m, uint64_t idx, int dirty)
{
	pgc_page *p = NULL;
	int ret = pgc_mapping_find_or_create(m, idx, 0, &p);
	ck_assert_msg(ret == 0, "find_or_create(%" PRIu64 ") = %d (%s)", idx, ret, pgc_strerror(ret));
	memset(pgc_page_data(p), stamp(idx), pgc_cache_page_size(pgc_mapping_cache(m)));
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
	if (dirty)
		ck_assert_int_eq(pgc_page_set_dirty(p), 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
}

/* Whether idx is present; a present page is checked for identity and data. */
static int present(pgc_mapping *m, uint64_t idx)
{
	pgc_page *p = NULL;
	int ret = pgc_mapping_find(m, idx, &p);
	if (ret == -ENOENT)
		return 0;
	ck_assert_int_eq(ret, 0);
	ck_assert_uint_eq(pgc_page_index(p), idx);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	const unsigned char *d = pgc_page_data(p);
	ck_assert_msg(d[0] == stamp(idx), "page %" PRIu64 " holds %#x, expected %#x", idx, d[0],
		      stamp(idx));
	pgc_page_put(p);
	return 1;
}

static pgc_page *hold(pgc_mapping *m, uint64_t idx)
{
	pgc_page *p = NULL;
	ck_assert_msg(pgc_mapping_find(m, idx, &p) == 0, "page %" PRIu64 " missing", idx);
	return p;
}

static void check_within_capacity(pgc_cache *cache, const char *when, uint64_t step)
{
	struct pgc_stats st;
	pgc_test_stats(cache, &st);
	ck_assert_msg(st.resident <= st.capacity,
		      "%s %" PRIu64 ": %" PRIu64 " pages resident, capacity %" PRIu64, when, step,
		      st.resident, st.capacity);
	uint64_t sum = 0;
	for (int i = 0; i < PGC_STATS_NODES; i++)
		sum += st.node_resident[i];
	ck_assert_msg(sum <= st.capacity, "%s %" PRIu64 ": node_resident adds up to %" PRIu64,
		      when, step, sum);
}

START_TEST(evicts_clean_pages_within_capacity)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *a = new_mapping(cache, NULL, NULL);
	pgc_mapping *b = new_mapping(cache, NULL, NULL);
	struct pgc_stats st;
	const uint64_t N = 40;

	for (uint64_t i = 0; i < N; i++) {
		create(a, i, 0);
		check_within_capacity(cache, "after creating page a", i);
		create(b, i, 0);
		check_within_capacity(cache, "after creating page b", i);
		ck_assert_uint_le(pgc_mapping_nr_pages(a) + pgc_mapping_nr_pages(b), CAP);
	}
	pgc_test_stats(cache, &st);
	uint64_t left = pgc_mapping_nr_pages(a) + pgc_mapping_nr_pages(b);
	ck_assert_uint_ge(st.evictions, 2 * N - CAP);
	ck_assert_uint_eq(st.evictions, st.inserts - left); /* nothing else removed pages */
	ck_assert_uint_eq(st.deletes, 0);
	ck_assert_uint_ge(st.reclaim_scans, st.evictions);
	ck_assert_uint_eq(st.alloc_failures, 0);

	/* What is left is intact and counted right. */
	uint64_t found = 0;
	for (uint64_t i = 0; i < N; i++)
		found += (uint64_t)present(a, i) + (uint64_t)present(b, i);
	ck_assert_uint_eq(found, left);

	ck_assert_int_eq(pgc_mapping_destroy(a), 0);
	ck_assert_int_eq(pgc_mapping_destroy(b), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(pinned_pages_never_evicted)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	pgc_page *pinned[4];
	struct pgc_stats st;

	for (uint64_t i = 0; i < 4; i++) {
		create(m, i, 0);
		pinned[i] = hold(m, i);
		ck_assert_int_eq(pgc_page_clear_flag(pinned[i], PGC_PG_REFERENCED), 0);
	}
	for (uint64_t i = 4; i < 60; i++) {
		create(m, i, 0);
		check_within_capacity(cache, "after creating page", i);
		for (int k = 0; k < 4; k++)
			ck_assert_msg(pgc_page_mapping(pinned[k]) == m,
				      "pinned page %d evicted while creating page %" PRIu64, k, i);
	}
	pgc_test_stats(cache, &st);
	ck_assert_uint_ge(st.evictions, 60 - CAP);
	for (uint64_t i = 0; i < 4; i++) {
		ck_assert_int_eq(present(m, i), 1);
		ck_assert_uint_eq(pgc_page_index(pinned[i]), i);
		pgc_page_put(pinned[i]);
	}

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(all_pinned_enomem)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	pgc_page *pinned[CAP], *p;
	struct pgc_stats st0, st;

	for (uint64_t i = 0; i < CAP; i++) {
		create(m, i, 0);
		pinned[i] = hold(m, i);
	}
	pgc_test_stats(cache, &st0);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 100, 0, &p), -ENOMEM);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), -ENOMEM);
	ck_assert_int_eq(pgc_mapping_read_page(m, 101, &p), -ENOMEM);
	ck_assert_int_eq(pgc_cache_reclaim(cache, CAP), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_ge(st.alloc_failures, st0.alloc_failures + 3);
	ck_assert_uint_eq(st.evictions, st0.evictions);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), CAP);
	ck_assert_int_eq(present(m, 100), 0);

	/* One pin less: there is room again. */
	pgc_page_put(pinned[3]);
	create(m, 100, 0);
	ck_assert_int_eq(present(m, 3), 0);
	ck_assert_int_eq(present(m, 100), 1);
	for (int i = 0; i < CAP; i++)
		if (i != 3)
			pgc_page_put(pinned[i]);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(dirty_pages_written_back_then_evicted)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct owner o;
	owner_init(&o, ps);
	struct pgc_mapping_ops ops = { .size = sizeof ops, .writepage = o_writepage,
				       .readpage = o_readpage };
	pgc_mapping *m = new_mapping(cache, &ops, &o);
	struct pgc_stats st;
	const uint64_t N = 24;

	/* Every page dirty: a frame can only come from writing one back. */
	for (uint64_t i = 0; i < N; i++) {
		create(m, i, 1);
		check_within_capacity(cache, "after creating dirty page", i);
	}
	pgc_test_stats(cache, &st);
	uint64_t evicted = 0;
	for (uint64_t i = 0; i < N; i++) {
		if (present(m, i))
			continue;
		evicted++;
		ck_assert_msg(o.backing[i * ps] == stamp(i) &&
				      o.backing[i * ps + ps - 1] == stamp(i),
			      "evicted dirty page %" PRIu64 " did not reach the backing store", i);
	}
	ck_assert_uint_ge(evicted, N - CAP);
	ck_assert_uint_eq(st.evictions, evicted);
	ck_assert_int_ge(o.writepage_calls, (int)evicted);
	ck_assert_uint_ge(st.reclaim_writes, evicted);
	ck_assert_int_eq(o.writepage_unlocked, 0);
	ck_assert_uint_le(pgc_mapping_nr_dirty(m), CAP);

	/* The round trip: evicted pages read back through readpage. */
	for (uint64_t i = 0; i < N; i++) {
		pgc_page *p = NULL;
		int ret = pgc_mapping_read_page(m, i, &p);
		ck_assert_msg(ret == 0, "read_page(%" PRIu64 ") = %d (%s)", i, ret, pgc_strerror(ret));
		const unsigned char *d = pgc_page_data(p);
		ck_assert_msg(d[0] == stamp(i) && d[ps - 1] == stamp(i),
			      "page %" PRIu64 " read back %#x", i, d[0]);
		pgc_page_put(p);
		check_within_capacity(cache, "after reading page", i);
	}

	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	owner_fini(&o);
}
END_TEST

START_TEST(nowait_does_not_write_back)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	struct owner o;
	owner_init(&o, pgc_cache_page_size(cache));
	struct pgc_mapping_ops ops = { .size = sizeof ops, .writepage = o_writepage };
	pgc_mapping *m = new_mapping(cache, &ops, &o);
	pgc_page *p;

	for (uint64_t i = 0; i < CAP; i++)
		create(m, i, 1);
	ck_assert_int_eq(o.writepage_calls, 0);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, PGC_ALLOC_NOWAIT, &p), -ENOMEM);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(o.writepage_calls, 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), CAP);

	/* Without NOWAIT, reclaim writes a page back and frees it. */
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), 0);
	ck_assert_int_ge(o.writepage_calls, 1);
	ck_assert_uint_lt(pgc_mapping_nr_pages(m), CAP);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	owner_fini(&o);
}
END_TEST

START_TEST(no_writepage_dirty_enomem)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	pgc_page *p;
	struct pgc_stats st0, st;

	/* Six dirty pages and two clean ones. */
	for (uint64_t i = 0; i < CAP; i++)
		create(m, i, i < 6);
	/* The clean ones make room for two more (kept dirty). */
	create(m, 8, 1);
	create(m, 9, 1);
	ck_assert_int_eq(present(m, 6), 0);
	ck_assert_int_eq(present(m, 7), 0);

	pgc_test_stats(cache, &st0);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 10, 0, &p), -ENOMEM);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 10, PGC_FIND_NOWAIT, &p), -ENOMEM);
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), -ENOMEM);
	ck_assert_int_eq(pgc_cache_reclaim(cache, 4), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_ge(st.alloc_failures, st0.alloc_failures + 3);
	ck_assert_uint_eq(st.evictions, st0.evictions);
	/* No dirty data was dropped. */
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), CAP);
	for (uint64_t i = 0; i < 10; i++)
		ck_assert_int_eq(present(m, i), i != 6 && i != 7);

	/* Truncate drops them, and allocation works again. */
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	create(m, 10, 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

static void set_private(pgc_mapping *m, uint64_t idx, uintptr_t v)
{
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find_lock(m, idx, &p), 0);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
	ck_assert_int_eq(pgc_page_set_private(p, v), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
}

START_TEST(releasepage_refusal_keeps_page)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	struct owner o;
	owner_init(&o, pgc_cache_page_size(cache));
	struct pgc_mapping_ops ops = { .size = sizeof ops, .releasepage = o_releasepage };
	pgc_mapping *m = new_mapping(cache, &ops, &o);
	pgc_page *p;

	for (uint64_t i = 0; i < CAP; i++)
		create(m, i, 0);
	for (uint64_t i = 0; i < 4; i++)
		set_private(m, i, 1000 + i);
	o.release_allow = 0;
	for (uint64_t i = CAP; i < 40; i++) {
		create(m, i, 0);
		check_within_capacity(cache, "after creating page", i);
	}
	ck_assert_int_ge(o.releasepage_calls, 1);
	ck_assert_int_eq(o.releasepage_unlocked, 0);
	for (uint64_t i = 0; i < 4; i++) {
		ck_assert_msg(present(m, i), "page %" PRIu64 " released against releasepage", i);
		ck_assert_int_eq(pgc_mapping_find_lock(m, i, &p), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 1);
		ck_assert_uint_eq(pgc_page_private(p), 1000 + i);
		ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
		ck_assert_int_eq(pgc_page_unlock(p), 0);
		pgc_page_put(p);
	}
	for (uint64_t i = 4; i < 20; i++)
		ck_assert_int_eq(present(m, i), 0);

	/* Once releasepage agrees, a full reclaim frees them too. */
	o.release_allow = 1;
	int before = o.releasepage_calls;
	long r = pgc_cache_reclaim(cache, CAP);
	ck_assert_int_ge(r, 4);
	ck_assert_int_gt(o.releasepage_calls, before);
	for (uint64_t i = 0; i < 4; i++)
		ck_assert_msg(!present(m, i), "page %" PRIu64 " kept although releasepage agreed", i);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	owner_fini(&o);
}
END_TEST

START_TEST(referenced_page_gets_second_chance)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	pgc_page *p;
	struct pgc_stats st;

	/* Page 0 is the oldest, at the tail of the inactive list. */
	for (uint64_t i = 0; i < CAP; i++)
		create(m, i, 0);
	ck_assert_int_eq(pgc_mapping_find(m, 0, &p), 0); /* notes the use */
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_REFERENCED), 1);
	pgc_page_put(p);

	/* The next frame comes from a cold page, not from page 0. */
	create(m, CAP, 0);
	ck_assert_int_eq(pgc_mapping_find(m, 0, &p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ACTIVE), 1);
	pgc_page_put(p);
	pgc_test_stats(cache, &st);
	ck_assert_uint_ge(st.active, 1);
	ck_assert_uint_ge(st.evictions, 1);

	/* Keep using page 0 while cold pages come and go. */
	for (uint64_t i = CAP + 1; i < 6 * CAP; i++) {
		create(m, i, 0);
		ck_assert_msg(present(m, 0), "hot page 0 evicted while creating page %" PRIu64, i);
	}
	for (uint64_t i = 1; i < CAP; i++)
		ck_assert_msg(!present(m, i), "cold page %" PRIu64 " outlived the traffic", i);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(mark_accessed_gives_second_chance)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	pgc_page *p;

	for (uint64_t i = 0; i < CAP; i++)
		create(m, i, 0);
	ck_assert_int_eq(pgc_mapping_find(m, 0, &p), 0);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
	pgc_page_mark_accessed(p);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_REFERENCED), 1);
	pgc_page_mark_accessed(p);
	pgc_page_put(p);

	long r = pgc_cache_reclaim(cache, 1);
	ck_assert_int_ge(r, 1);
	/* Page 0 was looked at first, and kept; a cold page went instead. */
	ck_assert_int_eq(pgc_mapping_find(m, 0, &p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ACTIVE), 1);
	pgc_page_put(p);
	ck_assert_int_eq(present(m, 1), 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(unevictable_pages_never_evicted)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	int node = pgc_test_first_node(cache);
	pgc_page *p;
	struct pgc_stats st;

	for (uint64_t i = 0; i < 4; i++) {
		create(m, i, 0);
		p = hold(m, i);
		ck_assert_int_eq(pgc_page_set_unevictable(p, 1), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UNEVICTABLE), 1);
		ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
		pgc_page_put(p);
	}
	for (uint64_t i = 4; i < 60; i++) {
		create(m, i, 0);
		check_within_capacity(cache, "after creating page", i);
		pgc_test_stats(cache, &st);
		ck_assert_uint_eq(st.unevictable, 4);
	}
	struct pgc_node_stats ns = { .size = sizeof ns };
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), 0);
	ck_assert_uint_eq(ns.unevictable, 4);
	for (uint64_t i = 0; i < 4; i++)
		ck_assert_msg(present(m, i), "unevictable page %" PRIu64 " evicted", i);

	/* Unevictable plus pinned plus allocated fill the cache: then nothing can be had. */
	pgc_page *pinned[2 * CAP];
	int np = 0;
	for (uint64_t i = 4; i < 60; i++)
		if (pgc_mapping_find(m, i, &pinned[np]) == 0)
			np++;
	ck_assert_int_le(np, CAP - 4);
	int ret = 0;
	for (int k = 0; k < CAP + 1; k++) {
		ret = pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p);
		if (ret != 0)
			break;
		pinned[np++] = p;
	}
	ck_assert_int_eq(ret, -ENOMEM);
	ck_assert_int_eq(np, CAP - 4);
	for (int i = 0; i < np; i++)
		pgc_page_put(pinned[i]);
	for (uint64_t i = 0; i < 4; i++)
		ck_assert_msg(present(m, i), "unevictable page %" PRIu64 " evicted", i);

	/* Evictable again: they go with the traffic. */
	for (uint64_t i = 0; i < 4; i++) {
		p = hold(m, i);
		ck_assert_int_eq(pgc_page_set_unevictable(p, 0), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UNEVICTABLE), 0);
		ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
		pgc_page_put(p);
	}
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.unevictable, 0);
	ck_assert_int_ge(pgc_cache_reclaim(cache, CAP), 4);
	for (uint64_t i = 0; i < 4; i++)
		ck_assert_msg(!present(m, i), "page %" PRIu64 " still unevictable", i);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(reclaim_returns_count)
{
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	struct pgc_stats st0, st;

	for (uint64_t i = 0; i < CAP; i++)
		create(m, i, 0);
	pgc_test_stats(cache, &st0);
	ck_assert_uint_eq(st0.resident, CAP);

	/* Nothing to do for 0. */
	ck_assert_int_eq(pgc_cache_reclaim(cache, 0), 0);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), CAP);

	long r = pgc_cache_reclaim(cache, 3);
	ck_assert_int_ge(r, 3);
	ck_assert_int_le(r, CAP);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), CAP - (uint64_t)r);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.evictions, st0.evictions + (uint64_t)r);
	ck_assert_uint_eq(st.resident, CAP - (uint64_t)r);

	/* Pinned pages are not freed: 0. */
	uint64_t left = pgc_mapping_nr_pages(m);
	pgc_page *pinned[CAP];
	int np = 0;
	for (uint64_t i = 0; i < CAP; i++)
		if (pgc_mapping_find(m, i, &pinned[np]) == 0)
			np++;
	ck_assert_uint_eq((uint64_t)np, left);
	ck_assert_int_eq(pgc_cache_reclaim(cache, CAP), 0);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), left);
	for (int i = 0; i < np; i++)
		pgc_page_put(pinned[i]);

	ck_assert_int_eq(pgc_cache_reclaim(NULL, 1), -EINVAL);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(no_eviction_below_capacity)
{
	/* Churn: pages come and go, but never more than 5 are in use at once. */
	const uint64_t cap = 256;
	pgc_cache *cache = pgc_test_cache(cap, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	struct pgc_stats st;
	pgc_page *p;

	for (uint64_t i = 0; i < 4; i++)
		create(m, 100000 + i, 0);
	for (uint64_t i = 0; i < 20 * cap; i++) {
		create(m, i, 0);
		ck_assert_int_eq(pgc_mapping_find_lock(m, i, &p), 0);
		ck_assert_int_eq(pgc_mapping_delete(p), 0);
		ck_assert_int_eq(pgc_page_unlock(p), 0);
		pgc_page_put(p);
		pgc_test_stats(cache, &st);
		ck_assert_msg(st.evictions == 0,
			      "%" PRIu64 " pages evicted with %" PRIu64 " of %" PRIu64
			      " pages in use (step %" PRIu64 ")",
			      st.evictions, st.resident, st.capacity, i);
	}
	for (uint64_t i = 0; i < 4; i++)
		ck_assert_int_eq(present(m, 100000 + i), 1);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(nowait_alloc_reclaims_clean)
{
	/* A full cache of clean, unused pages: NOWAIT reclaims one of them
	 * without writing or waiting, so it succeeds (freed frames are reused
	 * at once: no -EAGAIN for frames waiting out a grace period). */
	pgc_cache *cache = pgc_test_cache(CAP, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	pgc_page *p = NULL;

	for (uint64_t i = 0; i < CAP; i++)
		create(m, i, 0);
	int ret = pgc_page_alloc(cache, PGC_NODE_ANY, PGC_ALLOC_NOWAIT, &p);
	ck_assert_msg(ret == 0, "pgc_page_alloc(NOWAIT) = %d (%s)", ret, pgc_strerror(ret));
	pgc_page_put(p);

	for (uint64_t i = 100; i < 100 + CAP; i++)
		create(m, i, 0);
	ret = pgc_mapping_find_or_create(m, 1000, PGC_FIND_NOWAIT, &p);
	ck_assert_msg(ret == 0, "find_or_create(NOWAIT) of an absent page = %d (%s)", ret,
		      pgc_strerror(ret));
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(truncate_churn_within_capacity)
{
	/* A working set of 3/4 of the capacity, created and truncated again and
	 * again: there is always room, so nothing may be evicted or refused. */
	const uint64_t cap = 1024, K = 768;
	pgc_cache *cache = pgc_test_cache(cap, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	struct pgc_stats st;

	for (int round = 0; round < 10; round++) {
		for (uint64_t i = 0; i < K; i++) {
			pgc_page *p = NULL;
			int ret = pgc_mapping_find_or_create(m, i, 0, &p);
			if (ret != 0) {
				pgc_test_stats(cache, &st);
				ck_abort_msg("round %d: find_or_create(%" PRIu64 ") = %d (%s) with %" PRIu64
					     " of %" PRIu64 " pages in use",
					     round, i, ret, pgc_strerror(ret), st.resident, st.capacity);
			}
			ck_assert_int_eq(pgc_page_unlock(p), 0);
			pgc_page_put(p);
		}
		pgc_test_stats(cache, &st);
		ck_assert_msg(st.evictions == 0 && pgc_mapping_nr_pages(m) == K,
			      "round %d: %" PRIu64 " evictions, %" PRIu64 " of %" PRIu64
			      " pages left, with at most %" PRIu64 " of %" PRIu64 " pages in use",
			      round, st.evictions, pgc_mapping_nr_pages(m), K, K, cap);
		ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	}
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(frames_come_back_in_the_order_freed)
{
	/* Pages created one after the other in eight times the cache: after
	 * the first pass each one takes a frame that reclaim freed, in the
	 * order it freed them (the LRU's: the order of creation). They come
	 * back in that order, so consecutive pages lie one after the other in
	 * memory, as a sequential scan's readahead window then does, and a
	 * store sends it as a few long iovecs. (A free stack handed them back
	 * reversed: every page of a window its own iovec.) */
	const uint64_t cap = 256, file = 8 * cap;
	pgc_cache *cache = pgc_test_cache(cap, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = new_mapping(cache, NULL, NULL);
	char *prev = NULL;
	unsigned breaks = 0;
	for (uint64_t i = 0; i < file; i++) {
		pgc_page *p = NULL;
		ck_assert_int_eq(pgc_mapping_find_or_create(m, i, 0, &p), 0);
		char *data = pgc_page_data(p);
		breaks += prev && data != prev + ps;
		prev = data;
		ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
		ck_assert_int_eq(pgc_page_unlock(p), 0);
		pgc_page_put(p);
	}
	struct pgc_stats st;
	pgc_test_stats(cache, &st);
	ck_assert_uint_ge(st.evictions, file - cap);
	/* A break where the queue wraps around the cache's frames, about one
	 * a pass, and where reclaim gave a page a second chance. */
	ck_assert_msg(breaks <= file / 32, "%u of %" PRIu64 " pages not after the previous one",
		      breaks, file);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

static Suite *reclaim_suite(void)
{
	Suite *s = suite_create("reclaim");
	PGC_ADD(s, evicts_clean_pages_within_capacity, 60);
	PGC_ADD(s, frames_come_back_in_the_order_freed, 60);
	PGC_ADD(s, pinned_pages_never_evicted, 60);
	PGC_ADD(s, all_pinned_enomem, 60);
	PGC_ADD(s, dirty_pages_written_back_then_evicted, 60);
	PGC_ADD(s, nowait_does_not_write_back, 60);
	PGC_ADD(s, no_writepage_dirty_enomem, 60);
	PGC_ADD(s, releasepage_refusal_keeps_page, 60);
	PGC_ADD(s, referenced_page_gets_second_chance, 60);
	PGC_ADD(s, mark_accessed_gives_second_chance, 60);
	PGC_ADD(s, unevictable_pages_never_evicted, 60);
	PGC_ADD(s, reclaim_returns_count, 60);
	PGC_ADD(s, no_eviction_below_capacity, 60);
	PGC_ADD(s, nowait_alloc_reclaims_clean, 60);
	PGC_ADD(s, truncate_churn_within_capacity, 60);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, reclaim_suite());
}
