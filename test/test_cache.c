/*
 * Suite "cache": configuration, creation and its errors, destruction,
 * statistics, node lists, error names and the version (cache.h, common.h,
 * version.h).
 */
#define _GNU_SOURCE
#include "pgc_test.h"

static int create_with(struct pgc_cache_config *cfg, pgc_cache **cachep)
{
	*cachep = (pgc_cache *)cachep; /* must be reset to NULL on error */
	return pgc_cache_create(cfg, cachep);
}

static void expect_create_error(struct pgc_cache_config *cfg, int expected, const char *what)
{
	pgc_cache *cache;
	int ret = create_with(cfg, &cache);
	if (ret == 0)
		pgc_cache_destroy(cache);
	ck_assert_msg(ret == expected, "%s: pgc_cache_create = %d (%s), expected %d (%s)", what,
		      ret, pgc_strerror(ret), expected, pgc_strerror(expected));
	ck_assert_msg(cache == NULL, "%s: cachep not set to NULL on error", what);
}

START_TEST(config_init_defaults)
{
	struct pgc_cache_config cfg;
	memset(&cfg, 0xa5, sizeof cfg);
	pgc_cache_config_init(&cfg);

	ck_assert_uint_eq(cfg.size, sizeof cfg);
	ck_assert_msg(cfg.page_size == 0 || cfg.page_size == pgc_test_os_page(),
		      "default page size %u", cfg.page_size);
	ck_assert_msg(cfg.capacity_pages == 1024 ||
			      (cfg.capacity_pages == 0 && cfg.capacity_bytes == 1024 * pgc_test_os_page()),
		      "default capacity: %" PRIu64 " pages, %" PRIu64 " bytes", cfg.capacity_pages,
		      cfg.capacity_bytes);
	ck_assert_ptr_null(cfg.nodes);
	ck_assert_uint_eq(cfg.nr_nodes, 0);
	ck_assert_ptr_null(cfg.node_pages);
	ck_assert_uint_eq(cfg.nr_node_pages, 0);
	ck_assert_ptr_null((void *)cfg.log);

	pgc_cache_config_init(NULL); /* nothing happens */

	/* The defaults create a cache of 1024 pages of the OS page size. */
	pgc_cache *cache;
	ck_assert_int_eq(create_with(&cfg, &cache), 0);
	ck_assert_ptr_nonnull(cache);
	ck_assert_uint_eq(pgc_cache_page_size(cache), pgc_test_os_page());
	struct pgc_stats st;
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.capacity, 1024);
	ck_assert_uint_eq(st.page_size, pgc_test_os_page());
	ck_assert_uint_eq(st.resident, 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(create_bad_page_size)
{
	struct pgc_cache_config cfg;
	size_t os = pgc_test_os_page();
	const uint32_t bad[] = {
		3000, (uint32_t)os + 1, (uint32_t)(os * 3), (uint32_t)(os * 2 + os / 2), /* not 2^n */
		(uint32_t)os / 2, 1024, 512, 1,                                          /* < OS page */
		PGC_MAX_PAGE_SIZE * 2, 1u << 30, 1u << 31,                               /* > max */
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char what[64];
		pgc_cache_config_init(&cfg);
		cfg.capacity_pages = 4;
		cfg.page_size = bad[i];
		snprintf(what, sizeof what, "page size %u", bad[i]);
		expect_create_error(&cfg, -EINVAL, what);
	}
}
END_TEST

START_TEST(create_page_sizes)
{
	const uint32_t sizes[] = { 4096, 16384, 65536, PGC_MAX_PAGE_SIZE };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct pgc_cache_config cfg;
		pgc_cache *cache;
		pgc_page *p;
		if (sizes[i] < pgc_test_os_page())
			continue;
		pgc_cache_config_init(&cfg);
		cfg.capacity_pages = 4;
		cfg.page_size = sizes[i];
		ck_assert_msg(create_with(&cfg, &cache) == 0, "page size %u refused", sizes[i]);
		ck_assert_uint_eq(pgc_cache_page_size(cache), sizes[i]);
		struct pgc_stats st;
		pgc_test_stats(cache, &st);
		ck_assert_uint_eq(st.page_size, sizes[i]);
		ck_assert_uint_eq(st.capacity, 4);

		ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), 0);
		unsigned char *d = pgc_page_data(p);
		ck_assert_uint_eq((uintptr_t)d % sizes[i], 0);
		memset(d, 0x5a, sizes[i]);
		ck_assert_uint_eq(d[sizes[i] - 1], 0x5a);
		pgc_page_put(p);
		ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	}
}
END_TEST

START_TEST(create_bad_capacity)
{
	struct pgc_cache_config cfg;

	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = 0;
	expect_create_error(&cfg, -EINVAL, "capacity 0");

	/* Fewer bytes than one page round down to 0 pages. */
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = pgc_test_os_page() - 1;
	expect_create_error(&cfg, -EINVAL, "capacity below one page");

	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = UINT64_MAX;
	expect_create_error(&cfg, -EINVAL, "capacity UINT64_MAX pages");
}
END_TEST

START_TEST(create_capacity_bytes)
{
	struct pgc_cache_config cfg;
	pgc_cache *cache;
	struct pgc_stats st;
	size_t os = pgc_test_os_page();

	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = 10 * os + 100; /* rounded down to 10 pages */
	ck_assert_int_eq(create_with(&cfg, &cache), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.capacity, 10);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);

	pgc_cache_config_init(&cfg);
	cfg.page_size = 16384;
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = 1 << 20;
	ck_assert_int_eq(create_with(&cfg, &cache), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.capacity, 64);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);

	/* capacity_pages wins when both are given. */
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 7;
	cfg.capacity_bytes = 1 << 20;
	ck_assert_int_eq(create_with(&cfg, &cache), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.capacity, 7);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(create_nodes)
{
	struct pgc_cache_config cfg;
	pgc_cache *cache;
	int node = 0;

	/* Learn a node of the machine. */
	cache = pgc_test_cache(4, 0);
	node = pgc_test_first_node(cache);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);

	int one[1] = { node };
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 4;
	cfg.nodes = one;
	cfg.nr_nodes = 1;
	ck_assert_int_eq(create_with(&cfg, &cache), 0);
	int got[4] = { -7, -7, -7, -7 };
	ck_assert_int_eq(pgc_cache_nodes(cache, got, 4), 1);
	ck_assert_int_eq(got[0], node);
	ck_assert_int_eq(got[1], -7);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);

	int missing[1] = { 999 };
	cfg.nodes = missing;
	expect_create_error(&cfg, -ENODEV, "node 999");

	int mixed[2] = { node, 999 };
	cfg.nodes = mixed;
	cfg.nr_nodes = 2;
	expect_create_error(&cfg, -ENODEV, "nodes {n, 999}");

	int dup[2] = { node, node };
	cfg.nodes = dup;
	cfg.nr_nodes = 2;
	expect_create_error(&cfg, -EINVAL, "duplicated node");

	static int many[PGC_MAX_NODES + 1]; /* all node 0: too many (and duplicated) */
	cfg.nodes = many;
	cfg.nr_nodes = PGC_MAX_NODES + 1;
	expect_create_error(&cfg, -EINVAL, "nr_nodes > PGC_MAX_NODES");
}
END_TEST

START_TEST(create_bad_args)
{
	struct pgc_cache_config cfg;
	pgc_cache *cache;

	pgc_cache_config_init(&cfg);
	cache = (pgc_cache *)&cache;
	ck_assert_int_eq(pgc_cache_create(NULL, &cache), -EINVAL);
	ck_assert_ptr_null(cache);
	ck_assert_int_eq(pgc_cache_create(&cfg, NULL), -EINVAL);

	cfg.size = 0;
	expect_create_error(&cfg, -EINVAL, "cfg.size 0");
	cfg.size = 4;
	expect_create_error(&cfg, -EINVAL, "cfg.size 4");
}
END_TEST

START_TEST(destroy_null_and_busy)
{
	ck_assert_int_eq(pgc_cache_destroy(NULL), 0);

	pgc_cache *cache = pgc_test_cache(8, 0);
	pgc_mapping *m = NULL;
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_create(cache, NULL, NULL, 0, &m), 0);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 3, 0, &p), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_cache_destroy(cache), -EBUSY);
	/* Nothing was freed: the cache and its mapping still work. */
	ck_assert_int_eq(pgc_mapping_find(m, 3, &p), 0);
	ck_assert_uint_eq(pgc_page_index(p), 3);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 4, 0, &p), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 2);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(page_size_null)
{
	ck_assert_uint_eq(pgc_cache_page_size(NULL), 0);
}
END_TEST

static int wp_ok(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	(void)m;
	(void)p;
	(void)wbc;
	return 0;
}

START_TEST(stats_counts)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	int node = pgc_test_first_node(cache);
	struct pgc_mapping_ops ops = { .size = sizeof ops, .writepage = wp_ok };
	pgc_mapping *m;
	pgc_page *p, *q;
	struct pgc_stats st, st0;

	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.size, sizeof st);
	ck_assert_uint_eq(st.capacity, 16);
	ck_assert_uint_eq(st.page_size, pgc_test_os_page());
	ck_assert_int_eq(st.nr_nodes, pgc_cache_nodes(cache, NULL, 0));
	ck_assert_uint_eq(st.hits, 0);
	ck_assert_uint_eq(st.misses, 0);
	ck_assert_uint_eq(st.inserts, 0);
	ck_assert_uint_eq(st.deletes, 0);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.resident, 0);
	ck_assert_uint_eq(st.dirty, 0);
	ck_assert_uint_eq(st.writeback, 0);
	ck_assert_uint_eq(st.active + st.inactive + st.unevictable, 0);

	ck_assert_int_eq(pgc_mapping_create(cache, &ops, NULL, 0, &m), 0);
	for (uint64_t i = 0; i < 3; i++) {
		ck_assert_int_eq(pgc_mapping_find_or_create(m, i, 0, &p), 0);
		ck_assert_int_eq(pgc_page_unlock(p), 0);
		pgc_page_put(p);
	}
	pgc_test_stats(cache, &st0);
	ck_assert_uint_eq(st0.resident, 3);
	ck_assert_uint_eq(st0.inserts, 3);
	if (node < PGC_STATS_NODES)
		ck_assert_uint_eq(st0.node_resident[node], 3);
	/* Inserted pages join the inactive list. */
	ck_assert_uint_eq(st0.inactive, 3);
	ck_assert_uint_eq(st0.active, 0);
	ck_assert_uint_eq(st0.unevictable, 0);

	/* A hit and a miss. */
	ck_assert_int_eq(pgc_mapping_find(m, 1, &p), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.hits, st0.hits + 1);
	ck_assert_uint_eq(st.misses, st0.misses);
	ck_assert_int_eq(pgc_mapping_find(m, 100, &q), -ENOENT);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.hits, st0.hits + 1);
	ck_assert_uint_eq(st.misses, st0.misses + 1);
	ck_assert_int_eq(pgc_mapping_find(m, 2, &q), 0);
	pgc_page_put(q);
	ck_assert_int_eq(pgc_mapping_find(m, 101, &q), -ENOENT);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.hits, st0.hits + 2);
	ck_assert_uint_eq(st.misses, st0.misses + 2);

	/* Dirty gauge. */
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_set_dirty(p), 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 1);
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 0);
	ck_assert_uint_eq(st.writeback, 0);

	/* Unevictable gauge. */
	ck_assert_int_eq(pgc_page_set_unevictable(p, 1), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.unevictable, 1);
	ck_assert_uint_eq(st.inactive + st.active, 2);
	ck_assert_int_eq(pgc_page_set_unevictable(p, 0), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.unevictable, 0);
	ck_assert_uint_eq(st.inactive + st.active, 3);

	/* A page outside any mapping is resident too. */
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &q), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.resident, 4);
	pgc_page_put(q);

	/* Delete counts. */
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_mapping_delete(p), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.deletes, st0.deletes + 1);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(stats_bad_args)
{
	pgc_cache *cache = pgc_test_cache(4, 0);
	struct pgc_stats st = { .size = sizeof st };

	ck_assert_int_eq(pgc_cache_stats(NULL, &st), -EINVAL);
	ck_assert_int_eq(pgc_cache_stats(cache, NULL), -EINVAL);
	st.size = 0;
	ck_assert_int_eq(pgc_cache_stats(cache, &st), -EINVAL);
	st.size = 4;
	ck_assert_int_eq(pgc_cache_stats(cache, &st), -EINVAL);

	/* Fields beyond the caller's size are not written. */
	struct {
		struct pgc_stats st;
		uint64_t guard;
	} big;
	memset(&big, 0xee, sizeof big);
	big.st.size = sizeof big.st;
	ck_assert_int_eq(pgc_cache_stats(cache, &big.st), 0);
	ck_assert_uint_eq(big.guard, 0xeeeeeeeeeeeeeeeeull);
	ck_assert_uint_eq(big.st.capacity, 4);

	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(node_stats)
{
	pgc_cache *cache = pgc_test_cache(8, 0);
	int node = pgc_test_first_node(cache);
	struct pgc_node_stats ns;
	pgc_page *p;

	memset(&ns, 0, sizeof ns);
	ns.size = sizeof ns;
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), 0);
	ck_assert_int_eq(ns.node, node);
	ck_assert_uint_eq(ns.resident, 0);
	ck_assert_uint_eq(ns.limit, 8);

	ck_assert_int_eq(pgc_page_alloc(cache, node, PGC_ALLOC_STRICT, &p), 0);
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), 0);
	ck_assert_uint_eq(ns.resident, 1);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_cache_node_stats(cache, 999, &ns), -ENOENT);
	ck_assert_int_eq(pgc_cache_node_stats(cache, -5, &ns), -ENOENT);
	ck_assert_int_eq(pgc_cache_node_stats(NULL, node, &ns), -EINVAL);
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, NULL), -EINVAL);
	ns.size = 0;
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), -EINVAL);

	/* Every node the cache lists has figures. */
	int nodes[PGC_MAX_NODES];
	int n = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	for (int i = 0; i < n; i++) {
		memset(&ns, 0, sizeof ns);
		ns.size = sizeof ns;
		ck_assert_int_eq(pgc_cache_node_stats(cache, nodes[i], &ns), 0);
		ck_assert_int_eq(ns.node, nodes[i]);
	}
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(nodes_list)
{
	pgc_cache *cache = pgc_test_cache(4, 0);
	int nodes[PGC_MAX_NODES];
	struct pgc_stats st;

	int n = pgc_cache_nodes(cache, NULL, 0);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(pgc_cache_nodes(cache, nodes, PGC_MAX_NODES), n);
	for (int i = 0; i < n; i++) {
		ck_assert_int_ge(nodes[i], 0);
		for (int j = 0; j < i; j++)
			ck_assert_int_ne(nodes[i], nodes[j]);
	}
	/* A short array gets the first entries; the count is still the total. */
	int one[2] = { -7, -7 };
	ck_assert_int_eq(pgc_cache_nodes(cache, one, 1), n);
	ck_assert_int_eq(one[0], nodes[0]);
	ck_assert_int_eq(one[1], -7);

	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.nr_nodes, n);

	ck_assert_int_eq(pgc_cache_nodes(NULL, nodes, 4), -EINVAL);
	ck_assert_int_eq(pgc_cache_nodes(cache, NULL, 1), -EINVAL);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(one_node_machine_stats)
{
	/* On a machine with one memory node, that node is 0 and holds every page. */
	int nodes[PGC_MAX_NODES];
	pgc_cache *cache = pgc_test_cache(8, 0);
	int n = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	pgc_page *p[3];
	struct pgc_stats st;

	if (n == 1 && nodes[0] == 0) {
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p[i]), 0);
		pgc_test_stats(cache, &st);
		ck_assert_uint_eq(st.nr_nodes, 1);
		ck_assert_uint_eq(st.resident, 3);
		ck_assert_uint_eq(st.node_resident[0], 3);
		for (int i = 1; i < PGC_STATS_NODES; i++)
			ck_assert_uint_eq(st.node_resident[i], 0);
		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(pgc_page_node(p[i]), 0);
			pgc_page_put(p[i]);
		}
	} else {
		/* Several nodes: the per-node figures add up to the total. */
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p[i]), 0);
		pgc_test_stats(cache, &st);
		uint64_t sum = 0;
		for (int i = 0; i < PGC_STATS_NODES; i++)
			sum += st.node_resident[i];
		ck_assert_uint_eq(sum, 3);
		for (int i = 0; i < 3; i++)
			pgc_page_put(p[i]);
	}
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

/* Frames made free ahead of need: chunks mapped, the capacity respected. */
START_TEST(reserve_frames)
{
	const uint64_t cap = 4096;
	pgc_cache *cache = pgc_test_cache(cap, 0);
	int node = pgc_test_first_node(cache);
	struct pgc_node_stats ns;
	memset(&ns, 0, sizeof ns);
	ns.size = sizeof ns;
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), 0);
	ck_assert_uint_lt(ns.free, 1000); /* frames are mapped lazily */

	ck_assert_int_eq(pgc_cache_reserve(cache, node, 1000), 0);
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), 0);
	ck_assert_uint_ge(ns.free, 1000);
	ck_assert_uint_eq(ns.resident, 0);

	/* Pages taken and freed are free again at once; a reserve of the
	 * whole capacity maps the rest, and every frame is free. */
	enum { N = 600 };
	static pgc_page *p[N];
	for (unsigned i = 0; i < N; i++)
		ck_assert_int_eq(pgc_page_alloc(cache, node, PGC_ALLOC_STRICT, &p[i]), 0);
	for (unsigned i = 0; i < N; i++)
		pgc_page_put(p[i]);
	if (pgc_cache_nodes(cache, NULL, 0) == 1) {
		ck_assert_int_eq(pgc_cache_reserve(cache, node, cap), 0);
		ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), 0);
		ck_assert_uint_eq(ns.free, cap);
	}
	/* Beyond the capacity: as many as there can be, and -ENOSPC. */
	ck_assert_int_eq(pgc_cache_reserve(cache, node, cap + 1), -ENOSPC);
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, &ns), 0);
	ck_assert_uint_le(ns.free, cap);
	ck_assert_int_eq(pgc_cache_check(cache, NULL, 0), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(reclaim_null)
{
	ck_assert_int_eq(pgc_cache_reclaim(NULL, 1), -EINVAL);
}
END_TEST

START_TEST(strerror_names)
{
	const int known[] = { 0, -EINVAL, -ENOMEM, -ENOENT, -EBUSY, -EEXIST, -EAGAIN,
			      -EROFS, -ENODEV, -EACCES, -EIO };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		const char *s = pgc_strerror(known[i]);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_gt(strlen(s), 0);
		/* A positive value is taken as its negation. */
		ck_assert_str_eq(pgc_strerror(-known[i]), s);
	}
	ck_assert_str_ne(pgc_strerror(-EINVAL), pgc_strerror(-ENOMEM));
	ck_assert_str_ne(pgc_strerror(-ENOENT), pgc_strerror(-EEXIST));
	ck_assert_str_ne(pgc_strerror(0), pgc_strerror(-EINVAL));

	const int unknown[] = { -99999, 12345, -4095, 1 << 30, -(1 << 30), INT32_MIN, INT32_MAX };
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		const char *s = pgc_strerror(unknown[i]);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_gt(strlen(s), 0);
	}
}
END_TEST

/*
 * pgc_errname(): every code pgc_strerror() has a text for has a name, and
 * the name is the errno macro's (glibc's strerrorname_np() agrees, where
 * glibc has it); positive values name the same; 0 is "OK", anything else
 * "EUNKNOWN".
 */
START_TEST(errname_covers_strerror)
{
	const char *unknown_text = pgc_strerror(-4095);
	ck_assert_str_eq(pgc_errname(-4095), "EUNKNOWN");
	int named = 0;
	for (int e = 1; e < 4096; e++) {
		const char *name = pgc_errname(-e);
		ck_assert_ptr_nonnull(name);
		ck_assert_str_eq(pgc_errname(e), name);
		if (strcmp(pgc_strerror(-e), unknown_text) != 0)
			ck_assert_msg(strcmp(name, "EUNKNOWN") != 0,
				      "%d has a text (\"%s\") but no name", e, pgc_strerror(-e));
		if (strcmp(name, "EUNKNOWN") == 0)
			continue;
		named++;
		ck_assert_msg(name[0] == 'E', "%d: %s", e, name);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 32)
		const char *sys = strerrorname_np(e);
		ck_assert_msg(sys && strcmp(sys, name) == 0, "%d: pgc_errname %s, glibc %s", e, name,
			      sys ? sys : "(null)");
#endif
	}
	ck_assert_int_ge(named, 20);
	ck_assert_str_eq(pgc_errname(0), "OK");
	ck_assert_str_eq(pgc_errname(-ENOSPC), "ENOSPC");
	ck_assert_str_eq(pgc_errname(-EINVAL), "EINVAL");
	ck_assert_str_eq(pgc_errname(-EOPNOTSUPP), "EOPNOTSUPP");
	ck_assert_str_eq(pgc_errname(-E2BIG), "E2BIG");
	ck_assert_str_eq(pgc_errname(INT32_MIN), "EUNKNOWN");
	ck_assert_str_eq(pgc_errname(INT32_MAX), "EUNKNOWN");
}
END_TEST

START_TEST(version_matches)
{
	char expect[32];
	ck_assert_uint_eq(pgc_version(), PGC_VERSION_NUMBER);
	snprintf(expect, sizeof expect, "%d.%d.%d", PGC_VERSION_MAJOR, PGC_VERSION_MINOR,
		 PGC_VERSION_PATCH);
	ck_assert_ptr_nonnull(pgc_version_string());
	ck_assert_str_eq(pgc_version_string(), expect);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	PGC_ADD(s, config_init_defaults, 30);
	PGC_ADD(s, create_bad_page_size, 30);
	PGC_ADD(s, create_page_sizes, 30);
	PGC_ADD(s, create_bad_capacity, 30);
	PGC_ADD(s, create_capacity_bytes, 30);
	PGC_ADD(s, create_nodes, 30);
	PGC_ADD(s, create_bad_args, 30);
	PGC_ADD(s, destroy_null_and_busy, 30);
	PGC_ADD(s, page_size_null, 30);
	PGC_ADD(s, stats_counts, 30);
	PGC_ADD(s, stats_bad_args, 30);
	PGC_ADD(s, node_stats, 30);
	PGC_ADD(s, nodes_list, 30);
	PGC_ADD(s, one_node_machine_stats, 30);
	PGC_ADD(s, reserve_frames, 30);
	PGC_ADD(s, reclaim_null, 30);
	PGC_ADD(s, strerror_names, 30);
	PGC_ADD(s, errname_covers_strerror, 30);
	PGC_ADD(s, version_matches, 30);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, cache_suite());
}
