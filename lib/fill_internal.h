/*
 * Background fills (lib/fill.c): reads that a caller starts without waiting
 * for them, the kernel's asynchronous readahead. pgc_read_flags() with
 * PGC_READ_NOWAIT queues the pages it misses, and a sequential reader that
 * reaches the start of its next readahead window queues that window, so it
 * goes on copying while the window is read.
 *
 * A cache has one filler thread, started by the first queued fill and
 * joined when the cache is destroyed. A fill holds the mapping's fill lock
 * shared while it reads, as a reader's own fill does, and reads only pages
 * that are missing (pages present or locked by someone else are skipped).
 * A mapping counts its queued fills; pgc_mapping_destroy() waits for them.
 *
 * fork: a child's copy of a cache has no filler; its queued fills are
 * forgotten and new ones are read by the queuing thread itself.
 */
#ifndef PGC_FILL_INTERNAL_H
#define PGC_FILL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct pgc_mapping;
struct pgc_fill_job;

struct pgc_filler {
	pthread_mutex_t lock;
	pthread_cond_t work, idle; /* jobs queued; a mapping's fills done */
	bool started, stop;
	unsigned busy; /* jobs queued or running */
	uint32_t fork_gen;
	pthread_t thread;
	struct pgc_fill_job *head, *tail;
};

void pgc__filler_init(struct pgc_filler *f);

/* Stops the thread (in the process that started it) and drops queued jobs. */
void pgc__filler_fini(struct pgc_filler *f);

/*
 * Queues a fill of pages [first, first + nr) of m; returns at once. When
 * the thread cannot be started or the job not allocated, nothing is read
 * (a later read reads the pages itself).
 */
void pgc__fill_queue(struct pgc_mapping *m, uint64_t first, unsigned nr);

/* Waits until the cache has no fill queued or running (pgc_cache_check()). */
void pgc__filler_drain(struct pgc_filler *f);

/* Waits until m has no fill queued or running (pgc_mapping_destroy()). */
void pgc__fill_wait(struct pgc_mapping *m);

#endif /* PGC_FILL_INTERNAL_H */
