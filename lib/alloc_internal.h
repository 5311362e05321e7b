/*
 * The library's heap allocations go through these wrappers, so that the
 * fault-injection switch (fault_internal.h) can make any one of them fail:
 * tests walk every failure point of an operation with it. When the switch
 * is off the cost is one relaxed atomic load.
 */
#ifndef PGC_ALLOC_INTERNAL_H
#define PGC_ALLOC_INTERNAL_H

#include <errno.h>
#include <stdlib.h>

#include "fault_internal.h"

static inline void *pgc__malloc(size_t n)
{
	return pgc__fault_alloc() ? NULL : malloc(n);
}

static inline void *pgc__calloc(size_t n, size_t size)
{
	return pgc__fault_alloc() ? NULL : calloc(n, size);
}

static inline void *pgc__realloc(void *p, size_t n)
{
	return pgc__fault_alloc() ? NULL : realloc(p, n);
}

static inline int pgc__memalign(void **p, size_t align, size_t n)
{
	return pgc__fault_alloc() ? ENOMEM : posix_memalign(p, align, n);
}

#endif /* PGC_ALLOC_INTERNAL_H */
