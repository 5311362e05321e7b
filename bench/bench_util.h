/*
 * Small helpers shared by the benchmarks: a monotonic clock, the xorshift64
 * generator both sides of a comparison draw from, and the median of rounds.
 */
#ifndef PGC_BENCH_UTIL_H
#define PGC_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_ROUNDS 128

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64 (Marsaglia 13/7/17): a few cycles; the state must be nonzero. */
static inline uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n (1 to BENCH_MAX_ROUNDS) values; v is left as it was. */
static inline double median(const double *v, unsigned n)
{
	double tmp[BENCH_MAX_ROUNDS];

	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2.0;
}

/*
 * Parses a comma-separated list of distinct numbers from lo to hi ("1,2,4")
 * into out (at most max entries). Returns 0, or -1 for a bad list.
 */
static inline int bench_parse_list(const char *arg, unsigned long lo, unsigned long hi,
				   unsigned *out, unsigned max, unsigned *nr)
{
	const char *p = arg;

	*nr = 0;
	while (*p) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || end == p || v < lo || v > hi || *nr == max ||
		    (*end != ',' && *end != '\0'))
			return -1;
		for (unsigned i = 0; i < *nr; i++)
			if (out[i] == v)
				return -1;
		out[(*nr)++] = (unsigned)v;
		p = *end == ',' ? end + 1 : end;
	}
	return *nr ? 0 : -1;
}

#endif /* PGC_BENCH_UTIL_H */
