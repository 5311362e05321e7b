/*
 * Suite "store": the built-in O_DIRECT file store (store.h) — opening and
 * closing, argument and alignment checks, raw reads and writes, and the
 * mapping operations it supplies (readpage, readpages, writepage,
 * writepages, direct_IO) on a real file.
 *
 * Files live in /var/tmp, which must support O_DIRECT (/tmp may be a tmpfs
 * that refuses it on older kernels). Each test unlinks its file as soon as
 * every descriptor it needs is open, so a failing test leaves nothing
 * behind. Requests are counted with the kernel's own per-process counters
 * (syscr, syscw of /proc/self/io), which count preadv and pwritev calls, in
 * tests that set the store's engine to PGC_STORE_PSYNC.
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <pgcache/store.h>

#define TMP_TEMPLATE "/var/tmp/pgc-store-test-XXXXXX"

/* ---- helpers ---------------------------------------------------------------- */

/* Creates an empty temporary file; returns a plain (buffered) descriptor. */
static int tmp_create(char path[static sizeof(TMP_TEMPLATE)])
{
	memcpy(path, TMP_TEMPLATE, sizeof(TMP_TEMPLATE));
	int fd = mkostemp(path, O_CLOEXEC);
	ck_assert_msg(fd >= 0, "mkostemp(%s): %s", path, strerror(errno));
	return fd;
}

/* A temporary file with a store on it (O_RDWR) and a plain descriptor for
 * checking what reached the file; the path is already unlinked. */
struct tfile {
	int plain;
	pgc_store *store;
};

static void tfile_open(struct tfile *t)
{
	char path[sizeof(TMP_TEMPLATE)];
	t->plain = tmp_create(path);
	int err = pgc_store_open(path, O_RDWR, 0, &t->store);
	unlink(path);
	ck_assert_msg(err == 0, "pgc_store_open(%s) = %d (%s)", path, err, pgc_strerror(err));
	ck_assert_ptr_nonnull(t->store);
}

static void tfile_close(struct tfile *t)
{
	ck_assert_int_eq(pgc_store_close(t->store), 0);
	close(t->plain);
}

static void *abuf(size_t align, size_t len)
{
	void *p = NULL;
	if (align < sizeof(void *))
		align = sizeof(void *);
	ck_assert_int_eq(posix_memalign(&p, align, len), 0);
	return p;
}

static unsigned char pat(uint64_t pos, unsigned salt)
{
	return (unsigned char)((pos * 131 + (pos >> 9) * 7 + salt) % 251 + 1);
}

static void fill_pat(unsigned char *b, size_t len, uint64_t pos, unsigned salt)
{
	for (size_t i = 0; i < len; i++)
		b[i] = pat(pos + i, salt);
}

/* Index of the first byte that differs from the pattern, or -1. */
static long check_pat(const unsigned char *b, size_t len, uint64_t pos, unsigned salt)
{
	for (size_t i = 0; i < len; i++)
		if (b[i] != pat(pos + i, salt))
			return (long)i;
	return -1;
}

static long check_zero(const unsigned char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return (long)i;
	return -1;
}

static uint64_t fd_size(int fd)
{
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint64_t)st.st_size;
}

static void plain_write(int fd, const void *b, size_t len, off_t off)
{
	ck_assert_int_eq(pwrite(fd, b, len, off), (ssize_t)len);
}

static void plain_read(int fd, void *b, size_t len, off_t off)
{
	ck_assert_int_eq(pread(fd, b, len, off), (ssize_t)len);
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/*
 * The calls to read-like and write-like system calls this process made
 * (preadv and pwritev count one each). One open, one read and one close:
 * the read itself shows up in the next sample's syscr, so callers compare
 * against a calibrated baseline. No Check assertion may run between two
 * samples, since Check writes to its pipe on every assertion.
 */
struct iocount {
	long long syscr, syscw;
	int ok;
};

static struct iocount io_sample(void)
{
	struct iocount c = {0, 0, 0};
	char buf[512];
	int fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return c;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return c;
	buf[n] = 0;
	const char *r = strstr(buf, "syscr:"), *w = strstr(buf, "syscw:");
	if (!r || !w)
		return c;
	c.syscr = strtoll(r + 6, NULL, 10);
	c.syscw = strtoll(w + 6, NULL, 10);
	c.ok = 1;
	return c;
}

/* The reads and writes two back-to-back samples differ by. */
/* System-call counts, which valgrind's own calls distort. */
#define ASSERT_SYSCALLS(got, want)                        \
	do {                                              \
		if (!pgc_test_valgrind())                 \
			ck_assert_int_eq((got), (want));  \
	} while (0)

/*
 * The tests that count requests by system call use preadv/pwritev: through
 * io_uring, requests are no read or write system calls (test_uring counts
 * those by the ring's own counter).
 */
#define count_by_syscalls(t) ck_assert_int_eq(pgc_store_set_engine((t)->store, PGC_STORE_PSYNC), 0)

static struct iocount io_overhead(void)
{
	struct iocount a = io_sample();
	struct iocount b = io_sample();
	ck_assert_msg(a.ok && b.ok, "/proc/self/io is needed to count requests");
	return (struct iocount){b.syscr - a.syscr, b.syscw - a.syscw, 1};
}

/* Creates pages [first, first + n) filled with the pattern, up to date
 * and dirty, and lets them go. */
static void dirty_pages(pgc_mapping *m, uint64_t first, unsigned n, unsigned salt)
{
	size_t ps = pgc_cache_page_size(pgc_mapping_cache(m));
	for (uint64_t i = first; i < first + n; i++) {
		pgc_page *p;
		ck_assert_int_eq(pgc_mapping_find_or_create(m, i, 0, &p), 0);
		fill_pat(pgc_page_data(p), ps, i * ps, salt);
		ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
		ck_assert_int_ge(pgc_page_set_dirty(p), 0);
		ck_assert_int_eq(pgc_page_unlock(p), 0);
		pgc_page_put(p);
	}
}

/* ---- opening and closing ------------------------------------------------------ */

START_TEST(open_bad_args)
{
	char path[sizeof(TMP_TEMPLATE)];
	int plain = tmp_create(path);
	pgc_store *s = (pgc_store *)&s; /* must be reset to NULL on error */

	ck_assert_int_eq(pgc_store_open(NULL, O_RDWR, 0, &s), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(pgc_store_open(path, O_RDWR, 0, NULL), -EINVAL);
	s = (pgc_store *)&s;
	ck_assert_int_eq(pgc_store_open(path, O_WRONLY, 0, &s), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(pgc_store_open(path, O_RDWR | O_APPEND, 0, &s), -EINVAL);
	ck_assert_int_eq(pgc_store_open(path, O_RDONLY | O_APPEND, 0, &s), -EINVAL);
	unlink(path);
	/* open(2)'s own error comes back negated. */
	ck_assert_int_eq(pgc_store_open(path, O_RDWR, 0, &s), -ENOENT);
	ck_assert_ptr_null(s);
	close(plain);
}
END_TEST

/*
 * A file system that refuses O_DIRECT is -EOPNOTSUPP, not a bad argument:
 * procfs does (as tmpfs did before Linux 6.6), on every Linux machine the
 * tests run on. Other errors of open(2) come back unchanged, an EINVAL
 * that is not about O_DIRECT included.
 */
START_TEST(open_odirect_refused)
{
	pgc_store *s = (pgc_store *)&s;
	ck_assert_int_eq(pgc_store_open("/proc/self/status", O_RDONLY, 0, &s), -EOPNOTSUPP);
	ck_assert_ptr_null(s);
	s = (pgc_store *)&s;
	ck_assert_int_eq(pgc_store_open("/proc/self/status", O_RDONLY | O_CREAT, 0600, &s),
			 -EOPNOTSUPP);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(pgc_errname(-EOPNOTSUPP), "EOPNOTSUPP");

	/* O_TMPFILE needs write access: EINVAL whatever O_DIRECT does. */
	ck_assert_int_eq(pgc_store_open("/var/tmp", O_RDONLY | O_TMPFILE, 0600, &s), -EINVAL);
	char path[sizeof(TMP_TEMPLATE)];
	int plain = tmp_create(path);
	ck_assert_int_eq(pgc_store_open(path, O_RDWR | O_DIRECTORY, 0, &s), -ENOTDIR);
	ck_assert_int_eq(pgc_store_open("/var/tmp", O_RDWR, 0, &s), -EISDIR);
	ck_assert_ptr_null(s);
	unlink(path);
	close(plain);
}
END_TEST

START_TEST(open_create_and_flags)
{
	char path[sizeof(TMP_TEMPLATE)];
	int plain = tmp_create(path);
	close(plain);
	unlink(path);
	pgc_store *s = NULL;
	ck_assert_int_eq(pgc_store_open(path, O_RDWR | O_CREAT | O_EXCL, 0600, &s), 0);
	unlink(path);
	int fd = pgc_store_fd(s);
	ck_assert_int_ge(fd, 0);
	int fl = fcntl(fd, F_GETFL);
	ck_assert_int_ne(fl & O_DIRECT, 0);
	ck_assert_int_eq(fl & O_ACCMODE, O_RDWR);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	uint64_t size = 1;
	ck_assert_int_eq(pgc_store_size(s, &size), 0);
	ck_assert_uint_eq(size, 0);
	/* The store owns what it opened. */
	ck_assert_int_eq(pgc_store_close(s), 0);
	ck_assert(!fd_is_open(fd));
}
END_TEST

START_TEST(from_fd_bad_args)
{
	char path[sizeof(TMP_TEMPLATE)];
	int plain = tmp_create(path);
	int dfd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	int afd = open(path, O_RDWR | O_DIRECT | O_APPEND | O_CLOEXEC);
	unlink(path);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_ge(afd, 0);
	pgc_store *s = (pgc_store *)&s;

	ck_assert_int_eq(pgc_store_from_fd(-1, 0, &s), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(pgc_store_from_fd(dfd, 0x80, &s), -EINVAL);
	ck_assert_int_eq(pgc_store_from_fd(dfd, 0, NULL), -EINVAL);
	/* A descriptor without O_DIRECT, or with O_APPEND. */
	s = (pgc_store *)&s;
	ck_assert_int_eq(pgc_store_from_fd(plain, 0, &s), -EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(pgc_store_from_fd(afd, PGC_STORE_OWN_FD, &s), -EINVAL);
	/* A failed call never closes the descriptor, even with OWN_FD. */
	ck_assert(fd_is_open(afd));
	ck_assert(fd_is_open(plain));
	/* A descriptor that is not open. */
	int spare = dup(dfd);
	ck_assert_int_ge(spare, 0);
	close(spare);
	ck_assert_int_eq(pgc_store_from_fd(spare, 0, &s), -EBADF);
	ck_assert_ptr_null(s);
	close(afd);
	close(dfd);
	close(plain);
}
END_TEST

START_TEST(from_fd_ownership)
{
	char path[sizeof(TMP_TEMPLATE)];
	int plain = tmp_create(path);
	int fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	unlink(path);
	ck_assert_int_ge(fd, 0);
	pgc_store *s = NULL;

	/* Without OWN_FD the caller keeps the descriptor. */
	ck_assert_int_eq(pgc_store_from_fd(fd, 0, &s), 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pgc_store_fd(s), fd);
	ck_assert_int_eq(pgc_store_close(s), 0);
	ck_assert(fd_is_open(fd));

	/* With OWN_FD the store closes it. */
	ck_assert_int_eq(pgc_store_from_fd(fd, PGC_STORE_OWN_FD, &s), 0);
	ck_assert_int_eq(pgc_store_fd(s), fd);
	ck_assert_int_eq(pgc_store_close(s), 0);
	ck_assert(!fd_is_open(fd));
	close(plain);
}
END_TEST

START_TEST(null_arguments)
{
	uint64_t size;
	char b[16];
	struct iovec iov = {b, sizeof(b)};
	pgc_mapping *m = (pgc_mapping *)&m;
	struct tfile t;
	tfile_open(&t);

	ck_assert_int_eq(pgc_store_close(NULL), 0);
	ck_assert_int_eq(pgc_store_fd(NULL), -EINVAL);
	ck_assert_uint_eq(pgc_store_block_size(NULL), 0);
	ck_assert_uint_eq(pgc_store_mem_align(NULL), 0);
	ck_assert_int_eq(pgc_store_size(NULL, &size), -EINVAL);
	ck_assert_int_eq(pgc_store_size(t.store, NULL), -EINVAL);
	ck_assert_int_eq(pgc_store_truncate(NULL, 0), -EINVAL);
	ck_assert_int_eq(pgc_store_sync(NULL), -EINVAL);
	ck_assert_int_eq(pgc_store_read(NULL, &iov, 1, 0), -EINVAL);
	ck_assert_int_eq(pgc_store_write(NULL, &iov, 1, 0), -EINVAL);
	ck_assert_int_eq(pgc_store_read(t.store, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(pgc_store_write(t.store, NULL, 1, 0), -EINVAL);

	pgc_cache *cache = pgc_test_cache(16, 0);
	ck_assert_int_eq(pgc_store_mapping_create(NULL, t.store, &m), -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(pgc_store_mapping_create(cache, NULL, &m), -EINVAL);
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, NULL), -EINVAL);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(alignment_reported)
{
	struct tfile t;
	tfile_open(&t);
	size_t bs = pgc_store_block_size(t.store);
	size_t ma = pgc_store_mem_align(t.store);
	ck_assert_uint_gt(bs, 0);
	ck_assert_uint_gt(ma, 0);
	ck_assert_uint_eq(bs & (bs - 1), 0);
	ck_assert_uint_eq(ma & (ma - 1), 0);

	/* Where the kernel tells, the store says what the kernel says. */
	struct statx stx;
	memset(&stx, 0, sizeof(stx));
	if (statx(t.plain, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align && stx.stx_dio_mem_align) {
		ck_assert_uint_eq(bs, stx.stx_dio_offset_align);
		ck_assert_uint_eq(ma, stx.stx_dio_mem_align);
	} else {
		ck_assert_uint_eq(bs, 4096);
		ck_assert_uint_eq(ma, 4096);
	}
	tfile_close(&t);
}
END_TEST

/* ---- raw reads and writes ------------------------------------------------------ */

START_TEST(misaligned_requests)
{
	struct tfile t;
	tfile_open(&t);
	size_t bs = pgc_store_block_size(t.store);
	size_t ma = pgc_store_mem_align(t.store);
	size_t al = bs > ma ? bs : ma;
	unsigned char *b = abuf(al, 8 * al);
	fill_pat(b, 8 * al, 0, 1);
	struct iovec ok = {b, bs};

	/* Every check holds the whole request back: nothing reaches the file. */
	if (bs > 1) {
		ck_assert_int_eq(pgc_store_write(t.store, &ok, 1, bs / 2), -EINVAL);
		ck_assert_int_eq(pgc_store_read(t.store, &ok, 1, 1), -EINVAL);
		struct iovec shortlen[2] = {{b, bs}, {b + al, bs / 2}};
		ck_assert_int_eq(pgc_store_write(t.store, shortlen, 2, 0), -EINVAL);
		ck_assert_int_eq(pgc_store_read(t.store, shortlen, 2, 0), -EINVAL);
	}
	if (ma > 1) {
		struct iovec badbuf[2] = {{b, bs}, {b + al + ma / 2, bs}};
		ck_assert_int_eq(pgc_store_write(t.store, badbuf, 2, 0), -EINVAL);
		ck_assert_int_eq(pgc_store_read(t.store, badbuf, 2, 0), -EINVAL);
	}
	/* Bad counts. */
	ck_assert_int_eq(pgc_store_write(t.store, &ok, 0, 0), -EINVAL);
	ck_assert_int_eq(pgc_store_write(t.store, &ok, -1, 0), -EINVAL);
	ck_assert_int_eq(pgc_store_read(t.store, &ok, 0, 0), -EINVAL);
	struct iovec *many = calloc(IOV_MAX + 1, sizeof(*many));
	ck_assert_ptr_nonnull(many);
	for (int i = 0; i <= IOV_MAX; i++)
		many[i] = ok;
	ck_assert_int_eq(pgc_store_write(t.store, many, IOV_MAX + 1, 0), -EINVAL);
	ck_assert_int_eq(pgc_store_read(t.store, many, IOV_MAX + 1, 0), -EINVAL);
	free(many);
	/* An offset off_t cannot hold. */
	ck_assert_int_eq(pgc_store_write(t.store, &ok, 1, UINT64_MAX - bs + 1), -EINVAL);
	ck_assert_uint_eq(fd_size(t.plain), 0);

	/* The same buffer, aligned, goes through. */
	ck_assert_int_eq(pgc_store_write(t.store, &ok, 1, bs), (ssize_t)bs);
	ck_assert_uint_eq(fd_size(t.plain), 2 * bs);
	free(b);
	tfile_close(&t);
}
END_TEST

START_TEST(read_write_round_trip)
{
	struct tfile t;
	tfile_open(&t);
	size_t bs = pgc_store_block_size(t.store);
	size_t al = bs > pgc_store_mem_align(t.store) ? bs : pgc_store_mem_align(t.store);
	size_t len = 6 * bs;
	unsigned char *w = abuf(al, len), *r = abuf(al, len + al);

	/* Written as two buffers of different sizes at offset bs... */
	fill_pat(w, len, bs, 3);
	struct iovec wv[2] = {{w, 2 * bs}, {w + 2 * bs, 4 * bs}};
	ck_assert_int_eq(pgc_store_write(t.store, wv, 2, bs), (ssize_t)len);
	uint64_t size = 0;
	ck_assert_int_eq(pgc_store_size(t.store, &size), 0);
	ck_assert_uint_eq(size, bs + len);
	ck_assert_uint_eq(fd_size(t.plain), bs + len);

	/* ...read back split otherwise, with an empty buffer in between. */
	memset(r, 0, len + al);
	struct iovec rv[3] = {{r, 3 * bs}, {r + 3 * bs, 0}, {r + 3 * bs, 3 * bs}};
	ck_assert_int_eq(pgc_store_read(t.store, rv, 3, bs), (ssize_t)len);
	ck_assert_int_eq(check_pat(r, len, bs, 3), -1);

	/* The file holds the bytes, as a buffered reader sees them. */
	unsigned char *p = malloc(len);
	plain_read(t.plain, p, len, (off_t)bs);
	ck_assert_int_eq(memcmp(p, w, len), 0);
	free(p);

	ck_assert_int_eq(pgc_store_sync(t.store), 0);
	free(w);
	free(r);
	tfile_close(&t);
}
END_TEST

START_TEST(read_at_and_after_eof)
{
	struct tfile t;
	tfile_open(&t);
	count_by_syscalls(&t);
	size_t bs = pgc_store_block_size(t.store);
	size_t al = bs > pgc_store_mem_align(t.store) ? bs : pgc_store_mem_align(t.store);
	unsigned char *b = abuf(al, 4 * bs);
	fill_pat(b, 2 * bs, 0, 5);
	struct iovec v = {b, 2 * bs};
	ck_assert_int_eq(pgc_store_write(t.store, &v, 1, 0), (ssize_t)(2 * bs));

	v.iov_len = 4 * bs;
	memset(b, 0, 4 * bs);
	ck_assert_int_eq(pgc_store_read(t.store, &v, 1, 0), (ssize_t)(2 * bs));
	ck_assert_int_eq(check_pat(b, 2 * bs, 0, 5), -1);
	ck_assert_int_eq(pgc_store_read(t.store, &v, 1, 2 * bs), 0);
	ck_assert_int_eq(pgc_store_read(t.store, &v, 1, 100 * bs), 0);

	/* A size that is not a block multiple: the short count is exact. */
	unsigned char tail[100];
	fill_pat(tail, sizeof(tail), 2 * bs, 5);
	plain_write(t.plain, tail, sizeof(tail), (off_t)(2 * bs));
	memset(b, 0, 4 * bs);
	struct iovec two[2] = {{b, 2 * bs}, {b + 2 * bs, 2 * bs}};
	struct iocount ovh = io_overhead();
	struct iocount c0 = io_sample();
	ssize_t got = pgc_store_read(t.store, two, 2, 0);
	struct iocount c1 = io_sample();
	ck_assert_int_eq(got, (ssize_t)(2 * bs + 100));
	/* A count that is not a block multiple can only mean the end of the
	 * file: no second, misaligned request is made to confirm it. */
	ASSERT_SYSCALLS(c1.syscr - c0.syscr - ovh.syscr, 1);
	ck_assert_int_eq(check_pat(b, 2 * bs + 100, 0, 5), -1);
	free(b);
	tfile_close(&t);
}
END_TEST

START_TEST(read_only_store)
{
	char path[sizeof(TMP_TEMPLATE)];
	int plain = tmp_create(path);
	pgc_store *s = NULL;
	ck_assert_int_eq(pgc_store_open(path, O_RDONLY, 0, &s), 0);
	unlink(path);
	size_t bs = pgc_store_block_size(s);
	size_t al = bs > pgc_store_mem_align(s) ? bs : pgc_store_mem_align(s);
	unsigned char *b = abuf(al, bs);
	fill_pat(b, bs, 0, 9);
	struct iovec v = {b, bs};
	ck_assert_int_eq(pgc_store_write(s, &v, 1, 0), -EBADF);
	ck_assert_uint_eq(fd_size(plain), 0);
	/* Reading works. */
	plain_write(plain, b, bs, 0);
	memset(b, 0, bs);
	ck_assert_int_eq(pgc_store_read(s, &v, 1, 0), (ssize_t)bs);
	ck_assert_int_eq(check_pat(b, bs, 0, 9), -1);
	free(b);
	ck_assert_int_eq(pgc_store_close(s), 0);
	close(plain);
}
END_TEST

START_TEST(truncate_and_size)
{
	struct tfile t;
	tfile_open(&t);
	uint64_t size = 1;
	ck_assert_int_eq(pgc_store_truncate(t.store, 12345), 0);
	ck_assert_uint_eq(fd_size(t.plain), 12345);
	ck_assert_int_eq(pgc_store_size(t.store, &size), 0);
	ck_assert_uint_eq(size, 12345);
	ck_assert_int_eq(pgc_store_truncate(t.store, 0), 0);
	ck_assert_int_eq(pgc_store_size(t.store, &size), 0);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(pgc_store_truncate(t.store, UINT64_MAX), -EINVAL);
	ck_assert_int_eq(pgc_store_sync(t.store), 0);
	tfile_close(&t);
}
END_TEST

/* ---- mappings on a store ---------------------------------------------------------- */

START_TEST(mapping_create_wiring)
{
	struct tfile t;
	tfile_open(&t);
	unsigned char junk[5000];
	fill_pat(junk, sizeof(junk), 0, 2);
	plain_write(t.plain, junk, sizeof(junk), 0);

	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_eq(pgc_mapping_owner(m), t.store);
	ck_assert_ptr_eq(pgc_mapping_cache(m), cache);
	ck_assert_uint_eq(pgc_mapping_size(m), sizeof(junk));

	struct pgc_dio_limits lim = {.size = sizeof(lim)};
	ck_assert_int_eq(pgc_mapping_dio_limits(m, &lim), 0);
	ck_assert_uint_eq(lim.block_size, pgc_store_block_size(t.store));
	ck_assert_uint_eq(lim.mem_align, pgc_store_mem_align(t.store));
	ck_assert_uint_eq(lim.max_segment, 1u << 20);

	const struct pgc_mapping_ops *ops = pgc_store_ops();
	ck_assert_ptr_eq(ops, pgc_store_ops());
	ck_assert_uint_eq(ops->size, sizeof(struct pgc_mapping_ops));
	ck_assert_ptr_nonnull(ops->readpage);
	ck_assert_ptr_nonnull(ops->readpages);
	ck_assert_ptr_nonnull(ops->writepage);
	ck_assert_ptr_nonnull(ops->writepages);
	ck_assert_ptr_nonnull(ops->direct_IO);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(writeback_trims_and_reads_back)
{
	struct tfile t;
	tfile_open(&t);
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	ck_assert_uint_eq(pgc_mapping_size(m), 0);

	/* Four pages, the last one partial: 100 bytes of it belong to the object. */
	uint64_t size = 3 * ps + 100;
	dirty_pages(m, 0, 4, 11);
	ck_assert_int_eq(pgc_mapping_set_size(m, size), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 4);
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);

	/* The whole last page was written, then the file cut to the size. */
	ck_assert_uint_eq(fd_size(t.plain), size);
	unsigned char *b = malloc(4 * ps);
	plain_read(t.plain, b, size, 0);
	ck_assert_int_eq(check_pat(b, size, 0, 11), -1);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);

	/* A fresh mapping reads the same bytes, zeros past the size. */
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	ck_assert_uint_eq(pgc_mapping_size(m), size);
	for (uint64_t i = 0; i < 4; i++) {
		pgc_page *p;
		ck_assert_int_eq(pgc_mapping_read_page(m, i, &p), 0);
		ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_UPTODATE), 1);
		size_t valid = i < 3 ? ps : 100;
		ck_assert_int_eq(check_pat(pgc_page_data(p), valid, i * ps, 11), -1);
		ck_assert_int_eq(check_zero((unsigned char *)pgc_page_data(p) + valid, ps - valid), -1);
		pgc_page_put(p);
	}
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	free(b);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(writeback_one_request_per_run)
{
	struct tfile t;
	tfile_open(&t);
	count_by_syscalls(&t);
	pgc_cache *cache = pgc_test_cache(32, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	ck_assert_int_eq(pgc_mapping_set_size(m, 10 * ps), 0);

	/* Two runs, [0, 4) and [6, 9), with a hole between them. */
	dirty_pages(m, 0, 4, 21);
	dirty_pages(m, 6, 3, 21);
	struct iocount ovh = io_overhead();
	struct iocount a = io_sample();
	int err = pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL);
	struct iocount b = io_sample();
	ck_assert_int_eq(err, 0);
	ck_assert_msg(b.ok, "/proc/self/io");
	ASSERT_SYSCALLS(b.syscw - a.syscw - ovh.syscw, 2);
	ASSERT_SYSCALLS(b.syscr - a.syscr - ovh.syscr, 0);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 0);

	/* The file ends at the last written page (the size is 10 pages, so
	 * nothing is trimmed and nothing beyond is written); the hole reads
	 * as zeros. */
	ck_assert_uint_eq(fd_size(t.plain), 9 * ps);
	unsigned char *buf = malloc(9 * ps);
	plain_read(t.plain, buf, 9 * ps, 0);
	ck_assert_int_eq(check_pat(buf, 4 * ps, 0, 21), -1);
	ck_assert_int_eq(check_zero(buf + 4 * ps, 2 * ps), -1);
	ck_assert_int_eq(check_pat(buf + 6 * ps, 3 * ps, 6 * ps, 21), -1);
	free(buf);

	/* Nothing dirty: no request at all. */
	a = io_sample();
	err = pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL);
	b = io_sample();
	ck_assert_int_eq(err, 0);
	ASSERT_SYSCALLS(b.syscw - a.syscw - ovh.syscw, 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(writepage_single_partial_page)
{
	struct tfile t;
	tfile_open(&t);
	pgc_cache *cache = pgc_test_cache(16, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	uint64_t size = 2 * ps + 1;
	ck_assert_int_eq(pgc_mapping_set_size(m, size), 0);
	dirty_pages(m, 2, 1, 31);

	/* Through writepage, as reclaim writes one page. */
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find_lock(m, 2, &p), 0);
	ck_assert_int_eq(pgc_mapping_write_page(p, NULL), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_WRITEBACK), 0);
	ck_assert_int_eq(pgc_page_unlock(p), 0);
	pgc_page_put(p);

	ck_assert_uint_eq(fd_size(t.plain), size);
	unsigned char *buf = malloc(size);
	plain_read(t.plain, buf, size, 0);
	ck_assert_int_eq(check_zero(buf, 2 * ps), -1);
	ck_assert_uint_eq(buf[2 * ps], pat(2 * ps, 31));
	free(buf);

	/* A file already longer than the mapping is cut back too. */
	ck_assert_int_eq(pgc_store_truncate(t.store, 8 * ps), 0);
	dirty_pages(m, 2, 1, 32);
	ck_assert_int_eq(pgc_mapping_writeback(m, 2, 2, PGC_WB_ALL), 0);
	ck_assert_uint_eq(fd_size(t.plain), size);

	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(writeback_error_keeps_dirty)
{
	char path[sizeof(TMP_TEMPLATE)];
	int plain = tmp_create(path);
	pgc_store *s = NULL;
	ck_assert_int_eq(pgc_store_open(path, O_RDONLY, 0, &s), 0);
	unlink(path);
	pgc_cache *cache = pgc_test_cache(16, 0);
	size_t ps = pgc_cache_page_size(cache);
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, s, &m), 0);
	ck_assert_int_eq(pgc_mapping_set_size(m, 2 * ps), 0);
	dirty_pages(m, 0, 2, 41);

	/* A read-only descriptor: the run fails, and nothing is lost. */
	ck_assert_int_eq(pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL), -EBADF);
	ck_assert_uint_eq(pgc_mapping_nr_dirty(m), 2);
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find(m, 1, &p), 0);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_DIRTY), 1);
	ck_assert_int_eq(pgc_page_test_flag(p, PGC_PG_ERROR), 1);
	ck_assert_int_eq(check_pat(pgc_page_data(p), ps, ps, 41), -1);
	pgc_page_put(p);
	ck_assert_uint_eq(fd_size(plain), 0);

	ck_assert_int_eq(pgc_mapping_destroy(m), -EBUSY);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	ck_assert_int_eq(pgc_store_close(s), 0);
	close(plain);
}
END_TEST

START_TEST(readpages_zero_fill_past_eof)
{
	struct tfile t;
	tfile_open(&t);
	count_by_syscalls(&t);
	pgc_cache *cache = pgc_test_cache(16, 0);
	size_t ps = pgc_cache_page_size(cache);
	/* One and a half pages of data. */
	size_t fsize = ps + ps / 2;
	unsigned char *data = malloc(fsize);
	fill_pat(data, fsize, 0, 51);
	plain_write(t.plain, data, fsize, 0);
	free(data);

	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	ck_assert_uint_eq(pgc_mapping_size(m), fsize);
	pgc_page *pages[4];
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(pgc_mapping_find_or_create(m, i, 0, &pages[i]), 0);
		/* Garbage, so that zeros can only come from the store. */
		memset(pgc_page_data(pages[i]), 0xa5, ps);
	}

	struct iocount ovh = io_overhead();
	struct iocount a = io_sample();
	int err = pgc_store_ops()->readpages(m, pages, 4);
	struct iocount b = io_sample();
	ck_assert_int_eq(err, 0);
	/* Pages 2 and 3 lie wholly past the end and need no I/O; pages 0 and
	 * 1 take one request, which comes back short, and one more that
	 * finds the end of the file (a 0-byte read). */
	ASSERT_SYSCALLS(b.syscr - a.syscr - ovh.syscr, 2);
	ASSERT_SYSCALLS(b.syscw - a.syscw - ovh.syscw, 0);

	ck_assert_int_eq(check_pat(pgc_page_data(pages[0]), ps, 0, 51), -1);
	unsigned char *p1 = pgc_page_data(pages[1]);
	ck_assert_int_eq(check_pat(p1, ps / 2, ps, 51), -1);
	ck_assert_int_eq(check_zero(p1 + ps / 2, ps / 2), -1);
	ck_assert_int_eq(check_zero(pgc_page_data(pages[2]), ps), -1);
	ck_assert_int_eq(check_zero(pgc_page_data(pages[3]), ps), -1);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_int_eq(pgc_page_set_flag(pages[i], PGC_PG_UPTODATE), 0);
		ck_assert_int_eq(pgc_page_unlock(pages[i]), 0);
		pgc_page_put(pages[i]);
	}
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(readpages_one_request)
{
	struct tfile t;
	tfile_open(&t);
	count_by_syscalls(&t);
	pgc_cache *cache = pgc_test_cache(16, 0);
	size_t ps = pgc_cache_page_size(cache);
	unsigned char *data = malloc(8 * ps);
	fill_pat(data, 8 * ps, 0, 55);
	plain_write(t.plain, data, 8 * ps, 0);
	free(data);

	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	pgc_page *pages[6];
	for (unsigned i = 0; i < 6; i++)
		ck_assert_int_eq(pgc_mapping_find_or_create(m, 1 + i, 0, &pages[i]), 0);

	struct iocount ovh = io_overhead();
	struct iocount a = io_sample();
	int err = pgc_store_ops()->readpages(m, pages, 6);
	struct iocount b = io_sample();
	ck_assert_int_eq(err, 0);
	ASSERT_SYSCALLS(b.syscr - a.syscr - ovh.syscr, 1);
	for (unsigned i = 0; i < 6; i++) {
		ck_assert_int_eq(check_pat(pgc_page_data(pages[i]), ps, (1 + i) * ps, 55), -1);
		ck_assert_int_eq(pgc_page_set_flag(pages[i], PGC_PG_UPTODATE), 0);
		ck_assert_int_eq(pgc_page_unlock(pages[i]), 0);
		pgc_page_put(pages[i]);
	}
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(readpage_past_size_needs_no_io)
{
	struct tfile t;
	tfile_open(&t);
	count_by_syscalls(&t);
	pgc_cache *cache = pgc_test_cache(16, 0);
	size_t ps = pgc_cache_page_size(cache);
	unsigned char *data = malloc(2 * ps);
	fill_pat(data, 2 * ps, 0, 61);
	plain_write(t.plain, data, 2 * ps, 0);
	free(data);

	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	/* The object is smaller than the file: what lies past its size is
	 * not the object's, and reads as zeros. */
	ck_assert_int_eq(pgc_mapping_truncate(m, ps / 4), 0);
	pgc_page *p0, *p1;
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 0, 0, &p0), 0);
	ck_assert_int_eq(pgc_mapping_find_or_create(m, 1, 0, &p1), 0);
	memset(pgc_page_data(p0), 0xa5, ps);
	memset(pgc_page_data(p1), 0xa5, ps);

	struct iocount ovh = io_overhead();
	struct iocount a = io_sample();
	int err = pgc_store_ops()->readpage(m, p1);
	struct iocount b = io_sample();
	ck_assert_int_eq(err, 0);
	ASSERT_SYSCALLS(b.syscr - a.syscr - ovh.syscr, 0);
	ck_assert_int_eq(check_zero(pgc_page_data(p1), ps), -1);

	ck_assert_int_eq(pgc_store_ops()->readpage(m, p0), 0);
	ck_assert_int_eq(check_pat(pgc_page_data(p0), ps / 4, 0, 61), -1);
	ck_assert_int_eq(check_zero((unsigned char *)pgc_page_data(p0) + ps / 4, ps - ps / 4), -1);

	ck_assert_int_eq(pgc_page_unlock(p0), 0);
	ck_assert_int_eq(pgc_page_unlock(p1), 0);
	pgc_page_put(p0);
	pgc_page_put(p1);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

START_TEST(direct_io_op)
{
	struct tfile t;
	tfile_open(&t);
	pgc_cache *cache = pgc_test_cache(16, 0);
	pgc_mapping *m = NULL;
	ck_assert_int_eq(pgc_store_mapping_create(cache, t.store, &m), 0);
	const struct pgc_mapping_ops *ops = pgc_store_ops();
	size_t bs = pgc_store_block_size(t.store);
	size_t al = bs > pgc_store_mem_align(t.store) ? bs : pgc_store_mem_align(t.store);
	unsigned char *b = abuf(al, 4 * bs);

	fill_pat(b, 4 * bs, 2 * bs, 71);
	struct iovec v = {b, 4 * bs};
	ck_assert_int_eq(ops->direct_IO(m, PGC_WRITE, &v, 1, 2 * bs), (ssize_t)(4 * bs));
	ck_assert_uint_eq(fd_size(t.plain), 6 * bs);
	memset(b, 0, 4 * bs);
	ck_assert_int_eq(ops->direct_IO(m, PGC_READ, &v, 1, 2 * bs), (ssize_t)(4 * bs));
	ck_assert_int_eq(check_pat(b, 4 * bs, 2 * bs, 71), -1);
	/* Short at the end of the file. */
	ck_assert_int_eq(ops->direct_IO(m, PGC_READ, &v, 1, 4 * bs), (ssize_t)(2 * bs));
	/* A bad direction or alignment. */
	ck_assert_int_eq(ops->direct_IO(m, 7, &v, 1, 0), -EINVAL);
	if (bs > 1)
		ck_assert_int_eq(ops->direct_IO(m, PGC_WRITE, &v, 1, 1), -EINVAL);
	ck_assert_uint_eq(fd_size(t.plain), 6 * bs);

	free(b);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	pgc_cache_destroy(cache);
	tfile_close(&t);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	PGC_ADD(s, open_bad_args, 30);
	PGC_ADD(s, open_odirect_refused, 30);
	PGC_ADD(s, open_create_and_flags, 30);
	PGC_ADD(s, from_fd_bad_args, 30);
	PGC_ADD(s, from_fd_ownership, 30);
	PGC_ADD(s, null_arguments, 30);
	PGC_ADD(s, alignment_reported, 30);
	PGC_ADD(s, misaligned_requests, 30);
	PGC_ADD(s, read_write_round_trip, 30);
	PGC_ADD(s, read_at_and_after_eof, 30);
	PGC_ADD(s, read_only_store, 30);
	PGC_ADD(s, truncate_and_size, 30);
	PGC_ADD(s, mapping_create_wiring, 30);
	PGC_ADD(s, writeback_trims_and_reads_back, 30);
	PGC_ADD(s, writeback_one_request_per_run, 30);
	PGC_ADD(s, writepage_single_partial_page, 30);
	PGC_ADD(s, writeback_error_keeps_dirty, 30);
	PGC_ADD(s, readpages_zero_fill_past_eof, 30);
	PGC_ADD(s, readpages_one_request, 30);
	PGC_ADD(s, readpage_past_size_needs_no_io, 30);
	PGC_ADD(s, direct_io_op, 30);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, store_suite());
}
