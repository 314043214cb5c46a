// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command-line pieces shared by the subcommands (see cli.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mtime.h"
#include "common/policy.h"
#include "runner/cmd/cli.h"
#include "runner/run/session.h"
#include "runner/run/sweep.h"
#include "runner/util/exit.h"

struct scenario *cli_scenario_load(const char *path)
{
	/* static: the diagnostics are large, and a command is one thread */
	static struct ini_diags dg;
	struct scenario *sc;

	ini_diags_init(&dg, path);
	sc = scenario_load(path, &dg);
	if (!sc)
		print_diags(&dg);
	return sc;
}

static enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color_when;

int cli_set_color(const char *when)
{
	if (!strcmp(when, "auto"))
		color_when = COLOR_AUTO;
	else if (!strcmp(when, "always"))
		color_when = COLOR_ALWAYS;
	else if (!strcmp(when, "never"))
		color_when = COLOR_NEVER;
	else
		return -1;
	return 0;
}

bool cli_color(int fd)
{
	const char *no = getenv("NO_COLOR");

	if (color_when != COLOR_AUTO)
		return color_when == COLOR_ALWAYS;
	return isatty(fd) && !(no && *no);
}

bool cli_common_option(int ch, const char *arg)
{
	switch (ch) {
	case 'q':
		log_init("idlegate", 0);
		return true;
	case CLI_OPT_COLOR:
		if (cli_set_color(arg) < 0) {
			log_warnx("--color '%s': auto, always or never", arg);
			exit(IG_EXIT_USAGE);
		}
		return true;
	}
	return false;
}

bool cli_report_option(struct cli_reports *r, int ch, const char *arg)
{
	switch (ch) {
	case CLI_OPT_JSON: r->json = arg; return true;
	case CLI_OPT_JUNIT: r->junit = arg; return true;
	case CLI_OPT_SVG: r->svg = arg; return true;
	case CLI_OPT_TAP: r->tap = true; return true;
	case CLI_OPT_HTML: r->html = arg; return true;
	}
	return false;
}

static bool is_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

bool cli_report_stdout(const struct cli_reports *r)
{
	return is_stdout(r->json) || is_stdout(r->junit) || is_stdout(r->html);
}

int cli_report_failed(const char *cmd, const char *opt, const char *path)
{
	log_warn("%s: %s %s", cmd, opt, path);
	return IG_EXIT_ENV;
}

int cli_set_check(const char *cmd, const char *arg, const char *shape_hint)
{
	const char *eq = strchr(arg, '=');
	struct policy pol;
	char key[64], err[512];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		log_warnx("%s: --set '%s': KNOB=VALUE (%s)", cmd, arg, shape_hint);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	policy_init(&pol);
	if (policy_set(&pol, key, eq + 1, err, sizeof(err)) < 0) {
		log_warnx("%s: --set %s: %s", cmd, arg, err);
		return -1;
	}
	return 0;
}

void cli_sets_text(struct tu_text *b, const char *const *sets, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const char *eq = strchr(sets[k], '=');

		tu_text_printf(b, "%.*s = %s\n", (int)(eq - sets[k]), sets[k], eq + 1);
	}
}

void cli_mb_append(const struct sc_middlebox *mb, struct tu_text *b)
{
	if (mb->profile_path[0])
		tu_text_printf(b, "profile = %s\n", mb->profile_path);
	for (size_t k = 0; k < mb->noverrides; k++)
		tu_text_printf(b, "%s = %s\n", mb->overrides[k].knob, mb->overrides[k].value);
}

void cli_mb_text(const struct sc_middlebox *mb, char *buf, size_t len)
{
	struct tu_text b = { 0 };

	cli_mb_append(mb, &b);
	snprintf(buf, len, "%s", b.s ? b.s : "");
	free(b.s);
}

int cli_sweep(const char *cmd, const struct scenario *sc, const char *label, const char *whose,
	      const struct sweep_stop *stop, struct scenario_result *res, uint64_t *wall_ms)
{
	uint64_t t0 = mtime_ms();
	char err[512];
	int rc;

	rc = sweep_run(sc, label, stop, res, err, sizeof(err));
	*wall_ms = mtime_ms() - t0;
	if (rc) {
		log_warnx("%s: %s", cmd, err);
		return rc;
	}
	if (res->status == RES_ERROR && res->error[0]) {
		log_warnx("%s: %s could not be trusted: %s", cmd, whose, res->error);
		return IG_EXIT_ENV;
	}
	for (size_t i = 0; i < res->nflows; i++)
		if (res->flows[i].status == RES_ERROR) {
			log_warnx("%s: %s could not be trusted: flow %s: %s", cmd, whose, sc->flows[i].name,
				  res->flows[i].error);
			return IG_EXIT_ENV;
		}
	return 0;
}

int cli_json_write(const char *path, json_t *doc)
{
	char tmp[PATH_MAX];
	FILE *f = doc ? tu_atomic_open(path, tmp, sizeof(tmp)) : NULL;
	int ok;

	if (!f) {
		json_decref(doc);
		if (!errno)
			errno = ENOMEM;
		return -1;
	}
	ok = json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) == 0 && fputc('\n', f) != EOF;
	json_decref(doc);
	return tu_atomic_commit(f, tmp, path, ok);
}
