/* profile.c: the op-table profiler of SIFT_PROFILE=1 (see profile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "profile.h"

static struct sift_backend real;	/* the slots being wrapped */
static struct sift_backend *wrapped;
static double op_s[SIFT_OP_COUNT], op_flop[SIFT_OP_COUNT];
static long op_n[SIFT_OP_COUNT];
static double t_start;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* the end of one call of op begun at t0, with flop operations */
static void op_out(enum sift_op op, double t0, double flop)
{
	if (real.sync)
		real.sync();
	double dt = now() - t0;
#pragma omp atomic
	op_s[op] += dt;
#pragma omp atomic
	op_n[op]++;
#pragma omp atomic
	op_flop[op] += flop;
}

#define PROF(slot, op, flop, params, args) \
	static void p_##slot params { double t0_ = now(); real.slot args; op_out(op, t0_, flop); }
#define PROFR(slot, op, rt, params, args) \
	static rt p_##slot params { double t0_ = now(); rt r_ = real.slot args; op_out(op, t0_, 0); return r_; }

PROF(embed_forward, SIFT_OP_EMBED, 0, (float *o, const int32_t *i, const int32_t *t,
     const int32_t *p, const float *a, const float *b, const float *c, int N, int C),
     (o, i, t, p, a, b, c, N, C))
/* out (N,OC) = inp (N,C) @ weight^T: 2 N C OC */
PROF(matmul_forward, SIFT_OP_MATMUL, 2.0 * N * C * OC, (float *o, const float *i,
     const float *w, const float *b, int N, int C, int OC), (o, i, w, b, N, C, OC))
PROF(layernorm_forward, SIFT_OP_LAYERNORM, 0, (float *o, float *m, float *r, const float *i,
     const float *w, const float *b, int N, int C, float e), (o, m, r, i, w, b, N, C, e))
PROF(gelu_forward, SIFT_OP_GELU, 0, (float *o, const float *i, size_t n), (o, i, n))
PROF(tanh_forward, SIFT_OP_TANH, 0, (float *o, const float *i, size_t n), (o, i, n))
PROF(attention_forward, SIFT_OP_ATTENTION, 0, (float *o, float *a, const float *q,
     const int32_t *f, int B, int T, int C, int NH, float p, uint64_t s),
     (o, a, q, f, B, T, C, NH, p, s))
PROF(residual_forward, SIFT_OP_RESIDUAL, 0, (float *o, const float *a, const float *b,
     size_t n), (o, a, b, n))
PROF(dropout_forward, SIFT_OP_DROPOUT, 0, (float *o, const float *i, size_t n, float p,
     uint64_t s, uint64_t c), (o, i, n, p, s, c))
PROF(gather_rows_forward, SIFT_OP_GATHER_ROWS, 0, (float *o, const float *i,
     const int32_t *r, int M, int C), (o, i, r, M, C))
PROF(softmax_forward, SIFT_OP_SOFTMAX, 0, (float *p, const float *l, int M, int L),
     (p, l, M, L))
PROF(crossentropy_forward, SIFT_OP_CROSSENTROPY, 0, (float *o, const float *p,
     const int32_t *t, int M, int L, const float *w, float e), (o, p, t, M, L, w, e))
PROF(embed_backward, SIFT_OP_EMBED_BWD, 0, (float *a, float *b, float *c, const float *d,
     const int32_t *i, const int32_t *t, const int32_t *p, int N, int C),
     (a, b, c, d, i, t, p, N, C))
/* dinp and dweight: 2 N C OC each, the ones asked for */
PROF(matmul_backward, SIFT_OP_MATMUL_BWD, 2.0 * N * C * OC * ((di != NULL) + (dw != NULL)),
     (float *di, float *dw, float *db, const float *d, const float *i, const float *w,
     int N, int C, int OC), (di, dw, db, d, i, w, N, C, OC))
PROF(layernorm_backward, SIFT_OP_LAYERNORM_BWD, 0, (float *di, float *dw, float *db,
     const float *d, const float *i, const float *w, const float *m, const float *r,
     int N, int C), (di, dw, db, d, i, w, m, r, N, C))
PROF(gelu_backward, SIFT_OP_GELU_BWD, 0, (float *di, const float *i, const float *d,
     size_t n), (di, i, d, n))
PROF(tanh_backward, SIFT_OP_TANH_BWD, 0, (float *di, const float *o, const float *d,
     size_t n), (di, o, d, n))
PROF(attention_backward, SIFT_OP_ATTENTION_BWD, 0, (float *dq, float *da, const float *d,
     const float *q, const float *a, const int32_t *f, int B, int T, int C, int NH,
     float p, uint64_t s), (dq, da, d, q, a, f, B, T, C, NH, p, s))
PROF(scatter_rows_backward, SIFT_OP_SCATTER_ROWS_BWD, 0, (float *di, const float *d,
     const int32_t *r, int M, int C), (di, d, r, M, C))
PROF(crossentropy_backward, SIFT_OP_CROSSENTROPY_BWD, 0, (float *dl, const float *p,
     const int32_t *t, int M, int L, const float *w, float e, float s),
     (dl, p, t, M, L, w, e, s))
PROF(adamw_update, SIFT_OP_ADAMW, 0, (float *p, const float *g, float *m, float *v,
     size_t n, float lr, float b1, float b2, float e, float wd, int t, float gs),
     (p, g, m, v, n, lr, b1, b2, e, wd, t, gs))
PROFR(sumsq, SIFT_OP_SUMSQ, double, (const float *x, size_t n), (x, n))
PROF(adamw_update_rows, SIFT_OP_ADAMW_ROWS, 0, (float *p, const float *g, float *m,
     float *v, size_t n, float lr, float b1, float b2, float e, float wd, int t,
     float gs, size_t zo, size_t zr, int C, const unsigned char *l),
     (p, g, m, v, n, lr, b1, b2, e, wd, t, gs, zo, zr, C, l))
PROFR(sumsq_rows, SIFT_OP_SUMSQ_ROWS, double, (const float *x, size_t n, size_t zo,
      size_t zr, int C, const unsigned char *l), (x, n, zo, zr, C, l))
PROF(scale, SIFT_OP_SCALE, 0, (float *x, size_t n, float s), (x, n, s))
PROF(residual_layernorm_forward, SIFT_OP_RESIDUAL_LAYERNORM, 0, (float *res, float *o,
     float *m, float *r, const float *a, const float *b, const float *w,
     const float *bi, int N, int C, float e), (res, o, m, r, a, b, w, bi, N, C, e))
PROF(residual_layernorm_backward, SIFT_OP_RESIDUAL_LAYERNORM_BWD, 0, (float *di,
     float *dw, float *db, float *da, const float *d2, const float *i,
     const float *w, const float *m, const float *r, int N, int C),
     (di, dw, db, da, d2, i, w, m, r, N, C))

/* the ops, largest total first, and their sum against the wall time */
static void report(void)
{
	int order[SIFT_OP_COUNT];
	double sum = 0.0, wall = now() - t_start;
	for (int i = 0; i < SIFT_OP_COUNT; i++) {
		order[i] = i;
		sum += op_s[i];
	}
	for (int i = 1; i < SIFT_OP_COUNT; i++)
		for (int j = i; j > 0 && op_s[order[j]] > op_s[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	fprintf(stderr, "profile %-28s %10s %6s %8s %8s\n", "op", "ms", "share",
		"calls", "GFLOP/s");
	for (int i = 0; i < SIFT_OP_COUNT; i++) {
		int k = order[i];
		if (!op_n[k])
			continue;
		fprintf(stderr, "profile %-28s %10.1f %5.1f%% %8ld", sift_op_name((enum sift_op)k),
			1e3 * op_s[k], sum > 0 ? 100.0 * op_s[k] / sum : 0.0, op_n[k]);
		if (op_flop[k] > 0 && op_s[k] > 0)
			fprintf(stderr, " %8.1f", op_flop[k] / op_s[k] / 1e9);
		fputc('\n', stderr);
	}
	fprintf(stderr, "profile %-28s %10.1f of %.1f ms wall (%s)\n", "ops total",
		1e3 * sum, 1e3 * wall, real.name);
}

void sift_profile_get(enum sift_op op, double *s, long *calls, double *gflop)
{
	*s = op_s[op];
	*calls = op_n[op];
	*gflop = op_flop[op] / 1e9;
}

void sift_profile_install(struct sift_backend *be)
{
	if (wrapped)
		return;
	wrapped = be;
	real = *be;
	t_start = now();
#define SET(slot) if (be->slot) be->slot = p_##slot
	SET(embed_forward); SET(matmul_forward); SET(layernorm_forward);
	SET(gelu_forward); SET(tanh_forward); SET(attention_forward);
	SET(residual_forward); SET(dropout_forward); SET(gather_rows_forward);
	SET(softmax_forward); SET(crossentropy_forward); SET(embed_backward);
	SET(matmul_backward); SET(layernorm_backward); SET(gelu_backward);
	SET(tanh_backward); SET(attention_backward); SET(scatter_rows_backward);
	SET(crossentropy_backward); SET(adamw_update); SET(sumsq); SET(scale);
	SET(residual_layernorm_forward); SET(residual_layernorm_backward);
	SET(adamw_update_rows); SET(sumsq_rows);
#undef SET
	atexit(report);
}
