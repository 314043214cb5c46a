/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a run found: per scenario, per flow, plus a timeline of what crossed
 * the middleboxes. Filled by the runner (runner/run/run.c) from the probes' JSON
 * lines and the simulators' event logs; read by every report writer
 * (runner/report_*.c). Plain data; times are ms of *scenario* time (scaled
 * back to the user's units) from the start of the run unless noted.
 */
#ifndef IDLEGATE_RESULT_H
#define IDLEGATE_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runner/model/scenario.h"

enum res_status {
	RES_PASS,       /* observed outcome == expected */
	RES_FAIL,       /* observed outcome != expected */
	RES_ERROR,      /* the run could not be trusted; see error */
	RES_SKIP,       /* not run (e.g. --shard) */
};
const char *res_status_name(enum res_status s);

/* Kinds of timeline marks. */
enum tl_kind {
	TL_FLOW_NEW,    /* middlebox created the flow (detail: NAT mapping) */
	TL_DATA,        /* data crossed (probe exchange) */
	TL_KEEPALIVE,   /* TCP keepalive probe seen by a middlebox */
	TL_HEARTBEAT,   /* application/UDP heartbeat crossed */
	TL_DROP,        /* middlebox dropped a packet (detail: reason) */
	TL_INJECT,      /* middlebox injected RST/FIN/ICMP (detail: what) */
	TL_EXPIRE,      /* middlebox expired the flow (detail: idle time, action) */
	TL_EVENT,       /* scenario [event] fired (detail: action) */
	TL_IDLE_START,  /* the probe's idle period began */
	TL_OUTCOME,     /* the probe's verdict (detail: outcome, who noticed) */
};
const char *tl_kind_name(enum tl_kind k);

struct tl_mark {
	uint64_t t_ms;          /* scenario time (unscaled) since run start */
	enum tl_kind kind;
	int flow;               /* index into scenario.flows, -1 = whole scenario */
	int middlebox;          /* index into scenario.mb, -1 = none */
	int dir;                /* 0 client->server, 1 server->client, -1 n/a */
	char detail[96];
};

struct flow_result {
	int flow;                       /* index into scenario.flows */
	enum res_status status;
	char expected[256];             /* sc_expect_format(): "alive", or
					 * "alive >= 256, timeout <= 44" (room for
					 * SC_MAX_COUNTED of the longest terms) */
	char observed[256];             /* "alive", "reset", ... or "", and for a
					 * group the tally: "256 alive, 44 timeout"
					 * (room for every outcome and "not run") */
	char evidence[512];             /* in words: "RST after 351 s idle, seen by
					 * the client on its first send"; a group's
					 * has a sample of each outcome */
	char error[256];                /* RES_ERROR: why the run can't be trusted */
	char noticed_by[16];            /* "client", "server", "" */
	char local[48];                 /* the client's address:port, as it saw it */
	char seen_as[48];               /* and as the server saw it ("" = unknown) */
	int64_t noticed_ms;             /* scenario time since idle start, -1 = n/a */
	int err;                        /* errno seen by the probe, 0 = none */
	/* what the middleboxes did to the flow (a group's: to its sample) */
	uint32_t keepalives_seen;       /* keepalives they saw */
	uint32_t drops;                 /* packets they dropped */
	int64_t expired_ms;             /* when one first expired it (scenario time
					 * since its idle start), -1 = never */
	int64_t recreated_ms;           /* when a packet started it again after
					 * that, -1 = never */
	int64_t last_expired_ms;        /* its last expiry, if more than one */
	uint32_t expiries;              /* how often it expired while the probe ran */
	char settings[128];             /* "keepalive 300s,30s,3 idle 900s speaker client" */
	uint32_t server_heartbeats;     /* server_heartbeat: how many reached the client */
	int64_t last_server_heartbeat_ms; /* the last, scenario time since its idle
					 * start, -1 = none */
	/* a flow group (count > 1): how many connections had each outcome
	 * (index enum sc_expect), those the probe could not run or that were
	 * interrupted (other), and those it never reported; evidence,
	 * noticed_*, err and the middleboxes' counts above are those of one
	 * connection, the sample; total the middleboxes' counts across all */
	uint32_t count;                 /* connections (1 for a plain flow) */
	uint32_t tally[SC_EXPECT_N];
	uint32_t other;
	uint32_t unreported;
	struct {
		uint32_t keepalives_seen, drops;
		uint32_t expired;       /* connections a middlebox expired */
	} total;
	int sample;                     /* 0-based connection the evidence is of */
	bool sample_unmet;              /* it did not have the expected outcome */
};

/*
 * A flow group's connections over time, for its histogram: one point per
 * connection when it ended (kind: its outcome, an enum sc_expect;
 * GROUP_OTHER when it could not be run or was interrupted;
 * GROUP_UNREPORTED when the probe never reported it, at the time its
 * probe client ended), so that the ends add up to the group's count; and
 * one per connection a middlebox expired, at its first expiry on the
 * path, whichever middlebox (GROUP_EXPIRED). Times as marks: scenario
 * time since the run's start; a connection that never got through when
 * it gave up (connect-timeout: its deadline) or at its start (refused).
 */
enum { GROUP_OTHER = SC_EXPECT_N, GROUP_UNREPORTED, GROUP_EXPIRED, GROUP_KINDS };
struct group_point {
	uint64_t t_ms;
	int flow;                       /* index into scenario.flows */
	int kind;                       /* enum sc_expect, GROUP_OTHER, _UNREPORTED, _EXPIRED */
};
/* "alive", ..., "not-run", "unreported", "expired": the name of a point's
 * kind (the first are the names of a group's JSON "outcomes" too). */
const char *group_kind_name(int kind);
/* How many connections of group fr ended as kind (< GROUP_EXPIRED): its
 * tally, other or unreported; these add up to its count. */
uint32_t result_group_ended(const struct flow_result *fr, int kind);

struct scenario_result {
	const struct scenario *sc;
	enum res_status status;         /* worst of the flows, or ERROR for the run */
	char error[256];
	uint64_t wall_ms;               /* real time the run took */
	uint64_t scenario_ms;           /* scenario time covered (unscaled) */
	struct flow_result *flows;      /* malloc'd, [nflows]; owned by the result */
	size_t nflows, cap_flows;
	struct tl_mark *marks;          /* malloc'd; owned by the result */
	size_t nmarks, cap_marks;
	struct group_point *points;     /* flow groups only; malloc'd, owned */
	size_t npoints, cap_points;
};

/* Append a mark (grows marks). 0, or -1 with errno ENOMEM. */
int result_mark(struct scenario_result *r, const struct tl_mark *m);
/* Append a flow result, zeroed (grows flows): it, or NULL with errno ENOMEM. */
struct flow_result *result_flow_add(struct scenario_result *r);
/* Append a group point (grows points). 0, or -1 with errno ENOMEM. */
int result_group_point(struct scenario_result *r, int flow, uint64_t t_ms, int kind);
/* Frees flows, marks and points; accepts NULL. Does not free r->sc. */
void result_clear(struct scenario_result *r);

/*
 * Is r, as another process sent it, one that the report writers can read
 * for scenario sc: flow and middlebox indexes in range (flow results,
 * marks and group points), enums known,
 * every string terminated? 0, or -1 with errno EBADMSG and why in err.
 */
int result_check(const struct scenario_result *r, const struct scenario *sc, char *err, size_t errlen);

/* A flow's settings in a line: "tcp keepalive 300s,30s,3 idle 900s speaker
 * client", plus heartbeat, user timeout, cycles, path, command when set (a
 * command flow's keepalive is the program's, so it is not shown). */
void result_flow_settings(const struct scenario *sc, const struct sc_flow *f, char *buf, size_t len);

/* r (cleared first: zeroed or a result to free) for scenario sc that did
 * not run or was not trusted: every flow ERROR with why, its expectation
 * and settings. 0, or -1 with errno ENOMEM (r is then an ERROR with no
 * flow results, which the reports show per scenario flow). */
int result_init_error(struct scenario_result *r, const struct scenario *sc, const char *why);

/*
 * Report writers. Each takes all scenario results of one `idlegate run`.
 * File writers return 0, or -1 with errno set (nothing half-written is left:
 * write to a temporary file and rename).
 */
void report_terminal(FILE *out, const struct scenario_result *rs, size_t n, bool color);
int report_json(const char *path, const struct scenario_result *rs, size_t n);
int report_junit(const char *path, const struct scenario_result *rs, size_t n);
void report_tap(FILE *out, const struct scenario_result *rs, size_t n);
/* One SVG timeline per scenario into dir (created if missing), named after
 * the scenario file's basename: DIR/NAME.svg. */
int report_svg(const char *dir, const struct scenario_result *rs, size_t n);
/* r's timeline as an <svg> element (no XML declaration) into f, for a page
 * that holds it inline. 0, or -1 with errno ENOMEM. */
int report_svg_inline(FILE *f, const struct scenario_result *r);
/* One self-contained HTML page (path "-": standard output): the summary
 * table, then each scenario's flows, evidence and timeline (inline SVG);
 * no script, no external asset, so it opens offline. Written whole (see
 * tu_atomic_open()). 0, or -1 with errno. */
int report_html(const char *path, const struct scenario_result *rs, size_t n);

/* CI annotations: one line per FAIL or ERROR flow on its file and line
 * (runner/report/annotate.c says the forms). Returns how many. */
enum annotate_style { ANNOTATE_NONE, ANNOTATE_GITHUB, ANNOTATE_GITLAB };
size_t report_annotate(FILE *out, const struct scenario_result *rs, size_t n, enum annotate_style style);
/* "github", "gitlab" or "none" into style: 0, or -1 for anything else. */
int annotate_parse(const char *s, enum annotate_style *style);

#endif
