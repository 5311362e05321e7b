/*
 * bench_dio: direct I/O through the segmenter (pgc_direct_io on the
 * built-in O_DIRECT store) against fio on the same file with the same block
 * size and queue depth (psync, direct=1, iodepth 1), in the same run.
 *
 * Cases: sequential 1 MiB reads and writes, random 4 KiB reads and writes.
 * Each round runs the library then fio (order flipped every round) for the
 * same time; the median throughput is reported in MiB/s, ratio = lib/peer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "bench_util.h"
#include "fio_peer.h"

struct dio_case {
	const char *name;
	int rw;		/* PGC_READ or PGC_WRITE */
	int random;
	size_t bs;
	const char *fio_rw;
};

/* Library throughput in MiB/s for one round of `secs` seconds. */
static double lib_round(pgc_mapping *m, const struct dio_case *c, uint64_t file_size,
			char *buf, double secs, uint64_t seed)
{
	uint64_t blocks = file_size / c->bs, s = seed | 1, pos = 0, bytes = 0;
	uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(secs * 1e9), t;
	do {
		for (int i = 0; i < 16; i++) {
			uint64_t blk;
			if (c->random) {
				blk = xorshift64(&s) % blocks;
			} else {
				blk = pos++ % blocks;
			}
			struct iovec iov = {.iov_base = buf, .iov_len = c->bs};
			ssize_t r = pgc_direct_io(m, c->rw, &iov, 1, blk * c->bs);
			if (r != (ssize_t)c->bs) {
				fprintf(stderr, "bench_dio: pgc_direct_io returned %zd (%s)\n", r,
					r < 0 ? pgc_strerror((int)r) : "short");
				return -1;
			}
			bytes += c->bs;
		}
		t = now_ns();
	} while (t < deadline);
	return (double)bytes / (1 << 20) / ((double)(t - t0) / 1e9);
}

int main(int argc, char **argv)
{
	uint64_t mib = 256;
	unsigned rounds = 3;
	double secs = 2;
	const char *dir = "/var/tmp";
	int o;
	while ((o = getopt(argc, argv, "s:r:t:d:h")) != -1) {
		switch (o) {
		case 's': mib = strtoull(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': secs = strtod(optarg, NULL); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench_dio [-s file MiB (256)] [-r rounds (3)] "
					"[-t seconds per round (2)] [-d dir (/var/tmp)]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (!fio_available()) {
		fprintf(stderr, "bench_dio: fio is needed as the peer (apt-get install fio)\n");
		return 1;
	}
	if (rounds < 1 || rounds > 99 || mib < 2 || secs <= 0)
		return 2;
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench_dio.%d", dir, (int)getpid());
	uint64_t size = mib << 20;
	pgc_store *st;
	int err = pgc_store_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600, &st);
	if (err) {
		fprintf(stderr, "bench_dio: pgc_store_open(%s): %s\n", path, pgc_strerror(err));
		return 1;
	}
	char *buf;
	if (posix_memalign((void **)&buf, 4096, 1 << 20))
		return 1;
	memset(buf, 0xa5, 1 << 20);
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		struct iovec iov = {.iov_base = buf, .iov_len = 1 << 20};
		if (pgc_store_write(st, &iov, 1, off) != 1 << 20) {
			fprintf(stderr, "bench_dio: cannot fill %s\n", path);
			unlink(path);
			return 1;
		}
	}
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 1024;
	pgc_cache *cache;
	pgc_mapping *m;
	if ((err = pgc_cache_create(&cfg, &cache)) || (err = pgc_store_mapping_create(cache, st, &m))) {
		fprintf(stderr, "bench_dio: setup: %s\n", pgc_strerror(err));
		unlink(path);
		return 1;
	}
	fprintf(stderr, "bench_dio: %s, %" PRIu64 " MiB, %u rounds of %.1f s, block size %zu\n",
		path, mib, rounds, secs, pgc_store_block_size(st));

	static const struct dio_case cases[] = {
		{"seqread_1m", PGC_READ, 0, 1 << 20, "read"},
		{"seqwrite_1m", PGC_WRITE, 0, 1 << 20, "write"},
		{"randread_4k", PGC_READ, 1, 4096, "randread"},
		{"randwrite_4k", PGC_WRITE, 1, 4096, "randwrite"},
	};
	int status = 0;
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const struct dio_case *c = &cases[ci];
		char opts[256];
		snprintf(opts, sizeof(opts), "--rw=%s --bs=%zu --size=%" PRIu64 " --runtime=%.0f "
			 "--time_based --norandommap --randrepeat=0", c->fio_rw, c->bs, size,
			 secs < 1 ? 1 : secs);
		int field = c->rw == PGC_READ ? FIO_TERSE_READ_BW : FIO_TERSE_WRITE_BW;
		double lib[99], peer[99];
		for (unsigned r = 0; r < rounds; r++) {
			double p, l;
			if (r % 2 == 0) {
				l = lib_round(m, c, size, buf, secs, 7 + r);
				p = fio_run(path, opts, field) / 1024.0;
			} else {
				p = fio_run(path, opts, field) / 1024.0;
				l = lib_round(m, c, size, buf, secs, 7 + r);
			}
			if (l < 0 || p <= 0) {
				fprintf(stderr, "bench_dio: %s round %u failed (lib %.1f, fio %.1f)\n",
					c->name, r + 1, l, p);
				status = 1;
				goto out;
			}
			lib[r] = l;
			peer[r] = p;
			fprintf(stderr, "   %s round %u: lib %.1f MiB/s, fio %.1f MiB/s\n", c->name,
				r + 1, l, p);
		}
		double l = median(lib, rounds), p = median(peer, rounds);
		printf("RESULT bench_dio %s lib=%.1fMiB/s peer=fio:%.1fMiB/s ratio=%.2f\n", c->name, l,
		       p, l / p);
		fflush(stdout);
	}
out:
	pgc_mapping_destroy(m);
	pgc_cache_destroy(cache);
	pgc_store_close(st);
	unlink(path);
	free(buf);
	return status;
}
