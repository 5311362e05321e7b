/*
 * The migration engine on one node: pgc_migrate_pages() (copy to new frames
 * of the same node), its passes, modes and statistics, the reference
 * protocol against concurrent lookups, private values and page handles,
 * and the argument and status checks of pgc_move_pages() and
 * pgc_migrate_nodes() that need no second node. Placement across nodes is
 * tested in a multi-node VM by test_numa.c.
 */
#include "pgc_test.h"
#include "pgc_tstore.h"

#include <pgcache/migrate.h>

/* ---- the store (pgc_tstore.h) --------------------------------------------- */

#define ST_PAGES 256

static int busy_migratepage(pgc_mapping *m, pgc_page *newpage, pgc_page *page, int mode)
{
	struct tstore *s = pgc_mapping_owner(m);
	atomic_fetch_add(&s->migratepage_calls, 1);
	if (atomic_load(&s->eagain_left) > 0) {
		atomic_fetch_sub(&s->eagain_left, 1);
		return -EAGAIN;
	}
	return pgc_migrate_page(m, newpage, page, mode);
}

enum { OPS_DEFAULT, OPS_MIGRATE, OPS_FAIL, OPS_BUSY };

static struct pgc_mapping_ops make_ops(int kind)
{
	struct pgc_mapping_ops o = {.size = sizeof(o), .readpage = ts_readpage, .writepage = ts_writepage};
	if (kind == OPS_MIGRATE)
		o.migratepage = pgc_migrate_page;
	else if (kind == OPS_FAIL)
		o.migratepage = pgc_fail_migrate_page;
	else if (kind == OPS_BUSY)
		o.migratepage = busy_migratepage;
	return o;
}

struct fx {
	pgc_cache *cache;
	pgc_mapping *m;
	struct tstore s;
	size_t ps;
	struct pgc_mapping_ops ops;
};

static void fx_init(struct fx *f, uint64_t capacity, int kind)
{
	memset(f, 0, sizeof(*f));
	f->cache = pgc_test_cache(capacity, 0);
	f->ps = pgc_cache_page_size(f->cache);
	f->s.ps = f->ps;
	f->s.data = malloc(ST_PAGES * f->ps);
	ck_assert_ptr_nonnull(f->s.data);
	for (size_t i = 0; i < ST_PAGES * f->ps; i++)
		f->s.data[i] = (unsigned char)(i * 7 + i / f->ps);
	f->ops = make_ops(kind);
	ck_assert_int_eq(pgc_mapping_create(f->cache, &f->ops, &f->s, ST_PAGES * f->ps, &f->m), 0);
}

static void fx_fini(struct fx *f)
{
	ck_assert_int_eq(pgc_mapping_truncate(f->m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	free(f->s.data);
}

/* Reads page idx into the cache and returns it with the caller's reference. */
static pgc_page *cached(struct fx *f, uint64_t idx)
{
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_read_page(f->m, idx, &p), 0);
	return p;
}

/* Checks that the page at idx is p and holds the store's (or given) bytes. */
static void check_page(struct fx *f, uint64_t idx, pgc_page *p, const unsigned char *want)
{
	pgc_page *q;
	ck_assert_int_eq(pgc_mapping_find(f->m, idx, &q), 0);
	ck_assert_ptr_eq(q, p);
	ck_assert_mem_eq(pgc_page_data(q), want ? want : f->s.data + idx * f->ps, f->ps);
	pgc_page_put(q);
}

static pgc_page *new_page_node0(pgc_page *old, void *arg)
{
	(void)old;
	pgc_cache *c = arg;
	pgc_page *p;
	return pgc_page_alloc(c, pgc_test_first_node(c), PGC_ALLOC_STRICT, &p) ? NULL : p;
}

static pgc_page *new_page_none(pgc_page *old, void *arg)
{
	(void)old;
	(void)arg;
	return NULL;
}

/* ---- pgc_migrate_pages ----------------------------------------------------- */

START_TEST(migrate_clean_pages)
{
	struct fx f;
	fx_init(&f, 128, OPS_DEFAULT);
	enum { N = 40 };
	pgc_page *pages[N], *orig[N];
	int status[N];
	for (unsigned i = 0; i < N; i++) {
		orig[i] = pages[i] = cached(&f, i);
		if (i % 3 == 0)
			pgc_page_set_flag(pages[i], PGC_PG_CHECKED);
		if (i % 4 == 0)
			pgc_page_set_flag(pages[i], PGC_PG_MAPPEDTODISK);
		if (i % 5 == 0)
			pgc_page_set_flag(pages[i], PGC_PG_ERROR);
	}
	uint32_t before[N];
	for (unsigned i = 0; i < N; i++)
		before[i] = pgc_page_flags(pages[i]) & ~PGC_PAGE_BIT(PGC_PG_LRU);
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_migrate_pages(pages, N, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_MEMPOLICY, status, &st), 0);
	ck_assert_uint_eq(st.succeeded, N);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_uint_eq(st.passes, 1);
	ck_assert_uint_eq(st.retried, 0);
	ck_assert_uint_eq(st.bytes, N * f.ps);
	for (unsigned i = 0; i < N; i++) {
		ck_assert_int_eq(status[i], 0);
		ck_assert_ptr_ne(pages[i], orig[i]);
		ck_assert_uint_eq(pgc_page_flags(pages[i]) & ~PGC_PAGE_BIT(PGC_PG_LRU), before[i]);
		check_page(&f, i, pages[i], NULL);
		ck_assert(pgc_page_test_flag(pages[i], PGC_PG_LRU));
		ck_assert_int_eq(pgc_page_refcount(pages[i]), 2); /* mapping + ours */
		ck_assert_ptr_eq(pgc_page_mapping(pages[i]), f.m);
		ck_assert_uint_eq(pgc_page_index(pages[i]), i);
	}
	ck_assert_uint_eq(pgc_mapping_nr_pages(f.m), N);
	struct pgc_stats cs;
	pgc_test_stats(f.cache, &cs);
	ck_assert_uint_eq(cs.resident, N); /* the old frames are free again */
	struct pgc_migrate_stats cum = {.size = sizeof(cum)};
	ck_assert_int_eq(pgc_cache_migrate_stats(f.cache, PGC_MR_MEMPOLICY, &cum), 0);
	ck_assert_uint_eq(cum.succeeded, N);
	ck_assert_uint_eq(cum.passes, 1); /* calls */
	ck_assert_int_eq(pgc_cache_migrate_stats(f.cache, PGC_MR_DEMOTION, &cum), 0);
	ck_assert_uint_eq(cum.succeeded, 0);
	for (unsigned i = 0; i < N; i++)
		pgc_page_put(pages[i]);
	fx_fini(&f);
}
END_TEST

/* A batch large enough to be copied by several threads: the data arrives. */
START_TEST(migrate_large_batch_threaded_copy)
{
	enum { N = 1024, PS = 16384 }; /* batches of 512 pages of 16 KiB (8 MiB): copied by threads */
	pgc_cache *c = pgc_test_cache(2 * N + 1024, PS);
	pgc_mapping *m;
	ck_assert_int_eq(pgc_mapping_create(c, NULL, NULL, (uint64_t)N * PS, &m), 0);
	pgc_page **pages = malloc(N * sizeof(*pages)), **orig = malloc(N * sizeof(*orig));
	int *status = malloc(N * sizeof(int));
	for (uint64_t i = 0; i < N; i++) {
		ck_assert_int_eq(pgc_mapping_find_or_create(m, i, 0, &pages[i]), 0);
		uint64_t *w = pgc_page_data(pages[i]);
		for (size_t k = 0; k < PS / 8; k++)
			w[k] = i * PS + k;
		pgc_page_set_flag(pages[i], PGC_PG_UPTODATE);
		pgc_page_unlock(pages[i]);
		orig[i] = pages[i];
	}
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_migrate_pages(pages, N, new_page_node0, c, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, status, &st), 0);
	ck_assert_uint_eq(st.succeeded, N);
	ck_assert_uint_eq(st.bytes, (uint64_t)N * PS);
	for (uint64_t i = 0; i < N; i++) {
		ck_assert_int_eq(status[i], 0);
		ck_assert_ptr_ne(pages[i], orig[i]);
		const uint64_t *w = pgc_page_data(pages[i]);
		for (size_t k = 0; k < PS / 8; k++)
			ck_assert_uint_eq(w[k], i * PS + k);
		pgc_page_put(pages[i]);
	}
	free(pages);
	free(orig);
	free(status);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
}
END_TEST

START_TEST(migrate_extra_reference_busy)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	pgc_page *pages[3] = {cached(&f, 0), cached(&f, 1), cached(&f, 2)};
	pgc_page *pinned = pages[1];
	pgc_page_get(pinned); /* someone else's reference */
	int status[3];
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_migrate_pages(pages, 3, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, status, &st), 1);
	ck_assert_int_eq(status[0], 0);
	ck_assert_int_eq(status[1], -EBUSY);
	ck_assert_int_eq(status[2], 0);
	ck_assert_ptr_eq(pages[1], pinned);
	/* Counted once, retried on every pass. */
	ck_assert_uint_eq(st.succeeded, 2);
	ck_assert_uint_eq(st.failed, 1);
	ck_assert_uint_eq(st.passes, PGC_MIGRATE_PASSES);
	ck_assert_uint_eq(st.retried, PGC_MIGRATE_PASSES);
	/* Back in its place, on its LRU list, unchanged. */
	check_page(&f, 1, pinned, NULL);
	ck_assert(pgc_page_test_flag(pinned, PGC_PG_LRU));
	ck_assert_int_eq(pgc_page_refcount(pinned), 3);
	pgc_page_put(pinned);
	for (int i = 0; i < 3; i++)
		pgc_page_put(pages[i]);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_exact_counts_across_passes)
{
	struct fx f;
	fx_init(&f, 64, OPS_BUSY);
	pgc_page *pages[2] = {cached(&f, 5), cached(&f, 6)};
	atomic_store(&f.s.eagain_left, 4); /* the first page is busy 3 times, the second once */
	int status[2];
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_migrate_pages(pages, 2, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_DEMOTION, status, &st), 0);
	ck_assert_int_eq(status[0], 0);
	ck_assert_int_eq(status[1], 0);
	ck_assert_uint_eq(st.succeeded, 2);
	ck_assert_uint_eq(st.failed, 0);
	ck_assert_uint_eq(st.retried, 4);
	ck_assert_uint_eq(st.passes, 3);
	ck_assert_int_eq(atomic_load(&f.s.migratepage_calls), 6);
	check_page(&f, 5, pages[0], NULL);
	check_page(&f, 6, pages[1], NULL);
	pgc_page_put(pages[0]);
	pgc_page_put(pages[1]);
	fx_fini(&f);
}
END_TEST

struct delayed {
	pgc_page *page;
	int what; /* 0: unlock, 1: end writeback */
	unsigned ms;
};

static void *delayed_run(void *arg)
{
	struct delayed *d = arg;
	pgc_test_sleep_ms(d->ms);
	if (d->what == 0)
		pgc_page_unlock(d->page);
	else
		pgc_page_end_writeback(d->page);
	return NULL;
}

START_TEST(migrate_locked_page_modes)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	pgc_page *p = cached(&f, 3), *orig = p;
	int status;
	ck_assert_int_eq(pgc_page_lock(p), 0);
	/* Async never waits for the lock. */
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_ASYNC,
					   PGC_MR_SYSCALL, &status, NULL), 1);
	ck_assert_int_eq(status, -EBUSY);
	ck_assert_ptr_eq(p, orig);
	/* Sync-light waits for it. */
	struct delayed d = {p, 0, 50};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, delayed_run, &d), 0);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC_LIGHT,
					   PGC_MR_SYSCALL, &status, NULL), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_ne(p, orig);
	check_page(&f, 3, p, NULL);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_writeback_modes)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	pgc_page *p = cached(&f, 4), *orig = p;
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_start_writeback(p), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	int status;
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_ASYNC,
					   PGC_MR_SYSCALL, &status, NULL), 1);
	ck_assert_int_eq(status, -EBUSY);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC_LIGHT,
					   PGC_MR_SYSCALL, &status, NULL), 1);
	ck_assert_int_eq(status, -EBUSY);
	ck_assert_ptr_eq(p, orig);
	/* Sync waits for the writeback to end. */
	struct delayed d = {p, 1, 50};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, delayed_run, &d), 0);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, &status, NULL), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(status, 0);
	ck_assert(!pgc_page_test_flag(p, PGC_PG_WRITEBACK));
	check_page(&f, 4, p, NULL);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

/* Dirties page idx with a pattern and returns it (with a reference). */
static pgc_page *dirty_page(struct fx *f, uint64_t idx, unsigned char *pattern)
{
	pgc_page *p = cached(f, idx);
	memset(pattern, (int)(0x40 + idx), f->ps);
	pgc_page_lock(p);
	memcpy(pgc_page_data(p), pattern, f->ps);
	ck_assert_int_eq(pgc_page_set_dirty(p), 1);
	pgc_page_unlock(p);
	return p;
}

START_TEST(migrate_dirty_default_writes_out)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	unsigned char *pat = malloc(f.ps);
	pgc_page *p = dirty_page(&f, 7, pat), *orig = p;
	int status;
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	/* Not sync: a dirty page of a mapping without migratepage is busy, for good. */
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC_LIGHT,
					   PGC_MR_SYSCALL, &status, &st), 1);
	ck_assert_int_eq(status, -EBUSY);
	ck_assert_uint_eq(st.passes, 1);
	ck_assert_int_eq(atomic_load(&f.s.writepages), 0);
	/* A failing writeout: -EIO, the page stays dirty and in place. */
	atomic_store(&f.s.write_err, -ENOSPC);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, &status, NULL), 1);
	ck_assert_int_eq(status, -EIO);
	ck_assert_ptr_eq(p, orig);
	ck_assert(pgc_page_test_flag(p, PGC_PG_DIRTY));
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	/* Sync: written out, then moved clean. */
	atomic_store(&f.s.write_err, 0);
	int w0 = atomic_load(&f.s.writepages);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, &status, NULL), 0);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(atomic_load(&f.s.writepages), w0 + 1);
	ck_assert_ptr_ne(p, orig);
	ck_assert(!pgc_page_test_flag(p, PGC_PG_DIRTY));
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_mem_eq(f.s.data + 7 * f.ps, pat, f.ps);
	check_page(&f, 7, p, pat);
	pgc_page_put(p);
	free(pat);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_dirty_with_migratepage)
{
	struct fx f;
	fx_init(&f, 64, OPS_MIGRATE);
	unsigned char *pat = malloc(f.ps);
	pgc_page *p = dirty_page(&f, 9, pat), *orig = p;
	int status;
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_ASYNC,
					   PGC_MR_SYSCALL, &status, NULL), 0);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_ne(p, orig);
	ck_assert_int_eq(atomic_load(&f.s.writepages), 0);
	ck_assert(pgc_page_test_flag(p, PGC_PG_DIRTY));
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	struct pgc_stats cs;
	pgc_test_stats(f.cache, &cs);
	ck_assert_uint_eq(cs.dirty, 1);
	check_page(&f, 9, p, pat);
	/* The dirty set names the new page: writeback writes its data. */
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(atomic_load(&f.s.writepages), 1);
	ck_assert_mem_eq(f.s.data + 9 * f.ps, pat, f.ps);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	pgc_page_put(p);
	free(pat);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_fail_migrate_page)
{
	struct fx f;
	fx_init(&f, 64, OPS_FAIL);
	pgc_page *p = cached(&f, 1), *orig = p;
	int status;
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, &status, NULL), 1);
	ck_assert_int_eq(status, -EIO);
	ck_assert_ptr_eq(p, orig);
	check_page(&f, 1, p, NULL);
	ck_assert(pgc_page_test_flag(p, PGC_PG_LRU));
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_enomem_stops)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	pgc_page *pages[2] = {cached(&f, 1), cached(&f, 2)};
	pgc_page *orig[2] = {pages[0], pages[1]};
	int status[2];
	ck_assert_int_eq(pgc_migrate_pages(pages, 2, new_page_none, NULL, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, status, NULL), -ENOMEM);
	ck_assert_int_eq(status[0], -ENOMEM);
	ck_assert_int_eq(status[1], -ENOMEM);
	ck_assert_ptr_eq(pages[0], orig[0]);
	ck_assert_ptr_eq(pages[1], orig[1]);
	check_page(&f, 1, pages[0], NULL);
	check_page(&f, 2, pages[1], NULL);
	pgc_page_put(pages[0]);
	pgc_page_put(pages[1]);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_private_value_moves)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	pgc_page *p = cached(&f, 2), *orig = p;
	pgc_page_lock(p);
	ck_assert_int_eq(pgc_page_set_private(p, 0xfeed), 0);
	pgc_page_unlock(p);
	int status;
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, &status, NULL), 0);
	ck_assert_ptr_ne(p, orig);
	ck_assert(pgc_page_test_flag(p, PGC_PG_PRIVATE));
	ck_assert_uint_eq(pgc_page_private(p), 0xfeed);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_clpage_handle_follows)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	pgc_clpage *clp;
	ck_assert_int_eq(pgc_clpage_find(f.m, 11, 0, &clp), 0);
	pgc_page *p = pgc_clpage_vmpage(clp), *orig;
	pgc_page_get(p);
	orig = p;
	/* A handle in use (referenced by an I/O) keeps its page in place. */
	int status;
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, &status, NULL), 1);
	ck_assert_int_eq(status, -EBUSY);
	ck_assert_ptr_eq(pgc_clpage_vmpage(clp), orig);
	/* Idle, it moves with the page. */
	pgc_clpage_put(clp);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, &status, NULL), 0);
	ck_assert_ptr_ne(p, orig);
	pgc_clpage *again;
	ck_assert_int_eq(pgc_clpage_find(f.m, 11, 0, &again), 0);
	ck_assert_ptr_eq(again, clp); /* the same handle, found through the new page */
	ck_assert_ptr_eq(pgc_clpage_vmpage(again), p);
	pgc_io *io;
	ck_assert_int_eq(pgc_io_create(f.m, 0, &io), 0);
	ck_assert_int_eq(pgc_clpage_own(io, again), 0);
	ck_assert(pgc_page_test_flag(p, PGC_PG_LOCKED));
	ck_assert_int_eq(pgc_clpage_disown(io, again), 0);
	ck_assert_int_eq(pgc_io_destroy(io), 0);
	pgc_clpage_put(again);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

START_TEST(migrate_bad_arguments)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	pgc_page *p = cached(&f, 0);
	ck_assert_int_eq(pgc_migrate_pages(NULL, 1, new_page_node0, f.cache, 0, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, NULL, f.cache, 0, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, 3, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_page_node0, f.cache, 0, PGC_MR_NR_REASONS,
					   NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgc_migrate_pages(&p, 0, new_page_node0, f.cache, 0, 0, NULL, NULL), 0);
	/* pgc_migrate_page outside a migration. */
	pgc_page *n;
	ck_assert_int_eq(pgc_page_alloc(f.cache, PGC_NODE_ANY, 0, &n), 0);
	ck_assert_int_eq(pgc_migrate_page(f.m, n, p, PGC_MIGRATE_SYNC), -EINVAL);
	ck_assert_int_eq(pgc_fail_migrate_page(f.m, n, p, PGC_MIGRATE_SYNC), -EIO);
	pgc_page_put(n);
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_cache_migrate_stats(NULL, 0, &st), -EINVAL);
	ck_assert_int_eq(pgc_cache_migrate_stats(f.cache, -1, &st), -EINVAL);
	ck_assert_int_eq(pgc_cache_migrate_stats(f.cache, 0, NULL), -EINVAL);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

/* ---- the reference protocol under concurrent lookups and writes ------------ */

struct race {
	struct fx *f;
	atomic_int stop;
	atomic_ulong lookups;
	struct pgc_tfail fail;
	uint64_t seed;
	unsigned npages;
};

/* Every page's words hold its index; readers check that, writers keep it. */
static void *race_reader(void *arg)
{
	struct race *r = arg;
	struct pgc_rng rng = {r->seed};
	while (!atomic_load(&r->stop) && !atomic_load(&r->fail.failed)) {
		uint64_t idx = pgc_rng_below(&rng, r->npages);
		pgc_page *p;
		int err = pgc_mapping_find(r->f->m, idx, &p);
		if (!TCHECK(&r->fail, err == 0, "lookup of %" PRIu64 " during migration: %d", idx, err))
			break;
		/* Writers hold the page lock, so a reader of raw data takes it too. */
		uint64_t v;
		pgc_page_lock(p);
		memcpy(&v, (char *)pgc_page_data(p) + (pgc_rng_below(&rng, r->f->ps / 8) * 8), 8);
		pgc_page_unlock(p);
		TCHECK(&r->fail, v == idx, "page %" PRIu64 " holds %" PRIu64, idx, v);
		TCHECK(&r->fail, pgc_page_index(p) == idx, "found page has index %" PRIu64,
		       pgc_page_index(p));
		pgc_page_put(p);
		atomic_fetch_add(&r->lookups, 1);
	}
	return NULL;
}

static void *race_writer(void *arg)
{
	struct race *r = arg;
	struct pgc_rng rng = {r->seed ^ 0x5555};
	unsigned char *buf = malloc(r->f->ps);
	while (!atomic_load(&r->stop) && !atomic_load(&r->fail.failed)) {
		uint64_t idx = pgc_rng_below(&rng, r->npages);
		for (size_t k = 0; k < r->f->ps; k += 8)
			memcpy(buf + k, &idx, 8);
		ssize_t n = pgc_write(r->f->m, buf, r->f->ps, idx * r->f->ps, 0);
		TCHECK(&r->fail, n == (ssize_t)r->f->ps, "write = %zd", n);
	}
	free(buf);
	return NULL;
}

START_TEST(migrate_races_lookups_and_writes)
{
	struct fx f;
	fx_init(&f, 512, OPS_MIGRATE);
	struct race r = {.f = &f, .npages = 128, .seed = pgc_test_seed_for("migrate_races")};
	printf("migrate: races seed %" PRIu64 "\n", r.seed);
	unsigned char *buf = malloc(f.ps);
	for (uint64_t i = 0; i < r.npages; i++) {
		for (size_t k = 0; k < f.ps; k += 8)
			memcpy(buf + k, &i, 8);
		ck_assert_int_eq(pgc_write(f.m, buf, f.ps, i * f.ps, 0), (ssize_t)f.ps);
	}
	pthread_t th[2];
	ck_assert_int_eq(pthread_create(&th[0], NULL, race_reader, &r), 0);
	ck_assert_int_eq(pthread_create(&th[1], NULL, race_writer, &r), 0);
	unsigned rounds = (unsigned)pgc_test_scaled(200, 10);
	uint64_t moved = 0, busy = 0;
	pgc_page **pages = malloc(r.npages * sizeof(*pages));
	int *status = malloc(r.npages * sizeof(int));
	for (unsigned round = 0; round < rounds && !atomic_load(&r.fail.failed); round++) {
		for (uint64_t i = 0; i < r.npages; i++)
			ck_assert_int_eq(pgc_mapping_find(f.m, i, &pages[i]), 0);
		int mode = (int)(round % 3);
		long left = pgc_migrate_pages(pages, r.npages, new_page_node0, f.cache, mode,
					      PGC_MR_NUMA_MISPLACED, status, NULL);
		ck_assert_int_ge(left, 0);
		for (uint64_t i = 0; i < r.npages; i++) {
			ck_assert_msg(status[i] == 0 || status[i] == -EBUSY, "status %d", status[i]);
			moved += status[i] == 0;
			busy += status[i] != 0;
			pgc_page_put(pages[i]);
		}
	}
	atomic_store(&r.stop, 1);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&r.fail);
	printf("migrate: races %u rounds, %" PRIu64 " pages moved, %" PRIu64 " busy, %lu lookups\n",
	       rounds, moved, busy, atomic_load(&r.lookups));
	ck_assert_uint_gt(moved, 0);
	/* Nothing lost: every page holds its index, in the cache and after a flush. */
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	for (uint64_t i = 0; i < r.npages; i++) {
		ck_assert_int_eq(pgc_read(f.m, buf, f.ps, i * f.ps), (ssize_t)f.ps);
		for (size_t k = 0; k < f.ps; k += 8)
			ck_assert_mem_eq(buf + k, &i, 8);
		ck_assert_mem_eq(f.s.data + i * f.ps, buf, f.ps);
	}
	free(pages);
	free(status);
	free(buf);
	fx_fini(&f);
}
END_TEST

/* ---- move_pages and whole sets on one node ------------------------------- */

START_TEST(move_pages_query_and_errors)
{
	struct fx f;
	fx_init(&f, 64, OPS_DEFAULT);
	int node = pgc_test_first_node(f.cache);
	pgc_page *gone = cached(&f, 3);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 3 * f.ps), 0); /* page 3 leaves; we hold it */
	void *bogus = aligned_alloc(64, 64);
	pgc_page *pages[4] = {cached(&f, 0), gone, (pgc_page *)bogus, cached(&f, 1)};
	int status[4];
	ck_assert_int_eq(pgc_move_pages(f.cache, 4, pages, NULL, status, 0), 0);
	ck_assert_int_eq(status[0], node);
	ck_assert_int_eq(status[1], -ENOENT);
	ck_assert_int_eq(status[2], -EFAULT);
	ck_assert_int_eq(status[3], node);
	/* The kernel agrees on where the frames are. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 4, pages, NULL, status, PGC_MOVE_QUERY_KERNEL), 0);
	ck_assert_int_eq(status[0], node);
	ck_assert_int_eq(status[3], node);
	ck_assert_int_eq(pgc_page_kernel_node(pages[0]), node);
	/* Moving to where they are: nothing to do, status says the node. */
	int nodes[4] = {node, node, node, node};
	ck_assert_int_eq(pgc_move_pages(f.cache, 4, pages, nodes, status, 0), 2);
	ck_assert_int_eq(status[0], node);
	ck_assert_int_eq(status[1], -ENOENT);
	ck_assert_int_eq(status[2], -EFAULT);
	ck_assert_int_eq(status[3], node);
	/* Call errors. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 4, pages, nodes, status, 0x100), -EINVAL);
	ck_assert_int_eq(pgc_move_pages(NULL, 4, pages, nodes, status, 0), -EINVAL);
	ck_assert_int_eq(pgc_move_pages(f.cache, 4, pages, nodes, NULL, 0), -EINVAL);
	int far[4] = {node, 4000, node, node};
	ck_assert_int_eq(pgc_move_pages(f.cache, 4, pages, far, status, 0), -ENODEV);
	far[1] = -3;
	ck_assert_int_eq(pgc_move_pages(f.cache, 4, pages, far, status, 0), -ENODEV);
	ck_assert_int_eq(pgc_move_pages(f.cache, 0, NULL, NULL, NULL, 0), 0);
	int from = node, to = 4000;
	ck_assert_int_eq(pgc_migrate_nodes(f.cache, NULL, &from, &to, 1, 0, PGC_MR_DRAIN, NULL), -ENODEV);
	ck_assert_int_eq(pgc_migrate_nodes(f.cache, NULL, &from, &from, 1, 0x80, PGC_MR_DRAIN, NULL), -EINVAL);
	ck_assert_int_eq(pgc_migrate_nodes(f.cache, NULL, &from, &from, 1, 0, PGC_MR_DRAIN, NULL), 0);
	free(bogus);
	pgc_page_put(pages[0]);
	pgc_page_put(pages[3]);
	pgc_page_put(gone);
	fx_fini(&f);
}
END_TEST

START_TEST(move_pages_inplace_needs_base_pages)
{
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 64;
	cfg.huge_pages = 1;
	pgc_cache *c;
	ck_assert_int_eq(pgc_cache_create(&cfg, &c), 0);
	pgc_page *p;
	ck_assert_int_eq(pgc_page_alloc(c, PGC_NODE_ANY, 0, &p), 0);
	int node = pgc_page_node(p), status;
	ck_assert_int_eq(pgc_move_pages(c, 1, &p, &node, &status, PGC_MOVE_INPLACE), -EOPNOTSUPP);
	ck_assert_int_eq(pgc_migrate_nodes(c, NULL, &node, &node, 1, PGC_MOVE_INPLACE, 0, NULL),
			 -EOPNOTSUPP);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
}
END_TEST

static Suite *migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	PGC_ADD(s, migrate_clean_pages, 10);
	PGC_ADD(s, migrate_large_batch_threaded_copy, 60);
	PGC_ADD(s, migrate_extra_reference_busy, 10);
	PGC_ADD(s, migrate_exact_counts_across_passes, 10);
	PGC_ADD(s, migrate_locked_page_modes, 10);
	PGC_ADD(s, migrate_writeback_modes, 10);
	PGC_ADD(s, migrate_dirty_default_writes_out, 10);
	PGC_ADD(s, migrate_dirty_with_migratepage, 10);
	PGC_ADD(s, migrate_fail_migrate_page, 10);
	PGC_ADD(s, migrate_enomem_stops, 10);
	PGC_ADD(s, migrate_private_value_moves, 10);
	PGC_ADD(s, migrate_clpage_handle_follows, 10);
	PGC_ADD(s, migrate_bad_arguments, 10);
	PGC_ADD(s, migrate_races_lookups_and_writes, 120);
	PGC_ADD(s, move_pages_query_and_errors, 10);
	PGC_ADD(s, move_pages_inplace_needs_base_pages, 10);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, migrate_suite());
}
