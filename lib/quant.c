/* quant.c: int8 inference: per-channel int8 weights, per-row 7-bit activations, oneDNN's integer GEMM, dequantised to float. */
#include <math.h>		/* defines: nearbyintf, fabsf */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef SIFT_DNNL
#include <omp.h>
#endif
#include "cpu_bf16.h"	/* defines: sift_cpu_dnnl_tile, sift_cpu_s8_pack */

#include "quant.h"
#include "bert.h"	/* defines: struct bert_model */
#include "ops_cpu.h"	/* defines: sift_cpu_tiles, sift_cpu_tile, sift_cpu_gemm_threads */
#include "prog.h"	/* defines: sift_xmalloc, sift_die */
#include "hot.h"	/* defines: HOT */

/* the activations' integer range: 7 bits (torch's reduce_range) */
#define QMAX 127

/* nearbyint for |v| < 2^22 in the default rounding mode (to nearest,
 * ties to even), as adds that vectorise: the libm call, per element,
 * cost about as much as the integer product's multiply-adds */
static inline float round_even(float v)
{
	return (v + 12582912.0f) - 12582912.0f;	/* 1.5 * 2^23 */
}

int sift_q8_available(void)
{
#ifdef SIFT_DNNL
	return 1;
#else
	return 0;
#endif
}

int sift_q8_quantize(struct sift_q8_linear *q, const float *w, int OC, int C)
{
	memset(q, 0, sizeof *q);
	q->w = malloc((size_t)OC * C);
	q->scale = malloc(sizeof(float) * OC);
	q->wsum = malloc(sizeof(int32_t) * OC);
	if (!q->w || !q->scale || !q->wsum) {
		sift_q8_free(q);
		return -1;
	}
	q->C = C;
	q->OC = OC;
	for (int o = 0; o < OC; o++) {
		const float *r = w + (size_t)o * C;
		float amax = 0.0f;
		for (int k = 0; k < C; k++)
			if (fabsf(r[k]) > amax)
				amax = fabsf(r[k]);
		/* torch: max / ((quant_max - quant_min) / 2), at least eps */
		float s = amax / 127.5f;
		if (s < 1.1920929e-07f)
			s = 1.1920929e-07f;
		/* times the inverse, as torch's quantize_per_channel: -127.5
		 * there is -127.49999, -127 */
		float inv = 1.0f / s;
		int32_t sum = 0;
		for (int k = 0; k < C; k++) {
			float v = round_even(r[k] * inv);	/* |v| <= 127.5 */
			int8_t iv = v > 127.0f ? 127 : v < -128.0f ? -128 : (int8_t)v;
			q->w[(size_t)o * C + k] = iv;
			sum += iv;
		}
		q->scale[o] = s;
		q->wsum[o] = sum;
	}
	/* packed once for the integer product, which otherwise reorders
	 * the weights at every call; without it the plain copy serves */
	q->wp = sift_cpu_s8_pack(q->w, OC, C);
	return 0;
}

void sift_q8_free(struct sift_q8_linear *q)
{
	free(q->w);
	free(q->scale);
	free(q->wsum);
	sift_cpu_packed_free(q->wp);
	memset(q, 0, sizeof *q);
}

#ifdef SIFT_DNNL
/* row x (C) onto xq (C) in 0..QMAX: its scale and zero point (torch's
 * ChooseQuantizationParams over the range widened to hold 0) */
HOT static void quant_row(uint8_t *xq, float *sx, int32_t *zp, const float *x,
		      int C)
{
	float lo = 0.0f, hi = 0.0f;
#pragma omp simd reduction(min:lo) reduction(max:hi)
	for (int k = 0; k < C; k++) {
		lo = x[k] < lo ? x[k] : lo;
		hi = x[k] > hi ? x[k] : hi;
	}
	float s = (hi - lo) / QMAX;
	if (s == 0.0f)
		s = 0.1f;	/* an all-zero row: fbgemm's scale */
	float z = nearbyintf(-lo / s);
	/* clamped so that a NaN (an inf in the row) gives 0, not a bad cast */
	int32_t iz = z > 0.0f ? (z < QMAX ? (int32_t)z : QMAX) : 0;
	/* times the inverse, as fbgemm's Quantize */
	float inv = 1.0f / s, fz = (float)iz;
	/* |x / s| <= 127 (plus rounding): round_even holds */
#pragma omp simd
	for (int k = 0; k < C; k++) {
		float v = round_even(x[k] * inv) + fz;
		xq[k] = v > 0.0f ? (v < QMAX ? (uint8_t)v : QMAX) : 0;
	}
	*sx = s;
	*zp = iz;
}

/* y (OC) = sr scale (acc - zr wsum) + bias */
HOT static void dequant_row(float *y, const int32_t *a, const float *scale,
			    const int32_t *wsum, const float *bias, float sr,
			    int32_t zr, int OC)
{
	if (bias) {
#pragma omp simd
		for (int o = 0; o < OC; o++)
			y[o] = sr * scale[o] * (float)(a[o] - zr * wsum[o]) + bias[o];
	} else {
#pragma omp simd
		for (int o = 0; o < OC; o++)
			y[o] = sr * scale[o] * (float)(a[o] - zr * wsum[o]);
	}
}

/* a thread's scratch, grown as needed and kept: a product's buffers are
 * too big for malloc to keep, and mapping them afresh on every call cost
 * a tenth of the run in page faults */
static _Thread_local void *scratch;
static _Thread_local size_t scratch_cap;

static void *scratch_get(size_t bytes)
{
	if (bytes > scratch_cap) {
		free(scratch);
		scratch = sift_xmalloc(bytes);
		scratch_cap = bytes;
	}
	return scratch;
}

/* rows r0 .. r1-1 on the calling thread */
static void linear_rows(const struct sift_q8_linear *q, float *out,
			const float *inp, const float *bias, int r0, int r1)
{
	int C = q->C, OC = q->OC, n = r1 - r0;
	/* acc (n,OC) int32, sx (n), zp (n), xq (n,C) */
	size_t nacc = (size_t)n * OC;
	char *buf = scratch_get(sizeof(int32_t) * (nacc + 2 * (size_t)n) + (size_t)n * C);
	int32_t *acc = (int32_t *)buf;
	float *sx = (float *)(acc + nacc);
	int32_t *zp = (int32_t *)(sx + n);
	uint8_t *xq = (uint8_t *)(zp + n);
	for (int r = 0; r < n; r++)
		quant_row(xq + (size_t)r * C, sx + r, zp + r,
			  inp + (size_t)(r0 + r) * C, C);
	/* acc (n,OC) = xq (n,C) @ w^T, w (OC,C), on this thread (the
	 * threads are ours, cpu_matmul.c's tiles); no offsets: the zero
	 * points are per row, subtracted below.  oneDNN's matmul primitive,
	 * not its gemm_u8s8s32: the primitive runs AMX's int8 kernels where
	 * the CPU has them (3-5x gemm_u8s8s32 there), and either way the
	 * sums are the same exact integers */
	if (!q->wp || sift_cpu_s8_packed_tile(q->wp, n, xq, acc) < 0)
		sift_cpu_dnnl_tile(SIFT_MM_U8S8, n, OC, C, xq, 0, q->w, 1, 0, acc);
	for (int r = 0; r < n; r++)
		dequant_row(out + (size_t)(r0 + r) * OC, acc + (size_t)r * OC,
			    q->scale, q->wsum, bias, sx[r], zp[r], OC);
}
#endif

void sift_q8_linear_forward(const struct sift_q8_linear *q, float *out,
			    const float *inp, const float *bias, int N)
{
#ifdef SIFT_DNNL
	if (N <= 0)
		return;
	/* the tiles of cpu_matmul.c; every row is quantised on its own and
	 * its sums are exact integers, so the tiling does not change a bit */
	int k = sift_cpu_tiles(N);
	int nt = sift_cpu_gemm_threads((size_t)N * q->C * q->OC, k);
	int outer = omp_get_max_threads();
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int t = 0; t < k; t++) {
		int r0 = sift_cpu_tile(N, k, t), r1 = sift_cpu_tile(N, k, t + 1);
		if (r1 > r0)
			linear_rows(q, out, inp, bias, r0, r1);
	}
	omp_set_num_threads(outer);
#else
	(void)q; (void)out; (void)inp; (void)bias; (void)N;
	abort();	/* sift_device_set_precision refuses int8 here */
#endif
}

int sift_q8_model_quantize(struct bert_model *m)
{
	const struct bert_config *c = &m->cfg;
	const struct bert_params *p = &m->p;
	int nl = c->layers, C = c->hidden, I = c->intermediate;
	struct sift_q8_model *q = calloc(1, sizeof *q);
	if (!q)
		return -1;
	q->n = 4 * nl + 3;
	q->lin = calloc(q->n, sizeof *q->lin);
	if (!q->lin) {
		free(q);
		return -1;
	}
	int bad = 0;
	for (int l = 0; l < nl; l++) {
		const struct bert_layer *w = &p->layer[l];
		struct sift_q8_linear *ql = q->lin + 4 * l;
		bad |= sift_q8_quantize(ql + SIFT_Q8_QKV, w->qkv_w, 3 * C, C);
		bad |= sift_q8_quantize(ql + SIFT_Q8_ATTOUT, w->attout_w, C, C);
		bad |= sift_q8_quantize(ql + SIFT_Q8_FC, w->fc_w, I, C);
		bad |= sift_q8_quantize(ql + SIFT_Q8_FCPROJ, w->fcproj_w, C, I);
	}
	struct sift_q8_linear *qh = q->lin + 4 * nl;
	if (p->pool_w)
		bad |= sift_q8_quantize(qh + SIFT_Q8_POOL, p->pool_w, C, C);
	if (p->cls_w && m->head != BERT_HEAD_MLM)
		bad |= sift_q8_quantize(qh + SIFT_Q8_CLS, p->cls_w, m->nlabels, C);
	if (p->mlm_w)
		bad |= sift_q8_quantize(qh + SIFT_Q8_MLM, p->mlm_w, C, C);
	if (bad) {
		sift_q8_model_free(q);
		return -1;
	}
	m->q8 = q;
	return 0;
}

void sift_q8_model_free(struct sift_q8_model *q)
{
	if (!q)
		return;
	for (int i = 0; i < q->n; i++)
		sift_q8_free(q->lin + i);
	free(q->lin);
	free(q);
}
