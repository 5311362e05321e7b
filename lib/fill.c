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
};

void pgc__filler_init(struct pgc_filler *f)
{
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->work, NULL);
	pthread_cond_init(&f->idle, NULL);
}

static void fill_done(struct pgc_filler *f, struct pgc_mapping *m)
{
	pthread_mutex_lock(&f->lock);
	f->busy--;
	if (--m->fills == 0 || f->busy == 0)
		pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->lock);
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
		pthread_mutex_unlock(&f->lock);
		run_job(j);
		fill_done(f, j->m);
		free(j);
		pthread_mutex_lock(&f->lock);
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
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
	if (!f->started || pgc__fork_inherited(f->fork_gen)) {
		if (f->stop || pthread_create(&f->thread, NULL, filler_main, c) != 0) {
			pthread_mutex_unlock(&f->lock);
			free(j);
			return;
		}
		f->started = true;
		f->fork_gen = pgc__fork_generation();
	}
	m->fills++;
	f->busy++;
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
	bool join = f->started && !pgc__fork_inherited(f->fork_gen);
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->lock);
	if (join)
		pthread_join(f->thread, NULL);
	/* Every mapping was destroyed first, and waited for its fills. */
	pthread_cond_destroy(&f->idle);
	pthread_cond_destroy(&f->work);
	pthread_mutex_destroy(&f->lock);
}
