// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Keeps idlegate-scenario(5) in step with the code: its knob list (between
 * the knobs:begin/end comment lines) must name exactly the knobs of
 * policy_knobs(), each once and with the values the code accepts and its
 * default as the code writes it (duration_format(): "120s", "5d"), and the
 * page must describe every key of [scenario], [flow] and [event];
 * idlegate-sim(8) must list every knob by name, and the knob table of
 * docs/scenario-format.md must have the same knobs and defaults. A knob
 * added to the engine without a line in the manual fails here (regenerate
 * with scripts/gen-man-knobs.sh). Run from the repository root.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/iniread.h"
#include "runner/model/scenario.h"
#include "common/policy.h"

#define PAGE "docs/man/idlegate-scenario.5"
#define MAX_DOC_KNOBS 256

struct doc_knob {
	char name[64];
	char values[256];
	char dflt[128];
	int count;
};

/* roff source text -> plain text of the parts we compare: drops font
 * escapes (\fB \fI \fR \fP) and turns \- and \e into - and \. */
static void unroff(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] && o + 1 < len; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'f' && i + 2 < n) {
				i += 2;
				continue;
			}
			if (s[i + 1] == '-') {
				out[o++] = '-';
				i++;
				continue;
			}
			if (s[i + 1] == 'e') {
				out[o++] = '\\';
				i++;
				continue;
			}
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
}

/*
 * The knob entries of a page: after each ".TP" inside the knob section, a
 * line "\fBname\fR = \fIvalues\fR (default: ...)". Returns the number of
 * distinct knobs, or -1 with why in err when the section is missing or an
 * entry is malformed.
 */
static int doc_knobs(const char *page, struct doc_knob *dk, size_t max, char *err, size_t errlen)
{
	const char *begin = strstr(page, "\n.\\\" knobs:begin\n");
	const char *end = begin ? strstr(begin, "\n.\\\" knobs:end\n") : NULL;
	const char *p;
	size_t nk = 0;

	if (!begin || !end) {
		snprintf(err, errlen, "no knobs:begin/knobs:end section");
		return -1;
	}
	for (p = strstr(begin, "\n.TP\n"); p && p < end; p = strstr(p + 1, "\n.TP\n")) {
		const char *l = p + 5, *eol = strchr(l, '\n');
		char line[512], *eq, *paren, *dflt, *close;
		size_t i;

		if (!eol || eol > end) {
			snprintf(err, errlen, ".TP without an entry line");
			return -1;
		}
		unroff(l, (size_t)(eol - l), line, sizeof(line));
		eq = strstr(line, " = ");
		paren = strstr(line, " (default: ");
		if (!eq || !paren || paren < eq) {
			snprintf(err, errlen, "malformed knob entry '%.400s'", line);
			return -1;
		}
		dflt = paren + strlen(" (default: ");
		close = strrchr(dflt, ')');
		if (!close) {
			snprintf(err, errlen, "malformed knob entry '%.400s'", line);
			return -1;
		}
		*close = '\0';
		*eq = '\0';
		*paren = '\0';
		if (strlen(line) >= sizeof(dk->name) || strlen(eq + 3) >= sizeof(dk->values) ||
		    strlen(dflt) >= sizeof(dk->dflt)) {
			snprintf(err, errlen, "knob entry too long '%.100s'", line);
			return -1;
		}
		for (i = 0; i < nk; i++)
			if (!strcmp(dk[i].name, line))
				break;
		if (i == nk) {
			if (nk == max) {
				snprintf(err, errlen, "too many knob entries");
				return -1;
			}
			snprintf(dk[nk].name, sizeof(dk[nk].name), "%.63s", line);
			snprintf(dk[nk].values, sizeof(dk[nk].values), "%.255s", eq + 3);
			snprintf(dk[nk].dflt, sizeof(dk[nk].dflt), "%.127s", dflt);
			dk[nk++].count = 0;
		}
		dk[i].count++;
	}
	return (int)nk;
}

/*
 * Compares a page with policy_knobs(): 0 when every knob of the code is
 * documented exactly once with its values and the page documents no other;
 * -1 with the first difference in err.
 */
static int check_page(const char *page, char *err, size_t errlen)
{
	static struct doc_knob dk[MAX_DOC_KNOBS];
	size_t n;
	const struct knob_info *k = policy_knobs(&n);
	int nd = doc_knobs(page, dk, MAX_DOC_KNOBS, err, errlen);
	struct policy def;

	if (nd < 0)
		return -1;
	policy_init(&def);
	for (size_t i = 0; i < n; i++) {
		char d[128];
		int j;

		for (j = 0; j < nd; j++)
			if (!strcmp(dk[j].name, k[i].name))
				break;
		if (j == nd) {
			snprintf(err, errlen, "knob %.63s is not documented", k[i].name);
			return -1;
		}
		if (dk[j].count != 1) {
			snprintf(err, errlen, "knob %.63s is documented %d times", k[i].name, dk[j].count);
			return -1;
		}
		if (strcmp(dk[j].values, k[i].values)) {
			snprintf(err, errlen, "knob %.63s: documented values '%.200s', the code takes '%.200s'",
				 k[i].name, dk[j].values, k[i].values);
			return -1;
		}
		if (policy_get(&def, k[i].name, d, sizeof(d)) < 0 || strcmp(dk[j].dflt, d)) {
			snprintf(err, errlen, "knob %.63s: documented default '%.100s', the code's is '%.100s'",
				 k[i].name, dk[j].dflt, d);
			return -1;
		}
	}
	for (int j = 0; j < nd; j++) {
		size_t i;

		for (i = 0; i < n; i++)
			if (!strcmp(dk[j].name, k[i].name))
				break;
		if (i == n) {
			snprintf(err, errlen, "documented knob %.63s is unknown to the code", dk[j].name);
			return -1;
		}
	}
	return 0;
}

static char *read_page(void)
{
	size_t len;
	char *page = iniread_slurp(PAGE, 1 << 20, &len);

	ck_assert_msg(page, PAGE " missing (run from the repository root)");
	return page;
}

/* Replaces the first occurrence of from with to; returns a new string. */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char *out;

	ck_assert_msg(at, "'%s' not in the page", from);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, s, (size_t)(at - s));
	strcpy(out + (at - s), to);
	strcat(out, at + strlen(from));
	return out;
}

START_TEST(t_page_matches_code)
{
	char *page = read_page(), err[512] = "";

	ck_assert_msg(check_page(page, err, sizeof(err)) == 0, PAGE ": %s (scripts/gen-man-knobs.sh regenerates)", err);
	free(page);
}
END_TEST

/* The check itself must catch a missing knob, an unknown one, a duplicate
 * and stale values: mutate the real page and expect each to fail. */
START_TEST(t_check_catches_drift)
{
	char *page = read_page(), *bad, err[512];
	char entry[512];
	size_t n;
	const struct knob_info *k = policy_knobs(&n);
	const char *first = strstr(page, "\n.\\\" knobs:begin\n.TP\n");
	const char *second;

	ck_assert_ptr_nonnull(first);
	first += strlen("\n.\\\" knobs:begin\n");
	second = strstr(first + 1, "\n.TP\n");
	ck_assert_ptr_nonnull(second);
	snprintf(entry, sizeof(entry), "%.*s", (int)(second + 1 - first), first);

	/* the first knob's entry removed */
	bad = replace(page, entry, "");
	ck_assert_int_eq(check_page(bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, k[0].name) && strstr(err, "not documented"), "%s", err);
	free(bad);

	/* a knob the code does not know */
	bad = replace(page, ".\\\" knobs:end\n",
		      ".TP\n\\fBtcp.bogus\\fR = \\fIduration\\fR (default: \\fB1s\\fR)\nnot a knob.\n.\\\" knobs:end\n");
	ck_assert_int_eq(check_page(bad, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "tcp.bogus") && strstr(err, "unknown"), "%s", err);
	free(bad);

	/* the first knob twice */
	{
		char twice[600];

		snprintf(twice, sizeof(twice), "%s.\\\" knobs:end\n", entry);
		bad = replace(page, ".\\\" knobs:end\n", twice);
		ck_assert_int_eq(check_page(bad, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "2 times"), "%s", err);
		free(bad);
	}

	/* values that no longer match the code's */
	{
		char from[128], to[160];

		snprintf(from, sizeof(from), "\\fB%s\\fR = \\fI", k[0].name);
		snprintf(to, sizeof(to), "\\fB%s\\fR = \\fIstale|", k[0].name);
		bad = replace(page, from, to);
		ck_assert_int_eq(check_page(bad, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "documented values"), "%s", err);
		free(bad);
	}

	/* a default written another way than the code writes it */
	{
		char from[160], to[160], d[128];
		struct policy def;

		policy_init(&def);
		ck_assert_int_eq(policy_get(&def, k[0].name, d, sizeof(d)), 0);
		snprintf(from, sizeof(from), "(default: \\fB%s\\fR)", d);
		snprintf(to, sizeof(to), "(default: \\fB%s000ms\\fR)", d);
		bad = replace(page, from, to);
		ck_assert_int_eq(check_page(bad, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "documented default"), "%s", err);
		free(bad);
	}

	/* no section at all */
	bad = replace(page, ".\\\" knobs:begin\n", "");
	ck_assert_int_eq(check_page(bad, err, sizeof(err)), -1);
	free(bad);
	free(page);
}
END_TEST

/* Every key of [scenario], [flow] and [event] appears as "key = " in the
 * page's plain text. */
START_TEST(t_section_keys)
{
	char *page = read_page(), *text;
	const char *kinds[] = { "scenario", "flow", "event" };
	size_t len = strlen(page), n;

	text = malloc(len + 1);
	ck_assert_ptr_nonnull(text);
	unroff(page, len, text, len + 1);
	for (size_t j = 0; j < 3; j++) {
		const char *const *keys = sc_section_keys(kinds[j], &n);

		ck_assert_uint_gt(n, 0);
		for (size_t i = 0; i < n; i++) {
			char needle[96];

			snprintf(needle, sizeof(needle), "%s = ", keys[i]);
			ck_assert_msg(strstr(text, needle), PAGE " does not document [%s] key %s",
				      kinds[j], keys[i]);
		}
	}
	ck_assert_msg(strstr(text, "profile = "), PAGE " does not document [middlebox] profile");
	free(text);
	free(page);
}
END_TEST

/* Cell i (0-based) of a Markdown table row "| a | b\\|c | d |" into buf,
 * trimmed; false when the row has fewer cells. */
static bool md_cell(const char *row, int i, char *buf, size_t len)
{
	const char *p = strchr(row, '|'), *q;

	for (; p && i > 0; i--) {
		for (p++; *p && *p != '\n' && !(*p == '|' && p[-1] != '\\'); p++)
			;
		if (*p != '|')
			return false;
	}
	if (!p)
		return false;
	for (q = ++p; *q && *q != '\n' && !(*q == '|' && q[-1] != '\\'); q++)
		;
	if (*q != '|')
		return false;
	while (p < q && *p == ' ')
		p++;
	while (q > p && q[-1] == ' ')
		q--;
	snprintf(buf, len, "%.*s", (int)(q - p), p);
	return true;
}

/* The knob table of docs/scenario-format.md (scripts/gen-scenario-docs.sh)
 * has a row for every knob, each with the default as the code writes it. */
START_TEST(t_markdown_knobs)
{
	size_t len, n, rows = 0;
	char *doc = iniread_slurp("docs/scenario-format.md", 1 << 20, &len);
	const char *begin, *end;
	struct policy def;

	ck_assert_msg(doc, "docs/scenario-format.md missing");
	policy_knobs(&n);
	begin = strstr(doc, "<!-- knobs:begin -->");
	end = begin ? strstr(begin, "<!-- knobs:end -->") : NULL;
	ck_assert_msg(begin && end, "docs/scenario-format.md: no knobs:begin/knobs:end");
	policy_init(&def);
	for (const char *row = strstr(begin, "\n| `"); row && row < end; row = strstr(row + 1, "\n| `")) {
		char name[80], dflt[128], d[128];

		ck_assert(md_cell(row + 1, 0, name, sizeof(name)) && md_cell(row + 1, 2, dflt, sizeof(dflt)));
		ck_assert_msg(strlen(name) > 2, "docs/scenario-format.md: a knob row without a name");
		memmove(name, name + 1, strlen(name));
		name[strlen(name) - 1] = '\0';         /* `name` -> name */
		ck_assert_msg(policy_get(&def, name, d, sizeof(d)) == 0,
			      "docs/scenario-format.md: knob %s is unknown to the code", name);
		ck_assert_msg(!strcmp(dflt, d), "docs/scenario-format.md: knob %s: documented default '%s', "
			      "the code's is '%s' (scripts/gen-scenario-docs.sh regenerates)", name, dflt, d);
		rows++;
	}
	ck_assert_msg(rows == n, "docs/scenario-format.md: %zu knob rows, the code has %zu knobs", rows, n);
	free(doc);
}
END_TEST

/* idlegate-sim(8) lists the knobs --set takes: every one, by name. */
START_TEST(t_sim_page_knobs)
{
	size_t len, n;
	char *page = iniread_slurp("docs/man/idlegate-sim.8", 1 << 20, &len);
	const struct knob_info *k = policy_knobs(&n);

	ck_assert_msg(page, "docs/man/idlegate-sim.8 missing");
	for (size_t i = 0; i < n; i++) {
		char a[96], b[96];

		snprintf(a, sizeof(a), "\n.BR %s ", k[i].name);
		snprintf(b, sizeof(b), "\n.B %s\n", k[i].name);
		ck_assert_msg(strstr(page, a) || strstr(page, b),
			      "docs/man/idlegate-sim.8 does not list knob %s", k[i].name);
	}
	free(page);
}
END_TEST

static Suite *manpages_suite(void)
{
	Suite *s = suite_create("manpages");
	TCase *tc = tcase_create("manpages");

	tcase_add_test(tc, t_page_matches_code);
	tcase_add_test(tc, t_check_catches_drift);
	tcase_add_test(tc, t_section_keys);
	tcase_add_test(tc, t_sim_page_knobs);
	tcase_add_test(tc, t_markdown_knobs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(manpages_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
