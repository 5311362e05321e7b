/*
 * Suite "mapping": the page index of one object and its owner's operations
 * (mapping.h) — lookups, find-or-create, insert, delete, truncate, dirty
 * tracking, writeback, read_page and invalidate.
 */
#define _GNU_SOURCE
#include "pgc_test.h"

/* ---- A recording owner: the ops below find it through pgc_mapping_owner(). ---- */

#define MAX_CALLS 256
#define BACKING_PAGES 64

struct inv_call {
	pgc_page *page;
	uint64_t index;
	size_t offset, length;
	int locked;
	int private_set;
	pgc_mapping *mapping;
};

struct wp_call {
	uint64_t index;
	int locked, dirty, writeback;
	struct pgc_writeback_control *wbc;
};

struct rec {
	pthread_mutex_t lock;
	size_t ps;
	unsigned char *backing; /* BACKING_PAGES pages */
	int readpage_calls, readpage_err, readpage_delay_ms;
	int readpage_locked, readpage_uptodate; /* state seen by the last call */
	int writepage_calls, writepage_err;
	struct wp_call wp[MAX_CALLS];
	int releasepage_calls, release_allow, releasepage_unlocked;
	int nr_inv;
	struct inv_call inv[MAX_CALLS];
	int set_dirty_calls, set_dirty_ret;
};

static void rec_init(struct rec *r, size_t ps)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->lock, NULL);
	r->ps = ps;
	r->backing = calloc(BACKING_PAGES, ps);
	ck_assert_ptr_nonnull(r->backing);
}

static void rec_fini(struct rec *r)
{
	free(r->backing);
	pthread_mutex_destroy(&r->lock);
}

static unsigned char stamp_byte(uint64_t index)
{
	return (unsigned char)(index * 7 + 1);
}

static int op_readpage(pgc_mapping *m, pgc_page *p)
{
	struct rec *r = pgc_mapping_owner(m);
	uint64_t idx = pgc_page_index(p);
	if (r->readpage_delay_ms)
		pgc_test_sleep_ms((unsigned)r->readpage_delay_ms);
	pthread_mutex_lock(&r->lock);
	r->readpage_calls++;
	r->readpage_locked = pgc_page_test_flag(p, PGC_PG_LOCKED);
	r->readpage_uptodate = pgc_page_test_flag(p, PGC_PG_UPTODATE);
	int err = r->readpage_err;
	pthread_mutex_unlock(&r->lock);
	if (err)
		return err;
	if (idx < BACKING_PAGES)
		memcpy(pgc_page_data(p), r->backing + idx * r->ps, r->ps);
	else
		memset(pgc_page_data(p), stamp_byte(idx), r->ps);
	return 0;
}

static int op_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	struct rec *r = pgc_mapping_owner(m);
	uint64_t idx = pgc_page_index(p);
	pthread_mutex_lock(&r->lock);
	if (r->writepage_calls < MAX_CALLS) {
		struct wp_call *c = &r->wp[r->writepage_calls];
		c->index = idx;
		c->locked = pgc_page_test_flag(p, PGC_PG_LOCKED);
		c->dirty = pgc_page_test_flag(p, PGC_PG_DIRTY);
		c->writeback = pgc_page_test_flag(p, PGC_PG_WRITEBACK);
		c->wbc = wbc;
	}
	r->writepage_calls++;
	int err = r->writepage_err;
	pthread_mutex_unlock(&r->lock);
	if (err)
		return err;
	if (idx < BACKING_PAGES)
		memcpy(r->backing + idx * r->ps, pgc_page_data(p), r->ps);
	return 0;
}

static int op_releasepage(pgc_mapping *m, pgc_page *p)
{
	struct rec *r = pgc_mapping_owner(m);
	pthread_mutex_lock(&r->lock);
	r->releasepage_calls++;
	if (pgc_page_test_flag(p, PGC_PG_LOCKED) != 1)
		r->releasepage_unlocked++;
	int allow = r->release_allow;
	pthread_mutex_unlock(&r->lock);
	if (!allow)
		return 0;
	return pgc_page_clear_private(p, NULL) == 0;
}

static void op_invalidatepage(pgc_mapping *m, pgc_page *p, size_t offset, size_t length)
{
	struct rec *r = pgc_mapping_owner(m);
	pthread_mutex_lock(&r->lock);
	if (r->nr_inv < MAX_CALLS) {
		struct inv_call *c = &r->inv[r->nr_inv];
		c->page = p;
		c->index = pgc_page_index(p);
		c->offset = offset;
		c->length = length;
		c->locked = pgc_page_test_flag(p, PGC_PG_LOCKED);
		c->private_set = pgc_page_test_flag(p, PGC_PG_PRIVATE);
		c->mapping = pgc_page_mapping(p);
	}
	r->nr_inv++;
	pthread_mutex_unlock(&r->lock);
}

static int op_set_page_dirty(pgc_mapping *m, pgc_page *p)
{
	struct rec *r = pgc_mapping_owner(m);
	(void)p;
	pthread_mutex_lock(&r->lock);
	r->set_dirty_calls++;
	int ret = r->set_dirty_ret;
	pthread_mutex_unlock(&r->lock);
	/* 2: accept, marking the page the way an owner does. */
	return ret == 2 ? pgc_mapping_account_dirty(p) : ret;
}

static const struct pgc_mapping_ops full_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = op_readpage,
	.writepage = op_writepage,
	.releasepage = op_releasepage,
	.invalidatepage = op_invalidatepage,
};

/* ---- Helpers ---- */

static pgc_mapping *new_mapping(pgc_cache *cache, const struct pgc_mapping_ops *ops, void *owner,
				uint64_t size)
{
	pgc_mapping *m = NULL;
	int ret = pgc_mapping_create(cache, ops, owner, size, &m);
	ck_assert_msg(ret == 0, "pgc_mapping_create = %d (%s)", ret, pgc_strerror(ret));
	ck_assert_ptr_nonnull(m);
	return m;
}

/* Creates page idx filled with byte, UPTODATE, unlocked; returns nothing held. */
static void create_page(pgc_mapping *m, uint64_t idx, int byte)
{
	pgc_page *p = NULL;
	int ret = pgc_mapping_find_or_create(m, idx, 0, &p);
	ck_assert_msg(ret == 0, "find_or_create(%" PRIu64 ") = %d (%s)", idx, ret, pgc_strerror(ret));
	memset(pgc_page_data(p), byte, pgc_cache_page_size(pgc_mapping_cache(m)));
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
}

static void make_dirty(pgc_mapping *m, uint64_t idx)
{
	pgc_page *p = NULL;
	ck_assert_int_eq(pgc_mapping_find_lock(m, idx, &p), 0);
	ck_assert_int_eq(pgc_page_set_dirty(p), 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
}

static int present(pgc_mapping *m, uint64_t idx)
{
	pgc_page *p = NULL;
	int ret = pgc_mapping_find(m, idx, &p);
	if (ret == 0) {
		ck_assert_uint_eq(pgc_page_index(p), idx);
		ck_assert_ptr_eq(pgc_page_mapping(p), m);
		pgc_page_put(p);
		return 1;
	}
	ck_assert_int_eq(ret, -ENOENT);
	ck_assert_ptr_null(p);
	return 0;
}

static pgc_page *get_page(pgc_mapping *m, uint64_t idx)
{
	pgc_page *p = NULL;
	ck_assert_msg(pgc_mapping_find(m, idx, &p) == 0, "page %" PRIu64 " missing", idx);
	return p;
}

static int all_bytes(const unsigned char *d, size_t from, size_t to, unsigned char v)
{
	for (size_t i = from; i < to; i++)
		if (d[i] != v)
			return 0;
	return 1;
}

/* ---- Creation ---- */

START_TEST(create_destroy)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	int owner;
	pgc_mapping *m = new_mapping(cache, NULL, &owner, 12345);

	ck_assert_ptr_eq(pgc_mapping_owner(m), &owner);
	ck_assert_ptr_eq(pgc_mapping_cache(m), cache);
	ck_assert_uint_eq(pgc_mapping_size(m), 12345);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	ck_assert_int_eq(pgc_mapping_set_size(m, 1 << 30), 0);
	ck_assert_uint_eq(pgc_mapping_size(m), 1 << 30);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);

	/* With an ops table; the table is copied. */
	struct rec r;
	rec_init(&r, pgc_cache_page_size(cache));
	struct pgc_mapping_ops ops = full_ops;
	m = new_mapping(cache, &ops, &r, 0);
	memset(&ops, 0, sizeof ops);
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_read_page(m, 100, &p), 0);
	ck_assert_int_eq(r.readpage_calls, 1);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	rec_fini(&r);

	ck_assert_int_eq(pgc_mapping_destroy(NULL), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(create_bad_args)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m;

	m = (pgc_mapping *)&m;
	ck_assert_int_eq(pgc_mapping_create(NULL, NULL, NULL, 0, &m), -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(pgc_mapping_create(cache, NULL, NULL, 0, NULL), -EINVAL);

	struct pgc_mapping_ops ops = { .size = 0 };
	m = (pgc_mapping *)&m;
	ck_assert_int_eq(pgc_mapping_create(cache, &ops, NULL, 0, &m), -EINVAL);
	ck_assert_ptr_null(m);

	/* A larger table from a newer caller: fine if the extra bytes are 0. */
	struct {
		struct pgc_mapping_ops ops;
		uint64_t extra[2];
	} big;
	memset(&big, 0, sizeof big);
	big.ops.size = sizeof big;
	ck_assert_int_eq(pgc_mapping_create(cache, &big.ops, NULL, 0, &m), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	big.extra[1] = 1;
	m = (pgc_mapping *)&m;
	ck_assert_int_eq(pgc_mapping_create(cache, &big.ops, NULL, 0, &m), -E2BIG);
	ck_assert_ptr_null(m);

	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(accessors_null)
{
	ck_assert_ptr_null(pgc_mapping_owner(NULL));
	ck_assert_ptr_null(pgc_mapping_cache(NULL));
	ck_assert_uint_eq(pgc_mapping_size(NULL), 0);
	ck_assert_int_eq(pgc_mapping_set_size(NULL, 5), -EINVAL);
	ck_assert_uint_eq(pgc_mapping_nr_pages(NULL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(NULL), 0);
}
END_TEST

/* ---- Lookups ---- */

START_TEST(find_miss)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = (pgc_page *)&p;

	ck_assert_int_eq(pgc_mapping_find(m, 0, &p), -ENOENT);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_mapping_find(m, UINT64_MAX, &p), -ENOENT);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_mapping_find_lock(m, 3, &p), -ENOENT);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(find_or_create_new_page)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = NULL, *q = NULL;

	ck_assert_int_eq(pgc_mapping_find_or_create(m, 42, 0, &p), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 0);
	ck_assert_uint_eq(pgc_page_index(p), 42);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_ptr_eq(pgc_page_cache(p), cache);
	ck_assert_int_eq(pgc_page_refcount(p), 2); /* caller + mapping */
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	/* In a mapping: on an LRU list. */
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LRU), 1);
	memset(pgc_page_data(p), 0x42, pgc_cache_page_size(cache));
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);

	/* Found again: the same page, with another reference. */
	ck_assert_int_eq(pgc_mapping_find(m, 42, &q), 0);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(pgc_page_refcount(p), 3);
	ck_assert_int_eq(pgc_page_test_flag(q, PGC_PG_LOCKED), 0);
	ck_assert_int_eq(((unsigned char *)pgc_page_data(q))[0], 0x42);
	pgc_page_put(q);

	/* find_or_create of an existing page returns it locked, creating nothing. */
	struct pgc_stats st0, st;
	pgc_test_stats(cache, &st0);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 42, 0, &q), 0);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(pgc_page_test_flag(q, PGC_PG_LOCKED), 1);
	ck_assert_int_eq(pgc_page_test_flag(q, PGC_PG_UPTODATE), 1);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.inserts, st0.inserts);
	ck_assert_uint_eq(st.resident, st0.resident);
	ck_assert_int_eq(pgc_page_unlock(q), 0);
	pgc_page_put(q);

	/* NOWAIT creates too when there is room and nothing is locked. */
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 43, PGC_FIND_NOWAIT, &q), 0);
	ck_assert_int_eq(pgc_page_test_flag(q, PGC_PG_LOCKED), 1);
	ck_assert_uint_eq(pgc_page_index(q), 43);
	ck_assert_int_eq(pgc_page_unlock(q), 0);
	pgc_page_put(q);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 2);

	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(find_or_create_nowait_locked)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = NULL, *q;

	ck_assert_int_eq(pgc_mapping_find_or_create(m, 7, 0, &p), 0);
	/* The first holder keeps the page locked. */
	q = (pgc_page *)&q;
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 7, PGC_FIND_NOWAIT, &q), -EAGAIN);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);

	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 7, PGC_FIND_NOWAIT, &q), 0);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(pgc_page_unlock(q), 0);
	pgc_page_put(q);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

struct finder {
	pgc_mapping *m;
	uint64_t index;
	int mode; /* 0: find_or_create, 1: find_lock, 2: read_page */
	atomic_int started, done;
	atomic_int filled; /* set by the creator before it unlocks */
	int ret;
	pgc_page *page;
	int filled_seen, uptodate_seen, locked_seen;
	unsigned char byte_seen;
};

static void *finder_fn(void *arg)
{
	struct finder *f = arg;
	atomic_store(&f->started, 1);
	f->page = NULL;
	if (f->mode == 0)
		f->ret = pgc_mapping_find_or_create(f->m, f->index, 0, &f->page);
	else if (f->mode == 1)
		f->ret = pgc_mapping_find_lock(f->m, f->index, &f->page);
	else
		f->ret = pgc_mapping_read_page(f->m, f->index, &f->page);
	f->filled_seen = atomic_load(&f->filled);
	if (f->ret == 0) {
		f->uptodate_seen = pgc_page_test_flag(f->page, PGC_PG_UPTODATE);
		f->locked_seen = pgc_page_test_flag(f->page, PGC_PG_LOCKED);
		f->byte_seen = ((unsigned char *)pgc_page_data(f->page))[0];
	}
	atomic_store(&f->done, 1);
	return NULL;
}

static void start_finder(pthread_t *t, struct finder *f)
{
	ck_assert_int_eq(pthread_create(t, NULL, finder_fn, f), 0);
	while (!atomic_load(&f->started))
		pgc_test_sleep_ms(1);
	pgc_test_sleep_ms(100); /* let it block */
}

START_TEST(find_or_create_waits_for_creator)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = NULL;
	struct finder f = { .m = m, .index = 9, .mode = 0 };
	pthread_t t;

	ck_assert_int_eq(pgc_mapping_find_or_create(m, 9, 0, &p), 0);
	start_finder(&t, &f);
	ck_assert_int_eq(atomic_load(&f.done), 0);
	/* Fill, then publish. */
	memset(pgc_page_data(p), 0x99, pgc_cache_page_size(cache));
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	atomic_store(&f.filled, 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);

	ck_assert_int_eq(f.ret, 0);
	ck_assert_ptr_eq(f.page, p);
	ck_assert_int_eq(f.filled_seen, 1);
	ck_assert_int_eq(f.uptodate_seen, 1);
	ck_assert_int_eq(f.locked_seen, 1);
	ck_assert_int_eq(f.byte_seen, 0x99);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	ck_assert_int_eq(pgc_page_unlock(f.page), 0);
	pgc_page_put(f.page);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(find_or_create_bad_args)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p;

	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 1, 0x100, &p), -EINVAL);
	ck_assert_ptr_null(p);
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_mapping_find_or_create(NULL, 1, 0, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 1, 0, NULL), -EINVAL);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(find_sets_referenced)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p;

	create_page(m, 5, 1);
	p = get_page(m, 5);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_REFERENCED), 1);
	ck_assert_int_eq(pgc_page_clear_flag(p, PGC_PG_REFERENCED), 0);
	pgc_page *q = get_page(m, 5);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_REFERENCED), 1);
	pgc_page_put(q);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(find_lock_basic)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = NULL;

	create_page(m, 3, 0x33);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 3, &p), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_uint_eq(pgc_page_index(p), 3);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	ck_assert_int_eq(pgc_page_trylock(p), -EBUSY);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(find_lock_retries_after_delete)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = NULL;
	struct finder f = { .m = m, .index = 4, .mode = 1 };
	pthread_t t;

	create_page(m, 4, 0x44);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 4, &p), 0);
	start_finder(&t, &f);
	ck_assert_int_eq(atomic_load(&f.done), 0);
	/* The page leaves while the finder waits for its lock. */
	ck_assert_int_eq(pgc_mapping_delete(p), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);

	ck_assert_int_eq(f.ret, -ENOENT);
	ck_assert_ptr_null(f.page);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(find_lock_gets_replacement)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = NULL, *n = NULL;
	struct finder f = { .m = m, .index = 4, .mode = 1 };
	pthread_t t;

	create_page(m, 4, 0x44);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 4, &p), 0);
	start_finder(&t, &f);
	ck_assert_int_eq(atomic_load(&f.done), 0);
	/* Replace the page at index 4 while the finder waits on the old one. */
	ck_assert_int_eq(pgc_mapping_delete(p), 0);
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &n), 0);
	memset(pgc_page_data(n), 0x55, pgc_cache_page_size(cache));
	ck_assert_int_eq(pgc_mapping_insert(m, n, 4), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);

	ck_assert_int_eq(f.ret, 0);
	ck_assert_ptr_eq(f.page, n);
	ck_assert_int_eq(f.locked_seen, 1);
	ck_assert_int_eq(f.byte_seen, 0x55);
	ck_assert_ptr_eq(pgc_page_mapping(f.page), m);
	ck_assert_int_eq(pgc_page_unlock(f.page), 0);
	pgc_page_put(f.page);
	pgc_page_put(n);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

/* ---- Insert and delete ---- */

START_TEST(insert_and_eexist)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p, *q, *f;
	struct pgc_stats st0, st;

	pgc_test_stats(cache, &st0);
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), 0);
	ck_assert_int_eq(pgc_page_lock(p), 0);
	memset(pgc_page_data(p), 0x11, pgc_cache_page_size(cache));
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_eq(pgc_mapping_insert(m, p, 5), 0);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_uint_eq(pgc_page_index(p), 5);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1); /* insert keeps the lock */
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LRU), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ACTIVE), 0); /* inactive list */
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.inserts, st0.inserts + 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);

	ck_assert_int_eq(pgc_mapping_find(m, 5, &f), 0);
	ck_assert_ptr_eq(f, p);
	pgc_page_put(f);

	/* Another page at the same index. */
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &q), 0);
	ck_assert_int_eq(pgc_mapping_insert(m, q, 5), -EEXIST);
	ck_assert_ptr_null(pgc_page_mapping(q));
	ck_assert_int_eq(pgc_page_refcount(q), 1);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	ck_assert_int_eq(pgc_mapping_find(m, 5, &f), 0);
	ck_assert_ptr_eq(f, p);
	pgc_page_put(f);
	/* It goes in elsewhere, unlocked too. */
	ck_assert_int_eq(pgc_mapping_insert(m, q, 6), 0);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 2);
	pgc_page_put(q);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(insert_page_in_mapping_or_other_cache)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_cache *other = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_mapping *m2 = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p, *o;

	create_page(m, 1, 0);
	p = get_page(m, 1);
	ck_assert_int_eq(pgc_mapping_insert(m, p, 2), -EINVAL);
	ck_assert_int_eq(pgc_mapping_insert(m2, p, 1), -EINVAL);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_uint_eq(pgc_page_index(p), 1);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m2), 0);
	ck_assert_int_eq(present(m, 2), 0);
	pgc_page_put(p);

	/* A page of another cache. */
	ck_assert_int_eq(pgc_page_alloc(other, PGC_NODE_ANY, 0, &o), 0);
	ck_assert_int_eq(pgc_mapping_insert(m, o, 9), -EINVAL);
	ck_assert_ptr_null(pgc_page_mapping(o));
	ck_assert_int_eq(present(m, 9), 0);
	pgc_page_put(o);

	ck_assert_int_eq(pgc_mapping_destroy(m2), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(other), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(delete_page)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p;
	struct pgc_stats st0, st;

	create_page(m, 8, 0x88);
	p = get_page(m, 8);
	/* Unlocked: refused. */
	ck_assert_int_eq(pgc_mapping_delete(p), -EINVAL);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_int_eq(present(m, 8), 1);

	pgc_test_stats(cache, &st0);
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_refcount(p), 2);
	ck_assert_int_eq(pgc_mapping_delete(p), 0);
	ck_assert_ptr_null(pgc_page_mapping(p));
	ck_assert_int_eq(pgc_page_refcount(p), 1); /* the caller's remains */
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 0);
	ck_assert_int_eq(present(m, 8), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.deletes, st0.deletes + 1);
	/* The data is still the caller's to read. */
	ck_assert_int_eq(((unsigned char *)pgc_page_data(p))[0], 0x88);

	/* In no mapping: refused. */
	ck_assert_int_eq(pgc_mapping_delete(p), -EINVAL);
	ck_assert_int_eq(pgc_mapping_delete(NULL), -EINVAL);

	/* A page that left its mapping may be inserted again. */
	ck_assert_int_eq(pgc_mapping_insert(m, p, 9), 0);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_uint_eq(pgc_page_index(p), 9);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(present(m, 9), 1);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(delete_cancels_dirty)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p;
	struct pgc_stats st;

	create_page(m, 1, 0);
	make_dirty(m, 1);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 1);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 1);

	ck_assert_int_eq(pgc_mapping_find_lock(m, 1, &p), 0);
	ck_assert_int_eq(pgc_mapping_delete(p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);

	/* Nothing dirty is left, so the mapping can go. */
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(delete_under_writeback)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p;

	create_page(m, 1, 0);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 1, &p), 0);
	ck_assert_int_eq(pgc_page_start_writeback(p), 0);
	ck_assert_int_eq(pgc_mapping_delete(p), -EBUSY);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_int_eq(pgc_page_end_writeback(p), 0);
	ck_assert_int_eq(pgc_mapping_delete(p), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

/* ---- Truncate ---- */

START_TEST(truncate_partial_page)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 10 * ps);
	pgc_page *p3, *p8, *p6;
	struct pgc_stats st0, st;

	for (uint64_t i = 0; i < 10; i++)
		create_page(m, i, 0xab);
	/* Private values on the partial page (3) and on a dropped one (8). */
	ck_assert_int_eq(pgc_mapping_find_lock(m, 3, &p3), 0);
	ck_assert_int_eq(pgc_page_set_private(p3, 333), 0);
	ck_assert_int_eq(pgc_page_unlock(p3), 0);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 8, &p8), 0);
	ck_assert_int_eq(pgc_page_set_private(p8, 888), 0);
	ck_assert_int_eq(pgc_page_unlock(p8), 0);
	p6 = get_page(m, 6); /* held, no private value */

	pgc_test_stats(cache, &st0);
	ck_assert_int_eq(pgc_mapping_truncate(m, 3 * ps + 100), 0);
	ck_assert_uint_eq(pgc_mapping_size(m), 3 * ps + 100);

	/* Whole pages beyond the size are gone, the rest stay. */
	for (uint64_t i = 0; i < 10; i++)
		ck_assert_msg(present(m, i) == (i <= 3), "page %" PRIu64 " presence", i);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 4);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.deletes, st0.deletes + 6);

	/* The partial page: head kept, tail zeroed. */
	unsigned char *d = pgc_page_data(p3);
	ck_assert_msg(all_bytes(d, 0, 100, 0xab), "head of the partial page changed");
	ck_assert_msg(all_bytes(d, 100, ps, 0), "tail of the partial page not zeroed");
	ck_assert_ptr_eq(pgc_page_mapping(p3), m);
	/* Pages before it untouched. */
	pgc_page *p2 = get_page(m, 2);
	ck_assert_msg(all_bytes(pgc_page_data(p2), 0, ps, 0xab), "page 2 changed");
	pgc_page_put(p2);

	/* invalidatepage: (100, ps - 100) for the partial page, (0, ps) for page 8. */
	int seen3 = 0, seen8 = 0;
	ck_assert_int_le(r.nr_inv, MAX_CALLS);
	for (int i = 0; i < r.nr_inv; i++) {
		struct inv_call *c = &r.inv[i];
		ck_assert_msg(c->locked == 1, "invalidatepage(%" PRIu64 ") without the page lock",
			      c->index);
		ck_assert_msg(c->index >= 3, "invalidatepage on page %" PRIu64 " below the size",
			      c->index);
		if (c->page == p3) {
			seen3++;
			ck_assert_uint_eq(c->offset, 100);
			ck_assert_uint_eq(c->length, ps - 100);
		} else {
			ck_assert_msg(c->offset == 0 && c->length == ps,
				      "dropped page %" PRIu64 ": invalidatepage(%zu, %zu)", c->index,
				      c->offset, c->length);
			/* Called before the page leaves the mapping. */
			ck_assert_ptr_eq(c->mapping, m);
		}
		if (c->page == p8) {
			seen8++;
			ck_assert_int_eq(c->private_set, 1);
		}
	}
	ck_assert_int_eq(seen3, 1);
	ck_assert_int_eq(seen8, 1);

	/* Held pages left the mapping but stay readable until put. */
	ck_assert_ptr_null(pgc_page_mapping(p8));
	ck_assert_int_eq(pgc_page_test_flag(p8, PGC_PG_PRIVATE), 0); /* cleared on leaving */
	ck_assert_int_eq(pgc_page_refcount(p8), 1);
	ck_assert_msg(all_bytes(pgc_page_data(p8), 0, ps, 0xab), "held page 8 data changed");
	ck_assert_ptr_null(pgc_page_mapping(p6));
	ck_assert_int_eq(pgc_page_refcount(p6), 1);
	ck_assert_msg(all_bytes(pgc_page_data(p6), 0, ps, 0xab), "held page 6 data changed");
	pgc_page_put(p8);
	pgc_page_put(p6);
	pgc_page_put(p3);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(truncate_page_boundary)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 6 * ps);

	for (uint64_t i = 0; i < 6; i++)
		create_page(m, i, 0xcd);
	ck_assert_int_eq(pgc_mapping_truncate(m, 2 * ps), 0);
	for (uint64_t i = 0; i < 6; i++)
		ck_assert_msg(present(m, i) == (i < 2), "page %" PRIu64 " presence", i);
	pgc_page *p1 = get_page(m, 1);
	ck_assert_msg(all_bytes(pgc_page_data(p1), 0, ps, 0xcd), "last whole page was changed");
	pgc_page_put(p1);
	/* No partial page: no call with a length below the page size. */
	for (int i = 0; i < r.nr_inv; i++)
		ck_assert_uint_eq(r.inv[i].length, ps);

	/* Growing does not add pages; truncate to 0 drops everything. */
	ck_assert_int_eq(pgc_mapping_set_size(m, 100 * ps), 0);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 2);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 0);
	ck_assert_uint_eq(pgc_mapping_size(m), 0);
	ck_assert_int_eq(present(m, 0), 0);

	ck_assert_int_eq(pgc_mapping_truncate(NULL, 0), -EINVAL);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(truncate_dirty_pages)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 8 * ps);
	struct pgc_stats st;

	for (uint64_t i = 0; i < 8; i++) {
		create_page(m, i, 1);
		make_dirty(m, i);
	}
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 8);
	ck_assert_int_eq(pgc_mapping_destroy(m), -EBUSY);
	ck_assert_int_eq(pgc_mapping_truncate(m, 5 * ps), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 5);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 5);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 5);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

struct truncator {
	pgc_mapping *m;
	uint64_t size;
	atomic_int started, done;
	int ret;
};

static void *truncator_fn(void *arg)
{
	struct truncator *t = arg;
	atomic_store(&t->started, 1);
	t->ret = pgc_mapping_truncate(t->m, t->size);
	atomic_store(&t->done, 1);
	return NULL;
}

START_TEST(truncate_waits_for_page_lock)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 8 * ps);
	pgc_page *p;
	struct truncator tr = { .m = m, .size = 0 };
	pthread_t t;

	for (uint64_t i = 0; i < 8; i++)
		create_page(m, i, 1);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 5, &p), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, truncator_fn, &tr), 0);
	while (!atomic_load(&tr.started))
		pgc_test_sleep_ms(1);
	pgc_test_sleep_ms(100);
	/* We hold page 5's lock: it cannot have left the mapping. */
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_int_eq(atomic_load(&tr.done), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(tr.ret, 0);
	ck_assert_ptr_null(pgc_page_mapping(p));
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 0);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

/* ---- Dirty pages ---- */

struct visit_log {
	uint64_t idx[64];
	int n;
	int refcount_ok, unlocked_ok, dirty_ok;
	int stop_after; /* return 99 after this many visits (0: never) */
	int write_back; /* lock, write_page, unlock in the visitor */
	int write_ret;
};

static int visitor(pgc_page *page, void *arg)
{
	struct visit_log *v = arg;
	if (v->n < 64)
		v->idx[v->n] = pgc_page_index(page);
	v->n++;
	if (pgc_page_refcount(page) < 2)
		v->refcount_ok = 0;
	if (pgc_page_test_flag(page, PGC_PG_LOCKED) != 0)
		v->unlocked_ok = 0;
	if (pgc_page_test_flag(page, PGC_PG_DIRTY) != 1)
		v->dirty_ok = 0;
	if (v->write_back) {
		pgc_page_lock(page);
		int ret = pgc_mapping_write_page(page, NULL);
		if (ret != 0)
			v->write_ret = ret;
		pgc_page_unlock(page);
	}
	if (v->stop_after && v->n >= v->stop_after)
		return 99;
	return 0;
}

START_TEST(dirty_tracking_and_order)
{
	pgc_cache *cache = pgc_test_cache(64, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	struct pgc_rng rng = { pgc_test_seed_for("dirty_tracking_and_order") };
	uint64_t dirty[] = { 9, 2, 7, 0, 5, 3, 8, 12, 20 };
	const size_t nd = sizeof dirty / sizeof dirty[0];
	pgc_page *p;

	pgc_test_shuffle(&rng, dirty, nd);
	/* Clean pages interleaved. */
	create_page(m, 4, 0);
	create_page(m, 6, 0);
	create_page(m, 1, 0);
	for (size_t i = 0; i < nd; i++) {
		create_page(m, dirty[i], 0);
		ck_assert_int_eq(pgc_mapping_find_lock(m, dirty[i], &p), 0);
		ck_assert_int_eq(pgc_page_set_dirty(p), 1);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 1);
		ck_assert_int_eq(pgc_page_set_dirty(p), 0); /* already dirty */
		ck_assert_int_eq(pgc_page_unlock(p), 0);
		pgc_page_put(p);
		ck_assert_uint_eq(pgc_mapping_nr_dirty(m), i + 1);
	}

	/* Range [2, 8]: 2 3 5 7 8, in order; 4 and 6 are clean. */
	struct visit_log v = { .refcount_ok = 1, .unlocked_ok = 1, .dirty_ok = 1 };
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 2, 8, visitor, &v), 0);
	const uint64_t want[] = { 2, 3, 5, 7, 8 };
	ck_assert_int_eq(v.n, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(v.idx[i], want[i]);
	ck_assert_int_eq(v.refcount_ok, 1);
	ck_assert_int_eq(v.unlocked_ok, 1);
	ck_assert_int_eq(v.dirty_ok, 1);

	/* The whole range. */
	memset(&v, 0, sizeof v);
	v.refcount_ok = v.unlocked_ok = v.dirty_ok = 1;
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 0, UINT64_MAX, visitor, &v), 0);
	const uint64_t all[] = { 0, 2, 3, 5, 7, 8, 9, 12, 20 };
	ck_assert_int_eq(v.n, 9);
	for (int i = 0; i < 9; i++)
		ck_assert_uint_eq(v.idx[i], all[i]);

	/* A single index; an empty range. */
	memset(&v, 0, sizeof v);
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 12, 12, visitor, &v), 0);
	ck_assert_int_eq(v.n, 1);
	ck_assert_uint_eq(v.idx[0], 12);
	memset(&v, 0, sizeof v);
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 13, 19, visitor, &v), 0);
	ck_assert_int_eq(v.n, 0);

	/* Stopping early returns the visitor's value. */
	memset(&v, 0, sizeof v);
	v.stop_after = 2;
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 0, UINT64_MAX, visitor, &v), 99);
	ck_assert_int_eq(v.n, 2);
	ck_assert_uint_eq(v.idx[0], 0);
	ck_assert_uint_eq(v.idx[1], 2);

	/* Bad arguments. */
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 5, 4, visitor, &v), -EINVAL);
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 0, 4, NULL, &v), -EINVAL);
	ck_assert_int_eq(pgc_mapping_for_each_dirty(NULL, 0, 4, visitor, &v), -EINVAL);

	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(for_each_dirty_visitor_writes_back)
{
	pgc_cache *cache = pgc_test_cache(64, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);

	for (uint64_t i = 0; i < 6; i++) {
		create_page(m, i, (int)(0x10 + i));
		make_dirty(m, i);
	}
	struct visit_log v = { .write_back = 1, .refcount_ok = 1, .unlocked_ok = 1, .dirty_ok = 1 };
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 0, UINT64_MAX, visitor, &v), 0);
	ck_assert_int_eq(v.n, 6);
	ck_assert_int_eq(v.write_ret, 0);
	ck_assert_int_eq(r.writepage_calls, 6);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	for (uint64_t i = 0; i < 6; i++)
		ck_assert_msg(all_bytes(r.backing + i * ps, 0, ps, (unsigned char)(0x10 + i)),
			      "backing page %" PRIu64, i);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(set_dirty_custom_op)
{
	pgc_cache *cache = pgc_test_cache(16, 0);
	struct rec r;
	rec_init(&r, pgc_cache_page_size(cache));
	struct pgc_mapping_ops ops = { .size = sizeof ops, .set_page_dirty = op_set_page_dirty };
	pgc_mapping *m = new_mapping(cache, &ops, &r, 0);
	pgc_page *p;

	create_page(m, 0, 0);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 0, &p), 0);
	r.set_dirty_ret = -EIO;
	ck_assert_int_eq(pgc_page_set_dirty(p), -EIO);
	ck_assert_int_eq(r.set_dirty_calls, 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	r.set_dirty_ret = 0;
	ck_assert_int_eq(pgc_page_set_dirty(p), 0);
	ck_assert_int_eq(r.set_dirty_calls, 2);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 0);
	/* An owner's op that accepts marks the page dirty and accounted. */
	ck_assert_int_eq(pgc_mapping_set_size(m, pgc_cache_page_size(cache)), 0);
	r.set_dirty_ret = 2;
	ck_assert_int_eq(pgc_page_set_dirty(p), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 1);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 1);
	ck_assert_int_eq(pgc_page_set_dirty(p), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	char why[256];
	ck_assert_msg(pgc_mapping_check(m, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0); /* no writepage: drop it */

	ck_assert_int_eq(pgc_mapping_account_dirty(NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

/* ---- Destroy and writeback ---- */

START_TEST(destroy_dirty_then_writeback)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);
	struct pgc_stats st;

	for (uint64_t i = 0; i < 5; i++) {
		create_page(m, i, (int)(0x60 + i));
		make_dirty(m, i);
	}
	create_page(m, 5, 0x65); /* clean */
	ck_assert_int_eq(pgc_mapping_destroy(m), -EBUSY);
	/* Nothing was destroyed. */
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 6);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 5);
	ck_assert_int_eq(present(m, 5), 1);

	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(r.writepage_calls, 5);
	for (int i = 0; i < 5; i++) {
		struct wp_call *c = &r.wp[i];
		ck_assert_msg(c->locked == 1 && c->dirty == 0 && c->writeback == 1,
			      "writepage(%" PRIu64 ") called with locked %d dirty %d writeback %d",
			      c->index, c->locked, c->dirty, c->writeback);
	}
	for (uint64_t i = 0; i < 5; i++)
		ck_assert_msg(all_bytes(r.backing + i * ps, 0, ps, (unsigned char)(0x60 + i)),
			      "backing page %" PRIu64 " wrong", i);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	for (uint64_t i = 0; i < 5; i++) {
		pgc_page *p = get_page(m, i);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);
		pgc_page_put(p);
	}
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 0);
	ck_assert_uint_eq(st.writeback, 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(destroy_under_writeback_busy)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *wb;

	create_page(m, 0, 0x70);
	create_page(m, 1, 0x71);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 0, &wb), 0);
	ck_assert_int_eq(pgc_page_start_writeback(wb), 0);
	ck_assert_int_eq(pgc_page_unlock(wb), 0);
	/* Clean but under writeback: -EBUSY at once, nothing destroyed. */
	ck_assert_int_eq(pgc_mapping_destroy(m), -EBUSY);
	ck_assert_ptr_eq(pgc_page_mapping(wb), m);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 2);
	ck_assert_int_eq(pgc_page_end_writeback(wb), 0);
	pgc_page_put(wb);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(destroy_keeps_held_pages_valid)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *held;

	create_page(m, 0, 0x70);
	create_page(m, 1, 0x71);
	held = get_page(m, 1);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	/* A held page stays valid, with no mapping. */
	ck_assert_ptr_null(pgc_page_mapping(held));
	ck_assert_msg(all_bytes(pgc_page_data(held), 0, ps, 0x71), "held page data changed");
	ck_assert_int_eq(pgc_page_refcount(held), 1);
	pgc_page_put(held);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(writeback_range_and_modes)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);
	pgc_page *busy;

	for (uint64_t i = 0; i < 10; i++) {
		create_page(m, i, (int)i);
		make_dirty(m, i);
	}
	ck_assert_int_eq(pgc_mapping_writeback(m, 3, 5, PGC_WB_ALL), 0);
	ck_assert_int_eq(r.writepage_calls, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(r.wp[i].index, 3 + i); /* index order */
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 7);

	/* PGC_WB_NONE skips a locked page. */
	ck_assert_int_eq(pgc_mapping_find_lock(m, 7, &busy), 0);
	r.writepage_calls = 0;
	ck_assert_int_eq(pgc_mapping_writeback(m, 6, 9, PGC_WB_NONE), 0);
	ck_assert_int_eq(r.writepage_calls, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_ne(r.wp[i].index, 7);
	ck_assert_int_eq(pgc_page_test_flag(busy, PGC_PG_DIRTY), 1);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 4); /* 0 1 2 7 */
	ck_assert_int_eq(pgc_page_unlock(busy), 0);
	pgc_page_put(busy);

	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	for (uint64_t i = 0; i < 10; i++)
		ck_assert_msg(all_bytes(r.backing + i * ps, 0, ps, (unsigned char)i),
			      "backing page %" PRIu64, i);

	/* Bad arguments. */
	ck_assert_int_eq(pgc_mapping_writeback(NULL, 0, 1, PGC_WB_ALL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_writeback(m, 2, 1, PGC_WB_ALL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, 1, 7), -EINVAL);
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, 1, -1), -EINVAL);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(writeback_error_keeps_dirty)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);

	create_page(m, 0, 0xe0);
	create_page(m, 1, 0xe1);
	make_dirty(m, 0);
	make_dirty(m, 1);
	r.writepage_err = -EIO;
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), -EIO);
	ck_assert_int_ge(r.writepage_calls, 1);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 2);
	for (uint64_t i = 0; i < 2; i++) {
		pgc_page *p = get_page(m, i);
		int written = 0;
		for (int k = 0; k < r.writepage_calls && k < MAX_CALLS; k++)
			written |= r.wp[k].index == i;
		if (written) {
			ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 1);
			ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ERROR), 1);
		}
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);
		pgc_page_put(p);
	}
	struct pgc_stats st;
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.dirty, 2);
	ck_assert_uint_eq(st.writeback, 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), -EBUSY);

	/* The data was not lost: a later writeback succeeds. */
	r.writepage_err = 0;
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	ck_assert(all_bytes(r.backing, 0, ps, 0xe0));
	ck_assert(all_bytes(r.backing + ps, 0, ps, 0xe1));
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(writeback_without_writepage)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p;

	create_page(m, 0, 1);
	/* Nothing dirty: nothing to refuse. */
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	make_dirty(m, 0);
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), -EROFS);
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_NONE), -EROFS);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 1);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 0, &p), 0);
	ck_assert_int_eq(pgc_mapping_write_page(p, NULL), -EROFS);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 1);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_destroy(m), -EBUSY);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(write_page_single)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);
	pgc_page *p, *lone;
	struct pgc_writeback_control wbc = {
		.size = sizeof wbc, .sync_mode = PGC_WB_ALL, .range_start = 0,
		.range_end = UINT64_MAX, .nr_to_write = 1,
	};

	create_page(m, 2, 0x22);
	p = get_page(m, 2);
	ck_assert_int_eq(pgc_mapping_write_page(p, &wbc), -EINVAL); /* not locked */
	ck_assert_int_eq(pgc_mapping_write_page(NULL, &wbc), -EINVAL);
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_mapping_write_page(p, &wbc), 0); /* clean: nothing to do */
	ck_assert_int_eq(pgc_page_set_dirty(p), 1);
	ck_assert_int_eq(pgc_mapping_write_page(p, &wbc), 0);
	ck_assert_int_eq(r.writepage_calls, 1);
	ck_assert_ptr_eq(r.wp[0].wbc, &wbc);
	ck_assert_int_eq(r.wp[0].dirty, 0);
	ck_assert_int_eq(r.wp[0].writeback, 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1); /* stays locked */
	ck_assert(all_bytes(r.backing + 2 * ps, 0, ps, 0x22));
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);

	/* A failing write: dirty again, ERROR set, still locked. */
	ck_assert_int_eq(pgc_page_set_dirty(p), 1);
	r.writepage_err = -ENOSPC;
	ck_assert_int_eq(pgc_mapping_write_page(p, NULL), -ENOSPC);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ERROR), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 1);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 1);
	r.writepage_err = 0;
	ck_assert_int_eq(pgc_mapping_write_page(p, NULL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);

	/* A locked page in no mapping. */
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &lone), 0);
	ck_assert_int_eq(pgc_page_lock(lone), 0);
	ck_assert_int_eq(pgc_mapping_write_page(lone, NULL), -EINVAL);
	ck_assert_int_eq(pgc_page_unlock(lone), 0);
	pgc_page_put(lone);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

/* ---- read_page ---- */

START_TEST(read_page_reads_once)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	memset(r.backing + 4 * ps, 0x4d, ps);
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);
	pgc_page *p = NULL, *q = NULL;

	ck_assert_int_eq(pgc_mapping_read_page(m, 4, &p), 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(r.readpage_calls, 1);
	ck_assert_int_eq(r.readpage_locked, 1);
	ck_assert_int_eq(r.readpage_uptodate, 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UPTODATE), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);
	ck_assert_uint_eq(pgc_page_index(p), 4);
	ck_assert_ptr_eq(pgc_page_mapping(p), m);
	ck_assert_msg(all_bytes(pgc_page_data(p), 0, ps, 0x4d), "read data wrong");

	ck_assert_int_eq(pgc_mapping_read_page(m, 4, &q), 0);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(r.readpage_calls, 1); /* cached: not read again */
	pgc_page_put(q);
	pgc_page_put(p);

	/* A page that exists but is not up to date is read. */
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 100, 0, &p), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	ck_assert_int_eq(pgc_mapping_read_page(m, 100, &q), 0);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(r.readpage_calls, 2);
	ck_assert_int_eq(pgc_page_test_flag(q, PGC_PG_UPTODATE), 1);
	ck_assert_msg(all_bytes(pgc_page_data(q), 0, ps, stamp_byte(100)), "read data wrong");
	pgc_page_put(q);
	pgc_page_put(p);

	/* Bad arguments. */
	p = (pgc_page *)&p;
	ck_assert_int_eq(pgc_mapping_read_page(NULL, 1, &p), -EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(pgc_mapping_read_page(m, 1, NULL), -EINVAL);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(read_page_default_zero_fill)
{
	pgc_cache *cache = pgc_test_cache(4, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_page *scratch[4], *p;

	/* Dirty every frame's data first, so that zeros are the library's doing. */
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &scratch[i]), 0);
		memset(pgc_page_data(scratch[i]), 0xff, ps);
	}
	for (int i = 0; i < 4; i++)
		pgc_page_put(scratch[i]);

	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	ck_assert_int_eq(pgc_mapping_read_page(m, 3, &p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UPTODATE), 1);
	ck_assert_msg(all_bytes(pgc_page_data(p), 0, ps, 0), "default readpage did not zero-fill");
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(read_page_error)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	struct rec r;
	rec_init(&r, pgc_cache_page_size(cache));
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);
	pgc_page *p = (pgc_page *)&p;

	r.readpage_err = -EIO;
	ck_assert_int_eq(pgc_mapping_read_page(m, 6, &p), -EIO);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(r.readpage_calls, 1);
	/* Left in the mapping, not up to date, ERROR set, unlocked. */
	p = get_page(m, 6);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ERROR), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_LOCKED), 0);
	pgc_page_put(p);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

START_TEST(read_page_concurrent_reads_once)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	struct rec r;
	rec_init(&r, ps);
	memset(r.backing + 5 * ps, 0x5e, ps);
	r.readpage_delay_ms = 200;
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);
	struct finder f[2] = { { .m = m, .index = 5, .mode = 2 }, { .m = m, .index = 5, .mode = 2 } };
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, finder_fn, &f[i]), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(f[i].ret, 0);
		ck_assert_int_eq(f[i].uptodate_seen, 1);
		ck_assert_int_eq(f[i].byte_seen, 0x5e);
	}
	ck_assert_ptr_eq(f[0].page, f[1].page);
	ck_assert_int_eq(r.readpage_calls, 1);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	pgc_page_put(f[0].page);
	pgc_page_put(f[1].page);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

/* ---- invalidate ---- */

START_TEST(invalidate_selective)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *locked, *held, *wb;
	struct pgc_stats st0, st;

	for (uint64_t i = 0; i < 8; i++)
		create_page(m, i, (int)i);
	make_dirty(m, 1);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 2, &locked), 0);
	held = get_page(m, 3);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 5, &wb), 0);
	ck_assert_int_eq(pgc_page_start_writeback(wb), 0);
	ck_assert_int_eq(pgc_page_unlock(wb), 0);

	pgc_test_stats(cache, &st0);
	/* Droppable in [0, 6]: 0, 4, 6. Page 7 is outside the range. */
	ck_assert_int_eq(pgc_mapping_invalidate(m, 0, 6), 3);
	const int want[8] = { 0, 1, 1, 1, 0, 1, 0, 1 };
	for (uint64_t i = 0; i < 8; i++)
		ck_assert_msg(present(m, i) == want[i], "page %" PRIu64 " presence", i);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 5);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 1);
	pgc_test_stats(cache, &st);
	ck_assert_uint_eq(st.deletes, st0.deletes + 3);
	ck_assert_ptr_eq(pgc_page_mapping(held), m);
	ck_assert_ptr_eq(pgc_page_mapping(locked), m);

	/* Once released, they go too (except the dirty one). */
	ck_assert_int_eq(pgc_page_unlock(locked), 0);
	pgc_page_put(locked);
	pgc_page_put(held);
	ck_assert_int_eq(pgc_page_end_writeback(wb), 0);
	pgc_page_put(wb);
	ck_assert_int_eq(pgc_mapping_invalidate(m, 0, UINT64_MAX), 4);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	ck_assert_int_eq(present(m, 1), 1);
	/* Nothing left to drop. */
	ck_assert_int_eq(pgc_mapping_invalidate(m, 0, UINT64_MAX), 0);

	ck_assert_int_eq(pgc_mapping_invalidate(NULL, 0, 1), -EINVAL);
	ck_assert_int_eq(pgc_mapping_invalidate(m, 3, 2), -EINVAL);

	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

START_TEST(invalidate_asks_releasepage)
{
	pgc_cache *cache = pgc_test_cache(32, 0);
	struct rec r;
	rec_init(&r, pgc_cache_page_size(cache));
	pgc_mapping *m = new_mapping(cache, &full_ops, &r, 0);
	pgc_page *p;

	for (uint64_t i = 0; i < 3; i++)
		create_page(m, i, 0);
	for (uint64_t i = 0; i < 2; i++) {
		ck_assert_int_eq(pgc_mapping_find_lock(m, i, &p), 0);
		ck_assert_int_eq(pgc_page_set_private(p, 100 + i), 0);
		ck_assert_int_eq(pgc_page_unlock(p), 0);
		pgc_page_put(p);
	}
	r.release_allow = 0;
	ck_assert_int_eq(pgc_mapping_invalidate(m, 0, 2), 1); /* only page 2 */
	ck_assert_int_eq(r.releasepage_calls, 2);
	ck_assert_int_eq(r.releasepage_unlocked, 0);
	ck_assert_int_eq(present(m, 0), 1);
	ck_assert_int_eq(present(m, 1), 1);
	ck_assert_int_eq(present(m, 2), 0);
	p = get_page(m, 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_PRIVATE), 1);
	ck_assert_uint_eq(pgc_page_private(p), 100);
	pgc_page_put(p);

	r.release_allow = 1;
	ck_assert_int_eq(pgc_mapping_invalidate(m, 0, 2), 2);
	ck_assert_int_eq(r.releasepage_calls, 4);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);

	/* Without releasepage, a private page is released by default. */
	m = new_mapping(cache, NULL, NULL, 0);
	create_page(m, 0, 0);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 0, &p), 0);
	ck_assert_int_eq(pgc_page_set_private(p, 5), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_invalidate(m, 0, 0), 1);
	ck_assert_int_eq(present(m, 0), 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
	rec_fini(&r);
}
END_TEST

/* ---- NULL arguments ---- */

START_TEST(null_arguments)
{
	pgc_cache *cache = pgc_test_cache(8, 0);
	pgc_mapping *m = new_mapping(cache, NULL, NULL, 0);
	pgc_page *p = NULL;

	create_page(m, 0, 0);
	ck_assert_int_eq(pgc_mapping_find(NULL, 0, &p), -EINVAL);
	ck_assert_int_eq(pgc_mapping_find(m, 0, NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_find_lock(NULL, 0, &p), -EINVAL);
	ck_assert_int_eq(pgc_mapping_find_lock(m, 0, NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_find_or_create(NULL, 0, 0, &p), -EINVAL);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_insert(m, NULL, 0), -EINVAL);
	ck_assert_int_eq(pgc_page_alloc(cache, PGC_NODE_ANY, 0, &p), 0);
	ck_assert_int_eq(pgc_mapping_insert(NULL, p, 0), -EINVAL);
	ck_assert_ptr_null(pgc_page_mapping(p));
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_delete(NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_truncate(NULL, 0), -EINVAL);
	ck_assert_int_eq(pgc_mapping_invalidate(NULL, 0, 0), -EINVAL);
	ck_assert_int_eq(pgc_mapping_for_each_dirty(NULL, 0, 0, visitor, NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_for_each_dirty(m, 0, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_account_dirty(NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_read_page(NULL, 0, &p), -EINVAL);
	ck_assert_int_eq(pgc_mapping_read_page(m, 0, NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_writeback(NULL, 0, 0, PGC_WB_ALL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_write_page(NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_set_size(NULL, 0), -EINVAL);
	pgc_mapping *m2 = (pgc_mapping *)&m2;
	ck_assert_int_eq(pgc_mapping_create(NULL, NULL, NULL, 0, &m2), -EINVAL);
	ck_assert_ptr_null(m2);
	/* The page is still there after all that. */
	ck_assert_int_eq(present(m, 0), 1);
	ck_assert_uint_eq(pgc_mapping_nr_pages(m), 1);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

static Suite *mapping_suite(void)
{
	Suite *s = suite_create("mapping");
	PGC_ADD(s, create_destroy, 30);
	PGC_ADD(s, create_bad_args, 30);
	PGC_ADD(s, accessors_null, 30);
	PGC_ADD(s, find_miss, 30);
	PGC_ADD(s, find_or_create_new_page, 30);
	PGC_ADD(s, find_or_create_nowait_locked, 30);
	PGC_ADD(s, find_or_create_waits_for_creator, 30);
	PGC_ADD(s, find_or_create_bad_args, 30);
	PGC_ADD(s, find_sets_referenced, 30);
	PGC_ADD(s, find_lock_basic, 30);
	PGC_ADD(s, find_lock_retries_after_delete, 30);
	PGC_ADD(s, find_lock_gets_replacement, 30);
	PGC_ADD(s, insert_and_eexist, 30);
	PGC_ADD(s, insert_page_in_mapping_or_other_cache, 30);
	PGC_ADD(s, delete_page, 30);
	PGC_ADD(s, delete_cancels_dirty, 30);
	PGC_ADD(s, delete_under_writeback, 30);
	PGC_ADD(s, truncate_partial_page, 30);
	PGC_ADD(s, truncate_page_boundary, 30);
	PGC_ADD(s, truncate_dirty_pages, 30);
	PGC_ADD(s, truncate_waits_for_page_lock, 30);
	PGC_ADD(s, dirty_tracking_and_order, 30);
	PGC_ADD(s, for_each_dirty_visitor_writes_back, 30);
	PGC_ADD(s, set_dirty_custom_op, 30);
	PGC_ADD(s, destroy_dirty_then_writeback, 30);
	PGC_ADD(s, destroy_under_writeback_busy, 10);
	PGC_ADD(s, destroy_keeps_held_pages_valid, 30);
	PGC_ADD(s, writeback_range_and_modes, 30);
	PGC_ADD(s, writeback_error_keeps_dirty, 30);
	PGC_ADD(s, writeback_without_writepage, 30);
	PGC_ADD(s, write_page_single, 30);
	PGC_ADD(s, read_page_reads_once, 30);
	PGC_ADD(s, read_page_default_zero_fill, 30);
	PGC_ADD(s, read_page_error, 30);
	PGC_ADD(s, read_page_concurrent_reads_once, 30);
	PGC_ADD(s, invalidate_selective, 30);
	PGC_ADD(s, invalidate_asks_releasepage, 30);
	PGC_ADD(s, null_arguments, 30);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, mapping_suite());
}
