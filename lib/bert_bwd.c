/* bert_bwd.c: the backward pass of a BERT encoder and its heads, from the activations of bert_forward. */
#include <math.h>
#include <stdint.h>	/* defines: SIZE_MAX */
#include <stdlib.h>
#include <string.h>

#include "bert_bwd.h"
#include "lora.h"	/* defines: lora_backward */

float *bert_grads_at(const struct bert_grads *g, const struct bert_model *m,
		     size_t off)
{
	if (!g->goff)
		return g->buf + off;
	for (int i = 0; i < m->ntensors; i++)
		if (m->tensors[i].off == off)
			return g->goff[i] == SIZE_MAX ? NULL : g->buf + g->goff[i];
	return NULL;
}

/* a view of the gradient buffer where p's tensor has its gradient */
static float *rebase(const struct bert_model *m, const float *p,
		     const struct bert_grads *g)
{
	return p ? bert_grads_at(g, m, (size_t)(p - m->dparams)) : NULL;
}

static int grads_init(struct bert_grads *g, const struct bert_model *m,
		      const size_t *goff, size_t n)
{
	const struct sift_backend *be = m->be;
	memset(g, 0, sizeof *g);
	g->n = n;
	g->buf = sift_alloc_whole(be, (n ? n : 1) * sizeof(float));
	g->g.layer = calloc((size_t)m->cfg.layers, sizeof *g->g.layer);
	if (goff) {
		g->goff = malloc((size_t)m->ntensors * sizeof *g->goff);
		if (g->goff)
			memcpy(g->goff, goff, (size_t)m->ntensors * sizeof *g->goff);
	}
	if (!g->buf || !g->g.layer || (goff && !g->goff))
		return -1;
	const struct bert_params *p = &m->dp;
	struct bert_params *q = &g->g;
	q->wte = rebase(m, p->wte, g);
	q->wpe = rebase(m, p->wpe, g);
	q->wtt = rebase(m, p->wtt, g);
	q->emb_ln_w = rebase(m, p->emb_ln_w, g);
	q->emb_ln_b = rebase(m, p->emb_ln_b, g);
	for (int l = 0; l < m->cfg.layers; l++) {
		const struct bert_layer *a = &p->layer[l];
		struct bert_layer *b = &q->layer[l];
		b->qkv_w = rebase(m, a->qkv_w, g);
		b->qkv_b = rebase(m, a->qkv_b, g);
		b->attout_w = rebase(m, a->attout_w, g);
		b->attout_b = rebase(m, a->attout_b, g);
		b->ln1_w = rebase(m, a->ln1_w, g);
		b->ln1_b = rebase(m, a->ln1_b, g);
		b->fc_w = rebase(m, a->fc_w, g);
		b->fc_b = rebase(m, a->fc_b, g);
		b->fcproj_w = rebase(m, a->fcproj_w, g);
		b->fcproj_b = rebase(m, a->fcproj_b, g);
		b->ln2_w = rebase(m, a->ln2_w, g);
		b->ln2_b = rebase(m, a->ln2_b, g);
	}
	q->pool_w = rebase(m, p->pool_w, g);
	q->pool_b = rebase(m, p->pool_b, g);
	q->cls_w = rebase(m, p->cls_w, g);
	q->cls_b = rebase(m, p->cls_b, g);
	q->mlm_w = rebase(m, p->mlm_w, g);
	q->mlm_b = rebase(m, p->mlm_b, g);
	q->mlm_ln_w = rebase(m, p->mlm_ln_w, g);
	q->mlm_ln_b = rebase(m, p->mlm_ln_b, g);
	q->mlm_bias = rebase(m, p->mlm_bias, g);
	return 0;
}

int bert_grads_init(struct bert_grads *g, const struct bert_model *m)
{
	return grads_init(g, m, NULL, m->nparams);
}

int bert_grads_init_trained(struct bert_grads *g, const struct bert_model *m,
			    const size_t *goff, size_t n)
{
	return grads_init(g, m, goff, n);
}

void bert_grads_free(struct bert_grads *g, const struct bert_model *m)
{
	if (g->buf)
		m->be->free(g->buf);
	if (g->s)
		m->be->free(g->s);
	free(g->g.layer);
	free(g->goff);
	memset(g, 0, sizeof *g);
}

void bert_grads_zero(struct bert_grads *g, const struct bert_model *m)
{
	m->be->memset0(g->buf, g->n * sizeof(float));
}

/* grows the scratch for N rows, B examples of at most T tokens, M
 * labelled rows (an MLM head) */
static int scratch(struct bert_grads *g, const struct bert_model *m, int N,
		   int B, int M, size_t natt)
{
	if ((size_t)N <= g->cap_N && (size_t)B <= g->cap_B &&
	    (size_t)M <= g->cap_M && natt <= g->cap_att)
		return 0;
	size_t cN = (size_t)N > g->cap_N ? (size_t)N : g->cap_N;
	size_t cB = (size_t)B > g->cap_B ? (size_t)B : g->cap_B;
	size_t cM = (size_t)M > g->cap_M ? (size_t)M : g->cap_M;
	size_t cA = natt > g->cap_att ? natt : g->cap_att;
	size_t C = m->cfg.hidden, I = m->cfg.intermediate;
	size_t L = m->nout > 0 ? m->nout : 1;
	/* dlogits: (M,V) for MLM (never (N,V)), else (N,L) or (B,L) */
	size_t nlog = m->head == BERT_HEAD_MLM ? (cM ? cM : 1) * L
		: (cN > cB ? cN : cB) * L;
	size_t sizes[12] = {
		cN * C, cN * C, cN * C, cN * C, cN * I, cN * I, cN * 3 * C,
		cA, nlog,
		(cN > cB ? cN : cB) * C, cB * C, cB * C,
	};
	size_t total = 0;
	for (int i = 0; i < 12; i++)
		total += sizes[i];
	float *s = m->be->alloc(total * sizeof(float));
	if (!s)
		return -1;
	if (g->s)
		m->be->free(g->s);
	g->s = s;
	float **ptr[12] = {
		&g->dx, &g->dres, &g->dln, &g->dtmp, &g->dI, &g->dI2, &g->dqkv,
		&g->datt, &g->dlogits, &g->dhead, &g->dB1, &g->dB2,
	};
	for (int i = 0; i < 12; i++) {
		*ptr[i] = s;
		s += sizes[i];
	}
	g->cap_N = cN;
	g->cap_B = cB;
	g->cap_M = cM;
	g->cap_att = cA;
	return 0;
}

void bert_pack_targets(const struct bert_model *m, const struct bert_batch *bb,
		       const int32_t *labels, int32_t *out)
{
	if (m->head == BERT_HEAD_SEQ) {
		memcpy(out, labels, (size_t)bb->B * sizeof *out);
		return;
	}
	if (m->head == BERT_HEAD_MLM) {
		/* the labels of the rows bert_pack_mlm chose, in their order
		 * (ascending, so the example b only moves forward) */
		for (int i = 0, b = 0; i < bb->M; i++) {
			int r = bb->mlm_rows[i];
			while (bb->offs[b + 1] <= r)
				b++;
			out[i] = labels[(size_t)b * bb->T + (r - bb->offs[b])];
		}
		return;
	}
	for (int b = 0; b < bb->B; b++) {
		int r0 = bb->offs[b], len = bb->offs[b + 1] - bb->offs[b];
		for (int t = 0; t < len; t++)
			out[r0 + t] = labels[(size_t)b * bb->T + t];
	}
}

double bert_loss(const struct bert_model *m, const struct bert_acts *a,
		 const int32_t *targets, int *count, double *denom)
{
	int M = m->head == BERT_HEAD_SEQ ? a->B :
		m->head == BERT_HEAD_MLM ? a->M : a->N;
	int L = m->nout;
	const float *w = m->ce_weight;
	double eps = m->ce_smoothing;
	double loss = 0.0, wsum = 0.0;
	int cnt = 0;
	for (int i = 0; i < M; i++) {
		int y = targets[i];
		if (y == -100)
			continue;
		if (y < 0 || y >= L)
			return NAN;
		const float *x = a->logits + (size_t)i * L;
		double mx = x[0], s = 0.0;
		for (int j = 1; j < L; j++)
			if (x[j] > mx)
				mx = x[j];
		for (int j = 0; j < L; j++)
			s += exp(x[j] - mx);
		double lse = mx + log(s), wy = w ? w[y] : 1.0;
		/* (1-eps) w[y] nll + eps/L sum_c w[c] (-log p_c) */
		double l = (1.0 - eps) * wy * (lse - x[y]);
		if (eps > 0.0) {
			double sm = 0.0;
			for (int j = 0; j < L; j++)
				sm += (w ? w[j] : 1.0) * (lse - x[j]);
			l += eps / L * sm;
		}
		loss += l;
		wsum += wy;
		cnt++;
	}
	if (count)
		*count = cnt;
	if (denom)
		*denom = wsum;
	return wsum > 0.0 ? loss / wsum : 0.0;
}

/* dropout probabilities as bert_forward applies them */
static float head_p(const struct bert_model *m)
{
	return m->cfg.classifier_dropout >= 0.0f ? m->cfg.classifier_dropout
						 : m->cfg.hidden_dropout;
}

int bert_backward(const struct bert_model *m, const struct bert_acts *a,
		  const int32_t *targets, double denom,
		  float scale, struct bert_grads *g,
		  const struct bert_train_opts *o, int train, uint64_t seed)
{
	const struct sift_backend *be = m->be;
	const struct bert_config *c = &m->cfg;
	int N = a->N, B = a->B, C = c->hidden, I = c->intermediate;
	int NH = c->heads, L = m->nout, NL = c->layers;
	if (scratch(g, m, N, B, a->M, a->natt) < 0)
		return -1;
	float ph = train ? c->hidden_dropout : 0.0f;
	float pa = train ? c->attn_dropout : 0.0f;
	float pc = train ? head_p(m) : 0.0f;
	const int32_t *ids = a->in, *type_ids = a->in + N, *pos = a->in + 2 * N;
	const int32_t *offs = a->in + 3 * N, *cls_rows = offs + B + 1;
	const int32_t *mlm_rows = cls_rows + B;
	const struct bert_params *p = &m->dp;
	struct bert_params *d = &g->g;
	int fl = o ? o->freeze_layers : 0;
	int fb = o && o->freeze_base;
	int fe = (o && o->freeze_embeddings) || fl > 0 || fb;	/* below a frozen layer */
	/* a frozen layer's weights get no gradient: its matmuls skip the
	 * dweight products, its LayerNorms the parameter sums */
	struct bert_layer none;
	memset(&none, 0, sizeof none);
	float *pool_w = fb ? NULL : d->pool_w, *pool_b = fb ? NULL : d->pool_b;
	struct lora *lo = m->lora;
	int lowest = fl > NL ? NL : fl;	/* the lowest layer that learns */
	/* scale / count as a float division, bit for bit, without weights */
	float sc = denom > 0.0 ? scale / (float)denom : 0.0f;
	const float *cw = m->ce_dweight;
	float eps = m->ce_smoothing;

	/* the head: dlogits -> dx (N,C), the gradient of the encoder output */
	if (m->head == BERT_HEAD_SEQ) {
		if (g->dlogits_in)
			be->upload(g->dlogits, g->dlogits_in, (size_t)B * L * sizeof(float));
		else
			be->crossentropy_backward(g->dlogits, a->probs, targets, B, L, cw, eps, sc);
		be->matmul_backward(g->dhead, d->cls_w, d->cls_b, g->dlogits,
				    a->head_in, p->cls_w, B, C, L);
		be->dropout_forward(g->dhead, g->dhead, (size_t)B * C, pc,
				    bert_dropout_seed(seed, 4 * NL + 1), 0);
		be->tanh_backward(g->dB1, a->pooled, g->dhead, (size_t)B * C);
		if (a->trim) {
			/* the trimmed last layer's rows 0 .. B-1 are the
			 * examples' [CLS] rows (training is one serial pass) */
			be->matmul_backward(g->dx, pool_w, pool_b, g->dB1,
					    a->cls, p->pool_w, B, C, C);
		} else {
			be->matmul_backward(g->dB2, pool_w, pool_b, g->dB1,
					    a->cls, p->pool_w, B, C, C);
			be->memset0(g->dx, (size_t)N * C * sizeof(float));
			be->scatter_rows_backward(g->dx, g->dB2, cls_rows, B, C);
		}
	} else if (m->head == BERT_HEAD_TOKEN) {
		be->crossentropy_backward(g->dlogits, a->probs, targets, N, L, cw, eps, sc);
		be->matmul_backward(g->dhead, d->cls_w, d->cls_b, g->dlogits,
				    a->head_in, p->cls_w, N, C, L);
		be->dropout_forward(g->dx, g->dhead, (size_t)N * C, pc,
				    bert_dropout_seed(seed, 4 * NL + 1), 0);
	} else if (m->head == BERT_HEAD_MLM) {
		int M = a->M;
		if (M == 0)
			return 0;	/* nothing labelled: no gradient */
		be->crossentropy_backward(g->dlogits, a->probs, targets, M, L, cw, eps, sc);
		/* the tied decoder: its weight gradient adds into wte's,
		 * where the embeddings' adds later (both accumulate); none
		 * when the embeddings are frozen, as in transformers, where
		 * the one tensor is frozen for both uses */
		be->matmul_backward(g->dhead, fe ? NULL : d->wte, d->mlm_bias,
				    g->dlogits, a->mlm_h, p->wte, M, C, L);
		be->layernorm_backward(g->dtmp, d->mlm_ln_w, d->mlm_ln_b,
				       g->dhead, a->mlm_act, p->mlm_ln_w,
				       a->mlm_mean, a->mlm_rstd, M, C);
		be->gelu_backward(g->dtmp, a->mlm_pre, g->dtmp, (size_t)M * C);
		be->matmul_backward(g->dln, d->mlm_w, d->mlm_b, g->dtmp,
				    a->mlm_in, p->mlm_w, M, C, C);
		be->memset0(g->dx, (size_t)N * C * sizeof(float));
		be->scatter_rows_backward(g->dx, g->dln, mlm_rows, M, C);
	} else {
		return -1;
	}
	if (fl >= NL && fe)
		return 0;

	/* layers, last to first; g->dx is the gradient of the layer output,
	 * or with pend set, g->dx + g->dres: the residual branch's share is
	 * added where the next LayerNorm gradient reads it */
	int pend = 0;
	for (int l = NL - 1; l >= lowest; l--) {
		const struct bert_layer *w = &p->layer[l];
		struct bert_layer *dw = fb ? &none : &d->layer[l];
		const float *x = l == 0 ? a->emb_out : a->ln2[l - 1];
		/* a trimmed last layer (bert_acts): rows 0 .. B-1 from its
		 * end back to its attention output */
		int trim = a->trim && l == NL - 1;
		int R = trim ? B : N;
		size_t NC = (size_t)R * C;
		/* ln2 = LayerNorm(res2): dres = d res2 */
		if (pend)
			be->residual_layernorm_backward(g->dres, dw->ln2_w, dw->ln2_b,
							g->dx, g->dres, a->res2[l],
							w->ln2_w, a->ln2_mean[l],
							a->ln2_rstd[l], R, C);
		else
			be->layernorm_backward(g->dres, dw->ln2_w, dw->ln2_b, g->dx,
					       a->res2[l], w->ln2_w, a->ln2_mean[l],
					       a->ln2_rstd[l], R, C);
		/* res2 = dropout(fcproj) + ln1 */
		be->dropout_forward(g->dtmp, g->dres, NC, ph,
				    bert_dropout_seed(seed, 4 * l + 2), 0);
		be->matmul_backward(g->dI, dw->fcproj_w, dw->fcproj_b, g->dtmp,
				    a->fch_gelu[l], w->fcproj_w, R, I, C);
		if (lo)
			lora_backward(m, g, l, LORA_OUTPUT, g->dtmp,
				      a->fch_gelu[l], g->dI, R, train, seed);
		be->gelu_backward(g->dI, a->fch[l], g->dI, (size_t)R * I);
		be->matmul_backward(g->dln, dw->fc_w, dw->fc_b, g->dI, a->ln1[l],
				    w->fc_w, R, C, I);
		if (lo)
			lora_backward(m, g, l, LORA_INTER, g->dI, a->ln1[l],
				      g->dln, R, train, seed);
		/* ln1 = LayerNorm(res1), its gradient from both branches:
		 * the FC block's (dln) and the residual's (dres) */
		be->residual_layernorm_backward(g->dres, dw->ln1_w, dw->ln1_b,
						g->dln, g->dres, a->res1[l],
						w->ln1_w, a->ln1_mean[l],
						a->ln1_rstd[l], R, C);
		/* res1 = dropout(attproj) + x */
		be->dropout_forward(g->dtmp, g->dres, NC, ph,
				    bert_dropout_seed(seed, 4 * l + 1), 0);
		const float *ay = trim ? a->catty : a->atty[l];
		be->matmul_backward(g->dln, dw->attout_w, dw->attout_b, g->dtmp,
				    ay, w->attout_w, R, C, C);
		if (lo)
			lora_backward(m, g, l, LORA_ATTN_OUT, g->dtmp, ay,
				      g->dln, R, train, seed);
		const float *datty = g->dln;
		if (trim) {
			/* back to all N rows: the attention output's
			 * gradient, and the residual's, 0 off the [CLS] rows */
			be->memset0(g->dtmp, (size_t)N * C * sizeof(float));
			be->scatter_rows_backward(g->dtmp, g->dln, cls_rows, B, C);
			be->memset0(g->dln, (size_t)N * C * sizeof(float));
			be->scatter_rows_backward(g->dln, g->dres, cls_rows, B, C);
			datty = g->dtmp;
		}
		be->attention_backward(g->dqkv, g->datt, datty, a->qkv[l],
				       a->att[l], offs, B, a->T, C, NH, pa,
				       bert_dropout_seed(seed, 4 * l + 0));
		int need_dx = l > lowest || !fe;
		be->matmul_backward(need_dx ? g->dx : NULL, dw->qkv_w, dw->qkv_b,
				    g->dqkv, x, w->qkv_w, N, C, 3 * C);
		if (lo)
			for (int t = LORA_QUERY; t <= LORA_VALUE; t++)
				lora_backward(m, g, l, t, g->dqkv, x,
					      need_dx ? g->dx : NULL, N, train,
					      seed);
		pend = need_dx;
		if (trim && need_dx) {
			/* the residual's share is in g->dln, not g->dres */
			be->residual_forward(g->dx, g->dx, g->dln, (size_t)N * C);
			pend = 0;
		}
	}
	if (fe)
		return 0;
	if (pend)
		be->residual_forward(g->dx, g->dx, g->dres, (size_t)N * C);
	/* embeddings: emb_out = dropout(LayerNorm(emb)) */
	be->dropout_forward(g->dtmp, g->dx, (size_t)N * C, ph,
			    bert_dropout_seed(seed, 4 * NL), 0);
	be->layernorm_backward(g->dres, d->emb_ln_w, d->emb_ln_b, g->dtmp,
			       a->emb, p->emb_ln_w, a->emb_mean, a->emb_rstd,
			       N, C);
	be->embed_backward(d->wte, d->wpe, d->wtt, g->dres, ids, type_ids, pos,
			   N, C);
	return 0;
}
