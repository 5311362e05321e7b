/*
 * The NUMA migration engine (see migrate.h), after Linux's mm/migrate.c.
 *
 * pgc_migrate_pages() makes up to PGC_MIGRATE_PASSES passes over the pages
 * still to move. A pass works in batches: new pages are allocated with no
 * lock held; the old pages are locked, checked and taken off their LRU
 * lists; the data of the whole batch is copied (by several threads when it
 * is large); then each page is swapped in by the mapping's migratepage
 * operation or by pgc_migrate_page(), which freezes the old page's
 * reference count at its expected value while the index slot changes. The
 * engine never sleeps while it holds the locks of a batch: before it would
 * wait for a lock, for writeback or for a writeout, it finishes the pages
 * it has prepared.
 *
 * Moving in place asks the kernel to move the memory under a frame; only
 * the frame's recorded node (and its LRU list and pool counts) change here.
 * Its pages obey the reference rule of the copy mode (only pages that the
 * mapping and the caller alone hold move, unless PGC_MOVE_ALL) but are
 * never frozen or locked: the data address stays, so with PGC_MOVE_ALL
 * pinned pages move too.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pgcache/migrate.h>

#include "abi_internal.h"
#include "alloc_internal.h"
#include "mapping_internal.h"
#include "migrate_internal.h"
#include "numa_internal.h"
#include "reclaim_internal.h"

_Static_assert(PGC_MIG_REASONS == PGC_MR_NR_REASONS, "one counter set per reason");

#define MIG_BATCH 512u
/*
 * Batches from this size are copied by the cache's helper threads too (a
 * batch of the engine holds at most MIG_BATCH pages). A sleeping helper
 * takes long to wake on a virtual machine: on this 2-vCPU one, batches of
 * 64 pages of 4 KiB shared with a helper ran at 0.52x of memcpy against
 * 0.74x alone, and 128 or 256 pages gained nothing; 512 pages (2 MiB) went
 * from 0.71-0.73x to 0.84-0.91x.
 */
#ifndef COPY_PARALLEL_MIN_BYTES
#define COPY_PARALLEL_MIN_BYTES ((size_t)2 << 20)
#endif
#define NODES_WALK_BATCH 8192u
/* References of a page that may move: the mapping's, the caller's and the
 * engine's (its isolation). */
#define MIG_EXPECTED_REFS 3

/* The migration running on this thread, for pgc_migrate_page(). */
struct mig_ctx {
	struct pgc_cache *cache;
	int mode;
	int expected;  /* references of a page that may move: mapping, caller(s), engine */
	bool copied;   /* the current page's data was copied by the batch */
	pgc_new_page_fn new_page;
	void *private;
	struct pgc_migrate_stats st;
};

static __thread struct mig_ctx *cur_ctx;

struct mig_item {
	struct pgc_page *page, *newpage;
	struct pgc_mapping *m;
	unsigned pos;    /* in the caller's array */
	int rc;          /* -EAGAIN: still to do; 0 moved; else final error */
	bool extra_refs; /* the last busy attempt met references beyond the expected */
	bool copied;
};

static size_t page_size_of(const struct pgc_cache *c)
{
	return c->frames.page_size;
}

/* ---- moving one page -------------------------------------------------- */

#define MIG_FLAGS PGC_MIG_STATE_FLAGS

/* Moves the private value or handle of a frozen page; -EAGAIN if in use. */
static int move_private(struct pgc_mapping *m, struct pgc_page *page, struct pgc_page *newpage)
{
	if (!pgc__test(page, PGC_PG_PRIVATE))
		return 0;
	if (pgc__test(page, PGC_PGI_HANDLE))
		return atomic_load_explicit(&m->priv_ops, memory_order_acquire)->migrate(m, page, newpage);
	newpage->private_value = page->private_value;
	pgc__set(newpage, PGC_PG_PRIVATE);
	page->private_value = 0;
	pgc__clear(page, PGC_PG_PRIVATE);
	return 0;
}

/* Gives the private value or handle back to the old page (a failed swap). */
static void unmove_private(struct pgc_mapping *m, struct pgc_page *page, struct pgc_page *newpage)
{
	if (!pgc__test(newpage, PGC_PG_PRIVATE))
		return;
	if (pgc__test(newpage, PGC_PGI_HANDLE)) {
		atomic_load_explicit(&m->priv_ops, memory_order_acquire)->migrate(m, newpage, page);
		return;
	}
	page->private_value = newpage->private_value;
	pgc__set(page, PGC_PG_PRIVATE);
	newpage->private_value = 0;
	pgc__clear(newpage, PGC_PG_PRIVATE);
}

PGC_API int pgc_migrate_page(pgc_mapping *m, pgc_page *newpage, pgc_page *page, int mode)
{
	(void)mode;
	struct mig_ctx *ctx = cur_ctx;
	if (!ctx || !m || !newpage || !page || newpage == page ||
	    atomic_load_explicit(&page->mapping, memory_order_relaxed) != m ||
	    atomic_load_explicit(&newpage->mapping, memory_order_relaxed) != NULL ||
	    !pgc__test(page, PGC_PG_LOCKED) || !pgc__test(newpage, PGC_PG_LOCKED) ||
	    pgc__page_chunk(newpage)->cache != m->cache)
		return -EINVAL;
	if (pgc__test(page, PGC_PG_WRITEBACK))
		return -EAGAIN;
	/* The lock keeps writers out: copy before freezing, so that lookups
	 * never spin for the length of a copy. */
	if (!ctx->copied)
		memcpy(pgc__page_data(newpage), pgc__page_data(page), page_size_of(m->cache));
	if (pgc_page_ref_freeze(page, ctx->expected))
		return -EAGAIN;
	int err = move_private(m, page, newpage);
	if (err) {
		pgc_page_ref_unfreeze(page, ctx->expected);
		return err;
	}
	/* Flags (dirty included) before the new page is visible in the index;
	 * placement's notes go along (a page moved for its accesses stays hot). */
	atomic_fetch_or_explicit(&newpage->flags, pgc__flags(page) & MIG_FLAGS, memory_order_acq_rel);
	atomic_store_explicit(&newpage->access,
			      atomic_load_explicit(&page->access, memory_order_relaxed),
			      memory_order_relaxed);
	/* The new page takes every reference but the engine's (it has its own). */
	atomic_fetch_add_explicit(&newpage->refcount, ctx->expected - 1, memory_order_relaxed);
	err = pgc__mapping_replace(m, page, newpage);
	if (err) {
		pgc_assert(!"a locked page left its index");
		atomic_fetch_sub_explicit(&newpage->refcount, ctx->expected - 1, memory_order_relaxed);
		atomic_fetch_and_explicit(&newpage->flags, ~MIG_FLAGS, memory_order_acq_rel);
		unmove_private(m, page, newpage);
		pgc_page_ref_unfreeze(page, ctx->expected);
		return -EAGAIN;
	}
	/* Only the engine's reference stays on the old page. */
	pgc_page_ref_unfreeze(page, 1);
	return 0;
}

PGC_API int pgc_fail_migrate_page(pgc_mapping *m, pgc_page *newpage, pgc_page *page, int mode)
{
	(void)m;
	(void)newpage;
	(void)page;
	(void)mode;
	return -EIO;
}

/* ---- batches ----------------------------------------------------------- */

/* Whether the batch copies this mapping's pages (no op of its own). */
static bool batch_copies(const struct pgc_mapping *m)
{
	return !m->ops.migratepage || m->ops.migratepage == pgc_migrate_page;
}

struct copy_job {
	struct mig_item **items;
	unsigned nr;
	size_t ps;
};

/* One part of a batch's copy (workers.c calls it on any thread). */
static void copy_part(void *arg, unsigned part, unsigned parts)
{
	struct copy_job *j = arg;
	unsigned per = (j->nr + parts - 1) / parts, first = part * per;
	unsigned end = first + per < j->nr ? first + per : j->nr;
	/* memcpy, not non-temporal stores: a hand-written SSE2 streaming copy
	 * (with prefetch) was 3-8% slower than glibc's memcpy of each page here
	 * (bench_migrate, batches of 64 to 8192, 3 processes each). */
	for (unsigned i = first; i < end; i++)
		memcpy(pgc__page_data(j->items[i]->newpage), pgc__page_data(j->items[i]->page), j->ps);
}

/*
 * Copies the data of the items: a large batch is shared with the cache's
 * helper threads, started on the first such batch and kept (workers.c).
 */
static void copy_batch(struct mig_ctx *ctx, struct mig_item **items, unsigned n)
{
	struct pgc_cache *c = ctx->cache;
	struct copy_job job = {items, n, page_size_of(c)};
	unsigned parts = 1;
	if ((size_t)n * job.ps >= COPY_PARALLEL_MIN_BYTES) {
		unsigned threads = pgc__workers_threads(&c->workers, c->fork_gen);
		/* Two parts per thread, so that a late helper costs half a share. */
		parts = threads > 1 ? 2 * threads : 1;
		if (parts > n)
			parts = n;
	}
	pgc__workers_run(&c->workers, c->fork_gen, copy_part, &job, parts);
	for (unsigned i = 0; i < n; i++)
		items[i]->copied = true;
}

/*
 * Ends the attempt on a prepared item (both pages locked, old isolated; a
 * moved page's new page already on its LRU list). An old page whose last
 * reference goes is added to freed[*nfreed].
 */
static void finish_item(struct mig_ctx *ctx, struct mig_item *it, int rc, struct pgc_page **freed,
			unsigned *nfreed)
{
	struct pgc_cache *c = ctx->cache;
	struct pgc_page *old = it->page, *np = it->newpage;
	if (rc == 0) {
		pgc__unlock(np);
		pgc__put(np); /* the engine's; the mapping's and the caller's stay */
		pgc__clear(old, PGC_PGI_ISOLATED);
		pgc__unlock(old);
		/* The engine's isolation reference: the last one, unless a
		 * lookup is just letting go of it. */
		pgc__put_collect(old, freed, nfreed);
		it->page = np;
		it->newpage = NULL;
		ctx->st.succeeded++;
		ctx->st.bytes += page_size_of(c);
	} else {
		pgc__unlock(np); /* kept for the next pass, or freed at the end */
		pgc__lru_putback(c, &old, 1);
		pgc__unlock(old);
	}
	it->rc = rc;
}

/* Swaps in the prepared items (copying first where the engine may). */
static void complete_batch(struct mig_ctx *ctx, struct mig_item **prep, unsigned n)
{
	struct mig_item *copy[MIG_BATCH];
	unsigned nc = 0;
	for (unsigned i = 0; i < n; i++) {
		prep[i]->copied = false;
		if (batch_copies(prep[i]->m))
			copy[nc++] = prep[i];
	}
	if (nc)
		copy_batch(ctx, copy, nc);
	/* The new pages of the batch stay locked until they are on their LRU
	 * lists (one hold of each list's lock for the batch), and the old
	 * frames go back to their free lists in bulk (one hold of each pool's
	 * lock per run of frames). */
	struct pgc_page *moved[MIG_BATCH], *freed[MIG_BATCH];
	unsigned nm = 0, nf = 0;
	for (unsigned i = 0; i < n; i++) {
		struct mig_item *it = prep[i];
		ctx->copied = it->copied;
		int rc = it->m->ops.migratepage
				 ? it->m->ops.migratepage(it->m, it->newpage, it->page, ctx->mode)
				 : pgc_migrate_page(it->m, it->newpage, it->page, ctx->mode);
		if (rc == -EAGAIN)
			it->extra_refs = atomic_load(&it->page->refcount) > ctx->expected;
		it->rc = rc;
		if (rc == 0)
			moved[nm++] = it->newpage;
	}
	if (nm)
		pgc__lru_add_batch(ctx->cache, moved, nm);
	for (unsigned i = 0; i < n; i++)
		finish_item(ctx, prep[i], prep[i]->rc, freed, &nf);
	if (nf)
		pgc__page_free_batch(ctx->cache, freed, nf);
}

/*
 * Locks and checks one item. Returns 1 if it is prepared (both pages locked,
 * old isolated), 0 if its attempt ended (it->rc set). *nprep prepared items
 * are finished first whenever this would sleep.
 */
static int prepare_item(struct mig_ctx *ctx, struct mig_item *it, struct mig_item **prep,
			unsigned *nprep)
{
	struct pgc_page *p = it->page;
	it->extra_refs = false;
	if (!pgc__trylock(p)) {
		if (ctx->mode == PGC_MIGRATE_ASYNC) {
			it->rc = -EAGAIN;
			return 0;
		}
		if (*nprep) {
			complete_batch(ctx, prep, *nprep);
			*nprep = 0;
		}
		pgc__lock(p);
	}
	struct pgc_mapping *m = atomic_load_explicit(&p->mapping, memory_order_acquire);
	int rc = 0;
	if (!m) {
		rc = -ENOENT;
		goto out;
	}
	it->m = m;
	if (pgc__test(p, PGC_PG_WRITEBACK)) {
		if (ctx->mode != PGC_MIGRATE_SYNC) {
			rc = -EAGAIN;
			goto out;
		}
		if (*nprep) {
			complete_batch(ctx, prep, *nprep);
			*nprep = 0;
		}
		pgc__wait_bit(p, PGC_PG_WRITEBACK);
	}
	if (pgc__test(p, PGC_PG_DIRTY) && !m->ops.migratepage) {
		/* The default cannot move dirty data: write it out first. */
		if (ctx->mode != PGC_MIGRATE_SYNC) {
			rc = -EBUSY;
			goto out;
		}
		if (*nprep) {
			complete_batch(ctx, prep, *nprep);
			*nprep = 0;
		}
		if (pgc_mapping_write_page(p, NULL)) {
			rc = -EIO;
			goto out;
		}
		if (pgc__test(p, PGC_PG_DIRTY)) {
			rc = -EAGAIN;
			goto out;
		}
	}
	/* A cheap early look at the references; the freeze decides. */
	if (atomic_load_explicit(&p->refcount, memory_order_relaxed) > ctx->expected - 1) {
		it->extra_refs = true;
		rc = -EAGAIN;
		goto out;
	}
	if (!pgc__lru_isolate_page(ctx->cache, p)) {
		rc = -EAGAIN; /* reclaim or another migration holds it */
		goto out;
	}
	bool locked = pgc__trylock(it->newpage);
	pgc_assert(locked); /* a new page is nobody else's */
	(void)locked;
	prep[(*nprep)++] = it;
	return 1;
out:
	pgc__unlock(p);
	it->rc = rc;
	return 0;
}

/* One batch of a pass. Returns false if a new page was missing (-ENOMEM). */
static bool run_batch(struct mig_ctx *ctx, struct mig_item **items, unsigned n)
{
	bool ok = true;
	for (unsigned i = 0; i < n; i++) {
		struct mig_item *it = items[i];
		if (it->newpage)
			continue;
		it->newpage = ctx->new_page(it->page, ctx->private);
		if (!it->newpage) {
			n = i;
			ok = false;
			break;
		}
	}
	struct mig_item *prep[MIG_BATCH];
	unsigned nprep = 0;
	for (unsigned i = 0; i < n; i++)
		prepare_item(ctx, items[i], prep, &nprep);
	if (nprep)
		complete_batch(ctx, prep, nprep);
	return ok;
}

static void account(struct pgc_cache *c, int reason, const struct pgc_migrate_stats *st)
{
	struct pgc_mig_counters *k = &c->mig[reason];
	atomic_fetch_add_explicit(&k->calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->succeeded, st->succeeded, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->failed, st->failed, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->retried, st->retried, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->bytes, st->bytes, memory_order_relaxed);
}

/* Fills a caller's stats (optional; its size was checked at entry). */
static void stats_out(struct pgc_migrate_stats *out, const struct pgc_migrate_stats *st)
{
	if (out)
		pgc__abi_copy_out(out, st, sizeof(*st));
}

/* The check at entry of a caller's optional stats. */
static int stats_check(const struct pgc_migrate_stats *out)
{
	return out ? pgc__abi_check_out(out, PGC_MIGRATE_STATS_SIZE_0_1) : 0;
}

/*
 * The engine. Each page is held by one reference of the caller, so the
 * expected count is three: the mapping's, the caller's and the engine's.
 * extra_refs[i] (optional) tells which failed pages were held by others.
 */
static long migrate_run(struct pgc_cache *c, struct pgc_page **pages, unsigned nr,
			pgc_new_page_fn new_page, void *private, int mode, int reason, int *status,
			bool *extra_refs, struct pgc_migrate_stats *st_out);

/* migrate_run() inside an isolation window (see pgc__lru_isolating_begin). */
static long migrate_core(struct pgc_cache *c, struct pgc_page **pages, unsigned nr,
			 pgc_new_page_fn new_page, void *private, int mode, int reason, int *status,
			 bool *extra_refs, struct pgc_migrate_stats *st_out)
{
	pgc__lru_isolating_begin(c);
	long r = migrate_run(c, pages, nr, new_page, private, mode, reason, status, extra_refs,
			     st_out);
	pgc__lru_isolating_end(c);
	return r;
}

static long migrate_run(struct pgc_cache *c, struct pgc_page **pages, unsigned nr,
			pgc_new_page_fn new_page, void *private, int mode, int reason, int *status,
			bool *extra_refs, struct pgc_migrate_stats *st_out)
{
	struct mig_ctx ctx = {.cache = c, .mode = mode, .expected = MIG_EXPECTED_REFS,
			      .new_page = new_page, .private = private};
	struct mig_item *items = pgc__calloc(nr, sizeof(*items));
	struct mig_item **work = pgc__malloc(nr * sizeof(*work));
	if (!items || !work) {
		free(items);
		free(work);
		for (unsigned i = 0; status && i < nr; i++)
			status[i] = -ENOMEM;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nr; i++)
		items[i] = (struct mig_item){.page = pages[i], .pos = i, .rc = -EAGAIN};
	struct mig_ctx *saved = cur_ctx;
	cur_ctx = &ctx;
	bool enomem = false;
	for (unsigned pass = 0; pass < PGC_MIGRATE_PASSES && !enomem; pass++) {
		unsigned n = 0;
		for (unsigned i = 0; i < nr; i++)
			if (items[i].rc == -EAGAIN)
				work[n++] = &items[i];
		if (n == 0)
			break;
		ctx.st.passes++;
		for (unsigned off = 0; off < n && !enomem; off += MIG_BATCH)
			enomem = !run_batch(&ctx, work + off, n - off < MIG_BATCH ? n - off : MIG_BATCH);
		for (unsigned i = 0; i < n; i++)
			if (work[i]->rc == -EAGAIN)
				ctx.st.retried++;
	}
	cur_ctx = saved;
	for (unsigned i = 0; i < nr; i++) {
		struct mig_item *it = &items[i];
		if (it->rc == -EAGAIN)
			it->rc = enomem ? -ENOMEM : -EBUSY;
		if (it->newpage)
			pgc__put(it->newpage);
		if (it->rc == 0)
			pages[i] = it->page;
		else
			ctx.st.failed++;
		if (status)
			status[i] = it->rc;
		if (extra_refs)
			extra_refs[i] = it->rc == -EBUSY && it->extra_refs;
	}
	/* The passes' retries counted pages finally moved or failed too. */
	account(c, reason, &ctx.st);
	stats_out(st_out, &ctx.st);
	free(items);
	free(work);
	return enomem ? -ENOMEM : (long)ctx.st.failed;
}

PGC_API long pgc_migrate_pages(pgc_page **pages, unsigned nr, pgc_new_page_fn new_page,
			       void *private, int mode, int reason, int *status,
			       struct pgc_migrate_stats *stats)
{
	if (!pages || !new_page || mode < PGC_MIGRATE_ASYNC || mode > PGC_MIGRATE_SYNC ||
	    reason < 0 || reason >= PGC_MR_NR_REASONS)
		return -EINVAL;
	int serr = stats_check(stats);
	if (serr)
		return serr;
	if (nr == 0)
		return 0;
	struct pgc_cache *c = NULL;
	for (unsigned i = 0; i < nr; i++) {
		if (!pages[i] || atomic_load_explicit(&pages[i]->refcount, memory_order_relaxed) <= 0)
			return -EINVAL;
		struct pgc_cache *pc = pgc__page_chunk(pages[i])->cache;
		if (c && pc != c)
			return -EINVAL;
		c = pc;
	}
	return migrate_core(c, pages, nr, new_page, private, mode, reason, status, NULL, stats);
}

/* ---- move_pages -------------------------------------------------------- */

struct node_alloc {
	struct pgc_cache *cache;
	int node;
	unsigned flags;
};

static pgc_page *alloc_on_node(pgc_page *page, void *arg)
{
	(void)page;
	struct node_alloc *a = arg;
	struct pgc_page *p;
	return pgc__page_alloc(a->cache, a->node, PGC_ALLOC_STRICT | a->flags, &p) ? NULL : p;
}

/*
 * -ENODEV, -EACCES or 0 for a target node of the cache. A node of the cache
 * had memory when the cache was made, so only the cpuset is asked (one
 * get_mempolicy call); the memory of another node is read from sysfs, which
 * costs about 100 us in the VM.
 */
static int check_node(struct pgc_cache *c, int node)
{
	if (node < 0 || node > pgc__numa_max_node())
		return -ENODEV;
	if (pgc__node_index(c, node) >= 0)
		return pgc__numa_node_allowed(node) ? 0 : -EACCES;
	return pgc__numa_node_has_memory(node) ? -EACCES : -ENODEV;
}

/* The status of a page that cannot be moved whatever happens, or 0. */
static int page_precheck(struct pgc_cache *c, struct pgc_page *p)
{
	if (!p || !pgc__frames_owns(&c->frames, p))
		return -EFAULT;
	if (atomic_load_explicit(&p->refcount, memory_order_relaxed) <= 0 ||
	    !atomic_load_explicit(&p->mapping, memory_order_acquire))
		return -ENOENT;
	return 0;
}

PGC_API int pgc_page_kernel_node(const pgc_page *page)
{
	if (!page)
		return -EINVAL;
	void *addr = pgc__page_data(page);
	int st = -1;
	int err = pgc__numa_move_pages(&addr, 1, NULL, &st, false);
	return err < 0 ? err : st;
}

/*
 * Whether an isolated page is held by more than the mapping, the caller and
 * the engine: the rule of the copy mode (and of move_pages(2) without
 * MPOL_MF_MOVE_ALL, which moves only pages that the calling process alone
 * maps). A reference that a lookup holds for a moment is waited out for as
 * many tries as the copy mode makes passes. 0 if not held, -EBUSY or
 * -EACCES (the page's status) if held.
 */
static int held_by_others(struct pgc_page *p)
{
	for (unsigned t = 0;; t++) {
		/* The flags first, then the count: a reader drops its
		 * reference before it unlocks (read_run() in rw.c), so a page
		 * seen unlocked shows that reference gone. Read the other way
		 * round, the reader could let go of both in between and the
		 * page pass for pinned. */
		uint32_t f = pgc__flags(p);
		if (atomic_load_explicit(&p->refcount, memory_order_acquire) <= MIG_EXPECTED_REFS)
			return 0;
		if (t + 1 == PGC_MIGRATE_PASSES)
			/* Locked or under writeback: a transfer (a background
			 * readahead, a writeback) holds it for now, which makes
			 * it busy (-EBUSY, as a page under I/O is to
			 * move_pages(2)), not pinned. */
			return f & (PGC_BIT(PGC_PG_LOCKED) | PGC_BIT(PGC_PG_WRITEBACK)) ? -EBUSY
											: -EACCES;
		sched_yield();
	}
}

/*
 * Moves pages in place to node: the kernel moves the memory, the frames'
 * recorded node follows. Without PGC_MOVE_ALL, pages that others hold stay
 * (-EACCES), as by copy. The pages are held by the caller. status[i] gets
 * the node or an error.
 */
static unsigned move_inplace(struct pgc_cache *c, struct pgc_page **pages, unsigned n, int node,
			     unsigned flags, int *status)
{
	size_t os = (size_t)sysconf(_SC_PAGESIZE), ps = page_size_of(c);
	size_t per = ps / os;
	unsigned to_idx = (unsigned)pgc__node_index(c, node), failed = 0;
	void **addrs = pgc__malloc(n * per * sizeof(void *));
	int *nodes = pgc__malloc(n * per * sizeof(int)), *st = pgc__malloc(n * per * sizeof(int));
	bool *taken = pgc__calloc(n, sizeof(bool));
	if (!addrs || !nodes || !st || !taken) {
		for (unsigned i = 0; i < n; i++)
			status[i] = -ENOMEM;
		failed = n;
		goto out;
	}
	size_t k = 0;
	for (unsigned i = 0; i < n; i++) {
		struct pgc_page *p = pages[i];
		int from = pgc__page_node_of(p);
		/* Off its LRU list while its node changes; counted first on the
		 * target node, so that its limit holds. */
		bool isolated = false;
		for (int t = 0; t < 100 && !(isolated = pgc__lru_isolate_page(c, p)); t++)
			sched_yield();
		if (!isolated) {
			status[i] = atomic_load_explicit(&p->mapping, memory_order_acquire) ? -EBUSY : -ENOENT;
			continue;
		}
		int held = flags & PGC_MOVE_ALL ? 0 : held_by_others(p);
		if (held) {
			pgc__lru_putback(c, &p, 1);
			status[i] = held;
			continue;
		}
		int err = pgc__frames_rehome(c, p, to_idx);
		if (err) {
			pgc__lru_putback(c, &p, 1);
			status[i] = err;
			continue;
		}
		taken[i] = true;
		status[i] = from; /* where to go back to if the kernel refuses */
		for (size_t j = 0; j < per; j++, k++) {
			addrs[k] = (char *)pgc__page_data(p) + j * os;
			nodes[k] = node;
			st[k] = -1;
		}
	}
	int err = k ? pgc__numa_move_pages(addrs, k, nodes, st, false) : 0;
	k = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!taken[i]) {
			failed++;
			continue;
		}
		int res = node;
		for (size_t j = 0; j < per; j++, k++)
			if (err < 0 || st[k] != node)
				res = err < 0 ? err : st[k] < 0 ? st[k] : -EBUSY;
		if (res != node) {
			/* Some of its memory did not move: the record stays where it was. */
			pgc__frames_rehome_undo(c, pages[i], (unsigned)pgc__node_index(c, status[i]));
			failed++;
		}
		status[i] = res;
		pgc__lru_putback(c, &pages[i], 1);
	}
out:
	free(addrs);
	free(nodes);
	free(st);
	free(taken);
	return failed;
}

/* Moves pages[0..n) (all bound for node) by copy; status[i] = node or error. */
static unsigned move_copy(struct pgc_cache *c, struct pgc_page **pages, unsigned n, int node,
			  unsigned flags, int reason, int *status, struct pgc_migrate_stats *st)
{
	/* With exchange, a full node trades pages rather than evicting one. */
	struct node_alloc a = {c, node,
			       ((flags & PGC_MOVE_ASYNC) ? PGC_ALLOC_NOWAIT : 0) |
				       ((flags & PGC_MOVE_EXCHANGE) ? PGC__ALLOC_NORECLAIM : 0)};
	bool *extra = pgc__calloc(n, sizeof(bool));
	if (!extra) {
		for (unsigned i = 0; i < n; i++)
			status[i] = -ENOMEM;
		return n;
	}
	int mode = (flags & PGC_MOVE_ASYNC) ? PGC_MIGRATE_ASYNC : PGC_MIGRATE_SYNC;
	migrate_core(c, pages, n, alloc_on_node, &a, mode, reason, status, extra, st);
	unsigned failed = 0;
	for (unsigned i = 0; i < n; i++) {
		if (status[i] == 0) {
			status[i] = node;
		} else {
			if (status[i] == -EBUSY && extra[i] && !(flags & PGC_MOVE_ALL))
				status[i] = -EACCES;
			failed++;
		}
	}
	free(extra);
	return failed;
}

/*
 * PGC_MOVE_EXCHANGE: the pages the copy left because the node is full
 * trade places with cold pages of the node (exchange.c). They count as
 * moved, and twice their bytes as copied. Returns how many were exchanged.
 */
static unsigned exchange_full(struct pgc_cache *c, struct pgc_page **pages, unsigned n, int node,
			      unsigned flags, int reason, int *status, struct pgc_migrate_stats *st)
{
	unsigned ti = (unsigned)pgc__node_index(c, node), done = 0;
	pgc__lru_isolating_begin(c);
	for (unsigned i = 0; i < n; i++) {
		if (status[i] != -ENOMEM)
			continue;
		int err = pgc__exchange_page(c, &pages[i], ti, !(flags & PGC_MOVE_ASYNC));
		if (err == -ENOMEM)
			continue;
		status[i] = err ? err : node;
		done += err == 0;
	}
	pgc__lru_isolating_end(c);
	if (done) {
		struct pgc_mig_counters *k = &c->mig[reason];
		uint64_t bytes = (uint64_t)done * 2 * page_size_of(c);
		atomic_fetch_add_explicit(&k->succeeded, done, memory_order_relaxed);
		atomic_fetch_sub_explicit(&k->failed, done, memory_order_relaxed);
		atomic_fetch_add_explicit(&k->bytes, bytes, memory_order_relaxed);
		st->succeeded += done;
		st->failed -= done;
		st->bytes += bytes;
	}
	return done;
}

static void stats_add(struct pgc_migrate_stats *sum, const struct pgc_migrate_stats *s)
{
	sum->passes = s->passes > sum->passes ? s->passes : sum->passes;
	sum->succeeded += s->succeeded;
	sum->failed += s->failed;
	sum->retried += s->retried;
	sum->bytes += s->bytes;
}

/* Pages moved by copy are replaced by their new pages (migrate_internal.h). */
unsigned pgc__migrate_move(struct pgc_cache *c, struct pgc_page **pages, unsigned n, int node,
			   unsigned flags, int reason, int *status, struct pgc_migrate_stats *sum)
{
	if (flags & PGC_MOVE_INPLACE) {
		pgc__lru_isolating_begin(c);
		unsigned failed = move_inplace(c, pages, n, node, flags, status);
		pgc__lru_isolating_end(c);
		struct pgc_migrate_stats s = {.size = sizeof(s), .passes = 1,
					      .succeeded = n - failed, .failed = failed,
					      .bytes = (uint64_t)(n - failed) * page_size_of(c)};
		account(c, reason, &s);
		stats_add(sum, &s);
		return failed;
	}
	struct pgc_migrate_stats s = {.size = sizeof(s)};
	unsigned failed = move_copy(c, pages, n, node, flags, reason, status, &s);
	if (failed && (flags & PGC_MOVE_EXCHANGE))
		failed -= exchange_full(c, pages, n, node, flags, reason, status, &s);
	stats_add(sum, &s);
	return failed;
}

#define MOVE_FLAGS                                                                 \
	(PGC_MOVE_ALL | PGC_MOVE_INPLACE | PGC_MOVE_ASYNC | PGC_MOVE_QUERY_KERNEL | \
	 PGC_MOVE_EXCHANGE)

PGC_API long pgc_move_pages(pgc_cache *c, unsigned long count, pgc_page **pages, const int *nodes,
			    int *status, unsigned flags)
{
	if (!c || (flags & ~MOVE_FLAGS) || (count && (!pages || !status)) || count > UINT32_MAX ||
	    ((flags & PGC_MOVE_EXCHANGE) && (flags & PGC_MOVE_INPLACE)))
		return -EINVAL;
	if ((flags & PGC_MOVE_INPLACE) && c->huge_pages)
		return -EOPNOTSUPP;
	if (!nodes) {
		for (unsigned long i = 0; i < count; i++) {
			int err = page_precheck(c, pages[i]);
			status[i] = err ? err
				    : (flags & PGC_MOVE_QUERY_KERNEL) ? pgc_page_kernel_node(pages[i])
				    : pgc__page_node_of(pages[i]);
		}
		return 0;
	}
	/* Each node named is checked once: checked per page, the check (it
	 * read sysfs then) made in-place moves 25x slower than move_pages(2). */
	uint64_t checked[(PGC_MAX_NODES + 63) / 64] = {0};
	for (unsigned long i = 0; i < count; i++) {
		int node = nodes[i];
		if (node >= 0 && node < PGC_MAX_NODES && (checked[node / 64] >> (node % 64)) & 1)
			continue;
		int err = check_node(c, node);
		if (err)
			return err;
		if (node < PGC_MAX_NODES)
			checked[node / 64] |= 1ull << (node % 64);
	}
	/* One group per target node, in the order of first appearance. */
	struct pgc_page **grp = pgc__malloc(count * sizeof(*grp) + 1);
	unsigned *pos = pgc__malloc(count * sizeof(*pos) + 1);
	int *gst = pgc__malloc(count * sizeof(*gst) + 1);
	bool *done = pgc__calloc(count + 1, sizeof(bool));
	if (!grp || !pos || !gst || !done) {
		free(grp);
		free(pos);
		free(gst);
		free(done);
		return -ENOMEM;
	}
	long not_moved = 0;
	struct pgc_migrate_stats sum = {.size = sizeof(sum)};
	for (unsigned long i = 0; i < count; i++) {
		if (done[i])
			continue;
		int node = nodes[i];
		unsigned n = 0;
		for (unsigned long j = i; j < count; j++) {
			if (done[j] || nodes[j] != node)
				continue;
			done[j] = true;
			int err = page_precheck(c, pages[j]);
			if (err) {
				status[j] = err;
				not_moved++;
			} else if (pgc__page_node_of(pages[j]) == node) {
				status[j] = node; /* already there */
			} else {
				grp[n] = pages[j];
				pos[n++] = (unsigned)j;
			}
		}
		if (n == 0)
			continue;
		not_moved += pgc__migrate_move(c, grp, n, node, flags, PGC_MR_SYSCALL, gst, &sum);
		for (unsigned k = 0; k < n; k++) {
			pages[pos[k]] = grp[k];
			status[pos[k]] = gst[k];
		}
	}
	free(grp);
	free(pos);
	free(gst);
	free(done);
	return not_moved;
}

/* ---- whole sets -------------------------------------------------------- */

/* Frame ids as bits: the frames this call moved pages to. */
static bool id_marked(const uint64_t *set, uint32_t id)
{
	return set[id / 64] & (1ull << (id % 64));
}

static void id_mark(uint64_t *set, uint32_t id)
{
	set[id / 64] |= 1ull << (id % 64);
}

/*
 * Collects up to max pages of the cache on node (of mapping m if not NULL),
 * referenced, leaving out the frames in moved (pages this call put there).
 */
static unsigned collect_node(struct pgc_cache *c, struct pgc_mapping *m, int node,
			     const uint64_t *moved, uint32_t *cursor, struct pgc_page **out,
			     unsigned max)
{
	struct pgc_frames *fr = &c->frames;
	uint32_t nchunks = atomic_load_explicit(&fr->nr_chunks, memory_order_acquire);
	unsigned n = 0;
	for (; *cursor < (nchunks << PGC_CHUNK_SHIFT) && n < max; (*cursor)++) {
		struct pgc_page *p = pgc__frames_slot(fr, *cursor);
		if (!p || pgc__page_node_of(p) != node || id_marked(moved, *cursor) ||
		    !pgc__get_unless_zero(p))
			continue;
		struct pgc_mapping *pm = atomic_load_explicit(&p->mapping, memory_order_acquire);
		if (!pm || (m && pm != m) || pgc__page_node_of(p) != node) {
			pgc__put(p);
			continue;
		}
		out[n++] = p;
	}
	return n;
}

PGC_API long pgc_migrate_nodes(pgc_cache *c, pgc_mapping *m, const int *from, const int *to,
			       unsigned nr, unsigned flags, int reason, struct pgc_migrate_stats *stats)
{
	if (!c || !from || !to || (flags & ~(PGC_MOVE_ALL | PGC_MOVE_INPLACE | PGC_MOVE_ASYNC)) ||
	    reason < 0 || reason >= PGC_MR_NR_REASONS || (m && m->cache != c))
		return -EINVAL;
	int serr = stats_check(stats);
	if (serr)
		return serr;
	if ((flags & PGC_MOVE_INPLACE) && c->huge_pages)
		return -EOPNOTSUPP;
	for (unsigned i = 0; i < nr; i++) {
		int err = check_node(c, to[i]);
		if (err)
			return err;
		if (pgc__node_index(c, from[i]) < 0)
			return from[i] < 0 || !pgc__numa_node_has_memory(from[i]) ? -ENODEV : -EACCES;
	}
	struct pgc_page **batch = pgc__malloc(NODES_WALK_BATCH * sizeof(*batch));
	int *st = pgc__malloc(NODES_WALK_BATCH * sizeof(*st));
	/*
	 * Each page's target is decided by where it was when the call began,
	 * as migrate_pages(2) does for overlapping sets: with from = {0, 1}
	 * and to = {1, 0}, the pages moved to node 1 by the first pair are not
	 * node 1's pages for the second. The pairs run one after the other,
	 * so the frames that received a page (a new frame by copy, the same
	 * frame in place) are remembered and left out of later walks. Chunks
	 * created during the call are covered: the set spans max_chunks.
	 */
	size_t ids = (size_t)c->frames.max_chunks << PGC_CHUNK_SHIFT;
	uint64_t *moved = pgc__calloc((ids + 63) / 64, sizeof(uint64_t));
	if (!batch || !st || !moved) {
		free(batch);
		free(st);
		free(moved);
		return -ENOMEM;
	}
	struct pgc_migrate_stats sum = {.size = sizeof(sum)};
	long not_moved = 0;
	for (unsigned i = 0; i < nr; i++) {
		bool seen = from[i] == to[i];
		/* A node named twice as a source keeps its first pair. */
		for (unsigned j = 0; j < i && !seen; j++)
			seen = from[j] == from[i];
		if (seen)
			continue;
		uint32_t cursor = 0;
		unsigned n;
		while ((n = collect_node(c, m, from[i], moved, &cursor, batch, NODES_WALK_BATCH)) > 0) {
			not_moved += pgc__migrate_move(c, batch, n, to[i], flags, reason, st, &sum);
			for (unsigned k = 0; k < n; k++) {
				if (st[k] == to[i])
					id_mark(moved, pgc__page_id(batch[k]));
				pgc__put(batch[k]);
			}
		}
	}
	free(batch);
	free(st);
	free(moved);
	stats_out(stats, &sum);
	return not_moved;
}

PGC_API int pgc_cache_migrate_stats(pgc_cache *c, int reason, struct pgc_migrate_stats *stats)
{
	if (!c || !stats || reason < 0 || reason >= PGC_MR_NR_REASONS)
		return -EINVAL;
	int err = pgc__abi_check_out(stats, PGC_MIGRATE_STATS_SIZE_0_1);
	if (err)
		return err;
	struct pgc_mig_counters *k = &c->mig[reason];
	struct pgc_migrate_stats s = {
		.size = sizeof(s),
		.passes = (uint32_t)atomic_load(&k->calls),
		.succeeded = atomic_load(&k->succeeded),
		.failed = atomic_load(&k->failed),
		.retried = atomic_load(&k->retried),
		.bytes = atomic_load(&k->bytes),
	};
	stats_out(stats, &s);
	return 0;
}
