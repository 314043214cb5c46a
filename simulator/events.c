// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON-lines event log; see events.h. The file is written through a stdio
 * buffer flushed once per loop iteration, so a burst of events costs one
 * write. Each line is a jansson object built, dumped into a stack buffer
 * and freed at once: nothing grows with the number of events. */
#include "simulator/events.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonio.h"

struct events {
	FILE *f;
	events_sink_fn sink;
	void *sink_ctx;
	unsigned long lost;
	uint64_t lines;
};

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	}
	return "other";
}

static void lower(char *dst, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++)
		dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	dst[i] = '\0';
}

/* Members added in the order the lines have always had them. */
static int put(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v);
}

int events_format(const struct engine_event *ev, char *buf, size_t cap)
{
	char a[64], name[32];
	json_t *o = json_object();
	int rc = 0, n;

	if (!o)
		return -1;
	lower(name, sizeof(name), event_type_name(ev->type));
	rc |= put(o, "t_ms", json_integer((json_int_t)ev->now));
	rc |= put(o, "event", jsonio_str(name));
	if (ev->flow_id)
		rc |= put(o, "flow", json_integer(ev->flow_id));
	if (ev->tuple) {
		const struct pkt_tuple *t = ev->tuple;

		rc |= put(o, "proto", json_string(proto_name(t->proto)));
		rc |= put(o, "src", jsonio_str(addr_format(&t->src, a, sizeof(a))));
		rc |= put(o, "sport", json_integer(t->sport));
		rc |= put(o, "dst", jsonio_str(addr_format(&t->dst, a, sizeof(a))));
		rc |= put(o, "dport", json_integer(t->dport));
	}
	if (ev->nat) {
		rc |= put(o, "nat_addr", jsonio_str(addr_format(&ev->nat_addr, a, sizeof(a))));
		rc |= put(o, "nat_port", json_integer(ev->nat_port));
	}
	switch (ev->type) {
	case EV_FLOW_STATE:
	case EV_FLOW_EXPIRED:
		rc |= put(o, "from", jsonio_str(flow_state_name(ev->state_from)));
		rc |= put(o, "to", jsonio_str(flow_state_name(ev->state_to)));
		if (ev->type == EV_FLOW_EXPIRED) {
			rc |= put(o, "idle_ms", json_integer((json_int_t)ev->idle_ms));
			if (ev->what)
				rc |= put(o, "action", jsonio_str(ev->what));
		}
		break;
	case EV_DROP:
		rc |= put(o, "dir", json_string(ev->dir == DIR_OUT ? "out" : "in"));
		rc |= put(o, "reason", jsonio_str(drop_reason_name(ev->reason)));
		break;
	case EV_INJECT:
		rc |= put(o, "toward", json_string(ev->dir == DIR_OUT ? "outside" : "inside"));
		rc |= put(o, "what", jsonio_str(ev->what ? ev->what : "?"));
		rc |= put(o, "len", json_integer((json_int_t)ev->pkt_len));
		break;
	case EV_KEEPALIVE:
		rc |= put(o, "dir", json_string(ev->dir == DIR_OUT ? "out" : "in"));
		break;
	default:
		break;
	}
	n = rc ? -1 : jsonio_dumpb(o, 0, buf, cap);
	json_decref(o);
	return n;
}

struct events *events_open(const char *path)
{
	struct events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	if (path) {
		ev->f = fopen(path, "we");
		if (!ev->f) {
			int saved = errno;

			free(ev);
			errno = saved;
			return NULL;
		}
		setvbuf(ev->f, NULL, _IOFBF, 1 << 16);
	}
	return ev;
}

void events_close(struct events *ev)
{
	if (!ev)
		return;
	if (ev->f)
		fclose(ev->f);
	free(ev);
}

void events_set_sink(struct events *ev, events_sink_fn fn, void *ctx)
{
	ev->sink = fn;
	ev->sink_ctx = ctx;
}

static void put_line(struct events *ev, char *line, size_t len)
{
	/* line has room for the newline */
	line[len++] = '\n';
	line[len] = '\0';
	ev->lines++;
	if (ev->f && fwrite(line, 1, len, ev->f) != len)
		ev->lost++;
	if (ev->sink)
		ev->sink(ev->sink_ctx, line, len);
}

void events_emit(struct events *ev, const struct engine_event *e)
{
	char buf[1024];
	int n;

	if (!ev->f && !ev->sink)
		return;
	n = events_format(e, buf, sizeof(buf) - 1);
	if (n < 0) {
		ev->lost++;
		return;
	}
	put_line(ev, buf, (size_t)n);
}

void events_emit_line(struct events *ev, const char *json)
{
	size_t len = strlen(json);
	char *buf = malloc(len + 2);

	if (!buf) {
		ev->lost++;
		return;
	}
	memcpy(buf, json, len);
	put_line(ev, buf, len);
	free(buf);
}

int events_flush(struct events *ev)
{
	if (ev->f && fflush(ev->f) != 0) {
		ev->lost++;
		return -1;
	}
	return 0;
}

uint64_t events_lines(const struct events *ev)
{
	return ev->lines;
}

unsigned long events_lost(const struct events *ev)
{
	return ev->lost;
}
