/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every range-checked knob at, just below and just above its limits, with
 * the message policy_set() gives. Shared by test_policy (policy_set, as the
 * control socket's `set` and --set use it), test_profile (a profile file)
 * and test_scenario (a scenario's [middlebox] and `action = set`), so all
 * paths are held to the same rules. An empty message means accepted.
 */
#ifndef IDLEGATE_TEST_LIMITS_CASES_H
#define IDLEGATE_TEST_LIMITS_CASES_H

static const struct limit_case {
	const char *key, *value, *err;
} limit_cases[] = {
	{ "tcp.established", "24d", "" },
	{ "tcp.established", "2073599999ms", "" },
	{ "tcp.established", "2073600001ms", "tcp.established: 2073600001ms is above the limit of 24d" },
	{ "tcp.established", "18446744073709551615ms",
	  "tcp.established: 18446744073709551615ms is above the limit of 24d" },
	{ "tcp.established", "1ms", "" },
	{ "tcp.established", "0s", "tcp.established: must be longer than 0" },
	{ "udp.assured", "25d", "udp.assured: 25d is above the limit of 24d" },
	{ "expired_hold", "24d1ms", "expired_hold: 24d1ms is above the limit of 24d" },
	{ "delay.outbound", "0s", "" },
	{ "delay.outbound", "24d", "" },
	{ "delay.inbound", "18446744073709551615ms",
	  "delay.inbound: 18446744073709551615ms is above the limit of 24d" },
	{ "nat.port_hold", "24d", "" },
	{ "nat.port_hold", "24d1ms", "nat.port_hold: 24d1ms is above the limit of 24d" },
	{ "sweep_interval", "1ms", "" },
	{ "sweep_interval", "0s", "sweep_interval: must be longer than 0" },
	{ "sweep_interval", "577h", "sweep_interval: 577h is above the limit of 24d" },
	{ "table.max_flows", "1", "" },
	{ "table.max_flows", "67108864", "" },
	{ "table.max_flows", "67108865", "table.max_flows: 67108865 is above the limit of 67108864" },
	{ "table.max_flows", "0", "table.max_flows: must be at least 1" },
	{ "table.max_flows", "18446744073709551616",
	  "table.max_flows: 18446744073709551616 is above the limit of 67108864" },
	{ "nat.port_range", "1-65535", "" },
	{ "nat.port_range", "0-65535", "nat.port_range: 0-65535 is outside the ports 1-65535" },
	{ "nat.port_range", "1024-65536", "nat.port_range: 1024-65536 is outside the ports 1-65535" },
	{ "nat.port_range", "2000-1999", "nat.port_range: 2000-1999 is empty (the low port is above the high one)" },
	{ "nat.port_range", "2000-2000", "" },
	{ "loss.outbound", "100%", "" },
	{ "loss.outbound", "99.9%", "" },
	{ "loss.outbound", "100.1%", "loss.outbound: 100.1% is outside 0%..100%" },
	{ "loss.outbound", "1", "" },
	{ "loss.inbound", "1.01", "loss.inbound: 1.01 is outside 0..1" },
	{ "loss.inbound", "0", "" },
	{ "loss.inbound", "-0.1", "loss.inbound: -0.1 is outside 0..1" },
	{ "loss.inbound", "nan", "loss.inbound: 'nan' is not a probability (0..1 or 0%..100%)" },
	{ "loss.inbound", "1e-3", "loss.inbound: '1e-3' is not a probability (0..1 or 0%..100%)" },
	{ "seed", "0", "" },
	{ "seed", "18446744073709551615", "" },
	{ "seed", "18446744073709551616", "seed: 18446744073709551616 is above the limit of 18446744073709551615" },
};
#define N_LIMIT_CASES (sizeof(limit_cases) / sizeof(limit_cases[0]))

#endif
