/* predict.h: turns a batch's probabilities into prediction records, one per sentence or text, stitching NER windows. */
#ifndef SIFT_PREDICT_H
#define SIFT_PREDICT_H

#include <stdint.h>

#include "bert.h"	/* defines: struct bert_batch (packed rows) */
#include "stream.h"

struct sift_pred;

/*
 * ner: token predictions, else one per example.  labels: the model's
 * label names (pred, the columns of probs); in: the input header, whose
 * labels name the gold label ids of the batches.
 */
struct sift_pred *sift_pred_new(int ner, char *const *labels, int nlabels,
				const struct sift_header *in);
void sift_pred_free(struct sift_pred *p);

/*
 * cls and pair, for a router (sift-fwd): topk > 0 adds "top", the topk
 * most probable labels (clamped to the label count); abstain not NULL
 * makes pred abstain (not copied) when the top probability is below
 * threshold (compared in single precision), and adds "abstained".
 * Without a call the records are as before.
 */
void sift_pred_set_decision(struct sift_pred *p, int topk, float threshold,
			    const char *abstain);

/* cls and pair of a multi-label or regression head: records as
 * problempred.c writes them (probs: sift_problem_outputs'); pp is kept */
struct sift_problem_pred;
void sift_pred_set_problem(struct sift_pred *p, const struct sift_problem_pred *pp);

/*
 * One batch record rec of B examples: probs are (N,L) packed rows of
 * bb for ner, else (B,L).  Writes the records that are complete, in the
 * order of their first window.  0, or -1 with a diagnostic naming the
 * record printed.
 */
int sift_pred_batch(struct sift_pred *p, const struct sift_reader *r,
		    const msgpack_object *rec, const struct bert_batch *bb,
		    const float *probs, struct sift_writer *w);

/* at the end of the input: -1 with a diagnostic when a sentence's
 * windows are missing, else 0 */
int sift_pred_finish(struct sift_pred *p, const struct sift_reader *r);

#endif
