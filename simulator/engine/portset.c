// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Free outside ports: a three-level bitmap (65,536 bits, 1,024 words, 16
 * words, 1 word; a bit above is set when its word below has any bit set)
 * and a FIFO of held ports. See portset.h.
 */
#include "simulator/engine/portset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define L0_WORDS 1024
#define L1_WORDS 16

struct portset {
	uint64_t l0[L0_WORDS];
	uint64_t l1[L1_WORDS];
	uint64_t l2;
	uint16_t lo, hi;
	uint32_t nfree;
	uint64_t hold;
	/* the hold FIFO: a ring of (port, usable-from) in release order */
	uint16_t *hold_port;
	uint64_t *hold_until;
	uint32_t cap, head, len;
};

static void bit_set(struct portset *ps, uint32_t p)
{
	uint32_t w = p >> 6;

	ps->l0[w] |= 1ull << (p & 63);
	ps->l1[w >> 6] |= 1ull << (w & 63);
	ps->l2 |= 1ull << (w >> 6);
	ps->nfree++;
}

static void bit_clear(struct portset *ps, uint32_t p)
{
	uint32_t w = p >> 6;

	ps->l0[w] &= ~(1ull << (p & 63));
	if (!ps->l0[w]) {
		ps->l1[w >> 6] &= ~(1ull << (w & 63));
		if (!ps->l1[w >> 6])
			ps->l2 &= ~(1ull << (w >> 6));
	}
	ps->nfree--;
}

/* The lowest set bit of word v at or above bit b, or -1. */
static int lowest_from(uint64_t v, uint32_t b)
{
	if (b >= 64)
		return -1;
	v &= ~0ull << b;
	return v ? __builtin_ctzll(v) : -1;
}

/* The first set bit at or after p (no wrap), or -1. At most one word per
 * level is read on the way up and one on the way down. */
static int32_t find_from(const struct portset *ps, uint32_t p)
{
	uint32_t w = p >> 6;
	int b = lowest_from(ps->l0[w], p & 63);
	int32_t w1;

	if (b >= 0)
		return (int32_t)(w << 6 | (uint32_t)b);
	/* the next non-empty l0 word after w */
	w1 = (int32_t)w + 1;
	if (w1 >= L0_WORDS)
		return -1;
	b = lowest_from(ps->l1[w1 >> 6], (uint32_t)w1 & 63);
	if (b < 0) {
		int b2 = lowest_from(ps->l2, (uint32_t)(w1 >> 6) + 1);
		if (b2 < 0)
			return -1;
		w1 = b2 << 6 | __builtin_ctzll(ps->l1[b2]);
	} else {
		w1 = (w1 & ~63) | b;
	}
	return w1 << 6 | __builtin_ctzll(ps->l0[w1]);
}

struct portset *portset_new(uint16_t lo, uint16_t hi, uint64_t hold)
{
	struct portset *ps;

	if (lo == 0 || lo > hi) {
		errno = EINVAL;
		return NULL;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		goto nomem;
	ps->lo = lo;
	ps->hi = hi;
	ps->hold = hold;
	ps->cap = (uint32_t)hi - lo + 1;
	if (hold) {
		ps->hold_port = calloc(ps->cap, sizeof(*ps->hold_port));
		ps->hold_until = calloc(ps->cap, sizeof(*ps->hold_until));
		if (!ps->hold_port || !ps->hold_until)
			goto nomem;
	}
	for (uint32_t p = lo; p <= hi; p++)
		bit_set(ps, p);
	return ps;
nomem:
	portset_free(ps);
	errno = ENOMEM;
	return NULL;
}

void portset_free(struct portset *ps)
{
	if (!ps)
		return;
	free(ps->hold_port);
	free(ps->hold_until);
	free(ps);
}

void portset_tick(struct portset *ps, uint64_t now)
{
	while (ps->len && ps->hold_until[ps->head] <= now) {
		bit_set(ps, ps->hold_port[ps->head]);
		ps->head = (ps->head + 1) % ps->cap;
		ps->len--;
	}
}

bool portset_usable(const struct portset *ps, uint16_t port)
{
	return port >= ps->lo && port <= ps->hi && (ps->l0[port >> 6] >> (port & 63) & 1);
}

uint16_t portset_next(const struct portset *ps, uint16_t from)
{
	int32_t p;

	if (from < ps->lo || from > ps->hi)
		from = ps->lo;
	p = find_from(ps, from);
	if ((p < 0 || p > ps->hi) && from > ps->lo)
		p = find_from(ps, ps->lo);
	return p < 0 || p > ps->hi ? 0 : (uint16_t)p;
}

void portset_take(struct portset *ps, uint16_t port)
{
	if (portset_usable(ps, port))
		bit_clear(ps, port);
}

void portset_release(struct portset *ps, uint16_t port, uint64_t now)
{
	if (port < ps->lo || port > ps->hi || portset_usable(ps, port))
		return;
	if (!ps->hold) {
		bit_set(ps, port);
		return;
	}
	/* a port is held at most once at a time, so the ring never overflows */
	uint32_t tail = (ps->head + ps->len) % ps->cap;
	uint64_t until = now + ps->hold;

	/* keep the ring in time order: a release stamped earlier than the
	 * last one (a timer that ran late) waits as long as that one */
	if (ps->len) {
		uint64_t last = ps->hold_until[(tail + ps->cap - 1) % ps->cap];
		if (until < last)
			until = last;
	}
	ps->hold_port[tail] = port;
	ps->hold_until[tail] = until;
	ps->len++;
}

void portset_unhold(struct portset *ps)
{
	portset_tick(ps, UINT64_MAX);
}

uint32_t portset_count(const struct portset *ps)
{
	return ps->nfree;
}

uint32_t portset_held(const struct portset *ps)
{
	return ps->len;
}

size_t portset_memory(const struct portset *ps)
{
	return sizeof(*ps) + (ps->hold ? (size_t)ps->cap * (sizeof(uint16_t) + sizeof(uint64_t)) : 0);
}
