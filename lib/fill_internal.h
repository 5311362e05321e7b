/*
 * Background fills (lib/fill.c): reads that a caller starts without waiting
 * for them, the kernel's asynchronous readahead. pgc_read_flags() with
 * PGC_READ_NOWAIT queues the pages it misses, and a sequential reader
 * queues its readahead windows ahead of it (rw.c), so it goes on copying
 * while they are read, two windows at a time.
 *
 * A cache has up to PGC_FILL_THREADS filler threads, started as queued
 * fills find the running ones busy, and joined when the cache is
 * destroyed; each runs one fill at a time, so that many windows are read
 * at once. A fill holds the mapping's fill lock shared while it reads, as
 * a reader's own fill does, and reads only pages that are missing (present
 * pages are skipped). A mapping counts its queued and running fills;
 * pgc_mapping_destroy() waits for them.
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

/* Two windows of a sequential reader in flight at once (rw.c). */
#define PGC_FILL_THREADS 2

struct pgc_filler {
	pthread_mutex_t lock;
	pthread_cond_t work, idle; /* jobs queued; a job done */
	bool stop;
	unsigned busy;    /* jobs queued or running */
	unsigned nr_threads; /* started */
	uint32_t fork_gen; /* of the process that started the threads */
	pthread_t threads[PGC_FILL_THREADS];
	struct pgc_fill_job *head, *tail; /* queued */
	struct pgc_fill_job *running;     /* being read */
};

void pgc__filler_init(struct pgc_filler *f);

/* Stops the threads (in the process that started them) once the queue is empty. */
void pgc__filler_fini(struct pgc_filler *f);

/*
 * Queues a fill of pages [first, first + nr) of m; returns at once. When
 * no thread can be started or the job not allocated, nothing is read (a
 * later read reads the pages itself).
 */
void pgc__fill_queue(struct pgc_mapping *m, uint64_t first, unsigned nr);

/* Waits until the cache has no fill queued or running (pgc_cache_check()). */
void pgc__filler_drain(struct pgc_filler *f);

/* Waits until m has no fill queued or running (pgc_mapping_destroy()). */
void pgc__fill_wait(struct pgc_mapping *m);

/*
 * Waits for the fill of m queued or running that covers index, if there is
 * one: true if it waited (the page is read, or the fill gave up on it).
 */
bool pgc__fill_wait_index(struct pgc_mapping *m, uint64_t index);

#endif /* PGC_FILL_INTERNAL_H */
