/*
 * Buffered reads and writes: the paths of a page cache between a caller's
 * buffer and the pages of a mapping, above the handle layer.
 *
 * A read hit takes no lock and no reference: under RCU it reads the page's
 * data sequence, copies and checks the sequence again (read_optimistic).
 * When a writer got in the way it falls back to a referenced lookup and a
 * copy that is consistent against the library's writers (copy_stable). A
 * miss reads through the mapping's operations, with a readahead window that
 * grows while the reader goes forward page after page.
 *
 * A write goes through write_begin (own the page's handle, make the bytes
 * the write does not cover valid) and write_end (dirty and tagged dirty,
 * size, queue); the queue is committed in batches. A tiny write that lands
 * in one page that is already up to date, dirty (and tagged so in the
 * index) and not under writeback skips all of that:
 * the bytes are copied under the page lock and nothing else changes, which
 * is what a server doing small appends or overwrites needs most.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <pgcache/io.h>

#include "balance_internal.h"
#include "clpage_internal.h"
#include "error_internal.h"
#include "tsan_internal.h"

#define RA_MAX_CAP 1024u
#define RA_INITIAL 4u

static size_t page_size_of(const struct pgc_mapping *m)
{
	return m->cache->frames.page_size;
}

/* ---- reads ----------------------------------------------------------- */

/* Fills a run of locked, not up-to-date pages and unlocks them. */
static void read_run(struct pgc_mapping *m, struct pgc_page **run, unsigned nr)
{
	int err = 0;
	if (m->ops.readpages && nr > 1) {
		err = m->ops.readpages(m, run, nr);
	} else {
		for (unsigned i = 0; i < nr && !err; i++) {
			if (m->ops.readpage)
				err = m->ops.readpage(m, run[i]);
			else
				memset(pgc__page_data(run[i]), 0, page_size_of(m));
			if (!err)
				pgc__set(run[i], PGC_PG_UPTODATE);
		}
	}
	for (unsigned i = 0; i < nr; i++) {
		if (!err)
			pgc__set(run[i], PGC_PG_UPTODATE);
		else if (!pgc__test(run[i], PGC_PG_UPTODATE))
			pgc__set(run[i], PGC_PG_ERROR);
		/* The reference goes first: whoever waited for the lock (a
		 * migration, say) finds the page held by the mapping alone, not
		 * by a reader that is about to let go. The mapping's reference
		 * keeps it, and nobody takes a locked page out of the index. */
		pgc__put(run[i]);
		pgc__unlock(run[i]);
	}
}

/*
 * Reads ahead pages [first, first + nr) that are missing: present pages
 * (up to date, or being read by others) are skipped. When no frame can be had without
 * sleeping (a full cache whose clean pages are all taken: reclaim would
 * have to write dirty ones or wait for writeback), the pages gathered so
 * far are read and unlocked, then the allocation may sleep, as the
 * reader's own miss would; a frame that cannot be had even so ends the
 * window. (Stopping at the first frame that needs a wait made readahead
 * stop after a page or two once the cache was full.)
 */
void pgc__readahead_range(struct pgc_mapping *m, uint64_t first, unsigned nr)
{
	/* A whole window is one run, so one request to the store (runs of 64
	 * pages read one after the other kept a 4 MiB window at the speed of
	 * 256 KiB reads at depth 1). */
	struct pgc_page *run[RA_MAX_CAP];
	unsigned n = 0;
	for (unsigned i = 0; i < nr; i++) {
		/* Pages are created, never found: a present page is skipped
		 * with no reference taken. A reference of the filler's, however
		 * short (or one that waits for the page's lock), is one a
		 * migration of the page would count as another holder's. */
		struct pgc_page *p;
		int err = pgc__mapping_create(m, first + i, true, &p);
		if (err == -EAGAIN || err == -ENOMEM) {
			/* Hold no page lock while allocation sleeps. */
			if (n)
				read_run(m, run, n);
			n = 0;
			err = pgc__mapping_create(m, first + i, false, &p);
		}
		if (err == -EEXIST) {
			if (n)
				read_run(m, run, n);
			n = 0;
			continue;
		}
		if (err)
			break;
		run[n++] = p;
		if (n == sizeof(run) / sizeof(run[0])) {
			read_run(m, run, n);
			n = 0;
		}
	}
	if (n)
		read_run(m, run, n);
}

/*
 * The largest readahead window: the mapping's cap, and no more than an
 * eighth of the cache's frames, since two windows in flight are held
 * locked while they are read (a window as large as a small cache
 * left the reader no frame for its own page: -ENOMEM).
 */
static unsigned ra_cap(const struct pgc_mapping *m)
{
	unsigned cap = atomic_load_explicit(&m->ra_max, memory_order_relaxed);
	uint64_t share = m->cache->frames.capacity / 8;
	if (share == 0)
		share = 1;
	return cap > share ? (unsigned)share : cap;
}

/*
 * Readahead keeps two windows of a sequential reader in flight: the hit
 * halfway through window k queues window k + 2 (while k + 1 is being
 * read), twice as large as k + 1 up to the cap. The reader then copies
 * window k while two are read, and the device always has the next one to
 * start (with one window in flight, it sat idle from the end of one
 * window to the reader's next hit). ra_trigger is the index of that hit;
 * [ra_bg_start, ra_next) the windows of this run, read or in flight.
 */

/* Queues [next, next + nw) for the filler; the hit at trigger queues the next one. */
static void ra_queue(struct pgc_mapping *m, uint64_t next, unsigned nw, uint64_t trigger)
{
	atomic_store_explicit(&m->ra_window, nw, memory_order_relaxed);
	atomic_store_explicit(&m->ra_bg_end, next + nw, memory_order_relaxed);
	atomic_store_explicit(&m->ra_trigger, trigger, memory_order_relaxed);
	pgc__fill_queue(m, next, nw);
}

/* The window after one of win pages ending at next (last: the file's last
 * page): twice as large up to the cap; 0 past the end of the file. */
static unsigned ra_grow(unsigned win, unsigned cap, uint64_t next, uint64_t last)
{
	if (next > last)
		return 0;
	unsigned nw = win * 2 > cap ? cap : win * 2;
	if (next + nw - 1 > last)
		nw = (unsigned)(last - next + 1);
	return nw;
}

/*
 * A run of readahead starts at index with a first window of win pages,
 * which the caller reads (or has queued); the next one is queued now, so
 * two are read at once, and the hit halfway through the first queues the
 * third.
 */
static void ra_start(struct pgc_mapping *m, uint64_t index, uint64_t win, unsigned cap,
		     uint64_t last)
{
	uint64_t next = index + win;
	unsigned nw = ra_grow(win > cap ? cap : (unsigned)win, cap, next, last);
	atomic_store_explicit(&m->ra_bg_start, index, memory_order_relaxed);
	atomic_store_explicit(&m->ra_next, next + nw, memory_order_relaxed);
	if (nw) {
		ra_queue(m, next, nw, index + win / 2);
	} else {
		atomic_store_explicit(&m->ra_window, win > cap ? cap : (unsigned)win,
				      memory_order_relaxed);
		atomic_store_explicit(&m->ra_bg_end, next, memory_order_relaxed);
		atomic_store_explicit(&m->ra_trigger, UINT64_MAX, memory_order_relaxed);
	}
}

/* Whether index is in the windows of the current run of readahead. */
static bool ra_in_run(const struct pgc_mapping *m, uint64_t index)
{
	return index >= atomic_load_explicit(&m->ra_bg_start, memory_order_relaxed) &&
	       index < atomic_load_explicit(&m->ra_next, memory_order_relaxed);
}

/* Decides the readahead for a miss at index (last: the last page of the file). */
static void readahead_on_miss(struct pgc_mapping *m, uint64_t index, uint64_t last)
{
	unsigned cap = ra_cap(m);
	if (cap == 0)
		return;
	uint64_t expected = atomic_load_explicit(&m->ra_next, memory_order_relaxed);
	unsigned win = atomic_load_explicit(&m->ra_window, memory_order_relaxed);
	if (win && ra_in_run(m, index))
		return; /* in a window read here or in the background */
	if (index != expected) {
		/* Random access: no readahead; start over if it goes on from here
		 * (the window is written only when it changes). */
		if (win) {
			atomic_store_explicit(&m->ra_window, 0, memory_order_relaxed);
			atomic_store_explicit(&m->ra_trigger, UINT64_MAX, memory_order_relaxed);
		}
		atomic_store_explicit(&m->ra_next, index + 1, memory_order_relaxed);
		return;
	}
	win = win ? win * 2 : RA_INITIAL;
	if (win > cap)
		win = cap;
	if (index + win - 1 > last)
		win = (unsigned)(last - index + 1);
	ra_start(m, index, win, cap, last);
	pgc__readahead_range(m, index, win);
}

/*
 * The hit path without a reference: under RCU (for the index's nodes), the
 * page's data sequence, identity and UPTODATE are read, the bytes copied,
 * then the sequence and identity read again. The frame may be freed and
 * reused meanwhile (frames.c): its sequence then moved on, and the copy is
 * thrown away. Nothing is written but the REFERENCED bit when it is clear.
 * Returns false (nothing to trust in dst) if the page is absent, not up to
 * date, or a writer, truncate, reclaim or migration got in the way; the
 * caller then takes the referenced path.
 */
/*
 * Copies n bytes at in of p's data, begun with the even sequence value s;
 * true if no library writer changed the page meanwhile (the sequence is
 * still s). The copy may race a writer by design (tsan_internal.h).
 */
static inline bool copy_at_seq(const struct pgc_page *p, uint32_t s, void *dst, size_t in,
			       size_t n)
{
	pgc__racy_read_begin();
	memcpy(dst, (const char *)pgc__page_data(p) + in, n);
	pgc__racy_read_end();
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&p->seq, memory_order_relaxed) == s;
}

static bool read_optimistic(struct pgc_mapping *m, uint64_t index, void *dst, size_t in,
			    size_t n)
{
	bool ok = false;
	rcu_read_lock();
	uint32_t id = pgc__pgx_load(&m->index, index);
	if (pgc_likely(id != PGC_FRAME_NONE)) {
		struct pgc_page *p = pgc__frames_page(&m->cache->frames, id);
		pgc__hb_acquire(p); /* published by pgc__mapping_add() */
		/* The data's address needs only the id (and the chunk's header):
		 * its miss overlaps the descriptor's instead of following it. */
		__builtin_prefetch((const char *)pgc__page_data(p) + in);
		uint32_t s = atomic_load_explicit(&p->seq, memory_order_acquire);
		if (!(s & 1) && (pgc__flags(p) & PGC_BIT(PGC_PG_UPTODATE)) &&
		    atomic_load_explicit(&p->mapping, memory_order_acquire) == m &&
		    atomic_load_explicit(&p->index, memory_order_relaxed) == index) {
			/* The slot must still name the frame: a page that
			 * carries this identity before it enters the index
			 * (mapping.c, get_if_at) is not yet the file's. */
			ok = copy_at_seq(p, s, dst, in, n) &&
			     atomic_load_explicit(&p->mapping, memory_order_relaxed) == m &&
			     atomic_load_explicit(&p->index, memory_order_relaxed) == index &&
			     pgc__pgx_load(&m->index, index) == id;
			if (ok)
				pgc__mark_accessed(p);
		}
	}
	pgc__rcu_read_unlock();
	return ok;
}

/*
 * Copies from a page the caller holds a reference on, consistent against
 * the library's writers: a copy between two equal even sequence values, a
 * few times, then under the page lock (which those writers hold).
 */
static void copy_stable(struct pgc_page *p, void *dst, size_t in, size_t n)
{
	for (int tries = 0; tries < 4; tries++) {
		uint32_t s = atomic_load_explicit(&p->seq, memory_order_acquire);
		if (s & 1)
			caa_cpu_relax();
		else if (copy_at_seq(p, s, dst, in, n))
			return;
	}
	pgc__lock(p);
	memcpy(dst, (const char *)pgc__page_data(p) + in, n);
	pgc__unlock(p);
}

/*
 * The hit halfway through window k queues window k + 2 (see ra_queue()).
 */
static inline void readahead_on_hit(struct pgc_mapping *m, uint64_t index, uint64_t last)
{
	if (pgc_likely(index != atomic_load_explicit(&m->ra_trigger, memory_order_relaxed)))
		return;
	uint64_t next = atomic_load_explicit(&m->ra_next, memory_order_relaxed);
	unsigned win = atomic_load_explicit(&m->ra_window, memory_order_relaxed);
	unsigned nw = win ? ra_grow(win, ra_cap(m), next, last) : 0;
	if (nw == 0)
		return; /* the windows reached the end of the mapping */
	/* One reader of several wins the window. */
	if (!atomic_compare_exchange_strong_explicit(&m->ra_next, &next, next + nw,
						     memory_order_relaxed, memory_order_relaxed))
		return;
	/* Window k + 1 is the one of win pages that ends at next. */
	ra_queue(m, next, nw, next - win / 2);
}

/*
 * A reader that reaches pages of a window the filler was given before they
 * are in waits for that window rather than reading them one by one beside
 * it (it holds no lock then). True if it waited: look again.
 */
static bool wait_for_background(struct pgc_mapping *m, uint64_t index)
{
	if (index < atomic_load_explicit(&m->ra_bg_start, memory_order_relaxed) ||
	    index >= atomic_load_explicit(&m->ra_bg_end, memory_order_relaxed))
		return false;
	return pgc__fill_wait_index(m, index);
}

/*
 * A NOWAIT read's miss at index: the missing pages from there to the end of
 * the read (at least the readahead window, when the reader goes forward)
 * are queued for the filler; nothing waits.
 */
static void start_fill(struct pgc_mapping *m, uint64_t index, uint64_t last_wanted,
		       uint64_t last)
{
	uint64_t nr = last_wanted - index + 1;
	unsigned cap = ra_cap(m);
	bool run = cap && index == atomic_load_explicit(&m->ra_next, memory_order_relaxed);
	if (run) {
		unsigned win = atomic_load_explicit(&m->ra_window, memory_order_relaxed);
		win = win ? win * 2 : RA_INITIAL;
		if (win > cap)
			win = cap;
		if (win > nr)
			nr = win;
		if (index + nr - 1 > last)
			nr = last - index + 1;
	}
	for (uint64_t i = index, left = nr; left;) {
		unsigned n = left > RA_MAX_CAP ? RA_MAX_CAP : (unsigned)left;
		pgc__fill_queue(m, i, n);
		i += n;
		left -= n;
	}
	if (run)
		ra_start(m, index, nr, cap, last);
}

static ssize_t read_impl(struct pgc_mapping *m, void *buf, size_t len, uint64_t off,
			 bool nowait)
{
	if (!m || (!buf && len))
		return pgc__io_return(-EINVAL, -EINVAL);
	uint64_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	if (off >= size || len == 0)
		return pgc__io_return(0, 0);
	if (len > size - off)
		len = (size_t)(size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t ps = page_size_of(m), done = 0;
	uint32_t shift = m->cache->frames.page_shift;
	uint64_t last = (size - 1) >> shift;
	while (done < len) {
		uint64_t pos = off + done, index = pos >> shift;
		size_t in = (size_t)(pos & (ps - 1)), n = ps - in;
		if (n > len - done)
			n = len - done;
		if (pgc_likely(read_optimistic(m, index, (char *)buf + done, in, n))) {
			pgc__stat_inc(m->cache, PGC_ST_HITS);
			readahead_on_hit(m, index, last);
			done += n;
			continue;
		}
		if (nowait) {
			/* Absent, being filled or being written: whatever it
			 * is, finding out would wait. */
			start_fill(m, index, (off + len - 1) >> shift, last);
			return pgc__io_return(done ? (ssize_t)done : -EAGAIN, -EAGAIN);
		}
		struct pgc_page *p = pgc__mapping_lookup(m, index);
		if (pgc_likely(p && pgc__test(p, PGC_PG_UPTODATE))) {
			pgc__mark_accessed(p);
			pgc__stat_inc(m->cache, PGC_ST_HITS);
			readahead_on_hit(m, index, last);
		} else {
			if (p)
				pgc__put(p);
			if (wait_for_background(m, index))
				continue;
			pgc__mapping_fill_begin(m);
			readahead_on_miss(m, index, last);
			pgc__mapping_fill_end(m);
			/* Fills under the same lock itself. */
			int err = pgc_mapping_read_page(m, index, &p);
			if (err)
				return pgc__io_return(done ? (ssize_t)done : err, err);
		}
		copy_stable(p, (char *)buf + done, in, n);
		pgc__put(p);
		done += n;
	}
	return pgc__io_return((ssize_t)done, 0);
}

PGC_API ssize_t pgc_read(pgc_mapping *m, void *buf, size_t len, uint64_t off)
{
	return read_impl(m, buf, len, off, false);
}

PGC_API ssize_t pgc_read_flags(pgc_mapping *m, void *buf, size_t len, uint64_t off,
			       unsigned flags)
{
	if (flags & ~PGC_READ_NOWAIT)
		return pgc__io_return(-EINVAL, -EINVAL);
	return read_impl(m, buf, len, off, flags & PGC_READ_NOWAIT);
}

ssize_t pgc__read_cached(struct pgc_mapping *m, void *buf, size_t len, uint64_t off)
{
	uint64_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	if (off >= size || len == 0)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t ps = page_size_of(m), done = 0;
	uint32_t shift = m->cache->frames.page_shift;
	while (done < len) {
		uint64_t pos = off + done, index = pos >> shift;
		size_t in = (size_t)(pos & (ps - 1)), n = ps - in;
		if (n > len - done)
			n = len - done;
		if (!read_optimistic(m, index, (char *)buf + done, in, n))
			return -EAGAIN;
		pgc__stat_inc(m->cache, PGC_ST_HITS);
		done += n;
	}
	return (ssize_t)done;
}

/* ---- writes ---------------------------------------------------------- */

PGC_API int pgc_write_begin(pgc_io *io, uint64_t pos, size_t len, pgc_clpage **clpp)
{
	if (clpp)
		*clpp = NULL;
	if (!io || !clpp || len == 0)
		return -EINVAL;
	struct pgc_mapping *m = pgc__io_mapping(io);
	size_t ps = page_size_of(m), in = (size_t)(pos & (ps - 1));
	if (len > ps - in)
		return -EINVAL;
	uint64_t index = pos >> m->cache->frames.page_shift;
	struct pgc_clpage *clp;
	int err;
	for (;;) {
		err = pgc_clpage_find(m, index, 0, &clp);
		if (err)
			return err;
		err = pgc_clpage_own(io, clp);
		if (err != -ENOENT)
			break;
		pgc_clpage_put(clp); /* freed under us (truncate, reclaim): again */
	}
	if (err) {
		pgc_clpage_put(clp);
		return err;
	}
	struct pgc_page *p = pgc_clpage_vmpage(clp);
	if (!pgc__test(p, PGC_PG_UPTODATE) && len < ps) {
		uint64_t page_start = pos - in;
		if (page_start >= atomic_load_explicit(&m->size, memory_order_acquire)) {
			/* Nothing of this page exists yet: no read, zeros. */
			memset(pgc__page_data(p), 0, ps);
		} else if (m->ops.readpage) {
			err = m->ops.readpage(m, p);
		} else {
			memset(pgc__page_data(p), 0, ps);
		}
		if (err) {
			pgc__set(p, PGC_PG_ERROR);
			pgc_clpage_disown(io, clp);
			pgc_clpage_put(clp);
			return err;
		}
		pgc__clear(p, PGC_PG_ERROR);
		pgc__set(p, PGC_PG_UPTODATE);
	}
	/* The caller writes the data now: optimistic readers must retry. */
	pgc__page_seq_begin(p);
	*clpp = clp;
	return 0;
}

/*
 * Tags a locked page that has just been made dirty. Under the page lock,
 * DIRTY with ONDIRTY stays set (clearing either needs the lock), so a page
 * already tagged costs no index lock.
 */
static void mark_dirty_locked(struct pgc_page *p)
{
	const uint32_t both = PGC_BIT(PGC_PG_DIRTY) | PGC_BIT(PGC_PGI_ONDIRTY);
	if ((pgc__flags(p) & both) != both)
		pgc__mapping_sync_dirty(p);
}

PGC_API int pgc_io_commit(pgc_io *io)
{
	if (!io)
		return -EINVAL;
	struct pgc_clpage_list *qin = &io->queue.qin;
	if (qin->nr == 0)
		return 0;
	struct pgc_mapping *m = io->mapping;
	int err = 0;
	/* pgc_write_end() tagged the pages dirty already; an owner's
	 * set_page_dirty runs here. Handles in the queue are unowned, so their
	 * pages may have left the mapping: the owner's operation checks. */
	if (m->ops.set_page_dirty)
		for (pgc_clpage *c = qin->head; c; c = pgc_clpage_list_next(c)) {
			struct pgc_page *p = pgc_clpage_vmpage(c);
			if (p)
				m->ops.set_page_dirty(m, p);
		}
	uint64_t lo = io->commit_lo, hi = io->commit_hi;
	pgc_clpage_list_splice(&io->queue.qout, qin);
	pgc_clpage_list_fini(NULL, &io->queue.qout);
	if (io->flags & PGC_IO_SYNC) {
		err = pgc_mapping_writeback(m, lo, hi, PGC_WB_ALL);
		pgc_io_set_result(io, err);
	}
	return err;
}

PGC_API int pgc_write_end(pgc_io *io, pgc_clpage *clp, uint64_t pos, size_t copied)
{
	if (!io || !clp || !pgc_clpage_is_owned(clp, io))
		return -EINVAL;
	struct pgc_mapping *m = io->mapping;
	size_t ps = page_size_of(m), in = (size_t)(pos & (ps - 1));
	if (copied > ps - in)
		return -EINVAL;
	if (copied == 0) {
		pgc__page_seq_end(pgc_clpage_vmpage(clp));
		pgc_clpage_disown(io, clp);
		pgc_clpage_put(clp);
		return 0;
	}
	struct pgc_page *p = pgc_clpage_vmpage(clp);
	pgc__set(p, PGC_PG_UPTODATE);
	pgc__set(p, PGC_PG_DIRTY);
	/*
	 * Tagged dirty now, under the page lock (as the kernel's write_end
	 * does), not at commit: a writeback that cleans the page between here
	 * and the commit clears DIRTY for I/O and starts the writeback under
	 * the page lock, so a sync walking the tags either finds the dirty tag
	 * (and waits for the lock) or the writeback tag. Tagged at commit, the
	 * page could be neither yet while its writeback was in flight, and a
	 * direct read after the write would read the store's older bytes. An
	 * owner's set_page_dirty still runs at commit.
	 */
	if (!m->ops.set_page_dirty)
		mark_dirty_locked(p);
	pgc_clpage_touch(io, clp, in + copied);
	pgc__page_seq_end(p); /* the data is written */
	pgc__mark_accessed(p);
	uint64_t index = pgc_clpage_index(clp);
	if (io->queue.qin.nr == 0 || index < io->commit_lo)
		io->commit_lo = index;
	if (io->queue.qin.nr == 0 || index > io->commit_hi)
		io->commit_hi = index;
	/* Queue while still owning the page. If another I/O has the page's
	 * handle queued, its commit will account the page; this one accounts
	 * it at once, so that its own sync finds it. */
	if (pgc_clpage_list_add(&io->queue.qin, clp) != 0 && m->ops.set_page_dirty)
		m->ops.set_page_dirty(m, p);
	pgc_clpage_disown(io, clp);
	pgc_clpage_put(clp); /* the queue holds its own reference */
	io->written += copied;
	if (io->queue.qin.nr >= PGC_COMMIT_BATCH)
		return pgc_io_commit(io);
	return 0;
}

/*
 * The tiny-write fast path: the page is present, up to date, dirty, tagged
 * dirty in its mapping's index and not under writeback, so the write
 * changes nothing but bytes (and maybe the size). Returns false if the page
 * does not qualify; nothing was done then.
 *
 * DIRTY alone is not enough: with an owner's set_page_dirty, the page is
 * tagged only at the writer's commit, and a sync (or the writeback before
 * a direct read) walks the tag. A tiny write to such a page, then a direct
 * read, would find nothing to write back and read the store's older bytes.
 * Under the page lock, DIRTY and ONDIRTY together stay set until a
 * writeback clears them (which needs the lock).
 */
static bool tiny_write(struct pgc_mapping *m, const void *buf, size_t len, uint64_t off)
{
	const uint32_t need = PGC_BIT(PGC_PG_UPTODATE) | PGC_BIT(PGC_PG_DIRTY) |
			      PGC_BIT(PGC_PGI_ONDIRTY);
	uint32_t shift = m->cache->frames.page_shift;
	struct pgc_page *p = pgc__mapping_lookup(m, off >> shift);
	if (!p)
		return false;
	bool done = false;
	if ((pgc__flags(p) & (need | PGC_BIT(PGC_PG_WRITEBACK))) == need && pgc__trylock(p)) {
		/* Re-check under the lock: writeback starts under it. */
		if ((pgc__flags(p) & (need | PGC_BIT(PGC_PG_WRITEBACK))) == need &&
		    atomic_load_explicit(&p->mapping, memory_order_relaxed) == m) {
			size_t in = (size_t)(off & (page_size_of(m) - 1));
			pgc__page_seq_begin(p);
			memcpy((char *)pgc__page_data(p) + in, buf, len);
			pgc__page_seq_end(p);
			pgc__mapping_grow_size(m, off + len);
			pgc__mark_accessed(p);
			pgc__stat_inc(m->cache, PGC_ST_HITS);
			done = true;
		}
		pgc__unlock(p);
	}
	pgc__put(p);
	return done;
}

static ssize_t write_locked(struct pgc_mapping *m, const void *buf, size_t len, uint64_t off,
			    unsigned flags, size_t ps, int *cause);

PGC_API ssize_t pgc_write(pgc_mapping *m, const void *buf, size_t len, uint64_t off,
			  unsigned flags)
{
	if (!m || (!buf && len) || (flags & ~PGC_WRITE_SYNC))
		return pgc__io_return(-EINVAL, -EINVAL);
	if (len == 0)
		return pgc__io_return(0, 0);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (len > UINT64_MAX - off)
		return pgc__io_return(-EINVAL, -EINVAL); /* past the last byte a mapping can hold */
	size_t ps = page_size_of(m);
	/*
	 * The tiny write takes no mapping-wide lock. It needs no exclusion
	 * from direct writes: a direct write first writes back (cleans) the
	 * cached pages of its range, and until it has put its own bytes in
	 * them no other write can dirty them again (full writes wait for the
	 * fill lock); a tiny write only lands in a page that is dirty, checked
	 * under the page lock, so never in one of those. One that lands before
	 * the writeback is written by it.
	 */
	if (!(flags & PGC_WRITE_SYNC) && len <= ps - (size_t)(off & (ps - 1)) &&
	    tiny_write(m, buf, len, off))
		return pgc__io_return((ssize_t)len, 0);
	/* Direct writes wait until this write is committed (see mapping_internal.h). */
	int cause;
	pgc__mapping_fill_begin(m);
	ssize_t r = write_locked(m, buf, len, off, flags, ps, &cause);
	pgc__mapping_fill_end(m);
	return pgc__io_return(r, cause);
}

/*
 * The cache is above its background threshold: wake the writeback thread
 * and, at the dirty limit, wait for writeback before dirtying the page at
 * pos, unless it is dirty already (rewriting it adds nothing to write
 * back). The pages written so far are committed and the fill lock dropped
 * for the wait, so that a direct write may go ahead meanwhile: each page
 * of a buffered write is whole either way.
 */
static int throttle(struct pgc_mapping *m, struct pgc_io *io, uint64_t pos)
{
	const struct pgc_wb *wb = &m->cache->wb;
	if (pgc__dirty_and_writeback(m->cache) < wb->limit) {
		pgc__wb_kick(m->cache);
		return 0;
	}
	struct pgc_page *p = pgc__mapping_lookup(m, pos >> m->cache->frames.page_shift);
	if (p) {
		bool dirty = pgc__test(p, PGC_PG_DIRTY);
		pgc__put(p);
		if (dirty)
			return 0;
	}
	int err = pgc_io_commit(io);
	pgc__mapping_fill_end(m);
	int berr = pgc__balance_dirty(m);
	pgc__mapping_fill_begin(m);
	return err ? err : berr;
}

/* pgc_write() under the mapping's fill lock; *cause is for pgc_last_error(). */
static ssize_t write_locked(struct pgc_mapping *m, const void *buf, size_t len, uint64_t off,
			    unsigned flags, size_t ps, int *cause)
{

	struct pgc_io io;
	pgc__io_init(&io, m, (flags & PGC_WRITE_SYNC) ? PGC_IO_SYNC : 0);
	size_t done = 0;
	int err = 0;
	while (done < len) {
		uint64_t pos = off + done;
		size_t in = (size_t)(pos & (ps - 1)), n = ps - in;
		if (n > len - done)
			n = len - done;
		if (pgc_unlikely(pgc__dirty_exceeded(m))) {
			err = throttle(m, &io, pos);
			if (err)
				break;
		}
		pgc_clpage *clp;
		err = pgc_write_begin(&io, pos, n, &clp);
		if (err)
			break;
		memcpy((char *)pgc_clpage_data(clp) + in, (const char *)buf + done, n);
		err = pgc_write_end(&io, clp, pos, n);
		done += n;
		if (err)
			break;
	}
	int cerr = pgc_io_commit(&io);
	if (!err)
		err = cerr;
	*cause = err;
	if (!done)
		return err;
	/* Stopped part way: the bytes copied are reported, the error through
	 * pgc_last_error() (a write-back error stays recorded for the next
	 * sync too). Complete: a write-back error of a synchronous write is
	 * returned; an asynchronous one has nothing to report. */
	if (done < len)
		return (ssize_t)done;
	if (!(flags & PGC_WRITE_SYNC)) {
		*cause = 0;
		return (ssize_t)done;
	}
	return err ? err : (ssize_t)done;
}

/* ---- sync and readahead settings -------------------------------------- */

/*
 * The store's sync operation over a byte range, if it has one. A failure is
 * recorded in the errseq like a writeback error: data the store acknowledged
 * may be lost, and every holder of a sample must hear of it, not only the
 * caller whose sync ran into it.
 */
static int sync_store(struct pgc_mapping *m, uint64_t start, uint64_t end)
{
	/* NULL for an ops table older than the member (pgc_mapping_create
	 * copies only the caller's size into a zeroed table). */
	if (!m->ops.sync)
		return 0;
	int err = m->ops.sync(m, start, end);
	if (err) {
		pgc_mapping_set_error(m, err);
		pgc__log(m->cache, PGC_LOG_ERROR, "mapping %s: sync of bytes %llu-%llu of the store failed: %s (%s)",
			 pgc__mapping_log_name(m), (unsigned long long)start,
			 (unsigned long long)end, pgc_errname(err), pgc_strerror(err));
	}
	return err;
}

PGC_API int pgc_sync_range(pgc_mapping *m, uint64_t start, uint64_t end, pgc_errseq_t *since)
{
	if (!m || start > end)
		return -EINVAL;
	uint32_t shift = m->cache->frames.page_shift;
	int err = pgc_mapping_writeback(m, start >> shift, end >> shift, PGC_WB_ALL);
	/* The store's size follows the mapping's, as fsync makes i_size durable. */
	int rerr = pgc__mapping_resize_store(m);
	if (!err)
		err = rerr;
	/*
	 * Last, durability, even after a failed writeback: the pages that were
	 * written should survive a crash whatever happened to the others, and
	 * the first error is what the caller gets either way.
	 */
	int serr = sync_store(m, start, end);
	if (!err)
		err = serr;
	if (since) {
		int seen = pgc_mapping_check_error(m, since);
		if (!err)
			err = seen;
	}
	return err;
}

PGC_API int pgc_mapping_set_readahead(pgc_mapping *m, unsigned max_pages)
{
	if (!m || max_pages > RA_MAX_CAP)
		return -EINVAL;
	atomic_store_explicit(&m->ra_max, max_pages, memory_order_relaxed);
	return 0;
}

PGC_API int pgc_mapping_readahead(const pgc_mapping *m)
{
	return m ? (int)atomic_load_explicit(&m->ra_max, memory_order_relaxed) : -EINVAL;
}
