/*
 * Suite "abi": callers built against release 0.1, and against a release
 * newer than this library, still work (issue 14, part 6; the rule is in
 * common.h, "Versioned structures", and docs/abi.md).
 *
 * A "0.1 caller" here declares its own copies of the 0.1 layouts of the
 * versioned structures, as a program compiled against the 0.1 headers has
 * them, sets their size to the PGC_*_SIZE_0_1 constants, and places each so
 * that its last byte is the last byte before a page that is not mapped
 * (PROT_NONE): a library that read or wrote one byte more than the caller's
 * size, as it would if it used its own, larger sizeof once a member is
 * added, crashes the test. Today the 0.1 layouts are the whole structures;
 * the day a member is appended, these tests go on checking the 0.1 callers
 * without a change (the copies below are the 0.1 layouts, and stay so).
 *
 * A "newer caller" appends a member this library does not know: zero, it is
 * accepted (the defaults); nonzero, an input structure is refused with
 * -E2BIG; an output structure gets zeros in it.
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <stddef.h>
#include <sys/mman.h>

/* ---- the 0.1 layouts, as a program built against 0.1 declares them ---- */

struct cfg_0_1 {
	uint32_t size;
	uint32_t page_size;
	uint64_t capacity_pages;
	uint64_t capacity_bytes;
	const int *nodes;
	uint32_t nr_nodes;
	const uint64_t *node_pages;
	uint32_t nr_node_pages;
	pgc_log_fn log;
	void *log_arg;
	int log_level;
	int huge_pages;
};

struct stats_0_1 {
	uint32_t size;
	uint32_t nr_nodes;
	uint64_t page_size, capacity, hits, misses, inserts, deletes, evictions;
	uint64_t reclaim_scans, reclaim_writes, alloc_failures, dirty, writeback;
	uint64_t resident, active, inactive, unevictable;
	uint64_t node_resident[64];
};

struct node_stats_0_1 {
	uint32_t size;
	int node;
	uint64_t resident, free, limit, active, inactive, unevictable;
};

struct wbc_0_1 {
	uint32_t size;
	int sync_mode;
	uint64_t range_start;
	uint64_t range_end;
	long nr_to_write;
	int for_reclaim;
};

struct ops_0_1 {
	uint32_t size;
	int (*readpage)(pgc_mapping *, pgc_page *);
	int (*writepage)(pgc_mapping *, pgc_page *, struct pgc_writeback_control *);
	int (*writepages)(pgc_mapping *, struct pgc_writeback_control *);
	int (*releasepage)(pgc_mapping *, pgc_page *);
	void (*invalidatepage)(pgc_mapping *, pgc_page *, size_t, size_t);
	int (*migratepage)(pgc_mapping *, pgc_page *, pgc_page *, int);
	int (*set_page_dirty)(pgc_mapping *, pgc_page *);
	int (*readpages)(pgc_mapping *, pgc_page **, unsigned);
	ssize_t (*direct_IO)(pgc_mapping *, int, const struct iovec *, int, uint64_t);
	int (*resize)(pgc_mapping *, uint64_t);
};

struct dio_limits_0_1 {
	uint32_t size;
	uint32_t block_size;
	uint32_t mem_align;
	uint64_t max_segment;
};

struct migrate_stats_0_1 {
	uint32_t size;
	uint32_t passes;
	uint64_t succeeded, failed, retried, bytes;
};

/* The constants are the 0.1 layouts' sizes (LP64: the CI's data model). */
#ifdef PGC_ABI_LP64
_Static_assert(sizeof(struct cfg_0_1) == PGC_CACHE_CONFIG_SIZE_0_1, "0.1 config layout");
_Static_assert(sizeof(struct stats_0_1) == PGC_STATS_SIZE_0_1, "0.1 stats layout");
_Static_assert(sizeof(struct node_stats_0_1) == PGC_NODE_STATS_SIZE_0_1, "0.1 node stats");
_Static_assert(sizeof(struct wbc_0_1) == PGC_WRITEBACK_CONTROL_SIZE_0_1, "0.1 wbc layout");
_Static_assert(sizeof(struct ops_0_1) == PGC_MAPPING_OPS_SIZE_0_1, "0.1 ops layout");
_Static_assert(sizeof(struct dio_limits_0_1) == PGC_DIO_LIMITS_SIZE_0_1, "0.1 dio limits");
_Static_assert(sizeof(struct migrate_stats_0_1) == PGC_MIGRATE_STATS_SIZE_0_1, "0.1 mig stats");
#endif

/* ---- structures against an unmapped page ------------------------------- */

/*
 * Room for n bytes whose last byte is the last before a PROT_NONE page, so
 * that touching byte n crashes. Freed with guarded_free(). The offset is a
 * multiple of 8 (every size here is), so the structures stay aligned.
 */
static void *guarded(size_t n)
{
	size_t ps = pgc_test_os_page();
	ck_assert_uint_le(n, ps);
	ck_assert_uint_eq(n % 8, 0);
	char *base = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(base, MAP_FAILED);
	ck_assert_int_eq(mprotect(base + ps, ps, PROT_NONE), 0);
	memset(base, 0, ps);
	return base + ps - n;
}

static void guarded_free(void *p)
{
	size_t ps = pgc_test_os_page();
	char *base = (char *)((uintptr_t)p & ~(uintptr_t)(ps - 1));
	munmap(base, 2 * ps);
}

/* ---- a 0.1 caller's mapping operations --------------------------------- */

static int readpages_called, writepage_called;
static uint32_t writepage_wbc_size;
static long writepage_wbc_nr;

static int rp_fill(pgc_mapping *m, pgc_page *p)
{
	memset(pgc_page_data(p), 'r', pgc_cache_page_size(pgc_mapping_cache(m)));
	readpages_called++;
	return 0;
}

static int wp_record(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	(void)m;
	(void)p;
	writepage_called++;
	writepage_wbc_size = wbc ? wbc->size : 0;
	writepage_wbc_nr = wbc ? wbc->nr_to_write : -1;
	return 0;
}

static struct cfg_0_1 *old_config(uint64_t capacity)
{
	struct cfg_0_1 *c = guarded(sizeof(*c));
	c->size = PGC_CACHE_CONFIG_SIZE_0_1;
	c->capacity_pages = capacity;
	c->log_level = PGC_LOG_WARN;
	return c;
}

static pgc_cache *old_cache(uint64_t capacity)
{
	struct cfg_0_1 *c = old_config(capacity);
	pgc_cache *cache = NULL;
	ck_assert_int_eq(pgc_cache_create((const struct pgc_cache_config *)c, &cache), 0);
	ck_assert_ptr_nonnull(cache);
	guarded_free(c);
	return cache;
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(config_0_1_creates)
{
	struct cfg_0_1 *c = old_config(8);
	c->page_size = 2 * (uint32_t)pgc_test_os_page();
	pgc_cache *cache = NULL;
	ck_assert_int_eq(pgc_cache_create((const struct pgc_cache_config *)c, &cache), 0);
	ck_assert_uint_eq(pgc_cache_page_size(cache), 2 * pgc_test_os_page());
	struct pgc_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_cache_stats(cache, &st), 0);
	ck_assert_uint_eq(st.capacity, 8);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);

	/* Below the first release: refused. */
	c->size = PGC_CACHE_CONFIG_SIZE_0_1 - 4;
	cache = (pgc_cache *)&cache;
	ck_assert_int_eq(pgc_cache_create((const struct pgc_cache_config *)c, &cache), -EINVAL);
	ck_assert_ptr_null(cache);
	c->size = 0;
	ck_assert_int_eq(pgc_cache_create((const struct pgc_cache_config *)c, &cache), -EINVAL);
	guarded_free(c);
}
END_TEST

START_TEST(config_newer_caller)
{
	struct newer {
		struct pgc_cache_config cfg;
		uint64_t future; /* a member of a release this library does not know */
	} *n = guarded(sizeof(struct newer));
	pgc_cache_config_init(&n->cfg);
	n->cfg.size = sizeof(*n);
	n->cfg.capacity_pages = 4;
	n->future = 0;
	pgc_cache *cache = NULL;
	ck_assert_int_eq(pgc_cache_create(&n->cfg, &cache), 0);
	struct pgc_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_cache_stats(cache, &st), 0);
	ck_assert_uint_eq(st.capacity, 4);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);

	/* It asks for something this library cannot do. */
	n->future = 1;
	cache = (pgc_cache *)&cache;
	ck_assert_int_eq(pgc_cache_create(&n->cfg, &cache), -E2BIG);
	ck_assert_ptr_null(cache);
	/* An absurd size (an uninitialised member) is refused without reading. */
	n->cfg.size = 1u << 20;
	ck_assert_int_eq(pgc_cache_create(&n->cfg, &cache), -E2BIG);
	guarded_free(n);
}
END_TEST

START_TEST(stats_0_1_and_newer)
{
	pgc_cache *cache = old_cache(4);
	pgc_page *p = NULL;
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), 0);

	struct stats_0_1 *st = guarded(sizeof(*st));
	memset(st, 0xee, sizeof(*st));
	st->size = PGC_STATS_SIZE_0_1;
	ck_assert_int_eq(pgc_cache_stats(cache, (struct pgc_stats *)st), 0);
	ck_assert_uint_eq(st->size, PGC_STATS_SIZE_0_1);
	ck_assert_uint_eq(st->capacity, 4);
	ck_assert_uint_eq(st->resident, 1);
	ck_assert_uint_eq(st->page_size, pgc_test_os_page());
	ck_assert_uint_eq(st->hits, 0);
	st->size = PGC_STATS_SIZE_0_1 - 8;
	ck_assert_int_eq(pgc_cache_stats(cache, (struct pgc_stats *)st), -EINVAL);
	guarded_free(st);

	struct node_stats_0_1 *ns = guarded(sizeof(*ns));
	ns->size = PGC_NODE_STATS_SIZE_0_1;
	int node = pgc_test_first_node(cache);
	ck_assert_int_eq(pgc_cache_node_stats(cache, node, (struct pgc_node_stats *)ns), 0);
	ck_assert_int_eq(ns->node, node);
	ck_assert_uint_eq(ns->resident, 1);
	guarded_free(ns);

	/* A newer caller: exactly its size is written, zeros where this
	 * library has nothing, and its size stays. */
	struct newer {
		struct pgc_stats st;
		uint64_t future[3];
	} *n = guarded(sizeof(struct newer));
	memset(n, 0xee, sizeof(*n));
	n->st.size = sizeof(*n);
	ck_assert_int_eq(pgc_cache_stats(cache, &n->st), 0);
	ck_assert_uint_eq(n->st.size, sizeof(*n));
	ck_assert_uint_eq(n->st.capacity, 4);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(n->future[i], 0);
	/* And a shorter one than that gets no byte past its size. */
	memset(n, 0xee, sizeof(*n));
	n->st.size = sizeof(n->st) + 8;
	ck_assert_int_eq(pgc_cache_stats(cache, &n->st), 0);
	ck_assert_uint_eq(n->future[0], 0);
	ck_assert_uint_eq(n->future[1], 0xeeeeeeeeeeeeeeeeull);
	guarded_free(n);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(mapping_ops_0_1)
{
	pgc_cache *cache = old_cache(8);
	size_t ps = pgc_cache_page_size(cache);
	struct ops_0_1 *ops = guarded(sizeof(*ops));
	ops->size = PGC_MAPPING_OPS_SIZE_0_1;
	ops->readpage = rp_fill;
	ops->writepage = wp_record;
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_mapping_create(cache, (const struct pgc_mapping_ops *)ops, NULL,
					    4 * ps, &m),
			 0);
	guarded_free(ops); /* copied: the mapping no longer needs the table */

	/* readpage is the caller's. */
	readpages_called = 0;
	ck_assert_int_eq(pgc_mapping_set_readahead(m, 0), 0);
	char buf[16];
	ck_assert_int_eq(pgc_read(m, buf, sizeof(buf), ps), (ssize_t)sizeof(buf));
	ck_assert_int_eq(buf[0], 'r');
	ck_assert_int_eq(readpages_called, 1);

	/* writepage is the caller's, called with a writeback control of this
	 * release; a 0.1 caller's control (against the guard) gets its count. */
	memset(buf, 'w', sizeof(buf));
	ck_assert_int_eq(pgc_write(m, buf, sizeof(buf), 0, 0), (ssize_t)sizeof(buf));
	pgc_page *p = NULL;
	ck_assert_int_eq(pgc_mapping_find_lock(m, 0, &p), 0);
	struct wbc_0_1 *w = guarded(sizeof(*w));
	w->size = PGC_WRITEBACK_CONTROL_SIZE_0_1;
	w->sync_mode = PGC_WB_ALL;
	w->range_end = UINT64_MAX;
	w->nr_to_write = 5;
	writepage_called = 0;
	ck_assert_int_eq(pgc_mapping_write_page(p, (struct pgc_writeback_control *)w), 0);
	ck_assert_int_eq(writepage_called, 1);
	ck_assert_uint_ge(writepage_wbc_size, PGC_WRITEBACK_CONTROL_SIZE_0_1);
	ck_assert_int_eq(writepage_wbc_nr, 5);
	ck_assert_int_eq(w->nr_to_write, 4);
	ck_assert_uint_eq(w->size, PGC_WRITEBACK_CONTROL_SIZE_0_1);
	/* Below the first release: refused before anything is looked at. */
	w->size = 8;
	ck_assert_int_eq(pgc_mapping_write_page(p, (struct pgc_writeback_control *)w), -EINVAL);
	ck_assert_int_eq(writepage_called, 1);
	guarded_free(w);
	pgc_page_unlock(p);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_write(m, buf, sizeof(buf), 0, 0), (ssize_t)sizeof(buf));
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(writepage_called, 2);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);

	/* A table smaller than 0.1's is refused. */
	struct ops_0_1 small = {.size = PGC_MAPPING_OPS_SIZE_0_1 - 8};
	m = (pgc_mapping *)&m;
	ck_assert_int_eq(pgc_mapping_create(cache, (const struct pgc_mapping_ops *)&small, NULL,
					    0, &m),
			 -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

static int future_op(pgc_mapping *m)
{
	(void)m;
	return 0;
}

START_TEST(mapping_ops_newer_caller)
{
	pgc_cache *cache = pgc_test_cache(8, 0);
	struct newer {
		struct pgc_mapping_ops ops;
		int (*future)(pgc_mapping *); /* an operation of a later release */
	} *n = guarded(sizeof(struct newer));
	n->ops.size = sizeof(*n);
	n->ops.writepage = wp_record;
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_mapping_create(cache, &n->ops, NULL, 0, &m), 0);
	char buf[8] = "newer";
	ck_assert_int_eq(pgc_write(m, buf, sizeof(buf), 0, 0), (ssize_t)sizeof(buf));
	writepage_called = 0;
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(writepage_called, 1);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);

	/* This library would never call it: refused rather than ignored. */
	n->future = future_op;
	m = (pgc_mapping *)&m;
	ck_assert_int_eq(pgc_mapping_create(cache, &n->ops, NULL, 0, &m), -E2BIG);
	ck_assert_ptr_null(m);
	guarded_free(n);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(dio_limits_and_migrate_stats_0_1)
{
	pgc_cache *cache = old_cache(8);
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_mapping_create(cache, NULL, NULL, 0, &m), 0);

	struct dio_limits_0_1 *l = guarded(sizeof(*l));
	l->size = PGC_DIO_LIMITS_SIZE_0_1;
	l->block_size = 4096;
	l->mem_align = 512;
	l->max_segment = 1 << 16;
	ck_assert_int_eq(pgc_mapping_set_dio_limits(m, (const struct pgc_dio_limits *)l), 0);
	memset(l, 0, sizeof(*l));
	l->size = PGC_DIO_LIMITS_SIZE_0_1;
	ck_assert_int_eq(pgc_mapping_dio_limits(m, (struct pgc_dio_limits *)l), 0);
	ck_assert_uint_eq(l->size, PGC_DIO_LIMITS_SIZE_0_1);
	ck_assert_uint_eq(l->block_size, 4096);
	ck_assert_uint_eq(l->mem_align, 512);
	ck_assert_uint_eq(l->max_segment, 1 << 16);
	l->size = PGC_DIO_LIMITS_SIZE_0_1 - 8;
	ck_assert_int_eq(pgc_mapping_dio_limits(m, (struct pgc_dio_limits *)l), -EINVAL);
	ck_assert_int_eq(pgc_mapping_set_dio_limits(m, (const struct pgc_dio_limits *)l), -EINVAL);
	guarded_free(l);

	struct migrate_stats_0_1 *ms = guarded(sizeof(*ms));
	memset(ms, 0xee, sizeof(*ms));
	ms->size = PGC_MIGRATE_STATS_SIZE_0_1;
	ck_assert_int_eq(pgc_cache_migrate_stats(cache, PGC_MR_SYSCALL,
						 (struct pgc_migrate_stats *)ms),
			 0);
	ck_assert_uint_eq(ms->succeeded, 0);
	ck_assert_uint_eq(ms->bytes, 0);
	/* The size a caller gives is checked before the call does anything. */
	ms->size = 4;
	ck_assert_int_eq(pgc_cache_migrate_stats(cache, PGC_MR_SYSCALL,
						 (struct pgc_migrate_stats *)ms),
			 -EINVAL);
	int from = pgc_test_first_node(cache), to = from;
	ck_assert_int_eq(pgc_migrate_nodes(cache, NULL, &from, &to, 1, 0, PGC_MR_SYSCALL,
					   (struct pgc_migrate_stats *)ms),
			 -EINVAL);
	ms->size = PGC_MIGRATE_STATS_SIZE_0_1;
	ck_assert_int_eq(pgc_migrate_nodes(cache, NULL, &from, &to, 1, 0, PGC_MR_SYSCALL,
					   (struct pgc_migrate_stats *)ms),
			 0);
	guarded_free(ms);

	struct newer {
		struct pgc_dio_limits l;
		uint64_t future;
	} *n = guarded(sizeof(struct newer));
	n->l.size = sizeof(*n);
	n->future = 0xeeee;
	ck_assert_int_eq(pgc_mapping_dio_limits(m, &n->l), 0);
	ck_assert_uint_eq(n->l.size, sizeof(*n));
	ck_assert_uint_eq(n->l.block_size, 4096);
	ck_assert_uint_eq(n->future, 0);
	ck_assert_int_eq(pgc_mapping_set_dio_limits(m, &n->l), 0);
	n->future = 1;
	ck_assert_int_eq(pgc_mapping_set_dio_limits(m, &n->l), -E2BIG);
	guarded_free(n);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

static Suite *abi_suite(void)
{
	Suite *s = suite_create("abi");
	PGC_ADD(s, config_0_1_creates, 30);
	PGC_ADD(s, config_newer_caller, 30);
	PGC_ADD(s, stats_0_1_and_newer, 30);
	PGC_ADD(s, mapping_ops_0_1, 30);
	PGC_ADD(s, mapping_ops_newer_caller, 30);
	PGC_ADD(s, dio_limits_and_migrate_stats_0_1, 30);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, abi_suite());
}
