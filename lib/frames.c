/*
 * Page frames and their descriptors: the lowest layer above the NUMA door.
 *
 * A chunk is PGC_CHUNK_FRAMES frames of page size, mapped anonymously and
 * bound to one node before anything touches it, plus a 32 KiB descriptor
 * block bound to the same node (its slot 0 is the chunk header). Chunks are
 * created lazily up to the capacity and the node's limit and live as long as
 * the cache, so descriptors are type stable.
 *
 * Freed frames cannot be reused at once: a reader inside an RCU read-side
 * critical section may still be copying a frame's data (the optimistic
 * read of rw.c, which takes no reference and relies on this). They wait on their node's pending list; a full batch is handed
 * to call_rcu() and joins the free list after a grace period, and an
 * allocator that finds only pending frames waits for a grace period itself.
 * A migration that may not sleep and finds only pending frames on its target
 * node hands them to call_rcu() at once (pgc__frames_recycle_start), so that
 * they come back without a sleeping allocator: a node with few frames never
 * fills a batch. Allocations in general do not, as a sleeping allocator then
 * pays rcu_barrier() instead of one grace period.
 *
 * A frame belongs to the pool of the node its memory is on. The kernel can
 * move a frame's memory (move_pages(2)); then the frame changes pools. That
 * is how an in-place migration changes a page's node, how a node at its
 * limit makes room for one (it gives a free frame to the page's old node),
 * and how a strict allocation on a node that may not grow (the capacity is
 * taken by other nodes' frames) gets a frame: a free frame of another node
 * is moved to it. Without that, frames would stay where they were first
 * placed, and a node could have none free in a mostly empty cache.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc_internal.h"
#include "cache_internal.h"
#include "fork_internal.h"
#include "numa_internal.h"
#include "tsan_internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PGC_PENDING_BATCH 64u
#define PGC_HUGE_SIZE ((size_t)2 << 20)

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

struct pgc_pending_batch {
	struct rcu_head rcu;
	struct pgc_cache *cache;
	unsigned pool_idx;
	uint32_t head, tail;
	uint64_t nr;
	uint32_t fork_gen;      /* when handed to call_rcu() (fork_internal.h) */
	unsigned fork_retries;  /* of a batch queued before a fork, in the child */
};

/* Tries for a pool lock a thread of the parent may hold for ever. */
#define PGC_FORK_BATCH_RETRIES 100

int pgc__frames_init(struct pgc_frames *fr, size_t page_size, uint64_t capacity,
		     unsigned nr_pools)
{
	memset(fr, 0, sizeof(*fr));
	fr->page_size = page_size;
	fr->page_shift = (uint32_t)__builtin_ctzll(page_size);
	fr->capacity = capacity;
	uint64_t chunks = (capacity + PGC_CHUNK_FRAMES - 1) / PGC_CHUNK_FRAMES + nr_pools;
	if (chunks >= (1ull << (32 - PGC_CHUNK_SHIFT)))
		return -EINVAL;
	fr->max_chunks = (uint32_t)chunks;
	fr->chunks = pgc__calloc(chunks, sizeof(*fr->chunks));
	if (!fr->chunks)
		return -ENOMEM;
	pthread_mutex_init(&fr->grow_lock, NULL);
	return 0;
}

void pgc__frame_pool_init(struct pgc_frame_pool *p, uint64_t limit)
{
	pthread_mutex_init(&p->lock, NULL);
	p->free_head = p->pending_head = PGC_FRAME_NONE;
	p->nr_free = p->nr_pending = p->nr_inflight = p->nr_taken = p->nr_frames = 0;
	p->limit = limit;
	atomic_init(&p->nr_inuse, 0);
}

void pgc__frame_pool_fini(struct pgc_frame_pool *p)
{
	pthread_mutex_destroy(&p->lock);
}

/*
 * Under AddressSanitizer the descriptor blocks are roots of LeakSanitizer's
 * scan: they are mapped memory, which it does not scan by itself, and they
 * hold the only pointers to the page handles (clpage.c). Without this a
 * process that exits with a cache alive (a child of fork, which must not
 * destroy its copies) is reported as leaking every handle.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PGC_LSAN_ROOTS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PGC_LSAN_ROOTS 1
#endif
#endif
#ifdef PGC_LSAN_ROOTS
#include <sanitizer/lsan_interface.h>
#define lsan_root(p, n) __lsan_register_root_region((p), (n))
#define lsan_unroot(p, n) __lsan_unregister_root_region((p), (n))
#else
#define lsan_root(p, n) ((void)(p), (void)(n))
#define lsan_unroot(p, n) ((void)(p), (void)(n))
#endif

static void chunk_unmap(struct pgc_chunk *c)
{
	munmap(c->map_base, c->map_len);
	lsan_unroot(c, PGC_DESC_BLOCK);
	munmap(c, PGC_DESC_BLOCK);
}

void pgc__frames_fini(struct pgc_frames *fr)
{
	/* Pending batches handed to call_rcu() must land before the pools go. */
	rcu_barrier();
	pgc__hb_acquire(fr);
	uint32_t n = atomic_load_explicit(&fr->nr_chunks, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++)
		chunk_unmap(fr->chunks[i]);
	free(fr->chunks);
	fr->chunks = NULL;
	pthread_mutex_destroy(&fr->grow_lock);
}

/* Maps len bytes aligned to align (a power of two >= the OS page size). */
static void *map_aligned(size_t len, size_t align)
{
	size_t os_page = (size_t)sysconf(_SC_PAGESIZE);
	size_t slop = align > os_page ? align - os_page : 0;
	char *raw = mmap(NULL, len + slop, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	char *p = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	size_t tail = (size_t)(raw + len + slop - (p + len));
	if (tail)
		munmap(p + len, tail);
	return p;
}

/* Faults the frames in now, on their node, so allocation never faults later. */
static int populate(char *p, size_t len)
{
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -ENOMEM;
	/* Kernel older than 5.14: touch each page. */
	size_t os_page = (size_t)sysconf(_SC_PAGESIZE);
	for (size_t off = 0; off < len; off += os_page)
		((volatile char *)p)[off] = 0;
	return 0;
}

static struct pgc_chunk *chunk_create(struct pgc_cache *cache, unsigned pool_idx, uint32_t chunk_no,
				      uint32_t nframes)
{
	struct pgc_frames *fr = &cache->frames;
	int node = cache->nodes[pool_idx].id;
	if (pgc__fault_alloc())
		return NULL;
	struct pgc_chunk *c = map_aligned(PGC_DESC_BLOCK, PGC_DESC_BLOCK);
	if (!c)
		return NULL;
	int err = pgc__numa_bind(c, PGC_DESC_BLOCK, node);
	if (err)
		pgc__log(cache, PGC_LOG_WARN, "descriptors not bound to node %d: %s", node,
			 strerror(-err));
	/*
	 * The data is mapped in whole, aligned huge pages (2 MiB on x86-64) so
	 * that the kernel can back it with transparent huge pages: a lookup
	 * that touches a random page then costs no TLB miss of its own. For
	 * 4 KiB pages this wastes one frame's worth per chunk.
	 */
	size_t len = round_up((size_t)PGC_CHUNK_FRAMES << fr->page_shift, PGC_HUGE_SIZE);
	char *data = map_aligned(len, fr->page_size > PGC_HUGE_SIZE ? fr->page_size : PGC_HUGE_SIZE);
	if (!data) {
		munmap(c, PGC_DESC_BLOCK);
		return NULL;
	}
	err = pgc__numa_bind(data, len, node);
	if (!err) /* advice: a failure only costs speed */
		madvise(data, len, cache->huge_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (!err)
		err = populate(data, (size_t)nframes << fr->page_shift);
	if (err) {
		pgc__log(cache, PGC_LOG_ERROR, "cannot place %u frames on node %d: %s", nframes, node,
			 strerror(-err));
		munmap(data, len);
		munmap(c, PGC_DESC_BLOCK);
		return NULL;
	}
	lsan_root(c, PGC_DESC_BLOCK);
	c->magic = PGC_CHUNK_MAGIC;
	c->chunk_no = chunk_no;
	c->cache = cache;
	c->data = data;
	c->page_shift = fr->page_shift;
	c->node = node;
	c->nr_frames = nframes;
	c->map_base = data;
	c->map_len = len;
	for (uint32_t s = 1; s <= nframes; s++) {
		struct pgc_page *p = pgc__chunk_page(c, s);
		atomic_store_explicit(&p->flags,
				      ((uint32_t)node << PGC_NODE_SHIFT) | PGC_BIT(PGC_PGI_FREE),
				      memory_order_relaxed);
	}
	return c;
}

/*
 * Creates a chunk for the pool if the capacity, the node's limit and its
 * share allow. Returns true if the caller should look at the free list
 * again: a chunk was created, or (without @p always, for an allocator that
 * found the list empty) another thread put frames there while this one
 * waited for grow_lock (it may just have grown the pool by the whole
 * capacity).
 */
static bool pool_grow(struct pgc_cache *cache, unsigned pool_idx, bool always)
{
	struct pgc_frames *fr = &cache->frames;
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	bool grown = false;

	pthread_mutex_lock(&fr->grow_lock);
	pthread_mutex_lock(&pool->lock);
	bool refilled = !always && pool->free_head != PGC_FRAME_NONE;
	pthread_mutex_unlock(&pool->lock);
	if (refilled) {
		pthread_mutex_unlock(&fr->grow_lock);
		return true;
	}
	uint64_t total = atomic_load_explicit(&fr->nr_frames, memory_order_relaxed);
	uint64_t room = fr->capacity - total;
	/* A node may be over its limit after an in-place move the kernel
	 * could not undo (pgc__frames_rehome_undo). */
	uint64_t node_room = pool->nr_frames < pool->limit ? pool->limit - pool->nr_frames : 0;
	if (node_room < room)
		room = node_room;
	if (room > PGC_CHUNK_FRAMES)
		room = PGC_CHUNK_FRAMES;
	/* Not the whole capacity for the first node that asks: each node of a
	 * small cache can still get frames of its own (strict allocations,
	 * migration targets). */
	uint64_t share = (fr->capacity + cache->nr_nodes - 1) / cache->nr_nodes;
	if (room > share)
		room = share;
	uint32_t no = atomic_load_explicit(&fr->nr_chunks, memory_order_relaxed);
	if (room > 0 && no < fr->max_chunks) {
		struct pgc_chunk *c = chunk_create(cache, pool_idx, no, (uint32_t)room);
		if (c) {
			fr->chunks[no] = c;
			atomic_store_explicit(&fr->nr_chunks, no + 1, memory_order_release);
			atomic_store_explicit(&fr->nr_frames, total + room, memory_order_relaxed);
			pthread_mutex_lock(&pool->lock);
			for (uint32_t s = (uint32_t)room; s >= 1; s--) {
				struct pgc_page *p = pgc__chunk_page(c, s);
				p->lru_next = pool->free_head;
				pool->free_head = (no << PGC_CHUNK_SHIFT) | s;
			}
			pool->nr_frames += room;
			pool->nr_free += room;
			pthread_mutex_unlock(&pool->lock);
			grown = true;
		}
	}
	pthread_mutex_unlock(&fr->grow_lock);
	return grown;
}

/* Appends the list first..last (linked through lru_next) to the free list. */
static void pool_splice_free(struct pgc_frame_pool *pool, struct pgc_page *last, uint32_t first,
			     uint64_t nr)
{
	last->lru_next = pool->free_head;
	pool->free_head = first;
	pool->nr_free += nr;
}

/*
 * A batch queued before a fork, whose callback runs in the child (liburcu
 * moves the queued callbacks to the child's new call_rcu worker): the
 * pool's lock may be held by a thread of the parent that does not exist
 * here, and waiting for it would stop the worker and every rcu_barrier()
 * of the child, fresh caches' included. So the lock is only tried; when
 * busy the batch goes round another grace period, and after
 * PGC_FORK_BATCH_RETRIES its frames are given up (that cache's copy is
 * unusable anyway while the lock stays held). Returns true with the lock
 * held, false when the batch was requeued or dropped.
 */
static void pending_batch_done(struct rcu_head *head);

static bool inherited_batch_lock(struct pgc_pending_batch *b, struct pgc_frame_pool *pool)
{
	if (pthread_mutex_trylock(&pool->lock) == 0)
		return true;
	if (++b->fork_retries < PGC_FORK_BATCH_RETRIES) {
		/* In the worker: plain call_rcu() (fork_internal.h). */
		call_rcu(&b->rcu, pending_batch_done);
		return false;
	}
	free(b);
	return false;
}

static void pending_batch_done(struct rcu_head *head)
{
	struct pgc_pending_batch *b = caa_container_of(head, struct pgc_pending_batch, rcu);
	pgc__hb_acquire(b);
	struct pgc_frame_pool *pool = &b->cache->nodes[b->pool_idx].pool;
	struct pgc_page *last = pgc__frames_page(&b->cache->frames, b->tail);
	if (pgc_unlikely(pgc__fork_inherited(b->fork_gen))) {
		if (!inherited_batch_lock(b, pool))
			return;
	} else {
		pthread_mutex_lock(&pool->lock);
	}
	pool_splice_free(pool, last, b->head, b->nr);
	pool->nr_inflight -= b->nr;
	pthread_mutex_unlock(&pool->lock);
	pgc__hb_release(&b->cache->frames); /* for rcu_barrier() callers */
	free(b);
}

/*
 * Takes the pool's pending list as one batch for call_rcu(); pool->lock is
 * held. Returns the batch, to start with pending_batch_start() once the lock
 * is dropped, or NULL if there is nothing pending (or no memory for it).
 */
static struct pgc_pending_batch *pending_batch_take(struct pgc_cache *cache, unsigned pool_idx)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	if (pool->pending_head == PGC_FRAME_NONE)
		return NULL;
	struct pgc_pending_batch *batch = pgc__malloc(sizeof(*batch));
	if (!batch)
		return NULL;
	batch->cache = cache;
	batch->pool_idx = pool_idx;
	batch->head = pool->pending_head;
	/* The pending list remembers its tail in its head. */
	batch->tail = pgc__frames_page(&cache->frames, pool->pending_head)->pending_next;
	batch->nr = pool->nr_pending;
	pool->nr_inflight += batch->nr;
	pool->pending_head = PGC_FRAME_NONE;
	pool->nr_pending = 0;
	return batch;
}

static void pending_batch_start(struct pgc_pending_batch *batch)
{
	if (!batch)
		return;
	batch->fork_gen = pgc__fork_generation();
	batch->fork_retries = 0;
	pgc__hb_release(batch);
	pgc__call_rcu(&batch->rcu, pending_batch_done);
}

static struct pgc_page *pool_pop(struct pgc_cache *cache, struct pgc_frame_pool *pool)
{
	uint32_t id = pool->free_head;
	if (id == PGC_FRAME_NONE)
		return NULL;
	struct pgc_page *p = pgc__frames_page(&cache->frames, id);
	pool->free_head = p->lru_next;
	pool->nr_free--;
	return p;
}

static void page_init(struct pgc_frame_pool *pool, struct pgc_page *p)
{
	uint32_t node_bits = atomic_load_explicit(&p->flags, memory_order_relaxed) &
			     ~PGC_FLAGS_MASK;
	atomic_store_explicit(&p->mapping, NULL, memory_order_relaxed);
	atomic_store_explicit(&p->index, 0, memory_order_relaxed);
	p->private_value = 0;
	atomic_store_explicit(&p->access, 0, memory_order_relaxed);
	p->lru_prev = p->lru_next = PGC_FRAME_NONE;
	p->pending_next = PGC_FRAME_NONE;
	atomic_store_explicit(&p->flags, node_bits, memory_order_relaxed);
	atomic_store_explicit(&p->refcount, 1, memory_order_release);
	atomic_fetch_add_explicit(&pool->nr_inuse, 1, memory_order_relaxed);
}

/*
 * Pops a free frame of the pool (not yet initialised), or NULL. may_sleep
 * allows waiting for frames in a grace period, grow creating a chunk on the
 * node.
 */
static struct pgc_page *pool_take(struct pgc_cache *cache, unsigned pool_idx, bool may_sleep,
				  bool grow)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		struct pgc_page *p = pool_pop(cache, pool);
		if (p) {
			pthread_mutex_unlock(&pool->lock);
			return p;
		}
		if (pool->pending_head != PGC_FRAME_NONE && may_sleep) {
			uint32_t first = pool->pending_head;
			uint64_t nr = pool->nr_pending;
			pool->pending_head = PGC_FRAME_NONE;
			pool->nr_pending = 0;
			pool->nr_taken += nr;
			pthread_mutex_unlock(&pool->lock);
			struct pgc_page *last = pgc__frames_page(
				&cache->frames, pgc__frames_page(&cache->frames, first)->pending_next);
			/* No reader that saw these frames in an index may remain. */
			synchronize_rcu();
			pthread_mutex_lock(&pool->lock);
			pool_splice_free(pool, last, first, nr);
			pool->nr_taken -= nr;
			pthread_mutex_unlock(&pool->lock);
			continue;
		}
		bool inflight = pool->nr_inflight > 0;
		/* Another allocator took the pending frames and waits out
		 * their grace period: they will be free after one. */
		bool taken = pool->nr_taken > 0;
		pthread_mutex_unlock(&pool->lock);
		if (grow && pool_grow(cache, pool_idx, false))
			continue;
		if (taken && may_sleep) {
			synchronize_rcu();
			continue;
		}
		if (!inflight || !may_sleep)
			return NULL;
		/*
		 * Frames freed earlier are still waiting out a grace period in
		 * call_rcu(): wait for them rather than evict live pages.
		 */
		rcu_barrier();
		pgc__hb_acquire(&cache->frames);
	}
}

struct pgc_page *pgc__frames_get(struct pgc_cache *cache, unsigned pool_idx, bool may_sleep)
{
	if (pgc__fault_alloc()) /* a test's injected failure: no frame */
		return NULL;
	struct pgc_page *p = pool_take(cache, pool_idx, may_sleep, true);
	if (p)
		page_init(&cache->nodes[pool_idx].pool, p);
	return p;
}

/* Whether the capacity and the node's limit leave room for another chunk
 * (so that a grow that failed failed for memory). */
static bool pool_may_grow(struct pgc_cache *cache, unsigned pool_idx)
{
	struct pgc_frames *fr = &cache->frames;
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	pthread_mutex_lock(&fr->grow_lock);
	pthread_mutex_lock(&pool->lock);
	bool room = atomic_load_explicit(&fr->nr_frames, memory_order_relaxed) < fr->capacity &&
		    pool->nr_frames < pool->limit &&
		    atomic_load_explicit(&fr->nr_chunks, memory_order_relaxed) < fr->max_chunks;
	pthread_mutex_unlock(&pool->lock);
	pthread_mutex_unlock(&fr->grow_lock);
	return room;
}

int pgc__frames_reserve(struct pgc_cache *cache, unsigned pool_idx, uint64_t want)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		uint64_t nr_free = pool->nr_free;
		bool waiting = pool->pending_head != PGC_FRAME_NONE || pool->nr_inflight ||
			       pool->nr_taken;
		pthread_mutex_unlock(&pool->lock);
		if (nr_free >= want)
			return 0;
		if (pool_grow(cache, pool_idx, true))
			continue;
		if (!waiting)
			return pool_may_grow(cache, pool_idx) ? -ENOMEM : -ENOSPC;
		/* Freed frames wait out a grace period: bring them back first
		 * (the pending list, then the batches in call_rcu()). */
		pgc__frames_recycle_start(cache, pool_idx);
		rcu_barrier();
		pgc__hb_acquire(&cache->frames);
		pthread_mutex_lock(&pool->lock);
		bool still = pool->pending_head != PGC_FRAME_NONE || pool->nr_inflight;
		bool gained = pool->nr_free > nr_free;
		pthread_mutex_unlock(&pool->lock);
		if (!gained && !still)
			return pool_may_grow(cache, pool_idx) ? -ENOMEM : -ENOSPC;
	}
}

bool pgc__frames_recycling(struct pgc_cache *cache, unsigned pool_idx)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	pthread_mutex_lock(&pool->lock);
	bool r = pool->nr_pending + pool->nr_inflight + pool->nr_taken > 0;
	pthread_mutex_unlock(&pool->lock);
	return r;
}

void pgc__frames_recycle_start(struct pgc_cache *cache, unsigned pool_idx)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	pthread_mutex_lock(&pool->lock);
	struct pgc_pending_batch *batch = pending_batch_take(cache, pool_idx);
	pthread_mutex_unlock(&pool->lock);
	pending_batch_start(batch);
}

/* The pool a frame returns to (that of the node its memory is on). */
static unsigned pool_of(struct pgc_cache *cache, struct pgc_page *p)
{
	return (unsigned)cache->node_index[pgc__page_node_of(p)];
}

/* Marks a frame free and counts it out of use; no lock. */
static void frame_mark_free(struct pgc_frame_pool *pool, struct pgc_page *p)
{
	pgc_assert(atomic_load_explicit(&p->refcount, memory_order_relaxed) == 0);
	pgc_assert(atomic_load_explicit(&p->mapping, memory_order_relaxed) == NULL);
	uint32_t node_bits = atomic_load_explicit(&p->flags, memory_order_relaxed) &
			     ~PGC_FLAGS_MASK;
	atomic_store_explicit(&p->flags, node_bits | PGC_BIT(PGC_PGI_FREE), memory_order_release);
	atomic_fetch_sub_explicit(&pool->nr_inuse, 1, memory_order_relaxed);
}

/* Pushes a free frame on the pool's pending list; pool->lock held. */
static void pending_push(struct pgc_cache *cache, struct pgc_frame_pool *pool, struct pgc_page *p)
{
	uint32_t id = pgc__page_id(p);
	if (pool->pending_head == PGC_FRAME_NONE)
		p->pending_next = id; /* the pending list remembers its tail in its head */
	else
		p->pending_next = pgc__frames_page(&cache->frames, pool->pending_head)->pending_next;
	p->lru_next = pool->pending_head;
	pool->pending_head = id;
	pool->nr_pending++;
}

void pgc__frames_put(struct pgc_cache *cache, struct pgc_page *p)
{
	pgc__frames_put_batch(cache, &p, 1);
}

void pgc__frames_put_batch(struct pgc_cache *cache, struct pgc_page **pages, unsigned n)
{
	for (unsigned i = 0; i < n;) {
		/* A run of frames of one pool: one hold of its lock, and one
		 * call_rcu() for all that is pending once the run is in. */
		unsigned pool_idx = pool_of(cache, pages[i]);
		struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
		unsigned end = i + 1;
		while (end < n && pool_of(cache, pages[end]) == pool_idx)
			end++;
		for (unsigned k = i; k < end; k++)
			frame_mark_free(pool, pages[k]);
		struct pgc_pending_batch *batch = NULL;
		pthread_mutex_lock(&pool->lock);
		for (unsigned k = i; k < end; k++)
			pending_push(cache, pool, pages[k]);
		if (pool->nr_pending >= PGC_PENDING_BATCH)
			batch = pending_batch_take(cache, pool_idx);
		pthread_mutex_unlock(&pool->lock);
		pending_batch_start(batch);
		i = end;
	}
}

bool pgc__frames_owns(const struct pgc_frames *fr, const void *ptr)
{
	uintptr_t a = (uintptr_t)ptr;
	if (a % PGC_DESC_SIZE)
		return false;
	const struct pgc_chunk *c = (const struct pgc_chunk *)(a & ~(uintptr_t)(PGC_DESC_BLOCK - 1));
	uint32_t slot = (uint32_t)((a & (PGC_DESC_BLOCK - 1)) / PGC_DESC_SIZE);
	uint32_t n = atomic_load_explicit(&fr->nr_chunks, memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		if (fr->chunks[i] == c)
			return slot >= 1 && slot <= c->nr_frames;
	return false;
}

/* Locks two different pools in index order (the order every caller uses). */
static void lock_two(struct pgc_cache *cache, unsigned a, unsigned b)
{
	pthread_mutex_lock(&cache->nodes[a < b ? a : b].pool.lock);
	pthread_mutex_lock(&cache->nodes[a < b ? b : a].pool.lock);
}

static void unlock_two(struct pgc_cache *cache, unsigned a, unsigned b)
{
	pthread_mutex_unlock(&cache->nodes[a < b ? b : a].pool.lock);
	pthread_mutex_unlock(&cache->nodes[a < b ? a : b].pool.lock);
}

/* Sets a frame's node bits, keeping its flags. */
static void set_node(struct pgc_page *p, int node)
{
	uint32_t f = atomic_load_explicit(&p->flags, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(
		&p->flags, &f, (f & PGC_FLAGS_MASK) | ((uint32_t)node << PGC_NODE_SHIFT),
		memory_order_acq_rel, memory_order_relaxed))
		;
}

/* Asks the kernel to move the memory of a frame to node; 0 if all of it is there. */
static int move_frame_memory(struct pgc_cache *cache, struct pgc_page *p, int node)
{
	size_t os = (size_t)sysconf(_SC_PAGESIZE), per = cache->frames.page_size / os;
	void *addrs[PGC_MAX_PAGE_SIZE / 4096];
	int nodes[PGC_MAX_PAGE_SIZE / 4096], st[PGC_MAX_PAGE_SIZE / 4096];
	if (per == 0 || per > sizeof(addrs) / sizeof(addrs[0]))
		return -EINVAL;
	for (size_t j = 0; j < per; j++) {
		addrs[j] = (char *)pgc__page_data(p) + j * os;
		nodes[j] = node;
		st[j] = -1;
	}
	int err = pgc__numa_move_pages(addrs, per, nodes, st, false);
	if (err < 0)
		return err;
	for (size_t j = 0; j < per; j++)
		if (st[j] != node)
			return st[j] < 0 ? st[j] : -EBUSY;
	return 0;
}

/*
 * Gives a free frame of pool from_idx to pool to_idx: the kernel moves its
 * memory to to_idx's node, and its node bits and both pools' frame counts
 * follow. Returns 0 and the frame in *pagep, off every list, still free and
 * counted in to_idx's nr_taken until the caller settles it (settle_free or
 * settle_inuse); -ENOMEM if to_idx is at its limit, from_idx has no free
 * frame, the kernel did not move the memory or the cache has huge pages (the
 * kernel would move all of a 2 MiB page); -EAGAIN if from_idx's frames wait
 * for a grace period and may_sleep is false.
 */
static int frame_transfer(struct pgc_cache *cache, unsigned from_idx, unsigned to_idx,
			  bool may_sleep, struct pgc_page **pagep)
{
	struct pgc_frame_pool *from = &cache->nodes[from_idx].pool, *to = &cache->nodes[to_idx].pool;
	if (cache->huge_pages || from_idx == to_idx)
		return -ENOMEM;
	/* A look first, so that a full node does not make anyone wait. */
	pthread_mutex_lock(&to->lock);
	bool full = to->nr_frames >= to->limit;
	pthread_mutex_unlock(&to->lock);
	if (full)
		return -ENOMEM;
	struct pgc_page *p = pool_take(cache, from_idx, may_sleep, false);
	if (!p && !may_sleep && pgc__frames_recycling(cache, from_idx)) {
		pgc__frames_recycle_start(cache, from_idx);
		return -EAGAIN;
	}
	if (!p)
		return -ENOMEM;
	lock_two(cache, from_idx, to_idx);
	full = to->nr_frames >= to->limit;
	if (!full) {
		from->nr_frames--;
		to->nr_frames++;
		to->nr_taken++;
	} else {
		pool_splice_free(from, p, pgc__page_id(p), 1);
	}
	unlock_two(cache, from_idx, to_idx);
	if (full)
		return -ENOMEM;
	int err = move_frame_memory(cache, p, cache->nodes[to_idx].id);
	if (!err) {
		set_node(p, cache->nodes[to_idx].id);
	} else {
		/* The memory stayed (or partly stayed): so does the frame. */
		lock_two(cache, from_idx, to_idx);
		to->nr_taken--;
		to->nr_frames--;
		from->nr_frames++;
		pool_splice_free(from, p, pgc__page_id(p), 1);
		unlock_two(cache, from_idx, to_idx);
		pgc__log(cache, PGC_LOG_INFO, "a free frame of node %d could not move to node %d: %s",
			 cache->nodes[from_idx].id, cache->nodes[to_idx].id, strerror(-err));
		return -ENOMEM;
	}
	*pagep = p;
	return 0;
}

/* Puts a frame given by frame_transfer() on its new pool's free list. */
static void settle_free(struct pgc_cache *cache, unsigned pool_idx, struct pgc_page *p)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	pthread_mutex_lock(&pool->lock);
	pool->nr_taken--;
	pool_splice_free(pool, p, pgc__page_id(p), 1);
	pthread_mutex_unlock(&pool->lock);
}

/* Hands out a frame given by frame_transfer() (as pgc__frames_get does). */
static void settle_inuse(struct pgc_cache *cache, unsigned pool_idx, struct pgc_page *p)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	pthread_mutex_lock(&pool->lock);
	pool->nr_taken--;
	pthread_mutex_unlock(&pool->lock);
	page_init(pool, p);
}

int pgc__frames_get_moved(struct pgc_cache *cache, unsigned pool_idx, bool may_sleep,
			  struct pgc_page **pagep)
{
	if (pgc__fault_alloc())
		return -ENOMEM;
	int ret = -ENOMEM;
	const unsigned *order = &cache->fallback[pool_idx * cache->nr_nodes];
	/* The nearest nodes first: their frames' memory is the cheapest to move. */
	for (unsigned i = 0; i < cache->nr_nodes; i++) {
		if (order[i] == pool_idx)
			continue;
		struct pgc_page *p;
		int err = frame_transfer(cache, order[i], pool_idx, may_sleep, &p);
		if (err == 0) {
			settle_inuse(cache, pool_idx, p);
			*pagep = p;
			return 0;
		}
		if (err == -EAGAIN)
			ret = -EAGAIN;
	}
	return ret;
}

/* Moves an in-use frame's record to pool to_idx; the caller checked its limit. */
static void rehome_locked(struct pgc_cache *cache, struct pgc_page *p, unsigned from_idx,
			  unsigned to_idx)
{
	struct pgc_frame_pool *from = &cache->nodes[from_idx].pool, *to = &cache->nodes[to_idx].pool;
	from->nr_frames--;
	to->nr_frames++;
	atomic_fetch_sub_explicit(&from->nr_inuse, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&to->nr_inuse, 1, memory_order_relaxed);
	set_node(p, cache->nodes[to_idx].id);
}

/* Most times a full node makes room for a page that others then take. */
#define REHOME_TRIES 4

int pgc__frames_rehome(struct pgc_cache *cache, struct pgc_page *p, unsigned to_idx, bool may_sleep)
{
	unsigned from_idx = (unsigned)cache->node_index[pgc__page_node_of(p)];
	if (from_idx == to_idx)
		return 0;
	struct pgc_frame_pool *to = &cache->nodes[to_idx].pool;
	for (unsigned t = 0; t < REHOME_TRIES; t++) {
		lock_two(cache, from_idx, to_idx);
		bool room = to->nr_frames < to->limit;
		if (room)
			rehome_locked(cache, p, from_idx, to_idx);
		unlock_two(cache, from_idx, to_idx);
		if (room)
			return 0;
		/*
		 * The limit counts frames, free ones too. A node at its limit
		 * with free frames has room for pages all the same: one of its
		 * free frames goes to the page's old node (the kernel moves its
		 * memory there), and the page's frame takes its place.
		 */
		struct pgc_page *g;
		int err = frame_transfer(cache, to_idx, from_idx, may_sleep, &g);
		if (err)
			return err;
		settle_free(cache, from_idx, g);
	}
	return -ENOMEM;
}

void pgc__frames_rehome_undo(struct pgc_cache *cache, struct pgc_page *p, unsigned to_idx)
{
	if (pgc__frames_rehome(cache, p, to_idx, true) == 0)
		return;
	/* The memory is there whatever the limit says: the record tells the truth. */
	unsigned from_idx = (unsigned)cache->node_index[pgc__page_node_of(p)];
	lock_two(cache, from_idx, to_idx);
	rehome_locked(cache, p, from_idx, to_idx);
	unlock_two(cache, from_idx, to_idx);
	pgc__log(cache, PGC_LOG_WARN, "node %d is over its limit: a page's memory stayed there",
		 cache->nodes[to_idx].id);
}
