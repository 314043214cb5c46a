// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The engine's O(1) NAT bookkeeping on its own: the port set (next usable
 * port with wrap, take, release with hold-down in time order) checked
 * against a plain array on random operations, and the keyed counts.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/engine/portset.h"
#include "simulator/engine/tally.h"

/* The reference: usable[p], and when each held port becomes usable. */
struct model {
	bool usable[65536];
	uint64_t until[65536];
	bool held[65536];
	uint16_t list[65536];   /* the held ports */
	uint32_t nheld;
};

static uint16_t model_next(const struct model *m, uint16_t lo, uint16_t hi, uint16_t from)
{
	uint32_t n = (uint32_t)hi - lo + 1, start = from >= lo && from <= hi ? from : lo;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t p = lo + (start - lo + i) % n;
		if (m->usable[p])
			return (uint16_t)p;
	}
	return 0;
}

static void model_tick(struct model *m, uint64_t now)
{
	for (uint32_t i = 0; i < m->nheld;) {
		uint16_t p = m->list[i];
		if (m->until[p] <= now) {
			m->held[p] = false;
			m->usable[p] = true;
			m->list[i] = m->list[--m->nheld];
		} else {
			i++;
		}
	}
}

START_TEST(portset_matches_model)
{
	static const uint16_t ranges[][2] = { { 1024, 65535 }, { 20000, 20009 }, { 1, 65535 },
					      { 63, 129 }, { 5000, 5000 } };
	uint16_t lo = ranges[_i][0], hi = ranges[_i][1];
	struct model *m = calloc(1, sizeof(*m));
	struct portset *ps = portset_new(lo, hi, 500);
	uint64_t now = 0, seed = 7 + (uint64_t)_i;

	ck_assert_ptr_nonnull(ps);
	for (uint32_t p = lo; p <= hi; p++)
		m->usable[p] = true;
	for (int step = 0; step < 20000; step++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint16_t from = (uint16_t)(seed >> 33);
		unsigned op = (unsigned)(seed >> 20) % 4;

		now += (seed >> 50) % 7;
		portset_tick(ps, now);
		model_tick(m, now);
		uint16_t want = model_next(m, lo, hi, from);
		ck_assert_uint_eq(portset_next(ps, from), want);
		if (op < 2 && want) {
			portset_take(ps, want);
			m->usable[want] = false;
		} else if (op == 2) {
			/* give back a taken port near `from` */
			uint16_t p = (uint16_t)(lo + from % ((uint32_t)hi - lo + 1));
			if (!m->usable[p] && !m->held[p]) {
				portset_release(ps, p, now);
				m->held[p] = true;
				m->until[p] = now + 500;
				m->list[m->nheld++] = p;
			}
		}
		ck_assert(portset_usable(ps, from) == (from >= lo && from <= hi && m->usable[from]));
	}
	portset_unhold(ps);
	model_tick(m, UINT64_MAX);
	ck_assert_uint_eq(portset_held(ps), 0);
	uint32_t n = 0;
	for (uint32_t p = lo; p <= hi; p++)
		n += m->usable[p];
	ck_assert_uint_eq(portset_count(ps), n);
	portset_free(ps);
	free(m);
}
END_TEST

START_TEST(portset_empty_and_bounds)
{
	struct portset *ps = portset_new(100, 101, 0);

	ck_assert_ptr_null(portset_new(0, 10, 0));
	ck_assert_ptr_null(portset_new(10, 9, 0));
	ck_assert_uint_eq(portset_next(ps, 5), 100);
	ck_assert_uint_eq(portset_next(ps, 101), 101);
	portset_take(ps, 100);
	ck_assert_uint_eq(portset_next(ps, 100), 101);
	portset_take(ps, 101);
	ck_assert_uint_eq(portset_next(ps, 100), 0);
	portset_release(ps, 100, 0);          /* no hold: usable at once */
	ck_assert(portset_usable(ps, 100));
	ck_assert_uint_eq(portset_next(ps, 101), 100);
	portset_free(ps);
	portset_free(NULL);
}
END_TEST

/* A late release keeps the hold queue in order: it waits as long as the
 * one queued before it, never less than its own hold. */
START_TEST(portset_late_release_ordered)
{
	struct portset *ps = portset_new(10, 12, 1000);

	portset_take(ps, 10);
	portset_take(ps, 11);
	portset_release(ps, 10, 5000);
	portset_release(ps, 11, 4000);
	portset_tick(ps, 5999);
	ck_assert(!portset_usable(ps, 10) && !portset_usable(ps, 11));
	portset_tick(ps, 6000);
	ck_assert(portset_usable(ps, 10) && portset_usable(ps, 11));
	portset_free(ps);
}
END_TEST

START_TEST(tally_counts)
{
	struct tally *t = tally_new(2, 1);
	struct tally_key a = { .dport = 80, .proto = 6 }, b = a, c = a;
	uint32_t ea, eb;

	b.dport = 81;
	c.dport = 82;
	ea = tally_inc(t, &a);
	ck_assert_uint_ne(ea, 0);
	ck_assert_uint_eq(tally_inc(t, &a), ea);
	eb = tally_inc(t, &b);
	ck_assert_uint_eq(tally_get(t, &a), 2);
	ck_assert_uint_eq(tally_get(t, &b), 1);
	ck_assert_uint_eq(tally_inc(t, &c), 0);         /* the pool is full */
	tally_dec(t, eb);
	ck_assert_uint_eq(tally_get(t, &b), 0);
	ck_assert_uint_ne(tally_inc(t, &c), 0);         /* b's entry went back */
	tally_dec(t, ea);
	tally_dec(t, ea);
	tally_dec(t, ea);                               /* below 0: ignored */
	tally_dec(t, 0);
	ck_assert_uint_eq(tally_get(t, &a), 0);
	tally_clear(t);
	ck_assert_uint_eq(tally_get(t, &c), 0);
	ck_assert_ptr_null(tally_new(0, 1));
	tally_free(t);
	tally_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("engine_ports");
	TCase *tc = tcase_create("ports");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, portset_matches_model, 0, 5);
	tcase_add_test(tc, portset_empty_and_bounds);
	tcase_add_test(tc, portset_late_release_ordered);
	tcase_add_test(tc, tally_counts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
