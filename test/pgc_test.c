/*
 * Helpers shared by the Check suites (see pgc_test.h).
 */
#define _GNU_SOURCE
#include "pgc_test.h"

#include <inttypes.h>
#include <time.h>

static uint64_t g_seed;
static int g_seed_set;

uint64_t pgc_test_seed(void)
{
	return g_seed;
}

uint64_t pgc_test_seed_for(const char *name)
{
	/* FNV-1a of the name, mixed with the executable's seed. */
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = name; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ull;
	}
	struct pgc_rng r = { g_seed ^ h };
	return pgc_rng_next(&r);
}

double pgc_test_scale(void)
{
	const char *s = getenv("PGC_TEST_SCALE");
	double v = 1.0;
	if (s && *s) {
		char *end;
		v = strtod(s, &end);
		if (end == s)
			v = 1.0;
	}
	if (v < 0.001)
		v = 0.001;
	if (v > 100)
		v = 100;
	return v;
}

unsigned long pgc_test_scaled(unsigned long n, unsigned long min)
{
	double v = (double)n * pgc_test_scale();
	unsigned long r = (unsigned long)v;
	return r < min ? min : r;
}

/* Weak references to sanitizer runtimes: non-NULL when one is linked in. */
extern void __asan_init(void) __attribute__((weak));
extern void __tsan_init(void) __attribute__((weak));
extern void __msan_init(void) __attribute__((weak));

int pgc_test_valgrind(void)
{
	return getenv("PGC_TEST_VALGRIND") != NULL;
}

int pgc_test_sanitized(void)
{
	if (pgc_test_valgrind())
		return 1;
#if defined(PGC_TEST_SANITIZED)
	return 1;
#else
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return 1;
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
	__has_feature(memory_sanitizer)
	return 1;
#endif
#endif
	return __asan_init != NULL || __tsan_init != NULL || __msan_init != NULL;
#endif
}

void pgc_test_shuffle(struct pgc_rng *r, uint64_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)pgc_rng_below(r, i);
		uint64_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

size_t pgc_test_os_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

uint64_t pgc_test_rss(void)
{
	/* A buffer on the stack, so that stdio allocates no buffer that would be counted. */
	char buf[256];
	FILE *f;
	unsigned long long size = 0, resident = 0;

	f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	setvbuf(f, buf, _IOFBF, sizeof buf);
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * pgc_test_os_page();
}

double pgc_test_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pgc_test_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

pgc_cache *pgc_test_cache(uint64_t capacity, uint32_t page_size)
{
	struct pgc_cache_config cfg;
	pgc_cache *cache = NULL;
	int ret;

	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = capacity;
	cfg.page_size = page_size;
	ret = pgc_cache_create(&cfg, &cache);
	ck_assert_msg(ret == 0, "pgc_cache_create(capacity %" PRIu64 ", page size %u) = %d (%s)",
		      capacity, page_size, ret, pgc_strerror(ret));
	ck_assert_ptr_nonnull(cache);
	return cache;
}

void pgc_test_stats(pgc_cache *cache, struct pgc_stats *st)
{
	int ret;
	memset(st, 0, sizeof *st);
	st->size = sizeof *st;
	ret = pgc_cache_stats(cache, st);
	ck_assert_int_eq(ret, 0);
}

int pgc_test_first_node(pgc_cache *cache)
{
	int nodes[PGC_MAX_NODES];
	int n = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	ck_assert_int_ge(n, 1);
	return nodes[0];
}

void pgc_tfail_record(struct pgc_tfail *f, const char *file, int line, const char *fmt, ...)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&f->failed, &expected, 1))
		return;
	int n = snprintf(f->msg, sizeof f->msg, "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= sizeof f->msg)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg + n, sizeof f->msg - (size_t)n, fmt, ap);
	va_end(ap);
}

void pgc_test_add(Suite *s, const char *name, const TTest *test, double timeout)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, timeout);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

int pgc_test_main(int argc, char **argv, Suite *s)
{
	const char *env = getenv("PGC_TEST_SEED");
	SRunner *sr;
	int nf;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--seed") == 0 || strcmp(argv[i], "-S") == 0) && i + 1 < argc) {
			g_seed = strtoull(argv[++i], NULL, 0);
			g_seed_set = 1;
		}
	}
	if (!g_seed_set && env && *env) {
		g_seed = strtoull(env, NULL, 0);
		g_seed_set = 1;
	}
	if (!g_seed_set) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct pgc_rng r = { (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
				     ((uint64_t)getpid() << 40) };
		g_seed = pgc_rng_next(&r);
	}
	printf("%s: seed %" PRIu64 " (replay with PGC_TEST_SEED=%" PRIu64 "), scale %g\n",
	       argv[0], g_seed, g_seed, pgc_test_scale());
	fflush(stdout);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

pgc_page *pgc_test_new_page_any(pgc_page *old, void *arg)
{
	(void)old;
	pgc_page *p = NULL;
	return pgc_page_alloc(arg, -1, 0, &p) ? NULL : p;
}
