/*
 * Write-error reporting per mapping, in the manner of the kernel's errseq_t:
 * one 32-bit word holds the latest errno, a "seen" bit and a counter. A
 * holder (a file descriptor, a sync caller) keeps a sample; an error newer
 * than its sample is reported to it once, and to every other holder once
 * too, without a list of holders. The counter only moves when an error
 * is recorded after someone saw the previous one, so an error nobody
 * observed yet is simply replaced by the newer one.
 */
#include <errno.h>

#include "mapping_internal.h"

#define ERRSEQ_ERRNO_BITS 12u
#define ERRSEQ_ERRNO_MASK ((1u << ERRSEQ_ERRNO_BITS) - 1u)
#define ERRSEQ_SEEN (1u << ERRSEQ_ERRNO_BITS)
#define ERRSEQ_CTR_INC (1u << (ERRSEQ_ERRNO_BITS + 1u))

PGC_API int pgc_mapping_set_error(pgc_mapping *m, int err)
{
	if (!m || err >= 0 || -err > (int)ERRSEQ_ERRNO_MASK)
		return -EINVAL;
	uint32_t old = atomic_load_explicit(&m->wb_err, memory_order_relaxed), new;
	do {
		new = (old & ~(ERRSEQ_ERRNO_MASK | ERRSEQ_SEEN)) | (uint32_t)-err;
		if (old & ERRSEQ_SEEN)
			new += ERRSEQ_CTR_INC;
	} while (!atomic_compare_exchange_weak_explicit(&m->wb_err, &old, new, memory_order_release,
							memory_order_relaxed));
	return 0;
}

PGC_API pgc_errseq_t pgc_mapping_sample_error(pgc_mapping *m)
{
	if (!m)
		return 0;
	uint32_t cur = atomic_load_explicit(&m->wb_err, memory_order_acquire);
	/* An error nobody has seen yet is reported to new holders too. */
	return (cur & ERRSEQ_SEEN) ? cur : 0;
}

PGC_API int pgc_mapping_check_error(pgc_mapping *m, pgc_errseq_t *since)
{
	if (!m || !since)
		return -EINVAL;
	uint32_t cur = atomic_load_explicit(&m->wb_err, memory_order_acquire);
	for (;;) {
		if ((cur | ERRSEQ_SEEN) == (*since | ERRSEQ_SEEN))
			return 0;
		if (cur & ERRSEQ_SEEN)
			break;
		/* Mark it seen, so that the next error moves the counter. */
		if (atomic_compare_exchange_weak_explicit(&m->wb_err, &cur, cur | ERRSEQ_SEEN,
							  memory_order_acq_rel, memory_order_acquire)) {
			cur |= ERRSEQ_SEEN;
			break;
		}
	}
	*since = cur;
	return -(int)(cur & ERRSEQ_ERRNO_MASK);
}
