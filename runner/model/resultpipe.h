/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scenario_result of any size from a worker process to its parent, over
 * a pipe, in frames: a type byte, a 32-bit length (host order: both ends
 * are the same program), then the payload, at most RP_FRAME_MAX bytes.
 *
 * A result goes as RP_FLOWS, RP_MARKS and RP_POINTS frames of whole
 * elements, then RP_RESULT: the scenario_result itself, whose counts say
 * how many flows, marks and group points came before it. The reader takes a result only when they agree
 * and result_check() finds it sound; a stream that is cut short leaves no
 * result (the caller says the worker died), and a garbled one a reason.
 * Frames of other types (progress, messages) are the caller's.
 */
#ifndef IDLEGATE_RESULTPIPE_H
#define IDLEGATE_RESULTPIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runner/model/result.h"

enum { RP_RESULT = 'R', RP_FLOWS = 'F', RP_MARKS = 'M', RP_POINTS = 'G' };
#define RP_FRAME_HDR 5
#define RP_FRAME_MAX (1u << 20)

/* One frame (len <= RP_FRAME_MAX). 0, or -1 with errno from write(2). */
int resultpipe_frame(int fd, char type, const void *p, uint32_t len);

/* r whole, as above. 0, or -1 with errno from write(2). */
int resultpipe_send(int fd, const struct scenario_result *r);

/* The reading end's state: zero it to start; resultpipe_in_free() after. */
struct resultpipe_in {
	char *buf;                      /* bytes of a frame not yet whole */
	size_t len, cap;
	struct scenario_result part;    /* flows, marks and points received so far */
	bool done;                      /* a whole, sound result was taken */
	char bad[160];                  /* why the stream cannot be used; "" = fine */
};

/* A frame of another type than RP_*: 0, or -1 after writing why into
 * bad (badlen bytes). */
typedef int (*resultpipe_other_fn)(void *ctx, char type, const char *p, uint32_t len, char *bad,
				   size_t badlen);

/*
 * Take n bytes read from the pipe. Whole frames are taken in order: a
 * result for scenario sc into *res (whatever res held is freed; res->sc =
 * sc; in->done set), other types to other(ctx, ...). Returns 0, or -1 once
 * the stream is garbled (in->bad says how; what follows is ignored).
 */
int resultpipe_feed(struct resultpipe_in *in, const void *data, size_t n, struct scenario_result *res,
		    const struct scenario *sc, resultpipe_other_fn other, void *ctx);

/* Free what in holds; accepts NULL. */
void resultpipe_in_free(struct resultpipe_in *in);

#endif
