/*
 * The find-or-create and read paths of a mapping (the kernel's filemap.c):
 * they combine lookup, allocation with reclaim, insertion and readpage, so
 * they sit above reclaim.
 */
#include <errno.h>
#include <string.h>

#include "mapping_internal.h"

/* Locks a found page (or fails with -EAGAIN) and checks it is still at index. */
static int lock_found(struct pgc_mapping *m, struct pgc_page *p, uint64_t index, bool nowait)
{
	if (nowait) {
		if (!pgc__trylock(p)) {
			pgc__put(p);
			return -EAGAIN;
		}
	} else {
		pgc__lock(p);
	}
	if (atomic_load_explicit(&p->mapping, memory_order_relaxed) == m &&
	    atomic_load_explicit(&p->index, memory_order_relaxed) == index)
		return 0;
	pgc__unlock(p);
	pgc__put(p);
	return -ENOENT;
}

int pgc__mapping_create(struct pgc_mapping *m, uint64_t index, bool nowait,
			struct pgc_page **pagep)
{
	if (pgc__mapping_present(m, index))
		return -EEXIST;
	struct pgc_page *p;
	int err = pgc_page_alloc(m->cache, PGC_NODE_ANY, nowait ? PGC_ALLOC_NOWAIT : 0, &p);
	if (err)
		return err;
	pgc__trylock(p); /* a new page: nobody else can see it yet */
	err = pgc__mapping_add(m, p, index);
	if (err) {
		pgc__unlock(p);
		pgc__put(p);
		return err;
	}
	pgc__stat_inc(m->cache, PGC_ST_MISSES);
	*pagep = p;
	return 0;
}

PGC_API int pgc_mapping_find_or_create(pgc_mapping *m, uint64_t index, unsigned flags,
				       pgc_page **pagep)
{
	if (pagep)
		*pagep = NULL;
	if (!m || !pagep || (flags & ~PGC_FIND_NOWAIT))
		return -EINVAL;
	bool nowait = flags & PGC_FIND_NOWAIT;
	for (;;) {
		struct pgc_page *p = pgc__mapping_lookup(m, index);
		if (p) {
			int err = lock_found(m, p, index, nowait);
			if (err == -ENOENT)
				continue;
			if (err)
				return err;
			pgc__mark_accessed(p);
			pgc__stat_inc(m->cache, PGC_ST_HITS);
			*pagep = p;
			return 0;
		}
		int err = pgc__mapping_create(m, index, nowait, pagep);
		if (err != -EEXIST)
			return err;
		/* Another thread inserted it first: use theirs. */
	}
}

/* The miss path of pgc_mapping_read_page(), under the fill lock: p is the
 * page found not up to date, or NULL. */
static int read_page_fill(struct pgc_mapping *m, struct pgc_page *p, uint64_t index,
			  pgc_page **pagep)
{
	if (p) {
		int err = lock_found(m, p, index, false);
		if (err)
			p = NULL;
	}
	if (!p) {
		int err = pgc_mapping_find_or_create(m, index, 0, &p);
		if (err)
			return err;
	}
	/* Locked now. Someone may have read it while we waited. */
	if (!pgc__test(p, PGC_PG_UPTODATE)) {
		int err = 0;
		if (m->ops.readpage)
			err = m->ops.readpage(m, p);
		else
			memset(pgc__page_data(p), 0, m->cache->frames.page_size);
		if (err) {
			pgc__set(p, PGC_PG_ERROR);
			pgc__unlock(p);
			pgc__put(p);
			return err;
		}
		pgc__clear(p, PGC_PG_ERROR);
		pgc__set(p, PGC_PG_UPTODATE);
	}
	pgc__unlock(p);
	*pagep = p;
	return 0;
}

PGC_API int pgc_mapping_read_page(pgc_mapping *m, uint64_t index, pgc_page **pagep)
{
	if (pagep)
		*pagep = NULL;
	if (!m || !pagep)
		return -EINVAL;
	struct pgc_page *p = pgc__mapping_lookup(m, index);
	if (p && pgc__test(p, PGC_PG_UPTODATE)) {
		pgc__mark_accessed(p);
		pgc__stat_inc(m->cache, PGC_ST_HITS);
		*pagep = p;
		return 0;
	}
	pgc__mapping_fill_begin(m);
	int err = read_page_fill(m, p, index, pagep);
	pgc__mapping_fill_end(m);
	return err;
}
