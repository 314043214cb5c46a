// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate tune`: which keepalive settings keep a flow alive through one or
 * more simulated middleboxes, and what to write into common software to
 * get them. Every candidate (kernel keepalive idle times, application or
 * UDP heartbeat intervals, for every profile) is a flow of one generated
 * scenario, so the whole sweep takes about one idle period of wall time.
 * A candidate survives when its flow was alive after the idle period AND
 * no middlebox expired its state meanwhile (a state re-created by a loose
 * pickup would still have lost inbound traffic in the gap).
 *
 * The arithmetic is in runner/tune/tune.c; docs/tune.md explains the answer.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "common/vec.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"
#include "runner/model/result.h"
#include "runner/model/scenario.h"
#include "runner/run/sweep.h"
#include "runner/util/textutil.h"
#include "runner/tune/tune.h"

/* Each middlebox's candidates run on a path of their own: one network each. */
#define TUNE_MAX_PROFILES SC_MAX_NETWORKS
_Static_assert(TUNE_MAX_PROFILES * 2 * TUNE_GRID_POINTS <= SC_MAX_FLOWS,
	       "every candidate of every middlebox is a flow of one scenario");

struct cand {
	uint64_t value_ms, interval_ms;
	int flow;                       /* index into the sweep scenario */
	bool survived;
	char outcome[32];               /* "alive", "timeout", "alive, state expired" */
};

struct sweep_kind {
	enum tune_kind kind;
	struct cand c[TUNE_GRID_POINTS];
	size_t n;
	struct tune_boundary b;
	bool have_rec;
	struct tune_rec rec;
};

struct tprof {
	char name[SC_VALUE_MAX];        /* the profile, or the scenario's middlebox */
	struct tu_text mbtext;          /* its [middlebox] section body */
	uint64_t timeout_ms, sweep_ms, idle_ms;
	double loss;
	struct sweep_kind k[2];
	size_t nk;
};

struct tune {
	enum sc_proto proto;
	double loss;                    /* --loss, or the profiles' own, the larger */
	struct timescale scale;
	uint64_t step_ms;
	struct tprof *p;                /* [np], at most TUNE_MAX_PROFILES */
	size_t np, cap_p;
	const char **sets;              /* --set KNOB=VALUE [nsets] */
	size_t nsets, cap_sets;
	uint64_t wall_ms;
	/* combined over every profile, per kind */
	struct {
		enum tune_kind kind;
		bool have_b, lower_bound, have_rec;
		uint64_t boundary_ms, sweep_ms;
		struct tune_rec rec;
	} all[2];
	size_t nk;
};

static void tune_usage(FILE *f)
{
	fprintf(f,
"usage: idlegate tune (--profile NAME[,NAME...] | --scenario FILE) [OPTIONS]\n\n"
"Sweep keepalive settings against simulated middleboxes, all candidates at\n"
"once in one run, and say which setting to use and how to write it in\n"
"common software. TCP: kernel keepalive idle times and application\n"
"heartbeat intervals; UDP: heartbeat intervals.\n\n"
"  -p, --profile LIST    device profiles, comma-separated (idlegate profiles)\n"
"  -s, --scenario FILE   use the [middlebox] sections of a scenario file\n"
"      --proto tcp|udp   (default tcp)\n"
"      --loss P          packet loss to allow for in the margin (0..0.9 or N%%;\n"
"                        the simulation itself runs without loss unless --set)\n"
"      --time-scale 1/N  (default: chosen so the shortest timeout runs in ~%us)\n"
"      --set KNOB=VALUE  override a knob of every middlebox (repeatable),\n"
"                        e.g. --set tcp.established=20s\n"
"      --json FILE       write the answer as JSON\n"
"      --svg FILE        survival against the setting, per profile\n"
"  -h, --help            this help\n\n"
"The margin formula and the software table: docs/tune.md.\n"
"Exit status: 0 a setting was found, 1 no candidate kept the flow alive,\n"
"2 usage or profile error, 3 environment error or a run that could not be\n"
"trusted.\n", TUNE_TARGET_SCALED_S);
}

static int parse_loss(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end || !(v >= 0) || v > 0.9)
		return -1;
	*out = v;
	return 0;
}

/* One more middlebox to sweep, called name; NULL after saying why not. */
static struct tprof *tune_add(struct tune *t, const char *name)
{
	struct tprof *p;

	if (t->np == TUNE_MAX_PROFILES) {
		log_warnx("tune: at most %d middleboxes at once (each sweeps on a network of its own; "
			  "a scenario has at most %d)", TUNE_MAX_PROFILES, SC_MAX_NETWORKS);
		return NULL;
	}
	if (vec_reserve(&t->p, &t->cap_p, t->np + 1, sizeof(*t->p)) < 0)
		fatal("tune");
	p = &t->p[t->np++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

/* The [middlebox] bodies of the profiles or of the scenario's middleboxes. */
static int collect_profiles(struct tune *t, const char *list, const char *scfile)
{
	if (list) {
		char *buf = strdup(list), *save = NULL, *tok;

		if (!buf)
			fatal("tune");
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct tprof *p = tune_add(t, tok);

			if (!p) {
				free(buf);
				return -1;
			}
			tu_text_printf(&p->mbtext, "profile = %s\n", tok);
		}
		free(buf);
	}
	if (scfile) {
		struct scenario *sc = cli_scenario_load(scfile);

		if (!sc)
			return -1;
		for (size_t i = 0; i < sc->nmb; i++) {
			struct tprof *p = tune_add(t, sc->mb[i].name);

			if (!p) {
				scenario_free(sc);
				return -1;
			}
			cli_mb_append(&sc->mb[i], &p->mbtext);
		}
		scenario_free(sc);
	}
	if (!t->np) {
		log_warnx("tune: no middlebox: give --profile NAME or --scenario FILE");
		return -1;
	}
	return 0;
}

static void mb_sections(const struct tune *t, struct tu_text *b)
{
	for (size_t i = 0; i < t->np; i++) {
		tu_text_printf(b, "[middlebox p%zu]\n%s", i + 1, t->p[i].mbtext.s ? t->p[i].mbtext.s : "");
		cli_sets_text(b, t->sets, t->nsets);
	}
}

/* Phase 1: resolve every middlebox's policy through the scenario parser. */
static int resolve(struct tune *t)
{
	struct tu_text b = { 0 };
	struct scenario *sc;

	tu_text_printf(&b, "[scenario]\ndescription = tune: resolving the middleboxes\n");
	mb_sections(t, &b);
	for (size_t i = 0; i < t->np; i++)
		tu_text_printf(&b, "[flow resolve%zu]\nidle = 1s\nexpect = alive\npath = p%zu\n", i, i + 1);
	sc = sweep_parse(b.s, b.len, "(tune)");
	free(b.s);
	if (!sc)
		return -1;
	for (size_t i = 0; i < t->np; i++) {
		const struct policy *pol = &sc->mb[i].policy;
		struct tprof *p = &t->p[i];

		p->timeout_ms = t->proto == SC_TCP ? pol->timeout[TO_TCP_ESTABLISHED] : pol->timeout[TO_UDP_ASSURED];
		p->sweep_ms = pol->expiry == EXPIRY_SWEEP ? pol->sweep_interval : 0;
		p->loss = pol->loss[0] > pol->loss[1] ? pol->loss[0] : pol->loss[1];
		if (p->timeout_ms > 48ull * 3600 * 1000) {
			char d[32];

			log_warnx("tune: %s: the %s idle timeout is %s: nothing to tune within a sensible run "
				  "(override it with --set %s=...)", p->name, t->proto == SC_TCP ? "TCP" : "UDP",
				  duration_format(p->timeout_ms, d, sizeof(d)),
				  t->proto == SC_TCP ? "tcp.established" : "udp.assured");
			scenario_free(sc);
			return -1;
		}
	}
	scenario_free(sc);
	return 0;
}

static void flow_section(struct tu_text *b, const struct tune *t, size_t pi, const struct sweep_kind *k,
			 const struct cand *c)
{
	const struct tprof *p = &t->p[pi];
	uint64_t s = t->step_ms / 1000;

	tu_text_printf(b, "[flow p%zu-%s-%" PRIu64 "]\nproto = %s\n", pi + 1, k->kind == TUNE_KERNEL ? "ka" : "hb",
		c->value_ms / 1000, sc_proto_name(t->proto));
	if (k->kind == TUNE_KERNEL)
		tu_text_printf(b, "keepalive = %" PRIu64 "s,%" PRIu64 "s,3\n", c->value_ms / 1000, c->interval_ms / 1000);
	else
		tu_text_printf(b, "heartbeat = %" PRIu64 "s\n", c->value_ms / 1000);
	tu_text_printf(b, "idle = %" PRIu64 "s\nspeaker = server\ndeadline = %" PRIu64 "s\nexpect = alive\npath = p%zu\n",
		p->idle_ms / 1000, 3 * s, pi + 1);
}

static int build_sweep(struct tune *t, struct tu_text *b)
{
	uint64_t shortest = UINT64_MAX;
	size_t nk = t->proto == SC_TCP ? 2 : 1;
	char err[256], sc[32];

	for (size_t i = 0; i < t->np; i++)
		if (t->p[i].timeout_ms < shortest)
			shortest = t->p[i].timeout_ms;
	if (tune_scale(shortest, t->scale.den ? &t->scale : NULL, &t->scale, &t->step_ms, err, sizeof(err)) < 0) {
		log_warnx("tune: %s", err);
		return -1;
	}
	tu_text_printf(b, "[scenario]\ndescription = idlegate tune sweep\ntime_scale = %s\n",
		sc_scale_format(&t->scale, sc, sizeof(sc)));
	mb_sections(t, b);
	t->nk = nk;
	for (size_t i = 0; i < t->np; i++) {
		struct tprof *p = &t->p[i];
		uint64_t v[TUNE_GRID_POINTS];
		size_t n = tune_grid(p->timeout_ms, t->step_ms, v, TUNE_GRID_POINTS);

		/* long enough that an unrefreshed state expires first (every
		 * term is at most 48 h: resolve() refused longer timeouts) */
		p->idle_ms = sat_add(sat_add(p->timeout_ms, p->timeout_ms / 4), p->sweep_ms) / t->step_ms * t->step_ms;
		p->idle_ms = sat_add(p->idle_ms, sat_mul(2, t->step_ms));
		p->nk = nk;
		for (size_t k = 0; k < nk; k++) {
			struct sweep_kind *sk = &p->k[k];

			sk->kind = t->proto == SC_TCP && k == 0 ? TUNE_KERNEL : TUNE_HEARTBEAT;
			sk->n = n;
			for (size_t j = 0; j < n; j++) {
				sk->c[j].value_ms = v[j];
				sk->c[j].interval_ms = sk->kind == TUNE_KERNEL ? tune_grid_interval(v[j], t->step_ms) : 0;
				flow_section(b, t, i, sk, &sk->c[j]);
			}
		}
	}
	return 0;
}

static void analyse(struct tune *t, const struct scenario *sc, const struct scenario_result *res)
{
	double loss = t->loss;

	for (size_t i = 0; i < t->np; i++)
		if (t->p[i].loss > loss)
			loss = t->p[i].loss;
	t->loss = loss;
	for (size_t k = 0; k < t->nk; k++) {
		t->all[k].kind = t->p[0].k[k].kind;
		t->all[k].have_b = true;
		t->all[k].boundary_ms = UINT64_MAX;
	}
	for (size_t i = 0; i < t->np; i++) {
		struct tprof *p = &t->p[i];

		for (size_t k = 0; k < p->nk; k++) {
			struct sweep_kind *sk = &p->k[k];
			bool surv[TUNE_GRID_POINTS];

			for (size_t j = 0; j < sk->n; j++) {
				struct cand *c = &sk->c[j];
				char name[64];  /* names made here are short; room for any value */
				const struct flow_result *fr;

				snprintf(name, sizeof(name), "p%zu-%s-%" PRIu64, i + 1,
					 sk->kind == TUNE_KERNEL ? "ka" : "hb", c->value_ms / 1000);
				c->flow = scenario_flow_index(sc, name);
				fr = c->flow >= 0 && (size_t)c->flow < res->nflows ? &res->flows[c->flow] : NULL;
				if (!fr || fr->status == RES_ERROR)
					snprintf(c->outcome, sizeof(c->outcome), "error");
				else if (!strcmp(fr->observed, "alive") && fr->expired_ms >= 0)
					snprintf(c->outcome, sizeof(c->outcome), "alive, state expired");
				else
					snprintf(c->outcome, sizeof(c->outcome), "%.*s", (int)sizeof(c->outcome) - 1, fr->observed);
				c->survived = !strcmp(c->outcome, "alive");
				surv[j] = c->survived;
			}
			tune_boundary(surv, sk->n, &sk->b);
			if (sk->b.boundary >= 0)
				sk->have_rec = tune_recommend(sk->kind, sk->c[sk->b.boundary].value_ms, t->step_ms,
							      p->sweep_ms, loss, &sk->rec) == 0;
			if (sk->b.boundary < 0) {
				t->all[k].have_b = false;
			} else {
				if (sk->c[sk->b.boundary].value_ms < t->all[k].boundary_ms)
					t->all[k].boundary_ms = sk->c[sk->b.boundary].value_ms;
				if (sk->b.all_survived)
					t->all[k].lower_bound = true;
			}
			if (p->sweep_ms > t->all[k].sweep_ms)
				t->all[k].sweep_ms = p->sweep_ms;
		}
	}
	for (size_t k = 0; k < t->nk; k++)
		if (t->all[k].have_b)
			t->all[k].have_rec = tune_recommend(t->all[k].kind, t->all[k].boundary_ms, t->step_ms,
							    t->all[k].sweep_ms, loss, &t->all[k].rec) == 0;
}

static const char *kind_title(const struct tune *t, enum tune_kind k)
{
	if (k == TUNE_KERNEL)
		return "kernel keepalive (TCP_KEEPIDLE)";
	return t->proto == SC_UDP ? "UDP heartbeat interval" : "application heartbeat interval";
}

static void print_rec(FILE *f, const struct tune *t, enum tune_kind kind, const struct tune_rec *r,
		      uint64_t b, uint64_t sweep)
{
	char a[32], c[32], d[32], e[32], g[32], h[32];

	if (kind == TUNE_KERNEL) {
		fprintf(f, "  kernel keepalive: idle %s, interval %s, count %u\n", duration_format(r->value_ms, a, 32),
			duration_format(r->interval_ms, c, 32), r->count);
		fprintf(f, "    margin: min(0.8 x %s, %s - %s sweep - %u x %s) = %s, rounded down to the %s grid\n",
			duration_format(b, a, 32), duration_format(b, c, 32), duration_format(sweep, d, 32), r->retries, duration_format(r->interval_ms, e, 32),
			duration_format(r->limit_ms, g, 32), duration_format(t->step_ms, h, 32));
		fprintf(f, "    costs: %.1f probes per hour per idle connection (each answered by an ACK)\n",
			r->per_hour);
		fprintf(f, "    buys: a dead peer is detected after %s (idle + interval x count); "
			"TCP_USER_TIMEOUT = %" PRIu64 " (milliseconds) does the same while data is in flight\n",
			duration_format(r->detect_ms, a, 32), r->detect_ms);
	} else {
		fprintf(f, "  %s: every %s\n", t->proto == SC_UDP ? "UDP heartbeat" : "application heartbeat",
			duration_format(r->value_ms, a, 32));
		fprintf(f, "    margin: min(0.8 x %s, (%s - %s sweep) / (%u + 1)) = %s, rounded down to the %s grid\n",
			duration_format(b, a, 32), duration_format(b, c, 32), duration_format(sweep, d, 32), r->retries, duration_format(r->limit_ms, e, 32),
			duration_format(t->step_ms, g, 32));
		fprintf(f, "    costs: %.1f heartbeats per hour per idle connection\n", r->per_hour);
		fprintf(f, "    buys: a dead peer is detected after %s (%u missed heartbeats)\n",
			duration_format(r->detect_ms, a, 32), r->count);
	}
}

/* The software table for the combined recommendations: up to max rows
 * into kn; returns how many. */
static size_t software_knobs(const struct tune *t, struct tune_knob *kn, size_t max)
{
	const struct tune_rec *ka = NULL, *hb = NULL;

	for (size_t k = 0; k < t->nk; k++)
		if (t->all[k].have_rec)
			*(t->all[k].kind == TUNE_KERNEL ? &ka : &hb) = &t->all[k].rec;
	return tune_knobs(ka, hb, t->proto == SC_UDP, kn, max);
}

static void print_text(FILE *f, const struct tune *t)
{
	char a[32], b[32], c[32], sc[32];

	fprintf(f, "idlegate tune: %s through ", sc_proto_name(t->proto));
	for (size_t i = 0; i < t->np; i++) {
		char safe[SC_VALUE_MAX];

		fprintf(f, "%s%s (%s %s)", i ? ", " : "", tu_term_clean(t->p[i].name, safe, sizeof(safe)),
			t->proto == SC_TCP ? "tcp.established" : "udp.assured", duration_format(t->p[i].timeout_ms, a, 32));
	}
	fprintf(f, "\n  time scale %s, grid step %s, loss allowed for %.3g, took %s\n",
		sc_scale_format(&t->scale, sc, sizeof(sc)), duration_format(t->step_ms, a, 32), t->loss,
		duration_format(duration_round(t->wall_ms), b, 32));
	for (size_t k = 0; k < t->nk; k++) {
		fprintf(f, "\n%s, the server speaking first after the idle period:\n",
			kind_title(t, t->p[0].k[k].kind));
		for (size_t i = 0; i < t->np; i++) {
			const struct sweep_kind *sk = &t->p[i].k[k];
			char safe[SC_VALUE_MAX];

			fprintf(f, "  %s:\n   ", tu_term_clean(t->p[i].name, safe, sizeof(safe)));
			for (size_t j = 0; j < sk->n; j++)
				fprintf(f, " %s %s%s", duration_format(sk->c[j].value_ms, a, 32),
					sk->c[j].survived ? "ok" : "FAIL",
					sk->c[j].survived ? "" : (snprintf(c, 32, "(%s)", sk->c[j].outcome), c));
			fprintf(f, "\n");
			if (sk->b.boundary < 0)
				fprintf(f, "    boundary: none: even %s did not keep the flow alive%s\n",
					duration_format(sk->c[0].value_ms, a, 32),
					sk->kind == TUNE_KERNEL ? " (does the middlebox ignore keepalives? "
					"refresh = data-only does)" : "");
			else if (sk->b.all_survived)
				fprintf(f, "    boundary: above %s (every candidate survived)\n",
					duration_format(sk->c[sk->b.boundary].value_ms, a, 32));
			else
				fprintf(f, "    boundary: %s (every setting up to it survived; %s did not)\n",
					duration_format(sk->c[sk->b.boundary].value_ms, a, 32),
					duration_format(sk->c[sk->b.boundary + 1].value_ms, b, 32));
			if (sk->b.suspicious >= 0)
				fprintf(f, "    SUSPICIOUS: %s survived although a smaller setting failed "
					"(not monotonic: timing noise or a middlebox that changes its mind)\n",
					duration_format(sk->c[sk->b.suspicious].value_ms, a, 32));
		}
	}
	fprintf(f, "\nRecommendation%s:\n", t->np > 1 ? " (survives every middlebox above)" : "");
	for (size_t k = 0; k < t->nk; k++) {
		if (!t->all[k].have_b)
			fprintf(f, "  %s: none: no candidate kept the flow alive through every middlebox\n",
				kind_title(t, t->all[k].kind));
		else if (!t->all[k].have_rec)
			fprintf(f, "  %s: none: the safety margin leaves less than one grid step below %s\n",
				kind_title(t, t->all[k].kind), duration_format(t->all[k].boundary_ms, a, 32));
		else
			print_rec(f, t, t->all[k].kind, &t->all[k].rec, t->all[k].boundary_ms, t->all[k].sweep_ms);
	}
	{
		struct tune_knob kn[12];
		size_t n = software_knobs(t, kn, 12);

		if (n)
			fprintf(f, "\nIn common software:\n");
		for (size_t i = 0; i < n; i++) {
			/* a file's lines one under the other, each as it is to be
			 * pasted (leading blanks are ignored by ssh_config and
			 * sysctl -p alike) */
			const char *line = kn[i].setting, *nl;

			do {
				nl = strchr(line, '\n');
				fprintf(f, "  %-19s %.*s\n", line == kn[i].setting ? kn[i].software : "",
					(int)(nl ? (size_t)(nl - line) : strlen(line)), line);
				line = nl ? nl + 1 : NULL;
			} while (line);
			if (kn[i].note[0])
				fprintf(f, "  %-19s (%s)\n", "", kn[i].note);
		}
	}
}

#define JI(v) ((json_int_t)(v))

static json_t *json_rec(const struct tune_rec *r)
{
	json_t *o = json_pack("{s:s,s:I}", "kind", tune_kind_name(r->kind), "value_s", JI(r->value_ms / 1000));

	if (!o)
		return NULL;
	if (r->kind == TUNE_KERNEL)
		json_object_update_new(o, json_pack("{s:I,s:I,s:I,s:I}", "idle_s", JI(r->value_ms / 1000),
						    "interval_s", JI(r->interval_ms / 1000), "count", JI(r->count),
						    "user_timeout_ms", JI(r->detect_ms)));
	else
		json_object_update_new(o, json_pack("{s:I,s:I}", "interval_s", JI(r->value_ms / 1000),
						    "missed_before_dead", JI(r->count)));
	json_object_update_new(o, json_pack("{s:I,s:I,s:f,s:f}", "retries_for_loss", JI(r->retries),
					    "margin_limit_ms", JI(r->limit_ms),
					    "detect_dead_peer_s", (double)r->detect_ms / 1000, "per_hour", r->per_hour));
	return o;
}

/* A value in whole seconds, or null (have false). */
static json_t *json_secs_or_null(bool have, uint64_t ms)
{
	return have ? json_integer(JI(ms / 1000)) : json_null();
}

/* One sweep of one profile: its candidates, boundary and recommendation. */
static json_t *json_sweep(const struct sweep_kind *sk)
{
	json_t *cands = json_array();
	size_t next = (size_t)(sk->b.boundary + 1);

	for (size_t j = 0; j < sk->n; j++) {
		json_t *c = json_pack("{s:I}", "value_s", JI(sk->c[j].value_ms / 1000));

		if (c && sk->kind == TUNE_KERNEL)
			json_object_update_new(c, json_pack("{s:I,s:i}", "interval_s",
							    JI(sk->c[j].interval_ms / 1000), "count", 3));
		if (c)
			json_object_update_new(c, json_pack("{s:o,s:b}", "outcome", jsonio_str(sk->c[j].outcome),
							    "survived", sk->c[j].survived));
		json_array_append_new(cands, c);
	}
	return json_pack("{s:s,s:o,s:o,s:o,s:b,s:o,s:o}", "kind", tune_kind_name(sk->kind), "candidates", cands,
			 "boundary_s", json_secs_or_null(sk->b.boundary >= 0,
							 sk->b.boundary >= 0 ? sk->c[sk->b.boundary].value_ms : 0),
			 "first_failure_s", json_secs_or_null(!sk->b.all_survived && next < sk->n,
							      next < sk->n ? sk->c[next].value_ms : 0),
			 "all_survived", sk->b.all_survived,
			 "suspicious_s", json_secs_or_null(sk->b.suspicious >= 0,
							   sk->b.suspicious >= 0 ? sk->c[sk->b.suspicious].value_ms : 0),
			 "recommended", sk->have_rec ? json_rec(&sk->rec) : json_null());
}

static json_t *json_profile(const struct tprof *p)
{
	json_t *sweeps = json_array();

	for (size_t k = 0; k < p->nk; k++)
		json_array_append_new(sweeps, json_sweep(&p->k[k]));
	return json_pack("{s:o,s:f,s:f,s:f,s:o}", "name", jsonio_str(p->name),
			 "timeout_s", (double)p->timeout_ms / 1000, "sweep_s", (double)p->sweep_ms / 1000,
			 "idle_s", (double)p->idle_ms / 1000, "sweeps", sweeps);
}

/* Over every profile, per kind: the boundary and the recommendation. */
static json_t *json_combined(const struct tune *t)
{
	json_t *o = json_object();

	for (size_t k = 0; k < t->nk; k++)
		json_object_set_new(o, tune_kind_name(t->all[k].kind),
				    json_pack("{s:o,s:b,s:f,s:o}",
					      "boundary_s", json_secs_or_null(t->all[k].have_b, t->all[k].boundary_ms),
					      "boundary_is_lower_bound", t->all[k].lower_bound,
					      "sweep_s", (double)t->all[k].sweep_ms / 1000,
					      "recommended", t->all[k].have_rec ? json_rec(&t->all[k].rec) : json_null()));
	return o;
}

static json_t *json_software(const struct tune *t)
{
	struct tune_knob kn[12];
	size_t n = software_knobs(t, kn, 12);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o,s:o,s:o}", "software", jsonio_str(kn[i].software),
						   "setting", jsonio_str(kn[i].setting),
						   "note", jsonio_str_or_null(kn[i].note[0] ? kn[i].note : NULL)));
	return a;
}

static int write_json(const char *path, const struct tune *t)
{
	char sc[32];
	json_t *formulas = json_object(), *profiles = json_array(), *doc;

	for (size_t k = 0; k < t->nk; k++)
		json_object_set_new(formulas, tune_kind_name(t->all[k].kind), jsonio_str(tune_formula(t->all[k].kind)));
	for (size_t i = 0; i < t->np; i++)
		json_array_append_new(profiles, json_profile(&t->p[i]));
	doc = json_pack("{s:s,s:s,s:s,s:I,s:f,s:I,s:s,s:o,s:o,s:o,s:o}", "tool", "idlegate tune",
			"proto", sc_proto_name(t->proto), "time_scale", sc_scale_format(&t->scale, sc, sizeof(sc)),
			"step_s", JI(t->step_ms / 1000), "loss", t->loss, "wall_ms", JI(t->wall_ms),
			"speaker", "server", "formulas", formulas, "profiles", profiles,
			"combined", json_combined(t), "software", json_software(t));
	return cli_json_write(path, doc);
}

/* ---- SVG: one panel per kind; x the setting, y survived or not ---- */

static const char *const svg_colors[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2" };

static int write_svg(const char *path, const struct tune *t)
{
	char tmp[PATH_MAX], a[32];
	FILE *f = tu_atomic_open(path, tmp, sizeof(tmp));
	const int W = 760, PH = 220, L = 70, R = 170, TOP = 40;
	int H = TOP + (int)t->nk * (PH + 40) + 20;

	if (!f)
		return -1;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"22\" font-size=\"15\">idlegate tune: %s survival against the setting</text>\n",
		W, H, W, H, L, sc_proto_name(t->proto));
	for (size_t k = 0; k < t->nk; k++) {
		int y0 = TOP + (int)k * (PH + 40) + 20, y1 = y0 + PH - 30;
		uint64_t xmax = 0;
		double sx;

		for (size_t i = 0; i < t->np; i++)
			for (size_t j = 0; j < t->p[i].k[k].n; j++)
				if (t->p[i].k[k].c[j].value_ms > xmax)
					xmax = t->p[i].k[k].c[j].value_ms;
		xmax += t->step_ms;
		sx = (double)(W - L - R) / (double)xmax;
		fprintf(f, "<g class=\"panel\" data-kind=\"%s\">\n<text x=\"%d\" y=\"%d\" font-weight=\"bold\">", 
			tune_kind_name(t->all[k].kind), L, y0 - 4);
		tu_xml_puts(f, kind_title(t, t->all[k].kind));
		fprintf(f, "</text>\n<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n"
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n"
			"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">survived</text>\n"
			"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">failed</text>\n",
			L, y1, W - R, y1, L, y0 + 10, L, y1, L - 6, y0 + 24, L - 6, y1 - 4);
		for (int g = 0; g <= 5; g++) {
			uint64_t v = xmax * (uint64_t)g / 5;
			int x = L + (int)((double)v * sx);

			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, y1 + 16,
				duration_format(v, a, sizeof(a)));
		}
		for (size_t i = 0; i < t->np; i++) {
			const struct sweep_kind *sk = &t->p[i].k[k];
			const char *col = svg_colors[i % 6];
			int off = (int)i * 6;

			fprintf(f, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
			for (size_t j = 0; j < sk->n; j++)
				fprintf(f, "%d,%d ", L + (int)((double)sk->c[j].value_ms * sx),
					(sk->c[j].survived ? y0 + 20 : y1 - 10) + off);
			fprintf(f, "\"/>\n");
			for (size_t j = 0; j < sk->n; j++) {
				fprintf(f, "<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"%s\" stroke=\"%s\"><title>",
					L + (int)((double)sk->c[j].value_ms * sx),
					(sk->c[j].survived ? y0 + 20 : y1 - 10) + off,
					sk->c[j].survived ? col : "white", col);
				tu_xml_puts(f, t->p[i].name);
				fprintf(f, " %s: ", duration_format(sk->c[j].value_ms, a, sizeof(a)));
				tu_xml_puts(f, sk->c[j].outcome);
				fprintf(f, "</title></circle>\n");
			}
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
				W - R + 12, y0 + 14 + (int)i * 16, col, W - R + 26, y0 + 23 + (int)i * 16);
			tu_xml_puts(f, t->p[i].name);
			fprintf(f, "</text>\n");
		}
		if (t->all[k].have_b) {
			int x = L + (int)((double)t->all[k].boundary_ms * sx);

			fprintf(f, "<line class=\"boundary\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"red\" "
				"stroke-dasharray=\"5,3\"/><text x=\"%d\" y=\"%d\" fill=\"red\">boundary %s</text>\n",
				x, y0 + 6, x, y1, x + 3, y0 + 12, duration_format(t->all[k].boundary_ms, a, sizeof(a)));
		}
		if (t->all[k].have_rec) {
			int x = L + (int)((double)t->all[k].rec.value_ms * sx);

			fprintf(f, "<line class=\"recommendation\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"green\" "
				"stroke-width=\"2\"/><text x=\"%d\" y=\"%d\" fill=\"green\" text-anchor=\"end\">"
				"recommended %s</text>\n", x, y0 + 6, x, y1, x - 3, y1 - 24,
				duration_format(t->all[k].rec.value_ms, a, sizeof(a)));
		}
		fprintf(f, "</g>\n");
	}
	fprintf(f, "</svg>\n");
	return tu_atomic_commit(f, tmp, path, 1);
}

struct tune_cli {
	const char *profiles, *scfile;
	struct cli_reports rep;         /* --json, --svg */
};

/* The options into t and c. CLI_GO, or the exit status to return now. */
static int tune_parse_args(int argc, char **argv, struct tune *t, struct tune_cli *c)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "scenario", required_argument, NULL, 's' },
		{ "proto", required_argument, NULL, 'P' },
		{ "loss", required_argument, NULL, 'l' },
		{ "time-scale", required_argument, NULL, 't' },
		{ "set", required_argument, NULL, 'S' },
		CLI_OPT_JSON_ENTRY,
		CLI_OPT_SVG_ENTRY,
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "p:s:hq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
		if (cli_report_option(&c->rep, ch, optarg))
			continue;
		switch (ch) {
		case 'p': c->profiles = optarg; break;
		case 's': c->scfile = optarg; break;
		case 'P':
			if (!strcmp(optarg, "tcp"))
				t->proto = SC_TCP;
			else if (!strcmp(optarg, "udp"))
				t->proto = SC_UDP;
			else {
				log_warnx("tune: --proto '%s': tcp or udp", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 'l':
			if (parse_loss(optarg, &t->loss) < 0) {
				log_warnx("tune: --loss '%s': a probability from 0 to 0.9, or N%%", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 't':
			if (timescale_parse(optarg, &t->scale) < 0 || t->scale.num != 1) {
				log_warnx("tune: --time-scale '%s': 1/N (or Nx) with a whole N >= 1, so every "
					  "candidate is whole seconds once scaled", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 'S':
			if (cli_set_check("tune", optarg, "idlegate profiles --knobs") < 0)
				return IG_EXIT_USAGE;
			if (vec_reserve(&t->sets, &t->cap_sets, t->nsets + 1, sizeof(*t->sets)) < 0)
				fatal("tune");
			t->sets[t->nsets++] = optarg;
			break;
		case 'h':
			tune_usage(stdout);
			return IG_EXIT_OK;
		default:
			tune_usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_warnx("tune: unexpected argument '%s'", argv[optind]);
		return IG_EXIT_USAGE;
	}
	return CLI_GO;
}

/* The answer in words, then the files asked for: the exit status. */
static int tune_answer(const struct tune *t, const struct cli_reports *rep)
{
	int rc = IG_EXIT_FAILED;

	print_text(stdout, t);
	for (size_t k = 0; k < t->nk; k++)
		if (t->all[k].have_rec)
			rc = IG_EXIT_OK;
	if (rep->json && write_json(rep->json, t) < 0)
		rc = cli_report_failed("tune", "--json", rep->json);
	if (rep->svg && write_svg(rep->svg, t) < 0)
		rc = cli_report_failed("tune", "--svg", rep->svg);
	return rc;
}

int cmd_tune(int argc, char **argv)
{
	static struct tune t;
	struct tune_cli c = { 0 };
	struct tu_text b = { 0 };
	struct scenario *sc = NULL;
	struct scenario_result res;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(&res, 0, sizeof(res));
	t.proto = SC_TCP;
	rc = tune_parse_args(argc, argv, &t, &c);
	if (rc != CLI_GO)
		return rc;
	rc = IG_EXIT_USAGE;
	if (collect_profiles(&t, c.profiles, c.scfile) < 0 || resolve(&t) < 0 || build_sweep(&t, &b) < 0)
		goto out;
	sc = sweep_parse(b.s, b.len, "(tune sweep)");
	if (!sc)
		goto out;
	if (log_verbosity() > 0) {
		char a[32], s[32];

		fprintf(stderr, "idlegate tune: %zu candidates in one run, about %s of wall time (time scale %s)\n",
			sc->nflows, duration_format(scenario_estimate_ms(sc), a, sizeof(a)),
			sc_scale_format(&t.scale, s, sizeof(s)));
	}
	rc = cli_sweep("tune", sc, "tune", "the sweep", NULL, &res, &t.wall_ms);
	if (rc)
		goto out;
	analyse(&t, sc, &res);
	rc = tune_answer(&t, &c.rep);
out:
	result_clear(&res);
	scenario_free(sc);
	free(b.s);
	for (size_t i = 0; i < t.np; i++)
		free(t.p[i].mbtext.s);
	free(t.p);
	free(t.sets);
	return rc;
}
