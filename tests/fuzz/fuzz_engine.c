// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: the packet parser and the engine together. The input
 * is a policy selector (3 bytes) followed by a sequence of records
 * [dir+flags:1][time step:2][len:2][packet bytes], so the fuzzer explores
 * flows that span several packets, NAT rewrites, expiry and tombstones,
 * port exhaustion and limits, table-full policies and the records of
 * unsolicited inbound packets.
 * Rewritten packets must still parse, and checksums of rewritten complete
 * packets must stay consistent when they were right before.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/engine/engine.h"

static size_t injected;

static void on_inject(void *ctx, enum dir toward, const uint8_t *pkt, size_t len)
{
	struct pkt p;

	(void)ctx;
	(void)toward;
	/* everything the engine builds must parse */
	if (pkt_parse(&p, pkt, len, len) != 0)
		abort();
	injected++;
}

static void on_event(void *ctx, const struct engine_event *ev)
{
	(void)ctx;
	if (ev->type > EV_KEEPALIVE || !event_type_name(ev->type))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = {
		"drop", "rst-inside-on-next", "rst-next-sender", "rst-both-at-expiry",
		"fin-inside", "icmp-unreachable",
	};
	static const char *const beh[] = { "eim", "adm", "apdm" };
	static const char *const filt[] = { "eif", "adf", "apdf" };
	struct policy pol;
	struct engine_ops ops = { on_event, on_inject, NULL };
	struct engine *e;
	uint64_t now = 1000;
	uint8_t buf[2048];

	static const char *const full[] = { "refuse", "evict-idle", "early-drop" };
	static const char *const exhausted[] = { "drop", "rst", "icmp" };

	if (size < 3)
		return 0;
	policy_init(&pol);
	policy_set(&pol, "tcp.established", "3s", NULL, 0);
	policy_set(&pol, "udp.unreplied", "2s", NULL, 0);
	policy_set(&pol, "table.max_flows", "8", NULL, 0);
	policy_set(&pol, "on_expire", actions[data[0] % 6], NULL, 0);
	policy_set(&pol, "pickup", data[0] & 0x08 ? "strict" : "loose", NULL, 0);
	policy_set(&pol, "table.when_full", full[(data[0] & 0x10 ? 1 : 0) + (data[2] & 1)], NULL, 0);
	policy_set(&pol, "expiry", data[0] & 0x20 ? "sweep" : "exact", NULL, 0);
	policy_set(&pol, "inbound_unknown", data[1] & 1 ? "rst" : data[1] & 2 ? "drop" : "pass", NULL, 0);
	if (data[0] & 0x40) {
		policy_set(&pol, "nat", "snat", NULL, 0);
		policy_set(&pol, "nat.address", "10.9.9.9", NULL, 0);
		policy_set(&pol, "nat.ports", data[1] & 4 ? "random" : data[1] & 8 ? "sequential" : "preserve", NULL, 0);
		policy_set(&pol, "nat.port_range", "1000-1003", NULL, 0);
		policy_set(&pol, "nat.mapping", beh[(data[1] >> 4) % 3], NULL, 0);
		policy_set(&pol, "nat.filtering", filt[(data[1] >> 6) % 3], NULL, 0);
		policy_set(&pol, "nat.port_hold", data[1] & 0x80 ? "1s" : "0s", NULL, 0);
		policy_set(&pol, "nat.ports_per_host", data[2] & 2 ? "2" : "0", NULL, 0);
		policy_set(&pol, "nat.max_per_destination", data[2] & 4 ? "3" : "0", NULL, 0);
		policy_set(&pol, "nat.when_exhausted", exhausted[(data[2] >> 3) % 3], NULL, 0);
		if (data[2] & 0x20)
			policy_set(&pol, "tcp.close", "500ms", NULL, 0);
		if (data[2] & 0x40) {
			policy_set(&pol, "nat.filtering", "apdf", NULL, 0);
			policy_set(&pol, "nat.port_reuse", "per-destination", NULL, 0);
		}
	}
	if (data[0] & 0x80)
		policy_set(&pol, "loss.outbound", "0.25", NULL, 0);
	e = engine_new(&pol, &ops, now);
	if (!e)
		abort();
	data += 3;
	size -= 3;
	while (size >= 5) {
		uint8_t hdr = data[0];
		uint16_t step = (uint16_t)(data[1] << 8 | data[2]);
		size_t len = (size_t)(data[3] << 8 | data[4]);
		struct decision d;

		data += 5;
		size -= 5;
		if (len > size)
			len = size;
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, data, len);
		data += len;
		size -= len;
		now += step;
		if (hdr & 0x04)
			engine_advance(e, now);
		/* sometimes only headers were captured */
		size_t cap = (hdr & 0x08) && len > 40 ? 40 : len;
		engine_process(e, buf, cap, len, hdr & 0x02 ? ENGINE_PKT_CSUM_PARTIAL : 0,
			       hdr & 1 ? DIR_IN : DIR_OUT, now, &d);
		if (d.verdict != VERDICT_ACCEPT && d.verdict != VERDICT_DROP)
			abort();
		if (d.rewritten) {
			struct pkt p;
			if (pkt_parse(&p, buf, cap, len) != 0)
				abort();
		}
		if (hdr & 0x10)
			engine_expire_flow(e, d.flow_id, now);
		if ((hdr & 0xe0) == 0xe0)
			engine_flush(e, now);
	}
	engine_advance(e, now + 1000000);
	struct engine_stats st;
	engine_stats(e, &st);
	if (st.flows_active > st.flows_max)
		abort();
	engine_free(e);
	return 0;
}
