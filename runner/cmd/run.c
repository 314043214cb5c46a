// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run FILE...`: the user's main job. Every scenario file is parsed
 * first (any problem: exit 2 before anything is created), the environment
 * is checked (not root, no ip, no simulator: exit 3 saying what is missing),
 * then each scenario runs in a worker process of its own (-j N at a time),
 * in namespaces of its own. Workers send progress and their result back
 * over a pipe; this process shows a live progress line on a terminal and
 * writes the reports.
 *
 * Signals: SIGINT/SIGTERM/SIGHUP/SIGQUIT arrive on a signalfd; the workers are told to stop
 * (they tear down and send what they have), partial reports are written,
 * and the exit status is 128+signal. If this process is SIGKILLed, every
 * worker, holder and simulator has PR_SET_PDEATHSIG(SIGKILL) in a chain, so
 * the namespaces vanish with their holders.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/duration.h"
#include "common/log.h"
#include "common/mtime.h"
#include "runner/run/session.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"
#include "runner/model/result.h"
#include "runner/model/resultpipe.h"
#include "runner/run/run.h"
#include "runner/model/scenario.h"
#include "runner/run/supervise.h"
#include "runner/util/artifacts.h"
#include "runner/util/textutil.h"

/* A worker's frames besides its result (runner/model/resultpipe.h). */
enum { FR_PROGRESS = 'P', FR_KEEP = 'K' };

struct worker {
	size_t idx;                     /* into the scenario list */
	pid_t pid;
	int fd;
	struct resultpipe_in in;        /* its result, as it arrives */
	struct run_progress prog;
	bool have_prog;
	char keep[RUN_KEEP_MAX];
};

struct run_cli {
	struct cli_reports rep;
	bool keep, progress;
	const char *artifacts;          /* --artifacts DIR, or NULL */
	bool pcap;                      /* --pcap: the simulators capture */
	bool annotate_set;              /* --annotate given (else GITHUB_ACTIONS decides) */
	enum annotate_style annotate;
	unsigned jobs, shard_k, shard_n;
	char **files;                   /* the scenario files, as given */
	size_t nfiles;
};

/* One `idlegate run`: the files, the workers and what they sent back. */
struct run_state {
	struct run_cli c;
	struct scenario **scs;          /* [nfiles], NULL where not selected or bad */
	size_t *sel, nsel;              /* the files this run (and shard) runs */
	struct scenario_result *rs;     /* [nsel], by position in sel */
	struct worker *ws;              /* [c.jobs] */
	struct session ss;
	size_t next, done, running;     /* started, finished, running now */
	int sig;                        /* the first signal that asked to stop */
	bool show, shown;               /* progress line wanted, on screen now */
	bool ci;                        /* no terminal: lines a CI log keeps */
	uint64_t ci_last;               /* when the last CI progress lines went out */
	uint64_t ci_every;              /* CI_EVERY_MS; IDLEGATE_CI_PROGRESS_MS for tests */
};

/* Without a terminal (a CI log), lines that stay: a scenario's start and
 * end, and every CI_EVERY_MS a progress line per running scenario, so a
 * log is never silent for minutes. */
#define CI_EVERY_MS 30000

static void run_usage(FILE *f)
{
	fprintf(f,
"usage: idlegate run [OPTIONS] FILE...\n\n"
"Run scenario files: build each one's network in namespaces of its own,\n"
"start the simulated middleboxes and the probes, and compare every flow's\n"
"outcome with its expect =.\n\n"
"  -j, --jobs N        run N scenario files at a time (default 1)\n"
"      --json FILE     write a JSON report\n"
"      --junit FILE    write a JUnit XML report\n"
"      --tap           TAP on standard output (the table goes to standard error)\n"
"      --svg DIR       one SVG timeline per scenario into DIR\n"
"      --html FILE     one self-contained HTML report (table, evidence, timelines)\n"
"                      (FILE - for --json, --junit, --html: standard output)\n"
"      --keep          keep the network of a failing scenario and say how to enter it\n"
"                      (remove it with idlegate cleanup)\n"
"      --shard K/N     run only every N-th file, starting with the K-th (1 <= K <= N)\n"
"      --no-progress   no live progress line (and, without a terminal, no start,\n"
"                      end and 30 s progress lines)\n"
"      --artifacts DIR keep each scenario's probe results and logs, the simulators'\n"
"                      event logs (and captures) in DIR/N-NAME/ for CI to upload\n"
"      --pcap          each simulated middlebox captures what crosses it\n"
"                      (capture.pcap in --artifacts; needs --artifacts)\n"
"      --annotate STYLE  a line per failed or erroring flow on its file and line:\n"
"                      github (::error file=...,line=...::), gitlab (FILE:LINE: error:),\n"
"                      none; github when GITHUB_ACTIONS=true\n"
"  -h, --help          this help\n\n"
"A result is PASS (as expected), FAIL (another outcome), or ERROR (the run\n"
"could not be trusted: a process died, the queue lost packets, ...).\n\n"
"Exit status: 0 every flow as expected, 1 an expectation failed, 2 usage or\n"
"scenario error, 3 environment error or a run that could not be trusted,\n"
"130/143 interrupted by SIGINT/SIGTERM.\n");
}

/* ---- worker side ---- */

static void worker_progress(void *ctx, const struct run_progress *p)
{
	resultpipe_frame(*(int *)ctx, FR_PROGRESS, p, sizeof(*p));
}

/* A worker is forked with the parent's session (signals blocked, the
 * signalfd, the programs) and makes its own private directory. */
static int worker_main(const struct scenario *sc, size_t idx, size_t file_idx, int out,
		       struct session *ss, const struct run_cli *c)
{
	bool keep_net = c->keep;
	struct scenario_result res;
	char prefix[96], keep[RUN_KEEP_MAX], err[256];
	struct run_opts o = { .progress = worker_progress, .keep = keep_net, .ctx = &out };
	int rc;

	memset(&res, 0, sizeof(res));
	if (session_workdir(ss, err, sizeof(err)) < 0) {
		res.status = RES_ERROR;
		snprintf(res.error, sizeof(res.error), "%s", err);
		resultpipe_send(out, &res);
		return IG_EXIT_ENV;
	}
	session_run_opts(ss, &o);
	snprintf(prefix, sizeof(prefix), "%s-%zu", ss->prefix, idx + 1);
	o.name_prefix = prefix;
	o.pcap = c->pcap;
	rc = run_scenario(sc, &o, &res, keep, sizeof(keep));
	if (c->artifacts) {
		char to[PATH_MAX], why[PATH_MAX + 64];

		/* before session_close() removes the private directory */
		if (artifacts_dir(c->artifacts, file_idx, sc->file, to, sizeof(to)) < 0 ||
		    artifacts_copy(ss->workdir, to, why, sizeof(why)) < 0)
			log_warn("run: --artifacts %s: %s", c->artifacts, why);
	}
	resultpipe_send(out, &res);
	if (keep[0])
		resultpipe_frame(out, FR_KEEP, keep, (uint32_t)strlen(keep) + 1);
	result_clear(&res);
	session_close(ss);
	return rc;
}

/* ---- parent side ---- */

/* A frame of worker w's besides its result: progress, or how to enter a
 * network it kept. */
static int worker_frame(void *ctx, char type, const char *p, uint32_t len, char *bad, size_t badlen)
{
	struct worker *w = ctx;

	switch (type) {
	case FR_PROGRESS:
		if (len != sizeof(w->prog)) {
			snprintf(bad, badlen, "a progress frame of %u bytes", len);
			return -1;
		}
		memcpy(&w->prog, p, len);
		w->have_prog = true;
		return 0;
	case FR_KEEP:
		snprintf(w->keep, sizeof(w->keep), "%.*s", (int)len, p);
		return 0;
	}
	return -1;
}

/* Take the progress line off the screen before anything else is printed. */
static void progress_clear(struct run_state *st)
{
	if (st->shown)
		fprintf(stderr, "\r\033[K");
}

static void progress_line(struct run_state *st)
{
	char line[512];
	size_t off = 0;
	struct winsize wz;
	size_t width = 80;

	if (!st->show)
		return;
	if (ioctl(2, TIOCGWINSZ, &wz) == 0 && wz.ws_col > 20)
		width = wz.ws_col;
	off += (size_t)snprintf(line + off, sizeof(line) - off, "[%zu/%zu]", st->done, st->nsel);
	for (size_t i = 0; i < st->c.jobs && off < sizeof(line); i++) {
		const struct worker *w = &st->ws[i];
		const char *name;

		if (w->pid <= 0)
			continue;
		name = tu_basename(st->scs[st->sel[w->idx]]->file);
		if (!w->have_prog) {
			off += (size_t)snprintf(line + off, sizeof(line) - off, " %s: starting", name);
			continue;
		}
		line[off++] = ' ';
		off += (size_t)tu_progress_run(line + off, sizeof(line) - off, name, w->prog.elapsed_ms,
					       w->prog.total_ms, w->prog.wall_ms, w->prog.wall_total_ms,
					       w->prog.ended, w->prog.flows, w->prog.expired);
	}
	if (off >= sizeof(line))
		off = sizeof(line) - 1;
	if (off >= width)
		off = width - 1;
	line[off] = '\0';
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	st->shown = true;
}

static void ci_start(const struct run_state *st, const struct scenario *sc)
{
	char t[32];

	if (!st->ci)
		return;
	fprintf(stderr, "idlegate: [%zu/%zu] start %s: %zu flow%s, about %s on the clock\n", st->next + 1,
		st->nsel, sc->file, sc->nflows, sc->nflows == 1 ? "" : "s",
		duration_format((scenario_estimate_ms(sc) + 500) / 1000 * 1000, t, sizeof(t)));
	fflush(stderr);
}

static void ci_end(const struct run_state *st, const struct scenario_result *r, const struct scenario *sc)
{
	size_t pass = 0, fail = 0, err = 0;
	char t[32];

	if (!st->ci)
		return;
	for (size_t i = 0; i < r->nflows; i++) {
		pass += r->flows[i].status == RES_PASS;
		fail += r->flows[i].status == RES_FAIL;
		err += r->flows[i].status == RES_ERROR;
	}
	fprintf(stderr, "idlegate: [%zu/%zu] end %s: %s in %s (%zu passed, %zu failed%s)\n", st->done + 1,
		st->nsel, sc->file, res_status_name(r->status),
		duration_format((r->wall_ms + 500) / 1000 * 1000, t, sizeof(t)), pass, fail,
		err ? ", errors" : "");
	fflush(stderr);
}

static void ci_progress(struct run_state *st)
{
	uint64_t now = mtime_ms();

	if (!st->ci)
		return;
	if (!st->ci_last)
		st->ci_last = now;
	if (now - st->ci_last < st->ci_every)
		return;
	st->ci_last = now;
	for (size_t i = 0; i < st->c.jobs; i++) {
		const struct worker *w = &st->ws[i];
		char line[512];

		if (w->pid <= 0 || !w->have_prog)
			continue;
		tu_progress_run(line, sizeof(line), tu_basename(st->scs[st->sel[w->idx]]->file),
				w->prog.elapsed_ms, w->prog.total_ms, w->prog.wall_ms, w->prog.wall_total_ms,
				w->prog.ended, w->prog.flows, w->prog.expired);
		fprintf(stderr, "idlegate: %s\n", line);
	}
	fflush(stderr);
}

static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;

	if (*end != '/')
		return -1;
	b = strtoul(end + 1, &end, 10);
	if (*end || !b || !a || a > b || b > 10000)
		return -1;
	*k = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

static int parse_jobs(const char *s, unsigned *jobs)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || !v || v > 64)
		return -1;
	*jobs = (unsigned)v;
	return 0;
}

/* The options into c. CLI_GO, or the exit status to return now. */
static int run_parse_args(int argc, char **argv, struct run_cli *c)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		CLI_OPT_JSON_ENTRY,
		CLI_OPT_JUNIT_ENTRY,
		CLI_OPT_TAP_ENTRY,
		CLI_OPT_SVG_ENTRY,
		CLI_OPT_HTML_ENTRY,
		{ "keep", no_argument, NULL, 'k' },
		{ "shard", required_argument, NULL, 'D' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "annotate", required_argument, NULL, 'A' },
		{ "artifacts", required_argument, NULL, 'a' },
		{ "pcap", no_argument, NULL, 'p' },
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "j:hkq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
		if (cli_report_option(&c->rep, ch, optarg))
			continue;
		switch (ch) {
		case 'j':
			if (parse_jobs(optarg, &c->jobs) < 0) {
				log_warnx("run: -j '%s': a number of jobs from 1 to 64", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 'k': c->keep = true; break;
		case 'P': c->progress = false; break;
		case 'a': c->artifacts = optarg; break;
		case 'p': c->pcap = true; break;
		case 'A':
			if (annotate_parse(optarg, &c->annotate) < 0) {
				log_warnx("run: --annotate '%s': github, gitlab or none", optarg);
				return IG_EXIT_USAGE;
			}
			c->annotate_set = true;
			break;
		case 'D':
			if (parse_shard(optarg, &c->shard_k, &c->shard_n) < 0) {
				log_warnx("run: --shard '%s': expected K/N with 1 <= K <= N (e.g. 2/4)", optarg);
				return IG_EXIT_USAGE;
			}
			break;
		case 'h':
			run_usage(stdout);
			return IG_EXIT_OK;
		default:
			run_usage(stderr);
			return IG_EXIT_USAGE;
		}
	}
	if (c->pcap && !c->artifacts) {
		log_warnx("run: --pcap keeps the captures in --artifacts DIR: give both");
		return IG_EXIT_USAGE;
	}
	if (optind >= argc) {
		log_warnx("run: no scenario file (try idlegate run scenarios/examples/quickstart.ini)");
		return IG_EXIT_USAGE;
	}
	c->files = argv + optind;
	c->nfiles = (size_t)(argc - optind);
	return CLI_GO;
}

/* Every file of this shard is read and checked before anything runs: 0,
 * or -1 after printing every problem of every file. */
static int run_load_files(struct run_state *st)
{
	const struct run_cli *c = &st->c;
	bool bad = false;

	st->scs = calloc(c->nfiles, sizeof(*st->scs));
	st->sel = calloc(c->nfiles, sizeof(*st->sel));
	if (!st->scs || !st->sel)
		fatal("run");
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->shard_n && i % c->shard_n != c->shard_k - 1)
			continue;
		st->scs[i] = cli_scenario_load(c->files[i]);
		if (!st->scs[i]) {
			bad = true;
			continue;
		}
		st->sel[st->nsel++] = i;
	}
	return bad ? -1 : 0;
}

/* A report that cannot be written should say so now, not after the run:
 * 0, or -1 after saying which. */
static int run_check_report_dirs(const struct run_cli *c)
{
	static const char *const opt[] = { "--json", "--junit", "--html" };

	for (int i = 0; i < 3; i++) {
		const char *path = i == 0 ? c->rep.json : i == 1 ? c->rep.junit : c->rep.html;
		char dir[PATH_MAX], *slash;

		struct stat st;

		if (path && strcmp(path, "-") && !tu_path_trusted(path)) {
			log_warnx("run: %s %s: a symlink or FIFO another user put in a shared directory; "
				  "not written through as root", opt[i], path);
			return -1;
		}
		/* standard output, a FIFO or a device is written through */
		if (!path || !strcmp(path, "-") || (stat(path, &st) == 0 && !S_ISREG(st.st_mode)))
			continue;
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash)
			slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
		else
			snprintf(dir, sizeof(dir), ".");
		if (access(dir, W_OK) < 0) {
			log_warn("run: %s %s: cannot write into %s", opt[i], path, dir);
			return -1;
		}
	}
	return 0;
}

/* Fork a worker for the next scenario into a free slot. */
static void worker_start(struct run_state *st)
{
	struct worker *w = NULL;
	int pfd[2];
	pid_t parent = getpid();

	for (size_t k = 0; k < st->c.jobs; k++)
		if (st->ws[k].pid <= 0) {
			w = &st->ws[k];
			break;
		}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		fatal("pipe");
	memset(w, 0, sizeof(*w));
	w->idx = st->next;
	ci_start(st, st->scs[st->sel[st->next]]);
	w->pid = fork();
	if (w->pid < 0)
		fatal("fork");
	if (w->pid == 0) {
		close(pfd[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(3);
		setpgid(0, 0);
		_exit(worker_main(st->scs[st->sel[st->next]], st->next, st->sel[st->next], pfd[1], &st->ss,
				  &st->c));
	}
	setpgid(w->pid, w->pid);
	close(pfd[1]);
	w->fd = pfd[0];
	st->next++;
	st->running++;
}

/* Send sig to every running worker. */
static void workers_kill(struct run_state *st, int sig)
{
	for (size_t k = 0; k < st->c.jobs; k++)
		if (st->ws[k].pid > 0)
			kill(st->ws[k].pid, sig);
}

/* Wait up to a second for a signal or a worker's output. The first signal
 * tells the workers to stop (they tear down and send what they have) and
 * starts nothing new; a second one kills them. */
static void run_wait(struct run_state *st)
{
	struct pollfd p[65];
	int np = 0, got;

	p[np].fd = st->ss.sigfd;
	p[np++].events = POLLIN;
	for (size_t k = 0; k < st->c.jobs; k++) {
		if (st->ws[k].pid <= 0)
			continue;
		p[np].fd = st->ws[k].fd;
		p[np++].events = POLLIN;
	}
	if (poll(p, (nfds_t)np, 1000) < 0 && errno != EINTR)
		fatal("poll");
	if (!(p[0].revents & POLLIN))
		return;
	while ((got = session_signal(&st->ss))) {
		if (st->sig) {
			workers_kill(st, SIGKILL);      /* second signal: no more patience */
		} else {
			st->sig = got;
			workers_kill(st, SIGTERM);
		}
	}
	if (st->sig)
		st->nsel = st->next;    /* nothing new starts */
}

/*
 * Read what worker w has sent and take in its whole frames. Every running
 * worker is read after each wait, ready or not. Returns true at the end of
 * its output (EOF, or a read error with nothing more to come).
 */
static bool worker_read(struct run_state *st, struct worker *w)
{
	char tmp[65536];
	ssize_t n = read(w->fd, tmp, sizeof(tmp));

	if (n > 0) {
		/* after a garbled frame the rest is read and dropped */
		resultpipe_feed(&w->in, tmp, (size_t)n, &st->rs[w->idx], st->scs[st->sel[w->idx]],
				worker_frame, w);
		return false;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n < 0) {
		struct pollfd q = { .fd = w->fd, .events = POLLIN };

		if (poll(&q, 1, 0) == 0)
			return false;
	}
	return true;
}

/* A worker that died without sending its result: every flow is an ERROR
 * saying so. */
static void result_worker_died(struct scenario_result *r, const struct scenario *sc, int status)
{
	char why[96];

	snprintf(why, sizeof(why), "the worker running this scenario died (status %d)", status);
	result_init_error(r, sc, why);
	snprintf(r->error, sizeof(r->error), "%s", why);
}

/* A worker whose output was garbled: every flow is an ERROR saying how. */
static void result_worker_garbled(struct scenario_result *r, const struct scenario *sc, const char *how)
{
	char why[256];

	snprintf(why, sizeof(why), "the worker running this scenario sent a garbled result: %s", how);
	result_init_error(r, sc, why);
	snprintf(r->error, sizeof(r->error), "%s", why);
}

/* Worker w's output has ended: reap it, make sure its scenario has a
 * result, say how to enter a network it kept, free the slot. */
static void worker_finish(struct run_state *st, struct worker *w)
{
	const struct scenario *sc = st->scs[st->sel[w->idx]];
	int status = reap_timeout(w->pid, -1);

	close(w->fd);
	if (w->in.bad[0])
		result_worker_garbled(&st->rs[w->idx], sc, w->in.bad);
	else if (!w->in.done)
		result_worker_died(&st->rs[w->idx], sc, status);
	ci_end(st, &st->rs[w->idx], sc);
	if (w->keep[0]) {
		progress_clear(st);
		fprintf(stderr, "%s: kept the network of the failing run; enter it with\n%s"
			"remove it with: idlegate cleanup\n", sc->file, w->keep);
	}
	resultpipe_in_free(&w->in);
	memset(w, 0, sizeof(*w));
	w->pid = 0;
	st->running--;
	st->done++;
}

/* Run every selected scenario, c.jobs at a time, until all are done or a
 * signal stopped the ones left. */
static void run_loop(struct run_state *st)
{
	while (st->done < st->nsel) {
		while (!st->sig && st->next < st->nsel && st->running < st->c.jobs)
			worker_start(st);
		progress_line(st);
		ci_progress(st);
		run_wait(st);
		for (size_t k = 0; k < st->c.jobs; k++) {
			struct worker *w = &st->ws[k];

			if (w->pid > 0 && worker_read(st, w))
				worker_finish(st, w);
		}
	}
	progress_clear(st);
	fflush(stderr);
}

/* The table (and TAP) and the report files for the n results; the exit
 * status they make. */
static int run_report(struct run_state *st, size_t n)
{
	const struct cli_reports *rep = &st->c.rep;
	struct scenario_result *rs = st->rs;
	bool err = false, fail = false;

	if (rep->tap || cli_report_stdout(rep)) {
		/* standard output is for the report asked for there */
		if (rep->tap)
			report_tap(stdout, rs, n);
		report_terminal(stderr, rs, n, cli_color(2));
	} else {
		report_terminal(stdout, rs, n, cli_color(1));
	}
	if (!st->c.annotate_set && getenv("GITHUB_ACTIONS") && !strcmp(getenv("GITHUB_ACTIONS"), "true"))
		st->c.annotate = ANNOTATE_GITHUB;
	report_annotate(cli_report_stdout(rep) ? stderr : stdout, rs, n, st->c.annotate);
	if (rep->json && report_json(rep->json, rs, n) < 0)
		err = cli_report_failed("run", "--json", rep->json);
	if (rep->junit && report_junit(rep->junit, rs, n) < 0)
		err = cli_report_failed("run", "--junit", rep->junit);
	if (rep->svg && report_svg(rep->svg, rs, n) < 0)
		err = cli_report_failed("run", "--svg", rep->svg);
	if (rep->html && report_html(rep->html, rs, n) < 0)
		err = cli_report_failed("run", "--html", rep->html);
	for (size_t i = 0; i < n; i++) {
		if (rs[i].status == RES_ERROR)
			err = true;
		else if (rs[i].status == RES_FAIL)
			fail = true;
	}
	if (st->sig)
		return 128 + st->sig;
	return err ? IG_EXIT_ENV : fail ? IG_EXIT_FAILED : IG_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	static struct run_state st;
	char envmsg[512];
	int rc;

	memset(&st, 0, sizeof(st));
	st.ss.sigfd = -1;
	st.c.jobs = 1;
	st.c.progress = true;
	rc = run_parse_args(argc, argv, &st.c);
	if (rc != CLI_GO)
		return rc;
	rc = IG_EXIT_USAGE;
	if (run_load_files(&st) < 0 || run_check_report_dirs(&st.c) < 0)
		goto out;
	rc = IG_EXIT_ENV;
	if (session_open(&st.ss, false, envmsg, sizeof(envmsg)) < 0) {
		log_warnx("run: %s", envmsg);
		goto out;
	}
	st.rs = calloc(st.nsel ? st.nsel : 1, sizeof(*st.rs));
	st.ws = calloc(st.c.jobs, sizeof(*st.ws));
	if (!st.rs || !st.ws)
		fatal("run");
	signal(SIGPIPE, SIG_IGN);
	st.show = st.c.progress && isatty(2) && log_verbosity() > 0;
	st.ci = st.c.progress && !isatty(2) && log_verbosity() > 0;
	st.ci_every = CI_EVERY_MS;
	if (getenv("IDLEGATE_CI_PROGRESS_MS"))
		st.ci_every = strtoull(getenv("IDLEGATE_CI_PROGRESS_MS"), NULL, 10);
	run_loop(&st);
	rc = run_report(&st, st.done);
	for (size_t i = 0; i < st.done; i++)
		result_clear(&st.rs[i]);
out:
	session_close(&st.ss);
	for (size_t i = 0; st.scs && i < st.c.nfiles; i++)
		scenario_free(st.scs[i]);
	free(st.scs);
	free(st.sel);
	free(st.rs);
	free(st.ws);
	return rc;
}
