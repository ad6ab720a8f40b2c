/* trainer.h: the trainer, one optimizer step at a time: micro-batches, gradient accumulation, AdamW, the schedule, freezing. */
#ifndef SIFT_TRAINER_H
#define SIFT_TRAINER_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#include "adamw.h"
#include "bert.h"
#include "bert_bwd.h"
#include "lrsched.h"

struct trainer_opts {
	double lr;		/* peak learning rate (5e-5) */
	float weight_decay;	/* decoupled, not on biases/LayerNorm (0) */
	int64_t warmup;		/* warmup steps; -1: from warmup_ratio */
	double warmup_ratio;	/* of the total steps (0) */
	enum sched_kind sched;	/* linear */
	float max_grad_norm;	/* clip the global norm; <= 0: never (1.0) */
	int accum;		/* micro-batches per optimizer step (1) */
	uint64_t seed;		/* dropout masks and head initialisation (42) */
	struct bert_train_opts freeze;
	/* data parallel (dist.h): this process is rank `rank` of `nranks`
	 * (1); a group is accum x nranks batches, rank r computing batches
	 * r, r+nranks, ... of it; zero1: AdamW's moments sharded (0) */
	int rank, nranks, zero1;
	/* 1: the word embeddings' gradient zeroed and read whole each
	 * step, as where the backend has no _rows ops (tests compare) (0) */
	int dense_rows;
};

void trainer_opts_default(struct trainer_opts *o);

/* the optimizer steps of a stream of total batches over epochs with
 * accumulation accum: a short group at an epoch end still steps, as HF
 * Trainer does; -1 when total is unknown (< 0) */
int64_t trainer_total_steps(int64_t total, int64_t epochs, int accum);

struct trainer {
	struct bert_model *m;
	struct trainer_opts o;
	struct sched sched;
	struct bert_grads g;
	struct bert_acts a;
	struct bert_batch bb;
	struct adamw opt;
	int32_t *targets;	/* packed targets of the current micro-batch */
	/* multi-label and regression (m->problem): the f32 labels (B,L) or
	 * (B) of the next trainer_micro, set by the caller; labels unused */
	const float *flabels;
	float *hdlogits;	/* their loss gradient, host (B,L) */
	size_t cap_hdlogits;
	size_t cap_targets;
	/* device memory (bert_upload's backend) off the CPU: a copy of the
	 * targets there, and a host copy of the logits for the loss */
	int32_t *dtargets;
	float *hlogits;
	size_t cap_dtargets, cap_hlogits;
	unsigned char *decay;	/* per tensor: weight decay applies */
	unsigned char *frozen;	/* per tensor: not trained */
	/* per tensor: where its AdamW moments start; the trained tensors
	 * side by side (nopt floats) under freeze_base (LoRA: no state
	 * for the base), else the parameter offsets (nopt = nparams) */
	size_t *moff;
	size_t nopt;
	/* the trained tensors as spans of the gradient buffer, neighbours
	 * merged (one span when nothing is frozen): the gradient norm and
	 * clipping run over these */
	float **span;
	size_t *span_len;
	int nspan;
	/* progress, all saved in the training state */
	int64_t step;		/* optimizer steps done */
	int64_t pos;		/* batch records consumed */
	int micro;		/* micro-batches in the open group */
	int lmicro;		/* of them, computed by this rank */
	struct bert_grads gm;	/* a micro-batch's own gradient when the
				 * group has one already, added to g (as
				 * torch adds a backward pass's to .grad) */
	int *have;		/* (nranks) whose micro-batches a step sums */
	/* the word embeddings' gradient by rows: live[r] SIFT_ROW_LIVE
	 * when a token of the open group is r; the other rows are zero
	 * (never written since zeroed), so a step on one process leaves
	 * them unread and unzeroed; SIFT_ROW_FRESH while no step has used
	 * the row, its moments +0, so a step only decays it (backend.h).
	 * NULL: all rows are zeroed and read (no _rows ops on the backend,
	 * frozen embeddings, MLM's tied decoder, N ranks) */
	unsigned char *live;
	int wte;		/* the word embeddings' tensor, with live */
	double group_loss;	/* sum of their losses */
	/* what the last step did */
	double last_loss, last_lr, last_norm;
	int64_t group_tokens;	/* real tokens in the open group */
	int64_t last_tokens;	/* real tokens of the last step */
};

/* 0, or -1 with a message in err */
int trainer_init(struct trainer *t, struct bert_model *m,
		 const struct trainer_opts *o, int64_t total_steps, char *err,
		 size_t errlen);
void trainer_free(struct trainer *t);

/* the trained floats of params (host, laid out as the model's) side by
 * side as the moments are (nopt floats), and back; the identity when
 * nopt = nparams */
void trainer_gather(const struct trainer *t, const float *params, float *out);
void trainer_scatter(const struct trainer *t, const float *in, float *params);

/* after the moments are loaded (host copies m, v, nopt floats): which
 * word-embedding rows have none yet (live: SIFT_ROW_FRESH) */
void trainer_rows_moments(struct trainer *t, const float *m, const float *v);

/* the dropout seed of batch record pos: a pure function of (seed, pos) */
uint64_t trainer_batch_seed(const struct trainer *t, int64_t pos);

/*
 * Forward and backward of one micro-batch (a padded batch from the
 * stream: ids, type_ids (NULL: zeros), mask (B,T); labels (B,T) for a
 * token or MLM head, (B) for a sequence head).  Gradients accumulate, scaled
 * by 1/(accum x nranks); a group's later micro-batch is backpropagated
 * into a buffer of its own and then added, as torch adds to .grad.
 * Returns 0 and the loss in *loss; 1 when the loss is not finite
 * (nothing accumulated); -1 with a message in err for bad input.
 */
int trainer_micro(struct trainer *t, const int32_t *ids,
		  const int32_t *type_ids, const uint8_t *mask,
		  const int32_t *labels, int B, int T, double *loss, char *err,
		  size_t errlen);

/* whether this rank computes the next batch of the open group; if
 * not, trainer_skip counts it (its position and the group's) */
int trainer_mine(const struct trainer *t);
void trainer_skip(struct trainer *t);

/*
 * Whether the open group is complete (accum micro-batches); the caller
 * also steps at an epoch end with an open group.
 */
int trainer_group_full(const struct trainer *t);

/*
 * One optimizer step from the accumulated gradients: with N ranks
 * first the group's gradients, losses and tokens summed over them in
 * rank order (dist.h), then global norm, clipping, AdamW at the
 * schedule's learning rate (ZeRO-1: on this rank's shard, the
 * parameters then gathered from every rank's), zeroed gradients.
 * 0; 1 when the gradient norm is not finite (the parameters are left
 * as they were).  t->last_* say what happened.
 */
int trainer_step(struct trainer *t);

#endif
