/* svgplot.c: line charts and reliability diagrams with axes, ticks, grid and legend, written as plain SVG. */
#include <math.h>
#include <string.h>

#include "svgplot.h"

enum { W = 720, PH = 210, ML = 78, MR = 24, MT = 50, GAP = 44, MB = 48 };

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else
			fputc(*s, f);
	}
}

int sift_svg_ticks(double lo, double hi, int target, double *t, int max)
{
	if (!(hi > lo) || !isfinite(lo) || !isfinite(hi)) {
		if (max > 0)
			t[0] = lo;
		return max > 0;
	}
	double raw = (hi - lo) / (target > 1 ? target : 1);
	double p = pow(10, floor(log10(raw)));
	double step = raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
	int n = 0;
	for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9 && n < max; v += step)
		t[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
	return n;
}

/* the range of y over every series, widened a little; never empty */
static void yrange(const struct svg_panel *p, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (int k = 0; k < p->ns; k++)
		for (size_t i = 0; i < p->s[k].n; i++) {
			double y = p->s[k].y[i];
			if (!isfinite(y))
				continue;
			if (y < *lo)
				*lo = y;
			if (y > *hi)
				*hi = y;
		}
	if (!isfinite(*lo)) {
		*lo = 0;
		*hi = 1;
	}
	if (*hi - *lo < 1e-12 * (fabs(*hi) + 1e-30)) {
		double d = *hi != 0 ? fabs(*hi) * 0.1 : 1;
		*lo -= d;
		*hi += d;
	}
	double pad = (*hi - *lo) * 0.05;
	*lo -= pad;
	*hi += pad;
}

static void label(FILE *f, double v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%.6g", v);
	fputs(buf, f);
}

/* one series as a polyline; past 2 points per pixel column, each column
 * keeps its first, lowest, highest and last points */
static void polyline(FILE *f, const struct svg_series *s, double x0, double xs,
		     double y0, double ys, double ylo)
{
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
		"stroke-linejoin=\"round\" points=\"", s->color);
	int decimate = s->n > 2 * (size_t)(W - ML - MR);
	long col = -1;
	size_t first = 0, lo = 0, hi = 0, last = 0;
	for (size_t i = 0; i <= s->n; i++) {
		long c = i < s->n ? lround((s->x[i] - x0) * xs) : -2;
		if (i < s->n && !isfinite(s->y[i]))
			continue;
		if (!decimate) {
			if (i < s->n)
				fprintf(f, "%.1f,%.1f ", ML + (s->x[i] - x0) * xs,
					y0 - (s->y[i] - ylo) * ys);
			continue;
		}
		if (c != col) {
			if (col >= 0) {
				size_t idx[4] = { first, lo < hi ? lo : hi, lo < hi ? hi : lo, last };
				for (int k = 0; k < 4; k++)
					fprintf(f, "%.1f,%.1f ", ML + (s->x[idx[k]] - x0) * xs,
						y0 - (s->y[idx[k]] - ylo) * ys);
			}
			col = c;
			first = lo = hi = last = i;
			continue;
		}
		if (s->y[i] < s->y[lo])
			lo = i;
		if (s->y[i] > s->y[hi])
			hi = i;
		last = i;
	}
	fputs("\"/>\n", f);
	if (s->markers)
		for (size_t i = 0; i < s->n; i++)
			if (isfinite(s->y[i]))
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
					ML + (s->x[i] - x0) * xs, y0 - (s->y[i] - ylo) * ys,
					s->color);
}

int sift_svg_plot(FILE *f, const char *title, const char *xlabel,
		  const struct svg_panel *p, int np)
{
	double xlo = INFINITY, xhi = -INFINITY;
	for (int i = 0; i < np; i++)
		for (int k = 0; k < p[i].ns; k++)
			if (p[i].s[k].n) {
				if (p[i].s[k].x[0] < xlo)
					xlo = p[i].s[k].x[0];
				if (p[i].s[k].x[p[i].s[k].n - 1] > xhi)
					xhi = p[i].s[k].x[p[i].s[k].n - 1];
			}
	if (!isfinite(xlo)) {
		xlo = 0;
		xhi = 1;
	}
	if (xhi <= xlo)
		xhi = xlo + 1;
	int H = MT + np * PH + (np - 1) * GAP + MB;
	double pw = W - ML - MR, xs = pw / (xhi - xlo);
	double xt[32];
	int nxt = sift_svg_ticks(xlo, xhi, 8, xt, 32);

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
		"font-size=\"12\">\n", W, H, W, H);
	fputs("<title>", f);
	esc(f, title);
	fputs("</title>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
	fprintf(f, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" "
		"font-weight=\"bold\">", W / 2);
	esc(f, title);
	fputs("</text>\n", f);

	for (int i = 0; i < np; i++) {
		const struct svg_panel *P = &p[i];
		int top = MT + i * (PH + GAP), bottom = top + PH;
		double ylo, yhi, yt[32];
		yrange(P, &ylo, &yhi);
		double ys = PH / (yhi - ylo);
		int nyt = sift_svg_ticks(ylo, yhi, 5, yt, 32);

		fprintf(f, "<g class=\"panel\">\n<rect x=\"%d\" y=\"%d\" width=\"%.0f\" "
			"height=\"%d\" fill=\"#fafafa\" stroke=\"#999\"/>\n",
			ML, top, pw, PH);
		for (int k = 0; k < nyt; k++) {
			double y = bottom - (yt[k] - ylo) * ys;
			fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
				"stroke=\"#e3e3e3\"/>\n", ML, y, ML + pw, y);
			fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
				"stroke=\"#666\"/>\n", ML - 5, y, ML, y);
			fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
				"dominant-baseline=\"middle\">", ML - 8, y);
			label(f, yt[k]);
			fputs("</text>\n", f);
		}
		for (int k = 0; k < nxt; k++) {
			double x = ML + (xt[k] - xlo) * xs;
			fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
				"stroke=\"#e3e3e3\"/>\n", x, top, x, bottom);
			fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
				"stroke=\"#666\"/>\n", x, bottom, x, bottom + 5);
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x,
				bottom + 18);
			label(f, xt[k]);
			fputs("</text>\n", f);
		}
		fprintf(f, "<text transform=\"translate(16,%d) rotate(-90)\" "
			"text-anchor=\"middle\">", top + PH / 2);
		esc(f, P->ylabel);
		fputs("</text>\n", f);
		for (int k = 0; k < P->ns; k++)
			polyline(f, &P->s[k], xlo, xs, bottom, ys, ylo);
		if (P->mark && isfinite(P->mark_y)) {
			double x = ML + (P->mark_x - xlo) * xs, y = bottom - (P->mark_y - ylo) * ys;
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"none\" "
				"stroke=\"#d62728\" stroke-width=\"2\"/>\n", x, y);
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#d62728\">",
				x + (x > ML + pw / 2 ? -10 : 10), y + 16 < bottom - 4 ? y + 18 : y - 10,
				x > ML + pw / 2 ? "end" : "start");
			esc(f, P->mark_label);
			fputs("</text>\n", f);
		}
		/* legend, right-aligned just above the panel */
		double lx = ML + pw;
		for (int k = P->ns - 1; k >= 0; k--) {
			int ly = top - 9;
			lx -= 7.0 * (double)strlen(P->s[k].name ? P->s[k].name : "") + 34;
			fprintf(f, "<line x1=\"%.0f\" y1=\"%d\" x2=\"%.0f\" y2=\"%d\" stroke=\"%s\" "
				"stroke-width=\"3\"/>\n", lx, ly, lx + 20, ly, P->s[k].color);
			fprintf(f, "<text x=\"%.0f\" y=\"%d\" dominant-baseline=\"middle\">",
				lx + 25, ly);
			esc(f, P->s[k].name);
			fputs("</text>\n", f);
		}
		fputs("</g>\n", f);
	}
	fprintf(f, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">", ML + pw / 2, H - 10);
	esc(f, xlabel);
	fputs("</text>\n</svg>\n", f);
	return ferror(f) ? -1 : 0;
}

int sift_svg_reliability(FILE *f, const char *title, const struct sift_calib *c)
{
	enum { NB = SIFT_CALIB_BINS, S = 420 };	/* the square plot */
	int H = MT + S + MB + 18;
	double x0 = ML, y0 = MT + S;	/* (0, 0) */
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"Helvetica, Arial, sans-serif\" "
		"font-size=\"12\">\n", W, H, W, H);
	fputs("<title>", f);
	esc(f, title);
	fputs("</title>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
	fprintf(f, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" "
		"font-weight=\"bold\">", W / 2);
	esc(f, title);
	fprintf(f, "</text>\n<text x=\"%d\" y=\"38\" text-anchor=\"middle\">"
		"ECE %.4f over %ld examples, %d bins of the top probability</text>\n",
		W / 2, sift_calib_ece(c), c->n, NB);
	fprintf(f, "<g class=\"panel\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" "
		"height=\"%d\" fill=\"#fafafa\" stroke=\"#999\"/>\n", ML, MT, S, S);
	for (int k = 0; k <= 5; k++) {
		double v = k / 5.0, px = x0 + v * S, py = y0 - v * S;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e3e3e3\"/>\n"
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n",
			px, MT, px, MT + S, ML, py, ML + S, py);
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">", px, y0 + 18);
		label(f, v);
		fprintf(f, "</text>\n<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
			"dominant-baseline=\"middle\">", ML - 8, py);
		label(f, v);
		fputs("</text>\n", f);
	}
	double bw = (double)S / NB;
	for (int b = 0; b < NB; b++) {
		if (!c->count[b])
			continue;
		double acc = (double)c->correct[b] / c->count[b];
		double conf = c->conf[b] / c->count[b];
		double bx = x0 + b * bw;
		fprintf(f, "<rect class=\"accuracy\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"#1f77b4\" stroke=\"#fff\"><title>bin %d: "
			"%ld examples, accuracy %.4f, confidence %.4f</title></rect>\n",
			bx, y0 - acc * S, bw, acc * S, b + 1, c->count[b], acc, conf);
		double lo = acc < conf ? acc : conf, hi = acc < conf ? conf : acc;
		fprintf(f, "<rect class=\"gap\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"#d62728\" fill-opacity=\"0.3\" "
			"stroke=\"#d62728\"/>\n", bx, y0 - hi * S, bw, (hi - lo) * S);
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#666\" "
		"stroke-dasharray=\"5,4\"/>\n", x0, y0, x0 + S, y0 - S);
	/* legend, right of the square */
	static const char *const names[3] = { "accuracy", "gap to confidence", "perfect calibration" };
	static const char *const colors[3] = { "#1f77b4", "#d62728", "#666" };
	for (int k = 0; k < 3; k++) {
		int ly = MT + 14 + 22 * k, lx = ML + S + 24;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"3\"%s/>\n", lx, ly, lx + 20, ly, colors[k],
			k == 2 ? " stroke-dasharray=\"5,4\"" : "");
		fprintf(f, "<text x=\"%d\" y=\"%d\" dominant-baseline=\"middle\">%s</text>\n",
			lx + 25, ly, names[k]);
	}
	fprintf(f, "</g>\n<text transform=\"translate(16,%d) rotate(-90)\" "
		"text-anchor=\"middle\">accuracy</text>\n", MT + S / 2);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">confidence (top probability)"
		"</text>\n</svg>\n", ML + S / 2, MT + S + 40);
	return ferror(f) ? -1 : 0;
}
