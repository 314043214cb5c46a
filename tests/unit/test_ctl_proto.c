// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests: the control request parser, the JSON writer, and the event
 * line format of idlegate-sim. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/ctl_proto.h"
#include "simulator/events.h"

static int parse(const char *s, struct ctl_req *r)
{
	char err[128];

	return ctl_parse(s, strlen(s), r, err, sizeof(err));
}

START_TEST(test_parse_valid)
{
	struct ctl_req r;

	ck_assert_int_eq(parse("{\"cmd\":\"stats\"}", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_STATS);
	ck_assert_int_eq(parse(" { \"cmd\" : \"set\" , \"key\":\"tcp.established\",\"value\":\"5s\" } ", &r), 0);
	ck_assert_int_eq(r.cmd, CTL_SET);
	ck_assert_str_eq(r.key, "tcp.established");
	ck_assert_str_eq(r.value, "5s");
	ck_assert_int_eq(parse("{\"value\":100,\"key\":\"table.max_flows\",\"cmd\":\"set\"}", &r), 0);
	ck_assert_str_eq(r.value, "100");
	ck_assert_int_eq(parse("{\"cmd\":\"expire\",\"id\":4294967295}", &r), 0);
	ck_assert_uint_eq(r.id, 4294967295u);
	ck_assert_int_eq(parse("{\"cmd\":\"get\",\"key\":\"a\\u0041\\/\"}", &r), 0);
	ck_assert_str_eq(r.key, "aA/");
}
END_TEST

START_TEST(test_parse_invalid)
{
	static const char *const bad[] = {
		"", "{", "}", "[]", "{\"cmd\":\"stats\"} x", "{\"cmd\":\"stats\",}",
		"{\"cmd\":\"nope\"}", "{\"cmd\":\"stats\",\"cmd\":\"stats\"}",
		"{\"cmd\":\"stats\",\"x\":1}", "{\"cmd\":\"set\",\"key\":\"a\"}",
		"{\"cmd\":\"expire\"}", "{\"cmd\":\"expire\",\"id\":-1}",
		"{\"cmd\":\"expire\",\"id\":4294967296}", "{\"cmd\":\"expire\",\"id\":07}",
		"{\"cmd\":\"stats\",\"id\":1}", "{\"cmd\":\"get\",\"key\":\"a\\u0000b\"}",
		"{\"cmd\":\"get\",\"key\":\"\\ud800\"}", "{\"cmd\":\"get\",\"key\":\"\xc3\"}",
		"{\"cmd\":\"get\",\"key\":\"\xff\"}", "{\"cmd\":\"get\",\"key\":\"a\",\"key\":\"b\"}",
		"{\"cmd\":\"get\",\"key\":\"unterminated}", "{\"cmd\":\"get\",\"key\":\"\\q\"}",
		"{\"cmd\":stats}", "{\"cmd\":\"get\",\"key\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	};
	struct ctl_req r;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		errno = 0;
		ck_assert_msg(ctl_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)) == -1,
			      "accepted: %s", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_msg(err[0], "no reason for: %s", bad[i]);
	}
	/* an embedded NUL is refused, not a silent end of input */
	ck_assert_int_eq(ctl_parse("{\"cmd\":\"stats\"}\0x", 17, &r, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_json_writer)
{
	char buf[64];

	ck_assert_int_eq(ctl_error_reply("bad \"x\"", buf, sizeof(buf)), 32);
	ck_assert_str_eq(buf, "{\"ok\":false,\"error\":\"bad \\\"x\\\"\"}");
	ck_assert_int_eq(ctl_error_reply("bad \"x\"", buf, 32), -1);
}
END_TEST

START_TEST(test_event_format)
{
	struct pkt_tuple t = { .proto = IPPROTO_TCP, .family = 4, .sport = 40000, .dport = 5001 };
	struct engine_event ev = { .type = EV_FLOW_EXPIRED, .now = 1234, .flow_id = 7, .tuple = &t,
				   .nat = true, .nat_port = 40001, .state_from = TCP_ESTABLISHED,
				   .state_to = FLOW_EXPIRED, .idle_ms = 3001, .what = "drop" };
	char buf[512];

	ck_assert_int_eq(addr_parse("198.51.100.2", &t.src), 0);
	ck_assert_int_eq(addr_parse("203.0.113.2", &t.dst), 0);
	ck_assert_int_eq(addr_parse("203.0.113.1", &ev.nat_addr), 0);
	ck_assert_int_gt(events_format(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "{\"t_ms\":1234,\"event\":\"flow-expired\",\"flow\":7,\"proto\":\"tcp\","
			 "\"src\":\"198.51.100.2\",\"sport\":40000,\"dst\":\"203.0.113.2\",\"dport\":5001,"
			 "\"nat_addr\":\"203.0.113.1\",\"nat_port\":40001,\"from\":\"established\","
			 "\"to\":\"expired\",\"idle_ms\":3001,\"action\":\"drop\"}");
	/* too small a buffer is reported, never overrun */
	ck_assert_int_eq(events_format(&ev, buf, 40), -1);
	ck_assert_uint_lt(strlen(buf), 40);
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl_proto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_valid);
	tcase_add_test(tc, test_parse_invalid);
	tcase_add_test(tc, test_json_writer);
	tcase_add_test(tc, test_event_format);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
