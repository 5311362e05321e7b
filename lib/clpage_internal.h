/*
 * What the I/O paths above (rw.c, dio.c) use of the handle layer besides
 * its public API.
 */
#ifndef PGC_CLPAGE_INTERNAL_H
#define PGC_CLPAGE_INTERNAL_H

#include <pgcache/clpage.h>

#include "mapping_internal.h"

/* Written pages wait in qin of the queue to be committed in a batch. */
#define PGC_COMMIT_BATCH 256u

struct pgc_io {
	struct pgc_mapping *mapping;
	unsigned flags;
	int result;
	uint64_t written;
	long nr_owned;
	struct pgc_2queue queue;
	uint64_t commit_lo, commit_hi; /* index range of the queued pages */
};

/* Sets up an I/O context that lives on the caller's stack. */
void pgc__io_init(struct pgc_io *io, struct pgc_mapping *m, unsigned flags);

/* Adds to the bytes written that pgc_io_bytes_written() reports. */
void pgc__io_add_written(struct pgc_io *io, uint64_t n);

/* The mapping an I/O context works on. */
struct pgc_mapping *pgc__io_mapping(const struct pgc_io *io);

/*
 * Owns, for io, the handle of the up-to-date page of io's mapping at index
 * if it is cached: its attached handle or one attached now. The caller gets
 * a reference on the handle; the page stays locked and pinned until
 * pgc_clpage_disown(). Creates no page (the direct-I/O segmenter's
 * cacheable handles). -ENOENT if the page is not cached or not up to date;
 * -EAGAIN if nowait and the page is locked; -EINVAL if the mapping's owner
 * uses the page's private slot itself; -EBUSY if the handle is in another
 * state than cached; -ENOMEM.
 */
int pgc__clpage_own_cached(struct pgc_io *io, uint64_t index, bool nowait,
			   struct pgc_clpage **clpp);

/*
 * A transient handle over len bytes of caller memory at data, which are the
 * bytes of the file at offset pos (the segmenter's: its pieces need not
 * start on a page). Its index is pos's page. -EINVAL, -ENOMEM.
 */
int pgc__clpage_transient_at(void *data, size_t len, uint64_t pos, uint32_t page_shift,
			     struct pgc_clpage **clpp);

/* The file offset of a handle's first byte in its clip: a cacheable one's
 * from its index, a transient one's from pgc__clpage_transient_at(). */
uint64_t pgc__clpage_pos(const struct pgc_clpage *clp);

/* For the consistency check: the handle of a page with PGC_PGI_HANDLE names
 * that page, its mapping and its index. */
bool pgc__clpage_attached_to(struct pgc_page *page);

#endif /* PGC_CLPAGE_INTERNAL_H */
