/*
 * Suite "vm_probe": proves that the virtual machine of scripts/numa-vm.sh
 * really has the NUMA nodes the multi-node tests rely on, independently of
 * libpgcache: libnuma sees PGC_VM_NODES nodes, each with memory, and a page
 * moved with move_pages(2) to any node is then reported on that node. It also
 * creates a cache, so that the static link of the library is proven too.
 *
 * Meant to run only inside the VM (ctest tests numa_vm_probe_2node and
 * numa_vm_probe_4node); on a single-node host it fails.
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <numa.h>
#include <numaif.h>
#include <sys/mman.h>

/* The node count the VM was started with (PGC_VM_NODES), or fails the test. */
static int expected_nodes(void)
{
	const char *s = getenv("PGC_VM_NODES");
	ck_assert_msg(s && *s, "PGC_VM_NODES is not set: run this program with scripts/numa-vm.sh");
	char *end;
	long n = strtol(s, &end, 10);
	ck_assert_msg(*end == '\0' && n >= 1 && n <= 64, "bad PGC_VM_NODES '%s'", s);
	return (int)n;
}

static int cpus_of_node(int node)
{
	struct bitmask *cpus = numa_allocate_cpumask();
	ck_assert_ptr_nonnull(cpus);
	ck_assert_int_eq(numa_node_to_cpus(node, cpus), 0);
	int n = (int)numa_bitmask_weight(cpus);
	numa_free_cpumask(cpus);
	return n;
}

START_TEST(nodes_match_topology)
{
	int n = expected_nodes();

	ck_assert_int_ge(numa_available(), 0);
	ck_assert_int_eq(numa_max_node(), n - 1);
	ck_assert_int_eq(numa_num_configured_nodes(), n);
	for (int node = 0; node < n; node++) {
		long long size = numa_node_size64(node, NULL);
		ck_assert_msg(size > 0, "node %d has no memory (%lld)", node, size);
		ck_assert_int_eq(numa_distance(node, node), 10);
		printf("node %d: %lld MiB, %d CPUs\n", node, size >> 20, cpus_of_node(node));
	}
	/* Both topologies: nodes 0 and 1 have a CPU each; in 4node, nodes 2
	 * and 3 are memory only and farther from node 0 than node 1 is. */
	ck_assert_int_eq(cpus_of_node(0), 1);
	ck_assert_int_eq(cpus_of_node(1), 1);
	if (n == 4) {
		ck_assert_int_eq(cpus_of_node(2), 0);
		ck_assert_int_eq(cpus_of_node(3), 0);
		ck_assert_int_gt(numa_distance(0, 2), numa_distance(0, 1));
		ck_assert_int_gt(numa_distance(1, 3), numa_distance(1, 0));
	}
}
END_TEST

START_TEST(move_page_to_every_node)
{
	int n = expected_nodes();
	size_t psz = pgc_test_os_page();

	ck_assert_int_ge(numa_available(), 0);
	for (int node = 0; node < n; node++) {
		char *p = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ck_assert_ptr_ne(p, MAP_FAILED);
		memset(p, 0x5a, psz); /* fault it in */

		void *pages[1] = { p };
		int nodes[1] = { node };
		int status[1] = { -1 };
		long ret = numa_move_pages(0, 1, pages, nodes, status, MPOL_MF_MOVE);
		ck_assert_msg(ret == 0, "move_pages to node %d = %ld (errno %d: %s)", node, ret, errno,
			      strerror(errno));
		ck_assert_msg(status[0] == node, "move_pages to node %d: status %d", node, status[0]);

		/* Ask where the page is now, without moving it. */
		status[0] = -1;
		ret = numa_move_pages(0, 1, pages, NULL, status, 0);
		ck_assert_msg(ret == 0, "move_pages query = %ld (errno %d)", ret, errno);
		ck_assert_msg(status[0] == node, "page moved to node %d is on node %d", node, status[0]);
		ck_assert_int_eq(p[psz - 1], 0x5a);

		ck_assert_int_eq(munmap(p, psz), 0);
	}
}
END_TEST

START_TEST(library_links_statically)
{
	pgc_cache *cache = pgc_test_cache(64, 0);
	int nodes[PGC_MAX_NODES];
	int n = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);

	ck_assert_int_ge(n, 1);
	printf("libpgcache %s: a cache on %d node(s)\n", pgc_version_string(), n);
	ck_assert_int_eq(pgc_cache_destroy(cache), 0);
}
END_TEST

static Suite *vm_probe_suite(void)
{
	Suite *s = suite_create("vm_probe");
	PGC_ADD(s, nodes_match_topology, 30);
	PGC_ADD(s, move_page_to_every_node, 30);
	PGC_ADD(s, library_links_statically, 30);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, vm_probe_suite());
}
