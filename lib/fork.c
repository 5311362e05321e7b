/*
 * fork(2) support. liburcu keeps process-wide state that a fork copies
 * half-alive: the call_rcu worker thread does not exist in the child (so
 * rcu_barrier() and the callbacks queued for it wait for ever), and
 * liburcu-bp's registry still lists the parent's threads as readers (so a
 * grace period waits for readers that are gone). liburcu offers handlers
 * for both; this file registers them with pthread_atfork() the first time a
 * cache is made, so that an application forks as it likes, from any
 * thread, without calls of its own (see the fork rule in cache.h and
 * fork_internal.h).
 *
 * The order matters. Before the fork the call_rcu worker is paused first
 * (call_rcu_before_fork() waits for it, and it may be in a grace period,
 * which needs liburcu-bp's grace-period lock), then urcu-bp's locks are
 * taken. After it, urcu-bp's locks are released first, so that the
 * resumed (parent) or new (child) call_rcu worker can start grace periods.
 * The handlers run in the forking thread; posix_spawn(3) and vfork(2) run
 * none and need none.
 *
 * It sits at the bottom of the library, beside numa.c: it calls liburcu
 * only, and the rest of the library reads its generation counter.
 */
#include <errno.h>
#include <pthread.h>
#include <urcu-bp.h>

#include "fork_internal.h"

_Atomic uint32_t pgc__fork_gen;

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static int fork_init_err;

static void before_fork(void)
{
	call_rcu_before_fork();
	urcu_bp_before_fork();
}

static void after_fork_parent(void)
{
	urcu_bp_after_fork_parent();
	call_rcu_after_fork_parent();
}

static void after_fork_child(void)
{
	/* Before anything else of the child runs, objects of the parent are
	 * told apart from those the child will make. */
	atomic_fetch_add_explicit(&pgc__fork_gen, 1, memory_order_relaxed);
	/* Drops the parent's other threads from the reader registry. */
	urcu_bp_after_fork_child();
	/* Starts a new call_rcu worker, to which the callbacks queued in the
	 * parent move. */
	call_rcu_after_fork_child();
}

static void fork_init(void)
{
	/*
	 * glibc ties handlers registered from a shared object to it and drops
	 * them when it is unloaded (dlclose), so they never call into code
	 * that is gone.
	 */
	int err = pthread_atfork(before_fork, after_fork_parent, after_fork_child);
	fork_init_err = err ? -err : 0;
}

int pgc__fork_init(void)
{
	pthread_once(&fork_once, fork_init);
	return fork_init_err;
}
