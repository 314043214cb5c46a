// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate check FILE...`: parse and validate scenario files exactly as
 * `idlegate run` would, without root and without creating anything, and
 * print every problem as file:line: message.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/duration.h"
#include "common/jsonio.h"
#include "runner/cmd/cli.h"
#include "runner/run/session.h"
#include "runner/cmd/commands.h"
#include "runner/model/scenario.h"

static void check_usage(FILE *f)
{
	fprintf(f, "usage: idlegate check [-q] [--dump] [--json] FILE...\n\n"
		"Validate scenario files without running them: no root needed, nothing\n"
		"is created. Every problem is printed as FILE:LINE: message.\n\n"
		"  -q, --quiet   print only problems\n"
		"  -d, --dump    print the parsed scenario, durations as written -> scaled\n"
		"      --json    one JSON document on standard output instead: per file\n"
		"                ok, problems [{line, message, hint}], the scenario's size\n"
		"  -h, --help    this help\n\n"
		"Exit status: 0 every file is valid, 2 a file has problems or bad usage.\n");
}

/* Every problem, with its hint on the next line. */
static const char *dur(const struct sc_duration *d, char *buf, size_t len)
{
	char a[32], b[32];

	snprintf(buf, len, "%s -> %s", duration_format(d->ms, a, sizeof(a)),
		 duration_format(d->scaled_ms, b, sizeof(b)));
	return buf;
}

/*
 * How long the run takes, in words. A command flow lasts as long as its
 * program: the scenario cannot say, so neither does the estimate (a
 * command's idle and deadline are not its length).
 */
static const char *run_time_words(const struct scenario *sc, char *buf, size_t len)
{
	char a[32], b[32];
	uint64_t probes = 0, limit;
	bool cmds = false;

	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		uint64_t t = sc_flow_span_ms(f, true);

		if (f->command[0])
			cmds = true;
		else if (t > probes)
			probes = t;
	}
	if (!cmds) {
		snprintf(buf, len, "about %s of run time", duration_format(scenario_estimate_ms(sc), a, sizeof(a)));
		return buf;
	}
	/* the runner's own bound (run.c run_limit_ms): timeout =, or 1.5 x
	 * at least 10 minutes plus 30 s */
	limit = scenario_estimate_ms(sc);
	if (limit < 10 * 60 * 1000)
		limit = 10 * 60 * 1000;
	limit = sc->timeout.ms ? sc->timeout.scaled_ms : limit + limit / 2 + 30000;
	if (probes)
		snprintf(buf, len, "about %s for the probe flows; the command flows as long as their programs "
			 "run (stopped as an ERROR after %s%s)", duration_format(probes, a, sizeof(a)),
			 duration_format(limit, b, sizeof(b)), sc->timeout.ms ? "" : ": bound it with timeout =");
	else
		snprintf(buf, len, "run time: as long as the commands run (stopped as an ERROR after %s%s)",
			 duration_format(limit, b, sizeof(b)), sc->timeout.ms ? "" : ": bound it with timeout =");
	return buf;
}

static void dump(const struct scenario *sc)
{
	char b1[80], b2[80], b3[80], val[128];
	size_t nk;
	const struct knob_info *k = policy_knobs(&nk);

	printf("[scenario]\n");
	if (sc->description[0])
		printf("description = %s\n", sc->description);
	printf("time_scale = %s\n", sc->scale_text);
	if (sc->timeout.ms)
		printf("timeout = %s\n", dur(&sc->timeout, b1, sizeof(b1)));
	if (sc->ipv4_net[0])
		printf("ipv4_net = %s\n", sc->ipv4_net);
	if (sc->ipv6_net[0])
		printf("ipv6_net = %s\n", sc->ipv6_net);
	for (size_t i = 0; i < sc->nmb; i++) {
		const struct sc_middlebox *m = &sc->mb[i];
		struct policy scaled;

		scenario_policy_scaled(sc, m, &scaled);
		printf("\n[middlebox %s]  ; line %d\n", m->name, m->line);
		printf("profile = %s  ; %s\n", m->profile[0] ? m->profile : "(none: Linux defaults)",
		       m->profile_path[0] ? m->profile_path : "-");
		for (size_t j = 0; j < m->noverrides; j++)
			printf("; line %d overrides %s = %s\n", m->overrides[j].line,
			       m->overrides[j].knob, m->overrides[j].value);
		for (size_t j = 0; j < nk; j++) {
			char sv[128];
			policy_get(&m->policy, k[j].name, val, sizeof(val));
			policy_get(&scaled, k[j].name, sv, sizeof(sv));
			if (strcmp(val, sv))
				printf("%s = %s -> %s\n", k[j].name, val, sv);
			else
				printf("%s = %s\n", k[j].name, val);
		}
	}
	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];

		printf("\n[flow %s]  ; line %d\n", f->name, f->line);
		printf("proto = %s\nfamily = %s\n", sc_proto_name(f->proto), sc_family_name(f->family));
		if (f->keepalive == SC_KA_OFF)
			printf("keepalive = off\n");
		else
			printf("keepalive = %s%s, %s, %u\n",
			       f->keepalive == SC_KA_KERNEL_DEFAULT ? "kernel-default: " : "",
			       dur(&f->ka_idle, b1, sizeof(b1)), dur(&f->ka_intvl, b2, sizeof(b2)), f->ka_count);
		if (f->user_timeout.ms)
			printf("tcp_user_timeout = %s\n", dur(&f->user_timeout, b1, sizeof(b1)));
		if (f->heartbeat.ms)
			printf("heartbeat = %s\n", dur(&f->heartbeat, b1, sizeof(b1)));
		if (f->server_heartbeat.ms)
			printf("server_heartbeat = %s\n", dur(&f->server_heartbeat, b1, sizeof(b1)));
		if (f->warmup.ms)
			printf("warmup = %s\n", dur(&f->warmup, b1, sizeof(b1)));
		printf("idle = %s\nspeaker = %s\ncycles = %u\ndeadline = %s\nexpect = %s\npath =",
		       dur(&f->idle, b1, sizeof(b1)), sc_speaker_name(f->speaker), f->cycles,
		       dur(&f->deadline, b3, sizeof(b3)), sc_expect_name(f->expect));
		for (size_t j = 0; j < f->npath; j++)
			printf(" %s", sc->mb[f->path[j]].name);
		printf("\n");
		if (f->port)
			printf("port = %u\n", f->port);
		if (f->command[0])
			printf("command = %s\n", f->command);
		if (f->server_command[0])
			printf("server_command = %s\n", f->server_command);
	}
	for (size_t i = 0; i < sc->nevents; i++) {
		const struct sc_event *e = &sc->events[i];

		printf("\n[event %s]  ; line %d\n", e->name, e->line);
		printf("at = %s\nmiddlebox = %s\naction = %s", dur(&e->at, b1, sizeof(b1)),
		       e->middlebox < 0 ? "all" : sc->mb[e->middlebox].name, sc_action_name(e->action));
		if (e->action == SC_ACT_EXPIRE)
			printf(" %s", sc->flows[e->flow].name);
		else if (e->action == SC_ACT_SET)
			printf(" %s %s", e->knob, e->value);
		else if (e->action == SC_ACT_BLACKHOLE)
			printf(" %s", dur(&e->duration, b2, sizeof(b2)));
		printf("\n");
	}
}

/* check --json: one document for editors and CI, every file's problems
 * with line (null: the file as a whole), message and hint. */
static json_t *problems_json(const struct ini_diags *dg)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < dg->n; i++) {
		const struct ini_diag *d = &dg->d[i];

		json_array_append_new(a, json_pack("{s:o,s:o,s:o}",
						   "line", d->line > 0 ? json_integer(d->line) : json_null(),
						   "message", jsonio_str(d->msg),
						   "hint", jsonio_str_or_null(d->hint)));
	}
	return a;
}

static json_t *file_json(const char *file, const struct scenario *sc, const struct ini_diags *dg)
{
	json_t *o = json_pack("{s:o,s:b,s:o,s:I}", "file", jsonio_str(file), "ok", sc != NULL,
			      "problems", sc ? json_array() : problems_json(dg),
			      "more_problems", (json_int_t)(sc ? 0 : dg->dropped));

	if (o && sc)
		json_object_set_new(o, "scenario",
				    json_pack("{s:I,s:I,s:I,s:s,s:I}", "middleboxes", (json_int_t)sc->nmb,
					      "flows", (json_int_t)sc->nflows, "events", (json_int_t)sc->nevents,
					      "time_scale", sc->scale_text,
					      "estimate_ms", (json_int_t)scenario_estimate_ms(sc)));
	return o;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "dump", no_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "color", required_argument, NULL, CLI_OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int quiet = 0, do_dump = 0, ch, ret = IG_EXIT_OK;
	static struct ini_diags dg;
	json_t *files = NULL;

	while ((ch = getopt_long(argc, argv, "qdh", opts, NULL)) != -1) {
		switch (ch) {
		case 'q': quiet = 1; break;
		case 'd': do_dump = 1; break;
		case 'j': files = files ? files : json_array(); break;
		case CLI_OPT_COLOR: cli_common_option(ch, optarg); break;
		case 'h':
			check_usage(stdout);
			return IG_EXIT_OK;
		default:
			check_usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		check_usage(stderr);
		return IG_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct scenario *sc = scenario_load(argv[i], &dg);
		char est[160];

		if (files)
			json_array_append_new(files, file_json(argv[i], sc, &dg));
		if (!sc) {
			if (!files)
				print_diags(&dg);
			ret = IG_EXIT_USAGE;
			continue;
		}
		if (files) {
			scenario_free(sc);
			continue;
		}
		if (!quiet)
			printf("%s: ok: %zu middlebox%s, %zu flow%s, %zu event%s; time_scale %s, %s\n", argv[i],
			       sc->nmb, sc->nmb == 1 ? "" : "es", sc->nflows, sc->nflows == 1 ? "" : "s",
			       sc->nevents, sc->nevents == 1 ? "" : "s", sc->scale_text,
			       run_time_words(sc, est, sizeof(est)));
		if (do_dump)
			dump(sc);
		scenario_free(sc);
	}
	if (files) {
		json_t *doc = json_pack("{s:i,s:b,s:o}", "version", 1, "ok", ret == IG_EXIT_OK, "files", files);

		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) < 0)
			ret = IG_EXIT_ENV;
		fputc('\n', stdout);
		json_decref(doc);
	}
	return ret;
}
