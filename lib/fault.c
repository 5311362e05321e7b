/*
 * Fault injection (see fault_internal.h). The counters are process-wide
 * because allocation sites have no cache at hand; only tests set them.
 */
#include <stdatomic.h>

#include "fault_internal.h"

static _Atomic uint64_t countdown; /* 0: off; 1: the next check fails */
static _Atomic uint64_t checks, injected;

void pgc__fault_set_nth(uint64_t n)
{
	atomic_store(&checks, 0);
	atomic_store(&injected, 0);
	atomic_store(&countdown, n);
}

uint64_t pgc__fault_checks(void)
{
	return atomic_load(&checks);
}

uint64_t pgc__fault_injected(void)
{
	return atomic_load(&injected);
}

bool pgc__fault_alloc(void)
{
	uint64_t c = atomic_load_explicit(&countdown, memory_order_relaxed);
	if (__builtin_expect(c == 0, 1))
		return false;
	atomic_fetch_add(&checks, 1);
	while (c != 0 && !atomic_compare_exchange_weak(&countdown, &c, c - 1))
		;
	if (c == 1) {
		atomic_fetch_add(&injected, 1);
		return true;
	}
	return false;
}
