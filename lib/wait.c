/*
 * Sleeping on a word with the futex system call. Private futexes suffice:
 * descriptors live in the process's own memory.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wait_internal.h"

void pgc__wait_on(_Atomic uint32_t *word, uint32_t expected)
{
	/* EAGAIN (the word changed) and EINTR both mean: look again. */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

void pgc__wake_all(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}
