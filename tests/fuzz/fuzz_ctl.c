// SPDX-License-Identifier: GPL-2.0-or-later
// FUZZ-SOURCES: simulator/ctl_proto.c
/*
 * libFuzzer harness: the control socket's request parser, which reads what
 * any local client with access to the socket sends. A parsed request must
 * hold NUL-terminated members and only the members its command takes; what
 * jansson writes back for it must parse as the same request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonio.h"
#include "simulator/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r, r2;
	char err[160], line[4 * CTL_LINE_MAX];
	size_t off;
	json_t *o;
	int n;

	if (ctl_parse((const char *)data, size, &r, err, sizeof(err)) < 0) {
		if (!memchr(err, '\0', sizeof(err)))
			abort();
		return 0;
	}
	if (r.cmd >= CTL_CMD_MAX || !memchr(r.key, '\0', sizeof(r.key)) ||
	    !memchr(r.value, '\0', sizeof(r.value)))
		abort();
	/* round trip: write the request back out with jansson and parse it again */
	o = json_pack("{s:s}", "cmd", ctl_cmd_name(r.cmd));
	if (!o)
		abort();
	if (r.has_key)
		json_object_set_new(o, "key", jsonio_str(r.key));
	if (r.has_value)
		json_object_set_new(o, "value", jsonio_str(r.value));
	if (r.has_id)
		json_object_set_new(o, "id", json_integer(r.id));
	n = jsonio_dumpb(o, 0, line, sizeof(line));
	json_decref(o);
	if (n < 0)
		return 0;       /* a request near CTL_LINE_MAX may grow past line[] */
	off = (size_t)n;
	if (off > CTL_LINE_MAX)
		return 0;
	if (ctl_parse(line, off, &r2, err, sizeof(err)) < 0)
		abort();
	if (r2.cmd != r.cmd || strcmp(r2.key, r.key) || strcmp(r2.value, r.value) || r2.id != r.id)
		abort();
	return 0;
}
