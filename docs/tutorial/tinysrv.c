/*
 * tinysrv: the small block server that docs/tutorial.md builds step by step.
 * The tutorial shows this file in pieces (the //! [name] markers delimit
 * them); ctest compiles it and runs its self-test (docs/CMakeLists.txt).
 *
 * The server caches one object through libpgcache and answers requests of
 * one line each, from standard input or from its built-in self-test:
 *
 *   w OFFSET TEXT    write TEXT (no spaces) at OFFSET -> "ok BYTES"
 *   r OFFSET LEN     read LEN bytes at OFFSET         -> "data TEXT"
 *   f                flush: write back, report errors -> "ok 0"
 *   t SIZE           truncate the object to SIZE      -> "ok 0"
 *   m NODE FIRST N   move pages FIRST..FIRST+N-1 to NODE (move_pages)
 *                                                     -> "moved K of N"
 *   c FIRST N        copy pages FIRST..FIRST+N-1 to new frames on their
 *                    own node (pgc_migrate_pages)     -> "copied K of N"
 *   s                statistics                       -> "pages P dirty D"
 *
 * A failed request answers "err " and the library's name of the error.
 *
 * Usage: tinysrv FILE           serve FILE through the O_DIRECT file store
 *        tinysrv -m PAGES       serve a store in memory of PAGES pages
 *        tinysrv --self-test DIR  run the self-test with files in DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//! [include]
#include <pgcache/pgcache.h>
//! [include]

/* ---- Step 1: the server and its cache ---------------------------------- */

//! [server]
struct memstore; /* step 6 */

struct server {
	pgc_cache *cache;
	pgc_mapping *mapping;   /* the object the server caches */
	pgc_store *store;       /* the O_DIRECT file store (step 2), or NULL */
	struct memstore *mem;   /* the store in memory (step 6), or NULL */
	pgc_errseq_t wb_err;    /* the server's sample of the write errors (step 5) */
};
//! [server]

//! [log]
/* The library never prints: it hands its diagnostics to this callback. */
static void server_log(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "tinysrv: pgcache[%d]: %s\n", level, msg);
}
//! [log]

//! [open cache]
static int server_open_cache(struct server *srv, uint64_t capacity_pages)
{
	struct pgc_cache_config cfg;

	pgc_cache_config_init(&cfg); /* OS page size, every allowed node */
	cfg.capacity_pages = capacity_pages;
	cfg.log = server_log;
	cfg.log_level = PGC_LOG_WARN;
	return pgc_cache_create(&cfg, &srv->cache);
}
//! [open cache]

/* ---- Step 2: a mapping over a file with the O_DIRECT store ------------- */

//! [open file]
static int server_open_file(struct server *srv, const char *path)
{
	int err = pgc_store_open(path, O_RDWR | O_CREAT, 0644, &srv->store);

	if (err)
		return err;
	/* The store's operations, the store as owner, the file's size. */
	err = pgc_store_mapping_create(srv->cache, srv->store, &srv->mapping);
	if (err) {
		pgc_store_close(srv->store);
		srv->store = NULL;
		return err;
	}
	srv->wb_err = pgc_mapping_sample_error(srv->mapping);
	return 0;
}
//! [open file]

/* ---- Step 3: reads and writes ------------------------------------------ */

//! [read write]
static ssize_t server_write(struct server *srv, uint64_t off, const void *buf, size_t len)
{
	/* Copied into the cache and dirty at once; the store sees it later. */
	return pgc_write(srv->mapping, buf, len, off, 0);
}

static ssize_t server_read(struct server *srv, uint64_t off, void *buf, size_t len)
{
	/* Short only at the object's size; a miss reads through the store. */
	return pgc_read(srv->mapping, buf, len, off);
}
//! [read write]

/* ---- Step 4: flush ----------------------------------------------------- */

//! [flush]
static int server_flush(struct server *srv)
{
	/* Write back every dirty page, wait, and make it durable (the
	 * store's sync operation: fdatasync); report a write error that
	 * happened since the last flush, even one of reclaim's writebacks. */
	return pgc_sync_range(srv->mapping, 0, UINT64_MAX, &srv->wb_err);
}
//! [flush]

/* ---- Step 6: a store of your own --------------------------------------- */

//! [memstore]
/* A store in memory with room for a fixed number of pages. */
struct memstore {
	size_t page_size;
	uint64_t nr_pages;
	unsigned char *data;
};

static int mem_readpage(pgc_mapping *m, pgc_page *page)
{
	struct memstore *ms = pgc_mapping_owner(m);
	uint64_t index = pgc_page_index(page);

	/* Called with the page locked; the library sets UPTODATE on 0. */
	if (index >= ms->nr_pages)
		memset(pgc_page_data(page), 0, ms->page_size);
	else
		memcpy(pgc_page_data(page), ms->data + index * ms->page_size, ms->page_size);
	return 0;
}

static int mem_writepage(pgc_mapping *m, pgc_page *page, struct pgc_writeback_control *wbc)
{
	struct memstore *ms = pgc_mapping_owner(m);
	uint64_t index = pgc_page_index(page);

	(void)wbc;
	/* Called with the page locked, DIRTY cleared and WRITEBACK set. On an
	 * error the library makes the page dirty again: nothing is lost. */
	if (index >= ms->nr_pages)
		return -ENOSPC;
	memcpy(ms->data + index * ms->page_size, pgc_page_data(page), ms->page_size);
	return 0;
}

static const struct pgc_mapping_ops mem_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = mem_readpage,
	.writepage = mem_writepage,
	/* Plain data: pages move between frames dirty or not. */
	.migratepage = pgc_migrate_page,
};

static int server_open_memory(struct server *srv, uint64_t nr_pages)
{
	struct memstore *ms = calloc(1, sizeof(*ms));

	if (!ms)
		return -ENOMEM;
	ms->page_size = pgc_cache_page_size(srv->cache);
	ms->nr_pages = nr_pages;
	ms->data = calloc(nr_pages, ms->page_size);
	if (!ms->data) {
		free(ms);
		return -ENOMEM;
	}
	int err = pgc_mapping_create(srv->cache, &mem_ops, ms, 0, &srv->mapping);
	if (err) {
		free(ms->data);
		free(ms);
		return err;
	}
	srv->mem = ms;
	srv->wb_err = pgc_mapping_sample_error(srv->mapping);
	return 0;
}
//! [memstore]

/* ---- Step 7: moving pages between nodes -------------------------------- */

#define MOVE_MAX 64u

/* Takes a reference on each cached page of [first, first + n); returns how many. */
static unsigned hold_pages(struct server *srv, uint64_t first, unsigned n, pgc_page **pages)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		if (pgc_mapping_find(srv->mapping, first + i, &pages[k]) == 0)
			k++;
	return k;
}

//! [move]
static long server_move(struct server *srv, int node, uint64_t first, unsigned n)
{
	pgc_page *pages[MOVE_MAX];
	int nodes[MOVE_MAX], status[MOVE_MAX];
	unsigned k = hold_pages(srv, first, n, pages);
	long moved = 0;

	for (unsigned i = 0; i < k; i++)
		nodes[i] = node;
	/* By copy: idle pages get a frame on the node. A page moved is
	 * replaced in pages[] by its new page, with our reference. */
	long err = pgc_move_pages(srv->cache, k, pages, nodes, status, 0);
	for (unsigned i = 0; i < k; i++) {
		if (status[i] == node)
			moved++; /* or was there already */
		pgc_page_put(pages[i]);
	}
	return err < 0 ? err : moved;
}
//! [move]

//! [copy]
/* Gives the engine a frame on the node of the page being moved. */
static pgc_page *frame_on_same_node(pgc_page *page, void *arg)
{
	pgc_page *newpage;

	(void)arg;
	if (pgc_page_alloc(pgc_page_cache(page), pgc_page_node(page), PGC_ALLOC_STRICT, &newpage))
		return NULL;
	return newpage;
}

static long server_copy(struct server *srv, uint64_t first, unsigned n)
{
	pgc_page *pages[MOVE_MAX];
	int status[MOVE_MAX];
	unsigned k = hold_pages(srv, first, n, pages);

	if (k == 0)
		return 0;
	long failed = pgc_migrate_pages(pages, k, frame_on_same_node, NULL, PGC_MIGRATE_SYNC,
					PGC_MR_MEMPOLICY, status, NULL);
	for (unsigned i = 0; i < k; i++)
		pgc_page_put(pages[i]); /* the new page where status[i] is 0 */
	return failed < 0 ? failed : (long)k - failed;
}
//! [copy]

/* ---- Step 5: closing, and what to do with errors ----------------------- */

//! [close]
static int server_close(struct server *srv)
{
	int err = srv->mapping ? server_flush(srv) : 0;
	int derr = pgc_mapping_destroy(srv->mapping);

	if (derr == -EBUSY) {
		/* Dirty pages the store refused: drop them, knowingly. */
		fprintf(stderr, "tinysrv: dropping unwritten data: %s\n", pgc_strerror(err));
		pgc_mapping_truncate(srv->mapping, 0);
		derr = pgc_mapping_destroy(srv->mapping);
	}
	if (!err)
		err = derr;
	srv->mapping = NULL;
	if (srv->store) {
		int cerr = pgc_store_close(srv->store);
		if (!err)
			err = cerr;
		srv->store = NULL;
	}
	if (srv->mem) {
		free(srv->mem->data);
		free(srv->mem);
		srv->mem = NULL;
	}
	int xerr = pgc_cache_destroy(srv->cache);
	srv->cache = NULL;
	return err ? err : xerr;
}
//! [close]

/* ---- The request loop --------------------------------------------------- */

//! [serve]
/* Answers one request line into reply (size len). */
static void serve(struct server *srv, const char *req, char *reply, size_t len)
{
	char text[256];
	uint64_t a = 0, b = 0;
	int node = 0;
	long r;

	if (sscanf(req, "w %" SCNu64 " %255s", &a, text) == 2)
		r = server_write(srv, a, text, strlen(text));
	else if (sscanf(req, "r %" SCNu64 " %" SCNu64, &a, &b) == 2 && b < sizeof(text)) {
		r = server_read(srv, a, text, (size_t)b);
		if (r >= 0) {
			snprintf(reply, len, "data %.*s", (int)r, text);
			return;
		}
	} else if (req[0] == 'f')
		r = server_flush(srv);
	else if (sscanf(req, "t %" SCNu64, &a) == 1)
		r = pgc_mapping_truncate(srv->mapping, a);
	else if (sscanf(req, "m %d %" SCNu64 " %" SCNu64, &node, &a, &b) == 3 && b <= MOVE_MAX) {
		r = server_move(srv, node, a, (unsigned)b);
		if (r >= 0) {
			snprintf(reply, len, "moved %ld of %" PRIu64, r, b);
			return;
		}
	} else if (sscanf(req, "c %" SCNu64 " %" SCNu64, &a, &b) == 2 && b <= MOVE_MAX) {
		r = server_copy(srv, a, (unsigned)b);
		if (r >= 0) {
			snprintf(reply, len, "copied %ld of %" PRIu64, r, b);
			return;
		}
	} else if (req[0] == 's') {
		snprintf(reply, len, "pages %" PRIu64 " dirty %" PRIu64,
			 pgc_mapping_nr_pages(srv->mapping), pgc_mapping_nr_dirty(srv->mapping));
		return;
	} else
		r = -EINVAL;

	/* Every call returns 0 (or a count) or a negative errno. */
	if (r < 0)
		snprintf(reply, len, "err %s", pgc_strerror((int)r));
	else
		snprintf(reply, len, "ok %ld", r);
}
//! [serve]

/* ---- The self-test run by ctest ---------------------------------------- */

struct exchange {
	const char *req, *want;
};

/* Sends each request and compares the reply; returns the mismatches. */
static int run(struct server *srv, const struct exchange *x, size_t n)
{
	char reply[512];
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		serve(srv, x[i].req, reply, sizeof(reply));
		if (strcmp(reply, x[i].want) != 0) {
			fprintf(stderr, "tinysrv: \"%s\" -> \"%s\", want \"%s\"\n", x[i].req, reply,
				x[i].want);
			bad++;
		}
	}
	return bad;
}

static int check(int err, const char *what)
{
	if (err)
		fprintf(stderr, "tinysrv: %s: %s\n", what, pgc_strerror(err));
	return err != 0;
}

/* The file must hold what was flushed: read it back without the library. */
static int file_holds(const char *path, uint64_t off, const char *want)
{
	char got[64] = "";
	size_t n = strlen(want);
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, got, n, (off_t)off) != (ssize_t)n || memcmp(got, want, n)) {
		fprintf(stderr, "tinysrv: %s does not hold \"%s\" at %" PRIu64 "\n", path, want, off);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/* Formats a request into one of a few rotating buffers. */
static const char *request(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *request(const char *fmt, ...)
{
	static char bufs[8][64];
	static unsigned next;
	char *b = bufs[next++ % 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(bufs[0]), fmt, ap);
	va_end(ap);
	return b;
}

static int self_test(const char *dir)
{
	struct server srv = {0};
	char path[4096];
	int bad = 0, nodes[64];

	snprintf(path, sizeof(path), "%s/tinysrv.dat", dir);
	unlink(path);

	/* Steps 1 to 4: a file through the O_DIRECT store. */
	if (check(server_open_cache(&srv, 256), "cache"))
		return 1;
	int err = server_open_file(&srv, path);
	if (err == -EINVAL) {
		fprintf(stderr, "tinysrv: %s refuses O_DIRECT: skipped\n", dir);
		pgc_cache_destroy(srv.cache);
		return 77;
	}
	if (check(err, path))
		return 1;
	uint64_t ps = pgc_cache_page_size(srv.cache);
	const struct exchange file_steps[] = {
		{"w 0 hello", "ok 5"},
		{request("w %" PRIu64 " world", 2 * ps + 100), "ok 5"},
		{"r 0 5", "data hello"},
		{request("r %" PRIu64 " 10", 2 * ps + 100), "data world"}, /* short: the size ends there */
		{"s", "pages 2 dirty 2"},
		{"f", "ok 0"},
		{"s", "pages 2 dirty 0"},
	};
	bad += run(&srv, file_steps, sizeof(file_steps) / sizeof(file_steps[0]));
	bad += file_holds(path, 0, "hello") + file_holds(path, 2 * ps + 100, "world");
	bad += check(server_close(&srv), "close");

	/* Again, from the file this time: misses read through readpage. */
	if (check(server_open_cache(&srv, 256), "cache") || check(server_open_file(&srv, path), path))
		return 1;
	const struct exchange reopen_steps[] = {
		{request("r %" PRIu64 " 5", 2 * ps + 100), "data world"},
		{"r 0 5", "data hello"},
	};
	bad += run(&srv, reopen_steps, sizeof(reopen_steps) / sizeof(reopen_steps[0]));
	bad += check(server_close(&srv), "close");
	unlink(path);

	/* Steps 5 and 6: a store in memory of 16 pages that refuses the rest. */
	if (check(server_open_cache(&srv, 256), "cache") || check(server_open_memory(&srv, 16), "memory"))
		return 1;
	const struct exchange error_steps[] = {
		{"w 0 first", "ok 5"},
		{request("w %" PRIu64 " overflow", 16 * ps), "ok 8"}, /* cached: the store is not asked yet */
		{"f", "err no space left on the store"},
		{"s", "pages 2 dirty 1"},     /* the refused page stays dirty */
		{"f", "err no space left on the store"},
		{request("t %" PRIu64, 16 * ps), "ok 0"}, /* give up the bytes beyond the store */
		{"f", "ok 0"},                /* the error was reported once */
		{"s", "pages 1 dirty 0"},
	};
	bad += run(&srv, error_steps, sizeof(error_steps) / sizeof(error_steps[0]));

	/* Step 7: moves. The target is the cache's last node; on a machine
	 * with one node the pages are there already. */
	int nr = pgc_cache_nodes(srv.cache, nodes, 64);
	int target = nodes[(nr > 64 ? 64 : nr) - 1];
	const struct exchange move_steps[] = {
		{request("w %" PRIu64 " one", 1 * ps), "ok 3"},
		{request("w %" PRIu64 " two", 2 * ps), "ok 3"},
		{request("w %" PRIu64 " three", 3 * ps), "ok 5"},
		{request("m %d 0 4", target), "moved 4 of 4"},
		{"c 0 4", "copied 4 of 4"},   /* new frames: real copies, dirty pages too */
		{"r 0 5", "data first"},
		{request("r %" PRIu64 " 5", 3 * ps), "data three"},
		{"s", "pages 4 dirty 3"},
		{"f", "ok 0"},
	};
	bad += run(&srv, move_steps, sizeof(move_steps) / sizeof(move_steps[0]));
	bad += check(server_close(&srv), "close");

	if (bad)
		fprintf(stderr, "tinysrv: self-test: %d failure(s)\n", bad);
	else
		printf("tinysrv: self-test passed (%d node(s), target node %d)\n", nr, target);
	return bad ? 1 : 0;
}

//! [main]
int main(int argc, char **argv)
{
	struct server srv = {0};
	char line[512], reply[512];
	int err;

	if (argc == 3 && strcmp(argv[1], "--self-test") == 0)
		return self_test(argv[2]);
	if (argc < 2 || (strcmp(argv[1], "-m") == 0 && argc < 3)) {
		fprintf(stderr, "usage: tinysrv FILE | tinysrv -m PAGES | tinysrv --self-test DIR\n");
		return 2;
	}
	err = server_open_cache(&srv, 16384); /* 64 MiB of 4 KiB pages */
	if (!err)
		err = strcmp(argv[1], "-m") == 0 ? server_open_memory(&srv, strtoull(argv[2], NULL, 0))
						 : server_open_file(&srv, argv[1]);
	if (err) {
		fprintf(stderr, "tinysrv: %s: %s\n", argv[1], pgc_strerror(err));
		if (srv.cache)
			pgc_cache_destroy(srv.cache);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		serve(&srv, line, reply, sizeof(reply));
		printf("%s\n", reply);
		fflush(stdout);
	}
	err = server_close(&srv);
	if (err)
		fprintf(stderr, "tinysrv: close: %s\n", pgc_strerror(err));
	return err ? 1 : 0;
}
//! [main]
