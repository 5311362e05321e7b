/*
 * The library's only contact with libnuma and the memory policy system
 * calls. Everything above asks here about nodes and binds memory through
 * here, so the rest reads as plain logic and a machine without NUMA support
 * simply has node 0. libnuma's own error reporting (numa_error, which may
 * print or exit) is avoided by calling only functions that return errors.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#if defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define PGC_HAVE_RSEQ 1
#endif
#endif
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <stdlib.h>

#include "alloc_internal.h"
#include "assert_internal.h"
#include "numa_internal.h"

bool pgc__numa_available(void)
{
	return numa_available() >= 0;
}

int pgc__numa_max_node(void)
{
	return pgc__numa_available() ? numa_max_node() : 0;
}

bool pgc__numa_node_has_memory(int node)
{
	if (!pgc__numa_available())
		return node == 0;
	if (node < 0 || node > numa_max_node())
		return false;
	if (!numa_bitmask_isbitset(numa_nodes_ptr, (unsigned)node))
		return false;
	return numa_node_size64(node, NULL) > 0;
}

bool pgc__numa_node_allowed(int node)
{
	if (!pgc__numa_available())
		return node == 0;
	if (node < 0 || node > numa_max_node())
		return false;
	struct bitmask *allowed = numa_get_mems_allowed();
	if (!allowed)
		return false;
	bool ok = numa_bitmask_isbitset(allowed, (unsigned)node);
	numa_bitmask_free(allowed);
	return ok;
}

int pgc__numa_allowed_nodes(int *nodes, int max)
{
	if (!pgc__numa_available()) {
		if (max > 0)
			nodes[0] = 0;
		return 1;
	}
	int n = 0;
	int top = numa_max_node();
	for (int i = 0; i <= top; i++) {
		if (pgc__numa_node_has_memory(i) && pgc__numa_node_allowed(i)) {
			if (n < max)
				nodes[n] = i;
			n++;
		}
	}
	return n;
}

bool pgc__numa_node_has_cpus(int node)
{
	if (!pgc__numa_available())
		return node == 0;
	struct bitmask *cpus = numa_allocate_cpumask();
	if (!cpus)
		return true;
	bool any = false;
	if (numa_node_to_cpus(node, cpus) == 0)
		any = numa_bitmask_weight(cpus) > 0;
	numa_bitmask_free(cpus);
	return any;
}

int pgc__numa_distance(int a, int b)
{
	if (!pgc__numa_available())
		return a == b ? 10 : 20;
	int d = numa_distance(a, b);
	return d > 0 ? d : (a == b ? 10 : 20);
}

int pgc__numa_current_node(void)
{
	if (!pgc__numa_available())
		return 0;
	/*
	 * getcpu(2) reports the node itself; numa_node_of_cpu() would fill
	 * libnuma's cpu-to-node table lazily without a lock, a data race when
	 * several threads allocate for the first time.
	 */
	unsigned cpu, node;
	if (getcpu(&cpu, &node) != 0)
		return -1;
	return (int)node;
}

/*
 * CPU to node, read once (pgc__numa_cpu_table_init), for the hit path's
 * notes: the CPU from the thread's rseq area where glibc registered one
 * (2.35 and later: one load, as sched_getcpu() itself reads it), else
 * sched_getcpu(). Built under pthread_once, so that libnuma's lazy tables
 * are filled by one thread.
 */
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static int16_t *_Atomic cpu_node;
static int nr_cpu_node;
static bool cpu_no_numa;

static void cpu_table_init(void)
{
	if (!pgc__numa_available()) {
		cpu_no_numa = true;
		return;
	}
	int n = numa_num_configured_cpus();
	int16_t *t = n > 0 ? pgc__malloc((size_t)n * sizeof(*t)) : NULL;
	if (!t)
		return;
	for (int i = 0; i < n; i++) {
		int node = numa_node_of_cpu(i);
		t[i] = (int16_t)(node >= 0 && node <= INT16_MAX ? node : -1);
	}
	nr_cpu_node = n;
	atomic_store_explicit(&cpu_node, t, memory_order_release);
}

void pgc__numa_cpu_table_init(void)
{
	pthread_once(&cpu_once, cpu_table_init);
}

static inline int current_cpu(void)
{
#if defined(PGC_HAVE_RSEQ) && defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
	if (__rseq_size > 0) {
		const struct rseq *rs =
			(const struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
		int cpu = (int)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);
		if (cpu >= 0)
			return cpu;
	}
#endif
#endif
	return sched_getcpu();
}

int pgc__numa_current_node_fast(void)
{
	const int16_t *t = atomic_load_explicit(&cpu_node, memory_order_acquire);
	if (pgc_likely(t)) {
		int cpu = current_cpu();
		if (cpu >= 0 && cpu < nr_cpu_node && t[cpu] >= 0)
			return t[cpu];
	}
	pgc__numa_cpu_table_init();
	if (cpu_no_numa)
		return 0;
	return pgc__numa_current_node();
}

int pgc__numa_bind(void *addr, size_t len, int node)
{
	if (!pgc__numa_available())
		return 0;
	unsigned long maxnode = (unsigned long)numa_max_node() + 1;
	size_t words = (maxnode + 1 + 8 * sizeof(unsigned long) - 1) / (8 * sizeof(unsigned long));
	unsigned long stackmask[16] = {0};
	unsigned long *mask = stackmask;
	if (words > 16) {
		mask = pgc__calloc(words, sizeof(unsigned long));
		if (!mask)
			return -ENOMEM;
	}
	mask[(unsigned)node / (8 * sizeof(unsigned long))] |= 1ul << ((unsigned)node % (8 * sizeof(unsigned long)));
	/* maxnode counts bits and the kernel wants one more than the highest. */
	long rc = mbind(addr, len, MPOL_BIND, mask, maxnode + 1, 0);
	int err = rc == 0 ? 0 : -errno;
	if (mask != stackmask)
		free(mask);
	return err;
}

int pgc__numa_move_pages(void **addrs, unsigned long n, const int *nodes, int *status, bool all)
{
	if (!pgc__numa_available()) {
		for (unsigned long i = 0; i < n; i++) {
			if (nodes && nodes[i] != 0)
				return -ENODEV;
			status[i] = 0;
		}
		return 0;
	}
	/* move_pages(2) rather than numa_move_pages(): the same call, without
	 * libnuma's error printing. */
	long rc = move_pages(0, n, addrs, nodes, status, all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE);
	return rc < 0 ? -errno : (int)rc;
}
