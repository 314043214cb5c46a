// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading the simulators' event logs as they grow: which simulator flow is
 * which scenario flow, and the per-flow facts (expiry, keepalives, drops,
 * injected packets) that become evidence (see internal.h).
 */
#include "runner/run/internal.h"


int group_of_port(const struct lane *l, unsigned port)
{
	for (size_t i = 0; i < l->ng; i++)
		if (l->g[i].port == port)
			return (int)i;
	return -1;
}

int group_flow_of_name(const struct run *r, const struct group *g, const char *name, unsigned *conn)
{
	const char *dot = strrchr(name, '.');
	unsigned long k = 0;
	char *end = NULL;

	*conn = 0;
	for (size_t i = 0; i < g->n; i++)
		if (r->sc->flows[g->flows[i]].count == 1 && !strcmp(r->sc->flows[g->flows[i]].name, name))
			return g->flows[i];
	if (!dot || !dot[1])
		return -1;
	k = strtoul(dot + 1, &end, 10);
	if (*end || !k)
		return -1;
	for (size_t i = 0; i < g->n; i++) {
		const struct sc_flow *f = &r->sc->flows[g->flows[i]];

		if (f->count > 1 && k <= f->count && strlen(f->name) == (size_t)(dot - name) &&
		    !strncmp(f->name, name, (size_t)(dot - name))) {
			*conn = (unsigned)(k - 1);
			return g->flows[i];
		}
	}
	return -1;
}

/*
 * Why a simulator's final statistics say it cannot be trusted, in the
 * simulator's own numbers (the keys of its "stats" event, where they are:
 * the queue's counters are inside "queue"). Only what is not zero is named.
 */
static void stats_reason(const json_t *js, char *buf, size_t len)
{
	static const struct { const char *key, *words; } why[] = {
		{ "queue.enobufs", "enobufs" },
		{ "queue.kernel_queue_dropped", "queue full" },
		{ "queue.kernel_user_dropped", "socket full" },
		{ "queue.hold_overflow", "delay queue overflow" },
		{ "queue.send_errors", "verdict send errors" },
		{ "events_lost", "events lost" },
	};
	size_t off = (size_t)snprintf(buf, len, "the simulator's queue lost packets or events (");
	bool any = false;

	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]) && off < len; i++) {
		int64_t v = 0;

		if (jsonio_get_int(js, why[i].key, &v) < 0 || !v)
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s %" PRId64, any ? ", " : "", why[i].words, v);
		any = true;
	}
	if (off < len)
		snprintf(buf + off, len - off, "%s)", any ? "" : "no counter says which");
}

/*
 * The flow indexes. A simulator that saw a flood logs one line per packet
 * for tens of thousands of flows; a scan of every flow per line made
 * reading such a log quadratic (minutes of CPU). Each flow is entered under
 * its id and under the three address keys a line can carry for it: as
 * sent, the other way round, and the reply to its NAT mapping.
 */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;      /* FNV-1a */
	return h;
}

static uint64_t addr_key(const char *proto, const char *src, unsigned sport, const char *dst,
			 unsigned dport)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = hash_bytes(h, proto, strlen(proto) + 1);
	h = hash_bytes(h, src, strlen(src) + 1);
	h = hash_bytes(h, &sport, sizeof(sport));
	h = hash_bytes(h, dst, strlen(dst) + 1);
	return hash_bytes(h, &dport, sizeof(dport));
}

static uint64_t id_key(uint32_t id)
{
	return hash_bytes(0xcbf29ce484222325ull, &id, sizeof(id));
}

/* Does flow f carry a line with these addresses (either way, or NAT)? */
static bool addr_match(const struct simflow *f, const char *proto, const char *src, unsigned sport,
		       const char *dst, unsigned dport)
{
	if (strcmp(f->proto, proto))
		return false;
	if (!strcmp(f->src, src) && f->sport == sport && !strcmp(f->dst, dst) && f->dport == dport)
		return true;
	if (!strcmp(f->src, dst) && f->sport == dport && !strcmp(f->dst, src) && f->dport == sport)
		return true;
	return f->nat[0] && !strcmp(f->nat, dst) && f->natport == dport && !strcmp(f->dst, src) &&
	       f->dport == sport;
}

static void slot_put(uint32_t *tab, size_t cap, uint64_t h, uint32_t idx)
{
	for (size_t i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!tab[i]) {
			tab[i] = idx + 1;
			return;
		}
}

static void index_flow(struct simproc *s, size_t i)
{
	const struct simflow *f = &s->flows[i];

	slot_put(s->by_id, s->index_cap, id_key(f->id), (uint32_t)i);
	slot_put(s->by_addr, s->index_cap, addr_key(f->proto, f->src, f->sport, f->dst, f->dport), (uint32_t)i);
	slot_put(s->by_addr, s->index_cap, addr_key(f->proto, f->dst, f->dport, f->src, f->sport), (uint32_t)i);
	if (f->nat[0])
		slot_put(s->by_addr, s->index_cap, addr_key(f->proto, f->dst, f->dport, f->nat, f->natport),
			 (uint32_t)i);
}

/* Room for one more flow (3 address keys each, load kept under a half). */
static int index_grow(struct simproc *s)
{
	size_t need = (s->nflows + 1) * 3 * 2, cap = s->index_cap ? s->index_cap : 64;
	uint32_t *id, *addr;

	if (need <= s->index_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	id = calloc(cap, sizeof(*id));
	addr = calloc(cap, sizeof(*addr));
	if (!id || !addr) {
		free(id);
		free(addr);
		return -1;
	}
	free(s->by_id);
	free(s->by_addr);
	s->by_id = id;
	s->by_addr = addr;
	s->index_cap = cap;
	for (size_t i = 0; i < s->nflows; i++)
		index_flow(s, i);
	return 0;
}

/* The first flow (in the order the simulator reported them) with this id. */
static struct simflow *simflow_by_id(struct simproc *s, uint32_t id)
{
	size_t best = SIZE_MAX;

	if (!s->index_cap)
		return NULL;
	for (size_t i = (size_t)id_key(id) & (s->index_cap - 1); s->by_id[i]; i = (i + 1) & (s->index_cap - 1)) {
		size_t k = s->by_id[i] - 1;

		if (s->flows[k].id == id && k < best)
			best = k;
	}
	return best == SIZE_MAX ? NULL : &s->flows[best];
}

/* The first (or, latest, the last) flow whose addresses match the line's,
 * either way round. */
static struct simflow *simflow_find(struct simproc *s, const char *proto, const char *src,
				    unsigned sport, const char *dst, unsigned dport, bool latest)
{
	size_t best = SIZE_MAX, mask = s->index_cap - 1;

	if (!s->index_cap)
		return NULL;
	for (size_t i = (size_t)addr_key(proto, src, sport, dst, dport) & mask; s->by_addr[i]; i = (i + 1) & mask) {
		size_t k = s->by_addr[i] - 1;

		if ((best == SIZE_MAX || (latest ? k > best : k < best)) &&
		    addr_match(&s->flows[k], proto, src, sport, dst, dport))
			best = k;
	}
	return best == SIZE_MAX ? NULL : &s->flows[best];
}

static struct simflow *simflow_by_tuple(struct simproc *s, const char *proto, const char *src,
					unsigned sport, const char *dst, unsigned dport)
{
	return simflow_find(s, proto, src, sport, dst, dport, false);
}

void evlog_reset(struct simproc *s)
{
	s->ev_off = 0;
	s->nflows = 0;
	if (s->index_cap) {
		memset(s->by_id, 0, s->index_cap * sizeof(*s->by_id));
		memset(s->by_addr, 0, s->index_cap * sizeof(*s->by_addr));
	}
	s->npending = 0;
}

void evlog_free(struct simproc *s)
{
	free(s->flows);
	free(s->by_id);
	free(s->by_addr);
	s->flows = NULL;
	s->by_id = s->by_addr = NULL;
	s->nflows = s->cap = s->index_cap = 0;
}

struct cmdflow *cmd_of_flow(struct run *r, int flow)
{
	for (size_t i = 0; i < r->ncmd; i++)
		if (r->cmd[i].flow == flow)
			return &r->cmd[i];
	return NULL;
}

/* A command flow is judged on what the middleboxes sent it (cmdjudge.h). */
static void cmd_count_inject(struct run *r, int flow, const char *what)
{
	struct cmdflow *c = cmd_of_flow(r, flow);

	if (!c)
		return;
	if (!strcmp(what, "rst"))
		c->rst++;
	else if (!strcmp(what, "fin"))
		c->fin++;
	else if (!strcmp(what, "icmp"))
		c->icmp++;
}

/*
 * The probes' client addresses. A probe client writes each flow's local
 * address and port to its --addrs file as soon as connect() chose them;
 * the middlebox nearest the client logs the same (src, sport) in its
 * flow-new line. The order in which flows appear is no key: thousands of
 * connections opened at once reach the middlebox in any order.
 */
static uint64_t probe_addr_key(const char *proto, const char *addr, unsigned port, unsigned srv_port)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = hash_bytes(h, proto, strlen(proto) + 1);
	h = hash_bytes(h, addr, strlen(addr) + 1);
	h = hash_bytes(h, &srv_port, sizeof(srv_port));
	return hash_bytes(h, &port, sizeof(port));
}

static int probe_addr_index_grow(struct lane *l)
{
	size_t need = (l->naddrs + 1) * 2, cap = l->addr_index_cap ? l->addr_index_cap : 64;
	uint32_t *t;

	if (need <= l->addr_index_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	if (!t)
		return -1;
	free(l->addr_index);
	l->addr_index = t;
	l->addr_index_cap = cap;
	for (size_t i = 0; i < l->naddrs; i++) {
		const struct probe_addr *a = &l->addrs[i];

		slot_put(t, cap, probe_addr_key(a->proto, a->addr, a->port, a->srv_port), (uint32_t)i);
	}
	return 0;
}

/* The scenario flow whose probe connection had this client address (its
 * connection into *conn); the latest entry wins (a port used again by a
 * later connection). -1 if none. */
static int probe_addr_find(const struct lane *l, const char *proto, const char *addr, unsigned port,
			   unsigned srv_port, unsigned *conn)
{
	size_t best = SIZE_MAX, mask = l->addr_index_cap - 1;
	bool any = false;

	if (!l->addr_index_cap)
		return -1;
	for (size_t i = (size_t)probe_addr_key(proto, addr, port, srv_port) & mask; l->addr_index[i]; i = (i + 1) & mask) {
		size_t k = l->addr_index[i] - 1;
		const struct probe_addr *a = &l->addrs[k];

		if (a->port == port && a->srv_port == srv_port && !strcmp(a->proto, proto) && !strcmp(a->addr, addr) &&
		    (!any || k > best)) {
			best = k;
			any = true;
		}
	}
	if (!any)
		return -1;
	*conn = l->addrs[best].conn;
	return l->addrs[best].flow;
}

/* "10.0.0.2:40312" or "[fd00::2]:40312" into address and port. */
static int split_addr(const char *s, char *addr, size_t len, unsigned *port)
{
	const char *c = strrchr(s, ':');
	size_t n;

	if (!c || !c[1])
		return -1;
	*port = (unsigned)strtoul(c + 1, NULL, 10);
	if (s[0] == '[') {
		s++;
		n = (size_t)(c - s);
		if (n && s[n - 1] == ']')
			n--;
	} else {
		n = (size_t)(c - s);
	}
	if (n >= len)
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	return 0;
}

/* Read what the lane's probe clients have added to their --addrs files.
 * Returns true if anything new came. */
static bool probe_addrs_read(struct run *r, struct lane *l)
{
	bool grew = false;

	for (size_t gi = 0; gi < l->ng; gi++) {
		struct group *g = &l->g[gi];
		FILE *f;
		char line[512], why[160];

		if (!g->cli_addrs[0] || !(f = fopen_regular(g->cli_addrs)))
			continue;
		if (fseek(f, g->addrs_off, SEEK_SET) < 0) {
			fclose(f);
			continue;
		}
		while (fgets(line, sizeof(line), f)) {
			size_t len = strlen(line);
			char name[64] = "", local[80] = "";
			struct probe_addr a = { .flow = -1, .srv_port = g->port };
			json_t *js;

			if (!len || line[len - 1] != '\n')
				break;          /* still being written */
			g->addrs_off += (long)len;
			js = jsonio_load(line, len, why, sizeof(why));
			if (!js)
				continue;
			jsonio_get_str(js, "flow", name, sizeof(name));
			jsonio_get_str(js, "proto", a.proto, sizeof(a.proto));
			jsonio_get_str(js, "local", local, sizeof(local));
			json_decref(js);
			a.flow = group_flow_of_name(r, g, name, &a.conn);
			if (a.flow < 0 || split_addr(local, a.addr, sizeof(a.addr), &a.port) < 0)
				continue;
			if (probe_addr_index_grow(l) < 0)
				break;
			if (l->naddrs == l->cap_addrs) {
				size_t cap = l->cap_addrs ? l->cap_addrs * 2 : 64;
				struct probe_addr *p = realloc(l->addrs, cap * sizeof(*p));

				if (!p)
					break;
				l->addrs = p;
				l->cap_addrs = cap;
			}
			l->addrs[l->naddrs] = a;
			slot_put(l->addr_index, l->addr_index_cap, probe_addr_key(a.proto, a.addr, a.port, a.srv_port),
				 (uint32_t)l->naddrs);
			l->naddrs++;
			grew = true;
		}
		fclose(f);
	}
	return grew;
}

void evlog_lane_free(struct lane *l)
{
	free(l->addrs);
	free(l->addr_index);
	l->addrs = NULL;
	l->addr_index = NULL;
	l->naddrs = l->cap_addrs = l->addr_index_cap = 0;
}

/*
 * Which scenario flow does a new simulator flow belong to? The middlebox
 * nearest the client knows it by the client's address and port (what the
 * probe reported); one further along by the flow of the middlebox before
 * it that sent it (its NAT mapping, or the same tuple). A command's
 * connections are known by their server port. Sets nf->pending when the
 * answer may still come (a probe's address not written yet).
 */
static int attribute_new(struct run *r, struct lane *l, struct simproc *s, struct simflow *nf)
{
	size_t pos = (size_t)(s - l->sim);

	nf->pending = false;
	nf->conn = 0;
	if (pos > 0) {
		struct simflow *up = simflow_find(&l->sim[pos - 1], nf->proto, nf->dst, nf->dport,
						  nf->src, nf->sport, true);

		if (up && up->flow >= 0) {
			nf->conn = up->conn;
			return up->flow;
		}
		nf->pending = group_of_port(l, nf->dport) >= 0;
		if (!up && !nf->pending)
			goto command;
		return -1;
	}
	if (group_of_port(l, nf->dport) >= 0) {
		int f = probe_addr_find(l, nf->proto, nf->src, nf->sport, nf->dport, &nf->conn);

		if (f < 0 && probe_addrs_read(r, l))
			f = probe_addr_find(l, nf->proto, nf->src, nf->sport, nf->dport, &nf->conn);
		nf->pending = f < 0;
		return f;
	}
command:
	for (size_t i = 0; i < r->ncmd; i++) {
		const struct sc_flow *f = &r->sc->flows[r->cmd[i].flow];

		if (r->lane_of[r->cmd[i].flow] == (int)(l - r->lane) &&
		    (f->port ? f->port : SC_DEFAULT_PORT) == nf->dport)
			return r->cmd[i].flow;
	}
	return -1;
}

/* Try again for the flows whose probe address was not known yet (and for
 * those a middlebox further along saw before this one's were known). */
static void attribute_pending(struct run *r, struct lane *l, struct simproc *s)
{
	if (!s->npending)
		return;
	s->npending = 0;
	for (size_t i = 0; i < s->nflows; i++) {
		struct simflow *f = &s->flows[i];

		if (!f->pending)
			continue;
		f->flow = attribute_new(r, l, s, f);
		s->npending += f->pending;
	}
}

/*
 * Read what the simulator has logged since the last call: match new flows
 * to scenario flows, count per-flow facts into res (if not NULL), note the
 * final stats.
 */
/* Was scenario flow `flow`'s probe still running at real time t? After it
 * ended, the flow is closing down: nothing that happens is evidence. */
static bool flow_running(const struct run *r, int flow, int64_t t)
{
	return !r->flow_end[flow] || t <= (int64_t)r->flow_end[flow];
}

/* A middlebox made a new flow for fr at ts (since its connection's start,
 * as expired_ms): after an expiry, it was started again (by a late
 * keepalive, say). */
static void note_recreated(struct flow_result *fr, uint64_t ts)
{
	if (fr->expired_ms >= 0 && fr->recreated_ms < 0)
		fr->recreated_ms = (int64_t)ts;
}

/* A flow-new line: remember the simulator's flow and whose it is (returned,
 * NULL when out of memory). */
static struct simflow *note_new_flow(struct run *r, struct lane *l, struct simproc *s, const json_t *js,
				      uint32_t id, uint64_t ts, struct scenario_result *res)
{
	struct simflow nf = { .id = id, .flow = -1 }, *old;
	int64_t v;

	jsonio_get_str(js, "proto", nf.proto, sizeof(nf.proto));
	jsonio_get_str(js, "src", nf.src, sizeof(nf.src));
	jsonio_get_str(js, "dst", nf.dst, sizeof(nf.dst));
	if (!jsonio_get_int(js, "sport", &v))
		nf.sport = (unsigned)v;
	if (!jsonio_get_int(js, "dport", &v))
		nf.dport = (unsigned)v;
	jsonio_get_str(js, "nat_addr", nf.nat, sizeof(nf.nat));
	if (!jsonio_get_int(js, "nat_port", &v))
		nf.natport = (unsigned)v;
	old = simflow_by_tuple(s, nf.proto, nf.src, nf.sport, nf.dst, nf.dport);
	nf.flow = attribute_new(r, l, s, &nf);
	if (nf.flow < 0 && !nf.pending && old) {
		nf.flow = old->flow;
		nf.conn = old->conn;
	}
	s->npending += nf.pending;
	if (index_grow(s) < 0)
		return NULL;
	if (s->nflows == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct simflow *p = realloc(s->flows, cap * sizeof(*p));

		if (!p)
			return NULL;
		s->flows = p;
		s->cap = cap;
	}
	s->flows[s->nflows++] = nf;
	index_flow(s, s->nflows - 1);
	if (nf.flow >= 0 && !nf.conn)       /* a group's timeline: its first connection */
		run_mark(res, ts, TL_FLOW_NEW, nf.flow, s->mb, 0, "%s%s%s:%u",
			 nf.nat[0] ? "NAT " : "new flow", nf.nat[0] ? "-> " : "",
			 nf.nat[0] ? nf.nat : "", nf.nat[0] ? nf.natport : 0);
	return &s->flows[s->nflows - 1];
}

/* The simulator flow a line is about: by its id, else by its addresses. */
static struct simflow *line_flow(struct simproc *s, const json_t *js)
{
	char proto[8] = "", src[64] = "", dst[64] = "";
	int64_t id, sport = 0, dport = 0;
	struct simflow *sf = NULL;

	if (!jsonio_get_int(js, "flow", &id))
		sf = simflow_by_id(s, (uint32_t)id);
	if (sf || jsonio_get_str(js, "proto", proto, sizeof(proto)) < 0 || !proto[0])
		return sf;
	jsonio_get_str(js, "src", src, sizeof(src));
	jsonio_get_str(js, "dst", dst, sizeof(dst));
	jsonio_get_int(js, "sport", &sport);
	jsonio_get_int(js, "dport", &dport);
	return simflow_by_tuple(s, proto, src, (unsigned)sport, dst, (unsigned)dport);
}

void evlog_facts_reset(struct run *r, struct scenario_result *res)
{
	for (size_t i = 0; i < res->nflows && i < r->sc->nflows; i++) {
		struct flow_result *fr = &res->flows[i];

		fr->keepalives_seen = fr->drops = 0;
		fr->expired_ms = fr->recreated_ms = fr->last_expired_ms = -1;
		fr->expiries = 0;
		memset(&fr->total, 0, sizeof(fr->total));
		for (unsigned k = 0; run_conn_facts(r, (int)i, k); k++) {
			struct conn_facts *cf = run_conn_facts(r, (int)i, k);

			cf->keepalives = cf->drops = cf->expired_by = 0;
			cf->expired_at = -1;
		}
	}
}

/* Is the middlebox at path position pos the first of the path (in the
 * order the logs are read, the path's) that expired the connection? Its
 * log alone tells how often the connection expired and was started again:
 * the next middlebox's log, read after it, starts with its own first
 * flow-new, which is no re-creation. */
static bool first_expirer(const struct conn_facts *cf, size_t pos)
{
	return cf && cf->expired_by && (size_t)__builtin_ctz(cf->expired_by) == pos;
}

/* Connection conn of a flow expired by the middlebox at path position pos
 * at ts: its first expiry counts once, whichever middlebox. */
static void conn_expired(struct conn_facts *cf, size_t pos, uint64_t ts, struct flow_result *fr)
{
	if (!cf)
		return;
	cf->expired_by |= 1u << pos;
	if (cf->expired_at < 0) {
		cf->expired_at = (int64_t)ts;
		fr->total.expired++;
	}
}

/*
 * What a line says happened to connection conn of scenario flow `flow`:
 * counted for the connection (its evidence), into the flow's totals, and
 * into the flow's own counts and marks (mres) for its first connection,
 * the one its timeline shows; an expiry's time since that connection's
 * idle start.
 */
static void flow_fact(struct run *r, struct simproc *s, const json_t *js, const char *ev, int flow,
		      unsigned conn, uint64_t ts, struct scenario_result *res, struct scenario_result *mres)
{
	struct flow_result *fr = &res->flows[flow];
	struct conn_facts *cf = run_conn_facts(r, flow, conn);
	size_t pos = (size_t)(s - r->lane[r->lane_of[flow]].sim);
	char dir[8] = "", what[32] = "";

	jsonio_get_str(js, "dir", dir, sizeof(dir));
	if (!strcmp(ev, "keepalive")) {
		fr->total.keepalives_seen++;
		fr->keepalives_seen += !conn;
		if (cf)
			cf->keepalives++;
		run_mark(mres, ts, TL_KEEPALIVE, flow, s->mb, !strcmp(dir, "in"), "keepalive");
	} else if (!strcmp(ev, "drop")) {
		jsonio_get_str(js, "reason", what, sizeof(what));
		fr->total.drops++;
		fr->drops += !conn;
		if (cf)
			cf->drops++;
		run_mark(mres, ts, TL_DROP, flow, s->mb, !strcmp(dir, "in"), "dropped: %s", what);
	} else if (!strcmp(ev, "inject")) {
		char toward[16] = "";

		jsonio_get_str(js, "what", what, sizeof(what));
		jsonio_get_str(js, "toward", toward, sizeof(toward));
		cmd_count_inject(r, flow, what);
		run_mark(mres, ts, TL_INJECT, flow, s->mb, !strcmp(toward, "inside"),
			 "sent %s toward the %s", what, toward);
	} else if (!strcmp(ev, "flow-expired")) {
		int64_t idle = 0;

		jsonio_get_str(js, "action", what, sizeof(what));
		jsonio_get_int(js, "idle_ms", &idle);
		conn_expired(cf, pos, ts, fr);
		if (!conn) {
			int64_t since = (int64_t)run_conn_since(&r->sc->flows[flow], conn, ts);

			if (fr->expired_ms < 0)
				fr->expired_ms = since;
			if (first_expirer(cf, pos)) {
				fr->last_expired_ms = since;
				fr->expiries++;
			}
		}
		run_mark(mres, ts, TL_EXPIRE, flow, s->mb, -1, "expired after %s idle (%s)",
			 duration_format(duration_round(run_unscale(r->sc, (uint64_t)idle)), (char[32]){0}, 32),
			 what[0] ? what : "drop");
	}
}

/*
 * A drop for which the middlebox never had a flow (its table full, its NAT
 * out of ports): the first middlebox of the path drops a probe connection's
 * packet as the probe sent it, so its addresses are the probe's. Counted
 * for that connection, or its SYNs' fate would go unsaid ("0 packets
 * dropped" beside "no answer to the SYN").
 */
static void flowless_drop(struct run *r, struct lane *l, struct simproc *s, const json_t *js, const char *ev,
			  int64_t t, uint64_t ts, struct scenario_result *res)
{
	char proto[8] = "", src[64] = "", dir[8] = "";
	int64_t sport = 0, dport = 0;
	unsigned conn = 0;
	int flow;

	if (!res || s != l->sim || strcmp(ev, "drop") || jsonio_get_str(js, "dir", dir, sizeof(dir)) < 0 ||
	    strcmp(dir, "out") || jsonio_get_str(js, "proto", proto, sizeof(proto)) < 0 ||
	    jsonio_get_str(js, "src", src, sizeof(src)) < 0 || jsonio_get_int(js, "sport", &sport) < 0 ||
	    jsonio_get_int(js, "dport", &dport) < 0 || sport < 0 || sport > 65535 || dport < 0 || dport > 65535 ||
	    group_of_port(l, (unsigned)dport) < 0)
		return;
	flow = probe_addr_find(l, proto, src, (unsigned)sport, (unsigned)dport, &conn);
	if (flow < 0 && probe_addrs_read(r, l))
		flow = probe_addr_find(l, proto, src, (unsigned)sport, (unsigned)dport, &conn);
	if (flow < 0 || !flow_running(r, flow, t))
		return;
	flow_fact(r, s, js, ev, flow, conn, ts, res, conn ? NULL : res);
}

/* One event line, already parsed. */
static void evlog_line(struct run *r, struct lane *l, struct simproc *s, const json_t *js,
		       struct scenario_result *res)
{
	char ev[32] = "";
	int64_t t = 0, id = 0;
	struct simflow *sf;
	uint64_t ts;
	bool tr = false;

	jsonio_get_str(js, "event", ev, sizeof(ev));
	jsonio_get_int(js, "t_ms", &t);
	ts = (uint64_t)run_scen_ms(r, t);
	if (!strcmp(ev, "stats")) {
		s->stats_seen = true;
		jsonio_get_bool(js, "trusted", &tr);
		s->trusted = tr;
		if (!tr)
			stats_reason(js, s->stats_why, sizeof(s->stats_why));
		return;
	}
	if (!strcmp(ev, "flow-new")) {
		/* a new id is a new simulator flow, even on the addresses of an
		 * old one (re-created after expiry): it gets its own mark */
		if (!jsonio_get_int(js, "flow", &id) && !simflow_by_id(s, (uint32_t)id)) {
			sf = note_new_flow(r, l, s, js, (uint32_t)id, ts, res);
			if (sf && res && sf->flow >= 0 && !sf->conn && flow_running(r, sf->flow, t) &&
			    first_expirer(run_conn_facts(r, sf->flow, 0), (size_t)(s - l->sim)))
				note_recreated(&res->flows[sf->flow],
					       run_conn_since(&r->sc->flows[sf->flow], 0, ts));
		}
		return;
	}
	sf = line_flow(s, js);
	if (!sf) {
		flowless_drop(r, l, s, js, ev, t, ts, res);
		return;
	}
	if (sf->flow < 0)
		return;
	if (!strcmp(ev, "flow-expired"))
		sf->expired = true;
	/* after the probe ended the flow is closing down: not evidence */
	if (!res || !flow_running(r, sf->flow, t))
		return;
	/* counted for every connection of a group, marked for its first */
	flow_fact(r, s, js, ev, sf->flow, sf->conn, ts, res, sf->conn ? NULL : res);
}

void evlog_read(struct run *r, struct lane *l, struct simproc *s, struct scenario_result *res)
{
	FILE *f = fopen_regular(s->events);
	char line[4096], why[160];

	if (!f)
		return;
	/* everything the probes wrote so far: a flow-new line of the log may
	 * be older than the address it names */
	probe_addrs_read(r, l);
	if (s > l->sim)
		attribute_pending(r, l, s - 1);
	attribute_pending(r, l, s);
	if (fseek(f, s->ev_off, SEEK_SET) < 0) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		json_t *js;

		if (!len || line[len - 1] != '\n')
			break;                  /* a line still being written */
		s->ev_off += (long)len;
		js = jsonio_load(line, len, why, sizeof(why));
		if (!js) {
			log_warnx("%s: a line that is not an event: %s", s->events, why);
			continue;
		}
		evlog_line(r, l, s, js, res);
		json_decref(js);
	}
	fclose(f);
}
