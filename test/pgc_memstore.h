/*
 * A file in memory behind a mapping, for the random-operation tests
 * (test/fsx.c --store mem, fuzz/fuzz_ops.c): a byte array with a size, and
 * readpage, writepage, direct_IO and resize that behave like the built-in
 * file store. Bytes below the mapping's size and past the file's end read as
 * zeros; a page write extends the file at most to the mapping's size (the
 * file store trims it there). The mapping's owner is the struct memstore.
 */
#ifndef PGC_MEMSTORE_H
#define PGC_MEMSTORE_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <pgcache/pgcache.h>

struct memstore {
	uint8_t *data;
	uint64_t cap;  /* bytes of data */
	uint64_t size; /* the file's size */
	size_t ps;     /* the cache's page size */
};

/* How many of len bytes at off lie below the mapping's size. */
static inline uint64_t memstore_limit(pgc_mapping *m, uint64_t off, uint64_t len)
{
	uint64_t size = pgc_mapping_size(m);
	return off >= size ? 0 : (size - off < len ? size - off : len);
}

static inline void memstore_read(struct memstore *s, pgc_mapping *m, void *dst, uint64_t off,
				 uint64_t len)
{
	uint64_t have = off >= s->size ? 0 : s->size - off;
	uint64_t n = memstore_limit(m, off, len);
	if (have > n)
		have = n;
	memcpy(dst, s->data + off, have);
	memset((char *)dst + have, 0, len - have);
}

/* -EFBIG past the array: the test's bounds are wrong. */
static inline int memstore_write(struct memstore *s, const void *src, uint64_t off, uint64_t len)
{
	if (off > s->cap || len > s->cap - off)
		return -EFBIG;
	memcpy(s->data + off, src, len);
	if (off + len > s->size)
		s->size = off + len;
	return 0;
}

/*
 * The resize operation: the file follows the mapping's size (truncate and
 * sync call it). Bytes cut off are zeroed, so a later growth reads zeros.
 * -EFBIG past the array.
 */
static inline int memstore_resize(pgc_mapping *m, uint64_t size)
{
	struct memstore *s = pgc_mapping_owner(m);
	if (size > s->cap)
		return -EFBIG;
	if (size < s->size)
		memset(s->data + size, 0, s->size - size);
	s->size = size;
	return 0;
}

static inline int memstore_readpage(pgc_mapping *m, pgc_page *p)
{
	struct memstore *s = pgc_mapping_owner(m);
	memstore_read(s, m, pgc_page_data(p), pgc_page_index(p) * s->ps, s->ps);
	return 0;
}

static inline int memstore_writepage(pgc_mapping *m, pgc_page *p,
				     struct pgc_writeback_control *wbc)
{
	(void)wbc;
	struct memstore *s = pgc_mapping_owner(m);
	uint64_t off = pgc_page_index(p) * s->ps;
	return memstore_write(s, pgc_page_data(p), off, memstore_limit(m, off, s->ps));
}

static inline ssize_t memstore_direct_IO(pgc_mapping *m, int rw, const struct iovec *iov, int n,
					 uint64_t off)
{
	struct memstore *s = pgc_mapping_owner(m);
	uint64_t done = 0;
	for (int i = 0; i < n; i++) {
		if (rw == PGC_READ) {
			memstore_read(s, m, iov[i].iov_base, off + done, iov[i].iov_len);
		} else {
			int err = memstore_write(s, iov[i].iov_base, off + done, iov[i].iov_len);
			if (err)
				return done ? (ssize_t)done : err;
		}
		done += iov[i].iov_len;
	}
	return (ssize_t)(rw == PGC_READ ? memstore_limit(m, off, done) : done);
}

#endif /* PGC_MEMSTORE_H */
