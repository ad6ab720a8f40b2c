/* test-backend-ops.c: every op of every built-in backend against the CPU backend, with a bound per op (as ggml's test-backend-ops). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "backend.h"	/* defines: the op table, sift_backend_get, sift_att_offset */
#include "device.h"	/* defines: sift_device_cuda_count */
#include "rng.h"
#ifdef SIFT_CUDA
#include "../../kernels/backend_cuda.h"	/* defines: sift_cuda_set_precision */
#endif

/*
 * Each op runs on the CPU backend (the reference) and on the backend
 * under test with the same random inputs; every output element must
 * satisfy |out - ref| <= atol + rtol * |ref|.  An op the backend under
 * test leaves NULL is reported "not supported"; one the CPU leaves NULL
 * cannot be checked and is reported so.  Each op also runs twice on the
 * backend under test and the two outputs must be bit-identical.
 *
 * Without a GPU the CUDA checks print SKIP and the test passes, unless
 * SIFT_TEST_STRICT=1, which turns the skip into a failure.  The table's
 * own consistency (supports_op against its slots) is checked always.
 */

static struct sift_rng rng;
static struct sift_backend *cpu, *dev;
static int bf16;	/* GEMM inputs in bf16 on the device under test */

static float *randv(size_t n, float scale)
{
	float *v = malloc((n ? n : 1) * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = scale * sift_rng_normal(&rng);
	return v;
}

static int32_t *randi(size_t n, int below)
{
	int32_t *v = malloc((n ? n : 1) * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = (int32_t)sift_rng_below(&rng, (uint32_t)below);
	return v;
}

static void *up(struct sift_backend *be, const void *h, size_t bytes)
{
	void *d = be->alloc(bytes);
	if (!d) {
		fprintf(stderr, "test-backend-ops: %s: out of memory\n", be->name);
		exit(1);
	}
	if (h)
		be->upload(d, h, bytes);
	return d;
}

static float *down(struct sift_backend *be, const void *d, size_t n)
{
	float *h = malloc((n ? n : 1) * sizeof *h);
	be->download(h, d, n * sizeof *h);
	return h;
}

/* compares got (the device) with ref (the CPU); prints one line */
static void compare(const char *op, const char *what, const float *got,
		    const float *ref, size_t n, double atol, double rtol)
{
	double worst = 0.0, err = 0.0;
	size_t bad = n;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)got[i] - ref[i]);
		double r = e / (atol + rtol * fabs(ref[i]));
		if (!(r <= worst)) {	/* NaN counts as worst */
			worst = r;
			err = e;
			bad = i;
		}
	}
	int ok = worst <= 1.0;
	CHECK(ok);
	printf("  %-22s %-8s %-5s %s max err %.3g%s\n", op, what, dev->name,
	       ok ? "OK  " : "FAIL", err, bf16 ? " (bf16)" : "");
	if (!ok && bad < n)
		fprintf(stderr, "    %s[%zu] = %.9g, cpu %.9g\n", what, bad,
			got[bad], ref[bad]);
}

static void same_bits(const char *op, const float *a, const float *b, size_t n)
{
	int ok = memcmp(a, b, n * sizeof *a) == 0;
	CHECK(ok);
	if (!ok)
		printf("  %-22s %-8s %-5s FAIL two runs differ\n", op, "repeat", dev->name);
}

/* 1 when both backends have the op; otherwise says why not */
static int have(enum sift_op op)
{
	if (!dev->supports_op(op)) {
		printf("  %-22s %-8s %-5s not supported\n", sift_op_name(op), "", dev->name);
		return 0;
	}
	if (!cpu->supports_op(op)) {
		printf("  %-22s %-8s %-5s no cpu reference\n", sift_op_name(op), "", dev->name);
		return 0;
	}
	return 1;
}

/* ---- the ops; each runs on be and returns its outputs on the host ---- */

struct shape {
	int B, N, C, NH, OC, V, P, T;	/* T: the longest example */
	int32_t offs[9];
};

static void make_shape(struct shape *s, int B, const int *lens, int C, int NH)
{
	s->B = B;
	s->offs[0] = 0;
	s->T = 0;
	for (int b = 0; b < B; b++) {
		s->offs[b + 1] = s->offs[b] + lens[b];
		if (lens[b] > s->T)
			s->T = lens[b];
	}
	s->N = s->offs[B];
	s->C = C;
	s->NH = NH;
	s->OC = 3 * C;
	s->V = 97;
	s->P = 128;
}

static void test_embed(const struct shape *s)
{
	int N = s->N, C = s->C;
	float *wte = randv((size_t)s->V * C, 1), *wpe = randv((size_t)s->P * C, 1);
	float *wtt = randv(2 * (size_t)C, 1);
	int32_t *ids = randi(N, 7), *tt = randi(N, 2), *pos = randi(N, 64);	/* repeats on purpose */
	float *dout = randv((size_t)N * C, 1);
	float *dw0 = randv((size_t)s->V * C, 1), *dp0 = randv((size_t)s->P * C, 1);
	float *dt0 = randv(2 * (size_t)C, 1);
	float *o[3], *g[3][3];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	int fwd = have(SIFT_OP_EMBED), bwd = have(SIFT_OP_EMBED_BWD);
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *dwte = up(be, wte, (size_t)s->V * C * 4), *dwpe = up(be, wpe, (size_t)s->P * C * 4);
		void *dwtt = up(be, wtt, 2 * (size_t)C * 4), *dids = up(be, ids, N * 4);
		void *dtt = up(be, tt, N * 4), *dpos = up(be, pos, N * 4);
		void *dout_d = up(be, dout, (size_t)N * C * 4);
		void *dout_ = be->alloc((size_t)N * C * 4);
		if (fwd)
			be->embed_forward(dout_, dids, dtt, dpos, dwte, dwpe, dwtt, N, C);
		o[k] = down(be, dout_, (size_t)N * C);
		void *gw = up(be, dw0, (size_t)s->V * C * 4), *gp = up(be, dp0, (size_t)s->P * C * 4);
		void *gt = up(be, dt0, 2 * (size_t)C * 4);
		if (bwd)
			be->embed_backward(gw, gp, gt, dout_d, dids, dtt, dpos, N, C);
		g[k][0] = down(be, gw, (size_t)s->V * C);
		g[k][1] = down(be, gp, (size_t)s->P * C);
		g[k][2] = down(be, gt, 2 * (size_t)C);
		void *all[] = { dwte, dwpe, dwtt, dids, dtt, dpos, dout_d, dout_, gw, gp, gt };
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			be->free(all[i]);
	}
	if (fwd) {
		compare("embed_forward", "out", o[1], o[0], (size_t)N * C, 1e-6, 1e-6);
		same_bits("embed_forward", o[1], o[2], (size_t)N * C);
	}
	if (bwd) {
		compare("embed_backward", "dwte", g[1][0], g[0][0], (size_t)s->V * C, 1e-5, 1e-5);
		compare("embed_backward", "dwpe", g[1][1], g[0][1], (size_t)s->P * C, 1e-5, 1e-5);
		compare("embed_backward", "dwtt", g[1][2], g[0][2], 2 * (size_t)C, 1e-5, 1e-5);
		for (int t = 0; t < 3; t++)
			same_bits("embed_backward", g[1][t], g[2][t],
				  t == 0 ? (size_t)s->V * C : t == 1 ? (size_t)s->P * C : 2 * (size_t)C);
	}
	for (int k = 0; k < 3; k++) {
		free(o[k]);
		for (int t = 0; t < 3; t++)
			free(g[k][t]);
	}
	free(wte); free(wpe); free(wtt); free(ids); free(tt); free(pos);
	free(dout); free(dw0); free(dp0); free(dt0);
}

static void test_matmul(int N, int C, int OC, int with_bias)
{
	float *inp = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 0.1f);
	float *bias = randv(OC, 1), *dout = randv((size_t)N * OC, 1);
	float *dw0 = randv((size_t)OC * C, 1), *db0 = randv(OC, 1);
	float *r[3][4];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	int fwd = have(SIFT_OP_MATMUL), bwd = have(SIFT_OP_MATMUL_BWD);
	/* bf16 inputs carry 8 bits of mantissa: errors grow with the square
	 * root of the products summed, C for out, OC for dinp */
	double atol = bf16 ? 2e-3 * sqrt(C) : 1e-4, rtol = bf16 ? 2e-2 : 1e-4;
	double atol_di = bf16 ? 2e-3 * sqrt(OC) : 1e-4;
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *di = up(be, inp, (size_t)N * C * 4), *dw = up(be, w, (size_t)OC * C * 4);
		void *db = up(be, bias, OC * 4), *dd = up(be, dout, (size_t)N * OC * 4);
		void *o = be->alloc((size_t)N * OC * 4), *gi = be->alloc((size_t)N * C * 4);
		void *gw = up(be, dw0, (size_t)OC * C * 4), *gb = up(be, db0, OC * 4);
		if (fwd)
			be->matmul_forward(o, di, dw, with_bias ? db : NULL, N, C, OC);
		if (bwd)
			be->matmul_backward(gi, gw, with_bias ? gb : NULL, dd, di, dw, N, C, OC);
		r[k][0] = down(be, o, (size_t)N * OC);
		r[k][1] = down(be, gi, (size_t)N * C);
		r[k][2] = down(be, gw, (size_t)OC * C);
		r[k][3] = down(be, gb, OC);
		void *all[] = { di, dw, db, dd, o, gi, gw, gb };
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			be->free(all[i]);
	}
	const char *fn = with_bias ? "matmul_forward+bias" : "matmul_forward";
	if (fwd) {
		compare(fn, "out", r[1][0], r[0][0], (size_t)N * OC, atol, rtol);
		same_bits(fn, r[1][0], r[2][0], (size_t)N * OC);
	}
	if (bwd) {
		/* dweight sums N products: scale the bound with N */
		double nt = bf16 ? 3e-2 * sqrt(N) : 1e-4 * sqrt(N);
		compare("matmul_backward", "dinp", r[1][1], r[0][1], (size_t)N * C, atol_di, rtol);
		compare("matmul_backward", "dweight", r[1][2], r[0][2], (size_t)OC * C, nt, rtol);
		compare("matmul_backward", "dbias", r[1][3], r[0][3], OC, 1e-4 * sqrt(N), 1e-5);
		for (int t = 1; t < 4; t++)
			same_bits("matmul_backward", r[1][t], r[2][t],
				  t == 1 ? (size_t)N * C : t == 2 ? (size_t)OC * C : (size_t)OC);
	}
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 4; t++)
			free(r[k][t]);
	free(inp); free(w); free(bias); free(dout); free(dw0); free(db0);
}

/*
 * A weight read in bf16 comes from a bf16 mirror of its allocation that
 * AdamW keeps current and upload/memset0 make stale (kernels/ctx.cu).
 * Two weights share one allocation here, as in a model's parameter
 * buffer; each product after a write must see the new values: AdamW with
 * a large rate, an upload into the second weight alone, then zeros.
 */
static void test_weight_mirror(int N, int C, int OC)
{
	size_t nw = (size_t)OC * C;
	float *inp = randv((size_t)N * C, 1), *w = randv(2 * nw, 0.1f);
	float *w2 = randv(nw, 0.1f), *g = randv(nw, 1), *dout = randv((size_t)N * OC, 1);
	float *zeros = calloc(nw, sizeof *zeros);
	float *r[3][5];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	if (!have(SIFT_OP_MATMUL) || !have(SIFT_OP_MATMUL_BWD) || !have(SIFT_OP_ADAMW))
		return;
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		float *dp = up(be, w, 2 * nw * 4), *di = up(be, inp, (size_t)N * C * 4);
		void *dg = up(be, g, nw * 4), *dd = up(be, dout, (size_t)N * OC * 4);
		void *m = up(be, zeros, nw * 4), *v = up(be, zeros, nw * 4);
		void *o = be->alloc((size_t)N * OC * 4), *gi = be->alloc((size_t)N * C * 4);
		be->matmul_forward(o, di, dp, NULL, N, C, OC);
		r[k][0] = down(be, o, (size_t)N * OC);
		be->adamw_update(dp, dg, m, v, nw, 0.05f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, 1.0f);
		be->matmul_forward(o, di, dp, NULL, N, C, OC);
		r[k][1] = down(be, o, (size_t)N * OC);
		be->matmul_backward(gi, NULL, NULL, dd, di, dp, N, C, OC);
		r[k][2] = down(be, gi, (size_t)N * C);
		be->matmul_forward(o, di, dp + nw, NULL, N, C, OC);	/* mirror made */
		be->upload(dp + nw, w2, nw * 4);
		be->matmul_forward(o, di, dp + nw, NULL, N, C, OC);
		r[k][3] = down(be, o, (size_t)N * OC);
		be->memset0(dp, nw * 4);
		be->matmul_forward(o, di, dp, NULL, N, C, OC);
		r[k][4] = down(be, o, (size_t)N * OC);
		void *all[] = { dp, di, dg, dd, m, v, o, gi };
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			be->free(all[i]);
	}
	static const char *what[5] = { "first", "adamw", "dinp", "upload", "memset0" };
	for (int t = 0; t < 5; t++) {
		size_t n = t == 2 ? (size_t)N * C : (size_t)N * OC;
		/* the bound of test_matmul: sqrt(products summed) */
		compare("weight mirror", what[t], r[1][t], r[0][t], n,
			bf16 ? 2e-3 * sqrt(t == 2 ? OC : C) : 1e-4, bf16 ? 2e-2 : 1e-4);
		same_bits("weight mirror", r[1][t], r[2][t], n);
	}
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 5; t++)
			free(r[k][t]);
	free(inp); free(w); free(w2); free(g); free(dout); free(zeros);
}

static void test_layernorm(int N, int C)
{
	float *inp = randv((size_t)N * C, 2), *w = randv(C, 1), *b = randv(C, 1);
	float *dout = randv((size_t)N * C, 1), *dw0 = randv(C, 1), *db0 = randv(C, 1);
	float *r[3][6];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	int fwd = have(SIFT_OP_LAYERNORM), bwd = have(SIFT_OP_LAYERNORM_BWD);
	for (int i = 0; i < C; i++)	/* a non-zero mean per row */
		inp[i] += 3.0f;
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *di = up(be, inp, (size_t)N * C * 4), *dw = up(be, w, C * 4);
		void *db = up(be, b, C * 4), *dd = up(be, dout, (size_t)N * C * 4);
		void *o = be->alloc((size_t)N * C * 4), *mu = be->alloc(N * 4), *rs = be->alloc(N * 4);
		void *gi = be->alloc((size_t)N * C * 4), *gw = up(be, dw0, C * 4), *gb = up(be, db0, C * 4);
		/* the backward pass of both backends uses the CPU's mean and rstd */
		if (fwd)
			be->layernorm_forward(o, mu, rs, di, dw, db, N, C, 1e-12f);
		r[k][0] = down(be, o, (size_t)N * C);
		r[k][1] = down(be, mu, N);
		r[k][2] = down(be, rs, N);
		if (bwd) {
			if (k > 0) {
				be->upload(mu, r[0][1], N * 4);
				be->upload(rs, r[0][2], N * 4);
			}
			be->layernorm_backward(gi, gw, gb, dd, di, dw, mu, rs, N, C);
		}
		r[k][3] = down(be, gi, (size_t)N * C);
		r[k][4] = down(be, gw, C);
		r[k][5] = down(be, gb, C);
		void *all[] = { di, dw, db, dd, o, mu, rs, gi, gw, gb };
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			be->free(all[i]);
	}
	if (fwd) {
		compare("layernorm_forward", "out", r[1][0], r[0][0], (size_t)N * C, 1e-5, 1e-5);
		compare("layernorm_forward", "mean", r[1][1], r[0][1], N, 1e-6, 1e-6);
		compare("layernorm_forward", "rstd", r[1][2], r[0][2], N, 1e-6, 1e-5);
		same_bits("layernorm_forward", r[1][0], r[2][0], (size_t)N * C);
	}
	if (bwd) {
		compare("layernorm_backward", "dinp", r[1][3], r[0][3], (size_t)N * C, 1e-5, 1e-4);
		compare("layernorm_backward", "dweight", r[1][4], r[0][4], C, 1e-4 * sqrt(N), 1e-5);
		compare("layernorm_backward", "dbias", r[1][5], r[0][5], C, 1e-4 * sqrt(N), 1e-5);
		for (int t = 3; t < 6; t++)
			same_bits("layernorm_backward", r[1][t], r[2][t], t == 3 ? (size_t)N * C : (size_t)C);
	}
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 6; t++)
			free(r[k][t]);
	free(inp); free(w); free(b); free(dout); free(dw0); free(db0);
}

/* gelu, tanh, residual, dropout and their backward passes, on n elements */
/*
 * residual_layernorm_forward/backward: on each backend, bit for bit the
 * two ops they stand for (residual_forward, then layernorm_forward or
 * layernorm_backward), with the backward's dinp aliasing db as
 * lib/bert_bwd.c calls it; and the device within the LayerNorm bounds of
 * the CPU.
 */
static void test_residual_layernorm(int N, int C, int with_dev)
{
	size_t NC = (size_t)N * C;
	float *a = randv(NC, 2), *b = randv(NC, 1), *w = randv(C, 1), *bias = randv(C, 1);
	float *da = randv(NC, 1), *db = randv(NC, 1), *dw0 = randv(C, 1), *db0 = randv(C, 1);
	float *r[3][7], *u[3][7];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	int K = with_dev ? 3 : 1;	/* without a device: the cpu's own bits */
	if (with_dev && (!have(SIFT_OP_RESIDUAL_LAYERNORM) ||
			 !have(SIFT_OP_RESIDUAL_LAYERNORM_BWD)))
		return;
	for (int k = 0; k < K; k++) {
		struct sift_backend *be = bes[k];
		void *pa = up(be, a, NC * 4), *pb = up(be, b, NC * 4);
		void *pw = up(be, w, C * 4), *pbias = up(be, bias, C * 4);
		void *res = be->alloc(NC * 4), *out = be->alloc(NC * 4);
		void *mu = be->alloc(N * 4), *rs = be->alloc(N * 4);
		void *gw = up(be, dw0, C * 4), *gb = up(be, db0, C * 4);
		void *pda = up(be, da, NC * 4), *pdb = up(be, db, NC * 4);
		/* fused */
		be->residual_layernorm_forward(res, out, mu, rs, pa, pb, pw, pbias, N, C, 1e-12f);
		r[k][0] = down(be, res, NC);
		r[k][1] = down(be, out, NC);
		r[k][2] = down(be, mu, N);
		r[k][3] = down(be, rs, N);
		if (k > 0) {	/* the backward from the CPU's statistics */
			be->upload(res, r[0][0], NC * 4);
			be->upload(mu, r[0][2], N * 4);
			be->upload(rs, r[0][3], N * 4);
		}
		be->residual_layernorm_backward(pdb, gw, gb, pda, pdb, res, pw, mu, rs, N, C);
		r[k][4] = down(be, pdb, NC);
		r[k][5] = down(be, gw, C);
		r[k][6] = down(be, gb, C);
		/* the two ops it stands for */
		be->upload(gw, dw0, C * 4);
		be->upload(gb, db0, C * 4);
		be->upload(pda, da, NC * 4);
		be->upload(pdb, db, NC * 4);
		be->residual_forward(res, pa, pb, NC);
		be->layernorm_forward(out, mu, rs, res, pw, pbias, N, C, 1e-12f);
		u[k][0] = down(be, res, NC);
		u[k][1] = down(be, out, NC);
		u[k][2] = down(be, mu, N);
		u[k][3] = down(be, rs, N);
		if (k > 0) {
			be->upload(res, r[0][0], NC * 4);
			be->upload(mu, r[0][2], N * 4);
			be->upload(rs, r[0][3], N * 4);
		}
		be->residual_forward(pda, pda, pdb, NC);
		be->layernorm_backward(pdb, gw, gb, pda, res, pw, mu, rs, N, C);
		u[k][4] = down(be, pdb, NC);
		u[k][5] = down(be, gw, C);
		u[k][6] = down(be, gb, C);
		void *all[] = { pa, pb, pw, pbias, res, out, mu, rs, gw, gb, pda, pdb };
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			be->free(all[i]);
	}
	static const char *what[7] = { "res", "out", "mean", "rstd", "dinp", "dweight", "dbias" };
	for (int t = 0; t < 7; t++) {
		size_t n = t == 2 || t == 3 ? (size_t)N : t >= 5 ? (size_t)C : NC;
		const char *op = t < 4 ? "residual_layernorm_fwd" : "residual_layernorm_bwd";
		double at = t >= 5 ? 1e-4 * sqrt(N) : 1e-5, rt = t == 4 ? 1e-4 : 1e-5;
		if (with_dev) {
			compare(op, what[t], r[1][t], r[0][t], n, at, rt);
			same_bits(op, r[1][t], r[2][t], n);
		}
		for (int k = 0; k < (with_dev ? 2 : 1); k++) {	/* cpu, device */
			int ok = memcmp(r[k][t], u[k][t], n * sizeof(float)) == 0;
			CHECK(ok);
			if (!ok)
				printf("  %-22s %-8s %-5s FAIL not the bits of the unfused ops\n",
				       op, what[t], k ? dev->name : cpu->name);
		}
	}
	for (int k = 0; k < K; k++)
		for (int t = 0; t < 7; t++) {
			free(r[k][t]);
			free(u[k][t]);
		}
	free(a); free(b); free(w); free(bias); free(da); free(db); free(dw0); free(db0);
}

static void test_elementwise(size_t n)
{
	float *x = randv(n, 2), *y = randv(n, 1), *g = randv(n, 1);
	float *r[3][7];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	int ok[7] = {
		have(SIFT_OP_GELU), have(SIFT_OP_TANH), have(SIFT_OP_RESIDUAL),
		have(SIFT_OP_DROPOUT), have(SIFT_OP_GELU_BWD), have(SIFT_OP_TANH_BWD),
		have(SIFT_OP_DROPOUT),
	};
	static const char *const names[7] = {
		"gelu_forward", "tanh_forward", "residual_forward", "dropout_forward",
		"gelu_backward", "tanh_backward", "dropout_forward",
	};
	static const char *const what[7] = {
		"out", "out", "out", "p=0.1", "dinp", "dinp", "p=0",
	};
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *dx = up(be, x, n * 4), *dy = up(be, y, n * 4), *dg = up(be, g, n * 4);
		void *o[7];
		for (int t = 0; t < 7; t++)
			o[t] = be->alloc(n * 4);
		if (ok[0]) be->gelu_forward(o[0], dx, n);
		if (ok[1]) be->tanh_forward(o[1], dx, n);
		if (ok[2]) be->residual_forward(o[2], dx, dy, n);
		if (ok[3]) be->dropout_forward(o[3], dx, n, 0.1f, 1234, 99);
		if (ok[4]) be->gelu_backward(o[4], dx, dg, n);
		if (ok[5]) be->tanh_backward(o[5], dy, dg, n);
		if (ok[6]) be->dropout_forward(o[6], dx, n, 0.0f, 1234, 99);
		for (int t = 0; t < 7; t++) {
			r[k][t] = down(be, o[t], n);
			be->free(o[t]);
		}
		be->free(dx); be->free(dy); be->free(dg);
	}
	for (int t = 0; t < 7; t++) {
		if (!ok[t])
			continue;
		compare(names[t], what[t], r[1][t], r[0][t], n, 1e-6, 1e-5);
		same_bits(names[t], r[1][t], r[2][t], n);
	}
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 7; t++)
			free(r[k][t]);
	free(x); free(y); free(g);
}

static void test_attention(const struct shape *s, float p)
{
	int N = s->N, C = s->C, NH = s->NH, B = s->B;
	size_t na = sift_att_offset(s->offs, B, NH);
	float *qkv = randv((size_t)N * 3 * C, 1), *dout = randv((size_t)N * C, 1);
	float *r[3][4];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	int fwd = have(SIFT_OP_ATTENTION), bwd = have(SIFT_OP_ATTENTION_BWD);
	char what[32];
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *dq = up(be, qkv, (size_t)N * 3 * C * 4), *dd = up(be, dout, (size_t)N * C * 4);
		void *doffs = up(be, s->offs, (B + 1) * 4);
		void *o = be->alloc((size_t)N * C * 4), *att = be->alloc(na * 4);
		void *datt = be->alloc(na * 4), *dqkv = be->alloc((size_t)N * 3 * C * 4);
		if (fwd)
			be->attention_forward(o, att, dq, doffs, B, s->T, C, NH, p, 77);
		r[k][0] = down(be, o, (size_t)N * C);
		r[k][1] = down(be, att, na);
		if (bwd) {
			/* both backends start from the CPU's probabilities */
			if (k > 0)
				be->upload(att, r[0][1], na * 4);
			be->attention_backward(dqkv, datt, dd, dq, att, doffs, B, s->T, C, NH, p, 77);
		}
		r[k][2] = down(be, dqkv, (size_t)N * 3 * C);
		r[k][3] = down(be, datt, na);
		void *all[] = { dq, dd, doffs, o, att, datt, dqkv };
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			be->free(all[i]);
	}
	snprintf(what, sizeof what, "hs=%d p=%g", C / NH, p);
	if (fwd) {
		/* bf16: q, k, probabilities and v rounded to 8 bits of mantissa */
		compare("attention_forward", what, r[1][0], r[0][0], (size_t)N * C,
			bf16 ? 1e-2 : 1e-5, bf16 ? 2e-2 : 1e-4);
		compare("attention_forward", "att", r[1][1], r[0][1], na,
			bf16 ? 1e-3 : 1e-6, bf16 ? 3e-2 : 1e-4);
		same_bits("attention_forward", r[1][0], r[2][0], (size_t)N * C);
	}
	if (bwd) {
		compare("attention_backward", what, r[1][2], r[0][2], (size_t)N * 3 * C,
			bf16 ? 1e-2 : 1e-5, bf16 ? 2e-2 : 1e-4);
		same_bits("attention_backward", r[1][2], r[2][2], (size_t)N * 3 * C);
	}
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 4; t++)
			free(r[k][t]);
	free(qkv); free(dout);
}

/*
 * The CPU's attention against the formulas in double, without dropout:
 * P = softmax(scale q k^T) per example and head, out = P v; backward
 * dP = dy v^T, dS = P (dP - rowsum(dP P)) scale, dq = dS k, dk = dS^T q,
 * dv = P^T dy.  The lengths leave every remainder of the kernels' blocks
 * of 4 query rows and 16 keys.
 */
static void test_attention_ref(const struct shape *s)
{
	int N = s->N, C = s->C, NH = s->NH, B = s->B, hs = C / NH;
	size_t C3 = 3 * (size_t)C, na = sift_att_offset(s->offs, B, NH);
	float *qkv = randv((size_t)N * C3, 1), *dy = randv((size_t)N * C, 1);
	float *out = malloc((size_t)N * C * 4), *att = malloc(na * 4);
	float *datt = malloc(na * 4), *dqkv = malloc((size_t)N * C3 * 4);
	double *ro = calloc((size_t)N * C, 8), *rg = calloc((size_t)N * C3, 8);
	double scale = 1.0 / sqrt((double)hs);
	cpu->attention_forward(out, att, qkv, s->offs, B, s->T, C, NH, 0.0f, 1);
	cpu->attention_backward(dqkv, datt, dy, qkv, att, s->offs, B, s->T, C, NH, 0.0f, 1);
	for (int b = 0; b < B; b++) {
		int r0 = s->offs[b], len = s->offs[b + 1] - r0;
		double *P = malloc(sizeof(double) * len * len), *dS = malloc(sizeof(double) * len * len);
		for (int h = 0; h < NH; h++) {
			const float *q = qkv + (size_t)r0 * C3 + h * hs, *k = q + C, *v = q + 2 * C;
			const float *g = dy + (size_t)r0 * C + h * hs;
			for (int i = 0; i < len; i++) {
				double mx = -INFINITY, sum = 0, dot = 0;
				for (int j = 0; j < len; j++) {
					double d = 0;
					for (int e = 0; e < hs; e++)
						d += (double)q[i * C3 + e] * k[j * C3 + e];
					P[i * len + j] = d * scale;
					mx = fmax(mx, d * scale);
				}
				for (int j = 0; j < len; j++)
					sum += P[i * len + j] = exp(P[i * len + j] - mx);
				for (int j = 0; j < len; j++) {
					P[i * len + j] /= sum;
					double dp = 0;
					for (int e = 0; e < hs; e++)
						dp += (double)g[(size_t)i * C + e] * v[j * C3 + e];
					dS[i * len + j] = dp;
					dot += dp * P[i * len + j];
				}
				for (int j = 0; j < len; j++)
					dS[i * len + j] = P[i * len + j] * (dS[i * len + j] - dot) * scale;
			}
			for (int i = 0; i < len; i++)
				for (int j = 0; j < len; j++)
					for (int e = 0; e < hs; e++) {
						size_t oi = (size_t)(r0 + i) * C + h * hs + e;
						size_t gi = (size_t)(r0 + i) * C3 + h * hs + e;
						size_t gj = (size_t)(r0 + j) * C3 + h * hs + e;
						ro[oi] += P[i * len + j] * v[j * C3 + e];
						rg[gi] += dS[i * len + j] * k[j * C3 + e];
						rg[gj + C] += dS[i * len + j] * q[i * C3 + e];
						rg[gj + 2 * C] += P[i * len + j] * g[(size_t)i * C + e];
					}
		}
		free(P);
		free(dS);
	}
	double eo = 0, eg = 0;
	for (size_t i = 0; i < (size_t)N * C; i++)
		eo = fmax(eo, fabs(out[i] - ro[i]));
	for (size_t i = 0; i < (size_t)N * C3; i++)
		eg = fmax(eg, fabs(dqkv[i] - rg[i]));
	CHECK(eo < 1e-5);
	CHECK(eg < 1e-4);
	printf("  %-22s hs=%-5d cpu   %s max err %.3g, backward %.3g (against double)\n",
	       "attention", hs, eo < 1e-5 && eg < 1e-4 ? "OK  " : "FAIL", eo, eg);
	free(qkv); free(dy); free(out); free(att); free(datt); free(dqkv); free(ro); free(rg);
}

/* gather/scatter of rows, softmax, cross-entropy forward and backward */
static void test_head(int N, int M, int C, int L)
{
	float *inp = randv((size_t)N * C, 1), *g = randv((size_t)M * C, 1);
	float *d0 = randv((size_t)N * C, 1), *logits = randv((size_t)M * L, 3);
	int32_t *rows = randi(M, N), *tg = randi(M, L);
	/* positive class weights, from an RNG of their own: the inputs of
	 * the tests after this one stay what they were */
	struct sift_rng wr;
	sift_rng_seed(&wr, 15);
	float *cw = malloc((size_t)L * sizeof *cw);
	for (int j = 0; j < L; j++)
		cw[j] = 0.5f + fabsf(sift_rng_normal(&wr));
	float *r[3][7];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	int ok[5] = {
		have(SIFT_OP_GATHER_ROWS), have(SIFT_OP_SCATTER_ROWS_BWD), have(SIFT_OP_SOFTMAX),
		have(SIFT_OP_CROSSENTROPY), have(SIFT_OP_CROSSENTROPY_BWD),
	};
	tg[0] = -100;	/* ignored, as SIFT_IGNORE */
	rows[M - 1] = rows[0];	/* a row named twice adds up */
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *di = up(be, inp, (size_t)N * C * 4), *dg = up(be, g, (size_t)M * C * 4);
		void *dd = up(be, d0, (size_t)N * C * 4), *dl = up(be, logits, (size_t)M * L * 4);
		void *dr = up(be, rows, M * 4), *dt = up(be, tg, M * 4);
		void *o = be->alloc((size_t)M * C * 4), *pr = be->alloc((size_t)M * L * 4);
		void *ls = be->alloc(M * 4), *dlg = be->alloc((size_t)M * L * 4);
		if (ok[0]) be->gather_rows_forward(o, di, dr, M, C);
		if (ok[1]) be->scatter_rows_backward(dd, dg, dr, M, C);
		if (ok[2]) be->softmax_forward(pr, dl, M, L);
		/* the loss and its gradient from the CPU's probabilities */
		if (k > 0 && ok[2])
			be->upload(pr, r[0][2], (size_t)M * L * 4);
		if (ok[3]) be->crossentropy_forward(ls, pr, dt, M, L, NULL, 0.0f);
		if (ok[4]) be->crossentropy_backward(dlg, pr, dt, M, L, NULL, 0.0f, 0.25f);
		/* with class weights and label smoothing (PyTorch's
		 * weight= and label_smoothing=) */
		void *dw = up(be, cw, L * 4);
		void *ls2 = be->alloc(M * 4), *dlg2 = be->alloc((size_t)M * L * 4);
		if (ok[3]) be->crossentropy_forward(ls2, pr, dt, M, L, dw, 0.1f);
		if (ok[4]) be->crossentropy_backward(dlg2, pr, dt, M, L, dw, 0.1f, 0.25f);
		r[k][5] = down(be, ls2, M);
		r[k][6] = down(be, dlg2, (size_t)M * L);
		be->free(dw); be->free(ls2); be->free(dlg2);
		r[k][0] = down(be, o, (size_t)M * C);
		r[k][1] = down(be, dd, (size_t)N * C);
		r[k][2] = down(be, pr, (size_t)M * L);
		r[k][3] = down(be, ls, M);
		r[k][4] = down(be, dlg, (size_t)M * L);
		void *all[] = { di, dg, dd, dl, dr, dt, o, pr, ls, dlg };
		for (size_t i = 0; i < sizeof all / sizeof *all; i++)
			be->free(all[i]);
	}
	static const char *const names[5] = {
		"gather_rows_forward", "scatter_rows_backward", "softmax_forward",
		"crossentropy_forward", "crossentropy_backward",
	};
	size_t len[5] = { (size_t)M * C, (size_t)N * C, (size_t)M * L, (size_t)M, (size_t)M * L };
	for (int t = 0; t < 5; t++) {
		if (!ok[t])
			continue;
		compare(names[t], "out", r[1][t], r[0][t], len[t], 1e-6, 1e-5);
		same_bits(names[t], r[1][t], r[2][t], len[t]);
	}
	for (int t = 5; t < 7; t++) {
		if (!ok[t - 2])
			continue;
		compare(names[t - 2], t == 5 ? "weighted smoothed loss" : "weighted smoothed dlogits",
			r[1][t], r[0][t], len[t - 2], 1e-6, 1e-5);
		same_bits(names[t - 2], r[1][t], r[2][t], len[t - 2]);
	}
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 7; t++)
			free(r[k][t]);
	free(inp); free(g); free(d0); free(logits); free(rows); free(tg); free(cw);
}

static void test_adamw(size_t n)
{
	float *p = randv(n, 1), *g = randv(n, 1), *m = randv(n, 0.1f), *v = randv(n, 0.1f);
	float *r[3][3];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	if (!have(SIFT_OP_ADAMW))
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = v[i] * v[i];	/* a second moment is never negative */
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *dp = up(be, p, n * 4), *dg = up(be, g, n * 4);
		void *dm = up(be, m, n * 4), *dv = up(be, v, n * 4);
		/* the last step with the clip's coefficient applied */
		for (int t = 3; t < 6; t++)
			be->adamw_update(dp, dg, dm, dv, n, 2e-5f, 0.9f, 0.999f, 1e-8f, 0.01f, t,
					 t == 5 ? 0.37f : 1.0f);
		r[k][0] = down(be, dp, n);
		r[k][1] = down(be, dm, n);
		r[k][2] = down(be, dv, n);
		be->free(dp); be->free(dg); be->free(dm); be->free(dv);
	}
	compare("adamw_update", "params", r[1][0], r[0][0], n, 1e-7, 1e-6);
	compare("adamw_update", "m", r[1][1], r[0][1], n, 1e-7, 1e-6);
	compare("adamw_update", "v", r[1][2], r[0][2], n, 1e-9, 1e-6);
	for (int t = 0; t < 3; t++)
		same_bits("adamw_update", r[1][t], r[2][t], n);
	for (int k = 0; k < 3; k++)
		for (int t = 0; t < 3; t++)
			free(r[k][t]);
	free(p); free(g); free(m); free(v);
}

/* the gradient norm and clipping: sumsq (a double) and scale */
static void test_norm(size_t n)
{
	float *g = randv(n, 1);
	double ss[3];
	float *r[3];
	struct sift_backend *bes[3] = { cpu, dev, dev };
	if (!have(SIFT_OP_SUMSQ) || !have(SIFT_OP_SCALE))
		return;
	for (int k = 0; k < 3; k++) {
		struct sift_backend *be = bes[k];
		void *dg = up(be, g, n * 4);
		ss[k] = be->sumsq(dg, n);
		be->scale(dg, n, 0.37f);
		r[k] = down(be, dg, n);
		be->free(dg);
	}
	float got = (float)ss[1], ref = (float)ss[0];
	compare("sumsq", "sum", &got, &ref, 1, 1e-12, 1e-6);
	CHECK(memcmp(&ss[1], &ss[2], sizeof ss[1]) == 0);
	compare("scale", "x", r[1], r[0], n, 1e-30, 0.0);	/* one rounding: exact */
	same_bits("scale", r[1], r[2], n);
	for (int k = 0; k < 3; k++)
		free(r[k]);
	free(g);
}

/*
 * The forms over known-zero rows (adamw_update_rows, sumsq_rows) on the
 * backends that have them: the rows of a gradient not SIFT_ROW_LIVE are
 * zero (and the moments too in those SIFT_ROW_FRESH), and the _rows op
 * must give the bits of the plain op, here on the same backend, which
 * reads them.  n floats with rows of C from zoff: zoff
 * and C off the 16-float lanes, rows across the 16384-float chunks, a
 * gradient that ends inside the rows' last block of 16 (the tail).
 */
static void test_zero_rows(struct sift_backend *be, size_t n, size_t zoff,
			   size_t zrows, int C, int every)
{
	if (!be->adamw_update_rows || !be->sumsq_rows) {
		printf("  %-22s %-8s %-5s not supported\n", "adamw_update_rows", "", be->name);
		return;
	}
	float *g = randv(n, 1), *p = randv(n, 1), *m = randv(n, 0.1f), *v = randv(n, 0.1f);
	unsigned char *live = calloc(zrows, 1);
	for (size_t i = 0; i < n; i++)
		v[i] = v[i] * v[i];
	for (size_t r = 0; r < zrows; r++) {
		/* single rows, runs of neighbours and long gaps */
		live[r] = every > 0 && (r % (size_t)every == 0 || r % 97 < 3 ||
					r + 1 == zrows) ? SIFT_ROW_LIVE : SIFT_ROW_ZERO;
		/* and rows without moments yet, alone and in runs */
		if (live[r] != SIFT_ROW_LIVE && (r % 7 == 2 || r % 89 > 60)) {
			live[r] = SIFT_ROW_FRESH;
			for (int j = 0; j < C; j++)
				m[zoff + r * C + j] = v[zoff + r * C + j] = 0.0f;
		}
		if (live[r] != SIFT_ROW_LIVE)
			for (int j = 0; j < C; j++)
				g[zoff + r * C + j] = 0.0f;
	}
	float *r[2][3];
	double ss[2];
	for (int k = 0; k < 2; k++) {
		void *dp = up(be, p, n * 4), *dg = up(be, g, n * 4);
		void *dm = up(be, m, n * 4), *dv = up(be, v, n * 4);
		for (int t = 1; t < 4; t++)
			if (k == 0)
				be->adamw_update(dp, dg, dm, dv, n, 2e-5f, 0.9f, 0.999f,
						 1e-8f, 0.01f, t, t == 3 ? 0.37f : 1.0f);
			else
				be->adamw_update_rows(dp, dg, dm, dv, n, 2e-5f, 0.9f, 0.999f,
						      1e-8f, 0.01f, t, t == 3 ? 0.37f : 1.0f,
						      zoff, zrows, C, live);
		ss[k] = k == 0 ? be->sumsq(dg, n) : be->sumsq_rows(dg, n, zoff, zrows, C, live);
		r[k][0] = down(be, dp, n);
		r[k][1] = down(be, dm, n);
		r[k][2] = down(be, dv, n);
		be->free(dp); be->free(dg); be->free(dm); be->free(dv);
	}
	static const char *what[3] = { "params", "m", "v" };
	for (int t = 0; t < 3; t++) {
		int ok = memcmp(r[0][t], r[1][t], n * sizeof(float)) == 0;
		CHECK(ok);
		if (!ok)
			printf("  %-22s %-8s %-5s FAIL not adamw_update's bits\n",
			       "adamw_update_rows", what[t], be->name);
	}
	CHECK(memcmp(&ss[0], &ss[1], sizeof ss[0]) == 0);
	if (memcmp(&ss[0], &ss[1], sizeof ss[0]))
		printf("  %-22s %-8s %-5s FAIL %.17g, sumsq %.17g\n", "sumsq_rows", "",
		       be->name, ss[1], ss[0]);
	CHECK(ss[0] > 0.0 || every == 0);
	for (int k = 0; k < 2; k++)
		for (int t = 0; t < 3; t++)
			free(r[k][t]);
	free(g); free(p); free(m); free(v); free(live);
}

static void run_all(void)
{
	struct shape s;
	/* lengths that cross the kernels' 32- and 64-row tiles */
	static const int lens_small[] = { 5, 33, 70, 1 };
	static const int lens_bert[] = { 128, 97, 64 };

	make_shape(&s, 4, lens_small, 64, 4);
	test_embed(&s);
	test_matmul(s.N, 64, 192, 1);
	test_matmul(s.N, 64, 96, 0);
	test_matmul(300, 768, 768, 1);
	test_layernorm(s.N, 64);
	test_layernorm(300, 768);
	test_residual_layernorm(s.N, 64, 1);
	test_residual_layernorm(600, 384, 1);
	test_elementwise(100003);
	test_attention(&s, 0.0f);	/* hs 16 */
	test_attention(&s, 0.1f);
	make_shape(&s, 3, lens_bert, 768, 12);
	test_attention(&s, 0.0f);	/* hs 64, BERT-base */
	test_attention(&s, 0.1f);
	make_shape(&s, 3, lens_small, 384, 12);
	test_attention(&s, 0.1f);	/* hs 32, MiniLM */
	make_shape(&s, 3, lens_small, 256, 2);
	test_attention(&s, 0.1f);	/* hs 128, the largest */
	make_shape(&s, 4, lens_small, 64, 4);
	s.T = 128;			/* a padded length over the longest */
	test_attention(&s, 0.1f);
	test_weight_mirror(29, 64, 96);
	test_head(200, 13, 96, 9);
	test_adamw(100003);
	test_norm(100003);
	test_norm(5);
}

static void set_bf16(int on)
{
	bf16 = on;
#ifdef SIFT_CUDA
	sift_cuda_set_precision(on);
#endif
}

/* the table claims only what it has: supports_op agrees with its slots */
static void check_table(struct sift_backend *be)
{
	CHECK(be->alloc && be->free && be->upload && be->download && be->memset0 && be->sync);
	for (int op = 0; op < SIFT_OP_COUNT; op++)
		if (be->supports_op((enum sift_op)op))
			CHECK(strcmp(sift_op_name((enum sift_op)op), "unknown") != 0);
	CHECK(!be->supports_op(SIFT_OP_COUNT));
}

/* usage: test-backend-ops [norm]; "norm" checks sumsq and scale alone
 * (a quick run under scripts/check-cuda-emu.sh) */
/* the pages of [p, p + bytes) that are resident, of those wholly inside */
static void resident(const void *p, size_t bytes, size_t *in, size_t *all)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t e = ((uintptr_t)p + bytes) & ~(pg - 1);
	size_t n = e > a ? (e - a) / pg : 0;
	unsigned char *v = calloc(n ? n : 1, 1);
	*in = 0;
	*all = n;
	CHECK(v != NULL);
	if (v && n && mincore((void *)a, e - a, v) == 0)
		for (size_t i = 0; i < n; i++)
			*in += v[i] & 1;
	free(v);
}

/*
 * alloc_whole: zeroed like alloc, and on the CPU a large block's pages
 * are resident when it returns, where alloc's fault in on first use; a
 * kernel that refuses MADV_POPULATE_WRITE (before Linux 5.14) is
 * reported and only the zeroes are checked.
 */
static void test_alloc_whole(void)
{
	size_t bytes = ((size_t)8 << 20) + 123, in, all;
	CHECK(cpu->alloc_whole != NULL);
	float *w = sift_alloc_whole(cpu, bytes), *a = cpu->alloc(bytes);
	CHECK(w != NULL && a != NULL);
	if (!w || !a)
		return;
	int populate = 1;
#ifdef MADV_POPULATE_WRITE
	{
		long pg = sysconf(_SC_PAGESIZE);
		void *t = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(t != MAP_FAILED);
		populate = t != MAP_FAILED &&
			   madvise(t, (size_t)pg, MADV_POPULATE_WRITE) == 0;
		if (t != MAP_FAILED)
			munmap(t, (size_t)pg);
	}
#else
	populate = 0;
#endif
	if (populate) {
		resident(w, bytes, &in, &all);
		CHECK(all > 2000 && in == all);
#ifndef __SANITIZE_ADDRESS__
		/* the contrast: a plain block fresh from mmap is not resident
		 * before use (this runs first, before any large block has been
		 * freed, so calloc maps both anew; ASan's calloc may write) */
		resident(a, bytes, &in, &all);
		CHECK(in < all / 2);
#endif
	} else {
		printf("test-backend-ops: MADV_POPULATE_WRITE refused here: alloc_whole's pages not checked\n");
	}
	size_t nonzero = 0;
	for (size_t i = 0; i < bytes / sizeof(float); i++)
		nonzero += w[i] != 0.0f;
	CHECK(nonzero == 0);
	cpu->free(w);
	cpu->free(a);
}

int main(int argc, char **argv)
{
	char why[200] = "";
	int strict = getenv("SIFT_TEST_STRICT") && strcmp(getenv("SIFT_TEST_STRICT"), "1") == 0;

	sift_rng_seed(&rng, 20261129);
	cpu = sift_backend_get("cpu");
	CHECK(cpu != NULL);
	check_table(cpu);
	test_alloc_whole();
	/* the fused ops equal the ops they stand for, on the cpu alone */
	test_residual_layernorm(77, 384, 0);
	/* MiniLM's word embeddings at the start of the gradient, then
	 * rows off the lanes, rows to the end (a tail of 11), no live row */
	test_zero_rows(cpu, 30522 * 384 + 1000, 0, 30522, 384, 64);
	test_zero_rows(cpu, 100000, 5, 4000, 23, 7);
	test_zero_rows(cpu, 3 + 13 * 7000, 3, 7000, 13, 5);
	test_zero_rows(cpu, 50000, 1000, 1500, 24, 0);
	{
		struct shape s;
		static const int lens[] = { 1, 2, 3, 6, 7, 17, 33 };
		make_shape(&s, 7, lens, 64, 4);		/* hs 16 */
		test_attention_ref(&s);
		make_shape(&s, 7, lens, 384, 12);	/* hs 32, MiniLM */
		test_attention_ref(&s);
		make_shape(&s, 7, lens, 256, 4);	/* hs 64, BERT-base */
		test_attention_ref(&s);
	}
	dev = sift_backend_get("cuda");
	CHECK((dev != NULL) == sift_device_have_cuda());
	if (!dev) {
		printf("test-backend-ops: SKIP cuda: not built with CUDA support\n");
		CHECK(!strict);
		return check_done("test-backend-ops");
	}
	check_table(dev);
	if (sift_device_cuda_count(why, sizeof why) <= 0) {
		printf("test-backend-ops: SKIP cuda: no GPU found (%s)\n", why);
		CHECK(!strict);
		return check_done("test-backend-ops");
	}
	if (argc > 1 && strcmp(argv[1], "norm") == 0) {
		printf("test-backend-ops: cuda against cpu, sumsq and scale\n");
		test_norm(100003);
		test_norm(5);
		return check_done("test-backend-ops");
	}
	if (argc > 1 && strcmp(argv[1], "mirror") == 0) {
		printf("test-backend-ops: cuda against cpu, bf16 weight mirrors\n");
		set_bf16(1);
		test_weight_mirror(29, 64, 96);
		set_bf16(0);
		return check_done("test-backend-ops");
	}
	printf("test-backend-ops: cuda against cpu, fp32\n");
	set_bf16(0);
	run_all();
	printf("test-backend-ops: cuda against cpu, bf16 GEMM inputs\n");
	set_bf16(1);
	test_weight_mirror(29, 64, 96);
	test_matmul(37, 64, 192, 1);
	test_matmul(300, 768, 768, 1);
	{
		struct shape s;
		static const int lens_small[] = { 5, 33, 70, 1 };
		static const int lens_bert[] = { 128, 97, 64 };
		make_shape(&s, 4, lens_small, 64, 4);
		test_attention(&s, 0.1f);	/* hs 16 */
		make_shape(&s, 3, lens_bert, 768, 12);
		test_attention(&s, 0.1f);	/* hs 64 */
		make_shape(&s, 3, lens_small, 384, 12);
		test_attention(&s, 0.0f);	/* hs 32 */
		make_shape(&s, 2, lens_small, 256, 2);
		test_attention(&s, 0.1f);	/* hs 128, examples under 64 */
	}
	set_bf16(0);
	return check_done("test-backend-ops");
}
