/*
 * The built-in O_DIRECT file store: the default backend under a mapping.
 * It implements the mapping operations (readpage, readpages, writepage,
 * writepages, direct_IO, resize, sync) with preadv, pwritev, ftruncate and
 * fdatasync on a descriptor opened with O_DIRECT, so the library's cache is the only cache of the data and the
 * kernel's page cache does not hold a second copy.
 *
 * It sits at the bottom of the stack, beside the mapping layer: it calls the
 * public mapping and page calls only (writepages through
 * pgc_mapping_writeback_runs()), and nothing in the library calls it except
 * through the operations table. The one OS-specific question, which
 * alignment direct I/O needs, is answered once when the store is made.
 *
 * O_DIRECT transfers whole blocks, so pages are always written whole. A
 * write that covers the mapping's partial last page therefore leaves the
 * file longer than the mapping; the store trims it back to the mapping's
 * size right after the write, so the file never shows bytes that the
 * mapping does not have.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <pgcache/cache.h>
#include <pgcache/io.h>
#include <pgcache/page.h>
#include <pgcache/migrate.h>
#include <pgcache/store.h>

#include "alloc_internal.h"
#include "assert_internal.h"
#include "store_internal.h"
#include "uring_internal.h"

/*
 * Older kernel headers lack the flag and name the two fields spare space;
 * the statx ABI fixes where the kernel puts them, so read them there.
 */
#ifdef STATX_DIOALIGN
#define STX_DIO_MEM_ALIGN_OFF offsetof(struct statx, stx_dio_mem_align)
#define STX_DIO_OFFSET_ALIGN_OFF offsetof(struct statx, stx_dio_offset_align)
#else
#define STATX_DIOALIGN 0x00002000U
#define STX_DIO_MEM_ALIGN_OFF 0x98
#define STX_DIO_OFFSET_ALIGN_OFF 0x9c
#endif
_Static_assert(sizeof(struct statx) >= STX_DIO_OFFSET_ALIGN_OFF + sizeof(uint32_t),
	       "struct statx too small for the direct-I/O alignment fields");

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

/* What a file system that reports nothing is assumed to need: every file
 * system with O_DIRECT accepts 4096-byte aligned I/O on 4 KiB-sector disks. */
#define STORE_DEFAULT_ALIGN 4096u

/* Largest segment direct_IO is given at once (see pgc_dio_limits). */
#define STORE_MAX_SEGMENT (1u << 20)
/* The largest readahead cap pgc_mapping_set_readahead() takes. */
#define STORE_RA_MAX_PAGES 1024u

/* iovecs kept on the stack for a run; longer runs allocate. */
#define STORE_STACK_IOVS 32

struct pgc_store {
	int fd;
	bool own_fd;
	/* Block devices have no file size to trim and report their size by
	 * ioctl, not fstat. */
	bool blkdev;
	uint32_t block_size;
	uint32_t mem_align;
	/* The kernel's readahead for the file's device (read_ahead_kb), in
	 * KiB; -1 when unknown (no block device behind it). */
	int64_t ra_kb;
	/* The engine asked for: PGC_STORE_URING or PGC_STORE_PSYNC. */
	_Atomic int engine;
	/*
	 * Writes of pages take it shared, trimming takes it exclusive. Without
	 * it a trim that read the mapping's size before the mapping grew could
	 * cut off pages another run wrote past that old size in the meantime.
	 */
	pthread_rwlock_t trim_lock;
	/* Its mappings' name for the log: the file's last path component,
	 * or "fd N" for a store made from a descriptor. */
	char name[PGC_MAPPING_NAME_MAX];
};

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* ---- alignment --------------------------------------------------------- */

/* Asks the kernel (Linux 6.1+) what direct I/O on this file needs. */
static bool align_from_statx(int fd, uint32_t *block, uint32_t *mem)
{
	struct statx stx;
	memset(&stx, 0, sizeof(stx));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) != 0)
		return false;
	if (!(stx.stx_mask & STATX_DIOALIGN))
		return false;
	uint32_t off_align, mem_align;
	memcpy(&mem_align, (const char *)&stx + STX_DIO_MEM_ALIGN_OFF, sizeof(mem_align));
	memcpy(&off_align, (const char *)&stx + STX_DIO_OFFSET_ALIGN_OFF, sizeof(off_align));
	/* Zero means the file does not support direct I/O at all (or the
	 * file system does not say): fall back rather than trust it. */
	if (!is_pow2(off_align) || !is_pow2(mem_align))
		return false;
	*block = off_align;
	*mem = mem_align;
	return true;
}

static void learn_alignment(struct pgc_store *s)
{
	uint32_t block = STORE_DEFAULT_ALIGN, mem = STORE_DEFAULT_ALIGN;
	if (!align_from_statx(s->fd, &block, &mem) && s->blkdev) {
		/* Before STATX_DIOALIGN, a block device's logical sector size
		 * was the rule for both offsets and buffers. */
		int ssz = 0;
		if (ioctl(s->fd, BLKSSZGET, &ssz) == 0 && ssz > 0 && is_pow2((uint64_t)ssz))
			block = mem = (uint32_t)ssz;
	}
	s->block_size = block;
	s->mem_align = mem;
}

/*
 * The readahead the kernel gives the block device under the file (the
 * device itself for a block device): its queue's read_ahead_kb, found
 * through /sys/dev/block; for a partition the queue is its disk's, one
 * level up. -1 when there is none to read (a file system without a block
 * device, or no sysfs).
 */
static int64_t device_readahead_kb(const struct stat *st)
{
	dev_t dev = S_ISBLK(st->st_mode) ? st->st_rdev : st->st_dev;
	static const char *const fmt[] = {"/sys/dev/block/%u:%u/queue/read_ahead_kb",
					  "/sys/dev/block/%u:%u/../queue/read_ahead_kb"};
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		char path[96];
		snprintf(path, sizeof(path), fmt[i], major(dev), minor(dev));
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		long long kb = -1;
		int n = fscanf(f, "%lld", &kb);
		fclose(f);
		if (n == 1 && kb >= 0)
			return kb;
	}
	return -1;
}

/* ---- opening and closing ----------------------------------------------- */

static int store_make(int fd, bool own, pgc_store **storep)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if (!(fl & O_DIRECT) || (fl & O_APPEND))
		return -EINVAL;
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -errno;
	struct pgc_store *s = pgc__calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_rwlockattr_t attr;
	if (pthread_rwlockattr_init(&attr) != 0) {
		free(s);
		return -ENOMEM;
	}
	/* A steady stream of page writes must not starve a trim. */
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	int err = pthread_rwlock_init(&s->trim_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (err) {
		free(s);
		return -err;
	}
	s->fd = fd;
	s->own_fd = own;
	snprintf(s->name, sizeof(s->name), "fd %d", fd);
	s->blkdev = S_ISBLK(st.st_mode);
	s->ra_kb = device_readahead_kb(&st);
	atomic_init(&s->engine, pgc__uring_usable() ? PGC_STORE_URING : PGC_STORE_PSYNC);
	learn_alignment(s);
	*storep = s;
	return 0;
}

/*
 * open(2) failed with EINVAL: did the file system refuse O_DIRECT, or was
 * something else invalid? The same open without O_DIRECT tells. It is made
 * without O_CREAT, O_EXCL and O_TRUNC (if the first open created the file
 * before the refusal, it is there now; if it did not, the probe fails and
 * the EINVAL stands), with O_NONBLOCK so that a FIFO cannot hold it, and
 * the descriptor is closed at once.
 */
static bool odirect_refused(const char *path, int flags)
{
	int probe_flags = (flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_DIRECT)) | O_CLOEXEC |
			  O_NONBLOCK | O_NOCTTY;
	int fd = open(path, probe_flags);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

PGC_API int pgc_store_open(const char *path, int flags, mode_t mode, pgc_store **storep)
{
	if (storep)
		*storep = NULL;
	if (!path || !storep)
		return -EINVAL;
	/* The store reads pages in, so it must be able to read; and O_APPEND
	 * would send every page write to the end of the file. */
	if ((flags & O_ACCMODE) == O_WRONLY || (flags & O_APPEND))
		return -EINVAL;
	int fd = open(path, flags | O_DIRECT | O_CLOEXEC, mode);
	if (fd < 0) {
		/*
		 * open(2) fails with EINVAL when the file system refuses
		 * O_DIRECT (tmpfs before Linux 6.6, procfs, some FUSE and
		 * overlay set-ups): that is -EOPNOTSUPP, a cause of its own,
		 * not a bad argument. With O_CREAT the file may have been
		 * created by then; it is left in place, since removing a path
		 * we do not hold open could remove someone else's file.
		 */
		int err = errno;
		if (err == EINVAL && odirect_refused(path, flags))
			return -EOPNOTSUPP;
		return -err;
	}
	int err = store_make(fd, true, storep);
	if (err) {
		close(fd);
		return err;
	}
	const char *base = strrchr(path, '/');
	snprintf((*storep)->name, sizeof((*storep)->name), "%s", base && base[1] ? base + 1 : path);
	return 0;
}

PGC_API int pgc_store_from_fd(int fd, unsigned flags, pgc_store **storep)
{
	if (storep)
		*storep = NULL;
	if (fd < 0 || (flags & ~PGC_STORE_OWN_FD) || !storep)
		return -EINVAL;
	return store_make(fd, flags & PGC_STORE_OWN_FD, storep);
}

PGC_API int pgc_store_close(pgc_store *s)
{
	if (!s)
		return 0;
	int err = 0;
	/* Linux frees the descriptor even when close reports an error, so it
	 * is never retried; the error is only reported. */
	if (s->own_fd && close(s->fd) != 0)
		err = -errno;
	pthread_rwlock_destroy(&s->trim_lock);
	free(s);
	return err;
}

PGC_API int pgc_store_fd(const pgc_store *s)
{
	return s ? s->fd : -EINVAL;
}

PGC_API int pgc_store_set_engine(pgc_store *s, int engine)
{
	if (!s || (engine != PGC_STORE_PSYNC && engine != PGC_STORE_URING))
		return -EINVAL;
	if (engine == PGC_STORE_URING && !pgc__uring_probe())
		return -EOPNOTSUPP;
	atomic_store(&s->engine, engine);
	return 0;
}

PGC_API int pgc_store_engine(const pgc_store *s)
{
	if (!s)
		return -EINVAL;
	int e = atomic_load(&s->engine);
	return e == PGC_STORE_URING && pgc__uring_usable() ? PGC_STORE_URING : PGC_STORE_PSYNC;
}

PGC_API size_t pgc_store_block_size(const pgc_store *s)
{
	return s ? s->block_size : 0;
}

PGC_API size_t pgc_store_mem_align(const pgc_store *s)
{
	return s ? s->mem_align : 0;
}

PGC_API int pgc_store_size(pgc_store *s, uint64_t *sizep)
{
	if (!s || !sizep)
		return -EINVAL;
	if (s->blkdev) {
		/* fstat reports 0 bytes for a block device. */
		uint64_t bytes;
		if (ioctl(s->fd, BLKGETSIZE64, &bytes) != 0)
			return -errno;
		*sizep = bytes;
		return 0;
	}
	struct stat st;
	if (fstat(s->fd, &st) != 0)
		return -errno;
	*sizep = (uint64_t)st.st_size;
	return 0;
}

PGC_API int pgc_store_truncate(pgc_store *s, uint64_t size)
{
	if (!s || size > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (ftruncate(s->fd, (off_t)size) != 0)
		return -errno;
	return 0;
}

PGC_API int pgc_store_sync(pgc_store *s)
{
	if (!s)
		return -EINVAL;
	if (fdatasync(s->fd) != 0)
		return -errno;
	return 0;
}

/* ---- transfers --------------------------------------------------------- */

/* Checks a request against O_DIRECT's rules before anything is done, so a
 * bad request fails whole instead of half done; returns its byte count. */
static ssize_t check_request(const struct pgc_store *s, const struct iovec *iov, int iovcnt,
			     uint64_t offset)
{
	if (!s || !iov || iovcnt < 1 || iovcnt > IOV_MAX)
		return -EINVAL;
	if (offset % s->block_size)
		return -EINVAL;
	uint64_t total = 0;
	for (int i = 0; i < iovcnt; i++) {
		if ((uintptr_t)iov[i].iov_base % s->mem_align || iov[i].iov_len % s->block_size)
			return -EINVAL;
		total += iov[i].iov_len;
		if (total > (uint64_t)SSIZE_MAX)
			return -EINVAL;
	}
	if (offset > (uint64_t)INT64_MAX - total)
		return -EINVAL;
	return (ssize_t)total;
}

/* One attempt at a transfer: through this thread's ring when the store
 * uses io_uring (and the ring says neither -EAGAIN nor "no ring"), else
 * preadv/pwritev. Returns bytes or -errno. */
static ssize_t transfer_once(const struct pgc_store *s, int rw, const struct iovec *v, int cnt,
			     off_t pos, const struct pgc_cache *log)
{
	if (atomic_load_explicit(&s->engine, memory_order_relaxed) == PGC_STORE_URING) {
		struct pgc__io io = {.fd = s->fd, .write = rw == PGC_WRITE, .iov = v, .iovcnt = cnt,
				     .off = (uint64_t)pos};
		if (pgc__uring_run(&io, 1, log) == 0 && io.res != -EAGAIN)
			return io.res;
	}
	ssize_t r = rw == PGC_READ ? preadv(s->fd, v, cnt, pos) : pwritev(s->fd, v, cnt, pos);
	return r < 0 ? -errno : r;
}

/*
 * Transfers until @p total bytes are done, a read reaches the end of the
 * file, or an error; @p done bytes of it are already done (a request that
 * a batch finished short). The kernel may stop short (a signal, the 2 GiB
 * cap of one call); the rest is resumed without copying the caller's
 * array: a partly done buffer is finished alone, then the array goes on
 * from the next one.
 */
static ssize_t transfer(const struct pgc_store *s, int rw, const struct iovec *iov, int iovcnt,
			uint64_t offset, size_t total, size_t done, const struct pgc_cache *log)
{
	size_t skip = done;
	int i = 0;
	while (i < iovcnt && skip >= iov[i].iov_len)
		skip -= iov[i++].iov_len;
	while (done < total) {
		struct iovec one;
		const struct iovec *v = iov + i;
		int cnt = iovcnt - i;
		if (skip) {
			one.iov_base = (char *)iov[i].iov_base + skip;
			one.iov_len = iov[i].iov_len - skip;
			v = &one;
			cnt = 1;
		}
		off_t pos = (off_t)(offset + done);
		ssize_t r = transfer_once(s, rw, v, cnt, pos, log);
		if (r < 0) {
			if (r == -EINTR)
				continue;
			return r;
		}
		if (r == 0) {
			if (rw == PGC_READ)
				break; /* the end of the file */
			return -EIO; /* a write that makes no progress never will */
		}
		done += (size_t)r;
		/* O_DIRECT returns a count that is not a block multiple only
		 * at the end of a file whose size is not one; resuming there
		 * would be misaligned and fail with EINVAL. */
		if (rw == PGC_READ && done % s->block_size)
			break;
		size_t left = (size_t)r;
		while (left) {
			size_t avail = iov[i].iov_len - skip;
			if (left < avail) {
				skip += left;
				break;
			}
			left -= avail;
			skip = 0;
			i++;
		}
		/* Zero-length buffers left before the next one with room. */
		while (i < iovcnt && iov[i].iov_len == skip) {
			skip = 0;
			i++;
		}
	}
	return (ssize_t)done;
}

PGC_API ssize_t pgc_store_read(pgc_store *s, const struct iovec *iov, int iovcnt, uint64_t offset)
{
	ssize_t total = check_request(s, iov, iovcnt, offset);
	if (total <= 0)
		return total;
	return transfer(s, PGC_READ, iov, iovcnt, offset, (size_t)total, 0, NULL);
}

PGC_API ssize_t pgc_store_write(pgc_store *s, const struct iovec *iov, int iovcnt,
				uint64_t offset)
{
	ssize_t total = check_request(s, iov, iovcnt, offset);
	if (total <= 0)
		return total;
	return transfer(s, PGC_WRITE, iov, iovcnt, offset, (size_t)total, 0, NULL);
}

/* ---- mapping operations ------------------------------------------------ */

static size_t mapping_page_size(const pgc_mapping *m)
{
	return pgc_cache_page_size(pgc_mapping_cache(m));
}

/*
 * The iovecs of a run of pages: pages whose data happen to be adjacent in
 * memory (frames come from large chunks) share one iovec, so a run needs
 * fewer than IOV_MAX entries more often.
 */
struct page_iovs {
	struct iovec *v;
	int n;
	struct iovec stack[STORE_STACK_IOVS];
};

static int page_iovs_build(struct page_iovs *pv, pgc_page **pages, unsigned nr, size_t ps)
{
	pv->v = pv->stack;
	pv->n = 0;
	if (nr > STORE_STACK_IOVS) {
		pv->v = pgc__malloc(nr * sizeof(*pv->v));
		if (!pv->v)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < nr; i++) {
		char *data = pgc_page_data(pages[i]);
		struct iovec *last = pv->n ? &pv->v[pv->n - 1] : NULL;
		if (last && (char *)last->iov_base + last->iov_len == data) {
			last->iov_len += ps;
		} else {
			pv->v[pv->n].iov_base = data;
			pv->v[pv->n].iov_len = ps;
			pv->n++;
		}
	}
	return 0;
}

static void page_iovs_free(struct page_iovs *pv)
{
	if (pv->v != pv->stack)
		free(pv->v);
}

/* Sends iovecs in batches of at most IOV_MAX: one request when it fits. */
static ssize_t store_io_iovs(struct pgc_store *s, int rw, const struct iovec *v, int n,
			     uint64_t offset, const struct pgc_cache *log)
{
	size_t done = 0;
	for (int i = 0; i < n; i += IOV_MAX) {
		int cnt = n - i < IOV_MAX ? n - i : IOV_MAX;
		ssize_t want = check_request(s, v + i, cnt, offset + done);
		if (want <= 0)
			return want;
		ssize_t r = transfer(s, rw, v + i, cnt, offset + done, (size_t)want, 0, log);
		if (r < 0)
			return r;
		done += (size_t)r;
		if (r < want)
			break; /* end of file */
	}
	return (ssize_t)done;
}

/* Number of pages of a run starting at @p first that begin before @p size. */
static unsigned pages_before(uint64_t first, unsigned nr, uint64_t size, size_t ps)
{
	uint64_t end = size / ps + (size % ps != 0); /* first index wholly past size */
	if (first >= end)
		return 0;
	return end - first < nr ? (unsigned)(end - first) : nr;
}

/*
 * Reads pages [pages[0], pages[nr-1]] in one request. Bytes past the
 * mapping's size read as zeros whatever the file holds there, as the
 * kernel does past i_size, and pages wholly past it need no I/O at all.
 */
static int store_read_pages(pgc_mapping *m, pgc_page **pages, unsigned nr)
{
	struct pgc_store *s = pgc_mapping_owner(m);
	if (!s || !pages || nr == 0)
		return -EINVAL;
	size_t ps = mapping_page_size(m);
	uint64_t first = pgc_page_index(pages[0]);
	uint64_t msize = pgc_mapping_size(m);
	unsigned nio = pages_before(first, nr, msize, ps);
	size_t got = 0;
	if (nio) {
		struct page_iovs pv;
		int err = page_iovs_build(&pv, pages, nio, ps);
		if (err)
			return err;
		ssize_t r = store_io_iovs(s, PGC_READ, pv.v, pv.n, first * ps, pgc_mapping_cache(m));
		page_iovs_free(&pv);
		if (r < 0)
			return (int)r;
		got = (size_t)r;
	}
	/* Zero from the first byte that is not data: the end of the short
	 * read or the mapping's size, whichever comes first. */
	uint64_t valid = msize > first * ps ? msize - first * ps : 0;
	if (got > valid)
		got = (size_t)valid;
	for (unsigned i = 0; i < nr; i++) {
		size_t lo = (size_t)i * ps;
		if (got >= lo + ps)
			continue;
		size_t keep = got > lo ? got - lo : 0;
		memset((char *)pgc_page_data(pages[i]) + keep, 0, ps - keep);
	}
	return 0;
}

static int store_readpage(pgc_mapping *m, pgc_page *page)
{
	if (!page)
		return -EINVAL;
	return store_read_pages(m, &page, 1);
}

static int store_readpages(pgc_mapping *m, pgc_page **pages, unsigned nr)
{
	return store_read_pages(m, pages, nr);
}

/*
 * Cuts the file back to the mapping's size after a write that went past
 * it. The size is read under the exclusive lock, after every write in
 * flight has finished, so a page written for a larger size is never cut.
 */
static int store_trim(struct pgc_store *s, pgc_mapping *m, uint64_t write_end)
{
	if (s->blkdev)
		return 0; /* a device has no file size */
	int err = 0;
	pthread_rwlock_wrlock(&s->trim_lock);
	uint64_t msize = pgc_mapping_size(m);
	if (write_end > msize) {
		struct stat st;
		if (fstat(s->fd, &st) != 0)
			err = -errno;
		else if ((uint64_t)st.st_size > msize && ftruncate(s->fd, (off_t)msize) != 0)
			err = -errno;
	}
	pthread_rwlock_unlock(&s->trim_lock);
	return err;
}

/* A run of pages to write, with its iovecs (no I/O if nio is 0). */
struct run_io {
	struct page_iovs pv;
	uint64_t off, len;
	unsigned nio;
};

/*
 * Prepares the write of a run of consecutive locked pages. Pages wholly
 * past the mapping's size hold nothing the file should keep (truncate drops
 * them); writing them would only be trimmed away again.
 */
static int run_prepare(struct pgc_store *s, pgc_mapping *m, pgc_page **pages, unsigned nr,
		       struct run_io *ri)
{
	size_t ps = mapping_page_size(m);
	uint64_t first = pgc_page_index(pages[0]);
	ri->off = first * ps;
	ri->nio = pages_before(first, nr, pgc_mapping_size(m), ps);
	ri->pv.v = ri->pv.stack;
	if (ri->nio == 0)
		return 0;
	int err = page_iovs_build(&ri->pv, pages, ri->nio, ps);
	if (err) {
		ri->nio = 0;
		return err;
	}
	ri->len = (uint64_t)ri->nio * ps;
	if (s->blkdev) {
		/* A device cannot grow: stop the last page at its end, which
		 * is a block multiple. */
		uint64_t dev;
		struct iovec *last = &ri->pv.v[ri->pv.n - 1];
		if (pgc_store_size(s, &dev) == 0 && ri->off + ri->len > dev &&
		    ri->off + ri->len - dev < last->iov_len) {
			uint64_t cut = ri->off + ri->len - dev;
			last->iov_len -= cut;
			ri->len -= cut;
		}
	}
	return 0;
}

/*
 * Transfers runs: all of them submitted at once on this thread's ring when
 * the store uses io_uring (one batch of SQEs, one io_uring_enter), then each
 * run the ring did not finish (a short count, -EAGAIN, more than IOV_MAX
 * buffers, no ring) is done by the synchronous loop. runs[i].res gets run
 * i's bytes (a read stops short only at the end of the file) or -errno.
 * ios and run_of have room for nr entries.
 */
static void runs_transfer(struct pgc_store *s, int rw, struct pgc__dio_run *runs, unsigned nr,
			  struct pgc__io *ios, unsigned *run_of, const struct pgc_cache *log)
{
	unsigned k = 0;
	for (unsigned i = 0; i < nr; i++) {
		runs[i].res = -EAGAIN;
		if (runs[i].len && runs[i].iovcnt <= IOV_MAX) {
			ios[k] = (struct pgc__io){.fd = s->fd, .write = rw == PGC_WRITE,
						  .iov = runs[i].iov, .iovcnt = runs[i].iovcnt,
						  .off = runs[i].off};
			run_of[k++] = i;
		}
	}
	if (k && atomic_load_explicit(&s->engine, memory_order_relaxed) == PGC_STORE_URING &&
	    pgc__uring_run(ios, k, log) == 0)
		for (unsigned j = 0; j < k; j++)
			runs[run_of[j]].res = ios[j].res;
	for (unsigned i = 0; i < nr; i++) {
		struct pgc__dio_run *r = &runs[i];
		ssize_t got = r->len ? r->res : 0;
		if (got == (ssize_t)r->len || (got < 0 && got != -EAGAIN && got != -EINTR)) {
			r->res = got;
			continue;
		}
		/* A read that the ring ended short at a block multiple may
		 * have met the end of the file: transfer() finds out. */
		if (r->iovcnt > IOV_MAX)
			got = store_io_iovs(s, rw, r->iov, r->iovcnt, r->off, log);
		else
			got = transfer(s, rw, r->iov, r->iovcnt, r->off, r->len,
				       got > 0 ? (size_t)got : 0, log);
		r->res = got;
	}
}

/* Scratch space of write_runs() for nr runs. */
struct run_scratch {
	struct pgc__io *ios;        /* the requests given to the ring */
	unsigned *run_of;           /* the run of each request */
	struct pgc__dio_run *runs;  /* each run's buffers and result */
};

/*
 * Writes runs with the trim lock held shared (runs_transfer()). errors[i]
 * gets run i's error.
 */
static void write_runs(struct pgc_store *s, pgc_mapping *m, struct run_io *ri, unsigned nr,
		       struct run_scratch *sc, int *errors)
{
	for (unsigned i = 0; i < nr; i++)
		sc->runs[i] = (struct pgc__dio_run){.iov = ri[i].pv.v, .iovcnt = ri[i].pv.n,
						    .off = ri[i].off, .len = ri[i].nio ? ri[i].len : 0};
	runs_transfer(s, PGC_WRITE, sc->runs, nr, sc->ios, sc->run_of, pgc_mapping_cache(m));
	for (unsigned i = 0; i < nr; i++) {
		ssize_t r = sc->runs[i].res;
		errors[i] = r < 0 ? (int)r : 0;
		pgc_assert(r < 0 || (uint64_t)r == sc->runs[i].len);
	}
}

/*
 * Writes a batch of runs (pgc_write_batch_fn), then trims the file once if
 * the last of them went past the mapping's size. A trim that fails is the
 * error of every run that ended past the size.
 */
static void store_write_batch(pgc_mapping *m, pgc_page **pages, const unsigned *run_nr,
			      int *errors, unsigned nr, void *arg)
{
	struct pgc_store *s = arg;
	struct run_io *ri = pgc__calloc(nr, sizeof(*ri));
	struct run_scratch sc = {
		.ios = pgc__malloc(nr * sizeof(*sc.ios)),
		.run_of = pgc__malloc(nr * sizeof(*sc.run_of)),
		.runs = pgc__malloc(nr * sizeof(*sc.runs)),
	};
	if (!ri || !sc.ios || !sc.run_of || !sc.runs) {
		for (unsigned i = 0; i < nr; i++)
			errors[i] = -ENOMEM;
		goto out;
	}
	pgc_page **p = pages;
	for (unsigned i = 0; i < nr; p += run_nr[i], i++)
		errors[i] = run_prepare(s, m, p, run_nr[i], &ri[i]);
	pthread_rwlock_rdlock(&s->trim_lock);
	write_runs(s, m, ri, nr, &sc, errors);
	pthread_rwlock_unlock(&s->trim_lock);
	uint64_t end = 0;
	for (unsigned i = 0; i < nr; i++)
		if (ri[i].nio && !errors[i] && ri[i].off + ri[i].len > end)
			end = ri[i].off + ri[i].len;
	uint64_t msize = pgc_mapping_size(m);
	int terr = end > msize ? store_trim(s, m, end) : 0;
	for (unsigned i = 0; i < nr && terr; i++)
		if (ri[i].nio && !errors[i] && ri[i].off + ri[i].len > msize)
			errors[i] = terr;
	for (unsigned i = 0; i < nr; i++)
		page_iovs_free(&ri[i].pv);
out:
	free(ri);
	free(sc.ios);
	free(sc.run_of);
	free(sc.runs);
}

/* Writes a run of consecutive locked pages with one request, then trims. */
static int store_write_pages(pgc_mapping *m, pgc_page **pages, unsigned nr)
{
	struct pgc_store *s = pgc_mapping_owner(m);
	if (!s || !pages || nr == 0)
		return -EINVAL;
	int err = 0;
	store_write_batch(m, pages, &nr, &err, 1, s);
	return err;
}

static int store_writepage(pgc_mapping *m, pgc_page *page, struct pgc_writeback_control *wbc)
{
	(void)wbc;
	if (!page)
		return -EINVAL;
	return store_write_pages(m, &page, 1);
}

static int store_writepages(pgc_mapping *m, struct pgc_writeback_control *wbc)
{
	/* Runs of up to 256 pages (one pwritev each: IOV_MAX is 1024 on
	 * Linux), up to 32 of them in flight together. */
	return pgc_mapping_writeback_batch(m, wbc, store_write_batch, pgc_mapping_owner(m), 0, 0);
}

/*
 * A direct read. The file may end before the mapping's size: pages written
 * past the file's end wait in the cache, and the holes below them read as
 * zeros, as they do through the cache (store_read_pages).
 */
ssize_t pgc__store_direct_read_done(pgc_mapping *m, const struct iovec *iov, int iovcnt,
				    uint64_t offset, ssize_t r)
{
	uint64_t size = pgc_mapping_size(m);
	if (r < 0 || offset >= size)
		return r;
	size_t total = 0;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	size_t want = size - offset < total ? (size_t)(size - offset) : total;
	size_t skip = (size_t)r;
	for (int i = 0; i < iovcnt && skip < want; i++) {
		size_t len = iov[i].iov_len;
		if (skip >= len) {
			skip -= len;
			want -= len;
			continue;
		}
		size_t end = want < len ? want : len;
		memset((char *)iov[i].iov_base + skip, 0, end - skip);
		r += (ssize_t)(end - skip);
		want -= end;
		skip = 0;
	}
	return r;
}

static ssize_t store_direct_read(struct pgc_store *s, pgc_mapping *m, const struct iovec *iov,
				 int iovcnt, uint64_t offset)
{
	return pgc__store_direct_read_done(m, iov, iovcnt, offset,
					   pgc_store_read(s, iov, iovcnt, offset));
}

static ssize_t store_direct_IO(pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
			       uint64_t offset)
{
	struct pgc_store *s = pgc_mapping_owner(m);
	if (!s)
		return -EINVAL;
	if (rw == PGC_READ)
		return store_direct_read(s, m, iov, iovcnt, offset);
	if (rw != PGC_WRITE)
		return -EINVAL;
	/* Shared with page writes, so a trim cannot cut a direct write that
	 * lands past the size it read. */
	pthread_rwlock_rdlock(&s->trim_lock);
	ssize_t r = pgc_store_write(s, iov, iovcnt, offset);
	pthread_rwlock_unlock(&s->trim_lock);
	return r;
}

int pgc__store_direct_runs(pgc_store *s, pgc_mapping *m, int rw, struct pgc__dio_run *runs,
			   unsigned nr)
{
	if (!s || nr == 0 || (rw != PGC_READ && rw != PGC_WRITE))
		return -EINVAL;
	struct pgc__io stack_ios[STORE_STACK_IOVS];
	unsigned stack_of[STORE_STACK_IOVS];
	struct pgc__io *ios = stack_ios;
	unsigned *run_of = stack_of;
	if (nr > STORE_STACK_IOVS) {
		ios = pgc__malloc(nr * sizeof(*ios));
		run_of = pgc__malloc(nr * sizeof(*run_of));
		if (!ios || !run_of) {
			free(ios);
			free(run_of);
			return -ENOMEM;
		}
	}
	/* Writes share the trim lock with page writes, as store_direct_IO's. */
	if (rw == PGC_WRITE)
		pthread_rwlock_rdlock(&s->trim_lock);
	runs_transfer(s, rw, runs, nr, ios, run_of, pgc_mapping_cache(m));
	if (rw == PGC_WRITE)
		pthread_rwlock_unlock(&s->trim_lock);
	if (rw == PGC_READ)
		for (unsigned i = 0; i < nr; i++)
			runs[i].res = pgc__store_direct_read_done(m, runs[i].iov, runs[i].iovcnt,
								  runs[i].off, runs[i].res);
	if (ios != stack_ios) {
		free(ios);
		free(run_of);
	}
	return 0;
}

/*
 * The file follows the mapping's size (truncate and sync call this). The
 * size is read again under the exclusive lock: a page written for a larger
 * size since the caller read it must not be cut off.
 */
static int store_resize(pgc_mapping *m, uint64_t size)
{
	(void)size;
	struct pgc_store *s = pgc_mapping_owner(m);
	if (!s)
		return -EINVAL;
	if (s->blkdev)
		return 0; /* a device's size is fixed */
	int err = 0;
	pthread_rwlock_wrlock(&s->trim_lock);
	uint64_t msize = pgc_mapping_size(m);
	struct stat st;
	if (fstat(s->fd, &st) != 0)
		err = -errno;
	else if ((uint64_t)st.st_size != msize)
		err = pgc_store_truncate(s, msize);
	pthread_rwlock_unlock(&s->trim_lock);
	return err;
}

/*
 * Durability for pgc_sync_range(): fdatasync flushes the whole file (there
 * is no durable range sync; sync_file_range(2) does not flush the device's
 * cache nor the metadata a read needs), size changes included.
 */
static int store_sync(pgc_mapping *m, uint64_t start, uint64_t end)
{
	(void)start;
	(void)end;
	return pgc_store_sync(pgc_mapping_owner(m));
}

pgc_store *pgc__store_of(const struct pgc_mapping_ops *ops, void *owner)
{
	return ops && ops->direct_IO == store_direct_IO ? owner : NULL;
}

int pgc__store_direct_write_done(pgc_store *s, pgc_mapping *m, uint64_t end)
{
	return end > pgc_mapping_size(m) ? store_trim(s, m, end) : 0;
}

static const struct pgc_mapping_ops store_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = store_readpage,
	.readpages = store_readpages,
	.writepage = store_writepage,
	.writepages = store_writepages,
	/* Plain data: dirty pages move with their data, no writeout needed. */
	.migratepage = pgc_migrate_page,
	.direct_IO = store_direct_IO,
	.resize = store_resize,
	.sync = store_sync,
};

PGC_API const struct pgc_mapping_ops *pgc_store_ops(void)
{
	return &store_ops;
}

PGC_API int pgc_store_mapping_create(pgc_cache *cache, pgc_store *s, pgc_mapping **mappingp)
{
	if (mappingp)
		*mappingp = NULL;
	if (!cache || !s || !mappingp)
		return -EINVAL;
	size_t ps = pgc_cache_page_size(cache);
	/* Whole pages are the unit of every page transfer, so a page must
	 * be a whole number of blocks, and its data (aligned to the page
	 * size) then meets the memory alignment too. */
	if (ps == 0 || ps % s->block_size || ps % s->mem_align)
		return -EINVAL;
	uint64_t size;
	int err = pgc_store_size(s, &size);
	if (err)
		return err;
	pgc_mapping *m;
	err = pgc_mapping_create(cache, &store_ops, s, size, &m);
	if (err)
		return err;
	pgc_mapping_set_name(m, s->name);
	struct pgc_dio_limits lim = {
		.size = sizeof(lim),
		.block_size = s->block_size,
		.mem_align = s->mem_align,
		/* Both powers of two: the larger is a multiple of the block. */
		.max_segment = s->block_size > STORE_MAX_SEGMENT ? s->block_size : STORE_MAX_SEGMENT,
	};
	err = pgc_mapping_set_dio_limits(m, &lim);
	if (err) {
		pgc_mapping_destroy(m);
		return err;
	}
	/* Sequential reads go as far ahead as the kernel would on this device
	 * (a virtual disk may ask for 8 MiB where the library's default is
	 * 128 KiB), within the library's largest window. */
	if (s->ra_kb >= 0) {
		uint64_t pages = (uint64_t)s->ra_kb * 1024 / ps;
		pgc_mapping_set_readahead(m, pages > STORE_RA_MAX_PAGES ? STORE_RA_MAX_PAGES
								 : (unsigned)pages);
	}
	*mappingp = m;
	return 0;
}
