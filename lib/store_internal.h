/*
 * What the layers above need of the built-in file store (lib/store.c): the
 * asynchronous layer (aio.c) to put a direct transfer of a store's mapping
 * on its own ring, the direct-I/O segmenter (dio.c) to submit a segment's
 * runs as one batch.
 */
#ifndef PGC_STORE_INTERNAL_H
#define PGC_STORE_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <pgcache/mapping.h>
#include <pgcache/store.h>

/* The store under a mapping whose operations are the file store's, else NULL. */
pgc_store *pgc__store_of(const struct pgc_mapping_ops *ops, void *owner);

/*
 * After a direct read of [offset, offset + the iovecs' length) that got
 * @p r bytes (r >= 0): the bytes below the mapping's size that the file
 * did not have read as zeros (as store_direct_IO does). Returns the new count.
 */
ssize_t pgc__store_direct_read_done(pgc_mapping *m, const struct iovec *iov, int iovcnt,
				    uint64_t offset, ssize_t r);

/*
 * After a direct write that ended at @p end, written without the trim lock:
 * if the mapping shrank below @p end meanwhile, the file is cut back to its
 * size. 0 or the error of ftruncate(2).
 */
int pgc__store_direct_write_done(pgc_store *s, pgc_mapping *m, uint64_t end);

/* One run of a direct transfer: consecutive bytes of the file at off. */
struct pgc__dio_run {
	const struct iovec *iov;
	int iovcnt;
	uint64_t off;
	size_t len;  /* the iovecs' total */
	ssize_t res; /* set by the transfer: bytes done or -errno */
};

/*
 * The direct-I/O segmenter's submission (dio.c): the @p nr runs of one
 * segment go to the store together, through the path writeback's runs take
 * (one batch of SQEs on this thread's ring, then the synchronous loop for
 * what the ring left), and each gets its result in res. A read short of
 * len stopped at the end of the file, past which bytes below the mapping's
 * size read as zeros (as store_direct_IO does); a write is whole or failed.
 * Returns 0, or -ENOMEM/-EINVAL with no run tried.
 */
int pgc__store_direct_runs(pgc_store *s, pgc_mapping *m, int rw, struct pgc__dio_run *runs,
			   unsigned nr);

#endif /* PGC_STORE_INTERNAL_H */
