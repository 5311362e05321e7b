/*
 * The blockd wire protocol, shared by the server (blockd.c) and the load
 * generator (blockd_load.c). It is a small cousin of NBD's "simple reply"
 * protocol, over one TCP connection per client:
 *
 *   server -> client, once, on accept: the hello (32 bytes)
 *     u32 magic       BLKD_HELLO_MAGIC
 *     u16 version     BLKD_VERSION
 *     u16 flags       0
 *     u32 block_size  bytes per block (a power of two, 512 to 65536)
 *     u32 max_blocks  most blocks one READ or WRITE may move
 *     u64 nr_blocks   blocks in the image
 *     u64 reserved    0
 *
 *   client -> server: a request (32 bytes), then for WRITE the payload
 *     u32 magic       BLKD_REQUEST_MAGIC
 *     u16 op          BLKD_OP_READ, BLKD_OP_WRITE or BLKD_OP_FLUSH
 *     u16 flags       BLKD_FLAG_FUA (WRITE only: durable before the reply)
 *     u64 handle      chosen by the client, echoed in the reply
 *     u64 offset      first block
 *     u32 length      number of blocks (0 for FLUSH)
 *     u32 reserved    0
 *     [length * block_size bytes of data, WRITE only]
 *
 *   server -> client: a reply (16 bytes), then for a successful READ the data
 *     u32 magic       BLKD_REPLY_MAGIC
 *     i32 status      0, or a negative Linux errno value
 *     u64 handle      the request's
 *     [length * block_size bytes of data, successful READ only]
 *
 * Every integer is big-endian (network order). A client may pipeline
 * requests. The thread-per-connection server answers a connection's
 * requests one at a time and in order; the event-loop server (--event-loop)
 * serves several at once and answers them as they complete: a client
 * matches replies by handle, and the order of requests in flight together
 * that overlap with a write is not defined. A FLUSH covers every WRITE
 * sent before it on the connection.
 *
 * Status values: -EINVAL for a READ or WRITE of 0 or more than max_blocks
 * blocks, or a READ past the end of the image; -ENOSPC for a WRITE past the
 * end; -EIO (or the store's own error) when the cache or the disk failed;
 * -ESHUTDOWN when the server is stopping and will serve no more requests
 * (it then closes the connection). A FLUSH writes every dirty block back,
 * waits, syncs the image file, and returns the first write error that
 * happened since the connection was opened and has not yet been reported to
 * this connection (like fsync(2) on a file descriptor). A WRITE payload is
 * always read in full, even when the request is refused, so the stream stays
 * in step. A request with a bad magic, an unknown op, a nonzero reserved
 * field or unknown flags is a protocol error: the server closes the
 * connection without replying.
 *
 * Concurrent requests from different connections to the same blocks are not
 * ordered with respect to each other, as on any disk; a WRITE is atomic per
 * block only.
 */
#ifndef BLOCKD_PROTO_H
#define BLOCKD_PROTO_H

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define BLKD_HELLO_MAGIC   0x424c4b48u	/* "BLKH" */
#define BLKD_REQUEST_MAGIC 0x424c4b51u	/* "BLKQ" */
#define BLKD_REPLY_MAGIC   0x424c4b52u	/* "BLKR" */
#define BLKD_VERSION       1

#define BLKD_HELLO_SIZE    32
#define BLKD_REQUEST_SIZE  32
#define BLKD_REPLY_SIZE    16

enum blkd_op {
	BLKD_OP_READ = 1,
	BLKD_OP_WRITE = 2,
	BLKD_OP_FLUSH = 3,
};

#define BLKD_FLAG_FUA 1u	/* WRITE: write back and sync before replying */

#define BLKD_MIN_BLOCK_SIZE 512u
#define BLKD_MAX_BLOCK_SIZE 65536u

struct blkd_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t flags;
	uint32_t block_size;
	uint32_t max_blocks;
	uint64_t nr_blocks;
};

struct blkd_request {
	uint32_t magic;
	uint16_t op;
	uint16_t flags;
	uint64_t handle;
	uint64_t offset;
	uint32_t length;
	uint32_t reserved;
};

struct blkd_reply {
	uint32_t magic;
	int32_t status;
	uint64_t handle;
};

/* Encoding and decoding: explicit byte offsets, no packed structs. */

static inline void blkd_put16(unsigned char *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }
static inline void blkd_put32(unsigned char *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static inline void blkd_put64(unsigned char *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }
static inline uint16_t blkd_get16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }
static inline uint32_t blkd_get32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static inline uint64_t blkd_get64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }

static inline void blkd_encode_hello(unsigned char b[BLKD_HELLO_SIZE], const struct blkd_hello *h)
{
	memset(b, 0, BLKD_HELLO_SIZE);
	blkd_put32(b + 0, h->magic);
	blkd_put16(b + 4, h->version);
	blkd_put16(b + 6, h->flags);
	blkd_put32(b + 8, h->block_size);
	blkd_put32(b + 12, h->max_blocks);
	blkd_put64(b + 16, h->nr_blocks);
}

static inline void blkd_decode_hello(const unsigned char b[BLKD_HELLO_SIZE], struct blkd_hello *h)
{
	h->magic = blkd_get32(b + 0);
	h->version = blkd_get16(b + 4);
	h->flags = blkd_get16(b + 6);
	h->block_size = blkd_get32(b + 8);
	h->max_blocks = blkd_get32(b + 12);
	h->nr_blocks = blkd_get64(b + 16);
}

static inline void blkd_encode_request(unsigned char b[BLKD_REQUEST_SIZE],
				       const struct blkd_request *r)
{
	blkd_put32(b + 0, r->magic);
	blkd_put16(b + 4, r->op);
	blkd_put16(b + 6, r->flags);
	blkd_put64(b + 8, r->handle);
	blkd_put64(b + 16, r->offset);
	blkd_put32(b + 24, r->length);
	blkd_put32(b + 28, r->reserved);
}

static inline void blkd_decode_request(const unsigned char b[BLKD_REQUEST_SIZE],
				       struct blkd_request *r)
{
	r->magic = blkd_get32(b + 0);
	r->op = blkd_get16(b + 4);
	r->flags = blkd_get16(b + 6);
	r->handle = blkd_get64(b + 8);
	r->offset = blkd_get64(b + 16);
	r->length = blkd_get32(b + 24);
	r->reserved = blkd_get32(b + 28);
}

static inline void blkd_encode_reply(unsigned char b[BLKD_REPLY_SIZE], const struct blkd_reply *r)
{
	blkd_put32(b + 0, r->magic);
	blkd_put32(b + 4, (uint32_t)r->status);
	blkd_put64(b + 8, r->handle);
}

static inline void blkd_decode_reply(const unsigned char b[BLKD_REPLY_SIZE], struct blkd_reply *r)
{
	r->magic = blkd_get32(b + 0);
	r->status = (int32_t)blkd_get32(b + 4);
	r->handle = blkd_get64(b + 8);
}

/*
 * Socket helpers used by both sides: move exactly len bytes, or fail.
 * They return 0, -ECONNRESET at end of stream before the first byte of a
 * message (a clean close; "eof" tells the caller which), or a negative errno.
 */
static inline int blkd_recv_all(int fd, void *buf, size_t len, int *eof)
{
	unsigned char *p = buf;
	size_t done = 0;

	if (eof)
		*eof = 0;
	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n > 0) {
			done += (size_t)n;
		} else if (n == 0) {
			if (eof && done == 0)
				*eof = 1;
			return -ECONNRESET;
		} else if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

/* Sends an iovec array in full (a header and its payload in one call, so
 * that with TCP_NODELAY they usually leave in one segment). The array is
 * modified. MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
static inline int blkd_send_iov(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (cnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

#endif /* BLOCKD_PROTO_H */
