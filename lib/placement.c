/*
 * Placement that follows the accesses (placement.h): hits note their node
 * in the descriptor's access word (placement_internal.h), and a step walks
 * the frames as a clock hand, choosing pages to move to the node that uses
 * them (locality), to a faster tier (promotion) or to a slower one
 * (demotion), then moves them through the migration engine by copy,
 * without waiting (PGC_MOVE_ASYNC), one batch per target node and reason.
 *
 * A step is one placement epoch: the cache's epoch counts steps, a note
 * records the epoch's low 16 bits, and a page's age is the difference. A
 * step rewrites the epoch of a page older than 16384 steps to exactly that
 * age, and scan_pages is raised so that the hand passes every frame within
 * 32768 steps: the 16-bit difference never wraps.
 *
 * The state is made by the first pgc_placement_set() and lives as long as
 * the cache; steps of one cache are serialised by its mutex, which
 * pgc_placement_set() takes too. The background thread takes steps with
 * the mutex released between them, sleeping on a condition variable.
 *
 * Layering: above the migration engine (migrate_internal.h), the frames
 * (their chunk table, walked as migrate_nodes walks it) and numa.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pgcache/placement.h>

#include "abi_internal.h"
#include "alloc_internal.h"
#include "cache_internal.h"
#include "fork_internal.h"
#include "migrate_internal.h"
#include "numa_internal.h"
#include "page_internal.h"

#define PLACE_DEF_SCAN 4096u
#define PLACE_DEF_MOVES 1024u
#define PLACE_DEF_INTERVAL_MS 100u
#define PLACE_DEF_HOT 2u
#define PLACE_DEF_COLD 8u
#define PLACE_DEF_SAMPLES 2u
#define PLACE_DEF_HITS 4u
#define PLACE_DEF_FREE_PCT 2u
#define PLACE_OLD_AGE 0x4000u
#define PLACE_MAX_ROUND 0x8000u /* steps of a revolution of the hand, at most */
#define PLACE_NO_AGE 0x10000u /* never noted: older than any age */

enum { R_LOCALITY, R_PROMOTE, R_DEMOTE, R_NR };

static const int reason_of[R_NR] = {PGC_MR_NUMA_MISPLACED, PGC_MR_PROMOTION, PGC_MR_DEMOTION};

_Atomic int pgc__place_users;

struct pgc_place {
	/* Read by every note: one line, written once per step. */
	alignas(64) _Atomic uint32_t on;
	_Atomic uint32_t epoch;
	alignas(64) pthread_mutex_t lock; /* steps and configuration */
	struct pgc_placement_config cfg;  /* defaults applied; tiers in tier[] */
	uint8_t *tier;                    /* per node index */
	int *demote_to;                   /* per node index: node index or -1 */
	uint64_t *wanted;                 /* per node index: moves into it the last
					   * step refused for room (tiering makes it) */
	uint32_t hand;                    /* next frame id of the clock */
	double tokens;                    /* rate limit */
	uint64_t tokens_ns;
	struct pgc_placement_stats total;
	/* The background thread. */
	pthread_mutex_t thr_lock;
	pthread_cond_t thr_cond;
	pthread_t thread;
	bool running, stopping, joining;
	uint32_t thread_gen; /* fork generation when started */
};

struct cand {
	struct pgc_page *page;
	uint16_t target; /* node index */
	uint8_t why;     /* R_* */
	uint8_t hits;    /* notes in the step of its last note */
	uint8_t exchange; /* no room on the target: by exchange (PGC_PLACE_EXCHANGE) */
};

/* ---- notes ------------------------------------------------------------- */

void pgc__place_note(struct pgc_page *p)
{
	struct pgc_cache *c = pgc__page_chunk(p)->cache;
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	if (!pl || !atomic_load_explicit(&pl->on, memory_order_relaxed))
		return;
	int node = pgc__numa_current_node_fast();
	if (node < 0 || (uint32_t)node + 1 > PGC_ACC_NODE_MASK)
		return;
	uint32_t e = atomic_load_explicit(&pl->epoch, memory_order_relaxed) & 0xffffu;
	uint32_t old = atomic_load_explicit(&p->access, memory_order_relaxed);
	uint32_t n1 = (uint32_t)node + 1, streak = 1, hits = 1;
	if ((old & PGC_ACC_NODE_MASK) == n1) {
		streak = pgc__acc_streak(old) + 1;
		if (streak > PGC_ACC_STREAK_MAX)
			streak = PGC_ACC_STREAK_MAX;
	}
	if (old && (old >> PGC_ACC_EPOCH_SHIFT) == e) {
		hits = pgc__acc_hits(old) + 1;
		if (hits > PGC_ACC_HITS_MAX)
			hits = PGC_ACC_HITS_MAX;
	}
	uint32_t v = n1 | streak << PGC_ACC_STREAK_SHIFT | hits << PGC_ACC_HITS_SHIFT |
		     e << PGC_ACC_EPOCH_SHIFT;
	/* A hint: a note lost to a racing one costs nothing. Saturated, a
	 * page hit again and again from one node is not written. */
	if (v != old)
		atomic_store_explicit(&p->access, v, memory_order_relaxed);
}

PGC_API int pgc_page_access_node(const pgc_page *page)
{
	if (!page)
		return -EINVAL;
	uint32_t a = atomic_load_explicit(&page->access, memory_order_relaxed) & PGC_ACC_NODE_MASK;
	return a ? (int)a - 1 : -1;
}

/* ---- configuration ------------------------------------------------------ */

PGC_API void pgc_placement_config_init(struct pgc_placement_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->policies = PGC_PLACE_LOCALITY | PGC_PLACE_TIERING | PGC_PLACE_EXCHANGE;
}

static int check_config(const struct pgc_placement_config *k)
{
	if (k->policies & ~(PGC_PLACE_LOCALITY | PGC_PLACE_TIERING | PGC_PLACE_EXCHANGE) ||
	    !(k->policies & ~PGC_PLACE_EXCHANGE) != !k->policies || k->min_samples > 3 ||
	    k->min_hits > 15 ||
	    k->free_pct > 50 || (k->nr_tiers && !k->tiers))
		return -EINVAL;
	uint32_t hot = k->hot_steps ? k->hot_steps : PLACE_DEF_HOT;
	uint32_t cold = k->cold_steps ? k->cold_steps : PLACE_DEF_COLD;
	if (cold <= hot || cold >= PLACE_OLD_AGE)
		return -EINVAL;
	for (uint32_t i = 0; i < k->nr_tiers; i++)
		if (k->tiers[i] < 0 || k->tiers[i] > PGC_PLACE_MAX_TIER)
			return -EINVAL;
	return 0;
}

/*
 * The tier of each node of the cache and, for each, the nearest node of a
 * slower tier (the one of the next tier down first, then by distance).
 */
static void build_tiers(struct pgc_cache *c, const struct pgc_placement_config *k, uint8_t *tier,
			int *demote_to)
{
	for (unsigned i = 0; i < c->nr_nodes; i++) {
		int id = c->nodes[i].id;
		if (k->tiers)
			tier[i] = (uint32_t)id < k->nr_tiers ? (uint8_t)k->tiers[id] : 0;
		else
			tier[i] = pgc__numa_node_has_cpus(id) ? 0 : 1;
	}
	for (unsigned i = 0; i < c->nr_nodes; i++) {
		int best = -1;
		for (unsigned j = 0; j < c->nr_nodes; j++) {
			if (tier[j] <= tier[i])
				continue;
			if (best < 0 || tier[j] < tier[best] ||
			    (tier[j] == tier[best] &&
			     pgc__numa_distance(c->nodes[i].id, c->nodes[j].id) <
				     pgc__numa_distance(c->nodes[i].id, c->nodes[best].id)))
				best = (int)j;
		}
		demote_to[i] = best;
	}
}

static void place_free(struct pgc_place *pl)
{
	pthread_mutex_destroy(&pl->lock);
	pthread_mutex_destroy(&pl->thr_lock);
	pthread_cond_destroy(&pl->thr_cond);
	free(pl->tier);
	free(pl->demote_to);
	free(pl->wanted);
	free(pl);
}

static struct pgc_place *place_get(struct pgc_cache *c)
{
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	if (pl)
		return pl;
	if (pgc__memalign((void **)&pl, 64, sizeof(*pl)))
		return NULL;
	memset(pl, 0, sizeof(*pl));
	pl->tier = pgc__calloc(c->nr_nodes, sizeof(*pl->tier));
	pl->demote_to = pgc__calloc(c->nr_nodes, sizeof(*pl->demote_to));
	pl->wanted = pgc__calloc(c->nr_nodes, sizeof(*pl->wanted));
	if (!pl->tier || !pl->demote_to || !pl->wanted) {
		free(pl->tier);
		free(pl->demote_to);
		free(pl->wanted);
		free(pl);
		return NULL;
	}
	pthread_mutex_init(&pl->lock, NULL);
	pthread_mutex_init(&pl->thr_lock, NULL);
	pgc__cond_init_monotonic(&pl->thr_cond);
	pl->total.size = sizeof(pl->total);
	struct pgc_place *none = NULL;
	if (!atomic_compare_exchange_strong(&c->place, &none, pl)) {
		place_free(pl);
		return none;
	}
	return pl;
}

PGC_API int pgc_placement_set(pgc_cache *c, const struct pgc_placement_config *cfg)
{
	if (!c)
		return -EINVAL;
	struct pgc_placement_config k;
	memset(&k, 0, sizeof(k));
	if (cfg) {
		int err = pgc__abi_copy_in(&k, sizeof(k), cfg, PGC_PLACEMENT_CONFIG_SIZE_0_2);
		if (err)
			return err;
		err = check_config(&k);
		if (err)
			return err;
	}
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	if (!k.policies && !pl)
		return 0;
	pgc__numa_cpu_table_init(); /* before the first note */
	pl = place_get(c);
	if (!pl)
		return -ENOMEM;
	pthread_mutex_lock(&pl->lock);
	k.scan_pages = k.scan_pages ? k.scan_pages : PLACE_DEF_SCAN;
	/* The hand passes every frame within PLACE_MAX_ROUND steps, so a
	 * note is pinned old before the 16-bit step numbers could wrap. */
	uint64_t ids = (uint64_t)c->frames.max_chunks << PGC_CHUNK_SHIFT;
	uint64_t least = (ids + PLACE_MAX_ROUND - 1) / PLACE_MAX_ROUND;
	if (k.scan_pages < least)
		k.scan_pages = (uint32_t)least;
	k.max_moves = k.max_moves ? k.max_moves : PLACE_DEF_MOVES;
	k.interval_ms = k.interval_ms ? k.interval_ms : PLACE_DEF_INTERVAL_MS;
	k.hot_steps = k.hot_steps ? k.hot_steps : PLACE_DEF_HOT;
	k.cold_steps = k.cold_steps ? k.cold_steps : PLACE_DEF_COLD;
	k.min_samples = k.min_samples ? k.min_samples : PLACE_DEF_SAMPLES;
	k.min_hits = k.min_hits ? k.min_hits : PLACE_DEF_HITS;
	k.free_pct = k.free_pct ? k.free_pct : PLACE_DEF_FREE_PCT;
	build_tiers(c, &k, pl->tier, pl->demote_to);
	k.tiers = NULL; /* copied into tier[] */
	k.nr_tiers = 0;
	bool was_on = pl->cfg.policies != 0;
	pl->cfg = k;
	pl->tokens = (double)k.rate_pages;
	pl->tokens_ns = pgc__now_ns();
	atomic_store_explicit(&pl->on, k.policies != 0, memory_order_relaxed);
	if (was_on != (k.policies != 0))
		atomic_fetch_add(&pgc__place_users, k.policies ? 1 : -1);
	pthread_mutex_unlock(&pl->lock);
	pgc__log(c, PGC_LOG_INFO, "placement: policies %#x, %u frames and %u moves per step",
		 k.policies, k.scan_pages, k.max_moves);
	return 0;
}

/* ---- a step ------------------------------------------------------------- */

/*
 * Free frames a node may still take: below its limit and within what the
 * cache's capacity leaves. Frames that are free in its pool count (they
 * are below both).
 */
static uint64_t node_room(struct pgc_cache *c, unsigned i, uint64_t total_inuse)
{
	struct pgc_frame_pool *pool = &c->nodes[i].pool;
	uint64_t inuse = atomic_load_explicit(&pool->nr_inuse, memory_order_relaxed);
	uint64_t room = pool->limit > inuse ? pool->limit - inuse : 0;
	uint64_t cap = c->frames.capacity > total_inuse ? c->frames.capacity - total_inuse : 0;
	return room < cap ? room : cap;
}

/* The margin tiering keeps free on a node: free_pct of its limit, at least one frame. */
static uint64_t node_margin(const struct pgc_cache *c, const struct pgc_place *pl, unsigned i)
{
	uint64_t lim = c->nodes[i].pool.limit;
	if (lim > c->frames.capacity)
		lim = c->frames.capacity;
	uint64_t m = lim * pl->cfg.free_pct / 100;
	return m ? m : 1;
}

/* Moves left by the rate limit now (the bucket refilled for the time passed). */
static uint64_t rate_budget(struct pgc_place *pl)
{
	if (!pl->cfg.rate_pages)
		return UINT64_MAX;
	uint64_t now = pgc__now_ns();
	double rate = (double)pl->cfg.rate_pages;
	pl->tokens += rate * (double)(now - pl->tokens_ns) / 1e9;
	if (pl->tokens > rate)
		pl->tokens = rate;
	pl->tokens_ns = now;
	return (uint64_t)pl->tokens;
}

struct step_ctx {
	struct pgc_cache *c;
	struct pgc_place *pl;
	uint32_t epoch;
	uint64_t *room;     /* per node index: free frames it may still take */
	uint64_t *margin;   /* per node index */
	uint64_t *demote;   /* per node index: cold pages still to demote */
	uint64_t *displace; /* per node index: pages not hot to demote for moves in */
	uint64_t *credit;   /* per node index: frames the planned demotions free */
	uint64_t *wanted;   /* per node index: moves in refused for room (next pl->wanted) */
	struct cand *cand;  /* demotions, then moves ranked by their hits */
	unsigned nr, max, nr_moves;
	struct pgc_placement_stats st;
};

/* Steps since the note in access word a, or PLACE_NO_AGE if none. */
static uint32_t age_of(uint32_t epoch, uint32_t a)
{
	return a ? ((epoch - (a >> PGC_ACC_EPOCH_SHIFT)) & 0xffffu) : PLACE_NO_AGE;
}

/*
 * What to do with a page whose access word is a: its target node index
 * (*why the reason, *hits its notes in the step of the last note, and for
 * a demotion *budget the count it spends: cold pages or displaced ones),
 * or -1.
 */
static int choose(struct step_ctx *s, unsigned pi, uint32_t a, uint8_t *why, unsigned *hits,
		  uint64_t **budget)
{
	const struct pgc_placement_config *k = &s->pl->cfg;
	uint32_t age = age_of(s->epoch, a);
	int an = (int)(a & PGC_ACC_NODE_MASK) - 1;
	int ai = an >= 0 ? pgc__node_index(s->c, an) : -1;
	*hits = pgc__acc_hits(a);
	if (age <= k->hot_steps && ai >= 0 && (unsigned)ai != pi &&
	    pgc__acc_streak(a) >= k->min_samples && *hits >= k->min_hits) {
		const uint8_t *tier = s->pl->tier;
		if (tier[ai] < tier[pi] && (k->policies & PGC_PLACE_TIERING))
			*why = R_PROMOTE;
		else if (k->policies & PGC_PLACE_LOCALITY)
			*why = R_LOCALITY;
		else
			return -1;
		return ai;
	}
	/* Cold pages make the margin; pages that are not hot (their hits
	 * too few to move them back) make room for the hot ones waiting. */
	bool cold = age >= k->cold_steps;
	bool not_hot = age > k->hot_steps || *hits < k->min_hits;
	if ((cold && s->demote[pi] > 0) || (not_hot && s->displace[pi] > 0)) {
		*why = R_DEMOTE;
		*budget = cold && s->demote[pi] > 0 ? &s->demote[pi] : &s->displace[pi];
		return s->pl->demote_to[pi];
	}
	return -1;
}

/* The slot of the move candidate with the fewest hits (the array is full). */
static unsigned weakest(const struct step_ctx *s)
{
	unsigned w = s->nr - s->nr_moves;
	for (unsigned i = w + 1; i < s->nr; i++)
		if (s->cand[i].hits < s->cand[w].hits)
			w = i;
	return w;
}

/*
 * Takes a reference on p if it is still in a mapping on node; false if it
 * went meanwhile.
 */
static bool take(struct pgc_page *p, int node)
{
	if (!pgc__get_unless_zero(p))
		return false;
	if (atomic_load_explicit(&p->mapping, memory_order_acquire) && pgc__page_node_of(p) == node)
		return true;
	pgc__put(p);
	return false;
}

/*
 * Adds a candidate. Demotions are kept at the front, moves behind them;
 * when the array is full, a move with more hits replaces the move with
 * the fewest, and a demotion replaces a move.
 */
static bool add(struct step_ctx *s, struct pgc_page *p, int node, unsigned ti, uint8_t why,
		unsigned hits)
{
	struct cand c = {p, (uint16_t)ti, why, (uint8_t)hits, 0};
	if (s->nr == s->max) {
		if (s->nr_moves == 0) {
			s->st.deferred++;
			return false;
		}
		unsigned w = weakest(s);
		if (why != R_DEMOTE && s->cand[w].hits >= hits) {
			s->st.deferred++;
			return false;
		}
		if (!take(p, node))
			return false;
		s->st.deferred++;
		pgc__put(s->cand[w].page);
		if (why == R_DEMOTE) {
			/* The demotion takes the first move's slot, that move
			 * the weakest one's. */
			unsigned first = s->nr - s->nr_moves;
			s->cand[w] = s->cand[first];
			s->cand[first] = c;
			s->nr_moves--;
		} else {
			s->cand[w] = c;
		}
		return true;
	}
	if (!take(p, node))
		return false;
	if (why == R_DEMOTE) {
		unsigned first = s->nr - s->nr_moves;
		s->cand[s->nr++] = s->cand[first];
		s->cand[first] = c;
	} else {
		s->cand[s->nr++] = c;
		s->nr_moves++;
	}
	return true;
}

/* Scans up to scan_pages frames from the hand, filling the candidates. */
static void scan(struct step_ctx *s)
{
	struct pgc_frames *fr = &s->c->frames;
	uint32_t nchunks = atomic_load_explicit(&fr->nr_chunks, memory_order_acquire);
	uint32_t ids = nchunks << PGC_CHUNK_SHIFT;
	if (!ids)
		return;
	uint32_t id = s->pl->hand % ids;
	for (uint32_t n = 0; n < s->pl->cfg.scan_pages && n < ids; n++, id = (id + 1) % ids) {
		struct pgc_page *p = pgc__frames_slot(fr, id);
		if (!p)
			continue;
		s->st.scanned++;
		if (pgc__flags(p) & PGC_BIT(PGC_PGI_FREE) ||
		    !atomic_load_explicit(&p->mapping, memory_order_relaxed))
			continue;
		uint32_t a = atomic_load_explicit(&p->access, memory_order_relaxed);
		if (a && age_of(s->epoch, a) > PLACE_OLD_AGE) {
			/* Old enough to be cold for good: pinned at that age, so
			 * the 16-bit epoch never wraps round to look hot. */
			uint32_t v = (a & 0xffffu) | (((s->epoch - PLACE_OLD_AGE) & 0xffffu)
						      << PGC_ACC_EPOCH_SHIFT);
			/* A note that just came wins (a holds it then). */
			if (atomic_compare_exchange_strong_explicit(&p->access, &a, v,
								    memory_order_relaxed,
								    memory_order_relaxed))
				a = v;
		}
		int node = pgc__page_node_of(p);
		int pi = pgc__node_index(s->c, node);
		if (pi < 0)
			continue;
		uint8_t why;
		unsigned hits;
		uint64_t *budget = NULL;
		int ti = choose(s, (unsigned)pi, a, &why, &hits, &budget);
		if (ti < 0)
			continue;
		if (add(s, p, node, (unsigned)ti, why, hits) && why == R_DEMOTE) {
			/* Demotions run first: the frame is free for a move in. */
			(*budget)--;
			s->credit[pi]++;
		}
	}
	s->pl->hand = id;
}

static int by_hits(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return (int)y->hits - (int)x->hits;
}

/*
 * Gives the moves the room of their targets, hottest first: a target
 * keeps its margin, counting the frames its planned demotions free. The
 * moves refused are counted, their references dropped, and ask the next
 * step for demotions on their target.
 */
static void fit_moves(struct step_ctx *s)
{
	struct cand *mv = s->cand + (s->nr - s->nr_moves);
	qsort(mv, s->nr_moves, sizeof(*mv), by_hits);
	unsigned kept = 0;
	for (unsigned i = 0; i < s->nr_moves; i++) {
		unsigned t = mv[i].target;
		uint64_t room = s->room[t] + s->credit[t];
		if (room > s->margin[t]) {
			s->room[t]--;
			mv[kept++] = mv[i];
			continue;
		}
		/* With exchange, a move into a full node trades places with its
		 * coldest page (move_all); the margin stays as it is. */
		if (s->pl->cfg.policies & PGC_PLACE_EXCHANGE) {
			mv[i].exchange = 1;
			mv[kept++] = mv[i];
			continue;
		}
		s->st.refused++;
		if (s->pl->demote_to[t] >= 0)
			s->wanted[t]++;
		pgc__put(mv[i].page);
	}
	s->nr -= s->nr_moves - kept;
	s->nr_moves = kept;
}

/* Moves the candidates, demotions first, one batch per reason and target. */
static long move_all(struct step_ctx *s)
{
	static const uint8_t order[R_NR] = {R_DEMOTE, R_PROMOTE, R_LOCALITY};
	struct pgc_cache *c = s->c;
	struct pgc_page **grp = pgc__malloc((s->nr + 1) * sizeof(*grp));
	int *st = pgc__malloc((s->nr + 1) * sizeof(*st));
	long moved = 0;
	if (!grp || !st) {
		s->st.refused += s->nr;
		for (unsigned i = 0; i < s->nr; i++)
			pgc__put(s->cand[i].page);
		free(grp);
		free(st);
		return 0;
	}
	for (unsigned o = 0; o < R_NR * 2; o++) {
		uint8_t why = order[o % R_NR], xchg = o >= R_NR;
		for (unsigned t = 0; t < c->nr_nodes; t++) {
			unsigned n = 0;
			for (unsigned i = 0; i < s->nr; i++)
				if (s->cand[i].why == why && s->cand[i].target == t &&
				    s->cand[i].exchange == xchg)
					grp[n++] = s->cand[i].page;
			if (!n)
				continue;
			struct pgc_migrate_stats sum = {.size = sizeof(sum)};
			unsigned flags = PGC_MOVE_ASYNC | (xchg ? PGC_MOVE_EXCHANGE : 0);
			unsigned failed = pgc__migrate_move(c, grp, n, c->nodes[t].id, flags,
							    reason_of[why], st, &sum);
			uint64_t ok = n - failed;
			moved += (long)ok;
			s->st.refused += failed;
			s->st.bytes += sum.bytes;
			/* An exchange batch may have copied some pages into
			 * free frames (room came back) and traded the rest. */
			if (xchg)
				s->st.exchanged += sum.bytes / c->frames.page_size - ok;
			if (why == R_LOCALITY)
				s->st.moved += ok;
			else if (why == R_PROMOTE)
				s->st.promoted += ok;
			else
				s->st.demoted += ok;
			for (unsigned i = 0; i < n; i++)
				pgc__put(grp[i]);
		}
	}
	free(grp);
	free(st);
	return moved;
}

static void stats_add(struct pgc_placement_stats *t, const struct pgc_placement_stats *s)
{
	t->steps += s->steps;
	t->scanned += s->scanned;
	t->moved += s->moved;
	t->promoted += s->promoted;
	t->demoted += s->demoted;
	t->refused += s->refused;
	t->deferred += s->deferred;
	t->bytes += s->bytes;
	t->exchanged += s->exchanged;
}

/* One step with pl->lock held; the step's counts in *out. */
static long step_locked(struct pgc_cache *c, struct pgc_place *pl, struct pgc_placement_stats *out)
{
	struct step_ctx s = {.c = c, .pl = pl};
	s.st.size = sizeof(s.st);
	s.st.steps = 1;
	s.epoch = (atomic_load_explicit(&pl->epoch, memory_order_relaxed) + 1) & 0xffffu;
	atomic_store_explicit(&pl->epoch, s.epoch, memory_order_relaxed);
	uint64_t budget = rate_budget(pl);
	s.max = pl->cfg.max_moves < budget ? pl->cfg.max_moves : (unsigned)budget;
	unsigned nn = c->nr_nodes;
	s.room = pgc__calloc(nn * 6u, sizeof(uint64_t));
	s.cand = pgc__malloc(((size_t)s.max + 1) * sizeof(*s.cand));
	long moved = -ENOMEM;
	if (!s.room || !s.cand)
		goto out;
	s.margin = s.room + nn;
	s.demote = s.margin + nn;
	s.displace = s.demote + nn;
	s.credit = s.displace + nn;
	s.wanted = s.credit + nn;
	uint64_t total = 0;
	for (unsigned i = 0; i < nn; i++)
		total += atomic_load_explicit(&c->nodes[i].pool.nr_inuse, memory_order_relaxed);
	for (unsigned i = 0; i < nn; i++) {
		s.room[i] = node_room(c, i, total);
		s.margin[i] = node_margin(c, pl, i);
		if ((pl->cfg.policies & PGC_PLACE_TIERING) && pl->demote_to[i] >= 0) {
			s.demote[i] = s.room[i] < s.margin[i] ? s.margin[i] - s.room[i] : 0;
			s.displace[i] = pl->wanted[i];
		}
	}
	if (nn > 1)
		scan(&s);
	fit_moves(&s);
	moved = move_all(&s);
	for (unsigned i = 0; i < nn; i++)
		pl->wanted[i] = s.wanted[i] < pl->cfg.max_moves ? s.wanted[i] : pl->cfg.max_moves;
	if (pl->cfg.rate_pages)
		pl->tokens -= (double)moved;
out:
	free(s.room);
	free(s.cand);
	stats_add(&pl->total, &s.st);
	if (out)
		pgc__abi_copy_out(out, &s.st, sizeof(s.st));
	return moved;
}

PGC_API long pgc_placement_step(pgc_cache *c, struct pgc_placement_stats *stats)
{
	if (!c)
		return -EINVAL;
	if (stats) {
		int err = pgc__abi_check_out(stats, PGC_PLACEMENT_STATS_SIZE_0_2);
		if (err)
			return err;
	}
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	if (!pl || !atomic_load_explicit(&pl->on, memory_order_relaxed))
		return -ENOENT;
	pthread_mutex_lock(&pl->lock);
	long r = pl->cfg.policies ? step_locked(c, pl, stats) : -ENOENT;
	pthread_mutex_unlock(&pl->lock);
	return r;
}

PGC_API int pgc_placement_stats(pgc_cache *c, struct pgc_placement_stats *stats)
{
	if (!c)
		return -EINVAL;
	int err = pgc__abi_check_out(stats, PGC_PLACEMENT_STATS_SIZE_0_2);
	if (err)
		return err;
	struct pgc_placement_stats t = {.size = sizeof(t)};
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	if (pl) {
		pthread_mutex_lock(&pl->lock);
		t = pl->total;
		pthread_mutex_unlock(&pl->lock);
	}
	pgc__abi_copy_out(stats, &t, sizeof(t));
	return 0;
}

/* ---- the background thread --------------------------------------------- */

struct thread_arg {
	struct pgc_cache *c;
	struct pgc_place *pl;
};

static void *place_thread(void *arg)
{
	struct pgc_cache *c = ((struct thread_arg *)arg)->c;
	struct pgc_place *pl = ((struct thread_arg *)arg)->pl;
	free(arg);
	pthread_mutex_lock(&pl->thr_lock);
	while (!pl->stopping) {
		pthread_mutex_unlock(&pl->thr_lock);
		pthread_mutex_lock(&pl->lock);
		uint32_t ms = pl->cfg.interval_ms ? pl->cfg.interval_ms : PLACE_DEF_INTERVAL_MS;
		if (pl->cfg.policies)
			step_locked(c, pl, NULL);
		pthread_mutex_unlock(&pl->lock);
		struct timespec ts = pgc__timespec_ns(pgc__now_ns() + (uint64_t)ms * 1000000u);
		pthread_mutex_lock(&pl->thr_lock);
		while (!pl->stopping &&
		       pthread_cond_timedwait(&pl->thr_cond, &pl->thr_lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&pl->thr_lock);
	return NULL;
}

/* Waits, thr_lock held, while another caller joins the thread. */
static void wait_joined(struct pgc_place *pl)
{
	while (pl->joining)
		pthread_cond_wait(&pl->thr_cond, &pl->thr_lock);
}

PGC_API int pgc_placement_start(pgc_cache *c)
{
	if (!c)
		return -EINVAL;
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	if (!pl || !atomic_load_explicit(&pl->on, memory_order_relaxed))
		return -ENOENT;
	pthread_mutex_lock(&pl->thr_lock);
	/* A thread of the parent does not exist in a child. */
	if (pl->running && pgc__fork_inherited(pl->thread_gen))
		pl->running = false;
	wait_joined(pl);
	int err = 0;
	if (pl->running) {
		err = -EALREADY;
		goto out;
	}
	struct thread_arg *a = pgc__malloc(sizeof(*a));
	if (!a) {
		err = -ENOMEM;
		goto out;
	}
	a->c = c;
	a->pl = pl;
	pl->stopping = false;
	int rc = pthread_create(&pl->thread, NULL, place_thread, a);
	if (rc) {
		free(a);
		err = -rc;
		goto out;
	}
	pl->running = true;
	pl->thread_gen = pgc__fork_generation();
out:
	pthread_mutex_unlock(&pl->thr_lock);
	return err;
}

static int thread_stop(struct pgc_place *pl)
{
	pthread_mutex_lock(&pl->thr_lock);
	if (pl->running && pgc__fork_inherited(pl->thread_gen))
		pl->running = false;
	wait_joined(pl);
	if (!pl->running) {
		pthread_mutex_unlock(&pl->thr_lock);
		return -ESRCH;
	}
	/* One caller joins; the others wait for it (wait_joined). */
	pl->stopping = true;
	pl->joining = true;
	pthread_cond_broadcast(&pl->thr_cond);
	pthread_t t = pl->thread;
	pthread_mutex_unlock(&pl->thr_lock);
	pthread_join(t, NULL);
	pthread_mutex_lock(&pl->thr_lock);
	pl->running = false;
	pl->joining = false;
	pthread_cond_broadcast(&pl->thr_cond);
	pthread_mutex_unlock(&pl->thr_lock);
	return 0;
}

PGC_API int pgc_placement_stop(pgc_cache *c)
{
	if (!c)
		return -EINVAL;
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	return pl ? thread_stop(pl) : -ESRCH;
}

void pgc__place_fini(struct pgc_cache *c)
{
	struct pgc_place *pl = atomic_load_explicit(&c->place, memory_order_acquire);
	if (!pl)
		return;
	thread_stop(pl);
	if (pl->cfg.policies)
		atomic_fetch_sub(&pgc__place_users, 1);
	atomic_store_explicit(&c->place, NULL, memory_order_release);
	place_free(pl);
}
