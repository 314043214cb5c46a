// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The event loop's timer (simulator/looptimer.c): the timerfd fires at the
 * absolute deadline it was armed for (not before it, and a deadline already
 * past fires at once), re-arming for the same deadline costs nothing, and
 * the lateness record puts each served deadline in the right bucket.
 */
#include <check.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/mtime.h"
#include "simulator/looptimer.h"

#define NS_PER_MS 1000000u

/* Wait for the timerfd (at most ms); true if it became readable. */
static bool fires_within(const struct looptimer *lt, int ms)
{
	struct pollfd p = { .fd = lt->fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

START_TEST(test_fires_at_absolute_deadline)
{
	struct looptimer lt;
	uint64_t t0, due, woke;

	ck_assert_int_eq(looptimer_open(&lt), 0);
	t0 = mtime_ns();
	due = t0 / NS_PER_MS + 30;
	looptimer_serve(&lt, t0, due);
	ck_assert_int_eq(looptimer_arm(&lt), 0);
	ck_assert_uint_eq(lt.armed_ms, due);
	ck_assert(fires_within(&lt, 1000));
	woke = mtime_ns();
	ck_assert_uint_ge(woke, due * NS_PER_MS);  /* never early */
	looptimer_ack(&lt);
	ck_assert_uint_eq(lt.armed_ms, UINT64_MAX);
	/* served on waking: one deadline, in the bucket of its lateness,
	 * and the wake-up's lateness */
	looptimer_serve(&lt, woke, UINT64_MAX);
	ck_assert_uint_eq(lt.st.served, 1);
	ck_assert_uint_eq(lt.st.late_max_us, (woke - due * NS_PER_MS) / 1000);
	ck_assert_uint_eq(lt.st.wake_late_max_us, lt.st.late_max_us);
	/* nothing armed: no wake-up */
	ck_assert_int_eq(looptimer_arm(&lt), 0);
	ck_assert(!fires_within(&lt, 50));
	looptimer_close(&lt);
}
END_TEST

START_TEST(test_past_deadline_fires_at_once)
{
	struct looptimer lt;
	uint64_t now = mtime_ns();

	ck_assert_int_eq(looptimer_open(&lt), 0);
	looptimer_serve(&lt, now, now / NS_PER_MS - 5);
	ck_assert_int_eq(looptimer_arm(&lt), 0);
	ck_assert(fires_within(&lt, 0) || fires_within(&lt, 20));
	looptimer_close(&lt);
}
END_TEST

START_TEST(test_rearm_only_on_change)
{
	struct looptimer lt;
	uint64_t now = mtime_ns(), due = now / NS_PER_MS + 10000;

	ck_assert_int_eq(looptimer_open(&lt), 0);
	looptimer_serve(&lt, now, due);
	ck_assert_int_eq(looptimer_arm(&lt), 0);
	/* a closed fd would fail a system call: none is made for the same
	 * deadline, one is for another */
	looptimer_close(&lt);
	looptimer_serve(&lt, now, due);
	ck_assert_int_eq(looptimer_arm(&lt), 0);
	looptimer_serve(&lt, now, due + 1);
	ck_assert_int_eq(looptimer_arm(&lt), -1);
}
END_TEST

START_TEST(test_lateness_buckets)
{
	static const uint64_t late_us[] = { 0, 999, 1000, 1999, 4999, 9999, 10000, 49999, 50000, 700000 };
	static const unsigned bucket[] = { 0, 0, 1, 1, 2, 3, 4, 4, 5, 5 };
	uint64_t want[LOOPTIMER_BUCKETS] = { 0 };
	struct looptimer lt;
	uint64_t due = 1000000;        /* ms */

	ck_assert_int_eq(looptimer_open(&lt), 0);
	for (size_t i = 0; i < sizeof(late_us) / sizeof(late_us[0]); i++) {
		looptimer_serve(&lt, 0, due);
		/* before its deadline: not served, still waited for */
		looptimer_serve(&lt, due * NS_PER_MS - 1, due);
		looptimer_serve(&lt, due * NS_PER_MS + late_us[i] * 1000, UINT64_MAX);
		want[bucket[i]]++;
	}
	for (unsigned b = 0; b < LOOPTIMER_BUCKETS; b++)
		ck_assert_uint_eq(lt.st.late[b], want[b]);
	ck_assert_uint_eq(lt.st.served, 10);
	ck_assert_uint_eq(lt.st.late_max_us, 700000);
	/* no deadline: nothing served */
	looptimer_serve(&lt, UINT64_MAX / 2, UINT64_MAX);
	ck_assert_uint_eq(lt.st.served, 10);
	looptimer_rx(&lt, 5000000, 8000000);
	looptimer_rx(&lt, 9000000, 1000000);   /* a clock that went back: ignored */
	ck_assert_uint_eq(lt.st.rx_max_us, 3000);
	/* served while busy, not on waking */
	ck_assert_uint_eq(lt.st.wake_late_max_us, 0);
	looptimer_serve(&lt, 0, due);
	ck_assert_int_eq(looptimer_arm(&lt), 0);
	looptimer_serve(&lt, due * NS_PER_MS + 3000, UINT64_MAX);
	ck_assert_uint_eq(lt.st.wake_late_max_us, 3);
	looptimer_close(&lt);
}
END_TEST

static Suite *looptimer_suite(void)
{
	Suite *s = suite_create("looptimer");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fires_at_absolute_deadline);
	tcase_add_test(tc, test_past_deadline_fires_at_once);
	tcase_add_test(tc, test_rearm_only_on_change);
	tcase_add_test(tc, test_lateness_buckets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(looptimer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
