// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run --json FILE`: everything a run found, for programs. One
 * document, versioned; times are ms of scenario time (the user's units),
 * wall_ms is real time; "n/a" is null rather than a magic number. Flow
 * statuses are the effective ones every report shows (report_util.h).
 * Built as one jansson document: names, evidence and errors are written
 * as UTF-8, invalid bytes replaced by U+FFFD (common/jsonio.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/jsonio.h"
#include "runner/report/rows.h"
#include "runner/model/result.h"
#include "runner/util/textutil.h"

/* -1 and the like mean "n/a": null. */
static json_t *i64_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

/* A group's histogram: {"bin_ms": 5000, "bins": [{"t_ms": 0, "alive": 3,
 * "expired": 1}, ...]}, the bins with something in them
 * (rep_group_histogram(), the numbers of the SVG lane). */
static json_t *histogram_json(const struct scenario_result *r, int flow)
{
	uint64_t bin;
	size_t nbins;
	uint32_t *counts = rep_group_histogram(r, flow, &bin, &nbins);
	json_t *bins = json_array();
	int rc = !counts || !bins;

	for (size_t b = 0; !rc && b < nbins; b++) {
		const uint32_t *c = counts + b * GROUP_KINDS;
		json_t *o = json_pack("{s:I}", "t_ms", (json_int_t)(b * bin));
		bool any = false;

		for (int k = 0; o && k < GROUP_KINDS; k++)
			if (c[k]) {
				rc |= json_object_set_new(o, group_kind_name(k), json_integer(c[k]));
				any = true;
			}
		if (any)
			rc |= json_array_append_new(bins, o);
		else
			json_decref(o);
		rc |= !o;
	}
	free(counts);
	if (rc) {
		json_decref(bins);
		return NULL;
	}
	return json_pack("{s:I,s:o}", "bin_ms", (json_int_t)bin, "bins", bins);
}

/* A flow group's tally: "count": 300, "outcomes": {"alive": 256, ...}
 * (named as the histogram's kinds, adding up to the count), what the
 * middleboxes did across its connections ("totals"), and its "histogram". */
static json_t *group_json(json_t *o, const struct scenario_result *r, const struct rep_flow *w)
{
	const struct flow_result *fr = w->fr;
	char sample[SC_NAME_MAX + 16];
	json_t *t;

	if (!o || !fr || fr->count <= 1)
		return o;
	t = json_object();
	for (int k = 0; k < GROUP_EXPIRED; k++) {
		uint32_t c = result_group_ended(fr, k);

		if (c)
			json_object_set_new(t, group_kind_name(k), json_integer(c));
	}
	if (json_object_set_new(o, "count", json_integer(fr->count)) < 0 ||
	    json_object_set_new(o, "outcomes", t) < 0 ||
	    json_object_set_new(o, "sample", jsonio_str_or_null(rep_sample_name(w, sample, sizeof(sample)))) < 0 ||
	    json_object_set_new(o, "totals", json_pack("{s:I,s:I,s:I}",
							"keepalives_seen", (json_int_t)fr->total.keepalives_seen,
							"drops", (json_int_t)fr->total.drops,
							"expired", (json_int_t)fr->total.expired)) < 0 ||
	    json_object_set_new(o, "histogram", histogram_json(r, w->index)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *flow_json(const struct scenario_result *r, const struct rep_flow *w)
{
	const struct flow_result *fr = w->fr;
	json_t *o;

	o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:o}",
			 "name", jsonio_str(w->name),
			 "status", jsonio_str(res_status_name(w->status)),
			 "expected", jsonio_str(w->expected),
			 "observed", jsonio_str_or_null(w->observed),
			 "evidence", jsonio_str_or_null(w->evidence),
			 "error", jsonio_str_or_null(w->error),
			 "noticed_by", jsonio_str_or_null(fr ? fr->noticed_by : NULL),
			 "noticed_ms", i64_or_null(fr ? fr->noticed_ms : -1),
			 "expired_ms", i64_or_null(fr ? fr->expired_ms : -1),
			 "errno", i64_or_null(fr && fr->err > 0 ? fr->err : -1),
			 "keepalives_seen", (json_int_t)(fr ? fr->keepalives_seen : 0),
			 "drops", (json_int_t)(fr ? fr->drops : 0),
			 "settings", jsonio_str_or_null(w->settings),
			 "line", i64_or_null(w->sf ? w->sf->line : -1));
	if (o && json_object_set_new(o, "wall_ms", json_integer((json_int_t)rep_flow_wall_ms(r, w->index))) < 0) {
		json_decref(o);
		return NULL;
	}
	return group_json(o, r, w);
}

static json_t *mark_json(const struct scenario_result *r, const struct tl_mark *m)
{
	char d[sizeof(m->detail) + 1];

	/* detail is a fixed array that need not be NUL-terminated */
	snprintf(d, sizeof(d), "%.*s", (int)sizeof(m->detail), m->detail);
	return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o}",
			 "t_ms", (json_int_t)m->t_ms,
			 "kind", jsonio_str(tl_kind_name(m->kind)),
			 "flow", jsonio_str(rep_flow_name(r, m->flow)),
			 "middlebox", jsonio_str(rep_mb_name(r, m->middlebox)),
			 "dir", jsonio_str(rep_dir_name(m->dir)),
			 "detail", jsonio_str(d));
}

static json_t *scenario_json(const struct scenario_result *r, struct rep_counts *tot)
{
	struct rep_flow *rows = rep_rows_new(r, 1);
	size_t n = rows ? rep_flows(r, rows) : 0, i;
	json_t *flows = json_array(), *marks = json_array();
	const struct tl_mark **sorted = rep_marks_sorted(r);
	int rc = !sorted || !rows;

	rep_count_rows(rows, n, tot);
	for (i = 0; i < n; i++)
		rc |= json_array_append_new(flows, flow_json(r, &rows[i]));
	for (i = 0; sorted && i < r->nmarks; i++)
		rc |= json_array_append_new(marks, mark_json(r, sorted[i]));
	free(sorted);
	free(rows);
	if (rc) {
		json_decref(flows);
		json_decref(marks);
		return NULL;
	}
	/* "o" takes the arrays over, also when json_pack fails */
	return json_pack("{s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:o,s:o}",
			 "file", jsonio_str(rep_file(r)),
			 "description", jsonio_str_or_null(r->sc ? r->sc->description : NULL),
			 "status", jsonio_str(res_status_name(r->status)),
			 "error", jsonio_str_or_null(r->error),
			 "wall_ms", (json_int_t)r->wall_ms,
			 "scenario_ms", (json_int_t)r->scenario_ms,
			 "time_scale", jsonio_str(r->sc && r->sc->scale_text[0] ? r->sc->scale_text : "1"),
			 "flows", flows, "timeline", marks);
}

int report_json(const char *path, const struct scenario_result *rs, size_t n)
{
	struct rep_counts tot = { 0 };
	json_t *doc, *scs = json_array();
	char tmp[PATH_MAX];
	int rc = 0;
	FILE *f;

	for (size_t i = 0; i < n; i++)
		rc |= json_array_append_new(scs, scenario_json(&rs[i], &tot));
	if (rc) {
		json_decref(scs);
		errno = ENOMEM;
		return -1;
	}
	doc = json_pack("{s:i,s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "version", 1, "scenarios", scs,
			"summary", "passed", (json_int_t)tot.pass, "failed", (json_int_t)tot.fail,
			"errors", (json_int_t)tot.error, "skipped", (json_int_t)tot.skip,
			"total", (json_int_t)tot.total);
	if (!doc) {
		errno = ENOMEM;
		return -1;
	}
	f = tu_atomic_open(path, tmp, sizeof(tmp));
	if (!f) {
		json_decref(doc);
		return -1;
	}
	rc = json_dumpf(doc, f, JSON_INDENT(2));
	fputc('\n', f);
	json_decref(doc);
	return tu_atomic_commit(f, tmp, path, rc == 0);
}
