// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Growable arrays (see vec.h).
 */
#include "common/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VEC_MIN_CAP 16

int vec_reserve(void *arrp, size_t *cap, size_t need, size_t size)
{
	void *old, *p;
	size_t n, bytes;

	if (need <= *cap)
		return 0;
	n = *cap > SIZE_MAX / 2 ? need : *cap * 2;
	if (n < need)
		n = need;
	if (n < VEC_MIN_CAP)
		n = VEC_MIN_CAP;
	if (!size || __builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(&old, arrp, sizeof(old));
	p = realloc(old, bytes);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	memset((char *)p + *cap * size, 0, (n - *cap) * size);
	memcpy(arrp, &p, sizeof(p));
	*cap = n;
	return 0;
}
