/* cpu_attention.c: attention on the CPU, one (example, head) pair per task, forward and backward (twin of kernels/attention.cu). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */
#include "prog.h"	/* defines: sift_xmalloc (out of memory, one way) */
#include "backend.h"	/* defines: sift_att_offset */
#include "rng.h"	/* defines: sift_hash_key, sift_hash_drop (attention dropout) */

/* o[e] = sum over j of w[j] v[j*ld + e]; o is (hs), w is (len), v is
 * (len,ld); inlined with a constant hs, the sum stays in registers */
static inline __attribute__((always_inline)) void
weighted_sum(float *o, const float *w, const float *v, int len, size_t ld,
	     int hs)
{
	float acc[hs];
#pragma omp simd
	for (int e = 0; e < hs; e++)
		acc[e] = 0.0f;
	for (int j = 0; j < len; j++) {
		float wj = w[j];
		const float *vr = v + (size_t)j * ld;
#pragma omp simd
		for (int e = 0; e < hs; e++)
			acc[e] += wj * vr[e];
	}
#pragma omp simd
	for (int e = 0; e < hs; e++)
		o[e] = acc[e];
}

/* weighted_sum with the common head sizes' constant hs */
static inline __attribute__((always_inline)) void
head_sum(float *o, const float *w, const float *v, int len, size_t ld, int hs)
{
	if (hs == 32)
		weighted_sum(o, w, v, len, ld, 32);
	else if (hs == 64)
		weighted_sum(o, w, v, len, ld, 64);
	else
		weighted_sum(o, w, v, len, ld, hs);
}

/* t[e*ldt + j] = x[j*ld + e]: one head's (len,hs) slice transposed, its
 * rows padded with zeros to ldt, a multiple of 16 */
static inline void transpose_head(float *t, const float *x, int len, size_t ld,
				  int hs, int ldt)
{
	for (int j = 0; j < len; j++)
		for (int e = 0; e < hs; e++)
			t[(size_t)e * ldt + j] = x[(size_t)j * ld + e];
	for (int e = 0; e < hs; e++)
		for (int j = len; j < ldt; j++)
			t[(size_t)e * ldt + j] = 0.0f;
}

/* acc[jj] = sum over e of x[e] t[e*ldt + j0 + jj] for 16 columns of a
 * transposed head: 16 dot products in one register */
static inline __attribute__((always_inline)) void
dots16(float acc[16], const float *x, const float *t, int ldt, int hs, int j0)
{
#pragma omp simd
	for (int jj = 0; jj < 16; jj++)
		acc[jj] = 0.0f;
	for (int e = 0; e < hs; e++) {
		float xe = x[e];
		const float *tr = t + (size_t)e * ldt + j0;
#pragma omp simd
		for (int jj = 0; jj < 16; jj++)
			acc[jj] += xe * tr[jj];
	}
}

/* one head of one example: kt is scratch of hs * (len rounded up to 16)
 * floats, and len more for dropout */
HOT static void attention_head(float *out, float *att, const float *qkv,
			       int r0, int len, int h, int C, int NH,
			       float p, uint64_t seed, size_t base, float *kt)
{
	int hs = C / NH;
	int ldk = (len + 15) & ~15;
	size_t C3 = (size_t)3 * C;
	float scale = 1.0f / sqrtf((float)hs);
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	/* k of this head, transposed and padded: kt[e*ldk + j] */
	transpose_head(kt, qkv + r0 * C3 + C + h * hs, len, C3, hs, ldk);
	for (int i = 0; i < len; i++) {
		const float *q = qkv + (r0 + i) * C3 + h * hs;
		float *a = att + base + (size_t)i * len;
		float mx = -INFINITY;
		/* 16 scores at a time, kept in one register */
		for (int j0 = 0; j0 < len; j0 += 16) {
			float acc[16];
			dots16(acc, q, kt, ldk, hs, j0);
			int n = len - j0 < 16 ? len - j0 : 16;
			for (int jj = 0; jj < n; jj++) {
				float d = acc[jj] * scale;
				a[j0 + jj] = d;
				mx = d > mx ? d : mx;
			}
		}
		float sum = 0.0f;
#pragma omp simd
		for (int j = 0; j < len; j++)
			a[j] = sift_vexpf(a[j] - mx);
		for (int j = 0; j < len; j++)
			sum += a[j];
		float inv = 1.0f / sum;
#pragma omp simd
		for (int j = 0; j < len; j++)
			a[j] *= inv;
		float *o = out + (size_t)(r0 + i) * C + h * hs;
		const float *v = qkv + r0 * C3 + 2 * C + h * hs;
		float *w = a;
		if (p > 0.0f) {
			/* the dropped probabilities, in scratch after kt */
			w = kt + (size_t)hs * ldk;
			uint64_t key = sift_hash_key(seed), c0 = base + (size_t)i * len;
#pragma omp simd
			for (int j = 0; j < len; j++)
				w[j] = sift_hash_drop(key, c0 + (uint64_t)j, p) ? 0.0f : a[j] * keep;
		}
		/* the common head sizes with the sum in registers */
		head_sum(o, w, v, len, C3, hs);
	}
}

void sift_cpu_attention_forward(float *out, float *att, const float *qkv,
				const int32_t *offs, int B, int T, int C,
				int NH, float p, uint64_t seed)
{
	(void)T;
	int hs = C / NH, maxlen = 0;
	/* the start of each example's block in att: a prefix sum */
	size_t *attoff = sift_xmalloc(sizeof(size_t) * (B + 1));
	attoff[0] = 0;
	for (int b = 0; b < B; b++) {
		size_t l = (size_t)(offs[b + 1] - offs[b]);
		attoff[b + 1] = attoff[b] + l * l * NH;
		if ((int)l > maxlen)
			maxlen = (int)l;
	}
	int tasks = B * NH;
#pragma omp parallel if (offs[B] > 16)
	{
		float *kt = sift_xmalloc(sizeof(float) * (hs + 1) * ((maxlen + 15) & ~15));
#pragma omp for schedule(static)
		for (int task = 0; task < tasks; task++) {
			int b = task / NH, h = task % NH;
			int len = offs[b + 1] - offs[b];
			attention_head(out, att, qkv, offs[b], len, h, C, NH, p,
				       seed, attoff[b] + (size_t)h * len * len, kt);
		}
		free(kt);
	}
	free(attoff);
}

/* x . y over n floats in 8 interleaved partial sums, added in a fixed
 * order: vectorizable, and the same bits in every clone and on any
 * number of threads */
static inline float dot8(const float *x, const float *y, int n)
{
	float s[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };
	int d = 0;
	for (; d + 8 <= n; d += 8)
		for (int j = 0; j < 8; j++)
			s[j] += x[d + j] * y[d + j];
	for (; d < n; d++)
		s[d & 7] += x[d] * y[d];
	return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/*
 * The backward pass of one head of one example: its len rows start at
 * row r0; A and D are its (len,len) probabilities and scratch; base is
 * the dropout counter of its first probability; s is scratch of
 * hs * (len rounded up to 16) + len floats.  Each of this head's dq, dk
 * and dv rows is one weighted sum over the example's rows, written
 * once, in registers: no row is updated len times, as a rank-one
 * update per score would.
 *   dv[j] = sum over i of P'[i][j] dout[i]   (P': the dropped probabilities)
 *   dP[i] = (dout[i] v^T) * mask[i],  dS = P * (dP - sum(dP * P)) * scale
 *   dq[i] = sum over j of dS[i][j] k[j],  dk[j] = sum over i of dS[i][j] q[i]
 */
HOT static void attention_head_bwd(float *dqkv, float *D, const float *dout,
				   const float *qkv, const float *A, int r0,
				   int len, int C, int h, int hs, float scale,
				   float p, float keep, uint64_t seed,
				   uint64_t base, float *s)
{
	size_t C3 = 3 * (size_t)C;
	int ldv = (len + 15) & ~15;
	uint64_t key = sift_hash_key(seed);
	const float *q = qkv + (size_t)r0 * C3 + h * hs;
	const float *k = q + C, *v = q + 2 * C;
	const float *dy = dout + (size_t)r0 * C + h * hs;
	float *dq = dqkv + (size_t)r0 * C3 + h * hs;
	float *dk = dq + C, *dv = dq + 2 * C;
	float *vt = s, *w = s + (size_t)hs * ldv;

	/* the dropout mask (0 or 1/(1-p)), once, into D: each row of D is
	 * read as mask, then overwritten with dS, below */
	if (p > 0.0f)
		for (int i = 0; i < len; i++) {
			float *m = D + (size_t)i * len;
			uint64_t c0 = base + (uint64_t)i * len;
#pragma omp simd
			for (int j = 0; j < len; j++)
				m[j] = sift_hash_drop(key, c0 + (uint64_t)j, p) ? 0.0f : keep;
		}
	/* dv: column j of P', then its sum over the rows of dout */
	for (int j = 0; j < len; j++) {
		if (p > 0.0f)
			for (int i = 0; i < len; i++)
				w[i] = A[(size_t)i * len + j] * D[(size_t)i * len + j];
		else
			for (int i = 0; i < len; i++)
				w[i] = A[(size_t)i * len + j];
		head_sum(dv + (size_t)j * C3, w, dy, len, C, hs);
	}
	/* v of this head, transposed and padded: vt[e*ldv + j] */
	transpose_head(vt, v, len, C3, hs, ldv);
	for (int i = 0; i < len; i++) {
		const float *dyi = dy + (size_t)i * C;
		const float *a = A + (size_t)i * len;
		float *da = D + (size_t)i * len;
		/* dP row: 16 at a time in one register, as the forward scores */
		for (int j0 = 0; j0 < len; j0 += 16) {
			float acc[16];
			dots16(acc, dyi, vt, ldv, hs, j0);
			int n = len - j0 < 16 ? len - j0 : 16;
			if (p > 0.0f)
				for (int jj = 0; jj < n; jj++)
					da[j0 + jj] *= acc[jj];
			else
				for (int jj = 0; jj < n; jj++)
					da[j0 + jj] = acc[jj];
		}
		/* softmax: dS = P * (dP - sum(dP * P)), times the score scale */
		float dot = dot8(da, a, len);
#pragma omp simd
		for (int j = 0; j < len; j++)
			da[j] = a[j] * (da[j] - dot) * scale;
		head_sum(dq + (size_t)i * C3, da, k, len, C3, hs);
	}
	/* dk: column j of dS, then its sum over the rows of q */
	for (int j = 0; j < len; j++) {
		for (int i = 0; i < len; i++)
			w[i] = D[(size_t)i * len + j];
		head_sum(dk + (size_t)j * C3, w, q, len, C3, hs);
	}
}

void sift_cpu_attention_backward(float *dqkv, float *datt, const float *dout,
				 const float *qkv, const float *att,
				 const int32_t *offs, int B, int T, int C,
				 int NH, float p, uint64_t seed)
{
	(void)T;
	int hs = C / NH, N = offs[B], maxlen = 0;
	float scale = 1.0f / sqrtf((float)hs);
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	for (int b = 0; b < B; b++)
		if (offs[b + 1] - offs[b] > maxlen)
			maxlen = offs[b + 1] - offs[b];
	/* one (b,h) per iteration: it alone writes the columns of head h in
	 * the rows of example b, every one of them, so no two iterations
	 * touch the same float and dqkv needs no clearing */
	#pragma omp parallel if ((size_t)N * C > PAR_MIN / 4)
	{
		float *s = sift_xmalloc(sizeof(float) * ((size_t)hs * ((maxlen + 15) & ~15) + maxlen + 1));
		#pragma omp for collapse(2) schedule(static)
		for (int b = 0; b < B; b++)
		for (int h = 0; h < NH; h++) {
			int r0 = offs[b], len = offs[b + 1] - offs[b];
			size_t base = sift_att_offset(offs, b, NH) + (size_t)h * len * len;
			attention_head_bwd(dqkv, datt + base, dout, qkv, att + base, r0,
					   len, C, h, hs, scale, p, keep, seed, base, s);
		}
		free(s);
	}
}
