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
#include "runner/run/internal.h"

/* First error wins: it is usually the cause of the others. */
void run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

/* Scaled (wall) ms back to scenario ms (128 bits: ms x den does not wrap;
 * saturates). */
uint64_t run_unscale(const struct scenario *sc, uint64_t ms)
{
	unsigned __int128 v;

	if (!sc->scale.num)
		return ms;
	v = ((unsigned __int128)ms * sc->scale.den + sc->scale.num / 2) / sc->scale.num;
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
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

int64_t run_scen_ms(const struct run *r, int64_t t_real)
{
	if (t_real <= (int64_t)r->t0)
		return 0;
	return (int64_t)run_unscale(r->sc, (uint64_t)(t_real - (int64_t)r->t0));
}

void run_mark(struct scenario_result *res, uint64_t t, enum tl_kind k, int flow, int mb, int dir,
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

/* ---- building ---- */

static bool same_path(const struct sc_flow *f, const struct lane *l)
{
	return f->npath == l->npath && !memcmp(f->path, l->path, f->npath * sizeof(f->path[0]));
}

/*
 * The directory the probes write in: theirs (0700, the run user's) inside
 * the run's private directory (root's, 0711), so that an unprivileged
 * probe can write its results and ready files but nothing of root's. The
 * runner reads what is in it only through fopen_regular().
 */
static int probedir_make(struct run *r, char *err, size_t errlen)
{
	int fd;

	if ((size_t)snprintf(r->probedir, sizeof(r->probedir), "%s/probes", r->o->workdir) >=
	    sizeof(r->probedir) || mkdir(r->probedir, 0700) < 0) {
		tu_errf(err, errlen, "%s: %s", r->probedir, strerror(errno));
		return -1;
	}
	if (!r->o->user)
		return 0;
	fd = open(r->probedir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, r->o->user->uid, r->o->user->gid) < 0) {
		tu_errf(err, errlen, "%s: %s", r->probedir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* A flow's sysctl.NAME keys, in its own client namespace. */
static int lane_sysctls(const struct scenario *sc, struct lane *l, const struct sc_flow *f, char *err,
			size_t errlen)
{
	for (size_t i = 0; i < f->nsysctl; i++) {
		char msg[200];
		unsigned long v = f->sysctl[i].value;
		int rc;

		/* with scale_program the program's time runs N times faster,
		 * and so do the kernel's keepalive times it inherits */
		if (f->scale_program && sc_sysctl_is_seconds(f->sysctl[i].name))
			v = (unsigned long)((scenario_scale(sc, (uint64_t)v * 1000) + 500) / 1000) ?: 1;
		rc = spawn_waitf(topo_ns_pid(l->topo, 0), msg, sizeof(msg), "sysctl -q -w %s=%lu",
				 f->sysctl[i].name, v);
		if (rc != 0) {
			tu_errf(err, errlen, "flow %s: sysctl %s=%lu in its client's namespace: %s", f->name,
				f->sysctl[i].name, v,
				rc < 0 ? strerror(errno) : rc == 127 ? "no sysctl program (procps)" : msg);
			return -1;
		}
	}
	return 0;
}

/* One lane per distinct path; probe flows grouped by server port on it,
 * command flows on their own. */
static int plan_lanes(struct run *r, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;

	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		size_t k;

		/* a flow with sysctls has its client namespace to itself */
		for (k = 0; k < r->nlanes; k++)
			if (!f->nsysctl && !r->lane[k].own && same_path(f, &r->lane[k]))
				break;
		if (k == r->nlanes) {
			if (k == SC_MAX_NETWORKS) {
				tu_errf(err, errlen, "flow %s: more than %d networks", f->name, SC_MAX_NETWORKS);
				errno = EINVAL;
				return -1;
			}
			r->lane[k].npath = f->npath;
			memcpy(r->lane[k].path, f->path, sizeof(f->path));
			r->lane[k].own = f->nsysctl ? (int)i + 1 : 0;
			r->nlanes++;
		}
		r->lane_of[i] = (int)k;
		r->group_of[i] = -1;
		if (f->command[0]) {
			r->cmd[r->ncmd].flow = (int)i;
			r->cmd[r->ncmd].status = r->cmd[r->ncmd].srv_status = -1;
			r->ncmd++;
		} else {
			struct lane *l = &r->lane[k];
			unsigned port = f->port ? f->port : SC_DEFAULT_PORT;
			int g = group_of_port(l, port);

			if (g < 0) {
				if (l->ng == SC_MAX_PORTS) {
					tu_errf(err, errlen, "flow %s: more than %d server ports on one path",
						f->name, SC_MAX_PORTS);
					errno = EINVAL;
					return -1;
				}
				g = (int)l->ng++;
				l->g[g].port = port;
			}
			if (vec_reserve(&l->g[g].flows, &l->g[g].cap, l->g[g].n + 1, sizeof(int)) < 0) {
				tu_errf(err, errlen, "out of memory");
				return -1;
			}
			l->g[g].flows[l->g[g].n++] = (int)i;
			r->group_of[i] = g;
		}
	}
	return 0;
}

/* wait_children()'s poll set: the signalfd and every child of r's plan. */
static int alloc_pollset(struct run *r, char *err, size_t errlen)
{
	r->npp = 1 + r->ncmd;
	for (size_t k = 0; k < r->nlanes; k++)
		r->npp += r->lane[k].npath + 2 * r->lane[k].ng;
	r->pp = calloc(r->npp, sizeof(*r->pp));
	if (!r->pp) {
		tu_errf(err, errlen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* The per-flow arrays of r; -1 with errno ENOMEM. */
static int run_alloc(struct run *r)
{
	size_t n = r->sc->nflows ? r->sc->nflows : 1;

	r->lane_of = calloc(n, sizeof(*r->lane_of));
	r->group_of = calloc(n, sizeof(*r->group_of));
	r->flow_end = calloc(n, sizeof(*r->flow_end));
	r->expired = calloc(n, sizeof(*r->expired));
	r->cmd = calloc(n, sizeof(*r->cmd));
	if (!r->lane_of || !r->group_of || !r->flow_end || !r->expired || !r->cmd) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Each lane's topology, and its simulators started (not yet waited for). */
static int build_networks(struct run *r, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;
	const struct run_opts *o = r->o;

	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];
		struct topo_config tc = { .nmb = l->npath, .ipv4_net = sc->ipv4_net,
					  .ipv6_net = sc->ipv6_net, .user = o->user };
		char terr[400];

		for (size_t p = 0; p < l->npath; p++) {
			tc.mb_name[p] = sc->mb[l->path[p]].name;
			tc.mb_nat[p] = sc->mb[l->path[p]].policy.nat == NAT_SNAT;
		}
		l->topo = topo_new(&tc, terr, sizeof(terr));
		if (!l->topo) {
			int e = errno;

			tu_errf(err, errlen, "%s", terr);
			errno = e == EPERM ? EPERM : EIO;
			return -1;
		}
		if (l->own && lane_sysctls(sc, l, &sc->flows[l->own - 1], err, errlen) < 0) {
			errno = EIO;
			return -1;
		}
		for (size_t p = 0; p < l->npath; p++)
			if (sim_start(r, l, p, err, errlen) < 0) {
				errno = EIO;
				return -1;
			}
	}
	return 0;
}

/* Every simulator ready, or the reason one is not (its stderr). */
static int wait_simulators(struct run *r, char *err, size_t errlen)
{
	const struct scenario *sc = r->sc;

	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];
			int st = -1;
			char tail[300];

			if (wait_file(r, s->ready, s->pid, &st) == 0)
				continue;
			if (errno == EINTR) {
				tu_errf(err, errlen, "interrupted");
				errno = EINTR;
				return -1;
			}
			bool timeout = errno == ETIMEDOUT;     /* before file_tail() sets errno */

			if (errno == ECHILD)
				s->exited = true;
			file_tail(s->errf, tail, sizeof(tail));
			tu_errf(err, errlen, "middlebox %s: idlegate-sim %s%s%s",
				sc->mb[s->mb].name,
				timeout ? "was not ready within 10 s" :
				st == 127 ? "could not be executed" : "exited before it was ready",
				tail[0] ? ": " : "", tail);
			errno = EIO;
			return -1;
		}
	}
	return 0;
}

struct run *run_build(const struct scenario *sc, const struct run_opts *o, char *err, size_t errlen)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->sc = sc;
	r->o = o;
	if (run_alloc(r) < 0) {
		tu_errf(err, errlen, "out of memory");
		goto fail;
	}
	if (plan_lanes(r, err, errlen) < 0 ||
	    probedir_make(r, err, errlen) < 0)
		goto fail;
	/* a shell on a scenario without flows still gets the full chain */
	if (!r->nlanes) {
		r->lane[0].npath = sc->nmb < SC_MAX_PATH ? sc->nmb : SC_MAX_PATH;
		for (size_t i = 0; i < r->lane[0].npath; i++)
			r->lane[0].path[i] = (int)i;
		r->nlanes = 1;
	}
	if (alloc_pollset(r, err, errlen) < 0)
		goto fail;
	if (build_networks(r, err, errlen) < 0 || wait_simulators(r, err, errlen) < 0)
		goto fail;
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
					if (!r->flow_end[g->flows[i]])
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
			c->srv_died = !c->done;
		}
	}
}

/* Flows of group g that have ended: all once its client is done, else the
 * lines of its --ended-file so far (flows are counted as they end). */
static unsigned group_ended(const struct group *g)
{
	unsigned n = 0;
	FILE *f;
	int ch;

	if (g->cli_done)
		return (unsigned)g->n;
	f = fopen(g->cli_ended, "re");
	if (!f)
		return 0;
	while ((ch = getc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n < g->n ? n : (unsigned)g->n;
}

static void progress(struct run *r, uint64_t total_wall)
{
	struct run_progress p = { 0 };
	uint64_t now = mtime_ms();
	bool *expired = r->expired;

	if (!r->o->progress)
		return;
	memset(expired, 0, r->sc->nflows * sizeof(*expired));
	p.elapsed_ms = run_unscale(r->sc, now - r->t0);
	p.total_ms = run_unscale(r->sc, total_wall);
	p.wall_ms = now - r->t0;
	p.wall_total_ms = total_wall;
	p.flows = (unsigned)r->sc->nflows;
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t gi = 0; gi < l->ng; gi++)
			p.ended += group_ended(&l->g[gi]);
		for (size_t pp = 0; pp < l->npath; pp++) {
			struct simproc *s = &l->sim[pp];

			evlog_read(r, l, s, NULL);
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
	return sat_add(sat_add(est, est / 2), 30000);
}

static void stop_all(struct run *r)
{
	for (size_t i = 0; i < r->ncmd; i++) {
		struct cmdflow *c = &r->cmd[i];

		if (!c->done && c->client > 0) {
			c->status = stop_child(c->client, SIGTERM, 2000);
			c->done = true;
			c->stopped = true;
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

/* An [event] waiting for its scaled time. */
struct sched_ev {
	uint64_t at;                    /* wall ms */
	int ev;
	bool done;
};

/* Start the commands whose start = has come by now; the wall time of the
 * next one still to come, or UINT64_MAX. */
static uint64_t start_due_commands(struct run *r, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < r->ncmd && !r->err[0]; i++) {
		struct cmdflow *c = &r->cmd[i];
		uint64_t at = sat_add(r->t0, r->sc->flows[c->flow].start.scaled_ms);

		if (!c->pending)
			continue;
		if (at > now) {
			next = at < next ? at : next;
			continue;
		}
		c->pending = false;
		if (cmd_start(r, c, false, c->why, sizeof(c->why)) < 0) {
			c->done = true;
			if (!c->dir[0])
				continue;       /* its own setup failed (run_as): its flow's ERROR */
			run_fail(r, "%s", c->why);
		}
	}
	return next;
}

/* Servers first, then t0, then the clients and commands, each command at
 * its start = (t0 is the start of the idle period that [event] times count
 * from). */
static void start_flows(struct run *r, struct scenario_result *res)
{
	char err[400] = "";

	for (size_t k = 0; k < r->nlanes && !err[0]; k++)
		for (size_t g = 0; g < r->lane[k].ng && !err[0]; g++)
			group_start_server(r, &r->lane[k], g, err, sizeof(err));
	if (err[0])
		run_fail(r, "%s", err);
	/* a server_command that fails fails its own flow (an ERROR with its
	 * reason), not the others */
	for (size_t i = 0; i < r->ncmd && !r->err[0]; i++) {
		struct cmdflow *c = &r->cmd[i];

		if (r->sc->flows[c->flow].server_command[0] &&
		    cmd_start(r, c, true, c->why, sizeof(c->why)) < 0) {
			c->srv_failed = true;
			if (sig_pending(r))
				run_fail(r, "interrupted");
		}
	}
	r->t0 = mtime_ms();
	for (size_t k = 0; k < r->nlanes && !r->err[0]; k++)
		for (size_t g = 0; g < r->lane[k].ng && !err[0]; g++)
			if (group_start_client(r, &r->lane[k], g, err, sizeof(err)) < 0)
				run_fail(r, "%s", err);
	for (size_t i = 0; i < r->ncmd && !r->err[0]; i++) {
		struct cmdflow *c = &r->cmd[i];

		if (c->srv_failed) {
			c->done = true;         /* never started: nothing to wait for */
			continue;
		}
		c->pending = true;
	}
	start_due_commands(r, r->t0);
	/* a flow's timeline: its first connection's, from its start */
	for (size_t i = 0; i < r->sc->nflows; i++)
		run_mark(res, run_conn_start(&r->sc->flows[i], 0), TL_IDLE_START, (int)i, -1, -1, "idle for %s",
			 duration_format(r->sc->flows[i].idle.ms, (char[32]){0}, 32));
}

/* Fire the events that are due; the wall time of the next one (or next). */
static uint64_t fire_due_events(struct run *r, struct sched_ev *ev, uint64_t now, uint64_t next,
				struct scenario_result *res)
{
	for (size_t i = 0; i < r->sc->nevents; i++) {
		if (ev[i].done)
			continue;
		if (ev[i].at <= now) {
			ev[i].done = true;
			sim_fire_event(r, &r->sc->events[ev[i].ev], res);
		} else if (ev[i].at < next) {
			next = ev[i].at;
		}
	}
	return next;
}

/*
 * Sleep until a child ends, a signal arrives or the deadline. pidfds of
 * every running child, the caller's signalfd first. Returns true when a
 * signal ended the wait (the run is then interrupted).
 */
static bool wait_children(struct run *r, uint64_t until)
{
	struct pollfd *pp = r->pp;
	uint64_t now;
	int np = 0;
	bool sig;

	pp[np].fd = r->o->sigfd;
	pp[np++].events = POLLIN;
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
	poll(pp, (nfds_t)np, until > now ? (int)(until - now) : 0);
	for (int i = 1; i < np; i++)
		if (pp[i].fd >= 0)
			close(pp[i].fd);
	sig = pp[0].fd >= 0 && (pp[0].revents & POLLIN);
	if (sig) {
		r->interrupted = true;
		run_fail(r, "interrupted");
	}
	return sig;
}

/* A flow of the run (ctx) ended, says its probe client's --ended-file: its
 * end from now on (a group's connections end with the group's client), and
 * the caller's flow_ended. */
static bool run_flow_ended(void *ctx, const char *flow, const char *outcome)
{
	struct run *r = ctx;

	for (size_t i = 0; i < r->sc->nflows; i++)
		if (r->sc->flows[i].count <= 1 && !r->flow_end[i] && !strcmp(r->sc->flows[i].name, flow))
			r->flow_end[i] = mtime_ms();
	return r->o->flow_ended && r->o->flow_ended(r->o->ctx, flow, outcome);
}

/* The flows that ended since the last look. Once the caller has its answer
 * (run_opts.flow_ended), every probe client still running is told to
 * finish (SIGUSR1: its flows still running end as not needed, the server
 * is asked about the others), once. */
static void read_ended(struct run *r)
{
	bool was = r->enough;

	for (size_t k = 0; k < r->nlanes; k++)
		for (size_t gi = 0; gi < r->lane[k].ng; gi++)
			r->enough |= tu_ended_read(r->lane[k].g[gi].cli_ended, &r->lane[k].g[gi].ended_off,
						   run_flow_ended, r);
	for (size_t k = 0; k < r->nlanes && r->enough && !was; k++)
		for (size_t gi = 0; gi < r->lane[k].ng; gi++)
			if (!r->lane[k].g[gi].cli_done && r->lane[k].g[gi].client > 0)
				kill(r->lane[k].g[gi].client, SIGUSR1);
}

/* The loop of a run: events at their times, progress, children and signals,
 * until every client has ended (early, when its caller has its answer), the
 * run fails, or its time is up. */
static void run_loop(struct run *r, struct scenario_result *res)
{
	struct sched_ev *ev = calloc(r->sc->nevents ? r->sc->nevents : 1, sizeof(*ev));
	uint64_t limit = run_limit_ms(r->sc), total = scenario_estimate_ms(r->sc), last_progress = 0;

	if (!ev) {
		run_fail(r, "out of memory");
		return;
	}
	for (size_t i = 0; i < r->sc->nevents; i++)
		ev[i] = (struct sched_ev){ .at = sat_add(r->t0, r->sc->events[i].at.scaled_ms), .ev = (int)i };
	while (!r->err[0] && !all_clients_done(r)) {
		uint64_t now = mtime_ms();
		uint64_t next = fire_due_events(r, ev, now, now + 500, res), cmd_next = start_due_commands(r, now);

		if (cmd_next < next)
			next = cmd_next;

		if (now - r->t0 > limit) {
			char t[32];

			run_fail(r, "the run took longer than %s (scenario timeout)",
				 duration_format(run_unscale(r->sc, limit), t, sizeof(t)));
			break;
		}
		if (now - last_progress >= 250) {
			progress(r, total);
			last_progress = now;
		}
		if (wait_children(r, next))
			break;
		read_ended(r);
		check_children(r);
	}
	free(ev);
}

/* What the middleboxes saw: every event log read again from the start, with
 * the final statistics; a simulator that lost anything fails the run. */
static void read_middleboxes(struct run *r, struct scenario_result *res)
{
	evlog_facts_reset(r, res);
	for (size_t k = 0; k < r->nlanes; k++) {
		struct lane *l = &r->lane[k];

		for (size_t p = 0; p < l->npath; p++) {
			struct simproc *s = &l->sim[p];

			evlog_reset(s);
			evlog_read(r, l, s, res);
			if (!s->stats_seen)
				run_fail(r, "middlebox %s: idlegate-sim wrote no final statistics",
					 r->sc->mb[s->mb].name);
			else if (!s->trusted)
				run_fail(r, "middlebox %s: %s", r->sc->mb[s->mb].name, s->stats_why);
		}
	}
}

/* The scenario's status from its flows'; a run that can't be trusted says
 * so for every flow that has no error of its own. */
static void settle_status(struct run *r, struct scenario_result *res)
{
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
}

int run_flows(struct run *r, struct scenario_result *res)
{
	if (judge_init(r, res) < 0) {
		res->status = RES_ERROR;
		return -1;
	}
	start_flows(r, res);
	run_loop(r, res);
	stop_all(r);
	res->scenario_ms = run_unscale(r->sc, mtime_ms() - r->t0);
	read_middleboxes(r, res);
	for (size_t k = 0; k < r->nlanes; k++)
		for (size_t g = 0; g < r->lane[k].ng; g++)
			probe_results(r, &r->lane[k], &r->lane[k].g[g], res);
	for (size_t i = 0; i < r->ncmd; i++)
		command_result(r, &r->cmd[i], res);
	settle_status(r, res);
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
			evlog_free(&l->sim[p]);
		evlog_lane_free(l);
		for (size_t g = 0; g < l->ng; g++)
			free(l->g[g].flows);
	}
	judge_free(r);
	free(r->lane_of);
	free(r->group_of);
	free(r->flow_end);
	free(r->expired);
	free(r->cmd);
	free(r->pp);
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

		result_init_error(res, sc, err);
		snprintf(res->error, sizeof(res->error), "%.255s", err);
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
