/* cpu_crossentropy.c: softmax and cross-entropy on the CPU, forward and backward (twin of kernels/crossentropy.cu). */
#include <float.h>	/* defines: FLT_MIN */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops_cpu.h"	/* defines: every CPU op, the tile rule */
#include "cpu_common.h"	/* defines: PAR_MIN, sift_vexpf, HOT */

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
			o[l] = sift_vexpf(x[l] - mx);
			sum += o[l];
		}
		for (int l = 0; l < L; l++)
			o[l] /= sum;
	}
}

/* -log p, finite where p underflowed to 0 (as log_softmax would be) */
static float nlog(float p)
{
	return -logf(p > FLT_MIN ? p : FLT_MIN);
}

void sift_cpu_crossentropy_forward(float *losses, const float *probs,
				   const int32_t *targets, int M, int L,
				   const float *weight, float eps)
{
	for (int r = 0; r < M; r++) {
		int t = targets[r];
		if (t < 0 || t >= L) {
			losses[r] = 0.0f;
			continue;
		}
		const float *p = probs + (size_t)r * L;
		if (!weight && eps == 0.0f) {
			losses[r] = -logf(p[t]);
			continue;
		}
		float wt = weight ? weight[t] : 1.0f, s = 0.0f;
		if (eps != 0.0f)
			for (int c = 0; c < L; c++)
				s += (weight ? weight[c] : 1.0f) * nlog(p[c]);
		losses[r] = (1.0f - eps) * wt * nlog(p[t]) + eps / (float)L * s;
	}
}

void sift_cpu_crossentropy_backward(float *dlogits, const float *probs,
				    const int32_t *targets, int M, int L,
				    const float *weight, float eps,
				    float scale)
{
	/* sum_c w[c]: L without weights */
	float sw = (float)L;
	if (weight) {
		sw = 0.0f;
		for (int c = 0; c < L; c++)
			sw += weight[c];
	}
	float el = eps / (float)L;
	for (int i = 0; i < M; i++) {
		float *d = dlogits + (size_t)i * L;
		const float *pr = probs + (size_t)i * L;
		int t = targets[i];
		if (t < 0 || t >= L) {
			memset(d, 0, (size_t)L * sizeof *d);
			continue;
		}
		if (!weight && eps == 0.0f) {
			for (int j = 0; j < L; j++)
				d[j] = (pr[j] - (j == t ? 1.0f : 0.0f)) * scale;
			continue;
		}
		float b = (1.0f - eps) * (weight ? weight[t] : 1.0f);
		float a = b + el * sw;
		for (int j = 0; j < L; j++)
			d[j] = (pr[j] * a - (j == t ? b : 0.0f) -
				el * (weight ? weight[j] : 1.0f)) * scale;
	}
}
