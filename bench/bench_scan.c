/*
 * bench_scan: a cold sequential scan of a file larger than the cache,
 * through libpgcache (pgc_read with its readahead, over the built-in
 * O_DIRECT store) against pread on the kernel's page cache made cold first
 * (fdatasync, then posix_fadvise(POSIX_FADV_DONTNEED) over the file), in
 * the same run.
 *
 * One file of --size bytes (default 1 GiB), every 4 KiB page starting with
 * its index, written once. The library's cache holds --cache bytes
 * (default 256 MiB, a quarter of the file), and each round starts with a
 * new mapping, so nothing of the file is cached; the kernel's side reads
 * the same file through a second descriptor without O_DIRECT, with the
 * kernel's readahead (the device's read_ahead_kb). Both read the whole
 * file from offset 0 to the end in calls of --chunk bytes (cases for each
 * of the default 4 KiB and 128 KiB) and check each page's index. Rounds
 * alternate the order (lib then pread, pread then lib); the median of the
 * rounds is reported:
 *
 *   RESULT bench_scan coldscan_<chunk>[_huge] lib=<MiB/s> peer=pread-cold:<MiB/s> ratio=lib/peer
 *
 * (_huge: with --huge, the cache's frames on transparent huge pages, so
 * that a window's frames, consecutive in memory, are physically
 * contiguous too and a device request carries more than its segment
 * limit of 4 KiB pages.)
 *
 * (ratio > 1: the library is faster). Progress goes to stderr. A failed or
 * wrong read makes the run fail (exit status 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pgcache/pgcache.h>

#include "bench_util.h"

#define PS 4096u
#define MAX_ROUNDS BENCH_MAX_ROUNDS
#define MAX_CHUNKS 8

struct scan {
	pgc_cache *cache;
	pgc_store *store;
	int pfd; /* the same file, buffered */
	unsigned ra; /* readahead cap in pages, 0: the library's default */
	uint64_t size;
	unsigned char *buf;
};

/* Checks the index at the start of each page of buf (bytes at file offset off). */
static int check_pages(const unsigned char *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i += PS) {
		uint64_t v;
		memcpy(&v, buf + i, sizeof(v));
		if (v != (off + i) / PS) {
			fprintf(stderr, "bench_scan: page %" PRIu64 " holds %" PRIu64 "\n",
				(off + i) / PS, v);
			return -1;
		}
	}
	return 0;
}

/* One scan through a new mapping: MiB/s, or -1. */
static double scan_lib(struct scan *s, size_t chunk)
{
	pgc_mapping *m;
	int err = pgc_store_mapping_create(s->cache, s->store, &m);
	if (err) {
		fprintf(stderr, "bench_scan: pgc_store_mapping_create: %s\n", pgc_strerror(err));
		return -1;
	}
	if (s->ra && (err = pgc_mapping_set_readahead(m, s->ra))) {
		fprintf(stderr, "bench_scan: pgc_mapping_set_readahead: %s\n", pgc_strerror(err));
		pgc_mapping_destroy(m);
		return -1;
	}
	uint64_t t0 = now_ns();
	for (uint64_t off = 0; off < s->size; off += chunk) {
		ssize_t r = pgc_read(m, s->buf, chunk, off);
		if (r != (ssize_t)chunk || check_pages(s->buf, chunk, off)) {
			fprintf(stderr, "bench_scan: pgc_read at %" PRIu64 ": %zd (%s)\n", off, r,
				pgc_strerror(r < 0 ? (int)r : pgc_last_error()));
			pgc_mapping_destroy(m);
			return -1;
		}
	}
	uint64_t t = now_ns() - t0;
	/* Dropping the pages is not part of the scan. */
	if ((err = pgc_mapping_destroy(m))) {
		fprintf(stderr, "bench_scan: pgc_mapping_destroy: %s\n", pgc_strerror(err));
		return -1;
	}
	return (double)s->size / (1 << 20) / ((double)t / 1e9);
}

/* One scan with pread after emptying the kernel's cache of the file. */
static double scan_pread(struct scan *s, size_t chunk)
{
	if (fdatasync(s->pfd) || posix_fadvise(s->pfd, 0, 0, POSIX_FADV_DONTNEED)) {
		perror("bench_scan: dropping the kernel's pages");
		return -1;
	}
	uint64_t t0 = now_ns();
	for (uint64_t off = 0; off < s->size; off += chunk) {
		ssize_t r = pread(s->pfd, s->buf, chunk, (off_t)off);
		if (r != (ssize_t)chunk || check_pages(s->buf, chunk, off)) {
			fprintf(stderr, "bench_scan: pread at %" PRIu64 ": %zd\n", off, r);
			return -1;
		}
	}
	return (double)s->size / (1 << 20) / ((double)(now_ns() - t0) / 1e9);
}

static int make_file(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	size_t bs = 1 << 20;
	unsigned char *b = malloc(bs);
	for (uint64_t off = 0; b && off < size; off += bs) {
		for (size_t i = 0; i < bs; i += PS) {
			uint64_t v = (off + i) / PS;
			memset(b + i, (int)(v & 0xff), PS);
			memcpy(b + i, &v, sizeof(v));
		}
		if (pwrite(fd, b, bs, (off_t)off) != (ssize_t)bs) {
			free(b);
			close(fd);
			return -1;
		}
	}
	free(b);
	if (!b || fdatasync(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_scan [options]\n"
		"\n"
		"A cold sequential scan of a file larger than the cache: pgc_read (readahead,\n"
		"O_DIRECT store) against pread on a cold kernel page cache (POSIX_FADV_DONTNEED).\n"
		"\n"
		"  -s, --size MiB    file size (default 1024)\n"
		"  -c, --cache MiB   the library's cache (default 256)\n"
		"  --chunks LIST     bytes per read call, comma separated, multiples of 4096\n"
		"                    (default 4096,131072)\n"
		"  -r, --rounds N    rounds of each kind per chunk (default 5)\n"
		"  --psync           the store on preadv/pwritev instead of io_uring\n"
		"  --huge            the cache's frames on transparent huge pages (huge_pages)\n"
		"  --readahead P     the mapping's readahead cap in pages (default: the library's)\n"
		"  -d, --dir PATH    directory of the file (default /var/tmp)\n"
		"  -h, --help        this text\n");
}

int main(int argc, char **argv)
{
	enum { OPT_CHUNKS = 256, OPT_RA, OPT_PSYNC, OPT_HUGE };
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "cache", required_argument, NULL, 'c' },
		{ "chunks", required_argument, NULL, OPT_CHUNKS },
		{ "rounds", required_argument, NULL, 'r' },
		{ "readahead", required_argument, NULL, OPT_RA },
		{ "psync", no_argument, NULL, OPT_PSYNC },
		{ "huge", no_argument, NULL, OPT_HUGE },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t size_mib = 1024, cache_mib = 256;
	unsigned chunks[MAX_CHUNKS] = { 4096, 131072 };
	unsigned nr_chunks = 2, rounds = 5;
	const char *dir = "/var/tmp";
	unsigned ra = 0;
	bool psync = false, huge = false;
	int c;

	while ((c = getopt_long(argc, argv, "s:c:r:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': size_mib = strtoull(optarg, NULL, 0); break;
		case 'c': cache_mib = strtoull(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': dir = optarg; break;
		case OPT_PSYNC: psync = true; break;
		case OPT_HUGE: huge = true; break;
		case OPT_RA: ra = (unsigned)strtoul(optarg, NULL, 0); break;
		case OPT_CHUNKS:
			if (bench_parse_list(optarg, PS, 64u << 20, chunks, MAX_CHUNKS, &nr_chunks)) {
				fprintf(stderr, "bench_scan: bad --chunks '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!size_mib || !cache_mib || cache_mib >= size_mib || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench_scan: need 0 < --cache < --size and 1..%d rounds\n",
			MAX_ROUNDS);
		return 2;
	}
	for (unsigned i = 0; i < nr_chunks; i++)
		if (chunks[i] % PS || (size_mib << 20) % chunks[i]) {
			fprintf(stderr, "bench_scan: a chunk must be a multiple of 4096 dividing the"
					" file size\n");
			return 2;
		}

	struct scan s = { .size = size_mib << 20, .ra = ra };
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench_scan.%d", dir, (int)getpid());
	fprintf(stderr, "bench_scan: writing a %" PRIu64 " MiB file in %s\n", size_mib, dir);
	s.pfd = make_file(path, s.size);
	if (s.pfd < 0) {
		perror("bench_scan: the file");
		unlink(path);
		return 1;
	}
	int err = pgc_store_open(path, O_RDWR, 0, &s.store);
	unlink(path);
	if (err) {
		fprintf(stderr, "bench_scan: pgc_store_open: %s\n", pgc_strerror(err));
		return 1;
	}
	if (psync && (err = pgc_store_set_engine(s.store, PGC_STORE_PSYNC))) {
		fprintf(stderr, "bench_scan: pgc_store_set_engine: %s\n", pgc_strerror(err));
		return 1;
	}
	struct pgc_cache_config cfg;
	pgc_cache_config_init(&cfg);
	cfg.page_size = PS;
	cfg.capacity_pages = (cache_mib << 20) / PS;
	cfg.huge_pages = huge;
	if ((err = pgc_cache_create(&cfg, &s.cache))) {
		fprintf(stderr, "bench_scan: pgc_cache_create: %s\n", pgc_strerror(err));
		return 1;
	}
	size_t maxc = 0;
	for (unsigned i = 0; i < nr_chunks; i++)
		maxc = chunks[i] > maxc ? chunks[i] : maxc;
	if (posix_memalign((void **)&s.buf, PS, maxc))
		return 1;
	fprintf(stderr, "bench_scan: cache %" PRIu64 " MiB, %u rounds per chunk size\n", cache_mib,
		rounds);

	int ret = 0;
	for (unsigned ci = 0; ci < nr_chunks && !ret; ci++) {
		double lib[MAX_ROUNDS], peer[MAX_ROUNDS];
		size_t chunk = chunks[ci];
		for (unsigned r = 0; r < rounds; r++) {
			if (r % 2 == 0) {
				lib[r] = scan_lib(&s, chunk);
				peer[r] = scan_pread(&s, chunk);
			} else {
				peer[r] = scan_pread(&s, chunk);
				lib[r] = scan_lib(&s, chunk);
			}
			if (lib[r] < 0 || peer[r] < 0) {
				ret = 1;
				break;
			}
			fprintf(stderr, "   coldscan_%zuk%s round %u: lib %.0f MiB/s, pread %.0f MiB/s\n",
				chunk >> 10, huge ? "_huge" : "", r + 1, lib[r], peer[r]);
		}
		if (ret)
			break;
		double l = median(lib, rounds), p = median(peer, rounds);
		printf("RESULT bench_scan coldscan_%zuk%s lib=%.0fMiB/s peer=pread-cold:%.0fMiB/s"
		       " ratio=%.2f\n", chunk >> 10, huge ? "_huge" : "", l, p, l / p);
		fflush(stdout);
	}
	free(s.buf);
	pgc_cache_destroy(s.cache);
	pgc_store_close(s.store);
	close(s.pfd);
	return ret;
}
