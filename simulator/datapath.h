/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's packet path, from the queue to the verdict, in one module:
 * receive a burst of NFQUEUE messages into a ring of buffers, parse them,
 * run the burst through the engine as one batch, and give the verdicts in
 * the kernel's order (batched accepts, payload for rewritten packets,
 * held packets for delay.*). Packets the engine injects (RST, FIN, ICMP)
 * leave through here too, and both kinds reach the capture.
 */
#ifndef IDLEGATE_DATAPATH_H
#define IDLEGATE_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

#include "simulator/engine/engine.h"

struct nfqio;
struct inject;
struct pcapw;

struct datapath_config {
	struct engine *eng;
	struct nfqio *q;
	struct inject *inj;
	struct pcapw *pcap;     /* NULL: no capture */
	uint32_t if_in, if_out; /* ifindex of the inside and outside interfaces */
};

struct datapath_stats {
	uint64_t foreign;       /* packets from another interface, accepted untouched */
	uint64_t inject_errors; /* injected packets the raw socket refused */
	uint64_t bursts;        /* batches run through the engine */
};

struct datapath;

/* Messages per receive call and packets per engine batch: a caller that
 * wants to look at the clock between bursts receives this many at a time. */
#define DATAPATH_BURST 64

/* The objects in cfg stay the caller's and must outlive the datapath.
 * Allocates the receive ring once. Returns NULL with errno ENOMEM. */
struct datapath *datapath_new(const struct datapath_config *cfg);
/* Accepts NULL. */
void datapath_free(struct datapath *dp);

/*
 * Receive and handle up to about `budget` packets that are waiting, at time
 * `now` (ms, the caller's clock), without blocking. Every packet has its
 * verdict (or is held) and the verdicts are sent when this returns. Returns
 * the number of messages received (0 if none were waiting; `budget` or more
 * means more may wait), or -1 with errno on a socket error.
 */
int datapath_receive(struct datapath *dp, unsigned budget, uint64_t now);

/* Send a packet the engine built (the engine's inject callback) and
 * capture it. A refused send is counted, not reported. */
void datapath_inject(struct datapath *dp, const uint8_t *pkt, size_t len);

void datapath_stats(const struct datapath *dp, struct datapath_stats *st);

#endif
