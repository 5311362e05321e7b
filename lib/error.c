/*
 * Names of the error codes the library returns. A table of our own keeps
 * pgc_strerror thread safe and the texts specific to page-cache operations;
 * pgc_errname gives the symbolic names, for logs that a program parses or
 * a reader greps. The test errname_covers_strerror (test_cache.c) checks
 * that every code with a text here also has a name.
 */
#include <errno.h>

#include <pgcache/common.h>
#include <pgcache/io.h>

#include "error_internal.h"

__thread int pgc__last_io_error __attribute__((tls_model("initial-exec")));

PGC_API int pgc_last_error(void)
{
	return pgc__last_io_error;
}

PGC_API const char *pgc_strerror(int err)
{
	if (err > 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument";
	case -ENOMEM:
		return "out of memory: no free frame and nothing reclaimable, or the system refused memory";
	case -ENOENT:
		return "no such page or node";
	case -EEXIST:
		return "a page is already at that index";
	case -EBUSY:
		return "page or object busy (locked, pinned, dirty or under writeback)";
	case -EAGAIN:
		return "would block or raced: try again";
	case -ENODEV:
		return "NUMA node does not exist or has no memory";
	case -EACCES:
		return "NUMA node not allowed for this process, or page pinned by other holders";
	case -EFAULT:
		return "not a page of this cache";
	case -EIO:
		return "I/O error";
	case -EROFS:
		return "mapping cannot write back (no writepage operation)";
	case -ENOSPC:
		return "no space left on the store";
	case -EPERM:
		return "operation not permitted";
	case -EOVERFLOW:
		return "value too large";
	case -ERANGE:
		return "value out of range";
	case -ENOSYS:
		return "operation not supported";
	case -EOPNOTSUPP:
		return "operation not supported by this object";
	case -EALREADY:
		return "already done";
	case -EBADF:
		return "bad file descriptor";
	case -EUCLEAN:
		return "internal structures do not agree (consistency check failed)";
	case -EFBIG:
		return "file too large";
	case -EISDIR:
		return "is a directory";
	case -ENOTDIR:
		return "a component of the path is not a directory";
	case -ENAMETOOLONG:
		return "file name too long";
	case -ELOOP:
		return "too many symbolic links";
	case -EMFILE:
		return "too many open files in the process";
	case -ENFILE:
		return "too many open files in the system";
	case -EDQUOT:
		return "disk quota exceeded";
	case -EINTR:
		return "interrupted by a signal";
	case -ETXTBSY:
		return "file busy (being executed)";
	case -E2BIG:
		return "structure of a newer release asks for what this library does not know";
	default:
		return "unknown error";
	}
}

/* Every code that pgc_strerror has a text for (and a few that the system
 * calls under the store can return), by name. */
#define PGC_ERRNAMES(X)                                                                          \
	X(EPERM) X(ENOENT) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(EBADF) X(EAGAIN) X(ENOMEM)         \
	X(EACCES) X(EFAULT) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV) X(ENOTDIR) X(EISDIR)           \
	X(EINVAL) X(ENFILE) X(EMFILE) X(ETXTBSY) X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS)           \
	X(ERANGE) X(ENAMETOOLONG) X(ENOSYS) X(ELOOP) X(EOVERFLOW) X(EOPNOTSUPP) X(ETIMEDOUT)     \
	X(EALREADY) X(EUCLEAN) X(EDQUOT) X(ECANCELED) X(ENODATA) X(EBADE)

PGC_API const char *pgc_errname(int err)
{
	if (err == 0)
		return "OK";
	/* INT_MIN has no positive counterpart; it is no errno either. */
	if (err > 0)
		err = -err;
	switch (err) {
#define PGC_ERRNAME_CASE(e) \
	case -(e):          \
		return #e;
		PGC_ERRNAMES(PGC_ERRNAME_CASE)
#undef PGC_ERRNAME_CASE
	default:
		return "EUNKNOWN";
	}
}
