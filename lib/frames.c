/*
 * Page frames and their descriptors: the lowest layer above the NUMA door.
 *
 * A chunk is PGC_CHUNK_FRAMES frames of page size, mapped anonymously and
 * bound to one node before anything touches it, plus a 32 KiB descriptor
 * block bound to the same node (its slot 0 is the chunk header). Chunks are
 * created lazily up to the capacity and the node's limit and live as long as
 * the cache, so descriptors are type stable.
 *
 * A freed frame goes straight back to its node's free list, and the next
 * allocation may reuse it while a reader that found it through an index is
 * still looking at it. That is safe the way the kernel's page cache makes
 * it safe (descriptors are type stable, as with SLAB_TYPESAFE_BY_RCU): a
 * lookup takes a reference only if the count is not 0 and then checks the
 * page's mapping and index and that the index slot still names the frame
 * (mapping.c, get_if_at), and the hit path that takes
 * no reference (rw.c's optimistic read) checks the page's data sequence
 * after its copy, which moves on when a page leaves an index and when one
 * enters it, so a copy from a frame that was reused meanwhile is thrown
 * away. An earlier design made freed frames wait out an RCU grace period;
 * an allocator on a full cache then waited for one, which liburcu's
 * synchronize_rcu() makes up to 10 ms whenever a reader is inside a
 * critical section: a cold scan spent most of its time there, and 32
 * threads of blockd waited in it at once (p99 latency 0.4-0.9 s).
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

#define PGC_HUGE_SIZE ((size_t)2 << 20)

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

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
	p->free_head = PGC_FRAME_NONE;
	p->free_tail = NULL;
	p->nr_free = p->nr_taken = p->nr_frames = 0;
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

/* Appends the list first..last (linked through lru_next, last's link
 * PGC_FRAME_NONE) to the free queue. */
static void pool_splice_free(struct pgc_frame_pool *pool, struct pgc_page *last, uint32_t first,
			     uint64_t nr)
{
	last->lru_next = PGC_FRAME_NONE;
	if (pool->free_head == PGC_FRAME_NONE)
		pool->free_head = first;
	else
		pool->free_tail->lru_next = first;
	pool->free_tail = last;
	pool->nr_free += nr;
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
			for (uint32_t s = 1; s <= (uint32_t)room; s++)
				pgc__chunk_page(c, s)->lru_next =
					s < room ? (no << PGC_CHUNK_SHIFT) | (s + 1) : PGC_FRAME_NONE;
			pthread_mutex_lock(&pool->lock);
			pool_splice_free(pool, pgc__chunk_page(c, (uint32_t)room),
					 (no << PGC_CHUNK_SHIFT) | 1, room);
			pool->nr_frames += room;
			pthread_mutex_unlock(&pool->lock);
			grown = true;
		}
	}
	pthread_mutex_unlock(&fr->grow_lock);
	return grown;
}

static struct pgc_page *pool_pop(struct pgc_cache *cache, struct pgc_frame_pool *pool)
{
	uint32_t id = pool->free_head;
	if (id == PGC_FRAME_NONE)
		return NULL;
	struct pgc_page *p = pgc__frames_page(&cache->frames, id);
	pool->free_head = p->lru_next;
	if (pool->free_head == PGC_FRAME_NONE)
		pool->free_tail = NULL;
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
	atomic_store_explicit(&p->flags, node_bits, memory_order_relaxed);
	atomic_store_explicit(&p->refcount, 1, memory_order_release);
	atomic_fetch_add_explicit(&pool->nr_inuse, 1, memory_order_relaxed);
}

/*
 * Pops a free frame of the pool (not yet initialised), or NULL; grow allows
 * creating a chunk on the node.
 */
static struct pgc_page *pool_take(struct pgc_cache *cache, unsigned pool_idx, bool grow)
{
	struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		struct pgc_page *p = pool_pop(cache, pool);
		pthread_mutex_unlock(&pool->lock);
		if (p || !grow || !pool_grow(cache, pool_idx, false))
			return p;
	}
}

struct pgc_page *pgc__frames_get(struct pgc_cache *cache, unsigned pool_idx)
{
	if (pgc__fault_alloc()) /* a test's injected failure: no frame */
		return NULL;
	struct pgc_page *p = pool_take(cache, pool_idx, true);
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
		pthread_mutex_unlock(&pool->lock);
		if (nr_free >= want)
			return 0;
		if (!pool_grow(cache, pool_idx, true))
			return pool_may_grow(cache, pool_idx) ? -ENOMEM : -ENOSPC;
	}
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

void pgc__frames_put(struct pgc_cache *cache, struct pgc_page *p)
{
	pgc__frames_put_batch(cache, &p, 1);
}

static __thread struct pgc_frame_capture *capture_cur;

void pgc__frames_capture_begin(struct pgc_frame_capture *cc, struct pgc_cache *cache,
			       const unsigned *order, unsigned nr_order)
{
	cc->cache = cache;
	cc->order = order;
	cc->nr_order = nr_order;
	cc->page = NULL;
	cc->outer = capture_cur;
	capture_cur = cc;
}

struct pgc_page *pgc__frames_capture_end(struct pgc_frame_capture *cc)
{
	pgc_assert(capture_cur == cc);
	capture_cur = cc->outer;
	struct pgc_page *p = cc->page;
	if (p)
		page_init(&cc->cache->nodes[pool_of(cc->cache, p)].pool, p);
	return p;
}

/* Whether this thread's capture wants a frame of pool pool_idx of cache. */
static bool capture_wants(struct pgc_frame_capture *cc, struct pgc_cache *cache, unsigned pool_idx)
{
	if (!cc || cc->cache != cache || cc->page)
		return false;
	for (unsigned i = 0; i < cc->nr_order; i++)
		if (cc->order[i] == pool_idx)
			return true;
	return false;
}

static void put_runs(struct pgc_cache *cache, struct pgc_page **pages, unsigned n);

void pgc__frames_put_batch(struct pgc_cache *cache, struct pgc_page **pages, unsigned n)
{
	struct pgc_frame_capture *cc = capture_cur;
	if (pgc_unlikely(cc != NULL)) {
		for (unsigned k = 0; k < n; k++) {
			unsigned pool_idx = pool_of(cache, pages[k]);
			if (capture_wants(cc, cache, pool_idx)) {
				/* Counted free, kept off the list for the capture
				 * (pgc__frames_capture_end counts it in use again). */
				frame_mark_free(&cache->nodes[pool_idx].pool, pages[k]);
				cc->page = pages[k];
				put_runs(cache, pages, k);
				put_runs(cache, pages + k + 1, n - k - 1);
				return;
			}
		}
	}
	put_runs(cache, pages, n);
}

static void put_runs(struct pgc_cache *cache, struct pgc_page **pages, unsigned n)
{
	for (unsigned i = 0; i < n;) {
		/* A run of frames of one pool: one hold of its lock. */
		unsigned pool_idx = pool_of(cache, pages[i]);
		struct pgc_frame_pool *pool = &cache->nodes[pool_idx].pool;
		unsigned end = i + 1;
		while (end < n && pool_of(cache, pages[end]) == pool_idx)
			end++;
		for (unsigned k = i; k < end; k++) {
			frame_mark_free(pool, pages[k]);
			pages[k]->lru_next = k + 1 < end ? pgc__page_id(pages[k + 1]) : PGC_FRAME_NONE;
		}
		pthread_mutex_lock(&pool->lock);
		pool_splice_free(pool, pages[end - 1], pgc__page_id(pages[i]), end - i);
		pthread_mutex_unlock(&pool->lock);
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
 * kernel would move all of a 2 MiB page).
 */
static int frame_transfer(struct pgc_cache *cache, unsigned from_idx, unsigned to_idx,
			  struct pgc_page **pagep)
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
	struct pgc_page *p = pool_take(cache, from_idx, false);
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

int pgc__frames_get_moved(struct pgc_cache *cache, unsigned pool_idx, struct pgc_page **pagep)
{
	if (pgc__fault_alloc())
		return -ENOMEM;
	const unsigned *order = &cache->fallback[pool_idx * cache->nr_nodes];
	/* The nearest nodes first: their frames' memory is the cheapest to move. */
	for (unsigned i = 0; i < cache->nr_nodes; i++) {
		if (order[i] == pool_idx)
			continue;
		struct pgc_page *p;
		if (frame_transfer(cache, order[i], pool_idx, &p) == 0) {
			settle_inuse(cache, pool_idx, p);
			*pagep = p;
			return 0;
		}
	}
	return -ENOMEM;
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

int pgc__frames_rehome(struct pgc_cache *cache, struct pgc_page *p, unsigned to_idx)
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
		int err = frame_transfer(cache, to_idx, from_idx, &g);
		if (err)
			return err;
		settle_free(cache, from_idx, g);
	}
	return -ENOMEM;
}

void pgc__frames_rehome_undo(struct pgc_cache *cache, struct pgc_page *p, unsigned to_idx)
{
	if (pgc__frames_rehome(cache, p, to_idx) == 0)
		return;
	/* The memory is there whatever the limit says: the record tells the truth. */
	unsigned from_idx = (unsigned)cache->node_index[pgc__page_node_of(p)];
	lock_two(cache, from_idx, to_idx);
	rehome_locked(cache, p, from_idx, to_idx);
	unlock_two(cache, from_idx, to_idx);
	pgc__log(cache, PGC_LOG_WARN, "node %d is over its limit: a page's memory stayed there",
		 cache->nodes[to_idx].id);
}
