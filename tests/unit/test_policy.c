// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * policy_set() range checks (common/policy.c): every duration, count and
 * percentage at, just below and just above its limit, and the message that
 * names the range. The control socket's `set` and `--set` reach the same
 * function (engine_set, load_policy), so this is their test too.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy.h"
#include "limits_cases.h"

START_TEST(t_limits)
{
	const struct limit_case *t = &limit_cases[_i];
	struct policy p, before;
	char err[256] = "";
	int rc;

	policy_init(&p);
	before = p;
	rc = policy_set(&p, t->key, t->value, err, sizeof(err));
	if (!*t->err) {
		ck_assert_msg(rc == 0, "%s = %s refused: %s", t->key, t->value, err);
		return;
	}
	ck_assert_msg(rc == -1, "%s = %s accepted", t->key, t->value);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(err, t->err);
	ck_assert_msg(!memcmp(&p, &before, sizeof(p)), "%s = %s changed the policy", t->key, t->value);
}
END_TEST

START_TEST(t_values_kept)
{
	struct policy p;
	char v[64];

	policy_init(&p);
	ck_assert_int_eq(policy_set(&p, "tcp.established", "24d", NULL, 0), 0);
	ck_assert_uint_eq(p.timeout[TO_TCP_ESTABLISHED], 24ull * 86400000);
	ck_assert_int_eq(policy_get(&p, "tcp.established", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "24d");
	ck_assert_int_eq(policy_set(&p, "loss.outbound", "100%", NULL, 0), 0);
	ck_assert(p.loss[0] == 1.0);
	ck_assert_int_eq(policy_set(&p, "seed", "18446744073709551615", NULL, 0), 0);
	ck_assert_uint_eq(p.seed, UINT64_MAX);
	ck_assert_int_eq(policy_set(&p, "table.max_flows", "67108864", NULL, 0), 0);
	ck_assert_uint_eq(p.max_flows, 1u << 26);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("limits");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, t_limits, 0, (int)N_LIMIT_CASES);
	tcase_add_test(tc, t_values_kept);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
