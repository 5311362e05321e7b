/*
 * Suite "dirty": dirty limits, writer throttling, the background writeback
 * thread, and what a failing store does (balance.c, writeback.c's backoff
 * and log, reclaim's error): a full store gives its own error and never
 * -ENOMEM, reads go on, retries and log lines stay bounded, and every
 * acknowledged byte reaches the store once it has room again. The last test
 * fills a real file system (a 2 MiB tmpfs mounted for it) under the
 * built-in store.
 */
#include "pgc_test.h"
#include "pgc_tstore.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pgcache/store.h>

#include "fault_internal.h"

/* ---- fixtures --------------------------------------------------------------- */

/* Log lines, counted by level, and the last one. */
struct logcount {
	atomic_int lines, errors;
	char last[256];
	pthread_mutex_t lock;
};

static void count_log(void *arg, int level, const char *msg)
{
	struct logcount *l = arg;
	atomic_fetch_add(&l->lines, 1);
	if (level == PGC_LOG_ERROR)
		atomic_fetch_add(&l->errors, 1);
	pthread_mutex_lock(&l->lock);
	snprintf(l->last, sizeof(l->last), "%s", msg);
	pthread_mutex_unlock(&l->lock);
}

struct fx {
	pgc_cache *cache;
	pgc_mapping *m;
	struct tstore s;
	struct logcount log;
	size_t ps;
	uint64_t pages; /* of the store */
};

/* A cache of capacity pages; limit and background 0 take the defaults. */
static void fx_init(struct fx *f, uint64_t capacity, uint64_t limit, uint64_t background,
		    uint32_t flags, uint32_t expire_ms)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->log.lock, NULL);
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = capacity;
	cfg.dirty_limit_pages = limit;
	cfg.dirty_background_pages = background;
	cfg.dirty_wait_ms = 5000;
	cfg.dirty_expire_ms = expire_ms;
	cfg.flags = flags;
	cfg.log = count_log;
	cfg.log_arg = &f->log;
	cfg.log_level = PGC_LOG_INFO;
	int err = pgc_cache_create(&cfg, &f->cache);
	ck_assert_msg(err == 0, "create: %s", pgc_strerror(err));
	f->ps = pgc_cache_page_size(f->cache);
	f->pages = 4 * capacity + 64;
	f->s.ps = f->ps;
	f->s.data = calloc(f->pages, f->ps);
	ck_assert_ptr_nonnull(f->s.data);
	struct pgc_mapping_ops ops = {
		.size = sizeof(ops),
		.readpage = ts_readpage,
		.writepage = ts_writepage,
	};
	ck_assert_int_eq(pgc_mapping_create(f->cache, &ops, &f->s, f->pages * f->ps, &f->m), 0);
	ck_assert_int_eq(pgc_mapping_set_name(f->m, "tstore"), 0);
}

static void fx_fini(struct fx *f)
{
	atomic_store(&f->s.write_err, 0);
	atomic_store(&f->s.delay_us, 0);
	ck_assert_int_eq(pgc_sync_range(f->m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	ck_assert_int_eq(pgc_cache_check(f->cache, NULL, 0), 0);
	ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	free(f->s.data);
	pthread_mutex_destroy(&f->log.lock);
}

static void fill(unsigned char *b, size_t len, uint64_t idx, unsigned salt)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)(idx * 7 + i * 13 + salt);
}

/* Writes page idx with the pattern of salt; returns pgc_write's result. */
static ssize_t write_page(struct fx *f, uint64_t idx, unsigned salt)
{
	unsigned char buf[PGC_MAX_PAGE_SIZE > 65536 ? 65536 : PGC_MAX_PAGE_SIZE];
	ck_assert_uint_le(f->ps, sizeof(buf));
	fill(buf, f->ps, idx, salt);
	return pgc_write(f->m, buf, f->ps, idx * f->ps, 0);
}

/* Page idx through the cache holds the pattern of salt. */
static void expect_page(struct fx *f, uint64_t idx, unsigned salt)
{
	unsigned char got[65536], want[65536];
	fill(want, f->ps, idx, salt);
	ck_assert_int_eq(pgc_read(f->m, got, f->ps, idx * f->ps), (ssize_t)f->ps);
	ck_assert_msg(memcmp(got, want, f->ps) == 0, "page %llu differs", (unsigned long long)idx);
}

/* Page idx of the store holds the pattern of salt. */
static void expect_stored(struct fx *f, uint64_t idx, unsigned salt)
{
	unsigned char want[65536];
	fill(want, f->ps, idx, salt);
	ck_assert_msg(memcmp(f->s.data + idx * f->ps, want, f->ps) == 0,
		      "page %llu of the store differs", (unsigned long long)idx);
}

static struct pgc_stats stats(struct fx *f)
{
	struct pgc_stats st;
	pgc_test_stats(f->cache, &st);
	return st;
}

static struct pgc_mapping_stats mstats(pgc_mapping *m)
{
	struct pgc_mapping_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_mapping_stats(m, &st), 0);
	return st;
}

/* ---- limits ----------------------------------------------------------------- */

static int create_with(uint32_t ratio, uint32_t bg_ratio, uint64_t limit, uint64_t bg,
		       uint32_t flags, struct pgc_stats *st)
{
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 1000;
	cfg.dirty_ratio = ratio;
	cfg.dirty_background_ratio = bg_ratio;
	cfg.dirty_limit_pages = limit;
	cfg.dirty_background_pages = bg;
	cfg.flags = flags;
	pgc_cache *c;
	int err = pgc_cache_create(&cfg, &c);
	if (err)
		return err;
	pgc_test_stats(c, st);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
	return 0;
}

START_TEST(limits_from_config)
{
	struct pgc_stats st;
	ck_assert_int_eq(create_with(0, 0, 0, 0, 0, &st), 0);
	ck_assert_uint_eq(st.dirty_limit, 500); /* 50% by default */
	ck_assert_uint_eq(st.dirty_background, 250); /* half the limit */
	ck_assert_int_eq(create_with(20, 10, 0, 0, 0, &st), 0);
	ck_assert_uint_eq(st.dirty_limit, 200);
	ck_assert_uint_eq(st.dirty_background, 100);
	ck_assert_int_eq(create_with(20, 10, 300, 30, 0, &st), 0); /* pages win */
	ck_assert_uint_eq(st.dirty_limit, 300);
	ck_assert_uint_eq(st.dirty_background, 30);
	ck_assert_int_eq(create_with(100, 0, 0, 0, 0, &st), 0);
	ck_assert_uint_eq(st.dirty_limit, 1000);
	ck_assert_int_eq(create_with(101, 0, 0, 0, 0, &st), -EINVAL);
	ck_assert_int_eq(create_with(0, 101, 0, 0, 0, &st), -EINVAL);
	ck_assert_int_eq(create_with(20, 20, 0, 0, 0, &st), -EINVAL); /* background == limit */
	ck_assert_int_eq(create_with(0, 0, 100, 200, 0, &st), -EINVAL);
	ck_assert_int_eq(create_with(0, 0, 0, 0, 0x80, &st), -EINVAL); /* unknown flag */
}
END_TEST

/* ---- throttling without a thread ---------------------------------------------- */

START_TEST(writer_at_limit_writes_back_itself)
{
	struct fx f;
	fx_init(&f, 64, 16, 8, 0, 0);
	for (uint64_t i = 0; i < 200; i++) {
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
		struct pgc_stats st = stats(&f);
		ck_assert_msg(st.dirty_counted <= 16, "%llu dirty after page %llu",
			      (unsigned long long)st.dirty_counted, (unsigned long long)i);
	}
	struct pgc_stats st = stats(&f);
	ck_assert_uint_gt(st.throttled, 0);
	ck_assert_uint_eq(st.background_written, 0);
	ck_assert_int_gt(atomic_load(&f.s.writepages), 150);
	for (uint64_t i = 0; i < 200; i++)
		expect_page(&f, i, 1);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	for (uint64_t i = 0; i < 200; i++)
		expect_stored(&f, i, 1);
	fx_fini(&f);
}
END_TEST

START_TEST(rewriting_dirty_pages_is_not_throttled)
{
	struct fx f;
	fx_init(&f, 64, 16, 8, 0, 0);
	for (uint64_t i = 0; i < 16; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 16);
	int before = atomic_load(&f.s.writepages);
	for (unsigned round = 2; round < 10; round++)
		for (uint64_t i = 0; i < 16; i++)
			ck_assert_int_eq(write_page(&f, i, round), (ssize_t)f.ps);
	ck_assert_int_eq(atomic_load(&f.s.writepages), before);
	ck_assert_uint_eq(stats(&f).throttled, 0);
	/* A new page at the limit waits: some are written back first. */
	ck_assert_int_eq(write_page(&f, 16, 1), (ssize_t)f.ps);
	ck_assert_int_gt(atomic_load(&f.s.writepages), before);
	ck_assert_uint_eq(stats(&f).throttled, 1);
	for (uint64_t i = 0; i < 16; i++)
		expect_page(&f, i, 9);
	fx_fini(&f);
}
END_TEST

START_TEST(pages_that_cannot_be_written_back_do_not_count)
{
	pgc_cache *c;
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 64;
	cfg.dirty_limit_pages = 4;
	ck_assert_int_eq(pgc_cache_create(&cfg, &c), 0);
	pgc_mapping *m;
	ck_assert_int_eq(pgc_mapping_create(c, NULL, NULL, 0, &m), 0); /* no writepage */
	size_t ps = pgc_cache_page_size(c);
	unsigned char *buf = calloc(1, ps);
	for (uint64_t i = 0; i < 32; i++)
		ck_assert_int_eq(pgc_write(m, buf, ps, i * ps, 0), (ssize_t)ps);
	struct pgc_stats st;
	pgc_test_stats(c, &st);
	ck_assert_uint_eq(st.dirty, 32);
	ck_assert_uint_eq(st.dirty_counted, 0);
	ck_assert_uint_eq(st.throttled, 0);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
	free(buf);
}
END_TEST

/* ---- a failing store ------------------------------------------------------------ */

START_TEST(failing_store_gives_its_error_not_enomem)
{
	struct fx f;
	fx_init(&f, 64, 16, 8, 0, 0);
	/* Clean data to read later: in the store, read into the cache. */
	for (uint64_t i = 100; i < 140; i++)
		fill(f.s.data + i * f.ps, f.ps, i, 5);
	atomic_store(&f.s.write_err, -ENOSPC);
	bool acked[3000] = {false};
	unsigned nospc = 0;
	for (unsigned i = 0; i < 3000; i++) {
		ssize_t r = write_page(&f, i % 80, 3);
		ck_assert_msg(r == (ssize_t)f.ps || r == -ENOSPC, "write %u: %zd (%s)", i, r,
			      r < 0 ? pgc_strerror((int)r) : "short");
		if (r == -ENOSPC)
			nospc++;
		else
			acked[i % 80] = true;
		if (i % 100 == 0) /* other data still reads */
			for (uint64_t j = 100; j < 140; j++)
				expect_page(&f, j, 5);
	}
	ck_assert_uint_gt(nospc, 2000);
	struct pgc_stats st = stats(&f);
	ck_assert_uint_le(st.dirty_counted, 16);
	struct pgc_mapping_stats ms = mstats(f.m);
	ck_assert_int_eq(ms.last_error, -ENOSPC);
	/* Retries back off: far fewer attempts than failing writes. */
	int attempts = atomic_load(&f.s.writepages);
	ck_assert_msg(attempts < 600, "%d writepage calls", attempts);
	ck_assert_uint_eq(ms.write_failures, (uint64_t)attempts);
	ck_assert_msg(atomic_load(&f.log.lines) <= 10, "%d log lines", atomic_load(&f.log.lines));
	ck_assert_int_ge(atomic_load(&f.log.errors), 1);
	/* Room again: a sync writes everything acknowledged. */
	atomic_store(&f.s.write_err, 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	for (uint64_t i = 0; i < 80; i++)
		if (acked[i])
			expect_stored(&f, i, 3);
	ms = mstats(f.m);
	ck_assert_int_eq(ms.last_error, 0);
	ck_assert_uint_eq(ms.retry_in_ms, 0);
	ck_assert_ptr_nonnull(strstr(f.log.last, "succeed again"));
	fx_fini(&f);
}
END_TEST

START_TEST(reclaim_gives_the_store_error_and_backs_off)
{
	/* No dirty limit to speak of: every frame can be dirty. */
	struct fx f;
	fx_init(&f, 32, 32, 16, 0, 0);
	for (uint64_t i = 0; i < 32; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	atomic_store(&f.s.write_err, -EIO);
	unsigned char *buf = malloc(f.ps);
	int first = atomic_load(&f.s.writepages);
	for (unsigned i = 0; i < 1000; i++) {
		ssize_t r = pgc_read(f.m, buf, f.ps, (64 + i % 64) * f.ps);
		ck_assert_msg(r == -EIO, "read %u: %zd", i, r);
	}
	int attempts = atomic_load(&f.s.writepages) - first;
	ck_assert_msg(attempts > 0 && attempts < 200, "%d writepage calls", attempts);
	ck_assert_uint_ge(stats(&f).alloc_failures, 1000);
	atomic_store(&f.s.write_err, 0);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(pgc_read(f.m, buf, f.ps, 64 * f.ps), (ssize_t)f.ps);
	for (uint64_t i = 0; i < 32; i++)
		expect_stored(&f, i, 1);
	free(buf);
	fx_fini(&f);
}
END_TEST

/*
 * Half the cache is dirty pages of a store that fails, the other half
 * clean pages read twice: reads of new data evict the clean ones, one page
 * per miss, and never fail with the store's error. (The case where every
 * clean page is on the active list behind an inactive list of such dirty
 * pages, which reclaim once could not get past, is blockd_full_disk's: two
 * connections on a full file system.)
 */
START_TEST(reads_go_on_behind_unwritable_dirty_pages)
{
	struct fx f;
	fx_init(&f, 64, 32, 16, 0, 0);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0); /* one page per miss */
	unsigned char *buf = malloc(f.ps);
	for (uint64_t i = 100; i < 132; i++)
		fill(f.s.data + i * f.ps, f.ps, i, 5);
	for (unsigned round = 0; round < 2; round++)
		for (uint64_t i = 100; i < 132; i++)
			expect_page(&f, i, 5);
	atomic_store(&f.s.write_err, -ENOSPC);
	for (uint64_t i = 0; i < 32; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	ck_assert_uint_eq(stats(&f).dirty_counted, 32);
	/* A failed write backs the mapping off. */
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, 0, PGC_WB_ALL), -ENOSPC);

	for (uint64_t i = 200; i < 264; i++) {
		fill(f.s.data + i * f.ps, f.ps, i, 6);
		expect_page(&f, i, 6);
	}
	ck_assert_uint_eq(stats(&f).alloc_failures, 0);
	free(buf);
	fx_fini(&f);
}
END_TEST

/* ---- the writeback thread ---------------------------------------------------------- */

static bool wait_dirty_at_most(struct fx *f, uint64_t n, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 5) {
		if (stats(f).dirty_counted <= n)
			return true;
		pgc_test_sleep_ms(5);
	}
	return stats(f).dirty_counted <= n;
}

START_TEST(thread_writes_back_above_background)
{
	struct fx f;
	fx_init(&f, 128, 64, 8, PGC_CACHE_WRITEBACK_THREAD, 60000);
	for (uint64_t i = 0; i < 40; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	ck_assert_msg(wait_dirty_at_most(&f, 8, 5000), "%llu dirty",
		      (unsigned long long)stats(&f).dirty_counted);
	/* The thread counts a step's pages when the step is over. */
	for (unsigned t = 0; t < 5000 && stats(&f).background_written < 32; t += 5)
		pgc_test_sleep_ms(5);
	struct pgc_stats st = stats(&f);
	ck_assert_uint_ge(st.background_written, 32);
	ck_assert_uint_eq(st.throttled, 0);
	/* Below the threshold, nothing more happens before the expiry. */
	pgc_test_sleep_ms(100);
	ck_assert_uint_eq(stats(&f).background_written, st.background_written);
	fx_fini(&f);
}
END_TEST

START_TEST(thread_writes_back_expired_data)
{
	struct fx f;
	fx_init(&f, 128, 64, 32, PGC_CACHE_WRITEBACK_THREAD, 100);
	for (uint64_t i = 0; i < 3; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	ck_assert_msg(wait_dirty_at_most(&f, 0, 3000), "%llu dirty",
		      (unsigned long long)stats(&f).dirty_counted);
	ck_assert_int_eq(pgc_cache_stop_writeback(f.cache), 0); /* its writes happened before */
	for (uint64_t i = 0; i < 3; i++)
		expect_stored(&f, i, 1);
	fx_fini(&f);
}
END_TEST

START_TEST(throttled_writers_wait_for_the_thread)
{
	struct fx f;
	fx_init(&f, 64, 16, 4, PGC_CACHE_WRITEBACK_THREAD, 0);
	atomic_store(&f.s.delay_us, 200);
	for (uint64_t i = 0; i < 120; i++) {
		ck_assert_int_eq(write_page(&f, i, 2), (ssize_t)f.ps);
		ck_assert_uint_le(stats(&f).dirty_counted, 16);
	}
	/* Stopped, the thread has finished its last step: the counts are final. */
	ck_assert_int_eq(pgc_cache_stop_writeback(f.cache), 0);
	struct pgc_stats st = stats(&f);
	ck_assert_uint_gt(st.throttled, 0);
	ck_assert_uint_gt(st.throttled_ns, 0);
	/* The thread wrote them (and reclaim perhaps some), never the writer. */
	ck_assert_uint_eq(st.background_written + st.reclaim_writes,
			  (uint64_t)atomic_load(&f.s.writepages));
	ck_assert_uint_ge(st.background_written + st.reclaim_writes, 120 - 16);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	for (uint64_t i = 0; i < 120; i++)
		expect_stored(&f, i, 2);
	fx_fini(&f);
}
END_TEST

START_TEST(thread_backs_off_then_recovers)
{
	struct fx f;
	fx_init(&f, 64, 32, 4, PGC_CACHE_WRITEBACK_THREAD, 50);
	atomic_store(&f.s.write_err, -ENOSPC);
	for (uint64_t i = 0; i < 20; i++)
		ck_assert_int_eq(write_page(&f, i, 4), (ssize_t)f.ps);
	pgc_test_sleep_ms(400);
	/* 400 ms of backoff from 10 ms doubling: a handful of steps. */
	int attempts = atomic_load(&f.s.writepages);
	ck_assert_msg(attempts >= 20 && attempts <= 8 * 20, "%d writepage calls", attempts);
	struct pgc_mapping_stats ms = mstats(f.m);
	ck_assert_int_eq(ms.last_error, -ENOSPC);
	ck_assert_uint_eq(ms.dirty, 20);
	ck_assert_uint_gt(ms.write_failures, 0);
	/* At the limit, writers get the error instead of waiting. */
	for (uint64_t i = 20; i < 60; i++) {
		ssize_t r = write_page(&f, i, 4);
		ck_assert_msg(r == (ssize_t)f.ps || r == -ENOSPC, "write %llu: %zd",
			      (unsigned long long)i, r);
	}
	ck_assert_uint_le(stats(&f).dirty_counted, 32);
	atomic_store(&f.s.write_err, 0);
	/* The next retry (at most 30 s away, far less here) writes it all. */
	ck_assert_msg(wait_dirty_at_most(&f, 0, 10000), "%llu dirty",
		      (unsigned long long)stats(&f).dirty_counted);
	ck_assert_int_eq(mstats(f.m).last_error, 0);
	ck_assert_int_eq(pgc_cache_stop_writeback(f.cache), 0);
	for (uint64_t i = 0; i < 20; i++)
		expect_stored(&f, i, 4);
	fx_fini(&f);
}
END_TEST

START_TEST(thread_start_and_stop)
{
	struct fx f;
	fx_init(&f, 64, 16, 4, 0, 0);
	ck_assert_int_eq(pgc_cache_start_writeback(f.cache), 0);
	ck_assert_int_eq(pgc_cache_start_writeback(f.cache), 0);
	for (uint64_t i = 0; i < 10; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	ck_assert(wait_dirty_at_most(&f, 4, 5000));
	ck_assert_int_eq(pgc_cache_stop_writeback(f.cache), 0);
	ck_assert_int_eq(pgc_cache_stop_writeback(f.cache), 0);
	uint64_t bg = stats(&f).background_written;
	/* Stopped: writers write back themselves again. */
	for (uint64_t i = 10; i < 60; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	ck_assert_uint_eq(stats(&f).background_written, bg);
	ck_assert_uint_le(stats(&f).dirty_counted, 16);
	fx_fini(&f);
}
END_TEST

START_TEST(thread_creation_failure)
{
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 64;
	cfg.flags = PGC_CACHE_WRITEBACK_THREAD;
	/* Every allocation of create fails in turn; the thread comes last. */
	int err, last = 0;
	for (uint64_t n = 1;; n++) {
		pgc_cache *c = (pgc_cache *)1;
		pgc__fault_set_nth(n);
		err = pgc_cache_create(&cfg, &c);
		pgc__fault_set_nth(0);
		if (err == 0) {
			ck_assert_int_eq(pgc_cache_destroy(c), 0);
			break;
		}
		ck_assert_msg(err == -ENOMEM || err == -EAGAIN, "failure %llu: %d",
			      (unsigned long long)n, err);
		ck_assert_ptr_null(c);
		last = err;
	}
	ck_assert_int_eq(last, -EAGAIN);
	/* A cache whose thread fails to start later still works. */
	struct fx f;
	fx_init(&f, 64, 16, 4, 0, 0);
	pgc__fault_set_nth(1);
	ck_assert_int_eq(pgc_cache_start_writeback(f.cache), -EAGAIN);
	pgc__fault_set_nth(0);
	for (uint64_t i = 0; i < 60; i++)
		ck_assert_int_eq(write_page(&f, i, 1), (ssize_t)f.ps);
	ck_assert_uint_eq(stats(&f).background_written, 0);
	ck_assert_uint_gt(stats(&f).throttled, 0);
	ck_assert_int_eq(pgc_cache_start_writeback(f.cache), 0);
	fx_fini(&f);
}
END_TEST

/* Many mappings dirtied, synced and destroyed while the thread works on them. */
START_TEST(destroy_while_the_thread_writes)
{
	struct fx f;
	fx_init(&f, 256, 64, 1, PGC_CACHE_WRITEBACK_THREAD, 10);
	atomic_store(&f.s.delay_us, 50);
	struct pgc_mapping_ops ops = {
		.size = sizeof(ops),
		.readpage = ts_readpage,
		.writepage = ts_writepage,
	};
	for (unsigned round = 0; round < 40; round++) {
		pgc_mapping *m[4];
		for (unsigned k = 0; k < 4; k++) {
			ck_assert_int_eq(pgc_mapping_create(f.cache, &ops, &f.s, f.pages * f.ps, &m[k]), 0);
			unsigned char buf[4096];
			size_t n = f.ps < sizeof(buf) ? f.ps : sizeof(buf);
			memset(buf, (int)round, n);
			for (uint64_t i = 0; i < 8; i++)
				ck_assert_int_eq(pgc_write(m[k], buf, n, (k * 8 + i) * f.ps, 0), (ssize_t)n);
		}
		for (unsigned k = 0; k < 4; k++) {
			ck_assert_int_eq(pgc_sync_range(m[k], 0, UINT64_MAX, NULL), 0);
			ck_assert_int_eq(pgc_mapping_destroy(m[k]), 0);
		}
	}
	fx_fini(&f);
}
END_TEST

/* ---- a full file system ------------------------------------------------------------ */

/* Mounts a tmpfs of size bytes on a new directory; false if this process may not. */
static bool mount_small_fs(char dir[static 64], size_t size)
{
	snprintf(dir, 64, "/tmp/pgc-fullfs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char opts[64];
	snprintf(opts, sizeof(opts), "size=%zu,mode=0700", size);
	if (mount("pgc-fullfs", dir, "tmpfs", 0, opts) == 0)
		return true;
	int e = errno;
	rmdir(dir);
	/* CI runs as root: there the test must run, not skip. */
	ck_assert_msg(!getenv("CI") && (e == EPERM || e == EACCES),
		      "mount tmpfs on %s: %s", dir, strerror(e));
	return false;
}

static void fill_disk(const char *dir)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/filler", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	static char block[4096];
	memset(block, 0xee, sizeof(block));
	for (;;) {
		ssize_t r = write(fd, block, sizeof(block));
		if (r <= 0) {
			ck_assert_int_eq(errno, ENOSPC);
			break;
		}
	}
	close(fd);
}

START_TEST(full_file_system)
{
	char dir[64];
	if (!mount_small_fs(dir, 2u << 20)) {
		fprintf(stderr, "full_file_system: cannot mount a tmpfs here: skipped\n");
		return;
	}
	struct logcount log;
	memset(&log, 0, sizeof(log));
	pthread_mutex_init(&log.lock, NULL);
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 256;
	cfg.page_size = 4096;
	cfg.log = count_log;
	cfg.log_arg = &log;
	cfg.log_level = PGC_LOG_INFO;
	pgc_cache *c;
	ck_assert_int_eq(pgc_cache_create(&cfg, &c), 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/store", dir);
	pgc_store *store;
	int err = pgc_store_open(path, O_RDWR | O_CREAT, 0600, &store);
	ck_assert_msg(err == 0, "store_open: %s", pgc_strerror(err));
	pgc_mapping *m;
	ck_assert_int_eq(pgc_store_mapping_create(c, store, &m), 0);
	ck_assert_str_eq(pgc_mapping_name(m), "store"); /* the file's name */

	/* 64 KiB written and synced while there is room. */
	unsigned char buf[4096];
	for (uint64_t i = 0; i < 16; i++) {
		fill(buf, sizeof(buf), i, 1);
		ck_assert_int_eq(pgc_write(m, buf, sizeof(buf), i * 4096, 0), 4096);
	}
	ck_assert_int_eq(pgc_sync_range(m, 0, UINT64_MAX, NULL), 0);
	fill_disk(dir);

	/* 3,000 writes of 4 KiB over 1,000 new pages of a full disk. */
	static unsigned char acked[1100];
	memset(acked, 0, sizeof(acked));
	unsigned nospc = 0, ok = 0;
	for (unsigned i = 0; i < 3000; i++) {
		uint64_t idx = 16 + (i * 7919u) % 1000;
		unsigned salt = 10 + i % 200;
		fill(buf, sizeof(buf), idx, salt);
		ssize_t r = pgc_write(m, buf, sizeof(buf), idx * 4096, 0);
		ck_assert_msg(r == 4096 || r == -ENOSPC, "write %u: %zd (%s)", i, r,
			      r < 0 ? pgc_strerror((int)r) : "short");
		if (r == 4096) {
			acked[idx] = (unsigned char)salt;
			ok++;
		} else {
			nospc++;
		}
		if (i % 250 == 0)
			for (uint64_t j = 0; j < 16; j++) {
				unsigned char got[4096], want[4096];
				fill(want, sizeof(want), j, 1);
				ck_assert_int_eq(pgc_read(m, got, sizeof(got), j * 4096), 4096);
				ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "synced page %llu",
					      (unsigned long long)j);
			}
	}
	struct pgc_stats st;
	pgc_test_stats(c, &st);
	struct pgc_mapping_stats ms = {.size = sizeof(ms)};
	ck_assert_int_eq(pgc_mapping_stats(m, &ms), 0);
	fprintf(stderr,
		"full_file_system: %u acknowledged, %u ENOSPC, %llu page write failures, "
		"%d log lines, %llu dirty\n",
		ok, nospc, (unsigned long long)ms.write_failures, atomic_load(&log.lines),
		(unsigned long long)ms.dirty);
	ck_assert_uint_gt(nospc, 0);
	ck_assert_uint_eq(st.alloc_failures, 0);
	ck_assert_int_eq(ms.last_error, -ENOSPC);
	ck_assert_msg(atomic_load(&log.lines) <= 100, "%d log lines", atomic_load(&log.lines));
	pthread_mutex_lock(&log.lock);
	ck_assert_msg(strstr(log.last, "mapping store:") != NULL, "last log line: %s", log.last);
	pthread_mutex_unlock(&log.lock);
	ck_assert_msg(ms.write_failures <= 20 * st.dirty_limit, "%llu write failures",
		      (unsigned long long)ms.write_failures);
	ck_assert_uint_le(ms.dirty, st.dirty_limit);

	/* Room again: one sync, and everything acknowledged is in the file. */
	snprintf(path, sizeof(path), "%s/filler", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(pgc_sync_range(m, 0, UINT64_MAX, NULL), 0);
	snprintf(path, sizeof(path), "%s/store", dir);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	for (uint64_t idx = 0; idx < 1016; idx++) {
		unsigned salt = idx < 16 ? 1 : acked[idx];
		if (!salt)
			continue;
		unsigned char got[4096], want[4096];
		fill(want, sizeof(want), idx, salt);
		ck_assert_int_eq(pread(fd, got, sizeof(got), (off_t)idx * 4096), 4096);
		ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "page %llu lost",
			      (unsigned long long)idx);
	}
	close(fd);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_store_close(store), 0);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
	ck_assert_int_eq(umount(dir), 0);
	rmdir(dir);
	pthread_mutex_destroy(&log.lock);
}
END_TEST

static Suite *dirty_suite(void)
{
	Suite *s = suite_create("dirty");
	PGC_ADD(s, limits_from_config, 10);
	PGC_ADD(s, writer_at_limit_writes_back_itself, 30);
	PGC_ADD(s, rewriting_dirty_pages_is_not_throttled, 30);
	PGC_ADD(s, pages_that_cannot_be_written_back_do_not_count, 30);
	PGC_ADD(s, failing_store_gives_its_error_not_enomem, 60);
	PGC_ADD(s, reclaim_gives_the_store_error_and_backs_off, 60);
	PGC_ADD(s, reads_go_on_behind_unwritable_dirty_pages, 30);
	PGC_ADD(s, thread_writes_back_above_background, 30);
	PGC_ADD(s, thread_writes_back_expired_data, 30);
	PGC_ADD(s, throttled_writers_wait_for_the_thread, 60);
	PGC_ADD(s, thread_backs_off_then_recovers, 60);
	PGC_ADD(s, thread_start_and_stop, 30);
	PGC_ADD(s, thread_creation_failure, 30);
	PGC_ADD(s, destroy_while_the_thread_writes, 120);
	PGC_ADD(s, full_file_system, 120);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, dirty_suite());
}
