/*
 * The direct-I/O segmenter (see dio.h): alignment checks, EOF clamping,
 * size-limited segments with shrink-and-retry on -ENOMEM, and coherence
 * with the cached pages of the range. It sits at the top layer: it writes
 * back through the mapping and reaches the store only through the mapping's
 * direct_IO operation.
 *
 * A segment is described by an iovec array cut out of the caller's; arrays
 * of up to SCRATCH_IOV entries live in per-thread scratch space, larger
 * ones are allocated, and that allocation is the segment "building" that
 * may fail and shrink the segment.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <pgcache/dio.h>

#include "alloc_internal.h"
#include "error_internal.h"
#include "fault_internal.h"
#include "mapping_internal.h"

#define SCRATCH_IOV 64

static __thread struct iovec scratch_iov[SCRATCH_IOV];

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

/* Counts the iovec entries that len bytes from the cursor span. */
static int cursor_span(const struct iov_cursor *c, size_t len)
{
	int n = 0;
	size_t in = c->in;
	for (int i = c->i; len && i < c->cnt; i++, in = 0) {
		size_t left = c->iov[i].iov_len - in;
		if (!left)
			continue;
		len -= len < left ? len : left;
		n++;
	}
	return n;
}

/*
 * Builds the iovec array of a segment of len bytes at the cursor. Returns
 * the array (scratch or allocated: *heap says which) or NULL for -ENOMEM.
 */
static struct iovec *segment_build(const struct iov_cursor *c, size_t len, int *nr, bool *heap)
{
	int n = cursor_span(c, len);
	struct iovec *v = scratch_iov;
	*heap = n > SCRATCH_IOV;
	if (pgc__fault_alloc())
		return NULL;
	if (*heap && !(v = pgc__malloc((size_t)n * sizeof(*v))))
		return NULL;
	size_t in = c->in;
	int k = 0;
	for (int i = c->i; len && i < c->cnt; i++, in = 0) {
		size_t left = c->iov[i].iov_len - in;
		if (!left)
			continue;
		size_t take = len < left ? len : left;
		v[k].iov_base = (char *)c->iov[i].iov_base + in;
		v[k].iov_len = take;
		k++;
		len -= take;
	}
	*nr = k;
	return v;
}

/* Copies len bytes from the cursor into dst (without moving the cursor). */
static void cursor_copy_out(const struct iov_cursor *c, size_t skip, void *dst, size_t len)
{
	struct iov_cursor t = *c;
	cursor_advance(&t, skip);
	char *d = dst;
	while (len) {
		size_t left = t.iov[t.i].iov_len - t.in;
		if (!left) { /* an empty buffer: cursor_advance(0) would not pass it */
			t.i++;
			t.in = 0;
			continue;
		}
		size_t k = len < left ? len : left;
		memcpy(d, (char *)t.iov[t.i].iov_base + t.in, k);
		d += k;
		len -= k;
		cursor_advance(&t, k);
	}
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
		int nr;
		bool heap;
		struct iovec *v = segment_build(&cur, len, &nr, &heap);
		ssize_t got = v ? m->ops.direct_IO(m, rw, v, nr, offset + done) : -ENOMEM;
		if (heap && v)
			free(v);
		if (got == -ENOMEM && seg_max > ps) {
			/* Shrink and retry this segment. */
			seg_max = (seg_max / 2) & ~(uint64_t)(block - 1);
			if (seg_max < ps)
				seg_max = ps;
			continue;
		}
		if (got < 0) {
			err = (int)got;
			break;
		}
		if (rw == PGC_WRITE)
			update_cached(m, &cur, offset + done, (size_t)got);
		cursor_advance(&cur, (size_t)got);
		done += (size_t)got;
		if ((size_t)got < len)
			break; /* end of the store */
	}
	if (rw == PGC_READ && done > want)
		done = want;
	*cause = err;
	if (!done && err)
		return err;
	return (ssize_t)done;
}
