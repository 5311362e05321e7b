/*
 * What the asynchronous layer (aio.c) needs of the built-in file store to
 * put a direct transfer of a store's mapping on its own ring: lib/store.c.
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

#endif /* PGC_STORE_INTERNAL_H */
