// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data-path benchmark's baseline: the smallest correct NFQUEUE loop
 * with the same queue settings and rules as idlegate-sim (GSO flag, copy
 * range, batch verdicts, same socket buffer and queue length), and no
 * engine. With --full it copies whole packets and returns each one as a
 * verdict with payload, the cost NAT mode cannot avoid. Run by
 * bench/datapath.sh; alone, without arguments, it only says so.
 *
 *   minimal_nfq --inside IFACE --outside IFACE [--full] [--queue-num N]
 */
#include <errno.h>
#include <netinet/in.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <libmnl/libmnl.h>

#include "simulator/nfq.h"
#include "simulator/rules.h"
#include "simulator/engine/csum.h"
#include "simulator/engine/pkt.h"
#include "simulator/engine/proto.h"

static bool full;
static struct nfqio *q;

/* A packet returned as payload loses its offload-pending state in the
 * kernel, so its checksum must be completed (as idlegate-sim does). */
static void complete_csum(uint8_t *data, size_t len)
{
	struct pkt p;
	unsigned off;
	uint16_t c;

	if (pkt_parse(&p, data, len, len) < 0 || p.is_frag)
		return;
	off = p.t.proto == IPPROTO_TCP ? TCP_OFF_CSUM : p.t.proto == IPPROTO_UDP ? UDP_OFF_CSUM : 0;
	if (!off || (size_t)p.l4_off + p.l4_len > len || p.l4_len < off + 2)
		return;
	data[p.l4_off + off] = data[p.l4_off + off + 1] = 0;
	c = csum_l4(p.t.family, data + (p.t.family == 4 ? IPV4_OFF_SRC : IPV6_OFF_SRC),
		    data + (p.t.family == 4 ? IPV4_OFF_DST : IPV6_OFF_DST),
		    p.t.proto, data + p.l4_off, p.l4_len);
	if (c == 0 && p.t.proto == IPPROTO_UDP)
		c = 0xffff;
	memcpy(data + p.l4_off + off, &c, 2);
}

static void on_packet(struct nfqio_packet *p)
{
	if (full) {
		if (p->csum_partial && !p->gso)
			complete_csum(p->data, p->caplen);
		nfqio_accept_payload(q, p->id, p->data, p->caplen);
	}
	else
		nfqio_accept(q, p->id);
}

/* The same receive as idlegate-sim's data path: a burst of messages per
 * system call into a ring of buffers, verdicts sent once per burst. */
#define BURST 64
static void receive(uint8_t *ring)
{
	static struct mmsghdr mm[BURST];
	static struct iovec iov[BURST];
	size_t slot = nfqio_msg_max(q);
	struct nfqio_packet p;
	int got;

	for (int i = 0; i < BURST; i++) {
		iov[i].iov_base = ring + (size_t)i * slot;
		iov[i].iov_len = slot;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	for (int budget = 512; budget > 0; budget -= got) {
		got = nfqio_recv_burst(q, mm, BURST);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++) {
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)iov[i].iov_base;
			int left = (int)mm[i].msg_len;

			for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
				if (nfqio_parse(q, nlh, &p) == 1)
					on_packet(&p);
		}
		nfqio_flush(q);
		if (got < BURST)
			break;
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "inside", required_argument, NULL, 'i' }, { "outside", required_argument, NULL, 'o' },
		{ "full", no_argument, NULL, 'f' }, { "queue-num", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct rules_config rc = { .priority = -300, .skip_mark = 0x1d1e, .n_ifindex = 2 };
	const char *in = NULL, *out = NULL;
	struct nfqio_config qc;
	struct pollfd pf[2];
	struct rules *r;
	sigset_t mask;
	char err[256];
	uint8_t *ring;
	int c, qn = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'i') in = optarg;
		else if (c == 'o') out = optarg;
		else if (c == 'f') full = true;
		else if (c == 'n') qn = atoi(optarg);
		else return 2;
	}
	if (!in || !out) {
		printf("minimal_nfq: baseline loop of bench/datapath.sh (needs --inside/--outside)\n");
		return 0;
	}
	nfqio_config_init(&qc, (uint16_t)qn);
	qc.copy_range = full ? 0xffff : NFQIO_HEADER_COPY;
	q = nfqio_open(&qc);
	if (!q) {
		perror("nfqio_open");
		return 3;
	}
	ring = malloc(BURST * nfqio_msg_max(q));
	if (!ring)
		return 3;
	rc.queue_num = (uint16_t)qn;
	rc.ifindex[0] = if_nametoindex(in);
	rc.ifindex[1] = if_nametoindex(out);
	r = rules_new(&rc, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "%s: %s\n", err, strerror(errno));
		return 3;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pf[0].fd = signalfd(-1, &mask, SFD_CLOEXEC);
	pf[0].events = POLLIN;
	pf[1].fd = nfqio_fd(q);
	pf[1].events = POLLIN;
	printf("READY\n");
	fflush(stdout);
	for (;;) {
		if (poll(pf, 2, -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		if (pf[1].revents)
			receive(ring);
	}
	rules_free(r);
	{
		struct nfqio_stats st;

		nfqio_stats(q, &st);
		fprintf(stderr, "minimal_nfq: %llu packets, enobufs %llu, kernel dropped %u/%u\n",
			(unsigned long long)st.received, (unsigned long long)st.enobufs,
			st.k_queue_dropped, st.k_user_dropped);
	}
	nfqio_close(q);
	free(ring);
	return 0;
}
