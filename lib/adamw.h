/* adamw.h: AdamW optimizer state over parameter spans, and global gradient-norm clipping. */
#ifndef SIFT_ADAMW_H
#define SIFT_ADAMW_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"	/* defines: sift_backend (adamw_update slot) */

struct adamw {
	float beta1, beta2, eps, weight_decay;
	int64_t t;		/* steps taken */
	size_t n;		/* number of parameters */
	size_t lo;		/* m and v are those of parameters lo..lo+n-1
				 * (ZeRO-1: this rank's shard; 0 otherwise) */
	const struct sift_backend *be;	/* whose memory m and v are in */
	float *m, *v;		/* first and second moments (n), owned */
};

/* torch's defaults: betas (0.9, 0.999), eps 1e-8; m and v zeroed in be's
 * memory.  0, or -1 when out of memory */
int adamw_init(struct adamw *o, const struct sift_backend *be, size_t n,
	       float weight_decay);
void adamw_free(struct adamw *o);

/*
 * Rows of a gradient known to be zero: rows of C floats from at (in the
 * backend's memory), row r zero where live[r] is not SIFT_ROW_LIVE (the
 * word embeddings' rows no token of the step used), and its moments
 * zero too where it is SIFT_ROW_FRESH (lib/backend.h).  adamw_update
 * and grad_norm leave them unread where the backend has the _rows ops,
 * with the same bits.
 */
struct grad_rows {
	const float *at;
	size_t rows;
	int C;
	const unsigned char *live;
};

/* begins a step: t += 1 (call once, before the spans of the step) */
void adamw_tick(struct adamw *o);

/*
 * Updates one span of parameters: param (n) with grad (n), using the
 * moments of parameter offset off (o->m + off - o->lo, within o's); decay says whether weight decay
 * applies (not to biases and LayerNorm weights, as HF Trainer); the
 * gradient is taken times gscale, grad_clip_coef()'s coefficient, as it
 * is read (grad itself is left as it is).  The arithmetic is
 * be->adamw_update, i.e. torch.optim.AdamW after clip_grad_norm_.  zr
 * (or NULL): zero rows, used when they lie within grad.
 */
void adamw_update(struct adamw *o, const struct sift_backend *be,
		  float *param, const float *grad, size_t n, size_t off,
		  float lr, int decay, float gscale, const struct grad_rows *zr);

/*
 * torch.nn.utils.clip_grad_norm_ over spans in be's memory: grad_norm()
 * is the global L2 norm, sqrt of the sum over spans of be->sumsq (on the
 * CPU a deterministic sum in fixed chunks, whatever the number of
 * threads); grad_clip_coef() is the factor every gradient is multiplied
 * by, max_norm / (norm + 1e-6) where that is below 1, else 1 (max_norm
 * <= 0: always 1), which adamw_update applies in its own pass: one read
 * of the gradients for the norm, one pass for the clipped update.
 * zr (or NULL): zero rows, used in the span they lie within.
 */
double grad_norm(const struct sift_backend *be, float *const *grads,
		 const size_t *lens, int nspans, const struct grad_rows *zr);
float grad_clip_coef(double norm, float max_norm);

#endif
