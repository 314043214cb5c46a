// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rows every report shows (see rows.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "runner/report/rows.h"

bool rep_scenario_error(const struct scenario_result *r)
{
	return r->status == RES_ERROR && r->error[0];
}

const char *rep_file(const struct scenario_result *r)
{
	return r->sc && r->sc->file[0] ? r->sc->file : "(unknown scenario)";
}

const char *rep_flow_name(const struct scenario_result *r, int i)
{
	if (!r->sc || i < 0 || (size_t)i >= r->sc->nflows)
		return NULL;
	return r->sc->flows[i].name;
}

const char *rep_mb_name(const struct scenario_result *r, int i)
{
	if (!r->sc || i < 0 || (size_t)i >= r->sc->nmb)
		return NULL;
	return r->sc->mb[i].name;
}

const char *rep_dir_name(int dir)
{
	return dir == 0 ? "c2s" : dir == 1 ? "s2c" : NULL;
}

size_t rep_flows(const struct scenario_result *r, struct rep_flow *out)
{
	const struct scenario *sc = r->sc;
	bool sc_err = rep_scenario_error(r);
	size_t n = 0, i;

	if (r->nflows > 0) {
		for (i = 0; i < r->nflows; i++) {
			const struct flow_result *fr = &r->flows[i];
			struct rep_flow *o = &out[n++];
			const char *nm = rep_flow_name(r, fr->flow);

			memset(o, 0, sizeof(*o));
			o->fr = fr;
			o->index = nm ? fr->flow : -1;
			o->sf = nm ? &sc->flows[fr->flow] : NULL;
			if (nm)
				snprintf(o->name, sizeof(o->name), "%s", nm);
			else
				snprintf(o->name, sizeof(o->name), "flow-%d", fr->flow);
			o->status = fr->status;
			o->expected = fr->expected[0] ? fr->expected
				      : o->sf ? sc_expect_name(o->sf->expect) : "?";
			o->observed = fr->observed;
			o->evidence = fr->evidence;
			o->error = "";
			if (fr->status == RES_ERROR)
				o->error = fr->error[0] ? fr->error : r->error;
			if (sc_err && fr->status != RES_SKIP) {
				o->status = RES_ERROR;
				o->error = fr->error[0] ? fr->error : r->error;
			}
			if (fr->settings[0])
				snprintf(o->settings, sizeof(o->settings), "%s", fr->settings);
			else if (o->sf)
				result_flow_settings(sc, o->sf, o->settings, sizeof(o->settings));
		}
		return n;
	}
	if (sc && sc->nflows > 0) {
		for (i = 0; i < sc->nflows; i++) {
			struct rep_flow *o = &out[n++];

			memset(o, 0, sizeof(*o));
			o->index = (int)i;
			o->sf = &sc->flows[i];
			snprintf(o->name, sizeof(o->name), "%s", o->sf->name);
			o->status = r->status == RES_ERROR ? RES_ERROR : RES_SKIP;
			o->expected = sc_expect_name(o->sf->expect);
			o->observed = "";
			o->evidence = "";
			o->error = o->status == RES_ERROR
				   ? (r->error[0] ? r->error : "the run stopped before this flow")
				   : "";
			result_flow_settings(sc, o->sf, o->settings, sizeof(o->settings));
		}
		return n;
	}
	/* nothing to show per flow: one row so the scenario is not lost */
	struct rep_flow *o = &out[n++];
	memset(o, 0, sizeof(*o));
	o->index = -1;
	snprintf(o->name, sizeof(o->name), "(scenario)");
	o->status = r->status == RES_PASS ? RES_ERROR : r->status;
	o->expected = "?";
	o->observed = "";
	o->evidence = "";
	o->error = o->status == RES_ERROR ? (r->error[0] ? r->error : "no flow results") : "";
	return n;
}

const char *rep_sample_name(const struct rep_flow *w, char *buf, size_t len)
{
	if (!w->fr || w->fr->count <= 1 || w->fr->sample < 0)
		return NULL;
	snprintf(buf, len, "%s.%d", w->name, w->fr->sample + 1);
	return buf;
}

size_t rep_nrows(const struct scenario_result *r)
{
	if (r->nflows)
		return r->nflows;
	return r->sc && r->sc->nflows ? r->sc->nflows : 1;
}

struct rep_flow *rep_rows_new(const struct scenario_result *rs, size_t n)
{
	size_t most = 1;

	for (size_t i = 0; i < n; i++)
		if (rep_nrows(&rs[i]) > most)
			most = rep_nrows(&rs[i]);
	return calloc(most, sizeof(struct rep_flow));
}

void rep_count_rows(const struct rep_flow *rows, size_t n, struct rep_counts *c)
{
	for (size_t i = 0; i < n; i++) {
		switch (rows[i].status) {
		case RES_PASS: c->pass++; break;
		case RES_FAIL: c->fail++; break;
		case RES_ERROR: c->error++; break;
		case RES_SKIP: c->skip++; break;
		}
		c->total++;
	}
}

static int mark_cmp(const void *a, const void *b)
{
	const struct tl_mark *x = *(const struct tl_mark *const *)a, *y = *(const struct tl_mark *const *)b;

	if (x->t_ms != y->t_ms)
		return x->t_ms < y->t_ms ? -1 : 1;
	return x < y ? -1 : x > y;      /* stable: the order they were recorded in */
}

const struct tl_mark **rep_marks_sorted(const struct scenario_result *r)
{
	const struct tl_mark **v = calloc(r->nmarks + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < r->nmarks; i++)
		v[i] = &r->marks[i];
	qsort(v, r->nmarks, sizeof(*v), mark_cmp);
	return v;
}

uint64_t rep_flow_wall_ms(const struct scenario_result *r, int flow)
{
	uint64_t end = 0, outcome = 0, ms;
	bool has_outcome = false;

	if (flow < 0)
		return 0;
	for (size_t i = 0; i < r->nmarks; i++) {
		const struct tl_mark *m = &r->marks[i];

		if (m->flow != flow)
			continue;
		if (m->t_ms > end)
			end = m->t_ms;
		if (m->kind == TL_OUTCOME && (!has_outcome || m->t_ms < outcome)) {
			outcome = m->t_ms;
			has_outcome = true;
		}
	}
	if (has_outcome)
		end = outcome;          /* what the middleboxes saw later is teardown */
	ms = r->sc && r->sc->scale.num && r->sc->scale.den ? timescale_apply(&r->sc->scale, end) : end;
	return ms < r->wall_ms ? ms : r->wall_ms;
}

uint64_t rep_nice_step(uint64_t t, uint64_t most)
{
	static const uint64_t steps[] = {
		100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000,
		600000, 900000, 1800000, 3600000, 7200000, 10800000, 21600000, 43200000,
		86400000, 172800000, 604800000,
	};
	const uint64_t week = steps[sizeof(steps) / sizeof(steps[0]) - 1];

	if (!most)
		most = 1;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (t / steps[i] <= most)
			return steps[i];
	return (t / most / week + 1) * week;
}

uint64_t rep_time_span(const struct scenario_result *r)
{
	uint64_t t = r->scenario_ms;

	for (size_t i = 0; i < r->nmarks; i++)
		if (r->marks[i].t_ms > t)
			t = r->marks[i].t_ms;
	for (size_t i = 0; i < r->npoints; i++)
		if (r->points[i].t_ms > t)
			t = r->points[i].t_ms;
	return t;
}

uint32_t *rep_group_histogram(const struct scenario_result *r, int flow, uint64_t *bin_ms, size_t *nbins)
{
	uint64_t span = rep_time_span(r);
	uint32_t *counts;

	*bin_ms = rep_nice_step(span, REP_HIST_BINS);
	*nbins = (size_t)(span / *bin_ms) + 1;
	counts = calloc(*nbins * GROUP_KINDS, sizeof(*counts));
	if (!counts)
		return NULL;
	for (size_t i = 0; i < r->npoints; i++) {
		const struct group_point *p = &r->points[i];

		if (p->flow == flow && p->kind >= 0 && p->kind < GROUP_KINDS)
			counts[p->t_ms / *bin_ms * GROUP_KINDS + (size_t)p->kind]++;
	}
	return counts;
}
