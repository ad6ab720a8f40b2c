/* ops_bwd.h: backward passes of the encoder ops, cross-entropy and dropout on the CPU. */
#ifndef SIFT_OPS_BWD_H
#define SIFT_OPS_BWD_H

#include <stdint.h>

/*
 * Conventions (as llm.c): N is the number of rows (B*T), C the width.
 * Every gradient output is ACCUMULATED (+=), so that residual branches
 * add up and gradient accumulation over micro-batches is free; a NULL
 * gradient pointer skips that gradient (a frozen parameter, or an input
 * whose gradient nobody needs).  Callers zero the buffers first.
 */

/* out (N,OC) = inp (N,C) @ weight (OC,C)^T + bias (OC)
 * dinp (N,C), dweight (OC,C), dbias (OC) from dout (N,OC) */
void matmul_backward(float *dinp, float *dweight, float *dbias,
		     const float *dout, const float *inp, const float *weight,
		     int N, int C, int OC);

/* out (N,C) = (inp - mean) * rstd * weight + bias, per row;
 * mean (N), rstd (N) saved by the forward pass */
void layernorm_backward(float *dinp, float *dweight, float *dbias,
			const float *dout, const float *inp,
			const float *weight, const float *mean,
			const float *rstd, int N, int C);

/* out (N) = inp * Phi(inp), the exact (erf) GELU of BERT */
void gelu_backward(float *dinp, const float *inp, const float *dout, int N);

/* out (N) = tanh(inp): the pooler; from the OUTPUT out */
void tanh_backward(float *dinp, const float *out, const float *dout, int N);

/* out = a + b: both inputs receive dout (N) */
void residual_backward(float *da, float *db, const float *dout, int N);

/*
 * Dropout with a counter-based mask: element i of a call is kept when
 * sift_hash_uniform(seed, counter + i) >= p and then scaled by 1/(1-p),
 * as torch.nn.Dropout (bernoulli(1-p) / (1-p)).  The mask is a pure
 * function of (seed, counter + i), so the backward pass regenerates it
 * instead of storing it, and threads never change it.  p == 0 copies.
 */
/* out (N) from inp (N); out may be inp */
void dropout_forward(float *out, const float *inp, int N, float p,
		     uint64_t seed, uint64_t counter);
/* dinp (N) += mask * dout (N) / (1-p) */
void dropout_backward(float *dinp, const float *dout, int N, float p,
		      uint64_t seed, uint64_t counter);

/*
 * Multi-head self-attention core.  q, k, v are (B,T,NH*HS) views with row
 * stride ld floats (ld = 3*C for a fused qkv buffer, C for separate
 * ones); head h uses columns h*HS .. h*HS+HS-1.  mask (B,T) is 1 for real
 * tokens: a padded key gets -inf before the softmax (HF adds the dtype's
 * minimum; both give probability 0).  att (B,NH,T,T) are the softmax
 * probabilities BEFORE dropout; out (B,T,C) = dropout(att) @ v with
 * dropout counters counter + ((b*NH+h)*T+i)*T+j.
 */
void attention_forward_train(float *out, float *att, const float *q,
			     const float *k, const float *v, int ld,
			     const uint8_t *mask, int B, int T, int NH, int HS,
			     float p, uint64_t seed, uint64_t counter);
/* dq, dk, dv share the layout of q, k, v (row stride ld); dout (B,T,C);
 * scratch holds T*T floats per thread (omp_get_max_threads() * T * T) */
void attention_backward(float *dq, float *dk, float *dv, const float *dout,
			const float *q, const float *k, const float *v, int ld,
			const float *att, int B, int T, int NH, int HS,
			float p, uint64_t seed, uint64_t counter,
			float *scratch);

/*
 * Embeddings: out (B,T,C) = wte[ids] + wpe[t] + wtt[type_ids], then the
 * embedding LayerNorm (done by the caller).  Scatter-adds in a fixed
 * order, so the result is deterministic.  dwte (V,C), dwpe (P,C),
 * dwtt (2,C); any may be NULL (frozen).
 */
void embedding_backward(float *dwte, float *dwpe, float *dwtt,
			const float *dout, const int32_t *ids,
			const int32_t *type_ids, int B, int T, int C);

/*
 * Cross-entropy, torch.nn.CrossEntropyLoss(ignore_index=-100): mean over
 * the rows whose label is not -100.  logits (N,L), labels (N).  Returns
 * the mean loss (0 when no row counts) and writes dlogits (N,L) (NOT
 * accumulated) = (softmax - onehot) * scale / count, 0 on ignored rows.
 * *count gets the number of counted rows.  A label outside [0,L) other
 * than -100 returns NAN.
 */
double crossentropy_forward_backward(float *dlogits, const float *logits,
				     const int32_t *labels, int N, int L,
				     float scale, int *count);

#endif
