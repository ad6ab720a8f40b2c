/* svgplot.h: self-contained SVG line charts, panels stacked over a shared x axis. */
#ifndef SIFT_SVGPLOT_H
#define SIFT_SVGPLOT_H

#include <stddef.h>
#include <stdio.h>

#include "calib.h"	/* defines: struct sift_calib */

struct svg_series {
	const char *name;	/* legend text */
	const double *x, *y;	/* n points, x increasing */
	size_t n;
	const char *color;	/* "#1f77b4" */
	int markers;		/* draw a dot at every point (few points) */
};

struct svg_panel {
	const char *ylabel;
	const struct svg_series *s;
	int ns;
	/* an optional highlighted point, with its label ("best 0.91 @ 300") */
	int mark;
	double mark_x, mark_y;
	const char *mark_label;
};

/* writes one SVG document of np panels, 720 px wide; x range shared.
 * 0, or -1 when writing fails. */
int sift_svg_plot(FILE *f, const char *title, const char *xlabel,
		  const struct svg_panel *p, int np);

/* a reliability diagram of c: per bin of the top probability, a bar of
 * the accuracy and the gap to the mean confidence, the diagonal of
 * perfect calibration, the ECE in the title.  0, or -1 when writing
 * fails. */
int sift_svg_reliability(FILE *f, const char *title, const struct sift_calib *c);

/* "nice" tick positions (1, 2 or 5 times a power of ten) covering
 * [lo, hi]: writes at most max ticks to t, returns how many */
int sift_svg_ticks(double lo, double hi, int target, double *t, int max);

#endif
