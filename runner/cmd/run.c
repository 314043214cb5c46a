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

#include "common/log.h"
#include "common/mtime.h"
#include "runner/run/session.h"
#include "runner/cmd/commands.h"
#include "runner/model/result.h"
#include "runner/run/run.h"
#include "runner/model/scenario.h"
#include "runner/run/supervise.h"
#include "runner/util/textutil.h"

/* Frames on a worker's pipe: a type byte, a 32-bit length, the payload. */
enum { FR_PROGRESS = 'P', FR_RESULT = 'R', FR_MARKS = 'M', FR_KEEP = 'K' };

struct worker {
	size_t idx;                     /* into the scenario list */
	pid_t pid;
	int fd;
	char *buf;
	size_t len, cap;
	struct run_progress prog;
	bool have_prog, got_result;
	char keep[2048];
};

struct run_cli {
	const char *json, *junit, *svg;
	bool tap, keep, progress;
	unsigned jobs, shard_k, shard_n;
};

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
"      --keep          keep the network of a failing scenario and say how to enter it\n"
"                      (remove it with idlegate cleanup)\n"
"      --shard K/N     run only every N-th file, starting with the K-th (1 <= K <= N)\n"
"      --no-progress   no live progress line\n"
"  -h, --help          this help\n\n"
"A result is PASS (as expected), FAIL (another outcome), or ERROR (the run\n"
"could not be trusted: a process died, the queue lost packets, ...).\n\n"
"Exit status: 0 every flow as expected, 1 an expectation failed, 2 usage or\n"
"scenario error, 3 environment error or a run that could not be trusted,\n"
"130/143 interrupted by SIGINT/SIGTERM.\n");
}

/* ---- worker side ---- */

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void frame(int fd, char type, const void *p, uint32_t len)
{
	if (write_all(fd, &type, 1) == 0 && write_all(fd, &len, sizeof(len)) == 0)
		write_all(fd, p, len);
}

static void worker_progress(void *ctx, const struct run_progress *p)
{
	frame(*(int *)ctx, FR_PROGRESS, p, sizeof(*p));
}

/* A worker is forked with the parent's session (signals blocked, the
 * signalfd, the programs) and makes its own private directory. */
static int worker_main(const struct scenario *sc, size_t idx, int out, struct session *ss, bool keep_net)
{
	struct scenario_result res;
	char prefix[96], keep[2048], err[256];
	struct run_opts o = { .progress = worker_progress, .keep = keep_net, .ctx = &out };
	int rc;

	memset(&res, 0, sizeof(res));
	if (session_workdir(ss, err, sizeof(err)) < 0) {
		res.status = RES_ERROR;
		snprintf(res.error, sizeof(res.error), "%s", err);
		frame(out, FR_RESULT, &res, sizeof(res));
		return IG_EXIT_ENV;
	}
	session_run_opts(ss, &o);
	snprintf(prefix, sizeof(prefix), "%s-%zu", ss->prefix, idx + 1);
	o.name_prefix = prefix;
	rc = run_scenario(sc, &o, &res, keep, sizeof(keep));
	frame(out, FR_RESULT, &res, sizeof(res));
	if (res.nmarks)
		frame(out, FR_MARKS, res.marks, (uint32_t)(res.nmarks * sizeof(*res.marks)));
	if (keep[0])
		frame(out, FR_KEEP, keep, (uint32_t)strlen(keep) + 1);
	result_clear(&res);
	session_close(ss);
	return rc;
}

/* ---- parent side ---- */

static void worker_consume(struct worker *w, struct scenario_result *res, const struct scenario *sc)
{
	size_t off = 0;

	while (w->len - off >= 5) {
		char type = w->buf[off];
		uint32_t len;

		memcpy(&len, w->buf + off + 1, sizeof(len));
		if (w->len - off - 5 < len)
			break;
		const char *p = w->buf + off + 5;

		switch (type) {
		case FR_PROGRESS:
			if (len == sizeof(w->prog)) {
				memcpy(&w->prog, p, len);
				w->have_prog = true;
			}
			break;
		case FR_RESULT:
			if (len == sizeof(*res)) {
				memcpy(res, p, len);
				res->sc = sc;
				res->marks = NULL;
				res->nmarks = res->cap_marks = 0;
				w->got_result = true;
			}
			break;
		case FR_MARKS:
			for (size_t i = 0; i + sizeof(struct tl_mark) <= len; i += sizeof(struct tl_mark)) {
				struct tl_mark m;

				memcpy(&m, p + i, sizeof(m));
				result_mark(res, &m);
			}
			break;
		case FR_KEEP:
			snprintf(w->keep, sizeof(w->keep), "%.*s", (int)len, p);
			break;
		}
		off += 5 + len;
	}
	memmove(w->buf, w->buf + off, w->len - off);
	w->len -= off;
}

static void progress_line(struct worker *ws, size_t nw, size_t done, size_t total, bool show,
			  struct scenario **scs, const size_t *sel, bool *shown)
{
	char line[512], t1[32], t2[32];
	size_t off = 0;
	struct winsize wz;
	size_t width = 80;

	if (!show)
		return;
	if (ioctl(2, TIOCGWINSZ, &wz) == 0 && wz.ws_col > 20)
		width = wz.ws_col;
	off += (size_t)snprintf(line + off, sizeof(line) - off, "[%zu/%zu]", done, total);
	for (size_t i = 0; i < nw && off < sizeof(line); i++) {
		const struct run_progress *p = &ws[i].prog;

		if (ws[i].pid <= 0)
			continue;
		if (!ws[i].have_prog) {
			off += (size_t)snprintf(line + off, sizeof(line) - off, " %s: starting",
						tu_basename(scs[sel[ws[i].idx]]->file));
			continue;
		}
		off += (size_t)snprintf(line + off, sizeof(line) - off, " %s: %s of %s, %u/%u flows ended, %u expired",
					tu_basename(scs[sel[ws[i].idx]]->file),
					tu_human_ms(p->elapsed_ms, t1, sizeof(t1)),
					tu_human_ms(p->total_ms, t2, sizeof(t2)), p->ended, p->flows, p->expired);
	}
	if (off >= width)
		off = width - 1;
	line[off] = '\0';
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	*shown = true;
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

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", required_argument, NULL, 'J' },
		{ "junit", required_argument, NULL, 'U' },
		{ "tap", no_argument, NULL, 'T' },
		{ "svg", required_argument, NULL, 'S' },
		{ "keep", no_argument, NULL, 'k' },
		{ "shard", required_argument, NULL, 'D' },
		{ "no-progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_cli c = { .jobs = 1, .progress = true };
	struct scenario **scs = NULL;
	struct scenario_result *rs = NULL;
	struct worker *ws = NULL;
	char envmsg[512];
	struct session ss = { .sigfd = -1 };
	size_t nfiles, nsel = 0, next = 0, done = 0, running = 0;
	size_t *sel = NULL;
	int ch, rc = IG_EXIT_USAGE, sig = 0;
	bool bad = false, shown = false, show;

	while ((ch = getopt_long(argc, argv, "j:hk", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !v || v > 64) {
				log_warnx("run: -j '%s': a number of jobs from 1 to 64", optarg);
				return IG_EXIT_USAGE;
			}
			c.jobs = (unsigned)v;
			break;
		}
		case 'J': c.json = optarg; break;
		case 'U': c.junit = optarg; break;
		case 'T': c.tap = true; break;
		case 'S': c.svg = optarg; break;
		case 'k': c.keep = true; break;
		case 'P': c.progress = false; break;
		case 'D':
			if (parse_shard(optarg, &c.shard_k, &c.shard_n) < 0) {
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
	if (optind >= argc) {
		log_warnx("run: no scenario file (try idlegate run scenarios/examples/quickstart.ini)");
		return IG_EXIT_USAGE;
	}
	nfiles = (size_t)(argc - optind);
	scs = calloc(nfiles, sizeof(*scs));
	sel = calloc(nfiles, sizeof(*sel));
	if (!scs || !sel)
		fatal("run");
	/* every file is checked before anything runs */
	for (size_t i = 0; i < nfiles; i++) {
		struct ini_diags dg;

		if (c.shard_n && i % c.shard_n != c.shard_k - 1)
			continue;
		ini_diags_init(&dg, argv[optind + i]);
		scs[i] = scenario_load(argv[optind + i], &dg);
		if (!scs[i]) {
			print_diags(&dg);
			bad = true;
			continue;
		}
		sel[nsel++] = i;
	}
	if (bad)
		goto out;
	/* a report that cannot be written should say so now, not after the run */
	for (int i = 0; i < 2; i++) {
		const char *path = i ? c.junit : c.json;
		char dir[PATH_MAX], *slash;

		if (!path)
			continue;
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash)
			slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
		else
			snprintf(dir, sizeof(dir), ".");
		if (access(dir, W_OK) < 0) {
			log_warn("run: %s %s: cannot write into %s", i ? "--junit" : "--json", path, dir);
			goto out;
		}
	}
	rc = IG_EXIT_ENV;
	if (session_open(&ss, false, envmsg, sizeof(envmsg)) < 0) {
		log_warnx("run: %s", envmsg);
		goto out;
	}
	rs = calloc(nsel ? nsel : 1, sizeof(*rs));
	ws = calloc(c.jobs, sizeof(*ws));
	if (!rs || !ws)
		fatal("run");
	signal(SIGPIPE, SIG_IGN);
	show = c.progress && isatty(2) && log_verbosity() > 0;

	while (done < nsel) {
		struct pollfd p[65];
		int np = 0;

		/* start workers */
		while (!sig && next < nsel && running < c.jobs) {
			struct worker *w = NULL;
			int pfd[2];
			pid_t parent = getpid();

			for (size_t k = 0; k < c.jobs; k++)
				if (ws[k].pid <= 0) {
					w = &ws[k];
					break;
				}
			if (pipe2(pfd, O_CLOEXEC) < 0)
				fatal("pipe");
			memset(w, 0, sizeof(*w));
			w->idx = next;
			w->pid = fork();
			if (w->pid < 0)
				fatal("fork");
			if (w->pid == 0) {
				close(pfd[0]);
				if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
					_exit(3);
				setpgid(0, 0);
				_exit(worker_main(scs[sel[next]], next, pfd[1], &ss, c.keep));
			}
			setpgid(w->pid, w->pid);
			close(pfd[1]);
			w->fd = pfd[0];
			next++;
			running++;
		}
		progress_line(ws, c.jobs, done, nsel, show, scs, sel, &shown);
		p[np].fd = ss.sigfd;
		p[np++].events = POLLIN;
		for (size_t k = 0; k < c.jobs; k++) {
			if (ws[k].pid <= 0)
				continue;
			p[np].fd = ws[k].fd;
			p[np++].events = POLLIN;
		}
		if (poll(p, (nfds_t)np, 1000) < 0 && errno != EINTR)
			fatal("poll");
		if (p[0].revents & POLLIN) {
			int got;

			while ((got = session_signal(&ss))) {
				if (sig) {
					/* second signal: no more patience */
					for (size_t k = 0; k < c.jobs; k++)
						if (ws[k].pid > 0)
							kill(ws[k].pid, SIGKILL);
				} else {
					sig = got;
					for (size_t k = 0; k < c.jobs; k++)
						if (ws[k].pid > 0)
							kill(ws[k].pid, SIGTERM);
				}
			}
			if (sig)
				nsel = next;    /* nothing new starts */
		}
		for (size_t k = 0; k < c.jobs; k++) {
			struct worker *w = &ws[k];
			char tmp[65536];
			ssize_t n;

			if (w->pid <= 0)
				continue;
			n = read(w->fd, tmp, sizeof(tmp));
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n > 0) {
				if (w->len + (size_t)n > w->cap) {
					w->cap = (w->len + (size_t)n) * 2;
					w->buf = realloc(w->buf, w->cap);
					if (!w->buf)
						fatal("run");
				}
				memcpy(w->buf + w->len, tmp, (size_t)n);
				w->len += (size_t)n;
				worker_consume(w, &rs[w->idx], scs[sel[w->idx]]);
				continue;
			}
			if (n < 0 && errno != EAGAIN) {
				/* treat as EOF */
			}
			if (n == 0 || n < 0) {
				struct pollfd q = { .fd = w->fd, .events = POLLIN };

				if (n < 0 && poll(&q, 1, 0) == 0)
					continue;
			}
			/* EOF: the worker is done */
			{
				int st = reap_timeout(w->pid, -1);
				struct scenario_result *r = &rs[w->idx];

				close(w->fd);
				if (!w->got_result) {
					memset(r, 0, sizeof(*r));
					r->sc = scs[sel[w->idx]];
					r->nflows = r->sc->nflows;
					r->status = RES_ERROR;
					snprintf(r->error, sizeof(r->error),
						 "the worker running this scenario died (status %d)", st);
					for (size_t i = 0; i < r->nflows; i++) {
						r->flows[i].flow = (int)i;
						r->flows[i].status = RES_ERROR;
						r->flows[i].noticed_ms = r->flows[i].expired_ms = -1;
						snprintf(r->flows[i].expected, sizeof(r->flows[i].expected), "%s",
							 sc_expect_name(r->sc->flows[i].expect));
						snprintf(r->flows[i].error, sizeof(r->flows[i].error), "%s", r->error);
					}
				}
				if (w->keep[0]) {
					if (shown)
						fprintf(stderr, "\r\033[K");
					fprintf(stderr, "%s: kept the network of the failing run; enter it with\n%s"
						"remove it with: idlegate cleanup\n",
						scs[sel[w->idx]]->file, w->keep);
				}
				free(w->buf);
				memset(w, 0, sizeof(*w));
				w->pid = 0;
				running--;
				done++;
			}
		}
	}
	if (shown)
		fprintf(stderr, "\r\033[K");
	fflush(stderr);
	{
		size_t n = done;
		bool err = false, fail = false;

		if (c.tap) {
			report_tap(stdout, rs, n);
			report_terminal(stderr, rs, n, isatty(2));
		} else {
			report_terminal(stdout, rs, n, isatty(1));
		}
		if (c.json && report_json(c.json, rs, n) < 0)
			log_warn("run: --json %s", c.json), err = true;
		if (c.junit && report_junit(c.junit, rs, n) < 0)
			log_warn("run: --junit %s", c.junit), err = true;
		if (c.svg && report_svg(c.svg, rs, n) < 0)
			log_warn("run: --svg %s", c.svg), err = true;
		for (size_t i = 0; i < n; i++) {
			if (rs[i].status == RES_ERROR)
				err = true;
			else if (rs[i].status == RES_FAIL)
				fail = true;
		}
		rc = err ? IG_EXIT_ENV : fail ? IG_EXIT_FAILED : IG_EXIT_OK;
		if (sig)
			rc = 128 + sig;
		for (size_t i = 0; i < n; i++)
			result_clear(&rs[i]);
	}
out:
	session_close(&ss);
	for (size_t i = 0; i < nfiles; i++)
		scenario_free(scs[i]);
	free(scs);
	free(sel);
	free(rs);
	free(ws);
	return rc;
}
