/*
 * bench_buffered: random 4 KiB buffered reads (all cached) and writes
 * through libpgcache, against the same operations on the kernel's page
 * cache and against the physical floor of a read, in the same run.
 *
 * Two parts, each with a cache as large as its file over the built-in
 * O_DIRECT store:
 *
 * 1. The -n cases (randread_4k_cached, randwrite_4k): pgc_read / pgc_write
 *    of 4 KiB at a random page-aligned offset of a file of -n pages,
 *    against pread / pwrite of a second file of the same size opened
 *    without O_DIRECT, both warmed by reading them once; -o operations per
 *    round, one thread. -n 0 leaves them out.
 *
 * 2. The sized cases, one per entry of --sizes (pages; default 1Ki, 64Ki,
 *    1Mi) and of --threads (default 1, 2), reads only:
 *    randread_4k_<T>t_<size>: pgc_read of 4 KiB at a random page of a
 *      fully cached file, against pread of the same page of the same file
 *      through a second descriptor without O_DIRECT (the kernel's page
 *      cache, warm; the library's descriptor reads past it);
 *    randread_floor_<T>t_<size>: the same library measurement against a
 *      memcpy of 4 KiB from a random page of plain memory of the same size
 *      (pre-faulted, without huge pages, as the cache's frames): the least
 *      a cached read can cost.
 *    Each page starts with its index; every loop checks the 8 bytes it
 *    copied first and makes its next index depend on them, so that each is
 *    a chain of reads one after the other. The loops draw from the same
 *    generator with the same seeds. Rounds of a fixed time (--round-ms)
 *    interleave the three kinds in a rotating order (lib pread memcpy,
 *    pread memcpy lib, memcpy lib pread, ...), after one unmeasured round
 *    of each; the median of the rounds is reported.
 *    Threads: with 2 threads, each thread follows its own chain over the
 *    same mapping, file or memory, and the cost per operation is the wall
 *    time of the round (first start to last end) divided by the operations
 *    of both threads; the cost with 1 thread over the cost with 2 is then
 *    the throughput of 2 threads over that of 1 (bench_pool.h). That
 *    speedup is printed per size as threads_<T>t_vs_1t_<size> (library
 *    against pread) and threads_floor_<T>t_vs_1t_<size> (library against
 *    memcpy).
 *
 * BENCH_PLACEMENT=1 in the environment turns placement on (placement.h,
 * locality and tiering with the defaults) for the sized cases' cache, so
 * that every hit notes its node: the cost of the notes. On one node no
 * page moves.
 *
 * Output: RESULT bench_buffered <case> lib=<ns/op> peer=<peer>:<ns/op>
 * ratio=peer/lib (> 1: the library is faster); for the thread lines
 * lib=<speedup>x peer=<peer>:<speedup>x ratio=lib/peer. Progress goes to
 * stderr. A failed or wrong read makes the run fail (exit status 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "bench_pool.h"
#include "bench_util.h"
#include "bench_workset.h"

#define PS 4096u
#define MAX_SIZES 16
#define MAX_THREAD_COUNTS 8
#define MAX_ROUNDS 99

/* ---- part 1: the -n cases ------------------------------------------------ */

enum kind { LIB_READ, PEER_READ, LIB_WRITE, PEER_WRITE };

struct ctx {
	pgc_mapping *m;
	int peer_fd;
	uint64_t npages, ops;
	char *buf;
};

/* One round: ops operations of a kind; returns ns per operation, or < 0. */
static double round_run(struct ctx *c, enum kind k, uint64_t seed)
{
	uint64_t s = seed | 1, t0 = now_ns();
	for (uint64_t i = 0; i < c->ops; i++) {
		uint64_t off = (xorshift64(&s) % c->npages) * PS;
		ssize_t r;
		switch (k) {
		case LIB_READ:
			r = pgc_read(c->m, c->buf, PS, off);
			break;
		case PEER_READ:
			r = pread(c->peer_fd, c->buf, PS, (off_t)off);
			break;
		case LIB_WRITE:
			c->buf[0] = (char)i;
			r = pgc_write(c->m, c->buf, PS, off, 0);
			break;
		default:
			c->buf[0] = (char)i;
			r = pwrite(c->peer_fd, c->buf, PS, (off_t)off);
			break;
		}
		if (r != (ssize_t)PS) {
			fprintf(stderr, "bench_buffered: op %d at %" PRIu64 " returned %zd\n", (int)k,
				off, r);
			return -1;
		}
	}
	return (double)(now_ns() - t0) / (double)c->ops;
}

static int make_file(const char *path, uint64_t npages)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	char *b = calloc(1, 1 << 20);
	for (uint64_t off = 0; off < npages * PS; off += 1 << 20)
		if (!b || pwrite(fd, b, 1 << 20, (off_t)off) != 1 << 20) {
			close(fd);
			free(b);
			return -1;
		}
	free(b);
	fdatasync(fd);
	return fd;
}

/* randread_4k_cached and randwrite_4k on files of npages pages. Returns 0 or 1. */
static int bench_fixed(uint64_t npages, uint64_t ops, unsigned rounds, const char *dir)
{
	char lpath[4096], ppath[4096];
	snprintf(lpath, sizeof(lpath), "%s/bench_buffered.lib.%d", dir, (int)getpid());
	snprintf(ppath, sizeof(ppath), "%s/bench_buffered.peer.%d", dir, (int)getpid());
	int lfd = make_file(lpath, npages), pfd = make_file(ppath, npages);
	unlink(ppath);
	if (lfd < 0 || pfd < 0) {
		perror("bench_buffered: test files");
		unlink(lpath);
		return 1;
	}
	close(lfd);
	/* The library's file again, through the store (O_DIRECT). */
	pgc_store *st = NULL;
	int err = pgc_store_open(lpath, O_RDWR, 0, &st);
	unlink(lpath);
	if (err) {
		fprintf(stderr, "bench_buffered: pgc_store_open: %s\n", pgc_strerror(err));
		return 1;
	}
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.page_size = PS;
	cfg.capacity_pages = npages + 64;
	/* The kernel's dirty limit (a fifth of RAM) is far above this file, so
	 * its pwrite is never throttled here; with its default limit (half the
	 * cache) the library's would be, and randwrite_4k would measure the
	 * disk (9-10 us/op on this VM). Both unthrottled, the case measures the
	 * write path; bench_writeback's dirty10 cases measure writing at a
	 * limit against the kernel with the same dirty budget. */
	cfg.dirty_ratio = 100;
	pgc_cache *cache;
	pgc_mapping *m;
	if ((err = pgc_cache_create(&cfg, &cache)) || (err = pgc_store_mapping_create(cache, st, &m))) {
		fprintf(stderr, "bench_buffered: setup: %s\n", pgc_strerror(err));
		return 1;
	}
	struct ctx c = {.m = m, .peer_fd = pfd, .npages = npages, .ops = ops};
	if (posix_memalign((void **)&c.buf, PS, PS))
		return 1;
	memset(c.buf, 'x', PS);
	/* Warm both caches: every page read once. */
	for (uint64_t i = 0; i < npages; i++)
		if (pgc_read(m, c.buf, PS, i * PS) != PS || pread(pfd, c.buf, PS, (off_t)(i * PS)) != PS) {
			fprintf(stderr, "bench_buffered: warm-up failed at page %" PRIu64 "\n", i);
			return 1;
		}
	fprintf(stderr, "bench_buffered: %" PRIu64 " pages of 4 KiB, %" PRIu64
			" ops per round, %u rounds, files in %s\n", npages, ops, rounds, dir);

	static const char *names[] = {"randread_4k_cached", "randwrite_4k"};
	static const char *peers[] = {"pread", "pwrite"};
	for (int cse = 0; cse < 2; cse++) {
		double lib[MAX_ROUNDS], peer[MAX_ROUNDS];
		enum kind lk = cse ? LIB_WRITE : LIB_READ, pk = cse ? PEER_WRITE : PEER_READ;
		round_run(&c, lk, 99); /* unmeasured warm-up of each */
		round_run(&c, pk, 99);
		for (unsigned r = 0; r < rounds; r++) {
			uint64_t seed = 1000 + r;
			if (r % 2 == 0) {
				lib[r] = round_run(&c, lk, seed);
				peer[r] = round_run(&c, pk, seed);
			} else {
				peer[r] = round_run(&c, pk, seed);
				lib[r] = round_run(&c, lk, seed);
			}
			if (lib[r] < 0 || peer[r] < 0)
				return 1;
			fprintf(stderr, "   %s round %u: lib %.1f ns/op, %s %.1f ns/op\n", names[cse],
				r + 1, lib[r], peers[cse], peer[r]);
		}
		double l = median(lib, rounds), p = median(peer, rounds);
		printf("RESULT bench_buffered %s lib=%.1fns/op peer=%s:%.1fns/op ratio=%.2f\n",
		       names[cse], l, peers[cse], p, p / l);
		fflush(stdout);
	}
	/* Leave nothing dirty behind: flush, then tear down. */
	pgc_errseq_t since = pgc_mapping_sample_error(m);
	err = pgc_sync_range(m, 0, UINT64_MAX, &since);
	if (err)
		fprintf(stderr, "bench_buffered: final flush: %s\n", pgc_strerror(err));
	pgc_mapping_destroy(m);
	pgc_cache_destroy(cache);
	pgc_store_close(st);
	close(pfd);
	free(c.buf);
	return err ? 1 : 0;
}

/* ---- part 2: the sized cases, with threads and the floor ------------------ */

enum rkind { R_LIB = 0, R_PREAD = 1, R_MEMCPY = 2, NR_RKINDS = 3 };
static const char *const rkind_name[NR_RKINDS] = { "lib", "pread", "memcpy" };

/* What the workers run in a round; the main thread's, read-only during the round. */
struct rjob {
	uint64_t duration_ns;
	uint64_t seed;
	pgc_mapping *m;
	int fd;				/* the same file without O_DIRECT */
	const unsigned char *mem;	/* the floor: npages pages of plain memory */
	uint64_t npages;
};

static struct bench_pool pool;

/*
 * The three loops differ only in the call that copies the page into the
 * worker's buffer. The next index depends on the bytes copied: s ^= v ^ idx
 * leaves the generator's sequence unchanged when v is right, but the CPU
 * cannot compute it before the copy has them.
 */
static void run_lib(struct bench_worker *w, const void *arg)
{
	const struct rjob j = *(const struct rjob *)arg;
	unsigned char *buf = w->buf;
#define LIB_READ(idx, v)                                                                   \
	(pgc_read(j.m, buf, PS, (idx) * PS) == (ssize_t)PS && (memcpy(&(v), buf, sizeof(v)), 1))
	BENCH_CHAIN(w, j.seed, j.npages, j.duration_ns, LIB_READ);
#undef LIB_READ
}

static void run_pread(struct bench_worker *w, const void *arg)
{
	const struct rjob j = *(const struct rjob *)arg;
	unsigned char *buf = w->buf;
#define PREAD_READ(idx, v)                                                                 \
	(pread(j.fd, buf, PS, (off_t)((idx) * PS)) == (ssize_t)PS &&                       \
	 (memcpy(&(v), buf, sizeof(v)), 1))
	BENCH_CHAIN(w, j.seed, j.npages, j.duration_ns, PREAD_READ);
#undef PREAD_READ
}

/* A 4 KiB copy the compiler may not drop (the asm says buf is used). */
static inline void copy_kept(unsigned char *buf, const unsigned char *src)
{
	memcpy(buf, src, PS);
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static void run_memcpy(struct bench_worker *w, const void *arg)
{
	const struct rjob j = *(const struct rjob *)arg;
	unsigned char *buf = w->buf;
#define MEMCPY_READ(idx, v)                                                                \
	(copy_kept(buf, j.mem + (idx) * PS), memcpy(&(v), buf, sizeof(v)), 1)
	BENCH_CHAIN(w, j.seed, j.npages, j.duration_ns, MEMCPY_READ);
#undef MEMCPY_READ
}

static const bench_work_fn rkind_fn[NR_RKINDS] = { run_lib, run_pread, run_memcpy };

struct options {
	uint64_t sizes[MAX_SIZES];
	unsigned nr_sizes;
	unsigned threads[MAX_THREAD_COUNTS];
	unsigned nr_threads;
	unsigned rounds;
	unsigned round_ms;
	const char *dir;
	uint64_t seed;
};

static void log_to_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "bench_buffered: libpgcache[%d]: %s\n", level, msg);
}

static void cache_stats(pgc_cache *cache, struct pgc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	pgc_cache_stats(cache, st);
}

/*
 * Reads the whole file through the cache in 1 MiB calls (sequential, so
 * readahead fills it in large store reads) and checks that each page holds
 * its index. Returns 0 or -1.
 */
static int warm_lib(pgc_mapping *m, uint64_t npages)
{
	unsigned char *chunk;
	int ret = 0;

	if (posix_memalign((void **)&chunk, PS, BENCH_IO_CHUNK))
		return -1;
	for (uint64_t off = 0; off < npages * PS && !ret; off += BENCH_IO_CHUNK) {
		size_t len = npages * PS - off < BENCH_IO_CHUNK ? (size_t)(npages * PS - off)
								 : BENCH_IO_CHUNK;
		ssize_t r = pgc_read(m, chunk, len, off);

		if (r != (ssize_t)len) {
			fprintf(stderr, "bench_buffered: warming pgc_read at %" PRIu64 ": %s\n", off,
				r < 0 ? pgc_strerror((int)r) : "short read");
			ret = -1;
			break;
		}
		for (size_t b = 0; b < len; b += PS) {
			uint64_t v, idx = (off + b) / PS;

			memcpy(&v, chunk + b, sizeof(v));
			if (v != idx) {
				fprintf(stderr, "bench_buffered: page %" PRIu64 " holds %" PRIu64 "\n",
					idx, v);
				ret = -1;
				break;
			}
		}
	}
	free(chunk);
	return ret;
}

/* Medians per thread count and kind, for the thread lines of one size. */
static double med[MAX_THREAD_COUNTS][NR_RKINDS];
static bool have[MAX_THREAD_COUNTS];

/* Runs the sized cases of one size; returns 0, or 1 if they could not run or reads failed. */
static int bench_sized(const struct options *o, unsigned si)
{
	uint64_t npages = o->sizes[si], bytes = npages * PS;
	struct pgc_cache_config cfg;
	pgc_cache *cache = NULL;
	pgc_store *store = NULL;
	pgc_mapping *m = NULL;
	unsigned char *mem = NULL;
	struct pgc_stats st0, st1;
	char label[32];
	uint64_t t0;
	int fd, dfd, err, ret = 0;

	memset(have, 0, sizeof(have));
	bench_size_label(npages, label, sizeof(label));
	fprintf(stderr, "== %s pages (%.1f MiB): preparing the file in %s\n", label,
		(double)bytes / (1 << 20), o->dir);
	t0 = now_ns();
	fd = bench_make_indexed_file("bench_buffered", o->dir, npages, PS, 1, &dfd);
	if (fd < 0)
		return 1;
	fprintf(stderr, "   file ready in %.1f s, %.1f%% resident in the kernel page cache\n",
		(double)(now_ns() - t0) / 1e9, bench_resident_pct(fd, bytes));
	err = pgc_store_from_fd(dfd, PGC_STORE_OWN_FD, &store);
	if (err) {
		fprintf(stderr, "bench_buffered: pgc_store_from_fd: %s\n", pgc_strerror(err));
		close(dfd);
		close(fd);
		return 1;
	}

	/*
	 * The floor's memory first, then the cache's. On the VM these numbers
	 * were taken on, at 1 Mi pages the library's hits cost 6-10 us when the
	 * floor's 4 GiB was faulted in after the cache (even in rounds that
	 * never touch the floor) and 0.7-1.1 us when before it, the floor's
	 * own loads the same either way: the order is the fair one.
	 */
	t0 = now_ns();
	mem = bench_map_indexed(npages, PS, 0);
	if (!mem) {
		fprintf(stderr, "bench_buffered: no memory for the floor's %" PRIu64 " pages\n",
			npages);
		ret = 1;
		goto out;
	}
	fprintf(stderr, "   memcpy floor's memory faulted in in %.1f s\n",
		(double)(now_ns() - t0) / 1e9);

	/* Capacity: the file's pages exactly, all of them cached, nothing evicted. */
	pgc_cache_config_init(&cfg);
	cfg.page_size = PS;
	cfg.capacity_pages = npages;
	cfg.log = log_to_stderr;
	cfg.log_level = PGC_LOG_WARN;
	err = pgc_cache_create(&cfg, &cache);
	if (err) {
		fprintf(stderr, "bench_buffered: pgc_cache_create: %s\n", pgc_strerror(err));
		ret = 1;
		goto out;
	}
	const char *pe = getenv("BENCH_PLACEMENT");
	if (pe && *pe == '1') {
		struct pgc_placement_config pc;
		pgc_placement_config_init(&pc);
		if ((err = pgc_placement_set(cache, &pc)) != 0) {
			fprintf(stderr, "bench_buffered: pgc_placement_set: %s\n", pgc_strerror(err));
			ret = 1;
			goto out;
		}
		fprintf(stderr, "   placement on: hits note their node\n");
	}
	err = pgc_store_mapping_create(cache, store, &m);
	if (err) {
		fprintf(stderr, "bench_buffered: pgc_store_mapping_create: %s\n", pgc_strerror(err));
		ret = 1;
		goto out;
	}
	t0 = now_ns();
	if (warm_lib(m, npages)) {
		ret = 1;
		goto out;
	}
	cache_stats(cache, &st0);
	fprintf(stderr,
		"   library cache warmed in %.1f s: %" PRIu64 " pages in the mapping, resident %"
		PRIu64 ", evictions %" PRIu64 "\n",
		(double)(now_ns() - t0) / 1e9, pgc_mapping_nr_pages(m), st0.resident,
		st0.evictions);
	if (pgc_mapping_nr_pages(m) != npages || st0.evictions != 0) {
		fprintf(stderr, "   ERROR: the cache does not hold every page\n");
		ret = 1;
		goto out;
	}

	for (unsigned ti = 0; ti < o->nr_threads; ti++) {
		unsigned nthreads = o->threads[ti];
		double v[NR_RKINDS][MAX_ROUNDS];
		uint64_t misses = 0, bad = 0;
		char cname[64];
		struct rjob j = { .m = m, .fd = fd, .mem = mem, .npages = npages };

		snprintf(cname, sizeof(cname), "randread_4k_%ut_%s", nthreads, label);
		/* One unmeasured round of each kind: page tables, TLB, branch predictors. */
		j.duration_ns = (uint64_t)o->round_ms * 1000000u / 2;
		j.seed = o->seed ^ 0xdeadbeefull;
		for (int k = 0; k < NR_RKINDS; k++) {
			struct bench_round rr = bench_pool_run(&pool, rkind_fn[k], &j, nthreads);

			misses += rr.misses;
			bad += rr.bad;
		}
		j.duration_ns = (uint64_t)o->round_ms * 1000000u;
		for (unsigned r = 0; r < o->rounds; r++) {
			/* Every kind in every round, the order rotating so drift hits all. */
			j.seed = o->seed + r * 7919u + si * 104729u + ti;
			for (int step = 0; step < NR_RKINDS; step++) {
				int k = (int)((r + (unsigned)step) % NR_RKINDS);
				struct bench_round rr = bench_pool_run(&pool, rkind_fn[k], &j, nthreads);

				v[k][r] = rr.ns_per_op;
				misses += rr.misses;
				bad += rr.bad;
				if (rr.misses || rr.bad)
					fprintf(stderr,
						"   ERROR: %s %s round %u: %" PRIu64
						" failed reads, %" PRIu64 " wrong data\n",
						cname, rkind_name[k], r + 1, rr.misses, rr.bad);
			}
			fprintf(stderr,
				"   %s round %u/%u: lib %.1f ns/op, pread %.1f ns/op, memcpy %.1f ns/op\n",
				cname, r + 1, o->rounds, v[R_LIB][r], v[R_PREAD][r], v[R_MEMCPY][r]);
		}
		if (misses || bad) {
			fprintf(stderr, "   %s: not reported, reads failed\n", cname);
			ret = 1;
			continue;
		}
		for (int k = 0; k < NR_RKINDS; k++)
			med[ti][k] = median(v[k], o->rounds);
		have[ti] = true;
		printf("RESULT bench_buffered %s lib=%.1fns/op peer=pread:%.1fns/op ratio=%.2f\n",
		       cname, med[ti][R_LIB], med[ti][R_PREAD], med[ti][R_PREAD] / med[ti][R_LIB]);
		/* The same library medians against the floor: ratio = memcpy / lib. */
		printf("RESULT bench_buffered randread_floor_%ut_%s lib=%.1fns/op peer=memcpy:%.1fns/op"
		       " ratio=%.2f\n",
		       nthreads, label, med[ti][R_LIB], med[ti][R_MEMCPY],
		       med[ti][R_MEMCPY] / med[ti][R_LIB]);
		fflush(stdout);
	}

	/* Every read was a hit: nothing was read into the cache nor evicted during the rounds. */
	cache_stats(cache, &st1);
	fprintf(stderr, "   library stats during the rounds: inserts %" PRIu64 ", evictions %" PRIu64
		"\n", st1.inserts - st0.inserts, st1.evictions - st0.evictions);
	if (st1.inserts != st0.inserts || st1.evictions != st0.evictions) {
		fprintf(stderr, "   ERROR: pages were read or evicted during the rounds: not all hits\n");
		ret = 1;
	}

	/*
	 * Throughput of N threads over 1 (cost1t / costNt; higher is better,
	 * so ratio = library / peer), against both peers.
	 */
	for (unsigned t1 = 0; t1 < o->nr_threads && !ret; t1++) {
		if (o->threads[t1] != 1 || !have[t1])
			continue;
		for (unsigned ti = 0; ti < o->nr_threads; ti++) {
			if (o->threads[ti] == 1 || !have[ti])
				continue;
			double lib = med[t1][R_LIB] / med[ti][R_LIB];
			double pr = med[t1][R_PREAD] / med[ti][R_PREAD];
			double mc = med[t1][R_MEMCPY] / med[ti][R_MEMCPY];

			printf("RESULT bench_buffered threads_%ut_vs_1t_%s lib=%.2fx peer=pread:%.2fx"
			       " ratio=%.2f\n", o->threads[ti], label, lib, pr, lib / pr);
			printf("RESULT bench_buffered threads_floor_%ut_vs_1t_%s lib=%.2fx"
			       " peer=memcpy:%.2fx ratio=%.2f\n", o->threads[ti], label, lib, mc,
			       lib / mc);
		}
	}
	fflush(stdout);
out:
	if (mem)
		munmap(mem, (size_t)bytes);
	if (m && (err = pgc_mapping_destroy(m))) {
		fprintf(stderr, "bench_buffered: pgc_mapping_destroy: %s\n", pgc_strerror(err));
		ret = 1;
	} else if (cache && (err = pgc_cache_destroy(cache))) {
		fprintf(stderr, "bench_buffered: pgc_cache_destroy: %s\n", pgc_strerror(err));
		ret = 1;
	}
	pgc_store_close(store); /* closes dfd */
	/* The file was unlinked at creation: closing it frees its blocks and pages. */
	close(fd);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_buffered [options]\n"
		"\n"
		"Random 4 KiB buffered reads and writes through libpgcache against the\n"
		"kernel page cache (pread/pwrite) and, for reads, against memcpy from\n"
		"plain memory (the floor). RESULT lines go to stdout, progress to stderr.\n"
		"\n"
		"  -n PAGES         file size of randread_4k_cached and randwrite_4k\n"
		"                   (default 65536; 0 leaves them out)\n"
		"  -o OPS           operations per round of those two cases (default 200000)\n"
		"  -r, --rounds N   measured rounds of each kind per case (default 5)\n"
		"  -d, --dir PATH   directory of the files (default /var/tmp)\n"
		"  --sizes LIST     sizes of the randread_4k_<T>t_<size> and\n"
		"                   randread_floor_<T>t_<size> cases in pages, comma\n"
		"                   separated, K/Ki/M/Mi suffixes (default 1Ki,64Ki,1Mi;\n"
		"                   1Mi needs 4 GiB for the cache, 4 GiB of kernel page cache\n"
		"                   and 4 GiB of memory for the floor, and a 4 GiB file)\n"
		"  --threads LIST   thread counts of those cases (default 1,2; at most %d)\n"
		"  --round-ms MS    length of one of their rounds (default 200)\n"
		"  --seed N         seed of their index generator (default 1)\n"
		"  -h, --help       this text\n",
		BENCH_POOL_MAX);
}

int main(int argc, char **argv)
{
	enum { OPT_SIZES = 256, OPT_THREADS, OPT_ROUND_MS, OPT_SEED };
	static const struct option longopts[] = {
		{ "sizes", required_argument, NULL, OPT_SIZES },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "round-ms", required_argument, NULL, OPT_ROUND_MS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "rounds", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = {
		.sizes = { 1024, 65536, 1048576 }, .nr_sizes = 3,
		.threads = { 1, 2 }, .nr_threads = 2,
		.rounds = 5, .round_ms = 200, .dir = "/var/tmp", .seed = 1,
	};
	uint64_t npages = 65536, ops = 200000;
	unsigned nr_workers = 0;
	int c, ret = 0;
	char *end;

	while ((c = getopt_long(argc, argv, "n:o:r:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': npages = strtoull(optarg, NULL, 0); break;
		case 'o': ops = strtoull(optarg, NULL, 0); break;
		case 'r':
			o.rounds = (unsigned)strtoul(optarg, &end, 0);
			if (*end || o.rounds < 1 || o.rounds > MAX_ROUNDS) {
				fprintf(stderr, "bench_buffered: rounds must be 1..%d\n", MAX_ROUNDS);
				return 2;
			}
			break;
		case 'd': o.dir = optarg; break;
		case OPT_SIZES:
			if (bench_parse_sizes(optarg, o.sizes, MAX_SIZES, &o.nr_sizes)) {
				fprintf(stderr, "bench_buffered: bad --sizes '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_THREADS:
			if (bench_parse_list(optarg, 1, BENCH_POOL_MAX, o.threads, MAX_THREAD_COUNTS,
					     &o.nr_threads)) {
				fprintf(stderr, "bench_buffered: bad --threads '%s' (distinct counts 1..%d)\n",
					optarg, BENCH_POOL_MAX);
				return 2;
			}
			break;
		case OPT_ROUND_MS:
			o.round_ms = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.round_ms < 1 || o.round_ms > 60000) {
				fprintf(stderr, "bench_buffered: --round-ms must be 1..60000\n");
				return 2;
			}
			break;
		case OPT_SEED:
			o.seed = strtoull(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "bench_buffered: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || (npages && ops < 1)) {
		usage(stderr);
		return 2;
	}

	if (npages)
		ret |= bench_fixed(npages, ops, o.rounds, o.dir);

	for (unsigned ti = 0; ti < o.nr_threads; ti++)
		if (o.threads[ti] > nr_workers)
			nr_workers = o.threads[ti];
	if (bench_pool_start(&pool, nr_workers, PS)) {
		fprintf(stderr, "bench_buffered: cannot start %u threads\n", nr_workers);
		return 1;
	}
	fprintf(stderr,
		"bench_buffered: libpgcache %s, %u-byte pages, %ld CPUs online, sized cases: %u rounds"
		" of %u ms, file in %s\n",
		pgc_version_string(), PS, sysconf(_SC_NPROCESSORS_ONLN), o.rounds, o.round_ms,
		o.dir);
	for (unsigned i = 0; i < o.nr_sizes; i++)
		ret |= bench_sized(&o, i);
	bench_pool_stop(&pool);
	if (ret)
		fprintf(stderr, "bench_buffered: some cases failed (see above)\n");
	return ret;
}
