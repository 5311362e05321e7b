/*
 * Names of the error codes the library returns. A table of our own keeps
 * pgc_strerror thread safe and the texts specific to page-cache operations.
 */
#include <errno.h>

#include <pgcache/common.h>

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
	case -E2BIG:
		return "structure of a newer release asks for what this library does not know";
	default:
		return "unknown error";
	}
}
