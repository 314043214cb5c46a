// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting a run's flows: one probe server per server port and path, one
 * probe client per group, and the flows' own commands with their
 * environment (see internal.h).
 */
#include "runner/run/internal.h"

#include <glob.h>
#include <pwd.h>


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
		off += (size_t)snprintf(buf + off, len - off, ",server_heartbeat=%" PRIu64 "ms",
					f->server_heartbeat.scaled_ms);
	if (f->warmup.ms && off < len)
		snprintf(buf + off, len - off, ",warmup=%" PRIu64 "ms", f->warmup.scaled_ms);
}

/* The descriptors a probe of group g needs: one per connection, a few of
 * its own, and room for the connections a UDP flow or a QUERY adds. */
static unsigned long probe_nofile(const struct run *r, const struct group *g)
{
	unsigned long n = 0;

	for (size_t i = 0; i < g->n; i++)
		n += r->sc->flows[g->flows[i]].count;
	return 2 * n + 1024;
}

/* DIR/pLANE-WHO-PORT.EXT into out (PATH_MAX); -1 if it does not fit. */
static int file_name(char *out, const char *dir, size_t lane, const char *who, unsigned port, const char *ext)
{
	int n = snprintf(out, PATH_MAX, "%s/p%zu-%s-%u.%s", dir, lane, who, port, ext);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

int group_start_server(struct run *r, struct lane *l, size_t gi, char *err, size_t errlen)
{
	struct group *g = &l->g[gi];
	size_t lane = (size_t)(l - r->lane);
	char listen[32], maxf[24];
	int st = -1;
	char *argv[] = { (char *)r->o->probe_path, "-q", "server", "--listen", listen,
			 "--results", g->srv_results, "--ready-file", g->srv_ready,
			 "--max-flows", maxf, NULL };
	struct spawn_opts so = { .netns_pid = topo_ns_pid(l->topo, topo_nodes(l->topo) - 1),
				 .stderr_path = g->srv_err, .user = r->o->user,
				 .nofile = probe_nofile(r, g) };

	snprintf(listen, sizeof(listen), ":%u", g->port);
	/* the server refuses flows beyond this many: room for every connection */
	snprintf(maxf, sizeof(maxf), "%lu", probe_nofile(r, g));
	/* what the probes write goes to their directory; their stderr, which
	 * root opens for them, stays in root's */
	if (file_name(g->srv_ready, r->probedir, lane, "server", g->port, "ready") < 0 ||
	    file_name(g->srv_results, r->probedir, lane, "server", g->port, "jsonl") < 0 ||
	    file_name(g->srv_err, r->o->workdir, lane, "server", g->port, "err") < 0 ||
	    file_name(g->cli_json, r->probedir, lane, "client", g->port, "jsonl") < 0 ||
	    file_name(g->cli_ended, r->probedir, lane, "client", g->port, "ended") < 0 ||
	    file_name(g->cli_addrs, r->probedir, lane, "client", g->port, "addrs") < 0 ||
	    file_name(g->cli_err, r->o->workdir, lane, "client", g->port, "err") < 0) {
		tu_errf(err, errlen, "%s: too long a path for the probes' files", r->o->workdir);
		return -1;
	}
	g->server = spawn(argv, &so);
	if (g->server < 0) {
		tu_errf(err, errlen, "starting the probe server: %s", strerror(errno));
		return -1;
	}
	if (wait_file(r, g->srv_ready, g->server, &st) < 0) {
		char tail[300];

		if (errno == EINTR) {
			tu_errf(err, errlen, "interrupted");
			return -1;
		}
		if (errno == ECHILD) {
			g->srv_done = true;
			g->srv_status = st;
		}
		{
			bool timeout = errno == ETIMEDOUT;     /* before file_tail() sets errno */
			char how[64];

			if (timeout)
				snprintf(how, sizeof(how), "was not ready within 10 s");
			else if (st == 126 || st == 127)
				snprintf(how, sizeof(how), "could not be started (status %d)", st);
			else
				snprintf(how, sizeof(how), "exited with status %d", st);
			file_tail(g->srv_err, tail, sizeof(tail));
			tu_errf(err, errlen, "the probe server on port %u %s%s%s", g->port, how,
				tail[0] ? ": " : "", tail);
		}
		return -1;
	}
	return 0;
}

/* The flows file of a group's probe client: one spec per connection, a
 * group's connections named NAME.1 .. NAME.N with their start offsets
 * spread over the ramp. */
static int write_flows_file(struct run *r, const struct group *g, const char *path)
{
	FILE *f = fopen(path, "w");
	char spec[400];

	if (!f)
		return -1;
	for (size_t i = 0; i < g->n; i++) {
		const struct sc_flow *sf = &r->sc->flows[g->flows[i]];

		flow_spec(sf, spec, sizeof(spec));
		for (unsigned k = 0; k < sf->count; k++) {
			uint64_t start = sc_conn_start_ms(sf, k, true);
			if (sf->count > 1)
				fprintf(f, "name=%s.%u%s", sf->name, k + 1, strchr(spec, ','));
			else
				fputs(spec, f);
			if (start)
				fprintf(f, ",start=%" PRIu64 "ms", start);
			fputc('\n', f);
		}
	}
	if (fflush(f) != 0 || ferror(f)) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int group_start_client(struct run *r, struct lane *l, size_t gi, char *err, size_t errlen)
{
	struct group *g = &l->g[gi];
	size_t srvnode = topo_nodes(l->topo) - 1;
	char s4[80], s6[96], a[64], flows[PATH_MAX];
	char *argv[20];
	size_t n = 0;
	struct spawn_opts so = { .netns_pid = topo_ns_pid(l->topo, 0), .stderr_path = g->cli_err,
				 .user = r->o->user, .nofile = probe_nofile(r, g) };

	if (file_name(flows, r->probedir, (size_t)(l - r->lane), "client", g->port, "flows") < 0 ||
	    write_flows_file(r, g, flows) < 0) {
		tu_errf(err, errlen, "writing the probe's flows file: %s", strerror(errno));
		return -1;
	}
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
	argv[n++] = "--ended-file";
	argv[n++] = g->cli_ended;
	argv[n++] = "--addrs";
	argv[n++] = g->cli_addrs;
	argv[n++] = "--flows-file";
	argv[n++] = flows;
	argv[n] = NULL;
	g->client = spawn(argv, &so);
	if (g->client < 0) {
		tu_errf(err, errlen, "starting the probe client: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The environment of a flow's command: the caller's without IDLEGATE_*,
 * then what the command needs to know (docs/running.md). */
#define CMD_ENV_N 15
#define CMD_ENV_LEN (3 * PATH_MAX)

/* One NAME=VALUE (truncated, never overflowing; values are paths and
 * addresses, far below the limit). */
static void env_put(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void env_put(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
}
static char **cmd_env(struct run *r, struct lane *l, const struct cmdflow *c, const struct sc_flow *f,
		      char store[CMD_ENV_N][CMD_ENV_LEN])
{
	extern char **environ;
	size_t n = 0, k = 0, m = 0, srv = topo_nodes(l->topo) - 1;
	char **env;
	char a[64];

	for (char **e = environ; *e; e++)
		n++;
	env = calloc(n + CMD_ENV_N + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (char **e = environ; *e; e++) {
		if (!strncmp(*e, "IDLEGATE_", 9))
			continue;
		if (f->scale_program && (!strncmp(*e, "LD_PRELOAD=", 11) || !strncmp(*e, "FAKETIME", 8)))
			continue;
		/* a command run as another user gets its own home: nothing of
		 * it lands in root's or the user's real home directory */
		if (c->has_user && (!strncmp(*e, "HOME=", 5) || !strncmp(*e, "USER=", 5) ||
				    !strncmp(*e, "LOGNAME=", 8)))
			continue;
		env[k++] = *e;
	}
#define PUT(...) env_put(store[m++], sizeof(store[0]), __VA_ARGS__)
	PUT("IDLEGATE_SERVER=%s", topo_addr(l->topo, srv, false, false, a, sizeof(a)));
	PUT("IDLEGATE_SERVER6=%s", topo_addr(l->topo, srv, false, true, a, sizeof(a)));
	PUT("IDLEGATE_CLIENT=%s", topo_addr(l->topo, 0, true, false, a, sizeof(a)));
	PUT("IDLEGATE_CLIENT6=%s", topo_addr(l->topo, 0, true, true, a, sizeof(a)));
	PUT("IDLEGATE_PORT=%u", f->port ? f->port : SC_DEFAULT_PORT);
	PUT("IDLEGATE_FLOW=%s", f->name);
	PUT("IDLEGATE_TIME_SCALE=%s", r->sc->scale_text);
	PUT("IDLEGATE_WORKDIR=%s", c->dir);
	PUT("IDLEGATE_SCENARIO_DIR=%s", r->sc->dir[0] ? r->sc->dir : ".");
	if (c->has_user) {
		PUT("HOME=%s", c->dir);
		PUT("USER=%s", c->user.name);
		PUT("LOGNAME=%s", c->user.name);
	}
	if (f->scale_program) {
		const char *pre = getenv("LD_PRELOAD");

		/* libfaketime speeds up the program's clocks, sleeps and poll
		 * timeouts from its start; libidlegate-scale.so its keepalive
		 * socket options (preload/scale.c). Colons, not spaces, between
		 * the libraries: the value travels through config files
		 * (sshd's SetEnv) */
		PUT("LD_PRELOAD=%s:%s%s%s", c->faketime_lib, c->scale_lib, pre && *pre ? ":" : "", pre ? pre : "");
		PUT("FAKETIME=+0 x%.6g", (double)r->sc->scale.den / (double)r->sc->scale.num);
		PUT("IDLEGATE_SCALE=%llu/%llu", (unsigned long long)r->sc->scale.num,
		    (unsigned long long)r->sc->scale.den);
	}
#undef PUT
	for (size_t i = 0; i < m; i++)
		env[k++] = store[i];
	env[k] = NULL;
	return env;
}

/* The two libraries of scale_program: libfaketime (Debian's path, any
 * architecture, or $IDLEGATE_LIBFAKETIME) and ours, next to idlegate, in
 * ../lib/idlegate, or $IDLEGATE_SCALE_LIB. 0, or -1 with the missing one "". */
static int scale_libs_find(struct cmdflow *c)
{
	const char *env = getenv("IDLEGATE_LIBFAKETIME");
	char self[PATH_MAX];
	ssize_t n;
	glob_t g;

	c->faketime_lib[0] = c->scale_lib[0] = '\0';
	if (env && *env && access(env, R_OK) == 0) {
		snprintf(c->faketime_lib, sizeof(c->faketime_lib), "%s", env);
	} else if (glob("/usr/lib/*/faketime/libfaketime.so.1", 0, NULL, &g) == 0) {
		snprintf(c->faketime_lib, sizeof(c->faketime_lib), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	env = getenv("IDLEGATE_SCALE_LIB");
	if (env && *env && access(env, R_OK) == 0) {
		snprintf(c->scale_lib, sizeof(c->scale_lib), "%s", env);
	} else if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(c->scale_lib, sizeof(c->scale_lib), "%s/libidlegate-scale.so", self) >=
			    sizeof(c->scale_lib) || access(c->scale_lib, R_OK) < 0)
				if ((size_t)snprintf(c->scale_lib, sizeof(c->scale_lib),
						     "%s/../lib/idlegate/libidlegate-scale.so", self) >= sizeof(c->scale_lib) ||
				    access(c->scale_lib, R_OK) < 0)
					c->scale_lib[0] = '\0';
		}
	}
	return c->faketime_lib[0] && c->scale_lib[0] ? 0 : -1;
}

/*
 * The flow's private directory, $IDLEGATE_WORKDIR: DIR/flows/NAME, 0700,
 * of its run_as user (root's without). The run's directory is 0711, so
 * the user can reach it without seeing anything else of the run.
 */
static int cmd_dir_make(struct run *r, struct cmdflow *c, const struct sc_flow *f, char *err, size_t errlen)
{
	char flows[PATH_MAX];
	int fd;

	if (c->dir[0])
		return 0;
	if (f->run_as[0] && strcmp(f->run_as, "root")) {
		struct passwd *pw = getpwnam(f->run_as);

		if (!pw) {
			tu_errf(err, errlen, "flow %s: run_as: no user '%s' on this machine", f->name, f->run_as);
			return -1;
		}
		c->user.uid = pw->pw_uid;
		c->user.gid = pw->pw_gid;
		snprintf(c->user.name, sizeof(c->user.name), "%s", pw->pw_name);
		c->has_user = true;
	}
	if (f->scale_program && scale_libs_find(c) < 0) {
		tu_errf(err, errlen, "flow %s: scale_program = yes needs %s", f->name,
			!c->faketime_lib[0] ? "libfaketime (install it: scripts/deps.sh apps; or set "
			"IDLEGATE_LIBFAKETIME)" : "libidlegate-scale.so next to idlegate (or IDLEGATE_SCALE_LIB)");
		return -1;
	}
	snprintf(flows, sizeof(flows), "%s/flows", r->o->workdir);
	if ((mkdir(flows, 0711) < 0 && errno != EEXIST) ||
	    (size_t)snprintf(c->dir, sizeof(c->dir), "%s/%s", flows, f->name) >= sizeof(c->dir) ||
	    mkdir(c->dir, 0700) < 0)
		goto fail;
	if (!c->has_user)
		return 0;
	fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fchown(fd, c->user.uid, c->user.gid) < 0) {
		close(fd);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	tu_errf(err, errlen, "flow %s: %s: %s", f->name, c->dir[0] ? c->dir : flows, strerror(errno));
	c->dir[0] = '\0';
	return -1;
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

int cmd_start(struct run *r, struct cmdflow *c, bool server, char *err, size_t errlen)
{
	const struct sc_flow *f = &r->sc->flows[c->flow];
	struct lane *l = &r->lane[r->lane_of[c->flow]];
	char store[CMD_ENV_N][CMD_ENV_LEN];
	char **env;
	char *argv[] = { "sh", "-c", (char *)(server ? f->server_command : f->command), NULL };
	struct spawn_opts so = { .own_pidns = true };
	pid_t pid;

	if (cmd_dir_make(r, c, f, err, errlen) < 0) {
		if (server)
			c->srv_failed = true;
		return -1;
	}
	env = cmd_env(r, l, c, f, store);
	if (!env)
		return -1;
	so.envp = env;
	so.user = c->has_user ? &c->user : NULL;
	/* root opens the output files, in root's directory; stdout and
	 * stderr go to one file, in the order written (expect_output) */
	snprintf(c->out, sizeof(c->out), "%s/%s.out", r->o->workdir, f->name);
	snprintf(c->srv_out, sizeof(c->srv_out), "%s/%s.server.log", r->o->workdir, f->name);
	so.netns_pid = topo_ns_pid(l->topo, server ? topo_nodes(l->topo) - 1 : 0);
	so.stdout_path = server ? c->srv_out : c->out;
	so.stderr_path = so.stdout_path;
	pid = spawn(argv, &so);
	free(env);
	if (pid < 0) {
		tu_errf(err, errlen, "flow %s: starting its %s: %s", f->name,
			server ? "server_command" : "command", strerror(errno));
		if (server)
			c->srv_failed = true;
		return -1;
	}
	if (server) {
		c->server = pid;
		if (f->port) {
			uint64_t deadline = mtime_ms() + READY_MS;
			int st = -1;

			/* a server that exits is reaped here, once: its status
			 * is the reason, and waiting on would only take 10 s */
			while (!port_listening(so.netns_pid, f->port)) {
				char tail[200];

				if ((st = reap_timeout(pid, 20)) >= 0 || mtime_ms() >= deadline || sig_pending(r)) {
					file_tail(c->srv_out, tail, sizeof(tail));
					c->srv_failed = true;
					if (st >= 0) {
						c->srv_done = true;
						c->srv_status = st;
						tu_errf(err, errlen, "flow %s: server_command exited with status %d "
							"before it listened on port %u%s%s", f->name, st, f->port,
							tail[0] ? ": " : "", tail);
					} else {
						tu_errf(err, errlen, "flow %s: server_command is not listening on port %u%s%s",
							f->name, f->port, tail[0] ? ": " : "", tail);
					}
					return -1;
				}
			}
		} else {
			/* no port to wait for: a server that fails at once is
			 * still caught before the command starts */
			int st = reap_timeout(pid, 200);

			if (st >= 0) {
				char tail[200];

				c->srv_done = true;
				c->srv_status = st;
				c->srv_failed = true;
				file_tail(c->srv_out, tail, sizeof(tail));
				tu_errf(err, errlen, "flow %s: server_command exited with status %d before the "
					"command started%s%s", f->name, st, tail[0] ? ": " : "", tail);
				return -1;
			}
		}
	} else {
		c->client = pid;
		c->start = mtime_ms();
	}
	return 0;
}
