// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The result model's few functions (see result.h): the timeline grows as the
 * runner reads events, names for statuses and mark kinds that every report
 * writer spells the same way, a flow's settings in words, and the result of
 * a scenario that could not run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/vec.h"

#include "runner/model/result.h"

int result_mark(struct scenario_result *r, const struct tl_mark *m)
{
	if (vec_reserve(&r->marks, &r->cap_marks, r->nmarks + 1, sizeof(*r->marks)) < 0)
		return -1;
	r->marks[r->nmarks++] = *m;
	return 0;
}

struct flow_result *result_flow_add(struct scenario_result *r)
{
	if (vec_reserve(&r->flows, &r->cap_flows, r->nflows + 1, sizeof(*r->flows)) < 0)
		return NULL;
	return memset(&r->flows[r->nflows++], 0, sizeof(*r->flows));
}

int result_group_point(struct scenario_result *r, int flow, uint64_t t_ms, int kind)
{
	if (vec_reserve(&r->points, &r->cap_points, r->npoints + 1, sizeof(*r->points)) < 0)
		return -1;
	r->points[r->npoints++] = (struct group_point){ .t_ms = t_ms, .flow = flow, .kind = kind };
	return 0;
}

const char *group_kind_name(int kind)
{
	if (kind >= 0 && kind < SC_EXPECT_N)
		return sc_expect_name((enum sc_expect)kind);
	if (kind == GROUP_UNREPORTED)
		return "unreported";
	return kind == GROUP_EXPIRED ? "expired" : "not-run";
}

uint32_t result_group_ended(const struct flow_result *fr, int kind)
{
	if (kind >= 0 && kind < SC_EXPECT_N)
		return fr->tally[kind];
	return kind == GROUP_OTHER ? fr->other : kind == GROUP_UNREPORTED ? fr->unreported : 0;
}

void result_clear(struct scenario_result *r)
{
	if (!r)
		return;
	free(r->marks);
	r->marks = NULL;
	r->nmarks = r->cap_marks = 0;
	free(r->flows);
	r->flows = NULL;
	r->nflows = r->cap_flows = 0;
	free(r->points);
	r->points = NULL;
	r->npoints = r->cap_points = 0;
}

/* Is the string field s (size bytes) terminated? */
#define TERMINATED(s) (memchr((s), '\0', sizeof(s)) != NULL)

static bool flow_result_ok(const struct flow_result *f, const struct scenario *sc)
{
	return f->flow >= 0 && (size_t)f->flow < sc->nflows && (unsigned)f->status <= RES_SKIP &&
	       TERMINATED(f->expected) && TERMINATED(f->observed) && TERMINATED(f->evidence) &&
	       TERMINATED(f->error) && TERMINATED(f->noticed_by) && TERMINATED(f->settings);
}

static bool point_ok(const struct group_point *p, const struct scenario *sc)
{
	return p->flow >= 0 && (size_t)p->flow < sc->nflows && p->kind >= 0 && p->kind < GROUP_KINDS;
}

static bool mark_ok(const struct tl_mark *m, const struct scenario *sc)
{
	return (unsigned)m->kind <= TL_OUTCOME && m->flow >= -1 && (m->flow < 0 || (size_t)m->flow < sc->nflows) &&
	       m->middlebox >= -1 && (m->middlebox < 0 || (size_t)m->middlebox < sc->nmb) &&
	       m->dir >= -1 && m->dir <= 1 && TERMINATED(m->detail);
}

int result_check(const struct scenario_result *r, const struct scenario *sc, char *err, size_t errlen)
{
	const char *why = NULL;

	if ((unsigned)r->status > RES_SKIP || !TERMINATED(r->error))
		why = "a garbled scenario status";
	else if (r->nflows > sc->nflows)
		why = "more flow results than the scenario has flows";
	for (size_t i = 0; !why && i < r->nflows; i++)
		if (!flow_result_ok(&r->flows[i], sc))
			why = "a garbled flow result";
	for (size_t i = 0; !why && i < r->nmarks; i++)
		if (!mark_ok(&r->marks[i], sc))
			why = "a garbled timeline mark";
	for (size_t i = 0; !why && i < r->npoints; i++)
		if (!point_ok(&r->points[i], sc))
			why = "a garbled group point";
	if (!why)
		return 0;
	snprintf(err, errlen, "%s", why);
	errno = EBADMSG;
	return -1;
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

#define APPEND(...) do { \
	if (o < len) \
		o += (size_t)snprintf(buf + o, len - o, __VA_ARGS__); \
} while (0)

void result_flow_settings(const struct scenario *sc, const struct sc_flow *f, char *buf, size_t len)
{
	char a[32], b[32];
	size_t o = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (f->count > 1)
		APPEND("%u x ", f->count);
	APPEND("%s", sc_proto_name(f->proto));
	if (f->family == SC_IPV6)
		APPEND(" %s", sc_family_name(f->family));
	/* a command's keepalive is the program's own, not idlegate's */
	if (f->proto == SC_TCP && !f->command[0]) {
		if (f->keepalive == SC_KA_OFF)
			APPEND(" keepalive off");
		else if (f->keepalive == SC_KA_KERNEL_DEFAULT)
			APPEND(" keepalive kernel-default");
		else
			APPEND(" keepalive %s,%s,%u", duration_format(f->ka_idle.ms, a, sizeof(a)),
			       duration_format(f->ka_intvl.ms, b, sizeof(b)), f->ka_count);
		if (f->user_timeout.ms)
			APPEND(" user-timeout %s", duration_format(f->user_timeout.ms, a, sizeof(a)));
	}
	if (f->heartbeat.ms)
		APPEND(" heartbeat %s", duration_format(f->heartbeat.ms, a, sizeof(a)));
	if (f->server_heartbeat.ms)
		APPEND(" server-heartbeat %s", duration_format(f->server_heartbeat.ms, a, sizeof(a)));
	if (f->warmup.ms)
		APPEND(" warmup %s", duration_format(f->warmup.ms, a, sizeof(a)));
	if (f->start.ms)
		APPEND(" start %s", duration_format(f->start.ms, a, sizeof(a)));
	if (f->ramp.ms)
		APPEND(" ramp %s", duration_format(f->ramp.ms, a, sizeof(a)));
	if (f->command[0]) {
		APPEND(" command %s", f->command);
	} else {
		APPEND(" idle %s speaker %s", duration_format(f->idle.ms, a, sizeof(a)),
		       sc_speaker_name(f->speaker));
		if (f->cycles > 1)
			APPEND(" cycles %u", f->cycles);
	}
	if (sc && f->npath > 1) {
		APPEND(" via");
		for (size_t i = 0; i < f->npath; i++)
			if (f->path[i] >= 0 && (size_t)f->path[i] < sc->nmb)
				APPEND(" %s", sc->mb[f->path[i]].name);
	}
}

int result_init_error(struct scenario_result *r, const struct scenario *sc, const char *why)
{
	result_clear(r);
	memset(r, 0, sizeof(*r));
	r->sc = sc;
	r->status = RES_ERROR;
	for (size_t i = 0; i < sc->nflows; i++) {
		struct flow_result *fr = result_flow_add(r);

		if (!fr) {
			result_clear(r);
			snprintf(r->error, sizeof(r->error), "out of memory");
			return -1;
		}
		fr->flow = (int)i;
		fr->status = RES_ERROR;
		fr->noticed_ms = fr->expired_ms = fr->last_server_heartbeat_ms = -1;
		fr->recreated_ms = fr->last_expired_ms = -1;
		sc_expect_format(&sc->flows[i], fr->expected, sizeof(fr->expected));
		fr->count = sc->flows[i].count;
		result_flow_settings(sc, &sc->flows[i], fr->settings, sizeof(fr->settings));
		snprintf(fr->error, sizeof(fr->error), "%s", why);
	}
	return 0;
}
