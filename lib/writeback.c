/*
 * Writeback: turning dirty pages clean through the mapping's writepage and
 * writepages operations. Reclaim (above) writes single pages from here; the
 * default writepages walks the index's dirty (or, for a sync, to-write)
 * tag in index order.
 *
 * A failed write never loses data: the page is marked dirty again and gets
 * ERROR, and the error goes back to the caller. (The per-caller error
 * reporting of fsync, errseq, belongs to the I/O layer.)
 */
#include <errno.h>
#include <stdlib.h>

#include "abi_internal.h"
#include "alloc_internal.h"
#include "writeback_internal.h"

#define PGC_BACKOFF_MIN_MS 10u
#define PGC_BACKOFF_MAX_MS 30000u
#define PGC_LOG_PERIOD_NS 10000000000ull

void pgc__wb_write_failed(struct pgc_mapping *m, uint64_t index, unsigned nr, int err)
{
	struct pgc_cache *c = m->cache;
	atomic_fetch_add_explicit(&c->wb.wb_failures, nr, memory_order_relaxed);
	uint64_t now = pgc__now_ns();
	pthread_mutex_lock(&m->wb_log_lock);
	m->wb_failures += nr;
	/* The delay doubles per attempt after the last one ran out, not per
	 * page: the other pages of a step fail within the same delay. */
	if (now >= atomic_load_explicit(&m->wb_retry_ns, memory_order_relaxed)) {
		m->wb_backoff_ms = m->wb_backoff_ms ? m->wb_backoff_ms * 2 : PGC_BACKOFF_MIN_MS;
		if (m->wb_backoff_ms > PGC_BACKOFF_MAX_MS)
			m->wb_backoff_ms = PGC_BACKOFF_MAX_MS;
		atomic_store_explicit(&m->wb_retry_ns, now + (uint64_t)m->wb_backoff_ms * 1000000u,
				      memory_order_relaxed);
	}
	atomic_store_explicit(&m->wb_last_err, err, memory_order_relaxed);
	if (m->wb_log_ns == 0) {
		pgc__log(c, PGC_LOG_ERROR,
			 "mapping %s: write of %u page(s) from index %llu failed: %s (%s); "
			 "retrying with backoff, further failures summed up every 10 s",
			 pgc__mapping_log_name(m), nr, (unsigned long long)index, pgc_errname(err), pgc_strerror(err));
		m->wb_log_ns = now;
	} else if (now - m->wb_log_ns >= PGC_LOG_PERIOD_NS) {
		pgc__log(c, PGC_LOG_ERROR,
			 "mapping %s: %llu more page write(s) failed in %llu s, the last from index "
			 "%llu: %s (%s); %llu failed in all, next retry in %u ms",
			 pgc__mapping_log_name(m), (unsigned long long)(m->wb_unlogged + nr),
			 (unsigned long long)((now - m->wb_log_ns) / 1000000000u),
			 (unsigned long long)index, pgc_errname(err), pgc_strerror(err),
			 (unsigned long long)m->wb_failures, m->wb_backoff_ms);
		m->wb_unlogged = 0;
		m->wb_log_ns = now;
	} else {
		m->wb_unlogged += nr;
	}
	pthread_mutex_unlock(&m->wb_log_lock);
}

void pgc__wb_recovered(struct pgc_mapping *m)
{
	pthread_mutex_lock(&m->wb_log_lock);
	int err = atomic_load_explicit(&m->wb_last_err, memory_order_relaxed);
	if (err) {
		pgc__log(m->cache, PGC_LOG_WARN,
			 "mapping %s: writes succeed again after %llu failure(s) (last: %s, %s)",
			 pgc__mapping_log_name(m), (unsigned long long)m->wb_failures, pgc_errname(err), pgc_strerror(err));
		atomic_store_explicit(&m->wb_last_err, 0, memory_order_relaxed);
		atomic_store_explicit(&m->wb_retry_ns, 0, memory_order_relaxed);
		m->wb_backoff_ms = 0;
		m->wb_unlogged = 0;
		/* A new failure right away is logged at the next period. */
	}
	pthread_mutex_unlock(&m->wb_log_lock);
}

/*
 * The writeback flag lives here, with the mapping layer, because a mapping
 * counts its pages under writeback (destroy refuses while any remain).
 */
PGC_API int pgc_page_start_writeback(pgc_page *page)
{
	if (!page || !pgc__test(page, PGC_PG_LOCKED))
		return -EINVAL;
	if (pgc__test_and_set(page, PGC_PG_WRITEBACK))
		return -EBUSY;
	atomic_fetch_add_explicit(&pgc__page_chunk(page)->cache->nr_writeback, 1,
				  memory_order_relaxed);
	/* A page under writeback cannot leave its mapping (delete and
	 * truncate refuse or wait), so the mapping's count stays exact. */
	struct pgc_mapping *m = atomic_load_explicit(&page->mapping, memory_order_relaxed);
	if (m)
		atomic_fetch_add_explicit(&m->nr_writeback, 1, memory_order_relaxed);
	/* Tagged under writeback first, out of the dirty set second (if
	 * clean now): a sync never finds the page in neither set, so it
	 * either writes it or waits for it (pgc__mapping_wait_writeback). */
	if (m)
		pgc__mapping_writeback_tag(m, page, true);
	return 0;
}

PGC_API int pgc_page_end_writeback(pgc_page *page)
{
	if (!page || !pgc__test(page, PGC_PG_WRITEBACK))
		return -EINVAL;
	atomic_fetch_sub_explicit(&pgc__page_chunk(page)->cache->nr_writeback, 1,
				  memory_order_relaxed);
	struct pgc_mapping *m = atomic_load_explicit(&page->mapping, memory_order_relaxed);
	if (m) {
		pgc__mapping_writeback_tag(m, page, false); /* the tag goes before the flag */
		atomic_fetch_sub_explicit(&m->nr_writeback, 1, memory_order_relaxed);
	}
	pgc__clear_and_wake(page, PGC_PG_WRITEBACK);
	return 0;
}

PGC_API int pgc_mapping_write_page(pgc_page *page, struct pgc_writeback_control *ucwbc)
{
	if (!page || !pgc__test(page, PGC_PG_LOCKED))
		return -EINVAL;
	/* writepage gets the caller's structure if it is of this release or a
	 * newer one; an older, smaller one is copied into a whole structure of
	 * this release, whose members go back to the caller at the end. */
	struct pgc_writeback_control local = {
		.size = sizeof(local),
		.sync_mode = PGC_WB_ALL,
		.range_start = 0,
		.range_end = UINT64_MAX,
		.nr_to_write = 1,
	};
	if (ucwbc) {
		int err = PGC__ABI_IN(local, ucwbc, PGC_WRITEBACK_CONTROL_SIZE_0_1);
		if (err)
			return err;
	}
	struct pgc_writeback_control *wbc = ucwbc && ucwbc->size >= sizeof(local) ? ucwbc : &local;
	struct pgc_mapping *m = atomic_load_explicit(&page->mapping, memory_order_acquire);
	if (!m)
		return -EINVAL;
	if (!pgc__test(page, PGC_PG_DIRTY))
		return 0;
	if (!m->ops.writepage)
		return -EROFS;
	/* Someone else's writeback of older data must finish first. */
	pgc__wait_bit(page, PGC_PG_WRITEBACK);
	if (!pgc_page_clear_dirty_for_io(page))
		return 0;
	pgc_page_start_writeback(page);
	int err = m->ops.writepage(m, page, wbc);
	if (err) {
		pgc__set(page, PGC_PG_ERROR);
		pgc_page_set_dirty(page);
		pgc_mapping_set_error(m, err);
		pgc__wb_write_failed(m, atomic_load(&page->index), 1, err);
	} else {
		pgc__clear(page, PGC_PG_ERROR);
		wbc->nr_to_write--;
		pgc__wb_write_ok(m);
	}
	pgc_page_end_writeback(page);
	if (ucwbc && wbc == &local)
		PGC__ABI_OUT(ucwbc, local);
	return err;
}

struct wb_walk {
	struct pgc_mapping *m;
	struct pgc_writeback_control *wbc;
	int first_error;
};

static int write_one(pgc_page *page, void *arg)
{
	struct wb_walk *w = arg;
	if (w->wbc->sync_mode == PGC_WB_NONE) {
		if (!pgc__trylock(page))
			return 0;
		if (pgc__test(page, PGC_PG_WRITEBACK)) {
			pgc__unlock(page);
			return 0;
		}
	} else {
		pgc__lock(page);
	}
	int err = 0;
	if (atomic_load_explicit(&page->mapping, memory_order_relaxed) == w->m)
		err = pgc_mapping_write_page(page, w->wbc);
	pgc__unlock(page);
	if (err && !w->first_error)
		w->first_error = err;
	/* Without writepage nothing will get better: stop at once. */
	return err == -EROFS ? err : 0;
}

/*
 * The pages a writeback walks: with PGC_WB_NONE the dirty ones as it goes;
 * with PGC_WB_ALL those dirty when it began (tagged TOWRITE first), so that
 * writers dirtying pages behind the walk cannot keep a sync going forever.
 */
static int walk_to_write(struct pgc_mapping *m, struct pgc_writeback_control *wbc,
			 pgc_page_visit_fn fn, void *arg)
{
	if (wbc->range_start > wbc->range_end)
		return -EINVAL;
	if (wbc->sync_mode != PGC_WB_ALL)
		return pgc__mapping_walk(m, wbc->range_start, wbc->range_end, PGC_TAG_DIRTY, fn, arg);
	pgc__mapping_tag_towrite(m, wbc->range_start, wbc->range_end);
	return pgc__mapping_walk(m, wbc->range_start, wbc->range_end, PGC_TAG_TOWRITE, fn, arg);
}

static int default_writepages(struct pgc_mapping *m, struct pgc_writeback_control *wbc)
{
	struct wb_walk w = {.m = m, .wbc = wbc, .first_error = 0};
	int ret = walk_to_write(m, wbc, write_one, &w);
	if (ret < 0 && ret != -EROFS)
		return ret;
	return w.first_error;
}

int pgc__mapping_writepages(struct pgc_mapping *m, struct pgc_writeback_control *wbc)
{
	return m->ops.writepages ? m->ops.writepages(m, wbc) : default_writepages(m, wbc);
}

PGC_API int pgc_mapping_writeback(pgc_mapping *m, uint64_t start, uint64_t end, int sync_mode)
{
	if (!m || start > end || (sync_mode != PGC_WB_NONE && sync_mode != PGC_WB_ALL))
		return -EINVAL;
	struct pgc_writeback_control wbc = {
		.size = sizeof(wbc),
		.sync_mode = sync_mode,
		.range_start = start,
		.range_end = end,
		.nr_to_write = (long)((~0ul) >> 1),
	};
	int err = pgc__mapping_writepages(m, &wbc);
	if (sync_mode == PGC_WB_ALL) {
		/* Pages that others are writing back count too: wait for them. */
		int werr = pgc__mapping_wait_writeback(m, start, end);
		if (!err)
			err = werr;
	}
	return err;
}

/*
 * Runs of consecutive pages being gathered for one call of the store:
 * pages[] holds the runs one after the other, run_nr[] their lengths.
 * pgc_mapping_writeback_runs() is the case of one run per call.
 */
struct run_walk {
	struct pgc_mapping *m;
	struct pgc_writeback_control *wbc;
	pgc_write_run_fn run_fn;
	pgc_write_batch_fn batch_fn;
	void *arg;
	unsigned max, max_runs, cap; /* pages per run, runs and pages per call */
	unsigned nr, runs;           /* pages and runs gathered */
	int first_error;
	struct pgc_page **pages;
	unsigned *run_nr;
	int *errors;
};

/* Ends the writeback of one run the store has written (err 0) or not. */
static void run_finish(struct run_walk *w, struct pgc_page **pages, unsigned nr, int err)
{
	for (unsigned i = 0; i < nr; i++) {
		struct pgc_page *p = pages[i];
		if (err) {
			/* Nothing is lost: the data stays dirty for a later try. */
			pgc__set(p, PGC_PG_ERROR);
			pgc_page_set_dirty(p);
		} else {
			pgc__clear(p, PGC_PG_ERROR);
			w->wbc->nr_to_write--;
		}
		pgc_page_end_writeback(p);
		pgc__unlock(p);
		pgc__put(p);
	}
	if (err) {
		pgc_mapping_set_error(w->m, err);
		pgc__wb_write_failed(w->m, atomic_load(&pages[0]->index), nr, err);
		if (!w->first_error)
			w->first_error = err;
	} else {
		pgc__wb_write_ok(w->m);
	}
}

static void run_flush(struct run_walk *w)
{
	if (w->nr == 0)
		return;
	if (w->batch_fn) {
		for (unsigned r = 0; r < w->runs; r++)
			w->errors[r] = 0;
		w->batch_fn(w->m, w->pages, w->run_nr, w->errors, w->runs, w->arg);
	} else {
		w->errors[0] = w->run_fn(w->m, w->pages, w->nr, w->arg);
	}
	struct pgc_page **p = w->pages;
	for (unsigned r = 0; r < w->runs; r++) {
		int err = w->errors[r] > 0 ? -EIO : w->errors[r];
		run_finish(w, p, w->run_nr[r], err);
		p += w->run_nr[r];
	}
	w->nr = 0;
	w->runs = 0;
}

static int run_visit(pgc_page *page, void *arg)
{
	struct run_walk *w = arg;
	uint64_t idx = atomic_load_explicit(&page->index, memory_order_relaxed);
	bool extends = w->nr && w->run_nr[w->runs - 1] < w->max &&
		       atomic_load_explicit(&w->pages[w->nr - 1]->index, memory_order_relaxed) + 1 ==
			       idx;
	if (w->nr && !extends && (w->runs == w->max_runs || w->nr == w->cap))
		run_flush(w);
	if (!pgc__trylock(page)) {
		if (w->wbc->sync_mode == PGC_WB_NONE)
			return 0;
		/* Never sleep holding the locks of a run. */
		run_flush(w);
		pgc__lock(page);
	}
	if (atomic_load_explicit(&page->mapping, memory_order_relaxed) != w->m ||
	    !pgc__test(page, PGC_PG_DIRTY)) {
		pgc__unlock(page);
		return 0;
	}
	if (pgc__test(page, PGC_PG_WRITEBACK)) {
		if (w->wbc->sync_mode == PGC_WB_NONE) {
			pgc__unlock(page);
			return 0;
		}
		run_flush(w);
		pgc__wait_bit(page, PGC_PG_WRITEBACK);
	}
	if (!pgc_page_clear_dirty_for_io(page)) {
		pgc__unlock(page);
		return 0;
	}
	pgc_page_start_writeback(page);
	pgc__get(page);
	/* The page may have waited above: is it still next to the last? */
	extends = w->nr && w->run_nr[w->runs - 1] < w->max &&
		  atomic_load_explicit(&w->pages[w->nr - 1]->index, memory_order_relaxed) + 1 == idx;
	if (w->nr == w->cap || (!extends && w->runs == w->max_runs))
		run_flush(w); /* holds no page of this one: it is not in pages[] yet */
	if (!w->nr || !extends)
		w->run_nr[w->runs++] = 0;
	w->run_nr[w->runs - 1]++;
	w->pages[w->nr++] = page;
	return 0;
}

static int writeback_gather(pgc_mapping *m, struct pgc_writeback_control *ucwbc,
			    struct run_walk *w)
{
	struct pgc_writeback_control local;
	int err = PGC__ABI_IN(local, ucwbc, PGC_WRITEBACK_CONTROL_SIZE_0_1);
	if (err)
		return err;
	/* As in pgc_mapping_write_page(): an older caller's is copied. */
	struct pgc_writeback_control *wbc = ucwbc->size >= sizeof(local) ? ucwbc : &local;
	w->m = m;
	w->wbc = wbc;
	w->pages = pgc__malloc(w->cap * sizeof(*w->pages));
	w->run_nr = pgc__malloc(w->max_runs * sizeof(*w->run_nr));
	w->errors = pgc__malloc(w->max_runs * sizeof(*w->errors));
	int ret = -ENOMEM;
	if (w->pages && w->run_nr && w->errors) {
		ret = walk_to_write(m, wbc, run_visit, w);
		run_flush(w);
	}
	free(w->pages);
	free(w->run_nr);
	free(w->errors);
	if (wbc == &local)
		PGC__ABI_OUT(ucwbc, local);
	if (ret < 0)
		return ret;
	return w->first_error;
}

static unsigned run_limit(unsigned max_run)
{
	if (max_run == 0)
		return 256;
	/* one pwritev takes IOV_MAX (1024) buffers */
	return max_run > PGC_MAX_RUN ? PGC_MAX_RUN : max_run;
}

PGC_API int pgc_mapping_writeback_runs(pgc_mapping *m, struct pgc_writeback_control *ucwbc,
				       pgc_write_run_fn fn, void *arg, unsigned max_run)
{
	if (!m || !ucwbc || !fn)
		return -EINVAL;
	struct run_walk w = {.run_fn = fn, .arg = arg, .max = run_limit(max_run), .max_runs = 1};
	w.cap = w.max;
	return writeback_gather(m, ucwbc, &w);
}

PGC_API int pgc_mapping_writeback_batch(pgc_mapping *m, struct pgc_writeback_control *ucwbc,
					pgc_write_batch_fn fn, void *arg, unsigned max_run,
					unsigned max_runs)
{
	if (!m || !ucwbc || !fn)
		return -EINVAL;
	if (max_runs == 0)
		max_runs = 32;
	if (max_runs > PGC_MAX_BATCH_RUNS)
		max_runs = PGC_MAX_BATCH_RUNS;
	struct run_walk w = {.batch_fn = fn, .arg = arg, .max = run_limit(max_run),
			     .max_runs = max_runs};
	uint64_t cap = (uint64_t)w.max * max_runs;
	w.cap = cap > PGC_MAX_BATCH_PAGES ? PGC_MAX_BATCH_PAGES : (unsigned)cap;
	if (w.cap < w.max)
		w.cap = w.max;
	return writeback_gather(m, ucwbc, &w);
}
