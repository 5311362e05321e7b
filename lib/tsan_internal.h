/*
 * Happens-before annotations for ThreadSanitizer.
 *
 * liburcu is not built with -fsanitize=thread, so TSan cannot see that a
 * call_rcu() callback or rcu_barrier() is ordered after the code that queued
 * the work: the handoff goes through liburcu's own futexes and atomics. These
 * macros state that order explicitly where the library relies on it. They
 * compile to nothing in builds without TSan.
 */
#ifndef PGC_TSAN_INTERNAL_H
#define PGC_TSAN_INTERNAL_H

#if defined(__SANITIZE_THREAD__)
#define PGC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PGC_TSAN 1
#endif
#endif

#ifdef PGC_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* What was written before this call is visible after pgc__hb_acquire(addr). */
#define pgc__hb_release(addr) __tsan_release((void *)(addr))
#define pgc__hb_acquire(addr) __tsan_acquire((void *)(addr))
#else
#define pgc__hb_release(addr) ((void)(addr))
#define pgc__hb_acquire(addr) ((void)(addr))
#endif

#endif /* PGC_TSAN_INTERNAL_H */
