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
	switch (ka->mode) {
	case PLAN_KA_OFF:
		snprintf(buf, len, "off");
		break;
	case PLAN_KA_DEFAULT:
		snprintf(buf, len, "kernel-default");
		break;
	case PLAN_KA_SET:
		snprintf(buf, len, "%us/%us/%u", ka->idle_s, ka->intvl_s, ka->cnt);
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
		return fail(err, errlen, "%s: '%s' is out of range (1s .. %us)", key, v, max);
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

enum {
	K_NAME, K_PROTO, K_FAMILY, K_KA, K_SKA, K_UTO, K_HB, K_IDLE, K_SPEAKER, K_CYCLES,
	K_DEADLINE, K_EXPECT, K_SEND, K_REBIND, K_SHB, K_MAX
};
static const struct {
	const char *name;
	int key;
} keys[] = {
	{ "name", K_NAME }, { "proto", K_PROTO }, { "family", K_FAMILY },
	{ "keepalive", K_KA }, { "server_keepalive", K_SKA },
	{ "user_timeout", K_UTO }, { "tcp_user_timeout", K_UTO },
	{ "heartbeat", K_HB }, { "idle", K_IDLE }, { "speaker", K_SPEAKER },
	{ "cycles", K_CYCLES }, { "deadline", K_DEADLINE }, { "expect", K_EXPECT },
	{ "server_end", K_SEND }, { "rebind", K_REBIND }, { "server_heartbeat", K_SHB },
};

#define DAY_MS (86400000ull)

static int set_key(struct probe_plan *p, int key, const char *k, const char *v, char *err,
		   size_t errlen)
{
	switch (key) {
	case K_NAME:
		if (!probe_plan_name_valid(v))
			return fail(err, errlen,
				    "name: '%s' should be 1..%d characters of A-Z a-z 0-9 . _ -", v,
				    PLAN_NAME_MAX);
		strcpy(p->name, v);
		return 0;
	case K_PROTO:
		if (!strcmp(v, "tcp"))
			p->proto = PLAN_TCP;
		else if (!strcmp(v, "udp"))
			p->proto = PLAN_UDP;
		else
			return fail(err, errlen, "proto: '%s' should be tcp or udp", v);
		return 0;
	case K_FAMILY:
		if (!strcmp(v, "4") || !strcmp(v, "ipv4") || !strcmp(v, "inet"))
			p->family = 4;
		else if (!strcmp(v, "6") || !strcmp(v, "ipv6") || !strcmp(v, "inet6"))
			p->family = 6;
		else
			return fail(err, errlen, "family: '%s' should be 4 or 6", v);
		return 0;
	case K_KA:
		return parse_ka(k, v, &p->ka, err, errlen);
	case K_SKA:
		return parse_ka(k, v, &p->server_ka, err, errlen);
	case K_UTO:
		if (!strcmp(v, "off") || !strcmp(v, "0")) {
			p->user_timeout_s = 0;
			return 0;
		}
		return parse_whole_seconds(k, v, 86400 * 24, &p->user_timeout_s, err, errlen);
	case K_HB:
		if (!strcmp(v, "off") || !strcmp(v, "0")) {
			p->heartbeat_ms = 0;
			return 0;
		}
		return parse_ms(k, v, 100, 7 * DAY_MS, &p->heartbeat_ms, err, errlen);
	case K_SHB:
		if (!strcmp(v, "off") || !strcmp(v, "0")) {
			p->server_heartbeat_ms = 0;
			return 0;
		}
		return parse_ms(k, v, 100, 7 * DAY_MS, &p->server_heartbeat_ms, err, errlen);
	case K_IDLE:
		return parse_ms(k, v, 0, 30 * DAY_MS, &p->idle_ms, err, errlen);
	case K_DEADLINE:
		return parse_ms(k, v, 10, DAY_MS, &p->deadline_ms, err, errlen);
	case K_SPEAKER:
		if (!strcmp(v, "client"))
			p->speaker = PLAN_SPEAKER_CLIENT;
		else if (!strcmp(v, "server"))
			p->speaker = PLAN_SPEAKER_SERVER;
		else
			return fail(err, errlen, "speaker: '%s' should be client or server", v);
		return 0;
	case K_CYCLES: {
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
	case K_EXPECT:
		if (probe_outcome_parse(v, &p->expect) < 0)
			return fail(err, errlen,
				    "expect: '%s' should be one of alive, reset, closed, timeout, keepalive-timeout, rebound, unreachable",
				    v);
		p->has_expect = true;
		return 0;
	case K_SEND:
		if (!strcmp(v, "none"))
			p->server_end = PLAN_END_NONE;
		else if (!strcmp(v, "close"))
			p->server_end = PLAN_END_CLOSE;
		else if (!strcmp(v, "reset"))
			p->server_end = PLAN_END_RESET;
		else
			return fail(err, errlen, "server_end: '%s' should be none, close or reset", v);
		return 0;
	case K_REBIND:
		if (!strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true"))
			p->rebind = true;
		else if (!strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false"))
			p->rebind = false;
		else
			return fail(err, errlen, "rebind: '%s' should be yes or no", v);
		return 0;
	}
	return fail(err, errlen, "%s: internal error", k);
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
	while ((item = strsep(&rest, ",")) != NULL) {
		char *eq, *k, *v, *e;
		size_t i;

		while (isspace((unsigned char)*item))
			item++;
		e = item + strlen(item);
		while (e > item && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*item) {
			fail(err, errlen, "empty item in '%s'", spec);
			goto out;
		}
		eq = strchr(item, '=');
		if (!eq || eq == item || !eq[1]) {
			fail(err, errlen, "'%s' should be KEY=VALUE", item);
			goto out;
		}
		*eq = '\0';
		k = item;
		v = eq + 1;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(keys[i].name, k))
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			fail(err, errlen, "unknown key '%s'", k);
			goto out;
		}
		if (seen[keys[i].key]) {
			fail(err, errlen, "%s: given twice", k);
			goto out;
		}
		seen[keys[i].key] = true;
		if (set_key(p, keys[i].key, k, v, err, errlen) < 0)
			goto out;
	}
	if (p->proto == PLAN_UDP) {
		if (p->ka.mode != PLAN_KA_OFF || p->server_ka.mode != PLAN_KA_OFF) {
			fail(err, errlen, "keepalive: TCP keepalive does not apply to udp flows (use heartbeat=)");
			goto out;
		}
		if (p->user_timeout_s) {
			fail(err, errlen, "user_timeout: TCP_USER_TIMEOUT does not apply to udp flows");
			goto out;
		}
		if (p->server_end != PLAN_END_NONE) {
			fail(err, errlen, "server_end: only for tcp flows");
			goto out;
		}
	} else if (p->rebind) {
		fail(err, errlen, "rebind: only for udp flows");
		goto out;
	}
	if (p->rebind && p->speaker != PLAN_SPEAKER_CLIENT) {
		/* the simulated rebinding happens on the client's first packet after the idle */
		fail(err, errlen, "rebind: needs speaker=client");
		goto out;
	}
	if (p->has_expect && p->expect == OUT_REBOUND && p->proto != PLAN_UDP) {
		fail(err, errlen, "expect: rebound only happens to udp flows");
		goto out;
	}
	rc = 0;
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
