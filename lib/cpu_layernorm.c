/* cpu_layernorm.c: LayerNorm on the CPU, alone and fused with the residual add, forward and backward (twin of kernels/layernorm.cu). */
#include <math.h>
#include <stddef.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */

/* a row's sums run in 8 double lanes (element c into lane c % 8), then
 * the lanes pairwise, then the tail: one order in every clone, whatever
 * its vector width */
#define LANES 8
static inline double lanes_sum(const double *l)
{
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* one row: mean and variance in double, as sums in a fixed order */
HOT static void layernorm_row(float *o, float *mean, float *rstd,
			      const float *x, const float *weight,
			      const float *bias, int C, float eps)
{
	double l[LANES] = { 0 };
	int c0 = C - C % LANES;
	for (int c = 0; c < c0; c += LANES)
#pragma omp simd
		for (int j = 0; j < LANES; j++)
			l[j] += x[c + j];
	double s = lanes_sum(l);
	for (int c = c0; c < C; c++)
		s += x[c];
	float m = (float)(s / C);
	for (int j = 0; j < LANES; j++)
		l[j] = 0.0;
	for (int c = 0; c < c0; c += LANES)
#pragma omp simd
		for (int j = 0; j < LANES; j++) {
			double d = x[c + j] - m;
			l[j] += d * d;
		}
	double v = lanes_sum(l);
	for (int c = c0; c < C; c++) {
		double d = x[c] - m;
		v += d * d;
	}
	float rs = (float)(1.0 / sqrt(v / C + eps));
#pragma omp simd
	for (int c = 0; c < C; c++)
		o[c] = (x[c] - m) * rs * weight[c] + bias[c];
	if (mean)
		*mean = m;
	if (rstd)
		*rstd = rs;
}

void sift_cpu_layernorm_forward(float *out, float *mean, float *rstd,
				const float *inp, const float *weight,
				const float *bias, int N, int C, float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)N * C > PAR_MIN)
	for (int r = 0; r < N; r++)
		layernorm_row(out + (size_t)r * C, mean ? mean + r : NULL,
			      rstd ? rstd + r : NULL, inp + (size_t)r * C,
			      weight, bias, C, eps);
}

void sift_cpu_residual_layernorm_forward(float *res, float *out, float *mean,
					 float *rstd, const float *a,
					 const float *b, const float *weight,
					 const float *bias, int N, int C,
					 float eps)
{
	/* row by row: the sum is still in the cache when it is normalised */
#pragma omp parallel for schedule(static) if ((size_t)N * C > PAR_MIN)
	for (int r = 0; r < N; r++) {
		size_t o = (size_t)r * C;
		sift_cpu_add_span(res + o, a + o, b + o, (size_t)C);
		layernorm_row(out + o, mean ? mean + r : NULL,
			      rstd ? rstd + r : NULL, res + o, weight, bias, C,
			      eps);
	}
}

/* declared, with its contract, in lib/cpu_common.h (matmul's bias
 * gradient uses it too) */
HOT void sift_cpu_col_sums(float *db, float *dw, const float *dy,
		      const float *x, const float *mean, const float *rstd,
		      int N, int C, int c0)
{
	float sb[COL_TILE], sw[COL_TILE];
	int w = C - c0 < COL_TILE ? C - c0 : COL_TILE;
	for (int j = 0; j < w; j++)
		sb[j] = sw[j] = 0.0f;
	/* simd across the tile's columns: each column still sums its
	 * rows in order */
	for (int n = 0; n < N; n++) {
		const float *d = dy + (size_t)n * C + c0;
#pragma omp simd
		for (int j = 0; j < w; j++)
			sb[j] += d[j];
		if (dw) {
			const float *xr = x + (size_t)n * C + c0;
			float mu = mean[n], rs = rstd[n];
#pragma omp simd
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

/* one row of the input gradient: dx = rs * (g - mean(g) - xhat *
 * mean(g * xhat)), g = dy * w; the two means summed in order (as
 * before: their bits), the row itself vectorised; dx may be dy */
HOT static void ln_bwd_row(float *dx, const float *dy, const float *x,
			   const float *weight, float mu, float rs, int C)
{
	float gmean = 0.0f, gxmean = 0.0f;
	for (int i = 0; i < C; i++) {
		float g = dy[i] * weight[i];
		gmean += g;
		gxmean += g * ((x[i] - mu) * rs);
	}
	gmean /= C;
	gxmean /= C;
#pragma omp simd
	for (int i = 0; i < C; i++) {
		float xhat = (x[i] - mu) * rs;
		float g = dy[i] * weight[i];
		dx[i] = rs * (g - gmean - xhat * gxmean);
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
			sift_cpu_col_sums(dbias, dweight, dout, inp, mean, rstd, N, C,
				 tl * COL_TILE);
	}
	if (!dinp)
		return;
	#pragma omp parallel for if ((size_t)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		size_t o = (size_t)n * C;
		ln_bwd_row(dinp + o, dout + o, inp + o, weight, mean[n], rstd[n], C);
	}
}

void sift_cpu_residual_layernorm_backward(float *dinp, float *dweight,
					  float *dbias, float *da,
					  const float *db, const float *inp,
					  const float *weight, const float *mean,
					  const float *rstd, int N, int C)
{
	/* the rows first: da += db, then the input gradient of the row
	 * while the sum is in the cache (dinp may be db: the row of db is
	 * read before it is written); then the column sums over da, the
	 * same sums as layernorm_backward's */
	#pragma omp parallel for if ((size_t)N * C > PAR_MIN)
	for (int n = 0; n < N; n++) {
		size_t o = (size_t)n * C;
		sift_cpu_add_span(da + o, da + o, db + o, (size_t)C);
		ln_bwd_row(dinp + o, da + o, inp + o, weight, mean[n], rstd[n], C);
	}
	if (dweight || dbias) {
		int ntile = (C + COL_TILE - 1) / COL_TILE;
		#pragma omp parallel for if ((size_t)N * C > PAR_MIN)
		for (int tl = 0; tl < ntile; tl++)
			sift_cpu_col_sums(dbias, dweight, da, inp, mean, rstd, N, C,
					  tl * COL_TILE);
	}
}
