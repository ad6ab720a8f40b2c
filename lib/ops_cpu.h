/* ops_cpu.h: the CPU backend's ops, forward and backward, and the rules that make its bits independent of the thread count. */
#ifndef SIFT_OPS_CPU_H
#define SIFT_OPS_CPU_H

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

/*
 * Determinism on the CPU: the same bits for any thread count.  No BLAS
 * call's set or shape depends on the threads: a product's rows are cut
 * into sift_cpu_tiles(rows) tiles by the row count alone (a power of
 * two, at most SIFT_CPU_TILES_MAX, none under SIFT_CPU_TILE_MIN rows but
 * a lone one), each tile one sgemm with OpenBLAS on one thread, and the
 * threads only share the tiles out.  Inference cuts a batch's examples
 * into groups by the same rule.  Every other loop computes each output
 * element in one thread in a fixed order, and reductions run a fixed
 * lane count in every ISA clone.
 */
#define SIFT_CPU_TILES_MAX 16
#define SIFT_CPU_TILE_MIN 128

/* the threads over which the CPU ops may share work out: the OpenMP
 * threads, or 1 inside a parallel region (lib/backend_cpu.c); outside one it
 * first puts OpenBLAS on one thread, so every product goes through it */
int sift_cpu_split_threads(void);
/* the threads for a product of work = m*n*k multiply-adds cut into tiles
 * tiles: sift_cpu_split_threads(), at most tiles, 1 for a small product */
int sift_cpu_gemm_threads(size_t work, int tiles);
/* the tile count for rows rows (1, 2, 4 .. SIFT_CPU_TILES_MAX) */
int sift_cpu_tiles(int rows);
/* the first row of tile i of k (i = k gives rows): the even cut,
 * rows * i / k, so that tiles differ by one row at most */
int sift_cpu_tile(int rows, int k, int i);
/*
 * What the CPU backend's bits depend on besides the inputs (the thread
 * count is not among them): the BLAS library with its version and the
 * kernel core it chose, and the ISA clone of the HOT loops, as one line
 * such as "OpenBLAS 0.3.21 DYNAMIC_ARCH ...; core Zen; clone avx2", and
 * "; bf16 oneDNN 2.6.3 matmul" after it under --precision bf16.
 * Recorded in train_state.bin; a resume on another machine warns.
 */
const char *sift_cpu_describe(void);
/* the library of the fp32 products' tiles, fixed at start: "OpenBLAS
 * sgemm" (the reference) or "oneDNN 2.6.3 sgemm" (SIFT_GEMM, and the
 * default on CPUs with AVX-512 in a build with oneDNN: lib/cpu_matmul.c) */
const char *sift_cpu_gemm_name(void);
/* choose that library: "openblas", "dnnl" (a build with oneDNN), or NULL
 * or "" for the default; -1 for any other name.  Done once at start from
 * SIFT_GEMM; to be called before any product, never while one runs */
int sift_cpu_gemm_select(const char *name);
/* 1 when the fp32 products run on oneDNN, whose matmul can read weights
 * packed once (sift_cpu_f32_pack, lib/cpu_bf16.h), else 0 */
int sift_cpu_gemm_packs(void);

/* the forward ops, in lib/cpu_<family>.c (the table points at these) */
void sift_cpu_embed_forward(float *out, const int32_t *ids,
			    const int32_t *type_ids, const int32_t *pos,
			    const float *wte, const float *wpe,
			    const float *wtt, int N, int C);
void sift_cpu_matmul_forward(float *out, const float *inp,
			     const float *weight, const float *bias, int N,
			     int C, int OC);
void sift_cpu_layernorm_forward(float *out, float *mean, float *rstd,
				const float *inp, const float *weight,
				const float *bias, int N, int C, float eps);
void sift_cpu_gelu_forward(float *out, const float *inp, size_t n);
void sift_cpu_tanh_forward(float *out, const float *inp, size_t n);
void sift_cpu_attention_forward(float *out, float *att, const float *qkv,
				const int32_t *offs, int B, int T, int C,
				int NH, float p, uint64_t seed);
void sift_cpu_residual_forward(float *out, const float *a, const float *b,
			       size_t n);
void sift_cpu_dropout_forward(float *out, const float *inp, size_t n,
			      float p, uint64_t seed, uint64_t counter);
void sift_cpu_gather_rows_forward(float *out, const float *inp,
				  const int32_t *rows, int M, int C);
void sift_cpu_softmax_forward(float *probs, const float *logits, int M,
			      int L);
void sift_cpu_crossentropy_forward(float *losses, const float *probs,
				   const int32_t *targets, int M, int L,
				   const float *weight, float eps);
void sift_cpu_residual_layernorm_forward(float *res, float *out, float *mean,
					 float *rstd, const float *a,
					 const float *b, const float *weight,
					 const float *bias, int N, int C,
					 float eps);


/* the backward ops and the optimizer, in lib/cpu_<family>.c */
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
				    const float *weight, float eps,
				    float scale);

/* torch.optim.AdamW on n parameters at 1-based step t, of the clipped
 * gradient g = grads * gscale (gscale 1: grads as they are):
 *   p *= 1 - lr*wd; m = lerp(m, g, 1-beta1); v = beta2 v + (1-beta2) g^2;
 *   p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
 * params, grads, m, v are (n) */
void sift_cpu_adamw_update(float *params, const float *grads, float *m,
			   float *v, size_t n, float lr, float beta1,
			   float beta2, float eps, float weight_decay, int t,
			   float gscale);

/* the CPU backend's sumsq and scale slots (host memory): x is (n) */
double sift_cpu_sumsq(const float *x, size_t n);
void sift_cpu_scale(float *x, size_t n, float s);

/* adamw_update and sumsq with the rows r < zrows of C floats at zoff
 * whose live[r] is not SIFT_ROW_LIVE taken as zero, unread, and those
 * SIFT_ROW_FRESH given the decay alone (lib/backend.h) */
void sift_cpu_adamw_update_rows(float *params, const float *grads, float *m,
				float *v, size_t n, float lr, float beta1,
				float beta2, float eps, float weight_decay,
				int t, float gscale, size_t zoff, size_t zrows,
				int C, const unsigned char *live);
double sift_cpu_sumsq_rows(const float *x, size_t n, size_t zoff,
			   size_t zrows, int C, const unsigned char *live);

#endif
