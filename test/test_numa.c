/*
 * The migration engine on real NUMA nodes. This suite needs a machine with
 * two nodes or more: CI runs it, linked statically, inside qemu VMs with 2
 * and 4 emulated nodes (scripts/numa-vm.sh). Placement is checked
 * independently of the library, with move_pages(2) on the data's address
 * and no target nodes, and data is checked against the store.
 */
#include "pgc_test.h"
#include "pgc_tstore.h"

#include <numa.h>
#include <numaif.h>

#include <pgcache/migrate.h>

static int nr_nodes(void)
{
	return numa_available() < 0 ? 1 : numa_max_node() + 1;
}

/* Where the kernel has the memory at addr (not asking the library). */
static int kernel_node(const void *addr)
{
	void *a = (void *)addr;
	int st = -1;
	ck_assert_int_eq(move_pages(0, 1, &a, NULL, &st, 0), 0);
	return st;
}

/* ---- the store (pgc_tstore.h) --------------------------------------------- */

#define ST_PAGES 512

struct fx {
	pgc_cache *cache;
	pgc_mapping *m;
	struct tstore s;
	size_t ps;
	struct pgc_mapping_ops ops;
};

/* A cache on nodes (NULL: all) with per-node limits (NULL: none). */
static void fx_init_nodes(struct fx *f, uint64_t capacity, bool migratepage, const int *nodes,
			  unsigned nr, const uint64_t *limits)
{
	memset(f, 0, sizeof(*f));
	/* Pages read in by this thread land on node 0, so a move to node 1 is
	 * a move (not "already there"). */
	ck_assert_int_eq(numa_run_on_node(0), 0);
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
	f->s.data = malloc(ST_PAGES * f->ps);
	for (size_t i = 0; i < ST_PAGES * f->ps / 8; i++) {
		uint64_t v = i * 0x9e3779b97f4a7c15ull;
		memcpy(f->s.data + i * 8, &v, 8);
	}
	f->ops = (struct pgc_mapping_ops){.size = sizeof(f->ops), .readpage = ts_readpage,
					  .writepage = ts_writepage};
	if (migratepage)
		f->ops.migratepage = pgc_migrate_page;
	ck_assert_int_eq(pgc_mapping_create(f->cache, &f->ops, &f->s, ST_PAGES * f->ps, &f->m), 0);
}

static void fx_init(struct fx *f, uint64_t capacity, bool migratepage)
{
	fx_init_nodes(f, capacity, migratepage, NULL, 0, NULL);
}

static void fx_fini(struct fx *f)
{
	ck_assert_int_eq(pgc_mapping_truncate(f->m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(f->m), 0);
	ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	free(f->s.data);
}

static pgc_page *cached(struct fx *f, uint64_t idx)
{
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_read_page(f->m, idx, &p), 0);
	return p;
}

/* The page at idx is p, holds want (or the store's bytes) and is on node. */
static void check_at(struct fx *f, uint64_t idx, pgc_page *p, const unsigned char *want, int node)
{
	pgc_page *q;
	ck_assert_int_eq(pgc_mapping_find(f->m, idx, &q), 0);
	ck_assert_ptr_eq(q, p);
	ck_assert_mem_eq(pgc_page_data(q), want ? want : f->s.data + idx * f->ps, f->ps);
	ck_assert_int_eq(pgc_page_node(q), node);
	ck_assert_int_eq(kernel_node(pgc_page_data(q)), node);
	pgc_page_put(q);
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(topology_as_configured)
{
	const char *want = getenv("PGC_VM_NODES");
	printf("numa: %d nodes (expected %s)\n", nr_nodes(), want ? want : "any >= 2");
	ck_assert_int_ge(nr_nodes(), 2);
	if (want)
		ck_assert_int_eq(nr_nodes(), atoi(want));
	struct fx f;
	fx_init(&f, 256, true);
	int nodes[16];
	ck_assert_int_eq(pgc_cache_nodes(f.cache, nodes, 16), nr_nodes());
	/* Frames allocated strictly on a node are there, says the kernel. */
	for (int n = 0; n < nr_nodes(); n++) {
		pgc_page *p;
		ck_assert_int_eq(pgc_page_alloc(f.cache, n, PGC_ALLOC_STRICT, &p), 0);
		ck_assert_int_eq(pgc_page_node(p), n);
		ck_assert_int_eq(kernel_node(pgc_page_data(p)), n);
		ck_assert_int_eq(pgc_page_kernel_node(p), n);
		pgc_page_put(p);
	}
	fx_fini(&f);
}
END_TEST

/* Moves pages 0..n-1 round the nodes, by copy or in place, and back. */
static void move_round(bool inplace)
{
	struct fx f;
	fx_init(&f, 1024, true);
	enum { N = 128 };
	pgc_page *pages[N];
	void *addr[N];
	int nodes[N], status[N];
	for (unsigned i = 0; i < N; i++) {
		pages[i] = cached(&f, i);
		addr[i] = pgc_page_data(pages[i]);
	}
	for (int round = 1; round <= nr_nodes(); round++) {
		for (unsigned i = 0; i < N; i++)
			nodes[i] = (int)((i + (unsigned)round) % (unsigned)nr_nodes());
		long left = pgc_move_pages(f.cache, N, pages, nodes, status,
					   inplace ? PGC_MOVE_INPLACE : 0);
		ck_assert_int_eq(left, 0);
		for (unsigned i = 0; i < N; i++) {
			ck_assert_int_eq(status[i], nodes[i]);
			check_at(&f, i, pages[i], NULL, nodes[i]);
			if (inplace)
				ck_assert_ptr_eq(pgc_page_data(pages[i]), addr[i]);
		}
		/* The library's own answer agrees. */
		ck_assert_int_eq(pgc_move_pages(f.cache, N, pages, NULL, status, 0), 0);
		for (unsigned i = 0; i < N; i++)
			ck_assert_int_eq(status[i], nodes[i]);
		ck_assert_int_eq(pgc_move_pages(f.cache, N, pages, NULL, status, PGC_MOVE_QUERY_KERNEL), 0);
		for (unsigned i = 0; i < N; i++)
			ck_assert_int_eq(status[i], nodes[i]);
	}
	/* Resident counts per node follow the pages. */
	struct pgc_stats st;
	pgc_test_stats(f.cache, &st);
	uint64_t sum = 0;
	for (int n = 0; n < nr_nodes(); n++)
		sum += st.node_resident[n];
	ck_assert_uint_eq(sum, N);
	ck_assert_uint_eq(st.node_resident[1], N / (unsigned)nr_nodes());
	for (unsigned i = 0; i < N; i++)
		pgc_page_put(pages[i]);
	if (inplace) {
		/* Freed frames go back to the node their memory is on: a strict
		 * allocation on node 1 gets memory on node 1. */
		ck_assert_int_eq(pgc_mapping_truncate(f.m, 0), 0);
		for (unsigned i = 0; i < N; i++) {
			pgc_page *p;
			ck_assert_int_eq(pgc_page_alloc(f.cache, 1, PGC_ALLOC_STRICT, &pages[i]), 0);
			p = pages[i];
			ck_assert_int_eq(pgc_page_node(p), 1);
			ck_assert_int_eq(kernel_node(pgc_page_data(p)), 1);
		}
		for (unsigned i = 0; i < N; i++)
			pgc_page_put(pages[i]);
	}
	fx_fini(&f);
}

START_TEST(copy_moves_round_the_nodes)
{
	move_round(false);
}
END_TEST

START_TEST(inplace_moves_round_the_nodes)
{
	move_round(true);
}
END_TEST

START_TEST(statuses_of_move_pages)
{
	struct fx f;
	fx_init(&f, 256, true);
	pgc_page *busy = cached(&f, 0), *pinned = cached(&f, 1), *gone = cached(&f, 2),
		 *ok = cached(&f, 3);
	void *bogus = aligned_alloc(64, 64);
	/* Page 4's handle is in use (this test holds a reference on it). */
	pgc_clpage *clp;
	ck_assert_int_eq(pgc_clpage_find(f.m, 4, 0, &clp), 0);
	pgc_page *handled = pgc_clpage_vmpage(clp);
	pgc_page_get(handled);
	pgc_page_get(pinned); /* a second holder */
	ck_assert_int_eq(pgc_page_lock(gone), 0);
	ck_assert_int_eq(pgc_mapping_delete(gone), 0);
	ck_assert_int_eq(pgc_page_unlock(gone), 0);
	ck_assert_int_eq(pgc_page_lock(busy), 0);
	void *pinned_addr = pgc_page_data(pinned);

	pgc_page *pages[6] = {busy, pinned, gone, (pgc_page *)bogus, handled, ok};
	int nodes[6] = {1, 1, 1, 1, 1, 1}, status[6];
	ck_assert_int_eq(pgc_move_pages(f.cache, 6, pages, nodes, status, PGC_MOVE_ASYNC), 5);
	ck_assert_int_eq(status[0], -EBUSY);
	ck_assert_int_eq(status[1], -EACCES);
	ck_assert_int_eq(status[2], -ENOENT);
	ck_assert_int_eq(status[3], -EFAULT);
	ck_assert_int_eq(status[4], -EBUSY);
	ck_assert_int_eq(status[5], 1);
	check_at(&f, 3, pages[5], NULL, 1);
	ck_assert_int_eq(kernel_node(pgc_page_data(busy)), 0);
	ck_assert_int_eq(kernel_node(pinned_addr), 0);
	/* Move-all by copy: still held by the other holder, so busy. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &pages[1], nodes, status, PGC_MOVE_ALL), 1);
	ck_assert_int_eq(status[0], -EBUSY);
	/* Move-all in place: the memory moves under both holders. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &pages[1], nodes, status,
					 PGC_MOVE_ALL | PGC_MOVE_INPLACE), 0);
	ck_assert_int_eq(status[0], 1);
	ck_assert_ptr_eq(pages[1], pinned);
	check_at(&f, 1, pinned, NULL, 1);
	/* Once unlocked and idle, they move. */
	ck_assert_int_eq(pgc_page_unlock(busy), 0);
	pgc_clpage_put(clp);
	unsigned char *zeros = calloc(1, f.ps);
	pgc_page *two[2] = {busy, handled};
	ck_assert_int_eq(pgc_move_pages(f.cache, 2, two, nodes, status, 0), 0);
	check_at(&f, 0, two[0], NULL, 1);
	check_at(&f, 4, two[1], zeros, 1); /* found by the handle, never read: zeros */
	ck_assert_int_eq(pgc_clpage_find(f.m, 4, 0, &clp), 0);
	ck_assert_ptr_eq(pgc_clpage_vmpage(clp), two[1]);
	pgc_clpage_put(clp);

	/* Call errors. */
	int bad = nr_nodes() + 3;
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &pages[5], &bad, status, 0), -ENODEV);
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &pages[5], nodes, status, 0x40), -EINVAL);
	pgc_page_put(two[0]);
	pgc_page_put(two[1]);
	pgc_page_put(pinned);
	pgc_page_put(pinned);
	pgc_page_put(gone);
	pgc_page_put(pages[5]);
	free(zeros);
	free(bogus);
	fx_fini(&f);
}
END_TEST

/*
 * Pins, as move_pages(2) treats pages mapped by other processes: without
 * PGC_MOVE_ALL only pages held by nobody but the mapping and the caller
 * move, by copy and in place alike (-EACCES for the others); with it,
 * pinned pages move in place and are -EBUSY by copy (the holders would keep
 * the old page).
 */
static void pins(bool inplace)
{
	struct fx f;
	fx_init(&f, 256, true);
	unsigned mode = inplace ? PGC_MOVE_INPLACE : 0;
	pgc_page *pinned = cached(&f, 0), *idle = cached(&f, 1);
	void *pinned_addr = pgc_page_data(pinned);
	pgc_page_get(pinned); /* another holder's reference */
	pgc_page *pages[2] = {pinned, idle};
	int nodes[2] = {1, 1}, status[2];
	for (unsigned async = 0; async <= PGC_MOVE_ASYNC; async += PGC_MOVE_ASYNC) {
		ck_assert_int_eq(pgc_move_pages(f.cache, 1, pages, nodes, status, mode | async), 1);
		ck_assert_int_eq(status[0], -EACCES);
		ck_assert_ptr_eq(pages[0], pinned);
		check_at(&f, 0, pinned, NULL, 0);
		ck_assert_int_eq(kernel_node(pinned_addr), 0);
	}
	/* An idle page moves in the same call as a pinned one. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 2, pages, nodes, status, mode), 1);
	ck_assert_int_eq(status[0], -EACCES);
	ck_assert_int_eq(status[1], 1);
	check_at(&f, 1, pages[1], NULL, 1);
	check_at(&f, 0, pinned, NULL, 0);
	/* Move-all. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, pages, nodes, status, mode | PGC_MOVE_ALL),
			 inplace ? 0 : 1);
	ck_assert_int_eq(status[0], inplace ? 1 : -EBUSY);
	ck_assert_ptr_eq(pages[0], pinned);
	check_at(&f, 0, pinned, NULL, inplace ? 1 : 0);
	/* Unpinned, it moves without the flag. */
	pgc_page_put(pinned);
	nodes[0] = inplace ? 0 : 1;
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, pages, nodes, status, mode), 0);
	ck_assert_int_eq(status[0], nodes[0]);
	check_at(&f, 0, pages[0], NULL, nodes[0]);
	char why[256];
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof(why)) == 0, "%s", why);
	pgc_page_put(pages[0]);
	pgc_page_put(pages[1]);
	fx_fini(&f);
}

START_TEST(pinned_pages_by_copy)
{
	pins(false);
}
END_TEST

START_TEST(pinned_pages_in_place)
{
	pins(true);
}
END_TEST

START_TEST(node_outside_cache_eacces)
{
	int only0 = 0;
	struct fx f;
	fx_init_nodes(&f, 64, true, &only0, 1, NULL);
	pgc_page *p = cached(&f, 0);
	int node = 1, status;
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &node, &status, 0), -EACCES);
	int from = 0;
	ck_assert_int_eq(pgc_migrate_nodes(f.cache, NULL, &from, &node, 1, 0, PGC_MR_DRAIN, NULL), -EACCES);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

START_TEST(no_room_on_target_enomem)
{
	int nodes[2] = {0, 1};
	uint64_t limits[2] = {0, 4};
	struct fx f;
	fx_init_nodes(&f, 256, true, nodes, 2, limits);
	pgc_page *held[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pgc_page_alloc(f.cache, 1, PGC_ALLOC_STRICT, &held[i]), 0);
	pgc_page *p = cached(&f, 9), *orig = p;
	int node = 1, status;
	for (unsigned flags = 0; flags <= PGC_MOVE_INPLACE; flags += PGC_MOVE_INPLACE) {
		ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &node, &status, flags), 1);
		ck_assert_int_eq(status, -ENOMEM);
		ck_assert_ptr_eq(p, orig);
		check_at(&f, 9, p, NULL, 0);
	}
	for (int i = 0; i < 4; i++)
		pgc_page_put(held[i]);
	pgc_page_put(p);
	fx_fini(&f);
}
END_TEST

/*
 * Node 1 may hold 6 pages; it is full, then 4 of its pages go. A move of 6
 * pages there, by copy or in place, moves exactly the 4 it has room for:
 * the limit counts pages, and the node's free frames are room.
 */
static void room_after_delete(unsigned flags)
{
	int nodes[2] = {0, 1};
	uint64_t limits[2] = {0, 6};
	struct fx f;
	fx_init_nodes(&f, 256, true, nodes, 2, limits);
	pgc_page *on1[6], *pages[6];
	int to[6], status[6];
	for (unsigned i = 0; i < 6; i++) {
		on1[i] = cached(&f, i);
		to[i] = 1;
	}
	ck_assert_int_eq(pgc_move_pages(f.cache, 6, on1, to, status, 0), 0);
	struct pgc_node_stats ns = {.size = sizeof(ns)};
	ck_assert_int_eq(pgc_cache_node_stats(f.cache, 1, &ns), 0);
	ck_assert_uint_eq(ns.resident, 6);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(pgc_page_lock(on1[i]), 0);
		ck_assert_int_eq(pgc_mapping_delete(on1[i]), 0);
		ck_assert_int_eq(pgc_page_unlock(on1[i]), 0);
		pgc_page_put(on1[i]);
	}
	ck_assert_int_eq(pgc_cache_node_stats(f.cache, 1, &ns), 0);
	ck_assert_uint_eq(ns.resident, 2);
	for (unsigned i = 0; i < 6; i++)
		pages[i] = cached(&f, 10 + i);
	for (int round = 0; round < 2; round++) {
		long left = pgc_move_pages(f.cache, 6, pages, to, status, flags);
		unsigned moved = 0, full = 0;
		for (unsigned i = 0; i < 6; i++) {
			moved += status[i] == 1;
			full += status[i] == -ENOMEM;
			check_at(&f, 10 + i, pages[i], NULL, status[i] == 1 ? 1 : 0);
		}
		/* The second time, the 4 are there and the node is full. */
		ck_assert_int_eq(left, 2);
		ck_assert_uint_eq(moved, 4);
		ck_assert_uint_eq(full, 2);
		ck_assert_int_eq(pgc_cache_node_stats(f.cache, 1, &ns), 0);
		ck_assert_uint_eq(ns.resident, 6);
	}
	char why[256];
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof(why)) == 0, "%s", why);
	for (unsigned i = 0; i < 6; i++)
		pgc_page_put(pages[i]);
	pgc_page_put(on1[4]);
	pgc_page_put(on1[5]);
	/* Every frame is where its node says, free ones too: strict
	 * allocations on each node get memory on that node. */
	ck_assert_int_eq(pgc_mapping_truncate(f.m, 0), 0);
	enum { NA = 32 };
	pgc_page *a[NA];
	for (int n = 0; n < 2; n++) {
		unsigned got = 0;
		for (; got < (n ? 6u : NA); got++) {
			ck_assert_int_eq(pgc_page_alloc(f.cache, n, PGC_ALLOC_STRICT, &a[got]), 0);
			ck_assert_int_eq(pgc_page_node(a[got]), n);
			ck_assert_int_eq(kernel_node(pgc_page_data(a[got])), n);
		}
		for (unsigned i = 0; i < got; i++)
			pgc_page_put(a[i]);
	}
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof(why)) == 0, "%s", why);
	fx_fini(&f);
}

START_TEST(room_after_delete_by_copy)
{
	room_after_delete(0);
}
END_TEST

START_TEST(room_after_delete_in_place)
{
	room_after_delete(PGC_MOVE_INPLACE);
}
END_TEST

START_TEST(dirty_write_error_eio)
{
	struct fx f;
	fx_init(&f, 64, false); /* no migratepage: dirty pages are written out */
	pgc_page *p = cached(&f, 6), *orig = p;
	unsigned char *pat = malloc(f.ps);
	memset(pat, 0xd1, f.ps);
	pgc_page_lock(p);
	memcpy(pgc_page_data(p), pat, f.ps);
	pgc_page_set_dirty(p);
	pgc_page_unlock(p);
	atomic_store(&f.s.write_err, -EIO);
	int node = 1, status;
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &node, &status, 0), 1);
	ck_assert_int_eq(status, -EIO);
	ck_assert_ptr_eq(p, orig);
	ck_assert(pgc_page_test_flag(p, PGC_PG_DIRTY));
	/* Async: a dirty page without migratepage is busy. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &node, &status, PGC_MOVE_ASYNC), 1);
	ck_assert_int_eq(status, -EBUSY);
	/* Once the store works: written out, then moved clean. */
	atomic_store(&f.s.write_err, 0);
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &node, &status, 0), 0);
	ck_assert_int_eq(status, 1);
	ck_assert(!pgc_page_test_flag(p, PGC_PG_DIRTY));
	ck_assert_mem_eq(f.s.data + 6 * f.ps, pat, f.ps);
	check_at(&f, 6, p, pat, 1);
	pgc_page_put(p);
	free(pat);
	fx_fini(&f);
}
END_TEST

static pgc_page *new_on_node1(pgc_page *old, void *arg)
{
	(void)old;
	pgc_page *p;
	return pgc_page_alloc(arg, 1, PGC_ALLOC_STRICT, &p) ? NULL : p;
}

struct unlocker {
	pgc_page *p;
};

static void *unlock_later(void *arg)
{
	struct unlocker *u = arg;
	pgc_test_sleep_ms(100);
	pgc_page_unlock(u->p);
	return NULL;
}

START_TEST(dirty_and_locked_in_each_mode)
{
	struct fx f;
	fx_init(&f, 64, true); /* migratepage: dirty pages move dirty */
	unsigned char *pat = malloc(f.ps);
	memset(pat, 0x3c, f.ps);
	pgc_page *p = cached(&f, 8);
	pgc_page_lock(p);
	memcpy(pgc_page_data(p), pat, f.ps);
	pgc_page_set_dirty(p);
	pgc_page_unlock(p);
	int target = 1, status;
	/* Dirty, async: moves, stays dirty. */
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &target, &status, PGC_MOVE_ASYNC), 0);
	ck_assert(pgc_page_test_flag(p, PGC_PG_DIRTY));
	check_at(&f, 8, p, pat, 1);
	/* Locked, async: busy. Locked, sync: waits for the lock, then moves. */
	target = 0;
	pgc_page_lock(p);
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &target, &status, PGC_MOVE_ASYNC), 1);
	ck_assert_int_eq(status, -EBUSY);
	struct unlocker u = {p};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, unlock_later, &u), 0);
	ck_assert_int_eq(pgc_move_pages(f.cache, 1, &p, &target, &status, 0), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(status, 0);
	ck_assert(pgc_page_test_flag(p, PGC_PG_DIRTY));
	check_at(&f, 8, p, pat, 0);
	/* Sync-light through pgc_migrate_pages: dirty and locked, it moves
	 * once unlocked, to a frame on node 1. */
	pgc_page_lock(p);
	u.p = p; /* the page moved: its new descriptor is the one locked */
	ck_assert_int_eq(pthread_create(&t, NULL, unlock_later, &u), 0);
	struct pgc_migrate_stats st = {.size = sizeof(st)};
	pgc_page *old = p;
	ck_assert_int_eq(pgc_migrate_pages(&p, 1, new_on_node1, f.cache, PGC_MIGRATE_SYNC_LIGHT,
					   PGC_MR_NUMA_MISPLACED, &status, &st), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(status, 0);
	ck_assert_ptr_ne(p, old);
	ck_assert_uint_eq(st.succeeded, 1);
	ck_assert(pgc_page_test_flag(p, PGC_PG_DIRTY));
	check_at(&f, 8, p, pat, 1);
	/* The data reaches the store from the page that moved. */
	ck_assert_int_eq(pgc_mapping_writeback(f.m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_mem_eq(f.s.data + 8 * f.ps, pat, f.ps);
	pgc_page_put(p);
	free(pat);
	fx_fini(&f);
}
END_TEST

/* ---- migration racing with lookups and writes ------------------------------- */

struct race {
	struct fx *f;
	atomic_int stop;
	atomic_ulong ops;
	struct pgc_tfail fail;
	uint64_t seed;
	unsigned npages;
	_Atomic uint32_t version[256];
};

static void fill(unsigned char *b, size_t ps, uint64_t idx, uint32_t v)
{
	uint64_t w = (idx << 32) | v;
	for (size_t k = 0; k < ps; k += 8)
		memcpy(b + k, &w, 8);
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	struct pgc_rng rng = {r->seed};
	while (!atomic_load(&r->stop) && !atomic_load(&r->fail.failed)) {
		uint64_t idx = pgc_rng_below(&rng, r->npages);
		pgc_page *p;
		int err = pgc_mapping_find(r->f->m, idx, &p);
		if (!TCHECK(&r->fail, err == 0, "lookup of %" PRIu64 ": %d", idx, err))
			break;
		uint64_t w0, w1;
		pgc_page_lock(p);
		memcpy(&w0, pgc_page_data(p), 8);
		memcpy(&w1, (char *)pgc_page_data(p) + r->f->ps - 8, 8);
		pgc_page_unlock(p);
		TCHECK(&r->fail, w0 == w1 && (w0 >> 32) == idx, "page %" PRIu64 " torn or misplaced", idx);
		pgc_page_put(p);
		atomic_fetch_add(&r->ops, 1);
	}
	return NULL;
}

static void *race_writer(void *arg)
{
	struct race *r = arg;
	struct pgc_rng rng = {r->seed ^ 0xabcdef};
	unsigned char *buf = malloc(r->f->ps);
	while (!atomic_load(&r->stop) && !atomic_load(&r->fail.failed)) {
		uint64_t idx = pgc_rng_below(&rng, r->npages);
		uint32_t v = atomic_load(&r->version[idx]) + 1;
		fill(buf, r->f->ps, idx, v);
		ssize_t n = pgc_write(r->f->m, buf, r->f->ps, idx * r->f->ps, 0);
		if (!TCHECK(&r->fail, n == (ssize_t)r->f->ps, "write = %zd", n))
			break;
		atomic_store(&r->version[idx], v);
		atomic_fetch_add(&r->ops, 1);
	}
	free(buf);
	return NULL;
}

START_TEST(migration_races_lookups_and_writes)
{
	struct fx f;
	fx_init(&f, 1024, true);
	struct race *r = calloc(1, sizeof(*r));
	r->f = &f;
	r->npages = 256;
	r->seed = pgc_test_seed_for("numa_races");
	printf("numa: races seed %" PRIu64 "\n", r->seed);
	unsigned char *buf = malloc(f.ps);
	for (uint64_t i = 0; i < r->npages; i++) {
		fill(buf, f.ps, i, 0);
		ck_assert_int_eq(pgc_write(f.m, buf, f.ps, i * f.ps, 0), (ssize_t)f.ps);
	}
	pthread_t th[2];
	ck_assert_int_eq(pthread_create(&th[0], NULL, race_reader, r), 0);
	ck_assert_int_eq(pthread_create(&th[1], NULL, race_writer, r), 0);
	struct pgc_rng rng = {r->seed ^ 77};
	pgc_page **pages = malloc(r->npages * sizeof(*pages));
	int *nodes = malloc(r->npages * sizeof(int)), *status = malloc(r->npages * sizeof(int));
	unsigned rounds = (unsigned)pgc_test_scaled(30, 5);
	uint64_t moved = 0, busy = 0;
	for (unsigned round = 0; round < rounds && !atomic_load(&r->fail.failed); round++) {
		for (uint64_t i = 0; i < r->npages; i++) {
			ck_assert_int_eq(pgc_mapping_find(f.m, i, &pages[i]), 0);
			nodes[i] = (int)pgc_rng_below(&rng, (uint64_t)nr_nodes());
		}
		unsigned flags = (round % 2 ? PGC_MOVE_INPLACE : 0) | (round % 3 == 2 ? PGC_MOVE_ASYNC : 0);
		long left = pgc_move_pages(f.cache, r->npages, pages, nodes, status, flags);
		ck_assert_int_ge(left, 0);
		for (uint64_t i = 0; i < r->npages; i++) {
			/* Never -ENOMEM: 256 pages (and as many new frames) in a
			 * cache of 1024 leave every node room, whichever node the
			 * frames happen to be on (the -ENOMEM seen once in the
			 * 4-node VM came from frames all on other nodes). */
			ck_assert_msg(status[i] == nodes[i] || status[i] == -EBUSY ||
					      status[i] == -EACCES,
				      "page %" PRIu64 " status %d", i, status[i]);
			if (status[i] == nodes[i]) {
				moved++;
				ck_assert_int_eq(kernel_node(pgc_page_data(pages[i])), nodes[i]);
			} else {
				busy++;
			}
			pgc_page_put(pages[i]);
		}
	}
	atomic_store(&r->stop, 1);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&r->fail);
	printf("numa: races %u rounds, %" PRIu64 " moved, %" PRIu64 " busy, %lu lookups and writes\n",
	       rounds, moved, busy, atomic_load(&r->ops));
	ck_assert_uint_gt(moved, 0);
	/* Nothing lost: each page holds its last write, in the cache and on the store. */
	ck_assert_int_eq(pgc_sync_range(f.m, 0, UINT64_MAX, NULL), 0);
	unsigned char *want = malloc(f.ps);
	for (uint64_t i = 0; i < r->npages; i++) {
		fill(want, f.ps, i, atomic_load(&r->version[i]));
		ck_assert_int_eq(pgc_read(f.m, buf, f.ps, i * f.ps), (ssize_t)f.ps);
		ck_assert_mem_eq(buf, want, f.ps);
		ck_assert_mem_eq(f.s.data + i * f.ps, want, f.ps);
		pgc_page *p;
		ck_assert_int_eq(pgc_mapping_find(f.m, i, &p), 0);
		ck_assert_int_eq(kernel_node(pgc_page_data(p)), pgc_page_node(p));
		pgc_page_put(p);
	}
	free(want);
	free(pages);
	free(nodes);
	free(status);
	free(buf);
	free(r);
	fx_fini(&f);
}
END_TEST

/* ---- -ENOMEM only for a full node ------------------------------------------------ */

#define CHURN_PAGES 24

struct churn {
	struct fx *f;
	atomic_int stop;
	atomic_ulong ops;
	struct pgc_tfail fail;
	uint64_t seed;
};

/* Reads, writes and truncates pages 0..CHURN_PAGES-1: few pages, much churn. */
static void *churn_worker(void *arg)
{
	struct churn *w = arg;
	struct pgc_rng rng = {w->seed};
	unsigned char *buf = malloc(w->f->ps);
	while (!atomic_load(&w->stop) && !atomic_load(&w->fail.failed)) {
		uint64_t idx = pgc_rng_below(&rng, CHURN_PAGES);
		uint64_t op = pgc_rng_below(&rng, 8);
		if (op < 4) {
			pgc_page *p;
			int err = pgc_mapping_read_page(w->f->m, idx, &p);
			if (!TCHECK(&w->fail, err == 0, "read_page %" PRIu64 ": %d", idx, err))
				break;
			pgc_page_put(p);
		} else if (op < 7) {
			memset(buf, (int)idx, w->f->ps);
			ssize_t n = pgc_write(w->f->m, buf, w->f->ps, idx * w->f->ps, 0);
			if (!TCHECK(&w->fail, n == (ssize_t)w->f->ps, "write %" PRIu64 ": %zd", idx, n))
				break;
		} else {
			/* Frees the pages past idx, then gives the size back. */
			TCHECK(&w->fail, pgc_mapping_truncate(w->f->m, idx * w->f->ps) == 0, "truncate");
			TCHECK(&w->fail, pgc_mapping_truncate(w->f->m, ST_PAGES * w->f->ps) == 0,
			       "truncate up");
		}
		atomic_fetch_add(&w->ops, 1);
	}
	free(buf);
	return NULL;
}

/*
 * A cache of 128 pages of which the workers use at most 24 (and the mover 4
 * more): no node can be at its limit (the capacity), so no move may fail
 * with -ENOMEM, whatever the mode and however the frames were placed.
 */
START_TEST(moves_in_a_mostly_empty_cache_never_enomem)
{
	struct fx f;
	fx_init(&f, 128, true);
	struct churn w[2];
	pthread_t th[2];
	uint64_t seed = pgc_test_seed_for("numa_churn");
	printf("numa: churn seed %" PRIu64 "\n", seed);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct churn){.f = &f, .seed = seed + (uint64_t)i};
		ck_assert_int_eq(pthread_create(&th[i], NULL, churn_worker, &w[i]), 0);
	}
	struct pgc_rng rng = {seed ^ 0x77};
	static const unsigned modes[3] = {0, PGC_MOVE_ASYNC, PGC_MOVE_INPLACE};
	uint64_t moved[3] = {0}, enomem[3] = {0}, other = 0;
	unsigned rounds = (unsigned)pgc_test_scaled(4000, 400);
	for (unsigned round = 0; round < rounds; round++) {
		if (atomic_load(&w[0].fail.failed) || atomic_load(&w[1].fail.failed))
			break;
		pgc_page *pages[4];
		int nodes[4], status[4];
		unsigned n = 0;
		for (unsigned k = 0; k < 8 && n < 4; k++)
			if (pgc_mapping_find(f.m, pgc_rng_below(&rng, CHURN_PAGES), &pages[n]) == 0)
				n++;
		int node = (int)pgc_rng_below(&rng, (uint64_t)nr_nodes());
		unsigned mode = (unsigned)pgc_rng_below(&rng, 3);
		for (unsigned i = 0; i < n; i++)
			nodes[i] = node;
		long left = pgc_move_pages(f.cache, n, pages, nodes, status, modes[mode]);
		ck_assert_int_ge(left, 0);
		for (unsigned i = 0; i < n; i++) {
			ck_assert_msg(status[i] == node || status[i] == -EBUSY || status[i] == -EACCES ||
					      status[i] == -ENOENT || status[i] == -ENOMEM,
				      "status %d", status[i]);
			if (status[i] == -ENOMEM && enomem[0] + enomem[1] + enomem[2] == 0) {
				struct pgc_node_stats ns = {.size = sizeof(ns)};
				ck_assert_int_eq(pgc_cache_node_stats(f.cache, node, &ns), 0);
				printf("numa: first -ENOMEM (mode %#x) to node %d: %" PRIu64
				       " resident, %" PRIu64 " free, limit %" PRIu64 "\n",
				       modes[mode], node, ns.resident, ns.free, ns.limit);
			}
			moved[mode] += status[i] == node;
			enomem[mode] += status[i] == -ENOMEM;
			other += status[i] != node && status[i] != -ENOMEM;
			pgc_page_put(pages[i]);
		}
	}
	for (int i = 0; i < 2; i++)
		atomic_store(&w[i].stop, 1);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		PGC_ASSERT_NO_THREAD_FAILURE(&w[i].fail);
	}
	printf("numa: churn %u rounds: moved %" PRIu64 "/%" PRIu64 "/%" PRIu64
	       " (copy/async copy/in place), -ENOMEM %" PRIu64 "/%" PRIu64 "/%" PRIu64
	       ", %" PRIu64 " busy or gone, %lu worker operations\n",
	       rounds, moved[0], moved[1], moved[2], enomem[0], enomem[1], enomem[2], other,
	       atomic_load(&w[0].ops) + atomic_load(&w[1].ops));
	ck_assert_uint_gt(moved[0], 0);
	ck_assert_uint_gt(moved[2], 0);
	ck_assert_uint_eq(enomem[0], 0);
	ck_assert_uint_eq(enomem[1], 0);
	ck_assert_uint_eq(enomem[2], 0);
	char why[256];
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof(why)) == 0, "%s", why);
	fx_fini(&f);
}
END_TEST

/* ---- draining a node, demotion to a far tier ----------------------------------- */

static void drain(bool inplace)
{
	struct fx f;
	fx_init(&f, 1024, true);
	enum { N = 200 };
	int status[N], nodes[N];
	pgc_page *pages[N];
	for (unsigned i = 0; i < N; i++) {
		pages[i] = cached(&f, i);
		nodes[i] = 1;
	}
	ck_assert_int_eq(pgc_move_pages(f.cache, N, pages, nodes, status, 0), 0);
	for (unsigned i = 0; i < N; i++)
		pgc_page_put(pages[i]);
	struct pgc_stats st;
	pgc_test_stats(f.cache, &st);
	ck_assert_uint_eq(st.node_resident[1], N);
	int from = 1, to = 0;
	struct pgc_migrate_stats ms = {.size = sizeof(ms)};
	ck_assert_int_eq(pgc_migrate_nodes(f.cache, NULL, &from, &to, 1,
					   inplace ? PGC_MOVE_INPLACE : 0, PGC_MR_DRAIN, &ms), 0);
	ck_assert_uint_eq(ms.succeeded, N);
	pgc_test_stats(f.cache, &st);
	ck_assert_uint_eq(st.node_resident[1], 0);
	for (unsigned i = 0; i < N; i++) {
		pgc_page *p;
		ck_assert_int_eq(pgc_mapping_find(f.m, i, &p), 0);
		ck_assert_int_eq(pgc_page_node(p), 0);
		ck_assert_int_eq(kernel_node(pgc_page_data(p)), 0);
		ck_assert_mem_eq(pgc_page_data(p), f.s.data + i * f.ps, f.ps);
		pgc_page_put(p);
	}
	struct pgc_migrate_stats cum = {.size = sizeof(cum)};
	ck_assert_int_eq(pgc_cache_migrate_stats(f.cache, PGC_MR_DRAIN, &cum), 0);
	ck_assert_uint_eq(cum.succeeded, N);
	fx_fini(&f);
}

START_TEST(drain_node_by_copy)
{
	drain(false);
}
END_TEST

START_TEST(drain_node_in_place)
{
	drain(true);
}
END_TEST

/*
 * Overlapping node sets, as migrate_pages(2) allows: each page's target is
 * decided by where it was when the call began, so a page moved from
 * from[i] to to[i] is not moved again by a later pair whose source is
 * to[i]. Page i starts on node start[i % nr]; it must end on the node that
 * follows it in the rotation, or stay if its node is not a source.
 */
static void rotate(bool inplace, const int *from, const int *to, unsigned nr, int nstart)
{
	struct fx f;
	fx_init(&f, 1024, true);
	enum { N = 16 };
	pgc_page *pages[N];
	int nodes[N], status[N], want[N];
	for (unsigned i = 0; i < N; i++) {
		pages[i] = cached(&f, i);
		nodes[i] = (int)(i % (unsigned)nstart);
		want[i] = nodes[i];
		for (unsigned k = 0; k < nr; k++)
			if (from[k] == nodes[i]) {
				want[i] = to[k];
				break;
			}
	}
	ck_assert_int_eq(pgc_move_pages(f.cache, N, pages, nodes, status, 0), 0);
	unsigned expect_moved = 0;
	for (unsigned i = 0; i < N; i++) {
		pgc_page_put(pages[i]);
		expect_moved += want[i] != nodes[i];
	}
	struct pgc_migrate_stats ms = {.size = sizeof(ms)};
	ck_assert_int_eq(pgc_migrate_nodes(f.cache, NULL, from, to, nr,
					   inplace ? PGC_MOVE_INPLACE : 0, PGC_MR_MEMPOLICY, &ms), 0);
	ck_assert_uint_eq(ms.succeeded, expect_moved);
	ck_assert_uint_eq(ms.failed, 0);
	for (unsigned i = 0; i < N; i++) {
		pgc_page *p;
		ck_assert_int_eq(pgc_mapping_find(f.m, i, &p), 0);
		ck_assert_msg(pgc_page_node(p) == want[i], "page %u from node %d is on node %d, not %d",
			      i, nodes[i], pgc_page_node(p), want[i]);
		ck_assert_int_eq(kernel_node(pgc_page_data(p)), want[i]);
		ck_assert_mem_eq(pgc_page_data(p), f.s.data + i * f.ps, f.ps);
		pgc_page_put(p);
	}
	char why[256];
	ck_assert_msg(pgc_cache_check(f.cache, why, sizeof(why)) == 0, "%s", why);
	fx_fini(&f);
}

START_TEST(swap_nodes_by_copy)
{
	static const int from[2] = {0, 1}, to[2] = {1, 0};
	rotate(false, from, to, 2, 2);
}
END_TEST

START_TEST(swap_nodes_in_place)
{
	static const int from[2] = {0, 1}, to[2] = {1, 0};
	rotate(true, from, to, 2, 2);
}
END_TEST

START_TEST(rotate_three_nodes)
{
	if (nr_nodes() < 4) {
		printf("numa: rotate_three_nodes needs 4 nodes; %d here\n", nr_nodes());
		return;
	}
	/* Node 3 holds pages too, and is no source: they stay. */
	static const int from[3] = {0, 1, 2}, to[3] = {1, 2, 0};
	rotate(false, from, to, 3, 4);
	rotate(true, from, to, 3, 4);
}
END_TEST

START_TEST(demote_to_far_tier)
{
	if (nr_nodes() < 4) {
		printf("numa: demote_to_far_tier needs 4 nodes; %d here\n", nr_nodes());
		return;
	}
	/* Nodes 2 and 3 have memory and no CPU: a far tier. */
	struct bitmask *cpus = numa_allocate_cpumask();
	for (int n = 2; n < 4; n++) {
		ck_assert_int_eq(numa_node_to_cpus(n, cpus), 0);
		ck_assert_uint_eq(numa_bitmask_weight(cpus), 0);
	}
	numa_free_cpumask(cpus);
	struct fx f;
	fx_init(&f, 1024, true);
	enum { N = 64 };
	for (unsigned i = 0; i < N; i++)
		pgc_page_put(cached(&f, i));
	int from[2] = {0, 1}, to[2] = {2, 3};
	struct pgc_migrate_stats ms = {.size = sizeof(ms)};
	ck_assert_int_eq(pgc_migrate_nodes(f.cache, f.m, from, to, 2, 0, PGC_MR_DEMOTION, &ms), 0);
	ck_assert_uint_eq(ms.succeeded, N);
	ck_assert_uint_eq(ms.failed, 0);
	for (unsigned i = 0; i < N; i++) {
		pgc_page *p;
		ck_assert_int_eq(pgc_mapping_find(f.m, i, &p), 0);
		int n = pgc_page_node(p);
		ck_assert(n == 2 || n == 3);
		ck_assert_int_eq(kernel_node(pgc_page_data(p)), n);
		ck_assert_mem_eq(pgc_page_data(p), f.s.data + i * f.ps, f.ps);
		pgc_page_put(p);
	}
	struct pgc_migrate_stats cum = {.size = sizeof(cum)};
	ck_assert_int_eq(pgc_cache_migrate_stats(f.cache, PGC_MR_DEMOTION, &cum), 0);
	ck_assert_uint_eq(cum.succeeded, N);
	fx_fini(&f);
}
END_TEST

static Suite *numa_suite(void)
{
	Suite *s = suite_create("numa");
	PGC_ADD(s, topology_as_configured, 600);
	PGC_ADD(s, copy_moves_round_the_nodes, 600);
	PGC_ADD(s, inplace_moves_round_the_nodes, 600);
	PGC_ADD(s, statuses_of_move_pages, 600);
	PGC_ADD(s, pinned_pages_by_copy, 600);
	PGC_ADD(s, pinned_pages_in_place, 600);
	PGC_ADD(s, node_outside_cache_eacces, 600);
	PGC_ADD(s, no_room_on_target_enomem, 600);
	PGC_ADD(s, room_after_delete_by_copy, 600);
	PGC_ADD(s, room_after_delete_in_place, 600);
	PGC_ADD(s, dirty_write_error_eio, 600);
	PGC_ADD(s, dirty_and_locked_in_each_mode, 600);
	PGC_ADD(s, migration_races_lookups_and_writes, 900);
	PGC_ADD(s, moves_in_a_mostly_empty_cache_never_enomem, 600);
	PGC_ADD(s, drain_node_by_copy, 600);
	PGC_ADD(s, drain_node_in_place, 600);
	PGC_ADD(s, swap_nodes_by_copy, 600);
	PGC_ADD(s, swap_nodes_in_place, 600);
	PGC_ADD(s, rotate_three_nodes, 600);
	PGC_ADD(s, demote_to_far_tier, 600);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, numa_suite());
}
