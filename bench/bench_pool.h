/*
 * The worker threads of the timed-round benchmarks (bench_lookup,
 * bench_buffered). The workers live for the whole run, so that a round
 * measures the operations, not thread creation, and so that the library
 * sees the same threads throughout (as a server's I/O threads would be).
 *
 * The main thread hands a round to the first nthreads workers
 * (bench_pool_run()): each runs the round's function with the round's job
 * and records its operations, failures and start and end times. The round's
 * cost per operation is its wall time (the first start to the last end)
 * divided by the operations of all its threads: the inverse of the
 * aggregate throughput, so that with 1 thread or 2 lower is better, and the
 * cost with 1 thread over the cost with 2 is the speedup of the second.
 */
#ifndef PGC_BENCH_POOL_H
#define PGC_BENCH_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_POOL_MAX 64	/* threads */
#define BENCH_BATCH 256		/* operations between two clock reads */

struct bench_pool;

/* One worker and its result for the last round. Padded so two workers never share a line. */
struct bench_worker {
	pthread_t tid;
	unsigned id;
	struct bench_pool *pool;
	unsigned char *buf;	/* the worker's own buffer, page aligned */
	uint64_t ops;
	uint64_t misses;	/* operations that failed */
	uint64_t bad;		/* operations that returned the wrong data */
	uint64_t t_start;
	uint64_t t_end;
} __attribute__((aligned(128)));

/* What a worker runs in a round: its loop, with the round's job. */
typedef void (*bench_work_fn)(struct bench_worker *w, const void *job);

struct bench_pool {
	pthread_mutex_t lock;
	pthread_cond_t job_cond;
	pthread_cond_t done_cond;
	bench_work_fn fn;	/* the current round, written under lock */
	const void *job;
	unsigned nthreads;
	uint64_t gen;
	unsigned done;
	bool quit;
	unsigned nr;		/* workers started */
	struct bench_worker w[BENCH_POOL_MAX];
};

struct bench_round {
	double ns_per_op;	/* wall time / total operations */
	uint64_t ops, misses, bad;
};

static inline void *bench_pool_main(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_pool *pool = w->pool;
	uint64_t seen = 0;

	for (;;) {
		bench_work_fn fn;
		const void *job;
		unsigned nthreads;

		pthread_mutex_lock(&pool->lock);
		while (pool->gen == seen && !pool->quit)
			pthread_cond_wait(&pool->job_cond, &pool->lock);
		if (pool->quit) {
			pthread_mutex_unlock(&pool->lock);
			return NULL;
		}
		seen = pool->gen;
		fn = pool->fn;
		job = pool->job;
		nthreads = pool->nthreads;
		pthread_mutex_unlock(&pool->lock);

		w->ops = w->misses = w->bad = 0;
		if (w->id < nthreads)
			fn(w, job);

		pthread_mutex_lock(&pool->lock);
		pool->done++;
		pthread_cond_signal(&pool->done_cond);
		pthread_mutex_unlock(&pool->lock);
	}
}

/* Starts nr workers, each with a page-aligned buffer of buf_size bytes. Returns 0 or -1. */
static inline int bench_pool_start(struct bench_pool *pool, unsigned nr, size_t buf_size)
{
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->job_cond, NULL);
	pthread_cond_init(&pool->done_cond, NULL);
	pool->gen = 0;
	pool->quit = false;
	pool->nr = 0;
	if (nr > BENCH_POOL_MAX)
		return -1;
	for (unsigned i = 0; i < nr; i++) {
		struct bench_worker *w = &pool->w[i];

		w->id = i;
		w->pool = pool;
		if (posix_memalign((void **)&w->buf, 4096, buf_size))
			return -1;
		memset(w->buf, 0, buf_size);
		if (pthread_create(&w->tid, NULL, bench_pool_main, w)) {
			free(w->buf);
			return -1;
		}
		pool->nr++;
	}
	return 0;
}

/*
 * Runs fn(worker, job) on workers 0 to nthreads - 1 and waits for them;
 * job must stay valid until the call returns.
 */
static inline struct bench_round bench_pool_run(struct bench_pool *pool, bench_work_fn fn,
						const void *job, unsigned nthreads)
{
	struct bench_round r = { 0 };
	uint64_t start = UINT64_MAX, end = 0;

	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->job = job;
	pool->nthreads = nthreads;
	pool->done = 0;
	pool->gen++;
	pthread_cond_broadcast(&pool->job_cond);
	while (pool->done < pool->nr)
		pthread_cond_wait(&pool->done_cond, &pool->lock);
	pthread_mutex_unlock(&pool->lock);

	for (unsigned i = 0; i < nthreads && i < pool->nr; i++) {
		const struct bench_worker *w = &pool->w[i];

		r.ops += w->ops;
		r.misses += w->misses;
		r.bad += w->bad;
		if (w->t_start < start)
			start = w->t_start;
		if (w->t_end > end)
			end = w->t_end;
	}
	r.ns_per_op = r.ops ? (double)(end - start) / (double)r.ops : 0.0;
	return r;
}

/* Stops and joins the workers. */
static inline void bench_pool_stop(struct bench_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->quit = true;
	pthread_cond_broadcast(&pool->job_cond);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->nr; i++) {
		pthread_join(pool->w[i].tid, NULL);
		free(pool->w[i].buf);
	}
	pool->nr = 0;
}

#endif /* PGC_BENCH_POOL_H */
