/*
 * io_uring for the built-in store's transfers (lib/uring.c), through
 * liburing when the library is built with it (PGC_HAVE_URING).
 *
 * Each thread that transfers gets a ring of its own, made on its first
 * request and freed when the thread exits (a ring is never shared, so no
 * lock guards it). A batch of requests is submitted with one
 * io_uring_enter and reaped together: the store's writeback submits all
 * its runs at once, so the device sees them all, not one at a time.
 *
 * Where a ring cannot be made (a kernel without io_uring, a seccomp filter
 * that refuses it, RLIMIT_MEMLOCK on kernels before 5.12, a build without
 * liburing), pgc__uring_run() returns -ENOSYS and the caller transfers
 * with preadv/pwritev; the first such failure is logged once, with its
 * errno, through the log callback of the cache at hand, and the process
 * does not try again.
 *
 * fork: a child's thread finds its ring made in the parent (the same
 * kernel ring, shared by the two processes); it drops that copy and makes
 * a new one (the fork generation says which is which).
 */
#ifndef PGC_URING_INTERNAL_H
#define PGC_URING_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct pgc_cache;

/* One request of a batch. res: the kernel's result, bytes or -errno. */
struct pgc__io {
	int fd;
	bool write;
	const struct iovec *iov;
	int iovcnt;
	uint64_t off;
	ssize_t res;
};

/*
 * Submits the n requests on this thread's ring and waits for all of them;
 * each gets the result of one attempt (a short count or -EAGAIN is the
 * caller's to finish or retry). Returns 0, or -ENOSYS when there is no
 * ring (then no request was submitted). @p log_cache (may be NULL) is told
 * when the process gives up on io_uring.
 */
int pgc__uring_run(struct pgc__io *ios, unsigned n, const struct pgc_cache *log_cache);

/* True if the library was built with liburing and no ring setup failed. */
bool pgc__uring_usable(void);

/* Makes this thread's ring if it has none: true if it has one now. */
bool pgc__uring_probe(void);

/*
 * Fault injection for tests (process-wide, off unless set): the n-th
 * event of the kind from now (1: the next) fails. Kinds:
 *   SETUP     a ring setup fails with -EPERM (then io_uring stays off in
 *             the process until pgc__uring_reset());
 *   EIO       a completion reports -EIO;
 *   EAGAIN    a completion reports -EAGAIN;
 *   SHORT     a completion of more than one block reports one block less.
 *   REGISTER  an eventfd registration fails with -EINVAL (aio.c).
 * every: with true, every event from the n-th on fails.
 */
enum pgc__uring_fault {
	PGC__URF_SETUP = 1,
	PGC__URF_EIO,
	PGC__URF_EAGAIN,
	PGC__URF_SHORT,
	PGC__URF_REGISTER,
};
void pgc__uring_fault_set(int kind, uint64_t nth, bool every);
/* Faults injected since the last pgc__uring_fault_set(). */
uint64_t pgc__uring_fault_injected(void);
/* Turns injection off and lets the process try io_uring again. */
void pgc__uring_reset(void);

/* Asks the fault hook about one event of the kind (uring.c, aio.c). */
bool pgc__uring_fault(int kind);

/* A completion's result as the completion faults make it (EIO, EAGAIN, SHORT). */
ssize_t pgc__uring_faulted(ssize_t res);

/* Counts kept for tests: requests submitted through rings, and calls of
 * pgc__uring_run() that found no ring. */
uint64_t pgc__uring_submitted(void);
uint64_t pgc__uring_fallbacks(void);

/* The block a short completion is cut by (tests use it too). */
#define PGC__URING_SHORT_CUT 4096

#endif /* PGC_URING_INTERNAL_H */
