/* ops_cpu.c: the forward ops of the CPU backend, OpenBLAS sgemm plus OpenMP loops. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <omp.h>

#include "hot.h"
#include "backend.h"	/* defines: the shapes of every op below */
#include "rng.h"	/* defines: sift_hash_key, sift_hash_drop (dropout) */

/*
 * Every loop is split statically over rows (or over (example, head)
 * pairs); each output element is computed by one thread in a fixed
 * order, so a fixed thread count gives the same bits every run.
 */

/* below this many elements a parallel region costs more than it saves */
#define PAR_MIN 4096


/* exp(x) in float with a relative error below 2e-7, written so that
 * loops over it vectorize: x = n ln2 + r, |r| <= ln2/2, a degree-6
 * polynomial for exp(r), then 2^n put into the exponent */
#pragma omp declare simd notinbranch
static inline float vexpf(float x)
{
	x = x < -87.3f ? -87.3f : x;
	x = x > 88.3f ? 88.3f : x;
	/* round to nearest by the 1.5 * 2^23 trick (no call to rintf) */
	float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
	float r = x - fn * 0.693145751953125f;
	r = r - fn * 1.428606765330187045e-06f;
	float p = 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	/* unsigned shift: a NaN x gives a NaN p, whatever fn converts to */
	union { uint32_t i; float f; } u = { .i = ((uint32_t)(int32_t)fn + 127u) << 23 };
	return p * u.f;
}

int sift_cpu_split_threads(void)
{
	if (omp_in_parallel())
		return 1;
	/* OpenBLAS splits a call by its own thread count, so it runs on
	 * one: the threads are ours, and share out fixed tiles */
	if (openblas_get_num_threads() != 1)
		openblas_set_num_threads(1);
	return omp_get_max_threads();
}

/* the clone the resolver of a HOT function picks, in target_clones' order */
static const char *hot_clone(void)
{
#ifdef SIFT_HOT_CLONES
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return "avx512f";
	if (__builtin_cpu_supports("avx2"))
		return "avx2";
	return "default";
#else
	return "none";
#endif
}

const char *sift_cpu_describe(void)
{
	static char buf[256];
	if (!buf[0])
		snprintf(buf, sizeof buf, "%s; core %s; clone %s",
			 openblas_get_config(), openblas_get_corename(),
			 hot_clone());
	return buf;
}

int sift_cpu_gemm_threads(size_t work, int tiles)
{
	int nt = sift_cpu_split_threads();
	if (work < ((size_t)1 << 18))
		nt = 1;
	return nt < tiles ? nt : tiles;
}

int sift_cpu_tiles(int rows)
{
	int k = 1;
	while (k < SIFT_CPU_TILES_MAX && (int64_t)2 * k * SIFT_CPU_TILE_MIN <= rows)
		k *= 2;
	return k;
}

int sift_cpu_tile(int rows, int k, int i)
{
	if (i >= k)
		return rows;
	/* the even cut, rounded up to a multiple of 16 rows */
	int64_t r = ((int64_t)rows * i / k + 15) & ~(int64_t)15;
	return r < rows ? (int)r : rows;
}

void sift_cpu_embed_forward(float *out, const int32_t *ids,
			    const int32_t *type_ids, const int32_t *pos,
			    const float *wte, const float *wpe,
			    const float *wtt, int N, int C)
{
#pragma omp parallel for schedule(static) if ((size_t)N * C > PAR_MIN)
	for (int r = 0; r < N; r++) {
		const float *w = wte + (size_t)ids[r] * C;
		const float *p = wpe + (size_t)pos[r] * C;
		const float *t = wtt + (size_t)type_ids[r] * C;
		float *o = out + (size_t)r * C;
		/* the order of transformers: (word + type) + position */
		for (int c = 0; c < C; c++)
			o[c] = (w[c] + t[c]) + p[c];
	}
}

void sift_cpu_matmul_forward(float *out, const float *inp,
			     const float *weight, const float *bias, int N,
			     int C, int OC)
{
	if (N == 0)
		return;
	/*
	 * The rows are cut into tiles by their count alone, each tile one
	 * sgemm (OpenBLAS on one thread), and the tiles are shared out over
	 * the OpenMP threads: one pool of threads for every op, and the same
	 * BLAS calls, so the same bits, whatever the thread count.
	 */
	int k = sift_cpu_tiles(N);
	int nt = sift_cpu_gemm_threads((size_t)N * C * OC, k);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int t = 0; t < k; t++) {
		int r0 = sift_cpu_tile(N, k, t), r1 = sift_cpu_tile(N, k, t + 1);
		float beta = 0.0f;
		if (bias) {
			for (int r = r0; r < r1; r++)
				memcpy(out + (size_t)r * OC, bias, sizeof(float) * OC);
			beta = 1.0f;
		}
		/* out (n,OC) = inp (n,C) @ weight^T, weight (OC,C) */
		if (r1 > r0)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
				    r1 - r0, OC, C, 1.0f, inp + (size_t)r0 * C, C,
				    weight, C, beta, out + (size_t)r0 * OC, OC);
	}
}

/* a row's sums run in 8 double lanes (element c into lane c % 8), then
 * the lanes pairwise, then the tail: one order in every clone, whatever
 * its vector width */
#define LANES 8
static inline double lanes_sum(const double *l)
{
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* one row: mean and variance in double, as sums in a fixed order */
HOT static void layernorm_row(float *o, float *mean, float *rstd,
			      const float *x, const float *weight,
			      const float *bias, int C, float eps)
{
	double l[LANES] = { 0 };
	int c0 = C - C % LANES;
	for (int c = 0; c < c0; c += LANES)
#pragma omp simd
		for (int j = 0; j < LANES; j++)
			l[j] += x[c + j];
	double s = lanes_sum(l);
	for (int c = c0; c < C; c++)
		s += x[c];
	float m = (float)(s / C);
	for (int j = 0; j < LANES; j++)
		l[j] = 0.0;
	for (int c = 0; c < c0; c += LANES)
#pragma omp simd
		for (int j = 0; j < LANES; j++) {
			double d = x[c + j] - m;
			l[j] += d * d;
		}
	double v = lanes_sum(l);
	for (int c = c0; c < C; c++) {
		double d = x[c] - m;
		v += d * d;
	}
	float rs = (float)(1.0 / sqrt(v / C + eps));
#pragma omp simd
	for (int c = 0; c < C; c++)
		o[c] = (x[c] - m) * rs * weight[c] + bias[c];
	if (mean)
		*mean = m;
	if (rstd)
		*rstd = rs;
}

void sift_cpu_layernorm_forward(float *out, float *mean, float *rstd,
				const float *inp, const float *weight,
				const float *bias, int N, int C, float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)N * C > PAR_MIN)
	for (int r = 0; r < N; r++)
		layernorm_row(out + (size_t)r * C, mean ? mean + r : NULL,
			      rstd ? rstd + r : NULL, inp + (size_t)r * C,
			      weight, bias, C, eps);
}

/* erf(x) as Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7),
 * the formula of PyTorch's own vectorized erf */
#pragma omp declare simd notinbranch
static inline float verff(float x)
{
	float a = __builtin_fabsf(x);
	float t = 1.0f / (1.0f + 0.3275911f * a);
	float y = 1.061405429f;
	y = y * t - 1.453152027f;
	y = y * t + 1.421413741f;
	y = y * t - 0.284496736f;
	y = y * t + 0.254829592f;
	y = 1.0f - y * t * vexpf(-a * a);
	return __builtin_copysignf(y, x);
}

HOT static void gelu_span(float *out, const float *inp, size_t n)
{
	const float s = 0.70710678118654752f;
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		float x = inp[i];
		out[i] = 0.5f * x * (1.0f + verff(x * s));
	}
}

void sift_cpu_gelu_forward(float *out, const float *inp, size_t n)
{
	/* in chunks, so that each thread takes a fixed part */
	size_t chunk = 16384, nch = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t a = c * chunk, len = n - a < chunk ? n - a : chunk;
		gelu_span(out + a, inp + a, len);
	}
}

void sift_cpu_tanh_forward(float *out, const float *inp, size_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t i = 0; i < n; i++)
		out[i] = tanhf(inp[i]);
}

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
	for (int j = 0; j < len; j++) {
		const float *k = qkv + (r0 + j) * C3 + C + h * hs;
		for (int e = 0; e < hs; e++)
			kt[(size_t)e * ldk + j] = k[e];
	}
	for (int e = 0; e < hs; e++)
		for (int j = len; j < ldk; j++)
			kt[(size_t)e * ldk + j] = 0.0f;
	for (int i = 0; i < len; i++) {
		const float *q = qkv + (r0 + i) * C3 + h * hs;
		float *a = att + base + (size_t)i * len;
		float mx = -INFINITY;
		/* 16 scores at a time, kept in one register */
		for (int j0 = 0; j0 < len; j0 += 16) {
			float acc[16];
#pragma omp simd
			for (int jj = 0; jj < 16; jj++)
				acc[jj] = 0.0f;
			for (int e = 0; e < hs; e++) {
				float qe = q[e];
				const float *kr = kt + (size_t)e * ldk + j0;
#pragma omp simd
				for (int jj = 0; jj < 16; jj++)
					acc[jj] += qe * kr[jj];
			}
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
			a[j] = vexpf(a[j] - mx);
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
		if (hs == 32)
			weighted_sum(o, w, v, len, C3, 32);
		else if (hs == 64)
			weighted_sum(o, w, v, len, C3, 64);
		else
			weighted_sum(o, w, v, len, C3, hs);
	}
}

void sift_cpu_attention_forward(float *out, float *att, const float *qkv,
				const int32_t *offs, int B, int T, int C,
				int NH, float p, uint64_t seed)
{
	(void)T;
	int hs = C / NH, maxlen = 0;
	/* the start of each example's block in att: a prefix sum */
	size_t *attoff = malloc(sizeof(size_t) * (B + 1));
	if (!attoff)
		abort();
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
		float *kt = malloc(sizeof(float) * (hs + 1) * ((maxlen + 15) & ~15));
		if (!kt)
			abort();
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

void sift_cpu_residual_forward(float *out, const float *a, const float *b,
			       size_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] + b[i];
}

void sift_cpu_residual_layernorm_forward(float *res, float *out, float *mean,
					 float *rstd, const float *a,
					 const float *b, const float *weight,
					 const float *bias, int N, int C,
					 float eps)
{
	/* row by row: the sum is still in the cache when it is normalised */
#pragma omp parallel for schedule(static) if ((size_t)N * C > PAR_MIN)
	for (int r = 0; r < N; r++) {
		size_t o = (size_t)r * C;
		for (int c = 0; c < C; c++)
			res[o + c] = a[o + c] + b[o + c];
		layernorm_row(out + o, mean ? mean + r : NULL,
			      rstd ? rstd + r : NULL, res + o, weight, bias, C,
			      eps);
	}
}

/* the dropout of lib/backend.h over one span (its counters from c0) */
HOT static void dropout_span(float *out, const float *inp, size_t n, float p,
			     float keep, uint64_t key, uint64_t c0)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		out[i] = sift_hash_drop(key, c0 + i, p) ? 0.0f : inp[i] * keep;
}

void sift_cpu_dropout_forward(float *out, const float *inp, size_t n,
			      float p, uint64_t seed, uint64_t counter)
{
	if (p <= 0.0f) {
		if (out != inp)
			memcpy(out, inp, n * sizeof(float));
		return;
	}
	float keep = 1.0f / (1.0f - p);
	uint64_t key = sift_hash_key(seed);
	size_t nch = (n + 16383) / 16384;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * 16384, i1 = i0 + 16384 < n ? i0 + 16384 : n;
		dropout_span(out + i0, inp + i0, i1 - i0, p, keep, key, counter + i0);
	}
}

void sift_cpu_gather_rows_forward(float *out, const float *inp,
				  const int32_t *rows, int M, int C)
{
	for (int i = 0; i < M; i++)
		memcpy(out + (size_t)i * C, inp + (size_t)rows[i] * C,
		       sizeof(float) * C);
}

void sift_cpu_softmax_forward(float *probs, const float *logits, int M,
			      int L)
{
#pragma omp parallel for schedule(static) if ((size_t)M * L > PAR_MIN)
	for (int r = 0; r < M; r++) {
		const float *x = logits + (size_t)r * L;
		float *o = probs + (size_t)r * L;
		float mx = -INFINITY;
		for (int l = 0; l < L; l++)
			if (x[l] > mx)
				mx = x[l];
		float sum = 0.0f;
		for (int l = 0; l < L; l++) {
			o[l] = vexpf(x[l] - mx);
			sum += o[l];
		}
		for (int l = 0; l < L; l++)
			o[l] /= sum;
	}
}

void sift_cpu_crossentropy_forward(float *losses, const float *probs,
				   const int32_t *targets, int M, int L)
{
	for (int r = 0; r < M; r++) {
		int t = targets[r];
		losses[r] = t < 0 || t >= L ? 0.0f :
			-logf(probs[(size_t)r * L + t]);
	}
}
