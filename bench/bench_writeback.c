/*
 * bench_writeback: dirty N random 4 KiB pages of a file through the cache,
 * then time the flush (pgc_sync_range: runs of consecutive dirty pages are
 * written with one pwritev each); the peer is fio writing N random 4 KiB
 * blocks of the same file with direct=1, psync, queue depth 1. Rounds
 * alternate; the median pages per second is reported, ratio = lib/peer.
 *
 * The dirty10 cases write more distinct random pages (-w, default 32768)
 * than a dirty limit of 10% of the cache lets stay dirty, so writers are
 * throttled: they write back themselves (dirty10) or wait for the cache's
 * writeback thread (dirty10_thread); the time runs from the first write to
 * the end of the final pgc_sync_range (which fdatasyncs). Peers: fio
 * writing the same number of distinct random 4 KiB blocks with direct=1
 * (every write on the disk before the next); fio through the kernel's
 * page cache (direct=0) with end_fsync=1, whose runtime includes the fsync
 * (the kernel's own dirty limit, a fifth of RAM, never binds here); and the
 * same with an fsync after every dirty limit's worth of writes, so that the
 * kernel holds no more dirty data than the library may.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "bench_util.h"
#include "fio_peer.h"

#define PS 4096u

/* Writes the pages perm[0..n) and syncs; pages per second from the first write to the end. */
static double limited_round(pgc_mapping *m, const uint64_t *perm, uint64_t n, char *buf)
{
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		buf[0] = (char)i;
		if (pgc_write(m, buf, PS, perm[i] * PS, 0) != PS)
			return -1;
	}
	if (pgc_sync_range(m, 0, UINT64_MAX, NULL))
		return -1;
	return (double)n / ((double)(now_ns() - t0) / 1e9);
}

/* A cache of capacity pages with a dirty limit of 10% and its mapping of st. */
static int limited_cache(pgc_store *st, uint64_t capacity, bool thread, pgc_cache **cachep,
			 pgc_mapping **mp)
{
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.page_size = PS;
	cfg.capacity_pages = capacity;
	cfg.dirty_ratio = 10;
	cfg.flags = thread ? PGC_CACHE_WRITEBACK_THREAD : 0;
	int err = pgc_cache_create(&cfg, cachep);
	if (!err)
		err = pgc_store_mapping_create(*cachep, st, mp);
	return err;
}

/* Dirties n random pages (distinct), flushes, returns pages per second. */
static double lib_round(pgc_mapping *m, uint64_t npages, uint64_t n, uint64_t seed, char *buf)
{
	uint64_t s = seed | 1;
	for (uint64_t i = 0; i < n; i++) {
		buf[0] = (char)i;
		if (pgc_write(m, buf, PS, (xorshift64(&s) % npages) * PS, 0) != PS)
			return -1;
	}
	uint64_t dirty = pgc_mapping_nr_dirty(m), t0 = now_ns();
	if (pgc_sync_range(m, 0, UINT64_MAX, NULL))
		return -1;
	return (double)dirty / ((double)(now_ns() - t0) / 1e9);
}

int main(int argc, char **argv)
{
	uint64_t npages = 65536, n = 8192, nw = 32768;
	unsigned rounds = 3;
	const char *dir = "/var/tmp";
	int o;
	while ((o = getopt(argc, argv, "p:n:w:r:d:h")) != -1) {
		switch (o) {
		case 'p': npages = strtoull(optarg, NULL, 0); break;
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'w': nw = strtoull(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench_writeback [-p file pages (65536)] [-n pages "
					"dirtied (8192)] [-w pages written at the 10%% dirty limit "
					"(32768)] [-r rounds (3)] [-d dir (/var/tmp)]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (!fio_available()) {
		fprintf(stderr, "bench_writeback: fio is needed as the peer (apt-get install fio)\n");
		return 1;
	}
	if (rounds < 1 || rounds > 99 || n < 1 || n > npages || nw < 1 || nw > npages)
		return 2;
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench_writeback.%d", dir, (int)getpid());
	pgc_store *st;
	int err = pgc_store_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600, &st);
	if (err || pgc_store_truncate(st, npages * PS)) {
		fprintf(stderr, "bench_writeback: %s: %s\n", path, pgc_strerror(err));
		return 1;
	}
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.page_size = PS;
	cfg.capacity_pages = npages + 64;
	pgc_cache *cache;
	pgc_mapping *m;
	if ((err = pgc_cache_create(&cfg, &cache)) || (err = pgc_store_mapping_create(cache, st, &m))) {
		fprintf(stderr, "bench_writeback: setup: %s\n", pgc_strerror(err));
		unlink(path);
		return 1;
	}
	char *buf;
	if (posix_memalign((void **)&buf, PS, PS))
		return 1;
	memset(buf, 'w', PS);
	char opts[256];
	snprintf(opts, sizeof(opts), "--rw=randwrite --bs=4k --size=%" PRIu64 " --number_ios=%" PRIu64,
		 npages * PS, n);
	fprintf(stderr, "bench_writeback: %" PRIu64 " of %" PRIu64 " pages dirtied per round, %u rounds\n",
		n, npages, rounds);
	double lib[99], peer[99];
	for (unsigned r = 0; r < rounds; r++) {
		double l, p;
		if (r % 2 == 0) {
			l = lib_round(m, npages, n, 11 + r, buf);
			p = fio_run(path, opts, FIO_TERSE_WRITE_IOPS);
		} else {
			p = fio_run(path, opts, FIO_TERSE_WRITE_IOPS);
			l = lib_round(m, npages, n, 11 + r, buf);
		}
		if (l <= 0 || p <= 0) {
			fprintf(stderr, "bench_writeback: round %u failed (lib %.0f, fio %.0f)\n", r + 1, l, p);
			unlink(path);
			return 1;
		}
		lib[r] = l;
		peer[r] = p;
		fprintf(stderr, "   round %u: lib %.0f pages/s, fio %.0f pages/s\n", r + 1, l, p);
	}
	double l = median(lib, rounds), p = median(peer, rounds);
	printf("RESULT bench_writeback flush_%" PRIu64 "_of_%" PRIu64 " lib=%.0fpages/s peer=fio:%.0fpages/s ratio=%.2f\n",
	       n, npages, l, p, l / p);
	fflush(stdout);
	pgc_mapping_destroy(m);
	pgc_cache_destroy(cache);

	/* At a dirty limit of 10% of the cache, without and with the thread. */
	pgc_cache *lc[2];
	pgc_mapping *lm[2];
	for (int t = 0; t < 2; t++)
		if ((err = limited_cache(st, npages + 64, t == 1, &lc[t], &lm[t]))) {
			fprintf(stderr, "bench_writeback: setup: %s\n", pgc_strerror(err));
			unlink(path);
			return 1;
		}
	uint64_t *perm = malloc(npages * sizeof(*perm));
	if (!perm)
		return 1;
	char wopts[256], bopts[320], lopts[400];
	snprintf(wopts, sizeof(wopts), "--rw=randwrite --bs=4k --size=%" PRIu64 " --number_ios=%" PRIu64,
		 npages * PS, nw);
	snprintf(bopts, sizeof(bopts), "%s --direct=0 --end_fsync=1", wopts);
	struct pgc_stats st0;
	st0.size = sizeof(st0);
	pgc_cache_stats(lc[0], &st0);
	/* The kernel's page cache with the same dirty budget: an fsync after
	 * every dirty-limit's worth of writes. */
	snprintf(lopts, sizeof(lopts), "%s --fsync=%" PRIu64, bopts, st0.dirty_limit);
	fprintf(stderr, "bench_writeback: %" PRIu64 " distinct random pages written at a dirty limit of "
		"%" PRIu64 " pages, %u rounds\n", nw, st0.dirty_limit, rounds);
	double lt[2][99], pd[99], pb[99], pl[99];
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t s = 1000 + r;
		for (uint64_t i = 0; i < npages; i++)
			perm[i] = i;
		for (uint64_t i = npages - 1; i > 0; i--) {
			uint64_t j = xorshift64(&s) % (i + 1), x = perm[i];
			perm[i] = perm[j];
			perm[j] = x;
		}
		/* Interleaved, the order turned around every other round. */
		for (int k = 0; k < 5; k++) {
			int which = r % 2 ? 4 - k : k;
			double v;
			switch (which) {
			case 0: v = lt[0][r] = limited_round(lm[0], perm, nw, buf); break;
			case 1: v = pd[r] = fio_run(path, wopts, FIO_TERSE_WRITE_IOPS); break;
			case 2: v = pb[r] = fio_run(path, bopts, FIO_TERSE_WRITE_IOPS); break;
			case 3: v = pl[r] = fio_run(path, lopts, FIO_TERSE_WRITE_IOPS); break;
			default: v = lt[1][r] = limited_round(lm[1], perm, nw, buf); break;
			}
			if (v <= 0) {
				fprintf(stderr, "bench_writeback: dirty10 round %u part %d failed\n", r + 1, which);
				unlink(path);
				return 1;
			}
		}
		fprintf(stderr, "   round %u: lib %.0f, lib with thread %.0f, fio direct %.0f, fio buffered+fsync "
			"%.0f, fio buffered+fsync every %" PRIu64 " %.0f pages/s\n",
			r + 1, lt[0][r], lt[1][r], pd[r], pb[r], st0.dirty_limit, pl[r]);
	}
	const char *names[2] = {"dirty10", "dirty10_thread"};
	for (int t = 0; t < 2; t++) {
		double lv = median(lt[t], rounds), dv = median(pd, rounds), bv = median(pb, rounds);
		double kv = median(pl, rounds);
		printf("RESULT bench_writeback %s_%" PRIu64 "_of_%" PRIu64 " lib=%.0fpages/s peer=fio-psync-direct:%.0fpages/s ratio=%.2f\n",
		       names[t], nw, npages, lv, dv, lv / dv);
		printf("RESULT bench_writeback %s_%" PRIu64 "_of_%" PRIu64 " lib=%.0fpages/s peer=fio-buffered-fsync:%.0fpages/s ratio=%.2f\n",
		       names[t], nw, npages, lv, bv, lv / bv);
		printf("RESULT bench_writeback %s_%" PRIu64 "_of_%" PRIu64 " lib=%.0fpages/s peer=fio-buffered-same-dirty:%.0fpages/s ratio=%.2f\n",
		       names[t], nw, npages, lv, kv, lv / kv);
	}
	struct pgc_stats s1;
	s1.size = sizeof(s1);
	pgc_cache_stats(lc[0], &s1);
	fprintf(stderr, "bench_writeback: dirty10 writers waited %" PRIu64 " times, %.2f s in all\n",
		s1.throttled, (double)s1.throttled_ns / 1e9);
	pgc_cache_stats(lc[1], &s1);
	fprintf(stderr, "bench_writeback: dirty10_thread writers waited %" PRIu64 " times, %.2f s in all; "
		"the thread wrote %" PRIu64 " pages\n", s1.throttled, (double)s1.throttled_ns / 1e9,
		s1.background_written);
	free(perm);
	for (int t = 0; t < 2; t++) {
		pgc_mapping_destroy(lm[t]);
		pgc_cache_destroy(lc[t]);
	}
	pgc_store_close(st);
	unlink(path);
	free(buf);
	return 0;
}
