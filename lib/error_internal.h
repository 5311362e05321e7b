/*
 * The cause of a short count (pgc_last_error(), io.h): a thread-local that
 * pgc_read(), pgc_write() and pgc_direct_io() set on every return, as the
 * C library sets errno. Initial-exec TLS: one store through the thread
 * pointer, no call, on the read hit path.
 */
#ifndef PGC_ERROR_INTERNAL_H
#define PGC_ERROR_INTERNAL_H

#include <sys/types.h>

extern __thread int pgc__last_io_error __attribute__((tls_model("initial-exec")));

/* Returns r after recording cause (0 or a negative errno) as this thread's
 * last I/O error. */
static inline ssize_t pgc__io_return(ssize_t r, int cause)
{
	pgc__last_io_error = cause;
	return r;
}

#endif /* PGC_ERROR_INTERNAL_H */
