/*
 * A store in memory for the migration suites (test_migrate.c, test_numa.c):
 * readpage and writepage on a byte array, with a switch that makes
 * writepage fail. The mapping's owner is the struct tstore.
 */
#ifndef PGC_TSTORE_H
#define PGC_TSTORE_H

#include "pgc_test.h"

#include <time.h>

struct tstore {
	size_t ps;
	unsigned char *data;
	atomic_int writepages;  /* writepage calls */
	atomic_int write_err;   /* writepage returns this if nonzero */
	atomic_int eagain_left; /* for a test's own migratepage: busy this many times */
	atomic_int migratepage_calls;
	atomic_int delay_us;    /* writepage sleeps this long first */
};

static inline int ts_readpage(pgc_mapping *m, pgc_page *p)
{
	struct tstore *s = pgc_mapping_owner(m);
	memcpy(pgc_page_data(p), s->data + pgc_page_index(p) * s->ps, s->ps);
	return 0;
}

static inline int ts_writepage(pgc_mapping *m, pgc_page *p, struct pgc_writeback_control *wbc)
{
	(void)wbc;
	struct tstore *s = pgc_mapping_owner(m);
	atomic_fetch_add(&s->writepages, 1);
	int delay = atomic_load(&s->delay_us);
	if (delay) {
		struct timespec ts = {0, (long)delay * 1000};
		nanosleep(&ts, NULL);
	}
	int err = atomic_load(&s->write_err);
	if (err)
		return err;
	memcpy(s->data + pgc_page_index(p) * s->ps, pgc_page_data(p), s->ps);
	return 0;
}

#endif /* PGC_TSTORE_H */
