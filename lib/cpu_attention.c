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

/* o[r*ldo + e] = sum over j of w[r*ldw + j] v[j*ld + e] for nr <= QR
 * rows at once (o (hs) a row, w (len), v (len,ld)): each value row is
 * loaded once for the rows, and the QR * hs sums are independent chains
 * where one row alone is a chain of len dependent multiply-adds.  Rows
 * past nr repeat the last and are not stored.  Each sum starts at 0 and
 * adds its terms in the order of j, whatever nr: a row's bits are those
 * of the row alone.  Inlined with a constant hs, the sums stay in
 * registers. */
#define QR 4
/* the rows' loops unrolled, so that their sums stay in registers */
#define UNROLL_QR _Pragma("GCC unroll 4")
static inline __attribute__((always_inline)) void
weighted_sum_rows(float *o, size_t ldo, const float *w, size_t ldw, int nr,
		  const float *v, int len, size_t ld, int hs)
{
	float acc[QR][hs];
	UNROLL_QR
	for (int r = 0; r < QR; r++)
#pragma omp simd
		for (int e = 0; e < hs; e++)
			acc[r][e] = 0.0f;
	for (int j = 0; j < len; j++) {
		const float *vr = v + (size_t)j * ld;
		UNROLL_QR
		for (int r = 0; r < QR; r++) {
			float wj = w[(r < nr ? r : nr - 1) * ldw + j];
#pragma omp simd
			for (int e = 0; e < hs; e++)
				acc[r][e] += wj * vr[e];
		}
	}
	UNROLL_QR
	for (int r = 0; r < QR; r++)
		if (r < nr)
#pragma omp simd
			for (int e = 0; e < hs; e++)
				o[r * ldo + e] = acc[r][e];
}

static inline __attribute__((always_inline)) void
head_sum_rows(float *o, size_t ldo, const float *w, size_t ldw, int nr,
	      const float *v, int len, size_t ld, int hs)
{
	if (hs == 32)
		weighted_sum_rows(o, ldo, w, ldw, nr, v, len, ld, 32);
	else if (hs == 64)
		weighted_sum_rows(o, ldo, w, ldw, nr, v, len, ld, 64);
	else
		weighted_sum_rows(o, ldo, w, ldw, nr, v, len, ld, hs);
}

/* t[e*ldt + j] = x[j*ld + e]: one head's (len,hs) slice transposed, its
 * rows padded with zeros to ldt, a multiple of 16 */
static inline void transpose_head(float *t, const float *x, int len, size_t ld,
				  int hs, int ldt)
{
	/* t written row by row: stores to hs lines at once cost a fifth of
	 * the attention at short lengths */
	for (int e = 0; e < hs; e++) {
		float *tr = t + (size_t)e * ldt;
		for (int j = 0; j < len; j++)
			tr[j] = x[(size_t)j * ld + e];
		for (int j = len; j < ldt; j++)
			tr[j] = 0.0f;
	}
}

/* acc[r][jj] = sum over e of x[r*ldx + e] t[e*ldt + j0 + jj]: 16
 * columns of a transposed head for nr <= QR rows of x at once (rows past
 * nr repeat the last); each column of t is loaded once for the rows, and
 * each sum adds its terms in the order of e, whatever nr */
static inline __attribute__((always_inline)) void
dots16_rows(float acc[QR][16], const float *x, size_t ldx, int nr,
	    const float *t, int ldt, int hs, int j0)
{
	UNROLL_QR
	for (int r = 0; r < QR; r++)
#pragma omp simd
		for (int jj = 0; jj < 16; jj++)
			acc[r][jj] = 0.0f;
	for (int e = 0; e < hs; e++) {
		const float *tr = t + (size_t)e * ldt + j0;
		UNROLL_QR
		for (int r = 0; r < QR; r++) {
			float xe = x[(r < nr ? r : nr - 1) * ldx + e];
#pragma omp simd
			for (int jj = 0; jj < 16; jj++)
				acc[r][jj] += xe * tr[jj];
		}
	}
}

static inline __attribute__((always_inline)) void
head_dots_rows(float acc[QR][16], const float *x, size_t ldx, int nr,
	       const float *t, int ldt, int hs, int j0)
{
	if (hs == 32)
		dots16_rows(acc, x, ldx, nr, t, ldt, 32, j0);
	else if (hs == 64)
		dots16_rows(acc, x, ldx, nr, t, ldt, 64, j0);
	else
		dots16_rows(acc, x, ldx, nr, t, ldt, hs, j0);
}

/* one head of one example: kt is scratch of hs * (len rounded up to 16)
 * floats, and QR * len more for dropout.  The query rows go QR at a time
 * through the two products; each row's sums are those of one row alone. */
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
	const float *v = qkv + r0 * C3 + 2 * C + h * hs;
	float *drop = kt + (size_t)hs * ldk;	/* QR rows of len */
	for (int i0 = 0; i0 < len; i0 += QR) {
		int nr = len - i0 < QR ? len - i0 : QR;
		const float *q0 = qkv + (r0 + i0) * C3 + h * hs;
		float *a0 = att + base + (size_t)i0 * len;
		/* each row's running maximum, one per lane: the maximum of
		 * a set, whatever the order it is taken in */
		float m16[QR][16];
		for (int r = 0; r < QR; r++)
			for (int jj = 0; jj < 16; jj++)
				m16[r][jj] = -INFINITY;
		/* 16 scores of each row at a time, kept in registers */
		for (int j0 = 0; j0 < len; j0 += 16) {
			float acc[QR][16];
			head_dots_rows(acc, q0, C3, nr, kt, ldk, hs, j0);
			int n = len - j0 < 16 ? len - j0 : 16;
			for (int r = 0; r < nr; r++) {
				float *a = a0 + (size_t)r * len + j0;
#pragma omp simd
				for (int jj = 0; jj < n; jj++) {
					float d = acc[r][jj] * scale;
					a[jj] = d;
					m16[r][jj] = d > m16[r][jj] ? d : m16[r][jj];
				}
			}
		}
		for (int r = 0; r < nr; r++) {
			float *a = a0 + (size_t)r * len;
			float mx = -INFINITY, sum = 0.0f;
			for (int jj = 0; jj < 16; jj++)
				mx = m16[r][jj] > mx ? m16[r][jj] : mx;
#pragma omp simd
			for (int j = 0; j < len; j++)
				a[j] = sift_vexpf(a[j] - mx);
			for (int j = 0; j < len; j++)
				sum += a[j];
			float inv = 1.0f / sum;
#pragma omp simd
			for (int j = 0; j < len; j++)
				a[j] *= inv;
			if (p > 0.0f) {
				/* the dropped probabilities, in scratch after kt */
				float *w = drop + (size_t)r * len;
				uint64_t key = sift_hash_key(seed);
				uint64_t c0 = base + (size_t)(i0 + r) * len;
#pragma omp simd
				for (int j = 0; j < len; j++)
					w[j] = sift_hash_drop(key, c0 + (uint64_t)j, p) ? 0.0f : a[j] * keep;
			}
		}
		/* the common head sizes with the sums in registers */
		head_sum_rows(out + (size_t)(r0 + i0) * C + h * hs, C,
			      p > 0.0f ? drop : a0, len, nr, v, len, C3, hs);
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
		float *kt = sift_xmalloc(sizeof(float) * (hs + QR) * ((maxlen + 15) & ~15));
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
	/* dv: column j of P', then its sum over the rows of dout; QR
	 * columns at a time (w holds QR rows of len) */
	for (int j0 = 0; j0 < len; j0 += QR) {
		int nr = len - j0 < QR ? len - j0 : QR;
		for (int r = 0; r < nr; r++) {
			float *wr = w + (size_t)r * len;
			int j = j0 + r;
			if (p > 0.0f)
				for (int i = 0; i < len; i++)
					wr[i] = A[(size_t)i * len + j] * D[(size_t)i * len + j];
			else
				for (int i = 0; i < len; i++)
					wr[i] = A[(size_t)i * len + j];
		}
		head_sum_rows(dv + (size_t)j0 * C3, C3, w, len, nr, dy, len, C, hs);
	}
	/* v of this head, transposed and padded: vt[e*ldv + j] */
	transpose_head(vt, v, len, C3, hs, ldv);
	for (int i0 = 0; i0 < len; i0 += QR) {
		int nr = len - i0 < QR ? len - i0 : QR;
		const float *dy0 = dy + (size_t)i0 * C;
		float *da0 = D + (size_t)i0 * len;
		/* dP rows: 16 at a time in registers, as the forward scores */
		for (int j0 = 0; j0 < len; j0 += 16) {
			float acc[QR][16];
			head_dots_rows(acc, dy0, C, nr, vt, ldv, hs, j0);
			int n = len - j0 < 16 ? len - j0 : 16;
			for (int r = 0; r < nr; r++) {
				float *da = da0 + (size_t)r * len + j0;
				if (p > 0.0f)
					for (int jj = 0; jj < n; jj++)
						da[jj] *= acc[r][jj];
				else
					for (int jj = 0; jj < n; jj++)
						da[jj] = acc[r][jj];
			}
		}
		/* softmax: dS = P * (dP - sum(dP * P)), times the score scale */
		for (int r = 0; r < nr; r++) {
			const float *a = A + (size_t)(i0 + r) * len;
			float *da = da0 + (size_t)r * len;
			float dot = dot8(da, a, len);
#pragma omp simd
			for (int j = 0; j < len; j++)
				da[j] = a[j] * (da[j] - dot) * scale;
		}
		head_sum_rows(dq + (size_t)i0 * C3, C3, da0, len, nr, k, len, C3, hs);
	}
	/* dk: column j of dS, then its sum over the rows of q, QR columns
	 * at a time */
	for (int j0 = 0; j0 < len; j0 += QR) {
		int nr = len - j0 < QR ? len - j0 : QR;
		for (int r = 0; r < nr; r++)
			for (int i = 0; i < len; i++)
				w[(size_t)r * len + i] = D[(size_t)i * len + j0 + r];
		head_sum_rows(dk + (size_t)j0 * C3, C3, w, len, nr, q, len, C3, hs);
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
		float *s = sift_xmalloc(sizeof(float) * ((size_t)hs * ((maxlen + 15) & ~15) + (size_t)QR * maxlen + 1));
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
