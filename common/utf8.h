/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one UTF-8 decoder: every writer (JSON, XML, terminal) decides with it
 * what is a character and what is garbage, so all outputs agree on where a
 * broken byte was. Text from scenario files and from programs' output may
 * hold anything. Pure.
 */
#ifndef IDLEGATE_UTF8_H
#define IDLEGATE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What utf8_next() stores for a byte that starts no valid character. */
#define UTF8_BAD 0xFFFFFFFFu

/*
 * Decode one character at s (not at the terminating NUL). Returns the bytes
 * it took (>= 1); *cp is UTF8_BAD for a byte that does not start a valid,
 * shortest-form, non-surrogate sequence (one byte is consumed then).
 */
size_t utf8_next(const unsigned char *s, uint32_t *cp);

/* Whether s[0..len) is valid UTF-8 (a NUL byte counts as valid). */
bool utf8_valid(const char *s, size_t len);

/*
 * A copy of the NUL-terminated s with every invalid byte replaced by U+FFFD.
 * Returns a malloc'd string the caller frees, or NULL with errno ENOMEM.
 */
char *utf8_clean(const char *s);

#endif
