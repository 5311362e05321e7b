/**
 * @file store.h
 * @brief The built-in O_DIRECT file store: the default backend of a
 * mapping, reading and writing a file (or block device) with
 * preadv/pwritev and O_DIRECT, so that the library's cache is the only
 * cache of the data.
 *
 * A store implements the mapping operations readpage, readpages,
 * writepage, writepages, direct_IO, resize and sync (pgc_store_ops()); the
 * mapping's owner pointer is the store. pgc_store_mapping_create() does the
 * wiring. Transfers go through io_uring where the library was built with
 * liburing and the kernel allows it, else through preadv/pwritev
 * (pgc_store_set_engine()).
 *
 * O_DIRECT needs aligned offsets, lengths and buffers. The store learns the
 * file system's logical block size and memory alignment (statx
 * STATX_DIOALIGN, the BLKSSZGET ioctl for a block device, else a
 * conservative 4096) and reports them. Pages are always written whole; the
 * store trims the file back to the mapping's size after writing the last,
 * partial page, so the file never grows past what was written.
 *
 * The file's size follows the mapping's: pgc_mapping_truncate() cuts (or
 * extends) the file through the resize operation, and pgc_sync_range()
 * extends it to the mapping's size, holes included. A caller never needs
 * pgc_store_truncate() for a mapping's sake.
 *
 * pgc_sync_range() makes what it wrote durable through the sync operation
 * (fdatasync(2) of the whole file), so a caller needs no pgc_store_sync()
 * after it.
 */
#ifndef PGCACHE_STORE_H
#define PGCACHE_STORE_H

#include <sys/types.h>
#include <sys/uio.h>

#include <pgcache/common.h>
#include <pgcache/mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An O_DIRECT file store (opaque). */
typedef struct pgc_store pgc_store;

/** Flag for pgc_store_from_fd(): pgc_store_close() closes the descriptor. */
#define PGC_STORE_OWN_FD 1u

/**
 * @brief Opens a file as a store, with O_DIRECT added to @p flags.
 * @param path  the file (or block device).
 * @param flags open(2) flags: O_RDONLY or O_RDWR, optionally O_CREAT,
 *              O_TRUNC, O_EXCL, O_DSYNC; O_DIRECT and O_CLOEXEC are added.
 * @param mode  the mode for O_CREAT.
 * @param storep where the store is stored (NULL on error).
 * @return 0; -EINVAL for a NULL argument, O_WRONLY or O_APPEND in @p flags,
 *         or flags that open(2) finds invalid;
 *         -EOPNOTSUPP if the file system refuses O_DIRECT (open(2) fails
 *         with EINVAL for O_DIRECT alone: tmpfs before Linux 6.6, procfs
 *         and sysfs, some FUSE and overlay set-ups; the library checks
 *         that the same open without O_DIRECT succeeds);
 *         the negated errno of open(2) or fstat(2) otherwise, unchanged
 *         (-ENOENT, -EISDIR, -EACCES, -ENOTDIR, -ELOOP, -EMFILE...);
 *         -ENOMEM. If O_CREAT created the file before the file system
 *         refused O_DIRECT, the file stays.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_open(const char *path, int flags, mode_t mode, pgc_store **storep);

/**
 * @brief Makes a store of a descriptor already open with O_DIRECT.
 * @param fd     the descriptor; it must have O_DIRECT and not O_APPEND. A
 *               write-only descriptor is accepted, but then every read
 *               (and so every page fill) fails with -EBADF.
 * @param flags  0 or #PGC_STORE_OWN_FD.
 * @param storep where the store is stored (NULL on error).
 * @return 0; -EINVAL for a negative @p fd, unknown flags, NULL @p storep,
 *         or a descriptor without O_DIRECT or with O_APPEND (bad arguments:
 *         a descriptor that has O_DIRECT was opened on a file system that
 *         accepts it, so -EOPNOTSUPP, which pgc_store_open() returns for a
 *         file system refusing O_DIRECT, cannot happen here); -EBADF if
 *         @p fd is not open; the negated errno of fstat(2); -ENOMEM.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_from_fd(int fd, unsigned flags, pgc_store **storep);

/**
 * @brief Closes a store (and its descriptor if the store owns it).
 * Mappings using the store must be destroyed first.
 * @param store the store, or NULL (nothing happens).
 * @return 0; the negated errno of close(2).
 * @par Thread safety
 * No other thread may use the store during or after the call.
 */
PGC_API int pgc_store_close(pgc_store *store);

/**
 * @brief The store's descriptor.
 * @param store the store.
 * @return the descriptor, or -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_fd(const pgc_store *store);

/**
 * How a store transfers (pgc_store_set_engine()).
 */
enum pgc_store_engine {
	/** preadv(2) and pwritev(2): one request at a time per thread. */
	PGC_STORE_PSYNC = 0,
	/**
	 * io_uring, through liburing: each thread that transfers has a ring
	 * of its own, made on its first request; writeback submits all the
	 * runs of a batch (up to 32) together. A request the ring finishes
	 * short or with -EAGAIN is finished with preadv/pwritev. The default
	 * where the library was built with liburing and the process can set
	 * up a ring.
	 */
	PGC_STORE_URING = 1,
};

/**
 * @brief Chooses how the store transfers; it may change while the store is
 * in use (requests in flight finish the way they started).
 * @param store  the store.
 * @param engine a #pgc_store_engine.
 * @return 0; -EINVAL for NULL or an unknown engine; -EOPNOTSUPP for
 *         #PGC_STORE_URING when the library was built without liburing or
 *         the process could not set up a ring (the kernel lacks io_uring,
 *         a seccomp filter or /proc/sys/kernel/io_uring_disabled refuses
 *         it, RLIMIT_MEMLOCK on kernels before 5.12). When a ring cannot
 *         be set up later, on a thread's first request, the store falls
 *         back to #PGC_STORE_PSYNC for good and says so once through the
 *         log callback of the mapping's cache (#PGC_LOG_WARN).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_set_engine(pgc_store *store, int engine);

/**
 * @brief How the store transfers now.
 * @param store the store.
 * @return a #pgc_store_engine: #PGC_STORE_URING only while io_uring is
 *         usable in the process; -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_engine(const pgc_store *store);

/**
 * @brief The logical block size: offsets and lengths of direct I/O must be
 * multiples of it.
 * @param store the store.
 * @return the size in bytes (a power of two), or 0 for NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API size_t pgc_store_block_size(const pgc_store *store);

/**
 * @brief The memory alignment that buffers of direct I/O need.
 * @param store the store.
 * @return the alignment in bytes (a power of two), or 0 for NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API size_t pgc_store_mem_align(const pgc_store *store);

/**
 * @brief The current size of the file (of the device, for a block device).
 * @param store the store.
 * @param sizep where the size in bytes is stored.
 * @return 0; -EINVAL for a NULL argument; the negated errno of fstat(2).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_size(pgc_store *store, uint64_t *sizep);

/**
 * @brief Reads from the file with O_DIRECT (preadv), retrying short reads
 * until the end of the file.
 * @param store  the store.
 * @param iov    buffers, each address and length aligned to
 *               pgc_store_mem_align() and pgc_store_block_size().
 * @param iovcnt number of buffers (1 to IOV_MAX).
 * @param offset file offset, a multiple of pgc_store_block_size().
 * @return the bytes read (less than asked only at the end of the file);
 *         -EINVAL for a NULL argument, a bad count or misalignment; the
 *         negated errno of preadv(2).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API ssize_t pgc_store_read(pgc_store *store, const struct iovec *iov, int iovcnt,
			       uint64_t offset);

/**
 * @brief Writes to the file with O_DIRECT (pwritev), retrying short writes.
 * @param store  the store.
 * @param iov    buffers, aligned as for pgc_store_read().
 * @param iovcnt number of buffers (1 to IOV_MAX).
 * @param offset file offset, a multiple of pgc_store_block_size().
 * @return the bytes written (all of them); -EINVAL for a NULL argument, a
 *         bad count or misalignment; -EBADF for a store opened read-only;
 *         the negated errno of pwritev(2) (-ENOSPC, -EIO...).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API ssize_t pgc_store_write(pgc_store *store, const struct iovec *iov, int iovcnt,
				uint64_t offset);

/**
 * @brief Sets the file's size (ftruncate). A mapping of the store needs no
 * call of this: pgc_mapping_truncate() and pgc_sync_range() keep the file's
 * size that of the mapping. Called behind a mapping's back, the mapping does
 * not learn of it (its cached pages and size stay).
 * @param store the store.
 * @param size  the new size in bytes.
 * @return 0; -EINVAL for NULL; the negated errno of ftruncate(2).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_truncate(pgc_store *store, uint64_t size);

/**
 * @brief Makes written data durable (fdatasync). pgc_sync_range() on a
 * mapping of the store already calls it (the sync operation); it is for
 * data written with pgc_store_write() or through another descriptor of the
 * file, which the mapping does not know of.
 * @param store the store.
 * @return 0; -EINVAL for NULL; the negated errno of fdatasync(2).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_store_sync(pgc_store *store);

/**
 * @brief The mapping operations of the file store: readpage and readpages
 * (one preadv per run; bytes past the mapping's size or the end of the file
 * read as zeros, and pages wholly past the size are neither read nor
 * written),
 * writepage and writepages (runs of consecutive dirty pages, one pwritev
 * each, through pgc_mapping_writeback_runs()), direct_IO, and resize (an
 * ftruncate(2) to the mapping's size when the file's differs; nothing for
 * a block device), and sync (fdatasync(2) of the whole file, whatever the
 * range). The mapping's owner must be the store.
 * @return a static table, valid for the life of the process.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API const struct pgc_mapping_ops *pgc_store_ops(void);

/**
 * @brief Creates a mapping of the store's file on a cache: the operations
 * of pgc_store_ops(), the store as owner, the file's current size, and the
 * store's direct-I/O limits (see pgc_mapping_set_dio_limits()), and a name
 * for the log (pgc_mapping_name()): the last component of the path given
 * to pgc_store_open(), or "fd N" for a store made by pgc_store_from_fd().
 * Its readahead cap (pgc_mapping_set_readahead()) is the one the kernel
 * uses for the block device under the file, its queue's read_ahead_kb in
 * sysfs, in pages and at most 1024; the library's default of 32 pages
 * stays when the file has no block device (or sysfs cannot be read).
 * @param cache    the cache; its page size must be a multiple of the
 *                 store's block size and memory alignment.
 * @param store    the store.
 * @param mappingp where the mapping is stored (NULL on error).
 * @return 0; -EINVAL for a NULL argument or a page size the store cannot
 *         use; the errors of pgc_store_size() and pgc_mapping_create().
 * @par Thread safety
 * Safe from any thread. Destroy the mapping before closing the store.
 */
PGC_API int pgc_store_mapping_create(pgc_cache *cache, pgc_store *store, pgc_mapping **mappingp);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_STORE_H */
