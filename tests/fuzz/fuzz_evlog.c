// SPDX-License-Identifier: GPL-2.0-or-later
// FUZZ-SOURCES: runner/run/evlog.c runner/run/run.c runner/run/supervise.c runner/run/judge.c runner/run/cmdjudge.c runner/run/exchanges.c runner/run/flows.c runner/run/sim.c runner/run/topo.c runner/run/session.c runner/model/result.c runner/model/scenario.c runner/util/textutil.c runner/util/artifacts.c runner/util/ctlclient.c
/*
 * libFuzzer harness for what the runner reads from the programs it runs:
 * arbitrary bytes as a probe client's --addrs file and as the event logs of
 * a chain of two simulators (runner/run/evlog.c). Those programs run as
 * another user; whatever they write, the runner must not crash, and every
 * flow it attributes must be one of the scenario's. The event log is read
 * in two pieces, as a running run reads a growing file.
 *
 * Input: the addrs file, a 0xff byte, the event log (split where its first
 * byte says).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "runner/run/internal.h"

static const char ini[] =
	"[middlebox a]\n[middlebox b]\nnat = snat\nnat.address = 203.0.113.1\n"
	"[flow one]\npath = a, b\nproto = udp\nidle = 1s\nexpect = alive\n"
	"[flow pool]\npath = a, b\ncount = 3\nidle = 1s\nexpect = alive >= 1\n";
static struct scenario *sc;
static char dir[] = "/tmp/fuzz_evlog.XXXXXX";
static char addrs[64], events[2][64];

static void put(const char *path, const uint8_t *p, size_t n, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f))
		abort();
}

static void setup(void)
{
	struct ini_diags dg;

	log_init("fuzz_evlog", 0);
	ini_diags_init(&dg, "f.ini");
	if (!(sc = scenario_parse(ini, strlen(ini), "f.ini", NULL, &dg)) || !mkdtemp(dir))
		abort();
	snprintf(addrs, sizeof(addrs), "%s/addrs", dir);
	snprintf(events[0], sizeof(events[0]), "%s/ev0", dir);
	snprintf(events[1], sizeof(events[1]), "%s/ev1", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	static int flows[2] = { 0, 1 }, lane_of[2], group_of[2];
	static uint64_t flow_end[2];
	static bool expired[2];
	struct scenario_result res = { 0 };
	char why[200];
	const uint8_t *sep = memchr(data, 0xff, size);
	const uint8_t *ev = sep ? sep + 1 : data + size;
	size_t nev = (size_t)(data + size - ev), cut = nev ? ev[0] % (nev + 1) : 0;
	struct lane *l = &r.lane[0];

	if (!sc)
		setup();
	memset(&r, 0, sizeof(r));
	r.sc = sc;
	r.lane_of = lane_of;
	r.group_of = group_of;
	r.flow_end = flow_end;
	r.expired = expired;
	r.nlanes = 1;
	l->npath = 2;
	l->path[0] = 0;
	l->path[1] = 1;
	l->ng = 1;
	l->g[0].port = 7201;
	l->g[0].flows = flows;
	l->g[0].n = 2;
	snprintf(l->g[0].cli_addrs, sizeof(l->g[0].cli_addrs), "%s", addrs);
	for (int i = 0; i < 2; i++) {
		l->sim[i].mb = i;
		snprintf(l->sim[i].events, sizeof(l->sim[i].events), "%s", events[i]);
	}
	if (result_init_error(&res, sc, "not run") < 0)
		abort();
	put(addrs, data, (size_t)(ev - data) - (sep ? 1 : 0), "w");
	for (int i = 0; i < 2; i++) {
		put(events[i], ev, cut, "w");
		evlog_read(&r, l, &l->sim[i], &res);
		put(events[i], ev + cut, nev - cut, "a");
		evlog_read(&r, l, &l->sim[i], &res);
		for (size_t k = 0; k < l->sim[i].nflows; k++)
			if (l->sim[i].flows[k].flow < -1 || l->sim[i].flows[k].flow >= (int)sc->nflows)
				abort();
	}
	if (result_check(&res, sc, why, sizeof(why)) < 0)
		abort();
	for (int i = 0; i < 2; i++)
		evlog_free(&l->sim[i]);
	evlog_lane_free(l);
	result_clear(&res);
	return 0;
}
