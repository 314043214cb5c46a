// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Durations and time scales as users write them: the accepted forms, the
 * errors (syntax vs. range), format/parse round trips, and scaling.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "common/duration.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	uint64_t ms;
} good[] = {
	{ "250ms", 250 },
	{ "350s", 350000 },
	{ "2h4m", 2 * 3600000 + 4 * 60000 },
	{ "1.5s", 1500 },
	{ "1m30s", 90000 },
	{ "0", 0 },
	{ "7", 7000 },
	{ "1.5", 1500 },
	{ "0.001", 1 },
	{ "0s", 0 },
	{ "0ms", 0 },
	{ "1ms", 1 },
	{ "1m", 60000 },
	{ "1h", 3600000 },
	{ "1d", 86400000 },
	{ "2d1h1m1s1ms", 2 * 86400000 + 3600000 + 60000 + 1000 + 1 },
	{ "1s1s", 2000 },                /* groups add up, in any order */
	{ "30s1m", 90000 },
	{ ".5s", 500 },
	{ "5.s", 5000 },
	{ "0.25m", 15000 },
	{ "  250ms", 250 },
	{ "250ms  ", 250 },
	{ "\t 2h4m \n", 7440000 },
	{ " 7 ", 7000 },
	{ "007s", 7000 },
	{ "1.000000000000s", 1000 },     /* trailing zeros beyond 9 places */
	{ "0.00001d", 864 },
	{ "7200s", 7200000 },
	{ "432000s", 432000000 },
	{ "24d", DURATION_MAX_MS },      /* the limit itself */
	{ "2073600000ms", DURATION_MAX_MS },
	{ "23d23h59m59.999s", DURATION_MAX_MS - 1 },
	{ "576h", DURATION_MAX_MS },
	{ "2073599.999s", DURATION_MAX_MS - 1 },
};

START_TEST(test_parse_good)
{
	for (size_t i = 0; i < N(good); i++) {
		uint64_t ms = 12345;
		int rc;

		errno = 0;
		rc = duration_parse(good[i].in, &ms);
		ck_assert_msg(rc == 0, "'%s': rc %d errno %d", good[i].in, rc, errno);
		ck_assert_msg(ms == good[i].ms, "'%s': %llu, want %llu", good[i].in,
			      (unsigned long long)ms, (unsigned long long)good[i].ms);
	}
}
END_TEST

static const struct {
	const char *in;
	int err;
} bad[] = {
	{ "", EINVAL },
	{ "   ", EINVAL },
	{ "s", EINVAL },
	{ "ms", EINVAL },
	{ ".", EINVAL },
	{ ".s", EINVAL },
	{ "5x", EINVAL },
	{ "5S", EINVAL },                /* units are lower case */
	{ "5 s", EINVAL },               /* no space inside */
	{ "2h 4m", EINVAL },
	{ "1s2", EINVAL },               /* a bare number only alone */
	{ "1s 2", EINVAL },
	{ "-5s", EINVAL },
	{ "+5s", EINVAL },
	{ "1e3s", EINVAL },
	{ "5msec", EINVAL },
	{ "1..5s", EINVAL },
	{ "1.5.5s", EINVAL },
	{ "10 minutes", EINVAL },
	{ "forever", EINVAL },
	{ "5s,", EINVAL },
	{ "1.0001ms", EDOM },            /* a fraction of a millisecond */
	{ "1.5ms", EDOM },
	{ "0.0001s", EDOM },
	{ "0.000001d", EDOM },           /* 86.4 ms */
	{ "1.0000000001s", EDOM },
	{ "1.5msx", EINVAL },            /* syntax before precision */
	{ "2073600001ms", ERANGE },      /* just above the limit */
	{ "24d1ms", ERANGE },
	{ "1ms24d", ERANGE },
	{ "25d", ERANGE },
	{ "577h", ERANGE },
	{ "18446744073709551615ms", ERANGE },   /* wrapped every timer before */
	{ "18446744073709551s615ms", ERANGE },
	{ "213503982334d", ERANGE },
	{ "18446744073709551616ms", ERANGE },
	{ "18446744073709551615ms1ms", ERANGE },
	{ "18446744073709552s", ERANGE },
	{ "18446744073709551s616ms", ERANGE },
	{ "213503982335d", ERANGE },
	{ "99999999999999999999999999", ERANGE },
	{ "18446744073709551.616s", ERANGE },
};

START_TEST(test_parse_bad)
{
	uint64_t ms;

	for (size_t i = 0; i < N(bad); i++) {
		int rc;

		ms = 4242;
		errno = 0;
		rc = duration_parse(bad[i].in, &ms);
		ck_assert_msg(rc == -1, "'%s' accepted as %llu", bad[i].in,
			      (unsigned long long)ms);
		ck_assert_msg(errno == bad[i].err, "'%s': errno %d, want %d",
			      bad[i].in, errno, bad[i].err);
		ck_assert_msg(ms == 4242, "'%s' changed the output on error", bad[i].in);
	}
	errno = 0;
	ck_assert_int_eq(duration_parse(NULL, &ms), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static const struct {
	uint64_t ms;
	const char *out;
} formats[] = {
	{ 0, "0s" },
	{ 1, "1ms" },
	{ 250, "250ms" },
	{ 999, "999ms" },
	{ 1000, "1s" },
	{ 1500, "1.5s" },
	{ 1050, "1.05s" },
	{ 1001, "1.001s" },
	{ 59999, "59.999s" },
	{ 60000, "60s" },
	{ 90000, "90s" },
	{ 61500, "61.5s" },
	{ 350000, "350s" },
	{ 400500, "400.5s" },
	{ 999999, "999.999s" },
	{ 1000000, "16m40s" },
	{ 1000001, "16m40.001s" },
	{ 3600000, "1h" },
	{ 3600500, "1h0.5s" },
	{ 7440000, "2h4m" },
	{ 3661000, "1h1m1s" },
	{ 172800000, "2d" },
	{ 432000000, "5d" },
	{ 90061250, "1d1h1m1.25s" },
	{ DURATION_MAX_MS, DURATION_MAX_TEXT },
};

START_TEST(test_format)
{
	char buf[64];

	for (size_t i = 0; i < N(formats); i++) {
		ck_assert_ptr_eq(duration_format(formats[i].ms, buf, sizeof(buf)), buf);
		ck_assert_str_eq(buf, formats[i].out);
	}
	/* a short buffer truncates, terminated */
	memset(buf, 'x', sizeof(buf));
	duration_format(3661000, buf, 4);
	ck_assert_str_eq(buf, "1h1");
	duration_format(3661500, buf, 8);
	ck_assert_str_eq(buf, "1h1m1.5");
	duration_format(1500, buf, 3);
	ck_assert_str_eq(buf, "1.");
	duration_format(250, buf, 1);
	ck_assert_str_eq(buf, "");
	buf[0] = 'x';
	duration_format(250, buf, 0);   /* nothing written */
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

START_TEST(test_round)
{
	static const uint64_t t[][2] = {
		{ 0, 0 }, { 999, 999 }, { 1049, 1000 }, { 1050, 1100 }, { 99949, 99900 },
		{ 99950, 100000 }, { 350004, 350000 }, { 350500, 351000 },
		{ UINT64_MAX, UINT64_MAX / 1000 * 1000 },
	};

	for (size_t i = 0; i < N(t); i++)
		ck_assert_uint_eq(duration_round(t[i][0]), t[i][1]);
}
END_TEST

static void check_round_trip(uint64_t ms)
{
	char buf[64];
	uint64_t back = ~ms;

	duration_format(ms, buf, sizeof(buf));
	if (duration_parse(buf, &back) != 0 || back != ms)
		ck_abort_msg("%llu -> '%s' -> %llu (errno %d)", (unsigned long long)ms,
			     buf, (unsigned long long)back, errno);
}

START_TEST(test_round_trip)
{
	uint64_t x = 88172645463325252ull;

	for (uint64_t ms = 0; ms < 200000; ms += 7)
		check_round_trip(ms);
	for (int shift = 0; shift < 31; shift++) {     /* DURATION_MAX_MS < 2^31 */
		uint64_t b = UINT64_C(1) << shift;

		check_round_trip(b - 1);
		check_round_trip(b);
		check_round_trip(b + 1);
		check_round_trip(b / 1000 * 1000);
	}
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_round_trip((x >> (x % 64)) % (DURATION_MAX_MS + 1));
		check_round_trip((x >> (x % 64)) % (DURATION_MAX_MS + 1) / 1000 * 1000);
	}
	check_round_trip(DURATION_MAX_MS);
	check_round_trip(DURATION_MAX_MS - 1);
}
END_TEST

/* Limits of the shared parser at, just below and just above them, and the
 * messages every path (policy, profile, scenario, control socket) prints. */
START_TEST(test_limits_checked)
{
	static const struct {
		const char *in;
		bool zero_ok;
		int rc;
		const char *err;
	} t[] = {
		{ "24d", false, 0, "" },
		{ "2073599999ms", false, 0, "" },
		{ "2073600001ms", false, -1, "k: 2073600001ms is above the limit of 24d" },
		{ "18446744073709551615ms", false, -1,
		  "k: 18446744073709551615ms is above the limit of 24d" },
		{ " 25d", true, -1, "k: 25d is above the limit of 24d" },
		{ "0s", true, 0, "" },
		{ "0s", false, -1, "k: must be longer than 0" },
		{ "1ms", false, 0, "" },
		{ "0.5ms", false, -1, "k: '0.5ms' is not a whole number of milliseconds" },
		{ "soon", true, -1, "k: 'soon' is not a duration (like 350s, 2h4m, 250ms)" },
	};

	for (size_t i = 0; i < N(t); i++) {
		char err[128] = "";
		uint64_t ms = 7;
		int rc = duration_parse_checked("k", t[i].in, t[i].zero_ok, &ms, err, sizeof(err));

		ck_assert_msg(rc == t[i].rc, "'%s': rc %d", t[i].in, rc);
		ck_assert_msg(!strcmp(err, t[i].err), "'%s': '%s', want '%s'", t[i].in, err, t[i].err);
		if (rc < 0)
			ck_assert_uint_eq(ms, 7);
	}
	/* the control socket's blackhole request goes through the same call */
	{
		char err[128];
		uint64_t ms;

		ck_assert_int_eq(duration_parse_checked("value", "18446744073709551615ms", true, &ms,
							err, sizeof(err)), -1);
		ck_assert_str_eq(err, "value: 18446744073709551615ms is above the limit of 24d");
		ck_assert_int_eq(duration_parse_checked("value", "24d", true, &ms, err, sizeof(err)), 0);
		ck_assert_uint_eq(ms, DURATION_MAX_MS);
	}
	/* nothing the engine adds to a 64-bit monotonic clock, nor a 32-bit
	 * signed millisecond offset, can wrap */
	ck_assert(DURATION_MAX_MS < (UINT64_C(1) << 31));
}
END_TEST

static const struct {
	const char *in;
	uint32_t num, den;   /* as a reduced ratio: compared by cross-multiplying */
} scales[] = {
	{ "1/50", 1, 50 },
	{ "0.02", 1, 50 },
	{ "50x", 1, 50 },
	{ "1", 1, 1 },
	{ "1x", 1, 1 },
	{ "1.0", 1, 1 },
	{ "2", 2, 1 },
	{ "3/4", 3, 4 },
	{ "0.5", 1, 2 },
	{ "1000", 1000, 1 },
	{ "1000.0", 1000, 1 },
	{ "1000000x", 1, 1000000 },
	{ "1/1000000", 1, 1000000 },
	{ "1000/1", 1000, 1 },
	{ "0.000001", 1, 1000000 },
	{ " 1/50 ", 1, 50 },
	{ "\t100x\n", 1, 100 },
};

START_TEST(test_timescale_good)
{
	for (size_t i = 0; i < N(scales); i++) {
		struct timescale ts = { 0, 0 };

		ck_assert_msg(timescale_parse(scales[i].in, &ts) == 0, "'%s' refused (errno %d)",
			      scales[i].in, errno);
		ck_assert_msg(ts.num > 0 && ts.den > 0, "'%s': %u/%u", scales[i].in,
			      ts.num, ts.den);
		ck_assert_msg((uint64_t)ts.num * scales[i].den == (uint64_t)ts.den * scales[i].num,
			      "'%s': %u/%u, want %u/%u", scales[i].in, ts.num, ts.den,
			      scales[i].num, scales[i].den);
		ck_assert_msg((uint64_t)ts.num <= (uint64_t)ts.den * 1000, "'%s'", scales[i].in);
	}
}
END_TEST

static const char *const bad_scales[] = {
	"", " ", "0", "0.0", "0x", "1/0", "0/5", "abc", "2000", "1000.5", "1001",
	"1001/1", "-1", "-1/50", "+1", "1/-50", "1/ 50", "1 /50", "1/50x", "50y",
	"x50", "1/", "/50", ".5", "0.5x", "1e2", "0.5e1", "0x10", "1.5/2", "inf",
	"nan", "1000001x", "1/1000001", "99999999999999999999x", "1//2", "1/2/3",
	"0.0000001", "50 x",
};

/* The bad scales that are a scale's shape with a number out of range:
 * ERANGE, so the message can say the range. */
static bool is_range(const char *s)
{
	static const char *const r[] = {
		"0", "0.0", "0x", "1/0", "0/5", "2000", "1000.5", "1001", "1001/1", "1000001x",
		"1/1000001", "99999999999999999999x", "0.0000001",
	};

	for (size_t i = 0; i < N(r); i++)
		if (!strcmp(s, r[i]))
			return true;
	return false;
}

START_TEST(test_timescale_bad)
{
	for (size_t i = 0; i < N(bad_scales); i++) {
		struct timescale ts = { 7, 9 };

		errno = 0;
		ck_assert_msg(timescale_parse(bad_scales[i], &ts) == -1, "'%s' accepted as %u/%u",
			      bad_scales[i], ts.num, ts.den);
		ck_assert_msg(errno == (is_range(bad_scales[i]) ? ERANGE : EINVAL), "'%s': errno %d",
			      bad_scales[i], errno);
		ck_assert_msg(ts.num == 7 && ts.den == 9, "'%s' changed the output",
			      bad_scales[i]);
	}
	errno = 0;
	ck_assert_int_eq(timescale_parse(NULL, &(struct timescale){ 1, 1 }), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static uint64_t scaled(const char *scale, uint64_t ms)
{
	struct timescale ts;

	ck_assert_int_eq(timescale_parse(scale, &ts), 0);
	return timescale_apply(&ts, ms);
}

START_TEST(test_timescale_apply)
{
	ck_assert_uint_eq(scaled("1/50", 7200000), 144000);
	ck_assert_uint_eq(scaled("0.02", 7200000), 144000);
	ck_assert_uint_eq(scaled("50x", 7200000), 144000);
	ck_assert_uint_eq(scaled("1/50", 75000), 1500);
	ck_assert_uint_eq(scaled("1", 12345), 12345);
	ck_assert_uint_eq(scaled("1", UINT64_MAX), UINT64_MAX);
	ck_assert_uint_eq(scaled("2", 500), 1000);
	ck_assert_uint_eq(scaled("1/50", 0), 0);
	/* nearest millisecond, halves up */
	ck_assert_uint_eq(scaled("1/50", 24), 0);
	ck_assert_uint_eq(scaled("1/50", 25), 1);
	ck_assert_uint_eq(scaled("1/50", 74), 1);
	ck_assert_uint_eq(scaled("1/50", 75), 2);
	ck_assert_uint_eq(scaled("1/3", 1), 0);
	ck_assert_uint_eq(scaled("1/3", 2), 1);
	ck_assert_uint_eq(scaled("2/3", 1000), 667);
	ck_assert_uint_eq(scaled("0.333333", 3000000), 999999);
	/* long durations at the largest scales do not overflow */
	ck_assert_uint_eq(scaled("1000.0", UINT64_C(1) << 50), UINT64_C(1000) << 50);
	ck_assert_uint_eq(scaled("999.999999", UINT64_C(1000000000000)),
			  UINT64_C(999999999000000));
	ck_assert_uint_eq(scaled("1000", UINT64_MAX / 10), UINT64_MAX);
	ck_assert_uint_eq(scaled("1/1000000", UINT64_MAX), UINT64_MAX / 1000000 + 1);
	ck_assert_uint_eq(scaled("0.5", UINT64_MAX), UINT64_MAX / 2 + 1);
}
END_TEST

static Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_good);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round);
	tcase_add_test(tc, test_limits_checked);
	tcase_add_test(tc, test_timescale_good);
	tcase_add_test(tc, test_timescale_bad);
	tcase_add_test(tc, test_timescale_apply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(duration_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
