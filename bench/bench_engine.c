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

int main(void)
{
	struct policy pol;
	struct engine *e;
	struct engine_stats st;
	struct gen g = { "10.0.0.1", "203.0.113.5", 1024, 443, IPPROTO_UDP, 0, 0, 0, 0, false, 32, 0 };
	uint8_t tmpl[1600], b[1600];
	size_t len = gen_pkt(tmpl, &g);
	uint32_t *order;
	uint64_t t0, t, now = 1000;
	double parse_ns, engine_ns, touch_ns, ins, batch_ns, batch_ins;
	struct decision d;
	volatile uint32_t sink = 0;

	perf_open();
	policy_init(&pol);
	pol.max_flows = NFLOWS;
	pol.timeout[TO_UDP_UNREPLIED] = 600000;
	e = engine_new(&pol, NULL, now);
	if (!e) {
		perror("engine_new");
		return 3;
	}
	order = malloc(sizeof(*order) * NPKTS);
	if (!order)
		return 3;
	for (uint32_t i = 0; i < NPKTS; i++)
		order[i] = rnd() % NFLOWS;

	printf("engine benchmark: %u concurrent flows, %u packets to random flows\n", NFLOWS, NPKTS);

	/* create */
	memcpy(b, tmpl, len);
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NFLOWS; i++) {
		flow_packet(b, i);
		engine_process(e, b, len, len, 0, DIR_OUT, now, &d);
		if (d.verdict != VERDICT_ACCEPT) {
			fprintf(stderr, "flow %u refused (%s)\n", i, drop_reason_name(d.reason));
			return 1;
		}
	}
	t = mtime_ns() - t0;
	engine_stats(e, &st);
	printf("  flows active                       %" PRIu32 "\n", st.flows_active);
	printf("  memory                             %.1f MiB, %zu bytes per flow incl. hash index (goal <= 128)\n",
	       (double)st.memory / (1 << 20), st.bytes_per_flow);
	printf("  create                             %.1f ns/flow\n", (double)t / NFLOWS);

	/* baseline 1: parsing alone */
	perf_start();
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NPKTS; i++) {
		struct pkt p;
		flow_packet(b, order[i]);
		pkt_parse(&p, b, len, len);
		sink += p.t.sport;
	}
	t = mtime_ns() - t0;
	ins = perf_stop(NPKTS);
	parse_ns = (double)t / NPKTS;

	/* baseline 2: one random 128-byte touch per packet over a table as large */
	{
		size_t n = (size_t)NFLOWS * 128 / sizeof(uint64_t);
		uint64_t *mem = calloc(n, sizeof(uint64_t));
		if (!mem)
			return 3;
		t0 = mtime_ns();
		for (uint32_t i = 0; i < NPKTS; i++) {
			uint64_t *line = &mem[(size_t)order[i] * 16];
			line[0]++;
			line[8] += line[0];
		}
		t = mtime_ns() - t0;
		touch_ns = (double)t / NPKTS;
		sink += (uint32_t)mem[17];
		free(mem);
	}

	/* baseline 3: dependent loads (pointer chasing) over the same size */
	double chase_ns;
	{
		size_t n = (size_t)NFLOWS * 128 / 64;
		uint64_t *mem = aligned_alloc(2u << 20, n * 64);
		uint32_t *perm = malloc(n * sizeof(*perm));
		uint64_t pos = 0;
		if (!mem || !perm)
			return 3;
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
		t = mtime_ns() - t0;
		chase_ns = (double)t / NPKTS;
		sink += (uint32_t)pos;
		free(perm);
		free(mem);
	}

	/* the engine: lookup + update for existing flows */
	now += 1000;
	perf_start();
	t0 = mtime_ns();
	for (uint32_t i = 0; i < NPKTS; i++) {
		flow_packet(b, order[i]);
		engine_process(e, b, len, len, 0, DIR_OUT, now + (i >> 12), &d);
		sink += d.flow_id;
	}
	t = mtime_ns() - t0;
	engine_ns = (double)t / NPKTS;
	double eng_ins = perf_stop(NPKTS);
	/* the same through the batch interface, as the daemon reads them */
	{
		static uint8_t bufs[32][128];
		struct engine_pkt v[32];
		now += 1000;
		perf_start();
		t0 = mtime_ns();
		for (uint32_t i = 0; i < NPKTS; i += 32) {
			for (uint32_t j = 0; j < 32; j++) {
				memcpy(bufs[j], tmpl, len);
				flow_packet(bufs[j], order[i + j]);
				v[j] = (struct engine_pkt){ .data = bufs[j], .caplen = len, .wire_len = len, .dir = DIR_OUT };
			}
			engine_process_batch(e, v, 32, now + (i >> 12));
			sink += v[31].d.flow_id;
		}
		t = mtime_ns() - t0;
		batch_ns = (double)t / NPKTS;
		batch_ins = perf_stop(NPKTS);
	}
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

	/* expire everything */
	now += 600000 + 1000;
	perf_start();
	t0 = mtime_ns();
	engine_advance(e, now + 2 * (NPKTS >> 12));
	t = mtime_ns() - t0;
	ins = perf_stop(NFLOWS);
	engine_stats(e, &st);
	printf("  expire all                         %.1f ms total, %.1f ns/flow, %" PRIu64 " expired, %" PRIu32 " left\n",
	       (double)t / 1e6, (double)t / NFLOWS, st.flows_expired, st.flows_active);
	print_insns("expire", ins);
	engine_free(e);
	free(order);
	if (st.flows_active != 0) {
		fprintf(stderr, "flows left after expiry\n");
		return 1;
	}
	return sink == 0xdeadbeef;
}
