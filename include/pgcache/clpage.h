/**
 * @file clpage.h
 * @brief Page handles in the manner of Lustre's CLIO cl_page, page lists,
 * two-queues and the I/O context that owns pages.
 *
 * A handle stands for one page an I/O touches. A cacheable handle belongs
 * to a page of a mapping and lives in that page's private slot: there is at
 * most one per page, and pgc_clpage_find() finds it again. A transient
 * handle wraps caller memory that is not cached (a direct-I/O buffer).
 *
 * Handles are reference counted and follow a checked state machine:
 *
 *     cached  -> owned, pageout, freeing
 *     owned   -> cached, pagein, pageout, freeing
 *     pagein  -> cached
 *     pageout -> cached
 *     freeing    (final; the handle is destroyed on its last put)
 *
 * A call that would make an illegal transition is refused with -EINVAL and
 * changes nothing (the transition table itself is also checked by an
 * internal assertion in debug builds).
 *
 * A mapping whose pages get handles gives the private slot of its pages to
 * this layer: do not use pgc_page_set_private() on them.
 */
#ifndef PGCACHE_CLPAGE_H
#define PGCACHE_CLPAGE_H

#include <pgcache/common.h>
#include <pgcache/mapping.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A page handle (opaque). */
typedef struct pgc_clpage pgc_clpage;
/** An I/O context (opaque): owns pages, carries a result. */
typedef struct pgc_io pgc_io;

/** Kind of a handle. */
enum pgc_clpage_type {
	PGC_CLP_CACHEABLE = 0, /**< A page of a mapping. */
	PGC_CLP_TRANSIENT = 1  /**< Caller memory, not cached. */
};

/** State of a handle. */
enum pgc_clpage_state {
	PGC_CPS_CACHED = 0,  /**< In the cache, owned by no I/O. */
	PGC_CPS_OWNED = 1,   /**< Owned by an I/O (its page is locked). */
	PGC_CPS_PAGEIN = 2,  /**< Being read from the store. */
	PGC_CPS_PAGEOUT = 3, /**< Being written to the store. */
	PGC_CPS_FREEING = 4  /**< Left the cache; destroyed on its last put. */
};

/** Direction of a transfer, for pgc_clpage_prep() and pgc_clpage_completion(). */
enum pgc_clpage_crt {
	PGC_CRT_READ = 0, /**< pagein */
	PGC_CRT_WRITE = 1 /**< pageout */
};

/**
 * Flag of pgc_io_create(): the I/O is synchronous (writes are written back
 * before it ends; not made durable: see pgc_sync_range()).
 */
#define PGC_IO_SYNC 1u

/**
 * @brief Creates an I/O context on a mapping.
 * @param mapping the mapping the I/O works on.
 * @param flags   0 or #PGC_IO_SYNC.
 * @param iop     where the context is stored (NULL on error).
 * @return 0; -EINVAL for a NULL argument or unknown flags; -ENOMEM.
 * @par Thread safety
 * A context belongs to one thread at a time.
 */
PGC_API int pgc_io_create(pgc_mapping *mapping, unsigned flags, pgc_io **iop);

/**
 * @brief Destroys an I/O context. It must own no page.
 * @param io the context, or NULL.
 * @return 0; -EBUSY if it still owns pages (nothing is destroyed).
 * @par Thread safety
 * The thread that uses the context.
 */
PGC_API int pgc_io_destroy(pgc_io *io);

/**
 * @brief The result of an I/O: 0, or the first error recorded.
 * @param io the context.
 * @return the result, or -EINVAL for NULL.
 * @par Thread safety
 * The thread that uses the context.
 */
PGC_API int pgc_io_result(const pgc_io *io);

/**
 * @brief Records an error in the context (the first one sticks).
 * @param io  the context.
 * @param err a negative errno, or 0 (nothing happens).
 * @return 0; -EINVAL for NULL or a positive @p err.
 * @par Thread safety
 * The thread that uses the context.
 */
PGC_API int pgc_io_set_result(pgc_io *io, int err);

/**
 * @brief Bytes written so far by buffered writes done with this context.
 * @param io the context.
 * @return the count (0 for NULL).
 * @par Thread safety
 * The thread that uses the context.
 */
PGC_API uint64_t pgc_io_bytes_written(const pgc_io *io);

/**
 * @brief Whether the context is synchronous (#PGC_IO_SYNC).
 * @param io the context.
 * @return 1 or 0 (0 for NULL).
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_io_is_sync(const pgc_io *io);

/**
 * @brief Finds the handle of a page of a mapping, creating the page (not
 * up to date) and the handle if needed; takes a reference on the handle.
 * @param mapping the mapping.
 * @param index   the page number.
 * @param flags   0 or #PGC_FIND_NOWAIT.
 * @param clpp    where the handle is stored (NULL on error), in state
 *                cached or whatever state it is in.
 * @return 0; -EINVAL for a NULL argument, unknown flags, or a page whose
 *         private slot holds something else; the errors of
 *         pgc_mapping_find_or_create() (-ENOMEM, -EAGAIN with NOWAIT).
 * @par Thread safety
 * Safe from any thread; may sleep (the page lock, reclaim). The caller holds
 * no page lock.
 */
PGC_API int pgc_clpage_find(pgc_mapping *mapping, uint64_t index, unsigned flags,
			    pgc_clpage **clpp);

/**
 * @brief Makes a transient handle over caller memory (not cached), in
 * state owned by nobody (cached) with one reference.
 * @param data  the memory, which must stay valid while the handle lives.
 * @param len   its length in bytes (nonzero).
 * @param index the page number the memory stands for.
 * @param clpp  where the handle is stored (NULL on error).
 * @return 0; -EINVAL for a NULL argument or a zero length; -ENOMEM.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_clpage_transient(void *data, size_t len, uint64_t index, pgc_clpage **clpp);

/**
 * @brief Takes another reference on a handle.
 * @param clp the handle.
 * @return 0; -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API int pgc_clpage_get(pgc_clpage *clp);

/**
 * @brief Drops a reference; a handle in state freeing is destroyed on its
 * last put.
 * @param clp the handle, or NULL.
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API void pgc_clpage_put(pgc_clpage *clp);

/**
 * @brief The state of a handle (a snapshot).
 * @param clp the handle.
 * @return the state, or -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API int pgc_clpage_state(const pgc_clpage *clp);

/**
 * @brief The type of a handle.
 * @param clp the handle.
 * @return #PGC_CLP_CACHEABLE or #PGC_CLP_TRANSIENT, or -EINVAL for NULL.
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API int pgc_clpage_type(const pgc_clpage *clp);

/**
 * @brief The page number of a handle.
 * @param clp the handle.
 * @return the index (0 for NULL).
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API uint64_t pgc_clpage_index(const pgc_clpage *clp);

/**
 * @brief The page of a cacheable handle (no reference is taken: it is
 * valid while the handle is owned, or in pagein or pageout).
 * @param clp the handle.
 * @return the page; NULL for NULL, a transient handle, or one in freeing.
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API pgc_page *pgc_clpage_vmpage(const pgc_clpage *clp);

/**
 * @brief The data of a handle: the page's data, or the transient memory.
 * @param clp the handle.
 * @return the address, or NULL (NULL handle, or freeing).
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API void *pgc_clpage_data(const pgc_clpage *clp);

/**
 * @brief Makes an I/O the owner of a handle, waiting for the page lock.
 * @param io  the owner to be.
 * @param clp a handle in state cached.
 * @return 0 (state owned); -ENOENT if the handle is being freed (or became
 *         so while waiting); -EINVAL for a NULL argument.
 * @par Thread safety
 * Safe from any thread; sleeps. The caller holds no other page lock of a
 * higher index (lock pages in increasing index order), and @p io does not
 * own the handle already (that would wait for itself).
 */
PGC_API int pgc_clpage_own(pgc_io *io, pgc_clpage *clp);

/**
 * @brief Like pgc_clpage_own() but never waits.
 * @param io  the owner to be.
 * @param clp the handle.
 * @return 0; -EAGAIN if another holder has the page locked; -ENOENT if the
 *         handle is being freed; -EINVAL for a NULL argument.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API int pgc_clpage_own_try(pgc_io *io, pgc_clpage *clp);

/**
 * @brief Makes an I/O the owner of a handle whose page the caller has
 * already locked (Lustre's cl_page_assume).
 * @param io  the owner to be.
 * @param clp a cacheable handle in state cached, its page locked by the caller.
 * @return 0; -EINVAL for a NULL argument, a page not locked or a transient
 *         handle; -ENOENT if the handle is being freed.
 * @par Thread safety
 * The caller holds the page lock, which passes to the ownership.
 */
PGC_API int pgc_clpage_assume(pgc_io *io, pgc_clpage *clp);

/**
 * @brief Ends ownership: owned -> cached, and the page lock is released.
 * @param io  the owner.
 * @param clp the handle.
 * @return 0; -EINVAL for a NULL argument, or if @p io does not own @p clp.
 * @par Thread safety
 * The owner's thread.
 */
PGC_API int pgc_clpage_disown(pgc_io *io, pgc_clpage *clp);

/**
 * @brief Whether @p io owns @p clp.
 * @param clp the handle.
 * @param io  the I/O.
 * @return 1 or 0 (0 for NULL arguments).
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API int pgc_clpage_is_owned(const pgc_clpage *clp, const pgc_io *io);

/**
 * @brief Whether a handle is in use: referenced by someone besides the
 * page it lives in, or in a state other than cached. Reclaim never
 * releases a page whose handle is in use.
 * @param clp the handle.
 * @return 1 or 0 (0 for NULL).
 * @par Thread safety
 * Safe from any thread that holds a reference (which itself counts: a
 * caller's own reference makes the answer 1).
 */
PGC_API int pgc_clpage_in_use(const pgc_clpage *clp);

/**
 * @brief Deletes an owned handle from the cache: its page leaves the
 * mapping (its dirty state is cancelled), no later lookup finds it, and
 * the handle goes to state freeing; ownership ends and the page lock is
 * released.
 * @param io  the owner.
 * @param clp the handle.
 * @return 0; -EBUSY if the page is under writeback (nothing changes);
 *         -EINVAL for a NULL argument, a handle @p io does not own, or a
 *         transient handle.
 * @par Thread safety
 * The owner's thread.
 */
PGC_API int pgc_clpage_delete(pgc_io *io, pgc_clpage *clp);

/**
 * @brief Discards an owned handle's data: the page is no longer dirty nor
 * up to date, so nothing of it is written and the next read goes to the
 * store. Ownership stays.
 * @param io  the owner.
 * @param clp the handle.
 * @return 0; -EINVAL for a NULL argument or a handle @p io does not own.
 * @par Thread safety
 * The owner's thread.
 */
PGC_API int pgc_clpage_discard(pgc_io *io, pgc_clpage *clp);

/**
 * @brief Restricts the bytes of the page that a transfer sends to
 * [@p from, @p to) (Lustre's cl_page_clip).
 * @param clp  the handle.
 * @param from first byte.
 * @param to   one past the last byte; from < to <= page size.
 * @return 0; -EINVAL for NULL or a bad range.
 * @par Thread safety
 * The owner's thread.
 */
PGC_API int pgc_clpage_clip(pgc_clpage *clp, size_t from, size_t to);

/**
 * @brief The byte range set by pgc_clpage_clip() (the whole page by default).
 * @param clp  the handle.
 * @param from where the first byte is stored.
 * @param to   where one past the last byte is stored.
 * @return 0; -EINVAL for a NULL argument.
 * @par Thread safety
 * Safe from any thread that holds a reference.
 */
PGC_API int pgc_clpage_range(const pgc_clpage *clp, size_t *from, size_t *to);

/**
 * @brief Tells the mapping that data now reaches byte @p to of the page:
 * the mapping's size grows to cover it if it was smaller (Lustre's
 * cl_page_touch).
 * @param io  the owner.
 * @param clp a cacheable handle.
 * @param to  one past the last byte written in the page.
 * @return 0; -EINVAL for a NULL argument, a transient handle or @p to
 *         beyond the page.
 * @par Thread safety
 * The owner's thread.
 */
PGC_API int pgc_clpage_touch(pgc_io *io, pgc_clpage *clp, size_t to);

/**
 * @brief Prepares an owned handle for a transfer: owned -> pagein (the page
 * must not be up to date) or owned -> pageout (the page must be dirty; its
 * dirty flag is cleared and writeback set). Ownership passes to the
 * transfer; pgc_clpage_completion() ends it.
 * @param io  the owner.
 * @param clp the handle.
 * @param crt #PGC_CRT_READ or #PGC_CRT_WRITE.
 * @return 0; -EALREADY if there is nothing to transfer (up to date for a
 *         read, clean for a write: the handle stays owned); -EINVAL for a
 *         NULL argument, a handle not owned by @p io, or a bad @p crt.
 * @par Thread safety
 * The owner's thread.
 */
PGC_API int pgc_clpage_prep(pgc_io *io, pgc_clpage *clp, int crt);

/**
 * @brief Ends a transfer: pagein or pageout -> cached. A successful read
 * makes the page up to date; a failed read sets ERROR; a failed write
 * dirties the page again, sets ERROR and records the error on the mapping.
 * The page is unlocked (and its writeback ended).
 * @param clp   the handle.
 * @param crt   #PGC_CRT_READ or #PGC_CRT_WRITE, as given to pgc_clpage_prep().
 * @param ioret 0 or a negative errno.
 * @return 0; -EINVAL for NULL or a handle not in the matching state.
 * @par Thread safety
 * Any thread (completions may run elsewhere than the submitter).
 */
PGC_API int pgc_clpage_completion(pgc_clpage *clp, int crt, int ioret);

/** A list of handles (Lustre's cl_page_list); a handle is on one list at most. */
struct pgc_clpage_list {
	/** First handle, or NULL. */
	pgc_clpage *head;
	/** Last handle, or NULL. */
	pgc_clpage *tail;
	/** Number of handles. */
	unsigned nr;
};

/** Two lists: pages to submit and pages done (Lustre's cl_2queue). */
struct pgc_2queue {
	/** Pages to submit. */
	struct pgc_clpage_list qin;
	/** Pages completed. */
	struct pgc_clpage_list qout;
};

/**
 * @brief Initializes an empty list.
 * @param list the list.
 * @par Thread safety
 * A list belongs to one thread.
 */
PGC_API void pgc_clpage_list_init(struct pgc_clpage_list *list);

/**
 * @brief Appends a handle; the list takes a reference.
 * @param list the list.
 * @param clp  a handle on no list.
 * @return 0; -EINVAL for NULL or a handle already on a list.
 * @par Thread safety
 * A list belongs to one thread.
 */
PGC_API int pgc_clpage_list_add(struct pgc_clpage_list *list, pgc_clpage *clp);

/**
 * @brief Removes a handle and drops the list's reference.
 * @param list the list.
 * @param clp  a handle on @p list.
 * @return 0; -EINVAL for NULL or a handle not on @p list.
 * @par Thread safety
 * A list belongs to one thread.
 */
PGC_API int pgc_clpage_list_del(struct pgc_clpage_list *list, pgc_clpage *clp);

/**
 * @brief Moves a handle from one list to the tail of another (its
 * reference moves with it).
 * @param dst the destination.
 * @param src the list @p clp is on.
 * @param clp the handle.
 * @return 0; -EINVAL for NULL or a handle not on @p src.
 * @par Thread safety
 * Both lists belong to the calling thread.
 */
PGC_API int pgc_clpage_list_move(struct pgc_clpage_list *dst, struct pgc_clpage_list *src,
				 pgc_clpage *clp);

/**
 * @brief Appends every handle of @p src to @p dst, leaving @p src empty.
 * @param dst the destination.
 * @param src the source.
 * @par Thread safety
 * Both lists belong to the calling thread.
 */
PGC_API void pgc_clpage_list_splice(struct pgc_clpage_list *dst, struct pgc_clpage_list *src);

/**
 * @brief The handle after @p clp on its list.
 * @param clp a handle on a list.
 * @return the next handle, or NULL at the end (or for NULL).
 * @par Thread safety
 * The list's thread.
 */
PGC_API pgc_clpage *pgc_clpage_list_next(const pgc_clpage *clp);

/**
 * @brief Empties a list, dropping its references. Handles it owned are
 * disowned first (by @p io, which may be NULL if it owns none).
 * @param io   the owner of owned handles on the list, or NULL.
 * @param list the list.
 * @par Thread safety
 * The list's thread.
 */
PGC_API void pgc_clpage_list_fini(pgc_io *io, struct pgc_clpage_list *list);

/**
 * @brief Initializes both lists of a two-queue.
 * @param queue the two-queue.
 * @par Thread safety
 * A queue belongs to one thread.
 */
PGC_API void pgc_2queue_init(struct pgc_2queue *queue);

/**
 * @brief Empties both lists of a two-queue (see pgc_clpage_list_fini()).
 * @param io    the owner of owned handles on the queue, or NULL.
 * @param queue the two-queue.
 * @par Thread safety
 * The queue's thread.
 */
PGC_API void pgc_2queue_fini(pgc_io *io, struct pgc_2queue *queue);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_CLPAGE_H */
