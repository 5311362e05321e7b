/*
 * The working set of the random-read benchmarks (bench_lookup,
 * bench_buffered): cache sizes and their labels, the index generator every
 * side of a comparison draws from, and the two peers' copies of the data.
 * Every page of every copy starts with its own index (the rest is 0xa5), so
 * a loop can check the bytes it read and make its next index depend on them.
 *
 * - bench_make_indexed_file(): the kernel's copy, a file written in full,
 *   synced and unlinked at once (it goes away with its descriptors even if
 *   the run is interrupted), optionally opened a second time with O_DIRECT
 *   for the library's store;
 * - bench_map_indexed(): the physical floor, plain anonymous memory of the
 *   same size, faulted in before the rounds, with the same transparent
 *   huge page advice as the cache's frames.
 *
 * Include after defining _GNU_SOURCE (O_DIRECT, MADV_*, mincore).
 */
#ifndef PGC_BENCH_WORKSET_H
#define PGC_BENCH_WORKSET_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"

#ifdef MADV_POPULATE_WRITE
#define BENCH_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define BENCH_MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

#define BENCH_IO_CHUNK (1u << 20) /* bytes per write()/read() when preparing a file */

/* A uniform index below n without a division (Lemire's multiply-high). */
static inline uint64_t bench_pick_index(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)xorshift64(s) * n) >> 64);
}

/* splitmix64 finaliser, to derive independent nonzero seeds. */
static inline uint64_t bench_mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* The generator's start for worker id of a round seeded with seed (same on every side). */
static inline uint64_t bench_worker_seed(uint64_t seed, unsigned id)
{
	return bench_mix64(seed ^ (uint64_t)(id + 1) * 0x100000001b3ull);
}

/*
 * The timed loop of every kind of both benchmarks: a chain of dependent
 * reads of random pages for duration_ns, the clock read every BENCH_BATCH
 * operations, the result left in the worker. READ(idx, v) reads the first
 * 8 bytes of page idx into v and is false if the read failed (a miss); the
 * next index depends on v (the state is xored with v ^ idx, which is 0 when
 * v is right), so no read starts before the previous one has its data.
 * A macro, not a function taking a callback: the read stays inlined in
 * the loop, as a caller's would be. Needs bench_util.h and bench_pool.h.
 */
#define BENCH_CHAIN(w, seed, npages, duration_ns, READ)                                  \
	do {                                                                             \
		uint64_t bc_s = bench_worker_seed((seed), (w)->id);                       \
		uint64_t bc_ops = 0, bc_misses = 0, bc_bad = 0, bc_t;                      \
		uint64_t bc_t0 = now_ns(), bc_deadline = bc_t0 + (duration_ns);           \
		do {                                                                     \
			for (unsigned bc_i = 0; bc_i < BENCH_BATCH; bc_i++) {              \
				uint64_t idx = bench_pick_index(&bc_s, (npages)), v;      \
				if (__builtin_expect(!(READ(idx, v)), 0)) {              \
					bc_misses++;                                     \
					continue;                                        \
				}                                                        \
				bc_bad += v != idx;                                      \
				bc_s ^= v ^ idx;                                         \
			}                                                                \
			bc_ops += BENCH_BATCH;                                           \
			bc_t = now_ns();                                                 \
		} while (bc_t < bc_deadline);                                            \
		(w)->ops = bc_ops;                                                       \
		(w)->misses = bc_misses;                                                 \
		(w)->bad = bc_bad;                                                       \
		(w)->t_start = bc_t0;                                                    \
		(w)->t_end = bc_t;                                                       \
	} while (0)

/* "1Ki", "64Ki", "1Mi", or the plain number for other sizes. */
static inline void bench_size_label(uint64_t n, char *out, size_t len)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, len, "%" PRIu64 "Mi", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, len, "%" PRIu64 "Ki", n >> 10);
	else
		snprintf(out, len, "%" PRIu64, n);
}

/* Parses "1Ki,64Ki,1Mi" (suffixes K/Ki/M/Mi/G/Gi are binary) into at most max sizes. */
static inline int bench_parse_sizes(const char *arg, uint64_t *sizes, unsigned max, unsigned *nr)
{
	const char *p = arg;

	*nr = 0;
	while (*p) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(p, &end, 10);
		if (errno || end == p || v == 0)
			return -1;
		switch (*end) {
		case 'K': case 'k': v <<= 10; end++; break;
		case 'M': case 'm': v <<= 20; end++; break;
		case 'G': case 'g': v <<= 30; end++; break;
		default: break;
		}
		if (*end == 'i')
			end++;
		if ((*end != ',' && *end != '\0') || *nr == max)
			return -1;
		sizes[(*nr)++] = v;
		p = *end == ',' ? end + 1 : end;
	}
	return *nr ? 0 : -1;
}

/* Fills len bytes of pages starting at page first: each page's index, then 0xa5. */
static inline void bench_fill_indexed(unsigned char *d, size_t len, uint64_t first, unsigned ps)
{
	memset(d, 0xa5, len);
	for (size_t b = 0; b < len; b += ps) {
		uint64_t idx = first + b / ps;

		memcpy(d + b, &idx, sizeof(idx));
	}
}

/*
 * Creates a file of npages pages of ps bytes in dir, indexed as above,
 * written in full and synced with fdatasync (so that no writeback runs
 * during the rounds), and unlinked at once. If direct_fd is not NULL, the
 * file is also opened with O_DIRECT there (for a store) before the unlink.
 * If warm, the file is read once through the returned descriptor so that
 * the kernel's page cache holds it. prog names the benchmark in messages.
 * Returns the buffered descriptor, or -1 (with a message on stderr).
 */
static inline int bench_make_indexed_file(const char *prog, const char *dir, uint64_t npages,
					  unsigned ps, int warm, int *direct_fd)
{
	size_t plen = strlen(dir) + strlen(prog) + 16;
	char *path = malloc(plen);
	unsigned char *chunk = NULL;
	uint64_t bytes = npages * ps, off;
	int fd;

	if (direct_fd)
		*direct_fd = -1;
	if (!path)
		return -1;
	snprintf(path, plen, "%s/%s.XXXXXX", dir, prog);
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot create a file in %s: %s\n", prog, dir, strerror(errno));
		free(path);
		return -1;
	}
	if (direct_fd) {
		*direct_fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (*direct_fd < 0)
			fprintf(stderr, "%s: %s refuses O_DIRECT: %s\n", prog, dir, strerror(errno));
	}
	unlink(path);
	free(path);
	if (direct_fd && *direct_fd < 0)
		goto fail;

	if (posix_memalign((void **)&chunk, 4096, BENCH_IO_CHUNK))
		goto fail;
	for (off = 0; off < bytes; off += BENCH_IO_CHUNK) {
		size_t len = bytes - off < BENCH_IO_CHUNK ? (size_t)(bytes - off) : BENCH_IO_CHUNK;

		bench_fill_indexed(chunk, len, off / ps, ps);
		if (pwrite(fd, chunk, len, (off_t)off) != (ssize_t)len) {
			fprintf(stderr, "%s: write to %s failed: %s\n", prog, dir, strerror(errno));
			goto fail;
		}
	}
	if (fdatasync(fd) != 0) {
		fprintf(stderr, "%s: fdatasync failed: %s\n", prog, strerror(errno));
		goto fail;
	}
	for (off = 0; warm && off < bytes; off += BENCH_IO_CHUNK) {
		size_t len = bytes - off < BENCH_IO_CHUNK ? (size_t)(bytes - off) : BENCH_IO_CHUNK;

		if (pread(fd, chunk, len, (off_t)off) != (ssize_t)len) {
			fprintf(stderr, "%s: warming read failed: %s\n", prog, strerror(errno));
			goto fail;
		}
	}
	free(chunk);
	return fd;
fail:
	free(chunk);
	close(fd);
	if (direct_fd && *direct_fd >= 0) {
		close(*direct_fd);
		*direct_fd = -1;
	}
	return -1;
}

/* Percentage of the first bytes of fd that the kernel holds in its page cache (mincore), or -1. */
static inline double bench_resident_pct(int fd, uint64_t bytes)
{
	size_t len = (size_t)bytes;
	size_t os_page = (size_t)sysconf(_SC_PAGESIZE);
	size_t nvec = (len + os_page - 1) / os_page, in = 0;
	unsigned char *vec;
	void *addr;

	addr = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return -1.0;
	vec = malloc(nvec);
	if (!vec || mincore(addr, len, vec) != 0) {
		free(vec);
		munmap(addr, len);
		return -1.0;
	}
	for (size_t i = 0; i < nvec; i++)
		in += vec[i] & 1;
	free(vec);
	munmap(addr, len);
	return 100.0 * (double)in / (double)nvec;
}

/*
 * The floor: npages pages of ps bytes of plain anonymous memory, indexed as
 * above, aligned to 2 MiB. huge follows the cache's huge_pages option (madvise MADV_HUGEPAGE,
 * else MADV_NOHUGEPAGE, as the cache does for its frames), so the floor pays
 * the same TLB misses. Every page is faulted in now. Returns NULL if
 * the memory cannot be had; free with munmap(p, npages * ps).
 */
static inline unsigned char *bench_map_indexed(uint64_t npages, unsigned ps, int huge)
{
	const size_t huge_size = (size_t)2 << 20;
	size_t len = (size_t)(npages * ps), head, tail;
	unsigned char *raw = mmap(NULL, len + huge_size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *p;

	if (raw == MAP_FAILED)
		return NULL;
	/* Aligned to 2 MiB like the cache's frames, so huge pages can back all of it. */
	p = (unsigned char *)(((uintptr_t)raw + huge_size - 1) & ~(uintptr_t)(huge_size - 1));
	head = (size_t)(p - raw);
	tail = huge_size - head;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap(p + len, tail);
	madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE); /* advice only */
	/* One call faults it all in, as the cache does for its frames (5.14+;
	 * where it fails, the fill below faults the pages one by one). */
	madvise(p, len, BENCH_MADV_POPULATE_WRITE);
	for (size_t off = 0; off < len; off += BENCH_IO_CHUNK)
		bench_fill_indexed(p + off, len - off < BENCH_IO_CHUNK ? len - off : BENCH_IO_CHUNK,
				   off / ps, ps);
	return p;
}

#endif /* PGC_BENCH_WORKSET_H */
