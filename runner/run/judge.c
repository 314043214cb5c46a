// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Judging a run: the probes' JSON results and the commands' exit statuses,
 * with what the middleboxes logged, become each flow's observed outcome,
 * evidence and status (see internal.h).
 */
#include "runner/run/internal.h"

#include <regex.h>

#include "runner/run/cmdjudge.h"


static const char *outcome_words(const char *o)
{
	if (!strcmp(o, "reset"))
		return "RST";
	if (!strcmp(o, "closed"))
		return "FIN (connection closed)";
	if (!strcmp(o, "keepalive-timeout"))
		return "the kernel gave up";
	if (!strcmp(o, "unreachable"))
		return "ICMP unreachable";
	if (!strcmp(o, "refused"))
		return "the SYN was answered with RST";
	if (!strcmp(o, "connect-timeout"))
		return "no answer to the SYN";
	if (!strcmp(o, "rebound"))
		return "the server saw the client from a new address or port";
	return o;
}

uint64_t run_conn_start(const struct sc_flow *f, unsigned conn)
{
	/* a command is one connection, started at its start = (run.c) */
	return f->start.ms + (f->count > 1 ? f->ramp.ms * conn / (f->count - 1) : 0);
}

uint64_t run_conn_since(const struct sc_flow *f, unsigned conn, uint64_t t)
{
	uint64_t start = run_conn_start(f, conn);

	return t > start ? t - start : 0;
}

int judge_init(struct run *r, struct scenario_result *res)
{
	if (result_init_error(res, r->sc, "not run") < 0)
		return -1;
	r->facts = calloc(r->sc->nflows ? r->sc->nflows : 1, sizeof(*r->facts));
	if (!r->facts)
		return -1;
	for (size_t i = 0; i < r->sc->nflows; i++) {
		r->facts[i] = calloc(r->sc->flows[i].count, sizeof(*r->facts[i]));
		if (!r->facts[i]) {
			errno = ENOMEM;
			return -1;
		}
		for (unsigned k = 0; k < r->sc->flows[i].count; k++)
			r->facts[i][k].expired_at = -1;
	}
	return 0;
}

void judge_free(struct run *r)
{
	for (size_t i = 0; r->facts && i < r->sc->nflows; i++)
		free(r->facts[i]);
	free(r->facts);
	r->facts = NULL;
}

struct conn_facts *run_conn_facts(const struct run *r, int flow, unsigned conn)
{
	if (!r->facts || flow < 0 || (size_t)flow >= r->sc->nflows || !r->facts[flow] ||
	    conn >= r->sc->flows[flow].count)
		return NULL;
	return &r->facts[flow][conn];
}

/* n with a comma every three digits: "1,369". */
static const char *count_text(uint32_t n, char *buf, size_t len)
{
	char d[16];
	size_t nd = (size_t)snprintf(d, sizeof(d), "%u", n), o = 0;

	for (size_t i = 0; i < nd && o + 2 < len; i++) {
		if (i && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = '\0';
	return buf;
}

/*
 * What the middleboxes did to connection conn of a flow, in words:
 * " (middleboxes nat, fw: fw expired the flow at 350s, dropped 3 packets,
 * 6 keepalives seen)"; the expiry at scenario time since its idle start.
 * again: the flow's result when conn is its first connection (whether a
 * packet started the flow again after its expiry), else NULL.
 */
static void mb_view(struct run *r, int flow, unsigned conn, const struct flow_result *again, char *buf,
		    size_t len)
{
	const struct sc_flow *f = &r->sc->flows[flow];
	const struct conn_facts *cf = run_conn_facts(r, flow, conn);
	struct lane *l = &r->lane[r->lane_of[flow]];
	char t[32];
	size_t off = 0;

	buf[0] = '\0';
	if (!l->npath)
		return;
	off += (size_t)snprintf(buf + off, len - off, " (%s %s", l->npath > 1 ? "middleboxes" : "middlebox",
				r->sc->mb[l->path[0]].name);
	for (size_t p = 1; p < l->npath && off < len; p++)
		off += (size_t)snprintf(buf + off, len - off, ", %s", r->sc->mb[l->path[p]].name);
	if (off < len && cf && cf->expired_at >= 0) {
		/* on a path of several, which of them expired it */
		for (size_t p = 0, n = 0; l->npath > 1 && p < l->npath && off < len; p++)
			if (cf->expired_by & (1u << p))
				off += (size_t)snprintf(buf + off, len - off, "%s%s", n++ ? " and " : ": ",
							r->sc->mb[l->path[p]].name);
		off += (size_t)snprintf(buf + off, len - off, " expired the flow at %s",
					duration_format(duration_round(run_conn_since(f, conn, (uint64_t)cf->expired_at)),
							t, sizeof(t)));
		/* a late packet (a keepalive, say) may start it again, and it
		 * may expire again (known for a flow's first connection) */
		if (off < len && again && again->expired_ms >= 0 && again->recreated_ms >= 0)
			off += (size_t)snprintf(buf + off, len - off, ", a packet started it again at %s",
						duration_format(duration_round((uint64_t)again->recreated_ms), t,
								sizeof(t)));
		if (off < len && again && again->expiries > 1 && again->recreated_ms >= 0 &&
		    again->last_expired_ms > again->recreated_ms)
			off += (size_t)snprintf(buf + off, len - off, " (expired %u times, the last at %s)",
						again->expiries,
						duration_format(duration_round((uint64_t)again->last_expired_ms), t,
								sizeof(t)));
	} else if (off < len) {
		off += (size_t)snprintf(buf + off, len - off, " kept the flow");
	}
	if (off < len && cf && cf->drops)
		off += (size_t)snprintf(buf + off, len - off, ", dropped %s packet%s",
					count_text(cf->drops, t, sizeof(t)), cf->drops == 1 ? "" : "s");
	if (off < len && f->proto == SC_TCP && f->keepalive != SC_KA_OFF)
		off += (size_t)snprintf(buf + off, len - off, ", %s keepalive%s seen",
					count_text(cf ? cf->keepalives : 0, t, sizeof(t)),
					cf && cf->keepalives == 1 ? "" : "s");
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

/* What the first middlebox did to connection conn of a flow that never got
 * through: " (middlebox fw dropped 2 packets)", or "" when it saw nothing
 * (no middlebox kept a flow for it: mb_view would say "kept"). */
static void mb_view_never(struct run *r, int flow, unsigned conn, char *buf, size_t len)
{
	const struct conn_facts *cf = run_conn_facts(r, flow, conn);
	struct lane *l = &r->lane[r->lane_of[flow]];
	char t[32];

	buf[0] = '\0';
	if (l->npath && cf && cf->drops)
		snprintf(buf, len, " (middlebox %s dropped %s packet%s)", r->sc->mb[l->path[0]].name,
			 count_text(cf->drops, t, sizeof(t)), cf->drops == 1 ? "" : "s");
}

static void run_judge(struct flow_result *fr)
{
	if (fr->status == RES_ERROR)
		return;
	fr->status = !strcmp(fr->observed, fr->expected) ? RES_PASS : RES_FAIL;
}

/* A judged connection's outcome as an enum sc_expect, or GROUP_OTHER
 * (error, interrupted, an outcome no expectation names). */
static int outcome_kind(const struct flow_result *one)
{
	for (int e = 0; e < SC_EXPECT_N; e++)
		if (one->status != RES_ERROR && !strcmp(one->observed, sc_expect_name((enum sc_expect)e)))
			return e;
	return GROUP_OTHER;
}

/* Count one connection of a group into its result gr: the tally, and the
 * evidence of the first connection of each outcome (a sample). */
static void group_count(struct run *r, int idx, unsigned conn, const struct flow_result *one,
			struct flow_result *gr)
{
	const struct sc_flow *sf = &r->sc->flows[idx];
	int o = outcome_kind(one);

	if (o != GROUP_OTHER && gr->tally[o]++)
		return;
	if (o == GROUP_OTHER && gr->other++)
		return;
	/* the first connection of each outcome is a sample: its evidence is
	 * added to the group's; the numbers (noticed_*, errno, what the
	 * middleboxes did to it) are those of the first that did not meet a
	 * per-flow expectation, else the first */
	bool unmet = !sf->ncounted && o != (int)sf->expect;
	size_t off = strlen(gr->evidence);

	if (gr->sample < 0 || (unmet && !gr->sample_unmet)) {
		const struct conn_facts *cf = run_conn_facts(r, idx, conn);

		gr->sample = (int)conn;
		gr->sample_unmet = unmet;
		snprintf(gr->noticed_by, sizeof(gr->noticed_by), "%s", one->noticed_by);
		gr->noticed_ms = one->noticed_ms;
		gr->err = one->err;
		gr->server_heartbeats = one->server_heartbeats;
		gr->last_server_heartbeat_ms = one->last_server_heartbeat_ms;
		gr->keepalives_seen = cf ? cf->keepalives : 0;
		gr->drops = cf ? cf->drops : 0;
		gr->expired_ms = !cf || cf->expired_at < 0 ? -1
				 : (int64_t)run_conn_since(sf, conn, (uint64_t)cf->expired_at);
	}
	if (off < sizeof(gr->evidence) - 1)
		snprintf(gr->evidence + off, sizeof(gr->evidence) - off, "%s%s.%u: %.200s", off ? "; " : "",
			 sf->name, conn + 1, o != GROUP_OTHER ? one->evidence : one->error);
}

/* The histogram points the probe's lines did not give: a connection the
 * probe never reported ends when its client ended (else when the run
 * did), and each connection a middlebox expired counts once, at its first
 * expiry. Counts the unreported into gr. */
static void group_points_left(struct run *r, int idx, struct flow_result *gr, struct scenario_result *res)
{
	uint64_t end = r->flow_end[idx] ? (uint64_t)run_scen_ms(r, (int64_t)r->flow_end[idx]) : res->scenario_ms;

	gr->unreported = 0;
	for (unsigned k = 0; run_conn_facts(r, idx, k); k++) {
		const struct conn_facts *cf = run_conn_facts(r, idx, k);

		if (!cf->reported) {
			gr->unreported++;
			result_group_point(res, idx, end, GROUP_UNREPORTED);
		}
		if (cf->expired_at >= 0)
			result_group_point(res, idx, (uint64_t)cf->expired_at, GROUP_EXPIRED);
	}
}

/* "across the 1,000 connections: 998 expired by a middlebox, 1,369
 * packets dropped, 2,000 keepalives seen; " before the samples' evidence
 * (which gives way at its end if both do not fit). */
static void group_totals(const struct run *r, int idx, struct flow_result *gr)
{
	const struct sc_flow *sf = &r->sc->flows[idx];
	char a[16], b[16], c[16], d[16], pre[200];
	size_t lp, le = strlen(gr->evidence);

	lp = (size_t)snprintf(pre, sizeof(pre), "across the %s connections: %s expired by a middlebox, %s packet%s dropped",
			      count_text(sf->count, a, sizeof(a)), count_text(gr->total.expired, b, sizeof(b)),
			      count_text(gr->total.drops, c, sizeof(c)), gr->total.drops == 1 ? "" : "s");
	if (lp < sizeof(pre) && sf->proto == SC_TCP && sf->keepalive != SC_KA_OFF)
		lp += (size_t)snprintf(pre + lp, sizeof(pre) - lp, ", %s keepalive%s seen",
				       count_text(gr->total.keepalives_seen, d, sizeof(d)),
				       gr->total.keepalives_seen == 1 ? "" : "s");
	if (lp < sizeof(pre) && le)
		lp += (size_t)snprintf(pre + lp, sizeof(pre) - lp, "; ");
	lp = lp < sizeof(pre) ? lp : sizeof(pre) - 1;
	if (lp + le >= sizeof(gr->evidence))
		le = sizeof(gr->evidence) - 1 - lp;
	memmove(gr->evidence + lp, gr->evidence, le);
	memcpy(gr->evidence, pre, lp);
	gr->evidence[lp + le] = '\0';
}

/* A group's status once every line was read: the tally against the
 * expectation; connections the probe could not run or never reported
 * make it an error. */
static void group_judge(struct run *r, int idx, struct flow_result *gr, const char *tail,
			struct scenario_result *res)
{
	const struct sc_flow *sf = &r->sc->flows[idx];
	unsigned n[SC_EXPECT_N];
	size_t off = 0;

	group_points_left(r, idx, gr, res);
	for (int e = 0; e < SC_EXPECT_N; e++) {
		n[e] = gr->tally[e];
		if (n[e] && off < sizeof(gr->observed))
			off += (size_t)snprintf(gr->observed + off, sizeof(gr->observed) - off, "%s%u %s",
						off ? ", " : "", n[e], sc_expect_name((enum sc_expect)e));
	}
	if (gr->other && off < sizeof(gr->observed))
		off += (size_t)snprintf(gr->observed + off, sizeof(gr->observed) - off, "%s%u not run",
					off ? ", " : "", gr->other);
	if (gr->unreported && off < sizeof(gr->observed))
		snprintf(gr->observed + off, sizeof(gr->observed) - off, "%s%u unreported", off ? ", " : "",
			 gr->unreported);
	gr->error[0] = '\0';
	if (gr->other || gr->unreported) {
		gr->status = RES_ERROR;
		snprintf(gr->error, sizeof(gr->error),
			 "of %u connections, %u could not be run and %u were not reported%s%.170s",
			 sf->count, gr->other, gr->unreported, gr->evidence[0] || tail[0] ? ": " : "",
			 gr->evidence[0] ? gr->evidence : tail);
	} else {
		gr->status = sc_expect_met(sf, n) ? RES_PASS : RES_FAIL;
	}
	group_totals(r, idx, gr);
}

/* What the probe said about one flow, as read from its result line. */
struct probe_line {
	char out[24], who[16], detail[160], errname[32];
	int64_t at, cycle;
	bool never;                     /* the connection never got through */
	bool connected;                 /* the probe says its handshake completed */
};

static void probe_line_read(const json_t *js, struct probe_line *pl, struct flow_result *fr,
			    const struct scenario *sc)
{
	int64_t e = 0, v = -1;
	bool connected = true;

	*pl = (struct probe_line){ .at = -1, .cycle = 1 };
	jsonio_get_str(js, "outcome", pl->out, sizeof(pl->out));
	/* whatever the outcome: a SYN answered by ICMP is unreachable too */
	jsonio_get_bool(js, "client.connected", &connected);
	pl->connected = connected;
	pl->never = !connected || !strcmp(pl->out, "refused") || !strcmp(pl->out, "connect-timeout");
	jsonio_get_str(js, "noticed_by", pl->who, sizeof(pl->who));
	jsonio_get_int(js, "at_ms", &pl->at);
	jsonio_get_int(js, "cycle", &pl->cycle);
	jsonio_get_int(js, "client.errno", &e);
	fr->err = (int)e;
	jsonio_get_str(js, "client.errno_name", pl->errname, sizeof(pl->errname));
	if (jsonio_get_str(js, "client.detail", pl->detail, sizeof(pl->detail)) < 0 || !pl->detail[0])
		jsonio_get_str(js, "server.detail", pl->detail, sizeof(pl->detail));
	snprintf(fr->noticed_by, sizeof(fr->noticed_by), "%s", pl->who);
	jsonio_get_str(js, "client.local", fr->local, sizeof(fr->local));
	jsonio_get_str(js, "client.seen_as", fr->seen_as, sizeof(fr->seen_as));
	if (jsonio_get_int(js, "client.server_heartbeats", &v) == 0 && v >= 0)
		fr->server_heartbeats = (uint32_t)v;
	v = -1;
	if (jsonio_get_int(js, "client.last_server_heartbeat_ms", &v) == 0 && v >= 0)
		fr->last_server_heartbeat_ms = (int64_t)run_unscale(sc, (uint64_t)v);
}

/* How a connection that never got through ended, in words. */
static const char *never_words(const struct sc_flow *sf, const struct probe_line *pl)
{
	if (sf->proto == SC_TCP && !strcmp(pl->out, "unreachable"))
		return "the SYN was answered with ICMP unreachable";
	if (strcmp(pl->out, "connect-timeout"))
		return outcome_words(pl->out);
	if (sf->proto == SC_UDP)
		return "no answer to the first datagram";
	return pl->connected ? "the handshake completed, then no answer from the server" : "no answer to the SYN";
}

/* The evidence of connection conn of flow idx in words: what the probe
 * saw, then what the middleboxes did to that connection. */
static void probe_evidence(struct run *r, int idx, unsigned conn, const struct probe_line *pl,
			   struct flow_result *fr, const struct flow_result *again)
{
	const struct sc_flow *sf = &r->sc->flows[idx];
	char a[32], b[32], c[32], mv[200];
	const char *out = pl->out, *who = pl->who;

	mb_view(r, idx, conn, again, mv, sizeof(mv));
	duration_format(sf->idle.ms, a, sizeof(a));
	if (!strcmp(out, "alive"))
		snprintf(fr->evidence, sizeof(fr->evidence), "data crossed both ways after %s idle%s%.170s", a,
			 sf->cycles > 1 ? " (every cycle)" : "", mv);
	else if (!strcmp(out, "timeout"))
		snprintf(fr->evidence, sizeof(fr->evidence), "no answer within %s after %s idle%s%s%.150s",
			 duration_format(sf->deadline.ms, b, sizeof(b)), a, who[0] ? ", noticed by the " : "", who, mv);
	else if (pl->never) {
		mb_view_never(r, idx, conn, mv, sizeof(mv));
		snprintf(fr->evidence, sizeof(fr->evidence), "never connected: %s%s%s%s, seen by the client%s%.150s%s",
			 never_words(sf, pl), pl->errname[0] ? " (" : "", pl->errname, pl->errname[0] ? ")" : "",
			 pl->detail[0] ? ": " : "", pl->detail, mv);
	}
	else
		snprintf(fr->evidence, sizeof(fr->evidence), "%s%s%s%s after %s idle%s%s%s%s",
			 outcome_words(out), pl->errname[0] ? " (" : "", pl->errname, pl->errname[0] ? ")" : "",
			 pl->at >= 0 ? duration_format(duration_round((uint64_t)fr->noticed_ms), c, sizeof(c)) : "?",
			 pl->cycle > 1 ? " (in a later cycle)" : "",
			 who[0] ? ", seen by the " : "", who,
			 /* the client saw the reset when it spoke first after the idle */
			 !strcmp(who, "client") && sf->speaker == SC_CLIENT && !strcmp(out, "reset") &&
			 fr->noticed_ms >= 0 && (uint64_t)fr->noticed_ms >= sf->idle.ms ? " on its first send" : "");
	if (strcmp(out, "alive") && strcmp(out, "timeout") && !pl->never) {
		size_t o = strlen(fr->evidence);

		snprintf(fr->evidence + o, sizeof(fr->evidence) - o, "%s", mv);
	}
}

static int64_t probe_line_judge(struct run *r, int idx, unsigned conn, const json_t *js, struct flow_result *fr,
				struct scenario_result *res);

/* The histogram point of a group's connection judged into one: its outcome
 * at end, since the connection's start. A connection that never idled (end
 * -1) ended when its connect timed out (the deadline, as the probe had it),
 * else at its start (refused, or it could not be run). */
static void group_point(const struct run *r, int idx, unsigned conn, const struct flow_result *one,
			int64_t end, struct scenario_result *res)
{
	const struct sc_flow *sf = &r->sc->flows[idx];
	int kind = outcome_kind(one);
	uint64_t t = end > 0 ? (uint64_t)end : 0;

	if (end < 0 && kind == SC_EXPECT_CONNECT_TIMEOUT)
		t = run_unscale(r->sc, sf->deadline.scaled_ms);
	result_group_point(res, idx, run_conn_start(sf, conn) + t, kind);
}

/* Note that the probe reported connection conn of flow idx: false if it
 * did already (a line twice is counted once). */
static bool conn_reported(struct run *r, int idx, unsigned conn)
{
	struct conn_facts *cf = run_conn_facts(r, idx, conn);

	if (cf && cf->reported) {
		log_warnx("the probe reported %s.%u twice: its second line is ignored", r->sc->flows[idx].name,
			  conn + 1);
		return false;
	}
	if (cf)
		cf->reported = true;
	return true;
}

/* One result line of the probe client: the flow's outcome, judged (a
 * group's connection judged alone, then counted into the group). Returns
 * the scenario flow it was about, or -1. */
static int probe_line_apply(struct run *r, struct group *g, const json_t *js, struct scenario_result *res)
{
	struct flow_result *fr, one;
	const struct sc_flow *sf;
	char name[64];
	unsigned conn = 0;
	int idx;

	if (jsonio_get_str(js, "flow", name, sizeof(name)) < 0)
		return -1;
	idx = group_flow_of_name(r, g, name, &conn);
	if (idx < 0 || !conn_reported(r, idx, conn))
		return -1;
	fr = &res->flows[idx];
	sf = &r->sc->flows[idx];
	if (sf->count > 1) {
		one = *fr;
		one.noticed_ms = -1;
		group_point(r, idx, conn, &one, probe_line_judge(r, idx, conn, js, &one, res), res);
		group_count(r, idx, conn, &one, fr);
		return idx;
	}
	probe_line_judge(r, idx, conn, js, fr, res);
	return idx;
}

/* The outcome of one connection into fr, judged. Returns when it ended,
 * scenario time since the connection's start, or -1 if it never idled. A
 * group's timeline shows its first connection, from its start. */
static int64_t probe_line_judge(struct run *r, int idx, unsigned conn, const json_t *js, struct flow_result *fr,
				struct scenario_result *res)
{
	const struct sc_flow *sf = &r->sc->flows[idx];
	struct scenario_result *marks = conn ? NULL : res;
	struct probe_line pl;
	int64_t end = -1;

	probe_line_read(js, &pl, fr, r->sc);
	if (pl.at >= 0) {
		uint64_t cyc_ms = pl.cycle > 1 ? (uint64_t)(pl.cycle - 1) * sf->idle.ms : 0;

		fr->noticed_ms = (int64_t)run_unscale(r->sc, (uint64_t)pl.at);
		end = (int64_t)cyc_ms + fr->noticed_ms;
		run_mark(marks, run_conn_start(sf, conn) + (uint64_t)end, TL_OUTCOME, idx, -1, -1, "%s%s%s",
			 pl.out, pl.who[0] ? ", noticed by the " : "", pl.who);
	}
	if (r->enough && (!strcmp(pl.out, "interrupted") || !strcmp(pl.out, "none"))) {
		fr->status = RES_SKIP;
		snprintf(fr->error, sizeof(fr->error), "not needed: the run ended once its answer was known");
		return end;
	}
	if (!strcmp(pl.out, "error") || !strcmp(pl.out, "interrupted") || !strcmp(pl.out, "none")) {
		fr->status = RES_ERROR;
		if (!strcmp(pl.out, "interrupted"))
			snprintf(fr->error, sizeof(fr->error), "interrupted before the flow ended");
		else
			snprintf(fr->error, sizeof(fr->error), "the probe could not run the flow: %s",
				 pl.detail[0] ? pl.detail : "no detail");
		return end;
	}
	snprintf(fr->observed, sizeof(fr->observed), "%s", pl.out);
	exchanges_mark(r, marks, idx, js, pl.out, pl.at >= 0 ? fr->noticed_ms : -1, pl.cycle);
	fr->status = RES_PASS;          /* judged below */
	fr->error[0] = '\0';
	probe_evidence(r, idx, conn, &pl, fr, conn ? NULL : &res->flows[idx]);
	run_judge(fr);
	return end;
}

/* Flows of the group the client said nothing of, or all of them if it
 * crashed: ERROR, with its stderr's last words. A flow group is counted
 * whole either way: what it reported, and the connections it did not. */
static void probe_missing(struct run *r, struct group *g, const bool *seen, struct scenario_result *res)
{
	bool crashed = g->cli_status < 0 || g->cli_status > 1;
	char tail[200];

	file_tail(g->cli_err, tail, sizeof(tail));
	for (size_t i = 0; i < g->n; i++) {
		struct flow_result *fr = &res->flows[g->flows[i]];
		const struct sc_flow *sf = &r->sc->flows[g->flows[i]];

		if (sf->count > 1) {
			group_judge(r, g->flows[i], fr, tail, res);
			if (!crashed)
				continue;
		} else if (seen[g->flows[i]] && !crashed) {
			continue;
		} else if (fr->status == RES_ERROR && fr->error[0] && strcmp(fr->error, "not run")) {
			continue;
		}
		fr->status = RES_ERROR;
		if (g->cli_status == 127)
			snprintf(fr->error, sizeof(fr->error), "idlegate-probe could not be executed");
		else if (crashed)
			snprintf(fr->error, sizeof(fr->error), "the probe client failed (status %d)%s%s",
				 g->cli_status, tail[0] ? ": " : "", tail);
		else
			snprintf(fr->error, sizeof(fr->error), "the probe client reported nothing for this flow%s%s",
				 tail[0] ? ": " : "", tail);
	}
}

void probe_results(struct run *r, struct lane *l, struct group *g, struct scenario_result *res)
{
	FILE *f = fopen_regular(g->cli_json);
	bool *seen = calloc(r->sc->nflows ? r->sc->nflows : 1, sizeof(*seen));
	char *line = NULL, why[160];
	size_t cap = 0;

	if (!seen) {
		run_fail(r, "out of memory");
		goto out;
	}

	for (size_t i = 0; i < g->n; i++) {
		struct flow_result *gr = &res->flows[g->flows[i]];

		if (r->sc->flows[g->flows[i]].count > 1) {
			memset(gr->tally, 0, sizeof(gr->tally));
			gr->other = gr->unreported = 0;
			gr->sample = -1;
			gr->evidence[0] = '\0';
			gr->keepalives_seen = gr->drops = 0;
			gr->expired_ms = -1;
		}
	}

	while (f && getline(&line, &cap, f) >= 0) {
		json_t *js = jsonio_load(line, strlen(line), why, sizeof(why));
		int idx;

		if (!js) {
			log_warnx("%s: a result line that is not a JSON object: %s", g->cli_json, why);
			continue;
		}
		idx = probe_line_apply(r, g, js, res);
		if (idx >= 0)
			seen[idx] = true;
		json_decref(js);
	}
	free(line);
	probe_missing(r, g, seen, res);
out:
	if (f)
		fclose(f);
	free(seen);
	(void)l;
}

/* Does the command's output (its first MiB) match the flow's expect_output? */
static bool output_matches(const char *path, const char *pattern)
{
	FILE *f = fopen_regular(path);
	char *buf = malloc(1024 * 1024 + 1);
	size_t n = 0;
	regex_t re;
	bool ok = false;

	if (buf && f)
		n = fread(buf, 1, 1024 * 1024, f);
	if (buf && !regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE)) {
		buf[n] = '\0';
		/* a NUL in the output would hide what follows: show it as a space */
		for (size_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		ok = regexec(&re, buf, 0, NULL, 0) == 0;
		regfree(&re);
	}
	free(buf);
	if (f)
		fclose(f);
	return ok;
}

/* The last non-empty line of the command's output, without its \r. */
static void last_line(const char *path, char *buf, size_t len)
{
	char tail[512], *nl;
	size_t n;

	file_tail(path, tail, sizeof(tail));
	n = strlen(tail);
	while (n && (tail[n - 1] == '\r' || tail[n - 1] == '\n' || tail[n - 1] == ' '))
		tail[--n] = '\0';
	nl = strrchr(tail, '\n');
	snprintf(buf, len, "%s", nl ? nl + 1 : tail);
	n = strlen(buf);
	while (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
}

/*
 * A command flow's outcome, judged on the wire (cmdjudge.h): what the
 * middleboxes did to its connection and whether its programs ran; then
 * expect_exit and expect_output, which are the application's own checks.
 */
void command_result(struct run *r, struct cmdflow *c, struct scenario_result *res)
{
	struct flow_result *fr = &res->flows[c->flow];
	const struct sc_flow *f = &r->sc->flows[c->flow];
	struct cmd_facts facts = {
		.has_server = f->server_command[0] != '\0',
		.server_failed = c->srv_failed,
		.server_status = c->srv_done ? c->srv_status : -1,
		.server_died = c->srv_died,
		.started = c->client > 0,
		.stopped = c->stopped,
		.status = c->status,
		.rst = c->rst, .fin = c->fin, .icmp = c->icmp,
		.expired = fr->expired_ms >= 0,
		.drops = fr->drops,
		.expect_keepalive_timeout = f->expect == SC_EXPECT_KEEPALIVE_TIMEOUT,
	};
	struct cmd_verdict v;
	char line[300], t[32], mv[200];
	uint64_t took = c->end > c->start ? c->end - c->start : 0;

	cmd_judge(&facts, &v);
	last_line(c->client > 0 ? c->out : c->srv_out, line, sizeof(line));
	if (v.error) {
		fr->status = RES_ERROR;
		fr->observed[0] = '\0';
		fr->evidence[0] = '\0';
		snprintf(fr->error, sizeof(fr->error), "%.180s%s%.70s", c->why[0] && c->srv_failed ? c->why : v.why,
			 !c->srv_failed && line[0] ? ": " : "", !c->srv_failed ? line : "");
		return;
	}
	fr->noticed_ms = (int64_t)run_unscale(r->sc, took);
	snprintf(fr->noticed_by, sizeof(fr->noticed_by), "client");
	run_mark(res, f->start.ms + (uint64_t)fr->noticed_ms, TL_OUTCOME, c->flow, -1, -1, "command exited %d",
		 c->status);
	snprintf(fr->observed, sizeof(fr->observed), "%s", v.observed);
	fr->status = RES_PASS;                  /* judged below */
	fr->error[0] = '\0';
	mb_view(r, c->flow, 0, fr, mv, sizeof(mv));
	{
		char ev[800];

		snprintf(ev, sizeof(ev), "command exited with status %d after %s (%s)%s%.80s%s",
			 c->status, duration_format(duration_round(run_unscale(r->sc, took)), t, sizeof(t)), v.why,
			 line[0] ? ": " : "", line, mv);
		snprintf(fr->evidence, sizeof(fr->evidence), "%.255s", ev);
	}
	run_judge(fr);
	if (fr->status != RES_PASS)
		return;
	/* the application's own checks come after the connection's */
	if (f->expect_exit >= 0 && c->status != f->expect_exit) {
		fr->status = RES_FAIL;
		snprintf(fr->evidence, sizeof(fr->evidence), "%s, but expect_exit = %d: exited with status %d%s%.150s",
			 v.observed, f->expect_exit, c->status, line[0] ? ": " : "", line);
	} else if (f->expect_output[0] && !output_matches(c->out, f->expect_output)) {
		fr->status = RES_FAIL;
		snprintf(fr->evidence, sizeof(fr->evidence), "%s, but the output does not match "
			 "expect_output = %.80s%s%.60s", v.observed, f->expect_output, line[0] ? "; it ends: " : "",
			 line);
	}
}
