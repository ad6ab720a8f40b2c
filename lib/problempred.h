/* problempred.h: prediction records of multi-label and regression heads. */
#ifndef SIFT_PROBLEMPRED_H
#define SIFT_PROBLEMPRED_H

#include <msgpack.h>

#include "problem.h"	/* defines: enum sift_problem */
#include "stream.h"

/*
 * How a multi-label or regression head's outputs become a record:
 *   multi-label: pred, the array of the labels whose probability is at
 *                least their threshold, in label id order; probs f32[L];
 *                gold, the array of the names of the example's label_set;
 *   regression:  pred, the f32 value; gold, the example's target.
 * labels (L) are the model's, in: the input header (the names of
 * label_set ids); thr (L), per label (multi-label).
 */
struct sift_problem_pred {
	enum sift_problem problem;
	char *const *labels;
	int L;
	const struct sift_header *in;
	const float *thr;
};

/* what prep read of an example's gold */
struct sift_problem_gold {
	int has;
	int32_t *set;		/* multi-label: ids into in's labels */
	size_t nset;
	double target;		/* regression */
};

/* reads ex's gold into g; the number of keys pack will write (pred,
 * probs, gold), or -1 with a diagnostic naming the record */
int sift_problem_pred_prep(const struct sift_problem_pred *pp,
			   const struct sift_reader *r, const msgpack_object *ex,
			   int64_t id, struct sift_problem_gold *g);
/* packs those keys from out (L outputs of sift_problem_outputs); frees g */
void sift_problem_pred_pack(const struct sift_problem_pred *pp,
			    struct sift_problem_gold *g, const float *out,
			    msgpack_packer *pk);

/*
 * Per-label thresholds of multi-label predictions: every label thr0,
 * then those of the file path, lines "LABEL X" (a blank, or a tab,
 * between them; X from 0 to 1) for labels (L).  0, or -1 with a
 * diagnostic naming the file and line.
 */
int sift_problem_read_thresholds(const char *path, char *const *labels, int L,
				 float thr0, float *thr);

#endif
