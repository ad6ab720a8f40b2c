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
	o->lo = 0;
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
		  float lr, int decay, float gscale)
{
	be->adamw_update(param, grad, o->m + (off - o->lo), o->v + (off - o->lo),
			 n, lr, o->beta1,
			 o->beta2, o->eps, decay ? o->weight_decay : 0.0f,
			 (int)o->t, gscale);
}

double grad_norm(const struct sift_backend *be, float *const *grads,
		 const size_t *lens, int nspans)
{
	double total = 0.0;
	for (int s = 0; s < nspans; s++)
		total += be->sumsq(grads[s], lens[s]);
	return sqrt(total);
}

float grad_clip_coef(double norm, float max_norm)
{
	if (max_norm <= 0.0f)
		return 1.0f;
	/* torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1 */
	float coef = (float)max_norm / (float)(norm + 1e-6);
	return coef < 1.0f ? coef : 1.0f;
}
