/*
 * Suite "pgindex": the model test of the page index alone (lib/pgindex.c,
 * a radix tree from page number to frame id). Random inserts, erases,
 * replaces, lookups, range walks (of every id or of one tag), tag sets,
 * clears, tests and range copies, and truncates run against a shadow (a
 * sorted array), with the tree's own counts, tag bits and shape checked
 * along the way; the
 * node memory of a dense index is measured; allocation failures leave the
 * tree as it was; and RCU readers run against a writer, each id they see
 * checked against the index it was stored at.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pgc_test.h"

#include <urcu-bp.h>

#include "desc_internal.h"
#include "fault_internal.h"
#include "pgindex_internal.h"

/* ---- The shadow: a sorted array of (index, id) ------------------------ */

struct entry {
	uint64_t index;
	uint32_t id;
	unsigned tags; /* bit t: tag t */
};

struct shadow {
	struct entry *v;
	size_t n, cap;
};

/* The position of index in s, or where it would go. */
static size_t sh_find(const struct shadow *s, uint64_t index)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t sh_get(const struct shadow *s, uint64_t index)
{
	size_t i = sh_find(s, index);
	return i < s->n && s->v[i].index == index ? s->v[i].id : PGC_FRAME_NONE;
}

static void sh_put(struct shadow *s, uint64_t index, uint32_t id)
{
	size_t i = sh_find(s, index);
	if (i < s->n && s->v[i].index == index) {
		s->v[i].id = id;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		ck_assert_ptr_nonnull(s->v);
	}
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
	s->v[i] = (struct entry){index, id, 0};
	s->n++;
}

static void sh_del(struct shadow *s, uint64_t index)
{
	size_t i = sh_find(s, index);
	ck_assert(i < s->n && s->v[i].index == index);
	memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

/* ---- Random indexes: dense, sparse, and anywhere in 64 bits ------------- */

static uint64_t pick_index(struct pgc_rng *r, const struct shadow *s)
{
	switch (pgc_rng_below(r, 8)) {
	case 0:
	case 1: /* an index that is there, if any */
		if (s->n)
			return s->v[pgc_rng_below(r, s->n)].index;
		return pgc_rng_below(r, 64);
	case 2:
	case 3:
		return pgc_rng_below(r, 512); /* a few leaves */
	case 4:
		return pgc_rng_below(r, 1u << 20);
	case 5: /* near a power of 64: height changes */
		return ((uint64_t)1 << (6 * (1 + pgc_rng_below(r, 10)))) - 2 + pgc_rng_below(r, 4);
	case 6:
		return UINT64_MAX - pgc_rng_below(r, 130);
	default:
		return pgc_rng_next(r);
	}
}

static uint32_t new_id(struct pgc_rng *r)
{
	return 1 + (uint32_t)pgc_rng_below(r, UINT32_MAX - 1);
}

/* The first shadow entry at or after index, up to end, with tag (tag < 0: any). */
static const struct entry *sh_next_tagged(const struct shadow *s, uint64_t index, uint64_t end,
					  int tag)
{
	for (size_t i = sh_find(s, index); i < s->n && s->v[i].index <= end; i++)
		if (tag < 0 || (s->v[i].tags & (1u << tag)))
			return &s->v[i];
	return NULL;
}

/* Each tag, walked with next_tagged(), equals the shadow's; the tree checks itself. */
static void check_tags(struct pgc_pgx *x, const struct shadow *s)
{
	const char *why;
	ck_assert_msg(pgc__pgx_check(x, &why) == 0, "index check: %s", why);
	for (int tag = 0; tag < (int)PGC_PGX_NR_TAGS; tag++) {
		uint64_t idx = 0;
		const struct entry *e = sh_next_tagged(s, 0, UINT64_MAX, tag);
		for (;;) {
			uint32_t id = pgc__pgx_next_tagged(x, &idx, UINT64_MAX, tag);
			if (id == PGC_FRAME_NONE) {
				ck_assert_msg(!e, "tag %d: walk ended before index %#" PRIx64, tag,
					      e ? e->index : 0);
				break;
			}
			ck_assert_msg(e && e->index == idx && e->id == id,
				      "tag %d: walk found %#" PRIx64 ", shadow %#" PRIx64, tag, idx,
				      e ? e->index : 0);
			if (idx == UINT64_MAX)
				break;
			idx++;
			e = sh_next_tagged(s, idx, UINT64_MAX, tag);
		}
		ck_assert(pgc__pgx_any_tagged(x, tag) == (sh_next_tagged(s, 0, UINT64_MAX, tag) != NULL));
	}
}

/* Every id of the tree, walked with next(), equals the shadow. */
static void check_all(struct pgc_pgx *x, const struct shadow *s)
{
	check_tags(x, s);
	uint64_t idx = 0;
	size_t k = 0;
	for (;;) {
		uint32_t id = pgc__pgx_next(x, &idx, UINT64_MAX);
		if (id == PGC_FRAME_NONE)
			break;
		ck_assert_msg(k < s->n, "walk found index %#" PRIx64 " past the shadow's %zu", idx, s->n);
		ck_assert_msg(s->v[k].index == idx && s->v[k].id == id,
			      "walk: entry %zu is (%#" PRIx64 ", %u), shadow (%#" PRIx64 ", %u)", k, idx,
			      id, s->v[k].index, s->v[k].id);
		k++;
		if (idx == UINT64_MAX)
			break;
		idx++;
	}
	ck_assert_uint_eq(k, s->n);
	ck_assert_uint_eq(x->nr, s->n);
	if (s->n == 0) {
		ck_assert_ptr_null(atomic_load(&x->root));
		ck_assert_uint_eq(pgc__pgx_memory(x), 0);
	}
}

START_TEST(model_random)
{
	uint64_t seed = pgc_test_seed_for("pgindex.model_random");
	struct pgc_rng r = {seed};
	unsigned long ops = pgc_test_scaled(1000000, 20000);
	printf("pgindex: model_random seed %" PRIu64 " ops %lu\n", seed, ops);
	struct pgc_pgx x;
	pgc__pgx_init(&x);
	struct shadow s = {0};
	unsigned long counts[7] = {0};
	for (unsigned long op = 0; op < ops; op++) {
		/* Keep the set between a few hundred and a few thousand entries:
		 * grow while small, shrink while large. */
		unsigned bias = s.n > 3000 ? 2 : s.n < 300 ? 0 : 1;
		unsigned kind = (unsigned)pgc_rng_below(&r, 100);
		uint64_t index = pick_index(&r, &s);
		uint32_t want = sh_get(&s, index);
		rcu_read_lock();
		if (kind < 30 + 10 * (2 - bias)) { /* insert */
			uint32_t id = new_id(&r);
			int err = pgc__pgx_insert(&x, index, id);
			ck_assert_int_eq(err, want ? -EEXIST : 0);
			if (!want)
				sh_put(&s, index, id);
			counts[0]++;
		} else if (kind < 60 + 5 * bias) { /* erase: its id, or a wrong one */
			uint32_t id = want && pgc_rng_below(&r, 8) ? want : new_id(&r);
			int err = pgc__pgx_erase(&x, index, id);
			ck_assert_int_eq(err, want && id == want ? 0 : -ENOENT);
			if (!err)
				sh_del(&s, index);
			counts[1]++;
		} else if (kind < 70) { /* replace */
			uint32_t id = new_id(&r);
			uint32_t old = want && pgc_rng_below(&r, 8) ? want : new_id(&r);
			int err = pgc__pgx_replace(&x, index, old, id);
			ck_assert_int_eq(err, want && old == want ? 0 : -ENOENT);
			if (!err)
				sh_put(&s, index, id);
			counts[2]++;
		} else if (kind < 78) { /* lookup */
			ck_assert_uint_eq(pgc__pgx_load(&x, index), want);
			counts[3]++;
		} else if (kind < 85) { /* tags: set, clear, test, or copy over a range */
			int tag = (int)pgc_rng_below(&r, PGC_PGX_NR_TAGS);
			size_t i = sh_find(&s, index);
			struct entry *e = want ? &s.v[i] : NULL;
			unsigned how = (unsigned)pgc_rng_below(&r, 16);
			if (how < 7) {
				ck_assert_int_eq(pgc__pgx_tag_set(&x, index, tag), e ? 0 : -ENOENT);
				if (e)
					e->tags |= 1u << tag;
			} else if (how < 13) {
				ck_assert_int_eq(pgc__pgx_tag_clear(&x, index, tag), e ? 0 : -ENOENT);
				if (e)
					e->tags &= ~(1u << tag);
			} else if (how < 15) {
				ck_assert(pgc__pgx_tagged(&x, index, tag) ==
					  (e && (e->tags & (1u << tag))));
			} else { /* copy tag to another over [index, end], a few at a time */
				int to = (tag + 1) % (int)PGC_PGX_NR_TAGS;
				uint64_t end = index + pgc_rng_below(&r, 1u << 14);
				if (end < index)
					end = UINT64_MAX;
				uint64_t max = 1 + pgc_rng_below(&r, 8), at = index;
				bool more = true;
				while (more)
					at = pgc__pgx_tag_copy(&x, at, end, tag, to, max, &more);
				for (size_t k = i; k < s.n && s.v[k].index <= end; k++)
					if (s.v[k].tags & (1u << tag))
						s.v[k].tags |= 1u << to;
			}
			counts[6]++;
		} else if (kind < 97) { /* next in a range */
			uint64_t end = pgc_rng_below(&r, 2) ? UINT64_MAX
				       : index + pgc_rng_below(&r, 1u << (6 * pgc_rng_below(&r, 4)));
			if (end < index)
				end = UINT64_MAX;
			uint64_t got = index;
			int tag = (int)pgc_rng_below(&r, PGC_PGX_NR_TAGS + 1) - 1; /* -1: any */
			uint32_t id = pgc__pgx_next_tagged(&x, &got, end, tag);
			const struct entry *e = sh_next_tagged(&s, index, end, tag);
			if (e) {
				ck_assert_uint_eq(id, e->id);
				ck_assert_uint_eq(got, e->index);
			} else {
				ck_assert_uint_eq(id, PGC_FRAME_NONE);
				ck_assert_uint_eq(got, index);
			}
			counts[4]++;
		} else { /* truncate: erase everything from index on, as a mapping does */
			uint64_t at = index;
			uint32_t id;
			while ((id = pgc__pgx_next(&x, &at, UINT64_MAX)) != PGC_FRAME_NONE) {
				ck_assert_int_eq(pgc__pgx_erase(&x, at, id), 0);
				sh_del(&s, at);
				if (at == UINT64_MAX)
					break;
				at++;
			}
			size_t i = sh_find(&s, index);
			ck_assert_uint_eq(i, s.n);
			counts[5]++;
		}
		rcu_read_unlock();
		if (op % 50000 == 0)
			check_all(&x, &s);
	}
	check_all(&x, &s);
	/* Empty it: every node goes and the root with them. */
	while (s.n) {
		ck_assert_int_eq(pgc__pgx_erase(&x, s.v[s.n - 1].index, s.v[s.n - 1].id), 0);
		s.n--;
	}
	check_all(&x, &s);
	printf("pgindex: %lu inserts, %lu erases, %lu replaces, %lu lookups, %lu walks (any id "
	       "or by tag), %lu truncates, %lu tag operations\n",
	       counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], counts[6]);
	pgc__pgx_destroy(&x);
	free(s.v);
}
END_TEST

/* A dense index of 1 Mi pages holds at most 5 bytes of nodes per page. */
START_TEST(dense_memory)
{
	struct pgc_pgx x;
	pgc__pgx_init(&x);
	const uint64_t n = 1u << 20;
	for (uint64_t i = 0; i < n; i++)
		ck_assert_int_eq(pgc__pgx_insert(&x, i, (uint32_t)i + 1), 0);
	double per = (double)pgc__pgx_memory(&x) / (double)n;
	printf("pgindex: %" PRIu64 " pages, %zu bytes of nodes, %.2f bytes per page\n", n,
	       pgc__pgx_memory(&x), per);
	ck_assert_msg(per <= 5.0, "%.2f bytes per page", per);
	for (uint64_t i = 0; i < n; i += 4099)
		ck_assert_uint_eq(pgc__pgx_load(&x, i), (uint32_t)i + 1);
	/* Erasing the upper half shrinks the memory in proportion. */
	for (uint64_t i = n / 2; i < n; i++)
		ck_assert_int_eq(pgc__pgx_erase(&x, i, (uint32_t)i + 1), 0);
	ck_assert_double_le((double)pgc__pgx_memory(&x) / (double)(n / 2), 5.0);
	pgc__pgx_destroy(&x);
}
END_TEST

/* An insert that cannot allocate a node leaves the tree as it was. */
START_TEST(insert_enomem_changes_nothing)
{
	struct pgc_pgx x;
	pgc__pgx_init(&x);
	struct shadow s = {0};
	struct pgc_rng r = {pgc_test_seed_for("pgindex.enomem")};
	unsigned failed = 0;
	for (int round = 0; round < 2000; round++) {
		uint64_t index = pick_index(&r, &s);
		uint32_t want = sh_get(&s, index);
		size_t bytes = pgc__pgx_memory(&x);
		uint64_t nr = x.nr;
		pgc__fault_set_nth(1 + pgc_rng_below(&r, 12));
		uint32_t id = new_id(&r);
		int err = pgc__pgx_insert(&x, index, id);
		pgc__fault_set_nth(0);
		if (err == -ENOMEM) {
			failed++;
			ck_assert_uint_eq(pgc__pgx_memory(&x), bytes);
			ck_assert_uint_eq(x.nr, nr);
			ck_assert_uint_eq(pgc__pgx_load(&x, index), PGC_FRAME_NONE);
		} else {
			ck_assert_int_eq(err, want ? -EEXIST : 0);
			if (!err)
				sh_put(&s, index, id);
		}
	}
	check_all(&x, &s);
	printf("pgindex: %u inserts failed for memory, each cleanly\n", failed);
	ck_assert_uint_gt(failed, 100);
	pgc__pgx_destroy(&x);
	free(s.v);
}
END_TEST

/* ---- RCU readers against a writer ---------------------------------------- */

#define RD_SPAN 4096u

struct race {
	struct pgc_pgx x;
	pthread_mutex_t lock; /* the writers' lock */
	atomic_bool stop;
	atomic_ulong seen, missed;
	struct pgc_tfail fail;
	uint64_t base; /* indexes [base, base + RD_SPAN) */
};

/* The ids stored at index i name it: a reader can check what it sees. */
static uint32_t id_for(uint64_t i, uint32_t version)
{
	return (uint32_t)((version & 0x3ffu) << 22 | (i & 0x3fffffu)) | 1u << 21;
}

static bool id_names(uint32_t id, uint64_t i)
{
	return (id & 0x1fffffu) == (i & 0x1fffffu) && (id & (1u << 21));
}

static void *race_reader(void *arg)
{
	struct race *t = arg;
	struct pgc_rng r = {(uint64_t)(uintptr_t)&r};
	while (!atomic_load(&t->stop) && !atomic_load(&t->fail.failed)) {
		uint64_t i = t->base + pgc_rng_below(&r, RD_SPAN);
		rcu_read_lock();
		uint32_t id = pgc__pgx_load(&t->x, i);
		uint64_t at = i;
		uint32_t nid = pgc__pgx_next(&t->x, &at, t->base + RD_SPAN - 1);
		rcu_read_unlock();
		if (id != PGC_FRAME_NONE)
			TCHECK(&t->fail, id_names(id, i), "index %#" PRIx64 " holds id %#x", i, id);
		if (nid != PGC_FRAME_NONE)
			TCHECK(&t->fail, at >= i && id_names(nid, at),
			       "next from %#" PRIx64 " gave %#" PRIx64 " with id %#x", i, at, nid);
		atomic_fetch_add_explicit(id ? &t->seen : &t->missed, 1, memory_order_relaxed);
	}
	return NULL;
}

START_TEST(rcu_readers_against_writer)
{
	static struct race t;
	memset(&t, 0, sizeof(t));
	pgc__pgx_init(&t.x);
	pthread_mutex_init(&t.lock, NULL);
	/* High in the index space: the root grows and shrinks under the readers. */
	t.base = (uint64_t)1 << 30;
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, race_reader, &t), 0);
	struct pgc_rng r = {pgc_test_seed_for("pgindex.race")};
	unsigned long ops = pgc_test_scaled(300000, 20000);
	for (unsigned long op = 0; op < ops && !atomic_load(&t.fail.failed); op++) {
		uint64_t i = t.base + pgc_rng_below(&r, RD_SPAN);
		pthread_mutex_lock(&t.lock);
		uint32_t cur = pgc__pgx_load(&t.x, i);
		if (!cur)
			ck_assert_int_eq(pgc__pgx_insert(&t.x, i, id_for(i, (uint32_t)op)), 0);
		else if (pgc_rng_below(&r, 2))
			ck_assert_int_eq(pgc__pgx_replace(&t.x, i, cur, id_for(i, (uint32_t)op)), 0);
		else
			ck_assert_int_eq(pgc__pgx_erase(&t.x, i, cur), 0);
		if (op % 20000 == 19999) {
			/* Now and then everything goes: all nodes are retired. */
			uint64_t at = t.base;
			uint32_t id;
			while ((id = pgc__pgx_next(&t.x, &at, UINT64_MAX)) != PGC_FRAME_NONE) {
				ck_assert_int_eq(pgc__pgx_erase(&t.x, at, id), 0);
				at++;
			}
			ck_assert_ptr_null(atomic_load(&t.x.root));
		}
		pthread_mutex_unlock(&t.lock);
	}
	atomic_store(&t.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	PGC_ASSERT_NO_THREAD_FAILURE(&t.fail);
	printf("pgindex: readers saw %lu ids and %lu empty slots\n", atomic_load(&t.seen),
	       atomic_load(&t.missed));
	ck_assert_uint_gt(atomic_load(&t.seen), 0);
	rcu_barrier(); /* the retired nodes are freed before the test ends */
	pgc__pgx_destroy(&t.x);
	pthread_mutex_destroy(&t.lock);
}
END_TEST

static Suite *pgindex_suite(void)
{
	Suite *s = suite_create("pgindex");
	PGC_ADD(s, model_random, 120);
	PGC_ADD(s, dense_memory, 60);
	PGC_ADD(s, insert_enomem_changes_nothing, 30);
	PGC_ADD(s, rcu_readers_against_writer, 120);
	return s;
}

int main(int argc, char **argv)
{
	return pgc_test_main(argc, argv, pgindex_suite());
}
