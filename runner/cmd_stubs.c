// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Placeholders for the commands whose owners have not landed yet, so the
 * table in main.c is complete and `idlegate --help` shows the whole tool.
 * Each says so and exits 3. When you implement one in runner/cmd_NAME.c,
 * delete its STUB() line here.
 */
#include <stdio.h>
#include <string.h>

#include "runner/commands.h"

static int not_yet(const char *name, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: idlegate %s ...\n(not implemented yet)\n", name);
			return IG_EXIT_OK;
		}
	}
	fprintf(stderr, "idlegate %s: not implemented yet\n", name);
	return IG_EXIT_ENV;
}

#define STUB(name) \
	int cmd_##name(int argc, char **argv) { return not_yet(#name, argc, argv); }

STUB(discover)
