/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event log: each engine event (flow created with its NAT mapping,
 * state change, expiry with idle time, drop with reason, injected packet,
 * keepalive seen) as one JSON line, written to the --events file and handed
 * to a sink (the control socket's subscribers). Lines look like
 *   {"t_ms":123,"event":"flow-expired","flow":7,"proto":"tcp",
 *    "src":"198.51.100.2","sport":40000,"dst":"203.0.113.2","dport":5001,
 *    "nat_addr":"203.0.113.1","nat_port":40000,"from":"established",
 *    "to":"expired","idle_ms":3001,"action":"drop"}
 * t_ms is CLOCK_MONOTONIC in ms, comparable with other processes' clocks.
 */
#ifndef IDLEGATE_EVENTS_H
#define IDLEGATE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "simulator/engine/engine.h"

/* Format one event as a JSON object (no newline) into buf. Returns its
 * length, or -1 if it did not fit. Pure. */
int events_format(const struct engine_event *ev, char *buf, size_t cap);

struct events;
typedef void (*events_sink_fn)(void *ctx, const char *line, size_t len);

/* Log to `path` (truncated; NULL for no file). NULL with errno. */
struct events *events_open(const char *path);
/* Flush and close. Accepts NULL. */
void events_close(struct events *ev);
/* Every line also goes to fn (the line includes its newline). */
void events_set_sink(struct events *ev, events_sink_fn fn, void *ctx);
/* Format and log an engine event. */
void events_emit(struct events *ev, const struct engine_event *e);
/* Log a line the caller formatted (a JSON object without newline). */
void events_emit_line(struct events *ev, const char *json);
/* Write buffered lines to the file; 0 or -1 with errno. */
int events_flush(struct events *ev);
/* Lines logged so far (written or not). */
uint64_t events_lines(const struct events *ev);
/* Lines that could not be written (file errors). */
unsigned long events_lost(const struct events *ev);

#endif
