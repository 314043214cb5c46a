/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON for all three programs, on jansson: the control protocol, the event
 * log, the probe's results and the reports are built as json_t values and
 * read with jsonio_load(). What this adds to jansson is the project's policy
 * in one place:
 *  - Text we write may come from a program's output or a scenario file and
 *    need not be valid UTF-8; jansson refuses such strings. jsonio_str()
 *    replaces every invalid byte by U+FFFD first, so a writer never fails
 *    on odd text and never produces invalid JSON.
 *  - What we read must be valid UTF-8 (jansson checks) and must not hold
 *    "\u0000": every string here ends up a C string, where a NUL would
 *    silently cut it, so such input is refused (no JSON_ALLOW_NUL).
 *  - A member given twice is refused (JSON_REJECT_DUPLICATES).
 * Lines on the wire and in logs are compact: one object, no newline inside.
 */
#ifndef IDLEGATE_JSONIO_H
#define IDLEGATE_JSONIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* s as a JSON string (invalid UTF-8 repaired as above); NULL gives null.
 * A new reference, or NULL when out of memory. */
json_t *jsonio_str(const char *s);
/* The same, but NULL and "" give null. */
json_t *jsonio_str_or_null(const char *s);

/*
 * Parse buf[0..len) as exactly one JSON object (whitespace around it is
 * allowed, nothing else). Returns a new reference the caller releases with
 * json_decref(), or NULL with errno EINVAL and a one-line reason in err
 * ("invalid JSON at byte 7: unable to decode byte 0xff"; err may be NULL).
 */
json_t *jsonio_load(const char *buf, size_t len, char *err, size_t errlen);

/*
 * Write v compactly into buf (NUL-terminated), with jansson dump flags
 * (e.g. JSON_ENSURE_ASCII) added to JSON_COMPACT. Returns the length, or -1
 * with errno ENOSPC if it did not fit (buf is then "") or EINVAL.
 */
int jsonio_dumpb(const json_t *v, size_t flags, char *buf, size_t cap);

/* Write s as a JSON string (NULL as null) to f; errors show in ferror(f). */
void jsonio_fputs(FILE *f, const char *s);

/*
 * The member at a dotted path ("client.detail") of an object, or NULL.
 * A borrowed reference.
 */
json_t *jsonio_get(const json_t *obj, const char *path);
/* A string member copied into buf (NUL-terminated; cut at cap, never inside
 * a UTF-8 character). 0, or -1 if missing or not a string (buf is ""). */
int jsonio_get_str(const json_t *obj, const char *path, char *buf, size_t cap);
/* A number member (a real is truncated). 0, or -1 if missing or not a number. */
int jsonio_get_int(const json_t *obj, const char *path, int64_t *out);
/* A boolean member. 0, or -1 if missing or not true/false. */
int jsonio_get_bool(const json_t *obj, const char *path, bool *out);

#endif
