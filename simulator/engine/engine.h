/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The middlebox engine: connection tracking, idle expiry, NAT and
 * impairment, with time passed in and no syscalls. One call per packet:
 * engine_process() parses, finds or creates the flow, applies the policy,
 * rewrites in place for NAT, and says what to do with the packet. Packets to
 * inject (RST, FIN, ICMP) and events (flow created, expired, ...) are handed
 * to the caller's callbacks. Nothing is allocated per packet: the flow table
 * is sized at engine_new() from policy.max_flows.
 */
#ifndef IDLEGATE_ENGINE_H
#define IDLEGATE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simulator/engine/pkt.h"
#include "common/policy.h"

/* The direction a packet travels: OUT from the inside (client side) toward
 * the outside, IN from the outside toward the inside. */
enum dir { DIR_OUT = 0, DIR_IN = 1 };

enum tcp_state {
	TCP_NONE, TCP_SYN_SENT, TCP_SYN_RECV, TCP_ESTABLISHED, TCP_FIN_WAIT,
	TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_TIME_WAIT, TCP_CLOSE,
	UDP_UNREPLIED, UDP_REPLIED, UDP_ASSURED, ICMP_ACTIVE,
	FLOW_EXPIRED,   /* tombstone: expired, waiting for the next sender */
	FLOW_STATE_MAX
};
const char *flow_state_name(unsigned state);

enum verdict { VERDICT_ACCEPT, VERDICT_DROP };

enum drop_reason {
	DROP_NONE, DROP_PARSE, DROP_NO_FLOW, DROP_EXPIRED, DROP_FILTERED,
	DROP_TABLE_FULL, DROP_INBOUND_UNKNOWN, DROP_NO_PORT, DROP_LOSS,
	DROP_BLACKHOLE, DROP_FRAGMENT, DROP_INVALID,
	DROP_REASON_MAX
};
const char *drop_reason_name(unsigned reason);

struct decision {
	enum verdict verdict;
	enum drop_reason reason;
	bool rewritten;         /* the packet was changed in place (return it whole) */
	uint64_t delay_ms;      /* hold the packet this long before the verdict */
	unsigned injected;      /* packets handed to ops.inject during the call */
	uint32_t flow_id;       /* 0 when the packet belongs to no flow */
};

/* Flags for engine_process(). */
enum {
	ENGINE_PKT_CSUM_PARTIAL = 1,   /* L4 checksum is pseudo-header only */
};

enum event_type {
	EV_FLOW_NEW, EV_FLOW_STATE, EV_FLOW_EXPIRED, EV_FLOW_CLOSED,
	EV_DROP, EV_INJECT, EV_KEEPALIVE,
};
const char *event_type_name(unsigned type);

struct engine_event {
	enum event_type type;
	uint64_t now;
	uint32_t flow_id;
	const struct pkt_tuple *tuple;   /* the flow as its initiator sent it */
	bool nat;                        /* outside address/port below are valid */
	union addr nat_addr;
	uint16_t nat_port;
	unsigned state_from, state_to;   /* EV_FLOW_STATE, EV_FLOW_EXPIRED */
	enum dir dir;                    /* packet direction; for EV_INJECT: toward */
	enum drop_reason reason;         /* EV_DROP */
	uint64_t idle_ms;                /* EV_FLOW_EXPIRED: idle time at expiry */
	const char *what;                /* EV_INJECT: "rst" "fin" "icmp"; EV_FLOW_EXPIRED: action */
	const uint8_t *pkt;              /* EV_INJECT: the packet */
	size_t pkt_len;
};

struct engine_ops {
	/* Each may be NULL. Called synchronously from engine_process(),
	 * engine_advance() and the control calls; they must not call back into
	 * the engine. */
	void (*event)(void *ctx, const struct engine_event *ev);
	void (*inject)(void *ctx, enum dir toward, const uint8_t *pkt, size_t len);
	void *ctx;
};

struct engine;

/*
 * A new engine playing policy `p` (copied), at time `now` (ms, any origin).
 * Allocates the flow table for p->max_flows flows. Returns NULL with errno
 * ENOMEM, or EINVAL if the policy does not validate.
 */
struct engine *engine_new(const struct policy *p, const struct engine_ops *ops,
			  uint64_t now);
/* Accepts NULL. */
void engine_free(struct engine *e);

/*
 * Process one IP packet travelling in direction `dir` at time `now`.
 * `data` holds caplen bytes of a wire_len-byte packet; with NAT it must
 * hold the whole packet (it is rewritten in place). Fills *d.
 */
void engine_process(struct engine *e, uint8_t *data, size_t caplen,
		    size_t wire_len, unsigned flags, enum dir dir, uint64_t now,
		    struct decision *d);

/*
 * A batch of packets for engine_process_batch(): the caller fills the first
 * five fields; the engine fills d and uses the rest as scratch space.
 */
struct engine_pkt {
	uint8_t *data;
	size_t caplen, wire_len;
	unsigned flags;
	enum dir dir;
	struct decision d;              /* out */
	struct pkt p;                   /* private */
	int rc;                         /* private */
	const uint32_t *bucket;         /* private */
};

/*
 * Process n packets that arrived together (as a NFQUEUE read delivers them),
 * in order, with the same results as n engine_process() calls. Faster when
 * the flows are not in the CPU cache: the lookups' memory loads overlap.
 */
void engine_process_batch(struct engine *e, struct engine_pkt *v, size_t n, uint64_t now);

/* Fire the timers due at `now`. Returns the ms until the next timer could
 * fire (UINT64_MAX if none), to be used as the caller's poll timeout. */
uint64_t engine_advance(struct engine *e, uint64_t now);

/* Change a knob of the running engine (as policy_set). Timeouts apply to
 * existing flows from their next packet or timer on. max_flows cannot be
 * changed (errno EPERM). */
int engine_set(struct engine *e, const char *key, const char *value,
	       char *err, size_t errlen);
const struct policy *engine_policy(const struct engine *e);

/* Forget every flow and mapping silently, as a rebooted NAT does. */
void engine_flush(struct engine *e, uint64_t now);
/* Expire flow `id` now, with the policy's on_expire action. 0, or -1 with
 * errno ENOENT. */
int engine_expire_flow(struct engine *e, uint32_t id, uint64_t now);
/* Drop every packet until `until` (an outage). */
void engine_blackhole(struct engine *e, uint64_t until);

struct flow_info {
	uint32_t id;
	struct pkt_tuple tuple;          /* as the initiator sent it */
	enum dir initiator;              /* the side that opened it */
	bool nat;
	union addr nat_addr;
	uint16_t nat_port;
	unsigned state;
	uint64_t created, last_seen, expires;  /* expires: when idle expiry is due */
	uint32_t pkts[2];                /* per direction */
	uint32_t keepalives[2];          /* keepalive probes seen, per direction */
};
/* Call fn for each live flow (tombstones included). */
void engine_foreach_flow(const struct engine *e,
			 void (*fn)(void *ctx, const struct flow_info *fi), void *ctx);
/* Look up one flow by id: 0, or -1 with errno ENOENT. */
int engine_flow_get(const struct engine *e, uint32_t id, struct flow_info *fi);

struct engine_stats {
	uint64_t packets[2], accepted, dropped[DROP_REASON_MAX];
	uint64_t rewritten, injected, keepalives;
	uint64_t flows_created, flows_expired, flows_closed, flows_evicted;
	uint32_t flows_active, flows_max, mappings_active;
	size_t bytes_per_flow, memory;
};
void engine_stats(const struct engine *e, struct engine_stats *st);

/* Whether packets must be delivered whole (NAT rewrites payload checksums
 * and ICMP quotes), or headers suffice. */
bool engine_needs_full_packets(const struct engine *e);

#endif
