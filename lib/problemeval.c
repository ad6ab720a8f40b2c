/* problemeval.c: multi-label F1 and subset accuracy, regression MSE and correlations. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problemeval.h"

void sift_pm_init(struct sift_problem_metrics *m, enum sift_problem p,
		  char *const *labels, int n)
{
	memset(m, 0, sizeof *m);
	m->problem = p;
	m->n = n;
	m->labels = sift_xcalloc(n ? n : 1, sizeof *m->labels);
	for (int i = 0; i < n; i++)
		m->labels[i] = sift_xstrdup(labels[i]);
	m->tp = sift_xcalloc(n ? n : 1, sizeof *m->tp);
	m->pred = sift_xcalloc(n ? n : 1, sizeof *m->pred);
	m->gold = sift_xcalloc(n ? n : 1, sizeof *m->gold);
	m->mark = sift_xcalloc(n ? n : 1, 1);
}

void sift_pm_free(struct sift_problem_metrics *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->tp);
	free(m->pred);
	free(m->gold);
	free(m->mark);
	free(m->x);
	free(m->y);
	memset(m, 0, sizeof *m);
}

/* the label ids of rec's array key into bit 'bit' of m->mark; -1 with a
 * diagnostic for a missing key or an unknown label */
static int mark(struct sift_problem_metrics *m, const struct sift_reader *r,
		const msgpack_object *rec, const char *key, int bit)
{
	const msgpack_object *a = sift_get(rec, key);
	if (!a) {
		sift_rerror(r, "no %s label set: only predictions with gold labels can be scored",
			    !strcmp(key, "gold") ? "gold" : "predicted");
		return -1;
	}
	if (a->type != MSGPACK_OBJECT_ARRAY) {
		sift_rerror(r, "key '%s' is not an array of labels (not a multi-label prediction)", key);
		return -1;
	}
	for (uint32_t i = 0; i < a->via.array.size; i++) {
		const msgpack_object *s = &a->via.array.ptr[i];
		int k = -1;
		if (s->type == MSGPACK_OBJECT_STR)
			for (k = 0; k < m->n; k++)
				if (strlen(m->labels[k]) == s->via.str.size &&
				    !memcmp(m->labels[k], s->via.str.ptr, s->via.str.size))
					break;
		if (k < 0 || k == m->n) {
			sift_rerror(r, "%s: '%.*s' is not one of the header's labels", key,
				    s->type == MSGPACK_OBJECT_STR ? (int)s->via.str.size : 1,
				    s->type == MSGPACK_OBJECT_STR ? s->via.str.ptr : "?");
			return -1;
		}
		m->mark[k] |= (unsigned char)bit;
	}
	return 0;
}

static int num(const struct sift_reader *r, const msgpack_object *rec,
	       const char *key, double *v)
{
	int k = sift_opt_num(r, rec, key, v);
	if (k == 0)
		sift_rerror(r, "no %s value: only predictions with gold values can be scored", key);
	else if (k > 0 && !isfinite(*v)) {
		sift_rerror(r, "%s is not a finite number", key);
		k = -1;
	}
	return k > 0 ? 0 : -1;
}

int sift_pm_add(struct sift_problem_metrics *m, const struct sift_reader *r,
		const msgpack_object *rec)
{
	if (m->problem == SIFT_PROBLEM_REGRESSION) {
		double x, y;
		if (num(r, rec, "pred", &x) < 0 || num(r, rec, "gold", &y) < 0)
			return -1;
		if ((size_t)m->total == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 1024;
			m->x = sift_xrealloc(m->x, m->cap * sizeof *m->x);
			m->y = sift_xrealloc(m->y, m->cap * sizeof *m->y);
		}
		m->x[m->total] = x;
		m->y[m->total++] = y;
		return 0;
	}
	memset(m->mark, 0, m->n);
	if (mark(m, r, rec, "gold", 1) < 0 || mark(m, r, rec, "pred", 2) < 0)
		return -1;
	int same = 1;
	for (int k = 0; k < m->n; k++) {
		int g = m->mark[k] & 1, p = m->mark[k] >> 1 & 1;
		m->gold[k] += g;
		m->pred[k] += p;
		m->tp[k] += g && p;
		m->wrong_cells += g != p;
		same &= g == p;
	}
	m->exact += same;
	m->total++;
	return 0;
}

static double ratio(long a, long b)
{
	return b ? (double)a / (double)b : 0.0;
}

static struct sift_pm_prf prf(long tp, long pred, long gold)
{
	struct sift_pm_prf p = { ratio(tp, pred), ratio(tp, gold), ratio(2 * tp, gold + pred),
				 gold, pred };
	return p;
}

struct sift_pm_prf sift_pm_class(const struct sift_problem_metrics *m, int k)
{
	return prf(m->tp[k], m->pred[k], m->gold[k]);
}

struct sift_pm_prf sift_pm_micro(const struct sift_problem_metrics *m)
{
	long tp = 0, pred = 0, gold = 0;
	for (int k = 0; k < m->n; k++) {
		tp += m->tp[k];
		pred += m->pred[k];
		gold += m->gold[k];
	}
	return prf(tp, pred, gold);
}

struct sift_pm_prf sift_pm_macro(const struct sift_problem_metrics *m)
{
	struct sift_pm_prf s = { 0 };
	for (int k = 0; k < m->n; k++) {
		struct sift_pm_prf c = sift_pm_class(m, k);
		s.precision += c.precision;
		s.recall += c.recall;
		s.f1 += c.f1;
		s.support += c.support;
		s.predicted += c.predicted;
	}
	if (m->n) {
		s.precision /= m->n;
		s.recall /= m->n;
		s.f1 /= m->n;
	}
	return s;
}

double sift_pm_subset_accuracy(const struct sift_problem_metrics *m)
{
	return ratio(m->exact, m->total);
}

double sift_pm_hamming(const struct sift_problem_metrics *m)
{
	return ratio(m->wrong_cells, m->total * m->n);
}

double sift_pm_mse(const struct sift_problem_metrics *m)
{
	double s = 0.0;
	for (long i = 0; i < m->total; i++)
		s += (m->x[i] - m->y[i]) * (m->x[i] - m->y[i]);
	return m->total ? s / m->total : 0.0;
}

double sift_pm_mae(const struct sift_problem_metrics *m)
{
	double s = 0.0;
	for (long i = 0; i < m->total; i++)
		s += fabs(m->x[i] - m->y[i]);
	return m->total ? s / m->total : 0.0;
}

static double pearson(const double *x, const double *y, long n)
{
	double mx = 0.0, my = 0.0;
	for (long i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= n;
	my /= n;
	double sxy = 0.0, sxx = 0.0, syy = 0.0;
	for (long i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (n < 2 || sxx == 0.0 || syy == 0.0)
		return NAN;
	double r = sxy / sqrt(sxx * syy);
	return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

double sift_pm_pearson(const struct sift_problem_metrics *m)
{
	return pearson(m->x, m->y, m->total);
}

static const double *rank_of;

static int by_value(const void *a, const void *b)
{
	double x = rank_of[*(const long *)a], y = rank_of[*(const long *)b];
	return (x > y) - (x < y);
}

/* 1-based ranks of v, ties given the mean of their ranks */
static double *ranks(const double *v, long n)
{
	long *o = sift_xmalloc((n ? n : 1) * sizeof *o);
	double *rk = sift_xmalloc((n ? n : 1) * sizeof *rk);
	for (long i = 0; i < n; i++)
		o[i] = i;
	rank_of = v;
	qsort(o, n, sizeof *o, by_value);
	for (long i = 0; i < n;) {
		long j = i;
		while (j + 1 < n && v[o[j + 1]] == v[o[i]])
			j++;
		for (long k = i; k <= j; k++)
			rk[o[k]] = (i + j) / 2.0 + 1.0;
		i = j + 1;
	}
	free(o);
	return rk;
}

double sift_pm_spearman(const struct sift_problem_metrics *m)
{
	double *rx = ranks(m->x, m->total), *ry = ranks(m->y, m->total);
	double r = pearson(rx, ry, m->total);
	free(rx);
	free(ry);
	return r;
}

static void pack_prf(msgpack_packer *pk, const char *key, struct sift_pm_prf p, int predicted)
{
	sift_pack_str(pk, key);
	msgpack_pack_map(pk, 4 + predicted);
	sift_pack_kd(pk, "precision", p.precision);
	sift_pack_kd(pk, "recall", p.recall);
	sift_pack_kd(pk, "f1", p.f1);
	sift_pack_ki(pk, "support", p.support);
	if (predicted)
		sift_pack_ki(pk, "predicted", p.predicted);
}

void sift_pack_pm(msgpack_packer *pk, const struct sift_problem_metrics *m,
		  const char *task)
{
	int reg = m->problem == SIFT_PROBLEM_REGRESSION;
	msgpack_pack_map(pk, reg ? 7 : 9);
	sift_pack_str(pk, "task");
	sift_pack_str(pk, task);
	sift_pack_str(pk, "problem_type");
	sift_pack_str(pk, sift_problem_name(m->problem));
	sift_pack_ki(pk, "examples", m->total);
	if (reg) {
		sift_pack_kd(pk, "mse", sift_pm_mse(m));
		sift_pack_kd(pk, "mae", sift_pm_mae(m));
		sift_pack_kd(pk, "pearson", sift_pm_pearson(m));
		sift_pack_kd(pk, "spearman", sift_pm_spearman(m));
		return;
	}
	sift_pack_str(pk, "labels");
	msgpack_pack_array(pk, m->n);
	for (int k = 0; k < m->n; k++)
		sift_pack_str(pk, m->labels[k]);
	sift_pack_kd(pk, "subset_accuracy", sift_pm_subset_accuracy(m));
	sift_pack_kd(pk, "hamming_loss", sift_pm_hamming(m));
	pack_prf(pk, "micro", sift_pm_micro(m), 0);
	pack_prf(pk, "macro", sift_pm_macro(m), 0);
	sift_pack_str(pk, "classes");
	msgpack_pack_map(pk, m->n);
	for (int k = 0; k < m->n; k++)
		pack_prf(pk, m->labels[k], sift_pm_class(m, k), 1);
}
