// SPDX-License-Identifier: GPL-2.0-or-later
// FUZZ-SOURCES: probes/proto.c probes/plan.c
/*
 * libFuzzer harness for the probe wire format: whatever a stranger sends to
 * the server goes through probe_proto_parse(). Anything accepted must format back
 * to a line that parses to the same message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probes/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m, back;
	char out[PROTO_LINE_MAX + 16], out2[PROTO_LINE_MAX + 16];
	int n;

	/* a private copy, so reads past the end are caught */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (probe_proto_parse(buf, size, &m) == 0) {
		n = probe_proto_format(&m, out, sizeof(out));
		if (n < 0)
			abort();
		if (probe_proto_parse(out, (size_t)n, &back) != 0)
			abort();
		if (back.type != m.type || back.id != m.id)
			abort();
		if (probe_proto_format(&back, out2, sizeof(out2)) != n || memcmp(out, out2, (size_t)n))
			abort();
	}
	free(buf);
	return 0;
}
