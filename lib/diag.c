/*
 * Diagnostics: the log callback a cache's owner registers, and the failure
 * path of internal assertions. The library never prints to stdout; a failed
 * assertion (an internal bug, never bad input) writes one line to stderr
 * without allocating or locking, then aborts, as mimalloc's does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_internal.h"

void pgc__log(const struct pgc_cache *c, int level, const char *fmt, ...)
{
	if (!c || !c->log || level > c->log_level)
		return;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->log(c->log_arg, level, buf);
}

static void put_str(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r;
}

void pgc__assert_fail(const char *expr, const char *file, int line, const char *func)
{
	char num[16];
	int i = (int)sizeof(num) - 1;
	num[i] = '\0';
	unsigned v = (unsigned)line;
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	put_str("libpgcache: assertion failed: ");
	put_str(expr);
	put_str(" (");
	put_str(file);
	put_str(":");
	put_str(&num[i]);
	put_str(", ");
	put_str(func);
	put_str(")\n");
	abort();
}
