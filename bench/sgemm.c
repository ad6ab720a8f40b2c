/* sgemm.c: GFLOP/s of each GEMM library at the products of a BERT layer, tiled as sift calls them. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#ifdef SGEMM_BLIS
#include <blis.h>	/* defines: bli_sgemm, bli_arch_string */
#endif
#ifdef SGEMM_DNNL
#include <oneapi/dnnl/dnnl.h>	/* defines: dnnl_sgemm */
#endif

/*
 * usage: sgemm threads N C FF
 *   plain OpenBLAS sgemm on `threads` threads, out (N,OC) = inp (N,C) @
 *   weight (OC,C)^T for the four products of a layer (3C, C, I, and C from
 *   I): one GFLOP/s figure, the ceiling for bench-fwd.sh
 * usage: sgemm -l LIB threads N C FF
 *   the three products of each of those four (forward x W^T, dinp = dout W,
 *   dW = dout^T x) as lib/cpu_matmul.c makes them: rows cut into tiles by
 *   the row count alone, one single-threaded call per tile, the OpenMP
 *   threads sharing the tiles; LIB is openblas (its core as detected or
 *   forced by OPENBLAS_CORETYPE), blis or dnnl where built in.  Prints
 *   one line per product: lib kind N C OC GFLOP/s (the min time of
 *   REPS=5 repeats, the machine being shared), then the all-product rate
 */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

enum lib { OPENBLAS, BLIS, DNNL };

/* row-major C (m,n) = op(A) op(B) + beta C on one thread; ta: A is (k,m) */
static void gemm1(enum lib lib, int ta, int tb, int m, int n, int k,
		  const float *a, int lda, const float *b, int ldb, float beta,
		  float *c, int ldc)
{
	switch (lib) {
	case OPENBLAS:
		cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			    tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda,
			    b, ldb, beta, c, ldc);
		break;
	case BLIS:
#ifdef SGEMM_BLIS
	{
		float one = 1.0f;
		/* row-major: row stride ld, column stride 1 */
		bli_sgemm(ta ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
			  tb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, m, n, k, &one,
			  (float *)a, lda, 1, (float *)b, ldb, 1, &beta, c, ldc, 1);
	}
#endif
		break;
	case DNNL:
#ifdef SGEMM_DNNL
		dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a, lda,
			   b, ldb, beta, c, ldc);
#endif
		break;
	}
}

/* lib/cpu_matmul.c's tile rule (sift_cpu_tiles, sift_cpu_tile) */
static int tiles(int rows)
{
	int k = 1;
	while (k < 16 && 2 * k * 128 <= rows)
		k *= 2;
	return k;
}

static int tile(int rows, int k, int i)
{
	if (i >= k)
		return rows;
	return (int)((long)rows * i / k);
}

/* kind 0: out (N,OC) = x (N,C) W^T; 1: dx (N,C) = dout (N,OC) W (OC,C);
 * 2: dW (OC,C) += dout^T x; tiles of N rows (0, 1) or OC rows (2) */
static void product(enum lib lib, int kind, int th, int N, int C, int OC,
		    const float *x, const float *w, const float *dout, float *o)
{
	int rows = kind == 2 ? OC : N, k = tiles(rows);
	int nt = th < k ? th : k;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int t = 0; t < k; t++) {
		int r0 = tile(rows, k, t), r1 = tile(rows, k, t + 1);
		if (r1 <= r0)
			continue;
		omp_set_num_threads(1);	/* oneDNN: one thread in a tile */
		if (kind == 0)
			gemm1(lib, 0, 1, r1 - r0, OC, C, x + (size_t)r0 * C, C, w, C,
			      0.0f, o + (size_t)r0 * OC, OC);
		else if (kind == 1)
			gemm1(lib, 0, 0, r1 - r0, C, OC, dout + (size_t)r0 * OC, OC,
			      w, C, 0.0f, o + (size_t)r0 * C, C);
		else
			gemm1(lib, 1, 0, r1 - r0, C, N, dout + r0, OC, x, C, 1.0f,
			      o + (size_t)r0 * C, C);
	}
}

static int libs_main(const char *name, int th, int N, int C, int FF)
{
	enum lib lib;
	const char *core = "";
	if (strcmp(name, "openblas") == 0) {
		lib = OPENBLAS;
		core = openblas_get_corename();
	}
#ifdef SGEMM_BLIS
	else if (strcmp(name, "blis") == 0) {
		lib = BLIS;
		bli_thread_set_num_threads(1);
		core = bli_arch_string(bli_arch_query_id());
	}
#endif
#ifdef SGEMM_DNNL
	else if (strcmp(name, "dnnl") == 0)
		lib = DNNL;
#endif
	else {
		fprintf(stderr, "sgemm: %s: not built in\n", name);
		return 2;
	}
	openblas_set_num_threads(1);
	const char *reps_env = getenv("REPS");
	int reps = reps_env ? atoi(reps_env) : 5;
	int shapes[4][2] = { { C, 3 * C }, { C, C }, { C, FF }, { FF, C } };
	const char *kinds[3] = { "fwd", "dinp", "dweight" };
	size_t big = (size_t)(FF > 3 * C ? FF : 3 * C);
	float *x = malloc(sizeof(float) * N * big), *w = malloc(sizeof(float) * big * big),
	      *d = malloc(sizeof(float) * N * big), *o = malloc(sizeof(float) * N * big);
	if (!x || !w || !d || !o)
		return 1;
	for (size_t i = 0; i < (size_t)N * big; i++) {
		x[i] = (float)(i % 13) * 0.01f;
		d[i] = (float)(i % 11) * 0.01f;
		o[i] = 0.0f;
	}
	for (size_t i = 0; i < big * big; i++)
		w[i] = (float)(i % 7) * 0.01f;
	double all_flop = 0, all_s = 0;
	for (int s = 0; s < 4; s++)
		for (int kind = 0; kind < 3; kind++) {
			int c = shapes[s][0], oc = shapes[s][1];
			double best = 1e30;
			for (int r = 0; r < reps + 1; r++) {	/* the first warms up */
				double t0 = now();
				product(lib, kind, th, N, c, oc, x, w, d, o);
				double dt = now() - t0;
				if (r > 0 && dt < best)
					best = dt;
			}
			double flop = 2.0 * N * c * oc;
			all_flop += flop;
			all_s += best;
			printf("%s%s%s %s %d %d %d %.1f\n", name, *core ? ":" : "", core,
			       kinds[kind], N, c, oc, flop / best / 1e9);
		}
	printf("%s%s%s all %d %d %d %.1f\n", name, *core ? ":" : "", core, N, C, FF,
	       all_flop / all_s / 1e9);
	free(x);
	free(w);
	free(d);
	free(o);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "-l") == 0)
		return libs_main(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
				 atoi(argv[6]));
	if (argc != 5) {
		fprintf(stderr, "usage: sgemm [-l openblas|blis|dnnl] threads N C FF\n");
		return 2;
	}
	int th = atoi(argv[1]), N = atoi(argv[2]), C = atoi(argv[3]), FF = atoi(argv[4]);
	openblas_set_num_threads(th);
	int shapes[4][2] = { { C, 3 * C }, { C, C }, { C, FF }, { FF, C } };
	size_t big = (size_t)(FF > 3 * C ? FF : 3 * C);
	float *a = malloc(sizeof(float) * N * big), *w = malloc(sizeof(float) * big * big),
	      *o = malloc(sizeof(float) * N * big);
	if (!a || !w || !o)
		return 1;
	for (size_t i = 0; i < (size_t)N * big; i++)
		a[i] = (float)(i % 13) * 0.01f;
	for (size_t i = 0; i < big * big; i++)
		w[i] = (float)(i % 7) * 0.01f;
	double flops = 0, t = 0;
	for (int rep = 0; rep < 2; rep++) {	/* the first round warms up */
		flops = 0;
		double t0 = now();
		for (int it = 0; it < 20; it++)
			for (int s = 0; s < 4; s++) {
				int k = shapes[s][0], oc = shapes[s][1];
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, oc, k,
					    1.0f, a, k, w, k, 0.0f, o, oc);
				flops += 2.0 * N * k * oc;
			}
		t = now() - t0;
	}
	printf("%.1f\n", flops / t / 1e9);
	free(a);
	free(w);
	free(o);
	return 0;
}
