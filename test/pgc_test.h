/*
 * Helpers shared by the Check suites of libpgcache: the seed and scale of
 * randomized tests, a small PRNG, cache construction, failure recording from
 * worker threads (Check's assertions are only used from the test's own
 * thread) and the suite runner.
 *
 * Randomized tests use one seed per executable, printed at start. Set
 * PGC_TEST_SEED=<n> (or pass --seed <n>) to replay it. PGC_TEST_SCALE=<f>
 * (default 1) scales the operation counts of the stress tests, e.g. 0.1
 * under ThreadSanitizer.
 */
#ifndef PGC_TEST_H
#define PGC_TEST_H

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

/* Seed of this executable's randomized tests (set by pgc_test_main). */
uint64_t pgc_test_seed(void);
/* A seed derived from the executable's seed and a name (one per test). */
uint64_t pgc_test_seed_for(const char *name);
/* PGC_TEST_SCALE, default 1.0, clamped to [0.001, 100]. */
double pgc_test_scale(void);
/* n scaled by PGC_TEST_SCALE, at least min. */
unsigned long pgc_test_scaled(unsigned long n, unsigned long min);
/* Nonzero when the process runs under a sanitizer whose shadow memory
 * distorts RSS figures (ASan, TSan, MSan), or under valgrind. */
int pgc_test_sanitized(void);

/* True when the tests run under valgrind (the CI's valgrind stage sets
 * PGC_TEST_VALGRIND=1), whose own system calls distort I/O counts. */
int pgc_test_valgrind(void);

/* splitmix64: a small, good, seedable generator. */
struct pgc_rng {
	uint64_t s;
};

static inline uint64_t pgc_rng_next(struct pgc_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t pgc_rng_below(struct pgc_rng *r, uint64_t n)
{
	return n ? pgc_rng_next(r) % n : 0;
}

/* Shuffles an array of uint64_t in place. */
void pgc_test_shuffle(struct pgc_rng *r, uint64_t *a, size_t n);

/* OS page size. */
size_t pgc_test_os_page(void);
/* Resident set size of the process in bytes (/proc/self/statm). */
uint64_t pgc_test_rss(void);
/* Monotonic time in seconds. */
double pgc_test_now(void);
/* Sleeps for ms milliseconds (only to let another thread block: never as an
 * assertion of ordering). */
void pgc_test_sleep_ms(unsigned ms);

/* Creates a cache of capacity pages of page_size bytes (0: OS page size), or
 * fails the test. */
pgc_cache *pgc_test_cache(uint64_t capacity, uint32_t page_size);
/* Fills a stats snapshot or fails the test. */
void pgc_test_stats(pgc_cache *cache, struct pgc_stats *st);
/* The first node of a cache. */
int pgc_test_first_node(pgc_cache *cache);

/* A pgc_new_page_fn for pgc_migrate_pages(): a frame of the cache @p arg
 * on any node, or NULL. */
pgc_page *pgc_test_new_page_any(pgc_page *old, void *arg);

/*
 * Failures seen by worker threads. A thread records the first failure and
 * stops; the test thread asserts afterwards with PGC_ASSERT_NO_THREAD_FAILURE.
 */
struct pgc_tfail {
	atomic_int failed;
	char msg[512];
};

void pgc_tfail_record(struct pgc_tfail *f, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define TCHECK(f, cond, ...)                                              \
	__extension__({                                                   \
		int pgc_ok_ = !!(cond);                                   \
		if (!pgc_ok_)                                             \
			pgc_tfail_record((f), __FILE__, __LINE__, __VA_ARGS__); \
		pgc_ok_;                                                  \
	})

#define PGC_ASSERT_NO_THREAD_FAILURE(f) \
	ck_assert_msg(atomic_load(&(f)->failed) == 0, "%s", (f)->msg)

/*
 * Parses --seed, picks the seed (PGC_TEST_SEED, or else from the clock),
 * prints it, runs the suite with CK_FORK as configured by the environment
 * and returns the exit status.
 */
int pgc_test_main(int argc, char **argv, Suite *s);

/* Adds a test case with one test and a time limit (seconds). */
void pgc_test_add(Suite *s, const char *name, const TTest *test, double timeout);

#define PGC_ADD(suite, fn, timeout) pgc_test_add((suite), #fn, fn, (timeout))

#endif /* PGC_TEST_H */
