/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Command-line pieces more than one subcommand needs: reading a scenario
 * file with its diagnostics, the report options, --set KNOB=VALUE, and the
 * generated-scenario sweeps of tune and discover. Front-end module: these
 * print their problems (as "CMD: ...", through common/log.h) so that every
 * command says the same thing the same way.
 */
#ifndef IDLEGATE_CLI_H
#define IDLEGATE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/jsonio.h"
#include "runner/model/result.h"
#include "runner/model/scenario.h"
#include "runner/run/sweep.h"
#include "runner/util/textutil.h"

/*
 * What a command's NAME_parse_args() returns to go on; anything else is
 * the exit status to return at once (0 after --help, 2 after a usage
 * error it has already reported).
 */
enum { CLI_GO = -1 };

/*
 * Read and parse the scenario file path. Returns the model (free with
 * scenario_free()), or NULL after printing every problem as FILE:LINE:
 * message (with its hint) on standard error.
 */
struct scenario *cli_scenario_load(const char *path);

/*
 * The report options. A command puts CLI_REPORT_OPTIONS(...) entries in its
 * getopt_long table (their values are the CLI_OPT_* below, outside the
 * range of short options) and hands every option to cli_report_option().
 */
struct cli_reports {
	const char *json, *junit, *svg, *html;  /* paths ("-": standard output);
						 * NULL = not asked for */
	bool tap;
};
enum { CLI_OPT_JSON = 0x100, CLI_OPT_JUNIT, CLI_OPT_SVG, CLI_OPT_TAP, CLI_OPT_HTML };

#define CLI_OPT_JSON_ENTRY { "json", required_argument, NULL, CLI_OPT_JSON }
#define CLI_OPT_JUNIT_ENTRY { "junit", required_argument, NULL, CLI_OPT_JUNIT }
#define CLI_OPT_SVG_ENTRY { "svg", required_argument, NULL, CLI_OPT_SVG }
#define CLI_OPT_TAP_ENTRY { "tap", no_argument, NULL, CLI_OPT_TAP }
#define CLI_OPT_HTML_ENTRY { "html", required_argument, NULL, CLI_OPT_HTML }

/*
 * Options every subcommand takes (as `idlegate` itself does before the
 * command): -q/--quiet (only errors), --color=auto|always|never (auto:
 * colour on a terminal unless NO_COLOR is set and not empty). A command
 * puts CLI_COMMON_ENTRIES in its getopt_long table, 'q' in its short
 * options, and hands every option to cli_common_option() first.
 */
enum { CLI_OPT_COLOR = 0x180 };
#define CLI_COMMON_ENTRIES { "quiet", no_argument, NULL, 'q' }, \
	{ "color", required_argument, NULL, CLI_OPT_COLOR }, \
	{ "colour", required_argument, NULL, CLI_OPT_COLOR }
/* true if ch was a common option (and taken: an unknown --color value is
 * said and exits 2). */
bool cli_common_option(int ch, const char *arg);
/* "auto", "always" or "never": 0, or -1 for another word. */
int cli_set_color(const char *when);
/* Should output on fd be coloured? */
bool cli_color(int fd);

/* Take option ch (with its argument arg) into r if it is a report option.
 * Returns true if it was. */
bool cli_report_option(struct cli_reports *r, int ch, const char *arg);

/* Does a report file of r go to standard output ("-")? Then the table for
 * people goes to standard error. */
bool cli_report_stdout(const struct cli_reports *r);

/*
 * Say that writing the report asked for with option opt ("--json") into
 * path failed: "CMD: --json PATH: strerror(errno)". Returns IG_EXIT_ENV.
 */
int cli_report_failed(const char *cmd, const char *opt, const char *path);

/*
 * Check one --set KNOB=VALUE against the knobs of common/policy.h (the
 * value parsed as a middlebox would). Returns 0, or -1 after saying why:
 * "CMD: --set 'ARG': KNOB=VALUE (SHAPE_HINT)" when it is not KNOB=VALUE,
 * "CMD: --set ARG: <the knob's problem>" when the value is wrong.
 */
int cli_set_check(const char *cmd, const char *arg, const char *shape_hint);

/* Append the --set overrides (each checked by cli_set_check()) to b as
 * "knob = value" lines of a [middlebox] section. */
void cli_sets_text(struct tu_text *b, const char *const *sets, size_t n);

/*
 * The body of mb's [middlebox] section as a scenario file would say it:
 * its profile (the file read) and its overrides, one "key = value" line
 * each. buf is always NUL-terminated; a body longer than len is cut.
 */
void cli_mb_text(const struct sc_middlebox *mb, char *buf, size_t len);
/* The same body appended to b, whole however long. */
void cli_mb_append(const struct sc_middlebox *mb, struct tu_text *b);

/*
 * Run a generated scenario once (runner/run/sweep.h) and make sure its
 * result can be trusted: label names the job on the progress line
 * ("coarse"), whose names it in messages ("the coarse pass"); stop, if not
 * NULL, ends it early (flows it did not need are RES_SKIP). Fills res
 * (free with result_clear()) and *wall_ms (the wall time taken). Returns
 * 0; or after saying why, IG_EXIT_ENV (environment, the run or one of its
 * flows could not be trusted) or 128+signal (interrupted).
 */
int cli_sweep(const char *cmd, const struct scenario *sc, const char *label, const char *whose,
	      const struct sweep_stop *stop, struct scenario_result *res, uint64_t *wall_ms);

/*
 * A command's JSON answer into path, indented, whole or not at all and never
 * through another user's symlink (tu_atomic_open). doc is consumed (NULL:
 * out of memory). 0, or -1 with errno.
 */
int cli_json_write(const char *path, json_t *doc);

#endif
