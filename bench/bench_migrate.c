/*
 * bench_migrate: pages moved per second by the migration engine, in
 * batches of 1, 64, 512 and 8192 pages of 4 KiB, against move_pages(2) on
 * the same number of pages of plain anonymous memory and against memcpy of
 * the same bytes (the ceiling of a copy): page by page, from the same
 * scattered frames the engine copies from to as many other frames of the
 * cache, so that the floor meets the same cache and TLB misses.
 *
 * With two nodes or more, every move goes from node 0 to node 1 or back
 * (each round moves all pages to the other node). On a single node the
 * library's copy mode still copies to new frames, but the kernel leaves
 * pages that are already on the target node where they are, so the
 * move_pages peer and the in-place mode do no work: on one node the lines
 * for them are not printed and only copy against memcpy is meaningful.
 *
 *   bench_migrate [--rounds N] [--quick] [--batches LIST]
 *
 * --batches takes batch sizes in pages, comma separated, each a divisor of
 * 8192 (default 1,64,512,8192); bench/run-all sweeps more of them.
 * BENCH_MIGRATE_ROUNDS and BENCH_MIGRATE_BATCHES in the environment set the
 * same as --rounds and --batches (options win): scripts/numa-vm.sh runs
 * programs without arguments but passes the environment (--env).
 *
 * Rounds alternate the methods, the order rotating each round; the value
 * is the median over rounds. Copy mode and memcpy have no warm-up round:
 * before each round the target node's reserve is grown outside the timing
 * (pgc_cache_reserve), and copy_worst_vs_memcpy_batchN gives the slowest
 * copy round, the first included, against memcpy's median. Output: one
 * RESULT line per comparison.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "bench_util.h"

#define TOTAL 8192u /* pages moved per round, whatever the batch */
#define MAX_BATCHES 14 /* 1, 2, 4, ... 8192 */

static int nr_nodes;
static size_t ps;

struct alloc_arg {
	pgc_cache *c;
	int node;
};

static pgc_page *alloc_on(pgc_page *old, void *arg)
{
	(void)old;
	struct alloc_arg *a = arg;
	pgc_page *p;
	return pgc_page_alloc(a->c, a->node, PGC_ALLOC_STRICT, &p) ? NULL : p;
}

struct ctx {
	pgc_cache *c;
	pgc_page **pages;
	int *nodes, *status;
	void **addrs;       /* the peer's pages */
	pgc_page **floor;   /* memcpy's destinations: frames of the cache */
	int lib_node, inplace_node, peer_node;
};

/* AnonHugePages of the process in kB (/proc/self/smaps_rollup), -1 unknown. */
static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (!f)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Each method moves all TOTAL pages in batches of b; returns pages/s. */
static double run_copy(struct ctx *x, unsigned b)
{
	int to = nr_nodes > 1 ? 1 - x->lib_node : 0;
	struct alloc_arg a = {x->c, to};
	/* The frames this round takes, ready before the clock starts. */
	int err = pgc_cache_reserve(x->c, to, TOTAL);
	if (err) {
		fprintf(stderr, "bench_migrate: pgc_cache_reserve(%d): %s\n", to, pgc_strerror(err));
		exit(1);
	}
	uint64_t t0 = now_ns();
	for (unsigned off = 0; off < TOTAL; off += b) {
		long r = pgc_migrate_pages(x->pages + off, b, alloc_on, &a, PGC_MIGRATE_SYNC,
					   PGC_MR_SYSCALL, x->status, NULL);
		if (r != 0) {
			fprintf(stderr, "bench_migrate: pgc_migrate_pages = %ld (status %d)\n", r,
				x->status[0]);
			exit(1);
		}
	}
	uint64_t t1 = now_ns();
	x->lib_node = to;
	return TOTAL / ((double)(t1 - t0) / 1e9);
}

static double run_inplace(struct ctx *x, unsigned b)
{
	int to = 1 - x->inplace_node;
	for (unsigned i = 0; i < b; i++)
		x->nodes[i] = to;
	uint64_t t0 = now_ns();
	for (unsigned off = TOTAL; off < 2 * TOTAL; off += b) {
		long r = pgc_move_pages(x->c, b, x->pages + off, x->nodes, x->status, PGC_MOVE_INPLACE);
		if (r != 0) {
			fprintf(stderr, "bench_migrate: in place = %ld (status %d)\n", r, x->status[0]);
			exit(1);
		}
	}
	uint64_t t1 = now_ns();
	x->inplace_node = to;
	return TOTAL / ((double)(t1 - t0) / 1e9);
}

static double run_peer(struct ctx *x, unsigned b)
{
	int to = 1 - x->peer_node;
	for (unsigned i = 0; i < b; i++)
		x->nodes[i] = to;
	uint64_t t0 = now_ns();
	for (unsigned off = 0; off < TOTAL; off += b) {
		long r = move_pages(0, b, x->addrs + off, x->nodes, x->status, MPOL_MF_MOVE);
		if (r != 0 || x->status[0] != to || x->status[b - 1] != to) {
			/* Reported, not fatal: seen in the qemu VM (see bench/README.md). */
			fprintf(stderr, "bench_migrate: move_pages = %ld errno %d status %d..%d (batch %u at %u, to %d): no peer numbers\n",
				r, errno, x->status[0], x->status[b - 1], b, off, to);
			return -1;
		}
	}
	uint64_t t1 = now_ns();
	x->peer_node = to;
	return TOTAL / ((double)(t1 - t0) / 1e9);
}

static double run_memcpy(struct ctx *x, unsigned b)
{
	(void)b; /* page by page whatever the batch */
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < TOTAL; i++)
		memcpy(pgc_page_data(x->floor[i]), pgc_page_data(x->pages[i]), ps);
	uint64_t t1 = now_ns();
	__asm__ volatile("" ::"r"(x->floor) : "memory");
	return TOTAL / ((double)(t1 - t0) / 1e9);
}

/* In the order of the value arrays: copy, memcpy, peer, in place. */
static double (*const methods_fn[4])(struct ctx *, unsigned) = {run_copy, run_memcpy, run_peer,
								  run_inplace};

static void result(const char *kase, double lib, const char *peer, double pv)
{
	printf("RESULT bench_migrate %s lib=%.0fpages/s peer=%s:%.0fpages/s ratio=%.2f\n", kase, lib,
	       peer, pv, lib / pv);
	fflush(stdout);
}

/* Parses "1,64,512": batch sizes that divide TOTAL, so every round moves TOTAL pages. */
static int parse_batches(const char *arg, unsigned *batches, unsigned *nr)
{
	if (bench_parse_list(arg, 1, TOTAL, batches, MAX_BATCHES, nr))
		return -1;
	for (unsigned i = 0; i < *nr; i++)
		if (TOTAL % batches[i])
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned rounds = 7;
	unsigned batches[MAX_BATCHES] = {1, 64, 512, 8192}, nr_batches = 4;
	const char *env = getenv("BENCH_MIGRATE_ROUNDS");
	if (env && *env)
		rounds = (unsigned)atoi(env);
	env = getenv("BENCH_MIGRATE_BATCHES");
	if (env && *env && parse_batches(env, batches, &nr_batches)) {
		fprintf(stderr, "bench_migrate: bad BENCH_MIGRATE_BATCHES '%s' (divisors of %u)\n",
			env, TOTAL);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--quick"))
			rounds = 3;
		else if (!strcmp(argv[i], "--batches") && i + 1 < argc) {
			if (parse_batches(argv[++i], batches, &nr_batches)) {
				fprintf(stderr, "bench_migrate: bad --batches '%s' (divisors of %u)\n",
					argv[i], TOTAL);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: bench_migrate [--rounds N] [--quick] [--batches LIST]\n"
					"       (or BENCH_MIGRATE_ROUNDS, BENCH_MIGRATE_BATCHES in the environment)\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS)
		rounds = 7;
	nr_nodes = numa_available() < 0 ? 1 : numa_max_node() + 1;
	/*
	 * Automatic NUMA balancing unmaps pages to sample their use, and
	 * move_pages(2) answers -ENOENT for such a page: the peer then fails.
	 * Turned off when we may (root, as in the VM); said on stderr.
	 */
	FILE *nb = fopen("/proc/sys/kernel/numa_balancing", "r+");
	if (nb) {
		int on = fgetc(nb) == '1';
		rewind(nb);
		bool off = on && fputs("0", nb) >= 0;
		fclose(nb);
		fprintf(stderr, "bench_migrate: automatic NUMA balancing %s\n",
			!on ? "off" : off ? "turned off" : "on (could not turn it off)");
	}
	if (nr_nodes > 1 && numa_run_on_node(0) != 0)
		perror("numa_run_on_node");
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.page_size = 4096;
	/* Copy-mode pages, in-place pages, memcpy's destinations, the reserve
	 * of a round and the frames of the round before, in their grace period. */
	cfg.capacity_pages = 5 * TOTAL + 2048;
	pgc_cache *c;
	int err = pgc_cache_create(&cfg, &c);
	if (err) {
		fprintf(stderr, "bench_migrate: pgc_cache_create: %s\n", pgc_strerror(err));
		return 1;
	}
	ps = pgc_cache_page_size(c);
	pgc_mapping *m;
	pgc_mapping_create(c, NULL, NULL, 2ull * TOTAL * ps, &m);
	struct ctx x = {.c = c};
	x.pages = calloc(2 * TOTAL, sizeof(*x.pages));
	x.nodes = calloc(TOTAL, sizeof(int));
	x.status = calloc(TOTAL, sizeof(int));
	x.addrs = calloc(TOTAL, sizeof(void *));
	/* Pages 0..TOTAL-1 for copy mode, TOTAL..2*TOTAL-1 in place; all on node 0. */
	for (unsigned i = 0; i < 2 * TOTAL; i++) {
		err = pgc_mapping_find_or_create(m, i, 0, &x.pages[i]);
		if (err || pgc_page_node(x.pages[i]) != 0) {
			fprintf(stderr, "bench_migrate: page %u: %d, node %d\n", i, err,
				err ? -1 : pgc_page_node(x.pages[i]));
			return 1;
		}
		memset(pgc_page_data(x.pages[i]), (int)i, ps);
		pgc_page_set_flag(x.pages[i], PGC_PG_UPTODATE);
		pgc_page_unlock(x.pages[i]);
	}
	/*
	 * The peer's pages are 4 KiB pages, as the cache's frames are: advised
	 * MADV_NOHUGEPAGE before anything faults them in. (Until 2026-12-02 the
	 * mapping was made with MAP_POPULATE and advised after: with THP
	 * "always" its memory was huge pages, and move_pages(2) moved 2 MiB
	 * for the first address of each and nothing for the 511 others.)
	 */
	char *anon = mmap(NULL, (size_t)TOTAL * ps, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED) {
		perror("bench_migrate: mmap");
		return 1;
	}
	madvise(anon, (size_t)TOTAL * ps, MADV_NOHUGEPAGE);
	/* Fault every page in (volatile: a store the compiler may not drop). */
	for (size_t off = 0; off < (size_t)TOTAL * ps; off += ps)
		((volatile char *)anon)[off] = 1;
	long thp_kb = anon_huge_kb();
	fprintf(stderr, "bench_migrate: AnonHugePages of the process: %ld kB%s\n", thp_kb,
		thp_kb > 0 ? " (huge pages: the move_pages peer is not comparable)" : "");
	for (unsigned i = 0; i < TOTAL; i++)
		x.addrs[i] = anon + (size_t)i * ps;
	/* memcpy's destinations: on the node the first copy round goes to. */
	x.floor = calloc(TOTAL, sizeof(*x.floor));
	for (unsigned i = 0; i < TOTAL; i++) {
		err = pgc_page_alloc(c, nr_nodes > 1 ? 1 : 0, PGC_ALLOC_STRICT, &x.floor[i]);
		if (err) {
			fprintf(stderr, "bench_migrate: floor frame %u: %s\n", i, pgc_strerror(err));
			return 1;
		}
		memset(pgc_page_data(x.floor[i]), 3, ps);
	}
	fprintf(stderr, "bench_migrate: %d node(s), %u pages of %zu bytes per round, %u rounds\n",
		nr_nodes, TOTAL, ps, rounds);

	int methods = nr_nodes > 1 ? 4 : 2; /* copy, memcpy[, peer, in place] */
	for (unsigned bi = 0; bi < nr_batches; bi++) {
		unsigned b = batches[bi];
		double v[4][BENCH_MAX_ROUNDS];
		/* A warm-up round of the kernel's peer and of in place only;
		 * then rotating order. */
		for (int k = 2; k < methods; k++)
			methods_fn[k](&x, b);
		for (unsigned r = 0; r < rounds; r++) {
			for (int j = 0; j < methods; j++) {
				int k = (j + (int)r) % methods;
				v[k][r] = methods_fn[k](&x, b);
			}
		}
		double copy = median(v[0], rounds), mc = median(v[1], rounds);
		char kase[64];
		fprintf(stderr, "batch %u: copy %.0f pages/s, memcpy %.0f", b, copy, mc);
		if (methods > 2)
			fprintf(stderr, ", move_pages %.0f, in place %.0f", median(v[2], rounds),
				median(v[3], rounds));
		fprintf(stderr, "\n");
		bool peer_ok = true;
		for (unsigned r = 0; methods > 2 && r < rounds; r++)
			peer_ok = peer_ok && v[2][r] > 0;
		if (methods > 2 && !peer_ok)
			fprintf(stderr, "batch %u: in place %.0f pages/s; move_pages peer failed, no comparison\n",
				b, median(v[3], rounds));
		if (methods > 2 && peer_ok) {
			snprintf(kase, sizeof kase, "copy_batch%u", b);
			result(kase, copy, "move_pages", median(v[2], rounds));
			snprintf(kase, sizeof kase, "inplace_batch%u", b);
			result(kase, median(v[3], rounds), "move_pages", median(v[2], rounds));
		}
		snprintf(kase, sizeof kase, "copy_vs_memcpy_batch%u", b);
		result(kase, copy, "memcpy", mc);
		double worst = v[0][0];
		for (unsigned r = 1; r < rounds; r++)
			worst = v[0][r] < worst ? v[0][r] : worst;
		snprintf(kase, sizeof kase, "copy_worst_vs_memcpy_batch%u", b);
		result(kase, worst, "memcpy", mc);
	}
	for (unsigned i = 0; i < 2 * TOTAL; i++)
		pgc_page_put(x.pages[i]);
	for (unsigned i = 0; i < TOTAL; i++)
		pgc_page_put(x.floor[i]);
	pgc_mapping_truncate(m, 0);
	pgc_mapping_destroy(m);
	pgc_cache_destroy(c);
	return 0;
}
