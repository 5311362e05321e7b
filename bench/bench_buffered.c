/*
 * bench_buffered: random 4 KiB buffered reads (all cached) and writes
 * through libpgcache, against pread/pwrite of the same offsets on the
 * kernel's page cache, in the same run.
 *
 * Library: a cache as large as the file over the built-in O_DIRECT store,
 * warmed by reading the whole file once; pgc_read / pgc_write of 4 KiB at a
 * random page-aligned offset. Peer: a second file of the same size opened
 * without O_DIRECT, warmed the same way; pread / pwrite. Rounds alternate
 * library and peer (order flipped each round); the median is reported.
 *
 * Output: RESULT bench_buffered <case> lib=<ns/op> peer=pread|pwrite:<ns/op>
 * ratio=peer/lib (> 1: the library is faster).
 */
#define _GNU_SOURCE
#include <errno.h>
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

#define PS 4096u

enum kind { LIB_READ, PEER_READ, LIB_WRITE, PEER_WRITE };

struct ctx {
	pgc_mapping *m;
	int peer_fd;
	uint64_t npages, ops;
	char *buf;
};

/* One round: ops operations of a kind; returns ns per operation, or < 0. */
static double round_run(struct ctx *c, enum kind k, uint64_t seed)
{
	uint64_t s = seed | 1, t0 = now_ns();
	for (uint64_t i = 0; i < c->ops; i++) {
		uint64_t off = (xorshift64(&s) % c->npages) * PS;
		ssize_t r;
		switch (k) {
		case LIB_READ:
			r = pgc_read(c->m, c->buf, PS, off);
			break;
		case PEER_READ:
			r = pread(c->peer_fd, c->buf, PS, (off_t)off);
			break;
		case LIB_WRITE:
			c->buf[0] = (char)i;
			r = pgc_write(c->m, c->buf, PS, off, 0);
			break;
		default:
			c->buf[0] = (char)i;
			r = pwrite(c->peer_fd, c->buf, PS, (off_t)off);
			break;
		}
		if (r != (ssize_t)PS) {
			fprintf(stderr, "bench_buffered: op %d at %" PRIu64 " returned %zd\n", (int)k,
				off, r);
			return -1;
		}
	}
	return (double)(now_ns() - t0) / (double)c->ops;
}

static int make_file(const char *path, uint64_t npages)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	char *b = calloc(1, 1 << 20);
	for (uint64_t off = 0; off < npages * PS; off += 1 << 20)
		if (!b || pwrite(fd, b, 1 << 20, (off_t)off) != 1 << 20) {
			close(fd);
			free(b);
			return -1;
		}
	free(b);
	fdatasync(fd);
	return fd;
}

int main(int argc, char **argv)
{
	uint64_t npages = 65536, ops = 200000;
	unsigned rounds = 5;
	const char *dir = "/var/tmp";
	int o;
	while ((o = getopt(argc, argv, "n:o:r:d:h")) != -1) {
		switch (o) {
		case 'n': npages = strtoull(optarg, NULL, 0); break;
		case 'o': ops = strtoull(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: bench_buffered [-n pages (65536)] [-o ops per round "
					"(200000)] [-r rounds (5)] [-d dir (/var/tmp)]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || rounds > 99 || npages < 1 || ops < 1)
		return 2;
	char lpath[4096], ppath[4096];
	snprintf(lpath, sizeof(lpath), "%s/bench_buffered.lib.%d", dir, (int)getpid());
	snprintf(ppath, sizeof(ppath), "%s/bench_buffered.peer.%d", dir, (int)getpid());
	int lfd = make_file(lpath, npages), pfd = make_file(ppath, npages);
	unlink(ppath);
	if (lfd < 0 || pfd < 0) {
		perror("bench_buffered: test files");
		unlink(lpath);
		return 1;
	}
	close(lfd);
	/* The library's file again, through the store (O_DIRECT). */
	pgc_store *st = NULL;
	int err = pgc_store_open(lpath, O_RDWR, 0, &st);
	unlink(lpath);
	if (err) {
		fprintf(stderr, "bench_buffered: pgc_store_open: %s\n", pgc_strerror(err));
		return 1;
	}
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.page_size = PS;
	cfg.capacity_pages = npages + 64;
	pgc_cache *cache;
	pgc_mapping *m;
	if ((err = pgc_cache_create(&cfg, &cache)) || (err = pgc_store_mapping_create(cache, st, &m))) {
		fprintf(stderr, "bench_buffered: setup: %s\n", pgc_strerror(err));
		return 1;
	}
	struct ctx c = {.m = m, .peer_fd = pfd, .npages = npages, .ops = ops};
	if (posix_memalign((void **)&c.buf, PS, PS))
		return 1;
	memset(c.buf, 'x', PS);
	/* Warm both caches: every page read once. */
	for (uint64_t i = 0; i < npages; i++)
		if (pgc_read(m, c.buf, PS, i * PS) != PS || pread(pfd, c.buf, PS, (off_t)(i * PS)) != PS) {
			fprintf(stderr, "bench_buffered: warm-up failed at page %" PRIu64 "\n", i);
			return 1;
		}
	fprintf(stderr, "bench_buffered: %" PRIu64 " pages of 4 KiB, %" PRIu64
			" ops per round, %u rounds, files in %s\n", npages, ops, rounds, dir);

	static const char *names[] = {"randread_4k_cached", "randwrite_4k"};
	static const char *peers[] = {"pread", "pwrite"};
	for (int cse = 0; cse < 2; cse++) {
		double lib[99], peer[99];
		enum kind lk = cse ? LIB_WRITE : LIB_READ, pk = cse ? PEER_WRITE : PEER_READ;
		round_run(&c, lk, 99); /* unmeasured warm-up of each */
		round_run(&c, pk, 99);
		for (unsigned r = 0; r < rounds; r++) {
			uint64_t seed = 1000 + r;
			if (r % 2 == 0) {
				lib[r] = round_run(&c, lk, seed);
				peer[r] = round_run(&c, pk, seed);
			} else {
				peer[r] = round_run(&c, pk, seed);
				lib[r] = round_run(&c, lk, seed);
			}
			if (lib[r] < 0 || peer[r] < 0)
				return 1;
			fprintf(stderr, "   %s round %u: lib %.1f ns/op, %s %.1f ns/op\n", names[cse],
				r + 1, lib[r], peers[cse], peer[r]);
		}
		double l = median(lib, rounds), p = median(peer, rounds);
		printf("RESULT bench_buffered %s lib=%.1fns/op peer=%s:%.1fns/op ratio=%.2f\n",
		       names[cse], l, peers[cse], p, p / l);
		fflush(stdout);
	}
	/* Leave nothing dirty behind: flush, then tear down. */
	pgc_errseq_t since = pgc_mapping_sample_error(m);
	err = pgc_sync_range(m, 0, UINT64_MAX, &since);
	if (err)
		fprintf(stderr, "bench_buffered: final flush: %s\n", pgc_strerror(err));
	pgc_mapping_destroy(m);
	pgc_cache_destroy(cache);
	pgc_store_close(st);
	close(pfd);
	free(c.buf);
	return err ? 1 : 0;
}
