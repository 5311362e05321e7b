/*
 * The public headers from C++ (issue 14, part 5): this translation unit is
 * compiled as C++17 with -Wall -Wextra -Werror and linked with the library,
 * so a header that is not valid C++ fails the build of the test, and one
 * whose declarations lack extern "C" fails its link. It then makes a cache
 * and a mapping, writes and reads a page through pgc_write()/pgc_read(),
 * and exits 0 (ctest: cxx_api). Each header alone is compiled by
 * the tests cxx_header_<name> (cmake/pgcacheTests.cmake).
 */
#include <pgcache/pgcache.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

static int failures;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			std::fprintf(stderr, "cxx_api: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                     \
		}                                                                       \
	} while (0)

// A new_page callback with C++ linkage conventions: the typedef's
// parameter list must be usable from C++ (it once named a parameter
// `private`).
static pgc_page *no_new_page(pgc_page *, void *)
{
	return nullptr;
}

int main()
{
	CHECK(pgc_version() == PGC_VERSION_NUMBER);
	CHECK(std::strcmp(pgc_strerror(0), "success") == 0);
	CHECK(std::strcmp(pgc_errname(-ENOSPC), "ENOSPC") == 0);
	CHECK(std::strcmp(pgc_errname(0), "OK") == 0);
	// The released sizes are constant expressions in C++ too.
	static_assert(PGC_CACHE_CONFIG_SIZE_0_1 <= sizeof(pgc_cache_config), "config size");
	static_assert(PGC_MAPPING_OPS_SIZE_0_1 <= sizeof(pgc_mapping_ops), "ops size");
	static_assert(PGC_STATS_SIZE_0_1 <= sizeof(pgc_stats), "stats size");
	static_assert(PGC_MIGRATE_STATS_SIZE_0_1 <= sizeof(pgc_migrate_stats), "migrate stats size");

	pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 16;
	pgc_cache *cache = nullptr;
	int err = pgc_cache_create(&cfg, &cache);
	CHECK(err == 0);
	if (err)
		return 1;
	pgc_mapping *m = nullptr;
	err = pgc_mapping_create(cache, nullptr, nullptr, 0, &m);
	CHECK(err == 0);
	if (!err) {
		char out[100], in[100];
		std::memset(out, 'x', sizeof(out));
		CHECK(pgc_write(m, out, sizeof(out), 10, 0) == (ssize_t)sizeof(out));
		CHECK(pgc_last_error() == 0);
		CHECK(pgc_read(m, in, sizeof(in), 10) == (ssize_t)sizeof(in));
		CHECK(std::memcmp(in, out, sizeof(in)) == 0);
		pgc_stats st;
		st.size = sizeof(st);
		CHECK(pgc_cache_stats(cache, &st) == 0);
		CHECK(st.resident >= 1);
		pgc_new_page_fn fn = no_new_page;
		CHECK(fn(nullptr, nullptr) == nullptr);
		CHECK(pgc_mapping_truncate(m, 0) == 0);
		CHECK(pgc_mapping_destroy(m) == 0);
	}
	CHECK(pgc_cache_destroy(cache) == 0);
	if (failures)
		return 1;
	std::printf("cxx_api: OK\n");
	return 0;
}
