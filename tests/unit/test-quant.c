/* test-quant.c: the int8 linear layer (lib/quant.c) against the fp32 product, within the quantisation error bound. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

#include "check.h"
#include "quant.h"	/* defines: sift_q8_quantize, sift_q8_linear_forward */
#include "cpu_bf16.h"	/* defines: sift_cpu_s8_packed_tile */
#include "rng.h"	/* defines: sift_rng_seed, sift_rng_normal */

/* the weights: |w - scale q| <= scale / 2 (plus the rounding of
 * w / scale, at 127.5 a few 1e-5), q in -128..127, and the
 * largest |w| of a channel lands on 127 or -128 */
static void test_weights(void)
{
	enum { OC = 7, C = 33 };
	float w[OC * C];
	struct sift_rng r;
	sift_rng_seed(&r, 3);
	for (int i = 0; i < OC * C; i++)
		w[i] = 0.05f * sift_rng_normal(&r);
	memset(w + 3 * C, 0, sizeof(float) * C);	/* a zero channel */
	struct sift_q8_linear q;
	CHECK_EQ_INT(sift_q8_quantize(&q, w, OC, C), 0);
	int bad = 0, extreme = 0;
	for (int o = 0; o < OC; o++) {
		int32_t sum = 0, top = 0;
		for (int k = 0; k < C; k++) {
			int v = q.w[o * C + k];
			sum += v;
			if (fabsf(w[o * C + k] - q.scale[o] * v) > q.scale[o] * (0.5f + 1e-4f))
				bad++;
			if (abs(v) > top)
				top = abs(v);
		}
		CHECK_EQ_INT(q.wsum[o], sum);
		if (o != 3 && top >= 127)
			extreme++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(extreme, OC - 1);
	CHECK(q.scale[3] > 0);		/* torch's eps, not 0 */
	sift_q8_free(&q);
}

/*
 * The product.  With x = xh + ex (|ex| <= sx/2, the row's step) and
 * w = wh + ew (|ew| <= sw/2, the channel's step),
 *   x.w - xh.wh = ex.w + xh.ew,
 * so |y - yq| <= sx/2 sum_k |w_k| + sw/2 sum_k (|x_k| + sx/2), plus the
 * float rounding of the dequantisation (a few ulps of sum |x||w|).
 */
static void test_product(int N, int C, int OC, float shift, int threads)
{
	float *x = malloc(sizeof(float) * N * C), *w = malloc(sizeof(float) * OC * C);
	float *b = malloc(sizeof(float) * OC), *y = malloc(sizeof(float) * N * OC);
	float *y1 = malloc(sizeof(float) * N * OC);
	struct sift_rng r;
	sift_rng_seed(&r, (uint64_t)N * 131 + C);
	for (int i = 0; i < N * C; i++)
		x[i] = sift_rng_normal(&r) + shift;
	for (int i = 0; i < OC * C; i++)
		w[i] = 0.05f * sift_rng_normal(&r);
	for (int i = 0; i < OC; i++)
		b[i] = sift_rng_normal(&r);
	/* row 0 all zero, row 1 all negative */
	memset(x, 0, sizeof(float) * C);
	if (N > 1)
		for (int k = 0; k < C; k++)
			x[C + k] = -fabsf(x[C + k]) - 0.1f;
	struct sift_q8_linear q;
	CHECK_EQ_INT(sift_q8_quantize(&q, w, OC, C), 0);
	omp_set_num_threads(threads);
	sift_q8_linear_forward(&q, y, x, b, N);
	int bad = 0;
	double err = 0, bsum = 0;
	for (int i = 0; i < N; i++) {
		const float *xr = x + (size_t)i * C;
		float lo = 0, hi = 0, sx;
		double ax = 0;
		for (int k = 0; k < C; k++) {
			lo = fminf(lo, xr[k]);
			hi = fmaxf(hi, xr[k]);
			ax += fabs(xr[k]);
		}
		sx = (hi - lo) / 127;
		for (int o = 0; o < OC; o++) {
			const float *wr = w + (size_t)o * C;
			double ref = b[o], aw = 0, axw = 0;
			for (int k = 0; k < C; k++) {
				ref += (double)xr[k] * wr[k];
				aw += fabs(wr[k]);
				axw += fabs(xr[k] * wr[k]);
			}
			double bound = sx / 2 * aw + q.scale[o] / 2 * (ax + C * sx / 2) +
				8 * FLT_EPSILON * (axw + fabs(ref) + 1);
			double e = fabs(y[(size_t)i * OC + o] - ref);
			if (e > bound) {
				if (bad++ < 5)
					fprintf(stderr, "row %d col %d: |%g - %g| > %g\n", i, o,
						y[(size_t)i * OC + o], ref, bound);
			}
			err += e;
			bsum += bound;
		}
	}
	CHECK_EQ_INT(bad, 0);
	/* the zero row is the bias alone, exactly */
	CHECK(memcmp(y, b, sizeof(float) * OC) == 0);
	/* the bound is not loose by orders of magnitude: the error is a
	 * real share of it (a product off by far less than the bound, as
	 * fp32 itself, would mean the int8 path was not taken) */
	CHECK(err > 0.01 * bsum);
	/* the same bits one row at a time, on one thread: rows are
	 * quantised on their own and their sums are exact integers */
	omp_set_num_threads(1);
	for (int i = 0; i < N; i++)
		sift_q8_linear_forward(&q, y1 + (size_t)i * OC, x + (size_t)i * C, b, 1);
	CHECK(memcmp(y, y1, sizeof(float) * N * OC) == 0);
	/* and from the plain weights, where oneDNN reorders them per call:
	 * the packed copy holds the same integers */
	CHECK(q.wp != NULL);
	{
		/* the tile runs from the packed copy (0), here on a row of
		 * ones: each sum is its weight row's sum */
		uint8_t *ones = malloc(C);
		int32_t *acc = malloc(sizeof(int32_t) * OC);
		memset(ones, 1, C);
		CHECK_EQ_INT(sift_cpu_s8_packed_tile(q.wp, 1, ones, acc), 0);
		CHECK(memcmp(acc, q.wsum, sizeof(int32_t) * OC) == 0);
		free(ones);
		free(acc);
	}
	struct sift_packed *wp = q.wp;
	q.wp = NULL;
	sift_q8_linear_forward(&q, y1, x, b, N);
	q.wp = wp;
	CHECK(memcmp(y, y1, sizeof(float) * N * OC) == 0);
	sift_q8_free(&q);
	free(x); free(w); free(b); free(y); free(y1);
}

int main(void)
{
	if (!sift_q8_available()) {
		printf("test-quant: SKIP: built without oneDNN (libdnnl-dev)\n");
		return 0;
	}
	test_weights();
	test_product(5, 16, 3, 0.0f, 1);
	test_product(37, 384, 1152, 0.3f, 2);	/* a MiniLM qkv product */
	test_product(600, 1536, 384, -0.2f, 2);	/* several tiles, K = I */
	test_product(300, 384, 1536, 2.0f, 1);	/* the range far from 0 */
	return check_done("test-quant");
}
