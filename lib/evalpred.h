/* evalpred.h: the scoring of prediction records against their gold labels, one rule for sift-eval and for sift-train's dev scoring. */
#ifndef SIFT_EVALPRED_H
#define SIFT_EVALPRED_H

#include <msgpack.h>

#include "calib.h"	/* defines: struct sift_calib */
#include "clsmetrics.h"	/* defines: struct sift_cls_metrics */
#include "conlleval.h"	/* defines: struct sift_ner_counts, struct sift_ner_merge */
#include "stream.h"

/* ids (or docs) seen so far, to refuse a sentence scored twice */
struct eval_seen {
	unsigned char *bit;
	size_t cap;
};

/*
 * Prediction records scored one at a time into nc (ner: words, pred and
 * gold tags; the windows of a long sentence merged) or cm (cls/pair:
 * pred and gold label names), both initialised and owned by the caller.
 * An id or doc seen twice is refused, gold labels are required.
 */
struct eval_pred {
	struct sift_ner_counts *nc;
	struct sift_cls_metrics *cm;
	/* cls/pair, when set (eval_pred_calib): the calibration of the
	 * records' probs, whose nprobs columns are cm's first labels;
	 * noprobs counts the records without probs */
	struct sift_calib *cal;
	int nprobs;
	long noprobs;
	struct eval_seen ids, docs;
	struct sift_ner_merge mg;
	struct sift_problem_metrics *pm;	/* multi-label, regression */
};

/* one of nc, cm is NULL */
void eval_pred_init(struct eval_pred *e, struct sift_ner_counts *nc,
		    struct sift_cls_metrics *cm);
/* rec, a record of r's stream (r names it in diagnostics): 0, or -1
 * after a diagnostic */
int eval_pred_add(struct eval_pred *e, const struct sift_reader *r,
		  const msgpack_object *rec);
/* at the end: the sentences whose windows are incomplete are an error
 * (0, or -1 after a diagnostic); frees what e holds */
int eval_pred_end(struct eval_pred *e, const struct sift_reader *r);
/* frees what e holds, checking nothing (after an error) */
void eval_pred_free(struct eval_pred *e);

/* multi-label and regression predictions go to pm instead (after init) */
struct sift_problem_metrics;
void eval_pred_set_problem(struct eval_pred *e, struct sift_problem_metrics *pm);
/* sift-eval: every record of r into pm; 0, or -1 after a diagnostic */
int eval_pred_stream_problem(struct sift_reader *r, struct sift_problem_metrics *pm);

/* sift-eval: every record of r into nc or cm; 0, or -1 after a diagnostic */
int eval_pred_stream(struct sift_reader *r, struct sift_ner_counts *nc,
		     struct sift_cls_metrics *cm);
/* the same for cm, with the calibration of the records' probs (nprobs
 * columns, cm's first labels, as the header's) into cal (zeroed by the
 * caller); *noprobs: the records that had none */
int eval_pred_stream_calib(struct sift_reader *r, struct sift_cls_metrics *cm,
			   struct sift_calib *cal, int nprobs, long *noprobs);

/*
 * mlm: fill-mask records (sift-fwd on masked batches): every masks entry
 * with a label is a labelled token, scored by its logprob (the loss is
 * the mean of -logprob) and by its top[0] (correct when it is the
 * label); entries without a label ([MASK]s of the text) are not scored.
 */
struct eval_mlm {
	double nll;		/* the sum of -logprob */
	long masked;		/* labelled tokens */
	long correct;		/* top[0].token == label */
	long examples;		/* records */
	struct eval_seen ids;
};

/* sift-eval: every record of r into m (zeroed first); 0, or -1 after a
 * diagnostic (no labelled token at all is an error) */
int eval_mlm_stream(struct sift_reader *r, struct eval_mlm *m);

#endif
