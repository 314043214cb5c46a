// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run --html FILE`: one page a person can open anywhere, offline,
 * and that a CI job can keep as its only artefact. The summary table of
 * every flow first (status, expected, observed, evidence, where in which
 * file), then one section per scenario file with its flows and its SVG
 * timeline inline. Styles are in the page; there is no script and no link
 * to anything outside it. Every text goes through tu_xml_puts(), whose
 * escaping is also right for HTML element content and quoted attributes.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner/report/rows.h"
#include "runner/model/result.h"
#include "runner/util/textutil.h"

static const char css[] =
	"body{font-family:DejaVu Sans,Verdana,Arial,sans-serif;margin:24px;color:#222;background:#fff}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 4px}"
	".sub{color:#555;margin:0 0 12px}"
	"table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}"
	"th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
	"th{background:#f2f2f2}"
	".PASS{color:#fff;background:#2a9d3a}.FAIL{color:#fff;background:#d62728}"
	".ERROR{color:#222;background:#d4a017}.SKIP{color:#fff;background:#999}"
	"td.st{font-weight:bold;text-align:center}"
	"tr.FAILrow{background:#fdecec}tr.ERRORrow{background:#fdf6dc}"
	".err{color:#8b0000;font-weight:bold}"
	".tl{overflow-x:auto;border:1px solid #ddd;margin:8px 0}"
	".tl svg{display:block}"
	"code{font-size:12px}";

static void esc(FILE *f, const char *s)
{
	tu_xml_puts(f, s ? s : "");
}

/* An id for the scenario's section: its position, so any file name works. */
static void anchor(FILE *f, size_t i)
{
	fprintf(f, "scenario-%zu", i + 1);
}

static void status_cell(FILE *f, enum res_status st)
{
	fprintf(f, "<td class=\"st %s\">%s</td>", res_status_name(st), res_status_name(st));
}

static void flow_cells(FILE *f, const struct rep_flow *w)
{
	fputs("<td>", f);
	esc(f, w->name);
	fputs("</td><td>", f);
	esc(f, w->expected);
	fputs("</td><td>", f);
	esc(f, w->observed[0] ? w->observed : "-");
	fputs("</td>", f);
	status_cell(f, w->status);
	fputs("<td>", f);
	if (w->error[0]) {
		fputs("<span class=\"err\">error: ", f);
		esc(f, w->error);
		fputs("</span>", f);
	} else {
		esc(f, w->evidence);
	}
	fputs("</td>", f);
}

static void summary(FILE *f, const struct scenario_result *rs, size_t n, struct rep_flow *rows)
{
	fputs("<table id=\"summary\"><tr><th>scenario</th><th>flow</th><th>expected</th>"
	      "<th>observed</th><th>result</th><th>evidence</th></tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		size_t m = rep_flows(&rs[i], rows);

		for (size_t k = 0; k < m; k++) {
			fprintf(f, "<tr class=\"%srow\"><td><a href=\"#", res_status_name(rows[k].status));
			anchor(f, i);
			fputs("\">", f);
			esc(f, rep_file(&rs[i]));
			if (rows[k].sf)
				fprintf(f, ":%d", rows[k].sf->line);
			fputs("</a></td>", f);
			flow_cells(f, &rows[k]);
			fputs("</tr>\n", f);
		}
	}
	fputs("</table>\n", f);
}

static void scenario(FILE *f, const struct scenario_result *r, size_t i, struct rep_flow *rows)
{
	size_t m = rep_flows(r, rows);
	char a[32], b[32];

	fputs("<section id=\"", f);
	anchor(f, i);
	fputs("\"><h2>", f);
	esc(f, rep_file(r));
	fputs("</h2>\n<p class=\"sub\">", f);
	if (r->sc && r->sc->description[0]) {
		esc(f, r->sc->description);
		fputs("<br/>", f);
	}
	fprintf(f, "time scale %s, ran in %s for %s of scenario time",
		r->sc && r->sc->scale_text[0] ? r->sc->scale_text : "1",
		duration_format(duration_round(r->wall_ms), a, sizeof(a)), duration_format(duration_round(r->scenario_ms), b, sizeof(b)));
	fputs("</p>\n", f);
	if (rep_scenario_error(r)) {
		fputs("<p class=\"err\">ERROR: ", f);
		esc(f, r->error);
		fputs("</p>\n", f);
	}
	fputs("<table><tr><th>flow</th><th>expected</th><th>observed</th><th>result</th>"
	      "<th>evidence</th><th>settings</th><th>line</th></tr>\n", f);
	for (size_t k = 0; k < m; k++) {
		fprintf(f, "<tr class=\"%srow\">", res_status_name(rows[k].status));
		flow_cells(f, &rows[k]);
		fputs("<td><code>", f);
		esc(f, rows[k].settings);
		fputs("</code></td><td>", f);
		if (rows[k].sf)
			fprintf(f, "%d", rows[k].sf->line);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<div class=\"tl\">\n", f);
	report_svg_inline(f, r);
	fputs("</div>\n</section>\n", f);
}

int report_html(const char *path, const struct scenario_result *rs, size_t n)
{
	struct rep_flow *rows = rep_rows_new(rs, n);
	struct rep_counts c = { 0 };
	char tmp[PATH_MAX], when[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;

	if (!rows)
		return -1;
	for (size_t i = 0; i < n; i++)
		rep_count_rows(rows, rep_flows(&rs[i], rows), &c);
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	f = tu_atomic_open(path, tmp, sizeof(tmp));
	if (!f) {
		free(rows);
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		   "<meta name=\"viewport\" content=\"width=device-width\"/>\n"
		   "<title>idlegate: %zu passed, %zu failed</title>\n<style>%s</style>\n</head>\n<body>\n",
		c.pass, c.fail, css);
	fprintf(f, "<h1>idlegate run: %zu passed, %zu failed", c.pass, c.fail);
	if (c.error)
		fprintf(f, ", %zu error%s", c.error, c.error == 1 ? "" : "s");
	if (c.skip)
		fprintf(f, ", %zu skipped", c.skip);
	fprintf(f, "</h1>\n<p class=\"sub\">%zu scenario file%s, %zu flow%s; written %s. "
		   "Times are scenario time unless said otherwise.</p>\n",
		n, n == 1 ? "" : "s", c.total, c.total == 1 ? "" : "s", when);
	summary(f, rs, n, rows);
	for (size_t i = 0; i < n; i++)
		scenario(f, &rs[i], i, rows);
	fputs("</body>\n</html>\n", f);
	free(rows);
	return tu_atomic_commit(f, tmp, path, 1);
}
