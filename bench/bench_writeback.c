/*
 * bench_writeback: dirty N random 4 KiB pages of a file through the cache,
 * then time the flush (pgc_sync_range: runs of consecutive dirty pages are
 * written with one pwritev each); the peer is fio writing N random 4 KiB
 * blocks of the same file with direct=1, psync, queue depth 1. Rounds
 * alternate; the median pages per second is reported, ratio = lib/peer.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "bench_util.h"
#include "fio_peer.h"

#define PS 4096u

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
	uint64_t npages = 65536, n = 8192;
	unsigned rounds = 3;
	const char *dir = "/var/tmp";
	int o;
	while ((o = getopt(argc, argv, "p:n:r:d:h")) != -1) {
		switch (o) {
		case 'p': npages = strtoull(optarg, NULL, 0); break;
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench_writeback [-p file pages (65536)] [-n pages "
					"dirtied (8192)] [-r rounds (3)] [-d dir (/var/tmp)]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (!fio_available()) {
		fprintf(stderr, "bench_writeback: fio is needed as the peer (apt-get install fio)\n");
		return 1;
	}
	if (rounds < 1 || rounds > 99 || n < 1 || n > npages)
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
	pgc_mapping_destroy(m);
	pgc_cache_destroy(cache);
	pgc_store_close(st);
	unlink(path);
	free(buf);
	return 0;
}
