/*
 * Fault injection for tests: makes the N-th internal allocation that asks
 * fail, so that tests can walk every failure point of an operation
 * (N = 1, 2, 3... until the operation succeeds untouched). Off unless a
 * test turns it on; the check is one relaxed atomic load when off.
 */
#ifndef PGC_FAULT_INTERNAL_H
#define PGC_FAULT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* Fail the n-th allocation check from now (1: the next); 0 turns it off. */
void pgc__fault_set_nth(uint64_t n);

/* Allocation checks made since pgc__fault_set_nth(), and failures injected. */
uint64_t pgc__fault_checks(void);
uint64_t pgc__fault_injected(void);

/* Called before an internal allocation: true means "behave as if it failed". */
bool pgc__fault_alloc(void);

#endif /* PGC_FAULT_INTERNAL_H */
