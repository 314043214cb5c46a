// SPDX-License-Identifier: GPL-2.0-or-later
/* Flow plan parsing for idlegate-probe; see plan.h. */
#include "probes/plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"

static const char *const outcome_names[OUT_MAX] = {
	[OUT_NONE] = "none",
	[OUT_ALIVE] = "alive",
	[OUT_RESET] = "reset",
	[OUT_CLOSED] = "closed",
	[OUT_TIMEOUT] = "timeout",
	[OUT_KA_TIMEOUT] = "keepalive-timeout",
	[OUT_REBOUND] = "rebound",
	[OUT_UNREACHABLE] = "unreachable",
	[OUT_REFUSED] = "refused",
	[OUT_CONNECT_TIMEOUT] = "connect-timeout",
	[OUT_ERROR] = "error",
	[OUT_INTERRUPTED] = "interrupted",
};

const char *probe_outcome_name(enum probe_outcome o)
{
	if ((unsigned)o >= OUT_MAX)
		return "?";
	return outcome_names[o];
}

int probe_outcome_parse(const char *s, enum probe_outcome *o)
{
	for (unsigned i = OUT_ALIVE; i <= OUT_UNREACHABLE; i++) {
		if (!strcmp(s, outcome_names[i])) {
			*o = (enum probe_outcome)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

void probe_plan_init(struct probe_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->proto = PLAN_TCP;
	p->cycles = 1;
	p->deadline_ms = PLAN_DEFAULT_DEADLINE_MS;
}

bool probe_plan_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PLAN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

char *probe_plan_ka_format(const struct plan_keepalive *ka, char *buf, size_t len)
{
	char i[32], v[32];

	switch (ka->mode) {
	case PLAN_KA_OFF:
		snprintf(buf, len, "off");
		break;
	case PLAN_KA_DEFAULT:
		snprintf(buf, len, "kernel-default");
		break;
	case PLAN_KA_SET:
		snprintf(buf, len, "%s/%s/%u", duration_format(ka->idle_s * 1000ull, i, sizeof(i)),
			 duration_format(ka->intvl_s * 1000ull, v, sizeof(v)), ka->cnt);
		break;
	}
	return buf;
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = EINVAL;
	return -1;
}

/* A duration that must be a whole number of seconds in [1, max]. */
static int parse_whole_seconds(const char *key, const char *v, uint32_t max, uint32_t *out,
			       char *err, size_t errlen)
{
	uint64_t ms;

	if (duration_parse(v, &ms) < 0)
		return fail(err, errlen, "%s: '%s' is not a duration (e.g. 30s, 1m)", key, v);
	if (ms % 1000)
		return fail(err, errlen,
			    "%s: '%s' is not a whole number of seconds; the kernel takes whole seconds >= 1",
			    key, v);
	if (ms < 1000 || ms / 1000 > max)
		return fail(err, errlen, "%s: '%s' is out of range (1s .. %s)", key, v,
			    duration_format(max * 1000ull, (char[32]){ 0 }, 32));
	*out = (uint32_t)(ms / 1000);
	return 0;
}

static int parse_ka(const char *key, const char *v, struct plan_keepalive *ka, char *err,
		    size_t errlen)
{
	char buf[96], *parts[3], *save = NULL, *tok;
	int n = 0;
	uint32_t cnt;

	memset(ka, 0, sizeof(*ka));
	if (!strcmp(v, "off") || !strcmp(v, "no")) {
		ka->mode = PLAN_KA_OFF;
		return 0;
	}
	if (!strcmp(v, "kernel-default") || !strcmp(v, "default")) {
		ka->mode = PLAN_KA_DEFAULT;
		return 0;
	}
	if (strlen(v) >= sizeof(buf))
		return fail(err, errlen, "%s: value too long", key);
	strcpy(buf, v);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (n == 3)
			break;
		parts[n++] = tok;
	}
	if (n == 1 && !strchr(v, '/'))
		/* most likely the scenario file's 300s,30s,3, cut at its commas */
		return fail(err, errlen,
			    "%s: '%s' should be off, kernel-default or IDLE/INTERVAL/COUNT (e.g. 300s/30s/3; "
			    "a scenario file's 300s,30s,3 is written 300s/30s/3 here, where commas separate keys)",
			    key, v);
	if (n != 3 || tok || strstr(v, "//") || v[0] == '/' || v[strlen(v) - 1] == '/')
		return fail(err, errlen,
			    "%s: '%s' should be off, kernel-default or IDLE/INTERVAL/COUNT (e.g. 300s/30s/3)",
			    key, v);
	if (parse_whole_seconds(key, parts[0], PLAN_KA_TIME_MAX, &ka->idle_s, err, errlen) < 0 ||
	    parse_whole_seconds(key, parts[1], PLAN_KA_TIME_MAX, &ka->intvl_s, err, errlen) < 0)
		return -1;
	{
		char *end;
		unsigned long c;

		errno = 0;
		if (!isdigit((unsigned char)parts[2][0]))
			goto badcnt;
		c = strtoul(parts[2], &end, 10);
		if (errno || *end || c < 1 || c > PLAN_KA_CNT_MAX)
			goto badcnt;
		cnt = (uint32_t)c;
	}
	ka->cnt = cnt;
	ka->mode = PLAN_KA_SET;
	return 0;
badcnt:
	return fail(err, errlen, "%s: count '%s' should be a whole number 1..%u", key, parts[2],
		    PLAN_KA_CNT_MAX);
}

static int parse_ms(const char *key, const char *v, uint64_t min, uint64_t max, uint64_t *out,
		    char *err, size_t errlen)
{
	uint64_t ms;
	char a[32], b[32];

	if (duration_parse(v, &ms) < 0)
		return fail(err, errlen, "%s: '%s' is not a duration (e.g. 250ms, 3s, 15m)", key, v);
	if (ms < min || ms > max)
		return fail(err, errlen, "%s: '%s' is out of range (%s .. %s)", key, v,
			    duration_format(min, a, sizeof(a)), duration_format(max, b, sizeof(b)));
	*out = ms;
	return 0;
}

#define DAY_MS (86400000ull)

/* A value spelled as one of a few words. */
struct plan_word {
	const char *word;
	int value;
};

static bool plan_word_find(const struct plan_word *w, size_t n, const char *v, int *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v, w[i].word)) {
			*out = w[i].value;
			return true;
		}
	}
	return false;
}

#define WORD_FIND(words, v, out) plan_word_find(words, sizeof(words) / sizeof(words[0]), v, out)

/* "off" and "0" both mean "not set" for the optional timers. */
static bool plan_value_off(const char *v)
{
	return !strcmp(v, "off") || !strcmp(v, "0");
}

/*
 * One setter per key: k is the key as written (an alias names itself in
 * messages), v its value. Returns 0, or -1 via fail().
 */
typedef int plan_setter(struct probe_plan *p, const char *k, const char *v, char *err,
			size_t errlen);

static int set_name(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	if (!probe_plan_name_valid(v))
		return fail(err, errlen, "name: '%s' should be 1..%d characters of A-Z a-z 0-9 . _ -",
			    v, PLAN_NAME_MAX);
	strcpy(p->name, v);
	return 0;
}

static int set_proto(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	static const struct plan_word words[] = { { "tcp", PLAN_TCP }, { "udp", PLAN_UDP } };
	int x;

	if (!WORD_FIND(words, v, &x))
		return fail(err, errlen, "proto: '%s' should be tcp or udp", v);
	p->proto = (enum plan_proto)x;
	return 0;
}

static int set_family(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	static const struct plan_word words[] = {
		{ "4", 4 }, { "ipv4", 4 }, { "inet", 4 }, { "6", 6 }, { "ipv6", 6 }, { "inet6", 6 },
	};

	if (!WORD_FIND(words, v, &p->family))
		return fail(err, errlen, "family: '%s' should be 4 or 6", v);
	return 0;
}

static int set_keepalive(struct probe_plan *p, const char *k, const char *v, char *err,
			 size_t errlen)
{
	return parse_ka(k, v, &p->ka, err, errlen);
}

static int set_server_keepalive(struct probe_plan *p, const char *k, const char *v, char *err,
				size_t errlen)
{
	return parse_ka(k, v, &p->server_ka, err, errlen);
}

static int set_user_timeout(struct probe_plan *p, const char *k, const char *v, char *err,
			    size_t errlen)
{
	if (plan_value_off(v)) {
		p->user_timeout_s = 0;
		return 0;
	}
	return parse_whole_seconds(k, v, 86400 * 24, &p->user_timeout_s, err, errlen);
}

/* A heartbeat interval: off, or 100 ms .. 7 days. */
static int parse_heartbeat(const char *k, const char *v, uint64_t *out, char *err, size_t errlen)
{
	if (plan_value_off(v)) {
		*out = 0;
		return 0;
	}
	return parse_ms(k, v, 100, 7 * DAY_MS, out, err, errlen);
}

static int set_heartbeat(struct probe_plan *p, const char *k, const char *v, char *err,
			 size_t errlen)
{
	return parse_heartbeat(k, v, &p->heartbeat_ms, err, errlen);
}

static int set_server_heartbeat(struct probe_plan *p, const char *k, const char *v, char *err,
				size_t errlen)
{
	return parse_heartbeat(k, v, &p->server_heartbeat_ms, err, errlen);
}

/* UDP two-way traffic before the idle: off, or 100 ms .. 1 hour. */
static int set_warmup(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	if (plan_value_off(v)) {
		p->warmup_ms = 0;
		return 0;
	}
	return parse_ms(k, v, 100, 3600000, &p->warmup_ms, err, errlen);
}

static int set_idle(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	return parse_ms(k, v, 0, 30 * DAY_MS, &p->idle_ms, err, errlen);
}

static int set_deadline(struct probe_plan *p, const char *k, const char *v, char *err,
			size_t errlen)
{
	return parse_ms(k, v, 10, DAY_MS, &p->deadline_ms, err, errlen);
}

static int set_start(struct probe_plan *p, const char *k, const char *v, char *err,
		     size_t errlen)
{
	return parse_ms(k, v, 0, DAY_MS, &p->start_ms, err, errlen);
}

static int set_speaker(struct probe_plan *p, const char *k, const char *v, char *err,
		       size_t errlen)
{
	static const struct plan_word words[] = {
		{ "client", PLAN_SPEAKER_CLIENT }, { "server", PLAN_SPEAKER_SERVER },
	};
	int x;

	if (!WORD_FIND(words, v, &x))
		return fail(err, errlen, "speaker: '%s' should be client or server", v);
	p->speaker = (enum plan_speaker)x;
	return 0;
}

static int set_cycles(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	char *end;
	unsigned long c;

	errno = 0;
	c = isdigit((unsigned char)v[0]) ? strtoul(v, &end, 10) : 0;
	if (!isdigit((unsigned char)v[0]) || errno || *end || c < 1 || c > PLAN_CYCLES_MAX)
		return fail(err, errlen, "cycles: '%s' should be a whole number 1..%u", v,
			    PLAN_CYCLES_MAX);
	p->cycles = (uint32_t)c;
	return 0;
}

static int set_expect(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	if (probe_outcome_parse(v, &p->expect) < 0)
		return fail(err, errlen,
			    "expect: '%s' should be one of alive, reset, closed, timeout, keepalive-timeout, rebound, unreachable",
			    v);
	p->has_expect = true;
	return 0;
}

static int set_server_end(struct probe_plan *p, const char *k, const char *v, char *err,
			  size_t errlen)
{
	static const struct plan_word words[] = {
		{ "none", PLAN_END_NONE }, { "close", PLAN_END_CLOSE }, { "reset", PLAN_END_RESET },
	};
	int x;

	if (!WORD_FIND(words, v, &x))
		return fail(err, errlen, "server_end: '%s' should be none, close or reset", v);
	p->server_end = (enum plan_server_end)x;
	return 0;
}

static int set_rebind(struct probe_plan *p, const char *k, const char *v, char *err, size_t errlen)
{
	static const struct plan_word words[] = {
		{ "yes", 1 }, { "1", 1 }, { "true", 1 }, { "no", 0 }, { "0", 0 }, { "false", 0 },
	};
	int x;

	if (!WORD_FIND(words, v, &x))
		return fail(err, errlen, "rebind: '%s' should be yes or no", v);
	p->rebind = x;
	return 0;
}

/* Which keys were given: aliases share one slot, so "given twice" sees them. */
enum {
	K_NAME, K_PROTO, K_FAMILY, K_KA, K_SKA, K_UTO, K_HB, K_IDLE, K_SPEAKER, K_CYCLES,
	K_DEADLINE, K_EXPECT, K_SEND, K_REBIND, K_SHB, K_START, K_WARMUP, K_MAX
};

static const struct plan_key {
	const char *name;
	int slot;
	plan_setter *set;
} plan_keys[] = {
	{ "name", K_NAME, set_name },
	{ "proto", K_PROTO, set_proto },
	{ "family", K_FAMILY, set_family },
	{ "keepalive", K_KA, set_keepalive },
	{ "server_keepalive", K_SKA, set_server_keepalive },
	{ "user_timeout", K_UTO, set_user_timeout },
	{ "tcp_user_timeout", K_UTO, set_user_timeout },
	{ "heartbeat", K_HB, set_heartbeat },
	{ "idle", K_IDLE, set_idle },
	{ "speaker", K_SPEAKER, set_speaker },
	{ "cycles", K_CYCLES, set_cycles },
	{ "deadline", K_DEADLINE, set_deadline },
	{ "expect", K_EXPECT, set_expect },
	{ "server_end", K_SEND, set_server_end },
	{ "rebind", K_REBIND, set_rebind },
	{ "server_heartbeat", K_SHB, set_server_heartbeat },
	{ "start", K_START, set_start },
	{ "warmup", K_WARMUP, set_warmup },
};

static const struct plan_key *plan_key_find(const char *k)
{
	for (size_t i = 0; i < sizeof(plan_keys) / sizeof(plan_keys[0]); i++)
		if (!strcmp(plan_keys[i].name, k))
			return &plan_keys[i];
	return NULL;
}

/*
 * Split one "KEY=VALUE" item in place (surrounding blanks trimmed) and apply
 * it, refusing unknown keys and keys already in seen.
 */
static int plan_item_apply(struct probe_plan *p, char *item, const char *spec, bool *seen,
			   char *err, size_t errlen)
{
	const struct plan_key *key;
	char *eq, *e;

	while (isspace((unsigned char)*item))
		item++;
	e = item + strlen(item);
	while (e > item && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (!*item)
		return fail(err, errlen, "empty item in '%s'", spec);
	eq = strchr(item, '=');
	if (!eq || eq == item || !eq[1])
		return fail(err, errlen, "'%s' should be KEY=VALUE", item);
	*eq = '\0';
	key = plan_key_find(item);
	if (!key)
		return fail(err, errlen, "unknown key '%s'", item);
	if (seen[key->slot])
		return fail(err, errlen, "%s: given twice", item);
	seen[key->slot] = true;
	return key->set(p, item, eq + 1, err, errlen);
}

/* The checks across keys, once all are set: options that do not fit the protocol. */
static int plan_check(const struct probe_plan *p, char *err, size_t errlen)
{
	if (p->proto == PLAN_UDP) {
		if (p->ka.mode != PLAN_KA_OFF || p->server_ka.mode != PLAN_KA_OFF)
			return fail(err, errlen,
				    "keepalive: TCP keepalive does not apply to udp flows (use heartbeat=)");
		if (p->user_timeout_s)
			return fail(err, errlen, "user_timeout: TCP_USER_TIMEOUT does not apply to udp flows");
		if (p->server_end != PLAN_END_NONE)
			return fail(err, errlen, "server_end: only for tcp flows");
	} else if (p->rebind) {
		return fail(err, errlen, "rebind: only for udp flows");
	} else if (p->warmup_ms) {
		return fail(err, errlen, "warmup: only for udp flows");
	}
	/* the simulated rebinding happens on the client's first packet after the idle */
	if (p->rebind && p->speaker != PLAN_SPEAKER_CLIENT)
		return fail(err, errlen, "rebind: needs speaker=client");
	if (p->has_expect && p->expect == OUT_REBOUND && p->proto != PLAN_UDP)
		return fail(err, errlen, "expect: rebound only happens to udp flows");
	return 0;
}

int probe_plan_parse(const char *spec, struct probe_plan *p, char *err, size_t errlen)
{
	char *copy, *rest, *item;
	bool seen[K_MAX] = { false };
	int rc = -1;

	probe_plan_init(p);
	if (err && errlen)
		err[0] = '\0';
	copy = strdup(spec);
	if (!copy)
		return fail(err, errlen, "out of memory");
	rest = copy;
	while ((item = strsep(&rest, ",")) != NULL)
		if (plan_item_apply(p, item, spec, seen, err, errlen) < 0)
			goto out;
	rc = plan_check(p, err, errlen);
out:
	free(copy);
	return rc;
}

int probe_plan_parse_stream(FILE *f, struct probe_plan **plans, size_t *n, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, count = 0, alloc = 0;
	struct probe_plan *v = NULL;
	ssize_t len;
	unsigned lineno = 0;
	char sub[256];

	*plans = NULL;
	*n = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *s = line, *hash, *e;

		lineno++;
		hash = strchr(s, '#');
		if (hash)
			*hash = '\0';
		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*s)
			continue;
		if (count == alloc) {
			size_t na = alloc ? alloc * 2 : 8;
			struct probe_plan *nv = realloc(v, na * sizeof(*v));
			if (!nv) {
				fail(err, errlen, "out of memory");
				errno = ENOMEM;
				goto fail;
			}
			v = nv;
			alloc = na;
		}
		if (probe_plan_parse(s, &v[count], sub, sizeof(sub)) < 0) {
			fail(err, errlen, "line %u: %s", lineno, sub);
			goto fail;
		}
		count++;
	}
	if (ferror(f)) {
		fail(err, errlen, "read error");
		errno = EIO;
		goto fail;
	}
	free(line);
	*plans = v;
	*n = count;
	return 0;
fail:
	{
		int e = errno;
		free(line);
		free(v);
		errno = e;
	}
	return -1;
}
