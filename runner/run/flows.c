// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Starting a run's flows: one probe server per server port and path, one
 * probe client per group, and the flows' own commands with their
 * environment (see internal.h).
 */
#include "runner/run/internal.h"


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

			file_tail(g->srv_err, tail, sizeof(tail));
			tu_errf(err, errlen, "the probe server on port %u %s: %s", g->port,
				timeout ? "was not ready within 10 s" : "exited", tail);
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
			uint64_t start = sf->start.scaled_ms;

			if (sf->count > 1)
				start += sf->ramp.scaled_ms * k / (sf->count - 1);
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

int cmd_start(struct run *r, struct cmdflow *c, bool server, char *err, size_t errlen)
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
		tu_errf(err, errlen, "flow %s: starting its %s: %s", f->name,
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
					file_tail(c->srv_out, tail, sizeof(tail));
					tu_errf(err, errlen, "flow %s: server_command is not listening on port %u%s%s",
						f->name, f->port, tail[0] ? ": " : "", tail);
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
