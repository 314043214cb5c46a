// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report a person reads after `idlegate run`: per scenario a table of
 * flows (settings, expected, observed, result) with the evidence in words
 * on its own line, then the totals. The last line is "N passed, N failed"
 * (", N skipped" when any) alone on the line, the form CI log readers
 * recognise; errors get their own line just before it. Colour only when the
 * caller says the output is a terminal, and never from the data: every
 * string is cleaned of control characters first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/report/rows.h"
#include "runner/model/result.h"
#include "runner/util/textutil.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"

static const char *status_color(enum res_status s)
{
	switch (s) {
	case RES_PASS: return C_GREEN;
	case RES_FAIL: return C_RED C_BOLD;
	case RES_ERROR: return C_YELLOW C_BOLD;
	case RES_SKIP: return C_DIM;
	}
	return "";
}

struct row {
	char name[SC_NAME_MAX * 2 + 32];
	char settings[384];
	char expected[64];
	char observed[64];
	char evidence[512];
	char error[512];
	enum res_status status;
};

static void one_scenario(FILE *out, const struct scenario_result *r, bool color,
			 struct rep_counts *tot)
{
	struct rep_flow *flows = rep_rows_new(r, 1);
	struct row *rows = calloc(rep_nrows(r), sizeof(*rows));
	size_t n = flows && rows ? rep_flows(r, flows) : 0, i;
	size_t wn = strlen("flow"), ws = strlen("settings"), we = strlen("expected"),
	       wo = strlen("observed");
	char buf[512], dur[32];

	if (!flows || !rows)
		fprintf(out, "%s: out of memory\n", rep_file(r));
	rep_count_rows(flows, n, tot);
	for (i = 0; i < n; i++) {
		struct row *w = &rows[i];

		tu_term_clean(flows[i].name, w->name, sizeof(w->name));
		tu_term_clean(flows[i].settings, w->settings, sizeof(w->settings));
		tu_term_clean(flows[i].expected, w->expected, sizeof(w->expected));
		tu_term_clean(flows[i].observed[0] ? flows[i].observed : "-", w->observed,
			      sizeof(w->observed));
		tu_term_clean(flows[i].evidence, w->evidence, sizeof(w->evidence));
		tu_term_clean(flows[i].error, w->error, sizeof(w->error));
		w->status = flows[i].status;
		if (tu_width(w->name) > wn)
			wn = tu_width(w->name);
		if (tu_width(w->settings) > ws)
			ws = tu_width(w->settings);
		if (tu_width(w->expected) > we)
			we = tu_width(w->expected);
		if (tu_width(w->observed) > wo)
			wo = tu_width(w->observed);
	}

	/* heading: file, description, scale and how long it took */
	fputs(color ? C_BOLD : "", out);
	fputs(tu_term_clean(rep_file(r), buf, sizeof(buf)), out);
	fputs(color ? C_RESET : "", out);
	if (r->sc && r->sc->description[0])
		fprintf(out, ": %s", tu_term_clean(r->sc->description, buf, sizeof(buf)));
	fputc('\n', out);
	fputs("  ", out);
	if (r->sc && r->sc->scale_text[0] && strcmp(r->sc->scale_text, "1"))
		fprintf(out, "time scale %s, ", tu_term_clean(r->sc->scale_text, buf, sizeof(buf)));
	if (r->status == RES_SKIP && !r->wall_ms)
		fputs("not run", out);
	else
		fprintf(out, "ran in %s", duration_format(duration_round(r->wall_ms), dur, sizeof(dur)));
	if (r->scenario_ms)
		fprintf(out, " for %s of scenario time", duration_format(duration_round(r->scenario_ms), dur, sizeof(dur)));
	fputc('\n', out);
	if (rep_scenario_error(r)) {
		fprintf(out, "  %sERROR:%s %s\n", color ? C_YELLOW C_BOLD : "", color ? C_RESET : "",
			tu_term_clean(r->error, buf, sizeof(buf)));
	}

	fputs("  ", out);
	fputs(color ? C_DIM : "", out);
	tu_pad(out, "flow", wn + 2);
	tu_pad(out, "settings", ws + 2);
	tu_pad(out, "expected", we + 2);
	tu_pad(out, "observed", wo + 2);
	fputs("result", out);
	fputs(color ? C_RESET : "", out);
	fputc('\n', out);
	for (i = 0; i < n; i++) {
		const struct row *w = &rows[i];

		fputs("  ", out);
		tu_pad(out, w->name, wn + 2);
		tu_pad(out, w->settings, ws + 2);
		tu_pad(out, w->expected, we + 2);
		tu_pad(out, w->observed, wo + 2);
		fprintf(out, "%s%s%s\n", color ? status_color(w->status) : "",
			res_status_name(w->status), color ? C_RESET : "");
		if (w->evidence[0])
			fprintf(out, "      %s\n", w->evidence);
		/* a scenario-wide error was said once above */
		if (w->error[0] && !(rep_scenario_error(r) && !strcmp(flows[i].error, r->error)))
			fprintf(out, "      error: %s\n", w->error);
		if (w->status == RES_SKIP && !w->evidence[0])
			fprintf(out, "      not run\n");
	}
	fputc('\n', out);
	free(flows);
	free(rows);
}

void report_terminal(FILE *out, const struct scenario_result *rs, size_t n, bool color)
{
	struct rep_counts tot = { 0 };

	for (size_t i = 0; i < n; i++)
		one_scenario(out, &rs[i], color, &tot);
	if (tot.error)
		fprintf(out, "%zu %s (runs that could not be trusted)\n", tot.error,
			tot.error == 1 ? "error" : "errors");
	fprintf(out, "%zu passed, %zu failed", tot.pass, tot.fail);
	if (tot.skip)
		fprintf(out, ", %zu skipped", tot.skip);
	fputc('\n', out);
	fflush(out);
}
