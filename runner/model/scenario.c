// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The scenario parser and checker: turns an INI file into struct scenario,
 * or into a list of "file:line: message" diagnostics that tell the user
 * exactly what to change. See scenario.h and docs/scenario-format.md.
 *
 * Two passes: while inih walks the file, each key is checked on its own
 * (syntax, known key, value); afterwards everything that depends on other
 * sections is checked (profiles, paths, event targets, combinations, time
 * scaling), because sections may come in any order.
 */
#include "runner/model/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/profile.h"
#include "common/vec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Keys of each section; the index is the slot of its line in the context. */
enum { SK_DESCRIPTION, SK_TIME_SCALE, SK_TIMEOUT, SK_IPV4_NET, SK_IPV6_NET, SK_MAX };
static const char *const scenario_keys[SK_MAX] = {
	"description", "time_scale", "timeout", "ipv4_net", "ipv6_net",
};
enum {
	FK_PROTO, FK_FAMILY, FK_KEEPALIVE, FK_TCP_USER_TIMEOUT, FK_HEARTBEAT, FK_IDLE,
	FK_SPEAKER, FK_CYCLES, FK_DEADLINE, FK_EXPECT, FK_PATH, FK_PORT, FK_COMMAND,
	FK_SERVER_COMMAND, FK_SERVER_HEARTBEAT, FK_RUN_AS, FK_EXPECT_EXIT, FK_EXPECT_OUTPUT, FK_SCALE_PROGRAM,
	FK_COUNT, FK_START, FK_RAMP, FK_WARMUP, FK_MAX
};
static const char *const flow_keys[FK_MAX] = {
	"proto", "family", "keepalive", "tcp_user_timeout", "heartbeat", "idle",
	"speaker", "cycles", "deadline", "expect", "path", "port", "command",
	"server_command", "server_heartbeat", "run_as", "expect_exit", "expect_output", "scale_program",
	"count", "start", "ramp", "warmup",
};
enum { EK_AT, EK_ACTION, EK_MIDDLEBOX, EK_MAX };
static const char *const event_keys[EK_MAX] = { "at", "action", "middlebox" };

static const char *const section_kinds[] = { "scenario", "middlebox", "flow", "event" };
static const char *const proto_names[] = { "tcp", "udp" };
static const char *const family_names[] = { "ipv4", "ipv6" };
static const char *const speaker_names[] = { "client", "server" };
static const char *const expect_names[] = {
	"alive", "reset", "timeout", "keepalive-timeout", "rebound", "unreachable", "closed",
	"refused", "connect-timeout",
};
_Static_assert(sizeof(expect_names) / sizeof(expect_names[0]) == SC_EXPECT_N, "SC_EXPECT_N");
static const char *const action_names[] = { "flush", "expire", "set", "blackhole" };

#define DEFAULT_DEADLINE_MS 30000u
#define MIN_SCALED_DEADLINE_MS 1000u
#define KERNEL_KA_MAX_S 32767u          /* MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL */
#define KERNEL_KA_MAX_COUNT 127u        /* MAX_TCP_KEEPCNT */

enum sec_kind { SEC_NONE, SEC_IGNORE, SEC_SCENARIO, SEC_MB, SEC_FLOW, SEC_EVENT };

/* What the parser keeps of a [flow] / [event] beyond the model: the line of
 * each key (0 = absent), and values resolved once every section is read. */
struct flow_parse {
	int line[FK_MAX];
	char path_text[SC_VALUE_MAX];
};
struct event_parse {
	int line[EK_MAX];
	char action_text[SC_VALUE_MAX];
	char evmb_text[SC_VALUE_MAX];
};

struct pctx {
	struct iniread r;
	struct ini_diags *dg;
	struct scenario *sc;
	const char *basedir;

	enum sec_kind kind;
	int idx;                        /* index of the current mb/flow/event */
	char where[80];                 /* "[flow a]" for messages */

	int scenario_line;              /* of the [scenario] header, 0 if none */
	int sk_line[SK_MAX];
	struct flow_parse *fp;          /* [sc->nflows] */
	size_t cap_fp;
	struct event_parse *ep;         /* [sc->nevents] */
	size_t cap_ep;
	unsigned too_many_reported[3];
};

#define DIAG(c, line, hint, ...) ini_diag_add((c)->dg, (line), (hint), __VA_ARGS__)

/* ---- small helpers ---- */

static int lookup(const char *v, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, names[i]))
			return (int)i;
	return -1;
}

static void join(char *buf, size_t len, const char *const *names, size_t n, const char *sep)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? sep : "", names[i]);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SC_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

char *sc_scale_format(const struct timescale *ts, char *buf, size_t len)
{
	uint64_t g = gcd64(ts->num, ts->den);
	uint64_t num = ts->num / g, den = ts->den / g;

	if (den == 1)
		snprintf(buf, len, "%llu", (unsigned long long)num);
	else
		snprintf(buf, len, "%llu/%llu", (unsigned long long)num, (unsigned long long)den);
	return buf;
}

const char *sc_proto_name(enum sc_proto p) { return proto_names[p]; }
const char *sc_family_name(enum sc_family f) { return family_names[f]; }
const char *sc_speaker_name(enum sc_speaker s) { return speaker_names[s]; }
const char *sc_expect_name(enum sc_expect e) { return expect_names[e]; }

char *sc_expect_format(const struct sc_flow *f, char *buf, size_t len)
{
	static const char *const cmp[] = { ">=", "<=", "=" };
	size_t off = 0;

	if (!f->ncounted) {
		snprintf(buf, len, "%s", expect_names[f->expect]);
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < f->ncounted && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s %u", i ? ", " : "",
					expect_names[f->counted[i].outcome], cmp[f->counted[i].cmp],
					f->counted[i].n);
	return buf;
}

bool sc_expect_met(const struct sc_flow *f, const unsigned *n)
{
	if (!f->ncounted)
		return n[f->expect] == f->count;
	for (size_t i = 0; i < f->ncounted; i++) {
		unsigned have = n[f->counted[i].outcome], want = f->counted[i].n;

		if (f->counted[i].cmp == SC_CMP_GE ? have < want :
		    f->counted[i].cmp == SC_CMP_LE ? have > want : have != want)
			return false;
	}
	return true;
}
const char *sc_action_name(enum sc_action a) { return action_names[a]; }

const char *const *sc_section_keys(const char *kind, size_t *n)
{
	if (!strcmp(kind, "scenario")) {
		*n = SK_MAX;
		return scenario_keys;
	}
	if (!strcmp(kind, "flow")) {
		*n = FK_MAX;
		return flow_keys;
	}
	if (!strcmp(kind, "event")) {
		*n = EK_MAX;
		return event_keys;
	}
	*n = 0;
	return NULL;
}

int scenario_flow_index(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->nflows; i++)
		if (!strcmp(sc->flows[i].name, name))
			return (int)i;
	return -1;
}

int scenario_mb_index(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->nmb; i++)
		if (!strcmp(sc->mb[i].name, name))
			return (int)i;
	return -1;
}

uint64_t scenario_scale(const struct scenario *sc, uint64_t ms)
{
	return timescale_apply(&sc->scale, ms);
}

/* ---- per-key parsing ---- */

static int parse_enum(struct pctx *c, const char *key, const char *value,
		      const char *const *names, size_t n, int *out)
{
	char vals[200];
	const char *best;
	int i = lookup(value, names, n);

	if (i >= 0) {
		*out = i;
		return 0;
	}
	join(vals, sizeof(vals), names, n, "|");
	best = ini_suggest(value, names, n);
	if (best)
		DIAG(c, c->r.lineno, NULL, "%s: '%s' is not one of %s (did you mean '%s'?)",
		     key, value, vals, best);
	else
		DIAG(c, c->r.lineno, NULL, "%s: '%s' is not one of %s", key, value, vals);
	return -1;
}

static int parse_dur(struct pctx *c, const char *key, const char *value, bool allow_zero,
		     struct sc_duration *out)
{
	char err[300];
	uint64_t ms;

	if (duration_parse_checked(key, value, allow_zero, &ms, err, sizeof(err)) < 0) {
		DIAG(c, c->r.lineno, errno == EINVAL ?
		     "durations take units: ms s m h d, and may combine them (1m30s)" : NULL, "%s", err);
		return -1;
	}
	out->ms = ms;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_keepalive(struct pctx *c, const char *value, struct sc_flow *f)
{
	char buf[SC_VALUE_MAX], *parts[4], *save = NULL, *tok;
	size_t n = 0;
	unsigned long cnt;
	uint64_t idle, intvl;

	if (!strcmp(value, "off")) {
		f->keepalive = SC_KA_OFF;
		return 0;
	}
	if (!strcmp(value, "kernel-default")) {
		f->keepalive = SC_KA_KERNEL_DEFAULT;
		f->ka_idle.ms = SC_KERNEL_KA_IDLE_MS;
		f->ka_intvl.ms = SC_KERNEL_KA_INTVL_MS;
		f->ka_count = SC_KERNEL_KA_COUNT;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", value);
	/* the probe's flow specs write 300s/30s/3 (commas separate their
	 * keys): that form is taken here too, one syntax for both */
	if (!strchr(buf, ',') && strchr(buf, '/'))
		for (char *q = buf; *q; q++)
			if (*q == '/')
				*q = ',';
	for (tok = strtok_r(buf, ",", &save); tok && n < 4; tok = strtok_r(NULL, ",", &save))
		parts[n++] = trim(tok);
	if (n != 3 || buf[0] == ',' || buf[strlen(buf) - 1] == ',')
		goto syntax;
	for (int i = 0; i < 2; i++) {
		char err[300];

		if (duration_parse(parts[i], i ? &intvl : &idle) == 0)
			continue;
		if (errno == EINVAL)
			goto syntax;
		DIAG(c, c->r.lineno, NULL, "%s",
		     duration_strerror(i ? "keepalive interval" : "keepalive idle", parts[i], errno,
				       err, sizeof(err)));
		return -1;
	}
	if (parse_uint(parts[2], ULONG_MAX, &cnt) < 0)
		goto syntax;
	if (!idle || !intvl) {
		DIAG(c, c->r.lineno, NULL, "keepalive: idle and interval must be longer than 0 in '%s'", value);
		return -1;
	}
	if (cnt < 1 || cnt > KERNEL_KA_MAX_COUNT) {
		DIAG(c, c->r.lineno, NULL, "keepalive: count %lu is out of range (the kernel takes 1..%u)",
		     cnt, KERNEL_KA_MAX_COUNT);
		return -1;
	}
	f->keepalive = SC_KA_SET;
	f->ka_idle.ms = idle;
	f->ka_intvl.ms = intvl;
	f->ka_count = (unsigned)cnt;
	return 0;
syntax:
	DIAG(c, c->r.lineno, "e.g. keepalive = 300s,30s,3 (or 300s/30s/3): probes after 300 s idle, every 30 s, give up after 3",
	     "keepalive: '%s' is not kernel-default, off or IDLE,INTVL,COUNT", value);
	return -1;
}

static int parse_net(struct pctx *c, const char *key, const char *value, bool v6, char *out, size_t len)
{
	char buf[64], *slash;
	unsigned long plen;
	union addr tmp;

	if (strlen(value) >= sizeof(buf))
		goto bad;
	strcpy(buf, value);
	slash = strchr(buf, '/');
	if (!slash)
		goto bad;
	*slash = '\0';
	if (addr_parse(buf, &tmp) < 0 || addr_is_v4(&tmp) == v6)
		goto bad;
	if (parse_uint(slash + 1, v6 ? 64 : 24, &plen) < 0 || plen < (v6 ? 16u : 8u))
		goto bad;
	snprintf(out, len, "%s", value);
	return 0;
bad:
	DIAG(c, c->r.lineno, NULL, "%s: '%s' is not an %s network with a prefix of /%s",
	     key, value, v6 ? "IPv6" : "IPv4", v6 ? "16 to /64 (like fd49:1d1e::/48)" :
	     "8 to /24 (like 10.99.0.0/16)");
	return -1;
}

/* ---- sections ---- */

static const char *suggest_knob_or(const char *key, const char *extra)
{
	size_t n, i;
	const struct knob_info *k = policy_knobs(&n);
	const char *cands[160];

	for (i = 0; i < n && i < ARRAY_SIZE(cands) - 1; i++)
		cands[i] = k[i].name;
	cands[i++] = extra;
	return ini_suggest(key, cands, i);
}

/* A section header's kind name that is not one: say what was meant. */
static void unknown_section(struct pctx *c, int line, const char *section, const char *kind,
			    const char *name)
{
	const char *best = ini_suggest(kind, section_kinds, ARRAY_SIZE(section_kinds));

	if (!strcmp(kind, "profile"))
		DIAG(c, line, "a profile is its own file under scenarios/profiles/; "
		     "use profile = NAME in a [middlebox] and override knobs there",
		     "unknown section [%s]", section);
	else if (best)
		DIAG(c, line, NULL, "unknown section [%s] (did you mean [%s%s%s]?)", section,
		     best, *name ? " " : "", name);
	else
		DIAG(c, line, "sections are [scenario], [middlebox NAME], [flow NAME], [event NAME]",
		     "unknown section [%s]", section);
}

/*
 * Is there no room for one more [kind] section (n of them so far, at most
 * max)? Said once per kind, at the first section past the limit; the
 * sections after it are skipped.
 */
static bool too_many(struct pctx *c, int which, int line, size_t n, size_t max, const char *kind)
{
	if (n < max)
		return false;
	if (!c->too_many_reported[which]++)
		DIAG(c, line, "split the scenario into several files",
		     "too many [%s] sections: the limit is %zu", kind, max);
	return true;
}

/* Room for need elements in *arrp (see vec_reserve()); -1 after saying
 * so at line. */
static int grow(struct pctx *c, int line, void *arrp, size_t *cap, size_t need, size_t size)
{
	if (vec_reserve(arrp, cap, need, size) == 0)
		return 0;
	DIAG(c, line, NULL, "out of memory");
	return -1;
}

static void open_scenario(struct pctx *c, int line, const char *name)
{
	if (*name) {
		DIAG(c, line, NULL, "[scenario] takes no name");
		return;
	}
	if (c->scenario_line) {
		DIAG(c, line, NULL, "duplicate [scenario] section (first at line %d)", c->scenario_line);
		return;
	}
	c->scenario_line = line;
	c->kind = SEC_SCENARIO;
	snprintf(c->where, sizeof(c->where), "[scenario]");
}

/* [middlebox NAME]; false if it cannot be opened (said why). */
static bool open_middlebox(struct pctx *c, int line, const char *name)
{
	struct scenario *sc = c->sc;
	struct sc_middlebox *m;
	int i = scenario_mb_index(sc, name);

	if (i >= 0) {
		DIAG(c, line, NULL, "duplicate [middlebox %s] (first at line %d)", name, sc->mb[i].line);
		return false;
	}
	if (too_many(c, 0, line, sc->nmb, SC_MAX_MIDDLEBOXES, "middlebox") ||
	    grow(c, line, &sc->mb, &sc->cap_mb, sc->nmb + 1, sizeof(*sc->mb)) < 0)
		return false;
	c->idx = (int)sc->nmb++;
	m = &sc->mb[c->idx];
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->line = line;
	policy_init(&m->policy);
	c->kind = SEC_MB;
	return true;
}

static bool open_flow(struct pctx *c, int line, const char *name)
{
	struct scenario *sc = c->sc;
	struct sc_flow *f;
	int i = scenario_flow_index(sc, name);

	if (i >= 0) {
		DIAG(c, line, NULL, "duplicate [flow %s] (first at line %d)", name, sc->flows[i].line);
		return false;
	}
	if (too_many(c, 1, line, sc->nflows, SC_MAX_FLOWS, "flow") ||
	    grow(c, line, &sc->flows, &sc->cap_flows, sc->nflows + 1, sizeof(*sc->flows)) < 0 ||
	    grow(c, line, &c->fp, &c->cap_fp, sc->nflows + 1, sizeof(*c->fp)) < 0)
		return false;
	c->idx = (int)sc->nflows++;
	f = &sc->flows[c->idx];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->line = line;
	f->cycles = 1;
	f->count = 1;
	f->deadline.ms = DEFAULT_DEADLINE_MS;
	f->expect_exit = -1;
	c->kind = SEC_FLOW;
	return true;
}

static bool open_event(struct pctx *c, int line, const char *name)
{
	struct scenario *sc = c->sc;
	struct sc_event *e;

	for (size_t i = 0; i < sc->nevents; i++) {
		if (!strcmp(sc->events[i].name, name)) {
			DIAG(c, line, NULL, "duplicate [event %s] (first at line %d)", name, sc->events[i].line);
			return false;
		}
	}
	if (too_many(c, 2, line, sc->nevents, SC_MAX_EVENTS, "event") ||
	    grow(c, line, &sc->events, &sc->cap_events, sc->nevents + 1, sizeof(*sc->events)) < 0 ||
	    grow(c, line, &c->ep, &c->cap_ep, sc->nevents + 1, sizeof(*c->ep)) < 0)
		return false;
	c->idx = (int)sc->nevents++;
	e = &sc->events[c->idx];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->line = line;
	e->middlebox = -1;
	e->flow = -1;
	c->kind = SEC_EVENT;
	return true;
}

static void on_section(void *user, const char *section, int line)
{
	struct pctx *c = user;
	char buf[INIREAD_MAX_SECTION + 1], *s, *kind, *name;
	bool opened;
	int k;

	c->kind = SEC_IGNORE;
	c->where[0] = '\0';
	if (!section)
		return;                 /* the reader reported it */
	/* "KIND NAME", the name optionally in git-config style quotes: [flow "ssh"] */
	snprintf(buf, sizeof(buf), "%s", section);
	s = trim(buf);
	kind = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	name = trim(s);
	if (name[0] == '"' && strlen(name) >= 2 && name[strlen(name) - 1] == '"') {
		name[strlen(name) - 1] = '\0';
		name++;
	}
	k = lookup(kind, section_kinds, ARRAY_SIZE(section_kinds));
	if (k < 0) {
		unknown_section(c, line, section, kind, name);
		return;
	}
	if (k == 0) {
		open_scenario(c, line, name);
		return;
	}
	if (!*name) {
		DIAG(c, line, NULL, "[%s] needs a name, e.g. [%s %s]", kind, kind,
		     k == 1 ? "nat" : k == 2 ? "ssh" : "reboot");
		return;
	}
	if (!valid_name(name)) {
		DIAG(c, line, NULL, "invalid %s name '%s': use letters, digits, '.', '_', '-', "
		     "starting with a letter or digit, at most %d characters", kind, name, SC_NAME_MAX - 1);
		return;
	}
	opened = k == 1 ? open_middlebox(c, line, name) : k == 2 ? open_flow(c, line, name) :
		 open_event(c, line, name);
	if (opened)
		snprintf(c->where, sizeof(c->where), "[%s %s]", kind, name);
}

/* Known key of a fixed table, with duplicate check. Returns its index or -1. */
static int table_key(struct pctx *c, const char *key, const char *const *keys, size_t n,
		     int *lines)
{
	int i = lookup(key, keys, n);

	if (i < 0) {
		const char *best = ini_suggest(key, keys, n);
		char all[300];

		join(all, sizeof(all), keys, n, ", ");
		if (best)
			DIAG(c, c->r.lineno, NULL, "unknown key '%s' in %s (did you mean '%s'?)",
			     key, c->where, best);
		else
			DIAG(c, c->r.lineno, NULL, "unknown key '%s' in %s (known: %s)", key, c->where, all);
		return -1;
	}
	if (lines[i]) {
		DIAG(c, c->r.lineno, NULL, "duplicate key '%s' in %s (first at line %d)", key,
		     c->where, lines[i]);
		return -1;
	}
	lines[i] = c->r.lineno;
	return i;
}

static void scenario_key(struct pctx *c, const char *key, const char *value)
{
	struct scenario *sc = c->sc;
	int k = table_key(c, key, scenario_keys, SK_MAX, c->sk_line);
	struct sc_duration d;

	switch (k) {
	case SK_DESCRIPTION:
		snprintf(sc->description, sizeof(sc->description), "%s", value);
		break;
	case SK_TIME_SCALE:
		if (timescale_parse(value, &sc->scale) < 0) {
			bool range = errno == ERANGE;

			sc->scale.num = sc->scale.den = 1;
			if (range)
				DIAG(c, c->r.lineno, "1/50 runs 50 times faster; 10 runs 10 times slower",
				     "time_scale: '%s' is out of range: it must be above 0 and at most 1000 "
				     "(from 1/1000000 to 1000)", value);
			else
				DIAG(c, c->r.lineno, "1/50 runs 50 times faster; so does 50x or 0.02",
				     "time_scale: '%s' is not a scale like 1/50, 50x or 0.02", value);
		}
		break;
	case SK_TIMEOUT:
		if (!parse_dur(c, key, value, false, &d))
			sc->timeout = d;
		break;
	case SK_IPV4_NET:
		parse_net(c, key, value, false, sc->ipv4_net, sizeof(sc->ipv4_net));
		break;
	case SK_IPV6_NET:
		parse_net(c, key, value, true, sc->ipv6_net, sizeof(sc->ipv6_net));
		break;
	}
}

static void mb_key(struct pctx *c, const char *key, const char *value)
{
	struct sc_middlebox *m = &c->sc->mb[c->idx];
	struct policy scratch;
	char err[300];

	if (!strcmp(key, "profile")) {
		if (m->profile_line) {
			DIAG(c, c->r.lineno, NULL, "duplicate key 'profile' in %s (first at line %d)",
			     c->where, m->profile_line);
			return;
		}
		m->profile_line = c->r.lineno;
		snprintf(m->profile, sizeof(m->profile), "%s", value);
		if (!*value)
			DIAG(c, c->r.lineno, "`idlegate profiles` lists them", "profile: empty value");
		return;
	}
	for (size_t i = 0; i < m->noverrides; i++) {
		if (!strcmp(m->overrides[i].knob, key)) {
			DIAG(c, c->r.lineno, NULL, "duplicate key '%s' in %s (first at line %d)", key,
			     c->where, m->overrides[i].line);
			return;
		}
	}
	/* check the knob and its value now, where the line is known; it is
	 * applied on top of the profile once the whole file is read */
	policy_init(&scratch);
	if (policy_set(&scratch, key, value, err, sizeof(err)) < 0) {
		if (errno == ENOENT) {
			const char *best = suggest_knob_or(key, "profile");
			if (best)
				DIAG(c, c->r.lineno, NULL, "unknown key '%s' in %s (did you mean '%s'?)",
				     key, c->where, best);
			else
				DIAG(c, c->r.lineno, "a [middlebox] takes profile = NAME and policy knobs; "
				     "`idlegate profiles --knobs` lists them",
				     "unknown key '%s' in %s", key, c->where);
		} else {
			DIAG(c, c->r.lineno, NULL, "%s", err);
		}
		return;
	}
	if (grow(c, c->r.lineno, &m->overrides, &m->cap_overrides, m->noverrides + 1,
		 sizeof(*m->overrides)) < 0)
		return;
	struct sc_override *o = &m->overrides[m->noverrides++];
	snprintf(o->knob, sizeof(o->knob), "%s", key);
	snprintf(o->value, sizeof(o->value), "%s", value);
	o->line = c->r.lineno;
}

/* "alive >= 256, timeout <= 44": terms OUTCOME (>=|<=|=) COUNT. */
static int parse_counted(struct pctx *c, const char *value, struct sc_flow *f)
{
	char buf[SC_VALUE_MAX], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	f->ncounted = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char word[32], *p = trim(t);
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
		struct sc_counted *k;
		unsigned long u;
		int e;

		if (f->ncounted == SC_MAX_COUNTED) {
			DIAG(c, c->r.lineno, NULL, "expect: at most %d terms", SC_MAX_COUNTED);
			return -1;
		}
		k = &f->counted[f->ncounted];
		snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), p);
		if (parse_enum(c, "expect", word, expect_names, ARRAY_SIZE(expect_names), &e) < 0)
			return -1;
		k->outcome = (enum sc_expect)e;
		p = trim(p + n);
		if (!strncmp(p, ">=", 2) || !strncmp(p, "<=", 2) || !strncmp(p, "==", 2)) {
			k->cmp = p[0] == '>' ? SC_CMP_GE : p[0] == '<' ? SC_CMP_LE : SC_CMP_EQ;
			p += 2;
		} else if (p[0] == '=') {
			k->cmp = SC_CMP_EQ;
			p++;
		} else {
			DIAG(c, c->r.lineno, "e.g. expect = alive >= 256, timeout <= 44",
			     "expect: '%s': an outcome, then >=, <= or =, then a count", t);
			return -1;
		}
		p = trim(p);
		if (parse_uint(p, SC_MAX_COUNT, &u) < 0) {
			DIAG(c, c->r.lineno, "e.g. expect = alive >= 256, timeout <= 44",
			     "expect: '%s' is not a count (0 to %d)", p, SC_MAX_COUNT);
			return -1;
		}
		k->n = (unsigned)u;
		if (!f->ncounted)
			f->expect = k->outcome;
		f->ncounted++;
	}
	if (!f->ncounted) {
		DIAG(c, c->r.lineno, NULL, "expect: empty");
		return -1;
	}
	return 0;
}

/* command / server_command = TEXT into dst (SC_COMMAND_MAX bytes) */
static void flow_command(struct pctx *c, const char *key, const char *value, char *dst)
{
	if (!*value)
		DIAG(c, c->r.lineno, NULL, "%s: empty value", key);
	if (strlen(value) >= SC_COMMAND_MAX)
		DIAG(c, c->r.lineno, "put it in a script beside the scenario and run it as "
		     "\"$IDLEGATE_SCENARIO_DIR\"/script.sh",
		     "%s: %zu characters; the limit is %d", key, strlen(value), SC_COMMAND_MAX - 1);
	snprintf(dst, SC_COMMAND_MAX, "%s", value);
}

/* expect_output = REGEX: a POSIX extended one, checked here */
static void flow_expect_output(struct pctx *c, const char *value, struct sc_flow *f)
{
	regex_t re;
	int rc = regcomp(&re, value, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);

	if (rc) {
		char msg[160];

		regerror(rc, &re, msg, sizeof(msg));
		DIAG(c, c->r.lineno, "a POSIX extended regular expression, as grep -E takes",
		     "expect_output: '%s': %s", value, msg);
	} else {
		regfree(&re);
	}
	if (!*value)
		DIAG(c, c->r.lineno, NULL, "expect_output: empty value");
	snprintf(f->expect_output, sizeof(f->expect_output), "%s", value);
}

/* One key of a [flow]: a flat switch of independent cases, one per key. */
static void flow_key(struct pctx *c, const char *key, const char *value)
{
	struct sc_flow *f = &c->sc->flows[c->idx];
	int k = table_key(c, key, flow_keys, FK_MAX, c->fp[c->idx].line);
	unsigned long u;
	int e;

	switch (k) {
	case FK_PROTO:
		if (!parse_enum(c, key, value, proto_names, ARRAY_SIZE(proto_names), &e))
			f->proto = (enum sc_proto)e;
		break;
	case FK_FAMILY:
		if (!parse_enum(c, key, value, family_names, ARRAY_SIZE(family_names), &e))
			f->family = (enum sc_family)e;
		break;
	case FK_KEEPALIVE:
		parse_keepalive(c, value, f);
		break;
	case FK_TCP_USER_TIMEOUT:
		parse_dur(c, key, value, false, &f->user_timeout);
		break;
	case FK_HEARTBEAT:
		parse_dur(c, key, value, false, &f->heartbeat);
		break;
	case FK_SERVER_HEARTBEAT:
		parse_dur(c, key, value, false, &f->server_heartbeat);
		break;
	case FK_WARMUP:
		parse_dur(c, key, value, false, &f->warmup);
		break;
	case FK_IDLE:
		parse_dur(c, key, value, false, &f->idle);
		break;
	case FK_SPEAKER:
		if (!parse_enum(c, key, value, speaker_names, ARRAY_SIZE(speaker_names), &e))
			f->speaker = (enum sc_speaker)e;
		break;
	case FK_CYCLES:
		if (parse_uint(value, 1000, &u) < 0 || !u)
			DIAG(c, c->r.lineno, NULL, "cycles: '%s' is not a count from 1 to 1000", value);
		else
			f->cycles = (unsigned)u;
		break;
	case FK_DEADLINE:
		parse_dur(c, key, value, false, &f->deadline);
		break;
	case FK_EXPECT:
		if (strpbrk(value, "<>=") ? parse_counted(c, value, f) < 0 :
		    parse_enum(c, key, value, expect_names, ARRAY_SIZE(expect_names), &e) < 0)
			c->fp[c->idx].line[FK_EXPECT] = -1;     /* present but bad */
		else if (!f->ncounted)
			f->expect = (enum sc_expect)e;
		f->expect_line = c->r.lineno;
		break;
	case FK_COUNT:
		if (parse_uint(value, SC_MAX_COUNT, &u) < 0 || !u)
			DIAG(c, c->r.lineno, NULL, "count: '%s' is not a count from 1 to %d", value, SC_MAX_COUNT);
		else
			f->count = (unsigned)u;
		break;
	case FK_START:
		parse_dur(c, key, value, false, &f->start);
		break;
	case FK_RAMP:
		parse_dur(c, key, value, false, &f->ramp);
		break;
	case FK_PATH:
		snprintf(c->fp[c->idx].path_text, sizeof(c->fp[0].path_text), "%s", value);
		break;
	case FK_PORT:
		if (parse_uint(value, 65535, &u) < 0 || !u)
			DIAG(c, c->r.lineno, NULL, "port: '%s' is not a port from 1 to 65535", value);
		else
			f->port = (uint16_t)u;
		break;
	case FK_COMMAND:
	case FK_SERVER_COMMAND:
		flow_command(c, key, value, k == FK_COMMAND ? f->command : f->server_command);
		break;
	case FK_RUN_AS:
		/* the user is looked up when the flow runs: a file may be checked
		 * on a machine that does not have it */
		if (!*value || strlen(value) >= SC_USER_MAX || strpbrk(value, " \t/:"))
			DIAG(c, c->r.lineno, NULL, "run_as: '%s' is not a user name", value);
		else
			snprintf(f->run_as, sizeof(f->run_as), "%s", value);
		break;
	case FK_EXPECT_EXIT:
		if (parse_uint(value, 255, &u) < 0)
			DIAG(c, c->r.lineno, NULL, "expect_exit: '%s' is not an exit status from 0 to 255", value);
		else
			f->expect_exit = (int)u;
		break;
	case FK_SCALE_PROGRAM:
		if (!strcmp(value, "yes"))
			f->scale_program = true;
		else if (strcmp(value, "no"))
			DIAG(c, c->r.lineno, NULL, "scale_program: '%s' is not yes or no", value);
		break;
	case FK_EXPECT_OUTPUT:
		flow_expect_output(c, value, f);
		break;
	}
}

static const char *const sysctl_names[] = {
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_retries1", "net.ipv4.tcp_retries2", "net.ipv4.tcp_syn_retries",
	"net.ipv4.tcp_fin_timeout", NULL,
};

const char *const *sc_sysctl_names(void)
{
	return sysctl_names;
}

bool sc_sysctl_is_seconds(const char *name)
{
	return !strcmp(name, "net.ipv4.tcp_keepalive_time") || !strcmp(name, "net.ipv4.tcp_keepalive_intvl") ||
	       !strcmp(name, "net.ipv4.tcp_fin_timeout");
}

/* sysctl.NAME = VALUE in a [flow]: one of sysctl_names, a whole number. */
static void flow_sysctl(struct pctx *c, const char *key, const char *value)
{
	struct sc_flow *f = &c->sc->flows[c->idx];
	const char *name = key + strlen("sysctl.");
	unsigned long u;
	int i;

	i = lookup(name, sysctl_names, ARRAY_SIZE(sysctl_names) - 1);
	if (i < 0) {
		char all[400];
		const char *best = ini_suggest(name, sysctl_names, ARRAY_SIZE(sysctl_names) - 1);

		join(all, sizeof(all), sysctl_names, ARRAY_SIZE(sysctl_names) - 1, ", ");
		if (best)
			DIAG(c, c->r.lineno, NULL, "%s: not a per-flow sysctl (did you mean 'sysctl.%s'?)", key, best);
		else
			DIAG(c, c->r.lineno, "a flow sets only per-namespace TCP settings of its client",
			     "%s: not a per-flow sysctl (known: %s)", key, all);
		return;
	}
	for (size_t k = 0; k < f->nsysctl; k++)
		if (!strcmp(f->sysctl[k].name, name)) {
			DIAG(c, c->r.lineno, NULL, "duplicate key '%s' in %s (first at line %d)", key, c->where,
			     f->sysctl[k].line);
			return;
		}
	if (parse_uint(value, 2147483647ul, &u) < 0) {
		DIAG(c, c->r.lineno, NULL, "%s: '%s' is not a whole number", key, value);
		return;
	}
	if (f->nsysctl == SC_MAX_SYSCTLS) {
		DIAG(c, c->r.lineno, NULL, "more than %d sysctl keys in %s", SC_MAX_SYSCTLS, c->where);
		return;
	}
	snprintf(f->sysctl[f->nsysctl].name, sizeof(f->sysctl[0].name), "%s", name);
	f->sysctl[f->nsysctl].value = u;
	f->sysctl[f->nsysctl++].line = c->r.lineno;
}

static void event_key(struct pctx *c, const char *key, const char *value)
{
	struct sc_event *e = &c->sc->events[c->idx];
	int k = table_key(c, key, event_keys, EK_MAX, c->ep[c->idx].line);

	switch (k) {
	case EK_AT:
		parse_dur(c, key, value, true, &e->at);
		break;
	case EK_ACTION:
		snprintf(c->ep[c->idx].action_text, SC_VALUE_MAX, "%s", value);
		break;
	case EK_MIDDLEBOX:
		snprintf(c->ep[c->idx].evmb_text, SC_VALUE_MAX, "%s", value);
		break;
	}
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct pctx *c = user;

	/* a line may be long (a command), any other value must fit */
	if (strlen(value) >= SC_VALUE_MAX && c->kind != SEC_IGNORE &&
	    !(c->kind == SEC_FLOW && (!strcmp(key, "command") || !strcmp(key, "server_command")))) {
		DIAG(c, c->r.lineno, NULL, "%s: %zu characters; the limit is %d", key, strlen(value),
		     SC_VALUE_MAX - 1);
		return 1;
	}
	switch (c->kind) {
	case SEC_NONE:
		DIAG(c, c->r.lineno, "put it under [scenario], [middlebox NAME], [flow NAME] or [event NAME]",
		     "key '%s' outside any section", key);
		break;
	case SEC_IGNORE:
		break;
	case SEC_SCENARIO:
		scenario_key(c, key, value);
		break;
	case SEC_MB:
		mb_key(c, key, value);
		break;
	case SEC_FLOW:
		if (!strncmp(key, "sysctl.", 7))
			flow_sysctl(c, key, value);
		else
			flow_key(c, key, value);
		break;
	case SEC_EVENT:
		event_key(c, key, value);
		break;
	}
	return 1;
}

/* ---- whole-file checks ---- */

static void resolve_profile(struct pctx *c, struct sc_middlebox *m)
{
	char err[1400], arg[PATH_MAX];
	struct profile_meta meta;

	if (!m->profile[0])
		return;
	if (strchr(m->profile, '/') && m->profile[0] != '/' && c->basedir && *c->basedir)
		snprintf(arg, sizeof(arg), "%s/%s", c->basedir, m->profile);
	else
		snprintf(arg, sizeof(arg), "%s", m->profile);
	if (profile_load(&m->policy, arg, &meta, err, sizeof(err)) == 0) {
		snprintf(m->profile_path, sizeof(m->profile_path), "%s", meta.path);
		return;
	}
	if (errno == ENOENT && !strchr(m->profile, '/')) {
		struct profile_entry *list = NULL;
		size_t n = 0;
		const char *best = NULL;
		char sp[1024];

		if (profile_list(&list, &n) == 0 && n) {
			const char **names = calloc(n, sizeof(*names));
			if (names) {
				for (size_t i = 0; i < n; i++)
					names[i] = list[i].name;
				best = ini_suggest(m->profile, names, n);
				if (best)
					DIAG(c, m->profile_line, NULL,
					     "profile: unknown profile '%s' (did you mean '%s'?)", m->profile, best);
				free(names);
			}
		}
		if (!best) {
			char hint[300];
			snprintf(hint, sizeof(hint), "searched %s; `idlegate profiles` lists them",
				 profile_search_path(sp, sizeof(sp)));
			DIAG(c, m->profile_line, hint, "profile: unknown profile '%s'", m->profile);
		}
		free(list);
		return;
	}
	DIAG(c, m->profile_line, NULL, "profile '%s': %s", m->profile, err);
}

static void check_middlebox(struct pctx *c, struct sc_middlebox *m)
{
	struct policy check;
	char err[300];

	resolve_profile(c, m);
	for (size_t i = 0; i < m->noverrides; i++) {
		struct sc_override *o = &m->overrides[i];
		if (policy_set(&m->policy, o->knob, o->value, err, sizeof(err)) < 0)
			DIAG(c, o->line, NULL, "%s", err);
	}
	/* the runner assigns nat.address from the topology */
	check = m->policy;
	if (check.nat == NAT_SNAT && !check.nat_addr_set)
		policy_set(&check, "nat.address", "192.0.2.1", NULL, 0);
	if (policy_validate(&check, err, sizeof(err)) < 0)
		DIAG(c, m->line, NULL, "[middlebox %s]: %s", m->name, err);
}

/* The name closest to name among n, the i-th at name_at(sc, i); NULL if
 * none is close (or out of memory). */
static const char *suggest_among(const struct scenario *sc, const char *name, size_t n,
				 const char *(*name_at)(const struct scenario *, size_t))
{
	const char **names = calloc(n ? n : 1, sizeof(*names)), *best;

	if (!names)
		return NULL;
	for (size_t i = 0; i < n; i++)
		names[i] = name_at(sc, i);
	best = ini_suggest(name, names, n);
	free(names);
	return best;
}

static const char *mb_name_at(const struct scenario *sc, size_t i)
{
	return sc->mb[i].name;
}

static const char *flow_name_at(const struct scenario *sc, size_t i)
{
	return sc->flows[i].name;
}

static const char *mb_suggest(struct pctx *c, const char *name)
{
	return suggest_among(c->sc, name, c->sc->nmb, mb_name_at);
}

static void check_path(struct pctx *c, int fi)
{
	struct scenario *sc = c->sc;
	struct sc_flow *f = &sc->flows[fi];
	int line = c->fp[fi].line[FK_PATH];
	char buf[SC_VALUE_MAX], *save = NULL, *tok;

	if (!line) {
		if (sc->nmb > SC_MAX_PATH) {
			DIAG(c, f->line, "the default path is every middlebox in file order",
			     "[flow %s] needs path = ...: all %zu middleboxes are more than a path holds (%d)",
			     f->name, sc->nmb, SC_MAX_PATH);
			return;
		}
		for (size_t i = 0; i < sc->nmb; i++)
			f->path[f->npath++] = (int)i;
		return;
	}
	snprintf(buf, sizeof(buf), "%s", c->fp[fi].path_text);
	for (tok = strtok_r(buf, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		int m = scenario_mb_index(sc, tok);
		if (m < 0) {
			const char *best = mb_suggest(c, tok);
			if (best)
				DIAG(c, line, NULL, "path: unknown middlebox '%s' (did you mean '%s'?)", tok, best);
			else
				DIAG(c, line, "a path lists [middlebox NAME] sections, client side first",
				     "path: unknown middlebox '%s'", tok);
			return;
		}
		for (size_t i = 0; i < f->npath; i++) {
			if (f->path[i] == m) {
				DIAG(c, line, NULL, "path: middlebox '%s' appears twice", tok);
				return;
			}
		}
		if (f->npath == SC_MAX_PATH) {
			DIAG(c, line, NULL, "path: more than %d middleboxes", SC_MAX_PATH);
			return;
		}
		f->path[f->npath++] = m;
	}
	if (!f->npath)
		DIAG(c, line, NULL, "path: empty (name the middleboxes, client side first)");
}

/* A group (count = N): its connections' names, ramp, counted expectations. */
static void check_group(struct pctx *c, int fi)
{
	struct scenario *sc = c->sc;
	struct sc_flow *f = &sc->flows[fi];
	int *L = c->fp[fi].line;

	if (f->command[0] && f->count > 1)
		DIAG(c, L[FK_COUNT], NULL, "count = %u needs the built-in probe: a command is one connection",
		     f->count);
	if (f->count > 1) {
		size_t n = strlen(f->name);

		/* the probe names the connections NAME.1 .. NAME.N */
		for (size_t j = 0; j < sc->nflows; j++) {
			const char *o = sc->flows[j].name;
			char *end;
			unsigned long k;

			if (strncmp(o, f->name, n) || o[n] != '.' || !isdigit((unsigned char)o[n + 1]))
				continue;
			k = strtoul(o + n + 1, &end, 10);
			if (!*end && k >= 1 && k <= f->count)
				DIAG(c, sc->flows[j].line, "rename one of them",
				     "[flow %s] has the name of connection %lu of the group [flow %s]", o, k, f->name);
		}
	}
	if (L[FK_RAMP] && f->count < 2)
		DIAG(c, L[FK_RAMP], NULL, "ramp spreads the starts of a group: it needs count = 2 or more");
	for (size_t i = 0; i < f->ncounted; i++)
		if (f->counted[i].n > f->count && f->counted[i].cmp != SC_CMP_LE)
			DIAG(c, L[FK_EXPECT], NULL,
			     "expect: %s %s %u can never hold: the group has %u connection%s (count = %u)",
			     expect_names[f->counted[i].outcome], f->counted[i].cmp == SC_CMP_GE ? ">=" : "=",
			     f->counted[i].n, f->count, f->count == 1 ? "" : "s", f->count);

}

static void check_flow(struct pctx *c, int fi)
{
	struct scenario *sc = c->sc;
	struct sc_flow *f = &sc->flows[fi];
	int *L = c->fp[fi].line;

	if (!L[FK_EXPECT])
		DIAG(c, f->line, "what should happen after the idle period: alive, reset, closed, timeout, "
		     "keepalive-timeout, rebound (UDP), unreachable, refused or connect-timeout",
		     "[flow %s] needs expect = ...", f->name);
	if (!L[FK_IDLE] && !f->command[0])
		DIAG(c, f->line, NULL, "[flow %s] needs idle = DURATION (how long the flow stays quiet)",
		     f->name);
	check_path(c, fi);
	check_group(c, fi);

	if (f->command[0]) {
		static const int cmd_excl[] = { FK_HEARTBEAT, FK_SERVER_HEARTBEAT, FK_KEEPALIVE,
						FK_TCP_USER_TIMEOUT, FK_WARMUP };
		for (size_t i = 0; i < ARRAY_SIZE(cmd_excl); i++) {
			int k = cmd_excl[i];
			if (L[k] && !(k == FK_KEEPALIVE && f->keepalive == SC_KA_OFF))
				DIAG(c, L[k], "set it in the command's own options (e.g. ssh -o ServerAliveInterval=25)",
				     "%s cannot be combined with command: the command, not the probe, "
				     "owns the connection", flow_keys[k]);
		}
	} else {
		static const int cmd_only[] = { FK_SERVER_COMMAND, FK_RUN_AS, FK_EXPECT_EXIT, FK_EXPECT_OUTPUT,
						FK_SCALE_PROGRAM };

		for (size_t i = 0; i < ARRAY_SIZE(cmd_only); i++)
			if (L[cmd_only[i]])
				DIAG(c, L[cmd_only[i]], NULL,
				     "%s needs command too (the built-in probe is judged by itself)",
				     flow_keys[cmd_only[i]]);
	}
	if (f->scale_program)
		for (size_t i = 0; i < f->nsysctl; i++)
			if (!strncmp(f->sysctl[i].name, "net.ipv4.tcp_retries", 20) ||
			    !strcmp(f->sysctl[i].name, "net.ipv4.tcp_syn_retries"))
				DIAG(c, f->sysctl[i].line, "use time_scale = 1 for a flow that depends on retransmissions",
				     "sysctl.%s with scale_program = yes: retransmission timers are not scaled, "
				     "so the kernel would give up after real time, not scaled time", f->sysctl[i].name);
	if (f->proto == SC_UDP) {
		if (L[FK_KEEPALIVE] && f->keepalive != SC_KA_OFF)
			DIAG(c, L[FK_KEEPALIVE], NULL,
			     "keepalive: TCP keepalive does not apply to proto = udp (use heartbeat = 25s)");
		if (L[FK_TCP_USER_TIMEOUT])
			DIAG(c, L[FK_TCP_USER_TIMEOUT], NULL, "tcp_user_timeout does not apply to proto = udp");
		if (L[FK_EXPECT] > 0 && f->expect == SC_EXPECT_KEEPALIVE_TIMEOUT)
			DIAG(c, L[FK_EXPECT], NULL,
			     "expect = keepalive-timeout is for TCP flows (UDP has no kernel keepalive)");
	} else {
		if (L[FK_WARMUP])
			DIAG(c, L[FK_WARMUP], NULL, "warmup is for UDP flows (two-way traffic before the idle)");
		if (L[FK_EXPECT] > 0 && f->expect == SC_EXPECT_REBOUND)
			DIAG(c, L[FK_EXPECT], NULL,
			     "expect = rebound is for UDP flows (a TCP connection cannot change its source address)");
		if (L[FK_EXPECT] > 0 && f->expect == SC_EXPECT_KEEPALIVE_TIMEOUT &&
		    f->keepalive == SC_KA_OFF && !f->user_timeout.ms && !f->command[0])
			DIAG(c, L[FK_EXPECT], NULL,
			     "expect = keepalive-timeout needs keepalive = ... or tcp_user_timeout = ... "
			     "(nothing else makes the kernel give up)");
	}
	if (f->family == SC_IPV6) {
		for (size_t i = 0; i < f->npath; i++) {
			struct sc_middlebox *m = &sc->mb[f->path[i]];
			if (m->policy.nat == NAT_SNAT) {
				DIAG(c, L[FK_FAMILY] ? L[FK_FAMILY] : f->line,
				     "route IPv6 flows through a middlebox with nat = off",
				     "family = ipv6 through middlebox '%s', which does nat = snat (IPv4 only)",
				     m->name);
				break;
			}
		}
	}
}

/* middlebox = NAME|all of an event; false when the name is unknown. */
static bool event_middlebox(struct pctx *c, int ei)
{
	struct scenario *sc = c->sc;
	const char *t = c->ep[ei].evmb_text, *best;
	int line = c->ep[ei].line[EK_MIDDLEBOX];

	if (!line || !strcmp(t, "all"))
		return true;
	sc->events[ei].middlebox = scenario_mb_index(sc, t);
	if (sc->events[ei].middlebox >= 0)
		return true;
	best = mb_suggest(c, t);
	if (best)
		DIAG(c, line, NULL, "middlebox: unknown middlebox '%s' (did you mean '%s'?)", t, best);
	else
		DIAG(c, line, NULL, "middlebox: unknown middlebox '%s'", t);
	return false;
}

/* action = expire FLOW */
static void event_expire(struct pctx *c, struct sc_event *e, int line, const char *arg)
{
	struct scenario *sc = c->sc;
	const char *best;
	bool on = false;

	if (!*arg || strpbrk(arg, " \t")) {
		DIAG(c, line, NULL, "action: expire takes one flow name (expire FLOW)");
		return;
	}
	e->flow = scenario_flow_index(sc, arg);
	if (e->flow < 0) {
		best = suggest_among(sc, arg, sc->nflows, flow_name_at);
		if (best)
			DIAG(c, line, NULL, "action: unknown flow '%s' (did you mean '%s'?)", arg, best);
		else
			DIAG(c, line, NULL, "action: unknown flow '%s'", arg);
		return;
	}
	if (e->middlebox >= 0) {
		const struct sc_flow *f = &sc->flows[e->flow];

		for (size_t i = 0; i < f->npath; i++)
			on |= f->path[i] == e->middlebox;
		if (!on)
			DIAG(c, line, NULL, "action: flow '%s' does not pass middlebox '%s'",
			     arg, sc->mb[e->middlebox].name);
	}
	snprintf(e->value, sizeof(e->value), "%s", arg);
}

/* action = set KNOB VALUE: valid for every middlebox it reaches, and its
 * scaled value (what the runner sends) within the limits. */
static void event_set(struct pctx *c, struct sc_event *e, int line, char *arg)
{
	struct scenario *sc = c->sc;
	char *knob = arg, *value = arg, err[300];

	while (*value && !isspace((unsigned char)*value))
		value++;
	if (*value)
		*value++ = '\0';
	value = trim(value);
	if (!*knob || !*value) {
		DIAG(c, line, NULL, "action: set takes a knob and a value (set tcp.established 60s)");
		return;
	}
	for (size_t i = 0; i < sc->nmb; i++) {
		struct policy p;
		const char *best;

		if (e->middlebox >= 0 && (size_t)e->middlebox != i)
			continue;
		p = sc->mb[i].policy;
		if (policy_set(&p, knob, value, err, sizeof(err)) == 0)
			continue;
		best = errno == ENOENT ? suggest_knob_or(knob, NULL) : NULL;
		if (best)
			DIAG(c, line, NULL, "action: unknown knob '%s' (did you mean '%s'?)", knob, best);
		else
			DIAG(c, line, NULL, "action: %s", err);
		break;
	}
	snprintf(e->knob, sizeof(e->knob), "%s", knob);
	snprintf(e->value, sizeof(e->value), "%s", value);
	if (sc->nmb) {
		struct sc_middlebox tmp = { .policy = sc->mb[0].policy };
		struct policy scaled;
		char v[64], sc_text[32];
		uint64_t ms;

		if (policy_set(&tmp.policy, knob, value, NULL, 0) < 0)
			return;
		scenario_policy_scaled(sc, &tmp, &scaled);
		if (policy_get(&scaled, knob, v, sizeof(v)) == 0 && duration_parse(value, &ms) == 0 &&
		    duration_parse(v, &ms) < 0 && errno == ERANGE)
			DIAG(c, line, NULL, "action: set %s %s scaled by %s is %s, above the "
			     "limit of " DURATION_MAX_TEXT, knob, value,
			     sc_scale_format(&sc->scale, sc_text, sizeof(sc_text)), v);
	}
}

/* action = blackhole DURATION */
static void event_blackhole(struct pctx *c, struct sc_event *e, int line, const char *arg)
{
	char err[300];
	int rc = duration_parse(arg, &e->duration.ms);

	if (rc < 0 && errno != EINVAL)
		DIAG(c, line, NULL, "%s", duration_strerror("action: blackhole", arg, errno, err, sizeof(err)));
	else if (rc < 0 || !e->duration.ms)
		DIAG(c, line, NULL, "action: blackhole takes a duration longer than 0 (blackhole 30s), found '%s'",
		     arg);
}

static void check_event(struct pctx *c, int ei)
{
	struct scenario *sc = c->sc;
	struct sc_event *e = &sc->events[ei];
	int *L = c->ep[ei].line;
	char buf[SC_VALUE_MAX], *verb, *arg;
	int a;

	if (!L[EK_AT])
		DIAG(c, e->line, NULL, "[event %s] needs at = DURATION (from the start of the idle period)",
		     e->name);
	if (!event_middlebox(c, ei))
		return;
	if (!L[EK_ACTION]) {
		DIAG(c, e->line, "flush | expire FLOW | set KNOB VALUE | blackhole DURATION",
		     "[event %s] needs action = ...", e->name);
		return;
	}
	/* the verb, then its argument */
	snprintf(buf, sizeof(buf), "%s", c->ep[ei].action_text);
	verb = trim(buf);
	arg = verb;
	while (*arg && !isspace((unsigned char)*arg))
		arg++;
	if (*arg)
		*arg++ = '\0';
	arg = trim(arg);
	a = lookup(verb, action_names, ARRAY_SIZE(action_names));
	if (a < 0) {
		const char *best = ini_suggest(verb, action_names, ARRAY_SIZE(action_names));

		if (best)
			DIAG(c, L[EK_ACTION], NULL, "action: unknown action '%s' (did you mean '%s'?)", verb, best);
		else
			DIAG(c, L[EK_ACTION], "flush | expire FLOW | set KNOB VALUE | blackhole DURATION",
			     "action: unknown action '%s'", verb);
		return;
	}
	e->action = (enum sc_action)a;
	switch (e->action) {
	case SC_ACT_FLUSH:
		if (*arg)
			DIAG(c, L[EK_ACTION], NULL, "action: flush takes no argument (found '%s')", arg);
		break;
	case SC_ACT_EXPIRE: event_expire(c, e, L[EK_ACTION], arg); break;
	case SC_ACT_SET: event_set(c, e, L[EK_ACTION], arg); break;
	case SC_ACT_BLACKHOLE: event_blackhole(c, e, L[EK_ACTION], arg); break;
	}
}

/*
 * Kernel keepalive times are whole seconds >= 1 (and TCP_USER_TIMEOUT is
 * pointless below 1 s while retransmission timers are not scaled). Find the
 * fastest time_scale 1/d that satisfies every such value in the file:
 * d must divide the gcd of all keepalive times (in s) and be no larger than
 * any user timeout (in s). Returns d, or 0 if no 1/d works.
 */
static uint64_t workable_divisor(struct pctx *c, bool (*ka_checked)(const struct sc_flow *))
{
	struct scenario *sc = c->sc;
	uint64_t g = 0, u = UINT64_MAX;

	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		if (ka_checked(f)) {
			if (f->ka_idle.ms % 1000 || f->ka_intvl.ms % 1000)
				return 0;
			g = gcd64(g, f->ka_idle.ms / 1000);
			g = gcd64(g, f->ka_intvl.ms / 1000);
		}
		if (f->proto == SC_TCP && f->user_timeout.ms && f->user_timeout.ms / 1000 < u)
			u = f->user_timeout.ms / 1000;
	}
	if (!g)
		return u == UINT64_MAX || !u ? 0 : u;
	for (uint64_t d = g < u ? g : u; d >= 1; d--)
		if (g % d == 0)
			return d;
	return 0;
}

/* kernel-default keepalive only matters if it can fire within the idle period */
static bool ka_checked(const struct sc_flow *f)
{
	if (f->proto != SC_TCP || f->command[0])
		return false;
	if (f->keepalive == SC_KA_SET)
		return true;
	return f->keepalive == SC_KA_KERNEL_DEFAULT && f->idle.ms >= f->ka_idle.ms;
}

static void check_scaling(struct pctx *c)
{
	struct scenario *sc = c->sc;
	char scale[32], sugg[64] = "", s1[32], s2[32], s3[32];
	uint64_t d = workable_divisor(c, ka_checked);
	bool scaled = !(sc->scale.num == sc->scale.den);

	sc_scale_format(&sc->scale, scale, sizeof(scale));
	if (d && scaled)
		snprintf(sugg, sizeof(sugg), " (time_scale = %s%llu would work)", d == 1 ? "" : "1/",
			 (unsigned long long)d);
	for (size_t i = 0; i < sc->nflows; i++) {
		struct sc_flow *f = &sc->flows[i];
		int kline = c->fp[i].line[FK_KEEPALIVE] ? c->fp[i].line[FK_KEEPALIVE] : f->line;

		if (ka_checked(f)) {
			const struct sc_duration *v[2] = { &f->ka_idle, &f->ka_intvl };
			for (int j = 0; j < 2; j++) {
				uint64_t s = v[j]->scaled_ms;
				const char *what = f->keepalive == SC_KA_KERNEL_DEFAULT ? "kernel default " : "";
				duration_format(v[j]->ms, s1, sizeof(s1));
				if (s % 1000 || s < 1000) {
					if (scaled)
						DIAG(c, kline, d ? NULL : "write keepalive times in whole seconds",
						     "keepalive: %s'%s' scaled by %s is %s; kernel keepalive needs "
						     "whole seconds >= 1%s", what, s1, scale,
						     duration_format(s, s2, sizeof(s2)), sugg);
					else
						DIAG(c, kline, NULL, "keepalive: '%s' is %s; kernel keepalive needs "
						     "whole seconds >= 1", s1, duration_format(s, s2, sizeof(s2)));
					break;
				}
				if (s / 1000 > KERNEL_KA_MAX_S) {
					DIAG(c, kline, NULL, "keepalive: %s'%s'%s%s is %s; the kernel allows at most %s",
					     what, s1, scaled ? " scaled by " : "", scaled ? scale : "",
					     duration_format(s, s2, sizeof(s2)),
					     duration_format(KERNEL_KA_MAX_S * 1000ull, s3, sizeof(s3)));
					break;
				}
			}
		}
		if (f->proto == SC_TCP && f->user_timeout.ms && !f->command[0] &&
		    f->user_timeout.scaled_ms < 1000) {
			duration_format(f->user_timeout.ms, s1, sizeof(s1));
			DIAG(c, c->fp[i].line[FK_TCP_USER_TIMEOUT],
			     "below 1 s the kernel's retransmission timer (200 ms at least, never scaled) "
			     "decides more than the timeout does",
			     "tcp_user_timeout: '%s'%s%s is %s; TCP_USER_TIMEOUT needs >= 1s%s", s1,
			     scaled ? " scaled by " : "", scaled ? scale : "",
			     duration_format(f->user_timeout.scaled_ms, s2, sizeof(s2)), sugg);
		}
	}
}

static void apply_scale(struct scenario *sc)
{
	struct sc_duration *d;

#define SCALE(x) do { d = &(x); d->scaled_ms = scenario_scale(sc, d->ms); } while (0)
	SCALE(sc->timeout);
	for (size_t i = 0; i < sc->nflows; i++) {
		struct sc_flow *f = &sc->flows[i];
		SCALE(f->ka_idle);
		SCALE(f->ka_intvl);
		SCALE(f->user_timeout);
		SCALE(f->heartbeat);
		SCALE(f->server_heartbeat);
		SCALE(f->warmup);
		SCALE(f->idle);
		SCALE(f->start);
		SCALE(f->ramp);
		SCALE(f->deadline);
		if (f->deadline.scaled_ms < MIN_SCALED_DEADLINE_MS)
			f->deadline.scaled_ms = MIN_SCALED_DEADLINE_MS;
		if (f->heartbeat.ms && !f->heartbeat.scaled_ms)
			f->heartbeat.scaled_ms = 1;
		/* the probe takes server heartbeats of 100 ms and more */
		if (f->server_heartbeat.ms && f->server_heartbeat.scaled_ms < 100)
			f->server_heartbeat.scaled_ms = 100;
		/* and warmups of 100 ms and more */
		if (f->warmup.ms && f->warmup.scaled_ms < 100)
			f->warmup.scaled_ms = 100;
		if (f->idle.ms && !f->idle.scaled_ms)
			f->idle.scaled_ms = 1;
	}
	for (size_t i = 0; i < sc->nevents; i++) {
		SCALE(sc->events[i].at);
		SCALE(sc->events[i].duration);
	}
#undef SCALE
}

/* One duration after time_scale: within the limit every path shares. */
static void check_scaled(struct pctx *c, int line, const char *where, const char *key,
			 const struct sc_duration *d)
{
	char s1[32], s2[32], scale[32];

	if (!line || d->scaled_ms <= DURATION_MAX_MS)
		return;
	DIAG(c, line, NULL, "%s%s: %s scaled by %s is %s, above the limit of " DURATION_MAX_TEXT,
	     where, key, duration_format(d->ms, s1, sizeof(s1)),
	     sc_scale_format(&c->sc->scale, scale, sizeof(scale)),
	     duration_format(d->scaled_ms, s2, sizeof(s2)));
}

/* d scaled or as written */
static uint64_t dur_ms(const struct sc_duration *d, bool scaled)
{
	return scaled ? d->scaled_ms : d->ms;
}

uint64_t sc_flow_span_ms(const struct sc_flow *f, bool scaled)
{
	uint64_t round = sat_add(dur_ms(&f->idle, scaled), dur_ms(&f->deadline, scaled));

	return sat_add(sat_add(sat_add(dur_ms(&f->start, scaled), dur_ms(&f->ramp, scaled)),
			       dur_ms(&f->warmup, scaled)),
		       sat_mul(f->cycles ? f->cycles : 1, round));
}

uint64_t sc_conn_start_ms(const struct sc_flow *f, unsigned k, bool scaled)
{
	uint64_t start = dur_ms(&f->start, scaled);

	if (f->count < 2 || k >= f->count)
		return start;
	return sat_add(start, sat_mul(dur_ms(&f->ramp, scaled), k) / (f->count - 1));
}

uint64_t sc_ka_span_ms(const struct sc_flow *f, bool scaled)
{
	if (f->keepalive == SC_KA_OFF)
		return 0;
	return sat_add(dur_ms(&f->ka_idle, scaled), sat_mul(dur_ms(&f->ka_intvl, scaled), f->ka_count));
}

uint64_t sc_event_end_ms(const struct sc_event *e, bool scaled)
{
	return sat_add(dur_ms(&e->at, scaled), dur_ms(&e->duration, scaled));
}

/* "start + ramp + cycles x (idle + deadline)", naming only what f sets */
static const char *span_words(const struct sc_flow *f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%scycles x (idle + deadline)", f->start.ms ? "start + " : "",
		 f->ramp.ms ? "ramp + " : "", f->warmup.ms ? "warmup + " : "");
	return buf;
}

/* A sum of flow f above the limit of a run, at line: said with its value. */
static void sum_too_long(struct pctx *c, int line, const char *what, const char *terms, uint64_t t)
{
	char s1[32];

	DIAG(c, line, NULL, "%s%s is %s, above the limit of " DURATION_MAX_TEXT " for a run", what, terms,
	     t == UINT64_MAX ? "too long to count" : duration_format(t, s1, sizeof(s1)));
}

/*
 * After time_scale, every duration the run uses and every sum of them the
 * runner waits for (a flow's cycles x (idle + deadline), an event's at +
 * blackhole) stays within DURATION_MAX_MS, computed without wrapping; the
 * middleboxes' knobs too, as they are scaled for the simulator.
 */
static void check_limits(struct pctx *c)
{
	struct scenario *sc = c->sc;
	char s1[32], where[80], v[64], words[80];
	size_t nk;
	const struct knob_info *knobs = policy_knobs(&nk);

	check_scaled(c, c->sk_line[SK_TIMEOUT], "", "timeout", &sc->timeout);
	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		const int *L = c->fp[i].line;
		uint64_t t;

		check_scaled(c, L[FK_IDLE], "", "idle", &f->idle);
		check_scaled(c, L[FK_DEADLINE], "", "deadline", &f->deadline);
		check_scaled(c, L[FK_HEARTBEAT], "", "heartbeat", &f->heartbeat);
		check_scaled(c, L[FK_SERVER_HEARTBEAT], "", "server_heartbeat", &f->server_heartbeat);
		check_scaled(c, L[FK_WARMUP], "", "warmup", &f->warmup);
		check_scaled(c, L[FK_TCP_USER_TIMEOUT], "", "tcp_user_timeout", &f->user_timeout);
		check_scaled(c, L[FK_START], "", "start", &f->start);
		check_scaled(c, L[FK_RAMP], "", "ramp", &f->ramp);
		t = sc_flow_span_ms(f, true);
		if (t > DURATION_MAX_MS) {
			snprintf(where, sizeof(where), "[flow %s]: ", f->name);
			sum_too_long(c, f->line, where, span_words(f, words, sizeof(words)), t);
		}
		t = sc_ka_span_ms(f, true);
		if (t > DURATION_MAX_MS && ka_checked(f))
			sum_too_long(c, L[FK_KEEPALIVE] ? L[FK_KEEPALIVE] : f->line, "keepalive: ",
				     "idle + interval x count", t);
	}
	for (size_t i = 0; i < sc->nevents; i++) {
		const struct sc_event *e = &sc->events[i];
		uint64_t t;

		check_scaled(c, c->ep[i].line[EK_AT], "", "at", &e->at);
		check_scaled(c, c->ep[i].line[EK_ACTION], "action: ", "blackhole", &e->duration);
		t = sc_event_end_ms(e, true);
		if (t > DURATION_MAX_MS && e->at.scaled_ms <= DURATION_MAX_MS &&
		    e->duration.scaled_ms <= DURATION_MAX_MS) {
			snprintf(where, sizeof(where), "[event %s]: ", e->name);
			sum_too_long(c, e->line, where, "at + blackhole", t);
		}
	}
	for (size_t i = 0; i < sc->nmb; i++) {
		const struct sc_middlebox *m = &sc->mb[i];
		struct policy scaled;

		scenario_policy_scaled(sc, m, &scaled);
		snprintf(where, sizeof(where), "[middlebox %s]: ", m->name);
		for (size_t k = 0; k < nk; k++) {
			const char *orig = NULL;
			uint64_t ms;
			int line = m->profile_line ? m->profile_line : m->line;
			char o[64];

			if (!knobs[k].values || strcmp(knobs[k].values, "duration") ||
			    policy_get(&scaled, knobs[k].name, v, sizeof(v)) < 0 ||
			    duration_parse(v, &ms) == 0 || errno != ERANGE)
				continue;
			for (size_t j = 0; j < m->noverrides; j++)
				if (!strcmp(m->overrides[j].knob, knobs[k].name)) {
					line = m->overrides[j].line;
					orig = m->overrides[j].value;
				}
			if (!orig && policy_get(&m->policy, knobs[k].name, o, sizeof(o)) == 0)
				orig = o;
			DIAG(c, line, NULL, "%s%s: %s scaled by %s is %s, above the limit of " DURATION_MAX_TEXT,
			     where, knobs[k].name, orig ? orig : "?", sc->scale_text[0] ? sc->scale_text :
			     sc_scale_format(&sc->scale, s1, sizeof(s1)), v);
		}
	}
}

static void check_events_in_time(struct pctx *c)
{
	struct scenario *sc = c->sc;
	uint64_t end = 0;
	char s1[32], s2[32];

	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		uint64_t t = sat_add(sat_mul(f->cycles, f->idle.ms), f->deadline.ms);

		if (f->command[0])
			return;         /* a command's length is unknown */
		if (t > end)
			end = t;
	}
	for (size_t i = 0; i < sc->nevents; i++) {
		const struct sc_event *e = &sc->events[i];
		if (c->ep[i].line[EK_AT] && e->at.ms >= end)
			DIAG(c, c->ep[i].line[EK_AT], NULL,
			     "at: '%s' is after every flow has finished (the last ends at %s)",
			     duration_format(e->at.ms, s1, sizeof(s1)), duration_format(end, s2, sizeof(s2)));
	}
}

/* A timeout the flows cannot finish in is an error now, not a run declared
 * stuck later: it must be longer than the longest flow's cycles x idle +
 * deadline (and the last event). Commands have no known length. */
static void check_timeout(struct pctx *c)
{
	struct scenario *sc = c->sc;
	uint64_t need = 0;
	const char *what = NULL;
	char s1[32], s2[32];

	if (!sc->timeout.ms)
		return;
	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		uint64_t t = sc_flow_span_ms(f, false);

		if (f->command[0])
			return;
		if (t > need) {
			need = t;
			what = f->name;
		}
	}
	for (size_t i = 0; i < sc->nevents; i++) {
		uint64_t t = sc_event_end_ms(&sc->events[i], false);

		if (t > need) {
			need = t;
			what = NULL;
		}
	}
	if (sc->timeout.ms <= need)
		DIAG(c, c->sk_line[SK_TIMEOUT],
		     "leave it out (the runner allows the estimate and a half), or make it longer",
		     "timeout: '%s' is not longer than the %s the %s%s%s needs (start + ramp + cycles x (idle + deadline))",
		     duration_format(sc->timeout.ms, s1, sizeof(s1)), duration_format(need, s2, sizeof(s2)),
		     what ? "flow " : "last event", what ? what : "", "");
}

/* A network the runner will build: a path, and the server ports of the
 * built-in probe flows on it. */
struct net_plan {
	const struct sc_flow *first;    /* its first flow: the path, and own */
	unsigned port[SC_MAX_PORTS];
	size_t nports;
};

static bool same_net(const struct net_plan *n, const struct sc_flow *f)
{
	const struct sc_flow *a = n->first;

	return !a->nsysctl && !f->nsysctl && a->npath == f->npath &&
	       !memcmp(a->path, f->path, f->npath * sizeof(f->path[0]));
}

/* The port of flow fi on network n; false after saying it is one too many. */
static bool net_port(struct pctx *c, struct net_plan *n, int fi)
{
	const struct sc_flow *f = &c->sc->flows[fi];
	unsigned port = f->port ? f->port : SC_DEFAULT_PORT;

	for (size_t i = 0; i < n->nports; i++)
		if (n->port[i] == port)
			return true;
	if (n->nports == SC_MAX_PORTS) {
		DIAG(c, c->fp[fi].line[FK_PORT] ? c->fp[fi].line[FK_PORT] : f->line,
		     "flows on one path share a probe server per port: give them fewer ports",
		     "[flow %s]: port %u is one server port more than a network takes: the limit is %d",
		     f->name, port, SC_MAX_PORTS);
		return false;
	}
	n->port[n->nports++] = port;
	return true;
}

/*
 * The networks a run builds, as the runner plans them (runner/run/run.c):
 * one per distinct path, one more per flow with sysctl.NAME; at most
 * SC_MAX_NETWORKS, each with at most SC_MAX_PORTS probe server ports.
 */
static void check_networks(struct pctx *c)
{
	const struct scenario *sc = c->sc;
	struct net_plan nets[SC_MAX_NETWORKS];
	size_t nn = 0;

	for (size_t i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];
		size_t k;

		for (k = 0; k < nn && !same_net(&nets[k], f); k++)
			;
		if (k == nn) {
			if (nn == SC_MAX_NETWORKS) {
				DIAG(c, f->line, "flows with the same path share a network; "
				     "a flow with sysctl.NAME has one of its own",
				     "[flow %s] needs network %zu: the limit is %d networks (distinct paths, "
				     "and flows with sysctl.NAME)", f->name, nn + 1, SC_MAX_NETWORKS);
				return;
			}
			nets[nn++] = (struct net_plan){ .first = f };
		}
		if (!f->command[0] && !net_port(c, &nets[k], (int)i))
			return;
	}
}

static void finish(struct pctx *c)
{
	struct scenario *sc = c->sc;

	if (!sc->nmb)
		DIAG(c, 0, "e.g. [middlebox nat] with profile = aws-nat-gateway",
		     "no [middlebox NAME] section: a scenario needs at least one middlebox");
	if (!sc->nflows)
		DIAG(c, 0, "e.g. [flow ssh] with idle = 400s and expect = alive",
		     "no [flow NAME] section: nothing to test");
	for (size_t i = 0; i < sc->nmb; i++)
		check_middlebox(c, &sc->mb[i]);
	{
		unsigned long total = 0;
		bool told = false;

		for (size_t i = 0; i < sc->nflows; i++) {
			check_flow(c, (int)i);
			total += sc->flows[i].count;
			if (total > SC_MAX_CONNECTIONS && !told) {
				told = true;
				DIAG(c, c->fp[i].line[FK_COUNT] ? c->fp[i].line[FK_COUNT] : sc->flows[i].line,
				     "split the population over several scenario files",
				     "[flow %s] brings the scenario to %lu connections; the limit is %d",
				     sc->flows[i].name, total, SC_MAX_CONNECTIONS);
			}
		}
	}
	check_networks(c);
	for (size_t i = 0; i < sc->nevents; i++)
		check_event(c, (int)i);
	apply_scale(sc);
	check_limits(c);
	check_scaling(c);
	check_events_in_time(c);
	check_timeout(c);
}

struct scenario *scenario_parse(const char *buf, size_t len, const char *name,
				const char *basedir, struct ini_diags *diags)
{
	struct scenario *sc = calloc(1, sizeof(*sc));
	struct pctx *c = calloc(1, sizeof(*c));

	ini_diags_init(diags, name);
	if (!sc || !c) {
		free(sc);
		free(c);
		ini_diag_add(diags, 0, NULL, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	snprintf(sc->file, sizeof(sc->file), "%s", name ? name : "(input)");
	sc->scale.num = sc->scale.den = 1;
	c->sc = sc;
	c->dg = diags;
	c->basedir = basedir;
	c->kind = SEC_NONE;
	iniread_parse(&c->r, buf, len, handler, on_section, c, diags);
	finish(c);
	sc_scale_format(&sc->scale, sc->scale_text, sizeof(sc->scale_text));
	free(c->fp);
	free(c->ep);
	free(c);
	if (diags->n || diags->dropped) {
		scenario_free(sc);
		errno = EINVAL;
		return NULL;
	}
	return sc;
}

struct scenario *scenario_load(const char *path, struct ini_diags *diags)
{
	struct scenario *sc;
	char *buf, dir[PATH_MAX];
	const char *slash;
	size_t len;

	buf = iniread_slurp(path, SC_MAX_FILE_BYTES, &len);
	if (!buf) {
		int saved = errno;
		ini_diags_init(diags, *path ? path : "''");
		if (!*path)
			ini_diag_add(diags, 0, NULL, "an empty file name (an empty argument?)");
		else if (saved == EFBIG)
			ini_diag_add(diags, 0, NULL, "file is larger than %d bytes", SC_MAX_FILE_BYTES);
		else if (saved == EISDIR)
			ini_diag_add(diags, 0, NULL, "is a directory, not a scenario file");
		else if (saved == EINVAL)
			ini_diag_add(diags, 0, NULL, "not a regular file (a FIFO, device or socket)");
		else
			ini_diag_add(diags, 0, NULL, "%s", strerror(saved));
		errno = saved;
		return NULL;
	}
	ini_diags_init(diags, path);
	if (iniread_check_text(buf, len, diags)) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	sc = scenario_parse(buf, len, path, dir, diags);
	free(buf);
	if (sc && !realpath(dir, sc->dir))
		sc->dir[0] = '\0';
	return sc;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->nmb; i++)
		free(sc->mb[i].overrides);
	free(sc->mb);
	free(sc->flows);
	free(sc->events);
	free(sc);
}

void scenario_policy_scaled(const struct scenario *sc, const struct sc_middlebox *mb,
			    struct policy *out)
{
	*out = mb->policy;
	for (int i = 0; i < TO_MAX; i++) {
		out->timeout[i] = scenario_scale(sc, out->timeout[i]);
		if (!out->timeout[i])
			out->timeout[i] = 1;
	}
	if (out->port_hold)
		out->port_hold = scenario_scale(sc, out->port_hold) ?: 1;
	out->sweep_interval = scenario_scale(sc, out->sweep_interval) ?: 1;
}

uint64_t scenario_estimate_ms(const struct scenario *sc)
{
	uint64_t end = 0;

	for (size_t i = 0; i < sc->nflows; i++) {
		uint64_t t = sc_flow_span_ms(&sc->flows[i], true);

		if (t > end)
			end = t;
	}
	for (size_t i = 0; i < sc->nevents; i++) {
		uint64_t t = sc_event_end_ms(&sc->events[i], true);

		if (t > end)
			end = t;
	}
	return end;
}
