/*
 * The LRU lists of one node: inactive, active and unevictable, linked
 * through the descriptors' frame ids under the node's LRU lock. A page on a
 * list has PGC_PG_LRU set; ACTIVE and UNEVICTABLE say which list. As in the
 * kernel, the lists hold no reference: the free path takes a page off its
 * list, and reclaim isolates pages by taking a reference and clearing LRU.
 */
#ifndef PGC_LRU_INTERNAL_H
#define PGC_LRU_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "desc_internal.h"

enum pgc_lru_list { PGC_LRU_INACTIVE = 0, PGC_LRU_ACTIVE = 1, PGC_LRU_UNEVICTABLE = 2, PGC_NR_LRU = 3 };

struct pgc_lru {
	pthread_mutex_t lock;
	uint32_t head[PGC_NR_LRU];
	uint32_t tail[PGC_NR_LRU];
	uint64_t nr[PGC_NR_LRU];
};

struct pgc_cache;

int pgc__lru_init(struct pgc_lru *lru);
void pgc__lru_fini(struct pgc_lru *lru);

/* Puts a page that is on no list at the head of the list its flags name. */
void pgc__lru_add(struct pgc_cache *cache, struct pgc_page *page);

/* pgc__lru_add() of n pages, one hold of a node's LRU lock per run of
 * pages of that node. */
void pgc__lru_add_batch(struct pgc_cache *cache, struct pgc_page **pages, unsigned n);
/* Takes a page off its list if it is on one (free path). */
void pgc__lru_del(struct pgc_cache *cache, struct pgc_page *page);
/*
 * Isolates up to max pages from the tail of a list of node pool_idx: each
 * gets a reference and leaves the list (LRU cleared). Pages whose count is 0
 * (being freed) are left where they are. Returns how many were isolated.
 */
unsigned pgc__lru_isolate(struct pgc_cache *cache, unsigned pool_idx, enum pgc_lru_list list,
			  struct pgc_page **out, unsigned max);
/*
 * Isolates one page the caller holds a reference on: it leaves its list and
 * gets a reference of its own. False if it is on no list (reclaim or
 * another migration has it).
 */
bool pgc__lru_isolate_page(struct pgc_cache *cache, struct pgc_page *page);
/* Puts isolated pages back at the head of the list their flags name, then drops the isolation references. */
void pgc__lru_putback(struct pgc_cache *cache, struct pgc_page **pages, unsigned nr);
/* Moves a page between lists according to new flags (unevictable on/off). */
void pgc__lru_set_unevictable(struct pgc_cache *cache, struct pgc_page *page, int on);

/*
 * Ages the active list of a node: up to max pages from its tail go to the
 * inactive list, except those referenced since, which get one more round.
 * Returns how many were deactivated.
 */
/*
 * A thread that takes pages off the LRU lists for a while (reclaim,
 * migration) says so, so that an allocation that finds nothing to reclaim
 * can tell whether waiting may help: only if another thread holds pages.
 */
void pgc__lru_isolating_begin(struct pgc_cache *cache);
void pgc__lru_isolating_end(struct pgc_cache *cache);
bool pgc__lru_others_isolating(struct pgc_cache *cache);

unsigned pgc__lru_age_active(struct pgc_cache *cache, unsigned pool_idx, unsigned max);
/* The lengths of a node's lists. */
void pgc__lru_counts(struct pgc_cache *cache, unsigned pool_idx, uint64_t nr[PGC_NR_LRU]);

#endif /* PGC_LRU_INTERNAL_H */
