/*
 * pgcache-numa-move: moving the pages of a cache between NUMA nodes, with
 * the answers of move_pages(2).
 *
 * A storage server on a multi-socket machine wants the pages it caches on
 * the node whose threads use them, or wants to empty a node. This program
 * shows how with pgc_move_pages():
 *
 *  1. it creates a cache and one mapping, over a small in-memory store of
 *     its own (the default) or over a file through the built-in O_DIRECT
 *     store (--file, read only);
 *  2. it populates pages: some read from the store (clean), some written
 *     (dirty, in-memory store only), and keeps one reference on each, as
 *     pgc_move_pages() requires (the way move_pages(2) needs the pages
 *     mapped in the calling process);
 *  3. it optionally pins some pages with an extra reference, as another
 *     user of the page would, to show the statuses of pages that are held;
 *  4. it asks for every page to go to one node (--to N), or, like
 *     migratepages(8), for the pages on node FROM[i] to go to node TO[i];
 *  5. it prints one line per page: index, node before, status, node after
 *     (as the cache records it and as the kernel sees the memory), then a
 *     summary, and checks that every page's data survived the move.
 *
 * The status of each page is what move_pages(2) would put in its status
 * array: the node the page is on now, or a negative errno: -EACCES (held by
 * others and PGC_MOVE_ALL not given), -EBUSY (locked, under I/O or held
 * after every pass), -ENOENT (no longer in a mapping), -ENOMEM (no frame on
 * the target node), -EFAULT (not a page of this cache), -EIO (a dirty page
 * could not be written out). A node that does not exist makes the whole
 * call fail with -ENODEV, one the process may not use with -EACCES.
 *
 * On a machine with a single NUMA node there is nowhere to go: moving to
 * node 0 answers "0" for every page (it is already there), and the program
 * says so. Exit status: 0 if every page ended up where it was asked to be
 * (pages pinned on purpose may be refused) with its data intact, 1 if not
 * or if the move failed as a whole (a node that does not exist, say), 2 for
 * a usage error.
 */
#define _GNU_SOURCE
#include <pgcache/pgcache.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "pgcache-numa-move"
#define MAX_PAIRS 64		/* node pairs in FROM TO */

struct options {
	const char *file;	/* --file, or NULL for the in-memory store */
	uint64_t pages;		/* pages to populate and move */
	unsigned dirty_pct;	/* share of them written (dirty), in-memory store only */
	uint64_t pin;		/* pages pinned by an extra reference */
	int to;			/* --to, or -1 */
	int from_nodes[MAX_PAIRS], to_nodes[MAX_PAIRS];
	unsigned nr_pairs;	/* FROM TO given: pairs in from_nodes/to_nodes */
	unsigned flags;		/* PGC_MOVE_* */
};

/* ---- a tiny in-memory store ------------------------------------------ */

/*
 * The default backing store: an array in memory. readpage copies a page
 * from it, writepage copies a page back. Its migratepage is
 * pgc_migrate_page(), which moves any page, dirty ones included, with its
 * data: nothing in this store depends on where a page's memory is. (A store
 * whose pages must never move would give pgc_fail_migrate_page() instead;
 * with no migratepage at all, dirty pages would be written out first.)
 */
struct mem_store {
	unsigned char *data;
	size_t page_size;
	uint64_t pages;
};

static int mem_readpage(pgc_mapping *m, pgc_page *page)
{
	struct mem_store *st = pgc_mapping_owner(m);
	uint64_t i = pgc_page_index(page);

	if (i >= st->pages)
		return -EIO;
	memcpy(pgc_page_data(page), st->data + i * st->page_size, st->page_size);
	return 0;
}

static int mem_writepage(pgc_mapping *m, pgc_page *page, struct pgc_writeback_control *wbc)
{
	struct mem_store *st = pgc_mapping_owner(m);
	uint64_t i = pgc_page_index(page);

	(void)wbc;
	if (i >= st->pages)
		return -EIO;
	memcpy(st->data + i * st->page_size, pgc_page_data(page), st->page_size);
	return 0;
}

static const struct pgc_mapping_ops mem_ops = {
	.size = sizeof(struct pgc_mapping_ops),
	.readpage = mem_readpage,
	.writepage = mem_writepage,
	.migratepage = pgc_migrate_page,
};

/* ---- helpers ------------------------------------------------------------ */

/* A pattern that differs per page and per version. */
static void fill_pattern(unsigned char *buf, size_t size, uint64_t index, unsigned version)
{
	for (size_t k = 0; k < size; k++)
		buf[k] = (unsigned char)(index * 131 + k * 7 + version * 29);
}

/* FNV-1a over a page: what "the data survived the move" is checked with. */
static uint64_t checksum(const void *buf, size_t size)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t k = 0; k < size; k++)
		h = (h ^ p[k]) * 0x100000001b3ull;
	return h;
}

static const char *errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case ENOMEM: return "ENOMEM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "E?";
	}
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options] [FROM TO]\n"
		"\n"
		"Creates a libpgcache cache, populates pages of one mapping, moves them to\n"
		"other NUMA nodes with pgc_move_pages() and prints, for each page, its index,\n"
		"the node it was on, the move_pages(2)-style status and the node it is on\n"
		"after the move, then a summary.\n"
		"\n"
		"Where the pages go (default: each page to the next node the cache uses,\n"
		"which is node 0 itself on a machine with a single node):\n"
		"  --to N          every page to node N\n"
		"  FROM TO         like migratepages(8): two node lists of the same length\n"
		"                  (\"0 1\", \"0,1 1,0\", \"0-1 2-3\"); the pages on the i-th FROM\n"
		"                  node go to the i-th TO node. A single TO node takes the\n"
		"                  pages of every FROM node. Other pages are not asked to move.\n"
		"\n"
		"The pages:\n"
		"  --file PATH     cache this existing file through the built-in O_DIRECT store\n"
		"                  (opened read only; default: an in-memory store)\n"
		"  --pages N       pages to populate and move (default 16, at most 65536)\n"
		"  --dirty-pct P   percentage of the pages written, so dirty (default 25;\n"
		"                  in-memory store only: --file pages are all clean)\n"
		"  --pin N         hold an extra reference on the first N pages, as another\n"
		"                  user would: a move by copy refuses them (-EACCES) unless\n"
		"                  --all is given (default 0)\n"
		"\n"
		"How they move (pgc_move_pages flags):\n"
		"  --all           PGC_MOVE_ALL: move pages that other holders pin too\n"
		"  --inplace       PGC_MOVE_INPLACE: the kernel moves the memory under the\n"
		"                  frame (move_pages(2)); the default copies into a new frame\n"
		"  --async         PGC_MOVE_ASYNC: never block; busy pages are left\n"
		"  --help          this text\n"
		"\n"
		"Exit status: 0 if every page is where it was asked to be with its data\n"
		"intact (pinned pages may be refused), 1 if not or if the move failed as a\n"
		"whole (for instance a node that does not exist), 2 for a usage error.\n");
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

/* A node number, possibly not one that exists: the library says so later. */
static int parse_node(const char *arg, int *node)
{
	uint64_t v;

	if (parse_u64(arg, 0, 1u << 20, &v))
		return -1;
	*node = (int)v;
	return 0;
}

/* A node list: "N", "N,M", "A-B", combinations ("0,2-3"). Returns the count or -1. */
static int parse_node_list(const char *arg, int *out, unsigned max)
{
	char buf[256], *save = NULL, *tok;
	unsigned n = 0;

	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		int lo, hi;

		if (dash) {
			*dash = '\0';
			if (parse_node(tok, &lo) || parse_node(dash + 1, &hi) || hi < lo)
				return -1;
		} else {
			if (parse_node(tok, &lo))
				return -1;
			hi = lo;
		}
		for (int v = lo; v <= hi; v++) {
			if (n == max)
				return -1;
			out[n++] = v;
		}
	}
	return n ? (int)n : -1;
}

/* Returns 0, 2 after a usage error, -1 after --help. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_TO = 256, OPT_FILE, OPT_PAGES, OPT_DIRTY, OPT_PIN, OPT_ALL, OPT_INPLACE,
	       OPT_ASYNC, OPT_HELP };
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "pages", required_argument, NULL, OPT_PAGES },
		{ "dirty-pct", required_argument, NULL, OPT_DIRTY },
		{ "pin", required_argument, NULL, OPT_PIN },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "inplace", no_argument, NULL, OPT_INPLACE },
		{ "async", no_argument, NULL, OPT_ASYNC },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v = 0;
	int c;

	*o = (struct options){ .pages = 16, .dirty_pct = 25, .to = -1 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *bad = NULL;

		switch (c) {
		case OPT_TO:
			if (parse_node(optarg, &o->to))
				bad = "--to";
			break;
		case OPT_FILE:
			o->file = optarg;
			break;
		case OPT_PAGES:
			if (parse_u64(optarg, 1, 65536, &o->pages))
				bad = "--pages";
			break;
		case OPT_DIRTY:
			if (parse_u64(optarg, 0, 100, &v))
				bad = "--dirty-pct";
			o->dirty_pct = (unsigned)v;
			break;
		case OPT_PIN:
			if (parse_u64(optarg, 0, 65536, &o->pin))
				bad = "--pin";
			break;
		case OPT_ALL:
			o->flags |= PGC_MOVE_ALL;
			break;
		case OPT_INPLACE:
			o->flags |= PGC_MOVE_INPLACE;
			break;
		case OPT_ASYNC:
			o->flags |= PGC_MOVE_ASYNC;
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
		int nf, nt;

		if (argc - optind != 2 || o->to >= 0) {
			fprintf(stderr, PROG ": give either --to N or two node lists FROM TO"
				" (see --help)\n");
			return 2;
		}
		nf = parse_node_list(argv[optind], o->from_nodes, MAX_PAIRS);
		nt = parse_node_list(argv[optind + 1], o->to_nodes, MAX_PAIRS);
		if (nf < 0 || nt < 0 || (nt != nf && nt != 1)) {
			fprintf(stderr, PROG ": bad node lists '%s' '%s': two lists of the same"
				" length, or one TO node (see --help)\n", argv[optind],
				argv[optind + 1]);
			return 2;
		}
		for (int i = nt; i < nf; i++)
			o->to_nodes[i] = o->to_nodes[0];
		o->nr_pairs = (unsigned)nf;
	}
	if (o->pin > o->pages)
		o->pin = o->pages;
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

/* Where the pages are, as the cache records it (kernel == false) or as the
 * kernel sees the memory: pgc_move_pages() with no target nodes. */
static long query_nodes(pgc_cache *cache, pgc_page **pages, unsigned n, int *out, bool kernel)
{
	return pgc_move_pages(cache, n, pages, NULL, out, kernel ? PGC_MOVE_QUERY_KERNEL : 0);
}

int main(int argc, char **argv)
{
	struct pgc_cache_config cfg;
	struct options o;
	struct mem_store ms = { NULL, 0, 0 };
	struct pgc_migrate_stats ms_before = { .size = sizeof(ms_before) };
	struct pgc_migrate_stats ms_after = { .size = sizeof(ms_after) };
	pgc_store *store = NULL;
	pgc_cache *cache = NULL;
	pgc_mapping *m = NULL;
	pgc_page **pages = NULL, **pinned = NULL;
	int *target = NULL, *before = NULL, *status = NULL, *after = NULL, *kafter = NULL;
	uint64_t *sums = NULL;
	int nodes[PGC_MAX_NODES], nr_nodes;
	unsigned n = 0, moved = 0, there = 0, refused_pinned = 0, failed = 0, unselected = 0;
	unsigned bad_data = 0;
	size_t psize;
	long ret = 0;
	bool ok = true;
	int err, rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;

	/* A cache on every node the process may use, big enough for the pages
	 * and the new frames a move by copy takes. */
	pgc_cache_config_init(&cfg);
	cfg.capacity_pages = 2 * o.pages + 64;
	err = pgc_cache_create(&cfg, &cache);
	if (err) {
		fprintf(stderr, PROG ": pgc_cache_create: %s\n", pgc_strerror(err));
		return 1;
	}
	psize = pgc_cache_page_size(cache);
	nr_nodes = pgc_cache_nodes(cache, nodes, PGC_MAX_NODES);
	if (nr_nodes < 1) {
		fprintf(stderr, PROG ": pgc_cache_nodes: %s\n", pgc_strerror(nr_nodes));
		ok = false;
		goto out;
	}
	printf(PROG ": libpgcache %s; the cache uses %d NUMA node%s:", pgc_version_string(),
	       nr_nodes, nr_nodes == 1 ? "" : "s");
	for (int i = 0; i < nr_nodes && i < PGC_MAX_NODES; i++)
		printf(" %d", nodes[i]);
	printf("\n");
	if (nr_nodes == 1)
		printf("This machine (or this process) has a single NUMA node: pages can only be"
		       " asked to stay on node %d.\n", nodes[0]);

	/* FROM nodes must be nodes of the cache: no page can be anywhere else.
	 * (TO nodes are checked by pgc_move_pages() itself.) */
	for (unsigned k = 0; k < o.nr_pairs; k++) {
		bool found = false;

		for (int i = 0; i < nr_nodes && i < PGC_MAX_NODES; i++)
			found |= nodes[i] == o.from_nodes[k];
		if (!found) {
			printf(PROG ": FROM node %d is not a node this cache uses: no page can be"
			       " on it\n", o.from_nodes[k]);
			ok = false;
			goto out;
		}
	}

	/* The mapping: over a file (read only) or over the in-memory store. */
	if (o.file) {
		uint64_t size;

		err = pgc_store_open(o.file, O_RDONLY, 0, &store);
		if (!err)
			err = pgc_store_size(store, &size);
		if (!err)
			err = pgc_store_mapping_create(cache, store, &m);
		if (err) {
			fprintf(stderr, PROG ": %s: %s\n", o.file, pgc_strerror(err));
			ok = false;
			goto out;
		}
		if (size / psize < o.pages)
			o.pages = size / psize;
		if (o.pages == 0) {
			fprintf(stderr, PROG ": %s holds no whole page\n", o.file);
			ok = false;
			goto out;
		}
		if (o.pin > o.pages)
			o.pin = o.pages;
		o.dirty_pct = 0;
	} else {
		ms.page_size = psize;
		ms.pages = o.pages;
		ms.data = malloc(o.pages * psize);
		if (!ms.data) {
			ok = false;
			goto out;
		}
		for (uint64_t i = 0; i < o.pages; i++)
			fill_pattern(ms.data + i * psize, psize, i, 0);
		err = pgc_mapping_create(cache, &mem_ops, &ms, o.pages * psize, &m);
		if (err) {
			fprintf(stderr, PROG ": pgc_mapping_create: %s\n", pgc_strerror(err));
			ok = false;
			goto out;
		}
	}

	pages = calloc(o.pages, sizeof(*pages));
	pinned = calloc(o.pages, sizeof(*pinned));
	target = calloc(o.pages, sizeof(int));
	before = calloc(o.pages, sizeof(int));
	status = calloc(o.pages, sizeof(int));
	after = calloc(o.pages, sizeof(int));
	kafter = calloc(o.pages, sizeof(int));
	sums = calloc(o.pages, sizeof(*sums));
	if (!pages || !pinned || !target || !before || !status || !after || !kafter || !sums) {
		fprintf(stderr, PROG ": out of memory\n");
		ok = false;
		goto out;
	}

	/*
	 * Populate: every page is read through readpage, and the first
	 * dirty_pct percent of them (spread out) are then overwritten and
	 * left dirty. Each keeps the reference the lookup gave us.
	 */
	for (uint64_t i = 0; i < o.pages; i++, n++) {
		/* dirty_pct of the pages, spread over the range. */
		bool dirty = (i * o.dirty_pct) / 100 != ((i + 1) * o.dirty_pct) / 100;

		err = pgc_mapping_read_page(m, i, &pages[i]);
		if (err) {
			fprintf(stderr, PROG ": reading page %" PRIu64 ": %s\n", i, pgc_strerror(err));
			ok = false;
			goto out;
		}
		if (dirty) {
			/* Writers change a page under its lock; the default
			 * set_page_dirty accounts it in the mapping's dirty set. */
			pgc_page_lock(pages[i]);
			fill_pattern(pgc_page_data(pages[i]), psize, i, 1);
			pgc_page_set_dirty(pages[i]);
			pgc_page_unlock(pages[i]);
		}
		sums[i] = checksum(pgc_page_data(pages[i]), psize);
	}
	/* Pins: an extra reference, as a reader in the middle of a copy has. */
	for (uint64_t i = 0; i < o.pin; i++) {
		pgc_page_get(pages[i]);
		pinned[i] = pages[i];
	}

	/* Where each page is and where it is asked to go. */
	query_nodes(cache, pages, n, before, false);
	for (unsigned i = 0; i < n; i++) {
		target[i] = -1;
		if (o.nr_pairs) {
			for (unsigned k = 0; k < o.nr_pairs; k++)
				if (before[i] == o.from_nodes[k])
					target[i] = o.to_nodes[k];
		} else if (o.to >= 0) {
			target[i] = o.to;
		} else {
			target[i] = before[i];
			for (int k = 0; k < nr_nodes && nr_nodes > 1; k++)
				if (nodes[k] == before[i])
					target[i] = nodes[(k + 1) % nr_nodes];
		}
	}

	/*
	 * The move. Pages not selected by FROM TO are left out of the call:
	 * the call gets a compacted array, and its answers are put back in
	 * place afterwards. A page moved by copy comes back replaced by its
	 * new page, our reference moved to it.
	 */
	{
		pgc_page **sel = calloc(n ? n : 1, sizeof(*sel));
		int *sel_target = calloc(n ? n : 1, sizeof(int));
		int *sel_status = calloc(n ? n : 1, sizeof(int));
		unsigned *pos = calloc(n ? n : 1, sizeof(unsigned));
		unsigned ns = 0;

		if (!sel || !sel_target || !sel_status || !pos) {
			free(sel);
			free(sel_target);
			free(sel_status);
			free(pos);
			ok = false;
			goto out;
		}
		for (unsigned i = 0; i < n; i++) {
			if (target[i] < 0) {
				unselected++;
				continue;
			}
			sel[ns] = pages[i];
			sel_target[ns] = target[i];
			pos[ns++] = i;
		}
		pgc_cache_migrate_stats(cache, PGC_MR_SYSCALL, &ms_before);
		printf("Moving %u page%s (%s%s%s%s)...\n\n", ns, ns == 1 ? "" : "s",
		       o.flags & PGC_MOVE_INPLACE ? "in place" : "by copy",
		       o.flags & PGC_MOVE_ALL ? ", PGC_MOVE_ALL" : "",
		       o.flags & PGC_MOVE_ASYNC ? ", PGC_MOVE_ASYNC" : "",
		       o.pin ? ", some pinned" : "");
		ret = pgc_move_pages(cache, ns, sel, sel_target, sel_status, o.flags);
		for (unsigned k = 0; k < ns && ret >= 0; k++) {
			pages[pos[k]] = sel[k];
			status[pos[k]] = sel_status[k];
		}
		free(sel);
		free(sel_target);
		free(sel_status);
		free(pos);
	}
	pgc_cache_migrate_stats(cache, PGC_MR_SYSCALL, &ms_after);
	if (ret < 0) {
		/* The call as a whole was refused: no page was touched. */
		printf(PROG ": pgc_move_pages: -%s: %s\n", errno_name((int)ret),
		       pgc_strerror((int)ret));
		if (ret == -ENODEV)
			printf("  a target node does not exist or has no memory; the cache uses"
			       " node%s", nr_nodes == 1 ? "" : "s");
		else if (ret == -EACCES)
			printf("  a target node is not one this cache or process may use; the"
			       " cache uses node%s", nr_nodes == 1 ? "" : "s");
		if (ret == -ENODEV || ret == -EACCES) {
			for (int i = 0; i < nr_nodes && i < PGC_MAX_NODES; i++)
				printf(" %d", nodes[i]);
			printf("\n");
		}
		ok = false;
		goto out;
	}

	/* Where the pages are now: the cache's record and the kernel's view. */
	query_nodes(cache, pages, n, after, false);
	query_nodes(cache, pages, n, kafter, true);

	printf("%6s  %6s  %-44s  %5s  %6s\n", "page", "before", "status", "after", "kernel");
	for (unsigned i = 0; i < n; i++) {
		char st[96];
		bool is_pinned = i < o.pin;

		if (target[i] < 0) {
			snprintf(st, sizeof(st), "not asked (not on a FROM node)");
		} else if (status[i] >= 0) {
			snprintf(st, sizeof(st), "%d (%s)", status[i],
				 status[i] == before[i] ? "already there" : "moved");
			if (status[i] == before[i])
				there++;
			else
				moved++;
		} else {
			snprintf(st, sizeof(st), "-%s (%s%s)", errno_name(status[i]),
				 status[i] == -EACCES ? "held by others" :
				 status[i] == -EBUSY ? "busy" :
				 status[i] == -ENOMEM ? "no frame on the node" :
				 status[i] == -ENOENT ? "not in a mapping" : "failed",
				 is_pinned ? ", pinned" : "");
			if (is_pinned && (status[i] == -EACCES || status[i] == -EBUSY))
				refused_pinned++;
			else
				failed++;
		}
		/* The data must have come along: same checksum, and the mapping
		 * now holds the page we hold (the new one after a copy). */
		if (checksum(pgc_page_data(pages[i]), psize) != sums[i] ||
		    pgc_page_mapping(pages[i]) != m || pgc_page_index(pages[i]) != i) {
			bad_data++;
			strncat(st, " DATA LOST", sizeof(st) - strlen(st) - 1);
		}
		printf("%6u  %6d  %-44s  %5d  %6d%s\n", i, before[i], st, after[i], kafter[i],
		       pgc_page_test_flag(pages[i], PGC_PG_DIRTY) == 1 ? "  dirty" : "");
	}
	printf("\nsummary: %u pages; %u moved, %u already on their target node", n, moved, there);
	if (unselected)
		printf(", %u not asked", unselected);
	if (refused_pinned)
		printf(", %u pinned and refused", refused_pinned);
	if (failed)
		printf(", %u failed", failed);
	printf(".\n  pgc_move_pages returned %ld (the number of pages not moved)\n", ret);
	printf("  the cache's migration counts for explicit requests: %" PRIu64 " moved, %"
	       PRIu64 " failed, %" PRIu64 " retried, %" PRIu64 " bytes copied\n",
	       ms_after.succeeded - ms_before.succeeded, ms_after.failed - ms_before.failed,
	       ms_after.retried - ms_before.retried, ms_after.bytes - ms_before.bytes);
	printf("  data check: %s\n", bad_data ? "some pages lost their data" :
	       "every page holds the data it had before the move");
	if (failed || bad_data)
		ok = false;

out:
	/* Drop our references (the pins first: they may be old pages that a
	 * move with PGC_MOVE_ALL replaced), write back, tear down. */
	for (uint64_t i = 0; pinned && i < o.pin; i++)
		pgc_page_put(pinned[i]);
	for (unsigned i = 0; pages && i < n; i++)
		pgc_page_put(pages[i]);
	if (m && !store) {
		err = pgc_mapping_writeback(m, 0, UINT64_MAX, PGC_WB_ALL);
		if (err) {
			fprintf(stderr, PROG ": writeback: %s\n", pgc_strerror(err));
			ok = false;
		}
	}
	err = pgc_mapping_destroy(m);
	if (!err)
		err = pgc_cache_destroy(cache);
	if (err) {
		fprintf(stderr, PROG ": teardown: %s\n", pgc_strerror(err));
		ok = false;
	}
	pgc_store_close(store);
	free(ms.data);
	free(pages);
	free(pinned);
	free(target);
	free(before);
	free(status);
	free(after);
	free(kafter);
	free(sums);
	return ok ? 0 : 1;
}
