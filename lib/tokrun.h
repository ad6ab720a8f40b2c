/* tokrun.h: the work of sift-tok: input files to an examples stream, labels from the data or a file. */
#ifndef SIFT_TOKRUN_H
#define SIFT_TOKRUN_H

#include <stdio.h>

#include "textin.h"
#include "tokex.h"

struct sift_tokrun_opts {
	struct sift_textin_opts in;
	const char *task;	/* "ner", "cls", "pair", "mlm" or NULL: from the input */
	int group_texts;	/* mlm: run_mlm.py's group_texts */
	const char *labels;	/* --labels FILE, or NULL */
	int iob1_to_iob2;
	int label_all;
	int max_len;		/* 0: the model's */
	int stride;		/* -1: default */
	long long id_offset;	/* --id-offset: the first example's id */
	int force;		/* write to a terminal */
	/* cls, pair: a set of labels per text (a JSON lines array, or the
	 * label column split at label_sep); with a JSON array first label,
	 * also without the option */
	int multi_label;
	const char *label_sep;	/* "," when NULL */
	int regression;		/* cls, pair: the label is a number */
};

/* tokenizes files[0..n) into out; returns an exit status */
int sift_tokrun(struct sift_tokenizer *tk, const struct sift_tokrun_opts *o,
		char **files, int nfiles, FILE *out);

/* IOB1 tags to IOB2 in place: an I-X that does not continue an X begins it */
void sift_iob1_to_iob2(char **tags, int n);

#endif
