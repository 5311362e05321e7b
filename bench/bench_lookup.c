/*
 * bench_lookup: the cost of a page-cache hit in libpgcache, next to the same
 * hit in the kernel's page cache.
 *
 * One operation of the library is the hit path a storage server runs for
 * every cached read: pgc_mapping_find() at a random index, read 8 bytes of
 * pgc_page_data(), pgc_page_put(). Two peers, measured in the same process:
 *
 * - pread: the nearest thing the kernel offers, pread() of the same 4 KiB
 *   block of a warm file of the same size, then read 8 bytes of the buffer
 *   (cases hit_<T>t_<size>);
 * - load: the physical floor, one load of 8 bytes at the start of a random
 *   page of plain memory of the same number of pages of the same size, with
 *   the cache's huge page advice (cases floor_<T>t_<size>): what any hit
 *   must pay for the data's cache and TLB misses, with nothing to find.
 *
 * A fourth loop, read8, does the same hits through pgc_read() of 8 bytes,
 * the hit path that takes no reference and writes no shared line (the
 * optimistic read), against the same floor (cases read8_floor_<T>t_<size>).
 *
 * All four loops draw their indexes from the same xorshift generator with
 * the same seeds, check the 8 bytes they read (each page and each block
 * starts with its own index), and make the next index depend on them (the
 * state is xored with the bytes read xor the index expected, which is 0
 * when they are right): one operation cannot start before the previous one
 * has its data, so each loop measures a chain of dependent hits, not how
 * many the CPU can overlap.
 *
 * Rounds of the four kinds are interleaved and the order rotates every
 * round (lib pread load, pread load lib, load lib pread, ...), so a slow
 * drift of the machine (another tenant, frequency scaling) falls on all of
 * them; the median of the rounds is reported. With two threads, each
 * thread follows its own chain over the same pages, and the cost per
 * operation is the wall time of the round (first start to last end)
 * divided by the operations of both threads, so lower is better for one
 * thread and for two alike (bench_pool.h).
 *
 * Progress goes to stderr; stdout carries only the RESULT lines, one per
 * comparison, in the format bench/README.md documents. This is a benchmark,
 * not a test: it asserts nothing about time. It does fail (exit status 1) if
 * a lookup misses or returns the wrong data, since then the number it would
 * print would not measure the hit path.
 */
#define _GNU_SOURCE
#include <pgcache/pgcache.h>

#include "bench_pool.h"
#include "bench_util.h"
#include "bench_workset.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PAGE_SIZE 4096u
#define MAX_THREAD_COUNTS 8	/* entries of --threads */
#define MAX_THREADS BENCH_POOL_MAX
#define MAX_SIZES 16
#define MAX_ROUNDS 101

enum kind { KIND_LIB = 0, KIND_PREAD = 1, KIND_LOAD = 2, KIND_READ8 = 3, NR_KINDS = 4 };
static const char *const kind_name[NR_KINDS] = { "lib", "pread", "load", "read8" };

/* What the workers run in a round; the main thread's, read-only during the round. */
struct job {
	uint64_t duration_ns;
	uint64_t seed;
	pgc_mapping *mapping;
	int fd;
	const unsigned char *mem;	/* the floor: npages pages of plain memory */
	uint64_t npages;
};

static struct bench_pool pool;

/*
 * The next index depends on the bytes read: s ^= v ^ idx leaves the
 * sequence as the generator makes it when v is right, but the CPU cannot
 * compute it before v has arrived.
 */
static void run_lib(struct bench_worker *w, const void *arg)
{
	const struct job j = *(const struct job *)arg;
	pgc_page *p;
#define LIB_READ(idx, v)                                                                   \
	(pgc_mapping_find(j.mapping, (idx), &p) == 0 &&                                    \
	 (memcpy(&(v), pgc_page_data(p), sizeof(v)), pgc_page_put(p), 1))
	BENCH_CHAIN(w, j.seed, j.npages, j.duration_ns, LIB_READ);
#undef LIB_READ
}

static void run_pread(struct bench_worker *w, const void *arg)
{
	const struct job j = *(const struct job *)arg;
	unsigned char *buf = w->buf;
#define PREAD_READ(idx, v)                                                                 \
	(pread(j.fd, buf, BENCH_PAGE_SIZE, (off_t)((idx) * BENCH_PAGE_SIZE)) ==            \
		 (ssize_t)BENCH_PAGE_SIZE &&                                               \
	 (memcpy(&(v), buf, sizeof(v)), 1))
	BENCH_CHAIN(w, j.seed, j.npages, j.duration_ns, PREAD_READ);
#undef PREAD_READ
}

/* An 8-byte pgc_read of the same pages: the hit path without a reference. */
static void run_read8(struct bench_worker *w, const void *arg)
{
	const struct job j = *(const struct job *)arg;
#define READ8_READ(idx, v)                                                                 \
	(pgc_read(j.mapping, &(v), sizeof(v), (idx) * BENCH_PAGE_SIZE) == (ssize_t)sizeof(v))
	BENCH_CHAIN(w, j.seed, j.npages, j.duration_ns, READ8_READ);
#undef READ8_READ
}

/* The floor: the same chain of loads as run_lib(), without the cache. */
static void run_load(struct bench_worker *w, const void *arg)
{
	const struct job j = *(const struct job *)arg;
#define LOAD_READ(idx, v) (memcpy(&(v), j.mem + (idx) * BENCH_PAGE_SIZE, sizeof(v)), 1)
	BENCH_CHAIN(w, j.seed, j.npages, j.duration_ns, LOAD_READ);
#undef LOAD_READ
}

static const bench_work_fn kind_fn[NR_KINDS] = { run_lib, run_pread, run_load, run_read8 };

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"\n"
		"Measures the hit path of libpgcache (pgc_mapping_find + read 8 bytes +\n"
		"pgc_page_put on 4 KiB pages, random indexes, each depending on the bytes\n"
		"read before) against the kernel page cache (pread of 4 KiB from a warm\n"
		"file of the same size: cases hit_*) and against the floor (one load from\n"
		"a random page of plain memory of the same size: cases floor_*), with 1\n"
		"and 2 threads (or --threads).\n"
		"RESULT lines go to stdout, progress to stderr.\n"
		"\n"
		"  --sizes LIST    cache sizes in pages, comma separated, K/Ki/M/Mi suffixes\n"
		"                  (default 1Ki,64Ki,1Mi; 1Mi needs 4 GiB for the cache,\n"
		"                  4 GiB of kernel page cache for the file and 4 GiB for\n"
		"                  the floor's memory)\n"
		"  --rounds N      measured rounds of each kind per case (default 5)\n"
		"  --round-ms MS   length of one round in milliseconds (default 300)\n"
		"  --threads LIST  thread counts, comma separated (default 1,2; at most %d);\n"
		"                  one case per size and thread count\n"
		"  --dir PATH      directory of the peer's temporary file (default /var/tmp);\n"
		"                  the file is unlinked as soon as it is open\n"
		"  --seed N        seed of the index generator (default 1)\n"
		"  --quick         smoke run: sizes 1Ki,4Ki, 3 rounds of 50 ms\n"
		"                  (explicit --sizes/--rounds/--round-ms still win)\n"
		"  --huge-pages    cache frames (and the floor's memory) in transparent\n"
		"                  huge pages\n"
		"  --help          this text\n",
		prog, MAX_THREADS);
}

/* Fills a cache of exactly npages pages with pages 0..npages-1 of one mapping. */
static int populate(pgc_mapping *m, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		pgc_page *p;
		int err = pgc_mapping_find_or_create(m, i, 0, &p);

		if (err) {
			fprintf(stderr, "bench_lookup: find_or_create(%" PRIu64 "): %s\n", i,
				pgc_strerror(err));
			return err;
		}
		if (!pgc_page_test_flag(p, PGC_PG_UPTODATE)) {
			unsigned char *d = pgc_page_data(p);

			memset(d, 0xa5, BENCH_PAGE_SIZE);
			memcpy(d, &i, sizeof(i));
			err = pgc_page_set_flag(p, PGC_PG_UPTODATE);
			if (err) {
				fprintf(stderr, "bench_lookup: set UPTODATE: %s\n",
					pgc_strerror(err));
				pgc_page_unlock(p);
				pgc_page_put(p);
				return err;
			}
		}
		pgc_page_unlock(p);
		pgc_page_put(p);
	}
	return 0;
}

static void log_to_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "bench_lookup: libpgcache[%d]: %s\n", level, msg);
}

struct options {
	uint64_t sizes[MAX_SIZES];
	unsigned nr_sizes;
	unsigned rounds;
	unsigned round_ms;
	const char *dir;
	uint64_t seed;
	int huge_pages;
	unsigned threads[MAX_THREAD_COUNTS];
	unsigned nr_threads;
};

/* Medians per size, entry of --threads and kind. */
static double med[MAX_SIZES][MAX_THREAD_COUNTS][NR_KINDS];
static bool have[MAX_SIZES][MAX_THREAD_COUNTS];

/* Runs the cases of one size; returns 0, or -1 if they could not run or lookups failed. */
static int bench_size(const struct options *o, unsigned si)
{
	uint64_t npages = o->sizes[si];
	struct pgc_cache_config cfg;
	pgc_cache *cache = NULL;
	pgc_mapping *m = NULL;
	unsigned char *mem = NULL;
	struct pgc_stats st;
	char label[32];
	uint64_t t0;
	double res;
	int fd, err, ret = 0;

	bench_size_label(npages, label, sizeof(label));
	fprintf(stderr, "== %s pages (%.1f MiB): preparing a warm %s file in %s\n", label,
		(double)npages * BENCH_PAGE_SIZE / (1 << 20), kind_name[KIND_PREAD], o->dir);
	t0 = now_ns();
	fd = bench_make_indexed_file("bench_lookup", o->dir, npages, BENCH_PAGE_SIZE, 1, NULL);
	if (fd < 0)
		return -1;
	res = bench_resident_pct(fd, npages * BENCH_PAGE_SIZE);
	fprintf(stderr, "   file ready in %.1f s, %.1f%% resident in the kernel page cache\n",
		(double)(now_ns() - t0) / 1e9, res);

	/*
	 * The floor's memory first, then the cache's. On the VM these numbers
	 * were taken on, at 1 Mi pages the library's hits cost 6-10 us when the
	 * floor's 4 GiB was faulted in after the cache (even in rounds that
	 * never touch the floor) and 0.7-1.1 us when before it, the floor's
	 * own loads the same either way: the order is the fair one.
	 */
	t0 = now_ns();
	mem = bench_map_indexed(npages, BENCH_PAGE_SIZE, o->huge_pages);
	if (!mem) {
		fprintf(stderr, "bench_lookup: no memory for the floor's %" PRIu64 " pages\n",
			npages);
		close(fd);
		return -1;
	}
	fprintf(stderr, "   floor's memory (%s huge pages) faulted in in %.1f s\n",
		o->huge_pages ? "with" : "without", (double)(now_ns() - t0) / 1e9);

	pgc_cache_config_init(&cfg);
	cfg.page_size = BENCH_PAGE_SIZE;
	cfg.capacity_pages = npages;
	cfg.log = log_to_stderr;
	cfg.log_level = PGC_LOG_WARN;
	cfg.huge_pages = o->huge_pages;
	err = pgc_cache_create(&cfg, &cache);
	if (err) {
		fprintf(stderr, "bench_lookup: pgc_cache_create: %s\n", pgc_strerror(err));
		munmap(mem, (size_t)(npages * BENCH_PAGE_SIZE));
		close(fd);
		return -1;
	}
	err = pgc_mapping_create(cache, NULL, NULL, npages * BENCH_PAGE_SIZE, &m);
	if (err) {
		fprintf(stderr, "bench_lookup: pgc_mapping_create: %s\n", pgc_strerror(err));
		ret = -1;
		goto out;
	}
	t0 = now_ns();
	if (populate(m, npages)) {
		ret = -1;
		goto out;
	}
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	pgc_cache_stats(cache, &st);
	fprintf(stderr,
		"   library cache populated in %.1f s: %" PRIu64 " pages in the mapping, "
		"resident %" PRIu64 ", evictions %" PRIu64 "\n",
		(double)(now_ns() - t0) / 1e9, pgc_mapping_nr_pages(m), st.resident,
		st.evictions);
	if (pgc_mapping_nr_pages(m) != npages || st.evictions != 0)
		fprintf(stderr, "   WARNING: the cache does not hold every page; lookups will miss\n");

	for (unsigned ti = 0; ti < o->nr_threads; ti++) {
		unsigned nthreads = o->threads[ti];
		double v[NR_KINDS][MAX_ROUNDS];
		uint64_t misses = 0, bad = 0;
		char cname[64];
		struct job j = {
			.mapping = m,
			.fd = fd,
			.mem = mem,
			.npages = npages,
		};

		snprintf(cname, sizeof(cname), "hit_%ut_%s", nthreads, label);
		/* One unmeasured round of each kind: page tables, TLB, branch predictors. */
		j.duration_ns = (uint64_t)o->round_ms * 1000000u / 2;
		j.seed = o->seed ^ 0xdeadbeefull;
		for (int k = 0; k < NR_KINDS; k++)
			bench_pool_run(&pool, kind_fn[k], &j, nthreads);
		j.duration_ns = (uint64_t)o->round_ms * 1000000u;
		for (unsigned r = 0; r < o->rounds; r++) {
			/* Every kind in every round, the order rotating so drift hits all. */
			j.seed = o->seed + r * 7919u + si * 104729u + ti;
			for (int step = 0; step < NR_KINDS; step++) {
				int k = (int)((r + (unsigned)step) % NR_KINDS);
				struct bench_round rr = bench_pool_run(&pool, kind_fn[k], &j, nthreads);

				v[k][r] = rr.ns_per_op;
				misses += rr.misses;
				bad += rr.bad;
				if (rr.misses || rr.bad)
					fprintf(stderr,
						"   ERROR: %s %s round %u: %" PRIu64
						" failed lookups, %" PRIu64 " wrong data\n",
						cname, kind_name[k], r + 1, rr.misses, rr.bad);
			}
			fprintf(stderr,
				"   %s round %u/%u: lib %.1f ns/op, %s %.1f ns/op, %s %.1f ns/op, "
				"pgc_read 8 B %.1f ns/op\n",
				cname, r + 1, o->rounds, v[KIND_LIB][r], kind_name[KIND_PREAD],
				v[KIND_PREAD][r], kind_name[KIND_LOAD], v[KIND_LOAD][r],
				v[KIND_READ8][r]);
		}
		if (misses || bad) {
			fprintf(stderr, "   %s: not reported, the hit path failed\n", cname);
			ret = -1;
			continue;
		}
		for (int k = 0; k < NR_KINDS; k++)
			med[si][ti][k] = median(v[k], o->rounds);
		have[si][ti] = true;
		printf("RESULT bench_lookup %s lib=%.1fns/op peer=%s:%.1fns/op ratio=%.2f\n", cname,
		       med[si][ti][KIND_LIB], kind_name[KIND_PREAD], med[si][ti][KIND_PREAD],
		       med[si][ti][KIND_PREAD] / med[si][ti][KIND_LIB]);
		/* The same library medians against the floor: ratio = floor / lib (<= 1). */
		printf("RESULT bench_lookup floor_%ut_%s lib=%.1fns/op peer=%s:%.1fns/op ratio=%.2f\n",
		       nthreads, label, med[si][ti][KIND_LIB], kind_name[KIND_LOAD],
		       med[si][ti][KIND_LOAD], med[si][ti][KIND_LOAD] / med[si][ti][KIND_LIB]);
		/* An 8-byte pgc_read (no reference taken) against the same floor. */
		printf("RESULT bench_lookup read8_floor_%ut_%s lib=%.1fns/op peer=%s:%.1fns/op "
		       "ratio=%.2f\n",
		       nthreads, label, med[si][ti][KIND_READ8], kind_name[KIND_LOAD],
		       med[si][ti][KIND_LOAD], med[si][ti][KIND_LOAD] / med[si][ti][KIND_READ8]);
		fflush(stdout);
	}

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	pgc_cache_stats(cache, &st);
	fprintf(stderr, "   library stats: hits %" PRIu64 " misses %" PRIu64 " evictions %" PRIu64
		"\n", st.hits, st.misses, st.evictions);
out:
	if (mem)
		munmap(mem, (size_t)(npages * BENCH_PAGE_SIZE));
	err = pgc_mapping_destroy(m);
	if (err) {
		fprintf(stderr, "bench_lookup: pgc_mapping_destroy: %s\n", pgc_strerror(err));
		ret = -1;
	} else {
		err = pgc_cache_destroy(cache);
		if (err) {
			fprintf(stderr, "bench_lookup: pgc_cache_destroy: %s\n",
				pgc_strerror(err));
			ret = -1;
		}
	}
	/* The file was unlinked at creation: closing it frees its blocks and pages. */
	close(fd);
	return ret;
}

/*
 * The two goals computed from the library's own numbers, against the same for
 * pread. Both need the one-thread cases; without 1 in --threads they are not
 * printed.
 */
static void print_scaling(const struct options *o)
{
	unsigned smin = MAX_SIZES, smax = MAX_SIZES, t1 = MAX_THREAD_COUNTS;
	char a[32], b[32];

	for (unsigned ti = 0; ti < o->nr_threads; ti++)
		if (o->threads[ti] == 1)
			t1 = ti;
	if (t1 == MAX_THREAD_COUNTS)
		return;
	for (unsigned i = 0; i < o->nr_sizes; i++) {
		if (!have[i][t1])
			continue;
		if (smin == MAX_SIZES || o->sizes[i] < o->sizes[smin])
			smin = i;
		if (smax == MAX_SIZES || o->sizes[i] > o->sizes[smax])
			smax = i;
	}
	/*
	 * Growth of the cost per hit from the smallest to the largest cache
	 * (1 thread): lower is better, so ratio = peer growth / library growth.
	 */
	if (smin != MAX_SIZES && o->sizes[smin] != o->sizes[smax]) {
		double lib = med[smax][t1][KIND_LIB] / med[smin][t1][KIND_LIB];
		double peer = med[smax][t1][KIND_PREAD] / med[smin][t1][KIND_PREAD];

		bench_size_label(o->sizes[smax], a, sizeof(a));
		bench_size_label(o->sizes[smin], b, sizeof(b));
		printf("RESULT bench_lookup scale_%s_vs_%s lib=%.2fx peer=%s:%.2fx ratio=%.2f\n", a,
		       b, lib, kind_name[KIND_PREAD], peer, peer / lib);
	}
	/*
	 * Throughput of N threads over 1 thread, for every N > 1 of --threads,
	 * at 64Ki pages if that size ran (else the largest): higher is better,
	 * so ratio = library / peer. Throughput is 1 / (cost per op), so the
	 * speedup is cost1t / costNt.
	 */
	for (unsigned ti = 0; ti < o->nr_threads; ti++) {
		unsigned s64 = MAX_SIZES;

		if (o->threads[ti] == 1)
			continue;
		for (unsigned i = 0; i < o->nr_sizes; i++)
			if (o->sizes[i] == 65536 && have[i][t1] && have[i][ti])
				s64 = i;
		if (s64 == MAX_SIZES && smax != MAX_SIZES && have[smax][ti])
			s64 = smax;
		if (s64 == MAX_SIZES)
			continue;
		double lib = med[s64][t1][KIND_LIB] / med[s64][ti][KIND_LIB];
		double peer = med[s64][t1][KIND_PREAD] / med[s64][ti][KIND_PREAD];

		bench_size_label(o->sizes[s64], a, sizeof(a));
		printf("RESULT bench_lookup threads_%ut_vs_1t_%s lib=%.2fx peer=%s:%.2fx ratio=%.2f\n",
		       o->threads[ti], a, lib, kind_name[KIND_PREAD], peer, lib / peer);
	}
	fflush(stdout);
}

/* Parses "1,2,4": distinct thread counts from 1 to MAX_THREADS. */
static int parse_threads(const char *arg, unsigned *threads, unsigned *nr)
{
	return bench_parse_list(arg, 1, MAX_THREADS, threads, MAX_THREAD_COUNTS, nr);
}

int main(int argc, char **argv)
{
	enum { OPT_SIZES = 256, OPT_ROUNDS, OPT_ROUND_MS, OPT_DIR, OPT_SEED, OPT_QUICK, OPT_NO_HUGE, OPT_THREADS, OPT_HELP };
	static const struct option longopts[] = {
		{ "sizes", required_argument, NULL, OPT_SIZES },
		{ "rounds", required_argument, NULL, OPT_ROUNDS },
		{ "round-ms", required_argument, NULL, OPT_ROUND_MS },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "huge-pages", no_argument, NULL, OPT_NO_HUGE },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .rounds = 0, .round_ms = 0, .dir = "/var/tmp", .seed = 1, .huge_pages = 0,
			     .threads = { 1, 2 }, .nr_threads = 2 };
	bool quick = false, sizes_given = false;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case OPT_SIZES:
			if (bench_parse_sizes(optarg, o.sizes, MAX_SIZES, &o.nr_sizes)) {
				fprintf(stderr, "bench_lookup: bad --sizes '%s'\n", optarg);
				return 2;
			}
			sizes_given = true;
			break;
		case OPT_ROUNDS:
			o.rounds = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.rounds < 1 || o.rounds > MAX_ROUNDS) {
				fprintf(stderr, "bench_lookup: --rounds must be 1..%d\n", MAX_ROUNDS);
				return 2;
			}
			break;
		case OPT_ROUND_MS:
			o.round_ms = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.round_ms < 1 || o.round_ms > 60000) {
				fprintf(stderr, "bench_lookup: --round-ms must be 1..60000\n");
				return 2;
			}
			break;
		case OPT_DIR:
			o.dir = optarg;
			break;
		case OPT_SEED:
			o.seed = strtoull(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "bench_lookup: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_NO_HUGE:
			o.huge_pages = 1;
			break;
		case OPT_THREADS:
			if (parse_threads(optarg, o.threads, &o.nr_threads)) {
				fprintf(stderr, "bench_lookup: bad --threads '%s' (distinct counts 1..%d)\n",
					optarg, MAX_THREADS);
				return 2;
			}
			break;
		case OPT_QUICK:
			quick = true;
			break;
		case OPT_HELP:
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	if (!sizes_given) {
		static const uint64_t full[] = { 1024, 65536, 1048576 };
		static const uint64_t small[] = { 1024, 4096 };
		const uint64_t *src = quick ? small : full;

		o.nr_sizes = quick ? 2 : 3;
		memcpy(o.sizes, src, o.nr_sizes * sizeof(*src));
	}
	if (!o.rounds)
		o.rounds = quick ? 3 : 5;
	if (!o.round_ms)
		o.round_ms = quick ? 50 : 300;

	fprintf(stderr,
		"bench_lookup: libpgcache %s, %u-byte pages, %ld CPUs online, %u rounds of %u ms, "
		"peer file in %s\n",
		pgc_version_string(), BENCH_PAGE_SIZE, sysconf(_SC_NPROCESSORS_ONLN), o.rounds,
		o.round_ms, o.dir);

	unsigned nr_workers = 0;

	for (unsigned ti = 0; ti < o.nr_threads; ti++)
		if (o.threads[ti] > nr_workers)
			nr_workers = o.threads[ti];
	if (bench_pool_start(&pool, nr_workers, BENCH_PAGE_SIZE)) {
		fprintf(stderr, "bench_lookup: cannot start %u threads\n", nr_workers);
		return 1;
	}

	for (unsigned i = 0; i < o.nr_sizes; i++)
		if (bench_size(&o, i))
			ret = 1;
	print_scaling(&o);

	bench_pool_stop(&pool);
	if (ret)
		fprintf(stderr, "bench_lookup: some cases failed (see above)\n");
	return ret;
}
