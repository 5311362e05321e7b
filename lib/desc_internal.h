/*
 * The layout of a page descriptor and of the chunk that holds it.
 *
 * Frames come in chunks of PGC_CHUNK_FRAMES pages allocated on one NUMA
 * node. Each chunk has a descriptor block of PGC_DESC_BLOCK bytes, aligned to
 * its size: slot 0 holds the chunk header, slots 1..PGC_CHUNK_FRAMES the
 * descriptors. So a descriptor finds its chunk by masking its own address,
 * its data by its slot, and a frame id (chunk number << 9 | slot) names a
 * descriptor in 32 bits, with 0 meaning "none". The blocks are never freed
 * while the cache lives, which makes descriptors type stable: a lookup that
 * races with the page's removal may touch the descriptor safely and finds
 * out from its reference count and identity that it lost the race.
 *
 * A descriptor is exactly 64 bytes, one cache line.
 */
#ifndef PGC_DESC_INTERNAL_H
#define PGC_DESC_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdalign.h>

#include <urcu-bp.h>

#include <pgcache/page.h>

#define PGC_DESC_SIZE 64u
#define PGC_CHUNK_SHIFT 9u
#define PGC_CHUNK_FRAMES ((1u << PGC_CHUNK_SHIFT) - 1u) /* 511: slot 0 is the header */
#define PGC_DESC_BLOCK ((size_t)PGC_DESC_SIZE << PGC_CHUNK_SHIFT) /* 32 KiB */
#define PGC_FRAME_NONE 0u
#define PGC_CHUNK_MAGIC 0x70676331u /* "pgc1" */

/*
 * Bits of the flags word beyond the public ones (page.h): internal state,
 * then the node number in the top 12 bits, as the kernel keeps the node in
 * the high bits of page->flags.
 */
enum {
	PGC_PGI_WAITERS = 12,  /* someone sleeps on this word: wake on change */
	PGC_PGI_ONDIRTY = 13,  /* its slot in the mapping's index is tagged dirty */
	/* 14: free (was STALE, for the hash index that lived in descriptors) */
	PGC_PGI_FREE = 15,     /* on a free list */
	PGC_PGI_ISOLATED = 16, /* taken off its LRU list by reclaim */
	PGC_PGI_HANDLE = 17,   /* private_value is a page handle (clpage.c) */
};
#define PGC_NODE_SHIFT 20u
#define PGC_NODE_LIMIT (1 << (32 - PGC_NODE_SHIFT)) /* node numbers below this */
#define PGC_FLAGS_MASK ((1u << PGC_NODE_SHIFT) - 1u)
#define PGC_BIT(f) (1u << (f))

/* The public flags a caller may read. */
#define PGC_PUBLIC_FLAGS ((1u << PGC_PG_NR_FLAGS) - 1u)

struct pgc_mapping;

struct pgc_page {
	_Atomic uint32_t flags;             /* PGC_PG_*, PGC_PGI_*, node << 20 */
	_Atomic int32_t refcount;           /* 0: free, or frozen */
	struct pgc_mapping *_Atomic mapping; /* NULL when in no mapping */
	_Atomic uint64_t index;             /* page number in the mapping */
	uintptr_t private_value;            /* the owner's value (PGC_PG_PRIVATE) */
	_Atomic uint32_t seq;               /* odd while the data changes (page_internal.h) */
	_Atomic uint32_t access;            /* placement's notes (placement_internal.h) */
	uint32_t spare[4];                  /* free since the index, the dirty list and
					     * frames.c's pending lists left the
					     * descriptor */
	uint32_t lru_prev, lru_next;        /* LRU list, or free list (next) */
};

_Static_assert(sizeof(struct pgc_page) == PGC_DESC_SIZE, "descriptor is one cache line");

struct pgc_cache;

/* Slot 0 of a descriptor block. */
struct pgc_chunk {
	uint32_t magic;
	uint32_t chunk_no;        /* index in the cache's chunk table */
	struct pgc_cache *cache;
	char *data;               /* PGC_CHUNK_FRAMES frames of page size */
	uint32_t page_shift;
	int node;                 /* where data and descriptors were bound */
	uint32_t nr_frames;       /* usable frames (less if capacity ended) */
	uint32_t pad;
	char *map_base;           /* what munmap gets back for data */
	size_t map_len;
};

_Static_assert(sizeof(struct pgc_chunk) <= PGC_DESC_SIZE, "chunk header fits slot 0");

static inline struct pgc_chunk *pgc__page_chunk(const struct pgc_page *page)
{
	return (struct pgc_chunk *)((uintptr_t)page & ~(uintptr_t)(PGC_DESC_BLOCK - 1));
}

static inline uint32_t pgc__page_slot(const struct pgc_page *page)
{
	return (uint32_t)(((uintptr_t)page & (PGC_DESC_BLOCK - 1)) / PGC_DESC_SIZE);
}

static inline uint32_t pgc__page_id(const struct pgc_page *page)
{
	return (pgc__page_chunk(page)->chunk_no << PGC_CHUNK_SHIFT) | pgc__page_slot(page);
}

static inline void *pgc__page_data(const struct pgc_page *page)
{
	const struct pgc_chunk *c = pgc__page_chunk(page);
	return c->data + ((size_t)(pgc__page_slot(page) - 1) << c->page_shift);
}

static inline struct pgc_page *pgc__chunk_page(struct pgc_chunk *c, uint32_t slot)
{
	return (struct pgc_page *)((char *)c + (size_t)slot * PGC_DESC_SIZE);
}

static inline int pgc__page_node_of(const struct pgc_page *page)
{
	return (int)(atomic_load_explicit(&page->flags, memory_order_relaxed) >> PGC_NODE_SHIFT);
}

#endif /* PGC_DESC_INTERNAL_H */
