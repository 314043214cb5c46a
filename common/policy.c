// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Policy knobs by name: one table drives parsing, printing, --help and the
 * documentation check, so a knob cannot exist in one place and not another.
 */
#include "common/policy.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"

enum knob_kind { K_TIMEOUT, K_ENUM, K_REFRESH, K_ADDR, K_RANGE, K_DURATION, K_UINT, K_PROB };

struct knob {
	struct knob_info info;
	enum knob_kind kind;
	size_t off;                     /* offset into struct policy */
	const char *const *names;       /* K_ENUM: value names, index = enum value */
	unsigned nnames;
	int sub;                        /* timeout index / direction */
};

#define OFF(field) offsetof(struct policy, field)

static const char *const on_expire_names[] = {
	"drop", "rst-inside-on-next", "rst-next-sender", "rst-both-at-expiry",
	"fin-inside", "icmp-unreachable",
};
static const char *const pickup_names[] = { "strict", "loose" };
static const char *const rst_check_names[] = { "window", "any" };
static const char *const nat_names[] = { "off", "snat" };
static const char *const ports_names[] = { "preserve", "sequential", "random" };
static const char *const behaviour_names[] = {
	"endpoint-independent", "address-dependent", "address-and-port-dependent",
};
static const char *const expiry_names[] = { "exact", "sweep" };
static const char *const full_names[] = { "refuse", "evict-idle", "early-drop" };
static const char *const exhausted_names[] = { "drop", "rst", "icmp" };
static const char *const reuse_names[] = { "exclusive", "per-destination" };
static const char *const inbound_names[] = { "pass", "drop", "rst" };

#define ENUMK(n, f, arr, h) { { n, NULL, h }, K_ENUM, OFF(f), arr, sizeof(arr) / sizeof(arr[0]), 0 }
#define TOK(n, id, h) { { n, "duration", h }, K_TIMEOUT, 0, NULL, 0, id }

static const struct knob knobs[] = {
	TOK("tcp.syn_sent", TO_TCP_SYN_SENT, "idle timeout after a SYN, before the SYN-ACK"),
	TOK("tcp.syn_recv", TO_TCP_SYN_RECV, "idle timeout after the SYN-ACK, before the handshake's ACK"),
	TOK("tcp.established", TO_TCP_ESTABLISHED, "idle timeout of an established TCP connection"),
	TOK("tcp.fin_wait", TO_TCP_FIN_WAIT, "idle timeout after the first FIN"),
	TOK("tcp.close_wait", TO_TCP_CLOSE_WAIT, "idle timeout after the first FIN was acknowledged"),
	TOK("tcp.last_ack", TO_TCP_LAST_ACK, "idle timeout after the second FIN"),
	TOK("tcp.time_wait", TO_TCP_TIME_WAIT, "time a closed connection's entry is kept"),
	TOK("tcp.close", TO_TCP_CLOSE, "time an entry is kept after a RST"),
	TOK("tcp.unacknowledged", TO_TCP_UNACK, "idle timeout (if shorter) while data is unacknowledged"),
	TOK("udp.unreplied", TO_UDP_UNREPLIED, "UDP idle timeout before a reply was seen (and in the first 2 s)"),
	TOK("udp.assured", TO_UDP_ASSURED, "UDP idle timeout once replies were seen for over 2 s"),
	TOK("icmp", TO_ICMP, "ICMP echo idle timeout"),
	TOK("udp.stream_after", TO_UDP_STREAM,
	    "a replied UDP flow becomes assured only with traffic this long after its first packet"),
	TOK("expired_hold", TO_EXPIRED_HOLD,
	    "how long an expired flow waits for its next packet when on_expire acts on the next sender"),
	{ { "refresh", "any|outbound|inbound[,data-only]",
	    "which packets restart the idle timer; data-only: pure ACKs and keepalives do not" },
	  K_REFRESH, OFF(refresh), NULL, 0, 0 },
	ENUMK("on_expire", on_expire, on_expire_names, "what an expired TCP flow does to its endpoints"),
	ENUMK("pickup", pickup_loose, pickup_names,
	      "loose: a mid-stream TCP packet without a flow starts one; strict: it is dropped"),
	ENUMK("tcp.rst_check", rst_check, rst_check_names,
	      "window: a RST counts only within the connection's window (exactly at the next expected sequence number when established), as conntrack; any: every RST closes"),
	ENUMK("inbound_unknown", inbound_unknown, inbound_names,
	      "an inbound packet matching no flow or mapping: pass (with NAT: to the box's own stack), drop, or answer RST"),
	ENUMK("nat", nat, nat_names, "off: stateful firewall; snat: source NAT to nat.address (IPv4)"),
	{ { "nat.address", "IPv4 address", "outside address of the NAT" }, K_ADDR, OFF(nat_addr), NULL, 0, 0 },
	ENUMK("nat.ports", nat_ports, ports_names, "outside port choice: keep the inside port if free, or sequential, or random"),
	{ { "nat.port_range", "LOW-HIGH", "outside ports to allocate from" }, K_RANGE, 0, NULL, 0, 0 },
	ENUMK("nat.mapping", mapping, behaviour_names, "RFC 4787 mapping behaviour"),
	ENUMK("nat.filtering", filtering, behaviour_names, "RFC 4787 filtering behaviour for inbound packets"),
	{ { "nat.port_hold", "duration", "time a freed outside port stays unusable" },
	  K_DURATION, OFF(port_hold), NULL, 0, 0 },
	ENUMK("nat.port_reuse", port_reuse, reuse_names,
	      "exclusive: an outside port serves one mapping at a time; per-destination: several, toward different destinations (address, port), as masquerade and cloud NATs reuse ports (needs nat.filtering = address-and-port-dependent)"),
	{ { "nat.ports_per_host", "count", "connections one inside host may have to one destination (address, port, protocol) at once, as many outside ports as it is allotted; 0: no limit" },
	  K_UINT, OFF(ports_per_host), NULL, 0, 3 },
	{ { "nat.max_per_destination", "count", "connections through the NAT to one destination (address, port, protocol) at once; 0: no limit" },
	  K_UINT, OFF(max_per_destination), NULL, 0, 3 },
	ENUMK("nat.when_exhausted", when_exhausted, exhausted_names,
	      "a new outbound connection with no port or limit left: drop (client connect-timeout), rst (TCP RST, else ICMP port unreachable: refused), icmp (ICMP administratively prohibited)"),
	ENUMK("expiry", expiry, expiry_names,
	      "exact: a flow expires at last packet + timeout to the ms; sweep: only when a periodic sweep finds it"),
	{ { "sweep_interval", "duration", "period of the garbage-collection sweep (expiry = sweep)" },
	  K_DURATION, OFF(sweep_interval), NULL, 0, 0 },
	{ { "table.max_flows", "count", "size of the flow table" }, K_UINT, OFF(max_flows), NULL, 0, 0 },
	ENUMK("table.when_full", when_full, full_names, "a new flow when the table is full: refuse it, evict the longest-idle of a few sampled flows not assured, or early-drop as Linux conntrack (every flow not assured in the first of 8 buckets from the new flow's that has one)"),
	{ { "loss.outbound", "probability or N%", "packet loss inside -> outside (seeded, reproducible)" },
	  K_PROB, OFF(loss), NULL, 0, 0 },
	{ { "loss.inbound", "probability or N%", "packet loss outside -> inside" },
	  K_PROB, OFF(loss), NULL, 0, 1 },
	{ { "delay.outbound", "duration", "added delay inside -> outside" },
	  K_DURATION, OFF(delay), NULL, 0, 0 },
	{ { "delay.inbound", "duration", "added delay outside -> inside" },
	  K_DURATION, OFF(delay), NULL, 0, 1 },
	{ { "seed", "integer", "seed of the loss generator and random ports" }, K_UINT, OFF(seed), NULL, 0, 2 },
};
#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))

void policy_init(struct policy *p)
{
	static const uint64_t defaults[TO_MAX] = {
		[TO_TCP_SYN_SENT] = 120, [TO_TCP_SYN_RECV] = 60,
		[TO_TCP_ESTABLISHED] = 432000, [TO_TCP_FIN_WAIT] = 120,
		[TO_TCP_CLOSE_WAIT] = 60, [TO_TCP_LAST_ACK] = 30,
		[TO_TCP_TIME_WAIT] = 120, [TO_TCP_CLOSE] = 10,
		[TO_TCP_UNACK] = 300, [TO_UDP_UNREPLIED] = 30,
		[TO_UDP_ASSURED] = 120, [TO_ICMP] = 30, [TO_UDP_STREAM] = 2, [TO_EXPIRED_HOLD] = 3600,
	};

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < TO_MAX; i++)
		p->timeout[i] = defaults[i] * 1000;
	p->refresh = REFRESH_OUT | REFRESH_IN;
	p->on_expire = EXPIRE_DROP;
	p->pickup_loose = true;
	p->rst_check = RST_CHECK_WINDOW;
	p->inbound_unknown = INBOUND_PASS;
	p->nat = NAT_OFF;
	p->nat_ports = PORTS_PRESERVE;
	p->port_min = 1024;
	p->port_max = 65535;
	p->mapping = NAT_EI;
	p->filtering = NAT_APD;
	p->expiry = EXPIRY_EXACT;
	p->sweep_interval = 60000;
	p->max_flows = 65536;
	p->when_full = FULL_REFUSE;
	p->seed = 1;
}

static const struct knob *knob_find(const char *key)
{
	for (size_t i = 0; i < NKNOBS; i++)
		if (!strcmp(knobs[i].info.name, key))
			return &knobs[i];
	return NULL;
}

static void enum_values(const struct knob *k, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < k->nnames && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "|" : "", k->names[i]);
}

#define ERR(...) do { if (err) snprintf(err, errlen, __VA_ARGS__); } while (0)

static int set_enum_field(struct policy *p, const struct knob *k, unsigned v)
{
	char *f = (char *)p + k->off;

	/* bool and enum fields differ in size */
	if (k->off == OFF(pickup_loose))
		*(bool *)f = v != 0;
	else
		*(int *)f = (int)v;
	return 0;
}

static int get_enum_field(const struct policy *p, const struct knob *k)
{
	const char *f = (const char *)p + k->off;

	if (k->off == OFF(pickup_loose))
		return *(const bool *)f;
	return *(const int *)f;
}

static int parse_refresh(const char *value, unsigned *out)
{
	char buf[128], *save = NULL, *tok;
	unsigned dir = 0, flags = 0;

	if (strlen(value) >= sizeof(buf))
		return -1;
	strcpy(buf, value);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		unsigned d;
		if (!strcmp(tok, "any"))
			d = REFRESH_OUT | REFRESH_IN;
		else if (!strcmp(tok, "outbound"))
			d = REFRESH_OUT;
		else if (!strcmp(tok, "inbound"))
			d = REFRESH_IN;
		else if (!strcmp(tok, "data-only")) {
			flags |= REFRESH_DATA_ONLY;
			continue;
		} else
			return -1;
		if (dir)
			return -1;
		dir = d;
	}
	if (!dir && !flags)
		return -1;
	*out = (dir ? dir : REFRESH_OUT | REFRESH_IN) | flags;
	return 0;
}

/* A decimal integer: 0, or -1 with errno EINVAL (syntax) or ERANGE (above
 * max). */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		goto inval;
	errno = 0;
	v = strtoull(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		goto inval;
	if (errno || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

#define MAX_FLOWS_LIMIT (1u << 26)

/*
 * One setter per kind of knob. Each parses value for knob k (named key in
 * messages), stores it in p and returns 0, or says why in err and returns
 * -1 (errno EINVAL, set by policy_set).
 */
#define SETTER(name) static int name(struct policy *p, const struct knob *k, const char *key, \
				     const char *value, char *err, size_t errlen)

SETTER(set_duration)
{
	uint64_t u;

	/* timeouts and the sweep period must be > 0; delays and holds may be 0 */
	if (duration_parse_checked(key, value, k->kind == K_DURATION && k->off != OFF(sweep_interval),
				   &u, err, errlen) < 0)
		return -1;
	if (k->kind == K_TIMEOUT)
		p->timeout[k->sub] = u;
	else if (k->off == OFF(delay))
		p->delay[k->sub] = u;
	else if (k->off == OFF(sweep_interval))
		p->sweep_interval = u;
	else
		*(uint64_t *)((char *)p + k->off) = u;
	return 0;
}

SETTER(set_enum)
{
	char vals[256];

	for (unsigned i = 0; i < k->nnames; i++)
		if (!strcmp(value, k->names[i]))
			return set_enum_field(p, k, i);
	/* short forms of the RFC 4787 behaviours */
	if (k->names == behaviour_names) {
		static const char *const shorts[2][3] = {
			{ "eim", "adm", "apdm" }, { "eif", "adf", "apdf" } };
		int which = k->off == OFF(filtering);

		for (unsigned i = 0; i < 3; i++)
			if (!strcmp(value, shorts[which][i]))
				return set_enum_field(p, k, i);
	}
	enum_values(k, vals, sizeof(vals));
	ERR("%s: '%s' is not one of %s", key, value, vals);
	return -1;
}

SETTER(set_refresh)
{
	(void)k;
	if (parse_refresh(value, &p->refresh) == 0)
		return 0;
	ERR("%s: '%s' is not one of any|outbound|inbound, optionally with ,data-only", key, value);
	return -1;
}

SETTER(set_addr)
{
	union addr a;

	(void)k;
	if (addr_parse(value, &a) < 0 || !addr_is_v4(&a)) {
		ERR("%s: '%s' is not an IPv4 address", key, value);
		return -1;
	}
	p->nat_addr = a;
	p->nat_addr_set = true;
	return 0;
}

SETTER(set_range)
{
	char buf[32], *dash;
	uint64_t lo, hi;

	(void)k;
	if (strlen(value) >= sizeof(buf) || !strchr(value, '-')) {
		ERR("%s: '%s' is not a port range like 1024-65535", key, value);
		return -1;
	}
	strcpy(buf, value);
	dash = strchr(buf, '-');
	*dash = '\0';
	if (parse_uint(buf, UINT64_MAX, &lo) < 0 || parse_uint(dash + 1, UINT64_MAX, &hi) < 0) {
		ERR("%s: '%s' is not a port range like 1024-65535", key, value);
		return -1;
	}
	if (lo < 1 || hi > 65535) {
		ERR("%s: %s is outside the ports 1-65535", key, value);
		return -1;
	}
	if (lo > hi) {
		ERR("%s: %s is empty (the low port is above the high one)", key, value);
		return -1;
	}
	p->port_min = (uint16_t)lo;
	p->port_max = (uint16_t)hi;
	return 0;
}

SETTER(set_uint)
{
	uint64_t u;

	if (k->sub == 2) {              /* seed: any 64-bit value */
		if (parse_uint(value, UINT64_MAX, &u) < 0) {
			if (errno == ERANGE)
				ERR("%s: %s is above the limit of %" PRIu64, key, value, UINT64_MAX);
			else
				ERR("%s: '%s' is not a non-negative integer", key, value);
			return -1;
		}
		p->seed = u;
		return 0;
	}
	if (parse_uint(value, MAX_FLOWS_LIMIT, &u) < 0) {
		if (errno == ERANGE)
			ERR("%s: %s is above the limit of %u", key, value, MAX_FLOWS_LIMIT);
		else
			ERR("%s: '%s' is not a count between %d and %u", key, value, k->sub != 3,
			    MAX_FLOWS_LIMIT);
		return -1;
	}
	if (u == 0 && k->sub != 3) {
		ERR("%s: must be at least 1", key);
		return -1;
	}
	*(uint32_t *)((char *)p + k->off) = (uint32_t)u;
	return 0;
}

SETTER(set_prob)
{
	char *end;
	double d;
	bool pct = false;

	/* plain decimals only: strtod would also take inf, nan, hex, exponents */
	for (const char *q = value; *q; q++)
		if (!isdigit((unsigned char)*q) && !strchr(".% \t-+", *q))
			goto bad;
	errno = 0;
	d = strtod(value, &end);
	if (end == value || errno)
		goto bad;
	if (*end == '%') {
		pct = true;
		end++;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		goto bad;
	if (d < 0 || d > (pct ? 100 : 1)) {
		ERR("%s: %s is outside %s", key, value, pct ? "0%..100%" : "0..1");
		return -1;
	}
	p->loss[k->sub] = pct ? d / 100 : d;
	return 0;
bad:
	ERR("%s: '%s' is not a probability (0..1 or 0%%..100%%)", key, value);
	return -1;
}

int policy_set(struct policy *p, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct knob *k = knob_find(key);
	int rc = -1;

	if (!k) {
		ERR("unknown knob '%s'", key);
		errno = ENOENT;
		return -1;
	}
	while (isspace((unsigned char)*value))
		value++;
	switch (k->kind) {
	case K_TIMEOUT:
	case K_DURATION: rc = set_duration(p, k, key, value, err, errlen); break;
	case K_ENUM: rc = set_enum(p, k, key, value, err, errlen); break;
	case K_REFRESH: rc = set_refresh(p, k, key, value, err, errlen); break;
	case K_ADDR: rc = set_addr(p, k, key, value, err, errlen); break;
	case K_RANGE: rc = set_range(p, k, key, value, err, errlen); break;
	case K_UINT: rc = set_uint(p, k, key, value, err, errlen); break;
	case K_PROB: rc = set_prob(p, k, key, value, err, errlen); break;
	}
	if (rc < 0)
		errno = EINVAL;
	return rc;
}

int policy_get(const struct policy *p, const char *key, char *buf, size_t len)
{
	const struct knob *k = knob_find(key);
	char tmp[64];

	if (!k) {
		errno = ENOENT;
		return -1;
	}
	switch (k->kind) {
	case K_TIMEOUT:
		snprintf(buf, len, "%s", duration_format(p->timeout[k->sub], tmp, sizeof(tmp)));
		break;
	case K_DURATION: {
		uint64_t v = k->off == OFF(delay) ? p->delay[k->sub] :
			     *(const uint64_t *)((const char *)p + k->off);
		snprintf(buf, len, "%s", duration_format(v, tmp, sizeof(tmp)));
		break;
	}
	case K_ENUM:
		snprintf(buf, len, "%s", k->names[get_enum_field(p, k)]);
		break;
	case K_REFRESH: {
		unsigned d = p->refresh & (REFRESH_OUT | REFRESH_IN);
		snprintf(buf, len, "%s%s",
			 d == REFRESH_OUT ? "outbound" : d == REFRESH_IN ? "inbound" : "any",
			 p->refresh & REFRESH_DATA_ONLY ? ",data-only" : "");
		break;
	}
	case K_ADDR:
		if (p->nat_addr_set)
			addr_format(&p->nat_addr, buf, len);
		else
			snprintf(buf, len, "unset");
		break;
	case K_RANGE:
		snprintf(buf, len, "%u-%u", p->port_min, p->port_max);
		break;
	case K_UINT:
		if (k->sub == 2)
			snprintf(buf, len, "%" PRIu64, p->seed);
		else
			snprintf(buf, len, "%" PRIu32, *(const uint32_t *)((const char *)p + k->off));
		break;
	case K_PROB:
		snprintf(buf, len, "%g", p->loss[k->sub]);
		break;
	}
	return 0;
}

int policy_validate(const struct policy *p, char *err, size_t errlen)
{
	if (p->nat == NAT_SNAT && !p->nat_addr_set) {
		ERR("nat = snat needs nat.address (the outside IPv4 address)");
		errno = EINVAL;
		return -1;
	}
	if (p->port_min == 0 || p->port_min > p->port_max) {
		ERR("nat.port_range is empty");
		errno = EINVAL;
		return -1;
	}
	if (p->port_reuse == REUSE_DESTINATION && p->filtering != NAT_APD) {
		ERR("nat.port_reuse = per-destination needs nat.filtering = address-and-port-dependent "
		    "(a shared port has no one mapping to admit other senders to)");
		errno = EINVAL;
		return -1;
	}
	return 0;
}

const struct knob_info *policy_knobs(size_t *n)
{
	static struct knob_info table[NKNOBS];
	static char values[NKNOBS][256];

	if (!table[0].name) {
		for (size_t i = 0; i < NKNOBS; i++) {
			table[i] = knobs[i].info;
			if (knobs[i].kind == K_ENUM) {
				enum_values(&knobs[i], values[i], sizeof(values[i]));
				table[i].values = values[i];
			}
		}
	}
	*n = NKNOBS;
	return table;
}
