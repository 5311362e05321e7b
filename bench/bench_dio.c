/*
 * bench_dio: direct I/O through the segmenter (pgc_direct_io on the
 * built-in O_DIRECT store) against fio on the same file with the same block
 * size and queue depth (psync, direct=1, iodepth 1), in the same run.
 *
 * Cases: sequential 1 MiB reads and writes, random 4 KiB reads and writes.
 * Each round runs the library then fio (order flipped every round) for the
 * same time; the median throughput is reported in MiB/s, ratio = lib/peer.
 *
 * The uring_ cases put the same transfers in flight at a queue depth through
 * an asynchronous context (pgc_aio_direct, aio.h: the context's own ring)
 * against fio with ioengine=io_uring at the same depth: random 4 KiB reads
 * and writes at depths 1, 8 and 32, sequential 128 KiB at depth 8. Each
 * completion submits the next transfer of its slot from its callback.
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
	unsigned depth; /* 0: pgc_direct_io against fio psync; else aio against io_uring */
};

/* The transfers one asynchronous round keeps in flight. */
struct aio_round {
	pgc_aio *ctx;
	pgc_mapping *m;
	const struct dio_case *c;
	uint64_t blocks, seed, pos, bytes, deadline;
	int failed;
	unsigned live;
};

struct aio_slot {
	struct aio_round *r;
	struct iovec iov;
};

static void aio_next(struct aio_slot *s);

static void aio_done(void *arg, ssize_t res)
{
	struct aio_slot *s = arg;
	struct aio_round *r = s->r;
	r->live--;
	if (res != (ssize_t)r->c->bs) {
		fprintf(stderr, "bench_dio: pgc_aio_direct completed with %zd (%s)\n", res,
			res < 0 ? pgc_strerror((int)res) : "short");
		r->failed = 1;
		return;
	}
	r->bytes += r->c->bs;
	if (now_ns() < r->deadline)
		aio_next(s);
}

static void aio_next(struct aio_slot *s)
{
	struct aio_round *r = s->r;
	uint64_t blk = r->c->random ? xorshift64(&r->seed) % r->blocks : r->pos++ % r->blocks;
	int err = pgc_aio_direct(r->ctx, r->m, r->c->rw, &s->iov, 1, blk * r->c->bs, aio_done, s);
	if (err) {
		fprintf(stderr, "bench_dio: pgc_aio_direct: %s\n", pgc_strerror(err));
		r->failed = 1;
		return;
	}
	r->live++;
}

/* Library throughput in MiB/s at the case's depth, through a context. */
static double lib_aio_round(pgc_aio *ctx, pgc_mapping *m, const struct dio_case *c,
			    uint64_t file_size, char *bufs, double secs, uint64_t seed)
{
	struct aio_round r = {.ctx = ctx, .m = m, .c = c, .blocks = file_size / c->bs,
			      .seed = seed | 1};
	struct aio_slot slots[64];
	uint64_t t0 = now_ns();
	r.deadline = t0 + (uint64_t)(secs * 1e9);
	for (unsigned i = 0; i < c->depth; i++) {
		slots[i] = (struct aio_slot){.r = &r, .iov = {bufs + (size_t)i * c->bs, c->bs}};
		aio_next(&slots[i]);
	}
	while (r.live && !r.failed)
		if (pgc_aio_reap(ctx, 1, 0) < 0)
			r.failed = 1;
	uint64_t t = now_ns();
	if (r.failed)
		return -1;
	return (double)r.bytes / (1 << 20) / ((double)(t - t0) / 1e9);
}

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
	/* 1 MiB for the synchronous cases, 64 slots of up to 128 KiB for
	 * the asynchronous ones. */
	if (posix_memalign((void **)&buf, 4096, 8 << 20))
		return 1;
	memset(buf, 0xa5, 8 << 20);
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
	pgc_aio *ctx;
	if ((err = pgc_aio_create(NULL, &ctx))) {
		fprintf(stderr, "bench_dio: pgc_aio_create: %s\n", pgc_strerror(err));
		unlink(path);
		return 1;
	}
	fprintf(stderr, "bench_dio: %s, %" PRIu64 " MiB, %u rounds of %.1f s, block size %zu, "
		"context %s io_uring\n", path, mib, rounds, secs, pgc_store_block_size(st),
		pgc_aio_uses_uring(ctx) == 1 ? "with" : "without");

	static const struct dio_case cases[] = {
		{"seqread_1m", PGC_READ, 0, 1 << 20, "read", 0},
		{"seqwrite_1m", PGC_WRITE, 0, 1 << 20, "write", 0},
		{"randread_4k", PGC_READ, 1, 4096, "randread", 0},
		{"randwrite_4k", PGC_WRITE, 1, 4096, "randwrite", 0},
		{"uring_randread_4k_qd1", PGC_READ, 1, 4096, "randread", 1},
		{"uring_randread_4k_qd8", PGC_READ, 1, 4096, "randread", 8},
		{"uring_randread_4k_qd32", PGC_READ, 1, 4096, "randread", 32},
		{"uring_randwrite_4k_qd1", PGC_WRITE, 1, 4096, "randwrite", 1},
		{"uring_randwrite_4k_qd8", PGC_WRITE, 1, 4096, "randwrite", 8},
		{"uring_randwrite_4k_qd32", PGC_WRITE, 1, 4096, "randwrite", 32},
		{"uring_seqread_128k_qd8", PGC_READ, 0, 128 << 10, "read", 8},
		{"uring_seqwrite_128k_qd8", PGC_WRITE, 0, 128 << 10, "write", 8},
	};
	const char *only = getenv("BENCH_DIO_CASES"); /* a comma list of case names */
	int status = 0;
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const struct dio_case *c = &cases[ci];
		if (only && !strstr(only, c->name))
			continue;
		char opts[256];
		snprintf(opts, sizeof(opts), "--rw=%s --bs=%zu --size=%" PRIu64 " --runtime=%.0f "
			 "--time_based --norandommap --randrepeat=0", c->fio_rw, c->bs, size,
			 secs < 1 ? 1 : secs);
		int field = c->rw == PGC_READ ? FIO_TERSE_READ_BW : FIO_TERSE_WRITE_BW;
		double lib[99], peer[99];
		for (unsigned r = 0; r < rounds; r++) {
			double p = 0, l = 0;
			const char *engine = c->depth ? "io_uring" : "psync";
			unsigned depth = c->depth ? c->depth : 1;
			for (int half = 0; half < 2; half++) {
				if ((half == 0) == (r % 2 == 0))
					l = c->depth ? lib_aio_round(ctx, m, c, size, buf, secs, 7 + r)
						     : lib_round(m, c, size, buf, secs, 7 + r);
				else
					p = fio_run_engine(path, engine, depth, opts, field) / 1024.0;
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
		printf("RESULT bench_dio %s lib=%.1fMiB/s peer=%s:%.1fMiB/s ratio=%.2f\n", c->name, l,
		       c->depth ? "fio-io_uring" : "fio", p, l / p);
		fflush(stdout);
	}
out:
	pgc_aio_destroy(ctx);
	pgc_mapping_destroy(m);
	pgc_cache_destroy(cache);
	pgc_store_close(st);
	unlink(path);
	free(buf);
	return status;
}
