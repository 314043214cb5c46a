// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: text survives every JSON writer and reader (common/jsonio on
 * jansson): non-ASCII, control characters, quotes, backslashes and a
 * 4-byte character round-trip; invalid UTF-8 and "\u0000" are refused by
 * readers and repaired (U+FFFD) by writers. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonio.h"
#include "probes/result.h"
#include "simulator/ctl_proto.h"
#include "simulator/events.h"

/* café —, a tab, ", \ and U+1F600 */
static const char TEXT[] = "caf\xc3\xa9 \xe2\x80\x94\t\"\\\xf0\x9f\x98\x80";

static json_t *load(const char *s)
{
	char err[160];
	json_t *v = jsonio_load(s, strlen(s), err, sizeof(err));

	ck_assert_msg(v != NULL, "%s: %s", s, err);
	return v;
}

START_TEST(test_probe_result)
{
	struct probe_flow_result r = { 0 };
	char name[64], detail[128], line[8192];
	json_t *o, *back;

	snprintf(r.plan.name, sizeof(r.plan.name), "%s", TEXT);
	snprintf(r.client.detail, sizeof(r.client.detail), "%s", TEXT);
	o = probe_result_flow_json(&r);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_gt(jsonio_dumpb(o, 0, line, sizeof(line)), 0);
	json_decref(o);
	back = load(line);
	ck_assert_int_eq(jsonio_get_str(back, "flow", name, sizeof(name)), 0);
	ck_assert_str_eq(name, TEXT);
	ck_assert_int_eq(jsonio_get_str(back, "client.detail", detail, sizeof(detail)), 0);
	ck_assert_str_eq(detail, TEXT);
	json_decref(back);
	/* the server's RESULT line is ASCII, and means the same */
	o = probe_result_side_json(&r.client, "server", NULL);
	ck_assert_int_gt(jsonio_dumpb(o, JSON_ENSURE_ASCII, line, sizeof(line)), 0);
	json_decref(o);
	for (const char *p = line; *p; p++)
		ck_assert_int_lt((unsigned char)*p, 0x80);
	back = load(line);
	ck_assert_int_eq(jsonio_get_str(back, "detail", detail, sizeof(detail)), 0);
	ck_assert_str_eq(detail, TEXT);
	json_decref(back);
	/* a program's output that is not UTF-8 is repaired, never invalid JSON */
	snprintf(r.client.detail, sizeof(r.client.detail), "a\xff" "b\xc3");
	o = probe_result_flow_json(&r);
	ck_assert_int_gt(jsonio_dumpb(o, 0, line, sizeof(line)), 0);
	json_decref(o);
	back = load(line);
	jsonio_get_str(back, "client.detail", detail, sizeof(detail));
	ck_assert_str_eq(detail, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	json_decref(back);
}
END_TEST

START_TEST(test_event_line)
{
	struct pkt_tuple t = { .proto = IPPROTO_TCP, .family = 4, .sport = 1, .dport = 2 };
	struct engine_event ev = { .type = EV_FLOW_EXPIRED, .now = 5, .flow_id = 3, .tuple = &t,
				   .idle_ms = 7, .what = TEXT };
	char line[1024], what[64];
	json_t *back;

	ck_assert_int_gt(events_format(&ev, line, sizeof(line)), 0);
	back = load(line);
	ck_assert_int_eq(jsonio_get_str(back, "action", what, sizeof(what)), 0);
	ck_assert_str_eq(what, TEXT);
	json_decref(back);
	ev.what = "x\xff";
	ck_assert_int_gt(events_format(&ev, line, sizeof(line)), 0);
	back = load(line);
	jsonio_get_str(back, "action", what, sizeof(what));
	ck_assert_str_eq(what, "x\xef\xbf\xbd");
	json_decref(back);
	/* no room: an error, not a cut line */
	ck_assert_int_eq(events_format(&ev, line, 20), -1);
}
END_TEST

START_TEST(test_ctl)
{
	struct ctl_req r;
	char line[512], err[160], msg[64];
	json_t *o = json_pack("{s:s,s:s}", "cmd", "blackhole", "value", TEXT), *back;

	ck_assert_int_gt(jsonio_dumpb(o, 0, line, sizeof(line)), 0);
	json_decref(o);
	ck_assert_int_eq(ctl_parse(line, strlen(line), &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.value, TEXT);
	/* the same escaped by hand, as another client may send it */
	snprintf(line, sizeof(line), "{\"cmd\":\"blackhole\",\"value\":"
		 "\"caf\\u00e9 \\u2014\\t\\\"\\\\\\ud83d\\ude00\"}");
	ck_assert_int_eq(ctl_parse(line, strlen(line), &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.value, TEXT);
	/* the answer writer */
	ck_assert_int_gt(ctl_error_reply(TEXT, line, sizeof(line)), 0);
	back = load(line);
	ck_assert_int_eq(jsonio_get_str(back, "error", msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, TEXT);
	json_decref(back);
	/* invalid UTF-8 and \u0000: a clean error, and an answer that says so */
	ck_assert_int_eq(ctl_parse("{\"cmd\":\"blackhole\",\"value\":\"\xff\"}", 31, &r, err,
				   sizeof(err)), -1);
	ck_assert_str_eq(err, "request is not valid UTF-8");
	ck_assert_int_gt(ctl_error_reply(err, line, sizeof(line)), 0);
	json_decref(load(line));
	snprintf(line, sizeof(line), "{\"cmd\":\"blackhole\",\"value\":\"a\\u0000b\"}");
	ck_assert_int_eq(ctl_parse(line, strlen(line), &r, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid JSON"));
}
END_TEST

START_TEST(test_report_string)
{
	char *buf = NULL, got[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *back;

	fputs("{\"evidence\":", f);
	jsonio_fputs(f, TEXT);
	fputs(",\"bad\":", f);
	jsonio_fputs(f, "\x80z");
	fputs("}", f);
	fclose(f);
	back = load(buf);
	jsonio_get_str(back, "evidence", got, sizeof(got));
	ck_assert_str_eq(got, TEXT);
	jsonio_get_str(back, "bad", got, sizeof(got));
	ck_assert_str_eq(got, "\xef\xbf\xbdz");
	json_decref(back);
	free(buf);
}
END_TEST

START_TEST(test_readers_refuse)
{
	static const char *const bad[] = {
		"{\"a\":\"\xff\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}", "{\"a\":1,\"a\":2}", "[1]", "{\"a\":",
		"{\"a\":1} x",
	};
	char err[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(jsonio_load(bad[i], strlen(bad[i]), err, sizeof(err)) == NULL,
			      "accepted: %s", bad[i]);
		ck_assert_msg(err[0], "no reason for %s", bad[i]);
	}
	/* truncation never cuts a character */
	{
		json_t *v = load("{\"a\":\"\xc3\xa9\xc3\xa9\"}");
		char s[4];

		jsonio_get_str(v, "a", s, sizeof(s));
		ck_assert_str_eq(s, "\xc3\xa9");
		json_decref(v);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_probe_result);
	tcase_add_test(tc, test_event_line);
	tcase_add_test(tc, test_ctl);
	tcase_add_test(tc, test_report_string);
	tcase_add_test(tc, test_readers_refuse);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
