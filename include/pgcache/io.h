/**
 * @file io.h
 * @brief Buffered I/O through the cache: reads with sequential readahead,
 * writes with write_begin/write_end semantics and a tiny-write fast path,
 * batched commit of written pages, and synchronous writeback with error
 * reporting once per caller.
 *
 * A read copies from up-to-date cached pages and reads missing ones through
 * the mapping's readpage (or readpages for a readahead window). A write
 * copies into pages that it first reads only when needed: a full-page write
 * reads nothing, a partial write to a page wholly past the known size
 * zero-fills it, any other partial write reads the page first. Written
 * pages are dirty at once (reclaim writes them back, never drops them) and
 * are committed, that is accounted in the mapping's dirty set, in batches of
 * 256 pages or at the end of the call; a synchronous write then writes them
 * back and waits.
 */
#ifndef PGCACHE_IO_H
#define PGCACHE_IO_H

#include <sys/types.h>

#include <pgcache/clpage.h>
#include <pgcache/common.h>
#include <pgcache/mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Flag of pgc_write(): write the data back and wait before returning. It
 * does not call the store's sync operation: for durability, pgc_sync_range().
 */
#define PGC_WRITE_SYNC 1u

/**
 * @brief Reads from the mapping through the cache.
 * @param mapping the mapping.
 * @param buf     where the bytes go.
 * @param len     how many bytes.
 * @param offset  byte offset.
 * @return the bytes read: fewer than @p len at the mapping's size (0 at or
 *         past it), or when a page after the first could not be read (its
 *         error is then not returned: pgc_last_error() gives it); or, if
 *         nothing was read, -EINVAL for a NULL argument, -ENOMEM if no
 *         frame could be had (or a store's write error when dirty pages it
 *         cannot write hold the frames, see pgc_page_alloc()), or the
 *         readpage error (-EIO...). Sets pgc_last_error().
 * @par Thread safety
 * Safe from any thread; may sleep (page locks, reclaim, store reads). The
 * caller holds no page lock. A cached page is copied without its lock and
 * without taking a reference, then checked: the bytes of each page come
 * from one instant between the library's writes of that page (pgc_write(),
 * pgc_write_begin() to pgc_write_end(), direct writes, truncate), never
 * from a page that was freed or reused meanwhile. A read that spans pages
 * may see a write of several pages done in some pages and not yet in
 * others, as with read(2) and write(2) on a file; and a caller that writes
 * a page's data itself (pgc_page_data() under the page lock) may be seen
 * in part.
 */
PGC_API ssize_t pgc_read(pgc_mapping *mapping, void *buf, size_t len, uint64_t offset);

/**
 * Flag of pgc_read_flags(): do not wait for I/O (the kernel's RWF_NOWAIT).
 */
#define PGC_READ_NOWAIT 1u

/**
 * @brief pgc_read() with flags. With #PGC_READ_NOWAIT the read copies the
 * cached pages it begins with and stops at the first page that is not
 * cached and up to date (absent, being read, or being written): it starts
 * the read of the missing pages of the range in the background (with the
 * readahead window of a sequential reader), and returns the bytes copied,
 * or -EAGAIN if there were none. Called again once the pages are in, it
 * copies them. Nothing in it sleeps or takes a lock that I/O holds.
 * @param mapping the mapping.
 * @param buf     where the bytes go.
 * @param len     how many bytes.
 * @param offset  byte offset.
 * @param flags   0 (as pgc_read()) or #PGC_READ_NOWAIT.
 * @return as pgc_read(); -EAGAIN (NOWAIT, the first page not cached);
 *         -EINVAL for unknown flags. Sets pgc_last_error() (-EAGAIN when a
 *         NOWAIT read stopped short).
 * @par Thread safety
 * As pgc_read(). A background read that fails leaves the page out of the
 * cache; the next read that waits reads it again and returns the error.
 */
PGC_API ssize_t pgc_read_flags(pgc_mapping *mapping, void *buf, size_t len, uint64_t offset,
			       unsigned flags);

/**
 * @brief Writes to the mapping through the cache; the mapping's size grows
 * to cover the bytes written.
 * @param mapping the mapping.
 * @param buf     the bytes.
 * @param len     how many bytes.
 * @param offset  byte offset.
 * @param flags   0 or #PGC_WRITE_SYNC.
 * @return the bytes written: all of them, or fewer when an error stopped the
 *         copy after some pages (the error is then not returned, but
 *         pgc_last_error() gives it; a write-back error stays recorded for
 *         the next sync too). Sets pgc_last_error(). With
 *         #PGC_WRITE_SYNC, when every byte was copied, a write-back error is
 *         returned instead of the count: the bytes stay dirty in the cache.
 *         -EINVAL for a NULL argument, unknown flags, or
 *         @p offset + @p len past 2^64 (nothing is written); -ENOMEM;
 *         the readpage error of a partial page that had to be read; at the
 *         cache's dirty limit (see pgc_mapping_balance_dirty()), the write
 *         error of the store that keeps the pages dirty (-ENOSPC, -EIO...),
 *         or -EAGAIN after waiting pgc_cache_config::dirty_wait_ms with no
 *         writeback progress.
 * @par Thread safety
 * Safe from any thread; may sleep. The caller holds no page lock. A direct
 * write to the same mapping (pgc_direct_io()) waits until the write is
 * done, and the write waits for a direct write in progress.
 */
PGC_API ssize_t pgc_write(pgc_mapping *mapping, const void *buf, size_t len, uint64_t offset,
			  unsigned flags);

/**
 * @brief Waits, if the cache is at its dirty limit, until writeback has
 * brought it below (the kernel's balance_dirty_pages).
 *
 * pgc_write() calls it before it dirties a page that is not dirty yet;
 * callers that dirty pages through pgc_write_begin() or the page calls
 * should call it between pages (holding no page lock). Without a writeback
 * thread the caller writes back a step of the oldest dirty mapping of the
 * cache itself; with one, it sleeps in pauses of 1-16 ms while the thread
 * works. It returns once below the limit, or when writeback cannot make
 * progress: every mapping with dirty pages that count is backing off
 * after a failed write (the error of one of them is returned), or nothing
 * was written back for pgc_cache_config::dirty_wait_ms (-EAGAIN). Pages of
 * mappings without a writepage or writepages operation neither count nor
 * wait.
 * @param mapping the mapping about to be dirtied.
 * @return 0; -EINVAL for NULL; a store's write error; -EAGAIN.
 * @par Thread safety
 * Safe from any thread; sleeps. The caller holds no page lock.
 */
PGC_API int pgc_mapping_balance_dirty(pgc_mapping *mapping);

/**
 * @brief Why the last pgc_read(), pgc_write() or pgc_direct_io() of this
 * thread returned less than it was asked for: the error that cut it short.
 *
 * Those three calls return a byte count when they did something, so an
 * error that stops them after some pages is not their return value; this
 * call gives it, as errno gives the cause of a failed system call. Each of
 * the three sets it on every return, whatever the outcome:
 * - 0 when the call returned everything it was asked for, or a count cut
 *   short only by the mapping's size (a read at or across its end; for a
 *   direct read, also the end of the store);
 * - the negative errno that stopped it otherwise: the one it returned, if
 *   it did nothing, or the one behind its short count (the readpage error
 *   of the page it could not read, -ENOMEM, the direct_IO or write-back
 *   error...). A synchronous pgc_write() that copied every byte and
 *   returns a write-back error sets that error.
 *
 * No other function of the library changes it, so it may be read after
 * other calls; a later call of one of the three replaces it.
 *
 * @return 0 or a negative errno, as above; 0 in a thread that has not
 *         called any of the three.
 * @par Thread safety
 * Thread-local: each thread sees the result of its own last call.
 */
PGC_API int pgc_last_error(void);

/**
 * @brief Prepares a write of @p len bytes at @p pos, all inside one page
 * (the kernel's write_begin): finds or creates the page, makes @p io its
 * owner (locked) and makes its data valid where the write will not cover
 * it (read from the store, or zero-filled past the known size). The caller
 * then copies into pgc_clpage_data() at @p pos modulo the page size and
 * calls pgc_write_end().
 * @param io   an I/O context on the mapping (pgc_io_create()).
 * @param pos  byte offset of the write.
 * @param len  bytes to write, at least 1, not crossing a page boundary.
 * @param clpp where the owned handle is stored (NULL on error).
 * @return 0; -EINVAL for a NULL argument or a range crossing a page; the
 *         errors of pgc_clpage_find() and of readpage.
 * @par Thread safety
 * The thread of @p io; sleeps. It holds no other page lock.
 */
PGC_API int pgc_write_begin(pgc_io *io, uint64_t pos, size_t len, pgc_clpage **clpp);

/**
 * @brief Finishes a write started by pgc_write_begin(): the page becomes up
 * to date and dirty, the mapping's size covers the bytes, ownership ends and
 * the handle joins the context's queue of written pages, which is
 * committed when it holds 256 pages (see pgc_io_commit()).
 * @param io     the context.
 * @param clp    the handle from pgc_write_begin() (its reference passes to
 *               the queue).
 * @param pos    the offset given to pgc_write_begin().
 * @param copied the bytes actually copied (0 to cancel: nothing changes).
 * @return 0; -EINVAL for a NULL argument or a handle @p io does not own; the
 *         commit's error if the queue was committed and a synchronous
 *         write-back failed.
 * @par Thread safety
 * The thread of @p io.
 */
PGC_API int pgc_write_end(pgc_io *io, pgc_clpage *clp, uint64_t pos, size_t copied);

/**
 * @brief Commits the written pages queued on @p io: accounts them in the
 * mapping's dirty set in one batch and, for a #PGC_IO_SYNC context, writes
 * them back and waits.
 * @param io the context.
 * @return 0; -EINVAL for NULL; with #PGC_IO_SYNC the write-back error (also
 *         recorded in pgc_io_result(); the pages stay dirty).
 * @par Thread safety
 * The thread of @p io; may sleep.
 */
PGC_API int pgc_io_commit(pgc_io *io);

/**
 * @brief Makes a byte range durable, as fsync(2) does for a file: writes
 * back the dirty pages of the range and waits for them (those that others
 * are writing back too), passes the mapping's size on to the store (the
 * resize operation of struct pgc_mapping_ops, if it has one), then asks
 * the store to make the range durable (its sync operation, if it has one:
 * fdatasync(2) for the built-in file store), and reports a write error
 * recorded since @p since (each holder of a sample sees each error once).
 *
 * The sync operation is called on every call, also when the writeback
 * failed, so that the pages that were written are durable all the same;
 * the first error of writeback, resize and sync is returned, and a sync
 * error is also recorded in the mapping's write-error sequence. A store
 * without a sync operation is taken to be durable once its writes return:
 * the range is then written back, not more. Writeback without the store's
 * sync (a cheaper flush that a crash may undo): pgc_mapping_writeback()
 * with #PGC_WB_ALL. #PGC_WRITE_SYNC and #PGC_IO_SYNC also write back and
 * wait only.
 * @param mapping the mapping.
 * @param start   first byte.
 * @param end     last byte (inclusive); UINT64_MAX for the whole mapping.
 * @param since   the caller's error sample (pgc_mapping_sample_error()),
 *                advanced; NULL to report only this call's own errors.
 * @return 0 once the range is written back and, where the store has a sync
 *         operation, durable; -EINVAL for a NULL mapping or start > end;
 *         the first error of writepage(s), of resize and of sync, or one
 *         recorded since @p since.
 * @par Thread safety
 * Safe from any thread; sleeps. The caller holds no page lock.
 */
PGC_API int pgc_sync_range(pgc_mapping *mapping, uint64_t start, uint64_t end,
			   pgc_errseq_t *since);

/**
 * @brief Sets the largest readahead window of a mapping, in pages. The window
 * starts at 4 pages on the second sequential miss, and each window after it
 * is twice as large as the one before, up to this cap and never past an
 * eighth of the cache's capacity (two windows are held while they are
 * read). The miss reads its window and queues the next one for the cache's
 * filler threads; from then on the reader's hit halfway through a window
 * queues the one after the next, so two windows are read at once while the
 * reader copies. A random access resets it. 0 turns readahead off. Default: 32; a mapping
 * of the built-in store starts with its device's readahead instead (see
 * pgc_store_mapping_create()).
 * @param mapping   the mapping.
 * @param max_pages the cap (at most 1024).
 * @return 0; -EINVAL for NULL or a cap above 1024.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_set_readahead(pgc_mapping *mapping, unsigned max_pages);

/**
 * @brief The current readahead cap of a mapping, in pages.
 * @param mapping the mapping.
 * @return the cap, or -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_mapping_readahead(const pgc_mapping *mapping);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_IO_H */
