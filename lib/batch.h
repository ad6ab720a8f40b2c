/* batch.h: grouping tokenized examples into padded batches, in input order or bucketed by length and shuffled by seed. */
#ifndef SIFT_BATCH_H
#define SIFT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "mlmmask.h"	/* defines: struct sift_mlm */
#include "stream.h"	/* defines: sift_reader, sift_writer, msgpack_object */

/*
 * "Batch" names one thing at four stages; the words used for each:
 *   plan         the grouping of one epoch's examples (struct sift_plan,
 *                sift_batch_run): which examples go together, in what order;
 *   batch record one padded group as written in a batches stream
 *                (sift_pack_batch) and read back (struct sift_batch_rec,
 *                sift_batch_rec_read): the only reader, for every consumer;
 *   model input  a batch record's arrays as the model takes them
 *                (struct bert_batch in bert.h);
 *   micro-batch  one batch record in the trainer (trainer.h): accum of them
 *                make one optimizer step.
 */

struct sift_batch_opts {
	int batch_size;		/* most examples per batch, >= 1 */
	int64_t max_tokens;	/* most padded tokens B*T per batch, 0: no cap */
	int pool;		/* length bucketing pool, in batches; 0: none */
	int shuffle;		/* shuffle examples (and batches) every epoch */
	uint64_t seed;
	int drop_last;		/* drop the short last batch of each epoch */
	int flush_ms;		/* > 0: streaming only, write the open batch
				 * when the input is silent this long */
	const struct sift_mlm *mlm;	/* mask every example (task mlm):
				 * labels are made here; NULL: none */
	int nhot;		/* multi-label: labels per example (set by
				 * sift_batch_run from the header) */
};

/*
 * The cut rule, the same for streaming and for planned batches: examples
 * join the open batch while it has fewer than batch_size of them and the
 * padded size (n+1) * max(T, len) stays within max_tokens.  An example
 * longer than max_tokens on its own still makes a batch of one.
 */
struct sift_cut {
	int n;			/* examples in the open batch */
	uint32_t T;		/* longest of them */
};
/* whether an example of len tokens can join the open batch */
int sift_cut_fits(const struct sift_batch_opts *o, const struct sift_cut *c,
		  uint32_t len);
void sift_cut_add(struct sift_cut *c, uint32_t len);
/* whether no example at all (of at least one token) can join any more */
int sift_cut_full(const struct sift_batch_opts *o, const struct sift_cut *c);

/* the batches of one epoch: batch k holds examples idx[start[k]] ..
 * idx[start[k+1]-1], in the order they are to be written */
struct sift_plan {
	size_t nbatch;
	size_t *start;		/* nbatch + 1 offsets into idx */
	size_t *idx;		/* example indices, start[nbatch] of them */
};

/*
 * Plans epoch `epoch` of n examples whose lengths are len[n].  Without
 * shuffle: input order.  With shuffle: a Fisher-Yates shuffle of the
 * examples by a generator seeded from (seed, epoch); with pool > 0, each
 * run of pool * batch_size shuffled examples (plus the unfinished last
 * batch of the previous run) is sorted by length and cut, so batches hold
 * examples of like length; then the batches themselves are shuffled.
 * A pure function of its arguments, the same on every machine.
 */
void sift_plan_epoch(const uint32_t *len, size_t n,
		     const struct sift_batch_opts *o, int epoch,
		     struct sift_plan *p);
void sift_plan_free(struct sift_plan *p);

/* what a batch record needs of one example, copied out of its record */
struct sift_example {
	uint32_t T;
	int32_t *ids;		/* T */
	int32_t *type_ids;	/* T, or NULL: zeros */
	int32_t *labels;	/* T (ner), or NULL */
	int has_label;		/* cls/pair: label is the gold label id */
	int64_t label;
	char *meta;		/* the record without ids, type_ids, offsets and */
	size_t nmeta;		/* labels, as packed msgpack (a map) */
	int64_t id;		/* mlm: the record's id, else its 0-based place */
	int32_t *word_idx;	/* mlm: T, or NULL */
	int32_t *lset;		/* multi-label: nlset label ids, or NULL */
	int nlset;
	int nhot;		/* multi-label: the label count L */
	int has_target;		/* regression: target is the gold value */
	double target;
};

enum sift_label_kind {
	SIFT_LABELS_NONE,	/* no labels in batches */
	SIFT_LABELS_TOKEN,	/* ner: labels i32[T] per example */
	SIFT_LABELS_EXAMPLE,	/* cls, pair: label int per example */
	SIFT_LABELS_MULTI,	/* multi-label: label_set, f32[L] multi-hot */
	SIFT_LABELS_TARGET,	/* regression: target, f32 per example */
};
/* the kind of labels a task carries ("ner", "cls", "pair", other) */
enum sift_label_kind sift_label_kind(const char *task);

/* copies an examples record; 0, or -1 with a diagnostic naming the record */
int sift_example_read(const struct sift_reader *r, const msgpack_object *rec,
		      enum sift_label_kind lk, struct sift_example *e);
void sift_example_free(struct sift_example *e);

/*
 * Packs one batch record of B examples (not committed):
 *   B, T int; ids i32[B*T] padded with pad_id; type_ids i32[B*T] padded
 *   with 0; mask u8[B*T]; labels i32[B*T] padded with -100 (token) or
 *   i32[B] (example), only when some example has labels, -100 for those
 *   that have none; f32[B*L] multi-hot (multi-label, each example's nhot
 *   labels) or f32[B] (regression), NaN rows for no gold; epoch int;
 *   ex [map] the examples' metadata.
 * sift_batch_run masks mlm examples (opts mlm) before they are packed.
 */
void sift_pack_batch(struct sift_writer *w, struct sift_example *const *ex,
		     int B, int epoch, int32_t pad_id, enum sift_label_kind lk);

/*
 * The work of sift-batch: reads the records of r (its header read: h),
 * writes the batches header and records to w.  Without shuffle and with
 * one epoch it streams, a batch written and flushed as soon as it is
 * full (header total -1); otherwise it reads every example, plans every
 * epoch and announces their batches in total.  Each epoch ends with
 * {"epoch_end": e}.  0, or -1 after a diagnostic; after a bad record,
 * what was written stays a valid stream.  With o->mlm, each example is
 * masked by sift_mlm_mask for its (epoch, id), whatever batch it is in,
 * and the batches carry its labels (i32[B*T], -100 on padding).
 */
int sift_batch_run(struct sift_reader *r, struct sift_writer *w,
		   struct sift_header *h, const struct sift_batch_opts *o,
		   int epochs, int32_t pad_id);

/*
 * The batch record, read back: the one reader of every consumer
 * (sift-fwd, sift-train and its dev scoring), so the checks are the same
 * everywhere.  B >= 1, T >= 1, B*T at most 2^30, ids and mask (and
 * type_ids when present) of B*T entries; labels, when present, of B*T
 * entries (ner) or B (cls, pair), and required when need_labels.
 * type_ids and labels are NULL when absent.
 */
struct sift_batch_rec {
	int64_t B, T;
	int32_t *ids, *type_ids, *labels;
	uint8_t *mask;
	/* multi-label and regression: labels is NULL and flabels holds the
	 * f32 labels, nflabels of them (B*L or B), NaN for no gold */
	float *flabels;
	size_t nflabels;
};
/* 0, or -1 after a diagnostic naming rec; b is freed either way by
 * sift_batch_rec_free */
int sift_batch_rec_read(const struct sift_reader *r, const msgpack_object *rec,
			int ner, int need_labels, struct sift_batch_rec *b);
void sift_batch_rec_free(struct sift_batch_rec *b);

#endif
