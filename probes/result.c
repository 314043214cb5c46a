// SPDX-License-Identifier: GPL-2.0-or-later
/* Flow results: combination, JSON (built with jansson) and the table; see result.h. */
#include "probes/result.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/jsonio.h"

bool probe_side_end(struct probe_side *s, enum probe_outcome o, bool has_at, int64_t at_ms,
	      uint32_t cycle, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->outcome != OUT_NONE)
		return false;
	s->outcome = o;
	s->has_at = has_at;
	s->at_ms = has_at ? at_ms : 0;
	s->cycle = cycle;
	s->err = err;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
	return true;
}

enum probe_outcome probe_result_classify_errno(int err, bool kernel_timer)
{
	switch (err) {
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return OUT_RESET;
	case ETIMEDOUT:
		return kernel_timer ? OUT_KA_TIMEOUT : OUT_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
	case ECONNREFUSED:
	case ENOPROTOOPT:
	case EACCES:
	case EPERM:
		return OUT_UNREACHABLE;
	default:
		return OUT_ERROR;
	}
}

static bool is_failure(enum probe_outcome o)
{
	return o != OUT_NONE && o != OUT_ALIVE && o != OUT_REBOUND;
}

/* a before b? (cycle first, then time; "before the first idle" is cycle 0) */
static bool earlier(uint32_t ca, bool ha, int64_t ta, uint32_t cb, bool hb, int64_t tb)
{
	if (ca != cb)
		return ca < cb;
	if (ha && hb)
		return ta < tb;
	return ha && !hb ? false : !ha && hb;
}

void probe_result_combine(struct probe_flow_result *r)
{
	const struct probe_side *c = &r->client;
	const struct probe_remote *s = &r->server;
	bool cf = is_failure(c->outcome), sf = s->known && is_failure(s->outcome);

	r->outcome = c->outcome;
	r->noticed_by = "client";
	r->has_at = c->has_at;
	r->at_ms = c->at_ms;
	r->cycle = c->cycle;
	/* error and interrupted say the flow could not be measured: keep them */
	if (c->outcome == OUT_ERROR || c->outcome == OUT_INTERRUPTED) {
		sf = false;
	} else if (sf && (!cf || earlier(s->cycle, s->has_at, s->at_ms, c->cycle, c->has_at,
					   c->at_ms))) {
		r->outcome = s->outcome;
		r->noticed_by = "server";
		r->has_at = s->has_at;
		r->at_ms = s->at_ms;
		r->cycle = s->cycle;
	} else if (!cf && s->known && s->outcome == OUT_REBOUND && c->outcome != OUT_REBOUND) {
		r->outcome = OUT_REBOUND;
		r->noticed_by = "server";
		r->has_at = s->has_at;
		r->at_ms = s->at_ms;
		r->cycle = s->cycle;
	}
	if (r->outcome == OUT_ALIVE)
		r->noticed_by = NULL;
	if (r->plan.has_expect)
		r->met = r->outcome == r->plan.expect;
	else
		r->met = r->outcome != OUT_ERROR && r->outcome != OUT_INTERRUPTED &&
			 r->outcome != OUT_NONE;
}

void probe_result_clear(struct probe_flow_result *r)
{
	if (!r)
		return;
	json_decref(r->server.json);
	r->server.json = NULL;
}

static json_t *at_or_null(bool has, int64_t at)
{
	return has ? json_integer(at) : json_null();
}

static json_t *tcpinfo_json(const struct probe_tcpinfo *t)
{
	if (!t->valid)
		return json_null();
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "state", probe_sockopt_tcp_state_name(t->state),
			 "probes", (json_int_t)t->probes, "retransmits", (json_int_t)t->retransmits,
			 "backoff", (json_int_t)t->backoff, "total_retrans", (json_int_t)t->total_retrans,
			 "unacked", (json_int_t)t->unacked, "rtt_us", (json_int_t)t->rtt_us,
			 "rto_us", (json_int_t)t->rto_us,
			 "last_data_sent_ms", (json_int_t)t->last_data_sent_ms,
			 "last_data_recv_ms", (json_int_t)t->last_data_recv_ms,
			 "last_ack_recv_ms", (json_int_t)t->last_ack_recv_ms);
}

json_t *probe_result_side_json(const struct probe_side *s, const char *role, const json_t *extra)
{
	json_t *o = json_object();
	char ka[48];
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "role", jsonio_str(role));
	if (extra)
		rc |= json_object_update(o, (json_t *)extra);
	rc |= json_object_set_new(o, "outcome", jsonio_str(probe_outcome_name(s->outcome)));
	rc |= json_object_set_new(o, "at_ms", at_or_null(s->has_at, s->at_ms));
	rc |= json_object_set_new(o, "cycle", json_integer(s->cycle));
	rc |= json_object_set_new(o, "cycles_done", json_integer(s->cycles_done));
	rc |= json_object_set_new(o, "connected", json_boolean(s->connected));
	rc |= json_object_set_new(o, "errno", json_integer(s->err));
	rc |= json_object_set_new(o, "errno_name",
				  jsonio_str_or_null(s->err ? strerrorname_np(s->err) : NULL));
	rc |= json_object_set_new(o, "detail", jsonio_str_or_null(s->detail));
	rc |= json_object_set_new(o, "local", jsonio_str_or_null(s->local));
	rc |= json_object_set_new(o, "peer", jsonio_str_or_null(s->peer));
	rc |= json_object_set_new(o, "seen_as", jsonio_str_or_null(s->seen_as));
	rc |= json_object_set_new(o, "rebound_to", jsonio_str_or_null(s->rebound_to));
	rc |= json_object_set_new(o, "heartbeats", json_integer(s->heartbeats));
	rc |= json_object_set_new(o, "server_heartbeats", json_integer(s->server_heartbeats));
	rc |= json_object_set_new(o, "last_server_heartbeat_ms",
				  at_or_null(s->has_last_shb, s->last_shb_ms));
	if (s->tcp) {
		rc |= json_object_set_new(o, "keepalive",
					  jsonio_str_or_null(probe_plan_ka_format(&s->ka, ka, sizeof(ka))));
		rc |= json_object_set_new(o, "user_timeout_ms", json_integer(s->user_timeout_ms));
		rc |= json_object_set_new(o, "tcp_info_idle_end", tcpinfo_json(&s->ti_idle_end));
		rc |= json_object_set_new(o, "tcp_info", tcpinfo_json(&s->ti_end));
	}
	if (rc) {
		json_decref(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

json_t *probe_result_flow_json(const struct probe_flow_result *r)
{
	const struct probe_plan *p = &r->plan;
	json_t *o = json_object(), *plan;
	char id[24], ka[48], ska[48];
	int rc = 0;

	if (!o)
		return NULL;
	snprintf(id, sizeof(id), "%016" PRIx64, r->id);
	plan = json_pack("{s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:I,s:I}",
			 "family", p->family, "keepalive", probe_plan_ka_format(&p->ka, ka, sizeof(ka)),
			 "server_keepalive", probe_plan_ka_format(&p->server_ka, ska, sizeof(ska)),
			 "user_timeout_ms", (json_int_t)p->user_timeout_s * 1000,
			 "heartbeat_ms", (json_int_t)p->heartbeat_ms,
			 "server_heartbeat_ms", (json_int_t)p->server_heartbeat_ms,
			 "idle_ms", (json_int_t)p->idle_ms,
			 "speaker", p->speaker == PLAN_SPEAKER_SERVER ? "server" : "client",
			 "cycles", (json_int_t)p->cycles, "deadline_ms", (json_int_t)p->deadline_ms);
	rc |= json_object_set_new(o, "flow", jsonio_str(p->name));
	rc |= json_object_set_new(o, "id", json_string(id));
	rc |= json_object_set_new(o, "proto", json_string(p->proto == PLAN_UDP ? "udp" : "tcp"));
	rc |= json_object_set_new(o, "outcome", jsonio_str(probe_outcome_name(r->outcome)));
	rc |= json_object_set_new(o, "expect",
				  jsonio_str_or_null(p->has_expect ? probe_outcome_name(p->expect) : NULL));
	rc |= json_object_set_new(o, "met", json_boolean(r->met));
	rc |= json_object_set_new(o, "noticed_by", jsonio_str_or_null(r->noticed_by));
	rc |= json_object_set_new(o, "at_ms", at_or_null(r->has_at, r->at_ms));
	rc |= json_object_set_new(o, "cycle", json_integer(r->cycle));
	rc |= json_object_set_new(o, "plan", plan);
	rc |= json_object_set_new(o, "client", probe_result_side_json(&r->client, "client", NULL));
	rc |= json_object_set_new(o, "server_reachable", json_boolean(r->server.known));
	rc |= json_object_set_new(o, "server_error",
				  jsonio_str_or_null(r->server.known ? NULL : r->server.error));
	rc |= json_object_set(o, "server", r->server.known && r->server.json ? r->server.json
									     : json_null());
	if (rc) {
		json_decref(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

void probe_result_table(FILE *f, const struct probe_flow_result *r, size_t n)
{
	fprintf(f, "%-16s %-5s %-18s %-18s %-4s %-7s %10s %-6s  %s\n", "FLOW", "PROTO", "OUTCOME",
		"EXPECT", "MET", "SEEN-BY", "AT", "CYCLE", "DETAIL");
	for (size_t i = 0; i < n; i++) {
		const struct probe_flow_result *x = &r[i];
		char at[32], cyc[24];
		const char *detail = x->client.detail;

		if (x->has_at) {
			at[0] = x->at_ms < 0 ? '-' : '+';
			duration_format(x->at_ms < 0 ? 0 - (uint64_t)x->at_ms : (uint64_t)x->at_ms, at + 1,
					sizeof(at) - 1);
		} else
			snprintf(at, sizeof(at), "-");
		snprintf(cyc, sizeof(cyc), "%u/%u", x->client.cycles_done, x->plan.cycles);
		char buf[192];

		if (x->noticed_by && !strcmp(x->noticed_by, "server")) {
			snprintf(buf, sizeof(buf), "server saw %s first; client: %s",
				 probe_outcome_name(x->server.outcome), x->client.detail);
			detail = buf;
		} else if (!x->server.known && x->outcome != OUT_ERROR && x->server.error[0]) {
			snprintf(buf, sizeof(buf), "%s [%s]", x->client.detail, x->server.error);
			detail = buf;
		}
		fprintf(f, "%-16s %-5s %-18s %-18s %-4s %-7s %10s %-6s  %s\n", x->plan.name,
			x->plan.proto == PLAN_UDP ? "udp" : "tcp", probe_outcome_name(x->outcome),
			x->plan.has_expect ? probe_outcome_name(x->plan.expect) : "-",
			x->plan.has_expect ? (x->met ? "yes" : "NO") : "-",
			x->noticed_by ? x->noticed_by : "-", at, cyc, detail);
	}
}
