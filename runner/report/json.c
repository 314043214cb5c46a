// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run --json FILE`: everything a run found, for programs. One
 * document, versioned; times are ms of scenario time (the user's units),
 * wall_ms is real time; "n/a" is null rather than a magic number. Flow
 * statuses are the effective ones every report shows (report_util.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "runner/report/rows.h"
#include "runner/model/result.h"
#include "runner/util/textutil.h"

/* A string, or null when empty. */
static void str_or_null(FILE *f, const char *s)
{
	tu_json_puts(f, s && s[0] ? s : NULL);
}

static void i64_or_null(FILE *f, int64_t v)
{
	if (v < 0)
		fputs("null", f);
	else
		fprintf(f, "%" PRId64, v);
}

static void write_flow(FILE *f, const struct rep_flow *w)
{
	const struct flow_result *fr = w->fr;

	fputs("\n        {\"name\": ", f);
	tu_json_puts(f, w->name);
	fputs(", \"status\": ", f);
	tu_json_puts(f, res_status_name(w->status));
	fputs(", \"expected\": ", f);
	tu_json_puts(f, w->expected);
	fputs(", \"observed\": ", f);
	str_or_null(f, w->observed);
	fputs(",\n         \"evidence\": ", f);
	str_or_null(f, w->evidence);
	fputs(", \"error\": ", f);
	str_or_null(f, w->error);
	fputs(",\n         \"noticed_by\": ", f);
	str_or_null(f, fr ? fr->noticed_by : NULL);
	fputs(", \"noticed_ms\": ", f);
	i64_or_null(f, fr ? fr->noticed_ms : -1);
	fputs(", \"expired_ms\": ", f);
	i64_or_null(f, fr ? fr->expired_ms : -1);
	fputs(", \"errno\": ", f);
	i64_or_null(f, fr && fr->err > 0 ? fr->err : -1);
	fprintf(f, ", \"keepalives_seen\": %" PRIu32 ", \"drops\": %" PRIu32,
		fr ? fr->keepalives_seen : 0, fr ? fr->drops : 0);
	fputs(",\n         \"settings\": ", f);
	str_or_null(f, w->settings);
	fputs(", \"line\": ", f);
	i64_or_null(f, w->sf ? w->sf->line : -1);
	fputc('}', f);
}

static void write_mark(FILE *f, const struct scenario_result *r, const struct tl_mark *m)
{
	fprintf(f, "\n        {\"t_ms\": %" PRIu64 ", \"kind\": ", m->t_ms);
	tu_json_puts(f, tl_kind_name(m->kind));
	fputs(", \"flow\": ", f);
	tu_json_puts(f, rep_flow_name(r, m->flow));
	fputs(", \"middlebox\": ", f);
	tu_json_puts(f, rep_mb_name(r, m->middlebox));
	fputs(", \"dir\": ", f);
	tu_json_puts(f, rep_dir_name(m->dir));
	fputs(", \"detail\": ", f);
	char d[sizeof(m->detail) + 1];
	snprintf(d, sizeof(d), "%.*s", (int)sizeof(m->detail), m->detail);
	tu_json_puts(f, d);
	fputc('}', f);
}

static void write_scenario(FILE *f, const struct scenario_result *r, struct rep_counts *tot)
{
	static struct rep_flow rows[SC_MAX_FLOWS + 1];
	size_t n = rep_flows(r, rows), i;

	rep_count_rows(rows, n, tot);
	fputs("\n    {\"file\": ", f);
	tu_json_puts(f, rep_file(r));
	fputs(", \"description\": ", f);
	str_or_null(f, r->sc ? r->sc->description : NULL);
	fputs(",\n     \"status\": ", f);
	tu_json_puts(f, res_status_name(r->status));
	fputs(", \"error\": ", f);
	str_or_null(f, r->error);
	fprintf(f, ", \"wall_ms\": %" PRIu64 ", \"scenario_ms\": %" PRIu64, r->wall_ms,
		r->scenario_ms);
	fputs(", \"time_scale\": ", f);
	tu_json_puts(f, r->sc && r->sc->scale_text[0] ? r->sc->scale_text : "1");
	fputs(",\n     \"flows\": [", f);
	for (i = 0; i < n; i++) {
		write_flow(f, &rows[i]);
		if (i + 1 < n)
			fputc(',', f);
	}
	fputs("],\n     \"timeline\": [", f);
	for (i = 0; i < r->nmarks; i++) {
		write_mark(f, r, &r->marks[i]);
		if (i + 1 < r->nmarks)
			fputc(',', f);
	}
	fputs("]}", f);
}

int report_json(const char *path, const struct scenario_result *rs, size_t n)
{
	struct rep_counts tot = { 0 };
	char tmp[PATH_MAX];
	FILE *f;

	f = tu_atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	fputs("{\"version\": 1,\n  \"scenarios\": [", f);
	for (size_t i = 0; i < n; i++) {
		write_scenario(f, &rs[i], &tot);
		if (i + 1 < n)
			fputc(',', f);
	}
	fprintf(f, "],\n  \"summary\": {\"passed\": %zu, \"failed\": %zu, \"errors\": %zu, "
		   "\"skipped\": %zu, \"total\": %zu}}\n",
		tot.pass, tot.fail, tot.error, tot.skip, tot.total);
	return tu_atomic_commit(f, tmp, path, 1);
}
