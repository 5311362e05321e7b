/*
 * bench_lookup: the cost of a page-cache hit in libpgcache, next to the same
 * hit in the kernel's page cache.
 *
 * One operation of the library is the hit path a storage server runs for
 * every cached read: pgc_mapping_find() at a random index, read 8 bytes of
 * pgc_page_data(), pgc_page_put(). One operation of the peer is the nearest
 * thing the kernel offers: pread() of the same 4 KiB block of a warm file of
 * the same size, then read 8 bytes of the buffer. Both loops draw their
 * indexes from the same xorshift generator and check the 8 bytes they read
 * (each page and each block starts with its own index), so they do the same
 * work around the call they measure.
 *
 * Rounds of the library and of the peer alternate, and the order flips every
 * round, so a slow drift of the machine (another tenant, frequency scaling)
 * falls on both; the median of the rounds is reported. With two threads the
 * cost per operation is the wall time of the round divided by the operations
 * of both threads, so lower is better for one thread and for two alike.
 *
 * Progress goes to stderr; stdout carries only the RESULT lines, one per
 * comparison, in the format bench/README.md documents. This is a benchmark,
 * not a test: it asserts nothing about time. It does fail (exit status 1) if
 * a lookup misses or returns the wrong data, since then the number it would
 * print would not measure the hit path.
 */
#define _GNU_SOURCE
#include <pgcache/pgcache.h>

#include "bench_util.h"

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
#define MAX_THREADS 64
#define MAX_SIZES 16
#define MAX_ROUNDS 101
#define BATCH 256		/* operations between two clock reads */
#define IO_CHUNK (1u << 20)	/* bytes per write()/read() when preparing the file */

enum kind { KIND_LIB = 0, KIND_PEER = 1, NR_KINDS = 2 };
static const char *const kind_name[NR_KINDS] = { "lib", "pread" };

/* What the workers run next; written by the main thread under job_lock. */
struct job {
	enum kind kind;
	unsigned nthreads;
	uint64_t duration_ns;
	uint64_t seed;
	pgc_mapping *mapping;
	int fd;
	uint64_t npages;
};

/* One worker's result for the last job. Padded so two workers never share a line. */
struct worker {
	pthread_t tid;
	unsigned id;
	unsigned char *buf;	/* pread() buffer, page aligned */
	uint64_t ops;
	uint64_t misses;	/* lookups or reads that failed */
	uint64_t bad;		/* lookups or reads that returned the wrong data */
	uint64_t t_start;
	uint64_t t_end;
} __attribute__((aligned(128)));

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static struct job job;
static uint64_t job_gen;
static unsigned job_done;
static bool job_quit;
static struct worker workers[MAX_THREADS];
static unsigned nr_workers;	/* the largest entry of --threads */

/* A uniform index below n without a division (Lemire's multiply-high). */
static inline uint64_t pick_index(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)xorshift64(s) * n) >> 64);
}

/* splitmix64 finaliser, to derive independent nonzero seeds. */
static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

static void run_lib(struct worker *w, const struct job *j)
{
	uint64_t s = mix64(j->seed ^ (w->id + 1) * 0x100000001b3ull);
	uint64_t ops = 0, misses = 0, bad = 0, t;
	uint64_t t0 = now_ns(), deadline = t0 + j->duration_ns;

	do {
		for (unsigned i = 0; i < BATCH; i++) {
			uint64_t idx = pick_index(&s, j->npages), v;
			pgc_page *p;

			if (__builtin_expect(pgc_mapping_find(j->mapping, idx, &p) != 0, 0)) {
				misses++;
				continue;
			}
			memcpy(&v, pgc_page_data(p), sizeof(v));
			bad += v != idx;
			pgc_page_put(p);
		}
		ops += BATCH;
		t = now_ns();
	} while (t < deadline);
	w->ops = ops;
	w->misses = misses;
	w->bad = bad;
	w->t_start = t0;
	w->t_end = t;
}

static void run_peer(struct worker *w, const struct job *j)
{
	uint64_t s = mix64(j->seed ^ (w->id + 1) * 0x100000001b3ull);
	uint64_t ops = 0, misses = 0, bad = 0, t;
	uint64_t t0 = now_ns(), deadline = t0 + j->duration_ns;
	unsigned char *buf = w->buf;

	do {
		for (unsigned i = 0; i < BATCH; i++) {
			uint64_t idx = pick_index(&s, j->npages), v;

			if (__builtin_expect(pread(j->fd, buf, BENCH_PAGE_SIZE,
						   (off_t)(idx * BENCH_PAGE_SIZE)) !=
					     (ssize_t)BENCH_PAGE_SIZE, 0)) {
				misses++;
				continue;
			}
			memcpy(&v, buf, sizeof(v));
			bad += v != idx;
		}
		ops += BATCH;
		t = now_ns();
	} while (t < deadline);
	w->ops = ops;
	w->misses = misses;
	w->bad = bad;
	w->t_start = t0;
	w->t_end = t;
}

/*
 * Workers live for the whole run, so that a round measures lookups, not
 * thread creation, and so that the library sees the same threads throughout
 * (as a server's I/O threads would be).
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t seen = 0;

	for (;;) {
		struct job j;

		pthread_mutex_lock(&job_lock);
		while (job_gen == seen && !job_quit)
			pthread_cond_wait(&job_cond, &job_lock);
		if (job_quit) {
			pthread_mutex_unlock(&job_lock);
			return NULL;
		}
		seen = job_gen;
		j = job;
		pthread_mutex_unlock(&job_lock);

		w->ops = w->misses = w->bad = 0;
		if (w->id < j.nthreads) {
			if (j.kind == KIND_LIB)
				run_lib(w, &j);
			else
				run_peer(w, &j);
		}

		pthread_mutex_lock(&job_lock);
		job_done++;
		pthread_cond_signal(&done_cond);
		pthread_mutex_unlock(&job_lock);
	}
}

struct round_result {
	double ns_per_op;	/* wall time / total operations */
	uint64_t ops, misses, bad;
};

static struct round_result run_round(const struct job *j)
{
	struct round_result r = { 0 };
	uint64_t start = UINT64_MAX, end = 0;

	pthread_mutex_lock(&job_lock);
	job = *j;
	job_done = 0;
	job_gen++;
	pthread_cond_broadcast(&job_cond);
	while (job_done < nr_workers)
		pthread_cond_wait(&done_cond, &job_lock);
	pthread_mutex_unlock(&job_lock);

	for (unsigned i = 0; i < j->nthreads; i++) {
		struct worker *w = &workers[i];

		r.ops += w->ops;
		r.misses += w->misses;
		r.bad += w->bad;
		if (w->t_start < start)
			start = w->t_start;
		if (w->t_end > end)
			end = w->t_end;
	}
	r.ns_per_op = r.ops ? (double)(end - start) / (double)r.ops : 0.0;
	return r;
}

/* "1Ki", "64Ki", "1Mi", or the plain number for other sizes. */
static void size_label(uint64_t n, char *out, size_t len)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, len, "%" PRIu64 "Mi", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, len, "%" PRIu64 "Ki", n >> 10);
	else
		snprintf(out, len, "%" PRIu64, n);
}

/* Parses "1Ki,64Ki,1Mi" (suffixes K/Ki/M/Mi/G/Gi are binary). */
static int parse_sizes(const char *arg, uint64_t *sizes, unsigned *nr)
{
	const char *p = arg;

	*nr = 0;
	while (*p) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || end == p || v == 0)
			return -1;
		switch (*end) {
		case 'K': case 'k': v <<= 10; end++; break;
		case 'M': case 'm': v <<= 20; end++; break;
		case 'G': case 'g': v <<= 30; end++; break;
		default: break;
		}
		if (*end == 'i')
			end++;
		if ((*end != ',' && *end != '\0') || *nr == MAX_SIZES)
			return -1;
		sizes[(*nr)++] = v;
		p = *end == ',' ? end + 1 : end;
	}
	return *nr ? 0 : -1;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"\n"
		"Measures the hit path of libpgcache (pgc_mapping_find + read 8 bytes +\n"
		"pgc_page_put on 4 KiB pages, random indexes) against the kernel page cache\n"
		"(pread of 4 KiB from a warm file of the same size), with 1 and 2 threads\n"
		"(or --threads).\n"
		"RESULT lines go to stdout, progress to stderr.\n"
		"\n"
		"  --sizes LIST    cache sizes in pages, comma separated, K/Ki/M/Mi suffixes\n"
		"                  (default 1Ki,64Ki,1Mi; 1Mi needs 4 GiB for the cache and\n"
		"                  4 GiB of kernel page cache for the file)\n"
		"  --rounds N      measured rounds of each kind per case (default 5)\n"
		"  --round-ms MS   length of one round in milliseconds (default 300)\n"
		"  --threads LIST  thread counts, comma separated (default 1,2; at most %d);\n"
		"                  one case per size and thread count\n"
		"  --dir PATH      directory of the peer's temporary file (default /var/tmp);\n"
		"                  the file is unlinked as soon as it is open\n"
		"  --seed N        seed of the index generator (default 1)\n"
		"  --quick         smoke run: sizes 1Ki,4Ki, 3 rounds of 50 ms\n"
		"  --huge-pages    cache frames in transparent huge pages\n"
		"                  (explicit --sizes/--rounds/--round-ms still win)\n"
		"  --help          this text\n",
		prog, MAX_THREADS);
}

/*
 * Creates the peer's file: every block starts with its index, the whole file
 * is written, synced (so that writeback does not run during the rounds) and
 * read once to bring it into the page cache. The file is unlinked at once,
 * so it disappears with the descriptor even if the run is interrupted.
 */
static int make_peer_file(const char *dir, uint64_t npages)
{
	size_t plen = strlen(dir) + 32;
	char *path = malloc(plen);
	unsigned char *chunk = NULL;
	uint64_t bytes = npages * BENCH_PAGE_SIZE, off;
	int fd;

	if (!path)
		return -1;
	snprintf(path, plen, "%s/bench_lookup.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "bench_lookup: cannot create a file in %s: %s\n", dir,
			strerror(errno));
		free(path);
		return -1;
	}
	unlink(path);
	free(path);

	if (posix_memalign((void **)&chunk, BENCH_PAGE_SIZE, IO_CHUNK))
		goto fail;
	for (off = 0; off < bytes; off += IO_CHUNK) {
		size_t len = bytes - off < IO_CHUNK ? (size_t)(bytes - off) : IO_CHUNK;

		memset(chunk, 0xa5, len);
		for (size_t b = 0; b < len; b += BENCH_PAGE_SIZE) {
			uint64_t idx = (off + b) / BENCH_PAGE_SIZE;

			memcpy(chunk + b, &idx, sizeof(idx));
		}
		if (pwrite(fd, chunk, len, (off_t)off) != (ssize_t)len) {
			fprintf(stderr, "bench_lookup: write to %s failed: %s\n", dir,
				strerror(errno));
			goto fail;
		}
	}
	if (fdatasync(fd) != 0) {
		fprintf(stderr, "bench_lookup: fdatasync failed: %s\n", strerror(errno));
		goto fail;
	}
	for (off = 0; off < bytes; off += IO_CHUNK) {
		size_t len = bytes - off < IO_CHUNK ? (size_t)(bytes - off) : IO_CHUNK;

		if (pread(fd, chunk, len, (off_t)off) != (ssize_t)len) {
			fprintf(stderr, "bench_lookup: warming read failed: %s\n",
				strerror(errno));
			goto fail;
		}
	}
	free(chunk);
	return fd;
fail:
	free(chunk);
	close(fd);
	return -1;
}

/* Fraction of the file that the kernel holds in its page cache (mincore). */
static double peer_resident(int fd, uint64_t npages)
{
	size_t len = (size_t)(npages * BENCH_PAGE_SIZE);
	long os_page = sysconf(_SC_PAGESIZE);
	size_t nvec = (len + (size_t)os_page - 1) / (size_t)os_page, in = 0;
	unsigned char *vec;
	void *addr;

	addr = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return -1.0;
	vec = malloc(nvec);
	if (!vec || mincore(addr, len, vec) != 0) {
		free(vec);
		munmap(addr, len);
		return -1.0;
	}
	for (size_t i = 0; i < nvec; i++)
		in += vec[i] & 1;
	free(vec);
	munmap(addr, len);
	return 100.0 * (double)in / (double)nvec;
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

/* Runs the case of one size; returns 0, or -1 if it could not run or lookups failed. */
static int bench_size(const struct options *o, unsigned si)
{
	uint64_t npages = o->sizes[si];
	struct pgc_cache_config cfg;
	pgc_cache *cache = NULL;
	pgc_mapping *m = NULL;
	struct pgc_stats st;
	char label[32];
	uint64_t t0;
	double res;
	int fd, err, ret = 0;

	size_label(npages, label, sizeof(label));
	fprintf(stderr, "== %s pages (%.1f MiB): preparing a warm %s file in %s\n", label,
		(double)npages * BENCH_PAGE_SIZE / (1 << 20), kind_name[KIND_PEER], o->dir);
	t0 = now_ns();
	fd = make_peer_file(o->dir, npages);
	if (fd < 0)
		return -1;
	res = peer_resident(fd, npages);
	fprintf(stderr, "   file ready in %.1f s, %.1f%% resident in the kernel page cache\n",
		(double)(now_ns() - t0) / 1e9, res);

	pgc_cache_config_init(&cfg);
	cfg.page_size = BENCH_PAGE_SIZE;
	cfg.capacity_pages = npages;
	cfg.log = log_to_stderr;
	cfg.log_level = PGC_LOG_WARN;
	cfg.huge_pages = o->huge_pages;
	err = pgc_cache_create(&cfg, &cache);
	if (err) {
		fprintf(stderr, "bench_lookup: pgc_cache_create: %s\n", pgc_strerror(err));
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
			.nthreads = nthreads,
			.mapping = m,
			.fd = fd,
			.npages = npages,
		};

		snprintf(cname, sizeof(cname), "hit_%ut_%s", nthreads, label);
		/* One unmeasured round of each kind: page tables, TLB, branch predictors. */
		j.duration_ns = (uint64_t)o->round_ms * 1000000u / 2;
		j.seed = o->seed ^ 0xdeadbeefull;
		for (int k = 0; k < NR_KINDS; k++) {
			j.kind = (enum kind)k;
			run_round(&j);
		}
		j.duration_ns = (uint64_t)o->round_ms * 1000000u;
		for (unsigned r = 0; r < o->rounds; r++) {
			/* Alternate, and flip the order every round so drift hits both. */
			for (int step = 0; step < NR_KINDS; step++) {
				int k = (r % 2) ? NR_KINDS - 1 - step : step;
				struct round_result rr;

				j.kind = (enum kind)k;
				j.seed = o->seed + r * 7919u + si * 104729u + ti;
				rr = run_round(&j);
				v[k][r] = rr.ns_per_op;
				misses += rr.misses;
				bad += rr.bad;
				if (rr.misses || rr.bad)
					fprintf(stderr,
						"   ERROR: %s %s round %u: %" PRIu64
						" failed lookups, %" PRIu64 " wrong data\n",
						cname, kind_name[k], r + 1, rr.misses, rr.bad);
			}
			fprintf(stderr, "   %s round %u/%u: lib %.1f ns/op, %s %.1f ns/op\n", cname,
				r + 1, o->rounds, v[KIND_LIB][r], kind_name[KIND_PEER],
				v[KIND_PEER][r]);
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
		       med[si][ti][KIND_LIB], kind_name[KIND_PEER], med[si][ti][KIND_PEER],
		       med[si][ti][KIND_PEER] / med[si][ti][KIND_LIB]);
		fflush(stdout);
	}

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	pgc_cache_stats(cache, &st);
	fprintf(stderr, "   library stats: hits %" PRIu64 " misses %" PRIu64 " evictions %" PRIu64
		"\n", st.hits, st.misses, st.evictions);
out:
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
		double peer = med[smax][t1][KIND_PEER] / med[smin][t1][KIND_PEER];

		size_label(o->sizes[smax], a, sizeof(a));
		size_label(o->sizes[smin], b, sizeof(b));
		printf("RESULT bench_lookup scale_%s_vs_%s lib=%.2fx peer=%s:%.2fx ratio=%.2f\n", a,
		       b, lib, kind_name[KIND_PEER], peer, peer / lib);
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
		double peer = med[s64][t1][KIND_PEER] / med[s64][ti][KIND_PEER];

		size_label(o->sizes[s64], a, sizeof(a));
		printf("RESULT bench_lookup threads_%ut_vs_1t_%s lib=%.2fx peer=%s:%.2fx ratio=%.2f\n",
		       o->threads[ti], a, lib, kind_name[KIND_PEER], peer, lib / peer);
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
			if (parse_sizes(optarg, o.sizes, &o.nr_sizes)) {
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

	for (unsigned ti = 0; ti < o.nr_threads; ti++)
		if (o.threads[ti] > nr_workers)
			nr_workers = o.threads[ti];
	for (unsigned i = 0; i < nr_workers; i++) {
		workers[i].id = i;
		if (posix_memalign((void **)&workers[i].buf, BENCH_PAGE_SIZE, BENCH_PAGE_SIZE)) {
			fprintf(stderr, "bench_lookup: out of memory\n");
			return 1;
		}
		memset(workers[i].buf, 0, BENCH_PAGE_SIZE);
		if (pthread_create(&workers[i].tid, NULL, worker_main, &workers[i])) {
			fprintf(stderr, "bench_lookup: pthread_create failed\n");
			return 1;
		}
	}

	for (unsigned i = 0; i < o.nr_sizes; i++)
		if (bench_size(&o, i))
			ret = 1;
	print_scaling(&o);

	pthread_mutex_lock(&job_lock);
	job_quit = true;
	pthread_cond_broadcast(&job_cond);
	pthread_mutex_unlock(&job_lock);
	for (unsigned i = 0; i < nr_workers; i++) {
		pthread_join(workers[i].tid, NULL);
		free(workers[i].buf);
	}
	if (ret)
		fprintf(stderr, "bench_lookup: some cases failed (see above)\n");
	return ret;
}
