/*
 * Suite "stress": buffered and direct I/O from several threads on
 * overlapping ranges of one file on the built-in O_DIRECT store, while a
 * migrator thread copies random cached pages to new frames
 * (pgc_migrate_pages, and pgc_move_pages between nodes when there are
 * several) and a reclaimer thread shrinks the cache, which is small enough
 * that reads and writes reclaim too.
 *
 * The file is cut into blocks of the store's direct-I/O size. Writer t owns
 * the blocks b with b % NWRITERS == t, so pages hold blocks of every
 * writer: buffered writes, direct writes, writeback and migration of one
 * page race each other, while the content of each block has one author.
 * Each block written carries its number, its author, a version and a
 * checksum over the whole block. Every read (buffered or direct, of ranges
 * spanning everybody's blocks) checks the reader's own blocks exactly
 * (the version it last wrote) and everybody's blocks for a valid checksum
 * or zeros when no write of them can be in flight (see check_block).
 * At the end, after a full writeback, the cache and the file read with
 * pread must both hold exactly the last version of every block.
 *
 * aio_migrate_reclaim_stress does the same with each writer's I/O going
 * through an asynchronous context of its own (pgc_aio: cached reads
 * inline, direct transfers on the context's io_uring ring where the range
 * is clean, the rest on its workers), one request at a time.
 *
 * Operation counts come from the seed (printed) and PGC_TEST_SCALE (0.1
 * under ThreadSanitizer, which runs this suite too).
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <fcntl.h>

#define NWRITERS 3
#define FILE_BLOCKS_MIN 512 /* blocks; the file is at least 64 pages */
#define CACHE_PAGES 48
#define MAX_READ_BLOCKS 24
#define MIGRATE_BATCH 4 /* pages held, and as many new ones, per migration */
#define BLOCK_MAGIC 0x626c6f636bu /* "block" */

struct block_head {
	uint64_t magic;
	uint64_t block;
	uint64_t author;
	uint64_t version;
	uint64_t sum; /* FNV-1a over the block with this field zero */
};

struct stress {
	pgc_cache *cache;
	pgc_store *store;
	pgc_mapping *m;
	char path[64];
	size_t ps, bs;             /* page size, block size */
	uint64_t nblocks;
	uint64_t *last;            /* nblocks: last version written (its author's) */
	bool *last_direct;         /* nblocks: whether that write was direct */
	_Atomic uint64_t *wseq;    /* nblocks: odd while a write of the block runs */
	atomic_bool stop;
	struct pgc_tfail fail;
	unsigned long ops;
	uint64_t seed;
	_Atomic uint64_t reads, writes, dio, migrated, moved, reclaimed, checked, retries;
	_Atomic uint64_t stale_reads; /* wrong reads of a writer's own block: failures */
};

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void fill_block(struct stress *s, unsigned char *d, uint64_t b, uint64_t author,
		       uint64_t version)
{
	struct block_head h = {BLOCK_MAGIC, b, author, version, 0};
	for (size_t i = sizeof(h); i < s->bs; i++)
		d[i] = (unsigned char)(b * 131u + version * 17u + i);
	memcpy(d, &h, sizeof(h));
	h.sum = fnv(d, s->bs);
	memcpy(d, &h, sizeof(h));
}

static bool block_valid(struct stress *s, const unsigned char *d, uint64_t b, uint64_t *version)
{
	struct block_head h;
	memcpy(&h, d, sizeof(h));
	if (h.magic == 0) {
		for (size_t i = 0; i < s->bs; i++)
			if (d[i])
				return false;
		*version = 0;
		return true;
	}
	uint64_t sum = h.sum;
	struct block_head z = h;
	z.sum = 0;
	unsigned char tmp[sizeof(z)];
	memcpy(tmp, d, sizeof(z));
	memcpy((unsigned char *)d, &z, sizeof(z)); /* the buffer is the caller's */
	uint64_t got = fnv(d, s->bs);
	memcpy((unsigned char *)d, tmp, sizeof(z));
	*version = h.version;
	return h.magic == BLOCK_MAGIC && h.block == b && h.author == b % NWRITERS && sum == got;
}

/*
 * A writer read something other than the last version of its own block: a
 * failure. The block is read again (through the cache) to tell a stale
 * read (the last version is there now: some read missed it) from a lost
 * write, and both are reported with what the last write was.
 */
static void own_block_wrong(struct stress *s, int self, uint64_t b, uint64_t v, bool ok,
			    const char *how)
{
	unsigned char *again = aligned_alloc(4096, 4096 > s->bs ? 4096 : s->bs);
	uint64_t v2 = 0;
	bool ok2 = false;
	if (again && pgc_read(s->m, again, s->bs, b * s->bs) == (ssize_t)s->bs)
		ok2 = block_valid(s, again, b, &v2) && v2 == s->last[b];
	free(again);
	atomic_fetch_add_explicit(&s->stale_reads, 1, memory_order_relaxed);
	TCHECK(&s->fail, false,
	       "%s by writer %d: its own block %" PRIu64 " holds version %" PRIu64
	       " (valid %d), it last wrote %" PRIu64 " (%s)%s",
	       how, self, b, v, ok, s->last[b], s->last_direct[b] ? "direct" : "buffered",
	       ok2 ? "; read again it is right (a stale read)" : "; read again still wrong (lost)");
}

/*
 * Checks block b read by thread self. Its own blocks must hold exactly the
 * last version it wrote. Another writer's block must be whole (a valid
 * checksum, or zeros) unless a write of it ran during the read (seq, the
 * block's write sequence before the read, is odd or has changed): reads are
 * not atomic against writes of the same bytes, here as with read(2).
 */
static void check_block(struct stress *s, int self, const unsigned char *d, uint64_t b,
			uint64_t seq, const char *how)
{
	uint64_t v = 0;
	bool ok = block_valid(s, d, b, &v);
	if ((int)(b % NWRITERS) == self) {
		if (!(ok && v == s->last[b]))
			own_block_wrong(s, self, b, v, ok, how);
	} else if (!ok && seq % 2 == 0 && atomic_load(&s->wseq[b]) == seq) {
		TCHECK(&s->fail, false, "%s by thread %d: block %" PRIu64 " is torn or corrupt", how,
		       self, b);
	}
	atomic_fetch_add_explicit(&s->checked, 1, memory_order_relaxed);
}

struct worker {
	struct stress *s;
	int id;
	pgc_aio *aio; /* NULL: the synchronous calls */
	unsigned char *buf; /* aligned for direct I/O */
	size_t buf_len;
};

/*
 * Whether to try a call again: -ENOMEM (or a read cut short by it) means
 * that every frame was in other threads' hands. The library may say so
 * under this much churn in a 48-page cache; the test counts those and tries
 * again, up to MAX_RETRIES times (a persistent failure still fails the
 * test).
 */
#define MAX_RETRIES 200

static bool retry(struct stress *s, ssize_t got, size_t want, unsigned *tries)
{
	if (got != -ENOMEM && (got < 0 || (size_t)got == want))
		return false;
	if (++*tries > MAX_RETRIES)
		return false;
	atomic_fetch_add_explicit(&s->retries, 1, memory_order_relaxed);
	pgc_test_sleep_ms(1);
	return true;
}

/* On an allocation failure: what the cache looked like. */
static void report_enomem(struct stress *s, ssize_t got)
{
	if (got != -ENOMEM)
		return;
	struct pgc_stats st = {.size = sizeof(st)};
	pgc_cache_stats(s->cache, &st);
	fprintf(stderr,
		"stress: -ENOMEM with %" PRIu64 " resident of %" PRIu64 " (%" PRIu64 " active, %" PRIu64
		" inactive, %" PRIu64 " dirty, %" PRIu64 " writeback), %" PRIu64 " allocation failures\n",
		st.resident, st.capacity, st.active, st.inactive, st.dirty, st.writeback,
		st.alloc_failures);
}

struct aio_res {
	bool done;
	ssize_t result;
};

static void aio_done(void *arg, ssize_t result)
{
	struct aio_res *r = arg;
	r->result = result;
	r->done = true;
}

/* Waits for the request just submitted on w's context. */
static ssize_t aio_wait(struct worker *w, int submitted, struct aio_res *res)
{
	if (submitted)
		return submitted;
	while (!res->done) {
		int n = pgc_aio_reap(w->aio, 1, 0);
		if (n < 0)
			return n;
	}
	return res->result;
}

static ssize_t xfer_direct(struct worker *w, int rw, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	atomic_fetch_add_explicit(&w->s->dio, 1, memory_order_relaxed);
	if (!w->aio)
		return pgc_direct_io(w->s->m, rw, &iov, 1, off);
	struct aio_res res = {0};
	return aio_wait(w, pgc_aio_direct(w->aio, w->s->m, rw, &iov, 1, off, aio_done, &res), &res);
}

static ssize_t xfer_read(struct worker *w, void *buf, size_t len, uint64_t off)
{
	if (!w->aio)
		return pgc_read(w->s->m, buf, len, off);
	struct aio_res res = {0};
	return aio_wait(w, pgc_aio_read(w->aio, w->s->m, buf, len, off, aio_done, &res), &res);
}

static ssize_t xfer_write(struct worker *w, const void *buf, size_t len, uint64_t off)
{
	if (!w->aio)
		return pgc_write(w->s->m, buf, len, off, 0);
	struct aio_res res = {0};
	return aio_wait(w, pgc_aio_write(w->aio, w->s->m, buf, len, off, 0, aio_done, &res), &res);
}

static void do_write(struct worker *w, struct pgc_rng *r)
{
	struct stress *s = w->s;
	/* One of its own blocks, or a run of them written one by one. */
	uint64_t b = pgc_rng_below(r, s->nblocks / NWRITERS) * NWRITERS + (uint64_t)w->id;
	uint64_t v = s->last[b] + 1;
	bool direct = pgc_rng_below(r, 3) == 0;
	atomic_fetch_add(&s->wseq[b], 1);
	fill_block(s, w->buf, b, (uint64_t)w->id, v);
	ssize_t got;
	unsigned tries = 0;
	do {
		got = direct ? xfer_direct(w, PGC_WRITE, w->buf, s->bs, b * s->bs)
			     : xfer_write(w, w->buf, s->bs, b * s->bs);
	} while (retry(s, got, s->bs, &tries));
	report_enomem(s, got);
	if (TCHECK(&s->fail, got == (ssize_t)s->bs, "%s write of block %" PRIu64 ": %zd",
		   direct ? "direct" : "buffered", b, got)) {
		s->last[b] = v;
		s->last_direct[b] = direct;
	}
	atomic_fetch_add(&s->wseq[b], 1);
	atomic_fetch_add_explicit(&s->writes, 1, memory_order_relaxed);
}

static void do_read(struct worker *w, struct pgc_rng *r)
{
	struct stress *s = w->s;
	uint64_t max = w->buf_len / s->bs;
	uint64_t n = pgc_rng_below(r, max) + 1;
	uint64_t first = pgc_rng_below(r, s->nblocks - n + 1);
	bool direct = pgc_rng_below(r, 3) == 0;
	uint64_t seq[MAX_READ_BLOCKS];
	ssize_t got;
	unsigned tries = 0;
	do {
		for (uint64_t i = 0; i < n; i++)
			seq[i] = atomic_load(&s->wseq[first + i]);
		got = direct ? xfer_direct(w, PGC_READ, w->buf, n * s->bs, first * s->bs)
			     : xfer_read(w, w->buf, n * s->bs, first * s->bs);
	} while (retry(s, got, n * s->bs, &tries));
	report_enomem(s, got);
	if (!TCHECK(&s->fail, got == (ssize_t)(n * s->bs), "%s read of %" PRIu64 " blocks at %" PRIu64 ": %zd",
		    direct ? "direct" : "buffered", n, first, got))
		return;
	for (uint64_t i = 0; i < n; i++)
		check_block(s, w->id, w->buf + i * s->bs, first + i, seq[i],
			    direct ? "a direct read" : "a buffered read");
	atomic_fetch_add_explicit(&s->reads, 1, memory_order_relaxed);
}

static void *writer_main(void *arg)
{
	struct worker *w = arg;
	struct pgc_rng r = {w->s->seed ^ (0x1234567ull * (uint64_t)(w->id + 1))};
	for (unsigned long i = 0; i < w->s->ops && !atomic_load(&w->s->fail.failed); i++) {
		if (pgc_rng_below(&r, 2))
			do_write(w, &r);
		else
			do_read(w, &r);
	}
	return NULL;
}

static pgc_page *new_page_any(pgc_page *old, void *arg)
{
	pgc_cache *c = arg;
	pgc_page *p;
	return pgc_page_alloc(c, pgc_page_node(old), 0, &p) ? NULL : p;
}

/* Copies random cached pages to new frames, and moves them between nodes. */
static void *migrator_main(void *arg)
{
	struct stress *s = arg;
	struct pgc_rng r = {s->seed ^ 0xabcdefull};
	int nodes[64];
	int nr_nodes = pgc_cache_nodes(s->cache, nodes, 64);
	uint64_t npages = s->nblocks * s->bs / s->ps;
	while (!atomic_load(&s->stop) && !atomic_load(&s->fail.failed)) {
		pgc_page *pages[MIGRATE_BATCH];
		int status[MIGRATE_BATCH], to[MIGRATE_BATCH];
		unsigned n = 0;
		uint64_t first = pgc_rng_below(&r, npages);
		for (uint64_t i = first; i < npages && n < MIGRATE_BATCH; i++)
			if (pgc_mapping_find(s->m, i, &pages[n]) == 0)
				n++;
		if (n == 0) {
			pgc_test_sleep_ms(1);
			continue;
		}
		if (nr_nodes > 1 && pgc_rng_below(&r, 2)) {
			int node = nodes[pgc_rng_below(&r, (uint64_t)nr_nodes)];
			for (unsigned i = 0; i < n; i++)
				to[i] = node;
			unsigned flags = pgc_rng_below(&r, 2) ? PGC_MOVE_INPLACE : 0;
			long left = pgc_move_pages(s->cache, n, pages, to, status, flags);
			TCHECK(&s->fail, left >= 0, "pgc_move_pages: %ld", left);
			for (unsigned i = 0; i < n; i++)
				if (status[i] == node)
					atomic_fetch_add_explicit(&s->moved, 1, memory_order_relaxed);
		} else {
			int mode = (int)pgc_rng_below(&r, 3);
			long left = pgc_migrate_pages(pages, n, new_page_any, s->cache, mode,
						      PGC_MR_MEMPOLICY, status, NULL);
			TCHECK(&s->fail, left >= 0 || left == -ENOMEM, "pgc_migrate_pages: %ld", left);
			for (unsigned i = 0; i < n; i++) {
				TCHECK(&s->fail,
				       status[i] == 0 || status[i] == -EBUSY || status[i] == -ENOENT ||
					       status[i] == -ENOMEM,
				       "pgc_migrate_pages: status %d", status[i]);
				if (status[i] == 0)
					atomic_fetch_add_explicit(&s->migrated, 1,
								  memory_order_relaxed);
			}
		}
		for (unsigned i = 0; i < n; i++)
			pgc_page_put(pages[i]);
	}
	return NULL;
}

static void *reclaimer_main(void *arg)
{
	struct stress *s = arg;
	while (!atomic_load(&s->stop) && !atomic_load(&s->fail.failed)) {
		long got = pgc_cache_reclaim(s->cache, CACHE_PAGES / 3);
		TCHECK(&s->fail, got >= 0, "pgc_cache_reclaim: %ld", got);
		if (got > 0)
			atomic_fetch_add_explicit(&s->reclaimed, (uint64_t)got, memory_order_relaxed);
		pgc_test_sleep_ms(2);
	}
	return NULL;
}

/* Everything the writers wrote, as one buffer. */
static unsigned char *expected_file(struct stress *s)
{
	unsigned char *e = calloc(s->nblocks, s->bs);
	ck_assert_ptr_nonnull(e);
	for (uint64_t b = 0; b < s->nblocks; b++)
		if (s->last[b])
			fill_block(s, e + b * s->bs, b, b % NWRITERS, s->last[b]);
	return e;
}

static void run_stress(const char *name, bool use_aio)
{
	struct stress s;
	memset(&s, 0, sizeof(s));
	s.seed = pgc_test_seed_for(name);
	s.ops = pgc_test_scaled(6000, 300);
	s.cache = pgc_test_cache(CACHE_PAGES, 0);
	s.ps = pgc_cache_page_size(s.cache);
	snprintf(s.path, sizeof(s.path), "pgc-stress.XXXXXX");
	int fd = mkstemp(s.path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pgc_store_open(s.path, O_RDWR, 0600, &s.store), 0);
	ck_assert_int_eq(pgc_store_mapping_create(s.cache, s.store, &s.m), 0);
	s.bs = pgc_store_block_size(s.store);
	s.nblocks = FILE_BLOCKS_MIN;
	if (s.nblocks * s.bs < 64 * s.ps)
		s.nblocks = 64 * s.ps / s.bs;
	s.nblocks -= s.nblocks % NWRITERS;
	/* The file starts at its full size, as zeros. */
	ck_assert_int_eq(pgc_mapping_truncate(s.m, s.nblocks * s.bs), 0);
	ck_assert_int_eq(pgc_store_truncate(s.store, s.nblocks * s.bs), 0);
	s.last = calloc(s.nblocks, sizeof(*s.last));
	s.wseq = calloc(s.nblocks, sizeof(*s.wseq));
	s.last_direct = calloc(s.nblocks, sizeof(*s.last_direct));
	ck_assert(s.last && s.wseq && s.last_direct);

	struct worker w[NWRITERS];
	pthread_t tw[NWRITERS], tm, tr;
	for (int i = 0; i < NWRITERS; i++) {
		w[i] = (struct worker){.s = &s, .id = i, .buf_len = MAX_READ_BLOCKS * s.bs};
		if (use_aio)
			ck_assert_int_eq(pgc_aio_create(NULL, &w[i].aio), 0);
		ck_assert_int_eq(posix_memalign((void **)&w[i].buf, 4096, w[i].buf_len), 0);
		ck_assert_int_eq(pthread_create(&tw[i], NULL, writer_main, &w[i]), 0);
	}
	ck_assert_int_eq(pthread_create(&tm, NULL, migrator_main, &s), 0);
	ck_assert_int_eq(pthread_create(&tr, NULL, reclaimer_main, &s), 0);
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(tw[i], NULL);
	atomic_store(&s.stop, true);
	pthread_join(tm, NULL);
	pthread_join(tr, NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&s.fail);

	/* The cache, then the file after a full writeback, hold every last write. */
	char why[256];
	ck_assert_msg(pgc_cache_check(s.cache, why, sizeof(why)) == 0, "%s", why);
	unsigned char *want = expected_file(&s);
	size_t len = s.nblocks * s.bs;
	unsigned char *got = malloc(len);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(pgc_read(s.m, got, len, 0), (ssize_t)len);
	for (uint64_t b = 0; b < s.nblocks; b++)
		ck_assert_msg(memcmp(got + b * s.bs, want + b * s.bs, s.bs) == 0,
			      "the cache's block %" PRIu64 " differs from its last write (version %" PRIu64 ")",
			      b, s.last[b]);
	ck_assert_int_eq(pgc_mapping_writeback(s.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	fd = open(s.path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, got, len, 0), (ssize_t)len);
	close(fd);
	for (uint64_t b = 0; b < s.nblocks; b++)
		ck_assert_msg(memcmp(got + b * s.bs, want + b * s.bs, s.bs) == 0,
			      "the file's block %" PRIu64 " differs from its last write (version %" PRIu64 ")",
			      b, s.last[b]);
	printf("%s: seed %" PRIu64 ": %" PRIu64 " reads, %" PRIu64 " writes (%" PRIu64
	       " direct I/Os), %" PRIu64 " blocks checked; %" PRIu64 " pages copied by migration, %" PRIu64
	       " moved between nodes, %" PRIu64 " reclaimed, %" PRIu64
	       " calls tried again after -ENOMEM, %" PRIu64
	       " stale reads of a writer's own block; file and cache agree on %" PRIu64 " blocks\n",
	       name, s.seed, atomic_load(&s.reads), atomic_load(&s.writes), atomic_load(&s.dio),
	       atomic_load(&s.checked), atomic_load(&s.migrated), atomic_load(&s.moved),
	       atomic_load(&s.reclaimed), atomic_load(&s.retries), atomic_load(&s.stale_reads),
	       s.nblocks);
	fflush(stdout);

	free(got);
	free(want);
	for (int i = 0; i < NWRITERS; i++) {
		if (w[i].aio) {
			struct pgc_aio_stats as = {.size = sizeof(as)};
			ck_assert_int_eq(pgc_aio_stats(w[i].aio, &as), 0);
			printf("%s: writer %d's context: %" PRIu64 " inline, %" PRIu64
			       " on the ring, %" PRIu64 " on workers\n",
			       name, i, as.inline_done, as.ring, as.worker);
			ck_assert_int_eq(pgc_aio_destroy(w[i].aio), 0);
		}
		free(w[i].buf);
	}
	ck_assert_int_eq(pgc_mapping_destroy(s.m), 0);
	ck_assert_int_eq(pgc_store_close(s.store), 0);
	ck_assert_msg(pgc_cache_check(s.cache, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(pgc_cache_destroy(s.cache), 0);
	unlink(s.path);
	free(s.last);
	free(s.wseq);
	free(s.last_direct);
}

START_TEST(io_migrate_reclaim_stress)
{
	run_stress("io_migrate_reclaim_stress", false);
}
END_TEST

START_TEST(aio_migrate_reclaim_stress)
{
	run_stress("aio_migrate_reclaim_stress", true);
}
END_TEST

static Suite *stress_suite(void)
{
	Suite *s = suite_create("stress");
	PGC_ADD(s, io_migrate_reclaim_stress, 300);
	PGC_ADD(s, aio_migrate_reclaim_stress, 300);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, stress_suite());
}
