/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-flow results of idlegate-probe: one side's view (what ended the flow,
 * when relative to the start of the idle period, errno, addresses, TCP_INFO),
 * the client's combination of both sides into one outcome, and their output
 * as JSON lines (for the runner) and as a table (for a person). The JSON
 * fields are documented in docs/probe.md.
 */
#ifndef IDLEGATE_PROBE_RESULT_H
#define IDLEGATE_PROBE_RESULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probes/plan.h"
#include "probes/proto.h"
#include "probes/sockopt.h"

/* One side's view of a flow. */
struct probe_side {
	enum probe_outcome outcome;      /* OUT_NONE while running */
	bool has_at;
	int64_t at_ms;                   /* when it was noticed, from the start of idle period `cycle` */
	uint32_t cycle;                  /* cycle it ended in, 1-based; 0 = before the first idle */
	uint32_t cycles_done;            /* exchanges completed after an idle period */
	bool connected;                  /* got through: TCP handshake done, or UDP's first answer */
	int err;                         /* the errno that told, 0 if none */
	char detail[128];                /* one line for a person */
	char local[PROTO_ADDR_MAX], peer[PROTO_ADDR_MAX];
	char seen_as[PROTO_ADDR_MAX];    /* client: its address as the server saw it */
	char rebound_to[PROTO_ADDR_MAX]; /* the address seen after a rebinding */
	uint32_t heartbeats;             /* sent (client) or received (server) */
	uint32_t server_heartbeats;      /* server_heartbeat: received (client) or sent (server) */
	bool has_last_shb;
	int64_t last_shb_ms;             /* the last of them, from the start of its idle period */
	bool tcp;
	struct plan_keepalive ka;        /* as read back from the socket */
	uint32_t user_timeout_ms;        /* as read back */
	struct probe_tcpinfo ti_idle_end, ti_end;
};

/* Record how a side ended, unless it already has an outcome. at_ms is
 * relative to the idle start (has_at false when before the first idle).
 * Returns true if this call set it. */
bool probe_side_end(struct probe_side *s, enum probe_outcome o, bool has_at, int64_t at_ms,
	      uint32_t cycle, int err, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/*
 * What an errno from a socket says about a flow: ECONNRESET/EPIPE -> reset,
 * ETIMEDOUT -> keepalive-timeout when a kernel timer was armed (keepalive or
 * TCP_USER_TIMEOUT, kernel_timer true) else timeout, EHOSTUNREACH,
 * ENETUNREACH, ECONNREFUSED and other ICMP-borne errors -> unreachable,
 * anything else -> error.
 */
enum probe_outcome probe_result_classify_errno(int err, bool kernel_timer);

/* The server's view as it came back over a QUERY. */
struct probe_remote {
	bool known;                      /* a RESULT arrived */
	char error[128];                 /* why not, when !known */
	enum probe_outcome outcome;
	uint32_t cycle;
	bool has_at;
	int64_t at_ms;
	json_t *json;                    /* its JSON object (a reference we hold) */
};

/* A client's result for one flow. */
struct probe_flow_result {
	struct probe_plan plan;
	uint64_t id;
	struct probe_side client;
	struct probe_remote server;
	/* set by probe_result_combine() */
	enum probe_outcome outcome;
	const char *noticed_by;          /* "client", "server" or NULL */
	bool has_at;
	int64_t at_ms;
	uint32_t cycle;
	bool met;                        /* outcome == expect (true when no expect and ran) */
};

/*
 * Combine both sides: the earliest failure (by cycle, then time) among the
 * sides that have one wins; otherwise a rebinding seen by either side makes
 * the flow "rebound"; otherwise the client's outcome. Sets met.
 */
void probe_result_combine(struct probe_flow_result *r);

/* Release what a result owns (the server JSON); the struct itself is the caller's. */
void probe_result_clear(struct probe_flow_result *r);

/*
 * JSON of one side as an object. role is "client" or "server"; the members
 * of extra (an object, may be NULL; not taken over) are inserted after
 * "role". Text that is not valid UTF-8 (a detail, an address) has its
 * invalid bytes replaced by U+FFFD (common/jsonio.h). Returns a new
 * reference the caller releases with json_decref(), or NULL with errno
 * ENOMEM.
 */
json_t *probe_result_side_json(const struct probe_side *s, const char *role, const json_t *extra);

/* The client's JSON object for a flow (the server's view nested in it);
 * the same contract. */
json_t *probe_result_flow_json(const struct probe_flow_result *r);

/* A table of results for a person, with a header line. */
void probe_result_table(FILE *f, const struct probe_flow_result *r, size_t n);

#endif
