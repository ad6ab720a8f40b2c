/* clsmetrics.c: accuracy, per-class and averaged precision/recall/F1 from a confusion matrix. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog.h"	/* defines: sift_oom */
#include "clsmetrics.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		sift_oom(0);
	}
	return p;
}

void sift_cls_init(struct sift_cls_metrics *m, char *const *labels, int n)
{
	memset(m, 0, sizeof *m);
	for (int i = 0; i < n; i++)
		sift_cls_label(m, labels[i], 1);
}

void sift_cls_free(struct sift_cls_metrics *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->conf);
	memset(m, 0, sizeof *m);
}

int sift_cls_label(struct sift_cls_metrics *m, const char *s, int add)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->labels[i], s))
			return i;
	if (!add)
		return -1;
	int n = m->n + 1;
	if (n > m->cap) {
		/* grows by half: moving the rows costs O(n^2) over all the
		 * labels, not O(n^3) */
		if (m->cap > (INT_MAX - 8) / 3 * 2) {
			sift_oom(0);
		}
		int cap = m->cap < 8 ? 8 : m->cap + m->cap / 2;
		long *conf = calloc((size_t)cap * cap, sizeof *conf);
		if (!conf) {
			sift_oom(0);
		}
		for (int g = 0; g < m->n; g++)
			memcpy(conf + (size_t)g * cap, m->conf + (size_t)g * m->cap,
			       m->n * sizeof *conf);
		free(m->conf);
		m->conf = conf;
		m->labels = xrealloc(m->labels, cap * sizeof *m->labels);
		m->cap = cap;
	}
	size_t len = strlen(s);
	m->labels[m->n] = xrealloc(NULL, len + 1);
	memcpy(m->labels[m->n], s, len + 1);
	m->n = n;
	return n - 1;
}

int sift_cls_add_count(struct sift_cls_metrics *m, int gold, int pred,
		       long count)
{
	if (gold < 0 || gold >= m->n || pred < 0 || pred >= m->n)
		return -1;
	m->conf[(size_t)gold * m->cap + pred] += count;
	m->total += count;
	return 0;
}

int sift_cls_add(struct sift_cls_metrics *m, int gold, int pred)
{
	return sift_cls_add_count(m, gold, pred, 1);
}

void sift_cls_add_str(struct sift_cls_metrics *m, const char *gold,
		      const char *pred)
{
	int g = sift_cls_label(m, gold, 1);
	int p = sift_cls_label(m, pred, 1);
	sift_cls_add(m, g, p);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0.0;
}

double sift_cls_accuracy(const struct sift_cls_metrics *m)
{
	long ok = 0;
	for (int k = 0; k < m->n; k++)
		ok += sift_cls_count(m, k, k);
	return ratio(ok, m->total);
}

/* tp, support (row sum) and predicted (column sum) of class k */
static void sums(const struct sift_cls_metrics *m, int k, long *tp,
		 long *support, long *predicted)
{
	*tp = sift_cls_count(m, k, k);
	*support = *predicted = 0;
	for (int j = 0; j < m->n; j++) {
		*support += sift_cls_count(m, k, j);
		*predicted += sift_cls_count(m, j, k);
	}
}

struct sift_prf sift_cls_class(const struct sift_cls_metrics *m, int k)
{
	long tp, sup, pred;
	sums(m, k, &tp, &sup, &pred);
	struct sift_prf r;
	r.precision = ratio(tp, pred);
	r.recall = ratio(tp, sup);
	r.f1 = ratio(2.0 * tp, (double)sup + (double)pred);
	r.support = sup;
	return r;
}

/* numpy sums the few values in order (pairwise only past 8 elements) */
struct sift_prf sift_cls_average(const struct sift_cls_metrics *m,
				 enum sift_cls_avg avg)
{
	struct sift_prf r = { 0, 0, 0, m->total };
	if (avg == SIFT_AVG_MICRO) {
		long tp = 0, sup = 0, pred = 0;
		for (int k = 0; k < m->n; k++) {
			long a, b, c;
			sums(m, k, &a, &b, &c);
			tp += a;
			sup += b;
			pred += c;
		}
		r.precision = ratio(tp, pred);
		r.recall = ratio(tp, sup);
		r.f1 = ratio(2.0 * tp, (double)sup + (double)pred);
		return r;
	}
	double sp = 0, sr = 0, sf = 0, w = 0;
	for (int k = 0; k < m->n; k++) {
		struct sift_prf c = sift_cls_class(m, k);
		double wk = avg == SIFT_AVG_WEIGHTED ? (double)c.support : 1.0;
		sp += c.precision * wk;
		sr += c.recall * wk;
		sf += c.f1 * wk;
		w += wk;
	}
	r.precision = ratio(sp, w);
	r.recall = ratio(sr, w);
	r.f1 = ratio(sf, w);
	return r;
}

double sift_cls_macro_f1(const struct sift_cls_metrics *m)
{
	return sift_cls_average(m, SIFT_AVG_MACRO).f1;
}
