/*
 * Suite "badinput": every public function of libpgcache fed bad input —
 * NULL pointers, zero and huge counts, unaligned values, nodes out of
 * range, unknown flags and illegal state transitions — must answer with
 * the error its header documents, and nothing may crash (CONVENTIONS.md:
 * "bad input from a caller gets an error code").
 *
 * The suite is a table: one row per (function, bad argument), written with
 * ROW() below, whose body makes the call against a small fixture (a cache, a
 * mapping, a free page, a cached page, an I/O context, a page handle, a
 * file store, each created on first use) and returns the function's result,
 * which the row compares with the value the header documents. Each row runs
 * as one iteration of a Check loop test, so in its own forked process: a
 * crash fails that row and hides no other.
 *
 * Kinds of rows:
 * - ROW: the header documents the result (an error code, or the value
 *   returned for NULL, or "nothing happens").
 * - ROW_UNDOC: the header says nothing about this input; the row expects
 *   what the conventions imply (no crash, a NULL/0 result or -EINVAL). Each
 *   is a documentation gap to close.
 * - ROW_BUG: documentation and behaviour disagree (a library bug or a wrong
 *   header). The row expects the current behaviour, so that the suite stays
 *   green, and fails once the library is fixed: then turn it into a ROW.
 *   ROW_CRASH is the same for a call that crashes or aborts today: the body
 *   runs in a child process that must die. ROW_SAN and ROW_BUG_SAN are rows
 *   (documented, or a known bug) whose call dies only under ASan/UBSan
 *   (undefined behaviour, or an allocation that ASan refuses): in a sanitized
 *   build the body runs in a child that must die.
 *
 * The test `every_export_covered` reads lib/pgcache.map and checks that every
 * exported function appears in at least one row or in no_bad_input[] below,
 * with the reason it has none.
 *
 * Functions whose header says a NULL argument has undefined behaviour are
 * not tested with NULL; at the time of writing no header says so (every
 * public function checks its pointers), so that list is empty. Not tested
 * either, because the headers make them the caller's duty and the library
 * cannot detect them: locking a page the thread already holds
 * (pgc_page_lock, pgc_clpage_own by the io that owns the handle: both
 * deadlock, as documented), destroying twice or using a handle, page, io,
 * mapping, cache or store after its destroy or last put, and arrays shorter
 * than the count passed with them (pgc_migrate_pages, pgc_move_pages,
 * pgc_migrate_nodes, pgc_direct_io, pgc_store_read/write).
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

/* ---- the table ------------------------------------------------------------ */

struct fx;

enum row_kind {
	K_DOC,   /* the documented result */
	K_UNDOC, /* undocumented input: the conventions' answer */
	K_BUG,   /* documented X, actual Y: expects Y (a known bug) */
	K_CRASH, /* documented X, crashes today: expects the crash */
	K_SAN,   /* documented X in plain builds; dies under ASan/UBSan today */
	K_BUG_SAN, /* K_BUG in plain builds; dies under ASan/UBSan today */
};

struct row {
	const char *fn;   /* the function under test, as exported */
	const char *what; /* the bad argument */
	long expected;    /* documented result (or the conventions', K_UNDOC) */
	int kind;
	long actual;      /* K_BUG: the result the library gives today */
	const char *bug;  /* K_BUG, K_CRASH: what is wrong */
	long (*run)(struct fx *f);
	int line;
	int order;
};

#define MAX_ROWS 1024
static const struct row *rows[MAX_ROWS];
static int nr_rows;

static void row_register(const struct row *r)
{
	if (nr_rows < MAX_ROWS)
		rows[nr_rows++] = r;
}

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define ROW_(id, n, fn, what, exp, kind, act, bug)                                        \
	static long id(struct fx *f __attribute__((unused)));                             \
	static const struct row CAT(id, _row) = { fn, what, exp, kind, act, bug, id, __LINE__, n }; \
	__attribute__((constructor)) static void CAT(id, _reg)(void)                      \
	{                                                                                 \
		row_register(&CAT(id, _row));                                             \
	}                                                                                 \
	static long id(struct fx *f __attribute__((unused)))

/* __COUNTER__ names the row (several rows may come from one macro line) and
 * orders the table as the source does. */
#define ROW_N(n, fn, what, exp, kind, act, bug) ROW_(CAT(row_, n), n, fn, what, exp, kind, act, bug)
#define ROW(fn, what, exp) ROW_N(__COUNTER__, fn, what, exp, K_DOC, 0, NULL)
#define ROW_UNDOC(fn, what, exp) ROW_N(__COUNTER__, fn, what, exp, K_UNDOC, 0, NULL)
#define ROW_BUG(fn, what, exp, act, bug) ROW_N(__COUNTER__, fn, what, exp, K_BUG, act, bug)
#define ROW_CRASH(fn, what, exp, bug) ROW_N(__COUNTER__, fn, what, exp, K_CRASH, 0, bug)
#define ROW_SAN(fn, what, exp, bug) ROW_N(__COUNTER__, fn, what, exp, K_SAN, 0, bug)
#define ROW_BUG_SAN(fn, what, exp, act, bug) ROW_N(__COUNTER__, fn, what, exp, K_BUG_SAN, act, bug)

/* Results that are not the function's own, returned by a row's body when a
 * side condition of the documentation does not hold. */
#define R_OUT_NOT_NULL 0x7e000001L  /* an error, but *out was not set to NULL */
#define R_CALLED_OP 0x7e000002L     /* an owner's operation ran though the call was refused */
#define R_STATUS_BASE 0x7f000000L   /* + 4096 + status[0]: wrong per-page status */

/* Mismatches between documentation and behaviour get a BUG_ text here,
 * named by the ROW_BUG rows that expect them. */
/* (None is known today.) */

/* Functions exported with no input that can be bad. */
static const struct {
	const char *fn, *why;
} no_bad_input[] = {
	{ "pgc_version", "takes no argument" },
	{ "pgc_version_string", "takes no argument" },
	{ "pgc_store_ops", "takes no argument" },
	{ "pgc_last_error", "takes no argument" },
};

/* ---- the fixture ---------------------------------------------------------- */

struct fx {
	pgc_cache *cache;
	size_t ps;
	int node;
	pgc_mapping *m;      /* ops: readpage, writepage, direct_IO; owner: the fixture */
	pgc_mapping *m_none; /* no ops (all defaults) */
	pgc_page *page;      /* a free page with our reference, unlocked */
	pgc_page *mp;        /* index 0 of m: our reference, unlocked, up to date */
	pgc_io *io, *io2;    /* I/O contexts on m */
	pgc_clpage *clp;     /* handle of index 1 of m, cached, our reference */
	pgc_store *store;    /* O_RDWR store on an unlinked file in /var/tmp */
	unsigned char *buf;  /* 4 pages, page aligned */
	int op_calls;        /* calls of m's readpage, writepage and direct_IO */
};

static int fx_readpage(pgc_mapping *m, pgc_page *p)
{
	struct fx *f = pgc_mapping_owner(m);
	f->op_calls++;
	memset(pgc_page_data(p), 0, f->ps);
	return 0;
}

static int fx_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	struct fx *f = pgc_mapping_owner(m);
	(void)p;
	(void)wbc;
	f->op_calls++;
	return 0;
}

static ssize_t fx_direct_io(pgc_mapping *m, int rw, const struct iovec *iov, int iovcnt,
			    uint64_t offset)
{
	struct fx *f = pgc_mapping_owner(m);
	size_t n = 0;
	(void)rw;
	(void)offset;
	f->op_calls++;
	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return (ssize_t)n;
}

static pgc_cache *C(struct fx *f)
{
	if (!f->cache) {
		f->cache = pgc_test_cache(64, 0);
		f->ps = pgc_cache_page_size(f->cache);
		f->node = pgc_test_first_node(f->cache);
	}
	return f->cache;
}

static pgc_mapping *M(struct fx *f)
{
	if (!f->m) {
		static const struct pgc_mapping_ops ops = {
			.size = sizeof(ops),
			.readpage = fx_readpage,
			.writepage = fx_writepage,
			.direct_IO = fx_direct_io,
		};
		ck_assert_int_eq(pgc_mapping_create(C(f), &ops, f, 1u << 20, &f->m), 0);
	}
	return f->m;
}

static pgc_mapping *MNONE(struct fx *f)
{
	if (!f->m_none)
		ck_assert_int_eq(pgc_mapping_create(C(f), NULL, NULL, 1u << 20, &f->m_none), 0);
	return f->m_none;
}

static pgc_page *PAGE(struct fx *f)
{
	if (!f->page)
		ck_assert_int_eq(pgc_page_alloc(C(f), PGC_NODE_ANY, 0, &f->page), 0);
	return f->page;
}

static pgc_page *MP(struct fx *f)
{
	if (!f->mp) {
		ck_assert_int_eq(pgc_mapping_find_or_create(M(f), 0, 0, &f->mp), 0);
		ck_assert_int_eq(pgc_page_set_flag(f->mp, PGC_PG_UPTODATE), 0);
		ck_assert_int_eq(pgc_page_unlock(f->mp), 0);
	}
	return f->mp;
}

static pgc_io *IO(struct fx *f)
{
	if (!f->io)
		ck_assert_int_eq(pgc_io_create(M(f), 0, &f->io), 0);
	return f->io;
}

static pgc_io *IO2(struct fx *f)
{
	if (!f->io2)
		ck_assert_int_eq(pgc_io_create(M(f), 0, &f->io2), 0);
	return f->io2;
}

static pgc_clpage *CLP(struct fx *f)
{
	if (!f->clp)
		ck_assert_int_eq(pgc_clpage_find(M(f), 1, 0, &f->clp), 0);
	return f->clp;
}

static unsigned char *BUF(struct fx *f)
{
	if (!f->buf)
		ck_assert_int_eq(posix_memalign((void **)&f->buf, 65536, 4 * 65536), 0);
	return f->buf;
}

#define TMP_TEMPLATE "/var/tmp/pgc-badinput-XXXXXX"

/* An unlinked temporary file; returns a plain descriptor. */
static int tmp_file(void)
{
	char path[] = TMP_TEMPLATE;
	int fd = mkostemp(path, O_CLOEXEC);
	ck_assert_msg(fd >= 0, "mkostemp: %s", strerror(errno));
	unlink(path);
	return fd;
}

/* A store on a new temporary file opened with `flags`, or fails. */
static pgc_store *store_open(int flags)
{
	char path[] = TMP_TEMPLATE;
	int fd = mkostemp(path, O_CLOEXEC);
	pgc_store *s = NULL;
	ck_assert_msg(fd >= 0, "mkostemp: %s", strerror(errno));
	close(fd);
	int err = pgc_store_open(path, flags, 0600, &s);
	unlink(path);
	ck_assert_msg(err == 0, "pgc_store_open(%s) = %d (%s)", path, err, pgc_strerror(err));
	return s;
}

static pgc_store *STORE(struct fx *f)
{
	if (!f->store)
		f->store = store_open(O_RDWR);
	return f->store;
}

static void fx_fini(struct fx *f)
{
	if (f->clp)
		pgc_clpage_put(f->clp);
	if (f->io) {
		ck_assert_int_eq(pgc_io_commit(f->io), 0);
		ck_assert_int_eq(pgc_io_destroy(f->io), 0);
	}
	if (f->io2)
		ck_assert_int_eq(pgc_io_destroy(f->io2), 0);
	if (f->mp)
		pgc_page_put(f->mp);
	if (f->page)
		pgc_page_put(f->page);
	pgc_mapping *maps[] = { f->m, f->m_none };
	for (size_t i = 0; i < 2; i++) {
		if (!maps[i])
			continue;
		/* Invalidate first: truncate of a page with a handle crashes
		 * (/tmp/pgc-clpage-bugs.md item 1), invalidate detaches it. */
		ck_assert_int_ge(pgc_mapping_invalidate(maps[i], 0, UINT64_MAX), 0);
		ck_assert_int_eq(pgc_mapping_truncate(maps[i], 0), 0);
		ck_assert_int_eq(pgc_mapping_destroy(maps[i]), 0);
	}
	if (f->store)
		ck_assert_int_eq(pgc_store_close(f->store), 0);
	if (f->cache)
		ck_assert_int_eq(pgc_cache_destroy(f->cache), 0);
	free(f->buf);
}

/* ---- helpers for row bodies ---------------------------------------------- */

/* A non-NULL value that out-pointers start with, to check that errors reset them. */
#define JUNK ((void *)&junk_target)
static char junk_target;

/* r, unless r is an error and the out pointer was not reset to NULL. */
static long out_null(long r, const void *out)
{
	return r < 0 && out != NULL ? R_OUT_NOT_NULL : r;
}

/* r if the status is the one documented, else a marker of the status. */
static long with_status(long r, int status, int want)
{
	return status == want ? r : R_STATUS_BASE + 4096 + status;
}

/* r, unless an operation of the fixture's mapping ran during the call. */
static long no_op_called(struct fx *f, long r, int calls_before)
{
	return f->op_calls != calls_before ? R_CALLED_OP : r;
}

static void lock(pgc_page *p)
{
	ck_assert_int_eq(pgc_page_lock(p), 0);
}

static void unlock(pgc_page *p)
{
	ck_assert_int_eq(pgc_page_unlock(p), 0);
}

/* Makes MP dirty (locked while doing so). */
static void dirty_mp(struct fx *f)
{
	lock(MP(f));
	ck_assert_int_ge(pgc_page_set_dirty(f->mp), 0);
	unlock(f->mp);
}

/* A second cache of 4 pages; the caller destroys it. */
static pgc_cache *other_cache(void)
{
	return pgc_test_cache(4, 0);
}

static pgc_page *new_page_fn(pgc_page *page, void *arg)
{
	pgc_page *p = NULL;
	(void)arg;
	return pgc_page_alloc(pgc_page_cache(page), PGC_NODE_ANY, 0, &p) == 0 ? p : NULL;
}

static int visit_nothing(pgc_page *page, void *arg)
{
	(void)page;
	(void)arg;
	return 0;
}

static int write_run_ok(pgc_mapping *m, pgc_page **pages, unsigned nr, void *arg)
{
	(void)m;
	(void)pages;
	(void)nr;
	(void)arg;
	return 0;
}

static void write_batch_ok(pgc_mapping *m, pgc_page **pages, const unsigned *run_nr, int *errors,
			   unsigned nr_runs, void *arg)
{
	(void)m;
	(void)pages;
	(void)run_nr;
	(void)errors;
	(void)nr_runs;
	(void)arg;
}

/* ======================================================================== */
/* common.h                                                                  */
/* ======================================================================== */

ROW("pgc_strerror", "unknown code 12345", 1)
{
	return pgc_strerror(-12345) != NULL;
}
ROW("pgc_strerror", "INT_MIN (its negation overflows)", 1)
{
	return pgc_strerror(INT_MIN) != NULL;
}
ROW("pgc_strerror", "INT_MAX (positive: taken as its negation)", 1)
{
	return pgc_strerror(INT_MAX) != NULL;
}
ROW("pgc_errname", "unknown code 12345: \"EUNKNOWN\"", 0)
{
	return strcmp(pgc_errname(-12345), "EUNKNOWN");
}
ROW("pgc_errname", "INT_MIN (its negation overflows): \"EUNKNOWN\"", 0)
{
	return strcmp(pgc_errname(INT_MIN), "EUNKNOWN");
}
ROW("pgc_errname", "INT_MAX: \"EUNKNOWN\"", 0)
{
	return strcmp(pgc_errname(INT_MAX), "EUNKNOWN");
}

/* ======================================================================== */
/* cache.h                                                                   */
/* ======================================================================== */

ROW("pgc_cache_config_init", "cfg NULL: nothing happens", 0)
{
	pgc_cache_config_init(NULL);
	return 0;
}

/* Runs pgc_cache_create on cfg, checks *cachep is NULL on error. */
static long create(struct pgc_cache_config *cfg)
{
	pgc_cache *c = JUNK;
	long r = pgc_cache_create(cfg, &c);
	if (r == 0)
		pgc_cache_destroy(c);
	return out_null(r, c);
}

static struct pgc_cache_config small_cfg(void)
{
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 4;
	return cfg;
}

ROW("pgc_cache_create", "cfg NULL", -EINVAL)
{
	return create(NULL);
}
ROW("pgc_cache_create", "cachep NULL", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	return pgc_cache_create(&cfg, NULL);
}
ROW("pgc_cache_create", "cfg->size 0", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.size = 0;
	return create(&cfg);
}
ROW("pgc_cache_create", "cfg->size 4 (smaller than the first version)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.size = 4;
	return create(&cfg);
}
ROW("pgc_cache_create", "page size 3000 (not a power of two)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.page_size = 3000;
	return create(&cfg);
}
ROW("pgc_cache_create", "page size 512 (below the OS page)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.page_size = 512;
	return create(&cfg);
}
ROW("pgc_cache_create", "page size 2^31 (huge)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.page_size = 1u << 31;
	return create(&cfg);
}
ROW("pgc_cache_create", "page size UINT32_MAX", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.page_size = UINT32_MAX;
	return create(&cfg);
}
ROW("pgc_cache_create", "capacity 0 pages and 0 bytes", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = 0;
	return create(&cfg);
}
ROW("pgc_cache_create", "capacity_bytes below one page (0 pages)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = 100;
	return create(&cfg);
}
ROW("pgc_cache_create", "capacity UINT64_MAX pages (too large)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.capacity_pages = UINT64_MAX;
	return create(&cfg);
}
ROW("pgc_cache_create", "capacity_bytes UINT64_MAX (too large)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = UINT64_MAX;
	return create(&cfg);
}
ROW("pgc_cache_create", "a node listed twice", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	int nodes[2] = { pgc_test_first_node(C(f)), pgc_test_first_node(C(f)) };
	cfg.nodes = nodes;
	cfg.nr_nodes = 2;
	return create(&cfg);
}
ROW("pgc_cache_create", "nr_nodes PGC_MAX_NODES + 1", -EINVAL)
{
	static int nodes[PGC_MAX_NODES + 1];
	struct pgc_cache_config cfg = small_cfg();
	for (int i = 0; i <= PGC_MAX_NODES; i++)
		nodes[i] = i;
	cfg.nodes = nodes;
	cfg.nr_nodes = PGC_MAX_NODES + 1;
	return create(&cfg);
}
ROW("pgc_cache_create", "nr_nodes UINT32_MAX", -EINVAL)
{
	int nodes[1] = { 0 };
	struct pgc_cache_config cfg = small_cfg();
	cfg.nodes = nodes;
	cfg.nr_nodes = UINT32_MAX;
	return create(&cfg);
}
ROW("pgc_cache_create", "node 1000 (does not exist)", -ENODEV)
{
	int nodes[1] = { 1000 };
	struct pgc_cache_config cfg = small_cfg();
	cfg.nodes = nodes;
	cfg.nr_nodes = 1;
	return create(&cfg);
}
ROW("pgc_cache_create", "node INT_MAX (does not exist)", -ENODEV)
{
	int nodes[1] = { INT_MAX };
	struct pgc_cache_config cfg = small_cfg();
	cfg.nodes = nodes;
	cfg.nr_nodes = 1;
	return create(&cfg);
}
ROW("pgc_cache_create", "node -5 (does not exist)", -ENODEV)
{
	int nodes[1] = { -5 };
	struct pgc_cache_config cfg = small_cfg();
	cfg.nodes = nodes;
	cfg.nr_nodes = 1;
	return create(&cfg);
}
ROW("pgc_cache_create", "node INT_MIN (does not exist)", -ENODEV)
{
	int nodes[1] = { INT_MIN };
	struct pgc_cache_config cfg = small_cfg();
	cfg.nodes = nodes;
	cfg.nr_nodes = 1;
	return create(&cfg);
}

ROW_UNDOC("pgc_cache_create", "nodes set, nr_nodes 0 (not documented)", -EINVAL)
{
	int nodes[1] = { 0 };
	struct pgc_cache_config cfg = small_cfg();
	cfg.nodes = nodes;
	cfg.nr_nodes = 0;
	return create(&cfg);
}
ROW_UNDOC("pgc_cache_create", "nodes NULL, nr_nodes 3 (not documented)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.nr_nodes = 3;
	return create(&cfg);
}
ROW_UNDOC("pgc_cache_create", "node_pages NULL, nr_node_pages 2 (not documented)", -EINVAL)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.nr_node_pages = 2;
	return create(&cfg);
}
ROW_UNDOC("pgc_cache_create", "nr_node_pages != nr_nodes (not documented)", -EINVAL)
{
	int nodes[1] = { pgc_test_first_node(C(f)) };
	uint64_t limits[2] = { 2, 2 };
	struct pgc_cache_config cfg = small_cfg();
	cfg.nodes = nodes;
	cfg.nr_nodes = 1;
	cfg.node_pages = limits;
	cfg.nr_node_pages = 2;
	return create(&cfg);
}
ROW("pgc_cache_create", "log_level 1000 (valid: 0)", 0)
{
	struct pgc_cache_config cfg = small_cfg();
	cfg.log_level = 1000;
	return create(&cfg);
}

ROW("pgc_cache_destroy", "cache NULL: returns 0", 0)
{
	return pgc_cache_destroy(NULL);
}
ROW("pgc_cache_destroy", "a mapping still exists", -EBUSY)
{
	M(f);
	return pgc_cache_destroy(C(f));
}

ROW("pgc_cache_page_size", "cache NULL: 0", 0)
{
	return (long)pgc_cache_page_size(NULL);
}

ROW("pgc_cache_stats", "cache NULL", -EINVAL)
{
	struct pgc_stats st = { .size = sizeof st };
	return pgc_cache_stats(NULL, &st);
}
ROW("pgc_cache_stats", "st NULL", -EINVAL)
{
	return pgc_cache_stats(C(f), NULL);
}
ROW("pgc_cache_stats", "st->size 0", -EINVAL)
{
	struct pgc_stats st = { .size = 0 };
	return pgc_cache_stats(C(f), &st);
}
ROW("pgc_cache_stats", "st->size 4 (smaller than the first version)", -EINVAL)
{
	struct pgc_stats st = { .size = 4 };
	return pgc_cache_stats(C(f), &st);
}

static long node_stats(pgc_cache *c, int node, uint32_t size)
{
	struct pgc_node_stats st = { .size = size };
	return pgc_cache_node_stats(c, node, &st);
}
ROW("pgc_cache_node_stats", "cache NULL", -EINVAL)
{
	return node_stats(NULL, 0, sizeof(struct pgc_node_stats));
}
ROW("pgc_cache_node_stats", "st NULL", -EINVAL)
{
	return pgc_cache_node_stats(C(f), f->node, NULL);
}
ROW("pgc_cache_node_stats", "st->size 0", -EINVAL)
{
	return node_stats(C(f), f->node, 0);
}
ROW("pgc_cache_node_stats", "node 1023 (not used by the cache)", -ENOENT)
{
	return node_stats(C(f), 1023, sizeof(struct pgc_node_stats));
}
ROW("pgc_cache_node_stats", "node -1", -ENOENT)
{
	return node_stats(C(f), -1, sizeof(struct pgc_node_stats));
}
ROW("pgc_cache_node_stats", "node INT_MAX", -ENOENT)
{
	return node_stats(C(f), INT_MAX, sizeof(struct pgc_node_stats));
}
ROW("pgc_cache_node_stats", "node INT_MIN", -ENOENT)
{
	return node_stats(C(f), INT_MIN, sizeof(struct pgc_node_stats));
}

ROW("pgc_cache_nodes", "cache NULL", -EINVAL)
{
	int nodes[4];
	return pgc_cache_nodes(NULL, nodes, 4);
}
ROW("pgc_cache_nodes", "nodes NULL with max 4", -EINVAL)
{
	return pgc_cache_nodes(C(f), NULL, 4);
}
ROW("pgc_cache_nodes", "nodes NULL with max 0: the count (>= 1), 1 when compared", 1)
{
	return pgc_cache_nodes(C(f), NULL, 0) >= 1;
}

ROW("pgc_cache_reserve", "cache NULL", -EINVAL)
{
	return pgc_cache_reserve(NULL, 0, 1);
}
ROW("pgc_cache_reserve", "node -1", -ENODEV)
{
	return pgc_cache_reserve(C(f), -1, 1);
}
ROW("pgc_cache_reserve", "node 1023 (no such node)", -ENODEV)
{
	return pgc_cache_reserve(C(f), 1023, 1);
}
ROW("pgc_cache_reserve", "frames 0: nothing to do", 0)
{
	return pgc_cache_reserve(C(f), f->node, 0);
}
ROW("pgc_cache_reserve", "frames UINT64_MAX: beyond the capacity", -ENOSPC)
{
	return pgc_cache_reserve(C(f), f->node, UINT64_MAX);
}

ROW("pgc_cache_reclaim", "cache NULL", -EINVAL)
{
	return pgc_cache_reclaim(NULL, 1);
}
ROW("pgc_cache_reclaim", "nr ULONG_MAX on an empty cache: 0 freed", 0)
{
	return pgc_cache_reclaim(C(f), ULONG_MAX);
}
ROW("pgc_cache_reclaim", "nr 0: 0 freed", 0)
{
	MP(f);
	return pgc_cache_reclaim(C(f), 0);
}

ROW("pgc_cache_start_writeback", "cache NULL", -EINVAL)
{
	return pgc_cache_start_writeback(NULL);
}
ROW("pgc_cache_start_writeback", "twice: 0, one thread", 0)
{
	long r = pgc_cache_start_writeback(C(f));
	return r ? r : pgc_cache_start_writeback(C(f));
}
ROW("pgc_cache_stop_writeback", "cache NULL", -EINVAL)
{
	return pgc_cache_stop_writeback(NULL);
}
ROW("pgc_cache_stop_writeback", "no thread running: 0", 0)
{
	return pgc_cache_stop_writeback(C(f));
}
ROW("pgc_mapping_balance_dirty", "mapping NULL", -EINVAL)
{
	return pgc_mapping_balance_dirty(NULL);
}
ROW("pgc_mapping_balance_dirty", "nothing dirty: 0", 0)
{
	return pgc_mapping_balance_dirty(M(f));
}
ROW("pgc_mapping_set_name", "mapping NULL", -EINVAL)
{
	return pgc_mapping_set_name(NULL, "x");
}
ROW("pgc_mapping_set_name", "name NULL", -EINVAL)
{
	return pgc_mapping_set_name(M(f), NULL);
}
ROW("pgc_mapping_set_name", "a name longer than PGC_MAPPING_NAME_MAX is cut: 1 when compared", 1)
{
	char name[3 * PGC_MAPPING_NAME_MAX];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	if (pgc_mapping_set_name(M(f), name))
		return -1;
	return strlen(pgc_mapping_name(M(f))) == PGC_MAPPING_NAME_MAX - 1;
}
ROW("pgc_mapping_name", "mapping NULL: NULL, 1 when compared", 1)
{
	return pgc_mapping_name(NULL) == NULL;
}
ROW("pgc_mapping_name", "no name yet: \"\", 1 when compared", 1)
{
	return strcmp(pgc_mapping_name(M(f)), "") == 0;
}
ROW("pgc_mapping_stats", "mapping NULL", -EINVAL)
{
	struct pgc_mapping_stats st = {.size = sizeof(st)};
	return pgc_mapping_stats(NULL, &st);
}
ROW("pgc_mapping_stats", "st NULL", -EINVAL)
{
	return pgc_mapping_stats(M(f), NULL);
}
ROW("pgc_mapping_stats", "st->size 0", -EINVAL)
{
	struct pgc_mapping_stats st = {.size = 0};
	return pgc_mapping_stats(M(f), &st);
}
ROW("pgc_mapping_stats", "st->size one below the first released size", -EINVAL)
{
	struct pgc_mapping_stats st = {.size = PGC_MAPPING_STATS_SIZE_0_2 - 1};
	return pgc_mapping_stats(M(f), &st);
}

ROW("pgc_cache_check", "cache NULL", -EINVAL)
{
	char why[64];
	return pgc_cache_check(NULL, why, sizeof why);
}
ROW("pgc_cache_check", "why NULL, why_len 100 (valid: 0)", 0)
{
	MP(f);
	return pgc_cache_check(C(f), NULL, 100);
}
ROW_UNDOC("pgc_cache_check", "why_len 0: why not written (not documented)", 0)
{
	char why[4] = "abc";
	long r = pgc_cache_check(C(f), why, 0);
	return r == 0 && strcmp(why, "abc") != 0 ? R_CALLED_OP : r;
}
ROW("pgc_cache_check", "why_len 1: an empty string", 0)
{
	char why[4] = "abc";
	long r = pgc_cache_check(C(f), why, 1);
	return r == 0 && why[0] != 0 ? R_CALLED_OP : r;
}

/* ======================================================================== */
/* page.h                                                                    */
/* ======================================================================== */

static long alloc(pgc_cache *c, int node, unsigned flags)
{
	pgc_page *p = JUNK;
	long r = pgc_page_alloc(c, node, flags, &p);
	if (r == 0)
		pgc_page_put(p);
	return out_null(r, p);
}
ROW("pgc_page_alloc", "cache NULL", -EINVAL)
{
	return alloc(NULL, PGC_NODE_ANY, 0);
}
ROW("pgc_page_alloc", "pagep NULL", -EINVAL)
{
	return pgc_page_alloc(C(f), PGC_NODE_ANY, 0, NULL);
}
ROW("pgc_page_alloc", "flags 0x80 (unknown)", -EINVAL)
{
	return alloc(C(f), PGC_NODE_ANY, 0x80);
}
ROW("pgc_page_alloc", "flags ~0u (unknown bits)", -EINVAL)
{
	return alloc(C(f), PGC_NODE_ANY, ~0u);
}
ROW("pgc_page_alloc", "node 1023 (not a node of the cache)", -ENOENT)
{
	return alloc(C(f), 1023, 0);
}
ROW("pgc_page_alloc", "node 1023 with STRICT", -ENOENT)
{
	return alloc(C(f), 1023, PGC_ALLOC_STRICT);
}
ROW("pgc_page_alloc", "node -2 (neither a node nor PGC_NODE_ANY)", -ENOENT)
{
	return alloc(C(f), -2, 0);
}
ROW("pgc_page_alloc", "node INT_MAX", -ENOENT)
{
	return alloc(C(f), INT_MAX, 0);
}
ROW("pgc_page_alloc", "node INT_MIN", -ENOENT)
{
	return alloc(C(f), INT_MIN, 0);
}
ROW("pgc_page_alloc", "capacity reached, nothing reclaimable (all pages held)", -ENOMEM)
{
	pgc_cache *c = other_cache();
	pgc_page *p[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pgc_page_alloc(c, PGC_NODE_ANY, 0, &p[i]), 0);
	long r = alloc(c, PGC_NODE_ANY, 0);
	for (int i = 0; i < 4; i++)
		pgc_page_put(p[i]);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
	return r;
}

ROW("pgc_page_get", "page NULL", -EINVAL)
{
	return pgc_page_get(NULL);
}
ROW("pgc_page_get", "count 0 (frozen page)", -EINVAL)
{
	ck_assert_int_eq(pgc_page_ref_freeze(PAGE(f), 1), 0);
	long r = pgc_page_get(f->page);
	ck_assert_int_eq(pgc_page_ref_unfreeze(f->page, 1), 0);
	return r;
}
ROW("pgc_page_get_unless_zero", "page NULL", -EINVAL)
{
	return pgc_page_get_unless_zero(NULL);
}
ROW("pgc_page_get_unless_zero", "count 0 (frozen page)", -EAGAIN)
{
	ck_assert_int_eq(pgc_page_ref_freeze(PAGE(f), 1), 0);
	long r = pgc_page_get_unless_zero(f->page);
	ck_assert_int_eq(pgc_page_ref_unfreeze(f->page, 1), 0);
	return r;
}
ROW("pgc_page_put", "page NULL: nothing happens", 0)
{
	pgc_page_put(NULL);
	return 0;
}
ROW("pgc_page_refcount", "page NULL", -EINVAL)
{
	return pgc_page_refcount(NULL);
}
ROW("pgc_page_ref_freeze", "page NULL", -EINVAL)
{
	return pgc_page_ref_freeze(NULL, 1);
}
ROW("pgc_page_ref_freeze", "expected 0", -EINVAL)
{
	return pgc_page_ref_freeze(PAGE(f), 0);
}
ROW("pgc_page_ref_freeze", "expected -1", -EINVAL)
{
	return pgc_page_ref_freeze(PAGE(f), -1);
}
ROW("pgc_page_ref_freeze", "expected INT_MIN", -EINVAL)
{
	return pgc_page_ref_freeze(PAGE(f), INT_MIN);
}
ROW("pgc_page_ref_freeze", "expected INT_MAX (not the count)", -EBUSY)
{
	return pgc_page_ref_freeze(PAGE(f), INT_MAX);
}
ROW("pgc_page_ref_freeze", "already frozen", -EBUSY)
{
	ck_assert_int_eq(pgc_page_ref_freeze(PAGE(f), 1), 0);
	long r = pgc_page_ref_freeze(f->page, 1);
	ck_assert_int_eq(pgc_page_ref_unfreeze(f->page, 1), 0);
	return r;
}
ROW("pgc_page_ref_unfreeze", "page NULL", -EINVAL)
{
	return pgc_page_ref_unfreeze(NULL, 1);
}
ROW("pgc_page_ref_unfreeze", "page not frozen", -EINVAL)
{
	long r = pgc_page_ref_unfreeze(PAGE(f), 1);
	ck_assert_int_eq(pgc_page_refcount(f->page), 1);
	return r;
}
ROW("pgc_page_ref_unfreeze", "count 0", -EINVAL)
{
	ck_assert_int_eq(pgc_page_ref_freeze(PAGE(f), 1), 0);
	long r = pgc_page_ref_unfreeze(f->page, 0);
	ck_assert_int_eq(pgc_page_ref_unfreeze(f->page, 1), 0);
	return r;
}
ROW("pgc_page_ref_unfreeze", "count INT_MIN", -EINVAL)
{
	ck_assert_int_eq(pgc_page_ref_freeze(PAGE(f), 1), 0);
	long r = pgc_page_ref_unfreeze(f->page, INT_MIN);
	ck_assert_int_eq(pgc_page_ref_unfreeze(f->page, 1), 0);
	return r;
}
ROW("pgc_page_lock", "page NULL", -EINVAL)
{
	return pgc_page_lock(NULL);
}
ROW("pgc_page_trylock", "page NULL", -EINVAL)
{
	return pgc_page_trylock(NULL);
}
ROW("pgc_page_trylock", "page already locked", -EBUSY)
{
	lock(PAGE(f));
	long r = pgc_page_trylock(f->page);
	unlock(f->page);
	return r;
}
ROW("pgc_page_unlock", "page NULL", -EINVAL)
{
	return pgc_page_unlock(NULL);
}
ROW("pgc_page_unlock", "page not locked", -EINVAL)
{
	return pgc_page_unlock(PAGE(f));
}
ROW("pgc_page_unlock", "page unlocked twice", -EINVAL)
{
	lock(PAGE(f));
	unlock(f->page);
	return pgc_page_unlock(f->page);
}
ROW("pgc_page_wait_unlocked", "page NULL", -EINVAL)
{
	return pgc_page_wait_unlocked(NULL);
}
ROW("pgc_page_wait_writeback", "page NULL", -EINVAL)
{
	return pgc_page_wait_writeback(NULL);
}
ROW("pgc_page_flags", "page NULL: 0", 0)
{
	return pgc_page_flags(NULL);
}
ROW("pgc_page_test_flag", "page NULL", -EINVAL)
{
	return pgc_page_test_flag(NULL, PGC_PG_UPTODATE);
}
ROW("pgc_page_test_flag", "flag PGC_PG_NR_FLAGS", -EINVAL)
{
	return pgc_page_test_flag(PAGE(f), PGC_PG_NR_FLAGS);
}
ROW("pgc_page_test_flag", "flag 31", -EINVAL)
{
	return pgc_page_test_flag(PAGE(f), (enum pgc_page_flag)31);
}
ROW("pgc_page_test_flag", "flag -1", -EINVAL)
{
	return pgc_page_test_flag(PAGE(f), (enum pgc_page_flag)-1);
}
ROW("pgc_page_test_flag", "flag INT_MAX", -EINVAL)
{
	return pgc_page_test_flag(PAGE(f), (enum pgc_page_flag)INT_MAX);
}

ROW("pgc_page_set_flag", "page NULL", -EINVAL)
{
	return pgc_page_set_flag(NULL, PGC_PG_UPTODATE);
}
ROW("pgc_page_clear_flag", "page NULL", -EINVAL)
{
	return pgc_page_clear_flag(NULL, PGC_PG_UPTODATE);
}
/* Every flag that is not simple, for set and clear. */
static long set_flag(struct fx *f, int flag, int set)
{
	uint32_t before = pgc_page_flags(MP(f));
	long r = set ? pgc_page_set_flag(f->mp, (enum pgc_page_flag)flag)
		     : pgc_page_clear_flag(f->mp, (enum pgc_page_flag)flag);
	/* Refused means nothing changed. */
	if (r < 0 && pgc_page_flags(f->mp) != before)
		return R_CALLED_OP;
	return r;
}
#define NOT_SIMPLE(flag)                                                         \
	ROW("pgc_page_set_flag", "flag " #flag " (not simple)", -EINVAL)         \
	{                                                                        \
		return set_flag(f, flag, 1);                                     \
	}                                                                        \
	ROW("pgc_page_clear_flag", "flag " #flag " (not simple)", -EINVAL)       \
	{                                                                        \
		return set_flag(f, flag, 0);                                     \
	}
NOT_SIMPLE(PGC_PG_LOCKED)
NOT_SIMPLE(PGC_PG_DIRTY)
NOT_SIMPLE(PGC_PG_WRITEBACK)
NOT_SIMPLE(PGC_PG_ACTIVE)
NOT_SIMPLE(PGC_PG_PRIVATE)
NOT_SIMPLE(PGC_PG_UNEVICTABLE)
NOT_SIMPLE(PGC_PG_LRU)
NOT_SIMPLE(PGC_PG_NR_FLAGS)
NOT_SIMPLE(-1)
NOT_SIMPLE(1000)

ROW("pgc_page_set_dirty", "page NULL", -EINVAL)
{
	return pgc_page_set_dirty(NULL);
}
ROW("pgc_page_clear_dirty_for_io", "page NULL", -EINVAL)
{
	return pgc_page_clear_dirty_for_io(NULL);
}
ROW("pgc_page_clear_dirty_for_io", "page not locked", -EINVAL)
{
	dirty_mp(f);
	long r = pgc_page_clear_dirty_for_io(f->mp);
	if (!pgc_page_test_flag(f->mp, PGC_PG_DIRTY))
		r = R_CALLED_OP;
	return r;
}
ROW("pgc_page_start_writeback", "page NULL", -EINVAL)
{
	return pgc_page_start_writeback(NULL);
}
ROW("pgc_page_start_writeback", "page not locked", -EINVAL)
{
	long r = pgc_page_start_writeback(MP(f));
	if (r == 0)
		pgc_page_end_writeback(f->mp);
	return r;
}
ROW("pgc_page_start_writeback", "page already under writeback", -EBUSY)
{
	lock(MP(f));
	ck_assert_int_eq(pgc_page_start_writeback(f->mp), 0);
	long r = pgc_page_start_writeback(f->mp);
	ck_assert_int_eq(pgc_page_end_writeback(f->mp), 0);
	unlock(f->mp);
	return r;
}
ROW("pgc_page_end_writeback", "page NULL", -EINVAL)
{
	return pgc_page_end_writeback(NULL);
}
ROW("pgc_page_end_writeback", "page not under writeback", -EINVAL)
{
	return pgc_page_end_writeback(MP(f));
}
ROW("pgc_page_set_private", "page NULL", -EINVAL)
{
	return pgc_page_set_private(NULL, 1);
}
ROW("pgc_page_set_private", "page not locked", -EINVAL)
{
	long r = pgc_page_set_private(PAGE(f), 1);
	if (pgc_page_test_flag(f->page, PGC_PG_PRIVATE) == 1)
		r = R_CALLED_OP;
	return r;
}
ROW("pgc_page_set_private", "a value already attached", -EEXIST)
{
	lock(PAGE(f));
	ck_assert_int_eq(pgc_page_set_private(f->page, 1), 0);
	long r = pgc_page_set_private(f->page, 2);
	uintptr_t v = 0;
	ck_assert_int_eq(pgc_page_clear_private(f->page, &v), 0);
	unlock(f->page);
	return v == 1 ? r : R_CALLED_OP;
}
ROW("pgc_page_clear_private", "page NULL", -EINVAL)
{
	uintptr_t v;
	return pgc_page_clear_private(NULL, &v);
}
ROW("pgc_page_clear_private", "page not locked", -EINVAL)
{
	uintptr_t v;
	lock(PAGE(f));
	ck_assert_int_eq(pgc_page_set_private(f->page, 1), 0);
	unlock(f->page);
	long r = pgc_page_clear_private(f->page, &v);
	lock(f->page);
	pgc_page_clear_private(f->page, NULL);
	unlock(f->page);
	return r;
}
ROW("pgc_page_clear_private", "no value attached", -ENOENT)
{
	uintptr_t v;
	lock(PAGE(f));
	long r = pgc_page_clear_private(f->page, &v);
	unlock(f->page);
	return r;
}
ROW_UNDOC("pgc_page_private", "page NULL: 0 (NULL not documented)", 0)
{
	return (long)pgc_page_private(NULL);
}
ROW("pgc_page_set_unevictable", "page NULL", -EINVAL)
{
	return pgc_page_set_unevictable(NULL, 1);
}
ROW_UNDOC("pgc_page_mark_accessed", "page NULL: nothing happens (NULL not documented)", 0)
{
	pgc_page_mark_accessed(NULL);
	return 0;
}
ROW("pgc_page_data", "page NULL: NULL", 0)
{
	return pgc_page_data(NULL) != NULL;
}
ROW("pgc_page_index", "page NULL: 0", 0)
{
	return (long)pgc_page_index(NULL);
}
ROW("pgc_page_mapping", "page NULL: NULL", 0)
{
	return pgc_page_mapping(NULL) != NULL;
}
ROW("pgc_page_node", "page NULL", -EINVAL)
{
	return pgc_page_node(NULL);
}
ROW("pgc_page_cache", "page NULL: NULL", 0)
{
	return pgc_page_cache(NULL) != NULL;
}

/* ======================================================================== */
/* mapping.h                                                                 */
/* ======================================================================== */

ROW("pgc_mapping_check", "mapping NULL", -EINVAL)
{
	char why[64];
	return pgc_mapping_check(NULL, why, sizeof why);
}
ROW("pgc_mapping_check", "why NULL, why_len 100 (valid: 0)", 0)
{
	MP(f);
	return pgc_mapping_check(f->m, NULL, 100);
}
ROW("pgc_mapping_check", "why_len 0: why not written (not documented)", 0)
{
	char why[4] = "abc";
	long r = pgc_mapping_check(M(f), why, 0);
	return r == 0 && strcmp(why, "abc") != 0 ? R_CALLED_OP : r;
}

static long mcreate(pgc_cache *c, const struct pgc_mapping_ops *ops, uint64_t size)
{
	pgc_mapping *m = JUNK;
	long r = pgc_mapping_create(c, ops, NULL, size, &m);
	if (r == 0)
		ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	return out_null(r, m);
}
ROW("pgc_mapping_create", "cache NULL", -EINVAL)
{
	return mcreate(NULL, NULL, 0);
}
ROW("pgc_mapping_create", "mappingp NULL", -EINVAL)
{
	return pgc_mapping_create(C(f), NULL, NULL, 0, NULL);
}
ROW("pgc_mapping_create", "ops->size 0", -EINVAL)
{
	struct pgc_mapping_ops ops = { .size = 0 };
	return mcreate(C(f), &ops, 0);
}
ROW("pgc_mapping_create", "ops->size larger than known, extra bytes nonzero", -E2BIG)
{
	struct {
		struct pgc_mapping_ops ops;
		uint64_t extra;
	} big = { .ops = { .size = sizeof big }, .extra = 0x1234 };
	return mcreate(C(f), &big.ops, 0);
}
ROW("pgc_mapping_create", "size UINT64_MAX (valid: 0)", 0)
{
	return mcreate(C(f), NULL, UINT64_MAX);
}

ROW("pgc_mapping_destroy", "mapping NULL: returns 0", 0)
{
	return pgc_mapping_destroy(NULL);
}
ROW("pgc_mapping_destroy", "dirty pages remain", -EBUSY)
{
	dirty_mp(f);
	long r = pgc_mapping_destroy(f->m);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_destroy", "a page under writeback remains", -EBUSY)
{
	lock(MP(f));
	ck_assert_int_eq(pgc_page_start_writeback(f->mp), 0);
	long r = pgc_mapping_destroy(f->m);
	ck_assert_int_eq(pgc_page_end_writeback(f->mp), 0);
	unlock(f->mp);
	return r;
}
ROW("pgc_mapping_owner", "mapping NULL: NULL", 0)
{
	return pgc_mapping_owner(NULL) != NULL;
}
ROW("pgc_mapping_cache", "mapping NULL: NULL", 0)
{
	return pgc_mapping_cache(NULL) != NULL;
}
ROW("pgc_mapping_size", "mapping NULL: 0", 0)
{
	return (long)pgc_mapping_size(NULL);
}
ROW("pgc_mapping_set_size", "mapping NULL", -EINVAL)
{
	return pgc_mapping_set_size(NULL, 0);
}
ROW("pgc_mapping_set_size", "size UINT64_MAX (valid: 0)", 0)
{
	long r = pgc_mapping_set_size(M(f), UINT64_MAX);
	return r == 0 && pgc_mapping_size(f->m) != UINT64_MAX ? R_CALLED_OP : r;
}
ROW("pgc_mapping_nr_pages", "mapping NULL: 0", 0)
{
	return (long)pgc_mapping_nr_pages(NULL);
}
ROW("pgc_mapping_nr_dirty", "mapping NULL: 0", 0)
{
	return (long)pgc_mapping_nr_dirty(NULL);
}

static long find(pgc_mapping *m, uint64_t index, int lock_it)
{
	pgc_page *p = JUNK;
	long r = lock_it ? pgc_mapping_find_lock(m, index, &p) : pgc_mapping_find(m, index, &p);
	if (r == 0) {
		if (lock_it)
			pgc_page_unlock(p);
		pgc_page_put(p);
	}
	return out_null(r, p);
}
ROW("pgc_mapping_find", "mapping NULL", -EINVAL)
{
	return find(NULL, 0, 0);
}
ROW("pgc_mapping_find", "pagep NULL", -EINVAL)
{
	return pgc_mapping_find(M(f), 0, NULL);
}
ROW("pgc_mapping_find", "index UINT64_MAX (absent)", -ENOENT)
{
	MP(f);
	return find(f->m, UINT64_MAX, 0);
}
ROW("pgc_mapping_find_lock", "mapping NULL", -EINVAL)
{
	return find(NULL, 0, 1);
}
ROW("pgc_mapping_find_lock", "pagep NULL", -EINVAL)
{
	return pgc_mapping_find_lock(M(f), 0, NULL);
}
ROW("pgc_mapping_find_lock", "index UINT64_MAX (absent)", -ENOENT)
{
	MP(f);
	return find(f->m, UINT64_MAX, 1);
}

static long foc(pgc_mapping *m, uint64_t index, unsigned flags)
{
	pgc_page *p = JUNK;
	long r = pgc_mapping_find_or_create(m, index, flags, &p);
	if (r == 0) {
		pgc_page_unlock(p);
		pgc_page_put(p);
	}
	return out_null(r, p);
}
ROW("pgc_mapping_find_or_create", "mapping NULL", -EINVAL)
{
	return foc(NULL, 0, 0);
}
ROW("pgc_mapping_find_or_create", "pagep NULL", -EINVAL)
{
	return pgc_mapping_find_or_create(M(f), 5, 0, NULL);
}
ROW("pgc_mapping_find_or_create", "flags 0x100 (unknown)", -EINVAL)
{
	return foc(M(f), 5, 0x100);
}
ROW("pgc_mapping_find_or_create", "flags PGC_ALLOC_STRICT (an alloc flag, not a find flag)",
    -EINVAL)
{
	return foc(M(f), 5, PGC_ALLOC_STRICT);
}
ROW("pgc_mapping_find_or_create", "flags ~0u", -EINVAL)
{
	return foc(M(f), 5, ~0u);
}
ROW("pgc_mapping_find_or_create", "NOWAIT on a page locked by another holder", -EAGAIN)
{
	lock(MP(f));
	long r = foc(f->m, 0, PGC_FIND_NOWAIT);
	unlock(f->mp);
	return r;
}
ROW("pgc_mapping_find_or_create", "index UINT64_MAX (valid: 0)", 0)
{
	return foc(M(f), UINT64_MAX, 0);
}

ROW("pgc_mapping_insert", "mapping NULL", -EINVAL)
{
	return pgc_mapping_insert(NULL, PAGE(f), 3);
}
ROW("pgc_mapping_insert", "page NULL", -EINVAL)
{
	return pgc_mapping_insert(M(f), NULL, 3);
}
ROW("pgc_mapping_insert", "page of another cache", -EINVAL)
{
	pgc_cache *c2 = other_cache();
	pgc_page *q;
	ck_assert_int_eq(pgc_page_alloc(c2, PGC_NODE_ANY, 0, &q), 0);
	long r = pgc_mapping_insert(M(f), q, 3);
	if (r == 0)
		r = R_CALLED_OP; /* cannot clean up a cross-cache insert */
	pgc_page_put(q);
	ck_assert_int_eq(pgc_cache_destroy(c2), 0);
	return r;
}
ROW("pgc_mapping_insert", "page already in a mapping (another index)", -EINVAL)
{
	return pgc_mapping_insert(M(f), MP(f), 3);
}
ROW("pgc_mapping_insert", "page already in a mapping (another mapping)", -EINVAL)
{
	return pgc_mapping_insert(MNONE(f), MP(f), 3);
}
ROW("pgc_mapping_insert", "index already taken", -EEXIST)
{
	MP(f);
	return pgc_mapping_insert(f->m, PAGE(f), 0);
}
ROW("pgc_mapping_insert", "page under writeback", -EBUSY)
{
	lock(PAGE(f));
	ck_assert_int_eq(pgc_page_start_writeback(f->page), 0);
	long r = pgc_mapping_insert(M(f), f->page, 3);
	ck_assert_int_eq(pgc_page_end_writeback(f->page), 0);
	unlock(f->page);
	return r;
}

ROW("pgc_mapping_delete", "page NULL", -EINVAL)
{
	return pgc_mapping_delete(NULL);
}
ROW("pgc_mapping_delete", "page not locked", -EINVAL)
{
	long r = pgc_mapping_delete(MP(f));
	return r == 0 || pgc_page_mapping(f->mp) != f->m ? R_CALLED_OP : r;
}
ROW("pgc_mapping_delete", "page in no mapping", -EINVAL)
{
	lock(PAGE(f));
	long r = pgc_mapping_delete(f->page);
	unlock(f->page);
	return r;
}
ROW("pgc_mapping_delete", "page under writeback", -EBUSY)
{
	lock(MP(f));
	ck_assert_int_eq(pgc_page_start_writeback(f->mp), 0);
	long r = pgc_mapping_delete(f->mp);
	ck_assert_int_eq(pgc_page_end_writeback(f->mp), 0);
	unlock(f->mp);
	return r;
}

ROW("pgc_mapping_truncate", "mapping NULL", -EINVAL)
{
	return pgc_mapping_truncate(NULL, 0);
}
ROW("pgc_mapping_truncate", "size UINT64_MAX (valid: 0)", 0)
{
	MP(f);
	long r = pgc_mapping_truncate(f->m, UINT64_MAX);
	return r == 0 && pgc_mapping_nr_pages(f->m) != 1 ? R_CALLED_OP : r;
}

ROW("pgc_mapping_invalidate", "mapping NULL", -EINVAL)
{
	return pgc_mapping_invalidate(NULL, 0, 1);
}
ROW("pgc_mapping_invalidate", "start > end", -EINVAL)
{
	return pgc_mapping_invalidate(M(f), 5, 4);
}
ROW("pgc_mapping_invalidate", "start UINT64_MAX > end 0", -EINVAL)
{
	return pgc_mapping_invalidate(M(f), UINT64_MAX, 0);
}
ROW("pgc_mapping_invalidate", "whole range of an empty mapping: 0 dropped", 0)
{
	return pgc_mapping_invalidate(M(f), 0, UINT64_MAX);
}

ROW("pgc_mapping_for_each_dirty", "mapping NULL", -EINVAL)
{
	return pgc_mapping_for_each_dirty(NULL, 0, 10, visit_nothing, NULL);
}
ROW("pgc_mapping_for_each_dirty", "fn NULL", -EINVAL)
{
	dirty_mp(f);
	long r = pgc_mapping_for_each_dirty(f->m, 0, 10, NULL, NULL);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_for_each_dirty", "start > end", -EINVAL)
{
	return pgc_mapping_for_each_dirty(M(f), 10, 0, visit_nothing, NULL);
}

ROW("pgc_mapping_find_range", "mapping NULL", -EINVAL)
{
	pgc_page *v[4];
	return pgc_mapping_find_range(NULL, 0, 10, PGC_TAG_ANY, v, 4);
}
ROW("pgc_mapping_find_range", "pages NULL", -EINVAL)
{
	return pgc_mapping_find_range(M(f), 0, 10, PGC_TAG_ANY, NULL, 4);
}
ROW("pgc_mapping_find_range", "start > end", -EINVAL)
{
	pgc_page *v[4];
	return pgc_mapping_find_range(M(f), 10, 0, PGC_TAG_DIRTY, v, 4);
}
ROW("pgc_mapping_find_range", "tag below PGC_TAG_ANY", -EINVAL)
{
	pgc_page *v[4];
	return pgc_mapping_find_range(M(f), 0, 10, -2, v, 4);
}
ROW("pgc_mapping_find_range", "tag past PGC_TAG_TOWRITE", -EINVAL)
{
	pgc_page *v[4];
	return pgc_mapping_find_range(M(f), 0, 10, PGC_TAG_TOWRITE + 1, v, 4);
}
ROW("pgc_mapping_find_range", "nr 0 (valid: 0 pages)", 0)
{
	pgc_page *v[1];
	dirty_mp(f);
	long r = pgc_mapping_find_range(f->m, 0, UINT64_MAX, PGC_TAG_DIRTY, v, 0);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}

ROW("pgc_mapping_account_dirty", "page NULL", -EINVAL)
{
	return pgc_mapping_account_dirty(NULL);
}

static long read_page(pgc_mapping *m, uint64_t index)
{
	pgc_page *p = JUNK;
	long r = pgc_mapping_read_page(m, index, &p);
	if (r == 0)
		pgc_page_put(p);
	return out_null(r, p);
}
ROW("pgc_mapping_read_page", "mapping NULL", -EINVAL)
{
	return read_page(NULL, 0);
}
ROW("pgc_mapping_read_page", "pagep NULL", -EINVAL)
{
	int calls = (M(f), f->op_calls);
	return no_op_called(f, pgc_mapping_read_page(f->m, 7, NULL), calls);
}

ROW("pgc_mapping_writeback", "mapping NULL", -EINVAL)
{
	return pgc_mapping_writeback(NULL, 0, UINT64_MAX, PGC_WB_ALL);
}
ROW("pgc_mapping_writeback", "sync_mode 2 (unknown)", -EINVAL)
{
	dirty_mp(f);
	int calls = f->op_calls;
	long r = no_op_called(f, pgc_mapping_writeback(f->m, 0, UINT64_MAX, 2), calls);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_writeback", "sync_mode -1 (unknown)", -EINVAL)
{
	dirty_mp(f);
	int calls = f->op_calls;
	long r = no_op_called(f, pgc_mapping_writeback(f->m, 0, UINT64_MAX, -1), calls);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_writeback", "start > end", -EINVAL)
{
	dirty_mp(f);
	int calls = f->op_calls;
	long r = no_op_called(f, pgc_mapping_writeback(f->m, 10, 0, PGC_WB_ALL), calls);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_writeback", "dirty pages and no writepage", -EROFS)
{
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find_or_create(MNONE(f), 0, 0, &p), 0);
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_ge(pgc_page_set_dirty(p), 0);
	unlock(p);
	pgc_page_put(p);
	return pgc_mapping_writeback(f->m_none, 0, UINT64_MAX, PGC_WB_ALL);
}

ROW("pgc_mapping_write_page", "page NULL", -EINVAL)
{
	return pgc_mapping_write_page(NULL, NULL);
}
ROW("pgc_mapping_write_page", "page not locked", -EINVAL)
{
	dirty_mp(f);
	int calls = f->op_calls;
	long r = no_op_called(f, pgc_mapping_write_page(f->mp, NULL), calls);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_write_page", "page in no mapping", -EINVAL)
{
	lock(PAGE(f));
	long r = pgc_mapping_write_page(f->page, NULL);
	unlock(f->page);
	return r;
}
ROW("pgc_mapping_write_page", "mapping without writepage", -EROFS)
{
	pgc_page *p;
	ck_assert_int_eq(pgc_mapping_find_or_create(MNONE(f), 0, 0, &p), 0);
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_ge(pgc_page_set_dirty(p), 0);
	long r = pgc_mapping_write_page(p, NULL);
	/* The page stays dirty: truncate it away for the teardown. */
	unlock(p);
	pgc_page_put(p);
	return r;
}

static struct pgc_writeback_control wbc_all(void)
{
	struct pgc_writeback_control wbc = {
		.size = sizeof wbc,
		.sync_mode = PGC_WB_ALL,
		.range_start = 0,
		.range_end = UINT64_MAX,
		.nr_to_write = LONG_MAX,
	};
	return wbc;
}
ROW("pgc_mapping_writeback_runs", "mapping NULL", -EINVAL)
{
	struct pgc_writeback_control wbc = wbc_all();
	return pgc_mapping_writeback_runs(NULL, &wbc, write_run_ok, NULL, 0);
}
ROW("pgc_mapping_writeback_runs", "wbc NULL", -EINVAL)
{
	return pgc_mapping_writeback_runs(M(f), NULL, write_run_ok, NULL, 0);
}
ROW("pgc_mapping_writeback_runs", "fn NULL", -EINVAL)
{
	struct pgc_writeback_control wbc = wbc_all();
	dirty_mp(f);
	long r = pgc_mapping_writeback_runs(f->m, &wbc, NULL, NULL, 0);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_writeback_runs", "max_run UINT_MAX (valid: 0)", 0)
{
	struct pgc_writeback_control wbc = wbc_all();
	dirty_mp(f);
	return pgc_mapping_writeback_runs(f->m, &wbc, write_run_ok, NULL, UINT_MAX);
}

/* pgc_mapping_writeback_batch() on M with MP dirty, then M cleaned; the
 * writepage of a refused call must not run. */
static long wb_batch(struct fx *f, struct pgc_writeback_control *wbc, pgc_write_batch_fn fn,
		     unsigned max_run, unsigned max_runs)
{
	dirty_mp(f);
	int calls = f->op_calls;
	long r = no_op_called(
		f, pgc_mapping_writeback_batch(f->m, wbc, fn, NULL, max_run, max_runs), calls);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_mapping_writeback_batch", "mapping NULL", -EINVAL)
{
	struct pgc_writeback_control wbc = wbc_all();
	(void)f;
	return pgc_mapping_writeback_batch(NULL, &wbc, write_batch_ok, NULL, 0, 0);
}
ROW("pgc_mapping_writeback_batch", "wbc NULL", -EINVAL)
{
	return wb_batch(f, NULL, write_batch_ok, 0, 0);
}
ROW("pgc_mapping_writeback_batch", "fn NULL", -EINVAL)
{
	struct pgc_writeback_control wbc = wbc_all();
	return wb_batch(f, &wbc, NULL, 0, 0);
}
ROW("pgc_mapping_writeback_batch", "wbc->size 0", -EINVAL)
{
	struct pgc_writeback_control wbc = wbc_all();
	wbc.size = 0;
	return wb_batch(f, &wbc, write_batch_ok, 0, 0);
}
ROW("pgc_mapping_writeback_batch", "wbc->size below PGC_WRITEBACK_CONTROL_SIZE_0_1", -EINVAL)
{
	struct pgc_writeback_control wbc = wbc_all();
	wbc.size = PGC_WRITEBACK_CONTROL_SIZE_0_1 - 1;
	return wb_batch(f, &wbc, write_batch_ok, 0, 0);
}
ROW("pgc_mapping_writeback_batch", "wbc->size 8192 (above 4096)", -E2BIG)
{
	struct pgc_writeback_control wbc = wbc_all();
	wbc.size = 8192;
	return wb_batch(f, &wbc, write_batch_ok, 0, 0);
}
ROW("pgc_mapping_writeback_batch", "wbc larger than known, extra bytes nonzero", -E2BIG)
{
	struct {
		struct pgc_writeback_control wbc;
		uint64_t extra;
	} big = { .wbc = wbc_all(), .extra = 0x1234 };
	big.wbc.size = sizeof big;
	return wb_batch(f, &big.wbc, write_batch_ok, 0, 0);
}
/* The header says "at most" for both limits without saying what a larger
 * value does (pgc_mapping_writeback_runs() says: the most). */
ROW("pgc_mapping_writeback_batch", "max_run UINT_MAX (means PGC_MAX_RUN)", 0)
{
	struct pgc_writeback_control wbc = wbc_all();
	dirty_mp(f);
	return pgc_mapping_writeback_batch(f->m, &wbc, write_batch_ok, NULL, UINT_MAX, 0);
}
ROW("pgc_mapping_writeback_batch", "max_runs UINT_MAX (means PGC_MAX_BATCH_RUNS)", 0)
{
	struct pgc_writeback_control wbc = wbc_all();
	dirty_mp(f);
	return pgc_mapping_writeback_batch(f->m, &wbc, write_batch_ok, NULL, 0, UINT_MAX);
}

static long set_dio(pgc_mapping *m, uint32_t block, uint32_t align, uint64_t seg)
{
	struct pgc_dio_limits l = {
		.size = sizeof l, .block_size = block, .mem_align = align, .max_segment = seg
	};
	return pgc_mapping_set_dio_limits(m, &l);
}
ROW("pgc_mapping_set_dio_limits", "mapping NULL", -EINVAL)
{
	return set_dio(NULL, 512, 512, 1 << 20);
}
ROW("pgc_mapping_set_dio_limits", "limits NULL", -EINVAL)
{
	return pgc_mapping_set_dio_limits(M(f), NULL);
}
ROW("pgc_mapping_set_dio_limits", "block_size 0", -EINVAL)
{
	return set_dio(M(f), 0, 512, 1 << 20);
}
ROW("pgc_mapping_set_dio_limits", "block_size 768 (not a power of two)", -EINVAL)
{
	return set_dio(M(f), 768, 512, 768 * 4);
}
ROW("pgc_mapping_set_dio_limits", "mem_align 0", -EINVAL)
{
	return set_dio(M(f), 512, 0, 1 << 20);
}
ROW("pgc_mapping_set_dio_limits", "mem_align 24 (not a power of two)", -EINVAL)
{
	return set_dio(M(f), 512, 24, 1 << 20);
}
ROW("pgc_mapping_set_dio_limits", "max_segment 0", -EINVAL)
{
	return set_dio(M(f), 512, 512, 0);
}
ROW("pgc_mapping_set_dio_limits", "max_segment not a multiple of block_size", -EINVAL)
{
	return set_dio(M(f), 512, 512, 1000);
}
ROW("pgc_mapping_set_dio_limits", "max_segment below block_size", -EINVAL)
{
	return set_dio(M(f), 4096, 512, 512);
}
ROW("pgc_mapping_dio_limits", "mapping NULL", -EINVAL)
{
	struct pgc_dio_limits l = { .size = sizeof l };
	return pgc_mapping_dio_limits(NULL, &l);
}
ROW("pgc_mapping_dio_limits", "limits NULL", -EINVAL)
{
	return pgc_mapping_dio_limits(M(f), NULL);
}
ROW("pgc_mapping_dio_limits", "limits->size 0", -EINVAL)
{
	struct pgc_dio_limits l = { .size = 0 };
	return pgc_mapping_dio_limits(M(f), &l);
}

ROW("pgc_mapping_sample_error", "mapping NULL: 0", 0)
{
	return pgc_mapping_sample_error(NULL);
}
ROW("pgc_mapping_check_error", "mapping NULL", -EINVAL)
{
	pgc_errseq_t s = 0;
	return pgc_mapping_check_error(NULL, &s);
}
ROW("pgc_mapping_check_error", "since NULL", -EINVAL)
{
	return pgc_mapping_check_error(M(f), NULL);
}
ROW("pgc_mapping_set_error", "mapping NULL", -EINVAL)
{
	return pgc_mapping_set_error(NULL, -EIO);
}
/* A refused set_error records nothing: a fresh sample sees no error. */
static long set_error(struct fx *f, int err)
{
	pgc_errseq_t s = pgc_mapping_sample_error(M(f));
	long r = pgc_mapping_set_error(f->m, err);
	if (r < 0 && pgc_mapping_check_error(f->m, &s) != 0)
		return R_CALLED_OP;
	return r;
}
ROW("pgc_mapping_set_error", "err 0", -EINVAL)
{
	return set_error(f, 0);
}
ROW("pgc_mapping_set_error", "err 5 (positive)", -EINVAL)
{
	return set_error(f, 5);
}
ROW("pgc_mapping_set_error", "err INT_MAX", -EINVAL)
{
	return set_error(f, INT_MAX);
}
ROW("pgc_mapping_set_error", "err INT_MIN (not an errno)", -EINVAL)
{
	return set_error(f, INT_MIN);
}
ROW("pgc_mapping_set_error", "err -100000 (not an errno)", -EINVAL)
{
	return set_error(f, -100000);
}

/* ======================================================================== */
/* clpage.h: I/O contexts                                                     */
/* ======================================================================== */

static long io_create(pgc_mapping *m, unsigned flags)
{
	pgc_io *io = JUNK;
	long r = pgc_io_create(m, flags, &io);
	if (r == 0)
		ck_assert_int_eq(pgc_io_destroy(io), 0);
	return out_null(r, io);
}
ROW("pgc_io_create", "mapping NULL", -EINVAL)
{
	return io_create(NULL, 0);
}
ROW("pgc_io_create", "iop NULL", -EINVAL)
{
	return pgc_io_create(M(f), 0, NULL);
}
ROW("pgc_io_create", "flags 2 (unknown)", -EINVAL)
{
	return io_create(M(f), 2);
}
ROW("pgc_io_create", "flags ~0u", -EINVAL)
{
	return io_create(M(f), ~0u);
}
ROW("pgc_io_destroy", "io NULL: returns 0", 0)
{
	return pgc_io_destroy(NULL);
}
ROW("pgc_io_destroy", "io still owns a page", -EBUSY)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = pgc_io_destroy(f->io);
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_io_result", "io NULL", -EINVAL)
{
	return pgc_io_result(NULL);
}
ROW("pgc_io_set_result", "io NULL", -EINVAL)
{
	return pgc_io_set_result(NULL, -EIO);
}
ROW("pgc_io_set_result", "err 5 (positive)", -EINVAL)
{
	long r = pgc_io_set_result(IO(f), 5);
	return pgc_io_result(f->io) != 0 ? R_CALLED_OP : r;
}
ROW("pgc_io_set_result", "err INT_MAX", -EINVAL)
{
	long r = pgc_io_set_result(IO(f), INT_MAX);
	return pgc_io_result(f->io) != 0 ? R_CALLED_OP : r;
}
ROW("pgc_io_bytes_written", "io NULL: 0", 0)
{
	return (long)pgc_io_bytes_written(NULL);
}
ROW("pgc_io_is_sync", "io NULL: 0", 0)
{
	return pgc_io_is_sync(NULL);
}

/* ======================================================================== */
/* clpage.h: handles                                                         */
/* ======================================================================== */

static long clfind(pgc_mapping *m, uint64_t index, unsigned flags)
{
	pgc_clpage *c = JUNK;
	long r = pgc_clpage_find(m, index, flags, &c);
	if (r == 0)
		pgc_clpage_put(c);
	return out_null(r, c);
}
ROW("pgc_clpage_find", "mapping NULL", -EINVAL)
{
	return clfind(NULL, 0, 0);
}
ROW("pgc_clpage_find", "clpp NULL", -EINVAL)
{
	return pgc_clpage_find(M(f), 2, 0, NULL);
}
ROW("pgc_clpage_find", "flags 4 (unknown)", -EINVAL)
{
	return clfind(M(f), 2, 4);
}
ROW("pgc_clpage_find", "flags ~0u", -EINVAL)
{
	return clfind(M(f), 2, ~0u);
}
ROW("pgc_clpage_find", "page whose private slot holds the owner's value", -EINVAL)
{
	lock(MP(f));
	ck_assert_int_eq(pgc_page_set_private(f->mp, 42), 0);
	unlock(f->mp);
	long r = clfind(f->m, 0, 0);
	uintptr_t v = 0;
	lock(f->mp);
	ck_assert_int_eq(pgc_page_clear_private(f->mp, &v), 0);
	unlock(f->mp);
	return v == 42 ? r : R_CALLED_OP;
}
ROW("pgc_clpage_find", "NOWAIT on a page locked by another holder", -EAGAIN)
{
	lock(MP(f));
	long r = clfind(f->m, 0, PGC_FIND_NOWAIT);
	unlock(f->mp);
	return r;
}

static long transient(void *data, size_t len)
{
	pgc_clpage *c = JUNK;
	long r = pgc_clpage_transient(data, len, 0, &c);
	if (r == 0)
		pgc_clpage_put(c);
	return out_null(r, c);
}
ROW("pgc_clpage_transient", "data NULL", -EINVAL)
{
	return transient(NULL, 4096);
}
ROW("pgc_clpage_transient", "len 0", -EINVAL)
{
	return transient(BUF(f), 0);
}
ROW("pgc_clpage_transient", "clpp NULL", -EINVAL)
{
	return pgc_clpage_transient(BUF(f), 4096, 0, NULL);
}

ROW("pgc_clpage_get", "handle NULL", -EINVAL)
{
	return pgc_clpage_get(NULL);
}
ROW("pgc_clpage_put", "handle NULL: nothing happens", 0)
{
	pgc_clpage_put(NULL);
	return 0;
}
ROW("pgc_clpage_state", "handle NULL", -EINVAL)
{
	return pgc_clpage_state(NULL);
}
ROW("pgc_clpage_type", "handle NULL", -EINVAL)
{
	return pgc_clpage_type(NULL);
}
ROW("pgc_clpage_index", "handle NULL: 0", 0)
{
	return (long)pgc_clpage_index(NULL);
}
ROW("pgc_clpage_vmpage", "handle NULL: NULL", 0)
{
	return pgc_clpage_vmpage(NULL) != NULL;
}
ROW("pgc_clpage_vmpage", "transient handle: NULL", 0)
{
	pgc_clpage *t;
	ck_assert_int_eq(pgc_clpage_transient(BUF(f), 4096, 0, &t), 0);
	long r = pgc_clpage_vmpage(t) != NULL;
	pgc_clpage_put(t);
	return r;
}
ROW("pgc_clpage_data", "handle NULL: NULL", 0)
{
	return pgc_clpage_data(NULL) != NULL;
}

/* A handle in state freeing (owned, then deleted), with our reference. */
static pgc_clpage *freeing(struct fx *f)
{
	pgc_clpage *c;
	ck_assert_int_eq(pgc_clpage_find(M(f), 3, 0, &c), 0);
	ck_assert_int_eq(pgc_clpage_own(IO(f), c), 0);
	ck_assert_int_eq(pgc_clpage_delete(f->io, c), 0);
	ck_assert_int_eq(pgc_clpage_state(c), PGC_CPS_FREEING);
	return c;
}
/* CLP owned by IO, in state pagein (not up to date: read transfer). */
static void pagein(struct fx *f)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	ck_assert_int_eq(pgc_clpage_prep(f->io, f->clp, PGC_CRT_READ), 0);
}
static void pagein_end(struct fx *f)
{
	ck_assert_int_eq(pgc_clpage_state(f->clp), PGC_CPS_PAGEIN);
	ck_assert_int_eq(pgc_clpage_completion(f->clp, PGC_CRT_READ, 0), 0);
}
/* CLP dirty, owned by IO, then in state pageout. */
static void pageout(struct fx *f)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	pgc_page *p = pgc_clpage_vmpage(f->clp);
	ck_assert_int_eq(pgc_page_set_flag(p, PGC_PG_UPTODATE), 0);
	ck_assert_int_ge(pgc_page_set_dirty(p), 0);
	ck_assert_int_eq(pgc_clpage_prep(f->io, f->clp, PGC_CRT_WRITE), 0);
}
static void pageout_end(struct fx *f)
{
	ck_assert_int_eq(pgc_clpage_state(f->clp), PGC_CPS_PAGEOUT);
	ck_assert_int_eq(pgc_clpage_completion(f->clp, PGC_CRT_WRITE, 0), 0);
}
/* The state must not have changed: else the refused call did something. */
static long same_state(pgc_clpage *c, int state, long r)
{
	return pgc_clpage_state(c) != state ? R_CALLED_OP : r;
}
static pgc_clpage *new_transient(struct fx *f)
{
	pgc_clpage *t;
	ck_assert_int_eq(pgc_clpage_transient(BUF(f), 4096, 9, &t), 0);
	return t;
}

ROW("pgc_clpage_own", "io NULL", -EINVAL)
{
	return pgc_clpage_own(NULL, CLP(f));
}
ROW("pgc_clpage_own", "handle NULL", -EINVAL)
{
	return pgc_clpage_own(IO(f), NULL);
}
ROW("pgc_clpage_own", "handle in state freeing", -ENOENT)
{
	pgc_clpage *c = freeing(f);
	long r = pgc_clpage_own(f->io, c);
	r = same_state(c, PGC_CPS_FREEING, r);
	pgc_clpage_put(c);
	return r;
}
ROW("pgc_clpage_own", "transient owned by another io: owned -> owned", -EINVAL)
{
	pgc_clpage *t = new_transient(f);
	ck_assert_int_eq(pgc_clpage_own(IO(f), t), 0);
	long r = pgc_clpage_own(IO2(f), t);
	if (!pgc_clpage_is_owned(t, f->io))
		r = R_CALLED_OP;
	ck_assert_int_eq(pgc_clpage_disown(f->io, t), 0);
	pgc_clpage_put(t);
	return r;
}
ROW("pgc_clpage_own_try", "io NULL", -EINVAL)
{
	return pgc_clpage_own_try(NULL, CLP(f));
}
ROW("pgc_clpage_own_try", "handle NULL", -EINVAL)
{
	return pgc_clpage_own_try(IO(f), NULL);
}
ROW("pgc_clpage_own_try", "handle owned by another io (page locked)", -EAGAIN)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = pgc_clpage_own_try(IO2(f), f->clp);
	if (!pgc_clpage_is_owned(f->clp, f->io))
		r = R_CALLED_OP;
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_own_try", "handle in state freeing", -ENOENT)
{
	pgc_clpage *c = freeing(f);
	long r = same_state(c, PGC_CPS_FREEING, pgc_clpage_own_try(f->io, c));
	pgc_clpage_put(c);
	return r;
}
ROW("pgc_clpage_assume", "io NULL", -EINVAL)
{
	return pgc_clpage_assume(NULL, CLP(f));
}
ROW("pgc_clpage_assume", "handle NULL", -EINVAL)
{
	return pgc_clpage_assume(IO(f), NULL);
}
ROW("pgc_clpage_assume", "page not locked", -EINVAL)
{
	long r = pgc_clpage_assume(IO(f), CLP(f));
	return same_state(f->clp, PGC_CPS_CACHED, r);
}
ROW("pgc_clpage_assume", "transient handle", -EINVAL)
{
	pgc_clpage *t = new_transient(f);
	long r = same_state(t, PGC_CPS_CACHED, pgc_clpage_assume(IO(f), t));
	pgc_clpage_put(t);
	return r;
}
ROW("pgc_clpage_assume", "handle in state freeing", -ENOENT)
{
	pgc_clpage *c = freeing(f);
	long r = same_state(c, PGC_CPS_FREEING, pgc_clpage_assume(f->io, c));
	pgc_clpage_put(c);
	return r;
}

ROW("pgc_clpage_disown", "io NULL", -EINVAL)
{
	return pgc_clpage_disown(NULL, CLP(f));
}
ROW("pgc_clpage_disown", "handle NULL", -EINVAL)
{
	return pgc_clpage_disown(IO(f), NULL);
}
ROW("pgc_clpage_disown", "cached handle (not owned): cached -> cached", -EINVAL)
{
	return same_state(CLP(f), PGC_CPS_CACHED, pgc_clpage_disown(IO(f), CLP(f)));
}
ROW("pgc_clpage_disown", "handle owned by another io", -EINVAL)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = pgc_clpage_disown(IO2(f), f->clp);
	if (!pgc_clpage_is_owned(f->clp, f->io))
		r = R_CALLED_OP;
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_disown", "handle in pagein: pagein -> cached without completion", -EINVAL)
{
	pagein(f);
	long r = same_state(f->clp, PGC_CPS_PAGEIN, pgc_clpage_disown(f->io, f->clp));
	pagein_end(f);
	return r;
}
ROW("pgc_clpage_disown", "handle in pageout", -EINVAL)
{
	pageout(f);
	long r = same_state(f->clp, PGC_CPS_PAGEOUT, pgc_clpage_disown(f->io, f->clp));
	pageout_end(f);
	return r;
}
ROW("pgc_clpage_disown", "handle in freeing: freeing -> cached", -EINVAL)
{
	pgc_clpage *c = freeing(f);
	long r = same_state(c, PGC_CPS_FREEING, pgc_clpage_disown(f->io, c));
	pgc_clpage_put(c);
	return r;
}

ROW("pgc_clpage_is_owned", "handle NULL: 0", 0)
{
	return pgc_clpage_is_owned(NULL, IO(f));
}
ROW("pgc_clpage_is_owned", "io NULL: 0", 0)
{
	return pgc_clpage_is_owned(CLP(f), NULL);
}
ROW("pgc_clpage_in_use", "handle NULL: 0", 0)
{
	return pgc_clpage_in_use(NULL);
}

ROW("pgc_clpage_delete", "io NULL", -EINVAL)
{
	return pgc_clpage_delete(NULL, CLP(f));
}
ROW("pgc_clpage_delete", "handle NULL", -EINVAL)
{
	return pgc_clpage_delete(IO(f), NULL);
}
ROW("pgc_clpage_delete", "cached handle (not owned)", -EINVAL)
{
	return same_state(CLP(f), PGC_CPS_CACHED, pgc_clpage_delete(IO(f), CLP(f)));
}
ROW("pgc_clpage_delete", "handle owned by another io", -EINVAL)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_delete(IO2(f), f->clp));
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_delete", "owned transient handle", -EINVAL)
{
	pgc_clpage *t = new_transient(f);
	ck_assert_int_eq(pgc_clpage_own(IO(f), t), 0);
	long r = same_state(t, PGC_CPS_OWNED, pgc_clpage_delete(f->io, t));
	ck_assert_int_eq(pgc_clpage_disown(f->io, t), 0);
	pgc_clpage_put(t);
	return r;
}
ROW("pgc_clpage_delete", "handle in pagein: pagein -> freeing", -EINVAL)
{
	pagein(f);
	long r = same_state(f->clp, PGC_CPS_PAGEIN, pgc_clpage_delete(f->io, f->clp));
	pagein_end(f);
	return r;
}
ROW("pgc_clpage_delete", "handle in freeing: deleted twice", -EINVAL)
{
	pgc_clpage *c = freeing(f);
	long r = same_state(c, PGC_CPS_FREEING, pgc_clpage_delete(f->io, c));
	pgc_clpage_put(c);
	return r;
}
ROW("pgc_clpage_delete", "owned page under writeback", -EBUSY)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	pgc_page *p = pgc_clpage_vmpage(f->clp);
	ck_assert_int_eq(pgc_page_start_writeback(p), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_delete(f->io, f->clp));
	ck_assert_int_eq(pgc_page_end_writeback(p), 0);
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}

ROW("pgc_clpage_discard", "io NULL", -EINVAL)
{
	return pgc_clpage_discard(NULL, CLP(f));
}
ROW("pgc_clpage_discard", "handle NULL", -EINVAL)
{
	return pgc_clpage_discard(IO(f), NULL);
}
ROW("pgc_clpage_discard", "cached handle (not owned)", -EINVAL)
{
	return pgc_clpage_discard(IO(f), CLP(f));
}
ROW("pgc_clpage_discard", "handle in pagein", -EINVAL)
{
	pagein(f);
	long r = pgc_clpage_discard(f->io, f->clp);
	pagein_end(f);
	return r;
}

ROW("pgc_clpage_clip", "handle NULL", -EINVAL)
{
	return pgc_clpage_clip(NULL, 0, 1);
}
/* A refused clip leaves the range as it was (the whole page). */
static long clip(struct fx *f, size_t from, size_t to)
{
	size_t a = 1, b = 1;
	long r = pgc_clpage_clip(CLP(f), from, to);
	ck_assert_int_eq(pgc_clpage_range(f->clp, &a, &b), 0);
	return r < 0 && (a != 0 || b != f->ps) ? R_CALLED_OP : r;
}
ROW("pgc_clpage_clip", "from == to (empty)", -EINVAL)
{
	return clip(f, 100, 100);
}
ROW("pgc_clpage_clip", "from > to", -EINVAL)
{
	return clip(f, 200, 100);
}
ROW("pgc_clpage_clip", "to = page size + 1", -EINVAL)
{
	return clip(f, 0, pgc_cache_page_size(C(f)) + 1);
}
ROW("pgc_clpage_clip", "to SIZE_MAX", -EINVAL)
{
	return clip(f, 0, SIZE_MAX);
}
ROW("pgc_clpage_clip", "from SIZE_MAX - 1, to SIZE_MAX", -EINVAL)
{
	return clip(f, SIZE_MAX - 1, SIZE_MAX);
}
ROW("pgc_clpage_range", "handle NULL", -EINVAL)
{
	size_t a, b;
	return pgc_clpage_range(NULL, &a, &b);
}
ROW("pgc_clpage_range", "from NULL", -EINVAL)
{
	size_t b;
	return pgc_clpage_range(CLP(f), NULL, &b);
}
ROW("pgc_clpage_range", "to NULL", -EINVAL)
{
	size_t a;
	return pgc_clpage_range(CLP(f), &a, NULL);
}

/* A refused touch leaves the mapping's size alone. */
static long touch(struct fx *f, pgc_io *io, pgc_clpage *c, size_t to)
{
	uint64_t size = pgc_mapping_size(M(f));
	long r = pgc_clpage_touch(io, c, to);
	return r < 0 && pgc_mapping_size(f->m) != size ? R_CALLED_OP : r;
}
ROW("pgc_clpage_touch", "io NULL", -EINVAL)
{
	return touch(f, NULL, CLP(f), 1);
}
ROW("pgc_clpage_touch", "handle NULL", -EINVAL)
{
	return touch(f, IO(f), NULL, 1);
}
ROW("pgc_clpage_touch", "transient handle", -EINVAL)
{
	pgc_clpage *t = new_transient(f);
	ck_assert_int_eq(pgc_clpage_own(IO(f), t), 0);
	long r = touch(f, f->io, t, 1);
	ck_assert_int_eq(pgc_clpage_disown(f->io, t), 0);
	pgc_clpage_put(t);
	return r;
}
ROW("pgc_clpage_touch", "to = page size + 1 (beyond the page)", -EINVAL)
{
	ck_assert_int_eq(pgc_mapping_set_size(M(f), 0), 0);
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = touch(f, f->io, f->clp, f->ps + 1);
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_touch", "to SIZE_MAX", -EINVAL)
{
	ck_assert_int_eq(pgc_mapping_set_size(M(f), 0), 0);
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = touch(f, f->io, f->clp, SIZE_MAX);
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}

ROW("pgc_clpage_prep", "io NULL", -EINVAL)
{
	return pgc_clpage_prep(NULL, CLP(f), PGC_CRT_READ);
}
ROW("pgc_clpage_prep", "handle NULL", -EINVAL)
{
	return pgc_clpage_prep(IO(f), NULL, PGC_CRT_READ);
}
ROW("pgc_clpage_prep", "cached handle (not owned): cached -> pagein", -EINVAL)
{
	return same_state(CLP(f), PGC_CPS_CACHED, pgc_clpage_prep(IO(f), CLP(f), PGC_CRT_READ));
}
ROW("pgc_clpage_prep", "handle owned by another io", -EINVAL)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_prep(IO2(f), f->clp, PGC_CRT_READ));
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_prep", "crt 2 (unknown)", -EINVAL)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_prep(f->io, f->clp, 2));
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_prep", "crt -1 (unknown)", -EINVAL)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_prep(f->io, f->clp, -1));
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_prep", "read of an up-to-date page (nothing to transfer)", -EALREADY)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	ck_assert_int_eq(pgc_page_set_flag(pgc_clpage_vmpage(f->clp), PGC_PG_UPTODATE), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_prep(f->io, f->clp, PGC_CRT_READ));
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_prep", "write of a clean page (nothing to transfer)", -EALREADY)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_prep(f->io, f->clp, PGC_CRT_WRITE));
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_prep", "handle in pagein, write: pagein -> pageout", -EINVAL)
{
	pagein(f);
	long r = same_state(f->clp, PGC_CPS_PAGEIN, pgc_clpage_prep(f->io, f->clp, PGC_CRT_WRITE));
	pagein_end(f);
	return r;
}
ROW("pgc_clpage_prep", "handle in pagein, read again: pagein -> pagein", -EINVAL)
{
	pagein(f);
	long r = same_state(f->clp, PGC_CPS_PAGEIN, pgc_clpage_prep(f->io, f->clp, PGC_CRT_READ));
	pagein_end(f);
	return r;
}
ROW("pgc_clpage_prep", "handle in pageout, read: pageout -> pagein", -EINVAL)
{
	pageout(f);
	long r = same_state(f->clp, PGC_CPS_PAGEOUT, pgc_clpage_prep(f->io, f->clp, PGC_CRT_READ));
	pageout_end(f);
	return r;
}
ROW("pgc_clpage_prep", "handle in freeing", -EINVAL)
{
	pgc_clpage *c = freeing(f);
	long r = same_state(c, PGC_CPS_FREEING, pgc_clpage_prep(f->io, c, PGC_CRT_READ));
	pgc_clpage_put(c);
	return r;
}

ROW("pgc_clpage_completion", "handle NULL", -EINVAL)
{
	return pgc_clpage_completion(NULL, PGC_CRT_READ, 0);
}
ROW("pgc_clpage_completion", "cached handle, read: cached -> cached", -EINVAL)
{
	return same_state(CLP(f), PGC_CPS_CACHED, pgc_clpage_completion(CLP(f), PGC_CRT_READ, 0));
}
ROW("pgc_clpage_completion", "cached handle, write", -EINVAL)
{
	return same_state(CLP(f), PGC_CPS_CACHED, pgc_clpage_completion(CLP(f), PGC_CRT_WRITE, 0));
}
ROW("pgc_clpage_completion", "owned handle: owned -> cached without transfer", -EINVAL)
{
	ck_assert_int_eq(pgc_clpage_own(IO(f), CLP(f)), 0);
	long r = same_state(f->clp, PGC_CPS_OWNED, pgc_clpage_completion(f->clp, PGC_CRT_READ, 0));
	ck_assert_int_eq(pgc_clpage_disown(f->io, f->clp), 0);
	return r;
}
ROW("pgc_clpage_completion", "pagein completed as a write", -EINVAL)
{
	pagein(f);
	long r = same_state(f->clp, PGC_CPS_PAGEIN, pgc_clpage_completion(f->clp, PGC_CRT_WRITE, 0));
	pagein_end(f);
	return r;
}
ROW("pgc_clpage_completion", "pageout completed as a read", -EINVAL)
{
	pageout(f);
	long r = same_state(f->clp, PGC_CPS_PAGEOUT, pgc_clpage_completion(f->clp, PGC_CRT_READ, 0));
	pageout_end(f);
	return r;
}
ROW("pgc_clpage_completion", "crt 5 (unknown) on pagein", -EINVAL)
{
	pagein(f);
	long r = same_state(f->clp, PGC_CPS_PAGEIN, pgc_clpage_completion(f->clp, 5, 0));
	pagein_end(f);
	return r;
}
ROW("pgc_clpage_completion", "handle in freeing", -EINVAL)
{
	pgc_clpage *c = freeing(f);
	long r = same_state(c, PGC_CPS_FREEING, pgc_clpage_completion(c, PGC_CRT_READ, 0));
	pgc_clpage_put(c);
	return r;
}
ROW("pgc_clpage_completion", "completed twice", -EINVAL)
{
	pagein(f);
	pagein_end(f);
	return same_state(f->clp, PGC_CPS_CACHED, pgc_clpage_completion(f->clp, PGC_CRT_READ, 0));
}

/* ---- lists ---- */

ROW_UNDOC("pgc_clpage_list_init", "list NULL: nothing happens (NULL not documented)", 0)
{
	pgc_clpage_list_init(NULL);
	return 0;
}
ROW("pgc_clpage_list_add", "list NULL", -EINVAL)
{
	return pgc_clpage_list_add(NULL, CLP(f));
}
ROW("pgc_clpage_list_add", "handle NULL", -EINVAL)
{
	struct pgc_clpage_list l;
	pgc_clpage_list_init(&l);
	return pgc_clpage_list_add(&l, NULL);
}
ROW("pgc_clpage_list_add", "handle already on a list", -EINVAL)
{
	struct pgc_clpage_list a, b;
	pgc_clpage_list_init(&a);
	pgc_clpage_list_init(&b);
	ck_assert_int_eq(pgc_clpage_list_add(&a, CLP(f)), 0);
	long r = pgc_clpage_list_add(&b, f->clp);
	if (b.nr != 0 || a.nr != 1)
		r = R_CALLED_OP;
	pgc_clpage_list_fini(NULL, &a);
	return r;
}
ROW("pgc_clpage_list_add", "handle already on this list", -EINVAL)
{
	struct pgc_clpage_list a;
	pgc_clpage_list_init(&a);
	ck_assert_int_eq(pgc_clpage_list_add(&a, CLP(f)), 0);
	long r = pgc_clpage_list_add(&a, f->clp);
	if (a.nr != 1)
		r = R_CALLED_OP;
	pgc_clpage_list_fini(NULL, &a);
	return r;
}
ROW("pgc_clpage_list_del", "list NULL", -EINVAL)
{
	return pgc_clpage_list_del(NULL, CLP(f));
}
ROW("pgc_clpage_list_del", "handle NULL", -EINVAL)
{
	struct pgc_clpage_list l;
	pgc_clpage_list_init(&l);
	return pgc_clpage_list_del(&l, NULL);
}
ROW("pgc_clpage_list_del", "handle on no list", -EINVAL)
{
	struct pgc_clpage_list l;
	pgc_clpage_list_init(&l);
	return pgc_clpage_list_del(&l, CLP(f));
}
ROW("pgc_clpage_list_del", "handle on another list", -EINVAL)
{
	struct pgc_clpage_list a, b;
	pgc_clpage_list_init(&a);
	pgc_clpage_list_init(&b);
	ck_assert_int_eq(pgc_clpage_list_add(&a, CLP(f)), 0);
	long r = pgc_clpage_list_del(&b, f->clp);
	if (a.nr != 1)
		r = R_CALLED_OP;
	pgc_clpage_list_fini(NULL, &a);
	return r;
}
ROW("pgc_clpage_list_move", "dst NULL", -EINVAL)
{
	struct pgc_clpage_list a;
	pgc_clpage_list_init(&a);
	ck_assert_int_eq(pgc_clpage_list_add(&a, CLP(f)), 0);
	long r = pgc_clpage_list_move(NULL, &a, f->clp);
	pgc_clpage_list_fini(NULL, &a);
	return r;
}
ROW("pgc_clpage_list_move", "src NULL", -EINVAL)
{
	struct pgc_clpage_list a;
	pgc_clpage_list_init(&a);
	return pgc_clpage_list_move(&a, NULL, CLP(f));
}
ROW("pgc_clpage_list_move", "handle NULL", -EINVAL)
{
	struct pgc_clpage_list a, b;
	pgc_clpage_list_init(&a);
	pgc_clpage_list_init(&b);
	return pgc_clpage_list_move(&a, &b, NULL);
}
ROW("pgc_clpage_list_move", "handle not on src", -EINVAL)
{
	struct pgc_clpage_list a, b, c;
	pgc_clpage_list_init(&a);
	pgc_clpage_list_init(&b);
	pgc_clpage_list_init(&c);
	ck_assert_int_eq(pgc_clpage_list_add(&a, CLP(f)), 0);
	long r = pgc_clpage_list_move(&c, &b, f->clp);
	if (a.nr != 1 || c.nr != 0)
		r = R_CALLED_OP;
	pgc_clpage_list_fini(NULL, &a);
	return r;
}
ROW_UNDOC("pgc_clpage_list_splice", "dst NULL: nothing happens (NULL not documented)", 0)
{
	struct pgc_clpage_list a;
	pgc_clpage_list_init(&a);
	ck_assert_int_eq(pgc_clpage_list_add(&a, CLP(f)), 0);
	pgc_clpage_list_splice(NULL, &a);
	long r = a.nr == 1 ? 0 : R_CALLED_OP;
	pgc_clpage_list_fini(NULL, &a);
	return r;
}
ROW_UNDOC("pgc_clpage_list_splice", "src NULL: nothing happens (NULL not documented)", 0)
{
	struct pgc_clpage_list a;
	pgc_clpage_list_init(&a);
	pgc_clpage_list_splice(&a, NULL);
	return a.nr;
}
ROW_UNDOC("pgc_clpage_list_splice", "dst == src: nothing happens (not documented)", 1)
{
	struct pgc_clpage_list a;
	pgc_clpage_list_init(&a);
	ck_assert_int_eq(pgc_clpage_list_add(&a, CLP(f)), 0);
	pgc_clpage_list_splice(&a, &a);
	long r = a.nr;
	pgc_clpage_list_fini(NULL, &a);
	return r;
}
ROW("pgc_clpage_list_next", "handle NULL: NULL", 0)
{
	return pgc_clpage_list_next(NULL) != NULL;
}
ROW_UNDOC("pgc_clpage_list_fini", "list NULL: nothing happens (NULL not documented)", 0)
{
	pgc_clpage_list_fini(IO(f), NULL);
	return 0;
}
ROW_UNDOC("pgc_2queue_init", "queue NULL: nothing happens (NULL not documented)", 0)
{
	pgc_2queue_init(NULL);
	return 0;
}
ROW_UNDOC("pgc_2queue_fini", "queue NULL: nothing happens (NULL not documented)", 0)
{
	pgc_2queue_fini(IO(f), NULL);
	return 0;
}

/* ======================================================================== */
/* io.h                                                                      */
/* ======================================================================== */

ROW("pgc_read", "mapping NULL", -EINVAL)
{
	return pgc_read(NULL, BUF(f), 10, 0);
}
ROW("pgc_read", "buf NULL", -EINVAL)
{
	return pgc_read(M(f), NULL, 10, 0);
}
ROW("pgc_read", "len 0: 0 bytes", 0)
{
	return pgc_read(M(f), BUF(f), 0, 0);
}
ROW("pgc_read", "offset UINT64_MAX (past the size): 0 bytes", 0)
{
	return pgc_read(M(f), BUF(f), 10, UINT64_MAX);
}
ROW("pgc_read", "len SIZE_MAX on an empty mapping: 0 bytes", 0)
{
	ck_assert_int_eq(pgc_mapping_set_size(MNONE(f), 0), 0);
	return pgc_read(f->m_none, BUF(f), SIZE_MAX, 0);
}
ROW("pgc_read", "len SIZE_MAX, size 100: 100 bytes (clamped at the size)", 100)
{
	ck_assert_int_eq(pgc_mapping_set_size(MNONE(f), 100), 0);
	return pgc_read(f->m_none, BUF(f), SIZE_MAX, 0);
}
ROW("pgc_read_flags", "mapping NULL", -EINVAL)
{
	return pgc_read_flags(NULL, BUF(f), 10, 0, PGC_READ_NOWAIT);
}
ROW("pgc_read_flags", "buf NULL", -EINVAL)
{
	return pgc_read_flags(M(f), NULL, 10, 0, PGC_READ_NOWAIT);
}
ROW("pgc_read_flags", "unknown flags 0x2", -EINVAL)
{
	return pgc_read_flags(M(f), BUF(f), 10, 0, 0x2);
}
ROW("pgc_read_flags", "flags ~0u", -EINVAL)
{
	return pgc_read_flags(M(f), BUF(f), 10, 0, ~0u);
}
ROW("pgc_read_flags", "NOWAIT, offset UINT64_MAX (past the size): 0 bytes", 0)
{
	return pgc_read_flags(M(f), BUF(f), 10, UINT64_MAX, PGC_READ_NOWAIT);
}
ROW("pgc_read", "offset + len wraps around 2^64", 0)
{
	return pgc_read(M(f), BUF(f), 4096, UINT64_MAX - 10);
}

ROW("pgc_read", "size UINT64_MAX, 4096 bytes at UINT64_MAX - 10: 10 bytes (up to the size)", 10)
{
	ck_assert_int_eq(pgc_mapping_set_size(MNONE(f), UINT64_MAX), 0);
	long r = pgc_read(f->m_none, BUF(f), 4096, UINT64_MAX - 10);
	pgc_mapping_set_size(f->m_none, 0);
	return r;
}

ROW("pgc_write", "mapping NULL", -EINVAL)
{
	return pgc_write(NULL, BUF(f), 10, 0, 0);
}
ROW("pgc_write", "buf NULL", -EINVAL)
{
	long r = pgc_write(M(f), NULL, 10, 0, 0);
	return r < 0 && pgc_mapping_nr_pages(f->m) != 0 ? R_CALLED_OP : r;
}
ROW("pgc_write", "flags 2 (unknown)", -EINVAL)
{
	long r = pgc_write(M(f), BUF(f), 10, 0, 2);
	return r < 0 && pgc_mapping_nr_pages(f->m) != 0 ? R_CALLED_OP : r;
}
ROW("pgc_write", "flags ~0u", -EINVAL)
{
	long r = pgc_write(M(f), BUF(f), 10, 0, ~0u);
	return r < 0 && pgc_mapping_nr_pages(f->m) != 0 ? R_CALLED_OP : r;
}
ROW("pgc_write", "len 0: 0 bytes", 0)
{
	return pgc_write(M(f), BUF(f), 0, 0, 0);
}
ROW("pgc_write", "offset + len wraps around 2^64", -EINVAL)
{
	uint64_t size = pgc_mapping_size(M(f));
	long r = pgc_write(f->m, BUF(f), 4096, UINT64_MAX - 10, 0);
	if (r < 0 && pgc_mapping_size(f->m) != size)
		r = R_CALLED_OP;
	/* Whatever was written must go, for the teardown. */
	pgc_mapping_truncate(f->m, 0);
	return r;
}

static long wbegin(pgc_io *io, uint64_t pos, size_t len)
{
	pgc_clpage *c = JUNK;
	long r = pgc_write_begin(io, pos, len, &c);
	if (r == 0) {
		ck_assert_int_eq(pgc_write_end(io, c, pos, 0), 0);
		ck_assert_int_eq(pgc_io_commit(io), 0);
	}
	return out_null(r, c);
}
ROW("pgc_write_begin", "io NULL", -EINVAL)
{
	return wbegin(NULL, 0, 1);
}
ROW("pgc_write_begin", "clpp NULL", -EINVAL)
{
	return pgc_write_begin(IO(f), 0, 1, NULL);
}
ROW("pgc_write_begin", "len 0", -EINVAL)
{
	return wbegin(IO(f), 0, 0);
}
ROW("pgc_write_begin", "range crossing a page (pos page size - 1, len 2)", -EINVAL)
{
	return wbegin(IO(f), pgc_cache_page_size(C(f)) - 1, 2);
}
ROW("pgc_write_begin", "len page size + 1", -EINVAL)
{
	return wbegin(IO(f), 0, pgc_cache_page_size(C(f)) + 1);
}
ROW("pgc_write_begin", "len SIZE_MAX", -EINVAL)
{
	return wbegin(IO(f), 0, SIZE_MAX);
}
ROW("pgc_write_begin", "pos UINT64_MAX, len 1 (last byte of the last page: valid)", 0)
{
	long r = wbegin(IO(f), UINT64_MAX, 1);
	pgc_mapping_truncate(f->m, 0);
	return r;
}

ROW("pgc_write_end", "io NULL", -EINVAL)
{
	return pgc_write_end(NULL, CLP(f), 0, 1);
}
ROW("pgc_write_end", "handle NULL", -EINVAL)
{
	return pgc_write_end(IO(f), NULL, 0, 1);
}
ROW("pgc_write_end", "handle not owned (cached)", -EINVAL)
{
	long r = pgc_write_end(IO(f), CLP(f), f->ps, 1);
	return same_state(f->clp, PGC_CPS_CACHED, r);
}
ROW("pgc_write_end", "handle owned by another io", -EINVAL)
{
	pgc_clpage *c;
	ck_assert_int_eq(pgc_write_begin(IO(f), 0, 1, &c), 0);
	long r = same_state(c, PGC_CPS_OWNED, pgc_write_end(IO2(f), c, 0, 1));
	ck_assert_int_eq(pgc_write_end(f->io, c, 0, 0), 0);
	return r;
}
ROW("pgc_io_commit", "io NULL", -EINVAL)
{
	return pgc_io_commit(NULL);
}

ROW("pgc_sync_range", "mapping NULL", -EINVAL)
{
	return pgc_sync_range(NULL, 0, UINT64_MAX, NULL);
}
ROW("pgc_sync_range", "start > end", -EINVAL)
{
	dirty_mp(f);
	int calls = f->op_calls;
	long r = no_op_called(f, pgc_sync_range(f->m, 100, 0, NULL), calls);
	ck_assert_int_eq(pgc_mapping_writeback(f->m, 0, UINT64_MAX, PGC_WB_ALL), 0);
	return r;
}
ROW("pgc_sync_range", "start UINT64_MAX, end UINT64_MAX (valid: 0)", 0)
{
	return pgc_sync_range(M(f), UINT64_MAX, UINT64_MAX, NULL);
}
ROW("pgc_mapping_set_readahead", "mapping NULL", -EINVAL)
{
	return pgc_mapping_set_readahead(NULL, 8);
}
ROW("pgc_mapping_set_readahead", "cap 1025", -EINVAL)
{
	long r = pgc_mapping_set_readahead(M(f), 1025);
	return r < 0 && pgc_mapping_readahead(f->m) != 32 ? R_CALLED_OP : r;
}
ROW("pgc_mapping_set_readahead", "cap UINT_MAX", -EINVAL)
{
	long r = pgc_mapping_set_readahead(M(f), UINT_MAX);
	return r < 0 && pgc_mapping_readahead(f->m) != 32 ? R_CALLED_OP : r;
}
ROW("pgc_mapping_readahead", "mapping NULL", -EINVAL)
{
	return pgc_mapping_readahead(NULL);
}

/* ======================================================================== */
/* dio.h                                                                     */
/* ======================================================================== */

/* A direct I/O on M (512-byte limits by default) that must not reach direct_IO. */
static long dio(struct fx *f, int rw, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int calls = (M(f), f->op_calls);
	return no_op_called(f, pgc_direct_io(f->m, rw, iov, iovcnt, off), calls);
}
ROW("pgc_direct_io", "mapping NULL", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return pgc_direct_io(NULL, PGC_READ, &iov, 1, 0);
}
ROW("pgc_direct_io", "iov NULL", -EINVAL)
{
	return dio(f, PGC_READ, NULL, 1, 0);
}
ROW("pgc_direct_io", "rw 2 (unknown)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, 2, &iov, 1, 0);
}
ROW("pgc_direct_io", "rw -1 (unknown)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, -1, &iov, 1, 0);
}
ROW("pgc_direct_io", "iovcnt 0", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, PGC_READ, &iov, 0, 0);
}
ROW("pgc_direct_io", "iovcnt -1", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, PGC_READ, &iov, -1, 0);
}
ROW("pgc_direct_io", "iovcnt IOV_MAX + 1", -EINVAL)
{
	static struct iovec iov[IOV_MAX + 1];
	for (int i = 0; i <= IOV_MAX; i++)
		iov[i] = (struct iovec){ BUF(f), 512 };
	return dio(f, PGC_WRITE, iov, IOV_MAX + 1, 0);
}
ROW("pgc_direct_io", "iovcnt INT_MAX (with one iovec)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, PGC_READ, &iov, INT_MAX, 0);
}
ROW("pgc_direct_io", "offset 100 (unaligned)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, PGC_WRITE, &iov, 1, 100);
}
ROW("pgc_direct_io", "length 100 (unaligned)", -EINVAL)
{
	struct iovec iov = { BUF(f), 100 };
	return dio(f, PGC_WRITE, &iov, 1, 0);
}
ROW("pgc_direct_io", "address + 1 (unaligned)", -EINVAL)
{
	struct iovec iov = { BUF(f) + 1, 4096 };
	return dio(f, PGC_WRITE, &iov, 1, 0);
}
ROW("pgc_direct_io", "second iovec unaligned: nothing at all done", -EINVAL)
{
	struct iovec iov[2] = { { BUF(f), 4096 }, { BUF(f) + 8192 + 8, 4096 } };
	return dio(f, PGC_WRITE, iov, 2, 0);
}
ROW_UNDOC("pgc_direct_io", "iov_base NULL (not documented)", -EINVAL)
{
	struct iovec iov = { NULL, 4096 };
	return dio(f, PGC_WRITE, &iov, 1, 0);
}
ROW_UNDOC("pgc_direct_io", "total length overflows size_t (not documented)", -EINVAL)
{
	struct iovec iov[2] = { { BUF(f), SIZE_MAX & ~(size_t)511 },
				{ BUF(f), SIZE_MAX & ~(size_t)511 } };
	return dio(f, PGC_WRITE, iov, 2, 0);
}
ROW_UNDOC("pgc_direct_io", "offset + length wraps around 2^64 (not documented)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, PGC_WRITE, &iov, 1, UINT64_MAX & ~(uint64_t)511);
}
ROW("pgc_direct_io", "read at an aligned offset past the size: 0 bytes, no transfer", 0)
{
	struct iovec iov = { BUF(f), 4096 };
	return dio(f, PGC_READ, &iov, 1, UINT64_MAX & ~(uint64_t)4095);
}
ROW("pgc_direct_io", "mapping without direct_IO", -EOPNOTSUPP)
{
	struct iovec iov = { BUF(f), 4096 };
	return pgc_direct_io(MNONE(f), PGC_WRITE, &iov, 1, 0);
}

/* ======================================================================== */
/* store.h                                                                   */
/* ======================================================================== */

static long sopen(const char *path, int flags)
{
	pgc_store *s = JUNK;
	long r = pgc_store_open(path, flags, 0600, &s);
	if (r == 0)
		pgc_store_close(s);
	return out_null(r, s);
}
ROW("pgc_store_open", "path NULL", -EINVAL)
{
	return sopen(NULL, O_RDWR);
}
ROW("pgc_store_open", "storep NULL", -EINVAL)
{
	return pgc_store_open("/var/tmp", O_RDONLY, 0, NULL);
}
ROW("pgc_store_open", "O_WRONLY", -EINVAL)
{
	char path[] = TMP_TEMPLATE;
	int fd = mkostemp(path, O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	long r = sopen(path, O_WRONLY);
	unlink(path);
	return r;
}
ROW("pgc_store_open", "O_APPEND", -EINVAL)
{
	char path[] = TMP_TEMPLATE;
	int fd = mkostemp(path, O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	long r = sopen(path, O_RDWR | O_APPEND);
	unlink(path);
	return r;
}
ROW("pgc_store_open", "a path that does not exist (open(2): -ENOENT)", -ENOENT)
{
	return sopen("/var/tmp/pgc-badinput-does-not-exist/x", O_RDWR);
}
ROW("pgc_store_open", "empty path (open(2): -ENOENT)", -ENOENT)
{
	return sopen("", O_RDONLY);
}

ROW("pgc_store_open", "a directory (open(2): -EISDIR)", -EISDIR)
{
	return sopen("/var/tmp", O_RDWR);
}
ROW("pgc_store_open", "a file system that refuses O_DIRECT (procfs)", -EOPNOTSUPP)
{
	return sopen("/proc/self/status", O_RDONLY);
}

static long from_fd(int fd, unsigned flags)
{
	pgc_store *s = JUNK;
	long r = pgc_store_from_fd(fd, flags, &s);
	if (r == 0)
		pgc_store_close(s);
	return out_null(r, s);
}
ROW("pgc_store_from_fd", "fd -1", -EINVAL)
{
	return from_fd(-1, 0);
}
ROW("pgc_store_from_fd", "fd INT_MIN", -EINVAL)
{
	return from_fd(INT_MIN, 0);
}
ROW("pgc_store_from_fd", "flags 2 (unknown)", -EINVAL)
{
	int fd = tmp_file();
	int fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fcntl(fd, F_SETFL, fl | O_DIRECT), 0);
	long r = from_fd(fd, 2);
	close(fd);
	return r;
}
ROW("pgc_store_from_fd", "storep NULL", -EINVAL)
{
	int fd = tmp_file();
	int fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fcntl(fd, F_SETFL, fl | O_DIRECT), 0);
	long r = pgc_store_from_fd(fd, 0, NULL);
	close(fd);
	return r;
}
ROW("pgc_store_from_fd", "descriptor without O_DIRECT", -EINVAL)
{
	int fd = tmp_file();
	long r = from_fd(fd, 0);
	close(fd);
	return r;
}
ROW("pgc_store_from_fd", "descriptor with O_APPEND", -EINVAL)
{
	int fd = tmp_file();
	int fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fcntl(fd, F_SETFL, fl | O_DIRECT | O_APPEND), 0);
	long r = from_fd(fd, 0);
	close(fd);
	return r;
}
ROW("pgc_store_from_fd", "descriptor not open", -EBADF)
{
	int fd = tmp_file();
	close(fd);
	return from_fd(fd, 0);
}
ROW("pgc_store_from_fd", "fd INT_MAX (not open)", -EBADF)
{
	return from_fd(INT_MAX, 0);
}
ROW("pgc_store_close", "store NULL: returns 0", 0)
{
	return pgc_store_close(NULL);
}
ROW("pgc_store_fd", "store NULL", -EINVAL)
{
	return pgc_store_fd(NULL);
}
/* pgc_store_set_engine() on STORE, which must keep its engine when refused. */
static long set_engine(struct fx *f, int engine)
{
	int before = pgc_store_engine(STORE(f));
	ck_assert_int_ge(before, 0);
	long r = pgc_store_set_engine(f->store, engine);
	return r < 0 && pgc_store_engine(f->store) != before ? R_CALLED_OP : r;
}
ROW("pgc_store_set_engine", "store NULL", -EINVAL)
{
	(void)f;
	return pgc_store_set_engine(NULL, PGC_STORE_PSYNC);
}
ROW("pgc_store_set_engine", "engine 2 (unknown)", -EINVAL)
{
	return set_engine(f, 2);
}
ROW("pgc_store_set_engine", "engine -1 (unknown)", -EINVAL)
{
	return set_engine(f, -1);
}
ROW("pgc_store_set_engine", "engine INT_MIN (unknown)", -EINVAL)
{
	return set_engine(f, INT_MIN);
}
ROW("pgc_store_engine", "store NULL", -EINVAL)
{
	(void)f;
	return pgc_store_engine(NULL);
}
ROW("pgc_store_block_size", "store NULL: 0", 0)
{
	return (long)pgc_store_block_size(NULL);
}
ROW("pgc_store_mem_align", "store NULL: 0", 0)
{
	return (long)pgc_store_mem_align(NULL);
}
ROW("pgc_store_size", "store NULL", -EINVAL)
{
	uint64_t s;
	return pgc_store_size(NULL, &s);
}
ROW("pgc_store_size", "sizep NULL", -EINVAL)
{
	return pgc_store_size(STORE(f), NULL);
}

/* Raw store I/O on STORE; the file must stay empty after a refused write. */
static long sio(struct fx *f, int wr, const struct iovec *iov, int iovcnt, uint64_t off)
{
	long r = wr ? pgc_store_write(STORE(f), iov, iovcnt, off)
		    : pgc_store_read(STORE(f), iov, iovcnt, off);
	uint64_t size = 1;
	ck_assert_int_eq(pgc_store_size(f->store, &size), 0);
	return r < 0 && size != 0 ? R_CALLED_OP : r;
}
#define STORE_IO_ROWS(FN, WR)                                                          \
	ROW(FN, "store NULL", -EINVAL)                                                 \
	{                                                                              \
		struct iovec iov = { BUF(f), 4096 };                                   \
		return WR ? pgc_store_write(NULL, &iov, 1, 0)                          \
			  : pgc_store_read(NULL, &iov, 1, 0);                          \
	}                                                                              \
	ROW(FN, "iov NULL", -EINVAL)                                                   \
	{                                                                              \
		return sio(f, WR, NULL, 1, 0);                                         \
	}                                                                              \
	ROW(FN, "iovcnt 0", -EINVAL)                                                   \
	{                                                                              \
		struct iovec iov = { BUF(f), 4096 };                                   \
		return sio(f, WR, &iov, 0, 0);                                         \
	}                                                                              \
	ROW(FN, "iovcnt -1", -EINVAL)                                                  \
	{                                                                              \
		struct iovec iov = { BUF(f), 4096 };                                   \
		return sio(f, WR, &iov, -1, 0);                                        \
	}                                                                              \
	ROW(FN, "iovcnt IOV_MAX + 1", -EINVAL)                                         \
	{                                                                              \
		static struct iovec iov[IOV_MAX + 1];                                  \
		for (int i = 0; i <= IOV_MAX; i++)                                     \
			iov[i] = (struct iovec){ BUF(f), 4096 };                       \
		return sio(f, WR, iov, IOV_MAX + 1, 0);                                \
	}                                                                              \
	ROW(FN, "offset 100 (unaligned)", -EINVAL)                                     \
	{                                                                              \
		struct iovec iov = { BUF(f), 4096 };                                   \
		return sio(f, WR, &iov, 1, 100);                                       \
	}                                                                              \
	ROW(FN, "length 100 (unaligned)", -EINVAL)                                     \
	{                                                                              \
		struct iovec iov = { BUF(f), 100 };                                    \
		return sio(f, WR, &iov, 1, 0);                                         \
	}                                                                              \
	ROW(FN, "address + 1 (unaligned)", -EINVAL)                                    \
	{                                                                              \
		struct iovec iov = { BUF(f) + 1, 4096 };                               \
		return sio(f, WR, &iov, 1, 0);                                         \
	}                                                                              \
	ROW(FN, "second iovec unaligned", -EINVAL)                                     \
	{                                                                              \
		struct iovec iov[2] = { { BUF(f), 4096 }, { BUF(f) + 8192 + 8, 4096 } }; \
		return sio(f, WR, iov, 2, 0);                                          \
	}
STORE_IO_ROWS("pgc_store_read", 0)
STORE_IO_ROWS("pgc_store_write", 1)
ROW("pgc_store_write", "store opened read-only", -EBADF)
{
	pgc_store *s = store_open(O_RDONLY);
	struct iovec iov = { BUF(f), 4096 };
	long r = pgc_store_write(s, &iov, 1, 0);
	ck_assert_int_eq(pgc_store_close(s), 0);
	return r;
}
ROW("pgc_store_truncate", "store NULL", -EINVAL)
{
	return pgc_store_truncate(NULL, 0);
}
ROW("pgc_store_truncate", "size UINT64_MAX (ftruncate(2): -EINVAL or -EFBIG)", -EFBIG)
{
	long r = pgc_store_truncate(STORE(f), UINT64_MAX);
	return r == -EINVAL ? -EFBIG : r; /* either is the negated errno of ftruncate(2) */
}
ROW("pgc_store_sync", "store NULL", -EINVAL)
{
	return pgc_store_sync(NULL);
}

static long smcreate(pgc_cache *c, pgc_store *s)
{
	pgc_mapping *m = JUNK;
	long r = pgc_store_mapping_create(c, s, &m);
	if (r == 0)
		ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	return out_null(r, m);
}
ROW("pgc_store_mapping_create", "cache NULL", -EINVAL)
{
	return smcreate(NULL, STORE(f));
}
ROW("pgc_store_mapping_create", "store NULL", -EINVAL)
{
	return smcreate(C(f), NULL);
}
ROW("pgc_store_mapping_create", "mappingp NULL", -EINVAL)
{
	return pgc_store_mapping_create(C(f), STORE(f), NULL);
}

/* ======================================================================== */
/* migrate.h                                                                 */
/* ======================================================================== */

static long migrate(struct fx *f, pgc_page **pages, unsigned nr, pgc_new_page_fn fn, int mode,
		    int reason)
{
	(void)f;
	return pgc_migrate_pages(pages, nr, fn, NULL, mode, reason, NULL, NULL);
}
/* Migrates MP, held by the fixture's one reference (which follows the page
 * if it moves, as the header says). */
static long migrate_mp(struct fx *f, pgc_new_page_fn fn, int mode, int reason)
{
	pgc_page *pages[1] = { MP(f) };
	long r = migrate(f, pages, 1, fn, mode, reason);
	f->mp = pages[0];
	return r;
}
ROW("pgc_migrate_pages", "pages NULL, nr 1", -EINVAL)
{
	return migrate(f, NULL, 1, new_page_fn, PGC_MIGRATE_SYNC, PGC_MR_SYSCALL);
}
ROW("pgc_migrate_pages", "new_page NULL", -EINVAL)
{
	return migrate_mp(f, NULL, PGC_MIGRATE_SYNC, PGC_MR_SYSCALL);
}
ROW("pgc_migrate_pages", "mode 3 (unknown)", -EINVAL)
{
	return migrate_mp(f, new_page_fn, 3, PGC_MR_SYSCALL);
}
ROW("pgc_migrate_pages", "mode -1 (unknown)", -EINVAL)
{
	return migrate_mp(f, new_page_fn, -1, PGC_MR_SYSCALL);
}
ROW("pgc_migrate_pages", "reason PGC_MR_NR_REASONS (unknown)", -EINVAL)
{
	return migrate_mp(f, new_page_fn, PGC_MIGRATE_SYNC, PGC_MR_NR_REASONS);
}
ROW("pgc_migrate_pages", "reason -1 (unknown)", -EINVAL)
{
	return migrate_mp(f, new_page_fn, PGC_MIGRATE_SYNC, -1);
}
ROW("pgc_migrate_pages", "a NULL entry in pages", -EINVAL)
{
	pgc_page *pages[1] = { NULL };
	return migrate(f, pages, 1, new_page_fn, PGC_MIGRATE_SYNC, PGC_MR_SYSCALL);
}
ROW("pgc_migrate_pages", "nr 0: 0 not migrated", 0)
{
	pgc_page *pages[1] = { MP(f) };
	return migrate(f, pages, 0, new_page_fn, PGC_MIGRATE_SYNC, PGC_MR_SYSCALL);
}
ROW("pgc_migrate_pages", "page in no mapping: 1 not migrated, status -ENOENT", 1)
{
	pgc_page *pages[1] = { PAGE(f) };
	int st[1] = { 12345 };
	long r = pgc_migrate_pages(pages, 1, new_page_fn, NULL, PGC_MIGRATE_SYNC, PGC_MR_SYSCALL,
				   st, NULL);
	ck_assert_ptr_eq(pages[0], f->page);
	return with_status(r, st[0], -ENOENT);
}

ROW("pgc_migrate_page", "mapping NULL", -EINVAL)
{
	return pgc_migrate_page(NULL, PAGE(f), MP(f), PGC_MIGRATE_SYNC);
}
ROW("pgc_migrate_page", "newpage NULL", -EINVAL)
{
	return pgc_migrate_page(M(f), NULL, MP(f), PGC_MIGRATE_SYNC);
}
ROW("pgc_migrate_page", "page NULL", -EINVAL)
{
	return pgc_migrate_page(M(f), PAGE(f), NULL, PGC_MIGRATE_SYNC);
}
ROW("pgc_migrate_page", "called outside a migration (pages locked)", -EINVAL)
{
	lock(PAGE(f));
	lock(MP(f));
	long r = pgc_migrate_page(f->m, f->page, f->mp, PGC_MIGRATE_SYNC);
	if (r < 0 && pgc_page_mapping(f->mp) != f->m)
		r = R_CALLED_OP;
	unlock(f->mp);
	unlock(f->page);
	return r;
}
ROW("pgc_fail_migrate_page", "every argument NULL: -EIO, always", -EIO)
{
	return pgc_fail_migrate_page(NULL, NULL, NULL, -1);
}

static long move(struct fx *f, unsigned long count, pgc_page **pages, const int *nodes,
		 int *status, unsigned flags)
{
	long r = pgc_move_pages(C(f), count, pages, nodes, status, flags);
	/* A page moved by copy is replaced, the fixture's reference with it. */
	if (count && pages && f->mp && pgc_page_mapping(pages[0]) == f->m)
		f->mp = pages[0];
	return r;
}
ROW("pgc_move_pages", "cache NULL", -EINVAL)
{
	pgc_page *pages[1] = { PAGE(f) };
	int st[1];
	return pgc_move_pages(NULL, 1, pages, NULL, st, 0);
}
ROW("pgc_move_pages", "pages NULL, count 1", -EINVAL)
{
	int st[1];
	return move(f, 1, NULL, NULL, st, 0);
}
ROW("pgc_move_pages", "status NULL", -EINVAL)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { f->node };
	return move(f, 1, pages, nodes, NULL, 0);
}
ROW("pgc_move_pages", "flags 0x20 (unknown)", -EINVAL)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { f->node }, st[1];
	return move(f, 1, pages, nodes, st, 0x20);
}
ROW("pgc_move_pages", "PGC_MOVE_EXCHANGE with PGC_MOVE_INPLACE", -EINVAL)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { f->node }, st[1];
	return move(f, 1, pages, nodes, st, PGC_MOVE_EXCHANGE | PGC_MOVE_INPLACE);
}
ROW("pgc_move_pages", "flags ~0u", -EINVAL)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { f->node }, st[1];
	return move(f, 1, pages, nodes, st, ~0u);
}
ROW("pgc_move_pages", "count 0: 0", 0)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { f->node }, st[1];
	return move(f, 0, pages, nodes, st, 0);
}
ROW("pgc_move_pages", "target node 1000 (does not exist)", -ENODEV)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { 1000 }, st[1];
	return move(f, 1, pages, nodes, st, 0);
}
ROW("pgc_move_pages", "target node INT_MAX (does not exist)", -ENODEV)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { INT_MAX }, st[1];
	return move(f, 1, pages, nodes, st, 0);
}
ROW("pgc_move_pages", "target node -5 (does not exist)", -ENODEV)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { -5 }, st[1];
	return move(f, 1, pages, nodes, st, 0);
}
ROW("pgc_move_pages", "target node INT_MIN (does not exist)", -ENODEV)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { INT_MIN }, st[1];
	return move(f, 1, pages, nodes, st, 0);
}
ROW_UNDOC("pgc_move_pages", "count ULONG_MAX (> UINT32_MAX, not documented)", -EINVAL)
{
	pgc_page *pages[1] = { MP(f) };
	int nodes[1] = { f->node }, st[1];
	return move(f, ULONG_MAX, pages, nodes, st, 0);
}
ROW("pgc_move_pages", "a NULL page: status -EFAULT, 1 not moved", 1)
{
	pgc_page *pages[1] = { NULL };
	int nodes[1] = { C(f) ? f->node : 0 }, st[1] = { 12345 };
	long r = move(f, 1, pages, nodes, st, 0);
	return with_status(r, st[0], -EFAULT);
}
ROW("pgc_move_pages", "a page of another cache: status -EFAULT, 1 not moved", 1)
{
	pgc_cache *c2 = other_cache();
	pgc_page *q;
	ck_assert_int_eq(pgc_page_alloc(c2, PGC_NODE_ANY, 0, &q), 0);
	pgc_page *pages[1] = { q };
	int nodes[1] = { pgc_test_first_node(C(f)) }, st[1] = { 12345 };
	long r = move(f, 1, pages, nodes, st, 0);
	r = with_status(r, st[0], -EFAULT);
	pgc_page_put(pages[0]);
	ck_assert_int_eq(pgc_cache_destroy(c2), 0);
	return r;
}
ROW("pgc_move_pages", "a page in no mapping: status -ENOENT, 1 not moved", 1)
{
	pgc_page *pages[1] = { PAGE(f) };
	int nodes[1] = { f->node }, st[1] = { 12345 };
	long r = move(f, 1, pages, nodes, st, 0);
	r = with_status(r, st[0], -ENOENT);
	ck_assert_ptr_eq(pages[0], f->page);
	return r;
}
ROW("pgc_move_pages", "query (nodes NULL) of a NULL page: status -EFAULT, 0", 0)
{
	pgc_page *pages[1] = { NULL };
	int st[1] = { 12345 };
	long r = move(f, 1, pages, NULL, st, 0);
	return with_status(r, st[0], -EFAULT);
}
ROW("pgc_move_pages", "INPLACE on a cache with huge pages", -EOPNOTSUPP)
{
	struct pgc_cache_config cfg = small_cfg();
	pgc_cache *c2;
	pgc_mapping *m2;
	pgc_page *p;
	cfg.huge_pages = 1;
	ck_assert_int_eq(pgc_cache_create(&cfg, &c2), 0);
	ck_assert_int_eq(pgc_mapping_create(c2, NULL, NULL, 1 << 20, &m2), 0);
	ck_assert_int_eq(pgc_mapping_find_or_create(m2, 0, 0, &p), 0);
	unlock(p);
	int nodes[1] = { pgc_test_first_node(c2) }, st[1];
	pgc_page *pages[1] = { p };
	long r = pgc_move_pages(c2, 1, pages, nodes, st, PGC_MOVE_INPLACE);
	pgc_page_put(pages[0]);
	ck_assert_int_eq(pgc_mapping_destroy(m2), 0);
	ck_assert_int_eq(pgc_cache_destroy(c2), 0);
	return r;
}

static long mnodes(struct fx *f, pgc_cache *c, const int *from, const int *to, unsigned nr,
		   unsigned flags, int reason)
{
	MP(f);
	return pgc_migrate_nodes(c, NULL, from, to, nr, flags, reason, NULL);
}
ROW("pgc_migrate_nodes", "cache NULL", -EINVAL)
{
	int n[1] = { 0 };
	return mnodes(f, NULL, n, n, 1, 0, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "from NULL, nr 1", -EINVAL)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, NULL, n, 1, 0, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "to NULL, nr 1", -EINVAL)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, n, NULL, 1, 0, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "flags PGC_MOVE_ALL (allowed, as for pgc_move_pages): 0 not moved", 0)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, n, n, 1, PGC_MOVE_ALL, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "flags PGC_MOVE_QUERY_KERNEL (not allowed here)", -EINVAL)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, n, n, 1, PGC_MOVE_QUERY_KERNEL, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "flags 0x100 (unknown)", -EINVAL)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, n, n, 1, 0x100, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "reason PGC_MR_NR_REASONS (unknown)", -EINVAL)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, n, n, 1, 0, PGC_MR_NR_REASONS);
}
ROW("pgc_migrate_nodes", "reason -1 (unknown)", -EINVAL)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, n, n, 1, 0, -1);
}
ROW("pgc_migrate_nodes", "source node 1000 (does not exist)", -ENODEV)
{
	int from[1] = { 1000 }, to[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, from, to, 1, 0, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "target node 1000 (does not exist)", -ENODEV)
{
	int from[1] = { C(f) ? f->node : 0 }, to[1] = { 1000 };
	return mnodes(f, f->cache, from, to, 1, 0, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "target node INT_MIN (does not exist)", -ENODEV)
{
	int from[1] = { C(f) ? f->node : 0 }, to[1] = { INT_MIN };
	return mnodes(f, f->cache, from, to, 1, 0, PGC_MR_DRAIN);
}
ROW("pgc_migrate_nodes", "nr 0: 0 not moved", 0)
{
	int n[1] = { C(f) ? f->node : 0 };
	return mnodes(f, f->cache, n, n, 0, 0, PGC_MR_DRAIN);
}

static long mstats(pgc_cache *c, int reason, uint32_t size)
{
	struct pgc_migrate_stats st = { .size = size };
	return pgc_cache_migrate_stats(c, reason, &st);
}
ROW("pgc_cache_migrate_stats", "cache NULL", -EINVAL)
{
	return mstats(NULL, PGC_MR_SYSCALL, sizeof(struct pgc_migrate_stats));
}
ROW("pgc_cache_migrate_stats", "stats NULL", -EINVAL)
{
	return pgc_cache_migrate_stats(C(f), PGC_MR_SYSCALL, NULL);
}
ROW("pgc_cache_migrate_stats", "reason PGC_MR_NR_REASONS", -EINVAL)
{
	return mstats(C(f), PGC_MR_NR_REASONS, sizeof(struct pgc_migrate_stats));
}
ROW("pgc_cache_migrate_stats", "reason -1", -EINVAL)
{
	return mstats(C(f), -1, sizeof(struct pgc_migrate_stats));
}
ROW("pgc_cache_migrate_stats", "reason INT_MIN", -EINVAL)
{
	return mstats(C(f), INT_MIN, sizeof(struct pgc_migrate_stats));
}
ROW("pgc_cache_migrate_stats", "stats->size 0", -EINVAL)
{
	return mstats(C(f), PGC_MR_SYSCALL, 0);
}
ROW("pgc_page_kernel_node", "page NULL", -EINVAL)
{
	return pgc_page_kernel_node(NULL);
}

/* ---- placement.h ---- */

static long pset(pgc_cache *c, void (*edit)(struct pgc_placement_config *))
{
	struct pgc_placement_config cfg;
	pgc_placement_config_init(&cfg);
	if (edit)
		edit(&cfg);
	return pgc_placement_set(c, &cfg);
}
static void ps_size0(struct pgc_placement_config *k) { k->size = 0; }
static void ps_size_big(struct pgc_placement_config *k) { k->size = 8192; }
static void ps_policies(struct pgc_placement_config *k) { k->policies = 0x80; }
static void ps_samples(struct pgc_placement_config *k) { k->min_samples = 4; }
static void ps_free(struct pgc_placement_config *k) { k->free_pct = 51; }
static void ps_hits(struct pgc_placement_config *k) { k->min_hits = 16; }
static void ps_cold(struct pgc_placement_config *k) { k->hot_steps = 5; k->cold_steps = 5; }
static void ps_tiers_null(struct pgc_placement_config *k) { k->nr_tiers = 2; }
static const int bad_tiers[2] = { 0, PGC_PLACE_MAX_TIER + 1 };
static void ps_tier_big(struct pgc_placement_config *k) { k->tiers = bad_tiers; k->nr_tiers = 2; }
static const int neg_tiers[1] = { -1 };
static void ps_tier_neg(struct pgc_placement_config *k) { k->tiers = neg_tiers; k->nr_tiers = 1; }
ROW("pgc_placement_config_init", "cfg NULL: nothing happens", 0)
{
	(void)f;
	pgc_placement_config_init(NULL);
	return 0;
}
ROW("pgc_placement_set", "cache NULL", -EINVAL)
{
	(void)f;
	return pset(NULL, NULL);
}
ROW("pgc_placement_set", "cfg NULL: placement off, never set", 0)
{
	return pgc_placement_set(C(f), NULL);
}
ROW("pgc_placement_set", "cfg->size 0", -EINVAL)
{
	return pset(C(f), ps_size0);
}
ROW("pgc_placement_set", "cfg->size 8192", -E2BIG)
{
	return pset(C(f), ps_size_big);
}
ROW("pgc_placement_set", "unknown policy bit", -EINVAL)
{
	return pset(C(f), ps_policies);
}
ROW("pgc_placement_set", "min_samples 4", -EINVAL)
{
	return pset(C(f), ps_samples);
}
ROW("pgc_placement_set", "min_hits 16", -EINVAL)
{
	return pset(C(f), ps_hits);
}
ROW("pgc_placement_set", "free_pct 51", -EINVAL)
{
	return pset(C(f), ps_free);
}
ROW("pgc_placement_set", "cold_steps equal to hot_steps", -EINVAL)
{
	return pset(C(f), ps_cold);
}
ROW("pgc_placement_set", "nr_tiers 2 with tiers NULL", -EINVAL)
{
	return pset(C(f), ps_tiers_null);
}
ROW("pgc_placement_set", "a tier above PGC_PLACE_MAX_TIER", -EINVAL)
{
	return pset(C(f), ps_tier_big);
}
ROW("pgc_placement_set", "a tier of -1", -EINVAL)
{
	return pset(C(f), ps_tier_neg);
}
ROW("pgc_placement_step", "cache NULL", -EINVAL)
{
	(void)f;
	return pgc_placement_step(NULL, NULL);
}
ROW("pgc_placement_step", "placement never set", -ENOENT)
{
	return pgc_placement_step(C(f), NULL);
}
ROW("pgc_placement_step", "stats->size 0", -EINVAL)
{
	struct pgc_placement_stats st = { .size = 0 };
	ck_assert_int_eq(pset(C(f), NULL), 0);
	return pgc_placement_step(C(f), &st);
}
ROW("pgc_placement_start", "cache NULL", -EINVAL)
{
	(void)f;
	return pgc_placement_start(NULL);
}
ROW("pgc_placement_start", "placement never set", -ENOENT)
{
	return pgc_placement_start(C(f));
}
ROW("pgc_placement_stop", "cache NULL", -EINVAL)
{
	(void)f;
	return pgc_placement_stop(NULL);
}
ROW("pgc_placement_stop", "no thread", -ESRCH)
{
	return pgc_placement_stop(C(f));
}
ROW("pgc_placement_stats", "cache NULL", -EINVAL)
{
	(void)f;
	struct pgc_placement_stats st = { .size = sizeof(st) };
	return pgc_placement_stats(NULL, &st);
}
ROW("pgc_placement_stats", "stats NULL", -EINVAL)
{
	return pgc_placement_stats(C(f), NULL);
}
ROW("pgc_placement_stats", "stats->size 8", -EINVAL)
{
	struct pgc_placement_stats st = { .size = 8 };
	return pgc_placement_stats(C(f), &st);
}
ROW("pgc_page_access_node", "page NULL", -EINVAL)
{
	(void)f;
	return pgc_page_access_node(NULL);
}

/* ======================================================================== */
/* aio.h                                                                     */
/* ======================================================================== */

/* Contexts are made in the row's body and destroyed before it returns: a
 * row that submits reaps first (nothing may stay in flight, for the
 * destroy and for the leak checkers). */

static void aio_done_nothing(void *arg, ssize_t result)
{
	(void)arg;
	(void)result;
}

/* A context: the defaults (pgc_aio_create(NULL)) for depth 0, else the
 * defaults with that depth. */
static pgc_aio *aio_open(uint32_t depth)
{
	pgc_aio *a = NULL;
	if (depth == 0) {
		ck_assert_int_eq(pgc_aio_create(NULL, &a), 0);
	} else {
		struct pgc_aio_config cfg;
		pgc_aio_config_init(&cfg);
		cfg.depth = depth;
		ck_assert_int_eq(pgc_aio_create(&cfg, &a), 0);
	}
	return a;
}

/* A context of depth 1 already at its depth: a sync of M (clean, so it runs
 * no operation of M) that goes to a worker. */
static pgc_aio *aio_full(struct fx *f)
{
	pgc_aio *a = aio_open(1);
	ck_assert_int_eq(pgc_aio_sync(a, M(f), 0, UINT64_MAX, NULL, aio_done_nothing, NULL), 0);
	ck_assert_uint_eq(pgc_aio_inflight(a), 1);
	return a;
}

/*
 * Ends a row on context a: r, unless r is an error and the call started
 * something anyway (the count in flight is no longer `before`) or an
 * operation of M ran since `calls` (R_CALLED_OP); reaps what is in flight,
 * then destroys a.
 */
static long aio_end(struct fx *f, pgc_aio *a, long r, unsigned before, int calls)
{
	if (r < 0 && pgc_aio_inflight(a) != before)
		r = R_CALLED_OP;
	while (pgc_aio_inflight(a) > 0)
		ck_assert_int_ge(pgc_aio_reap(a, 1, 0), 0);
	ck_assert_int_eq(pgc_aio_destroy(a), 0);
	return r < 0 ? no_op_called(f, r, calls) : r;
}

ROW("pgc_aio_config_init", "cfg NULL: nothing happens", 0)
{
	(void)f;
	pgc_aio_config_init(NULL);
	return 0;
}

static long acreate(const struct pgc_aio_config *cfg)
{
	pgc_aio *a = JUNK;
	long r = pgc_aio_create(cfg, &a);
	if (r == 0)
		ck_assert_int_eq(pgc_aio_destroy(a), 0);
	return out_null(r, a);
}
static long acreate_with(void (*edit)(struct pgc_aio_config *))
{
	struct pgc_aio_config cfg;
	pgc_aio_config_init(&cfg);
	edit(&cfg);
	return acreate(&cfg);
}
static void ac_size0(struct pgc_aio_config *k) { k->size = 0; }
static void ac_size_small(struct pgc_aio_config *k) { k->size = PGC_AIO_CONFIG_SIZE_0_2 - 4; }
static void ac_depth(struct pgc_aio_config *k) { k->depth = 65537; }
static void ac_depth_max(struct pgc_aio_config *k) { k->depth = UINT32_MAX; }
static void ac_workers(struct pgc_aio_config *k) { k->workers = 65; }
static void ac_flags(struct pgc_aio_config *k) { k->flags = 2; }
static void ac_flags_high(struct pgc_aio_config *k) { k->flags = 0x80000000u | PGC_AIO_NO_URING; }
ROW("pgc_aio_create", "ctxp NULL", -EINVAL)
{
	(void)f;
	return pgc_aio_create(NULL, NULL);
}
ROW("pgc_aio_create", "ctxp NULL, with a configuration", -EINVAL)
{
	struct pgc_aio_config cfg;
	(void)f;
	pgc_aio_config_init(&cfg);
	return pgc_aio_create(&cfg, NULL);
}
ROW("pgc_aio_create", "cfg->size 0", -EINVAL)
{
	(void)f;
	return acreate_with(ac_size0);
}
ROW("pgc_aio_create", "cfg->size below PGC_AIO_CONFIG_SIZE_0_2", -EINVAL)
{
	(void)f;
	return acreate_with(ac_size_small);
}
ROW("pgc_aio_create", "depth 65537 (above 65536)", -EINVAL)
{
	(void)f;
	return acreate_with(ac_depth);
}
ROW("pgc_aio_create", "depth UINT32_MAX", -EINVAL)
{
	(void)f;
	return acreate_with(ac_depth_max);
}
ROW("pgc_aio_create", "workers 65 (above 64)", -EINVAL)
{
	(void)f;
	return acreate_with(ac_workers);
}
ROW("pgc_aio_create", "flags 2 (unknown)", -EINVAL)
{
	(void)f;
	return acreate_with(ac_flags);
}
ROW("pgc_aio_create", "flags 0x80000000 (unknown) with PGC_AIO_NO_URING", -EINVAL)
{
	(void)f;
	return acreate_with(ac_flags_high);
}
ROW("pgc_aio_create", "cfg->size larger than known, extra bytes nonzero", -E2BIG)
{
	struct {
		struct pgc_aio_config cfg;
		uint64_t extra;
	} big;
	(void)f;
	memset(&big, 0, sizeof big);
	pgc_aio_config_init(&big.cfg);
	big.cfg.size = sizeof big;
	big.extra = 0x1234;
	return acreate(&big.cfg);
}
ROW("pgc_aio_create", "cfg->size 8192, every byte past the known ones zero", -E2BIG)
{
	static union {
		struct pgc_aio_config cfg;
		unsigned char bytes[8192];
	} big;
	(void)f;
	memset(&big, 0, sizeof big);
	pgc_aio_config_init(&big.cfg);
	big.cfg.size = sizeof big;
	return acreate(&big.cfg);
}

ROW("pgc_aio_destroy", "ctx NULL: returns 0", 0)
{
	(void)f;
	return pgc_aio_destroy(NULL);
}
ROW("pgc_aio_destroy", "a request in flight: nothing destroyed", -EBUSY)
{
	pgc_aio *a = aio_open(0);
	ck_assert_int_eq(pgc_aio_sync(a, M(f), 0, UINT64_MAX, NULL, aio_done_nothing, NULL), 0);
	int calls = f->op_calls;
	long r = pgc_aio_destroy(a);
	/* Still whole: its request is reaped and it is destroyed below. */
	return aio_end(f, a, r, 1, calls);
}

ROW("pgc_aio_fd", "ctx NULL", -EINVAL)
{
	(void)f;
	return pgc_aio_fd(NULL);
}

/* pgc_aio_read() on a new context of the defaults. */
static long aread(struct fx *f, pgc_mapping *m, void *buf, size_t len, pgc_aio_done_fn fn)
{
	pgc_aio *a = aio_open(0);
	int calls = f->op_calls;
	long r = pgc_aio_read(a, m, buf, len, 0, fn, NULL);
	return aio_end(f, a, r, 0, calls);
}
ROW("pgc_aio_read", "ctx NULL", -EINVAL)
{
	int calls = (M(f), f->op_calls);
	return no_op_called(f, pgc_aio_read(NULL, f->m, BUF(f), 4096, 0, aio_done_nothing, NULL),
			    calls);
}
ROW("pgc_aio_read", "mapping NULL", -EINVAL)
{
	return aread(f, NULL, BUF(f), 4096, aio_done_nothing);
}
ROW("pgc_aio_read", "fn NULL", -EINVAL)
{
	return aread(f, M(f), BUF(f), 4096, NULL);
}
ROW("pgc_aio_read", "buf NULL, len 4096", -EINVAL)
{
	return aread(f, M(f), NULL, 4096, aio_done_nothing);
}
ROW("pgc_aio_read", "buf NULL, len 0 (valid: 0)", 0)
{
	return aread(f, M(f), NULL, 0, aio_done_nothing);
}
ROW("pgc_aio_read", "at the context's depth: nothing started", -EAGAIN)
{
	pgc_aio *a = aio_full(f);
	int calls = f->op_calls;
	long r = pgc_aio_read(a, f->m, BUF(f), 4096, 0, aio_done_nothing, NULL);
	return aio_end(f, a, r, 1, calls);
}

/* pgc_aio_write() on a new context of the defaults. */
static long awrite(struct fx *f, pgc_mapping *m, const void *buf, size_t len, unsigned flags,
		   pgc_aio_done_fn fn)
{
	pgc_aio *a = aio_open(0);
	int calls = f->op_calls;
	long r = pgc_aio_write(a, m, buf, len, 0, flags, fn, NULL);
	return aio_end(f, a, r, 0, calls);
}
ROW("pgc_aio_write", "ctx NULL", -EINVAL)
{
	int calls = (M(f), f->op_calls);
	return no_op_called(
		f, pgc_aio_write(NULL, f->m, BUF(f), 4096, 0, 0, aio_done_nothing, NULL), calls);
}
ROW("pgc_aio_write", "mapping NULL", -EINVAL)
{
	return awrite(f, NULL, BUF(f), 4096, 0, aio_done_nothing);
}
ROW("pgc_aio_write", "fn NULL", -EINVAL)
{
	return awrite(f, M(f), BUF(f), 4096, 0, NULL);
}
ROW("pgc_aio_write", "buf NULL, len 4096", -EINVAL)
{
	return awrite(f, M(f), NULL, 4096, 0, aio_done_nothing);
}
ROW("pgc_aio_write", "flags 2 (unknown)", -EINVAL)
{
	return awrite(f, M(f), BUF(f), 4096, 2, aio_done_nothing);
}
ROW("pgc_aio_write", "flags UINT_MAX (unknown bits with PGC_WRITE_SYNC)", -EINVAL)
{
	return awrite(f, M(f), BUF(f), 4096, UINT_MAX, aio_done_nothing);
}
ROW("pgc_aio_write", "at the context's depth: nothing started", -EAGAIN)
{
	pgc_aio *a = aio_full(f);
	int calls = f->op_calls;
	long r = pgc_aio_write(a, f->m, BUF(f), 4096, 0, 0, aio_done_nothing, NULL);
	return aio_end(f, a, r, 1, calls);
}

/* pgc_aio_direct() on M (512-byte limits by default) from a new context of
 * the defaults: refused, it must not reach direct_IO. */
static long adirect(struct fx *f, int rw, const struct iovec *iov, int iovcnt, uint64_t off)
{
	pgc_aio *a = aio_open(0);
	int calls = (M(f), f->op_calls);
	long r = pgc_aio_direct(a, f->m, rw, iov, iovcnt, off, aio_done_nothing, NULL);
	return aio_end(f, a, r, 0, calls);
}
ROW("pgc_aio_direct", "ctx NULL", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	int calls = (M(f), f->op_calls);
	return no_op_called(
		f, pgc_aio_direct(NULL, f->m, PGC_READ, &iov, 1, 0, aio_done_nothing, NULL), calls);
}
ROW("pgc_aio_direct", "mapping NULL", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	pgc_aio *a = aio_open(0);
	long r = pgc_aio_direct(a, NULL, PGC_READ, &iov, 1, 0, aio_done_nothing, NULL);
	return aio_end(f, a, r, 0, f->op_calls);
}
ROW("pgc_aio_direct", "fn NULL", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	pgc_aio *a = aio_open(0);
	int calls = (M(f), f->op_calls);
	long r = pgc_aio_direct(a, f->m, PGC_READ, &iov, 1, 0, NULL, NULL);
	return aio_end(f, a, r, 0, calls);
}
ROW("pgc_aio_direct", "iov NULL", -EINVAL)
{
	return adirect(f, PGC_READ, NULL, 1, 0);
}
ROW("pgc_aio_direct", "rw 2 (unknown)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return adirect(f, 2, &iov, 1, 0);
}
ROW("pgc_aio_direct", "rw -1 (unknown)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return adirect(f, -1, &iov, 1, 0);
}
ROW("pgc_aio_direct", "iovcnt 0", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return adirect(f, PGC_READ, &iov, 0, 0);
}
ROW("pgc_aio_direct", "iovcnt -1", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return adirect(f, PGC_READ, &iov, -1, 0);
}
ROW("pgc_aio_direct", "iovcnt IOV_MAX + 1", -EINVAL)
{
	static struct iovec iov[IOV_MAX + 1];
	for (int i = 0; i <= IOV_MAX; i++)
		iov[i] = (struct iovec){ BUF(f), 512 };
	return adirect(f, PGC_WRITE, iov, IOV_MAX + 1, 0);
}
ROW("pgc_aio_direct", "offset 100 (unaligned)", -EINVAL)
{
	struct iovec iov = { BUF(f), 4096 };
	return adirect(f, PGC_WRITE, &iov, 1, 100);
}
ROW("pgc_aio_direct", "length 100 (unaligned)", -EINVAL)
{
	struct iovec iov = { BUF(f), 100 };
	return adirect(f, PGC_WRITE, &iov, 1, 0);
}
ROW("pgc_aio_direct", "address + 1 (unaligned)", -EINVAL)
{
	struct iovec iov = { BUF(f) + 1, 4096 };
	return adirect(f, PGC_WRITE, &iov, 1, 0);
}
ROW("pgc_aio_direct", "second iovec unaligned: nothing at all started", -EINVAL)
{
	struct iovec iov[2] = { { BUF(f), 4096 }, { BUF(f) + 8192 + 8, 4096 } };
	return adirect(f, PGC_WRITE, iov, 2, 0);
}
ROW("pgc_aio_direct", "mapping without direct_IO", -EOPNOTSUPP)
{
	struct iovec iov = { BUF(f), 4096 };
	pgc_aio *a = aio_open(0);
	long r = pgc_aio_direct(a, MNONE(f), PGC_WRITE, &iov, 1, 0, aio_done_nothing, NULL);
	return aio_end(f, a, r, 0, f->op_calls);
}
ROW("pgc_aio_direct", "at the context's depth: nothing started", -EAGAIN)
{
	struct iovec iov = { BUF(f), 4096 };
	pgc_aio *a = aio_full(f);
	int calls = f->op_calls;
	long r = pgc_aio_direct(a, f->m, PGC_WRITE, &iov, 1, 0, aio_done_nothing, NULL);
	return aio_end(f, a, r, 1, calls);
}

/* pgc_aio_sync() on a new context of the defaults. */
static long async_range(struct fx *f, pgc_mapping *m, uint64_t start, uint64_t end,
			pgc_aio_done_fn fn)
{
	pgc_aio *a = aio_open(0);
	int calls = f->op_calls;
	long r = pgc_aio_sync(a, m, start, end, NULL, fn, NULL);
	return aio_end(f, a, r, 0, calls);
}
ROW("pgc_aio_sync", "ctx NULL", -EINVAL)
{
	return pgc_aio_sync(NULL, M(f), 0, UINT64_MAX, NULL, aio_done_nothing, NULL);
}
ROW("pgc_aio_sync", "mapping NULL", -EINVAL)
{
	return async_range(f, NULL, 0, UINT64_MAX, aio_done_nothing);
}
ROW("pgc_aio_sync", "fn NULL", -EINVAL)
{
	return async_range(f, M(f), 0, UINT64_MAX, NULL);
}
ROW("pgc_aio_sync", "start > end", -EINVAL)
{
	return async_range(f, M(f), 10, 0, aio_done_nothing);
}
ROW("pgc_aio_sync", "start UINT64_MAX, end UINT64_MAX - 1", -EINVAL)
{
	return async_range(f, M(f), UINT64_MAX, UINT64_MAX - 1, aio_done_nothing);
}
ROW("pgc_aio_sync", "at the context's depth: nothing started", -EAGAIN)
{
	pgc_aio *a = aio_full(f);
	int calls = f->op_calls;
	long r = pgc_aio_sync(a, f->m, 0, UINT64_MAX, NULL, aio_done_nothing, NULL);
	return aio_end(f, a, r, 1, calls);
}

ROW("pgc_aio_submit", "ctx NULL", -EINVAL)
{
	(void)f;
	return pgc_aio_submit(NULL);
}

ROW("pgc_aio_reap", "ctx NULL", -EINVAL)
{
	(void)f;
	return pgc_aio_reap(NULL, 0, 0);
}
ROW("pgc_aio_reap", "max 1 below min 2: no callback run", -EINVAL)
{
	pgc_aio *a = aio_open(0);
	ck_assert_int_eq(pgc_aio_sync(a, M(f), 0, UINT64_MAX, NULL, aio_done_nothing, NULL), 0);
	long r = pgc_aio_reap(a, 2, 1);
	return aio_end(f, a, r, 1, f->op_calls);
}
ROW("pgc_aio_reap", "min 5 with nothing in flight: returns at once (valid: 0)", 0)
{
	pgc_aio *a = aio_open(0);
	long r = pgc_aio_reap(a, 5, 0);
	return aio_end(f, a, r, 0, f->op_calls);
}

ROW("pgc_aio_inflight", "ctx NULL: 0", 0)
{
	(void)f;
	return (long)pgc_aio_inflight(NULL);
}

/* pgc_aio_stats() on a new context of the defaults, with stats->size n. */
static long astats(struct fx *f, uint32_t n)
{
	struct pgc_aio_stats st;
	pgc_aio *a = aio_open(0);
	memset(&st, 0, sizeof st);
	st.size = n;
	long r = pgc_aio_stats(a, &st);
	return aio_end(f, a, r, 0, f->op_calls);
}
ROW("pgc_aio_stats", "ctx NULL", -EINVAL)
{
	struct pgc_aio_stats st = { .size = sizeof st };
	(void)f;
	return pgc_aio_stats(NULL, &st);
}
ROW("pgc_aio_stats", "stats NULL", -EINVAL)
{
	pgc_aio *a = aio_open(0);
	long r = pgc_aio_stats(a, NULL);
	return aio_end(f, a, r, 0, f->op_calls);
}
ROW("pgc_aio_stats", "stats->size 0", -EINVAL)
{
	return astats(f, 0);
}
ROW("pgc_aio_stats", "stats->size below PGC_AIO_STATS_SIZE_0_2", -EINVAL)
{
	return astats(f, PGC_AIO_STATS_SIZE_0_2 - 8);
}
ROW("pgc_aio_stats", "stats->size 8192 (above 4096)", -E2BIG)
{
	return astats(f, 8192);
}

ROW("pgc_aio_uses_uring", "ctx NULL", -EINVAL)
{
	(void)f;
	return pgc_aio_uses_uring(NULL);
}

/* ======================================================================== */
/* the runner                                                                */
/* ======================================================================== */

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	return (x->order > y->order) - (x->order < y->order);
}

static void describe(char *out, size_t n, long v)
{
	if (v == R_OUT_NOT_NULL)
		snprintf(out, n, "an error, but the out pointer was not set to NULL");
	else if (v == R_CALLED_OP)
		snprintf(out, n, "refused, but something changed (an op ran or state moved)");
	else if (v >= R_STATUS_BASE && v < R_STATUS_BASE + 0x1000000)
		snprintf(out, n, "wrong per-page status %ld (%s)", v - R_STATUS_BASE - 4096,
			 pgc_strerror((int)(v - R_STATUS_BASE - 4096)));
	else if (v < 0 && v >= -4095)
		snprintf(out, n, "%ld (%s)", v, pgc_strerror((int)v));
	else
		snprintf(out, n, "%ld", v);
}

START_TEST(bad_input)
{
	const struct row *r = rows[_i];
	struct fx f;
	char want[128], got[128];
	long res;

	memset(&f, 0, sizeof f);
	if (r->kind == K_CRASH ||
	    ((r->kind == K_SAN || r->kind == K_BUG_SAN) && pgc_test_sanitized())) {
		/* Dies today: run the body in a child that must die. */
		fflush(NULL);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			r->run(&f);
			_exit(0);
		}
		int st;
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(!(WIFEXITED(st) && WEXITSTATUS(st) == 0),
			      "row %d %s(%s) no longer dies%s: the bug \"%s\" is fixed; update the row",
			      _i, r->fn, r->what, r->kind == K_CRASH ? "" : " under the sanitizers",
			      r->bug);
		return;
	}
	res = r->run(&f);
	describe(got, sizeof got, res);
	if (r->kind == K_BUG || r->kind == K_BUG_SAN) {
		describe(want, sizeof want, r->expected);
		ck_assert_msg(res == r->actual,
			      "row %d %s(%s): known bug changed: now %s (documented %s); if fixed, "
			      "make it a ROW",
			      _i, r->fn, r->what, got, want);
	} else {
		describe(want, sizeof want, r->expected);
		ck_assert_msg(res == r->expected, "row %d (test_badinput.c:%d) %s(%s): got %s, %s %s",
			      _i, r->line, r->fn, r->what, got,
			      r->kind == K_UNDOC ? "conventions say" : "documented", want);
	}
	fx_fini(&f);
}
END_TEST

static int in_rows(const char *fn)
{
	for (int i = 0; i < nr_rows; i++)
		if (strcmp(rows[i]->fn, fn) == 0)
			return 1;
	return 0;
}

static int in_no_bad_input(const char *fn)
{
	for (size_t i = 0; i < sizeof no_bad_input / sizeof no_bad_input[0]; i++)
		if (strcmp(no_bad_input[i].fn, fn) == 0)
			return 1;
	return 0;
}

/* The names in the version script: ../lib/pgcache.map from this file. */
static int load_exports(char names[][64], int max)
{
	char path[4096], line[256];
	const char *slash = strrchr(__FILE__, '/');
	int n = 0;
	snprintf(path, sizeof path, "%.*s/../lib/pgcache.map", slash ? (int)(slash - __FILE__) : 1,
		 slash ? __FILE__ : ".");
	FILE *fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s: %s", path, strerror(errno));
	while (n < max && fgets(line, sizeof line, fp))
		if (sscanf(line, " %63[a-z0-9_];", names[n]) == 1 && strncmp(names[n], "pgc_", 4) == 0)
			n++;
	fclose(fp);
	return n;
}

START_TEST(every_export_covered)
{
	static char names[512][64];
	char missing[4096] = "";
	int n = load_exports(names, 512), nmissing = 0;

	ck_assert_int_ge(n, 100);
	for (int i = 0; i < n; i++) {
		ck_assert_msg(!(in_rows(names[i]) && in_no_bad_input(names[i])),
			      "%s is both in rows and in no_bad_input[]", names[i]);
		if (!in_rows(names[i]) && !in_no_bad_input(names[i])) {
			nmissing++;
			strncat(missing, " ", sizeof missing - strlen(missing) - 1);
			strncat(missing, names[i], sizeof missing - strlen(missing) - 1);
		}
	}
	ck_assert_msg(nmissing == 0, "%d exported functions in no row:%s", nmissing, missing);
	/* And every row names an exported function (no typo). */
	for (int i = 0; i < nr_rows; i++) {
		int found = 0;
		for (int j = 0; j < n && !found; j++)
			found = strcmp(names[j], rows[i]->fn) == 0;
		ck_assert_msg(found, "row %d names %s, which is not exported", i, rows[i]->fn);
	}
	printf("badinput: %d exported functions, each in a row or in no_bad_input[]\n", n);
}
END_TEST

static void print_summary(void)
{
	int kinds[6] = { 0 }, nfn = 0;
	for (int i = 0; i < nr_rows; i++) {
		kinds[rows[i]->kind]++;
		int first = 1;
		for (int j = 0; j < i; j++)
			if (strcmp(rows[j]->fn, rows[i]->fn) == 0)
				first = 0;
		nfn += first;
	}
	printf("badinput: %d rows over %d functions (%d documented, %d undocumented input, "
	       "%d known bugs, %d known crashes, %d dying under sanitizers); "
	       "%zu functions without bad input\n",
	       nr_rows, nfn, kinds[K_DOC], kinds[K_UNDOC], kinds[K_BUG] + kinds[K_BUG_SAN],
	       kinds[K_CRASH], kinds[K_SAN] + kinds[K_BUG_SAN],
	       sizeof no_bad_input / sizeof no_bad_input[0]);
	for (int i = 0; i < nr_rows; i++)
		if (rows[i]->kind != K_DOC && rows[i]->kind != K_UNDOC)
			printf("  known bug, row %d: %s(%s): %s\n", i, rows[i]->fn, rows[i]->what,
			       rows[i]->bug);
	fflush(stdout);
}

static Suite *badinput_suite(void)
{
	Suite *s = suite_create("badinput");
	TCase *tc = tcase_create("bad_input");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, bad_input, 0, nr_rows);
	suite_add_tcase(s, tc);
	PGC_ADD(s, every_export_covered, 30);
	return s;
}

int main(int argc, char **argv)
{
	qsort(rows, (size_t)nr_rows, sizeof rows[0], row_cmp);
	print_summary();
	return pgc_test_main(argc, argv, badinput_suite());
}
