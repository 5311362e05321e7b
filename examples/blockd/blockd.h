/*
 * What the two serving modes of blockd share: the options, the server, and
 * the helpers that check, count and log requests. blockd.c has setup, the
 * thread-per-connection mode and main(); blockd_loop.c the event-loop mode.
 */
#ifndef BLOCKD_H
#define BLOCKD_H

#include <pgcache/pgcache.h>

#include "blockd_proto.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define PROG "blockd"

struct options {
	const char *image;
	uint64_t size;		/* 0: use the image's size */
	uint32_t block_size;
	uint64_t cache_bytes;
	uint64_t max_request;	/* bytes */
	const char *listen;
	unsigned port;
	const char *port_file;
	unsigned max_clients;
	uint64_t max_requests;	/* 0: no limit */
	unsigned idle_exit;	/* seconds, 0: never */
	bool verbose;
	bool event_loop;	/* --event-loop: one thread serves every connection */
	unsigned queue_depth;	/* --queue-depth: requests of a connection in service */
	unsigned workers;	/* --workers: the event loop's threads for blocking work */
};

struct conn;

struct server {
	const struct options *opt;
	pgc_store *store;
	pgc_cache *cache;
	pgc_mapping *map;
	uint32_t block_size;
	uint32_t max_blocks;
	uint64_t nr_blocks;
	pgc_errseq_t since;	/* the server's own sample, for the final flush */

	int listen_fd;
	int wake[2];		/* a connection thread writes a byte to wake the main thread */

	pthread_mutex_t lock;	/* protects conns and nr_conns */
	struct conn *conns;
	unsigned nr_conns;
	unsigned next_id;

	_Atomic bool stopping;
	_Atomic uint64_t admitted;	/* requests accepted for service */
	_Atomic uint64_t served;	/* requests answered */
	_Atomic uint64_t last_active_ns;

	_Atomic uint64_t reads, writes, flushes, failed;
	_Atomic uint64_t bytes_read, bytes_written;

	/* Failed requests are logged rate-limited (--verbose: all of them):
	 * the first of each error, then a count every 10 s. Under fail_lock. */
	pthread_mutex_t fail_lock;
	int fail_seen[8];	/* errors logged once already */
	unsigned nr_fail_seen;
	uint64_t fail_unlogged, fail_log_ns;
};


uint64_t blockd_now_ns(void);
/* Wakes the main loop (thread mode) or the event loop. */
void blockd_wake_main(struct server *srv);
/* The status to reply to a READ or WRITE out of range, or 0. */
int blockd_check_range(const struct server *srv, const struct blkd_request *rq);
/* What is wrong with a request header (a protocol error), or NULL. */
const char *blockd_protocol_error(const struct blkd_request *rq);
/* Takes a request for service, unless the server stops or is at --max-requests. */
bool blockd_admit(struct server *srv);
/* Counts a request answered (and wakes the main loop at --max-requests). */
void blockd_answered(struct server *srv);
/* Logs a failed request of connection id, rate-limited. */
void blockd_log_failure(struct server *srv, unsigned id, const struct blkd_request *rq,
			int status);
/* Writes back and syncs the whole image; the errors since *since. */
int blockd_flush_all(struct server *srv, pgc_errseq_t *since);

/*
 * The event-loop mode (blockd_loop.c): accepts and serves every connection
 * in the calling thread until a signal on sigfd, --max-requests or
 * --idle-exit, then finishes the requests in service and closes the
 * connections. Returns 0, or -1 if the loop could not be set up.
 */
int blockd_event_loop(struct server *srv, int sigfd);

#endif
