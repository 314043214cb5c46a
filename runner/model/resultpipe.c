// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Results over a pipe (see resultpipe.h): the writing end cuts a result into
 * frames of whole elements; the reading end puts them together and takes
 * the result only whole and sound.
 */
#include "runner/model/resultpipe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vec.h"

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int resultpipe_frame(int fd, char type, const void *p, uint32_t len)
{
	if (len > RP_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (write_all(fd, &type, 1) < 0 || write_all(fd, &len, sizeof(len)) < 0)
		return -1;
	return write_all(fd, p, len);
}

/* n elements of size bytes as frames of type, each of whole elements. */
static int frame_array(int fd, char type, const void *p, size_t n, size_t size)
{
	size_t per = RP_FRAME_MAX / size;

	for (size_t i = 0; i < n; i += per) {
		size_t k = n - i < per ? n - i : per;

		if (resultpipe_frame(fd, type, (const char *)p + i * size, (uint32_t)(k * size)) < 0)
			return -1;
	}
	return 0;
}

int resultpipe_send(int fd, const struct scenario_result *r)
{
	struct scenario_result hdr = *r;

	if (frame_array(fd, RP_FLOWS, r->flows, r->nflows, sizeof(*r->flows)) < 0 ||
	    frame_array(fd, RP_MARKS, r->marks, r->nmarks, sizeof(*r->marks)) < 0 ||
	    frame_array(fd, RP_POINTS, r->points, r->npoints, sizeof(*r->points)) < 0)
		return -1;
	hdr.sc = NULL;
	hdr.flows = NULL;
	hdr.marks = NULL;
	hdr.points = NULL;
	hdr.cap_flows = hdr.cap_marks = hdr.cap_points = 0;
	return resultpipe_frame(fd, RP_RESULT, &hdr, sizeof(hdr));
}

static int bad(struct resultpipe_in *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Say why the stream is garbled; -1. */
static int bad(struct resultpipe_in *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->bad, sizeof(in->bad), fmt, ap);
	va_end(ap);
	if (!in->bad[0])
		snprintf(in->bad, sizeof(in->bad), "garbled");
	return -1;
}

/*
 * A frame of whole elements (size bytes each) appended to an array of
 * in->part: *arrp with *n of them, capacity *cap, at most max in all
 * (what names them in messages: "flow results").
 */
static int take_array(struct resultpipe_in *in, const char *p, uint32_t len, void *arrp, size_t *n,
		      size_t *cap, size_t size, size_t max, const char *what)
{
	size_t k = len / size;
	char *arr;

	if (len % size)
		return bad(in, "a frame of %s of %u bytes", what, len);
	if (k > max - *n)
		return bad(in, "more %s than the scenario's %zu flows", what, max);
	if (!k)
		return 0;               /* an empty frame: nothing to append */
	if (vec_reserve(arrp, cap, *n + k, size) < 0)
		return bad(in, "out of memory");
	memcpy(&arr, arrp, sizeof(arr));
	memcpy(arr + *n * size, p, len);
	*n += k;
	return 0;
}

/* RP_RESULT: the result, with what came before it, if they agree. */
static int take_result(struct resultpipe_in *in, const char *p, uint32_t len, struct scenario_result *res,
		       const struct scenario *sc)
{
	struct scenario_result hdr;
	char why[120];

	if (len != sizeof(hdr))
		return bad(in, "a result frame of %u bytes", len);
	memcpy(&hdr, p, sizeof(hdr));
	if (hdr.nflows != in->part.nflows || hdr.nmarks != in->part.nmarks || hdr.npoints != in->part.npoints)
		return bad(in, "%zu of %zu flow results, %zu of %zu marks and %zu of %zu group points arrived",
			   in->part.nflows, hdr.nflows, in->part.nmarks, hdr.nmarks, in->part.npoints, hdr.npoints);
	hdr.sc = sc;
	hdr.flows = in->part.flows;
	hdr.cap_flows = in->part.cap_flows;
	hdr.marks = in->part.marks;
	hdr.cap_marks = in->part.cap_marks;
	hdr.points = in->part.points;
	hdr.cap_points = in->part.cap_points;
	if (result_check(&hdr, sc, why, sizeof(why)) < 0)
		return bad(in, "%s", why);
	result_clear(res);
	*res = hdr;
	memset(&in->part, 0, sizeof(in->part));
	in->done = true;
	return 0;
}

static int take_frame(struct resultpipe_in *in, char type, const char *p, uint32_t len,
		      struct scenario_result *res, const struct scenario *sc, resultpipe_other_fn other,
		      void *ctx)
{
	switch (type) {
	case RP_FLOWS:
		return take_array(in, p, len, &in->part.flows, &in->part.nflows, &in->part.cap_flows,
				  sizeof(*in->part.flows), sc->nflows, "flow results");
	case RP_MARKS:
		return take_array(in, p, len, &in->part.marks, &in->part.nmarks, &in->part.cap_marks,
				  sizeof(*in->part.marks), SIZE_MAX, "marks");
	case RP_POINTS:
		return take_array(in, p, len, &in->part.points, &in->part.npoints, &in->part.cap_points,
				  sizeof(*in->part.points), SIZE_MAX, "group points");
	case RP_RESULT: return take_result(in, p, len, res, sc);
	}
	if (other(ctx, type, p, len, in->bad, sizeof(in->bad)) == 0)
		return 0;
	return in->bad[0] ? -1 : bad(in, "a frame of type %#x", (unsigned char)type);
}

int resultpipe_feed(struct resultpipe_in *in, const void *data, size_t n, struct scenario_result *res,
		    const struct scenario *sc, resultpipe_other_fn other, void *ctx)
{
	size_t off = 0;

	if (in->bad[0])
		return -1;
	if (vec_reserve(&in->buf, &in->cap, in->len + n, 1) < 0)
		return bad(in, "out of memory");
	memcpy(in->buf + in->len, data, n);
	in->len += n;
	while (in->len - off >= RP_FRAME_HDR) {
		uint32_t len;

		memcpy(&len, in->buf + off + 1, sizeof(len));
		if (len > RP_FRAME_MAX)
			return bad(in, "a frame of %u bytes", len);
		if (in->len - off - RP_FRAME_HDR < len)
			break;
		if (take_frame(in, in->buf[off], in->buf + off + RP_FRAME_HDR, len, res, sc, other, ctx) < 0)
			return -1;
		off += RP_FRAME_HDR + len;
	}
	memmove(in->buf, in->buf + off, in->len - off);
	in->len -= off;
	return 0;
}

void resultpipe_in_free(struct resultpipe_in *in)
{
	if (!in)
		return;
	free(in->buf);
	result_clear(&in->part);
	memset(in, 0, sizeof(*in));
}
