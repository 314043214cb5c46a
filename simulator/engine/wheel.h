/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A hierarchical timing wheel with millisecond resolution (after
 * wahern/timeout and the Linux timer wheel): arm and cancel are O(1),
 * advancing costs O(1) per timer fired or cascaded. Timers are intrusive:
 * struct wheel_timer lives inside the caller's object and container_of()
 * gets back to it. Time is always passed in.
 */
#ifndef IDLEGATE_WHEEL_H
#define IDLEGATE_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

struct wheel_timer {
	struct wheel_timer *next, **pprev;   /* pprev == NULL: not armed */
	uint64_t expires;                     /* absolute ms */
};

struct wheel;

/* A new wheel whose current time is `now`. Returns NULL with errno ENOMEM. */
struct wheel *wheel_new(uint64_t now);
/* Frees the wheel (armed timers are simply forgotten). Accepts NULL. */
void wheel_free(struct wheel *w);

/* Zero a timer before first use (or use {0}). */
static inline void wheel_timer_init(struct wheel_timer *t)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
}
static inline bool wheel_timer_armed(const struct wheel_timer *t)
{
	return t->pprev != NULL;
}

/* Arm (or re-arm) t on w to fire at `expires` (absolute ms); t must not be
 * armed on another wheel. A time at or before the wheel's current time fires
 * at the next wheel_advance(). */
void wheel_arm(struct wheel *w, struct wheel_timer *t, uint64_t expires);
/* Disarm t, if armed; t must be armed on w or not at all. */
void wheel_cancel(struct wheel *w, struct wheel_timer *t);

/*
 * Move the wheel's time to `now` and call fire(t, ctx) for every timer whose
 * expiry is <= now, in no particular order within the same millisecond but
 * never before its time. The timer is disarmed before fire() is called;
 * fire() may re-arm it or arm/cancel other timers (a cancelled timer does
 * not fire). Timers already due at the wheel's previous time fire first,
 * with wheel_now() unchanged; the others fire in order of expiry, with
 * wheel_now() equal to their expiry. A timer armed from fire() for later
 * than wheel_now() fires in this same call if due by `now`; one armed for
 * wheel_now() or earlier fires in the next call.
 * Returns the number of timers fired. `now` earlier than the wheel's time
 * is ignored.
 */
size_t wheel_advance(struct wheel *w, uint64_t now,
		     void (*fire)(struct wheel_timer *t, void *ctx), void *ctx);

/* The wheel's current time, and the number of armed timers. */
uint64_t wheel_now(const struct wheel *w);
size_t wheel_count(const struct wheel *w);
/* Milliseconds until the earliest armed timer could fire (an upper bound
 * on how long a caller may sleep), or UINT64_MAX if none is armed. */
uint64_t wheel_timeout(const struct wheel *w);

#endif
