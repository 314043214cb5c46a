// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Engine behaviour, knob by knob, with a fake clock: every timeout, refresh
 * rule, on_expire action, pickup mode, NAT port/mapping/filtering behaviour,
 * table limit, sweep vs exact expiry, keepalive recognition and impairment.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "simulator/nfq.h"
#include "simulator/engine/build.h"
#include "simulator/engine/engine.h"
#include "simulator/engine/proto.h"
#include "tests/unit/pktgen.h"

#define C4 "192.0.2.10"         /* inside client */
#define C4B "192.0.2.11"        /* another inside client */
#define S4 "203.0.113.5"        /* outside server */
#define S4B "203.0.113.6"       /* another outside host */
#define N4 "198.51.100.1"       /* NAT outside address */
#define C6 "2001:db8:1::10"
#define S6 "2001:db8:2::5"

#define MAXEV 256

struct cap {
	int n;
	struct { enum event_type type; uint32_t id; unsigned from, to; uint64_t now, idle;
		 char what[32]; enum dir dir; enum drop_reason reason; } ev[MAXEV];
	int ninj;
	struct { enum dir toward; size_t len; uint8_t b[BUILD_MAX]; } inj[16];
};

static struct cap cap;

static void on_event(void *ctx, const struct engine_event *ev)
{
	struct cap *c = ctx;

	if (c->n >= MAXEV)
		return;
	c->ev[c->n].type = ev->type;
	c->ev[c->n].id = ev->flow_id;
	c->ev[c->n].from = ev->state_from;
	c->ev[c->n].to = ev->state_to;
	c->ev[c->n].now = ev->now;
	c->ev[c->n].idle = ev->idle_ms;
	c->ev[c->n].dir = ev->dir;
	c->ev[c->n].reason = ev->reason;
	snprintf(c->ev[c->n].what, sizeof(c->ev[0].what), "%s", ev->what ? ev->what : "");
	c->n++;
}

static void on_inject(void *ctx, enum dir toward, const uint8_t *pkt, size_t len)
{
	struct cap *c = ctx;

	ck_assert_int_lt(c->ninj, 16);
	ck_assert_uint_le(len, BUILD_MAX);
	c->inj[c->ninj].toward = toward;
	c->inj[c->ninj].len = len;
	memcpy(c->inj[c->ninj].b, pkt, len);
	c->ninj++;
}

static struct policy pol;
static struct engine *eng;
static uint64_t T0 = 1000000;   /* fake clock origin: any value works */

static void setup(void)
{
	memset(&cap, 0, sizeof(cap));
	policy_init(&pol);
	pol.max_flows = 64;
	eng = NULL;
}

static void teardown(void)
{
	engine_free(eng);
}

static void start(void)
{
	struct engine_ops ops = { on_event, on_inject, &cap };

	eng = engine_new(&pol, &ops, T0);
	ck_assert_ptr_nonnull(eng);
}

static void set(const char *k, const char *v)
{
	char err[256];

	ck_assert_msg(policy_set(&pol, k, v, err, sizeof(err)) == 0, "%s", err);
}

static int count_ev(enum event_type t)
{
	int n = 0;

	for (int i = 0; i < cap.n; i++)
		n += cap.ev[i].type == t;
	return n;
}

/* Send packet g at time t (ms after T0) in direction dir; returns the
 * decision and leaves the (maybe rewritten) packet in last. */
static uint8_t last[1600];
static size_t last_len;

static struct decision send_at(uint64_t t, enum dir dir, const struct gen *g)
{
	struct decision d;

	last_len = gen_pkt(last, g);
	engine_process(eng, last, last_len, last_len, 0, dir, T0 + t, &d);
	return d;
}

/* A TCP connection between inside C and outside S, with sequence state. */
struct conn {
	const char *c, *s, *seen_s;     /* seen_s: where inbound packets are addressed */
	uint16_t cp, sp, np;            /* np: the client's port as the server sees it */
	uint32_t cseq, sseq;
};

static struct conn conn4(void)
{
	return (struct conn){ C4, S4, C4, 40000, 80, 40000, 1000, 5000 };
}

static struct decision c_send(struct conn *k, uint64_t t, uint8_t flags, size_t len)
{
	struct gen g = { k->c, k->s, k->cp, k->sp, IPPROTO_TCP, flags, k->cseq, k->sseq, 0, false, len, 0 };
	struct decision d = send_at(t, DIR_OUT, &g);
	struct pkt p;

	k->cseq += (uint32_t)len + !!(flags & TCPF_SYN) + !!(flags & TCPF_FIN);
	if (d.verdict == VERDICT_ACCEPT && pkt_parse(&p, last, last_len, last_len) == 0)
		k->np = p.t.sport;
	return d;
}

static struct decision s_send(struct conn *k, uint64_t t, uint8_t flags, size_t len)
{
	struct gen g = { k->s, k->seen_s, k->sp, k->np, IPPROTO_TCP, flags, k->sseq, k->cseq, 0, false, len, 0 };
	struct decision d = send_at(t, DIR_IN, &g);

	k->sseq += (uint32_t)len + !!(flags & TCPF_SYN) + !!(flags & TCPF_FIN);
	return d;
}

/* Keepalive probe from the client: seq one below the next, no payload. */
static struct decision c_keepalive(struct conn *k, uint64_t t, size_t len)
{
	struct gen g = { k->c, k->s, k->cp, k->sp, IPPROTO_TCP, TCPF_ACK, k->cseq - 1, k->sseq, 0, false, len, 0 };

	return send_at(t, DIR_OUT, &g);
}

static void handshake(struct conn *k, uint64_t t)
{
	ck_assert_int_eq(c_send(k, t, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(s_send(k, t, TCPF_SYN | TCPF_ACK, 0).verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(c_send(k, t, TCPF_ACK, 0).verdict, VERDICT_ACCEPT);
}

static unsigned flow_state(uint32_t id)
{
	struct flow_info fi;

	if (engine_flow_get(eng, id, &fi) < 0)
		return TCP_NONE;
	return fi.state;
}

static struct pkt parse_inj(int i)
{
	struct pkt p;

	ck_assert_int_lt(i, cap.ninj);
	ck_assert_int_eq(pkt_parse(&p, cap.inj[i].b, cap.inj[i].len, cap.inj[i].len), 0);
	ck_assert(gen_csum_ok(cap.inj[i].b, cap.inj[i].len));
	return p;
}

/* ---- state machine and timeouts ---- */

START_TEST(tcp_states_and_events)
{
	struct conn k = conn4();
	struct decision d;

	start();
	handshake(&k, 0);
	d = c_send(&k, 10, TCPF_ACK | TCPF_PSH, 100);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	ck_assert_int_eq(count_ev(EV_FLOW_NEW), 1);
	s_send(&k, 20, TCPF_ACK, 0);
	c_send(&k, 30, TCPF_FIN | TCPF_ACK, 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_FIN_WAIT);
	s_send(&k, 31, TCPF_ACK, 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_CLOSE_WAIT);
	s_send(&k, 32, TCPF_FIN | TCPF_ACK, 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_LAST_ACK);
	c_send(&k, 33, TCPF_ACK, 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_TIME_WAIT);
	/* time_wait lasts tcp.time_wait (120 s), then the entry goes quietly */
	engine_advance(eng, T0 + 33 + 120000 - 1);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_TIME_WAIT);
	engine_advance(eng, T0 + 33 + 120000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
	ck_assert_int_eq(count_ev(EV_FLOW_CLOSED), 1);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 0);
	ck_assert_int_eq(cap.ninj, 0);
}
END_TEST

START_TEST(rst_closes)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.close", "3s");
	start();
	handshake(&k, 0);
	d = s_send(&k, 5, TCPF_RST, 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_CLOSE);
	engine_advance(eng, T0 + 5 + 2999);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_CLOSE);
	engine_advance(eng, T0 + 5 + 3000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

/* Each TCP state expires after its own timeout, to the millisecond. */
START_TEST(per_state_timeouts)
{
	static const struct { const char *knob; int steps; unsigned state; } cases[] = {
		{ "tcp.syn_sent", 1, TCP_SYN_SENT },
		{ "tcp.syn_recv", 2, TCP_SYN_RECV },
		{ "tcp.established", 3, TCP_ESTABLISHED },
		{ "tcp.fin_wait", 4, TCP_FIN_WAIT },
		{ "tcp.close_wait", 5, TCP_CLOSE_WAIT },
		{ "tcp.last_ack", 6, TCP_LAST_ACK },
	};
	struct conn k = conn4();
	uint32_t id = 0;

	set(cases[_i].knob, "7s");
	start();
	for (int s = 1; s <= cases[_i].steps; s++) {
		struct decision d;
		switch (s) {
		case 1: d = c_send(&k, 0, TCPF_SYN, 0); break;
		case 2: d = s_send(&k, 0, TCPF_SYN | TCPF_ACK, 0); break;
		case 3: d = c_send(&k, 0, TCPF_ACK, 0); break;
		case 4: d = c_send(&k, 0, TCPF_FIN | TCPF_ACK, 0); break;
		case 5: d = s_send(&k, 0, TCPF_ACK, 0); break;
		default: d = s_send(&k, 0, TCPF_FIN | TCPF_ACK, 0); break;
		}
		id = d.flow_id;
	}
	ck_assert_uint_eq(flow_state(id), cases[_i].state);
	engine_advance(eng, T0 + 6999);
	ck_assert_uint_eq(flow_state(id), cases[_i].state);
	engine_advance(eng, T0 + 7000);
	ck_assert_uint_eq(flow_state(id), TCP_NONE);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 1);
	ck_assert_uint_eq(cap.ev[cap.n - 1].idle, 7000);
}
END_TEST

START_TEST(unacknowledged_timeout)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.established", "100s");
	set("tcp.unacknowledged", "10s");
	start();
	handshake(&k, 0);
	/* data the server never acknowledges */
	d = c_send(&k, 0, TCPF_ACK | TCPF_PSH, 500);
	engine_advance(eng, T0 + 9999);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	engine_advance(eng, T0 + 10000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

START_TEST(acknowledged_uses_established)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.established", "100s");
	set("tcp.unacknowledged", "10s");
	start();
	handshake(&k, 0);
	d = c_send(&k, 0, TCPF_ACK | TCPF_PSH, 500);
	s_send(&k, 1, TCPF_ACK, 0);
	engine_advance(eng, T0 + 50000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	engine_advance(eng, T0 + 100001);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

START_TEST(udp_unreplied_and_assured)
{
	struct gen out = { C4, S4, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 10, 0 };
	struct gen in = { S4, C4, 53, 5000, IPPROTO_UDP, 0, 0, 0, 0, false, 10, 0 };
	struct decision d;
	uint32_t id;

	set("udp.unreplied", "30s");
	set("udp.assured", "120s");
	start();
	/* unreplied: gone after 30 s */
	d = send_at(0, DIR_OUT, &out);
	id = d.flow_id;
	ck_assert_uint_eq(flow_state(id), UDP_UNREPLIED);
	engine_advance(eng, T0 + 30000);
	ck_assert_uint_eq(flow_state(id), TCP_NONE);

	/* a reply within 2 s still uses the unreplied timeout */
	d = send_at(40000, DIR_OUT, &out);
	id = d.flow_id;
	send_at(40500, DIR_IN, &in);
	ck_assert_uint_eq(flow_state(id), UDP_REPLIED);
	/* after 2 s, traffic makes it assured: 120 s */
	send_at(43000, DIR_OUT, &out);
	ck_assert_uint_eq(flow_state(id), UDP_ASSURED);
	engine_advance(eng, T0 + 43000 + 119999);
	ck_assert_uint_eq(flow_state(id), UDP_ASSURED);
	engine_advance(eng, T0 + 43000 + 120000);
	ck_assert_uint_eq(flow_state(id), TCP_NONE);
}
END_TEST

START_TEST(icmp_echo_timeout)
{
	struct gen req = { C4, S4, 77, 0, IPPROTO_ICMP, 0, 0, 0, 0, false, 8, 8 };
	struct gen rep = { S4, C4, 77, 0, IPPROTO_ICMP, 0, 0, 0, 0, false, 8, 0 };
	struct decision d;

	set("icmp", "5s");
	start();
	d = send_at(0, DIR_OUT, &req);
	ck_assert_uint_eq(flow_state(d.flow_id), ICMP_ACTIVE);
	ck_assert_uint_eq(send_at(10, DIR_IN, &rep).flow_id, d.flow_id);
	engine_advance(eng, T0 + 5009);
	ck_assert_uint_eq(flow_state(d.flow_id), ICMP_ACTIVE);
	engine_advance(eng, T0 + 5010);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

/* Exact expiry holds even when the caller's timer tick is late. */
START_TEST(exact_on_lookup)
{
	struct conn k = conn4();
	struct decision d1, d2;

	set("tcp.established", "5s");
	start();
	handshake(&k, 0);
	d1 = c_send(&k, 4999, TCPF_ACK, 1);
	ck_assert_uint_eq(count_ev(EV_FLOW_EXPIRED), 0);
	/* no engine_advance: the lookup itself sees the flow is due */
	d2 = c_send(&k, 4999 + 5000, TCPF_ACK, 1);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 1);
	ck_assert_uint_ne(d1.flow_id, d2.flow_id);   /* loose pickup made a new one */
}
END_TEST

START_TEST(sweep_expiry)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.established", "5s");
	set("expiry", "sweep");
	set("sweep_interval", "20s");
	start();
	handshake(&k, 0);
	/* idle 5 s..20 s: overdue but not yet swept, a packet keeps it */
	d = c_send(&k, 12000, TCPF_ACK, 1);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	/* idle since 12 s: due at 17 s, swept at 20 s */
	engine_advance(eng, T0 + 19999);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	engine_advance(eng, T0 + 20000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
	ck_assert_uint_eq(cap.ev[cap.n - 1].idle, 8000);
}
END_TEST

/* ---- refresh ---- */

START_TEST(refresh_outbound_only)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.established", "10s");
	set("refresh", "outbound");
	start();
	handshake(&k, 0);
	/* the server talks, the client is silent: the flow still dies at 10 s */
	d = s_send(&k, 5000, TCPF_ACK | TCPF_PSH, 10);
	s_send(&k, 9000, TCPF_ACK | TCPF_PSH, 10);
	engine_advance(eng, T0 + 10000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

START_TEST(refresh_inbound_only)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.established", "10s");
	set("refresh", "inbound");
	start();
	handshake(&k, 0);
	d = s_send(&k, 5000, TCPF_ACK | TCPF_PSH, 10);
	c_send(&k, 9000, TCPF_ACK | TCPF_PSH, 10);
	engine_advance(eng, T0 + 14999);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	engine_advance(eng, T0 + 15000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

START_TEST(refresh_any_keepalives_count)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.established", "10s");
	start();
	handshake(&k, 0);
	for (int t = 8000; t <= 40000; t += 8000) {
		d = c_keepalive(&k, (uint64_t)t, 0);
		ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
		s_send(&k, (uint64_t)t, TCPF_ACK, 0);
	}
	engine_advance(eng, T0 + 49999);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	engine_advance(eng, T0 + 50000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

START_TEST(refresh_data_only_ignores_keepalives)
{
	struct conn k = conn4();
	struct decision d;
	struct flow_info fi;

	set("tcp.established", "10s");
	set("refresh", "any,data-only");
	start();
	handshake(&k, 0);
	d = c_keepalive(&k, 8000, 0);
	s_send(&k, 8000, TCPF_ACK, 0);
	ck_assert_int_eq(engine_flow_get(eng, d.flow_id, &fi), 0);
	ck_assert_uint_eq(fi.keepalives[DIR_OUT], 1);
	engine_advance(eng, T0 + 10000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
	/* data does refresh */
	k = conn4();
	k.cp = 40001;
	handshake(&k, 20000);
	d = c_send(&k, 28000, TCPF_ACK | TCPF_PSH, 1);
	engine_advance(eng, T0 + 30000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	engine_advance(eng, T0 + 38000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
}
END_TEST

/* ---- keepalive recognition ---- */

START_TEST(keepalive_recognition)
{
	struct conn k = conn4();
	struct decision d;
	struct flow_info fi;
	struct gen g;

	start();
	handshake(&k, 0);
	c_send(&k, 1, TCPF_ACK | TCPF_PSH, 10);
	s_send(&k, 2, TCPF_ACK, 0);
	/* Linux style (0 bytes) and Windows style (1 byte) */
	d = c_keepalive(&k, 100, 0);
	c_keepalive(&k, 200, 1);
	ck_assert_int_eq(engine_flow_get(eng, d.flow_id, &fi), 0);
	ck_assert_uint_eq(fi.keepalives[DIR_OUT], 2);
	ck_assert_int_eq(count_ev(EV_KEEPALIVE), 2);
	/* the peer's reply to a keepalive is a plain ACK, not a keepalive */
	s_send(&k, 201, TCPF_ACK, 0);
	/* a 1-byte data segment, then its retransmission before the ACK:
	 * seq = next - 1 and 1 byte, but data is unacknowledged */
	c_send(&k, 300, TCPF_ACK | TCPF_PSH, 1);
	g = (struct gen){ k.c, k.s, k.cp, k.sp, IPPROTO_TCP, TCPF_ACK | TCPF_PSH, k.cseq - 1, k.sseq, 0, false, 1, 0 };
	g.flags = TCPF_ACK;
	send_at(500, DIR_OUT, &g);
	ck_assert_int_eq(engine_flow_get(eng, d.flow_id, &fi), 0);
	ck_assert_uint_eq(fi.keepalives[DIR_OUT], 2);
	s_send(&k, 501, TCPF_ACK, 0);
	/* a zero-window probe: the server closed its window */
	g = (struct gen){ k.s, k.seen_s, k.sp, k.np, IPPROTO_TCP, TCPF_ACK, k.sseq, k.cseq, 0, true, 0, 0 };
	send_at(600, DIR_IN, &g);
	c_keepalive(&k, 700, 0);
	ck_assert_int_eq(engine_flow_get(eng, d.flow_id, &fi), 0);
	ck_assert_uint_eq(fi.keepalives[DIR_OUT], 2);
	/* window open again: keepalives count again; data never counts */
	s_send(&k, 800, TCPF_ACK, 0);
	c_keepalive(&k, 900, 0);
	c_send(&k, 901, TCPF_ACK | TCPF_PSH, 5);
	ck_assert_int_eq(engine_flow_get(eng, d.flow_id, &fi), 0);
	ck_assert_uint_eq(fi.keepalives[DIR_OUT], 3);
	ck_assert_uint_eq(fi.keepalives[DIR_IN], 0);
}
END_TEST

/* ---- on_expire ---- */

static void expire_setup(const char *action, struct conn *k)
{
	set("tcp.established", "10s");
	set("on_expire", action);
	start();
	handshake(k, 0);
	c_send(k, 1, TCPF_ACK | TCPF_PSH, 10);
	s_send(k, 2, TCPF_ACK | TCPF_PSH, 20);
	c_send(k, 3, TCPF_ACK, 0);
	engine_advance(eng, T0 + 10003);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 1);
}

START_TEST(expire_drop_silent)
{
	struct conn k = conn4();
	struct decision d;

	expire_setup("drop", &k);
	ck_assert_int_eq(cap.ninj, 0);
	/* a server-first packet finds nothing: with loose pickup in a
	 * firewall it opens a new flow (Linux conntrack does the same) */
	d = s_send(&k, 20000, TCPF_ACK | TCPF_PSH, 5);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(count_ev(EV_FLOW_NEW), 2);
	ck_assert_int_eq(cap.ninj, 0);
}
END_TEST

START_TEST(expire_rst_inside_on_next)
{
	struct conn k = conn4();
	struct decision d;
	struct pkt p;

	expire_setup("rst-inside-on-next", &k);
	ck_assert_int_eq(cap.ninj, 0);
	/* the server sends: dropped silently */
	d = s_send(&k, 20000, TCPF_ACK | TCPF_PSH, 5);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_EXPIRED);
	ck_assert_int_eq(cap.ninj, 0);
	k.sseq -= 5;   /* it never arrived */
	/* the client sends: dropped, and RST to the client it will accept */
	d = c_send(&k, 30000, TCPF_ACK | TCPF_PSH, 7);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(cap.ninj, 1);
	ck_assert_int_eq(cap.inj[0].toward, DIR_IN);
	p = parse_inj(0);
	ck_assert(p.tcp_flags & TCPF_RST);
	ck_assert_uint_eq(p.t.sport, 80);
	ck_assert_uint_eq(p.t.dport, 40000);
	ck_assert_uint_eq(p.seq, k.sseq);      /* exactly the client's rcv_nxt */
}
END_TEST

/* The tombstone waits expired_hold for the next sender, then goes. */
START_TEST(expire_hold)
{
	struct conn k = conn4();
	struct decision d;

	set("expired_hold", "60s");
	set("pickup", "strict");
	expire_setup("rst-inside-on-next", &k);
	/* well past twice the idle timeout: still answered with a RST */
	d = c_send(&k, 10003 + 59999, TCPF_ACK | TCPF_PSH, 7);
	ck_assert_int_eq(d.reason, DROP_EXPIRED);
	ck_assert_int_eq(cap.ninj, 1);
	engine_free(eng);

	setup();
	k = conn4();
	set("expired_hold", "60s");
	set("pickup", "strict");
	expire_setup("rst-inside-on-next", &k);
	engine_advance(eng, T0 + 10003 + 60000);
	/* forgotten: strict pickup drops it silently */
	d = c_send(&k, 10003 + 60000, TCPF_ACK | TCPF_PSH, 7);
	ck_assert_int_eq(d.reason, DROP_NO_FLOW);
	ck_assert_int_eq(cap.ninj, 0);
}
END_TEST

START_TEST(expire_rst_next_sender)
{
	struct conn k = conn4();
	struct decision d;
	struct pkt p;

	expire_setup("rst-next-sender", &k);
	d = s_send(&k, 20000, TCPF_ACK | TCPF_PSH, 5);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(cap.ninj, 1);
	ck_assert_int_eq(cap.inj[0].toward, DIR_OUT);
	p = parse_inj(0);
	ck_assert(p.tcp_flags & TCPF_RST);
	ck_assert_uint_eq(p.t.dport, 80);
	ck_assert_uint_eq(p.seq, k.cseq);      /* the server's rcv_nxt */
}
END_TEST

START_TEST(expire_rst_both)
{
	struct conn k = conn4();
	struct pkt p;
	int to_in = -1, to_out = -1;

	expire_setup("rst-both-at-expiry", &k);
	ck_assert_int_eq(cap.ninj, 2);
	for (int i = 0; i < 2; i++) {
		if (cap.inj[i].toward == DIR_IN)
			to_in = i;
		else
			to_out = i;
	}
	ck_assert(to_in >= 0 && to_out >= 0);
	p = parse_inj(to_in);
	ck_assert(p.tcp_flags & TCPF_RST);
	ck_assert_uint_eq(p.seq, k.sseq);
	ck_assert_uint_eq(p.t.dport, 40000);
	p = parse_inj(to_out);
	ck_assert_uint_eq(p.seq, k.cseq);
	ck_assert_uint_eq(p.t.dport, 80);
}
END_TEST

START_TEST(expire_fin_inside)
{
	struct conn k = conn4();
	struct pkt p;

	expire_setup("fin-inside", &k);
	ck_assert_int_eq(cap.ninj, 1);
	ck_assert_int_eq(cap.inj[0].toward, DIR_IN);
	p = parse_inj(0);
	ck_assert_uint_eq(p.tcp_flags, TCPF_FIN | TCPF_ACK);
	ck_assert_uint_eq(p.seq, k.sseq);
	ck_assert_uint_eq(p.ack, k.cseq);
}
END_TEST

START_TEST(expire_icmp_unreachable)
{
	struct conn k = conn4();
	struct decision d;
	struct pkt p;

	expire_setup("icmp-unreachable", &k);
	ck_assert_int_eq(cap.ninj, 0);
	d = c_send(&k, 20000, TCPF_ACK | TCPF_PSH, 5);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(cap.ninj, 1);
	ck_assert_int_eq(cap.inj[0].toward, DIR_IN);
	p = parse_inj(0);
	ck_assert_uint_eq(p.t.proto, IPPROTO_ICMP);
	ck_assert_uint_eq(p.icmp_type, 3);
	ck_assert_uint_eq(p.icmp_code, 13);
	ck_assert(p.inner_ok);
	ck_assert_uint_eq(p.inner.sport, 40000);
	ck_assert_uint_eq(p.inner.dport, 80);
}
END_TEST

START_TEST(udp_expire_is_silent_with_rst_actions)
{
	struct gen out = { C4, S4, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 10, 0 };

	set("udp.unreplied", "5s");
	set("on_expire", "rst-both-at-expiry");
	start();
	send_at(0, DIR_OUT, &out);
	engine_advance(eng, T0 + 5000);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 1);
	ck_assert_int_eq(cap.ninj, 0);
}
END_TEST

/* ---- pickup ---- */

/* ---- RSTs within the window (RFC 5961, conntrack's tcp_in_window) ---- */

/* A segment from the server with a sequence number of our choosing; the
 * connection's own sequence numbers are left alone. */
static struct decision s_send_seq(struct conn *k, uint64_t t, uint8_t flags, uint32_t seq)
{
	struct gen g = { k->s, k->seen_s, k->sp, k->np, IPPROTO_TCP, flags, seq, k->cseq, 0, false, 0, 0 };

	return send_at(t, DIR_IN, &g);
}

static uint64_t flow_last_seen(uint32_t id)
{
	struct flow_info fi;

	ck_assert_int_eq(engine_flow_get(eng, id, &fi), 0);
	return fi.last_seen;
}

/* Not yet established: a RST anywhere in the window closes the flow. */
START_TEST(rst_in_window_closes)
{
	struct conn k = conn4();
	struct gen g;
	struct decision d;

	start();
	c_send(&k, 0, TCPF_SYN, 0);
	d = s_send(&k, 1, TCPF_SYN | TCPF_ACK, 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_SYN_RECV);
	/* from the client, 1000 bytes into the window the SYN-ACK opened */
	g = (struct gen){ k.c, k.s, k.cp, k.sp, IPPROTO_TCP, TCPF_RST, k.cseq + 1000, 0, 0, false, 0, 0 };
	d = send_at(2, DIR_OUT, &g);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_CLOSE);
}
END_TEST

/* An off-path RST (a random sequence number) changes nothing: the flow
 * stays established, its idle timer is not restarted, data goes on. */
START_TEST(rst_out_of_window_ignored)
{
	struct conn k = conn4();
	struct decision d;

	start();
	handshake(&k, 0);
	d = c_send(&k, 10, TCPF_ACK | TCPF_PSH, 100);
	s_send(&k, 11, TCPF_ACK, 0);
	d = s_send_seq(&k, 500, TCPF_RST, k.sseq + 0x40000000u);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	ck_assert_uint_eq(flow_last_seen(d.flow_id), T0 + 11);
	/* also with an ACK far from anything sent */
	d = s_send_seq(&k, 501, TCPF_RST | TCPF_ACK, k.sseq - 0x40000000u);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	ck_assert_int_eq(c_send(&k, 600, TCPF_ACK | TCPF_PSH, 50).verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(s_send(&k, 601, TCPF_ACK | TCPF_PSH, 50).verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	ck_assert_uint_eq(flow_last_seen(d.flow_id), T0 + 601);
	ck_assert_int_eq(count_ev(EV_FLOW_STATE), 2);  /* the handshake's only */
}
END_TEST

/* A RST at exactly the receiver's next expected sequence number closes an
 * established flow, with or without ACK. */
START_TEST(rst_exact_closes)
{
	for (int with_ack = 0; with_ack < 2; with_ack++) {
		struct conn k = conn4();
		struct decision d;

		k.cp = k.np = (uint16_t)(40000 + with_ack);
		if (!eng)
			start();
		handshake(&k, 0);
		c_send(&k, 10, TCPF_ACK | TCPF_PSH, 100);
		s_send(&k, 11, TCPF_ACK | TCPF_PSH, 20);
		c_send(&k, 12, TCPF_ACK, 0);
		d = s_send_seq(&k, 13, TCPF_RST | (with_ack ? TCPF_ACK : 0), k.sseq);
		ck_assert_uint_eq(flow_state(d.flow_id), TCP_CLOSE);
	}
}
END_TEST

/* In the window but not exact: the endpoint answers with a challenge ACK
 * (RFC 5961 3.2) and the flow survives; the RST that follows, at the
 * acknowledged number, closes it. A RST below what the receiver has
 * acknowledged is an old segment and ignored. */
START_TEST(rst_challenge_ack)
{
	struct conn k = conn4();
	struct decision d;

	start();
	handshake(&k, 0);
	c_send(&k, 10, TCPF_ACK | TCPF_PSH, 100);
	s_send(&k, 11, TCPF_ACK | TCPF_PSH, 20);
	c_send(&k, 12, TCPF_ACK, 0);
	d = s_send_seq(&k, 20, TCPF_RST, k.sseq + 3000);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	d = s_send_seq(&k, 21, TCPF_RST, k.sseq - 10);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	/* the challenge ACK from the client, then the peer's exact RST */
	ck_assert_int_eq(c_send(&k, 22, TCPF_ACK, 0).verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	d = s_send_seq(&k, 23, TCPF_RST, k.sseq);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_CLOSE);
}
END_TEST

/* tcp.rst_check = any: every RST closes, as on devices that do not track
 * windows. */
START_TEST(rst_check_any)
{
	struct conn k = conn4();
	struct decision d;

	set("tcp.rst_check", "any");
	start();
	handshake(&k, 0);
	c_send(&k, 10, TCPF_ACK | TCPF_PSH, 100);
	d = s_send_seq(&k, 20, TCPF_RST, k.sseq + 0x40000000u);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_CLOSE);
}
END_TEST

/* A SYN (or SYN-ACK) from k with the window-scale option `shift`. */
static struct decision syn_wscale(struct conn *k, uint64_t t, bool server, uint8_t shift)
{
	struct gen g = { k->c, k->s, k->cp, k->sp, IPPROTO_TCP, TCPF_SYN, k->cseq, 0, 0, false, 4, 0 };
	struct decision d;
	uint8_t *l4 = last + 20;

	if (server)
		g = (struct gen){ k->s, k->seen_s, k->sp, k->np, IPPROTO_TCP, TCPF_SYN | TCPF_ACK,
				  k->sseq, k->cseq, 0, false, 4, 0 };
	last_len = gen_pkt(last, &g);
	/* the 4 payload bytes become options: NOP, window scale */
	l4[12] = 6 << 4;
	l4[20] = 1;
	l4[21] = 3;
	l4[22] = 3;
	l4[23] = shift;
	engine_process(eng, last, last_len, last_len, 0, server ? DIR_IN : DIR_OUT, T0 + t, &d);
	if (server)
		k->sseq++;
	else
		k->cseq++;
	return d;
}

/* Windows are scaled as both SYNs agreed (RFC 7323): with a small window
 * field, a RST 10000 bytes ahead is in the window only when scaled. */
START_TEST(rst_window_scaling)
{
	for (int both = 0; both < 2; both++) {
		struct conn k = conn4();
		struct gen g;
		struct decision d;

		k.cp = k.np = (uint16_t)(41000 + both);
		if (!eng)
			start();
		syn_wscale(&k, 0, false, 7);
		if (both)
			syn_wscale(&k, 1, true, 7);
		else
			ck_assert_int_eq(s_send(&k, 1, TCPF_SYN | TCPF_ACK, 0).verdict, VERDICT_ACCEPT);
		/* the client advertises 512 (x128 = 65536 when scaled) */
		g = (struct gen){ k.c, k.s, k.cp, k.sp, IPPROTO_TCP, TCPF_ACK, k.cseq,
				  k.sseq, 512, false, 0, 0 };
		send_at(2, DIR_OUT, &g);
		g.flags = TCPF_ACK | TCPF_FIN;
		d = send_at(2, DIR_OUT, &g);
		k.cseq++;
		ck_assert_uint_eq(flow_state(d.flow_id), TCP_FIN_WAIT);
		d = s_send_seq(&k, 3, TCPF_RST, k.sseq + 10000);
		ck_assert_uint_eq(flow_state(d.flow_id), both ? TCP_CLOSE : TCP_FIN_WAIT);
	}
}
END_TEST

START_TEST(pickup_strict_and_loose)
{
	struct conn k = conn4();
	struct decision d;

	set("pickup", "strict");
	start();
	d = c_send(&k, 0, TCPF_ACK | TCPF_PSH, 10);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_NO_FLOW);
	ck_assert_int_eq(count_ev(EV_DROP), 1);
	engine_free(eng);

	setup();
	set("pickup", "loose");
	start();
	d = c_send(&k, 0, TCPF_ACK | TCPF_PSH, 10);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
}
END_TEST

START_TEST(inbound_unknown_modes)
{
	struct conn k = conn4();
	struct decision d;
	struct pkt p;

	set("inbound_unknown", "drop");
	start();
	d = s_send(&k, 0, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_INBOUND_UNKNOWN);
	engine_free(eng);

	setup();
	set("inbound_unknown", "rst");
	start();
	k = conn4();
	d = s_send(&k, 0, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(cap.ninj, 1);
	p = parse_inj(0);
	ck_assert_uint_eq(p.tcp_flags, TCPF_RST | TCPF_ACK);
	ck_assert_uint_eq(p.ack, k.sseq);
	ck_assert_int_eq(cap.inj[0].toward, DIR_OUT);
}
END_TEST

/* ---- NAT ---- */

static void nat_setup(const char *ports)
{
	set("nat", "snat");
	set("nat.address", N4);
	set("nat.ports", ports);
	set("nat.port_range", "20000-20009");
}

static struct conn nat_conn(const char *c, uint16_t cp, const char *s, uint16_t sp)
{
	return (struct conn){ c, s, N4, cp, sp, 0, 1000, 5000 };
}

START_TEST(nat_rewrites_both_ways)
{
	struct conn k;
	struct decision d;
	struct pkt p;

	nat_setup("sequential");
	start();
	k = nat_conn(C4, 40000, S4, 80);
	d = c_send(&k, 0, TCPF_SYN, 0);
	ck_assert(d.rewritten);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	char buf[64];
	ck_assert_str_eq(addr_format(&p.t.src, buf, sizeof(buf)), N4);
	ck_assert_uint_eq(p.t.sport, 20000);
	ck_assert(gen_csum_ok(last, last_len));
	d = s_send(&k, 1, TCPF_SYN | TCPF_ACK, 0);
	ck_assert(d.rewritten);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_str_eq(addr_format(&p.t.dst, buf, sizeof(buf)), C4);
	ck_assert_uint_eq(p.t.dport, 40000);
	ck_assert(gen_csum_ok(last, last_len));
	c_send(&k, 2, TCPF_ACK, 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_ESTABLISHED);
	/* UDP and ICMP echo too */
	struct gen u = { C4, S4, 5353, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 33, 0 };
	d = send_at(3, DIR_OUT, &u);
	ck_assert(d.rewritten);
	ck_assert(gen_csum_ok(last, last_len));
	struct gen ping = { C4, S4, 99, 0, IPPROTO_ICMP, 0, 0, 0, 0, false, 16, 8 };
	d = send_at(4, DIR_OUT, &ping);
	ck_assert(gen_csum_ok(last, last_len));
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_str_eq(addr_format(&p.t.src, buf, sizeof(buf)), N4);
	struct gen pong = { S4, N4, p.t.sport, 0, IPPROTO_ICMP, 0, 0, 0, 0, false, 16, 0 };
	d = send_at(5, DIR_IN, &pong);
	ck_assert(d.rewritten);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_str_eq(addr_format(&p.t.dst, buf, sizeof(buf)), C4);
	ck_assert_uint_eq(p.t.sport, 99);
	ck_assert(gen_csum_ok(last, last_len));
}
END_TEST

START_TEST(nat_partial_checksum)
{
	struct gen g = { C4, S4, 40000, 80, IPPROTO_TCP, TCPF_SYN, 1, 0, 0, false, 100, 0 };
	uint8_t b[1600];
	size_t len = gen_pkt(b, &g);
	struct decision d;
	uint32_t sum;

	nat_setup("sequential");
	start();
	/* as queued with offload pending: the field holds the pseudo-header
	 * sum only (not inverted) */
	{
		uint8_t ph[12] = { 0 };
		uint16_t be;
		memcpy(ph, b + 12, 8);
		ph[9] = IPPROTO_TCP;
		gen_wr16(ph + 10, (uint16_t)(len - 20));
		sum = csum_partial_sum(ph, sizeof(ph), 0);
		be = (uint16_t)~csum_fold(sum);
		memcpy(b + 36, &be, 2);
	}
	engine_process(eng, b, len, len, ENGINE_PKT_CSUM_PARTIAL, DIR_OUT, T0, &d);
	ck_assert(d.rewritten);
	/* the device would now sum the TCP segment over the stored value */
	uint16_t fin = csum_fold(csum_partial_sum(b + 20, len - 20, 0));
	memcpy(b + 36, &fin, 2);
	ck_assert(gen_csum_ok(b, len));
}
END_TEST

START_TEST(nat_ports_preserve_and_conflict)
{
	struct conn a, b;
	struct pkt p;

	nat_setup("preserve");
	set("nat.port_range", "1024-65535");
	start();
	a = nat_conn(C4, 40000, S4, 80);
	c_send(&a, 0, TCPF_SYN, 0);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_eq(p.t.sport, 40000);
	/* another host with the same port cannot have it */
	b = nat_conn(C4B, 40000, S4, 80);
	c_send(&b, 0, TCPF_SYN, 0);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_ne(p.t.sport, 40000);
}
END_TEST

START_TEST(nat_ports_sequential_random_exhausted)
{
	struct pkt p;
	uint16_t seen[10];

	nat_setup("sequential");
	start();
	for (int i = 0; i < 10; i++) {
		struct conn k = nat_conn(C4, (uint16_t)(30000 + i), S4, 80);
		c_send(&k, 0, TCPF_SYN, 0);
		ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
		ck_assert_uint_eq(p.t.sport, 20000 + i);
	}
	struct conn k = nat_conn(C4, 31000, S4, 80);
	struct decision d = c_send(&k, 0, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_NO_PORT);
	engine_free(eng);

	/* random: within range, all distinct, and the same with the same seed */
	for (int run = 0; run < 2; run++) {
		setup();
		nat_setup("random");
		set("seed", "42");
		start();
		for (int i = 0; i < 10; i++) {
			struct conn r = nat_conn(C4, (uint16_t)(30000 + i), S4, 80);
			c_send(&r, 0, TCPF_SYN, 0);
			ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
			ck_assert(p.t.sport >= 20000 && p.t.sport <= 20009);
			if (run == 0)
				seen[i] = p.t.sport;
			else
				ck_assert_uint_eq(seen[i], p.t.sport);
			for (int j = 0; j < i && run == 0; j++)
				ck_assert_uint_ne(seen[j], seen[i]);
		}
		if (run == 0)
			engine_free(eng);
	}
}
END_TEST

static uint16_t out_port_for(const char *c, uint16_t cp, const char *s, uint16_t sp)
{
	struct gen g = { c, s, cp, sp, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	struct pkt p;

	ck_assert_int_eq(send_at(0, DIR_OUT, &g).verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	return p.t.sport;
}

START_TEST(nat_mapping_behaviours)
{
	static const char *const m[] = { "endpoint-independent", "address-dependent",
					 "address-and-port-dependent" };
	uint16_t a, b, c;

	nat_setup("sequential");
	set("nat.mapping", m[_i]);
	start();
	a = out_port_for(C4, 5000, S4, 53);
	b = out_port_for(C4, 5000, S4, 54);    /* same host, other port */
	c = out_port_for(C4, 5000, S4B, 53);   /* other host */
	switch (_i) {
	case 0: ck_assert(a == b && b == c); break;
	case 1: ck_assert(a == b && a != c); break;
	default: ck_assert(a != b && a != c && b != c); break;
	}
}
END_TEST

START_TEST(nat_filtering_behaviours)
{
	static const char *const f[] = { "endpoint-independent", "address-dependent",
					 "address-and-port-dependent" };
	struct decision same_host_other_port, other_host;
	uint16_t port;

	nat_setup("sequential");
	set("nat.filtering", f[_i]);
	set("inbound_unknown", "drop");
	start();
	port = out_port_for(C4, 5000, S4, 53);
	struct gen g1 = { S4, N4, 54, port, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	struct gen g2 = { S4B, N4, 53, port, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	same_host_other_port = send_at(10, DIR_IN, &g1);
	other_host = send_at(10, DIR_IN, &g2);
	switch (_i) {
	case 0:
		ck_assert_int_eq(same_host_other_port.verdict, VERDICT_ACCEPT);
		ck_assert_int_eq(other_host.verdict, VERDICT_ACCEPT);
		ck_assert(other_host.rewritten);
		break;
	case 1:
		ck_assert_int_eq(same_host_other_port.verdict, VERDICT_ACCEPT);
		ck_assert_int_eq(other_host.verdict, VERDICT_DROP);
		ck_assert_int_eq(other_host.reason, DROP_FILTERED);
		break;
	default:
		ck_assert_int_eq(same_host_other_port.verdict, VERDICT_DROP);
		ck_assert_int_eq(same_host_other_port.reason, DROP_FILTERED);
		ck_assert_int_eq(other_host.verdict, VERDICT_DROP);
		break;
	}
	/* the real peer always gets through */
	struct gen g0 = { S4, N4, 53, port, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	ck_assert_int_eq(send_at(11, DIR_IN, &g0).verdict, VERDICT_ACCEPT);
}
END_TEST

/* Linux NAT after expiry: the client speaking first keeps its port (so the
 * connection survives); the server speaking first finds no mapping and its
 * packet goes to the box's own stack (which answers RST, and conntrack
 * deletes the entry it had opened for it at once: no record). With a port
 * hold-down the client gets a different port instead. */
START_TEST(nat_after_expiry_like_linux)
{
	struct conn k;
	struct decision d;
	struct pkt p;

	nat_setup("preserve");
	set("nat.port_range", "1024-65535");
	set("tcp.established", "4s");
	start();
	k = nat_conn(C4, 40000, S4, 80);
	handshake(&k, 0);
	engine_advance(eng, T0 + 6400);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 1);
	/* server first: unchanged, to the box itself */
	d = s_send(&k, 6400, TCPF_ACK | TCPF_PSH, 3);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert(!d.rewritten);
	ck_assert_uint_eq(d.flow_id, 0);
	k.sseq -= 3;
	/* client first: picked up, same outside port */
	d = c_send(&k, 6500, TCPF_ACK | TCPF_PSH, 3);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_eq(p.t.sport, 40000);
}
END_TEST

/*
 * Issue 15: a datagram from the server to a mapping that has expired goes
 * to the box's own stack and conntrack records it (unreplied: the box's
 * ICMP is no reply). The record holds nat.address:port <-> server for
 * udp.unreplied, refreshed by further datagrams: the client returning to
 * that server meanwhile gets a new port (rebound), after it the old one;
 * another server can have the port at once (the 5-tuple differs).
 */
START_TEST(nat_udp_clash_after_inbound)
{
	struct gen out = { C4, S4, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	struct gen in = { S4, N4, 53, 5000, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	struct gen other = { C4B, S4B, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	struct decision d;
	struct pkt p;
	struct engine_stats st;

	nat_setup("preserve");
	set("nat.port_range", "1024-65535");
	set("udp.unreplied", "2s");
	set("udp.assured", "2s");
	start();
	ck_assert_uint_eq(out_port_for(C4, 5000, S4, 53), 5000);
	engine_advance(eng, T0 + 2000);
	ck_assert_int_eq(count_ev(EV_FLOW_EXPIRED), 1);
	/* the server first, twice: to the box, recorded, the record refreshed */
	d = send_at(3000, DIR_IN, &in);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert(!d.rewritten);
	d = send_at(4000, DIR_IN, &in);
	ck_assert(!d.rewritten);
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_active, 1);
	/* another server may have port 5000 */
	d = send_at(4500, DIR_OUT, &other);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_eq(p.t.sport, 5000);
	engine_flush(eng, T0 + 4500);
	d = send_at(4500, DIR_IN, &in);
	/* the client within udp.unreplied of the last one: a new port */
	d = send_at(6400, DIR_OUT, &out);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_ne(p.t.sport, 5000);
	/* once the record and that mapping are gone: the old port again */
	engine_advance(eng, T0 + 9000);
	ck_assert_uint_eq(out_port_for(C4, 5000, S4, 53), 5000);
}
END_TEST

/* Only UDP leaves a record: a TCP SYN, SYN-ACK, ACK, FIN or RST or an ICMP
 * echo request from outside to a free port does not keep that port from a
 * client going to the same server (conntrack deletes a TCP entry whose
 * only reply is the box's RST; an echo entry's tuples carry the ICMP type).
 * Nor does anything with inbound_unknown = drop. */
START_TEST(nat_no_record_but_udp)
{
	static const uint8_t flags[] = { TCPF_SYN, TCPF_ACK, TCPF_ACK | TCPF_PSH,
					 TCPF_SYN | TCPF_ACK, TCPF_FIN | TCPF_ACK, TCPF_RST };
	struct engine_stats st;

	nat_setup("preserve");
	set("nat.port_range", "1024-65535");
	start();
	for (unsigned i = 0; i < 6; i++) {
		struct gen g = { S4, N4, 80, (uint16_t)(40000 + i), IPPROTO_TCP, flags[i],
				 7, 9, 0, false, 0, 0 };
		send_at(0, DIR_IN, &g);
	}
	struct gen echo = { S4, N4, 777, 0, IPPROTO_ICMP, 0, 0, 0, 0, false, 8, 8 };
	ck_assert_int_eq(send_at(0, DIR_IN, &echo).verdict, VERDICT_ACCEPT);
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_active, 0);
	for (unsigned i = 0; i < 6; i++) {
		struct conn k = nat_conn(C4, (uint16_t)(40000 + i), S4, 80);
		c_send(&k, 1, TCPF_SYN, 0);
		ck_assert_uint_eq(k.np, 40000 + i);
	}
	struct gen ping = { C4, S4, 777, 0, IPPROTO_ICMP, 0, 0, 0, 0, false, 8, 8 };
	struct pkt p;
	send_at(1, DIR_OUT, &ping);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_eq(p.t.sport, 777);
	engine_free(eng);

	setup();
	nat_setup("preserve");
	set("inbound_unknown", "drop");
	start();
	struct gen u = { S4, N4, 53, 5000, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	ck_assert_int_eq(send_at(0, DIR_IN, &u).verdict, VERDICT_DROP);
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_active, 0);
}
END_TEST

/* Ports and their hold-down under churn: connections that close (RST:
 * tcp.close) free their ports only after nat.port_hold, so a range of 10
 * ports serves 10 connections per hold period; the 11th finds none. */
START_TEST(nat_hold_exhausts_under_churn)
{
	struct engine_stats st;
	struct decision d;

	nat_setup("sequential");
	set("tcp.close", "1s");
	set("nat.port_hold", "30s");
	start();
	for (int i = 0; i < 10; i++) {
		struct conn k = nat_conn(C4, (uint16_t)(30000 + i), S4, 80);
		handshake(&k, (uint64_t)i * 100);
		c_send(&k, (uint64_t)i * 100 + 10, TCPF_RST | TCPF_ACK, 0);
	}
	engine_advance(eng, T0 + 5000);
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_active, 0);
	ck_assert_uint_eq(st.mappings_active, 0);
	struct conn k = nat_conn(C4, 31000, S4, 80);
	d = c_send(&k, 5000, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_NO_PORT);
	/* the first port's hold ends 30 s after its connection closed (at 1010 ms) */
	d = c_send(&k, 31009, TCPF_SYN, 0);
	ck_assert_int_eq(d.reason, DROP_NO_PORT);
	k.cseq--;
	d = c_send(&k, 31010, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(k.np, 20000);
}
END_TEST

/* nat.ports_per_host: connections of one inside host to one destination;
 * the same host may reach other destinations, other hosts the same one. */
START_TEST(nat_ports_per_host)
{
	struct decision d;
	struct conn k;

	nat_setup("sequential");
	set("nat.port_range", "1024-65535");
	set("nat.ports_per_host", "3");
	start();
	for (int i = 0; i < 3; i++) {
		k = nat_conn(C4, (uint16_t)(30000 + i), S4, 80);
		ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	}
	k = nat_conn(C4, 30003, S4, 80);
	d = c_send(&k, 0, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_NO_PORT);
	ck_assert_int_eq(cap.ninj, 0);          /* when_exhausted = drop */
	k = nat_conn(C4, 30004, S4, 81);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	k = nat_conn(C4B, 30000, S4, 80);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	/* one ends: room for one more */
	k = nat_conn(C4, 30000, S4, 80);
	k.cseq++;
	c_send(&k, 1, TCPF_RST, 0);
	engine_advance(eng, T0 + 20000);
	k = nat_conn(C4, 30005, S4, 80);
	ck_assert_int_eq(c_send(&k, 20000, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	k = nat_conn(C4, 30006, S4, 80);
	ck_assert_int_eq(c_send(&k, 20000, TCPF_SYN, 0).verdict, VERDICT_DROP);
}
END_TEST

/* nat.max_per_destination counts every host's connections to it. */
START_TEST(nat_max_per_destination)
{
	struct conn k;

	nat_setup("sequential");
	set("nat.max_per_destination", "2");
	start();
	k = nat_conn(C4, 30000, S4, 80);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	k = nat_conn(C4B, 30000, S4, 80);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	k = nat_conn(C4, 30001, S4, 80);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).reason, DROP_NO_PORT);
	k = nat_conn(C4, 30001, S4, 81);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	/* an inbound packet admitted by filtering is not an outbound connection */
	set("nat.filtering", "endpoint-independent");
}
END_TEST

/* nat.port_reuse = per-destination: a port serves several mappings whose
 * destinations differ, never two toward the same one; an endpoint-
 * independent mapping that would meet its port's 5-tuple taken by another
 * host fails (GCP's endpoint-independent conflict). Exclusive ports run
 * out after the range. */
START_TEST(nat_port_reuse_per_destination)
{
	struct conn k;

	nat_setup("preserve");
	set("nat.port_range", "20000-20001");
	set("nat.port_reuse", "per-destination");
	set("nat.mapping", "address-and-port-dependent");
	start();
	k = nat_conn(C4, 20000, S4, 80);
	c_send(&k, 0, TCPF_SYN, 0);
	ck_assert_uint_eq(k.np, 20000);
	k = nat_conn(C4B, 20000, S4B, 80);     /* another destination: shared */
	c_send(&k, 0, TCPF_SYN, 0);
	ck_assert_uint_eq(k.np, 20000);
	k = nat_conn(C4B, 20000, S4, 80);      /* the same 5-tuple: another port */
	c_send(&k, 0, TCPF_SYN, 0);
	ck_assert_uint_eq(k.np, 20001);
	k = nat_conn(C4B, 20005, S4, 80);      /* both ports used toward S4:80 */
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).reason, DROP_NO_PORT);
	k = nat_conn(C4B, 20005, S4, 81);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).verdict, VERDICT_ACCEPT);
	/* inbound to a shared port from nobody it talks to: filtered */
	struct gen g = { S4, N4, 99, 20000, IPPROTO_TCP, TCPF_SYN, 1, 0, 0, false, 0, 0 };
	ck_assert_int_eq(send_at(1, DIR_IN, &g).reason, DROP_FILTERED);
	engine_free(eng);

	/* endpoint-independent mapping: C4B:20000 has port 20000 (toward S4B),
	 * which C4 holds toward S4:80 */
	setup();
	nat_setup("preserve");
	set("nat.port_range", "20000-20001");
	set("nat.port_reuse", "per-destination");
	start();
	k = nat_conn(C4, 20000, S4, 80);
	c_send(&k, 0, TCPF_SYN, 0);
	k = nat_conn(C4B, 20000, S4B, 80);
	c_send(&k, 0, TCPF_SYN, 0);
	ck_assert_uint_eq(k.np, 20000);
	k = nat_conn(C4B, 20000, S4, 80);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).reason, DROP_NO_PORT);
	engine_free(eng);

	/* exclusive ports: two connections, then none, whatever the destination */
	setup();
	nat_setup("preserve");
	set("nat.port_range", "20000-20001");
	start();
	k = nat_conn(C4, 30000, S4, 80);
	c_send(&k, 0, TCPF_SYN, 0);
	k = nat_conn(C4, 30001, S4B, 80);
	c_send(&k, 0, TCPF_SYN, 0);
	k = nat_conn(C4, 30002, S4, 81);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).reason, DROP_NO_PORT);

	/* sharing needs address-and-port-dependent filtering */
	char err[256];
	set("nat.port_reuse", "per-destination");
	set("nat.filtering", "endpoint-independent");
	ck_assert_int_eq(policy_validate(&pol, err, sizeof(err)), -1);
	ck_assert(strstr(err, "nat.port_reuse"));
}
END_TEST

/* A shared port goes back to the free set only when its last mapping ends. */
START_TEST(nat_port_reuse_release)
{
	struct engine_stats st;
	struct conn a, b, c;

	nat_setup("sequential");
	set("nat.port_range", "20000-20000");
	set("nat.port_reuse", "per-destination");
	set("tcp.close", "1s");
	start();
	a = nat_conn(C4, 30000, S4, 80);
	handshake(&a, 0);
	b = nat_conn(C4, 30001, S4B, 80);
	handshake(&b, 0);
	ck_assert_uint_eq(a.np, 20000);
	ck_assert_uint_eq(b.np, 20000);
	c_send(&a, 10, TCPF_RST | TCPF_ACK, 0);
	engine_advance(eng, T0 + 2000);
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.mappings_active, 1);
	/* toward S4:80 again: the port, still used toward S4B, fits */
	c = nat_conn(C4, 30002, S4, 80);
	c_send(&c, 2000, TCPF_SYN, 0);
	ck_assert_uint_eq(c.np, 20000);
	/* both end: the port is free (no hold here) and nothing is left */
	c_send(&b, 2001, TCPF_RST | TCPF_ACK, 0);
	c_send(&c, 2001, TCPF_RST, 0);
	engine_advance(eng, T0 + 4000);
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.mappings_active, 0);
	ck_assert_uint_eq(st.flows_active, 0);
}
END_TEST

/* A packet admitted by endpoint-independent filtering needs a slot; if
 * making room evicts its mapping's last flow, the mapping is gone and the
 * packet with it (not a flow on a freed mapping). */
START_TEST(nat_admitted_packet_evicts_its_mapping)
{
	struct engine_stats st;
	struct decision d;
	uint16_t port;

	pol.max_flows = 1;
	nat_setup("sequential");
	set("nat.filtering", "endpoint-independent");
	set("table.when_full", "evict-idle");
	start();
	port = out_port_for(C4, 5000, S4, 53);
	struct gen g = { S4B, N4, 53, port, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	d = send_at(10, DIR_IN, &g);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_FILTERED);
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_active, 0);
	ck_assert_uint_eq(st.mappings_active, 0);
	ck_assert_uint_eq(st.flows_evicted, 1);
	/* the books are right: the port is given out again */
	ck_assert_uint_eq(out_port_for(C4B, 6000, S4, 53), 20001);
}
END_TEST

/* nat.when_exhausted: what the inside host is told. */
START_TEST(nat_when_exhausted)
{
	static const char *const how[] = { "rst", "icmp" };
	struct conn k;
	struct pkt p;

	nat_setup("sequential");
	set("nat.port_range", "20000-20000");
	set("nat.when_exhausted", how[_i]);
	start();
	k = nat_conn(C4, 30000, S4, 80);
	c_send(&k, 0, TCPF_SYN, 0);
	k = nat_conn(C4, 30001, S4, 80);
	ck_assert_int_eq(c_send(&k, 0, TCPF_SYN, 0).reason, DROP_NO_PORT);
	ck_assert_int_eq(cap.ninj, 1);
	ck_assert_int_eq(cap.inj[0].toward, DIR_IN);
	p = parse_inj(0);
	if (_i == 0) {
		ck_assert_uint_eq(p.tcp_flags, TCPF_RST | TCPF_ACK);
		ck_assert_uint_eq(p.ack, k.cseq);
		ck_assert_uint_eq(p.t.dport, 30001);
	} else {
		ck_assert_uint_eq(p.icmp_type, ICMP4_DEST_UNREACH);
		ck_assert_uint_eq(p.icmp_code, ICMP4_ADMIN_PROHIBITED);
	}
	/* UDP: ICMP either way (port unreachable for rst) */
	struct gen u0 = { C4, S4, 4999, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	struct gen u = { C4, S4, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	ck_assert_int_eq(send_at(1, DIR_OUT, &u0).verdict, VERDICT_ACCEPT);
	ck_assert_int_eq(send_at(1, DIR_OUT, &u).reason, DROP_NO_PORT);
	p = parse_inj(1);
	ck_assert_uint_eq(p.icmp_type, ICMP4_DEST_UNREACH);
	ck_assert_uint_eq(p.icmp_code, _i == 0 ? ICMP4_PORT_UNREACH : ICMP4_ADMIN_PROHIBITED);
}
END_TEST

/* table.when_full = early-drop: a new flow drops the flows that are not
 * assured in the first of 8 buckets from its own that has any; with every
 * flow assured it is refused. */
START_TEST(early_drop_like_conntrack)
{
	struct engine_stats st;
	struct decision d;

	pol.max_flows = 16;
	set("table.when_full", "early-drop");
	start();
	for (int i = 0; i < 16; i++) {
		struct gen u = { C4, S4, (uint16_t)(5000 + i), 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
		ck_assert_int_eq(send_at(0, DIR_OUT, &u).verdict, VERDICT_ACCEPT);
	}
	int accepted = 0;
	for (int i = 0; i < 16; i++) {
		struct gen u = { C4, S4, (uint16_t)(6000 + i), 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
		accepted += send_at(1, DIR_OUT, &u).verdict == VERDICT_ACCEPT;
	}
	engine_stats(eng, &st);
	/* with 16 flows in 16 buckets, nearly every new one finds a victim
	 * within 8 buckets; each eviction frees at least one slot */
	ck_assert_int_ge(accepted, 12);
	ck_assert_uint_ge(st.flows_evicted, (uint64_t)accepted);
	engine_free(eng);

	setup();
	pol.max_flows = 4;
	set("table.when_full", "early-drop");
	start();
	for (int i = 0; i < 4; i++) {
		struct conn k = conn4();
		k.cp = (uint16_t)(40000 + i);
		handshake(&k, 0);
	}
	struct conn k = conn4();
	k.cp = 41000;
	d = c_send(&k, 1, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_TABLE_FULL);
}
END_TEST

/* The new knobs parse and print back; bad values are refused. */
START_TEST(limit_knobs_parse)
{
	char buf[64], err[256];

	set("nat.ports_per_host", "1024");
	ck_assert_int_eq(policy_get(&pol, "nat.ports_per_host", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1024");
	set("nat.max_per_destination", "0");
	set("nat.when_exhausted", "icmp");
	ck_assert_int_eq(policy_get(&pol, "nat.when_exhausted", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "icmp");
	set("table.when_full", "early-drop");
	ck_assert_int_eq(policy_set(&pol, "nat.ports_per_host", "-1", err, sizeof(err)), -1);
	ck_assert_int_eq(policy_set(&pol, "nat.max_per_destination", "x", err, sizeof(err)), -1);
	ck_assert_int_eq(policy_set(&pol, "nat.when_exhausted", "reject", err, sizeof(err)), -1);
	ck_assert(strstr(err, "drop|rst|icmp"));
	ck_assert_int_eq(policy_set(&pol, "table.max_flows", "0", err, sizeof(err)), -1);
}
END_TEST

START_TEST(nat_port_hold)
{
	struct conn k;
	struct pkt p;

	nat_setup("preserve");
	set("nat.port_range", "1024-65535");
	set("tcp.established", "4s");
	set("nat.port_hold", "10s");
	start();
	k = nat_conn(C4, 40000, S4, 80);
	handshake(&k, 0);
	engine_advance(eng, T0 + 4000);
	c_send(&k, 5000, TCPF_ACK | TCPF_PSH, 3);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_ne(p.t.sport, 40000);
	/* after the hold, a new flow from another port may take 40000... and
	 * the same inside port gets it back once its mapping is gone */
	engine_advance(eng, T0 + 20000);
	k = nat_conn(C4, 40000, S4, 81);
	c_send(&k, 20000, TCPF_SYN, 0);
	ck_assert_int_eq(pkt_parse(&p, last, last_len, last_len), 0);
	ck_assert_uint_eq(p.t.sport, 40000);
}
END_TEST

START_TEST(nat_icmp_error_translated)
{
	struct conn k;
	struct decision d;
	struct pkt p;
	uint8_t orig[1600], icmp[1600];
	size_t olen;
	char buf[64];

	nat_setup("sequential");
	start();
	k = nat_conn(C4, 40000, S4, 80);
	c_send(&k, 0, TCPF_SYN, 0);
	olen = last_len;
	memcpy(orig, last, olen);            /* as it left the NAT */
	/* a router beyond answers with an ICMP error quoting it */
	ck_assert_int_eq(pkt_parse(&p, orig, olen, olen), 0);
	union addr router;
	addr_parse(S4B, &router);
	int n = build_icmp_unreach(icmp, sizeof(icmp), &router, &p, 1);
	ck_assert_int_gt(n, 0);
	engine_process(eng, icmp, (size_t)n, (size_t)n, 0, DIR_IN, T0 + 1, &d);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert(d.rewritten);
	ck_assert_int_eq(pkt_parse(&p, icmp, (size_t)n, (size_t)n), 0);
	ck_assert_str_eq(addr_format(&p.t.dst, buf, sizeof(buf)), C4);
	ck_assert(p.inner_ok);
	ck_assert_str_eq(addr_format(&p.inner.src, buf, sizeof(buf)), C4);
	ck_assert_uint_eq(p.inner.sport, 40000);
	ck_assert(gen_csum_ok(icmp, (size_t)n));
	/* the quoted IP header's checksum is right too */
	ck_assert_uint_eq(csum_fold(csum_partial_sum(icmp + p.inner_l3_off, 20, 0)), 0);
}
END_TEST

START_TEST(nat_ipv6_passes_as_firewall)
{
	struct gen g = { C6, S6, 4000, 443, IPPROTO_TCP, TCPF_SYN, 1, 0, 0, false, 0, 0 };
	struct gen r = { S6, C6, 443, 4000, IPPROTO_TCP, TCPF_SYN | TCPF_ACK, 9, 2, 0, false, 0, 0 };
	struct decision d;

	nat_setup("sequential");
	start();
	d = send_at(0, DIR_OUT, &g);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert(!d.rewritten);
	ck_assert_uint_eq(send_at(1, DIR_IN, &r).flow_id, d.flow_id);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_SYN_RECV);
}
END_TEST

START_TEST(fragments)
{
	struct gen g = { C4, S4, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 40, 0 };
	uint8_t b[1600];
	size_t len = gen_pkt(b, &g);
	struct decision d;

	/* make it a non-first fragment: offset 8 units */
	b[6] = 0;
	b[7] = 8;
	uint16_t z = 0;
	memcpy(b + 10, &z, 2);
	uint16_t c = csum_ipv4_header(b, 20);
	memcpy(b + 10, &c, 2);
	start();
	engine_process(eng, b, len, len, 0, DIR_OUT, T0, &d);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	engine_free(eng);
	setup();
	nat_setup("sequential");
	start();
	engine_process(eng, b, len, len, 0, DIR_OUT, T0, &d);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_FRAGMENT);
}
END_TEST

/* ---- table ---- */

START_TEST(table_full_refuse_and_evict)
{
	struct decision d;

	set("table.max_flows", "4");
	start();
	for (int i = 0; i < 4; i++) {
		struct gen g = { C4, S4, (uint16_t)(5000 + i), 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
		ck_assert_int_eq(send_at((uint64_t)i * 10, DIR_OUT, &g).verdict, VERDICT_ACCEPT);
	}
	struct gen g5 = { C4, S4, 6000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	d = send_at(100, DIR_OUT, &g5);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_TABLE_FULL);
	engine_free(eng);

	setup();
	set("table.max_flows", "4");
	set("table.when_full", "evict-idle");
	start();
	uint32_t first = 0;
	for (int i = 0; i < 4; i++) {
		struct gen g = { C4, S4, (uint16_t)(5000 + i), 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
		d = send_at((uint64_t)i * 10, DIR_OUT, &g);
		if (i == 0)
			first = d.flow_id;
	}
	/* refresh all but the first */
	for (int i = 1; i < 4; i++) {
		struct gen g = { C4, S4, (uint16_t)(5000 + i), 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
		send_at(50, DIR_OUT, &g);
	}
	d = send_at(100, DIR_OUT, &g5);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(first), TCP_NONE);
	struct engine_stats st;
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_evicted, 1);
	ck_assert_uint_eq(st.flows_active, 4);
}
END_TEST

/* table.when_full = evict-idle evicts only flows that are not assured, as
 * conntrack's early_drop: a SYN flood against a full table does not push out
 * the established connections, however long they have been idle; with
 * nothing evictable, the new flow is refused. */
START_TEST(evict_spares_assured)
{
	struct conn k[4];
	uint32_t id[4];
	struct engine_stats st;
	struct decision d;

	set("table.max_flows", "8");
	set("table.when_full", "evict-idle");
	start();
	for (int i = 0; i < 4; i++) {
		k[i] = conn4();
		k[i].cp = k[i].np = (uint16_t)(40000 + i);
		handshake(&k[i], 0);
		id[i] = c_send(&k[i], 1, TCPF_ACK | TCPF_PSH, 10).flow_id;
		s_send(&k[i], 2, TCPF_ACK, 0);
	}
	for (int i = 0; i < 200; i++) {
		struct gen g = { C4B, S4, (uint16_t)(10000 + i), 80, IPPROTO_TCP, TCPF_SYN,
				 1, 0, 0, false, 0, 0 };
		send_at(100 + (uint64_t)i, DIR_OUT, &g);
	}
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_evicted, 196);
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(flow_state(id[i]), TCP_ESTABLISHED);
		ck_assert_int_eq(c_send(&k[i], 400, TCPF_ACK | TCPF_PSH, 10).verdict, VERDICT_ACCEPT);
		ck_assert_int_eq(s_send(&k[i], 401, TCPF_ACK, 0).verdict, VERDICT_ACCEPT);
	}
	engine_free(eng);

	/* a table full of assured flows refuses the next one */
	setup();
	set("table.max_flows", "4");
	set("table.when_full", "evict-idle");
	start();
	for (int i = 0; i < 4; i++) {
		k[i] = conn4();
		k[i].cp = k[i].np = (uint16_t)(40000 + i);
		handshake(&k[i], 0);
		id[i] = c_send(&k[i], 1, TCPF_ACK | TCPF_PSH, 10).flow_id;
	}
	struct gen g = { C4B, S4, 9999, 80, IPPROTO_TCP, TCPF_SYN, 1, 0, 0, false, 0, 0 };
	d = send_at(1000, DIR_OUT, &g);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_TABLE_FULL);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(flow_state(id[i]), TCP_ESTABLISHED);
}
END_TEST

/* Firewall mode sees packets as the daemon copies them (NFQIO_HEADER_COPY
 * bytes): an IPv6 segment behind a 264-byte destination-options header
 * opens its flow and passes. With the 256 bytes copied before, it was a
 * short capture, dropped as malformed. */
START_TEST(v6_long_dstopts_firewall)
{
	struct gen g = { C6, S6, 40000, 80, IPPROTO_TCP, TCPF_SYN, 1, 0, 0, false, 1000, 0 };
	uint8_t b[1600];
	size_t n = gen_pkt(b, &g);
	struct decision d;

	/* a destination-options header of 264 bytes (two experimental
	 * options, type 0x1e, skipped by receivers) before TCP */
	memmove(b + 40 + 264, b + 40, n - 40);
	memset(b + 40, 0, 264);
	b[40] = IPPROTO_TCP;
	b[41] = 32;
	b[42] = 0x1e;
	b[43] = 128;
	b[40 + 132] = 0x1e;
	b[40 + 133] = 130;
	b[6] = IPPROTO_DSTOPTS;
	gen_wr16(b + 4, (uint16_t)(gen_rd16(b + 4) + 264));
	n += 264;
	ck_assert_uint_gt(n, NFQIO_HEADER_COPY);
	start();
	engine_process(eng, b, NFQIO_HEADER_COPY, n, 0, DIR_OUT, T0, &d);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_SYN_SENT);
	engine_process(eng, b, 256, n, 0, DIR_OUT, T0 + 1, &d);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_PARSE);
}
END_TEST

/* ---- impairment and control ---- */

START_TEST(loss_is_seeded)
{
	struct gen g = { C4, S4, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	char pattern[2][1000];
	int dropped = 0;

	for (int run = 0; run < 2; run++) {
		setup();
		set("loss.outbound", "30%");
		set("seed", "7");
		start();
		for (int i = 0; i < 1000; i++) {
			struct decision d = send_at((uint64_t)i, DIR_OUT, &g);
			pattern[run][i] = d.verdict == VERDICT_DROP;
			if (run == 0 && d.verdict == VERDICT_DROP) {
				ck_assert_int_eq(d.reason, DROP_LOSS);
				dropped++;
			}
		}
		/* no loss inbound */
		struct gen r = { S4, C4, 53, 5000, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
		for (int i = 0; i < 100; i++)
			ck_assert_int_eq(send_at(2000, DIR_IN, &r).verdict, VERDICT_ACCEPT);
		engine_free(eng);
		eng = NULL;
	}
	ck_assert(memcmp(pattern[0], pattern[1], sizeof(pattern[0])) == 0);
	ck_assert_int_gt(dropped, 240);
	ck_assert_int_lt(dropped, 360);
}
END_TEST

START_TEST(delay_per_direction)
{
	struct gen g = { C4, S4, 5000, 53, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };
	struct gen r = { S4, C4, 53, 5000, IPPROTO_UDP, 0, 0, 0, 0, false, 4, 0 };

	set("delay.outbound", "40ms");
	start();
	ck_assert_uint_eq(send_at(0, DIR_OUT, &g).delay_ms, 40);
	ck_assert_uint_eq(send_at(0, DIR_IN, &r).delay_ms, 0);
}
END_TEST

START_TEST(live_set_flush_expire_blackhole)
{
	struct conn k = conn4();
	struct decision d;
	char err[128];

	set("tcp.established", "100s");
	start();
	handshake(&k, 0);
	d = c_send(&k, 0, TCPF_ACK, 1);
	/* a shorter timeout applies to the running flow */
	ck_assert_int_eq(engine_set(eng, "tcp.established", "5s", err, sizeof(err)), 0);
	engine_advance(eng, T0 + 5000);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
	ck_assert_int_eq(engine_set(eng, "table.max_flows", "5", err, sizeof(err)), -1);
	ck_assert_int_eq(engine_set(eng, "tcp.established", "soon", err, sizeof(err)), -1);

	k = conn4();
	handshake(&k, 6000);
	d = c_send(&k, 6000, TCPF_ACK, 1);
	ck_assert_int_eq(engine_expire_flow(eng, d.flow_id, T0 + 6001), 0);
	ck_assert_uint_eq(flow_state(d.flow_id), TCP_NONE);
	ck_assert_int_eq(engine_expire_flow(eng, d.flow_id, T0 + 6001), -1);

	k = conn4();
	handshake(&k, 7000);
	engine_flush(eng, T0 + 7001);
	struct engine_stats st;
	engine_stats(eng, &st);
	ck_assert_uint_eq(st.flows_active, 0);

	engine_blackhole(eng, T0 + 9000);
	d = c_send(&k, 8000, TCPF_SYN, 0);
	ck_assert_int_eq(d.reason, DROP_BLACKHOLE);
	d = c_send(&k, 9000, TCPF_SYN, 0);
	ck_assert_int_eq(d.verdict, VERDICT_ACCEPT);
}
END_TEST

START_TEST(garbage_is_dropped)
{
	uint8_t b[64] = { 0x45, 0, 0, 200 };
	struct decision d;

	start();
	engine_process(eng, b, sizeof(b), sizeof(b), 0, DIR_OUT, T0, &d);
	ck_assert_int_eq(d.verdict, VERDICT_DROP);
	ck_assert_int_eq(d.reason, DROP_PARSE);
}
END_TEST

START_TEST(flow_is_small)
{
	struct engine_stats st;

	set("table.max_flows", "1048576");
	start();
	engine_stats(eng, &st);
	/* three cache lines (the third: TCP window tracking) and the index */
	ck_assert_uint_le(st.bytes_per_flow, 200);
}
END_TEST

/* A batch gives the same decisions and bytes as one call per packet. */
START_TEST(batch_equals_single)
{
	struct engine_ops ops = { NULL, NULL, NULL };
	struct engine *a, *b;
	uint8_t pa[40][128], pb[40][128];
	size_t len[40];
	struct engine_pkt v[40];

	nat_setup("sequential");
	set("tcp.established", "1s");
	a = engine_new(&pol, &ops, T0);
	b = engine_new(&pol, &ops, T0);
	ck_assert(a && b);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 40; i++) {
			/* a mix: several flows, both directions, repeated tuples */
			bool in = (i % 3) == 2;
			struct gen g = { in ? S4 : C4, in ? N4 : S4, (uint16_t)(in ? 80 : 40000 + i % 5),
					 (uint16_t)(in ? 20000 + i % 5 : 80), (i & 1) ? IPPROTO_UDP : IPPROTO_TCP,
					 i < 5 ? TCPF_SYN : TCPF_ACK, (uint32_t)i, 1, 0, false, (size_t)i, 0 };
			len[i] = gen_pkt(pa[i], &g);
			memcpy(pb[i], pa[i], len[i]);
			v[i] = (struct engine_pkt){ .data = pb[i], .caplen = len[i], .wire_len = len[i], .dir = in ? DIR_IN : DIR_OUT };
		}
		uint64_t now = T0 + (uint64_t)round * 1500;
		for (int i = 0; i < 40; i++) {
			struct decision d;
			engine_process(a, pa[i], len[i], len[i], 0, v[i].dir, now, &d);
			if (i == 0)
				engine_process_batch(b, v, 40, now);
			ck_assert_int_eq(d.verdict, v[i].d.verdict);
			ck_assert_int_eq(d.reason, v[i].d.reason);
			ck_assert_int_eq(d.rewritten, v[i].d.rewritten);
			ck_assert_uint_eq(d.flow_id, v[i].d.flow_id);
		}
		for (int i = 0; i < 40; i++)
			ck_assert(memcmp(pa[i], pb[i], len[i]) == 0);
		engine_advance(a, now + 1000);
		engine_advance(b, now + 1000);
	}
	engine_free(a);
	engine_free(b);
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcp_states_and_events);
	tcase_add_test(tc, rst_closes);
	tcase_add_test(tc, rst_in_window_closes);
	tcase_add_test(tc, rst_out_of_window_ignored);
	tcase_add_test(tc, rst_exact_closes);
	tcase_add_test(tc, rst_challenge_ack);
	tcase_add_test(tc, rst_check_any);
	tcase_add_test(tc, rst_window_scaling);
	tcase_add_loop_test(tc, per_state_timeouts, 0, 6);
	tcase_add_test(tc, unacknowledged_timeout);
	tcase_add_test(tc, acknowledged_uses_established);
	tcase_add_test(tc, udp_unreplied_and_assured);
	tcase_add_test(tc, icmp_echo_timeout);
	tcase_add_test(tc, exact_on_lookup);
	tcase_add_test(tc, sweep_expiry);
	tcase_add_test(tc, refresh_outbound_only);
	tcase_add_test(tc, refresh_inbound_only);
	tcase_add_test(tc, refresh_any_keepalives_count);
	tcase_add_test(tc, refresh_data_only_ignores_keepalives);
	tcase_add_test(tc, keepalive_recognition);
	tcase_add_test(tc, expire_drop_silent);
	tcase_add_test(tc, expire_rst_inside_on_next);
	tcase_add_test(tc, expire_hold);
	tcase_add_test(tc, expire_rst_next_sender);
	tcase_add_test(tc, expire_rst_both);
	tcase_add_test(tc, expire_fin_inside);
	tcase_add_test(tc, expire_icmp_unreachable);
	tcase_add_test(tc, udp_expire_is_silent_with_rst_actions);
	tcase_add_test(tc, pickup_strict_and_loose);
	tcase_add_test(tc, inbound_unknown_modes);
	tcase_add_test(tc, nat_rewrites_both_ways);
	tcase_add_test(tc, nat_partial_checksum);
	tcase_add_test(tc, nat_ports_preserve_and_conflict);
	tcase_add_test(tc, nat_ports_sequential_random_exhausted);
	tcase_add_loop_test(tc, nat_mapping_behaviours, 0, 3);
	tcase_add_loop_test(tc, nat_filtering_behaviours, 0, 3);
	tcase_add_test(tc, nat_after_expiry_like_linux);
	tcase_add_test(tc, nat_port_hold);
	tcase_add_test(tc, nat_udp_clash_after_inbound);
	tcase_add_test(tc, nat_no_record_but_udp);
	tcase_add_test(tc, nat_hold_exhausts_under_churn);
	tcase_add_test(tc, nat_ports_per_host);
	tcase_add_test(tc, nat_max_per_destination);
	tcase_add_loop_test(tc, nat_when_exhausted, 0, 2);
	tcase_add_test(tc, nat_port_reuse_per_destination);
	tcase_add_test(tc, nat_port_reuse_release);
	tcase_add_test(tc, nat_admitted_packet_evicts_its_mapping);
	tcase_add_test(tc, early_drop_like_conntrack);
	tcase_add_test(tc, limit_knobs_parse);
	tcase_add_test(tc, nat_icmp_error_translated);
	tcase_add_test(tc, nat_ipv6_passes_as_firewall);
	tcase_add_test(tc, fragments);
	tcase_add_test(tc, table_full_refuse_and_evict);
	tcase_add_test(tc, evict_spares_assured);
	tcase_add_test(tc, v6_long_dstopts_firewall);
	tcase_add_test(tc, loss_is_seeded);
	tcase_add_test(tc, delay_per_direction);
	tcase_add_test(tc, live_set_flush_expire_blackhole);
	tcase_add_test(tc, garbage_is_dropped);
	tcase_add_test(tc, flow_is_small);
	tcase_add_test(tc, batch_equals_single);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
