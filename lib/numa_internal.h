/*
 * The only door to libnuma and the kernel's memory policy calls. The rest of
 * the library asks this file which nodes exist, which the process may use,
 * how far apart they are, which node a CPU is on, and binds memory to a node.
 * Where libnuma says NUMA is unavailable there is one node, 0.
 */
#ifndef PGC_NUMA_INTERNAL_H
#define PGC_NUMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the kernel offers NUMA policies (libnuma's numa_available()). */
bool pgc__numa_available(void);
/* Highest node number of the machine (0 without NUMA). */
int pgc__numa_max_node(void);
/* The node exists and has memory. */
bool pgc__numa_node_has_memory(int node);
/* The node is in the calling process's mems_allowed. */
bool pgc__numa_node_allowed(int node);
/* Fills nodes[] with the allowed nodes that have memory; returns how many. */
int pgc__numa_allowed_nodes(int *nodes, int max);
/* The node has CPUs (a node without is far memory: the kernel's default lower tier). */
bool pgc__numa_node_has_cpus(int node);
/* Distance between two nodes (10 for local, as in the SLIT table). */
int pgc__numa_distance(int a, int b);
/* The node of the CPU the caller runs on, or -1 if unknown. */
int pgc__numa_current_node(void);
/* Reads the CPU-to-node table of pgc__numa_current_node_fast() (once). */
void pgc__numa_cpu_table_init(void);
/* The same from that table and the rseq area's CPU: for the hit path. */
int pgc__numa_current_node_fast(void);
/*
 * Binds [addr, addr + len) to node with MPOL_BIND, so that pages faulted
 * later come from that node only. Returns 0 or a negative errno; a no-op
 * without NUMA.
 */
int pgc__numa_bind(void *addr, size_t len, int node);

/*
 * move_pages(2) on n OS pages of this process: to nodes[i], or with nodes
 * NULL only the node of each in status[i]. Returns 0, the count of pages
 * not moved, or a negative errno. Without NUMA there is node 0 only.
 */
int pgc__numa_move_pages(void **addrs, unsigned long n, const int *nodes, int *status, bool all);

#endif /* PGC_NUMA_INTERNAL_H */
