/*
 * Suite "fork": what a child of fork(2) may do with the caches and
 * mappings it inherited (cache.h, "fork"), and that fork is safe while
 * other threads are busy in the library. Before the library's fork
 * handlers, a child that destroyed a mapping hung for ever in liburcu.
 *
 * A hung child must fail the test, not block the run: its parent waits for
 * it with a deadline and then kills it with SIGKILL (alarm() alone is not
 * enough: liburcu-bp blocks every signal while it waits for a grace
 * period, which is where a child hung before the fork handlers). Children
 * check with CHILD_CHECK (no Check assertions in a grandchild of the
 * runner) and end with _exit() or exit() as the test says.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pgc_test.h"
#include "pgc_memstore.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <pgcache/io.h>
#include <pgcache/store.h>

#define CHILD_CHECK(c)                                                                   \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "child %d: %s:%d: check failed: %s\n", (int)getpid(), \
				__FILE__, __LINE__, #c);                                  \
			_exit(1);                                                         \
		}                                                                         \
	} while (0)

/* Seconds a child may take before it counts as hung. */
static unsigned child_alarm(void)
{
	return pgc_test_sanitized() ? 120 : 20;
}

/*
 * Waits for a child until the deadline, then kills it. Returns its wait
 * status, or -1 if it had to be killed (it hung).
 */
static int wait_child(pid_t pid, unsigned secs)
{
	double deadline = pgc_test_now() + secs;
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -2;
		if (pgc_test_now() > deadline) {
			/* Where it hangs, for the log, if gdb is there. */
			char cmd[160];
			snprintf(cmd, sizeof(cmd),
				 "timeout 60 gdb -p %d -batch -ex 'thread apply all bt' 1>&2 "
				 "2>/dev/null </dev/null",
				 (int)pid);
			fprintf(stderr, "child %d hung: its threads' stacks follow\n", (int)pid);
			if (system(cmd) != 0)
				fprintf(stderr, "(no stacks: gdb missing or failed)\n");
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		pgc_test_sleep_ms(2);
	}
}

/* Waits for a child and fails the test unless it exited with 0. */
static void expect_child_ok(pid_t pid, const char *what)
{
	int status = wait_child(pid, child_alarm());
	ck_assert_msg(status != -1, "%s: child %d hung (killed after %u s)", what, (int)pid,
		      child_alarm());
	ck_assert_msg(status >= 0, "%s: waitpid failed", what);
	if (WIFSIGNALED(status))
		ck_abort_msg("%s: child killed by signal %d%s", what, WTERMSIG(status),
			     WTERMSIG(status) == SIGALRM ? " (it hung)" : "");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child exit status %d",
		      what, WEXITSTATUS(status));
}

/* ---- A store in memory ------------------------------------------------- */

#define MEM_PAGES 256

static const struct pgc_mapping_ops mem_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = memstore_readpage,
	.writepage = memstore_writepage,
	.direct_IO = memstore_direct_IO,
	.resize = memstore_resize,
};

struct world {
	pgc_cache *cache;
	struct memstore ms;
	pgc_mapping *m;      /* over ms */
	char path[64];
	pgc_store *st;
	pgc_mapping *fm;     /* over the file store */
	size_t ps;
};

static unsigned char pattern(uint64_t off, unsigned gen)
{
	return (unsigned char)(off * 31 + off / 4096 * 7 + gen * 101 + 5);
}

static void fill(unsigned char *buf, size_t len, uint64_t off, unsigned gen)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(off + i, gen);
}

static bool matches(const unsigned char *buf, size_t len, uint64_t off, unsigned gen)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(off + i, gen))
			return false;
	return true;
}

/*
 * A cache of @p capacity pages with two mappings: one over a store in
 * memory holding @p pages pages of generation 1 (the first half synced,
 * the rest dirty) and one over a file with a few dirty pages.
 */
static void world_init(struct world *w, uint64_t capacity, uint64_t pages)
{
	memset(w, 0, sizeof(*w));
	w->cache = pgc_test_cache(capacity, 0);
	w->ps = pgc_cache_page_size(w->cache);
	w->ms.ps = w->ps;
	w->ms.cap = MEM_PAGES * w->ps;
	w->ms.data = calloc(1, w->ms.cap);
	ck_assert_ptr_nonnull(w->ms.data);
	ck_assert_int_eq(pgc_mapping_create(w->cache, &mem_ops, &w->ms, 0, &w->m), 0);
	/* In pieces of 8 pages: a write's pages are committed (and so can be
	 * written back by reclaim) only at its end. */
	unsigned char *buf = malloc(8 * w->ps);
	for (uint64_t i = 0; i < pages; i += 8) {
		size_t n = (pages - i < 8 ? pages - i : 8) * w->ps;
		fill(buf, n, i * w->ps, 1);
		ck_assert_int_eq(pgc_write(w->m, buf, n, i * w->ps, 0), (ssize_t)n);
		if (i + 8 == pages / 2 / 8 * 8)
			ck_assert_int_eq(pgc_sync_range(w->m, 0, UINT64_MAX, NULL), 0);
	}
	free(buf);

	snprintf(w->path, sizeof(w->path), "/var/tmp/pgc-fork-XXXXXX");
	int fd = mkstemp(w->path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(pgc_store_open(w->path, O_RDWR | O_TRUNC, 0600, &w->st), 0);
	ck_assert_int_eq(pgc_store_mapping_create(w->cache, w->st, &w->fm), 0);
	unsigned char *fb = malloc(4 * w->ps);
	fill(fb, 4 * w->ps, 0, 2);
	ck_assert_int_eq(pgc_write(w->fm, fb, 4 * w->ps, 0, 0), (ssize_t)(4 * w->ps));
	free(fb);
}

/* The parent's objects still work after its children: check, sync, destroy. */
static void world_check_and_fini(struct world *w, uint64_t pages)
{
	size_t len = pages * w->ps;
	unsigned char *buf = malloc(len);
	ck_assert_int_eq(pgc_read(w->m, buf, len, 0), (ssize_t)len);
	ck_assert(matches(buf, len, 0, 1));
	ck_assert_int_eq(pgc_sync_range(w->m, 0, UINT64_MAX, NULL), 0);
	ck_assert(matches(w->ms.data, len, 0, 1));
	ck_assert_int_eq(pgc_read(w->fm, buf, 4 * w->ps, 0), (ssize_t)(4 * w->ps));
	ck_assert(matches(buf, 4 * w->ps, 0, 2));
	ck_assert_int_eq(pgc_sync_range(w->fm, 0, UINT64_MAX, NULL), 0);
	free(buf);
	ck_assert_int_eq(pgc_mapping_destroy(w->m), 0);
	ck_assert_int_eq(pgc_mapping_destroy(w->fm), 0);
	ck_assert_int_eq(pgc_store_close(w->st), 0);
	ck_assert_int_eq(pgc_cache_destroy(w->cache), 0);
	unlink(w->path);
	free(w->ms.data);
}

/*
 * ThreadSanitizer does not follow a child of a multi-threaded process: with
 * die_after_fork=0 it stops checking there, and its thread registry still
 * holds the parent's threads, so a thread the child makes on the stack of
 * one of them dies with "dup thread with used id" (GCC 12's libtsan, seen
 * with the child's writeback thread and its readahead filler). Under it, the
 * children make no threads beyond liburcu's worker; the other builds run
 * them.
 */
static bool under_tsan(void)
{
#if defined(__SANITIZE_THREAD__)
	return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return true;
#endif
#endif
	return false;
}

/*
 * In a child: a cache of its own, used the way that needs liburcu's grace
 * periods and its call_rcu worker (writes that grow the index, truncate
 * that frees its nodes, reclaim, destroy's rcu_barrier).
 */
static void child_fresh_cache(unsigned flags)
{
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 32;
	cfg.flags = flags;
	pgc_cache *c = NULL;
	CHILD_CHECK(pgc_cache_create(&cfg, &c) == 0);
	size_t ps = pgc_cache_page_size(c);
	struct memstore ms = {.ps = ps, .cap = 128 * ps};
	ms.data = calloc(1, ms.cap);
	CHILD_CHECK(ms.data);
	pgc_mapping *m = NULL;
	CHILD_CHECK(pgc_mapping_create(c, &mem_ops, &ms, 0, &m) == 0);
	/* A sequential read queues readahead on the cache's filler thread:
	 * not under ThreadSanitizer (under_tsan()). */
	if (under_tsan())
		CHILD_CHECK(pgc_mapping_set_readahead(m, 0) == 0);
	unsigned char *buf = malloc(128 * ps);
	CHILD_CHECK(buf);
	for (unsigned round = 0; round < 3; round++) {
		fill(buf, 128 * ps, 0, 10 + round);
		for (size_t off = 0; off < 128 * ps; off += 8 * ps)
			CHILD_CHECK(pgc_write(m, buf + off, 8 * ps, off, 0) == (ssize_t)(8 * ps));
		CHILD_CHECK(pgc_sync_range(m, 0, UINT64_MAX, NULL) == 0);
		memset(buf, 0, 128 * ps);
		CHILD_CHECK(pgc_read(m, buf, 128 * ps, 0) == (ssize_t)(128 * ps));
		CHILD_CHECK(matches(buf, 128 * ps, 0, 10 + round));
		CHILD_CHECK(pgc_mapping_truncate(m, 0) == 0);
	}
	free(buf);
	CHILD_CHECK(pgc_mapping_destroy(m) == 0);
	CHILD_CHECK(pgc_cache_destroy(c) == 0);
	free(ms.data);
}

/* In a child: destroys every inherited object, then makes a cache of its
 * own, with @p flags (#PGC_CACHE_WRITEBACK_THREAD, say). */
static void child_destroy_all_flags(struct world *w, unsigned flags)
{
	CHILD_CHECK(pgc_mapping_destroy(w->m) == 0);
	CHILD_CHECK(pgc_mapping_destroy(w->fm) == 0);
	CHILD_CHECK(pgc_store_close(w->st) == 0);
	CHILD_CHECK(pgc_cache_destroy(w->cache) == 0);
	child_fresh_cache(flags);
}

static void child_destroy_all(struct world *w)
{
	child_destroy_all_flags(w, 0);
}

/* ---- Tests ------------------------------------------------------------- */

/* A child that exits at once, through exit() (atexit handlers and
 * liburcu's destructors run) and through _exit(). */
START_TEST(fork_child_exits)
{
	struct world w;
	world_init(&w, 64, 40);
	for (int how = 0; how < 2; how++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			alarm(child_alarm());
			if (how == 0)
				exit(0);
			_exit(0);
		}
		expect_child_ok(pid, how == 0 ? "exit" : "_exit");
	}
	world_check_and_fini(&w, 40);
}
END_TEST

/* A child destroys its copies (dirty pages included), then uses a new
 * cache of its own; the parent's objects are untouched. */
START_TEST(fork_child_destroys_copies)
{
	struct world w;
	world_init(&w, 64, 40);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(child_alarm());
		/* Dirty pages: in the child they are the parent's to write,
		 * and destroy drops them. */
		CHILD_CHECK(pgc_mapping_nr_dirty(w.m) > 0 && pgc_mapping_nr_dirty(w.fm) > 0);
		child_destroy_all(&w);
		exit(0);
	}
	expect_child_ok(pid, "destroy");
	world_check_and_fini(&w, 40);
}
END_TEST

/*
 * Forked from a single-threaded parent, so no other thread was inside the
 * library: the child may go on using its copies. Its writes go to its copy
 * of the store in memory, never to the parent's.
 */
START_TEST(fork_child_uses_copies)
{
	struct world w;
	world_init(&w, 64, 40);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(child_alarm());
		size_t len = 40 * w.ps;
		unsigned char *buf = malloc(len);
		CHILD_CHECK(buf);
		/* The cache is smaller than the data: reads miss and reclaim. */
		CHILD_CHECK(pgc_read(w.m, buf, len, 0) == (ssize_t)len);
		CHILD_CHECK(matches(buf, len, 0, 1));
		fill(buf, len, 0, 3);
		for (size_t off = 0; off < len; off += 8 * w.ps)
			CHILD_CHECK(pgc_write(w.m, buf + off, 8 * w.ps, off, 0) == (ssize_t)(8 * w.ps));
		CHILD_CHECK(pgc_sync_range(w.m, 0, UINT64_MAX, NULL) == 0);
		CHILD_CHECK(matches(w.ms.data, len, 0, 3));
		CHILD_CHECK(pgc_mapping_truncate(w.m, 10 * w.ps) == 0);
		memset(buf, 0, len);
		CHILD_CHECK(pgc_read(w.m, buf, len, 0) == (ssize_t)(10 * w.ps));
		CHILD_CHECK(matches(buf, 10 * w.ps, 0, 3));
		pgc_mapping *m2 = NULL;
		CHILD_CHECK(pgc_mapping_create(w.cache, &mem_ops, &w.ms, 0, &m2) == 0);
		CHILD_CHECK(pgc_write(m2, buf, w.ps, 0, 0) == (ssize_t)w.ps);
		CHILD_CHECK(pgc_sync_range(m2, 0, UINT64_MAX, NULL) == 0);
		CHILD_CHECK(pgc_mapping_destroy(m2) == 0);
		free(buf);
		child_destroy_all(&w);
		_exit(0);
	}
	expect_child_ok(pid, "use");
	/* The child's writes and truncate changed its copy only. */
	world_check_and_fini(&w, 40);
}
END_TEST

struct busy {
	struct world *w;
	pgc_mapping *m;
	uint64_t pages;
	atomic_bool stop;
	atomic_ulong reads;
	struct pgc_tfail fail;
};

/* Random one-page reads over a mapping larger than the cache: hits, misses,
 * reclaim (index nodes it empties freed through call_rcu) and frames reused
 * at once, all the time. */
static void *busy_reader(void *arg)
{
	struct busy *b = arg;
	struct pgc_rng rng = {.s = pgc_test_seed_for("fork busy") ^ (uintptr_t)&rng};
	size_t ps = b->w->ps;
	unsigned char *buf = malloc(ps);
	while (!atomic_load(&b->stop)) {
		uint64_t idx = pgc_rng_below(&rng, b->pages);
		ssize_t n = pgc_read(b->m, buf, ps, idx * ps);
		if (!TCHECK(&b->fail, n == (ssize_t)ps, "read of page %" PRIu64 ": %zd", idx, n) ||
		    !TCHECK(&b->fail, matches(buf, ps, idx * ps, 1), "page %" PRIu64 " wrong", idx))
			break;
		atomic_fetch_add(&b->reads, 1);
	}
	free(buf);
	return NULL;
}

/* Truncates and rewrites the tail of the file mapping: index nodes freed
 * through call_rcu, grace periods, writeback. */
static void *busy_writer(void *arg)
{
	struct busy *b = arg;
	size_t ps = b->w->ps;
	unsigned char *buf = malloc(4 * ps);
	fill(buf, 4 * ps, 0, 2);
	while (!atomic_load(&b->stop)) {
		if (!TCHECK(&b->fail, pgc_write(b->w->fm, buf, 4 * ps, 0, 0) == (ssize_t)(4 * ps),
			       "file write") ||
		    !TCHECK(&b->fail, pgc_write(b->w->fm, buf, ps, 64 * ps, 0) == (ssize_t)ps,
			       "file write far") ||
		    !TCHECK(&b->fail, pgc_mapping_truncate(b->w->fm, 4 * ps) == 0, "truncate"))
			break;
	}
	free(buf);
	return NULL;
}

static unsigned fork_rounds(void)
{
	return (unsigned)pgc_test_scaled(20, 3);
}

/* Forks @p rounds children that destroy their copies, use a cache of their
 * own made with @p flags, and exit. */
static void fork_destroying_children(struct world *w, unsigned rounds, unsigned flags,
				     const char *what)
{
	for (unsigned i = 0; i < rounds; i++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			alarm(child_alarm());
			child_destroy_all_flags(w, flags);
			_exit(0);
		}
		expect_child_ok(pid, what);
		pgc_test_sleep_ms(5);
	}
}

/*
 * fork while other threads read and write in the library: the forking
 * thread's handlers pause liburcu's call_rcu worker and hold its registry
 * across the fork, and in the child the inherited objects are dropped
 * without waiting for the locks the gone threads may have held.
 */
/* Moves the pages (all of index i holding byte i + gen) by copy; 1 if
 * every one moved and still holds its bytes. */
static int migrate_and_check(pgc_cache *c, pgc_page **pages, unsigned n, size_t ps)
{
	int status[64];
	if (n > 64 || pgc_migrate_pages(pages, n, pgc_test_new_page_any, c, PGC_MIGRATE_SYNC,
					PGC_MR_SYSCALL, status, NULL) != 0)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const unsigned char *d = pgc_page_data(pages[i]);
		if (status[i] != 0 || d[0] != (unsigned char)i || d[ps - 1] != (unsigned char)i)
			return 0;
	}
	return 1;
}

/*
 * The parent's cache has copy helpers (started by a migration of 4 MiB) at
 * the fork: the child's copy of the cache copies on its own thread, and
 * the parent's helpers still work after the fork.
 */
START_TEST(fork_after_copy_helpers)
{
	enum { N = 64, PS = 65536 };
	pgc_cache *c = pgc_test_cache(4 * N, PS);
	pgc_mapping *m;
	ck_assert_int_eq(pgc_mapping_create(c, NULL, NULL, (uint64_t)N * PS, &m), 0);
	pgc_page *pages[N];
	for (unsigned i = 0; i < N; i++) {
		ck_assert_int_eq(pgc_mapping_find_or_create(m, i, 0, &pages[i]), 0);
		memset(pgc_page_data(pages[i]), (int)i, PS);
		pgc_page_set_flag(pages[i], PGC_PG_UPTODATE);
		pgc_page_unlock(pages[i]);
	}
	ck_assert(migrate_and_check(c, pages, N, PS));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(child_alarm());
		for (int round = 0; round < 3; round++)
			CHILD_CHECK(migrate_and_check(c, pages, N, PS));
		_exit(0);
	}
	expect_child_ok(pid, "copy helpers");
	ck_assert(migrate_and_check(c, pages, N, PS));
	for (unsigned i = 0; i < N; i++)
		pgc_page_put(pages[i]);
	ck_assert_int_eq(pgc_mapping_truncate(m, 0), 0);
	ck_assert_int_eq(pgc_mapping_destroy(m), 0);
	ck_assert_int_eq(pgc_cache_destroy(c), 0);
}
END_TEST

START_TEST(fork_while_threads_busy)
{
	struct world w;
	uint64_t pages = 200;
	world_init(&w, 48, pages);
	ck_assert_int_eq(pgc_sync_range(w.m, 0, UINT64_MAX, NULL), 0);
	struct busy b = {.w = &w, .m = w.m, .pages = pages};
	pthread_t t[3];
	ck_assert_int_eq(pthread_create(&t[0], NULL, busy_reader, &b), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, busy_reader, &b), 0);
	ck_assert_int_eq(pthread_create(&t[2], NULL, busy_writer, &b), 0);
	while (atomic_load(&b.reads) < 100 && !atomic_load(&b.fail.failed))
		pgc_test_sleep_ms(1);
	fork_destroying_children(&w, fork_rounds(), 0, "busy");
	atomic_store(&b.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&b.fail);
	ck_assert_uint_gt(atomic_load(&b.reads), 100);
	world_check_and_fini(&w, pages);
}
END_TEST

/*
 * The parent's cache has a writeback thread at work: a child has no such
 * thread, so destroying its copy of the cache must not wait for it, and a
 * cache the child makes afterwards works.
 */
START_TEST(fork_with_writeback_thread)
{
	struct world w;
	uint64_t pages = 200;
	world_init(&w, 48, pages);
	ck_assert_int_eq(pgc_cache_start_writeback(w.cache), 0);
	struct busy b = {.w = &w, .m = w.m, .pages = pages};
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, busy_writer, &b), 0);
	/* The child's own cache starts a writeback thread too. Before the
	 * library kept its threads out of call_rcu() across a fork, such a
	 * child hung now and then in its destroy's rcu_barrier(): the parent's
	 * writer had been half-way through an enqueue (docs/concurrency.md). */
	fork_destroying_children(&w, fork_rounds(),
				 under_tsan() ? 0 : PGC_CACHE_WRITEBACK_THREAD,
				 "writeback thread");
	atomic_store(&b.stop, true);
	pthread_join(t, NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&b.fail);
	world_check_and_fini(&w, pages);
}
END_TEST

struct forker {
	struct world *w;
	pid_t pid;
};

static void *fork_in_thread(void *arg)
{
	struct forker *f = arg;
	f->pid = fork();
	if (f->pid == 0) {
		alarm(child_alarm());
		child_destroy_all(f->w);
		_exit(0);
	}
	return NULL;
}

/* The handlers run in whichever thread forks: here not the main one, while
 * the main thread reads. */
START_TEST(fork_from_other_thread)
{
	struct world w;
	uint64_t pages = 100;
	world_init(&w, 48, pages);
	ck_assert_int_eq(pgc_sync_range(w.m, 0, UINT64_MAX, NULL), 0);
	struct busy b = {.w = &w, .m = w.m, .pages = pages};
	pthread_t r;
	ck_assert_int_eq(pthread_create(&r, NULL, busy_reader, &b), 0);
	for (unsigned i = 0; i < fork_rounds(); i++) {
		struct forker f = {.w = &w};
		pthread_t t;
		ck_assert_int_eq(pthread_create(&t, NULL, fork_in_thread, &f), 0);
		pthread_join(t, NULL);
		ck_assert_int_ge(f.pid, 0);
		expect_child_ok(f.pid, "thread");
	}
	atomic_store(&b.stop, true);
	pthread_join(r, NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&b.fail);
	world_check_and_fini(&w, pages);
}
END_TEST

/* A grandchild: the rule holds at every generation. */
START_TEST(fork_grandchild)
{
	struct world w;
	world_init(&w, 64, 40);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(child_alarm());
		/* A cache of the child's own, inherited in turn by its child. */
		struct world w2;
		memset(&w2, 0, sizeof(w2));
		struct pgc_cache_config cfg;
		pgc_cache_config_init(&cfg);
		cfg.capacity_pages = 32;
		CHILD_CHECK(pgc_cache_create(&cfg, &w2.cache) == 0);
		w2.ps = pgc_cache_page_size(w2.cache);
		struct memstore ms = {.ps = w2.ps, .cap = 64 * w2.ps};
		ms.data = calloc(1, ms.cap);
		CHILD_CHECK(pgc_mapping_create(w2.cache, &mem_ops, &ms, 0, &w2.m) == 0);
		unsigned char *buf = malloc(8 * w2.ps);
		fill(buf, 8 * w2.ps, 0, 4);
		CHILD_CHECK(pgc_write(w2.m, buf, 8 * w2.ps, 0, 0) == (ssize_t)(8 * w2.ps));
		pid_t gpid = fork();
		CHILD_CHECK(gpid >= 0);
		if (gpid == 0) {
			alarm(child_alarm() / 2);
			CHILD_CHECK(pgc_mapping_destroy(w2.m) == 0);
			CHILD_CHECK(pgc_cache_destroy(w2.cache) == 0);
			child_destroy_all(&w);
			_exit(0);
		}
		/* Less than the parent gives this child, so that no grandchild
		 * is left behind when it hangs. */
		int status = wait_child(gpid, child_alarm() / 2);
		CHILD_CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
		/* The child's own cache is not inherited here: it syncs and
		 * destroys as usual. */
		CHILD_CHECK(pgc_sync_range(w2.m, 0, UINT64_MAX, NULL) == 0);
		CHILD_CHECK(matches(ms.data, 8 * w2.ps, 0, 4));
		CHILD_CHECK(pgc_mapping_destroy(w2.m) == 0);
		CHILD_CHECK(pgc_cache_destroy(w2.cache) == 0);
		free(buf);
		free(ms.data);
		child_destroy_all(&w);
		_exit(0);
	}
	expect_child_ok(pid, "grandchild");
	world_check_and_fini(&w, 40);
}
END_TEST

static Suite *fork_suite(void)
{
	Suite *s = suite_create("fork");
	PGC_ADD(s, fork_child_exits, 60);
	PGC_ADD(s, fork_child_destroys_copies, 60);
	PGC_ADD(s, fork_child_uses_copies, 60);
	PGC_ADD(s, fork_after_copy_helpers, 60);
	PGC_ADD(s, fork_while_threads_busy, 120);
	PGC_ADD(s, fork_from_other_thread, 120);
	PGC_ADD(s, fork_grandchild, 60);
	PGC_ADD(s, fork_with_writeback_thread, 120);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, fork_suite());
}
