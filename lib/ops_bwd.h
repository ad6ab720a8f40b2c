/* ops_bwd.h: the CPU backward ops and AdamW of the op table (lib/backend.h). */
#ifndef SIFT_OPS_BWD_H
#define SIFT_OPS_BWD_H

#include <stddef.h>
#include <stdint.h>

/*
 * The shapes, the packed-rows convention (N real tokens, offs (B+1)) and
 * the accumulate/overwrite rules are those of the slots of the same name
 * in struct sift_backend (lib/backend.h): parameter gradients are
 * ACCUMULATED (+=), input gradients OVERWRITTEN.  The dropout backward
 * is sift_cpu_dropout_forward applied to the gradient with the forward
 * seed (lib/backend.h), so it has no function of its own.
 */

/* dwte (V,C), dwpe (P,C), dwtt (TV,C) += scatter of dout (N,C) by ids,
 * pos, type_ids (N); rows in order, so the sums are deterministic; a NULL
 * gradient (frozen) is skipped */
void sift_cpu_embed_backward(float *dwte, float *dwpe, float *dwtt,
			     const float *dout, const int32_t *ids,
			     const int32_t *type_ids, const int32_t *pos,
			     int N, int C);

/* dinp (N,C) = dout (N,OC) @ weight (OC,C); dweight (OC,C) += dout^T @
 * inp (N,C); dbias (OC) += column sums of dout; NULL skips */
void sift_cpu_matmul_backward(float *dinp, float *dweight, float *dbias,
			      const float *dout, const float *inp,
			      const float *weight, int N, int C, int OC);

/* dinp (N,C) = layernorm'(dout (N,C)); dweight, dbias (C) +=;
 * inp (N,C), weight (C), mean, rstd (N) as saved by the forward pass */
/* residual_forward(da, da, db), then layernorm_backward with dout = da */
void sift_cpu_residual_layernorm_backward(float *dinp, float *dweight,
					  float *dbias, float *da,
					  const float *db, const float *inp,
					  const float *weight, const float *mean,
					  const float *rstd, int N, int C);

void sift_cpu_layernorm_backward(float *dinp, float *dweight, float *dbias,
				 const float *dout, const float *inp,
				 const float *weight, const float *mean,
				 const float *rstd, int N, int C);

/* dinp (n) = gelu'(inp (n)) * dout (n), exact erf GELU; dinp may be dout */
void sift_cpu_gelu_backward(float *dinp, const float *inp, const float *dout,
			    size_t n);

/* dinp (n) = (1 - out^2) * dout (n), out the tanh OUTPUT; dinp may be dout */
void sift_cpu_tanh_backward(float *dinp, const float *out, const float *dout,
			    size_t n);

/* dqkv (N,3C) = attention'(dout (N,C)) given qkv (N,3C), att (the
 * probabilities before dropout, packed per example: sift_att_offset) and
 * offs (B+1); dropout p, seed as in the forward call; datt, of the size
 * of att, is scratch; T, the longest example, is not used here */
void sift_cpu_attention_backward(float *dqkv, float *datt, const float *dout,
				 const float *qkv, const float *att,
				 const int32_t *offs, int B, int T, int C,
				 int NH, float p, uint64_t seed);

/* dinp (N,C) rows[i] += dout (M,C) row i; rows (M) */
void sift_cpu_scatter_rows_backward(float *dinp, const float *dout,
				    const int32_t *rows, int M, int C);

/* dlogits (M,L) = (probs (M,L) - onehot(targets (M))) * scale, zero
 * rows where the target is -100 */
void sift_cpu_crossentropy_backward(float *dlogits, const float *probs,
				    const int32_t *targets, int M, int L,
				    float scale);

/* torch.optim.AdamW on n parameters at 1-based step t:
 *   p *= 1 - lr*wd; m = lerp(m, g, 1-beta1); v = beta2 v + (1-beta2) g^2;
 *   p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
 * params, grads, m, v are (n) */
void sift_cpu_adamw_update(float *params, const float *grads, float *m,
			   float *v, size_t n, float lr, float beta1,
			   float beta2, float eps, float weight_decay, int t);

#endif
