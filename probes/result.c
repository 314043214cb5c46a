// SPDX-License-Identifier: GPL-2.0-or-later
/* Flow results: combination, JSON lines and the table; see result.h. */
#include "probes/result.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"

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
	free(r->server.json);
	r->server.json = NULL;
}

/* A bounded string builder; overflow is sticky and reported at the end. */
struct jb {
	char *buf;
	size_t len, off;
	bool over;
};

static void jb_printf(struct jb *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jb_printf(struct jb *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->off, j->len - j->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->len - j->off) {
		j->over = true;
		return;
	}
	j->off += (size_t)n;
}

static void jb_str(struct jb *j, const char *s)
{
	int n;

	if (j->over)
		return;
	if (!s) {
		jb_printf(j, "null");
		return;
	}
	n = probe_result_json_string(s, j->buf + j->off, j->len - j->off);
	if (n < 0)
		j->over = true;
	else
		j->off += (size_t)n;
}

/* "key":"value" or "key":null for an empty string */
static void jb_kstr(struct jb *j, const char *key, const char *v, bool comma)
{
	jb_printf(j, "\"%s\":", key);
	jb_str(j, v && *v ? v : NULL);
	if (comma)
		jb_printf(j, ",");
}

static int jb_done(struct jb *j)
{
	if (j->over) {
		errno = ENOSPC;
		return -1;
	}
	return (int)j->off;
}

int probe_result_json_string(const char *s, char *buf, size_t len)
{
	size_t o = 0;

#define PUT(c)                              \
	do {                                \
		if (o + 1 >= len)           \
			goto nospc;         \
		buf[o++] = (c);             \
	} while (0)
	PUT('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20 || c > 0x7e) {
			/* reports stay printable ASCII (they travel in RESULT lines) */
			char hex[8];
			snprintf(hex, sizeof(hex), "\\u%04x", c);
			for (char *h = hex; *h; h++)
				PUT(*h);
		} else {
			PUT((char)c);
		}
	}
	PUT('"');
#undef PUT
	buf[o] = '\0';
	return (int)o;
nospc:
	errno = ENOSPC;
	return -1;
}

static void jb_tcpinfo(struct jb *j, const char *key, const struct probe_tcpinfo *t)
{
	jb_printf(j, "\"%s\":", key);
	if (!t->valid) {
		jb_printf(j, "null");
		return;
	}
	jb_printf(j,
		  "{\"state\":\"%s\",\"probes\":%u,\"retransmits\":%u,\"backoff\":%u,"
		  "\"total_retrans\":%u,\"unacked\":%u,\"rtt_us\":%u,\"rto_us\":%u,"
		  "\"last_data_sent_ms\":%u,\"last_data_recv_ms\":%u,\"last_ack_recv_ms\":%u}",
		  probe_sockopt_tcp_state_name(t->state), t->probes, t->retransmits, t->backoff,
		  t->total_retrans, t->unacked, t->rtt_us, t->rto_us, t->last_data_sent_ms,
		  t->last_data_recv_ms, t->last_ack_recv_ms);
}

static void jb_at(struct jb *j, bool has, int64_t at)
{
	if (has)
		jb_printf(j, "%" PRId64, at);
	else
		jb_printf(j, "null");
}

int probe_result_side_json(const struct probe_side *s, const char *role, const char *extra,
		     char *buf, size_t len)
{
	struct jb j = { buf, len, 0, false };
	char ka[48];

	jb_printf(&j, "{\"role\":\"%s\",%s", role, extra ? extra : "");
	jb_printf(&j, "\"outcome\":\"%s\",\"at_ms\":", probe_outcome_name(s->outcome));
	jb_at(&j, s->has_at, s->at_ms);
	jb_printf(&j, ",\"cycle\":%u,\"cycles_done\":%u,\"errno\":%d,", s->cycle, s->cycles_done,
		  s->err);
	jb_kstr(&j, "errno_name", s->err ? strerrorname_np(s->err) : NULL, true);
	jb_kstr(&j, "detail", s->detail, true);
	jb_kstr(&j, "local", s->local, true);
	jb_kstr(&j, "peer", s->peer, true);
	jb_kstr(&j, "seen_as", s->seen_as, true);
	jb_kstr(&j, "rebound_to", s->rebound_to, true);
	jb_printf(&j, "\"heartbeats\":%u,\"server_heartbeats\":%u,\"last_server_heartbeat_ms\":",
		  s->heartbeats, s->server_heartbeats);
	jb_at(&j, s->has_last_shb, s->last_shb_ms);
	if (s->tcp) {
		jb_printf(&j, ",");
		jb_kstr(&j, "keepalive", probe_plan_ka_format(&s->ka, ka, sizeof(ka)), true);
		jb_printf(&j, "\"user_timeout_ms\":%u,", s->user_timeout_ms);
		jb_tcpinfo(&j, "tcp_info_idle_end", &s->ti_idle_end);
		jb_printf(&j, ",");
		jb_tcpinfo(&j, "tcp_info", &s->ti_end);
	}
	jb_printf(&j, "}");
	return jb_done(&j);
}

int probe_result_flow_json(const struct probe_flow_result *r, char *buf, size_t len)
{
	struct jb j = { buf, len, 0, false };
	const struct probe_plan *p = &r->plan;
	char side[3072], ka[48], ska[48];

	jb_printf(&j, "{\"flow\":");
	jb_str(&j, p->name);
	jb_printf(&j, ",\"id\":\"%016" PRIx64 "\",\"proto\":\"%s\",\"outcome\":\"%s\",", r->id,
		  p->proto == PLAN_UDP ? "udp" : "tcp", probe_outcome_name(r->outcome));
	jb_kstr(&j, "expect", p->has_expect ? probe_outcome_name(p->expect) : NULL, true);
	jb_printf(&j, "\"met\":%s,", r->met ? "true" : "false");
	jb_kstr(&j, "noticed_by", r->noticed_by, true);
	jb_printf(&j, "\"at_ms\":");
	jb_at(&j, r->has_at, r->at_ms);
	jb_printf(&j, ",\"cycle\":%u,", r->cycle);
	jb_printf(&j,
		  "\"plan\":{\"family\":%d,\"keepalive\":\"%s\",\"server_keepalive\":\"%s\","
		  "\"user_timeout_ms\":%" PRIu64 ",\"heartbeat_ms\":%" PRIu64
		  ",\"server_heartbeat_ms\":%" PRIu64 ",\"idle_ms\":%" PRIu64
		  ",\"speaker\":\"%s\",\"cycles\":%u,\"deadline_ms\":%" PRIu64 "},",
		  p->family, probe_plan_ka_format(&p->ka, ka, sizeof(ka)),
		  probe_plan_ka_format(&p->server_ka, ska, sizeof(ska)), (uint64_t)p->user_timeout_s * 1000,
		  p->heartbeat_ms, p->server_heartbeat_ms, p->idle_ms,
		  p->speaker == PLAN_SPEAKER_SERVER ? "server" : "client", p->cycles, p->deadline_ms);
	if (probe_result_side_json(&r->client, "client", NULL, side, sizeof(side)) < 0) {
		errno = ENOSPC;
		return -1;
	}
	jb_printf(&j, "\"client\":%s,\"server_reachable\":%s,", side,
		  r->server.known ? "true" : "false");
	jb_kstr(&j, "server_error", r->server.known ? NULL : r->server.error, true);
	jb_printf(&j, "\"server\":%s}\n", r->server.known && r->server.json ? r->server.json : "null");
	return jb_done(&j);
}

void probe_result_table(FILE *f, const struct probe_flow_result *r, size_t n)
{
	fprintf(f, "%-16s %-5s %-18s %-18s %-4s %-7s %10s %-6s  %s\n", "FLOW", "PROTO", "OUTCOME",
		"EXPECT", "MET", "SEEN-BY", "AT", "CYCLE", "DETAIL");
	for (size_t i = 0; i < n; i++) {
		const struct probe_flow_result *x = &r[i];
		char at[32], cyc[24];
		const char *detail = x->client.detail;

		if (x->has_at)
			snprintf(at, sizeof(at), "%+.3fs", (double)x->at_ms / 1000.0);
		else
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
