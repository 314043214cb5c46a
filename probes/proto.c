// SPDX-License-Identifier: GPL-2.0-or-later
/* The probe hello/control wire format; see proto.h. */
#include "probes/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[PM_MAX] = {
	[PM_HELLO] = "HELLO", [PM_WELCOME] = "WELCOME", [PM_PING] = "PING",
	[PM_PONG] = "PONG",   [PM_HB] = "HB",           [PM_BYE] = "BYE",
	[PM_QUERY] = "QUERY", [PM_RESULT] = "RESULT",   [PM_ERROR] = "ERROR",
	[PM_MAP] = "MAP",     [PM_MAPPED] = "MAPPED",
};

static const char *const change_names[] = {
	[PC_NONE] = "none", [PC_PORT] = "port", [PC_ADDR] = "addr", [PC_BOTH] = "both",
};

/* Limits a hello must respect (the same as plan.c accepts). */
#define MAX_IDLE_MS (30ull * 86400000ull)
#define MAX_HB_MS (7ull * 86400000ull)
#define MAX_DEADLINE_MS (86400000ull)
#define MAX_AT_MS (366ll * 86400000ll)

const char *probe_proto_type_name(enum proto_type t)
{
	return (unsigned)t < PM_MAX ? type_names[t] : "?";
}

/* A cursor over the fields of one line. */
struct cur {
	const char *p, *end;
};

/* Next field (up to a space or the end) into out; NUL-terminated. */
static bool field(struct cur *c, char *out, size_t outlen)
{
	const char *s = c->p;
	size_t n;

	while (c->p < c->end && *c->p != ' ')
		c->p++;
	n = (size_t)(c->p - s);
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	if (c->p < c->end) {
		c->p++; /* the one space */
		if (c->p == c->end)
			return false; /* trailing space */
	}
	return true;
}

static bool at_end(const struct cur *c)
{
	return c->p == c->end;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (!parse_u64(s, max, &v) || v < min)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_id(const char *s, uint64_t *id)
{
	uint64_t v = 0;

	if (strlen(s) != 16)
		return false;
	for (int i = 0; i < 16; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		v = (v << 4) | d;
	}
	*id = v;
	return true;
}

static bool parse_ska(const char *s, struct plan_keepalive *ka)
{
	char a[8], b[8], c[8];
	const char *s1, *s2;

	memset(ka, 0, sizeof(*ka));
	if (!strcmp(s, "off")) {
		ka->mode = PLAN_KA_OFF;
		return true;
	}
	if (!strcmp(s, "default")) {
		ka->mode = PLAN_KA_DEFAULT;
		return true;
	}
	s1 = strchr(s, '/');
	s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	if (!s1 || !s2 || strchr(s2 + 1, '/'))
		return false;
	if ((size_t)(s1 - s) >= sizeof(a) || (size_t)(s2 - s1 - 1) >= sizeof(b) ||
	    strlen(s2 + 1) >= sizeof(c))
		return false;
	memcpy(a, s, (size_t)(s1 - s));
	a[s1 - s] = '\0';
	memcpy(b, s1 + 1, (size_t)(s2 - s1 - 1));
	b[s2 - s1 - 1] = '\0';
	strcpy(c, s2 + 1);
	if (!parse_u32(a, 1, PLAN_KA_TIME_MAX, &ka->idle_s) ||
	    !parse_u32(b, 1, PLAN_KA_TIME_MAX, &ka->intvl_s) ||
	    !parse_u32(c, 1, PLAN_KA_CNT_MAX, &ka->cnt))
		return false;
	ka->mode = PLAN_KA_SET;
	return true;
}

static bool check_addr(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return *s != ':' && probe_proto_addr_parse(s, &ss, &len) == 0;
}

static bool parse_reason(const char *s, char *out)
{
	size_t n = strlen(s);

	if (n == 0 || n > PROTO_REASON_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
			return false;
	strcpy(out, s);
	return true;
}

/* Room for the longest field any message has (an address, with slack). */
#define FIELD_MAX (PROTO_ADDR_MAX + 8)

/* A field spelled as one of a few words. */
struct proto_word {
	const char *word;
	int value;
};

static bool field_word(struct cur *c, const struct proto_word *w, size_t n, int *out)
{
	char f[FIELD_MAX];

	if (!field(c, f, sizeof(f)))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(f, w[i].word)) {
			*out = w[i].value;
			return true;
		}
	}
	return false;
}

#define FIELD_WORD(c, words, out) field_word(c, words, sizeof(words) / sizeof(words[0]), out)

static bool field_u64(struct cur *c, uint64_t max, uint64_t *out)
{
	char f[FIELD_MAX];

	return field(c, f, sizeof(f)) && parse_u64(f, max, out);
}

static bool field_u32(struct cur *c, uint32_t min, uint32_t max, uint32_t *out)
{
	char f[FIELD_MAX];

	return field(c, f, sizeof(f)) && parse_u32(f, min, max, out);
}

static bool field_addr(struct cur *c, char *out)
{
	char f[FIELD_MAX];

	if (!field(c, f, sizeof(f)) || !check_addr(f))
		return false;
	strcpy(out, f);
	return true;
}

/* The fixed fields of a HELLO after its name: the plan, in wire order. */
static bool parse_hello_plan(struct cur *c, struct proto_hello *h)
{
	static const struct proto_word protos[] = { { "tcp", PLAN_TCP }, { "udp", PLAN_UDP } };
	static const struct proto_word speakers[] = {
		{ "client", PLAN_SPEAKER_CLIENT }, { "server", PLAN_SPEAKER_SERVER },
	};
	static const struct proto_word ends[] = {
		{ "none", PLAN_END_NONE }, { "close", PLAN_END_CLOSE }, { "reset", PLAN_END_RESET },
	};
	char f[FIELD_MAX];
	int proto, speaker, end;

	if (!FIELD_WORD(c, protos, &proto) || !field_u64(c, MAX_IDLE_MS, &h->idle_ms) ||
	    !FIELD_WORD(c, speakers, &speaker) || !field_u32(c, 1, PLAN_CYCLES_MAX, &h->cycles))
		return false;
	h->proto = (enum plan_proto)proto;
	h->speaker = (enum plan_speaker)speaker;
	if (!field_u64(c, MAX_HB_MS, &h->hb_ms) || (h->hb_ms && h->hb_ms < 100))
		return false;
	if (!field_u64(c, MAX_DEADLINE_MS, &h->deadline_ms) || h->deadline_ms < 10)
		return false;
	if (!field(c, f, sizeof(f)) || !parse_ska(f, &h->server_ka) || !FIELD_WORD(c, ends, &end))
		return false;
	h->server_end = (enum plan_server_end)end;
	return true;
}

static bool parse_hello(struct cur *c, struct proto_msg *m)
{
	struct proto_hello *h = &m->hello;
	char f[FIELD_MAX];

	if (!field(c, f, sizeof(f)) || !probe_plan_name_valid(f))
		return false;
	strcpy(h->name, f);
	if (!parse_hello_plan(c, h))
		return false;
	if (!at_end(c)) {
		/* optional: shb=MS, never 0 (absent means none: one spelling per hello) */
		if (!field(c, f, sizeof(f)) || strncmp(f, "shb=", 4) ||
		    !parse_u64(f + 4, MAX_HB_MS, &h->shb_ms) || h->shb_ms < 100)
			return false;
	}
	/* TCP-only server options on a UDP flow: no plan asks for that */
	return h->proto != PLAN_UDP ||
	       (h->server_ka.mode == PLAN_KA_OFF && h->server_end == PLAN_END_NONE);
}

static bool parse_welcome(struct cur *c, struct proto_msg *m)
{
	return field_addr(c, m->addr);
}

/* PING carries its cycle (from 1), HB its sequence number (from 0). */
static bool parse_seq(struct cur *c, struct proto_msg *m)
{
	return field_u32(c, m->type == PM_PING, UINT32_MAX, &m->seq);
}

static bool parse_pong(struct cur *c, struct proto_msg *m)
{
	return field_u32(c, 1, UINT32_MAX, &m->seq) && field_addr(c, m->addr);
}

static bool parse_id_only(struct cur *c, struct proto_msg *m)
{
	return true;
}

/* at_ms: "-" (none) or a signed number of milliseconds, never "-0". */
static bool parse_at(struct cur *c, struct proto_msg *m)
{
	char f[FIELD_MAX];
	const char *s = f;
	bool neg = false;
	uint64_t v;

	if (!field(c, f, sizeof(f)))
		return false;
	if (!strcmp(f, "-")) {
		m->has_at = 0;
		return true;
	}
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!parse_u64(s, (uint64_t)MAX_AT_MS, &v) || (neg && v == 0))
		return false;
	m->has_at = 1;
	m->at_ms = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static bool parse_result(struct cur *c, struct proto_msg *m)
{
	char f[FIELD_MAX];
	enum probe_outcome o;

	if (!field(c, f, sizeof(f)))
		return false;
	for (o = OUT_ALIVE; o < OUT_MAX; o++)
		if (!strcmp(f, probe_outcome_name(o)))
			break;
	if (o == OUT_MAX)
		return false;
	m->outcome = o;
	if (!field_u32(c, 0, PLAN_CYCLES_MAX, &m->cycle) || !parse_at(c, m))
		return false;
	/* the rest of the line is one JSON object */
	if (at_end(c) || c->end - c->p < 2 || c->p[0] != '{' || c->end[-1] != '}')
		return false;
	m->json = c->p;
	m->json_len = (size_t)(c->end - c->p);
	c->p = c->end;
	return true;
}

static bool parse_map(struct cur *c, struct proto_msg *m)
{
	static const struct proto_word changes[] = {
		{ "none", PC_NONE }, { "port", PC_PORT }, { "addr", PC_ADDR }, { "both", PC_BOTH },
	};
	int ch;

	if (!FIELD_WORD(c, changes, &ch))
		return false;
	m->change = (enum proto_change)ch;
	return true;
}

/* MAPPED: the address seen, then the alternate one or "-" (none). */
static bool parse_mapped(struct cur *c, struct proto_msg *m)
{
	char f[FIELD_MAX];

	if (!field_addr(c, m->addr) || !field(c, f, sizeof(f)))
		return false;
	if (!strcmp(f, "-"))
		return true;
	if (strlen(f) >= sizeof(m->other) || !check_addr(f))
		return false;
	strcpy(m->other, f);
	return true;
}

static bool parse_error(struct cur *c, struct proto_msg *m)
{
	char f[FIELD_MAX];

	return field(c, f, sizeof(f)) && parse_reason(f, m->reason);
}

/* The fields after "IGP1 TYPE id", by type. */
static bool (*const body_parsers[PM_MAX])(struct cur *c, struct proto_msg *m) = {
	[PM_HELLO] = parse_hello, [PM_WELCOME] = parse_welcome, [PM_PING] = parse_seq,
	[PM_PONG] = parse_pong,   [PM_HB] = parse_seq,          [PM_BYE] = parse_id_only,
	[PM_QUERY] = parse_id_only, [PM_RESULT] = parse_result, [PM_ERROR] = parse_error,
	[PM_MAP] = parse_map,     [PM_MAPPED] = parse_mapped,
};

/*
 * The line as a whole: our version, within the length, printable ASCII.
 * Drops the trailing '\n' from *len. Returns 0, or -1 with errno.
 */
static int check_line(const char *buf, size_t *len)
{
	if (*len && buf[*len - 1] == '\n')
		(*len)--;
	/* "IGP2 ..." from a newer client: say so rather than "malformed" */
	if (*len >= 4 && !memcmp(buf, "IGP", 3) && buf[3] != '1') {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	if (*len < 5 || *len >= PROTO_LINE_MAX || memcmp(buf, PROTO_MAGIC " ", 5))
		goto inval;
	for (size_t i = 0; i < *len; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			goto inval;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

static bool parse_type(struct cur *c, enum proto_type *type)
{
	char f[16];

	if (!field(c, f, sizeof(f)))
		return false;
	for (int t = 0; t < PM_MAX; t++) {
		if (!strcmp(f, type_names[t])) {
			*type = (enum proto_type)t;
			return true;
		}
	}
	return false;
}

/* Every type has an id first; ERROR may say "-". */
static bool parse_msg_id(struct cur *c, struct proto_msg *m)
{
	char f[FIELD_MAX];

	if (!field(c, f, sizeof(f)))
		return false;
	if (m->type == PM_ERROR && !strcmp(f, "-")) {
		m->id = 0;
		return true;
	}
	return parse_id(f, &m->id);
}

int probe_proto_parse(const char *buf, size_t len, struct proto_msg *m)
{
	struct cur c;

	memset(m, 0, sizeof(*m));
	if (check_line(buf, &len) < 0)
		return -1;
	c.p = buf + 5;
	c.end = buf + len;
	if (!parse_type(&c, &m->type) || !parse_msg_id(&c, m) || !body_parsers[m->type](&c, m) ||
	    !at_end(&c)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static bool addr_ok(const char *s)
{
	return strlen(s) < PROTO_ADDR_MAX && check_addr(s);
}

int probe_proto_format(const struct proto_msg *m, char *buf, size_t len)
{
	char id[20], ska[48], shb[32];
	int n;

	if (m->type == PM_ERROR && m->id == 0)
		strcpy(id, "-");
	else
		snprintf(id, sizeof(id), "%016llx", (unsigned long long)m->id);

	switch (m->type) {
	case PM_HELLO: {
		const struct proto_hello *h = &m->hello;
		static const char *const ends[] = { "none", "close", "reset" };

		if (!probe_plan_name_valid(h->name) || h->cycles < 1 || (unsigned)h->server_end > 2)
			goto inval;
		if (h->server_ka.mode == PLAN_KA_SET)
			snprintf(ska, sizeof(ska), "%u/%u/%u", h->server_ka.idle_s,
				 h->server_ka.intvl_s, h->server_ka.cnt);
		else
			strcpy(ska, h->server_ka.mode == PLAN_KA_DEFAULT ? "default" : "off");
		if (h->shb_ms && (h->shb_ms < 100 || h->shb_ms > MAX_HB_MS))
			goto inval;
		if (h->shb_ms)
			snprintf(shb, sizeof(shb), " shb=%llu", (unsigned long long)h->shb_ms);
		else
			shb[0] = '\0';
		n = snprintf(buf, len, PROTO_MAGIC " HELLO %s %s %s %llu %s %u %llu %llu %s %s%s\n", id,
			     h->name, h->proto == PLAN_UDP ? "udp" : "tcp",
			     (unsigned long long)h->idle_ms,
			     h->speaker == PLAN_SPEAKER_SERVER ? "server" : "client", h->cycles,
			     (unsigned long long)h->hb_ms, (unsigned long long)h->deadline_ms, ska,
			     ends[h->server_end], shb);
		break;
	}
	case PM_WELCOME:
		if (!addr_ok(m->addr))
			goto inval;
		n = snprintf(buf, len, PROTO_MAGIC " WELCOME %s %s\n", id, m->addr);
		break;
	case PM_PING:
	case PM_HB:
		n = snprintf(buf, len, PROTO_MAGIC " %s %s %u\n", type_names[m->type], id, m->seq);
		break;
	case PM_PONG:
		if (!addr_ok(m->addr))
			goto inval;
		n = snprintf(buf, len, PROTO_MAGIC " PONG %s %u %s\n", id, m->seq, m->addr);
		break;
	case PM_BYE:
	case PM_QUERY:
		n = snprintf(buf, len, PROTO_MAGIC " %s %s\n", type_names[m->type], id);
		break;
	case PM_RESULT: {
		char at[24];

		if (m->outcome <= OUT_NONE || m->outcome >= OUT_MAX || !m->json || m->json_len < 2 ||
		    m->json[0] != '{' || m->json[m->json_len - 1] != '}')
			goto inval;
		for (size_t i = 0; i < m->json_len; i++)
			if ((unsigned char)m->json[i] < 0x20 || (unsigned char)m->json[i] > 0x7e)
				goto inval;
		if (m->has_at)
			snprintf(at, sizeof(at), "%lld", (long long)m->at_ms);
		else
			strcpy(at, "-");
		n = snprintf(buf, len, PROTO_MAGIC " RESULT %s %s %u %s %.*s\n", id,
			     probe_outcome_name(m->outcome), m->cycle, at, (int)m->json_len, m->json);
		break;
	}
	case PM_MAP:
		if ((unsigned)m->change > PC_BOTH)
			goto inval;
		n = snprintf(buf, len, PROTO_MAGIC " MAP %s %s\n", id, change_names[m->change]);
		break;
	case PM_MAPPED:
		if (!addr_ok(m->addr) || (m->other[0] && !addr_ok(m->other)))
			goto inval;
		n = snprintf(buf, len, PROTO_MAGIC " MAPPED %s %s %s\n", id, m->addr, m->other[0] ? m->other : "-");
		break;
	case PM_ERROR: {
		char r[PROTO_REASON_MAX + 1];
		if (!parse_reason(m->reason, r))
			goto inval;
		n = snprintf(buf, len, PROTO_MAGIC " ERROR %s %s\n", id, m->reason);
		break;
	}
	default:
		goto inval;
	}
	if (n < 0 || (size_t)n >= len || n >= PROTO_LINE_MAX) {
		errno = ENOSPC;
		return -1;
	}
	return n;
inval:
	errno = EINVAL;
	return -1;
}

void probe_proto_hello_from_plan(struct proto_hello *h, const struct probe_plan *p)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->name, p->name);
	h->proto = p->proto;
	h->idle_ms = p->idle_ms;
	h->hb_ms = p->heartbeat_ms;
	h->shb_ms = p->server_heartbeat_ms;
	h->deadline_ms = p->deadline_ms;
	h->speaker = p->speaker;
	h->cycles = p->cycles;
	h->server_ka = p->server_ka;
	h->server_end = p->server_end;
}

int probe_proto_addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs, *he;
	uint64_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (!s || !*s)
		goto inval;
	if (s[0] == '[') {
		he = strchr(s, ']');
		if (!he || he[1] != ':')
			goto inval;
		hs = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			goto inval;
		hs = s;
		he = colon;
	}
	if (!parse_u64(colon + 1, 65535, &port))
		goto inval;
	hl = (size_t)(he - hs);
	if (hl >= sizeof(host))
		goto inval;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (hl == 0) {
		/* ":PORT": any address, dual-stack */
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (s[0] == '[')
			goto inval;
		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_any;
		a6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*a6);
		return 0;
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			goto inval;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			goto inval;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*a4);
	}
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

char *probe_proto_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(buf, len, "%s:%u", host, ntohs(a6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
			snprintf(buf, len, "[%s]:%u", host, ntohs(a6->sin6_port));
		}
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}
