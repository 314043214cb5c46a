// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run --tap`: TAP version 13 on the output, one test point per
 * flow ("ok 1 - quickstart.ini: no-keepalive # reset (expected reset)"),
 * a YAML diagnostic block under each FAIL and ERROR, "# SKIP" for flows not
 * run. The description is cleaned for TAP: no control characters, and '#'
 * escaped as "\#" so no name can turn into a directive; YAML values are
 * double-quoted scalars written by jansson (see yaml_kv()).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonio.h"
#include "common/utf8.h"

#include "runner/report/rows.h"
#include "runner/model/result.h"
#include "runner/util/textutil.h"

static void tap_text(FILE *out, const char *s)
{
	char buf[PATH_MAX + 64];

	tu_term_clean(s, buf, sizeof(buf));
	for (const char *p = buf; *p; p++) {
		if (*p == '#' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
}

/*
 * A YAML double-quoted scalar is a JSON string (jansson writes it) as long
 * as it holds no DEL, C1 control or U+2028/U+2029 raw: YAML readers refuse
 * the first two and fold the others, and jansson passes them through. This
 * is a diagnostic for people, so they become U+FFFD (as invalid UTF-8
 * does) rather than getting an escape of their own.
 */
static void yaml_kv(FILE *out, const char *key, const char *value)
{
	const unsigned char *s = (const unsigned char *)(value ? value : "");
	char *clean = value ? malloc(strlen(value) * 3 + 1) : NULL;
	size_t o = 0;

	fprintf(out, "  %s: ", key);
	if (!clean) {
		jsonio_fputs(out, NULL);
		fputc('\n', out);
		return;
	}
	while (*s) {
		uint32_t cp;
		size_t n = utf8_next(s, &cp);

		if (cp == UTF8_BAD || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) {
			memcpy(clean + o, "\xEF\xBF\xBD", 3);
			o += 3;
		} else {
			memcpy(clean + o, s, n);
			o += n;
		}
		s += n;
	}
	clean[o] = '\0';
	jsonio_fputs(out, clean);
	fputc('\n', out);
	free(clean);
}

void report_tap(FILE *out, const struct scenario_result *rs, size_t n)
{
	struct rep_flow *rows = rep_rows_new(rs, n);
	size_t total = 0, num = 0, i, j, k;
	char d[32], sample[SC_NAME_MAX + 16];

	if (!rows) {
		fputs("Bail out! out of memory\n", out);
		return;
	}
	for (i = 0; i < n; i++)
		total += rep_flows(&rs[i], rows);
	fprintf(out, "TAP version 13\n1..%zu\n", total);
	for (i = 0; i < n; i++) {
		const struct scenario_result *r = &rs[i];
		const char *file = tu_basename(rep_file(r));

		k = rep_flows(r, rows);
		for (j = 0; j < k; j++) {
			const struct rep_flow *w = &rows[j];
			const char *obs = w->observed[0] ? w->observed : "nothing";

			num++;
			fprintf(out, "%s %zu - ", w->status == RES_PASS || w->status == RES_SKIP
						  ? "ok" : "not ok", num);
			tap_text(out, file);
			fputs(": ", out);
			tap_text(out, w->name);
			switch (w->status) {
			case RES_PASS:
			case RES_FAIL:
				fputs(" # ", out);
				tap_text(out, obs);
				fputs(" (expected ", out);
				tap_text(out, w->expected);
				fputs(")\n", out);
				break;
			case RES_ERROR:
				fputs(" # error\n", out);
				break;
			case RES_SKIP:
				fputs(" # SKIP ", out);
				tap_text(out, w->evidence[0] ? w->evidence : "not run");
				fputc('\n', out);
				break;
			}
			if (w->status != RES_FAIL && w->status != RES_ERROR)
				continue;
			fputs("  ---\n", out);
			if (w->status == RES_FAIL) {
				char msg[600];

				snprintf(msg, sizeof(msg), "expected %s, observed %s", w->expected, obs);
				yaml_kv(out, "message", msg);
				fputs("  severity: fail\n", out);
			} else {
				yaml_kv(out, "message", w->error[0] ? w->error : "the run could not be trusted");
				fputs("  severity: error\n", out);
			}
			yaml_kv(out, "file", rep_file(r));
			if (w->sf)
				fprintf(out, "  line: %d\n",
					w->sf->expect_line > 0 ? w->sf->expect_line : w->sf->line);
			yaml_kv(out, "expected", w->expected);
			yaml_kv(out, "observed", w->observed);
			if (w->evidence[0])
				yaml_kv(out, "evidence", w->evidence);
			if (w->settings[0])
				yaml_kv(out, "settings", w->settings);
			/* a group's numbers below are those of its sample */
			if (rep_sample_name(w, sample, sizeof(sample)))
				yaml_kv(out, "sample", sample);
			if (w->fr && w->fr->noticed_by[0])
				yaml_kv(out, "noticed_by", w->fr->noticed_by);
			if (w->fr && w->fr->noticed_ms >= 0)
				yaml_kv(out, "noticed_after",
					duration_format(duration_round((uint64_t)w->fr->noticed_ms), d, sizeof(d)));
			if (w->fr && w->fr->expired_ms >= 0)
				yaml_kv(out, "expired_after",
					duration_format(duration_round((uint64_t)w->fr->expired_ms), d, sizeof(d)));
			if (r->sc && r->sc->scale_text[0])
				yaml_kv(out, "time_scale", r->sc->scale_text);
			fputs("  ...\n", out);
		}
	}
	free(rows);
	fflush(out);
}
