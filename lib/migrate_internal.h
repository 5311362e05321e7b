/*
 * The migration engine's entry for the layers above it (placement.c).
 */
#ifndef PGC_MIGRATE_INTERNAL_H
#define PGC_MIGRATE_INTERNAL_H

#include <stdbool.h>

#include <pgcache/migrate.h>

struct pgc_cache;
struct pgc_page;

/* The state flags that belong to a page's data, not to its frame: they go
 * with the data when it moves (by copy, or by exchange with ONDIRTY too). */
#define PGC_MIG_STATE_FLAGS                                                               \
	(PGC_BIT(PGC_PG_ERROR) | PGC_BIT(PGC_PG_REFERENCED) | PGC_BIT(PGC_PG_UPTODATE) |     \
	 PGC_BIT(PGC_PG_ACTIVE) | PGC_BIT(PGC_PG_CHECKED) | PGC_BIT(PGC_PG_MAPPEDTODISK) | \
	 PGC_BIT(PGC_PG_UNEVICTABLE) | PGC_BIT(PGC_PG_DIRTY))

/*
 * Moves pages[0..n) (each held by one reference of the caller, none on
 * node already) to node, in place (PGC_MOVE_INPLACE) or by copy, with the
 * flags of pgc_move_pages(); pages moved by copy are replaced by their new
 * pages, the reference moving along. status[i] gets the node or an error
 * as in pgc_move_pages(); the counts are added to *sum and to the cache's
 * counters of reason. Returns the number of pages not moved.
 */
unsigned pgc__migrate_move(struct pgc_cache *c, struct pgc_page **pages, unsigned n, int node,
			   unsigned flags, int reason, int *status, struct pgc_migrate_stats *sum);

/*
 * Exchanges *pp (held by one reference of the caller, on another node)
 * with a cold page of node index ti (exchange.c): on 0, *pp is the
 * descriptor on ti that now holds the page, the reference moved with it.
 * -ENOMEM: no cold page fits; -EBUSY: the page is locked (without
 * may_sleep), under writeback or held by others; -ENOENT: it left its
 * mapping.
 */
int pgc__exchange_page(struct pgc_cache *c, struct pgc_page **pp, unsigned ti, bool may_sleep);

#endif /* PGC_MIGRATE_INTERNAL_H */
