/*
 * A cache's helper threads for work that splits into parts (the copies of a
 * migration batch): started on first use, kept for the cache's life, so a
 * large batch pays a wake-up (microseconds), not a thread creation, for
 * each helper. lib/workers.c.
 *
 * pgc__workers_run(w, fn, arg, parts) runs fn(arg, 0 .. parts-1): the
 * calling thread takes parts as well as the helpers, and returns when all
 * are done. One job runs at a time; a caller that finds the helpers busy
 * (another migration), or none started, runs every part itself. So fn must
 * be correct on any thread and in any order. Helpers take no lock of the
 * library but the workers' own.
 *
 * fork: a child's copy of a cache has no helpers (they exist in the parent
 * only); its jobs run on the calling thread (pgc__fork_inherited).
 */
#ifndef PGC_WORKERS_INTERNAL_H
#define PGC_WORKERS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PGC_WORKERS_MAX 3 /* helpers: with the caller, 4 threads at most */

typedef void (*pgc_part_fn)(void *arg, unsigned part, unsigned parts);

struct pgc_workers {
	pthread_mutex_t start_lock; /* starting and stopping */
	pthread_mutex_t job_lock;   /* one job at a time (only tried) */
	pthread_mutex_t lock;       /* the job's state */
	pthread_cond_t work_cv, done_cv;
	bool started, stop;
	uint32_t fork_gen;          /* generation that started the helpers */
	unsigned nr;                /* helpers running */
	pthread_t tid[PGC_WORKERS_MAX];
	pgc_part_fn fn;
	void *arg;
	unsigned parts, next, unfinished;
};

void pgc__workers_init(struct pgc_workers *w);

/* Stops and joins the helpers (none in a child of a fork: forgotten). */
void pgc__workers_fini(struct pgc_workers *w);

/*
 * Threads that would share a job now: 1 + the helpers started (starting
 * them if not yet: min(online CPUs, 1 + PGC_WORKERS_MAX) threads in all;
 * a helper that cannot be created is left out). 1 in a child's copy.
 */
unsigned pgc__workers_threads(struct pgc_workers *w, uint32_t cache_fork_gen);

/* Runs fn(arg, p) for p in 0..parts-1 as described above. */
void pgc__workers_run(struct pgc_workers *w, uint32_t cache_fork_gen, pgc_part_fn fn, void *arg,
		      unsigned parts);

#endif /* PGC_WORKERS_INTERNAL_H */
