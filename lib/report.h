/* report.h: what sift-report makes of each kind of stream: tables, summaries, plots, monitoring. */
#ifndef SIFT_REPORT_H
#define SIFT_REPORT_H

#include <stdio.h>

#include "clsmetrics.h"
#include "conlleval.h"
#include "stream.h"

enum report_format { REPORT_TEXT, REPORT_MARKDOWN, REPORT_JSON, REPORT_CSV };

/* a threshold on the share of one predicted label in a group */
struct report_alert {
	char label[64];
	char op[3];		/* ">" ">=" "<" "<=" */
	double value;		/* a fraction */
	const char *text;	/* as given */
};

struct report_opts {
	enum report_format format;
	int digits;		/* classification tables (default 2, as sklearn) */
	const char *plot;	/* log: SVG file to write, or NULL */
	const char *metric;	/* log: dev key to rank by, or NULL (auto) */
	int conll;		/* predictions: word gold pred columns */
	long window;		/* predictions: seconds per window, 0 = none */
	int by_topic;		/* predictions: group by topic */
	long min_count;		/* alerts only for groups of at least this many */
	struct report_alert *alerts;
	int nalerts;
	int top;		/* alerts: the most confident texts shown (3) */
	const char *state;	/* alerts: the file of ongoing ones, or NULL */
	int every_run;		/* alerts: ongoing ones too, with a state */
	int alerts_only;	/* monitoring: the alerts, not the table */
	int live;		/* predictions: flush after each record */
};

/* "negative>0.4", "negative>=40%": 0, or -1 when malformed */
int report_parse_alert(const char *s, struct report_alert *a);
/* "90s" "15m" "1h" "1d" "1w" or plain seconds: seconds, or -1 */
long report_parse_window(const char *s);
/* ISO 8601 ("2026-11-29T08:00:00Z", offsets, a space for T, a date
 * alone) or epoch seconds: 0 and *t, or -1 and *why, the end of a
 * sentence "time 'S' ..." (not a time, no such day, a bad offset, out
 * of range) */
int report_parse_time(const char *s, size_t n, double *t, const char **why);
/* NULL when t (epoch seconds) is in the years 0000 to 9999, else why not */
const char *report_check_time(double t);

/* each returns 0, -1 after a diagnostic, or SIFT_EXIT_ALERT */
int report_metrics(struct sift_reader *r, const struct sift_header *h,
		   const struct report_opts *o, FILE *out);
int report_log(struct sift_reader *r, const struct sift_header *h,
	       const struct report_opts *o, FILE *out);
int report_predictions(struct sift_reader *r, const struct sift_header *h,
		       const struct report_opts *o, FILE *out);
/* a multi-label or regression metrics record (reportproblem.c), text,
 * markdown (as text) or CSV; 0, or -1 after a diagnostic */
int report_problem(FILE *f, const struct sift_reader *r, const msgpack_object *rec,
		   const struct report_opts *o);

/* the shortest %.*g that reads back as v (15 to 17 digits) */
void report_num(FILE *f, double v);

#endif
