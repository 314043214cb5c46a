// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The arithmetic of `idlegate tune`: grid, boundary, margin, cost, and the
 * software knob table. See tune.h for the formulas and docs/tune.md for
 * why they are what they are.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/vec.h"
#include "runner/tune/tune.h"

const char *tune_kind_name(enum tune_kind k)
{
	return k == TUNE_KERNEL ? "kernel-keepalive" : "heartbeat";
}

int tune_scale(uint64_t shortest_timeout_ms, const struct timescale *forced, struct timescale *out,
	       uint64_t *step_ms, char *err, size_t errlen)
{
	uint64_t n;

	if (forced) {
		if (forced->num != 1 || forced->den < 1) {
			snprintf(err, errlen, "--time-scale must be 1/N (or Nx) with a whole N >= 1: kernel "
				 "keepalive times are whole seconds, so every candidate must be a multiple "
				 "of N seconds");
			errno = EINVAL;
			return -1;
		}
		n = forced->den;
	} else {
		n = shortest_timeout_ms / 1000 / TUNE_TARGET_SCALED_S;
		if (n < 1)
			n = 1;
	}
	if (shortest_timeout_ms < 4 * n * 1000) {
		char a[32], b[32];

		snprintf(err, errlen, "the shortest timeout (%s) is below 4 grid steps of %s: nothing to "
			 "sweep (use a larger timeout or a faster --time-scale)",
			 duration_format(shortest_timeout_ms, a, sizeof(a)), duration_format(n * 1000, b, sizeof(b)));
		errno = EINVAL;
		return -1;
	}
	out->num = 1;
	out->den = n;
	*step_ms = n * 1000;
	return 0;
}

static const unsigned grid_pct[] = { 25, 50, 60, 70, 80, 85, 90, 95, 100, 105, 110, 120, 130 };
_Static_assert(sizeof(grid_pct) / sizeof(grid_pct[0]) == TUNE_GRID_POINTS, "TUNE_GRID_POINTS");

size_t tune_grid(uint64_t timeout_ms, uint64_t step_ms, uint64_t *out, size_t max)
{
	size_t n = 0;

	if (!step_ms)
		return 0;
	for (size_t i = 0; i < sizeof(grid_pct) / sizeof(grid_pct[0]) && n < max; i++) {
		uint64_t v = timeout_ms / 100 * grid_pct[i] + timeout_ms % 100 * grid_pct[i] / 100;

		v = v / step_ms * step_ms;
		if (v < step_ms)
			v = step_ms;
		if (n && out[n - 1] >= v)
			continue;
		out[n++] = v;
	}
	return n;
}

uint64_t tune_grid_interval(uint64_t value_ms, uint64_t step_ms)
{
	uint64_t i = value_ms / 5 / step_ms * step_ms;

	return i < step_ms ? step_ms : i;
}

void tune_boundary(const bool *survived, size_t n, struct tune_boundary *b)
{
	size_t i = 0;

	b->boundary = -1;
	b->all_survived = false;
	b->suspicious = -1;
	while (i < n && survived[i])
		i++;
	b->boundary = (int)i - 1;
	b->all_survived = n > 0 && i == n;
	for (size_t j = i; j < n; j++)
		if (survived[j]) {
			b->suspicious = (int)j;
			break;
		}
}

unsigned tune_loss_retries(double loss)
{
	unsigned m = 0;
	double p = loss;

	if (!(loss > 0))
		return 0;
	if (loss > 0.9)
		loss = 0.9;
	p = loss;
	while (p > TUNE_EPSILON * (1 + 1e-9) && m < 200) {
		p *= loss;
		m++;
	}
	return m;
}

static uint64_t floor_step(uint64_t v, uint64_t step)
{
	return v / step * step;
}

int tune_recommend(enum tune_kind kind, uint64_t boundary_ms, uint64_t step_ms, uint64_t sweep_ms,
		   double loss, struct tune_rec *rec)
{
	uint64_t jit = (uint64_t)((double)boundary_ms * TUNE_JITTER_SHARE);
	uint64_t lim, rest;

	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->retries = tune_loss_retries(loss);
	rec->count = rec->retries + 1 < 3 ? 3 : rec->retries + 1;
	rest = boundary_ms > sweep_ms ? boundary_ms - sweep_ms : 0;
	if (kind == TUNE_KERNEL) {
		uint64_t lost;

		rec->interval_ms = floor_step(boundary_ms / 10, step_ms);
		if (rec->interval_ms < step_ms)
			rec->interval_ms = step_ms;
		lost = sat_mul(rec->retries, rec->interval_ms);
		lim = rest > lost ? rest - lost : 0;
	} else {
		lim = rest / (rec->retries + 1);
	}
	if (jit < lim)
		lim = jit;
	rec->limit_ms = lim;
	rec->value_ms = floor_step(lim, step_ms);
	if (rec->value_ms < step_ms || rec->value_ms < 1000) {
		rec->value_ms = 0;
		errno = ERANGE;
		return -1;
	}
	if (kind == TUNE_KERNEL)
		rec->detect_ms = sat_add(rec->value_ms, sat_mul(rec->interval_ms, rec->count));
	else
		rec->detect_ms = sat_mul(rec->value_ms, rec->count);
	rec->per_hour = 3600000.0 / (double)rec->value_ms;
	return 0;
}

const char *tune_formula(enum tune_kind kind)
{
	if (kind == TUNE_KERNEL)
		return "idle = floor_G(min(0.8 B, B - S - m I)), I = max(G, floor_G(B/10)), count = max(3, m+1), "
		       "m = least m with p^(m+1) <= 1e-6; B boundary, G grid step, S sweep interval, p loss";
	return "interval = floor_G(min(0.8 B, (B - S) / (m+1))), declare dead after max(3, m+1) missed, "
	       "m = least m with p^(m+1) <= 1e-6; B boundary, G grid step, S sweep interval, p loss";
}

static struct tune_knob *knob(struct tune_knob *out, size_t *n, size_t max, const char *sw)
{
	struct tune_knob *k;

	if (*n >= max)
		return NULL;
	k = &out[(*n)++];
	memset(k, 0, sizeof(*k));
	snprintf(k->software, sizeof(k->software), "%s", sw);
	return k;
}

size_t tune_knobs(const struct tune_rec *ka, const struct tune_rec *hb, bool udp,
		  struct tune_knob *out, size_t max)
{
	size_t n = 0;
	struct tune_knob *k;

	if (ka) {
		uint64_t idle = ka->value_ms / 1000, iv = ka->interval_ms / 1000;

		/* a sysctl.d file: one key = value per line (sysctl -p refuses a
		 * ';' list) */
		if ((k = knob(out, &n, max, "Linux sysctl")))
			snprintf(k->setting, sizeof(k->setting),
				 "net.ipv4.tcp_keepalive_time = %" PRIu64 "\nnet.ipv4.tcp_keepalive_intvl = %" PRIu64
				 "\nnet.ipv4.tcp_keepalive_probes = %u", idle, iv, ka->count),
			snprintf(k->note, sizeof(k->note),
				 "a file for /etc/sysctl.d/ (sysctl -p FILE); only for sockets that set SO_KEEPALIVE "
				 "without their own TCP_KEEP* values");
		if ((k = knob(out, &n, max, "socket options")))
			snprintf(k->setting, sizeof(k->setting),
				 "SO_KEEPALIVE=1 TCP_KEEPIDLE=%" PRIu64 " TCP_KEEPINTVL=%" PRIu64 " TCP_KEEPCNT=%u "
				 "TCP_USER_TIMEOUT=%" PRIu64, idle, iv, ka->count, ka->detect_ms),
			snprintf(k->note, sizeof(k->note),
				 "TCP_USER_TIMEOUT (ms) = idle + interval x count, so data in flight is given up as soon");
		if ((k = knob(out, &n, max, "libpq (PostgreSQL)")))
			snprintf(k->setting, sizeof(k->setting),
				 "keepalives=1 keepalives_idle=%" PRIu64 " keepalives_interval=%" PRIu64
				 " keepalives_count=%u tcp_user_timeout=%" PRIu64, idle, iv, ka->count, ka->detect_ms),
			snprintf(k->note, sizeof(k->note),
				 "connection string keywords: add them to yours, e.g. psql \"host=db ...\"; "
				 "tcp_user_timeout needs libpq >= 12");
		if ((k = knob(out, &n, max, "curl")))
			snprintf(k->setting, sizeof(k->setting), "--keepalive-time %" PRIu64, idle),
			snprintf(k->note, sizeof(k->note),
				 "curl sets both TCP_KEEPIDLE and TCP_KEEPINTVL to this value; curl >= 8.9 also "
				 "takes --keepalive-cnt %u", ka->count);
	}
	if (hb && !udp) {
		uint64_t h = hb->value_ms / 1000;

		/* ssh_config takes one keyword per line, ssh -o one per option */
		if ((k = knob(out, &n, max, "OpenSSH client")))
			snprintf(k->setting, sizeof(k->setting), "ServerAliveInterval %" PRIu64
				 "\nServerAliveCountMax %u", h, hb->count),
			snprintf(k->note, sizeof(k->note),
				 "ssh_config lines; encrypted channel messages: they count as data, also where "
				 "keepalives do not (ClientAliveInterval/CountMax on the server side)");
		if ((k = knob(out, &n, max, "OpenSSH ssh -o")))
			snprintf(k->setting, sizeof(k->setting), "-o ServerAliveInterval=%" PRIu64
				 " -o ServerAliveCountMax=%u", h, hb->count);
		if ((k = knob(out, &n, max, "gRPC")))
			snprintf(k->setting, sizeof(k->setting),
				 "GRPC_ARG_KEEPALIVE_TIME_MS=%" PRIu64 " GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS=1",
				 hb->value_ms),
			snprintf(k->note, sizeof(k->note), "%s",
				 hb->value_ms < 300000 ? "servers reject pings more often than every 5 min by default: "
				 "lower GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS on the server to match"
				 : "the server must permit pings without calls");
	}
	if (hb && udp) {
		if ((k = knob(out, &n, max, "WireGuard")))
			snprintf(k->setting, sizeof(k->setting), "PersistentKeepalive = %" PRIu64,
				 hb->value_ms / 1000),
			snprintf(k->note, sizeof(k->note), "%s",
				 hb->value_ms > 65535000 ? "above WireGuard's maximum of 65535 s" :
				 "in the [Peer] section of the side behind the middlebox");
		if ((k = knob(out, &n, max, "application")))
			snprintf(k->setting, sizeof(k->setting),
				 "send a datagram at least every %s while idle (e.g. a STUN binding or "
				 "the protocol's own keepalive)",
				 duration_format(hb->value_ms, (char[32]){ 0 }, 32));
	}
	return n;
}
