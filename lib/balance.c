/*
 * Dirty limits and background writeback: the kernel's balance_dirty_pages
 * (mm/page-writeback.c) and its flusher threads (fs/fs-writeback.c), for
 * the pages of one cache.
 *
 * A cache has a dirty limit and a background threshold, in pages (from its
 * configuration). Only pages of mappings that can write back count. A
 * buffered write that would dirty one more page while the cache is at the
 * limit first balances (pgc__balance_dirty): without a writeback thread it
 * writes back a step of the oldest dirty mapping itself, as the kernel did
 * before 3.2; with one, it wakes the thread and sleeps in growing pauses
 * until the count is below the limit. Either way it waits only while
 * writeback progresses: when every mapping over the limit is failing (its
 * last write failed and it is backing off), the writer gets that error
 * (-ENOSPC for a full store, say), and after dirty_wait_ms with no progress
 * at all, -EAGAIN. So a full store makes writes fail with its own error,
 * never with -ENOMEM, and leaves the rest of the capacity clean for reads.
 *
 * The dirty mappings are on a list in the order they were first dirtied
 * (their dirtied_ns); a step takes the first one that is not backing off,
 * moves it to the tail (so that mappings take turns, the kernel's
 * requeue_io), and writes up to a step's pages from where its last step
 * stopped (wb_index, the kernel's writeback_index), in index order,
 * through the mapping's writepages. The thread takes steps while more
 * than the background threshold is dirty, and for mappings dirty longer
 * than dirty_expire_ms; after failures it waits for the mapping's backoff
 * (writeback.c doubles it from 10 ms to 30 s).
 *
 * cache.c sets up and tears down this state with the cache (one call each
 * way, as a file system registers its bdi).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "balance_internal.h"
#include "fault_internal.h"
#include "writeback_internal.h"

#define PGC_DIRTY_RATIO_DEFAULT 50u
#define PGC_DIRTY_WAIT_MS_DEFAULT 30000u
#define PGC_DIRTY_EXPIRE_MS_DEFAULT 30000u
/* Pages per step: the thread's (the kernel's MAX_WRITEBACK_PAGES), a writer's. */
#define PGC_WB_STEP_THREAD 1024l
#define PGC_WB_STEP_WRITER 256l
/* A throttled writer's pauses grow from 1 ms to 16 ms. */
#define PGC_PAUSE_MIN_NS 1000000ull
#define PGC_PAUSE_MAX_NS 16000000ull
#define PGC_WB_PERIOD_NS 5000000000ull

static void *wb_thread(void *arg);

int pgc__wb_init(struct pgc_cache *c, const struct pgc_cache_config *cfg, uint64_t capacity)
{
	struct pgc_wb *wb = &c->wb;
	uint32_t ratio = cfg->dirty_ratio ? cfg->dirty_ratio : PGC_DIRTY_RATIO_DEFAULT;
	uint64_t limit = cfg->dirty_limit_pages ? cfg->dirty_limit_pages : capacity * ratio / 100;
	if (limit == 0)
		limit = 1;
	uint64_t bg = cfg->dirty_background_pages;
	if (!bg)
		bg = cfg->dirty_background_ratio ? capacity * cfg->dirty_background_ratio / 100 : limit / 2;
	if (bg >= limit && (cfg->dirty_background_pages || cfg->dirty_background_ratio))
		return -EINVAL;
	if (bg >= limit)
		bg = limit - 1;
	wb->limit = limit;
	wb->background = bg;
	wb->wait_ns = (uint64_t)(cfg->dirty_wait_ms ? cfg->dirty_wait_ms : PGC_DIRTY_WAIT_MS_DEFAULT) *
		      1000000u;
	wb->expire_ns = (uint64_t)(cfg->dirty_expire_ms ? cfg->dirty_expire_ms
							 : PGC_DIRTY_EXPIRE_MS_DEFAULT) *
			1000000u;
	pthread_mutex_init(&wb->lock, NULL);
	pgc__cond_init_monotonic(&wb->wake);
	pthread_cond_init(&wb->done, NULL);
	CDS_INIT_LIST_HEAD(&wb->dirty);
	if (cfg->flags & PGC_CACHE_WRITEBACK_THREAD) {
		int err = pgc_cache_start_writeback(c);
		if (err) {
			pgc__wb_fini(c);
			return err;
		}
	}
	return 0;
}

void pgc__wb_fini(struct pgc_cache *c)
{
	pgc_cache_stop_writeback(c);
	pthread_cond_destroy(&c->wb.done);
	pthread_cond_destroy(&c->wb.wake);
	pthread_mutex_destroy(&c->wb.lock);
}

/*
 * Under wb->lock: the first dirty mapping that may be written now (not
 * backing off; with expired_before, only one dirtied before then), moved
 * to the tail and marked busy, or NULL. *next is lowered to the earliest
 * time a mapping passed over becomes eligible.
 */
static struct pgc_mapping *pick(struct pgc_wb *wb, uint64_t now, uint64_t expired_before,
				uint64_t *next, int *backoff_err)
{
	struct cds_list_head *pos;
	/* Not cds_list_for_each_entry: it makes a mapping pointer of the list
	 * head itself, which is no mapping (UBSan: misaligned access). */
	cds_list_for_each(pos, &wb->dirty) {
		struct pgc_mapping *m = caa_container_of(pos, struct pgc_mapping, wb_link);
		uint64_t retry = atomic_load_explicit(&m->wb_retry_ns, memory_order_relaxed);
		if (retry > now) {
			if (retry < *next)
				*next = retry;
			if (backoff_err && !*backoff_err)
				*backoff_err = atomic_load_explicit(&m->wb_last_err, memory_order_relaxed);
			continue;
		}
		if (expired_before && m->dirtied_ns >= expired_before) {
			uint64_t due = m->dirtied_ns + wb->expire_ns;
			if (due < *next)
				*next = due;
			continue;
		}
		cds_list_del(&m->wb_link);
		cds_list_add_tail(&m->wb_link, &wb->dirty);
		m->wb_busy++;
		return m;
	}
	return NULL;
}

/* Under wb->lock: a step on m is over. */
static void unpick(struct pgc_wb *wb, struct pgc_mapping *m)
{
	if (--m->wb_busy == 0)
		pthread_cond_broadcast(&wb->done);
}

/*
 * Writes back up to nr dirty pages of m (picked, so it stays alive) from
 * where its last step stopped, wrapping to index 0 at the end. Returns the
 * pages written; *errp gets the first write error.
 */
static long write_step(struct pgc_mapping *m, long nr, uint64_t start, bool *wrapped, int *errp)
{
	/* The step's range ends at its nr-th dirty page, so the next step
	 * knows where to begin whatever writepages does with nr_to_write. */
	struct pgc_page *v[16];
	uint64_t pos = start, end = UINT64_MAX;
	long seen = 0;
	bool done = false;
	for (;;) {
		while (!done && seen < nr) {
			unsigned want = nr - seen < 16 ? (unsigned)(nr - seen) : 16u;
			unsigned n = pgc__mapping_gang(m, &pos, UINT64_MAX, PGC_TAG_DIRTY, v, want,
						       &done);
			for (unsigned i = 0; i < n; i++) {
				if (++seen == nr)
					end = atomic_load_explicit(&v[i]->index, memory_order_relaxed);
				pgc__put(v[i]);
			}
		}
		if (seen || start == 0)
			break;
		start = pos = 0; /* nothing dirty after the last step: from the start */
		done = false;
	}
	*wrapped = end == UINT64_MAX;
	if (seen == 0) {
		*errp = 0;
		return 0;
	}
	struct pgc_writeback_control wbc = {
		.size = sizeof(wbc),
		.sync_mode = PGC_WB_NONE,
		.range_start = start,
		.range_end = end,
		.nr_to_write = nr,
	};
	*errp = pgc__mapping_writepages(m, &wbc);
	/* An owner's writepages that fails without the library's writepage
	 * or write runs: back off all the same. */
	if (*errp && !pgc__wb_backing_off(m))
		pgc__wb_write_failed(m, start, 1, *errp);
	pthread_mutex_lock(&m->cache->wb.lock);
	m->wb_index = *wrapped ? 0 : end + 1;
	pthread_mutex_unlock(&m->cache->wb.lock);
	return nr - wbc.nr_to_write;
}

/* One step on the first eligible mapping; false if there was none. */
static bool step(struct pgc_cache *c, long nr, uint64_t expired_before, uint64_t *next,
		 int *backoff_err, long *written, int *errp)
{
	struct pgc_wb *wb = &c->wb;
	pthread_mutex_lock(&wb->lock);
	struct pgc_mapping *m = pick(wb, pgc__now_ns(), expired_before, next, backoff_err);
	uint64_t start = m ? m->wb_index : 0;
	pthread_mutex_unlock(&wb->lock);
	if (!m)
		return false;
	bool wrapped;
	*written = write_step(m, nr, start, &wrapped, errp);
	pthread_mutex_lock(&wb->lock);
	if (wrapped && expired_before)
		m->dirtied_ns = pgc__now_ns(); /* all of it written once: young again */
	unpick(wb, m);
	pthread_mutex_unlock(&wb->lock);
	return true;
}

static bool thread_runs_here(struct pgc_wb *wb)
{
	pthread_mutex_lock(&wb->lock);
	bool r = wb->running && wb->pid == getpid();
	pthread_mutex_unlock(&wb->lock);
	return r;
}

void pgc__wb_kick(struct pgc_cache *c)
{
	struct pgc_wb *wb = &c->wb;
	/* The thread sets idle, then looks at nr_dirty; writers add to
	 * nr_dirty, then look at idle (both seq_cst): one sees the other. */
	if (atomic_load(&wb->idle) && atomic_exchange(&wb->idle, false)) {
		pthread_mutex_lock(&wb->lock);
		pthread_cond_signal(&wb->wake);
		pthread_mutex_unlock(&wb->lock);
	}
}

int pgc__balance_dirty(struct pgc_mapping *m)
{
	struct pgc_cache *c = m->cache;
	struct pgc_wb *wb = &c->wb;
	if (!m->wb_counted)
		return 0;
	uint64_t dirty = pgc__dirty_and_writeback(c);
	if (dirty > wb->background)
		pgc__wb_kick(c);
	if (dirty < wb->limit)
		return 0;
	atomic_fetch_add_explicit(&wb->throttled, 1, memory_order_relaxed);
	uint64_t t0 = pgc__now_ns(), progress_at = t0, pause = PGC_PAUSE_MIN_NS;
	uint64_t low = dirty;
	int err = 0;
	unsigned failed_steps = 0;
	bool threaded = thread_runs_here(wb);
	while (dirty >= wb->limit) {
		uint64_t next = UINT64_MAX;
		int backoff_err = 0;
		long written = 0;
		int werr = 0;
		bool stepped = false;
		if (!threaded) {
			stepped = step(c, PGC_WB_STEP_WRITER, 0, &next, &backoff_err, &written, &werr);
			if (stepped && werr && written == 0) {
				/* That mapping backs off now: try the next one,
				 * a few times (each failure backs one off). */
				if (++failed_steps < 8)
					continue;
				err = werr;
				break;
			}
		} else {
			pgc__wb_kick(c);
			/* Is anything left that the thread may write? */
			pthread_mutex_lock(&wb->lock);
			uint64_t now = pgc__now_ns();
			struct cds_list_head *pos;
			bool writable = false;
			cds_list_for_each(pos, &wb->dirty) {
				struct pgc_mapping *it = caa_container_of(pos, struct pgc_mapping, wb_link);
				if (atomic_load_explicit(&it->wb_retry_ns, memory_order_relaxed) <= now) {
					writable = true;
					break;
				}
				if (!backoff_err)
					backoff_err = atomic_load_explicit(&it->wb_last_err,
									   memory_order_relaxed);
			}
			pthread_mutex_unlock(&wb->lock);
			stepped = writable;
		}
		if (!stepped && backoff_err) {
			err = backoff_err; /* every dirty mapping is failing */
			break;
		}
		uint64_t now = pgc__now_ns();
		dirty = pgc__dirty_and_writeback(c);
		if (dirty < low || written > 0) {
			low = dirty;
			progress_at = now;
			pause = PGC_PAUSE_MIN_NS;
		} else if (now - progress_at >= wb->wait_ns) {
			err = -EAGAIN;
			break;
		}
		if (dirty < wb->limit || (written > 0 && !threaded))
			continue;
		struct timespec ts = {0, (long)pause};
		nanosleep(&ts, NULL);
		if (pause < PGC_PAUSE_MAX_NS)
			pause *= 2;
		dirty = pgc__dirty_and_writeback(c);
	}
	atomic_fetch_add_explicit(&wb->throttle_ns, pgc__now_ns() - t0, memory_order_relaxed);
	return err;
}

PGC_API int pgc_mapping_balance_dirty(pgc_mapping *m)
{
	if (!m)
		return -EINVAL;
	return pgc__balance_dirty(m);
}

static void *wb_thread(void *arg)
{
	struct pgc_cache *c = arg;
	struct pgc_wb *wb = &c->wb;
	pthread_mutex_lock(&wb->lock);
	while (!wb->stop) {
		uint64_t now = pgc__now_ns(), next = UINT64_MAX;
		bool over = atomic_load(&wb->nr_dirty) > wb->background;
		/* Below the threshold, only what has been dirty too long. */
		uint64_t cutoff = over ? 0 : (now > wb->expire_ns ? now - wb->expire_ns : 1);
		struct pgc_mapping *m = pick(wb, now, cutoff, &next, NULL);
		if (!m) {
			atomic_store(&wb->idle, true);
			if (!over && atomic_load(&wb->nr_dirty) > wb->background) {
				atomic_store(&wb->idle, false);
				continue;
			}
			/* At least every 5 s, to see mappings dirtied meanwhile
			 * age (the kernel's dirty_writeback_centisecs). */
			if (next > now + PGC_WB_PERIOD_NS)
				next = now + PGC_WB_PERIOD_NS;
			struct timespec ts = pgc__timespec_ns(next);
			pthread_cond_timedwait(&wb->wake, &wb->lock, &ts);
			atomic_store(&wb->idle, false);
			continue;
		}
		uint64_t start = m->wb_index;
		pthread_mutex_unlock(&wb->lock);
		bool wrapped;
		int err;
		long n = write_step(m, PGC_WB_STEP_THREAD, start, &wrapped, &err);
		atomic_fetch_add_explicit(&wb->bg_written, (uint64_t)n, memory_order_relaxed);
		pthread_mutex_lock(&wb->lock);
		if (wrapped && !over)
			m->dirtied_ns = pgc__now_ns();
		unpick(wb, m);
	}
	pthread_mutex_unlock(&wb->lock);
	return NULL;
}

PGC_API int pgc_cache_start_writeback(pgc_cache *c)
{
	if (!c)
		return -EINVAL;
	struct pgc_wb *wb = &c->wb;
	pthread_mutex_lock(&wb->lock);
	int err = 0;
	if (!wb->running || wb->pid != getpid()) {
		wb->stop = false;
		if (pgc__fault_alloc())
			err = -EAGAIN;
		else
			err = -pthread_create(&wb->thread, NULL, wb_thread, c);
		if (err == 0) {
			wb->running = true;
			wb->pid = getpid();
		} else {
			wb->running = false;
			pgc__log(c, PGC_LOG_ERROR, "cache: writeback thread not started: %s (%s)",
				 pgc_errname(err), pgc_strerror(err));
		}
	}
	pthread_mutex_unlock(&wb->lock);
	return err;
}

PGC_API int pgc_cache_stop_writeback(pgc_cache *c)
{
	if (!c)
		return -EINVAL;
	struct pgc_wb *wb = &c->wb;
	pthread_mutex_lock(&wb->lock);
	bool join = wb->running && wb->pid == getpid();
	/* In a child of fork the thread does not exist: nothing to join. */
	wb->running = false;
	wb->stop = true;
	pthread_cond_signal(&wb->wake);
	pthread_mutex_unlock(&wb->lock);
	if (join)
		pthread_join(wb->thread, NULL);
	return 0;
}
