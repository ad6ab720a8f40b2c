/* hot.h: HOT, the attribute that compiles a hot CPU loop for AVX-512 and AVX2 too. */
#ifndef SIFT_HOT_H
#define SIFT_HOT_H

/*
 * The clone is chosen at run time; `omp simd` vectorizes the loops at
 * -O2.  The AVX-512 clone is x86-64-v4 (F, BW, CD, DQ, VL), not F
 * alone: without DQ, the 64-bit multiplies and conversions of the
 * dropout hash (rng.h) are pieced together from 32-bit ones, and the
 * attention forward ran 1.3-1.5x slower (Zen 4).  There is no FMA contraction under -std=c11, so every clone
 * computes the same bits.  Only GCC on x86-64 makes the clones, and not
 * under AddressSanitizer (its ifunc resolvers run before ASan is up).
 * SIFT_AVX2_ONLY (make AVX2=1) leaves the AVX-512 clone out, so that an
 * AVX-512 machine runs the code an AVX2-only one (Zen 3) runs.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
	!defined(__SANITIZE_ADDRESS__)
#define SIFT_HOT_CLONES 1
#ifdef SIFT_AVX2_ONLY
#define HOT __attribute__((target_clones("avx2", "default")))
#else
#define HOT __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#else
#define HOT
#endif

#endif
