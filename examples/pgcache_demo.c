/*
 * pgcache-demo: a tour of the libpgcache foundation, and a self-check.
 *
 * The demo plays a small storage server. Its "disk" is an array in memory
 * (the backing store); a mapping caches it through two operations: readpage
 * copies a page from the store, writepage copies a page back. Several threads
 * then run a mixed workload over a working set larger than the cache, so that
 * reclaim has to evict clean pages and write dirty ones back:
 *
 * - reads go through pgc_mapping_read_page() (a hit, or a miss that calls
 *   readpage), then check the data under the page lock;
 * - writes go through pgc_mapping_find_or_create() (the page comes back
 *   locked), overwrite the whole page and mark it dirty.
 *
 * Every page carries its index and a version number, and a shadow array
 * holds the last version written to each page. A writer bumps the version
 * while it holds the page lock, so under the lock a page's data must carry
 * exactly the version in the shadow array, whether it stayed cached or went
 * to the store and came back. At the end everything is written back with
 * pgc_mapping_writeback(PGC_WB_ALL) and the store must hold, for every page,
 * the last version written. The exit status says whether it did.
 */
#define _GNU_SOURCE
#include <pgcache/pgcache.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEMO_MAGIC 0x70676361636865ull	/* "pgcache" */
#define MAX_THREADS 256
#define SEQ_RUN_MIN 8
#define SEQ_RUN_MAX 64

struct options {
	uint64_t capacity;	/* pages in the cache */
	uint64_t pages;		/* pages in the working set (the store) */
	unsigned threads;
	uint64_t ops;		/* total operations, shared among the threads */
	unsigned write_pct;
	unsigned seq_pct;
	uint64_t seed;
};

/* The owner of the mapping: the store and what the demo knows about it. */
struct store {
	unsigned char *data;	/* pages * page_size bytes */
	size_t page_size;
	uint64_t pages;
	_Atomic uint64_t *shadow;	/* last version written to each page */
	_Atomic uint64_t readpages;
	_Atomic uint64_t writepages;
	_Atomic uint64_t store_errors;	/* index out of range in an operation */
};

struct worker {
	pthread_t tid;
	unsigned id;
	uint64_t seed;
	uint64_t nops;
	pgc_mapping *mapping;
	struct store *st;
	_Atomic uint64_t done;	/* operations done so far, read by the progress line */
	uint64_t reads, writes;
	uint64_t read_mismatch;	/* a page whose data was not the last version */
	uint64_t errors;	/* calls that failed unexpectedly */
	uint64_t enomem;	/* -ENOMEM: no frame could be had */
	int first_err;
	uint64_t first_err_index;
	unsigned write_pct;
	unsigned seq_pct;
};

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

/*
 * Page contents: word 0 the magic, word 1 the index, word 2 the version,
 * then words that depend on both, so that a page torn between two versions
 * or two indexes does not pass the check.
 */
static void fill_page(void *buf, size_t size, uint64_t index, uint64_t version)
{
	uint64_t *w = buf, base = mix64(index * 0x100000001b3ull ^ version);
	size_t n = size / sizeof(uint64_t);

	w[0] = DEMO_MAGIC;
	w[1] = index;
	w[2] = version;
	for (size_t k = 3; k < n; k++)
		w[k] = base + k * 0x9e3779b97f4a7c15ull;
}

/* Returns 0 if the page is a consistent copy of (index, some version), stored in *versionp. */
static int check_page(const void *buf, size_t size, uint64_t index, uint64_t *versionp)
{
	const uint64_t *w = buf;
	size_t n = size / sizeof(uint64_t);
	uint64_t base;

	if (w[0] != DEMO_MAGIC || w[1] != index)
		return -1;
	base = mix64(index * 0x100000001b3ull ^ w[2]);
	for (size_t k = 3; k < n; k++)
		if (w[k] != base + k * 0x9e3779b97f4a7c15ull)
			return -1;
	*versionp = w[2];
	return 0;
}

/* readpage: the page is locked; fill it from the store. */
static int demo_readpage(pgc_mapping *m, pgc_page *page)
{
	struct store *st = pgc_mapping_owner(m);
	uint64_t index = pgc_page_index(page);

	if (index >= st->pages) {
		atomic_fetch_add(&st->store_errors, 1);
		return -EIO;
	}
	memcpy(pgc_page_data(page), st->data + index * st->page_size, st->page_size);
	atomic_fetch_add_explicit(&st->readpages, 1, memory_order_relaxed);
	return 0;
}

/* writepage: the page is locked, its dirty flag cleared, writeback set. */
static int demo_writepage(pgc_mapping *m, pgc_page *page, struct pgc_writeback_control *wbc)
{
	struct store *st = pgc_mapping_owner(m);
	uint64_t index = pgc_page_index(page);

	(void)wbc;
	if (index >= st->pages) {
		atomic_fetch_add(&st->store_errors, 1);
		return -EIO;
	}
	memcpy(st->data + index * st->page_size, pgc_page_data(page), st->page_size);
	atomic_fetch_add_explicit(&st->writepages, 1, memory_order_relaxed);
	return 0;
}

static void note_error(struct worker *w, int err, uint64_t index)
{
	if (err == -ENOMEM) {
		w->enomem++;
		return;
	}
	if (!w->errors++) {
		w->first_err = err;
		w->first_err_index = index;
	}
}

static void do_read(struct worker *w, uint64_t index)
{
	size_t psize = w->st->page_size;
	uint64_t version;
	pgc_page *p;
	int err;

	err = pgc_mapping_read_page(w->mapping, index, &p);
	if (err) {
		note_error(w, err, index);
		return;
	}
	w->reads++;
	/* Writers change the data under the page lock; read it under the lock too. */
	pgc_page_lock(p);
	if (pgc_page_mapping(p) == w->mapping) {
		if (check_page(pgc_page_data(p), psize, index, &version) ||
		    version != atomic_load(&w->st->shadow[index]))
			w->read_mismatch++;
	}
	pgc_page_unlock(p);
	pgc_page_put(p);
}

static void do_write(struct worker *w, uint64_t index)
{
	size_t psize = w->st->page_size;
	uint64_t version;
	pgc_page *p;
	int err;

	err = pgc_mapping_find_or_create(w->mapping, index, 0, &p);
	if (err) {
		note_error(w, err, index);
		return;
	}
	/* The page is locked: nobody else writes it until we unlock. */
	pgc_page_wait_writeback(p);
	version = atomic_fetch_add(&w->st->shadow[index], 1) + 1;
	fill_page(pgc_page_data(p), psize, index, version);
	if (!pgc_page_test_flag(p, PGC_PG_UPTODATE))
		pgc_page_set_flag(p, PGC_PG_UPTODATE);
	err = pgc_page_set_dirty(p);
	if (err < 0)
		note_error(w, err, index);
	w->writes++;
	pgc_page_unlock(p);
	pgc_page_put(p);
}


/*
 * The workload: either a sequential run of pages (a scan, wrapping at the
 * end of the store) or a single random page; each access is a write with
 * probability write_pct, else a read.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed, done = 0, pages = w->st->pages;

	while (done < w->nops) {
		uint64_t index = rnd_below(&s, pages), run = 1;

		if (rnd_below(&s, 100) < w->seq_pct)
			run = SEQ_RUN_MIN + rnd_below(&s, SEQ_RUN_MAX - SEQ_RUN_MIN + 1);
		for (uint64_t i = 0; i < run && done < w->nops; i++, done++) {
			if (rnd_below(&s, 100) < w->write_pct)
				do_write(w, index);
			else
				do_read(w, index);
			index = index + 1 == pages ? 0 : index + 1;
			if ((done & 255) == 0)
				atomic_store_explicit(&w->done, done, memory_order_relaxed);
		}
	}
	atomic_store_explicit(&w->done, done, memory_order_relaxed);
	return NULL;
}

static void log_to_stderr(void *arg, int level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	(void)arg;
	fprintf(stderr, "pgcache-demo: libpgcache %s: %s\n",
		level >= 0 && level <= 3 ? names[level] : "?", msg);
}

static int get_stats(pgc_cache *cache, struct pgc_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return pgc_cache_stats(cache, st);
}

static void print_stats(pgc_cache *cache, const char *title)
{
	struct pgc_stats st;
	int nodes[PGC_MAX_NODES], nr, err;
	uint64_t lookups;

	err = get_stats(cache, &st);
	if (err) {
		printf("%s: pgc_cache_stats failed: %s\n", title, pgc_strerror(err));
		return;
	}
	lookups = st.hits + st.misses;
	printf("%s\n", title);
	printf("  page size %" PRIu64 " B, capacity %" PRIu64 " pages, %u node(s)\n",
	       st.page_size, st.capacity, st.nr_nodes);
	printf("  lookups   %" PRIu64 ": hits %" PRIu64 ", misses %" PRIu64
	       ", hit ratio %.2f%%\n",
	       lookups, st.hits, st.misses, lookups ? 100.0 * (double)st.hits / (double)lookups : 0.0);
	printf("  inserts   %" PRIu64 ", deletes %" PRIu64 ", evictions %" PRIu64 "\n",
	       st.inserts, st.deletes, st.evictions);
	printf("  reclaim   scanned %" PRIu64 ", wrote back %" PRIu64
	       ", allocation failures %" PRIu64 "\n",
	       st.reclaim_scans, st.reclaim_writes, st.alloc_failures);
	printf("  now       resident %" PRIu64 ", dirty %" PRIu64 ", writeback %" PRIu64
	       ", active %" PRIu64 ", inactive %" PRIu64 ", unevictable %" PRIu64 "\n",
	       st.resident, st.dirty, st.writeback, st.active, st.inactive, st.unevictable);

	nr = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	if (nr < 0) {
		printf("  pgc_cache_nodes failed: %s\n", pgc_strerror(nr));
		return;
	}
	for (int i = 0; i < nr && i < PGC_MAX_NODES; i++) {
		struct pgc_node_stats ns;

		memset(&ns, 0, sizeof(ns));
		ns.size = sizeof(ns);
		err = pgc_cache_node_stats(cache, nodes[i], &ns);
		if (err) {
			printf("  node %d: pgc_cache_node_stats failed: %s\n", nodes[i],
			       pgc_strerror(err));
			continue;
		}
		printf("  node %-3d  resident %" PRIu64 " (stats: %" PRIu64 "), free %" PRIu64
		       ", limit %" PRIu64 ", active %" PRIu64 ", inactive %" PRIu64
		       ", unevictable %" PRIu64 "\n",
		       ns.node, ns.resident,
		       nodes[i] < PGC_STATS_NODES ? st.node_resident[nodes[i]] : ns.resident,
		       ns.free, ns.limit, ns.active, ns.inactive, ns.unevictable);
	}
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"\n"
		"Runs a mixed read/write workload from several threads on a libpgcache\n"
		"cache whose mapping keeps its backing store in memory, with a working set\n"
		"larger than the cache so that reclaim evicts and writes back pages. Then\n"
		"writes everything back and checks that the store holds, for every page,\n"
		"the last version any thread wrote.\n"
		"\n"
		"  --capacity N    pages in the cache (default 4096)\n"
		"  --pages N       pages in the working set, i.e. in the backing store\n"
		"                  (default 2 x capacity; must be at least 1)\n"
		"  --threads N     worker threads (default 2, at most %d)\n"
		"  --ops N         operations in all, shared among the threads (default 200000)\n"
		"  --write-pct P   percentage of operations that write a page (default 30)\n"
		"  --seq-pct P     percentage of operations that start a sequential run of\n"
		"                  %d..%d pages instead of one random page (default 20)\n"
		"  --seed N        seed of the workload (default: from the clock; printed)\n"
		"  --help          this text\n"
		"\n"
		"Reads use pgc_mapping_read_page() and check, under the page lock, that the\n"
		"page holds the last version written; writes use\n"
		"pgc_mapping_find_or_create() and pgc_page_set_dirty().\n"
		"\n"
		"Exit status: 0 if every check passed, 1 if one failed, 2 for a usage error.\n",
		prog, MAX_THREADS, SEQ_RUN_MIN, SEQ_RUN_MAX);
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

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_CAPACITY = 256, OPT_PAGES, OPT_THREADS, OPT_OPS, OPT_WRITE_PCT,
	       OPT_SEQ_PCT, OPT_SEED, OPT_HELP };
	static const struct option longopts[] = {
		{ "capacity", required_argument, NULL, OPT_CAPACITY },
		{ "pages", required_argument, NULL, OPT_PAGES },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "ops", required_argument, NULL, OPT_OPS },
		{ "write-pct", required_argument, NULL, OPT_WRITE_PCT },
		{ "seq-pct", required_argument, NULL, OPT_SEQ_PCT },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool seed_given = false;
	uint64_t v;
	int c;

	*o = (struct options){ .capacity = 4096, .threads = 2, .ops = 200000,
			       .write_pct = 30, .seq_pct = 20 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *name = NULL;

		switch (c) {
		case OPT_CAPACITY:
			if (parse_u64(optarg, 1, UINT64_C(1) << 32, &o->capacity))
				name = "--capacity";
			break;
		case OPT_PAGES:
			if (parse_u64(optarg, 1, UINT64_C(1) << 32, &o->pages))
				name = "--pages";
			break;
		case OPT_THREADS:
			if (parse_u64(optarg, 1, MAX_THREADS, &v))
				name = "--threads";
			o->threads = (unsigned)v;
			break;
		case OPT_OPS:
			if (parse_u64(optarg, 0, UINT64_MAX, &o->ops))
				name = "--ops";
			break;
		case OPT_WRITE_PCT:
			if (parse_u64(optarg, 0, 100, &v))
				name = "--write-pct";
			o->write_pct = (unsigned)v;
			break;
		case OPT_SEQ_PCT:
			if (parse_u64(optarg, 0, 100, &v))
				name = "--seq-pct";
			o->seq_pct = (unsigned)v;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				name = "--seed";
			seed_given = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -1;
		}
		if (name) {
			fprintf(stderr, "pgcache-demo: bad value '%s' for %s (see --help)\n",
				optarg, name);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pgcache-demo: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -1;
	}
	if (!o->pages)
		o->pages = 2 * o->capacity;
	if (!seed_given)
		o->seed = now_ns() ^ ((uint64_t)getpid() << 32);
	return 0;
}

/* Runs the workers and prints a progress line on stderr until they finish. */
static int run_workload(const struct options *o, struct worker *w)
{
	uint64_t total, last_print = now_ns(), t0 = last_print;
	bool tty = isatty(STDERR_FILENO);
	unsigned started = 0;

	for (unsigned i = 0; i < o->threads; i++) {
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			fprintf(stderr, "pgcache-demo: pthread_create failed\n");
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
		now = now_ns();
		if (finished || now - last_print >= 1000000000u) {
			fprintf(stderr, "%spgcache-demo: %" PRIu64 "/%" PRIu64
				" operations (%.0f%%), %.1f s%s",
				tty ? "\r" : "", total, o->ops,
				o->ops ? 100.0 * (double)total / (double)o->ops : 100.0,
				(double)(now - t0) / 1e9, tty ? "" : "\n");
			last_print = now;
		}
		if (finished)
			break;
		usleep(50000);
	}
	if (tty)
		fputc('\n', stderr);
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	return started == o->threads ? 0 : -1;
}

/* Checks the store and the pages still cached against the shadow versions. */
static uint64_t verify(pgc_mapping *m, struct store *st, uint64_t *cached_checked)
{
	uint64_t bad = 0, version;

	*cached_checked = 0;
	for (uint64_t i = 0; i < st->pages; i++) {
		uint64_t want = atomic_load(&st->shadow[i]);
		pgc_page *p;

		if (check_page(st->data + i * st->page_size, st->page_size, i, &version) ||
		    version != want) {
			if (bad < 5)
				printf("  MISMATCH in the store at page %" PRIu64
				       ": want version %" PRIu64 "\n", i, want);
			bad++;
			continue;
		}
		/* A page still cached must hold the same data as the store. */
		if (pgc_mapping_find(m, i, &p) == 0) {
			(*cached_checked)++;
			if (memcmp(pgc_page_data(p), st->data + i * st->page_size,
				   st->page_size) != 0) {
				if (bad < 5)
					printf("  MISMATCH between the cache and the store at page %"
					       PRIu64 "\n", i);
				bad++;
			}
			pgc_page_put(p);
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct pgc_cache_config cfg;
	struct pgc_mapping_ops ops;
	struct options o;
	struct store st;
	struct worker *w = NULL;
	pgc_cache *cache = NULL;
	pgc_mapping *m = NULL;
	uint64_t reads = 0, writes = 0, read_mismatch = 0, errors = 0, enomem = 0;
	uint64_t bad, cached_checked, t0;
	bool ok = true;
	int err;

	if (parse_options(argc, argv, &o))
		return 2;

	printf("pgcache-demo: libpgcache %s (built against %d.%d.%d)\n", pgc_version_string(),
	       PGC_VERSION_MAJOR, PGC_VERSION_MINOR, PGC_VERSION_PATCH);
	if (pgc_version() != PGC_VERSION_NUMBER)
		printf("  note: the loaded library is not the version of the headers\n");
	printf("  capacity %" PRIu64 " pages, working set %" PRIu64 " pages, %u threads, %" PRIu64
	       " operations, %u%% writes, %u%% sequential, seed %" PRIu64 "\n",
	       o.capacity, o.pages, o.threads, o.ops, o.write_pct, o.seq_pct, o.seed);

	/* The cache: default page size (the OS page), every allowed node. */
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = o.capacity;
	cfg.log = log_to_stderr;
	cfg.log_level = PGC_LOG_WARN;
	err = pgc_cache_create(&cfg, &cache);
	if (err) {
		fprintf(stderr, "pgcache-demo: pgc_cache_create: %s\n", pgc_strerror(err));
		return 1;
	}

	/* The backing store, every page at version 0. */
	memset(&st, 0, sizeof(st));
	st.page_size = pgc_cache_page_size(cache);
	st.pages = o.pages;
	st.data = malloc(st.pages * st.page_size);
	st.shadow = calloc(st.pages, sizeof(*st.shadow));
	w = calloc(o.threads, sizeof(*w));
	if (!st.data || !st.shadow || !w) {
		fprintf(stderr, "pgcache-demo: out of memory for a store of %" PRIu64 " pages\n",
			st.pages);
		ok = false;
		goto out_cache;
	}
	for (uint64_t i = 0; i < st.pages; i++)
		fill_page(st.data + i * st.page_size, st.page_size, i, 0);

	/* The mapping: its owner's operations read and write the store. */
	memset(&ops, 0, sizeof(ops));
	ops.size = sizeof(ops);
	ops.readpage = demo_readpage;
	ops.writepage = demo_writepage;
	err = pgc_mapping_create(cache, &ops, &st, st.pages * st.page_size, &m);
	if (err) {
		fprintf(stderr, "pgcache-demo: pgc_mapping_create: %s\n", pgc_strerror(err));
		ok = false;
		goto out_cache;
	}

	for (unsigned i = 0; i < o.threads; i++) {
		w[i].id = i;
		w[i].seed = mix64(o.seed + i);
		w[i].nops = o.ops / o.threads + (i < o.ops % o.threads);
		w[i].mapping = m;
		w[i].st = &st;
		w[i].write_pct = o.write_pct;
		w[i].seq_pct = o.seq_pct;
	}
	t0 = now_ns();
	if (run_workload(&o, w))
		ok = false;
	for (unsigned i = 0; i < o.threads; i++) {
		reads += w[i].reads;
		writes += w[i].writes;
		read_mismatch += w[i].read_mismatch;
		errors += w[i].errors;
		enomem += w[i].enomem;
		if (w[i].errors)
			printf("  thread %u: %" PRIu64 " failed calls, the first at page %" PRIu64
			       ": %s\n", i, w[i].errors, w[i].first_err_index,
			       pgc_strerror(w[i].first_err));
	}
	printf("\nworkload done in %.2f s: %" PRIu64 " reads, %" PRIu64 " writes; "
	       "readpage called %" PRIu64 " times, writepage %" PRIu64 " times\n",
	       (double)(now_ns() - t0) / 1e9, reads, writes, atomic_load(&st.readpages),
	       atomic_load(&st.writepages));
	if (enomem)
		printf("  %" PRIu64 " operations found no free frame (-ENOMEM)\n", enomem);
	print_stats(cache, "cache after the workload:");
	printf("  mapping   %" PRIu64 " pages, %" PRIu64 " dirty\n", pgc_mapping_nr_pages(m),
	       pgc_mapping_nr_dirty(m));

	/* Integrity writeback of the whole mapping. */
	err = pgc_mapping_writeback(m, 0, st.pages - 1, PGC_WB_ALL);
	if (err) {
		printf("pgc_mapping_writeback failed: %s\n", pgc_strerror(err));
		ok = false;
	}
	{
		struct pgc_stats s;

		get_stats(cache, &s);
		printf("\nafter writeback: %" PRIu64 " dirty pages in the mapping; cache dirty %" PRIu64
		       ", writeback %" PRIu64 "; writepage called %" PRIu64 " times in all\n",
		       pgc_mapping_nr_dirty(m), s.dirty, s.writeback, atomic_load(&st.writepages));
		if (pgc_mapping_nr_dirty(m) || s.dirty || s.writeback) {
			printf("  FAILED: dirty or writeback pages remain\n");
			ok = false;
		}
	}

	bad = verify(m, &st, &cached_checked);
	printf("\nverification: %" PRIu64 " pages of the store checked, %" PRIu64
	       " of them also in the cache; %" PRIu64 " mismatches; %" PRIu64
	       " reads saw stale or torn data; %" PRIu64 " failed calls\n",
	       st.pages, cached_checked, bad, read_mismatch, errors);
	if (bad || read_mismatch || errors || atomic_load(&st.store_errors))
		ok = false;
	if (atomic_load(&st.store_errors)) {
		printf("  %" PRIu64 " operations got a page index beyond the store\n",
		       atomic_load(&st.store_errors));
	}

	err = pgc_mapping_destroy(m);
	if (err) {
		printf("pgc_mapping_destroy failed: %s\n", pgc_strerror(err));
		ok = false;
		m = NULL;
		/* The cache cannot be destroyed while the mapping lives. */
		goto out_free;
	}
out_cache:
	err = pgc_cache_destroy(cache);
	if (err) {
		printf("pgc_cache_destroy failed: %s\n", pgc_strerror(err));
		ok = false;
	}
out_free:
	free(w);
	free(st.shadow);
	free(st.data);
	printf("%s\n", ok ? "PASSED" : "FAILED");
	return ok ? 0 : 1;
}
