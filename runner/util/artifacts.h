/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A run's artefacts kept for CI (`idlegate run --artifacts DIR`): what a
 * scenario's private directory holds when it ends (the probes' results and
 * logs, every simulator's event log, output and capture) copied into a
 * folder of DIR, so that a CI job can upload them. Only regular files are
 * copied (sockets, FIFOs and symlinks are not), never following a link.
 */
#ifndef IDLEGATE_ARTIFACTS_H
#define IDLEGATE_ARTIFACTS_H

#include <stddef.h>

/*
 * Copy the regular files under from (its sub-folders too) into to, created
 * with missing parents; files are made readable by everyone (0644),
 * folders 0755, whatever their owner in from. 0, or -1 with errno and the
 * path that failed in err (errlen bytes).
 */
int artifacts_copy(const char *from, const char *to, char *err, size_t errlen);

/*
 * DIR/NAME for the i-th scenario file (0-based) file: NAME is the file's
 * basename without ".ini", prefixed with i + 1 so two files of the same
 * name never share a folder ("2-quickstart"). 0, or -1 (ENAMETOOLONG).
 */
int artifacts_dir(const char *dir, size_t i, const char *file, char *buf, size_t len);

#endif
