/* bert_bwd.h: the backward pass of a BERT encoder and its heads, from the activations of bert_forward. */
#ifndef SIFT_BERT_BWD_H
#define SIFT_BERT_BWD_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"	/* defines: bert_model, bert_batch, bert_acts */

/*
 * Gradients in ONE buffer laid out exactly as the model's parameters
 * (grad of m->params[i] is g->buf[i]), with the same named views, plus
 * the scratch the backward pass needs (grown per batch).
 */
struct bert_grads {
	size_t n;		/* = m->nparams (bert_grads_init_trained:
				 * the trained floats) */
	float *buf;		/* (n), in the backend's memory */
	struct bert_params g;	/* views into buf, as m->dp into m->dparams
				 * (NULL for a frozen tensor's) */
	/* bert_grads_init_trained: per tensor of m, where its gradient
	 * starts in buf, SIZE_MAX for a frozen one (none); NULL: the
	 * parameters' layout */
	size_t *goff;
	/* scratch */
	float *s;
	size_t cap_N, cap_B, cap_M, cap_att;
	float *dx, *dres, *dln, *dtmp, *dI, *dI2, *dqkv, *datt, *dlogits,
	      *dhead, *dB1, *dB2;
	/* a sequence head's loss gradient (B,L) in host memory, already
	 * scaled (multi-label and regression: sift_problem_loss); NULL:
	 * the cross-entropy's, from the targets */
	const float *dlogits_in;
};

/* what to train */
struct bert_train_opts {
	int freeze_embeddings;	/* no gradient for the embedding tensors */
	int freeze_layers;	/* no gradient for layers 0 .. K-1 */
	int freeze_base;	/* no gradient for any tensor but the
				 * classifier and an adapter's (LoRA): the
				 * gradient still flows through the layers */
};

/* 0, or -1 when out of memory */
int bert_grads_init(struct bert_grads *g, const struct bert_model *m);
/*
 * The gradients of the trained tensors only, n floats: tensor i's at
 * goff[i] (SIZE_MAX: frozen, no gradient, its views NULL).  For a
 * frozen base (LoRA), where a full buffer would be mostly zeros; the
 * tensors of one view (the fused query, key, value) must be all
 * trained, side by side, or all frozen.  0, or -1 when out of memory.
 */
int bert_grads_init_trained(struct bert_grads *g, const struct bert_model *m,
			    const size_t *goff, size_t n);
/* the gradient of the tensor whose parameters start at params offset
 * off: g->buf + off, or where goff puts it; NULL when frozen */
float *bert_grads_at(const struct bert_grads *g, const struct bert_model *m,
		     size_t off);
void bert_grads_free(struct bert_grads *g, const struct bert_model *m);
void bert_grads_zero(struct bert_grads *g, const struct bert_model *m);

/*
 * Packs the stream's targets for the head: ner labels (B,T) padded ->
 * (N) packed rows of bb; cls/pair labels (B) -> (B); mlm labels (B,T)
 * -> (M), those of bb->mlm_rows (bert_pack_mlm first).  out has room
 * for bb->N (token or MLM head) or bb->B (sequence head) entries.
 */
void bert_pack_targets(const struct bert_model *m, const struct bert_batch *bb,
		       const int32_t *labels, int32_t *out);

/*
 * The loss of the forward pass in a (bert_forward with the same batch
 * and seed): torch.nn.CrossEntropyLoss(weight=m->ce_weight,
 * label_smoothing=m->ce_smoothing, ignore_index=-100), the mean over
 * the targets that are not -100 (with weights: the sum divided by the
 * weights of those targets, PyTorch's rule), computed from the logits
 * in double.  *count: the number of counted targets; *denom (NULL: not
 * wanted): the divisor, the count or the sum of their weights.  NAN for
 * a target out of range.  targets are host memory, (N) or (B) as
 * bert_pack_targets wrote them.
 */
double bert_loss(const struct bert_model *m, const struct bert_acts *a,
		 const int32_t *targets, int *count, double *denom);

/*
 * Backward pass of that loss times scale (1 for a plain step, 1/accum
 * under gradient accumulation), ACCUMULATING parameter gradients into g;
 * denom is bert_loss's *denom (the count without class weights).
 * train and seed must be those of the bert_forward call: the dropout
 * masks are regenerated from them.  targets are in the backend's memory
 * (the CPU: host).  0, or -1 when out of memory.
 */
int bert_backward(const struct bert_model *m, const struct bert_acts *a,
		  const int32_t *targets, double denom,
		  float scale, struct bert_grads *g,
		  const struct bert_train_opts *o, int train, uint64_t seed);

#endif
