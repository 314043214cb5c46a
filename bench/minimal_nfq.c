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

#include "simulator/nfq.h"
#include "simulator/rules.h"
#include "simulator/engine/csum.h"
#include "simulator/engine/pkt.h"

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
	off = p.t.proto == IPPROTO_TCP ? 16 : p.t.proto == IPPROTO_UDP ? 6 : 0;
	if (!off || (size_t)p.l4_off + p.l4_len > len || p.l4_len < off + 2)
		return;
	data[p.l4_off + off] = data[p.l4_off + off + 1] = 0;
	c = csum_l4(p.t.family, data + (p.t.family == 4 ? 12 : 8), data + (p.t.family == 4 ? 16 : 24),
		    p.t.proto, data + p.l4_off, p.l4_len);
	if (c == 0 && p.t.proto == IPPROTO_UDP)
		c = 0xffff;
	memcpy(data + p.l4_off + off, &c, 2);
}

static void on_packet(void *ctx, struct nfqio_packet *p)
{
	(void)ctx;
	if (full) {
		if (p->csum_partial && !p->gso)
			complete_csum(p->data, p->caplen);
		nfqio_accept_payload(q, p->id, p->data, p->caplen);
	}
	else
		nfqio_accept(q, p->id);
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
	qc.copy_range = full ? 0xffff : 256;
	q = nfqio_open(&qc);
	if (!q) {
		perror("nfqio_open");
		return 3;
	}
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
			nfqio_receive(q, 512, on_packet, NULL);
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
	return 0;
}
