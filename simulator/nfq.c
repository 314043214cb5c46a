// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NFQUEUE I/O; see nfq.h. Verdicts are gathered in one send buffer and sent
 * once per burst. A run of accepts is sent as one batch verdict, which the
 * kernel applies to every queued packet with an id up to the given one:
 * that is only correct while no earlier packet waits for another verdict,
 * so the run is closed before any drop, rewrite or hold, and no batching
 * happens while packets are held.
 */
#include "simulator/nfq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define PAYLOAD_MAX (256 * 1024)
/* Below the socket's default send buffer (net.core.wmem_default), which
 * bounds one netlink message batch. */
#define TX_BUF (64 * 1024)
/* A packet message's attributes besides the payload (header, interfaces,
 * hardware address, mark, timestamp, lengths, skb info), generously. */
#define NFQ_MSG_OVERHEAD 1024
/* Room for one small verdict message. */
#define VERDICT_MSG_MAX 64

struct held {
	uint32_t id;
	bool accept;
	uint64_t at;
	uint8_t *payload;       /* malloc'd copy, or NULL */
	uint32_t len;
};

struct nfqio {
	struct mnl_socket *nl;
	uint16_t qnum;
	uint32_t portid;
	uint32_t copy_range;
	uint8_t *tx;
	size_t tx_len;
	uint8_t *big;           /* verdict with payload */
	bool run_open;          /* an accept run waits for its batch verdict */
	uint32_t run_id;
	struct held *held;
	unsigned held_n, held_max;
	struct nfqio_stats st;
	int kstat_fd;           /* /proc/net/netfilter/nfnetlink_queue, opened while
				 * still root: it is 0440 root, and the simulator
				 * may run as another user by the time it reads it */
};

void nfqio_config_init(struct nfqio_config *c, uint16_t queue_num)
{
	memset(c, 0, sizeof(*c));
	c->queue_num = queue_num;
	c->copy_range = 0xffff;
	c->maxlen = 8192;
	c->rcvbuf = 16 * 1024 * 1024;
	c->hold_max = 4096;
}

/* Send a configuration message and wait for its ack. */
static int cfg_send(struct nfqio *q, struct nlmsghdr *nlh)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = nlh->nlmsg_seq;
	int n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			return -1;
		}
		n = mnl_cb_run(buf, n, seq, q->portid, NULL, NULL);
		if (n <= 0)
			return n;       /* 0: ack received; -1: errno set */
	}
}

static struct nlmsghdr *cfg_msg(struct nfqio *q, uint8_t *buf, uint32_t seq)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, q->qnum);

	nlh->nlmsg_seq = seq;
	return nlh;
}

/* The socket, the /proc descriptor and the buffers, whatever of them exists. */
static void nfqio_dispose(struct nfqio *q)
{
	if (q->nl)
		mnl_socket_close(q->nl);
	if (q->kstat_fd >= 0)
		close(q->kstat_fd);
	free(q->tx);
	free(q->big);
	free(q->held);
	free(q);
}

struct nfqio *nfqio_open(const struct nfqio_config *cfg)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfqio *q;
	uint32_t flags;
	int fd, saved, one = 1;

	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->qnum = cfg->queue_num;
	q->kstat_fd = open("/proc/net/netfilter/nfnetlink_queue", O_RDONLY | O_CLOEXEC);
	q->held_max = cfg->hold_max ? cfg->hold_max : 1;
	q->copy_range = cfg->copy_range;
	q->tx = malloc(TX_BUF);
	q->big = malloc(PAYLOAD_MAX);
	q->held = calloc(q->held_max, sizeof(*q->held));
	if (!q->tx || !q->big || !q->held)
		goto fail;

	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl)
		goto fail;
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	q->portid = mnl_socket_get_portid(q->nl);
	fd = mnl_socket_get_fd(q->nl);
	/* FORCE needs CAP_NET_ADMIN; fall back to the capped size. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &cfg->rcvbuf, sizeof(cfg->rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg->rcvbuf, sizeof(cfg->rcvbuf));
	/* Ask the kernel to say why a verdict was refused. */
	mnl_socket_setsockopt(q->nl, NETLINK_EXT_ACK, &one, sizeof(one));

	nlh = cfg_msg(q, buf, 1);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (cfg_send(q, nlh) < 0)
		goto fail;

	nlh = cfg_msg(q, buf, 2);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)cfg->copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, cfg->maxlen);
	flags = NFQA_CFG_F_GSO | (cfg->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	if (cfg_send(q, nlh) < 0)
		goto fail;
	return q;
fail:
	saved = errno;
	nfqio_dispose(q);
	errno = saved;
	return NULL;
}

int nfqio_set_copy_range(struct nfqio *q, uint32_t range)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int rc;

	if (nfqio_flush(q) < 0)
		return -1;
	nlh = cfg_msg(q, buf, 3);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)range);
	/* Packets may arrive before the ack; cfg_send would drop them from
	 * the socket, so this is sent without an ack request. */
	rc = mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
	if (rc == 0)
		q->copy_range = range;
	return rc;
}

int nfqio_fd(const struct nfqio *q)
{
	return mnl_socket_get_fd(q->nl);
}

static int tx_send(struct nfqio *q)
{
	ssize_t n;

	if (!q->tx_len)
		return 0;
	n = mnl_socket_sendto(q->nl, q->tx, q->tx_len);
	q->tx_len = 0;
	if (n < 0) {
		q->st.send_errors++;
		return -1;
	}
	return 0;
}

static void put_verdict(struct nfqio *q, int type, uint32_t id, int verdict)
{
	struct nlmsghdr *nlh;

	if (q->tx_len + VERDICT_MSG_MAX > TX_BUF)
		tx_send(q);
	nlh = nfq_nlmsg_put((char *)q->tx + q->tx_len, type, q->qnum);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	q->tx_len += NLMSG_ALIGN(nlh->nlmsg_len);
	q->st.verdict_msgs++;
	if (type == NFQNL_MSG_VERDICT_BATCH)
		q->st.batches++;
}

static void close_run(struct nfqio *q)
{
	if (!q->run_open)
		return;
	put_verdict(q, NFQNL_MSG_VERDICT_BATCH, q->run_id, NF_ACCEPT);
	q->run_open = false;
}

int nfqio_flush(struct nfqio *q)
{
	close_run(q);
	return tx_send(q);
}

void nfqio_accept(struct nfqio *q, uint32_t id)
{
	if (q->held_n) {
		put_verdict(q, NFQNL_MSG_VERDICT, id, NF_ACCEPT);
		return;
	}
	q->run_open = true;
	q->run_id = id;
}

void nfqio_drop(struct nfqio *q, uint32_t id)
{
	close_run(q);
	put_verdict(q, NFQNL_MSG_VERDICT, id, NF_DROP);
}

static void send_payload(struct nfqio *q, uint32_t id, const uint8_t *data, size_t len)
{
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put((char *)q->big, NFQNL_MSG_VERDICT, q->qnum);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	q->st.verdict_msgs++;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		q->st.send_errors++;
}

/*
 * A verdict with the packet's new contents joins the others in the send
 * buffer: the kernel handles the messages of one send in order, so a burst
 * of rewritten packets costs one system call, not one each. One too large
 * for the buffer goes alone, after what is buffered.
 */
static void put_payload(struct nfqio *q, uint32_t id, const uint8_t *data, size_t len)
{
	size_t need = VERDICT_MSG_MAX + MNL_ALIGN(len) + MNL_ATTR_HDRLEN;
	struct nlmsghdr *nlh;

	if (need > TX_BUF) {
		tx_send(q);
		send_payload(q, id, data, len);
		return;
	}
	if (q->tx_len + need > TX_BUF)
		tx_send(q);
	nlh = nfq_nlmsg_put((char *)q->tx + q->tx_len, NFQNL_MSG_VERDICT, q->qnum);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	q->tx_len += NLMSG_ALIGN(nlh->nlmsg_len);
	q->st.verdict_msgs++;
}

void nfqio_accept_payload(struct nfqio *q, uint32_t id, const uint8_t *data, size_t len)
{
	if (len > PAYLOAD_MAX - 256) {
		/* cannot happen with an IP packet; refuse rather than overrun */
		nfqio_drop(q, id);
		return;
	}
	/* Earlier verdicts go first (a batch would otherwise release this
	 * packet unchanged). */
	close_run(q);
	put_payload(q, id, data, len);
}

int nfqio_hold(struct nfqio *q, uint32_t id, bool accept, const uint8_t *data,
	     size_t len, uint64_t release_at)
{
	struct held *h;

	if (q->held_n == q->held_max) {
		q->st.hold_overflow++;
		if (!accept)
			nfqio_drop(q, id);
		else if (data)
			nfqio_accept_payload(q, id, data, len);
		else
			nfqio_accept(q, id);
		errno = ENOSPC;
		return -1;
	}
	/* Accepts before this packet are batched now: a later batch would
	 * release this one too. */
	close_run(q);
	h = &q->held[q->held_n];
	h->id = id;
	h->accept = accept;
	h->at = release_at;
	h->payload = NULL;
	h->len = 0;
	if (data && accept) {
		h->payload = malloc(len);
		if (!h->payload) {
			/* no memory: deliver now rather than lose it */
			q->st.hold_overflow++;
			nfqio_accept_payload(q, id, data, len);
			errno = ENOMEM;
			return -1;
		}
		memcpy(h->payload, data, len);
		h->len = (uint32_t)len;
	}
	q->held_n++;
	return 0;
}

static void give_held(struct nfqio *q, struct held *h)
{
	if (!h->accept)
		put_verdict(q, NFQNL_MSG_VERDICT, h->id, NF_DROP);
	else if (h->payload)
		put_payload(q, h->id, h->payload, h->len);
	else
		put_verdict(q, NFQNL_MSG_VERDICT, h->id, NF_ACCEPT);
	free(h->payload);
	h->payload = NULL;
}

uint64_t nfqio_release(struct nfqio *q, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	unsigned i = 0;

	if (!q->held_n)
		return UINT64_MAX;
	close_run(q);
	while (i < q->held_n) {
		struct held *h = &q->held[i];

		if (h->at <= now) {
			give_held(q, h);
			q->held[i] = q->held[--q->held_n];
			continue;
		}
		if (h->at - now < next)
			next = h->at - now;
		i++;
	}
	tx_send(q);
	return next;
}

size_t nfqio_msg_max(const struct nfqio *q)
{
	return NLMSG_ALIGN(q->copy_range + NFQ_MSG_OVERHEAD);
}

int nfqio_recv_burst(struct nfqio *q, struct mmsghdr *v, unsigned n)
{
	int got;

	for (;;) {
		got = recvmmsg(nfqio_fd(q), v, n, MSG_DONTWAIT, NULL);
		if (got >= 0)
			return got;
		if (errno == ENOBUFS) {
			/* the kernel dropped messages for us: count, go on */
			q->st.enobufs++;
			continue;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : -1;
	}
}

int nfqio_parse(struct nfqio *q, const struct nlmsghdr *nlh, struct nfqio_packet *p)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	uint32_t skbinfo = 0;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		/* a verdict refused (an ack would carry error 0) */
		const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*err)) && err->error &&
		    err->error != -ENOENT)
			q->st.send_errors++;
		return 0;
	}
	if (!mnl_nlmsg_portid_ok(nlh, q->portid) ||
	    nlh->nlmsg_type != (NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET) ||
	    nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return 0;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	memset(p, 0, sizeof(*p));
	p->id = ntohl(ph->packet_id);
	if (attr[NFQA_PAYLOAD]) {
		p->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p->caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	p->wire_len = attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : p->caplen;
	if (attr[NFQA_IFINDEX_INDEV])
		p->indev = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_MARK])
		p->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	if (attr[NFQA_SKB_INFO])
		skbinfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
	p->csum_partial = skbinfo & NFQA_SKB_CSUMNOTREADY;
	p->gso = skbinfo & NFQA_SKB_GSO;
	q->st.received++;
	return 1;
}

static void read_kernel_stats(struct nfqio *q, struct nfqio_stats *st)
{
	unsigned qn, portid, total, mode, range, qdrop, udrop, seq;
	char buf[4096], *line, *save = NULL;
	ssize_t n;

	/* a seq file reads anew from offset 0; the descriptor keeps root's permission */
	if (q->kstat_fd < 0 || (n = pread(q->kstat_fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%u %u %u %u %u %u %u %u", &qn, &portid, &total,
			   &mode, &range, &qdrop, &udrop, &seq) != 8)
			continue;
		if (qn != q->qnum)
			continue;
		st->kernel_valid = true;
		st->k_queue_total = total;
		st->k_queue_dropped = qdrop;
		st->k_user_dropped = udrop;
		st->k_id_sequence = seq;
	}
}

void nfqio_stats(struct nfqio *q, struct nfqio_stats *st)
{
	*st = q->st;
	st->held = q->held_n;
	read_kernel_stats(q, st);
}

void nfqio_close(struct nfqio *q)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	unsigned i;

	if (!q)
		return;
	nfqio_flush(q);
	for (i = 0; i < q->held_n; i++) {
		q->held[i].accept = true;
		give_held(q, &q->held[i]);
	}
	q->held_n = 0;
	tx_send(q);
	nlh = cfg_msg(q, buf, 4);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_UNBIND);
	mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
	nfqio_dispose(q);
}
