// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The result model's few functions (see result.h): the timeline grows as the
 * runner reads events, and names for statuses and mark kinds that every
 * report writer spells the same way.
 */
#include <errno.h>
#include <stdlib.h>

#include "runner/model/result.h"

int result_mark(struct scenario_result *r, const struct tl_mark *m)
{
	if (r->nmarks == r->cap_marks) {
		size_t cap = r->cap_marks ? r->cap_marks * 2 : 64;
		struct tl_mark *p;

		if (cap > SIZE_MAX / sizeof(*p)) {
			errno = ENOMEM;
			return -1;
		}
		p = realloc(r->marks, cap * sizeof(*p));
		if (!p) {
			errno = ENOMEM;
			return -1;
		}
		r->marks = p;
		r->cap_marks = cap;
	}
	r->marks[r->nmarks++] = *m;
	return 0;
}

void result_clear(struct scenario_result *r)
{
	if (!r)
		return;
	free(r->marks);
	r->marks = NULL;
	r->nmarks = r->cap_marks = 0;
}

const char *res_status_name(enum res_status s)
{
	switch (s) {
	case RES_PASS: return "PASS";
	case RES_FAIL: return "FAIL";
	case RES_ERROR: return "ERROR";
	case RES_SKIP: return "SKIP";
	}
	return "?";
}

const char *tl_kind_name(enum tl_kind k)
{
	switch (k) {
	case TL_FLOW_NEW: return "flow-new";
	case TL_DATA: return "data";
	case TL_KEEPALIVE: return "keepalive";
	case TL_HEARTBEAT: return "heartbeat";
	case TL_DROP: return "drop";
	case TL_INJECT: return "inject";
	case TL_EXPIRE: return "expire";
	case TL_EVENT: return "event";
	case TL_IDLE_START: return "idle-start";
	case TL_OUTCOME: return "outcome";
	}
	return "?";
}
