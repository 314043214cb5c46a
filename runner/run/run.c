// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One scenario from network to verdict (see run.h). The order of a run:
 *
 *   1. one topology per distinct path (flows that share a path share it)
 *   2. idlegate-sim in each middlebox, started together, each waited for by
 *      its --ready-file (a sim that exits first fails the run with its stderr)
 *   3. probe servers (one per server port per path), servers of command flows
 *   4. probe clients and command flows, all at once: this is t0, the start
 *      of the idle period that [event] times count from
 *   5. events at their scaled times; children and signals watched with
 *      pidfds and the caller's signalfd in one poll loop
 *   6. stop servers, then sims (SIGTERM: final stats line), read it all
 *
 * Scenario flows are matched to the simulators' flow ids by order: the
 * probe client opens its flows in the order given, so the k-th new flow a
 * simulator sees toward a probe server's port is the k-th flow of that
 * client. A flow seen again with the same addresses keeps its match.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "common/duration.h"
#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "runner/util/ctlclient.h"
#include "runner/report/rows.h"
#include "runner/run/run.h"
#include "runner/run/supervise.h"
#include "runner/util/textutil.h"

#define DEFAULT_PORT 5201
#define MAX_GROUPS 8
#define READY_MS 10000
#define CMD_DEFAULT_MS (10 * 60 * 1000)

/* A flow as one simulator saw it. */
struct simflow {
	uint32_t id;
	int flow;                       /* scenario flow, -1 = not ours */
	char proto[8], src[64], dst[64], nat[64];
	unsigned sport, dport, natport;
	bool expired;
};

struct simproc {
	int mb;                         /* scenario middlebox index */
	pid_t pid;
	bool exited;
	int status;
	char dir[PATH_MAX];
	char ctl[PATH_MAX], events[PATH_MAX], ready[PATH_MAX], out[PATH_MAX], errf[PATH_MAX];
	long ev_off;                    /* bytes of the event log read so far */
	struct simflow *flows;
	size_t nflows, cap;
	size_t next_in_group[MAX_GROUPS];
	bool stats_seen, trusted;
	char stats_why[200];
};

/* Probe flows that share a server port on one path. */
struct group {
	unsigned port;
	int flows[SC_MAX_FLOWS];
	size_t n;
	pid_t server, client;
	int srv_status, cli_status;
	bool cli_done, srv_done;
	char srv_ready[PATH_MAX], srv_results[PATH_MAX], srv_err[PATH_MAX];
	char cli_json[PATH_MAX], cli_err[PATH_MAX];
};

struct cmdflow {
	int flow;
	pid_t server, client;
	bool done, srv_done;
	int status, srv_status;
	uint64_t start, end;
	char out[PATH_MAX], err[PATH_MAX], srv_out[PATH_MAX];
};

struct lane {
	int path[SC_MAX_PATH];
	size_t npath;
	struct topo *topo;
	struct simproc sim[SC_MAX_PATH];
	struct group g[MAX_GROUPS];
	size_t ng;
};

struct run {
	const struct scenario *sc;
	const struct run_opts *o;
	struct lane lane[SC_MAX_FLOWS];
	size_t nlanes;
	int lane_of[SC_MAX_FLOWS];
	int group_of[SC_MAX_FLOWS];     /* -1 for command flows */
	struct cmdflow cmd[SC_MAX_FLOWS];
	size_t ncmd;
	uint64_t t0;
	uint64_t flow_end[SC_MAX_FLOWS];/* wall ms its probe or command ended, 0 = running */
	bool kept;
	bool interrupted;
	char err[256];                  /* the run can't be trusted: why */
};

static void set_err(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* First error wins: it is usually the cause of the others. */
static void run_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

/* Scaled (wall) ms back to scenario ms. */
static uint64_t unscale(const struct scenario *sc, uint64_t ms)
{
	if (!sc->scale.num)
		return ms;
	return (ms * sc->scale.den + sc->scale.num / 2) / sc->scale.num;
}

int run_find_program(const char *name, char *buf, size_t len)
{
	const char *env = !strcmp(name, "idlegate-sim") ? getenv("IDLEGATE_SIM") :
			  !strcmp(name, "idlegate-probe") ? getenv("IDLEGATE_PROBE") : NULL;
	char self[PATH_MAX], *slash, *path, *save = NULL, *dir;
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		if (access(buf, X_OK) == 0)
			return 0;
		errno = ENOENT;
		return -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/%s", self, name);
			if (access(buf, X_OK) == 0)
				return 0;
			snprintf(buf, len, "%s/../sbin/%s", self, name);
			if (access(buf, X_OK) == 0)
				return 0;
		}
	}
	path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	for (dir = path ? strtok_r(path, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/%s", dir, name);
		if (access(buf, X_OK) == 0) {
			free(path);
			return 0;
		}
	}
	free(path);
	errno = ENOENT;
	return -1;
}

/* ---- simulators ---- */

/* The scaled policy of a middlebox as a profile file the sim reads. */
static int write_profile(const struct scenario *sc, const struct sc_middlebox *mb, const char *path)
{
	struct policy p;
	const struct knob_info *k;
	size_t nk;
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	scenario_policy_scaled(sc, mb, &p);
	k = policy_knobs(&nk);
	fprintf(f, "; written by idlegate run for [middlebox %s] of %s, durations scaled by %s\n"
		"[profile]\nname = %s\n", mb->name, sc->file, sc->scale_text, mb->name);
	for (size_t i = 0; i < nk; i++) {
		char v[128];

		if (policy_get(&p, k[i].name, v, sizeof(v)) < 0 || !strcmp(v, "unset"))
			continue;
		fprintf(f, "%s = %s\n", k[i].name, v);
	}
	return fclose(f);
}

static int sim_start(struct run *r, struct lane *l, size_t pos, char *err, size_t errlen)
{
	struct simproc *s = &l->sim[pos];
	const struct sc_middlebox *mb = &r->sc->mb[l->path[pos]];
	char prof[PATH_MAX], natset[128], a[64];
	char *argv[24];
	size_t n = 0;
	size_t lane = (size_t)(l - r->lane);
	struct spawn_opts so = { .netns_pid = topo_ns_pid(l->topo, pos + 1) };

	s->mb = l->path[pos];
	snprintf(s->dir, sizeof(s->dir), "%s/p%zu-%s", r->o->workdir, lane, mb->name);
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST) {
		set_err(err, errlen, "%s: %s", s->dir, strerror(errno));
		return -1;
	}
	snprintf(s->ctl, sizeof(s->ctl), "%s/ctl", s->dir);
	snprintf(s->events, sizeof(s->events), "%s/events.jsonl", s->dir);
	snprintf(s->ready, sizeof(s->ready), "%s/ready", s->dir);
	snprintf(s->out, sizeof(s->out), "%s/sim.out", s->dir);
	snprintf(s->errf, sizeof(s->errf), "%s/sim.err", s->dir);
	snprintf(prof, sizeof(prof), "%s/profile.ini", s->dir);
	if (write_profile(r->sc, mb, prof) < 0) {
		set_err(err, errlen, "%s: %s", prof, strerror(errno));
		return -1;
	}
	argv[n++] = (char *)r->o->sim_path;
	argv[n++] = "-q";
	argv[n++] = "--inside";
	argv[n++] = (char *)topo_ifname(l->topo, pos + 1, false);
	argv[n++] = "--outside";
	argv[n++] = (char *)topo_ifname(l->topo, pos + 1, true);
	argv[n++] = "--profile";
	argv[n++] = prof;
	if (mb->policy.nat == NAT_SNAT && !mb->policy.nat_addr_set) {
		snprintf(natset, sizeof(natset), "nat.address=%s",
			 topo_addr(l->topo, pos + 1, true, false, a, sizeof(a)));
		argv[n++] = "--set";
		argv[n++] = natset;
	}
	argv[n++] = "--ctl";
	argv[n++] = s->ctl;
	argv[n++] = "--events";
	argv[n++] = s->events;
	argv[n++] = "--ready-file";
	argv[n++] = s->ready;
	argv[n++] = "--no-ready-line";
	argv[n] = NULL;
	so.stdout_path = s->out;
	so.stderr_path = s->errf;
	s->pid = spawn(argv, &so);
	if (s->pid < 0) {
		set_err(err, errlen, "starting %s: %s", r->o->sim_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Wait for every file (or a child's exit, or a signal) until the deadline. */
static bool sig_pending(struct run *r)
{
	struct pollfd p = { .fd = r->o->sigfd, .events = POLLIN };

	if (r->o->sigfd < 0)
		return false;
	if (poll(&p, 1, 0) == 1) {
		r->interrupted = true;
		return true;
	}
	return r->interrupted;
}

/*
 * Poll for path to exist while pid runs, up to READY_MS. inotify would
 * avoid the 10 ms ticks, but a ready file appears once, within
 * milliseconds, and the pidfd check below catches an early exit at once.
 */
static int wait_file(struct run *r, const char *path, pid_t pid, int *status)
{
	uint64_t deadline = mtime_ms() + READY_MS;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		struct pollfd p[2] = { { .fd = pfd, .events = POLLIN },
				       { .fd = r->o->sigfd, .events = POLLIN } };

		if (access(path, F_OK) == 0) {
			close(pfd);
			return 0;
		}
		if (poll(p, 2, 10) > 0) {
			if (p[1].revents) {
				r->interrupted = true;
				close(pfd);
				errno = EINTR;
				return -1;
			}
			if (p[0].revents) {
				*status = reap_timeout(pid, 1000);
				close(pfd);
				errno = ECHILD;
				return -1;
			}
		}
		if (mtime_ms() >= deadline) {
			close(pfd);
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* One request to a simulator's control socket; 0 if it answered ok. */
static int ctl_request(const char *sock, const char *req, char *buf, size_t len)
{
	bool ok, yes = false;
	char *reply;
	json_t *js;

	buf[0] = '\0';
	if (ctlc_request(sock, req, 3000, &reply) < 0)
		return -1;
	snprintf(buf, len, "%s", reply);
	js = jsonio_load(reply, strlen(reply), NULL, 0);
	free(reply);
	ok = js && jsonio_get_bool(js, "ok", &yes) == 0 && yes;
	json_decref(js);
	return ok ? 0 : -1;
}

/* ---- event logs ---- */

static int group_of_port(const struct lane *l, unsigned port)
{
	for (size_t i = 0; i < l->ng; i++)
		if (l->g[i].port == port)
			return (int)i;
	return -1;
}

static struct simflow *simflow_by_id(struct simproc *s, uint32_t id)
{
	for (size_t i = 0; i < s->nflows; i++)
		if (s->flows[i].id == id)
			return &s->flows[i];
	return NULL;
}

/* A flow whose addresses match the line's, either way round. */
static struct simflow *simflow_by_tuple(struct simproc *s, const char *proto, const char *src,
					unsigned sport, const char *dst, unsigned dport)
{
	for (size_t i = 0; i < s->nflows; i++) {
		struct simflow *f = &s->flows[i];

		if (strcmp(f->proto, proto))
			continue;
		if (!strcmp(f->src, src) && f->sport == sport && !strcmp(f->dst, dst) && f->dport == dport)
			return f;
		if (!strcmp(f->src, dst) && f->sport == dport && !strcmp(f->dst, src) && f->dport == sport)
			return f;
		if (f->nat[0] && !strcmp(f->nat, dst) && f->natport == dport && !strcmp(f->dst, src) &&
		    f->dport == sport)
			return f;
	}
	return NULL;
}

static int64_t scen_ms(const struct run *r, int64_t t_real)
{
	if (t_real <= (int64_t)r->t0)
		return 0;
	return (int64_t)unscale(r->sc, (uint64_t)(t_real - (int64_t)r->t0));
}

static void mark(struct scenario_result *res, uint64_t t, enum tl_kind k, int flow, int mb, int dir,
		 const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void mark(struct scenario_result *res, uint64_t t, enum tl_kind k, int flow, int mb, int dir,
		 const char *fmt, ...)
{
	struct tl_mark m = { .t_ms = t, .kind = k, .flow = flow, .middlebox = mb, .dir = dir };
	va_list ap;

	if (!res)
		return;
	va_start(ap, fmt);
	vsnprintf(m.detail, sizeof(m.detail), fmt, ap);
	va_end(ap);
	result_mark(res, &m);
}

/* Which scenario flow does a new simulator flow belong to? */
static int attribute_new(struct run *r, struct lane *l, struct simproc *s, const struct simflow *nf)
{
	int g = group_of_port(l, nf->dport);

	if (g >= 0) {
		struct group *gr = &l->g[g];

		/* the k-th new flow toward the port is the client's k-th flow */
		while (s->next_in_group[g] < gr->n) {
			int f = gr->flows[s->next_in_group[g]++];
			bool udp = r->sc->flows[f].proto == SC_UDP;

			if (udp == !strcmp(nf->proto, "udp"))
				return f;
		}
		return -1;
	}
	for (size_t i = 0; i < r->ncmd; i++) {
		const struct sc_flow *f = &r->sc->flows[r->cmd[i].flow];

		if (r->lane_of[r->cmd[i].flow] == (int)(l - r->lane) && f->port == nf->dport)
			return r->cmd[i].flow;
	}
	return -1;
}

/*
 * Read what the simulator has logged since the last call: match new flows
 * to scenario flows, count per-flow facts into res (if not NULL), note the
 * final stats.
 */
static void sim_read_events(struct run *r, struct lane *l, struct simproc *s,
			    struct scenario_result *res)
{
	FILE *f = fopen(s->events, "re");
	json_t *js = NULL;
	char line[4096];

	if (!f)
		return;
	if (fseek(f, s->ev_off, SEEK_SET) < 0) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char ev[32] = "", proto[8] = "", src[64] = "", dst[64] = "", what[32] = "", why[160];
		int64_t t = 0, id = 0, sport = 0, dport = 0, v;
		struct simflow *sf = NULL;
		int flow = -1;
		uint64_t ts;

		if (!len || line[len - 1] != '\n')
			break;                  /* a line still being written */
		s->ev_off += (long)len;
		json_decref(js);
		js = jsonio_load(line, len, why, sizeof(why));
		if (!js) {
			log_warnx("%s: a line that is not an event: %s", s->events, why);
			continue;
		}
		jsonio_get_str(js, "event", ev, sizeof(ev));
		jsonio_get_int(js, "t_ms", &t);
		ts = (uint64_t)scen_ms(r, t);
		if (!strcmp(ev, "stats")) {
			bool tr = false;

			s->stats_seen = true;
			jsonio_get_bool(js, "trusted", &tr);
			s->trusted = tr;
			if (!tr) {
				int64_t enobufs = 0, qd = 0, ud = 0, lost = 0;

				jsonio_get_int(js, "enobufs", &enobufs);
				jsonio_get_int(js, "queue.enobufs", &enobufs);
				jsonio_get_int(js, "kernel_queue_dropped", &qd);
				jsonio_get_int(js, "kernel_user_dropped", &ud);
				jsonio_get_int(js, "events_lost", &lost);
				snprintf(s->stats_why, sizeof(s->stats_why),
					 "the simulator's queue lost packets or events "
					 "(enobufs %" PRId64 ", queue full %" PRId64 ", socket full %" PRId64
					 ", events lost %" PRId64 ")", enobufs, qd, ud, lost);
			}
			continue;
		}
		jsonio_get_str(js, "proto", proto, sizeof(proto));
		jsonio_get_str(js, "src", src, sizeof(src));
		jsonio_get_str(js, "dst", dst, sizeof(dst));
		jsonio_get_int(js, "sport", &sport);
		jsonio_get_int(js, "dport", &dport);
		if (!jsonio_get_int(js, "flow", &id))
			sf = simflow_by_id(s, (uint32_t)id);
		if (!strcmp(ev, "flow-new") && !sf) {
			struct simflow nf = { .id = (uint32_t)id, .flow = -1 };
			struct simflow *old;

			snprintf(nf.proto, sizeof(nf.proto), "%s", proto);
			snprintf(nf.src, sizeof(nf.src), "%s", src);
			snprintf(nf.dst, sizeof(nf.dst), "%s", dst);
			nf.sport = (unsigned)sport;
			nf.dport = (unsigned)dport;
			jsonio_get_str(js, "nat_addr", nf.nat, sizeof(nf.nat));
			if (!jsonio_get_int(js, "nat_port", &v))
				nf.natport = (unsigned)v;
			old = simflow_by_tuple(s, proto, src, (unsigned)sport, dst, (unsigned)dport);
			nf.flow = old ? old->flow : attribute_new(r, l, s, &nf);
			if (s->nflows == s->cap) {
				size_t cap = s->cap ? s->cap * 2 : 16;
				struct simflow *p = realloc(s->flows, cap * sizeof(*p));

				if (!p)
					continue;
				s->flows = p;
				s->cap = cap;
			}
			s->flows[s->nflows++] = nf;
			sf = &s->flows[s->nflows - 1];
			if (nf.flow >= 0)
				mark(res, ts, TL_FLOW_NEW, nf.flow, s->mb, 0, "%s%s%s:%u",
				     nf.nat[0] ? "NAT " : "new flow", nf.nat[0] ? "-> " : "",
				     nf.nat[0] ? nf.nat : "", nf.nat[0] ? nf.natport : 0);
			continue;
		}
		if (!sf && proto[0])
			sf = simflow_by_tuple(s, proto, src, (unsigned)sport, dst, (unsigned)dport);
		flow = sf ? sf->flow : -1;
		if (flow < 0)
			continue;
		if (!strcmp(ev, "flow-expired"))
			sf->expired = true;
		if (!res)
			continue;
		/* after the probe ended the flow is closing down: not evidence */
		if (r->flow_end[flow] && t > (int64_t)r->flow_end[flow])
			continue;
		{
			struct flow_result *fr = &res->flows[flow];
			char dir[8] = "";

			jsonio_get_str(js, "dir", dir, sizeof(dir));
			if (!strcmp(ev, "keepalive")) {
				fr->keepalives_seen++;
				mark(res, ts, TL_KEEPALIVE, flow, s->mb, !strcmp(dir, "in"), "keepalive");
			} else if (!strcmp(ev, "drop")) {
				jsonio_get_str(js, "reason", what, sizeof(what));
				fr->drops++;
				mark(res, ts, TL_DROP, flow, s->mb, !strcmp(dir, "in"), "dropped: %s", what);
			} else if (!strcmp(ev, "inject")) {
				char toward[16] = "";

				jsonio_get_str(js, "what", what, sizeof(what));
				jsonio_get_str(js, "toward", toward, sizeof(toward));
				mark(res, ts, TL_INJECT, flow, s->mb, !strcmp(toward, "inside"),
				     "sent %s toward the %s", what, toward);
			} else if (!strcmp(ev, "flow-expired")) {
				int64_t idle = 0;

				jsonio_get_str(js, "action", what, sizeof(what));
				jsonio_get_int(js, "idle_ms", &idle);
				if (fr->expired_ms < 0)
					fr->expired_ms = (int64_t)ts;
				mark(res, ts, TL_EXPIRE, flow, s->mb, -1, "expired after %s idle (%s)",
				     tu_human_ms(unscale(r->sc, (uint64_t)idle), (char[32]){0}, 32),
				     what[0] ? what : "drop");
			}
		}
	}
	json_decref(js);
	fclose(f);
}

/* ---- building ---- */

static bool same_path(const struct sc_flow *f, const struct lane *l)
{
	return f->npath == l->npath && !memcmp(f->path, l->path, f->npath * sizeof(f->path[0]));
}

struct run *run_build(const struct scenario *sc, const struct run_opts *o, char *err, size_t errlen)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sc = sc;
	r->o = o;
	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		size_t k;

		for (k = 0; k < r->nlanes; k++)
			if (same_path(f, &r->lane[k]))
				break;
		if (k == r->nlanes) {
			r->lane[k].npath = f->npath;
			memcpy(r->lane[k].path, f->path, sizeof(f->path));
			r->nlanes++;
		}
		r->lane_of[i] = (int)k;
		r->group_of[i] = -1;
		if (f->command[0]) {
			r->cmd[r->ncmd++].flow = (int)i;
		} else {
			struct lane *l = &r->lane[k];
			unsigned port = f->port ? f->port : DEFAULT_PORT;
			int g = group_of_port(l, port);

			if (g < 0) {
				if (l->ng == MAX_GROUPS) {
					set_err(err, errlen, "flow %s: more than %d server ports on one path",
						f->name, MAX_GROUPS);
					errno = EINVAL;
					goto fail;
				}
				g = (int)l->ng++;
				l->g[g].port = port;
			}
			l->g[g].flows[l->g[g].n++] = (int)i;
			r->group_of[i] = g;
		}
	}
	/* a shell on a scenario without flows still gets the full chain */
	if (!r->nlanes) {
		r->lane[0].npath = sc->nmb < SC_MAX_PATH ? sc->nmb : SC_MAX_PATH;
		for (size_t i = 0; i < r->lane[0].npath; i++)
			r->lane[0].path[i] = (int)i;
		r->nlanes = 1;
	}
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];
		struct topo_config tc = { .nmb = l->npath, .ipv4_net = sc->ipv4_net,
					  .ipv6_net = sc->ipv6_net };
		char terr[400];

		for (size_t p = 0; p < l->npath; p++) {
			tc.mb_name[p] = sc->mb[l->path[p]].name;
			tc.mb_nat[p] = sc->mb[l->path[p]].policy.nat == NAT_SNAT;
		}
		l->topo = topo_new(&tc, terr, sizeof(terr));
		if (!l->topo) {
			int e = errno;

			set_err(err, errlen, "%s", terr);
			errno = e == EPERM ? EPERM : EIO;
			goto fail;
		}
		for (size_t p = 0; p < l->npath; p++)
			if (sim_start(r, l, p, err, errlen) < 0) {
				errno = EIO;
				goto fail;
			}
	}
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];
			int st = -1;
			char tail[300];

			if (wait_file(r, s->ready, s->pid, &st) == 0)
				continue;
			if (errno == EINTR) {
				set_err(err, errlen, "interrupted");
				errno = EINTR;
				goto fail;
			}
			if (errno == ECHILD)
				s->exited = true;
			file_tail(s->errf, tail, sizeof(tail));
			set_err(err, errlen, "middlebox %s: idlegate-sim %s%s%s",
				sc->mb[s->mb].name,
				errno == ETIMEDOUT ? "was not ready within 10 s" :
				st == 127 ? "could not be executed" : "exited before it was ready",
				tail[0] ? ": " : "", tail);
			errno = EIO;
			goto fail;
		}
	}
	return r;
fail:
	{
		int e = errno;

		run_free(r);
		errno = e;
	}
	return NULL;
}

size_t run_paths(const struct run *r)
{
	return r->nlanes;
}

struct topo *run_topo(const struct run *r, size_t path)
{
	return path < r->nlanes ? r->lane[path].topo : NULL;
}

size_t run_path_of_flow(const struct run *r, size_t flow)
{
	return flow < r->sc->nflows ? (size_t)r->lane_of[flow] : 0;
}

const char *run_ctl_path(const struct run *r, size_t path, size_t pos)
{
	if (path >= r->nlanes || pos >= r->lane[path].npath)
		return NULL;
	return r->lane[path].sim[pos].ctl;
}

/* ---- probes and commands ---- */

static void ka_spec(const struct sc_flow *f, char *buf, size_t len)
{
	if (f->keepalive == SC_KA_OFF)
		snprintf(buf, len, "off");
	else
		snprintf(buf, len, "%" PRIu64 "s/%" PRIu64 "s/%u", f->ka_idle.scaled_ms / 1000,
			 f->ka_intvl.scaled_ms / 1000, f->ka_count);
}

static void flow_spec(const struct sc_flow *f, char *buf, size_t len)
{
	char ka[64];
	size_t off;

	ka_spec(f, ka, sizeof(ka));
	off = (size_t)snprintf(buf, len,
			       "name=%s,proto=%s,family=%d,keepalive=%s,idle=%" PRIu64 "ms,speaker=%s,"
			       "cycles=%u,deadline=%" PRIu64 "ms,expect=%s",
			       f->name, sc_proto_name(f->proto), f->family == SC_IPV6 ? 6 : 4, ka,
			       f->idle.scaled_ms, sc_speaker_name(f->speaker), f->cycles ? f->cycles : 1,
			       f->deadline.scaled_ms, sc_expect_name(f->expect));
	if (f->user_timeout.ms && off < len)
		off += (size_t)snprintf(buf + off, len - off, ",user_timeout=%" PRIu64 "s",
					(f->user_timeout.scaled_ms + 500) / 1000);
	if (f->heartbeat.ms && off < len)
		off += (size_t)snprintf(buf + off, len - off, ",heartbeat=%" PRIu64 "ms",
					f->heartbeat.scaled_ms);
	if (f->server_heartbeat.ms && off < len)
		snprintf(buf + off, len - off, ",server_heartbeat=%" PRIu64 "ms",
			 f->server_heartbeat.scaled_ms);
}

static int group_start_server(struct run *r, struct lane *l, size_t gi, char *err, size_t errlen)
{
	struct group *g = &l->g[gi];
	size_t lane = (size_t)(l - r->lane);
	char listen[32];
	int st = -1;
	char *argv[] = { (char *)r->o->probe_path, "-q", "server", "--listen", listen,
			 "--results", g->srv_results, "--ready-file", g->srv_ready, NULL };
	struct spawn_opts so = { .netns_pid = topo_ns_pid(l->topo, topo_nodes(l->topo) - 1),
				 .stderr_path = g->srv_err };

	snprintf(listen, sizeof(listen), ":%u", g->port);
	snprintf(g->srv_ready, sizeof(g->srv_ready), "%s/p%zu-server-%u.ready", r->o->workdir, lane, g->port);
	snprintf(g->srv_results, sizeof(g->srv_results), "%s/p%zu-server-%u.jsonl", r->o->workdir, lane, g->port);
	snprintf(g->srv_err, sizeof(g->srv_err), "%s/p%zu-server-%u.err", r->o->workdir, lane, g->port);
	snprintf(g->cli_json, sizeof(g->cli_json), "%s/p%zu-client-%u.jsonl", r->o->workdir, lane, g->port);
	snprintf(g->cli_err, sizeof(g->cli_err), "%s/p%zu-client-%u.err", r->o->workdir, lane, g->port);
	g->server = spawn(argv, &so);
	if (g->server < 0) {
		set_err(err, errlen, "starting the probe server: %s", strerror(errno));
		return -1;
	}
	if (wait_file(r, g->srv_ready, g->server, &st) < 0) {
		char tail[300];

		if (errno == EINTR) {
			set_err(err, errlen, "interrupted");
			return -1;
		}
		if (errno == ECHILD) {
			g->srv_done = true;
			g->srv_status = st;
		}
		set_err(err, errlen, "the probe server on port %u %s: %s", g->port,
			errno == ETIMEDOUT ? "was not ready within 10 s" : "exited",
			file_tail(g->srv_err, tail, sizeof(tail)));
		return -1;
	}
	return 0;
}

static int group_start_client(struct run *r, struct lane *l, size_t gi, char *err, size_t errlen)
{
	struct group *g = &l->g[gi];
	size_t srvnode = topo_nodes(l->topo) - 1;
	char s4[80], s6[96], a[64];
	char *argv[16 + 2 * SC_MAX_FLOWS];
	char specs[SC_MAX_FLOWS][400];
	size_t n = 0;
	struct spawn_opts so = { .netns_pid = topo_ns_pid(l->topo, 0), .stderr_path = g->cli_err };

	snprintf(s4, sizeof(s4), "%s:%u", topo_addr(l->topo, srvnode, false, false, a, sizeof(a)), g->port);
	snprintf(s6, sizeof(s6), "[%s]:%u", topo_addr(l->topo, srvnode, false, true, a, sizeof(a)), g->port);
	argv[n++] = (char *)r->o->probe_path;
	argv[n++] = "-q";
	argv[n++] = "client";
	argv[n++] = "--server";
	argv[n++] = s4;
	argv[n++] = "--server";
	argv[n++] = s6;
	argv[n++] = "--json";
	argv[n++] = g->cli_json;
	argv[n++] = "--no-table";
	for (size_t i = 0; i < g->n; i++) {
		flow_spec(&r->sc->flows[g->flows[i]], specs[i], sizeof(specs[i]));
		argv[n++] = "--flow";
		argv[n++] = specs[i];
	}
	argv[n] = NULL;
	g->client = spawn(argv, &so);
	if (g->client < 0) {
		set_err(err, errlen, "starting the probe client: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static char **cmd_env(struct run *r, struct lane *l, const struct sc_flow *f, char store[8][160])
{
	extern char **environ;
	size_t n = 0, k = 0, srv = topo_nodes(l->topo) - 1;
	char **env;
	char a[64];

	for (char **e = environ; *e; e++)
		n++;
	env = calloc(n + 9, sizeof(*env));
	if (!env)
		return NULL;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "IDLEGATE_", 9))
			env[k++] = *e;
	snprintf(store[0], 160, "IDLEGATE_SERVER=%s", topo_addr(l->topo, srv, false, false, a, sizeof(a)));
	snprintf(store[1], 160, "IDLEGATE_SERVER6=%s", topo_addr(l->topo, srv, false, true, a, sizeof(a)));
	snprintf(store[2], 160, "IDLEGATE_CLIENT=%s", topo_addr(l->topo, 0, true, false, a, sizeof(a)));
	snprintf(store[3], 160, "IDLEGATE_CLIENT6=%s", topo_addr(l->topo, 0, true, true, a, sizeof(a)));
	snprintf(store[4], 160, "IDLEGATE_PORT=%u", f->port ? f->port : DEFAULT_PORT);
	snprintf(store[5], 160, "IDLEGATE_FLOW=%s", f->name);
	snprintf(store[6], 160, "IDLEGATE_TIME_SCALE=%s", r->sc->scale_text);
	snprintf(store[7], 160, "IDLEGATE_WORKDIR=%s", r->o->workdir);
	for (int i = 0; i < 8; i++)
		env[k++] = store[i];
	env[k] = NULL;
	return env;
}

/* Is something listening on TCP or UDP port in ns? Reads /proc/net in a child. */
static bool port_listening(pid_t ns, unsigned port)
{
	char pat[32], cmd[256], msg[64];
	char *argv[] = { "sh", "-c", cmd, NULL };

	snprintf(pat, sizeof(pat), ":%04X ", port);
	snprintf(cmd, sizeof(cmd),
		 "grep -q '%s[0-9A-F:]* 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null || "
		 "grep -q '%s[0-9A-F:]* 07' /proc/net/udp /proc/net/udp6 2>/dev/null", pat, pat);
	return spawn_wait(argv, ns, 2000, msg, sizeof(msg)) == 0;
}

static int cmd_start(struct run *r, struct cmdflow *c, bool server, char *err, size_t errlen)
{
	const struct sc_flow *f = &r->sc->flows[c->flow];
	struct lane *l = &r->lane[r->lane_of[c->flow]];
	char store[8][160];
	char **env = cmd_env(r, l, f, store);
	char *argv[] = { "sh", "-c", (char *)(server ? f->server_command : f->command), NULL };
	struct spawn_opts so = { .own_pidns = true, .envp = env };
	pid_t pid;

	if (!env)
		return -1;
	snprintf(c->out, sizeof(c->out), "%s/%s.out", r->o->workdir, f->name);
	snprintf(c->err, sizeof(c->err), "%s/%s.err", r->o->workdir, f->name);
	snprintf(c->srv_out, sizeof(c->srv_out), "%s/%s.server.log", r->o->workdir, f->name);
	so.netns_pid = topo_ns_pid(l->topo, server ? topo_nodes(l->topo) - 1 : 0);
	so.stdout_path = server ? c->srv_out : c->out;
	so.stderr_path = server ? c->srv_out : c->err;
	pid = spawn(argv, &so);
	free(env);
	if (pid < 0) {
		set_err(err, errlen, "flow %s: starting its %s: %s", f->name,
			server ? "server_command" : "command", strerror(errno));
		return -1;
	}
	if (server) {
		c->server = pid;
		if (f->port) {
			uint64_t deadline = mtime_ms() + READY_MS;

			while (!port_listening(so.netns_pid, f->port)) {
				char tail[200];

				if (reap_timeout(pid, 0) >= 0 || mtime_ms() >= deadline || sig_pending(r)) {
					set_err(err, errlen, "flow %s: server_command is not listening on port %u%s%s",
						f->name, f->port, tail[0] ? ": " : "",
						file_tail(c->srv_out, tail, sizeof(tail)));
					return -1;
				}
				reap_timeout(pid, 20);  /* wait a moment, or for its exit */
			}
		}
	} else {
		c->client = pid;
		c->start = mtime_ms();
	}
	return 0;
}

/* ---- the loop ---- */

struct sched_ev {
	uint64_t at;                    /* wall ms */
	int ev;
	bool done;
};

static void fire_event(struct run *r, const struct sc_event *e, struct scenario_result *res)
{
	char req[400], reply[65536];
	const char *what = sc_action_name(e->action);

	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];
			json_t *rq = NULL;
			char v[128];

			if (e->middlebox >= 0 && e->middlebox != s->mb)
				continue;
			switch (e->action) {
			case SC_ACT_FLUSH:
				rq = json_pack("{s:s}", "cmd", "flush");
				break;
			case SC_ACT_BLACKHOLE:
				snprintf(v, sizeof(v), "%" PRIu64 "ms", e->duration.scaled_ms);
				rq = json_pack("{s:s,s:s}", "cmd", "blackhole", "value", v);
				break;
			case SC_ACT_SET: {
				struct policy p0, p1;

				/* scale the value as the policy would: set it on a copy, scale, read back */
				policy_init(&p0);
				if (policy_set(&p0, e->knob, e->value, NULL, 0) == 0) {
					struct sc_middlebox tmp = { .policy = p0 };

					scenario_policy_scaled(r->sc, &tmp, &p1);
					if (policy_get(&p1, e->knob, v, sizeof(v)) < 0)
						snprintf(v, sizeof(v), "%s", e->value);
				} else {
					snprintf(v, sizeof(v), "%s", e->value);
				}
				rq = json_pack("{s:s,s:o,s:o}", "cmd", "set", "key", jsonio_str(e->knob),
					       "value", jsonio_str(v));
				break;
			}
			case SC_ACT_EXPIRE: {
				uint32_t id = 0;

				sim_read_events(r, l, s, NULL);
				for (size_t i = s->nflows; i-- > 0;)
					if (s->flows[i].flow == e->flow) {
						id = s->flows[i].id;
						break;
					}
				if (!id) {
					mark(res, scen_ms(r, (int64_t)mtime_ms()), TL_EVENT, e->flow, s->mb, -1,
					     "%s: expire %s: the middlebox has no such flow", e->name,
					     r->sc->flows[e->flow].name);
					continue;
				}
				rq = json_pack("{s:s,s:I}", "cmd", "expire", "id", (json_int_t)id);
				break;
			}
			default:
				continue;
			}
			if (!rq || jsonio_dumpb(rq, 0, req, sizeof(req)) < 0)
				snprintf(req, sizeof(req), "{}");       /* refused: reported below */
			json_decref(rq);
			rq = NULL;
			if (ctl_request(s->ctl, req, reply, sizeof(reply)) < 0) {
				reply[strcspn(reply, "\n")] = '\0';
				run_fail(r, "event %s: middlebox %s refused '%s': %s", e->name,
					 r->sc->mb[s->mb].name, req, reply[0] ? reply : "no answer");
			}
			mark(res, scen_ms(r, (int64_t)mtime_ms()), TL_EVENT,
			     e->action == SC_ACT_EXPIRE ? e->flow : -1, s->mb, -1, "%s: %s%s%s", e->name,
			     what, e->action == SC_ACT_SET ? " " : "", e->action == SC_ACT_SET ? e->knob : "");
		}
	}
}

static bool all_clients_done(const struct run *r)
{
	for (size_t k = 0; k < r->nlanes; k++)
		for (size_t g = 0; g < r->lane[k].ng; g++)
			if (!r->lane[k].g[g].cli_done)
				return false;
	for (size_t i = 0; i < r->ncmd; i++)
		if (!r->cmd[i].done)
			return false;
	return true;
}

/* Reap whatever ended; an early end of a sim or a server is an error. */
static void check_children(struct run *r)
{
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];
			int st;

			if (s->exited || (st = reap_timeout(s->pid, 0)) < 0)
				continue;
			s->exited = true;
			s->status = st;
			{
				char tail[200];

				run_fail(r, "middlebox %s: idlegate-sim exited during the run (status %d)%s%s",
					 r->sc->mb[s->mb].name, st, file_tail(s->errf, tail, sizeof(tail))[0] ? ": " : "",
					 tail);
			}
		}
		for (size_t gi = 0; gi < l->ng; gi++) {
			struct group *g = &l->g[gi];
			int st;

			if (!g->cli_done && g->client > 0 && (st = reap_timeout(g->client, 0)) >= 0) {
				g->cli_done = true;
				g->cli_status = st;
				for (size_t i = 0; i < g->n; i++)
					r->flow_end[g->flows[i]] = mtime_ms();
			}
			if (!g->srv_done && g->server > 0 && (st = reap_timeout(g->server, 0)) >= 0) {
				char tail[200];

				g->srv_done = true;
				g->srv_status = st;
				run_fail(r, "the probe server (port %u) exited during the run (status %d)%s%s",
					 g->port, st, file_tail(g->srv_err, tail, sizeof(tail))[0] ? ": " : "", tail);
			}
		}
	}
	for (size_t i = 0; i < r->ncmd; i++) {
		struct cmdflow *c = &r->cmd[i];
		int st;

		if (!c->done && c->client > 0 && (st = reap_timeout(c->client, 0)) >= 0) {
			c->done = true;
			c->status = st;
			c->end = mtime_ms();
			r->flow_end[c->flow] = c->end;
		}
		if (!c->srv_done && c->server > 0 && (st = reap_timeout(c->server, 0)) >= 0) {
			c->srv_done = true;
			c->srv_status = st;
		}
	}
}

static void progress(struct run *r, uint64_t total_wall)
{
	struct run_progress p = { 0 };
	uint64_t now = mtime_ms();
	bool expired[SC_MAX_FLOWS] = { false };

	if (!r->o->progress)
		return;
	p.elapsed_ms = unscale(r->sc, now - r->t0);
	p.total_ms = unscale(r->sc, total_wall);
	p.flows = (unsigned)r->sc->nflows;
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t gi = 0; gi < l->ng; gi++)
			if (l->g[gi].cli_done)
				p.ended += (unsigned)l->g[gi].n;
		for (size_t pp = 0; pp < l->npath; pp++) {
			struct simproc *s = &l->sim[pp];

			sim_read_events(r, l, s, NULL);
			for (size_t i = 0; i < s->nflows; i++)
				if (s->flows[i].expired && s->flows[i].flow >= 0)
					expired[s->flows[i].flow] = true;
		}
	}
	for (size_t i = 0; i < r->ncmd; i++)
		p.ended += r->cmd[i].done;
	for (size_t i = 0; i < r->sc->nflows; i++)
		p.expired += expired[i];
	r->o->progress(r->o->ctx, &p);
}

/* Wall ms the flows should take at most before the run is called stuck. */
static uint64_t run_limit_ms(const struct scenario *sc)
{
	uint64_t est = scenario_estimate_ms(sc);
	bool cmds = false;

	for (size_t i = 0; i < sc->nflows; i++)
		cmds |= sc->flows[i].command[0] != '\0';
	if (sc->timeout.ms)
		return sc->timeout.scaled_ms;
	if (cmds && est < CMD_DEFAULT_MS)
		est = CMD_DEFAULT_MS;
	return est + est / 2 + 30000;
}

static void stop_all(struct run *r)
{
	for (size_t i = 0; i < r->ncmd; i++) {
		struct cmdflow *c = &r->cmd[i];

		if (!c->done && c->client > 0) {
			c->status = stop_child(c->client, SIGTERM, 2000);
			c->done = true;
			c->end = mtime_ms();
		}
		if (!c->srv_done && c->server > 0) {
			c->srv_status = stop_child(c->server, SIGTERM, 2000);
			c->srv_done = true;
		}
	}
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t gi = 0; gi < l->ng; gi++) {
			struct group *g = &l->g[gi];

			if (!g->cli_done && g->client > 0) {
				g->cli_status = stop_child(g->client, SIGTERM, 3000);
				g->cli_done = true;
			}
			if (!g->srv_done && g->server > 0) {
				g->srv_status = stop_child(g->server, SIGTERM, 2000);
				g->srv_done = true;
			}
		}
	}
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];

			if (s->exited || s->pid <= 0)
				continue;
			s->status = stop_child(s->pid, SIGTERM, 3000);
			s->exited = true;
			if (s->status != 0) {
				char tail[200];

				run_fail(r, "middlebox %s: idlegate-sim ended with status %d%s%s",
					 r->sc->mb[s->mb].name, s->status,
					 file_tail(s->errf, tail, sizeof(tail))[0] ? ": " : "", tail);
			}
		}
	}
}

/* ---- results ---- */

static const char *outcome_words(const char *o)
{
	if (!strcmp(o, "reset"))
		return "RST";
	if (!strcmp(o, "closed"))
		return "FIN (connection closed)";
	if (!strcmp(o, "keepalive-timeout"))
		return "the kernel gave up";
	if (!strcmp(o, "unreachable"))
		return "ICMP unreachable";
	if (!strcmp(o, "rebound"))
		return "the server saw the client from a new address or port";
	return o;
}

/* " (middlebox nat expired the flow at 350 s, dropped 3 packets, 6 keepalives)" */
static void mb_view(struct run *r, const struct flow_result *fr, char *buf, size_t len)
{
	const struct sc_flow *f = &r->sc->flows[fr->flow];
	struct lane *l = &r->lane[r->lane_of[fr->flow]];
	char t[32];
	size_t off = 0;

	buf[0] = '\0';
	if (!l->npath)
		return;
	off += (size_t)snprintf(buf + off, len - off, " (%s %s", l->npath > 1 ? "middleboxes" : "middlebox",
				r->sc->mb[l->path[0]].name);
	for (size_t p = 1; p < l->npath && off < len; p++)
		off += (size_t)snprintf(buf + off, len - off, ", %s", r->sc->mb[l->path[p]].name);
	if (off < len && fr->expired_ms >= 0)
		off += (size_t)snprintf(buf + off, len - off, " expired the flow at %s",
					tu_human_ms((uint64_t)fr->expired_ms, t, sizeof(t)));
	else if (off < len)
		off += (size_t)snprintf(buf + off, len - off, " kept the flow");
	if (off < len && fr->drops)
		off += (size_t)snprintf(buf + off, len - off, ", dropped %u packet%s", fr->drops,
					fr->drops == 1 ? "" : "s");
	if (off < len && f->proto == SC_TCP && f->keepalive != SC_KA_OFF)
		off += (size_t)snprintf(buf + off, len - off, ", %u keepalive%s seen", fr->keepalives_seen,
					fr->keepalives_seen == 1 ? "" : "s");
	if (off < len)
		snprintf(buf + off, len - off, ")");
}

static void judge(struct flow_result *fr)
{
	if (fr->status == RES_ERROR)
		return;
	fr->status = !strcmp(fr->observed, fr->expected) ? RES_PASS : RES_FAIL;
}

static void probe_results(struct run *r, struct lane *l, struct group *g, struct scenario_result *res)
{
	FILE *f = fopen(g->cli_json, "re");
	char *line = NULL, tail[200], why[160];
	size_t cap = 0;
	json_t *js = NULL;
	bool seen[SC_MAX_FLOWS] = { false };
	bool crashed = g->cli_status < 0 || g->cli_status > 1;

	file_tail(g->cli_err, tail, sizeof(tail));
	while (f && getline(&line, &cap, f) >= 0) {
		size_t len = strlen(line);
		char name[64], out[24], who[16], detail[160], errname[32];
		int64_t at = -1, cycle = 1;
		int idx = -1;
		struct flow_result *fr;
		const struct sc_flow *sf;

		json_decref(js);
		js = jsonio_load(line, len, why, sizeof(why));
		if (!js) {
			log_warnx("%s: a result line that is not a JSON object: %s", g->cli_json, why);
			continue;
		}
		if (jsonio_get_str(js, "flow", name, sizeof(name)) < 0)
			continue;
		for (size_t i = 0; i < g->n; i++)
			if (!strcmp(r->sc->flows[g->flows[i]].name, name))
				idx = g->flows[i];
		if (idx < 0)
			continue;
		seen[idx] = true;
		fr = &res->flows[idx];
		sf = &r->sc->flows[idx];
		jsonio_get_str(js, "outcome", out, sizeof(out));
		jsonio_get_str(js, "noticed_by", who, sizeof(who));
		jsonio_get_int(js, "at_ms", &at);
		jsonio_get_int(js, "cycle", &cycle);
		{
			int64_t e = 0;

			jsonio_get_int(js, "client.errno", &e);
			fr->err = (int)e;
		}
		errname[0] = '\0';
		jsonio_get_str(js, "client.errno_name", errname, sizeof(errname));
		if (jsonio_get_str(js, "client.detail", detail, sizeof(detail)) < 0 || !detail[0])
			jsonio_get_str(js, "server.detail", detail, sizeof(detail));
		snprintf(fr->noticed_by, sizeof(fr->noticed_by), "%s", who);
		{
			int64_t v = -1;

			if (jsonio_get_int(js, "client.server_heartbeats", &v) == 0 && v >= 0)
				fr->server_heartbeats = (uint32_t)v;
			v = -1;
			if (jsonio_get_int(js, "client.last_server_heartbeat_ms", &v) == 0 && v >= 0)
				fr->last_server_heartbeat_ms = (int64_t)unscale(r->sc, (uint64_t)v);
		}
		if (at >= 0) {
			uint64_t cyc_ms = cycle > 1 ? (uint64_t)(cycle - 1) * sf->idle.ms : 0;

			fr->noticed_ms = (int64_t)unscale(r->sc, (uint64_t)at);
			mark(res, cyc_ms + (uint64_t)fr->noticed_ms, TL_OUTCOME, idx, -1, -1, "%s%s%s", out,
			     who[0] ? ", noticed by the " : "", who);
		}
		if (!strcmp(out, "error") || !strcmp(out, "interrupted") || !strcmp(out, "none")) {
			fr->status = RES_ERROR;
			snprintf(fr->error, sizeof(fr->error), "%s",
				 !strcmp(out, "interrupted") ? "interrupted before the flow ended" : "");
			if (!fr->error[0])
				snprintf(fr->error, sizeof(fr->error), "the probe could not run the flow: %s",
					 detail[0] ? detail : "no detail");
			continue;
		}
		snprintf(fr->observed, sizeof(fr->observed), "%s", out);
		fr->status = RES_PASS;          /* judged below */
		fr->error[0] = '\0';
		{
			char a[32], b[32], c[32], mv[200];

			mb_view(r, fr, mv, sizeof(mv));
			tu_human_ms(sf->idle.ms, a, sizeof(a));
			if (!strcmp(out, "alive"))
				snprintf(fr->evidence, sizeof(fr->evidence),
					 "data crossed both ways after %s idle%s%.170s", a,
					 sf->cycles > 1 ? " (every cycle)" : "", mv);
			else if (!strcmp(out, "timeout"))
				snprintf(fr->evidence, sizeof(fr->evidence),
					 "no answer within %s after %s idle%s%s%.150s",
					 tu_human_ms(sf->deadline.ms, b, sizeof(b)), a,
					 who[0] ? ", noticed by the " : "", who, mv);
			else
				snprintf(fr->evidence, sizeof(fr->evidence), "%s%s%s%s after %s idle%s%s%s",
					 outcome_words(out), errname[0] ? " (" : "", errname, errname[0] ? ")" : "",
					 at >= 0 ? tu_human_ms((uint64_t)fr->noticed_ms, c, sizeof(c)) : "?",
					 cycle > 1 ? " (in a later cycle)" : "",
					 who[0] ? ", seen by the " : "", who);
			if (strcmp(out, "alive") && strcmp(out, "timeout")) {
				size_t o = strlen(fr->evidence);

				snprintf(fr->evidence + o, sizeof(fr->evidence) - o, "%s", mv);
			}
		}
		if (!strcmp(who, "client") && sf->speaker == SC_CLIENT && strcmp(out, "alive") &&
		    !strcmp(out, "reset") && fr->noticed_ms >= 0 && (uint64_t)fr->noticed_ms >= sf->idle.ms) {
			/* "... seen by the client on its first send" */
			char *p = strstr(fr->evidence, ", seen by the client");

			if (p) {
				char rest[256];

				snprintf(rest, sizeof(rest), "%s", p + strlen(", seen by the client"));
				snprintf(p, sizeof(fr->evidence) - (size_t)(p - fr->evidence),
					 ", seen by the client on its first send%s", rest);
			}
		}
		judge(fr);
	}
	json_decref(js);
	free(line);
	if (f)
		fclose(f);
	for (size_t i = 0; i < g->n; i++) {
		struct flow_result *fr = &res->flows[g->flows[i]];

		if (seen[g->flows[i]] && !crashed)
			continue;
		if (fr->status == RES_ERROR && fr->error[0])
			continue;
		fr->status = RES_ERROR;
		if (g->cli_status == 127)
			snprintf(fr->error, sizeof(fr->error), "idlegate-probe could not be executed");
		else if (crashed)
			snprintf(fr->error, sizeof(fr->error), "the probe client failed (status %d)%s%s",
				 g->cli_status, tail[0] ? ": " : "", tail);
		else
			snprintf(fr->error, sizeof(fr->error), "the probe client reported nothing for this flow%s%s",
				 tail[0] ? ": " : "", tail);
	}
	(void)l;
}

/* Outcome of a command from its exit status and what it printed. */
static void command_result(struct run *r, struct cmdflow *c, struct scenario_result *res)
{
	struct flow_result *fr = &res->flows[c->flow];
	const struct sc_flow *f = &r->sc->flows[c->flow];
	char tail[512], low[512], t[32], mv[200];
	const char *obs;
	uint64_t took = c->end > c->start ? c->end - c->start : 0;

	file_tail(c->err, tail, sizeof(tail));
	for (size_t i = 0; i <= strlen(tail); i++)
		low[i] = (char)(tail[i] >= 'A' && tail[i] <= 'Z' ? tail[i] + 32 : tail[i]);
	if (c->status == 0)
		obs = "alive";
	else if (c->status == 127)
		obs = NULL;
	else if (strstr(low, "reset") || strstr(low, "broken pipe"))
		obs = "reset";
	else if (strstr(low, "unreachable") || strstr(low, "no route"))
		obs = "unreachable";
	else if (strstr(low, "timed out") || strstr(low, "timeout"))
		obs = f->expect == SC_EXPECT_KEEPALIVE_TIMEOUT ? "keepalive-timeout" : "timeout";
	else
		obs = "failed";
	fr->noticed_ms = (int64_t)unscale(r->sc, took);
	snprintf(fr->noticed_by, sizeof(fr->noticed_by), "client");
	mark(res, (uint64_t)fr->noticed_ms, TL_OUTCOME, c->flow, -1, -1, "command exited %d", c->status);
	if (!obs) {
		fr->status = RES_ERROR;
		snprintf(fr->error, sizeof(fr->error), "command not found (exit 127): %s", tail);
		return;
	}
	snprintf(fr->observed, sizeof(fr->observed), "%s", obs);
	fr->status = RES_PASS;                  /* judged below */
	fr->error[0] = '\0';
	mb_view(r, fr, mv, sizeof(mv));
	{
		char *nl = strrchr(tail, '\n');

		snprintf(fr->evidence, sizeof(fr->evidence), "command exited with status %d after %s%s%s%s",
			 c->status, tu_human_ms(unscale(r->sc, took), t, sizeof(t)),
			 tail[0] ? ": " : "", nl ? nl + 1 : tail, mv);
	}
	judge(fr);
}

static void res_init(struct run *r, struct scenario_result *res)
{
	res->sc = r->sc;
	res->nflows = r->sc->nflows;
	for (size_t i = 0; i < r->sc->nflows; i++) {
		struct flow_result *fr = &res->flows[i];

		fr->flow = (int)i;
		fr->status = RES_ERROR;
		fr->noticed_ms = -1;
		fr->expired_ms = -1;
		fr->last_server_heartbeat_ms = -1;
		snprintf(fr->expected, sizeof(fr->expected), "%s", sc_expect_name(r->sc->flows[i].expect));
		rep_settings(r->sc, &r->sc->flows[i], fr->settings, sizeof(fr->settings));
		snprintf(fr->error, sizeof(fr->error), "not run");
	}
}

static void add_pidfd(struct pollfd *pp, int *np, pid_t pid)
{
	int fd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;

	if (fd < 0)
		return;
	pp[*np].fd = fd;
	pp[*np].events = POLLIN;
	pp[*np].revents = 0;
	(*np)++;
}

int run_flows(struct run *r, struct scenario_result *res)
{
	struct sched_ev ev[SC_MAX_EVENTS];
	uint64_t limit, total, last_progress = 0;
	char err[400] = "";

	res_init(r, res);
	/* servers first */
	for (size_t k = 0; k < r->nlanes && !err[0]; k++)
		for (size_t g = 0; g < r->lane[k].ng && !err[0]; g++)
			group_start_server(r, &r->lane[k], g, err, sizeof(err));
	for (size_t i = 0; i < r->ncmd && !err[0]; i++)
		if (r->sc->flows[r->cmd[i].flow].server_command[0])
			cmd_start(r, &r->cmd[i], true, err, sizeof(err));
	if (err[0])
		run_fail(r, "%s", err);
	r->t0 = mtime_ms();
	for (size_t k = 0; k < r->nlanes && !r->err[0]; k++)
		for (size_t g = 0; g < r->lane[k].ng && !err[0]; g++)
			if (group_start_client(r, &r->lane[k], g, err, sizeof(err)) < 0)
				run_fail(r, "%s", err);
	for (size_t i = 0; i < r->ncmd && !r->err[0]; i++)
		if (cmd_start(r, &r->cmd[i], false, err, sizeof(err)) < 0)
			run_fail(r, "%s", err);
	for (size_t i = 0; i < r->sc->nflows; i++)
		mark(res, 0, TL_IDLE_START, (int)i, -1, -1, "idle for %s",
		     tu_human_ms(r->sc->flows[i].idle.ms, (char[32]){0}, 32));
	for (size_t i = 0; i < r->sc->nevents; i++) {
		ev[i].at = r->t0 + r->sc->events[i].at.scaled_ms;
		ev[i].ev = (int)i;
		ev[i].done = false;
	}
	limit = run_limit_ms(r->sc);
	total = scenario_estimate_ms(r->sc);
	while (!r->err[0] && !all_clients_done(r)) {
		uint64_t now = mtime_ms(), next = now + 500;
		struct pollfd p = { .fd = r->o->sigfd, .events = POLLIN };
		struct pollfd pp[1 + 2 * SC_MAX_FLOWS + SC_MAX_FLOWS * (SC_MAX_PATH + 2 * MAX_GROUPS)];
		int np = 0;

		for (size_t i = 0; i < r->sc->nevents; i++) {
			if (ev[i].done)
				continue;
			if (ev[i].at <= now) {
				ev[i].done = true;
				fire_event(r, &r->sc->events[ev[i].ev], res);
			} else if (ev[i].at < next) {
				next = ev[i].at;
			}
		}
		if (now - r->t0 > limit) {
			char t[32];

			run_fail(r, "the run took longer than %s (scenario timeout)",
				 tu_human_ms(unscale(r->sc, limit), t, sizeof(t)));
			break;
		}
		if (now - last_progress >= 250) {
			progress(r, total);
			last_progress = now;
		}
		/* wait for a child to end, a signal, or the next event */
		pp[np++] = p;
		for (size_t k = 0; k < r->nlanes; k++) {
			struct lane *l = &r->lane[k];

			for (size_t s = 0; s < l->npath; s++)
				if (!l->sim[s].exited)
					add_pidfd(pp, &np, l->sim[s].pid);
			for (size_t g = 0; g < l->ng; g++) {
				if (!l->g[g].cli_done)
					add_pidfd(pp, &np, l->g[g].client);
				if (!l->g[g].srv_done)
					add_pidfd(pp, &np, l->g[g].server);
			}
		}
		for (size_t i = 0; i < r->ncmd; i++)
			if (!r->cmd[i].done)
				add_pidfd(pp, &np, r->cmd[i].client);
		now = mtime_ms();
		poll(pp, (nfds_t)np, next > now ? (int)(next - now) : 0);
		for (int i = 1; i < np; i++)
			if (pp[i].fd >= 0)
				close(pp[i].fd);
		if (pp[0].fd >= 0 && (pp[0].revents & POLLIN)) {
			r->interrupted = true;
			run_fail(r, "interrupted");
			break;
		}
		check_children(r);
	}
	stop_all(r);
	res->scenario_ms = unscale(r->sc, mtime_ms() - r->t0);
	/* what the middleboxes saw */
	for (size_t i = 0; i < r->sc->nflows; i++) {
		res->flows[i].keepalives_seen = 0;
		res->flows[i].drops = 0;
		res->flows[i].expired_ms = -1;
	}
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];

			s->ev_off = 0;
			s->nflows = 0;
			memset(s->next_in_group, 0, sizeof(s->next_in_group));
			sim_read_events(r, l, s, res);
			if (!s->stats_seen)
				run_fail(r, "middlebox %s: idlegate-sim wrote no final statistics",
					 r->sc->mb[s->mb].name);
			else if (!s->trusted)
				run_fail(r, "middlebox %s: %s", r->sc->mb[s->mb].name, s->stats_why);
		}
	}
	for (size_t k = 0; k < r->nlanes; k++)
		for (size_t g = 0; g < r->lane[k].ng; g++)
			probe_results(r, &r->lane[k], &r->lane[k].g[g], res);
	for (size_t i = 0; i < r->ncmd; i++)
		command_result(r, &r->cmd[i], res);
	/* a run that can't be trusted says so for every flow */
	res->status = RES_PASS;
	if (r->err[0]) {
		snprintf(res->error, sizeof(res->error), "%s", r->err);
		for (size_t i = 0; i < res->nflows; i++) {
			if (res->flows[i].status == RES_ERROR && strcmp(res->flows[i].error, "not run") &&
			    strncmp(res->flows[i].error, "interrupted", 11))
				continue;
			res->flows[i].status = RES_ERROR;
			snprintf(res->flows[i].error, sizeof(res->flows[i].error), "%s", r->err);
		}
		res->status = RES_ERROR;
	}
	for (size_t i = 0; i < res->nflows; i++) {
		enum res_status s = res->flows[i].status;

		if (s == RES_ERROR)
			res->status = RES_ERROR;
		else if (s == RES_FAIL && res->status == RES_PASS)
			res->status = RES_FAIL;
	}
	return r->interrupted ? 1 : 0;
}

/* ---- teardown ---- */

int run_keep(struct run *r, char *buf, size_t len, char *err, size_t errlen)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < r->nlanes; k++) {
		char prefix[96];

		if (r->nlanes > 1)
			snprintf(prefix, sizeof(prefix), "%s-p%zu", r->o->name_prefix, k);
		else
			snprintf(prefix, sizeof(prefix), "%s", r->o->name_prefix);
		if (topo_attach(r->lane[k].topo, prefix, err, errlen) < 0)
			return -1;
		topo_keep_names(r->lane[k].topo);
		for (size_t n = 0; n < topo_nodes(r->lane[k].topo) && off < len; n++)
			off += (size_t)snprintf(buf + off, len - off, "  ip netns exec %s bash\n",
						topo_ns_name(r->lane[k].topo, n));
	}
	r->kept = true;
	return 0;
}

void run_free(struct run *r)
{
	if (!r)
		return;
	stop_all(r);
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		topo_free(l->topo);
		for (size_t p = 0; p < l->npath; p++)
			free(l->sim[p].flows);
	}
	free(r);
}

int run_scenario(const struct scenario *sc, const struct run_opts *o, struct scenario_result *res,
		 char *keep_msg, size_t keep_len)
{
	char err[400];
	struct run *r;
	uint64_t start = mtime_ms();
	int rc;

	if (keep_msg && keep_len)
		keep_msg[0] = '\0';
	r = run_build(sc, o, err, sizeof(err));
	if (!r) {
		int e = errno;

		memset(res, 0, sizeof(*res));
		res->sc = sc;
		res->nflows = sc->nflows;
		res->status = RES_ERROR;
		snprintf(res->error, sizeof(res->error), "%.255s", err);
		for (size_t i = 0; i < sc->nflows; i++) {
			struct flow_result *fr = &res->flows[i];

			fr->flow = (int)i;
			fr->status = RES_ERROR;
			fr->noticed_ms = fr->expired_ms = fr->last_server_heartbeat_ms = -1;
			snprintf(fr->expected, sizeof(fr->expected), "%s", sc_expect_name(sc->flows[i].expect));
			rep_settings(sc, &sc->flows[i], fr->settings, sizeof(fr->settings));
			snprintf(fr->error, sizeof(fr->error), "%.255s", err);
		}
		res->wall_ms = mtime_ms() - start;
		errno = e;
		return e == EINTR ? 1 : -1;
	}
	rc = run_flows(r, res);
	if (o->keep && rc == 0 && res->status != RES_PASS && keep_msg) {
		char kerr[300];

		if (run_keep(r, keep_msg, keep_len, kerr, sizeof(kerr)) < 0)
			snprintf(keep_msg, keep_len, "could not keep the namespaces: %s\n", kerr);
	}
	run_free(r);
	res->wall_ms = mtime_ms() - start;
	return rc;
}
