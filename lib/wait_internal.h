/*
 * Sleeping on a 32-bit word until it changes, and waking its sleepers: the
 * futex system call, kept behind this small door. Page locks and writeback
 * waits sleep on the page's flags word, as the kernel's page waitqueues do
 * on PG_locked and PG_writeback with PG_waiters telling the waker to wake.
 */
#ifndef PGC_WAIT_INTERNAL_H
#define PGC_WAIT_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

/* Sleeps while *word == expected (spurious wake-ups are possible). */
void pgc__wait_on(_Atomic uint32_t *word, uint32_t expected);
/* Wakes every thread sleeping on word. */
void pgc__wake_all(_Atomic uint32_t *word);

#endif /* PGC_WAIT_INTERNAL_H */
