/* test-gemm.c: the products' libraries (OpenBLAS and its core, oneDNN) against a plain reference, the default choice, and the op profiler. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>	/* defines: openblas_get_corename */

#include "check.h"
#include "cpu_common.h"	/* defines: sift_cpu_has_avx512 */
#include "backend.h"	/* defines: sift_backend_cpu */
#include "ops_cpu.h"	/* defines: sift_cpu_matmul_*, sift_cpu_gemm_name */
#include "profile.h"	/* defines: sift_profile_install, sift_profile_get */
#include "cpu_bf16.h"	/* defines: sift_cpu_f32_pack, sift_cpu_f32_unpack */
#include "rng.h"

static struct sift_rng rng;

static float *randv(size_t n, float scale)
{
	float *v = malloc(n * sizeof(float) + 1);
	for (size_t i = 0; i < n; i++)
		v[i] = scale * sift_rng_normal(&rng);
	return v;
}

/* the largest |got - want| / (1 + |want|) */
static double maxerr(const float *got, const double *want, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs(got[i] - want[i]) / (1.0 + fabs(want[i]));
		if (!(d <= e))
			e = d;
	}
	return e;
}

/* ---- the three products and the bias sum against loops in double ----
 * shapes of one, two and four row tiles, odd widths, K past a block */
static void test_matmul_reference(void)
{
	static const int shapes[][3] = { { 37, 53, 29 }, { 300, 96, 200 },
					 { 600, 33, 515 }, { 129, 700, 17 } };
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int N = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
		float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 0.1f),
		      *b = randv(OC, 1), *dout = randv((size_t)N * OC, 1);
		float *out = malloc((size_t)N * OC * 4), *dx = malloc((size_t)N * C * 4),
		      *dw = randv((size_t)OC * C, 1), *db = randv(OC, 1);
		double *rout = malloc((size_t)N * OC * 8), *rdx = malloc((size_t)N * C * 8),
		       *rdw = malloc((size_t)OC * C * 8), *rdb = malloc((size_t)OC * 8);
		/* dw and db ACCUMULATE: the reference starts from their values */
		for (size_t i = 0; i < (size_t)OC * C; i++)
			rdw[i] = dw[i];
		for (int o = 0; o < OC; o++)
			rdb[o] = db[o];
		for (int n = 0; n < N; n++)
			for (int o = 0; o < OC; o++) {
				double a = b[o];
				for (int c = 0; c < C; c++)
					a += (double)x[(size_t)n * C + c] * w[(size_t)o * C + c];
				rout[(size_t)n * OC + o] = a;
				rdb[o] += dout[(size_t)n * OC + o];
			}
		for (int n = 0; n < N; n++)
			for (int c = 0; c < C; c++) {
				double a = 0;
				for (int o = 0; o < OC; o++)
					a += (double)dout[(size_t)n * OC + o] * w[(size_t)o * C + c];
				rdx[(size_t)n * C + c] = a;
			}
		for (int o = 0; o < OC; o++)
			for (int c = 0; c < C; c++) {
				double a = 0;
				for (int n = 0; n < N; n++)
					a += (double)dout[(size_t)n * OC + o] * x[(size_t)n * C + c];
				rdw[(size_t)o * C + c] += a;
			}
		sift_cpu_matmul_forward(out, x, w, b, N, C, OC);
		sift_cpu_matmul_backward(dx, dw, db, dout, x, w, N, C, OC);
		/* fp32 sums of K <= 700 terms of unit size: within K * eps
		 * (8.4e-5) of 1 + |exact|, any order of summation */
		CHECK_CLOSE(maxerr(out, rout, (size_t)N * OC), 0, 1e-4, 0);
		CHECK_CLOSE(maxerr(dx, rdx, (size_t)N * C), 0, 1e-4, 0);
		CHECK_CLOSE(maxerr(dw, rdw, (size_t)OC * C), 0, 1e-4, 0);
		CHECK_CLOSE(maxerr(db, rdb, OC), 0, 1e-4, 0);
		free(x); free(w); free(b); free(dout); free(out); free(dx); free(dw); free(db);
		free(rout); free(rdx); free(rdw); free(rdb);
	}
}

/* ---- a product on one thread leaves the thread count as it was ----
 * (the oneDNN path sets one thread inside each tile's own task) */
static void test_threads_kept(void)
{
	int N = 64, C = 16, OC = 16;
	float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 1),
	      *out = malloc((size_t)N * OC * 4);
	omp_set_num_threads(2);
	sift_cpu_matmul_forward(out, x, w, NULL, N, C, OC);
	CHECK_EQ_INT(omp_get_max_threads(), 2);
	free(x); free(w); free(out);
}

/* ---- OpenBLAS runs a real kernel, not its generic fallback ----
 * 0.3.21 calls CPUs newer than it (Zen 4, Emerald Rapids) Prescott; the
 * backend chooses the core again unless told not to (backend_cpu.c) */
static void test_openblas_core(void)
{
	__builtin_cpu_init();
	if (getenv("OPENBLAS_CORETYPE") || getenv("SIFT_OPENBLAS_CORE") ||
	    !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
		printf("test-gemm: the OpenBLAS core: skipped (no AVX2 and FMA, or the core set by hand)\n");
		return;
	}
	const char *core = openblas_get_corename();
	CHECK(strcmp(core, "Prescott") != 0);
	CHECK(strstr(sift_cpu_describe(), core) != NULL);
	CHECK(strstr(sift_cpu_describe(), "core Prescott") == NULL);
}

/* ---- each library: the reference, and the same bits on 1 or 3 threads ----
 * SIFT_GEMM chooses at start; sift_cpu_gemm_select switches here */
static void same_on_threads(void)
{
	int N = 600, C = 40, OC = 72;	/* four row tiles, five output tiles */
	float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 0.1f),
	      *d = randv((size_t)N * OC, 1);
	float *o[2], *dx[2], *dw[2];
	for (int r = 0; r < 2; r++) {
		o[r] = malloc((size_t)N * OC * 4);
		dx[r] = malloc((size_t)N * C * 4);
		dw[r] = calloc((size_t)OC * C, 4);
		omp_set_num_threads(r ? 3 : 1);
		sift_cpu_matmul_forward(o[r], x, w, NULL, N, C, OC);
		sift_cpu_matmul_backward(dx[r], dw[r], NULL, d, x, w, N, C, OC);
	}
	omp_set_num_threads(2);
	CHECK(memcmp(o[0], o[1], (size_t)N * OC * 4) == 0);
	CHECK(memcmp(dx[0], dx[1], (size_t)N * C * 4) == 0);
	CHECK(memcmp(dw[0], dw[1], (size_t)OC * C * 4) == 0);
	for (int r = 0; r < 2; r++) {
		free(o[r]); free(dx[r]); free(dw[r]);
	}
	free(x); free(w); free(d);
}

static void test_libraries(void)
{
	static const char *libs[] = { "openblas",
#ifdef SIFT_DNNL
		"dnnl",
#endif
	};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
		CHECK_EQ_INT(sift_cpu_gemm_select(libs[i]), 0);
		CHECK(strncmp(sift_cpu_gemm_name(), i ? "oneDNN" : "OpenBLAS", i ? 6 : 8) == 0);
		test_matmul_reference();
		same_on_threads();
	}
	/* the default: oneDNN on a CPU with AVX-512 where built in */
	CHECK_EQ_INT(sift_cpu_gemm_select(NULL), 0);
	int dnnl = 0;
#ifdef SIFT_DNNL
	dnnl = sift_cpu_has_avx512();
#endif
	CHECK(strncmp(sift_cpu_gemm_name(), dnnl ? "oneDNN" : "OpenBLAS", dnnl ? 6 : 8) == 0);
	CHECK(strstr(sift_cpu_describe(), "oneDNN") == NULL || dnnl);
	/* a name it does not know changes nothing */
	const char *was = sift_cpu_gemm_name();
	CHECK_EQ_INT(sift_cpu_gemm_select("mkl"), -1);
#ifndef SIFT_DNNL
	CHECK_EQ_INT(sift_cpu_gemm_select("dnnl"), -1);
#endif
	CHECK(strcmp(sift_cpu_gemm_name(), was) == 0);
	/* back to what this run was started with */
	CHECK_EQ_INT(sift_cpu_gemm_select(getenv("SIFT_GEMM")), 0);
}

/* ---- fp32 products on weights packed once (sift-fwd on oneDNN) ----
 * within the reference's bound, the same bits on 1 and 3 threads, read
 * from the copy made when packed (a later write to the weight is not
 * seen until sift_cpu_f32_unpack), and never used by OpenBLAS's tiles */
static void test_packed(void)
{
	static const int shapes[][3] = { { 37, 53, 29 }, { 600, 384, 1152 },
					 { 129, 700, 17 }, { 1000, 1536, 384 } };
#ifndef SIFT_DNNL
	float w0 = 1;
	CHECK_EQ_INT(sift_cpu_f32_pack(&w0, 1, 1), 0);
	CHECK(sift_cpu_f32_packed(&w0, 1, 1) == NULL);
	CHECK_EQ_INT(sift_cpu_gemm_packs(), 0);
	printf("test-gemm: packed weights: skipped (a build without oneDNN)\n");
	(void)shapes;
	return;
#else
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int N = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
		size_t no = (size_t)N * OC;
		float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 0.1f),
		      *b = randv(OC, 1);
		float *o[4];
		for (int i = 0; i < 4; i++)
			o[i] = malloc(no * 4);
		double *ref = malloc(no * 8);
		for (int n = 0; n < N; n++)
			for (int k = 0; k < OC; k++) {
				double a = b[k];
				for (int c = 0; c < C; c++)
					a += (double)x[(size_t)n * C + c] * w[(size_t)k * C + c];
				ref[(size_t)n * OC + k] = a;
			}
		CHECK_EQ_INT(sift_cpu_gemm_select("dnnl"), 0);
		CHECK_EQ_INT(sift_cpu_gemm_packs(), 1);
		CHECK_EQ_INT(sift_cpu_f32_pack(w, OC, C), 0);
		CHECK(sift_cpu_f32_packed(w, OC, C) != NULL);
		CHECK(sift_cpu_f32_packed(w, OC, C + 1) == NULL);
		omp_set_num_threads(1);
		sift_cpu_matmul_forward(o[0], x, w, b, N, C, OC);
		omp_set_num_threads(3);
		sift_cpu_matmul_forward(o[1], x, w, b, N, C, OC);
		omp_set_num_threads(2);
		CHECK_CLOSE(maxerr(o[0], ref, no), 0, 1e-4, 0);
		CHECK(memcmp(o[0], o[1], no * 4) == 0);
		/* without a bias too */
		sift_cpu_matmul_forward(o[2], x, w, NULL, N, C, OC);
		for (size_t i = 0; i < no; i++)
			ref[i] -= b[i % OC];
		CHECK_CLOSE(maxerr(o[2], ref, no), 0, 1e-4, 0);
		/* the packed copy is what the product reads */
		for (size_t i = 0; i < (size_t)OC * C; i++)
			w[i] *= 2;
		sift_cpu_matmul_forward(o[1], x, w, b, N, C, OC);
		CHECK(memcmp(o[0], o[1], no * 4) == 0);
		/* OpenBLAS's tiles read the weight itself */
		CHECK_EQ_INT(sift_cpu_gemm_select("openblas"), 0);
		CHECK_EQ_INT(sift_cpu_gemm_packs(), 0);
		sift_cpu_matmul_forward(o[3], x, w, NULL, N, C, OC);
		for (size_t i = 0; i < no; i++)
			ref[i] *= 2;
		CHECK_CLOSE(maxerr(o[3], ref, no), 0, 2e-4, 0);
		/* and after unpacking, so does oneDNN's */
		CHECK_EQ_INT(sift_cpu_gemm_select("dnnl"), 0);
		sift_cpu_f32_unpack();
		CHECK(sift_cpu_f32_packed(w, OC, C) == NULL);
		sift_cpu_matmul_forward(o[3], x, w, NULL, N, C, OC);
		CHECK_CLOSE(maxerr(o[3], ref, no), 0, 2e-4, 0);
		for (int i = 0; i < 4; i++)
			free(o[i]);
		free(x); free(w); free(b); free(ref);
	}
	CHECK_EQ_INT(sift_cpu_gemm_select(getenv("SIFT_GEMM")), 0);
#endif
}

/* ---- SIFT_PROFILE's wrappers: the same bits, the calls counted ---- */
static void test_profile(void)
{
	int N = 50, C = 24, OC = 40;
	float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 1),
	      *b = randv(OC, 1), *d = randv((size_t)N * OC, 1);
	float *o1 = malloc((size_t)N * OC * 4), *o2 = malloc((size_t)N * OC * 4),
	      *dx1 = malloc((size_t)N * C * 4), *dx2 = malloc((size_t)N * C * 4),
	      *dw = calloc((size_t)OC * C, 4);
	struct sift_backend be = sift_backend_cpu;
	sift_cpu_matmul_forward(o1, x, w, b, N, C, OC);
	sift_cpu_matmul_backward(dx1, NULL, NULL, d, x, w, N, C, OC);
	sift_profile_install(&be);
	CHECK(be.matmul_forward != sift_cpu_matmul_forward);
	CHECK(be.gelu_forward != sift_cpu_gelu_forward);
	be.matmul_forward(o2, x, w, b, N, C, OC);
	be.matmul_forward(o2, x, w, b, N, C, OC);
	be.matmul_backward(dx2, dw, NULL, d, x, w, N, C, OC);
	CHECK(memcmp(o1, o2, (size_t)N * OC * 4) == 0);
	CHECK(memcmp(dx1, dx2, (size_t)N * C * 4) == 0);
	double s, gf;
	long calls;
	sift_profile_get(SIFT_OP_MATMUL, &s, &calls, &gf);
	CHECK_EQ_INT(calls, 2);
	CHECK_CLOSE(gf, 2 * 2.0 * N * C * OC / 1e9, 1e-15, 1e-12);
	CHECK(s >= 0);
	/* dinp and dweight asked for: two products */
	sift_profile_get(SIFT_OP_MATMUL_BWD, &s, &calls, &gf);
	CHECK_EQ_INT(calls, 1);
	CHECK_CLOSE(gf, 2 * 2.0 * N * C * OC / 1e9, 1e-15, 1e-12);
	sift_profile_get(SIFT_OP_GELU, &s, &calls, &gf);
	CHECK_EQ_INT(calls, 0);
	/* a second install changes nothing */
	struct sift_backend be2 = sift_backend_cpu;
	sift_profile_install(&be2);
	CHECK(be2.matmul_forward == sift_cpu_matmul_forward);
	free(x); free(w); free(b); free(d); free(o1); free(o2); free(dx1); free(dx2); free(dw);
}

int main(void)
{
	sift_rng_seed(&rng, 4242);
	printf("test-gemm: %s; %s\n", sift_cpu_gemm_name(), sift_cpu_describe());
	test_matmul_reference();
	test_threads_kept();
	test_openblas_core();
	test_libraries();
	test_packed();
	test_profile();
	return check_done("test-gemm");
}
