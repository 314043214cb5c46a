/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The arithmetic of `idlegate tune` (docs/tune.md), kept apart from the
 * runs so it can be unit-tested: the time scale and the candidate grid
 * (every kernel keepalive value whole seconds after scaling), the boundary
 * found in a sweep (with a monotonicity check), the recommended setting
 * with its safety margin, what it costs and what it buys, and the
 * translation into the knobs of common software. Pure: no I/O.
 *
 * All times are milliseconds of real (unscaled) time.
 */
#ifndef IDLEGATE_TUNE_H
#define IDLEGATE_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/duration.h"

/* Candidates of one grid (tune_grid()): its fractions of the timeout. */
#define TUNE_GRID_POINTS 13
/* The probability a refresh may fail altogether within one idle period. */
#define TUNE_EPSILON 1e-6
/* The share of the boundary a recommendation may use (timer jitter). */
#define TUNE_JITTER_SHARE 0.8
/* The scaled timeout the automatic time scale aims at, in seconds. */
#define TUNE_TARGET_SCALED_S 24u

enum tune_kind {
	TUNE_KERNEL,    /* kernel TCP keepalive: TCP_KEEPIDLE/INTVL/CNT */
	TUNE_HEARTBEAT, /* an application heartbeat (TCP or UDP) */
};
const char *tune_kind_name(enum tune_kind k);

/*
 * The time scale of a sweep and its grid step. With forced (the user's
 * --time-scale; NULL = automatic), it must be 1/N (N >= 1): the step is N
 * seconds, so every multiple of it is whole seconds once scaled. Without,
 * N = max(1, shortest_timeout / TUNE_TARGET_SCALED_S s). Returns 0 with the
 * scale and the step (ms) set, or -1 with errno EINVAL and why in err.
 */
int tune_scale(uint64_t shortest_timeout_ms, const struct timescale *forced, struct timescale *out,
	       uint64_t *step_ms, char *err, size_t errlen);

/*
 * Candidates for a middlebox whose idle timeout is timeout_ms: fractions
 * of it from 25 % to 130 %, denser near 100 %, rounded down to multiples
 * of step_ms, at least one step, ascending, no repeats, at most max
 * (TUNE_GRID_POINTS is room for all). Returns how many were written to out.
 */
size_t tune_grid(uint64_t timeout_ms, uint64_t step_ms, uint64_t *out, size_t max);

/* The kernel keepalive interval used with candidate idle value: a fifth of
 * it rounded down to the step, at least one step. */
uint64_t tune_grid_interval(uint64_t value_ms, uint64_t step_ms);

struct tune_boundary {
	int boundary;           /* index of the largest survivor with every smaller
				 * candidate surviving too; -1: the smallest failed */
	bool all_survived;      /* the boundary is above the largest candidate */
	int suspicious;         /* index of a survivor above a failure (not
				 * monotonic), -1: none */
};

/* The boundary of a sweep: survived[i] for candidate i in ascending order. */
void tune_boundary(const bool *survived, size_t n, struct tune_boundary *b);

/*
 * m in the margin: how many refreshes in a row may be lost so that losing
 * one more has probability at most TUNE_EPSILON, i.e. the smallest m with
 * loss^(m+1) <= TUNE_EPSILON. 0 for loss 0; loss must be in [0, 0.9].
 */
unsigned tune_loss_retries(double loss);

struct tune_rec {
	enum tune_kind kind;
	uint64_t value_ms;      /* keepalive idle (TCP_KEEPIDLE) or heartbeat interval */
	uint64_t interval_ms;   /* TCP_KEEPINTVL (kernel only) */
	unsigned count;         /* TCP_KEEPCNT, or heartbeats missed before a
				 * peer is declared dead */
	unsigned retries;       /* m of the formula */
	uint64_t limit_ms;      /* the margin formula's value before rounding */
	uint64_t detect_ms;     /* time to detect a dead peer */
	double per_hour;        /* probes / heartbeats sent per hour on an idle
				 * connection */
};

/*
 * The recommended setting from the boundary B (largest survivor), the grid
 * step G, the sweep interval S of a middlebox with expiry = sweep (0 for
 * exact) and the loss probability p:
 *
 *   kernel:    I = max(G, floor_G(B / 10)),  c = max(3, m + 1)
 *              idle = floor_G(min(0.8 B, B - S - m I))
 *              detect = idle + I c
 *   heartbeat: h = floor_G(min(0.8 B, (B - S) / (m + 1))),  c = max(3, m + 1)
 *              detect = h c
 *
 * with m = tune_loss_retries(p). Returns 0, or -1 with errno ERANGE when the
 * margin leaves less than one step (rec->limit_ms still says what was left).
 */
int tune_recommend(enum tune_kind kind, uint64_t boundary_ms, uint64_t step_ms, uint64_t sweep_ms,
		   double loss, struct tune_rec *rec);

/* The margin formula of a kind in one line, for people and the JSON. */
const char *tune_formula(enum tune_kind kind);

struct tune_knob {
	char software[32];      /* "Linux sysctl", "OpenSSH client", ... */
	char setting[200];      /* what to write, exactly as the software takes it: a
				 * file's lines are separated by '\n' (a sysctl.d
				 * file, ssh_config), options by spaces */
	char note[160];         /* caveat, "" if none */
};

/*
 * The recommendation in the knobs of common software (the table in
 * docs/tune.md).
 * ka: the kernel keepalive recommendation (NULL = none); hb: the heartbeat
 * one (NULL = none); udp: hb is for UDP (WireGuard) rather than TCP
 * applications (OpenSSH, gRPC). Writes at most max entries, returns how
 * many.
 */
size_t tune_knobs(const struct tune_rec *ka, const struct tune_rec *hb, bool udp,
		  struct tune_knob *out, size_t max);

#endif
