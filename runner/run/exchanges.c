// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data and heartbeat marks of a probe flow's timeline. The middleboxes
 * log what changes their state (new flows, keepalives, drops, expiries),
 * not every packet, so the application's own traffic comes from the probe:
 * its result counts the heartbeats the client sent (client.heartbeats), the
 * server's heartbeats the client received (client.server_heartbeats) and
 * the exchanges completed after an idle period (client.cycles_done). Each
 * counted message is placed where the probe's plan sends it: the first
 * exchange at the start, heartbeats every `heartbeat` of each idle period,
 * an exchange at the end of each idle period. A flow kept alive by
 * heartbeats then shows them, and one that was not, shows none.
 */
#include "runner/run/internal.h"

/* No more marks of one kind per flow than this (the SVG draws marks on one
 * pixel once; the JSON stays readable). */
#define EX_MAX_MARKS 5000

/* `count` messages every `every` ms of each idle period of f (the first
 * from t0), in direction dir, as marks of kind k. */
static void heartbeats(struct scenario_result *res, int idx, const struct sc_flow *f, uint64_t t0,
		       uint64_t every, uint64_t count, enum tl_kind k, int dir, const char *who)
{
	unsigned cycles = f->cycles ? f->cycles : 1;
	uint64_t done = 0;

	if (!every || !f->idle.ms)
		return;
	for (unsigned c = 0; c < cycles && done < count && done < EX_MAX_MARKS; c++)
		for (uint64_t t = every; t < f->idle.ms && done < count && done < EX_MAX_MARKS; t += every) {
			done++;
			run_mark(res, t0 + (uint64_t)c * f->idle.ms + t, k, idx, -1, dir,
				 "%s heartbeat %" PRIu64 " of %" PRIu64, who, done, count);
		}
}

void exchanges_mark(const struct run *r, struct scenario_result *res, int idx, const json_t *js,
		    const char *outcome, int64_t noticed_ms, int64_t cycle)
{
	const struct sc_flow *f = &r->sc->flows[idx];
	int64_t hb = 0, shb = 0, done = 0;
	int first = f->speaker == SC_SERVER ? 1 : 0;
	uint64_t t0 = run_conn_start(f, 0);

	if (!res)
		return;
	jsonio_get_int(js, "client.heartbeats", &hb);
	jsonio_get_int(js, "client.server_heartbeats", &shb);
	jsonio_get_int(js, "client.cycles_done", &done);
	/* the exchange that opened the flow: the client speaks first */
	run_mark(res, t0, TL_DATA, idx, -1, 0, "first exchange: client to server");
	run_mark(res, t0, TL_DATA, idx, -1, 1, "first exchange: server to client");
	heartbeats(res, idx, f, t0, f->heartbeat.ms, hb > 0 ? (uint64_t)hb : 0, TL_HEARTBEAT, 0, "client");
	heartbeats(res, idx, f, t0, f->server_heartbeat.ms, shb > 0 ? (uint64_t)shb : 0, TL_HEARTBEAT, 1,
		   "server");
	for (int64_t c = 1; c <= done && c <= EX_MAX_MARKS; c++) {
		uint64_t t = t0 + (uint64_t)c * f->idle.ms;

		run_mark(res, t, TL_DATA, idx, -1, first, "exchange after idle period %" PRId64 ": %s speaks",
			 c, first ? "server" : "client");
		run_mark(res, t, TL_DATA, idx, -1, !first, "exchange after idle period %" PRId64 ": answer", c);
	}
	/* the speaker's send that found out (the flow was not alive) */
	if (strcmp(outcome, "alive") && noticed_ms >= 0 && (uint64_t)noticed_ms >= f->idle.ms &&
	    cycle > done)
		run_mark(res, t0 + (uint64_t)(cycle > 1 ? cycle - 1 : 0) * f->idle.ms + f->idle.ms, TL_DATA, idx,
			 -1, first, "%s speaks after idle period %" PRId64 ": no answer",
			 first ? "server" : "client", cycle);
}
