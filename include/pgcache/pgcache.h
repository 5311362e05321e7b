/**
 * @file pgcache.h
 * @brief The umbrella header of libpgcache: includes every public header.
 *
 * libpgcache gives a storage server that manages its own memory the
 * machinery of the Linux page cache in user space: page descriptors with
 * flags, references and locks; mappings indexed by page number with the
 * owner's operations; per-node LRU lists and reclaim; page handles,
 * buffered and direct I/O over an O_DIRECT file store; and a NUMA
 * migration engine that moves cached pages between nodes.
 */
#ifndef PGCACHE_PGCACHE_H
#define PGCACHE_PGCACHE_H

#include <pgcache/common.h>
#include <pgcache/version.h>
#include <pgcache/cache.h>
#include <pgcache/page.h>
#include <pgcache/mapping.h>
#include <pgcache/clpage.h>
#include <pgcache/io.h>
#include <pgcache/dio.h>
#include <pgcache/store.h>
#include <pgcache/migrate.h>
#include <pgcache/placement.h>
#include <pgcache/aio.h>

#endif /* PGCACHE_PGCACHE_H */
