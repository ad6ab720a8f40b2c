/* cpu_common.h: what the CPU op files share: the parallel threshold, the polynomial exp, the column sums. */
#ifndef SIFT_CPU_COMMON_H
#define SIFT_CPU_COMMON_H

#include <stdint.h>

#include "hot.h"	/* defines: HOT */

/*
 * Every loop is split statically over rows (or over (example, head)
 * pairs, or over fixed tiles of rows or columns); each output element is
 * computed by one thread in a fixed order, so the bits do not depend on
 * the thread count (lib/ops_cpu.h).
 */

/*
 * AVX-512 as sift's library choices mean it: F, BW, DQ and VL, oneDNN's
 * avx512_core and what OpenBLAS's SkylakeX kernels need.  The HOT
 * clone's x86-64-v4 adds CD; GCC's resolver picks that clone, and
 * backend_cpu.c's describe() mirrors the resolver, not this rule.  A
 * build with SIFT_AVX2_ONLY (make AVX2=1) answers no, as on Zen 3.
 */
static inline int sift_cpu_has_avx512(void)
{
#ifdef SIFT_AVX2_ONLY
	return 0;
#else
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
}

/* below this many elements a parallel region costs more than it saves */
#define PAR_MIN 16384

/* exp(x) in float with a relative error below 2e-7, written so that
 * loops over it vectorize: x = n ln2 + r, |r| <= ln2/2, a degree-6
 * polynomial for exp(r), then 2^n put into the exponent */
#pragma omp declare simd notinbranch
static inline float sift_vexpf(float x)
{
	x = x < -87.3f ? -87.3f : x;
	x = x > 88.3f ? 88.3f : x;
	/* round to nearest by the 1.5 * 2^23 trick (no call to rintf) */
	float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
	float r = x - fn * 0.693145751953125f;
	r = r - fn * 1.428606765330187045e-06f;
	float p = 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	/* unsigned shift: a NaN x gives a NaN p, whatever fn converts to */
	union { uint32_t i; float f; } u = { .i = ((uint32_t)(int32_t)fn + 127u) << 23 };
	return p * u.f;
}

/* out = a + b over n floats, vectorised (lib/cpu_elementwise.c); out
 * may alias a or b */
void sift_cpu_add_span(float *out, const float *a, const float *b, size_t n);

/* columns summed over rows per tile: each column's sum runs over the
 * rows in order, as a loop over one column would, but the tile's rows
 * are read contiguously */
#define COL_TILE 64

/* the sums over the N rows of columns c0 .. c0+COL_TILE (or to C) of dy
 * (N,C) into db (C) and, with x (N,C), mean and rstd (N), of dy * xhat
 * into dw (C); db or dw may be NULL (lib/cpu_layernorm.c) */
void sift_cpu_col_sums(float *db, float *dw, const float *dy,
		       const float *x, const float *mean, const float *rstd,
		       int N, int C, int c0);

#endif
