/*
 * Page exchange (Nimble's exchange_pages, ASPLOS 2019): when a page cannot
 * move to a node because the node is full, it trades places with a cold
 * page of that node. Each descriptor keeps its frame (and so its node, its
 * pool and its LRU list); the data, the identity (mapping, index), the
 * page's state flags and its placement notes swap, and each of the two
 * index slots is stored once. No frame is allocated or freed, so the
 * node's limit and the cache's capacity hold throughout, and so do the
 * per-node counts.
 *
 * Only pages whose mapping lets the engine move them take part: a
 * migratepage of pgc_migrate_page(), or none and the page clean (see
 * owner_allows). The partner's releasepage (or handle release) runs while
 * the moved page is locked: an owner whose releasepage locks another page
 * of the cache or waits for a thread that does must not use exchange.
 *
 * Both pages are isolated from their LRU lists, locked and frozen at their
 * expected counts (the moved page: mapping, caller, isolation; the cold
 * one: mapping, isolation) while their data sequences are odd, so that a
 * lookup waits out the swap and an optimistic reader retries. The cold
 * page comes from the tail of the node's inactive list (then of its active
 * list), preferably not referenced since (see cold_partner), not locked,
 * not under writeback, and held by nobody else; dirty or clean. Private
 * values and page handles do not follow an exchange: they are released
 * first (a handle in use, or a value its releasepage keeps, makes the page
 * busy), as the kernel's fallback migration releases a folio's buffers.
 *
 * Layering: in the migration layer, below placement; uses the mapping's
 * index (pgindex), the LRU and the page lock.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_internal.h"
#include "cache_internal.h"
#include "mapping_internal.h"
#include "migrate_internal.h"

/* State that belongs to the data and its identity, not to the frame. */
#define XCHG_FLAGS (PGC_MIG_STATE_FLAGS | PGC_BIT(PGC_PGI_ONDIRTY))

/* Cold pages of the target looked at before giving up. */
#define XCHG_TRIES 16u

/* Sets p's XCHG_FLAGS to those of v, keeping its other bits (a waiter's, say). */
static void set_state(struct pgc_page *p, uint32_t v)
{
	uint32_t f = atomic_load_explicit(&p->flags, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&p->flags, &f,
						      (f & ~XCHG_FLAGS) | (v & XCHG_FLAGS),
						      memory_order_acq_rel, memory_order_relaxed))
		;
}

static void lock_two(pthread_mutex_t *a, pthread_mutex_t *b)
{
	if (a == b) {
		pthread_mutex_lock(a);
	} else if (a < b) {
		pthread_mutex_lock(a);
		pthread_mutex_lock(b);
	} else {
		pthread_mutex_lock(b);
		pthread_mutex_lock(a);
	}
}

static void unlock_two(pthread_mutex_t *a, pthread_mutex_t *b)
{
	pthread_mutex_unlock(a);
	if (a != b)
		pthread_mutex_unlock(b);
}

/*
 * Swaps p (mapping mp) and q (mapping mq), both locked, isolated and
 * frozen. tmp is a page-sized buffer. Returns 0, or -EAGAIN if an index
 * slot did not hold the page (nothing changed then).
 */
static int swap(struct pgc_cache *c, struct pgc_page *p, struct pgc_mapping *mp,
		struct pgc_page *q, struct pgc_mapping *mq, void *tmp)
{
	uint64_t ip = atomic_load_explicit(&p->index, memory_order_relaxed);
	uint64_t iq = atomic_load_explicit(&q->index, memory_order_relaxed);
	uint32_t idp = pgc__page_id(p), idq = pgc__page_id(q);
	size_t ps = c->frames.page_size;
	pgc__page_seq_begin(p);
	pgc__page_seq_begin(q);
	memcpy(tmp, pgc__page_data(p), ps);
	memcpy(pgc__page_data(p), pgc__page_data(q), ps);
	memcpy(pgc__page_data(q), tmp, ps);
	lock_two(&mp->index_lock, &mq->index_lock);
	int err = pgc__pgx_replace(&mp->index, ip, idp, idq);
	if (!err) {
		err = pgc__pgx_replace(&mq->index, iq, idq, idp);
		if (err)
			pgc__pgx_replace(&mp->index, ip, idq, idp);
	}
	if (err) {
		unlock_two(&mp->index_lock, &mq->index_lock);
		memcpy(tmp, pgc__page_data(p), ps);
		memcpy(pgc__page_data(p), pgc__page_data(q), ps);
		memcpy(pgc__page_data(q), tmp, ps);
		pgc__page_seq_end(p);
		pgc__page_seq_end(q);
		return -EAGAIN;
	}
	atomic_store_explicit(&q->index, ip, memory_order_relaxed);
	atomic_store_explicit(&p->index, iq, memory_order_relaxed);
	atomic_store_explicit(&q->mapping, mp, memory_order_relaxed);
	atomic_store_explicit(&p->mapping, mq, memory_order_relaxed);
	uint32_t fp = pgc__flags(p), fq = pgc__flags(q);
	set_state(p, fq);
	set_state(q, fp);
	uint32_t ap = atomic_load_explicit(&p->access, memory_order_relaxed);
	atomic_store_explicit(&p->access, atomic_load_explicit(&q->access, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&q->access, ap, memory_order_relaxed);
	unlock_two(&mp->index_lock, &mq->index_lock);
	pgc__page_seq_end(p);
	pgc__page_seq_end(q);
	return 0;
}

/*
 * Whether the mapping lets the engine move this page by itself: its
 * migratepage is pgc_migrate_page() (the owner asks for the default copy),
 * or it has none and the page is clean (the copy mode writes such a dirty
 * page out first; an exchange does not). A mapping with an operation of its
 * own (pgc_fail_migrate_page() among them) keeps its pages out of
 * exchanges: its operation could not follow a swap.
 */
static bool owner_allows(const struct pgc_mapping *m, const struct pgc_page *p)
{
	if (m->ops.migratepage == pgc_migrate_page)
		return true;
	return !m->ops.migratepage && !pgc__test(p, PGC_PG_DIRTY);
}

/* Whether an isolated page of the target may be the partner at all. */
static bool eligible(struct pgc_page *q)
{
	struct pgc_mapping *m = atomic_load_explicit(&q->mapping, memory_order_acquire);
	return m && owner_allows(m, q) &&
	       !(pgc__flags(q) & (PGC_BIT(PGC_PG_WRITEBACK) | PGC_BIT(PGC_PG_UNEVICTABLE) |
				  PGC_BIT(PGC_PG_LOCKED)));
}

/*
 * Trades *pp (locked and isolated) with the isolated q: 0 on success, *pp
 * then q (which holds the page now); -EBUSY if *pp is held by others;
 * -EAGAIN if q cannot be the partner (locked, held, busy). q is unlocked
 * and put back either way; *pp stays locked and isolated.
 */
static int try_partner(struct pgc_cache *c, struct pgc_page **pp, struct pgc_mapping *mp,
		       struct pgc_page *q, void *tmp)
{
	struct pgc_page *p = *pp;
	if (!pgc__trylock(q)) {
		pgc__lru_putback(c, &q, 1);
		return -EAGAIN;
	}
	struct pgc_mapping *mq = atomic_load_explicit(&q->mapping, memory_order_acquire);
	int rc = -EAGAIN;
	/* The moved page: mapping, caller, isolation; the partner: mapping,
	 * isolation. Anyone else holding either keeps it. */
	if (!mq || pgc__test(q, PGC_PG_WRITEBACK) || !owner_allows(mq, q) ||
	    !pgc__mapping_release_private(mq, q))
		goto out;
	/* A lookup's reference on p lasts a moment: waited out a few times. */
	bool frozen = false;
	for (unsigned t = 0; t < PGC_MIGRATE_PASSES && !(frozen = !pgc_page_ref_freeze(p, 3)); t++)
		sched_yield();
	if (!frozen) {
		rc = -EBUSY;
		goto out;
	}
	if (pgc_page_ref_freeze(q, 2) != 0) {
		pgc_page_ref_unfreeze(p, 3);
		goto out;
	}
	if (swap(c, p, mp, q, mq, tmp) == 0) {
		/* q carries p's identity (and the caller's reference) now. */
		pgc_page_ref_unfreeze(q, 3);
		pgc_page_ref_unfreeze(p, 2);
		pgc__unlock(q);
		pgc__lru_putback(c, &q, 1);
		*pp = q;
		return 0;
	}
	pgc_page_ref_unfreeze(q, 2);
	pgc_page_ref_unfreeze(p, 3);
out:
	pgc__unlock(q);
	pgc__lru_putback(c, &q, 1);
	return rc;
}

int pgc__exchange_page(struct pgc_cache *c, struct pgc_page **pp, unsigned ti, bool may_sleep)
{
	struct pgc_page *p = *pp;
	void *tmp = pgc__malloc(c->frames.page_size);
	if (!tmp)
		return -ENOMEM;
	int rc = -ENOMEM;
	bool isolated = false;
	for (int t = 0; t < 100 && !(isolated = pgc__lru_isolate_page(c, p)); t++)
		sched_yield();
	if (!isolated) {
		rc = atomic_load_explicit(&p->mapping, memory_order_acquire) ? -EBUSY : -ENOENT;
		goto out;
	}
	if (may_sleep)
		pgc__lock(p);
	else if (!pgc__trylock(p)) {
		rc = -EBUSY;
		goto putback_p;
	}
	struct pgc_mapping *mp = atomic_load_explicit(&p->mapping, memory_order_acquire);
	if (!mp) {
		rc = -ENOENT;
		goto unlock_p;
	}
	/* A private value or an idle handle is released first, as the
	 * kernel's fallback migration releases a folio's buffers. */
	if (pgc__test(p, PGC_PG_WRITEBACK) || !owner_allows(mp, p) ||
	    !pgc__mapping_release_private(mp, p)) {
		rc = -EBUSY;
		goto unlock_p;
	}
	/*
	 * The partner: the first page from the tail that is not referenced
	 * since reclaim last looked (a referenced one gets its second chance,
	 * activated, as reclaim gives it); if every page looked at was
	 * referenced, the first of them, kept aside: it is still the
	 * coldest the LRU knows.
	 */
	struct pgc_page *spare = NULL;
	for (unsigned tries = 0; tries < XCHG_TRIES && rc == -ENOMEM; tries++) {
		struct pgc_page *q;
		if (pgc__lru_isolate(c, ti, PGC_LRU_INACTIVE, &q, 1) == 0 &&
		    pgc__lru_isolate(c, ti, PGC_LRU_ACTIVE, &q, 1) == 0)
			break;
		if (!eligible(q)) {
			pgc__lru_putback(c, &q, 1);
			continue;
		}
		if (pgc__test(q, PGC_PG_REFERENCED)) {
			if (!spare) {
				spare = q;
				continue;
			}
			pgc__clear(q, PGC_PG_REFERENCED);
			pgc__set(q, PGC_PG_ACTIVE);
			pgc__lru_putback(c, &q, 1);
			continue;
		}
		int err = try_partner(c, pp, mp, q, tmp);
		if (err != -EAGAIN)
			rc = err;
	}
	if (rc == -ENOMEM && spare) {
		int err = try_partner(c, pp, mp, spare, tmp);
		if (err != -EAGAIN)
			rc = err;
	} else if (spare) {
		pgc__lru_putback(c, &spare, 1);
	}
unlock_p:
	pgc__unlock(p);
putback_p:
	pgc__lru_putback(c, &p, 1);
out:
	free(tmp);
	return rc;
}
