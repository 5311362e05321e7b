/**
 * @file common.h
 * @brief Definitions shared by every public header: the export macro, the
 * opaque handle types, error names and the diagnostics callback.
 *
 * Every function of libpgcache returns 0 or a negative errno value (as the
 * kernel code it descends from does), unless its documentation says it
 * returns a count or a pointer. pgc_strerror() names those values.
 *
 * Versioned structures. A structure that the caller fills or that the
 * library fills for the caller (configurations, operation tables,
 * statistics) starts with a member `uint32_t size`, which the caller sets
 * to sizeof the structure as its headers declare it. Each such structure
 * has constants PGC_NAME_SIZE_X_Y that record its size in release X.Y, for
 * each release that changed it (PGC_CACHE_CONFIG_SIZE_0_1, ...); once
 * released, a constant never changes. The rules:
 * - members are only ever appended, never removed or reordered, and a new
 *   member's zero value means "the default" (what a caller built before it
 *   existed gets);
 * - the library refuses (-EINVAL) a size below the first released size,
 *   and accepts any size from there up. It copies what the caller has into
 *   a zeroed structure of its own, so a member the caller did not know of
 *   is 0. A larger structure than the library knows (a caller built
 *   against a newer release) is accepted if the bytes the library does not
 *   know are all zero, and refused with -E2BIG otherwise, since the
 *   library cannot do what they ask;
 * - a structure the library fills (statistics) gets exactly @c size bytes:
 *   the members the caller knows, and zeros for the members of a newer
 *   release that this library does not know. Its @c size is left as the
 *   caller set it.
 * docs/abi.md (the page "Versioned structures") has the details and what
 * adding a member involves.
 */
#ifndef PGCACHE_COMMON_H
#define PGCACHE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(PGC_BUILDING_LIBRARY) && defined(__GNUC__)
/** Marks a function exported from the shared library. */
#define PGC_API __attribute__((visibility("default")))
#else
/** Marks a function exported from the shared library. */
#define PGC_API
#endif

/**
 * The offset of the first byte after @p member in @p type (the kernel's
 * offsetofend): the size of a versioned structure's release whose last
 * member was @p member, not counting tail padding. Used for the
 * PGC_*_SIZE_* constants on data models other than LP64.
 */
#define PGC_OFFSETOFEND(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

#if defined(__LP64__) || defined(_LP64)
/** Defined where the PGC_*_SIZE_* constants are the literal LP64 sizes. */
#define PGC_ABI_LP64 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A page cache: page frames on one or more NUMA nodes, their
 * descriptors, the LRU lists and the reclaim that keeps the cache within its
 * capacity. Created by pgc_cache_create(), destroyed by pgc_cache_destroy().
 */
typedef struct pgc_cache pgc_cache;

/**
 * @brief A mapping (the kernel's address_space): the pages of one file or
 * object, indexed by page number, with the operations its owner supplies.
 */
typedef struct pgc_mapping pgc_mapping;

/**
 * @brief A page descriptor: flags, a reference count, a lock, its place in a
 * mapping and on a NUMA node, and the page's data. Descriptors are type
 * stable: they are never freed while their cache lives.
 */
typedef struct pgc_page pgc_page;

/** Severity of a diagnostic message passed to a #pgc_log_fn. */
enum pgc_log_level {
	PGC_LOG_ERROR = 0, /**< An operation failed in a way the caller sees. */
	PGC_LOG_WARN = 1,  /**< Something unexpected that the library survived. */
	PGC_LOG_INFO = 2,  /**< A notable event (a node that is not usable...). */
	PGC_LOG_DEBUG = 3, /**< Detail for developers. */
};

/**
 * @brief A diagnostics callback. The library never prints; it hands its
 * messages to the callback registered in the cache configuration.
 *
 * @param arg   the pointer registered with the callback.
 * @param level one of #pgc_log_level.
 * @param msg   a NUL-terminated message, valid only during the call.
 *
 * The callback may be called from any thread that calls into the library,
 * possibly with internal locks held: it must not call back into libpgcache.
 */
typedef void (*pgc_log_fn)(void *arg, int level, const char *msg);

/**
 * @brief Names an error code returned by libpgcache.
 *
 * @param err a negative errno value as returned by a pgc_ function (a
 *            positive value is taken as its negation; 0 means success).
 * @return A static, NUL-terminated description that the caller must not free;
 *         never NULL, also for unknown codes.
 * @par Thread safety
 * Safe from any thread (it does not use strerror()'s shared buffer).
 */
PGC_API const char *pgc_strerror(int err);

/**
 * @brief The symbolic name of an error code returned by libpgcache: "ENOSPC"
 * for -ENOSPC, as a log line or a program that matches on it wants it.
 *
 * Every code for which pgc_strerror() has a text of its own has a name
 * (a test checks it); so do the usual errno values of the system calls
 * that the built-in store makes and passes on. Where two errno names share
 * a value the name is the one the library documents (EOPNOTSUPP, not
 * ENOTSUP; EAGAIN, not EWOULDBLOCK).
 *
 * @param err a negative errno value as returned by a pgc_ function, or its
 *            positive value; 0 means success.
 * @return A static, NUL-terminated name that the caller must not free:
 *         "OK" for 0; the errno macro's name ("EINVAL", "EIO"...) for a
 *         known code; "EUNKNOWN" for any other value (INT_MIN included).
 *         Never NULL.
 * @par Thread safety
 * Safe from any thread.
 */
PGC_API const char *pgc_errname(int err);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_COMMON_H */
