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
 * One more hazard has no handler in liburcu (0.13.2, and upstream master
 * as of 2025): call_rcu() enqueues in two steps (it exchanges the queue's
 * tail, then links the old tail to its node) and takes no lock that
 * call_rcu_before_fork() takes. A fork while another thread is between the
 * two steps leaves the child a queue with a link that is never stored, and
 * the child's new worker waits on it for ever: every rcu_barrier() of the
 * child hangs (scripts/deps/urcu_fork_call_rcu.c shows it without the
 * library). So the library's threads call pgc__call_rcu(), which enqueues
 * under enqueue_lock, and the fork takes it first. An enqueue from the
 * worker itself (a callback that queues another) would need no lock and
 * must not take it: call_rcu_before_fork() waits until the worker is
 * paused between callbacks, never inside one. The workaround
 * can go when liburcu's fork handlers exclude call_rcu() callers.
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

/*
 * Held by a thread of the library inside call_rcu(), and by a fork from
 * its prepare handler to its parent and child handlers. A plain mutex, not
 * a reader-writer lock: the section is two stores and, now and then, a
 * futex wake, and the library calls call_rcu() only for a freed index
 * node, not per page. A mutex is also the one lock whose
 * unlock in the child is well defined (the child's thread has a new kernel
 * thread id, which glibc's rwlock unlock compares with the writer's) and
 * that ThreadSanitizer follows across the fork.
 */
static pthread_mutex_t enqueue_lock = PTHREAD_MUTEX_INITIALIZER;

void pgc__call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	pthread_mutex_lock(&enqueue_lock);
	call_rcu(head, fn);
	pthread_mutex_unlock(&enqueue_lock);
}

static void before_fork(void)
{
	/* First, so that no thread is left half-way through an enqueue; a
	 * thread in call_rcu() may still need call_rcu_mutex (the first
	 * call_rcu() of a process makes the worker under it), which the next
	 * call takes. */
	pthread_mutex_lock(&enqueue_lock);
	call_rcu_before_fork();
	urcu_bp_before_fork();
}

static void after_fork_parent(void)
{
	urcu_bp_after_fork_parent();
	call_rcu_after_fork_parent();
	pthread_mutex_unlock(&enqueue_lock);
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
	pthread_mutex_unlock(&enqueue_lock);
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
