/*
 * fork(2) support: the one place that knows what liburcu needs around a
 * fork, and the generation counter that tells the rest of the library
 * whether an object was made in this process or came with a fork.
 *
 * The rule the library follows (public in cache.h, explained in
 * docs/concurrency.md): in a child, the caches and mappings made before the
 * fork are inherited copies. The child may destroy them, which drops them
 * without writeback, without waiting for any lock and without freeing their
 * memory (a thread of the parent, gone in the child, may have held a lock or
 * left a structure half changed); it may use them only when no other thread
 * of the parent was inside the library at the fork. Anything it makes after
 * the fork works as in any process.
 *
 * Hook for code that starts threads of its own (the background writeback
 * thread of a cache, say): such a thread exists in the process that started
 * it only, so code that stops or joins it must first ask
 * pgc__fork_inherited(born) with the generation recorded when the thread
 * (or its cache: cache->fork_gen) was made. When that is true, the thread
 * is not there: do not signal, wait for or join it (its pthread_t means
 * nothing in the child, and the locks it may hold will never be released),
 * just forget it. Nothing else needs registering: the generation changes in
 * the child handler of fork.c before any code of the child runs.
 */
#ifndef PGC_FORK_INTERNAL_H
#define PGC_FORK_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Incremented in each child at fork (fork.c); 0 in the first process. */
extern _Atomic uint32_t pgc__fork_gen;

/*
 * Registers the library's fork handlers with pthread_atfork(), once per
 * process; every cache creation calls it. Returns 0, or -ENOMEM if they
 * could not be registered (the cache is then not made).
 */
int pgc__fork_init(void);

struct rcu_head;

/*
 * call_rcu() for every thread of the library but liburcu's call_rcu worker:
 * excluded from fork(2), which could otherwise leave the child's callback
 * queue broken (fork.c). A callback that queued another would call
 * call_rcu() directly: the worker must not take this lock.
 */
void pgc__call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *));

/* The current fork generation, to record in an object at its creation. */
static inline uint32_t pgc__fork_generation(void)
{
	return atomic_load_explicit(&pgc__fork_gen, memory_order_relaxed);
}

/* True in a child for an object made (generation @p born) before a fork. */
static inline bool pgc__fork_inherited(uint32_t born)
{
	return born != pgc__fork_generation();
}

#endif /* PGC_FORK_INTERNAL_H */
