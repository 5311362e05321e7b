/*
 * Page allocation for the layers above reclaim (reclaim.c).
 */
#ifndef PGC_RECLAIM_INTERNAL_H
#define PGC_RECLAIM_INTERNAL_H

struct pgc_cache;
struct pgc_page;

/* Flag of pgc__page_alloc(), beyond the public PGC_ALLOC_*: take a free
 * frame or none, never reclaim a page for it (migration's exchange would
 * rather trade places with the page reclaim would evict). */
#define PGC__ALLOC_NORECLAIM 0x100u

/* pgc_page_alloc() with its arguments checked, and the internal flags. */
int pgc__page_alloc(struct pgc_cache *cache, int node, unsigned flags, struct pgc_page **pagep);

#endif /* PGC_RECLAIM_INTERNAL_H */
