/*
 * Placement that follows the accesses (placement.h), and the page exchange
 * that lets a page move to a full node (PGC_MOVE_EXCHANGE). On one node (the
 * ordinary ctest run) the notes, the steps that find nothing to move, the
 * thread and the statistics are checked; the cases that move pages need
 * two nodes or more and run in the qemu VMs (test_placement_static, with
 * PGC_VM_NODES set: there the suite fails rather than leave them out).
 * Where a page is, is asked of the kernel (pgc_page_kernel_node(), which
 * is move_pages(2) on the data's address), and bytes are checked against
 * what was written.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu */
#endif
#include "pgc_test.h"
#include "pgc_tstore.h"

#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <pgcache/migrate.h>
#include <pgcache/placement.h>

#define ST_PAGES 1024

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int nr_nodes(void)
{
	return numa_available() < 0 ? 1 : numa_max_node() + 1;
}

static void pin(int node)
{
	if (numa_available() >= 0)
		ck_assert_int_eq(numa_run_on_node(node), 0);
}

static int here(void)
{
	return numa_available() < 0 ? 0 : numa_node_of_cpu(sched_getcpu());
}

struct fx {
	pgc_cache *cache;
	pgc_mapping *m;
	struct tstore s;
	size_t ps;
	struct pgc_mapping_ops ops;
};

/* A cache on nodes (NULL: all), limits per node (NULL: none), pages loaded by a thread on load_node. */
static void fx_init(struct fx *f, uint64_t capacity, const int *nodes, unsigned nr,
		    const uint64_t *limits)
{
	memset(f, 0, sizeof(*f));
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = capacity;
	cfg.nodes = nodes;
	cfg.nr_nodes = nodes ? nr : 0;
	cfg.node_pages = limits;
	cfg.nr_node_pages = limits ? nr : 0;
	ck_assert_int_eq(pgc_cache_create(&cfg, &f->cache), 0);
	f->ps = pgc_cache_page_size(f->cache);
	f->s.ps = f->ps;
	f->s.data = calloc(ST_PAGES, f->ps);
	f->ops = (struct pgc_mapping_ops){.size = sizeof(f->ops), .readpage = ts_readpage,
					  .writepage = ts_writepage,
					  .migratepage = pgc_migrate_page};
	ck_assert_int_eq(pgc_mapping_create(f->cache, &f->ops, &f->s, ST_PAGES * f->ps, &f->m), 0);
}

static void fx_fini(struct fx *f)
{
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(pgc_mapping_truncate(f->m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	free(f->s.data);
}

/* Every 8 bytes of page idx hold (idx << 32) | v. */
static void fill(unsigned char *b, size_t ps, uint64_t idx, uint32_t v)
{
	uint64_t w = (idx << 32) | v;
	for (size_t k = 0; k < ps; k += 8)
		memcpy(b + k, &w, 8);
}

/* The version of a page read whole, or -1 if its words disagree or name another page. */
static int64_t version_of(const unsigned char *b, size_t ps, uint64_t idx)
{
	uint64_t w0;
	memcpy(&w0, b, 8);
	for (size_t k = 8; k < ps; k += 8)
		if (memcmp(b + k, &w0, 8) != 0)
			return -1;
	return (w0 >> 32) == idx ? (int64_t)(uint32_t)w0 : -1;
}

/* Pages [from, from + n) read whole, each of version v. */
static void check_versions(struct fx *f, uint64_t from, uint64_t n, int v)
{
	unsigned char *b = malloc(f->ps);
	for (uint64_t i = from; i < from + n; i++) {
		ck_assert_int_eq(pgc_read(f->m, b, f->ps, i * f->ps), (ssize_t)f->ps);
		ck_assert_int_eq(version_of(b, f->ps, i), v);
	}
	free(b);
}

static void write_all(struct fx *f, uint64_t from, uint64_t n, uint32_t v)
{
	unsigned char *b = malloc(f->ps);
	for (uint64_t i = from; i < from + n; i++) {
		fill(b, f->ps, i, v);
		ck_assert_int_eq(pgc_write(f->m, b, f->ps, i * f->ps, 0), (ssize_t)f->ps);
	}
	free(b);
}

static void read_all(struct fx *f, uint64_t from, uint64_t n)
{
	unsigned char *b = malloc(f->ps);
	for (uint64_t i = from; i < from + n; i++)
		ck_assert_int_eq(pgc_read(f->m, b, f->ps, i * f->ps), (ssize_t)f->ps);
	free(b);
}

/* The node the kernel has page idx's memory on, checked against the library's record. */
static int node_of(struct fx *f, uint64_t idx)
{
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find(f->m, idx, &p), 0);
	int k = pgc_page_kernel_node(p);
	ck_assert_int_eq(k, pgc_page_node(p));
	pgc_page_put(p);
	return k;
}

static unsigned count_on(struct fx *f, uint64_t from, uint64_t n, int node)
{
	unsigned c = 0;
	for (uint64_t i = from; i < from + n; i++)
		c += node_of(f, i) == node;
	return c;
}

static void set_policy(struct fx *f, unsigned policies, void (*edit)(struct pgc_placement_config *))
{
	struct pgc_placement_config cfg;
	pgc_placement_config_init(&cfg);
	cfg.policies = policies;
	if (edit)
		edit(&cfg);
	ck_assert_int_eq(pgc_placement_set(f->cache, &cfg), 0);
}

static struct pgc_placement_stats pstats(struct fx *f)
{
	struct pgc_placement_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_placement_stats(f->cache, &st), 0);
	return st;
}

static uint64_t mig_succeeded(struct fx *f, int reason)
{
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	ck_assert_int_eq(pgc_cache_migrate_stats(f->cache, reason, &st), 0);
	return st.succeeded;
}

/* ---- on any machine ---------------------------------------------------- */

START_TEST(notes_follow_the_caller)
{
	pin(0);
	struct fx f;
	fx_init(&f, 256, NULL, 0, NULL);
	write_all(&f, 0, 3, 0);
	pgc_page *p;
	/* Off: no note. */
	read_all(&f, 0, 1);
	ck_assert_int_eq(pgc_mapping_find(f.m, 0, &p), 0);
	ck_assert_int_eq(pgc_page_access_node(p), -1);
	pgc_page_put(p);
	/* On: the node of the CPU that hit the page. */
	set_policy(&f, PGC_PLACE_LOCALITY, NULL);
	read_all(&f, 1, 1);
	ck_assert_int_eq(pgc_mapping_find(f.m, 1, &p), 0);
	ck_assert_int_eq(pgc_page_access_node(p), here());
	pgc_page_put(p);
	/* Off again: page 2 gets none. */
	ck_assert_int_eq(pgc_placement_set(f.cache, NULL), 0);
	ck_assert_int_eq(pgc_placement_step(f.cache, NULL), -ENOENT);
	read_all(&f, 2, 1);
	ck_assert_int_eq(pgc_mapping_find(f.m, 2, &p), 0);
	ck_assert_int_eq(pgc_page_access_node(p), -1);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

START_TEST(steps_with_one_node_move_nothing)
{
	pin(0);
	int node = here();
	struct fx f;
	fx_init(&f, 512, &node, 1, NULL);
	write_all(&f, 0, 300, 1);
	set_policy(&f, PGC_PLACE_LOCALITY | PGC_PLACE_TIERING, NULL);
	read_all(&f, 0, 300);
	for (int i = 0; i < 10; i++) {
		struct pgc_placement_stats st = {.size = sizeof(st)};
		ck_assert_int_eq(pgc_placement_step(f.cache, &st), 0);
		ck_assert_uint_eq(st.steps, 1);
		ck_assert_uint_eq(st.moved + st.promoted + st.demoted + st.refused, 0);
	}
	struct pgc_placement_stats t = pstats(&f);
	ck_assert_uint_eq(t.steps, 10);
	ck_assert_uint_eq(t.moved + t.promoted + t.demoted + t.bytes, 0);
	ck_assert_uint_eq(mig_succeeded(&f, PGC_MR_NUMA_MISPLACED), 0);
	/* Every page stays, with its bytes. */
	check_versions(&f, 0, 300, 1);
	fx_fini(&f);
}
END_TEST

static void fast_interval(struct pgc_placement_config *k)
{
	k->interval_ms = 5;
}

static void *stop_thread(void *arg)
{
	return (void *)(intptr_t)pgc_placement_stop(arg);
}

START_TEST(thread_starts_and_stops)
{
	struct fx f;
	fx_init(&f, 256, NULL, 0, NULL);
	ck_assert_int_eq(pgc_placement_start(f.cache), -ENOENT);
	ck_assert_int_eq(pgc_placement_stop(f.cache), -ESRCH);
	set_policy(&f, PGC_PLACE_LOCALITY, fast_interval);
	ck_assert_int_eq(pgc_placement_start(f.cache), 0);
	ck_assert_int_eq(pgc_placement_start(f.cache), -EALREADY);
	/* Steps happen without the caller. */
	for (int i = 0; i < 400 && pstats(&f).steps < 3; i++)
		usleep(5000);
	ck_assert_uint_ge(pstats(&f).steps, 3);
	ck_assert_int_eq(pgc_placement_stop(f.cache), 0);
	ck_assert_int_eq(pgc_placement_stop(f.cache), -ESRCH);
	uint64_t steps = pstats(&f).steps;
	usleep(30000);
	ck_assert_uint_eq(pstats(&f).steps, steps);
	/* Two stops at once: one joins the thread, the other waits and gets -ESRCH. */
	for (int round = 0; round < 20; round++) {
		ck_assert_int_eq(pgc_placement_start(f.cache), 0);
		pthread_t t;
		ck_assert_int_eq(pthread_create(&t, NULL, stop_thread, f.cache), 0);
		int mine = pgc_placement_stop(f.cache);
		void *theirs;
		pthread_join(t, &theirs);
		int other = (int)(intptr_t)theirs;
		ck_assert_msg((mine == 0 && other == -ESRCH) || (mine == -ESRCH && other == 0),
			      "stops returned %d and %d", mine, other);
	}
	/* Started again, and left running: destroying the cache stops it. */
	ck_assert_int_eq(pgc_placement_start(f.cache), 0);
	write_all(&f, 0, 16, 0);
	read_all(&f, 0, 16);
	fx_fini(&f);
}
END_TEST

/* ---- on two nodes or more ---------------------------------------------- */

enum { LOC_PAGES = 512 };

struct io_race {
	struct fx *f;
	int node;
	uint64_t seed;
	_Atomic uint32_t version[LOC_PAGES];
	atomic_bool stop;
	atomic_ulong reads, writes;
	struct pgc_tfail fail;
};

static void *loc_reader(void *arg)
{
	struct io_race *r = arg;
	pin(r->node);
	struct pgc_rng rng = {r->seed};
	unsigned char *b = malloc(r->f->ps);
	while (!atomic_load(&r->stop) && !atomic_load(&r->fail.failed)) {
		uint64_t idx = pgc_rng_below(&rng, LOC_PAGES);
		uint32_t before = atomic_load(&r->version[idx]);
		ssize_t n = pgc_read(r->f->m, b, r->f->ps, idx * r->f->ps);
		if (!TCHECK(&r->fail, n == (ssize_t)r->f->ps, "read of %" PRIu64 " = %zd", idx, n))
			break;
		int64_t v = version_of(b, r->f->ps, idx);
		uint32_t after = atomic_load(&r->version[idx]);
		/* A whole version that was current at some time of the read. */
		TCHECK(&r->fail, v >= (int64_t)before && v <= (int64_t)after + 1,
		       "page %" PRIu64 ": version %" PRId64 " outside [%u, %u]", idx, v, before,
		       after + 1);
		atomic_fetch_add(&r->reads, 1);
	}
	free(b);
	return NULL;
}

static void *loc_writer(void *arg)
{
	struct io_race *r = arg;
	pin(r->node);
	struct pgc_rng rng = {r->seed ^ 0x5bd1e995};
	unsigned char *b = malloc(r->f->ps);
	while (!atomic_load(&r->stop) && !atomic_load(&r->fail.failed)) {
		/* One writer: it alone changes the versions. */
		uint64_t idx = pgc_rng_below(&rng, LOC_PAGES);
		uint32_t v = atomic_load(&r->version[idx]) + 1;
		fill(b, r->f->ps, idx, v);
		ssize_t n = pgc_write(r->f->m, b, r->f->ps, idx * r->f->ps, 0);
		if (!TCHECK(&r->fail, n == (ssize_t)r->f->ps, "write = %zd", n))
			break;
		atomic_store(&r->version[idx], v);
		atomic_fetch_add(&r->writes, 1);
		usleep(200);
	}
	free(b);
	return NULL;
}

static void locality_knobs(struct pgc_placement_config *k)
{
	k->max_moves = 128;
	k->scan_pages = 2048;
}

START_TEST(locality_converges_under_reads_and_writes)
{
	pin(0);
	struct fx f;
	fx_init(&f, 2048, NULL, 0, NULL);
	write_all(&f, 0, LOC_PAGES, 0);
	ck_assert_uint_eq(count_on(&f, 0, LOC_PAGES, 0), LOC_PAGES);
	set_policy(&f, PGC_PLACE_LOCALITY, locality_knobs);
	struct io_race *r = calloc(1, sizeof(*r));
	r->f = &f;
	r->node = 1;
	r->seed = pgc_test_seed_for("placement_locality");
	printf("placement: locality seed %" PRIu64 "\n", r->seed);
	pthread_t th[2];
	ck_assert_int_eq(pthread_create(&th[0], NULL, loc_reader, r), 0);
	ck_assert_int_eq(pthread_create(&th[1], NULL, loc_writer, r), 0);
	/* The steps and the counts from node 1 too, so that this thread's
	 * lookups note the same node as the readers'. */
	pin(1);
	unsigned on1 = 0, steps = 0;
	for (; steps < 300 && !atomic_load(&r->fail.failed); steps++) {
		usleep(20000);
		ck_assert_int_ge(pgc_placement_step(f.cache, NULL), 0);
		if (steps % 10 == 9 && (on1 = count_on(&f, 0, LOC_PAGES, 1)) >= LOC_PAGES * 95 / 100)
			break;
	}
	atomic_store(&r->stop, true);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&r->fail);
	on1 = count_on(&f, 0, LOC_PAGES, 1);
	struct pgc_placement_stats t = pstats(&f);
	printf("placement: %u of %u pages on node 1 after %u steps (%lu reads, %lu writes); "
	       "moved %" PRIu64 ", refused %" PRIu64 "\n",
	       on1, LOC_PAGES, steps + 1, atomic_load(&r->reads), atomic_load(&r->writes), t.moved,
	       t.refused);
	ck_assert_uint_ge(on1, LOC_PAGES * 9 / 10);
	ck_assert_uint_ge(t.moved, on1);
	ck_assert_uint_eq(t.moved, mig_succeeded(&f, PGC_MR_NUMA_MISPLACED));
	ck_assert_uint_eq(t.bytes, t.moved * f.ps);
	/* Every byte is the last version written. */
	unsigned char *b = malloc(f.ps);
	for (uint64_t i = 0; i < LOC_PAGES; i++) {
		ck_assert_int_eq(pgc_read(f.m, b, f.ps, i * f.ps), (ssize_t)f.ps);
		ck_assert_int_eq(version_of(b, f.ps, i), atomic_load(&r->version[i]));
	}
	free(b);
	free(r);
	fx_fini(&f);
}
END_TEST

/*
 * The fast node F fills with cold pages, the hot ones land on the slow
 * tier; steps demote the cold and promote the hot. On 4 nodes the tiers
 * are the default (nodes 2 and 3 have no CPU); on 2 the caller names
 * node 1 the slower tier.
 */
static int tiers_2node[2] = {0, 1};
static void tier_knobs(struct pgc_placement_config *k)
{
	k->hot_steps = 1;
	k->cold_steps = 3;
	k->min_samples = 1;
	k->min_hits = 1;
	k->max_moves = 64;
	if (nr_nodes() < 4) {
		k->tiers = tiers_2node;
		k->nr_tiers = 2;
	}
}

enum { COLD = 128, HOT = 96 };

static void tiers(unsigned extra)
{
	bool four = nr_nodes() >= 4;
	int fast = four ? 1 : 0;
	int nodes4[3] = {1, 2, 3}, nodes2[2] = {0, 1};
	uint64_t lim4[3] = {COLD, 512, 512}, lim2[2] = {COLD, 1024};
	pin(fast);
	struct fx f;
	fx_init(&f, COLD + 1024, four ? nodes4 : nodes2, four ? 3 : 2, four ? lim4 : lim2);
	write_all(&f, 0, COLD, 7);
	ck_assert_uint_eq(count_on(&f, 0, COLD, fast), COLD);
	/* The fast node is full: the hot pages go to the slower tier. */
	write_all(&f, COLD, HOT, 9);
	ck_assert_uint_eq(count_on(&f, COLD, HOT, fast), 0);
	set_policy(&f, PGC_PLACE_TIERING | extra, tier_knobs);
	unsigned steps = 0, hot_fast = 0;
	for (; steps < 100; steps++) {
		read_all(&f, COLD, HOT);
		ck_assert_int_ge(pgc_placement_step(f.cache, NULL), 0);
		if ((hot_fast = count_on(&f, COLD, HOT, fast)) >= HOT * 95 / 100)
			break;
	}
	struct pgc_placement_stats t = pstats(&f);
	unsigned cold_fast = count_on(&f, 0, COLD, fast);
	printf("placement: %u nodes%s: %u of %u hot pages on node %d after %u steps; %u of %u cold "
	       "left there; demoted %" PRIu64 ", promoted %" PRIu64 " (%" PRIu64
	       " by exchange), refused %" PRIu64 "\n",
	       nr_nodes(), extra ? ", exchange" : "", hot_fast, HOT, fast, steps + 1, cold_fast, COLD,
	       t.demoted, t.promoted, t.exchanged, t.refused);
	ck_assert_uint_ge(hot_fast, HOT * 9 / 10);
	ck_assert_uint_ge(t.promoted, hot_fast);
	/* Every cold page that left the fast node was demoted or traded
	 * places with a hot one. */
	ck_assert_uint_eq(t.demoted + t.exchanged, COLD - cold_fast);
	if (!extra)
		ck_assert_uint_eq(t.exchanged, 0);
	ck_assert_uint_eq(t.moved, 0);
	ck_assert_uint_eq(t.demoted, mig_succeeded(&f, PGC_MR_DEMOTION));
	ck_assert_uint_eq(t.promoted, mig_succeeded(&f, PGC_MR_PROMOTION));
	/* Demoted, not evicted: every page still cached, with its bytes, and
	 * the cold ones that left the fast node are on the slower tier. */
	struct pgc_stats cs = {.size = sizeof(cs)};
	ck_assert_int_eq(pgc_cache_stats(f.cache, &cs), 0);
	ck_assert_uint_eq(cs.evictions, 0);
	for (uint64_t i = 0; i < COLD + HOT; i++) {
		pgc_page *p;
		ck_assert_int_eq(pgc_mapping_find(f.m, i, &p), 0);
		int k = pgc_page_kernel_node(p);
		ck_assert(i >= COLD || k == fast || (four ? k == 2 || k == 3 : k == 1));
		ck_assert_int_eq(version_of(pgc_page_data(p), f.ps, i), i < COLD ? 7 : 9);
		pgc_page_put(p);
	}
	fx_fini(&f);
}

START_TEST(tiers_demote_cold_and_promote_hot)
{
	tiers(0);
}
END_TEST

START_TEST(tiers_exchange_cold_for_hot)
{
	tiers(PGC_PLACE_EXCHANGE);
}
END_TEST

static void one_sample(struct pgc_placement_config *k)
{
	k->min_samples = 1;
	k->min_hits = 1;
}

enum { HELD = 64 };

START_TEST(never_moves_pinned_locked_or_writeback)
{
	pin(0);
	struct fx f;
	fx_init(&f, 1024, NULL, 0, NULL);
	write_all(&f, 0, HELD, 3);
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	set_policy(&f, PGC_PLACE_LOCALITY, one_sample);
	pin(1);
	/* Page 0 pinned by a holder, page 1 locked, page 2 under writeback. */
	pgc_page *pinned, *locked, *wb;
	ck_assert_int_eq(pgc_mapping_find(f.m, 0, &pinned), 0);
	ck_assert_int_eq(pgc_mapping_find(f.m, 1, &locked), 0);
	ck_assert_int_eq(pgc_page_lock(locked), 0);
	ck_assert_int_eq(pgc_mapping_find(f.m, 2, &wb), 0);
	ck_assert_int_eq(pgc_page_lock(wb), 0);
	ck_assert_int_eq(pgc_page_set_dirty(wb), 1);
	ck_assert_int_eq(pgc_page_clear_dirty_for_io(wb), 1);
	ck_assert_int_eq(pgc_page_start_writeback(wb), 0);
	ck_assert_int_eq(pgc_page_unlock(wb), 0);
	for (int i = 0; i < 8; i++) {
		read_all(&f, 3, HELD - 3);
		for (uint64_t k = 0; k < 3; k++) {
			pgc_page *p = k == 0 ? pinned : k == 1 ? locked : wb;
			pgc_page_mark_accessed(p);
		}
		ck_assert_int_ge(pgc_placement_step(f.cache, NULL), 0);
	}
	ck_assert_int_eq(pgc_page_kernel_node(pinned), 0);
	ck_assert_int_eq(pgc_page_kernel_node(locked), 0);
	ck_assert_int_eq(pgc_page_kernel_node(wb), 0);
	ck_assert_uint_eq(count_on(&f, 3, HELD - 3, 1), HELD - 3);
	ck_assert_uint_ge(pstats(&f).refused, 3);
	/* Let go, they follow. */
	pgc_page_put(pinned);
	ck_assert_int_eq(pgc_page_unlock(locked), 0);
	pgc_page_put(locked);
	ck_assert_int_eq(pgc_page_end_writeback(wb), 0);
	pgc_page_put(wb);
	for (int i = 0; i < 8 && count_on(&f, 0, 3, 1) < 3; i++) {
		read_all(&f, 0, 3);
		ck_assert_int_ge(pgc_placement_step(f.cache, NULL), 0);
	}
	ck_assert_uint_eq(count_on(&f, 0, HELD, 1), HELD);
	check_versions(&f, 0, HELD, 3);
	fx_fini(&f);
}
END_TEST

static void rate_200(struct pgc_placement_config *k)
{
	k->rate_pages = 200;
	k->min_samples = 1;
	k->min_hits = 1;
}

START_TEST(rate_limit_bounds_moves)
{
	pin(0);
	struct fx f;
	fx_init(&f, 2048, NULL, 0, NULL);
	write_all(&f, 0, ST_PAGES, 1);
	set_policy(&f, PGC_PLACE_LOCALITY, rate_200);
	pin(1);
	read_all(&f, 0, ST_PAGES);
	uint64_t t0 = now_ns();
	for (int i = 0; i < 5; i++)
		ck_assert_int_ge(pgc_placement_step(f.cache, NULL), 0);
	double secs = (double)(now_ns() - t0) / 1e9;
	struct pgc_placement_stats t = pstats(&f);
	printf("placement: %" PRIu64 " pages moved in %.3f s at 200 pages/s, %" PRIu64
	       " deferred\n", t.moved, secs, t.deferred);
	ck_assert_uint_gt(t.moved, 0);
	ck_assert_uint_le(t.moved, 200 + (uint64_t)(200 * secs) + 1);
	ck_assert_uint_gt(t.deferred, 0);
	fx_fini(&f);
}
END_TEST

/* ---- exchange on a full node (PGC_MOVE_EXCHANGE) ----------------------- */

enum { XN = 64 };

static uint64_t resident(struct fx *f, int node)
{
	struct pgc_node_stats ns = {.size = sizeof(ns)};
	ck_assert_int_eq(pgc_cache_node_stats(f->cache, node, &ns), 0);
	return ns.resident;
}

START_TEST(exchange_on_a_full_node_keeps_both_pages)
{
	int nodes[2] = {0, 1};
	uint64_t lim[2] = {XN, XN};
	pin(0);
	struct fx f;
	fx_init(&f, 2 * XN, nodes, 2, lim);
	write_all(&f, 0, XN, 1);
	pin(1);
	write_all(&f, XN, XN, 2);
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	/* Page 70, on node 1, is dirty: it moves with its dirt. */
	unsigned char *b = malloc(f.ps);
	fill(b, f.ps, XN + 6, 5);
	ck_assert_int_eq(pgc_write(f.m, b, f.ps, (XN + 6) * f.ps, 0), (ssize_t)f.ps);
	pin(0);
	ck_assert_uint_eq(count_on(&f, 0, XN, 0), XN);
	ck_assert_uint_eq(count_on(&f, XN, XN, 1), XN);
	/* Both nodes at their limit: pages 0-15 go to node 1 by exchange. */
	enum { M = 16 };
	pgc_page *pages[M];
	int to[M], st[M];
	for (unsigned i = 0; i < M; i++) {
		ck_assert_int_eq(pgc_mapping_find(f.m, i, &pages[i]), 0);
		to[i] = 1;
	}
	long left = pgc_move_pages(f.cache, M, pages, to, st, PGC_MOVE_EXCHANGE);
	for (unsigned i = 0; i < M; i++) {
		ck_assert_msg(st[i] == 1, "page %u: status %d (%ld not moved)", i, st[i], left);
		ck_assert_uint_eq(pgc_page_index(pages[i]), i);
		ck_assert_int_eq(pgc_page_kernel_node(pages[i]), 1);
		pgc_page_put(pages[i]);
	}
	struct pgc_stats cs = {.size = sizeof(cs)};
	ck_assert_int_eq(pgc_cache_stats(f.cache, &cs), 0);
	printf("placement: exchange: %" PRIu64 " evictions, node 0 %" PRIu64 " pages, node 1 %" PRIu64
	       "\n", cs.evictions, resident(&f, 0), resident(&f, 1));
	/* Nothing evicted, both nodes still at their limit, 16 of node 1's
	 * cold pages now on node 0, every byte where it belongs. */
	ck_assert_uint_eq(cs.evictions, 0);
	ck_assert_uint_eq(pgc_mapping_nr_pages(f.m), 2 * XN);
	ck_assert_uint_eq(resident(&f, 0), XN);
	ck_assert_uint_eq(resident(&f, 1), XN);
	ck_assert_uint_eq(count_on(&f, 0, M, 1), M);
	ck_assert_uint_eq(count_on(&f, XN, XN, 0), M);
	check_versions(&f, 0, XN, 1);
	check_versions(&f, XN, 6, 2);
	check_versions(&f, XN + 7, XN - 7, 2);
	check_versions(&f, XN + 6, 1, 5);
	char why[256];
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof why) == 0, "%s", why);
	/* The dirty page, wherever it is now, reaches the store. */
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(version_of(f.s.data + (XN + 6) * f.ps, f.ps, XN + 6), 5);
	/* Back again, without waiting, dirty this time on the moved side. */
	fill(b, f.ps, 3, 6);
	ck_assert_int_eq(pgc_write(f.m, b, f.ps, 3 * f.ps, 0), (ssize_t)f.ps);
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find(f.m, 3, &p), 0);
	int home = 0, s1;
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &home, &s1,
					PGC_MOVE_EXCHANGE | PGC_MOVE_ASYNC), 0);
	ck_assert_int_eq(s1, 0);
	ck_assert_int_eq(pgc_page_kernel_node(p), 0);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_int_eq(version_of(f.s.data + 3 * f.ps, f.ps, 3), 6);
	check_versions(&f, 3, 1, 6);
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof why) == 0, "%s", why);
	/* Without the flag, a full node with clean pages evicts one instead. */
	ck_assert_int_eq(pgc_mapping_find(f.m, 20, &p), 0);
	int one = 1;
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &one, &s1, 0), 0);
	ck_assert_int_eq(s1, 1);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_cache_stats(f.cache, &cs), 0);
	ck_assert_uint_ge(cs.evictions, 1); /* reclaim frees a small batch */
	free(b);
	fx_fini(&f);
}
END_TEST

struct xrace {
	struct fx *f;
	atomic_bool stop;
	atomic_ulong reads;
	struct pgc_tfail fail;
	uint64_t seed;
};

static void *xrace_reader(void *arg)
{
	struct xrace *r = arg;
	pin(1);
	struct pgc_rng rng = {r->seed};
	unsigned char *b = malloc(r->f->ps);
	while (!atomic_load(&r->stop) && !atomic_load(&r->fail.failed)) {
		uint64_t idx = pgc_rng_below(&rng, 2 * XN);
		ssize_t n = pgc_read(r->f->m, b, r->f->ps, idx * r->f->ps);
		if (!TCHECK(&r->fail, n == (ssize_t)r->f->ps, "read = %zd", n))
			break;
		int64_t v = version_of(b, r->f->ps, idx);
		TCHECK(&r->fail, v == (idx < XN ? 1 : 2), "page %" PRIu64 ": version %" PRId64, idx, v);
		atomic_fetch_add(&r->reads, 1);
	}
	free(b);
	return NULL;
}

/* Readers on every page while pages are exchanged back and forth between two full nodes. */
START_TEST(exchange_races_readers)
{
	int nodes[2] = {0, 1};
	uint64_t lim[2] = {XN, XN};
	pin(0);
	struct fx f;
	fx_init(&f, 2 * XN, nodes, 2, lim);
	write_all(&f, 0, XN, 1);
	pin(1);
	write_all(&f, XN, XN, 2);
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	struct xrace *r = calloc(1, sizeof(*r));
	r->f = &f;
	r->seed = pgc_test_seed_for("placement_exchange_race");
	printf("placement: exchange race seed %" PRIu64 "\n", r->seed);
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, xrace_reader, r), 0);
	pin(0);
	struct pgc_rng rng = {r->seed ^ 99};
	unsigned rounds = (unsigned)pgc_test_scaled(200, 20), exchanged = 0, busy = 0, full = 0;
	for (unsigned round = 0; round < rounds && !atomic_load(&r->fail.failed); round++) {
		enum { K = 8 };
		pgc_page *pages[K];
		int to[K], st[K];
		for (unsigned i = 0; i < K; i++) {
			uint64_t idx = pgc_rng_below(&rng, 2 * XN);
			ck_assert_int_eq(pgc_mapping_find(f.m, idx, &pages[i]), 0);
			to[i] = 1 - pgc_page_node(pages[i]);
		}
		unsigned flags = PGC_MOVE_EXCHANGE | (round % 2 ? PGC_MOVE_ASYNC : 0);
		ck_assert_int_ge(pgc_move_pages(f.cache, K, pages, to, st, flags), 0);
		for (unsigned i = 0; i < K; i++) {
			/* The same page twice in a call: its second move finds it
			 * there. -ENOMEM: the partners looked at were all held
			 * (by this thread's own array, say) or locked. */
			ck_assert_msg(st[i] == to[i] || st[i] == -EBUSY || st[i] == -ENOMEM ||
					      st[i] == 1 - to[i],
				      "status %d", st[i]);
			exchanged += st[i] == to[i];
			busy += st[i] == -EBUSY;
			full += st[i] == -ENOMEM;
			pgc_page_put(pages[i]);
		}
	}
	atomic_store(&r->stop, true);
	pthread_join(th, NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&r->fail);
	printf("placement: %u pages exchanged in %u rounds of 8, %u busy, %u without a partner, "
	       "%lu reads checked\n",
	       exchanged, rounds, busy, full, atomic_load(&r->reads));
	ck_assert_uint_gt(exchanged, rounds);
	ck_assert_uint_lt(full * 20, rounds * 8);
	ck_assert_uint_eq(resident(&f, 0), XN);
	ck_assert_uint_eq(resident(&f, 1), XN);
	check_versions(&f, 0, XN, 1);
	check_versions(&f, XN, XN, 2);
	for (uint64_t i = 0; i < 2 * XN; i++)
		node_of(&f, i);
	char why[256];
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof why) == 0, "%s", why);
	free(r);
	fx_fini(&f);
}
END_TEST

/* A mapping whose pages must never move (pgc_fail_migrate_page) is never a partner. */
START_TEST(exchange_respects_the_owner)
{
	int nodes[2] = {0, 1};
	uint64_t lim[2] = {XN, XN};
	pin(0);
	struct fx f;
	fx_init(&f, 2 * XN, nodes, 2, lim);
	write_all(&f, 0, XN, 1);
	struct tstore s2 = {.ps = f.ps, .data = calloc(XN, f.ps)};
	struct pgc_mapping_ops ops2 = f.ops;
	ops2.migratepage = pgc_fail_migrate_page;
	pgc_mapping *m2;
	ck_assert_int_eq(pgc_mapping_create(f.cache, &ops2, &s2, XN * f.ps, &m2), 0);
	pin(1);
	unsigned char *b = malloc(f.ps);
	for (uint64_t i = 0; i < XN; i++) {
		fill(b, f.ps, i, 8);
		ck_assert_int_eq(pgc_write(m2, b, f.ps, i * f.ps, 0), (ssize_t)f.ps);
	}
	ck_assert_int_eq(pgc_mapping_writeback(m2, 0, UINT64_MAX, PGC_WB_ALL), 0);
	pin(0);
	pgc_page *p;
	int one = 1, zero = 0, st;
	ck_assert_int_eq(pgc_mapping_find(f.m, 0, &p), 0);
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &one, &st, PGC_MOVE_EXCHANGE), 1);
	ck_assert_int_eq(st, -ENOMEM);
	ck_assert_int_eq(pgc_page_kernel_node(p), 0);
	pgc_page_put(p);
	ck_assert_int_eq(pgc_mapping_find(m2, 0, &p), 0);
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &zero, &st, PGC_MOVE_EXCHANGE), 1);
	ck_assert_int_eq(st, -EBUSY);
	ck_assert_int_eq(pgc_page_kernel_node(p), 1);
	pgc_page_put(p);
	struct pgc_stats cs = {.size = sizeof(cs)};
	ck_assert_int_eq(pgc_cache_stats(f.cache, &cs), 0);
	ck_assert_uint_eq(cs.evictions, 0);
	check_versions(&f, 0, XN, 1);
	for (uint64_t i = 0; i < XN; i++) {
		ck_assert_int_eq(pgc_read(m2, b, f.ps, i * f.ps), (ssize_t)f.ps);
		ck_assert_int_eq(version_of(b, f.ps, i), 8);
	}
	free(b);
	ck_assert_int_eq(pgc_mapping_truncate(m2, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m2), 0);
	free(s2.data);
	fx_fini(&f);
}
END_TEST

START_TEST(vm_has_the_nodes_it_was_given)
{
	const char *want = getenv("PGC_VM_NODES");
	ck_assert_msg(want, "only added in the VMs");
	ck_assert_int_eq(nr_nodes(), atoi(want));
}
END_TEST

static Suite *placement_suite(void)
{
	Suite *s = suite_create("placement");
	PGC_ADD(s, notes_follow_the_caller, 60);
	PGC_ADD(s, steps_with_one_node_move_nothing, 60);
	PGC_ADD(s, thread_starts_and_stops, 60);
	/* In the VMs the multi-node cases must run: a VM with one node fails. */
	if (getenv("PGC_VM_NODES"))
		PGC_ADD(s, vm_has_the_nodes_it_was_given, 60);
	if (nr_nodes() >= 2) {
		PGC_ADD(s, locality_converges_under_reads_and_writes, 600);
		PGC_ADD(s, tiers_demote_cold_and_promote_hot, 600);
		PGC_ADD(s, tiers_exchange_cold_for_hot, 600);
		PGC_ADD(s, never_moves_pinned_locked_or_writeback, 600);
		PGC_ADD(s, rate_limit_bounds_moves, 600);
		PGC_ADD(s, exchange_on_a_full_node_keeps_both_pages, 600);
		PGC_ADD(s, exchange_races_readers, 600);
		PGC_ADD(s, exchange_respects_the_owner, 600);
	} else {
		printf("placement: one node here: the cases that move pages run in the VMs\n");
	}
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, placement_suite());
}
