/*
 * LRU lists per node: inactive, active and unevictable, doubly linked
 * through 32-bit frame ids in the descriptors, under the node's LRU lock.
 *
 * The lists hold no reference (as in the kernel): a page whose count drops
 * to 0 leaves its list in the free path, and reclaim isolates a page by
 * taking a reference and marking it ISOLATED, so that it is off every list
 * while reclaim decides about it. Only this file changes list membership,
 * and it does so under the lock, with LRU, ACTIVE, UNEVICTABLE and ISOLATED
 * telling where a page is.
 */
#include <errno.h>

#include <pgcache/page.h>

#include "cache_internal.h"
#include "page_internal.h"

int pgc__lru_init(struct pgc_lru *lru)
{
	for (int l = 0; l < PGC_NR_LRU; l++) {
		lru->head[l] = lru->tail[l] = PGC_FRAME_NONE;
		lru->nr[l] = 0;
	}
	return -pthread_mutex_init(&lru->lock, NULL);
}

void pgc__lru_fini(struct pgc_lru *lru)
{
	pthread_mutex_destroy(&lru->lock);
}

static enum pgc_lru_list which_list(uint32_t flags)
{
	if (flags & PGC_BIT(PGC_PG_UNEVICTABLE))
		return PGC_LRU_UNEVICTABLE;
	if (flags & PGC_BIT(PGC_PG_ACTIVE))
		return PGC_LRU_ACTIVE;
	return PGC_LRU_INACTIVE;
}

static struct pgc_page *id_page(struct pgc_cache *c, uint32_t id)
{
	return pgc__frames_page(&c->frames, id);
}

/*
 * link and unlink change the lists only; list_add_head and list_del also
 * set and clear LRU. A page moved from one list to another keeps LRU set
 * throughout: the free path tests LRU without the lock (pgc__lru_del), and
 * a page whose last reference went while it was being moved would
 * otherwise seem off every list and be freed while still on one.
 */
static void link_head(struct pgc_cache *c, struct pgc_lru *lru, enum pgc_lru_list l,
		      struct pgc_page *p)
{
	uint32_t id = pgc__page_id(p);
	p->lru_prev = PGC_FRAME_NONE;
	p->lru_next = lru->head[l];
	if (lru->head[l] != PGC_FRAME_NONE)
		id_page(c, lru->head[l])->lru_prev = id;
	else
		lru->tail[l] = id;
	lru->head[l] = id;
	lru->nr[l]++;
}

static void unlink_page(struct pgc_cache *c, struct pgc_lru *lru, enum pgc_lru_list l,
			struct pgc_page *p)
{
	if (p->lru_prev != PGC_FRAME_NONE)
		id_page(c, p->lru_prev)->lru_next = p->lru_next;
	else
		lru->head[l] = p->lru_next;
	if (p->lru_next != PGC_FRAME_NONE)
		id_page(c, p->lru_next)->lru_prev = p->lru_prev;
	else
		lru->tail[l] = p->lru_prev;
	p->lru_prev = p->lru_next = PGC_FRAME_NONE;
	lru->nr[l]--;
}

static void list_add_head(struct pgc_cache *c, struct pgc_lru *lru, enum pgc_lru_list l,
			  struct pgc_page *p)
{
	link_head(c, lru, l, p);
	pgc__set(p, PGC_PG_LRU);
}

static void list_del(struct pgc_cache *c, struct pgc_lru *lru, enum pgc_lru_list l,
		     struct pgc_page *p)
{
	unlink_page(c, lru, l, p);
	pgc__clear(p, PGC_PG_LRU);
}

void pgc__lru_add(struct pgc_cache *c, struct pgc_page *p)
{
	struct pgc_lru *lru = &pgc__page_node(c, p)->lru;
	pthread_mutex_lock(&lru->lock);
	/* An isolated page goes back when reclaim puts it back. */
	uint32_t f = pgc__flags(p);
	if (!(f & (PGC_BIT(PGC_PG_LRU) | PGC_BIT(PGC_PGI_ISOLATED))))
		list_add_head(c, lru, which_list(f), p);
	pthread_mutex_unlock(&lru->lock);
}

void pgc__lru_add_batch(struct pgc_cache *c, struct pgc_page **pages, unsigned n)
{
	for (unsigned i = 0; i < n;) {
		struct pgc_lru *lru = &pgc__page_node(c, pages[i])->lru;
		pthread_mutex_lock(&lru->lock);
		for (; i < n && &pgc__page_node(c, pages[i])->lru == lru; i++) {
			struct pgc_page *p = pages[i];
			uint32_t f = pgc__flags(p);
			if (!(f & (PGC_BIT(PGC_PG_LRU) | PGC_BIT(PGC_PGI_ISOLATED))))
				list_add_head(c, lru, which_list(f), p);
		}
		pthread_mutex_unlock(&lru->lock);
	}
}

void pgc__lru_del(struct pgc_cache *c, struct pgc_page *p)
{
	if (!pgc__test(p, PGC_PG_LRU))
		return;
	struct pgc_lru *lru = &pgc__page_node(c, p)->lru;
	pthread_mutex_lock(&lru->lock);
	uint32_t f = pgc__flags(p);
	if (f & PGC_BIT(PGC_PG_LRU))
		list_del(c, lru, which_list(f), p);
	pthread_mutex_unlock(&lru->lock);
}

unsigned pgc__lru_isolate(struct pgc_cache *c, unsigned pool_idx, enum pgc_lru_list l,
			  struct pgc_page **out, unsigned max)
{
	struct pgc_lru *lru = &c->nodes[pool_idx].lru;
	unsigned n = 0, looked = 0;
	pthread_mutex_lock(&lru->lock);
	uint32_t id = lru->tail[l];
	while (id != PGC_FRAME_NONE && n < max && looked < 4 * max) {
		struct pgc_page *p = id_page(c, id);
		id = p->lru_prev;
		looked++;
		/* A page at count 0 is being freed; its freer takes it off. */
		if (!pgc__get_unless_zero(p))
			continue;
		list_del(c, lru, l, p);
		pgc__set(p, PGC_PGI_ISOLATED);
		out[n++] = p;
	}
	pthread_mutex_unlock(&lru->lock);
	return n;
}

bool pgc__lru_isolate_page(struct pgc_cache *c, struct pgc_page *p)
{
	struct pgc_lru *lru = &pgc__page_node(c, p)->lru;
	pthread_mutex_lock(&lru->lock);
	uint32_t f = pgc__flags(p);
	bool ok = (f & PGC_BIT(PGC_PG_LRU)) && !(f & PGC_BIT(PGC_PGI_ISOLATED));
	if (ok) {
		list_del(c, lru, which_list(f), p);
		pgc__set(p, PGC_PGI_ISOLATED);
		pgc__get(p);
	}
	pthread_mutex_unlock(&lru->lock);
	return ok;
}

void pgc__lru_putback(struct pgc_cache *c, struct pgc_page **pages, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		struct pgc_page *p = pages[i];
		struct pgc_lru *lru = &pgc__page_node(c, p)->lru;
		pthread_mutex_lock(&lru->lock);
		pgc__clear(p, PGC_PGI_ISOLATED);
		/* A page that left its mapping meanwhile is not cached any more. */
		if (atomic_load_explicit(&p->mapping, memory_order_acquire) != NULL)
			list_add_head(c, lru, which_list(pgc__flags(p)), p);
		pthread_mutex_unlock(&lru->lock);
		pgc__put(p);
	}
}

void pgc__lru_set_unevictable(struct pgc_cache *c, struct pgc_page *p, int on)
{
	struct pgc_lru *lru = &pgc__page_node(c, p)->lru;
	pthread_mutex_lock(&lru->lock);
	uint32_t f = pgc__flags(p);
	bool listed = (f & PGC_BIT(PGC_PG_LRU)) != 0;
	if (listed)
		unlink_page(c, lru, which_list(f), p);
	if (on)
		pgc__set(p, PGC_PG_UNEVICTABLE);
	else
		pgc__clear(p, PGC_PG_UNEVICTABLE);
	if (listed)
		link_head(c, lru, which_list(pgc__flags(p)), p);
	pthread_mutex_unlock(&lru->lock);
}

unsigned pgc__lru_age_active(struct pgc_cache *c, unsigned pool_idx, unsigned max)
{
	struct pgc_lru *lru = &c->nodes[pool_idx].lru;
	unsigned moved = 0;
	pthread_mutex_lock(&lru->lock);
	for (unsigned i = 0; i < max && lru->tail[PGC_LRU_ACTIVE] != PGC_FRAME_NONE; i++) {
		struct pgc_page *p = id_page(c, lru->tail[PGC_LRU_ACTIVE]);
		unlink_page(c, lru, PGC_LRU_ACTIVE, p);
		/* A page used since it was activated stays active, once more. */
		if (pgc__test_and_clear(p, PGC_PG_REFERENCED)) {
			link_head(c, lru, PGC_LRU_ACTIVE, p);
		} else {
			pgc__clear(p, PGC_PG_ACTIVE);
			link_head(c, lru, PGC_LRU_INACTIVE, p);
			moved++;
		}
	}
	pthread_mutex_unlock(&lru->lock);
	return moved;
}

void pgc__lru_counts(struct pgc_cache *c, unsigned pool_idx, uint64_t nr[PGC_NR_LRU])
{
	struct pgc_lru *lru = &c->nodes[pool_idx].lru;
	pthread_mutex_lock(&lru->lock);
	for (int l = 0; l < PGC_NR_LRU; l++)
		nr[l] = lru->nr[l];
	pthread_mutex_unlock(&lru->lock);
}

PGC_API int pgc_page_set_unevictable(pgc_page *page, int on)
{
	if (!page)
		return -EINVAL;
	pgc__lru_set_unevictable(pgc__page_chunk(page)->cache, page, on);
	return 0;
}

/* Isolation windows of this thread, in any cache (nested calls count). */
static _Thread_local unsigned tl_isolating;

void pgc__lru_isolating_begin(struct pgc_cache *c)
{
	tl_isolating++;
	atomic_fetch_add_explicit(&c->nr_isolating, 1, memory_order_relaxed);
}

void pgc__lru_isolating_end(struct pgc_cache *c)
{
	atomic_fetch_sub_explicit(&c->nr_isolating, 1, memory_order_relaxed);
	tl_isolating--;
}

bool pgc__lru_others_isolating(struct pgc_cache *c)
{
	return (unsigned)atomic_load_explicit(&c->nr_isolating, memory_order_relaxed) >
	       tl_isolating;
}
