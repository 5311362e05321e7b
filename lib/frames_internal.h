/*
 * Page frames: chunks of PGC_CHUNK_FRAMES pages mapped on one node, their
 * descriptor blocks, and a free list per node.
 *
 * Frames are created lazily, a chunk at a time, until the cache's capacity or
 * the node's limit is reached; they are never unmapped before the cache is
 * destroyed. A freed frame goes straight back to its node's free list (or to
 * the thread that captures it, below) and may be reused at once, while a
 * lookup may still be reading its descriptor through an index: lookups
 * check the page's identity and the index slot once they hold a reference
 * (mapping.c), and the optimistic read checks the data sequence, identity
 * and slot after its copy (rw.c). See frames.c.
 */
#ifndef PGC_FRAMES_INTERNAL_H
#define PGC_FRAMES_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "desc_internal.h"

/* The frames of one node. */
struct pgc_frame_pool {
	pthread_mutex_t lock;
	/* Free frames, a queue linked through lru_next: frames are taken in
	 * the order they were freed, so the frames a sequential scan's
	 * reclaim frees in address order come back in address order, and a
	 * window read into them is a few long iovecs (a few long device
	 * requests), not one per page (as a stack gave: reversed order). */
	uint32_t free_head;
	struct pgc_page *free_tail; /* the last of the queue, if free_head is a frame */
	uint64_t nr_free;
	uint64_t nr_taken;         /* given by another node and on their way
				    * (frames.c) */
	uint64_t nr_frames;        /* frames created on this node */
	uint64_t limit;            /* most frames on this node */
	_Atomic uint64_t nr_inuse; /* frames handed out and not yet freed */
};

/* The frames of a cache. */
struct pgc_frames {
	size_t page_size;
	uint32_t page_shift;
	uint64_t capacity;          /* most frames in all */
	_Atomic uint64_t nr_frames; /* frames created in all */
	uint32_t max_chunks;
	_Atomic uint32_t nr_chunks; /* written under grow_lock */
	struct pgc_chunk **chunks;  /* chunk table, max_chunks entries */
	pthread_mutex_t grow_lock;
};

struct pgc_cache;

int pgc__frames_init(struct pgc_frames *fr, size_t page_size, uint64_t capacity,
		     unsigned nr_pools);
/* Unmaps every chunk. */
void pgc__frames_fini(struct pgc_frames *fr);
void pgc__frame_pool_init(struct pgc_frame_pool *pool, uint64_t limit);
void pgc__frame_pool_fini(struct pgc_frame_pool *pool);

/*
 * Takes a free frame of the pool (creating a chunk on that node if allowed).
 * Returns a descriptor with refcount 1 and only its node in the flags, or
 * NULL if the pool has no frame and may not grow. Never waits.
 */
struct pgc_page *pgc__frames_get(struct pgc_cache *cache, unsigned pool_idx);

/*
 * Makes at least @p want frames of the pool free ahead of need: creates
 * chunks on its node (within the capacity and the node's limit). Returns 0,
 * -ENOSPC when the capacity or the node's limit leaves fewer, or -ENOMEM
 * when memory for a chunk could not be mapped (the frames made are kept).
 * May sleep; takes the grow and pool locks.
 */
int pgc__frames_reserve(struct pgc_cache *cache, unsigned pool_idx, uint64_t want);

/*
 * Capture, as the kernel's compaction hands the page it freed to the
 * allocation that asked for it (capture_control): while a thread reclaims
 * for its own allocation, the first frame it frees in one of the pools
 * order[0..nr_order) is kept for it instead of going to the free list,
 * where another allocator could take it first (a small cache under many
 * allocators would otherwise fail allocations that reclaim did make room
 * for). Per thread; captures nest.
 */
struct pgc_frame_capture {
	struct pgc_cache *cache;
	const unsigned *order;
	unsigned nr_order;
	struct pgc_page *page;           /* the captured frame, or NULL */
	struct pgc_frame_capture *outer; /* the capture this one hides */
};

void pgc__frames_capture_begin(struct pgc_frame_capture *cc, struct pgc_cache *cache,
			       const unsigned *order, unsigned nr_order);
/* Ends the capture: the captured frame as pgc__frames_get gives it, or NULL. */
struct pgc_page *pgc__frames_capture_end(struct pgc_frame_capture *cc);

/* Gives a frame whose count reached 0 back to its node's free list. */
void pgc__frames_put(struct pgc_cache *cache, struct pgc_page *page);

/*
 * The same for n frames (whose counts reached 0), with one hold of each
 * pool's lock per run of frames of that pool.
 */
void pgc__frames_put_batch(struct pgc_cache *cache, struct pgc_page **pages, unsigned n);

/* The descriptor of a frame id. */
static inline struct pgc_page *pgc__frames_page(const struct pgc_frames *fr, uint32_t id)
{
	struct pgc_chunk *c = fr->chunks[id >> PGC_CHUNK_SHIFT];
	return pgc__chunk_page(c, id & ((1u << PGC_CHUNK_SHIFT) - 1u));
}

/*
 * For walks of every frame id below nr_chunks << PGC_CHUNK_SHIFT (chunks
 * made before the walk read nr_chunks): the frame of id, or NULL for a
 * chunk's header slot and the slots past its last frame.
 */
static inline struct pgc_page *pgc__frames_slot(const struct pgc_frames *fr, uint32_t id)
{
	uint32_t slot = id & ((1u << PGC_CHUNK_SHIFT) - 1u);
	struct pgc_chunk *c = fr->chunks[id >> PGC_CHUNK_SHIFT];
	return slot == 0 || slot > c->nr_frames ? NULL : pgc__chunk_page(c, slot);
}

/*
 * A frame for a strict allocation on pool_idx when the pool has none and may
 * not grow (the capacity is taken by other nodes' frames): a free frame of
 * another node, nearest first, whose memory the kernel moves to this node.
 * 0 and the frame in *pagep (as pgc__frames_get gives it); -ENOMEM if the
 * pool is at its limit or no other node has a free frame that could move.
 */
int pgc__frames_get_moved(struct pgc_cache *cache, unsigned pool_idx, struct pgc_page **pagep);

/*
 * Records that an in-use frame's memory is about to lie on the node of pool
 * to_idx (the caller then has the kernel move it in place): its node bits and
 * the pools' counts follow, so it goes back to that node's free list when
 * freed. The page is off its LRU list. If the target node is at its limit
 * but has free frames, one of them is given to the page's old node first
 * (the kernel moves its memory there), so that both nodes keep their counts.
 * 0; -ENOMEM if the target node is at its limit with no free frame that
 * could move.
 */
int pgc__frames_rehome(struct pgc_cache *cache, struct pgc_page *page, unsigned to_idx);

/*
 * Records a frame back on pool to_idx after the kernel did not move its
 * memory away (the undo of pgc__frames_rehome). If the node has
 * no room and none can be made, the frame is recorded there all the same
 * (the record follows the memory) and the node is over its limit.
 */
void pgc__frames_rehome_undo(struct pgc_cache *cache, struct pgc_page *page, unsigned to_idx);

/* Whether p is a descriptor of this cache (for checking callers' pointers). */
bool pgc__frames_owns(const struct pgc_frames *fr, const void *p);

#endif /* PGC_FRAMES_INTERNAL_H */
