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

/*
 * pgc__racy_read_begin()/end() bracket a copy of page data that races with
 * writers by design: the read hit path copies without the page lock, so a
 * read of bytes that another thread is writing may see part of the write
 * (as read(2) may; io.h and docs/concurrency.md say so). Only the copy's
 * reads are exempt from TSan; everything else in the path is checked.
 */
#ifdef PGC_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
/* What was written before this call is visible after pgc__hb_acquire(addr). */
#define pgc__hb_release(addr) __tsan_release((void *)(addr))
#define pgc__hb_acquire(addr) __tsan_acquire((void *)(addr))
#define pgc__racy_read_begin() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define pgc__racy_read_end() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define pgc__hb_release(addr) ((void)(addr))
#define pgc__hb_acquire(addr) ((void)(addr))
#define pgc__racy_read_begin() ((void)0)
#define pgc__racy_read_end() ((void)0)
#endif

/*
 * pgc__rcu_read_unlock() ends an RCU read-side section (where
 * rcu_read_unlock() is in scope) and tells TSan that the reader's loads
 * come before what a call_rcu() callback queued later frees: the callback
 * calls pgc__hb_rcu_freed() first. liburcu's grace period orders the two
 * through memory TSan does not see; without this, every index node freed
 * after a grace period was reported as racing with the readers that had
 * walked it (test/fsx.c under TSan, the filler's lookups). The token is
 * one for all readers, so TSan sees more order than there is, never less.
 */
#ifdef PGC_TSAN
extern char pgc__rcu_hb;
#define pgc__hb_rcu_freed() __tsan_acquire(&pgc__rcu_hb)
#define pgc__rcu_read_unlock()                                                                 \
	do {                                                                                   \
		__tsan_release(&pgc__rcu_hb);                                                  \
		rcu_read_unlock();                                                             \
	} while (0)
#else
#define pgc__hb_rcu_freed() ((void)0)
#define pgc__rcu_read_unlock() rcu_read_unlock()
#endif

#endif /* PGC_TSAN_INTERNAL_H */
