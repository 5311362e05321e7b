/**
 * @file aio.h
 * @brief Asynchronous I/O for event loops: reads, writes, direct I/O and
 * syncs that return at once and complete later, with a callback run in the
 * caller's thread.
 *
 * A context (#pgc_aio) belongs to one thread, the loop that drives it: it
 * submits requests, polls the context's descriptor (pgc_aio_fd()) with the
 * rest of its descriptors (epoll, poll, libuv's uv_poll), and calls
 * pgc_aio_reap() when it is readable; the callbacks run inside that call.
 * Nothing else of the context runs in another thread of the caller's.
 *
 * How each request is served:
 * - pgc_aio_read(): pages already cached are copied at once, without I/O
 *   (the read completes at the next pgc_aio_reap()); a read that misses
 *   goes to one of the context's worker threads, which reads through the
 *   cache as pgc_read() does (readahead included).
 * - pgc_aio_direct() on a mapping of the built-in file store
 *   (pgc_store_mapping_create()) whose range holds no dirty page and no
 *   page under writeback: the transfer is submitted to the context's own
 *   io_uring ring, one request per segment (pgc_mapping_dio_limits()), and
 *   completes in pgc_aio_reap() from the ring's completions; nothing
 *   blocks. Other direct I/O (another store, dirty pages to write back
 *   first, no ring) goes to a worker, which calls pgc_direct_io().
 * - pgc_aio_write() and pgc_aio_sync() go to a worker (pgc_write(),
 *   pgc_sync_range()): they may wait for writeback at the dirty limit,
 *   for a partial page's read, or for the store's fdatasync.
 *
 * So a loop never sleeps in the library for I/O: the submit calls take no
 * lock that I/O holds, and pgc_aio_reap() with @c min 0 only gathers what
 * is done. (pgc_aio_reap() runs the cache's bookkeeping of completed
 * direct writes: it may take a page lock that a fill of the same page
 * holds for the length of that read, which only happens when the same
 * bytes are read through the cache and written directly at once.)
 *
 * Coherence: a direct write submitted to the ring is ordered, for the
 * cache, after every buffered write or fill that overlaps it in time: when
 * it completes, cached pages of its range get its bytes and are marked
 * dirty, so the store converges to what the cache shows even if a
 * writeback of such a page raced with it. A truncate racing with a direct
 * write in flight is followed by a trim of the file to the mapping's size
 * when the write completes.
 *
 * Buffers (and the iovec arrays of pgc_aio_direct(), which are copied)
 * must stay valid until the request's callback has run.
 */
#ifndef PGCACHE_AIO_H
#define PGCACHE_AIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <pgcache/common.h>
#include <pgcache/mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An asynchronous I/O context (opaque). */
typedef struct pgc_aio pgc_aio;

/** Flag of pgc_aio_config::flags: never use io_uring (workers only). */
#define PGC_AIO_NO_URING 1u

/** Configuration of pgc_aio_create(). */
struct pgc_aio_config {
	/** sizeof(struct pgc_aio_config). */
	uint32_t size;
	/** Most requests in flight (submitted, callback not yet run);
	 * the submit calls return -EAGAIN beyond it. 0: the default, 256. */
	uint32_t depth;
	/** Worker threads for the requests that may block. 0: the default, 2. */
	uint32_t workers;
	/** 0 or #PGC_AIO_NO_URING. */
	uint32_t flags;
};

/** Size of struct pgc_aio_config in release 0.2. */
#define PGC_AIO_CONFIG_SIZE_0_2 16u

/** Counts of a context (pgc_aio_stats()). */
struct pgc_aio_stats {
	/** sizeof(struct pgc_aio_stats). */
	uint32_t size;
	/** Zero (alignment). */
	uint32_t pad_;
	/** Requests completed without I/O (cached reads). */
	uint64_t inline_done;
	/** Requests served through the context's ring. */
	uint64_t ring;
	/** Requests served by a worker. */
	uint64_t worker;
	/** Callbacks run. */
	uint64_t completed;
};

/** Size of struct pgc_aio_stats in release 0.2. */
#define PGC_AIO_STATS_SIZE_0_2 40u

/**
 * @brief A request's completion: @p result is what the synchronous call
 * would have returned (pgc_read(), pgc_write(), pgc_direct_io(): bytes or
 * a negative errno; pgc_sync_range(): 0 or a negative errno). Inside the
 * callback, pgc_last_error() gives what the synchronous call would have
 * left there: the error that stopped a short transfer (0 when it stopped
 * at the end of the mapping).
 */
typedef void (*pgc_aio_done_fn)(void *arg, ssize_t result);

/**
 * @brief Fills a configuration with the defaults.
 * @param cfg the configuration (NULL: nothing happens).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API void pgc_aio_config_init(struct pgc_aio_config *cfg);

/**
 * @brief Creates a context: its descriptor, its ring (unless
 * #PGC_AIO_NO_URING, or where io_uring cannot be set up: then every
 * request goes to the workers) and its workers.
 * @param cfg  the configuration, or NULL for the defaults.
 * @param ctxp where the context is stored (NULL on error).
 * @return 0; -EINVAL for NULL @p ctxp, a @c size below
 *         #PGC_AIO_CONFIG_SIZE_0_2, a @c depth above 65536 or
 *         @c workers above 64, or unknown flags; -E2BIG for a larger
 *         structure with nonzero bytes past what this library knows;
 *         -ENOMEM; -EMFILE or -ENFILE from eventfd(2); the error of
 *         pthread_create() (-EAGAIN).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_aio_create(const struct pgc_aio_config *cfg, pgc_aio **ctxp);

/**
 * @brief Destroys a context that has nothing in flight.
 * @param ctx the context, or NULL (nothing happens).
 * @return 0; -EBUSY if requests are in flight (reap them first: nothing
 *         was destroyed).
 * @par Thread safety
 * The context's thread only.
 */
PGC_API int pgc_aio_destroy(pgc_aio *ctx);

/**
 * @brief The descriptor to poll: readable (POLLIN) when completions wait
 * for pgc_aio_reap(). It is an eventfd(2); do not read or close it.
 * @param ctx the context.
 * @return the descriptor, or -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_aio_fd(const pgc_aio *ctx);

/**
 * @brief Starts a read through the cache (pgc_read()).
 * @param ctx     the context.
 * @param mapping the mapping.
 * @param buf     where the bytes go (valid until the callback).
 * @param len     how many bytes.
 * @param offset  byte offset.
 * @param fn      the callback.
 * @param arg     passed to @p fn.
 * @return 0 (the callback will run in a pgc_aio_reap()); -EINVAL for a
 *         NULL context, mapping or callback, or a NULL @p buf with a
 *         nonzero @p len; -EAGAIN at the context's depth (nothing
 *         started).
 * @par Thread safety
 * The context's thread only. Does not sleep.
 */
PGC_API int pgc_aio_read(pgc_aio *ctx, pgc_mapping *mapping, void *buf, size_t len,
			 uint64_t offset, pgc_aio_done_fn fn, void *arg);

/**
 * @brief Starts a write through the cache (pgc_write()).
 * @param ctx     the context.
 * @param mapping the mapping.
 * @param buf     the bytes (valid until the callback).
 * @param len     how many bytes.
 * @param offset  byte offset.
 * @param flags   as for pgc_write(): 0 or #PGC_WRITE_SYNC.
 * @param fn      the callback.
 * @param arg     passed to @p fn.
 * @return 0; -EINVAL as for pgc_aio_read() or for unknown flags; -EAGAIN
 *         at the context's depth.
 * @par Thread safety
 * The context's thread only. Does not sleep.
 */
PGC_API int pgc_aio_write(pgc_aio *ctx, pgc_mapping *mapping, const void *buf, size_t len,
			  uint64_t offset, unsigned flags, pgc_aio_done_fn fn, void *arg);

/**
 * @brief Starts a direct transfer (pgc_direct_io()).
 * @param ctx     the context.
 * @param mapping the mapping.
 * @param rw      #PGC_READ or #PGC_WRITE.
 * @param iov     the buffers, aligned as pgc_direct_io() needs (the array
 *                is copied; the buffers must stay valid until the
 *                callback).
 * @param iovcnt  number of buffers (1 to IOV_MAX).
 * @param offset  byte offset, aligned as pgc_direct_io() needs.
 * @param fn      the callback.
 * @param arg     passed to @p fn.
 * @return 0; -EINVAL as pgc_direct_io() would say it at once (a NULL
 *         argument, a bad @p rw, misalignment), or for a NULL callback;
 *         -EOPNOTSUPP for a mapping without direct_IO; -EAGAIN at the
 *         context's depth; -ENOMEM.
 * @par Thread safety
 * The context's thread only. Does not sleep.
 */
PGC_API int pgc_aio_direct(pgc_aio *ctx, pgc_mapping *mapping, int rw, const struct iovec *iov,
			   int iovcnt, uint64_t offset, pgc_aio_done_fn fn, void *arg);

/**
 * @brief Starts a pgc_sync_range() of bytes [@p start, @p end].
 * @param ctx     the context.
 * @param mapping the mapping.
 * @param start   first byte.
 * @param end     last byte (inclusive); UINT64_MAX for the whole mapping.
 * @param since   the caller's error sample, as for pgc_sync_range(): the
 *                result is the first write error it has not seen, and it
 *                is advanced past it (a worker writes it: do not touch it
 *                until the callback has run); NULL: only errors of this
 *                sync are reported.
 * @param fn      the callback.
 * @param arg     passed to @p fn.
 * @return 0; -EINVAL for a NULL context, mapping or callback, or
 *         @p start > @p end; -EAGAIN at the context's depth.
 * @par Thread safety
 * The context's thread only. Does not sleep.
 */
PGC_API int pgc_aio_sync(pgc_aio *ctx, pgc_mapping *mapping, uint64_t start, uint64_t end,
			 pgc_errseq_t *since, pgc_aio_done_fn fn, void *arg);

/**
 * @brief Passes the ring requests queued since the last call to the kernel
 * in one system call. pgc_aio_reap() does it too; a loop that submits many
 * requests per turn calls it once after them.
 * @param ctx the context.
 * @return the ring requests passed (0 if none); -EINVAL for NULL; the
 *         error of io_uring_submit() (the requests stay queued).
 * @par Thread safety
 * The context's thread only. Does not sleep.
 */
PGC_API int pgc_aio_submit(pgc_aio *ctx);

/**
 * @brief Submits what is queued, then runs the callbacks of completed
 * requests, in the calling thread.
 * @param ctx the context.
 * @param min wait until at least this many callbacks have run (0: do not
 *            wait); at most the number in flight is waited for.
 * @param max run at most this many callbacks (0: no limit); the rest stay
 *            for the next call, and the descriptor stays readable.
 * @return the callbacks run; -EINVAL for NULL or @p max below @p min.
 * @par Thread safety
 * The context's thread only. Sleeps only when @p min asks it to. A
 * callback may submit new requests on the context; it must not destroy it.
 */
PGC_API int pgc_aio_reap(pgc_aio *ctx, unsigned min, unsigned max);

/**
 * @brief Requests in flight: submitted, callback not yet run.
 * @param ctx the context.
 * @return the count (0 for NULL).
 * @par Thread safety
 * Safe from any thread (a snapshot).
 */
PGC_API unsigned pgc_aio_inflight(const pgc_aio *ctx);

/**
 * @brief The context's counts.
 * @param ctx   the context.
 * @param stats filled; its @c size set by the caller to
 *              sizeof(struct pgc_aio_stats) (an older, smaller size gets
 *              the members it has).
 * @return 0; -EINVAL for a NULL argument or a @c size below
 *         #PGC_AIO_STATS_SIZE_0_2; -E2BIG for a size above 4096.
 * @par Thread safety
 * Safe from any thread (a snapshot).
 */
PGC_API int pgc_aio_stats(const pgc_aio *ctx, struct pgc_aio_stats *stats);

/**
 * @brief Whether the context serves direct I/O through io_uring.
 * @param ctx the context.
 * @return 1 if it has a ring, 0 if every request goes to its workers,
 *         -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_aio_uses_uring(const pgc_aio *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_AIO_H */
