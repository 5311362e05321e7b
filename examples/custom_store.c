/*
 * pgcache-custom-store: plugging a store of your own under a libpgcache
 * mapping.
 *
 * libpgcache does no I/O of its own: a mapping reads and writes its pages
 * only through the operations table (struct pgc_mapping_ops) that its owner
 * gives to pgc_mapping_create(). The built-in O_DIRECT file store (store.h)
 * is one such table; this program writes another, for a store with a format
 * of its own:
 *
 *   - the store keeps one *record* per page: a header (page index, format,
 *     length, checksum) and the page's bytes, compressed with PackBits
 *     run-length encoding when that makes them shorter;
 *   - the checksum (FNV-1a over the uncompressed page) is checked on every
 *     read, so that a damaged record is reported as -EIO instead of being
 *     served to the reader;
 *   - a page that has no record is a hole and reads as zeros.
 *
 * The records live in memory to keep the example short; a real store would
 * keep them in a file or an object store, and its operations would do the
 * I/O where these do a memcpy.
 *
 * The program then uses the cache as an application would:
 *
 *  1. buffered writes (pgc_write): a text log appended line by line, a
 *     zero-filled region, and small records written at scattered offsets
 *     (partial pages, which the cache first reads through readpage), in a
 *     cache smaller than the object, so that reclaim writes dirty pages back
 *     through writepage while the program writes;
 *  2. a sync (pgc_sync_range), which writes the rest through writepages
 *     and then makes it durable through the sync operation;
 *  3. drops the cache (pgc_mapping_invalidate) and reads everything back
 *     (pgc_read: readpage, and readpages for the readahead windows),
 *     comparing with a copy kept in memory;
 *  4. truncates the object to a size that is not a whole number of pages,
 *     which calls invalidatepage on the partial last page;
 *  5. damages one record, as a bad disk would, and checks that reading it
 *     fails with -EIO.
 *
 * Exit status: 0 if every check passed, 1 if one failed, 2 for a usage
 * error.
 */
#define _GNU_SOURCE
#include <pgcache/pgcache.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "pgcache-custom-store"
#define REC_MAGIC 0x52435850u	/* "PXCR" */
#define REC_RAW 0u		/* data[] holds the page as it is */
#define REC_RLE 1u		/* data[] holds the page PackBits-encoded */

/* ---- the store's format ------------------------------------------------ */

/* One page as the store keeps it. */
struct record {
	uint32_t magic;
	uint32_t format;	/* REC_RAW or REC_RLE */
	uint64_t index;		/* the page it holds: a misplaced record is caught */
	uint64_t checksum;	/* FNV-1a of the page's uncompressed bytes */
	uint32_t len;		/* bytes in data[] */
	unsigned char data[];
};

struct my_store {
	/*
	 * Operations run in whatever thread needs them: readpage in a reader,
	 * writepage in reclaim (any thread that allocates a page), writepages
	 * in a sync. The store serialises access to its records itself.
	 */
	pthread_mutex_t lock;
	struct record **rec;	/* one slot per page index; NULL is a hole */
	uint64_t slots;
	size_t page_size;
	/* What the store saw, for the report. */
	uint64_t readpage_calls, readpages_calls, pages_read;
	uint64_t writepage_calls, runs_written, pages_written;
	uint64_t invalidatepage_calls, releasepage_calls, checksum_errors;
	uint64_t sync_calls;
};

static uint64_t fnv1a(const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t k = 0; k < n; k++)
		h = (h ^ p[k]) * 0x100000001b3ull;
	return h;
}

/*
 * PackBits: a control byte c < 128 is followed by c + 1 literal bytes;
 * c > 128 by one byte repeated 257 - c times (2 to 128); 128 is unused.
 * Returns the encoded length, or 0 if it would not fit in cap bytes (the
 * caller then stores the page raw).
 */
static size_t rle_encode(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t run = 1;

		while (i + run < n && run < 128 && in[i + run] == in[i])
			run++;
		if (run >= 3) {
			if (o + 2 > cap)
				return 0;
			out[o++] = (unsigned char)(257 - run);
			out[o++] = in[i];
			i += run;
		} else {
			/* Literals up to the next run of three equal bytes. */
			size_t lit = 0;

			while (i + lit < n && lit < 128 &&
			       !(i + lit + 2 < n && in[i + lit] == in[i + lit + 1] &&
				 in[i + lit] == in[i + lit + 2]))
				lit++;
			if (o + 1 + lit > cap)
				return 0;
			out[o++] = (unsigned char)(lit - 1);
			memcpy(out + o, in + i, lit);
			o += lit;
			i += lit;
		}
	}
	return o;
}

/* Decodes exactly size bytes; -1 if the input is malformed. */
static int rle_decode(const unsigned char *in, size_t n, unsigned char *out, size_t size)
{
	size_t i = 0, o = 0;

	while (i < n) {
		unsigned c = in[i++];

		if (c < 128) {
			size_t lit = c + 1;

			if (i + lit > n || o + lit > size)
				return -1;
			memcpy(out + o, in + i, lit);
			i += lit;
			o += lit;
		} else if (c > 128) {
			size_t run = 257 - c;

			if (i >= n || o + run > size)
				return -1;
			memset(out + o, in[i++], run);
			o += run;
		} else {
			return -1;
		}
	}
	return o == size ? 0 : -1;
}

/* Makes the record of one page (compressed if that is shorter). */
static struct record *record_make(const unsigned char *page, size_t size, uint64_t index)
{
	struct record *r = malloc(sizeof(*r) + size), *shrunk;
	size_t len;

	if (!r)
		return NULL;
	r->magic = REC_MAGIC;
	r->index = index;
	r->checksum = fnv1a(page, size);
	len = rle_encode(page, size, r->data, size - 1);
	if (len) {
		r->format = REC_RLE;
		r->len = (uint32_t)len;
		shrunk = realloc(r, sizeof(*r) + len);
		return shrunk ? shrunk : r; /* a failed shrink leaves r as it was */
	}
	r->format = REC_RAW;
	r->len = (uint32_t)size;
	memcpy(r->data, page, size);
	return r;
}

/* Fills a page from a record; -EIO if the record is damaged. Store lock held. */
static int record_load(struct my_store *st, const struct record *r, uint64_t index,
		       unsigned char *page)
{
	if (!r) {
		memset(page, 0, st->page_size); /* a hole */
		return 0;
	}
	if (r->magic != REC_MAGIC || r->index != index)
		goto bad;
	if (r->format == REC_RAW && r->len == st->page_size)
		memcpy(page, r->data, st->page_size);
	else if (r->format != REC_RLE || rle_decode(r->data, r->len, page, st->page_size))
		goto bad;
	if (fnv1a(page, st->page_size) != r->checksum)
		goto bad;
	return 0;
bad:
	st->checksum_errors++;
	return -EIO;
}

/* Stores one page's bytes as its new record. Store lock held. */
static int record_store(struct my_store *st, uint64_t index, const unsigned char *page)
{
	struct record *r;

	if (index >= st->slots)
		return -ENOSPC; /* this store has a fixed number of slots */
	r = record_make(page, st->page_size, index);
	if (!r)
		return -ENOMEM;
	free(st->rec[index]);
	st->rec[index] = r;
	return 0;
}

/* ---- the operations table ------------------------------------------------ */

/*
 * readpage: fill one page from the store. The page is locked and not up to
 * date; on 0 the library sets UPTODATE and unlocks it, on an error it sets
 * ERROR and the reader gets the error (here -EIO for a bad checksum).
 */
static int my_readpage(pgc_mapping *m, pgc_page *page)
{
	struct my_store *st = pgc_mapping_owner(m);
	uint64_t index = pgc_page_index(page);
	int err;

	pthread_mutex_lock(&st->lock);
	st->readpage_calls++;
	st->pages_read++;
	err = record_load(st, index < st->slots ? st->rec[index] : NULL, index,
			  pgc_page_data(page));
	pthread_mutex_unlock(&st->lock);
	return err;
}

/*
 * readpages: fill nr pages of consecutive indexes at once; readahead calls
 * it for its windows. A store with real I/O would issue one request for the
 * whole run; this one takes its lock once. If any page fails, the whole
 * call fails: none of the pages becomes up to date, and a later read
 * retries them one by one through readpage.
 */
static int my_readpages(pgc_mapping *m, pgc_page **pages, unsigned nr)
{
	struct my_store *st = pgc_mapping_owner(m);
	int err = 0;

	pthread_mutex_lock(&st->lock);
	st->readpages_calls++;
	for (unsigned i = 0; i < nr && !err; i++) {
		uint64_t index = pgc_page_index(pages[i]);

		st->pages_read++;
		err = record_load(st, index < st->slots ? st->rec[index] : NULL, index,
				  pgc_page_data(pages[i]));
	}
	pthread_mutex_unlock(&st->lock);
	return err;
}

/*
 * writepage: write one page to the store. Called with the page locked, its
 * dirty flag already cleared and its writeback flag set, by reclaim (which
 * wants the frame back: wbc->for_reclaim is set) or by writeback. On an
 * error the library makes the page dirty again, so nothing is lost, and
 * records the error for pgc_sync_range() to report.
 */
static int my_writepage(pgc_mapping *m, pgc_page *page, struct pgc_writeback_control *wbc)
{
	struct my_store *st = pgc_mapping_owner(m);
	int err;

	(void)wbc;
	pthread_mutex_lock(&st->lock);
	st->writepage_calls++;
	st->pages_written++;
	err = record_store(st, pgc_page_index(page), pgc_page_data(page));
	pthread_mutex_unlock(&st->lock);
	return err;
}

/* One run of consecutive dirty pages, for my_writepages(). */
static int write_run(pgc_mapping *m, pgc_page **pages, unsigned nr, void *arg)
{
	struct my_store *st = arg;
	int err = 0;

	(void)m;
	pthread_mutex_lock(&st->lock);
	st->runs_written++;
	for (unsigned i = 0; i < nr && !err; i++) {
		st->pages_written++;
		err = record_store(st, pgc_page_index(pages[i]), pgc_page_data(pages[i]));
	}
	pthread_mutex_unlock(&st->lock);
	return err;
}

/*
 * writepages: write the dirty pages of a range (a sync, pgc_sync_range(),
 * calls it). pgc_mapping_writeback_runs() does the page-state work: it
 * gathers the dirty pages into runs of consecutive indexes, locks them,
 * moves them from dirty to writeback, calls write_run() once per run and
 * ends writeback. A store whose I/O is cheaper in large requests wants
 * this; without a writepages, the library calls writepage page by page.
 */
static int my_writepages(pgc_mapping *m, struct pgc_writeback_control *wbc)
{
	return pgc_mapping_writeback_runs(m, wbc, write_run, pgc_mapping_owner(m), 64);
}

/*
 * releasepage: reclaim (and pgc_mapping_invalidate) ask it before freeing a
 * page on which the owner attached a private value (pgc_page_set_private():
 * say, a buffer head or a decoded header). It must detach the value
 * (pgc_page_clear_private()) and return nonzero, or return 0 to keep the
 * page. This store attaches nothing, and pages written with pgc_write()
 * carry the buffered-I/O layer's page handle in that slot instead (see
 * clpage.h), which that layer releases itself: here it is only counted.
 */
static int my_releasepage(pgc_mapping *m, pgc_page *page)
{
	struct my_store *st = pgc_mapping_owner(m);

	pthread_mutex_lock(&st->lock);
	st->releasepage_calls++;
	pthread_mutex_unlock(&st->lock);
	return pgc_page_clear_private(page, NULL) == 0;
}

/*
 * invalidatepage: truncate tells the owner that bytes [offset, offset +
 * length) of a locked cached page are going away: the whole page (offset
 * 0) for a page leaving the mapping that carries the owner's private value,
 * or the tail of the partial last page (whose tail the library zeroes). The
 * store's own records are trimmed by my_resize(), since pages that are not
 * cached have records too; this only counts.
 */
static void my_invalidatepage(pgc_mapping *m, pgc_page *page, size_t offset, size_t length)
{
	struct my_store *st = pgc_mapping_owner(m);

	(void)page;
	(void)offset;
	(void)length;
	pthread_mutex_lock(&st->lock);
	st->invalidatepage_calls++;
	pthread_mutex_unlock(&st->lock);
}

/*
 * resize: the object's size changed (pgc_mapping_truncate() calls this
 * once the cache has dropped its pages past the size and zeroed the tail
 * of the last one; pgc_sync_range() calls it too). On a shrink the store
 * drops its records past the size and rewrites the last record with a zero
 * tail, so that growing the object later reads zeros there, as a file
 * would. Records are per page, so growth needs nothing.
 */
static int my_resize(pgc_mapping *m, uint64_t size)
{
	struct my_store *st = pgc_mapping_owner(m);
	uint64_t keep = (size + st->page_size - 1) / st->page_size;
	size_t tail = (size_t)(size % st->page_size);
	int err = 0;

	pthread_mutex_lock(&st->lock);
	for (uint64_t i = keep; i < st->slots; i++) {
		free(st->rec[i]);
		st->rec[i] = NULL;
	}
	if (tail && keep > 0 && keep <= st->slots && st->rec[keep - 1]) {
		unsigned char *buf = malloc(st->page_size);

		err = buf ? record_load(st, st->rec[keep - 1], keep - 1, buf) : -ENOMEM;
		if (!err) {
			memset(buf + tail, 0, st->page_size - tail);
			err = record_store(st, keep - 1, buf);
		}
		free(buf);
	}
	pthread_mutex_unlock(&st->lock);
	return err;
}

/*
 * sync: make what was written durable (pgc_sync_range() calls it last,
 * after writing the range back and after resize). Records in memory are as
 * durable as they will ever be once written; a store in a file would call
 * fdatasync(2) here, as the built-in file store does.
 */
static int my_sync(pgc_mapping *m, uint64_t start, uint64_t end)
{
	struct my_store *st = pgc_mapping_owner(m);

	(void)start;
	(void)end;
	pthread_mutex_lock(&st->lock);
	st->sync_calls++;
	pthread_mutex_unlock(&st->lock);
	return 0;
}

/*
 * The table. Members left out (NULL) get the library's default:
 *  - set_page_dirty: sets DIRTY and accounts the page in the mapping's
 *    dirty set, which is what a store like this one wants;
 *  - direct_IO: none, so pgc_direct_io() on this mapping fails with
 *    -EOPNOTSUPP (a store of records has no byte-addressed medium to
 *    transfer to directly).
 * migratepage is pgc_migrate_page(): nothing in the store depends on where
 * a page's memory is, so the NUMA migration engine may move any page,
 * dirty ones included.
 */
static const struct pgc_mapping_ops my_store_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = my_readpage,
	.readpages = my_readpages,
	.writepage = my_writepage,
	.writepages = my_writepages,
	.releasepage = my_releasepage,
	.invalidatepage = my_invalidatepage,
	.migratepage = pgc_migrate_page,
	.resize = my_resize,
	.sync = my_sync,
};


/* ---- the program ------------------------------------------------------- */

struct options {
	uint64_t pages;		/* slots in the store (the object's largest size) */
	uint64_t capacity;	/* pages in the cache */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options]\n"
		"\n"
		"Plugs a store of its own (compressed, checksummed page records in memory)\n"
		"under a libpgcache mapping through the operations table; writes through the\n"
		"cache with pgc_write, syncs, drops the cache, reads everything back with\n"
		"pgc_read and compares, truncates, then damages a record and checks that\n"
		"the read fails with -EIO.\n"
		"\n"
		"  --pages N       size of the object in pages (default 64, 8 to 65536)\n"
		"  --capacity N    pages in the cache (default 16: smaller than the object,\n"
		"                  so that reclaim writes pages back while the program writes)\n"
		"  --help          this text\n"
		"\n"
		"Exit status: 0 if every check passed, 1 if one failed, 2 for a usage error.\n");
}

static int parse_u64(const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_PAGES = 256, OPT_CAPACITY, OPT_HELP };
	static const struct option longopts[] = {
		{ "pages", required_argument, NULL, OPT_PAGES },
		{ "capacity", required_argument, NULL, OPT_CAPACITY },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .pages = 64, .capacity = 16 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PAGES:
			if (parse_u64(optarg, 8, 65536, &o->pages)) {
				fprintf(stderr, PROG ": bad --pages '%s' (see --help)\n", optarg);
				return 2;
			}
			break;
		case OPT_CAPACITY:
			if (parse_u64(optarg, 8, 1u << 20, &o->capacity)) {
				fprintf(stderr, PROG ": bad --capacity '%s' (see --help)\n", optarg);
				return 2;
			}
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return -1;
		default:
			fprintf(stderr, "(" PROG " --help lists the options)\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* Bytes written with put(), for the report. */
static uint64_t bytes_put;

/* Writes through the cache and into the copy that the checks compare with. */
static int put(pgc_mapping *m, unsigned char *expect, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pgc_write(m, buf, len, off, 0);

	if (n != (ssize_t)len) {
		fprintf(stderr, PROG ": pgc_write of %zu bytes at %" PRIu64 ": %s\n", len, off,
			n < 0 ? pgc_strerror((int)n) : "short write");
		return -1;
	}
	memcpy(expect + off, buf, len);
	bytes_put += len;
	return 0;
}

/* Reads [0, size) back in odd-sized pieces and compares with the copy. */
static bool read_back(pgc_mapping *m, const unsigned char *expect, uint64_t size, size_t psize)
{
	size_t piece = psize + psize / 3; /* crosses page boundaries on purpose */
	unsigned char *buf = malloc(piece);
	bool same = buf != NULL;

	for (uint64_t off = 0; same && off < size; off += piece) {
		size_t want = size - off < piece ? (size_t)(size - off) : piece;
		ssize_t n = pgc_read(m, buf, piece, off);

		if (n != (ssize_t)want) {
			printf("  pgc_read at %" PRIu64 ": %s\n", off,
			       n < 0 ? pgc_strerror((int)n) : "unexpected length");
			same = false;
		} else if (memcmp(buf, expect + off, want) != 0) {
			printf("  data differs in [%" PRIu64 ", %" PRIu64 ")\n", off, off + want);
			same = false;
		}
	}
	/* Past the size there is nothing to read. */
	if (same && pgc_read(m, buf, piece, size) != 0) {
		printf("  pgc_read past the size returned data\n");
		same = false;
	}
	free(buf);
	return same;
}

static void print_store(struct my_store *st, const char *when)
{
	uint64_t records = 0, stored = 0, rle = 0;

	pthread_mutex_lock(&st->lock);
	for (uint64_t i = 0; i < st->slots; i++) {
		if (!st->rec[i])
			continue;
		records++;
		stored += sizeof(struct record) + st->rec[i]->len;
		rle += st->rec[i]->format == REC_RLE;
	}
	printf("  store %s: %" PRIu64 " records (%" PRIu64 " compressed) hold %" PRIu64
	       " KiB of pages in %" PRIu64 " KiB\n", when, records, rle,
	       records * st->page_size / 1024, (stored + 1023) / 1024);
	printf("        readpage %" PRIu64 " calls, readpages %" PRIu64 " calls, %" PRIu64
	       " pages read; writepage %" PRIu64 " calls, writepages %" PRIu64 " runs, %" PRIu64
	       " pages written\n", st->readpage_calls, st->readpages_calls, st->pages_read,
	       st->writepage_calls, st->runs_written, st->pages_written);
	pthread_mutex_unlock(&st->lock);
}

int main(int argc, char **argv)
{
	struct pgc_cache_config cfg;
	struct options o;
	struct my_store st;
	pgc_cache *cache = NULL;
	pgc_mapping *m = NULL;
	pgc_errseq_t since;
	unsigned char *expect = NULL, line[160], block[100];
	uint64_t size, off, objsize, victim;
	size_t psize;
	long dropped;
	bool ok = true;
	int err, rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;

	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = o.capacity;
	err = pgc_cache_create(&cfg, &cache);
	if (err) {
		fprintf(stderr, PROG ": pgc_cache_create: %s\n", pgc_strerror(err));
		return 1;
	}
	psize = pgc_cache_page_size(cache);
	objsize = o.pages * psize;

	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.lock, NULL);
	st.page_size = psize;
	st.slots = o.pages;
	st.rec = calloc(st.slots, sizeof(*st.rec));
	expect = calloc(1, objsize);
	if (!st.rec || !expect) {
		fprintf(stderr, PROG ": out of memory\n");
		ok = false;
		goto out;
	}

	/* The mapping: our table, our store as owner, an empty object. */
	err = pgc_mapping_create(cache, &my_store_ops, &st, 0, &m);
	if (err) {
		fprintf(stderr, PROG ": pgc_mapping_create: %s\n", pgc_strerror(err));
		ok = false;
		goto out;
	}
	/* Like a file descriptor, sample the error state: the sync reports
	 * write errors recorded after this point. */
	since = pgc_mapping_sample_error(m);
	printf(PROG ": libpgcache %s; object of %" PRIu64 " pages of %zu bytes, cache of %"
	       PRIu64 " pages\n", pgc_version_string(), o.pages, psize, o.capacity);

	/* 1. Buffered writes. A log in the first half, appended line by line. */
	off = 0;
	for (unsigned i = 0; off < objsize / 2; i++) {
		int n = snprintf((char *)line, sizeof(line),
				 "%08u event=%s user=%u bytes=%u status=ok\n", i,
				 i % 3 ? "read" : "write", i % 17, (i * 7919) % 65536);
		size_t len = (size_t)n;

		if (off + len > objsize / 2)
			len = (size_t)(objsize / 2 - off);
		if (put(m, expect, line, len, off)) {
			ok = false;
			goto out;
		}
		off += len;
	}
	/* Then a quarter of zeros written explicitly (they compress well) and
	 * small records at scattered offsets over the whole object: each is a
	 * partial page, which the cache reads first unless it holds it. */
	{
		unsigned char *zeros = calloc(1, objsize / 4);

		if (!zeros || put(m, expect, zeros, objsize / 4, objsize / 2)) {
			free(zeros);
			ok = false;
			goto out;
		}
		free(zeros);
	}
	for (unsigned i = 0; i < 2 * o.pages; i++) {
		uint64_t at = ((uint64_t)i * 2654435761u) % (objsize - sizeof(block));

		for (size_t k = 0; k < sizeof(block); k++)
			block[k] = (unsigned char)(i + k * 3);
		if (put(m, expect, block, sizeof(block), at)) {
			ok = false;
			goto out;
		}
	}
	size = pgc_mapping_size(m);
	printf("\n1. wrote %" PRIu64 " bytes with pgc_write; the object is %" PRIu64
	       " bytes; %" PRIu64 " pages cached, %" PRIu64 " dirty\n", bytes_put, size,
	       pgc_mapping_nr_pages(m), pgc_mapping_nr_dirty(m));
	print_store(&st, "so far (reclaim wrote these)");

	/* 2. Sync: every dirty page through writepages, then the store's sync;
	 * errors reported once. */
	err = pgc_sync_range(m, 0, UINT64_MAX, &since);
	printf("\n2. pgc_sync_range: %s; %" PRIu64 " dirty pages left; sync called %" PRIu64
	       " time(s)\n", pgc_strerror(err), pgc_mapping_nr_dirty(m), st.sync_calls);
	if (err || pgc_mapping_nr_dirty(m) || st.sync_calls != 1)
		ok = false;
	print_store(&st, "after the sync");

	/* 3. Drop every cached page, then read the whole object back. */
	dropped = pgc_mapping_invalidate(m, 0, UINT64_MAX);
	printf("\n3. pgc_mapping_invalidate dropped %ld pages; %" PRIu64 " left\n", dropped,
	       pgc_mapping_nr_pages(m));
	if (pgc_mapping_nr_pages(m))
		ok = false;
	if (read_back(m, expect, size, psize)) {
		printf("  read back %" PRIu64 " bytes with pgc_read: identical to what was"
		       " written\n", size);
	} else {
		printf("  READ BACK FAILED\n");
		ok = false;
	}
	print_store(&st, "after the read-back");

	/* 4. Truncate to a size that ends inside a page, which is cached (read
	 * a byte of it first), so that truncate hands its tail to
	 * invalidatepage. */
	size = objsize / 2 + psize / 2 + 123;
	pgc_read(m, line, 1, size);
	err = pgc_mapping_truncate(m, size);
	memset(expect + size, 0, objsize - size);
	printf("\n4. truncated to %" PRIu64 " bytes: %s; invalidatepage called %" PRIu64
	       " times (the partial last page)\n", size, pgc_strerror(err),
	       st.invalidatepage_calls);
	if (err || pgc_mapping_size(m) != size || !read_back(m, expect, size, psize)) {
		printf("  TRUNCATE CHECK FAILED\n");
		ok = false;
	} else {
		printf("  the object reads back as the first %" PRIu64 " bytes written\n", size);
	}

	/*
	 * 5. Damage: flip one byte inside a record, as a bad sector would,
	 * drop the cache, and read that page: the checksum must catch it.
	 */
	victim = 1; /* in the log: it has a record */
	pgc_mapping_invalidate(m, 0, UINT64_MAX);
	pthread_mutex_lock(&st.lock);
	if (st.rec[victim])
		st.rec[victim]->data[st.rec[victim]->len / 2] ^= 0x20;
	pthread_mutex_unlock(&st.lock);
	{
		ssize_t n = pgc_read(m, line, 16, victim * psize + 100);

		printf("\n5. damaged the record of page %" PRIu64 "; pgc_read of it: %s\n", victim,
		       n < 0 ? pgc_strerror((int)n) : "returned data");
		if (n != -EIO || st.checksum_errors == 0) {
			printf("  THE DAMAGE WAS NOT DETECTED\n");
			ok = false;
		} else {
			printf("  detected: readpage found a bad checksum and returned -EIO"
			       " (bad records found: %" PRIu64 ")\n", st.checksum_errors);
		}
	}

out:
	/* Every page is clean (or the check above failed): tear down. */
	err = pgc_mapping_destroy(m);
	if (err) {
		fprintf(stderr, PROG ": pgc_mapping_destroy: %s\n", pgc_strerror(err));
		ok = false;
	} else {
		pgc_cache_destroy(cache);
	}
	for (uint64_t i = 0; st.rec && i < st.slots; i++)
		free(st.rec[i]);
	free(st.rec);
	free(expect);
	pthread_mutex_destroy(&st.lock);
	printf("%s\n", ok ? "PASSED" : "FAILED");
	return ok ? 0 : 1;
}
