/*
 * blockd's event-loop mode (--event-loop): one thread serves every
 * connection, as a server built on epoll (or libuv) would, with the
 * library's asynchronous interface (pgcache/aio.h) for the cache:
 *
 *   READ   pgc_aio_read(): when every page is cached the bytes are copied
 *          at once and the reply goes out in the same loop turn; a miss
 *          goes to one of the context's workers and the reply goes out
 *          when it completes, while the loop serves everyone else;
 *   WRITE  pgc_aio_write() (a worker: a write may wait at the dirty limit
 *          or read a partial page); with FUA, then pgc_aio_sync() of its
 *          range, which writes it back and syncs the image;
 *   FLUSH  waits until the connection's earlier requests are answered (so
 *          it covers every write the client sent before it), then
 *          pgc_aio_sync() of the whole image with the connection's error
 *          sample. No request of the connection is read until it started.
 *
 * A connection has up to --queue-depth requests in service at once; they
 * complete in any order and each reply carries its request's handle (the
 * protocol allows this: blockd_proto.h). Sockets are non-blocking: a
 * reply that does not fit in the socket waits in the connection's queue
 * until the socket is writable, and the loop stops reading a connection's
 * requests while it has --queue-depth of them in service, so a client that
 * sends without reading cannot make the server buffer without bound.
 *
 * Nothing here blocks except epoll_wait() itself: accept4(), recv() and
 * sendmsg() are non-blocking, and the library calls made here do not sleep
 * (aio.h). The workers do the blocking work.
 */
#define _GNU_SOURCE
#include "blockd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long the loop keeps sending the last replies after it stopped. */
#define STOP_GRACE_NS (10ull * 1000000000u)

struct lconn;

/* A request in service, then its reply waiting to be sent. */
struct lreq {
	struct lreq *next;
	struct lconn *c;
	struct blkd_request rq;
	unsigned char *buf;	/* WRITE payload or READ data */
	size_t cap;		/* bytes buf can hold */
	size_t len;		/* bytes of this request's payload or data */
	size_t out_len;		/* data bytes in the reply */
	size_t sent;		/* reply bytes sent so far */
	unsigned char rhdr[BLKD_REPLY_SIZE];
};

struct lconn {
	struct lconn *next;
	struct server *srv;
	struct loop *lp;
	int fd;
	unsigned id;
	char peer[64];
	pgc_errseq_t since;	/* the write errors this connection has seen */
	/* Receiving: a request header, then a WRITE's payload. */
	unsigned char hdr[BLKD_REQUEST_SIZE];
	size_t hdr_got;
	struct lreq *in;	/* the WRITE whose payload is coming */
	size_t in_got;
	uint64_t drain_left;	/* payload of a WRITE too large to take */
	struct lreq *flush_wait; /* a FLUSH waiting for the requests before it */
	unsigned busy;		/* requests in service */
	struct lreq *out_head, *out_tail; /* replies to send, in completion order */
	struct lreq *spare;	/* finished requests, their buffers kept */
	bool read_closed;	/* end of stream, protocol error or stop */
	bool broken;		/* the socket failed: replies are dropped */
	bool in_epoll;
	uint32_t events;	/* the epoll interest set */
	uint64_t requests, failed;
};

struct loop {
	struct server *srv;
	pgc_aio *aio;
	int ep;
	struct lconn *conns;
	unsigned char scratch[65536]; /* drained payloads */
};

/* epoll tags of the loop's own descriptors (connections use their lconn). */
static char tag_listen, tag_signal, tag_wake, tag_aio;

static void conn_send(struct lconn *c);
static void conn_update(struct lconn *c);
static void start_flush(struct lreq *r);

static struct lreq *req_get(struct lconn *c)
{
	struct lreq *r = c->spare;

	if (r) {
		c->spare = r->next;
	} else if (!(r = calloc(1, sizeof(*r)))) {
		return NULL;
	}
	r->next = NULL;
	r->c = c;
	r->len = r->out_len = r->sent = 0;
	return r;
}

static void req_put(struct lreq *r)
{
	struct lconn *c = r->c;

	r->next = c->spare;
	c->spare = r;
}

/* Makes the request's buffer hold len bytes. */
static int req_buf(struct lreq *r, size_t len)
{
	if (r->cap < len) {
		void *p = malloc(len);

		if (!p)
			return -ENOMEM;
		free(r->buf);
		r->buf = p;
		r->cap = len;
	}
	r->len = len;
	return 0;
}

/*
 * A request is answered: its reply is queued and sent as far as the socket
 * takes it. A FLUSH waiting for the connection's earlier requests starts
 * when the last of them is answered.
 */
static void complete(struct lreq *r, int status)
{
	struct lconn *c = r->c;
	struct server *srv = c->srv;
	struct blkd_reply rp = { .magic = BLKD_REPLY_MAGIC, .status = status,
				 .handle = r->rq.handle };

	if (status) {
		c->failed++;
		atomic_fetch_add_explicit(&srv->failed, 1, memory_order_relaxed);
		blockd_log_failure(srv, c->id, &r->rq, status);
	}
	blkd_encode_reply(r->rhdr, &rp);
	r->out_len = status == 0 && r->rq.op == BLKD_OP_READ ? r->len : 0;
	r->sent = 0;
	r->next = NULL;
	if (c->out_tail)
		c->out_tail->next = r;
	else
		c->out_head = r;
	c->out_tail = r;
	c->busy--;
	blockd_answered(srv);
	if (c->flush_wait && c->busy == 0) {
		struct lreq *f = c->flush_wait;

		c->flush_wait = NULL;
		start_flush(f);
	}
	conn_send(c);
	conn_update(c);
}

static void on_read(void *arg, ssize_t result)
{
	struct lreq *r = arg;
	struct server *srv = r->c->srv;

	/* Short: a page after the first could not be read (pgc_last_error()
	 * says why, as for pgc_read() in thread mode). */
	if (result >= 0 && (size_t)result != r->len)
		result = pgc_last_error() ? pgc_last_error() : -EIO;
	if (result >= 0) {
		atomic_fetch_add_explicit(&srv->reads, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&srv->bytes_read, r->len, memory_order_relaxed);
	}
	complete(r, result < 0 ? (int)result : 0);
}

static void on_synced_write(void *arg, ssize_t result)
{
	struct lreq *r = arg;
	struct server *srv = r->c->srv;

	if (result == 0) {
		atomic_fetch_add_explicit(&srv->writes, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&srv->bytes_written, r->len, memory_order_relaxed);
	}
	complete(r, (int)result);
}

static void on_write(void *arg, ssize_t result)
{
	struct lreq *r = arg;
	struct lconn *c = r->c;
	struct server *srv = c->srv;
	uint64_t off = r->rq.offset * srv->block_size;
	int err;

	/* Short: the error that stopped the copy is the client's answer. */
	if (result >= 0 && (size_t)result != r->len)
		result = pgc_last_error() ? pgc_last_error() : -EIO;
	if (result < 0) {
		complete(r, (int)result);
		return;
	}
	if (r->rq.flags & BLKD_FLAG_FUA) {
		/* Write the range back and sync the image before the reply. */
		err = pgc_aio_sync(c->lp->aio, srv->map, off, off + r->len - 1, NULL,
				   on_synced_write, r);
		if (err)
			complete(r, err);
		return;
	}
	on_synced_write(r, 0);
}

static void on_flush(void *arg, ssize_t result)
{
	struct lreq *r = arg;

	atomic_fetch_add_explicit(&r->c->srv->flushes, 1, memory_order_relaxed);
	complete(r, (int)result);
}

static void start_flush(struct lreq *r)
{
	struct lconn *c = r->c;
	int err;

	c->busy++;
	err = pgc_aio_sync(c->lp->aio, c->srv->map, 0, UINT64_MAX, &c->since, on_flush, r);
	if (err)
		complete(r, err);
}

/* Starts serving a request whose header (and payload) arrived. */
static void start(struct lreq *r)
{
	struct lconn *c = r->c;
	struct server *srv = c->srv;
	uint64_t off = r->rq.offset * srv->block_size;
	int err;

	if (!blockd_admit(srv)) {
		/* Stopping: this request is refused and no other is read. */
		c->read_closed = true;
		c->busy++;
		complete(r, -ESHUTDOWN);
		return;
	}
	c->requests++;
	if (r->rq.op == BLKD_OP_FLUSH) {
		if (c->busy)
			c->flush_wait = r;
		else
			start_flush(r);
		return;
	}
	c->busy++;
	if ((err = blockd_check_range(srv, &r->rq))) {
		complete(r, err);
		return;
	}
	if (r->rq.op == BLKD_OP_READ) {
		err = req_buf(r, (size_t)r->rq.length * srv->block_size);
		if (!err)
			err = pgc_aio_read(c->lp->aio, srv->map, r->buf, r->len, off, on_read, r);
	} else {
		err = pgc_aio_write(c->lp->aio, srv->map, r->buf, r->len, off, 0, on_write, r);
	}
	if (err)
		complete(r, err);
}

/* The socket failed or the peer went away: no more requests, no replies. */
static void conn_break(struct lconn *c)
{
	struct lreq *r;

	c->broken = true;
	c->read_closed = true;
	while ((r = c->out_head)) {
		c->out_head = r->next;
		req_put(r);
	}
	c->out_tail = NULL;
	if (c->in_epoll) {
		epoll_ctl(c->lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
		c->in_epoll = false;
	}
}

/* Receives into p[0..want); returns the bytes got, 0 when nothing is there
 * (or the connection ended: read_closed says which). */
static size_t conn_recv(struct lconn *c, void *p, size_t want)
{
	ssize_t n = recv(c->fd, p, want, MSG_DONTWAIT);

	if (n > 0)
		return (size_t)n;
	if (n == 0) {
		c->read_closed = true;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		if (c->srv->opt->verbose)
			fprintf(stderr, PROG ": connection %u: receiving: %s\n", c->id,
				strerror(errno));
		conn_break(c);
	}
	return 0;
}

/* A complete header: checks it, then starts the request or waits for its payload. */
static void got_header(struct lconn *c)
{
	struct server *srv = c->srv;
	struct lreq *r;
	const char *bad;

	c->hdr_got = 0;
	if (!(r = req_get(c))) {
		fprintf(stderr, PROG ": connection %u: out of memory: closing\n", c->id);
		c->read_closed = true;
		return;
	}
	blkd_decode_request(c->hdr, &r->rq);
	if ((bad = blockd_protocol_error(&r->rq))) {
		fprintf(stderr, PROG ": connection %u: protocol error (%s): closing\n", c->id, bad);
		req_put(r);
		c->read_closed = true;
		return;
	}
	if (r->rq.op != BLKD_OP_WRITE) {
		start(r);
		return;
	}
	uint64_t len = (uint64_t)r->rq.length * srv->block_size;

	if (r->rq.length > srv->max_blocks) {
		/* Refused once drained (blockd_check_range() says -EINVAL). */
		r->len = 0;
		c->drain_left = len;
	} else if (req_buf(r, (size_t)len)) {
		fprintf(stderr, PROG ": connection %u: out of memory: closing\n", c->id);
		req_put(r);
		c->read_closed = true;
		return;
	}
	c->in = r;
	c->in_got = 0;
}

static bool can_read(const struct lconn *c)
{
	return !c->read_closed && !c->flush_wait &&
	       c->busy < c->srv->opt->queue_depth && !atomic_load(&c->srv->stopping);
}

/* Reads and starts requests while the connection may take more. */
static void conn_read(struct lconn *c)
{
	while (can_read(c)) {
		size_t n;

		if (c->in && c->drain_left) {
			size_t want = c->drain_left < sizeof(c->lp->scratch)
					      ? (size_t)c->drain_left : sizeof(c->lp->scratch);

			if (!(n = conn_recv(c, c->lp->scratch, want)))
				break;
			c->drain_left -= n;
		} else if (c->in) {
			if (!(n = conn_recv(c, c->in->buf + c->in_got, c->in->len - c->in_got)))
				break;
			c->in_got += n;
		} else {
			if (!(n = conn_recv(c, c->hdr + c->hdr_got, sizeof(c->hdr) - c->hdr_got)))
				break;
			if ((c->hdr_got += n) == sizeof(c->hdr))
				got_header(c);
			continue;
		}
		if (!c->drain_left && c->in_got == c->in->len) {
			struct lreq *r = c->in;

			c->in = NULL;
			start(r);
		}
	}
}

/* Sends queued replies until the socket is full. */
static void conn_send(struct lconn *c)
{
	struct lreq *r;

	while (!c->broken && (r = c->out_head)) {
		size_t total = sizeof(r->rhdr) + r->out_len;
		struct iovec iov[2];
		int cnt = 0;

		if (r->sent < sizeof(r->rhdr))
			iov[cnt++] = (struct iovec){ r->rhdr + r->sent, sizeof(r->rhdr) - r->sent };
		if (r->out_len) {
			size_t done = r->sent > sizeof(r->rhdr) ? r->sent - sizeof(r->rhdr) : 0;

			iov[cnt++] = (struct iovec){ r->buf + done, r->out_len - done };
		}
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
		ssize_t n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			if (c->srv->opt->verbose)
				fprintf(stderr, PROG ": connection %u: sending: %s\n", c->id,
					strerror(errno));
			conn_break(c);
			return;
		}
		r->sent += (size_t)n;
		if (r->sent < total)
			continue;
		c->out_head = r->next;
		if (!c->out_head)
			c->out_tail = NULL;
		req_put(r);
	}
}

/* Sets the epoll interest to what the connection can do now. */
static void conn_update(struct lconn *c)
{
	uint32_t want = (can_read(c) ? EPOLLIN : 0) | (c->out_head ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (!c->in_epoll || want == c->events)
		return;
	if (epoll_ctl(c->lp->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

static bool conn_finished(const struct lconn *c)
{
	return c->read_closed && !c->busy && !c->flush_wait && !c->out_head;
}

static void conn_free(struct loop *lp, struct lconn *c)
{
	struct server *srv = lp->srv;
	struct lreq *r;

	if (c->in_epoll)
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->in)
		req_put(c->in);
	while ((r = c->out_head)) {
		c->out_head = r->next;
		req_put(r);
	}
	while ((r = c->spare)) {
		c->spare = r->next;
		free(r->buf);
		free(r);
	}
	if (srv->opt->verbose)
		fprintf(stderr, PROG ": connection %u from %s closed after %" PRIu64
			" requests (%" PRIu64 " failed)\n", c->id, c->peer, c->requests, c->failed);
	pthread_mutex_lock(&srv->lock);
	srv->nr_conns--;
	pthread_mutex_unlock(&srv->lock);
	atomic_store_explicit(&srv->last_active_ns, blockd_now_ns(), memory_order_relaxed);
	free(c);
}

/* Frees the connections that are done (all of them with force). */
static void sweep(struct loop *lp, bool force)
{
	struct lconn **pp = &lp->conns, *c;

	while ((c = *pp)) {
		if (conn_finished(c) || (force && !c->busy && !c->flush_wait)) {
			*pp = c->next;
			conn_free(lp, c);
		} else {
			pp = &c->next;
		}
	}
}

static void accept_one(struct loop *lp)
{
	struct server *srv = lp->srv;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
	unsigned char hello[BLKD_HELLO_SIZE];
	struct blkd_hello h = { .magic = BLKD_HELLO_MAGIC, .version = BLKD_VERSION,
				.block_size = srv->block_size, .max_blocks = srv->max_blocks,
				.nr_blocks = srv->nr_blocks };
	struct lconn *c;
	int one = 1;
	int fd = accept4(srv->listen_fd, (struct sockaddr *)&sa, &salen,
			 SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	getnameinfo((const struct sockaddr *)&sa, salen, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	if (srv->nr_conns >= srv->opt->max_clients) {
		fprintf(stderr, PROG ": refusing %s:%s: already %u clients (--max-clients)\n",
			host, port, srv->opt->max_clients);
		close(fd);
		return;
	}
	/* A new socket's buffer always takes the 32 bytes of the hello. */
	blkd_encode_hello(hello, &h);
	if (!(c = calloc(1, sizeof(*c))) ||
	    send(fd, hello, sizeof(hello), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(hello)) {
		fprintf(stderr, PROG ": refusing %s:%s: %s\n", host, port,
			c ? "cannot send the hello" : "out of memory");
		free(c);
		close(fd);
		return;
	}
	c->srv = srv;
	c->lp = lp;
	c->fd = fd;
	c->id = srv->next_id++;
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
	c->since = pgc_mapping_sample_error(srv->map);
	c->events = EPOLLIN;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev)) {
		fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
		free(c);
		close(fd);
		return;
	}
	c->in_epoll = true;
	c->next = lp->conns;
	lp->conns = c;
	pthread_mutex_lock(&srv->lock);
	srv->nr_conns++;
	pthread_mutex_unlock(&srv->lock);
	if (srv->opt->verbose)
		fprintf(stderr, PROG ": connection %u from %s\n", c->id, c->peer);
}

static int watch(int ep, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Reaps completions: their callbacks queue and send replies. */
static void reap(struct loop *lp, unsigned min)
{
	int n = pgc_aio_reap(lp->aio, min, 0);

	if (n < 0)
		fprintf(stderr, PROG ": pgc_aio_reap: %s\n", pgc_strerror(n));
}

/* Whether the loop should stop now (and why, printed). */
static bool should_stop(struct loop *lp, int sigfd, bool sig_ready, bool woken)
{
	struct server *srv = lp->srv;
	const struct options *o = srv->opt;

	if (sig_ready) {
		struct signalfd_siginfo si;

		if (read(sigfd, &si, sizeof(si)) == sizeof(si))
			printf(PROG ": %s: stopping\n", strsignal((int)si.ssi_signo));
		return true;
	}
	if (woken) {
		char drop[64];

		while (read(srv->wake[0], drop, sizeof(drop)) > 0)
			;
	}
	if (o->max_requests && atomic_load(&srv->served) >= o->max_requests) {
		printf(PROG ": served %" PRIu64 " requests (--max-requests): stopping\n",
		       o->max_requests);
		return true;
	}
	if (o->idle_exit && !lp->conns &&
	    blockd_now_ns() - atomic_load(&srv->last_active_ns) >=
		    (uint64_t)o->idle_exit * 1000000000u) {
		printf(PROG ": no client for %u s (--idle-exit): stopping\n", o->idle_exit);
		return true;
	}
	return false;
}

int blockd_event_loop(struct server *srv, int sigfd)
{
	const struct options *o = srv->opt;
	struct pgc_aio_config cfg;
	struct loop *lp = calloc(1, sizeof(*lp));
	struct epoll_event evs[64];
	uint64_t depth = (uint64_t)o->max_clients * o->queue_depth;
	uint64_t stop_deadline = 0;
	int err;

	if (!lp)
		return -1;
	lp->srv = srv;
	pgc_aio_config_init(&cfg);
	/* Every request of every connection fits: a submit never meets -EAGAIN. */
	cfg.depth = depth > 65536 ? 65536 : (uint32_t)depth;
	cfg.workers = o->workers;
	if ((err = pgc_aio_create(&cfg, &lp->aio))) {
		fprintf(stderr, PROG ": pgc_aio_create: %s\n", pgc_strerror(err));
		free(lp);
		return -1;
	}
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	fcntl(srv->listen_fd, F_SETFL, fcntl(srv->listen_fd, F_GETFL) | O_NONBLOCK);
	if (lp->ep < 0 || watch(lp->ep, srv->listen_fd, &tag_listen) ||
	    watch(lp->ep, sigfd, &tag_signal) || watch(lp->ep, srv->wake[0], &tag_wake) ||
	    watch(lp->ep, pgc_aio_fd(lp->aio), &tag_aio)) {
		fprintf(stderr, PROG ": epoll: %s\n", strerror(errno));
		if (lp->ep >= 0)
			close(lp->ep);
		pgc_aio_destroy(lp->aio);
		free(lp);
		return -1;
	}
	printf(PROG ": event loop, %u requests in service per connection, %u workers, %s\n",
	       o->queue_depth, o->workers,
	       pgc_aio_uses_uring(lp->aio) == 1 ? "io_uring" : "no io_uring");
	fflush(stdout);
	atomic_store(&srv->last_active_ns, blockd_now_ns());

	for (;;) {
		bool stopping = atomic_load(&srv->stopping);
		int timeout = stopping || o->idle_exit ? 100 : -1;
		int n = epoll_wait(lp->ep, evs, 64, timeout);
		bool sig_ready = false, woken = false;

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
			atomic_store(&srv->stopping, true);
			n = 0;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &tag_listen) {
				if (!stopping)
					accept_one(lp);
			} else if (p == &tag_signal) {
				sig_ready = true;
			} else if (p == &tag_wake) {
				woken = true;
			} else if (p != &tag_aio) {
				struct lconn *c = p;

				/* Both directions gone (or an error): nobody reads the replies. */
				if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
					conn_break(c);
					continue;
				}
				if (evs[i].events & EPOLLOUT)
					conn_send(c);
				if (evs[i].events & EPOLLIN)
					conn_read(c);
				conn_update(c);
			}
		}
		/* Cached reads started above complete here, in the same turn. */
		reap(lp, 0);
		if (!stopping && should_stop(lp, sigfd, sig_ready, woken)) {
			/* Stop reading requests; finish and answer the ones in service. */
			atomic_store(&srv->stopping, true);
			epoll_ctl(lp->ep, EPOLL_CTL_DEL, srv->listen_fd, NULL);
			for (struct lconn *c = lp->conns; c; c = c->next) {
				c->read_closed = true;
				conn_update(c);
			}
			stop_deadline = blockd_now_ns() + STOP_GRACE_NS;
		}
		if (stop_deadline && blockd_now_ns() > stop_deadline) {
			fprintf(stderr, PROG ": clients not reading their replies: closing them\n");
			break;
		}
		sweep(lp, false);
		if (stop_deadline && !lp->conns)
			break;
	}
	/* Requests still in service complete before the context goes. */
	while (pgc_aio_inflight(lp->aio))
		reap(lp, 1);
	sweep(lp, true);
	close(lp->ep);
	if ((err = pgc_aio_destroy(lp->aio)))
		fprintf(stderr, PROG ": pgc_aio_destroy: %s\n", pgc_strerror(err));
	free(lp);
	return 0;
}
