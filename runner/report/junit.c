// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run --junit FILE`: JUnit XML, the format CI systems (Jenkins,
 * GitLab, GitHub actions' test reporters) read. A <testsuite> per scenario
 * file, a <testcase> per flow; FAIL is a <failure> whose message says what
 * was expected and observed and why, ERROR an <error> (a scenario-wide
 * error gives every flow one), SKIP a <skipped/>. <system-out> holds the
 * settings and evidence so the CI page tells the whole story.
 *
 * A testcase's time is its own flow's real time (to its last mark), a
 * testsuite's the scenario's: the flows of a scenario run at the same time,
 * so giving each the scenario's time would multiply the totals. A
 * testsuite's timestamp is when the report was written, less its run time. Every string goes through
 * tu_xml_puts(): names and evidence may hold markup and control characters.
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

static void attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	tu_xml_puts(f, value);
	fputc('"', f);
}

static void seconds(FILE *f, uint64_t ms)
{
	fprintf(f, "%llu.%03llu", (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
}

/* "quickstart" for "scenarios/examples/quickstart.ini": CI tools split
 * classnames at dots into packages. */
static void classname(const struct scenario_result *r, char *buf, size_t len)
{
	const char *b = tu_basename(rep_file(r));
	size_t n = strlen(b);

	if (n > 4 && !strcmp(b + n - 4, ".ini"))
		n -= 4;
	snprintf(buf, len, "%.*s", (int)n, b);
	for (char *p = buf; *p; p++)
		if (*p == '.')
			*p = '_';
}

static void system_out(FILE *f, const struct scenario_result *r, const struct rep_flow *w)
{
	char d[32], sample[SC_NAME_MAX + 16];

	fputs("      <system-out>", f);
	fputs("scenario: ", f);
	tu_xml_puts(f, rep_file(r));
	if (w->sf) {
		fprintf(f, ":%d", w->sf->line);
	}
	fputs("\nsettings: ", f);
	tu_xml_puts(f, w->settings);
	fputs("\nexpected: ", f);
	tu_xml_puts(f, w->expected);
	fputs("\nobserved: ", f);
	tu_xml_puts(f, w->observed[0] ? w->observed : "-");
	fprintf(f, "\nresult: %s", res_status_name(w->status));
	if (w->evidence[0]) {
		fputs("\nevidence: ", f);
		tu_xml_puts(f, w->evidence);
	}
	if (w->error[0]) {
		fputs("\nerror: ", f);
		tu_xml_puts(f, w->error);
	}
	if (w->fr) {
		const struct flow_result *fr = w->fr;

		if (fr->count > 1) {
			fprintf(f, "\nconnections: %u (a flow group; evidence of a sample of each outcome)",
				fr->count);
			fprintf(f, "\nacross the %u connections: %u expired by a middlebox, %u keepalives seen, "
				   "%u packets dropped", fr->count, fr->total.expired, fr->total.keepalives_seen,
				fr->total.drops);
			if (rep_sample_name(w, sample, sizeof(sample))) {
				fputs("\nsample connection ", f);
				tu_xml_puts(f, sample);
				fputs(":", f);
			}
		}
		if (fr->noticed_by[0]) {
			fputs("\nnoticed by: ", f);
			tu_xml_puts(f, fr->noticed_by);
			if (fr->noticed_ms >= 0)
				fprintf(f, " after %s idle", duration_format(duration_round((uint64_t)fr->noticed_ms), d, sizeof(d)));
		}
		if (fr->expired_ms >= 0)
			fprintf(f, "\nmiddlebox expired the flow after %s idle",
				duration_format(duration_round((uint64_t)fr->expired_ms), d, sizeof(d)));
		fprintf(f, "\nkeepalives seen by the middleboxes: %u\npackets dropped: %u",
			fr->keepalives_seen, fr->drops);
	}
	if (r->sc && r->sc->scale_text[0]) {
		fputs("\ntime scale: ", f);
		tu_xml_puts(f, r->sc->scale_text);
	}
	fputs("\n</system-out>\n", f);
}

static void testcase(FILE *f, const struct scenario_result *r, const struct rep_flow *w,
		     const char *cls)
{
	char msg[600];

	fputs("    <testcase", f);
	attr(f, "classname", cls);
	attr(f, "name", w->name);
	fputs(" time=\"", f);
	seconds(f, rep_flow_wall_ms(r, w->index));
	fputs("\"", f);
	if (w->sf) {
		attr(f, "file", rep_file(r));
		fprintf(f, " line=\"%d\"", w->sf->line);
	}
	fputs(">\n", f);
	switch (w->status) {
	case RES_PASS:
		break;
	case RES_FAIL:
		snprintf(msg, sizeof(msg), "expected %s, observed %s%s%s", w->expected,
			 w->observed[0] ? w->observed : "nothing", w->evidence[0] ? ": " : "",
			 w->evidence);
		fputs("      <failure", f);
		attr(f, "message", msg);
		attr(f, "type", "expectation");
		fputs(">", f);
		tu_xml_puts(f, msg);
		fputs("</failure>\n", f);
		break;
	case RES_ERROR:
		fputs("      <error", f);
		attr(f, "message", w->error[0] ? w->error : "the run could not be trusted");
		attr(f, "type", "run");
		fputs(">", f);
		tu_xml_puts(f, w->error);
		fputs("</error>\n", f);
		break;
	case RES_SKIP:
		fputs("      <skipped", f);
		attr(f, "message", w->evidence[0] ? w->evidence : "not run");
		fputs("/>\n", f);
		break;
	}
	system_out(f, r, w);
	fputs("    </testcase>\n", f);
}

/* ISO 8601 in UTC, the form the JUnit schema's timestamp takes. */
static void timestamp(FILE *f, uint64_t ago_ms)
{
	time_t t = time(NULL) - (time_t)(ago_ms / 1000);
	struct tm tm;
	char buf[32];

	if (gmtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm))
		fprintf(f, " timestamp=\"%s\"", buf);
}

static void suite(FILE *f, const struct scenario_result *r, const struct rep_flow *rows, size_t n,
		  size_t id, uint64_t ago_ms)
{
	struct rep_counts c = { 0 };
	char cls[PATH_MAX];

	rep_count_rows(rows, n, &c);
	classname(r, cls, sizeof(cls));
	fputs("  <testsuite", f);
	attr(f, "name", rep_file(r));
	fprintf(f, " id=\"%zu\" hostname=\"localhost\"", id);
	timestamp(f, ago_ms);
	fprintf(f, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"", c.total,
		c.fail, c.error, c.skip);
	seconds(f, r->wall_ms);
	fputs("\">\n", f);
	fputs("    <properties>\n", f);
	if (r->sc && r->sc->description[0]) {
		fputs("      <property name=\"description\"", f);
		attr(f, "value", r->sc->description);
		fputs("/>\n", f);
	}
	fputs("      <property name=\"time_scale\"", f);
	attr(f, "value", r->sc && r->sc->scale_text[0] ? r->sc->scale_text : "1");
	fputs("/>\n", f);
	if (r->error[0]) {
		fputs("      <property name=\"error\"", f);
		attr(f, "value", r->error);
		fputs("/>\n", f);
	}
	fputs("    </properties>\n", f);
	for (size_t i = 0; i < n; i++)
		testcase(f, r, &rows[i], cls);
	fputs("  </testsuite>\n", f);
}

int report_junit(const char *path, const struct scenario_result *rs, size_t n)
{
	struct rep_flow *rows = rep_rows_new(rs, n);
	struct rep_counts tot = { 0 };
	uint64_t wall = 0;
	char tmp[PATH_MAX];
	FILE *f;
	size_t i;

	if (!rows)
		return -1;
	for (i = 0; i < n; i++) {
		rep_count_rows(rows, rep_flows(&rs[i], rows), &tot);
		wall += rs[i].wall_ms;
	}
	f = tu_atomic_open(path, tmp, sizeof(tmp));
	if (!f) {
		free(rows);
		return -1;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"idlegate\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		   "skipped=\"%zu\" time=\"", tot.total, tot.fail, tot.error, tot.skip);
	seconds(f, wall);
	fputs("\">\n", f);
	for (i = 0; i < n; i++) {
		suite(f, &rs[i], rows, rep_flows(&rs[i], rows), i, wall);
		wall -= rs[i].wall_ms;
	}
	fputs("</testsuites>\n", f);
	free(rows);
	return tu_atomic_commit(f, tmp, path, 1);
}
