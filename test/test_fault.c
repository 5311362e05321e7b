/*
 * Fault injection: allocation failures at every point of each public
 * operation, and I/O errors of the store.
 *
 * Allocation failures (lib/fault_internal.h): each operation runs with the
 * N-th internal allocation failing, for N = 1, 2, 3... until a run no longer
 * reaches the fault. Each run must return success or a clean error
 * (-ENOMEM, or -EAGAIN where documented), leave a cache that passes
 * pgc_cache_check(), and keep every byte acknowledged before it: data
 * written back, and data written to the cache but still dirty. Leaks show
 * up under AddressSanitizer's leak checker, which the sanitized CI stage
 * runs on this suite.
 *
 * Store I/O errors: a store wrapper fails the N-th read or write. A failed
 * read leaves no up-to-date page with wrong data; a failed writeback keeps
 * the pages dirty and reports the error once to each sync caller, and a
 * later writeback persists the data.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "pgc_test.h"

#include "../lib/cache_internal.h"
#include "../lib/fault_internal.h"

#define CAPACITY 48u /* pages: small enough that operations reclaim */
#define FILE_PAGES 40u

struct fx {
	pgc_cache *cache;
	pgc_store *store;
	pgc_mapping *m;
	char path[256];
	size_t ps;
	uint64_t size;
	unsigned char *shadow; /* what the file holds (acknowledged data) */
	unsigned char *buf;    /* page-aligned I/O buffer */
	size_t cap;            /* bytes of shadow and buf */
	unsigned gen;          /* stamp of the next write */
};

/* ---- the faulty store: the built-in file store with errors injected ---- */

static atomic_int reads_left = 0;  /* fail the read that brings this to 0 */
static atomic_int writes_left = 0; /* fail the write that brings this to 0 */
static atomic_int injected_io = 0;

static bool io_fault(atomic_int *left)
{
	int v = atomic_load(left);
	while (v > 0 && !atomic_compare_exchange_weak(left, &v, v - 1))
		;
	if (v == 1) {
		atomic_fetch_add(&injected_io, 1);
		return true;
	}
	return false;
}

static int fs_readpage(pgc_mapping *m, pgc_page *p)
{
	if (io_fault(&reads_left)) {
		/* Scribble, as a device that fails mid-transfer may. */
		memset(pgc_page_data(p), 0xEE, pgc_cache_page_size(pgc_mapping_cache(m)));
		return -EIO;
	}
	return pgc_store_ops()->readpage(m, p);
}

static int fs_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	if (io_fault(&writes_left))
		return -EIO;
	return pgc_store_ops()->writepage(m, p, wbc);
}

static ssize_t fs_direct_IO(pgc_mapping *m, int rw, const struct iovec *iov, int n, uint64_t off)
{
	if (io_fault(rw == PGC_READ ? &reads_left : &writes_left))
		return -EIO;
	return pgc_store_ops()->direct_IO(m, rw, iov, n, off);
}

static const struct pgc_mapping_ops faulty_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = fs_readpage,    /* no readpages: readahead reads page by page */
	.writepage = fs_writepage,  /* no writepages: the default calls writepage */
	.migratepage = pgc_migrate_page,
	.direct_IO = fs_direct_IO,
};

/* ---- fixture ---- */

static void stamp(struct fx *f, unsigned char *dst, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = (unsigned char)(f->gen * 31u + (off + i) * 7u + 1u);
}

static void fx_open_mapping(struct fx *f, bool faulty)
{
	ck_assert_int_eq(pgc_store_open(f->path, O_RDWR, 0600, &f->store), 0);
	if (!faulty) {
		ck_assert_int_eq(pgc_store_mapping_create(f->cache, f->store, &f->m), 0);
		return;
	}
	uint64_t size;
	ck_assert_int_eq(pgc_store_size(f->store, &size), 0);
	ck_assert_int_eq(pgc_mapping_create(f->cache, &faulty_ops, f->store, size, &f->m), 0);
	struct pgc_dio_limits lim = {
		.size = sizeof(lim),
		.block_size = (uint32_t)pgc_store_block_size(f->store),
		.mem_align = (uint32_t)pgc_store_mem_align(f->store),
		.max_segment = 1u << 20,
	};
	ck_assert_int_eq(pgc_mapping_set_dio_limits(f->m, &lim), 0);
}

/*
 * A cache over a file of FILE_PAGES pages: the first half written back, the
 * second half written through the cache and still dirty. Both are
 * acknowledged.
 */
static void fx_setup(struct fx *f, bool faulty)
{
	memset(f, 0, sizeof(*f));
	f->cache = pgc_test_cache(CAPACITY, 0);
	f->ps = pgc_cache_page_size(f->cache);
	f->cap = (size_t)(FILE_PAGES + 8) * f->ps;
	f->shadow = calloc(1, f->cap);
	ck_assert_ptr_nonnull(f->shadow);
	ck_assert_int_eq(posix_memalign((void **)&f->buf, 4096, f->cap), 0);
	snprintf(f->path, sizeof(f->path), "pgc-fault.XXXXXX");
	int fd = mkstemp(f->path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fx_open_mapping(f, faulty);
	size_t half = FILE_PAGES / 2 * f->ps;
	f->gen = 1;
	stamp(f, f->shadow, 0, FILE_PAGES * f->ps);
	ck_assert_int_eq(pgc_write(f->m, f->shadow, half, 0, 0), (ssize_t)half);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(pgc_write(f->m, f->shadow + half, half, half, 0), (ssize_t)half);
	f->size = FILE_PAGES * f->ps;
	f->gen = 2;
}

static void fx_teardown(struct fx *f)
{
	if (f->m) {
		ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
		ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	}
	if (f->store)
		ck_assert_int_eq(pgc_store_close(f->store), 0);
	char why[256];
	ck_assert_msg(pgc_cache_check(f->cache, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	unlink(f->path);
	free(f->shadow);
	free(f->buf);
}

/*
 * The cache and the file must hold the shadow, except that bytes of
 * [lo, hi) may hold either the shadow or alt (a write that failed part way).
 */
static void fx_verify(struct fx *f, const char *what, uint64_t lo, uint64_t hi,
		      const unsigned char *alt)
{
	char why[256];
	ck_assert_msg(pgc_cache_check(f->cache, why, sizeof(why)) == 0, "%s: %s", what, why);
	ck_assert_msg(pgc_mapping_size(f->m) == f->size, "%s: size %" PRIu64 ", expected %" PRIu64,
		      what, pgc_mapping_size(f->m), f->size);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 0) {
			ck_assert_int_eq(pgc_read(f->m, f->buf, f->size, 0), (ssize_t)f->size);
		} else {
			ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
			int fd = open(f->path, O_RDONLY);
			ck_assert_int_ge(fd, 0);
			ck_assert_int_eq(pread(fd, f->buf, f->size, 0), (ssize_t)f->size);
			close(fd);
		}
		for (uint64_t i = 0; i < f->size; i++) {
			if (f->buf[i] == f->shadow[i])
				continue;
			if (i >= lo && i < hi && alt && f->buf[i] == alt[i - lo])
				continue;
			ck_abort_msg("%s: %s byte %" PRIu64 " (page %" PRIu64 ") is %#x, expected %#x",
				     what, pass ? "the file's" : "the cache's", i, i / f->ps,
				     f->buf[i], f->shadow[i]);
		}
	}
}

/* ---- allocation faults ---- */

/* One operation under test; returns its result, and for a write the range
 * it wrote (*lo, *hi) and the data (*alt), which the shadow takes on success. */
struct fop {
	const char *name;
	long (*run)(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt);
	bool no_alloc; /* may complete without allocating (then nothing to inject) */
};

static unsigned char wdata[64 * 4096 + 4096];

static long write_range(struct fx *f, uint64_t off, size_t len, uint64_t *lo, uint64_t *hi,
			const unsigned char **alt)
{
	stamp(f, wdata, off, len);
	*lo = off;
	*hi = off + len;
	*alt = wdata;
	return pgc_write(f->m, wdata, len, off, 0);
}

static long op_write_new(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	/* Across cached pages, past the end, and growing the file. */
	return write_range(f, FILE_PAGES * f->ps - 3 * f->ps - 100, 6 * f->ps, lo, hi, alt);
}

static long op_write_tiny(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	return write_range(f, 5 * f->ps + 17, 9, lo, hi, alt);
}

static long op_write_uncached(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	pgc_mapping_invalidate(f->m, 0, UINT64_MAX);
	return write_range(f, 3 * f->ps + 5, 2 * f->ps, lo, hi, alt);
}

static long op_read_cold(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	pgc_mapping_invalidate(f->m, 0, UINT64_MAX);
	ssize_t r = pgc_read(f->m, f->buf, 12 * f->ps, f->ps);
	if (r > 0)
		ck_assert_int_eq(memcmp(f->buf, f->shadow + f->ps, (size_t)r), 0);
	return r;
}

static long op_writeback(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	return pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL);
}

static long op_sync_range(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	pgc_errseq_t since = pgc_mapping_sample_error(f->m);
	return pgc_sync_range(f->m, 0, f->size, &since);
}

static long op_io_write(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	pgc_io *io;
	int err = pgc_io_create(f->m, 0, &io);
	if (err)
		return err;
	uint64_t pos = 7 * f->ps + 100;
	stamp(f, wdata, pos, 200);
	*lo = pos;
	*hi = pos + 200;
	*alt = wdata;
	pgc_clpage *clp;
	err = pgc_write_begin(io, pos, 200, &clp);
	if (err == 0) {
		memcpy((char *)pgc_clpage_data(clp) + 100, wdata, 200);
		err = pgc_write_end(io, clp, pos, 200);
	}
	int cerr = pgc_io_commit(io);
	pgc_io_destroy(io);
	return err ? err : cerr;
}

static long op_dread(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	struct iovec iov = {.iov_base = f->buf, .iov_len = 24 * f->ps};
	ssize_t r = pgc_direct_io(f->m, PGC_READ, &iov, 1, 8 * f->ps);
	if (r > 0)
		ck_assert_int_eq(memcmp(f->buf, f->shadow + 8 * f->ps, (size_t)r), 0);
	return r;
}

static long op_dwrite(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	uint64_t off = 18 * f->ps;
	size_t len = 4 * f->ps;
	stamp(f, f->buf, off, len);
	memcpy(wdata, f->buf, len);
	*lo = off;
	*hi = off + len;
	*alt = wdata;
	struct iovec iov = {.iov_base = f->buf, .iov_len = len};
	return pgc_direct_io(f->m, PGC_WRITE, &iov, 1, off);
}

static long op_truncate(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	uint64_t size = 30 * f->ps + 123;
	int err = pgc_mapping_truncate(f->m, size);
	if (err == 0) {
		memset(f->shadow + size, 0, f->size - size);
		f->size = size;
	}
	return err;
}

static long op_invalidate(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	return pgc_mapping_invalidate(f->m, 0, UINT64_MAX);
}

static long op_reclaim(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	return pgc_cache_reclaim(f->cache, CAPACITY);
}

static long move_some(struct fx *f, unsigned flags)
{
	pgc_page *pages[FILE_PAGES];
	int nodes[FILE_PAGES], status[FILE_PAGES];
	unsigned n = 0;
	int node = pgc_test_first_node(f->cache);
	for (uint64_t i = 0; i < FILE_PAGES; i += 2)
		if (pgc_mapping_find(f->m, i, &pages[n]) == 0)
			nodes[n++] = node;
	long r = pgc_move_pages(f->cache, n, pages, nodes, status, flags);
	for (unsigned i = 0; i < n; i++) {
		if (r >= 0)
			ck_assert_msg(status[i] == node || status[i] == -ENOMEM ||
					      status[i] == -EBUSY,
				      "page %u: status %d", i, status[i]);
		pgc_page_put(pages[i]);
	}
	return r < 0 ? r : 0; /* pages left behind are a clean outcome */
}

static long op_move_copy(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	return move_some(f, PGC_MOVE_ALL);
}

static long op_move_inplace(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	return move_some(f, PGC_MOVE_INPLACE);
}

static long op_migrate_nodes(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	int node = pgc_test_first_node(f->cache);
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	long r = pgc_migrate_nodes(f->cache, f->m, &node, &node, 1, 0, PGC_MR_DRAIN, &st);
	return r < 0 ? r : 0;
}

static long op_clpage_find(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	pgc_clpage *clp[3];
	int err = 0;
	unsigned n = 0;
	/* Buffered writes left handles on their pages: drop the clean pages
	 * so that the handles and the pages are made anew. */
	pgc_mapping_invalidate(f->m, 0, UINT64_MAX);
	for (uint64_t idx = 1; n < 3 && !err; idx += 7, n++)
		err = pgc_clpage_find(f->m, idx, 0, &clp[n]);
	if (err)
		n--;
	for (unsigned i = 0; i < n; i++)
		pgc_clpage_put(clp[i]);
	return err;
}

static long op_find_or_create(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	pgc_page *p;
	/* Past the end: a new page, not up to date, that nobody fills. */
	int err = pgc_mapping_find_or_create(f->m, FILE_PAGES + 3, 0, &p);
	if (err == 0) {
		pgc_page_unlock(p);
		pgc_page_put(p);
	}
	return err;
}

static long op_reopen(struct fx *f, uint64_t *lo, uint64_t *hi, const unsigned char **alt)
{
	(void)lo, (void)hi, (void)alt;
	int err = pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL);
	if (err)
		return err;
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	f->m = NULL;
	err = pgc_store_mapping_create(f->cache, f->store, &f->m);
	if (err)
		f->m = NULL;
	return err;
}

static const struct fop fops[] = {
	{"write_new", op_write_new, false},
	{"write_tiny", op_write_tiny, true},
	{"write_uncached", op_write_uncached, false},
	{"read_cold", op_read_cold, false},
	{"writeback", op_writeback, false},
	{"sync_range", op_sync_range, false},
	{"io_write_begin_end", op_io_write, false},
	{"direct_read", op_dread, false},
	{"direct_write", op_dwrite, false},
	{"truncate", op_truncate, true},
	{"invalidate", op_invalidate, true},
	{"reclaim", op_reclaim, true},
	{"move_pages_copy", op_move_copy, false},
	{"move_pages_inplace", op_move_inplace, false},
	{"migrate_nodes", op_migrate_nodes, false},
	{"clpage_find", op_clpage_find, false},
	{"find_or_create", op_find_or_create, false},
	{"mapping_reopen", op_reopen, false},
};
#define NR_FOPS (sizeof(fops) / sizeof(fops[0]))

START_TEST(alloc_fault_each_operation)
{
	const struct fop *op = &fops[_i];
	uint64_t faults = 0;
	for (uint64_t n = 1;; n++) {
		struct fx f;
		fx_setup(&f, false);
		uint64_t lo = 0, hi = 0;
		const unsigned char *alt = NULL;
		pgc__fault_set_nth(n);
		long r = op->run(&f, &lo, &hi, &alt);
		uint64_t hit = pgc__fault_injected();
		pgc__fault_set_nth(0);
		ck_assert_msg(n < 10000, "%s: more than 10000 allocation points", op->name);
		if (r < 0)
			ck_assert_msg(hit && r == -ENOMEM,
				      "%s with allocation %" PRIu64 " failing: %ld (%s), %s", op->name,
				      n, r, pgc_strerror((int)r),
				      hit ? "not a clean error" : "but no fault was injected");
		if (!f.m) /* a reopen that failed: the store is still open */
			ck_assert_int_eq(pgc_store_mapping_create(f.cache, f.store, &f.m), 0);
		if (r >= 0 && alt) {
			/* Success: the written bytes are acknowledged. A short write
			 * acknowledges only its prefix. */
			uint64_t end = lo + (uint64_t)r < hi ? lo + (uint64_t)r : hi;
			memcpy(f.shadow + lo, alt, end - lo);
			if (end > f.size)
				f.size = end;
		}
		/* A failed write may have grown the size with its partial data. */
		if (r < 0 && alt && pgc_mapping_size(f.m) > f.size && pgc_mapping_size(f.m) <= hi)
			f.size = pgc_mapping_size(f.m);
		char what[128];
		snprintf(what, sizeof(what), "%s with allocation %" PRIu64 " failing (%ld)", op->name,
			 n, r);
		fx_verify(&f, what, lo, hi, alt);
		fx_teardown(&f);
		if (!hit)
			break;
		faults++;
	}
	printf("fault: %-20s %3" PRIu64 " allocation points failed, each cleanly\n", op->name,
	       faults);
	fflush(stdout);
	ck_assert_msg(faults > 0 || op->no_alloc,
		      "%s: no allocation point reached: the test does not test it", op->name);
}
END_TEST

/* Creating objects: each failure point of the constructors. */
START_TEST(alloc_fault_constructors)
{
	uint64_t faults = 0;
	for (uint64_t n = 1;; n++) {
		pgc_cache *c = NULL;
		pgc_store *s = NULL;
		pgc_mapping *m = NULL;
		pgc_io *io = NULL;
		char path[] = "pgc-fault-ctor.XXXXXX";
		int fd = mkstemp(path);
		ck_assert_int_ge(fd, 0);
		close(fd);
		pgc__fault_set_nth(n);
		struct pgc_cache_config cfg;
		pgc_cache_config_init(&cfg);
		cfg.capacity_pages = 64;
		int err = pgc_cache_create(&cfg, &c);
		if (!err)
			err = pgc_store_open(path, O_RDWR, 0600, &s);
		if (!err)
			err = pgc_store_mapping_create(c, s, &m);
		if (!err)
			err = pgc_io_create(m, 0, &io);
		uint64_t hit = pgc__fault_injected();
		pgc__fault_set_nth(0);
		ck_assert_msg(err == 0 || (hit && err == -ENOMEM),
			      "constructors with allocation %" PRIu64 " failing: %d (%s)", n, err,
			      pgc_strerror(err));
		if (c) {
			char why[256];
			ck_assert_msg(pgc_cache_check(c, why, sizeof(why)) == 0, "%s", why);
		}
		pgc_io_destroy(io);
		if (m)
			ck_assert_int_eq(pgc_mapping_destroy(m), 0);
		if (s)
			ck_assert_int_eq(pgc_store_close(s), 0);
		if (c)
			ck_assert_int_eq(pgc_cache_destroy(c), 0);
		unlink(path);
		if (!hit)
			break;
		faults++;
	}
	printf("fault: %-20s %3" PRIu64 " allocation points failed, each cleanly\n",
	       "constructors", faults);
	ck_assert_uint_gt(faults, 3);
}
END_TEST

/* ---- store I/O errors ---- */

/* A failed read leaves no up-to-date page holding other than the file's data. */
START_TEST(store_read_errors)
{
	unsigned failures = 0;
	for (int n = 1; n <= 24; n++) {
		struct fx f;
		fx_setup(&f, true);
		ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
		pgc_mapping_invalidate(f.m, 0, UINT64_MAX);
		atomic_store(&injected_io, 0);
		atomic_store(&reads_left, n);
		ssize_t r;
		if (n % 2) {
			r = pgc_read(f.m, f.buf, 20 * f.ps, 2 * f.ps);
		} else {
			struct iovec iov = {.iov_base = f.buf, .iov_len = 20 * f.ps};
			r = pgc_direct_io(f.m, PGC_READ, &iov, 1, 2 * f.ps);
		}
		atomic_store(&reads_left, 0);
		bool hit = atomic_load(&injected_io) > 0;
		if (hit) {
			/* The failed read may have been readahead past the range. */
			failures++;
			ck_assert_msg(r == -EIO || r >= 0, "read with read %d failing returned %zd", n,
				      r);
		} else {
			ck_assert_int_eq(r, (ssize_t)(20 * f.ps));
		}
		if (r > 0) /* what it did return is right */
			ck_assert_int_eq(memcmp(f.buf, f.shadow + 2 * f.ps, (size_t)r), 0);
		/* Every up-to-date page holds the file's data. */
		for (uint64_t i = 0; i < FILE_PAGES; i++) {
			pgc_page *p;
			if (pgc_mapping_find(f.m, i, &p) != 0)
				continue;
			if (pgc_page_test_flag(p, PGC_PG_UPTODATE))
				ck_assert_msg(memcmp(pgc_page_data(p), f.shadow + i * f.ps, f.ps) == 0,
					      "page %" PRIu64 " is up to date with bad data", i);
			pgc_page_put(p);
		}
		fx_verify(&f, "after a read error", 0, 0, NULL);
		fx_teardown(&f);
	}
	printf("fault: store reads: %u read errors injected, no bad page left up to date\n",
	       failures);
	ck_assert_uint_gt(failures, 10);
}
END_TEST

/* A failed writeback keeps the data and reports the error to each sync caller. */
START_TEST(store_write_errors)
{
	unsigned failures = 0;
	for (int n = 1; n <= 20; n++) {
		struct fx f;
		fx_setup(&f, true); /* pages 20..39 are dirty */
		pgc_errseq_t a = pgc_mapping_sample_error(f.m), b = a;
		atomic_store(&injected_io, 0);
		atomic_store(&writes_left, n);
		int err = pgc_sync_range(f.m, 0, f.size, &a);
		atomic_store(&writes_left, 0);
		ck_assert_int_eq(atomic_load(&injected_io), 1);
		failures++;
		ck_assert_msg(err == -EIO, "sync with write %d failing: %d", n, err);
		ck_assert_msg(pgc_mapping_nr_dirty(f.m) >= 1, "the failed page is no longer dirty");
		/* Once to each caller that sampled before the error ... */
		ck_assert_int_eq(pgc_mapping_check_error(f.m, &b), -EIO);
		ck_assert_int_eq(pgc_mapping_check_error(f.m, &b), 0);
		ck_assert_int_eq(pgc_mapping_check_error(f.m, &a), 0);
		/* ... and a later writeback persists everything. */
		ck_assert_int_eq(pgc_sync_range(f.m, 0, f.size, &a), 0);
		ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
		fx_verify(&f, "after a write error", 0, 0, NULL);
		fx_teardown(&f);
	}
	/* Direct writes: the error is returned and no byte is claimed. */
	struct fx f;
	fx_setup(&f, true);
	atomic_store(&writes_left, 1);
	stamp(&f, f.buf, 0, 2 * f.ps);
	struct iovec iov = {.iov_base = f.buf, .iov_len = 2 * f.ps};
	ck_assert_int_eq(pgc_direct_io(f.m, PGC_WRITE, &iov, 1, 0), -EIO);
	atomic_store(&writes_left, 0);
	fx_verify(&f, "after a direct write error", 0, 2 * f.ps, f.buf);
	fx_teardown(&f);
	printf("fault: store writes: %u write errors injected, each reported, nothing lost\n",
	       failures + 1);
}
END_TEST

/*
 * The writeback thread: creating a cache with it fails cleanly at each
 * allocation and at the thread's creation (-EAGAIN), and a thread whose
 * writes fail keeps the pages dirty, reports the error once to each
 * sampler, and writes everything once the store works again.
 */
/* A chunk that cannot be mapped: the reserve says -ENOMEM, keeps what it
 * made, and a later call completes it. */
START_TEST(reserve_faults)
{
	uint64_t faults = 0;
	for (uint64_t n = 1;; n++) {
		struct pgc_cache_config cfg;
		pgc_cache_config_init(&cfg);
		cfg.capacity_pages = 4096;
		pgc_cache *c = NULL;
		ck_assert_int_eq(pgc_cache_create(&cfg, &c), 0);
		int nodes[PGC_MAX_NODES];
		ck_assert_int_ge(pgc_cache_nodes(c, nodes, PGC_MAX_NODES), 1);
		pgc__fault_set_nth(n);
		int err = pgc_cache_reserve(c, nodes[0], 1024);
		uint64_t hit = pgc__fault_injected();
		pgc__fault_set_nth(0);
		ck_assert_msg(hit ? err == -ENOMEM : err == 0,
			      "reserve with allocation %" PRIu64 " failing: %d", n, err);
		ck_assert_int_eq(pgc_cache_reserve(c, nodes[0], 1024), 0);
		ck_assert_int_eq(pgc_cache_check(c, NULL, 0), 0);
		ck_assert_int_eq(pgc_cache_destroy(c), 0);
		if (!hit)
			break;
		faults++;
	}
	ck_assert_uint_ge(faults, 1);
	printf("fault: %-20s %3" PRIu64 " allocation points failed, each cleanly\n", "reserve",
	       faults);
}
END_TEST

/*
 * A batch large enough for the cache's copy helpers, with each allocation
 * point failing in turn (helper creation among them): every page either
 * moved or stayed (-ENOMEM), its data intact either way.
 */
START_TEST(migrate_helper_faults)
{
	enum { N = 64, PS = 65536 }; /* 4 MiB: copied with the helpers */
	uint64_t faults = 0;
	bool no_helpers = false;
	for (uint64_t n = 1;; n++) {
		pgc_cache *c = pgc_test_cache(3 * N, PS);
		pgc_mapping *m;
		ck_assert_int_eq(pgc_mapping_create(c, NULL, NULL, (uint64_t)N * PS, &m), 0);
		static pgc_page *pages[N];
		static int status[N];
		for (uint64_t i = 0; i < N; i++) {
			ck_assert_int_eq(pgc_mapping_find_or_create(m, i, 0, &pages[i]), 0);
			memset(pgc_page_data(pages[i]), (int)(i & 0xff), PS);
			pgc_page_set_flag(pages[i], PGC_PG_UPTODATE);
			pgc_page_unlock(pages[i]);
		}
		pgc__fault_set_nth(n);
		long r = pgc_migrate_pages(pages, N, pgc_test_new_page_any, c, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, status, NULL);
		uint64_t hit = pgc__fault_injected();
		pgc__fault_set_nth(0);
		struct pgc_workers *w = &((struct pgc_cache *)c)->workers;
		no_helpers |= hit && w->started && w->nr == 0;
		ck_assert_msg(r == 0 || (hit && r == -ENOMEM), "migrate with allocation %" PRIu64
			      " failing: %ld", n, r);
		for (uint64_t i = 0; i < N; i++) {
			ck_assert_msg(status[i] == 0 || (hit && status[i] == -ENOMEM), "status %d",
				      status[i]);
			const unsigned char *d = pgc_page_data(pages[i]);
			for (size_t k = 0; k < PS; k += 512)
				ck_assert_uint_eq(d[k], i & 0xff);
			pgc_page_put(pages[i]);
		}
		ck_assert_int_eq(pgc_cache_check(c, NULL, 0), 0);
		ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
		ck_assert_int_eq(pgc_mapping_destroy(m), 0);
		ck_assert_int_eq(pgc_cache_destroy(c), 0);
		if (!hit)
			break;
		faults++;
	}
	/* On a machine with one CPU there is no helper to fail. */
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		ck_assert(no_helpers);
	printf("fault: %-20s %3" PRIu64 " allocation points failed, each cleanly\n",
	       "migrate helpers", faults);
}
END_TEST

START_TEST(writeback_thread_faults)
{
	uint64_t faults = 0;
	bool thread_failed = false;
	for (uint64_t n = 1;; n++) {
		struct pgc_cache_config cfg;
		pgc_cache_config_init(&cfg);
		cfg.capacity_pages = 64;
		cfg.flags = PGC_CACHE_WRITEBACK_THREAD;
		pgc_cache *c = NULL;
		pgc__fault_set_nth(n);
		int err = pgc_cache_create(&cfg, &c);
		uint64_t hit = pgc__fault_injected();
		pgc__fault_set_nth(0);
		ck_assert_msg(err == 0 || (hit && (err == -ENOMEM || err == -EAGAIN)),
			      "create with allocation %" PRIu64 " failing: %d", n, err);
		thread_failed |= err == -EAGAIN;
		ck_assert(err == 0 || c == NULL);
		if (c)
			ck_assert_int_eq(pgc_cache_destroy(c), 0);
		if (!hit)
			break;
		faults++;
	}
	ck_assert(thread_failed);
	printf("fault: %-20s %3" PRIu64 " allocation points failed, each cleanly\n",
	       "writeback thread", faults);

	for (int n = 1; n <= 5; n++) {
		struct fx f;
		fx_setup(&f, true); /* pages 20..39 dirty: above the background threshold */
		pgc_errseq_t a = pgc_mapping_sample_error(f.m);
		atomic_store(&injected_io, 0);
		atomic_store(&writes_left, n);
		ck_assert_int_eq(pgc_cache_start_writeback(f.cache), 0);
		for (int t = 0; t < 5000 && atomic_load(&injected_io) == 0; t++)
			pgc_test_sleep_ms(1);
		ck_assert_int_eq(atomic_load(&injected_io), 1);
		/* The thread stops: its writes and their errors are all in. */
		ck_assert_int_eq(pgc_cache_stop_writeback(f.cache), 0);
		atomic_store(&writes_left, 0);
		ck_assert_uint_ge(pgc_mapping_nr_dirty(f.m), 1);
		ck_assert_int_eq(pgc_mapping_check_error(f.m, &a), -EIO);
		ck_assert_int_eq(pgc_mapping_check_error(f.m, &a), 0);
		ck_assert_int_eq(pgc_sync_range(f.m, 0, f.size, &a), 0);
		ck_assert_uint_eq(pgc_mapping_nr_dirty(f.m), 0);
		fx_verify(&f, "after the thread's write error", 0, 0, NULL);
		fx_teardown(&f);
	}
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = tcase_create("alloc");
	tcase_add_loop_test(tc, alloc_fault_each_operation, 0, (int)NR_FOPS);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	PGC_ADD(s, alloc_fault_constructors, 120);
	PGC_ADD(s, store_read_errors, 120);
	PGC_ADD(s, store_write_errors, 120);
	PGC_ADD(s, writeback_thread_faults, 120);
	PGC_ADD(s, reserve_faults, 60);
	PGC_ADD(s, migrate_helper_faults, 120);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, fault_suite());
}
