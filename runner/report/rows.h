/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every report writer needs to agree on: the list of flows a report
 * shows for one scenario result, each with its effective status, and the
 * counts. Kept in one place so that the terminal, JSON, JUnit, TAP and SVG
 * never disagree about whether a flow passed.
 *
 * Rules: a scenario-level error (status RES_ERROR with a non-empty error)
 * makes every flow that ran an ERROR, because a run that could not be
 * trusted is never a pass or a fail. A result with no flow results (the run
 * stopped before any flow, or the scenario was skipped) still shows one row
 * per flow of the scenario, as ERROR or SKIP, so CI never sees an error as
 * "zero tests"; with no scenario either, one row named "(scenario)".
 */
#ifndef IDLEGATE_REPORT_UTIL_H
#define IDLEGATE_REPORT_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/model/result.h"

struct rep_flow {
	char name[SC_NAME_MAX + 16];
	int index;                      /* into scenario.flows, -1 = none */
	enum res_status status;         /* effective, see above */
	const char *expected;           /* never NULL */
	const char *observed;           /* "" if none */
	const char *evidence;           /* "" if none */
	const char *error;              /* why ERROR; "" otherwise */
	char settings[192];             /* the runner's, or built from the scenario */
	const struct flow_result *fr;   /* NULL for a row made up from the scenario */
	const struct sc_flow *sf;       /* NULL if the scenario is unknown */
};

struct rep_counts {
	size_t pass, fail, error, skip, total;
};

/* Fill out (at least rep_nrows(r) entries) with the rows for r.
 * Returns how many. */
size_t rep_flows(const struct scenario_result *r, struct rep_flow *out);

/* A flow group's sample connection (whose evidence, noticed_* and
 * middlebox counts the row's flow result holds), "pool.257", into buf;
 * NULL for a plain flow or a group with no sample. */
const char *rep_sample_name(const struct rep_flow *w, char *buf, size_t len);

/* How many rows rep_flows() gives for r. */
size_t rep_nrows(const struct scenario_result *r);

/* Room for the rows of any one of rs[0..n) (free with free()); NULL with
 * errno ENOMEM. */
struct rep_flow *rep_rows_new(const struct scenario_result *rs, size_t n);

/* Add the statuses of rows[0..n) to c (not cleared first). */
void rep_count_rows(const struct rep_flow *rows, size_t n, struct rep_counts *c);

/* Is r's error about the whole scenario (see above)? */
bool rep_scenario_error(const struct scenario_result *r);

/* The scenario file as given, or "(unknown scenario)". */
const char *rep_file(const struct scenario_result *r);

/* Name of flow i / middlebox i of r's scenario; NULL when i < 0 or unknown. */
const char *rep_flow_name(const struct scenario_result *r, int i);
const char *rep_mb_name(const struct scenario_result *r, int i);


/* Direction as written in reports: "c2s", "s2c", or NULL. */
const char *rep_dir_name(int dir);

/* r's marks in time order (equal times in the order they were recorded):
 * an array of r->nmarks pointers into r->marks, the caller frees it with
 * free(). NULL with errno ENOMEM. */
const struct tl_mark **rep_marks_sorted(const struct scenario_result *r);

/* The real time flow `flow` of r took, in ms: its outcome (else its last
 * mark) scaled back to the clock, at most the scenario's wall_ms; 0 for a
 * flow with no marks. */
uint64_t rep_flow_wall_ms(const struct scenario_result *r, int flow);

/* The smallest round step (100 ms, 200 ms, 500 ms, 1 s, ... a week, then
 * whole weeks) that cuts t into at most `most` pieces. */
uint64_t rep_nice_step(uint64_t t, uint64_t most);

/* The scenario time r covers: its scenario_ms, or its latest mark or
 * group point if later. */
uint64_t rep_time_span(const struct scenario_result *r);

/* At most this many bins (plus one) in a group's histogram. */
#define REP_HIST_BINS 60

/*
 * Flow group `flow`'s histogram: its points (result.h) counted in bins of
 * *bin_ms (rep_nice_step() of rep_time_span(), at most REP_HIST_BINS + 1
 * of them, *nbins) from time 0. Returns counts[bin * GROUP_KINDS + kind],
 * the caller frees it with free(); NULL with errno ENOMEM. The SVG lane
 * and the JSON "histogram" are the same numbers.
 */
uint32_t *rep_group_histogram(const struct scenario_result *r, int flow, uint64_t *bin_ms, size_t *nbins);

#endif
