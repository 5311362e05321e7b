/*
 * The page index of a mapping: a radix tree from page number (64 bits) to
 * frame id (32 bits, PGC_FRAME_NONE for none), in the manner of the
 * kernel's xarray. Nodes have 64 slots; the leaves hold frame ids, so a
 * dense mapping costs a little over 4 bytes per cached page. The height
 * grows with the largest index and shrinks when the high part empties.
 *
 * Readers are lock-free inside an RCU read-side critical section
 * (liburcu-bp): they follow the pointers with acquire loads and may see the
 * tree as it was an instant ago. Unlinked nodes are freed with call_rcu(),
 * so a reader never touches freed memory. Writers (insert, erase, replace)
 * are serialised by the caller, one lock per index (the mapping's index
 * lock). This is the one concurrent structure of our own that the
 * conventions allow (no maintained C library offers an RCU radix tree); the
 * RCU itself is liburcu's.
 *
 * Each slot carries PGC_PGX_NR_TAGS tag bits, and every inner node the
 * union of its children's, so a walk for a tag visits only the subtrees
 * that hold tagged ids, in index order (the kernel's xarray marks). Tags
 * change under the writers' lock; an erase clears the slot's tags, a
 * replace keeps them.
 *
 * A frame id from a lookup names a descriptor that may have been freed or
 * reused since: the caller takes a speculative reference and checks the
 * page's mapping and index, as with any lockless page-cache lookup.
 */
#ifndef PGC_PGINDEX_INTERNAL_H
#define PGC_PGINDEX_INTERNAL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGC_PGX_BITS 6u
#define PGC_PGX_SLOTS (1u << PGC_PGX_BITS)
#define PGC_PGX_NR_TAGS 3u /* tags 0-2; what they mean is the mapping's */

struct pgc_pgx_node;

#define PGC_CACHELINE 64

/*
 * The root, which every lookup reads, has a cache line to itself; the
 * counts, which every insert and erase writes, start the next one.
 */
struct pgc_pgx {
	alignas(PGC_CACHELINE) struct pgc_pgx_node *_Atomic root; /* NULL: empty */
	alignas(PGC_CACHELINE) uint64_t nr; /* ids held (writers only) */
	uint64_t bytes; /* node memory held, freed-pending excluded (writers only) */
};

/* An empty index (no allocation). */
void pgc__pgx_init(struct pgc_pgx *x);

/* Frees every node at once: no reader or writer may use the index any more. */
void pgc__pgx_destroy(struct pgc_pgx *x);

/*
 * The id at index, or PGC_FRAME_NONE. The caller is inside rcu_read_lock()
 * (or is the writer).
 */
uint32_t pgc__pgx_load(const struct pgc_pgx *x, uint64_t index);

/*
 * The first id at an index in [*index, end], with *index set to it; or
 * PGC_FRAME_NONE (and *index unchanged) if there is none. Inside
 * rcu_read_lock() (or by the writer). A reader may miss an id stored or see
 * one erased while it walks, as with any RCU walk.
 */
uint32_t pgc__pgx_next(const struct pgc_pgx *x, uint64_t *index, uint64_t end);

/*
 * As next(), for the ids that carry tag (tag < 0: any id). Readers see a
 * tag set before their walk began; one set or cleared meanwhile may be
 * seen or not.
 */
uint32_t pgc__pgx_next_tagged(const struct pgc_pgx *x, uint64_t *index, uint64_t end, int tag);

/* Whether the id at index carries tag (a reader's answer may be stale). */
bool pgc__pgx_tagged(const struct pgc_pgx *x, uint64_t index, int tag);

/* Whether any id carries tag (the root's bits: one load). */
bool pgc__pgx_any_tagged(const struct pgc_pgx *x, int tag);

/* Writers, under the index's lock. */

/* Sets or clears tag on the id at index: 0, or -ENOENT if the slot is empty. */
int pgc__pgx_tag_set(struct pgc_pgx *x, uint64_t index, int tag);
int pgc__pgx_tag_clear(struct pgc_pgx *x, uint64_t index, int tag);

/*
 * Sets tag to on every id in [start, end] that carries tag from, at most
 * max of them (the kernel's tag_pages_for_writeback). If more are left,
 * *more is set and the index to go on from is returned.
 */
uint64_t pgc__pgx_tag_copy(struct pgc_pgx *x, uint64_t start, uint64_t end, int from, int to,
			   uint64_t max, bool *more);

/*
 * Checks the tree's invariants (counts, shifts, tag bits up the tree,
 * no empty linked node): 0, or -1 with *why set. The writer, or when quiet.
 */
int pgc__pgx_check(const struct pgc_pgx *x, const char **why);


/* Stores id (not PGC_FRAME_NONE) at an empty index: 0, -EEXIST, -ENOMEM. */
int pgc__pgx_insert(struct pgc_pgx *x, uint64_t index, uint32_t id);

/* Empties index if it holds id: 0, or -ENOENT (then nothing changed). */
int pgc__pgx_erase(struct pgc_pgx *x, uint64_t index, uint32_t id);

/* Swaps old for new at index (one slot store): 0, or -ENOENT. */
int pgc__pgx_replace(struct pgc_pgx *x, uint64_t index, uint32_t old_id, uint32_t new_id);

/* Bytes of node memory the index holds now (writers, or when quiet). */
size_t pgc__pgx_memory(const struct pgc_pgx *x);

#endif /* PGC_PGINDEX_INTERNAL_H */
