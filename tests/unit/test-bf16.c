/* test-bf16.c: the CPU's bf16 products against fp32 within bf16's rounding bounds. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu_bf16.h"	/* defines: sift_cpu_bf16_* */
#include "ops_cpu.h"	/* defines: sift_cpu_matmul_* */
#include "rng.h"

static struct sift_rng rng;

static float *randv(size_t n, float scale)
{
	float *v = malloc(n * sizeof(float) + 1);
	for (size_t i = 0; i < n; i++)
		v[i] = scale * sift_rng_normal(&rng);
	return v;
}

static float rnd(float x)
{
	uint16_t h;
	sift_cpu_bf16_round(&h, &x, 1);
	return sift_cpu_bf16_float(h);
}

/* ---- round to nearest even, as torch's and CUDA's float -> bf16 ----
 * bf16 keeps 7 bits after the point: the spacing at 1 is 2^-7 */
static void test_round(void)
{
	CHECK(rnd(1.0f) == 1.0f);
	CHECK(rnd(1.0f + 0x1p-8f) == 1.0f);			/* tie: to even */
	CHECK(rnd(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);	/* tie: to even */
	CHECK(rnd(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f);
	CHECK(rnd(1.0f + 0x1p-9f) == 1.0f);
	CHECK(rnd(-3.0f) == -3.0f);
	CHECK(signbit(rnd(-0.0f)) && rnd(-0.0f) == 0.0f);
	CHECK(isinf(rnd(INFINITY)) && rnd(-INFINITY) < 0);
	CHECK(isnan(rnd(NAN)));
	CHECK(isinf(rnd(3.4028235e38f)));	/* FLT_MAX rounds up */
	/* every value within half a bf16 step: |rnd(x) - x| <= 2^-8 |x| */
	int bad = 0;
	for (int i = 0; i < 10000; i++) {
		float x = 100.0f * sift_rng_normal(&rng);
		if (fabsf(rnd(x) - x) > 0x1p-8f * fabsf(x))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	/* the vectorized loop (many values in one call) rounds as one value at
	 * a time does, bit for bit: ties, NaNs with payloads, infinities,
	 * subnormals, the values that round up to infinity */
	enum { NV = 4099 };
	float *v = malloc(NV * sizeof *v);
	uint16_t *h = malloc(NV * sizeof *h);
	for (int i = 0; i < NV; i++) {
		uint32_t u = (uint32_t)sift_rng_next(&rng);
		switch (i % 8) {
		case 0: u = (u & 0xffff0000u) | 0x8000u; break;	/* a tie */
		case 1: u = 0x7f800001u | (u & 0x807fffffu); break;	/* NaN */
		case 2: u &= 0x807fffffu; break;			/* subnormal */
		case 3: u = 0x7f7f8000u | (u & 0x80007fffu); break;	/* near FLT_MAX */
		case 4: u = (u & 0x80000000u) | 0x7f800000u; break;	/* infinity */
		default: break;
		}
		memcpy(&v[i], &u, sizeof u);
	}
	sift_cpu_bf16_round(h, v, NV);
	bad = 0;
	for (int i = 0; i < NV; i++) {
		uint16_t one;
		sift_cpu_bf16_round(&one, &v[i], 1);
		bad += one != h[i];
	}
	CHECK_EQ_INT(bad, 0);
	free(v);
	free(h);
}

/*
 * ---- the three products against loops in double ----
 * With a' = bf16(a), b' = bf16(b): a' b' = a b (1 + d1)(1 + d2), |d| <= u
 * = 2^-8, so a bf16 product's error against the exact one is at most
 * (2u + u^2) S, S = sum_k |a_k b_k|, plus the fp32 sum's gamma_K S' with
 * gamma_K = K 2^-24 / (1 - K 2^-24) for any order of the K additions (and
 * one more term, the bias or the accumulated value).  Against the exact
 * product OF THE ROUNDED INPUTS only the fp32 sum's error remains: that
 * checks the sums are fp32, not bf16 (whose error would be ~2^-8 S).
 * Both bounds are doubled for slack.  And at least one element must be
 * off the unrounded product by more than fp32's bound: the inputs really
 * were rounded.
 */
struct bound {
	int bad_exact, bad_rounded, rounded_seen;
};

/* c (m,n) += a (m,k) b (k,n) as strides: a[i*as0 + t*as1], b[t*bs0 + j*bs1] */
static void check_prod(struct bound *bd, const float *got, const float *a,
		       long as0, long as1, const float *b, long bs0, long bs1,
		       const float *init, int m, int n, int k)
{
	double g = (k + 1) * 0x1p-24 / (1 - (k + 1) * 0x1p-24), u = 0x1p-8;
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			double e = 0, er = 0, s = 0, sr = 0;
			for (int t = 0; t < k; t++) {
				double x = a[i * as0 + t * as1], y = b[t * bs0 + j * bs1];
				double xr = rnd((float)x), yr = rnd((float)y);
				e += x * y, s += fabs(x * y);
				er += xr * yr, sr += fabs(xr * yr);
			}
			double c0 = init ? init[(size_t)i * n + j] : 0;
			e += c0, er += c0;
			double d = fabs(got[(size_t)i * n + j] - e);
			double dr = fabs(got[(size_t)i * n + j] - er);
			if (d > 2 * ((2 * u + u * u) * s + g * (sr + fabs(c0))))
				bd->bad_exact++;
			if (dr > 2 * g * (sr + fabs(c0)))
				bd->bad_rounded++;
			if (d > g * (s + fabs(c0)))
				bd->rounded_seen = 1;
		}
}

static void test_products(int N, int C, int OC)
{
	float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 0.5f),
	      *b = randv(OC, 1), *dout = randv((size_t)N * OC, 1),
	      *dw0 = randv((size_t)OC * C, 1);
	float *out = malloc((size_t)N * OC * 4), *dinp = malloc((size_t)N * C * 4),
	      *dw = malloc((size_t)OC * C * 4), *db = calloc(OC, 4),
	      *db32 = calloc(OC, 4), *bias_rows = malloc((size_t)N * OC * 4);
	for (int r = 0; r < N; r++)
		memcpy(bias_rows + (size_t)r * OC, b, OC * 4);
	memcpy(dw, dw0, (size_t)OC * C * 4);
	sift_cpu_bf16_set(1);
	sift_cpu_matmul_forward(out, x, w, b, N, C, OC);
	sift_cpu_matmul_backward(dinp, dw, db, dout, x, w, N, C, OC);
	sift_cpu_bf16_set(0);
	sift_cpu_matmul_backward(NULL, NULL, db32, dout, x, w, N, C, OC);

	struct bound f = { 0 }, di = { 0 }, dwt = { 0 };
	/* out = x (N,C) @ w^T + b */
	check_prod(&f, out, x, C, 1, w, 1, C, bias_rows, N, OC, C);
	/* dinp = dout (N,OC) @ w (OC,C) */
	check_prod(&di, dinp, dout, OC, 1, w, C, 1, NULL, N, C, OC);
	/* dw = dw0 + dout^T (OC,N) @ x (N,C) */
	check_prod(&dwt, dw, dout, 1, OC, x, C, 1, dw0, OC, C, N);
	printf("test-bf16: N %d C %d OC %d: forward %d/%d, dinp %d/%d, dweight %d/%d off the bounds\n",
	       N, C, OC, f.bad_exact, f.bad_rounded, di.bad_exact, di.bad_rounded,
	       dwt.bad_exact, dwt.bad_rounded);
	CHECK_EQ_INT(f.bad_exact + f.bad_rounded, 0);
	CHECK_EQ_INT(di.bad_exact + di.bad_rounded, 0);
	CHECK_EQ_INT(dwt.bad_exact + dwt.bad_rounded, 0);
	CHECK(f.rounded_seen && di.rounded_seen && dwt.rounded_seen);
	/* the bias gradient is the fp32 sum of the rows, bf16 or not */
	CHECK(memcmp(db, db32, OC * 4) == 0);
	free(x); free(w); free(b); free(dout); free(dw0);
	free(out); free(dinp); free(dw); free(db); free(db32); free(bias_rows);
}

/* ---- the same bits for 1, 2 and 3 threads (the tiles by rows alone) ---- */
static void test_threads(void)
{
	int N = 700, C = 96, OC = 80;
	float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 1),
	      *dout = randv((size_t)N * OC, 1);
	float *o[3], *di[3], *dw[3];
	sift_cpu_bf16_set(1);
	for (int t = 0; t < 3; t++) {
		o[t] = malloc((size_t)N * OC * 4);
		di[t] = malloc((size_t)N * C * 4);
		dw[t] = calloc((size_t)OC * C, 4);
		omp_set_num_threads(t + 1);
		sift_cpu_matmul_forward(o[t], x, w, NULL, N, C, OC);
		sift_cpu_matmul_backward(di[t], dw[t], NULL, dout, x, w, N, C, OC);
	}
	sift_cpu_bf16_set(0);
	for (int t = 1; t < 3; t++) {
		CHECK(memcmp(o[0], o[t], (size_t)N * OC * 4) == 0);
		CHECK(memcmp(di[0], di[t], (size_t)N * C * 4) == 0);
		CHECK(memcmp(dw[0], dw[t], (size_t)OC * C * 4) == 0);
	}
	for (int t = 0; t < 3; t++)
		free(o[t]), free(di[t]), free(dw[t]);
	free(x); free(w); free(dout);
}

/* ---- a frozen weight (sift-fwd's, rounded once) gives the products of
 * one rounded at every call, bit for bit; so does dweight without dinp
 * (dout rounded on its own) against dweight with it ---- */
static void test_frozen(void)
{
	int N = 300, C = 64, OC = 48;
	float *x = randv((size_t)N * C, 1), *w = randv((size_t)OC * C, 1),
	      *b = randv(OC, 1), *dout = randv((size_t)N * OC, 1);
	size_t no = (size_t)N * OC * 4, nw = (size_t)OC * C * 4;
	float *o0 = malloc(no), *o1 = malloc(no), *o2 = malloc(no);
	float *di = malloc((size_t)N * C * 4), *dw0 = calloc(1, nw), *dw1 = calloc(1, nw);
	sift_cpu_bf16_set(1);
	sift_cpu_matmul_forward(o0, x, w, b, N, C, OC);
	CHECK_EQ_INT(sift_cpu_bf16_freeze(w, (size_t)OC * C), 0);
	sift_cpu_matmul_forward(o1, x, w, b, N, C, OC);
	/* a weight frozen under another size is not that weight */
	CHECK_EQ_INT(sift_cpu_bf16_freeze(w, 1), 0);
	sift_cpu_bf16_thaw();
	sift_cpu_matmul_forward(o2, x, w, b, N, C, OC);
	CHECK(memcmp(o0, o1, no) == 0);
	CHECK(memcmp(o0, o2, no) == 0);
	/* frozen, then changed without a thaw: the products use the copy */
	CHECK_EQ_INT(sift_cpu_bf16_freeze(w, (size_t)OC * C), 0);
	w[0] += 1000;
	sift_cpu_matmul_forward(o1, x, w, b, N, C, OC);
	CHECK(memcmp(o0, o1, no) == 0);
	sift_cpu_bf16_thaw();
	sift_cpu_matmul_forward(o1, x, w, b, N, C, OC);
	CHECK(memcmp(o0, o1, no) != 0);
	sift_cpu_matmul_backward(di, dw0, NULL, dout, x, w, N, C, OC);
	sift_cpu_matmul_backward(NULL, dw1, NULL, dout, x, w, N, C, OC);
	CHECK(memcmp(dw0, dw1, nw) == 0);
	sift_cpu_bf16_set(0);
	free(x); free(w); free(b); free(dout);
	free(o0); free(o1); free(o2); free(di); free(dw0); free(dw1);
}

/* ---- describe() names the bf16 library only in bf16 mode (a resume
 * across precisions warns as one across machines does) ---- */
static void test_describe(void)
{
	CHECK(strstr(sift_cpu_describe(), "; bf16 ") == NULL);
	sift_cpu_bf16_set(1);
	CHECK(strstr(sift_cpu_describe(), "; bf16 oneDNN ") != NULL);
	sift_cpu_bf16_set(0);
	CHECK(strstr(sift_cpu_describe(), "; bf16 ") == NULL);
}

int main(void)
{
	char err[200];
	sift_rng_seed(&rng, 4242);
	test_round();
	if (sift_cpu_bf16_check(err, sizeof err)) {
		printf("test-bf16: the bf16 products: skipped (%s)\n", err);
		if (getenv("SIFT_TEST_STRICT"))
			CHECK(!"SIFT_TEST_STRICT: the bf16 products skipped");
		return check_done("test-bf16");
	}
	test_products(37, 24, 16);	/* one tile, odd shapes */
	test_products(300, 64, 48);	/* two row tiles */
	test_products(520, 100, 260);	/* four row tiles, two of dweight's */
	test_threads();
	test_frozen();
	test_describe();
	return check_done("test-bf16");
}
