/* adamw.c: the AdamW optimizer exactly as torch.optim.AdamW, with global gradient-norm clipping. */
#include <math.h>
#include <stdlib.h>

#include "adamw.h"
#include "stream.h"	/* defines: sift_xcalloc */

void adamw_init(struct adamw *o, size_t n, float weight_decay)
{
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = 1e-8f;
	o->weight_decay = weight_decay;
	o->t = 0;
	o->n = n;
	o->m = sift_xcalloc(n ? n : 1, sizeof *o->m);
	o->v = sift_xcalloc(n ? n : 1, sizeof *o->v);
}

void adamw_free(struct adamw *o)
{
	free(o->m);
	free(o->v);
	o->m = o->v = NULL;
}

void adamw_tick(struct adamw *o)
{
	o->t++;
}

void adamw_update(struct adamw *o, float *param, const float *grad, size_t n,
		  size_t off, double lr, int decay)
{
	/* the scalars in double, as torch computes them in Python floats */
	double bc1 = 1.0 - pow((double)o->beta1, (double)o->t);
	double bc2 = 1.0 - pow((double)o->beta2, (double)o->t);
	float step_size = (float)(lr / bc1);
	float bc2_sqrt = (float)sqrt(bc2);
	float wd = (float)(1.0 - lr * (double)o->weight_decay);
	float b2 = o->beta2, w1 = 1.0f - o->beta1,
	      w2 = 1.0f - o->beta2, eps = o->eps;
	float *m = o->m + off, *v = o->v + off;
	#pragma omp parallel for
	for (size_t i = 0; i < n; i++) {
		float g = grad[i];
		float p = param[i];
		if (decay)
			p *= wd;
		m[i] += (g - m[i]) * w1;	/* torch: exp_avg.lerp_(grad, 1-beta1) */
		v[i] = v[i] * b2 + g * g * w2;
		float denom = sqrtf(v[i]) / bc2_sqrt + eps;
		param[i] = p - step_size * (m[i] / denom);
	}
}

#define CHUNK 16384

double grad_norm(float *const *grads, const size_t *lens, int nspans)
{
	/* fixed chunks summed in a fixed order: the same norm whatever the
	 * number of threads, so that a resumed run stays bit-identical */
	double total = 0.0;
	for (int s = 0; s < nspans; s++) {
		const float *g = grads[s];
		size_t nch = (lens[s] + CHUNK - 1) / CHUNK;
		double *part = sift_xcalloc(nch ? nch : 1, sizeof *part);
		#pragma omp parallel for
		for (size_t c = 0; c < nch; c++) {
			size_t end = (c + 1) * CHUNK < lens[s] ? (c + 1) * CHUNK : lens[s];
			double sum = 0.0;
			for (size_t i = c * CHUNK; i < end; i++)
				sum += (double)g[i] * g[i];
			part[c] = sum;
		}
		for (size_t c = 0; c < nch; c++)
			total += part[c];
		free(part);
	}
	return sqrt(total);
}

void grad_clip(float *const *grads, const size_t *lens, int nspans,
	       double norm, float max_norm)
{
	if (max_norm <= 0.0f)
		return;
	double coef = max_norm / (norm + 1e-6);
	if (coef >= 1.0)
		return;
	float c = (float)coef;
	for (int s = 0; s < nspans; s++) {
		float *g = grads[s];
		#pragma omp parallel for
		for (size_t i = 0; i < lens[s]; i++)
			g[i] *= c;
	}
}
