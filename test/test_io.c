/*
 * Suite "io": buffered reads and writes through the cache (io.h), readahead,
 * write_begin/write_end and commit, synchronous writeback with errseq error
 * reporting, and the direct-I/O segmenter (dio.h) with its coherence with
 * cached pages.
 *
 * Two backings: an in-memory store written here (a mapping ops table over a
 * malloc'ed array, with call counters and error switches) for exact
 * assertions, and the library's O_DIRECT file store (store.h) on a file in
 * /var/tmp for the classic coherence cases.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pgc_test.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <pgcache/dio.h>
#include <pgcache/io.h>
#include <pgcache/store.h>

#include "fault_internal.h"

/* ---- The in-memory store ------------------------------------------------ */

#define MS_LOG 512

struct mstore {
	pthread_mutex_t lock;
	size_t ps;
	size_t cap; /* bytes */
	unsigned char *data;
	int readpage_calls, readpage_err;
	uint64_t readpage_err_from; /* readpage_err is for indexes from this one (0: all) */
	int readpages_calls, readpages_err;
	unsigned readpages_nr[MS_LOG];
	uint64_t readpages_first[MS_LOG];
	int writepage_calls;
	int write_fail_nth; /* fail the N-th writepage call from now with -EIO (0: off) */
	int write_seen;     /* writepage calls since write_fail_nth was set */
	int dio_calls;
	size_t dio_len[MS_LOG];
	uint64_t dio_off[MS_LOG];
	int dio_ret[MS_LOG];
	int dio_err; /* the next direct_IO fails with this, writing nothing (0: off) */
	size_t dio_enomem_above; /* direct_IO answers -ENOMEM for segments above this (0: off) */
	pthread_cond_t gate_cv;  /* writepage of gate_idx waits until gate_open */
	int64_t gate_idx;        /* -1: no gate */
	bool gate_entered, gate_open;
	int64_t read_gate_idx; /* readpage of this index waits until gate_open (-1: none) */
	char events[MS_LOG + 1]; /* 'w' writepage, 'r' resize, 's' sync, in call order */
	int nevents;
	int sync_calls, sync_err;
	uint64_t sync_start, sync_end;
};

/* Under s->lock. */
static void ms_event(struct mstore *s, char e)
{
	if (s->nevents < MS_LOG)
		s->events[s->nevents++] = e;
}

static void ms_init(struct mstore *s, size_t ps, size_t pages)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->gate_cv, NULL);
	s->gate_idx = -1;
	s->read_gate_idx = -1;
	s->ps = ps;
	s->cap = pages * ps;
	s->data = malloc(s->cap);
	ck_assert_ptr_nonnull(s->data);
	for (size_t i = 0; i < s->cap; i++)
		s->data[i] = (unsigned char)(i * 13 + i / ps * 7 + 3);
}

static void ms_fini(struct mstore *s)
{
	free(s->data);
	pthread_cond_destroy(&s->gate_cv);
	pthread_mutex_destroy(&s->lock);
}

static unsigned char ms_orig(const struct mstore *s, size_t i)
{
	return (unsigned char)(i * 13 + i / s->ps * 7 + 3);
}

static void ms_reset_counters(struct mstore *s)
{
	pthread_mutex_lock(&s->lock);
	s->readpage_calls = s->readpages_calls = s->writepage_calls = s->dio_calls = 0;
	pthread_mutex_unlock(&s->lock);
}

static void ms_fill_page(struct mstore *s, pgc_page *p)
{
	uint64_t off = pgc_page_index(p) * s->ps;
	if (off + s->ps <= s->cap)
		memcpy(pgc_page_data(p), s->data + off, s->ps);
	else
		memset(pgc_page_data(p), 0, s->ps);
}

static int ms_readpage(pgc_mapping *m, pgc_page *p)
{
	struct mstore *s = pgc_mapping_owner(m);
	pthread_mutex_lock(&s->lock);
	s->readpage_calls++;
	if ((int64_t)pgc_page_index(p) == s->read_gate_idx) {
		s->gate_entered = true;
		pthread_cond_broadcast(&s->gate_cv);
		while (!s->gate_open)
			pthread_cond_wait(&s->gate_cv, &s->lock);
	}
	int err = pgc_page_index(p) >= s->readpage_err_from ? s->readpage_err : 0;
	if (!err)
		ms_fill_page(s, p);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int ms_readpages(pgc_mapping *m, pgc_page **pages, unsigned nr)
{
	struct mstore *s = pgc_mapping_owner(m);
	pthread_mutex_lock(&s->lock);
	if (s->readpages_calls < MS_LOG) {
		s->readpages_nr[s->readpages_calls] = nr;
		s->readpages_first[s->readpages_calls] = pgc_page_index(pages[0]);
	}
	s->readpages_calls++;
	pthread_cond_broadcast(&s->gate_cv); /* for a test waiting for a call */
	if ((int64_t)pgc_page_index(pages[0]) == s->read_gate_idx) {
		s->gate_entered = true;
		while (!s->gate_open)
			pthread_cond_wait(&s->gate_cv, &s->lock);
	}
	int err = s->readpages_err;
	if (!err) {
		for (unsigned i = 0; i < nr; i++) {
			if (i && pgc_page_index(pages[i]) != pgc_page_index(pages[0]) + i)
				err = -EBADE; /* not consecutive: a library bug */
			ms_fill_page(s, pages[i]);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int ms_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	(void)wbc;
	struct mstore *s = pgc_mapping_owner(m);
	uint64_t off = pgc_page_index(p) * s->ps;
	int err = 0;
	pthread_mutex_lock(&s->lock);
	s->writepage_calls++;
	ms_event(s, 'w');
	if ((int64_t)pgc_page_index(p) == s->gate_idx) {
		s->gate_entered = true;
		pthread_cond_broadcast(&s->gate_cv);
		while (!s->gate_open)
			pthread_cond_wait(&s->gate_cv, &s->lock);
	}
	if (s->write_fail_nth && ++s->write_seen == s->write_fail_nth)
		err = -EIO;
	else if (off + s->ps <= s->cap)
		memcpy(s->data + off, pgc_page_data(p), s->ps);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static ssize_t ms_direct_IO(pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
			    uint64_t offset)
{
	struct mstore *s = pgc_mapping_owner(m);
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	pthread_mutex_lock(&s->lock);
	int slot = s->dio_calls++;
	if (slot < MS_LOG) {
		s->dio_len[slot] = total;
		s->dio_off[slot] = offset;
	}
	ssize_t ret;
	if (s->dio_err) {
		ret = s->dio_err;
		s->dio_err = 0;
	} else if (s->dio_enomem_above && total > s->dio_enomem_above) {
		ret = -ENOMEM;
	} else if (offset + total > s->cap) {
		ret = -ENOSPC;
	} else {
		uint64_t pos = offset;
		for (int i = 0; i < iovcnt; i++) {
			if (rw == PGC_READ)
				memcpy(iov[i].iov_base, s->data + pos, iov[i].iov_len);
			else
				memcpy(s->data + pos, iov[i].iov_base, iov[i].iov_len);
			pos += iov[i].iov_len;
		}
		ret = (ssize_t)total;
	}
	if (slot < MS_LOG)
		s->dio_ret[slot] = (int)(ret < 0 ? ret : 0);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static const struct pgc_mapping_ops ms_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = ms_readpage,
	.readpages = ms_readpages,
	.writepage = ms_writepage,
	.direct_IO = ms_direct_IO,
};

static const struct pgc_mapping_ops ms_ops_nodio = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = ms_readpage,
	.readpages = ms_readpages,
	.writepage = ms_writepage,
};

/* ---- Fixture ----------------------------------------------------------------- */


struct fx {
	pgc_cache *cache;
	pgc_mapping *m;
	struct mstore s;
	size_t ps;
};

static void fx_init(struct fx *f, uint64_t capacity, size_t store_pages, uint64_t size,
		    const struct pgc_mapping_ops *ops)
{
	f->cache = pgc_test_cache(capacity, 0);
	f->ps = pgc_cache_page_size(f->cache);
	ms_init(&f->s, f->ps, store_pages);
	int ret = pgc_mapping_create(f->cache, ops, &f->s, size, &f->m);
	ck_assert_msg(ret == 0, "pgc_mapping_create = %d (%s)", ret, pgc_strerror(ret));
}

static void fx_fini(struct fx *f)
{
	int ret = pgc_sync_range(f->m, 0, UINT64_MAX, NULL);
	(void)ret;
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	ms_fini(&f->s);
}

static void set_dio(pgc_mapping *m, uint32_t block, uint32_t align, uint64_t max_seg)
{
	struct pgc_dio_limits l = {
		.size = sizeof l, .block_size = block, .mem_align = align, .max_segment = max_seg};
	ck_assert_int_eq(pgc_mapping_set_dio_limits(m, &l), 0);
}

/* Is the page at idx in the mapping and up to date? -1 if absent. */
static int page_uptodate(pgc_mapping *m, uint64_t idx)
{
	pgc_page *p = NULL;
	if (pgc_mapping_find(m, idx, &p) != 0)
		return -1;
	int r = pgc_page_test_flag(p, PGC_PG_UPTODATE);
	pgc_page_put(p);
	return r;
}

static void *xalloc_aligned(size_t align, size_t len)
{
	void *p = NULL;
	ck_assert_int_eq(posix_memalign(&p, align, len), 0);
	return p;
}

/* ---- Reads ------------------------------------------------------------------ */

START_TEST(read_clamps_at_size)
{
	struct fx f;
	fx_init(&f, 64, 8, 0, &ms_ops);
	size_t ps = f.ps;
	uint64_t size = 2 * ps + ps / 2;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, size), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	unsigned char *buf = malloc(4 * ps);

	ck_assert_int_eq(pgc_read(f.m, buf, 10, size), 0);
	ck_assert_int_eq(pgc_read(f.m, buf, 10, size + 5 * ps), 0);
	ck_assert_int_eq(pgc_read(f.m, buf, 0, 0), 0);
	ck_assert_int_eq(f.s.readpage_calls, 0);

	/* Across EOF: short, the bytes up to the size. */
	ssize_t n = pgc_read(f.m, buf, ps, size - 100);
	ck_assert_int_eq(n, 100);
	for (size_t i = 0; i < 100; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, size - 100 + i));

	/* Whole file from an odd offset: spans three pages, clamped. */
	n = pgc_read(f.m, buf, 4 * ps, 77);
	ck_assert_int_eq(n, (ssize_t)(size - 77));
	for (size_t i = 0; i < (size_t)n; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, 77 + i));
	int calls = f.s.readpage_calls;
	ck_assert_int_eq(calls, 3);

	/* Hit path: no store call, right bytes. */
	memset(buf, 0, 4 * ps);
	n = pgc_read(f.m, buf, ps + 3, ps - 1);
	ck_assert_int_eq(n, (ssize_t)ps + 3);
	for (size_t i = 0; i < (size_t)n; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, ps - 1 + i));
	ck_assert_int_eq(f.s.readpage_calls, calls);
	ck_assert_int_eq(f.s.readpages_calls, 0);

	ck_assert_int_eq(pgc_read(NULL, buf, 1, 0), -EINVAL);
	ck_assert_int_eq(pgc_read(f.m, NULL, 1, 0), -EINVAL);
	free(buf);
	fx_fini(&f);
}
END_TEST

/* Reads pages [0, n) one at a time, checking each. */
static void read_pages_seq(struct fx *f, uint64_t first, uint64_t n)
{
	unsigned char *buf = malloc(f->ps);
	for (uint64_t i = first; i < first + n; i++) {
		ck_assert_int_eq(pgc_read(f->m, buf, f->ps, i * f->ps), (ssize_t)f->ps);
		for (size_t k = 0; k < f->ps; k += 97)
			ck_assert_uint_eq(buf[k], ms_orig(&f->s, i * f->ps + k));
	}
	free(buf);
	/* Readahead that a hit queued may still run in the background: the
	 * check waits for it (and checks the cache), so the store's counters
	 * are final when the caller looks at them. */
	ck_assert_int_eq(pgc_cache_check(f->cache, NULL, 0), 0);
}

/* Puts the logged readpages calls in file order: the reader's window and
 * the ones the filler threads read may be logged in any order. */
static void ms_sort_windows(struct mstore *s)
{
	int n = s->readpages_calls < MS_LOG ? s->readpages_calls : MS_LOG;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && s->readpages_first[j - 1] > s->readpages_first[j]; j--) {
			uint64_t f = s->readpages_first[j];
			unsigned nr = s->readpages_nr[j];
			s->readpages_first[j] = s->readpages_first[j - 1];
			s->readpages_nr[j] = s->readpages_nr[j - 1];
			s->readpages_first[j - 1] = f;
			s->readpages_nr[j - 1] = nr;
		}
}

START_TEST(readahead_first_miss_reads_one_page)
{
	struct fx f;
	fx_init(&f, 256, 128, 128 * 4096, &ms_ops);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 128 * f.ps), 0);
	read_pages_seq(&f, 0, 1);
	/* "The window starts at 4 pages on the second sequential miss". */
	ck_assert_int_eq(f.s.readpages_calls, 0);
	ck_assert_uint_eq(pgc_mapping_nr_pages(f.m), 1);
	read_pages_seq(&f, 1, 1);
	/* It reads 4 pages and queues the next 8, so that two windows are
	 * read at once. */
	ck_assert_int_eq(f.s.readpages_calls, 2);
	ms_sort_windows(&f.s);
	ck_assert_uint_eq(f.s.readpages_first[0], 1);
	ck_assert_uint_eq(f.s.readpages_nr[0], 4);
	ck_assert_uint_eq(f.s.readpages_first[1], 5);
	ck_assert_uint_eq(f.s.readpages_nr[1], 8);
	fx_fini(&f);
}
END_TEST

START_TEST(readahead_sequential_grows_capped)
{
	struct fx f;
	fx_init(&f, 512, 256, 0, &ms_ops);
	ck_assert_int_eq(pgc_mapping_readahead(f.m), 32);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 16), 0);
	ck_assert_int_eq(pgc_mapping_readahead(f.m), 16);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 256 * f.ps), 0);
	read_pages_seq(&f, 0, 120);
	ck_assert_int_ge(f.s.readpages_calls, 5);
	ms_sort_windows(&f.s);
	ck_assert_uint_eq(f.s.readpages_nr[0], 4);
	ck_assert_uint_eq(f.s.readpages_nr[1], 8);
	ck_assert_uint_eq(f.s.readpages_nr[2], 16);
	uint64_t by_ra = 0;
	for (int i = 0; i < f.s.readpages_calls && i < MS_LOG; i++) {
		ck_assert_uint_le(f.s.readpages_nr[i], 16);
		if (i >= 2)
			ck_assert_uint_eq(f.s.readpages_nr[i], 16);
		by_ra += f.s.readpages_nr[i];
	}
	/* Most pages came in through readahead, few one by one. */
	ck_assert_int_le(f.s.readpage_calls, 2);
	ck_assert_uint_ge(by_ra, 118);
	fx_fini(&f);
}
END_TEST

static void ms_open_gate(struct mstore *s);

/* Under s->lock: whether a readpages call began at first. */
static bool ms_read_from(const struct mstore *s, uint64_t first)
{
	for (int i = 0; i < s->readpages_calls && i < MS_LOG; i++)
		if (s->readpages_first[i] == first)
			return true;
	return false;
}

START_TEST(readahead_two_windows_in_flight)
{
	/* Cap 16: the second sequential miss (page 1) reads [1, 5) and
	 * queues [5, 13); the hit halfway through [1, 5) (page 3) queues
	 * [13, 29). The store holds the read of [5, 13): the one of [13, 29)
	 * must start meanwhile, on the second filler thread. */
	struct fx f;
	fx_init(&f, 512, 256, 0, &ms_ops);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 16), 0);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 256 * f.ps), 0);
	pthread_mutex_lock(&f.s.lock);
	f.s.read_gate_idx = 5;
	pthread_mutex_unlock(&f.s.lock);
	unsigned char *buf = malloc(f.ps);
	for (uint64_t i = 0; i < 4; i++)
		ck_assert_int_eq(pgc_read(f.m, buf, f.ps, i * f.ps), (ssize_t)f.ps);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&f.s.lock);
	int rc = 0;
	while (rc == 0 && !(f.s.gate_entered && ms_read_from(&f.s, 13)))
		rc = pthread_cond_timedwait(&f.s.gate_cv, &f.s.lock, &until);
	bool both = f.s.gate_entered && ms_read_from(&f.s, 13);
	pthread_mutex_unlock(&f.s.lock);
	ms_open_gate(&f.s);
	ck_assert_msg(both, "the window at 13 did not start while the one at 5 was read");
	/* The reader then goes through both, and the data is right. */
	free(buf);
	read_pages_seq(&f, 4, 40);
	fx_fini(&f);
}
END_TEST

START_TEST(readahead_random_none)
{
	struct fx f;
	fx_init(&f, 256, 128, 0, &ms_ops);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 128 * f.ps), 0);
	static const uint64_t order[] = {50, 10, 80, 30, 3, 100, 61, 20, 90, 40, 7, 70};
	unsigned char *buf = malloc(f.ps);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		ck_assert_int_eq(pgc_read(f.m, buf, f.ps, order[i] * f.ps), (ssize_t)f.ps);
		ck_assert_uint_eq(buf[5], ms_orig(&f.s, order[i] * f.ps + 5));
	}
	ck_assert_int_eq(f.s.readpages_calls, 0);
	ck_assert_int_eq(f.s.readpage_calls, 12);
	ck_assert_uint_eq(pgc_mapping_nr_pages(f.m), 12);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(readahead_off_and_bounds)
{
	struct fx f;
	fx_init(&f, 256, 64, 0, &ms_ops);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 64 * f.ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 1025), -EINVAL);
	ck_assert_int_eq(pgc_mapping_readahead(f.m), 32);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 1024), 0);
	ck_assert_int_eq(pgc_mapping_readahead(f.m), 1024);
	ck_assert_int_eq(pgc_mapping_set_readahead(NULL, 4), -EINVAL);
	ck_assert_int_eq(pgc_mapping_readahead(NULL), -EINVAL);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	read_pages_seq(&f, 0, 20);
	ck_assert_int_eq(f.s.readpages_calls, 0);
	ck_assert_int_eq(f.s.readpage_calls, 20);
	ck_assert_uint_eq(pgc_mapping_nr_pages(f.m), 20);
	fx_fini(&f);
}
END_TEST

START_TEST(read_error_not_uptodate)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 16 * f.ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	unsigned char *buf = malloc(2 * f.ps);
	f.s.readpage_err = -EIO;
	ck_assert_int_eq(pgc_read(f.m, buf, 100, 5 * f.ps + 10), -EIO);
	ck_assert_int_ne(page_uptodate(f.m, 5), 1);
	/* A read that got some bytes before the error returns them. */
	f.s.readpage_err = 0;
	ck_assert_int_eq(pgc_read(f.m, buf, 10, 7 * f.ps), 10);
	f.s.readpage_err = -EIO;
	ck_assert_int_eq(pgc_read(f.m, buf, f.ps + 10, 7 * f.ps), (ssize_t)f.ps);
	ck_assert_int_ne(page_uptodate(f.m, 8), 1);
	/* A later read retries and gets the right bytes. */
	f.s.readpage_err = 0;
	ck_assert_int_eq(pgc_read(f.m, buf, 100, 5 * f.ps + 10), 100);
	for (size_t i = 0; i < 100; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, 5 * f.ps + 10 + i));
	ck_assert_int_eq(page_uptodate(f.m, 5), 1);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(readpages_error_falls_back)
{
	struct fx f;
	fx_init(&f, 128, 64, 0, &ms_ops);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 64 * f.ps), 0);
	f.s.readpages_err = -EIO;
	/* Readahead fails; the reads themselves retry page by page. */
	read_pages_seq(&f, 0, 12);
	ck_assert_int_ge(f.s.readpages_calls, 1);
	for (uint64_t i = 0; i < 12; i++)
		ck_assert_int_eq(page_uptodate(f.m, i), 1);
	fx_fini(&f);
}
END_TEST

/* ---- Writes ----------------------------------------------------------------- */

START_TEST(write_full_pages_no_read)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(3 * ps), *buf = malloc(3 * ps);
	for (size_t i = 0; i < 3 * ps; i++)
		src[i] = (unsigned char)(i * 31 + 5);
	ck_assert_int_eq(pgc_write(f.m, src, 3 * ps, ps, 0), (ssize_t)(3 * ps));
	ck_assert_uint_eq(pgc_mapping_size(f.m), 4 * ps);
	ck_assert_int_eq(f.s.readpage_calls + f.s.readpages_calls, 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 3);
	ck_assert_int_eq(pgc_read(f.m, buf, 3 * ps, ps), (ssize_t)(3 * ps));
	ck_assert_mem_eq(buf, src, 3 * ps);
	/* Nothing reached the store yet. */
	ck_assert_int_eq(f.s.writepage_calls, 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_mem_eq(f.s.data + ps, src, 3 * ps);
	ck_assert_int_eq(pgc_write(NULL, src, 1, 0, 0), -EINVAL);
	ck_assert_int_eq(pgc_write(f.m, src, 1, 0, 0x80), -EINVAL);
	ck_assert_int_eq(pgc_write(f.m, src, 0, 0, 0), 0);
	free(src);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(write_partial_past_size_zero_fills)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	const char msg[] = "0123456789";
	ck_assert_int_eq(pgc_write(f.m, msg, 10, 2 * ps + 100, 0), 10);
	ck_assert_int_eq(f.s.readpage_calls + f.s.readpages_calls, 0);
	ck_assert_uint_eq(pgc_mapping_size(f.m), 2 * ps + 110);
	unsigned char *buf = malloc(ps);
	ck_assert_int_eq(pgc_read(f.m, buf, ps, 2 * ps), 110);
	ck_assert_int_eq(f.s.readpage_calls, 0);
	for (size_t i = 0; i < 100; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_mem_eq(buf + 100, msg, 10);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(write_partial_inside_size_reads_first)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 4 * ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	const char msg[] = "abcdefghij";
	ck_assert_int_eq(pgc_write(f.m, msg, 10, ps + 50, 0), 10);
	ck_assert_int_eq(f.s.readpage_calls, 1);
	ck_assert_uint_eq(pgc_mapping_size(f.m), 4 * ps);
	unsigned char *buf = malloc(ps);
	ck_assert_int_eq(pgc_read(f.m, buf, ps, ps), (ssize_t)ps);
	ck_assert_int_eq(f.s.readpage_calls, 1);
	for (size_t i = 0; i < ps; i++) {
		if (i >= 50 && i < 60)
			ck_assert_uint_eq(buf[i], (unsigned char)msg[i - 50]);
		else
			ck_assert_uint_eq(buf[i], ms_orig(&f.s, ps + i));
	}
	/* A write straddling two pages reads both partial ones. */
	ck_assert_int_eq(pgc_write(f.m, msg, 10, 3 * ps - 5, 0), 10);
	ck_assert_int_eq(f.s.readpage_calls, 3);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_mem_eq(f.s.data + ps + 50, msg, 10);
	ck_assert_mem_eq(f.s.data + 3 * ps - 5, msg, 10);
	ck_assert_uint_eq(f.s.data[ps + 49], ms_orig(&f.s, ps + 49));
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(tiny_write_fast_path)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	unsigned char *page = malloc(ps), *buf = malloc(ps);
	memset(page, 0x5a, ps);
	ck_assert_int_eq(pgc_write(f.m, page, ps, 0, 0), (ssize_t)ps);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	ms_reset_counters(&f.s);
	/* Uptodate and dirty page: tiny overwrites. */
	ck_assert_int_eq(pgc_write(f.m, "hello", 5, 200, 0), 5);
	ck_assert_int_eq(pgc_write(f.m, "XY", 2, ps - 2, 0), 2);
	ck_assert_int_eq(f.s.readpage_calls + f.s.writepage_calls, 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	ck_assert_uint_eq(pgc_mapping_size(f.m), ps);
	memcpy(page + 200, "hello", 5);
	memcpy(page + ps - 2, "XY", 2);
	ck_assert_int_eq(pgc_read(f.m, buf, ps, 0), (ssize_t)ps);
	ck_assert_mem_eq(buf, page, ps);

	/* Tiny append inside the last dirty page grows the size. */
	ck_assert_int_eq(pgc_write(f.m, page, 100, ps, 0), 100); /* page 1: past size, zero-fill */
	ck_assert_int_eq(pgc_write(f.m, "tail", 4, ps + 100, 0), 4);
	ck_assert_uint_eq(pgc_mapping_size(f.m), ps + 104);
	ck_assert_int_eq(f.s.readpage_calls, 0);
	ck_assert_int_eq(pgc_read(f.m, buf, ps, ps), 104);
	ck_assert_mem_eq(buf, page, 100);
	ck_assert_mem_eq(buf + 100, "tail", 4);

	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_mem_eq(f.s.data, page, ps);
	ck_assert_mem_eq(f.s.data + ps + 100, "tail", 4);
	/* Clean now: a tiny write must dirty it again (no fast path on clean pages). */
	ck_assert_int_eq(pgc_write(f.m, "Q", 1, 7, 0), 1);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(f.s.data[7], 'Q');
	free(page);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(write_large_batch_commit)
{
	const size_t npages = 300;
	struct fx f;
	fx_init(&f, 1024, npages + 4, 0, &ms_ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(npages * ps), *buf = malloc(npages * ps);
	for (size_t i = 0; i < npages * ps; i++)
		src[i] = (unsigned char)(i * 7 + i / ps);
	ck_assert_int_eq(pgc_write(f.m, src, npages * ps, 0, 0), (ssize_t)(npages * ps));
	ck_assert_uint_eq(pgc_mapping_size(f.m), npages * ps);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), npages);
	ck_assert_int_eq(f.s.readpage_calls + f.s.readpages_calls, 0);
	ck_assert_int_eq(pgc_read(f.m, buf, npages * ps, 0), (ssize_t)(npages * ps));
	ck_assert_mem_eq(buf, src, npages * ps);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_mem_eq(f.s.data, src, npages * ps);
	free(src);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(write_sync_writes_back)
{
	struct fx f;
	fx_init(&f, 1024, 300, 0, &ms_ops);
	size_t ps = f.ps;
	size_t len = 5 * ps + 123;
	unsigned char *src = malloc(len);
	for (size_t i = 0; i < len; i++)
		src[i] = (unsigned char)(i ^ 0xa5);
	ck_assert_int_eq(pgc_write(f.m, src, len, 2 * ps, PGC_WRITE_SYNC), (ssize_t)len);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_int_ge(f.s.writepage_calls, 6);
	ck_assert_mem_eq(f.s.data + 2 * ps, src, len);
	/* A synchronous write larger than one commit batch. */
	size_t big = 290 * ps;
	unsigned char *bsrc = malloc(big);
	for (size_t i = 0; i < big; i++)
		bsrc[i] = (unsigned char)(i * 3 + 1);
	ck_assert_int_eq(pgc_write(f.m, bsrc, big, 0, PGC_WRITE_SYNC), (ssize_t)big);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_mem_eq(f.s.data, bsrc, big);
	free(bsrc);
	free(src);
	fx_fini(&f);
}
END_TEST

/* ---- A sync waits for writeback started by someone else ---------------- */

struct wbw {
	struct fx *f;
	int what; /* 0: writeback of a short range, 1: sync of everything, 2: direct read */
	void *buf;
	ssize_t ret;
	atomic_bool done;
};

static void *wbw_run(void *arg)
{
	struct wbw *w = arg;
	uint64_t ps = w->f->ps;
	if (w->what == 0)
		w->ret = pgc_mapping_writeback(w->f->m, 0, 10, PGC_WB_ALL);
	else if (w->what == 1)
		w->ret = pgc_sync_range(w->f->m, 0, UINT64_MAX, NULL);
	else
		w->ret = pgc_direct_io(w->f->m, PGC_READ, &(struct iovec){w->buf, 2 * ps}, 1, 2 * ps);
	atomic_store(&w->done, true);
	return NULL;
}

/*
 * Thread A writes page 3 back and is held inside writepage, so the page is
 * clean and under writeback. A sync of everything and a direct read of the
 * page (thread B and C) must wait for A's write rather than find nothing
 * dirty and go on: the direct read would read the old data from the store.
 */
START_TEST(sync_waits_for_writeback_of_others)
{
	struct fx f;
	fx_init(&f, 64, 32, 0, &ms_ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(ps);
	memset(src, 0x5a, ps);
	ck_assert_int_eq(pgc_write(f.m, src, ps, 3 * ps, 0), (ssize_t)ps);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	pthread_mutex_lock(&f.s.lock);
	f.s.gate_idx = 3;
	pthread_mutex_unlock(&f.s.lock);

	struct wbw w[3] = {{.f = &f, .what = 0}, {.f = &f, .what = 1}, {.f = &f, .what = 2}};
	w[2].buf = xalloc_aligned(4096, 2 * ps);
	pthread_t th[3];
	ck_assert_int_eq(pthread_create(&th[0], NULL, wbw_run, &w[0]), 0);
	pthread_mutex_lock(&f.s.lock);
	while (!f.s.gate_entered)
		pthread_cond_wait(&f.s.gate_cv, &f.s.lock);
	pthread_mutex_unlock(&f.s.lock);
	/* Page 3 is off the dirty list now, under writeback. */
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_int_eq(pthread_create(&th[1], NULL, wbw_run, &w[1]), 0);
	ck_assert_int_eq(pthread_create(&th[2], NULL, wbw_run, &w[2]), 0);
	/* Give B and C ample time to return early if they were going to. */
	usleep(100 * 1000);
	ck_assert(!atomic_load(&w[1].done));
	ck_assert(!atomic_load(&w[2].done));
	pthread_mutex_lock(&f.s.lock);
	f.s.gate_open = true;
	pthread_cond_broadcast(&f.s.gate_cv);
	pthread_mutex_unlock(&f.s.lock);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(w[0].ret, 0);
	ck_assert_int_eq(w[1].ret, 0);
	ck_assert_int_eq(w[2].ret, (ssize_t)(2 * ps));
	ck_assert_mem_eq((unsigned char *)w[2].buf + ps, src, ps);
	ck_assert_mem_eq(f.s.data + 3 * ps, src, ps);
	free(w[2].buf);
	free(src);
	fx_fini(&f);
}
END_TEST

static ssize_t dio1(pgc_mapping *m, int rw, void *buf, size_t len, uint64_t off);

static void ms_wait_gate(struct mstore *s)
{
	pthread_mutex_lock(&s->lock);
	while (!s->gate_entered)
		pthread_cond_wait(&s->gate_cv, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

static void ms_open_gate(struct mstore *s)
{
	pthread_mutex_lock(&s->lock);
	s->gate_open = true;
	pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->lock);
}

struct straddle {
	pgc_mapping *m;
	const void *buf;
	size_t len;
	uint64_t off;
	ssize_t ret;
};

static void *straddle_write(void *arg)
{
	struct straddle *w = arg;
	w->ret = pgc_write(w->m, w->buf, w->len, w->off, 0);
	return NULL;
}

/*
 * Issue 12, case 1: a direct read must see the caller's own buffered write
 * even while another writer has marked the same page dirty and not yet
 * committed it to the dirty list. Thread B writes across pages 0 and 1 and
 * is held in the read of page 1 (page 0 is DIRTY by then, its commit
 * pending). A tiny write to page 0 and a direct read of it follow: the
 * read must return the tiny write's bytes (the tiny-write fast path used
 * to take the page for accounted and left it unwritten).
 */
/*
 * A writer's commit must not take the dirty tag of a page that a writeback
 * holds locked between clear_dirty_for_io and start_writeback: that tag is
 * all a sync has to find the page by until its writeback starts, and a
 * sync that found neither tag would return with the writer's bytes still
 * unwritten (a direct read then read the store's older bytes: seen as
 * store_own_block_direct_read_after_write failing 1 run in 10).
 */
START_TEST(commit_keeps_tag_of_page_being_cleaned)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	unsigned char buf[512];
	memset(buf, 0x5a, sizeof(buf));
	pgc_io *io;
	ck_assert_int_eq(pgc_io_create(f.m, 0, &io), 0);
	pgc_clpage *clp;
	ck_assert_int_eq(pgc_write_begin(io, 0, sizeof(buf), &clp), 0);
	memcpy(pgc_clpage_data(clp), buf, sizeof(buf));
	ck_assert_int_eq(pgc_write_end(io, clp, 0, sizeof(buf)), 0);
	/* The writer's commit is still to come; a writeback cleans the page. */
	pgc_page *p, *v[2];
	ck_assert_int_eq(pgc_mapping_find_lock(f.m, 0, &p), 0);
	ck_assert_int_eq(pgc_page_clear_dirty_for_io(p), 1);
	ck_assert_int_eq(pgc_io_commit(io), 0);
	/* A sync finds it by its dirty tag (and would wait for its lock). */
	ck_assert_int_eq(pgc_mapping_find_range(f.m, 0, 0, PGC_TAG_DIRTY, v, 2), 1);
	ck_assert_ptr_eq(v[0], p);
	pgc_page_put(v[0]);
	/* Once the writeback starts, by its writeback tag instead. */
	ck_assert_int_eq(pgc_page_start_writeback(p), 0);
	ck_assert_int_eq(pgc_mapping_find_range(f.m, 0, 0, PGC_TAG_DIRTY, v, 2), 0);
	ck_assert_int_eq(pgc_mapping_find_range(f.m, 0, 0, PGC_TAG_WRITEBACK, v, 2), 1);
	pgc_page_put(v[0]);
	ck_assert_int_eq(pgc_page_end_writeback(p), 0);
	ck_assert_int_eq(pgc_mapping_find_range(f.m, 0, UINT64_MAX, PGC_TAG_WRITEBACK, v, 2), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_int_eq(pgc_io_destroy(io), 0);
	ck_assert_int_eq(pgc_cache_check(f.cache, NULL, 0), 0);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_read_sees_tiny_write_on_uncommitted_page)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 4 * ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	set_dio(f.m, 512, 512, 1 << 20);
	unsigned char *old = malloc(ps), *mine = malloc(512), *theirs = malloc(200);
	unsigned char *rb = xalloc_aligned(4096, ps);
	memset(old, 0x11, ps);
	memset(mine, 0x77, 512);
	memset(theirs, 0x99, 200);
	ck_assert_int_eq(pgc_write(f.m, old, ps, 0, 0), (ssize_t)ps);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);

	pthread_mutex_lock(&f.s.lock);
	f.s.read_gate_idx = 1;
	pthread_mutex_unlock(&f.s.lock);
	struct straddle w = {.m = f.m, .buf = theirs, .len = 200, .off = ps - 100};
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, straddle_write, &w), 0);
	ms_wait_gate(&f.s);
	/* Page 0 is dirty, its handle queued in B's write, not yet listed. */
	pgc_page *p = NULL;
	ck_assert_int_eq(pgc_mapping_find(f.m, 0, &p), 0);
	ck_assert(pgc_page_test_flag(p, PGC_PG_DIRTY));
	pgc_page_put(p);

	ck_assert_int_eq(pgc_write(f.m, mine, 512, 0, 0), 512);
	ck_assert_int_eq(dio1(f.m, PGC_READ, rb, ps, 0), (ssize_t)ps);
	ck_assert_mem_eq(rb, mine, 512);
	ck_assert_mem_eq(f.s.data, mine, 512);

	ms_open_gate(&f.s);
	pthread_join(th, NULL);
	ck_assert_int_eq(w.ret, 200);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_mem_eq(f.s.data, mine, 512);
	ck_assert_mem_eq(f.s.data + ps - 100, theirs, 200);
	ck_assert_int_eq(pgc_cache_check(f.cache, NULL, 0), 0);
	free(old);
	free(mine);
	free(theirs);
	free(rb);
	fx_fini(&f);
}
END_TEST

START_TEST(write_begin_end_direct)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 4 * ps), 0);
	pgc_io *io = NULL;
	ck_assert_int_eq(pgc_io_create(f.m, 0, &io), 0);
	pgc_clpage *clp = (pgc_clpage *)&f; /* must be reset to NULL on error */
	ck_assert_int_eq(pgc_write_begin(io, ps - 10, 20, &clp), -EINVAL);
	ck_assert_ptr_null(clp);
	ck_assert_int_eq(pgc_write_begin(io, 0, 0, &clp), -EINVAL);
	ck_assert_int_eq(pgc_write_begin(io, 0, ps + 1, &clp), -EINVAL);
	ck_assert_int_eq(pgc_write_begin(NULL, 0, 1, &clp), -EINVAL);
	ck_assert_int_eq(f.s.readpage_calls, 0);

	uint64_t pos = 2 * ps + 300;
	ck_assert_int_eq(pgc_write_begin(io, pos, 8, &clp), 0);
	ck_assert_ptr_nonnull(clp);
	ck_assert_int_eq(pgc_clpage_is_owned(clp, io), 1);
	ck_assert_int_eq(f.s.readpage_calls, 1); /* partial, inside size */
	unsigned char *d = pgc_clpage_data(clp);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d[0], ms_orig(&f.s, 2 * ps)); /* the rest is valid */
	memcpy(d + (pos % ps), "ABCDEFGH", 8);
	ck_assert_int_eq(pgc_write_end(io, clp, pos, 8), 0);
	ck_assert_int_eq(pgc_io_commit(io), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	ck_assert_uint_eq(pgc_io_bytes_written(io), 8);

	/* Cancel: copied == 0 changes nothing. */
	ck_assert_int_eq(pgc_write_begin(io, 3 * ps, ps, &clp), 0);
	ck_assert_int_eq(pgc_write_end(io, clp, 3 * ps, 0), 0);
	ck_assert_int_eq(pgc_io_commit(io), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	ck_assert_int_eq(pgc_io_destroy(io), 0);

	unsigned char buf[16];
	ck_assert_int_eq(pgc_read(f.m, buf, 8, pos), 8);
	ck_assert_mem_eq(buf, "ABCDEFGH", 8);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_mem_eq(f.s.data + pos, "ABCDEFGH", 8);
	fx_fini(&f);
}
END_TEST

START_TEST(write_partial_read_error)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 4 * ps), 0);
	f.s.readpage_err = -EIO;
	ck_assert_int_eq(pgc_write(f.m, "zz", 2, ps + 7, 0), -EIO);
	ck_assert_int_ne(page_uptodate(f.m, 1), 1);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	f.s.readpage_err = 0;
	unsigned char buf[8];
	ck_assert_int_eq(pgc_read(f.m, buf, 8, ps + 5), 8);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, ps + 5 + (size_t)i));
	fx_fini(&f);
}
END_TEST

/* ---- Write errors and errseq ---------------------------------------------------- */

START_TEST(writeback_error_reported_once_per_sample)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(3 * ps);
	memset(src, 0x77, 3 * ps);
	pgc_errseq_t s1 = pgc_mapping_sample_error(f.m);
	pgc_errseq_t s2 = pgc_mapping_sample_error(f.m);
	ck_assert_int_eq(pgc_write(f.m, src, 3 * ps, 0, 0), (ssize_t)(3 * ps));
	f.s.write_fail_nth = 1; /* the first writepage fails */
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), -EIO);
	ck_assert_uint_ge(pgc_mapping_nr_dirty(f.m), 1);
	ck_assert_uint_ne(f.s.data[0], 0x77); /* page 0 failed */
	pgc_page *p = NULL;
	ck_assert_int_eq(pgc_mapping_find(f.m, 0, &p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 1);
	pgc_page_put(p);
	/* The cache still holds the data. */
	unsigned char *buf = malloc(3 * ps);
	ck_assert_int_eq(pgc_read(f.m, buf, 3 * ps, 0), (ssize_t)(3 * ps));
	ck_assert_mem_eq(buf, src, 3 * ps);

	/* The second holder sees the error once; the writeback itself now succeeds. */
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s2), -EIO);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s2), 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	/* A sample taken after everyone saw it reports nothing. */
	pgc_errseq_t s3 = pgc_mapping_sample_error(f.m);
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &s3), 0);
	ck_assert_mem_eq(f.s.data, src, 3 * ps);

	/* A new error is reported again to both. */
	ck_assert_int_eq(pgc_write(f.m, "n", 1, 5, 0), 1);
	f.s.write_fail_nth = 1;
	f.s.write_seen = 0;
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), -EIO);
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &s1), -EIO);
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &s2), -EIO);
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &s3), -EIO);
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &s1), 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), 0);
	ck_assert_uint_eq(f.s.data[5], 'n');
	ck_assert_int_eq(pgc_sync_range(f.m, 10, 5, NULL), -EINVAL);
	ck_assert_int_eq(pgc_sync_range(NULL, 0, 5, NULL), -EINVAL);
	free(src);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(write_sync_error_returned)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(2 * ps);
	memset(src, 0x31, 2 * ps);
	f.s.write_fail_nth = 2;
	ck_assert_int_eq(pgc_write(f.m, src, 2 * ps, 0, PGC_WRITE_SYNC), -EIO);
	ck_assert_uint_ge(pgc_mapping_nr_dirty(f.m), 1);
	unsigned char *buf = malloc(2 * ps);
	ck_assert_int_eq(pgc_read(f.m, buf, 2 * ps, 0), (ssize_t)(2 * ps));
	ck_assert_mem_eq(buf, src, 2 * ps);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_mem_eq(f.s.data, src, 2 * ps);
	free(src);
	free(buf);
	fx_fini(&f);
}
END_TEST

/* ---- Direct I/O, in-memory store ------------------------------------------------ */

static ssize_t dio1(pgc_mapping *m, int rw, void *buf, size_t len, uint64_t off)
{
	struct iovec v = {.iov_base = buf, .iov_len = len};
	return pgc_direct_io(m, rw, &v, 1, off);
}

START_TEST(dio_misaligned_einval)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 16 * ps), 0);
	set_dio(f.m, 512, 512, 64 * 1024);
	unsigned char *snap = malloc(f.s.cap);
	memcpy(snap, f.s.data, f.s.cap);
	unsigned char *buf = xalloc_aligned(4096, 4 * ps);
	memset(buf, 0xee, 4 * ps);
	for (int rw = PGC_READ; rw <= PGC_WRITE; rw++) {
		ck_assert_int_eq(dio1(f.m, rw, buf, 1024, 100), -EINVAL);      /* offset */
		ck_assert_int_eq(dio1(f.m, rw, buf, 1000, 0), -EINVAL);        /* length */
		ck_assert_int_eq(dio1(f.m, rw, buf + 1, 1024, 0), -EINVAL);    /* address */
		ck_assert_int_eq(dio1(f.m, rw, buf + 256, 1024, 0), -EINVAL);  /* address */
		struct iovec v[2] = {{buf, 1024}, {buf + 2048, 100}};          /* 2nd length */
		ck_assert_int_eq(pgc_direct_io(f.m, rw, v, 2, 0), -EINVAL);
		ck_assert_int_eq(pgc_direct_io(f.m, rw, v, 0, 0), -EINVAL);
		ck_assert_int_eq(pgc_direct_io(NULL, rw, v, 1, 0), -EINVAL);
		ck_assert_int_eq(pgc_direct_io(f.m, rw, NULL, 1, 0), -EINVAL);
	}
	ck_assert_int_eq(dio1(f.m, 7, buf, 1024, 0), -EINVAL);
	ck_assert_int_eq(f.s.dio_calls, 0);
	ck_assert_int_eq(f.s.writepage_calls, 0);
	ck_assert_mem_eq(f.s.data, snap, f.s.cap);
	/* A dirty page in range is not written back by a refused request either. */
	ck_assert_int_eq(pgc_write(f.m, buf, ps, 0, 0), (ssize_t)ps);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 1000, 0), -EINVAL);
	ck_assert_int_eq(f.s.writepage_calls, 0);
	ck_assert_mem_eq(f.s.data, snap, f.s.cap);
	/* Aligned to 512 but not to a page works. */
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf + 512, 1536, 512), 1536);
	free(snap);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_no_direct_io_op)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops_nodio);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 4 * f.ps), 0);
	unsigned char *buf = xalloc_aligned(4096, f.ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, f.ps, 0), -EOPNOTSUPP);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, f.ps, 0), -EOPNOTSUPP);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_read_eof)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	uint64_t size = 3 * ps + 1000;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, size), 0);
	set_dio(f.m, 512, 512, 1 << 20);
	unsigned char *buf = xalloc_aligned(4096, 4 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 2 * ps, 4 * ps), 0);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 2 * ps, 10 * ps), 0);
	ssize_t n = dio1(f.m, PGC_READ, buf, 2 * ps, 3 * ps);
	ck_assert_int_eq(n, 1000);
	for (size_t i = 0; i < 1000; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, 3 * ps + i));
	n = dio1(f.m, PGC_READ, buf, 4 * ps, 0);
	ck_assert_int_eq(n, (ssize_t)size);
	for (size_t i = 0; i < size; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, i));
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 4 * ps), 0);
	int calls = f.s.dio_calls;
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 4 * ps), 0);
	ck_assert_int_eq(f.s.dio_calls, calls);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_segments_max_segment)
{
	struct fx f;
	fx_init(&f, 64, 32, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 32 * ps), 0);
	set_dio(f.m, 512, 512, 3 * ps);
	struct pgc_dio_limits l = {.size = sizeof l};
	ck_assert_int_eq(pgc_mapping_dio_limits(f.m, &l), 0);
	ck_assert_uint_eq(l.max_segment, 3 * ps);
	ck_assert_uint_eq(l.block_size, 512);
	unsigned char *buf = xalloc_aligned(4096, 10 * ps);
	for (size_t i = 0; i < 10 * ps; i++)
		buf[i] = (unsigned char)(i * 11 + 1);
	/* Two buffers: segments cut across them. */
	struct iovec v[2] = {{buf, 4 * ps}, {buf + 4 * ps, 6 * ps}};
	ck_assert_int_eq(pgc_direct_io(f.m, PGC_WRITE, v, 2, 2 * ps), (ssize_t)(10 * ps));
	ck_assert_int_eq(f.s.dio_calls, 4);
	ck_assert_uint_eq(f.s.dio_len[0], 3 * ps);
	ck_assert_uint_eq(f.s.dio_len[1], 3 * ps);
	ck_assert_uint_eq(f.s.dio_len[2], 3 * ps);
	ck_assert_uint_eq(f.s.dio_len[3], ps);
	ck_assert_mem_eq(f.s.data + 2 * ps, buf, 10 * ps);
	/* And reading back, with a segment size that is not a page multiple. */
	set_dio(f.m, 512, 512, 2560);
	ms_reset_counters(&f.s);
	unsigned char *rb = xalloc_aligned(4096, 10 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, rb, 10 * ps, 2 * ps), (ssize_t)(10 * ps));
	ck_assert_int_eq(f.s.dio_calls, (int)((10 * ps + 2559) / 2560));
	for (int i = 0; i < f.s.dio_calls && i < MS_LOG; i++)
		ck_assert_uint_le(f.s.dio_len[i], 2560);
	ck_assert_mem_eq(rb, buf, 10 * ps);
	ck_assert_uint_eq(pgc_mapping_size(f.m), 32 * ps);
	free(rb);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_enomem_shrinks)
{
	struct fx f;
	fx_init(&f, 64, 32, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 32 * ps), 0);
	set_dio(f.m, 512, 512, 8 * ps);
	f.s.dio_enomem_above = 2 * ps;
	unsigned char *buf = xalloc_aligned(4096, 8 * ps);
	for (size_t i = 0; i < 8 * ps; i++)
		buf[i] = (unsigned char)(i * 5 + 9);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 8 * ps, 0), (ssize_t)(8 * ps));
	ck_assert_mem_eq(f.s.data, buf, 8 * ps);
	ck_assert_uint_eq(f.s.dio_len[0], 8 * ps);
	ck_assert_int_eq(f.s.dio_ret[0], -ENOMEM);
	size_t ok = 0;
	for (int i = 0; i < f.s.dio_calls; i++)
		if (f.s.dio_ret[i] == 0) {
			ck_assert_uint_le(f.s.dio_len[i], 2 * ps);
			ok += f.s.dio_len[i];
		}
	ck_assert_uint_eq(ok, 8 * ps);
	ck_assert_int_le(f.s.dio_calls, 2 + 4 + 3);
	/* Reads shrink too. */
	unsigned char *rb = xalloc_aligned(4096, 8 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, rb, 8 * ps, 0), (ssize_t)(8 * ps));
	ck_assert_mem_eq(rb, buf, 8 * ps);
	free(rb);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_fault_first_segment_build)
{
	struct fx f;
	fx_init(&f, 64, 32, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 32 * ps), 0);
	set_dio(f.m, 512, 512, 8 * ps);
	unsigned char *buf = xalloc_aligned(4096, 8 * ps);
	memset(buf, 0x42, 8 * ps);
	pgc__fault_set_nth(1);
	ssize_t n = dio1(f.m, PGC_WRITE, buf, 8 * ps, 4 * ps);
	uint64_t injected = pgc__fault_injected();
	pgc__fault_set_nth(0);
	ck_assert_int_eq(n, (ssize_t)(8 * ps));
	ck_assert_uint_eq(injected, 1);
	ck_assert_int_ge(f.s.dio_calls, 1);
	ck_assert_uint_le(f.s.dio_len[0], 4 * ps); /* the failed build was never sent */
	ck_assert_mem_eq(f.s.data + 4 * ps, buf, 8 * ps);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_enomem_persistent)
{
	struct fx f;
	fx_init(&f, 64, 32, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 32 * ps), 0);
	set_dio(f.m, 512, 512, 8 * ps);
	f.s.dio_enomem_above = ps / 2; /* even one page fails */
	unsigned char *snap = malloc(f.s.cap);
	memcpy(snap, f.s.data, f.s.cap);
	unsigned char *buf = xalloc_aligned(4096, 8 * ps);
	memset(buf, 0x13, 8 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 8 * ps, 0), -ENOMEM);
	ck_assert_mem_eq(f.s.data, snap, f.s.cap);
	for (int i = 0; i < f.s.dio_calls; i++)
		ck_assert_uint_ge(f.s.dio_len[i], ps); /* never below one page */
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 8 * ps, 0), -ENOMEM);
	ck_assert_uint_eq(pgc_mapping_size(f.m), 32 * ps);
	free(snap);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(dio_coherence_memstore)
{
	struct fx f;
	fx_init(&f, 64, 32, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 8 * ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	unsigned char *buf = xalloc_aligned(4096, 2 * ps), *rb = malloc(2 * ps);
	/* Dirty cached data is written back before a direct read. */
	memset(buf, 0xab, ps);
	ck_assert_int_eq(pgc_write(f.m, buf, ps, ps, 0), (ssize_t)ps);
	memset(buf, 0, 2 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 2 * ps, 0), (ssize_t)(2 * ps));
	for (size_t i = 0; i < ps; i++) {
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, i));
		ck_assert_uint_eq(buf[ps + i], 0xab);
	}
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	/* A direct write updates the up-to-date cached page. */
	ck_assert_int_eq(pgc_read(f.m, rb, ps, 3 * ps), (ssize_t)ps);
	memset(buf, 0xcd, 2 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 1024, 3 * ps + 1024), 1024);
	ms_reset_counters(&f.s);
	ck_assert_int_eq(pgc_read(f.m, rb, ps, 3 * ps), (ssize_t)ps);
	ck_assert_int_eq(f.s.readpage_calls, 0);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(rb[i], (i >= 1024 && i < 2048) ? 0xcd : ms_orig(&f.s, 3 * ps + i));
	/* A direct write past the size grows it. */
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 2 * ps, 10 * ps), (ssize_t)(2 * ps));
	ck_assert_uint_eq(pgc_mapping_size(f.m), 12 * ps);
	free(buf);
	free(rb);
	fx_fini(&f);
}
END_TEST

/* Reads page idx into the cache through pgc_read (readahead is off). */
static void cache_page(struct fx *f, uint64_t idx)
{
	unsigned char *rb = malloc(f->ps);
	ck_assert_int_eq(pgc_read(f->m, rb, f->ps, idx * f->ps), (ssize_t)f->ps);
	free(rb);
	ck_assert_int_eq(page_uptodate(f->m, idx), 1);
}

static void dio_fx_init(struct fx *f)
{
	fx_init(f, 64, 16, 0, &ms_ops);
	ck_assert_int_eq(pgc_mapping_set_size(f->m, 16 * f->ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f->m, 0), 0);
	set_dio(f->m, 512, 512, 1 << 20);
}

/* A direct read copies cached pages out of the cache and sends only the
 * rest: one request per stretch between them. */
START_TEST(dio_read_copies_cached_pages)
{
	struct fx f;
	dio_fx_init(&f);
	size_t ps = f.ps;
	cache_page(&f, 2);
	cache_page(&f, 5);
	/* The store changes behind the cache's back, so that what the read
	 * returns for pages 2 and 5 tells where it came from. */
	memset(f.s.data + 2 * ps, 0xee, ps);
	memset(f.s.data + 5 * ps, 0xee, ps);
	ms_reset_counters(&f.s);
	unsigned char *buf = xalloc_aligned(4096, 8 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 8 * ps, 0), (ssize_t)(8 * ps));
	for (size_t i = 0; i < 8 * ps; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, i));
	ck_assert_int_eq(f.s.dio_calls, 3);
	uint64_t off[3] = {0, 3 * ps, 6 * ps};
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(f.s.dio_off[i], off[i]);
		ck_assert_uint_eq(f.s.dio_len[i], 2 * ps);
	}
	/* Not on page boundaries: the tail of page 2 comes from the cache,
	 * page 3 and the head of page 4 from the store. */
	ms_reset_counters(&f.s);
	memset(buf, 0, 8 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 2 * ps, 2 * ps + 1024), (ssize_t)(2 * ps));
	for (size_t i = 0; i < 2 * ps; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, 2 * ps + 1024 + i));
	ck_assert_int_eq(f.s.dio_calls, 1);
	ck_assert_uint_eq(f.s.dio_off[0], 3 * ps);
	ck_assert_uint_eq(f.s.dio_len[0], ps + 1024);
	/* All of it cached: no request at all. */
	ms_reset_counters(&f.s);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 5 * ps), (ssize_t)ps);
	ck_assert_int_eq(f.s.dio_calls, 0);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, 5 * ps + i));
	free(buf);
	fx_fini(&f);
}
END_TEST

/* A direct write over cached pages is one request, whose bytes for those
 * pages come from the pages themselves, updated first; they stay cached,
 * up to date and clean. */
START_TEST(dio_write_through_cached_pages)
{
	struct fx f;
	dio_fx_init(&f);
	size_t ps = f.ps;
	cache_page(&f, 3);
	cache_page(&f, 4);
	ms_reset_counters(&f.s);
	unsigned char *buf = xalloc_aligned(4096, 3 * ps), *rb = malloc(2 * ps);
	for (size_t i = 0; i < 3 * ps; i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	/* [2ps + 1024, 5ps + 1024): page 3 whole, page 4 whole, parts of 2 and 5. */
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 3 * ps, 2 * ps + 1024), (ssize_t)(3 * ps));
	ck_assert_int_eq(f.s.dio_calls, 1);
	ck_assert_uint_eq(f.s.dio_off[0], 2 * ps + 1024);
	ck_assert_uint_eq(f.s.dio_len[0], 3 * ps);
	ck_assert_mem_eq(f.s.data + 2 * ps + 1024, buf, 3 * ps);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_int_eq(pgc_read(f.m, rb, 2 * ps, 3 * ps), (ssize_t)(2 * ps));
	ck_assert_int_eq(f.s.readpage_calls + f.s.readpages_calls, 0); /* still cached */
	ck_assert_mem_eq(rb, buf + ps - 1024, 2 * ps);
	free(buf);
	free(rb);
	fx_fini(&f);
}
END_TEST

/* A direct write that fails leaves no cached page holding bytes the store
 * does not: the pages it had updated are read again. */
START_TEST(dio_write_error_drops_cached_bytes)
{
	struct fx f;
	dio_fx_init(&f);
	size_t ps = f.ps;
	cache_page(&f, 3);
	ms_reset_counters(&f.s);
	unsigned char *buf = xalloc_aligned(4096, 4 * ps), *rb = malloc(ps);
	memset(buf, 0x5a, 4 * ps);
	f.s.dio_err = -EIO;
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 4 * ps, 2 * ps), -EIO);
	ck_assert_int_eq(page_uptodate(f.m, 3), 0);
	ck_assert_int_eq(pgc_read(f.m, rb, ps, 3 * ps), (ssize_t)ps);
	ck_assert_int_eq(f.s.readpage_calls + f.s.readpages_calls, 1);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(rb[i], ms_orig(&f.s, 3 * ps + i));
	free(buf);
	free(rb);
	fx_fini(&f);
}
END_TEST

struct dio_bg {
	struct fx *f;
	unsigned char *buf;
	size_t len;
	uint64_t off;
	ssize_t ret;
};

static void *dio_bg_write(void *arg)
{
	struct dio_bg *b = arg;
	b->ret = dio1(b->f->m, PGC_WRITE, b->buf, b->len, b->off);
	return NULL;
}

static int ms_dio_calls(struct mstore *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->dio_calls;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* A write that holds cached pages never waits for another page's lock: it
 * sends what it has and waits, holding nothing, at the start of the next
 * segment. */
START_TEST(dio_write_stops_before_locked_page)
{
	struct fx f;
	dio_fx_init(&f);
	size_t ps = f.ps;
	cache_page(&f, 3);
	cache_page(&f, 4);
	pgc_page *p4;
	ck_assert_int_eq(pgc_mapping_find(f.m, 4, &p4), 0);
	ck_assert_int_eq(pgc_page_lock(p4), 0);
	ms_reset_counters(&f.s);
	struct dio_bg b = {.f = &f, .buf = xalloc_aligned(4096, 5 * ps), .len = 5 * ps,
			   .off = 2 * ps};
	for (size_t i = 0; i < 5 * ps; i++)
		b.buf[i] = (unsigned char)(i * 13 + 1);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, dio_bg_write, &b), 0);
	/* Pages 2 and 3 go out while page 4 is locked. */
	for (int i = 0; i < 10000 && ms_dio_calls(&f.s) < 1; i++)
		usleep(1000);
	ck_assert_int_eq(ms_dio_calls(&f.s), 1);
	ck_assert_uint_eq(f.s.dio_off[0], 2 * ps);
	ck_assert_uint_eq(f.s.dio_len[0], 2 * ps);
	ck_assert_int_eq(pgc_page_unlock(p4), 0);
	pgc_page_put(p4);
	pthread_join(t, NULL);
	ck_assert_int_eq(b.ret, (ssize_t)(5 * ps));
	ck_assert_int_eq(f.s.dio_calls, 2);
	ck_assert_uint_eq(f.s.dio_off[1], 4 * ps);
	ck_assert_uint_eq(f.s.dio_len[1], 3 * ps);
	ck_assert_mem_eq(f.s.data + 2 * ps, b.buf, 5 * ps);
	unsigned char *rb = malloc(2 * ps);
	ms_reset_counters(&f.s);
	ck_assert_int_eq(pgc_read(f.m, rb, 2 * ps, 3 * ps), (ssize_t)(2 * ps));
	ck_assert_int_eq(f.s.readpage_calls + f.s.readpages_calls, 0);
	ck_assert_mem_eq(rb, b.buf + ps, 2 * ps);
	free(rb);
	free(b.buf);
	fx_fini(&f);
}
END_TEST

/* A cached page whose private slot the mapping's owner uses gets no
 * handle; a direct write still leaves it with the new bytes. */
START_TEST(dio_write_owner_private_page)
{
	struct fx f;
	dio_fx_init(&f);
	size_t ps = f.ps;
	cache_page(&f, 3);
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find(f.m, 3, &p), 0);
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_set_private(p, 77), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	unsigned char *buf = xalloc_aligned(4096, 3 * ps), *rb = malloc(ps);
	memset(buf, 0x3c, 3 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 3 * ps, 2 * ps), (ssize_t)(3 * ps));
	ck_assert_mem_eq(f.s.data + 2 * ps, buf, 3 * ps);
	ms_reset_counters(&f.s);
	ck_assert_int_eq(pgc_read(f.m, rb, ps, 3 * ps), (ssize_t)ps);
	ck_assert_int_eq(f.s.readpage_calls + f.s.readpages_calls, 0);
	ck_assert_mem_eq(rb, buf, ps);
	ck_assert_uint_eq(pgc_page_private(p), 77);
	/* And a direct read of it takes the store's bytes, which are the same. */
	memset(buf, 0, 3 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 3 * ps), (ssize_t)ps);
	ck_assert_mem_eq(buf, rb, ps);
	ck_assert_int_eq(pgc_page_lock(p), 0);
	ck_assert_int_eq(pgc_page_clear_private(p, NULL), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);
	free(buf);
	free(rb);
	fx_fini(&f);
}
END_TEST

/* ---- The real file store --------------------------------------------------------- */

struct sfx {
	char path[64];
	pgc_store *st;
	pgc_cache *cache;
	pgc_mapping *m;
	size_t ps, align;
};

static void sfx_init(struct sfx *f, uint64_t capacity)
{
	snprintf(f->path, sizeof f->path, "/var/tmp/pgc-io-XXXXXX");
	int fd = mkstemp(f->path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	int ret = pgc_store_open(f->path, O_RDWR | O_TRUNC, 0600, &f->st);
	ck_assert_msg(ret == 0, "pgc_store_open(%s) = %d (%s)", f->path, ret, pgc_strerror(ret));
	f->cache = pgc_test_cache(capacity, 0);
	f->ps = pgc_cache_page_size(f->cache);
	f->align = pgc_store_mem_align(f->st);
	if (f->align < f->ps)
		f->align = f->ps;
	ret = pgc_store_mapping_create(f->cache, f->st, &f->m);
	ck_assert_msg(ret == 0, "pgc_store_mapping_create = %d (%s)", ret, pgc_strerror(ret));
	ck_assert_uint_eq(pgc_mapping_size(f->m), 0);
}

static void sfx_fini(struct sfx *f)
{
	ck_assert_int_eq(pgc_sync_range(f->m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	ck_assert_int_eq(pgc_store_close(f->st), 0);
	ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	unlink(f->path);
}

/* Reads the file through the kernel (not O_DIRECT). */
static ssize_t file_pread(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ssize_t n = pread(fd, buf, len, off);
	close(fd);
	return n;
}

START_TEST(store_buffered_write_direct_read)
{
	struct sfx f;
	sfx_init(&f, 256);
	size_t ps = f.ps, len = 5 * ps + 300;
	unsigned char *src = malloc(len), *buf = xalloc_aligned(f.align, 6 * ps);
	for (size_t i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 17 + 3);
	ck_assert_int_eq(pgc_write(f.m, src, len, 0, 0), (ssize_t)len);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 6);
	memset(buf, 0, 6 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 6 * ps, 0), (ssize_t)len);
	ck_assert_mem_eq(buf, src, len);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	/* The file has the bytes and the size. */
	uint64_t fsz = 0;
	ck_assert_int_eq(pgc_store_size(f.st, &fsz), 0);
	ck_assert_uint_eq(fsz, len);
	unsigned char *kb = malloc(len);
	ck_assert_int_eq(file_pread(f.path, kb, len, 0), (ssize_t)len);
	ck_assert_mem_eq(kb, src, len);
	free(kb);
	free(src);
	free(buf);
	sfx_fini(&f);
}
END_TEST

START_TEST(store_direct_write_buffered_read)
{
	struct sfx f;
	sfx_init(&f, 256);
	size_t ps = f.ps;
	unsigned char *buf = xalloc_aligned(f.align, 4 * ps), *rb = malloc(4 * ps);
	memset(buf, 0x11, 4 * ps);
	ck_assert_int_eq(pgc_write(f.m, buf, 4 * ps, 0, PGC_WRITE_SYNC), (ssize_t)(4 * ps));
	/* Cache pages 0..3, up to date and clean. */
	ck_assert_int_eq(pgc_read(f.m, rb, 4 * ps, 0), (ssize_t)(4 * ps));
	for (uint64_t i = 0; i < 4; i++)
		ck_assert_int_eq(page_uptodate(f.m, i), 1);
	memset(buf, 0x22, 2 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 2 * ps, ps), (ssize_t)(2 * ps));
	ck_assert_int_eq(pgc_read(f.m, rb, 4 * ps, 0), (ssize_t)(4 * ps));
	for (size_t i = 0; i < 4 * ps; i++)
		ck_assert_uint_eq(rb[i], (i >= ps && i < 3 * ps) ? 0x22 : 0x11);
	/* Direct write over a dirty cached page: the cache and the file agree after. */
	ck_assert_int_eq(pgc_write(f.m, "dirty", 5, 10, 0), 5);
	memset(buf, 0x33, ps);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, ps, 0), (ssize_t)ps);
	ck_assert_int_eq(pgc_read(f.m, rb, ps, 0), (ssize_t)ps);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(rb[i], 0x33);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(file_pread(f.path, rb, ps, 0), (ssize_t)ps);
	for (size_t i = 0; i < ps; i++)
		ck_assert_uint_eq(rb[i], 0x33);
	free(buf);
	free(rb);
	sfx_fini(&f);
}
END_TEST

START_TEST(store_direct_read_past_eof)
{
	struct sfx f;
	sfx_init(&f, 64);
	size_t ps = f.ps;
	unsigned char *buf = xalloc_aligned(f.align, 4 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 0), 0); /* empty file */
	memset(buf, 0x44, 2 * ps);
	ck_assert_int_eq(pgc_write(f.m, buf, ps + 100, 0, PGC_WRITE_SYNC), (ssize_t)(ps + 100));
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 2 * ps), 0);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 8 * ps), 0);
	memset(buf, 0, 4 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 4 * ps, 0), (ssize_t)(ps + 100));
	for (size_t i = 0; i < ps + 100; i++)
		ck_assert_uint_eq(buf[i], 0x44);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 2 * ps, ps), 100);
	uint64_t fsz = 0;
	ck_assert_int_eq(pgc_store_size(f.st, &fsz), 0);
	ck_assert_uint_eq(fsz, ps + 100);
	free(buf);
	sfx_fini(&f);
}
END_TEST

/* ---- The store's size follows the mapping's (issue 12, case 2) ---------- */

static uint64_t file_size_of(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Every byte of [from, to) of buf is c. */
static void assert_bytes(const unsigned char *buf, size_t from, size_t to, unsigned char c,
			 const char *what)
{
	for (size_t i = from; i < to; i++)
		ck_assert_msg(buf[i] == c, "%s: byte %zu is %#x, expected %#x", what, i, buf[i], c);
}

/*
 * Three pages of 0xAA, synced, truncated to 5000 bytes, then grown again
 * (grow: 0 by pgc_mapping_set_size to 3 pages, 1 by a 1-byte write at 3
 * pages). Bytes from 5000 on read as zeros: from the cache, from the store
 * once the cache has dropped its pages, and in the file itself after a sync,
 * which has the mapping's size.
 */
static void truncate_then_grow(int grow)
{
	struct sfx f;
	sfx_init(&f, 64);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	unsigned char *buf = malloc(4 * ps);
	memset(buf, 0xaa, 3 * ps);
	ck_assert_int_eq(pgc_write(f.m, buf, 3 * ps, 0, 0), (ssize_t)(3 * ps));
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 5000), 0);
	ck_assert_uint_eq(file_size_of(f.path), 5000); /* the store followed at once */
	uint64_t size = 3 * ps;
	if (grow == 0) {
		ck_assert_int_eq(pgc_mapping_set_size(f.m, size), 0);
	} else {
		ck_assert_int_eq(pgc_write(f.m, "z", 1, 3 * ps, 0), 1);
		size = 3 * ps + 1;
	}
	ck_assert_uint_eq(pgc_mapping_size(f.m), size);
	for (int round = 0; round < 3; round++) {
		/* 0: as cached; 1: after dropping the clean pages (read from the
		 * file); 2: after a sync, which also sets the file's size. */
		if (round == 1) {
			ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
			ck_assert_int_ge(pgc_mapping_invalidate(f.m, 0, UINT64_MAX), 0);
			ck_assert_uint_eq(pgc_mapping_nr_pages(f.m), 0);
		}
		memset(buf, 0x55, 4 * ps);
		ck_assert_int_eq(pgc_read(f.m, buf, 4 * ps, 0), (ssize_t)size);
		assert_bytes(buf, 0, 5000, 0xaa, "read");
		assert_bytes(buf, 5000, 3 * ps, 0, "read");
		if (grow)
			ck_assert_uint_eq(buf[3 * ps], 'z');
	}
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(file_size_of(f.path), size);
	memset(buf, 0x55, 4 * ps);
	ck_assert_int_eq(file_pread(f.path, buf, 4 * ps, 0), (ssize_t)size);
	assert_bytes(buf, 0, 5000, 0xaa, "the file");
	assert_bytes(buf, 5000, 3 * ps, 0, "the file");
	ck_assert_int_eq(pgc_cache_check(f.cache, NULL, 0), 0);
	free(buf);
	sfx_fini(&f);
}

START_TEST(store_truncate_then_set_size_reads_zeros)
{
	truncate_then_grow(0);
}
END_TEST

START_TEST(store_truncate_then_write_past_reads_zeros)
{
	truncate_then_grow(1);
}
END_TEST

/*
 * After a sync the file has the mapping's size, whether the object grew by
 * pgc_mapping_set_size() past its last page (a hole at the end) or by a
 * truncate up; a truncate up extends the file at once.
 */
START_TEST(store_sync_gives_file_the_mapping_size)
{
	struct sfx f;
	sfx_init(&f, 64);
	size_t ps = f.ps;
	unsigned char *buf = malloc(ps);
	memset(buf, 0x3c, ps);
	ck_assert_int_eq(pgc_write(f.m, buf, ps, 0, 0), (ssize_t)ps);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 3 * ps + 5), 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(file_size_of(f.path), 3 * ps + 5);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 6 * ps + 7), 0);
	ck_assert_uint_eq(file_size_of(f.path), 6 * ps + 7);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(file_size_of(f.path), 6 * ps + 7);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 100), 0);
	ck_assert_uint_eq(file_size_of(f.path), 100);
	ck_assert_int_eq(file_pread(f.path, buf, ps, 0), 100);
	assert_bytes(buf, 0, 100, 0x3c, "the file");
	free(buf);
	sfx_fini(&f);
}
END_TEST

/* The resize operation of a store of one's own is called with the size. */
static atomic_int resize_calls;
static _Atomic uint64_t resize_last;

static int ms_resize(pgc_mapping *m, uint64_t size)
{
	struct mstore *s = pgc_mapping_owner(m);
	atomic_fetch_add(&resize_calls, 1);
	atomic_store(&resize_last, size);
	pthread_mutex_lock(&s->lock);
	if (size < s->cap)
		memset(s->data + size, 0, s->cap - size);
	pthread_mutex_unlock(&s->lock);
	return size > s->cap ? -EFBIG : 0;
}

START_TEST(resize_op_called_by_truncate_and_sync)
{
	struct pgc_mapping_ops ops = ms_ops;
	ops.resize = ms_resize;
	struct fx f;
	fx_init(&f, 64, 8, 4 * 4096, &ops);
	atomic_store(&resize_calls, 0);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 5000), 0);
	ck_assert_int_eq(atomic_load(&resize_calls), 1);
	ck_assert_uint_eq(atomic_load(&resize_last), 5000);
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 3 * f.ps), 0);
	ck_assert_int_eq(atomic_load(&resize_calls), 1); /* no I/O at set_size */
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(atomic_load(&resize_calls), 2);
	ck_assert_uint_eq(atomic_load(&resize_last), 3 * f.ps);
	/* Its error is returned (the mapping is truncated all the same). */
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 100 * f.ps), -EFBIG);
	ck_assert_uint_eq(pgc_mapping_size(f.m), 100 * f.ps);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), -EFBIG);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 0), 0);
	fx_fini(&f);
}
END_TEST

/* ---- The sync operation: durability ----------------------------------- */

static int ms_resize_ev(pgc_mapping *m, uint64_t size)
{
	(void)size;
	struct mstore *s = pgc_mapping_owner(m);
	pthread_mutex_lock(&s->lock);
	ms_event(s, 'r');
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int ms_sync(pgc_mapping *m, uint64_t start, uint64_t end)
{
	struct mstore *s = pgc_mapping_owner(m);
	pthread_mutex_lock(&s->lock);
	ms_event(s, 's');
	s->sync_calls++;
	s->sync_start = start;
	s->sync_end = end;
	int err = s->sync_err;
	pthread_mutex_unlock(&s->lock);
	return err;
}

static struct pgc_mapping_ops ms_ops_sync(void)
{
	struct pgc_mapping_ops ops = ms_ops;
	ops.resize = ms_resize_ev;
	ops.sync = ms_sync;
	return ops;
}

/* The calls since the last ms_events_reset(), as a string. */
static const char *ms_events(struct mstore *s)
{
	pthread_mutex_lock(&s->lock);
	s->events[s->nevents] = '\0';
	pthread_mutex_unlock(&s->lock);
	return s->events;
}

static void ms_events_reset(struct mstore *s)
{
	pthread_mutex_lock(&s->lock);
	s->nevents = 0;
	s->sync_calls = 0;
	pthread_mutex_unlock(&s->lock);
}

/*
 * pgc_sync_range() writes the range back, resizes, then syncs with the
 * caller's byte range: sync comes after the last writepage, once per call,
 * and also when nothing was dirty (pages reclaim wrote back earlier are not
 * durable until a sync).
 */
START_TEST(sync_op_called_after_last_writepage)
{
	struct pgc_mapping_ops ops = ms_ops_sync();
	struct fx f;
	fx_init(&f, 64, 16, 0, &ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(5 * ps);
	memset(src, 0x5a, 5 * ps);
	ck_assert_int_eq(pgc_write(f.m, src, 5 * ps, 0, 0), (ssize_t)(5 * ps));
	ms_events_reset(&f.s);
	ck_assert_int_eq(pgc_sync_range(f.m, ps, 4 * ps - 1, NULL), 0);
	ck_assert_str_eq(ms_events(&f.s), "wwwrs");
	ck_assert_uint_eq(f.s.sync_start, ps);
	ck_assert_uint_eq(f.s.sync_end, 4 * ps - 1);
	ck_assert_mem_eq(f.s.data + ps, src, 3 * ps);
	ms_events_reset(&f.s);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_str_eq(ms_events(&f.s), "wwrs");
	ck_assert_uint_eq(f.s.sync_start, 0);
	ck_assert_uint_eq(f.s.sync_end, UINT64_MAX);
	ms_events_reset(&f.s);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_str_eq(ms_events(&f.s), "rs");
	/* Writeback alone (a flush without durability) does not sync. */
	ck_assert_int_eq(pgc_write(f.m, src, ps, 0, PGC_WRITE_SYNC), (ssize_t)ps);
	ck_assert_int_eq(pgc_write(f.m, src, ps, ps, 0), (ssize_t)ps);
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(f.s.sync_calls, 1);
	free(src);
	fx_fini(&f);
}
END_TEST

/*
 * The sync operation's error is returned and recorded in the errseq, so that
 * another holder of a sample sees it too; a failed writeback still syncs
 * what was written, and its error, the first, is the one returned.
 */
START_TEST(sync_op_error_reported)
{
	struct pgc_mapping_ops ops = ms_ops_sync();
	struct fx f;
	fx_init(&f, 64, 16, 0, &ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(2 * ps);
	memset(src, 0x42, 2 * ps);
	pgc_errseq_t s1 = pgc_mapping_sample_error(f.m), s2 = s1;
	ck_assert_int_eq(pgc_write(f.m, src, ps, 0, 0), (ssize_t)ps);
	f.s.sync_err = -EIO;
	ms_events_reset(&f.s);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), -EIO);
	ck_assert_str_eq(ms_events(&f.s), "wrs");
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &s1), 0); /* seen once */
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &s2), -EIO);
	/* Without a sample: this call's own error only. */
	f.s.sync_err = -ENOSPC;
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), -ENOSPC);
	f.s.sync_err = 0;
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), -ENOSPC);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), 0);
	/* A writepage fails: sync is still called, the writeback error wins. */
	ck_assert_int_eq(pgc_write(f.m, src, 2 * ps, 0, 0), (ssize_t)(2 * ps));
	f.s.write_seen = 0;
	f.s.write_fail_nth = 1;
	f.s.sync_err = -EROFS;
	ms_events_reset(&f.s);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), -EIO);
	ck_assert_str_eq(ms_events(&f.s), "wwrs");
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 1);
	f.s.write_fail_nth = 0;
	f.s.sync_err = 0;
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, &s1), 0);
	ck_assert_mem_eq(f.s.data, src, 2 * ps);
	free(src);
	fx_fini(&f);
}
END_TEST

/*
 * A caller built against 0.1.0 passes a table whose size ends before sync:
 * whatever lies in memory past its size is never read (here a sync that
 * would count), and everything else works as before.
 */
START_TEST(sync_op_old_size_ops_without_sync)
{
	struct pgc_mapping_ops ops = ms_ops_sync();
	ops.size = offsetof(struct pgc_mapping_ops, sync);
	struct fx f;
	fx_init(&f, 64, 16, 0, &ops);
	size_t ps = f.ps;
	unsigned char *src = malloc(3 * ps), *buf = malloc(3 * ps);
	memset(src, 0x77, 3 * ps);
	ck_assert_int_eq(pgc_write(f.m, src, 3 * ps, 0, 0), (ssize_t)(3 * ps));
	ms_events_reset(&f.s);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_str_eq(ms_events(&f.s), "wwwr");
	ck_assert_int_eq(f.s.sync_calls, 0);
	ck_assert_mem_eq(f.s.data, src, 3 * ps);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, ps), 0);
	ck_assert_int_eq(pgc_read(f.m, buf, 3 * ps, 0), (ssize_t)ps);
	ck_assert_mem_eq(buf, src, ps);
	free(src);
	free(buf);
	fx_fini(&f);
	/* The current size, same table: sync is called. */
	ops.size = sizeof(ops);
	fx_init(&f, 64, 16, 0, &ops);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(f.s.sync_calls, 1);
	fx_fini(&f);
}
END_TEST

static atomic_int store_sync_calls;

/* The built-in store's sync, counted. */
static int counting_store_sync(pgc_mapping *m, uint64_t start, uint64_t end)
{
	atomic_fetch_add(&store_sync_calls, 1);
	return pgc_store_ops()->sync(m, start, end);
}

/*
 * The built-in file store has a sync operation (fdatasync) and
 * pgc_sync_range() calls it, once per call, with its error returned: the
 * store's descriptor is replaced by /dev/null, where fdatasync(2) fails
 * with EINVAL.
 */
START_TEST(store_sync_op_called_by_sync_range)
{
	ck_assert_ptr_nonnull(pgc_store_ops()->sync);
	struct sfx f;
	snprintf(f.path, sizeof f.path, "/var/tmp/pgc-io-XXXXXX");
	int fd = mkstemp(f.path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pgc_store_open(f.path, O_RDWR | O_TRUNC, 0600, &f.st), 0);
	f.cache = pgc_test_cache(64, 0);
	f.ps = pgc_cache_page_size(f.cache);
	struct pgc_mapping_ops ops = *pgc_store_ops();
	ops.sync = counting_store_sync;
	ck_assert_int_eq(pgc_mapping_create(f.cache, &ops, f.st, 0, &f.m), 0);
	atomic_store(&store_sync_calls, 0);
	size_t len = 3 * f.ps + 100;
	unsigned char *src = malloc(len), *kb = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 29 + 1);
	ck_assert_int_eq(pgc_write(f.m, src, len, 0, 0), (ssize_t)len);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(atomic_load(&store_sync_calls), 1);
	ck_assert_int_eq(file_pread(f.path, kb, len + 1, 0), (ssize_t)len);
	ck_assert_mem_eq(kb, src, len);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, f.ps - 1, NULL), 0);
	ck_assert_int_eq(atomic_load(&store_sync_calls), 2);
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 0), 0);
	/* Nothing dirty and the file already of the mapping's size: only the
	 * sync touches the descriptor. */
	int null_fd = open("/dev/null", O_RDWR);
	ck_assert_int_ge(null_fd, 0);
	ck_assert_int_eq(dup2(null_fd, pgc_store_fd(f.st)), pgc_store_fd(f.st));
	close(null_fd);
	pgc_errseq_t since = pgc_mapping_sample_error(f.m);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), -EINVAL);
	ck_assert_int_eq(atomic_load(&store_sync_calls), 3);
	ck_assert_int_eq(pgc_mapping_check_error(f.m, &since), -EINVAL);
	ck_assert_int_eq(pgc_mapping_destroy(f.m), 0);
	ck_assert_int_eq(pgc_store_close(f.st), 0);
	ck_assert_int_eq(pgc_cache_destroy(f.cache), 0);
	unlink(f.path);
	free(src);
	free(kb);
}
END_TEST

/* ---- Each thread its own 512-byte block, blocks sharing pages ---------- */

#define OB_THREADS 4
#define OB_BLOCK 512
#define OB_ITERS 6000

struct ob_shared {
	pgc_mapping *m;
	size_t align;
	struct pgc_tfail fail;
	atomic_ulong checked;
};

struct ob_thread {
	struct ob_shared *sh;
	unsigned id;
};

/*
 * Issue 12, case 1, as the acceptance test ran it: every thread writes its
 * own block (a new version each time) with pgc_write, then reads the same
 * block with a direct read, which must return exactly that version (dio.h:
 * dirty cached pages are written back first). The four blocks share one
 * page, so other threads' writes keep it dirty with their commits pending.
 */
static void *ob_run(void *arg)
{
	struct ob_thread *t = arg;
	struct ob_shared *sh = t->sh;
	unsigned char *w = malloc(OB_BLOCK), *r = xalloc_aligned(sh->align, OB_BLOCK);
	uint64_t off = (uint64_t)t->id * OB_BLOCK;
	for (uint32_t v = 1; v <= OB_ITERS && !atomic_load(&sh->fail.failed); v++) {
		for (size_t i = 0; i < OB_BLOCK; i += 8) {
			uint64_t word = ((uint64_t)t->id << 32) | v;
			memcpy(w + i, &word, 8);
		}
		ssize_t n = pgc_write(sh->m, w, OB_BLOCK, off, 0);
		if (!TCHECK(&sh->fail, n == OB_BLOCK, "thread %u: write = %zd", t->id, n))
			break;
		n = dio1(sh->m, PGC_READ, r, OB_BLOCK, off);
		if (!TCHECK(&sh->fail, n == OB_BLOCK, "thread %u: direct read = %zd", t->id, n))
			break;
		uint64_t got;
		memcpy(&got, r, 8);
		TCHECK(&sh->fail, memcmp(r, w, OB_BLOCK) == 0,
		       "thread %u: direct read of its own block after writing version %u gave "
		       "version %u", t->id, v, (unsigned)got);
		atomic_fetch_add(&sh->checked, 1);
	}
	free(w);
	free(r);
	return NULL;
}

START_TEST(store_own_block_direct_read_after_write)
{
	struct sfx f;
	sfx_init(&f, 64);
	ck_assert_uint_le(OB_THREADS * OB_BLOCK, f.ps);
	ck_assert_msg(pgc_store_block_size(f.st) <= OB_BLOCK,
		      "the file system of /var/tmp has %zu-byte blocks: 512-byte direct reads, "
		      "which this case needs, are not possible there", pgc_store_block_size(f.st));
	struct ob_shared sh = {.m = f.m, .align = f.align};
	struct ob_thread t[OB_THREADS];
	pthread_t th[OB_THREADS];
	for (unsigned i = 0; i < OB_THREADS; i++) {
		t[i] = (struct ob_thread){.sh = &sh, .id = i};
		ck_assert_int_eq(pthread_create(&th[i], NULL, ob_run, &t[i]), 0);
	}
	for (unsigned i = 0; i < OB_THREADS; i++)
		pthread_join(th[i], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&sh.fail);
	ck_assert_uint_eq(atomic_load(&sh.checked), OB_THREADS * OB_ITERS);
	ck_assert_int_eq(pgc_cache_check(f.cache, NULL, 0), 0);
	sfx_fini(&f);
}
END_TEST

/* ---- Concurrent buffered writers and direct readers on the file store ---- */

#define CR_PAGES 4  /* pages per range */
#define CR_DISJ 8   /* disjoint ranges: range r belongs to writer r % 2 */
#define CR_OVL 8    /* pages of the overlapping area, after the ranges */

struct cshared {
	pgc_mapping *m;
	size_t ps, align;
	uint64_t seed;
	unsigned ops;
	atomic_uint started[CR_DISJ];   /* version of the latest write begun */
	atomic_uint completed[CR_DISJ]; /* version of the latest write completed */
	atomic_int stop;
	atomic_ulong reads_checked, reads_exact;
	struct pgc_tfail fail;
};

struct cthread {
	struct cshared *sh;
	int id;
};

/* A page stamp: every 8-byte word of the page holds it. */
static uint64_t stamp(unsigned version, unsigned writer, uint64_t page)
{
	return ((uint64_t)version << 32) | ((uint64_t)writer << 24) | (page & 0xffffff);
}

static void fill_stamp(unsigned char *p, size_t ps, uint64_t v)
{
	for (size_t i = 0; i < ps; i += 8)
		memcpy(p + i, &v, 8);
}

/* The page's stamp, or UINT64_MAX if the page is torn. */
static uint64_t page_stamp(const unsigned char *p, size_t ps)
{
	uint64_t v;
	memcpy(&v, p, 8);
	for (size_t i = 8; i < ps; i += 8)
		if (memcmp(p + i, &v, 8))
			return UINT64_MAX;
	return v;
}

static void *cwriter(void *arg)
{
	struct cthread *t = arg;
	struct cshared *sh = t->sh;
	size_t ps = sh->ps;
	struct pgc_rng rng = {sh->seed * 31 + (uint64_t)t->id};
	unsigned char *buf = malloc(CR_PAGES * ps);
	for (unsigned op = 0; op < sh->ops && !atomic_load(&sh->fail.failed); op++) {
		if (pgc_rng_below(&rng, 3)) {
			/* A range of our own. */
			unsigned r = (unsigned)(pgc_rng_below(&rng, CR_DISJ / 2) * 2 + (unsigned)t->id);
			unsigned v = atomic_load(&sh->started[r]) + 1;
			for (unsigned k = 0; k < CR_PAGES; k++)
				fill_stamp(buf + k * ps, ps, stamp(v, (unsigned)t->id, r * CR_PAGES + k));
			atomic_store(&sh->started[r], v);
			ssize_t n = pgc_write(sh->m, buf, CR_PAGES * ps, (uint64_t)r * CR_PAGES * ps, 0);
			if (!TCHECK(&sh->fail, n == (ssize_t)(CR_PAGES * ps), "write range %u = %zd", r, n))
				break;
			atomic_store(&sh->completed[r], v);
		} else {
			/* Overlapping area: some whole pages. */
			uint64_t first = pgc_rng_below(&rng, CR_OVL);
			uint64_t nr = 1 + pgc_rng_below(&rng, CR_OVL - first);
			if (nr > CR_PAGES)
				nr = CR_PAGES;
			uint64_t base = CR_DISJ * CR_PAGES + first;
			for (uint64_t k = 0; k < nr; k++)
				fill_stamp(buf + k * ps, ps, stamp(op + 1, (unsigned)t->id, base + k));
			unsigned flags = pgc_rng_below(&rng, 8) ? 0 : PGC_WRITE_SYNC;
			ssize_t n = pgc_write(sh->m, buf, nr * ps, base * ps, flags);
			if (!TCHECK(&sh->fail, n == (ssize_t)(nr * ps), "write ovl = %zd", n))
				break;
		}
	}
	free(buf);
	return NULL;
}

static void *creader(void *arg)
{
	struct cthread *t = arg;
	struct cshared *sh = t->sh;
	size_t ps = sh->ps;
	struct pgc_rng rng = {sh->seed * 77 + (uint64_t)t->id};
	unsigned char *buf = aligned_alloc(sh->align, CR_PAGES * ps);
	while (!atomic_load(&sh->stop) && !atomic_load(&sh->fail.failed)) {
		if (pgc_rng_below(&rng, 3)) {
			unsigned r = (unsigned)pgc_rng_below(&rng, CR_DISJ);
			unsigned lo = atomic_load(&sh->completed[r]);
			unsigned hi0 = atomic_load(&sh->started[r]);
			ssize_t n = dio1(sh->m, PGC_READ, buf, CR_PAGES * ps, (uint64_t)r * CR_PAGES * ps);
			unsigned hi = atomic_load(&sh->started[r]);
			if (!TCHECK(&sh->fail, n == (ssize_t)(CR_PAGES * ps), "dio read %u = %zd", r, n))
				break;
			for (unsigned k = 0; k < CR_PAGES; k++) {
				uint64_t s = page_stamp(buf + k * ps, ps);
				if (!TCHECK(&sh->fail, s != UINT64_MAX, "range %u page %u torn", r, k))
					goto out;
				unsigned v = (unsigned)(s >> 32);
				uint64_t page = s & 0xffffff;
				TCHECK(&sh->fail, page == r * CR_PAGES + k, "range %u page %u: stamp of page %" PRIu64, r, k, page);
				/* Version 0 is the initial fill (writer 0). */
				TCHECK(&sh->fail, v >= lo && v <= hi,
				       "range %u page %u: version %u outside [%u, %u]", r, k, v, lo, hi);
				if (lo == hi && hi0 == hi)
					TCHECK(&sh->fail, v == lo,
					       "range %u page %u: version %u, last completed write %u", r, k, v, lo);
			}
			atomic_fetch_add(&sh->reads_checked, 1);
			if (lo == hi)
				atomic_fetch_add(&sh->reads_exact, 1);
		} else {
			uint64_t base = CR_DISJ * CR_PAGES;
			uint64_t first = pgc_rng_below(&rng, CR_OVL - 1);
			ssize_t n = dio1(sh->m, PGC_READ, buf, 2 * ps, (base + first) * ps);
			if (!TCHECK(&sh->fail, n == (ssize_t)(2 * ps), "dio read ovl = %zd", n))
				break;
			for (unsigned k = 0; k < 2; k++) {
				uint64_t s = page_stamp(buf + k * ps, ps);
				if (!TCHECK(&sh->fail, s != UINT64_MAX && (s & 0xffffff) == base + first + k,
					    "overlap page %" PRIu64 " torn or misplaced", base + first + k))
					goto out;
			}
		}
	}
out:
	free(buf);
	return NULL;
}

START_TEST(store_concurrent_buffered_and_direct)
{
	struct sfx f;
	sfx_init(&f, 512);
	size_t ps = f.ps;
	uint64_t npages = CR_DISJ * CR_PAGES + CR_OVL;
	struct cshared *sh = calloc(1, sizeof *sh);
	sh->m = f.m;
	sh->ps = ps;
	sh->align = f.align;
	sh->seed = pgc_test_seed_for("store_concurrent_buffered_and_direct");
	sh->ops = (unsigned)pgc_test_scaled(2000, 50);
	printf("io: store_concurrent_buffered_and_direct seed %" PRIu64 " ops %u\n", pgc_test_seed(),
	       sh->ops);
	fflush(stdout);

	/* Initial content: version 0 everywhere, on the file. */
	unsigned char *all = malloc(npages * ps), *kb = malloc(npages * ps);
	for (uint64_t i = 0; i < npages; i++)
		fill_stamp(all + i * ps, ps, stamp(0, 0, i));
	ck_assert_int_eq(pgc_write(f.m, all, npages * ps, 0, PGC_WRITE_SYNC), (ssize_t)(npages * ps));

	pthread_t th[4];
	struct cthread ct[4];
	for (int i = 0; i < 4; i++) {
		ct[i].sh = sh;
		ct[i].id = i % 2;
	}
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, i < 2 ? cwriter : creader, &ct[i]), 0);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	atomic_store(&sh->stop, 1);
	pthread_join(th[2], NULL);
	pthread_join(th[3], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&sh->fail);
	ck_assert_uint_gt(atomic_load(&sh->reads_checked), 0);

	/* Quiescent: each disjoint range holds its last completed write, and a
	 * direct read says so exactly. */
	unsigned char *buf = xalloc_aligned(f.align, CR_PAGES * ps);
	for (unsigned r = 0; r < CR_DISJ; r++) {
		unsigned v = atomic_load(&sh->completed[r]);
		ck_assert_int_eq(dio1(f.m, PGC_READ, buf, CR_PAGES * ps, (uint64_t)r * CR_PAGES * ps),
				 (ssize_t)(CR_PAGES * ps));
		for (unsigned k = 0; k < CR_PAGES; k++)
			ck_assert_uint_eq(page_stamp(buf + k * ps, ps) >> 32, v);
	}
	/* After a sync, the file equals the cache. */
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_uint_eq(pgc_mapping_size(f.m), npages * ps);
	ck_assert_int_eq(pgc_read(f.m, all, npages * ps, 0), (ssize_t)(npages * ps));
	ck_assert_int_eq(file_pread(f.path, kb, npages * ps, 0), (ssize_t)(npages * ps));
	ck_assert_mem_eq(all, kb, npages * ps);
	free(buf);
	free(all);
	free(kb);
	free(sh);
	sfx_fini(&f);
}
END_TEST

/* ---- pgc_last_error(): the cause of a short count --------------------------- */

static void *last_error_other_thread(void *arg)
{
	struct fx *f = arg;
	/* Thread-local: this thread has not seen the other's error. */
	intptr_t ok = pgc_last_error() == 0;
	char b[10];
	ok = ok && pgc_read(f->m, b, sizeof(b), 0) == (ssize_t)sizeof(b) && pgc_last_error() == 0;
	return (void *)ok;
}

START_TEST(last_error_read_short)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 16 * ps), 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	unsigned char *buf = malloc(4 * ps);
	ck_assert_int_eq(pgc_last_error(), 0);
	ck_assert_int_eq(pgc_read(f.m, buf, 10, 0), 10);
	ck_assert_int_eq(pgc_last_error(), 0);

	/* The store fails from page 2 on: a 4-page read gets 2 pages, and the
	 * store's own error (not an invented -EIO) is the cause. */
	f.s.readpage_err = -ENODATA;
	f.s.readpage_err_from = 2;
	ck_assert_int_eq(pgc_read(f.m, buf, 4 * ps, 0), (ssize_t)(2 * ps));
	ck_assert_int_eq(pgc_last_error(), -ENODATA);
	for (size_t i = 0; i < 2 * ps; i++)
		ck_assert_uint_eq(buf[i], ms_orig(&f.s, i));
	/* Other library calls leave it alone. */
	ck_assert_uint_ge(pgc_mapping_nr_pages(f.m), 2);
	ck_assert_int_eq(pgc_last_error(), -ENODATA);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, last_error_other_thread, &f), 0);
	void *ok = NULL;
	ck_assert_int_eq(pthread_join(t, &ok), 0);
	ck_assert_ptr_nonnull(ok);
	ck_assert_int_eq(pgc_last_error(), -ENODATA);

	/* The next call replaces it: a complete read clears it. */
	ck_assert_int_eq(pgc_read(f.m, buf, ps, 0), (ssize_t)ps);
	ck_assert_int_eq(pgc_last_error(), 0);
	/* Nothing read: the error is both the result and the cause. */
	ck_assert_int_eq(pgc_read(f.m, buf, 10, 5 * ps), -ENODATA);
	ck_assert_int_eq(pgc_last_error(), -ENODATA);
	/* Short at the mapping's size is not an error. */
	f.s.readpage_err = 0;
	ck_assert_int_eq(pgc_read(f.m, buf, 2 * ps, 15 * ps + 10), (ssize_t)(ps - 10));
	ck_assert_int_eq(pgc_last_error(), 0);
	ck_assert_int_eq(pgc_read(f.m, buf, 10, 5 * ps), 10);
	ck_assert_int_eq(pgc_read(f.m, buf, 10, 16 * ps), 0);
	ck_assert_int_eq(pgc_last_error(), 0);
	ck_assert_int_eq(pgc_read(NULL, buf, 10, 0), -EINVAL);
	ck_assert_int_eq(pgc_last_error(), -EINVAL);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(last_error_write_short)
{
	struct fx f;
	fx_init(&f, 64, 16, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 4 * ps), 0);
	unsigned char *buf = malloc(2 * ps);
	memset(buf, 'w', 2 * ps);
	/* Page 0 is written whole; page 1, written in part, must be read
	 * first, and its read fails: one page written, the read's error. */
	f.s.readpage_err = -ENODATA;
	f.s.readpage_err_from = 1;
	ck_assert_int_eq(pgc_write(f.m, buf, ps + 10, 0, 0), (ssize_t)ps);
	ck_assert_int_eq(pgc_last_error(), -ENODATA);
	f.s.readpage_err = 0;
	ck_assert_int_eq(pgc_write(f.m, buf, ps + 10, 0, 0), (ssize_t)(ps + 10));
	ck_assert_int_eq(pgc_last_error(), 0);
	/* A tiny write (the fast path) clears it too. */
	f.s.readpage_err = -ENODATA;
	f.s.readpage_err_from = 2;
	ck_assert_int_eq(pgc_write(f.m, buf, ps + 10, ps, 0), (ssize_t)ps);
	ck_assert_int_eq(pgc_last_error(), -ENODATA);
	ck_assert_int_eq(pgc_write(f.m, buf, 8, 3, 0), 8);
	ck_assert_int_eq(pgc_last_error(), 0);
	f.s.readpage_err = 0;
	/* A synchronous write whose write-back fails returns the error and
	 * records it. */
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	f.s.write_fail_nth = 1;
	f.s.write_seen = 0;
	ck_assert_int_eq(pgc_write(f.m, buf, ps, 0, PGC_WRITE_SYNC), -EIO);
	ck_assert_int_eq(pgc_last_error(), -EIO);
	f.s.write_fail_nth = 0;
	ck_assert_int_eq(pgc_write(NULL, buf, 1, 0, 0), -EINVAL);
	ck_assert_int_eq(pgc_last_error(), -EINVAL);
	ck_assert_int_eq(pgc_write(f.m, buf, 0, 0, 0), 0);
	ck_assert_int_eq(pgc_last_error(), 0);
	free(buf);
	fx_fini(&f);
}
END_TEST

START_TEST(last_error_dio_short)
{
	struct fx f;
	/* The store holds 4 pages, the mapping says 8: direct_IO answers
	 * -ENOSPC for a segment past the store. */
	fx_init(&f, 64, 4, 0, &ms_ops);
	size_t ps = f.ps;
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 8 * ps), 0);
	set_dio(f.m, 512, 512, ps);
	unsigned char *buf = xalloc_aligned(4096, 6 * ps);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 2 * ps, 0), (ssize_t)(2 * ps));
	ck_assert_int_eq(pgc_last_error(), 0);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 6 * ps, 0), (ssize_t)(4 * ps));
	ck_assert_int_eq(pgc_last_error(), -ENOSPC);
	ck_assert_int_eq(dio1(f.m, PGC_WRITE, buf, 6 * ps, 0), (ssize_t)(4 * ps));
	ck_assert_int_eq(pgc_last_error(), -ENOSPC);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 8 * ps), 0);
	ck_assert_int_eq(pgc_last_error(), 0);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, ps, 5 * ps), -ENOSPC);
	ck_assert_int_eq(pgc_last_error(), -ENOSPC);
	ck_assert_int_eq(dio1(f.m, PGC_READ, buf, 100, 0), -EINVAL);
	ck_assert_int_eq(pgc_last_error(), -EINVAL);
	free(buf);
	fx_fini(&f);
}
END_TEST

static Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	PGC_ADD(s, read_clamps_at_size, 10);
	PGC_ADD(s, readahead_first_miss_reads_one_page, 10);
	PGC_ADD(s, readahead_sequential_grows_capped, 10);
	PGC_ADD(s, readahead_two_windows_in_flight, 60);
	PGC_ADD(s, readahead_random_none, 10);
	PGC_ADD(s, readahead_off_and_bounds, 10);
	PGC_ADD(s, read_error_not_uptodate, 10);
	PGC_ADD(s, readpages_error_falls_back, 10);
	PGC_ADD(s, write_full_pages_no_read, 10);
	PGC_ADD(s, write_partial_past_size_zero_fills, 10);
	PGC_ADD(s, write_partial_inside_size_reads_first, 10);
	PGC_ADD(s, tiny_write_fast_path, 10);
	PGC_ADD(s, write_large_batch_commit, 10);
	PGC_ADD(s, write_sync_writes_back, 10);
	PGC_ADD(s, sync_waits_for_writeback_of_others, 10);
	PGC_ADD(s, dio_read_sees_tiny_write_on_uncommitted_page, 10);
	PGC_ADD(s, write_begin_end_direct, 10);
	PGC_ADD(s, write_partial_read_error, 10);
	PGC_ADD(s, writeback_error_reported_once_per_sample, 10);
	PGC_ADD(s, write_sync_error_returned, 10);
	PGC_ADD(s, dio_misaligned_einval, 10);
	PGC_ADD(s, dio_no_direct_io_op, 10);
	PGC_ADD(s, dio_read_eof, 10);
	PGC_ADD(s, dio_segments_max_segment, 10);
	PGC_ADD(s, dio_enomem_shrinks, 10);
	PGC_ADD(s, dio_fault_first_segment_build, 10);
	PGC_ADD(s, dio_enomem_persistent, 10);
	PGC_ADD(s, dio_coherence_memstore, 10);
	PGC_ADD(s, dio_read_copies_cached_pages, 10);
	PGC_ADD(s, dio_write_through_cached_pages, 10);
	PGC_ADD(s, dio_write_error_drops_cached_bytes, 10);
	PGC_ADD(s, dio_write_stops_before_locked_page, 30);
	PGC_ADD(s, dio_write_owner_private_page, 10);
	PGC_ADD(s, store_buffered_write_direct_read, 10);
	PGC_ADD(s, store_direct_write_buffered_read, 10);
	PGC_ADD(s, store_direct_read_past_eof, 10);
	PGC_ADD(s, store_truncate_then_set_size_reads_zeros, 10);
	PGC_ADD(s, store_truncate_then_write_past_reads_zeros, 10);
	PGC_ADD(s, store_sync_gives_file_the_mapping_size, 10);
	PGC_ADD(s, resize_op_called_by_truncate_and_sync, 10);
	PGC_ADD(s, sync_op_called_after_last_writepage, 10);
	PGC_ADD(s, sync_op_error_reported, 10);
	PGC_ADD(s, sync_op_old_size_ops_without_sync, 10);
	PGC_ADD(s, store_sync_op_called_by_sync_range, 10);
	PGC_ADD(s, store_concurrent_buffered_and_direct, 30);
	PGC_ADD(s, store_own_block_direct_read_after_write, 60);
	PGC_ADD(s, commit_keeps_tag_of_page_being_cleaned, 30);
	PGC_ADD(s, last_error_read_short, 30);
	PGC_ADD(s, last_error_write_short, 30);
	PGC_ADD(s, last_error_dio_short, 30);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, io_suite());
}
