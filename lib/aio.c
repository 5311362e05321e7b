/*
 * Asynchronous I/O contexts (see aio.h): the top layer, beside rw.c and
 * dio.c, which it calls.
 *
 * A context has three ways to serve a request:
 * - inline: a read whose pages are all cached is copied in the submit call
 *   (pgc__read_cached) and put on the ready list;
 * - its ring: a direct transfer of a file store's mapping over a clean
 *   range is cut into segments, one SQE each; completions are handled in
 *   pgc_aio_reap() (a short transfer or -EAGAIN is resubmitted from where
 *   it stopped);
 * - its workers: everything else runs as the synchronous call on a worker
 *   thread, which puts the request on the done list.
 * The ring's completions and the workers both signal one eventfd (the ring
 * through io_uring_register_eventfd), which is the descriptor a loop polls.
 *
 * Only the context's thread touches the ring, the free list and the ready
 * list; the job and done lists are shared with the workers under the
 * context's lock.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <pgcache/aio.h>
#include <pgcache/dio.h>
#include <pgcache/io.h>

#include "abi_internal.h"
#include "alloc_internal.h"
#include "error_internal.h"
#include "mapping_internal.h"
#include "store_internal.h"
#include "uring_internal.h"

#ifdef PGC_HAVE_URING
#include <liburing.h>
#endif

#define AIO_DEFAULT_DEPTH 256u
#define AIO_DEFAULT_WORKERS 2u
#define AIO_MAX_DEPTH 65536u
#define AIO_MAX_WORKERS 64u
#define AIO_INLINE_IOV 4
/* Ring entries: the depth, rounded up to a power of two, within these. */
#define AIO_RING_MIN 32u
#define AIO_RING_MAX 4096u

enum aio_kind { K_READ, K_WRITE, K_DIRECT, K_SYNC };

struct aio_req;

/* One segment of a direct transfer on the ring. */
struct aio_seg {
	struct aio_req *req;
	struct iovec *iov; /* a slice of the request's split array */
	int iovcnt;
	uint64_t off; /* file offset of the segment's next byte */
	size_t len, done;
	bool finished;
};

struct aio_req {
	struct aio_req *next;
	int kind, rw;
	pgc_mapping *m;
	void *buf;
	size_t len;
	uint64_t off, end;
	unsigned flags;
	struct iovec *iov;
	int iovcnt;
	struct iovec iov_inline[AIO_INLINE_IOV];
	pgc_aio_done_fn fn;
	void *arg;
	ssize_t result;
	/* On the ring: */
	pgc_store *store;
	bool ring_write; /* counted in the mapping's ring_dio_writes */
	struct aio_seg *segs;
	struct aio_seg seg_inline;
	struct iovec *split; /* the iovecs cut at segment boundaries */
	struct iovec split_inline[AIO_INLINE_IOV + 1];
	unsigned nseg, pending;
	size_t want; /* bytes a read reports at most */
	int err;
	pgc_errseq_t *since; /* K_SYNC: the caller's sample, or NULL */
	int cause; /* what stopped a short transfer (pgc_last_error() in the callback) */
};

struct req_list {
	struct aio_req *head, *tail;
};

struct pgc_aio {
	struct pgc_aio_config cfg;
	int efd;
	bool has_ring;
#ifdef PGC_HAVE_URING
	struct io_uring ring;
#endif
	unsigned ring_entries;
	struct aio_req *reqs, *free;
	_Atomic unsigned inflight;
	struct req_list ready; /* the context's thread only */
	pthread_mutex_t lock;  /* the two lists below and stop */
	pthread_cond_t work;
	struct req_list jobs, done;
	bool stop;
	unsigned at_workers; /* given to workers, not yet gathered (context's thread) */
	pthread_t *threads;
	unsigned nthreads;
	_Atomic uint64_t n_inline, n_ring, n_worker, n_completed;
};

static void list_push(struct req_list *l, struct aio_req *r)
{
	r->next = NULL;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
}

static struct aio_req *list_pop(struct req_list *l)
{
	struct aio_req *r = l->head;
	if (r) {
		l->head = r->next;
		if (!l->head)
			l->tail = NULL;
	}
	return r;
}

/* Appends all of from to to, emptying from. */
static void list_splice(struct req_list *to, struct req_list *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

static void signal_fd(struct pgc_aio *a)
{
	uint64_t one = 1;
	/* Fails only when the counter is about to overflow: it is readable
	 * then anyway. */
	ssize_t r = write(a->efd, &one, sizeof(one));
	(void)r;
}

/* ---- workers ----------------------------------------------------------- */

static void run_sync(struct aio_req *r)
{
	switch (r->kind) {
	case K_READ:
		r->result = pgc_read(r->m, r->buf, r->len, r->off);
		break;
	case K_WRITE:
		r->result = pgc_write(r->m, r->buf, r->len, r->off, r->flags);
		break;
	case K_DIRECT:
		r->result = pgc_direct_io(r->m, r->rw, r->iov, r->iovcnt, r->off);
		break;
	case K_SYNC:
		r->result = pgc_sync_range(r->m, r->off, r->end, r->since);
		break;
	}
}

static void run_job(struct aio_req *r)
{
	run_sync(r);
	r->cause = r->kind == K_SYNC ? 0 : pgc_last_error();
}

static void *worker_main(void *arg)
{
	struct pgc_aio *a = arg;
	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct aio_req *r = list_pop(&a->jobs);
		if (!r) {
			if (a->stop)
				break;
			pthread_cond_wait(&a->work, &a->lock);
			continue;
		}
		pthread_mutex_unlock(&a->lock);
		run_job(r);
		pthread_mutex_lock(&a->lock);
		list_push(&a->done, r);
		signal_fd(a);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static void to_worker(struct pgc_aio *a, struct aio_req *r)
{
	atomic_fetch_add_explicit(&a->n_worker, 1, memory_order_relaxed);
	a->at_workers++;
	pthread_mutex_lock(&a->lock);
	list_push(&a->jobs, r);
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
}

/* ---- requests ---------------------------------------------------------- */

static struct aio_req *req_get(struct pgc_aio *a, pgc_mapping *m, int kind, pgc_aio_done_fn fn,
			       void *arg)
{
	struct aio_req *r = a->free;
	if (!r)
		return NULL;
	a->free = r->next;
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->m = m;
	r->fn = fn;
	r->arg = arg;
	atomic_fetch_add_explicit(&a->inflight, 1, memory_order_relaxed);
	return r;
}

static void req_release(struct pgc_aio *a, struct aio_req *r)
{
	if (r->iov != r->iov_inline)
		free(r->iov);
	if (r->segs != &r->seg_inline)
		free(r->segs);
	if (r->split != r->split_inline)
		free(r->split);
	r->next = a->free;
	a->free = r;
	atomic_fetch_sub_explicit(&a->inflight, 1, memory_order_relaxed);
}

static void complete_now(struct pgc_aio *a, struct aio_req *r, ssize_t result)
{
	r->result = result;
	bool was_empty = !a->ready.head;
	list_push(&a->ready, r);
	if (was_empty)
		signal_fd(a);
}

/* ---- the ring ---------------------------------------------------------- */

#ifdef PGC_HAVE_URING

static bool seg_queue(struct pgc_aio *a, struct aio_seg *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);
	if (!sqe) {
		io_uring_submit(&a->ring);
		sqe = io_uring_get_sqe(&a->ring);
		if (!sqe)
			return false;
	}
	struct aio_req *r = s->req;
	if (r->rw == PGC_READ)
		io_uring_prep_readv(sqe, pgc_store_fd(r->store), s->iov, (unsigned)s->iovcnt, s->off);
	else
		io_uring_prep_writev(sqe, pgc_store_fd(r->store), s->iov, (unsigned)s->iovcnt, s->off);
	io_uring_sqe_set_data(sqe, s);
	return true;
}

/* Moves a segment's iovecs past n bytes (a short transfer resumes there). */
static void seg_advance(struct aio_seg *s, size_t n)
{
	s->off += n;
	while (n) {
		size_t k = n < s->iov->iov_len ? n : s->iov->iov_len;
		s->iov->iov_base = (char *)s->iov->iov_base + k;
		s->iov->iov_len -= k;
		n -= k;
		if (!s->iov->iov_len) {
			s->iov++;
			s->iovcnt--;
		}
	}
}

/* A direct transfer whose segments have all finished. */
static void direct_finish(struct pgc_aio *a, struct aio_req *r)
{
	size_t bytes = 0;
	for (unsigned i = 0; i < r->nseg; i++) {
		bytes += r->segs[i].done;
		if (r->segs[i].done < r->segs[i].len)
			break; /* what follows a short segment does not count */
	}
	ssize_t res = (ssize_t)bytes;
	if (r->rw == PGC_READ) {
		if (!r->err || bytes) {
			res = pgc__store_direct_read_done(r->m, r->iov, r->iovcnt, r->off, res);
			if ((size_t)res > r->want)
				res = (ssize_t)r->want;
		}
	} else if (bytes) {
		pgc__dio_update_cached(r->m, r->iov, r->iovcnt, r->off, bytes);
		int terr = pgc__store_direct_write_done(r->store, r->m, r->off + bytes);
		if (terr && !r->err)
			r->err = terr;
	}
	if (r->ring_write) {
		r->ring_write = false;
		pgc__mapping_ring_write_end(r->m); /* its bytes are in the cache */
	}
	if (!bytes && r->err)
		res = r->err;
	r->result = res;
	r->cause = r->err;
	list_push(&a->ready, r);
}

static void seg_complete(struct pgc_aio *a, struct aio_seg *s, int res)
{
	struct aio_req *r = s->req;
	if (res == -EAGAIN || res == -EINTR) {
		if (seg_queue(a, s))
			return;
		res = -EAGAIN; /* no room to resubmit: the request fails */
	}
	if (res < 0) {
		if (!r->err)
			r->err = res;
		s->finished = true;
	} else if (res == 0) {
		if (r->rw == PGC_WRITE && !r->err)
			r->err = -EIO; /* a write that makes no progress never will */
		s->finished = true;
	} else {
		s->done += (size_t)res;
		uint32_t block = atomic_load_explicit(&r->m->dio_block, memory_order_relaxed);
		if (s->done >= s->len || (r->rw == PGC_READ && s->done % block)) {
			s->finished = true; /* done, or the end of the file */
		} else {
			seg_advance(s, (size_t)res);
			if (!seg_queue(a, s)) {
				if (!r->err)
					r->err = -EAGAIN;
				s->finished = true;
			}
		}
	}
	if (s->finished && --r->pending == 0)
		direct_finish(a, r);
}

static void ring_reap(struct pgc_aio *a)
{
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	/* Resubmissions from a completion go in the same queue: collect
	 * first, handle after, so the ring's head moves only once. */
	struct {
		struct aio_seg *s;
		int res;
	} got[64];
	for (;;) {
		unsigned n = 0;
		seen = 0;
		io_uring_for_each_cqe(&a->ring, head, cqe)
		{
			if (n == sizeof(got) / sizeof(got[0]))
				break;
			got[n].s = io_uring_cqe_get_data(cqe);
			got[n].res = (int)pgc__uring_faulted(cqe->res);
			n++;
			seen++;
		}
		io_uring_cq_advance(&a->ring, seen);
		for (unsigned i = 0; i < n; i++)
			seg_complete(a, got[i].s, got[i].res);
		if (n < sizeof(got) / sizeof(got[0]))
			break;
	}
}

/* Splits the request's iovecs into segments of at most seg_max bytes. */
static int direct_split(struct aio_req *r, size_t total, uint64_t seg_max)
{
	unsigned nseg = (unsigned)((total + seg_max - 1) / seg_max);
	size_t nsplit = (size_t)r->iovcnt + nseg;
	r->split = nsplit <= AIO_INLINE_IOV + 1 ? r->split_inline
						: pgc__malloc(nsplit * sizeof(*r->split));
	r->segs = nseg == 1 ? &r->seg_inline : pgc__calloc(nseg, sizeof(*r->segs));
	if (!r->split || !r->segs)
		return -ENOMEM;
	r->nseg = nseg;
	int k = 0, i = 0;
	size_t in = 0, left = total;
	for (unsigned sgi = 0; sgi < nseg; sgi++) {
		struct aio_seg *s = &r->segs[sgi];
		size_t len = left < seg_max ? left : (size_t)seg_max;
		*s = (struct aio_seg){.req = r, .iov = &r->split[k], .off = r->off + (total - left),
				      .len = len};
		left -= len;
		while (len) {
			size_t avail = r->iov[i].iov_len - in;
			if (!avail) {
				i++;
				in = 0;
				continue;
			}
			size_t take = len < avail ? len : avail;
			r->split[k].iov_base = (char *)r->iov[i].iov_base + in;
			r->split[k].iov_len = take;
			k++;
			s->iovcnt++;
			in += take;
			len -= take;
		}
	}
	return 0;
}

/*
 * Tries to put a direct transfer on the ring: true if it went there (or
 * completed at once), false if it must go to a worker (another store, dirty
 * or written-back pages in the range, no room in the ring).
 */
static bool direct_on_ring(struct pgc_aio *a, struct aio_req *r, size_t total)
{
	struct pgc_mapping *m = r->m;
	r->store = pgc__store_of(&m->ops, m->owner);
	if (!a->has_ring || !r->store)
		return false;
	uint64_t size = atomic_load_explicit(&m->size, memory_order_acquire);
	uint64_t block = atomic_load_explicit(&m->dio_block, memory_order_relaxed);
	r->want = total;
	if (r->rw == PGC_READ) {
		if (r->off >= size) {
			complete_now(a, r, 0);
			return true;
		}
		if (r->want > size - r->off)
			r->want = (size_t)(size - r->off);
		total = (r->want + block - 1) & ~(size_t)(block - 1);
	}
	/* The synchronous path writes these back first; here they go to a
	 * worker, which does. */
	uint32_t shift = m->cache->frames.page_shift;
	uint64_t first = r->off >> shift, last = (r->off + total - 1) >> shift;
	if (r->rw == PGC_READ && !pgc__mapping_range_clean(m, first, last))
		return false;
	uint64_t seg_max = atomic_load_explicit(&m->dio_max_segment, memory_order_relaxed);
	if (direct_split(r, total, seg_max) != 0 || r->nseg > a->ring_entries)
		return false;
	if (io_uring_sq_space_left(&a->ring) < r->nseg)
		io_uring_submit(&a->ring);
	if (io_uring_sq_space_left(&a->ring) < r->nseg)
		return false;
	if (r->rw == PGC_WRITE) {
		/* Excludes buffered writes and fills of the mapping until the
		 * write is finished, as the synchronous path's dio_lock does
		 * (mapping_internal.h): without it a page of the range dirtied
		 * meanwhile could be written back over this write's bytes and
		 * evicted before direct_finish() put them in the cache. */
		if (!pgc__mapping_ring_write_begin(m, first, last))
			return false;
		r->ring_write = true;
		pgc__mapping_grow_size(m, r->off + total);
	}
	r->pending = r->nseg;
	for (unsigned i = 0; i < r->nseg; i++)
		seg_queue(a, &r->segs[i]); /* room was checked */
	atomic_fetch_add_explicit(&a->n_ring, 1, memory_order_relaxed);
	return true;
}

static int ring_setup(struct pgc_aio *a)
{
	unsigned entries = AIO_RING_MIN;
	while (entries < a->cfg.depth && entries < AIO_RING_MAX)
		entries <<= 1;
	int err = pgc__uring_fault(PGC__URF_SETUP) ? -EPERM
						    : io_uring_queue_init(entries, &a->ring, 0);
	if (err)
		return err;
	err = pgc__uring_fault(PGC__URF_REGISTER) ? -EINVAL
						   : io_uring_register_eventfd(&a->ring, a->efd);
	if (err) {
		io_uring_queue_exit(&a->ring);
		return err;
	}
	a->ring_entries = entries;
	a->has_ring = true;
	return 0;
}

static void ring_teardown(struct pgc_aio *a)
{
	if (a->has_ring)
		io_uring_queue_exit(&a->ring);
}

static int ring_submit(struct pgc_aio *a)
{
	return a->has_ring ? io_uring_submit(&a->ring) : 0;
}

#else /* !PGC_HAVE_URING */

static bool direct_on_ring(struct pgc_aio *a, struct aio_req *r, size_t total)
{
	(void)a;
	(void)r;
	(void)total;
	return false;
}

static void ring_reap(struct pgc_aio *a)
{
	(void)a;
}

static int ring_setup(struct pgc_aio *a)
{
	(void)a;
	return -EOPNOTSUPP;
}

static void ring_teardown(struct pgc_aio *a)
{
	(void)a;
}

static int ring_submit(struct pgc_aio *a)
{
	(void)a;
	return 0;
}

#endif /* PGC_HAVE_URING */

/* ---- the context ------------------------------------------------------- */

PGC_API void pgc_aio_config_init(struct pgc_aio_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->depth = AIO_DEFAULT_DEPTH;
	cfg->workers = AIO_DEFAULT_WORKERS;
}

static void stop_workers(struct pgc_aio *a)
{
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (unsigned i = 0; i < a->nthreads; i++)
		pthread_join(a->threads[i], NULL);
	a->nthreads = 0;
}

static void aio_free(struct pgc_aio *a)
{
	stop_workers(a);
	ring_teardown(a);
	if (a->efd >= 0)
		close(a->efd);
	pthread_cond_destroy(&a->work);
	pthread_mutex_destroy(&a->lock);
	free(a->threads);
	free(a->reqs);
	free(a);
}

PGC_API int pgc_aio_create(const struct pgc_aio_config *ucfg, pgc_aio **ctxp)
{
	if (ctxp)
		*ctxp = NULL;
	if (!ctxp)
		return -EINVAL;
	struct pgc_aio_config cfg;
	if (ucfg) {
		int err = PGC__ABI_IN(cfg, ucfg, PGC_AIO_CONFIG_SIZE_0_2);
		if (err)
			return err;
	} else {
		pgc_aio_config_init(&cfg);
	}
	if (cfg.depth == 0)
		cfg.depth = AIO_DEFAULT_DEPTH;
	if (cfg.workers == 0)
		cfg.workers = AIO_DEFAULT_WORKERS;
	if (cfg.depth > AIO_MAX_DEPTH || cfg.workers > AIO_MAX_WORKERS ||
	    (cfg.flags & ~PGC_AIO_NO_URING))
		return -EINVAL;
	struct pgc_aio *a = pgc__calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	a->efd = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	int err = -ENOMEM;
	a->reqs = pgc__calloc(cfg.depth, sizeof(*a->reqs));
	a->threads = pgc__calloc(cfg.workers, sizeof(*a->threads));
	if (!a->reqs || !a->threads)
		goto fail;
	for (unsigned i = cfg.depth; i-- > 0;) {
		a->reqs[i].next = a->free;
		a->free = &a->reqs[i];
	}
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		err = -errno;
		goto fail;
	}
	if (!(cfg.flags & PGC_AIO_NO_URING) && pgc__uring_usable() && pgc__uring_probe())
		(void)ring_setup(a); /* without a ring, the workers do it all */
	for (unsigned i = 0; i < cfg.workers; i++) {
		err = -pthread_create(&a->threads[i], NULL, worker_main, a);
		if (err)
			goto fail;
		a->nthreads++;
	}
	*ctxp = a;
	return 0;
fail:
	aio_free(a);
	return err;
}

PGC_API int pgc_aio_destroy(pgc_aio *a)
{
	if (!a)
		return 0;
	if (atomic_load(&a->inflight))
		return -EBUSY;
	aio_free(a);
	return 0;
}

PGC_API int pgc_aio_fd(const pgc_aio *a)
{
	return a ? a->efd : -EINVAL;
}

PGC_API unsigned pgc_aio_inflight(const pgc_aio *a)
{
	return a ? atomic_load_explicit(&a->inflight, memory_order_relaxed) : 0;
}

PGC_API int pgc_aio_uses_uring(const pgc_aio *a)
{
	return a ? a->has_ring : -EINVAL;
}

PGC_API int pgc_aio_stats(const pgc_aio *a, struct pgc_aio_stats *ust)
{
	int err = pgc__abi_check_out(ust, PGC_AIO_STATS_SIZE_0_2);
	if (err)
		return err;
	if (!a)
		return -EINVAL;
	struct pgc_aio_stats st = {
		.size = sizeof(st),
		.inline_done = atomic_load(&a->n_inline),
		.ring = atomic_load(&a->n_ring),
		.worker = atomic_load(&a->n_worker),
		.completed = atomic_load(&a->n_completed),
	};
	PGC__ABI_OUT(ust, st);
	return 0;
}

PGC_API int pgc_aio_read(pgc_aio *a, pgc_mapping *m, void *buf, size_t len, uint64_t off,
			 pgc_aio_done_fn fn, void *arg)
{
	if (!a || !m || !fn || (!buf && len))
		return -EINVAL;
	struct aio_req *r = req_get(a, m, K_READ, fn, arg);
	if (!r)
		return -EAGAIN;
	r->buf = buf;
	r->len = len;
	r->off = off;
	ssize_t got = pgc__read_cached(m, buf, len, off);
	if (got >= 0) {
		atomic_fetch_add_explicit(&a->n_inline, 1, memory_order_relaxed);
		complete_now(a, r, got);
	} else {
		to_worker(a, r);
	}
	return 0;
}

PGC_API int pgc_aio_write(pgc_aio *a, pgc_mapping *m, const void *buf, size_t len,
			  uint64_t off, unsigned flags, pgc_aio_done_fn fn, void *arg)
{
	if (!a || !m || !fn || (!buf && len) || (flags & ~PGC_WRITE_SYNC))
		return -EINVAL;
	struct aio_req *r = req_get(a, m, K_WRITE, fn, arg);
	if (!r)
		return -EAGAIN;
	r->buf = (void *)buf;
	r->len = len;
	r->off = off;
	r->flags = flags;
	to_worker(a, r);
	return 0;
}

PGC_API int pgc_aio_direct(pgc_aio *a, pgc_mapping *m, int rw, const struct iovec *iov,
			   int iovcnt, uint64_t off, pgc_aio_done_fn fn, void *arg)
{
	if (!a || !fn)
		return -EINVAL;
	size_t total;
	int err = pgc__dio_check(m, rw, iov, iovcnt, off, &total);
	if (err)
		return err;
	if (!m->ops.direct_IO)
		return -EOPNOTSUPP;
	struct aio_req *r = req_get(a, m, K_DIRECT, fn, arg);
	if (!r)
		return -EAGAIN;
	r->rw = rw;
	r->off = off;
	r->iovcnt = iovcnt;
	r->iov = r->iov_inline;
	if (iovcnt > AIO_INLINE_IOV && !(r->iov = pgc__malloc((size_t)iovcnt * sizeof(*iov)))) {
		r->iov = r->iov_inline;
		req_release(a, r);
		return -ENOMEM;
	}
	memcpy(r->iov, iov, (size_t)iovcnt * sizeof(*iov));
	if (total == 0) {
		complete_now(a, r, 0);
		return 0;
	}
	if (!direct_on_ring(a, r, total)) {
		/* What the ring path built is not needed by the worker. */
		if (r->segs != &r->seg_inline)
			free(r->segs);
		if (r->split != r->split_inline)
			free(r->split);
		r->segs = NULL;
		r->split = NULL;
		r->nseg = 0;
		to_worker(a, r);
	}
	return 0;
}

PGC_API int pgc_aio_sync(pgc_aio *a, pgc_mapping *m, uint64_t start, uint64_t end,
			 pgc_errseq_t *since, pgc_aio_done_fn fn, void *arg)
{
	if (!a || !m || !fn || start > end)
		return -EINVAL;
	struct aio_req *r = req_get(a, m, K_SYNC, fn, arg);
	if (!r)
		return -EAGAIN;
	r->off = start;
	r->end = end;
	r->since = since;
	to_worker(a, r);
	return 0;
}

PGC_API int pgc_aio_submit(pgc_aio *a)
{
	if (!a)
		return -EINVAL;
	return ring_submit(a);
}

/* Gathers what is done into the ready list. */
static void gather(struct pgc_aio *a)
{
	if (a->has_ring)
		ring_reap(a);
	if (!a->at_workers)
		return;
	pthread_mutex_lock(&a->lock);
	for (struct aio_req *r = a->done.head; r; r = r->next)
		a->at_workers--;
	list_splice(&a->ready, &a->done);
	pthread_mutex_unlock(&a->lock);
}

/* Waits for a completion: on the ring itself when only the ring has work
 * (one system call submits and waits), else on the descriptor. */
static void wait_some(struct pgc_aio *a)
{
#ifdef PGC_HAVE_URING
	if (a->has_ring && !a->at_workers) {
		int r = io_uring_submit_and_wait(&a->ring, 1);
		(void)r; /* -EINTR and the like: the caller looks again */
		return;
	}
#endif
	ring_submit(a);
	struct pollfd pfd = {.fd = a->efd, .events = POLLIN};
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	uint64_t v;
	ssize_t n = read(a->efd, &v, sizeof(v));
	(void)n;
}

/* Whether completions wait that gather() would find. */
static bool pending(struct pgc_aio *a)
{
	if (a->ready.head)
		return true;
#ifdef PGC_HAVE_URING
	if (a->has_ring && io_uring_cq_ready(&a->ring))
		return true;
#endif
	if (!a->at_workers)
		return false;
	pthread_mutex_lock(&a->lock);
	bool any = a->done.head != NULL;
	pthread_mutex_unlock(&a->lock);
	return any;
}

PGC_API int pgc_aio_reap(pgc_aio *a, unsigned min, unsigned max)
{
	if (!a || (max && max < min))
		return -EINVAL;
	unsigned ran = 0;
	for (;;) {
		gather(a);
		struct aio_req *r;
		while ((!max || ran < max) && (r = list_pop(&a->ready))) {
			pgc_aio_done_fn fn = r->fn;
			void *arg = r->arg;
			ssize_t result = r->result;
			int cause = r->cause;
			req_release(a, r); /* before the callback: it may submit */
			atomic_fetch_add_explicit(&a->n_completed, 1, memory_order_relaxed);
			pgc__last_io_error = cause;
			fn(arg, result);
			ran++;
		}
		unsigned left = atomic_load_explicit(&a->inflight, memory_order_relaxed);
		if (ran >= min || left == 0 || (max && ran >= max))
			break;
		wait_some(a);
	}
	/* What the callbacks queued goes to the kernel before the caller
	 * sleeps in its poll. */
	ring_submit(a);
	/*
	 * The descriptor: the ring and the workers raise its count on each
	 * completion. A call that found nothing to do resets it (then looks
	 * again, so that a completion between the two is not missed); a
	 * busy loop leaves it raised, which costs the caller one extra turn.
	 */
	if (ran == 0) {
		uint64_t v;
		ssize_t n = read(a->efd, &v, sizeof(v));
		(void)n;
		if (pending(a))
			signal_fd(a);
	} else if (a->ready.head) {
		signal_fd(a); /* callbacks left for the next call */
	}
	return (int)ran;
}
