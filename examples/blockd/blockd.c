/*
 * blockd: a small block storage server with libpgcache as its buffer cache.
 *
 * It serves one disk image over TCP with the protocol of blockd_proto.h
 * (read, write and flush of blocks). This is the use the library was made
 * for: the image is opened with O_DIRECT through the library's file store,
 * so the kernel keeps no copy of it, and every request goes through the
 * library's cache:
 *
 *   READ   pgc_read(): hits are copied from cached pages, misses are read
 *          from the image (with readahead when the reads are sequential);
 *   WRITE  pgc_write(): the blocks are copied into cached pages that become
 *          dirty; reclaim writes them back when the cache is full. With the
 *          FUA flag, PGC_WRITE_SYNC writes them back at once and the image
 *          is synced before the reply;
 *   FLUSH  pgc_sync_range() over the whole image: write back every dirty
 *          page, wait, and fdatasync the image (the file store's sync
 *          operation, which pgc_sync_range() calls last). The error reported is
 *          the first write error this connection has not yet seen, since it
 *          connected (each connection holds its own errseq sample, as each
 *          open file description does in the kernel), so a write error
 *          during background writeback is reported to every client once.
 *
 * Structure: the main thread accepts connections and handles signals (a
 * signalfd, so that no code runs in a signal handler); each connection has
 * a thread that serves its requests one after the other. With --event-loop
 * one thread serves every connection instead (blockd_loop.c). On SIGINT or
 * SIGTERM, after --max-requests requests, or after --idle-exit seconds
 * without a client, the server stops accepting, lets each connection finish
 * the request it is serving, writes everything back, syncs the image and
 * exits 0 (1 if the final flush failed).
 */
#define _GNU_SOURCE
#include "blockd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
	struct server *srv;
	struct conn *next;
	pthread_t tid;
	int fd;
	unsigned id;
	char peer[64];
	pgc_errseq_t since;	/* the write errors this connection has seen */
	unsigned char *buf;	/* max_blocks * block_size bytes */
	_Atomic bool done;
	uint64_t requests, failed;
};

/*
 * A failed request: with --verbose, every one is logged; otherwise the
 * first of each error (-EINVAL, a client's mistake, not at all), then the
 * number of those not logged at most every 10 s, so that a full disk
 * answering thousands of writes with ENOSPC does not flood the log.
 */
void blockd_log_failure(struct server *srv, unsigned id, const struct blkd_request *rq,
			int status)
{
	if (srv->opt->verbose) {
		fprintf(stderr, PROG ": connection %u: op %u at block %" PRIu64 " (+%" PRIu32
			"): %s\n", id, rq->op, rq->offset, rq->length, pgc_strerror(status));
		return;
	}
	if (status == -EINVAL)
		return;
	uint64_t now = blockd_now_ns();
	pthread_mutex_lock(&srv->fail_lock);
	bool seen = false;
	for (unsigned i = 0; i < srv->nr_fail_seen && !seen; i++)
		seen = srv->fail_seen[i] == status;
	if (!seen && srv->nr_fail_seen < 8) {
		srv->fail_seen[srv->nr_fail_seen++] = status;
		fprintf(stderr, PROG ": connection %u: op %u at block %" PRIu64 " (+%" PRIu32
			"): %s (%s); more failures are counted every 10 s\n", id, rq->op,
			rq->offset, rq->length, pgc_strerror(status), pgc_errname(status));
		if (!srv->fail_log_ns)
			srv->fail_log_ns = now;
	} else {
		srv->fail_unlogged++;
		if (now - srv->fail_log_ns >= 10000000000ull) {
			fprintf(stderr, PROG ": %" PRIu64 " more requests failed in the last %" PRIu64
				" s, the last with %s\n", srv->fail_unlogged,
				(now - srv->fail_log_ns) / 1000000000u, pgc_errname(status));
			srv->fail_unlogged = 0;
			srv->fail_log_ns = now;
		}
	}
	pthread_mutex_unlock(&srv->fail_lock);
}

uint64_t blockd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void blockd_wake_main(struct server *srv)
{
	char c = 0;

	/* The pipe is non-blocking: if it is full, the main thread is awake anyway. */
	if (write(srv->wake[1], &c, 1) < 0 && errno != EAGAIN)
		fprintf(stderr, PROG ": waking the main thread: %s\n", strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                  */

/*
 * Checks a READ or WRITE range: the status to reply with, or 0. Past the end,
 * a read is invalid and a write is out of space, as for NBD.
 */
int blockd_check_range(const struct server *srv, const struct blkd_request *rq)
{
	if (rq->length == 0 || rq->length > srv->max_blocks)
		return -EINVAL;
	if (rq->offset >= srv->nr_blocks || rq->length > srv->nr_blocks - rq->offset)
		return rq->op == BLKD_OP_WRITE ? -ENOSPC : -EINVAL;
	return 0;
}

static int do_read(struct conn *c, const struct blkd_request *rq)
{
	struct server *srv = c->srv;
	size_t len = (size_t)rq->length * srv->block_size;
	ssize_t n;
	int err;

	if ((err = blockd_check_range(srv, rq)))
		return err;
	n = pgc_read(srv->map, c->buf, len, rq->offset * srv->block_size);
	if (n < 0)
		return (int)n;
	/* Short: a page after the first could not be read, and pgc_last_error()
	 * says why (the range was checked against the image's size, so the
	 * mapping's size cannot be the cause; if it were, there is no error to
	 * give and the client gets EIO). */
	if ((size_t)n != len)
		return pgc_last_error() ? pgc_last_error() : -EIO;
	atomic_fetch_add_explicit(&srv->reads, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&srv->bytes_read, len, memory_order_relaxed);
	return 0;
}

static int do_write(struct conn *c, const struct blkd_request *rq)
{
	struct server *srv = c->srv;
	size_t len = (size_t)rq->length * srv->block_size;
	bool fua = rq->flags & BLKD_FLAG_FUA;
	ssize_t n;
	int err;

	if ((err = blockd_check_range(srv, rq)))
		return err;
	/* With PGC_WRITE_SYNC a write-back error comes back here even though the
	 * bytes were copied: they stay dirty in the cache, and the client hears
	 * about the failure now rather than at its next flush. */
	n = pgc_write(srv->map, c->buf, len, rq->offset * srv->block_size,
		      fua ? PGC_WRITE_SYNC : 0);
	if (n < 0)
		return (int)n;
	/* Short: the error that stopped the copy (-ENOMEM, a read of a partial
	 * block that failed...) is the client's answer. */
	if ((size_t)n != len)
		return pgc_last_error() ? pgc_last_error() : -EIO;
	/* PGC_WRITE_SYNC writes back without the store's sync operation. */
	if (fua && (err = pgc_store_sync(srv->store)))
		return err;
	atomic_fetch_add_explicit(&srv->writes, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&srv->bytes_written, len, memory_order_relaxed);
	return 0;
}

/* Writes back the whole image, makes it durable (pgc_sync_range() ends with
 * the store's fdatasync) and reports the write errors this sample has not
 * seen yet. */
int blockd_flush_all(struct server *srv, pgc_errseq_t *since)
{
	return pgc_sync_range(srv->map, 0, UINT64_MAX, since);
}

/* Reads and throws away the payload of a WRITE too large to take, so the
 * stream stays in step with the client. */
static int drain(struct conn *c, uint64_t len)
{
	size_t chunk = (size_t)c->srv->max_blocks * c->srv->block_size;

	while (len) {
		size_t n = len < chunk ? (size_t)len : chunk;
		int err = blkd_recv_all(c->fd, c->buf, n, NULL);

		if (err)
			return err;
		len -= n;
	}
	return 0;
}

/* Takes a request for service, unless the server stops or has served its
 * --max-requests. */
bool blockd_admit(struct server *srv)
{
	uint64_t max = srv->opt->max_requests;

	if (atomic_load(&srv->stopping))
		return false;
	return !max || atomic_fetch_add(&srv->admitted, 1) < max;
}

void blockd_answered(struct server *srv)
{
	uint64_t max = srv->opt->max_requests;

	atomic_store_explicit(&srv->last_active_ns, blockd_now_ns(), memory_order_relaxed);
	if (atomic_fetch_add(&srv->served, 1) + 1 == max)
		blockd_wake_main(srv);
}

static int send_reply(struct conn *c, uint64_t handle, int status, const void *data, size_t len)
{
	unsigned char hdr[BLKD_REPLY_SIZE];
	struct blkd_reply rp = { .magic = BLKD_REPLY_MAGIC, .status = status, .handle = handle };
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)data, .iov_len = len },
	};

	blkd_encode_reply(hdr, &rp);
	return blkd_send_iov(c->fd, iov, len ? 2 : 1);
}

/* Returns a description of what is wrong with a request header, or NULL. */
const char *blockd_protocol_error(const struct blkd_request *rq)
{
	if (rq->magic != BLKD_REQUEST_MAGIC)
		return "bad magic";
	if (rq->reserved)
		return "reserved field not zero";
	switch (rq->op) {
	case BLKD_OP_READ:
		return rq->flags ? "unknown flags" : NULL;
	case BLKD_OP_WRITE:
		return rq->flags & ~BLKD_FLAG_FUA ? "unknown flags" : NULL;
	case BLKD_OP_FLUSH:
		return rq->flags || rq->length ? "flags or length in a flush" : NULL;
	default:
		return "unknown op";
	}
}

/* Serves one request; returns false when the connection must end. */
static bool serve_one(struct conn *c)
{
	struct server *srv = c->srv;
	unsigned char hdr[BLKD_REQUEST_SIZE];
	struct blkd_request rq;
	const char *bad;
	size_t out_len = 0;
	int eof, status, err;

	err = blkd_recv_all(c->fd, hdr, sizeof(hdr), &eof);
	if (err) {
		if (!eof)
			fprintf(stderr, PROG ": connection %u: receiving: %s\n", c->id,
				strerror(-err));
		return false;
	}
	blkd_decode_request(hdr, &rq);
	if ((bad = blockd_protocol_error(&rq))) {
		fprintf(stderr, PROG ": connection %u: protocol error (%s): closing\n", c->id, bad);
		return false;
	}

	if (rq.op == BLKD_OP_WRITE) {
		uint64_t len = (uint64_t)rq.length * srv->block_size;

		err = rq.length <= srv->max_blocks ? blkd_recv_all(c->fd, c->buf, len, NULL)
						    : drain(c, len);
		if (err) {
			fprintf(stderr, PROG ": connection %u: receiving a write: %s\n", c->id,
				strerror(-err));
			return false;
		}
	}

	if (!blockd_admit(srv)) {
		send_reply(c, rq.handle, -ESHUTDOWN, NULL, 0);
		return false;
	}
	switch (rq.op) {
	case BLKD_OP_READ:
		status = do_read(c, &rq);
		if (!status)
			out_len = (size_t)rq.length * srv->block_size;
		break;
	case BLKD_OP_WRITE:
		status = do_write(c, &rq);
		break;
	default:
		status = blockd_flush_all(srv, &c->since);
		atomic_fetch_add_explicit(&srv->flushes, 1, memory_order_relaxed);
		break;
	}
	c->requests++;
	if (status) {
		c->failed++;
		atomic_fetch_add_explicit(&srv->failed, 1, memory_order_relaxed);
		blockd_log_failure(srv, c->id, &rq, status);
	}
	err = send_reply(c, rq.handle, status, c->buf, out_len);
	blockd_answered(srv);
	if (err) {
		fprintf(stderr, PROG ": connection %u: sending: %s\n", c->id, strerror(-err));
		return false;
	}
	return true;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct server *srv = c->srv;
	unsigned char hello[BLKD_HELLO_SIZE];
	struct blkd_hello h = {
		.magic = BLKD_HELLO_MAGIC,
		.version = BLKD_VERSION,
		.block_size = srv->block_size,
		.max_blocks = srv->max_blocks,
		.nr_blocks = srv->nr_blocks,
	};
	struct iovec iov = { .iov_base = hello, .iov_len = sizeof(hello) };

	blkd_encode_hello(hello, &h);
	if (blkd_send_iov(c->fd, &iov, 1) == 0)
		while (serve_one(c))
			;
	if (srv->opt->verbose)
		fprintf(stderr, PROG ": connection %u from %s closed after %" PRIu64
			" requests (%" PRIu64 " failed)\n", c->id, c->peer, c->requests, c->failed);
	atomic_store_explicit(&srv->last_active_ns, blockd_now_ns(), memory_order_relaxed);
	atomic_store(&c->done, true);
	blockd_wake_main(srv);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                               */

static void start_conn(struct server *srv, int fd, const struct sockaddr_storage *sa)
{
	struct conn *c;
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
	int one = 1, err;

	/* Replies are small and a client waits for each: do not let Nagle hold them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	getnameinfo((const struct sockaddr *)sa, sizeof(*sa), host, sizeof(host), port,
		    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);

	pthread_mutex_lock(&srv->lock);
	if (srv->nr_conns >= srv->opt->max_clients) {
		pthread_mutex_unlock(&srv->lock);
		fprintf(stderr, PROG ": refusing %s:%s: already %u clients (--max-clients)\n",
			host, port, srv->opt->max_clients);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c)
		c->buf = aligned_alloc(4096, (size_t)srv->max_blocks * srv->block_size);
	if (!c || !c->buf) {
		pthread_mutex_unlock(&srv->lock);
		fprintf(stderr, PROG ": refusing %s:%s: out of memory\n", host, port);
		if (c)
			free(c);
		close(fd);
		return;
	}
	c->srv = srv;
	c->fd = fd;
	c->id = srv->next_id++;
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
	/* Errors recorded before the client connected are not its business. */
	c->since = pgc_mapping_sample_error(srv->map);
	err = pthread_create(&c->tid, NULL, conn_main, c);
	if (err) {
		pthread_mutex_unlock(&srv->lock);
		fprintf(stderr, PROG ": refusing %s: pthread_create: %s\n", c->peer,
			strerror(err));
		close(fd);
		free(c->buf);
		free(c);
		return;
	}
	c->next = srv->conns;
	srv->conns = c;
	srv->nr_conns++;
	pthread_mutex_unlock(&srv->lock);
	if (srv->opt->verbose)
		fprintf(stderr, PROG ": connection %u from %s\n", c->id, c->peer);
}

/* Joins the threads of the connections that ended (all of them if "all",
 * after asking them to end). */
static void reap_conns(struct server *srv, bool all)
{
	struct conn **pp, *c;

	pthread_mutex_lock(&srv->lock);
	if (all) {
		/* A thread blocked reading the next request sees end of stream; one
		 * serving a request finishes it and sends the reply first. */
		for (c = srv->conns; c; c = c->next)
			shutdown(c->fd, SHUT_RD);
	}
	pp = &srv->conns;
	while ((c = *pp)) {
		if (!all && !atomic_load(&c->done)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		srv->nr_conns--;
		pthread_mutex_unlock(&srv->lock);
		pthread_join(c->tid, NULL);
		close(c->fd);
		free(c->buf);
		free(c);
		pthread_mutex_lock(&srv->lock);
	}
	pthread_mutex_unlock(&srv->lock);
}

/* ------------------------------------------------------------------------ */
/* Setup and the main loop                                                   */

static void log_to_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, PROG ": libpgcache%s: %s\n", level <= PGC_LOG_ERROR ? " error" : "", msg);
}

static int open_image(struct server *srv, const struct options *o)
{
	uint64_t size;
	int err;

	err = pgc_store_open(o->image, o->size ? O_RDWR | O_CREAT : O_RDWR, 0644, &srv->store);
	if (err) {
		fprintf(stderr, PROG ": opening %s with O_DIRECT: %s\n", o->image, pgc_strerror(err));
		return err;
	}
	if ((err = pgc_store_size(srv->store, &size)))
		goto fail;
	if (o->size && size < o->size) {
		if ((err = pgc_store_truncate(srv->store, o->size)))
			goto fail;
		size = o->size;
	} else if (o->size && size > o->size) {
		fprintf(stderr, PROG ": %s has %" PRIu64 " bytes, more than --size: not shrinking it\n",
			o->image, size);
		return -EINVAL;
	}
	if (size == 0 || size % o->block_size) {
		fprintf(stderr, PROG ": %s has %" PRIu64 " bytes, not a nonzero multiple of the block"
			" size %" PRIu32 " (create it with --size)\n", o->image, size, o->block_size);
		return -EINVAL;
	}
	srv->block_size = o->block_size;
	srv->nr_blocks = size / o->block_size;
	srv->max_blocks = (uint32_t)(o->max_request / o->block_size);
	return 0;
fail:
	fprintf(stderr, PROG ": %s: %s\n", o->image, pgc_strerror(err));
	return err;
}

static int open_cache(struct server *srv, const struct options *o)
{
	struct pgc_cache_config cfg;
	int err;

	pgc_cache_config_init(&cfg);
	/* The defaults give capacity_pages a value, which wins over
	 * capacity_bytes: clear it, or the cache stays at 1024 pages. */
	cfg.capacity_pages = 0;
	cfg.capacity_bytes = o->cache_bytes;
	cfg.log = log_to_stderr;
	cfg.log_level = PGC_LOG_WARN;
	if ((err = pgc_cache_create(&cfg, &srv->cache))) {
		fprintf(stderr, PROG ": pgc_cache_create: %s\n", pgc_strerror(err));
		return err;
	}
	/* The mapping takes the store's file size and direct-I/O limits. */
	if ((err = pgc_store_mapping_create(srv->cache, srv->store, &srv->map))) {
		fprintf(stderr, PROG ": pgc_store_mapping_create: %s\n", pgc_strerror(err));
		return err;
	}
	srv->since = pgc_mapping_sample_error(srv->map);
	return 0;
}

/* Writes the port to a file through a rename, so a reader never sees half of it. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%u\n", port);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

static int open_listener(struct server *srv, const struct options *o)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char port[8], host[INET6_ADDRSTRLEN];
	int one = 1, err;

	snprintf(port, sizeof(port), "%u", o->port);
	if ((err = getaddrinfo(o->listen, port, &hints, &res))) {
		fprintf(stderr, PROG ": %s: %s\n", o->listen, gai_strerror(err));
		return -EINVAL;
	}
	srv->listen_fd = -1;
	for (ai = res; ai && srv->listen_fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			srv->listen_fd = fd;
		else
			close(fd);
	}
	err = errno;
	freeaddrinfo(res);
	if (srv->listen_fd < 0) {
		fprintf(stderr, PROG ": cannot listen on %s port %u: %s\n", o->listen, o->port,
			strerror(err));
		return -err;
	}
	/* With --port 0 the kernel chose the port: find out which. */
	getsockname(srv->listen_fd, (struct sockaddr *)&sa, &salen);
	getnameinfo((struct sockaddr *)&sa, salen, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	printf(PROG ": serving %s (%" PRIu64 " blocks of %" PRIu32 " bytes) on %s port %s,"
	       " cache %" PRIu64 " KiB\n", o->image, srv->nr_blocks, srv->block_size, host, port,
	       o->cache_bytes >> 10);
	fflush(stdout);
	if (o->port_file && (err = write_port_file(o->port_file, (unsigned)atoi(port)))) {
		fprintf(stderr, PROG ": writing %s: %s\n", o->port_file, strerror(-err));
		return err;
	}
	return 0;
}

/* Runs until a signal, the request limit or the idle timeout says stop. */
static void main_loop(struct server *srv, int sigfd)
{
	const struct options *o = srv->opt;
	uint64_t idle_ns = (uint64_t)o->idle_exit * 1000000000u;

	atomic_store(&srv->last_active_ns, blockd_now_ns());
	while (!atomic_load(&srv->stopping)) {
		struct pollfd pfd[3] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = srv->wake[0], .events = POLLIN },
			{ .fd = srv->listen_fd, .events = POLLIN },
		};
		int n = poll(pfd, 3, o->idle_exit ? 100 : -1);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				printf(PROG ": %s: stopping\n", strsignal((int)si.ssi_signo));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			char drop[64];

			while (read(srv->wake[0], drop, sizeof(drop)) > 0)
				;
			reap_conns(srv, false);
			if (o->max_requests && atomic_load(&srv->served) >= o->max_requests) {
				printf(PROG ": served %" PRIu64 " requests (--max-requests): stopping\n",
				       o->max_requests);
				break;
			}
		}
		if (pfd[2].revents & POLLIN) {
			struct sockaddr_storage sa;
			socklen_t len = sizeof(sa);
			int fd = accept4(srv->listen_fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);

			if (fd >= 0)
				start_conn(srv, fd, &sa);
			else if (errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
		}
		if (idle_ns) {
			bool idle;

			pthread_mutex_lock(&srv->lock);
			idle = srv->nr_conns == 0 &&
			       blockd_now_ns() - atomic_load(&srv->last_active_ns) >= idle_ns;
			pthread_mutex_unlock(&srv->lock);
			if (idle) {
				printf(PROG ": no client for %u s (--idle-exit): stopping\n",
				       o->idle_exit);
				break;
			}
		}
	}
	atomic_store(&srv->stopping, true);
}

static void print_summary(struct server *srv)
{
	struct pgc_stats st = { .size = sizeof(st) };

	printf(PROG ": %" PRIu64 " reads (%" PRIu64 " KiB), %" PRIu64 " writes (%" PRIu64
	       " KiB), %" PRIu64 " flushes, %" PRIu64 " failed\n",
	       atomic_load(&srv->reads), atomic_load(&srv->bytes_read) >> 10,
	       atomic_load(&srv->writes), atomic_load(&srv->bytes_written) >> 10,
	       atomic_load(&srv->flushes), atomic_load(&srv->failed));
	if (pgc_cache_stats(srv->cache, &st) == 0)
		printf(PROG ": cache of %" PRIu64 " pages: %" PRIu64 " hits, %" PRIu64 " misses, %"
		       PRIu64 " evictions, %" PRIu64 " pages written back by reclaim, %" PRIu64
		       " resident\n", st.capacity, st.hits, st.misses, st.evictions,
		       st.reclaim_writes, st.resident);
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --image PATH [options]\n"
		"\n"
		"Serves the disk image PATH over TCP (protocol: blockd_proto.h, README.md),\n"
		"with libpgcache as the buffer cache over an O_DIRECT descriptor.\n"
		"\n"
		"  --image PATH          the disk image (required)\n"
		"  --size SIZE           create the image, or grow it, to SIZE bytes (suffixes\n"
		"                        K, M, G); default: the image's size\n"
		"  --block-size N        bytes per block, a power of two from %u to %u\n"
		"                        (default 4096)\n"
		"  --cache SIZE          cache capacity in bytes (default 64M)\n"
		"  --max-request SIZE    largest READ or WRITE in bytes (default 1M)\n"
		"  --listen ADDR         address to listen on (default 127.0.0.1)\n"
		"  --port N              TCP port; 0, the default, lets the kernel choose\n"
		"  --port-file PATH      write the port listened on to PATH\n"
		"  --max-clients N       most connections at a time (default 64)\n"
		"  --max-requests N      stop after serving N requests (default: no limit)\n"
		"  --idle-exit SECONDS   stop after SECONDS without any connection\n"
		"  --event-loop          serve every connection from one thread with libpgcache's\n"
		"                        asynchronous interface (default: a thread per connection)\n"
		"  --queue-depth N       event loop: requests of a connection served at once\n"
		"                        (default 32; they may be answered out of order)\n"
		"  --workers N           event loop: threads for misses, writes and flushes\n"
		"                        (default 4)\n"
		"  --verbose             log each connection and each refused request\n"
		"  --help                this text\n"
		"\n"
		"On SIGINT or SIGTERM, at --max-requests or at --idle-exit, the server\n"
		"finishes the requests in progress, writes every dirty block back, syncs\n"
		"the image and exits: 0 if that final flush succeeded, 1 if not, 2 for a\n"
		"usage error.\n",
		BLKD_MIN_BLOCK_SIZE, BLKD_MAX_BLOCK_SIZE);
}

/* Parses a number with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > (max >> shift) || (v << shift) < min)
		return -1;
	*out = v << shift;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	enum { O_IMAGE = 256, O_SIZE, O_BS, O_CACHE, O_MAXREQ, O_LISTEN, O_PORT, O_PORTFILE,
	       O_MAXCLIENTS, O_MAXREQUESTS, O_IDLE, O_VERBOSE, O_HELP, O_LOOP, O_QD, O_WORKERS };
	static const struct option longopts[] = {
		{ "image", required_argument, NULL, O_IMAGE },
		{ "size", required_argument, NULL, O_SIZE },
		{ "block-size", required_argument, NULL, O_BS },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "max-request", required_argument, NULL, O_MAXREQ },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "port", required_argument, NULL, O_PORT },
		{ "port-file", required_argument, NULL, O_PORTFILE },
		{ "max-clients", required_argument, NULL, O_MAXCLIENTS },
		{ "max-requests", required_argument, NULL, O_MAXREQUESTS },
		{ "idle-exit", required_argument, NULL, O_IDLE },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "help", no_argument, NULL, O_HELP },
		{ "event-loop", no_argument, NULL, O_LOOP },
		{ "queue-depth", required_argument, NULL, O_QD },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct options){ .block_size = 4096, .cache_bytes = 64u << 20,
			       .max_request = 1u << 20, .listen = "127.0.0.1",
			       .max_clients = 64, .queue_depth = 32, .workers = 4 };
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		bool bad = false;

		switch (c) {
		case O_IMAGE: o->image = optarg; break;
		case O_SIZE: bad = parse_size(optarg, 1, UINT64_C(1) << 50, &o->size); break;
		case O_BS:
			bad = parse_size(optarg, BLKD_MIN_BLOCK_SIZE, BLKD_MAX_BLOCK_SIZE, &v) ||
			      (v & (v - 1));
			o->block_size = (uint32_t)v;
			break;
		case O_CACHE: bad = parse_size(optarg, 1 << 16, UINT64_C(1) << 50, &o->cache_bytes); break;
		case O_MAXREQ: bad = parse_size(optarg, 1, 64u << 20, &o->max_request); break;
		case O_LISTEN: o->listen = optarg; break;
		case O_PORT: bad = parse_size(optarg, 0, 65535, &v); o->port = (unsigned)v; break;
		case O_PORTFILE: o->port_file = optarg; break;
		case O_MAXCLIENTS: bad = parse_size(optarg, 1, 4096, &v); o->max_clients = (unsigned)v; break;
		case O_MAXREQUESTS: bad = parse_size(optarg, 1, UINT64_MAX, &o->max_requests); break;
		case O_IDLE: bad = parse_size(optarg, 1, 86400, &v); o->idle_exit = (unsigned)v; break;
		case O_VERBOSE: o->verbose = true; break;
		case O_LOOP: o->event_loop = true; break;
		case O_QD: bad = parse_size(optarg, 1, 1024, &v); o->queue_depth = (unsigned)v; break;
		case O_WORKERS: bad = parse_size(optarg, 1, 64, &v); o->workers = (unsigned)v; break;
		case 'h':
		case O_HELP: usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
		if (bad) {
			fprintf(stderr, PROG ": bad value '%s' for --%s (see --help)\n", optarg,
				longopts[c - O_IMAGE].name);
			return -1;
		}
	}
	if (optind < argc || !o->image) {
		fprintf(stderr, PROG ": %s (see --help)\n",
			o->image ? "unexpected argument" : "--image is required");
		return -1;
	}
	if (o->size % o->block_size || o->max_request < o->block_size) {
		fprintf(stderr, PROG ": --size and --max-request must be multiples of the block"
			" size\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct server srv = { .listen_fd = -1, .wake = { -1, -1 } };
	sigset_t sigs;
	int sigfd = -1, err, status = 1;

	if (parse_options(argc, argv, &o))
		return 2;
	srv.opt = &o;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_mutex_init(&srv.fail_lock, NULL);

	/* Block the stop signals in every thread (the connection threads inherit
	 * the mask) and take them from a signalfd in the main loop. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sigfd < 0 || pipe2(srv.wake, O_CLOEXEC | O_NONBLOCK)) {
		fprintf(stderr, PROG ": signalfd or pipe: %s\n", strerror(errno));
		return 1;
	}

	if (open_image(&srv, &o) || open_cache(&srv, &o) || open_listener(&srv, &o))
		goto out;

	if (o.event_loop) {
		if (blockd_event_loop(&srv, sigfd))
			goto out;
	} else {
		main_loop(&srv, sigfd);
	}
	close(srv.listen_fd);
	srv.listen_fd = -1;
	reap_conns(&srv, true);

	/* The final flush: every dirty page to the image, then fdatasync. Its
	 * own result decides the exit status: the library never drops a page
	 * whose write failed (it stays dirty and is written again), so when
	 * this flush succeeds the image holds every acknowledged write, even
	 * after a full disk. Errors met before (and reported to the clients
	 * then) are told apart through the server's own sample, taken before
	 * any client came. */
	err = blockd_flush_all(&srv, NULL);
	int past = pgc_mapping_check_error(srv.map, &srv.since);
	if (past && !err)
		fprintf(stderr, PROG ": write errors happened while serving (the last: %s); "
			"their data stayed in the cache and is written now\n", pgc_strerror(past));
	print_summary(&srv);
	if (err) {
		fprintf(stderr, PROG ": final flush of %s FAILED: %s\n", o.image, pgc_strerror(err));
	} else {
		printf(PROG ": final flush done, %s is up to date\n", o.image);
		status = 0;
	}
out:
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	if (srv.map && (err = pgc_mapping_destroy(srv.map))) {
		fprintf(stderr, PROG ": pgc_mapping_destroy: %s\n", pgc_strerror(err));
		status = 1;
	} else {
		pgc_cache_destroy(srv.cache);
		if ((err = pgc_store_close(srv.store))) {
			fprintf(stderr, PROG ": closing %s: %s\n", o.image, pgc_strerror(err));
			status = 1;
		}
	}
	close(sigfd);
	close(srv.wake[0]);
	close(srv.wake[1]);
	pthread_mutex_destroy(&srv.lock);
	return status;
}
