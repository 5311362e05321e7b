/*
 * Page descriptors: references, the page lock, waiting, flags and private
 * data. This layer knows frames and LRU membership only to free a page whose
 * last reference goes; mappings and reclaim sit above it.
 *
 * The lock and the writeback wait sleep on the flags word itself (a futex),
 * with WAITERS telling the releasing side that someone must be woken, as the
 * kernel's PG_waiters does. Waking wakes every sleeper of the word; each one
 * re-checks its own condition, so a sleeper on another bit of the same page
 * costs a spurious wake-up, never a lost one.
 */
#include <errno.h>

#include <pgcache/page.h>

#include "cache_internal.h"
#include "page_internal.h"
#include "wait_internal.h"

/* What a page's last put undoes before its frame goes back. */
static void page_release(struct pgc_cache *c, struct pgc_page *p)
{
	pgc_assert(atomic_load_explicit(&p->mapping, memory_order_relaxed) == NULL);
	pgc_assert(!pgc__test(p, PGC_PG_LOCKED));
	pgc_assert(!pgc__test(p, PGC_PGI_ISOLATED));
	if (pgc__test(p, PGC_PG_WRITEBACK))
		atomic_fetch_sub_explicit(&c->nr_writeback, 1, memory_order_relaxed);
	pgc__lru_del(c, p);
}

void pgc__page_free(struct pgc_page *p)
{
	struct pgc_cache *c = pgc__page_chunk(p)->cache;
	page_release(c, p);
	pgc__frames_put(c, p);
}

void pgc__page_free_batch(struct pgc_cache *c, struct pgc_page **pages, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		page_release(c, pages[i]);
	pgc__frames_put_batch(c, pages, n);
}

void pgc__lock_slow(struct pgc_page *p)
{
	for (;;) {
		uint32_t f = pgc__flags(p);
		if (!(f & PGC_BIT(PGC_PG_LOCKED))) {
			if (pgc__trylock(p))
				return;
			continue;
		}
		if (!(f & PGC_BIT(PGC_PGI_WAITERS))) {
			if (!atomic_compare_exchange_weak(&p->flags, &f, f | PGC_BIT(PGC_PGI_WAITERS)))
				continue;
			f |= PGC_BIT(PGC_PGI_WAITERS);
		}
		pgc__wait_on(&p->flags, f);
	}
}

void pgc__wait_bit(struct pgc_page *p, unsigned bit)
{
	for (;;) {
		uint32_t f = pgc__flags(p);
		if (!(f & PGC_BIT(bit)))
			return;
		if (!(f & PGC_BIT(PGC_PGI_WAITERS))) {
			if (!atomic_compare_exchange_weak(&p->flags, &f, f | PGC_BIT(PGC_PGI_WAITERS)))
				continue;
			f |= PGC_BIT(PGC_PGI_WAITERS);
		}
		pgc__wait_on(&p->flags, f);
	}
}

void pgc__clear_and_wake(struct pgc_page *p, unsigned bit)
{
	uint32_t old = atomic_fetch_and_explicit(
		&p->flags, ~(PGC_BIT(bit) | PGC_BIT(PGC_PGI_WAITERS)), memory_order_release);
	if (old & PGC_BIT(PGC_PGI_WAITERS))
		pgc__wake_all(&p->flags);
}

PGC_API int pgc_page_get(pgc_page *page)
{
	if (!page || atomic_load_explicit(&page->refcount, memory_order_relaxed) <= 0)
		return -EINVAL;
	pgc__get(page);
	return 0;
}

PGC_API int pgc_page_get_unless_zero(pgc_page *page)
{
	if (!page)
		return -EINVAL;
	return pgc__get_unless_zero(page) ? 0 : -EAGAIN;
}

PGC_API void pgc_page_put(pgc_page *page)
{
	if (page)
		pgc__put(page);
}

PGC_API int pgc_page_refcount(const pgc_page *page)
{
	if (!page)
		return -EINVAL;
	return atomic_load_explicit(&page->refcount, memory_order_relaxed);
}

PGC_API int pgc_page_ref_freeze(pgc_page *page, int expected)
{
	if (!page || expected < 1)
		return -EINVAL;
	int32_t e = expected;
	return atomic_compare_exchange_strong_explicit(&page->refcount, &e, 0, memory_order_acquire,
						       memory_order_relaxed)
		       ? 0
		       : -EBUSY;
}

PGC_API int pgc_page_ref_unfreeze(pgc_page *page, int count)
{
	if (!page || count < 1)
		return -EINVAL;
	int32_t zero = 0;
	return atomic_compare_exchange_strong_explicit(&page->refcount, &zero, count,
						       memory_order_release, memory_order_relaxed)
		       ? 0
		       : -EINVAL;
}

PGC_API int pgc_page_lock(pgc_page *page)
{
	if (!page)
		return -EINVAL;
	pgc__lock(page);
	return 0;
}

PGC_API int pgc_page_trylock(pgc_page *page)
{
	if (!page)
		return -EINVAL;
	return pgc__trylock(page) ? 0 : -EBUSY;
}

PGC_API int pgc_page_unlock(pgc_page *page)
{
	if (!page || !pgc__test(page, PGC_PG_LOCKED))
		return -EINVAL;
	pgc__clear_and_wake(page, PGC_PG_LOCKED);
	return 0;
}

PGC_API int pgc_page_wait_unlocked(pgc_page *page)
{
	if (!page)
		return -EINVAL;
	pgc__wait_bit(page, PGC_PG_LOCKED);
	return 0;
}

PGC_API int pgc_page_wait_writeback(pgc_page *page)
{
	if (!page)
		return -EINVAL;
	pgc__wait_bit(page, PGC_PG_WRITEBACK);
	return 0;
}

PGC_API uint32_t pgc_page_flags(const pgc_page *page)
{
	return page ? pgc__flags(page) & PGC_PUBLIC_FLAGS : 0;
}

PGC_API int pgc_page_test_flag(const pgc_page *page, enum pgc_page_flag flag)
{
	if (!page || (unsigned)flag >= PGC_PG_NR_FLAGS)
		return -EINVAL;
	return pgc__test(page, (unsigned)flag) ? 1 : 0;
}

static bool flag_is_simple(enum pgc_page_flag flag)
{
	switch (flag) {
	case PGC_PG_UPTODATE:
	case PGC_PG_ERROR:
	case PGC_PG_CHECKED:
	case PGC_PG_MAPPEDTODISK:
	case PGC_PG_REFERENCED:
		return true;
	default:
		return false;
	}
}

PGC_API int pgc_page_set_flag(pgc_page *page, enum pgc_page_flag flag)
{
	if (!page || !flag_is_simple(flag))
		return -EINVAL;
	pgc__set(page, (unsigned)flag);
	return 0;
}

PGC_API int pgc_page_clear_flag(pgc_page *page, enum pgc_page_flag flag)
{
	if (!page || !flag_is_simple(flag))
		return -EINVAL;
	pgc__clear(page, (unsigned)flag);
	return 0;
}

PGC_API int pgc_page_set_private(pgc_page *page, uintptr_t value)
{
	if (!page || !pgc__test(page, PGC_PG_LOCKED))
		return -EINVAL;
	if (pgc__test(page, PGC_PG_PRIVATE))
		return -EEXIST;
	page->private_value = value;
	pgc__set(page, PGC_PG_PRIVATE);
	return 0;
}

PGC_API int pgc_page_clear_private(pgc_page *page, uintptr_t *valuep)
{
	if (!page || !pgc__test(page, PGC_PG_LOCKED))
		return -EINVAL;
	if (!pgc__test(page, PGC_PG_PRIVATE))
		return -ENOENT;
	if (valuep)
		*valuep = page->private_value;
	page->private_value = 0;
	pgc__clear(page, PGC_PG_PRIVATE);
	return 0;
}

PGC_API uintptr_t pgc_page_private(const pgc_page *page)
{
	if (!page || !pgc__test(page, PGC_PG_PRIVATE))
		return 0;
	return page->private_value;
}

PGC_API void pgc_page_mark_accessed(pgc_page *page)
{
	if (page)
		pgc__mark_accessed(page);
}

PGC_API void *pgc_page_data(const pgc_page *page)
{
	return page ? pgc__page_data(page) : NULL;
}

PGC_API uint64_t pgc_page_index(const pgc_page *page)
{
	return page ? atomic_load_explicit(&page->index, memory_order_relaxed) : 0;
}

PGC_API pgc_mapping *pgc_page_mapping(const pgc_page *page)
{
	return page ? atomic_load_explicit(&page->mapping, memory_order_acquire) : NULL;
}

PGC_API int pgc_page_node(const pgc_page *page)
{
	return page ? pgc__page_node_of(page) : -EINVAL;
}

PGC_API pgc_cache *pgc_page_cache(const pgc_page *page)
{
	return page ? pgc__page_chunk(page)->cache : NULL;
}
