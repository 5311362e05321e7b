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

/* For the consistency check: the handle of a page with PGC_PGI_HANDLE names
 * that page, its mapping and its index. */
bool pgc__clpage_attached_to(struct pgc_page *page);

#endif /* PGC_CLPAGE_INTERNAL_H */
