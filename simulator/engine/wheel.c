// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hierarchical timing wheel; see wheel.h.
 *
 * Six levels of 64 slots cover 2^36 ms (about 2.2 years) ahead of the
 * wheel's time; later timers wait on an overflow list. A timer whose expiry
 * first differs from the wheel's time in bit b lives on level b / 6, in the
 * slot given by its expiry's digit on that level (as in wahern/timeout).
 * Invariant: every timer on level L shares the wheel's time above level L,
 * and its slot is greater than the time's digit on level L. Hence the
 * lowest level with a pending bit holds the next slot to visit, and the
 * lowest bit of that level's bitmap says which: wheel_advance() jumps from
 * slot to slot, whatever the distance, firing level-0 slots and cascading
 * higher ones (each timer moves down at most five times). Overflow timers
 * are in a later 2^36 ms block than the wheel's time; once the levels are
 * empty, the wheel jumps to the block of the earliest of them and sorts the
 * overflow list again, so each overflow timer is looked at once per block
 * that holds an overflow expiry, not once per 2^36 ms.
 */
#include "simulator/engine/wheel.h"

#include <stdlib.h>

#define WHEEL_BITS 6
#define WHEEL_SLOTS (1u << WHEEL_BITS)
#define WHEEL_LEVELS 6
#define WHEEL_RANGE_BITS (WHEEL_BITS * WHEEL_LEVELS)   /* 36 */

struct wheel {
	uint64_t now;
	size_t count;
	uint64_t pending[WHEEL_LEVELS];
	struct wheel_timer *slot[WHEEL_LEVELS][WHEEL_SLOTS];
	struct wheel_timer *overflow;   /* beyond the levels' range */
	uint64_t overflow_min;          /* <= every overflow expiry (stale after cancel) */
	struct wheel_timer *due;        /* expires <= now: fire at the next advance */
	struct wheel_timer *batch;      /* being fired or cascaded right now */
};

static inline bool list_empty(struct wheel_timer *const *head)
{
	return *head == NULL;
}

static void list_push(struct wheel_timer **head, struct wheel_timer *t)
{
	struct wheel_timer *first = *head;

	t->next = *head;
	t->pprev = head;
	if (first)
		first->pprev = &t->next;
	*head = t;
}

static void list_unlink(struct wheel_timer *t)
{
	struct wheel_timer **pp = t->pprev;
	struct wheel_timer *next = t->next;

	*pp = t->next;
	if (next)
		next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

/* Move the whole list at *from (non-empty) to the empty list at *to. */
static void list_move(struct wheel_timer **from, struct wheel_timer **to)
{
	*to = *from;
	(*to)->pprev = to;
	*from = NULL;
}

static inline unsigned level_shift(unsigned level)
{
	return level * WHEEL_BITS;
}

/* The time bits above `level` (the block that level's slots subdivide). */
static inline uint64_t above_level(uint64_t t, unsigned level)
{
	return t & ~((UINT64_C(1) << level_shift(level + 1)) - 1);
}

static void place(struct wheel *w, struct wheel_timer *t)
{
	uint64_t diff;
	unsigned level, s;

	if (t->expires <= w->now) {
		list_push(&w->due, t);
		return;
	}
	diff = t->expires ^ w->now;
	level = (unsigned)(63 - __builtin_clzll(diff)) / WHEEL_BITS;
	if (level >= WHEEL_LEVELS) {
		list_push(&w->overflow, t);
		if (t->expires < w->overflow_min)
			w->overflow_min = t->expires;
		return;
	}
	s = (unsigned)(t->expires >> level_shift(level)) & (WHEEL_SLOTS - 1);
	list_push(&w->slot[level][s], t);
	w->pending[level] |= UINT64_C(1) << s;
}

struct wheel *wheel_new(uint64_t now)
{
	struct wheel *w = calloc(1, sizeof(*w));
	unsigned l, s;

	if (!w)
		return NULL;
	w->now = now;
	for (l = 0; l < WHEEL_LEVELS; l++)
		for (s = 0; s < WHEEL_SLOTS; s++)
			w->slot[l][s] = NULL;
	w->overflow = w->due = w->batch = NULL;
	w->overflow_min = UINT64_MAX;
	return w;
}

void wheel_free(struct wheel *w)
{
	free(w);
}

void wheel_cancel(struct wheel *w, struct wheel_timer *t)
{
	struct wheel_timer **pp;
	uintptr_t first, last, p;

	if (!t->pprev)
		return;
	pp = t->pprev;
	list_unlink(t);
	w->count--;
	/* Only a slot's first timer has pprev pointing into the slot array;
	 * if it was also the last, the slot's pending bit goes. */
	p = (uintptr_t)pp;
	first = (uintptr_t)&w->slot[0][0];
	last = (uintptr_t)&w->slot[WHEEL_LEVELS - 1][WHEEL_SLOTS - 1];
	if (p >= first && p <= last && list_empty(pp)) {
		size_t i = (p - first) / sizeof(w->slot[0][0]);

		w->pending[i / WHEEL_SLOTS] &= ~(UINT64_C(1) << (i % WHEEL_SLOTS));
	}
}

void wheel_arm(struct wheel *w, struct wheel_timer *t, uint64_t expires)
{
	wheel_cancel(w, t);
	t->expires = expires;
	place(w, t);
	w->count++;
}

/* Fire or cascade every timer on the batch list, at the wheel's time. */
static size_t run_batch(struct wheel *w,
			void (*fire)(struct wheel_timer *t, void *ctx), void *ctx)
{
	struct wheel_timer *t;
	size_t n = 0;

	/* Always take the head: fire() may cancel or re-arm any other member. */
	while ((t = w->batch) != NULL) {
		list_unlink(t);
		if (t->expires <= w->now) {
			w->count--;
			n++;
			fire(t, ctx);
		} else {
			place(w, t);
		}
	}
	return n;
}

/* The lowest level with a pending slot, or WHEEL_LEVELS if none. */
static unsigned next_level(const struct wheel *w)
{
	unsigned l;

	for (l = 0; l < WHEEL_LEVELS; l++)
		if (w->pending[l])
			break;
	return l;
}

static uint64_t slot_start(const struct wheel *w, unsigned level)
{
	unsigned s = (unsigned)__builtin_ctzll(w->pending[level]);

	return above_level(w->now, level) | ((uint64_t)s << level_shift(level));
}

size_t wheel_advance(struct wheel *w, uint64_t now,
		     void (*fire)(struct wheel_timer *t, void *ctx), void *ctx)
{
	size_t fired = 0;

	if (now < w->now)
		now = w->now;
	/* Timers armed at or before the wheel's time, from outside or from an
	 * earlier fire(); whatever fire() arms that way now waits for the
	 * next call. */
	if (!list_empty(&w->due)) {
		list_move(&w->due, &w->batch);
		fired += run_batch(w, fire, ctx);
	}
	for (;;) {
		unsigned level = next_level(w);

		if (level < WHEEL_LEVELS) {
			uint64_t at = slot_start(w, level);
			unsigned s;

			if (at > now)
				break;
			/* Every lower level is empty, so nothing is skipped. */
			w->now = at;
			s = (unsigned)(at >> level_shift(level)) & (WHEEL_SLOTS - 1);
			w->pending[level] &= ~(UINT64_C(1) << s);
			list_move(&w->slot[level][s], &w->batch);
		} else if (!list_empty(&w->overflow)) {
			/* All levels are empty: jump straight to the 2^36 ms block
			 * of the earliest overflow timer (or of a cancelled one,
			 * which costs one extra pass) and sort the list again. */
			uint64_t at = w->overflow_min &
				~((UINT64_C(1) << WHEEL_RANGE_BITS) - 1);

			if (at > now)
				break;
			w->now = at;
			w->overflow_min = UINT64_MAX;
			list_move(&w->overflow, &w->batch);
		} else {
			break;
		}
		fired += run_batch(w, fire, ctx);
	}
	w->now = now;
	return fired;
}

uint64_t wheel_now(const struct wheel *w)
{
	return w->now;
}

size_t wheel_count(const struct wheel *w)
{
	return w->count;
}

uint64_t wheel_timeout(const struct wheel *w)
{
	unsigned level;

	if (!list_empty(&w->due) || !list_empty(&w->batch))
		return 0;
	level = next_level(w);
	if (level < WHEEL_LEVELS)
		return slot_start(w, level) - w->now;
	if (!list_empty(&w->overflow))
		return w->overflow_min - w->now;
	return UINT64_MAX;
}
