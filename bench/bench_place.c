/*
 * bench_place: placement that follows the accesses (placement.h), in the
 * 4-node qemu VM of scripts/numa-vm.sh (nodes 0 and 1 with a CPU, 2 and 3
 * without: far memory). Two parts, both with one reader pinned to node 1:
 *
 * - locality: a working set of 2048 pages of 4 KiB is read in by a thread
 *   on node 0, so it sits on node 0; the reader on node 1 reads random
 *   pages, a placement step after every round of reads. Printed: the
 *   fraction of the working set on node 1 after each of the first steps
 *   and at the end, by the kernel's answer (pgc_page_kernel_node), and the
 *   cost of a cached 4 KiB pgc_read before and after, each against pread
 *   of the same bytes from the kernel's page cache (a memfd written by the
 *   node-0 thread) in the same phase.
 * - tiering: nodes 0 and 1 hold 1024 pages each, nodes 2 and 3 2048 each;
 *   the working set (3072 pages: 512 hot ones get 90% of the reads) is
 *   larger than node 1's share. Printed: the hot pages on node 1 after
 *   the steps, the pages demoted to nodes 2-3 (kept, not evicted) and
 *   promoted, and the misses of the same reads against a cache without the
 *   far nodes (nodes 0 and 1, the same limits): the misses the far tier
 *   saved. Then the same with PGC_PLACE_EXCHANGE (the tier_exchange_
 *   lines): moves into a full node trade places with a cold page at once.
 *
 *   bench_place [--rounds N] [--reads N]
 *
 * BENCH_PLACE_ROUNDS and BENCH_PLACE_READS in the environment set the same
 * (numa-vm.sh passes the environment, not arguments). Defaults: 30 rounds
 * of 20000 reads. On fewer than 4 nodes (two without CPUs) it says so and
 * prints no RESULT line.
 *
 * Output: RESULT lines as bench/README.md says, and INFO lines with the
 * placement's own counts. In a TCG VM every node's memory is the host's,
 * so the hit cost shows the library's overhead, not remote latency.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "bench_util.h"

#define PS 4096u
#define LOC_PAGES 2048u
#define TIER_PAGES 3072u
#define TIER_HOT 512u

static unsigned rounds = 30, reads = 20000;
static unsigned char *store; /* TIER_PAGES pages: what readpage reads */

static int mem_readpage(pgc_mapping *m, pgc_page *p)
{
	(void)m;
	memcpy(pgc_page_data(p), store + pgc_page_index(p) * PS, PS);
	return 0;
}

static const struct pgc_mapping_ops ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = mem_readpage,
	.migratepage = pgc_migrate_page,
};

static void pin(int node)
{
	if (numa_run_on_node(node) != 0) {
		perror("numa_run_on_node");
		exit(1);
	}
}

static pgc_cache *make_cache(const int *nodes, unsigned nr, const uint64_t *limits,
			     uint64_t capacity)
{
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = capacity;
	cfg.nodes = nodes;
	cfg.nr_nodes = nr;
	cfg.node_pages = limits;
	cfg.nr_node_pages = limits ? nr : 0;
	pgc_cache *c;
	int err = pgc_cache_create(&cfg, &c);
	if (err) {
		fprintf(stderr, "pgc_cache_create: %s\n", pgc_strerror(err));
		exit(1);
	}
	return c;
}

static pgc_mapping *make_mapping(pgc_cache *c, uint64_t pages)
{
	pgc_mapping *m;
	int err = pgc_mapping_create(c, &ops, NULL, pages * PS, &m);
	if (err) {
		fprintf(stderr, "pgc_mapping_create: %s\n", pgc_strerror(err));
		exit(1);
	}
	return m;
}

static void read_in(pgc_mapping *m, uint64_t pages)
{
	static unsigned char buf[PS];
	for (uint64_t i = 0; i < pages; i++)
		if (pgc_read(m, buf, PS, i * PS) != PS) {
			fprintf(stderr, "read of page %llu failed\n", (unsigned long long)i);
			exit(1);
		}
}

/* Pages of [0, n) whose memory the kernel has on node. */
static unsigned on_node(pgc_mapping *m, uint64_t from, uint64_t n, int node)
{
	unsigned k = 0;
	for (uint64_t i = from; i < from + n; i++) {
		pgc_page *p;
		if (pgc_mapping_find(m, i, &p) != 0)
			continue;
		k += pgc_page_kernel_node(p) == node;
		pgc_page_put(p);
	}
	return k;
}

/* ns per random 4 KiB pgc_read (lib) or pread (fd >= 0) over n pages. */
static double hit_ns(pgc_mapping *m, int fd, uint64_t n, uint64_t *seed)
{
	static unsigned char buf[PS];
	unsigned ops_n = reads;
	uint64_t t0 = now_ns();
	for (unsigned i = 0; i < ops_n; i++) {
		uint64_t idx = xorshift64(seed) % n;
		ssize_t r = fd >= 0 ? pread(fd, buf, PS, (off_t)(idx * PS))
				    : pgc_read(m, buf, PS, idx * PS);
		if (r != PS) {
			fprintf(stderr, "read failed\n");
			exit(1);
		}
	}
	return (double)(now_ns() - t0) / ops_n;
}

/* Median of lib and pread over 5 interleaved runs. */
static void hit_pair(pgc_mapping *m, int fd, uint64_t n, uint64_t *seed, double *lib,
		     double *peer)
{
	double a[5], b[5];
	for (int r = 0; r < 5; r++) {
		a[r] = hit_ns(m, -1, n, seed);
		b[r] = hit_ns(NULL, fd, n, seed);
	}
	*lib = median(a, 5);
	*peer = median(b, 5);
}

static void locality(void)
{
	int nodes[4] = {0, 1, 2, 3};
	pgc_cache *c = make_cache(nodes, 4, NULL, 4 * LOC_PAGES);
	pgc_mapping *m = make_mapping(c, LOC_PAGES);
	pin(0);
	read_in(m, LOC_PAGES);
	int fd = memfd_create("bench_place", 0);
	if (fd < 0 || pwrite(fd, store, (size_t)LOC_PAGES * PS, 0) != (ssize_t)LOC_PAGES * PS) {
		perror("memfd");
		exit(1);
	}
	pin(1);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	double lib0, peer0, lib1, peer1;
	hit_pair(m, fd, LOC_PAGES, &seed, &lib0, &peer0);
	unsigned start = on_node(m, 0, LOC_PAGES, 1);
	struct pgc_placement_config cfg;
	pgc_placement_config_init(&cfg);
	cfg.policies = PGC_PLACE_LOCALITY;
	pgc_placement_set(c, &cfg);
	char trail[256] = "";
	unsigned got = start, steps = 0;
	uint64_t t0 = now_ns();
	for (unsigned r = 0; r < rounds; r++) {
		hit_ns(m, -1, LOC_PAGES, &seed);
		pgc_placement_step(c, NULL);
		steps++;
		if (r < 8) {
			got = on_node(m, 0, LOC_PAGES, 1);
			size_t l = strlen(trail);
			snprintf(trail + l, sizeof trail - l, "%s%.0f%%", r ? " " : "",
				 100.0 * got / LOC_PAGES);
		}
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	got = on_node(m, 0, LOC_PAGES, 1);
	hit_pair(m, fd, LOC_PAGES, &seed, &lib1, &peer1);
	struct pgc_placement_stats st = {.size = sizeof(st)};
	pgc_placement_stats(c, &st);
	printf("INFO bench_place locality: %u pages read from node 1; on node 1 (kernel): start "
	       "%.0f%%, after steps 1-8: %s, after %u steps (%.2f s with the reads): %.1f%%; moved "
	       "%llu, refused %llu\n",
	       LOC_PAGES, 100.0 * start / LOC_PAGES, trail, steps, secs, 100.0 * got / LOC_PAGES,
	       (unsigned long long)st.moved, (unsigned long long)st.refused);
	printf("RESULT bench_place locality_hot_on_node1_steps%u lib=%.1f%% peer=no-placement:%.1f%% "
	       "ratio=%.2f\n",
	       steps, 100.0 * got / LOC_PAGES, 100.0 * start / LOC_PAGES,
	       start ? (double)got / start : (double)got);
	printf("RESULT bench_place hit_4k_before lib=%.0fns/op peer=pread:%.0fns/op ratio=%.2f\n",
	       lib0, peer0, peer0 / lib0);
	printf("RESULT bench_place hit_4k_after lib=%.0fns/op peer=pread:%.0fns/op ratio=%.2f\n",
	       lib1, peer1, peer1 / lib1);
	close(fd);
	pgc_mapping_destroy(m);
	pgc_cache_destroy(c);
}

/* Misses of the tiering workload on a cache, with placement (policies) on. */
static uint64_t tier_run(pgc_cache *c, unsigned policies, struct pgc_placement_stats *st,
			 unsigned *hot_on1, unsigned *steps90)
{
	pgc_mapping *m = make_mapping(c, TIER_PAGES);
	pin(0);
	read_in(m, TIER_PAGES);
	pin(1);
	struct pgc_placement_config cfg;
	pgc_placement_config_init(&cfg);
	cfg.policies = policies;
	pgc_placement_set(c, &cfg);
	struct pgc_stats s0 = {.size = sizeof(s0)}, s1 = {.size = sizeof(s1)};
	pgc_cache_stats(c, &s0);
	uint64_t seed = 12345;
	static unsigned char buf[PS];
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < reads; i++) {
			uint64_t x = xorshift64(&seed);
			uint64_t idx = x % 10 ? x / 16 % TIER_HOT
					      : TIER_HOT + x / 16 % (TIER_PAGES - TIER_HOT);
			if (pgc_read(m, buf, PS, idx * PS) != PS) {
				fprintf(stderr, "read failed\n");
				exit(1);
			}
		}
		pgc_placement_step(c, NULL);
		if (!*steps90 && on_node(m, 0, TIER_HOT, 1) >= TIER_HOT * 9 / 10)
			*steps90 = r + 1;
	}
	pgc_cache_stats(c, &s1);
	*hot_on1 = on_node(m, 0, TIER_HOT, 1);
	st->size = sizeof(*st);
	pgc_placement_stats(c, st);
	pgc_mapping_destroy(m);
	return s1.misses - s0.misses;
}

static void tiering(bool exchange)
{
	int all[4] = {0, 1, 2, 3}, near[2] = {0, 1};
	uint64_t lim[4] = {1024, 1024, 2048, 2048};
	pgc_cache *tiered = make_cache(all, 4, lim, 6144);
	struct pgc_placement_stats st;
	unsigned hot1, steps90 = 0, steps90_near = 0;
	const char *sfx = exchange ? "_exchange" : "";
	uint64_t misses = tier_run(tiered,
				   PGC_PLACE_LOCALITY | PGC_PLACE_TIERING |
					   (exchange ? PGC_PLACE_EXCHANGE : 0),
				   &st, &hot1, &steps90);
	pgc_cache_destroy(tiered);
	pgc_cache *nearonly = make_cache(near, 2, lim, 2048);
	struct pgc_placement_stats st2;
	unsigned hot1_near;
	uint64_t misses_near = tier_run(nearonly, PGC_PLACE_LOCALITY, &st2, &hot1_near, &steps90_near);
	pgc_cache_destroy(nearonly);
	uint64_t total = (uint64_t)rounds * reads;
	printf("INFO bench_place tiering%s: %u pages (%u hot, 90%% of %llu reads) from node 1; nodes "
	       "0-1 hold 1024 each, 2-3 2048 each. Hot pages on node 1 (kernel): %u of %u (90%% "
	       "after %u steps); "
	       "moved %llu, demoted %llu (to nodes 2-3, kept), promoted %llu (%llu of the moves by "
	       "exchange), refused %llu. "
	       "Without nodes 2-3: %llu misses, %u hot pages on node 1 (90%% after %u steps)\n",
	       sfx, TIER_PAGES, TIER_HOT, (unsigned long long)total, hot1, TIER_HOT, steps90,
	       (unsigned long long)st.moved, (unsigned long long)st.demoted,
	       (unsigned long long)st.promoted, (unsigned long long)st.exchanged,
	       (unsigned long long)st.refused,
	       (unsigned long long)misses_near, hot1_near, steps90_near);
	printf("RESULT bench_place tier%s_hot_on_node1 lib=%.1f%% peer=near-only:%.1f%% ratio=%.2f\n",
	       sfx, 100.0 * hot1 / TIER_HOT, 100.0 * hot1_near / TIER_HOT,
	       hot1_near ? (double)hot1 / hot1_near : (double)hot1);
	printf("RESULT bench_place tier%s_misses lib=%llumisses peer=near-only:%llumisses ratio=%.2f\n",
	       sfx, (unsigned long long)misses, (unsigned long long)misses_near,
	       (double)(misses_near + 1) / (double)(misses + 1));
	printf("INFO bench_place tiering%s: %llu misses saved, %llu cold pages demoted instead of "
	       "evicted\n",
	       sfx, (unsigned long long)(misses_near > misses ? misses_near - misses : 0),
	       (unsigned long long)st.demoted);
}

int main(int argc, char **argv)
{
	const char *e;
	if ((e = getenv("BENCH_PLACE_ROUNDS")))
		rounds = (unsigned)atoi(e);
	if ((e = getenv("BENCH_PLACE_READS")))
		reads = (unsigned)atoi(e);
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rounds"))
			rounds = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--reads"))
			reads = (unsigned)atoi(argv[i + 1]);
	}
	if (rounds < 1 || rounds > 100000 || reads < 1) {
		fprintf(stderr, "usage: bench_place [--rounds N] [--reads N]\n");
		return 2;
	}
	if (numa_available() < 0 || numa_max_node() < 3 || numa_node_size64(3, NULL) <= 0) {
		printf("bench_place: needs the 4-node VM (nodes 2 and 3 without CPUs); %d node(s) "
		       "here: nothing measured\n",
		       numa_available() < 0 ? 1 : numa_max_node() + 1);
		return 0;
	}
	store = malloc((size_t)TIER_PAGES * PS);
	for (size_t i = 0; i < (size_t)TIER_PAGES * PS / 8; i++) {
		uint64_t v = i * 0x9e3779b97f4a7c15ull;
		memcpy(store + i * 8, &v, 8);
	}
	locality();
	tiering(false);
	tiering(true);
	free(store);
	return 0;
}
