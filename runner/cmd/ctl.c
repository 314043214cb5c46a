// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * idlegate ctl: a command line for a running idlegate-sim's control socket
 * (line-delimited JSON, see simulator/ctl_proto.h). One request line, one
 * reply line; `events` subscribes and prints event lines until the
 * simulator goes away. Used by hand, and in the Docker lab
 * (`docker compose exec nat idlegate ctl flows`), where the simulator's
 * socket is at the default path below.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "common/utf8.h"
#include "runner/cmd/cli.h"
#include "runner/cmd/commands.h"
#include "runner/util/ctlclient.h"
#include "runner/util/textutil.h"

#define CTL_DEFAULT_SOCKET "/run/idlegate/ctl.sock"
#define REPLY_TIMEOUT_MS 5000

static void usage(FILE *f)
{
	fprintf(f, "usage: idlegate ctl [--socket PATH] [--json] REQUEST\n\n"
		"Send one request to a running idlegate-sim's control socket and print\n"
		"the reply.\n\n"
		"Requests:\n"
		"  stats               counters of the engine and the queue (JSON)\n"
		"  flows               the flow table (a table; JSON with --json)\n"
		"  get KEY             a knob's current value\n"
		"  set KEY VALUE       change a knob while running (e.g. set tcp.established 30s)\n"
		"  flush               forget every flow now (a reboot)\n"
		"  expire ID           expire one flow now, with its on_expire action\n"
		"  blackhole DURATION  drop everything for a while (an outage)\n"
		"  events              print events as they happen, until interrupted\n\n"
		"Options:\n"
		"  -s, --socket PATH   control socket (default $IDLEGATE_CTL, else\n"
		"                      " CTL_DEFAULT_SOCKET ")\n"
		"  -j, --json          print replies as the simulator's JSON\n"
		"  -h, --help          this help\n\n"
		"Exit status: 0 ok, 1 the simulator refused the request, 2 usage error,\n"
		"3 no simulator at the socket (or it went away).\n");
}

/* ---- the request ---- */

/* Set a string member from the command line; its text must be UTF-8. */
static int put_member(json_t *o, const char *key, const char *val)
{
	if (!utf8_valid(val, strlen(val))) {
		log_warnx("ctl: %s: the text is not valid UTF-8", key);
		return -1;
	}
	if (json_object_set_new(o, key, json_string(val)) < 0)
		fatalx("ctl: out of memory");
	return 0;
}

/*
 * Build the request line for argv (after the options) into *req (malloc'd,
 * newline-terminated). Returns 0, or -1 after printing a usage message.
 */
static int build_request(int argc, char **argv, char **req, bool *events)
{
	static const struct {
		const char *name, *cmd;
		int nargs;
	} reqs[] = {
		{ "stats", "stats", 0 }, { "flows", "flows", 0 }, { "get", "get", 1 },
		{ "set", "set", 2 }, { "flush", "flush", 0 }, { "expire", "expire", 1 },
		{ "blackhole", "blackhole", 1 }, { "events", "subscribe", 0 },
	};
	size_t i;
	json_t *o;
	int rc = 0;

	if (argc < 1) {
		log_warnx("ctl: a request is needed (see idlegate ctl --help)");
		return -1;
	}
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		if (!strcmp(argv[0], reqs[i].name))
			break;
	if (i == sizeof(reqs) / sizeof(reqs[0])) {
		log_warnx("ctl: unknown request '%s' (see idlegate ctl --help)", argv[0]);
		return -1;
	}
	if (argc - 1 != reqs[i].nargs) {
		log_warnx("ctl: %s takes %d argument%s", reqs[i].name, reqs[i].nargs,
			  reqs[i].nargs == 1 ? "" : "s");
		return -1;
	}
	*events = !strcmp(argv[0], "events");
	o = json_pack("{s:s}", "cmd", reqs[i].cmd);
	if (!o)
		fatalx("ctl: out of memory");
	if (!strcmp(argv[0], "get")) {
		rc = put_member(o, "key", argv[1]);
	} else if (!strcmp(argv[0], "set")) {
		rc = put_member(o, "key", argv[1]) < 0 || put_member(o, "value", argv[2]) < 0 ? -1 : 0;
	} else if (!strcmp(argv[0], "blackhole")) {
		rc = put_member(o, "value", argv[1]);
	} else if (!strcmp(argv[0], "expire")) {
		char *end;
		unsigned long id;

		errno = 0;
		id = strtoul(argv[1], &end, 10);
		if (!*argv[1] || *end || argv[1][0] == '-' || errno || id > UINT32_MAX) {
			log_warnx("ctl: expire: '%s' is not a flow id (see idlegate ctl flows)", argv[1]);
			rc = -1;
		} else if (json_object_set_new(o, "id", json_integer((json_int_t)id)) < 0) {
			fatalx("ctl: out of memory");
		}
	}
	if (rc == 0) {
		char *text = json_dumps(o, JSON_COMPACT);

		if (!text || asprintf(req, "%s\n", text) < 0)
			fatalx("ctl: out of memory");
		free(text);
	}
	json_decref(o);
	return rc;
}


/* ---- printing replies ---- */

static void endpoint(const json_t *o, const char *addr, const char *port, char *buf, size_t cap)
{
	char a[64];
	int64_t pt = 0;

	if (jsonio_get_str(o, addr, a, sizeof(a)) < 0) {
		snprintf(buf, cap, "-");
		return;
	}
	jsonio_get_int(o, port, &pt);
	if (strchr(a, ':'))
		snprintf(buf, cap, "[%s]:%" PRId64, a, pt);
	else
		snprintf(buf, cap, "%s:%" PRId64, a, pt);
}

/* The flows reply as a table for people. Returns 0, or -1 if malformed. */
static int print_flows(const json_t *js)
{
	json_t *arr = jsonio_get(js, "flows"), *obj;
	int64_t count = 0;
	size_t i;

	if (!json_is_array(arr))
		return -1;
	jsonio_get_int(js, "count", &count);
	printf("%-6s %-5s %-24s %-24s %-24s %-12s %9s %11s %8s %5s\n", "ID", "PROTO", "INSIDE",
	       "OUTSIDE", "NAT", "STATE", "IDLE", "EXPIRES IN", "PKTS", "KA");
	json_array_foreach(arr, i, obj) {
		char src[80], dst[80], nat[80], state[32], idle[32], exp[32], ka[24], pk[24];
		int64_t id = 0, idle_ms = 0, exp_ms = 0, po = 0, pi = 0, ko = 0, ki = 0;
		char proto[8] = "?", init[16] = "inside";

		if (!json_is_object(obj))
			return -1;
		jsonio_get_int(obj, "id", &id);
		if (jsonio_get_str(obj, "proto", proto, sizeof(proto)) < 0)
			snprintf(proto, sizeof(proto), "?");
		if (jsonio_get_str(obj, "initiator", init, sizeof(init)) < 0)
			snprintf(init, sizeof(init), "inside");
		endpoint(obj, "src", "sport", src, sizeof(src));
		endpoint(obj, "dst", "dport", dst, sizeof(dst));
		endpoint(obj, "nat_addr", "nat_port", nat, sizeof(nat));
		if (jsonio_get_str(obj, "state", state, sizeof(state)) < 0)
			snprintf(state, sizeof(state), "?");
		jsonio_get_int(obj, "idle_ms", &idle_ms);
		jsonio_get_int(obj, "expires_in_ms", &exp_ms);
		jsonio_get_int(obj, "pkts_out", &po);
		jsonio_get_int(obj, "pkts_in", &pi);
		jsonio_get_int(obj, "keepalives_out", &ko);
		jsonio_get_int(obj, "keepalives_in", &ki);
		duration_format(duration_round(idle_ms > 0 ? (uint64_t)idle_ms : 0), idle, sizeof(idle));
		if (exp_ms <= 0)
			snprintf(exp, sizeof(exp), "due");
		else
			duration_format(duration_round((uint64_t)exp_ms), exp, sizeof(exp));
		snprintf(pk, sizeof(pk), "%" PRId64 "/%" PRId64, po, pi);
		snprintf(ka, sizeof(ka), "%" PRId64 "/%" PRId64, ko, ki);
		/* inside and outside columns regardless of who opened the flow */
		printf("%-6" PRId64 " %-5s %-24s %-24s %-24s %-12s %9s %11s %8s %5s%s\n", id, proto,
		       !strcmp(init, "outside") ? dst : src, !strcmp(init, "outside") ? src : dst,
		       nat, state, idle, exp, pk, ka, !strcmp(init, "outside") ? "  (opened from outside)" : "");
	}
	printf("%" PRId64 " flow%s (PKTS and KA: outbound/inbound packets and keepalives)\n",
	       count, count == 1 ? "" : "s");
	return 0;
}

/* Print a reply line (unless quiet and ok); the exit code it means. */
static int reply(const char *line, size_t len, bool json, bool flows, bool quiet)
{
	bool ok = false;
	char err[256], shown[256];
	json_t *js = jsonio_load(line, len, err, sizeof(err));
	int rc = IG_EXIT_OK;

	if (!js || jsonio_get_bool(js, "ok", &ok) < 0) {
		log_warnx("ctl: unexpected reply (%s): %s", js ? "no \"ok\"" : err,
			  tu_term_clean(line, shown, sizeof(shown)));
		rc = IG_EXIT_ENV;
	} else if (!ok) {
		if (jsonio_get_str(js, "error", err, sizeof(err)) < 0)
			snprintf(err, sizeof(err), "%.200s", line);
		log_warnx("ctl: the simulator refused: %s", tu_term_clean(err, shown, sizeof(shown)));
		rc = IG_EXIT_FAILED;
	} else if (flows && !json) {
		if (print_flows(js) < 0) {
			log_warnx("ctl: malformed flows reply");
			rc = IG_EXIT_ENV;
		}
	} else if (!quiet) {
		printf("%s\n", line);
	}
	json_decref(js);
	return rc;
}

int cmd_ctl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		CLI_COMMON_ENTRIES,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("IDLEGATE_CTL");
	struct ctlc_buf rb = { 0 };
	bool json = false, events = false;
	char *req = NULL, *line;
	int ch, fd = -1, rc = IG_EXIT_ENV;
	ssize_t n;

	if (!path || !*path)
		path = CTL_DEFAULT_SOCKET;
	while ((ch = getopt_long(argc, argv, "+s:jhq", opts, NULL)) != -1) {
		if (cli_common_option(ch, optarg))
			continue;
		switch (ch) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return IG_EXIT_OK;
		default: usage(stderr); return IG_EXIT_USAGE;
		}
	}
	if (build_request(argc - optind, argv + optind, &req, &events) < 0)
		return IG_EXIT_USAGE;

	fd = ctlc_open(path);
	if (fd < 0) {
		log_warn("ctl: %s (is idlegate-sim running with --ctl %s?)", path, path);
		goto out;
	}
	if (ctlc_send(fd, req) < 0) {
		log_warn("ctl: sending to %s", path);
		goto out;
	}
	n = ctlc_read_line(fd, &rb, REPLY_TIMEOUT_MS, &line);
	if (n < 0) {
		log_warn("ctl: no reply from %s", path);
		goto out;
	}
	rc = reply(line, (size_t)n, json, !strcmp(argv[optind], "flows"), events);
	if (rc != IG_EXIT_OK || !events)
		goto out;

	/* events: one JSON line each, as they come, until the simulator goes */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = ctlc_read_line(fd, &rb, -1, &line)) >= 0)
		printf("%s\n", line);
	if (errno == EPIPE)
		log_warnx("ctl: the simulator closed the connection");
	else
		log_warn("ctl: reading events");
	rc = IG_EXIT_ENV;
out:
	if (fd >= 0)
		close(fd);
	ctlc_buf_free(&rb);
	free(req);
	return rc;
}
