// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * idlegate-probe: the command line around the probe client and server.
 * Subcommands by table, getopt_long, --help on each. Exit codes: 0 every
 * flow ended as expected, 1 some did not, 2 usage error, 3 environment error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/log.h"
#include "probes/client.h"
#include "probes/plan.h"
#include "probes/proto.h"
#include "probes/result.h"
#include "probes/server.h"

#define EXIT_MET 0
#define EXIT_UNMET 1
#define EXIT_USAGE 2
#define EXIT_ENV 3

static int verbose = 1;

static const char server_help[] =
	"usage: idlegate-probe server [OPTIONS]\n"
	"\n"
	"Serve probe flows (TCP and UDP on the same address and port) and write the\n"
	"server's side of each flow as a JSON line when it ends.\n"
	"\n"
	"  -l, --listen ADDR:PORT    address to listen on (default :7201, all addresses;\n"
	"                            IPv6 as [::1]:7201; port 0 picks a free port)\n"
	"  -r, --results FILE        JSON lines here (default: standard output)\n"
	"      --ready-file PATH     write the bound ADDR:PORT here once listening\n"
	"      --hello-timeout DUR   drop connections that send no valid first line (10s)\n"
	"      --keep DUR            keep ended flows answerable to queries (10m)\n"
	"      --max-flows N         refuse new flows beyond N running ones (10000)\n"
	"      --exit-after N        exit after N flows ended (default: run until signalled)\n"
	"  -v, --verbose             more logging;  -q, --quiet  less\n"
	"  -h, --help                this text\n"
	"\n"
	"SIGINT/SIGTERM/SIGUSR1 stop it; flows still running are written as \"interrupted\".\n";

static const char client_help[] =
	"usage: idlegate-probe client --server ADDR:PORT (--flow SPEC | --flows-file FILE)... [OPTIONS]\n"
	"\n"
	"Run flows against an idlegate-probe server, all at once, and report how each\n"
	"ended, combined with the server's side.\n"
	"\n"
	"  -s, --server ADDR:PORT    the server (may be given twice: one IPv4, one IPv6)\n"
	"  -f, --flow SPEC           a flow, as KEY=VALUE,... (repeatable)\n"
	"  -F, --flows-file FILE     flows, one SPEC per line, # comments ('-': stdin)\n"
	"  -j, --json FILE           JSON lines, one per flow ('-': standard output, the\n"
	"                            table then goes to standard error)\n"
	"      --no-table            no table\n"
	"      --no-query            do not ask the server for its side\n"
	"      --query-timeout DUR   wait this long for the server's side (longest deadline + 3s)\n"
	"      --ended-file FILE     a line NAME OUTCOME here as each flow ends (for progress)\n"
	"      --addrs FILE          a JSON line per flow with its local address:port as soon as\n"
	"                            it has one ({\"flow\",\"proto\",\"local\"})\n"
	"  -v, --verbose             more logging;  -q, --quiet  less\n"
	"  -h, --help                this text\n"
	"\n"
	"SPEC keys (all optional):\n"
	"  name=NAME                 flow name (default flowN)\n"
	"  proto=tcp|udp             (tcp)\n"
	"  family=4|6                pick the server address of that family\n"
	"  keepalive=off|kernel-default|IDLE/INTVL/COUNT   e.g. 300s/30s/3 (off)\n"
	"  server_keepalive=...      the same, on the server's socket (off)\n"
	"  user_timeout=DUR          TCP_USER_TIMEOUT, whole seconds (off)\n"
	"  heartbeat=DUR             client sends a small message this often while idle\n"
	"  server_heartbeat=DUR      the server sends one this often while idle; the\n"
	"                            client counts them (server_heartbeats)\n"
	"  idle=DUR                  idle period (0)\n"
	"  speaker=client|server     who sends first after the idle period (client)\n"
	"  cycles=N                  idle periods and exchanges (1)\n"
	"  deadline=DUR              wait this long for the answer after the idle (5s)\n"
	"  expect=OUTCOME            alive reset closed timeout keepalive-timeout rebound\n"
	"                            unreachable\n"
	"  server_end=close|reset    test knob: the server ends the connection mid-idle\n"
	"  rebind=yes                test knob (udp): send from a new port after the idle\n"
	"Example: --flow name=ka,keepalive=1s/1s/3,idle=10s,speaker=server,expect=alive\n"
	"\n"
	"SIGINT/SIGTERM stop it: flows still running are written as \"interrupted\",\n"
	"the server is not asked. SIGUSR1 (a caller that has its answer): flows still\n"
	"running are written as \"interrupted\", the server is asked about the others.\n"
	"\n"
	"Exit status: 0 every flow ended as expected (or ran, without expect=),\n"
	"1 otherwise, 2 usage error, 3 environment error.\n";

static const char main_help[] =
	"usage: idlegate-probe [-v|-q] COMMAND [OPTIONS]\n"
	"\n"
	"Probe whether connections survive idle periods through NATs and firewalls.\n"
	"\n"
	"Commands:\n";

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *cmd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s (see idlegate-probe %s --help)", cmd, buf, cmd);
	return EXIT_USAGE;
}

/*
 * Option parsing shared by the subcommands. A step returns OPT_NEXT to go
 * on, or the exit status the command ends with now (exit statuses are >= 0).
 */
#define OPT_NEXT (-1)

/* The long options every subcommand has; parse_opts handles them. */
#define SHARED_LONG_OPTS                                  \
	{ "verbose", no_argument, NULL, 'v' },            \
	{ "quiet", no_argument, NULL, 'q' },              \
	{ "help", no_argument, NULL, 'h' }

/* A subcommand's own options: c as getopt_long returned it, arg its argument. */
typedef int opt_handler(void *ctx, int c, const char *arg);

/*
 * Read a subcommand's options: -v, -q, -h (prints help, ends with 0) and
 * unknown ones here, the rest through handler(ctx, ...); then set the
 * verbosity. The command takes no arguments besides options.
 */
static int parse_opts(const char *cmd, int argc, char **argv, const char *shortopts,
		      const struct option *longopts, const char *help, opt_handler *handler,
		      void *ctx)
{
	int c, rc;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose++;
			continue;
		case 'q':
			verbose = 0;
			continue;
		case 'h':
			fputs(help, stdout);
			return EXIT_MET;
		case '?':
			return usage_error(cmd, "unknown option");
		}
		rc = handler(ctx, c, optarg);
		if (rc != OPT_NEXT)
			return rc;
	}
	log_init("idlegate-probe", verbose);
	if (optind != argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return OPT_NEXT;
}

static int parse_duration_opt(const char *cmd, const char *opt, const char *v, uint64_t *ms)
{
	if (duration_parse(v, ms) < 0)
		return usage_error(cmd, "%s: '%s' is not a duration", opt, v);
	return OPT_NEXT;
}

static int parse_count_opt(const char *cmd, const char *opt, const char *v, uint32_t *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno || *end || !*v || x > 100000000ul || v[0] == '-')
		return usage_error(cmd, "%s: '%s' is not a count", opt, v);
	*out = (uint32_t)x;
	return OPT_NEXT;
}

/* ---- server ---- */

struct server_args {
	struct server_config cfg;
	const char *listen, *results;
};

static int server_opt(void *ctx, int c, const char *arg)
{
	struct server_args *a = ctx;

	switch (c) {
	case 'l':
		a->listen = arg;
		return OPT_NEXT;
	case 'r':
		a->results = arg;
		return OPT_NEXT;
	case 'R':
		a->cfg.ready_file = arg;
		return OPT_NEXT;
	case 'H':
		return parse_duration_opt("server", "--hello-timeout", arg, &a->cfg.hello_timeout_ms);
	case 'K':
		return parse_duration_opt("server", "--keep", arg, &a->cfg.keep_ms);
	case 'M':
		return parse_count_opt("server", "--max-flows", arg, &a->cfg.max_flows);
	case 'X':
		return parse_count_opt("server", "--exit-after", arg, &a->cfg.exit_after);
	}
	return usage_error("server", "unknown option");
}

static int cmd_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "results", required_argument, NULL, 'r' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "hello-timeout", required_argument, NULL, 'H' },
		{ "keep", required_argument, NULL, 'K' },
		{ "max-flows", required_argument, NULL, 'M' },
		{ "exit-after", required_argument, NULL, 'X' },
		SHARED_LONG_OPTS,
		{ 0 },
	};
	struct server_args a = { .listen = ":7201" };
	FILE *rf = stdout;
	int rc;

	probe_server_config_init(&a.cfg);
	rc = parse_opts("server", argc, argv, "l:r:vqh", opts, server_help, server_opt, &a);
	if (rc != OPT_NEXT)
		return rc;
	if (probe_proto_addr_parse(a.listen, &a.cfg.listen, &a.cfg.listen_len) < 0)
		return usage_error("server", "--listen: '%s' should be ADDR:PORT, [ADDR6]:PORT or :PORT",
				   a.listen);
	if (a.results && strcmp(a.results, "-")) {
		rf = fopen(a.results, "a");
		if (!rf) {
			log_warn("%s", a.results);
			return EXIT_ENV;
		}
	}
	a.cfg.results = rf;
	rc = probe_server_run(&a.cfg);
	if (rc < 0)
		log_warn("server on %s", a.listen);
	if (rf != stdout)
		fclose(rf);
	return rc < 0 ? EXIT_ENV : EXIT_MET;
}

/* ---- client ---- */

struct client_args {
	struct client_config cfg;
	struct probe_plan *plans; /* caller frees */
	size_t n;
	const char *json;
	bool table;
};

static int add_plan(struct client_args *a, const struct probe_plan *p)
{
	struct probe_plan *v = realloc(a->plans, (a->n + 1) * sizeof(*a->plans));

	if (!v)
		return EXIT_ENV;
	v[a->n] = *p;
	a->plans = v;
	a->n++;
	return OPT_NEXT;
}

static int client_add_server(struct client_args *a, const char *arg)
{
	struct client_config *cfg = &a->cfg;

	if (cfg->nserver == 2)
		return usage_error("client", "--server: at most two (one per family)");
	if (probe_proto_addr_parse(arg, &cfg->server[cfg->nserver], &cfg->server_len[cfg->nserver]) < 0 ||
	    arg[0] == ':')
		return usage_error("client", "--server: '%s' should be ADDR:PORT or [ADDR6]:PORT", arg);
	cfg->nserver++;
	return OPT_NEXT;
}

static int client_add_flow(struct client_args *a, const char *arg)
{
	struct probe_plan p;
	char err[256];

	if (probe_plan_parse(arg, &p, err, sizeof(err)) < 0)
		return usage_error("client", "--flow %s: %s", arg, err);
	return add_plan(a, &p);
}

static int client_add_flows_file(struct client_args *a, const char *arg)
{
	FILE *f = strcmp(arg, "-") ? fopen(arg, "r") : stdin;
	struct probe_plan *fp;
	size_t fn;
	char err[256];
	int rc, parsed;

	if (!f)
		return usage_error("client", "--flows-file %s: %s", arg, strerror(errno));
	parsed = probe_plan_parse_stream(f, &fp, &fn, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (parsed < 0)
		return usage_error("client", "%s: %s", arg, err);
	rc = OPT_NEXT;
	for (size_t i = 0; i < fn && rc == OPT_NEXT; i++)
		rc = add_plan(a, &fp[i]);
	free(fp);
	return rc;
}

static int client_opt(void *ctx, int c, const char *arg)
{
	struct client_args *a = ctx;

	switch (c) {
	case 's':
		return client_add_server(a, arg);
	case 'f':
		return client_add_flow(a, arg);
	case 'F':
		return client_add_flows_file(a, arg);
	case 'j':
		a->json = arg;
		return OPT_NEXT;
	case 'T':
		a->table = false;
		return OPT_NEXT;
	case 'N':
		a->cfg.no_query = true;
		return OPT_NEXT;
	case 'Q':
		return parse_duration_opt("client", "--query-timeout", arg, &a->cfg.query_timeout_ms);
	case 'E':
		if (a->cfg.ended_fd > 0)
			close(a->cfg.ended_fd);
		a->cfg.ended_fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (a->cfg.ended_fd < 0) {
			log_warn("client: --ended-file %s", arg);
			return EXIT_ENV;
		}
		return OPT_NEXT;
	case 'A':
		if (a->cfg.addrs)
			return usage_error("client", "--addrs given twice");
		a->cfg.addrs = fopen(arg, "w");
		if (!a->cfg.addrs) {
			log_warn("%s", arg);
			return EXIT_ENV;
		}
		return OPT_NEXT;
	}
	return usage_error("client", "unknown option");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A server and flows given; unnamed flows named flowN, no name twice
 * (sorted, not compared pairwise: a client may run 100,000 flows). */
static int client_check_args(struct client_args *a)
{
	const char **names;
	int rc = OPT_NEXT;

	if (!a->cfg.nserver)
		return usage_error("client", "--server is required");
	if (!a->n)
		return usage_error("client", "no flows: give --flow or --flows-file");
	names = calloc(a->n, sizeof(*names));
	if (!names) {
		log_warn("client");
		return EXIT_ENV;
	}
	for (size_t i = 0; i < a->n; i++) {
		struct probe_plan *p = &a->plans[i];

		if (!p->name[0])
			snprintf(p->name, sizeof(p->name), "flow%zu", i + 1);
		names[i] = p->name;
	}
	qsort(names, a->n, sizeof(*names), name_cmp);
	for (size_t i = 1; i < a->n && rc == OPT_NEXT; i++)
		if (!strcmp(names[i], names[i - 1]))
			rc = usage_error("client", "flow name '%s' given twice", names[i]);
	free(names);
	return rc;
}

/* --json FILE opened in *jf; with '-' the JSON takes standard output and the
 * table (*tf) moves to standard error. */
static int client_open_json(const char *json, FILE **jf, FILE **tf)
{
	if (!json)
		return OPT_NEXT;
	if (!strcmp(json, "-")) {
		*jf = stdout;
		*tf = stderr;
		return OPT_NEXT;
	}
	*jf = fopen(json, "w");
	if (!*jf) {
		log_warn("%s", json);
		return EXIT_ENV;
	}
	return OPT_NEXT;
}

/* JSON lines and the table; returns the exit status the results call for. */
static int client_report(const struct probe_flow_result *results, size_t n, FILE *jf, FILE *tf,
			 bool table, bool interrupted)
{
	int rc = interrupted ? EXIT_UNMET : EXIT_MET;

	for (size_t i = 0; i < n; i++) {
		json_t *o;

		if (!results[i].met)
			rc = EXIT_UNMET;
		if (!jf)
			continue;
		o = probe_result_flow_json(&results[i]);
		if (!o || json_dumpf(o, jf, JSON_COMPACT) < 0)
			log_warnx("flow %s: could not write its JSON line", results[i].plan.name);
		else
			fputc('\n', jf);
		json_decref(o);
	}
	if (jf)
		fflush(jf);
	if (table)
		probe_result_table(tf, results, n);
	return rc;
}

static int cmd_client(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "flow", required_argument, NULL, 'f' },
		{ "flows-file", required_argument, NULL, 'F' },
		{ "json", required_argument, NULL, 'j' },
		{ "no-table", no_argument, NULL, 'T' },
		{ "no-query", no_argument, NULL, 'N' },
		{ "query-timeout", required_argument, NULL, 'Q' },
		{ "ended-file", required_argument, NULL, 'E' },
		{ "addrs", required_argument, NULL, 'A' },
		SHARED_LONG_OPTS,
		{ 0 },
	};
	struct client_args a = { .table = true };
	struct probe_flow_result *results = NULL;
	FILE *jf = NULL, *tf = stdout;
	bool interrupted = false;
	int rc;

	rc = parse_opts("client", argc, argv, "s:f:F:j:vqh", opts, client_help, client_opt, &a);
	if (rc == OPT_NEXT)
		rc = client_check_args(&a);
	if (rc == OPT_NEXT)
		rc = client_open_json(a.json, &jf, &tf);
	if (rc != OPT_NEXT)
		goto out;
	rc = EXIT_ENV;
	results = calloc(a.n, sizeof(*results));
	if (!results)
		goto out;
	if (probe_client_run(&a.cfg, a.plans, a.n, results, &interrupted) < 0) {
		log_warn("client");
		goto out;
	}
	rc = client_report(results, a.n, jf, tf, a.table, interrupted);
out:
	if (results)
		for (size_t i = 0; i < a.n; i++)
			probe_result_clear(&results[i]);
	free(results);
	free(a.plans);
	if (jf && jf != stdout && fclose(jf) != 0) {
		log_warn("%s", a.json);
		rc = EXIT_ENV;
	}
	if (a.cfg.addrs)
		fclose(a.cfg.addrs);
	return rc;
}

static int cmd_help(int argc, char **argv);
#ifndef IDLEGATE_COMMIT
#define IDLEGATE_COMMIT "unknown"
#endif
static int cmd_version(int argc, char **argv)
{
	printf("idlegate-probe %s (commit %s, protocol %s)\n", IDLEGATE_VERSION, IDLEGATE_COMMIT,
	       PROTO_MAGIC);
	return EXIT_MET;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "server", cmd_server, "serve probe flows and report the server's side" },
	{ "client", cmd_client, "run flows against a server and report how they ended" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "this text" },
};

static int cmd_help(int argc, char **argv)
{
	fputs(main_help, stdout);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	printf("\nidlegate-probe COMMAND --help shows each command's options.\n"
	       "Exit status: 0 ok, 1 an expectation failed, 2 usage error, 3 environment error.\n");
	return EXIT_MET;
}

/* Tens of thousands of connections are one descriptor each: take every
 * descriptor the hard limit allows (the runner raises the hard limit for us
 * before it drops our privileges). */
static void nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("raising the open-file limit to %llu", (unsigned long long)rl.rlim_max);
	}
}

int main(int argc, char **argv)
{
	int i = 1;

	nofile_raise();

	log_init("idlegate-probe", verbose);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose++;
		else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			verbose = 0;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return cmd_help(0, NULL);
		else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version"))
			return cmd_version(0, NULL);
		else {
			log_warnx("unknown option '%s' (see idlegate-probe --help)", argv[i]);
			return EXIT_USAGE;
		}
	}
	log_init("idlegate-probe", verbose);
	if (i == argc) {
		cmd_help(0, NULL);
		return EXIT_USAGE;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (!strcmp(argv[i], commands[k].name)) {
			/* getopt_long sees the subcommand as argv[0] */
			optind = 1;
			return commands[k].fn(argc - i, argv + i);
		}
	}
	log_warnx("unknown command '%s' (see idlegate-probe --help)", argv[i]);
	return EXIT_USAGE;
}
