/*
 * What the hit path needs of placement (placement.c): the layout of a
 * descriptor's access word and the note a hit takes when any cache of the
 * process has placement on.
 *
 * The access word (struct pgc_page::access) holds, from the low bits: the
 * node of the last note plus one (10 bits, 0: never noted; nodes from 1023
 * are not noted), how many notes in a row came from that node (2 bits,
 * saturating at 3), the notes in the step of the last note (4 bits,
 * saturating at 15), and the low 16 bits of the cache's placement step at
 * the last note. A note stores the word only when it changes, so a page
 * hit from one node again and again costs a load of a line the hit reads
 * anyway, once its counts are saturated.
 */
#ifndef PGC_PLACEMENT_INTERNAL_H
#define PGC_PLACEMENT_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "assert_internal.h"
#include "desc_internal.h"

#define PGC_ACC_NODE_MASK 0x3ffu
#define PGC_ACC_STREAK_SHIFT 10u
#define PGC_ACC_STREAK_MAX 3u
#define PGC_ACC_HITS_SHIFT 12u
#define PGC_ACC_HITS_MAX 15u
#define PGC_ACC_EPOCH_SHIFT 16u

static inline unsigned pgc__acc_streak(uint32_t a)
{
	return (a >> PGC_ACC_STREAK_SHIFT) & PGC_ACC_STREAK_MAX;
}

static inline unsigned pgc__acc_hits(uint32_t a)
{
	return (a >> PGC_ACC_HITS_SHIFT) & PGC_ACC_HITS_MAX;
}

/* Caches of the process with placement on: 0 keeps the hit path at one load. */
extern _Atomic int pgc__place_users;

/* Notes the calling CPU's node in p's access word (placement on in p's cache). */
void pgc__place_note(struct pgc_page *p);

static inline void pgc__place_hit(struct pgc_page *p)
{
	if (pgc_unlikely(atomic_load_explicit(&pgc__place_users, memory_order_relaxed)))
		pgc__place_note(p);
}

struct pgc_cache;

/* Stops the cache's placement thread and frees its state (cache teardown). */
void pgc__place_fini(struct pgc_cache *c);

#endif /* PGC_PLACEMENT_INTERNAL_H */
