/* test-grad.c: finite-difference checks of every backward op against its forward op. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <omp.h>
#include <cblas.h>	/* defines: openblas_set_num_threads */

#include "check.h"
#include "backend.h"	/* defines: the forward ops and sift_att_offset */
#include "ops_cpu.h"	/* defines: the CPU ops under test, forward and backward */
#include "rng.h"

/*
 * For each op, the scalar f = sum_i w_i * out_i (w fixed random weights)
 * is differentiated two ways: the backward op fed dout = w, and central
 * differences (f(x + h) - f(x - h)) / 2h on every input element, with f
 * summed in double.  |analytic - numeric| <= 2e-3 + 2e-2 |numeric|.
 */

#define H 1e-2f
#define TOL 2e-3
#define REL 2e-2

static struct sift_rng rng;

static float *randv(size_t n, float scale)
{
	float *v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = scale * sift_rng_normal(&rng);
	return v;
}

static double dotw(const float *w, const float *out, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += (double)w[i] * out[i];
	return s;
}

/* the op under test: recomputes f from the current inputs */
typedef double (*loss_fn)(void *ctx);

/* checks analytic grad (n) of input x (n) against central differences */
static void fd_check(const char *what, float *x, const float *grad, size_t n,
		     loss_fn f, void *ctx)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		float x0 = x[i];
		x[i] = x0 + H;
		double fp = f(ctx);
		x[i] = x0 - H;
		double fm = f(ctx);
		x[i] = x0;
		double num = (fp - fm) / (2.0 * H);
		if (fabs(grad[i] - num) > TOL + REL * fabs(num)) {
			if (bad++ < 3)
				fprintf(stderr, "%s[%zu]: analytic %.6g, numeric %.6g\n",
					what, i, grad[i], num);
		}
	}
	CHECK(bad == 0);
}

/* ---- matmul ---- */
struct mm { int N, C, OC; float *inp, *w, *b, *out, *dw_out; };
static double mm_loss(void *p)
{
	struct mm *c = p;
	sift_cpu_matmul_forward(c->out, c->inp, c->w, c->b, c->N, c->C, c->OC);
	return dotw(c->dw_out, c->out, (size_t)c->N * c->OC);
}

static void test_matmul(void)
{
	struct mm c = { 5, 7, 6, 0, 0, 0, 0, 0 };
	c.inp = randv(35, 1); c.w = randv(42, 1); c.b = randv(6, 1);
	c.out = malloc(30 * sizeof(float)); c.dw_out = randv(30, 1);
	float *dinp = randv(35, 1), *dw = calloc(42, 4), *db = calloc(6, 4);
	/* dinp is overwritten: fill it with garbage first */
	sift_cpu_matmul_backward(dinp, dw, db, c.dw_out, c.inp, c.w, 5, 7, 6);
	fd_check("matmul dinp", c.inp, dinp, 35, mm_loss, &c);
	fd_check("matmul dweight", c.w, dw, 42, mm_loss, &c);
	fd_check("matmul dbias", c.b, db, 6, mm_loss, &c);
	/* parameter gradients accumulate: a second call doubles them */
	float dw0 = dw[3], db0 = db[2];
	sift_cpu_matmul_backward(NULL, dw, db, c.dw_out, c.inp, c.w, 5, 7, 6);
	CHECK_CLOSE(dw[3], 2 * dw0, 1e-6, 1e-6);
	CHECK_CLOSE(db[2], 2 * db0, 1e-6, 1e-6);
	free(c.inp); free(c.w); free(c.b); free(c.out); free(c.dw_out);
	free(dinp); free(dw); free(db);
}

/* ---- layernorm ---- */
struct ln { int N, C; float *inp, *w, *b, *out, *mean, *rstd, *dout; };
static double ln_loss(void *p)
{
	struct ln *c = p;
	sift_cpu_layernorm_forward(c->out, c->mean, c->rstd, c->inp, c->w, c->b,
				   c->N, c->C, 1e-12f);
	return dotw(c->dout, c->out, (size_t)c->N * c->C);
}

static void test_layernorm(void)
{
	struct ln c = { 4, 16, 0, 0, 0, 0, 0, 0, 0 };
	size_t n = 64;
	c.inp = randv(n, 2); c.w = randv(16, 1); c.b = randv(16, 1);
	c.out = malloc(n * 4); c.mean = malloc(16); c.rstd = malloc(16);
	c.dout = randv(n, 1);
	ln_loss(&c);
	float *dinp = randv(n, 1), *dw = calloc(16, 4), *db = calloc(16, 4);
	sift_cpu_layernorm_backward(dinp, dw, db, c.dout, c.inp, c.w, c.mean,
				    c.rstd, 4, 16);
	fd_check("layernorm dinp", c.inp, dinp, n, ln_loss, &c);
	fd_check("layernorm dweight", c.w, dw, 16, ln_loss, &c);
	fd_check("layernorm dbias", c.b, db, 16, ln_loss, &c);
	free(c.inp); free(c.w); free(c.b); free(c.out); free(c.mean);
	free(c.rstd); free(c.dout); free(dinp); free(dw); free(db);
}

/* ---- gelu, tanh, dropout (elementwise) ---- */
struct ew { int kind; size_t n; float *inp, *out, *dout; float p; };
static double ew_loss(void *p)
{
	struct ew *c = p;
	if (c->kind == 0)
		sift_cpu_gelu_forward(c->out, c->inp, c->n);
	else if (c->kind == 1)
		sift_cpu_tanh_forward(c->out, c->inp, c->n);
	else
		sift_cpu_dropout_forward(c->out, c->inp, c->n, c->p, 42, 1000);
	return dotw(c->dout, c->out, c->n);
}

static void test_elementwise(void)
{
	size_t n = 200;
	struct ew c = { 0, n, randv(n, 2), malloc(n * 4), randv(n, 1), 0.3f };
	float *d = malloc(n * 4);
	/* gelu, with dinp aliasing dout as the table allows */
	memcpy(d, c.dout, n * 4);
	sift_cpu_gelu_backward(d, c.inp, d, n);
	fd_check("gelu", c.inp, d, n, ew_loss, &c);
	c.kind = 1;
	ew_loss(&c);
	sift_cpu_tanh_backward(d, c.out, c.dout, n);
	fd_check("tanh", c.inp, d, n, ew_loss, &c);
	/* dropout: its backward is the forward op on the gradient */
	c.kind = 2;
	sift_cpu_dropout_forward(d, c.dout, n, c.p, 42, 1000);
	fd_check("dropout", c.inp, d, n, ew_loss, &c);
	int zeros = 0;
	for (size_t i = 0; i < n; i++)
		zeros += d[i] == 0.0f;
	CHECK(zeros > 30 && zeros < 90);	/* about p * n of 200 dropped */
	free(c.inp); free(c.out); free(c.dout); free(d);
}

/* ---- attention ---- */
struct at { int B, C, NH; int32_t *offs; float *qkv, *out, *att, *dout; float p; };
static double at_loss(void *p)
{
	struct at *c = p;
	sift_cpu_attention_forward(c->out, c->att, c->qkv, c->offs, c->B, 5, c->C,
				   c->NH, c->p, 7);
	return dotw(c->dout, c->out, (size_t)c->offs[c->B] * c->C);
}

static void test_attention(float p)
{
	int32_t offs[4] = { 0, 3, 8, 9 };	/* lengths 3, 5, 1 */
	struct at c = { 3, 8, 2, offs, 0, 0, 0, 0, p };
	int N = 9;
	size_t natt = sift_att_offset(offs, 3, 2);
	c.qkv = randv((size_t)N * 24, 1);
	c.out = malloc((size_t)N * 8 * 4);
	c.att = malloc(natt * 4);
	c.dout = randv((size_t)N * 8, 1);
	at_loss(&c);
	float *dqkv = randv((size_t)N * 24, 1), *datt = malloc(natt * 4);
	sift_cpu_attention_backward(dqkv, datt, c.dout, c.qkv, c.att, offs, 3, 5, 8,
				    2, p, 7);
	fd_check(p > 0 ? "attention (dropout) dqkv" : "attention dqkv", c.qkv,
		 dqkv, (size_t)N * 24, at_loss, &c);
	free(c.qkv); free(c.out); free(c.att); free(c.dout); free(dqkv);
	free(datt);
}

/* ---- embeddings ---- */
struct em { int N, C; int32_t *ids, *tt, *pos; float *wte, *wpe, *wtt, *out, *dout; };
static double em_loss(void *p)
{
	struct em *c = p;
	sift_cpu_embed_forward(c->out, c->ids, c->tt, c->pos, c->wte, c->wpe,
			       c->wtt, c->N, c->C);
	return dotw(c->dout, c->out, (size_t)c->N * c->C);
}

static void test_embed(void)
{
	int32_t ids[6] = { 1, 4, 4, 2, 0, 4 }, tt[6] = { 0, 0, 1, 0, 1, 1 },
		pos[6] = { 0, 1, 2, 0, 1, 2 };
	struct em c = { 6, 4, ids, tt, pos, randv(20, 1), randv(12, 1),
			randv(8, 1), malloc(24 * 4), randv(24, 1) };
	float *dwte = calloc(20, 4), *dwpe = calloc(12, 4), *dwtt = calloc(8, 4);
	sift_cpu_embed_backward(dwte, dwpe, dwtt, c.dout, ids, tt, pos, 6, 4);
	fd_check("embed dwte", c.wte, dwte, 20, em_loss, &c);
	fd_check("embed dwpe", c.wpe, dwpe, 12, em_loss, &c);
	fd_check("embed dwtt", c.wtt, dwtt, 8, em_loss, &c);
	/* row 3 of wte is never used: no gradient */
	CHECK(dwte[12] == 0.0f && dwte[15] == 0.0f);
	free(c.wte); free(c.wpe); free(c.wtt); free(c.out); free(c.dout);
	free(dwte); free(dwpe); free(dwtt);
}

/* ---- gather rows (pooler input) / scatter rows ---- */
struct gr { float *inp, *out, *dout; int32_t *rows; };
static double gr_loss(void *p)
{
	struct gr *c = p;
	sift_cpu_gather_rows_forward(c->out, c->inp, c->rows, 2, 3);
	return dotw(c->dout, c->out, 6);
}

static void test_gather(void)
{
	int32_t rows[2] = { 0, 3 };
	struct gr c = { randv(15, 1), malloc(6 * 4), randv(6, 1), rows };
	float *d = calloc(15, 4);
	sift_cpu_scatter_rows_backward(d, c.dout, rows, 2, 3);
	fd_check("gather_rows", c.inp, d, 15, gr_loss, &c);
	free(c.inp); free(c.out); free(c.dout); free(d);
}

/* ---- softmax + cross-entropy (the sum over counted targets divided by
 * their weights, 1 each without) ---- */
struct ce { int M, L; float *logits, *probs, *losses; int32_t *tg; const float *w; float eps; };
static double ce_loss(void *p)
{
	struct ce *c = p;
	sift_cpu_softmax_forward(c->probs, c->logits, c->M, c->L);
	sift_cpu_crossentropy_forward(c->losses, c->probs, c->tg, c->M, c->L,
				      c->w, c->eps);
	double s = 0.0, n = 0.0;
	for (int i = 0; i < c->M; i++)
		if (c->tg[i] != -100) {
			s += c->losses[i];
			n += c->w ? c->w[c->tg[i]] : 1.0;
		}
	return s / n;
}

/* w NULL: all 1; eps: label smoothing */
static void ce_case(const char *name, const float *w, float eps, float wsum)
{
	int32_t tg[5] = { 2, -100, 0, 3, -100 };
	struct ce c = { 5, 4, randv(20, 2), malloc(80), malloc(20), tg, w, eps };
	ce_loss(&c);
	float *d = randv(20, 1);
	sift_cpu_crossentropy_backward(d, c.probs, tg, 5, 4, w, eps, 1.0f / wsum);
	fd_check(name, c.logits, d, 20, ce_loss, &c);
	CHECK(d[4] == 0.0f && d[19] == 0.0f);	/* ignored rows are zero */
	free(c.logits); free(c.probs); free(c.losses); free(d);
}

static void test_crossentropy(void)
{
	static const float w[4] = { 0.5f, 2.0f, 1.25f, 3.0f };
	ce_case("crossentropy dlogits", NULL, 0.0f, 3.0f);
	/* the counted targets are 2, 0, 3: weights 1.25 + 0.5 + 3 */
	ce_case("crossentropy dlogits, class weights", w, 0.0f, 4.75f);
	ce_case("crossentropy dlogits, label smoothing", NULL, 0.1f, 3.0f);
	ce_case("crossentropy dlogits, both", w, 0.2f, 4.75f);
}

/* the per-row loss by hand: (1-eps) w[y] (-log p_y) + eps/L sum_c w[c] (-log p_c) */
static void test_crossentropy_value(void)
{
	float probs[3] = { 0.2f, 0.5f, 0.3f }, loss = 0.0f, d[3];
	static const float w[3] = { 2.0f, 1.0f, 4.0f };
	int32_t y = 2;
	sift_cpu_crossentropy_forward(&loss, probs, &y, 1, 3, w, 0.3f);
	double want = 0.7 * 4.0 * -log(0.3) +
		0.1 * (2.0 * -log(0.2) + 1.0 * -log(0.5) + 4.0 * -log(0.3));
	CHECK_CLOSE(loss, want, 1e-6, 1e-6);
	/* a = 0.7*4 + 0.1*7 = 3.5, b = 2.8 */
	sift_cpu_crossentropy_backward(d, probs, &y, 1, 3, w, 0.3f, 1.0f);
	CHECK_CLOSE(d[0], 0.2 * 3.5 - 0.1 * 2.0, 1e-6, 1e-6);
	CHECK_CLOSE(d[1], 0.5 * 3.5 - 0.1 * 1.0, 1e-6, 1e-6);
	CHECK_CLOSE(d[2], 0.3 * 3.5 - 2.8 - 0.1 * 4.0, 1e-6, 1e-6);
}

/* ---- the split of the matrix products over threads changes no bit ---- */
/* shapes with one, two and four row tiles, cuts off multiples of 16 too;
 * OpenBLAS is left on 2 threads: the backend must put it on one */
static void test_matmul_threads(void)
{
	static const int shapes[][3] = { { 200, 96, 200 }, { 300, 96, 200 },
					 { 1000, 64, 520 } };
	openblas_set_num_threads(2);
	for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
		int N = shapes[s][0], C = shapes[s][1], OC = shapes[s][2];
		float *inp = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 1),
		      *b = randv(OC, 1), *dout = randv((size_t)N * OC, 1);
		float *out[3], *di[3], *dw[3];
		for (int k = 0; k < 3; k++) {
			omp_set_num_threads(k + 1);
			out[k] = malloc((size_t)N * OC * 4);
			di[k] = malloc((size_t)N * C * 4);
			dw[k] = calloc((size_t)OC * C, 4);
			sift_cpu_matmul_forward(out[k], inp, w, b, N, C, OC);
			sift_cpu_matmul_backward(di[k], dw[k], NULL, dout, inp,
						 w, N, C, OC);
		}
		for (int k = 1; k < 3; k++) {
			CHECK(memcmp(out[0], out[k], (size_t)N * OC * 4) == 0);
			CHECK(memcmp(di[0], di[k], (size_t)N * C * 4) == 0);
			CHECK(memcmp(dw[0], dw[k], (size_t)OC * C * 4) == 0);
		}
		for (int k = 0; k < 3; k++) {
			free(out[k]);
			free(di[k]);
			free(dw[k]);
		}
		free(inp); free(w); free(b); free(dout);
	}
	CHECK_EQ_INT(openblas_get_num_threads(), 1);
}

/* ---- the row tiles: a function of the row count alone ---- */
static void test_tiles(void)
{
	CHECK_EQ_INT(sift_cpu_tiles(1), 1);
	CHECK_EQ_INT(sift_cpu_tiles(255), 1);
	CHECK_EQ_INT(sift_cpu_tiles(256), 2);
	CHECK_EQ_INT(sift_cpu_tiles(1000), 4);
	CHECK_EQ_INT(sift_cpu_tiles(1 << 20), SIFT_CPU_TILES_MAX);
	int ok = 1;
	for (int rows = 1; rows < 5000; rows += 7) {
		int k = sift_cpu_tiles(rows);
		ok &= sift_cpu_tile(rows, k, 0) == 0 &&
		      sift_cpu_tile(rows, k, k) == rows;
		for (int i = 0; i < k; i++) {
			int a = sift_cpu_tile(rows, k, i), z = sift_cpu_tile(rows, k, i + 1);
			/* every tile has rows, the even share give or take a
			 * row: rows / k or one more */
			ok &= z - a == rows / k || z - a == rows / k + 1;
		}
	}
	CHECK(ok);
}

/* ---- AdamW: one step by hand from torch's formula ---- */
static void test_adamw(void)
{
	float p[3] = { 1.0f, -2.0f, 0.5f }, g[3] = { 0.1f, -0.3f, 0.0f };
	float m[3] = { 0 }, v[3] = { 0 };
	sift_cpu_adamw_update(p, g, m, v, 3, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, 1, 1.0f);
	/* step 1: m = 0.1 g, v = 0.001 g^2, mhat/sqrt(vhat) = sign(g) */
	CHECK_CLOSE(p[0], 1.0 * (1 - 0.001) - 0.01 * (0.1 / (0.1 + 1e-8)), 1e-6, 1e-6);
	CHECK_CLOSE(p[1], -2.0 * (1 - 0.001) + 0.01 * (0.3 / (0.3 + 1e-8)), 1e-6, 1e-6);
	CHECK_CLOSE(p[2], 0.5 * (1 - 0.001), 1e-7, 1e-6);
	CHECK_CLOSE(m[1], -0.03, 1e-8, 1e-6);
	CHECK_CLOSE(v[1], 0.09 * 0.001, 1e-12, 1e-6);
}

/* ---- AdamW with the clip fused: the same bits as scale then AdamW,
 * as a plain loop in torch's order, and for any thread count ---- */
static void test_adamw_clip(void)
{
	const size_t n = 100003;	/* several chunks and a ragged tail */
	const float lr = 3e-4f, wd = 0.01f, c = 0.37f;
	float *p0 = randv(n, 1), *g0 = randv(n, 1);
	float *p[4], *m[4], *v[4], *g[4];
	for (int k = 0; k < 4; k++) {
		p[k] = malloc(n * 4); memcpy(p[k], p0, n * 4);
		g[k] = malloc(n * 4); memcpy(g[k], g0, n * 4);
		m[k] = calloc(n, 4);
		v[k] = calloc(n, 4);
	}
	for (int t = 1; t <= 3; t++) {
		/* 0: scale then the update; 1, 2: fused, on 1 and 3 threads */
		sift_cpu_scale(g[0], n, c);
		sift_cpu_adamw_update(p[0], g[0], m[0], v[0], n, lr, 0.9f, 0.999f,
				      1e-8f, wd, t, 1.0f);
		memcpy(g[0], g0, n * 4);
		for (int k = 1; k < 3; k++) {
			omp_set_num_threads(k == 1 ? 1 : 3);
			sift_cpu_adamw_update(p[k], g[k], m[k], v[k], n, lr, 0.9f,
					      0.999f, 1e-8f, wd, t, c);
		}
		omp_set_num_threads(2);
		/* 3: torch's arithmetic written out, one element at a time */
		float ss = (float)(lr / (1.0 - pow(0.9, t)));
		float b2s = (float)sqrt(1.0 - pow(0.999, t));
		float dec = (float)(1.0 - (double)lr * wd);
		for (size_t i = 0; i < n; i++) {
			float gi = g0[i] * c, pi = p[3][i] * dec;
			float mi = m[3][i] + (float)(1.0 - 0.9) * (gi - m[3][i]);
			float vi = v[3][i] * 0.999f + (float)(1.0 - 0.999) * gi * gi;
			m[3][i] = mi;
			v[3][i] = vi;
			p[3][i] = pi - ss * (mi / (sqrtf(vi) / b2s + 1e-8f));
		}
	}
	for (int k = 1; k < 4; k++) {
		CHECK(memcmp(p[0], p[k], n * 4) == 0);
		CHECK(memcmp(m[0], m[k], n * 4) == 0);
		CHECK(memcmp(v[0], v[k], n * 4) == 0);
	}
	CHECK(memcmp(g[1], g0, n * 4) == 0);	/* the gradients untouched */
	CHECK(p[0][7] != p0[7]);		/* and the parameters moved */
	for (int k = 0; k < 4; k++) {
		free(p[k]); free(g[k]); free(m[k]); free(v[k]);
	}
	free(p0); free(g0);
}

/* ---- the fused and vectorised ops give the bits of their parts ---- */
static void test_fused_bits(void)
{
	/* dropout: element i kept iff sift_hash_uniform(seed, counter + i)
	 * >= p, scaled by 1/(1-p), over chunks and a ragged tail */
	size_t n = 100003;
	float *x = randv(n, 1), *y = malloc(n * 4);
	sift_cpu_dropout_forward(y, x, n, 0.1f, 42, 1000);
	size_t bad = 0, dropped = 0;
	float keep = 1.0f / (1.0f - 0.1f);
	for (size_t i = 0; i < n; i++) {
		int drop = sift_hash_uniform(42, 1000 + i) < 0.1f;
		float want = drop ? 0.0f : x[i] * keep;
		bad += memcmp(&want, &y[i], 4) != 0;
		dropped += drop;
	}
	CHECK(bad == 0);
	CHECK(dropped > n / 20 && dropped < n / 5);
	free(x); free(y);

	/* residual + LayerNorm, forward and backward, against their parts,
	 * on 1 and 3 threads, dinp written over db as bert_backward does */
	int N = 300, C = 200;
	size_t nc = (size_t)N * C;
	float *a = randv(nc, 1), *b = randv(nc, 1), *w = randv(C, 1), *bi = randv(C, 1);
	float *dy = randv(nc, 1), *dz = randv(nc, 1);
	float *res0 = malloc(nc * 4), *out0 = malloc(nc * 4), *mu = malloc(N * 4), *rs = malloc(N * 4);
	sift_cpu_residual_forward(res0, a, b, nc);
	sift_cpu_layernorm_forward(out0, mu, rs, res0, w, bi, N, C, 1e-12f);
	float *sum = malloc(nc * 4), *dx0 = malloc(nc * 4);
	float *dw0 = calloc(C, 4), *db0 = calloc(C, 4);
	sift_cpu_residual_forward(sum, dy, dz, nc);
	sift_cpu_layernorm_backward(dx0, dw0, db0, sum, res0, w, mu, rs, N, C);
	for (int k = 0; k < 2; k++) {
		omp_set_num_threads(k ? 3 : 1);
		float *res = malloc(nc * 4), *out = malloc(nc * 4), *m1 = malloc(N * 4), *r1 = malloc(N * 4);
		sift_cpu_residual_layernorm_forward(res, out, m1, r1, a, b, w, bi, N, C, 1e-12f);
		CHECK(memcmp(res, res0, nc * 4) == 0);
		CHECK(memcmp(out, out0, nc * 4) == 0);
		CHECK(memcmp(m1, mu, N * 4) == 0 && memcmp(r1, rs, N * 4) == 0);
		float *da = malloc(nc * 4), *db = malloc(nc * 4);
		float *dw = calloc(C, 4), *dbb = calloc(C, 4);
		memcpy(da, dy, nc * 4);
		memcpy(db, dz, nc * 4);
		sift_cpu_residual_layernorm_backward(db, dw, dbb, da, db, res0, w, mu, rs, N, C);
		CHECK(memcmp(db, dx0, nc * 4) == 0);
		CHECK(memcmp(dw, dw0, C * 4) == 0 && memcmp(dbb, db0, C * 4) == 0);
		free(res); free(out); free(m1); free(r1); free(da); free(db); free(dw); free(dbb);
	}
	omp_set_num_threads(2);
	free(a); free(b); free(w); free(bi); free(dy); free(dz); free(res0); free(out0);
	free(mu); free(rs); free(sum); free(dx0); free(dw0); free(db0);
}

int main(void)
{
	sift_rng_seed(&rng, 12345);
	test_matmul();
	test_layernorm();
	test_elementwise();
	test_attention(0.0f);
	test_attention(0.25f);
	test_embed();
	test_gather();
	test_crossentropy();
	test_crossentropy_value();
	test_adamw();
	test_adamw_clip();
	test_fused_bits();
	test_matmul_threads();
	test_tiles();
	return check_done("test-grad");
}
