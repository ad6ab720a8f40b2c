/* cpu_adamw.c: AdamW, the sum of squares and the scaling of the gradient-norm clip on the CPU (twin of kernels/adamw.cu). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */
#include "stream.h"	/* defines: sift_xcalloc */

/* one span of AdamW; each element on its own, in torch's order, the
 * clip's product first (torch's grad.mul_(clip_coef)); wd is 1 without
 * decay (p * 1 is p).  simd: one pass at memory speed, 28 bytes a
 * parameter; sqrt and division are IEEE in every width, so the clones
 * agree bit for bit (the Makefile builds this file with -fno-math-errno,
 * which lets sqrtf vectorise: v >= 0, errno is never set) */
HOT static void adamw_span(float *params, const float *grads, float *m,
		       float *v, size_t n, float step_size, float bc2_sqrt,
		       float wd, float gscale, float beta2, float w1, float w2,
		       float eps)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float g = grads[i] * gscale;
		float pp = params[i] * wd;
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
			   float beta2, float eps, float weight_decay, int t,
			   float gscale)
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
	float wd = weight_decay != 0.0f ?
		(float)(1.0 - (double)lr * (double)weight_decay) : 1.0f;
	float w1 = (float)(1.0 - b1), w2 = (float)(1.0 - b2);
	size_t chunk = 16384, nch = (n + chunk - 1) / chunk;
	#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * chunk, len = n - i0 < chunk ? n - i0 : chunk;
		adamw_span(params + i0, grads + i0, m + i0, v + i0, len, step_size,
			   bc2_sqrt, wd, gscale, beta2, w1, w2, eps);
	}
}

#define CHUNK 16384

/* the sum of squares of a chunk: 16 lanes, then the lanes in double, so
 * that it vectorises and still gives the same bits everywhere */
HOT static double sumsq(const float *g, size_t n)
{
	float lane[16] = { 0 };
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		for (int j = 0; j < 16; j++)
			lane[j] += g[i + j] * g[i + j];
	double s = 0.0;
	for (int j = 0; j < 16; j++)
		s += lane[j];
	for (; i < n; i++)
		s += (double)g[i] * g[i];
	return s;
}

HOT static void scale_span(float *g, size_t n, float c)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		g[i] *= c;
}

/* the chunks of 16384 floats are summed in parallel, then in order */
double sift_cpu_sumsq(const float *x, size_t n)
{
	size_t nch = (n + CHUNK - 1) / CHUNK;
	double *part = sift_xcalloc(nch ? nch : 1, sizeof *part);
	#pragma omp parallel for if (nch > 1)
	for (size_t c = 0; c < nch; c++) {
		size_t end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
		part[c] = sumsq(x + c * CHUNK, end - c * CHUNK);
	}
	double s = 0.0;
	for (size_t c = 0; c < nch; c++)
		s += part[c];
	free(part);
	return s;
}

void sift_cpu_scale(float *x, size_t n, float s)
{
	size_t nch = (n + CHUNK - 1) / CHUNK;
	#pragma omp parallel for if (nch > 1)
	for (size_t c = 0; c < nch; c++) {
		size_t end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
		scale_span(x + c * CHUNK, end - c * CHUNK, s);
	}
}
