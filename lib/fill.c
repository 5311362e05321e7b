/*
 * Background fills (see fill_internal.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "alloc_internal.h"
#include "fill_internal.h"
#include "fork_internal.h"
#include "mapping_internal.h"

struct pgc_fill_job {
	struct pgc_fill_job *next;
	struct pgc_mapping *m;
	uint64_t first;
	unsigned nr;
	unsigned waiters; /* in pgc__fill_wait_index(): the last one frees a done job */
	bool done;
};

void pgc__filler_init(struct pgc_filler *f)
{
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->work, NULL);
	pthread_cond_init(&f->idle, NULL);
}

/* Under f->lock: a job leaves the running list, done. */
static void fill_done(struct pgc_filler *f, struct pgc_fill_job *j)
{
	for (struct pgc_fill_job **pp = &f->running; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	f->busy--;
	j->m->fills--;
	j->done = true;
	/* Whoever waits for this job, for the mapping or for the cache. */
	pthread_cond_broadcast(&f->idle);
	if (j->waiters == 0)
		free(j);
}

static void run_job(struct pgc_fill_job *j)
{
	pgc__mapping_fill_begin(j->m);
	pgc__readahead_range(j->m, j->first, j->nr);
	pgc__mapping_fill_end(j->m);
}

static void *filler_main(void *arg)
{
	struct pgc_cache *c = arg;
	struct pgc_filler *f = &c->filler;
	pthread_mutex_lock(&f->lock);
	for (;;) {
		struct pgc_fill_job *j = f->head;
		if (!j) {
			if (f->stop)
				break;
			pthread_cond_wait(&f->work, &f->lock);
			continue;
		}
		f->head = j->next;
		if (!f->head)
			f->tail = NULL;
		j->next = f->running;
		f->running = j;
		pthread_mutex_unlock(&f->lock);
		run_job(j);
		pthread_mutex_lock(&f->lock);
		fill_done(f, j);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/* Under f->lock, with the job just queued counted in busy: a thread for it
 * if every thread has a job and the cache has fewer than PGC_FILL_THREADS.
 * False if there is no thread to run it. */
static bool filler_thread_for_job(struct pgc_cache *c, struct pgc_filler *f)
{
	if (f->stop)
		return false;
	if (f->nr_threads == 0)
		f->fork_gen = pgc__fork_generation();
	if (f->busy > f->nr_threads && f->nr_threads < PGC_FILL_THREADS &&
	    pthread_create(&f->threads[f->nr_threads], NULL, filler_main, c) == 0)
		f->nr_threads++;
	return f->nr_threads > 0;
}

void pgc__fill_queue(struct pgc_mapping *m, uint64_t first, unsigned nr)
{
	struct pgc_cache *c = m->cache;
	struct pgc_filler *f = &c->filler;
	if (nr == 0 || pgc__fork_inherited(c->fork_gen))
		return;
	struct pgc_fill_job *j = pgc__malloc(sizeof(*j));
	if (!j)
		return;
	*j = (struct pgc_fill_job){.m = m, .first = first, .nr = nr};
	pthread_mutex_lock(&f->lock);
	f->busy++; /* counted first: a thread starts for it if none is idle */
	if (!filler_thread_for_job(c, f)) {
		f->busy--;
		pthread_mutex_unlock(&f->lock);
		free(j);
		return;
	}
	m->fills++;
	if (f->tail)
		f->tail->next = j;
	else
		f->head = j;
	f->tail = j;
	pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->lock);
}

void pgc__fill_wait(struct pgc_mapping *m)
{
	struct pgc_filler *f = &m->cache->filler;
	pthread_mutex_lock(&f->lock);
	while (m->fills)
		pthread_cond_wait(&f->idle, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

static struct pgc_fill_job *job_at(struct pgc_fill_job *j, struct pgc_mapping *m, uint64_t index)
{
	for (; j; j = j->next)
		if (j->m == m && index >= j->first && index - j->first < j->nr)
			return j;
	return NULL;
}

bool pgc__fill_wait_index(struct pgc_mapping *m, uint64_t index)
{
	struct pgc_filler *f = &m->cache->filler;
	pthread_mutex_lock(&f->lock);
	struct pgc_fill_job *j = job_at(f->running, m, index);
	if (!j)
		j = job_at(f->head, m, index);
	if (j) {
		j->waiters++;
		while (!j->done)
			pthread_cond_wait(&f->idle, &f->lock);
		if (--j->waiters == 0)
			free(j);
	}
	pthread_mutex_unlock(&f->lock);
	return j != NULL;
}

void pgc__filler_drain(struct pgc_filler *f)
{
	pthread_mutex_lock(&f->lock);
	while (f->busy)
		pthread_cond_wait(&f->idle, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

void pgc__filler_fini(struct pgc_filler *f)
{
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	unsigned join = pgc__fork_inherited(f->fork_gen) ? 0 : f->nr_threads;
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < join; i++)
		pthread_join(f->threads[i], NULL);
	/* Every mapping was destroyed first, and waited for its fills. */
	pthread_cond_destroy(&f->idle);
	pthread_cond_destroy(&f->work);
	pthread_mutex_destroy(&f->lock);
}
