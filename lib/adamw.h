/* adamw.h: the AdamW optimizer exactly as torch.optim.AdamW, with global gradient-norm clipping. */
#ifndef SIFT_ADAMW_H
#define SIFT_ADAMW_H

#include <stddef.h>
#include <stdint.h>

struct adamw {
	float beta1, beta2, eps, weight_decay;
	int64_t t;		/* steps taken */
	size_t n;		/* number of parameters */
	float *m, *v;		/* first and second moments (n), owned */
};

/* torch's defaults: betas (0.9, 0.999), eps 1e-8 */
void adamw_init(struct adamw *o, size_t n, float weight_decay);
void adamw_free(struct adamw *o);

/*
 * One step over a span of parameters: param (n), grad (n), moments at
 * offset off into o->m and o->v.  decay: apply weight decay to this span
 * (no decay on biases and LayerNorm weights, as HF Trainer).  Call
 * adamw_tick() once before the spans of a step: it advances t.
 *   param *= 1 - lr * wd
 *   m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2
 *   param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
void adamw_tick(struct adamw *o);
void adamw_update(struct adamw *o, float *param, const float *grad, size_t n,
		  size_t off, double lr, int decay);

/*
 * torch.nn.utils.clip_grad_norm_ over several spans: the global L2 norm
 * of all gradients (returned, before clipping); when max_norm > 0 every
 * gradient is multiplied by min(1, max_norm / (norm + 1e-6)).
 */
double grad_norm(float *const *grads, const size_t *lens, int nspans);
void grad_clip(float *const *grads, const size_t *lens, int nspans,
	       double norm, float max_norm);

#endif
