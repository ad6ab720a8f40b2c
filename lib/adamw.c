/* adamw.c: AdamW optimizer state over parameter spans, and global gradient-norm clipping. */
#include <math.h>
#include <stdlib.h>

#include "hot.h"
#include "adamw.h"
#include "stream.h"	/* defines: sift_xcalloc */

int adamw_init(struct adamw *o, const struct sift_backend *be, size_t n,
	       float weight_decay)
{
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = 1e-8f;
	o->weight_decay = weight_decay;
	o->t = 0;
	o->n = n;
	o->be = be;
	/* be->alloc zeroes */
	o->m = be->alloc((n ? n : 1) * sizeof *o->m);
	o->v = be->alloc((n ? n : 1) * sizeof *o->v);
	if (!o->m || !o->v) {
		adamw_free(o);
		return -1;
	}
	return 0;
}

void adamw_free(struct adamw *o)
{
	if (o->be) {
		if (o->m)
			o->be->free(o->m);
		if (o->v)
			o->be->free(o->v);
	}
	o->m = o->v = NULL;
}

void adamw_tick(struct adamw *o)
{
	o->t++;
}

void adamw_update(struct adamw *o, const struct sift_backend *be,
		  float *param, const float *grad, size_t n, size_t off,
		  float lr, int decay)
{
	be->adamw_update(param, grad, o->m + off, o->v + off, n, lr, o->beta1,
			 o->beta2, o->eps, decay ? o->weight_decay : 0.0f,
			 (int)o->t);
}

#define CHUNK 16384

/* the sum of squares of a chunk: 16 lanes, then the lanes in double, so
 * that it vectorises and still gives the same bits everywhere */
HOT static double sumsq(const float *g, size_t n)
{
	float lane[16] = { 0 };
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		for (int j = 0; j < 16; j++)
			lane[j] += g[i + j] * g[i + j];
	double s = 0.0;
	for (int j = 0; j < 16; j++)
		s += lane[j];
	for (; i < n; i++)
		s += (double)g[i] * g[i];
	return s;
}

HOT static void scale_span(float *g, size_t n, float c)
{
	for (size_t i = 0; i < n; i++)
		g[i] *= c;
}

/* the chunks of 16384 floats are summed in parallel, then in order */
double sift_cpu_sumsq(const float *x, size_t n)
{
	size_t nch = (n + CHUNK - 1) / CHUNK;
	double *part = sift_xcalloc(nch ? nch : 1, sizeof *part);
	#pragma omp parallel for if (nch > 1)
	for (size_t c = 0; c < nch; c++) {
		size_t end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
		part[c] = sumsq(x + c * CHUNK, end - c * CHUNK);
	}
	double s = 0.0;
	for (size_t c = 0; c < nch; c++)
		s += part[c];
	free(part);
	return s;
}

void sift_cpu_scale(float *x, size_t n, float s)
{
	size_t nch = (n + CHUNK - 1) / CHUNK;
	#pragma omp parallel for if (nch > 1)
	for (size_t c = 0; c < nch; c++) {
		size_t end = (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n;
		scale_span(x + c * CHUNK, end - c * CHUNK, s);
	}
}

double grad_norm(const struct sift_backend *be, float *const *grads,
		 const size_t *lens, int nspans)
{
	double total = 0.0;
	for (int s = 0; s < nspans; s++)
		total += be->sumsq(grads[s], lens[s]);
	return sqrt(total);
}

void grad_clip(const struct sift_backend *be, float *const *grads,
	       const size_t *lens, int nspans, double norm, float max_norm)
{
	if (max_norm <= 0.0f)
		return;
	/* torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1 */
	float coef = (float)max_norm / (float)(norm + 1e-6);
	if (coef >= 1.0f)
		return;
	for (int s = 0; s < nspans; s++)
		be->scale(grads[s], lens[s], coef);
}
