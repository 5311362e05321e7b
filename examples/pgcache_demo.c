/*
 * pgcache-demo: libpgcache caching a real file, measured against the
 * kernel's page cache with the same memory and against O_DIRECT with no
 * cache, then checked byte for byte.
 *
 * The demo plays a small storage server that opens its data file with
 * O_DIRECT and keeps its own cache in user space. It
 *
 *  1. gives the kernel's page cache the memory libpgcache has: as root on
 *     a cgroup v2 hierarchy whose root enables the memory controller for
 *     its children, the kernel runs happen in a forked child in a cgroup
 *     of their own with memory.max set to the cache (plus a little for the
 *     process), removed at the end; elsewhere (cgroup v1 or hybrid) the
 *     file is made small enough to fit in both caches. It prints which;
 *  2. creates a test file (in $TMPDIR, /var/tmp, /tmp or the current
 *     directory: the first whose file system accepts O_DIRECT), or uses the
 *     file given with --file, and fills it with stamped blocks;
 *  3. runs a mixed workload from several threads, random and sequential
 *     reads and writes of whole blocks, with the same operations in every
 *     run: on the kernel's page cache (the file without O_DIRECT,
 *     pread/pwrite), on O_DIRECT with no cache (pread/pwrite on an
 *     O_DIRECT descriptor: the server without a cache), and on libpgcache
 *     (the built-in O_DIRECT store of store.h under a mapping,
 *     pgc_read/pgc_write), each starting cold, in turn for a few rounds so
 *     that a noisy moment on the machine slows one round rather than one
 *     contender, with a live progress line;
 *  4. prints the medians and spread of the throughputs, then libpgcache's
 *     figures after its last run: hit ratio, dirty and writeback counts,
 *     resident pages per NUMA node;
 *  5. moves a set of cached pages to another NUMA node with
 *     pgc_move_pages() and prints how many got each status (on a machine
 *     with a single node it says so, and the pages are "already there");
 *  6. writes every dirty page back (pgc_sync_range), reads the file back
 *     through a fresh O_DIRECT descriptor to check it, and ends with a
 *     summary: what was compared, each ratio as faster or slower with its
 *     spread, why libpgcache lost where it did, and the verification.
 *
 * How the data is checked. A block is the cache's page size (the OS page,
 * 4 KiB). Every block written carries its block number and a version number
 * and a pattern derived from both, so that a block torn between two writes,
 * written to the wrong place or lost shows up. A shadow array holds the last
 * version written to each block. A thread holds the block's stripe lock
 * (one of NR_STRIPES mutexes) while it bumps the version and writes, or
 * while it reads and compares, so under that lock the block must hold
 * exactly the shadow's version, whether it came from the cache or from the
 * disk. All runs pay for the same locking, so the comparison stays fair.
 * The shadow lives in shared memory, so that a kernel run in a child
 * process (in its cgroup) updates it as the other runs do.
 *
 * Exit status: 0 if every check passed, 1 if one failed (or the demo could
 * not run), 2 for a usage error.
 */
#define _GNU_SOURCE
#include <pgcache/pgcache.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "pgcache-demo"
#define DEMO_MAGIC 0x70676361636865ull	/* "pgcache" */
#define MAX_THREADS 64
#define NR_STRIPES 1024			/* block locks (block % NR_STRIPES) */
#define SEQ_RUN_MIN 8			/* a sequential run is 8 to 64 blocks */
#define SEQ_RUN_MAX 64
#define IO_CHUNK (1u << 20)		/* fill and verify the file 1 MiB at a time */
#define MAX_REPORTED 5			/* mismatches printed in detail */
#define MAX_ROUNDS 20			/* --rounds */
/*
 * Without a way to limit the kernel's page cache, the two caches get the
 * same memory only if the file fits in both: by default the file is 3/4 of
 * libpgcache's cache. Not all of it: the move to another NUMA node needs
 * free frames on the target node, and a full cache would refuse it.
 */
#define FIT_NUM 3
#define FIT_DEN 4
/*
 * With a cgroup, the kernel run's memory.max is libpgcache's cache plus
 * this much for the child process itself (its thread stacks, page tables
 * and the pages it copies on write), which would otherwise come out of the
 * page cache's share.
 */
#define MEMCG_SLACK (2u << 20)

/* ---- options ------------------------------------------------------------ */

/* How the kernel's page cache gets the same memory as libpgcache (--kernel-memory). */
enum kernel_memory {
	KMEM_AUTO,	/* a cgroup if the machine allows it, else a file that fits */
	KMEM_CGROUP,	/* a cgroup v2 memory.max, or the demo stops */
	KMEM_FIT,	/* no cgroup: a file that fits in both caches */
};

struct options {
	const char *file;	/* --file, or NULL for a temporary file */
	const char *dir;	/* --dir, or NULL for the usual candidates */
	bool keep;		/* do not remove the file the demo created */
	bool force;		/* overwrite a --file that is not a demo file */
	bool no_kernel;		/* skip the kernel page-cache run */
	bool no_direct;		/* skip the run on O_DIRECT without a cache */
	uint64_t capacity;	/* pages in the cache */
	uint64_t size;		/* bytes in the file (0: FIT_NUM/FIT_DEN of the cache) */
	unsigned threads;
	uint64_t ops;		/* operations per run, shared among the threads */
	unsigned write_pct;
	unsigned seq_pct;
	uint64_t seed;
	unsigned move;		/* pages to move between nodes */
	unsigned rounds;	/* each run this many times, interleaved */
	enum kernel_memory kmem;
};

/* ---- what the threads share ------------------------------------------- */

struct shared {
	size_t bsize;			/* block size = the cache's page size */
	uint64_t blocks;		/* blocks in the file */
	_Atomic uint64_t *shadow;	/* last version written to each block */
	pthread_mutex_t stripe[NR_STRIPES];
};

/*
 * One run of the workload: on the kernel's page cache, on O_DIRECT with no
 * cache at all, or on libpgcache.
 */
struct run {
	const char *name;
	int open_flags;		/* runs on a descriptor: O_DIRECT or not */
	int fd;			/* those runs: the file opened with open_flags */
	pgc_mapping *mapping;	/* libpgcache run: the mapping over the store */
	double seconds;		/* filled when the run ends */
	uint64_t done;
	double flush_ms;	/* the write-back after the run, outside its time */
};

struct worker {
	pthread_t tid;
	const struct run *run;
	struct shared *sh;
	uint64_t seed;
	uint64_t nops;
	unsigned write_pct, seq_pct;
	_Atomic uint64_t done;	/* read by the progress line */
	unsigned char *buf;	/* one block */
	uint64_t reads, writes;
	uint64_t mismatches;
	uint64_t errors;
	int first_err;
	uint64_t first_err_block;
	uint64_t first_bad_block, first_bad_want, first_bad_got;
};

/* Set by SIGINT/SIGTERM: the workload stops early, the demo still flushes,
 * verifies and removes its file. */
static atomic_int stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, 1);
}

/* ---- small helpers ----------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	return mix64(*s);
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rnd(s) * n) >> 64);
}

/* The name of an errno value (move_pages(2) statuses and the like). */
static const char *errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case EACCES: return "EACCES";
	case EAGAIN: return "EAGAIN";
	case EBUSY: return "EBUSY";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EROFS: return "EROFS";
	default: return "E?";
	}
}

/*
 * Block contents: word 0 the magic, word 1 the block number, word 2 the
 * version, then words that depend on both, so that a block torn between two
 * versions or written at the wrong place does not pass the check.
 */
static void fill_block(void *buf, size_t size, uint64_t block, uint64_t version)
{
	uint64_t *w = buf, base = mix64(block * 0x100000001b3ull ^ version);
	size_t n = size / sizeof(uint64_t);

	w[0] = DEMO_MAGIC;
	w[1] = block;
	w[2] = version;
	for (size_t k = 3; k < n; k++)
		w[k] = base + k * 0x9e3779b97f4a7c15ull;
}

/* 0 if buf is a consistent copy of (block, some version), stored in *versionp. */
static int check_block(const void *buf, size_t size, uint64_t block, uint64_t *versionp)
{
	const uint64_t *w = buf;
	size_t n = size / sizeof(uint64_t);
	uint64_t base;

	if (w[0] != DEMO_MAGIC || w[1] != block)
		return -1;
	base = mix64(block * 0x100000001b3ull ^ w[2]);
	for (size_t k = 3; k < n; k++)
		if (w[k] != base + k * 0x9e3779b97f4a7c15ull)
			return -1;
	*versionp = w[2];
	return 0;
}

/* ---- one block read or written, on either cache ------------------------ */

/*
 * Reads block b into buf: through libpgcache (pgc_read: a hit copies from
 * the cached page, a miss reads through the store, sequential misses start
 * readahead) or through the kernel's page cache (pread).
 */
static int block_read(const struct run *r, const struct shared *sh, void *buf, uint64_t b)
{
	ssize_t n;

	if (r->mapping)
		n = pgc_read(r->mapping, buf, sh->bsize, b * sh->bsize);
	else
		n = pread(r->fd, buf, sh->bsize, (off_t)(b * sh->bsize));
	if (n < 0)
		return r->mapping ? (int)n : -errno;
	return (size_t)n == sh->bsize ? 0 : -EIO;
}

/*
 * Writes block b: pgc_write copies into the cached page (a whole-page write
 * reads nothing first) and leaves it dirty for reclaim or the final sync to
 * write back; pwrite does the same in the kernel's cache.
 */
static int block_write(const struct run *r, const struct shared *sh, const void *buf, uint64_t b)
{
	ssize_t n;

	if (r->mapping)
		n = pgc_write(r->mapping, buf, sh->bsize, b * sh->bsize, 0);
	else
		n = pwrite(r->fd, buf, sh->bsize, (off_t)(b * sh->bsize));
	if (n < 0)
		return r->mapping ? (int)n : -errno;
	return (size_t)n == sh->bsize ? 0 : -EIO;
}

static void note_error(struct worker *w, int err, uint64_t b)
{
	if (!w->errors++) {
		w->first_err = err;
		w->first_err_block = b;
	}
}

static void do_read(struct worker *w, uint64_t b)
{
	pthread_mutex_t *lock = &w->sh->stripe[b % NR_STRIPES];
	uint64_t version = 0, want;
	int err;

	pthread_mutex_lock(lock);
	err = block_read(w->run, w->sh, w->buf, b);
	want = atomic_load(&w->sh->shadow[b]);
	if (!err && (check_block(w->buf, w->sh->bsize, b, &version) || version != want)) {
		if (!w->mismatches++) {
			w->first_bad_block = b;
			w->first_bad_want = want;
			w->first_bad_got = version;
		}
	}
	pthread_mutex_unlock(lock);
	if (err)
		note_error(w, err, b);
	else
		w->reads++;
}

static void do_write(struct worker *w, uint64_t b)
{
	pthread_mutex_t *lock = &w->sh->stripe[b % NR_STRIPES];
	int err;

	pthread_mutex_lock(lock);
	/* The new version is recorded before the write: if the write fails,
	 * the verification will say so rather than hide it. */
	fill_block(w->buf, w->sh->bsize, b, atomic_fetch_add(&w->sh->shadow[b], 1) + 1);
	err = block_write(w->run, w->sh, w->buf, b);
	pthread_mutex_unlock(lock);
	if (err)
		note_error(w, err, b);
	else
		w->writes++;
}

/*
 * The workload of one thread: either a sequential run of 8 to 64 blocks
 * (wrapping at the end of the file) or a single random block; each access
 * is a write with probability write_pct, else a read. The sequence depends
 * only on the seed, so both runs do the same operations.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed, done = 0, blocks = w->sh->blocks;

	while (done < w->nops && !atomic_load_explicit(&stop_requested, memory_order_relaxed)) {
		uint64_t b = rnd_below(&s, blocks), len = 1;

		if (rnd_below(&s, 100) < w->seq_pct)
			len = SEQ_RUN_MIN + rnd_below(&s, SEQ_RUN_MAX - SEQ_RUN_MIN + 1);
		for (uint64_t i = 0; i < len && done < w->nops; i++, done++) {
			if (rnd_below(&s, 100) < w->write_pct)
				do_write(w, b);
			else
				do_read(w, b);
			b = b + 1 == blocks ? 0 : b + 1;
			if ((done & 63) == 0)
				atomic_store_explicit(&w->done, done, memory_order_relaxed);
		}
	}
	atomic_store_explicit(&w->done, done, memory_order_relaxed);
	return NULL;
}

/* ---- running the workload with a progress line ------------------------- */

static int get_stats(pgc_cache *cache, struct pgc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return pgc_cache_stats(cache, st);
}

static double hit_ratio(const struct pgc_stats *st)
{
	uint64_t lookups = st->hits + st->misses;

	return lookups ? 100.0 * (double)st->hits / (double)lookups : 0.0;
}

/*
 * One progress line: on a terminal it is rewritten in place (\r, then
 * "erase to the end of the line"); otherwise the caller prints one at most
 * every second, each on its own line, so that logs stay readable.
 */
static void print_progress(const struct run *r, uint64_t done, uint64_t ops, uint64_t ns,
			   pgc_cache *cache, bool tty)
{
	double s = (double)ns / 1e9;
	struct pgc_stats st;

	printf("%s%-18s %9" PRIu64 "/%" PRIu64 " ops %3.0f%%  %7.1f kops/s  %5.1f s",
	       tty ? "\r" : "", r->name, done, ops,
	       ops ? 100.0 * (double)done / (double)ops : 100.0,
	       s > 0 ? (double)done / s / 1e3 : 0.0, s);
	if (cache && get_stats(cache, &st) == 0)
		printf("  hits %5.1f%%  dirty %6" PRIu64 "  resident %6" PRIu64,
		       hit_ratio(&st), st.dirty, st.resident);
	printf("%s", tty ? "\033[K" : "\n");
	fflush(stdout);
}

/* Runs the threads of one run to completion (or to Ctrl-C), with progress. */
static int run_workload(struct run *r, struct worker *w, unsigned threads, uint64_t ops,
			pgc_cache *cache)
{
	uint64_t t0 = now_ns(), last = t0, total = 0;
	bool tty = isatty(STDOUT_FILENO);
	unsigned started = 0;

	for (unsigned i = 0; i < threads; i++) {
		w[i].run = r;
		atomic_store(&w[i].done, 0);
		w[i].reads = w[i].writes = w[i].mismatches = w[i].errors = 0;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			fprintf(stderr, PROG ": pthread_create failed\n");
			atomic_store(&stop_requested, 1);
			break;
		}
		started++;
	}
	for (;;) {
		bool finished = true;
		uint64_t now;

		total = 0;
		for (unsigned i = 0; i < started; i++) {
			uint64_t d = atomic_load_explicit(&w[i].done, memory_order_relaxed);

			total += d;
			if (d < w[i].nops)
				finished = false;
		}
		if (atomic_load(&stop_requested))
			finished = true; /* the workers see it too and stop */
		now = now_ns();
		if (tty ? now - last >= 100000000u : now - last >= 1000000000u) {
			print_progress(r, total, ops, now - t0, cache, tty);
			last = now;
		}
		if (finished)
			break;
		usleep(20000);
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	r->seconds = (double)(now_ns() - t0) / 1e9;
	r->done = 0;
	for (unsigned i = 0; i < started; i++)
		r->done += atomic_load(&w[i].done);
	if (tty) {
		print_progress(r, r->done, ops, now_ns() - t0, cache, tty);
		printf("\n");
	}
	return started == threads ? 0 : -1;
}

/* Sums the workers' results after a run; returns false if a check failed. */
static bool report_run(const struct run *r, const struct worker *w, unsigned threads,
		       size_t bsize)
{
	uint64_t reads = 0, writes = 0, bad = 0, errors = 0;
	bool ok = true;

	for (unsigned i = 0; i < threads; i++) {
		reads += w[i].reads;
		writes += w[i].writes;
		bad += w[i].mismatches;
		errors += w[i].errors;
		if (w[i].errors)
			printf("  thread %u: %" PRIu64 " failed I/O, the first at block %" PRIu64
			       ": %s\n", i, w[i].errors, w[i].first_err_block,
			       pgc_strerror(w[i].first_err));
		if (w[i].mismatches)
			printf("  thread %u: %" PRIu64 " reads saw wrong data, the first at block %"
			       PRIu64 " (want version %" PRIu64 ", got %" PRIu64 ")\n", i,
			       w[i].mismatches, w[i].first_bad_block, w[i].first_bad_want,
			       w[i].first_bad_got);
	}
	printf("%s: %" PRIu64 " reads, %" PRIu64 " writes in %.2f s: %.0f ops/s, %.1f MiB/s;"
	       " %" PRIu64 " reads saw wrong data, %" PRIu64 " I/O errors\n",
	       r->name, reads, writes, r->seconds,
	       r->seconds > 0 ? (double)r->done / r->seconds : 0.0,
	       r->seconds > 0 ? (double)r->done * (double)bsize / r->seconds / (1 << 20) : 0.0,
	       bad, errors);
	if (bad || errors)
		ok = false;
	return ok;
}

/*
 * A run on a file descriptor of its own: the kernel's page cache (no
 * O_DIRECT) or no cache at all (O_DIRECT, what the server would do without
 * libpgcache). Either starts cold: the file was last written with O_DIRECT
 * and any page of it the kernel cached is dropped first. The kernel's dirty
 * pages are written back afterwards, outside the timed run, as libpgcache's
 * are by its final flush; O_DIRECT writes have nothing left to flush.
 */
static bool run_on_fd(struct run *r, const char *path, struct worker *w, unsigned threads,
		      uint64_t ops, size_t bsize)
{
	bool ok = true;
	uint64_t t0;

	r->seconds = r->flush_ms = 0;
	r->done = 0;
	r->fd = open(path, r->open_flags | O_RDWR | O_CLOEXEC);
	if (r->fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return false;
	}
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_DONTNEED);
	if (run_workload(r, w, threads, ops, NULL))
		ok = false;
	ok &= report_run(r, w, threads, bsize);
	if (!(r->open_flags & O_DIRECT)) {
		t0 = now_ns();
		if (fsync(r->fd))
			ok = false;
		r->flush_ms = (double)(now_ns() - t0) / 1e6;
		printf("  fsync of the kernel's dirty pages: %.0f ms\n", r->flush_ms);
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	close(r->fd);
	r->fd = -1;
	return ok;
}

/* ---- the kernel's memory, limited by a cgroup --------------------------- */

/*
 * A child cgroup of a cgroup v2 hierarchy whose memory.max holds the
 * kernel run to the memory libpgcache has. The run happens in a forked
 * child that moves itself into the cgroup, so that the demo process, with
 * the library's threads and frames, stays where it was; the cgroup is
 * removed at the end.
 */
struct memcg {
	char dir[PATH_MAX];	/* the cgroup, "" if there is none */
	uint64_t limit;		/* its memory.max, bytes */
};

/* What a forked kernel run sends back: it lives in a MAP_SHARED page. */
struct child_result {
	double seconds, flush_ms;
	uint64_t done;
	int ok;			/* every check of the run passed */
	int join_err;		/* errno of the move into the cgroup, 0 if it went */
};

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

/* Reads a small file (a cgroup's control file) into buf, NUL-terminated. */
static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* True if the space-separated list holds the word. */
static bool has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == 0 || p[len] == ' ' || p[len] == '\n'))
			return true;
	return false;
}

/*
 * Finds the cgroup v2 mount, the root of this process's cgroup namespace.
 * Children of its root get the memory controller only if the root's
 * cgroup.subtree_control lists it; the demo never enables a controller
 * itself, which would change the machine's configuration.
 */
static bool memcg_find_root(char *root, size_t size, char *why, size_t whylen)
{
	char line[PATH_MAX + 256], list[512], path[PATH_MAX + 32];
	FILE *f = fopen("/proc/self/mounts", "re");
	bool found = false;

	snprintf(why, whylen, "no cgroup v2 is mounted");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char dev[64], dir[PATH_MAX], type[64];

		if (sscanf(line, "%63s %4095s %63s", dev, dir, type) != 3 ||
		    strcmp(type, "cgroup2"))
			continue;
		snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
		if (read_text(path, list, sizeof(list)) || !has_word(list, "memory")) {
			snprintf(why, whylen, "cgroup v1 or hybrid: no memory controller in %s",
				 dir);
			continue;
		}
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
		if (read_text(path, list, sizeof(list)) || !has_word(list, "memory")) {
			snprintf(why, whylen, "memory controller not enabled below %s", dir);
			continue;
		}
		snprintf(root, size, "%s", dir);
		found = true;
	}
	fclose(f);
	return found;
}

/* Runs a child that moves itself into the cgroup and exits: -errno if it could not. */
static int memcg_try_join(const struct memcg *cg)
{
	char procs[PATH_MAX + 32];
	int status, err;
	pid_t pid;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg->dir);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		err = write_text(procs, "0");
		_exit(err ? -err : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? -WEXITSTATUS(status) : -ECHILD;
}

static void memcg_remove(struct memcg *cg)
{
	if (!cg->dir[0])
		return;
	/* A child that has just exited may keep the cgroup busy for a moment. */
	for (int i = 0; i < 200; i++) {
		if (rmdir(cg->dir) == 0 || errno == ENOENT) {
			cg->dir[0] = 0;
			return;
		}
		if (errno != EBUSY)
			break;
		usleep(10000);
	}
	fprintf(stderr, PROG ": cannot remove the cgroup %s: %s\n", cg->dir, strerror(errno));
}

/*
 * Creates the cgroup, pgcache-demo.<pid> below the hierarchy's root, with
 * memory.max = limit and no swap, and checks that a process can join it.
 * Returns false, with the reason in why, if the machine does not allow it.
 */
static bool memcg_create(struct memcg *cg, uint64_t limit, char *why, size_t whylen)
{
	char root[PATH_MAX], path[PATH_MAX + 32], num[32];
	int err;

	cg->dir[0] = 0;
	cg->limit = limit;
	if (geteuid() != 0) {
		snprintf(why, whylen, "creating a cgroup needs root");
		return false;
	}
	if (!memcg_find_root(root, sizeof(root), why, whylen))
		return false;
	if (snprintf(cg->dir, sizeof(cg->dir), "%s/" PROG ".%d", root, (int)getpid()) >=
	    (int)sizeof(cg->dir)) {
		snprintf(why, whylen, "the cgroup's path would be too long");
		cg->dir[0] = 0;
		return false;
	}
	if (mkdir(cg->dir, 0755)) {
		snprintf(why, whylen, "cannot create %s: %s", cg->dir, strerror(errno));
		cg->dir[0] = 0;
		return false;
	}
	snprintf(path, sizeof(path), "%s/memory.max", cg->dir);
	snprintf(num, sizeof(num), "%" PRIu64, limit);
	err = write_text(path, num);
	if (!err) {
		/* Without swap the limit can only be met by dropping page cache. */
		snprintf(path, sizeof(path), "%s/memory.swap.max", cg->dir);
		if (access(path, F_OK) == 0)
			err = write_text(path, "0");
	}
	if (!err)
		err = memcg_try_join(cg);
	if (err) {
		snprintf(why, whylen, "cannot set up or join %s: %s", cg->dir, strerror(-err));
		memcg_remove(cg);
		cg->dir[0] = 0;
		return false;
	}
	return true;
}

/* The highest memory use of the cgroup so far (memory.peak), 0 if unknown. */
static uint64_t memcg_peak(const struct memcg *cg)
{
	char path[PATH_MAX + 32], buf[64];

	snprintf(path, sizeof(path), "%s/memory.peak", cg->dir);
	return read_text(path, buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 10);
}

/* How often the kernel killed a process of the cgroup for want of memory. */
static uint64_t memcg_oom_kills(const struct memcg *cg)
{
	char path[PATH_MAX + 32], buf[512], *p;

	snprintf(path, sizeof(path), "%s/memory.events", cg->dir);
	if (read_text(path, buf, sizeof(buf)) || !(p = strstr(buf, "oom_kill ")))
		return 0;
	return strtoull(p + 9, NULL, 10);
}

/*
 * run_on_fd in a forked child that first moves itself into the cgroup, so
 * that the kernel's page cache for the run is charged to it and held to
 * its memory.max. The child updates the shadow versions in shared memory
 * and sends its figures back through res; the parent waits for it.
 */
static bool run_on_fd_in_memcg(struct run *r, const char *path, struct worker *w,
			       unsigned threads, uint64_t ops, size_t bsize,
			       const struct memcg *cg, struct child_result *res)
{
	char procs[PATH_MAX + 32];
	int status;
	pid_t pid;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg->dir);
	memset(res, 0, sizeof(*res));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return false;
	}
	if (pid == 0) {
		res->join_err = -write_text(procs, "0");
		if (!res->join_err) {
			res->ok = run_on_fd(r, path, w, threads, ops, bsize);
			res->seconds = r->seconds;
			res->done = r->done;
			res->flush_ms = r->flush_ms;
		}
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	r->seconds = res->seconds;
	r->done = res->done;
	r->flush_ms = res->flush_ms;
	if (res->join_err) {
		fprintf(stderr, PROG ": cannot move the kernel run into %s: %s\n", cg->dir,
			strerror(res->join_err));
		return false;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("  the kernel run's process was %s%s\n", WIFSIGNALED(status) ?
		       "killed by signal " : "ended with status ", WIFSIGNALED(status) ?
		       strsignal(WTERMSIG(status)) : "non-zero");
		if (memcg_oom_kills(cg))
			printf("  (by the cgroup's OOM killer: memory.max is too small for it)\n");
		r->seconds = 0;
		r->done = 0;
		return false;
	}
	return res->ok;
}

/* ---- the rounds and their medians --------------------------------------- */

/* One figure per round: throughputs, ratios, hit ratios, flush times. */
struct series {
	unsigned n;
	double v[MAX_ROUNDS];
};

/* What the summary needs from all the rounds. */
struct tally {
	struct series kern, direct, lib;	/* ops/s */
	struct series vs_kern, vs_direct;	/* libpgcache's ops/s over theirs */
	struct series hits, misses, evictions;	/* libpgcache's, per run */
	struct series kern_flush, lib_flush;	/* ms */
	uint64_t ops;				/* per run */
	unsigned rounds;			/* begun */
};

static void series_add(struct series *s, double x)
{
	if (s->n < MAX_ROUNDS)
		s->v[s->n++] = x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median (the mean of the middle two for an even count), 0 if empty. */
static double series_median(const struct series *s)
{
	double v[MAX_ROUNDS];

	if (!s->n)
		return 0;
	memcpy(v, s->v, s->n * sizeof(v[0]));
	qsort(v, s->n, sizeof(v[0]), cmp_double);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

static double series_min(const struct series *s)
{
	double m = s->n ? s->v[0] : 0;

	for (unsigned i = 1; i < s->n; i++)
		m = s->v[i] < m ? s->v[i] : m;
	return m;
}

static double series_max(const struct series *s)
{
	double m = s->n ? s->v[0] : 0;

	for (unsigned i = 1; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

/* Operations per second of a finished run, 0 if it did not run. */
static double run_rate(const struct run *r)
{
	return r->seconds > 0 && r->done ? (double)r->done / r->seconds : 0;
}

/* ---- the libpgcache runs ----------------------------------------------- */

/*
 * A libpgcache run on a new mapping of the store's file, so that it starts
 * cold as the other runs do. The error sample taken at creation is what a
 * file descriptor would hold, so that the sync after the run reports any
 * write error since. *before receives the cache's counters at the start:
 * the figures of this run are the differences.
 */
static bool run_library(struct run *r, pgc_cache *cache, pgc_store *store, struct worker *w,
			unsigned threads, uint64_t ops, size_t bsize, pgc_mapping **mp,
			pgc_errseq_t *since, struct pgc_stats *before)
{
	struct pgc_stats st;
	bool ok = true;
	int err;

	err = pgc_store_mapping_create(cache, store, mp);
	if (err) {
		fprintf(stderr, PROG ": pgc_store_mapping_create: %s\n", pgc_strerror(err));
		return false;
	}
	*since = pgc_mapping_sample_error(*mp);
	r->mapping = *mp;
	r->seconds = 0;
	r->done = 0;
	get_stats(cache, before);
	if (atomic_load(&stop_requested))
		return true;
	if (run_workload(r, w, threads, ops, cache))
		ok = false;
	ok &= report_run(r, w, threads, bsize);
	if (get_stats(cache, &st) == 0) {
		uint64_t hits = st.hits - before->hits, misses = st.misses - before->misses;

		printf("  hits %.1f%% (%" PRIu64 " hits, %" PRIu64 " misses), %" PRIu64
		       " evicted, %" PRIu64 " dirty now\n",
		       hits + misses ? 100.0 * (double)hits / (double)(hits + misses) : 0.0,
		       hits, misses, st.evictions - before->evictions, st.dirty);
	}
	return ok;
}

/* Every dirty page of the mapping back to the file, and the file to the disk
 * (pgc_sync_range ends with the store's sync operation, an fdatasync). */
static int flush_library(pgc_mapping *m, pgc_errseq_t *since, double *ms)
{
	uint64_t t0 = now_ns();
	int err = pgc_sync_range(m, 0, UINT64_MAX, since);

	*ms = (double)(now_ns() - t0) / 1e6;
	return err;
}

/* ---- the cache's figures ---------------------------------------------- */

static void print_cache_report(pgc_cache *cache, pgc_mapping *m, const struct pgc_stats *b)
{
	int nodes[PGC_MAX_NODES], nr;
	struct pgc_stats st;
	int err = get_stats(cache, &st);

	if (err) {
		printf("  pgc_cache_stats: %s\n", pgc_strerror(err));
		return;
	}
	/* The counters since the run began; the rest is the cache as it is now. */
	st.hits -= b->hits;
	st.misses -= b->misses;
	st.inserts -= b->inserts;
	st.evictions -= b->evictions;
	st.reclaim_writes -= b->reclaim_writes;
	printf("  hit ratio   %.1f%% (%" PRIu64 " hits, %" PRIu64 " misses: page lookups of reads"
	       " and writes)\n", hit_ratio(&st), st.hits, st.misses);
	printf("  pages       %" PRIu64 " inserted, %" PRIu64 " evicted by reclaim, %" PRIu64
	       " written back by reclaim\n", st.inserts, st.evictions, st.reclaim_writes);
	printf("  now         %" PRIu64 " resident of %" PRIu64 ", %" PRIu64 " dirty, %" PRIu64
	       " under writeback (mapping: %" PRIu64 " pages, %" PRIu64 " dirty)\n",
	       st.resident, st.capacity, st.dirty, st.writeback, pgc_mapping_nr_pages(m),
	       pgc_mapping_nr_dirty(m));
	nr = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	for (int i = 0; i < nr && i < PGC_MAX_NODES; i++) {
		struct pgc_node_stats ns;

		memset(&ns, 0, sizeof(ns));
		ns.size = sizeof(ns);
		if (pgc_cache_node_stats(cache, nodes[i], &ns) == 0)
			printf("  node %-3d    %" PRIu64 " resident (%" PRIu64 " active, %" PRIu64
			       " inactive), %" PRIu64 " free frames\n", ns.node, ns.resident,
			       ns.active, ns.inactive, ns.free);
	}
}

/* ---- the summary --------------------------------------------------------- */

/*
 * Within this much of 1.0 the two are called as fast as each other: runs
 * of a tenth of a second on a shared machine differ by more than that.
 */
#define TIE_BAND 0.05

/*
 * One comparison: libpgcache's throughput over another's, the median of
 * the rounds' ratios, as "faster" or "slower", and the lowest and highest
 * round. When the rounds do not agree on which is faster the line says so,
 * rather than let one noisy round decide.
 */
static void print_ratio(const char *label, const char *than, const struct series *s)
{
	double med = series_median(s), lo = series_min(s), hi = series_max(s);

	if (!s->n || med <= 0)
		return;
	printf("  %-11s ", label);
	if (med > 1 - TIE_BAND && med < 1 + TIE_BAND)
		printf("libpgcache as fast as %s: %.2fx", than, med);
	else if (med >= 1)
		printf("libpgcache %.2fx faster than %s", med, than);
	else
		printf("libpgcache %.2fx slower than %s (%.2fx)", 1 / med, than, med);
	if (s->n > 1)
		printf(",\n              rounds %.2fx..%.2fx%s", lo, hi, lo < 1 && hi > 1 ?
		       ": they disagree on which is faster" : "");
	printf("\n");
}

/* Why libpgcache lost a comparison clearly, from what the demo measured. */
static void print_why_slower(const struct tally *t, bool equal_memory, double cache_mib)
{
	double hits = series_median(&t->hits), misses = series_median(&t->misses);
	double ratio = hits + misses > 0 ? 100.0 * hits / (hits + misses) : 0.0;

	if (t->vs_kern.n && series_median(&t->vs_kern) <= 1 - TIE_BAND && !equal_memory)
		printf("  why slower  the kernel had more memory than libpgcache's %.1f MiB (see memory):"
		       "\n              that compares memory sizes, not caches; the default run"
		       " compares like with like\n", cache_mib);
	else if (t->vs_kern.n && series_median(&t->vs_kern) <= 1 - TIE_BAND) {
		printf("  why slower  %s libpgcache missed %.0f times per run (hit ratio %.1f%%),\n"
		       "              each miss a 4 KiB read from the disk that the thread waits for,"
		       "\n              where the kernel reads ahead around its misses",
		       series_median(&t->evictions) > 0 ? "the file is larger than the cache:" :
		       "each run starts cold:", misses, ratio);
		/* At the O_DIRECT run's pace, one operation per thread at a time. */
		if (t->direct.n && series_median(&t->lib) > 0)
			printf(";\n              the run took %.2f s, about what %.0f O_DIRECT"
			       " operations take (%.2f s):\n              the cold misses decide it,"
			       " not the hits (a longer --ops has more hits per miss)",
			       (double)t->ops / series_median(&t->lib), misses,
			       misses / series_median(&t->direct));
		printf("\n");
	}
	if (t->vs_direct.n && series_median(&t->vs_direct) <= 1 - TIE_BAND)
		printf("  why slower  with a hit ratio of %.1f%% the cache's copies and reclaim cost"
		       " more than its hits save\n", ratio);
}

/* The last lines of the output: what was compared, the ratios, the check. */
static void print_summary(const struct tally *t, const struct options *o,
			  const struct shared *sh, bool equal_memory, const char *memory_how,
			  int verified, uint64_t bad)
{
	double cache_mib = (double)(o->capacity * sh->bsize) / (1 << 20);

	printf("\nsummary: %u round%s of the same %" PRIu64 " operations (%u threads, %u%% writes)"
	       " on a %.1f MiB file,\n  each run starting cold, throughputs without the write-back"
	       " after the run; medians of the rounds:\n", t->rounds, t->rounds == 1 ? "" : "s",
	       o->ops, o->threads, o->write_pct, (double)(sh->blocks * sh->bsize) / (1 << 20));
	if (atomic_load(&stop_requested))
		printf("  INTERRUPTED the last round did not finish: its figures cover fewer"
		       " operations\n");
	if (t->vs_kern.n)
		printf("  memory      %s\n", memory_how);
	print_ratio("vs kernel", equal_memory ? "the kernel's page cache, same memory"
		    : "the kernel's page cache with MORE memory", &t->vs_kern);
	print_ratio("vs O_DIRECT", "O_DIRECT without a cache", &t->vs_direct);
	print_why_slower(t, equal_memory, cache_mib);
	if (t->kern_flush.n)
		printf("  not timed   the write-back after each run: kernel fsync %.0f ms, libpgcache"
		       " sync %.0f ms\n              (medians)%s\n", series_median(&t->kern_flush),
		       series_median(&t->lib_flush), t->direct.n ? "; O_DIRECT writes were on the"
		       " disk when they returned" : "");
	else if (t->direct.n)
		printf("  not timed   libpgcache's write-back after each run, %.0f ms (median);"
		       " O_DIRECT\n              writes were on the disk when they returned\n",
		       series_median(&t->lib_flush));
	if (verified)
		printf("  verify      %s: %" PRIu64 " of %" PRIu64 " blocks read back with O_DIRECT"
		       " hold their last version\n", bad ? "FAILED" : "PASSED", sh->blocks - bad,
		       sh->blocks);
	else
		printf("  verify      FAILED: the file could not be written back or read back\n");
}

/* ---- moving pages between NUMA nodes --------------------------------- */

/* How many pages got one error status. */
struct status_count {
	int err;
	unsigned count;
};

/*
 * Moves up to `want` cached pages of the mapping to another node of the
 * cache, the way move_pages(2) moves a process's pages: each page held by
 * one reference of ours, a target node per page, a status per page. With a
 * single node the pages are asked to stay where they are, and the statuses
 * say they are there.
 */
static void move_some_pages(pgc_cache *cache, pgc_mapping *m, const struct shared *sh,
			    unsigned want)
{
	int nodes[PGC_MAX_NODES], nr = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	pgc_page **pages = calloc(want ? want : 1, sizeof(*pages));
	int *target = calloc(want ? want : 1, sizeof(int));
	int *before = calloc(want ? want : 1, sizeof(int));
	int *status = calloc(want ? want : 1, sizeof(int));
	unsigned n = 0, moved = 0, there = 0;
	struct status_count errs[16];
	unsigned nerrs = 0;
	long ret;

	if (nr < 1 || !pages || !target || !before || !status) {
		printf("  cannot prepare the move: %s\n",
		       nr < 0 ? pgc_strerror(nr) : "out of memory");
		goto out;
	}
	/* The first cached pages of the file, each with a reference of ours. */
	for (uint64_t b = 0; b < sh->blocks && n < want; b++) {
		if (pgc_mapping_find(m, b, &pages[n]) == 0) {
			before[n] = pgc_page_node(pages[n]);
			target[n] = before[n];
			/* Each page goes to the next node of the cache's list. */
			for (int i = 0; i < nr && nr > 1; i++)
				if (nodes[i] == before[n])
					target[n] = nodes[(i + 1) % nr];
			n++;
		}
	}
	if (n == 0) {
		printf("  no page of the file is cached: nothing to move\n");
		goto out;
	}
	if (nr == 1)
		printf("  this machine (or this process) has a single NUMA node, node %d: there is"
		       " no other node to move pages to.\n  Asking pgc_move_pages() to move %u"
		       " pages to node %d, where they already are.\n", nodes[0], n, nodes[0]);
	else
		printf("  the cache uses %d NUMA nodes: moving %u pages, each to the next node\n",
		       nr, n);
	ret = pgc_move_pages(cache, n, pages, target, status, 0);
	if (ret < 0) {
		printf("  pgc_move_pages: %s (-%s)\n", pgc_strerror((int)ret), errno_name((int)ret));
		for (unsigned i = 0; i < n; i++)
			pgc_page_put(pages[i]);
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		if (status[i] >= 0) {
			if (status[i] == before[i])
				there++;
			else
				moved++;
		} else {
			unsigned k = 0;

			while (k < nerrs && errs[k].err != status[i])
				k++;
			if (k == nerrs && nerrs < 16)
				errs[nerrs++] = (struct status_count){ status[i], 0 };
			if (k < nerrs)
				errs[k].count++;
		}
		/* A page moved by copy was replaced by its new page in pages[];
		 * our reference moved with it. */
		pgc_page_put(pages[i]);
	}
	printf("  pgc_move_pages returned %ld (pages not moved); statuses: %u moved,"
	       " %u already on their target node", ret, moved, there);
	for (unsigned k = 0; k < nerrs; k++)
		printf(", %u -%s (%s)", errs[k].count, errno_name(errs[k].err),
		       pgc_strerror(errs[k].err));
	printf("\n");
out:
	free(pages);
	free(target);
	free(before);
	free(status);
}

/* ---- the test file ----------------------------------------------------- */

struct testfile {
	char path[PATH_MAX];
	bool created;		/* the demo made it: removed at the end unless --keep */
	pgc_store *store;
};

/* Opens (and creates) path as an O_DIRECT store. */
static int open_store(const char *path, int flags, struct testfile *tf)
{
	int err = pgc_store_open(path, flags, 0644, &tf->store);

	if (err == -EINVAL)
		fprintf(stderr, PROG ": %s: the file system refuses O_DIRECT (or the file is"
			" not usable)\n", path);
	else if (err)
		fprintf(stderr, PROG ": %s: %s\n", path, pgc_strerror(err));
	return err;
}

/* True if the file's first block is a block this demo wrote. */
static bool is_demo_file(const char *path)
{
	uint64_t w[3];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = pread(fd, w, sizeof(w), 0) == (ssize_t)sizeof(w) && w[0] == DEMO_MAGIC && w[1] == 0;
	close(fd);
	return yes;
}

/*
 * Opens the file of --file, or creates a temporary one in the first
 * directory that takes O_DIRECT (tmpfs, for one, may refuse it).
 * Returns 0, 1 (an error) or 2 (a usage error).
 */
static int open_test_file(const struct options *o, struct testfile *tf)
{
	const char *cands[5];
	unsigned nc = 0;
	struct stat sb;

	memset(tf, 0, sizeof(*tf));
	if (o->file) {
		if (stat(o->file, &sb) == 0) {
			if (!S_ISREG(sb.st_mode)) {
				fprintf(stderr, PROG ": %s is not a regular file\n", o->file);
				return 2;
			}
			if (sb.st_size > 0 && !o->force && !is_demo_file(o->file)) {
				fprintf(stderr, PROG ": %s is not a file this demo wrote; its"
					" contents would be lost: use --force to overwrite it\n",
					o->file);
				return 2;
			}
		} else {
			tf->created = true;
		}
		snprintf(tf->path, sizeof(tf->path), "%s", o->file);
		if (open_store(tf->path, O_RDWR | O_CREAT, tf)) {
			if (tf->created)
				unlink(tf->path);
			return 1;
		}
		return 0;
	}
	if (o->dir) {
		cands[nc++] = o->dir;
	} else {
		if (getenv("TMPDIR") && *getenv("TMPDIR"))
			cands[nc++] = getenv("TMPDIR");
		cands[nc++] = "/var/tmp";
		cands[nc++] = "/tmp";
		cands[nc++] = ".";
	}
	for (unsigned i = 0; i < nc; i++) {
		int fd;

		snprintf(tf->path, sizeof(tf->path), "%s/pgcache-demo.XXXXXX", cands[i]);
		fd = mkstemp(tf->path);
		if (fd < 0) {
			if (o->dir)
				fprintf(stderr, PROG ": cannot create a file in %s: %s\n", cands[i],
					strerror(errno));
			continue;
		}
		close(fd);
		tf->created = true;
		if (open_store(tf->path, O_RDWR, tf) == 0)
			return 0;
		unlink(tf->path);
		tf->created = false;
	}
	fprintf(stderr, PROG ": found no directory for the test file that takes O_DIRECT;"
		" name one with --dir or a file with --file\n");
	return 1;
}

/* Writes version 0 of every block, 1 MiB at a time, through the store. */
static int fill_file(struct testfile *tf, struct shared *sh)
{
	size_t align = pgc_store_mem_align(tf->store), per = IO_CHUNK / sh->bsize;
	unsigned char *buf;
	int err;

	if (align < sh->bsize)
		align = sh->bsize;
	buf = aligned_alloc(align, IO_CHUNK);
	if (!buf)
		return -ENOMEM;
	err = pgc_store_truncate(tf->store, sh->blocks * sh->bsize);
	for (uint64_t b = 0; !err && b < sh->blocks; b += per) {
		uint64_t n = sh->blocks - b < per ? sh->blocks - b : per;
		struct iovec iov = { buf, n * sh->bsize };
		ssize_t w;

		for (uint64_t k = 0; k < n; k++)
			fill_block(buf + k * sh->bsize, sh->bsize, b + k, 0);
		w = pgc_store_write(tf->store, &iov, 1, b * sh->bsize);
		if (w < 0)
			err = (int)w;
	}
	if (!err)
		err = pgc_store_sync(tf->store);
	free(buf);
	return err;
}

/*
 * Reads the whole file back through a descriptor of its own, with O_DIRECT
 * so that nothing comes from any cache, and compares every block with the
 * shadow. Returns the number of bad blocks (or UINT64_MAX if it could not
 * read).
 */
static uint64_t verify_file(const char *path, const struct shared *sh)
{
	int fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	size_t per = IO_CHUNK / sh->bsize;
	uint64_t bad = 0, version;
	unsigned char *buf = aligned_alloc(sh->bsize, IO_CHUNK);

	if (fd < 0 || !buf) {
		printf("  cannot read %s back: %s\n", path, fd < 0 ? strerror(errno) : "no memory");
		bad = UINT64_MAX;
		goto out;
	}
	for (uint64_t b = 0; b < sh->blocks; b += per) {
		uint64_t n = sh->blocks - b < per ? sh->blocks - b : per;
		ssize_t r = pread(fd, buf, n * sh->bsize, (off_t)(b * sh->bsize));

		if (r != (ssize_t)(n * sh->bsize)) {
			printf("  short read or error at block %" PRIu64 ": %s\n", b,
			       r < 0 ? strerror(errno) : "end of file");
			bad = UINT64_MAX;
			goto out;
		}
		for (uint64_t k = 0; k < n; k++) {
			uint64_t want = atomic_load(&sh->shadow[b + k]);
			int unrecognised = check_block(buf + k * sh->bsize, sh->bsize, b + k, &version);

			if (!unrecognised && version == want)
				continue;
			if (bad++ < MAX_REPORTED) {
				if (unrecognised)
					printf("  MISMATCH at block %" PRIu64 ": want version %" PRIu64
					       ", found data that is no version of this block\n",
					       b + k, want);
				else
					printf("  MISMATCH at block %" PRIu64 ": want version %" PRIu64
					       ", found version %" PRIu64 "\n", b + k, want, version);
			}
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return bad;
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options]\n"
		"\n"
		"Caches a file with libpgcache through its built-in O_DIRECT store and runs a\n"
		"mixed read/write workload from several threads on it, and, for comparison,\n"
		"the same workload on the kernel's page cache given the same memory (a\n"
		"cgroup v2 memory.max where the machine allows it, else a file that fits in\n"
		"both caches) and on O_DIRECT with no cache; prints the throughputs (medians\n"
		"of a few interleaved rounds, with their spread), the hit ratio, the dirty\n"
		"and writeback counts and the resident pages per NUMA node; moves some pages\n"
		"to another NUMA node (pgc_move_pages); writes everything back, reads the\n"
		"file back with O_DIRECT to check that every block holds its last version,\n"
		"and ends with a summary of the comparisons and the check.\n"
		"\n"
		"The file:\n"
		"  --file PATH     use this file; it is created if missing. Its contents are\n"
		"                  overwritten: an existing file that this demo did not write\n"
		"                  is refused unless --force is given. Default: a new file in\n"
		"                  $TMPDIR, /var/tmp, /tmp or the current directory (the first\n"
		"                  whose file system accepts O_DIRECT)\n"
		"  --dir DIR       create the temporary file in DIR instead\n"
		"  --size SIZE     size of the file in bytes, with an optional K, M or G suffix\n"
		"                  (default: twice the cache when a cgroup limits the kernel's\n"
		"                  memory, so that both caches reclaim; otherwise 3/4 of the\n"
		"                  cache, so that the whole file fits in libpgcache's cache as\n"
		"                  it does in the kernel's. A file larger than the cache without\n"
		"                  a cgroup gives the kernel more memory, and the demo says so)\n"
		"  --keep          keep the file the demo created (it is removed by default; a\n"
		"                  file that existed before is never removed)\n"
		"  --force         overwrite an existing --file that this demo did not write\n"
		"\n"
		"The cache and the workload:\n"
		"  --capacity N    pages in the cache (default 4096, i.e. 16 MiB of 4 KiB pages)\n"
		"  --threads N     worker threads (default 2, at most %d)\n"
		"  --ops N         block reads and writes per run, shared among the threads\n"
		"                  (default 60000)\n"
		"  --write-pct P   percentage of operations that write a block (default 30)\n"
		"  --seq-pct P     percentage of operations that start a sequential run of\n"
		"                  %d to %d blocks instead of one random block (default 30)\n"
		"  --seed N        seed of the workload (default: from the clock; printed, so\n"
		"                  that a run can be repeated)\n"
		"  --no-kernel     skip the run on the kernel's page cache\n"
		"  --kernel-memory MODE\n"
		"                  how the kernel's page cache gets the memory libpgcache has:\n"
		"                  'cgroup' runs it in a child cgroup v2 with memory.max = the\n"
		"                  cache + %u MiB (needs root and the memory controller enabled\n"
		"                  below the cgroup v2 root; the cgroup is removed at the end);\n"
		"                  'fit' sizes the file to fit in both caches; 'auto' (the\n"
		"                  default) is 'cgroup' where the machine allows it, else 'fit'\n"
		"  --no-direct     skip the run on O_DIRECT without a cache\n"
		"  --rounds N      run each contender N times, in turn (default 3, at most %d);\n"
		"                  the summary gives the medians and the lowest and highest\n"
		"                  round\n"
		"  --move N        pages to move between NUMA nodes after the workload\n"
		"                  (default 256; 0 skips the move)\n"
		"  --help          this text\n"
		"\n"
		"A block is one cache page (the OS page size). Each round runs the kernel's\n"
		"page cache, O_DIRECT and libpgcache in turn, each on a cold cache and with\n"
		"the same operations; throughputs leave out the write-back after a run.\n"
		"Each written block carries its number and a version, and every read and the\n"
		"final check compare it with the last version written.\n"
		"Ctrl-C stops the workload early; the demo still writes back, checks and\n"
		"removes its file.\n"
		"\n"
		"Exit status: 0 if every check passed, 1 if one failed or the demo could not\n"
		"run, 2 for a usage error.\n",
		MAX_THREADS, SEQ_RUN_MIN, SEQ_RUN_MAX, MEMCG_SLACK >> 20, MAX_ROUNDS);
}

static int parse_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A size in bytes with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || arg[0] == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end || v == 0 || v > (UINT64_C(1) << 44) >> shift)
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Returns 0, or 2 after a usage error (-1 after --help: exit 0). */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_FILE = 256, OPT_DIR, OPT_SIZE, OPT_KEEP, OPT_FORCE, OPT_CAPACITY,
	       OPT_THREADS, OPT_OPS, OPT_WRITE_PCT, OPT_SEQ_PCT, OPT_SEED, OPT_NO_KERNEL,
	       OPT_NO_DIRECT, OPT_ROUNDS, OPT_KERNEL_MEMORY,
	       OPT_MOVE, OPT_HELP };
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, OPT_FILE },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "capacity", required_argument, NULL, OPT_CAPACITY },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "ops", required_argument, NULL, OPT_OPS },
		{ "write-pct", required_argument, NULL, OPT_WRITE_PCT },
		{ "seq-pct", required_argument, NULL, OPT_SEQ_PCT },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "no-kernel", no_argument, NULL, OPT_NO_KERNEL },
		{ "no-direct", no_argument, NULL, OPT_NO_DIRECT },
		{ "rounds", required_argument, NULL, OPT_ROUNDS },
		{ "kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY },
		{ "move", required_argument, NULL, OPT_MOVE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool seed_given = false;
	uint64_t v = 0;
	int c;

	*o = (struct options){ .capacity = 4096, .threads = 2, .ops = 60000,
			       .write_pct = 30, .seq_pct = 30, .move = 256, .rounds = 3 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *bad = NULL;

		switch (c) {
		case OPT_FILE:
			o->file = optarg;
			break;
		case OPT_DIR:
			o->dir = optarg;
			break;
		case OPT_SIZE:
			if (parse_size(optarg, &o->size))
				bad = "--size";
			break;
		case OPT_KEEP:
			o->keep = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_CAPACITY:
			if (parse_u64(optarg, 16, UINT64_C(1) << 28, &o->capacity))
				bad = "--capacity";
			break;
		case OPT_THREADS:
			if (parse_u64(optarg, 1, MAX_THREADS, &v))
				bad = "--threads";
			o->threads = (unsigned)v;
			break;
		case OPT_OPS:
			if (parse_u64(optarg, 0, UINT64_C(1) << 40, &o->ops))
				bad = "--ops";
			break;
		case OPT_WRITE_PCT:
			if (parse_u64(optarg, 0, 100, &v))
				bad = "--write-pct";
			o->write_pct = (unsigned)v;
			break;
		case OPT_SEQ_PCT:
			if (parse_u64(optarg, 0, 100, &v))
				bad = "--seq-pct";
			o->seq_pct = (unsigned)v;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				bad = "--seed";
			seed_given = true;
			break;
		case OPT_NO_KERNEL:
			o->no_kernel = true;
			break;
		case OPT_NO_DIRECT:
			o->no_direct = true;
			break;
		case OPT_KERNEL_MEMORY:
			if (!strcmp(optarg, "auto"))
				o->kmem = KMEM_AUTO;
			else if (!strcmp(optarg, "cgroup"))
				o->kmem = KMEM_CGROUP;
			else if (!strcmp(optarg, "fit"))
				o->kmem = KMEM_FIT;
			else
				bad = "--kernel-memory";
			break;
		case OPT_ROUNDS:
			if (parse_u64(optarg, 1, MAX_ROUNDS, &v))
				bad = "--rounds";
			o->rounds = (unsigned)v;
			break;
		case OPT_MOVE:
			if (parse_u64(optarg, 0, 1u << 20, &v))
				bad = "--move";
			o->move = (unsigned)v;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return -1;
		default:
			fprintf(stderr, "(" PROG " --help lists the options)\n");
			return 2;
		}
		if (bad) {
			fprintf(stderr, PROG ": bad value '%s' for %s (see --help)\n", optarg, bad);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (o->file && o->dir) {
		fprintf(stderr, PROG ": --file and --dir do not go together\n");
		return 2;
	}
	if (!seed_given)
		o->seed = now_ns() ^ ((uint64_t)getpid() << 32);
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

static void log_to_stderr(void *arg, int level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	(void)arg;
	fprintf(stderr, PROG ": libpgcache %s: %s\n",
		level >= 0 && level <= 3 ? names[level] : "?", msg);
}

int main(int argc, char **argv)
{
	struct pgc_cache_config cfg;
	struct sigaction sa;
	struct options o;
	struct testfile tf = { .store = NULL };
	struct shared sh;
	struct worker *w = NULL;
	struct run kern = { .name = "kernel page cache", .fd = -1 };
	struct run direct = { .name = "O_DIRECT, no cache", .open_flags = O_DIRECT, .fd = -1 };
	struct run lib = { .name = "libpgcache", .fd = -1 };
	pgc_cache *cache = NULL;
	pgc_mapping *m = NULL;
	pgc_errseq_t since = 0;
	struct pgc_stats before;
	struct tally t;
	char why[PATH_MAX + 128] = "not asked for", memory_how[sizeof(why) + 512];
	struct memcg cg = { .dir = "" };
	struct child_result *child = NULL;
	void *shadow_map = MAP_FAILED;
	size_t shadow_len = 0;
	bool use_memcg = false;
	uint64_t bad = UINT64_MAX;
	bool ok = true, file_ok = false, equal_memory = false, summary = false, flushed = true;
	int err, rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	memset(&t, 0, sizeof(t));
	t.ops = o.ops;
	memset(&before, 0, sizeof(before));
	memory_how[0] = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	printf(PROG ": libpgcache %s\n", pgc_version_string());

	/* The cache: the OS page size, every node the process may use. */
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = o.capacity;
	cfg.log = log_to_stderr;
	cfg.log_level = PGC_LOG_WARN;
	err = pgc_cache_create(&cfg, &cache);
	if (err) {
		fprintf(stderr, PROG ": pgc_cache_create: %s\n", pgc_strerror(err));
		return 1;
	}

	memset(&sh, 0, sizeof(sh));
	sh.bsize = pgc_cache_page_size(cache);

	/*
	 * The same memory for both caches: a cgroup v2 memory.max for the
	 * kernel run where the machine has one; the file can then be larger
	 * than both caches (by default twice), so that both reclaim. Otherwise
	 * the file fits in both, and neither has to.
	 */
	if (!o.no_kernel && o.kmem != KMEM_FIT) {
		use_memcg = memcg_create(&cg, o.capacity * sh.bsize + MEMCG_SLACK, why,
					 sizeof(why));
		if (!use_memcg && o.kmem == KMEM_CGROUP) {
			fprintf(stderr, PROG ": --kernel-memory cgroup: %s\n", why);
			pgc_cache_destroy(cache);
			return 1;
		}
	}
	if (o.size)
		sh.blocks = o.size / sh.bsize;
	else
		sh.blocks = use_memcg ? 2 * o.capacity : o.capacity * FIT_NUM / FIT_DEN;
	if (sh.blocks == 0) {
		fprintf(stderr, PROG ": --size is smaller than one block (%zu bytes)\n", sh.bsize);
		memcg_remove(&cg);
		pgc_cache_destroy(cache);
		return 2;
	}
	for (unsigned i = 0; i < NR_STRIPES; i++)
		pthread_mutex_init(&sh.stripe[i], NULL);
	/*
	 * The shadow versions and the kernel run's figures are shared with the
	 * child process that runs the kernel workload in a cgroup. Both are
	 * touched now, so that their pages are charged here and not to it.
	 */
	shadow_len = sh.blocks * sizeof(*sh.shadow) + sizeof(*child);
	shadow_map = mmap(NULL, shadow_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			  -1, 0);
	if (shadow_map != MAP_FAILED) {
		memset(shadow_map, 0, shadow_len);
		sh.shadow = shadow_map;
		child = (struct child_result *)(sh.shadow + sh.blocks);
	}
	w = calloc(o.threads, sizeof(*w));
	if (!sh.shadow || !w) {
		fprintf(stderr, PROG ": out of memory\n");
		ok = false;
		goto out;
	}
	for (unsigned i = 0; i < o.threads; i++) {
		w[i].sh = &sh;
		w[i].seed = mix64(o.seed + i);
		w[i].nops = o.ops / o.threads + (i < o.ops % o.threads);
		w[i].write_pct = o.write_pct;
		w[i].seq_pct = o.seq_pct;
		w[i].buf = aligned_alloc(sh.bsize, sh.bsize);
		if (!w[i].buf) {
			fprintf(stderr, PROG ": out of memory\n");
			ok = false;
			goto out;
		}
	}

	/* The file, every block at version 0. */
	rc = open_test_file(&o, &tf);
	if (rc) {
		ok = false;
		goto out; /* rc stays: 2 for a file refused as a usage error */
	}
	file_ok = true;
	err = fill_file(&tf, &sh);
	if (err) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", tf.path, pgc_strerror(err));
		ok = false;
		goto out;
	}
	printf("file %s%s: %" PRIu64 " blocks of %zu bytes (%.1f MiB); O_DIRECT block size %zu\n",
	       tf.path, tf.created ? (o.keep ? " (kept)" : " (removed at the end)") : "",
	       sh.blocks, sh.bsize, (double)(sh.blocks * sh.bsize) / (1 << 20),
	       pgc_store_block_size(tf.store));
	printf("cache %" PRIu64 " pages (%.1f MiB); workload: %" PRIu64 " ops per run, %u threads,"
	       " %u%% writes, %u%% sequential runs, seed %" PRIu64 "\n\n",
	       o.capacity, (double)(o.capacity * sh.bsize) / (1 << 20), o.ops, o.threads,
	       o.write_pct, o.seq_pct, o.seed);

	equal_memory = use_memcg || sh.blocks <= o.capacity;
	if (use_memcg)
		snprintf(memory_how, sizeof(memory_how), "the same for both: the kernel runs in a"
			 " cgroup v2 with memory.max %.1f MiB\n              (libpgcache's %.1f MiB"
			 " cache + %.1f MiB for the process); the file is %.1f MiB",
			 (double)cg.limit / (1 << 20), (double)(o.capacity * sh.bsize) / (1 << 20),
			 (double)MEMCG_SLACK / (1 << 20), (double)(sh.blocks * sh.bsize) / (1 << 20));
	else if (equal_memory)
		snprintf(memory_how, sizeof(memory_how), "the same for both: the whole %.1f MiB file"
			 " fits in libpgcache's %.1f MiB cache\n              and in the kernel's"
			 " page cache\n              (no cgroup limit: %s)",
			 (double)(sh.blocks * sh.bsize) / (1 << 20),
			 (double)(o.capacity * sh.bsize) / (1 << 20), why);
	else
		snprintf(memory_how, sizeof(memory_how), "NOT the same: the kernel could keep the"
			 " whole %.1f MiB file in memory, while\n              libpgcache had %.1f MiB"
			 " and read its misses from the disk\n              (no cgroup limit: %s)",
			 (double)(sh.blocks * sh.bsize) / (1 << 20),
			 (double)(o.capacity * sh.bsize) / (1 << 20), why);
	if (!o.no_kernel)
		printf("memory: %s\n\n", memory_how);

	/*
	 * The rounds: the same operations on the kernel's page cache (the file
	 * without O_DIRECT), on O_DIRECT with no cache, and on libpgcache, in
	 * turn, so that a machine busy for a moment slows one round, not one
	 * contender. libpgcache runs last in a round because its last run
	 * leaves dirty pages for the figures, the move and the final flush;
	 * in the rounds before, its pages are written back and dropped with
	 * the mapping, so that the next runs find the file up to date on disk.
	 */
	for (unsigned round = 1; round <= o.rounds && !atomic_load(&stop_requested); round++) {
		printf("round %u of %u\n", round, o.rounds);
		t.rounds = round;
		if (!o.no_kernel && !atomic_load(&stop_requested)) {
			if (use_memcg)
				ok &= run_on_fd_in_memcg(&kern, tf.path, w, o.threads, o.ops,
							 sh.bsize, &cg, child);
			else
				ok &= run_on_fd(&kern, tf.path, w, o.threads, o.ops, sh.bsize);
			series_add(&t.kern, run_rate(&kern));
			series_add(&t.kern_flush, kern.flush_ms);
		}
		if (!o.no_direct && !atomic_load(&stop_requested)) {
			ok &= run_on_fd(&direct, tf.path, w, o.threads, o.ops, sh.bsize);
			series_add(&t.direct, run_rate(&direct));
		}
		if (atomic_load(&stop_requested))
			break;
		if (!run_library(&lib, cache, tf.store, w, o.threads, o.ops, sh.bsize, &m, &since,
				 &before)) {
			ok = false;
			if (!m)
				goto out;
		}
		if (run_rate(&lib) > 0) {
			struct pgc_stats st;

			series_add(&t.lib, run_rate(&lib));
			if (!o.no_kernel && run_rate(&kern) > 0)
				series_add(&t.vs_kern, run_rate(&lib) / run_rate(&kern));
			if (!o.no_direct && run_rate(&direct) > 0)
				series_add(&t.vs_direct, run_rate(&lib) / run_rate(&direct));
			if (get_stats(cache, &st) == 0) {
				series_add(&t.hits, (double)(st.hits - before.hits));
				series_add(&t.misses, (double)(st.misses - before.misses));
				series_add(&t.evictions, (double)(st.evictions - before.evictions));
			}
		}
		if (round < o.rounds && !atomic_load(&stop_requested)) {
			double ms;

			err = flush_library(m, &since, &ms);
			series_add(&t.lib_flush, ms);
			printf("  write-back of libpgcache's dirty pages: %.0f ms: %s\n", ms,
			       pgc_strerror(err));
			if (!err)
				err = pgc_mapping_destroy(m);
			if (err) {
				ok = false;
				goto out;
			}
			m = NULL;
		}
		printf("\n");
	}
	if (!m) {
		/* Interrupted between two rounds: an empty mapping for the rest. */
		err = pgc_store_mapping_create(cache, tf.store, &m);
		if (err) {
			fprintf(stderr, PROG ": pgc_store_mapping_create: %s\n", pgc_strerror(err));
			ok = false;
			goto out;
		}
		since = pgc_mapping_sample_error(m);
		get_stats(cache, &before);
	}

	printf("throughput over %u round%s, ops/s: median (lowest..highest)\n", t.rounds,
	       t.rounds == 1 ? "" : "s");
	if (t.kern.n)
		printf("  %-20s %9.0f (%.0f..%.0f)\n", kern.name, series_median(&t.kern),
		       series_min(&t.kern), series_max(&t.kern));
	if (t.direct.n)
		printf("  %-20s %9.0f (%.0f..%.0f)\n", direct.name, series_median(&t.direct),
		       series_min(&t.direct), series_max(&t.direct));
	if (t.lib.n)
		printf("  %-20s %9.0f (%.0f..%.0f)\n", lib.name, series_median(&t.lib),
		       series_min(&t.lib), series_max(&t.lib));

	if (use_memcg && memcg_peak(&cg))
		printf("  the kernel runs' cgroup used at most %.1f MiB of its %.1f MiB\n",
		       (double)memcg_peak(&cg) / (1 << 20), (double)cg.limit / (1 << 20));

	printf("\nlibpgcache after its last run:\n");
	print_cache_report(cache, m, &before);
	if (atomic_load(&stop_requested))
		printf("  (interrupted: the runs did not do the same operations)\n");

	if (o.move) {
		printf("\nmoving pages between NUMA nodes:\n");
		move_some_pages(cache, m, &sh, o.move);
	}

	/* Everything back to the file, and the file to the disk. */
	{
		struct pgc_stats st;
		double ms;

		err = flush_library(m, &since, &ms);
		series_add(&t.lib_flush, ms);
		get_stats(cache, &st);
		printf("\nflush: pgc_sync_range and fdatasync in %.0f ms: %s; now %" PRIu64
		       " dirty, %" PRIu64 " under writeback\n", ms, pgc_strerror(err), st.dirty,
		       st.writeback);
		if (err || st.dirty || st.writeback) {
			ok = false;
			flushed = false;
		}
	}

	/* The file as a new reader sees it, bypassing every cache. */
	bad = verify_file(tf.path, &sh);
	if (bad == UINT64_MAX) {
		ok = false;
	} else {
		printf("verification: %" PRIu64 " blocks read back with O_DIRECT, %" PRIu64
		       " mismatches\n", sh.blocks, bad);
		if (bad)
			ok = false;
	}
	summary = true;

out:
	err = pgc_mapping_destroy(m);
	if (err) {
		printf("pgc_mapping_destroy: %s\n", pgc_strerror(err));
		ok = false;
	} else {
		err = pgc_cache_destroy(cache);
		if (err) {
			printf("pgc_cache_destroy: %s\n", pgc_strerror(err));
			ok = false;
		}
	}
	if (tf.store)
		pgc_store_close(tf.store);
	if (tf.created && !o.keep)
		unlink(tf.path);
	if (w)
		for (unsigned i = 0; i < o.threads; i++)
			free(w[i].buf);
	free(w);
	if (shadow_map != MAP_FAILED)
		munmap(shadow_map, shadow_len);
	memcg_remove(&cg);
	for (unsigned i = 0; i < NR_STRIPES; i++)
		pthread_mutex_destroy(&sh.stripe[i]);
	/* The summary comes last, after anything the teardown had to say. */
	if (summary)
		print_summary(&t, &o, &sh, equal_memory, memory_how,
			      flushed && bad != UINT64_MAX, bad == UINT64_MAX ? 0 : bad);
	if (file_ok)
		printf("%s\n", ok ? "PASSED" : "FAILED");
	return ok ? 0 : rc == 2 ? 2 : 1;
}
