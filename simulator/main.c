// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * idlegate-sim: the middlebox daemon. Parses the options and the policy,
 * binds an NFQUEUE, installs the rules that feed it, answers the control
 * socket, and runs an epoll loop (signalfd for signals, the control socket,
 * the queue, a timerfd at the engine's next deadline), serving the engine's
 * timers whenever it looks at the clock: when it wakes, between bursts of
 * packets and before it sleeps. The packet path itself, from receive to
 * verdict, is simulator/datapath.c. Readiness is announced only once the
 * queue and rules are in place.
 *
 * Exit status: 0 clean shutdown, 2 usage or policy error, 3 environment
 * error (no permission, no such interface, queue or rules refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "common/duration.h"
#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "common/profile.h"
#include "simulator/caps.h"
#include "simulator/ctl.h"
#include "simulator/datapath.h"
#include "simulator/events.h"
#include "simulator/inject.h"
#include "simulator/looptimer.h"
#include "simulator/nfq.h"
#include "simulator/pcapw.h"
#include "simulator/rules.h"
#include "simulator/engine/engine.h"
#include "common/policy.h"

#define EXIT_USAGE 2
#define EXIT_ENV 3
#define DEFAULT_MARK 0x1d1e
/* Messages received before the loop looks at its other sources. */
#define RX_BUDGET 512
#define NS_PER_MS 1000000u
/* While lines keep coming, the logs reach their files this often. */
#define LOG_FLUSH_MS 10

struct opts {
	const char *inside, *outside;
	const char *profile;
	const char *sets[64];
	unsigned n_sets;
	uint16_t queue_num;
	const char *table;
	const char *ctl_path, *events_path, *pcap_path, *ready_path;
	bool fail_open;
	int rt_prio;                    /* --realtime: SCHED_FIFO priority, 0: no */
	uint32_t mark;
	bool no_ready_line;
	const char *user;               /* --user: become this user after setup */
	uid_t uid;
	gid_t gid;
};

struct sim {
	struct opts o;
	struct engine *eng;
	struct nfqio *q;
	struct rules *rules;
	struct inject *inj;
	struct ctl *ctl;
	struct events *ev;
	struct pcapw *pcap;
	uint32_t if_in, if_out;
	uint32_t copy_range;
	uint64_t now, start;
	struct datapath *dp;
	struct looptimer lt;
	uint64_t flushed_lines, flushed_pkts, flush_at;
	int epfd, sfd;
	bool stop;
};

#ifndef IDLEGATE_COMMIT
#define IDLEGATE_COMMIT "unknown"
#endif

static void usage(FILE *f)
{
	const struct knob_info *k;
	size_t n, i;

	fprintf(f,
"usage: idlegate-sim --inside IFACE --outside IFACE [options]\n"
"\n"
"A userspace NAT / stateful firewall on NFQUEUE that expires idle flows as a\n"
"device profile says. Run it in the middlebox's network namespace.\n"
"\n"
"  --inside IFACE        interface toward the clients (packets in: outbound)\n"
"  --outside IFACE       interface toward the servers (packets in: inbound)\n"
"  --profile NAME|PATH   device profile (scenarios/profiles/NAME.ini)\n"
"  --set KNOB=VALUE      override a knob (repeatable; applied after --profile)\n"
"  --queue-num N         NFQUEUE number (default 0)\n"
"  --table NAME          nftables table name (default idlegate_<pid>)\n"
"  --mark N              mark of injected packets, never queued (default 0x%x)\n"
"  --fail-open           let traffic bypass the box when the queue is full or\n"
"                        nobody listens (default: such packets are dropped)\n"
"  --realtime[=PRIO]     run at SCHED_FIFO priority PRIO (1-99, default 1), so\n"
"                        expiry and verdicts keep time on a CPU shared with the\n"
"                        endpoints (needs CAP_SYS_NICE)\n"
"  --ctl PATH            control socket (line-delimited JSON, mode 0600)\n"
"  --events PATH         event log (JSON lines)\n"
"  --pcap PATH           capture of what crossed the box, injected packets too\n"
"  --ready-file PATH     written once the rules and queue are in place\n"
"  --no-ready-line       do not print READY on stdout\n"
"  --user USER           after setup, become USER keeping only CAP_NET_ADMIN\n"
"                        and CAP_NET_RAW (files and the socket are made first)\n"
"  -v, --verbose         more logging (twice: debug)\n"
"  -q, --quiet           warnings only\n"
"  -h, --help            this text;  -V, --version\n"
"\n"
"In NAT mode (nat = snat) without nat.address, the outside interface's first\n"
"IPv4 address is used, and accept_local is enabled on the inside interface so\n"
"the rewritten packets pass the kernel's source check.\n"
"\n"
"Knobs (profile keys, --set, control socket \"set\"):\n", DEFAULT_MARK);
	k = policy_knobs(&n);
	for (i = 0; i < n; i++)
		fprintf(f, "  %-22s %s\n  %-22s   %s\n", k[i].name, k[i].help, "", k[i].values);
	fprintf(f,
"\n"
"Control socket requests, one JSON object per line:\n"
"  {\"cmd\":\"stats\"} {\"cmd\":\"flows\"} {\"cmd\":\"get\",\"key\":K}\n"
"  {\"cmd\":\"set\",\"key\":K,\"value\":V} {\"cmd\":\"flush\"} {\"cmd\":\"expire\",\"id\":N}\n"
"  {\"cmd\":\"blackhole\",\"value\":\"30s\"} {\"cmd\":\"subscribe\"} {\"cmd\":\"unsubscribe\"}\n"
"\n"
"Exit status: 0 clean shutdown (SIGINT/SIGTERM), 2 usage or policy error,\n"
"3 environment error.\n");
}

static uint32_t ifindex_or_die(const char *name, const char *what)
{
	unsigned idx = if_nametoindex(name);

	if (!idx)
		fatal("%s interface '%s'", what, name);
	return idx;
}

static int first_ipv4(const char *ifname, union addr *a)
{
	struct ifaddrs *ifa, *i;
	int rc = -1;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, ifname))
			continue;
		addr_from_v4(a, (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr);
		rc = 0;
		break;
	}
	freeifaddrs(ifa);
	return rc;
}

static void write_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		log_warn("%s", path);
	if (fd >= 0)
		close(fd);
}

/* ---- JSON replies (jansson: common/jsonio.h) ---- */

#define JI(v) ((json_int_t)(v))

/* How late the loop served the engine's deadlines (simulator/looptimer.h). */
static json_t *timers_object(const struct looptimer_stats *st)
{
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I}", "wakes", JI(st->wakes), "served", JI(st->served),
			      "late_max_us", JI(st->late_max_us),
			      "wake_late_max_us", JI(st->wake_late_max_us), "rx_max_us", JI(st->rx_max_us));
	json_t *h = json_array();

	for (unsigned i = 0; h && i < LOOPTIMER_BUCKETS; i++)
		json_array_append_new(h, json_integer(JI(st->late[i])));
	if (!o || !h) {
		json_decref(o);
		json_decref(h);
		return json_null();
	}
	json_object_set_new(o, "late_hist", h);
	return o;
}

static json_t *stats_object(struct sim *s)
{
	struct engine_stats st;
	struct nfqio_stats qs;
	struct datapath_stats ds;
	json_t *o, *dropped, *queue;
	bool trusted;

	engine_stats(s->eng, &st);
	nfqio_stats(s->q, &qs);
	datapath_stats(s->dp, &ds);
	trusted = !qs.enobufs && !qs.hold_overflow && !qs.send_errors &&
		  (!qs.kernel_valid || (!qs.k_queue_dropped && !qs.k_user_dropped)) &&
		  !events_lost(s->ev);
	dropped = json_object();
	for (unsigned i = 1; i < DROP_REASON_MAX; i++)
		if (st.dropped[i])
			json_object_set_new(dropped, drop_reason_name(i), json_integer(JI(st.dropped[i])));
	queue = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			  "received", JI(qs.received), "verdict_msgs", JI(qs.verdict_msgs),
			  "batches", JI(qs.batches), "enobufs", JI(qs.enobufs),
			  "send_errors", JI(qs.send_errors), "hold_overflow", JI(qs.hold_overflow),
			  "held", JI(qs.held), "bursts", JI(ds.bursts));
	if (queue && qs.kernel_valid) {
		json_object_set_new(queue, "kernel_queue_total", json_integer(JI(qs.k_queue_total)));
		json_object_set_new(queue, "kernel_queue_dropped", json_integer(JI(qs.k_queue_dropped)));
		json_object_set_new(queue, "kernel_user_dropped", json_integer(JI(qs.k_user_dropped)));
	}
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		      "uptime_ms", JI(s->now - s->start), "packets_out", JI(st.packets[DIR_OUT]),
		      "packets_in", JI(st.packets[DIR_IN]), "accepted", JI(st.accepted),
		      "rewritten", JI(st.rewritten), "injected", JI(st.injected),
		      "inject_errors", JI(ds.inject_errors), "keepalives", JI(st.keepalives),
		      "foreign", JI(ds.foreign), "dropped", dropped,
		      "flows_created", JI(st.flows_created), "flows_expired", JI(st.flows_expired),
		      "flows_closed", JI(st.flows_closed), "flows_evicted", JI(st.flows_evicted),
		      "flows_active", JI(st.flows_active), "flows_max", JI(st.flows_max),
		      "mappings_active", JI(st.mappings_active), "bytes_per_flow", JI(st.bytes_per_flow),
		      "memory", JI(st.memory));
	if (!o) {
		json_decref(queue);
		return NULL;
	}
	json_object_set_new(o, "queue", queue ? queue : json_null());
	json_object_set_new(o, "timers", timers_object(&s->lt.st));
	json_object_set_new(o, "events_lost", json_integer(JI(events_lost(s->ev))));
	json_object_set_new(o, "subscribers_dropped",
			    json_integer(JI(s->ctl ? ctl_dropped_subscribers(s->ctl) : 0)));
	json_object_set_new(o, "trusted", json_boolean(trusted));
	return o;
}

static const char *proto_str(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" :
	       p == IPPROTO_ICMP ? "icmp" : p == IPPROTO_ICMPV6 ? "icmpv6" : "other";
}

struct flows_list {
	uint64_t now;
	json_t *arr;
};

static void flow_one(void *ctx, const struct flow_info *fi)
{
	struct flows_list *fl = ctx;
	char src[64], dst[64], nat[64];
	uint64_t now = fl->now;
	json_t *o;

	o = json_pack("{s:I,s:s,s:s,s:I,s:s,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		      "id", JI(fi->id), "proto", proto_str(fi->tuple.proto),
		      "src", addr_format(&fi->tuple.src, src, sizeof(src)), "sport", JI(fi->tuple.sport),
		      "dst", addr_format(&fi->tuple.dst, dst, sizeof(dst)), "dport", JI(fi->tuple.dport),
		      "initiator", fi->initiator == DIR_OUT ? "inside" : "outside",
		      "state", flow_state_name(fi->state), "age_ms", JI(now - fi->created),
		      "idle_ms", JI(now >= fi->last_seen ? now - fi->last_seen : 0),
		      "expires_in_ms", JI((int64_t)(fi->expires - now)),
		      "pkts_out", JI(fi->pkts[DIR_OUT]), "pkts_in", JI(fi->pkts[DIR_IN]),
		      "keepalives_out", JI(fi->keepalives[DIR_OUT]), "keepalives_in", JI(fi->keepalives[DIR_IN]));
	if (o && fi->nat) {
		json_object_set_new(o, "nat_addr", json_string(addr_format(&fi->nat_addr, nat, sizeof(nat))));
		json_object_set_new(o, "nat_port", json_integer(JI(fi->nat_port)));
	}
	if (o)
		json_array_append_new(fl->arr, o);
}

/* One JSON value as one answer line (the value is consumed). */
static void reply_json(struct ctl_client *cl, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text)
		ctl_send(cl, text, strlen(text));
	else
		ctl_send(cl, "{\"ok\":false,\"error\":\"out of memory\"}", 38);
	free(text);
	json_decref(o);
}

/* {"ok":true} with the members of extra (consumed; NULL: none). */
static void reply_ok(struct ctl_client *cl, json_t *extra)
{
	json_t *o = json_pack("{s:b}", "ok", 1);

	if (o && extra)
		json_object_update(o, extra);
	json_decref(extra);
	reply_json(cl, o);
}

static void reply_err(struct ctl_client *cl, const char *msg)
{
	reply_json(cl, json_pack("{s:b,s:o}", "ok", 0, "error", jsonio_str(msg)));
}

/* One event line (the value is consumed). */
static void emit_event(struct sim *s, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text)
		events_emit_line(s->ev, text);
	free(text);
	json_decref(o);
}

static void update_copy_range(struct sim *s)
{
	uint32_t want = (engine_needs_full_packets(s->eng) || s->pcap) ? 0xffff : NFQIO_HEADER_COPY;

	if (want == s->copy_range)
		return;
	if (nfqio_set_copy_range(s->q, want) < 0)
		log_warn("changing the queue's copy range");
	else
		s->copy_range = want;
}

/* The flow list, as one reply line of any length. */
static void reply_flows(struct sim *s, struct ctl_client *cl)
{
	struct flows_list fl = { .now = s->now, .arr = json_array() };

	if (!fl.arr) {
		reply_err(cl, "out of memory");
		return;
	}
	engine_foreach_flow(s->eng, flow_one, &fl);
	reply_ok(cl, json_pack("{s:I,s:o}", "count", JI(json_array_size(fl.arr)), "flows", fl.arr));
}

static void on_ctl(void *ctx, struct ctl_client *cl, const struct ctl_req *req)
{
	struct sim *s = ctx;
	char err[256], val[256];
	uint64_t ms;

	switch (req->cmd) {
	case CTL_STATS:
		reply_ok(cl, stats_object(s));
		break;
	case CTL_FLOWS:
		reply_flows(s, cl);
		break;
	case CTL_GET: {
		const struct policy *p = engine_policy(s->eng);

		if (policy_get(p, req->key, val, sizeof(val)) < 0) {
			reply_err(cl, "unknown knob");
			break;
		}
		reply_ok(cl, json_pack("{s:o,s:o}", "key", jsonio_str(req->key), "value", jsonio_str(val)));
		break;
	}
	case CTL_SET:
		if (engine_set(s->eng, req->key, req->value, err, sizeof(err)) < 0) {
			reply_err(cl, err[0] ? err : strerror(errno));
			break;
		}
		update_copy_range(s);
		log_info("set %s = %s", req->key, req->value);
		emit_event(s, json_pack("{s:s,s:I,s:o,s:o}", "event", "set", "t_ms", JI(s->now),
					"key", jsonio_str(req->key), "value", jsonio_str(req->value)));
		reply_ok(cl, NULL);
		break;
	case CTL_FLUSH:
		engine_flush(s->eng, s->now);
		emit_event(s, json_pack("{s:s,s:I}", "event", "flush", "t_ms", JI(s->now)));
		reply_ok(cl, NULL);
		break;
	case CTL_EXPIRE:
		if (engine_expire_flow(s->eng, req->id, s->now) < 0)
			reply_err(cl, "no such flow");
		else
			reply_ok(cl, NULL);
		break;
	case CTL_BLACKHOLE:
		if (duration_parse_checked("value", req->value, true, &ms, err, sizeof(err)) < 0) {
			reply_err(cl, err);
			break;
		}
		engine_blackhole(s->eng, s->now + ms);
		emit_event(s, json_pack("{s:s,s:I,s:I}", "event", "blackhole", "t_ms", JI(s->now),
					"until_ms", JI(s->now + ms)));
		reply_ok(cl, NULL);
		break;
	case CTL_SUBSCRIBE:
	case CTL_UNSUBSCRIBE:
		reply_ok(cl, NULL);
		ctl_subscribe(cl, req->cmd == CTL_SUBSCRIBE);
		break;
	default:
		reply_err(cl, "unsupported");
	}
}

/* ---- engine callbacks (the packet path itself is datapath.c) ---- */

static void on_event(void *ctx, const struct engine_event *ev)
{
	struct sim *s = ctx;

	events_emit(s->ev, ev);
}

static void on_inject(void *ctx, enum dir toward, const uint8_t *pkt, size_t len)
{
	struct sim *s = ctx;

	datapath_inject(s->dp, pkt, len);
}

/* ---- setup ---- */

static void parse_args(int argc, char **argv, struct opts *o, int *verbose)
{
	enum { O_QUEUE = 256, O_TABLE, O_CTL, O_EVENTS, O_PCAP, O_READY, O_FAILOPEN,
	       O_MARK, O_NOREADY, O_USER, O_PROFILE, O_SET, O_INSIDE, O_OUTSIDE, O_REALTIME };
	static const struct option lo[] = {
		{ "inside", required_argument, NULL, O_INSIDE },
		{ "outside", required_argument, NULL, O_OUTSIDE },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "set", required_argument, NULL, O_SET },
		{ "queue-num", required_argument, NULL, O_QUEUE },
		{ "table", required_argument, NULL, O_TABLE },
		{ "mark", required_argument, NULL, O_MARK },
		{ "fail-open", no_argument, NULL, O_FAILOPEN },
		{ "realtime", optional_argument, NULL, O_REALTIME },
		{ "ctl", required_argument, NULL, O_CTL },
		{ "events", required_argument, NULL, O_EVENTS },
		{ "pcap", required_argument, NULL, O_PCAP },
		{ "ready-file", required_argument, NULL, O_READY },
		{ "no-ready-line", no_argument, NULL, O_NOREADY },
		{ "user", required_argument, NULL, O_USER },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	unsigned long v;
	int c;

	o->mark = DEFAULT_MARK;
	while ((c = getopt_long(argc, argv, "vqhV", lo, NULL)) != -1) {
		switch (c) {
		case O_INSIDE: o->inside = optarg; break;
		case O_OUTSIDE: o->outside = optarg; break;
		case O_PROFILE: o->profile = optarg; break;
		case O_SET:
			if (o->n_sets == sizeof(o->sets) / sizeof(o->sets[0])) {
				log_warnx("too many --set options");
				exit(EXIT_USAGE);
			}
			o->sets[o->n_sets++] = optarg;
			break;
		case O_QUEUE:
			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno || *end || end == optarg || v > 65535) {
				log_warnx("--queue-num: '%s' is not a number 0..65535", optarg);
				exit(EXIT_USAGE);
			}
			o->queue_num = (uint16_t)v;
			break;
		case O_MARK:
			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno || *end || end == optarg || v == 0 || v > UINT32_MAX) {
				log_warnx("--mark: '%s' is not a non-zero 32-bit number", optarg);
				exit(EXIT_USAGE);
			}
			o->mark = (uint32_t)v;
			break;
		case O_REALTIME:
			errno = 0;
			v = optarg ? strtoul(optarg, &end, 10) : 1;
			if (optarg && (errno || *end || end == optarg || v < 1 || v > 99)) {
				log_warnx("--realtime: '%s' is not a priority 1..99", optarg);
				exit(EXIT_USAGE);
			}
			o->rt_prio = (int)v;
			break;
		case O_TABLE: o->table = optarg; break;
		case O_FAILOPEN: o->fail_open = true; break;
		case O_CTL: o->ctl_path = optarg; break;
		case O_EVENTS: o->events_path = optarg; break;
		case O_PCAP: o->pcap_path = optarg; break;
		case O_READY: o->ready_path = optarg; break;
		case O_NOREADY: o->no_ready_line = true; break;
		case O_USER: {
			struct passwd *pw = getpwnam(optarg);

			if (!pw) {
				log_warnx("--user: no user '%s'", optarg);
				exit(EXIT_USAGE);
			}
			o->user = optarg;
			o->uid = pw->pw_uid;
			o->gid = pw->pw_gid;
			break;
		}
		case 'v': (*verbose)++; break;
		case 'q': *verbose = 0; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("idlegate-sim %s (commit %s)\n", IDLEGATE_VERSION, IDLEGATE_COMMIT); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		log_warnx("unexpected argument '%s'", argv[optind]);
		exit(EXIT_USAGE);
	}
	if (!o->inside || !o->outside) {
		log_warnx("--inside and --outside are required (see --help)");
		exit(EXIT_USAGE);
	}
	if (!strcmp(o->inside, o->outside)) {
		log_warnx("--inside and --outside must be different interfaces");
		exit(EXIT_USAGE);
	}
}

static void load_policy(const struct opts *o, struct policy *p)
{
	char err[512];
	unsigned i;

	policy_init(p);
	if (o->profile && profile_load(p, o->profile, NULL, err, sizeof(err)) < 0) {
		log_warnx("profile: %s", err);
		exit(EXIT_USAGE);
	}
	for (i = 0; i < o->n_sets; i++) {
		char key[128];
		const char *eq = strchr(o->sets[i], '=');
		size_t kl;

		if (!eq || eq == o->sets[i] || (size_t)(eq - o->sets[i]) >= sizeof(key)) {
			log_warnx("--set '%s': expected KNOB=VALUE", o->sets[i]);
			exit(EXIT_USAGE);
		}
		kl = (size_t)(eq - o->sets[i]);
		memcpy(key, o->sets[i], kl);
		key[kl] = '\0';
		if (policy_set(p, key, eq + 1, err, sizeof(err)) < 0) {
			log_warnx("--set %s: %s", o->sets[i], err);
			exit(EXIT_USAGE);
		}
	}
	if (p->nat == NAT_SNAT && !p->nat_addr_set) {
		if (first_ipv4(o->outside, &p->nat_addr) < 0)
			fatalx("nat = snat: no nat.address given and %s has no IPv4 address",
			       o->outside);
		p->nat_addr_set = true;
	}
	if (policy_validate(p, err, sizeof(err)) < 0) {
		log_warnx("policy: %s", err);
		exit(EXIT_USAGE);
	}
}

static void write_ready(struct sim *s)
{
	char tmp[PATH_MAX], buf[256];
	int fd, n;

	if (!s->o.ready_path)
		return;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", s->o.ready_path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		fatalx("--ready-file: path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fatal("%s", tmp);
	n = snprintf(buf, sizeof(buf), "pid %ld\ntable inet %s\nqueue %u\n", (long)getpid(),
		     rules_table(s->rules), s->o.queue_num);
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0 || rename(tmp, s->o.ready_path) < 0)
		fatal("%s", s->o.ready_path);
}

static void emit_stats(struct sim *s, const char *what, FILE *also)
{
	json_t *st = stats_object(s), *o = json_pack("{s:s,s:I}", "event", what, "t_ms", JI(s->now));
	char *text = NULL;

	if (o && st && json_object_update(o, st) == 0)
		text = json_dumps(o, JSON_COMPACT);
	json_decref(st);
	json_decref(o);
	if (!text)
		return;
	events_emit_line(s->ev, text);
	if (also) {
		fprintf(also, "%s\n", text);
		fflush(also);
	}
	free(text);
}

static void events_to_ctl(void *ctx, const char *line, size_t len)
{
	struct sim *s = ctx;

	if (s->ctl)
		ctl_broadcast(s->ctl, line, len);
}

/* Signals are read from a signalfd in the event loop, never handled. */
static void open_loop(struct sim *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->epfd < 0)
		fatal("signalfd/epoll");
	ev.data.fd = s->sfd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sfd, &ev);
}

static void watch_fd(struct sim *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		fatal("epoll_ctl");
}

/* The event log, the capture, the engine and the injection sockets. */
static void open_engine(struct sim *s, const struct policy *pol)
{
	struct engine_ops ops = { .event = on_event, .inject = on_inject, .ctx = s };
	char err[512];

	s->ev = events_open(s->o.events_path);
	if (!s->ev)
		fatal("--events %s", s->o.events_path);
	events_set_sink(s->ev, events_to_ctl, s);
	if (s->o.pcap_path) {
		s->pcap = pcapw_open(s->o.pcap_path, err, sizeof(err));
		if (!s->pcap)
			fatalx("--pcap %s: %s", s->o.pcap_path, err);
	}
	s->eng = engine_new(pol, &ops, s->now);
	if (!s->eng)
		fatal("creating the engine (table.max_flows = %u)", pol->max_flows);
	s->inj = inject_new(s->o.mark);
	if (!s->inj)
		fatal("raw sockets for injection (needs CAP_NET_RAW and CAP_NET_ADMIN)");
	if (pol->nat == NAT_SNAT) {
		char path[128];

		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", s->o.inside);
		write_sysctl(path, "1");
	}
}

/* The queue, the rules that feed it, the data path, the control socket. */
static void open_queue(struct sim *s)
{
	struct rules_config rc = { .priority = -300 };
	struct datapath_config dc;
	struct nfqio_config qc;
	char err[512];

	/* The queue is bound before the rules exist, so no packet meets a
	 * rule with nobody behind it. */
	nfqio_config_init(&qc, s->o.queue_num);
	qc.fail_open = s->o.fail_open;
	qc.copy_range = s->copy_range =
		(engine_needs_full_packets(s->eng) || s->pcap) ? 0xffff : NFQIO_HEADER_COPY;
	s->q = nfqio_open(&qc);
	if (!s->q)
		fatal("binding NFQUEUE %u (needs CAP_NET_ADMIN and nfnetlink_queue; "
		      "is another process using the queue?)", s->o.queue_num);
	dc = (struct datapath_config){ .eng = s->eng, .q = s->q, .inj = s->inj,
				       .pcap = s->pcap, .if_in = s->if_in, .if_out = s->if_out };
	s->dp = datapath_new(&dc);
	if (!s->dp)
		fatal("data path buffers");
	rc.table = s->o.table;
	rc.queue_num = s->o.queue_num;
	rc.skip_mark = s->o.mark;
	rc.bypass = s->o.fail_open;
	rc.ifindex[0] = s->if_in;
	rc.ifindex[1] = s->if_out;
	rc.n_ifindex = 2;
	s->rules = rules_new(&rc, err, sizeof(err));
	if (!s->rules)
		fatal("%s", err);
	if (rules_compat(s->rules))
		log_debug("no native nft queue expression; using the xt NFQUEUE target");
	watch_fd(s, nfqio_fd(s->q));
	watch_fd(s, s->lt.fd);
	if (s->o.ctl_path) {
		s->ctl = ctl_open(s->o.ctl_path, on_ctl, s);
		if (!s->ctl)
			fatal("--ctl %s", s->o.ctl_path);
		watch_fd(s, ctl_fd(s->ctl));
	}
}

/* --realtime: a real-time priority, while CAP_SYS_NICE is still ours. A
 * packet or a deadline then wakes the loop at once instead of waiting for
 * the endpoints' time slices (the kernel's conntrack, in softirq, does not
 * wait either); the kernel's real-time throttling still leaves others 5%. */
static void go_realtime(const struct sim *s)
{
	struct sched_param sp = { .sched_priority = s->o.rt_prio };

	if (!s->o.rt_prio)
		return;
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) < 0) {
		log_warn("--realtime: SCHED_FIFO priority %d (needs CAP_SYS_NICE)", s->o.rt_prio);
		exit(EXIT_ENV);
	}
	log_info("running at SCHED_FIFO priority %d", s->o.rt_prio);
}

/* Keep only CAP_NET_ADMIN and CAP_NET_RAW; with --user, as that user. */
static void drop_privileges(struct sim *s)
{
	if (caps_drop_to_datapath(s->o.user ? s->o.uid : (uid_t)-1, s->o.user ? s->o.gid : (gid_t)-1) == 0)
		return;
	if (s->o.user)
		fatal("--user %s: becoming that user with CAP_NET_ADMIN and CAP_NET_RAW", s->o.user);
	log_warn("dropping capabilities");
}

/* The ready event, then READY on stdout (the ready file is written before
 * the privileges are dropped). */
static void announce_ready(struct sim *s, const struct policy *pol)
{
	char a[64];
	bool nat = pol->nat == NAT_SNAT;
	json_t *o = json_pack("{s:s,s:I,s:I,s:s,s:I,s:b}", "event", "ready", "t_ms", JI(s->now),
			      "pid", JI(getpid()), "table", rules_table(s->rules), "queue", JI(s->o.queue_num),
			      "nat", nat);

	if (o && nat)
		json_object_set_new(o, "nat_addr", json_string(addr_format(&pol->nat_addr, a, sizeof(a))));
	emit_event(s, o);
	events_flush(s->ev);
	if (!s->o.no_ready_line) {
		printf("READY\n");
		fflush(stdout);
	}
	log_info("ready: queue %u, table inet %s, inside %s, outside %s%s",
		 s->o.queue_num, rules_table(s->rules), s->o.inside, s->o.outside,
		 nat ? ", nat" : "");
}

/* Look at the clock and serve what is due by now: the engine's timers and
 * the held packets; the loop timer learns the next deadline. */
static void tick(struct sim *s)
{
	uint64_t ns = mtime_ns(), next, t;

	s->now = ns / NS_PER_MS;
	next = engine_advance(s->eng, s->now);
	t = nfqio_release(s->q, s->now);
	if (t < next)
		next = t;
	looptimer_serve(&s->lt, ns, next == UINT64_MAX ? UINT64_MAX : s->now + next);
}

/* The packets waiting in the queue, one burst at a time with a tick after
 * each, so that a flood delays a deadline by one burst at most. Returns
 * true if the queue may hold more than this took. */
static bool service_queue(struct sim *s)
{
	for (unsigned total = 0; total < RX_BUDGET;) {
		uint64_t t0 = mtime_ns();
		int got = datapath_receive(s->dp, DATAPATH_BURST, s->now);

		looptimer_rx(&s->lt, t0, mtime_ns());
		if (got < 0) {
			log_warn("queue receive");
			return false;
		}
		if (got < DATAPATH_BURST)
			return false;
		total += (unsigned)got;
		tick(s);
	}
	return true;
}

/* Handle what epoll reported. Returns true if the queue may hold more
 * packets than one receive took. */
static bool dispatch(struct sim *s, const struct epoll_event *evs, int n)
{
	struct signalfd_siginfo si;
	bool more = false;

	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;

		if (fd == s->sfd) {
			while (read(s->sfd, &si, sizeof(si)) == sizeof(si))
				if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
					s->stop = true;
		} else if (fd == s->lt.fd) {
			looptimer_ack(&s->lt);
		} else if (s->ctl && fd == ctl_fd(s->ctl)) {
			ctl_dispatch(s->ctl);
		} else if (fd == nfqio_fd(s->q)) {
			more = service_queue(s);
		}
	}
	return more;
}

/* The event log and the capture reach their files at once after a quiet
 * spell, and at most every LOG_FLUSH_MS while lines keep coming: one write
 * per flush, not one per wake-up. Returns how long the loop may sleep
 * before the next flush is due (-1: nothing waits). */
static int flush_logs(struct sim *s)
{
	uint64_t lines = events_lines(s->ev), pkts = s->pcap ? pcapw_count(s->pcap) : 0;

	if (lines == s->flushed_lines && pkts == s->flushed_pkts)
		return -1;
	if (s->now < s->flush_at)
		return (int)(s->flush_at - s->now);
	events_flush(s->ev);
	if (s->pcap)
		pcapw_flush(s->pcap);
	s->flushed_lines = lines;
	s->flushed_pkts = pkts;
	s->flush_at = s->now + LOG_FLUSH_MS;
	return -1;
}

/* The event loop: a tick when it wakes and after handling what woke it;
 * then the logs are written and the loop timer is armed for the next
 * deadline (absolute, so a long iteration does not push it back). */
static void run(struct sim *s)
{
	struct epoll_event evs[8];
	bool more = false;
	int n, flush_in;

	while (!s->stop) {
		tick(s);
		flush_in = flush_logs(s);
		if (looptimer_arm(&s->lt) < 0)
			fatal("timerfd_settime");
		n = epoll_wait(s->epfd, evs, 8, more ? 0 : flush_in);
		if (n < 0) {
			if (errno != EINTR)
				fatal("epoll_wait");
			n = 0;
		}
		s->lt.st.wakes++;
		tick(s);
		more = dispatch(s, evs, n);
	}
}

static void shutdown_sim(struct sim *s)
{
	struct nfqio_stats qs;

	s->now = mtime_ms();
	/* Rules first, so nothing new is queued; then answer what is left. */
	rules_free(s->rules);
	s->rules = NULL;
	while (datapath_receive(s->dp, RX_BUDGET, s->now) > 0)
		;
	emit_stats(s, "stats", stdout);
	nfqio_stats(s->q, &qs);
	if (qs.enobufs || (qs.kernel_valid && (qs.k_queue_dropped || qs.k_user_dropped)))
		log_warnx("packets were lost to overload (enobufs %" PRIu64
			  ", queue full %u, socket full %u): this run cannot be trusted",
			  qs.enobufs, qs.k_queue_dropped, qs.k_user_dropped);
	nfqio_close(s->q);
	datapath_free(s->dp);
	ctl_close(s->ctl);
	events_close(s->ev);
	pcapw_close(s->pcap);
	inject_free(s->inj);
	engine_free(s->eng);
	looptimer_close(&s->lt);
	close(s->epfd);
	close(s->sfd);
}

int main(int argc, char **argv)
{
	static struct sim sim;
	struct sim *s = &sim;
	struct policy pol;
	int verbose = 1;

	log_init(argv[0], 1);
	parse_args(argc, argv, &s->o, &verbose);
	log_init(argv[0], verbose);
	load_policy(&s->o, &pol);
	s->if_in = ifindex_or_die(s->o.inside, "--inside");
	s->if_out = ifindex_or_die(s->o.outside, "--outside");
	s->start = s->now = mtime_ms();

	open_loop(s);
	if (looptimer_open(&s->lt) < 0)
		fatal("timerfd");
	open_engine(s, &pol);
	open_queue(s);
	go_realtime(s);
	write_ready(s);                 /* in the run's directory: root's, so first */
	drop_privileges(s);
	announce_ready(s, &pol);
	run(s);
	shutdown_sim(s);
	log_info("stopped");
	return 0;
}
