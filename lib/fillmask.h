/* fillmask.h: fill-mask records from an MLM head: the top-k tokens of each masked position. */
#ifndef SIFT_FILLMASK_H
#define SIFT_FILLMASK_H

#include <stdint.h>

#include "bert.h"	/* defines: struct bert_batch (packed rows) */
#include "stream.h"

struct sift_fill;

/* pieces: the V token strings of the vocabulary (not copied); topk in
 * 1..V; mask_id: the [MASK] id of the stream */
struct sift_fill *sift_fill_new(char *const *pieces, int V, int topk,
				int32_t mask_id);
void sift_fill_free(struct sift_fill *f);

/*
 * After bert_pack: the rows the MLM head runs on become bb->mlm_rows
 * (bert_pack_mlm), those whose input id is [MASK] and those whose label
 * (labels (B,T) as on the stream, NULL when the batch has none) is not
 * -100.  0, or -1 when out of memory.
 */
int sift_fill_rows(struct sift_fill *f, struct bert_batch *bb,
		   const int32_t *labels);

/*
 * The k most probable tokens of one row: logits (V) of the head, ids
 * (k) written by descending logit, ties by the lower id (so ids[0] is
 * the first highest logit, the argmax that dev scoring takes).
 */
void sift_fill_topk(const float *logits, int V, int k, int32_t *ids);

/* the log-probability of token y under logits (V), in double precision
 * as bert_loss takes the cross-entropy (its negative) */
double sift_fill_logprob(const float *logits, int V, int32_t y);

/*
 * One batch record rec: logits and probs are (M,V), the rows of
 * bb->mlm_rows in their order; labels as for sift_fill_rows.  Writes one
 * record per example: {id, src?, text?, time?, topic?, masks: [{pos,
 * top: [{token, token_str, prob}], label?, logprob?}]} (see
 * sift-stream(5)).  0, or -1 with a diagnostic naming the record.
 */
int sift_fill_batch(struct sift_fill *f, const struct sift_reader *r,
		    const msgpack_object *rec, const struct bert_batch *bb,
		    const int32_t *labels, const float *logits,
		    const float *probs, struct sift_writer *w);

#endif
