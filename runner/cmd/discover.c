// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate discover`: measure a path's idle timeouts (TCP, UDP after one
 * exchange, UDP after two-way traffic) and how it behaves when they expire,
 * and say it in the knob values that reproduce it (optionally as a profile
 * file). The path is either a simulated middlebox (--profile / --scenario:
 * the flows run in a generated scenario, through runner/run/sweep.h) or a
 * real network with an idlegate-probe server on the far side (--server
 * HOST:PORT: the flows run in idlegate-probe client).
 *
 * Two passes, each with every flow in parallel, each ended as soon as its
 * answer is known (the flows still running are not needed):
 *  1. coarse: per measure, flows idle 1/N, 2/N, ... N/N of --max, the server
 *     speaking first after the idle (the case that needs the path's state).
 *     The largest idle that survived and the first that failed bracket the
 *     timeout; the pass ends once every measure's first failure is known.
 *  2. fine: N flows staggered inside each bracket, plus the behaviour flows,
 *     each idle "beyond" the bracket (a third more, plus a second): a TCP
 *     and a UDP flow with the client speaking first (RST or silence toward
 *     the inside; UDP: the outside port kept or changed), a TCP flow with
 *     kernel keepalives every kernel second (do payload-less keepalives
 *     refresh the state?), and a UDP flow during whose idle only the server
 *     sends heartbeats: if they keep reaching the client past the timeout,
 *     inbound-only traffic refreshes the mapping; if they stop at about
 *     the timeout, it does not.
 * Wall time: at most T + M/N + deadline (coarse) and 4/3 (T + M/N) + 1 s +
 * deadline (fine), T the longest timeout, M --max, plus a stated overhead
 * per pass; discover says so before it starts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#define DISC_WARMUP_MS 3000             /* two-way traffic before a stream flow's idle */
#define DISC_PASS_OVERHEAD_MS 15000     /* setting up and ending one pass, at most */

/* What is measured: one idle timeout each. */
enum dmeasure { DM_TCP, DM_UDP, DM_STREAM, DM_N };

static const struct measure_info {
	const char *label;              /* in the answer */
	const char *key;                /* flow names, JSON */
	const char *knob;               /* the profile knob it sets */
	const char *what;               /* what the flows do before their idle */
	enum sc_proto proto;
	uint64_t warmup_ms;
} measures[DM_N] = {
	{ "TCP", "tcp", "tcp.established", "an established connection", SC_TCP, 0 },
	{ "UDP", "udp", "udp.unreplied", "one exchange (the kernel's unreplied timeout applies)", SC_UDP, 0 },
	{ "UDP stream", "udps", "udp.assured", "two-way traffic for 3s (assured, conntrack's _stream timeout)",
	  SC_UDP, DISC_WARMUP_MS },
};

enum dflow_role { DF_TIMEOUT, DF_CLIENT_FIRST, DF_KEEPALIVE, DF_INBOUND };

struct dflow {
	char name[SC_NAME_MAX];
	enum dmeasure m;
	enum dflow_role role;
	uint64_t idle_ms;
	enum sc_speaker speaker;
	uint64_t ka_ms;                 /* kernel keepalive idle and interval, 0 = off */
	uint64_t shb_ms;                /* server heartbeat interval, 0 = none */
	/* result */
	char outcome[24];               /* "" = none: not needed (the pass ended first) */
	char who[16];
	int64_t at_ms;                  /* since idle start, -1 = n/a */
	uint32_t shb_count;             /* server heartbeats that reached the client */
	int64_t shb_last_ms;            /* when the last did, since idle start; -1 = none */
	char local[48], seen_as[48];    /* the client's address, and as the server saw it */
};

struct dpass {
	struct dflow f[DISC_MAX_FLOWS];
	size_t n;
	uint64_t wall_ms;
	bool ended_early;               /* stopped once its answer was known */
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
	uint64_t step_ms;               /* one kernel second, in scenario time */
	uint64_t max_ms, deadline_ms;
	bool on[DM_N];                  /* measured */
	const char *profile_out;        /* --write-profile */
	/* results */
	struct dpass coarse, fine;
	struct bracket b[DM_N], fb[DM_N];       /* coarse and fine */
	uint64_t wall_ms;
};

/* Every duration discover prints or writes, in the format a user would type
 * into a scenario: DUR exact (idles it set, brackets, bounds), MEAS a
 * measurement (when something was noticed, how long it took), rounded to
 * the precision people read (duration_round). */
#define DUR_LEN 32
static const char *dur_text(uint64_t ms, char *buf)
{
	return duration_format(ms, buf, DUR_LEN);
}
#define DUR(ms) dur_text((ms), (char[DUR_LEN]){ 0 })
#define MEAS(ms) DUR(duration_round(ms))

static bool failed(const struct dflow *f)
{
	return f->outcome[0] && strcmp(f->outcome, "alive");
}

static void discover_usage(FILE *f)
{
	fprintf(f,
"usage: idlegate discover (--server HOST:PORT | --profile NAME | --scenario FILE) [OPTIONS]\n\n"
"Measure a path's idle timeouts (TCP; UDP after one exchange; UDP after 3s of\n"
"two-way traffic) with staggered parallel flows (a coarse pass up to --max,\n"
"then a fine pass inside the bracket, each ended as soon as its answer is\n"
"known), and how the path behaves on expiry, named as the knob values that\n"
"reproduce it: on_expire, pickup, inbound_unknown, refresh (do TCP keepalives,\n"
"does inbound-only UDP traffic refresh the state?), nat and nat.ports.\n"
"The wall time it may take is printed before it starts.\n\n"
"  -S, --server HOST:PORT  a real path: an idlegate-probe server on the far side\n"
"  -p, --profile NAME      a simulated middlebox playing a profile\n"
"  -s, --scenario FILE     the first [middlebox] of a scenario file\n"
"      --set KNOB=VALUE    override a knob of the simulated middlebox (repeatable)\n"
"      --time-scale 1/N    run the simulation N times faster (default 1)\n"
"      --max DURATION      the longest idle tried (default 10m)\n"
"      --proto tcp|udp|both  (default both)\n"
"      --deadline DURATION wait for an answer after an idle period (default 3s)\n"
"      --json FILE         write the answer as JSON\n"
"  -w, --write-profile FILE  write what was measured as a profile file, for a\n"
"                          scenario's `profile = FILE` (timeouts rounded down)\n"
"  -h, --help              this help\n\n"
"Exit status: 0 measured, 1 no expiry seen up to --max, 2 usage error,\n"
"3 environment error or a run that could not be trusted.\n");
}

static struct dflow *add_flow(struct dpass *p, const char *name, enum dmeasure m, enum dflow_role role,
			      uint64_t idle_ms, enum sc_speaker sp)
{
	struct dflow *f;

	if (p->n >= DISC_MAX_FLOWS)
		return NULL;
	f = &p->f[p->n++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->m = m;
	f->role = role;
	f->idle_ms = idle_ms;
	f->speaker = sp;
	f->at_ms = -1;
	f->shb_last_ms = -1;
	return f;
}

static struct dflow *flow_named(struct dpass *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->f[i].name, name))
			return &p->f[i];
	return NULL;
}

/* ---- ending a pass once its answer is known ---- */

/* Has every timeout flow of m up to its first failure ended? (Flows of a
 * measure are added shortest idle first.) */
static bool measure_answered(const struct dpass *p, enum dmeasure m)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct dflow *f = &p->f[i];

		if (f->m != m || f->role != DF_TIMEOUT)
			continue;
		if (!f->outcome[0])
			return false;
		if (failed(f))
			return true;
	}
	return true;
}

/* The answer of pass p is known: every measure's bracket, and every
 * behaviour flow's outcome. */
static bool pass_answered(const struct dpass *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].role != DF_TIMEOUT && !p->f[i].outcome[0])
			return false;
	for (int m = 0; m < DM_N; m++)
		if (!measure_answered(p, (enum dmeasure)m))
			return false;
	return true;
}

/* A flow of the pass (ctx) ended: is the pass's answer known now? */
static bool pass_flow_ended(void *ctx, const char *name, const char *outcome)
{
	struct dpass *p = ctx;
	struct dflow *f = flow_named(p, name);

	if (f && strcmp(outcome, "interrupted"))
		snprintf(f->outcome, sizeof(f->outcome), "%s", outcome);
	return pass_answered(p);
}

/* Before the results are read: nothing known yet. */
static void pass_reset(struct dpass *p)
{
	for (size_t i = 0; i < p->n; i++)
		p->f[i].outcome[0] = '\0';
}

/* ---- running a pass: in the simulator ---- */

static int pass_sim(struct discover *d, struct dpass *p, const char *what)
{
	struct sweep_stop stop = { .flow_ended = pass_flow_ended, .ctx = p };
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
			"ms\nexpect = alive\n", f->name, sc_proto_name(measures[f->m].proto), f->idle_ms,
			sc_speaker_name(f->speaker), d->deadline_ms);
		if (f->ka_ms)
			tu_text_printf(&b, "keepalive = %" PRIu64 "ms,%" PRIu64 "ms,3\n", f->ka_ms, f->ka_ms);
		if (f->shb_ms)
			tu_text_printf(&b, "server_heartbeat = %" PRIu64 "ms\n", f->shb_ms);
		if (measures[f->m].warmup_ms)
			tu_text_printf(&b, "warmup = %" PRIu64 "ms\n", measures[f->m].warmup_ms);
	}
	sc = sweep_parse(b.s, b.len, "(discover)");
	free(b.s);
	if (!sc)
		return IG_EXIT_USAGE;
	snprintf(whose, sizeof(whose), "the %s pass", what);
	rc = cli_sweep("discover", sc, what, whose, &stop, &res, &p->wall_ms);
	if (rc)
		goto out;
	pass_reset(p);
	/* the flows of sc are p's, in the same order */
	for (size_t i = 0; i < p->n && i < res.nflows; i++) {
		const struct flow_result *fr = &res.flows[i];
		struct dflow *f = &p->f[i];

		if (fr->status == RES_SKIP) {
			p->ended_early = true;
			continue;
		}
		snprintf(f->outcome, sizeof(f->outcome), "%.*s", (int)sizeof(f->outcome) - 1, fr->observed);
		snprintf(f->who, sizeof(f->who), "%s", fr->noticed_by);
		snprintf(f->local, sizeof(f->local), "%s", fr->local);
		snprintf(f->seen_as, sizeof(f->seen_as), "%s", fr->seen_as);
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
 * of p (the text in specs), its results as JSON lines into json, the flows
 * as they end into ended. */
static void probe_argv(const struct discover *d, const struct dpass *p, char *probe, char *json, char *ended,
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
	argv[n++] = "--ended-file";
	argv[n++] = ended;
	argv[n++] = "--no-table";
	for (size_t i = 0; i < p->n; i++) {
		const struct dflow *fl = &p->f[i];
		int off = snprintf(specs[i], 200, "name=%s,proto=%s,idle=%" PRIu64 "ms,speaker=%s,"
				   "deadline=%" PRIu64 "ms", fl->name, sc_proto_name(measures[fl->m].proto),
				   fl->idle_ms, sc_speaker_name(fl->speaker), d->deadline_ms);

		if (fl->ka_ms)
			off += snprintf(specs[i] + off, 200 - (size_t)off, ",keepalive=%" PRIu64 "s/%" PRIu64 "s/3",
					fl->ka_ms / 1000, fl->ka_ms / 1000);
		if (fl->shb_ms)
			off += snprintf(specs[i] + off, 200 - (size_t)off, ",server_heartbeat=%" PRIu64 "ms",
					fl->shb_ms);
		if (measures[fl->m].warmup_ms)
			snprintf(specs[i] + off, 200 - (size_t)off, ",warmup=%" PRIu64 "ms",
				 measures[fl->m].warmup_ms);
		argv[n++] = "--flow";
		argv[n++] = specs[i];
	}
	argv[n] = NULL;
}

/* Run the probe and wait for it, reading its ended-file: once p's answer is
 * known, SIGUSR1 tells it to end the flows still running (it still asks the
 * server about the others). 0 when it ran, or IG_EXIT_ENV after saying why
 * not. */
static int probe_run(char **argv, struct dpass *p, const char *ended)
{
	pid_t pid = fork();
	long off = 0;
	bool told = false;
	int st = 0;

	if (pid < 0) {
		log_warn("discover: fork");
		return IG_EXIT_ENV;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			break;
		if (!told && tu_ended_read(ended, &off, pass_flow_ended, p)) {
			kill(pid, SIGUSR1);
			told = p->ended_early = true;
		}
		poll(NULL, 0, 100);
	}
	if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1)) {
		log_warnx("discover: idlegate-probe client failed (status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return IG_EXIT_ENV;
	}
	return 0;
}

/* One result line of the probe into the flow of p it names. */
static void probe_result(struct dpass *p, json_t *js, const char *name)
{
	struct dflow *fl = flow_named(p, name);
	int64_t at = -1;
	bool reach = false;

	if (!fl)
		return;
	jsonio_get_str(js, "outcome", fl->outcome, sizeof(fl->outcome));
	jsonio_get_str(js, "noticed_by", fl->who, sizeof(fl->who));
	jsonio_get_str(js, "client.local", fl->local, sizeof(fl->local));
	jsonio_get_str(js, "client.seen_as", fl->seen_as, sizeof(fl->seen_as));
	if (jsonio_get_int(js, "at_ms", &at) == 0)
		fl->at_ms = at;
	at = -1;
	if (jsonio_get_int(js, "client.server_heartbeats", &at) == 0 && at >= 0)
		fl->shb_count = (uint32_t)at;
	at = -1;
	if (jsonio_get_int(js, "client.last_server_heartbeat_ms", &at) == 0 && at >= 0)
		fl->shb_last_ms = at;
	if (p->ended_early && !strcmp(fl->outcome, "interrupted")) {
		fl->outcome[0] = '\0';  /* not needed */
		return;
	}
	jsonio_get_bool(js, "server_reachable", &reach);
	if (!reach && strcmp(fl->outcome, "alive"))
		log_warnx("discover: flow %s: the server's side could not be obtained", name);
}

/* The probe's JSON lines in file json into the flows of p. */
static void probe_results(struct dpass *p, const char *json)
{
	FILE *f = fopen(json, "re");
	char *line = NULL;
	size_t cap = 0;

	pass_reset(p);
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

/* A private temporary file name of this process's, made: 0 or -1. */
static int temp_file(char *path, size_t len, const char *what)
{
	int fd;

	snprintf(path, len, "%s/idlegate-discover-%ld-%s-XXXXXX", session_tmpdir(), (long)getpid(), what);
	fd = mkstemp(path);
	if (fd < 0) {
		log_warn("discover: %s", path);
		return -1;
	}
	close(fd);
	return 0;
}

static int pass_server(struct discover *d, struct dpass *p, const char *what)
{
	char probe[PATH_MAX], json[PATH_MAX], ended[PATH_MAX], specs[DISC_MAX_FLOWS][200];
	char *argv[20 + 2 * DISC_MAX_FLOWS];
	uint64_t t0 = mtime_ms();
	int rc = IG_EXIT_ENV;

	if (run_find_program("idlegate-probe", probe, sizeof(probe)) < 0) {
		log_warnx("discover: idlegate-probe not found next to idlegate or on PATH (set IDLEGATE_PROBE)");
		return IG_EXIT_ENV;
	}
	if (temp_file(json, sizeof(json), "json") < 0)
		return IG_EXIT_ENV;
	if (temp_file(ended, sizeof(ended), "ended") < 0)
		goto out_json;
	probe_argv(d, p, probe, json, ended, specs, argv);
	if (log_verbosity() > 0)
		fprintf(stderr, "discover: %s pass, %zu flows, at most %s\n", what, p->n,
			DUR(longest_idle(p) + d->deadline_ms));
	rc = probe_run(argv, p, ended);
	p->wall_ms = mtime_ms() - t0;
	if (rc)
		goto out;
	probe_results(p, json);
	for (size_t i = 0; i < p->n; i++)
		if ((!p->f[i].outcome[0] && !p->ended_early) || !strcmp(p->f[i].outcome, "error") ||
		    !strcmp(p->f[i].outcome, "interrupted")) {
			log_warnx("discover: flow %s could not be run (%s): is an idlegate-probe server listening "
				  "on %s?", p->f[i].name, p->f[i].outcome[0] ? p->f[i].outcome : "no result", d->server);
			rc = IG_EXIT_ENV;
			goto out;
		}
out:
	unlink(ended);
out_json:
	unlink(json);
	return rc;
}

static int run_pass(struct discover *d, struct dpass *p, const char *what)
{
	return d->server ? pass_server(d, p, what) : pass_sim(d, p, what);
}

/* ---- analysis ---- */

/* The bracket of the timeout flows of m in pass p; flows not needed (the
 * pass ended first) say nothing. */
static void bracket_of(const struct dpass *p, enum dmeasure m, uint64_t lo0, struct bracket *b)
{
	bool fail = false;

	memset(b, 0, sizeof(*b));
	b->lo = lo0;
	for (size_t i = 0; i < p->n; i++) {
		const struct dflow *f = &p->f[i];

		if (f->role != DF_TIMEOUT || f->m != m || !f->outcome[0])
			continue;
		if (!fail && !failed(f)) {
			b->lo = f->idle_ms;
		} else if (!fail) {
			fail = b->found = true;
			b->hi = f->idle_ms;
		} else if (!failed(f)) {
			b->suspicious = true;
		}
	}
}

static const struct dflow *find_role(const struct dpass *p, enum dmeasure m, enum dflow_role role)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].m == m && p->f[i].role == role)
			return &p->f[i];
	return NULL;
}

/* The first failing timeout flow of m (the server spoke first). */
static const struct dflow *first_fail(const struct dpass *p, enum dmeasure m)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].m == m && p->f[i].role == DF_TIMEOUT && failed(&p->f[i]))
			return &p->f[i];
	return NULL;
}

/* How long the flows of a measure idle past its coarse bracket ending hi. */
static uint64_t beyond(uint64_t hi)
{
	return hi + hi / 3 + 1000;
}

/* Where the longer UDP timeout's coarse bracket ends: the server's
 * heartbeats alone (packets both ways, over 2 s after the first) may give a
 * mapping the stream timeout without refreshing it. */
static uint64_t udp_hi(const struct discover *d)
{
	uint64_t hi = d->b[DM_UDP].hi;

	return d->b[DM_STREAM].found && d->b[DM_STREAM].hi > hi ? d->b[DM_STREAM].hi : hi;
}

/* ---- behaviour, as knob values ---- */

/* What the path did, as the knob values that reproduce it (NULL or -1: not
 * measured), and what was seen, in words. */
struct behaviour {
	const char *on_expire, *pickup;
	const char *inbound_unknown;    /* from what met the server's first packet */
	bool tcp_exact;                 /* the values reproduce what the flows saw */
	char tcp_seen[336];
	char udp_seen[160];             /* the first UDP flow that expired */
	int ka;                         /* TCP keepalives refresh: 1 yes, 0 no, -1 not measured */
	char ka_seen[240];
	int inbound;                    /* inbound-only UDP traffic refreshes: 1, 0, -1 */
	char inbound_seen[240];
	char refresh[32];
	int nat;                        /* 1 NAT, 0 none, -1 unknown */
	const char *nat_ports;          /* "preserve", "random", NULL */
	char nat_seen[200];
	const char *udp_port;           /* after expiry: "kept", "changed", NULL */
	char udp_port_seen[200];
};

static bool is(const struct dflow *f, const char *outcome)
{
	return f && !strcmp(f->outcome, outcome);
}

/* "the server spoke first after 12s idle: reset, noticed by the server at
 * 12s" into buf. */
static void flow_words(const struct dflow *f, char *buf, size_t len)
{
	if (!f) {
		snprintf(buf, len, "not run");
		return;
	}
	snprintf(buf, len, "the %s spoke first after %s idle: %s%s%s%s%s", sc_speaker_name(f->speaker),
		 DUR(f->idle_ms), f->outcome, f->who[0] ? ", noticed by the " : "", f->who,
		 f->at_ms >= 0 && failed(f) ? " at " : "", f->at_ms >= 0 && failed(f) ? MEAS((uint64_t)f->at_ms) : "");
}

/* Did f fail during its idle, before anyone spoke (an RST or FIN at expiry)? */
static bool failed_in_idle(const struct dflow *f)
{
	return f && failed(f) && f->at_ms >= 0 && (uint64_t)f->at_ms + 200 < f->idle_ms;
}

/*
 * inbound_unknown, from what met the server's first packet after expiry
 * (sf): it got through (pass: no NAT, to the inside host), it was answered
 * with RST or ICMP unreachable (with NAT: pass, the box's own stack
 * answers; without: rst), or it vanished (drop).
 */
static const char *inbound_from(const struct dflow *sf, int nat)
{
	if (is(sf, "alive"))
		return "pass";
	if (is(sf, "reset") || is(sf, "unreachable"))
		return nat == 1 ? "pass" : "rst";
	return "drop";
}

/*
 * TCP on expiry, from a server-first flow after expiry (sf) and a
 * client-first one (cf): on_expire, and for on_expire = drop, pickup (does
 * the client's packet start the flow again?) and inbound_unknown.
 */
static void tcp_behaviour(const struct dflow *sf, const struct dflow *cf, int nat, struct behaviour *bh)
{
	bool sf_rst = is(sf, "reset"), cf_rst = is(cf, "reset");
	char a[160], b[160];

	bh->pickup = "strict";
	bh->tcp_exact = true;
	if (is(cf, "closed"))
		bh->on_expire = "fin-inside";
	else if (is(sf, "unreachable") || is(cf, "unreachable"))
		bh->on_expire = "icmp-unreachable";
	else if ((sf_rst || cf_rst) && (failed_in_idle(sf) || failed_in_idle(cf)))
		bh->on_expire = "rst-both-at-expiry";
	else if (sf_rst && cf_rst)
		bh->on_expire = "rst-next-sender";
	else if (cf_rst)
		bh->on_expire = "rst-inside-on-next";
	else {
		bh->on_expire = "drop";
		if (is(cf, "alive"))
			bh->pickup = "loose";
		bh->inbound_unknown = inbound_from(sf, nat);
		/* a strict box drops the server's mid-stream packet before
		 * inbound_unknown sees it */
		bh->tcp_exact = !(sf_rst && !strcmp(bh->pickup, "strict"));
	}
	flow_words(sf, a, sizeof(a));
	flow_words(cf, b, sizeof(b));
	snprintf(bh->tcp_seen, sizeof(bh->tcp_seen), "%s; %s", a, b);
}

/* UDP on expiry: inbound_unknown from the first server-first UDP flow that
 * failed (u); where TCP with loose pickup said otherwise, no values
 * reproduce both. */
static void udp_expiry_behaviour(const struct dflow *u, int nat, struct behaviour *bh)
{
	const char *in = inbound_from(u, nat);

	flow_words(u, bh->udp_seen, sizeof(bh->udp_seen));
	if (bh->inbound_unknown && strcmp(in, bh->inbound_unknown) && !strcmp(bh->pickup, "loose"))
		bh->tcp_exact = false;
	bh->inbound_unknown = in;
}

/* The host part of "ADDR:PORT" ("[v6]:PORT") into buf, the port into *port. */
static void split_addr(const char *s, char *buf, size_t len, long *port)
{
	const char *c = strrchr(s, ':');
	size_t n = c ? (size_t)(c - s) : strlen(s);

	snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), s);
	*port = c ? strtol(c + 1, NULL, 10) : -1;
}

/* NAT or not, and the outside port kept or not: every flow's address as
 * the client saw it against the server's view of it. */
static void nat_behaviour(const struct discover *d, struct behaviour *bh)
{
	const struct dpass *ps[2] = { &d->coarse, &d->fine };
	const struct dflow *ex = NULL;
	bool kept = true;

	bh->nat = -1;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ps[k]->n; i++) {
			const struct dflow *f = &ps[k]->f[i];
			char h1[48], h2[48];
			long p1, p2;

			if (!f->local[0] || !f->seen_as[0])
				continue;
			split_addr(f->local, h1, sizeof(h1), &p1);
			split_addr(f->seen_as, h2, sizeof(h2), &p2);
			if (bh->nat < 0)
				bh->nat = 0;
			if (strcmp(h1, h2) || p1 != p2) {
				bh->nat = 1;
				if (!ex)
					ex = f;
			}
			kept = kept && p1 == p2;
		}
	if (bh->nat < 0)
		snprintf(bh->nat_seen, sizeof(bh->nat_seen), "unknown (the probe did not say what the server saw)");
	else if (!bh->nat)
		snprintf(bh->nat_seen, sizeof(bh->nat_seen), "none: the server saw every client address unchanged");
	else
		snprintf(bh->nat_seen, sizeof(bh->nat_seen), "the server saw %s for %s%s", ex->seen_as, ex->local,
			 kept ? " (every flow's port kept)" : " (ports changed)");
	if (bh->nat == 1)
		bh->nat_ports = kept ? "preserve" : "random";
}

static void udp_port_behaviour(const struct discover *d, struct behaviour *bh)
{
	const struct dflow *ucf = find_role(&d->fine, DM_UDP, DF_CLIENT_FIRST);
	char a[160];

	if (!ucf || bh->nat != 1)
		return;
	bh->udp_port = is(ucf, "rebound") ? "changed" : is(ucf, "alive") ? "kept" : NULL;
	flow_words(ucf, a, sizeof(a));
	snprintf(bh->udp_port_seen, sizeof(bh->udp_port_seen), "%s", a);
	/* a new mapping after expiry takes another port: not preserved */
	if (bh->udp_port && !strcmp(bh->udp_port, "changed"))
		bh->nat_ports = "random";
}

/* Keepalives every kernel second: measured when the timeout leaves room
 * for two of them (timeouts from 3 kernel seconds up). */
static void ka_behaviour(const struct discover *d, struct behaviour *bh)
{
	const struct dflow *tka = find_role(&d->fine, DM_TCP, DF_KEEPALIVE);

	bh->ka = -1;
	if (!tka || !tka->outcome[0])
		return;
	if (d->fb[DM_TCP].lo < 2 * tka->ka_ms) {
		snprintf(bh->ka_seen, sizeof(bh->ka_seen), "not measured: the timeout (survived %s) leaves no room "
			 "for two keepalives %s apart (one kernel second at this time scale)",
			 DUR(d->fb[DM_TCP].lo), DUR(tka->ka_ms));
		return;
	}
	bh->ka = is(tka, "alive");
	snprintf(bh->ka_seen, sizeof(bh->ka_seen), "keepalives every %s, no payload, %s a %s idle flow%s%s",
		 DUR(tka->ka_ms), bh->ka ? "kept" : "did not keep", DUR(tka->idle_ms), bh->ka ? " alive" : ": ",
		 bh->ka ? "" : tka->outcome);
}

/*
 * Does inbound-only traffic refresh the UDP mapping? f idled beyond the
 * first failing idle hi of both UDP timeouts with only the server's heartbeats, at most a
 * quarter of the way from hi to the end apart: if the last one reached the
 * client past halfway from hi to the end, they kept arriving (yes);
 * earlier, they stopped at about the timeout (no).
 */
static void inbound_behaviour(const struct discover *d, struct behaviour *bh)
{
	const struct dflow *f = find_role(&d->fine, DM_UDP, DF_INBOUND);
	uint64_t hi = udp_hi(d);

	bh->inbound = -1;
	if (!f || !f->outcome[0])
		return;
	if (!f->shb_count || f->shb_last_ms < 0) {
		snprintf(bh->inbound_seen, sizeof(bh->inbound_seen), "not measured: none of the server's "
			 "heartbeats every %s reached the client", DUR(f->shb_ms));
		return;
	}
	bh->inbound = (uint64_t)f->shb_last_ms >= (hi + f->idle_ms) / 2;
	if (bh->inbound)
		snprintf(bh->inbound_seen, sizeof(bh->inbound_seen), "the server's heartbeats every %s, the client "
			 "silent, kept arriving until %s of a %s idle", DUR(f->shb_ms),
			 MEAS((uint64_t)f->shb_last_ms), DUR(f->idle_ms));
	else
		snprintf(bh->inbound_seen, sizeof(bh->inbound_seen), "the server's heartbeats every %s, the client "
			 "silent, stopped arriving after %s, at about a timeout (expired by %s)", DUR(f->shb_ms),
			 MEAS((uint64_t)f->shb_last_ms), DUR(hi));
}

static void behaviour_of(const struct discover *d, struct behaviour *bh)
{
	memset(bh, 0, sizeof(*bh));
	nat_behaviour(d, bh);
	if (d->b[DM_TCP].found)
		tcp_behaviour(first_fail(&d->coarse, DM_TCP), find_role(&d->fine, DM_TCP, DF_CLIENT_FIRST),
			      bh->nat, bh);
	ka_behaviour(d, bh);
	if (d->b[DM_UDP].found) {
		udp_expiry_behaviour(first_fail(&d->coarse, DM_UDP), bh->nat, bh);
		udp_port_behaviour(d, bh);
		inbound_behaviour(d, bh);
	} else {
		bh->inbound = -1;
	}
	snprintf(bh->refresh, sizeof(bh->refresh), "%s%s", bh->inbound == 0 ? "outbound" : "any",
		 bh->ka == 0 ? ",data-only" : "");
}

/* ---- wall time ---- */

/* The stream flows' two-way traffic before the idle, when measured. */
static uint64_t warmup_of(const struct discover *d)
{
	return d->on[DM_STREAM] ? DISC_WARMUP_MS : 0;
}

/* The deadline in scenario time: a simulated one is never scaled below a
 * second on the clock (one kernel second, step_ms). */
static uint64_t deadline_of(const struct discover *d)
{
	return !d->server && d->step_ms > d->deadline_ms ? d->step_ms : d->deadline_ms;
}

/* The wall time the passes take at most, on the clock, when the longest
 * timeout's coarse bracket ends at hi (scenario ms; --max when none was
 * found) and the fine pass's longest idle is fine (0: no fine pass). */
static uint64_t wall_bound(const struct discover *d, uint64_t hi, uint64_t fine)
{
	uint64_t extra = warmup_of(d) + deadline_of(d);
	uint64_t t = hi + extra + (fine ? fine + extra : 0);

	return timescale_apply(&d->scale, t) + (fine ? 2 : 1) * DISC_PASS_OVERHEAD_MS;
}

/* Before it starts: how long it may take. */
static void print_plan(const struct discover *d)
{
	uint64_t step = d->max_ms / DISC_COARSE, extra = warmup_of(d) + deadline_of(d);

	printf("idlegate discover: %s: takes at most T + %s (coarse pass), then 4/3 (T + %s) + %s (fine pass)%s, "
	       "plus %s per pass to set up and end, T the longest timeout: at most %s with --max %s\n", d->target,
	       DUR(step + extra), DUR(step), DUR(1000 + extra),
	       d->scale.den > 1 ? " in scenario time" : "", DUR(DISC_PASS_OVERHEAD_MS),
	       DUR(wall_bound(d, d->max_ms, beyond(d->max_ms))), DUR(d->max_ms));
	fflush(stdout);
}

/* The coarse bracket's end of the longest timeout (--max if one was not
 * found). */
static uint64_t longest_hi(const struct discover *d)
{
	uint64_t hi = 0;

	for (int m = 0; m < DM_N; m++)
		if (d->on[m]) {
			uint64_t h = d->b[m].found ? d->b[m].hi : d->max_ms;

			if (h > hi)
				hi = h;
		}
	return hi;
}

/* ---- the answer ---- */

static void print_bracket(FILE *out, enum dmeasure m, const struct bracket *c, const struct bracket *f,
			  uint64_t max)
{
	fprintf(out, "  %s idle timeout, after %s: ", measures[m].label, measures[m].what);
	if (!c->found) {
		fprintf(out, "not reached: every idle up to %s survived\n", DUR(max));
		return;
	}
	fprintf(out, "%s +- %s (survived %s, expired by %s)\n", DUR((f->lo + f->hi) / 2),
		DUR((f->hi - f->lo + 1) / 2), DUR(f->lo), DUR(f->hi));
	if (c->suspicious || f->suspicious)
		fprintf(out, "    SUSPICIOUS: a longer idle survived after a shorter one failed (not monotonic)\n");
}

/* The answer on standard output. */
static void print_answer(const struct discover *d, const struct behaviour *bh)
{
	printf("idlegate discover: %s (took %s; at most %s for the timeouts found)\n", d->target, MEAS(d->wall_ms),
	       DUR(wall_bound(d, longest_hi(d), longest_idle(&d->fine))));
	for (int m = 0; m < DM_N; m++)
		if (d->on[m])
			print_bracket(stdout, (enum dmeasure)m, &d->b[m], &d->fb[m], d->max_ms);
	printf("  resolution: half the spacing of the fine pass's flows");
	for (int m = 0; m < DM_N; m++)
		if (d->b[m].found)
			printf("; %s %s", measures[m].label, DUR((d->fb[m].hi - d->fb[m].lo + 1) / 2));
	printf("\n");
	if (bh->on_expire)
		printf("  TCP on expiry: on_expire = %s, pickup = %s\n    seen: %s\n", bh->on_expire, bh->pickup,
		       bh->tcp_seen);
	if (bh->inbound_unknown)
		printf("  a packet from the server after expiry: inbound_unknown = %s%s%s%s\n", bh->inbound_unknown,
		       bh->tcp_exact ? "" : " (the nearest: no knob values reproduce every flow)",
		       bh->udp_seen[0] ? "\n    seen (UDP): " : "", bh->udp_seen);
	if (bh->ka_seen[0])
		printf("  TCP keepalives refresh the state: %s (%s)\n", bh->ka < 0 ? "unknown" : bh->ka ? "yes" : "no",
		       bh->ka_seen);
	if (bh->inbound_seen[0])
		printf("  inbound-only UDP traffic refreshes the mapping: %s (%s)\n",
		       bh->inbound < 0 ? "unknown" : bh->inbound ? "yes" : "no", bh->inbound_seen);
	if (bh->ka >= 0 || bh->inbound >= 0)
		printf("  refresh = %s%s\n", bh->refresh, bh->ka < 0 || bh->inbound < 0 ? " (what was not measured: "
		       "as Linux)" : "");
	printf("  NAT: %s%s%s%s\n", bh->nat == 1 ? "nat = snat, nat.ports = " : bh->nat == 0 ? "nat = off" : "",
	       bh->nat == 1 ? bh->nat_ports : "", bh->nat >= 0 ? "; " : "", bh->nat_seen);
	if (bh->udp_port)
		printf("  UDP after expiry: the outside port is %s (%s)\n", bh->udp_port, bh->udp_port_seen);
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
		const struct dflow *f = &p->f[i];
		json_t *o = json_pack("{s:o,s:s,s:s,s:I,s:s,s:I,s:o,s:o,s:I}", "name", jsonio_str(f->name),
				      "measure", measures[f->m].key, "proto", sc_proto_name(measures[f->m].proto),
				      "idle_ms", JI(f->idle_ms), "speaker", sc_speaker_name(f->speaker),
				      "keepalive_ms", JI(f->ka_ms),
				      "outcome", jsonio_str_or_null(f->outcome[0] ? f->outcome : NULL),
				      "noticed_by", jsonio_str_or_null(f->who[0] ? f->who : NULL), "at_ms", JI(f->at_ms));

		if (o && f->shb_ms)
			json_object_update_new(o, json_pack("{s:I,s:I,s:I}", "server_heartbeat_ms", JI(f->shb_ms),
							    "server_heartbeats", JI(f->shb_count),
							    "last_server_heartbeat_ms", JI(f->shb_last_ms)));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *json_tristate(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

/* A timeout for the profile: the longest idle that survived, rounded down
 * to 100 ms (at least 100 ms), so that a program that survives the profile
 * survives the path. */
static uint64_t safe_timeout(const struct bracket *fb)
{
	uint64_t t = fb->lo / 100 * 100;

	return t ? t : 100;
}

/* The knob values found, as in a profile. */
static json_t *knobs_json(const struct discover *d, const struct behaviour *bh)
{
	json_t *k = json_object();

	for (int m = 0; m < DM_N; m++)
		if (d->b[m].found)
			json_object_set_new(k, measures[m].knob, jsonio_str(DUR(safe_timeout(&d->fb[m]))));
	if (bh->on_expire)
		json_object_update_new(k, json_pack("{s:s,s:s}", "on_expire", bh->on_expire, "pickup", bh->pickup));
	if (bh->inbound_unknown)
		json_object_set_new(k, "inbound_unknown", jsonio_str(bh->inbound_unknown));
	json_object_set_new(k, "refresh", jsonio_str(bh->refresh));
	if (bh->nat >= 0)
		json_object_set_new(k, "nat", jsonio_str(bh->nat ? "snat" : "off"));
	if (bh->nat_ports)
		json_object_set_new(k, "nat.ports", jsonio_str(bh->nat_ports));
	return k;
}

/* The answer as JSON into path: 0, or -1 with errno. */
static int write_json(const char *path, const struct discover *d, const struct behaviour *bh)
{
	uint64_t fine = longest_idle(&d->fine);
	json_t *doc = json_pack("{s:s,s:o,s:f,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I},s:o,s:o,s:o,"
				"s:{s:b,s:o,s:o,s:o,s:o,s:o},s:o,s:o,s:o}",
				"tool", "idlegate discover", "target", jsonio_str(d->target),
				"max_s", (double)d->max_ms / 1000, "deadline_ms", JI(deadline_of(d)),
				"wall_ms", JI(d->wall_ms), "coarse_wall_ms", JI(d->coarse.wall_ms),
				"fine_wall_ms", JI(d->fine.wall_ms),
				"bound", "wall_ms", JI(wall_bound(d, longest_hi(d), fine)),
				"overhead_per_pass_ms", JI(DISC_PASS_OVERHEAD_MS),
				"fine_longest_idle_ms", JI(fine),
				"tcp", json_bracket(&d->b[DM_TCP], &d->fb[DM_TCP]),
				"udp", json_bracket(&d->b[DM_UDP], &d->fb[DM_UDP]),
				"udp_stream", json_bracket(&d->b[DM_STREAM], &d->fb[DM_STREAM]),
				"behaviour", "tcp_exact", bh->tcp_exact,
				"tcp_keepalive_refreshes", json_tristate(bh->ka),
				"udp_inbound_only_refreshes", json_tristate(bh->inbound),
				"nat", json_tristate(bh->nat),
				"udp_port_after_expiry", jsonio_str_or_null(bh->udp_port),
				"tcp_seen", jsonio_str_or_null(bh->tcp_seen[0] ? bh->tcp_seen : NULL),
				"knobs", knobs_json(d, bh),
				"coarse", flows_json(&d->coarse), "fine", flows_json(&d->fine));

	return cli_json_write(path, doc);
}

/* ---- --write-profile ---- */

static void profile_timeouts(FILE *f, const struct discover *d)
{
	for (int m = 0; m < DM_N; m++) {
		const struct bracket *c = &d->b[m], *fb = &d->fb[m];

		if (!d->on[m])
			continue;
		if (!c->found) {
			fprintf(f, "; %s, after %s: every idle up to %s survived; --max written (a lower bound)\n"
				"%s = %s\n", measures[m].label, measures[m].what, DUR(d->max_ms), measures[m].knob,
				DUR(d->max_ms));
			continue;
		}
		fprintf(f, "; %s, after %s: survived %s, expired by %s (+- %s); rounded down\n%s = %s\n",
			measures[m].label, measures[m].what, DUR(fb->lo), DUR(fb->hi), DUR((fb->hi - fb->lo + 1) / 2),
			measures[m].knob, DUR(safe_timeout(fb)));
	}
}

static void profile_behaviour(FILE *f, const struct behaviour *bh)
{
	if (bh->on_expire)
		fprintf(f, "\n; TCP on expiry: %s\non_expire = %s\npickup = %s\n", bh->tcp_seen, bh->on_expire,
			bh->pickup);
	if (bh->inbound_unknown)
		fprintf(f, "\n; a packet from the server after expiry%s%s%s\ninbound_unknown = %s\n",
			bh->udp_seen[0] ? ", UDP: " : "", bh->udp_seen,
			bh->tcp_exact ? "" : " (the nearest value: none reproduces every flow)", bh->inbound_unknown);
	fprintf(f, "\n; TCP keepalives: %s\n; inbound-only UDP: %s\nrefresh = %s\n",
		bh->ka_seen[0] ? bh->ka_seen : "not measured (as Linux: they refresh)",
		bh->inbound_seen[0] ? bh->inbound_seen : "not measured (as Linux: it refreshes)", bh->refresh);
	fprintf(f, "\n; NAT: %s\n", bh->nat_seen);
	if (bh->udp_port)
		fprintf(f, "; UDP after expiry: the outside port is %s (%s)\n", bh->udp_port, bh->udp_port_seen);
	if (bh->nat >= 0)
		fprintf(f, "nat = %s\n", bh->nat ? "snat" : "off");
	if (bh->nat_ports)
		fprintf(f, "nat.ports = %s\n", bh->nat_ports);
	fprintf(f, "; nat.mapping and nat.filtering: not measured (the defaults: endpoint-independent, "
		"address-and-port-dependent)\n");
}

/* What was measured as a profile file at path: 0, or -1 with errno. Written
 * whole or not at all, never through another user's symlink
 * (tu_atomic_open). */
static int write_profile(const char *path, const struct discover *d, const struct behaviour *bh)
{
	char tmp[PATH_MAX], when[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f = tu_atomic_open(path, tmp, sizeof(tmp));
	int ok;

	if (!f)
		return -1;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "; Written by idlegate discover at %s: %s.\n"
		"; Resolution: half the spacing of the fine pass's flows (below, per timeout).\n"
		"; Timeouts are rounded DOWN to the longest idle that survived (to 100ms): a\n"
		"; program that survives this profile survives the path. Knobs not written\n"
		"; keep their defaults (idlegate profiles --knobs).\n"
		"[profile]\ndescription = measured by idlegate discover at %s\nsource = idlegate discover, %.200s\n\n",
		when, d->target, when, d->target);
	profile_timeouts(f, d);
	profile_behaviour(f, bh);
	ok = !ferror(f);
	return tu_atomic_commit(f, tmp, path, ok);
}

/* ---- the command ---- */

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

/* --proto into d. 0, or -1 after saying why. */
static int parse_proto_opt(struct discover *d, const char *arg)
{
	bool tcp = !strcmp(arg, "tcp") || !strcmp(arg, "both"), udp = !strcmp(arg, "udp") || !strcmp(arg, "both");

	if (!tcp && !udp) {
		log_warnx("discover: --proto '%s': tcp, udp or both", arg);
		return -1;
	}
	d->on[DM_TCP] = tcp;
	d->on[DM_UDP] = d->on[DM_STREAM] = udp;
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
		{ "write-profile", required_argument, NULL, 'w' },
		CLI_OPT_JSON_ENTRY,
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+S:p:s:w:hq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
		if (cli_report_option(&c->rep, ch, optarg))
			continue;
		switch (ch) {
		case 'S': d->server = optarg; c->ntarget++; break;
		case 'p': c->profile = optarg; c->ntarget++; break;
		case 's': c->scfile = optarg; c->ntarget++; break;
		case 'w': d->profile_out = optarg; break;
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
			if (parse_proto_opt(d, optarg) < 0)
				return IG_EXIT_USAGE;
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
	if (d->server && (d->nsets || d->scale.den != 1)) {
		log_warnx("discover: --set and --time-scale apply to a simulated middlebox, not to --server");
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

/* Pass 1: per measure, flows idle 1/N, 2/N, ... N/N of --max, the server
 * first. */
static int pass_coarse(struct discover *d)
{
	for (int m = 0; m < DM_N; m++) {
		if (!d->on[m])
			continue;
		for (int i = 1; i <= DISC_COARSE; i++) {
			char name[SC_NAME_MAX];

			snprintf(name, sizeof(name), "c-%s-%d", measures[m].key, i);
			add_flow(&d->coarse, name, (enum dmeasure)m, DF_TIMEOUT, d->max_ms * (uint64_t)i / DISC_COARSE,
				 SC_SERVER);
		}
	}
	if (log_verbosity() > 0)
		fprintf(stderr, "idlegate discover: coarse pass: %zu flows idle up to %s\n", d->coarse.n,
			DUR(d->max_ms));
	return run_pass(d, &d->coarse, "coarse");
}

/* The fine pass's flows for measure m inside its coarse bracket c: the
 * timeout flows, then the behaviour flows. */
static void plan_fine(struct discover *d, enum dmeasure m, const struct bracket *c)
{
	uint64_t lo = c->lo, hi = c->hi, far = beyond(hi);
	char name[SC_NAME_MAX];
	struct dflow *f;

	for (int j = 1; j < DISC_FINE + 1; j++) {
		snprintf(name, sizeof(name), "f-%s-%d", measures[m].key, j);
		add_flow(&d->fine, name, m, DF_TIMEOUT, lo + (hi - lo) * (uint64_t)j / (DISC_FINE + 1), SC_SERVER);
	}
	if (m == DM_STREAM)
		return;
	snprintf(name, sizeof(name), "b-%s-client-first", measures[m].key);
	add_flow(&d->fine, name, m, DF_CLIENT_FIRST, far, SC_CLIENT);
	if (m == DM_TCP) {
		/* kernel keepalives every kernel second: below any timeout
		 * from three of them up */
		f = add_flow(&d->fine, "b-tcp-keepalive", m, DF_KEEPALIVE, far, SC_SERVER);
		if (f)
			f->ka_ms = d->step_ms;
		return;
	}
	/* only the server sends, at most a quarter of the surviving idle and
	 * of the way from hi to the end apart; past both UDP brackets, as
	 * packets both ways for over 2 s may make the mapping a stream's */
	hi = udp_hi(d);
	far = beyond(hi);
	f = add_flow(&d->fine, "b-udp-inbound", m, DF_INBOUND, far, SC_CLIENT);
	if (f) {
		uint64_t iv = (far - hi) / 4;

		if (lo >= 400 && lo / 4 < iv)
			iv = lo / 4;
		f->shb_ms = iv < 100 ? 100 : iv;
	}
}

/* Pass 2: fine, plus the behaviour flows, for each measure whose coarse
 * pass found an expiry; then the fine brackets. */
static int pass_fine(struct discover *d)
{
	int rc;

	for (int m = 0; m < DM_N; m++)
		if (d->on[m])
			bracket_of(&d->coarse, (enum dmeasure)m, 0, &d->b[m]);
	for (int m = 0; m < DM_N; m++)
		if (d->b[m].found)
			plan_fine(d, (enum dmeasure)m, &d->b[m]);
	if (d->fine.n) {
		if (log_verbosity() > 0)
			fprintf(stderr, "idlegate discover: fine pass: %zu flows, up to %s idle\n", d->fine.n,
				DUR(longest_idle(&d->fine)));
		rc = run_pass(d, &d->fine, "fine");
		if (rc)
			return rc;
	}
	for (int m = 0; m < DM_N; m++) {
		if (!d->b[m].found)
			continue;
		bracket_of(&d->fine, (enum dmeasure)m, d->b[m].lo, &d->fb[m]);
		if (!d->fb[m].found)
			d->fb[m].hi = d->b[m].hi;
		if (d->b[m].suspicious)
			d->fb[m].suspicious = true;
	}
	return 0;
}

int cmd_discover(int argc, char **argv)
{
	static struct discover d;
	struct discover_cli c = { 0 };
	struct behaviour bh;
	uint64_t t0;
	int rc;

	memset(&d, 0, sizeof(d));
	d.scale.num = d.scale.den = 1;
	d.max_ms = 600000;
	d.deadline_ms = 3000;
	for (int m = 0; m < DM_N; m++)
		d.on[m] = true;
	rc = discover_parse_args(argc, argv, &d, &c);
	if (rc != CLI_GO)
		return rc;
	rc = discover_target(&d, &c);
	if (rc)
		return rc;
	print_plan(&d);
	t0 = mtime_ms();
	rc = pass_coarse(&d);
	if (rc)
		return rc;
	rc = pass_fine(&d);
	if (rc)
		return rc;
	d.wall_ms = mtime_ms() - t0;
	behaviour_of(&d, &bh);
	print_answer(&d, &bh);
	rc = d.b[DM_TCP].found || d.b[DM_UDP].found || d.b[DM_STREAM].found ? IG_EXIT_OK : IG_EXIT_FAILED;
	if (c.rep.json && write_json(c.rep.json, &d, &bh) < 0)
		rc = cli_report_failed("discover", "--json", c.rep.json);
	if (d.profile_out && write_profile(d.profile_out, &d, &bh) < 0)
		rc = cli_report_failed("discover", "--write-profile", d.profile_out);
	return rc;
}
