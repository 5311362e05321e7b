/*
 * Internal assertions, in two tiers (after mimalloc's mi_assert and
 * mi_assert_expensive). pgc_assert() is on in debug builds (PGC_DEBUG >= 1,
 * the default when NDEBUG is not defined); pgc_assert_expensive() needs
 * PGC_DEBUG >= 2. An assertion states an internal invariant: bad input from
 * a caller is answered with an error code, never only with an assertion.
 * The failure path allocates nothing and takes no lock.
 */
#ifndef PGC_ASSERT_INTERNAL_H
#define PGC_ASSERT_INTERNAL_H

#ifndef PGC_DEBUG
#ifdef NDEBUG
#define PGC_DEBUG 0
#else
#define PGC_DEBUG 1
#endif
#endif

__attribute__((noreturn, cold)) void pgc__assert_fail(const char *expr, const char *file,
						      int line, const char *func);

#if PGC_DEBUG >= 1
#define pgc_assert(e) \
	((e) ? (void)0 : pgc__assert_fail(#e, __FILE__, __LINE__, __func__))
#else
#define pgc_assert(e) ((void)0)
#endif

#if PGC_DEBUG >= 2
#define pgc_assert_expensive(e) pgc_assert(e)
#else
#define pgc_assert_expensive(e) ((void)0)
#endif

#define pgc_likely(x) __builtin_expect(!!(x), 1)
#define pgc_unlikely(x) __builtin_expect(!!(x), 0)

#endif /* PGC_ASSERT_INTERNAL_H */
