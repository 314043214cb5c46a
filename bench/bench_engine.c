// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Engine benchmark at 1,000,000 concurrent flows: memory per flow, time per
 * packet for lookup + state update, and the cost of expiring every flow.
 * Baselines measured in the same run: pkt_parse() alone on the same packets
 * (the floor any engine pays), one random 128-byte memory touch per packet
 * over an array as large as the flow table (independent misses, which the
 * CPU overlaps), and a chain of dependent loads over the same size (the
 * latency of one miss that cannot be overlapped: a hash lookup pays at
 * least one, for the flow itself).
 * Instruction counts come from perf_event_open where the machine has it.
 *
 * Then NAT port allocation: the cost of one new connection (SYN, RST,
 * expiry: its port taken and given back) with the port range nearly empty
 * and with it nearly exhausted, for each nat.ports choice, as a ratio of
 * the two (flat: about 1).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/mtime.h"
#include "simulator/engine/engine.h"
#include "tests/unit/pktgen.h"

#define NFLOWS 1000000u
#define NPKTS 4000000u

static int perf_fd = -1;

static void perf_open(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	perf_fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static void perf_start(void)
{
	if (perf_fd >= 0) {
		ioctl(perf_fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(perf_fd, PERF_EVENT_IOC_ENABLE, 0);
	}
}

static double perf_stop(uint64_t n)
{
	uint64_t v = 0;

	if (perf_fd < 0)
		return -1;
	ioctl(perf_fd, PERF_EVENT_IOC_DISABLE, 0);
	if (read(perf_fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return (double)v / (double)n;
}

static void print_insns(const char *what, double v)
{
	if (v < 0)
		printf("  %-34s instructions: n/a (no hardware counters here; try valgrind --tool=callgrind)\n", what);
	else
		printf("  %-34s %.0f instructions/op\n", what, v);
}

/* Flow i: inside 10.x.y.z:port -> 203.0.113.5:443, a distinct tuple each. */
static void flow_packet(uint8_t *b, uint32_t i)
{
	b[12] = 10;
	b[13] = (uint8_t)(i >> 16);
	b[14] = (uint8_t)(i >> 8);
	b[15] = (uint8_t)i;
	b[20] = (uint8_t)((1024 + (i & 0x3ff)) >> 8);
	b[21] = (uint8_t)(1024 + (i & 0x3ff));
}

static uint64_t rng_state = 88172645463325252ull;
static inline uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/* What every measurement shares. */
struct bench {
	struct engine *e;
	uint32_t *order;                /* the flow of each packet */
	uint8_t tmpl[1600], b[1600];
	size_t len;
	uint64_t now;
	volatile uint32_t sink;
};

/* Create NFLOWS flows; ns per flow, or < 0 if one was refused. */
static double bench_create(struct bench *B)
{
	struct decision d;
	uint64_t t0;

	memcpy(B->b, B->tmpl, B->len);
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NFLOWS; i++) {
		flow_packet(B->b, i);
		engine_process(B->e, B->b, B->len, B->len, 0, DIR_OUT, B->now, &d);
		if (d.verdict != VERDICT_ACCEPT) {
			fprintf(stderr, "flow %u refused (%s)\n", i, drop_reason_name(d.reason));
			return -1;
		}
	}
	return (double)(mtime_ns() - t0) / NFLOWS;
}

/* Baseline 1: parsing alone. */
static double bench_parse(struct bench *B, double *ins)
{
	uint64_t t0;

	perf_start();
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NPKTS; i++) {
		struct pkt p;

		flow_packet(B->b, B->order[i]);
		pkt_parse(&p, B->b, B->len, B->len);
		B->sink += p.t.sport;
	}
	t0 = mtime_ns() - t0;
	*ins = perf_stop(NPKTS);
	return (double)t0 / NPKTS;
}

/* Baseline 2: one random 128-byte touch per packet over a table as large. */
static double bench_touch(struct bench *B)
{
	size_t n = (size_t)NFLOWS * 128 / sizeof(uint64_t);
	uint64_t *mem = calloc(n, sizeof(uint64_t)), t0;

	if (!mem)
		return -1;
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NPKTS; i++) {
		uint64_t *line = &mem[(size_t)B->order[i] * 16];

		line[0]++;
		line[8] += line[0];
	}
	t0 = mtime_ns() - t0;
	B->sink += (uint32_t)mem[17];
	free(mem);
	return (double)t0 / NPKTS;
}

/* Baseline 3: dependent loads (pointer chasing) over the same size. */
static double bench_chase(struct bench *B)
{
	size_t n = (size_t)NFLOWS * 128 / 64;
	uint64_t *mem = aligned_alloc(2u << 20, n * 64), pos = 0, t0;
	uint32_t *perm = malloc(n * sizeof(*perm));

	if (!mem || !perm) {
		free(mem);
		free(perm);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		uint32_t x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	for (size_t i = 0; i < n; i++)
		mem[(size_t)perm[i] * 8] = (uint64_t)perm[(i + 1) % n] * 8;
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NPKTS; i++)
		pos = mem[pos];
	t0 = mtime_ns() - t0;
	B->sink += (uint32_t)pos;
	free(perm);
	free(mem);
	return (double)t0 / NPKTS;
}

/* The engine: lookup + update for existing flows, one call per packet. */
static double bench_single(struct bench *B, double *ins)
{
	struct decision d;
	uint64_t t0;

	B->now += 1000;
	perf_start();
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NPKTS; i++) {
		flow_packet(B->b, B->order[i]);
		engine_process(B->e, B->b, B->len, B->len, 0, DIR_OUT, B->now + (i >> 12), &d);
		B->sink += d.flow_id;
	}
	t0 = mtime_ns() - t0;
	*ins = perf_stop(NPKTS);
	return (double)t0 / NPKTS;
}

/* The same through the batch interface, as the daemon reads them. */
static double bench_batch(struct bench *B, double *ins)
{
	static uint8_t bufs[32][128];
	struct engine_pkt v[32];
	uint64_t t0;

	B->now += 1000;
	perf_start();
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NPKTS; i += 32) {
		for (uint32_t j = 0; j < 32; j++) {
			memcpy(bufs[j], B->tmpl, B->len);
			flow_packet(bufs[j], B->order[i + j]);
			v[j] = (struct engine_pkt){ .data = bufs[j], .caplen = B->len, .wire_len = B->len,
						    .dir = DIR_OUT };
		}
		engine_process_batch(B->e, v, 32, B->now + (i >> 12));
		B->sink += v[31].d.flow_id;
	}
	t0 = mtime_ns() - t0;
	*ins = perf_stop(NPKTS);
	return (double)t0 / NPKTS;
}

/* A TCP segment (or a UDP datagram) from inside 10.x.y.z:port (flow i)
 * to 203.0.113.5:443. */
static size_t nat_segment(uint8_t *b, uint32_t i, uint8_t proto, uint8_t flags, uint32_t seq)
{
	char src[32];
	struct gen g = { src, "203.0.113.5", 0, 443, proto, flags, seq, 0, 0, false, 0, 0 };

	snprintf(src, sizeof(src), "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
	g.sport = (uint16_t)(1024 + (i % 60000));
	return gen_pkt(b, &g);
}

#define NAT_NEW 100000u

/*
 * ns per new NAT TCP connection with 64,000 idle flows in the table, TCP
 * ones holding 64,000 of the 64,512 TCP ports of 1024-65535 (full) or UDP
 * ones, which take UDP ports (empty: the same table, no TCP port used).
 * Each new connection sends a SYN (a port is allocated), a RST (tcp.close
 * = 1 ms) and is expired at once (its port given back). Returns < 0 when a
 * connection found no port.
 */
static double bench_nat_new(const char *ports, bool full)
{
	struct policy pol;
	struct decision d;
	struct engine *e;
	uint8_t b[128];
	uint64_t now = 1000, t0;
	char err[128];
	double ns = -1;

	policy_init(&pol);
	pol.max_flows = 70000;
	policy_set(&pol, "nat", "snat", err, sizeof(err));
	policy_set(&pol, "nat.address", "198.51.100.1", err, sizeof(err));
	policy_set(&pol, "nat.ports", ports, err, sizeof(err));
	policy_set(&pol, "tcp.close", "1ms", err, sizeof(err));
	/* the idle flows outlive the measurement */
	policy_set(&pol, "tcp.syn_sent", "1h", err, sizeof(err));
	policy_set(&pol, "udp.unreplied", "1h", err, sizeof(err));
	e = engine_new(&pol, NULL, now);
	if (!e)
		return -1;
	for (uint32_t i = 0; i < 64000; i++) {
		size_t len = nat_segment(b, i, full ? IPPROTO_TCP : IPPROTO_UDP, TCPF_SYN, 1);
		engine_process(e, b, len, len, 0, DIR_OUT, now, &d);
		if (d.verdict != VERDICT_ACCEPT)
			goto out;
	}
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NAT_NEW; i++) {
		uint32_t k = 100000 + i;
		size_t len = nat_segment(b, k, IPPROTO_TCP, TCPF_SYN, 1);

		engine_process(e, b, len, len, 0, DIR_OUT, now, &d);
		if (d.verdict != VERDICT_ACCEPT)
			goto out;
		len = nat_segment(b, k, IPPROTO_TCP, TCPF_RST, 2);
		engine_process(e, b, len, len, 0, DIR_OUT, now, &d);
		now += 2;
		engine_advance(e, now);
	}
	ns = (double)(mtime_ns() - t0) / NAT_NEW;
out:
	engine_free(e);
	return ns;
}

/* The least of a few runs: on a shared machine the others only add noise. */
static double bench_nat_best(const char *ports, bool full)
{
	double best = -1;

	for (int r = 0; r < 5; r++) {
		double ns = bench_nat_new(ports, full);
		if (ns < 0)
			return -1;
		if (best < 0 || ns < best)
			best = ns;
	}
	return best;
}

/* The new-connection cost with 0 and 64,000 of 64,512 ports in use. */
static int bench_nat_ports(void)
{
	static const char *const how[] = { "sequential", "random", "preserve" };

	printf("NAT port allocation: one new TCP connection (SYN, RST, expiry), range 1024-65535, 64,000 other flows, best of 5\n");
	for (size_t i = 0; i < 3; i++) {
		double empty = bench_nat_best(how[i], false), full = bench_nat_best(how[i], true);

		if (empty < 0 || full < 0) {
			fprintf(stderr, "nat.ports = %s: a connection found no port\n", how[i]);
			return 1;
		}
		printf("  nat.ports = %-10s             %.1f ns/connection with 0 TCP ports in use, %.1f with 64,000 (99.2%%); ratio %.2f\n",
		       how[i], empty, full, full / empty);
	}
	return 0;
}

/* Expire everything; 0, or 1 if flows are left. */
static int bench_expire(struct bench *B)
{
	struct engine_stats st;
	uint64_t t0;
	double ins;

	B->now += 600000 + 1000;
	perf_start();
	t0 = mtime_ns();
	engine_advance(B->e, B->now + 2 * (NPKTS >> 12));
	t0 = mtime_ns() - t0;
	ins = perf_stop(NFLOWS);
	engine_stats(B->e, &st);
	printf("  expire all                         %.1f ms total, %.1f ns/flow, %" PRIu64 " expired, %" PRIu32 " left\n",
	       (double)t0 / 1e6, (double)t0 / NFLOWS, st.flows_expired, st.flows_active);
	print_insns("expire", ins);
	if (st.flows_active != 0) {
		fprintf(stderr, "flows left after expiry\n");
		return 1;
	}
	return 0;
}

int main(void)
{
	static struct bench B = { .now = 1000 };
	struct gen g = { "10.0.0.1", "203.0.113.5", 1024, 443, IPPROTO_UDP, 0, 0, 0, 0, false, 32, 0 };
	double create_ns, parse_ns, touch_ns, chase_ns, engine_ns, batch_ns, ins, eng_ins, batch_ins;
	struct engine_stats st;
	struct policy pol;
	int rc;

	perf_open();
	policy_init(&pol);
	pol.max_flows = NFLOWS;
	pol.timeout[TO_UDP_UNREPLIED] = 600000;
	B.len = gen_pkt(B.tmpl, &g);
	B.e = engine_new(&pol, NULL, B.now);
	B.order = malloc(sizeof(*B.order) * NPKTS);
	if (!B.e || !B.order) {
		perror("engine_new");
		return 3;
	}
	for (uint32_t i = 0; i < NPKTS; i++)
		B.order[i] = rnd() % NFLOWS;

	printf("engine benchmark: %u concurrent flows, %u packets to random flows\n", NFLOWS, NPKTS);
	create_ns = bench_create(&B);
	if (create_ns < 0)
		return 1;
	engine_stats(B.e, &st);
	printf("  flows active                       %" PRIu32 "\n", st.flows_active);
	printf("  memory                             %.1f MiB, %zu bytes per flow incl. hash index (goal <= 128)\n",
	       (double)st.memory / (1 << 20), st.bytes_per_flow);
	printf("  create                             %.1f ns/flow\n", create_ns);
	parse_ns = bench_parse(&B, &ins);
	touch_ns = bench_touch(&B);
	chase_ns = bench_chase(&B);
	if (touch_ns < 0 || chase_ns < 0)
		return 3;
	engine_ns = bench_single(&B, &eng_ins);
	batch_ns = bench_batch(&B, &batch_ins);
	printf("  baseline: parse only               %.1f ns/packet\n", parse_ns);
	printf("  baseline: random 128-byte touch    %.1f ns/packet (independent misses, overlapped)\n", touch_ns);
	printf("  baseline: one dependent miss       %.1f ns/packet (memory latency)\n", chase_ns);
	printf("  engine: lookup + update, one call  %.1f ns/packet\n", engine_ns);
	printf("  engine: batches of 32              %.1f ns/packet (goal <= 150)\n", batch_ns);
	printf("  ratio engine / parse               %.2f (batched %.2f)\n", engine_ns / parse_ns, batch_ns / parse_ns);
	printf("  ratio engine / memory touch        %.2f\n", engine_ns / touch_ns);
	printf("  ratio engine / dependent miss      %.2f (batched %.2f)\n", engine_ns / chase_ns, batch_ns / chase_ns);
	print_insns("parse", ins);
	print_insns("engine_process", eng_ins);
	print_insns("engine_process_batch", batch_ins);
	rc = bench_expire(&B);
	engine_free(B.e);
	rc |= bench_nat_ports();
	free(B.order);
	return rc ? rc : B.sink == 0xdeadbeef;
}
