/* devscore.h: scores a model on a dev batches stream as sift-fwd | sift-eval would, plus the mean loss. */
#ifndef SIFT_DEVSCORE_H
#define SIFT_DEVSCORE_H

#include "batch.h"	/* defines: struct sift_batch_rec */
#include "bert.h"
#include "stream.h"

/* dev scores of a model over a batches stream */
struct dev_scores {
	double loss;		/* mean cross-entropy over counted targets */
	double f1, precision, recall;	/* ner: entity level (conlleval) */
	double accuracy;	/* ner: token accuracy; cls: accuracy; mlm:
				 * masked-token accuracy (argmax = label) */
	double macro_f1;	/* cls */
	double perplexity;	/* mlm: exp(loss) */
	/* multi-label (macro_f1 too) and regression (problemeval.h) */
	double micro_f1, subset_accuracy;
	double mse, mae, pearson, spearman;
	long n;			/* targets scored */
};

/*
 * An open dev scorer over the stream whose header is in: dev_batch per
 * batch record, then dev_finish, then dev_free.  Each batch is predicted
 * by lib/predict.c (sift-fwd's rule: a word takes its first sub-token's
 * prediction, the windows of a long sentence are stitched in whatever
 * order they come) and the prediction records are scored by
 * lib/evalpred.c (sift-eval's rule), so the scores are those of
 * sift-fwd | sift-eval on the same model, to the last digit.  The loss
 * is the mean cross-entropy over the labelled targets, as training takes
 * it.  An MLM head is scored on its labelled (masked) tokens alone:
 * the loss, its perplexity and the masked-token accuracy, with no
 * prediction records.  Every function returns 0, or -1 after a
 * diagnostic naming the record of r.
 */
struct dev_scorer;
/* NULL when out of memory */
struct dev_scorer *dev_new(const struct bert_model *m, const struct sift_header *in);
/* rec and b: the batch record and its arrays (sift_batch_rec_read);
 * a and bb are the model's activations and packed batch to use */
int dev_batch(struct dev_scorer *d, struct bert_model *m, struct bert_acts *a,
	      struct bert_batch *bb, const struct sift_reader *r,
	      const msgpack_object *rec, const struct sift_batch_rec *b);
/* the scores; -1 when a sentence's windows are missing */
int dev_finish(struct dev_scorer *d, const struct sift_reader *r,
	       struct dev_scores *s);
void dev_free(struct dev_scorer *d);

#endif
