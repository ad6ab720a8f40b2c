/* problemeval.h: scores of multi-label and regression predictions, as scikit-learn and scipy compute them. */
#ifndef SIFT_PROBLEMEVAL_H
#define SIFT_PROBLEMEVAL_H

#include <msgpack.h>

#include "problem.h"	/* defines: enum sift_problem */
#include "stream.h"

/*
 * Multi-label, per label k over the examples: tp, predicted and support
 * (gold); precision = tp/predicted, recall = tp/support, f1 =
 * 2tp/(support + predicted), 0 where the denominator is 0 (sklearn's
 * f1_score(zero_division=0) on multi-hot arrays); micro from the summed
 * counts, macro the plain mean over every label; subset accuracy the
 * fraction of exact label sets (accuracy_score), hamming loss the
 * fraction of wrong label cells (hamming_loss).
 * Regression: mse, mae; pearson (scipy.stats.pearsonr) and spearman
 * (spearmanr: pearson of the ranks, ties given their average rank);
 * NaN when a side is constant.
 */
struct sift_problem_metrics {
	enum sift_problem problem;
	int n;			/* labels (multi-label) */
	char **labels;		/* owned */
	long *tp, *pred, *gold;	/* n each */
	long total, exact, wrong_cells;
	double *x, *y;		/* regression: predicted, gold */
	size_t cap;
	unsigned char *mark;	/* n: the labels of one record */
};

void sift_pm_init(struct sift_problem_metrics *m, enum sift_problem p,
		  char *const *labels, int n);
void sift_pm_free(struct sift_problem_metrics *m);
/* one prediction record (pred and gold); 0, or -1 with a diagnostic */
int sift_pm_add(struct sift_problem_metrics *m, const struct sift_reader *r,
		const msgpack_object *rec);

struct sift_pm_prf {
	double precision, recall, f1;
	long support, predicted;
};
struct sift_pm_prf sift_pm_class(const struct sift_problem_metrics *m, int k);
struct sift_pm_prf sift_pm_micro(const struct sift_problem_metrics *m);
struct sift_pm_prf sift_pm_macro(const struct sift_problem_metrics *m);
double sift_pm_subset_accuracy(const struct sift_problem_metrics *m);
double sift_pm_hamming(const struct sift_problem_metrics *m);
double sift_pm_mse(const struct sift_problem_metrics *m);
double sift_pm_mae(const struct sift_problem_metrics *m);
double sift_pm_pearson(const struct sift_problem_metrics *m);
double sift_pm_spearman(const struct sift_problem_metrics *m);

/*
 * The metrics map of sift-eval:
 *   multi-label: {task, problem_type, examples, labels:[str],
 *     subset_accuracy, hamming_loss, micro, macro:{precision, recall, f1,
 *     support}, classes:{LABEL:{precision, recall, f1, support, predicted}}}
 *   regression: {task, problem_type, examples, mse, mae, pearson, spearman}
 */
void sift_pack_pm(msgpack_packer *pk, const struct sift_problem_metrics *m,
		  const char *task);

#endif
