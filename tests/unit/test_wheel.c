// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Timing wheel: exact expiry at level boundaries and beyond the wheel's
 * range, a naive reference model driven by a fake clock with random
 * arm/cancel/re-arm (also from inside fire()), counts and sleep bounds.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "simulator/engine/wheel.h"

/* ---- helpers ---- */

/* Check reports every passing ck_assert() to the parent process (a write
 * per call), far too slow for the millions of checks below: these call
 * into Check only on failure, with the same file:line. */
#define REQ(c) do { if (!(c)) ck_abort_msg("Assertion '%s' failed", #c); } while (0)
#define REQ_OP(a, op, b) do {						\
	uint64_t a_ = (a), b_ = (b);					\
	if (!(a_ op b_))						\
		ck_abort_msg("Assertion '%s %s %s' failed: %llu vs %llu", \
			     #a, #op, #b, (unsigned long long)a_,	\
			     (unsigned long long)b_);			\
} while (0)
#define REQ_EQ(a, b) REQ_OP(a, ==, b)
#define REQ_LE(a, b) REQ_OP(a, <=, b)
#define REQ_LT(a, b) REQ_OP(a, <, b)
#define REQ_GT(a, b) REQ_OP(a, >, b)
#define REQ_GE(a, b) REQ_OP(a, >=, b)

struct tt {
	struct wheel_timer t;
	unsigned idx;
	unsigned fired;
	uint64_t fired_at;     /* wheel_now() inside fire() */
};

struct rec {
	struct wheel *w;
	unsigned fired;
	uint64_t last_at;
};

static void fire_record(struct wheel_timer *t, void *ctx)
{
	struct tt *x = container_of(t, struct tt, t);
	struct rec *r = ctx;

	REQ(!wheel_timer_armed(t));
	x->fired++;
	x->fired_at = wheel_now(r->w);
	r->fired++;
	r->last_at = x->fired_at;
}

/* xorshift64*, so that failures reproduce */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}
static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static const uint64_t delays[] = {
	0, 1, 2, 63, 64, 65, 127, 128, 4095, 4096, 4097, 262143, 262144,
	(UINT64_C(1) << 18) + 3, (UINT64_C(1) << 24) - 1, UINT64_C(1) << 24,
	UINT64_C(1) << 30, (UINT64_C(1) << 30) + 1, (UINT64_C(1) << 36) - 1,
	UINT64_C(1) << 36, (UINT64_C(1) << 36) + 1, (UINT64_C(1) << 40) + 12345,
	UINT64_C(1) << 50,
};
static const uint64_t starts[] = {
	0, 1, 12345, 63, 4095, (UINT64_C(1) << 36) - 5, (UINT64_C(1) << 36) - 1,
	UINT64_C(0x123456789abc), UINT64_C(1) << 52,
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- exactness ---- */

/* One jump to just before the expiry, then to the expiry. */
START_TEST(test_exact_jump)
{
	for (size_t i = 0; i < N(starts); i++) {
		for (size_t j = 0; j < N(delays); j++) {
			uint64_t start = starts[i], exp = start + delays[j];
			struct wheel *w = wheel_new(start);
			struct rec r = { .w = w };
			struct tt x = { 0 };

			ck_assert_ptr_nonnull(w);
			wheel_arm(w, &x.t, exp);
			REQ(wheel_timer_armed(&x.t));
			REQ_EQ(wheel_count(w), 1);
			REQ_LE(wheel_timeout(w), delays[j]);
			if (exp > start) {
				REQ_EQ(wheel_advance(w, exp - 1, fire_record, &r), 0);
				REQ_EQ(wheel_now(w), exp - 1);
				REQ(wheel_timer_armed(&x.t));
				REQ_EQ(wheel_timeout(w), 1);
			}
			REQ_EQ(wheel_advance(w, exp, fire_record, &r), 1);
			REQ_EQ(x.fired, 1);
			REQ_EQ(x.fired_at, exp);
			REQ(!wheel_timer_armed(&x.t));
			REQ_EQ(wheel_count(w), 0);
			REQ_EQ(wheel_timeout(w), UINT64_MAX);
			wheel_free(w);
		}
	}
}
END_TEST

/* Many intermediate stops, including one ms at a time near the expiry. */
START_TEST(test_exact_steps)
{
	for (size_t i = 0; i < N(starts); i++) {
		for (size_t j = 0; j < N(delays); j++) {
			uint64_t start = starts[i], exp = start + delays[j], now = start;
			struct wheel *w = wheel_new(start);
			struct rec r = { .w = w };
			struct tt x = { 0 };

			wheel_arm(w, &x.t, exp);
			/* halve the distance until close, then single steps */
			while (exp - now > 70) {
				now += (exp - now) / 2;
				REQ_EQ(wheel_advance(w, now, fire_record, &r), 0);
			}
			while (now + 1 < exp) {
				now++;
				REQ_EQ(wheel_advance(w, now, fire_record, &r), 0);
			}
			REQ_EQ(x.fired, 0);
			REQ_EQ(wheel_advance(w, exp, fire_record, &r), 1);
			REQ_EQ(x.fired_at, exp);
			REQ_EQ(wheel_advance(w, exp + 1000, fire_record, &r), 0);
			wheel_free(w);
		}
	}
}
END_TEST

/* Sleeping exactly wheel_timeout() each time never oversleeps an expiry and
 * needs few wakeups. */
START_TEST(test_timeout_sleep_loop)
{
	for (size_t i = 0; i < N(starts); i++) {
		for (size_t j = 1; j < N(delays); j++) {
			uint64_t start = starts[i], exp = start + delays[j];
			struct wheel *w = wheel_new(start);
			struct rec r = { .w = w };
			struct tt x = { 0 };
			unsigned wakeups = 0;

			wheel_arm(w, &x.t, exp);
			while (!x.fired) {
				uint64_t to = wheel_timeout(w);

				REQ_GT(to, 0);
				REQ_LE(wheel_now(w) + to, exp);
				wheel_advance(w, wheel_now(w) + to, fire_record, &r);
				wakeups++;
			}
			REQ_EQ(x.fired_at, exp);
			/* one per level at most, plus the overflow list */
			REQ_LE(wakeups, 8);
			wheel_free(w);
		}
	}
}
END_TEST

START_TEST(test_far_future_and_end_of_time)
{
	struct wheel *w = wheel_new(5);
	struct rec r = { .w = w };
	struct tt a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	wheel_arm(w, &a.t, UINT64_MAX);
	wheel_arm(w, &b.t, UINT64_C(1) << 62);
	wheel_arm(w, &c.t, (UINT64_C(1) << 62) + (UINT64_C(1) << 37) + 3);
	wheel_arm(w, &d.t, 1000);
	REQ_LE(wheel_timeout(w), 995);
	REQ_EQ(wheel_advance(w, UINT64_C(1) << 61, fire_record, &r), 1);
	REQ_EQ(d.fired_at, 1000);
	REQ_EQ(wheel_advance(w, (UINT64_C(1) << 62) - 1, fire_record, &r), 0);
	REQ_EQ(wheel_advance(w, (UINT64_C(1) << 62) + (UINT64_C(1) << 37),
					fire_record, &r), 1);
	REQ_EQ(b.fired_at, UINT64_C(1) << 62);
	REQ_EQ(wheel_count(w), 2);
	REQ_EQ(wheel_advance(w, UINT64_MAX - 1, fire_record, &r), 1);
	REQ_EQ(c.fired_at, (UINT64_C(1) << 62) + (UINT64_C(1) << 37) + 3);
	REQ_EQ(wheel_timeout(w), 1);
	REQ_EQ(wheel_advance(w, UINT64_MAX, fire_record, &r), 1);
	REQ_EQ(a.fired_at, UINT64_MAX);
	REQ_EQ(wheel_count(w), 0);
	wheel_free(w);
}
END_TEST

START_TEST(test_past_and_backwards)
{
	struct wheel *w = wheel_new(1000);
	struct rec r = { .w = w };
	struct tt a = { 0 }, b = { 0 }, c = { 0 };

	wheel_arm(w, &a.t, 1000);
	wheel_arm(w, &b.t, 3);
	wheel_arm(w, &c.t, 1001);
	REQ_EQ(wheel_timeout(w), 0);
	/* an earlier `now` is ignored, but what was due fires */
	REQ_EQ(wheel_advance(w, 10, fire_record, &r), 2);
	REQ_EQ(wheel_now(w), 1000);
	REQ_EQ(a.fired_at, 1000);
	REQ_EQ(b.fired_at, 1000);
	REQ_EQ(c.fired, 0);
	REQ_EQ(wheel_timeout(w), 1);
	REQ_EQ(wheel_advance(w, 1001, fire_record, &r), 1);
	wheel_free(w);
}
END_TEST

/* ---- fire() callbacks that change the wheel ---- */

struct periodic {
	struct tt x;
	struct wheel *w;
	uint64_t period;
	unsigned limit;
};

static void fire_periodic(struct wheel_timer *t, void *ctx)
{
	struct periodic *p = container_of(t, struct periodic, x.t);

	REQ_EQ(wheel_now(p->w), t->expires);
	p->x.fired++;
	if (p->x.fired < p->limit)
		wheel_arm(p->w, t, wheel_now(p->w) + p->period);
}

START_TEST(test_rearm_periodic)
{
	struct wheel *w = wheel_new(0);
	struct periodic p = { .w = w, .period = 10, .limit = 1000000 };

	wheel_arm(w, &p.x.t, 10);
	REQ_EQ(wheel_advance(w, 1000, fire_periodic, NULL), 100);
	REQ_EQ(p.x.t.expires, 1010);
	REQ_EQ(wheel_count(w), 1);
	/* a long jump: one call fires every period, each at its time */
	REQ_EQ(wheel_advance(w, 1000 + 10 * 5000, fire_periodic, NULL), 5000);
	p.limit = p.x.fired + 3;
	REQ_EQ(wheel_advance(w, UINT64_C(1) << 40, fire_periodic, NULL), 3);
	REQ_EQ(wheel_count(w), 0);
	wheel_free(w);
}
END_TEST

struct self_now {
	struct tt x;
	struct wheel *w;
	uint64_t back;
};

static void fire_rearm_now(struct wheel_timer *t, void *ctx)
{
	struct self_now *s = container_of(t, struct self_now, x.t);

	s->x.fired++;
	wheel_arm(s->w, t, wheel_now(s->w) - s->back);
}

START_TEST(test_rearm_now_fires_next_call)
{
	for (uint64_t back = 0; back < 3; back++) {
		struct wheel *w = wheel_new(100);
		struct self_now s = { .w = w, .back = back };

		wheel_arm(w, &s.x.t, 150);
		REQ_EQ(wheel_advance(w, 200, fire_rearm_now, NULL), 1);
		REQ(wheel_timer_armed(&s.x.t));
		REQ_EQ(wheel_timeout(w), 0);
		REQ_EQ(wheel_advance(w, 200, fire_rearm_now, NULL), 1);
		REQ_EQ(wheel_advance(w, 300, fire_rearm_now, NULL), 1);
		REQ_EQ(s.x.fired, 3);
		REQ_EQ(wheel_count(w), 1);
		wheel_cancel(w, &s.x.t);
		REQ_EQ(wheel_count(w), 0);
		REQ_EQ(wheel_advance(w, 400, fire_rearm_now, NULL), 0);
		wheel_free(w);
	}
}
END_TEST

#define BATCH 16
struct batch {
	struct wheel *w;
	struct tt x[BATCH];
	unsigned fired;
	uint64_t later;
};

/* The first to fire cancels the odd ones and pushes the rest back. */
static void fire_cancel_others(struct wheel_timer *t, void *ctx)
{
	struct batch *b = ctx;
	struct tt *me = container_of(t, struct tt, t);

	me->fired++;
	me->fired_at = wheel_now(b->w);
	if (b->fired++)
		return;
	for (unsigned i = 0; i < BATCH; i++) {
		if (&b->x[i] == me)
			continue;
		if (i % 2)
			wheel_cancel(b->w, &b->x[i].t);
		else
			wheel_arm(b->w, &b->x[i].t, b->later);
	}
}

START_TEST(test_cancel_batch_members)
{
	/* level 0 batch, a cascaded batch, and one from the due list */
	static const uint64_t when[] = { 37, 64 * 64 * 3, 5000, 100 };

	for (size_t k = 0; k < N(when); k++) {
		struct wheel *w = wheel_new(100);
		struct batch b = { .w = w, .later = 1u << 20 };
		unsigned first = BATCH, n_even = 0;

		for (unsigned i = 0; i < BATCH; i++)
			wheel_arm(w, &b.x[i].t, when[k]);
		REQ_EQ(wheel_count(w), BATCH);
		REQ_EQ(wheel_advance(w, 1u << 19, fire_cancel_others, &b), 1);
		for (unsigned i = 0; i < BATCH; i++)
			if (b.x[i].fired)
				first = i;
		REQ_LT(first, BATCH);
		for (unsigned i = 0; i < BATCH; i++)
			if (i != first && i % 2 == 0)
				n_even++;
		REQ_EQ(wheel_count(w), n_even);
		REQ_EQ(wheel_advance(w, (1u << 20) - 1, fire_cancel_others, &b), 0);
		REQ_EQ(wheel_advance(w, 1u << 20, fire_cancel_others, &b), n_even);
		for (unsigned i = 0; i < BATCH; i++) {
			if (i == first)
				continue;
			REQ_EQ(b.x[i].fired, i % 2 ? 0 : 1);
			if (i % 2 == 0)
				REQ_EQ(b.x[i].fired_at, 1u << 20);
		}
		REQ_EQ(wheel_count(w), 0);
		wheel_free(w);
	}
}
END_TEST

/* ---- counts and identity ---- */

START_TEST(test_count)
{
	struct wheel *w = wheel_new(0);
	struct rec r = { .w = w };
	struct tt x[4] = { { .t = { 0 } } };

	REQ_EQ(wheel_count(w), 0);
	REQ_EQ(wheel_timeout(w), UINT64_MAX);
	wheel_cancel(w, &x[0].t);                   /* not armed: no-op */
	REQ_EQ(wheel_count(w), 0);
	wheel_arm(w, &x[0].t, 10);
	wheel_arm(w, &x[1].t, 10);
	wheel_arm(w, &x[2].t, 1u << 25);
	wheel_arm(w, &x[3].t, UINT64_C(1) << 45);
	REQ_EQ(wheel_count(w), 4);
	wheel_arm(w, &x[0].t, 20);               /* re-arm: same count */
	REQ_EQ(wheel_count(w), 4);
	wheel_cancel(w, &x[1].t);
	wheel_cancel(w, &x[1].t);
	REQ(!wheel_timer_armed(&x[1].t));
	REQ_EQ(wheel_count(w), 3);
	/* the slot of x[1] is empty again: the bound is x[0]'s */
	REQ_EQ(wheel_timeout(w), 20);
	REQ_EQ(wheel_advance(w, 20, fire_record, &r), 1);
	REQ_EQ(wheel_count(w), 2);
	wheel_cancel(w, &x[3].t);
	wheel_cancel(w, &x[2].t);
	REQ_EQ(wheel_count(w), 0);
	REQ_EQ(wheel_timeout(w), UINT64_MAX);
	REQ_EQ(wheel_advance(w, UINT64_C(1) << 50, fire_record, &r), 0);
	wheel_free(w);
	wheel_free(NULL);
}
END_TEST

START_TEST(test_many_wheels)
{
	enum { N = 100 };
	struct wheel *w[N];
	struct tt x[N];
	struct rec r = { 0 };

	/* wheels are independent objects: no process-wide limit or state */
	for (unsigned i = 0; i < N; i++) {
		w[i] = wheel_new(i);
		ck_assert_ptr_nonnull(w[i]);
		x[i] = (struct tt){ .idx = i };
		wheel_arm(w[i], &x[i].t, 1000 + i);
	}
	for (unsigned i = 0; i < N; i += 2)
		wheel_cancel(w[i], &x[i].t);
	for (unsigned i = 0; i < N; i++) {
		REQ_EQ(wheel_count(w[i]), i % 2);
		if (i % 2) {
			REQ_GT(wheel_timeout(w[i]), 0);
			REQ_LE(wheel_timeout(w[i]), 1000);
		} else {
			REQ_EQ(wheel_timeout(w[i]), UINT64_MAX);
		}
	}
	/* move a timer from one wheel to another: cancel on the old first */
	wheel_cancel(w[N - 1], &x[N - 1].t);
	wheel_arm(w[N - 2], &x[N - 1].t, 5000);
	REQ_EQ(wheel_count(w[N - 1]), 0);
	REQ_EQ(wheel_count(w[N - 2]), 1);
	r.w = w[N - 2];
	REQ_EQ(wheel_advance(w[N - 2], 5000, fire_record, &r), 1);
	REQ_EQ(x[N - 1].fired_at, 5000);
	for (unsigned i = 0; i < N; i++)
		wheel_free(w[i]);
}
END_TEST

/* ---- random operations against a naive model ---- */

#define MODEL_N 3000

struct model {
	struct wheel *w;
	struct tt x[MODEL_N];
	bool armed[MODEL_N];
	uint64_t expires[MODEL_N];
	bool due_next[MODEL_N];   /* armed from fire() at or before wheel_now() */
	uint64_t prev_now, target;
	uint64_t last_ordered;    /* last expiry fired outside the due phase */
	unsigned fired;
	bool quiet;               /* fire() leaves the wheel alone */
};

static struct model *M;

static uint64_t random_delay(void)
{
	switch (rnd_below(10)) {
	case 0:
		return 0;
	case 1: case 2: case 3:
		return rnd_below(100);
	case 4: case 5:
		return rnd_below(5000);
	case 6: case 7:
		return rnd_below(UINT64_C(1) << 22);
	case 8:
		return rnd_below(UINT64_C(1) << 32);
	default:
		return rnd_below(UINT64_C(1) << 40);
	}
}

static void model_arm(unsigned i, uint64_t exp, bool from_fire)
{
	wheel_arm(M->w, &M->x[i].t, exp);
	M->armed[i] = true;
	M->expires[i] = exp;
	M->due_next[i] = from_fire && exp <= wheel_now(M->w);
}

static void model_cancel(unsigned i)
{
	wheel_cancel(M->w, &M->x[i].t);
	M->armed[i] = false;
	M->due_next[i] = false;
}

static void fire_model(struct wheel_timer *t, void *ctx)
{
	struct tt *x = container_of(t, struct tt, t);
	unsigned i = x->idx;
	uint64_t now = wheel_now(M->w);

	REQ(M->armed[i]);
	REQ(!M->due_next[i]);
	REQ_EQ(t->expires, M->expires[i]);
	REQ_LE(M->expires[i], M->target);
	if (M->expires[i] <= M->prev_now) {
		/* due before the call: the due phase, before any other */
		REQ_EQ(now, M->prev_now);
		REQ_EQ(M->last_ordered, 0);
	} else {
		REQ_EQ(now, M->expires[i]);
		REQ_GE(now, M->last_ordered);
		M->last_ordered = now;
	}
	M->armed[i] = false;
	M->fired++;
	x->fired++;
	if (M->quiet)
		return;
	/* now change things from inside fire() */
	switch (rnd_below(8)) {
	case 0:   /* re-arm self, maybe for now or before */
		model_arm(i, now - rnd_below(now < 2 ? now + 1 : 3) + rnd_below(4), true);
		break;
	case 1:   /* re-arm self later */
		model_arm(i, now + 1 + random_delay(), true);
		break;
	case 2: { /* cancel a few others (likely some of this batch) */
		for (int k = 0; k < 3; k++)
			model_cancel((unsigned)rnd_below(MODEL_N));
		break;
	}
	case 3: { /* arm or re-arm another */
		unsigned j = (unsigned)rnd_below(MODEL_N);
		model_arm(j, now + random_delay() - (rnd_below(4) ? 0 : rnd_below(5) * (now > 5)),
			  true);
		break;
	}
	default:
		break;
	}
}

static void model_check(void)
{
	uint64_t now = wheel_now(M->w), min = UINT64_MAX;
	size_t count = 0;
	bool due = false;

	for (unsigned i = 0; i < MODEL_N; i++) {
		REQ(wheel_timer_armed(&M->x[i].t) == M->armed[i]);
		if (!M->armed[i])
			continue;
		count++;
		if (M->due_next[i] || M->expires[i] <= now)
			due = true;
		else if (M->expires[i] - now < min)
			min = M->expires[i] - now;
	}
	REQ_EQ(wheel_count(M->w), count);
	if (due)
		REQ_EQ(wheel_timeout(M->w), 0);
	else if (count)
		REQ_LE(wheel_timeout(M->w), min);
	else
		REQ_EQ(wheel_timeout(M->w), UINT64_MAX);
	if (!due && count)
		REQ_GT(wheel_timeout(M->w), 0);
}

static void model_advance(uint64_t target)
{
	size_t n;

	M->prev_now = wheel_now(M->w);
	M->target = target;
	M->last_ordered = 0;
	M->fired = 0;
	for (unsigned i = 0; i < MODEL_N; i++)
		M->due_next[i] = false;
	n = wheel_advance(M->w, target, fire_model, NULL);
	REQ_EQ(n, M->fired);
	REQ_EQ(wheel_now(M->w), target);
	/* nothing due by `target` was left behind, except timers armed from
	 * fire() at or before their wheel_now() */
	for (unsigned i = 0; i < MODEL_N; i++)
		if (M->armed[i] && !M->due_next[i])
			REQ_GT(M->expires[i], target);
	model_check();
}

static void run_model(unsigned preexisting, uint64_t seed, uint64_t start, unsigned rounds)
{
	struct wheel *dummies[64];
	uint64_t now = start;

	rng_state = seed;
	for (unsigned i = 0; i < preexisting; i++)
		dummies[i] = wheel_new(0);
	M = calloc(1, sizeof(*M));
	ck_assert_ptr_nonnull(M);
	M->w = wheel_new(start);
	ck_assert_ptr_nonnull(M->w);
	for (unsigned i = 0; i < MODEL_N; i++)
		M->x[i].idx = i;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned ops = (unsigned)rnd_below(200);

		for (unsigned k = 0; k < ops; k++) {
			unsigned i = (unsigned)rnd_below(MODEL_N);

			switch (rnd_below(4)) {
			case 0: case 1:
				model_arm(i, now + random_delay(), false);
				break;
			case 2:
				model_arm(i, now - rnd_below(now < 10 ? now + 1 : 10), false);
				break;
			default:
				model_cancel(i);
				break;
			}
		}
		model_check();
		switch (rnd_below(12)) {
		case 0:
			break;                              /* same time */
		case 1:
			now += UINT64_C(1) << (36 + rnd_below(8));   /* huge */
			break;
		case 2:
			now += rnd_below(UINT64_C(1) << 34);
			break;
		case 3: case 4:
			now += rnd_below(1u << 20);
			break;
		case 5:
			now += wheel_timeout(M->w) == UINT64_MAX ? 1 : wheel_timeout(M->w);
			break;
		default:
			now += rnd_below(300);
			break;
		}
		model_advance(now);
	}
	/* drain: everything left fires exactly */
	for (unsigned i = 0; i < MODEL_N; i++)
		if (M->armed[i] && M->expires[i] > UINT64_MAX - 100)
			model_cancel(i);
	model_advance(UINT64_MAX - 100);
	M->quiet = true;
	model_advance(UINT64_MAX - 100);
	REQ_EQ(wheel_count(M->w), 0);
	wheel_free(M->w);
	free(M);
	M = NULL;
	for (unsigned i = 0; i < preexisting; i++)
		wheel_free(dummies[i]);
}

/* Wheels numbered 0, 9 and 63 exercise every tag bit of the links. */
START_TEST(test_model_random)
{
	static const unsigned pre[] = { 0, 9, 63 };
	static const uint64_t start[] = { 0, UINT64_C(1) << 36, UINT64_C(0xfffffff00000) };

	run_model(pre[_i], 0x9e3779b97f4a7c15ull + (uint64_t)_i, start[_i], 1500);
}
END_TEST

/* ---- volume ---- */

#define BIG 100000

START_TEST(test_100k)
{
	struct tt *x = calloc(BIG, sizeof(*x));
	uint64_t *exp = calloc(BIG, sizeof(*exp));
	struct wheel *w = wheel_new(1000);
	struct rec r = { .w = w };
	uint64_t now = 1000;
	size_t fired = 0, cancelled = 0;

	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(exp);
	rng_state = 42;
	for (unsigned i = 0; i < BIG; i++) {
		exp[i] = 1000 + 1 + rnd_below(i % 10 ? 10000000 : UINT64_C(1) << 38);
		x[i].idx = i;
		wheel_arm(w, &x[i].t, exp[i]);
	}
	REQ_EQ(wheel_count(w), BIG);
	for (unsigned i = 0; i < BIG; i += 3) {
		wheel_cancel(w, &x[i].t);
		cancelled++;
	}
	REQ_EQ(wheel_count(w), BIG - cancelled);
	while (wheel_count(w)) {
		now += 1 + rnd_below(rnd_below(4) ? 5000 : UINT64_C(1) << 30);
		fired += wheel_advance(w, now, fire_record, &r);
	}
	REQ_EQ(fired, BIG - cancelled);
	for (unsigned i = 0; i < BIG; i++) {
		if (i % 3 == 0) {
			REQ_EQ(x[i].fired, 0);
		} else {
			REQ_EQ(x[i].fired, 1);
			REQ_EQ(x[i].fired_at, exp[i]);
		}
	}
	wheel_free(w);
	free(x);
	free(exp);
}
END_TEST

static Suite *wheel_suite(void)
{
	Suite *s = suite_create("wheel");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_exact_jump);
	tcase_add_test(tc, test_exact_steps);
	tcase_add_test(tc, test_timeout_sleep_loop);
	tcase_add_test(tc, test_far_future_and_end_of_time);
	tcase_add_test(tc, test_past_and_backwards);
	tcase_add_test(tc, test_rearm_periodic);
	tcase_add_test(tc, test_rearm_now_fires_next_call);
	tcase_add_test(tc, test_cancel_batch_members);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_many_wheels);
	tcase_add_loop_test(tc, test_model_random, 0, 3);
	tcase_add_test(tc, test_100k);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wheel_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
