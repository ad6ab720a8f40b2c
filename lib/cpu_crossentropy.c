/* cpu_crossentropy.c: softmax and cross-entropy on the CPU, forward and backward (twin of kernels/crossentropy.cu). */
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

void sift_cpu_crossentropy_forward(float *losses, const float *probs,
				   const int32_t *targets, int M, int L)
{
	for (int r = 0; r < M; r++) {
		int t = targets[r];
		losses[r] = t < 0 || t >= L ? 0.0f :
			-logf(probs[(size_t)r * L + t]);
	}
}

void sift_cpu_crossentropy_backward(float *dlogits, const float *probs,
				    const int32_t *targets, int M, int L,
				    float scale)
{
	for (int i = 0; i < M; i++) {
		float *d = dlogits + (size_t)i * L;
		const float *pr = probs + (size_t)i * L;
		if (targets[i] < 0 || targets[i] >= L) {
			memset(d, 0, (size_t)L * sizeof *d);
			continue;
		}
		for (int j = 0; j < L; j++)
			d[j] = (pr[j] - (j == targets[i] ? 1.0f : 0.0f)) * scale;
	}
}
