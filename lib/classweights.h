/* classweights.h: the class weights and label smoothing of the classifier loss. */
#ifndef SIFT_CLASSWEIGHTS_H
#define SIFT_CLASSWEIGHTS_H

#include <stddef.h>

#include "bert.h"

/*
 * Sets m's loss to torch.nn.CrossEntropyLoss(weight, label_smoothing):
 * weight (m->nout floats, copied; NULL: all 1) and smoothing in [0,1),
 * on the host and in the memory of m's backend (call after bert_upload).
 * 0, or -1 when out of memory.
 */
int bert_set_loss(struct bert_model *m, const float *weight, float smoothing);

/*
 * Reads a class-weights file: one "LABEL WEIGHT" per line (the weight is
 * the last blank-separated field, the label the rest), blank lines and
 * lines starting with '#' skipped.  w (nlabels) gets the weights in the
 * order of labels; a label the file does not name gets 1.  An unknown
 * label, one named twice or a weight that is not a positive finite
 * number is an error naming the file and line.  0, or -1 with the
 * message in err.
 */
int classweights_read(const char *path, char *const *labels, int nlabels,
		      float *w, char *err, size_t errlen);

/*
 * scikit-learn's class_weight="balanced" over the first epoch of the
 * batches stream at path ("-": standard input, which must then be a
 * regular file, opened a second time): w[c] = n / (nlabels * n_c) with
 * n the counted targets (the labels of cls and pair examples, the
 * labelled tokens of ner; -100 is not counted) and n_c those of label c.
 * A label that never occurs is an error (as scikit-learn's).  0, or -1
 * after a diagnostic.
 */
int classweights_balanced(const char *path, int ner, char *const *labels,
			  int nlabels, float *w);

#endif
