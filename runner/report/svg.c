// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `idlegate run --svg DIR`: a timeline per scenario, written by hand (no
 * library), so a person sees at a glance why a flow died.
 *
 * One lane per flow on the scenario's own time axis (scenario units, not the
 * scaled wall clock). In each lane a line is the connection: solid while a
 * middlebox tracks it, dashed dark red once a middlebox has expired it; the
 * idle period is shaded; data, keepalives and heartbeats sit above the line
 * when they go client->server and below it when they come back; drops are
 * red crosses, injected RST/FIN/ICMP orange triangles with a label, the
 * expiry a dark red bar with "expired after 350 s idle", the outcome a
 * diamond in the lane's PASS/FAIL colour. Scenario events are dashed purple
 * lines across every lane. Under each lane the evidence in words.
 *
 * A flow group (count = N) is one lane too, a histogram instead of a line:
 * over the same time axis, how many of its connections ended in each bin,
 * stacked by outcome above the line, and how many a middlebox expired,
 * below it (rep_group_histogram(): the numbers of the JSON "histogram").
 *
 * Size stays sensible whatever the runner logged: marks of one kind that
 * would land on the same pixel of a lane are drawn once (each drawn mark
 * keeps a <title> tooltip), and labels that would overlap are left to the
 * tooltip.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/vec.h"
#include "runner/report/rows.h"
#include "runner/model/result.h"
#include "runner/util/textutil.h"

#define W 1200
#define LABEL_X 16
#define PLOT_X0 290
#define PLOT_X1 1170
#define PLOT_W (PLOT_X1 - PLOT_X0)
#define LANE_H 78
#define LINE_DY 34              /* the connection line within a lane */
#define EVENT_STRIP 18          /* event labels between the axis and the lanes */
#define CHAR_W 6.4              /* average glyph width at 11 px, for layout */
#define FONT "DejaVu Sans, Verdana, Arial, sans-serif"
#define MAX_LABELS 128
/* a white outline keeps a label readable where it crosses lines */
#define HALO " stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\""

#define COL_DATA "#1f6fb4"
#define COL_KA "#2a9d3a"
#define COL_HB "#138d90"
#define COL_DROP "#d62728"
#define COL_INJECT "#ff8c1a"
#define COL_EXPIRE "#8b0000"
#define COL_EVENT "#7b4fa0"
#define COL_PASS "#2a9d3a"
#define COL_FAIL "#d62728"
#define COL_ERROR "#d4a017"
#define COL_SKIP "#999999"

/* A group histogram's colour for each kind of point (result.h). */
static const char *const group_col[GROUP_KINDS] = {
	[SC_EXPECT_ALIVE] = COL_PASS,
	[SC_EXPECT_RESET] = COL_INJECT,
	[SC_EXPECT_TIMEOUT] = COL_DROP,
	[SC_EXPECT_KEEPALIVE_TIMEOUT] = "#e377c2",
	[SC_EXPECT_REBOUND] = COL_DATA,
	[SC_EXPECT_UNREACHABLE] = "#8c564b",
	[SC_EXPECT_CLOSED] = "#7f7f7f",
	[SC_EXPECT_REFUSED] = "#9467bd",
	[SC_EXPECT_CONNECT_TIMEOUT] = "#17becf",
	[GROUP_OTHER] = COL_ERROR,
	[GROUP_UNREPORTED] = COL_SKIP,
	[GROUP_EXPIRED] = COL_EXPIRE,
};
#define HIST_UP 26              /* px above the line for the tallest stack */
#define HIST_DOWN 18            /* px below it for the most expiries */

struct span {
	double a, b;
};

/* Labels already placed in one row of one lane, to avoid overlaps. */
struct label_row {
	struct span s[MAX_LABELS];
	size_t n;
};

struct lane {
	const struct rep_flow *row;     /* NULL: the "other" lane */
	double y;                       /* top */
	struct label_row up, down, mid;
	uint64_t t_first, t_last, t_outcome, t_expire;
	bool any, has_outcome, has_expire;
	bool group;                     /* a flow group's histogram lane */
};

struct svg {
	FILE *f;
	const struct scenario_result *r;
	uint64_t tend, step;
	double lanes_top, lanes_bottom;
	struct lane *lanes;
	size_t nlanes;
	int *lane_of_flow;              /* scenario flow index -> lane, -1 */
	size_t nflows;                  /* lane_of_flow's size */
	int other;                      /* lane for marks of no flow, -1 */
	struct label_row event_row;
	bool any_group;
	unsigned char *seen;            /* [lane][kind][dir][pixel] drawn already */
};

static double tx(const struct svg *g, uint64_t t)
{
	if (t > g->tend)
		t = g->tend;
	return PLOT_X0 + (double)t * PLOT_W / (double)g->tend;
}

static const char *status_col(enum res_status s)
{
	switch (s) {
	case RES_PASS: return COL_PASS;
	case RES_FAIL: return COL_FAIL;
	case RES_ERROR: return COL_ERROR;
	case RES_SKIP: return COL_SKIP;
	}
	return COL_SKIP;
}

static void text(FILE *f, double x, double y, const char *anchor, const char *style,
		 const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"%s%s%s %s>", x, y,
		anchor ? " text-anchor=\"" : "", anchor ? anchor : "", anchor ? "\"" : "",
		style ? style : "");
	tu_xml_puts(f, s);
	fputs("</text>\n", f);
}

static void title(FILE *f, const char *s)
{
	fputs("<title>", f);
	tu_xml_puts(f, s);
	fputs("</title>", f);
}

/* Place a label of width w starting near x in row; returns the x to draw at
 * and its anchor, or false when it would overlap (or fall off the plot). */
static bool place(struct label_row *row, double x, double gap, double w, double *at,
		  const char **anchor)
{
	double a = x + gap, b = x + gap + w;

	*anchor = "start";
	*at = a;
	if (b > W - 6) {                /* near the right edge: end at the mark */
		a = x - gap - w;
		b = x - gap;
		*anchor = "end";
		*at = b;
	}
	if (a < PLOT_X0 - 10 || row->n >= MAX_LABELS)
		return false;
	for (size_t i = 0; i < row->n; i++)
		if (a < row->s[i].b + 6 && row->s[i].a < b + 6)
			return false;
	row->s[row->n].a = a;
	row->s[row->n].b = b;
	row->n++;
	return true;
}

/* Label in the upper row, else the lower one; silent if both are taken. */
static void lane_label(struct svg *g, struct lane *l, double x, const char *s, const char *col,
		       bool prefer_down)
{
	char buf[128];
	const char *anchor;
	double at, w;

	tu_truncate(s, 60, buf, sizeof(buf));
	w = (double)tu_width(buf) * CHAR_W;
	struct label_row *first = prefer_down ? &l->down : &l->up;
	struct label_row *second = prefer_down ? &l->up : &l->down;
	double y1 = prefer_down ? l->y + LINE_DY + 27 : l->y + 13;
	double y2 = prefer_down ? l->y + 13 : l->y + LINE_DY + 27;
	char style[192];

	snprintf(style, sizeof(style), "font-size=\"11\" fill=\"%s\"" HALO, col);
	if (place(first, x, 4, w, &at, &anchor))
		text(g->f, at, y1, anchor, style, buf);
	else if (place(second, x, 4, w, &at, &anchor))
		text(g->f, at, y2, anchor, style, buf);
}

/* The outcome's label goes on the line right after the diamond: the flow
 * has ended there, so the line is free (else the rows above and below). */
static void outcome_label(struct svg *g, struct lane *l, double x, const char *s)
{
	char buf[128];
	const char *anchor;
	double at, w;

	tu_truncate(s, 60, buf, sizeof(buf));
	w = (double)tu_width(buf) * CHAR_W;
	if (place(&l->mid, x, 11, w, &at, &anchor))
		text(g->f, at, l->y + LINE_DY + 4, anchor,
		     "font-size=\"11\" font-weight=\"bold\" fill=\"#222\"" HALO, buf);
	else
		lane_label(g, l, x, s, "#222", true);
}

static const char *mark_text(const struct svg *g, const struct tl_mark *m, char *buf, size_t len)
{
	const char *fl = rep_flow_name(g->r, m->flow), *mb = rep_mb_name(g->r, m->middlebox),
		   *dir = rep_dir_name(m->dir);
	char t[32];

	snprintf(buf, len, "%s: %s%s%s%s%s%s%s%s%.*s", duration_format(duration_round(m->t_ms), t, sizeof(t)),
		 tl_kind_name(m->kind), fl ? " " : "", fl ? fl : "",
		 dir ? (m->dir == 0 ? " client->server" : " server->client") : "",
		 mb ? " at " : "", mb ? mb : "", m->detail[0] ? ": " : "", "",
		 (int)sizeof(m->detail), m->detail);
	return buf;
}

static const char *outcome_text(const struct tl_mark *m, const struct rep_flow *row, char *buf,
				size_t len)
{
	snprintf(buf, len, "%.*s", (int)sizeof(m->detail),
		 m->detail[0] ? m->detail : row && row->observed[0] ? row->observed : "outcome");
	return buf;
}

/* The lane of m's flow, or -1 (no flow, or a flow with no lane). */
static int lane_of(const struct svg *g, const struct tl_mark *m)
{
	return m->flow >= 0 && (size_t)m->flow < g->nflows ? g->lane_of_flow[m->flow] : -1;
}

/* End the opening tag of a shape already written up to its attributes,
 * with tip as its tooltip: '>', <title>, and the closing tag. */
static void tip_close(FILE *f, const char *elem, const char *tip)
{
	fputs(">", f);
	title(f, tip);
	fprintf(f, "</%s>\n", elem);
}

/* The label at an expiry: how long the flow was idle, when known. */
static void expire_label(const struct lane *l, const struct tl_mark *m, char *lab, size_t len)
{
	char d[32];

	if (l->row && l->row->fr && l->row->fr->expired_ms >= 0)
		snprintf(lab, len, "expired after %s idle",
			 duration_format(duration_round((uint64_t)l->row->fr->expired_ms), d, sizeof(d)));
	else if (!strncmp(m->detail, "expired", 7))
		snprintf(lab, len, "%.*s", (int)sizeof(m->detail), m->detail);
	else
		snprintf(lab, len, "expired%s%.*s", m->detail[0] ? ": " : "", (int)sizeof(m->detail), m->detail);
}

/* Has this kind of mark already been drawn on this pixel of this lane? */
static bool seen(struct svg *g, size_t lane, enum tl_kind k, int dir, double x)
{
	size_t px = (size_t)(x - PLOT_X0 + 0.5), d = dir == 1 ? 1 : 0;
	size_t i;

	if (px > PLOT_W)
		px = PLOT_W;
	i = ((lane * (TL_OUTCOME + 1) + (size_t)k) * 2 + d) * (PLOT_W + 1) + px;
	if (g->seen[i])
		return true;
	g->seen[i] = 1;
	return false;
}

/* m's detail, or dflt when it has none, as a label. */
static const char *detail_or(const struct tl_mark *m, const char *dflt, char *lab, size_t len)
{
	snprintf(lab, len, "%.*s", (int)sizeof(m->detail), m->detail[0] ? m->detail : dflt);
	return lab;
}

/* A mark that is only a shape with a tooltip: flow creation, data,
 * keepalive, heartbeat, drop, idle start. */
static void draw_shape(FILE *f, const struct tl_mark *m, double x, double cy, double side, const char *tip)
{
	switch (m->kind) {
	case TL_FLOW_NEW:
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#fff\" stroke=\"#555\" "
			   "stroke-width=\"1.5\"", x, cy);
		tip_close(f, "circle", tip);
		break;
	case TL_DATA:
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"10\" fill=\"" COL_DATA
			   "\"", x - 1.5, side < 0 ? cy - 11 : cy + 1);
		tip_close(f, "rect", tip);
		break;
	case TL_KEEPALIVE:
		/* a check mark */
		fprintf(f, "<path d=\"M%.1f %.1f l3 3.5 l5 -8\" fill=\"none\" stroke=\"" COL_KA
			   "\" stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\"",
			x - 3.5, side < 0 ? cy - 7.5 : cy + 9.5);
		tip_close(f, "path", tip);
		break;
	case TL_HEARTBEAT:
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"" COL_HB "\"", x, cy + side * 7);
		tip_close(f, "circle", tip);
		break;
	case TL_DROP:
		fprintf(f, "<path d=\"M%.1f %.1f l9 9 m0 -9 l-9 9\" stroke=\"" COL_DROP
			   "\" stroke-width=\"2.4\" stroke-linecap=\"round\"", x - 4.5, cy + side * 8 - 4.5);
		tip_close(f, "path", tip);
		break;
	case TL_IDLE_START:
		fprintf(f, "<path d=\"M%.1f %.1f h-4 v20 h4\" fill=\"none\" stroke=\"#777\" "
			   "stroke-width=\"1.5\"", x + 4, cy - 10);
		tip_close(f, "path", tip);
		break;
	default:
		break;
	}
}

static void draw_mark(struct svg *g, size_t li, const struct tl_mark *m)
{
	struct lane *l = &g->lanes[li];
	FILE *f = g->f;
	double x = tx(g, m->t_ms), cy = l->y + LINE_DY;
	double side = m->dir == 1 ? 1 : -1;    /* below for server->client */
	char tip[256], lab[160];

	if (seen(g, li, m->kind, m->dir, x))
		return;
	mark_text(g, m, tip, sizeof(tip));
	switch (m->kind) {
	case TL_INJECT:
		/* points at the line from the side the packet goes to */
		fprintf(f, "<path d=\"M%.1f %.1f l-6.5 %.1f h13 z\" fill=\"" COL_INJECT
			   "\" stroke=\"#b03a00\" stroke-width=\"1\"", x, cy + side * 2, side * 13);
		tip_close(f, "path", tip);
		lane_label(g, l, x, detail_or(m, "injected", lab, sizeof(lab)), "#b03a00", side > 0);
		break;
	case TL_EXPIRE:
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"%d\" fill=\"" COL_EXPIRE
			   "\"", x - 1.5, l->y + 4, LANE_H - 22);
		tip_close(f, "rect", tip);
		expire_label(l, m, lab, sizeof(lab));
		lane_label(g, l, x, lab, COL_EXPIRE, false);
		break;
	case TL_EVENT:
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COL_EVENT
			   "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"", x, l->y + 2, x, l->y + LANE_H - 2);
		tip_close(f, "line", tip);
		lane_label(g, l, x, detail_or(m, "event", lab, sizeof(lab)), COL_EVENT, false);
		break;
	case TL_OUTCOME:
		fprintf(f, "<path d=\"M%.1f %.1f l7 7 l-7 7 l-7 -7 z\" fill=\"%s\" stroke=\"#222\" "
			   "stroke-width=\"1\"", x, cy - 7, l->row ? status_col(l->row->status) : "#555");
		tip_close(f, "path", tip);
		outcome_text(m, l->row, lab, sizeof(lab));
		outcome_label(g, l, x, lab);
		break;
	default:
		draw_shape(f, m, x, cy, side, tip);
		break;
	}
}

/* Dashed purple line across every lane, label in the strip above them. */
static void draw_scenario_event(struct svg *g, const struct tl_mark *m)
{
	double x = tx(g, m->t_ms), at;
	const char *anchor;
	char tip[256], lab[128];

	mark_text(g, m, tip, sizeof(tip));
	fprintf(g->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COL_EVENT
		      "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"",
		x, g->lanes_top - EVENT_STRIP + 4, x, g->lanes_bottom);
	tip_close(g->f, "line", tip);
	tu_truncate(detail_or(m, "event", lab, sizeof(lab)), 50, tip, sizeof(tip));
	if (place(&g->event_row, x, 4, (double)tu_width(tip) * CHAR_W, &at, &anchor))
		text(g->f, at, g->lanes_top - 6, anchor,
		     "font-size=\"11\" font-weight=\"bold\" fill=\"" COL_EVENT "\"" HALO, tip);
}

/* What each lane's line and shading need: first/last mark, outcome, expiry. */
static void scan_lanes(struct svg *g)
{
	const struct scenario_result *r = g->r;

	for (size_t i = 0; i < r->nmarks; i++) {
		const struct tl_mark *m = &r->marks[i];
		int li = lane_of(g, m);

		if (li < 0 || m->kind == TL_EVENT)
			continue;
		struct lane *l = &g->lanes[li];
		if (!l->any || m->t_ms < l->t_first)
			l->t_first = m->t_ms;
		if (!l->any || m->t_ms > l->t_last)
			l->t_last = m->t_ms;
		l->any = true;
		if (m->kind == TL_OUTCOME && !l->has_outcome) {
			l->has_outcome = true;
			l->t_outcome = m->t_ms;
		}
		if (m->kind == TL_EXPIRE && (!l->has_expire || m->t_ms < l->t_expire)) {
			l->has_expire = true;
			l->t_expire = m->t_ms;
		}
	}
}

/* Shade each idle period: from idle start to the next data or outcome. */
static void draw_idle(struct svg *g)
{
	const struct scenario_result *r = g->r;
	char lab[64], d[32];

	for (size_t i = 0; i < r->nmarks; i++) {
		const struct tl_mark *m = &r->marks[i];
		int li = lane_of(g, m);
		uint64_t end = UINT64_MAX;

		if (li < 0 || m->kind != TL_IDLE_START || g->lanes[li].group)
			continue;
		for (size_t j = 0; j < r->nmarks; j++) {
			const struct tl_mark *e = &r->marks[j];

			if (e->flow == m->flow && e->t_ms > m->t_ms && e->t_ms < end &&
			    (e->kind == TL_DATA || e->kind == TL_OUTCOME || e->kind == TL_IDLE_START))
				end = e->t_ms;
		}
		if (end == UINT64_MAX)
			end = g->lanes[li].has_outcome ? g->lanes[li].t_outcome : g->lanes[li].t_last;
		if (end <= m->t_ms)
			continue;
		double x0 = tx(g, m->t_ms), x1 = tx(g, end), cy = g->lanes[li].y + LINE_DY;
		fprintf(g->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"24\" fill=\"#e6e6e6\"",
			x0, cy - 12, x1 - x0);
		snprintf(lab, sizeof(lab), "idle %s", duration_format(duration_round(end - m->t_ms), d, sizeof(d)));
		tip_close(g->f, "rect", lab);
		double w = (double)strlen(lab) * 6, at;
		const char *anchor;
		struct label_row *down = &g->lanes[li].down;

		if (x1 - x0 > w + 14 && place(down, (x0 + x1 - w) / 2 - 4, 4, w, &at, &anchor))
			text(g->f, at, cy + 27, anchor, "font-size=\"10\" fill=\"#777\"" HALO, lab);
	}
}

/* One bar of a group's histogram: count points of kind in the bin from
 * t0, h px high from y (its top), with the numbers as its tooltip and its
 * data-* attributes. */
static void hist_bar(struct svg *g, uint64_t t0, uint64_t bin, int kind, uint32_t count, double y,
		     double h)
{
	double x0 = tx(g, t0), x1 = tx(g, t0 + bin);
	char a[32], b[32], tip[128];

	snprintf(tip, sizeof(tip), "%s to %s: %u %s", duration_format(t0, a, sizeof(a)),
		 duration_format(t0 + bin, b, sizeof(b)), count, group_kind_name(kind));
	fprintf(g->f, "<rect class=\"hist\" data-kind=\"%s\" data-count=\"%u\" data-t-ms=\"%llu\" "
		      "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"",
		group_kind_name(kind), count, (unsigned long long)t0, x0 + 0.5, y,
		x1 - x0 > 1.5 ? x1 - x0 - 1 : 0.5, h, group_col[kind]);
	tip_close(g->f, "rect", tip);
}

/* A bar's height for count at px per connection: at least a pixel, so
 * that one connection among thousands still shows. */
static double bar_h(double px, uint32_t count)
{
	return px * count < 1 ? 1 : px * count;
}

/* The tallest stack of ended connections and the most expiries in a bin. */
static void hist_max(const uint32_t *counts, size_t nbins, uint32_t *up, uint32_t *down)
{
	*up = *down = 0;
	for (size_t b = 0; b < nbins; b++) {
		const uint32_t *c = counts + b * GROUP_KINDS;
		uint32_t sum = 0;

		for (int k = 0; k < GROUP_EXPIRED; k++)
			sum += c[k];
		if (sum > *up)
			*up = sum;
		if (c[GROUP_EXPIRED] > *down)
			*down = c[GROUP_EXPIRED];
	}
}

/* A group's lane: its connections' ends stacked by outcome above the
 * line, its expiries below, on one scale; the bin and scale in words. */
static int draw_group(struct svg *g, size_t li)
{
	const struct lane *l = &g->lanes[li];
	double cy = l->y + LINE_DY, px;
	uint64_t bin;
	size_t nbins;
	uint32_t up, down, *counts = rep_group_histogram(g->r, l->row->index, &bin, &nbins);
	char d[32], buf[96];

	if (!counts)
		return -1;
	hist_max(counts, nbins, &up, &down);
	px = up || down ? (double)HIST_UP / (up > down ? up : down) : 0;
	if (down && px * down > HIST_DOWN)
		px = (double)HIST_DOWN / down;
	fputs("<g class=\"group\" data-flow=\"", g->f);
	tu_xml_puts(g->f, l->row->name);
	fprintf(g->f, "\" data-bin-ms=\"%llu\">\n", (unsigned long long)bin);
	fprintf(g->f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#555\"/>\n", PLOT_X0,
		cy, PLOT_X1, cy);
	for (size_t b = 0; b < nbins; b++) {
		const uint32_t *c = counts + b * GROUP_KINDS;
		double y = cy;

		for (int k = 0; k < GROUP_EXPIRED; k++) {
			if (!c[k])
				continue;
			y -= bar_h(px, c[k]);
			hist_bar(g, b * bin, bin, k, c[k], y, bar_h(px, c[k]));
		}
		if (c[GROUP_EXPIRED])
			hist_bar(g, b * bin, bin, GROUP_EXPIRED, c[GROUP_EXPIRED], cy + 1,
				 bar_h(px, c[GROUP_EXPIRED]));
	}
	fputs("</g>\n", g->f);
	free(counts);
	snprintf(buf, sizeof(buf), "connections per %s: up to %u ended, %u expired",
		 duration_format(bin, d, sizeof(d)), up, down);
	text(g->f, LABEL_X, l->y + 59, NULL, "font-size=\"10\" fill=\"#666\"", buf);
	return 0;
}

static void draw_lane_base(struct svg *g, size_t li)
{
	struct lane *l = &g->lanes[li];
	const struct rep_flow *w = l->row;
	FILE *f = g->f;
	char buf[300], tmp[300];
	const char *bg = li % 2 ? "#fafafa" : "#ffffff";

	if (w && w->status == RES_FAIL)
		bg = "#fdf1f1";
	else if (w && w->status == RES_ERROR)
		bg = "#fdf8e6";
	fprintf(f, "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", l->y, W,
		LANE_H, bg);
	fprintf(f, "<line x1=\"0\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
		l->y + LANE_H, W, l->y + LANE_H);
	/* the label: name, then a status badge and expected/observed */
	tu_truncate(w ? w->name : "other traffic", 30, tmp, sizeof(tmp));
	text(f, LABEL_X, l->y + 22, NULL, "font-size=\"14\" font-weight=\"bold\" fill=\"#111\"", tmp);
	if (w) {
		fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"50\" height=\"17\" rx=\"3\" fill=\"%s\"/>\n",
			LABEL_X, l->y + 30, status_col(w->status));
		text(f, LABEL_X + 25, l->y + 43, "middle",
		     "font-size=\"11\" font-weight=\"bold\" fill=\"#fff\"", res_status_name(w->status));
		if (w->observed[0])
			snprintf(buf, sizeof(buf), "expected %s, observed %s", w->expected, w->observed);
		else
			snprintf(buf, sizeof(buf), "expected %s, %s", w->expected,
				 w->status == RES_SKIP ? "not run" : "no verdict");
		tu_truncate(buf, 33, tmp, sizeof(tmp));
		text(f, LABEL_X + 56, l->y + 43, NULL, "font-size=\"11\" fill=\"#333\"", tmp);
	} else {
		text(f, LABEL_X, l->y + 42, NULL, "font-size=\"11\" fill=\"#555\"",
		     "marks of no flow");
	}
	/* evidence, or why the run can't be trusted, across the bottom */
	if (w && (w->evidence[0] || w->error[0])) {
		if (w->status == RES_ERROR && w->error[0])
			snprintf(buf, sizeof(buf), "error: %s", w->error);
		else
			snprintf(buf, sizeof(buf), "%s", w->evidence);
		tu_truncate(buf, 176, tmp, sizeof(tmp));
		text(f, LABEL_X, l->y + LANE_H - 6, NULL,
		     "font-size=\"11\" font-style=\"italic\" fill=\"#333\"", tmp);
	}
}

static void axis(struct svg *g, double y, bool top)
{
	FILE *f = g->f;
	char lab[32];

	fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\"/>\n", PLOT_X0, y,
		PLOT_X1, y);
	for (uint64_t t = 0; t <= g->tend; t += g->step) {
		double x = tx(g, t);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", x,
			y, x, top ? y - 5 : y + 5);
		duration_format(t, lab, sizeof(lab));
		text(f, x, top ? y - 8 : y + 17, "middle", "font-size=\"11\" fill=\"#333\"", lab);
	}
}

static void grid(struct svg *g)
{
	for (uint64_t t = 0; t <= g->tend; t += g->step)
		fprintf(g->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e2e2\"/>\n",
			tx(g, t), g->lanes_top, tx(g, t), g->lanes_bottom);
}

/* The legend's row for flow groups: what the bars count, and the colour
 * of each outcome (and of the expiries) the scenario's groups have. */
static void legend_group(struct svg *g, double *y)
{
	static const char what[] = "flow group, connections per time bin: ended (above the line), by outcome:";
	FILE *f = g->f;
	const char *st = "font-size=\"11\" fill=\"#333\"";
	double x = LABEL_X;
	bool used[GROUP_KINDS] = { false };

	for (size_t i = 0; i < g->r->npoints; i++)
		if (g->r->points[i].kind >= 0 && g->r->points[i].kind < GROUP_KINDS)
			used[g->r->points[i].kind] = true;
	*y += 22;
	text(f, x, *y + 4, NULL, st, what);
	x += (double)strlen(what) * CHAR_W + 10;
	for (int k = 0; k < GROUP_KINDS; k++) {
		const char *name = group_kind_name(k);

		if (!used[k])
			continue;
		if (k == GROUP_EXPIRED)
			name = "expired by a middlebox (below; each connection once)";
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>\n", x,
			*y - 5, group_col[k]);
		text(f, x + 14, *y + 4, NULL, st, name);
		x += 14 + (double)strlen(name) * CHAR_W + 16;
	}
}

/* Legend: each shape as drawn in the lanes, with what it means. */
static void legend(struct svg *g, double y)
{
	FILE *f = g->f;
	const char *st = "font-size=\"11\" fill=\"#333\"";
	double x = LABEL_X;

#define NEXT(label) do { text(f, x + 18, y + 4, NULL, st, label); \
	x += 18 + (double)strlen(label) * CHAR_W + 22; } while (0)
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
		   "stroke-width=\"2\"/>\n", x, y, x + 14, y);
	NEXT("tracked by the middlebox");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COL_EXPIRE
		   "\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/>\n", x, y, x + 14, y);
	NEXT("forgotten by the middlebox");
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"#e6e6e6\"/>"
		   "<path d=\"M%.1f %.1f h-4 v14 h4\" fill=\"none\" stroke=\"#777\" stroke-width=\"1.5\"/>\n",
		x, y - 7, x + 4, y - 7);
	NEXT("idle period");
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"10\" fill=\"" COL_DATA "\"/>\n",
		x + 5, y - 5);
	NEXT("data");
	fprintf(f, "<path d=\"M%.1f %.1f l3 3.5 l5 -8\" fill=\"none\" stroke=\"" COL_KA
		   "\" stroke-width=\"2\" stroke-linecap=\"round\"/>\n", x + 3, y + 1);
	NEXT("keepalive");
	fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"" COL_HB "\"/>\n", x + 7, y);
	NEXT("heartbeat");
	fprintf(f, "<path d=\"M%.1f %.1f l9 9 m0 -9 l-9 9\" stroke=\"" COL_DROP
		   "\" stroke-width=\"2.4\" stroke-linecap=\"round\"/>\n", x + 2.5, y - 4.5);
	NEXT("dropped");

	y += 22;
	x = LABEL_X;
	fprintf(f, "<path d=\"M%.1f %.1f l-6.5 -13 h13 z\" fill=\"" COL_INJECT
		   "\" stroke=\"#b03a00\"/>\n", x + 7, y + 6);
	NEXT("RST/FIN/ICMP injected by the middlebox");
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"16\" fill=\"" COL_EXPIRE "\"/>\n",
		x + 5, y - 8);
	NEXT("middlebox expired the flow");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" COL_EVENT
		   "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n", x + 7, y - 8, x + 7, y + 8);
	NEXT("scenario event");
	fprintf(f, "<path d=\"M%.1f %.1f l7 7 l-7 7 l-7 -7 z\" fill=\"" COL_PASS
		   "\" stroke=\"#222\"/>\n", x + 7, y - 7);
	NEXT("outcome");
	fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#fff\" stroke=\"#555\" "
		   "stroke-width=\"1.5\"/>\n", x + 7, y);
	NEXT("flow created");
	if (g->any_group)
		legend_group(g, &y);
	y += 20;
	text(f, LABEL_X, y + 4, NULL, "font-size=\"11\" fill=\"#666\"",
	     "Marks above a line went client to server, below it server to client. "
	     "Hover a mark for its time and details.");
#undef NEXT
}

#define LEGEND_H 78

/* Would an outcome's label run past the right edge with the axis as is? */
static bool outcome_overflows(const struct svg *g, const struct rep_flow *rows)
{
	char buf[128];

	for (size_t i = 0; i < g->r->nmarks; i++) {
		const struct tl_mark *m = &g->r->marks[i];
		int li = lane_of(g, m);

		if (m->kind != TL_OUTCOME || li < 0)
			continue;
		outcome_text(m, &rows[li], buf, sizeof(buf));
		if (tx(g, m->t_ms) + 11 + (double)tu_width(buf) * CHAR_W > W - 6)
			return true;
	}
	return false;
}

/* Scenario time a run of sc would cover, for a result without marks. */
static uint64_t scenario_span(const struct scenario *sc)
{
	uint64_t t = 0, e;
	size_t i;

	for (i = 0; i < sc->nflows; i++) {
		const struct sc_flow *f = &sc->flows[i];

		e = sat_mul(f->cycles ? f->cycles : 1, sat_add(f->idle.ms, f->deadline.ms));
		if (e > t)
			t = e;
	}
	for (i = 0; i < sc->nevents; i++) {
		e = sat_add(sc->events[i].at.ms, sc->events[i].duration.ms);
		if (e > t)
			t = e;
	}
	return t;
}

/* A lane per row (flow), and one more for marks of no known flow if any. */
static void layout_lanes(struct svg *g, const struct rep_flow *rows, size_t n)
{
	for (size_t i = 0; i < g->nflows; i++)
		g->lane_of_flow[i] = -1;
	for (size_t i = 0; i < n; i++) {
		g->lanes[i].row = &rows[i];
		g->lanes[i].group = rows[i].sf && rows[i].sf->count > 1;
		g->any_group |= g->lanes[i].group;
		if (rows[i].index >= 0 && (size_t)rows[i].index < g->nflows)
			g->lane_of_flow[rows[i].index] = (int)i;
	}
	g->nlanes = n;
	for (size_t i = 0; i < g->r->nmarks; i++) {
		const struct tl_mark *m = &g->r->marks[i];

		if (lane_of(g, m) < 0 && m->kind != TL_EVENT && g->other < 0)
			g->other = (int)g->nlanes++;
	}
}

/* The time axis: its end and tick step, with room for the last mark and
 * for the outcomes' labels to the right of their diamonds. */
static void layout_time(struct svg *g, const struct rep_flow *rows)
{
	const struct scenario_result *r = g->r;
	uint64_t tmax = rep_time_span(r);

	if (tmax == 0 && r->sc)
		tmax = scenario_span(r->sc);
	if (tmax == 0)
		tmax = 1000;
	/* the axis ends just after the run (a 7.5 min run is not drawn to
	 * 9 min): room for the last mark, and a little more when an outcome's
	 * label would otherwise have to go left of its diamond */
	g->step = rep_nice_step(tmax, 10);
	g->tend = tmax + (tmax / 50 > 0 ? tmax / 50 : 1);
	if (outcome_overflows(g, rows))
		g->tend = tmax + tmax / 10 + 1;
}

/* Where the lanes go under a header of header_h; the picture's height. */
static int layout_height(struct svg *g, double header_h)
{
	g->lanes_top = header_h + 30 + EVENT_STRIP;
	for (size_t i = 0; i < g->nlanes; i++)
		g->lanes[i].y = g->lanes_top + (double)i * LANE_H;
	g->lanes_bottom = g->lanes_top + (double)g->nlanes * LANE_H;
	return (int)(g->lanes_bottom + 30 + LEGEND_H + (g->any_group ? 22 : 0));
}

/* The header: what the scenario is, its time scale, the tally, an error. */
static void header(struct svg *g, const struct rep_counts *c)
{
	const struct scenario_result *r = g->r;
	FILE *f = g->f;
	char buf[512], tmp[512], sc[64] = "", wall[32];
	size_t o;

	snprintf(buf, sizeof(buf), "%s", r->sc && r->sc->description[0] ? r->sc->description
				       : tu_basename(rep_file(r)));
	tu_truncate(buf, 110, tmp, sizeof(tmp));
	text(f, LABEL_X, 28, NULL, "font-size=\"18\" font-weight=\"bold\" fill=\"#111\"", tmp);
	if (r->sc && r->sc->scale_text[0] && strcmp(r->sc->scale_text, "1"))
		snprintf(sc, sizeof(sc), ", ran at time scale %s", r->sc->scale_text);
	o = (size_t)snprintf(buf, sizeof(buf), "%s  |  times in scenario units%s (wall clock %s)  |  "
			     "%zu passed, %zu failed", tu_basename(rep_file(r)), sc,
			     duration_format(duration_round(r->wall_ms), wall, sizeof(wall)), c->pass, c->fail);
	if (c->error && o < sizeof(buf))
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, ", %zu %s", c->error,
				      c->error == 1 ? "error" : "errors");
	if (c->skip && o < sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, ", %zu skipped", c->skip);
	tu_truncate(buf, 170, tmp, sizeof(tmp));
	text(f, LABEL_X, 50, NULL, "font-size=\"12\" fill=\"#555\"", tmp);
	if (rep_scenario_error(r)) {
		snprintf(buf, sizeof(buf), "ERROR: %s", r->error);
		tu_truncate(buf, 150, tmp, sizeof(tmp));
		text(f, LABEL_X, 72, NULL, "font-size=\"13\" font-weight=\"bold\" fill=\"#a33\"", tmp);
	}
}

/* Each flow's connection line, over the idle shading: solid while tracked,
 * dashed once a middlebox expired it. */
static void draw_lines(struct svg *g)
{
	for (size_t i = 0; i < g->nlanes; i++) {
		const struct lane *l = &g->lanes[i];
		double cy = l->y + LINE_DY;
		uint64_t end, cut;

		if (!l->any || !l->row || l->group)
			continue;
		end = l->has_outcome ? l->t_outcome : l->t_last;
		cut = l->has_expire && l->t_expire < end ? l->t_expire : end;
		if (cut > l->t_first)
			fprintf(g->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" "
				   "stroke-width=\"2\"/>\n", tx(g, l->t_first), cy, tx(g, cut), cy);
		if (end > cut)
			fprintf(g->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\""
				   COL_EXPIRE "\" stroke-width=\"2\" stroke-dasharray=\"5 4\"/>\n",
				tx(g, cut), cy, tx(g, end), cy);
	}
}

/* Every mark: events first (lines under the marks), expiries, then
 * everything else. */
/* A drop after its flow's verdict is the connection's teardown meeting
 * the dead path: labelled as such, or it reads like a cause. Last, so the
 * labels of what decided the flow keep their places. */
static void drop_labels(struct svg *g)
{
	const struct scenario_result *r = g->r;

	for (size_t i = 0; i < r->nmarks; i++) {
		const struct tl_mark *m = &r->marks[i];
		int li = lane_of(g, m);
		char d[160], lab[200];
		struct lane *l;

		if (m->kind != TL_DROP || li < 0 || g->lanes[li].group)
			continue;
		l = &g->lanes[li];
		if (!l->has_outcome || m->t_ms <= l->t_outcome)
			continue;
		snprintf(lab, sizeof(lab), "after the outcome: %s", detail_or(m, "dropped", d, sizeof(d)));
		lane_label(g, l, tx(g, m->t_ms), lab, COL_DROP, m->dir == 1);
	}
}

static void draw_marks(struct svg *g)
{
	static const enum tl_kind order[] = {
		TL_EVENT, TL_IDLE_START, TL_EXPIRE, TL_FLOW_NEW, TL_DATA, TL_HEARTBEAT,
		TL_KEEPALIVE, TL_DROP, TL_INJECT, TL_OUTCOME,
	};
	const struct scenario_result *r = g->r;

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (size_t i = 0; i < r->nmarks; i++) {
			const struct tl_mark *m = &r->marks[i];
			int li;

			if (m->kind != order[k])
				continue;
			li = lane_of(g, m);
			if (m->kind == TL_EVENT && li < 0) {
				if (!seen(g, 0, TL_EVENT, 1, tx(g, m->t_ms)))
					draw_scenario_event(g, m);
				continue;
			}
			if (li < 0)
				li = g->other;
			/* a group's lane is its histogram, and the scenario's events */
			if (li >= 0 && (!g->lanes[li].group || m->kind == TL_EVENT))
				draw_mark(g, (size_t)li, m);
		}
	}
	drop_labels(g);
}

static int write_svg(FILE *f, const struct scenario_result *r, bool inline_svg, struct svg g,
		     struct rep_flow *rows);

/* r's timeline into f: the rows, lanes and flow map it needs, sized to r. */
static int write_one(FILE *f, const struct scenario_result *r, bool inline_svg)
{
	struct rep_flow *rows = rep_rows_new(r, 1);
	size_t nrows = rep_nrows(r), nflows = r->sc ? r->sc->nflows : 0;
	struct svg g = { .f = f, .r = r, .other = -1, .nflows = nflows };
	int rc = -1;

	g.lanes = calloc(nrows + 2, sizeof(*g.lanes));
	g.lane_of_flow = calloc(nflows ? nflows : 1, sizeof(*g.lane_of_flow));
	if (rows && g.lanes && g.lane_of_flow)
		rc = write_svg(f, r, inline_svg, g, rows);
	else
		errno = ENOMEM;
	free(rows);
	free(g.lanes);
	free(g.lane_of_flow);
	return rc;
}

static int write_svg(FILE *f, const struct scenario_result *r, bool inline_svg, struct svg g,
		     struct rep_flow *rows)
{
	struct rep_counts c = { 0 };
	size_t n = rep_flows(r, rows);
	int height;

	rep_count_rows(rows, n, &c);
	layout_lanes(&g, rows, n);
	layout_time(&g, rows);
	g.seen = calloc(g.nlanes * (TL_OUTCOME + 1) * 2 * (PLOT_W + 1), 1);
	if (!g.seen)
		return -1;
	height = layout_height(&g, rep_scenario_error(r) ? 84 : 66);

	if (!inline_svg)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"" FONT "\">\n", W, height, W, height);
	fputs("<title>", f);
	tu_xml_puts(f, rep_file(r));
	fputs("</title>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", W, height);
	header(&g, &c);
	scan_lanes(&g);
	for (size_t i = 0; i < g.nlanes; i++)
		draw_lane_base(&g, i);
	grid(&g);
	axis(&g, g.lanes_top - EVENT_STRIP, true);
	axis(&g, g.lanes_bottom, false);
	text(f, PLOT_X0 - 10, g.lanes_top - EVENT_STRIP - 8, "end",
	     "font-size=\"11\" fill=\"#333\" font-style=\"italic\"", "scenario time");
	for (size_t i = 0; i < g.nlanes; i++)
		if (g.lanes[i].group && draw_group(&g, i) < 0) {
			free(g.seen);
			return -1;
		}
	draw_idle(&g);
	draw_lines(&g);
	draw_marks(&g);
	legend(&g, g.lanes_bottom + 48);
	fputs("</svg>\n", f);
	free(g.seen);
	return 0;
}

/* DIR/NAME.svg for scenario i; a basename used by an earlier scenario of
 * the same run gets "-2", "-3", ... so no timeline overwrites another. */
static int out_path(const char *dir, const struct scenario_result *rs, size_t i, char *buf,
		    size_t len)
{
	char base[NAME_MAX + 1];
	const char *b = rs[i].sc ? tu_basename(rep_file(&rs[i])) : "scenario";
	size_t bl = strlen(b), same = 0;
	int n;

	if (bl > 4 && !strcmp(b + bl - 4, ".ini"))
		bl -= 4;
	if (bl == 0 || bl > NAME_MAX - 12) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(base, sizeof(base), "%.*s", (int)bl, b);
	for (size_t j = 0; j < i; j++) {
		const char *o = rs[j].sc ? tu_basename(rep_file(&rs[j])) : "scenario";
		size_t ol = strlen(o);

		if (ol > 4 && !strcmp(o + ol - 4, ".ini"))
			ol -= 4;
		if (ol == bl && !memcmp(o, b, bl))
			same++;
	}
	if (same)
		n = snprintf(buf, len, "%s/%s-%zu.svg", dir, base, same + 1);
	else
		n = snprintf(buf, len, "%s/%s.svg", dir, base);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int report_svg_inline(FILE *f, const struct scenario_result *r)
{
	return write_one(f, r, true);
}

int report_svg(const char *dir, const struct scenario_result *rs, size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX];

	if (tu_mkdir_p(dir) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		FILE *f;
		int ok;

		if (out_path(dir, rs, i, path, sizeof(path)) < 0)
			return -1;
		f = tu_atomic_open(path, tmp, sizeof(tmp));
		if (!f)
			return -1;
		ok = write_one(f, &rs[i], false) == 0;
		if (tu_atomic_commit(f, tmp, path, ok) < 0)
			return -1;
	}
	return 0;
}
