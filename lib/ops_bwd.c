/* ops_bwd.c: the CPU backward ops and AdamW of the op table (lib/backend.h). */
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>
#include <cblas.h>

#include "hot.h"
#include "backend.h"	/* defines: sift_att_offset */
#include "ops_bwd.h"
#include "rng.h"	/* defines: sift_hash_key, sift_hash_drop */

/* below this many elements a parallel region costs more than it saves */
#define PAR_MIN 16384

void sift_cpu_embed_backward(float *dwte, float *dwpe, float *dwtt,
			     const float *dout, const int32_t *ids,
			     const int32_t *type_ids, const int32_t *pos,
			     int N, int C)
{
	/* parallel over columns, rows in order inside: deterministic and
	 * free of write conflicts whatever ids repeat */
	#pragma omp parallel for if ((size_t)N * C > PAR_MIN)
	for (int i = 0; i < C; i++)
		for (int r = 0; r < N; r++) {
			float g = dout[(size_t)r * C + i];
			if (dwte)
				dwte[(size_t)ids[r] * C + i] += g;
			if (dwpe)
				dwpe[(size_t)pos[r] * C + i] += g;
			if (dwtt)
				dwtt[(size_t)(type_ids ? type_ids[r] : 0) * C + i] += g;
		}
}


/* columns summed over rows per tile: each column's sum runs over the
 * rows in order, as a loop over one column would, but the tile's rows
 * are read contiguously */
#define COL_TILE 64

/* the sums over the N rows of columns c0.. c0+COL_TILE (or to C) of dy
 * (N,C) into db (C) and, with x (N,C), mean and rstd (N), of
 * dy * xhat into dw (C) */
HOT static void col_sums(float *db, float *dw, const float *dy,
			 const float *x, const float *mean, const float *rstd,
			 int N, int C, int c0)
{
	float sb[COL_TILE], sw[COL_TILE];
	int w = C - c0 < COL_TILE ? C - c0 : COL_TILE;
	for (int j = 0; j < w; j++)
		sb[j] = sw[j] = 0.0f;
	for (int n = 0; n < N; n++) {
		const float *d = dy + (size_t)n * C + c0;
		for (int j = 0; j < w; j++)
			sb[j] += d[j];
		if (dw) {
			const float *xr = x + (size_t)n * C + c0;
			float mu = mean[n], rs = rstd[n];
			for (int j = 0; j < w; j++)
				sw[j] += d[j] * ((xr[j] - mu) * rs);
		}
	}
	if (db)
		for (int j = 0; j < w; j++)
			db[c0 + j] += sb[j];
	if (dw)
		for (int j = 0; j < w; j++)
			dw[c0 + j] += sw[j];
}

void sift_cpu_matmul_backward(float *dinp, float *dweight, float *dbias,
			      const float *dout, const float *inp,
			      const float *weight, int N, int C, int OC)
{
	if (N <= 0) {
		return;
	}
	size_t work = (size_t)N * C * OC;
	/* dinp (N,C) = dout (N,OC) @ weight (OC,C): tiles of rows, as the
	 * forward cuts them (by the row count alone, one sgemm each) */
	if (dinp) {
		int k = sift_cpu_tiles(N);
		int nt = sift_cpu_gemm_threads(work, k);
		#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
		for (int t = 0; t < k; t++) {
			int r0 = sift_cpu_tile(N, k, t), r1 = sift_cpu_tile(N, k, t + 1);
			if (r1 > r0)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
					    r1 - r0, C, OC, 1.0f, dout + (size_t)r0 * OC, OC,
					    weight, C, 0.0f, dinp + (size_t)r0 * C, C);
		}
	}
	/* dweight (OC,C) += dout^T (OC,N) @ inp (N,C): tiles of output rows */
	if (dweight) {
		int k = sift_cpu_tiles(OC);
		int nt = sift_cpu_gemm_threads(work, k);
		#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
		for (int t = 0; t < k; t++) {
			int o0 = sift_cpu_tile(OC, k, t), o1 = sift_cpu_tile(OC, k, t + 1);
			if (o1 > o0)
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
					    o1 - o0, C, N, 1.0f, dout + o0, OC, inp, C,
					    1.0f, dweight + (size_t)o0 * C, C);
		}
	}
	if (dbias) {
		/* tiles of columns over the threads, rows in order inside */
		int ntile = (OC + COL_TILE - 1) / COL_TILE;
		#pragma omp parallel for if ((size_t)N * OC > PAR_MIN)
		for (int tl = 0; tl < ntile; tl++)
			col_sums(dbias, NULL, dout, NULL, NULL, NULL, N, OC,
				 tl * COL_TILE);
	}
}

void sift_cpu_layernorm_backward(float *dinp, float *dweight, float *dbias,
				 const float *dout, const float *inp,
				 const float *weight, const float *mean,
				 const float *rstd, int N, int C)
{
	/* parameter gradients first: dinp may not alias, but keep dout
	 * reads before any write for clarity */
	if (dweight || dbias) {
		int ntile = (C + COL_TILE - 1) / COL_TILE;
		#pragma omp parallel for if ((size_t)N * C > PAR_MIN)
		for (int tl = 0; tl < ntile; tl++)
			col_sums(dbias, dweight, dout, inp, mean, rstd, N, C,
				 tl * COL_TILE);
	}
	if (!dinp)
		return;
	#pragma omp parallel for if ((size_t)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		const float *x = inp + (size_t)n * C;
		const float *dy = dout + (size_t)n * C;
		float *dx = dinp + (size_t)n * C;
		float mu = mean[n], rs = rstd[n];
		/* dx = rs * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w */
		float gmean = 0.0f, gxmean = 0.0f;
		for (int i = 0; i < C; i++) {
			float g = dy[i] * weight[i];
			gmean += g;
			gxmean += g * ((x[i] - mu) * rs);
		}
		gmean /= C;
		gxmean /= C;
		for (int i = 0; i < C; i++) {
			float xhat = (x[i] - mu) * rs;
			float g = dy[i] * weight[i];
			dx[i] = rs * (g - gmean - xhat * gxmean);
		}
	}
}

void sift_cpu_residual_layernorm_backward(float *dinp, float *dweight,
					  float *dbias, float *da,
					  const float *db, const float *inp,
					  const float *weight, const float *mean,
					  const float *rstd, int N, int C)
{
	sift_cpu_residual_forward(da, da, db, (size_t)N * C);
	sift_cpu_layernorm_backward(dinp, dweight, dbias, da, inp, weight, mean,
				    rstd, N, C);
}

/* e^x, x clamped to [-80, 88] (no subnormal results, which are slow):
 * x = n ln2 + r, |r| <= ln2/2, e^r by its Taylor polynomial to r^6
 * (relative error below 1e-7), 2^n from the exponent bits; branch-free,
 * so the loops calling it vectorize */
static inline float exp_poly(float x)
{
	x = x < -80.0f ? -80.0f : x;
	x = x > 88.0f ? 88.0f : x;
	float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;	/* rint */
	float r = x - n * 0.693145752f;		/* ln2, high bits */
	r = r - n * 1.42860677e-6f;		/* ln2, the rest */
	float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f +
		  r * (0.0416666679f + r * (0.00833333377f + r * 0.00138888892f)))));
	uint32_t e = ((uint32_t)(int32_t)n + 127u) << 23;	/* NaN x: NaN p */
	float s;
	memcpy(&s, &e, sizeof s);
	return p * s;
}

/* GELU's derivative Phi(x) + x phi(x) over a span: Phi from erfc's
 * Chebyshev fit with relative error below 1.2e-7 (Numerical Recipes'
 * erfcc), so the tail x << 0 keeps its digits; within 2.2e-7 of the
 * exact derivative for all x (libm's erff and expf: 1.2e-7) */
HOT static void gelu_bwd_span(float *dinp, const float *inp,
			      const float *dout, size_t n)
{
	/* simd: -O2's cost model leaves a loop of unknown length alone */
	#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float x = inp[i];
		float z = fabsf(x) * 0.707106781f;
		float t = 1.0f / (1.0f + 0.5f * z);
		float q = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f +
			  t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f +
			  t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f +
			  t * 0.17087277f))))))));
		float tail = 0.5f * t * exp_poly(q);	/* Phi(-|x|) */
		float cdf = x < 0.0f ? tail : 1.0f - tail;
		float pdf = exp_poly(-0.5f * x * x) * 0.398942280f;
		dinp[i] = dout[i] * (cdf + x * pdf);
	}
}

void sift_cpu_gelu_backward(float *dinp, const float *inp, const float *dout,
			    size_t n)
{
	size_t chunk = 4096, nch = (n + chunk - 1) / chunk;
	#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * chunk, len = n - i0 < chunk ? n - i0 : chunk;
		gelu_bwd_span(dinp + i0, inp + i0, dout + i0, len);
	}
}

void sift_cpu_tanh_backward(float *dinp, const float *out, const float *dout,
			    size_t n)
{
	for (size_t i = 0; i < n; i++)
		dinp[i] = dout[i] * (1.0f - out[i] * out[i]);
}

/* x . y over n floats in 8 interleaved partial sums, added in a fixed
 * order: vectorizable, and the same bits in every clone and on any
 * number of threads */
static inline float dot8(const float *x, const float *y, int n)
{
	float s[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
	int d = 0;
	for (; d + 8 <= n; d += 8)
		for (int j = 0; j < 8; j++)
			s[j] += x[d + j] * y[d + j];
	for (; d < n; d++)
		s[d & 7] += x[d] * y[d];
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* y += a x over n floats; y and x do not overlap (blocks of 8, which
 * -O2 vectorizes; each element as in a plain loop) */
static inline void axpy(float *restrict y, float a, const float *restrict x,
			int n)
{
	int d = 0;
	for (; d + 8 <= n; d += 8)
		for (int j = 0; j < 8; j++)
			y[d + j] += a * x[d + j];
	for (; d < n; d++)
		y[d] += a * x[d];
}

/* the backward pass of one head of one example: its len rows start at
 * row r0; A and D are its (len,len) probabilities and scratch; base is
 * the dropout counter of its first probability */
HOT static void attention_head_bwd(float *dqkv, float *D, const float *dout,
				   const float *qkv, const float *A, int r0,
				   int len, int C, int h, int hs, float scale,
				   float p, float keep, uint64_t seed,
				   uint64_t base)
{
	size_t C3 = 3 * (size_t)C;
	uint64_t key = sift_hash_key(seed);
	for (int t = 0; t < len; t++) {
		const float *dy = dout + (size_t)(r0 + t) * C + h * hs;
		const float *a = A + (size_t)t * len;
		float *da = D + (size_t)t * len;
		/* dP' = dout v^T; dv += P'^T dout; dP = dP' * dropout mask */
		for (int t2 = 0; t2 < len; t2++) {
			float m = 1.0f;
			if (p > 0.0f)
				m = sift_hash_drop(key, base + (uint64_t)t * len + t2, p)
				    ? 0.0f : keep;
			const float *v = qkv + (size_t)(r0 + t2) * C3 + 2 * C + h * hs;
			da[t2] = dot8(dy, v, hs) * m;
			float w = a[t2] * m;
			if (w != 0.0f)
				axpy(dqkv + (size_t)(r0 + t2) * C3 + 2 * C + h * hs,
				     w, dy, hs);
		}
		/* softmax: dS = P * (dP - sum(dP * P)), times the score scale */
		float dot = dot8(da, a, len);
		for (int t2 = 0; t2 < len; t2++)
			da[t2] = a[t2] * (da[t2] - dot) * scale;
		/* dq_t = sum dS k; dk_t2 += dS q_t */
		const float *q = qkv + (size_t)(r0 + t) * C3 + h * hs;
		float *dq = dqkv + (size_t)(r0 + t) * C3 + h * hs;
		for (int t2 = 0; t2 < len; t2++) {
			float g = da[t2];
			const float *k = qkv + (size_t)(r0 + t2) * C3 + C + h * hs;
			float *dk = dqkv + (size_t)(r0 + t2) * C3 + C + h * hs;
			axpy(dq, g, k, hs);
			axpy(dk, g, q, hs);
		}
	}
}

void sift_cpu_attention_backward(float *dqkv, float *datt, const float *dout,
				 const float *qkv, const float *att,
				 const int32_t *offs, int B, int T, int C,
				 int NH, float p, uint64_t seed)
{
	(void)T;
	int hs = C / NH;
	size_t C3 = 3 * (size_t)C;
	float scale = 1.0f / sqrtf((float)hs);
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	int N = offs[B];
	memset(dqkv, 0, (size_t)N * C3 * sizeof *dqkv);
	/* one (b,h) per iteration: it alone writes the columns of head h in
	 * the rows of example b, so no two iterations touch the same float */
	#pragma omp parallel for collapse(2) schedule(static) if ((size_t)N * C > PAR_MIN / 4)
	for (int b = 0; b < B; b++)
	for (int h = 0; h < NH; h++) {
		int r0 = offs[b], len = offs[b + 1] - offs[b];
		size_t base = sift_att_offset(offs, b, NH) + (size_t)h * len * len;
		attention_head_bwd(dqkv, datt + base, dout, qkv, att + base, r0, len,
				   C, h, hs, scale, p, keep, seed, base);
	}
}

void sift_cpu_scatter_rows_backward(float *dinp, const float *dout,
				    const int32_t *rows, int M, int C)
{
	for (int i = 0; i < M; i++) {
		float *d = dinp + (size_t)rows[i] * C;
		const float *g = dout + (size_t)i * C;
		for (int c = 0; c < C; c++)
			d[c] += g[c];
	}
}

void sift_cpu_crossentropy_backward(float *dlogits, const float *probs,
				    const int32_t *targets, int M, int L,
				    float scale)
{
	for (int i = 0; i < M; i++) {
		float *d = dlogits + (size_t)i * L;
		const float *pr = probs + (size_t)i * L;
		if (targets[i] < 0 || targets[i] >= L) {
			memset(d, 0, (size_t)L * sizeof *d);
			continue;
		}
		for (int j = 0; j < L; j++)
			d[j] = (pr[j] - (j == targets[i] ? 1.0f : 0.0f)) * scale;
	}
}

/* one span of AdamW; each element on its own, in torch's order */
HOT static void adamw_span(float *params, const float *grads, float *m,
			   float *v, size_t n, float step_size, float bc2_sqrt,
			   float wd, int decay, float beta2, float w1, float w2,
			   float eps)
{
	for (size_t i = 0; i < n; i++) {
		float g = grads[i];
		float pp = params[i];
		if (decay)
			pp *= wd;
		float mi = m[i] + w1 * (g - m[i]);	/* exp_avg.lerp_(grad, 1-beta1) */
		float vi = v[i] * beta2 + w2 * g * g;
		m[i] = mi;
		v[i] = vi;
		float denom = sqrtf(vi) / bc2_sqrt + eps;
		params[i] = pp - step_size * (mi / denom);
	}
}

void sift_cpu_adamw_update(float *params, const float *grads, float *m,
			   float *v, size_t n, float lr, float beta1,
			   float beta2, float eps, float weight_decay, int t)
{
	/* the scalars in double, as torch computes them in Python floats,
	 * then rounded once to float as torch's CPU kernels do; the betas
	 * come as floats, so they are first taken back to the decimal they
	 * were written as (0.999f -> 0.999), 7 significant digits */
	double b1 = round((double)beta1 * 1e7) / 1e7;
	double b2 = round((double)beta2 * 1e7) / 1e7;
	double bc1 = 1.0 - pow(b1, (double)t);
	double bc2 = 1.0 - pow(b2, (double)t);
	float step_size = (float)((double)lr / bc1);
	float bc2_sqrt = (float)sqrt(bc2);
	float wd = (float)(1.0 - (double)lr * (double)weight_decay);
	float w1 = (float)(1.0 - b1), w2 = (float)(1.0 - b2);
	int decay = weight_decay != 0.0f;
	size_t chunk = 16384, nch = (n + chunk - 1) / chunk;
	#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * chunk, len = n - i0 < chunk ? n - i0 : chunk;
		adamw_span(params + i0, grads + i0, m + i0, v + i0, len, step_size,
			   bc2_sqrt, wd, decay, beta2, w1, w2, eps);
	}
}
