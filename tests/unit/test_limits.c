// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The limits of a scenario and of what a run carries, and arithmetic that
 * cannot wrap:
 *
 *  - every limit idlegate-scenario(5) lists, on generated scenario files at
 *    the limit (accepted) and one past it (the message that states it, at
 *    its line), and that message as the manual and docs/scenario-format.md
 *    print it;
 *  - the checked sums (common/vec.h, the model's spans) near UINT64_MAX,
 *    INT64_MAX and UINT32_MAX, and every sum of user durations near the
 *    24-day limit;
 *  - growable arrays; results of any size through the worker's pipe, whole,
 *    cut short at every frame and garbled (a clean error, never a crash);
 *  - every report writer on a scenario of hundreds of flow sections.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/duration.h"
#include "common/iniread.h"
#include "common/jsonio.h"
#include "common/vec.h"
#include "runner/model/result.h"
#include "runner/model/resultpipe.h"
#include "runner/model/scenario.h"
#include "runner/util/textutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- generated scenario files ---- */

typedef void (*gen_fn)(struct tu_text *b, unsigned n);

static void gen_mb(struct tu_text *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, "[middlebox m%u]\n", i);
	tu_text_printf(b, "[flow a]\nidle = 1s\nexpect = alive\npath = m0\n");
}

static void gen_flows(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n");
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, "[flow f%u]\nidle = 1s\nexpect = alive\n", i);
}

static void gen_events(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 1h\nexpect = alive\n");
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, "[event e%u]\nat = %us\naction = flush\n", i, i + 1);
}

/* n networks: flows with sysctl.NAME have one each */
static void gen_networks(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n");
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, "[flow f%u]\nidle = 1s\nexpect = alive\nsysctl.net.ipv4.tcp_retries2 = 5\n", i);
}

static void gen_ports(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n");
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, "[flow p%u]\nidle = 1s\nexpect = alive\nport = %u\n", i, 7201 + i);
}

static void gen_path(struct tu_text *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, "[middlebox m%u]\n", i);
	tu_text_printf(b, "[flow a]\nidle = 1s\nexpect = alive\npath =");
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, " m%u", i);
	tu_text_printf(b, "\n");
}

static void gen_count(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive >= 1\ncount = %u\n", n);
}

/* n connections in all, over two groups */
static void gen_connections(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive >= 1\ncount = 50000\n"
		       "[flow b]\nidle = 1s\nexpect = alive >= 1\ncount = %u\n", n - 50000);
}

static void gen_terms(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 1s\ncount = 10\nexpect = alive >= 0");
	for (unsigned i = 1; i < n; i++)
		tu_text_printf(b, ", reset <= %u", i);
	tu_text_printf(b, "\n");
}

static void gen_cycles(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive\ncycles = %u\n", n);
}

static void gen_name(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow %.*s]\nidle = 1s\nexpect = alive\n", (int)n,
		       "abcdefghijklmnopqrstuvwxyz0123456789abcdefghij");
}

static void gen_value(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[scenario]\ndescription = ");
	for (unsigned i = 0; i < n; i++)
		tu_text_printf(b, "x");
	tu_text_printf(b, "\n[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive\n");
}

/* a physical line of n characters: a long command */
static void gen_line(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nexpect = alive\ncommand = true");
	for (unsigned i = strlen("command = true"); i < n - 1; i++)
		tu_text_printf(b, " ");
	tu_text_printf(b, "#\n");
}

static void gen_header(struct tu_text *b, unsigned n)
{
	/* "[flow      a]": n characters between the brackets */
	tu_text_printf(b, "[middlebox m]\n[flow");
	for (unsigned i = strlen("flowa"); i < n; i++)
		tu_text_printf(b, " ");
	tu_text_printf(b, "a]\nidle = 1s\nexpect = alive\n");
}

static void gen_dur(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 1s\nheartbeat = %ums\nexpect = alive\n", n);
}

/* start + idle + deadline = n ms */
static void gen_span(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nstart = 12d\nidle = %ums\ndeadline = 1s\nexpect = alive\n",
		       n - 12 * 86400000u - 1000);
}

/* scaled by 2: start + ramp + 5 x (idle + deadline) is 24d at n = the
 * limit, 10 ms more past it */
static void gen_span_scaled(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[scenario]\ntime_scale = 2\n[middlebox m]\n[flow a]\ncount = 2\nexpect = alive >= 1\n"
		       "start = 1d\nramp = 1d\ncycles = 5\ndeadline = 1s\nidle = %ums\n",
		       172799000u + (n - (unsigned)DURATION_MAX_MS));
}

/* keepalive idle + interval x 127 = n s */
static void gen_ka_span(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 1h\nexpect = alive\nkeepalive = %us,16200s,127\n",
		       n - 16200 * 127);
}

/* at + blackhole = n ms */
static void gen_event_end(struct tu_text *b, unsigned n)
{
	tu_text_printf(b, "[middlebox m]\n[flow a]\nidle = 13d\nexpect = alive\n"
		       "[event e]\nat = 12d\naction = blackhole %ums\n", n - 12 * 86400000u);
}

struct limit {
	const char *what;
	gen_fn gen;
	unsigned at;            /* the limit: accepted */
	const char *msg;        /* one past it: "LINE: message", a %s in it the
				 * duration ms as messages write it */
	uint64_t ms;
	const char *doc;        /* what the manual and docs/scenario-format.md
				 * print: the message, or its words around the
				 * duration; NULL = not there */
};
#define DOC_MSG ""              /* doc: the message itself */

static const struct limit limits[] = {
	{ "middleboxes", gen_mb, SC_MAX_MIDDLEBOXES, "65: too many [middlebox] sections: the limit is 64", 0, DOC_MSG },
	{ "flows", gen_flows, SC_MAX_FLOWS, "3002: too many [flow] sections: the limit is 1000", 0, DOC_MSG },
	{ "events", gen_events, SC_MAX_EVENTS, "3005: too many [event] sections: the limit is 1000", 0, DOC_MSG },
	{ "networks", gen_networks, SC_MAX_NETWORKS,
	  "130: [flow f32] needs network 33: the limit is 32 networks (distinct paths, and flows with sysctl.NAME)",
	  0, "needs network 33: the limit is 32 networks (distinct paths, and flows with sysctl.NAME)" },
	{ "ports", gen_ports, SC_MAX_PORTS,
	  "37: [flow p8]: port 7209 is one server port more than a network takes: the limit is 8", 0,
	  "is one server port more than a network takes: the limit is 8" },
	{ "path", gen_path, SC_MAX_PATH, "9: path: more than 4 middleboxes", 0, DOC_MSG },
	{ "count", gen_count, SC_MAX_COUNT, "5: count: '100001' is not a count from 1 to 100000", 0,
	  "is not a count from 1 to 100000" },
	{ "connections", gen_connections, SC_MAX_CONNECTIONS,
	  "9: [flow b] brings the scenario to 100001 connections; the limit is 100000", 0,
	  "connections; the limit is 100000" },
	{ "counted terms", gen_terms, SC_MAX_COUNTED, "5: expect: at most 8 terms", 0, DOC_MSG },
	{ "cycles", gen_cycles, 1000, "5: cycles: '1001' is not a count from 1 to 1000", 0,
	  "is not a count from 1 to 1000" },
	{ "name", gen_name, SC_NAME_MAX - 1,
	  "2: invalid flow name 'abcdefghijklmnopqrstuvwxyz012345': use letters, digits, '.', '_', '-', "
	  "starting with a letter or digit, at most 31 characters", 0, "at most 31 characters" },
	{ "value", gen_value, SC_VALUE_MAX - 1, "2: description: 200 characters; the limit is 199", 0,
	  "characters; the limit is 199" },
	{ "line", gen_line, INIREAD_MAX_LONG_LINE, "4: line is 4096 characters long; the limit is 4095", 0,
	  "characters long; the limit is 4095" },
	{ "section header", gen_header, INIREAD_MAX_SECTION,
	  "2: section header is 50 characters long; the limit is 49", 0,
	  "section header is 50 characters long; the limit is 49" },
	{ "duration", gen_dur, DURATION_MAX_MS, "4: heartbeat: 2073600001ms is above the limit of 24d", 0,
	  "is above the limit of 24d" },
	{ "flow span", gen_span, DURATION_MAX_MS,
	  "2: [flow a]: start + cycles x (idle + deadline) is %s, above the limit of 24d for a run",
	  DURATION_MAX_MS + 1, "cycles x (idle + deadline) is" },
	{ "scaled span", gen_span_scaled, DURATION_MAX_MS,
	  "4: [flow a]: start + ramp + cycles x (idle + deadline) is %s, above the limit of 24d for a run",
	  DURATION_MAX_MS + 10, "start + ramp + cycles x (idle + deadline) is" },
	{ "keepalive span", gen_ka_span, DURATION_MAX_MS / 1000,
	  "5: keepalive: idle + interval x count is %s, above the limit of 24d for a run",
	  DURATION_MAX_MS + 1000, "keepalive: idle + interval x count is" },
	{ "event end", gen_event_end, DURATION_MAX_MS,
	  "5: [event e]: at + blackhole is %s, above the limit of 24d for a run",
	  DURATION_MAX_MS + 1, "at + blackhole is" },
};

static char *all_diags(const struct ini_diags *dg)
{
	struct tu_text b = { 0 };

	for (size_t i = 0; i < dg->n; i++)
		tu_text_printf(&b, "%d: %s\n", dg->d[i].line, dg->d[i].msg);
	tu_text_printf(&b, "%s", "");
	return b.s;
}

/* The message part of "LINE: message". */
static const char *msg_text(const char *m)
{
	return strstr(m, ": ") + 2;
}

/* fmt with its %s (if any) the duration ms, as messages write it */
static char *with_ms(const char *fmt, uint64_t ms)
{
	char d[32], *out = malloc(strlen(fmt) + 32);

	duration_format(ms, d, sizeof(d));
	sprintf(out, strstr(fmt, "%s") ? fmt : "%s", strstr(fmt, "%s") ? d : fmt);
	return out;
}

START_TEST(t_limit)
{
	const struct limit *l = &limits[_i];
	char *want = with_ms(l->msg, l->ms);
	struct ini_diags dg;
	struct scenario *sc;
	char *all;

	for (unsigned past = 0; past < 2; past++) {
		struct tu_text b = { 0 };

		l->gen(&b, l->at + past);
		sc = scenario_parse(b.s, b.len, "gen.ini", NULL, &dg);
		all = all_diags(&dg);
		if (!past)
			ck_assert_msg(sc, "%s at the limit %u refused:\n%s", l->what, l->at, all);
		else
			ck_assert_msg(!sc && strstr(all, want), "%s one past the limit %u: want\n%s\ngot\n%s",
				      l->what, l->at, want, all);
		/* the message appears only past the limit */
		ck_assert(past || !strstr(all, msg_text(want)));
		free(all);
		free(b.s);
		scenario_free(sc);
	}
	free(want);
}
END_TEST

/* A file of SC_MAX_FILE_BYTES loads; one byte more is refused. */
START_TEST(t_file_size)
{
	char path[] = "/tmp/test_limits.XXXXXX";
	int fd = mkstemp(path);
	const char *body = "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive\n";
	struct ini_diags dg;
	struct scenario *sc;
	size_t n = strlen(body);

	char *file = malloc(SC_MAX_FILE_BYTES);

	ck_assert_int_ge(fd, 0);
	memcpy(file, body, n);
	for (; n < SC_MAX_FILE_BYTES; n++)      /* comment lines up to the limit */
		file[n] = n % 64 == 63 ? '\n' : ';';
	ck_assert_int_eq(write(fd, file, n), (ssize_t)n);
	free(file);
	close(fd);
	sc = scenario_load(path, &dg);
	ck_assert_msg(sc, "%s", dg.n ? dg.d[0].msg : "?");
	scenario_free(sc);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "\n", 1), 1);
	close(fd);
	sc = scenario_load(path, &dg);
	ck_assert_ptr_null(sc);
	ck_assert_str_eq(dg.d[0].msg, "file is larger than 1048576 bytes");
	unlink(path);
}
END_TEST

/* Roff to plain text, enough for messages: \- \e \& \(aq. */
static char *unroff(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	while (*s) {
		if (!strncmp(s, "\\-", 2) || !strncmp(s, "\\e", 2)) {
			*o++ = s[1] == '-' ? '-' : '\\';
			s += 2;
		} else if (!strncmp(s, "\\&", 2)) {
			s += 2;
		} else if (!strncmp(s, "\\(aq", 4)) {
			*o++ = '\'';
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_msg(f, "%s", path);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The manual and the format document print each limit's message. */
START_TEST(t_limits_documented)
{
	char *man_roff = slurp("docs/man/idlegate-scenario.5"), *man = unroff(man_roff);
	char *md = slurp("docs/scenario-format.md");

	for (size_t i = 0; i < N(limits); i++) {
		const char *doc = *limits[i].doc ? limits[i].doc : msg_text(limits[i].msg);

		ck_assert_msg(strstr(man, doc), "idlegate-scenario(5) lacks: %s", doc);
		ck_assert_msg(strstr(md, doc), "docs/scenario-format.md lacks: %s", doc);
	}
	ck_assert(strstr(man, "file is larger than 1048576 bytes"));
	ck_assert(strstr(md, "file is larger than 1048576 bytes"));
	free(man_roff);
	free(man);
	free(md);
}
END_TEST

/* ---- arithmetic ---- */

START_TEST(t_saturating)
{
	ck_assert_uint_eq(sat_add(UINT64_MAX - 1, 1), UINT64_MAX);
	ck_assert_uint_eq(sat_add(UINT64_MAX - 1, 2), UINT64_MAX);
	ck_assert_uint_eq(sat_add(UINT64_MAX, UINT64_MAX), UINT64_MAX);
	ck_assert_uint_eq(sat_add(INT64_MAX, (uint64_t)INT64_MAX + 1), UINT64_MAX);
	ck_assert_uint_eq(sat_add(INT64_MAX, INT64_MAX), UINT64_MAX - 1);
	ck_assert_uint_eq(sat_add(UINT32_MAX, UINT32_MAX), 2ull * UINT32_MAX);
	ck_assert_uint_eq(sat_mul((uint64_t)UINT32_MAX + 1, (uint64_t)UINT32_MAX + 1), UINT64_MAX);
	ck_assert_uint_eq(sat_mul(UINT32_MAX, (uint64_t)UINT32_MAX + 2), UINT64_MAX);
	ck_assert_uint_eq(sat_mul(UINT32_MAX, UINT32_MAX), (uint64_t)UINT32_MAX * UINT32_MAX);
	ck_assert_uint_eq(sat_mul(INT64_MAX, 2), UINT64_MAX - 1);
	ck_assert_uint_eq(sat_mul((uint64_t)INT64_MAX + 1, 2), UINT64_MAX);
	ck_assert_uint_eq(sat_mul(UINT64_MAX, 0), 0);
	ck_assert_uint_eq(sat_mul(0, UINT64_MAX), 0);
	ck_assert_uint_eq(sat_mul(UINT64_MAX, 1), UINT64_MAX);
}
END_TEST

static struct sc_flow flow_of(uint64_t start, uint64_t ramp, unsigned cycles, uint64_t idle, uint64_t deadline,
			      unsigned count)
{
	struct sc_flow f = { .cycles = cycles, .count = count };

	f.start.ms = f.start.scaled_ms = start;
	f.ramp.ms = f.ramp.scaled_ms = ramp;
	f.idle.ms = f.idle.scaled_ms = idle;
	f.deadline.ms = f.deadline.scaled_ms = deadline;
	return f;
}

/* The model's sums near the limits of their types: exact, or UINT64_MAX. */
START_TEST(t_spans)
{
	struct sc_flow f = flow_of(0, 0, 1, UINT64_MAX - 1, 1, 1);
	struct sc_event e = { 0 };

	ck_assert_uint_eq(sc_flow_span_ms(&f, true), UINT64_MAX);
	f = flow_of(0, 0, 1, UINT64_MAX - 2, 1, 1);
	ck_assert_uint_eq(sc_flow_span_ms(&f, false), UINT64_MAX - 1);
	f = flow_of(0, 0, UINT32_MAX, (uint64_t)UINT32_MAX + 1, (uint64_t)UINT32_MAX + 1, 1);
	ck_assert_uint_eq(sc_flow_span_ms(&f, true), UINT64_MAX);
	f = flow_of(0, 0, UINT32_MAX, UINT32_MAX, 0, 1);
	ck_assert_uint_eq(sc_flow_span_ms(&f, true), (uint64_t)UINT32_MAX * UINT32_MAX);
	f = flow_of(INT64_MAX, INT64_MAX, 1, 1, 0, 2);
	ck_assert_uint_eq(sc_flow_span_ms(&f, true), UINT64_MAX);
	f = flow_of(INT64_MAX, (uint64_t)INT64_MAX - 1, 1, 1, 0, 2);
	ck_assert_uint_eq(sc_flow_span_ms(&f, true), UINT64_MAX - 1);
	f = flow_of(1000, DURATION_MAX_MS, 1000, DURATION_MAX_MS, DURATION_MAX_MS, 100000);
	ck_assert_uint_eq(sc_flow_span_ms(&f, true), 1000 + DURATION_MAX_MS + 1000 * 2 * DURATION_MAX_MS);
	/* a connection's start: ramp x k does not wrap */
	ck_assert_uint_eq(sc_conn_start_ms(&f, 99999, true), 1000 + DURATION_MAX_MS);
	ck_assert_uint_eq(sc_conn_start_ms(&f, 0, true), 1000);
	ck_assert_uint_eq(sc_conn_start_ms(&f, 50000, true), 1000 + DURATION_MAX_MS * 50000 / 99999);
	f = flow_of(UINT64_MAX - 5, UINT64_MAX, 1, 0, 0, 3);
	ck_assert_uint_eq(sc_conn_start_ms(&f, 1, true), UINT64_MAX);
	f = flow_of(0, UINT64_MAX / 2, 1, 0, 0, UINT32_MAX);
	ck_assert_uint_eq(sc_conn_start_ms(&f, UINT32_MAX - 1, false), UINT64_MAX / (UINT32_MAX - 1));
	/* keepalive idle + interval x count */
	f.keepalive = SC_KA_SET;
	f.ka_idle.scaled_ms = UINT64_MAX - 10;
	f.ka_intvl.scaled_ms = 5;
	f.ka_count = 2;
	ck_assert_uint_eq(sc_ka_span_ms(&f, true), UINT64_MAX);
	f.ka_count = 1;
	ck_assert_uint_eq(sc_ka_span_ms(&f, true), UINT64_MAX - 5);
	f.ka_idle.scaled_ms = 1;
	f.ka_intvl.scaled_ms = (uint64_t)INT64_MAX;
	f.ka_count = 127;
	ck_assert_uint_eq(sc_ka_span_ms(&f, true), UINT64_MAX);
	f.keepalive = SC_KA_OFF;
	ck_assert_uint_eq(sc_ka_span_ms(&f, true), 0);
	/* an event's end */
	e.at.ms = UINT64_MAX;
	e.duration.ms = 1;
	ck_assert_uint_eq(sc_event_end_ms(&e, false), UINT64_MAX);
	e.at.ms = UINT64_MAX - 1;
	ck_assert_uint_eq(sc_event_end_ms(&e, false), UINT64_MAX);
	e.at.ms = UINT64_MAX - 2;
	ck_assert_uint_eq(sc_event_end_ms(&e, false), UINT64_MAX - 1);
}
END_TEST

/* Every sum of user durations at and just past the 24-day limit. */
static const struct {
	const char *ini, *err;          /* err NULL: accepted; a %s in it: ms */
	uint64_t ms;
} sums[] = {
	/* cycles x (idle + deadline) */
	{ "[middlebox m]\n[flow a]\ncycles = 2\nidle = 11d23h59m30s\ndeadline = 30s\nexpect = alive\n", NULL, 0 },
	{ "[middlebox m]\n[flow a]\ncycles = 2\nidle = 11d23h59m30.001s\ndeadline = 30s\nexpect = alive\n",
	  "2: [flow a]: cycles x (idle + deadline) is %s, above the limit of 24d for a run", DURATION_MAX_MS + 2 },
	{ "[middlebox m]\n[flow a]\ncycles = 1000\nidle = 24d\ndeadline = 24d\nexpect = alive\n",
	  "2: [flow a]: cycles x (idle + deadline) is %s, above the limit of 24d for a run", 1000 * 2 * DURATION_MAX_MS },
	/* ramp + start of a group */
	{ "[middlebox m]\n[flow a]\ncount = 100000\nstart = 12d\nramp = 11d23h59m\nidle = 30s\n"
	  "expect = alive >= 1\n", NULL, 0 },
	{ "[middlebox m]\n[flow a]\ncount = 100000\nstart = 12d\nramp = 11d23h59m\nidle = 30.001s\n"
	  "expect = alive >= 1\n",
	  "2: [flow a]: start + ramp + cycles x (idle + deadline) is %s, above the limit of 24d for a run", DURATION_MAX_MS + 1 },
	{ "[middlebox m]\n[flow a]\ncount = 2\nramp = 24d\nidle = 1s\nexpect = alive >= 1\n",
	  "2: [flow a]: ramp + cycles x (idle + deadline) is %s, above the limit of 24d for a run", DURATION_MAX_MS + 31000 },
	/* time_scale: each value and the sums after scaling */
	{ "[scenario]\ntime_scale = 1000\n[middlebox m]\n[flow a]\nstart = 2073600ms\nidle = 1ms\n"
	  "deadline = 1ms\nexpect = alive\n",
	  "4: [flow a]: start + cycles x (idle + deadline) is %s, above the limit of 24d for a run", DURATION_MAX_MS + 2000 },
	{ "[scenario]\ntime_scale = 1000\n[middlebox m]\n[flow a]\ncount = 2\nramp = 2073601ms\nidle = 1s\n"
	  "expect = alive >= 1\n", " scaled by 1000 is %s, above the limit of 24d", DURATION_MAX_MS + 1000 },
	{ "[scenario]\ntime_scale = 1/1000000\n[middlebox m]\n[flow a]\ncount = 100000\nstart = 24d\nramp = 24d\n"
	  "cycles = 1000\nidle = 24d\ndeadline = 24d\nexpect = alive >= 1\n", NULL, 0 },
	/* keepalive idle + interval x count */
	{ "[middlebox m]\n[flow a]\nidle = 1h\nexpect = alive\nkeepalive = 16200s,16200s,127\n", NULL, 0 },
	{ "[middlebox m]\n[flow a]\nidle = 1h\nexpect = alive\nkeepalive = 32767s,32767s,127\n",
	  "5: keepalive: idle + interval x count is %s, above the limit of 24d for a run", 32767000ull * 128 },
	/* at + blackhole */
	{ "[middlebox m]\n[flow a]\nidle = 13d\nexpect = alive\n[event e]\nat = 12d\naction = blackhole 12d\n", NULL, 0 },
	{ "[middlebox m]\n[flow a]\nidle = 13d\nexpect = alive\n[event e]\nat = 12d\naction = blackhole 12d1ms\n",
	  "5: [event e]: at + blackhole is %s, above the limit of 24d for a run", DURATION_MAX_MS + 1 },
	/* a timeout against the whole span */
	{ "[scenario]\ntimeout = 24d\n[middlebox m]\n[flow a]\ncount = 2\nstart = 1d\nramp = 1d\nidle = 1d\n"
	  "expect = alive >= 1\n", NULL, 0 },
	{ "[scenario]\ntimeout = 3d\n[middlebox m]\n[flow a]\ncount = 2\nstart = 1d\nramp = 1d\nidle = 1d\n"
	  "expect = alive >= 1\n",
	  "is not longer than the %s the flow a needs (start + ramp + cycles x (idle + deadline))",
	  3 * 86400000 + 30000 },
};

START_TEST(t_sums)
{
	struct ini_diags dg;
	struct scenario *sc = scenario_parse(sums[_i].ini, strlen(sums[_i].ini), "sum.ini", NULL, &dg);
	char *all = all_diags(&dg), *want = sums[_i].err ? with_ms(sums[_i].err, sums[_i].ms) : NULL;

	if (!want)
		ck_assert_msg(sc, "case %d refused:\n%s", _i, all);
	else
		ck_assert_msg(!sc && strstr(all, want), "case %d: want\n%s\ngot\n%s", _i, want, all);
	free(want);
	if (sc)
		ck_assert_uint_le(scenario_estimate_ms(sc), DURATION_MAX_MS);
	free(all);
	scenario_free(sc);
}
END_TEST

/* The longest expectation and tally fit a flow result whole. */
START_TEST(t_longest_texts)
{
	static const char ini[] = "[middlebox m]\n[flow a]\nidle = 1s\nkeepalive = 10s,10s,3\ncount = 100000\n"
		/* written tight (199 characters), formatted wider */
		"expect=keepalive-timeout>=100000,connect-timeout<=100000,keepalive-timeout=100000,"
		"connect-timeout>=99999,keepalive-timeout<=99999,connect-timeout=99999,"
		"unreachable>=9999,unreachable<=99\n";
	struct ini_diags dg;
	struct scenario *sc = scenario_parse(ini, strlen(ini), "t.ini", NULL, &dg);
	struct flow_result fr;
	char want[512];

	ck_assert_msg(sc, "%s", dg.n ? dg.d[0].msg : "?");
	ck_assert_uint_eq(sc->flows[0].ncounted, SC_MAX_COUNTED);
	sc_expect_format(&sc->flows[0], want, sizeof(want));
	sc_expect_format(&sc->flows[0], fr.expected, sizeof(fr.expected));
	ck_assert_str_eq(fr.expected, want);
	ck_assert_uint_gt(strlen(want), 199);
	/* a tally of every outcome, 100000 each, and the connections not run */
	ck_assert_uint_lt(SC_EXPECT_N * strlen("100000 keepalive-timeout, ") + strlen("100000 not run"),
			  sizeof(fr.observed));
	scenario_free(sc);
}
END_TEST

/* ---- growable arrays ---- */

START_TEST(t_vec)
{
	int *a = NULL;
	size_t cap = 0, n = 0;

	for (int i = 0; i < 100000; i++) {
		ck_assert_int_eq(vec_reserve(&a, &cap, n + 1, sizeof(*a)), 0);
		ck_assert_uint_ge(cap, n + 1);
		ck_assert_int_eq(a[n], 0);      /* new slots are zeroed */
		a[n++] = i;
	}
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(a[i], i);
	ck_assert_uint_le(cap, 2 * n);
	/* a size that does not fit: ENOMEM, the array as it was */
	errno = 0;
	ck_assert_int_eq(vec_reserve(&a, &cap, SIZE_MAX / 2, sizeof(*a)), -1);
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_int_eq(a[99999], 99999);
	ck_assert_int_eq(vec_reserve(&a, &cap, 10, sizeof(*a)), 0);    /* already room */
	free(a);
}
END_TEST

/* ---- results through the pipe ---- */

static struct scenario *sc_many;
static const unsigned MANY = 600;

static void setup(void)
{
	struct tu_text b = { 0 };
	struct ini_diags dg;

	gen_flows(&b, MANY);
	sc_many = scenario_parse(b.s, b.len, "many.ini", NULL, &dg);
	ck_assert_ptr_nonnull(sc_many);
	free(b.s);
}

static void teardown(void)
{
	scenario_free(sc_many);
}

/* A result of every flow of sc_many, with marks marks and 100 group
 * points. */
static void big_result(struct scenario_result *r, size_t marks)
{
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(result_init_error(r, sc_many, "x"), 0);
	r->status = RES_FAIL;
	for (size_t i = 0; i < r->nflows; i++) {
		struct flow_result *f = &r->flows[i];

		f->status = i % 3 ? RES_PASS : RES_FAIL;
		snprintf(f->observed, sizeof(f->observed), "%s", i % 3 ? "alive" : "reset");
		snprintf(f->evidence, sizeof(f->evidence), "flow %zu <&>", i);
		f->error[0] = '\0';
		f->expired_ms = (int64_t)i;
	}
	for (size_t i = 0; i < marks; i++) {
		struct tl_mark m = { .t_ms = i, .kind = TL_DATA, .flow = (int)(i % MANY), .middlebox = 0,
				     .dir = (int)(i % 2) };

		snprintf(m.detail, sizeof(m.detail), "m%zu", i);
		ck_assert_int_eq(result_mark(r, &m), 0);
	}
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(result_group_point(r, i, (uint64_t)i * 10, i % GROUP_KINDS), 0);
}

static int no_other(void *ctx, char type, const char *p, uint32_t len, char *bad, size_t badlen)
{
	(void)ctx; (void)type; (void)p; (void)len; (void)bad; (void)badlen;
	return -1;
}

/* The bytes resultpipe_send() writes for r. */
static char *wire_bytes(const struct scenario_result *r, size_t *len)
{
	int fd = memfd_create("wire", 0);
	char *buf;
	off_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(resultpipe_send(fd, r), 0);
	n = lseek(fd, 0, SEEK_END);
	buf = malloc((size_t)n);
	ck_assert_int_eq(pread(fd, buf, (size_t)n, 0), n);
	close(fd);
	*len = (size_t)n;
	return buf;
}

/* Feed buf[0..len) in pieces of step bytes; the reader's state after. */
static void feed(struct resultpipe_in *in, struct scenario_result *got, const char *buf, size_t len, size_t step)
{
	memset(in, 0, sizeof(*in));
	memset(got, 0, sizeof(*got));
	for (size_t off = 0; off < len; off += step)
		resultpipe_feed(in, buf + off, len - off < step ? len - off : step, got, sc_many, no_other, NULL);
}

START_TEST(t_pipe_whole)
{
	struct scenario_result r, got;
	struct resultpipe_in in;
	size_t len;
	char *buf;

	big_result(&r, 30000);          /* 3.6 MB of marks: several frames */
	buf = wire_bytes(&r, &len);
	ck_assert_uint_gt(len, 3 * RP_FRAME_MAX);
	for (size_t step = 1; step <= len; step = step * 7 + 3) {
		if (step < 1000 && step > 10)
			continue;       /* byte by byte once, then larger pieces */
		feed(&in, &got, buf, len, step);
		ck_assert_msg(in.done && !in.bad[0], "step %zu: %s", step, in.bad);
		ck_assert_uint_eq(got.nflows, MANY);
		ck_assert_uint_eq(got.nmarks, 30000);
		ck_assert_ptr_eq(got.sc, sc_many);
		ck_assert_int_eq(got.status, RES_FAIL);
		ck_assert_str_eq(got.flows[MANY - 1].evidence, r.flows[MANY - 1].evidence);
		ck_assert_str_eq(got.marks[29999].detail, "m29999");
		ck_assert_uint_eq(got.npoints, 100);
		ck_assert_int_eq(got.points[99].kind, 99 % GROUP_KINDS);
		resultpipe_in_free(&in);
		result_clear(&got);
	}
	free(buf);
	result_clear(&r);
}
END_TEST

/* Cut short anywhere: no result, no complaint (the worker died); the
 * caller says so. */
START_TEST(t_pipe_cut)
{
	struct scenario_result r, got;
	struct resultpipe_in in;
	size_t len;
	char *buf;

	big_result(&r, 9000);
	buf = wire_bytes(&r, &len);
	for (size_t cut = 0; cut < len; cut += cut < 64 ? 1 : 4093) {
		feed(&in, &got, buf, cut, 65536);
		ck_assert_msg(!in.done, "a result from %zu of %zu bytes", cut, len);
		ck_assert_msg(!in.bad[0], "cut at %zu: %s", cut, in.bad);
		ck_assert_uint_eq(got.nflows, 0);
		resultpipe_in_free(&in);
		result_clear(&got);
	}
	feed(&in, &got, buf, len - 1, 65536);
	ck_assert(!in.done);
	resultpipe_in_free(&in);
	free(buf);
	result_clear(&r);
}
END_TEST

/* Garbled: a length, a type, counts, indexes, unterminated strings. */
START_TEST(t_pipe_garbled)
{
	struct scenario_result r, got;
	struct resultpipe_in in;
	size_t len;
	char *buf, *bad;
	uint32_t huge = RP_FRAME_MAX + 1;

	big_result(&r, 10);
	buf = wire_bytes(&r, &len);
	bad = malloc(len);

	memcpy(bad, buf, len);
	memcpy(bad + 1, &huge, sizeof(huge));           /* the first frame's length */
	feed(&in, &got, bad, len, 4096);
	ck_assert(!in.done);
	ck_assert_str_eq(in.bad, "a frame of 1048577 bytes");
	resultpipe_in_free(&in);

	/* an empty frame of marks before the result is nothing, not a fault */
	{
		char *with = malloc(len + RP_FRAME_HDR);

		memcpy(with, "M\0\0\0\0", RP_FRAME_HDR);
		memcpy(with + RP_FRAME_HDR, buf, len);
		feed(&in, &got, with, len + RP_FRAME_HDR, 4096);
		ck_assert_msg(in.done && !in.bad[0], "%s", in.bad);
		resultpipe_in_free(&in);
		result_clear(&got);
		free(with);
	}

	memcpy(bad, buf, len);
	bad[0] = 'Z';                                   /* an unknown type */
	feed(&in, &got, bad, len, 4096);
	ck_assert(!in.done);
	ck_assert_str_eq(in.bad, "a frame of type 0x5a");
	resultpipe_in_free(&in);

	/* a flow result of a flow the scenario does not have */
	r.flows[5].flow = (int)MANY;
	free(buf);
	buf = wire_bytes(&r, &len);
	feed(&in, &got, buf, len, 4096);
	ck_assert(!in.done);
	ck_assert_str_eq(in.bad, "a garbled flow result");
	resultpipe_in_free(&in);
	r.flows[5].flow = 5;

	/* an unterminated string, a mark of no middlebox */
	memset(r.flows[7].observed, 'x', sizeof(r.flows[7].observed));
	free(buf);
	buf = wire_bytes(&r, &len);
	feed(&in, &got, buf, len, 4096);
	ck_assert_str_eq(in.bad, "a garbled flow result");
	resultpipe_in_free(&in);
	r.flows[7].observed[0] = '\0';
	r.marks[3].middlebox = 7;
	free(buf);
	buf = wire_bytes(&r, &len);
	feed(&in, &got, buf, len, 4096);
	ck_assert_str_eq(in.bad, "a garbled timeline mark");
	resultpipe_in_free(&in);
	r.marks[3].middlebox = 0;
	r.points[4].kind = GROUP_KINDS;                 /* a group point of no kind */
	free(buf);
	buf = wire_bytes(&r, &len);
	feed(&in, &got, buf, len, 4096);
	ck_assert_str_eq(in.bad, "a garbled group point");
	resultpipe_in_free(&in);
	r.points[4].kind = 0;

	/* more flows than the scenario has: refused before they are kept */
	free(buf);
	ck_assert_ptr_nonnull(result_flow_add(&r));
	r.flows[MANY].flow = 0;
	buf = wire_bytes(&r, &len);
	feed(&in, &got, buf, len, 4096);
	ck_assert_str_eq(in.bad, "more flow results than the scenario's 600 flows");
	resultpipe_in_free(&in);
	r.nflows--;

	/* a result frame whose counts do not match what came before it */
	free(buf);
	buf = wire_bytes(&r, &len);
	{
		struct scenario_result hdr;
		size_t at = len - sizeof(hdr);

		memcpy(&hdr, buf + at, sizeof(hdr));
		hdr.nmarks++;
		memcpy(buf + at, &hdr, sizeof(hdr));
	}
	feed(&in, &got, buf, len, 4096);
	ck_assert(!in.done);
	ck_assert_str_eq(in.bad, "600 of 600 flow results, 10 of 11 marks and 100 of 100 group points arrived");
	resultpipe_in_free(&in);

	/* every byte flipped in turn: a result that is sound, or a reason */
	free(bad);
	free(buf);
	r.nmarks = 2;
	r.npoints = 2;
	r.nflows = 3;                   /* small: every byte of it, or nearly */
	buf = wire_bytes(&r, &len);
	bad = malloc(len);
	for (size_t at = 0; at < len; at += at < 64 ? 1 : 7) {
		memcpy(bad, buf, len);
		bad[at] ^= 0x5a;
		feed(&in, &got, bad, len, 1000);
		if (in.done)
			ck_assert_int_eq(result_check(&got, sc_many, (char[64]){ 0 }, 64), 0);
		resultpipe_in_free(&in);
		result_clear(&got);
	}
	free(bad);
	free(buf);
	result_clear(&r);
}
END_TEST

/* ---- reports of hundreds of flows ---- */

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

START_TEST(t_reports_many)
{
	struct scenario_result r;
	char dir[] = "/tmp/test_limits.XXXXXX", path[256], *text, *buf = NULL;
	size_t blen = 0;
	FILE *f;
	json_t *js;

	big_result(&r, 5 * MANY);
	ck_assert_ptr_nonnull(mkdtemp(dir));

	snprintf(path, sizeof(path), "%s/r.json", dir);
	ck_assert_int_eq(report_json(path, &r, 1), 0);
	text = slurp(path);
	js = jsonio_load(text, strlen(text), (char[160]){ 0 }, 160);
	ck_assert_ptr_nonnull(js);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(json_object_get(js, "scenarios"), 0),
							  "flows")), MANY);
	json_decref(js);
	free(text);

	snprintf(path, sizeof(path), "%s/r.xml", dir);
	ck_assert_int_eq(report_junit(path, &r, 1), 0);
	text = slurp(path);
	ck_assert_uint_eq(count_of(text, "<testcase "), MANY);
	ck_assert_uint_eq(count_of(text, "<failure "), MANY / 3);
	free(text);

	snprintf(path, sizeof(path), "%s/r.html", dir);
	ck_assert_int_eq(report_html(path, &r, 1), 0);
	text = slurp(path);
	ck_assert_uint_eq(count_of(text, "<tr class=\"FAILrow\">"), 2 * MANY / 3);  /* summary and section */
	free(text);

	ck_assert_int_eq(report_svg(dir, &r, 1), 0);
	snprintf(path, sizeof(path), "%s/many.svg", dir);
	text = slurp(path);
	ck_assert_msg(strstr(text, "f599"), "the last flow's lane");
	free(text);

	f = open_memstream(&buf, &blen);
	report_tap(f, &r, 1);
	fclose(f);
	ck_assert(strstr(buf, "1..600\n"));
	ck_assert_uint_eq(count_of(buf, "\nnot ok "), MANY / 3);
	free(buf);

	f = open_memstream(&buf, &blen);
	report_terminal(f, &r, 1, false);
	fclose(f);
	ck_assert_uint_eq(count_of(buf, "FAIL\n"), MANY / 3);
	ck_assert(strstr(buf, "f599 "));
	free(buf);

	f = open_memstream(&buf, &blen);
	ck_assert_uint_eq(report_annotate(f, &r, 1, ANNOTATE_GITLAB), MANY / 3);
	fclose(f);
	free(buf);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(path), 0);
	result_clear(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("limits");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, t_limit, 0, (int)N(limits));
	tcase_add_test(tc, t_file_size);
	tcase_add_test(tc, t_limits_documented);
	tcase_add_test(tc, t_saturating);
	tcase_add_test(tc, t_spans);
	tcase_add_loop_test(tc, t_sums, 0, (int)N(sums));
	tcase_add_test(tc, t_longest_texts);
	tcase_add_test(tc, t_vec);
	tcase_add_test(tc, t_pipe_whole);
	tcase_add_test(tc, t_pipe_cut);
	tcase_add_test(tc, t_pipe_garbled);
	tcase_add_test(tc, t_reports_many);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
