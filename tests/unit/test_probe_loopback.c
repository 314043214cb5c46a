// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The probe client against the probe server on loopback, without root: a
 * forked server, the client in the test process. Checks that keepalive
 * options are applied and really make the kernel send probes (seen in
 * TCP_INFO), that outcomes are classified when the server closes, resets,
 * stops answering or vanishes, that heartbeats cross (both ways), that a UDP rebinding
 * is detected, and that strangers do not hurt the server. Idle periods are
 * 1-3 s; the whole file runs in about 15 s.
 */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/jsonio.h"
#include "common/log.h"
#include "common/mtime.h"
#include "probes/client.h"
#include "probes/proto.h"
#include "probes/result.h"
#include "probes/server.h"

struct srv {
	pid_t pid;
	char dir[64], ready[128], results[128];
	char addr[PROTO_ADDR_MAX];
};

static void server_start(struct srv *s)
{
	uint64_t deadline;

	strcpy(s->dir, "/tmp/igp-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	snprintf(s->ready, sizeof(s->ready), "%s/ready", s->dir);
	snprintf(s->results, sizeof(s->results), "%s/results", s->dir);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		struct server_config cfg;
		FILE *rf = fopen(s->results, "w");

		log_init("probe-server", 0);
		probe_server_config_init(&cfg);
		probe_proto_addr_parse("127.0.0.1:0", &cfg.listen, &cfg.listen_len);
		cfg.ready_file = s->ready;
		cfg.results = rf;
		cfg.hello_timeout_ms = 2000;
		_exit(rf && probe_server_run(&cfg) == 0 ? 0 : 3);
	}
	/* wait for readiness by polling the file, with a deadline */
	deadline = mtime_ms() + 5000;
	for (;;) {
		FILE *f = fopen(s->ready, "r");
		if (f) {
			ck_assert_ptr_nonnull(fgets(s->addr, sizeof(s->addr), f));
			fclose(f);
			s->addr[strcspn(s->addr, "\n")] = '\0';
			break;
		}
		ck_assert_msg(mtime_ms() < deadline, "server not ready in 5 s");
		poll(NULL, 0, 10);
	}
}

/* Stop the server with sig; returns its exit status. */
static int server_stop(struct srv *s, int sig)
{
	int st = 0;

	kill(s->pid, sig);
	waitpid(s->pid, &st, 0);
	return st;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void cfg_for(struct client_config *cfg, const char *addr)
{
	memset(cfg, 0, sizeof(*cfg));
	ck_assert_int_eq(probe_proto_addr_parse(addr, &cfg->server[0], &cfg->server_len[0]), 0);
	cfg->nserver = 1;
}

static struct probe_plan plan(const char *spec)
{
	struct probe_plan p;
	char err[256];

	ck_assert_msg(probe_plan_parse(spec, &p, err, sizeof(err)) == 0, "%s: %s", spec, err);
	return p;
}

static struct probe_flow_result *by_name(struct probe_flow_result *r, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(r[i].plan.name, name))
			return &r[i];
	ck_abort_msg("no flow %s", name);
	return NULL;
}

static void dump(struct probe_flow_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *o = r[i].met ? NULL : probe_result_flow_json(&r[i]);

		if (o) {
			json_dumpf(o, stderr, JSON_COMPACT);
			fputc('\n', stderr);
		}
		json_decref(o);
	}
}

/* The server's JSON as compact text (valid until the next call). */
static const char *srvtext(const struct probe_flow_result *x)
{
	static char buf[8192];

	if (!x->server.json || jsonio_dumpb(x->server.json, 0, buf, sizeof(buf)) < 0)
		return "";
	return buf;
}

static long sysctl_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

START_TEST(test_many_flows)
{
	struct srv s;
	struct client_config cfg;
	struct probe_plan p[] = {
		plan("name=tcp-c,idle=1s,expect=alive"),
		plan("name=tcp-s,idle=1s,speaker=server,expect=alive"),
		plan("name=ka,keepalive=1s/1s/3,idle=3s,expect=alive"),
		plan("name=noka,idle=3s,expect=alive"),
		plan("name=kdef,keepalive=kernel-default,idle=1s,expect=alive"),
		plan("name=uto,user_timeout=7s,idle=1s,expect=alive"),
		plan("name=ska,server_keepalive=1s/1s/2,idle=1s,expect=alive"),
		plan("name=udp-hb,proto=udp,heartbeat=300ms,idle=2s,expect=alive"),
		plan("name=udp-s,proto=udp,idle=1s,speaker=server,expect=alive"),
		plan("name=rebind,proto=udp,rebind=yes,idle=1s,expect=rebound"),
		plan("name=close,server_end=close,idle=2s,expect=closed"),
		plan("name=reset,server_end=reset,idle=2s,expect=reset"),
		plan("name=cycles,idle=500ms,cycles=3,speaker=server,heartbeat=200ms,expect=alive"),
		/* server heartbeats at 300 .. 1800 ms of a 2 s idle: 6 */
		plan("name=udp-shb,proto=udp,server_heartbeat=300ms,idle=2s,expect=alive"),
		plan("name=udp-shb-s,proto=udp,server_heartbeat=250ms,idle=1s,speaker=server,expect=alive"),
		plan("name=tcp-shb,server_heartbeat=400ms,idle=2s,speaker=server,expect=alive"),
		plan("name=shb-cycles,proto=udp,server_heartbeat=300ms,idle=1s,cycles=2,heartbeat=400ms,expect=alive"),
	};
	size_t n = sizeof(p) / sizeof(p[0]);
	struct probe_flow_result r[sizeof(p) / sizeof(p[0])];
	struct probe_flow_result *x;
	bool intr;
	char want[64];
	long kd = sysctl_long("/proc/sys/net/ipv4/tcp_keepalive_time");
	uint64_t t0 = mtime_ms();

	server_start(&s);
	cfg_for(&cfg, s.addr);
	ck_assert_int_eq(probe_client_run(&cfg, p, n, r, &intr), 0);
	ck_assert(!intr);
	/* all at once: the longest flow is 3 s, not the sum */
	ck_assert_uint_lt(mtime_ms() - t0, 5000);
	dump(r, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(r[i].met, "flow %s: %s (expected %s)", r[i].plan.name,
			      probe_outcome_name(r[i].outcome), probe_outcome_name(r[i].plan.expect));
		ck_assert_msg(r[i].server.known, "flow %s: no server side: %s", r[i].plan.name,
			      r[i].server.error);
	}

	x = by_name(r, n, "tcp-c");
	ck_assert_int_eq(x->server.outcome, OUT_ALIVE);
	ck_assert_int_ge(x->client.at_ms, 1000);
	ck_assert_int_lt(x->client.at_ms, 1200);
	ck_assert_str_eq(x->client.seen_as, x->client.local);
	ck_assert_int_eq(by_name(r, n, "tcp-s")->server.outcome, OUT_ALIVE);

	/* keepalive set, read back, and the kernel sent probes at 1 s: the
	 * last ACK came well within the 3 s idle; without it, nothing came */
	x = by_name(r, n, "ka");
	ck_assert_int_eq(x->client.ka.mode, PLAN_KA_SET);
	ck_assert_uint_eq(x->client.ka.idle_s, 1);
	ck_assert_uint_eq(x->client.ka.intvl_s, 1);
	ck_assert_uint_eq(x->client.ka.cnt, 3);
	ck_assert(x->client.ti_idle_end.valid);
	ck_assert_msg(x->client.ti_idle_end.last_ack_recv_ms < 1500, "last ack %u ms ago",
		      x->client.ti_idle_end.last_ack_recv_ms);
	x = by_name(r, n, "noka");
	ck_assert_int_eq(x->client.ka.mode, PLAN_KA_OFF);
	ck_assert_msg(x->client.ti_idle_end.last_ack_recv_ms >= 2500, "last ack %u ms ago",
		      x->client.ti_idle_end.last_ack_recv_ms);

	x = by_name(r, n, "kdef");
	ck_assert_int_eq(x->client.ka.mode, PLAN_KA_SET); /* on, with the kernel's values */
	if (kd > 0)
		ck_assert_int_eq((long)x->client.ka.idle_s, kd);
	ck_assert_uint_eq(by_name(r, n, "uto")->client.user_timeout_ms, 7000);
	ck_assert_ptr_nonnull(strstr(srvtext(by_name(r, n, "ska")), "\"keepalive\":\"1s/1s/2\""));

	/* heartbeats crossed: the server counted every one the client sent */
	x = by_name(r, n, "udp-hb");
	ck_assert_uint_ge(x->client.heartbeats, 5);
	snprintf(want, sizeof(want), "\"heartbeats\":%u", x->client.heartbeats);
	ck_assert_msg(strstr(srvtext(x), want), "server: %s", srvtext(x));
	x = by_name(r, n, "cycles");
	ck_assert_uint_eq(x->client.cycles_done, 3);
	ck_assert_uint_ge(x->client.heartbeats, 3);
	snprintf(want, sizeof(want), "\"heartbeats\":%u", x->client.heartbeats);
	ck_assert_msg(strstr(srvtext(x), want), "server: %s", srvtext(x));

	/* server heartbeats: the count the plan implies (one every interval
	 * strictly inside the idle period), the last near its end; the server
	 * says it sent as many; flows without them see none */
	{
		static const struct {
			const char *name;
			unsigned count;
			int64_t last_lo, last_hi;
		} shb[] = {
			{ "udp-shb", 6, 1700, 2000 },
			{ "udp-shb-s", 3, 650, 1000 },
			{ "tcp-shb", 4, 1500, 2000 },
			{ "shb-cycles", 6, 800, 1000 }, /* 3 per cycle; last: in cycle 2 */
		};
		for (size_t k = 0; k < sizeof(shb) / sizeof(shb[0]); k++) {
			x = by_name(r, n, shb[k].name);
			ck_assert_msg(x->client.server_heartbeats == shb[k].count, "%s: %u server heartbeats",
				      shb[k].name, x->client.server_heartbeats);
			ck_assert(x->client.has_last_shb);
			ck_assert_msg(x->client.last_shb_ms >= shb[k].last_lo &&
				      x->client.last_shb_ms < shb[k].last_hi, "%s: last at %lld ms",
				      shb[k].name, (long long)x->client.last_shb_ms);
			snprintf(want, sizeof(want), "\"server_heartbeats\":%u", shb[k].count);
			ck_assert_msg(strstr(srvtext(x), want), "server: %s", srvtext(x));
		}
		x = by_name(r, n, "shb-cycles");
		ck_assert_uint_eq(x->client.cycles_done, 2);
		snprintf(want, sizeof(want), "\"heartbeats\":%u", x->client.heartbeats);
		ck_assert_msg(strstr(srvtext(x), want), "server: %s", srvtext(x));
		x = by_name(r, n, "udp-hb");
		ck_assert_uint_eq(x->client.server_heartbeats, 0);
		ck_assert(!x->client.has_last_shb);
		ck_assert_ptr_nonnull(strstr(srvtext(x), "\"last_server_heartbeat_ms\":null"));
	}

	/* rebinding: the server saw a new port and says so */
	x = by_name(r, n, "rebind");
	ck_assert_int_eq(x->server.outcome, OUT_REBOUND);
	ck_assert_str_ne(x->client.rebound_to, "");
	ck_assert_str_ne(x->client.rebound_to, x->client.seen_as);

	/* the server ends the connection mid-idle: seen by the client at ~1 s */
	x = by_name(r, n, "close");
	ck_assert_int_eq(x->client.outcome, OUT_CLOSED);
	ck_assert_int_ge(x->client.at_ms, 900);
	ck_assert_int_lt(x->client.at_ms, 1500);
	x = by_name(r, n, "reset");
	ck_assert_int_eq(x->client.outcome, OUT_RESET);
	ck_assert_int_eq(x->client.err, ECONNRESET);
	ck_assert_int_ge(x->client.at_ms, 900);
	ck_assert_int_lt(x->client.at_ms, 1500);

	for (size_t i = 0; i < n; i++)
		probe_result_clear(&r[i]);
	ck_assert_int_eq(WEXITSTATUS(server_stop(&s, SIGTERM)), 0);
	/* every flow has its line in the server's results */
	ck_assert_int_eq((int)(strchr(slurp(s.results), '\0') - slurp(s.results)) > 0, 1);
	{
		const char *all = slurp(s.results);
		size_t lines = 0;
		for (const char *q = all; (q = strchr(q, '\n')); q++)
			lines++;
		ck_assert_uint_eq(lines, n);
		ck_assert_ptr_null(strstr(all, "interrupted"));
	}
}
END_TEST

/* Kill the server after ms, from a helper process: a scheduled event of the
 * scenario (the flows idle for 2-3 s around it), not a wait for a condition. */
static pid_t kill_later(pid_t pid, int sig, int ms)
{
	pid_t k = fork();

	if (k == 0) {
		poll(NULL, 0, ms);
		kill(pid, sig);
		_exit(0);
	}
	return k;
}

/* warmup: HELLO and WELCOME every 500 ms for 1.5 s, then the idle. The
 * server restarts its idle with each HELLO: its PING after the idle comes
 * when the client waits for it, not during the warmup. */
START_TEST(test_warmup)
{
	struct srv s;
	struct client_config cfg;
	struct probe_plan p[] = {
		plan("name=warm,proto=udp,warmup=1500ms,idle=500ms,speaker=server,expect=alive"),
		plan("name=warm-c,proto=udp,warmup=1s,idle=300ms,expect=alive"),
	};
	struct probe_flow_result r[2];
	bool intr;
	uint64_t t0 = mtime_ms(), took;

	server_start(&s);
	cfg_for(&cfg, s.addr);
	ck_assert_int_eq(probe_client_run(&cfg, p, 2, r, &intr), 0);
	took = mtime_ms() - t0;
	dump(r, 2);
	for (size_t i = 0; i < 2; i++)
		ck_assert_msg(r[i].met, "flow %s: %s", r[i].plan.name, probe_outcome_name(r[i].outcome));
	ck_assert_msg(took >= 2000 && took < 4000, "took %llu ms", (unsigned long long)took);
	ck_assert_int_ge(r[0].client.at_ms, 450);
	ck_assert_int_lt(r[0].client.at_ms, 1000);
	for (size_t i = 0; i < 2; i++)
		probe_result_clear(&r[i]);
	ck_assert_int_eq(WEXITSTATUS(server_stop(&s, SIGTERM)), 0);
}
END_TEST

/* SIGUSR1: the caller has its answer. The flow still idling ends as
 * interrupted (not needed), the one that ended keeps its result and the
 * server's side of it; the run is not "interrupted". */
START_TEST(test_client_sigusr1_finishes)
{
	struct srv s;
	struct client_config cfg;
	struct probe_plan p[] = {
		plan("name=short,idle=300ms,expect=alive"),
		plan("name=long,idle=20s,expect=alive"),
	};
	struct probe_flow_result r[2];
	bool intr;
	uint64_t t0 = mtime_ms();
	pid_t k;

	server_start(&s);
	cfg_for(&cfg, s.addr);
	k = kill_later(getpid(), SIGUSR1, 1500);
	ck_assert_int_eq(probe_client_run(&cfg, p, 2, r, &intr), 0);
	waitpid(k, NULL, 0);
	dump(r, 2);
	ck_assert(!intr);
	ck_assert_uint_lt(mtime_ms() - t0, 5000);
	ck_assert_int_eq(r[0].outcome, OUT_ALIVE);
	ck_assert_msg(r[0].server.known, "short: no server side: %s", r[0].server.error);
	ck_assert_int_eq(r[1].outcome, OUT_INTERRUPTED);
	ck_assert_str_eq(r[1].server.error, "not asked: not needed");
	for (size_t i = 0; i < 2; i++)
		probe_result_clear(&r[i]);
	ck_assert_int_eq(WEXITSTATUS(server_stop(&s, SIGTERM)), 0);
}
END_TEST

START_TEST(test_server_vanishes)
{
	struct srv s;
	struct client_config cfg;
	struct probe_plan p[] = {
		plan("name=udp,proto=udp,idle=2s,expect=unreachable"),
		plan("name=tcp,idle=2s,expect=closed"),
	};
	struct probe_flow_result r[2];
	bool intr;
	pid_t k;

	server_start(&s);
	cfg_for(&cfg, s.addr);
	cfg.query_timeout_ms = 1000;
	k = kill_later(s.pid, SIGKILL, 1000);
	ck_assert_int_eq(probe_client_run(&cfg, p, 2, r, &intr), 0);
	waitpid(k, NULL, 0);
	server_stop(&s, SIGKILL);
	dump(r, 2);
	/* UDP: the PING after the idle met an ICMP port unreachable */
	ck_assert_int_eq(r[0].outcome, OUT_UNREACHABLE);
	ck_assert_int_eq(r[0].client.err, ECONNREFUSED);
	ck_assert_int_ge(r[0].client.at_ms, 2000);
	ck_assert_str_eq(r[0].noticed_by, "client");
	/* TCP: the dying process's socket sent FIN at ~1 s into the idle */
	ck_assert_int_eq(r[1].outcome, OUT_CLOSED);
	ck_assert_int_ge(r[1].client.at_ms, 900);
	ck_assert_int_lt(r[1].client.at_ms, 1500);
	/* both got through before the server died */
	ck_assert(r[0].client.connected && r[1].client.connected);
	/* and the client says it could not get the server's side */
	ck_assert(!r[0].server.known);
	ck_assert_ptr_nonnull(strstr(r[0].server.error, "could not reach"));
	ck_assert(r[0].met && r[1].met);
}
END_TEST

START_TEST(test_server_sigterm_writes_interrupted)
{
	struct srv s;
	struct client_config cfg;
	struct probe_plan p[] = { plan("name=long,idle=3s") };
	struct probe_flow_result r[1];
	bool intr;
	pid_t k;
	int st;

	server_start(&s);
	cfg_for(&cfg, s.addr);
	cfg.no_query = true;
	k = kill_later(s.pid, SIGTERM, 1000);
	ck_assert_int_eq(probe_client_run(&cfg, p, 1, r, &intr), 0);
	waitpid(k, NULL, 0);
	/* it stops by itself after SIGTERM (the Check timeout catches a hang) */
	ck_assert_int_eq(waitpid(s.pid, &st, 0), s.pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_ptr_nonnull(strstr(slurp(s.results), "\"outcome\":\"interrupted\""));
	ck_assert_int_eq(r[0].client.outcome, OUT_CLOSED);
	ck_assert(r[0].met); /* no expectation: it ran */
}
END_TEST

static void send_and_expect(const char *addr, int type, const char *msg, const char *reply)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char buf[512] = "";
	size_t got = 0;
	uint64_t deadline = mtime_ms() + 3000;
	int fd;

	probe_proto_addr_parse(addr, &ss, &sl);
	fd = socket(AF_INET, type, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, sl), 0);
	ck_assert_int_eq(send(fd, msg, strlen(msg), MSG_NOSIGNAL), (ssize_t)strlen(msg));
	if (!reply) {
		close(fd);
		return;
	}
	/* read until the server closes (it drops strangers) */
	while (mtime_ms() < deadline) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	close(fd);
	ck_assert_msg(strstr(buf, reply), "got '%s', wanted '%s'", buf, reply);
}

START_TEST(test_strangers)
{
	struct srv s;
	struct client_config cfg;
	struct probe_plan p[] = { plan("name=after,idle=200ms,expect=alive"),
				  plan("name=after-udp,proto=udp,idle=200ms,expect=alive") };
	struct probe_flow_result r[2];
	bool intr;

	server_start(&s);
	send_and_expect(s.addr, SOCK_STREAM, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "IGP1 ERROR - malformed");
	send_and_expect(s.addr, SOCK_STREAM, "IGP2 HELLO whatever\n", "IGP1 ERROR - version");
	send_and_expect(s.addr, SOCK_STREAM, "IGP1 PING 0000000000000001 1\n", "");
	send_and_expect(s.addr, SOCK_STREAM,
			"IGP1 HELLO 0000000000000001 x udp 0 client 1 0 10 off none\n",
			"IGP1 ERROR 0000000000000001 wrong-protocol");
	send_and_expect(s.addr, SOCK_STREAM, "IGP1 QUERY 00000000000000ff\n",
			"IGP1 ERROR 00000000000000ff unknown-flow");
	send_and_expect(s.addr, SOCK_DGRAM, "\x01\x02garbage", NULL);
	send_and_expect(s.addr, SOCK_DGRAM, "IGP1 PING 0000000000000009 1", NULL);
	/* still serving */
	cfg_for(&cfg, s.addr);
	ck_assert_int_eq(probe_client_run(&cfg, p, 2, r, &intr), 0);
	dump(r, 2);
	ck_assert(r[0].met && r[0].server.known);
	ck_assert(r[1].met && r[1].server.known);
	probe_result_clear(&r[0]);
	probe_result_clear(&r[1]);
	ck_assert_int_eq(WEXITSTATUS(server_stop(&s, SIGTERM)), 0);
}
END_TEST

/* A server that welcomes a flow and then never says anything again. */
static pid_t mute_server(char *addr, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	probe_proto_addr_parse("127.0.0.1:0", &ss, &sl);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&ss, sl), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	sl = sizeof(ss);
	getsockname(lfd, (struct sockaddr *)&ss, &sl);
	probe_proto_addr_format((struct sockaddr *)&ss, addr, len);
	pid = fork();
	if (pid == 0) {
		int fds[8], nfd = 0;
		for (;;) {
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);
			char buf[PROTO_LINE_MAX];
			struct proto_msg m, w = { .type = PM_WELCOME };
			ssize_t n;
			int fd = accept(lfd, (struct sockaddr *)&peer, &pl);

			if (fd < 0 || nfd == 8) {
				while (nfd)
					close(fds[--nfd]);
				_exit(1);
			}
			fds[nfd++] = fd; /* kept open, never answered */
			n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0 || probe_proto_parse(buf, (size_t)n, &m) < 0 || m.type != PM_HELLO)
				continue;
			w.id = m.id;
			probe_proto_addr_format((struct sockaddr *)&peer, w.addr, sizeof(w.addr));
			n = probe_proto_format(&w, buf, sizeof(buf));
			send(fd, buf, (size_t)n, MSG_NOSIGNAL);
		}
	}
	close(lfd);
	return pid;
}

START_TEST(test_no_answer_is_timeout)
{
	char addr[PROTO_ADDR_MAX];
	pid_t pid = mute_server(addr, sizeof(addr));
	struct client_config cfg;
	struct probe_plan p[] = {
		plan("name=c,idle=1s,deadline=1s,expect=timeout"),
		plan("name=s,idle=1s,deadline=1s,speaker=server,expect=timeout"),
	};
	struct probe_flow_result r[2];
	bool intr;

	cfg_for(&cfg, addr);
	cfg.query_timeout_ms = 300;
	ck_assert_int_eq(probe_client_run(&cfg, p, 2, r, &intr), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	dump(r, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(r[i].outcome, OUT_TIMEOUT);
		ck_assert_str_eq(r[i].noticed_by, "client");
		ck_assert_int_ge(r[i].at_ms, 2000);
		ck_assert_int_lt(r[i].at_ms, 2300);
		ck_assert(!r[i].server.known);
		ck_assert(r[i].met);
	}
}
END_TEST

/* A SYN answered with RST: refused, and the result says the connection
 * never got through (the runner's evidence must not speak of an idle). */
START_TEST(test_refused_never_connected)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char addr[PROTO_ADDR_MAX];
	struct client_config cfg;
	struct probe_plan p[] = { plan("name=r,idle=1s,deadline=1s") };
	struct probe_flow_result r[1];
	bool intr;

	/* a port that was just free: bound, never listening, so refused */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(a.sin_port));
	cfg_for(&cfg, addr);
	cfg.query_timeout_ms = 300;
	ck_assert_int_eq(probe_client_run(&cfg, p, 1, r, &intr), 0);
	close(fd);
	dump(r, 1);
	ck_assert_int_eq(r[0].outcome, OUT_REFUSED);
	ck_assert(!r[0].client.connected);
}
END_TEST

START_TEST(test_combine)
{
	struct probe_flow_result r;

	memset(&r, 0, sizeof(r));
	r.plan.has_expect = true;
	r.plan.expect = OUT_RESET;
	/* client timed out late, the server got RST early: the server's reset wins */
	probe_side_end(&r.client, OUT_TIMEOUT, true, 5000, 1, 0, "no answer");
	r.server.known = true;
	r.server.outcome = OUT_RESET;
	r.server.has_at = true;
	r.server.at_ms = 3;
	r.server.cycle = 1;
	probe_result_combine(&r);
	ck_assert_int_eq(r.outcome, OUT_RESET);
	ck_assert_str_eq(r.noticed_by, "server");
	ck_assert_int_eq(r.at_ms, 3);
	ck_assert(r.met);
	/* an earlier cycle wins over an earlier time */
	r.server.cycle = 2;
	probe_result_combine(&r);
	ck_assert_int_eq(r.outcome, OUT_TIMEOUT);
	ck_assert_str_eq(r.noticed_by, "client");
	ck_assert(!r.met);
	/* alive on the client, rebound on the server: rebound */
	memset(&r, 0, sizeof(r));
	probe_side_end(&r.client, OUT_ALIVE, true, 1000, 1, 0, "ok");
	r.server.known = true;
	r.server.outcome = OUT_REBOUND;
	r.server.has_at = true;
	r.server.at_ms = 1001;
	r.server.cycle = 1;
	probe_result_combine(&r);
	ck_assert_int_eq(r.outcome, OUT_REBOUND);
	ck_assert(r.met); /* no expectation, it ran */
	/* interrupted stays interrupted and is never met */
	memset(&r, 0, sizeof(r));
	probe_side_end(&r.client, OUT_INTERRUPTED, true, 10, 1, 0, "signal");
	probe_result_combine(&r);
	ck_assert_int_eq(r.outcome, OUT_INTERRUPTED);
	ck_assert(!r.met);
	/* classification of errnos */
	ck_assert_int_eq(probe_result_classify_errno(ETIMEDOUT, true), OUT_KA_TIMEOUT);
	ck_assert_int_eq(probe_result_classify_errno(ETIMEDOUT, false), OUT_TIMEOUT);
	ck_assert_int_eq(probe_result_classify_errno(ECONNRESET, false), OUT_RESET);
	ck_assert_int_eq(probe_result_classify_errno(EPIPE, false), OUT_RESET);
	ck_assert_int_eq(probe_result_classify_errno(EHOSTUNREACH, false), OUT_UNREACHABLE);
	ck_assert_int_eq(probe_result_classify_errno(ENETUNREACH, false), OUT_UNREACHABLE);
	ck_assert_int_eq(probe_result_classify_errno(EBADF, false), OUT_ERROR);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("probe_loopback");
	TCase *tc = tcase_create("loopback");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_combine);
	tcase_add_test(tc, test_many_flows);
	tcase_add_test(tc, test_warmup);
	tcase_add_test(tc, test_client_sigusr1_finishes);
	tcase_add_test(tc, test_server_vanishes);
	tcase_add_test(tc, test_server_sigterm_writes_interrupted);
	tcase_add_test(tc, test_strangers);
	tcase_add_test(tc, test_no_answer_is_timeout);
	tcase_add_test(tc, test_refused_never_connected);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
