/**
 * @file version.h
 * @brief Compile-time and run-time version of libpgcache.
 *
 * CMake reads the version of the project from the three macros below, so
 * they are the single place where the version is written.
 */
#ifndef PGCACHE_VERSION_H
#define PGCACHE_VERSION_H

#include <pgcache/common.h>

/** Major version: changes when the ABI breaks (it is the SOVERSION). */
#define PGC_VERSION_MAJOR 0
/** Minor version: changes when symbols are added. */
#define PGC_VERSION_MINOR 1
/** Patch version: changes for fixes that add no symbol. */
#define PGC_VERSION_PATCH 0

/** The version as one number: major * 10000 + minor * 100 + patch. */
#define PGC_VERSION_NUMBER \
	(PGC_VERSION_MAJOR * 10000 + PGC_VERSION_MINOR * 100 + PGC_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The version of the library that is running.
 *
 * Compare it with #PGC_VERSION_NUMBER to detect a program that was built
 * against other headers than the library it loaded.
 *
 * @return major * 10000 + minor * 100 + patch of the loaded library.
 * @par Thread safety
 * Safe from any thread at any time.
 */
PGC_API unsigned pgc_version(void);

/**
 * @brief The version of the library that is running, as a string.
 *
 * @return A static string "major.minor.patch"; the caller must not free it.
 * @par Thread safety
 * Safe from any thread at any time.
 */
PGC_API const char *pgc_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* PGCACHE_VERSION_H */
