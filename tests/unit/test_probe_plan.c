// SPDX-License-Identifier: GPL-2.0-or-later
/* Flow plan parsing (probes/plan.c): accepted specs, refused specs and their
 * messages, flows files with line numbers. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/plan.h"

START_TEST(test_full_spec)
{
	struct probe_plan p;
	char err[256];

	ck_assert_int_eq(probe_plan_parse("name=ka300,proto=tcp,keepalive=300s/30s/3,idle=900s,speaker=server,"
				    "user_timeout=30s,heartbeat=25s,cycles=3,deadline=2s,expect=alive,"
				    "family=6,server_keepalive=kernel-default",
				    &p, err, sizeof(err)),
			 0);
	ck_assert_str_eq(p.name, "ka300");
	ck_assert_int_eq(p.proto, PLAN_TCP);
	ck_assert_int_eq(p.ka.mode, PLAN_KA_SET);
	ck_assert_uint_eq(p.ka.idle_s, 300);
	ck_assert_uint_eq(p.ka.intvl_s, 30);
	ck_assert_uint_eq(p.ka.cnt, 3);
	ck_assert_int_eq(p.server_ka.mode, PLAN_KA_DEFAULT);
	ck_assert_uint_eq(p.idle_ms, 900000);
	ck_assert_int_eq(p.speaker, PLAN_SPEAKER_SERVER);
	ck_assert_uint_eq(p.user_timeout_s, 30);
	ck_assert_uint_eq(p.heartbeat_ms, 25000);
	ck_assert_uint_eq(p.cycles, 3);
	ck_assert_uint_eq(p.deadline_ms, 2000);
	ck_assert(p.has_expect);
	ck_assert_int_eq(p.expect, OUT_ALIVE);
	ck_assert_int_eq(p.family, 6);
}
END_TEST

START_TEST(test_defaults)
{
	struct probe_plan p;
	char err[256];

	ck_assert_int_eq(probe_plan_parse("idle=1s", &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.name, "");
	ck_assert_int_eq(p.proto, PLAN_TCP);
	ck_assert_int_eq(p.ka.mode, PLAN_KA_OFF);
	ck_assert_int_eq(p.speaker, PLAN_SPEAKER_CLIENT);
	ck_assert_uint_eq(p.cycles, 1);
	ck_assert_uint_eq(p.deadline_ms, PLAN_DEFAULT_DEADLINE_MS);
	ck_assert(!p.has_expect);
	/* bare numbers are seconds; spaces around items are fine */
	ck_assert_int_eq(probe_plan_parse(" keepalive=1/1/3 , idle=2 ", &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.ka.idle_s, 1);
	ck_assert_uint_eq(p.idle_ms, 2000);
	ck_assert_int_eq(probe_plan_parse("proto=udp,heartbeat=25s,rebind=yes,expect=rebound", &p, err,
				    sizeof(err)),
			 0);
	ck_assert(p.rebind);
	ck_assert_int_eq(probe_plan_parse("keepalive=2m/10s/127,tcp_user_timeout=off", &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.ka.idle_s, 120);
	ck_assert_uint_eq(p.ka.cnt, 127);
}
END_TEST

static const struct {
	const char *spec, *msg;
} bad[] = {
	{ "keepalive=1.5s/1s/3", "whole number of seconds" },
	{ "keepalive=1s/500ms/3", "whole number of seconds" },
	{ "user_timeout=2.5s", "whole number of seconds" },
	{ "keepalive=0s/1s/3", "out of range" },
	{ "keepalive=1s/1s/0", "count" },
	{ "keepalive=1s/1s/128", "count" },
	{ "keepalive=1s/1s", "IDLE/INTERVAL/COUNT" },
	{ "keepalive=1s/1s/3/4", "IDLE/INTERVAL/COUNT" },
	{ "keepalive=1s//3", "IDLE/INTERVAL/COUNT" },
	{ "keepalive=40000s/1s/3", "out of range" },
	{ "proto=sctp", "tcp or udp" },
	{ "idle=soon", "not a duration" },
	{ "speaker=nobody", "client or server" },
	{ "cycles=0", "cycles" },
	{ "cycles=-1", "cycles" },
	{ "cycles=2x", "cycles" },
	{ "expect=dead", "expect" },
	{ "expect=rebound", "only happens to udp" },
	{ "bogus=1", "unknown key 'bogus'" },
	{ "idle=1s,idle=2s", "given twice" },
	{ "idle", "KEY=VALUE" },
	{ "idle=", "KEY=VALUE" },
	{ "=1s", "KEY=VALUE" },
	{ "idle=1s,,cycles=2", "empty item" },
	{ "name=has space", "name" },
	{ "name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "name" },
	{ "proto=udp,keepalive=1s/1s/3", "does not apply to udp" },
	{ "proto=udp,user_timeout=5s", "does not apply to udp" },
	{ "proto=udp,server_end=close", "only for tcp" },
	{ "rebind=yes", "only for udp" },
	{ "proto=udp,rebind=yes,speaker=server", "speaker=client" },
	{ "heartbeat=10ms", "out of range" },
	{ "family=5", "4 or 6" },
	{ "server_end=explode", "none, close or reset" },
	{ "warmup=3s", "only for udp" },
	{ "proto=udp,warmup=50ms", "out of range" },
};

/* One keepalive syntax: a scenario file's 300s,30s,3 cut at the flow
 * spec's commas says how to write it here. */
START_TEST(test_keepalive_comma_hint)
{
	struct probe_plan p;
	char err[512];

	ck_assert_int_eq(probe_plan_parse("idle=10s,keepalive=60s,20s,3", &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "a scenario file's 300s,30s,3 is written 300s/30s/3 here"), "%s", err);
}
END_TEST

START_TEST(test_refused)
{
	struct probe_plan p;
	char err[256];

	errno = 0;
	ck_assert_msg(probe_plan_parse(bad[_i].spec, &p, err, sizeof(err)) == -1, "accepted '%s'",
		      bad[_i].spec);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(err, bad[_i].msg), "'%s': message '%s' lacks '%s'", bad[_i].spec, err,
		      bad[_i].msg);
}
END_TEST

START_TEST(test_stream)
{
	const char *text = "# flows\n"
			   "name=a,idle=1s   # trailing comment\n"
			   "\n"
			   "   name=b,proto=udp,heartbeat=1s\n";
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct probe_plan *v;
	size_t n;
	char err[256];

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(probe_plan_parse_stream(f, &v, &n, err, sizeof(err)), 0);
	fclose(f);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "a");
	ck_assert_str_eq(v[1].name, "b");
	ck_assert_int_eq(v[1].proto, PLAN_UDP);
	free(v);

	text = "name=a\nname=b,keepalive=0.5s/1s/1\n";
	f = fmemopen((void *)text, strlen(text), "r");
	ck_assert_int_eq(probe_plan_parse_stream(f, &v, &n, err, sizeof(err)), -1);
	fclose(f);
	ck_assert_msg(strstr(err, "line 2:") && strstr(err, "whole number"), "got '%s'", err);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_names)
{
	char buf[64];
	struct plan_keepalive ka = { PLAN_KA_SET, 300, 30, 3 };
	enum probe_outcome o;

	ck_assert_str_eq(probe_plan_ka_format(&ka, buf, sizeof(buf)), "300s/30s/3");
	ka.mode = PLAN_KA_DEFAULT;
	ck_assert_str_eq(probe_plan_ka_format(&ka, buf, sizeof(buf)), "kernel-default");
	for (o = OUT_ALIVE; o <= OUT_UNREACHABLE; o++) {
		enum probe_outcome back;
		ck_assert_int_eq(probe_outcome_parse(probe_outcome_name(o), &back), 0);
		ck_assert_int_eq(back, o);
	}
	ck_assert_int_eq(probe_outcome_parse("error", &o), -1);
	ck_assert_int_eq(probe_outcome_parse("interrupted", &o), -1);
	ck_assert_str_eq(probe_outcome_name(OUT_KA_TIMEOUT), "keepalive-timeout");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("probe_plan");
	TCase *tc = tcase_create("plan");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_full_spec);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_keepalive_comma_hint);
	tcase_add_loop_test(tc, test_refused, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
