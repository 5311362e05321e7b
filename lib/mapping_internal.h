/*
 * Mappings inside the library: the RCU hash index of one object's pages
 * (liburcu's cds_lfht), its dirty list, and the helpers that the layers
 * above (writeback, reclaim, filemap) use to look up, remove and account
 * pages.
 */
#ifndef PGC_MAPPING_INTERNAL_H
#define PGC_MAPPING_INTERNAL_H

#include <pgcache/mapping.h>

#include "cache_internal.h"
#include "page_internal.h"

struct pgc_mapping {
	struct pgc_cache *cache;
	struct cds_lfht *ht;
	struct pgc_mapping_ops ops;
	void *owner;
	_Atomic uint64_t size;
	_Atomic uint64_t nr_pages;
	pthread_mutex_t dirty_lock;  /* the dirty list; page->mapping changes under it */
	uint32_t dirty_head;         /* frame ids linked through dirty_prev/next */
	_Atomic uint64_t nr_dirty;   /* pages on the dirty list */
	_Atomic uint64_t nr_writeback; /* its pages with PG_writeback set */
};

static inline struct pgc_cache *pgc__mapping_cache(const struct pgc_mapping *m)
{
	return m->cache;
}

/* Finds the page at index and takes a reference (lock free), or NULL. */
struct pgc_page *pgc__mapping_lookup(struct pgc_mapping *m, uint64_t index);

/* Inserts a page with a reference held by the caller; 0, -EEXIST or -EINVAL. */
int pgc__mapping_add(struct pgc_mapping *m, struct pgc_page *page, uint64_t index);

/*
 * Evicts a locked, clean page held by the mapping and by the caller only
 * (expected references: 2). On success the page is unlocked and freed, the
 * caller's reference consumed; returns -EBUSY (nothing changed) otherwise.
 */
int pgc__mapping_evict(struct pgc_mapping *m, struct pgc_page *page);

/* Asks releasepage (or the default) whether a locked page's private data may go. */
bool pgc__mapping_release_private(struct pgc_mapping *m, struct pgc_page *page);

/* Brings a page's place on its mapping's dirty list in line with DIRTY. */
void pgc__mapping_sync_dirty(struct pgc_page *page);

#endif /* PGC_MAPPING_INTERNAL_H */
