/* clsmetrics.h: classification scores from a confusion matrix, as scikit-learn computes them. */
#ifndef SIFT_CLSMETRICS_H
#define SIFT_CLSMETRICS_H

/*
 * The matrix counts conf[gold * cap + pred] (sift_cls_count), its rows
 * cap cells apart so that a new label does not move them.  Per class, as
 * sklearn.metrics.precision_recall_fscore_support with labels= every
 * label and zero_division=0: precision = tp/(tp+fp), recall = tp/support,
 * f1 = 2tp/(support + predicted); macro = the plain mean over all labels
 * (zero-support ones included), weighted = the mean weighted by support,
 * micro = the ratios of the summed counts (equal to accuracy when every
 * prediction is one of the labels).
 */
struct sift_cls_metrics {
	int n;			/* labels */
	char **labels;		/* n strings, owned */
	int cap;		/* labels the matrix has room for, >= n */
	long *conf;		/* cap*cap, row = gold, column = predicted */
	long total;
};

/* examples of gold label gold predicted as pred */
static inline long sift_cls_count(const struct sift_cls_metrics *m, int gold,
				  int pred)
{
	return m->conf[(size_t)gold * m->cap + pred];
}

struct sift_prf {
	double precision, recall, f1;
	long support;
};

enum sift_cls_avg { SIFT_AVG_MICRO, SIFT_AVG_MACRO, SIFT_AVG_WEIGHTED };

/* labels may be NULL with n 0; they are copied */
void sift_cls_init(struct sift_cls_metrics *m, char *const *labels, int n);
void sift_cls_free(struct sift_cls_metrics *m);
/* index of a label; when absent, -1, or appended when add is set */
int sift_cls_label(struct sift_cls_metrics *m, const char *s, int add);
/* one example by label id: 0, or -1 when an id is out of range */
int sift_cls_add(struct sift_cls_metrics *m, int gold, int pred);
/* one example by label name; unknown names are appended as new labels */
void sift_cls_add_str(struct sift_cls_metrics *m, const char *gold,
		      const char *pred);
/* adds count to one cell, as read back from a metrics record */
int sift_cls_add_count(struct sift_cls_metrics *m, int gold, int pred,
		       long count);

double sift_cls_accuracy(const struct sift_cls_metrics *m);
struct sift_prf sift_cls_class(const struct sift_cls_metrics *m, int k);
struct sift_prf sift_cls_average(const struct sift_cls_metrics *m,
				 enum sift_cls_avg avg);
double sift_cls_macro_f1(const struct sift_cls_metrics *m);

#endif
