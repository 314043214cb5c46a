// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The middlebox engine: flow table, TCP/UDP/ICMP state, idle expiry with its
 * on_expire actions, source NAT with RFC 4787 behaviours, and impairment.
 *
 * Layout. Flows live in one array allocated up front (policy.max_flows);
 * free slots are chained through hnext[0]. A flow has an inside endpoint
 * (the host behind the inside interface), an outside endpoint (the remote
 * host) and, with NAT, an outside port on nat.address. It is found through
 * an intrusive hash table: entry A keys {inside, outside} and serves every
 * packet of a firewall flow and the outbound packets of a NAT flow; entry B
 * keys {nat.address:nat_port, outside} and serves inbound NAT packets.
 * Bucket heads and chain links are 32-bit slot numbers, not pointers, to
 * keep a flow at 128 bytes.
 *
 * Timers. Each flow has one wheel timer. Per packet only last_seen changes;
 * when the timer fires the flow is expired only if it really has been idle
 * for its timeout, and re-armed otherwise. A state change that shortens the
 * timeout re-arms at once. In exact mode a lookup also checks the deadline,
 * so expiry is exact to the millisecond even if engine_advance() is late.
 */
#include "simulator/engine/engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "simulator/engine/build.h"
#include "simulator/engine/csum.h"
#include "simulator/engine/portset.h"
#include "simulator/engine/proto.h"
#include "simulator/engine/tally.h"
#include "simulator/engine/wheel.h"

#define NIL 0u                          /* empty slot link (slots count from 1) */
#define EVICT_SAMPLES 8
#define EARLY_DROP_BUCKETS 8            /* conntrack's NF_CT_EVICTION_RANGE */
#define PORT_ATTEMPTS 128               /* nf_nat_l4proto_unique_tuple's max_attempts */


/* flow.flags */
enum {
	FF_INIT_IN = 0x01,      /* opened by the outside */
	FF_NAT = 0x02,          /* translated: entry B is linked */
	FF_SEEN_OUT = 0x04,     /* a packet seen in DIR_OUT / DIR_IN */
	FF_SEEN_IN = 0x08,
	FF_WIN0_OUT = 0x10,     /* the last window advertised by that side was 0 */
	FF_WIN0_IN = 0x20,
	FF_FIN_OUT = 0x40,      /* that side sent a FIN */
	FF_FIN_IN = 0x80,
};

/* flow.kind */
enum {
	FK_PLAIN,               /* a flow through the box */
	FK_LOCAL,               /* a record of an unsolicited UDP datagram to
				 * nat.address that the box's own stack took
				 * (conntrack keeps one): entry B only, no mapping */
};

struct flow {
	/* first cache line: all a lookup and an idle check read */
	uint32_t hnext[2];              /* hash chains of entries A and B; free list */
	union addr in_addr, out_addr;
	uint16_t in_port, out_port;     /* ICMP echo: in_port = id, out_port = 0 */
	uint16_t nat_port;
	uint8_t proto;
	uint8_t state;                  /* enum tcp_state; TCP_NONE = free slot */
	uint8_t flags;
	uint8_t action;                 /* tombstone: the on_expire it waits to carry out */
	uint8_t assured;                /* conntrack's ASSURED: never evicted for a new flow */
	uint32_t id;
	uint64_t last_seen;
	/* second cache line: per-packet bookkeeping and the timer */
	struct wheel_timer timer;
	uint32_t created;               /* ms since the engine's epoch */
	uint32_t td_end[2];             /* per direction: highest seq + len sent */
	uint32_t td_ack[2];             /* per direction: last ack sent */
	uint32_t pkts[2];
	uint16_t keepalives[2];
	uint32_t mapping;               /* NAT mapping slot */
	uint32_t mnext;                 /* next flow of the same mapping */
	/* third cache line: TCP window tracking (conntrack's tcp_in_window),
	 * read only for TCP segments */
	uint32_t td_maxend[2];          /* per direction: highest seq the peer's window allows */
	uint32_t td_maxwin[2];          /* per direction: largest window advertised (scaled); 0: none seen */
	uint8_t td_scale[2];            /* per direction: window scale of its advertisements */
	uint8_t td_flags[2];            /* per direction: TDF_* */
	uint32_t tally[2];              /* NAT limit counts it holds (per host, per destination) */
	uint8_t kind;                   /* FK_* */
	uint8_t spare[35];              /* a flow stays a whole number of cache lines */
};
_Static_assert(sizeof(struct flow) == 192, "a flow is three cache lines");
_Static_assert(offsetof(struct flow, timer) == 64, "lookup fields fill the first line");
_Static_assert(offsetof(struct flow, td_maxend) == 128, "window tracking fills the third");

/* flow.td_flags */
enum {
	TDF_WSCALE = 0x01,      /* that side sent the window-scale option */
	TDF_ACKED = 0x02,       /* that side sent an ACK (td_ack is valid) */
};

/* A NAT mapping: an inside endpoint (and, for address- or address-and-port-
 * dependent mapping, the remote part) bound to an outside port. */
struct mapping {
	union addr in_addr, rem_addr;
	uint16_t in_port, rem_port, out_port;
	uint8_t proto;
	uint8_t used;
	uint32_t refs;
	uint32_t hnext;
	uint32_t flows;                 /* first flow using it */
};

struct engine {
	struct policy pol;
	struct engine_ops ops;
	uint64_t epoch;
	uint64_t now;
	struct wheel *wheel;

	struct flow *flows;             /* slots 1..max_flows at flows[slot - 1] */
	uint32_t nflows, free_head, active;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t next_id;
	uint64_t hash_seed;

	/* NAT */
	struct mapping *maps;
	uint32_t *map_buckets;
	uint32_t map_free, maps_active;
	uint32_t *port_owner;           /* [3][65536] mapping slot, per proto (exclusive ports) */
	uint32_t *port_users;           /* [3][65536] mappings on the port, per proto */
	struct portset *ports[3];       /* usable outside ports, per proto */
	struct tally *per_host, *per_dest;      /* NAT limit counts, when limited */
	uint16_t next_port;

	uint64_t blackhole_until;
	uint64_t rng[3];                /* loss per direction, ports */
	struct engine_stats st;
	struct decision *cur;           /* the decision being filled, or NULL */
};

static const char *const state_names[FLOW_STATE_MAX] = {
	[TCP_NONE] = "none", [TCP_SYN_SENT] = "syn_sent", [TCP_SYN_RECV] = "syn_recv",
	[TCP_ESTABLISHED] = "established", [TCP_FIN_WAIT] = "fin_wait",
	[TCP_CLOSE_WAIT] = "close_wait", [TCP_LAST_ACK] = "last_ack",
	[TCP_TIME_WAIT] = "time_wait", [TCP_CLOSE] = "close",
	[UDP_UNREPLIED] = "unreplied", [UDP_REPLIED] = "replied",
	[UDP_ASSURED] = "assured", [ICMP_ACTIVE] = "active", [FLOW_EXPIRED] = "expired",
};

const char *flow_state_name(unsigned s)
{
	return s < FLOW_STATE_MAX ? state_names[s] : "?";
}

static const char *const reason_names[DROP_REASON_MAX] = {
	[DROP_NONE] = "none", [DROP_PARSE] = "malformed", [DROP_NO_FLOW] = "no-flow",
	[DROP_EXPIRED] = "expired", [DROP_FILTERED] = "filtered",
	[DROP_TABLE_FULL] = "table-full", [DROP_INBOUND_UNKNOWN] = "inbound-unknown",
	[DROP_NO_PORT] = "no-port", [DROP_LOSS] = "loss", [DROP_BLACKHOLE] = "blackhole",
	[DROP_FRAGMENT] = "fragment", [DROP_INVALID] = "invalid",
};

const char *drop_reason_name(unsigned r)
{
	return r < DROP_REASON_MAX ? reason_names[r] : "?";
}

const char *event_type_name(unsigned t)
{
	static const char *const names[] = {
		"flow-new", "flow-state", "flow-expired", "flow-closed",
		"drop", "inject", "keepalive",
	};
	return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static const char *const action_names[] = {
	"drop", "rst-inside-on-next", "rst-next-sender", "rst-both-at-expiry",
	"fin-inside", "icmp-unreachable",
};

/* ---- small helpers ---- */

static inline struct flow *slot_flow(const struct engine *e, uint32_t slot)
{
	return &e->flows[slot - 1];
}

static inline uint32_t flow_slot(const struct engine *e, const struct flow *f)
{
	return (uint32_t)(f - e->flows) + 1;
}

static inline bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static inline bool addr_eq(const union addr *a, const union addr *b)
{
	return a->q[0] == b->q[0] && a->q[1] == b->q[1];
}

static uint32_t hash_key(const struct engine *e, const union addr *a, uint16_t ap,
			 const union addr *b, uint16_t bp, uint8_t proto)
{
	uint64_t h = e->hash_seed;

	h = mix(h, a->q[0]);
	h = mix(h, a->q[1]);
	h = mix(h, b->q[0]);
	h = mix(h, b->q[1]);
	h = mix(h, (uint64_t)ap << 32 | (uint64_t)bp << 16 | proto);
	return (uint32_t)(h >> 32);
}

static uint32_t flow_hash(const struct engine *e, const struct flow *f, int which)
{
	if (which == 0)
		return hash_key(e, &f->in_addr, f->in_port, &f->out_addr, f->out_port, f->proto);
	return hash_key(e, &e->pol.nat_addr, f->nat_port, &f->out_addr, f->out_port, f->proto);
}

static void emit(struct engine *e, struct engine_event *ev)
{
	if (e->ops.event)
		e->ops.event(e->ops.ctx, ev);
}

/* The flow as its initiator sent it, for events and listings. */
static void flow_tuple(const struct engine *e, const struct flow *f, struct pkt_tuple *t)
{
	bool in = f->flags & FF_INIT_IN;

	memset(t, 0, sizeof(*t));
	t->proto = f->proto;
	t->family = addr_is_v4(&f->in_addr) ? 4 : 6;
	if (!in) {
		t->src = f->in_addr;
		t->sport = f->in_port;
		t->dst = f->out_addr;
		t->dport = f->out_port;
	} else {
		t->src = f->out_addr;
		t->sport = f->out_port;
		if (f->flags & FF_NAT) {
			t->dst = e->pol.nat_addr;
			t->dport = f->nat_port;
		} else {
			t->dst = f->in_addr;
			t->dport = f->in_port;
		}
	}
	if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6)
		t->sport = t->dport = f->in_port;
}

static void flow_event(struct engine *e, struct flow *f, enum event_type type,
		       struct engine_event *ev, struct pkt_tuple *t)
{
	memset(ev, 0, sizeof(*ev));
	flow_tuple(e, f, t);
	ev->type = type;
	ev->now = e->now;
	ev->flow_id = f->id;
	ev->tuple = t;
	ev->nat = f->flags & FF_NAT;
	if (ev->nat) {
		ev->nat_addr = e->pol.nat_addr;
		ev->nat_port = f->nat_port;
	}
	ev->state_to = f->state;
}

/* ---- timeouts and timers ---- */

static uint64_t flow_timeout(const struct engine *e, const struct flow *f)
{
	const uint64_t *to = e->pol.timeout;

	switch (f->state) {
	case TCP_SYN_SENT: return to[TO_TCP_SYN_SENT];
	case TCP_SYN_RECV: return to[TO_TCP_SYN_RECV];
	case TCP_ESTABLISHED: {
		uint64_t t = to[TO_TCP_ESTABLISHED];
		/* data in flight not yet acknowledged by its receiver */
		bool unack = ((f->flags & FF_SEEN_OUT) && (f->flags & FF_SEEN_IN)) &&
			     (seq_after(f->td_end[DIR_OUT], f->td_ack[DIR_IN]) ||
			      seq_after(f->td_end[DIR_IN], f->td_ack[DIR_OUT]));
		if (unack && to[TO_TCP_UNACK] < t)
			t = to[TO_TCP_UNACK];
		return t;
	}
	case TCP_FIN_WAIT: return to[TO_TCP_FIN_WAIT];
	case TCP_CLOSE_WAIT: return to[TO_TCP_CLOSE_WAIT];
	case TCP_LAST_ACK: return to[TO_TCP_LAST_ACK];
	case TCP_TIME_WAIT: return to[TO_TCP_TIME_WAIT];
	case TCP_CLOSE: return to[TO_TCP_CLOSE];
	case UDP_UNREPLIED:
	case UDP_REPLIED: return to[TO_UDP_UNREPLIED];
	case UDP_ASSURED: return to[TO_UDP_ASSURED];
	case ICMP_ACTIVE: return to[TO_ICMP];
	case FLOW_EXPIRED:
		return to[TO_EXPIRED_HOLD];
	default: return to[TO_TCP_CLOSE];
	}
}

static inline uint64_t flow_deadline(const struct engine *e, const struct flow *f)
{
	return f->last_seen + flow_timeout(e, f);
}

/* When the timer for a deadline should fire: at once in exact mode, at the
 * first sweep at or after it in sweep mode. */
static uint64_t fire_time(const struct engine *e, uint64_t deadline)
{
	uint64_t iv = e->pol.sweep_interval, rel;

	if (e->pol.expiry != EXPIRY_SWEEP || deadline <= e->epoch)
		return deadline;
	rel = deadline - e->epoch;
	return e->epoch + (rel + iv - 1) / iv * iv;
}

/* Make sure the timer fires no later than the flow's deadline requires. */
static void flow_arm(struct engine *e, struct flow *f)
{
	uint64_t at = fire_time(e, flow_deadline(e, f));

	if (!wheel_timer_armed(&f->timer) || f->timer.expires > at)
		wheel_arm(e->wheel, &f->timer, at);
}

static bool flow_is_expired(const struct engine *e, const struct flow *f, uint64_t now)
{
	return e->pol.expiry == EXPIRY_EXACT && f->state != FLOW_EXPIRED &&
	       now >= flow_deadline(e, f);
}

/* ---- hash table ---- */

static void hash_link(struct engine *e, struct flow *f, int which)
{
	uint32_t b = flow_hash(e, f, which) & e->bucket_mask;
	uint32_t ref = flow_slot(e, f) << 1 | (uint32_t)which;

	f->hnext[which] = e->buckets[b];
	e->buckets[b] = ref;
}

static void hash_unlink(struct engine *e, struct flow *f, int which)
{
	uint32_t b = flow_hash(e, f, which) & e->bucket_mask;
	uint32_t ref = flow_slot(e, f) << 1 | (uint32_t)which;
	uint32_t *pp = &e->buckets[b];

	while (*pp != NIL) {
		if (*pp == ref) {
			*pp = f->hnext[which];
			return;
		}
		pp = &slot_flow(e, *pp >> 1)->hnext[*pp & 1];
	}
}

/* Entry A: inside endpoint + outside endpoint. */
static struct flow *lookup_a(const struct engine *e, uint8_t proto, const union addr *ia,
			     uint16_t ip, const union addr *oa, uint16_t op)
{
	uint32_t ref = e->buckets[hash_key(e, ia, ip, oa, op, proto) & e->bucket_mask];

	while (ref != NIL) {
		struct flow *f = slot_flow(e, ref >> 1);
		if (!(ref & 1) && f->proto == proto && f->in_port == ip && f->out_port == op &&
		    addr_eq(&f->in_addr, ia) && addr_eq(&f->out_addr, oa))
			return f;
		ref = f->hnext[ref & 1];
	}
	return NULL;
}

/* Entry B: outside port on nat.address + outside endpoint. */
static struct flow *lookup_b(const struct engine *e, uint8_t proto, uint16_t np,
			     const union addr *oa, uint16_t op)
{
	uint32_t ref = e->buckets[hash_key(e, &e->pol.nat_addr, np, oa, op, proto) & e->bucket_mask];

	while (ref != NIL) {
		struct flow *f = slot_flow(e, ref >> 1);
		if ((ref & 1) && f->proto == proto && f->nat_port == np && f->out_port == op &&
		    addr_eq(&f->out_addr, oa))
			return f;
		ref = f->hnext[ref & 1];
	}
	return NULL;
}

/* ---- NAT mappings and ports ---- */

static bool flow_expire(struct engine *e, struct flow *f);

static int proto_index(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 : 2;
}

static uint32_t map_hash(const struct engine *e, uint8_t proto, const union addr *ia,
			 uint16_t ip, const union addr *ra, uint16_t rp)
{
	return hash_key(e, ia, ip, ra, rp, proto) & e->bucket_mask;
}

/* The remote part of a mapping's key under the mapping behaviour. */
static void map_remote(const struct engine *e, const union addr *oa, uint16_t op,
		       union addr *ra, uint16_t *rp)
{
	memset(ra, 0, sizeof(*ra));
	*rp = 0;
	if (e->pol.mapping != NAT_EI)
		*ra = *oa;
	if (e->pol.mapping == NAT_APD)
		*rp = op;
}

static struct mapping *map_find(const struct engine *e, uint8_t proto, const union addr *ia,
				uint16_t ip, const union addr *ra, uint16_t rp)
{
	uint32_t s = e->map_buckets[map_hash(e, proto, ia, ip, ra, rp)];

	while (s != NIL) {
		struct mapping *m = &e->maps[s - 1];
		if (m->proto == proto && m->in_port == ip && m->rem_port == rp &&
		    addr_eq(&m->in_addr, ia) && addr_eq(&m->rem_addr, ra))
			return m;
		s = m->hnext;
	}
	return NULL;
}

/* The ports a protocol allocates from: nat.port_range, or every ICMP
 * identifier. */
static void port_bounds(const struct engine *e, int pi, uint16_t *lo, uint16_t *hi)
{
	*lo = pi == 2 ? 1 : e->pol.port_min;
	*hi = pi == 2 ? 65535 : e->pol.port_max;
}

/*
 * Whether outside port `port` can carry a new mapping's flow to oa:op: no
 * mapping holds it (it is in the free set), or with nat.port_reuse =
 * per-destination some do but none toward oa:op; and no entry holds the
 * 5-tuple it would make (nat.address:port <-> oa:op), a record of an
 * unsolicited datagram included, as conntrack checks (nf_nat_used_tuple).
 * One flow past its deadline (exact expiry) is expired first.
 */
static bool port_fits(struct engine *e, uint8_t proto, uint16_t port,
		      const union addr *oa, uint16_t op)
{
	int pi = proto_index(proto);
	struct flow *f = lookup_b(e, proto, port, oa, op);

	if (f && flow_is_expired(e, f, e->now)) {
		flow_expire(e, f);
		f = lookup_b(e, proto, port, oa, op);
	}
	if (f)
		return false;
	return portset_usable(e->ports[pi], port) ||
	       (e->pol.port_reuse == REUSE_DESTINATION && e->port_users[(size_t)pi * 65536 + port]);
}

/*
 * An outside port for a new mapping of inside port `want` toward oa:op, by
 * nat.ports: the inside port if usable (preserve, and ICMP identifiers
 * always), else the first usable one at or after a starting point: the one
 * after the last given (sequential), or a random one (random, and preserve
 * when the inside port is taken: conntrack's nf_nat_l4proto_unique_tuple()
 * starts at a random offset and takes the next free). O(1):
 * the bitmap finds the next usable port in a few word reads, and at most
 * PORT_ATTEMPTS ports that clash with a record are skipped, as conntrack
 * gives up after its attempts.
 */
static int port_alloc(struct engine *e, uint8_t proto, uint16_t want, const union addr *oa,
		      uint16_t op, uint16_t *out)
{
	int pi = proto_index(proto);
	struct portset *ps = e->ports[pi];
	uint16_t lo, hi, p;

	port_bounds(e, pi, &lo, &hi);
	portset_tick(ps, e->now);
	if ((e->pol.nat_ports == PORTS_PRESERVE || pi == 2) && want >= lo && want <= hi &&
	    port_fits(e, proto, want, oa, op)) {
		p = want;
		goto take;
	}
	if (e->pol.nat_ports == PORTS_SEQUENTIAL)
		p = e->next_port;
	else
		p = (uint16_t)(lo + splitmix(&e->rng[2]) % ((uint32_t)hi - lo + 1));
	p = portset_next(ps, p);
	for (unsigned i = 0; p && i < PORT_ATTEMPTS; i++) {
		if (port_fits(e, proto, p, oa, op))
			goto take;
		p = portset_next(ps, p == hi ? lo : (uint16_t)(p + 1));
	}
	/* no free port: one that others use, but not toward oa:op (random
	 * tries, as conntrack's; with fewer than PORT_ATTEMPTS ports of the
	 * range toward oa:op free, a try can miss them) */
	for (unsigned i = 0; e->pol.port_reuse == REUSE_DESTINATION && i < PORT_ATTEMPTS; i++) {
		p = (uint16_t)(lo + splitmix(&e->rng[2]) % ((uint32_t)hi - lo + 1));
		if (port_fits(e, proto, p, oa, op))
			goto take;
	}
	return -1;
take:
	portset_take(ps, p);
	e->port_users[(size_t)pi * 65536 + p]++;
	e->next_port = p == hi ? lo : (uint16_t)(p + 1);
	*out = p;
	return 0;
}

static struct mapping *map_get(struct engine *e, uint8_t proto, const union addr *ia,
			       uint16_t ip, const union addr *oa, uint16_t op)
{
	union addr ra;
	uint16_t rp, port;
	struct mapping *m;
	uint32_t s, b;

	map_remote(e, oa, op, &ra, &rp);
	m = map_find(e, proto, ia, ip, &ra, rp);
	if (m)
		return m;
	if (e->map_free == NIL || port_alloc(e, proto, ip, oa, op, &port) < 0)
		return NULL;
	s = e->map_free;
	m = &e->maps[s - 1];
	e->map_free = m->hnext;
	memset(m, 0, sizeof(*m));
	m->in_addr = *ia;
	m->in_port = ip;
	m->rem_addr = ra;
	m->rem_port = rp;
	m->out_port = port;
	m->proto = proto;
	m->used = 1;
	b = map_hash(e, proto, ia, ip, &ra, rp);
	m->hnext = e->map_buckets[b];
	e->map_buckets[b] = s;
	e->port_owner[(size_t)proto_index(proto) * 65536 + port] = s;
	e->maps_active++;
	return m;
}

/* Drop a reference to mapping s; the last one frees its port, which is
 * held from time `gone` on. */
static void map_put(struct engine *e, uint32_t s, uint64_t gone)
{
	struct mapping *m = &e->maps[s - 1];
	uint32_t b, *pp;
	size_t pi;

	if (--m->refs)
		return;
	b = map_hash(e, m->proto, &m->in_addr, m->in_port, &m->rem_addr, m->rem_port);
	for (pp = &e->map_buckets[b]; *pp != NIL; pp = &e->maps[*pp - 1].hnext) {
		if (*pp == s) {
			*pp = m->hnext;
			break;
		}
	}
	pi = (size_t)proto_index(m->proto) * 65536 + m->out_port;
	if (e->port_owner[pi] == s)
		e->port_owner[pi] = NIL;
	if (--e->port_users[pi] == 0)
		portset_release(e->ports[pi / 65536], m->out_port, gone);
	m->used = 0;
	m->hnext = e->map_free;
	e->map_free = s;
	e->maps_active--;
}

/* ---- flow life ---- */

/* When a flow being freed ended: at its deadline if it expired exactly
 * (its timer may run late), else now. */
static uint64_t flow_gone_at(const struct engine *e, const struct flow *f)
{
	uint64_t deadline = flow_deadline(e, f);

	return e->pol.expiry == EXPIRY_EXACT && deadline < e->now ? deadline : e->now;
}

static void flow_free(struct engine *e, struct flow *f)
{
	if (f->kind == FK_LOCAL)
		hash_unlink(e, f, 1);
	else
		hash_unlink(e, f, 0);
	if (e->per_host) {
		tally_dec(e->per_host, f->tally[0]);
		tally_dec(e->per_dest, f->tally[1]);
	}
	if (f->flags & FF_NAT) {
		struct mapping *m = &e->maps[f->mapping - 1];
		uint32_t *pp = &m->flows;
		uint32_t me = flow_slot(e, f);

		hash_unlink(e, f, 1);
		while (*pp != NIL) {
			if (*pp == me) {
				*pp = f->mnext;
				break;
			}
			pp = &slot_flow(e, *pp)->mnext;
		}
		map_put(e, f->mapping, flow_gone_at(e, f));
	}
	wheel_cancel(e->wheel, &f->timer);
	f->state = TCP_NONE;
	f->hnext[0] = e->free_head;
	e->free_head = flow_slot(e, f);
	e->active--;
}

static void set_state(struct engine *e, struct flow *f, unsigned state)
{
	struct engine_event ev;
	struct pkt_tuple t;
	unsigned from = f->state;

	if (from == state)
		return;
	f->state = (uint8_t)state;
	if (e->ops.event) {
		flow_event(e, f, EV_FLOW_STATE, &ev, &t);
		ev.state_from = from;
		emit(e, &ev);
	}
	flow_arm(e, f);
}

static void inject(struct engine *e, enum dir toward, const uint8_t *pkt, int len,
		   const char *what, struct flow *f)
{
	struct engine_event ev;
	struct pkt_tuple t;

	if (len <= 0)
		return;
	e->st.injected++;
	if (e->cur)
		e->cur->injected++;
	if (e->ops.event) {
		if (f) {
			flow_event(e, f, EV_INJECT, &ev, &t);
		} else {
			memset(&ev, 0, sizeof(ev));
			ev.type = EV_INJECT;
			ev.now = e->now;
		}
		ev.dir = toward;
		ev.what = what;
		ev.pkt = pkt;
		ev.pkt_len = (size_t)len;
		emit(e, &ev);
	}
	if (e->ops.inject)
		e->ops.inject(e->ops.ctx, toward, pkt, (size_t)len);
}

/* The sequence number the receiver on side `to` expects next. */
static uint32_t rcv_nxt(const struct flow *f, enum dir to)
{
	enum dir from = (enum dir)!to;
	unsigned seen_from = from == DIR_OUT ? FF_SEEN_OUT : FF_SEEN_IN;

	if (f->flags & seen_from)
		return f->td_end[from];
	return f->td_ack[to];
}

/* A TCP segment from the flow's far side to the host on side `toward`. */
static void inject_tcp(struct engine *e, struct flow *f, enum dir toward, uint8_t flags,
		       const char *what)
{
	uint8_t buf[BUILD_MAX];
	struct pkt_tuple t = { .proto = IPPROTO_TCP };

	t.family = addr_is_v4(&f->in_addr) ? 4 : 6;
	if (toward == DIR_IN) {
		/* to the inside host, as if from its peer */
		t.src = f->out_addr;
		t.sport = f->out_port;
		t.dst = f->in_addr;
		t.dport = f->in_port;
	} else {
		t.dst = f->out_addr;
		t.dport = f->out_port;
		t.src = (f->flags & FF_NAT) ? e->pol.nat_addr : f->in_addr;
		t.sport = (f->flags & FF_NAT) ? f->nat_port : f->in_port;
	}
	/* toward DIR_IN means travelling like inbound packets: to the inside */
	enum dir receiver = toward == DIR_IN ? DIR_OUT : DIR_IN;
	uint32_t seq = rcv_nxt(f, receiver);
	uint32_t ack = f->td_end[receiver];
	inject(e, toward, buf, build_tcp(buf, sizeof(buf), &t, flags, seq, ack), what, f);
}

/* RST in answer to packet p (RFC 793: seq = its ack, or ack its segment). */
static void inject_rst_reply(struct engine *e, const struct pkt *p, enum dir pkt_dir,
			     struct flow *f)
{
	uint8_t buf[BUILD_MAX];
	struct pkt_tuple t = p->t;
	uint32_t seq = 0, ack = 0;
	uint8_t flags = TCPF_RST;

	if (p->tcp_flags & TCPF_RST)
		return;
	t.src = p->t.dst;
	t.dst = p->t.src;
	t.sport = p->t.dport;
	t.dport = p->t.sport;
	if (p->tcp_flags & TCPF_ACK) {
		seq = p->ack;
	} else {
		flags |= TCPF_ACK;
		ack = p->seq + p->payload_len + !!(p->tcp_flags & TCPF_SYN) +
		      !!(p->tcp_flags & TCPF_FIN);
	}
	inject(e, (enum dir)!pkt_dir, buf, build_tcp(buf, sizeof(buf), &t, flags, seq, ack),
	       "rst", f);
}

static void inject_unreach(struct engine *e, const struct pkt *p, enum dir pkt_dir,
			   uint8_t code4, uint8_t code6, struct flow *f)
{
	uint8_t buf[BUILD_MAX];

	if (p->icmp_error)
		return;
	inject(e, (enum dir)!pkt_dir, buf,
	       build_icmp_unreach(buf, sizeof(buf), &p->t.dst, p,
				  p->t.family == 4 ? code4 : code6),
	       "icmp", f);
}

/* Idle expiry: carry out on_expire. Returns true if the flow was freed. */
static bool flow_expire(struct engine *e, struct flow *f)
{
	struct engine_event ev;
	struct pkt_tuple t;
	enum on_expire act = e->pol.on_expire;
	bool tcp_live = f->proto == IPPROTO_TCP && f->state >= TCP_SYN_SENT &&
			f->state <= TCP_LAST_ACK;
	bool closed = f->state == TCP_TIME_WAIT || f->state == TCP_CLOSE;

	if (f->state == FLOW_EXPIRED) {
		/* a tombstone nobody came back to */
		flow_free(e, f);
		return true;
	}
	if ((!tcp_live && act != EXPIRE_ICMP_UNREACH) || closed || f->kind == FK_LOCAL)
		act = EXPIRE_DROP;
	if (e->ops.event) {
		flow_event(e, f, closed ? EV_FLOW_CLOSED : EV_FLOW_EXPIRED, &ev, &t);
		ev.state_from = f->state;
		ev.idle_ms = e->now - f->last_seen;
		ev.what = action_names[act];
		emit(e, &ev);
	}
	if (closed)
		e->st.flows_closed++;
	else
		e->st.flows_expired++;
	switch (act) {
	case EXPIRE_RST_BOTH:
		inject_tcp(e, f, DIR_IN, TCPF_RST | TCPF_ACK, "rst");
		inject_tcp(e, f, DIR_OUT, TCPF_RST | TCPF_ACK, "rst");
		break;
	case EXPIRE_FIN_INSIDE:
		inject_tcp(e, f, DIR_IN, TCPF_FIN | TCPF_ACK, "fin");
		break;
	case EXPIRE_RST_INSIDE_ON_NEXT:
	case EXPIRE_RST_NEXT_SENDER:
	case EXPIRE_ICMP_UNREACH:
		f->state = FLOW_EXPIRED;
		f->action = (uint8_t)act;
		f->last_seen = e->now;
		wheel_arm(e->wheel, &f->timer, e->now + flow_timeout(e, f));
		return false;
	case EXPIRE_DROP:
		break;
	}
	flow_free(e, f);
	return true;
}

static void timer_fire(struct wheel_timer *t, void *ctx)
{
	struct engine *e = ctx;
	struct flow *f = container_of(t, struct flow, timer);
	uint64_t deadline = flow_deadline(e, f);

	if (e->now >= deadline) {
		flow_expire(e, f);
		return;
	}
	wheel_arm(e->wheel, &f->timer, fire_time(e, deadline));
}

/* Take a flow out of the table to make room for a new one. */
static void flow_evict(struct engine *e, struct flow *victim)
{
	if (e->ops.event) {
		struct engine_event ev;
		struct pkt_tuple t;
		flow_event(e, victim, EV_FLOW_EXPIRED, &ev, &t);
		ev.state_from = victim->state;
		ev.idle_ms = e->now - victim->last_seen;
		ev.what = "evicted";
		emit(e, &ev);
	}
	e->st.flows_evicted++;
	flow_free(e, victim);
}

/* evict-idle: the longest idle of a few sampled flows that are not assured
 * (an established TCP connection, a UDP flow with replies over time). */
static bool evict_idle(struct engine *e)
{
	struct flow *victim = NULL;
	uint32_t start = (uint32_t)(splitmix(&e->rng[2]) % e->nflows);

	for (uint32_t i = 0; i < EVICT_SAMPLES && i < e->nflows; i++) {
		struct flow *f = &e->flows[(start + i) % e->nflows];
		if (f->assured)
			continue;
		if (!victim || f->last_seen < victim->last_seen)
			victim = f;
	}
	if (!victim)
		return false;
	flow_evict(e, victim);
	return true;
}

/* The first flow of bucket b's chain that early_drop may take, or NULL.
 * Flows past their deadline are expired on the way, as conntrack reaps
 * them (that makes no room for this packet: it counts only drops). */
static struct flow *bucket_droppable(struct engine *e, uint32_t b)
{
	uint32_t ref = e->buckets[b];

	while (ref != NIL) {
		struct flow *f = slot_flow(e, ref >> 1);

		if (flow_is_expired(e, f, e->now)) {
			/* the chain changed: walk it again from its head */
			flow_expire(e, f);
			ref = e->buckets[b];
			continue;
		}
		if (!f->assured && f->state != FLOW_EXPIRED)
			return f;
		ref = f->hnext[ref & 1];
	}
	return NULL;
}

/*
 * early-drop, as conntrack's early_drop(): walk up to 8 buckets from the
 * new flow's; in the first whose chain holds flows that are not assured,
 * drop every one of them. Which flows go depends on the hash, not on how
 * long they were idle. O(1): 8 buckets of short chains.
 */
static bool early_drop(struct engine *e, uint32_t bucket)
{
	for (uint32_t i = 0; i < EARLY_DROP_BUCKETS; i++) {
		uint32_t b = (bucket + i) & e->bucket_mask;
		unsigned drops = 0;
		struct flow *f;

		while ((f = bucket_droppable(e, b)) != NULL) {
			flow_evict(e, f);
			drops++;
		}
		if (drops)
			return true;
	}
	return false;
}

/*
 * Make room for a new flow whose entry A would hash to `bucket`. Returns
 * false if the table stays full. Both eviction policies spare assured flows,
 * so a flood of new flows cannot push out the connections in use.
 */
static bool table_room(struct engine *e, uint32_t bucket)
{
	if (e->free_head != NIL)
		return true;
	switch (e->pol.when_full) {
	case FULL_EVICT_IDLE: return evict_idle(e);
	case FULL_EARLY_DROP: return early_drop(e, bucket) && e->free_head != NIL;
	default: return false;
	}
}

/* The limit keys of an outbound NAT connection from ia to oa:op. */
static void limit_keys(uint8_t proto, const union addr *ia, const union addr *oa, uint16_t op,
		       struct tally_key *host, struct tally_key *dest)
{
	memset(host, 0, sizeof(*host));
	host->host = *ia;
	host->dst = *oa;
	host->dport = op;
	host->proto = proto;
	*dest = *host;
	memset(&dest->host, 0, sizeof(dest->host));
}

/* Whether nat.ports_per_host and nat.max_per_destination leave room for one
 * more connection from ia to oa:op. */
static bool limits_allow(const struct engine *e, uint8_t proto, const union addr *ia,
			 const union addr *oa, uint16_t op)
{
	struct tally_key host, dest;

	if (!e->per_host)
		return true;
	limit_keys(proto, ia, oa, op, &host, &dest);
	return (!e->pol.ports_per_host || tally_get(e->per_host, &host) < e->pol.ports_per_host) &&
	       (!e->pol.max_per_destination ||
		tally_get(e->per_dest, &dest) < e->pol.max_per_destination);
}

static void limits_count(struct engine *e, struct flow *f)
{
	struct tally_key host, dest;

	if (!e->per_host)
		return;
	limit_keys(f->proto, &f->in_addr, &f->out_addr, f->out_port, &host, &dest);
	f->tally[0] = tally_inc(e->per_host, &host);
	f->tally[1] = tally_inc(e->per_dest, &dest);
}

/* A free slot made into a flow of the given endpoints (not yet linked). */
static struct flow *flow_init(struct engine *e, uint8_t proto, const union addr *ia, uint16_t ip,
			      const union addr *oa, uint16_t op, unsigned state, enum dir dir)
{
	struct flow *f = slot_flow(e, e->free_head);

	e->free_head = f->hnext[0];
	memset(f, 0, sizeof(*f));
	f->id = ++e->next_id ? e->next_id : ++e->next_id;
	f->created = (uint32_t)(e->now - e->epoch);
	f->last_seen = e->now;
	f->in_addr = *ia;
	f->in_port = ip;
	f->out_addr = *oa;
	f->out_port = op;
	f->proto = proto;
	f->state = (uint8_t)state;
	if (dir == DIR_IN)
		f->flags |= FF_INIT_IN;
	return f;
}

/* A flow is in the table: count it, say so, arm its timer. */
static void flow_started(struct engine *e, struct flow *f, enum dir dir)
{
	e->active++;
	e->st.flows_created++;
	if (e->ops.event) {
		struct engine_event ev;
		struct pkt_tuple t;
		flow_event(e, f, EV_FLOW_NEW, &ev, &t);
		ev.dir = dir;
		emit(e, &ev);
	}
	flow_arm(e, f);
}

/*
 * Whether mapping m (maybe an existing endpoint-independent one) can carry a
 * flow to oa:op: its port's 5-tuple toward oa:op is not held by another
 * mapping sharing the port (nat.port_reuse = per-destination; GCP's
 * "endpoint-independent conflict": the connection fails). A record of an
 * unsolicited datagram holding it gives way (see docs/engine.md).
 */
static bool mapping_clear_to(struct engine *e, struct mapping *m, const union addr *oa, uint16_t op)
{
	struct flow *f = lookup_b(e, m->proto, m->out_port, oa, op);

	if (f && f->kind == FK_LOCAL)
		flow_free(e, f);
	else if (f && f->mapping != (uint32_t)(m - e->maps) + 1)
		return false;
	return true;
}

/* Create a flow for packet p. For DIR_OUT, inside = source; for DIR_IN,
 * inside = destination. Returns NULL and sets *reason when it cannot. */
static struct flow *flow_create(struct engine *e, const struct pkt *p, enum dir dir,
				bool nat, struct mapping *inbound_map, unsigned state,
				enum drop_reason *reason)
{
	struct flow *f;
	struct mapping *m = NULL;
	bool icmp = p->t.proto == IPPROTO_ICMP || p->t.proto == IPPROTO_ICMPV6;
	union addr ia = dir == DIR_OUT ? p->t.src : p->t.dst;
	uint16_t ip = dir == DIR_OUT ? p->t.sport : p->t.dport;
	const union addr *oa = dir == DIR_OUT ? &p->t.dst : &p->t.src;
	uint16_t op = icmp ? 0 : dir == DIR_OUT ? p->t.dport : p->t.sport;

	if (!table_room(e, hash_key(e, &ia, ip, oa, op, p->t.proto) & e->bucket_mask)) {
		*reason = DROP_TABLE_FULL;
		return NULL;
	}
	if (nat) {
		if (inbound_map && !inbound_map->used) {
			/* the room was made by evicting the mapping's last flow */
			*reason = DROP_FILTERED;
			return NULL;
		}
		if (inbound_map) {
			m = inbound_map;
			ia = m->in_addr;
			ip = m->in_port;
		} else {
			if (!limits_allow(e, p->t.proto, &ia, oa, op) ||
			    !(m = map_get(e, p->t.proto, &ia, ip, oa, op))) {
				*reason = DROP_NO_PORT;
				return NULL;
			}
			if (!mapping_clear_to(e, m, oa, op)) {
				/* only a mapping in use can clash (a new one got a
				 * port that fits); keep the books right anyway */
				if (!m->refs) {
					m->refs = 1;
					map_put(e, (uint32_t)(m - e->maps) + 1, e->now);
				}
				*reason = DROP_NO_PORT;
				return NULL;
			}
		}
	}
	f = flow_init(e, p->t.proto, &ia, ip, oa, op, state, dir);
	hash_link(e, f, 0);
	if (m) {
		f->flags |= FF_NAT;
		f->nat_port = m->out_port;
		f->mapping = (uint32_t)(m - e->maps) + 1;
		f->mnext = m->flows;
		m->flows = flow_slot(e, f);
		m->refs++;
		hash_link(e, f, 1);
		if (!inbound_map)
			limits_count(e, f);
	}
	flow_started(e, f, dir);
	return f;
}

/*
 * Keep a record of a UDP datagram to nat.address that no mapping took
 * (inbound_unknown = pass), as conntrack does: an unreplied entry (the
 * box's ICMP port unreachable is no reply) for udp.unreplied, refreshed by
 * further datagrams. It holds the 5-tuple nat.address:port <-> sender, so a
 * new mapping to that sender cannot get that port (get_unique_tuple(),
 * nf_nat_used_tuple()): the client comes back on a new port. Other
 * protocols leave nothing that clashes: a TCP entry whose only reply is the
 * box's RST is deleted at once (nf_conntrack_proto_tcp.c, "If only reply
 * is a RST ... delete the conntrack immediately"), and an ICMP echo entry's
 * tuples carry the ICMP type, so an outbound echo request never matches
 * them (both verified with kernel conntrack here, docs/engine.md). Returns
 * false when the table had no room (the packet is then dropped, as
 * conntrack drops it).
 */
static bool local_record(struct engine *e, const struct pkt *p, enum drop_reason *reason)
{
	struct flow *f;

	if (p->t.proto != IPPROTO_UDP)
		return true;
	if (!table_room(e, hash_key(e, &p->t.dst, p->t.dport, &p->t.src, p->t.sport, p->t.proto) &
			   e->bucket_mask)) {
		*reason = DROP_TABLE_FULL;
		return false;
	}
	f = flow_init(e, p->t.proto, &p->t.dst, p->t.dport, &p->t.src, p->t.sport, UDP_UNREPLIED,
		      DIR_IN);
	f->kind = FK_LOCAL;
	f->nat_port = p->t.dport;
	f->pkts[DIR_IN] = 1;
	hash_link(e, f, 1);
	flow_started(e, f, DIR_IN);
	return true;
}

/* ---- per-packet work ---- */

static bool is_data(const struct pkt *p)
{
	if (p->t.proto != IPPROTO_TCP)
		return true;
	return p->payload_len > 0 || (p->tcp_flags & (TCPF_SYN | TCPF_FIN | TCPF_RST));
}

/*
 * A keepalive probe (as Wireshark's tcp.analysis.keep_alive): only ACK set,
 * 0 or 1 byte, seq one below the next expected, and not a look-alike: the
 * peer has acknowledged everything (a retransmission of unacknowledged data
 * is not a keepalive) and has not closed its window (then it is a
 * zero-window probe).
 */
static bool is_keepalive(const struct flow *f, const struct pkt *p, enum dir d)
{
	unsigned seen = d == DIR_OUT ? FF_SEEN_OUT : FF_SEEN_IN;
	unsigned peer_seen = d == DIR_OUT ? FF_SEEN_IN : FF_SEEN_OUT;
	unsigned peer_win0 = d == DIR_OUT ? FF_WIN0_IN : FF_WIN0_OUT;

	return (p->tcp_flags & (TCPF_SYN | TCPF_FIN | TCPF_RST | TCPF_ACK)) == TCPF_ACK &&
	       p->payload_len <= 1 && (f->flags & seen) && (f->flags & peer_seen) &&
	       p->seq == f->td_end[d] - 1 && f->td_ack[!d] == f->td_end[d] &&
	       !(f->flags & peer_win0);
}

static inline uint32_t seg_end(const struct pkt *p)
{
	return p->seq + p->payload_len + !!(p->tcp_flags & TCPF_SYN) + !!(p->tcp_flags & TCPF_FIN);
}

/* The first segment seen from side d: its window data, as conntrack sets
 * them up (from a SYN, or mid-stream from whatever the segment says). */
static void tcp_window_init(struct flow *f, const struct pkt *p, enum dir d)
{
	enum dir r = (enum dir)!d;
	uint32_t end = seg_end(p), win;

	if (p->tcp_flags & TCPF_SYN) {
		f->td_end[d] = f->td_maxend[d] = end;
		f->td_maxwin[d] = p->win ? p->win : 1;
		if (p->wscale != 0xff) {
			f->td_scale[d] = p->wscale;
			f->td_flags[d] |= TDF_WSCALE;
		}
		/* RFC 7323: scaling only when both SYNs offered it, which the
		 * second one (the other side was seen) settles */
		if (f->td_maxwin[r] && !(f->td_flags[d] & f->td_flags[r] & TDF_WSCALE))
			f->td_scale[d] = f->td_scale[r] = 0;
		return;
	}
	win = (uint32_t)p->win << f->td_scale[d];
	f->td_end[d] = end;
	f->td_maxwin[d] = win ? win : 1;
	f->td_maxend[d] = end + f->td_maxwin[d];
	if (!f->td_maxwin[r]) {
		/* nothing seen the other way yet: take its position from the ack */
		f->td_end[r] = f->td_maxend[r] = p->ack;
	} else if (p->ack == f->td_end[r] + 1) {
		f->td_end[r]++;         /* likely the answer to a keepalive */
	}
}

/*
 * Whether segment p from side d lies within the connection's window, as
 * conntrack's tcp_in_window() decides: its sequence number no further than
 * the receiver's window allows (td_maxend), its end no further back than
 * the receiver's largest window (td_maxwin), its ack no further than what
 * the receiver sent and not far behind it. A segment in the window updates
 * them. O(1).
 */
static bool tcp_in_window(struct flow *f, const struct pkt *p, enum dir d)
{
	enum dir r = (enum dir)!d;
	uint8_t fl = p->tcp_flags;
	uint32_t seq = p->seq, end = seg_end(p), ack = p->ack, win, ackwin;
	bool in_recv_win;

	if (!f->td_maxwin[d]) {
		tcp_window_init(f, p, d);
		if ((fl & TCPF_SYN) && !(fl & TCPF_ACK))
			return true;
	}
	if (!(fl & TCPF_ACK) || ((fl & TCPF_RST) && ack == 0))
		ack = f->td_end[r];     /* no ack: as if it acknowledged everything */
	if ((fl & TCPF_RST) && seq == 0 && f->state == TCP_SYN_SENT)
		seq = end = f->td_end[d];       /* a RST answering a SYN */
	ackwin = f->td_maxwin[d] ? f->td_maxwin[d] : 66000;
	in_recv_win = !f->td_maxwin[r] || seq_after(end, f->td_end[d] - f->td_maxwin[r] - 1);
	if (seq_after(seq, f->td_maxend[d]) || !in_recv_win ||
	    seq_after(ack, f->td_end[r]) || !seq_after(ack, f->td_end[r] - ackwin - 1))
		return false;
	win = (fl & TCPF_SYN) ? p->win : (uint32_t)p->win << f->td_scale[d];
	if (f->td_maxwin[d] < win)
		f->td_maxwin[d] = win;
	if (seq_after(end, f->td_end[d]))
		f->td_end[d] = end;
	if (f->td_maxwin[r] && seq_after(end, f->td_maxend[d]))
		f->td_maxwin[r] += end - f->td_maxend[d];
	if (seq_after(ack + win, f->td_maxend[r] - 1))
		f->td_maxend[r] = ack + win + !win;
	return true;
}

/*
 * Whether a RST within the window closes the flow. As conntrack: not one
 * below what its receiver has acknowledged (an old segment); on an
 * established connection only one at exactly the receiver's next expected
 * sequence number. For another, an RFC 5961 receiver answers with a
 * challenge ACK and the connection goes on; the sender's next RST, at the
 * acknowledged number, closes it.
 */
static bool tcp_rst_closes(const struct flow *f, const struct pkt *p, enum dir d)
{
	enum dir r = (enum dir)!d;

	if (!(f->td_flags[r] & TDF_ACKED))
		return true;
	if (seq_after(f->td_ack[r], p->seq))
		return false;
	return f->state != TCP_ESTABLISHED || p->seq == f->td_ack[r];
}

/* TCP state from segment p. Returns false for a segment the tracking
 * ignores (outside the window with tcp.rst_check = window, as conntrack
 * ignores it): it changes no state and does not refresh the flow. */
static bool tcp_track(struct engine *e, struct flow *f, const struct pkt *p, enum dir d)
{
	uint8_t fl = p->tcp_flags;
	enum dir init = (f->flags & FF_INIT_IN) ? DIR_IN : DIR_OUT;
	unsigned seen = d == DIR_OUT ? FF_SEEN_OUT : FF_SEEN_IN;
	unsigned win0 = d == DIR_OUT ? FF_WIN0_OUT : FF_WIN0_IN;
	unsigned fin = d == DIR_OUT ? FF_FIN_OUT : FF_FIN_IN;
	uint32_t end = seg_end(p);
	bool check = e->pol.rst_check == RST_CHECK_WINDOW;

	if (!tcp_in_window(f, p, d) && check)
		return false;
	if (fl & TCPF_RST) {
		if (!check || tcp_rst_closes(f, p, d))
			set_state(e, f, TCP_CLOSE);
		return true;
	}
	if (!(f->flags & seen) || seq_after(end, f->td_end[d]))
		f->td_end[d] = end;
	f->flags |= seen;
	if (fl & TCPF_ACK) {
		f->td_ack[d] = p->ack;
		f->td_flags[d] |= TDF_ACKED;
	}
	if (p->win == 0 && !(fl & TCPF_SYN))
		f->flags |= win0;
	else
		f->flags &= (uint8_t)~win0;

	switch (f->state) {
	case TCP_SYN_SENT:
		if (d != init && (fl & TCPF_SYN) && (fl & TCPF_ACK))
			set_state(e, f, TCP_SYN_RECV);
		break;
	case TCP_SYN_RECV:
		if (d == init && (fl & TCPF_ACK) && !(fl & TCPF_SYN))
			set_state(e, f, TCP_ESTABLISHED);
		break;
	case TCP_ESTABLISHED:
		if (fl & TCPF_FIN) {
			f->flags |= fin;
			set_state(e, f, TCP_FIN_WAIT);
		}
		break;
	case TCP_FIN_WAIT:
	case TCP_CLOSE_WAIT:
		if ((fl & TCPF_FIN) && !(f->flags & fin)) {
			f->flags |= fin;
			set_state(e, f, TCP_LAST_ACK);
		} else if (f->state == TCP_FIN_WAIT && (fl & TCPF_ACK) && !(f->flags & fin) &&
			   p->ack == f->td_end[!d]) {
			set_state(e, f, TCP_CLOSE_WAIT);
		}
		break;
	case TCP_LAST_ACK:
		/* the ACK of the second FIN comes from the side that sent the first */
		if ((fl & TCPF_ACK) && !(fl & TCPF_FIN) && p->ack == f->td_end[!d])
			set_state(e, f, TCP_TIME_WAIT);
		break;
	default:
		break;
	}
	/* assured as conntrack: established with traffic seen both ways (the
	 * handshake's ACK, or an answer to a picked-up connection) */
	if (f->state == TCP_ESTABLISHED && (f->flags & FF_SEEN_OUT) && (f->flags & FF_SEEN_IN))
		f->assured = 1;
	return true;
}

/* Rewrite 4 bytes of address and 2 of port in place, fixing checksums. */
static void nat_rewrite(struct engine *e, uint8_t *data, const struct pkt *p, bool partial,
			bool src, const union addr *to_addr, uint16_t to_port)
{
	uint8_t *ip = data;
	uint8_t *l4 = data + p->l4_off;
	uint8_t *addr = ip + (src ? IPV4_OFF_SRC : IPV4_OFF_DST);
	uint8_t old[IPV4_ADDR_LEN];
	uint8_t *csum = NULL;
	bool udp = false;

	memcpy(old, addr, IPV4_ADDR_LEN);
	memcpy(addr, &to_addr->b[12], IPV4_ADDR_LEN);
	csum_replace(ip + IPV4_OFF_CSUM, old, addr, IPV4_ADDR_LEN, false, false, false);
	if (p->is_frag && p->frag_off)
		return;
	switch (p->t.proto) {
	case IPPROTO_TCP:
		if ((size_t)p->l4_off + TCP_OFF_CSUM + 2 <= p->caplen)
			csum = l4 + TCP_OFF_CSUM;
		break;
	case IPPROTO_UDP:
		if ((size_t)p->l4_off + UDP_HDR_LEN <= p->caplen)
			csum = l4 + UDP_OFF_CSUM;
		udp = true;
		break;
	case IPPROTO_ICMP:
		/* ICMP has no pseudo-header: only the identifier matters */
		if ((size_t)p->l4_off + ICMP_HDR_LEN <= p->caplen) {
			uint8_t oldid[2], newid[2] = { (uint8_t)(to_port >> 8), (uint8_t)to_port };
			memcpy(oldid, l4 + ICMP_OFF_ID, 2);
			memcpy(l4 + ICMP_OFF_ID, newid, 2);
			csum_replace(l4 + ICMP_OFF_CSUM, oldid, newid, 2, false, false, false);
		}
		return;
	default:
		return;
	}
	if (!csum)
		return;
	csum_replace(csum, old, addr, IPV4_ADDR_LEN, true, partial, udp);
	{
		/* TCP and UDP ports sit at the same offsets */
		uint8_t *port = l4 + (src ? TCP_OFF_SPORT : TCP_OFF_DPORT);
		uint8_t oldp[2], newp[2] = { (uint8_t)(to_port >> 8), (uint8_t)to_port };
		memcpy(oldp, port, 2);
		memcpy(port, newp, 2);
		csum_replace(csum, oldp, newp, 2, false, partial, udp);
	}
	e->st.rewritten++;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Replace the IPv4 address at ip + off, fixing the IPv4 header checksum. */
static void rewrite_addr4(uint8_t *ip, unsigned off, const union addr *to)
{
	uint8_t old[IPV4_ADDR_LEN];

	memcpy(old, ip + off, IPV4_ADDR_LEN);
	memcpy(ip + off, &to->b[12], IPV4_ADDR_LEN);
	csum_replace(ip + IPV4_OFF_CSUM, old, ip + off, IPV4_ADDR_LEN, false, false, false);
}

/* Recompute the ICMPv4 checksum over the whole message. */
static void icmp_recsum(uint8_t *data, const struct pkt *p)
{
	uint8_t *l4 = data + p->l4_off;
	size_t len = p->caplen - p->l4_off;
	uint16_t c;

	l4[ICMP_OFF_CSUM] = l4[ICMP_OFF_CSUM + 1] = 0;
	c = csum_fold(csum_partial_sum(l4, len, 0));
	memcpy(l4 + ICMP_OFF_CSUM, &c, 2);
}

/* An ICMP error belongs to the flow of the packet it quotes. */
static void process_icmp_error(struct engine *e, uint8_t *data, struct pkt *p,
			       enum dir dir, struct decision *d)
{
	const struct pkt_tuple *in = &p->inner;
	bool icmp_inner = in->proto == IPPROTO_ICMP || in->proto == IPPROTO_ICMPV6;
	bool to_nat = e->pol.nat == NAT_SNAT && p->t.family == 4 && dir == DIR_IN &&
		      addr_eq(&p->t.dst, &e->pol.nat_addr);
	struct flow *f = NULL;

	if (!p->inner_ok) {
		if (to_nat) {
			d->verdict = VERDICT_DROP;
			d->reason = DROP_INVALID;
		}
		return;
	}
	if (to_nat) {
		/* quoted: nat.address:nat_port -> outside */
		f = lookup_b(e, in->proto, in->sport, &in->dst, icmp_inner ? 0 : in->dport);
	} else if (dir == DIR_IN) {
		/* quoted: inside -> outside */
		f = lookup_a(e, in->proto, &in->src, in->sport, &in->dst, icmp_inner ? 0 : in->dport);
	} else {
		/* quoted: outside -> inside */
		f = lookup_a(e, in->proto, &in->dst, icmp_inner ? in->sport : in->dport,
			     &in->src, icmp_inner ? 0 : in->sport);
	}
	if (!f || f->state == FLOW_EXPIRED) {
		if (to_nat && e->pol.inbound_unknown != INBOUND_PASS) {
			d->verdict = VERDICT_DROP;
			d->reason = DROP_INBOUND_UNKNOWN;
		}
		return;
	}
	d->flow_id = f->id;
	f->pkts[dir]++;
	if (!(f->flags & FF_NAT) || p->caplen < p->wire_len)
		return;
	if (dir == DIR_IN) {
		/* outer destination and quoted source back to the inside view */
		uint8_t *inner_ip = data + p->inner_l3_off;
		uint8_t *inner_l4 = data + p->inner_l4_off;

		rewrite_addr4(data, IPV4_OFF_DST, &f->in_addr);
		rewrite_addr4(inner_ip, IPV4_OFF_SRC, &f->in_addr);
		/* the port (or an echo's identifier); the quoted transport
		 * checksum may be cut off and is not checked by receivers */
		if (!icmp_inner && p->inner_l4_caplen >= TCP_OFF_SPORT + 2)
			wr16(inner_l4 + TCP_OFF_SPORT, f->in_port);
		else if (icmp_inner && p->inner_l4_caplen >= ICMP_OFF_ID + 2)
			wr16(inner_l4 + ICMP_OFF_ID, f->in_port);
	} else {
		/* outbound error about an inbound packet: source -> nat.address */
		uint8_t *inner_ip = data + p->inner_l3_off;
		uint8_t *inner_l4 = data + p->inner_l4_off;

		rewrite_addr4(data, IPV4_OFF_SRC, &e->pol.nat_addr);
		rewrite_addr4(inner_ip, IPV4_OFF_DST, &e->pol.nat_addr);
		if (!icmp_inner && p->inner_l4_caplen >= TCP_OFF_DPORT + 2)
			wr16(inner_l4 + TCP_OFF_DPORT, f->nat_port);
	}
	icmp_recsum(data, p);
	d->rewritten = true;
	e->st.rewritten++;
}

/* A packet that found a tombstone: carry out the waiting on_expire action. */
static void hit_tombstone(struct engine *e, struct flow *f, const struct pkt *p,
			  enum dir dir, struct decision *d)
{
	d->verdict = VERDICT_DROP;
	d->reason = DROP_EXPIRED;
	d->flow_id = f->id;
	switch (f->action) {
	case EXPIRE_RST_INSIDE_ON_NEXT:
		if (dir != DIR_OUT)
			return;
		if (p->t.proto == IPPROTO_TCP)
			inject_rst_reply(e, p, dir, f);
		break;
	case EXPIRE_RST_NEXT_SENDER:
		if (p->t.proto == IPPROTO_TCP)
			inject_rst_reply(e, p, dir, f);
		break;
	case EXPIRE_ICMP_UNREACH:
		inject_unreach(e, p, dir, ICMP4_ADMIN_PROHIBITED, ICMP6_ADMIN_PROHIBITED, f);
		break;
	default:
		break;
	}
	flow_free(e, f);
}

static void drop(struct engine *e, struct decision *d, enum drop_reason r,
		 const struct pkt *p, enum dir dir)
{
	d->verdict = VERDICT_DROP;
	d->reason = r;
	if (e->ops.event && r != DROP_NONE) {
		struct engine_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.type = EV_DROP;
		ev.now = e->now;
		ev.flow_id = d->flow_id;
		ev.tuple = p ? &p->t : NULL;
		ev.dir = dir;
		ev.reason = r;
		emit(e, &ev);
	}
}

/* An inbound packet for which no flow exists. Returns a new flow, or NULL
 * when the decision is already made. */
static struct flow *inbound_unknown(struct engine *e, const struct pkt *p, bool to_nat,
				    struct decision *d, unsigned state)
{
	enum drop_reason reason = DROP_NONE;
	struct flow *f;

	if (to_nat) {
		/* a mapping may admit it (RFC 4787 filtering) */
		size_t pi = (size_t)proto_index(p->t.proto) * 65536 + p->t.dport;
		uint32_t s = e->port_owner[pi];
		if (s != NIL && e->pol.filtering != NAT_APD) {
			struct mapping *m = &e->maps[s - 1];
			bool ok = e->pol.filtering == NAT_EI;
			for (uint32_t fs = m->flows; !ok && fs != NIL; fs = slot_flow(e, fs)->mnext)
				ok = addr_eq(&slot_flow(e, fs)->out_addr, &p->t.src);
			if (ok) {
				f = flow_create(e, p, DIR_IN, true, m, state, &reason);
				if (!f)
					drop(e, d, reason, p, DIR_IN);
				return f;
			}
		}
		if (e->port_users[pi]) {
			drop(e, d, DROP_FILTERED, p, DIR_IN);
			return NULL;
		}
	}
	switch (e->pol.inbound_unknown) {
	case INBOUND_PASS:
		if (to_nat) {
			/* to the box's own stack, untouched; conntrack keeps a record */
			if (!local_record(e, p, &reason))
				drop(e, d, reason, p, DIR_IN);
			return NULL;
		}
		f = flow_create(e, p, DIR_IN, false, NULL, state, &reason);
		if (!f)
			drop(e, d, reason, p, DIR_IN);
		return f;
	case INBOUND_RST:
		if (p->t.proto == IPPROTO_TCP)
			inject_rst_reply(e, p, DIR_IN, NULL);
		else
			inject_unreach(e, p, DIR_IN, ICMP4_PORT_UNREACH, ICMP6_PORT_UNREACH, NULL);
		/* fallthrough */
	case INBOUND_DROP:
		drop(e, d, DROP_INBOUND_UNKNOWN, p, DIR_IN);
		return NULL;
	}
	return NULL;
}

/* One packet on its way through process(): what every step needs. */
struct pctx {
	uint8_t *data;
	struct pkt *p;
	enum dir dir;
	bool nat_v4;            /* the NAT translates this packet's family */
	bool to_nat;            /* inbound to nat.address: look up entry B */
	bool icmp;
	struct decision *d;
};

/* Outages and loss happen on the way in, before the box sees a packet.
 * Returns false when the packet is lost. */
static bool impair_in(struct engine *e, const struct pkt *p, int rc, enum dir dir,
		      struct decision *d)
{
	if (e->now < e->blackhole_until) {
		drop(e, d, DROP_BLACKHOLE, rc == 0 ? p : NULL, dir);
		return false;
	}
	if (e->pol.loss[dir] > 0 &&
	    (double)(splitmix(&e->rng[dir]) >> 11) * 0x1.0p-53 < e->pol.loss[dir]) {
		drop(e, d, DROP_LOSS, rc == 0 ? p : NULL, dir);
		return false;
	}
	d->delay_ms = e->pol.delay[dir];
	return true;
}

/* Whether the packet can belong to a flow: it parsed, its protocol is
 * tracked, it carries ports. What cannot passes a firewall and is dropped
 * by a NAT (a parse error by both). Returns false when that is decided. */
static bool trackable(struct engine *e, const struct pctx *c, int rc)
{
	if (rc == -PKT_EPROTO) {
		if (c->nat_v4)
			drop(e, c->d, DROP_INVALID, c->p, c->dir);
		return false;
	}
	if (rc < 0) {
		drop(e, c->d, DROP_PARSE, NULL, c->dir);
		return false;
	}
	if (c->p->is_frag && c->p->frag_off) {
		/* non-first fragments carry no ports: a NAT would need reassembly */
		if (c->nat_v4)
			drop(e, c->d, DROP_FRAGMENT, c->p, c->dir);
		return false;
	}
	return true;
}

static bool is_new_syn(const struct pkt *p)
{
	return p->t.proto == IPPROTO_TCP && (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
}

/*
 * The packet's live flow, or NULL. A flow past its deadline whose timer has
 * not fired yet is expired now (exact expiry). A tombstone carries out its
 * on_expire action on the packet (*decided), unless a SYN from the inside
 * replaces it; a closed connection gives way to a new SYN on its ports.
 */
static struct flow *flow_lookup_live(struct engine *e, const struct pctx *c, bool *decided)
{
	const struct pkt *p = c->p;
	uint16_t sport = c->icmp ? 0 : p->t.sport, dport = c->icmp ? 0 : p->t.dport;
	struct flow *f;

	*decided = false;
	if (c->to_nat)
		f = lookup_b(e, p->t.proto, p->t.dport, &p->t.src, sport);
	else if (c->dir == DIR_OUT)
		f = lookup_a(e, p->t.proto, &p->t.src, p->t.sport, &p->t.dst, dport);
	else
		f = lookup_a(e, p->t.proto, &p->t.dst, p->t.dport, &p->t.src, sport);
	if (f && flow_is_expired(e, f, e->now) && flow_expire(e, f))
		return NULL;
	if (f && f->state == FLOW_EXPIRED) {
		if (!(is_new_syn(p) && c->dir == DIR_OUT)) {
			hit_tombstone(e, f, p, c->dir, c->d);
			*decided = true;
			return NULL;
		}
		flow_free(e, f);
		return NULL;
	}
	if (f && (f->state == TCP_TIME_WAIT || f->state == TCP_CLOSE) && is_new_syn(p)) {
		flow_free(e, f);
		return NULL;
	}
	return f;
}

/* The state a flow opened by this packet starts in, or TCP_NONE if the
 * packet opens none (then the decision is made). */
static unsigned new_flow_state(struct engine *e, const struct pctx *c)
{
	const struct pkt *p = c->p;

	switch (p->t.proto) {
	case IPPROTO_TCP:
		if (p->tcp_flags & TCPF_RST) {
			if (c->nat_v4)
				drop(e, c->d, DROP_NO_FLOW, p, c->dir);
			return TCP_NONE;
		}
		if (is_new_syn(p))
			return TCP_SYN_SENT;
		if (e->pol.pickup_loose)
			return TCP_ESTABLISHED;
		drop(e, c->d, DROP_NO_FLOW, p, c->dir);
		return TCP_NONE;
	case IPPROTO_UDP:
		return UDP_UNREPLIED;
	default:
		/* only an echo request opens an ICMP flow */
		if (p->icmp_type == ICMP4_ECHO_REQUEST || p->icmp_type == ICMP6_ECHO_REQUEST)
			return ICMP_ACTIVE;
		if (c->nat_v4)
			drop(e, c->d, DROP_NO_FLOW, p, c->dir);
		return TCP_NONE;
	}
}

/* What nat.when_exhausted tells an inside host whose new connection got no
 * port: a RST to a TCP SYN (connection refused), ICMP port unreachable for
 * other protocols; or ICMP administratively prohibited; or nothing. */
static void exhausted_answer(struct engine *e, const struct pkt *p)
{
	switch (e->pol.when_exhausted) {
	case EXHAUSTED_RST:
		if (p->t.proto == IPPROTO_TCP)
			inject_rst_reply(e, p, DIR_OUT, NULL);
		else
			inject_unreach(e, p, DIR_OUT, ICMP4_PORT_UNREACH, ICMP6_PORT_UNREACH, NULL);
		break;
	case EXHAUSTED_ICMP:
		inject_unreach(e, p, DIR_OUT, ICMP4_ADMIN_PROHIBITED, ICMP6_ADMIN_PROHIBITED, NULL);
		break;
	case EXHAUSTED_DROP:
		break;
	}
}

/* A new flow for a packet that found none (SYN, loose pickup, UDP, echo
 * request; inbound ones as inbound_unknown and NAT filtering say), or NULL
 * when the decision is made. */
static struct flow *flow_open(struct engine *e, const struct pctx *c)
{
	enum drop_reason reason = DROP_NONE;
	unsigned state = new_flow_state(e, c);
	struct flow *f;

	if (state == TCP_NONE)
		return NULL;
	if (c->dir == DIR_IN)
		return inbound_unknown(e, c->p, c->to_nat, c->d, state);
	f = flow_create(e, c->p, DIR_OUT, c->nat_v4, NULL, state, &reason);
	if (!f) {
		drop(e, c->d, reason, c->p, c->dir);
		if (reason == DROP_NO_PORT)
			exhausted_answer(e, c->p);
	}
	return f;
}

static void count_keepalive(struct engine *e, struct flow *f, enum dir dir)
{
	f->keepalives[dir]++;
	e->st.keepalives++;
	if (e->ops.event) {
		struct engine_event ev;
		struct pkt_tuple t;

		flow_event(e, f, EV_KEEPALIVE, &ev, &t);
		ev.dir = dir;
		emit(e, &ev);
	}
}

/* Per-protocol state: TCP's state machine and keepalives, UDP's replied
 * and assured. Returns false for a TCP segment the tracking ignores. */
static bool flow_track(struct engine *e, struct flow *f, const struct pctx *c)
{
	const struct pkt *p = c->p;
	enum dir init = (f->flags & FF_INIT_IN) ? DIR_IN : DIR_OUT;

	c->d->flow_id = f->id;
	f->pkts[c->dir]++;
	switch (p->t.proto) {
	case IPPROTO_TCP:
		if (is_keepalive(f, p, c->dir))
			count_keepalive(e, f, c->dir);
		return tcp_track(e, f, p, c->dir);
	case IPPROTO_UDP:
		if (f->state == UDP_UNREPLIED && c->dir != init)
			set_state(e, f, UDP_REPLIED);
		else if (f->state == UDP_REPLIED &&
			 e->now - e->epoch >= f->created + e->pol.timeout[TO_UDP_STREAM]) {
			set_state(e, f, UDP_ASSURED);
			f->assured = 1;
		}
		break;
	default:
		break;
	}
	return true;
}

/* The idle timer restarts for the directions (and kinds of packet) the
 * policy's refresh says. */
static void flow_refresh(struct engine *e, struct flow *f, const struct pkt *p, enum dir dir)
{
	if (!(e->pol.refresh & (dir == DIR_OUT ? REFRESH_OUT : REFRESH_IN)))
		return;
	if ((e->pol.refresh & REFRESH_DATA_ONLY) && !is_data(p))
		return;
	f->last_seen = e->now;
	flow_arm(e, f);
}

/* Source NAT on the way out, back to the inside endpoint on the way in. */
static void flow_translate(struct engine *e, struct flow *f, const struct pctx *c)
{
	const struct pkt *p = c->p;

	if (!(f->flags & FF_NAT))
		return;
	if (p->caplen < p->wire_len && p->t.proto != IPPROTO_ICMP) {
		/* cannot fix a checksum over bytes we do not have */
		drop(e, c->d, DROP_INVALID, p, c->dir);
		return;
	}
	if (c->dir == DIR_OUT)
		nat_rewrite(e, c->data, p, p->csum_partial, true, &e->pol.nat_addr, f->nat_port);
	else
		nat_rewrite(e, c->data, p, p->csum_partial, false, &f->in_addr, f->in_port);
	c->d->rewritten = true;
}

/* The packet after parsing (rc is pkt_parse()'s result): impairment on the
 * way in, then the flow it belongs to (found, or opened), its state, its
 * idle timer, and NAT. Every step that decides the packet's fate fills *d. */
static void process(struct engine *e, uint8_t *data, struct pkt *p, int rc,
		    unsigned flags, enum dir dir, uint64_t now, struct decision *d)
{
	struct pctx c = { .data = data, .p = p, .dir = dir, .d = d };
	struct flow *f;
	bool decided;

	memset(d, 0, sizeof(*d));
	d->verdict = VERDICT_ACCEPT;
	if (now > e->now)
		e->now = now;
	e->cur = d;
	e->st.packets[dir]++;

	if (!impair_in(e, p, rc, dir, d))
		goto out;
	c.nat_v4 = e->pol.nat == NAT_SNAT && rc != -PKT_ETRUNC && rc != -PKT_EHDR &&
		   rc != -PKT_EVERSION && p->t.family == 4;
	if (!trackable(e, &c, rc))
		goto out;
	p->csum_partial = flags & ENGINE_PKT_CSUM_PARTIAL;
	c.to_nat = c.nat_v4 && dir == DIR_IN && addr_eq(&p->t.dst, &e->pol.nat_addr);
	c.icmp = p->t.proto == IPPROTO_ICMP || p->t.proto == IPPROTO_ICMPV6;
	if (c.icmp && p->icmp_error) {
		process_icmp_error(e, data, p, dir, d);
		if (d->verdict == VERDICT_DROP)
			drop(e, d, d->reason, p, dir);
		goto out;
	}
	f = flow_lookup_live(e, &c, &decided);
	if (!f && !decided)
		f = flow_open(e, &c);
	if (!f)
		goto out;
	if (flow_track(e, f, &c))
		flow_refresh(e, f, p, dir);
	flow_translate(e, f, &c);
out:
	if (d->verdict == VERDICT_ACCEPT)
		e->st.accepted++;
	else
		e->st.dropped[d->reason]++;
	e->cur = NULL;
}

void engine_process(struct engine *e, uint8_t *data, size_t caplen, size_t wire_len,
		    unsigned flags, enum dir dir, uint64_t now, struct decision *d)
{
	struct pkt p;
	int rc = pkt_parse(&p, data, caplen, wire_len);

	p.caplen = caplen;
	p.wire_len = wire_len;
	process(e, data, &p, rc, flags, dir, now, d);
}

/* The bucket a packet's flow lookup will start at, or NULL if it will not
 * look one up by its own tuple. */
static const uint32_t *lookup_bucket(const struct engine *e, const struct pkt *p, int rc,
				     enum dir dir)
{
	bool icmp = p->t.proto == IPPROTO_ICMP || p->t.proto == IPPROTO_ICMPV6;
	uint32_t h;

	if (rc != 0 || (p->is_frag && p->frag_off) || (icmp && p->icmp_error))
		return NULL;
	if (e->pol.nat == NAT_SNAT && p->t.family == 4 && dir == DIR_IN &&
	    addr_eq(&p->t.dst, &e->pol.nat_addr))
		h = hash_key(e, &e->pol.nat_addr, p->t.dport, &p->t.src, icmp ? 0 : p->t.sport, p->t.proto);
	else if (dir == DIR_OUT)
		h = hash_key(e, &p->t.src, p->t.sport, &p->t.dst, icmp ? 0 : p->t.dport, p->t.proto);
	else
		h = hash_key(e, &p->t.dst, p->t.dport, &p->t.src, icmp ? 0 : p->t.sport, p->t.proto);
	return &e->buckets[h & e->bucket_mask];
}

void engine_process_batch(struct engine *e, struct engine_pkt *v, size_t n, uint64_t now)
{
	/* Three passes so that the memory loads of different packets overlap:
	 * parse and prefetch each bucket, then prefetch each chain's first
	 * flow, then do the real work, whose loads now mostly hit the cache. */
	for (size_t i = 0; i < n; i++) {
		v[i].rc = pkt_parse(&v[i].p, v[i].data, v[i].caplen, v[i].wire_len);
		v[i].p.caplen = v[i].caplen;
		v[i].p.wire_len = v[i].wire_len;
		v[i].bucket = lookup_bucket(e, &v[i].p, v[i].rc, v[i].dir);
		if (v[i].bucket)
			__builtin_prefetch(v[i].bucket);
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].bucket && *v[i].bucket != NIL) {
			const struct flow *f = slot_flow(e, *v[i].bucket >> 1);
			__builtin_prefetch(f);
			__builtin_prefetch((const char *)f + 64);
			if (v[i].p.t.proto == IPPROTO_TCP)
				__builtin_prefetch((const char *)f + 128);
		}
	}
	for (size_t i = 0; i < n; i++)
		process(e, v[i].data, &v[i].p, v[i].rc, v[i].flags, v[i].dir, now, &v[i].d);
}

uint64_t engine_advance(struct engine *e, uint64_t now)
{
	uint64_t to;

	if (now > e->now)
		e->now = now;
	wheel_advance(e->wheel, e->now, timer_fire, e);
	to = wheel_timeout(e->wheel);
	if (e->blackhole_until > e->now && e->blackhole_until - e->now < to)
		to = e->blackhole_until - e->now;
	return to;
}

/* ---- construction and control ---- */

/*
 * Large zeroed tables. Flows are touched at random, so with 4 KiB pages
 * nearly every packet would also miss the TLB; ask for transparent huge
 * pages (a hint: without them this is plain calloc-like memory).
 */
static void *table_alloc(size_t n, size_t size)
{
	size_t len = n * size, align = 2u << 20;
	void *p;

	if (size && len / size != n)
		return NULL;
	if (len < align)
		return calloc(n, size);
	len = (len + align - 1) & ~(align - 1);
	p = aligned_alloc(align, len);
	if (!p)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, len, MADV_HUGEPAGE);
#endif
	memset(p, 0, len);
	return p;
}

struct engine *engine_new(const struct policy *p, const struct engine_ops *ops, uint64_t now)
{
	struct engine *e;
	uint32_t nb = 1;

	if (policy_validate(p, NULL, 0) < 0 || p->max_flows == 0 || p->max_flows > (1u << 26)) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto nomem;
	e->pol = *p;
	if (ops)
		e->ops = *ops;
	e->epoch = e->now = now;
	e->nflows = p->max_flows;
	while (nb < e->nflows)
		nb <<= 1;
	e->bucket_mask = nb - 1;
	e->hash_seed = splitmix(&(uint64_t){ p->seed ^ 0x6964676174650000ull });
	for (int i = 0; i < 3; i++)
		e->rng[i] = p->seed * 3 + (uint64_t)i;
	e->wheel = wheel_new(now);
	e->flows = table_alloc(e->nflows, sizeof(*e->flows));
	e->buckets = table_alloc(nb, sizeof(*e->buckets));
	if (!e->wheel || !e->flows || !e->buckets)
		goto nomem;
	for (uint32_t i = e->nflows; i >= 1; i--) {
		e->flows[i - 1].hnext[0] = e->free_head;
		e->free_head = i;
	}
	if (p->nat == NAT_SNAT) {
		e->maps = calloc(e->nflows, sizeof(*e->maps));
		e->map_buckets = calloc(nb, sizeof(*e->map_buckets));
		e->port_owner = calloc(3 * 65536, sizeof(*e->port_owner));
		e->port_users = calloc(3 * 65536, sizeof(*e->port_users));
		if (!e->maps || !e->map_buckets || !e->port_owner || !e->port_users)
			goto nomem;
		for (int pi = 0; pi < 3; pi++) {
			uint16_t lo, hi;
			port_bounds(e, pi, &lo, &hi);
			e->ports[pi] = portset_new(lo, hi, p->port_hold);
			if (!e->ports[pi])
				goto nomem;
		}
		if (p->ports_per_host || p->max_per_destination) {
			e->per_host = tally_new(e->nflows, e->hash_seed ^ 1);
			e->per_dest = tally_new(e->nflows, e->hash_seed ^ 2);
			if (!e->per_host || !e->per_dest)
				goto nomem;
		}
		for (uint32_t i = e->nflows; i >= 1; i--) {
			e->maps[i - 1].hnext = e->map_free;
			e->map_free = i;
		}
		e->next_port = p->port_min;
	}
	return e;
nomem:
	engine_free(e);
	errno = ENOMEM;
	return NULL;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	wheel_free(e->wheel);
	free(e->flows);
	free(e->buckets);
	free(e->maps);
	free(e->map_buckets);
	free(e->port_owner);
	free(e->port_users);
	for (int pi = 0; pi < 3; pi++)
		portset_free(e->ports[pi]);
	tally_free(e->per_host);
	tally_free(e->per_dest);
	free(e);
}

const struct policy *engine_policy(const struct engine *e)
{
	return &e->pol;
}

bool engine_needs_full_packets(const struct engine *e)
{
	return e->pol.nat == NAT_SNAT;
}

int engine_set(struct engine *e, const char *key, const char *value, char *err, size_t errlen)
{
	struct policy np = e->pol;

	if (!strcmp(key, "table.max_flows") || !strncmp(key, "nat", 3) ||
	    !strcmp(key, "seed")) {
		if (err)
			snprintf(err, errlen, "%s cannot be changed while running", key);
		errno = EPERM;
		return -1;
	}
	if (policy_set(&np, key, value, err, errlen) < 0 || policy_validate(&np, err, errlen) < 0)
		return -1;
	e->pol = np;
	/* timeouts may have shrunk: bring every timer forward as needed */
	for (uint32_t i = 0; i < e->nflows; i++) {
		struct flow *f = &e->flows[i];
		if (f->state == TCP_NONE || f->state == FLOW_EXPIRED)
			continue;
		wheel_cancel(e->wheel, &f->timer);
		flow_arm(e, f);
	}
	return 0;
}

void engine_flush(struct engine *e, uint64_t now)
{
	if (now > e->now)
		e->now = now;
	for (uint32_t i = 0; i < e->nflows; i++)
		if (e->flows[i].state != TCP_NONE)
			flow_free(e, &e->flows[i]);
	for (int pi = 0; pi < 3; pi++)
		if (e->ports[pi])
			portset_unhold(e->ports[pi]);
}

static struct flow *flow_by_id(const struct engine *e, uint32_t id)
{
	for (uint32_t i = 0; i < e->nflows; i++)
		if (e->flows[i].state != TCP_NONE && e->flows[i].id == id)
			return &e->flows[i];
	return NULL;
}

int engine_expire_flow(struct engine *e, uint32_t id, uint64_t now)
{
	struct flow *f = flow_by_id(e, id);

	if (!f) {
		errno = ENOENT;
		return -1;
	}
	if (now > e->now)
		e->now = now;
	flow_expire(e, f);
	return 0;
}

void engine_blackhole(struct engine *e, uint64_t until)
{
	e->blackhole_until = until;
}

static void flow_fill_info(const struct engine *e, const struct flow *f, struct flow_info *fi)
{
	memset(fi, 0, sizeof(*fi));
	fi->id = f->id;
	flow_tuple(e, f, &fi->tuple);
	fi->initiator = (f->flags & FF_INIT_IN) ? DIR_IN : DIR_OUT;
	fi->nat = f->flags & FF_NAT;
	if (fi->nat) {
		fi->nat_addr = e->pol.nat_addr;
		fi->nat_port = f->nat_port;
	}
	fi->state = f->state;
	fi->created = e->epoch + f->created;
	fi->last_seen = f->last_seen;
	fi->expires = flow_deadline(e, f);
	for (int d = 0; d < 2; d++) {
		fi->pkts[d] = f->pkts[d];
		fi->keepalives[d] = f->keepalives[d];
	}
}

void engine_foreach_flow(const struct engine *e,
			 void (*fn)(void *ctx, const struct flow_info *fi), void *ctx)
{
	struct flow_info fi;

	for (uint32_t i = 0; i < e->nflows; i++) {
		if (e->flows[i].state == TCP_NONE)
			continue;
		flow_fill_info(e, &e->flows[i], &fi);
		fn(ctx, &fi);
	}
}

int engine_flow_get(const struct engine *e, uint32_t id, struct flow_info *fi)
{
	const struct flow *f = flow_by_id(e, id);

	if (!f) {
		errno = ENOENT;
		return -1;
	}
	flow_fill_info(e, f, fi);
	return 0;
}

void engine_stats(const struct engine *e, struct engine_stats *st)
{
	size_t per = sizeof(struct flow), mem;

	*st = e->st;
	st->flows_active = e->active;
	st->flows_max = e->nflows;
	st->mappings_active = e->maps_active;
	mem = sizeof(*e) + (size_t)e->nflows * sizeof(struct flow) +
	      ((size_t)e->bucket_mask + 1) * sizeof(uint32_t);
	if (e->maps)
		mem += (size_t)e->nflows * sizeof(struct mapping) +
		       ((size_t)e->bucket_mask + 1) * sizeof(uint32_t) +
		       2 * 3 * 65536 * sizeof(uint32_t) + portset_memory(e->ports[0]) +
		       portset_memory(e->ports[1]) + portset_memory(e->ports[2]);
	if (e->per_host)
		mem += tally_memory(e->per_host) + tally_memory(e->per_dest);
	st->memory = mem;
	st->bytes_per_flow = e->nflows ? mem / e->nflows : per;
}
