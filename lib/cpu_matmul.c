/* cpu_matmul.c: the matrix product on the CPU, forward and backward: fixed row tiles of single-threaded BLAS calls (twin of kernels/matmul.cu). */
#include <errno.h>	/* defines: program_invocation_short_name (GNU) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>
#include <stdlib.h>
#ifdef SIFT_DNNL
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>	/* defines: dnnl_sgemm */
#endif

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_cpu_has_avx512, HOT */
#include "cpu_bf16.h"	/* defines: the bf16 products (--precision bf16) */

/*
 * The library of the fp32 tiles, chosen once at start and fixed for the
 * process: oneDNN's dnnl_sgemm where sift is built with oneDNN and the
 * processor has AVX-512 (F, BW, DQ, VL: oneDNN's avx512_core), where it
 * was measured faster than OpenBLAS's AVX-512 kernels at the products of
 * a BERT step on Intel (Emerald Rapids) and AMD (Zen 4) alike; else
 * OpenBLAS, the reference (their AVX2 kernels, forced on Zen 4, were
 * measured even: no reason to leave the reference there; BENCHMARKS.md).  SIFT_GEMM=openblas or
 * dnnl chooses by hand; any other value, or dnnl in a build without
 * oneDNN, is refused at start (exit 1), as a silent fallback would
 * change the bits without saying so.  On oneDNN the forward tiles go to
 * its matmul primitive (lib/cpu_bf16.c), the backward ones to sgemm.
 */
enum { GEMM_OPENBLAS, GEMM_DNNL };
static int gemm_lib = GEMM_OPENBLAS;

static int gemm_auto(void)
{
#ifdef SIFT_DNNL
	if (sift_cpu_has_avx512())
		return GEMM_DNNL;
#endif
	return GEMM_OPENBLAS;
}

int sift_cpu_gemm_select(const char *name)
{
	if (!name || !*name)
		gemm_lib = gemm_auto();
	else if (strcmp(name, "openblas") == 0)
		gemm_lib = GEMM_OPENBLAS;
#ifdef SIFT_DNNL
	else if (strcmp(name, "dnnl") == 0)
		gemm_lib = GEMM_DNNL;
#endif
	else
		return -1;
	return 0;
}

int sift_cpu_gemm_packs(void)
{
	return gemm_lib == GEMM_DNNL;
}

__attribute__((constructor)) static void cpu_gemm_choose(void)
{
	const char *e = getenv("SIFT_GEMM");
	if (sift_cpu_gemm_select(e) == 0)
		return;
#ifdef SIFT_DNNL
	fprintf(stderr, "%s: SIFT_GEMM=%s: not a GEMM library (openblas or dnnl)\n",
		program_invocation_short_name, e);
#else
	if (strcmp(e, "dnnl") == 0)
		fprintf(stderr, "%s: SIFT_GEMM=dnnl: this build has no oneDNN (libdnnl-dev)\n",
			program_invocation_short_name);
	else
		fprintf(stderr, "%s: SIFT_GEMM=%s: not a GEMM library (openblas)\n",
			program_invocation_short_name, e);
#endif
	exit(1);
}

/*
 * One tile's product on the calling thread, row-major:
 * c (m,n) = op(a) op(b) + beta c, op(a) (m,k), op(b) (k,n); ta, tb: a, b
 * stored transposed.  OpenBLAS (on one thread: sift_cpu_split_threads)
 * or oneDNN's dnnl_sgemm told to use one thread, so that a tile's bits
 * depend on its shape alone with either (sift(7) "Same answers")
 */
static void tile_sgemm(int ta, int tb, int m, int n, int k, const float *a,
		       int lda, const float *b, int ldb, float beta, float *c,
		       int ldc)
{
#ifdef SIFT_DNNL
	if (gemm_lib == GEMM_DNNL) {
		/* oneDNN splits a call over omp_get_max_threads() outside an
		 * active parallel region (an if (0) region is not one); every
		 * tile runs inside the op's parallel construct, whose implicit
		 * task owns this ICV, so the setting ends with the region */
		omp_set_num_threads(1);
		dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda, b,
			   ldb, beta, c, ldc);
		return;
	}
#endif
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
		    tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb,
		    beta, c, ldc);
}

const char *sift_cpu_gemm_name(void)
{
#ifdef SIFT_DNNL
	if (gemm_lib == GEMM_DNNL) {
		static char buf[64];
		if (!buf[0]) {
			const dnnl_version_t *v = dnnl_version();
			snprintf(buf, sizeof buf, "oneDNN %d.%d.%d sgemm", v->major,
				 v->minor, v->patch);
		}
		return buf;
	}
#endif
	return "OpenBLAS sgemm";
}

int sift_cpu_gemm_threads(size_t work, int tiles)
{
	int nt = sift_cpu_split_threads();
	if (work < ((size_t)1 << 18))
		nt = 1;
	return nt < tiles ? nt : tiles;
}

int sift_cpu_tiles(int rows)
{
	int k = 1;
	while (k < SIFT_CPU_TILES_MAX && (int64_t)2 * k * SIFT_CPU_TILE_MIN <= rows)
		k *= 2;
	return k;
}

int sift_cpu_tile(int rows, int k, int i)
{
	if (i >= k)
		return rows;
	/* the even cut: tiles differ by a row at most.  Rounded up to a
	 * multiple of 16, as it was, two tiles of 650 rows were 336 and
	 * 314, and on two threads one waited 7% of the other's time; the
	 * products were no faster per row for it */
	int64_t r = (int64_t)rows * i / k;
	return r < rows ? (int)r : rows;
}

void sift_cpu_matmul_forward(float *out, const float *inp,
			     const float *weight, const float *bias, int N,
			     int C, int OC)
{
	if (N == 0)
		return;
	if (sift_cpu_bf16_on()) {
		sift_cpu_bf16_matmul_forward(out, inp, weight, bias, N, C, OC);
		return;
	}
	/*
	 * The rows are cut into tiles by their count alone, each tile one
	 * sgemm on one thread (OpenBLAS or oneDNN), and the tiles are shared out over
	 * the OpenMP threads: one pool of threads for every op, and the same
	 * BLAS calls, so the same bits, whatever the thread count.
	 */
	int k = sift_cpu_tiles(N);
	int nt = sift_cpu_gemm_threads((size_t)N * C * OC, k);
#ifdef SIFT_DNNL
	/* a weight fixed for the run (sift-fwd) may be packed already */
	const struct sift_packed *pk =
		gemm_lib == GEMM_DNNL ? sift_cpu_f32_packed(weight, OC, C) : NULL;
#endif
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int t = 0; t < k; t++) {
		int r0 = sift_cpu_tile(N, k, t), r1 = sift_cpu_tile(N, k, t + 1);
#ifdef SIFT_DNNL
		/* on oneDNN the forward tiles are its matmul primitive's,
		 * which adds the bias as it stores a tile where sgemm needs it
		 * copied into the output first and read back (6-9% of the
		 * forward products of a training step on Zen 4) */
		if (gemm_lib == GEMM_DNNL) {
			if (r1 > r0 && (!pk || sift_cpu_f32_packed_tile(pk, r1 - r0,
					inp + (size_t)r0 * C, bias, out + (size_t)r0 * OC) < 0))
				sift_cpu_f32_tile(r1 - r0, OC, C, inp + (size_t)r0 * C, weight,
						  bias, out + (size_t)r0 * OC);
			continue;
		}
#endif
		float beta = 0.0f;
		if (bias) {
			for (int r = r0; r < r1; r++)
				memcpy(out + (size_t)r * OC, bias, sizeof(float) * OC);
			beta = 1.0f;
		}
		/* out (n,OC) = inp (n,C) @ weight^T, weight (OC,C) */
		if (r1 > r0)
			tile_sgemm(0, 1, r1 - r0, OC, C, inp + (size_t)r0 * C, C,
				   weight, C, beta, out + (size_t)r0 * OC, OC);
	}
}

void sift_cpu_matmul_backward(float *dinp, float *dweight, float *dbias,
			      const float *dout, const float *inp,
			      const float *weight, int N, int C, int OC)
{
	if (N <= 0) {
		return;
	}
	if (sift_cpu_bf16_on()) {
		/* the two products in bf16; dbias below, in fp32 */
		sift_cpu_bf16_matmul_backward(dinp, dweight, dout, inp, weight, N, C, OC);
		dinp = dweight = NULL;
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
				tile_sgemm(0, 0, r1 - r0, C, OC, dout + (size_t)r0 * OC,
					   OC, weight, C, 0.0f, dinp + (size_t)r0 * C, C);
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
				tile_sgemm(1, 0, o1 - o0, C, N, dout + o0, OC, inp, C,
					   1.0f, dweight + (size_t)o0 * C, C);
		}
	}
	if (dbias) {
		/* tiles of columns over the threads, rows in order inside */
		int ntile = (OC + COL_TILE - 1) / COL_TILE;
		#pragma omp parallel for if ((size_t)N * OC > PAR_MIN)
		for (int tl = 0; tl < ntile; tl++)
			sift_cpu_col_sums(dbias, NULL, dout, NULL, NULL, NULL, N, OC,
				 tl * COL_TILE);
	}
}
