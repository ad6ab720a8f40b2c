/* problem.h: multi-label and regression sequence heads: losses, outputs. */
#ifndef SIFT_PROBLEM_H
#define SIFT_PROBLEM_H

#include <stddef.h>

#include "stream.h"	/* defines: struct sift_reader */

/*
 * transformers' BertForSequenceClassification problem_type: single
 * (softmax, cross-entropy; the default and what a missing key means),
 * multi-label (a sigmoid per label, BCEWithLogitsLoss over all B*L
 * logits) or regression (num_labels 1, MSELoss on the squeezed logit).
 * A stream names the last two in its header key "problem_type", with
 * transformers' spellings; a single-label stream has no such key.
 */
enum sift_problem {
	SIFT_PROBLEM_SINGLE,
	SIFT_PROBLEM_MULTI,
	SIFT_PROBLEM_REGRESSION,
};

/* "single_label_classification", "multi_label_classification",
 * "regression" */
const char *sift_problem_name(enum sift_problem p);
struct bert_model;
/* the problem_type of a model's config.json (absent: single); -1 with a
 * diagnostic for another value, or for regression without one label */
int sift_problem_of_model(const struct bert_model *m, const char *dir);
/* the same of dir's config.json, -1 when it cannot be read (quietly) */
int sift_problem_of_dir(const char *dir);

/* the problem a name spells; -1 when none */
int sift_problem_parse(const char *s, size_t n);
/* a stream header's problem_type (absent: single); -1 with a diagnostic
 * naming record 1 for another value */
int sift_problem_of_header(const struct sift_reader *r);

/*
 * The head's outputs from its logits (B,L), host memory: out (B,L) the
 * sigmoid of each logit (multi-label) or the logit itself (regression).
 */
void sift_problem_outputs(enum sift_problem p, const float *logits,
			  float *out, size_t n);

/*
 * The loss of logits (B,L) against targets (B,L) (multi-label: 0 or 1)
 * or (B) (regression, L = 1), computed in double, as transformers:
 *   multi-label: BCEWithLogitsLoss, the mean over B*L of
 *                max(x,0) - x*y + log(1 + exp(-|x|));
 *   regression:  MSELoss, the mean over B of (x - y)^2.
 * dlogits (B,L), when not NULL, gets d(loss * scale)/d(logits):
 * (sigmoid(x) - y) * scale / (B*L), or 2 (x - y) * scale / B.
 */
double sift_problem_loss(enum sift_problem p, const float *logits,
			 const float *targets, int B, int L, float *dlogits,
			 float scale);

#endif
