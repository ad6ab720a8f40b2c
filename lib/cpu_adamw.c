/* cpu_adamw.c: AdamW, the sum of squares and the scaling of the gradient-norm clip on the CPU (twin of kernels/adamw.cu). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */
#include "stream.h"	/* defines: sift_xcalloc */
#include "backend.h"	/* defines: SIFT_ROW_LIVE, SIFT_ROW_FRESH */

#define INLINE static inline __attribute__((always_inline))

/* the floats of one step of AdamW, the same for every element */
struct adamw_k {
	float step_size, bc2_sqrt, wd, gscale, beta2, w1, w2, eps;
};

/*
 * The rows of a gradient known to be zero (the _rows ops of
 * lib/backend.h): zrows rows of C floats from element zoff, row r
 * zero where live[r] is not SIFT_ROW_LIVE.  Outside them every element
 * counts.
 */
struct zero_rows {
	size_t zoff, zrows;
	size_t C;
	const unsigned char *live;
};

/* the run of elements from p (< end) of one kind: SIFT_ROW_LIVE for
 * elements outside the rows, else the state of their rows; its end
 * into *hi.  z NULL: all of it, live */
static int next_run(const struct zero_rows *z, size_t p, size_t end,
		    size_t *hi)
{
	if (!z) {
		*hi = end;
		return SIFT_ROW_LIVE;
	}
	size_t z0 = z->zoff, z1 = z->zoff + z->zrows * z->C;
	if (p < z0 || p >= z1) {
		*hi = p < z0 && z0 < end ? z0 : end;
		return SIFT_ROW_LIVE;
	}
	size_t r = (p - z0) / z->C, r1 = r + 1;
	int kind = z->live[r];
	while (r1 < z->zrows && z->live[r1] == kind)
		r1++;
	*hi = z0 + r1 * z->C < end ? z0 + r1 * z->C : end;
	return kind;
}

/* the first run of elements that count in [p, end): [*lo, *hi); 0 when
 * there is none */
static int next_live(const struct zero_rows *z, size_t p, size_t end,
		     size_t *lo, size_t *hi)
{
	while (p < end) {
		if (next_run(z, p, end, hi) == SIFT_ROW_LIVE) {
			*lo = p;
			return 1;
		}
		p = *hi;
	}
	return 0;
}

/* one span of AdamW; each element on its own, in torch's order, the
 * clip's product first (torch's grad.mul_(clip_coef)); wd is 1 without
 * decay (p * 1 is p).  zero: the gradient is +0 and grads is not read,
 * which is the same arithmetic as reading a +0 (0 * gscale is +0).
 * simd: one pass at memory speed, 28 bytes a parameter (24 at zero);
 * sqrt and division are IEEE in every width, so the clones agree bit
 * for bit (the Makefile builds this file with -fno-math-errno, which
 * lets sqrtf vectorise: v >= 0, errno is never set) */
INLINE void adamw_span(float *params, const float *grads, float *m, float *v,
		       size_t n, const struct adamw_k *k, int zero)
{
	const float step_size = k->step_size, bc2_sqrt = k->bc2_sqrt;
	const float wd = k->wd, gscale = k->gscale, beta2 = k->beta2;
	const float w1 = k->w1, w2 = k->w2, eps = k->eps;
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float g = zero ? 0.0f : grads[i] * gscale;
		float pp = params[i] * wd;
		float mi = m[i] + w1 * (g - m[i]);	/* exp_avg.lerp_(grad, 1-beta1) */
		float vi = v[i] * beta2 + w2 * g * g;
		m[i] = mi;
		v[i] = vi;
		float denom = sqrtf(vi) / bc2_sqrt + eps;
		params[i] = pp - step_size * (mi / denom);
	}
}

/* the step of a fresh row's elements (m = v = +0, gradient +0): the
 * decay alone.  adamw_span gives the same: m and v stay +0
 * (+0 + w1 * (+0 - +0), +0 * beta2 + w2 * +0 * +0), the denominator is
 * eps, and p * wd - step_size * (+0 / eps) is p * wd, a -0 included;
 * 8 bytes a parameter where adamw_span moves 24 */
INLINE void decay_span(float *params, size_t n, float wd)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		params[i] *= wd;
}

/* AdamW over elements [c0, c1), the zero rows of z without their
 * gradient, the fresh ones with the decay alone */
HOT static void adamw_chunk(float *params, const float *grads, float *m,
			    float *v, size_t c0, size_t c1,
			    const struct adamw_k *k, const struct zero_rows *z)
{
	size_t p = c0, hi;
	while (p < c1) {
		int kind = next_run(z, p, c1, &hi);
		if (kind == SIFT_ROW_LIVE)
			adamw_span(params + p, grads + p, m + p, v + p, hi - p, k, 0);
		else if (kind != SIFT_ROW_FRESH)
			adamw_span(params + p, NULL, m + p, v + p, hi - p, k, 1);
		else if (k->wd != 1.0f)	/* p * 1 is p */
			decay_span(params + p, hi - p, k->wd);
		p = hi;
	}
}

static void adamw(float *params, const float *grads, float *m, float *v,
		  size_t n, float lr, float beta1, float beta2, float eps,
		  float weight_decay, int t, float gscale,
		  const struct zero_rows *z)
{
	/* the scalars in double, as torch computes them in Python floats,
	 * then rounded once to float as torch's CPU kernels do; the betas
	 * come as floats, so they are first taken back to the decimal they
	 * were written as (0.999f -> 0.999), 7 significant digits */
	double b1 = round((double)beta1 * 1e7) / 1e7;
	double b2 = round((double)beta2 * 1e7) / 1e7;
	double bc1 = 1.0 - pow(b1, (double)t);
	double bc2 = 1.0 - pow(b2, (double)t);
	struct adamw_k k = {
		.step_size = (float)((double)lr / bc1),
		.bc2_sqrt = (float)sqrt(bc2),
		.wd = weight_decay != 0.0f ?
			(float)(1.0 - (double)lr * (double)weight_decay) : 1.0f,
		.gscale = gscale,
		.beta2 = beta2,
		.w1 = (float)(1.0 - b1),
		.w2 = (float)(1.0 - b2),
		.eps = eps,
	};
	size_t chunk = 16384, nch = (n + chunk - 1) / chunk;
	#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * chunk, i1 = n - i0 < chunk ? n : i0 + chunk;
		adamw_chunk(params, grads, m, v, i0, i1, &k, z);
	}
}

void sift_cpu_adamw_update(float *params, const float *grads, float *m,
			   float *v, size_t n, float lr, float beta1,
			   float beta2, float eps, float weight_decay, int t,
			   float gscale)
{
	adamw(params, grads, m, v, n, lr, beta1, beta2, eps, weight_decay, t,
	      gscale, NULL);
}

void sift_cpu_adamw_update_rows(float *params, const float *grads, float *m,
				float *v, size_t n, float lr, float beta1,
				float beta2, float eps, float weight_decay,
				int t, float gscale, size_t zoff, size_t zrows,
				int C, const unsigned char *live)
{
	struct zero_rows z = { zoff, zrows, (size_t)C, live };
	adamw(params, grads, m, v, n, lr, beta1, beta2, eps, weight_decay, t,
	      gscale, C > 0 && zrows > 0 ? &z : NULL);
}

#define CHUNK 16384

/* the squares of x[lo, hi) into the 16 lanes, element p into lane
 * (p - c0) % 16, each lane in order of p */
INLINE void sq_lanes(float *lane, const float *x, size_t c0, size_t lo,
		     size_t hi)
{
	float acc[16];
	for (int j = 0; j < 16; j++)
		acc[j] = lane[j];
	size_t p = lo;
	for (; p < hi && (p - c0) % 16; p++)
		acc[(p - c0) % 16] += x[p] * x[p];
	for (; p + 16 <= hi; p += 16)
		for (int j = 0; j < 16; j++)
			acc[j] += x[p + j] * x[p + j];
	for (; p < hi; p++)
		acc[(p - c0) % 16] += x[p] * x[p];
	for (int j = 0; j < 16; j++)
		lane[j] = acc[j];
}

/* the sum of squares of the chunk x[c0, c1): 16 lanes over its whole
 * blocks of 16, then the lanes in double, then the rest in double, so
 * that it vectorises and still gives the same bits everywhere.  The
 * zero rows of z are skipped: a lane that adds +0 keeps its value (its
 * sum is never -0), and so does the double sum, so the bits are those
 * of the whole chunk */
HOT static double sumsq_chunk(const float *x, size_t c0, size_t c1,
			      const struct zero_rows *z)
{
	float lane[16] = { 0 };
	size_t full = c0 + (c1 - c0) / 16 * 16, p = c0, lo, hi;
	while (p < full && next_live(z, p, full, &lo, &hi)) {
		sq_lanes(lane, x, c0, lo, hi);
		p = hi;
	}
	double s = 0.0;
	for (int j = 0; j < 16; j++)
		s += lane[j];
	for (p = full; p < c1 && next_live(z, p, c1, &lo, &hi); p = hi)
		for (size_t i = lo; i < hi; i++)
			s += (double)x[i] * x[i];
	return s;
}

/* the chunks of 16384 floats are summed in parallel, then in order */
static double sumsq(const float *x, size_t n, const struct zero_rows *z)
{
	size_t nch = (n + CHUNK - 1) / CHUNK;
	double *part = sift_xcalloc(nch ? nch : 1, sizeof *part);
	#pragma omp parallel for if (nch > 1)
	for (size_t c = 0; c < nch; c++) {
		size_t end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
		part[c] = sumsq_chunk(x, c * CHUNK, end, z);
	}
	double s = 0.0;
	for (size_t c = 0; c < nch; c++)
		s += part[c];
	free(part);
	return s;
}

double sift_cpu_sumsq(const float *x, size_t n)
{
	return sumsq(x, n, NULL);
}

double sift_cpu_sumsq_rows(const float *x, size_t n, size_t zoff,
			   size_t zrows, int C, const unsigned char *live)
{
	struct zero_rows z = { zoff, zrows, (size_t)C, live };
	return sumsq(x, n, C > 0 && zrows > 0 ? &z : NULL);
}

HOT static void scale_span(float *g, size_t n, float c)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		g[i] *= c;
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
