/*
 * Page handles (Lustre's cl_page), their lists and the I/O context.
 *
 * This layer sits above mappings: a cacheable handle lives in the private
 * slot of its page (PGC_PG_PRIVATE with the internal PGC_PGI_HANDLE bit),
 * and the page holds one reference on it, its "attachment". The handle
 * holds no reference on the page: while it is attached, the page is in the
 * mapping, and reclaim asks this layer (through the mapping's private_ops)
 * before releasing it, which is refused while the handle is in use. Owning
 * a handle means holding its page's lock and a page reference.
 *
 * States change only by the transitions of the table below, checked on
 * every change: an illegal one is an assertion failure in debug builds and
 * -EINVAL otherwise.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <pgcache/clpage.h>

#include "alloc_internal.h"
#include "clpage_internal.h"

struct pgc_clpage {
	_Atomic int refs;
	_Atomic int state;
	int type;
	/* Cacheable, attached; NULL once freeing. Changes (migration) only
	 * under the lock of the page it leaves, while that page is frozen. */
	struct pgc_page *_Atomic vmpage;
	struct pgc_mapping *mapping;  /* cacheable */
	void *data;                   /* transient */
	size_t len;                   /* transient */
	uint64_t pos;                 /* transient of the segmenter's: the file offset
				       * of data (pgc__clpage_transient_at) */
	uint64_t index;
	struct pgc_io *owner;
	uint32_t from, to;            /* clip */
	struct pgc_clpage *next, *prev; /* belong to the list's thread */
	/* The list it is on. Several I/Os may try to queue the one handle of a
	 * page: joining a list is a compare-and-swap from NULL, and leaving it
	 * stores NULL last, after the links are no longer touched. */
	struct pgc_clpage_list *_Atomic list;
};


/* allowed[from] has bit `to` set when from -> to is legal. */
static const unsigned allowed[] = {
	[PGC_CPS_CACHED] = 1u << PGC_CPS_OWNED | 1u << PGC_CPS_PAGEOUT | 1u << PGC_CPS_FREEING,
	[PGC_CPS_OWNED] = 1u << PGC_CPS_CACHED | 1u << PGC_CPS_PAGEIN | 1u << PGC_CPS_PAGEOUT |
			  1u << PGC_CPS_FREEING,
	[PGC_CPS_PAGEIN] = 1u << PGC_CPS_CACHED,
	[PGC_CPS_PAGEOUT] = 1u << PGC_CPS_CACHED,
	[PGC_CPS_FREEING] = 0,
};

/* Moves clp from state `from` to `to`; false (and no change) if illegal. */
static bool state_set(struct pgc_clpage *clp, int from, int to)
{
	bool legal = (allowed[from] >> to) & 1u;
	pgc_assert(legal);
	if (!legal)
		return false;
	return atomic_compare_exchange_strong(&clp->state, &from, to);
}

static int state_of(const struct pgc_clpage *clp)
{
	return atomic_load_explicit(&clp->state, memory_order_acquire);
}

/* ---- I/O context ---------------------------------------------------- */

PGC_API int pgc_io_create(pgc_mapping *m, unsigned flags, pgc_io **iop)
{
	if (iop)
		*iop = NULL;
	if (!m || !iop || (flags & ~PGC_IO_SYNC))
		return -EINVAL;
	struct pgc_io *io = pgc__calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	pgc__io_init(io, m, flags);
	*iop = io;
	return 0;
}

void pgc__io_init(struct pgc_io *io, struct pgc_mapping *m, unsigned flags)
{
	memset(io, 0, sizeof(*io));
	io->mapping = m;
	io->flags = flags;
	pgc_2queue_init(&io->queue);
}

PGC_API int pgc_io_destroy(pgc_io *io)
{
	if (!io)
		return 0;
	if (io->nr_owned || io->queue.qin.nr || io->queue.qout.nr)
		return -EBUSY;
	free(io);
	return 0;
}

PGC_API int pgc_io_result(const pgc_io *io)
{
	return io ? io->result : -EINVAL;
}

PGC_API int pgc_io_set_result(pgc_io *io, int err)
{
	if (!io || err > 0)
		return -EINVAL;
	if (err && !io->result)
		io->result = err;
	return 0;
}

PGC_API uint64_t pgc_io_bytes_written(const pgc_io *io)
{
	return io ? io->written : 0;
}

PGC_API int pgc_io_is_sync(const pgc_io *io)
{
	return io && (io->flags & PGC_IO_SYNC);
}

void pgc__io_add_written(struct pgc_io *io, uint64_t n)
{
	io->written += n;
}

struct pgc_mapping *pgc__io_mapping(const struct pgc_io *io)
{
	return io->mapping;
}

/* ---- handles ---------------------------------------------------------- */

static void clpage_free(struct pgc_clpage *clp)
{
	pgc_assert(atomic_load_explicit(&clp->list, memory_order_relaxed) == NULL);
	free(clp);
}

PGC_API int pgc_clpage_get(pgc_clpage *clp)
{
	if (!clp)
		return -EINVAL;
	atomic_fetch_add_explicit(&clp->refs, 1, memory_order_relaxed);
	return 0;
}

PGC_API void pgc_clpage_put(pgc_clpage *clp)
{
	if (!clp)
		return;
	int old = atomic_fetch_sub_explicit(&clp->refs, 1, memory_order_acq_rel);
	pgc_assert(old >= 1);
	if (old == 1) {
		/* Only freeing handles lose their last reference: an attached
		 * handle keeps the attachment's, a transient one is freed by
		 * its last put whatever its state. */
		pgc_assert(clp->type == PGC_CLP_TRANSIENT || state_of(clp) == PGC_CPS_FREEING);
		clpage_free(clp);
	}
}

/* Detaches a handle from its locked page: the page's reference goes. */
static void detach(struct pgc_page *page)
{
	struct pgc_clpage *clp = (struct pgc_clpage *)page->private_value;
	int s = state_of(clp);
	if (s != PGC_CPS_FREEING)
		state_set(clp, s, PGC_CPS_FREEING);
	clp->vmpage = NULL;
	page->private_value = 0;
	pgc__clear(page, PGC_PG_PRIVATE);
	pgc__clear(page, PGC_PGI_HANDLE);
	pgc_clpage_put(clp);
}

static bool handle_release(struct pgc_mapping *m, struct pgc_page *page)
{
	(void)m;
	struct pgc_clpage *clp = (struct pgc_clpage *)page->private_value;
	/* The attachment is the only reference, and nobody owns it. */
	if (atomic_load_explicit(&clp->refs, memory_order_acquire) > 1 ||
	    state_of(clp) != PGC_CPS_CACHED)
		return false;
	detach(page);
	return true;
}

static void handle_detach(struct pgc_mapping *m, struct pgc_page *page)
{
	(void)m;
	if (pgc__test(page, PGC_PGI_HANDLE))
		detach(page);
}

static int handle_migrate(struct pgc_mapping *m, struct pgc_page *page, struct pgc_page *newpage)
{
	(void)m;
	struct pgc_clpage *clp = (struct pgc_clpage *)page->private_value;
	/* As for release: only an idle handle moves (the page is frozen, so
	 * nobody can find the handle through it meanwhile). */
	if (atomic_load_explicit(&clp->refs, memory_order_acquire) > 1 ||
	    state_of(clp) != PGC_CPS_CACHED)
		return -EAGAIN;
	newpage->private_value = (uintptr_t)clp;
	pgc__set(newpage, PGC_PGI_HANDLE);
	pgc__set(newpage, PGC_PG_PRIVATE);
	page->private_value = 0;
	pgc__clear(page, PGC_PG_PRIVATE);
	pgc__clear(page, PGC_PGI_HANDLE);
	atomic_store_explicit(&clp->vmpage, newpage, memory_order_release);
	return 0;
}

static const struct pgc__private_ops handle_ops = {
	.release = handle_release,
	.detach = handle_detach,
	.migrate = handle_migrate,
};

/*
 * The handle of a locked page of m at index: its attached one (with a
 * reference for the caller) or a new one attached now. -EINVAL when the
 * mapping's owner uses the private slot itself, -ENOMEM.
 */
static int attach_locked(struct pgc_mapping *m, struct pgc_page *page, uint64_t index,
			 struct pgc_clpage **clpp)
{
	struct pgc_clpage *clp;
	if (pgc__test(page, PGC_PGI_HANDLE)) {
		clp = (struct pgc_clpage *)page->private_value;
		pgc_clpage_get(clp);
	} else if (pgc__test(page, PGC_PG_PRIVATE)) {
		return -EINVAL; /* the owner uses the private slot itself */
	} else if (!(clp = pgc__calloc(1, sizeof(*clp)))) {
		return -ENOMEM;
	} else {
		atomic_init(&clp->refs, 2); /* the page's attachment and the caller's */
		atomic_init(&clp->state, PGC_CPS_CACHED);
		clp->type = PGC_CLP_CACHEABLE;
		clp->vmpage = page;
		clp->mapping = m;
		clp->index = index;
		clp->to = (uint32_t)m->cache->frames.page_size;
		atomic_store_explicit(&m->priv_ops, &handle_ops, memory_order_release);
		page->private_value = (uintptr_t)clp;
		pgc__set(page, PGC_PGI_HANDLE);
		pgc__set(page, PGC_PG_PRIVATE);
	}
	*clpp = clp;
	return 0;
}

PGC_API int pgc_clpage_find(pgc_mapping *m, uint64_t index, unsigned flags, pgc_clpage **clpp)
{
	if (clpp)
		*clpp = NULL;
	if (!m || !clpp || (flags & ~PGC_FIND_NOWAIT))
		return -EINVAL;
	struct pgc_page *page;
	int err = pgc_mapping_find_or_create(m, index, flags, &page);
	if (err)
		return err;
	struct pgc_clpage *clp = NULL;
	err = attach_locked(m, page, index, &clp);
	pgc__unlock(page);
	pgc__put(page);
	*clpp = err ? NULL : clp;
	return err;
}

static struct pgc_clpage *transient_new(void *data, size_t len, uint64_t index)
{
	struct pgc_clpage *clp = pgc__calloc(1, sizeof(*clp));
	if (!clp)
		return NULL;
	atomic_init(&clp->refs, 1);
	atomic_init(&clp->state, PGC_CPS_CACHED);
	clp->type = PGC_CLP_TRANSIENT;
	clp->data = data;
	clp->len = len;
	clp->index = index;
	clp->to = (uint32_t)len;
	return clp;
}

PGC_API int pgc_clpage_transient(void *data, size_t len, uint64_t index, pgc_clpage **clpp)
{
	if (clpp)
		*clpp = NULL;
	if (!data || !len || !clpp || len > UINT32_MAX)
		return -EINVAL;
	struct pgc_clpage *clp = transient_new(data, len, index);
	if (!clp)
		return -ENOMEM;
	*clpp = clp;
	return 0;
}

int pgc__clpage_transient_at(void *data, size_t len, uint64_t pos, uint32_t page_shift,
			     struct pgc_clpage **clpp)
{
	*clpp = NULL;
	if (!data || !len || len > UINT32_MAX)
		return -EINVAL;
	struct pgc_clpage *clp = transient_new(data, len, pos >> page_shift);
	if (!clp)
		return -ENOMEM;
	clp->pos = pos;
	*clpp = clp;
	return 0;
}

uint64_t pgc__clpage_pos(const struct pgc_clpage *clp)
{
	if (clp->type == PGC_CLP_TRANSIENT)
		return clp->pos + clp->from;
	return clp->index * clp->mapping->cache->frames.page_size + clp->from;
}

PGC_API int pgc_clpage_state(const pgc_clpage *clp)
{
	return clp ? state_of(clp) : -EINVAL;
}

PGC_API int pgc_clpage_type(const pgc_clpage *clp)
{
	return clp ? clp->type : -EINVAL;
}

PGC_API uint64_t pgc_clpage_index(const pgc_clpage *clp)
{
	return clp ? clp->index : 0;
}

PGC_API pgc_page *pgc_clpage_vmpage(const pgc_clpage *clp)
{
	if (!clp || clp->type != PGC_CLP_CACHEABLE || state_of(clp) == PGC_CPS_FREEING)
		return NULL;
	return clp->vmpage;
}

PGC_API void *pgc_clpage_data(const pgc_clpage *clp)
{
	if (!clp)
		return NULL;
	if (clp->type == PGC_CLP_TRANSIENT)
		return clp->data;
	struct pgc_page *p = pgc_clpage_vmpage(clp);
	return p ? pgc__page_data(p) : NULL;
}

/* Takes a reference on the handle's page, or fails if it is gone. */
static struct pgc_page *pin_page(struct pgc_clpage *clp)
{
	struct pgc_page *p = clp->vmpage;
	if (!p || state_of(clp) == PGC_CPS_FREEING || !pgc__get_unless_zero(p))
		return NULL;
	return p;
}

/* With the page locked: is it still this handle's, and the handle cached? */
static int take_owned(struct pgc_io *io, struct pgc_clpage *clp, struct pgc_page *p)
{
	if (!pgc__test(p, PGC_PGI_HANDLE) || p->private_value != (uintptr_t)clp ||
	    state_of(clp) != PGC_CPS_CACHED || !state_set(clp, PGC_CPS_CACHED, PGC_CPS_OWNED))
		return -ENOENT;
	clp->owner = io;
	io->nr_owned++;
	return 0;
}

int pgc__clpage_own_cached(struct pgc_io *io, uint64_t index, bool nowait,
			   struct pgc_clpage **clpp)
{
	struct pgc_mapping *m = io->mapping;
	*clpp = NULL;
	struct pgc_page *page = pgc__mapping_lookup(m, index);
	if (!page)
		return -ENOENT;
	if (!nowait) {
		pgc__lock(page);
	} else if (!pgc__trylock(page)) {
		pgc__put(page);
		return -EAGAIN;
	}
	struct pgc_clpage *clp = NULL;
	int err = -ENOENT;
	/* Truncated or reclaimed while we waited for the lock, or never
	 * filled: not cached. */
	if (atomic_load_explicit(&page->mapping, memory_order_relaxed) == m &&
	    atomic_load_explicit(&page->index, memory_order_relaxed) == index &&
	    pgc__test(page, PGC_PG_UPTODATE)) {
		err = attach_locked(m, page, index, &clp);
		if (!err && take_owned(io, clp, page) != 0) {
			pgc_clpage_put(clp);
			err = -EBUSY;
		}
	}
	if (err) {
		pgc__unlock(page);
		pgc__put(page);
		return err;
	}
	*clpp = clp; /* owned: the lock and the reference stay until disown */
	return 0;
}

static int own_common(pgc_io *io, pgc_clpage *clp, bool wait)
{
	if (!io || !clp)
		return -EINVAL;
	if (clp->type == PGC_CLP_TRANSIENT) {
		if (!state_set(clp, PGC_CPS_CACHED, PGC_CPS_OWNED))
			return -EINVAL;
		clp->owner = io;
		io->nr_owned++;
		return 0;
	}
	for (unsigned tries = 0;; tries++) {
		struct pgc_page *p = pin_page(clp);
		if (!p) {
			/* Frozen: being evicted (the handle will be freeing) or
			 * migrated (the handle will be on the new page). */
			if (!atomic_load_explicit(&clp->vmpage, memory_order_acquire) ||
			    state_of(clp) == PGC_CPS_FREEING)
				return -ENOENT;
			if (tries > 64)
				sched_yield();
			continue;
		}
		if (wait) {
			pgc__lock(p);
		} else if (!pgc__trylock(p)) {
			pgc__put(p);
			return -EAGAIN;
		}
		int err = take_owned(io, clp, p);
		if (!err)
			return 0; /* owned: the lock and the reference stay until disown */
		pgc__unlock(p);
		pgc__put(p);
		/* Migrated while we waited for the lock: follow the handle. */
		if (atomic_load_explicit(&clp->vmpage, memory_order_acquire) == p ||
		    state_of(clp) == PGC_CPS_FREEING)
			return err;
	}
}

PGC_API int pgc_clpage_own(pgc_io *io, pgc_clpage *clp)
{
	return own_common(io, clp, true);
}

PGC_API int pgc_clpage_own_try(pgc_io *io, pgc_clpage *clp)
{
	return own_common(io, clp, false);
}

PGC_API int pgc_clpage_assume(pgc_io *io, pgc_clpage *clp)
{
	if (!io || !clp || clp->type != PGC_CLP_CACHEABLE)
		return -EINVAL;
	struct pgc_page *p = clp->vmpage;
	if (!p || !pgc__test(p, PGC_PG_LOCKED))
		return p ? -EINVAL : -ENOENT;
	pgc__get(p); /* the caller's lock keeps the page: a reference cannot fail */
	int err = take_owned(io, clp, p);
	if (err)
		pgc__put(p);
	return err;
}

/* Ends the ownership of a cacheable handle's page: unlock, unpin. */
static void release_page(struct pgc_io *io, struct pgc_page *p)
{
	io->nr_owned--;
	pgc__unlock(p);
	pgc__put(p);
}

PGC_API int pgc_clpage_disown(pgc_io *io, pgc_clpage *clp)
{
	if (!io || !clp || clp->owner != io || state_of(clp) != PGC_CPS_OWNED)
		return -EINVAL;
	struct pgc_page *p = clp->vmpage;
	clp->owner = NULL;
	state_set(clp, PGC_CPS_OWNED, PGC_CPS_CACHED);
	if (clp->type == PGC_CLP_TRANSIENT)
		io->nr_owned--;
	else
		release_page(io, p);
	return 0;
}

PGC_API int pgc_clpage_is_owned(const pgc_clpage *clp, const pgc_io *io)
{
	return clp && io && clp->owner == io && state_of(clp) == PGC_CPS_OWNED;
}

PGC_API int pgc_clpage_in_use(const pgc_clpage *clp)
{
	if (!clp)
		return 0;
	int attach = clp->type == PGC_CLP_CACHEABLE && state_of(clp) != PGC_CPS_FREEING;
	return atomic_load(&clp->refs) > attach || state_of(clp) != PGC_CPS_CACHED;
}

PGC_API int pgc_clpage_delete(pgc_io *io, pgc_clpage *clp)
{
	if (!pgc_clpage_is_owned(clp, io) || clp->type != PGC_CLP_CACHEABLE)
		return -EINVAL;
	struct pgc_page *p = clp->vmpage;
	if (pgc__test(p, PGC_PG_WRITEBACK))
		return -EBUSY;
	/* The handle's own reference keeps it alive through the detach. */
	pgc_clpage_get(clp);
	clp->owner = NULL;
	state_set(clp, PGC_CPS_OWNED, PGC_CPS_FREEING);
	int err = pgc_mapping_delete(p); /* detaches the handle on the way */
	release_page(io, p);
	pgc_clpage_put(clp);
	return err;
}

PGC_API int pgc_clpage_discard(pgc_io *io, pgc_clpage *clp)
{
	if (!pgc_clpage_is_owned(clp, io))
		return -EINVAL;
	if (clp->type == PGC_CLP_CACHEABLE) {
		/* Dropped, not written: its dirty tag goes at once. */
		if (pgc__test_and_clear(clp->vmpage, PGC_PG_DIRTY))
			pgc__mapping_sync_dirty(clp->vmpage);
		pgc__clear(clp->vmpage, PGC_PG_UPTODATE);
	}
	return 0;
}

static size_t clpage_size(const struct pgc_clpage *clp)
{
	return clp->type == PGC_CLP_TRANSIENT ? clp->len : clp->mapping->cache->frames.page_size;
}

PGC_API int pgc_clpage_clip(pgc_clpage *clp, size_t from, size_t to)
{
	if (!clp || from >= to || to > clpage_size(clp))
		return -EINVAL;
	clp->from = (uint32_t)from;
	clp->to = (uint32_t)to;
	return 0;
}

PGC_API int pgc_clpage_range(const pgc_clpage *clp, size_t *from, size_t *to)
{
	if (!clp || !from || !to)
		return -EINVAL;
	*from = clp->from;
	*to = clp->to;
	return 0;
}

PGC_API int pgc_clpage_touch(pgc_io *io, pgc_clpage *clp, size_t to)
{
	if (!io || !clp || clp->type != PGC_CLP_CACHEABLE || to > clpage_size(clp))
		return -EINVAL;
	pgc__mapping_grow_size(clp->mapping, clp->index * clpage_size(clp) + to);
	return 0;
}

PGC_API int pgc_clpage_prep(pgc_io *io, pgc_clpage *clp, int crt)
{
	if (!pgc_clpage_is_owned(clp, io) || (crt != PGC_CRT_READ && crt != PGC_CRT_WRITE))
		return -EINVAL;
	if (clp->type == PGC_CLP_CACHEABLE) {
		struct pgc_page *p = clp->vmpage;
		if (crt == PGC_CRT_READ && pgc__test(p, PGC_PG_UPTODATE))
			return -EALREADY;
		if (crt == PGC_CRT_WRITE) {
			pgc__wait_bit(p, PGC_PG_WRITEBACK);
			if (!pgc_page_clear_dirty_for_io(p))
				return -EALREADY;
			pgc_page_start_writeback(p);
		}
	}
	clp->owner = NULL;
	io->nr_owned--;
	state_set(clp, PGC_CPS_OWNED, crt == PGC_CRT_READ ? PGC_CPS_PAGEIN : PGC_CPS_PAGEOUT);
	return 0;
}

PGC_API int pgc_clpage_completion(pgc_clpage *clp, int crt, int ioret)
{
	int want = crt == PGC_CRT_READ ? PGC_CPS_PAGEIN : PGC_CPS_PAGEOUT;
	if (!clp || (crt != PGC_CRT_READ && crt != PGC_CRT_WRITE) || state_of(clp) != want ||
	    ioret > 0)
		return -EINVAL;
	struct pgc_page *p = clp->type == PGC_CLP_CACHEABLE ? clp->vmpage : NULL;
	if (p && crt == PGC_CRT_READ) {
		if (ioret == 0) {
			pgc__clear(p, PGC_PG_ERROR);
			pgc__set(p, PGC_PG_UPTODATE);
		} else {
			pgc__set(p, PGC_PG_ERROR);
		}
	} else if (p) {
		if (ioret) {
			pgc__set(p, PGC_PG_ERROR);
			pgc_page_set_dirty(p);
			pgc_mapping_set_error(clp->mapping, ioret);
		} else {
			pgc__clear(p, PGC_PG_ERROR);
		}
		pgc_page_end_writeback(p);
	}
	state_set(clp, want, PGC_CPS_CACHED);
	if (p) {
		pgc__unlock(p);
		pgc__put(p);
	}
	return 0;
}

/* ---- lists ----------------------------------------------------------- */

PGC_API void pgc_clpage_list_init(struct pgc_clpage_list *l)
{
	if (l) {
		l->head = l->tail = NULL;
		l->nr = 0;
	}
}

/* Links clp at the tail of l; its list field is set by the caller. */
static void list_link(struct pgc_clpage_list *l, struct pgc_clpage *clp)
{
	clp->next = NULL;
	clp->prev = l->tail;
	if (l->tail)
		l->tail->next = clp;
	else
		l->head = clp;
	l->tail = clp;
	l->nr++;
}

static void list_unlink(struct pgc_clpage_list *l, struct pgc_clpage *clp)
{
	if (clp->prev)
		clp->prev->next = clp->next;
	else
		l->head = clp->next;
	if (clp->next)
		clp->next->prev = clp->prev;
	else
		l->tail = clp->prev;
	clp->next = clp->prev = NULL;
	l->nr--;
}

PGC_API int pgc_clpage_list_add(struct pgc_clpage_list *l, pgc_clpage *clp)
{
	struct pgc_clpage_list *none = NULL;
	if (!l || !clp ||
	    !atomic_compare_exchange_strong_explicit(&clp->list, &none, l, memory_order_acquire,
						     memory_order_relaxed))
		return -EINVAL;
	pgc_clpage_get(clp);
	list_link(l, clp);
	return 0;
}

PGC_API int pgc_clpage_list_del(struct pgc_clpage_list *l, pgc_clpage *clp)
{
	if (!l || !clp || atomic_load_explicit(&clp->list, memory_order_relaxed) != l)
		return -EINVAL;
	list_unlink(l, clp);
	atomic_store_explicit(&clp->list, NULL, memory_order_release);
	pgc_clpage_put(clp);
	return 0;
}

PGC_API int pgc_clpage_list_move(struct pgc_clpage_list *dst, struct pgc_clpage_list *src,
				 pgc_clpage *clp)
{
	if (!dst || !src || !clp || atomic_load_explicit(&clp->list, memory_order_relaxed) != src)
		return -EINVAL;
	list_unlink(src, clp);
	list_link(dst, clp);
	atomic_store_explicit(&clp->list, dst, memory_order_relaxed);
	return 0;
}

PGC_API void pgc_clpage_list_splice(struct pgc_clpage_list *dst, struct pgc_clpage_list *src)
{
	if (!dst || !src || dst == src)
		return;
	while (src->head)
		pgc_clpage_list_move(dst, src, src->head);
}

PGC_API pgc_clpage *pgc_clpage_list_next(const pgc_clpage *clp)
{
	return clp ? clp->next : NULL;
}

PGC_API void pgc_clpage_list_fini(pgc_io *io, struct pgc_clpage_list *l)
{
	if (!l)
		return;
	while (l->head) {
		struct pgc_clpage *clp = l->head;
		if (io && pgc_clpage_is_owned(clp, io))
			pgc_clpage_disown(io, clp);
		pgc_clpage_list_del(l, clp);
	}
}

PGC_API void pgc_2queue_init(struct pgc_2queue *q)
{
	if (q) {
		pgc_clpage_list_init(&q->qin);
		pgc_clpage_list_init(&q->qout);
	}
}

PGC_API void pgc_2queue_fini(pgc_io *io, struct pgc_2queue *q)
{
	if (q) {
		pgc_clpage_list_fini(io, &q->qin);
		pgc_clpage_list_fini(io, &q->qout);
	}
}

bool pgc__clpage_attached_to(struct pgc_page *page)
{
	const struct pgc_clpage *clp = (const struct pgc_clpage *)page->private_value;
	return clp && atomic_load_explicit(&clp->vmpage, memory_order_relaxed) == page &&
	       clp->mapping == atomic_load_explicit(&page->mapping, memory_order_relaxed) &&
	       clp->index == atomic_load_explicit(&page->index, memory_order_relaxed) &&
	       clp->type == PGC_CLP_CACHEABLE;
}
