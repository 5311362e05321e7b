/*
 * A cache's helper threads (see workers_internal.h). A job is a number of
 * parts; the helpers and the calling thread take parts one at a time under
 * the workers' lock, so a helper that wakes late only finds fewer parts to
 * take, and the caller never waits for a helper that has nothing to do.
 */
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "fault_internal.h"
#include "fork_internal.h"
#include "workers_internal.h"

void pgc__workers_init(struct pgc_workers *w)
{
	pthread_mutex_init(&w->start_lock, NULL);
	pthread_mutex_init(&w->job_lock, NULL);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work_cv, NULL);
	pthread_cond_init(&w->done_cv, NULL);
	w->started = w->stop = false;
	w->fork_gen = 0;
	w->nr = 0;
	w->fn = NULL;
	w->arg = NULL;
	w->parts = w->next = w->unfinished = 0;
}

static void *helper(void *arg)
{
	struct pgc_workers *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && w->next >= w->parts)
			pthread_cond_wait(&w->work_cv, &w->lock);
		if (w->stop)
			break;
		unsigned part = w->next++, parts = w->parts;
		pgc_part_fn fn = w->fn;
		void *fn_arg = w->arg;
		pthread_mutex_unlock(&w->lock);
		fn(fn_arg, part, parts);
		pthread_mutex_lock(&w->lock);
		if (--w->unfinished == 0)
			pthread_cond_signal(&w->done_cv);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Starts the helpers; start_lock held. Signals stay with the application's
 * threads: the helpers block them all. */
static void start(struct pgc_workers *w)
{
	/* The CPUs the starting thread may run on: the helpers inherit its
	 * affinity, and helpers that share its one CPU could only add
	 * wake-ups (a thread pinned to one node of the 2-node VM, say). */
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && CPU_COUNT(&allowed) < cpus)
		cpus = CPU_COUNT(&allowed);
	unsigned want = cpus > 1 ? (unsigned)cpus - 1 : 0;
	if (want > PGC_WORKERS_MAX)
		want = PGC_WORKERS_MAX;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	unsigned n = 0;
	for (; n < want; n++) {
		/* A test's injected failure stands for pthread_create's. */
		if (pgc__fault_alloc() || pthread_create(&w->tid[n], NULL, helper, w) != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	w->nr = n;
	w->fork_gen = pgc__fork_generation();
	w->started = true;
}

unsigned pgc__workers_threads(struct pgc_workers *w, uint32_t cache_fork_gen)
{
	if (pgc__fork_inherited(cache_fork_gen))
		return 1;
	pthread_mutex_lock(&w->start_lock);
	if (!w->started && !w->stop)
		start(w);
	unsigned n = 1 + w->nr;
	pthread_mutex_unlock(&w->start_lock);
	return n;
}

void pgc__workers_run(struct pgc_workers *w, uint32_t cache_fork_gen, pgc_part_fn fn, void *arg,
		      unsigned parts)
{
	if (parts <= 1 || pgc__workers_threads(w, cache_fork_gen) <= 1 ||
	    pthread_mutex_trylock(&w->job_lock) != 0) {
		for (unsigned p = 0; p < parts; p++)
			fn(arg, p, parts);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->fn = fn;
	w->arg = arg;
	w->parts = parts;
	w->next = 0;
	w->unfinished = parts;
	pthread_cond_broadcast(&w->work_cv);
	while (w->next < w->parts) {
		unsigned part = w->next++;
		pthread_mutex_unlock(&w->lock);
		fn(arg, part, parts);
		pthread_mutex_lock(&w->lock);
		w->unfinished--;
	}
	while (w->unfinished)
		pthread_cond_wait(&w->done_cv, &w->lock);
	w->parts = w->next = 0;
	w->fn = NULL;
	w->arg = NULL;
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&w->job_lock);
}

void pgc__workers_fini(struct pgc_workers *w)
{
	/* A child's copy: the helpers are the parent's; nothing to stop. */
	if (w->started && pgc__fork_inherited(w->fork_gen))
		return;
	pthread_mutex_lock(&w->start_lock);
	w->stop = true;
	pthread_mutex_unlock(&w->start_lock);
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->work_cv);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->nr; i++)
		pthread_join(w->tid[i], NULL);
	pthread_cond_destroy(&w->work_cv);
	pthread_cond_destroy(&w->done_cv);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->job_lock);
	pthread_mutex_destroy(&w->start_lock);
}
