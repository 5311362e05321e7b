/*
 * The common path of libpgcache in one program: the calls of the page
 * docs/essentials.md, which shows this file in pieces (the //! [name]
 * markers delimit them). ctest builds and runs it (test essentials), so the
 * page shows code that works.
 *
 * Usage: essentials [DIR]   (a file in DIR, default /var/tmp; its file
 * system must accept O_DIRECT, else the program exits 77.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//! [include]
#include <pgcache/pgcache.h>
//! [include]

/* Prints what failed and returns 1. */
static int fail(const char *what, long err)
{
	fprintf(stderr, "essentials: %s: %s\n", what, pgc_strerror((int)err));
	return 1;
}

int main(int argc, char **argv)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/pgc-essentials-%ld", argc > 1 ? argv[1] : "/var/tmp",
		 (long)getpid());

	//! [cache]
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg); /* defaults, and the struct's size */
	cfg.capacity_bytes = 64 << 20; /* 64 MiB of page frames */
	pgc_cache *cache;
	int err = pgc_cache_create(&cfg, &cache);
	if (err)
		return fail("pgc_cache_create", err);
	//! [cache]

	//! [store]
	pgc_store *store;
	err = pgc_store_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600, &store);
	if (err == -EINVAL) {
		fprintf(stderr, "essentials: %s refuses O_DIRECT: skipped\n", path);
		unlink(path);
		pgc_cache_destroy(cache);
		return 77;
	}
	if (err)
		return fail("pgc_store_open", err);
	pgc_mapping *m; /* the file's pages in the cache */
	err = pgc_store_mapping_create(cache, store, &m);
	if (err)
		return fail("pgc_store_mapping_create", err);
	//! [store]

	//! [write]
	/* Buffered writes: copied into the cache, written back later. */
	const char msg[] = "hello, page cache";
	ssize_t n = pgc_write(m, msg, sizeof(msg), 10000, 0);
	if (n != (ssize_t)sizeof(msg))
		return fail("pgc_write", n < 0 ? n : -EIO);
	//! [write]

	//! [read]
	/* A read hit copies from the cache, a miss reads the file. */
	char got[sizeof(msg)];
	n = pgc_read(m, got, sizeof(got), 10000);
	if (n != (ssize_t)sizeof(got) || memcmp(got, msg, sizeof(msg)))
		return fail("pgc_read", n < 0 ? n : -EIO);
	//! [read]

	//! [sync]
	/* Like fsync: write back, make it durable on the device (the store's
	 * fdatasync), and hear of each write error once. */
	pgc_errseq_t since = pgc_mapping_sample_error(m);
	err = pgc_sync_range(m, 0, UINT64_MAX, &since);
	if (err)
		return fail("pgc_sync_range", err);
	//! [sync]

	//! [direct]
	/* Direct I/O bypasses the cache but stays coherent with it: aligned
	 * buffer, offset and length, as with O_DIRECT. */
	size_t ps = pgc_cache_page_size(cache);
	void *buf;
	if (posix_memalign(&buf, ps, ps))
		return fail("posix_memalign", -ENOMEM);
	struct iovec iov = {.iov_base = buf, .iov_len = ps};
	n = pgc_direct_io(m, PGC_READ, &iov, 1, 10000 / ps * ps);
	if (n < 0 || memcmp((char *)buf + 10000 % ps, msg, sizeof(msg)))
		return fail("pgc_direct_io", n < 0 ? n : -EIO);
	free(buf);
	//! [direct]

	//! [truncate]
	/* The file follows: pgc_mapping_truncate cuts it too. */
	err = pgc_mapping_truncate(m, 10005);
	if (err)
		return fail("pgc_mapping_truncate", err);
	//! [truncate]

	//! [stats]
	struct pgc_stats st = {.size = sizeof(st)};
	err = pgc_cache_stats(cache, &st);
	if (err)
		return fail("pgc_cache_stats", err);
	printf("essentials: %llu hits, %llu misses, file of %llu bytes\n",
	       (unsigned long long)st.hits, (unsigned long long)st.misses,
	       (unsigned long long)pgc_mapping_size(m));
	//! [stats]

	//! [close]
	err = pgc_sync_range(m, 0, UINT64_MAX, NULL); /* nothing dirty may stay */
	if (!err)
		err = pgc_mapping_destroy(m);
	if (!err)
		err = pgc_store_close(store);
	if (!err)
		err = pgc_cache_destroy(cache);
	if (err)
		return fail("closing", err);
	//! [close]
	unlink(path);
	printf("essentials: OK\n");
	return 0;
}
