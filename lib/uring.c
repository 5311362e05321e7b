/*
 * Per-thread io_uring rings for the built-in store (see uring_internal.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <pgcache/common.h>

#include "alloc_internal.h"
#include "cache_internal.h"
#include "fork_internal.h"
#include "uring_internal.h"

#ifdef PGC_HAVE_URING
#include <liburing.h>
#endif

/* valgrind's memcheck cannot see the kernel fill buffers through a ring
 * (it would report every byte read as uninitialised): under it, the store
 * uses preadv/pwritev. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define PGC_UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef PGC_UNDER_VALGRIND
#define PGC_UNDER_VALGRIND() 0
#endif

/* ---- fault injection ------------------------------------------------- */

static _Atomic int fault_kind;
static _Atomic uint64_t fault_countdown, fault_count;
static _Atomic bool fault_every;

void pgc__uring_fault_set(int kind, uint64_t nth, bool every)
{
	atomic_store(&fault_count, 0);
	atomic_store(&fault_every, every);
	atomic_store(&fault_countdown, nth);
	atomic_store(&fault_kind, nth ? kind : 0);
}

uint64_t pgc__uring_fault_injected(void)
{
	return atomic_load(&fault_count);
}

bool pgc__uring_fault(int kind)
{
	if (pgc_likely(atomic_load_explicit(&fault_kind, memory_order_relaxed) != kind))
		return false;
	uint64_t c = atomic_load(&fault_countdown);
	for (;;) {
		if (c == 0)
			return false;
		if (c == 1 && atomic_load(&fault_every))
			break;
		if (atomic_compare_exchange_weak(&fault_countdown, &c, c - 1)) {
			if (c != 1)
				return false;
			break;
		}
	}
	atomic_fetch_add(&fault_count, 1);
	return true;
}

ssize_t pgc__uring_faulted(ssize_t res)
{
	if (pgc__uring_fault(PGC__URF_EIO))
		return -EIO;
	if (pgc__uring_fault(PGC__URF_EAGAIN))
		return -EAGAIN;
	if (res > PGC__URING_SHORT_CUT && pgc__uring_fault(PGC__URF_SHORT))
		return res - PGC__URING_SHORT_CUT;
	return res;
}

/* ---- rings ------------------------------------------------------------ */

static _Atomic bool given_up;
static _Atomic bool logged;
static _Atomic uint64_t submitted, fallbacks;

uint64_t pgc__uring_submitted(void)
{
	return atomic_load(&submitted);
}

uint64_t pgc__uring_fallbacks(void)
{
	return atomic_load(&fallbacks);
}

static void give_up(const struct pgc_cache *c, int err)
{
	atomic_store(&given_up, true);
	if (c && !atomic_exchange(&logged, true))
		pgc__log(c, PGC_LOG_WARN,
			 "io_uring unavailable (%s): the file store uses preadv/pwritev",
			 strerror(-err));
}

#ifdef PGC_HAVE_URING

/* Entries of a thread's ring: a batch larger than this goes in waves. */
#define RING_ENTRIES 128u

struct thread_ring {
	struct io_uring ring;
	uint32_t fork_gen;
};

static pthread_key_t ring_key;
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;
static bool ring_key_ok;
static __thread struct thread_ring *my_ring;

static void ring_free(void *p)
{
	struct thread_ring *tr = p;
	if (!tr)
		return;
	io_uring_queue_exit(&tr->ring);
	free(tr);
}

static void ring_key_make(void)
{
	ring_key_ok = pthread_key_create(&ring_key, ring_free) == 0;
}

bool pgc__uring_usable(void)
{
	return !atomic_load_explicit(&given_up, memory_order_relaxed);
}

void pgc__uring_reset(void)
{
	pgc__uring_fault_set(0, 0, false);
	atomic_store(&given_up, false);
	atomic_store(&logged, false);
}

static struct io_uring *thread_ring(const struct pgc_cache *c);

bool pgc__uring_probe(void)
{
	return thread_ring(NULL) != NULL;
}

static struct io_uring *thread_ring(const struct pgc_cache *c)
{
	struct thread_ring *tr = my_ring;
	if (pgc_likely(tr && !pgc__fork_inherited(tr->fork_gen)))
		return &tr->ring;
	if (tr) {
		/* Made in the parent: this process's copy of it goes. */
		ring_free(tr);
		my_ring = NULL;
		if (ring_key_ok)
			pthread_setspecific(ring_key, NULL);
	}
	if (atomic_load_explicit(&given_up, memory_order_relaxed))
		return NULL;
	pthread_once(&ring_key_once, ring_key_make);
	if (!ring_key_ok)
		return NULL;
	tr = pgc__calloc(1, sizeof(*tr));
	if (!tr)
		return NULL; /* no memory now: this request goes by preadv */
	int err = pgc__uring_fault(PGC__URF_SETUP) ? -EPERM
		  : PGC_UNDER_VALGRIND()	    ? -ENOTSUP
						    : io_uring_queue_init(RING_ENTRIES, &tr->ring, 0);
	if (err < 0) {
		free(tr);
		give_up(c, err);
		return NULL;
	}
	tr->fork_gen = pgc__fork_generation();
	my_ring = tr;
	pthread_setspecific(ring_key, tr);
	return &tr->ring;
}

int pgc__uring_run(struct pgc__io *ios, unsigned n, const struct pgc_cache *log_cache)
{
	struct io_uring *r = thread_ring(log_cache);
	if (!r) {
		atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
		return -ENOSYS;
	}
	/* next: requests queued so far; unsubmitted of them still in the
	 * submission queue; inflight: taken by the kernel, not reaped. */
	unsigned next = 0, done = 0, inflight = 0, unsubmitted = 0;
	while (done < n) {
		while (next < n) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(r);
			if (!sqe)
				break;
			struct pgc__io *io = &ios[next];
			if (io->write)
				io_uring_prep_writev(sqe, io->fd, io->iov, (unsigned)io->iovcnt, io->off);
			else
				io_uring_prep_readv(sqe, io->fd, io->iov, (unsigned)io->iovcnt, io->off);
			io_uring_sqe_set_data(sqe, io);
			next++;
			unsubmitted++;
		}
		int ret = io_uring_submit_and_wait(r, inflight || unsubmitted ? 1 : 0);
		if (ret == -EINTR || ret == -EAGAIN || ret == -EBUSY) {
			/* Nothing taken now: the entries stay queued; wait for
			 * a completion to make room if one is due. */
			struct io_uring_cqe *cqe;
			if (ret != -EINTR && inflight)
				(void)io_uring_wait_cqe(r, &cqe);
			ret = 0;
		} else if (ret < 0) {
			/*
			 * A ring that broke after its setup: the kernel took
			 * none of the queued entries. They and the rest fail;
			 * those taken before are reaped, and the ring is
			 * dropped (the thread makes a new one next time).
			 */
			for (unsigned i = next - unsubmitted; i < n; i++)
				ios[i].res = ret;
			while (inflight) {
				struct io_uring_cqe *cqe;
				if (io_uring_wait_cqe(r, &cqe) < 0)
					break;
				struct pgc__io *io = io_uring_cqe_get_data(cqe);
				io->res = pgc__uring_faulted(cqe->res);
				io_uring_cqe_seen(r, cqe);
				inflight--;
			}
			ring_free(my_ring);
			my_ring = NULL;
			pthread_setspecific(ring_key, NULL);
			return 0;
		}
		unsubmitted -= (unsigned)ret;
		inflight += (unsigned)ret;
		atomic_fetch_add_explicit(&submitted, (uint64_t)ret, memory_order_relaxed);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(r, head, cqe)
		{
			struct pgc__io *io = io_uring_cqe_get_data(cqe);
			io->res = pgc__uring_faulted(cqe->res);
			seen++;
		}
		io_uring_cq_advance(r, seen);
		inflight -= seen;
		done += seen;
	}
	return 0;
}

#else /* !PGC_HAVE_URING */

bool pgc__uring_usable(void)
{
	return false;
}

bool pgc__uring_probe(void)
{
	return false;
}

void pgc__uring_reset(void)
{
	pgc__uring_fault_set(0, 0, false);
}

int pgc__uring_run(struct pgc__io *ios, unsigned n, const struct pgc_cache *log_cache)
{
	(void)ios;
	(void)n;
	(void)log_cache;
	(void)give_up;
	atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
	return -ENOSYS;
}

#endif /* PGC_HAVE_URING */
