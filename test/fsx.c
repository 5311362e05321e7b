/*
 * pgc-fsx: random operations on one cached file, checked against a shadow
 * copy of what the file must contain (the method of fsx, the file system
 * exerciser).
 *
 * The file lives on the built-in O_DIRECT store and is cached by a small
 * cache, so reclaim runs all the time. Each operation is picked at random:
 * buffered reads and writes, direct reads and writes at the store's
 * alignment, truncation down and up, invalidation, writeback (async and
 * sync), reclaim, moves of random cached pages between the cache's nodes
 * (copied, exchanged with a cold page of a full node, or in place),
 * placement steps (placement on, eager), and closing and reopening the
 * mapping and the store.
 *
 * Every byte written encodes the operation number and its file offset, so a
 * bad byte names the operation whose data it holds. Reads are compared with
 * the shadow; the size is checked after every operation; bytes past the end
 * read as zeros once the file grows again. Every --check-every operations
 * the cache's consistency check runs and the whole file is read back; at the
 * end everything is written back, and the file is read with plain pread,
 * bypassing the library: nothing acknowledged may be lost.
 *
 * It prints its seed; --seed replays a run. On failure it prints the last
 * operations (--dump) and exits 1.
 *
 * --aio sends the reads, writes, direct transfers and syncs through an
 * asynchronous context (pgc_aio, one request at a time, reaped before the
 * next operation), and a quarter of the reads are PGC_READ_NOWAIT reads,
 * which may return a prefix or -EAGAIN and start background fills.
 * --engine psync|uring picks the file store's engine (default: the
 * library's, io_uring where it was built with liburing).
 *
 * --store mem puts the file in memory behind an operations table of the
 * test's own, for the multi-node VM, whose root file system (an initramfs)
 * refuses O_DIRECT. The environment variables PGC_FSX_OPS, PGC_FSX_STORE
 * and PGC_FSX_SEED set the defaults of --ops, --store and --seed (the VM
 * runs programs without arguments: a VM failure replays with
 * --env PGC_FSX_SEED=<seed> to scripts/numa-vm.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "pgc_memstore.h"

enum op_kind {
	OP_READ,
	OP_WRITE,
	OP_DREAD,
	OP_DWRITE,
	OP_TRUNCATE,
	OP_INVALIDATE,
	OP_WRITEBACK,
	OP_SYNC,
	OP_RECLAIM,
	OP_MOVE,
	OP_REOPEN,
	OP_PLACE,
	NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"read", "write", "dread", "dwrite", "truncate", "invalidate",
	"writeback", "sync", "reclaim", "move", "reopen", "place",
};

/* Relative frequencies of the operations. */
static const unsigned op_weight[NR_OPS] = {
	[OP_READ] = 30,	    [OP_WRITE] = 30,  [OP_DREAD] = 8,   [OP_DWRITE] = 8,
	[OP_TRUNCATE] = 4,  [OP_INVALIDATE] = 4, [OP_WRITEBACK] = 5, [OP_SYNC] = 3,
	[OP_RECLAIM] = 3,   [OP_MOVE] = 4,    [OP_REOPEN] = 1,  [OP_PLACE] = 3,
};

struct logged_op {
	uint64_t nr;
	enum op_kind kind;
	uint64_t off, len; /* len: also the new size of a truncate */
	long result;
};

static struct {
	/* options */
	uint64_t ops;
	uint64_t seed;
	uint64_t max_size;
	uint64_t max_len;
	uint64_t capacity;
	uint64_t check_every;
	unsigned dump;
	const char *dir;
	bool mem_store;
	bool use_aio;
	int engine;        /* -1: the store's default */
	bool keep;
	bool verbose;
	/* state */
	pgc_cache *cache;
	pgc_store *store;  /* the file store, or NULL with --store mem */
	pgc_mapping *m;
	pgc_aio *aio;      /* --aio */
	uint64_t nowait_short; /* NOWAIT reads that returned less than asked */
	struct memstore mem; /* --store mem: the file */
	char path[4096];
	size_t ps;
	uint32_t dio_block, dio_align;
	uint64_t size;     /* the shadow's size */
	uint8_t *shadow;   /* max_size bytes: what the file holds */
	uint32_t *writer;  /* max_size entries: the op that wrote each byte, 0 none */
	uint8_t *buf;      /* max_len + a block, aligned: I/O buffer */
	uint64_t rng;
	uint64_t opnr;
	struct logged_op *log;
	int nodes[64];
	int nr_nodes;
	uint64_t counts[NR_OPS];
	uint64_t moved, copied, move_calls, reclaimed, placed;
} g;

static uint64_t rnd(void)
{
	/* splitmix64: a full-period generator whose stream a seed fixes */
	uint64_t z = (g.rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* The byte that operation nr writes at file offset off. Never zero, so a
 * written byte differs from a hole. */
static uint8_t pattern(uint64_t nr, uint64_t off)
{
	uint8_t b = (uint8_t)((nr * 0x9du) ^ (off * 0x3bu) ^ (off >> 8));
	return b ? b : 0x5a;
}

static void dump_log(void)
{
	uint64_t first = g.opnr > g.dump ? g.opnr - g.dump + 1 : 1;
	fprintf(stderr, "fsx: the last %" PRIu64 " operations:\n", g.opnr - first + 1);
	for (uint64_t n = first; n <= g.opnr; n++) {
		const struct logged_op *o = &g.log[n % g.dump];
		if (o->nr != n)
			continue;
		fprintf(stderr, "  %8" PRIu64 " %-10s off %#10" PRIx64 " len %#8" PRIx64
				" -> %ld\n",
			o->nr, op_names[o->kind], o->off, o->len, o->result);
	}
}

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fsx: FAILED at operation %" PRIu64 " (seed %" PRIu64 "): ", g.opnr,
		g.seed);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	dump_log();
	fprintf(stderr, "fsx: replay with --seed %" PRIu64 " --ops %" PRIu64
			" (file kept: %s)\n",
		g.seed, g.ops, g.path);
	exit(1);
}

/* Names the operation whose pattern a wrong byte holds, if a logged one wrote there. */
static void explain_byte(uint64_t off, uint8_t got)
{
	uint64_t first = g.opnr > g.dump ? g.opnr - g.dump + 1 : 1;
	for (uint64_t n = g.opnr; n >= first && n > 0; n--) {
		const struct logged_op *o = &g.log[n % g.dump];
		if (o->nr == n && (o->kind == OP_WRITE || o->kind == OP_DWRITE) && off >= o->off &&
		    off < o->off + o->len && pattern(n, off) == got)
			fprintf(stderr, "fsx:   the byte read is what operation %" PRIu64
					" (%s) wrote there\n",
				n, op_names[o->kind]);
	}
	if (got == 0)
		fprintf(stderr, "fsx:   the byte read is zero (a hole or a lost write)\n");
}

/* Compares len bytes read at off with the shadow. */
static void compare(const char *what, const uint8_t *data, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++) {
		if (data[i] == g.shadow[off + i])
			continue;
		uint64_t bad = off + i;
		fprintf(stderr, "fsx: %s: byte at %#" PRIx64 " is %#04x, expected %#04x "
				"(written by operation %" PRIu32 "%s)\n",
			what, bad, data[i], g.shadow[bad], g.writer[bad],
			g.writer[bad] ? "" : ", i.e. never written: zero");
		explain_byte(bad, data[i]);
		uint64_t nbad = 0;
		for (uint64_t j = i; j < len; j++)
			nbad += data[j] != g.shadow[off + j];
		fail("%s of [%#" PRIx64 ", +%#" PRIx64 "): %" PRIu64 " bad bytes from %#" PRIx64,
		     what, off, len, nbad, bad);
	}
}

static void check_size(void)
{
	uint64_t s = pgc_mapping_size(g.m);
	if (s != g.size)
		fail("the mapping's size is %" PRIu64 ", the shadow's %" PRIu64, s, g.size);
}

static void shadow_write(uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++) {
		g.shadow[off + i] = pattern(g.opnr, off + i);
		g.writer[off + i] = (uint32_t)g.opnr;
	}
	if (off + len > g.size)
		g.size = off + len;
}

static void fill(uint8_t *dst, uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		dst[i] = pattern(g.opnr, off + i);
}

/* --- the in-memory store (--store mem): test/pgc_memstore.h --- */

static const struct pgc_mapping_ops mem_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = memstore_readpage,
	.writepage = memstore_writepage,
	.migratepage = pgc_migrate_page,
	.direct_IO = memstore_direct_IO,
	.resize = memstore_resize,
};

/* --- opening and closing --- */

static void open_mapping(void)
{
	if (g.mem_store) {
		int err = pgc_mapping_create(g.cache, &mem_ops, &g.mem, g.mem.size, &g.m);
		if (err)
			fail("pgc_mapping_create: %s", pgc_strerror(err));
		g.dio_block = 512;
		g.dio_align = 512;
		return;
	}
	int err = pgc_store_open(g.path, O_RDWR | O_CREAT, 0600, &g.store);
	if (err)
		fail("pgc_store_open(%s): %s", g.path, pgc_strerror(err));
	if (g.engine >= 0 && (err = pgc_store_set_engine(g.store, g.engine)))
		fail("pgc_store_set_engine(%d): %s", g.engine, pgc_strerror(err));
	err = pgc_store_mapping_create(g.cache, g.store, &g.m);
	if (err)
		fail("pgc_store_mapping_create: %s", pgc_strerror(err));
	struct pgc_dio_limits lim = {.size = sizeof(lim)};
	err = pgc_mapping_dio_limits(g.m, &lim);
	if (err)
		fail("pgc_mapping_dio_limits: %s", pgc_strerror(err));
	g.dio_block = lim.block_size;
	g.dio_align = lim.mem_align;
}

static void sync_all(void)
{
	/* A sync, not a plain writeback: the store's size follows too. */
	int err = pgc_sync_range(g.m, 0, UINT64_MAX, NULL);
	if (err)
		fail("sync of everything: %s", pgc_strerror(err));
}

static void close_mapping(void)
{
	sync_all();
	int err = pgc_mapping_destroy(g.m);
	if (err)
		fail("pgc_mapping_destroy: %s", pgc_strerror(err));
	err = g.store ? pgc_store_close(g.store) : 0;
	if (err)
		fail("pgc_store_close: %s", pgc_strerror(err));
	g.m = NULL;
	g.store = NULL;
}

/* --- the asynchronous context (--aio) --- */

struct aio_res {
	int calls;
	ssize_t result;
};

static void aio_done(void *arg, ssize_t result)
{
	struct aio_res *r = arg;
	r->calls++;
	r->result = result;
}

/* Waits for the request just submitted (err: the submit's result). */
static ssize_t aio_wait(const char *what, int err, struct aio_res *res)
{
	if (err)
		fail("%s: submit: %s", what, pgc_strerror(err));
	while (!res->calls) {
		int n = pgc_aio_reap(g.aio, 1, 0);
		if (n < 0)
			fail("pgc_aio_reap: %s", pgc_strerror(n));
	}
	if (res->calls != 1 || pgc_aio_inflight(g.aio))
		fail("%s: %d callbacks, %u requests still in flight", what, res->calls,
		     pgc_aio_inflight(g.aio));
	return res->result;
}

static ssize_t do_read(uint64_t off, uint64_t len)
{
	if (!g.aio)
		return pgc_read(g.m, g.buf, len, off);
	struct aio_res res = {0};
	return aio_wait("pgc_aio_read", pgc_aio_read(g.aio, g.m, g.buf, len, off, aio_done, &res),
			&res);
}

static ssize_t do_write(uint64_t off, uint64_t len)
{
	if (!g.aio)
		return pgc_write(g.m, g.buf, len, off, 0);
	struct aio_res res = {0};
	return aio_wait("pgc_aio_write",
			pgc_aio_write(g.aio, g.m, g.buf, len, off, 0, aio_done, &res), &res);
}

static ssize_t do_direct(int rw, struct iovec *iov, uint64_t off)
{
	if (!g.aio)
		return pgc_direct_io(g.m, rw, iov, 1, off);
	struct aio_res res = {0};
	return aio_wait("pgc_aio_direct",
			pgc_aio_direct(g.aio, g.m, rw, iov, 1, off, aio_done, &res), &res);
}

/* --- the operations --- */

/* A random range: offsets mostly inside the file, sometimes past it. */
static void pick_range(uint64_t *off, uint64_t *len, uint64_t align)
{
	uint64_t span = g.size + g.size / 4 + align;
	if (span > g.max_size)
		span = g.max_size;
	uint64_t o = rnd_below(span) / align * align;
	uint64_t l = rnd_below(g.max_len) + 1;
	if (rnd_below(4) == 0)
		l = rnd_below(64) + 1; /* tiny: the fast paths */
	l = (l + align - 1) / align * align;
	if (o + l > g.max_size)
		l = (g.max_size - o) / align * align;
	*off = o;
	*len = l;
}

static long op_read(uint64_t off, uint64_t len)
{
	uint64_t want = off >= g.size ? 0 : (g.size - off < len ? g.size - off : len);
	if (g.aio && rnd_below(4) == 0) {
		/* NOWAIT: the cached prefix, or -EAGAIN; what it returns is right. */
		ssize_t r = pgc_read_flags(g.m, g.buf, len, off, PGC_READ_NOWAIT);
		if (r == -EAGAIN && want) {
			g.nowait_short++;
			return r;
		}
		if (r < 0 || (uint64_t)r > want)
			fail("NOWAIT read (%#" PRIx64 ", %#" PRIx64 ") returned %zd, at most %" PRIu64,
			     off, len, r, want);
		if ((uint64_t)r < want)
			g.nowait_short++;
		compare("NOWAIT read", g.buf, off, (uint64_t)r);
		return r;
	}
	ssize_t r = do_read(off, len);
	if (r < 0)
		fail("pgc_read(%#" PRIx64 ", %#" PRIx64 "): %s", off, len, pgc_strerror((int)r));
	if ((uint64_t)r != want)
		fail("pgc_read(%#" PRIx64 ", %#" PRIx64 ") returned %zd, expected %" PRIu64, off,
		     len, r, want);
	compare("buffered read", g.buf, off, want);
	return r;
}

static long op_write(uint64_t off, uint64_t len)
{
	fill(g.buf, off, len);
	ssize_t r = do_write(off, len);
	if (r < 0 || (uint64_t)r != len)
		fail("pgc_write(%#" PRIx64 ", %#" PRIx64 ") returned %zd (%s)", off, len, r,
		     r < 0 ? pgc_strerror((int)r) : "short");
	shadow_write(off, len);
	return r;
}

static long op_dread(uint64_t off, uint64_t len)
{
	struct iovec iov = {.iov_base = g.buf, .iov_len = len};
	ssize_t r = do_direct(PGC_READ, &iov, off);
	uint64_t want = off >= g.size ? 0 : (g.size - off < len ? g.size - off : len);
	if (r < 0)
		fail("direct read (%#" PRIx64 ", %#" PRIx64 "): %s", off, len,
		     pgc_strerror((int)r));
	if ((uint64_t)r != want)
		fail("direct read (%#" PRIx64 ", %#" PRIx64 ") returned %zd, expected %" PRIu64,
		     off, len, r, want);
	compare("direct read", g.buf, off, want);
	return r;
}

static long op_dwrite(uint64_t off, uint64_t len)
{
	fill(g.buf, off, len);
	struct iovec iov = {.iov_base = g.buf, .iov_len = len};
	ssize_t r = do_direct(PGC_WRITE, &iov, off);
	if (r < 0 || (uint64_t)r != len)
		fail("direct write (%#" PRIx64 ", %#" PRIx64 ") returned %zd (%s)", off, len, r,
		     r < 0 ? pgc_strerror((int)r) : "short");
	shadow_write(off, len);
	return r;
}

static long op_truncate(uint64_t new_size)
{
	int err = pgc_mapping_truncate(g.m, new_size);
	if (err)
		fail("pgc_mapping_truncate(%" PRIu64 "): %s", new_size, pgc_strerror(err));
	/* The store follows by itself (the resize operation). */
	if (new_size < g.size) {
		memset(g.shadow + new_size, 0, g.size - new_size);
		memset(g.writer + new_size, 0, (g.size - new_size) * sizeof(*g.writer));
	}
	g.size = new_size;
	return 0;
}

static long op_invalidate(uint64_t first, uint64_t last)
{
	long r = pgc_mapping_invalidate(g.m, first, last);
	if (r < 0)
		fail("pgc_mapping_invalidate(%" PRIu64 ", %" PRIu64 "): %s", first, last,
		     pgc_strerror((int)r));
	return r;
}

static long op_writeback(uint64_t first, uint64_t last, int mode)
{
	int err = pgc_mapping_writeback(g.m, first, last, mode);
	if (err)
		fail("pgc_mapping_writeback(%" PRIu64 ", %" PRIu64 ", %d): %s", first, last, mode,
		     pgc_strerror(err));
	return 0;
}

static long op_reclaim(uint64_t nr)
{
	long r = pgc_cache_reclaim(g.cache, nr);
	if (r < 0)
		fail("pgc_cache_reclaim(%" PRIu64 "): %s", nr, pgc_strerror((int)r));
	g.reclaimed += (uint64_t)r;
	return r;
}

static pgc_page *new_page_same_node(pgc_page *old, void *arg)
{
	(void)arg;
	pgc_page *p;
	return pgc_page_alloc(g.cache, pgc_page_node(old), 0, &p) ? NULL : p;
}

/*
 * Moves the cached pages of an index range to a random node of the cache
 * (copied or in place), or copies them to new frames (copy_only).
 */
static long op_move(uint64_t first, uint64_t nr, bool inplace, bool copy_only)
{
	pgc_page *pages[64];
	int nodes[64], status[64], before[64];
	unsigned n = 0;
	int to = g.nodes[rnd_below((uint64_t)g.nr_nodes)];
	for (uint64_t i = first; i < first + nr && n < 64; i++) {
		int err = pgc_mapping_find(g.m, i, &pages[n]);
		if (err == 0) {
			before[n] = pgc_page_node(pages[n]);
			nodes[n] = to;
			n++;
		} else if (err != -ENOENT) {
			fail("pgc_mapping_find(%" PRIu64 "): %s", i, pgc_strerror(err));
		}
	}
	if (n == 0)
		return 0;
	if (copy_only) {
		/* Copies to new frames on the same node: the migration engine
		 * at work on a machine with a single node. */
		long r = pgc_migrate_pages(pages, n, new_page_same_node, NULL, PGC_MIGRATE_SYNC,
					   PGC_MR_MEMPOLICY, status, NULL);
		if (r < 0 && r != -ENOMEM)
			fail("pgc_migrate_pages(%u pages): %s", n, pgc_strerror((int)r));
		for (unsigned i = 0; i < n; i++) {
			if (status[i] == 0)
				g.copied++;
			else if (status[i] != -ENOMEM && status[i] != -EBUSY)
				fail("pgc_migrate_pages: page %u got status %d (%s)", i, status[i],
				     pgc_strerror(status[i]));
			pgc_page_put(pages[i]);
		}
		g.move_calls++;
		return r;
	}
	/* By copy, half the moves may trade places with a cold page of a full node. */
	unsigned flags = inplace ? PGC_MOVE_INPLACE : rnd_below(2) ? PGC_MOVE_EXCHANGE : 0;
	long r = pgc_move_pages(g.cache, n, pages, nodes, status, flags);
	if (r < 0)
		fail("pgc_move_pages(%u pages to node %d): %s", n, to, pgc_strerror((int)r));
	for (unsigned i = 0; i < n; i++) {
		/* Our reference keeps the page in place: only a busy page (no
		 * lock of ours is held here, but a background readahead may be
		 * reading it) or a full node may stay behind. */
		if (status[i] == to)
			g.moved += before[i] != to;
		else if (status[i] != -ENOMEM && status[i] != -EBUSY)
			fail("pgc_move_pages: page %u (index %" PRIu64 ") got status %d (%s)", i,
			     pgc_page_index(pages[i]), status[i], pgc_strerror(status[i]));
		pgc_page_put(pages[i]);
	}
	g.move_calls++;
	return r;
}

/* One placement step (placement.h): pages move by where the hits came from. */
static long op_place(void)
{
	struct pgc_placement_stats st = {.size = sizeof(st)};
	long r = pgc_placement_step(g.cache, &st);
	if (r < 0)
		fail("pgc_placement_step: %s", pgc_strerror((int)r));
	g.placed += st.moved + st.promoted + st.demoted;
	return r;
}

/* Reads the whole file through the cache and checks the cache's structures. */
static void full_check(void)
{
	char why[256];
	int err = pgc_cache_check(g.cache, why, sizeof(why));
	if (err)
		fail("pgc_cache_check: %s", why);
	err = pgc_mapping_check(g.m, why, sizeof(why));
	if (err)
		fail("pgc_mapping_check: %s", why);
	for (uint64_t off = 0; off < g.size; off += g.max_len) {
		uint64_t len = g.size - off < g.max_len ? g.size - off : g.max_len;
		ssize_t r = pgc_read(g.m, g.buf, len, off);
		if (r != (ssize_t)len)
			fail("full read at %#" PRIx64 ": %zd", off, r);
		compare("full read", g.buf, off, len);
	}
}

/* After a final writeback, the file itself must hold the shadow. */
static void verify_file(void)
{
	if (g.mem_store) {
		if (g.mem.size != g.size)
			fail("the store's size is %" PRIu64 ", expected %" PRIu64, g.mem.size, g.size);
		compare("the store's memory", g.mem.data, 0, g.size);
		return;
	}
	int fd = open(g.path, O_RDONLY);
	if (fd < 0)
		fail("open %s: %s", g.path, strerror(errno));
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0 || (uint64_t)end != g.size)
		fail("the file's size is %lld, expected %" PRIu64, (long long)end, g.size);
	for (uint64_t off = 0; off < g.size; off += g.max_len) {
		uint64_t len = g.size - off < g.max_len ? g.size - off : g.max_len;
		ssize_t r = pread(fd, g.buf, len, (off_t)off);
		if (r != (ssize_t)len)
			fail("pread of the file at %#" PRIx64 ": %zd", off, r);
		compare("the file read with pread", g.buf, off, len);
	}
	close(fd);
}

static enum op_kind pick_op(void)
{
	unsigned total = 0;
	for (int k = 0; k < NR_OPS; k++)
		total += op_weight[k];
	unsigned x = (unsigned)rnd_below(total);
	for (int k = 0; k < NR_OPS; k++) {
		if (x < op_weight[k])
			return (enum op_kind)k;
		x -= op_weight[k];
	}
	return OP_READ;
}

static void one_op(void)
{
	struct logged_op *o = &g.log[g.opnr % g.dump];
	enum op_kind k = pick_op();
	uint64_t off = 0, len = 0, pages = g.max_size / g.ps + 1;
	long r = 0;

	o->nr = g.opnr;
	o->kind = k;
	o->off = o->len = 0;
	o->result = 0;
	switch (k) {
	case OP_READ:
	case OP_WRITE:
		pick_range(&off, &len, 1);
		break;
	case OP_DREAD:
	case OP_DWRITE:
		pick_range(&off, &len, g.dio_block);
		break;
	case OP_TRUNCATE:
		/* Half the time down, half up; sometimes to a page boundary. */
		len = rnd_below(2) ? rnd_below(g.size + 1) : g.size + rnd_below(g.max_size - g.size + 1);
		if (rnd_below(4) == 0)
			len = len / g.ps * g.ps;
		break;
	default:
		off = rnd_below(pages);
		len = rnd_below(pages - off) + 1;
		if (len > 64)
			len = rnd_below(64) + 1;
		break;
	}
	o->off = off;
	o->len = len;
	if (len == 0 && (k == OP_READ || k == OP_WRITE || k == OP_DREAD || k == OP_DWRITE))
		k = OP_RECLAIM; /* nothing to transfer: reclaim instead */
	o->kind = k;
	g.counts[k]++;
	switch (k) {
	case OP_READ:
		r = op_read(off, len);
		break;
	case OP_WRITE:
		r = op_write(off, len);
		break;
	case OP_DREAD:
		r = op_dread(off, len);
		break;
	case OP_DWRITE:
		r = op_dwrite(off, len);
		break;
	case OP_TRUNCATE:
		r = op_truncate(len);
		break;
	case OP_INVALIDATE:
		r = op_invalidate(off, off + len - 1);
		break;
	case OP_WRITEBACK:
		r = op_writeback(off, off + len - 1, PGC_WB_NONE);
		break;
	case OP_SYNC:
		if (g.aio) {
			struct aio_res res = {0};
			r = aio_wait("pgc_aio_sync",
				     pgc_aio_sync(g.aio, g.m, off * g.ps, (off + len) * g.ps - 1, NULL,
						  aio_done, &res),
				     &res);
			if (r)
				fail("pgc_aio_sync of pages %" PRIu64 "+%" PRIu64 ": %s", off, len,
				     pgc_strerror((int)r));
		} else {
			r = op_writeback(off, off + len - 1, PGC_WB_ALL);
		}
		break;
	case OP_RECLAIM:
		r = op_reclaim(rnd_below(g.capacity / 2) + 1);
		break;
	case OP_MOVE:
		r = op_move(off, len, rnd_below(2) == 0, g.nr_nodes == 1 || rnd_below(3) == 0);
		break;
	case OP_REOPEN:
		close_mapping();
		open_mapping();
		break;
	case OP_PLACE:
		r = op_place();
		break;
	default:
		break;
	}
	o->result = r;
	check_size();
	if (g.verbose)
		printf("%8" PRIu64 " %-10s off %#10" PRIx64 " len %#8" PRIx64 " -> %ld\n", g.opnr,
		       op_names[k], off, len, r);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pgc-fsx [options]\n"
		"Random operations on a file cached by libpgcache, checked against a shadow copy.\n"
		"  --ops N          operations to run (default 200000)\n"
		"  --seed S         seed of the random operations (default: random, printed)\n"
		"  --max-size B     largest file size in bytes (default 1 MiB)\n"
		"  --max-len B      longest read or write in bytes (default 64 KiB)\n"
		"  --capacity P     cache capacity in pages (default 64: reclaim all the time)\n"
		"  --check-every N  consistency check and full read every N operations (default 5000)\n"
		"  --dump N         operations kept for the failure report (default 64)\n"
		"  --dir D          directory of the test file (default $TMPDIR or /tmp)\n"
		"  --store file|mem the built-in O_DIRECT file store (default) or one in memory\n"
		"  --engine E       the file store's engine: psync or uring (default: the library's)\n"
		"  --aio            reads, writes, direct I/O and syncs through a pgc_aio context,\n"
		"                   and NOWAIT reads\n"
		"  --keep           keep the test file\n"
		"  --verbose        print every operation\n"
		"  --help           this text\n"
		"Exit status: 0 if every check passed, 1 on a mismatch or error, 2 on bad usage.\n");
}

static uint64_t parse_u64(const char *s, const char *opt)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "pgc-fsx: bad value for %s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ops", required_argument, NULL, 'o'},	    {"seed", required_argument, NULL, 's'},
		{"max-size", required_argument, NULL, 'S'}, {"max-len", required_argument, NULL, 'l'},
		{"capacity", required_argument, NULL, 'c'}, {"check-every", required_argument, NULL, 'k'},
		{"dump", required_argument, NULL, 'd'},	    {"dir", required_argument, NULL, 'D'},
		{"store", required_argument, NULL, 'T'},   {"engine", required_argument, NULL, 'E'},
		{"aio", no_argument, NULL, 'A'},   {"keep", no_argument, NULL, 'K'},	    {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	/* PGC_FSX_SEED: a replay where no arguments can be given (the VMs). */
	bool seeded = getenv("PGC_FSX_SEED") != NULL;
	if (seeded)
		g.seed = parse_u64(getenv("PGC_FSX_SEED"), "PGC_FSX_SEED");
	g.ops = getenv("PGC_FSX_OPS") ? parse_u64(getenv("PGC_FSX_OPS"), "PGC_FSX_OPS") : 200000;
	const char *store = getenv("PGC_FSX_STORE") ? getenv("PGC_FSX_STORE") : "file";
	g.max_size = 1 << 20;
	g.max_len = 64 << 10;
	g.capacity = 64;
	g.check_every = 5000;
	g.dump = 64;
	g.dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	g.engine = -1;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'o': g.ops = parse_u64(optarg, "--ops"); break;
		case 's': g.seed = parse_u64(optarg, "--seed"); seeded = true; break;
		case 'S': g.max_size = parse_u64(optarg, "--max-size"); break;
		case 'l': g.max_len = parse_u64(optarg, "--max-len"); break;
		case 'c': g.capacity = parse_u64(optarg, "--capacity"); break;
		case 'k': g.check_every = parse_u64(optarg, "--check-every"); break;
		case 'd': g.dump = (unsigned)parse_u64(optarg, "--dump"); break;
		case 'D': g.dir = optarg; break;
		case 'T': store = optarg; break;
		case 'A': g.use_aio = true; break;
		case 'E':
			if (strcmp(optarg, "psync") == 0) {
				g.engine = PGC_STORE_PSYNC;
			} else if (strcmp(optarg, "uring") == 0) {
				g.engine = PGC_STORE_URING;
			} else {
				fprintf(stderr, "pgc-fsx: --engine must be psync or uring\n");
				exit(2);
			}
			break;
		case 'K': g.keep = true; break;
		case 'v': g.verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (strcmp(store, "mem") == 0) {
		g.mem_store = true;
	} else if (strcmp(store, "file") != 0) {
		fprintf(stderr, "pgc-fsx: --store must be file or mem\n");
		exit(2);
	}
	if (optind != argc || g.max_len == 0 || g.max_size < 2 * g.max_len || g.capacity < 8 ||
	    g.dump == 0 || g.check_every == 0 || g.max_size > UINT32_MAX) {
		fprintf(stderr, "pgc-fsx: bad arguments (max-size >= 2 * max-len, capacity >= 8)\n");
		usage(stderr);
		exit(2);
	}
	if (!seeded && getrandom(&g.seed, sizeof(g.seed), 0) != sizeof(g.seed))
		g.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
}

static void cache_log(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "fsx: libpgcache [%d]: %s\n", level, msg);
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	g.rng = g.seed;
	printf("pgc-fsx: seed %" PRIu64 ", %" PRIu64 " operations, file up to %" PRIu64
	       " bytes, cache of %" PRIu64 " pages\n",
	       g.seed, g.ops, g.max_size, g.capacity);
	fflush(stdout);

	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = g.capacity;
	cfg.log = cache_log;
	cfg.log_level = PGC_LOG_WARN;
	int err = pgc_cache_create(&cfg, &g.cache);
	if (err)
		fail("pgc_cache_create: %s", pgc_strerror(err));
	g.ps = pgc_cache_page_size(g.cache);
	g.nr_nodes = pgc_cache_nodes(g.cache, g.nodes, 64);
	if (g.nr_nodes <= 0)
		fail("pgc_cache_nodes: %d", g.nr_nodes);
	/* Placement on, eager: every hit notes its node, a step moves a page
	 * hit once (the place operation, so that runs stay replayable). */
	struct pgc_placement_config pc;
	pgc_placement_config_init(&pc);
	pc.min_hits = 1;
	pc.min_samples = 1;
	pc.hot_steps = 1;
	pc.cold_steps = 3;
	pc.max_moves = 64;
	pc.scan_pages = 1024;
	err = pgc_placement_set(g.cache, &pc);
	if (err)
		fail("pgc_placement_set: %s", pgc_strerror(err));

	if (g.mem_store) {
		snprintf(g.path, sizeof(g.path), "(memory)");
		g.mem.cap = g.max_size + g.max_len + 65536;
		g.mem.data = calloc(g.mem.cap, 1);
		g.mem.ps = g.ps;
		if (!g.mem.data)
			fail("out of memory");
	} else {
		snprintf(g.path, sizeof(g.path), "%s/pgc-fsx.XXXXXX", g.dir);
		int fd = mkstemp(g.path);
		if (fd < 0) {
			fprintf(stderr, "pgc-fsx: mkstemp %s: %s\n", g.path, strerror(errno));
			return 1;
		}
		close(fd);
	}
	g.shadow = calloc(g.max_size, 1);
	g.writer = calloc(g.max_size, sizeof(*g.writer));
	g.log = calloc(g.dump, sizeof(*g.log));
	if (!g.shadow || !g.writer || !g.log ||
	    posix_memalign((void **)&g.buf, 4096, g.max_len + 65536) != 0)
		fail("out of memory");
	open_mapping();
	if (g.use_aio && (err = pgc_aio_create(NULL, &g.aio)))
		fail("pgc_aio_create: %s", pgc_strerror(err));
	printf("pgc-fsx: file %s, page size %zu, direct I/O block %u, %d node(s), engine %s%s\n",
	       g.path, g.ps, g.dio_block, g.nr_nodes,
	       g.store ? (pgc_store_engine(g.store) == PGC_STORE_URING ? "io_uring" : "psync") : "-",
	       !g.aio ? "" : pgc_aio_uses_uring(g.aio) == 1 ? ", aio context with a ring"
							  : ", aio context on workers");

	for (g.opnr = 1; g.opnr <= g.ops; g.opnr++) {
		one_op();
		if (g.opnr % g.check_every == 0)
			full_check();
	}
	g.opnr = g.ops;
	full_check();
	sync_all();
	verify_file();
	close_mapping();
	verify_file();
	if (g.aio) {
		struct pgc_aio_stats as = {.size = sizeof(as)};
		if ((err = pgc_aio_stats(g.aio, &as)) || (err = pgc_aio_destroy(g.aio)))
			fail("pgc_aio_stats/destroy: %s", pgc_strerror(err));
		printf("pgc-fsx: aio: %" PRIu64 " inline, %" PRIu64 " on the ring, %" PRIu64
		       " on workers; %" PRIu64 " NOWAIT reads stopped short\n",
		       as.inline_done, as.ring, as.worker, g.nowait_short);
	}
	char why[256];
	err = pgc_cache_check(g.cache, why, sizeof(why));
	if (err)
		fail("pgc_cache_check after close: %s", why);
	err = pgc_cache_destroy(g.cache);
	if (err)
		fail("pgc_cache_destroy: %s", pgc_strerror(err));

	printf("pgc-fsx: PASSED %" PRIu64 " operations, seed %" PRIu64 ":", g.ops, g.seed);
	for (int k = 0; k < NR_OPS; k++)
		printf(" %s %" PRIu64, op_names[k], g.counts[k]);
	printf("; %" PRIu64 " pages moved to another node and %" PRIu64
	       " copied to new frames in %" PRIu64 " calls, %" PRIu64 " moved by placement, %" PRIu64
	       " reclaimed; final size %" PRIu64 "\n",
	       g.moved, g.copied, g.move_calls, g.placed, g.reclaimed, g.size);
	if (!g.keep && !g.mem_store)
		unlink(g.path);
	free(g.mem.data);
	free(g.shadow);
	free(g.writer);
	free(g.log);
	free(g.buf);
	return 0;
}
