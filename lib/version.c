/* The run-time version of the library (the macros live in pgcache/version.h). */
#include <pgcache/version.h>

#define PGC_STR2(x) #x
#define PGC_STR(x) PGC_STR2(x)

PGC_API unsigned pgc_version(void)
{
	return PGC_VERSION_NUMBER;
}

PGC_API const char *pgc_version_string(void)
{
	return PGC_STR(PGC_VERSION_MAJOR) "." PGC_STR(PGC_VERSION_MINOR) "." PGC_STR(PGC_VERSION_PATCH);
}
