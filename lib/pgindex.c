/*
 * The page index (pgindex_internal.h): a radix tree of 64-slot nodes with
 * RCU readers and one writer at a time. It sits at the bottom of the
 * mapping layer and knows nothing of pages: it maps numbers to frame ids.
 *
 * Every node has a shift: the slot of index i in a node of shift s is
 * (i >> s) & 63, and a node of shift 0 is a leaf holding ids. The root of
 * shift s covers the indexes below 2^(s + 6); an insert beyond that puts
 * new roots above it (the old root becomes slot 0 of the new one), and
 * when everything but slot 0 of the root empties, slot 0 becomes the root
 * again. A node is linked into the tree only once it is initialised
 * (release stores), and unlinked nodes are freed after a grace period.
 */
#include <errno.h>
#include <stdlib.h>

#include <urcu-bp.h>

#include "alloc_internal.h"
#include "assert_internal.h"
#include "desc_internal.h"
#include "fork_internal.h"
#include "pgindex_internal.h"
#include "tsan_internal.h"

#define MAX_SHIFT 60u                      /* 60 + 6 >= 64: covers every index */
#define MAX_DEPTH (MAX_SHIFT / PGC_PGX_BITS + 1) /* 11 levels */
#define SLOT_MASK (PGC_PGX_SLOTS - 1u)

struct pgc_pgx_node {
	struct rcu_head rcu;
	uint8_t shift; /* 0: a leaf; written before the node is published */
	uint8_t count; /* slots in use, 0-64 (writers only) */
	/*
	 * Per tag, one bit per slot: in a leaf, the id there carries the tag;
	 * in an inner node, some id below that child does. Writers set a
	 * leaf's bit before its ancestors' and clear the ancestors' only once
	 * no bit of the level below is left, so a reader that finds an inner
	 * bit set and follows it may find the tag gone (a stale view) but
	 * never misses an id that was tagged before its walk began.
	 */
	_Atomic uint64_t tags[PGC_PGX_NR_TAGS];
};

struct inner {
	struct pgc_pgx_node h;
	struct pgc_pgx_node *_Atomic child[PGC_PGX_SLOTS];
};

struct leaf {
	struct pgc_pgx_node h;
	_Atomic uint32_t id[PGC_PGX_SLOTS];
};

static inline struct inner *inner_of(const struct pgc_pgx_node *n)
{
	return (struct inner *)n;
}

static inline struct leaf *leaf_of(const struct pgc_pgx_node *n)
{
	return (struct leaf *)n;
}

static inline bool covers(unsigned shift, uint64_t index)
{
	return shift + PGC_PGX_BITS >= 64 || (index >> (shift + PGC_PGX_BITS)) == 0;
}

static inline unsigned slot_of(unsigned shift, uint64_t index)
{
	return (unsigned)(index >> shift) & SLOT_MASK;
}

static inline struct pgc_pgx_node *load_node(struct pgc_pgx_node *_Atomic const *p)
{
	return atomic_load_explicit(p, memory_order_acquire);
}

static size_t node_size(unsigned shift)
{
	return shift ? sizeof(struct inner) : sizeof(struct leaf);
}

static struct pgc_pgx_node *node_new(struct pgc_pgx *x, unsigned shift)
{
	struct pgc_pgx_node *n = pgc__calloc(1, node_size(shift));
	if (!n)
		return NULL;
	n->shift = (uint8_t)shift;
	x->bytes += node_size(shift);
	return n;
}

#ifdef PGC_TSAN
char pgc__rcu_hb; /* tsan_internal.h */
#endif

static void node_free_cb(struct rcu_head *head)
{
	struct pgc_pgx_node *n = caa_container_of(head, struct pgc_pgx_node, rcu);
	pgc__hb_acquire(n); /* the writer's last stores come before the free */
	pgc__hb_rcu_freed(); /* and so do the readers' loads */
	free(n);
}

/* An unlinked node: freed once the readers that may hold it are gone. */
static void node_retire(struct pgc_pgx *x, struct pgc_pgx_node *n)
{
	x->bytes -= node_size(n->shift);
	pgc__hb_release(n);
	pgc__call_rcu(&n->rcu, node_free_cb);
}

void pgc__pgx_init(struct pgc_pgx *x)
{
	atomic_init(&x->root, NULL);
	x->nr = 0;
	x->bytes = 0;
}

static void free_subtree(struct pgc_pgx_node *n)
{
	if (n->shift)
		for (unsigned i = 0; i < PGC_PGX_SLOTS; i++) {
			struct pgc_pgx_node *c =
				atomic_load_explicit(&inner_of(n)->child[i], memory_order_relaxed);
			if (c)
				free_subtree(c);
		}
	free(n);
}

void pgc__pgx_destroy(struct pgc_pgx *x)
{
	struct pgc_pgx_node *r = atomic_load_explicit(&x->root, memory_order_relaxed);
	if (r)
		free_subtree(r);
	pgc__pgx_init(x);
}

uint32_t pgc__pgx_load(const struct pgc_pgx *x, uint64_t index)
{
	const struct pgc_pgx_node *n = load_node(&x->root);
	if (!n || !covers(n->shift, index))
		return PGC_FRAME_NONE;
	while (n->shift) {
		n = load_node(&inner_of(n)->child[slot_of(n->shift, index)]);
		if (!n)
			return PGC_FRAME_NONE;
	}
	return atomic_load_explicit(&leaf_of(n)->id[index & SLOT_MASK], memory_order_acquire);
}

/* The slots of n that may hold what a walk for tag (or any id, tag < 0) wants. */
static inline uint64_t wanted(const struct pgc_pgx_node *n, int tag)
{
	if (tag < 0)
		return ~0ull;
	return atomic_load_explicit(&n->tags[tag], memory_order_acquire);
}

/* next() within node n, whose first index is base, from index from. */
static uint32_t next_in(const struct pgc_pgx_node *n, uint64_t base, uint64_t from, uint64_t end,
			int tag, uint64_t *found)
{
	unsigned s = n->shift;
	unsigned first = from > base ? (unsigned)((from - base) >> s) : 0;
	if (first >= PGC_PGX_SLOTS)
		return PGC_FRAME_NONE;
	uint64_t mask = wanted(n, tag) & (~0ull << first);
	if (s == MAX_SHIFT)
		mask &= (1ull << (1u << (64 - MAX_SHIFT))) - 1; /* 16 slots: past them no index */
	while (mask) {
		unsigned i = (unsigned)__builtin_ctzll(mask);
		mask &= mask - 1;
		uint64_t slot_base = base + ((uint64_t)i << s);
		if (slot_base > end)
			break;
		if (s == 0) {
			uint32_t id = atomic_load_explicit(&leaf_of(n)->id[i], memory_order_acquire);
			if (id != PGC_FRAME_NONE) {
				*found = slot_base;
				return id;
			}
			continue;
		}
		const struct pgc_pgx_node *c = load_node(&inner_of(n)->child[i]);
		if (!c)
			continue;
		uint32_t id =
			next_in(c, slot_base, from > slot_base ? from : slot_base, end, tag, found);
		if (id != PGC_FRAME_NONE)
			return id;
	}
	return PGC_FRAME_NONE;
}

uint32_t pgc__pgx_next_tagged(const struct pgc_pgx *x, uint64_t *index, uint64_t end, int tag)
{
	const struct pgc_pgx_node *r = load_node(&x->root);
	if (!r || *index > end || !covers(r->shift, *index))
		return PGC_FRAME_NONE;
	uint64_t found;
	uint32_t id = next_in(r, 0, *index, end, tag, &found);
	if (id != PGC_FRAME_NONE)
		*index = found;
	return id;
}

uint32_t pgc__pgx_next(const struct pgc_pgx *x, uint64_t *index, uint64_t end)
{
	return pgc__pgx_next_tagged(x, index, end, -1);
}

bool pgc__pgx_tagged(const struct pgc_pgx *x, uint64_t index, int tag)
{
	const struct pgc_pgx_node *n = load_node(&x->root);
	if (!n || !covers(n->shift, index))
		return false;
	for (;;) {
		unsigned i = slot_of(n->shift, index);
		if (!(atomic_load_explicit(&n->tags[tag], memory_order_acquire) & (1ull << i)))
			return false;
		if (n->shift == 0)
			return true;
		n = load_node(&inner_of(n)->child[i]);
		if (!n)
			return false;
	}
}

bool pgc__pgx_any_tagged(const struct pgc_pgx *x, int tag)
{
	const struct pgc_pgx_node *r = load_node(&x->root);
	return r && atomic_load_explicit(&r->tags[tag], memory_order_acquire) != 0;
}

/* The nodes on the path to index, root first: returns how many exist. */
static unsigned walk_path(struct pgc_pgx *x, uint64_t index, struct pgc_pgx_node **path)
{
	struct pgc_pgx_node *n = atomic_load_explicit(&x->root, memory_order_relaxed);
	if (!n || !covers(n->shift, index))
		return 0;
	unsigned d = 0;
	for (;;) {
		path[d++] = n;
		if (n->shift == 0)
			return d;
		n = atomic_load_explicit(&inner_of(n)->child[slot_of(n->shift, index)],
					 memory_order_relaxed);
		if (!n)
			return d;
	}
}

/* While only slot 0 of the root is used, slot 0 becomes the root. */
static void shrink(struct pgc_pgx *x)
{
	for (;;) {
		struct pgc_pgx_node *r = atomic_load_explicit(&x->root, memory_order_relaxed);
		if (!r || r->shift == 0 || r->count != 1)
			return;
		struct pgc_pgx_node *c =
			atomic_load_explicit(&inner_of(r)->child[0], memory_order_relaxed);
		if (!c)
			return;
		/* Readers that hold the old root still find the same tree under it. */
		atomic_store_explicit(&x->root, c, memory_order_release);
		node_retire(x, r);
	}
}

/* Unlinks the empty nodes on the path to index, bottom up, then shrinks. */
static void prune(struct pgc_pgx *x, uint64_t index)
{
	struct pgc_pgx_node *path[MAX_DEPTH];
	unsigned d = walk_path(x, index, path);
	while (d > 0 && path[d - 1]->count == 0) {
		struct pgc_pgx_node *n = path[--d];
		if (d == 0) {
			atomic_store_explicit(&x->root, NULL, memory_order_release);
		} else {
			struct pgc_pgx_node *p = path[d - 1];
			atomic_store_explicit(&inner_of(p)->child[slot_of(p->shift, index)], NULL,
					      memory_order_release);
			p->count--;
		}
		node_retire(x, n);
	}
	shrink(x);
}

/* The smallest shift (a multiple of 6) of a root that covers index. */
static unsigned root_shift_for(uint64_t index)
{
	unsigned s = 0;
	while (!covers(s, index))
		s += PGC_PGX_BITS;
	return s;
}

int pgc__pgx_insert(struct pgc_pgx *x, uint64_t index, uint32_t id)
{
	pgc_assert(id != PGC_FRAME_NONE);
	struct pgc_pgx_node *r = atomic_load_explicit(&x->root, memory_order_relaxed);
	if (!r) {
		r = node_new(x, root_shift_for(index));
		if (!r)
			return -ENOMEM;
		atomic_store_explicit(&x->root, r, memory_order_release);
	}
	while (!covers(r->shift, index)) {
		struct pgc_pgx_node *top = node_new(x, r->shift + PGC_PGX_BITS);
		if (!top) {
			prune(x, index);
			return -ENOMEM;
		}
		atomic_init(&inner_of(top)->child[0], r);
		top->count = 1;
		for (unsigned t = 0; t < PGC_PGX_NR_TAGS; t++)
			if (atomic_load_explicit(&r->tags[t], memory_order_relaxed))
				atomic_init(&top->tags[t], 1ull);
		atomic_store_explicit(&x->root, top, memory_order_release);
		r = top;
	}
	struct pgc_pgx_node *n = r;
	while (n->shift) {
		struct pgc_pgx_node *_Atomic *slot = &inner_of(n)->child[slot_of(n->shift, index)];
		struct pgc_pgx_node *c = atomic_load_explicit(slot, memory_order_relaxed);
		if (!c) {
			c = node_new(x, n->shift - PGC_PGX_BITS);
			if (!c) {
				prune(x, index);
				return -ENOMEM;
			}
			atomic_store_explicit(slot, c, memory_order_release);
			n->count++;
		}
		n = c;
	}
	_Atomic uint32_t *slot = &leaf_of(n)->id[index & SLOT_MASK];
	if (atomic_load_explicit(slot, memory_order_relaxed) != PGC_FRAME_NONE)
		return -EEXIST; /* the path existed: nothing was added */
	atomic_store_explicit(slot, id, memory_order_release);
	n->count++;
	x->nr++;
	return 0;
}

/* The leaf slot of index, or NULL (path as walk_path; *depth its length). */
static _Atomic uint32_t *leaf_slot(struct pgc_pgx *x, uint64_t index, struct pgc_pgx_node **path,
				   unsigned *depth)
{
	unsigned d = walk_path(x, index, path);
	*depth = d;
	if (d == 0 || path[d - 1]->shift != 0)
		return NULL;
	return &leaf_of(path[d - 1])->id[index & SLOT_MASK];
}

/* Clears tag at index on a full path (root to leaf), bottom up, as far as it empties. */
static void clear_tag_path(struct pgc_pgx_node **path, unsigned d, uint64_t index, int tag)
{
	while (d > 0) {
		struct pgc_pgx_node *n = path[--d];
		uint64_t bit = 1ull << slot_of(n->shift, index);
		uint64_t old = atomic_load_explicit(&n->tags[tag], memory_order_relaxed);
		if (!(old & bit))
			return;
		atomic_store_explicit(&n->tags[tag], old & ~bit, memory_order_release);
		if (old & ~bit)
			return; /* the level above still has something below */
	}
}

/* The full path to the id at index (root first, *d nodes); false if the slot is empty. */
static bool path_to_id(struct pgc_pgx *x, uint64_t index, struct pgc_pgx_node **path, unsigned *d)
{
	_Atomic uint32_t *slot = leaf_slot(x, index, path, d);
	return slot && atomic_load_explicit(slot, memory_order_relaxed) != PGC_FRAME_NONE;
}

int pgc__pgx_tag_set(struct pgc_pgx *x, uint64_t index, int tag)
{
	struct pgc_pgx_node *path[MAX_DEPTH];
	unsigned d;
	if (!path_to_id(x, index, path, &d))
		return -ENOENT;
	/* Bottom up: a reader that sees an ancestor's bit finds the leaf's. */
	while (d > 0) {
		struct pgc_pgx_node *n = path[--d];
		uint64_t bit = 1ull << slot_of(n->shift, index);
		uint64_t old = atomic_load_explicit(&n->tags[tag], memory_order_relaxed);
		if (old & bit)
			break; /* the ancestors have theirs already */
		atomic_store_explicit(&n->tags[tag], old | bit, memory_order_release);
	}
	return 0;
}

int pgc__pgx_tag_clear(struct pgc_pgx *x, uint64_t index, int tag)
{
	struct pgc_pgx_node *path[MAX_DEPTH];
	unsigned d;
	if (!path_to_id(x, index, path, &d))
		return -ENOENT;
	clear_tag_path(path, d, index, tag);
	return 0;
}

uint64_t pgc__pgx_tag_copy(struct pgc_pgx *x, uint64_t start, uint64_t end, int from, int to,
			   uint64_t max, bool *more)
{
	uint64_t n = 0, idx = start;
	*more = false;
	while (pgc__pgx_next_tagged(x, &idx, end, from) != PGC_FRAME_NONE) {
		if (n == max) {
			*more = true;
			return idx; /* where the next call goes on */
		}
		pgc__pgx_tag_set(x, idx, to);
		n++;
		if (idx == end)
			break;
		idx++;
	}
	return 0;
}

int pgc__pgx_erase(struct pgc_pgx *x, uint64_t index, uint32_t id)
{
	struct pgc_pgx_node *path[MAX_DEPTH];
	unsigned d;
	_Atomic uint32_t *slot = leaf_slot(x, index, path, &d);
	if (!slot || id == PGC_FRAME_NONE || atomic_load_explicit(slot, memory_order_relaxed) != id)
		return -ENOENT;
	for (int t = 0; t < (int)PGC_PGX_NR_TAGS; t++)
		clear_tag_path(path, d, index, t);
	atomic_store_explicit(slot, PGC_FRAME_NONE, memory_order_release);
	path[d - 1]->count--;
	x->nr--;
	if (path[d - 1]->count == 0)
		prune(x, index);
	return 0;
}

int pgc__pgx_replace(struct pgc_pgx *x, uint64_t index, uint32_t old_id, uint32_t new_id)
{
	struct pgc_pgx_node *path[MAX_DEPTH];
	unsigned d;
	_Atomic uint32_t *slot = leaf_slot(x, index, path, &d);
	if (!slot || old_id == PGC_FRAME_NONE || new_id == PGC_FRAME_NONE ||
	    atomic_load_explicit(slot, memory_order_relaxed) != old_id)
		return -ENOENT;
	atomic_store_explicit(slot, new_id, memory_order_release);
	return 0;
}

/* check(): the tags of the subtree n, returning per tag whether any id below has it. */
static int check_node(const struct pgc_pgx_node *n, unsigned depth, uint64_t *ids, bool any[],
		      const char **why)
{
	uint64_t have[PGC_PGX_NR_TAGS] = {0};
	unsigned used = 0;
	if (depth > MAX_DEPTH) {
		*why = "the tree is deeper than any index needs";
		return -1;
	}
	for (unsigned i = 0; i < PGC_PGX_SLOTS; i++) {
		bool sub[PGC_PGX_NR_TAGS] = {false};
		if (n->shift == 0) {
			if (atomic_load_explicit(&leaf_of(n)->id[i], memory_order_relaxed) ==
			    PGC_FRAME_NONE)
				continue;
			(*ids)++;
			for (unsigned t = 0; t < PGC_PGX_NR_TAGS; t++)
				sub[t] = atomic_load_explicit(&n->tags[t], memory_order_relaxed) &
					 (1ull << i);
		} else {
			const struct pgc_pgx_node *c =
				atomic_load_explicit(&inner_of(n)->child[i], memory_order_relaxed);
			if (!c)
				continue;
			if (c->shift + PGC_PGX_BITS != n->shift) {
				*why = "a child's shift does not follow its parent's";
				return -1;
			}
			if (check_node(c, depth + 1, ids, sub, why))
				return -1;
		}
		used++;
		for (unsigned t = 0; t < PGC_PGX_NR_TAGS; t++)
			if (sub[t])
				have[t] |= 1ull << i;
	}
	if (used != n->count) {
		*why = "a node's count differs from its slots in use";
		return -1;
	}
	if (used == 0) {
		*why = "an empty node is still linked";
		return -1;
	}
	for (unsigned t = 0; t < PGC_PGX_NR_TAGS; t++) {
		if (atomic_load_explicit(&n->tags[t], memory_order_relaxed) != have[t]) {
			*why = n->shift ? "an inner node's tag bits differ from its children's"
					: "a leaf tags an empty slot";
			return -1;
		}
		any[t] = have[t] != 0;
	}
	return 0;
}

int pgc__pgx_check(const struct pgc_pgx *x, const char **why)
{
	const struct pgc_pgx_node *r = atomic_load_explicit(&x->root, memory_order_relaxed);
	uint64_t ids = 0;
	bool any[PGC_PGX_NR_TAGS];
	*why = NULL;
	if (r && check_node(r, 1, &ids, any, why))
		return -1;
	if (ids != x->nr) {
		*why = "the index counts a different number of ids than it holds";
		return -1;
	}
	return 0;
}

size_t pgc__pgx_memory(const struct pgc_pgx *x)
{
	return (size_t)x->bytes;
}
