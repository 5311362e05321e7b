/*
 * Suite "aio": io_uring in the file store (lib/uring.c, store.c) and the
 * asynchronous contexts of aio.h (lib/aio.c).
 *
 * White-box: it uses the fault hooks and counters of lib/uring_internal.h
 * (a completion that fails with -EIO or -EAGAIN, one that comes back
 * short, a ring that cannot be set up, an eventfd that cannot be
 * registered). In a build without liburing the same tests check that the
 * store and the contexts work without it and say so.
 *
 * Files live in /var/tmp (O_DIRECT); each is unlinked once open.
 */
#include "pgc_test.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <pgcache/aio.h>
#include <pgcache/dio.h>
#include <pgcache/io.h>
#include <pgcache/store.h>

#include "uring_internal.h"

#define TMP_TEMPLATE "/var/tmp/pgc-aio-test-XXXXXX"
#define PS 4096

/* ---- fixture ------------------------------------------------------------ */

struct fix {
	int plain; /* a buffered descriptor of the same file */
	pgc_store *store;
	pgc_cache *cache;
	pgc_mapping *m;
	_Atomic int warnings; /* io_uring warnings logged */
};

static void count_log(void *arg, int level, const char *msg)
{
	struct fix *f = arg;
	if (level == PGC_LOG_WARN && strstr(msg, "io_uring"))
		atomic_fetch_add(&f->warnings, 1);
}

static unsigned char pat(uint64_t pos, unsigned salt)
{
	return (unsigned char)((pos * 131 + (pos >> 12) * 7 + salt) % 251 + 1);
}

static void fill_pat(unsigned char *b, size_t len, uint64_t pos, unsigned salt)
{
	for (size_t i = 0; i < len; i++)
		b[i] = pat(pos + i, salt);
}

static long check_pat(const unsigned char *b, size_t len, uint64_t pos, unsigned salt)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != pat(pos + i, salt))
			return (long)i;
	return -1;
}

/* A file of @p pages pages with the pattern of salt 1, a store, a cache of
 * @p capacity pages (with a log that counts io_uring warnings), a mapping. */
static void fix_open(struct fix *f, unsigned pages, uint64_t capacity)
{
	memset(f, 0, sizeof(*f));
	char path[] = TMP_TEMPLATE;
	f->plain = mkstemp(path);
	ck_assert_int_ge(f->plain, 0);
	unsigned char *b = malloc(PS);
	for (unsigned i = 0; i < pages; i++) {
		fill_pat(b, PS, (uint64_t)i * PS, 1);
		ck_assert_int_eq(pwrite(f->plain, b, PS, (off_t)i * PS), PS);
	}
	free(b);
	ck_assert_int_eq(fsync(f->plain), 0);
	int err = pgc_store_open(path, O_RDWR, 0, &f->store);
	unlink(path);
	ck_assert_msg(err == 0, "pgc_store_open: %s", pgc_strerror(err));
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = capacity;
	cfg.page_size = PS;
	cfg.log = count_log;
	cfg.log_arg = f;
	cfg.log_level = PGC_LOG_WARN;
	ck_assert_int_eq(pgc_cache_create(&cfg, &f->cache), 0);
	ck_assert_int_eq(pgc_store_mapping_create(f->cache, f->store, &f->m), 0);
}

static void fix_close(struct fix *f)
{
	ck_assert_int_eq(pgc_sync_range(f->m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	pgc_cache_destroy(f->cache);
	ck_assert_int_eq(pgc_store_close(f->store), 0);
	close(f->plain);
	pgc__uring_reset();
}

static void *abuf(size_t len)
{
	void *p = NULL;
	ck_assert_int_eq(posix_memalign(&p, PS, len), 0);
	return p;
}

/* The file's bytes at [off, off + len) against the pattern of salt. */
static long file_check(struct fix *f, uint64_t off, size_t len, unsigned salt)
{
	unsigned char *b = malloc(len);
	ck_assert_int_eq(pread(f->plain, b, len, (off_t)off), (ssize_t)len);
	long bad = check_pat(b, len, off, salt);
	free(b);
	return bad;
}

/* Writes pages [first, first + n) through the cache with salt. */
static void write_pages(struct fix *f, uint64_t first, unsigned n, unsigned salt)
{
	unsigned char *b = malloc((size_t)n * PS);
	fill_pat(b, (size_t)n * PS, first * PS, salt);
	ck_assert_int_eq(pgc_write(f->m, b, (size_t)n * PS, first * PS, 0), (ssize_t)n * PS);
	free(b);
}

static bool have_uring(void)
{
#ifdef PGC_TEST_HAVE_URING
	return true;
#else
	return false;
#endif
}

/* ---- the store's engine ------------------------------------------------- */

START_TEST(engine_default_and_switch)
{
	struct fix f;
	fix_open(&f, 4, 64);
	if (have_uring()) {
		ck_assert_int_eq(pgc_store_engine(f.store), PGC_STORE_URING);
		ck_assert_int_eq(pgc_store_set_engine(f.store, PGC_STORE_PSYNC), 0);
		ck_assert_int_eq(pgc_store_engine(f.store), PGC_STORE_PSYNC);
		ck_assert_int_eq(pgc_store_set_engine(f.store, PGC_STORE_URING), 0);
		ck_assert_int_eq(pgc_store_engine(f.store), PGC_STORE_URING);
	} else {
		printf("aio: built without liburing: the store uses preadv/pwritev\n");
		ck_assert_int_eq(pgc_store_engine(f.store), PGC_STORE_PSYNC);
		ck_assert_int_eq(pgc_store_set_engine(f.store, PGC_STORE_URING), -EOPNOTSUPP);
	}
	ck_assert_int_eq(pgc_store_set_engine(f.store, 7), -EINVAL);
	ck_assert_int_eq(pgc_store_set_engine(NULL, PGC_STORE_PSYNC), -EINVAL);
	fix_close(&f);
}
END_TEST

/* Writeback of runs with holes between them: one ring request per run, all
 * submitted together (or, without a ring, the same bytes by pwritev). */
START_TEST(writeback_runs_on_ring)
{
	struct fix f;
	fix_open(&f, 64, 256);
	for (unsigned r = 0; r < 8; r++)
		write_pages(&f, r * 8, 3, 2);
	uint64_t before = pgc__uring_submitted();
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	uint64_t sent = pgc__uring_submitted() - before;
	ck_assert_uint_eq(sent, have_uring() ? 8 : 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	for (unsigned r = 0; r < 8; r++) {
		ck_assert_int_eq(file_check(&f, (uint64_t)r * 8 * PS, 3 * PS, 2), -1);
		ck_assert_int_eq(file_check(&f, ((uint64_t)r * 8 + 3) * PS, 5 * PS, 1), -1);
	}
	fix_close(&f);
}
END_TEST

/* A completion with -EIO: the run stays dirty, the error reaches a sync
 * once, and the next writeback writes it. */
START_TEST(writeback_eio_once)
{
	struct fix f;
	fix_open(&f, 16, 64);
	pgc_errseq_t since = pgc_mapping_sample_error(f.m);
	write_pages(&f, 0, 2, 3);
	write_pages(&f, 5, 2, 3);
	if (have_uring())
		pgc__uring_fault_set(PGC__URF_EIO, 1, false);
	else
		printf("aio: built without liburing: no completion to fail\n");
	int err = pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL);
	if (have_uring()) {
		ck_assert_int_eq(err, -EIO);
		ck_assert_uint_eq(pgc__uring_fault_injected(), 1);
		ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 2); /* one run of two */
	}
	int e1 = pgc_sync_range(f.m, 0, UINT64_MAX, &since);
	int e2 = pgc_sync_range(f.m, 0, UINT64_MAX, &since);
	ck_assert_int_eq(e1, have_uring() ? -EIO : 0);
	ck_assert_int_eq(e2, 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
	ck_assert_int_eq(file_check(&f, 0, 2 * PS, 3), -1);
	ck_assert_int_eq(file_check(&f, 5 * PS, 2 * PS, 3), -1);
	fix_close(&f);
}
END_TEST

/* -EAGAIN and short completions are finished by the store: nothing is
 * reported, every byte lands, and reads through the cache see them. */
START_TEST(eagain_and_short_finished)
{
	struct fix f;
	fix_open(&f, 64, 256);
	for (int kind = PGC__URF_EAGAIN; kind <= PGC__URF_SHORT; kind++) {
		unsigned salt = 10 + (unsigned)kind;
		write_pages(&f, 0, 16, salt);
		write_pages(&f, 20, 8, salt);
		pgc__uring_fault_set(kind, 1, true); /* every completion */
		ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
		uint64_t hit = pgc__uring_fault_injected();
		pgc__uring_fault_set(0, 0, false);
		if (have_uring())
			ck_assert_uint_ge(hit, 2);
		ck_assert_int_eq(file_check(&f, 0, 16 * PS, salt), -1);
		ck_assert_int_eq(file_check(&f, 20 * PS, 8 * PS, salt), -1);
		/* Reads of the file through a new mapping, faulted the same way. */
		pgc_mapping *m2;
		ck_assert_int_eq(pgc_store_mapping_create(f.cache, f.store, &m2), 0);
		unsigned char *b = malloc(24 * PS);
		pgc__uring_fault_set(kind, 1, true);
		ck_assert_int_eq(pgc_read(m2, b, 16 * PS, 0), 16 * PS);
		ck_assert_int_eq(pgc_read(m2, b + 16 * PS, 8 * PS, 20 * PS), 8 * PS);
		pgc__uring_fault_set(0, 0, false);
		ck_assert_int_eq(check_pat(b, 16 * PS, 0, salt), -1);
		ck_assert_int_eq(check_pat(b + 16 * PS, 8 * PS, 20 * PS, salt), -1);
		free(b);
		ck_assert_int_eq(pgc_mapping_destroy(m2), 0);
	}
	fix_close(&f);
}
END_TEST

/* A read that fails with -EIO: the reader gets it, the page is not cached
 * as valid, and the next read reads it again. */
START_TEST(read_eio_then_retry)
{
	struct fix f;
	fix_open(&f, 8, 64);
	pgc_mapping_set_readahead(f.m, 0);
	unsigned char b[PS];
	if (have_uring())
		pgc__uring_fault_set(PGC__URF_EIO, 1, false);
	ssize_t r = pgc_read(f.m, b, PS, 3 * PS);
	ck_assert_int_eq(r, have_uring() ? -EIO : PS);
	ck_assert_int_eq(pgc_read(f.m, b, PS, 3 * PS), PS);
	ck_assert_int_eq(check_pat(b, PS, 3 * PS, 1), -1);
	fix_close(&f);
}
END_TEST

struct thread_read {
	struct fix *f;
	uint64_t index;
	ssize_t got;
	long bad;
};

static void *read_in_thread(void *arg)
{
	struct thread_read *t = arg;
	unsigned char b[PS];
	t->got = pgc_read(t->f->m, b, PS, t->index * PS);
	t->bad = check_pat(b, PS, t->index * PS, 1);
	return NULL;
}

/* A ring that cannot be set up: the store falls back to preadv/pwritev,
 * logs it once, and reports the engine it now uses. */
START_TEST(setup_fails_falls_back)
{
	struct fix f;
	fix_open(&f, 8, 64);
	pgc_mapping_set_readahead(f.m, 0);
	pgc__uring_reset();
	pgc__uring_fault_set(PGC__URF_SETUP, 1, true);
	/* New threads have no ring yet: each tries (or is told not to). */
	for (uint64_t i = 0; i < 3; i++) {
		struct thread_read t = {.f = &f, .index = i};
		pthread_t th;
		ck_assert_int_eq(pthread_create(&th, NULL, read_in_thread, &t), 0);
		ck_assert_int_eq(pthread_join(th, NULL), 0);
		ck_assert_int_eq(t.got, PS);
		ck_assert_int_eq(t.bad, -1);
	}
	if (have_uring()) {
		ck_assert_int_eq(atomic_load(&f.warnings), 1);
		ck_assert_uint_eq(pgc__uring_fault_injected(), 1); /* tried once */
	}
	ck_assert_int_eq(pgc_store_engine(f.store), PGC_STORE_PSYNC);
	ck_assert_int_eq(pgc_store_set_engine(f.store, PGC_STORE_URING), -EOPNOTSUPP);
	write_pages(&f, 0, 2, 4);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(file_check(&f, 0, 2 * PS, 4), -1);
	fix_close(&f);
}
END_TEST

/* ---- contexts ------------------------------------------------------------ */

struct done {
	int calls;
	ssize_t result;
	pthread_t thread;
};

static void on_done(void *arg, ssize_t result)
{
	struct done *d = arg;
	d->calls++;
	d->result = result;
	d->thread = pthread_self();
}

static void reap_all(pgc_aio *a)
{
	while (pgc_aio_inflight(a))
		ck_assert_int_ge(pgc_aio_reap(a, 1, 0), 0);
}

static struct pgc_aio_stats stats_of(pgc_aio *a)
{
	struct pgc_aio_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_aio_stats(a, &st), 0);
	return st;
}

/* A read that misses goes to a worker; the same read again is a hit,
 * completed without I/O; callbacks run in the reaping thread only. */
START_TEST(read_miss_then_hit)
{
	struct fix f;
	fix_open(&f, 16, 64);
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
	unsigned char *b = malloc(3 * PS);
	struct done d = {0};
	ck_assert_int_eq(pgc_aio_read(a, f.m, b, 3 * PS, 2 * PS + 100, on_done, &d), 0);
	ck_assert_int_eq(d.calls, 0);
	reap_all(a);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_int_eq(d.result, 3 * PS);
	ck_assert(pthread_equal(d.thread, pthread_self()));
	ck_assert_int_eq(check_pat(b, 3 * PS, 2 * PS + 100, 1), -1);
	struct pgc_aio_stats st = stats_of(a);
	ck_assert_uint_eq(st.worker, 1);
	ck_assert_uint_eq(st.inline_done, 0);
	memset(b, 0, 3 * PS);
	ck_assert_int_eq(pgc_aio_read(a, f.m, b, 3 * PS, 2 * PS + 100, on_done, &d), 0);
	/* The descriptor is readable before the reap. */
	struct pollfd pfd = {.fd = pgc_aio_fd(a), .events = POLLIN};
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pgc_aio_reap(a, 0, 0), 1);
	ck_assert_int_eq(d.result, 3 * PS);
	ck_assert_int_eq(check_pat(b, 3 * PS, 2 * PS + 100, 1), -1);
	st = stats_of(a);
	ck_assert_uint_eq(st.inline_done, 1);
	ck_assert_uint_eq(st.completed, 2);
	/* Past the end: 0, at once. */
	ck_assert_int_eq(pgc_aio_read(a, f.m, b, PS, 100 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 0);
	free(b);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	fix_close(&f);
}
END_TEST

/* 64 direct reads in flight at once at random offsets, then 64 direct
 * writes: every byte right, on the ring where there is one. */
START_TEST(direct_many_in_flight)
{
	struct fix f;
	fix_open(&f, 256, 64);
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
	ck_assert_int_eq(pgc_aio_uses_uring(a), have_uring() ? 1 : 0);
	struct pgc_rng rng = {pgc_test_seed_for("direct_many_in_flight")};
	enum { N = 64 };
	unsigned char *buf = abuf((size_t)N * 2 * PS);
	struct done d[N];
	uint64_t at[N];
	memset(d, 0, sizeof(d));
	for (int i = 0; i < N; i++) {
		at[i] = pgc_rng_below(&rng, 255);
		struct iovec v = {buf + (size_t)i * 2 * PS, 2 * PS};
		ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, &v, 1, at[i] * PS, on_done, &d[i]),
				 0);
	}
	ck_assert_int_eq(pgc_aio_inflight(a), N);
	reap_all(a);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(d[i].calls, 1);
		ck_assert_int_eq(d[i].result, 2 * PS);
		ck_assert_int_eq(check_pat(buf + (size_t)i * 2 * PS, 2 * PS, at[i] * PS, 1), -1);
	}
	/* Writes of distinct pages. */
	for (int i = 0; i < N; i++) {
		fill_pat(buf + (size_t)i * PS, PS, (uint64_t)i * 4 * PS, 5);
		struct iovec v = {buf + (size_t)i * PS, PS};
		ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_WRITE, &v, 1, (uint64_t)i * 4 * PS,
						on_done, &d[i]),
				 0);
	}
	reap_all(a);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(d[i].result, PS);
		ck_assert_int_eq(file_check(&f, (uint64_t)i * 4 * PS, PS, 5), -1);
	}
	struct pgc_aio_stats st = stats_of(a);
	ck_assert_uint_eq(st.ring, have_uring() ? 2 * N : 0);
	ck_assert_uint_eq(st.worker, have_uring() ? 0 : 2 * N);
	free(buf);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	fix_close(&f);
}
END_TEST

/* A direct write over cached pages: the cache shows the new bytes at once,
 * and the file has them after a sync; a dirty page in the range sends the
 * write to a worker, which writes the page back first. */
START_TEST(direct_write_coherent)
{
	struct fix f;
	fix_open(&f, 16, 64);
	/* No background readahead: a fill in progress holds the mapping's fill
	 * lock, and a direct write that cannot take it at once goes to a
	 * worker instead of the ring (the counts below would vary). */
	pgc_mapping_set_readahead(f.m, 0);
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
	unsigned char *r = malloc(4 * PS);
	ck_assert_int_eq(pgc_read(f.m, r, 4 * PS, 0), 4 * PS); /* cached, clean */
	unsigned char *w = abuf(2 * PS);
	fill_pat(w, 2 * PS, PS, 6);
	struct iovec v = {w, 2 * PS};
	struct done d = {0};
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_WRITE, &v, 1, PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 2 * PS);
	ck_assert_int_eq(pgc_read(f.m, r, 4 * PS, 0), 4 * PS);
	ck_assert_int_eq(check_pat(r, PS, 0, 1), -1);
	ck_assert_int_eq(check_pat(r + PS, 2 * PS, PS, 6), -1);
	ck_assert_int_eq(check_pat(r + 3 * PS, PS, 3 * PS, 1), -1);
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	ck_assert_int_eq(file_check(&f, PS, 2 * PS, 6), -1);

	/* A dirty page in the range. */
	write_pages(&f, 8, 1, 7);
	fill_pat(w, 2 * PS, 8 * PS, 8);
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_WRITE, &v, 1, 8 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 2 * PS);
	ck_assert_int_eq(stats_of(a).worker, pgc_aio_uses_uring(a) ? 1 : 2);
	ck_assert_int_eq(file_check(&f, 8 * PS, 2 * PS, 8), -1);
	ck_assert_int_eq(pgc_read(f.m, r, 2 * PS, 8 * PS), 2 * PS);
	ck_assert_int_eq(check_pat(r, 2 * PS, 8 * PS, 8), -1);

	/* A direct read of a range with a dirty page sees the page's bytes. */
	write_pages(&f, 12, 1, 9);
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, &v, 1, 12 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 2 * PS);
	ck_assert_int_eq(check_pat(w, PS, 12 * PS, 9), -1);
	ck_assert_int_eq(check_pat(w + PS, PS, 13 * PS, 1), -1);
	free(r);
	free(w);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	fix_close(&f);
}
END_TEST

/* Direct reads at and past the end, and a write that grows the mapping. */
START_TEST(direct_eof)
{
	struct fix f;
	fix_open(&f, 4, 64);
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
	unsigned char *w = abuf(4 * PS);
	struct iovec v = {w, 4 * PS};
	struct done d = {0};
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, &v, 1, 2 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 2 * PS);
	ck_assert_int_eq(check_pat(w, 2 * PS, 2 * PS, 1), -1);
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, &v, 1, 8 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 0);
	/* The mapping grows past the file: the bytes in between read as zeros. */
	ck_assert_int_eq(pgc_mapping_set_size(f.m, 6 * PS + 10), 0);
	memset(w, 0xee, 4 * PS);
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, &v, 1, 4 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 2 * PS + 10);
	for (size_t i = 0; i < 2 * PS + 10; i++)
		ck_assert_int_eq(w[i], 0);
	/* A write past the end grows the mapping and the file. */
	fill_pat(w, 2 * PS, 10 * PS, 3);
	v.iov_len = 2 * PS;
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_WRITE, &v, 1, 10 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.result, 2 * PS);
	ck_assert_uint_eq(pgc_mapping_size(f.m), 12 * PS);
	ck_assert_int_eq(file_check(&f, 10 * PS, 2 * PS, 3), -1);
	/* Misaligned: refused at once. */
	v.iov_base = w + 1;
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, &v, 1, 0, on_done, &d), -EINVAL);
	free(w);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	fix_close(&f);
}
END_TEST

/* Completions that fail, come back short or say -EAGAIN: the first is the
 * request's error, reported once; the others are resubmitted from where
 * they stopped, and every byte is right. */
START_TEST(direct_faults)
{
	struct fix f;
	fix_open(&f, 64, 64);
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
	if (!pgc_aio_uses_uring(a))
		printf("aio: no ring: direct faults go through the workers' preadv\n");
	unsigned char *w = abuf(8 * PS);
	struct iovec v[2] = {{w, 3 * PS}, {w + 3 * PS, 5 * PS}};
	struct done d = {0};
	pgc__uring_fault_set(PGC__URF_EIO, 1, false);
	ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, v, 2, 8 * PS, on_done, &d), 0);
	reap_all(a);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_int_eq(d.result, pgc_aio_uses_uring(a) ? -EIO : 8 * PS);
	for (int kind = PGC__URF_EAGAIN; kind <= PGC__URF_SHORT; kind++) {
		memset(w, 0, 8 * PS);
		/* Every completion short: each resubmission is a block less
		 * (then too small to cut); -EAGAIN once: resubmitted. */
		pgc__uring_fault_set(kind, 1, kind == PGC__URF_SHORT);
		ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, v, 2, 16 * PS, on_done, &d), 0);
		reap_all(a);
		pgc__uring_fault_set(0, 0, false);
		ck_assert_int_eq(d.result, 8 * PS);
		ck_assert_int_eq(check_pat(w, 8 * PS, 16 * PS, 1), -1);
		fill_pat(w, 8 * PS, 32 * PS, 20 + (unsigned)kind);
		pgc__uring_fault_set(kind, 1, false);
		ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_WRITE, v, 2, 32 * PS, on_done, &d), 0);
		reap_all(a);
		pgc__uring_fault_set(0, 0, false);
		ck_assert_int_eq(d.result, 8 * PS);
		ck_assert_int_eq(file_check(&f, 32 * PS, 8 * PS, 20 + (unsigned)kind), -1);
	}
	free(w);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	fix_close(&f);
}
END_TEST

/* A context whose ring cannot be made, or whose eventfd cannot be
 * registered: it works through its workers. */
START_TEST(no_ring_context)
{
	struct fix f;
	fix_open(&f, 16, 64);
	for (int kind = PGC__URF_SETUP; kind <= PGC__URF_REGISTER; kind += PGC__URF_REGISTER - 1) {
		pgc__uring_fault_set(kind, 1, false);
		pgc_aio *a;
		ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
		pgc__uring_fault_set(0, 0, false);
		ck_assert_int_eq(pgc_aio_uses_uring(a), 0);
		unsigned char *w = abuf(2 * PS);
		struct iovec v = {w, 2 * PS};
		struct done d = {0};
		ck_assert_int_eq(pgc_aio_direct(a, f.m, PGC_READ, &v, 1, 4 * PS, on_done, &d), 0);
		reap_all(a);
		ck_assert_int_eq(d.result, 2 * PS);
		ck_assert_int_eq(check_pat(w, 2 * PS, 4 * PS, 1), -1);
		ck_assert_uint_eq(stats_of(a).worker, 1);
		free(w);
		ck_assert_int_eq(pgc_aio_destroy(a), 0);
	}
	struct pgc_aio_config cfg;
	pgc_aio_config_init(&cfg);
	cfg.flags = PGC_AIO_NO_URING;
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(&cfg, &a), 0);
	ck_assert_int_eq(pgc_aio_uses_uring(a), 0);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	fix_close(&f);
}
END_TEST

/* Writes and syncs through the workers; a full context says -EAGAIN and
 * cannot be destroyed while requests are in flight. */
START_TEST(write_sync_and_depth)
{
	struct fix f;
	fix_open(&f, 16, 64);
	struct pgc_aio_config cfg;
	pgc_aio_config_init(&cfg);
	cfg.depth = 2;
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(&cfg, &a), 0);
	unsigned char *b = malloc(3 * PS);
	fill_pat(b, 3 * PS, 100, 11);
	struct done d1 = {0}, d2 = {0}, d3 = {0};
	ck_assert_int_eq(pgc_aio_write(a, f.m, b, 3 * PS, 100, 0, on_done, &d1), 0);
	ck_assert_int_eq(pgc_aio_sync(a, f.m, 0, UINT64_MAX, NULL, on_done, &d2), 0);
	ck_assert_int_eq(pgc_aio_sync(a, f.m, 0, UINT64_MAX, NULL, on_done, &d3), -EAGAIN);
	ck_assert_int_eq(pgc_aio_destroy(a), -EBUSY);
	reap_all(a);
	ck_assert_int_eq(d1.result, 3 * PS);
	ck_assert_int_eq(d2.calls, 1);
	ck_assert_int_eq(d3.calls, 0);
	/* The sync may have run before the write on the other worker: a
	 * second one, after both, has written it. */
	ck_assert_int_eq(pgc_aio_sync(a, f.m, 0, UINT64_MAX, NULL, on_done, &d3), 0);
	reap_all(a);
	ck_assert_int_eq(d3.result, 0);
	ck_assert_int_eq(file_check(&f, 100, 3 * PS, 11), -1);
	free(b);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	fix_close(&f);
}
END_TEST

/* ---- an event loop that never blocks ------------------------------------ */

/* A store whose reads take 100 ms: misses stay in flight for a while. */
static int slow_readpage(pgc_mapping *m, pgc_page *p)
{
	(void)m;
	pgc_test_sleep_ms(100);
	memset(pgc_page_data(p), (int)(pgc_page_index(p) & 0xff), PS);
	return 0;
}

static const struct pgc_mapping_ops slow_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = slow_readpage,
};

struct hit_state {
	int done;
	ssize_t result;
};

static void on_hit(void *arg, ssize_t result)
{
	struct hit_state *h = arg;
	h->done++;
	h->result = result;
}

START_TEST(loop_serves_hits_while_misses_wait)
{
	pgc_cache *cache = pgc_test_cache(256, PS);
	pgc_mapping *m;
	ck_assert_int_eq(pgc_mapping_create(cache, &slow_ops, NULL, 128 * PS, &m), 0);
	pgc_mapping_set_readahead(m, 0);
	unsigned char b[PS];
	for (uint64_t i = 0; i < 8; i++) /* pages 0-7 cached (800 ms) */
		ck_assert_int_eq(pgc_read(m, b, PS, i * PS), PS);
	pgc_aio *a;
	struct pgc_aio_config cfg;
	pgc_aio_config_init(&cfg);
	cfg.workers = 2;
	ck_assert_int_eq(pgc_aio_create(&cfg, &a), 0);
	enum { MISSES = 4 };
	static unsigned char mb[MISSES][PS];
	struct hit_state miss[MISSES] = {{0}};
	for (int i = 0; i < MISSES; i++)
		ck_assert_int_eq(pgc_aio_read(a, m, mb[i], PS, (uint64_t)(64 + i) * PS, on_hit,
					      &miss[i]),
				 0);
	/* While the misses wait (200 ms at least with two workers), the loop
	 * serves hits; no turn of it may take long (loosely: 50 ms, where a
	 * blocked turn would take 100). */
	double worst = 0, start = pgc_test_now();
	int hits = 0, turns = 0;
	unsigned char hb[PS];
	while (pgc_test_now() - start < 0.15) {
		double t0 = pgc_test_now();
		struct hit_state h = {0};
		ck_assert_int_eq(pgc_aio_read(a, m, hb, PS, (uint64_t)(turns % 8) * PS, on_hit, &h),
				 0);
		ck_assert_int_ge(pgc_aio_reap(a, 0, 0), 1);
		double dt = pgc_test_now() - t0;
		if (dt > worst)
			worst = dt;
		ck_assert_int_eq(h.done, 1);
		ck_assert_int_eq(h.result, PS);
		ck_assert_int_eq(hb[0], (unsigned char)(turns % 8));
		hits++;
		turns++;
	}
	int missed_done = 0;
	for (int i = 0; i < MISSES; i++)
		missed_done += miss[i].done;
	ck_assert_int_lt(missed_done, MISSES); /* some were still in flight */
	ck_assert_msg(worst < 0.05, "a turn of the loop took %.1f ms", worst * 1e3);
	printf("aio: %d hits served while misses waited; slowest turn %.3f ms\n", hits,
	       worst * 1e3);
	reap_all(a);
	for (int i = 0; i < MISSES; i++) {
		ck_assert_int_eq(miss[i].result, PS);
		ck_assert_int_eq(mb[i][0], 64 + i);
	}
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
}
END_TEST

/* ---- reads that do not wait ---------------------------------------------- */

/* A store that notes which thread read each page, slowly when asked. */
static _Atomic unsigned slow_ms;
static _Atomic int reads_elsewhere, reads_total;
static pthread_t reader_thread;

static int noting_readpage(pgc_mapping *m, pgc_page *p)
{
	(void)m;
	unsigned ms = atomic_load(&slow_ms);
	if (ms)
		pgc_test_sleep_ms(ms);
	atomic_fetch_add(&reads_total, 1);
	if (!pthread_equal(pthread_self(), reader_thread))
		atomic_fetch_add(&reads_elsewhere, 1);
	memset(pgc_page_data(p), (int)(pgc_page_index(p) & 0xff), PS);
	return 0;
}

static const struct pgc_mapping_ops noting_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = noting_readpage,
};

static pgc_mapping *noting_mapping(pgc_cache *cache, unsigned pages, unsigned ms)
{
	pgc_mapping *m;
	atomic_store(&slow_ms, ms);
	atomic_store(&reads_elsewhere, 0);
	atomic_store(&reads_total, 0);
	reader_thread = pthread_self();
	ck_assert_int_eq(pgc_mapping_create(cache, &noting_ops, NULL, (uint64_t)pages * PS, &m), 0);
	return m;
}

/* NOWAIT: a miss returns -EAGAIN at once (the store takes 50 ms a page),
 * the pages come in the background, and the same read then copies them;
 * a read that begins with cached pages returns those. */
START_TEST(read_nowait_starts_fill)
{
	pgc_cache *cache = pgc_test_cache(256, PS);
	pgc_mapping *m = noting_mapping(cache, 64, 50);
	pgc_mapping_set_readahead(m, 0);
	unsigned char *b = malloc(4 * PS);
	double t0 = pgc_test_now();
	ck_assert_int_eq(pgc_read_flags(m, b, 3 * PS, 5 * PS, PGC_READ_NOWAIT), -EAGAIN);
	ck_assert_msg(pgc_test_now() - t0 < 0.04, "a NOWAIT miss took %.1f ms",
		      (pgc_test_now() - t0) * 1e3);
	ck_assert_int_eq(pgc_last_error(), -EAGAIN);
	ssize_t got;
	double deadline = pgc_test_now() + 10;
	/* Pages become readable one by one: a read may copy some of them. */
	while ((got = pgc_read_flags(m, b, 3 * PS, 5 * PS, PGC_READ_NOWAIT)) != 3 * PS &&
	       pgc_test_now() < deadline) {
		ck_assert(got == -EAGAIN || (got > 0 && got % PS == 0));
		pgc_test_sleep_ms(5);
	}
	ck_assert_int_eq(got, 3 * PS);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(b[i * PS], 5 + i);
	ck_assert_int_eq(atomic_load(&reads_elsewhere), 3);
	/* Cached page 7, then the missing 8: the cached bytes. */
	ck_assert_int_eq(pgc_read_flags(m, b, 2 * PS, 7 * PS, PGC_READ_NOWAIT), PS);
	ck_assert_int_eq(pgc_read_flags(m, b, PS, 0, 0x4), -EINVAL);
	/* Destroying the mapping waits for the background read of page 8. */
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	free(b);
	pgc_cache_destroy(cache);
}
END_TEST

/* A sequential reader: after the first window, which it reads itself, the
 * windows are read by the filler while it copies; every byte is right. */
START_TEST(sequential_readahead_in_background)
{
	pgc_cache *cache = pgc_test_cache(1024, PS);
	pgc_mapping *m = noting_mapping(cache, 512, 0);
	unsigned char b[PS];
	for (uint64_t i = 0; i < 512; i++) {
		ck_assert_int_eq(pgc_read(m, b, PS, i * PS), PS);
		ck_assert_int_eq(b[0], (unsigned char)(i & 0xff));
		ck_assert_int_eq(b[PS - 1], (unsigned char)(i & 0xff));
	}
	int elsewhere = atomic_load(&reads_elsewhere), total = atomic_load(&reads_total);
	printf("aio: sequential reader: %d of %d pages read in the background\n", elsewhere,
	       total);
	ck_assert_int_eq(total, 512);
	ck_assert_int_ge(elsewhere, 256);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
}
END_TEST

/* ---- errors reach the callbacks ----------------------------------------- */

static _Atomic int fail_writes; /* writepage calls left to fail with -EIO */

/* Page 2 cannot be read; a write fails while fail_writes says so. */
static int erring_readpage(pgc_mapping *m, pgc_page *p)
{
	(void)m;
	if (pgc_page_index(p) == 2)
		return -EIO;
	memset(pgc_page_data(p), 7, PS);
	return 0;
}

static int erring_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	(void)m;
	(void)p;
	(void)wbc;
	int left = atomic_load(&fail_writes);
	return left > 0 && atomic_compare_exchange_strong(&fail_writes, &left, left - 1) ? -EIO : 0;
}

static const struct pgc_mapping_ops erring_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = erring_readpage,
	.writepage = erring_writepage,
};

struct cause {
	int calls;
	ssize_t result;
	int last_error;
};

static void on_cause(void *arg, ssize_t result)
{
	struct cause *c = arg;
	c->calls++;
	c->result = result;
	c->last_error = pgc_last_error();
}

/* A short read's cause is pgc_last_error() in its callback; a sync with
 * the caller's sample reports a write error that happened before it, once. */
START_TEST(errors_reach_callbacks)
{
	pgc_cache *cache = pgc_test_cache(64, PS);
	pgc_mapping *m;
	ck_assert_int_eq(pgc_mapping_create(cache, &erring_ops, NULL, 16 * PS, &m), 0);
	pgc_mapping_set_readahead(m, 0);
	pgc_aio *a;
	ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
	unsigned char *b = malloc(4 * PS);
	struct cause c1 = {0}, c2 = {0};
	ck_assert_int_eq(pgc_aio_read(a, m, b, 4 * PS, 0, on_cause, &c1), 0);
	reap_all(a);
	ck_assert_int_eq(c1.calls, 1);
	ck_assert_int_eq(c1.result, 2 * PS);
	ck_assert_int_eq(c1.last_error, -EIO);
	/* A full read of cached pages: nothing stopped it. */
	ck_assert_int_eq(pgc_aio_read(a, m, b, 2 * PS, 0, on_cause, &c2), 0);
	reap_all(a);
	ck_assert_int_eq(c2.result, 2 * PS);
	ck_assert_int_eq(c2.last_error, 0);

	pgc_errseq_t since = pgc_mapping_sample_error(m);
	memset(b, 9, PS);
	ck_assert_int_eq(pgc_write(m, b, PS, 8 * PS, 0), PS);
	atomic_store(&fail_writes, 1);
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), -EIO);
	struct cause s1 = {0}, s2 = {0}, s3 = {0};
	/* Without a sample, the error before the call is not this sync's. */
	ck_assert_int_eq(pgc_aio_sync(a, m, 0, UINT64_MAX, NULL, on_cause, &s1), 0);
	reap_all(a);
	ck_assert_int_eq(s1.result, 0);
	ck_assert_int_eq(pgc_aio_sync(a, m, 0, UINT64_MAX, &since, on_cause, &s2), 0);
	reap_all(a);
	ck_assert_int_eq(s2.result, -EIO);
	ck_assert_int_eq(pgc_aio_sync(a, m, 0, UINT64_MAX, &since, on_cause, &s3), 0);
	reap_all(a);
	ck_assert_int_eq(s3.result, 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);
	free(b);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
}
END_TEST

/*
 * The segmenter's runs on the ring: a direct read over cached pages 2 and 5
 * is three runs submitted as one batch. -EAGAIN and short completions are
 * finished; -EIO stops the read at the start of the failed run (a cached
 * page before it counts as done) and is the error of the call.
 */
START_TEST(segment_runs_on_ring)
{
	struct fix f;
	fix_open(&f, 16, 64);
	ck_assert_int_eq(pgc_mapping_set_readahead(f.m, 0), 0);
	unsigned char *w = abuf(8 * PS);
	for (uint64_t idx = 2; idx <= 5; idx += 3)
		ck_assert_int_eq(pgc_read(f.m, w, PS, idx * PS), PS);
	struct iovec v = {w, 8 * PS};
	for (int kind = PGC__URF_EAGAIN; kind <= PGC__URF_SHORT; kind++) {
		memset(w, 0, 8 * PS);
		pgc__uring_fault_set(kind, 1, true);
		ck_assert_int_eq(pgc_direct_io(f.m, PGC_READ, &v, 1, 0), 8 * PS);
		uint64_t injected = pgc__uring_fault_injected();
		pgc__uring_fault_set(0, 0, false);
		ck_assert_int_eq(check_pat(w, 8 * PS, 0, 1), -1);
		if (have_uring())
			ck_assert_uint_ge(injected, 3); /* every run went to the ring */
	}
	memset(w, 0, 8 * PS);
	pgc__uring_fault_set(PGC__URF_EIO, 1, false);
	ssize_t r = pgc_direct_io(f.m, PGC_READ, &v, 1, 0);
	int last = pgc_last_error();
	pgc__uring_fault_set(0, 0, false);
	if (have_uring()) {
		/* Which run's completion came first is the kernel's choice. */
		ck_assert_msg(r == -EIO || r == 3 * PS || r == 6 * PS, "read returned %zd", r);
		ck_assert_int_eq(last, -EIO);
		if (r > 0)
			ck_assert_int_eq(check_pat(w, (size_t)r, 0, 1), -1);
	} else {
		ck_assert_int_eq(r, 8 * PS);
	}
	/* A write over the cached pages is one run, and they keep its bytes. */
	fill_pat(w, 8 * PS, 0, 9);
	ck_assert_int_eq(pgc_direct_io(f.m, PGC_WRITE, &v, 1, 0), 8 * PS);
	ck_assert_int_eq(file_check(&f, 0, 8 * PS, 9), -1);
	memset(w, 0, 8 * PS);
	ck_assert_int_eq(pgc_read(f.m, w, PS, 5 * PS), PS);
	ck_assert_int_eq(check_pat(w, PS, 5 * PS, 9), -1);
	free(w);
	fix_close(&f);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("aio");
	pgc_test_add(s, "engine_default_and_switch", engine_default_and_switch, 30);
	pgc_test_add(s, "writeback_runs_on_ring", writeback_runs_on_ring, 30);
	pgc_test_add(s, "writeback_eio_once", writeback_eio_once, 30);
	pgc_test_add(s, "eagain_and_short_finished", eagain_and_short_finished, 30);
	pgc_test_add(s, "read_eio_then_retry", read_eio_then_retry, 30);
	pgc_test_add(s, "setup_fails_falls_back", setup_fails_falls_back, 30);
	pgc_test_add(s, "read_miss_then_hit", read_miss_then_hit, 30);
	pgc_test_add(s, "direct_many_in_flight", direct_many_in_flight, 30);
	pgc_test_add(s, "direct_write_coherent", direct_write_coherent, 30);
	pgc_test_add(s, "direct_eof", direct_eof, 30);
	pgc_test_add(s, "direct_faults", direct_faults, 30);
	pgc_test_add(s, "no_ring_context", no_ring_context, 30);
	pgc_test_add(s, "write_sync_and_depth", write_sync_and_depth, 30);
	pgc_test_add(s, "loop_serves_hits_while_misses_wait", loop_serves_hits_while_misses_wait,
		     60);
	pgc_test_add(s, "read_nowait_starts_fill", read_nowait_starts_fill, 30);
	pgc_test_add(s, "sequential_readahead_in_background", sequential_readahead_in_background,
		     30);
	pgc_test_add(s, "errors_reach_callbacks", errors_reach_callbacks, 30);
	pgc_test_add(s, "segment_runs_on_ring", segment_runs_on_ring, 30);
	return pgc_test_main(argc, argv, s);
}
