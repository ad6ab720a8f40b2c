/* abstain.h: the scores of an abstain label, CLINC150's, and the threshold that maximises one. */
#ifndef SIFT_ABSTAIN_H
#define SIFT_ABSTAIN_H

#include <msgpack.h>

#include "calib.h"	/* defines: struct sift_calib */
#include "clsmetrics.h"	/* defines: struct sift_cls_metrics, struct sift_prf */
#include "stream.h"

/*
 * The abstain label (CLINC150's "oos") as the positive class:
 * in-scope accuracy = correct / in_scope over the examples whose gold is
 * not the label (a prediction of the label is wrong there); oos =
 * precision, recall and F1 of the label as scikit-learn computes them
 * (zero_division=0), support its gold count; predicted its column.
 */
struct sift_abstain {
	const char *label;
	double in_scope_accuracy;
	long in_scope;
	struct sift_prf oos;
	long predicted;
	/* with a threshold search (found set): the threshold, the objective
	 * and its value there */
	int found;
	float threshold;
	const char *objective;
	double score;
};

enum sift_objective { SIFT_OBJ_BALANCED, SIFT_OBJ_ABSTAIN_F1 };

/* "balanced" or "abstain-f1": 0, or -1 when s is neither */
int sift_objective_parse(const char *s, enum sift_objective *o);

/* the scores of label in m (all 0 when m has no such label) */
void sift_abstain_scores(const struct sift_cls_metrics *m, const char *label,
			 struct sift_abstain *a);

/*
 * sift-eval --find-threshold: every cls or pair record of r (header h,
 * whose labels name the columns of probs) scored as sift-eval scores it,
 * then the threshold t among the distinct top probabilities that
 * maximises the objective, where a prediction is the label when its top
 * probability is below t, else the argmax of probs (the records' pred is
 * not used); ties go to the lower t.  cm (initialised by the caller)
 * gets the predictions at t; a gets t and the scores.  0, or -1 after a
 * diagnostic.  cal (NULL: not wanted; zeroed by the caller) gets the
 * calibration of the probabilities, as eval_pred_stream_calib's.
 */
int sift_abstain_search(struct sift_reader *r, const struct sift_header *h,
			struct sift_cls_metrics *cm, const char *label,
			enum sift_objective obj, struct sift_abstain *a,
			struct sift_calib *cal);

#endif
