/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading members out of one JSON object: the probes' result lines and the
 * simulators' event lines and control replies. Not a general parser: it
 * walks the text to find a member by a dotted path ("client.local") and
 * decodes that one value. Input comes from our own programs but is treated
 * as untrusted: every walk is bounded by len and malformed text is a miss.
 * Pure: no allocation, no syscalls.
 */
#ifndef IDLEGATE_JSONSCAN_H
#define IDLEGATE_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Find the member at path (keys separated by '.') in the object text
 * js[0..len). On success *val points at the value's first byte and *vlen is
 * its length; returns 0. Returns -1 if the path is not there or the text is
 * malformed.
 */
int json_find(const char *js, size_t len, const char *path, const char **val, size_t *vlen);

/* A string member decoded into buf (NUL-terminated, truncated to cap).
 * Returns 0, or -1 if missing, null or not a string (buf is then ""). */
int json_str(const char *js, size_t len, const char *path, char *buf, size_t cap);

/* An integer member. Returns 0, or -1 if missing, null or not a number. */
int json_int(const char *js, size_t len, const char *path, int64_t *out);

/* A boolean member. Returns 0, or -1 if missing or not true/false. */
int json_bool(const char *js, size_t len, const char *path, bool *out);

#endif
