/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Growable arrays, and sums and products that cannot wrap.
 *
 * An array is three fields its owner keeps: a pointer, a count and a
 * capacity (`struct sc_flow *flows; size_t nflows, cap_flows;`). vec_reserve()
 * makes room, doubling, with every size product checked; the owner appends
 * and frees with free(). The bound on how many there may be is the caller's,
 * stated where its input is read (a scenario's sections, a sweep's
 * candidates), not a fixed array size.
 *
 * sat_add() and sat_mul() saturate at UINT64_MAX instead of wrapping, so a
 * total of user values (start + ramp + cycles x (idle + deadline)) is either
 * exact or UINT64_MAX, which every limit check rejects.
 */
#ifndef IDLEGATE_VEC_H
#define IDLEGATE_VEC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Make *arrp (an array of elements of size bytes, capacity *cap) hold at
 * least need elements: grows to the larger of need and twice *cap (16 at
 * least), keeping the contents; the new slots are zeroed. arrp is the
 * address of the array pointer (a T ** passed as void *). Returns 0, or -1
 * with errno ENOMEM (out of memory, or need * size does not fit in size_t);
 * the array is then unchanged.
 */
int vec_reserve(void *arrp, size_t *cap, size_t need, size_t size);

/* a + b, or UINT64_MAX if that does not fit. */
static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* a * b, or UINT64_MAX if that does not fit. */
static inline uint64_t sat_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

#endif
