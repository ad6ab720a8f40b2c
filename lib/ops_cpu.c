/* ops_cpu.c: the forward ops of the CPU backend, OpenBLAS sgemm plus OpenMP loops. */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "backend.h"	/* defines: the shapes of every op below */
#include "rng.h"	/* defines: sift_hash_uniform (dropout) */

/*
 * Every loop is split statically over rows (or over (example, head)
 * pairs); each output element is computed by one thread in a fixed
 * order, so a fixed thread count gives the same bits every run.
 */

/* below this many elements a parallel region costs more than it saves */
#define PAR_MIN 4096

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
	float beta = 0.0f;
	if (bias) {
#pragma omp parallel for schedule(static) if ((size_t)N * OC > PAR_MIN)
		for (int r = 0; r < N; r++)
			memcpy(out + (size_t)r * OC, bias, sizeof(float) * OC);
		beta = 1.0f;
	}
	/* out (N,OC) = inp (N,C) @ weight^T, weight (OC,C) */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f,
		    inp, C, weight, C, beta, out, OC);
}

void sift_cpu_layernorm_forward(float *out, float *mean, float *rstd,
				const float *inp, const float *weight,
				const float *bias, int N, int C, float eps)
{
#pragma omp parallel for schedule(static) if ((size_t)N * C > PAR_MIN)
	for (int r = 0; r < N; r++) {
		const float *x = inp + (size_t)r * C;
		float *o = out + (size_t)r * C;
		double s = 0.0;
		for (int c = 0; c < C; c++)
			s += x[c];
		float m = (float)(s / C);
		double v = 0.0;
		for (int c = 0; c < C; c++) {
			double d = x[c] - m;
			v += d * d;
		}
		float rs = (float)(1.0 / sqrt(v / C + eps));
		for (int c = 0; c < C; c++)
			o[c] = (x[c] - m) * rs * weight[c] + bias[c];
		if (mean)
			mean[r] = m;
		if (rstd)
			rstd[r] = rs;
	}
}

void sift_cpu_gelu_forward(float *out, const float *inp, size_t n)
{
	const float s = (float)M_SQRT1_2;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t i = 0; i < n; i++) {
		float x = inp[i];
		out[i] = 0.5f * x * (1.0f + erff(x * s));
	}
}

void sift_cpu_tanh_forward(float *out, const float *inp, size_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t i = 0; i < n; i++)
		out[i] = tanhf(inp[i]);
}

void sift_cpu_attention_forward(float *out, float *att, const float *qkv,
				const int32_t *offs, int B, int C, int NH,
				float p, uint64_t seed)
{
	int hs = C / NH;
	float scale = 1.0f / sqrtf((float)hs);
	float keep = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
	size_t C3 = (size_t)3 * C;
	/* the start of each example's block in att: a prefix sum */
	size_t attoff[B + 1];
	attoff[0] = 0;
	for (int b = 0; b < B; b++) {
		size_t l = (size_t)(offs[b + 1] - offs[b]);
		attoff[b + 1] = attoff[b] + l * l * NH;
	}
	int tasks = B * NH;
#pragma omp parallel for schedule(static) if (offs[B] > 16)
	for (int task = 0; task < tasks; task++) {
		int b = task / NH, h = task % NH;
		int r0 = offs[b], len = offs[b + 1] - offs[b];
		size_t base = attoff[b] + (size_t)h * len * len;
		for (int i = 0; i < len; i++) {
			const float *q = qkv + (r0 + i) * C3 + h * hs;
			float *a = att + base + (size_t)i * len;
			float mx = -INFINITY;
			for (int j = 0; j < len; j++) {
				const float *k = qkv + (r0 + j) * C3 + C + h * hs;
				float d = 0.0f;
				for (int e = 0; e < hs; e++)
					d += q[e] * k[e];
				d *= scale;
				a[j] = d;
				if (d > mx)
					mx = d;
			}
			float sum = 0.0f;
			for (int j = 0; j < len; j++) {
				a[j] = expf(a[j] - mx);
				sum += a[j];
			}
			float inv = 1.0f / sum;
			for (int j = 0; j < len; j++)
				a[j] *= inv;
			float *o = out + (size_t)(r0 + i) * C + h * hs;
			for (int e = 0; e < hs; e++)
				o[e] = 0.0f;
			for (int j = 0; j < len; j++) {
				float w = a[j];
				if (p > 0.0f) {
					uint64_t ctr = base + (size_t)i * len + j;
					w = sift_hash_uniform(seed, ctr) < p ?
						0.0f : w * keep;
				}
				const float *v = qkv + (r0 + j) * C3 + 2 * C + h * hs;
				for (int e = 0; e < hs; e++)
					o[e] += w * v[e];
			}
		}
	}
}

void sift_cpu_residual_forward(float *out, const float *a, const float *b,
			       size_t n)
{
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t i = 0; i < n; i++)
		out[i] = a[i] + b[i];
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
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
	for (size_t i = 0; i < n; i++)
		out[i] = sift_hash_uniform(seed, counter + i) < p ?
			0.0f : inp[i] * keep;
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
			o[l] = expf(x[l] - mx);
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
