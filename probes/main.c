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
	"  -l, --listen ADDR:PORT    address to listen on (default :5201, all addresses;\n"
	"                            IPv6 as [::1]:5201; port 0 picks a free port)\n"
	"  -r, --results FILE        JSON lines here (default: standard output)\n"
	"      --ready-file PATH     write the bound ADDR:PORT here once listening\n"
	"      --hello-timeout DUR   drop connections that send no valid first line (10s)\n"
	"      --keep DUR            keep ended flows answerable to queries (10m)\n"
	"      --max-flows N         refuse new flows beyond N running ones (10000)\n"
	"      --exit-after N        exit after N flows ended (default: run until signalled)\n"
	"  -v, --verbose             more logging;  -q, --quiet  less\n"
	"  -h, --help                this text\n"
	"\n"
	"SIGINT/SIGTERM stop it; flows still running are written as \"interrupted\".\n";

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

static int parse_duration_opt(const char *cmd, const char *opt, const char *v, uint64_t *ms)
{
	if (duration_parse(v, ms) < 0)
		return usage_error(cmd, "%s: '%s' is not a duration", opt, v);
	return 0;
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
	return 0;
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct server_config cfg;
	const char *listen_s = ":5201", *results = NULL;
	FILE *rf = stdout;
	int c, rc;

	probe_server_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "l:r:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_s = optarg;
			break;
		case 'r':
			results = optarg;
			break;
		case 'R':
			cfg.ready_file = optarg;
			break;
		case 'H':
			if (parse_duration_opt("server", "--hello-timeout", optarg, &cfg.hello_timeout_ms))
				return EXIT_USAGE;
			break;
		case 'K':
			if (parse_duration_opt("server", "--keep", optarg, &cfg.keep_ms))
				return EXIT_USAGE;
			break;
		case 'M':
			if (parse_count_opt("server", "--max-flows", optarg, &cfg.max_flows))
				return EXIT_USAGE;
			break;
		case 'X':
			if (parse_count_opt("server", "--exit-after", optarg, &cfg.exit_after))
				return EXIT_USAGE;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			verbose = 0;
			break;
		case 'h':
			fputs(server_help, stdout);
			return EXIT_MET;
		default:
			return usage_error("server", "unknown option");
		}
	}
	if (optind != argc)
		return usage_error("server", "unexpected argument '%s'", argv[optind]);
	log_init("idlegate-probe", verbose);
	if (probe_proto_addr_parse(listen_s, &cfg.listen, &cfg.listen_len) < 0)
		return usage_error("server", "--listen: '%s' should be ADDR:PORT, [ADDR6]:PORT or :PORT",
				   listen_s);
	if (results && strcmp(results, "-")) {
		rf = fopen(results, "a");
		if (!rf) {
			log_warn("%s", results);
			return EXIT_ENV;
		}
	}
	cfg.results = rf;
	rc = probe_server_run(&cfg);
	if (rc < 0)
		log_warn("server on %s", listen_s);
	if (rf != stdout)
		fclose(rf);
	return rc < 0 ? EXIT_ENV : EXIT_MET;
}

static int add_plan(struct probe_plan **plans, size_t *n, const struct probe_plan *p)
{
	struct probe_plan *v = realloc(*plans, (*n + 1) * sizeof(**plans));

	if (!v)
		return -1;
	v[*n] = *p;
	*plans = v;
	(*n)++;
	return 0;
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
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct client_config cfg = { 0 };
	struct probe_plan *plans = NULL, p;
	struct probe_flow_result *results = NULL;
	size_t n = 0;
	const char *json = NULL;
	bool table = true, interrupted = false;
	char err[256];
	int c, rc = EXIT_USAGE;
	FILE *jf = NULL, *tf = stdout;

	while ((c = getopt_long(argc, argv, "s:f:F:j:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (cfg.nserver == 2) {
				usage_error("client", "--server: at most two (one per family)");
				goto out;
			}
			if (probe_proto_addr_parse(optarg, &cfg.server[cfg.nserver],
					     &cfg.server_len[cfg.nserver]) < 0 || optarg[0] == ':') {
				usage_error("client", "--server: '%s' should be ADDR:PORT or [ADDR6]:PORT",
					    optarg);
				goto out;
			}
			cfg.nserver++;
			break;
		case 'f':
			if (probe_plan_parse(optarg, &p, err, sizeof(err)) < 0) {
				usage_error("client", "--flow %s: %s", optarg, err);
				goto out;
			}
			if (add_plan(&plans, &n, &p) < 0) {
				rc = EXIT_ENV;
				goto out;
			}
			break;
		case 'F': {
			FILE *f = strcmp(optarg, "-") ? fopen(optarg, "r") : stdin;
			struct probe_plan *fp;
			size_t fn;

			if (!f) {
				usage_error("client", "--flows-file %s: %s", optarg, strerror(errno));
				goto out;
			}
			if (probe_plan_parse_stream(f, &fp, &fn, err, sizeof(err)) < 0) {
				usage_error("client", "%s: %s", optarg, err);
				if (f != stdin)
					fclose(f);
				goto out;
			}
			if (f != stdin)
				fclose(f);
			for (size_t i = 0; i < fn; i++) {
				if (add_plan(&plans, &n, &fp[i]) < 0) {
					free(fp);
					rc = EXIT_ENV;
					goto out;
				}
			}
			free(fp);
			break;
		}
		case 'j':
			json = optarg;
			break;
		case 'T':
			table = false;
			break;
		case 'N':
			cfg.no_query = true;
			break;
		case 'Q':
			if (parse_duration_opt("client", "--query-timeout", optarg, &cfg.query_timeout_ms))
				goto out;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			verbose = 0;
			break;
		case 'h':
			fputs(client_help, stdout);
			rc = EXIT_MET;
			goto out;
		default:
			usage_error("client", "unknown option");
			goto out;
		}
	}
	log_init("idlegate-probe", verbose);
	if (optind != argc) {
		usage_error("client", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!cfg.nserver) {
		usage_error("client", "--server is required");
		goto out;
	}
	if (!n) {
		usage_error("client", "no flows: give --flow or --flows-file");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!plans[i].name[0])
			snprintf(plans[i].name, sizeof(plans[i].name), "flow%zu", i + 1);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(plans[i].name, plans[j].name)) {
				usage_error("client", "flow name '%s' given twice", plans[i].name);
				goto out;
			}
		}
	}
	if (json) {
		if (!strcmp(json, "-")) {
			jf = stdout;
			tf = stderr;
		} else if (!(jf = fopen(json, "w"))) {
			log_warn("%s", json);
			rc = EXIT_ENV;
			goto out;
		}
	}
	results = calloc(n, sizeof(*results));
	if (!results) {
		rc = EXIT_ENV;
		goto out;
	}
	if (probe_client_run(&cfg, plans, n, results, &interrupted) < 0) {
		log_warn("client");
		rc = EXIT_ENV;
		goto out;
	}
	rc = EXIT_MET;
	for (size_t i = 0; i < n; i++) {
		char line[8192];

		if (!results[i].met)
			rc = EXIT_UNMET;
		if (jf) {
			if (probe_result_flow_json(&results[i], line, sizeof(line)) < 0)
				log_warnx("flow %s: result too long for a JSON line", results[i].plan.name);
			else
				fputs(line, jf);
		}
	}
	if (jf)
		fflush(jf);
	if (table)
		probe_result_table(tf, results, n);
	if (interrupted)
		rc = EXIT_UNMET;
out:
	if (results)
		for (size_t i = 0; i < n; i++)
			probe_result_clear(&results[i]);
	free(results);
	free(plans);
	if (jf && jf != stdout && fclose(jf) != 0) {
		log_warn("%s", json);
		rc = EXIT_ENV;
	}
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

int main(int argc, char **argv)
{
	int i = 1;

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
