// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The packet path; see datapath.h. Read top-down, it is what happens to a
 * packet: datapath_receive() receives a burst of messages into the ring
 * (one buffer per message, so every packet stays valid until its verdict is
 * sent), collect() parses the messages and lines the packets up, run_batch()
 * hands them to engine_process_batch() in one call, so that the flow
 * lookups' memory loads overlap, and give_verdict() answers each packet in
 * the kernel's order. Nothing is allocated per packet: the ring and the
 * batch arrays are sized once.
 *
 * Verdicts must follow the kernel's order because a run of accepts goes out
 * as one batch verdict (every id up to the last), so a packet from neither
 * interface, which the engine never sees, still takes its turn in the batch.
 */
#include "simulator/datapath.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>

#include "simulator/inject.h"
#include "simulator/nfq.h"
#include "simulator/pcapw.h"
#include "simulator/engine/csum.h"
#include "simulator/engine/proto.h"

#define BURST DATAPATH_BURST
/* The largest message: a whole 64 KiB packet plus its attributes. */
#define SLOT_MAX (0x10000 + 4096)

struct qpkt {
	struct nfqio_packet m;
	struct engine_pkt *ep;  /* NULL: not for the engine (foreign interface) */
	uint8_t *pre;           /* capture: the inbound packet as it arrived */
};

struct datapath {
	struct datapath_config c;
	struct datapath_stats st;
	uint8_t *ring;          /* BURST buffers of slot_len bytes */
	uint8_t *pre;           /* capture only: BURST copies of inbound packets */
	size_t slot_len;
	struct mmsghdr mm[BURST];
	struct iovec iov[BURST];
	struct qpkt qp[BURST];
	struct engine_pkt ep[BURST];
	unsigned nq, ne;        /* packets lined up: all, and for the engine */
	uint64_t now;
};

struct datapath *datapath_new(const struct datapath_config *cfg)
{
	struct datapath *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return NULL;
	dp->c = *cfg;
	dp->ring = malloc((size_t)BURST * SLOT_MAX);
	if (cfg->pcap)
		dp->pre = malloc((size_t)BURST * SLOT_MAX);
	if (!dp->ring || (cfg->pcap && !dp->pre)) {
		datapath_free(dp);
		errno = ENOMEM;
		return NULL;
	}
	return dp;
}

void datapath_free(struct datapath *dp)
{
	if (!dp)
		return;
	free(dp->ring);
	free(dp->pre);
	free(dp);
}

void datapath_stats(const struct datapath *dp, struct datapath_stats *st)
{
	*st = dp->st;
}

/* Buffers as large as the copy range needs (a little over 1 KiB for
 * headers only), so a burst of small messages touches little memory. They
 * only grow: packets queued before the copy range shrank are still large. */
static void ring_setup(struct datapath *dp)
{
	size_t len = nfqio_msg_max(dp->c.q);

	if (len > SLOT_MAX)
		len = SLOT_MAX;
	if (len <= dp->slot_len)
		return;
	dp->slot_len = len;
	for (unsigned i = 0; i < BURST; i++) {
		dp->iov[i].iov_base = dp->ring + i * len;
		dp->iov[i].iov_len = len;
		memset(&dp->mm[i].msg_hdr, 0, sizeof(dp->mm[i].msg_hdr));
		dp->mm[i].msg_hdr.msg_iov = &dp->iov[i];
		dp->mm[i].msg_hdr.msg_iovlen = 1;
	}
}

/*
 * The kernel marks a packet whose payload we replace as CHECKSUM_NONE, so a
 * transport checksum that held only the pseudo-header sum (offload pending)
 * would leave the box wrong: complete it. GSO packets are exempt: their
 * segmentation sets the pseudo-header sum up again.
 */
static void complete_csum(uint8_t *data, size_t len)
{
	struct pkt p;
	unsigned off;
	uint16_t c;

	if (pkt_parse(&p, data, len, len) < 0 || p.is_frag || p.wire_len > len)
		return;
	if (p.t.proto == IPPROTO_TCP)
		off = TCP_OFF_CSUM;
	else if (p.t.proto == IPPROTO_UDP)
		off = UDP_OFF_CSUM;
	else
		return;
	if ((size_t)p.l4_off + p.l4_len > len || p.l4_len < off + 2)
		return;
	data[p.l4_off + off] = data[p.l4_off + off + 1] = 0;
	if (p.t.family == 4)
		c = csum_l4(4, data + IPV4_OFF_SRC, data + IPV4_OFF_DST, p.t.proto,
			    data + p.l4_off, p.l4_len);
	else
		c = csum_l4(6, data + IPV6_OFF_SRC, data + IPV6_OFF_DST, p.t.proto,
			    data + p.l4_off, p.l4_len);
	if (c == 0 && p.t.proto == IPPROTO_UDP)
		c = 0xffff;
	memcpy(data + p.l4_off + off, &c, 2);
}

/* One packet's answer, from the engine's decision. */
static void give_verdict(struct datapath *dp, struct qpkt *q)
{
	struct nfqio_packet *m = &q->m;
	const struct decision *d;

	if (!q->ep) {
		dp->st.foreign++;
		nfqio_accept(dp->c.q, m->id);
		return;
	}
	d = &q->ep->d;
	if (d->verdict == VERDICT_DROP) {
		nfqio_drop(dp->c.q, m->id);
		return;
	}
	if (d->rewritten && m->csum_partial && !m->gso)
		complete_csum(m->data, m->caplen);
	/* The capture shows the outside view: inbound packets as they
	 * arrived (before the NAT rewrite), outbound ones as they leave. */
	if (dp->c.pcap)
		pcapw_write(dp->c.pcap, q->pre ? q->pre : m->data, m->caplen, m->wire_len);
	if (d->delay_ms)
		nfqio_hold(dp->c.q, m->id, true, d->rewritten ? m->data : NULL, m->caplen,
			   dp->now + d->delay_ms);
	else if (d->rewritten)
		nfqio_accept_payload(dp->c.q, m->id, m->data, m->caplen);
	else
		nfqio_accept(dp->c.q, m->id);
}

/* The packets lined up so far: through the engine, then answered. */
static void run_batch(struct datapath *dp)
{
	if (!dp->nq)
		return;
	engine_process_batch(dp->c.eng, dp->ep, dp->ne, dp->now);
	for (unsigned i = 0; i < dp->nq; i++)
		give_verdict(dp, &dp->qp[i]);
	dp->st.bursts++;
	dp->nq = dp->ne = 0;
}

/* Line a packet up for the engine, with the side it came from. */
static void line_up(struct datapath *dp, const struct nfqio_packet *m)
{
	struct qpkt *q = &dp->qp[dp->nq++];
	struct engine_pkt *ep;
	enum dir dir;

	q->m = *m;
	q->ep = NULL;
	q->pre = NULL;
	if (m->indev == dp->c.if_in)
		dir = DIR_OUT;
	else if (m->indev == dp->c.if_out)
		dir = DIR_IN;
	else
		return;         /* our rules queue only the two interfaces */
	ep = q->ep = &dp->ep[dp->ne++];
	ep->data = m->data;
	ep->caplen = m->caplen;
	ep->wire_len = m->wire_len;
	ep->flags = m->csum_partial ? ENGINE_PKT_CSUM_PARTIAL : 0;
	ep->dir = dir;
	if (dp->pre && dir == DIR_IN && m->caplen <= dp->slot_len) {
		q->pre = dp->pre + (size_t)(q - dp->qp) * dp->slot_len;
		memcpy(q->pre, m->data, m->caplen);
	}
}

/* The packets in one received message (the kernel sends one per message;
 * more are handled the same way). */
static void collect(struct datapath *dp, const uint8_t *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	struct nfqio_packet m;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nfqio_parse(dp->c.q, nlh, &m) != 1)
			continue;
		if (dp->nq == BURST)
			run_batch(dp);
		line_up(dp, &m);
	}
}

int datapath_receive(struct datapath *dp, unsigned budget, uint64_t now)
{
	unsigned total = 0, want;
	int got = 0;

	dp->now = now;
	ring_setup(dp);
	while (total < budget) {
		want = budget - total < BURST ? budget - total : BURST;
		got = nfqio_recv_burst(dp->c.q, dp->mm, want);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++)
			collect(dp, dp->ring + (size_t)i * dp->slot_len, dp->mm[i].msg_len);
		run_batch(dp);
		nfqio_flush(dp->c.q);
		total += (unsigned)got;
		if ((unsigned)got < want)
			break;  /* the socket is drained */
	}
	return got < 0 && !total ? -1 : (int)total;
}

void datapath_inject(struct datapath *dp, const uint8_t *pkt, size_t len)
{
	if (inject_send(dp->c.inj, pkt, len) < 0) {
		dp->st.inject_errors++;
		return;
	}
	if (dp->c.pcap)
		pcapw_write(dp->c.pcap, pkt, len, len);
}
