/* cpu_elementwise.c: the elementwise ops on the CPU: GELU, tanh, the residual add and dropout, forward and backward (twin of kernels/elementwise.cu). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */
#include "rng.h"	/* defines: sift_hash_key, sift_hash_drop (dropout) */

/* erf(x) as Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7),
 * the formula of PyTorch's own vectorized erf */
#pragma omp declare simd notinbranch
static inline float verff(float x)
{
	float a = __builtin_fabsf(x);
	float t = 1.0f / (1.0f + 0.3275911f * a);
	float y = 1.061405429f;
	y = y * t - 1.453152027f;
	y = y * t + 1.421413741f;
	y = y * t - 0.284496736f;
	y = y * t + 0.254829592f;
	y = 1.0f - y * t * sift_vexpf(-a * a);
	return __builtin_copysignf(y, x);
}

HOT static void gelu_span(float *out, const float *inp, size_t n)
{
	const float s = 0.70710678118654752f;
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float x = inp[i];
		out[i] = 0.5f * x * (1.0f + verff(x * s));
	}
}

void sift_cpu_gelu_forward(float *out, const float *inp, size_t n)
{
	/* in chunks, so that each thread takes a fixed part */
	size_t chunk = 16384, nch = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t a = c * chunk, len = n - a < chunk ? n - a : chunk;
		gelu_span(out + a, inp + a, len);
	}
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
		float tail = 0.5f * t * sift_vexpf(q);	/* Phi(-|x|) */
		float cdf = x < 0.0f ? tail : 1.0f - tail;
		float pdf = sift_vexpf(-0.5f * x * x) * 0.398942280f;
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

void sift_cpu_tanh_forward(float *out, const float *inp, size_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t i = 0; i < n; i++)
		out[i] = tanhf(inp[i]);
}

void sift_cpu_tanh_backward(float *dinp, const float *out, const float *dout,
			    size_t n)
{
	for (size_t i = 0; i < n; i++)
		dinp[i] = dout[i] * (1.0f - out[i] * out[i]);
}

/* out = a + b over a span; shared with lib/cpu_layernorm.c */
HOT void sift_cpu_add_span(float *out, const float *a, const float *b, size_t n)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] + b[i];
}

void sift_cpu_residual_forward(float *out, const float *a, const float *b,
			       size_t n)
{
	size_t chunk = 16384, nch = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * chunk, len = n - i0 < chunk ? n - i0 : chunk;
		sift_cpu_add_span(out + i0, a + i0, b + i0, len);
	}
}

/* the dropout of lib/backend.h over one span (its counters from c0):
 * every element is loaded and scaled, then the mask selects, so that
 * the loop vectorises (a load under the condition does not); the top 24
 * bits of the hash go to float through int32, exactly as through
 * uint64 (sift_hash_drop), with the vector conversions of AVX2 too */
HOT static void dropout_span(float *out, const float *inp, size_t n, float p,
			     float keep, uint64_t key, uint64_t c0)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float x = inp[i] * keep;
		int32_t h = (int32_t)(sift_hash64_keyed(key, c0 + i) >> 40);
		out[i] = (float)h * (1.0f / 16777216.0f) < p ? 0.0f : x;
	}
}

void sift_cpu_dropout_forward(float *out, const float *inp, size_t n,
			      float p, uint64_t seed, uint64_t counter)
{
	if (p <= 0.0f) {
		if (out != inp)
			memcpy(out, inp, n * sizeof(float));
		return;
	}
	float keep = 1.0f / (1.0f - p);
	uint64_t key = sift_hash_key(seed);
	size_t nch = (n + 16383) / 16384;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * 16384, i1 = i0 + 16384 < n ? i0 + 16384 : n;
		dropout_span(out + i0, inp + i0, i1 - i0, p, keep, key, counter + i0);
	}
}
