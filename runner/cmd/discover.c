// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate discover`: measure a path's idle timeout for TCP and UDP, and
 * how it behaves when it expires. The path is either a simulated middlebox
 * (--profile / --scenario: the flows run in a generated scenario, through
 * runner/run/sweep.h) or a real network with an idlegate-probe server on the
 * far side (--server HOST:PORT: the flows run in idlegate-probe client).
 *
 * Two passes, each with every flow in parallel:
 *  1. coarse: flows idle 1/N, 2/N, ... N/N of --max, the server speaking
 *     first after the idle (the case that needs the path's state). The
 *     largest idle that survived with every shorter one surviving and the
 *     first that failed bracket the timeout.
 *  2. fine: N flows staggered inside the bracket, plus the behaviour flows:
 *     a TCP and a UDP flow with the client speaking first well after the
 *     expiry (RST or silence toward the inside; UDP: the outside port kept
 *     or changed), a TCP flow with kernel keepalives shorter than the
 *     timeout (do payload-less keepalives refresh the state?), and a UDP
 *     flow idle for about twice the timeout during which only the server
 *     sends heartbeats, well below the timeout apart: if they keep reaching
 *     the client to the end, inbound-only traffic refreshes the mapping; if
 *     they stop at about the timeout, it does not.
 * Wall time: about --max, then about twice the UDP timeout (the timeout
 * alone without UDP).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common/duration.h"
#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "runner/run/session.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"
#include "runner/model/result.h"
#include "runner/run/run.h"
#include "runner/model/scenario.h"
#include "runner/run/sweep.h"
#include "runner/util/textutil.h"

#define DISC_COARSE 12
#define DISC_FINE 12
#define DISC_MAX_SETS 16
#define DISC_MAX_FLOWS 64       /* flows of one discover run: its plans are its own, well below SC_MAX_FLOWS */

enum dflow_role { DF_TIMEOUT, DF_CLIENT_FIRST, DF_KEEPALIVE, DF_INBOUND };

struct dflow {
	char name[SC_NAME_MAX];
	enum sc_proto proto;
	enum dflow_role role;
	uint64_t idle_ms;
	enum sc_speaker speaker;
	uint64_t ka_s;                  /* kernel keepalive idle (and interval), 0 = off */
	uint64_t shb_ms;                /* server heartbeat interval, 0 = none */
	/* result */
	char outcome[24];               /* "" = no result */
	char who[16];
	int64_t at_ms;                  /* since idle start, -1 = n/a */
	uint32_t shb_count;             /* server heartbeats that reached the client */
	int64_t shb_last_ms;            /* when the last did, since idle start; -1 = none */
};

struct dpass {
	struct dflow f[DISC_MAX_FLOWS];
	size_t n;
	uint64_t wall_ms;
};

struct bracket {
	bool found;                     /* a failure was seen */
	uint64_t lo, hi;                /* survived lo (0 = none), failed hi */
	bool suspicious;
};

struct discover {
	/* target */
	const char *server;             /* HOST:PORT, or NULL */
	char mbtext[4096];
	char target[SC_VALUE_MAX + 32];
	const char *sets[DISC_MAX_SETS];
	size_t nsets;
	struct timescale scale;
	uint64_t step_ms;               /* whole scaled seconds for keepalive times */
	uint64_t max_ms, deadline_ms;
	bool tcp, udp;
	/* results */
	struct dpass coarse, fine;
	struct bracket b[2], fb[2];     /* per proto: coarse and fine */
	uint64_t wall_ms;
};

static void discover_usage(FILE *f)
{
	fprintf(f,
"usage: idlegate discover (--server HOST:PORT | --profile NAME | --scenario FILE) [OPTIONS]\n\n"
"Measure a path's idle timeout for TCP and UDP with staggered parallel flows\n"
"(a coarse pass up to --max, then a fine pass inside the bracket), and how\n"
"the path behaves on expiry: silent drop or RST (and to whom), the outside\n"
"port kept or changed, whether TCP keepalives refresh the state, whether\n"
"inbound-only UDP traffic (server heartbeats) refreshes the mapping.\n\n"
"  -S, --server HOST:PORT  a real path: an idlegate-probe server on the far side\n"
"  -p, --profile NAME      a simulated middlebox playing a profile\n"
"  -s, --scenario FILE     the first [middlebox] of a scenario file\n"
"      --set KNOB=VALUE    override a knob of the simulated middlebox (repeatable)\n"
"      --time-scale 1/N    run the simulation N times faster (default 1)\n"
"      --max DURATION      the longest idle tried (default 10m)\n"
"      --proto tcp|udp|both  (default both)\n"
"      --deadline DURATION wait for an answer after an idle period (default 3s)\n"
"      --json FILE         write the answer as JSON\n"
"  -h, --help              this help\n\n"
"Exit status: 0 measured, 1 no expiry seen up to --max, 2 usage error,\n"
"3 environment error or a run that could not be trusted.\n");
}

static struct dflow *add_flow(struct dpass *p, const char *name, enum sc_proto proto, enum dflow_role role,
			      uint64_t idle_ms, enum sc_speaker sp, uint64_t ka_s)
{
	struct dflow *f;

	if (p->n >= DISC_MAX_FLOWS)
		return NULL;
	f = &p->f[p->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->proto = proto;
	f->role = role;
	f->idle_ms = idle_ms;
	f->speaker = sp;
	f->ka_s = ka_s;
	f->at_ms = -1;
	f->shb_last_ms = -1;
	return f;
}

/* ---- running a pass: in the simulator ---- */

static int pass_sim(struct discover *d, struct dpass *p, const char *what)
{
	struct tu_text b = { 0 };
	struct scenario *sc;
	struct scenario_result res;
	char sc_s[32], whose[32];
	int rc;

	tu_text_printf(&b, "[scenario]\ndescription = idlegate discover %s\ntime_scale = %s\n[middlebox m]\n%s", what,
		sc_scale_format(&d->scale, sc_s, sizeof(sc_s)), d->mbtext);
	cli_sets_text(&b, d->sets, d->nsets);
	for (size_t i = 0; i < p->n; i++) {
		const struct dflow *f = &p->f[i];

		tu_text_printf(&b, "[flow %s]\nproto = %s\nidle = %" PRIu64 "ms\nspeaker = %s\ndeadline = %" PRIu64
			"ms\nexpect = alive\n", f->name, sc_proto_name(f->proto), f->idle_ms,
			sc_speaker_name(f->speaker), d->deadline_ms);
		if (f->ka_s)
			tu_text_printf(&b, "keepalive = %" PRIu64 "s,%" PRIu64 "s,3\n", f->ka_s, d->step_ms / 1000);
		if (f->shb_ms)
			tu_text_printf(&b, "server_heartbeat = %" PRIu64 "ms\n", f->shb_ms);
	}
	sc = sweep_parse(b.s, b.len, "(discover)");
	free(b.s);
	if (!sc)
		return IG_EXIT_USAGE;
	snprintf(whose, sizeof(whose), "the %s pass", what);
	rc = cli_sweep("discover", sc, what, whose, &res, &p->wall_ms);
	if (rc)
		goto out;
	/* the flows of sc are p's, in the same order */
	for (size_t i = 0; i < p->n && i < res.nflows; i++) {
		const struct flow_result *fr = &res.flows[i];
		struct dflow *f = &p->f[i];

		snprintf(f->outcome, sizeof(f->outcome), "%.*s", (int)sizeof(f->outcome) - 1, fr->observed);
		snprintf(f->who, sizeof(f->who), "%s", fr->noticed_by);
		f->at_ms = fr->noticed_ms;
		f->shb_count = fr->server_heartbeats;
		f->shb_last_ms = fr->last_server_heartbeat_ms;
	}
out:
	result_clear(&res);
	scenario_free(sc);
	return rc;
}

/* ---- running a pass: against a real idlegate-probe server ---- */

/* The probe's command line: idlegate-probe client with one --flow per flow
 * of p (the text in specs), its results as JSON lines into json. */
static void probe_argv(const struct discover *d, const struct dpass *p, char *probe, char *json,
		       char specs[][200], char **argv)
{
	size_t n = 0;

	argv[n++] = probe;
	argv[n++] = "-q";
	argv[n++] = "client";
	argv[n++] = "--server";
	argv[n++] = (char *)d->server;
	argv[n++] = "--json";
	argv[n++] = json;
	argv[n++] = "--no-table";
	for (size_t i = 0; i < p->n; i++) {
		const struct dflow *fl = &p->f[i];
		int off = snprintf(specs[i], 200, "name=%s,proto=%s,idle=%" PRIu64 "ms,speaker=%s,"
				   "deadline=%" PRIu64 "ms", fl->name, sc_proto_name(fl->proto), fl->idle_ms,
				   sc_speaker_name(fl->speaker), d->deadline_ms);

		if (fl->ka_s)
			off += snprintf(specs[i] + off, 200 - (size_t)off, ",keepalive=%" PRIu64 "s/1s/3", fl->ka_s);
		if (fl->shb_ms)
			snprintf(specs[i] + off, 200 - (size_t)off, ",server_heartbeat=%" PRIu64 "ms", fl->shb_ms);
		argv[n++] = "--flow";
		argv[n++] = specs[i];
	}
	argv[n] = NULL;
}

/* Run the probe and wait for it: 0 when it ran (every flow has a result
 * line, as expected or not), or IG_EXIT_ENV after saying why not. */
static int probe_run(char **argv)
{
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		log_warn("discover: fork");
		return IG_EXIT_ENV;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1)) {
		log_warnx("discover: idlegate-probe client failed (status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return IG_EXIT_ENV;
	}
	return 0;
}

/* One result line of the probe into the flow of p it names. */
static void probe_result(struct dpass *p, json_t *js, const char *name)
{
	for (size_t i = 0; i < p->n; i++) {
		struct dflow *fl = &p->f[i];
		int64_t at = -1;
		bool reach = false;

		if (strcmp(fl->name, name))
			continue;
		jsonio_get_str(js, "outcome", fl->outcome, sizeof(fl->outcome));
		jsonio_get_str(js, "noticed_by", fl->who, sizeof(fl->who));
		if (jsonio_get_int(js, "at_ms", &at) == 0)
			fl->at_ms = at;
		at = -1;
		if (jsonio_get_int(js, "client.server_heartbeats", &at) == 0 && at >= 0)
			fl->shb_count = (uint32_t)at;
		at = -1;
		if (jsonio_get_int(js, "client.last_server_heartbeat_ms", &at) == 0 && at >= 0)
			fl->shb_last_ms = at;
		jsonio_get_bool(js, "server_reachable", &reach);
		if (!reach && strcmp(fl->outcome, "alive"))
			log_warnx("discover: flow %s: the server's side could not be obtained", name);
	}
}

/* The probe's JSON lines in file json into the flows of p. */
static void probe_results(struct dpass *p, const char *json)
{
	FILE *f = fopen(json, "re");
	char *line = NULL;
	size_t cap = 0;

	for (unsigned lineno = 1; f && getline(&line, &cap, f) >= 0; lineno++) {
		char name[64], why[160];
		json_t *js = jsonio_load(line, strlen(line), why, sizeof(why));

		if (!js) {
			log_warnx("discover: idlegate-probe's result line %u: %s", lineno, why);
			continue;
		}
		if (jsonio_get_str(js, "flow", name, sizeof(name)) == 0)
			probe_result(p, js, name);
		json_decref(js);
	}
	free(line);
	if (f)
		fclose(f);
}

static uint64_t longest_idle(const struct dpass *p)
{
	uint64_t longest = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].idle_ms > longest)
			longest = p->f[i].idle_ms;
	return longest;
}

static int pass_server(struct discover *d, struct dpass *p, const char *what)
{
	char probe[PATH_MAX], json[PATH_MAX], specs[DISC_MAX_FLOWS][200], a[32];
	char *argv[16 + 2 * DISC_MAX_FLOWS];
	uint64_t t0 = mtime_ms();
	int fd, rc;

	if (run_find_program("idlegate-probe", probe, sizeof(probe)) < 0) {
		log_warnx("discover: idlegate-probe not found next to idlegate or on PATH (set IDLEGATE_PROBE)");
		return IG_EXIT_ENV;
	}
	snprintf(json, sizeof(json), "%s/idlegate-discover-%ld-XXXXXX", session_tmpdir(), (long)getpid());
	fd = mkstemp(json);
	if (fd < 0) {
		log_warn("discover: %s", json);
		return IG_EXIT_ENV;
	}
	close(fd);
	probe_argv(d, p, probe, json, specs, argv);
	if (log_verbosity() > 0)
		fprintf(stderr, "discover: %s pass, %zu flows, about %s\n", what, p->n,
			duration_format(duration_round(longest_idle(p) + d->deadline_ms), a, sizeof(a)));
	rc = probe_run(argv);
	p->wall_ms = mtime_ms() - t0;
	if (rc)
		goto out;
	probe_results(p, json);
	for (size_t i = 0; i < p->n; i++)
		if (!p->f[i].outcome[0] || !strcmp(p->f[i].outcome, "error") ||
		    !strcmp(p->f[i].outcome, "interrupted")) {
			log_warnx("discover: flow %s could not be run (%s): is an idlegate-probe server listening "
				  "on %s?", p->f[i].name, p->f[i].outcome[0] ? p->f[i].outcome : "no result", d->server);
			rc = IG_EXIT_ENV;
			goto out;
		}
out:
	unlink(json);
	return rc;
}

static int run_pass(struct discover *d, struct dpass *p, const char *what)
{
	return d->server ? pass_server(d, p, what) : pass_sim(d, p, what);
}

/* ---- analysis ---- */

/* The bracket of the timeout flows of proto in pass p. */
static void bracket_of(const struct dpass *p, enum sc_proto proto, uint64_t lo0, struct bracket *b)
{
	bool failed = false;

	memset(b, 0, sizeof(*b));
	b->lo = lo0;
	for (size_t i = 0; i < p->n; i++) {
		const struct dflow *f = &p->f[i];
		bool alive;

		if (f->role != DF_TIMEOUT || f->proto != proto)
			continue;
		alive = !strcmp(f->outcome, "alive");
		if (!failed && alive) {
			b->lo = f->idle_ms;
		} else if (!failed) {
			failed = true;
			b->found = true;
			b->hi = f->idle_ms;
		} else if (alive) {
			b->suspicious = true;
		}
	}
}

static const struct dflow *find_role(const struct dpass *p, enum sc_proto proto, enum dflow_role role)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].proto == proto && p->f[i].role == role)
			return &p->f[i];
	return NULL;
}

/* The first failing timeout flow of proto (the server spoke first). */
static const struct dflow *first_fail(const struct dpass *p, enum sc_proto proto)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].proto == proto && p->f[i].role == DF_TIMEOUT && strcmp(p->f[i].outcome, "alive"))
			return &p->f[i];
	return NULL;
}

/*
 * How TCP expiry shows: from a server-first flow after expiry (sf) and a
 * client-first one (cf). Names follow the on_expire knob.
 */
static const char *tcp_expiry_name(const struct dflow *sf, const struct dflow *cf, const char **words)
{
	bool at_expiry = false;

	for (int k = 0; k < 2; k++) {
		const struct dflow *f = k ? cf : sf;

		if (f && strcmp(f->outcome, "alive") && f->at_ms >= 0 && (uint64_t)f->at_ms + 200 < f->idle_ms)
			at_expiry = true;
	}
	if (cf && !strcmp(cf->outcome, "closed")) {
		*words = "an orderly close (FIN) to the inside host at expiry";
		return "fin-inside";
	}
	if ((sf && !strcmp(sf->outcome, "unreachable")) || (cf && !strcmp(cf->outcome, "unreachable"))) {
		*words = "ICMP unreachable to whichever side sends next";
		return "icmp-unreachable";
	}
	if (at_expiry && ((sf && !strcmp(sf->outcome, "reset")) || (cf && !strcmp(cf->outcome, "reset")))) {
		*words = "RST to both ends at expiry, before anyone sends";
		return "rst-both-at-expiry";
	}
	if (sf && !strcmp(sf->outcome, "reset") && cf && !strcmp(cf->outcome, "reset")) {
		*words = "RST to whichever side sends next (inside and outside)";
		return "rst-next-sender";
	}
	if (cf && !strcmp(cf->outcome, "reset")) {
		*words = "silent toward the outside; RST to the inside host when it next sends";
		return "rst-inside-on-next";
	}
	if (sf && !strcmp(sf->outcome, "reset")) {
		*words = "RST to the outside host when it next sends; silent toward the inside";
		return "rst-outside-on-next";
	}
	if (cf && !strcmp(cf->outcome, "alive")) {
		*words = "silent drop; a packet from the inside starts the flow again (loose pickup)";
		return "drop";
	}
	*words = "silent drop: packets after expiry vanish, nobody is told";
	return "drop";
}

/*
 * Does inbound-only traffic refresh the UDP mapping? f idled for twice the
 * first failing idle hi, with only the server's heartbeats: if the last one
 * reached the client past halfway between hi and the end of the idle, they
 * kept arriving (yes); earlier, they stopped at about the timeout (no).
 * NULL when none arrived at all.
 */
static const char *inbound_refresh(const struct dflow *f, uint64_t hi)
{
	if (!f->shb_count || f->shb_last_ms < 0)
		return NULL;
	return (uint64_t)f->shb_last_ms >= (hi + f->idle_ms) / 2 ? "yes" : "no";
}

static void print_bracket(FILE *out, const char *proto, const struct bracket *c, const struct bracket *f,
			  uint64_t max)
{
	char a[32], b[32], e[32];

	if (!c->found) {
		fprintf(out, "  %s idle timeout: not reached: every idle up to %s survived\n", proto,
			duration_format(duration_round(max), a, sizeof(a)));
		return;
	}
	fprintf(out, "  %s idle timeout: %s +- %s (survived %s, expired by %s)\n", proto,
		duration_format(duration_round((f->lo + f->hi) / 2), a, sizeof(a)), duration_format(duration_round((f->hi - f->lo + 1) / 2), b, sizeof(b)),
		duration_format(duration_round(f->lo), e, sizeof(e)), duration_format(duration_round(f->hi), (char[32]){ 0 }, 32));
	if (c->suspicious || f->suspicious)
		fprintf(out, "    SUSPICIOUS: a longer idle survived after a shorter one failed (not monotonic)\n");
}

#define JI(v) ((json_int_t)(v))

static json_t *json_bracket(const struct bracket *c, const struct bracket *fb)
{
	json_t *o = json_pack("{s:b,s:b,s:{s:f,s:f}}", "found", c->found,
			      "suspicious", c->suspicious || fb->suspicious,
			      "coarse", "survived_s", (double)c->lo / 1000, "expired_s", (double)c->hi / 1000);

	if (o && c->found)
		json_object_update_new(o, json_pack("{s:f,s:f,s:f,s:f}",
						    "timeout_s", (double)(fb->lo + fb->hi) / 2000,
						    "resolution_s", (double)(fb->hi - fb->lo) / 2000,
						    "survived_s", (double)fb->lo / 1000, "expired_s", (double)fb->hi / 1000));
	else if (o)
		json_object_update_new(o, json_pack("{s:n,s:n}", "timeout_s", "resolution_s"));
	return o;
}

static json_t *flows_json(const struct dpass *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->n; i++) {
		json_t *o = json_pack("{s:o,s:s,s:I,s:s,s:I,s:o,s:o,s:I}", "name", jsonio_str(p->f[i].name),
				      "proto", sc_proto_name(p->f[i].proto), "idle_ms", JI(p->f[i].idle_ms),
				      "speaker", sc_speaker_name(p->f[i].speaker), "keepalive_s", JI(p->f[i].ka_s),
				      "outcome", jsonio_str(p->f[i].outcome),
				      "noticed_by", jsonio_str_or_null(p->f[i].who[0] ? p->f[i].who : NULL),
				      "at_ms", JI(p->f[i].at_ms));

		if (o && p->f[i].shb_ms)
			json_object_update_new(o, json_pack("{s:I,s:I,s:I}", "server_heartbeat_ms", JI(p->f[i].shb_ms),
							    "server_heartbeats", JI(p->f[i].shb_count),
							    "last_server_heartbeat_ms", JI(p->f[i].shb_last_ms)));
		json_array_append_new(a, o);
	}
	return a;
}

struct discover_cli {
	const char *profile, *scfile;
	struct cli_reports rep;         /* --json */
	int ntarget;                    /* how many of --server, --profile, --scenario */
};

/* --max or --deadline (ch 'm' or 'd') into d. 0, or -1 after saying why. */
static int parse_duration_opt(struct discover *d, int ch, const char *arg)
{
	uint64_t v;

	if (duration_parse(arg, &v) < 0 || v < 1000) {
		log_warnx("discover: --%s '%s': a duration of at least 1 s", ch == 'm' ? "max" : "deadline", arg);
		return -1;
	}
	*(ch == 'm' ? &d->max_ms : &d->deadline_ms) = v;
	return 0;
}

/* One --set into d. 0, or -1 after saying why. */
static int parse_set_opt(struct discover *d, const char *arg)
{
	char hint[32];

	snprintf(hint, sizeof(hint), "at most %d", DISC_MAX_SETS);
	if (d->nsets == DISC_MAX_SETS) {
		log_warnx("discover: --set '%s': KNOB=VALUE (%s)", arg, hint);
		return -1;
	}
	if (cli_set_check("discover", arg, hint) < 0)
		return -1;
	d->sets[d->nsets++] = arg;
	return 0;
}

/* The options into d and c. CLI_GO, or the exit status to return now. */
static int discover_parse_args(int argc, char **argv, struct discover *d, struct discover_cli *c)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 'S' },
		{ "profile", required_argument, NULL, 'p' },
		{ "scenario", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'K' },
		{ "time-scale", required_argument, NULL, 't' },
		{ "max", required_argument, NULL, 'm' },
		{ "proto", required_argument, NULL, 'P' },
		{ "deadline", required_argument, NULL, 'd' },
		CLI_OPT_JSON_ENTRY,
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+S:p:s:hq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
		if (cli_report_option(&c->rep, ch, optarg))
			continue;
		switch (ch) {
		case 'S': d->server = optarg; c->ntarget++; break;
		case 'p': c->profile = optarg; c->ntarget++; break;
		case 's': c->scfile = optarg; c->ntarget++; break;
		case 'K':
			if (parse_set_opt(d, optarg) < 0)
				return IG_EXIT_USAGE;
			break;
		case 't':
			if (timescale_parse(optarg, &d->scale) < 0 || d->scale.num != 1) {
				log_warnx("discover: --time-scale '%s': 1/N (or Nx) with a whole N >= 1", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 'm':
		case 'd':
			if (parse_duration_opt(d, ch, optarg) < 0)
				return IG_EXIT_USAGE;
			break;
		case 'P':
			d->tcp = !strcmp(optarg, "tcp") || !strcmp(optarg, "both");
			d->udp = !strcmp(optarg, "udp") || !strcmp(optarg, "both");
			if (!d->tcp && !d->udp) {
				log_warnx("discover: --proto '%s': tcp, udp or both", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 'h':
			discover_usage(stdout);
			return IG_EXIT_OK;
		default:
			discover_usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	if (optind < argc || c->ntarget != 1) {
		log_warnx("discover: give exactly one of --server HOST:PORT, --profile NAME, --scenario FILE");
		return IG_EXIT_USAGE;
	}
	if (d->server && d->nsets) {
		log_warnx("discover: --set applies to a simulated middlebox, not to --server");
		return IG_EXIT_USAGE;
	}
	return CLI_GO;
}

/* What is measured, in d: the simulated middlebox's section or the server,
 * and its name in words. 0, or IG_EXIT_USAGE after saying why. */
static int discover_target(struct discover *d, const struct discover_cli *c)
{
	struct scenario *sc;

	d->step_ms = d->scale.den * 1000;
	if (c->profile) {
		snprintf(d->mbtext, sizeof(d->mbtext), "profile = %s\n", c->profile);
		snprintf(d->target, sizeof(d->target), "simulated %s", c->profile);
	} else if (c->scfile) {
		sc = cli_scenario_load(c->scfile);
		if (!sc)
			return IG_EXIT_USAGE;
		cli_mb_text(&sc->mb[0], d->mbtext, sizeof(d->mbtext));
		snprintf(d->target, sizeof(d->target), "simulated middlebox %s of %s", sc->mb[0].name, c->scfile);
		scenario_free(sc);
	} else {
		snprintf(d->target, sizeof(d->target), "the path to %s", d->server);
	}
	if (d->max_ms < DISC_COARSE * 100) {
		log_warnx("discover: --max is too short to split into %d flows", DISC_COARSE);
		return IG_EXIT_USAGE;
	}
	return 0;
}

/* Pass 1: flows idle 1/N, 2/N, ... N/N of --max, the server first. */
static int pass_coarse(struct discover *d)
{
	char a[32];

	for (int pr = 0; pr < 2; pr++) {
		if (!(pr ? d->udp : d->tcp))
			continue;
		for (int i = 1; i <= DISC_COARSE; i++) {
			char name[SC_NAME_MAX];

			snprintf(name, sizeof(name), "c-%s-%d", pr ? "udp" : "tcp", i);
			add_flow(&d->coarse, name, pr ? SC_UDP : SC_TCP, DF_TIMEOUT,
				 d->max_ms * (uint64_t)i / DISC_COARSE, SC_SERVER, 0);
		}
	}
	if (log_verbosity() > 0)
		fprintf(stderr, "idlegate discover: %s; coarse pass: %zu flows idle up to %s\n", d->target,
			d->coarse.n, duration_format(duration_round(d->max_ms), a, sizeof(a)));
	return run_pass(d, &d->coarse, "coarse");
}

/* The fine pass's flows for proto pr (0 TCP, 1 UDP) inside its coarse
 * bracket c: the timeout flows, then the behaviour flows. */
static void plan_fine(struct discover *d, int pr, const struct bracket *c)
{
	uint64_t lo = c->lo, hi = c->hi, beyond = hi + hi / 3 + 1000;

	for (int j = 1; j < DISC_FINE + 1; j++) {
		char name[SC_NAME_MAX];
		uint64_t t = lo + (hi - lo) * (uint64_t)j / (DISC_FINE + 1);

		snprintf(name, sizeof(name), "f-%s-%d", pr ? "udp" : "tcp", j);
		add_flow(&d->fine, name, pr ? SC_UDP : SC_TCP, DF_TIMEOUT, t, SC_SERVER, 0);
	}
	add_flow(&d->fine, pr ? "b-udp-client-first" : "b-tcp-client-first", pr ? SC_UDP : SC_TCP,
		 DF_CLIENT_FIRST, beyond, SC_CLIENT, 0);
	if (!pr) {
		/* kernel keepalive at a third of the surviving idle, whole scaled seconds */
		uint64_t k = lo / 3 / d->step_ms * d->step_ms;

		if (k >= d->step_ms)
			add_flow(&d->fine, "b-tcp-keepalive", SC_TCP, DF_KEEPALIVE, beyond, SC_SERVER, k / 1000);
	} else {
		/* only the server sends, every quarter of the surviving idle (an
		 * eighth of the first failing one), for twice the failing idle */
		uint64_t iv = lo >= 400 ? lo / 4 : hi / 8;
		struct dflow *f;

		if (iv < 100)
			iv = 100;
		f = add_flow(&d->fine, "b-udp-inbound", SC_UDP, DF_INBOUND, 2 * hi, SC_CLIENT, 0);
		if (f)
			f->shb_ms = iv;
	}
}

/* Pass 2: fine, plus the behaviour flows, for each proto whose coarse pass
 * found an expiry; then the fine brackets. */
static int pass_fine(struct discover *d)
{
	char a[32];
	int rc;

	for (int pr = 0; pr < 2; pr++) {
		if (!(pr ? d->udp : d->tcp))
			continue;
		bracket_of(&d->coarse, pr ? SC_UDP : SC_TCP, 0, &d->b[pr]);
		if (d->b[pr].found)
			plan_fine(d, pr, &d->b[pr]);
	}
	if (d->fine.n) {
		if (log_verbosity() > 0)
			fprintf(stderr, "idlegate discover: fine pass: %zu flows, up to %s idle\n", d->fine.n,
				duration_format(duration_round(longest_idle(&d->fine)), a, sizeof(a)));
		rc = run_pass(d, &d->fine, "fine");
		if (rc)
			return rc;
	}
	for (int pr = 0; pr < 2; pr++) {
		if (d->b[pr].found) {
			bracket_of(&d->fine, pr ? SC_UDP : SC_TCP, d->b[pr].lo, &d->fb[pr]);
			if (!d->fb[pr].found)
				d->fb[pr].hi = d->b[pr].hi;
			if (d->b[pr].suspicious)
				d->fb[pr].suspicious = true;
		}
	}
	return 0;
}

/* The behaviour on expiry, as printed and as written to --json; NULL where
 * not measured. */
struct behaviour {
	const char *tcp_name, *tcp_words;       /* on_expire's name, and in words */
	const char *tcp_ka;                     /* keepalives refresh: "yes", "no" */
	const char *udp_port;                   /* "kept", "changed", "unknown" */
	const char *udp_inbound;                /* inbound-only refreshes: "yes", "no" */
};

static void print_tcp_behaviour(const struct discover *d, struct behaviour *bh)
{
	const struct dflow *tcf = find_role(&d->fine, SC_TCP, DF_CLIENT_FIRST);
	const struct dflow *tka = find_role(&d->fine, SC_TCP, DF_KEEPALIVE);
	char a[32], b[32];

	bh->tcp_name = tcp_expiry_name(first_fail(&d->coarse, SC_TCP), tcf, &bh->tcp_words);
	printf("  TCP on expiry: %s (%s)\n", bh->tcp_name, bh->tcp_words);
	if (!tka) {
		printf("  TCP keepalives refresh the state: not measured (the timeout is below 3 keepalive "
		       "seconds at this time scale)\n");
		return;
	}
	bh->tcp_ka = !strcmp(tka->outcome, "alive") ? "yes" : "no";
	printf("  TCP keepalives (no payload) refresh the state: %s (keepalive every %s kept a %s "
	       "idle flow %s)\n", bh->tcp_ka, duration_format(tka->ka_s * 1000, b, sizeof(b)),
	       duration_format(duration_round(tka->idle_ms), a, sizeof(a)), !strcmp(bh->tcp_ka, "yes") ? "alive" : "from dying");
}

static void print_udp_port(const struct discover *d, struct behaviour *bh)
{
	const struct dflow *ucf = find_role(&d->fine, SC_UDP, DF_CLIENT_FIRST);
	char a[32];

	if (ucf && !strcmp(ucf->outcome, "rebound"))
		bh->udp_port = "changed";
	else if (ucf && !strcmp(ucf->outcome, "alive"))
		bh->udp_port = "kept";
	else
		bh->udp_port = "unknown";
	printf("  UDP after expiry: the outside port is %s (the client spoke first after %s: %s)\n", bh->udp_port,
	       duration_format(duration_round(ucf ? ucf->idle_ms : 0), a, sizeof(a)), ucf ? ucf->outcome : "-");
}

static void print_udp_inbound(const struct discover *d, const struct dflow *uin, struct behaviour *bh)
{
	char a[32], b2[32], b3[32], b4[32];

	bh->udp_inbound = inbound_refresh(uin, d->b[1].hi);
	if (!bh->udp_inbound)
		printf("  UDP inbound refresh: unknown (none of the server's heartbeats every %s reached the "
		       "client)\n", duration_format(duration_round(uin->shb_ms), a, sizeof(a)));
	else if (!strcmp(bh->udp_inbound, "yes"))
		printf("  UDP inbound refresh: yes (server heartbeats every %s, with the client silent, kept "
		       "arriving until %s of a %s idle)\n", duration_format(duration_round(uin->shb_ms), a, sizeof(a)),
		       duration_format(duration_round((uint64_t)uin->shb_last_ms), b2, sizeof(b2)),
		       duration_format(duration_round(uin->idle_ms), b3, sizeof(b3)));
	else
		printf("  UDP inbound refresh: no (server heartbeats every %s, with the client silent, stopped "
		       "arriving after %s, about the timeout (expired by %s); idle %s)\n",
		       duration_format(duration_round(uin->shb_ms), a, sizeof(a)),
		       duration_format(duration_round((uint64_t)uin->shb_last_ms), b2, sizeof(b2)),
		       duration_format(duration_round(d->fb[1].hi), b4, sizeof(b4)), duration_format(duration_round(uin->idle_ms), b3, sizeof(b3)));
}

/* The answer on standard output; the behaviour it found into bh. */
static void print_answer(const struct discover *d, struct behaviour *bh)
{
	const struct dflow *uin;
	char a[32];

	printf("idlegate discover: %s (took %s)\n", d->target, duration_format(duration_round(d->wall_ms), a, sizeof(a)));
	if (d->tcp)
		print_bracket(stdout, "TCP", &d->b[0], &d->fb[0], d->max_ms);
	if (d->udp)
		print_bracket(stdout, "UDP", &d->b[1], &d->fb[1], d->max_ms);
	printf("  resolution: half the spacing of the fine pass's flows");
	for (int pr = 0; pr < 2; pr++)
		if (d->b[pr].found)
			printf("; %s %s", pr ? "UDP" : "TCP",
			       duration_format(duration_round((d->fb[pr].hi - d->fb[pr].lo + 1) / 2), a, sizeof(a)));
	printf("\n");
	if (d->b[0].found)
		print_tcp_behaviour(d, bh);
	if (d->b[1].found)
		print_udp_port(d, bh);
	if (d->b[1].found && (uin = find_role(&d->fine, SC_UDP, DF_INBOUND)))
		print_udp_inbound(d, uin, bh);
}

static json_t *json_yes_no(const char *answer)
{
	return answer ? json_boolean(!strcmp(answer, "yes")) : json_null();
}

/* The answer as JSON into path: 0, or -1 with errno. */
static int write_json(const char *path, const struct discover *d, const struct behaviour *bh)
{
	char tmp[PATH_MAX];
	json_t *doc = json_pack("{s:s,s:o,s:f,s:I,s:I,s:I,s:o,s:o,s:{s:o,s:o,s:o,s:o,s:o},s:o,s:o}",
				"tool", "idlegate discover", "target", jsonio_str(d->target),
				"max_s", (double)d->max_ms / 1000, "wall_ms", JI(d->wall_ms),
				"coarse_wall_ms", JI(d->coarse.wall_ms), "fine_wall_ms", JI(d->fine.wall_ms),
				"tcp", json_bracket(&d->b[0], &d->fb[0]), "udp", json_bracket(&d->b[1], &d->fb[1]),
				"behaviour", "tcp_on_expire", jsonio_str_or_null(bh->tcp_name),
				"tcp_on_expire_words", jsonio_str_or_null(bh->tcp_words),
				"tcp_keepalive_refreshes", json_yes_no(bh->tcp_ka),
				"udp_port_after_expiry", jsonio_str_or_null(bh->udp_port),
				"udp_inbound_only_refreshes", json_yes_no(bh->udp_inbound),
				"coarse", flows_json(&d->coarse), "fine", flows_json(&d->fine));
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

int cmd_discover(int argc, char **argv)
{
	static struct discover d;
	struct discover_cli c = { 0 };
	struct behaviour bh = { 0 };
	uint64_t t0;
	int rc;

	memset(&d, 0, sizeof(d));
	d.scale.num = d.scale.den = 1;
	d.max_ms = 600000;
	d.deadline_ms = 3000;
	d.tcp = d.udp = true;
	rc = discover_parse_args(argc, argv, &d, &c);
	if (rc != CLI_GO)
		return rc;
	rc = discover_target(&d, &c);
	if (rc)
		return rc;
	t0 = mtime_ms();
	rc = pass_coarse(&d);
	if (rc)
		return rc;
	rc = pass_fine(&d);
	if (rc)
		return rc;
	d.wall_ms = mtime_ms() - t0;
	print_answer(&d, &bh);
	rc = d.b[0].found || d.b[1].found ? IG_EXIT_OK : IG_EXIT_FAILED;
	if (c.rep.json && write_json(c.rep.json, &d, &bh) < 0)
		rc = cli_report_failed("discover", "--json", c.rep.json);
	return rc;
}
