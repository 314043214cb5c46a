/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * INI files with line numbers and honest errors, on top of Debian's inih.
 *
 * Debian's libinih is built with INI_HANDLER_LINENO 0, a 200-byte line
 * buffer and multiline continuation on indented lines (see NOTES.md). So we
 * feed ini_parse_stream() from a memory buffer through our own reader that
 * counts physical lines, and that catches in advance what inih would get
 * wrong silently or report vaguely: over-long lines, indented keys (inih
 * would glue them to the previous value), unclosed section headers, lines
 * that are not `key = value`, section names inih would truncate. Every
 * problem becomes a diagnostic with a line number, a message and a hint.
 * Used by the profile loader and the scenario parser.
 */
#ifndef IDLEGATE_INIREAD_H
#define IDLEGATE_INIREAD_H

#include <stdarg.h>
#include <stddef.h>

#include <ini.h>

/* Longest physical line inih can take (INI_MAX_LINE 200 minus the NUL). */
#define INIREAD_MAX_LINE 199
/* Longest line at all: a longer `key = value` line (a long command) is
 * parsed by the reader itself, the way inih would, and handed to the
 * handler directly, in file order. */
#define INIREAD_MAX_LONG_LINE 4095
/* Longest section header inih keeps whole (its MAX_SECTION is 50). */
#define INIREAD_MAX_SECTION 49
/* The section name the reader substitutes for a broken header, so the keys
 * that follow it are not attributed to the previous section. Handlers must
 * ignore keys in it silently. */
#define INIREAD_BAD_SECTION "!invalid"

#define INIREAD_MAX_DIAGS 32

struct ini_diag {
	int line;               /* 1-based; 0 = the file as a whole */
	char msg[400];          /* "unknown key 'x' in [flow a] (did you mean 'y'?)" */
	char hint[300];         /* "" or one more sentence of advice */
};

/* Diagnostics of one file, in the order found. */
struct ini_diags {
	char file[256];         /* name used in messages */
	size_t n;               /* stored in d[] */
	size_t dropped;         /* found beyond INIREAD_MAX_DIAGS */
	struct ini_diag d[INIREAD_MAX_DIAGS];
};

/* Empty diags for a file called `file` (may be NULL). */
void ini_diags_init(struct ini_diags *dg, const char *file);
/* Add one; hint may be NULL. */
void ini_diag_add(struct ini_diags *dg, int line, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "file:line: msg" of diagnostic i into buf (no hint); returns buf. */
char *ini_diag_format(const struct ini_diags *dg, size_t i, char *buf, size_t len);

/* Reader state: create with iniread_parse(); handlers read `lineno`. */
struct iniread {
	const char *buf;
	size_t len, pos;
	int lineno;             /* physical line being handled, 1-based */
	struct ini_diags *diags;
	char prev_key[64];      /* last key seen in this section, for messages */
	/* Called for every section header line as the reader meets it (inih
	 * itself only reports sections through their keys, so an empty
	 * section would be invisible): section is the text between the
	 * brackets, or NULL for a header that was rejected. */
	void (*on_section)(void *user, const char *section, int line);
	void *user;
	ini_handler handler;    /* for the lines too long for inih */
	char section[INIREAD_MAX_SECTION + 1]; /* the current one, as inih has it */
};

/*
 * Parse buf[0..len) with inih, calling handler(user, section, key, value)
 * for every pair and on_section(user, ...) (may be NULL) for every header;
 * both can read r->lineno (r is caller-owned storage). Reader-level problems go to diags. Returns
 * the number of diagnostics in diags afterwards (0 = clean so far). Never
 * fails otherwise; a handler's 0 return is ignored (handlers add their own
 * diagnostics).
 */
size_t iniread_parse(struct iniread *r, const char *buf, size_t len,
		     ini_handler handler,
		     void (*on_section)(void *user, const char *section, int line),
		     void *user, struct ini_diags *diags);

/*
 * Read a whole regular file (at most maxlen bytes) into a NUL-terminated
 * malloc'd buffer; caller frees. Returns NULL with errno (EFBIG when too
 * large, EINVAL when not a regular file).
 */
char *iniread_slurp(const char *path, size_t maxlen, size_t *len);

/*
 * The candidate closest to word by edit distance if it is close enough to
 * be a likely typo, else NULL. cands may contain NULLs (skipped).
 */
const char *ini_suggest(const char *word, const char *const *cands, size_t n);

#endif
