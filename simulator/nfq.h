/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NFQUEUE packet I/O over libmnl: one queue, bound with the GSO flag and a
 * copy range, drained without blocking from an event loop, many messages
 * per system call into buffers the caller owns (simulator/datapath.c reads
 * the whole path from receive to verdict). Verdicts are
 * collected and sent per burst: a run of accepts becomes one
 * NFQNL_MSG_VERDICT_BATCH, a rewritten packet gets a verdict with payload,
 * and packets may be held (impairment delay) and given their verdict later,
 * out of order. ENOBUFS (the kernel dropped messages because our socket
 * buffer was full) never stops the loop: it is counted, and the kernel's own
 * per-queue counters are read for the report.
 */
#ifndef IDLEGATE_NFQIO_H
#define IDLEGATE_NFQIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct nlmsghdr;

/*
 * Bytes of each packet to copy when its headers are all the middlebox reads
 * (firewall mode): the IPv6 minimum MTU. RFC 8200 4.5 and RFC 7112 put a
 * packet's whole header chain, up to and including the transport header, in
 * its first fragment, which every path carries when it is at most 1280
 * bytes: so any header chain a sender can rely on fits (a 264-byte
 * destination-options header did not fit in the 256 bytes copied before,
 * and such packets were dropped as malformed). An ICMPv6 error is at most
 * 1280 bytes too, so its quote is always whole. Packets up to this size are
 * copied whole; for larger ones the copy costs a few hundred bytes more than
 * a bare header copy would, with no second round trip to the kernel (which
 * NFQUEUE cannot do for one packet: the copy range is the queue's).
 */
#define NFQIO_HEADER_COPY 1280

struct nfqio_config {
	uint16_t queue_num;
	uint32_t copy_range;    /* bytes of each packet to copy (0xffff: whole) */
	uint32_t maxlen;        /* kernel queue length (packets) */
	int rcvbuf;             /* socket receive buffer (bytes) */
	bool fail_open;         /* kernel accepts packets when the queue is full */
	unsigned hold_max;      /* packets that may be held at once */
};
/* Defaults sized for bursts: maxlen 8192, rcvbuf 16 MiB, hold_max 4096. */
void nfqio_config_init(struct nfqio_config *c, uint16_t queue_num);

struct nfqio_packet {
	uint32_t id;
	uint8_t *data;          /* the IP packet, writable in place */
	size_t caplen;          /* bytes at data */
	size_t wire_len;        /* real length (GSO packets may exceed the MTU) */
	uint32_t indev;         /* input ifindex, 0 if none */
	uint32_t mark;
	bool csum_partial;      /* NFQA_SKB_CSUMNOTREADY */
	bool gso;               /* NFQA_SKB_GSO */
};

struct nfqio_stats {
	uint64_t received;      /* packets read */
	uint64_t verdict_msgs;  /* verdict messages sent */
	uint64_t batches;       /* of which batch verdicts */
	uint64_t enobufs;       /* times the socket reported lost messages */
	uint64_t send_errors;   /* verdicts the kernel refused */
	uint64_t hold_overflow; /* packets verdicted at once for lack of hold room */
	uint32_t held;          /* packets held now */
	bool kernel_valid;      /* the kernel counters below were read */
	uint32_t k_queue_total; /* packets waiting in the kernel queue */
	uint32_t k_queue_dropped; /* dropped because the queue was full */
	uint32_t k_user_dropped;  /* dropped because our socket buffer was full */
	uint32_t k_id_sequence;
};

struct nfqio;

/* Open a netlink socket and bind queue cfg->queue_num with the given
 * settings. Returns NULL with errno set (EPERM without CAP_NET_ADMIN,
 * EBUSY if another process has the queue). */
struct nfqio *nfqio_open(const struct nfqio_config *cfg);
/* Unbind the queue and close. Pending verdicts are sent first; held
 * packets are accepted. Accepts NULL. */
void nfqio_close(struct nfqio *q);
/* The socket, for epoll (EPOLLIN). */
int nfqio_fd(const struct nfqio *q);

/* Change the copy range (e.g. when NAT is switched on at run time). 0 or -1. */
int nfqio_set_copy_range(struct nfqio *q, uint32_t range);

/*
 * Receive what is waiting, without blocking: up to n netlink messages, one
 * per v[i] (recvmmsg(2); the caller points each v[i] at a buffer of at
 * least nfqio_msg_max() bytes, and the buffers stay the caller's, so the
 * packets in them stay valid until the caller reuses them). ENOBUFS (the
 * kernel dropped messages because the socket buffer was full) is counted
 * and the receive retried. Returns the number of messages (0 if none were
 * waiting), or -1 with errno on another socket error.
 */
int nfqio_recv_burst(struct nfqio *q, struct mmsghdr *v, unsigned n);
/* Bytes a buffer needs for one packet message at the current copy range. */
size_t nfqio_msg_max(const struct nfqio *q);
/*
 * One received netlink message: fills *p (pointing into the message) and
 * returns 1 for a queued packet, which must then be given exactly one of
 * nfqio_accept/nfqio_drop/nfqio_accept_payload/nfqio_hold, in the order
 * packets were received. Returns 0 for anything else (a refused verdict
 * is counted in send_errors).
 */
int nfqio_parse(struct nfqio *q, const struct nlmsghdr *nlh, struct nfqio_packet *p);

void nfqio_accept(struct nfqio *q, uint32_t id);
void nfqio_drop(struct nfqio *q, uint32_t id);
/* Accept with the packet replaced by data[0..len) (copied at once). */
void nfqio_accept_payload(struct nfqio *q, uint32_t id, const uint8_t *data, size_t len);
/*
 * Hold packet `id` until `release_at` (ms, the caller's clock), then give
 * it `accept` (with payload data[0..len) when data is not NULL, copied now)
 * or drop. If the hold is full the verdict is given at once and counted in
 * hold_overflow; returns 0 when held, -1 with errno ENOSPC otherwise.
 */
int nfqio_hold(struct nfqio *q, uint32_t id, bool accept, const uint8_t *data,
	     size_t len, uint64_t release_at);
/* Give their verdicts to held packets due at `now` and send them. Returns
 * the ms until the next held packet is due, UINT64_MAX if none. */
uint64_t nfqio_release(struct nfqio *q, uint64_t now);
/* Send the verdicts collected so far. 0, or -1 with errno. */
int nfqio_flush(struct nfqio *q);

/* Our counters plus the kernel's (/proc/net/netfilter/nfnetlink_queue). */
void nfqio_stats(struct nfqio *q, struct nfqio_stats *st);

#endif
