/**
 * @file dio.h
 * @brief The direct-I/O segmenter: reads and writes between caller memory
 * and the store that bypass the cache but stay coherent with it.
 *
 * A request is checked for alignment (pgc_mapping_dio_limits()), clamped at
 * the mapping's size for reads, and cut into segments of at most
 * max_segment bytes, each handed to the mapping's direct_IO operation. If a
 * segment cannot be built, or direct_IO answers -ENOMEM, the segment size is
 * halved (down to one page) and the segment retried; only then does the
 * error surface.
 *
 * Coherence with cached pages, as in Lustre's segment loop: before a direct
 * read or write, dirty cached pages of the range are written back (so the
 * read sees them, and no older dirty data can later overwrite what the
 * write stored). Then each segment becomes a queue of page handles
 * (clpage.h): the bytes of up-to-date cached pages are copied, out of them
 * for a read (the store is not asked for those bytes), into them for a
 * write (they are written from the page, which stays locked until the
 * store has them), and the rest goes between the caller's memory and the
 * store. The requests of a segment (one per stretch of consecutive bytes
 * between pages a read found cached) are sent together: the built-in
 * store submits them as one batch (one io_uring_enter), a mapping of the
 * caller's gets one direct_IO call each. A cached page whose bytes a
 * failed write did not store is no longer up to date, so it is read again
 * from the store.
 */
#ifndef PGCACHE_DIO_H
#define PGCACHE_DIO_H

#include <sys/types.h>
#include <sys/uio.h>

#include <pgcache/common.h>
#include <pgcache/mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Direct read or write of a mapping's store.
 * @param mapping the mapping (its direct_IO operation does the transfers).
 * @param rw      #PGC_READ or #PGC_WRITE.
 * @param iov     the caller's buffers: each address a multiple of the
 *                mapping's mem_align, each length a multiple of its
 *                block_size.
 * @param iovcnt  number of buffers, 1 to IOV_MAX.
 * @param offset  byte offset, a multiple of block_size.
 * @return the bytes done. A read stops at the mapping's size: 0 at or past
 *         it, the bytes up to it across it. If nothing was done: -EINVAL
 *         for a NULL argument, a bad @p rw or count, or any misalignment
 *         (then nothing at all is done); -EOPNOTSUPP if the mapping has no
 *         direct_IO; -ENOMEM if even one-page segments failed; the error
 *         of writing back cached dirty pages, or of direct_IO. A count
 *         short of the request because a segment failed after others were
 *         done does not carry the error: pgc_last_error() (io.h) gives it.
 *         Sets pgc_last_error().
 * @par Thread safety
 * Safe from any thread; sleeps. The caller holds no page lock of the
 * mapping. Direct I/O concurrent with buffered writes to the same bytes
 * has no defined order between them (as with O_DIRECT on a file), but
 * nothing is lost when they share pages: a direct write runs alone against
 * pgc_write() and against the reads of pgc_read() and
 * pgc_mapping_read_page() that fill pages from the store (it takes a
 * mapping lock exclusive that they take shared), writes back the cached
 * pages of its range first and copies its bytes into those cached, holding
 * them locked until the store has the bytes. A read copies the bytes of
 * cached pages under their lock.
 * Callers that fill or dirty pages with the lower-level calls
 * (pgc_write_begin(), pgc_mapping_find_or_create()) order them against
 * direct writes themselves.
 */
PGC_API ssize_t pgc_direct_io(pgc_mapping *mapping, int rw, const struct iovec *iov, int iovcnt,
			      uint64_t offset);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_DIO_H */
