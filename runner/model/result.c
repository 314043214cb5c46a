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

/* As a scenario file would say it: seconds below 1000 s ("400s", not
 * "6m40s"), else the compact form. */
static char *fmt(uint64_t ms, char *buf, size_t len)
{
	if (ms % 1000 == 0 && ms < 1000000) {
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
		return buf;
	}
	return duration_format(ms, buf, len);
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
			APPEND(" keepalive %s,%s,%u", fmt(f->ka_idle.ms, a, sizeof(a)),
			       fmt(f->ka_intvl.ms, b, sizeof(b)), f->ka_count);
		if (f->user_timeout.ms)
			APPEND(" user-timeout %s", fmt(f->user_timeout.ms, a, sizeof(a)));
	}
	if (f->heartbeat.ms)
		APPEND(" heartbeat %s", fmt(f->heartbeat.ms, a, sizeof(a)));
	if (f->server_heartbeat.ms)
		APPEND(" server-heartbeat %s", fmt(f->server_heartbeat.ms, a, sizeof(a)));
	if (f->warmup.ms)
		APPEND(" warmup %s", fmt(f->warmup.ms, a, sizeof(a)));
	if (f->start.ms)
		APPEND(" start %s", fmt(f->start.ms, a, sizeof(a)));
	if (f->ramp.ms)
		APPEND(" ramp %s", fmt(f->ramp.ms, a, sizeof(a)));
	if (f->command[0]) {
		APPEND(" command %s", f->command);
	} else {
		APPEND(" idle %s speaker %s", fmt(f->idle.ms, a, sizeof(a)),
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

void result_init_error(struct scenario_result *r, const struct scenario *sc, const char *why)
{
	memset(r, 0, sizeof(*r));
	r->sc = sc;
	r->nflows = sc->nflows;
	r->status = RES_ERROR;
	for (size_t i = 0; i < sc->nflows; i++) {
		struct flow_result *fr = &r->flows[i];

		fr->flow = (int)i;
		fr->status = RES_ERROR;
		fr->noticed_ms = fr->expired_ms = fr->last_server_heartbeat_ms = -1;
		fr->recreated_ms = fr->last_expired_ms = -1;
		sc_expect_format(&sc->flows[i], fr->expected, sizeof(fr->expected));
		fr->count = sc->flows[i].count;
		result_flow_settings(sc, &sc->flows[i], fr->settings, sizeof(fr->settings));
		snprintf(fr->error, sizeof(fr->error), "%s", why);
	}
}
