/* render_html.c - the report as one self-contained HTML5 page.
 *
 * The page must open from a CI artifact or a mail attachment with no
 * network: the CSS is inline, the charts are inline SVG drawn here, there
 * is no script, and a Content-Security-Policy forbids every fetch, so even
 * a field that slipped through unescaped could neither load nor run
 * anything.  Every text goes through lab_xml_str(); every number through
 * lab_html_num() or lab_plot_map(), which never give NaN or inf.
 *
 *   header     totals and where the data came from
 *   overview   findings over time, findings by kind
 *   findings   one row per finding (tr.finding[data-signature]) and a
 *              <details> row under it: excerpt, operations, frames, seed
 *   runs       one row per run (tr.run), result colour coded
 *   run charts a line chart per series of each run (ops/s, exec/s, ...)
 *   benchmark  the detection benchmark's Markdown table, when s->bench
 *
 * Every chart is <svg class="chart" data-chart="NAME"> with a <title>;
 * its data marks carry class "data", and a chart without data says so in
 * text.  reports/tests/html_chromium.sh checks all of this on the DOM a
 * browser parsed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h> /* isfinite: a macro, no libm */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define LAB_DASH "&#8211;" /* what an empty field shows */

static const char lab_html_css[] =
	":root{--fg:#1d2330;--muted:#5c6677;--line:#d8dde6;--alt:#f4f6f9;"
	"--accent:#2f6fd0}\n"
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"sans-serif;color:var(--fg);background:#fff;margin:0 auto;"
	"max-width:1400px;padding:16px 24px}\n"
	"h1{font-size:22px;margin:8px 0}\n"
	"h2{font-size:18px;margin:28px 0 8px;padding-bottom:4px;"
	"border-bottom:1px solid var(--line)}\n"
	"h3{font-size:15px;margin:18px 0 6px}\n"
	"nav a{margin-right:14px}\n"
	".meta,.note{color:var(--muted)}\n"
	".totals{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}\n"
	".totals div{border:1px solid var(--line);border-radius:6px;"
	"padding:8px 14px;min-width:130px}\n"
	".totals dt{color:var(--muted);font-size:12px}\n"
	".totals dd{margin:0;font-size:22px;font-weight:600}\n"
	"table{border-collapse:collapse;width:100%;margin:8px 0}\n"
	"th,td{border-bottom:1px solid var(--line);padding:4px 8px;"
	"text-align:left;vertical-align:top}\n"
	"th{background:var(--alt);font-weight:600}\n"
	".num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}\n"
	"code{word-break:break-all}\n"
	"pre{background:var(--alt);padding:8px;overflow:auto;"
	"max-height:320px;white-space:pre-wrap}\n"
	".file{color:var(--muted)}\n"
	".kind{font-weight:600}\n"
	"tr.finding-details td{border-bottom:2px solid var(--line)}\n"
	"details summary{cursor:pointer;color:var(--muted)}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;"
	"gap:2px 12px;margin:8px 0}\n"
	"dl.facts dt{color:var(--muted)}\n"
	"dl.facts dd{margin:0}\n"
	".result{font-weight:600}\n"
	".res-pass{color:#1e7b34}\n"
	".res-fail{color:#b3261e}\n"
	".res-interrupted{color:#9a6700}\n"
	".res-error{color:#7d3cb5}\n"
	".error{color:#b3261e}\n"
	".charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\n"
	"svg.chart{width:100%;max-width:520px;height:auto;background:#fff;"
	"border:1px solid var(--line);border-radius:6px}\n"
	"svg text{font:11px system-ui,sans-serif;fill:#4a5363}\n"
	"svg .chart-title{font-size:13px;font-weight:600;fill:var(--fg)}\n"
	"svg .grid{stroke:#e8ebf0}\n"
	"svg .axis{stroke:#8892a2;fill:none}\n"
	"svg polyline.data{fill:none;stroke:var(--accent);stroke-width:1.6}\n"
	"svg rect.data,svg circle.data{fill:var(--accent)}\n"
	"svg .nodata{font-size:13px;fill:var(--muted)}\n";

/* ---- text and numbers --------------------------------------------------- */

/* s escaped, or a dash when it is empty: an empty cell then reads as
 * "not known", not as a rendering fault. */
static void lab_html_text(FILE *f, const char *s)
{
	if (s && *s)
		lab_xml_str(f, s);
	else
		fputs(LAB_DASH, f);
}

static void lab_html_td(FILE *f, const char *cls, const char *s)
{
	if (cls)
		fprintf(f, "<td class=\"%s\">", cls);
	else
		fputs("<td>", f);
	lab_html_text(f, s);
	fputs("</td>", f);
}

/* A <time> element; 0 (or less) is "unknown". */
static void lab_html_time(FILE *f, int64_t t)
{
	char buf[32];

	if (t <= 0) {
		fputs(LAB_DASH, f);
		return;
	}
	lab_iso_time(t, buf, sizeof(buf));
	/* ISO 8601 holds digits, '-', ':', 'T', 'Z' only: nothing to escape */
	fprintf(f, "<time datetime=\"%s\">%s</time>", buf, buf);
}

/* A short, human number for tick and bar labels ("150k", "0.3", "2.5M").
 * Never "nan" or "inf": those become a dash. */
static void lab_html_num(char *buf, size_t len, double v)
{
	double a = v < 0 ? -v : v;

	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (a >= 1e12)
		snprintf(buf, len, "%.3g", v);
	else if (a >= 1e9)
		snprintf(buf, len, "%.4gG", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, len, "%.4gM", v / 1e6);
	else if (a >= 1e4)
		snprintf(buf, len, "%.4gk", v / 1e3);
	else
		snprintf(buf, len, "%.4g", a < 1e-12 ? 0.0 : v);
}

/* "45 s", "3 min 05 s", "2 h 07 min"; a dash when the end is unknown. */
static void lab_html_duration(FILE *f, int64_t start, int64_t end)
{
	int64_t d = end - start;

	if (start <= 0 || end < start)
		fputs(LAB_DASH, f);
	else if (d < 60)
		fprintf(f, "%" PRId64 " s", d);
	else if (d < 3600)
		fprintf(f, "%" PRId64 " min %02" PRId64 " s", d / 60, d % 60);
	else
		fprintf(f, "%" PRId64 " h %02" PRId64 " min", d / 3600,
			d / 60 % 60);
}

/* At most max bytes of s, cut on a UTF-8 character boundary, with an
 * ellipsis when cut: chart labels have a fixed width. */
static void lab_html_label(FILE *f, const char *s, size_t max)
{
	char buf[64];
	size_t n = strlen(s);

	if (max >= sizeof(buf))
		max = sizeof(buf) - 1;
	if (n <= max) {
		lab_xml_str(f, s);
		return;
	}
	n = max;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, s, n);
	buf[n] = '\0';
	lab_xml_str(f, buf);
	fputs("&#8230;", f);
}

/* ---- chart frame and axes ------------------------------------------------ */

#define LAB_SVG_W 520
#define LAB_SVG_H 240
#define LAB_PLOT_TOP 30	   /* the chart's heading above the plot */
#define LAB_PLOT_BOTTOM 44 /* x tick labels and the x axis title */
#define LAB_PLOT_RIGHT 20
#define LAB_MAX_TICKS 12

/* The plot area of a chart and the data ranges it shows. */
struct lab_plot {
	double x0, x1, xstep; /* x0 < x1, all finite */
	double y0, y1, ystep;
	int left, top, width, height; /* in SVG user units */
};

/* 1, 2 or 5 times a power of ten, at least raw: ticks people can read. */
static double lab_nice_step(double raw)
{
	double mag = 1;

	if (!isfinite(raw) || raw <= 0)
		return 1;
	while (mag * 10 <= raw && isfinite(mag * 10))
		mag *= 10;
	while (mag > raw && mag / 10 > 0)
		mag /= 10;
	if (raw <= mag)
		return mag;
	if (raw <= 2 * mag)
		return 2 * mag;
	return raw <= 5 * mag ? 5 * mag : 10 * mag;
}

/* v rounded down (up) to a multiple of step, or v itself when it is too
 * large for that to matter (no libm: floor() would need -lm). */
static double lab_round_to(double v, double step, bool up)
{
	double q = v / step;
	long long k;

	if (!isfinite(q) || q > 1e15 || q < -1e15)
		return v;
	k = (long long)q;
	if (!up && (double)k * step > v)
		k--;
	if (up && (double)k * step < v)
		k++;
	return (double)k * step;
}

/* How an axis is fitted to its data. */
enum lab_axis_flags {
	LAB_AXIS_ZERO = 1,  /* keep 0 in view (rates and counts) */
	LAB_AXIS_TIGHT = 2, /* end at the data, not at the next tick (time) */
	LAB_AXIS_INT = 4,   /* ticks on whole numbers (counts) */
};

/* Fits [*lo, *hi] to an axis with about five ticks: never empty, never
 * inverted, never NaN. */
static void lab_axis_fit(double *lo, double *hi, double *step, unsigned how)
{
	bool zero = how & LAB_AXIS_ZERO;
	double pad;

	if (!isfinite(*lo) || !isfinite(*hi) || *lo > *hi) {
		*lo = 0;
		*hi = 1;
	}
	/* so that hi - lo and the padding below cannot overflow */
	*lo = *lo < -1e300 ? -1e300 : *lo > 1e300 ? 1e300 : *lo;
	*hi = *hi < -1e300 ? -1e300 : *hi > 1e300 ? 1e300 : *hi;
	if (zero && *lo > 0)
		*lo = 0;
	if (zero && *hi < 0)
		*hi = 0;
	if (*hi - *lo <= 0 || !isfinite(*hi - *lo)) {
		pad = *hi < 0 ? -*hi / 10 : *hi / 10;
		if (!(pad > 0) || !isfinite(pad) || (how & LAB_AXIS_INT))
			pad = 1;
		if (!(zero && *lo == 0))
			*lo -= pad;
		*hi += pad;
	}
	*step = lab_nice_step((*hi - *lo) / 5);
	if ((how & LAB_AXIS_INT) && *step < 1)
		*step = 1;
	if (how & LAB_AXIS_TIGHT)
		return;
	*lo = lab_round_to(*lo, *step, false);
	*hi = lab_round_to(*hi, *step, true);
	if (!(*hi > *lo)) /* range too small for a double: show it flat */
		*hi = *lo + *step;
}

/* A point of a polyline; x and y come from lab_plot_px()/lab_plot_py(). */
static void lab_svg_xy(FILE *f, double x, double y)
{
	fprintf(f, "%.1f,%.1f", x, y);
}

/* v mapped onto [from, from + len] (len < 0 for y, which grows down) and
 * kept there: always finite, never outside the plot whatever the data. */
static double lab_plot_map(double v, double lo, double hi, double from,
			   double len)
{
	double c = from + (v - lo) / (hi - lo) * len;
	double a = len < 0 ? from + len : from, b = len < 0 ? from : from + len;

	if (!isfinite(c))
		return a;
	return c < a ? a : c > b ? b : c;
}

static double lab_plot_px(const struct lab_plot *p, double x)
{
	return lab_plot_map(x, p->x0, p->x1, p->left, p->width);
}

static double lab_plot_py(const struct lab_plot *p, double y)
{
	return lab_plot_map(y, p->y0, p->y1, p->top + p->height, -p->height);
}

/* Opens a chart: the svg element, its <title> (tooltip and accessible
 * name) and the visible heading.  run may be NULL. */
static void lab_svg_open(FILE *f, const char *name, const char *run,
			 const char *title, int height)
{
	fprintf(f, "<svg class=\"chart\" data-chart=\"");
	lab_xml_str(f, name);
	if (run) {
		fputs("\" data-run=\"", f);
		lab_xml_str(f, run);
	}
	fprintf(f,
		"\" role=\"img\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\"><title>",
		LAB_SVG_W, height, LAB_SVG_W, height);
	lab_xml_str(f, title);
	fputs("</title>\n<text class=\"chart-title\" x=\"12\" y=\"19\">", f);
	lab_html_label(f, title, 60);
	fputs("</text>\n", f);
}

static void lab_svg_nodata(FILE *f, const char *name, const char *run,
			   const char *title)
{
	lab_svg_open(f, name, run, title, 80);
	fprintf(f,
		"<text class=\"nodata\" x=\"%d\" y=\"52\" "
		"text-anchor=\"middle\">no data</text></svg>\n",
		LAB_SVG_W / 2);
}

/* A tick: a grid line across the plot and its label. */
static void lab_plot_tick(FILE *f, const struct lab_plot *p, bool x_axis,
			  double v)
{
	char num[32];
	double c = x_axis ? lab_plot_px(p, v) : lab_plot_py(p, v);

	lab_html_num(num, sizeof(num), v);
	if (x_axis)
		fprintf(f,
			"<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" "
			"y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" "
			"text-anchor=\"middle\">%s</text>\n",
			c, c, p->top, p->top + p->height, c,
			p->top + p->height + 15, num);
	else
		fprintf(f,
			"<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
			"y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" "
			"text-anchor=\"end\">%s</text>\n",
			p->left, p->left + p->width, c, c, p->left - 6, c + 4,
			num);
}

static void lab_plot_ticks(FILE *f, const struct lab_plot *p, bool x_axis)
{
	double lo = x_axis ? p->x0 : p->y0, hi = x_axis ? p->x1 : p->y1;
	double step = x_axis ? p->xstep : p->ystep, v;
	unsigned i;

	lo = lab_round_to(lo, step, true); /* a tight axis starts between */
	for (i = 0; i <= LAB_MAX_TICKS; i++) {
		v = lo + i * step;
		if (v > hi + step * 1e-6)
			break;
		lab_plot_tick(f, p, x_axis, v);
	}
}

/* Grid, tick labels, the two axis lines and the axis titles; ytitle may
 * be NULL (bar charts label each bar instead). */
static void lab_plot_axes(FILE *f, const struct lab_plot *p, const char *xtitle,
			  const char *ytitle)
{
	int bottom = p->top + p->height;

	lab_plot_ticks(f, p, true);
	if (ytitle)
		lab_plot_ticks(f, p, false);
	fprintf(f, "<path class=\"axis\" d=\"M%d %dV%dH%d\"/>\n", p->left,
		p->top, bottom, p->left + p->width);
	fprintf(f,
		"<text class=\"axis-title\" x=\"%d\" y=\"%d\" "
		"text-anchor=\"middle\">",
		p->left + p->width / 2, bottom + 34);
	lab_xml_str(f, xtitle);
	fputs("</text>\n", f);
	if (!ytitle)
		return;
	fprintf(f,
		"<text class=\"axis-title\" text-anchor=\"middle\" "
		"transform=\"translate(14 %d) rotate(-90)\">",
		p->top + p->height / 2);
	lab_xml_str(f, ytitle);
	fputs("</text>\n", f);
}

/* ---- line chart ---------------------------------------------------------- */

/* A line over (t[i], v[i]); step draws a staircase from 0 (a cumulative
 * count that jumps at each t). */
struct lab_line {
	const char *name, *run, *title; /* data-chart, data-run, <title> */
	const char *xtitle, *ytitle;
	const double *t, *v;
	unsigned n;
	bool step;
	unsigned yhow;	 /* lab_axis_flags beyond LAB_AXIS_ZERO */
	double xlo, xhi; /* the x axis spans at least this when xlo < xhi */
};

static bool lab_point_ok(const struct lab_line *l, unsigned i)
{
	return isfinite(l->t[i]) && isfinite(l->v[i]);
}

/* The ranges of the finite points; false when there are none. */
static bool lab_line_ranges(const struct lab_line *l, struct lab_plot *p)
{
	bool any = false;
	unsigned i;

	for (i = 0; i < l->n; i++) {
		if (!lab_point_ok(l, i))
			continue;
		if (!any) {
			p->x0 = p->x1 = l->t[i];
			p->y0 = p->y1 = l->v[i];
			any = true;
		}
		p->x0 = l->t[i] < p->x0 ? l->t[i] : p->x0;
		p->x1 = l->t[i] > p->x1 ? l->t[i] : p->x1;
		p->y0 = l->v[i] < p->y0 ? l->v[i] : p->y0;
		p->y1 = l->v[i] > p->y1 ? l->v[i] : p->y1;
	}
	return any;
}

static void lab_line_points(FILE *f, const struct lab_line *l,
			    const struct lab_plot *p)
{
	double prev = 0;
	unsigned i;

	fputs("<polyline class=\"data\" points=\"", f);
	if (l->step) { /* the count is 0 from the axis' start */
		lab_svg_xy(f, lab_plot_px(p, p->x0), lab_plot_py(p, 0));
		fputc(' ', f);
	}
	for (i = 0; i < l->n; i++) {
		if (!lab_point_ok(l, i))
			continue;
		if (l->step) {
			lab_svg_xy(f, lab_plot_px(p, l->t[i]),
				   lab_plot_py(p, prev));
			fputc(' ', f);
			prev = l->v[i];
		}
		lab_svg_xy(f, lab_plot_px(p, l->t[i]), lab_plot_py(p, l->v[i]));
		fputc(' ', f);
	}
	if (l->step) /* ... and stays at the last count to the end */
		lab_svg_xy(f, lab_plot_px(p, p->x1), lab_plot_py(p, prev));
	fputs("\"/>\n", f);
}

/* A lone point draws no line: mark it so it is seen. */
static void lab_line_marker(FILE *f, const struct lab_line *l,
			    const struct lab_plot *p)
{
	unsigned i, ok = 0, last = 0;

	for (i = 0; i < l->n; i++)
		if (lab_point_ok(l, i)) {
			ok++;
			last = i;
		}
	if (ok != 1)
		return;
	fputs("<circle class=\"data\" r=\"3\" cx=\"", f);
	fprintf(f, "%.1f\" cy=\"%.1f\"/>\n", lab_plot_px(p, l->t[last]),
		lab_plot_py(p, l->v[last]));
}

static void lab_svg_line_chart(FILE *f, const struct lab_line *l)
{
	struct lab_plot p = { .left = 70, .top = LAB_PLOT_TOP };

	if (!lab_line_ranges(l, &p)) {
		lab_svg_nodata(f, l->name, l->run, l->title);
		return;
	}
	p.width = LAB_SVG_W - p.left - LAB_PLOT_RIGHT;
	p.height = LAB_SVG_H - p.top - LAB_PLOT_BOTTOM;
	if (l->xlo < l->xhi) {
		p.x0 = l->xlo < p.x0 ? l->xlo : p.x0;
		p.x1 = l->xhi > p.x1 ? l->xhi : p.x1;
	}
	lab_axis_fit(&p.x0, &p.x1, &p.xstep, LAB_AXIS_TIGHT);
	lab_axis_fit(&p.y0, &p.y1, &p.ystep, l->yhow | LAB_AXIS_ZERO);
	lab_svg_open(f, l->name, l->run, l->title, LAB_SVG_H);
	lab_plot_axes(f, &p, l->xtitle, l->ytitle);
	lab_line_points(f, l, &p);
	lab_line_marker(f, l, &p);
	fputs("</svg>\n", f);
}

/* ---- bar chart ----------------------------------------------------------- */

#define LAB_BAR_LABEL_W 230 /* room for the labels left of the bars */
#define LAB_BAR_ROW 22
#define LAB_BAR_LABEL_BYTES 36

/* Horizontal bars, one per label (labels are long: kind titles, rows of
 * the benchmark table). */
struct lab_bars {
	const char *name, *title, *xtitle;
	const char *const *labels;
	const double *values;
	unsigned n;
	unsigned how; /* lab_axis_flags beyond LAB_AXIS_ZERO */
};

static void lab_bar_one(FILE *f, const struct lab_bars *b,
			const struct lab_plot *p, unsigned i)
{
	double zero = lab_plot_px(p, 0), end = lab_plot_px(p, b->values[i]);
	double x = end < zero ? end : zero,
	       w = end < zero ? zero - end : end - zero;
	int y = p->top + (int)i * LAB_BAR_ROW;
	char num[32];

	lab_html_num(num, sizeof(num), b->values[i]);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", p->left - 8,
		y + 15);
	lab_html_label(f, b->labels[i], LAB_BAR_LABEL_BYTES);
	fprintf(f,
		"</text>\n<rect class=\"data\" x=\"%.1f\" y=\"%d\" "
		"width=\"%.1f\" height=\"%d\"><title>",
		x, y + 4, w, LAB_BAR_ROW - 8);
	lab_xml_str(f, b->labels[i]);
	fprintf(f,
		": %s</title></rect>\n<text x=\"%.1f\" y=\"%d\">%s"
		"</text>\n",
		num, (end > zero ? end : zero) + 4, y + 15, num);
}

static void lab_svg_bar_chart(FILE *f, const struct lab_bars *b)
{
	struct lab_plot p = { .left = LAB_BAR_LABEL_W, .top = LAB_PLOT_TOP };
	unsigned i, ok = 0;

	p.x0 = p.x1 = 0;
	for (i = 0; i < b->n; i++) {
		if (!isfinite(b->values[i]))
			continue;
		ok++;
		p.x0 = b->values[i] < p.x0 ? b->values[i] : p.x0;
		p.x1 = b->values[i] > p.x1 ? b->values[i] : p.x1;
	}
	if (!ok) {
		lab_svg_nodata(f, b->name, NULL, b->title);
		return;
	}
	/* room right of the longest bar for its value */
	p.width = LAB_SVG_W - p.left - LAB_PLOT_RIGHT - 30;
	p.height = (int)b->n * LAB_BAR_ROW;
	lab_axis_fit(&p.x0, &p.x1, &p.xstep, b->how | LAB_AXIS_ZERO);
	lab_svg_open(f, b->name, NULL, b->title,
		     p.top + p.height + LAB_PLOT_BOTTOM);
	lab_plot_axes(f, &p, b->xtitle, NULL);
	for (i = 0; i < b->n; i++)
		if (isfinite(b->values[i]))
			lab_bar_one(f, b, &p, i);
	fputs("</svg>\n", f);
}

/* ---- page head and header ------------------------------------------------ */

static void lab_html_head(FILE *f, const struct lab_report_set *s)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, "
	      "initial-scale=1\">\n"
	      /* offline by construction: nothing may be fetched or run */
	      "<meta http-equiv=\"Content-Security-Policy\" "
	      "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
	      f);
	fprintf(f, "<title>labyrinth report: %zu findings, %zu runs</title>\n",
		s->nrecs, s->nruns);
	fprintf(f, "<style>\n%s</style>\n</head>\n<body>\n", lab_html_css);
}

static void lab_html_total(FILE *f, const char *key, const char *label,
			   uint64_t v)
{
	fprintf(f,
		"<div><dt>%s</dt><dd data-total=\"%s\">%" PRIu64
		"</dd></div>\n",
		label, key, v);
}

static void lab_html_totals(FILE *f, const struct lab_report_set *s)
{
	uint64_t sightings = 0, failed = 0;
	size_t i;

	for (i = 0; i < s->nrecs; i++)
		sightings += s->recs[i].count;
	for (i = 0; i < s->nruns; i++)
		failed += !strcmp(s->runs[i].result, "fail") ||
			  !strcmp(s->runs[i].result, "error");
	fputs("<dl class=\"totals\">\n", f);
	lab_html_total(f, "findings", "Distinct findings", s->nrecs);
	lab_html_total(f, "sightings", "Total sightings", sightings);
	lab_html_total(f, "runs", "Runs", s->nruns);
	lab_html_total(f, "failed", "Failed runs", failed);
	fputs("</dl>\n", f);
}

/* The time window the data covers: earliest start or first sight to the
 * latest end or last sight. */
static void lab_html_window(FILE *f, const struct lab_report_set *s)
{
	int64_t lo = 0, hi = 0;
	size_t i;

	for (i = 0; i < s->nruns; i++) {
		const struct lab_runrec *r = &s->runs[i];

		if (r->started > 0 && (!lo || r->started < lo))
			lo = r->started;
		if (r->ended > hi)
			hi = r->ended;
	}
	for (i = 0; i < s->nrecs; i++) {
		const struct lab_rec *r = &s->recs[i];

		if (r->first_seen > 0 && (!lo || r->first_seen < lo))
			lo = r->first_seen;
		if (r->last_seen > hi)
			hi = r->last_seen;
	}
	fputs("Covers ", f);
	lab_html_time(f, lo);
	fputs(" to ", f);
	lab_html_time(f, hi);
	fputs(". ", f);
}

/* The builds seen, up to a few; more are summarised by their number. */
static void lab_html_builds(FILE *f, const struct lab_report_set *s)
{
	const char *seen[4];
	unsigned n = 0, more = 0, j;
	size_t i;

	for (i = 0; i < s->nruns + s->nrecs; i++) {
		const char *b = i < s->nruns ? s->runs[i].build :
					       s->recs[i - s->nruns].build;

		for (j = 0; j < n && strcmp(seen[j], b); j++)
			;
		if (!*b || j < n)
			continue;
		if (n < 4)
			seen[n++] = b;
		else
			more++;
	}
	fputs("Builds: ", f);
	for (j = 0; j < n; j++) {
		fputs(j ? ", <code>" : "<code>", f);
		lab_xml_str(f, seen[j]);
		fputs("</code>", f);
	}
	if (!n)
		fputs(LAB_DASH, f);
	if (more)
		fputs(" and others", f);
	fputs(".", f);
}

static void lab_html_header(FILE *f, const struct lab_report_set *s)
{
	fputs("<header>\n<h1>labyrinth report</h1>\n", f);
	lab_html_totals(f, s);
	fprintf(f,
		"<p class=\"meta\">Generated by <code>labyrinth report</code>"
		" from %u record files (%u unreadable, skipped). ",
		s->files_read, s->files_bad);
	lab_html_window(f, s);
	lab_html_builds(f, s);
	fputs("</p>\n<nav><a href=\"#overview\">Overview</a>"
	      "<a href=\"#findings\">Findings</a><a href=\"#runs\">Runs</a>"
	      "<a href=\"#run-charts\">Run charts</a>",
	      f);
	if (s->bench[0])
		fputs("<a href=\"#benchmark\">Detection benchmark</a>", f);
	fputs("</nav>\n</header>\n", f);
}

/* ---- findings ------------------------------------------------------------ */

/* "function file:line", the parts that are known. */
static void lab_html_site(FILE *f, const struct lab_site *s)
{
	if (*s->function || !*s->file)
		lab_html_text(f, s->function);
	if (!*s->file)
		return;
	fputs(*s->function ? " <span class=\"file\">" : "<span class=\"file\">",
	      f);
	lab_xml_str(f, s->file);
	if (s->line)
		fprintf(f, ":%u", s->line);
	fputs("</span>", f);
}

static void lab_html_finding_row(FILE *f, const struct lab_rec *r)
{
	fputs("<tr class=\"finding\" data-signature=\"", f);
	lab_xml_str(f, r->signature);
	fputs("\" data-kind=\"", f);
	lab_xml_str(f, lab_kind_name(r->kind));
	fputs("\">", f);
	lab_html_td(f, "kind", lab_kind_title(r->kind));
	lab_html_td(f, NULL, r->check);
	lab_html_td(f, NULL, r->title);
	fputs("<td>", f);
	lab_html_site(f, &r->site);
	fputs("</td>", f);
	lab_html_td(f, NULL, r->tool);
	fprintf(f, "<td class=\"num\">%" PRIu64 "</td><td>", r->count);
	lab_html_time(f, r->first_seen);
	fputs("</td><td>", f);
	lab_html_time(f, r->last_seen);
	fputs("</td><td><code class=\"reproduce\">", f);
	lab_html_text(f, r->reproduce);
	fputs("</code></td></tr>\n", f);
}

static void lab_html_fact(FILE *f, const char *name, const char *value)
{
	fprintf(f, "<dt>%s</dt><dd>", name);
	lab_html_text(f, value);
	fputs("</dd>\n", f);
}

/* What it takes to get there again, and where the record came from. */
static void lab_html_facts(FILE *f, const struct lab_rec *r)
{
	char step[24], thread[16];

	snprintf(step, sizeof(step), "%" PRIu64, r->step);
	if (r->thread >= 0)
		snprintf(thread, sizeof(thread), "%d", r->thread);
	else
		snprintf(thread, sizeof(thread), "none");
	fputs("<dl class=\"facts\">\n", f);
	lab_html_fact(f, "seed", r->seed);
	lab_html_fact(f, "strategy", r->strategy);
	lab_html_fact(f, "bug", r->bug);
	lab_html_fact(f, "step", step);
	lab_html_fact(f, "thread", thread);
	lab_html_fact(f, "build", r->build);
	lab_html_fact(f, "run", r->run);
	lab_html_fact(f, "artifact", r->artifact);
	lab_html_fact(f, "signature", r->signature);
	if (*r->source)
		lab_html_fact(f, "record file", r->source);
	fputs("</dl>\n", f);
}

/* The last operations (oldest first) and the stack frames. */
static void lab_html_trail(FILE *f, const struct lab_rec *r)
{
	unsigned nops = r->nops < LAB_REC_OPS ? r->nops : LAB_REC_OPS;
	unsigned nframes = r->nframes < LAB_REC_FRAMES ? r->nframes :
							 LAB_REC_FRAMES;
	unsigned i;

	if (nops) {
		fputs("<h4>Last operations</h4>\n<ol class=\"ops\">\n", f);
		for (i = 0; i < nops; i++) {
			fputs("<li><code>", f);
			lab_xml_str(f, r->ops[i]);
			fputs("</code></li>\n", f);
		}
		fputs("</ol>\n", f);
	}
	if (!nframes)
		return;
	fputs("<h4>Frames</h4>\n<ol class=\"frames\" start=\"0\">\n", f);
	for (i = 0; i < nframes; i++) {
		fputs("<li>", f);
		lab_html_site(f, &r->frames[i]);
		fputs("</li>\n", f);
	}
	fputs("</ol>\n", f);
}

static void lab_html_finding_details(FILE *f, const struct lab_rec *r)
{
	fputs("<tr class=\"finding-details\"><td colspan=\"9\"><details>"
	      "<summary>",
	      f);
	lab_html_text(f, *r->summary ? r->summary : r->title);
	fputs("</summary>\n", f);
	lab_html_facts(f, r);
	if (*r->excerpt) {
		fputs("<pre class=\"excerpt\">", f);
		lab_xml_str(f, r->excerpt);
		fputs("</pre>\n", f);
	}
	lab_html_trail(f, r);
	fputs("</details></td></tr>\n", f);
}

static void lab_html_findings(FILE *f, const struct lab_report_set *s)
{
	size_t i;

	fputs("<section id=\"findings\">\n<h2>Findings</h2>\n", f);
	if (!s->nrecs) {
		fputs("<p class=\"note\">No findings.</p>\n</section>\n", f);
		return;
	}
	fputs("<table class=\"findings\">\n<thead><tr><th>Kind</th>"
	      "<th>Check</th><th>Title</th><th>Site</th><th>Tool</th>"
	      "<th class=\"num\">Count</th><th>First seen</th>"
	      "<th>Last seen</th><th>Reproduce</th></tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < s->nrecs; i++) {
		lab_html_finding_row(f, &s->recs[i]);
		lab_html_finding_details(f, &s->recs[i]);
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

/* ---- runs ---------------------------------------------------------------- */

/* A class for the results the format defines; anything else is "other"
 * (a class name is never built from file content). */
static const char *lab_html_result_class(const char *result)
{
	static const char *const known[] = { "pass", "fail", "interrupted",
					     "error" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(result, known[i]))
			return known[i];
	return "other";
}

/* Whether word is one of the blank-separated words of s, alone or as
 * "word=...". */
static bool lab_has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = strstr(s, word); p; p = strstr(p + 1, word))
		if ((p == s || p[-1] == ' ') &&
		    (!p[n] || p[n] == ' ' || p[n] == '='))
			return true;
	return false;
}

/* The command as recorded; a stress run's gets the seed it ran with when
 * it did not name one (the seed came from the clock), so that what the
 * table shows runs the same thing again. */
static void lab_html_run_command(FILE *f, const struct lab_runrec *r)
{
	fputs("<td><code>", f);
	lab_html_text(f, r->command);
	if (*r->seed && !strncmp(r->tool, "stress", 6) &&
	    !lab_has_word(r->command, "--seed")) {
		fputs(" --seed ", f);
		lab_html_text(f, r->seed);
	}
	fputs("</code></td>", f);
}

static void lab_html_run_row(FILE *f, const struct lab_runrec *r)
{
	fputs("<tr class=\"run\">", f);
	lab_html_td(f, NULL, r->tool);
	fputs("<td><code>", f);
	lab_html_text(f, r->id);
	fprintf(f, "</code></td><td class=\"result res-%s\">",
		lab_html_result_class(r->result));
	lab_html_text(f, r->result);
	fputs("</td><td>", f);
	lab_html_time(f, r->started);
	fputs("</td><td class=\"num\">", f);
	lab_html_duration(f, r->started, r->ended);
	fprintf(f, "</td><td class=\"num\">%" PRIu64 "</td>", r->findings);
	lab_html_td(f, "num seed", *r->seed ? r->seed : "-");
	lab_html_td(f, NULL, r->detail);
	lab_html_run_command(f, r);
	fputs("</tr>\n", f);
}

static void lab_html_runs(FILE *f, const struct lab_report_set *s)
{
	size_t i;

	fputs("<section id=\"runs\">\n<h2>Runs</h2>\n", f);
	if (!s->nruns) {
		fputs("<p class=\"note\">No runs recorded.</p>\n</section>\n",
		      f);
		return;
	}
	fputs("<table class=\"runs\">\n<thead><tr><th>Tool</th><th>Id</th>"
	      "<th>Result</th><th>Started</th><th class=\"num\">Duration</th>"
	      "<th class=\"num\">Findings</th><th class=\"num\">Seed</th>"
	      "<th>Detail</th><th>Command</th>"
	      "</tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < s->nruns; i++)
		lab_html_run_row(f, &s->runs[i]);
	fputs("</tbody>\n</table>\n</section>\n", f);
}

/* ---- detector coverage ------------------------------------------------------ */

/* Runs that provoked detectors on purpose (misuse profile): per detector,
 * how often it was provoked and how often it fired.  A provoked detector
 * that fired less often is marked silent (the run has a finding too). */
static void lab_html_coverage(FILE *f, const struct lab_report_set *s)
{
	size_t i, n = 0;
	unsigned k;

	for (i = 0; i < s->nruns; i++)
		n += s->runs[i].ncoverage > 0;
	if (!n)
		return;
	fputs("<section id=\"coverage\">\n<h2>Detector coverage</h2>\n"
	      "<table class=\"coverage\">\n<thead><tr><th>Run</th>"
	      "<th>Detector</th><th class=\"num\">Provoked</th>"
	      "<th class=\"num\">Fired</th><th>Status</th></tr></thead>\n"
	      "<tbody>\n",
	      f);
	for (i = 0; i < s->nruns; i++) {
		const struct lab_runrec *r = &s->runs[i];

		for (k = 0; k < r->ncoverage; k++) {
			const struct lab_coverage *c = &r->coverage[k];

			fputs("<tr><td><code>", f);
			lab_html_text(f, r->id);
			fputs("</code></td>", f);
			lab_html_td(f, NULL, c->detector);
			fprintf(f,
				"<td class=\"num\">%" PRIu64 "</td>"
				"<td class=\"num\">%" PRIu64 "</td>",
				c->provoked, c->fired);
			lab_html_td(f, NULL,
				    !c->provoked	    ? "not provoked" :
				    c->fired >= c->provoked ? "fired" :
							      "SILENT");
			fputs("</tr>\n", f);
		}
	}
	fputs("</tbody>\n</table>\n</section>\n", f);
}

/* ---- latency ------------------------------------------------------------- */

static void lab_html_latency_rows(FILE *f, const struct lab_runrec *r)
{
	unsigned k;

	for (k = 0; k < r->nlatency; k++) {
		const struct lab_latency *l = &r->latency[k];

		fputs("<tr><td><code>", f);
		lab_html_text(f, r->id);
		fputs("</code></td>", f);
		lab_html_td(f, NULL, l->cls);
		lab_html_td(f, NULL, l->context);
		fprintf(f,
			"<td class=\"num\">%" PRIu64 "</td>"
			"<td class=\"num\">%.1f</td><td class=\"num\">%.1f</td>"
			"<td class=\"num\">%.1f</td><td class=\"num\">%.1f</td>"
			"<td class=\"num\">%.1f</td><td class=\"num\">%.1f</td>"
			"</tr>\n",
			l->count, l->mean_ns / 1e3, l->p50_ns / 1e3,
			l->p90_ns / 1e3, l->p99_ns / 1e3, l->p999_ns / 1e3,
			l->max_ns / 1e3);
	}
}

/* Allocation latency of the runs that measured it (free-running stress):
 * a table per class and context, and what the figures include. */
static void lab_html_latency(FILE *f, const struct lab_report_set *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nruns; i++)
		n += s->runs[i].nlatency > 0;
	if (!n)
		return;
	fputs("<section id=\"latency\">\n<h2>Allocation latency</h2>\n"
	      "<table class=\"latency\">\n<thead><tr><th>Run</th>"
	      "<th>Class</th><th>Context</th><th class=\"num\">Count</th>"
	      "<th class=\"num\">Mean (&micro;s)</th>"
	      "<th class=\"num\">p50</th><th class=\"num\">p90</th>"
	      "<th class=\"num\">p99</th><th class=\"num\">p99.9</th>"
	      "<th class=\"num\">Max (&micro;s)</th></tr></thead>\n<tbody>\n",
	      f);
	for (i = 0; i < s->nruns; i++)
		lab_html_latency_rows(f, &s->runs[i]);
	fputs("</tbody>\n</table>\n", f);
	for (i = 0; i < s->nruns; i++) {
		if (!s->runs[i].nlatency || !*s->runs[i].latency_note)
			continue;
		fputs("<p class=\"note\"><code>", f);
		lab_html_text(f, s->runs[i].id);
		fputs("</code>: ", f);
		lab_html_text(f, s->runs[i].latency_note);
		fputs("</p>\n", f);
	}
	fputs("</section>\n", f);
}

/* ---- charts -------------------------------------------------------------- */

static void lab_html_run_charts_one(FILE *f, const struct lab_runrec *r)
{
	unsigned ns = r->nseries < LAB_RUN_SERIES ? r->nseries : LAB_RUN_SERIES;
	char title[160];
	unsigned i;

	fputs("<h3><code>", f);
	lab_xml_str(f, r->id);
	fputs("</code> (", f);
	lab_html_text(f, r->tool);
	fputs(")</h3>\n<div class=\"charts\">\n", f);
	for (i = 0; i < ns; i++) {
		const struct lab_series *se = &r->series[i];
		struct lab_line l = {
			.name = se->name,
			.run = r->id,
			.title = title,
			.xtitle = "seconds",
			.ytitle = se->name,
			.t = se->t,
			.v = se->v,
			.n = se->n < LAB_SERIES_POINTS ? se->n :
							 LAB_SERIES_POINTS,
		};

		snprintf(title, sizeof(title), "%s, run %s", se->name, r->id);
		lab_svg_line_chart(f, &l);
	}
	fputs("</div>\n", f);
}

static void lab_html_run_charts(FILE *f, const struct lab_report_set *s)
{
	bool any = false;
	size_t i;

	fputs("<section id=\"run-charts\">\n<h2>Run charts</h2>\n", f);
	for (i = 0; i < s->nruns; i++) {
		if (!s->runs[i].nseries)
			continue;
		lab_html_run_charts_one(f, &s->runs[i]);
		any = true;
	}
	if (!any)
		fputs("<p class=\"note\">No run recorded a time series.</p>\n",
		      f);
	fputs("</section>\n", f);
}

static int lab_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The unit for a time axis spanning span seconds. */
static void lab_time_unit(int64_t span, double *div, const char **name)
{
	static const struct {
		int64_t upto;
		double div;
		const char *name;
	} units[] = {
		{ 600, 1, "seconds" },
		{ 36000, 60, "minutes" },
		{ 864000, 3600, "hours" },
		{ INT64_MAX, 86400, "days" },
	};
	size_t i = 0;

	while (span > units[i].upto)
		i++;
	*div = units[i].div;
	*name = units[i].name;
}

/* The time window of the runs, [*lo, *hi], when it holds t and is not
 * empty; false otherwise. */
static bool lab_runs_window(const struct lab_report_set *s, int64_t t,
			    int64_t *lo, int64_t *hi)
{
	bool any = false;
	size_t i;

	for (i = 0; i < s->nruns; i++) {
		const struct lab_runrec *r = &s->runs[i];

		if (r->started <= 0 || r->ended < r->started)
			continue;
		*lo = !any || r->started < *lo ? r->started : *lo;
		*hi = !any || r->ended > *hi ? r->ended : *hi;
		any = true;
	}
	return any && *lo <= t && t <= *hi && *lo < *hi;
}

#define LAB_LONE_SPAN 60 /* seconds around findings all seen at once */

/* Where the time axis of the findings chart starts and ends (epoch
 * seconds): the findings' own span; when they were all first seen in
 * the same second (one finding), the runs' window around them, else a
 * minute centred on them, so the axis is real time, not -1..1. */
static void lab_findings_window(const struct lab_report_set *s,
				const int64_t *ts, size_t n, int64_t *lo,
				int64_t *hi)
{
	*lo = n ? ts[0] : 0;
	*hi = n ? ts[n - 1] : 0;
	if (!n || *hi > *lo || lab_runs_window(s, ts[0], lo, hi))
		return;
	*lo = ts[0] - LAB_LONE_SPAN / 2;
	*hi = ts[0] + LAB_LONE_SPAN / 2;
}

/* Cumulative distinct findings against the time each was first seen;
 * findings without a time are left out (and counted in the title). */
static int lab_html_findings_over_time(FILE *f, const struct lab_report_set *s)
{
	int64_t *ts = malloc((s->nrecs ? s->nrecs : 1) * sizeof(*ts));
	double *tv = malloc((s->nrecs ? s->nrecs : 1) * 2 * sizeof(*tv));
	struct lab_line l = { .name = "findings-over-time",
			      .ytitle = "distinct findings",
			      .step = true,
			      .yhow = LAB_AXIS_INT };
	char xtitle[80], title[96], iso[32];
	size_t i, n = 0;
	int64_t lo, hi;
	double div;
	const char *unit;

	if (!ts || !tv) {
		free(ts);
		free(tv);
		return -ENOMEM;
	}
	for (i = 0; i < s->nrecs; i++)
		if (s->recs[i].first_seen > 0)
			ts[n++] = s->recs[i].first_seen;
	qsort(ts, n, sizeof(*ts), lab_cmp_i64);
	lab_findings_window(s, ts, n, &lo, &hi);
	lab_time_unit(hi - lo, &div, &unit);
	for (i = 0; i < n; i++) {
		tv[i] = (double)(ts[i] - lo) / div;
		tv[n + i] = (double)(i + 1);
	}
	l.xlo = 0;
	l.xhi = (double)(hi - lo) / div;
	lab_iso_time(lo, iso, sizeof(iso));
	snprintf(xtitle, sizeof(xtitle), "%s since %s", unit, iso);
	snprintf(title, sizeof(title), "Findings over time (%zu of %zu dated)",
		 n, s->nrecs);
	l.title = title;
	l.xtitle = xtitle;
	l.t = tv;
	l.v = tv + n;
	l.n = (unsigned)n;
	lab_svg_line_chart(f, &l);
	free(ts);
	free(tv);
	return 0;
}

static void lab_html_findings_by_kind(FILE *f, const struct lab_report_set *s)
{
	const char *labels[LAB_KIND_COUNT];
	double values[LAB_KIND_COUNT], count[LAB_KIND_COUNT] = { 0 };
	struct lab_bars b = { .name = "findings-by-kind",
			      .title = "Distinct findings by kind",
			      .xtitle = "distinct findings",
			      .how = LAB_AXIS_INT,
			      .labels = labels,
			      .values = values };
	size_t i;
	int k;

	for (i = 0; i < s->nrecs; i++)
		if ((unsigned)s->recs[i].kind < LAB_KIND_COUNT)
			count[s->recs[i].kind]++;
	for (k = 0; k < LAB_KIND_COUNT; k++) {
		if (!count[k])
			continue;
		labels[b.n] = lab_kind_title((enum lab_kind)k);
		values[b.n++] = count[k];
	}
	lab_svg_bar_chart(f, &b);
}

static int lab_html_overview(FILE *f, const struct lab_report_set *s)
{
	int ret;

	fputs("<section id=\"overview\">\n<h2>Overview</h2>\n"
	      "<div class=\"charts\">\n",
	      f);
	ret = lab_html_findings_over_time(f, s);
	lab_html_findings_by_kind(f, s);
	fputs("</div>\n</section>\n", f);
	return ret;
}

/* ---- detection benchmark ------------------------------------------------- */

#define LAB_MD_ROWS 64
#define LAB_MD_COLS 12
#define LAB_MD_CELL 160
#define LAB_MD_LINE 4096

/* The first pipe table of a Markdown file; row 0 is the header.  Rows and
 * columns beyond the limits are dropped and said to be. */
struct lab_md_table {
	unsigned nrows, ncols;
	bool cut;
	char cell[LAB_MD_ROWS][LAB_MD_COLS][LAB_MD_CELL];
	unsigned rowcols[LAB_MD_ROWS];
};

static char *lab_md_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* The |---|:--:| line under the header. */
static bool lab_md_is_rule(const char *line)
{
	return strchr(line, '-') && !line[strspn(line, "|-: \t")];
}

/* Splits "| a | b \\| c |" into cells (a backslash-escaped pipe is text);
 * cells are compacted in place, so out never runs ahead of p. */
static void lab_md_split(struct lab_md_table *t, char *line)
{
	unsigned row = t->nrows, col = 0;
	char *p = line + 1, *start = p, *out = p, *cell, c;

	for (;; p++) {
		c = *p;
		if (c == '\\' && p[1] == '|') {
			*out++ = *++p;
			continue;
		}
		if (c && c != '|') {
			*out++ = c;
			continue;
		}
		*out = '\0';
		cell = lab_md_trim(start);
		if (!c && !*cell && col) /* nothing after the closing pipe */
			break;
		if (col < LAB_MD_COLS)
			snprintf(t->cell[row][col], LAB_MD_CELL, "%s", cell);
		t->cut |= col >= LAB_MD_COLS;
		col++;
		if (!c)
			break;
		start = out = p + 1;
	}
	t->rowcols[row] = col < LAB_MD_COLS ? col : LAB_MD_COLS;
	if (t->rowcols[row] > t->ncols)
		t->ncols = t->rowcols[row];
	t->nrows++;
}

/* Reads the first block of lines that start with '|'.  0 or -errno. */
static int lab_md_read(const char *path, struct lab_md_table *t)
{
	char line[LAB_MD_LINE], *l;
	FILE *in = fopen(path, "r");
	bool in_table = false;
	int ret = 0;

	if (!in)
		return -errno;
	while (fgets(line, sizeof(line), in)) {
		bool whole = strchr(line, '\n') || feof(in);

		l = lab_md_trim(line);
		if (*l != '|') {
			if (in_table)
				break;
		} else if (!lab_md_is_rule(l)) {
			if (t->nrows < LAB_MD_ROWS)
				lab_md_split(t, l);
			else
				t->cut = true;
		}
		in_table |= *l == '|';
		/* the rest of an over-long line is dropped, not re-read */
		while (!whole && fgets(line, sizeof(line), in))
			whole = strchr(line, '\n');
	}
	if (ferror(in))
		ret = -EIO;
	fclose(in);
	return ret;
}

static void lab_md_render(FILE *f, const struct lab_md_table *t)
{
	unsigned r, c;

	fputs("<table class=\"bench\">\n", f);
	for (r = 0; r < t->nrows; r++) {
		fputs(r ? "<tr>" : "<thead><tr>", f);
		for (c = 0; c < t->ncols; c++) {
			fputs(r ? "<td>" : "<th>", f);
			if (c < t->rowcols[r])
				lab_xml_str(f, t->cell[r][c]);
			fputs(r ? "</td>" : "</th>", f);
		}
		fputs(r ? "</tr>\n" : "</tr></thead>\n<tbody>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	if (t->cut)
		fprintf(f,
			"<p class=\"note\">Only the first %d rows and %d "
			"columns are shown.</p>\n",
			LAB_MD_ROWS - 1, LAB_MD_COLS);
}

/* A cell that starts with a number ("12", "85%", "3/4", "1.5 s") gives
 * that number. */
static bool lab_md_number(const char *s, double *v)
{
	char *end;

	while (*s == '*' || *s == '`') /* **bold** or `code` */
		s++;
	if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.'))
		return false;
	*v = strtod(s, &end);
	return end != s && isfinite(*v);
}

/* One bar per row: its first cell after the label that holds a number.
 * The axis is named after that column when all rows agree on it. */
static void lab_md_chart(FILE *f, const struct lab_md_table *t)
{
	const char *labels[LAB_MD_ROWS];
	double values[LAB_MD_ROWS];
	struct lab_bars b = { .name = "detection",
			      .labels = labels,
			      .values = values,
			      .title = "Detection benchmark" };
	int col = -1;
	unsigned r, c;

	for (r = 1; r < t->nrows; r++) {
		for (c = 1; c < t->rowcols[r]; c++)
			if (lab_md_number(t->cell[r][c], &values[b.n]))
				break;
		if (c >= t->rowcols[r])
			continue;
		col = col == -1 || col == (int)c ? (int)c : -2;
		labels[b.n++] = t->cell[r][0];
	}
	b.xtitle = col >= 0 && (unsigned)col < t->rowcols[0] &&
				   *t->cell[0][col] ?
			   t->cell[0][col] :
			   "value";
	fputs("<div class=\"charts\">\n", f);
	lab_svg_bar_chart(f, &b);
	fputs("</div>\n", f);
}

/* The table of s->bench, or a line saying why there is none.  Only an
 * allocation failure is an error: a missing file is reported in the page. */
static int lab_html_bench(FILE *f, const char *path)
{
	struct lab_md_table *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	fputs("<section id=\"benchmark\">\n<h2>Detection benchmark</h2>\n"
	      "<p class=\"meta\">From <code>",
	      f);
	lab_xml_str(f, path);
	fputs("</code>.</p>\n", f);
	ret = lab_md_read(path, t);
	if (ret)
		fprintf(f,
			"<p class=\"error\">The table could not be read: "
			"%s.</p>\n",
			strerror(-ret));
	else if (t->nrows < 2)
		fputs("<p class=\"error\">The file holds no Markdown table.</p>\n",
		      f);
	else {
		lab_md_render(f, t);
		lab_md_chart(f, t);
	}
	fputs("</section>\n", f);
	free(t);
	return 0;
}

/* ---- the page ------------------------------------------------------------ */

int lab_render_html(FILE *f, const struct lab_report_set *s)
{
	int ret;

	lab_html_head(f, s);
	lab_html_header(f, s);
	ret = lab_html_overview(f, s);
	lab_html_findings(f, s);
	lab_html_runs(f, s);
	lab_html_latency(f, s);
	lab_html_coverage(f, s);
	lab_html_run_charts(f, s);
	if (!ret && s->bench[0])
		ret = lab_html_bench(f, s->bench);
	fputs("</body>\n</html>\n", f);
	if (ret)
		return ret;
	return ferror(f) ? -EIO : 0;
}
