// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run --annotate github|gitlab`: one line per flow that failed or
 * could not be trusted, pointing at its scenario file and line, in the form
 * the CI system turns into a mark on the change's diff. GitHub Actions
 * reads workflow commands from a step's output:
 *
 *   ::error file=scenarios/nat.ini,line=14,title=idlegate FAIL%3A idle-20s::expected alive, ...
 *
 * (data escaped as the runner's toolkit does: % CR LF, and in properties
 * also : and ,). GitLab has no such command; its lines are the compiler's
 * "FILE:LINE: error: ..." that editors and log viewers link.
 *
 * The line is the flow's `expect =` line (the expectation that did not
 * hold), else its [flow] header. A file under the workspace
 * (GITHUB_WORKSPACE, CI_PROJECT_DIR) is named relative to it, as the
 * diff names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/report/rows.h"
#include "runner/model/result.h"

/* GitHub's escaping of a workflow command's data (prop: of a property). */
static void gh_escape(FILE *f, const char *s, bool prop)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': fputs("%25", f); break;
		case '\r': fputs("%0D", f); break;
		case '\n': fputs("%0A", f); break;
		case ':': prop ? fputs("%3A", f) : fputc(':', f); break;
		case ',': prop ? fputs("%2C", f) : fputc(',', f); break;
		default:
			/* other control characters would end or garble the command */
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
		}
	}
}

static const char *relative(const char *file, const char *ws)
{
	size_t n;

	if (!ws || !*ws)
		return file;
	n = strlen(ws);
	while (n > 1 && ws[n - 1] == '/')
		n--;
	if (!strncmp(file, ws, n) && file[n] == '/')
		return file + n + 1;
	return file;
}

static void message(const struct rep_flow *w, char *buf, size_t len)
{
	if (w->status == RES_ERROR)
		snprintf(buf, len, "%s", w->error[0] ? w->error : "the run could not be trusted");
	else
		snprintf(buf, len, "expected %s, observed %s%s%s", w->expected,
			 w->observed[0] ? w->observed : "nothing", w->evidence[0] ? ": " : "", w->evidence);
}

size_t report_annotate(FILE *out, const struct scenario_result *rs, size_t n, enum annotate_style style)
{
	const char *ws = getenv(style == ANNOTATE_GITHUB ? "GITHUB_WORKSPACE" : "CI_PROJECT_DIR");
	struct rep_flow *rows;
	size_t count = 0;

	if (style == ANNOTATE_NONE || !(rows = rep_rows_new(rs, n)))
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t m = rep_flows(&rs[i], rows);
		const char *file = relative(rep_file(&rs[i]), ws);

		for (size_t k = 0; k < m; k++) {
			const struct rep_flow *w = &rows[k];
			const char *kind = res_status_name(w->status);
			char msg[700], title[96];
			int line = 0;

			if (w->status != RES_FAIL && w->status != RES_ERROR)
				continue;
			if (w->sf)
				line = w->sf->expect_line > 0 ? w->sf->expect_line : w->sf->line;
			message(w, msg, sizeof(msg));
			snprintf(title, sizeof(title), "idlegate %.8s: %.64s", kind, w->name);
			if (style == ANNOTATE_GITHUB) {
				fputs("::error file=", out);
				gh_escape(out, file, true);
				if (line > 0)
					fprintf(out, ",line=%d", line);
				fputs(",title=", out);
				gh_escape(out, title, true);
				fputs("::", out);
				gh_escape(out, msg, false);
				fputc('\n', out);
			} else {
				fputs(file, out);
				if (line > 0)
					fprintf(out, ":%d", line);
				fprintf(out, ": error: %s: %s\n", title, msg);
			}
			count++;
		}
	}
	free(rows);
	fflush(out);
	return count;
}

int annotate_parse(const char *s, enum annotate_style *style)
{
	if (!strcmp(s, "github"))
		*style = ANNOTATE_GITHUB;
	else if (!strcmp(s, "gitlab"))
		*style = ANNOTATE_GITLAB;
	else if (!strcmp(s, "none"))
		*style = ANNOTATE_NONE;
	else
		return -1;
	return 0;
}
