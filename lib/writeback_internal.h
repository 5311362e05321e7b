/*
 * Writeback inside the library (writeback.c): the mapping's writepages or
 * the default, and the bookkeeping of write failures that balance.c and
 * reclaim.c consult (a mapping's backoff and its rate-limited log).
 */
#ifndef PGC_WRITEBACK_INTERNAL_H
#define PGC_WRITEBACK_INTERNAL_H

#include "mapping_internal.h"

/* The mapping's writepages operation, or the default walk of its tags. */
int pgc__mapping_writepages(struct pgc_mapping *m, struct pgc_writeback_control *wbc);

/*
 * nr pages of m from index failed to write with err: counts them, backs
 * the mapping off (no background or reclaim write for 10 ms, doubling up
 * to 30 s while failures go on) and logs, rate-limited: the first failure,
 * then a summary at most every 10 s.
 */
void pgc__wb_write_failed(struct pgc_mapping *m, uint64_t index, unsigned nr, int err);

/* A page of m was written: ends a backoff (logged) if one was on. */
static inline void pgc__wb_write_ok(struct pgc_mapping *m)
{
	void pgc__wb_recovered(struct pgc_mapping * m);
	if (pgc_unlikely(atomic_load_explicit(&m->wb_last_err, memory_order_relaxed) != 0))
		pgc__wb_recovered(m);
}

/* True while m backs off after a failure: reclaim does not write its pages. */
static inline bool pgc__wb_backing_off(const struct pgc_mapping *m)
{
	uint64_t retry = atomic_load_explicit(&m->wb_retry_ns, memory_order_relaxed);
	return retry && retry > pgc__now_ns();
}

#endif /* PGC_WRITEBACK_INTERNAL_H */
