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
	/* zeroed, and read whole at the first step */
	o->m = sift_alloc_whole(be, (n ? n : 1) * sizeof *o->m);
	o->v = sift_alloc_whole(be, (n ? n : 1) * sizeof *o->v);
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

/* whether zr's rows are all within x (n), for a backend that has the
 * rows form of the op (has) */
static int rows_within(const struct grad_rows *zr, const float *x, size_t n,
		       int has)
{
	return zr && has && zr->C > 0 && zr->at >= x &&
	       (size_t)(zr->at - x) + zr->rows * (size_t)zr->C <= n;
}

void adamw_update(struct adamw *o, const struct sift_backend *be,
		  float *param, const float *grad, size_t n, size_t off,
		  float lr, int decay, float gscale, const struct grad_rows *zr)
{
	float *m = o->m + (off - o->lo), *v = o->v + (off - o->lo);
	float wd = decay ? o->weight_decay : 0.0f;
	if (rows_within(zr, grad, n, be->adamw_update_rows != NULL))
		be->adamw_update_rows(param, grad, m, v, n, lr, o->beta1,
				      o->beta2, o->eps, wd, (int)o->t, gscale,
				      (size_t)(zr->at - grad), zr->rows, zr->C,
				      zr->live);
	else
		be->adamw_update(param, grad, m, v, n, lr, o->beta1, o->beta2,
				 o->eps, wd, (int)o->t, gscale);
}

double grad_norm(const struct sift_backend *be, float *const *grads,
		 const size_t *lens, int nspans, const struct grad_rows *zr)
{
	double total = 0.0;
	for (int s = 0; s < nspans; s++)
		if (rows_within(zr, grads[s], lens[s], be->sumsq_rows != NULL))
			total += be->sumsq_rows(grads[s], lens[s],
						(size_t)(zr->at - grads[s]),
						zr->rows, zr->C, zr->live);
		else
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
