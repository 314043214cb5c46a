// SPDX-License-Identifier: GPL-2.0-or-later
/* The arithmetic of idlegate tune (runner/tune/tune.c): time scale and grid,
 * boundary and monotonicity, the margin formula with sweep and loss, cost
 * and detection time, and the software knob translation. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/tune/tune.h"

START_TEST(test_scale_auto_and_forced)
{
	struct timescale ts = { 0 }, forced;
	uint64_t step;
	char err[256];

	ck_assert_int_eq(tune_scale(350000, NULL, &ts, &step, err, sizeof(err)), 0);
	ck_assert_uint_eq(ts.num, 1);
	ck_assert_uint_eq(ts.den, 14);          /* 350 s / 24 s */
	ck_assert_uint_eq(step, 14000);
	ck_assert_int_eq(tune_scale(12000, NULL, &ts, &step, err, sizeof(err)), 0);
	ck_assert_uint_eq(ts.den, 1);
	ck_assert_uint_eq(step, 1000);
	ck_assert_int_eq(timescale_parse("1/10", &forced), 0);
	ck_assert_int_eq(tune_scale(350000, &forced, &ts, &step, err, sizeof(err)), 0);
	ck_assert_uint_eq(step, 10000);
	ck_assert_int_eq(timescale_parse("3/4", &forced), 0);
	errno = 0;
	ck_assert_int_eq(tune_scale(350000, &forced, &ts, &step, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "1/N"));
	/* too short a timeout for the step */
	ck_assert_int_eq(timescale_parse("1/10", &forced), 0);
	ck_assert_int_eq(tune_scale(30000, &forced, &ts, &step, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_grid)
{
	uint64_t v[TUNE_GRID_POINTS];
	size_t n = tune_grid(12000, 1000, v, TUNE_GRID_POINTS);

	ck_assert_uint_ge(n, 8);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(v[i] % 1000, 0);              /* whole steps */
		ck_assert_uint_ge(v[i], 1000);
		if (i)
			ck_assert_uint_gt(v[i], v[i - 1]);      /* ascending, unique */
	}
	ck_assert_uint_eq(v[0], 3000);                          /* 25 % */
	ck_assert_uint_eq(v[n - 1], 15000);                     /* 130 % rounded down */
	/* brackets the timeout: one candidate at it, one just below */
	{
		bool at = false, below = false;

		for (size_t i = 0; i < n; i++) {
			at |= v[i] == 12000;
			below |= v[i] == 11000;
		}
		ck_assert(at && below);
	}
	/* max is honoured; a coarse step collapses repeats */
	ck_assert_uint_eq(tune_grid(12000, 1000, v, 4), 4);
	n = tune_grid(8000, 2000, v, TUNE_GRID_POINTS);
	for (size_t i = 1; i < n; i++)
		ck_assert_uint_gt(v[i], v[i - 1]);
	ck_assert_uint_eq(tune_grid(8000, 0, v, TUNE_GRID_POINTS), 0);
	/* a fine step: every point of the grid, none held back */
	ck_assert_uint_eq(tune_grid(1000000, 1000, v, TUNE_GRID_POINTS), TUNE_GRID_POINTS);
	ck_assert_uint_eq(tune_grid_interval(20000, 1000), 4000);
	ck_assert_uint_eq(tune_grid_interval(3000, 1000), 1000);
	ck_assert_uint_eq(tune_grid_interval(70000, 14000), 14000);
}
END_TEST

START_TEST(test_boundary)
{
	struct tune_boundary b;
	bool a[] = { true, true, true, false, false };
	bool all[] = { true, true };
	bool none[] = { false, true, false };
	bool noisy[] = { true, true, false, true, false };

	tune_boundary(a, 5, &b);
	ck_assert_int_eq(b.boundary, 2);
	ck_assert(!b.all_survived);
	ck_assert_int_eq(b.suspicious, -1);
	tune_boundary(all, 2, &b);
	ck_assert_int_eq(b.boundary, 1);
	ck_assert(b.all_survived);
	tune_boundary(none, 3, &b);
	ck_assert_int_eq(b.boundary, -1);
	ck_assert_int_eq(b.suspicious, 1);
	tune_boundary(noisy, 5, &b);
	ck_assert_int_eq(b.boundary, 1);        /* every smaller one survived */
	ck_assert_int_eq(b.suspicious, 3);
	tune_boundary(a, 0, &b);
	ck_assert_int_eq(b.boundary, -1);
	ck_assert(!b.all_survived);
}
END_TEST

START_TEST(test_loss_retries)
{
	ck_assert_uint_eq(tune_loss_retries(0), 0);
	ck_assert_uint_eq(tune_loss_retries(0.1), 5);   /* 0.1^6 = 1e-6 */
	ck_assert_uint_eq(tune_loss_retries(0.01), 2);  /* 0.01^3 = 1e-6 */
	ck_assert_uint_eq(tune_loss_retries(0.5), 19);  /* 0.5^20 < 1e-6 < 0.5^19 */
	ck_assert_uint_le(tune_loss_retries(0.99), 200);
}
END_TEST

START_TEST(test_recommend_kernel)
{
	struct tune_rec r;

	/* B = 336 s, G = 14 s, exact expiry, no loss: 0.8 B = 268.8 -> 266 */
	ck_assert_int_eq(tune_recommend(TUNE_KERNEL, 336000, 14000, 0, 0, &r), 0);
	ck_assert_uint_eq(r.interval_ms, 28000);        /* floor_14(33.6) */
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.value_ms, 266000);
	ck_assert_uint_eq(r.detect_ms, 266000 + 3 * 28000);
	ck_assert(r.per_hour > 13.5 && r.per_hour < 13.6);
	/* a 60 s sweep takes the margin over the 80 % */
	ck_assert_int_eq(tune_recommend(TUNE_KERNEL, 336000, 14000, 100000, 0, &r), 0);
	ck_assert_uint_eq(r.limit_ms, 236000);
	ck_assert_uint_eq(r.value_ms, 224000);
	/* loss 10 %: 5 retries of the interval, 6 probes */
	ck_assert_int_eq(tune_recommend(TUNE_KERNEL, 100000, 1000, 0, 0.1, &r), 0);
	ck_assert_uint_eq(r.retries, 5);
	ck_assert_uint_eq(r.count, 6);
	ck_assert_uint_eq(r.interval_ms, 10000);
	ck_assert_uint_eq(r.value_ms, 50000);           /* 100 - 5 x 10 */
	/* nothing left */
	errno = 0;
	ck_assert_int_eq(tune_recommend(TUNE_KERNEL, 2000, 1000, 2000, 0, &r), -1);
	ck_assert_int_eq(errno, ERANGE);
}
END_TEST

START_TEST(test_recommend_heartbeat)
{
	struct tune_rec r;

	ck_assert_int_eq(tune_recommend(TUNE_HEARTBEAT, 29000, 1000, 0, 0, &r), 0);
	ck_assert_uint_eq(r.value_ms, 23000);           /* 0.8 x 29 = 23.2 */
	ck_assert_uint_eq(r.detect_ms, 69000);
	ck_assert_uint_eq(r.interval_ms, 0);
	/* loss 1 %: m = 2, (B - S) / 3 */
	ck_assert_int_eq(tune_recommend(TUNE_HEARTBEAT, 30000, 1000, 3000, 0.01, &r), 0);
	ck_assert_uint_eq(r.value_ms, 9000);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_ptr_nonnull(strstr(tune_formula(TUNE_HEARTBEAT), "0.8 B"));
	ck_assert_ptr_nonnull(strstr(tune_formula(TUNE_KERNEL), "m I"));
}
END_TEST

static const struct tune_knob *find(const struct tune_knob *k, size_t n, const char *sw)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k[i].software, sw))
			return &k[i];
	return NULL;
}

START_TEST(test_knobs)
{
	struct tune_rec ka, hb;
	struct tune_knob k[12];
	const struct tune_knob *x;
	size_t n;

	ck_assert_int_eq(tune_recommend(TUNE_KERNEL, 336000, 14000, 0, 0, &ka), 0);
	ck_assert_int_eq(tune_recommend(TUNE_HEARTBEAT, 336000, 14000, 0, 0, &hb), 0);
	n = tune_knobs(&ka, &hb, false, k, 12);
	x = find(k, n, "Linux sysctl");
	ck_assert_ptr_nonnull(x);
	/* a sysctl.d file: one key = value per line, no ';' list */
	ck_assert_str_eq(x->setting, "net.ipv4.tcp_keepalive_time = 266\nnet.ipv4.tcp_keepalive_intvl = 28\n"
			 "net.ipv4.tcp_keepalive_probes = 3");
	x = find(k, n, "socket options");
	ck_assert_ptr_nonnull(strstr(x->setting, "TCP_USER_TIMEOUT=350000"));
	x = find(k, n, "libpq (PostgreSQL)");
	ck_assert_ptr_nonnull(strstr(x->setting, "keepalives_idle=266 keepalives_interval=28 keepalives_count=3"));
	x = find(k, n, "curl");
	ck_assert_str_eq(x->setting, "--keepalive-time 266");
	/* ssh_config lines, and ssh -o options, one keyword each */
	x = find(k, n, "OpenSSH client");
	ck_assert_str_eq(x->setting, "ServerAliveInterval 266\nServerAliveCountMax 3");
	x = find(k, n, "OpenSSH ssh -o");
	ck_assert_str_eq(x->setting, "-o ServerAliveInterval=266 -o ServerAliveCountMax=3");
	x = find(k, n, "gRPC");
	ck_assert_ptr_nonnull(strstr(x->setting, "GRPC_ARG_KEEPALIVE_TIME_MS=266000"));
	ck_assert_ptr_nonnull(strstr(x->note, "5 min"));
	ck_assert_ptr_null(find(k, n, "WireGuard"));
	/* UDP: WireGuard, no TCP software */
	ck_assert_int_eq(tune_recommend(TUNE_HEARTBEAT, 29000, 1000, 0, 0, &hb), 0);
	n = tune_knobs(NULL, &hb, true, k, 12);
	x = find(k, n, "WireGuard");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x->setting, "PersistentKeepalive = 23");
	ck_assert_ptr_null(find(k, n, "Linux sysctl"));
	ck_assert_ptr_null(find(k, n, "OpenSSH client"));
	/* max is honoured */
	ck_assert_uint_eq(tune_knobs(&ka, &hb, false, k, 2), 2);
	ck_assert_uint_eq(tune_knobs(NULL, NULL, false, k, 12), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tune");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_scale_auto_and_forced);
	tcase_add_test(tc, test_grid);
	tcase_add_test(tc, test_boundary);
	tcase_add_test(tc, test_loss_retries);
	tcase_add_test(tc, test_recommend_kernel);
	tcase_add_test(tc, test_recommend_heartbeat);
	tcase_add_test(tc, test_knobs);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
