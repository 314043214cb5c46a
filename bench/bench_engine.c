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
	free(B.order);
	return rc ? rc : B.sink == 0xdeadbeef;
}
