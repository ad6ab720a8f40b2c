/* reportlog.c: a training log as a summary (best step, best dev score, time, speed) and SVG curves. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msgjson.h"	/* defines: sift_json_real */
#include "report.h"
#include "svgplot.h"

struct series {
	double *x, *y;
	size_t n, cap;
};

static void push(struct series *s, double x, double y)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->x = sift_xrealloc(s->x, s->cap * sizeof *s->x);
		s->y = sift_xrealloc(s->y, s->cap * sizeof *s->y);
	}
	s->x[s->n] = x;
	s->y[s->n] = y;
	s->n++;
}

static void series_free(struct series *s)
{
	free(s->x);
	free(s->y);
}

/* a number at a dot path ("overall.f1") in a map; 1 found, 0 not */
static int num_at(const msgpack_object *map, const char *path, double *v)
{
	char key[64];
	const char *dot;
	while ((dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);
		if (n >= sizeof key)
			return 0;
		memcpy(key, path, n);
		key[n] = 0;
		map = sift_get(map, key);
		if (!map || map->type != MSGPACK_OBJECT_MAP)
			return 0;
		path = dot + 1;
	}
	const msgpack_object *o = sift_get(map, path);
	if (!o)
		return 0;
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return 1;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return 1;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = (double)o->via.i64;
		return 1;
	default:
		return 0;
	}
}

/* the dev score to rank by when none is named: the first present */
static const char *const auto_metrics[] = {
	"micro_f1", "pearson",	/* multi-label and regression dev scores */
	"f1", "accuracy", "overall.f1", "macro_f1", "macro.f1",
};

/* a loss or a perplexity is better lower, any other score higher */
static int lower_better(const char *metric)
{
	size_t n = strlen(metric);
	return (n >= 4 && !strcmp(metric + n - 4, "loss")) || !strcmp(metric, "mse") ||
	       !strcmp(metric, "mae") ||
	       (n >= 10 && !strcmp(metric + n - 10, "perplexity"));
}

struct summary {
	long records, steps;
	double first_step, last_step, epochs;
	double loss_first, loss_last, loss_min, loss_min_step;
	long loss_finite;	/* steps whose loss is a finite number */
	double loss_bad_step;	/* the first step with a NaN or infinite loss */
	double lr_peak, lr_last;
	double best, best_step, best_epoch, last_score, last_score_step;
	const char *metric;
	double elapsed;		/* NAN when the log has no time */
	double tps_sum;
	long tps_n;
	long devs;
	double kept_step;	/* the trainer's best_step from its end record */
	char end[32];		/* why the run ended, or "" */
};

static void summary_text(FILE *f, const struct summary *s)
{
	fprintf(f, "steps        %.0f to %.0f (%ld log records), %.0f epoch%s\n",
		s->first_step, s->last_step, s->records, s->epochs,
		s->epochs == 1 ? "" : "s");
	if (s->steps && s->loss_finite)
		fprintf(f, "loss         %.4f at the first step, %.4f at the last, lowest %.4f at step %.0f\n",
			s->loss_first, s->loss_last, s->loss_min, s->loss_min_step);
	else if (s->steps)
		fprintf(f, "loss         %.4f at the first step, %.4f at the last, no finite loss\n",
			s->loss_first, s->loss_last);
	if (s->loss_finite < s->steps)
		fprintf(f, "warning      the loss is NaN or infinite at %ld of %ld steps, the first at step %.0f\n",
			s->steps - s->loss_finite, s->steps, s->loss_bad_step);
	if (s->lr_peak > 0)
		fprintf(f, "lr           peak %.3g, last %.3g\n", s->lr_peak, s->lr_last);
	if (s->devs)
		fprintf(f, "best dev     %s %.4f at step %.0f (epoch %.0f); last %.4f at step %.0f\n",
			s->metric, s->best, s->best_step, s->best_epoch, s->last_score,
			s->last_score_step);
	else
		fprintf(f, "best dev     no dev scores in the log\n");
	if (s->end[0])
		fprintf(f, "end          %s; the trainer kept step %.0f\n", s->end, s->kept_step);
	if (!isnan(s->elapsed))
		fprintf(f, "time         %.1f s\n", s->elapsed);
	if (s->tps_n)
		fprintf(f, "tokens/s     %.1f (mean over %ld steps)\n", s->tps_sum / s->tps_n,
			s->tps_n);
}

static void summary_json(FILE *f, const struct summary *s)
{
	json_t *j = json_object();
	json_object_set_new(j, "records", json_integer(s->records));
	json_object_set_new(j, "first_step", json_integer((json_int_t)s->first_step));
	json_object_set_new(j, "last_step", json_integer((json_int_t)s->last_step));
	json_object_set_new(j, "epochs", json_integer((json_int_t)s->epochs));
	if (s->steps) {
		json_object_set_new(j, "loss_first", sift_json_real(s->loss_first));
		json_object_set_new(j, "loss_last", sift_json_real(s->loss_last));
	}
	if (s->loss_finite) {
		json_object_set_new(j, "loss_min", json_real(s->loss_min));
		json_object_set_new(j, "loss_min_step", json_integer((json_int_t)s->loss_min_step));
	}
	if (s->loss_finite < s->steps) {
		json_object_set_new(j, "loss_nonfinite", json_integer(s->steps - s->loss_finite));
		json_object_set_new(j, "loss_nonfinite_step", json_integer((json_int_t)s->loss_bad_step));
	}
	if (s->devs) {
		json_object_set_new(j, "metric", json_string(s->metric));
		json_object_set_new(j, "best_score", sift_json_real(s->best));
		json_object_set_new(j, "best_step", json_integer((json_int_t)s->best_step));
		json_object_set_new(j, "best_epoch", json_integer((json_int_t)s->best_epoch));
		json_object_set_new(j, "last_score", sift_json_real(s->last_score));
	}
	if (s->end[0]) {
		json_object_set_new(j, "end", json_string(s->end));
		json_object_set_new(j, "kept_step", json_integer((json_int_t)s->kept_step));
	}
	if (!isnan(s->elapsed))
		json_object_set_new(j, "time_s", sift_json_real(s->elapsed));
	if (s->tps_n)
		json_object_set_new(j, "tokens_per_s", sift_json_real(s->tps_sum / s->tps_n));
	json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	fputc('\n', f);
	json_decref(j);
}

static int plot(const char *path, const char *src, const struct summary *s,
		struct series *loss, struct series *devloss, struct series *lr,
		struct series *dev)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		sift_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	/* a noisy loss is drawn pale, with its smoothed curve over it
	 * (TensorBoard's debiased moving average) */
	double *smooth = sift_xmalloc((loss->n + 1) * sizeof *smooth);
	double w = loss->n ? 1.0 - 20.0 / (double)loss->n : 0;
	w = w < 0.6 ? 0.6 : w > 0.995 ? 0.995 : w;
	double acc = 0, debias = 1;
	for (size_t i = 0; i < loss->n; i++) {
		acc = acc * w + (1 - w) * loss->y[i];
		debias *= w;
		smooth[i] = acc / (1 - debias);
	}
	int smoothed = loss->n >= 100;
	struct svg_series sl[3] = {
		{ "train loss", loss->x, loss->y, loss->n, smoothed ? "#aec7e8" : "#1f77b4", 0 },
		{ "smoothed", loss->x, smooth, loss->n, "#1f77b4", 0 },
		{ "dev loss", devloss->x, devloss->y, devloss->n, "#9467bd", 1 },
	};
	if (!smoothed)
		sl[1] = sl[2];
	struct svg_series slr = { "learning rate", lr->x, lr->y, lr->n, "#ff7f0e", 0 };
	char dname[80], mark[96];
	snprintf(dname, sizeof dname, "dev %s", s->metric);
	struct svg_series sd = { dname, dev->x, dev->y, dev->n, "#2ca02c", 1 };
	struct svg_panel p[3];
	int np = 0;
	memset(p, 0, sizeof p);
	p[np++] = (struct svg_panel){ "loss", sl, 1 + smoothed + (devloss->n > 0), 0, 0, 0, NULL };
	if (lr->n)
		p[np++] = (struct svg_panel){ "learning rate", &slr, 1, 0, 0, 0, NULL };
	if (dev->n) {
		snprintf(mark, sizeof mark, "best %.4f at step %.0f", s->best, s->best_step);
		p[np++] = (struct svg_panel){ dname, &sd, 1, 1, s->best_step, s->best, mark };
	}
	char title[256];
	snprintf(title, sizeof title, "training run: %s", src);
	int r = sift_svg_plot(f, title, "step", p, np);
	free(smooth);
	if (fclose(f) != 0 || r < 0) {
		sift_warn("%s: write error", path);
		return -1;
	}
	return 0;
}

int report_log(struct sift_reader *r, const struct sift_header *h,
	       const struct report_opts *o, FILE *out)
{
	const msgpack_object *rec;
	struct series loss = { 0 }, devloss = { 0 }, lr = { 0 }, dev = { 0 };
	struct summary s = { 0 };
	int ret, status = 0;
	double t0 = NAN, t1 = NAN;
	s.elapsed = NAN;
	s.metric = o->metric;
	/* an mlm run ranks its dev rounds by the loss, as sift-train keeps
	 * its model by it; the masked-token accuracy is beside it */
	if (!s.metric && h && !strcmp(h->task, "mlm"))
		s.metric = "loss";
	s.best = s.metric && lower_better(s.metric) ? INFINITY : -INFINITY;
	while ((ret = sift_read(r, &rec)) > 0) {
		double step, v, epoch = 0;
		if (!num_at(rec, "step", &step))
			continue;	/* markers and other records */
		num_at(rec, "epoch", &epoch);
		if (!s.records++)
			s.first_step = step;
		s.last_step = step;
		if (epoch + 1 > s.epochs)
			s.epochs = epoch + 1;
		if (num_at(rec, "loss", &v)) {
			if (!s.steps++)
				s.loss_first = v;
			s.loss_last = v;
			/* a NaN or infinite loss is counted and shown, never
			 * taken for the lowest nor drawn */
			if (!isfinite(v)) {
				if (s.steps - s.loss_finite == 1)
					s.loss_bad_step = step;
			} else {
				if (!s.loss_finite++ || v < s.loss_min) {
					s.loss_min = v;
					s.loss_min_step = step;
				}
				push(&loss, step, v);
			}
		}
		if (num_at(rec, "lr", &v)) {
			if (v > s.lr_peak)
				s.lr_peak = v;
			s.lr_last = v;
			push(&lr, step, v);
		}
		if (num_at(rec, "tokens_per_s", &v)) {
			s.tps_sum += v;
			s.tps_n++;
		}
		if (num_at(rec, "elapsed", &v)) {
			s.elapsed = v;
		} else if (num_at(rec, "time", &v)) {
			if (isnan(t0))
				t0 = v;
			t1 = v;
		}
		const char *why;
		uint32_t wl;
		if (sift_opt_str(r, rec, "end", &why, &wl) > 0) {
			snprintf(s.end, sizeof s.end, "%.*s", (int)wl, why);
			num_at(rec, "best_step", &s.kept_step);
		}
		const msgpack_object *d = sift_get(rec, "dev");
		if (d && d->type == MSGPACK_OBJECT_MAP) {
			if (!s.metric) {
				for (size_t i = 0; i < sizeof auto_metrics / sizeof *auto_metrics; i++)
					if (num_at(d, auto_metrics[i], &v)) {
						s.metric = auto_metrics[i];
						break;
					}
				if (!s.metric) {
					sift_rerror(r, "dev: no score found (tried f1, accuracy, "
						    "overall.f1, macro_f1, macro.f1); name one with --metric");
					status = -1;
					break;
				}
			}
			if (!num_at(d, s.metric, &v)) {
				sift_rerror(r, "dev: no number at '%s'", s.metric);
				status = -1;
				break;
			}
			s.devs++;
			s.last_score = v;
			s.last_score_step = step;
			if (lower_better(s.metric) ? v < s.best : v > s.best) {
				s.best = v;
				s.best_step = step;
				s.best_epoch = epoch;
			}
			push(&dev, step, v);
			if (num_at(d, "loss", &v))
				push(&devloss, step, v);
		}
	}
	if (ret < 0)
		status = -1;
	if (isnan(s.elapsed) && !isnan(t0))
		s.elapsed = t1 - t0;
	if (status == 0 && s.records == 0) {
		sift_rerror(r, "the log has no records with a step");
		status = -1;
	}
	if (status == 0) {
		if (o->format == REPORT_JSON)
			summary_json(out, &s);
		else
			summary_text(out, &s);
		if (o->plot && plot(o->plot, sift_reader_name(r), &s, &loss, &devloss,
				    &lr, &dev) < 0)
			status = -1;
	}
	series_free(&loss);
	series_free(&devloss);
	series_free(&lr);
	series_free(&dev);
	return status;
}
