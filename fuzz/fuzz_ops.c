/*
 * fuzz_ops: a libFuzzer harness that turns its input into a sequence of
 * calls on a small cache and checks every result against a shadow copy of
 * the file (the method of test/fsx.c, with the fuzzer choosing the
 * operations instead of a seeded generator).
 *
 * Each input gets a fresh cache of 16 pages and one mapping of a file of at
 * most 256 KiB held in memory by the harness's own operations table
 * (readpage, writepage, direct_IO and, depending on the first byte,
 * readpages, writepages through pgc_mapping_writeback_runs() and
 * migratepage). The first byte also picks the readahead cap and the
 * direct-I/O segment size. Each further operation is one byte (low five
 * bits: the operation, high three: its variant) followed by its arguments;
 * a missing argument byte reads as zero, and the input ends the run.
 *
 * Checks: every buffered or direct read equals the shadow; the mapping's
 * size equals the shadow's after every operation; pages seen through a page
 * handle or after a migration hold the shadow's bytes; pgc_cache_check()
 * and pgc_mapping_check() pass after every operation; at the end everything
 * is written back, the store must equal the shadow, and the mapping and the
 * cache are destroyed (LeakSanitizer sees any leak). An operation can make
 * writepage fail with -EIO: only then may calls report -EIO, -ENOMEM or a
 * short transfer. A mismatch prints the operations run so far and aborts,
 * which makes libFuzzer save the input.
 *
 * PGC_FUZZ_VERBOSE=1 in the environment prints every operation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <pgcache/pgcache.h>

#include "../test/pgc_memstore.h"

#define CAPACITY 16			/* pages in the cache */
#define MAX_SIZE (256u << 10)		/* largest file */
#define MAX_LEN (32u << 10)		/* longest transfer */
#define DIO_BLOCK 512u			/* the mapping's default alignment */
#define NR_HANDLES 4			/* page handles held across operations */
#define MAX_OPS 512			/* longer inputs are cut */

enum op {
	OP_READ, OP_WRITE, OP_DREAD, OP_DWRITE, OP_TRUNCATE, OP_INVALIDATE,
	OP_WRITEBACK, OP_SYNC_RANGE, OP_RECLAIM, OP_MIGRATE, OP_MOVE, OP_CLP_FIND,
	OP_CLP_PUT, OP_REOPEN, OP_FAULT, OP_DIO_LIMITS, OP_FULL_READ, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"read", "write", "dread", "dwrite", "truncate", "invalidate", "writeback",
	"sync_range", "reclaim", "migrate", "move", "clp_find", "clp_put", "reopen",
	"fault", "dio_limits", "full_read",
};

static struct {
	const uint8_t *in; /* the input not yet decoded */
	size_t left;
	unsigned config;   /* the first byte */
	pgc_cache *cache;
	pgc_mapping *m;
	int node;
	size_t ps;
	uint64_t size;	    /* the shadow's size */
	struct memstore mem; /* the file (test/pgc_memstore.h) */
	unsigned opnr;
	unsigned reopens;
	unsigned fail_every; /* writepage fails every n-th call... */
	unsigned fail_budget; /* ...this many more times */
	unsigned wp_calls;
	unsigned injected;   /* failures injected so far */
	bool err_unseen;     /* an injected failure no error sample has seen */
	pgc_clpage *clp[NR_HANDLES];
	char log[MAX_OPS + 2][64];
} g;

static _Alignas(4096) uint8_t shadow[MAX_SIZE];
static _Alignas(4096) uint8_t mem_data[MAX_SIZE + MAX_LEN];
static _Alignas(4096) uint8_t buf[MAX_LEN + 4096];

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "fuzz_ops: operations (config %#x):\n", g.config);
	for (unsigned i = 1; i <= g.opnr && i <= MAX_OPS; i++)
		fprintf(stderr, "  %3u %s\n", i, g.log[i]);
	fprintf(stderr, "fuzz_ops: FAILED at operation %u: ", g.opnr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* --- input decoding: bytes past the end read as zero --- */

static unsigned get8(void)
{
	if (!g.left)
		return 0;
	g.left--;
	return *g.in++;
}

static unsigned get16(void) { unsigned v = get8(); return v | get8() << 8; }
static unsigned get24(void) { unsigned v = get16(); return v | get8() << 16; }

/* The byte operation nr writes at offset off: never zero, unlike a hole. */
static uint8_t pattern(unsigned nr, uint64_t off)
{
	uint8_t b = (uint8_t)((nr * 0x9du) ^ (off * 0x3bu) ^ (off >> 8));
	return b ? b : 0x5a;
}

/* --- the store: a byte array, zeros past its size and the mapping's --- */

/* A store write past the array means the harness's bounds are wrong. */
static void mem_write(const void *src, uint64_t off, uint64_t len)
{
	if (memstore_write(&g.mem, src, off, len))
		fail("store write at %#" PRIx64 " + %#" PRIx64 " past the file's limit", off, len);
}

static int mem_readpages(pgc_mapping *m, pgc_page **pages, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		memstore_readpage(m, pages[i]);
	return 0;
}

static bool inject(void)
{
	if (g.fail_budget && ++g.wp_calls % g.fail_every == 0) {
		g.fail_budget--;
		g.injected++;
		g.err_unseen = true;
		return true;
	}
	return false;
}

static int mem_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	(void)wbc;
	if (inject())
		return -EIO;
	uint64_t off = pgc_page_index(p) * g.ps;
	mem_write(pgc_page_data(p), off, memstore_limit(m, off, g.ps));
	return 0;
}

static int mem_write_run(pgc_mapping *m, pgc_page **pages, unsigned nr, void *arg)
{
	(void)arg;
	if (inject())
		return -EIO;
	for (unsigned i = 0; i < nr; i++) {
		if (i && pgc_page_index(pages[i]) != pgc_page_index(pages[0]) + i)
			fail("writeback run of %u pages: page %u is not consecutive", nr, i);
		uint64_t off = pgc_page_index(pages[i]) * g.ps;
		mem_write(pgc_page_data(pages[i]), off, memstore_limit(m, off, g.ps));
	}
	return 0;
}

static int mem_writepages(pgc_mapping *m, struct pgc_writeback_control *wbc)
{
	return pgc_mapping_writeback_runs(m, wbc, mem_write_run, NULL, 1 + (g.config >> 1 & 3));
}

static ssize_t mem_direct_IO(pgc_mapping *m, int rw, const struct iovec *iov, int n, uint64_t off)
{
	ssize_t r = memstore_direct_IO(m, rw, iov, n, off);
	if (r == -EFBIG)
		fail("direct write at %#" PRIx64 " past the file's limit", off);
	return r;
}

/* --- checks --- */

static void compare(const char *what, const uint8_t *data, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (data[i] != shadow[off + i])
			fail("%s of [%#" PRIx64 ", +%#" PRIx64 "): byte at %#" PRIx64
			     " is %#04x, expected %#04x",
			     what, off, len, off + i, data[i], shadow[off + i]);
}

/* A page of the mapping that is up to date holds the shadow's bytes. */
static void check_page(const char *what, pgc_page *p)
{
	if (!p || pgc_page_mapping(p) != g.m || !pgc_page_test_flag(p, PGC_PG_UPTODATE))
		return;
	uint64_t off = pgc_page_index(p) * g.ps;
	if (off < g.size)
		compare(what, pgc_page_data(p), off, g.size - off < g.ps ? g.size - off : g.ps);
}

static void check_all(void)
{
	char why[256];
	uint64_t s = pgc_mapping_size(g.m);
	if (s != g.size)
		fail("the mapping's size is %" PRIu64 ", the shadow's %" PRIu64, s, g.size);
	if (pgc_cache_check(g.cache, why, sizeof(why)))
		fail("pgc_cache_check: %s", why);
	if (pgc_mapping_check(g.m, why, sizeof(why)))
		fail("pgc_mapping_check: %s", why);
	for (int i = 0; i < NR_HANDLES; i++) {
		int st = g.clp[i] ? pgc_clpage_state(g.clp[i]) : PGC_CPS_CACHED;
		if (st != PGC_CPS_CACHED && st != PGC_CPS_FREEING)
			fail("handle %d of page %" PRIu64 " is in state %d", i,
			     pgc_clpage_index(g.clp[i]), st);
		if (g.clp[i])
			check_page("page of a handle", pgc_clpage_vmpage(g.clp[i]));
	}
}

/*
 * Whether dirty pages left by injected write failures may fill the cache:
 * reclaim cannot evict them, so a later call may find no frame (-ENOMEM,
 * or a short transfer) although nothing failed during it; and while the
 * mapping backs off after the failure, calls that need writeback (a write
 * at the dirty limit, an allocation that must clean a page) get its error
 * (-EIO) instead.
 */
static bool pinned_by_failed_writes(void)
{
	return g.injected > 0 && pgc_mapping_nr_dirty(g.m) > 0;
}

/* An error is acceptable only from a call during which writepage failed,
 * or -ENOMEM while failed writes pin the cache. */
static void expect_ok(const char *what, long r, unsigned injected_before)
{
	if (r < 0 && !((r == -EIO || r == -ENOMEM) && g.injected != injected_before) &&
	    !((r == -ENOMEM || r == -EIO) && pinned_by_failed_writes()))
		fail("%s: %s", what, pgc_strerror((int)r));
}

/* --- the operations --- */

static void shadow_write(uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		shadow[off + i] = pattern(g.opnr, off + i);
	if (len && off + len > g.size)
		g.size = off + len;
}

static void pick_range(uint64_t *off, uint64_t *len, uint64_t block)
{
	uint64_t o, l;
	if (block == 1) {
		o = get24() % (MAX_SIZE + 1);
		l = get16() % (MAX_LEN + 1);
	} else {
		o = get16() % (MAX_SIZE / block + 1) * block;
		l = get8() % (MAX_LEN / block + 1) * block;
	}
	if (o + l > MAX_SIZE)
		l = MAX_SIZE - o;
	*off = o;
	*len = l;
}

static void op_read(bool direct, unsigned variant)
{
	uint64_t off, len;
	pick_range(&off, &len, direct ? DIO_BLOCK : 1);
	unsigned inj = g.injected;
	ssize_t r;
	if (direct) {
		/* Variant 1: the buffer in two pieces, split at a block. */
		uint64_t cut = variant & 1 ? len / DIO_BLOCK / 2 * DIO_BLOCK : len;
		struct iovec iov[2] = {{buf, cut}, {buf + cut, len - cut}};
		r = pgc_direct_io(g.m, PGC_READ, iov, cut < len ? 2 : 1, off);
	} else {
		r = pgc_read(g.m, buf, len, off);
	}
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "%s %#" PRIx64 " +%#" PRIx64 " -> %zd",
		 direct ? "dread" : "read", off, len, r);
	expect_ok("read", r, inj);
	uint64_t want = off >= g.size ? 0 : (g.size - off < len ? g.size - off : len);
	if (r >= 0 && (uint64_t)r != want &&
	    !((uint64_t)r < want && (g.injected != inj || pinned_by_failed_writes())))
		fail("read returned %zd, expected %" PRIu64, r, want);
	if (r > 0)
		compare(direct ? "direct read" : "buffered read", buf, off, (uint64_t)r);
}

/*
 * A synchronous write that returns -EIO either copied everything and its
 * write-back failed (the pages stay cached and dirty, with its bytes), or
 * copied nothing (it met the dirty limit while the mapping backed off).
 * The cached pages tell which: all hold the write's pattern, or not one.
 */
static bool copied_whole(uint64_t off, uint64_t len)
{
	unsigned hits = 0, pages = 0;
	for (uint64_t idx = off / g.ps; idx <= (off + len - 1) / g.ps; idx++, pages++) {
		pgc_page *p;
		if (pgc_mapping_find(g.m, idx, &p))
			continue;
		uint64_t lo = idx * g.ps > off ? idx * g.ps : off;
		uint64_t hi = (idx + 1) * g.ps < off + len ? (idx + 1) * g.ps : off + len;
		const uint8_t *d = pgc_page_data(p);
		bool same = true;
		for (uint64_t i = lo; i < hi && same; i++)
			same = d[i - idx * g.ps] == pattern(g.opnr, i);
		hits += same;
		pgc_page_put(p);
	}
	if (hits != 0 && hits != pages)
		fail("sync write -EIO left %u of %u pages with its bytes", hits, pages);
	return hits == pages;
}

static void op_write(bool direct, unsigned variant)
{
	uint64_t off, len;
	pick_range(&off, &len, direct ? DIO_BLOCK : 1);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = pattern(g.opnr, off + i);
	unsigned inj = g.injected;
	ssize_t r;
	if (direct) {
		uint64_t cut = variant & 1 ? len / DIO_BLOCK / 2 * DIO_BLOCK : len;
		struct iovec iov[2] = {{buf, cut}, {buf + cut, len - cut}};
		r = pgc_direct_io(g.m, PGC_WRITE, iov, cut < len ? 2 : 1, off);
	} else {
		r = pgc_write(g.m, buf, len, off, variant & 1 ? PGC_WRITE_SYNC : 0);
	}
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "%s%s %#" PRIx64 " +%#" PRIx64 " -> %zd",
		 direct ? "dwrite" : "write", !direct && variant & 1 ? "(sync)" : "", off, len, r);
	expect_ok("write", r, inj);
	if (r >= 0 && (uint64_t)r != len && g.injected == inj && !pinned_by_failed_writes())
		fail("short write: %zd of %" PRIu64, r, len);
	if (r >= 0)
		shadow_write(off, (uint64_t)r);
	else if (r == -EIO && !direct && variant & 1 && copied_whole(off, len))
		shadow_write(off, len); /* copied, then the write-back failed */
}

static void op_truncate(unsigned variant)
{
	uint64_t size = get24() % (MAX_SIZE + 1);
	if (variant & 1)
		size = size / g.ps * g.ps;
	int err = pgc_mapping_truncate(g.m, size);
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "truncate %#" PRIx64 " -> %d", size, err);
	if (err)
		fail("pgc_mapping_truncate: %s", pgc_strerror(err));
	/* The store follows by itself (the resize operation). */
	if (size < g.size)
		memset(shadow + size, 0, g.size - size);
	g.size = size;
}

/* A page range: mostly inside the file, variant 2 for everything. */
static void pick_pages(unsigned variant, uint64_t *first, uint64_t *last)
{
	*first = get8() % (MAX_SIZE / g.ps + 4);
	*last = *first + get8() % 32;
	if (variant & 2) {
		*first = 0;
		*last = UINT64_MAX;
	}
}

static void op_range(enum op k, unsigned variant)
{
	uint64_t first, last;
	pick_pages(variant, &first, &last);
	unsigned inj = g.injected;
	long r;
	if (k == OP_INVALIDATE) {
		r = pgc_mapping_invalidate(g.m, first, last);
	} else if (k == OP_WRITEBACK) {
		r = pgc_mapping_writeback(g.m, first, last, variant & 1 ? PGC_WB_ALL : PGC_WB_NONE);
	} else {
		/* As the kernel's errseq_sample(), a sample does not hide an
		 * error that nobody has seen yet: it is reported once. */
		pgc_errseq_t since = pgc_mapping_sample_error(g.m);
		uint64_t end = last >= UINT64_MAX / g.ps ? UINT64_MAX : (last + 1) * g.ps - 1;
		r = pgc_sync_range(g.m, first * g.ps, end, variant & 1 ? &since : NULL);
		if (variant & 1) {
			if (r == -EIO && g.err_unseen)
				inj--; /* acceptable, as if injected during the call */
			g.err_unseen = false;
		}
	}
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "%s/%u %" PRIu64 "..%" PRIu64 " -> %ld",
		 op_names[k], variant, first, last, r);
	expect_ok(op_names[k], r, inj);
}

/* NOWAIT: the engine may hold page locks here (see pgc_new_page_fn). */
static pgc_page *new_page_same_node(pgc_page *old, void *arg)
{
	(void)arg;
	pgc_page *p;
	return pgc_page_alloc(g.cache, pgc_page_node(old), PGC_ALLOC_NOWAIT, &p) ? NULL : p;
}

/* Is a page held by one of our handles (an extra reference)? */
static bool handled(uint64_t index)
{
	for (int i = 0; i < NR_HANDLES; i++)
		if (g.clp[i] && pgc_clpage_index(g.clp[i]) == index)
			return true;
	return false;
}

/* Copies cached pages to new frames, or moves them to the first node. */
static void op_migrate(bool move, unsigned variant)
{
	pgc_page *pages[32];
	int nodes[32], status[32];
	uint64_t first, last;
	unsigned n = 0;
	pick_pages(0, &first, &last);
	for (uint64_t i = first; i <= last; i++) {
		int err = pgc_mapping_find(g.m, i, &pages[n]);
		if (err == 0)
			nodes[n++] = g.node;
		else if (err != -ENOENT)
			fail("pgc_mapping_find(%" PRIu64 "): %s", i, pgc_strerror(err));
	}
	unsigned inj = g.injected;
	long r;
	if (move)
		r = pgc_move_pages(g.cache, n, pages, nodes, status,
				   variant & 1 ? PGC_MOVE_INPLACE : 0);
	else
		r = pgc_migrate_pages(pages, n, new_page_same_node, NULL, (int)(variant % 3),
				      PGC_MR_MEMPOLICY, status, NULL);
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "%s/%u %" PRIu64 "..%" PRIu64 " (%u) -> %ld",
		 move ? "move" : "migrate", variant, first, last, n, r);
	if (r < 0 && !(r == -ENOMEM && !move))
		fail("%s: %s", move ? "pgc_move_pages" : "pgc_migrate_pages", pgc_strerror((int)r));
	for (unsigned i = 0; i < n; i++) {
		int s = status[i];
		uint64_t idx = pgc_page_index(pages[i]);
		bool ok = s == (move ? g.node : 0) || s == -EBUSY || s == -ENOMEM ||
			  (s == -EIO && g.injected != inj) || (s == -EACCES && move && handled(idx));
		if (!ok)
			fail("page %" PRIu64 " got status %d (%s)", idx, s, pgc_strerror(s));
		if (pgc_page_mapping(pages[i]) != g.m)
			fail("page %" PRIu64 " left the mapping while held", idx);
		check_page("migrated page", pages[i]);
		pgc_page_put(pages[i]);
	}
}

static void op_clp_find(unsigned variant)
{
	int slot = variant & 3;
	uint64_t index = get8() % (MAX_SIZE / g.ps + 4);
	pgc_clpage_put(g.clp[slot]);
	g.clp[slot] = NULL;
	unsigned inj = g.injected;
	int err = pgc_clpage_find(g.m, index, variant & 4 ? PGC_FIND_NOWAIT : 0, &g.clp[slot]);
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "clp_find[%d] %" PRIu64 "%s -> %d", slot, index,
		 variant & 4 ? " nowait" : "", err);
	/* NOWAIT neither sleeps nor writes back: -EAGAIN and -ENOMEM. */
	if (!(variant & 4) || (err != -EAGAIN && err != -ENOMEM))
		expect_ok("pgc_clpage_find", err, inj);
	if (!err && pgc_clpage_index(g.clp[slot]) != index)
		fail("handle of page %" PRIu64 " for index %" PRIu64, pgc_clpage_index(g.clp[slot]),
		     index);
}

static void put_handles(void)
{
	for (int i = 0; i < NR_HANDLES; i++) {
		pgc_clpage_put(g.clp[i]);
		g.clp[i] = NULL;
	}
}

static const struct pgc_mapping_ops *ops(void)
{
	static struct pgc_mapping_ops o;
	o = (struct pgc_mapping_ops){
		.size = sizeof(o),
		.readpage = memstore_readpage,
		.writepage = mem_writepage,
		.direct_IO = mem_direct_IO,
		.resize = memstore_resize,
		.readpages = g.config & 1 ? mem_readpages : NULL,
		.writepages = g.config & 8 ? mem_writepages : NULL,
		.migratepage = g.config & 16 ? pgc_migrate_page : NULL,
	};
	return &o;
}

static void open_mapping(void)
{
	int err = pgc_mapping_create(g.cache, ops(), &g.mem, g.mem.size, &g.m);
	if (err)
		fail("pgc_mapping_create: %s", pgc_strerror(err));
	static const unsigned ra[4] = {0, 2, 8, 32};
	err = pgc_mapping_set_readahead(g.m, ra[g.config >> 5 & 3]);
	if (err)
		fail("pgc_mapping_set_readahead: %s", pgc_strerror(err));
}

static void close_mapping(void)
{
	put_handles();
	g.fail_budget = 0;
	int err = pgc_sync_range(g.m, 0, UINT64_MAX, NULL);
	if (err)
		fail("sync of everything: %s", pgc_strerror(err));
	if (g.mem.size != g.size)
		fail("the store's size is %" PRIu64 ", the shadow's %" PRIu64, g.mem.size, g.size);
	compare("the store", mem_data, 0, g.size);
	err = pgc_mapping_destroy(g.m);
	if (err)
		fail("pgc_mapping_destroy: %s", pgc_strerror(err));
	g.m = NULL;
	g.err_unseen = false;
}

static void full_read(void)
{
	for (uint64_t off = 0; off < g.size; off += MAX_LEN) {
		uint64_t len = g.size - off < MAX_LEN ? g.size - off : MAX_LEN;
		unsigned inj = g.injected;
		ssize_t r = pgc_read(g.m, buf, len, off);
		expect_ok("full read", r, inj);
		if (r < 0)
			return;
		if (r != (ssize_t)len && !(g.injected != inj || pinned_by_failed_writes()))
			fail("full read at %#" PRIx64 ": %zd", off, r);
		compare("full read", buf, off, (uint64_t)r);
		if (r != (ssize_t)len)
			return;
	}
}

static void one_op(void)
{
	unsigned b = get8(), variant = b >> 5;
	enum op k = (enum op)((b & 31) % NR_OPS);
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "%s/%u", op_names[k], variant);
	switch (k) {
	case OP_READ: op_read(false, variant); break;
	case OP_WRITE: op_write(false, variant); break;
	case OP_DREAD: op_read(true, variant); break;
	case OP_DWRITE: op_write(true, variant); break;
	case OP_TRUNCATE: op_truncate(variant); break;
	case OP_INVALIDATE:
	case OP_WRITEBACK:
	case OP_SYNC_RANGE: op_range(k, variant); break;
	case OP_RECLAIM: {
		long r = pgc_cache_reclaim(g.cache, get8() % CAPACITY + 1);
		if (r < 0)
			fail("pgc_cache_reclaim: %s", pgc_strerror((int)r));
		break;
	}
	case OP_MIGRATE: op_migrate(false, variant); break;
	case OP_MOVE: op_migrate(true, variant); break;
	case OP_CLP_FIND: op_clp_find(variant); break;
	case OP_CLP_PUT:
		pgc_clpage_put(g.clp[variant & 3]);
		g.clp[variant & 3] = NULL;
		break;
	case OP_REOPEN:
		/* A few per input: each costs a thread (liburcu's hash table). */
		if (++g.reopens <= 4) {
			close_mapping();
			open_mapping();
		}
		break;
	case OP_FAULT: {
		/* Writepage fails every variant-th call (0: no more), up to
		 * 16 times, or for good with the argument 255: a cache full of
		 * pages that cannot be cleaned makes allocations sleep and
		 * fail, slow paths the fuzzer should not sit in too often. */
		unsigned arg = variant ? get8() : 0;
		g.fail_every = variant;
		g.fail_budget = !variant ? 0 : arg == 255 ? UINT32_MAX : arg % 16 + 1;
		break;
	}
	case OP_DIO_LIMITS: {
		struct pgc_dio_limits lim = {
			.size = sizeof(lim), .block_size = DIO_BLOCK, .mem_align = DIO_BLOCK,
			.max_segment = (uint64_t)(get8() % 64 + 1) * DIO_BLOCK,
		};
		int err = pgc_mapping_set_dio_limits(g.m, &lim);
		if (err)
			fail("pgc_mapping_set_dio_limits: %s", pgc_strerror(err));
		break;
	}
	case OP_FULL_READ: full_read(); break;
	default: break;
	}
	check_all();
}

static void cache_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (getenv("PGC_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_ops: libpgcache [%d]: %s\n", level, msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&g, 0, sizeof(g));
	memset(shadow, 0, sizeof(shadow));
	memset(mem_data, 0, sizeof(mem_data));
	g.mem.data = mem_data;
	g.mem.cap = sizeof(mem_data);
	g.in = data;
	g.left = size;
	g.config = get8();

	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = CAPACITY;
	cfg.log = cache_log;
	cfg.log_level = PGC_LOG_ERROR;
	int err = pgc_cache_create(&cfg, &g.cache);
	if (err)
		fail("pgc_cache_create: %s", pgc_strerror(err));
	g.ps = pgc_cache_page_size(g.cache);
	g.mem.ps = g.ps;
	if (pgc_cache_nodes(g.cache, &g.node, 1) < 1)
		fail("pgc_cache_nodes");
	open_mapping();
	if (g.config & 4) {
		struct pgc_dio_limits lim = {.size = sizeof(lim), .block_size = DIO_BLOCK,
					     .mem_align = DIO_BLOCK, .max_segment = 2 * DIO_BLOCK};
		if ((err = pgc_mapping_set_dio_limits(g.m, &lim)))
			fail("pgc_mapping_set_dio_limits: %s", pgc_strerror(err));
	}

	bool verbose = getenv("PGC_FUZZ_VERBOSE") != NULL;
	while (g.left && g.opnr < MAX_OPS) {
		g.opnr++;
		one_op();
		if (verbose)
			fprintf(stderr, "  %3u %s [injected %u]\n", g.opnr, g.log[g.opnr],
				g.injected);
	}
	g.opnr++;
	snprintf(g.log[g.opnr], sizeof(g.log[0]), "(the final checks)");
	put_handles();
	g.fail_budget = 0;
	full_read();
	close_mapping();
	char why[256];
	if (pgc_cache_check(g.cache, why, sizeof(why)))
		fail("pgc_cache_check after close: %s", why);
	if ((err = pgc_cache_destroy(g.cache)))
		fail("pgc_cache_destroy: %s", pgc_strerror(err));
	return 0;
}
