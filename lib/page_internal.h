/*
 * Inline helpers on page descriptors for the layers above: flag bit
 * operations, the speculative reference, and the lock fast paths. The slow
 * paths (sleeping, freeing) are out of line in page.c.
 */
#ifndef PGC_PAGE_INTERNAL_H
#define PGC_PAGE_INTERNAL_H

#include <stdbool.h>

#include "assert_internal.h"
#include "desc_internal.h"
#include "placement_internal.h"

static inline uint32_t pgc__flags(const struct pgc_page *p)
{
	return atomic_load_explicit(&p->flags, memory_order_acquire);
}

static inline bool pgc__test(const struct pgc_page *p, unsigned bit)
{
	return (pgc__flags(p) & PGC_BIT(bit)) != 0;
}

static inline bool pgc__test_and_set(struct pgc_page *p, unsigned bit)
{
	return (atomic_fetch_or_explicit(&p->flags, PGC_BIT(bit), memory_order_acq_rel) &
		PGC_BIT(bit)) != 0;
}

static inline bool pgc__test_and_clear(struct pgc_page *p, unsigned bit)
{
	return (atomic_fetch_and_explicit(&p->flags, ~PGC_BIT(bit), memory_order_acq_rel) &
		PGC_BIT(bit)) != 0;
}

static inline void pgc__set(struct pgc_page *p, unsigned bit)
{
	atomic_fetch_or_explicit(&p->flags, PGC_BIT(bit), memory_order_acq_rel);
}

static inline void pgc__clear(struct pgc_page *p, unsigned bit)
{
	atomic_fetch_and_explicit(&p->flags, ~PGC_BIT(bit), memory_order_acq_rel);
}

/* Takes a reference unless the count is 0; true on success. */
static inline bool pgc__get_unless_zero(struct pgc_page *p)
{
	int32_t c = atomic_load_explicit(&p->refcount, memory_order_relaxed);
	do {
		if (c <= 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&p->refcount, &c, c + 1,
							memory_order_acquire, memory_order_relaxed));
	return true;
}

static inline void pgc__get(struct pgc_page *p)
{
	int32_t old = atomic_fetch_add_explicit(&p->refcount, 1, memory_order_relaxed);
	pgc_assert(old > 0);
	(void)old;
}

void pgc__page_free(struct pgc_page *p);

struct pgc_cache;

/* pgc__page_free() of n pages of cache c whose counts reached 0, their
 * frames given back in bulk (pgc__frames_put_batch). */
void pgc__page_free_batch(struct pgc_cache *c, struct pgc_page **pages, unsigned n);

/* Drops a reference; a page whose count reaches 0 is added to out[*n]
 * instead of being freed, for pgc__page_free_batch(). */
static inline void pgc__put_collect(struct pgc_page *p, struct pgc_page **out, unsigned *n)
{
	int32_t old = atomic_fetch_sub_explicit(&p->refcount, 1, memory_order_acq_rel);
	pgc_assert(old > 0);
	if (pgc_unlikely(old == 1))
		out[(*n)++] = p;
}

static inline void pgc__put(struct pgc_page *p)
{
	int32_t old = atomic_fetch_sub_explicit(&p->refcount, 1, memory_order_acq_rel);
	pgc_assert(old > 0);
	if (pgc_unlikely(old == 1))
		pgc__page_free(p);
}

static inline bool pgc__trylock(struct pgc_page *p)
{
	return !pgc__test_and_set(p, PGC_PG_LOCKED);
}

void pgc__lock_slow(struct pgc_page *p);

static inline void pgc__lock(struct pgc_page *p)
{
	if (pgc_unlikely(!pgc__trylock(p)))
		pgc__lock_slow(p);
}

/* Clears bit (LOCKED or WRITEBACK) and wakes sleepers if WAITERS was set. */
void pgc__clear_and_wake(struct pgc_page *p, unsigned bit);

static inline void pgc__unlock(struct pgc_page *p)
{
	pgc_assert(pgc__test(p, PGC_PG_LOCKED));
	pgc__clear_and_wake(p, PGC_PG_LOCKED);
}

/* Sleeps until bit is clear. */
void pgc__wait_bit(struct pgc_page *p, unsigned bit);

/*
 * The data sequence of a page, for the optimistic reads of the hit path
 * (rw.c): the library's writers of an up-to-date page's data, which hold
 * the page lock, make it odd before they write and even after, and an index
 * insert or removal moves it on, so a reader that saw the same even value
 * before and after its copy, with the page at the same place, copied no
 * write in progress. Writers outside the library (through pgc_page_data()
 * under the page lock) do not take part: a racing read may then see part
 * of their write, as io.h says.
 */
static inline void pgc__page_seq_begin(struct pgc_page *p)
{
	uint32_t s = atomic_load_explicit(&p->seq, memory_order_relaxed);
	if (s & 1)
		return; /* already open (write_begin without write_end) */
	atomic_store_explicit(&p->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release); /* the odd value before the data */
}

static inline void pgc__page_seq_end(struct pgc_page *p)
{
	uint32_t s = atomic_load_explicit(&p->seq, memory_order_relaxed);
	if (s & 1)
		atomic_store_explicit(&p->seq, s + 1, memory_order_release);
}

/* The page enters or leaves an index: readers that saw the old value retry. */
static inline void pgc__page_seq_bump(struct pgc_page *p)
{
	uint32_t s = atomic_load_explicit(&p->seq, memory_order_relaxed);
	atomic_store_explicit(&p->seq, (s | 1) + 1, memory_order_release);
}

static inline void pgc__mark_accessed(struct pgc_page *p)
{
	pgc__place_hit(p);
	/* Read first: the hit path must not write a shared line needlessly. */
	if (!(pgc__flags(p) & PGC_BIT(PGC_PG_REFERENCED)))
		pgc__set(p, PGC_PG_REFERENCED);
}

#endif /* PGC_PAGE_INTERNAL_H */
