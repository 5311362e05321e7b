/*
 * Versioned structures at the library's boundary (see "Versioned
 * structures" in common.h and docs/abi.md). Every public function that
 * takes a caller's versioned structure goes through these two helpers, so
 * that the rule is written once: a caller built against an older release
 * (a smaller size) gets zeros, that is defaults, for the members it did not
 * know; one built against a newer release (a larger size) is heard as long
 * as the members this library does not know are zero; and a structure the
 * library fills gets exactly the caller's size in bytes.
 */
#ifndef PGC_ABI_INTERNAL_H
#define PGC_ABI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Copies the caller's structure into the library's own: local (local_size
 * bytes, sizeof the structure this library knows) is zeroed, then gets the
 * first min(caller size, local_size) bytes of caller, and its size member
 * is set to local_size (it is a whole structure of this release now).
 * Returns 0; -EINVAL if caller is NULL or its size is below first_size
 * (the first released size); -E2BIG if the caller's structure is larger
 * than local_size and a byte past local_size is not zero, or its size is
 * above 4096 (no structure comes near it: an uninitialised size member).
 */
int pgc__abi_copy_in(void *local, size_t local_size, const void *caller, uint32_t first_size);

/*
 * Checks a structure that the library will fill: 0 if caller is not NULL
 * and its size is at least first_size, else -EINVAL; -E2BIG for a size
 * above 4096.
 */
int pgc__abi_check_out(const void *caller, uint32_t first_size);

/*
 * Fills the caller's structure from the library's: exactly the caller's
 * size in bytes are written, the bytes of local up to that size (the size
 * member excepted, which keeps the caller's value) and zeros past
 * local_size for a caller that knows a newer release. The caller's size
 * must have passed pgc__abi_check_out().
 */
void pgc__abi_copy_out(void *caller, const void *local, size_t local_size);

/* The helpers for one structure: local is an lvalue of its type. */
#define PGC__ABI_IN(local, caller, first) pgc__abi_copy_in(&(local), sizeof(local), (caller), (first))
#define PGC__ABI_OUT(caller, local) pgc__abi_copy_out((caller), &(local), sizeof(local))

#endif /* PGC_ABI_INTERNAL_H */
