// SPDX-License-Identifier: GPL-2.0-or-later
// FUZZ-SOURCES: runner/model/resultpipe.c runner/model/result.c runner/model/scenario.c
/*
 * libFuzzer harness for what a worker sends its parent: arbitrary bytes as
 * the frames of runner/model/resultpipe.c, fed in pieces. Either a result is
 * taken, and it passes result_check() for the scenario (so every report
 * writer may index with it), or none is; the reader never crashes and
 * holds no more than one frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/model/resultpipe.h"

static const char ini[] = "[middlebox m]\n[flow a]\nidle = 1s\nexpect = alive\n"
			  "[flow b]\nidle = 1s\nexpect = alive >= 1\ncount = 3\n";
static struct scenario *sc;

static int other(void *ctx, char type, const char *p, uint32_t len, char *bad, size_t badlen)
{
	(void)ctx; (void)p; (void)len; (void)bad; (void)badlen;
	return type == 'P' ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resultpipe_in in = { 0 };
	struct scenario_result res = { 0 };
	struct ini_diags dg;
	char why[128];
	size_t step = size ? 1 + data[0] % 64 : 1;

	if (!sc && !(sc = scenario_parse(ini, strlen(ini), "f.ini", NULL, &dg)))
		abort();
	for (size_t off = 0; off < size; off += step)
		resultpipe_feed(&in, data + off, size - off < step ? size - off : step, &res, sc, other, NULL);
	if (in.len > RP_FRAME_HDR + RP_FRAME_MAX)
		abort();
	if (in.done && (res.sc != sc || result_check(&res, sc, why, sizeof(why)) < 0))
		abort();
	if (!in.done && (res.nflows || res.nmarks))
		abort();
	resultpipe_in_free(&in);
	result_clear(&res);
	return 0;
}
