/*
 * html.c - the call report as one self-contained HTML page.
 *
 * Input: the demo report {"alice": SIDE, "bob": SIDE} (any object-valued
 * members are sides, in document order, at most HTML_MAX_SIDES), where a
 * SIDE is what `hotline join --report` writes: name, peer, call_id, path,
 * srtp, srtp_failures, clean_exit, the fields of hl_report_side_json and
 * "timeseries" (hl_timeseries_json).
 *
 * Output: a page with no script and no external file: inline CSS, a title
 * with the call id and both SASes (and whether they match), a summary
 * table with one column per side, and inline SVG plots over time of
 * bitrate, RTT, loss, video and audio latency, frames per second and
 * frames rendered, all sides overlaid in one plot each with a legend.
 *
 * The JSON is untrusted (names are user input; a report file may be
 * edited): every string from it is HTML-escaped, a missing or wrong-typed
 * field shows as "—" or leaves a point (or a whole plot) out, and sizes
 * are bounded: input HTML_MAX_INPUT bytes, HTML_MAX_SAMPLES samples per
 * side, output HTML_MAX_OUTPUT bytes (HL_ETOOBIG beyond).  A plot draws
 * at most about four points per pixel column (first, min, max, last), so
 * a day-long call gives a page of the same size as a minute-long one.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "hotline/report.h"

#define HTML_MAX_INPUT	 (64u << 20)
#define HTML_MAX_OUTPUT	 (64u << 20)
#define HTML_MAX_SIDES	 8
#define HTML_MAX_SAMPLES 100000 /* as hl_timeseries_add */
#define HTML_MAX_NAME	 40	/* characters of a name in a legend */
#define VALUE_LIMIT	 1e12	/* larger magnitudes are not plotted */

#define DASH		 "\xe2\x80\x94" /* — */

/* ---- output buffer --------------------------------------------------- */

struct out {
	char *buf;
	size_t len, cap;
	int err; /* sticky */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (n > HTML_MAX_OUTPUT - o->len) {
		o->err = HL_ETOOBIG;
		return;
	}
	o->err = hl_text_append(&o->buf, &o->len, &o->cap, s, n);
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) HL_PRINTF(2, 3);

static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		if (!o->err)
			o->err = HL_EINVAL;
		return;
	}
	put(o, tmp, (size_t)n);
}

/*
 * HTML-escape s (at most max_chars characters, 0 = all, "…" when cut).
 * jansson has checked the UTF-8; control characters become spaces.
 */
static void esc_n(struct out *o, const char *s, size_t max_chars)
{
	size_t chars = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch & 0xc0) != 0x80 && max_chars && chars++ == max_chars) {
			puts_(o, "\xe2\x80\xa6");
			return;
		}
		switch (ch) {
		case '&':
			puts_(o, "&amp;");
			break;
		case '<':
			puts_(o, "&lt;");
			break;
		case '>':
			puts_(o, "&gt;");
			break;
		case '"':
			puts_(o, "&quot;");
			break;
		case '\'':
			puts_(o, "&#39;");
			break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				put(o, " ", 1);
			else
				put(o, s, 1);
		}
	}
}

static void esc(struct out *o, const char *s)
{
	esc_n(o, s, 0);
}

/* ---- reading the JSON ------------------------------------------------ */

/* o.k1.k2.k3 (NULL keys end the path); NULL if any step is missing. */
static json_t *at(json_t *o, const char *const k[4])
{
	for (int i = 0; i < 4 && k[i] && o; i++)
		o = json_object_get(o, k[i]); /* NULL for a non-object */
	return o;
}

/* A plottable number: finite and of sane magnitude. */
static bool num(const json_t *v, double *out)
{
	double d;

	if (!json_is_number(v))
		return false;
	d = json_number_value(v);
	if (!isfinite(d) || fabs(d) > VALUE_LIMIT)
		return false;
	*out = d;
	return true;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

struct side {
	const char *key; /* "alice" */
	const char *name;
	json_t *v;
	json_t *ts; /* the "timeseries" array or NULL */
};

static const char *const palette[HTML_MAX_SIDES] = {
	"#1f6fd1", "#e0661b", "#2a9d4b", "#8e44ad",
	"#c0392b", "#16a085", "#7f8c8d", "#b8860b",
};

/* ---- the summary table ----------------------------------------------- */

enum cell_kind {
	C_SECTION, /* a heading row */
	C_STR,
	C_BOOL,
	C_NUM,
	C_PCT,	/* a fraction shown in % */
	C_PAIR, /* "a / b", both numbers */
};

enum {
	BAD_NONZERO = 1, /* a value other than 0 is shown as a problem */
	BAD_FALSE = 2,
};

struct row {
	const char *label;
	enum cell_kind kind;
	int decimals;
	int flags;
	const char *a[4], *b[4];
};

#define R(...)              \
	{                   \
		__VA_ARGS__ \
	}
static const struct row rows[] = {
	{"who", C_SECTION, 0, 0, R(NULL), R(NULL)},
	{"name", C_STR, 0, 0, R("name"), R(NULL)},
	{"peer", C_STR, 0, 0, R("peer"), R(NULL)},
	{"call length (s)", C_NUM, 1, 0, R("seconds"), R(NULL)},
	{"ended cleanly", C_BOOL, 0, BAD_FALSE, R("clean_exit"), R(NULL)},
	{"security and path", C_SECTION, 0, 0, R(NULL), R(NULL)},
	{"network path", C_STR, 0, 0, R("path"), R(NULL)},
	{"SRTP profile", C_STR, 0, 0, R("srtp"), R(NULL)},
	{"SRTP failures", C_NUM, 0, BAD_NONZERO, R("srtp_failures"), R(NULL)},
	{"end-to-end suite", C_STR, 0, 0, R("e2ee", "suite"), R(NULL)},
	{"end-to-end auth failures", C_NUM, 0, BAD_NONZERO,
	 R("e2ee", "auth_failures"), R(NULL)},
	{"replays refused", C_NUM, 0, BAD_NONZERO, R("e2ee", "replays"),
	 R(NULL)},
	{"video", C_SECTION, 0, 0, R(NULL), R(NULL)},
	{"frames rendered / sent", C_PAIR, 0, 0, R("video", "frames_rendered"),
	 R("video", "frames_sent")},
	{"PSNR (dB)", C_NUM, 2, 0, R("video", "psnr_db"), R(NULL)},
	{"latency p50 / p95 (ms)", C_PAIR, 1, 0,
	 R("video", "latency_ms", "p50"), R("video", "latency_ms", "p95")},
	{"freezes", C_NUM, 0, 0, R("video", "freezes"), R(NULL)},
	{"longest freeze (ms)", C_NUM, 1, 0, R("video", "max_freeze_ms"),
	 R(NULL)},
	{"received / sent (kb/s)", C_PAIR, 1, 0, R("video", "kbps"),
	 R("video", "sent_kbps")},
	{"audio", C_SECTION, 0, 0, R(NULL), R(NULL)},
	{"frames played / sent", C_PAIR, 0, 0, R("audio", "frames_played"),
	 R("audio", "frames_sent")},
	{"latency p50 / p95 (ms)", C_PAIR, 1, 0,
	 R("audio", "latency_ms", "p50"), R("audio", "latency_ms", "p95")},
	{"concealed (ms)", C_NUM, 1, 0, R("audio", "concealed_ms"), R(NULL)},
	{"network", C_SECTION, 0, 0, R(NULL), R(NULL)},
	{"round-trip time (ms)", C_NUM, 1, 0, R("network", "rtt_ms"), R(NULL)},
	{"loss from the peer", C_PCT, 2, 0, R("network", "loss"), R(NULL)},
	{"sent (kb/s)", C_NUM, 1, 0, R("network", "kbps_sent"), R(NULL)},
	{"NACKs / retransmissions", C_PAIR, 0, 0, R("network", "nacks"),
	 R("network", "retransmissions")},
};
#undef R

static void put_num(struct out *o, json_t *v, int decimals, double scale)
{
	double d;

	if (json_is_integer(v) && scale == 1) {
		putf(o, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (num(v, &d)) {
		d *= scale;
		if (d == 0)
			d = 0; /* no "-0" */
		putf(o, "%.*f", decimals, d);
	} else {
		puts_(o, DASH);
	}
}

static void cell(struct out *o, const struct row *r, json_t *side)
{
	json_t *a = at(side, r->a);
	bool bad = false;
	double d;

	if (r->flags & BAD_NONZERO)
		bad = num(a, &d) && d != 0;
	if (r->flags & BAD_FALSE)
		bad = json_is_false(a);
	puts_(o, bad ? "<td class=\"bad\">" : "<td>");
	switch (r->kind) {
	case C_STR:
		if (json_is_string(a))
			esc(o, json_string_value(a));
		else
			puts_(o, DASH);
		break;
	case C_BOOL:
		puts_(o, json_is_true(a)    ? "yes"
			 : json_is_false(a) ? "no"
					    : DASH);
		break;
	case C_NUM:
		put_num(o, a, r->decimals, 1);
		break;
	case C_PCT:
		put_num(o, a, r->decimals, 100);
		if (json_is_number(a))
			puts_(o, " %");
		break;
	case C_PAIR:
		put_num(o, a, r->decimals, 1);
		puts_(o, " / ");
		put_num(o, at(side, r->b), r->decimals, 1);
		break;
	case C_SECTION:
		break;
	}
	puts_(o, "</td>");
}

static void summary(struct out *o, const struct side *s, size_t n)
{
	puts_(o, "<h2>Summary</h2>\n<table>\n<thead><tr><th></th>");
	for (size_t i = 0; i < n; i++) {
		putf(o,
		     "<th><span class=\"dot\" style=\"background:%s\">"
		     "</span>",
		     palette[i]);
		esc_n(o, s[i].key, HTML_MAX_NAME);
		puts_(o, "</th>");
	}
	puts_(o, "</tr></thead>\n<tbody>\n");
	for (size_t r = 0; r < HL_ARRAY_SIZE(rows); r++) {
		if (rows[r].kind == C_SECTION) {
			putf(o,
			     "<tr class=\"sec\"><th colspan=\"%zu\">%s</th>"
			     "</tr>\n",
			     n + 1, rows[r].label);
			continue;
		}
		putf(o, "<tr><th>%s</th>", rows[r].label);
		for (size_t i = 0; i < n; i++)
			cell(o, &rows[r], s[i].v);
		puts_(o, "</tr>\n");
	}
	puts_(o, "</tbody>\n</table>\n");
}

/* ---- plots ----------------------------------------------------------- */

#define SVG_W  920
#define SVG_H  270
#define PLOT_L 70
#define PLOT_R 20
#define PLOT_T 36
#define PLOT_B 46
#define PLOT_W (SVG_W - PLOT_L - PLOT_R)
#define PLOT_H (SVG_H - PLOT_T - PLOT_B)

struct plot {
	const char *title;
	const char *unit; /* y axis label */
	int nm;
	const char *key[2];
	const char *what[2]; /* legend suffix, NULL for one metric */
	double scale;
};

static const struct plot plots[] = {
	{"Bitrate",
	 "kb/s",
	 2,
	 {"kbps_sent", "kbps_received"},
	 {"sent", "received"},
	 1},
	{"Round-trip time", "ms", 1, {"rtt_ms"}, {NULL}, 1},
	{"Packet loss (packets from the peer)", "%", 1, {"loss"}, {NULL}, 100},
	{"Video latency (capture to display)",
	 "ms",
	 1,
	 {"video_latency_ms"},
	 {NULL},
	 1},
	{"Audio latency (capture to playout)",
	 "ms",
	 1,
	 {"audio_latency_ms"},
	 {NULL},
	 1},
	{"Pictures shown per second", "fps", 1, {"fps"}, {NULL}, 1},
	{"Pictures rendered (total)",
	 "frames",
	 1,
	 {"frames_rendered"},
	 {NULL},
	 1},
};

/* Sample i of a side: its time, and the metric (false if missing). */
static bool sample_t(const struct side *s, size_t i, double *t)
{
	return num(json_object_get(json_array_get(s->ts, i), "t_s"), t);
}

static bool sample_v(const struct side *s, size_t i, const char *key,
		     double scale, double *v)
{
	if (!num(json_object_get(json_array_get(s->ts, i), key), v))
		return false;
	*v *= scale;
	return true;
}

struct range {
	double lo, hi, step;
};

/* A round step giving about `target` intervals over [lo, hi]. */
static void nice_range(struct range *r, double lo, double hi, int target)
{
	double raw, p, f, minr;

	/* At least a millionth of the magnitude, so steps stay exact. */
	minr = HL_MAX(HL_MAX(fabs(lo), fabs(hi)) * 1e-6, 1e-6);
	if (!(hi - lo >= minr))
		hi = lo + (lo == 0 && hi <= 0 ? 1 : minr);
	raw = (hi - lo) / target;
	p = pow(10, floor(log10(raw)));
	f = raw / p;
	r->step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
	r->lo = floor(lo / r->step) * r->step;
	r->hi = ceil(hi / r->step) * r->step;
	if (!(r->hi > r->lo))
		r->hi = r->lo + r->step;
}

static double px_x(const struct range *x, double t)
{
	return PLOT_L + (t - x->lo) / (x->hi - x->lo) * PLOT_W;
}

static double px_y(const struct range *y, double v)
{
	return PLOT_T + PLOT_H - (v - y->lo) / (y->hi - y->lo) * PLOT_H;
}

static void tick_label(struct out *o, double v, double step)
{
	int dec = step >= 1 ? 0 : (int)HL_MIN(6.0, ceil(-log10(step) - 1e-9));

	if (fabs(v) < step * 1e-6)
		v = 0;
	putf(o, "%.*f", dec, v);
}

static void axes(struct out *o, const struct plot *p, const struct range *x,
		 const struct range *y)
{
	/* Horizontal grid and y labels. */
	for (int k = 0; k <= 40; k++) {
		double v = y->lo + k * y->step, py;

		if (v > y->hi + y->step * 1e-6)
			break;
		py = px_y(y, v);
		putf(o,
		     "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
		     "y2=\"%.1f\"/>",
		     PLOT_L, py, PLOT_L + PLOT_W, py);
		putf(o, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
		     PLOT_L - 6, py + 4);
		tick_label(o, v, y->step);
		puts_(o, "</text>\n");
	}
	/* Vertical grid and time labels. */
	for (int k = 0; k <= 40; k++) {
		double t = x->lo + k * x->step, pxx;

		if (t > x->hi + x->step * 1e-6)
			break;
		pxx = px_x(x, t);
		putf(o,
		     "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
		     "y2=\"%d\"/>",
		     pxx, PLOT_T, pxx, PLOT_T + PLOT_H);
		putf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
		     pxx, PLOT_T + PLOT_H + 16);
		tick_label(o, t, x->step);
		puts_(o, "</text>\n");
	}
	putf(o,
	     "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
	     "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	     PLOT_L, PLOT_T, PLOT_L, PLOT_T + PLOT_H, PLOT_L, PLOT_T + PLOT_H,
	     PLOT_L + PLOT_W, PLOT_T + PLOT_H);
	putf(o,
	     "<text class=\"label\" x=\"%d\" y=\"%d\" "
	     "text-anchor=\"middle\">time (s)</text>\n",
	     PLOT_L + PLOT_W / 2, SVG_H - 8);
	putf(o,
	     "<text class=\"label\" transform=\"translate(16 %d) "
	     "rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
	     PLOT_T + PLOT_H / 2, p->unit);
	putf(o, "<text class=\"title\" x=\"%d\" y=\"22\">%s</text>\n", PLOT_L,
	     p->title);
}

/*
 * One line: points bucketed by pixel column, each column drawn through
 * its first, lowest, highest and last value; a missing value breaks the
 * line; a lone point gets a dot.
 */
struct line {
	struct out *o;
	const char *color;
	bool dashed;
	int npts;      /* points in the open polyline */
	bool col_open; /* a column is being gathered */
	long col;      /* its pixel column */
	double cx;     /* its x */
	double first, lo, hi, last;
	bool lo_first; /* the lowest came before the highest */
	double px, py; /* last point written */
};

static void line_point(struct line *l, double x, double y)
{
	if (l->npts && x == l->px && y == l->py)
		return;
	if (l->npts == 0)
		putf(l->o, "<polyline class=\"line\" stroke=\"%s\"%s points=\"",
		     l->color, l->dashed ? " stroke-dasharray=\"7 4\"" : "");
	putf(l->o, "%s%.1f,%.1f", l->npts ? " " : "", x, y);
	l->npts++;
	l->px = x;
	l->py = y;
}

static void line_flush_col(struct line *l)
{
	if (!l->col_open)
		return;
	line_point(l, l->cx, l->first);
	line_point(l, l->cx, l->lo_first ? l->lo : l->hi);
	line_point(l, l->cx, l->lo_first ? l->hi : l->lo);
	line_point(l, l->cx, l->last);
	l->col_open = false;
}

static void line_break(struct line *l)
{
	line_flush_col(l);
	if (l->npts)
		puts_(l->o, "\"/>\n");
	if (l->npts == 1)
		putf(l->o,
		     "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
		     "fill=\"%s\"/>\n",
		     l->px, l->py, l->color);
	l->npts = 0;
}

static void line_add(struct line *l, double x, double y)
{
	long col = lround(floor(x));

	if (l->col_open && col != l->col)
		line_flush_col(l);
	if (!l->col_open) {
		l->col_open = true;
		l->col = col;
		l->cx = x;
		l->first = l->lo = l->hi = y;
		l->lo_first = true;
	}
	/* SVG y grows downwards: "lo" is the smallest pixel y. */
	if (y < l->lo) {
		l->lo = y;
		l->lo_first = false;
	}
	if (y > l->hi) {
		l->hi = y;
		l->lo_first = true;
	}
	l->last = y;
}

static void legend(struct out *o, const struct plot *p, const struct side *s,
		   size_t n)
{
	puts_(o, "<div class=\"legend\">");
	for (size_t i = 0; i < n; i++) {
		if (!s[i].ts)
			continue;
		for (int m = 0; m < p->nm; m++) {
			putf(o,
			     "<span><svg width=\"30\" height=\"10\">"
			     "<line x1=\"0\" y1=\"5\" x2=\"30\" y2=\"5\" "
			     "stroke=\"%s\" stroke-width=\"2.5\"%s/></svg> ",
			     palette[i], m ? " stroke-dasharray=\"7 4\"" : "");
			esc_n(o, s[i].name, HTML_MAX_NAME);
			if (p->what[m])
				putf(o, " %s", p->what[m]);
			puts_(o, "</span>");
		}
	}
	puts_(o, "</div>\n");
}

static void plot(struct out *o, const struct plot *p, const struct side *s,
		 size_t n)
{
	double tmin = INFINITY, tmax = -INFINITY, vmin = 0, vmax = -INFINITY;
	struct range x, y;

	for (size_t i = 0; i < n; i++) {
		size_t ns = json_array_size(s[i].ts);

		for (size_t k = 0; k < ns; k++) {
			double t, v;

			if (!sample_t(&s[i], k, &t))
				continue;
			for (int m = 0; m < p->nm; m++) {
				if (!sample_v(&s[i], k, p->key[m], p->scale,
					      &v))
					continue;
				tmin = HL_MIN(tmin, t);
				tmax = HL_MAX(tmax, t);
				vmin = HL_MIN(vmin, v);
				vmax = HL_MAX(vmax, v);
			}
		}
	}
	if (!(tmax >= tmin)) {
		putf(o, "<p class=\"nodata\">%s: no data.</p>\n", p->title);
		return;
	}
	nice_range(&x, HL_MIN(tmin, 0), tmax, 10);
	nice_range(&y, vmin, vmax, 5);
	putf(o,
	     "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	     "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
	     "aria-label=\"%s\">\n",
	     SVG_W, SVG_H, SVG_W, SVG_H, p->title);
	axes(o, p, &x, &y);
	for (size_t i = 0; i < n; i++) {
		size_t ns = json_array_size(s[i].ts);

		for (int m = 0; m < p->nm; m++) {
			struct line l = {
				.o = o, .color = palette[i], .dashed = m > 0};

			for (size_t k = 0; k < ns; k++) {
				double t, v;

				if (!sample_t(&s[i], k, &t))
					continue;
				if (!sample_v(&s[i], k, p->key[m], p->scale,
					      &v)) {
					line_break(&l);
					continue;
				}
				line_add(&l, px_x(&x, t), px_y(&y, v));
			}
			line_break(&l);
		}
	}
	puts_(o, "</svg>\n");
	legend(o, p, s, n);
	puts_(o, "</figure>\n");
}

/* ---- the page -------------------------------------------------------- */

static const char css[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"sans-serif;color:#1d1d1f;background:#f6f6f8;margin:0;padding:24px}"
	"main{max-width:940px;margin:0 auto}"
	"h1{font-size:24px;margin:0 0 4px;font-weight:650}"
	"h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;"
	"border-bottom:1px solid #d8d8de}"
	".mono{font-family:ui-monospace,'SF Mono',Menlo,Consolas,monospace}"
	".sub{color:#555;margin:0 0 16px}"
	".sas{display:flex;gap:14px;flex-wrap:wrap;margin:8px 0}"
	".sasbox{background:#fff;border:1px solid #d8d8de;border-radius:8px;"
	"padding:8px 14px}"
	".sasbox .who{font-size:13px;color:#555}"
	".sasbox .code{font-size:20px;font-weight:600;letter-spacing:.03em}"
	".ok{color:#1b7f3b;font-weight:600}"
	".warn{color:#b00020;font-weight:600}"
	"table{border-collapse:collapse;background:#fff;width:100%}"
	"th,td{border:1px solid #e2e2e8;padding:4px 10px;text-align:right;"
	"font-variant-numeric:tabular-nums}"
	"th:first-child{text-align:left;font-weight:normal;color:#333}"
	"thead th{font-weight:600;text-align:right}"
	"tr.sec th{background:#eeeef3;text-align:left;font-weight:600}"
	"td.bad{color:#b00020;font-weight:600}"
	".dot{display:inline-block;width:10px;height:10px;border-radius:50%;"
	"margin-right:6px}"
	"figure{margin:14px 0;background:#fff;border:1px solid #e2e2e8;"
	"border-radius:8px;padding:8px 8px 10px}"
	"figure>svg{max-width:100%;height:auto;display:block}"
	"svg text{font:12px system-ui,sans-serif;fill:#444}"
	"svg .title{font-size:14px;font-weight:600;fill:#1d1d1f}"
	"svg .label{font-size:12px;fill:#666}"
	"svg .grid{stroke:#ececf0;stroke-width:1}"
	"svg .axis{stroke:#888;stroke-width:1}"
	"svg .line{fill:none;stroke-width:1.8;stroke-linejoin:round;"
	"stroke-linecap:round}"
	".legend{font-size:13px;margin:2px 0 0 70px}"
	".legend span{margin-right:18px;white-space:nowrap}"
	".legend svg{vertical-align:middle}"
	".nodata{color:#777;font-style:italic}"
	"footer{color:#888;font-size:12px;margin-top:28px}";

static void header(struct out *o, const struct side *s, size_t n)
{
	const char *id = NULL, *sas0 = NULL;
	bool ids_differ = false, sas_all = n >= 2, sas_same = true;

	for (size_t i = 0; i < n; i++) {
		const char *ci = str(s[i].v, "call_id");
		const char *sa =
			json_string_value(json_object_get(s[i].v, "sas"));

		if (ci && !id)
			id = ci;
		else if (ci && strcmp(ci, id) != 0)
			ids_differ = true;
		if (!sa)
			sas_all = false;
		else if (!sas0)
			sas0 = sa;
		else if (strcmp(sa, sas0) != 0)
			sas_same = false;
	}
	puts_(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		 "<meta charset=\"utf-8\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width\">\n"
		 "<title>hotline call ");
	esc(o, id ? id : DASH);
	puts_(o, "</title>\n<style>");
	puts_(o, css);
	puts_(o, "</style>\n</head>\n<body>\n<main>\n");
	puts_(o, "<h1>hotline call <span class=\"mono\">");
	esc(o, id ? id : DASH);
	puts_(o, "</span></h1>\n<p class=\"sub\">");
	for (size_t i = 0; i < n; i++) {
		if (i)
			puts_(o, " &#8596; ");
		esc_n(o, s[i].name, HTML_MAX_NAME);
	}
	if (ids_differ)
		puts_(o, " &middot; <span class=\"warn\">the sides report "
			 "different call ids</span>");
	puts_(o, "</p>\n<div class=\"sas\">\n");
	for (size_t i = 0; i < n; i++) {
		const char *sa =
			json_string_value(json_object_get(s[i].v, "sas"));

		puts_(o, "<div class=\"sasbox\"><div class=\"who\">");
		esc_n(o, s[i].name, HTML_MAX_NAME);
		puts_(o, " saw the safety code</div><div class=\"code\">");
		esc(o, sa ? sa : DASH);
		puts_(o, "</div></div>\n");
	}
	puts_(o, "</div>\n<p>");
	if (sas_all && sas_same)
		puts_(o, "<span class=\"ok\">&#10003; The safety codes match: "
			 "the key exchange had no one in the middle.</span>");
	else if (sas_all)
		puts_(o, "<span class=\"warn\">&#10007; The safety codes "
			 "differ: this call may have been intercepted.</span>");
	else
		puts_(o, "The safety codes cannot be compared (a side did not "
			 "report one).");
	puts_(o, "</p>\n");
}

static int collect(json_t *root, struct side *s, size_t *n)
{
	const char *key;
	json_t *v;

	*n = 0;
	json_object_foreach(root, key, v)
	{
		json_t *ts;

		if (!json_is_object(v))
			continue;
		if (*n == HTML_MAX_SIDES)
			return HL_ETOOBIG;
		ts = json_object_get(v, "timeseries");
		if (json_array_size(ts) > HTML_MAX_SAMPLES)
			return HL_ETOOBIG;
		s[*n].key = key;
		s[*n].name = str(v, "name") ? str(v, "name") : key;
		s[*n].v = v;
		s[*n].ts = json_is_array(ts) ? ts : NULL;
		(*n)++;
	}
	return *n ? 0 : HL_EPARSE;
}

int hl_report_html(const char *report_json, size_t len, char **out)
{
	struct side sides[HTML_MAX_SIDES];
	struct out o = {0};
	json_error_t jerr;
	json_t *root;
	size_t n;
	int err;

	if (!report_json || !out)
		return HL_EINVAL;
	if (len > HTML_MAX_INPUT)
		return HL_ETOOBIG;
	root = json_loadb(report_json, len, 0, &jerr);
	if (!root)
		return json_error_code(&jerr) == json_error_out_of_memory
			       ? HL_ENOMEM
			       : HL_EPARSE;
	err = json_is_object(root) ? collect(root, sides, &n) : HL_EPARSE;
	if (err)
		goto out;
	header(&o, sides, n);
	summary(&o, sides, n);
	puts_(&o, "<h2>Over time</h2>\n");
	for (size_t i = 0; i < HL_ARRAY_SIZE(plots); i++)
		plot(&o, &plots[i], sides, n);
	puts_(&o, "<footer>Measured by each side from the media it received "
		  "(hotline test pattern and tone). Solid lines: sent or "
		  "measured; dashed: received.</footer>\n</main>\n</body>\n"
		  "</html>\n");
	err = o.err;
out:
	json_decref(root);
	if (err) {
		hl_free(o.buf);
		return err;
	}
	*out = o.buf;
	return 0;
}
