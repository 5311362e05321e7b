/*
 * The direct-I/O segmenter (see dio.h): alignment checks, EOF clamping,
 * size-limited segments with shrink-and-retry on -ENOMEM, and coherence
 * with the cached pages of the range. It sits at the top layer: it writes
 * back through the mapping, and reaches the store only through the
 * mapping's direct_IO operation, or for the built-in store through its
 * batch submission (store_internal.h).
 *
 * Each segment becomes a two-queue of page handles, as Lustre's
 * ll_direct_IO_seg builds one: transient handles over the caller's memory
 * (one per stretch of contiguous memory), and cacheable handles where the
 * page is cached and up to date. A read copies a cached page's bytes out
 * and sends only the rest; a write copies its bytes into the cached page,
 * which it holds locked, and sends the page's data as the source of those
 * bytes. The handles of qin, cut into runs of consecutive file bytes, go to
 * the store together (one batch of SQEs on the built-in store's ring) and
 * move to qout as they complete. Building a segment allocates (handles, and
 * the run and iovec arrays past SCRATCH_RUNS entries); that is the
 * "building" that may fail with -ENOMEM and shrink the segment.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <pgcache/dio.h>

#include "alloc_internal.h"
#include "clpage_internal.h"
#include "error_internal.h"
#include "fault_internal.h"
#include "mapping_internal.h"
#include "store_internal.h"

#define SCRATCH_RUNS 64

/* The largest transient handle (pgc_clpage_transient_at() takes 32 bits). */
#define TRANSIENT_MAX ((size_t)1 << 30)

static __thread struct iovec scratch_iov[SCRATCH_RUNS];
static __thread struct pgc__dio_run scratch_run[SCRATCH_RUNS];

/* A position in the caller's iovec array. */
struct iov_cursor {
	const struct iovec *iov;
	int cnt, i;
	size_t in; /* bytes consumed of iov[i] */
};

static void cursor_advance(struct iov_cursor *c, size_t n)
{
	while (n) {
		size_t left = c->iov[c->i].iov_len - c->in;
		size_t k = n < left ? n : left;
		c->in += k;
		n -= k;
		if (c->in == c->iov[c->i].iov_len) {
			c->i++;
			c->in = 0;
		}
	}
}

/*
 * Copies len bytes between the caller's buffers, skip bytes past the
 * cursor, and mem (without moving the cursor): into mem if out, else out
 * of it.
 */
static void cursor_copy(const struct iov_cursor *c, size_t skip, void *mem, size_t len, bool out)
{
	struct iov_cursor t = *c;
	cursor_advance(&t, skip);
	char *d = mem;
	while (len) {
		size_t left = t.iov[t.i].iov_len - t.in;
		if (!left) { /* an empty buffer: cursor_advance(0) would not pass it */
			t.i++;
			t.in = 0;
			continue;
		}
		size_t k = len < left ? len : left;
		char *user = (char *)t.iov[t.i].iov_base + t.in;
		if (out)
			memcpy(d, user, k);
		else
			memcpy(user, d, k);
		d += k;
		len -= k;
		cursor_advance(&t, k);
	}
}

static void cursor_copy_out(const struct iov_cursor *c, size_t skip, void *dst, size_t len)
{
	cursor_copy(c, skip, dst, len, true);
}

/*
 * After a direct write of [pos, pos + len) from the cursor: up-to-date
 * cached pages of the range get the new bytes, so the cache never serves
 * what the store no longer holds.
 */
static void update_cached(struct pgc_mapping *m, const struct iov_cursor *c, uint64_t pos,
			  size_t len)
{
	size_t ps = m->cache->frames.page_size;
	uint32_t shift = m->cache->frames.page_shift;
	uint64_t first = pos >> shift, last = (pos + len - 1) >> shift;
	for (uint64_t idx = first; idx <= last; idx++) {
		struct pgc_page *p = pgc__mapping_lookup(m, idx);
		if (!p)
			continue;
		pgc__lock(p);
		if (atomic_load_explicit(&p->mapping, memory_order_relaxed) == m &&
		    pgc__test(p, PGC_PG_UPTODATE)) {
			uint64_t pstart = idx << shift;
			uint64_t from = pos > pstart ? pos : pstart;
			uint64_t to = pos + len < pstart + ps ? pos + len : pstart + ps;
			pgc__page_seq_begin(p);
			cursor_copy_out(c, (size_t)(from - pos),
					(char *)pgc__page_data(p) + (from - pstart), (size_t)(to - from));
			pgc__page_seq_end(p);
		}
		pgc__unlock(p);
		pgc__put(p);
	}
}

void pgc__dio_update_cached(struct pgc_mapping *m, const struct iovec *iov, int iovcnt,
			    uint64_t pos, size_t len)
{
	struct iov_cursor cur = {.iov = iov, .cnt = iovcnt, .i = 0, .in = 0};
	update_cached(m, &cur, pos, len);
}

int pgc__dio_check(struct pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
		   uint64_t offset, size_t *total)
{
	if (!m || !iov || iovcnt < 1 || iovcnt > IOV_MAX || (rw != PGC_READ && rw != PGC_WRITE))
		return -EINVAL;
	uint64_t block = atomic_load(&m->dio_block), align = atomic_load(&m->dio_mem_align);
	if (offset & (block - 1))
		return -EINVAL;
	size_t sum = 0;
	for (int i = 0; i < iovcnt; i++) {
		if ((iov[i].iov_len & (block - 1)) || ((uintptr_t)iov[i].iov_base & (align - 1)) ||
		    (!iov[i].iov_base && iov[i].iov_len))
			return -EINVAL;
		if (iov[i].iov_len > SSIZE_MAX - sum)
			return -EINVAL;
		sum += iov[i].iov_len;
	}
	*total = sum;
	return 0;
}

static ssize_t transfer(struct pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
			uint64_t offset, size_t total, size_t want, int *cause);

PGC_API ssize_t pgc_direct_io(pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
			      uint64_t offset)
{
	size_t total;
	int err = pgc__dio_check(m, rw, iov, iovcnt, offset, &total);
	if (err)
		return pgc__io_return(err, err);
	if (!m->ops.direct_IO)
		return pgc__io_return(-EOPNOTSUPP, -EOPNOTSUPP);
	if (total == 0)
		return pgc__io_return(0, 0);
	uint64_t block = atomic_load(&m->dio_block);
	uint64_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	size_t want = total; /* bytes reported to the caller at most */
	if (rw == PGC_READ) {
		if (offset >= size)
			return pgc__io_return(0, 0);
		if (want > size - offset)
			want = (size_t)(size - offset);
		/* The store transfers whole blocks; the tail past EOF is not reported. */
		total = (want + block - 1) & ~(size_t)(block - 1);
	}
	int cause;
	if (rw == PGC_READ) {
		ssize_t r = transfer(m, rw, iov, iovcnt, offset, total, want, &cause);
		return pgc__io_return(r, cause);
	}
	pgc__mapping_dio_write_begin(m); /* see pgc__mapping_fill_begin() */
	ssize_t r = transfer(m, rw, iov, iovcnt, offset, total, want, &cause);
	pgc__mapping_dio_write_end(m);
	return pgc__io_return(r, cause);
}

/* A segment in the making (see the top of the file). */
struct segment {
	struct pgc_mapping *m;
	int rw, crt;
	uint64_t pos; /* the file offset of its first byte */
	size_t len;   /* its bytes: cut short before a page locked by another */
	struct pgc_io io; /* owns the cached pages; io.queue: the handles */
	/* The transient piece being gathered: caller memory at tmem for the
	 * file's bytes [tpos, tpos + tlen). */
	char *tmem;
	uint64_t tpos;
	size_t tlen;
	/* A write's cached, up-to-date pages that got no handle (their owner
	 * uses the private slot, or their data cannot be the transfer's
	 * source): the range of their indices, given the bytes after the
	 * write as before handles. */
	uint64_t other_lo, other_hi;
};

/* Queues the transient piece gathered so far. 0 or -ENOMEM. */
static int flush_transient(struct segment *sg)
{
	if (!sg->tlen)
		return 0;
	struct pgc_clpage *clp;
	int err = pgc__clpage_transient_at(sg->tmem, sg->tlen, sg->tpos,
					   sg->m->cache->frames.page_shift, &clp);
	if (err)
		return err;
	sg->tlen = 0;
	pgc_clpage_own(&sg->io, clp);
	pgc_clpage_prep(&sg->io, clp, sg->crt);
	pgc_clpage_list_add(&sg->io.queue.qin, clp);
	pgc_clpage_put(clp); /* the queue holds its own reference */
	return 0;
}

/*
 * The cached page at idx, whose bytes [from, from + n) the segment covers
 * (c at the first of them): a read copies them out, a write copies them in
 * and queues the page's handle, owned. True if it did; false if the bytes
 * go to the store through caller memory.
 */
static bool take_cached(struct segment *sg, const struct iov_cursor *c, uint64_t idx, size_t from,
			size_t n, int *err)
{
	struct pgc_clpage *clp;
	/* Never wait for a page lock while holding one: the segment ends
	 * before a page locked by another (the next one starts there). */
	*err = pgc__clpage_own_cached(&sg->io, idx, sg->io.nr_owned > 0, &clp);
	if (*err == -EAGAIN || *err == -ENOMEM)
		return false;
	uint64_t align = atomic_load(&sg->m->dio_mem_align);
	if (!*err && sg->rw == PGC_WRITE && (from & (align - 1))) {
		pgc_clpage_disown(&sg->io, clp); /* not a source the store takes */
		pgc_clpage_put(clp);
		*err = -EINVAL;
	}
	if (*err) {
		if (*err != -ENOENT && sg->rw == PGC_WRITE) {
			if (idx < sg->other_lo)
				sg->other_lo = idx;
			if (idx > sg->other_hi || sg->other_hi == UINT64_MAX)
				sg->other_hi = idx;
		}
		*err = 0;
		return false;
	}
	if ((*err = flush_transient(sg)) != 0) {
		pgc_clpage_disown(&sg->io, clp);
		pgc_clpage_put(clp);
		return false;
	}
	struct pgc_page *p = pgc_clpage_vmpage(clp);
	char *data = (char *)pgc__page_data(p) + from;
	if (sg->rw == PGC_READ) {
		cursor_copy(c, 0, data, n, false);
		pgc_clpage_disown(&sg->io, clp);
	} else {
		pgc__page_seq_begin(p);
		cursor_copy_out(c, 0, data, n);
		pgc__page_seq_end(p);
		pgc_clpage_clip(clp, from, from + n);
		pgc_clpage_list_add(&sg->io.queue.qin, clp);
	}
	pgc_clpage_put(clp);
	return true;
}

/* Builds the segment's queue from the cursor (at sg->pos). 0 or -ENOMEM. */
static int segment_build(struct segment *sg, const struct iov_cursor *cur)
{
	if (pgc__fault_alloc())
		return -ENOMEM;
	struct pgc_mapping *m = sg->m;
	uint32_t shift = m->cache->frames.page_shift;
	struct iov_cursor c = *cur;
	uint64_t pos = sg->pos, end = sg->pos + sg->len, last = (end - 1) >> shift;
	uint64_t cached = pgc__mapping_next_present(m, pos >> shift, last);
	while (pos < end) {
		uint64_t idx = pos >> shift, pend = (idx + 1) << shift;
		if (pend > end)
			pend = end;
		if (idx == cached) {
			cached = idx < last ? pgc__mapping_next_present(m, idx + 1, last) : UINT64_MAX;
			int err;
			if (take_cached(sg, &c, idx, (size_t)(pos - (idx << shift)), (size_t)(pend - pos),
					&err)) {
				cursor_advance(&c, (size_t)(pend - pos));
				pos = pend;
				continue;
			}
			if (err == -EAGAIN) {
				sg->len = (size_t)(pos - sg->pos);
				break;
			}
			if (err)
				return err;
		}
		/* Caller memory for the bytes of this page, buffer by buffer. */
		while (pos < pend) {
			while (c.in == c.iov[c.i].iov_len) {
				c.i++;
				c.in = 0;
			}
			size_t left = c.iov[c.i].iov_len - c.in, n = (size_t)(pend - pos);
			if (n > left)
				n = left;
			char *mem = (char *)c.iov[c.i].iov_base + c.in;
			if (sg->tlen && (sg->tmem + sg->tlen != mem || sg->tlen + n > TRANSIENT_MAX)) {
				int err = flush_transient(sg);
				if (err)
					return err;
			}
			if (!sg->tlen) {
				sg->tmem = mem;
				sg->tpos = pos;
			}
			sg->tlen += n;
			cursor_advance(&c, n);
			pos += n;
		}
	}
	return flush_transient(sg);
}

/*
 * Sends the handles of qin: runs of consecutive file bytes, each one
 * request, all of a segment together. Sets *done to the bytes of the
 * segment done from its start (cached pages a read copied count), and
 * returns the error that stopped it there (0: done, or short at the end
 * of the store).
 */
static int segment_submit(struct segment *sg, size_t *done)
{
	struct pgc_mapping *m = sg->m;
	struct pgc_clpage_list *q = &sg->io.queue.qin;
	*done = sg->len;
	if (!q->nr)
		return 0; /* all of it came from the cache */
	struct iovec *iov = scratch_iov;
	struct pgc__dio_run *runs = scratch_run;
	if (q->nr > SCRATCH_RUNS) {
		iov = pgc__malloc(q->nr * sizeof(*iov));
		runs = pgc__malloc(q->nr * sizeof(*runs));
		if (!iov || !runs) {
			free(iov);
			free(runs);
			*done = 0;
			return -ENOMEM;
		}
	}
	unsigned nr = 0;
	int niov = 0;
	for (pgc_clpage *clp = q->head; clp; clp = pgc_clpage_list_next(clp)) {
		size_t from, to;
		pgc_clpage_range(clp, &from, &to);
		uint64_t at = pgc__clpage_pos(clp);
		char *mem = (char *)pgc_clpage_data(clp) + from;
		struct pgc__dio_run *r = nr ? &runs[nr - 1] : NULL;
		if (r && r->off + r->len != at)
			r = NULL; /* a page the read found cached lies between */
		struct iovec *v = r ? &iov[niov - 1] : NULL;
		if (v && (char *)v->iov_base + v->iov_len == mem) {
			v->iov_len += to - from;
			r->len += to - from;
			continue;
		}
		/* A request takes at most IOV_MAX buffers (what direct_IO is
		 * promised): the next run goes on from there. */
		if (!r || r->iovcnt == IOV_MAX) {
			r = &runs[nr++];
			*r = (struct pgc__dio_run){.iov = &iov[niov], .off = at};
		}
		iov[niov++] = (struct iovec){.iov_base = mem, .iov_len = to - from};
		r->iovcnt++;
		r->len += to - from;
	}
	int err = 0;
	pgc_store *s = pgc__store_of(&m->ops, m->owner);
	if (s) {
		err = pgc__store_direct_runs(s, m, sg->rw, runs, nr);
		if (err)
			*done = 0; /* nothing was sent */
	} else {
		/* A store of the caller's: run by run, up to the first short one. */
		for (unsigned i = 0; i < nr; i++) {
			runs[i].res = m->ops.direct_IO(m, sg->rw, runs[i].iov, runs[i].iovcnt, runs[i].off);
			if (runs[i].res != (ssize_t)runs[i].len) {
				for (unsigned j = i + 1; j < nr; j++)
					runs[j].res = 0;
				break;
			}
		}
	}
	for (unsigned i = 0; i < nr && !err; i++) {
		ssize_t r = runs[i].res;
		if (r == (ssize_t)runs[i].len)
			continue;
		*done = (size_t)(runs[i].off - sg->pos);
		if (r < 0)
			err = (int)r;
		else /* short: the end of the store */
			*done += (size_t)(r > (ssize_t)runs[i].len ? (ssize_t)runs[i].len : r);
		break;
	}
	if (iov != scratch_iov) {
		free(iov);
		free(runs);
	}
	return err;
}

/*
 * Completes the segment's handles, done bytes of it from its start having
 * reached the store: each moves to qout; a written cached page whose bytes
 * did not all reach the store loses its up-to-date state (unless it is
 * dirty again), so that the cache never serves what the store does not
 * hold; then the queue is let go.
 */
static void segment_complete(struct segment *sg, size_t done, int err)
{
	struct pgc_2queue *q = &sg->io.queue;
	uint64_t ok_end = sg->pos + done;
	while (q->qin.head) {
		pgc_clpage *clp = q->qin.head;
		size_t from, to;
		pgc_clpage_range(clp, &from, &to);
		bool ok = pgc__clpage_pos(clp) + (to - from) <= ok_end;
		if (pgc_clpage_type(clp) == PGC_CLP_TRANSIENT) {
			pgc_clpage_completion(clp, sg->crt, ok ? 0 : (err ? err : -EIO));
		} else {
			struct pgc_page *p = pgc_clpage_vmpage(clp);
			if (!ok && !pgc__test(p, PGC_PG_DIRTY)) {
				pgc__page_seq_begin(p);
				pgc__clear(p, PGC_PG_UPTODATE);
				pgc__page_seq_end(p);
			}
			pgc_clpage_disown(&sg->io, clp);
		}
		pgc_clpage_list_move(&q->qout, &q->qin, clp);
	}
	/* Every handle is disowned: no io, so that the ownership of handles
	 * others may own by now is not even read. */
	pgc_2queue_fini(NULL, q);
}

/*
 * One segment of len bytes at pos from the cursor: built, sent, completed.
 * *got: the bytes done from pos; *len is cut short if the segment ended
 * before a page another holds locked. Returns the error that stopped it.
 */
static int segment_run(struct pgc_mapping *m, int rw, const struct iov_cursor *cur, uint64_t pos,
		       size_t *len, size_t *got)
{
	struct segment sg = {.m = m, .rw = rw, .crt = rw == PGC_READ ? PGC_CRT_READ : PGC_CRT_WRITE,
			     .pos = pos, .len = *len, .other_lo = UINT64_MAX,
			     .other_hi = UINT64_MAX};
	pgc__io_init(&sg.io, m, 0);
	*got = 0;
	int err = segment_build(&sg, cur);
	if (!err)
		err = segment_submit(&sg, got);
	segment_complete(&sg, *got, err);
	*len = sg.len;
	if (rw == PGC_WRITE && sg.other_lo != UINT64_MAX && *got) {
		uint32_t shift = m->cache->frames.page_shift;
		uint64_t lo = sg.other_lo << shift, hi = (sg.other_hi + 1) << shift;
		if (lo < pos)
			lo = pos;
		if (hi > pos + *got)
			hi = pos + *got;
		if (lo < hi) {
			struct iov_cursor c = *cur;
			cursor_advance(&c, (size_t)(lo - pos));
			update_cached(m, &c, lo, (size_t)(hi - lo));
		}
	}
	return err;
}

/* pgc_direct_io() once the arguments are checked: total bytes to transfer,
 * of which want are reported at most; *cause gets the error that stopped
 * it (0 if none did: done, or short at the end of the store). */
static ssize_t transfer(struct pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
			uint64_t offset, size_t total, size_t want, int *cause)
{
	uint64_t block = atomic_load(&m->dio_block);
	uint32_t shift = m->cache->frames.page_shift;
	int err = pgc_mapping_writeback(m, offset >> shift, (offset + total - 1) >> shift,
					PGC_WB_ALL);
	*cause = err;
	if (err)
		return err;

	size_t ps = m->cache->frames.page_size;
	uint64_t seg_max = atomic_load(&m->dio_max_segment);
	struct iov_cursor cur = {.iov = iov, .cnt = iovcnt, .i = 0, .in = 0};
	size_t done = 0;
	while (done < total) {
		size_t len = total - done < seg_max ? total - done : (size_t)seg_max;
		/* Grow the size before the data lands: a store trims its file to
		 * the mapping's size, and must not cut this segment. */
		if (rw == PGC_WRITE)
			pgc__mapping_grow_size(m, offset + done + len);
		size_t got;
		err = segment_run(m, rw, &cur, offset + done, &len, &got);
		cursor_advance(&cur, got);
		done += got;
		if (err == -ENOMEM && seg_max > ps) {
			/* Shrink and retry the rest of this segment. */
			seg_max = (seg_max / 2) & ~(uint64_t)(block - 1);
			if (seg_max < ps)
				seg_max = ps;
			err = 0;
			continue;
		}
		if (err || got < len)
			break; /* an error, or the end of the store */
	}
	if (rw == PGC_READ && done > want)
		done = want;
	*cause = err;
	if (!done && err)
		return err;
	return (ssize_t)done;
}
