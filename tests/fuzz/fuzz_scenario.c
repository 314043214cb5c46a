// SPDX-License-Identifier: GPL-2.0-or-later
// FUZZ-SOURCES: runner/model/scenario.c
/*
 * libFuzzer harness for the INI layer: arbitrary bytes as a scenario file
 * (runner/model/scenario.c over common/iniread.c and common/profile.c, which
 * libidlegate already holds) and as a profile file. Either a model comes
 * back with no diagnostics, and its indexes are consistent, or at least one
 * diagnostic does. Profiles named in the input are looked up for real:
 * run from the repository root (as `make fuzz` does) to find them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/profile.h"
#include "runner/model/scenario.h"

static struct ini_diags dg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario *sc;
	struct policy p;
	char err[512];

	sc = scenario_parse((const char *)data, size, "fuzz.ini", "tests/fuzz", &dg);
	if (sc) {
		if (dg.n || !sc->nmb || !sc->nflows)
			abort();
		for (size_t i = 0; i < sc->nflows; i++) {
			const struct sc_flow *f = &sc->flows[i];
			if (!f->npath || f->npath > SC_MAX_PATH)
				abort();
			for (size_t j = 0; j < f->npath; j++)
				if (f->path[j] < 0 || (size_t)f->path[j] >= sc->nmb)
					abort();
			if (f->keepalive == SC_KA_SET &&
			    (f->ka_idle.scaled_ms % 1000 || f->ka_intvl.scaled_ms < 1000))
				abort();
			/* no sum a run is planned with is past the limit */
			if (sc_flow_span_ms(f, true) > DURATION_MAX_MS ||
			    (f->keepalive == SC_KA_SET && sc_ka_span_ms(f, true) > DURATION_MAX_MS) ||
			    sc_conn_start_ms(f, f->count - 1, true) > DURATION_MAX_MS)
				abort();
		}
		if (sc->nflows > SC_MAX_FLOWS || sc->nevents > SC_MAX_EVENTS || sc->nmb > SC_MAX_MIDDLEBOXES ||
		    scenario_estimate_ms(sc) > DURATION_MAX_MS)
			abort();
		for (size_t i = 0; i < sc->nevents; i++) {
			const struct sc_event *e = &sc->events[i];
			if (e->action == SC_ACT_EXPIRE && (e->flow < 0 || (size_t)e->flow >= sc->nflows))
				abort();
			if (e->middlebox >= (int)sc->nmb)
				abort();
			if (sc_event_end_ms(e, true) > DURATION_MAX_MS)
				abort();
		}
		scenario_free(sc);
	} else if (!dg.n && !dg.dropped) {
		abort();
	}
	if (profile_load_buffer(&p, (const char *)data, size, "fuzz-profile.ini", NULL,
				err, sizeof(err)) < 0 && !err[0])
		abort();
	return 0;
}
