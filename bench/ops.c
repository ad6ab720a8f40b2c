/* ops.c: every op of the CPU table at BERT shapes, timed against the machine's GEMM and memory ceilings. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>	/* defines: cblas_sgemm, openblas_set_num_threads */

#include "backend.h"	/* defines: sift_backend_cpu, the op table */
#include "cpu_bf16.h"	/* defines: sift_cpu_bf16_check, sift_cpu_bf16_set */
#ifdef SIFT_DNNL
#include <oneapi/dnnl/dnnl.h>	/* defines: the matmul primitive (the bf16 ceiling) */
#endif

/*
 * usage: ops [minilm|base|all]   (REPS=repeats, default 10)
 *        ops -1 OP                (one call of OP at MiniLM's shapes, untimed:
 *                                  for valgrind --tool=callgrind's counts)
 * Not an installed program: bench/bench-ops.sh runs it.  Each op is
 * called REPS+1 times on the shapes of a training batch of 32 sequences
 * of 128 tokens (N = 4096 rows, all of length 128) and the shortest call
 * is kept: on a shared machine the minimum is the honest figure, the
 * other calls having lost time to other processes.  Products print
 * GFLOP/s beside the faster of OpenBLAS's and oneDNN's sgemm of the same
 * shape on the same threads (the whole product in one call: the GEMM
 * ceiling, its library named; for the bf16 rows oneDNN's bf16 matmul of
 * inputs already rounded); the rest
 * print GB/s (the bytes each op must read and write at the least, once)
 * beside a STREAM triad on arrays far larger than the caches (the memory
 * ceiling).  An op whose data fit in the caches can pass 100%, and so can
 * one that writes in place (AdamW, scale): it moves no write-allocate
 * traffic, which the triad pays and does not count (the "in place" figure
 * of the memory line: ~1.4x the triad here).
 */

static int reps = 10;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* the min time of reps calls of a statement, after one more to warm up */
#define TIMED(best, stmt) do { \
	best = 1e30; \
	for (int r_ = 0; r_ <= reps; r_++) { \
		double t0_ = now(); \
		stmt; \
		double dt_ = now() - t0_; \
		if (r_ > 0 && dt_ < best) best = dt_; \
	} } while (0)

static float *arr(size_t n, float v)
{
	float *p = malloc(sizeof(float) * (n ? n : 1));
	if (!p) {
		fprintf(stderr, "ops: out of memory\n");
		exit(1);
	}
	/* small values of both signs, so that nothing overflows or denormals */
	for (size_t i = 0; i < n; i++)
		p[i] = v * (float)((long)(i * 2654435761u % 2001) - 1000) / 1000.0f;
	return p;
}

/*
 * simd: -O2's cost model leaves a loop of unknown length scalar, and a
 * scalar loop is bound by its instructions, not by the memory (one core
 * here: triad 13.6 GB/s scalar, 29.7 vectorised; two: 20.7 and 47.4),
 * which made every memory-bound op look 2-3x past its ceiling
 */
static void copy_loop(float *a, const float *b, size_t n)
{
#pragma omp parallel for simd schedule(static)
	for (size_t i = 0; i < n; i++)
		a[i] = b[i];
}

static void triad_loop(float *a, const float *b, const float *c, size_t n)
{
#pragma omp parallel for simd schedule(static)
	for (size_t i = 0; i < n; i++)
		a[i] = b[i] + 3.0f * c[i];
}

/* in place, as AdamW and scale write: a line is read and written back,
 * where triad's a is also read first to be written (the cache's write
 * allocate, which STREAM does not count) */
static void update_loop(float *a, const float *b, size_t n)
{
#pragma omp parallel for simd schedule(static)
	for (size_t i = 0; i < n; i++)
		a[i] = a[i] + 3.0f * b[i];
}

/* STREAM copy and triad, and the update in place, GB/s (copy counts 2
 * words an element, triad and update 3) */
static void stream(double *copy, double *triad, double *update)
{
	size_t n = (size_t)32 << 20;	/* 128 MiB an array */
	float *a = arr(n, 0), *b = arr(n, 1), *c = arr(n, 1);
	double t;
	TIMED(t, copy_loop(a, b, n));
	*copy = 8.0 * n / t / 1e9;
	TIMED(t, triad_loop(a, b, c, n));
	*triad = 12.0 * n / t / 1e9;
	TIMED(t, update_loop(a, b, n));
	*update = 12.0 * n / t / 1e9;
	free(a);
	free(b);
	free(c);
}

/*
 * The fp32 GEMM ceiling, GFLOP/s: C (m,n) = op(A) op(B) in one call on
 * all threads, by the faster of OpenBLAS (its core as chosen: an
 * OPENBLAS_CORETYPE in the environment holds even where it is not the
 * CPU's best) and, in a build with oneDNN, its sgemm; ceil_lib names
 * the library of the last one measured, for the table's heading
 */
static const char *ceil_lib = "OpenBLAS";

static double ceiling_sgemm(int ta, int tb, int m, int n, int k)
{
	float *a = arr((size_t)m * k, 1), *b = arr((size_t)k * n, 1), *c = arr((size_t)m * n, 0);
	openblas_set_num_threads(omp_get_max_threads());
	double t;
	TIMED(t, cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			     tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
			     ta ? m : k, b, tb ? k : n, 0.0f, c, n));
	ceil_lib = "OpenBLAS";
#ifdef SIFT_DNNL
	/* oneDNN's sgemm is row-major, as the call above */
	double t2;
	TIMED(t2, dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.0f, a,
			     ta ? m : k, b, tb ? k : n, 0.0f, c, n));
	if (t2 < t) {
		t = t2;
		ceil_lib = "oneDNN";
	}
#endif
	free(a);
	free(b);
	free(c);
	return 2.0 * m * n * k / t / 1e9;
}

#ifdef SIFT_DNNL
/* oneDNN's bf16 matmul on all threads, GFLOP/s: the whole product in one
 * call, its inputs already bf16 (no rounding counted), C fp32 */
static double ceiling_bf16(int ta, int tb, int m, int n, int k)
{
	dnnl_engine_t e;
	dnnl_stream_t st;
	dnnl_memory_desc_t ad, bd, cd;
	dnnl_dims_t adim = { m, k }, bdim = { k, n }, cdim = { m, n };
	dnnl_dims_t as = { ta ? 1 : k, ta ? m : 1 }, bs = { tb ? 1 : n, tb ? k : 1 };
	dnnl_matmul_desc_t md;
	dnnl_primitive_desc_t pd;
	dnnl_primitive_t p;
	dnnl_memory_t am, bm, cm;
	uint16_t *a = calloc((size_t)m * k, 2), *b = calloc((size_t)k * n, 2);
	float *c = calloc((size_t)m * n, 4);
	double t = 0;
	if (!a || !b || !c || dnnl_engine_create(&e, dnnl_cpu, 0) ||
	    dnnl_stream_create(&st, e, dnnl_stream_default_flags) ||
	    dnnl_memory_desc_init_by_strides(&ad, 2, adim, dnnl_bf16, as) ||
	    dnnl_memory_desc_init_by_strides(&bd, 2, bdim, dnnl_bf16, bs) ||
	    dnnl_memory_desc_init_by_tag(&cd, 2, cdim, dnnl_f32, dnnl_ab) ||
	    dnnl_matmul_desc_init(&md, &ad, &bd, NULL, &cd) ||
	    dnnl_primitive_desc_create(&pd, &md, NULL, e, NULL) ||
	    dnnl_primitive_create(&p, pd) ||
	    dnnl_memory_create(&am, &ad, e, a) || dnnl_memory_create(&bm, &bd, e, b) ||
	    dnnl_memory_create(&cm, &cd, e, c)) {
		fprintf(stderr, "ops: oneDNN's bf16 matmul failed\n");
		exit(1);
	}
	/* small values in bf16 (the upper half of a float) */
	for (size_t i = 0; i < (size_t)m * k; i++)
		a[i] = (uint16_t)(0x3c00u + i % 97);
	for (size_t i = 0; i < (size_t)k * n; i++)
		b[i] = (uint16_t)(0xbc00u + i % 89);
	dnnl_exec_arg_t args[3] = {
		{ DNNL_ARG_SRC, am }, { DNNL_ARG_WEIGHTS, bm }, { DNNL_ARG_DST, cm },
	};
	TIMED(t, (dnnl_primitive_execute(p, st, 3, args), dnnl_stream_wait(st)));
	dnnl_primitive_destroy(p);
	dnnl_primitive_desc_destroy(pd);
	dnnl_memory_destroy(am);
	dnnl_memory_destroy(bm);
	dnnl_memory_destroy(cm);
	dnnl_stream_destroy(st);
	dnnl_engine_destroy(e);
	free(a);
	free(b);
	free(c);
	ceil_lib = "oneDNN bf16";
	return 2.0 * m * n * k / t / 1e9;
}
#else
static double ceiling_bf16(int ta, int tb, int m, int n, int k)
{
	return ceiling_sgemm(ta, tb, m, n, k);	/* never called: no bf16 */
}
#endif

static double triad_gbs;

static void row_flop(const char *op, const char *shape, double s, double flop,
		     double ceil)
{
	/* the ceiling's library: set by the ceiling_* call that made ceil */
	printf("| %s | %s | %.3f | %.1f GFLOP/s | %.1f GFLOP/s %s | %.0f%% |\n", op,
	       shape, 1e3 * s, flop / s / 1e9, ceil, ceil_lib, 100.0 * flop / s / 1e9 / ceil);
}

static void row_bytes(const char *op, const char *shape, double s, double bytes)
{
	printf("| %s | %s | %.3f | %.1f GB/s | %.1f GB/s | %.0f%% |\n", op, shape,
	       1e3 * s, bytes / s / 1e9, triad_gbs, 100.0 * bytes / s / 1e9 / triad_gbs);
}

struct shape {
	const char *name;
	int C, ffn, NH, layers;
};

static void bench(const struct shape *m)
{
	const struct sift_backend *be = &sift_backend_cpu;
	const int B = 32, T = 128, N = B * T, C = m->C, FF = m->ffn, NH = m->NH;
	const int V = 30522, P = 512, L = 9;
	char sh[96];
	double t;
	printf("\n%s (C=%d, I=%d, %d heads of %d), N=%d rows (%dx%d), %d threads, min of %d calls\n\n",
	       m->name, C, FF, NH, C / NH, N, B, T, omp_get_max_threads(), reps);
	printf("| op | shape | ms | rate | ceiling | of ceiling |\n|---|---|---|---|---|---|\n");

	float *x = arr((size_t)N * FF, 1), *y = arr((size_t)N * FF, 1), *d = arr((size_t)N * FF, 0.01f);
	/* the largest weight is (FF,C); the word embeddings (V,C) */
	float *dx = arr((size_t)N * FF, 0), *w = arr((size_t)FF * C, 0.05f);
	float *dw = arr((size_t)FF * C, 0), *bias = arr(FF > 3 * C ? FF : 3 * C, 0.1f);
	float *db = arr(FF > 3 * C ? FF : 3 * C, 0);
	float *qkv = arr((size_t)N * 3 * C, 1), *dqkv = arr((size_t)N * 3 * C, 0);
	int32_t *offs = malloc(sizeof(int32_t) * (B + 1)), *ids = malloc(sizeof(int32_t) * N),
		*tt = malloc(sizeof(int32_t) * N), *pos = malloc(sizeof(int32_t) * N),
		*tg = malloc(sizeof(int32_t) * N), *cls = malloc(sizeof(int32_t) * B);
	for (int b = 0; b <= B; b++)
		offs[b] = b * T;
	for (int i = 0; i < N; i++) {
		ids[i] = (int32_t)((i * 7919u) % V);
		tt[i] = 0;
		pos[i] = i % T;
		tg[i] = i % 10 == 9 ? -100 : i % L;
	}
	for (int b = 0; b < B; b++)
		cls[b] = b * T;
	size_t natt = sift_att_offset(offs, B, NH);
	float *att = arr(natt, 0), *datt = arr(natt, 0);
	float *mean = arr(N, 0), *rstd = arr(N, 0), *g = arr(C, 1), *bb = arr(C, 0.1f);

	/* the four products of a layer: fwd, dinp, dweight */
	static const char *pname[4] = { "qkv", "attn out", "ffn up", "ffn down" };
	int pc[4] = { C, C, C, FF }, poc[4] = { 3 * C, C, FF, C };
	for (int p = 0; p < 4; p++) {
		int c = pc[p], oc = poc[p];
		double f = 2.0 * N * c * oc;
		snprintf(sh, sizeof sh, "%s: %dx%d @ (%dx%d)^T", pname[p], N, c, oc, c);
		TIMED(t, be->matmul_forward(y, x, w, bias, N, c, oc));
		row_flop("matmul_forward", sh, t, f, ceiling_sgemm(0, 1, N, oc, c));
		TIMED(t, be->matmul_backward(dx, NULL, NULL, d, x, w, N, c, oc));
		row_flop("matmul_backward dinp", sh, t, f, ceiling_sgemm(0, 0, N, c, oc));
		TIMED(t, be->matmul_backward(NULL, dw, db, d, x, w, N, c, oc));
		row_flop("matmul_backward dweight+dbias", sh, t, f, ceiling_sgemm(1, 0, oc, c, N));
		/* the same three with --precision bf16 (oneDNN's bf16 matmul,
		 * the inputs rounded in every call), where the CPU has it,
		 * against oneDNN's bf16 matmul of inputs already rounded */
		char why[200];
		if (sift_cpu_bf16_check(why, sizeof why) == 0) {
			sift_cpu_bf16_set(1);
			TIMED(t, be->matmul_forward(y, x, w, bias, N, c, oc));
			row_flop("matmul_forward bf16", sh, t, f, ceiling_bf16(0, 1, N, oc, c));
			TIMED(t, be->matmul_backward(dx, NULL, NULL, d, x, w, N, c, oc));
			row_flop("matmul_backward dinp bf16", sh, t, f, ceiling_bf16(0, 0, N, c, oc));
			TIMED(t, be->matmul_backward(NULL, dw, db, d, x, w, N, c, oc));
			row_flop("matmul_backward dweight+dbias bf16", sh, t, f,
				 ceiling_bf16(1, 0, oc, c, N));
			sift_cpu_bf16_set(0);
		} else if (p == 0) {
			printf("| matmul bf16 | skipped: %s | | | | |\n", why);
		}
	}

	size_t nc = (size_t)N * C, ni = (size_t)N * FF;
	snprintf(sh, sizeof sh, "%dx%d", N, C);
	float *wte = arr((size_t)V * C, 0.05f), *dwte = arr((size_t)V * C, 0);
	TIMED(t, be->embed_forward(y, ids, tt, pos, wte, x, x, N, C));
	row_bytes("embed_forward", sh, t, 4.0 * nc * 4 + 12.0 * N);
	TIMED(t, be->embed_backward(dwte, dw, dw, d, ids, tt, pos, N, C));
	row_bytes("embed_backward", sh, t, 4.0 * nc * 7 + 12.0 * N);
	TIMED(t, be->layernorm_forward(y, mean, rstd, x, g, bb, N, C, 1e-12f));
	row_bytes("layernorm_forward", sh, t, 4.0 * nc * 2);
	TIMED(t, be->layernorm_backward(dx, db, db + C, d, x, g, mean, rstd, N, C));
	row_bytes("layernorm_backward", sh, t, 4.0 * nc * 3);
	TIMED(t, be->residual_layernorm_forward(y, dx, mean, rstd, x, d, g, bb, N, C, 1e-12f));
	row_bytes("residual_layernorm_forward", sh, t, 4.0 * nc * 4);
	TIMED(t, be->residual_layernorm_backward(dx, db, db + C, y, d, x, g, mean, rstd, N, C));
	row_bytes("residual_layernorm_backward", sh, t, 4.0 * nc * 4);
	TIMED(t, be->residual_forward(y, x, d, nc));
	row_bytes("residual_forward", sh, t, 4.0 * nc * 3);
	TIMED(t, be->dropout_forward(y, x, nc, 0.1f, 1, 0));
	row_bytes("dropout_forward p=0.1", sh, t, 4.0 * nc * 2);
	snprintf(sh, sizeof sh, "%dx%d", N, FF);
	TIMED(t, be->gelu_forward(y, x, ni));
	row_bytes("gelu_forward", sh, t, 4.0 * ni * 2);
	TIMED(t, be->gelu_backward(dx, x, d, ni));
	row_bytes("gelu_backward", sh, t, 4.0 * ni * 3);

	/* attention: q k^T and att v, 4 B NH T^2 hs flops (twice that back);
	 * the ceiling: one sgemm of that shape, (B NH T, hs) @ (T, hs)^T */
	double af = 4.0 * B * NH * (double)T * T * (C / NH);
	snprintf(sh, sizeof sh, "%dx%d, %d heads, T=%d", B, T, NH, T);
	TIMED(t, be->attention_forward(y, att, qkv, offs, B, T, C, NH, 0.1f, 1));
	row_flop("attention_forward p=0.1", sh, t, af,
		 ceiling_sgemm(0, 1, B * NH * T, T, C / NH));
	TIMED(t, be->attention_backward(dqkv, datt, d, qkv, att, offs, B, T, C, NH, 0.1f, 1));
	row_flop("attention_backward p=0.1", sh, t, 2 * af,
		 ceiling_sgemm(0, 1, B * NH * T, T, C / NH));
	/* and at a sentence's length, 24 tokens (a CoNLL or PhraseBank
	 * batch's), where each head's work is small */
	{
		const int Ts = 24;
		int32_t *so = malloc(sizeof(int32_t) * (B + 1));
		for (int b = 0; b <= B; b++)
			so[b] = b * Ts;
		double sf = 4.0 * B * NH * (double)Ts * Ts * (C / NH);
		snprintf(sh, sizeof sh, "%dx%d, %d heads, T=%d", B, Ts, NH, Ts);
		TIMED(t, be->attention_forward(y, att, qkv, so, B, Ts, C, NH, 0.1f, 1));
		row_flop("attention_forward p=0.1", sh, t, sf,
			 ceiling_sgemm(0, 1, B * NH * Ts, Ts, C / NH));
		TIMED(t, be->attention_backward(dqkv, datt, d, qkv, att, so, B, Ts, C, NH, 0.1f, 1));
		row_flop("attention_backward p=0.1", sh, t, 2 * sf,
			 ceiling_sgemm(0, 1, B * NH * Ts, Ts, C / NH));
		free(so);
	}

	snprintf(sh, sizeof sh, "%dx%d", B, C);
	TIMED(t, be->gather_rows_forward(y, x, cls, B, C));
	row_bytes("gather_rows_forward", sh, t, 4.0 * B * C * 2);
	TIMED(t, be->scatter_rows_backward(dx, d, cls, B, C));
	row_bytes("scatter_rows_backward", sh, t, 4.0 * B * C * 3);
	TIMED(t, be->tanh_forward(y, x, (size_t)B * C));
	row_bytes("tanh_forward", sh, t, 4.0 * B * C * 2);
	TIMED(t, be->tanh_backward(dx, x, d, (size_t)B * C));
	row_bytes("tanh_backward", sh, t, 4.0 * B * C * 3);
	snprintf(sh, sizeof sh, "%dx%d", N, L);
	TIMED(t, be->softmax_forward(y, x, N, L));
	row_bytes("softmax_forward", sh, t, 4.0 * N * L * 2);
	TIMED(t, be->crossentropy_forward(y, x, tg, N, L, NULL, 0.0f));
	row_bytes("crossentropy_forward", sh, t, 4.0 * N * 2);
	TIMED(t, be->crossentropy_backward(dx, x, tg, N, L, NULL, 0.0f, 1.0f / N));
	row_bytes("crossentropy_backward", sh, t, 4.0 * N * L * 2);

	/* the optimizer over every parameter of the model */
	size_t np = (size_t)(V + P + 2) * C + 2 * C +
		    (size_t)m->layers * (4 * (size_t)C * C + 4 * C + 2 * (size_t)C * FF + FF + C + 4 * C) +
		    (size_t)C * C + C;
	float *pp = arr(np, 0.05f), *pg = arr(np, 0.001f), *pm = arr(np, 0), *pv = arr(np, 0);
	snprintf(sh, sizeof sh, "%.1fM parameters", np / 1e6);
	int step = 1;
	TIMED(t, be->adamw_update(pp, pg, pm, pv, np, 5e-5f, 0.9f, 0.999f, 1e-8f, 0.01f, step++, 1.0f));
	row_bytes("adamw_update", sh, t, 4.0 * np * 7);
	volatile double sink;
	TIMED(t, sink = be->sumsq(pg, np));
	(void)sink;
	row_bytes("sumsq", sh, t, 4.0 * np);
	TIMED(t, be->scale(pg, np, 1.0f));
	row_bytes("scale", sh, t, 4.0 * np * 2);
	/* the same with the word embeddings' rows of one step: a batch of
	 * 32 CoNLL sentences uses 80-780 of the 30,522 (here one in 64) */
	unsigned char *live = calloc((size_t)V, 1);
	size_t nlive = 0, wn = (size_t)V * C;
	for (int r = 0; r < V; r += 64)
		live[r] = SIFT_ROW_LIVE, nlive++;
	double rest = (double)(np - wn), used = (double)nlive * C;
	snprintf(sh, sizeof sh, "%.1fM, %zu of %d rows", np / 1e6, nlive, V);
	if (be->adamw_update_rows) {
		TIMED(t, be->adamw_update_rows(pp, pg, pm, pv, np, 5e-5f, 0.9f, 0.999f, 1e-8f,
					       0.01f, step++, 1.0f, 0, (size_t)V, C, live));
		row_bytes("adamw_update_rows", sh, t, 4.0 * (7 * (rest + used) + 6 * (wn - used)));
		/* the same rows before any step used the others: their
		 * moments are zero, their step the decay alone */
		for (int r = 0; r < V; r++)
			if (live[r] != SIFT_ROW_LIVE)
				live[r] = SIFT_ROW_FRESH;
		TIMED(t, be->adamw_update_rows(pp, pg, pm, pv, np, 5e-5f, 0.9f, 0.999f, 1e-8f,
					       0.01f, step++, 1.0f, 0, (size_t)V, C, live));
		row_bytes("adamw_update_rows fresh", sh, t, 4.0 * (7 * (rest + used) + 2 * (wn - used)));
		for (int r = 0; r < V; r++)
			if (live[r] == SIFT_ROW_FRESH)
				live[r] = SIFT_ROW_ZERO;
	}
	if (be->sumsq_rows) {
		TIMED(t, sink = be->sumsq_rows(pg, np, 0, (size_t)V, C, live));
		row_bytes("sumsq_rows", sh, t, 4.0 * (rest + used));
	}
	free(live);
	free(wte); free(dwte);
	free(pp); free(pg); free(pm); free(pv);
	free(x); free(y); free(d); free(dx); free(w); free(dw); free(bias); free(db);
	free(qkv); free(dqkv); free(att); free(datt); free(mean); free(rstd); free(g); free(bb);
	free(offs); free(ids); free(tt); free(pos); free(tg); free(cls);
}

/* one call of a non-product op at MiniLM's training shapes (N = 4096,
 * C = 384, I = 1536, 22.7M parameters), for an instruction count that
 * does not depend on the load: valgrind --tool=callgrind
 * --collect-atstart=no --toggle-collect='sift_cpu_*' ops -1 OP (the op
 * alone; ops -1 none makes the set-up only) */
static int one(const char *op)
{
	const struct sift_backend *be = &sift_backend_cpu;
	const int N = 4096, C = 384, FF = 1536, V = 30522, P = 512, layers = 6;
	size_t nc = (size_t)N * C, ni = (size_t)N * FF;
	size_t np = (size_t)(V + P + 2) * C + 2 * C +
		    (size_t)layers * (4 * (size_t)C * C + 4 * C + 2 * (size_t)C * FF + FF + C + 4 * C) +
		    (size_t)C * C + C;
	size_t n = np > ni ? np : ni;	/* one set-up for every op, "none" too */
	float *x = arr(n, 1), *y = arr(n, 0), *d = arr(n, 0.01f), *dx = arr(n, 0);
	float *m = arr(n, 0), *v = arr(n, 0), *mean = arr(N, 0), *rstd = arr(N, 0);
	float *g = arr(C, 1), *bb = arr(C, 0.1f), *dg = arr(FF, 0), *dbb = arr(C, 0);
	volatile double sink = 0;
	if (strcmp(op, "none") == 0)
		;
	else if (strcmp(op, "adamw_update") == 0)
		be->adamw_update(x, d, m, v, np, 5e-5f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, 0.5f);
	else if (strcmp(op, "sumsq") == 0)
		sink = be->sumsq(d, np);
	else if (strcmp(op, "scale") == 0)
		be->scale(d, np, 0.5f);
	else if (strcmp(op, "gelu_forward") == 0)
		be->gelu_forward(y, x, ni);
	else if (strcmp(op, "gelu_backward") == 0)
		be->gelu_backward(dx, x, d, ni);
	else if (strcmp(op, "dropout_forward") == 0)
		be->dropout_forward(y, x, nc, 0.1f, 1, 0);
	else if (strcmp(op, "matmul_backward") == 0)	/* the bias gradient alone */
		be->matmul_backward(NULL, NULL, dg, d, NULL, NULL, N, 0, FF);
	else if (strcmp(op, "residual_forward") == 0)
		be->residual_forward(y, x, d, nc);
	else if (strcmp(op, "residual_layernorm_forward") == 0)
		be->residual_layernorm_forward(y, dx, mean, rstd, x, d, g, bb, N, C, 1e-12f);
	else if (strcmp(op, "residual_layernorm_backward") == 0)
		be->residual_layernorm_backward(dx, dg, dbb, y, d, x, g, mean, rstd, N, C);
	else if (strcmp(op, "layernorm_backward") == 0)
		be->layernorm_backward(dx, dg, dbb, d, x, g, mean, rstd, N, C);
	else {
		fprintf(stderr, "ops: -1 %s: not one of the ops this mode calls\n", op);
		return 2;
	}
	(void)sink;
	free(x); free(y); free(d); free(dx); free(m); free(v); free(mean); free(rstd);
	free(g); free(bb); free(dg); free(dbb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "-1") == 0)
		return one(argv[2]);
	static const struct shape shapes[2] = {
		{ "MiniLM-L6", 384, 1536, 12, 6 },
		{ "BERT-base", 768, 3072, 12, 12 },
	};
	const char *which = argc > 1 ? argv[1] : "all";
	if (argc > 2 || (strcmp(which, "minilm") && strcmp(which, "base") && strcmp(which, "all"))) {
		fprintf(stderr, "usage: ops [minilm|base|all] | ops -1 OP\n");
		return 2;
	}
	const char *r = getenv("REPS");
	if (r && atoi(r) > 0)
		reps = atoi(r);
	double copy, update;
	stream(&copy, &triad_gbs, &update);
	printf("memory: STREAM copy %.1f GB/s, triad %.1f GB/s, in place %.1f GB/s (%d threads, 3 x 128 MiB)\n",
	       copy, triad_gbs, update, omp_get_max_threads());
	printf("cpu backend: %s\n", sift_backend_cpu.describe());
	for (int i = 0; i < 2; i++)
		if (strcmp(which, "all") == 0 || (i == 0) == (strcmp(which, "minilm") == 0))
			bench(&shapes[i]);
	return 0;
}
