// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report writers (runner/report_*.c) on results built by hand: a run
 * with passing and failing flows and a full timeline, one whose simulator
 * crashed (a scenario-level error) and one that was skipped. Every file
 * format is checked by a real parser (xmllint for JUnit and SVG, Python's
 * json and ElementTree for the values), the stream formats line by line,
 * and strings with quotes, markup, control characters, non-ASCII UTF-8 and
 * broken UTF-8 must come out escaped. Set TEST_REPORTS_KEEP=1 to keep the
 * output directory (its path is printed) and look at the SVG.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/iniread.h"
#include "runner/model/result.h"
#include "runner/model/scenario.h"
#include "runner/report/rows.h"
#include "common/jsonio.h"
#include "runner/util/textutil.h"

#define NASTY "<b>&amp; \"q\" 'a' \x01\x1b[31m \xc3\xa9 \xe6\x97\xa5 \xff end"

static const char scen_a[] =
	"[scenario]\n"
	"description = NAT gateway <350 s> & \"friends\" 'x' \xc3\xa9t\xc3\xa9\n"
	"time_scale = 1/20\n"
	"[middlebox nat]\n"
	"tcp.established = 350s\n"
	"udp.assured = 350s\n"
	"on_expire = rst-inside-on-next\n"
	"[flow no-keepalive]\n"
	"idle = 400s\n"
	"expect = reset\n"
	"[flow keepalive-60s]\n"
	"keepalive = 60s,20s,3\n"
	"idle = 400s\n"
	"expect = alive\n"
	"[flow keepalive-late]\n"
	"keepalive = 400s,60s,3\n"
	"idle = 900s\n"
	"expect = alive\n"
	"[flow udp-heartbeat]\n"
	"proto = udp\n"
	"heartbeat = 25s\n"
	"idle = 300s\n"
	"expect = alive\n"
	"[event outage]\n"
	"at = 120s\n"
	"action = blackhole 30s\n";

static const char scen_b[] =
	"[scenario]\n"
	"description = crashed\n"
	"[middlebox nat]\n"
	"[flow one]\n"
	"idle = 10s\n"
	"expect = alive\n"
	"[flow two]\n"
	"idle = 10s\n"
	"expect = reset\n";

static const char scen_c[] =
	"[middlebox fw]\n"
	"[flow only]\n"
	"idle = 5s\n"
	"expect = timeout\n";

static struct scenario *sca, *scb, *scc;
static struct scenario_result rs[3];
static char dir[64];

static struct scenario *parse(const char *text, const char *name)
{
	static struct ini_diags d;
	struct scenario *sc;
	char buf[300];

	ini_diags_init(&d, name);
	sc = scenario_parse(text, strlen(text), name, NULL, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", ini_diag_format(&d, i, buf, sizeof(buf)));
	ck_assert_ptr_nonnull(sc);
	return sc;
}

static void mark(struct scenario_result *r, double t_s, enum tl_kind k, int flow, int mb, int dir_,
		 const char *detail)
{
	struct tl_mark m = { .t_ms = (uint64_t)(t_s * 1000), .kind = k, .flow = flow,
			     .middlebox = mb, .dir = dir_ };

	snprintf(m.detail, sizeof(m.detail), "%s", detail);
	ck_assert_int_eq(result_mark(r, &m), 0);
}

static void flow_res(struct scenario_result *r, int i, enum res_status st, const char *obs,
		     const char *evidence)
{
	struct flow_result *f = result_flow_add(r);

	ck_assert_ptr_nonnull(f);
	f->flow = i;
	f->status = st;
	snprintf(f->expected, sizeof(f->expected), "%s", sc_expect_name(r->sc->flows[i].expect));
	snprintf(f->observed, sizeof(f->observed), "%s", obs);
	snprintf(f->evidence, sizeof(f->evidence), "%s", evidence);
	f->noticed_ms = -1;
	f->expired_ms = -1;
}

/* A quickstart-like run: what the runner will make of a real one. */
static void build_a(struct scenario_result *r)
{
	struct flow_result *f;

	r->sc = sca;
	r->status = RES_FAIL;
	r->wall_ms = 47312;
	r->scenario_ms = 402000;
	for (int i = 0; i < 4; i++) {
		mark(r, 0.01, TL_FLOW_NEW, i, 0, 0, "10.99.0.2:40000 -> 10.99.1.2:5001");
		mark(r, 0.05, TL_DATA, i, 0, 0, "");
		mark(r, 0.06, TL_DATA, i, 0, 1, "");
		mark(r, 0.5, TL_IDLE_START, i, -1, -1, "");
	}
	/* no keepalive: expired at 350 s, client's send at 400.5 s gets a RST */
	mark(r, 350.5, TL_EXPIRE, 0, 0, -1, "idle 350s, rst-inside-on-next");
	mark(r, 400.5, TL_DATA, 0, 0, 0, "");
	mark(r, 400.5, TL_INJECT, 0, 0, 1, "RST to client");
	mark(r, 400.6, TL_OUTCOME, 0, -1, -1, "reset, seen by client");
	flow_res(r, 0, RES_PASS, "reset", "RST after 400s idle, seen by the client on its first send");
	f = &r->flows[0];
	f->expired_ms = 350000;
	f->noticed_ms = 400000;
	snprintf(f->noticed_by, sizeof(f->noticed_by), "client");
	snprintf(f->settings, sizeof(f->settings), "tcp keepalive off idle 400s speaker client");
	/* keepalive every 60 s: alive */
	for (int t = 60; t <= 360; t += 60) {
		mark(r, t + 0.5, TL_KEEPALIVE, 1, 0, 0, "");
		mark(r, t + 0.5, TL_KEEPALIVE, 1, 0, 1, "ack");
	}
	mark(r, 400.5, TL_DATA, 1, 0, 0, "");
	mark(r, 400.51, TL_DATA, 1, 0, 1, "");
	mark(r, 400.6, TL_OUTCOME, 1, -1, -1, "alive");
	flow_res(r, 1, RES_PASS, "alive", "data crossed both ways after 400s idle; "
		 "6 keepalives kept the NAT entry fresh");
	r->flows[1].keepalives_seen = 6;
	/* keepalive after 400 s comes too late: FAIL, with a nasty evidence */
	mark(r, 350.5, TL_EXPIRE, 2, 0, -1, "idle 350s, rst-inside-on-next");
	mark(r, 400.5, TL_KEEPALIVE, 2, 0, 0, "");
	mark(r, 400.5, TL_INJECT, 2, 0, 1, "RST to client");
	mark(r, 400.6, TL_OUTCOME, 2, -1, -1, "reset (ECONNRESET on keepalive)");
	flow_res(r, 2, RES_FAIL, "reset", "first keepalive after 400s idle came too late " NASTY);
	f = &r->flows[2];
	f->expired_ms = 350000;
	f->noticed_ms = 400000;
	f->keepalives_seen = 1;
	f->err = ECONNRESET;
	snprintf(f->noticed_by, sizeof(f->noticed_by), "client");
	/* UDP heartbeat through a 30 s outage: two heartbeats dropped */
	for (int t = 25; t <= 300; t += 25) {
		bool out = t >= 120 && t <= 150;

		mark(r, t + 0.5, out ? TL_DROP : TL_HEARTBEAT, 3, 0, 0, out ? "blackhole" : "");
		if (!out)
			mark(r, t + 0.52, TL_HEARTBEAT, 3, 0, 1, "");
	}
	mark(r, 300.5, TL_DATA, 3, 0, 0, "");
	mark(r, 300.52, TL_DATA, 3, 0, 1, "");
	mark(r, 300.6, TL_OUTCOME, 3, -1, -1, "alive");
	flow_res(r, 3, RES_PASS, "alive", "heartbeats every 25s kept the mapping; 2 lost in the outage");
	r->flows[3].drops = 2;
	mark(r, 120.5, TL_EVENT, -1, -1, -1, "blackhole 30s");
	mark(r, 151, TL_EVENT, -1, -1, -1, "blackhole ends");
}

static void setup(void)
{
	memset(rs, 0, sizeof(rs));
	sca = parse(scen_a, "scenarios/quickstart.ini");
	scb = parse(scen_b, "other/quickstart.ini");
	scc = parse(scen_c, "skipped.ini");
	build_a(&rs[0]);
	rs[1].sc = scb;
	rs[1].status = RES_ERROR;
	rs[1].wall_ms = 1234;
	snprintf(rs[1].error, sizeof(rs[1].error), "simulator for 'nat' crashed " NASTY);
	rs[2].sc = scc;
	rs[2].status = RES_SKIP;
	snprintf(dir, sizeof(dir), "/tmp/test_reports.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void rm_rf(const char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d);
}

static void teardown(void)
{
	for (int i = 0; i < 3; i++)
		result_clear(&rs[i]);
	scenario_free(sca);
	scenario_free(scb);
	scenario_free(scc);
	if (getenv("TEST_REPORTS_KEEP"))
		fprintf(stderr, "reports kept in %s\n", dir);
	else
		rm_rf(dir);
}

/* Run a shell command; its exit status (or -1). */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* Run a Python check on a file: the script asserts, so exit 0 = all held. */
static int py_check(const char *path, const char *script)
{
	char sp[128];
	FILE *f;
	int rc;

	snprintf(sp, sizeof(sp), "%s/check.py", dir);
	f = fopen(sp, "w");
	ck_assert_ptr_nonnull(f);
	fputs("import sys, json\nimport xml.etree.ElementTree as ET\np = sys.argv[1]\n", f);
	fputs(script, f);
	fclose(f);
	rc = run("python3 '%s' '%s'", sp, path);
	unlink(sp);
	return rc;
}

#define PY_CHECK(args) do { \
	int rc_ = py_check args; \
	ck_assert_msg(rc_ == 0, "the Python check failed (exit %d), see its message above", rc_); \
} while (0)

static char *capture(void (*fn)(FILE *, const struct scenario_result *, size_t, bool), bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fn(f, rs, 3, color);
	fclose(f);
	return buf;
}

/* With TEST_REPORTS_KEEP, save a stream report next to the files. */
static void keep(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	if (!getenv("TEST_REPORTS_KEEP"))
		return;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void tap(FILE *f, const struct scenario_result *r, size_t n, bool color)
{
	(void)color;
	report_tap(f, r, n);
}

START_TEST(test_result_mark_and_names)
{
	struct scenario_result r = { 0 };

	for (int i = 0; i < 1000; i++)
		mark(&r, i, TL_DATA, 0, 0, 0, "x");
	ck_assert_uint_eq(r.nmarks, 1000);
	ck_assert_uint_ge(r.cap_marks, 1000);
	ck_assert_uint_eq(r.marks[999].t_ms, 999000);
	result_clear(&r);
	ck_assert_ptr_null(r.marks);
	ck_assert_uint_eq(r.nmarks, 0);
	result_clear(NULL);
	ck_assert_str_eq(res_status_name(RES_PASS), "PASS");
	ck_assert_str_eq(res_status_name(RES_SKIP), "SKIP");
	ck_assert_str_eq(tl_kind_name(TL_KEEPALIVE), "keepalive");
	ck_assert_str_eq(tl_kind_name(TL_IDLE_START), "idle-start");
	ck_assert_str_eq(tl_kind_name(TL_OUTCOME), "outcome");
}
END_TEST

static char *to_string(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, s);
	fclose(f);
	return buf;
}

START_TEST(test_escaping)
{
	char *s, buf[64];

	s = to_string(tu_xml_puts, "a<b>&\"c\"'d'\t\n\x01\x7f\xc3\xa9\xff\xef\xbf\xbe|\xed\xa0\x80|\xc0\xaf");
	ck_assert_str_eq(s, "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#9;&#10;\xef\xbf\xbd\x7f\xc3\xa9"
			    "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
			    "\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	/* JSON strings: jansson, with invalid UTF-8 replaced by U+FFFD */
	s = to_string(jsonio_fputs, "a\"b\\c\n\t\x01\x1f\xc3\xa9\xff/");
	ck_assert_str_eq(s, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001F\xc3\xa9\xef\xbf\xbd/\"");
	free(s);
	s = to_string(jsonio_fputs, NULL);
	ck_assert_str_eq(s, "null");
	free(s);
	ck_assert_str_eq(tu_term_clean("a\x1b[31mb\xff\xc3\xa9\n", buf, sizeof(buf)), "a\\x1b[31mb\\xff\xc3\xa9\\n");
	ck_assert_str_eq(tu_term_clean("x\r\ty", buf, sizeof(buf)), "x\\r\\ty");
	/* never cuts a character */
	ck_assert_str_eq(tu_term_clean("ab\xc3\xa9", buf, 4), "ab");
	ck_assert_uint_eq(tu_width("\xc3\xa9t\xc3\xa9"), 3);
	ck_assert_str_eq(tu_truncate("short", 10, buf, sizeof(buf)), "short");
	ck_assert_str_eq(tu_truncate("exactly-10", 10, buf, sizeof(buf)), "exactly-10");
	ck_assert_str_eq(tu_truncate("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 5, buf, sizeof(buf)),
			 "\xc3\xa9\xc3\xa9...");
	ck_assert_str_eq(tu_truncate("abcdefghij", 20, buf, 6), "ab...");
}
END_TEST

START_TEST(test_progress_words)
{
	char b[256];

	tu_progress_run(b, sizeof(b), "q.ini", 90000, 450000, 4400, 22500, 1, 2, 0);
	ck_assert_str_eq(b, "q.ini: scenario time 90s of 450s, wall clock 4.4s of about 23s, "
			 "1/2 flows ended, 0 expired");
	/* an estimate that fell short is never "441s of 430s" */
	tu_progress_run(b, sizeof(b), "q.ini", 441000, 430000, 22050, 21500, 1, 2, 1);
	ck_assert_str_eq(b, "q.ini: scenario time 441s, wall clock 22s (past the estimate of 22s), "
			 "1/2 flows ended, 1 expired");
	tu_progress(b, sizeof(b), "x", 441000, 430000, true, 0, 1, 0);
	ck_assert_str_eq(b, "x: 441s (past the 430s estimate, scenario time), 0/1 flows ended, 0 expired");
	tu_progress(b, sizeof(b), "x", 1500, 10000, true, 0, 1, 0);
	ck_assert_str_eq(b, "x: 1.5s of about 10s (scenario time), 0/1 flows ended, 0 expired");
}
END_TEST

START_TEST(test_junit)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/junit.xml", dir);
	ck_assert_int_eq(report_junit(path, rs, 3), 0);
	ck_assert_int_eq(run("xmllint --noout '%s'", path), 0);
	ck_assert_int_eq(run("python3 tests/lib/check_report.py junit '%s'", path), 0);
	PY_CHECK((path,
		"import re\n"
		"r = ET.parse(p).getroot()\n"
		"for s in r.findall('testsuite'):\n"
		"    assert re.fullmatch(r'\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d', s.get('timestamp')), s.attrib\n"
		"    tc = s.findall('testcase')\n"
		"    for t in tc:\n"
		"        assert float(t.get('time')) <= float(s.get('time')), (t.attrib, s.attrib)\n"
		"a = r.find('testsuite')\n"
		"tc = a.findall('testcase')\n"
		"assert [t.get('line') for t in tc] == ['8', '11', '15', '19'], [t.get('line') for t in tc]\n"
		"assert len(set(t.get('time') for t in tc)) > 1, 'every flow has the scenario time'\n"));
	PY_CHECK((path,
		"r = ET.parse(p).getroot()\n"
		"assert r.tag == 'testsuites', r.tag\n"
		"assert (r.get('tests'), r.get('failures'), r.get('errors'), r.get('skipped')) == ('7', '1', '2', '1'), r.attrib\n"
		"s = r.findall('testsuite')\n"
		"assert [x.get('name') for x in s] == ['scenarios/quickstart.ini', 'other/quickstart.ini', 'skipped.ini']\n"
		"a, b, c = s\n"
		"assert (a.get('tests'), a.get('failures'), a.get('errors'), a.get('skipped'), a.get('time')) == ('4', '1', '0', '0', '47.312'), a.attrib\n"
		"tc = a.findall('testcase')\n"
		"assert [t.get('name') for t in tc] == ['no-keepalive', 'keepalive-60s', 'keepalive-late', 'udp-heartbeat']\n"
		"assert all(t.get('classname') == 'quickstart' for t in tc)\n"
		"assert tc[0].find('failure') is None and tc[0].find('error') is None\n"
		"f = tc[2].find('failure')\n"
		"m = f.get('message')\n"
		"assert m.startswith('expected alive, observed reset: first keepalive after 400s idle came too late <b>&amp; \"q\" \\'a\\' '), m\n"
		"assert '\\x01' not in m and '\\x1b' not in m and '\\u00e9 \\u65e5' in m and '\\ufffd end' in m, repr(m)\n"
		"so = tc[0].find('system-out').text\n"
		"assert 'settings: tcp keepalive off idle 400s speaker client' in so, so\n"
		"assert 'evidence: RST after 400s idle, seen by the client on its first send' in so, so\n"
		"assert 'middlebox expired the flow after 350s idle' in so, so\n"
		"assert 'keepalive 60s,20s,3' in tc[1].find('system-out').text\n"
		"props = {x.get('name'): x.get('value') for x in a.find('properties')}\n"
		"assert props['description'] == 'NAT gateway <350 s> & \"friends\" \\'x\\' \\u00e9t\\u00e9', props\n"
		"assert props['time_scale'] == '1/20'\n"
		"assert (b.get('tests'), b.get('errors'), b.get('failures')) == ('2', '2', '0'), b.attrib\n"
		"for t in b.findall('testcase'):\n"
		"    e = t.find('error')\n"
		"    assert e is not None and e.get('message').startswith(\"simulator for 'nat' crashed <b>&amp;\"), e.attrib\n"
		"assert (c.get('tests'), c.get('skipped')) == ('1', '1')\n"
		"assert c.find('testcase').find('skipped') is not None\n"));
}
END_TEST

START_TEST(test_json)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/run.json", dir);
	ck_assert_int_eq(report_json(path, rs, 3), 0);
	ck_assert_int_eq(run("python3 -m json.tool '%s' >/dev/null", path), 0);
	ck_assert_int_eq(run("python3 tests/lib/check_report.py json '%s'", path), 0);
	PY_CHECK((path,
		"d = json.load(open(p, encoding='utf-8'))\n"
		"assert d['version'] == 1\n"
		"assert d['summary'] == {'passed': 3, 'failed': 1, 'errors': 2, 'skipped': 1, 'total': 7}, d['summary']\n"
		"a, b, c = d['scenarios']\n"
		"assert a['file'] == 'scenarios/quickstart.ini' and a['status'] == 'FAIL' and a['error'] is None\n"
		"assert a['time_scale'] == '1/20' and a['wall_ms'] == 47312\n"
		"assert a['description'] == 'NAT gateway <350 s> & \"friends\" \\'x\\' \\u00e9t\\u00e9'\n"
		"f = a['flows']\n"
		"assert [x['name'] for x in f] == ['no-keepalive', 'keepalive-60s', 'keepalive-late', 'udp-heartbeat']\n"
		"assert [x['status'] for x in f] == ['PASS', 'PASS', 'FAIL', 'PASS']\n"
		"x = f[0]\n"
		"assert (x['expected'], x['observed'], x['noticed_by'], x['noticed_ms'], x['expired_ms']) == ('reset', 'reset', 'client', 400000, 350000), x\n"
		"assert x['settings'] == 'tcp keepalive off idle 400s speaker client'\n"
		"assert f[1]['keepalives_seen'] == 6 and f[1]['expired_ms'] is None and f[1]['noticed_by'] is None\n"
		"assert f[1]['settings'] == 'tcp keepalive 60s,20s,3 idle 400s speaker client', f[1]['settings']\n"
		"assert f[3]['drops'] == 2\n"
		"assert f[2]['evidence'] == 'first keepalive after 400s idle came too late <b>&amp; \"q\" \\'a\\' \\x01\\x1b[31m \\u00e9 \\u65e5 \\ufffd end', repr(f[2]['evidence'])\n"
		"tl = a['timeline']\n"
		"assert tl[0] == {'t_ms': 10, 'kind': 'flow-new', 'flow': 'no-keepalive', 'middlebox': 'nat', 'dir': 'c2s', 'detail': '10.99.0.2:40000 -> 10.99.1.2:5001'}, tl[0]\n"
		"ev = [m for m in tl if m['kind'] == 'event']\n"
		"assert ev[0]['flow'] is None and ev[0]['middlebox'] is None and ev[0]['dir'] is None and ev[0]['t_ms'] == 120500\n"
		"assert len([m for m in tl if m['kind'] == 'keepalive' and m['flow'] == 'keepalive-60s']) == 12\n"
		"assert b['status'] == 'ERROR' and b['error'].startswith(\"simulator for 'nat' crashed\")\n"
		"assert [x['status'] for x in b['flows']] == ['ERROR', 'ERROR'] and b['timeline'] == []\n"
		"assert b['time_scale'] == '1'\n"
		"assert [x['status'] for x in c['flows']] == ['SKIP'] and c['flows'][0]['expected'] == 'timeout'\n"));
}
END_TEST

START_TEST(test_tap)
{
	char *out = capture(tap, false);

	keep("tap.txt", out);
	const char *expect_start =
		"TAP version 13\n"
		"1..7\n"
		"ok 1 - quickstart.ini: no-keepalive # reset (expected reset)\n"
		"ok 2 - quickstart.ini: keepalive-60s # alive (expected alive)\n"
		"not ok 3 - quickstart.ini: keepalive-late # reset (expected alive)\n"
		"  ---\n"
		"  message: \"expected alive, observed reset\"\n"
		"  severity: fail\n"
		"  file: \"scenarios/quickstart.ini\"\n";

	ck_assert_msg(!strncmp(out, expect_start, strlen(expect_start)), "got:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "  evidence: \"first keepalive after 400s idle came too late "
					  "<b>&amp; \\\"q\\\" 'a' \\u0001\\u001B[31m \xc3\xa9 \xe6\x97\xa5 "
					  "\xef\xbf\xbd end\"\n"));
	ck_assert_ptr_nonnull(strstr(out, "  ...\nok 4 - quickstart.ini: udp-heartbeat # alive (expected alive)\n"
					  "not ok 5 - quickstart.ini: one # error\n  ---\n"
					  "  message: \"simulator for 'nat' crashed"));
	ck_assert_ptr_nonnull(strstr(out, "  severity: error\n"));
	ck_assert_ptr_nonnull(strstr(out, "not ok 6 - quickstart.ini: two # error\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nok 7 - skipped.ini: only # SKIP not run\n"));
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_null(strchr(out, '\x01'));
	/* every line is a TAP line, YAML inside --- ... blocks */
	bool yaml = false;
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n")) {
		if (yaml) {
			ck_assert_msg(!strncmp(l, "  ", 2), "bad YAML line: %s", l);
			if (!strcmp(l, "  ..."))
				yaml = false;
		} else if (!strcmp(l, "  ---")) {
			yaml = true;
		} else {
			ck_assert_msg(!strncmp(l, "ok ", 3) || !strncmp(l, "not ok ", 7) ||
				      !strncmp(l, "1..", 3) || !strcmp(l, "TAP version 13"),
				      "not TAP: %s", l);
		}
	}
	ck_assert(!yaml);
	free(out);
}
END_TEST

START_TEST(test_terminal)
{
	char *out = capture(report_terminal, false);
	const char *last;

	keep("terminal.txt", out);

	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_null(strchr(out, '\x01'));
	ck_assert_ptr_nonnull(strstr(out, "scenarios/quickstart.ini: NAT gateway <350 s> & \"friends\" 'x' \xc3\xa9t\xc3\xa9\n"
					  "  time scale 1/20, ran in 47.3s for 402s of scenario time\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n      RST after 400s idle, seen by the client on its first send\n"));
	ck_assert_ptr_nonnull(strstr(out, "      first keepalive after 400s idle came too late <b>&amp; \"q\" 'a' \\x01\\x1b[31m \xc3\xa9 \xe6\x97\xa5 \\xff end\n"));
	ck_assert_ptr_nonnull(strstr(out, "  ERROR: simulator for 'nat' crashed"));
	ck_assert_ptr_nonnull(strstr(out, "\n      not run\n"));
	/* the columns line up: "result" and each row's status start at one column */
	char *h = strstr(out, "  flow ");
	ck_assert_ptr_nonnull(h);
	size_t col = (size_t)(strstr(h, "result") - h);
	char *row = strstr(out, "\n  keepalive-late ");
	ck_assert_ptr_nonnull(row);
	row++;
	ck_assert_msg(!strncmp(row + col, "FAIL\n", 5), "row: %.120s", row);
	row = strstr(out, "\n  udp-heartbeat ") + 1;
	ck_assert(!strncmp(row + col, "PASS\n", 5));
	ck_assert_ptr_nonnull(strstr(out, "\n  udp-heartbeat   udp heartbeat 25s idle 300s speaker client "));
	/* the closing lines: errors, then "N passed, N failed, N skipped" alone */
	last = strstr(out, "\n2 errors (runs that could not be trusted)\n3 passed, 1 failed, 1 skipped\n");
	ck_assert_ptr_nonnull(last);
	ck_assert_str_eq(last + strlen("\n2 errors (runs that could not be trusted)\n3 passed, 1 failed, 1 skipped\n"), "");
	free(out);

	out = capture(report_terminal, true);
	ck_assert_ptr_nonnull(strstr(out, "\033[32mPASS\033[0m"));
	ck_assert_ptr_nonnull(strstr(out, "\033[31m\033[1mFAIL\033[0m"));
	ck_assert_ptr_nonnull(strstr(out, "\033[33m\033[1mERROR\033[0m"));
	/* colour from us only: the data's escape is still neutralised */
	ck_assert_ptr_null(strstr(out, "\x1b[31m \xc3\xa9"));
	free(out);
}
END_TEST

START_TEST(test_terminal_summary_plain)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	report_terminal(f, rs, 1, false);
	fclose(f);
	ck_assert_msg(len > 20 && !strcmp(buf + len - strlen("\n3 passed, 1 failed\n"), "\n3 passed, 1 failed\n"),
		      "%s", buf);
	ck_assert_ptr_null(strstr(buf, "error"));
	free(buf);
}
END_TEST

START_TEST(test_svg)
{
	char sub[128], p1[160], p2[160], p3[160];
	struct stat st;

	mark(&rs[0], 10, TL_DROP, -1, 0, 0, "matched no flow");
	/* the teardown of a flow already judged: labelled as such */
	mark(&rs[0], 420, TL_DROP, 1, 0, 0, "no-flow");
	snprintf(sub, sizeof(sub), "%s/svg/deeper", dir);
	ck_assert_int_eq(report_svg(sub, rs, 3), 0);
	snprintf(p1, sizeof(p1), "%s/quickstart.svg", sub);
	snprintf(p2, sizeof(p2), "%s/quickstart-2.svg", sub);
	snprintf(p3, sizeof(p3), "%s/skipped.svg", sub);
	ck_assert_int_eq(run("xmllint --noout '%s' '%s' '%s'", p1, p2, p3), 0);
	ck_assert_int_eq(stat(p1, &st), 0);
	ck_assert_int_lt(st.st_size, 200000);
	PY_CHECK((p1,
		"r = ET.parse(p).getroot()\n"
		"ns = '{http://www.w3.org/2000/svg}'\n"
		"assert r.tag == ns + 'svg'\n"
		"w, h = int(r.get('width')), int(r.get('height'))\n"
		"assert w == 1200 and 300 < h < 1000, (w, h)\n"
		"texts = [''.join(t.itertext()) for t in r.iter(ns + 'text')]\n"
		"for name in ['no-keepalive', 'keepalive-60s', 'keepalive-late', 'udp-heartbeat']:\n"
		"    assert name in texts, name\n"
		"assert texts[0] == 'NAT gateway <350 s> & \"friends\" \\'x\\' \\u00e9t\\u00e9', texts[0]\n"
		"assert any('time scale 1/20' in t and '3 passed, 1 failed' in t for t in texts), texts[:3]\n"
		"assert texts.count('expired after 350s idle') == 2, texts\n"
		"assert texts.count('RST to client') == 2\n"
		"assert 'blackhole 30s' in texts and 'reset, seen by client' in texts\n"
		"assert 'RST after 400s idle, seen by the client on its first send' in texts\n"
		"assert any(t.startswith('first keepalive after 400s idle came too late <b>&amp;') for t in texts)\n"
		"for tick in ['0s', '60s', '120s', '420s']:\n"
		"    assert tick in texts, tick\n"
		"assert texts.count('PASS') == 3 and texts.count('FAIL') == 1\n"
		"assert 'expected alive, observed reset' in texts\n"
		"assert 'keepalive' in texts and 'dropped' in texts and 'middlebox expired the flow' in texts\n"
		"tips = [''.join(t.itertext()) for t in r.iter(ns + 'title')]\n"
		"assert '401s: inject keepalive-late server->client at nat: RST to client' in tips, [t for t in tips if 'inject' in t]\n"
		"assert len([t for t in tips if ' keepalive keepalive-60s ' in t]) == 12\n"
		"assert len([t for t in tips if ': drop udp-heartbeat' in t]) == 2\n"
		"assert 'other traffic' in texts and '10s: drop client->server at nat: matched no flow' in tips\n"
		"assert 'after the outcome: no-flow' in texts, [t for t in texts if 'after' in t]\n"
		"assert 'after the outcome: matched no flow' not in texts\n"
		"ticks = [t for t in texts if t in ('480s', '540s', '600s')]\n"
		"assert ticks == [], ('the axis goes past the run', ticks)\n"));
	PY_CHECK((p2,
		"r = ET.parse(p).getroot()\n"
		"texts = [''.join(t.itertext()) for t in r.iter('{http://www.w3.org/2000/svg}text')]\n"
		"assert any(t.startswith(\"ERROR: simulator for 'nat' crashed <b>&amp;\") for t in texts), texts\n"
		"assert texts.count('ERROR') == 2\n"));
}
END_TEST

static const char scen_group[] =
	"[scenario]\n"
	"description = a pool\n"
	"[middlebox nat]\n"
	"[flow single]\n"
	"idle = 10s\n"
	"expect = alive\n"
	"[flow pool]\n"
	"count = 6\n"
	"ramp = 10s\n"
	"idle = 60s\n"
	"expect = alive >= 3\n";

/* A flow group's lane is a histogram; its JSON "histogram" has the same
 * numbers; points of another flow are not in it. */
START_TEST(test_svg_group)
{
	struct scenario *sc = parse(scen_group, "pool.ini");
	struct scenario_result r = { .sc = sc, .status = RES_PASS, .wall_ms = 3000, .scenario_ms = 95000 };
	static const struct { double t; int kind; } pts[] = {
		{ 61, SC_EXPECT_ALIVE }, { 63, SC_EXPECT_ALIVE }, { 66, SC_EXPECT_ALIVE },
		{ 55, GROUP_EXPIRED }, { 57, GROUP_EXPIRED },
		{ 67, SC_EXPECT_RESET }, { 69.9, SC_EXPECT_RESET }, { 2, SC_EXPECT_REFUSED },
	};
	char p[160], sub[128];
	uint64_t bin;
	size_t nbins;
	uint32_t *counts;

	flow_res(&r, 0, RES_PASS, "alive", "data crossed both ways after 10s idle");
	flow_res(&r, 1, RES_PASS, "3 alive, 2 reset, 1 refused", "pool.1: data crossed both ways");
	r.flows[1].count = 6;
	r.flows[1].tally[SC_EXPECT_ALIVE] = 3;
	r.flows[1].tally[SC_EXPECT_RESET] = 2;
	r.flows[1].tally[SC_EXPECT_REFUSED] = 1;
	r.flows[1].total.expired = 2;
	mark(&r, 0, TL_FLOW_NEW, 1, 0, 0, "first connection");
	mark(&r, 10, TL_OUTCOME, 0, -1, -1, "alive");
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
		ck_assert_int_eq(result_group_point(&r, 1, (uint64_t)(pts[i].t * 1000), pts[i].kind), 0);
	ck_assert_int_eq(result_group_point(&r, 0, 5000, SC_EXPECT_ALIVE), 0);  /* not the group's */

	/* 95 s in at most 60 bins: 2 s each, from 0 */
	counts = rep_group_histogram(&r, 1, &bin, &nbins);
	ck_assert_ptr_nonnull(counts);
	ck_assert_uint_eq(bin, 2000);
	ck_assert_uint_eq(nbins, 48);
	ck_assert_uint_eq(counts[30 * GROUP_KINDS + SC_EXPECT_ALIVE], 1);       /* 61 s */
	ck_assert_uint_eq(counts[31 * GROUP_KINDS + SC_EXPECT_ALIVE], 1);       /* 63 s */
	ck_assert_uint_eq(counts[33 * GROUP_KINDS + SC_EXPECT_ALIVE], 1);       /* 66 s */
	ck_assert_uint_eq(counts[33 * GROUP_KINDS + SC_EXPECT_RESET], 1);       /* 67 s */
	ck_assert_uint_eq(counts[34 * GROUP_KINDS + SC_EXPECT_RESET], 1);       /* 69.9 s */
	ck_assert_uint_eq(counts[2 * GROUP_KINDS + SC_EXPECT_ALIVE], 0);        /* flow 0's */
	free(counts);

	snprintf(sub, sizeof(sub), "%s/group", dir);
	ck_assert_int_eq(report_svg(sub, &r, 1), 0);
	snprintf(p, sizeof(p), "%s/pool.svg", sub);
	ck_assert_int_eq(run("xmllint --noout '%s'", p), 0);
	PY_CHECK((p,
		"r = ET.parse(p).getroot()\n"
		"ns = '{http://www.w3.org/2000/svg}'\n"
		"bars = [b for b in r.iter(ns + 'rect') if b.get('class') == 'hist']\n"
		"tot = {}\n"
		"for b in bars:\n"
		"    tot[b.get('data-kind')] = tot.get(b.get('data-kind'), 0) + int(b.get('data-count'))\n"
		"assert tot == {'alive': 3, 'reset': 2, 'refused': 1, 'expired': 2}, tot\n"
		"tips = [''.join(t.itertext()) for t in r.iter(ns + 'title')]\n"
		"assert '68s to 70s: 1 reset' in tips and '66s to 68s: 1 reset' in tips, [t for t in tips if ' to ' in t]\n"
		"texts = [''.join(t.itertext()) for t in r.iter(ns + 'text')]\n"
		"assert 'connections per 2s: up to 2 ended, 1 expired' in texts, texts\n"
		"assert any(t.startswith('flow group, connections per time bin') for t in texts), texts\n"
		"assert 'expired by a middlebox (below; each connection once)' in texts and 'refused' in texts\n"
		"# the group's first connection's marks are not drawn in its lane\n"
		"assert not [t for t in tips if 'flow-new pool' in t], tips\n"));
	snprintf(p, sizeof(p), "%s/group.json", dir);
	ck_assert_int_eq(report_json(p, &r, 1), 0);
	ck_assert_int_eq(run("python3 tests/lib/check_report.py json '%s'", p), 0);
	PY_CHECK((p,
		"f = json.load(open(p))['scenarios'][0]['flows']\n"
		"assert 'histogram' not in f[0] and 'count' not in f[0], f[0]\n"
		"h = f[1]['histogram']\n"
		"assert f[1]['count'] == 6 and f[1]['outcomes'] == {'alive': 3, 'reset': 2, 'refused': 1}, f[1]\n"
		"assert h['bin_ms'] == 2000, h\n"
		"assert h['bins'] == [{'t_ms': 2000, 'refused': 1}, {'t_ms': 54000, 'expired': 1},\n"
		"    {'t_ms': 56000, 'expired': 1}, {'t_ms': 60000, 'alive': 1}, {'t_ms': 62000, 'alive': 1},\n"
		"    {'t_ms': 66000, 'alive': 1, 'reset': 1}, {'t_ms': 68000, 'reset': 1}], h['bins']\n"));
	result_clear(&r);
	scenario_free(sc);
}
END_TEST

/* A run that failed before its scenario was even read still shows up in
 * every format, as one errored row, never as zero tests. */
START_TEST(test_unknown_scenario)
{
	struct scenario_result r = { .sc = NULL, .status = RES_ERROR };
	char p[160], *out;

	snprintf(r.error, sizeof(r.error), "cannot read x.ini: Permission denied");
	snprintf(p, sizeof(p), "%s/u.xml", dir);
	ck_assert_int_eq(report_junit(p, &r, 1), 0);
	PY_CHECK((p, "t = ET.parse(p).getroot().find('testsuite')\n"
		     "assert t.get('name') == '(unknown scenario)' and t.get('tests') == '1' and t.get('errors') == '1'\n"
		     "assert t.find('testcase').get('name') == '(scenario)'\n"
		     "assert t.find('testcase/error').get('message') == 'cannot read x.ini: Permission denied'\n"));
	snprintf(p, sizeof(p), "%s/u.json", dir);
	ck_assert_int_eq(report_json(p, &r, 1), 0);
	PY_CHECK((p, "d = json.load(open(p))\n"
		     "assert d['summary']['errors'] == 1 and d['scenarios'][0]['flows'][0]['status'] == 'ERROR'\n"
		     "assert d['scenarios'][0]['description'] is None\n"));
	snprintf(p, sizeof(p), "%s/svg", dir);
	ck_assert_int_eq(report_svg(p, &r, 1), 0);
	snprintf(p, sizeof(p), "%s/svg/scenario.svg", dir);
	ck_assert_int_eq(run("xmllint --noout '%s'", p), 0);
	{
		size_t len = 0;
		FILE *f;

		out = NULL;
		f = open_memstream(&out, &len);
		report_tap(f, &r, 1);
		fclose(f);
		ck_assert_ptr_nonnull(strstr(out, "1..1\nnot ok 1 - (unknown scenario): (scenario) # error\n"));
		free(out);
		out = NULL;
		f = open_memstream(&out, &len);
		report_terminal(f, &r, 1, false);
		fclose(f);
		ck_assert_ptr_nonnull(strstr(out, "ERROR: cannot read x.ini: Permission denied\n"));
		ck_assert_ptr_nonnull(strstr(out, "\n1 error (runs that could not be trusted)\n0 passed, 0 failed\n"));
		free(out);
	}
}
END_TEST

/* Many marks on one pixel are drawn once: the file stays small. */
START_TEST(test_svg_dense)
{
	char sub[128], p[160];
	struct stat st;

	for (int i = 0; i < 200000; i++)
		mark(&rs[0], 0.6 + i * 0.001, TL_DATA, 1, 0, i & 1, "");
	snprintf(sub, sizeof(sub), "%s/dense", dir);
	ck_assert_int_eq(report_svg(sub, rs, 1), 0);
	snprintf(p, sizeof(p), "%s/quickstart.svg", sub);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_lt(st.st_size, 300000);
	ck_assert_int_eq(run("xmllint --noout '%s'", p), 0);
}
END_TEST

/* A file that cannot be written leaves no file and no temporary behind. */
START_TEST(test_atomic)
{
	char path[160], old[160];
	DIR *d;
	struct dirent *e;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/missing/run.json", dir);
	errno = 0;
	ck_assert_int_eq(report_json(path, rs, 3), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(report_junit(path, rs, 3), -1);
	/* an existing report is replaced whole */
	snprintf(old, sizeof(old), "%s/j.xml", dir);
	f = fopen(old, "w");
	fputs("old content that is much longer than nothing", f);
	fclose(f);
	ck_assert_int_eq(report_junit(old, rs, 1), 0);
	ck_assert_int_eq(run("xmllint --noout '%s'", old), 0);
	/* a file in the way of the SVG directory */
	snprintf(path, sizeof(path), "%s/j.xml/sub", dir);
	ck_assert_int_eq(report_svg(path, rs, 1), -1);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			ck_assert_msg(!strstr(e->d_name, ".tmp-"), "left behind: %s", e->d_name);
			n++;
		}
	closedir(d);
	ck_assert_int_eq(n, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reports");
	TCase *tc = tcase_create("reports");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_result_mark_and_names);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_progress_words);
	tcase_add_test(tc, test_junit);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_tap);
	tcase_add_test(tc, test_terminal);
	tcase_add_test(tc, test_terminal_summary_plain);
	tcase_add_test(tc, test_svg);
	tcase_add_test(tc, test_svg_dense);
	tcase_add_test(tc, test_svg_group);
	tcase_add_test(tc, test_unknown_scenario);
	tcase_add_test(tc, test_atomic);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
