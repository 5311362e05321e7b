/*
 * The smallest program that uses an installed libpgcache: create a cache and
 * a mapping, create a page, fill it, find it again. README.md shows how to
 * build it with pkg-config and with CMake; the install test
 * (test/install/run.sh) builds it both ways, against the shared and the
 * static library, and runs it. It prints "consumer: libpgcache <version> OK"
 * and exits 0 on success.
 */
#include <pgcache/pgcache.h>

#include <errno.h>
#include <stdio.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "consumer: %s: %s (%d)\n", what, pgc_strerror(err), err);
	return 1;
}

int main(void)
{
	struct pgc_cache_config cfg;
	pgc_cache *cache = NULL;
	pgc_mapping *m = NULL;
	pgc_page *p = NULL;
	unsigned char *data;
	size_t page_size, i;
	int err;

	if (pgc_version() != PGC_VERSION_NUMBER) {
		fprintf(stderr, "consumer: headers %u, library %u\n",
			(unsigned)PGC_VERSION_NUMBER, pgc_version());
		return 1;
	}

	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 16;
	err = pgc_cache_create(&cfg, &cache);
	if (err)
		return fail("pgc_cache_create", err);
	page_size = pgc_cache_page_size(cache);
	if (page_size == 0)
		return fail("pgc_cache_page_size", 0);

	err = pgc_mapping_create(cache, NULL, NULL, 0, &m);
	if (err)
		return fail("pgc_mapping_create", err);

	err = pgc_mapping_find_or_create(m, 0, 0, &p);
	if (err)
		return fail("pgc_mapping_find_or_create", err);
	data = pgc_page_data(p);
	if (data == NULL)
		return fail("pgc_page_data", 0);
	for (i = 0; i < page_size; i++)
		data[i] = (unsigned char)(i * 7 + 1);
	err = pgc_page_unlock(p);
	if (err)
		return fail("pgc_page_unlock", err);
	pgc_page_put(p);
	p = NULL;

	err = pgc_mapping_find(m, 0, &p);
	if (err)
		return fail("pgc_mapping_find", err);
	data = pgc_page_data(p);
	for (i = 0; i < page_size; i++) {
		if (data[i] != (unsigned char)(i * 7 + 1)) {
			fprintf(stderr, "consumer: byte %zu of the page differs\n", i);
			return 1;
		}
	}
	pgc_page_put(p);

	err = pgc_mapping_find(m, 1, &p);
	if (err != -ENOENT)
		return fail("pgc_mapping_find of an absent page", err);

	err = pgc_mapping_destroy(m);
	if (err)
		return fail("pgc_mapping_destroy", err);
	err = pgc_cache_destroy(cache);
	if (err)
		return fail("pgc_cache_destroy", err);

	printf("consumer: libpgcache %s OK\n", pgc_version_string());
	return 0;
}
