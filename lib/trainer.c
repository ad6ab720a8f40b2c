/* trainer.c: the trainer, one optimizer step at a time: micro-batches, gradient accumulation, AdamW, the schedule, freezing. */
#include <math.h>
#include <stdint.h>	/* defines: SIZE_MAX */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"	/* defines: sift_problem_loss */
#include "lora.h"	/* defines: LORA_TENSOR */
#include "dist.h"	/* defines: dist_sum_scalars, dist_sum_floats (ranks) */
#include "rng.h"	/* defines: sift_hash64 */
#include "stream.h"	/* defines: SIFT_IGNORE */
#include "trainer.h"

void trainer_opts_default(struct trainer_opts *o)
{
	memset(o, 0, sizeof *o);
	o->lr = 5e-5;
	o->weight_decay = 0.0f;
	o->warmup = -1;
	o->warmup_ratio = 0.0;
	o->sched = SCHED_LINEAR;
	o->max_grad_norm = 1.0f;
	o->accum = 1;
	o->seed = 42;
	o->nranks = 1;
}

int64_t trainer_total_steps(int64_t total, int64_t epochs, int accum)
{
	if (total < 0)
		return -1;
	if (epochs < 1)
		epochs = 1;
	if (accum < 1)
		accum = 1;
	/* epochs of per batches, the first `extra` with one more: each
	 * epoch steps ceil(nb / accum) times.  In closed form (a loop over
	 * the epochs would spin on a huge count); no step count exceeds
	 * the batch count, so the sum is at most total and cannot overflow */
	int64_t per = total / epochs, extra = total % epochs;
	int64_t a = accum;
	int64_t full = per / a + (per % a != 0);
	if (extra == 0)
		return epochs * full;
	/* extra > 0: per < total, so per + 1 does not overflow */
	int64_t more = (per + 1) / a + ((per + 1) % a != 0);
	return extra * more + (epochs - extra) * full;
}

/* no weight decay on biases and LayerNorm weights (HF Trainer's rule) */
static int decays(const char *name)
{
	size_t n = strlen(name);
	if (n >= 4 && !strcmp(name + n - 4, "bias"))
		return 0;
	return strstr(name, "LayerNorm") == NULL;
}

static int is_frozen(const struct bert_tensor *bt,
		     const struct bert_train_opts *f)
{
	const char *name = bt->name;
	if (f->freeze_base)	/* LoRA: the adapter and the classifier */
		return bt->head != LORA_TENSOR && strncmp(name, "classifier.", 11);
	if (!strncmp(name, "embeddings.", 11))
		return f->freeze_embeddings || f->freeze_layers > 0;
	int l;
	if (sscanf(name, "encoder.layer.%d.", &l) == 1)
		return l < f->freeze_layers;
	return 0;
}

/* where tensor i's gradient starts in t->g.buf: its moments' offset
 * under freeze_base (the trained tensors side by side, nothing for the
 * frozen base), else its parameters' */
static size_t gidx(const struct trainer *t, int i)
{
	return t->o.freeze.freeze_base ? t->moff[i] : t->m->tensors[i].off;
}

/* a gradient buffer for the trained tensors (t->frozen, t->moff set) */
static int grads_init(struct trainer *t, struct bert_grads *g)
{
	const struct bert_model *m = t->m;
	if (!t->o.freeze.freeze_base)
		return bert_grads_init(g, m);
	size_t *goff = malloc((size_t)m->ntensors * sizeof *goff);
	if (!goff)
		return -1;
	for (int i = 0; i < m->ntensors; i++)
		goff[i] = t->frozen[i] ? SIZE_MAX : t->moff[i];
	int rc = bert_grads_init_trained(g, m, goff, t->nopt);
	free(goff);
	return rc;
}

int trainer_init(struct trainer *t, struct bert_model *m,
		 const struct trainer_opts *o, int64_t total_steps, char *err,
		 size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->m = m;
	t->o = *o;
	if (o->accum < 1)
		t->o.accum = 1;
	if (o->nranks < 1 || o->rank < 0 || o->rank >= o->nranks)
		t->o.nranks = 1, t->o.rank = 0;
	/* from here on accum is the group: the batches of one step */
	t->o.accum *= t->o.nranks;
	t->have = calloc((size_t)t->o.nranks, sizeof *t->have);
	t->sched.kind = o->sched;
	t->sched.lr = o->lr;
	t->sched.total = total_steps > 0 ? total_steps : 1;
	t->sched.warmup = o->warmup >= 0 ? o->warmup
		: sched_warmup_from_ratio(o->warmup_ratio, t->sched.total);
	bert_acts_init(&t->a);
	t->decay = calloc((size_t)m->ntensors, 1);
	t->frozen = calloc((size_t)m->ntensors, 1);
	t->moff = calloc((size_t)m->ntensors, sizeof *t->moff);
	if (!t->decay || !t->frozen || !t->moff || !t->have) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->span = malloc((size_t)m->ntensors * sizeof *t->span);
	t->span_len = malloc((size_t)m->ntensors * sizeof *t->span_len);
	if (!t->span || !t->span_len) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *bt = &m->tensors[i];
		t->decay[i] = (unsigned char)decays(bt->name);
		t->frozen[i] = (unsigned char)is_frozen(bt, &o->freeze);
		t->moff[i] = o->freeze.freeze_base ? t->nopt : bt->off;
		if (t->frozen[i])
			continue;
		if (o->freeze.freeze_base)
			t->nopt += bert_tensor_numel(bt);
	}
	if (!o->freeze.freeze_base)
		t->nopt = m->nparams;
	if (grads_init(t, &t->g) < 0) {
		snprintf(err, errlen, "out of memory for %zu gradients", t->nopt);
		return -1;
	}
	bert_grads_zero(&t->g, m);
	/* the spans: neighbours merged where both their parameters and
	 * their gradients are (under freeze_base the head and the adapter
	 * stay two spans, as the norm summed them before the gradients
	 * were side by side) */
	size_t pend = 0;	/* where the last span's parameters end */
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *bt = &m->tensors[i];
		if (t->frozen[i])
			continue;
		float *gp = t->g.buf + gidx(t, i);
		size_t n = bert_tensor_numel(bt);
		int k = t->nspan;
		if (k > 0 && t->span[k - 1] + t->span_len[k - 1] == gp && pend == bt->off) {
			t->span_len[k - 1] += n;
			pend += n;
			continue;
		}
		t->span[k] = gp;
		t->span_len[k] = n;
		t->nspan++;
		pend = bt->off + n;
	}
	/* ZeRO-1: the moments of this rank's shard only */
	size_t lo = 0, hi = t->nopt;
	if (t->o.zero1)
		dist_shard(t->nopt, t->o.rank, &lo, &hi);
	if (adamw_init(&t->opt, m->be, hi - lo, o->weight_decay) < 0) {
		snprintf(err, errlen, "out of memory for the optimizer state on %s",
			 m->be->name);
		return -1;
	}
	t->opt.lo = lo;
	/* the word embeddings' rows (struct trainer: live) */
	t->wte = -1;
	const struct sift_backend *be = m->be;
	if (!o->dense_rows && be->adamw_update_rows && be->sumsq_rows &&
	    m->head != BERT_HEAD_MLM && t->o.nranks == 1 && !t->o.zero1)
		for (int i = 0; i < m->ntensors; i++)
			if (!t->frozen[i] && m->tensors[i].ndim == 2 &&
			    !strcmp(m->tensors[i].name, "embeddings.word_embeddings.weight"))
				t->wte = i;
	if (t->wte >= 0) {
		size_t rows = (size_t)m->tensors[t->wte].shape[0];
		t->live = malloc(rows);
		if (!t->live) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		/* the moments start at zero: no row has any yet */
		memset(t->live, SIFT_ROW_FRESH, rows);
	}
	return 0;
}

void trainer_gather(const struct trainer *t, const float *params, float *out)
{
	const struct bert_model *m = t->m;
	if (t->nopt == m->nparams) {
		if (out != params)
			memcpy(out, params, m->nparams * sizeof *out);
		return;
	}
	for (int i = 0; i < m->ntensors; i++)
		if (!t->frozen[i])
			memcpy(out + t->moff[i], params + m->tensors[i].off,
			       bert_tensor_numel(&m->tensors[i]) * sizeof *out);
}

void trainer_scatter(const struct trainer *t, const float *in, float *params)
{
	const struct bert_model *m = t->m;
	if (t->nopt == m->nparams) {
		if (in != params)
			memcpy(params, in, m->nparams * sizeof *in);
		return;
	}
	for (int i = 0; i < m->ntensors; i++)
		if (!t->frozen[i])
			memcpy(params + m->tensors[i].off, in + t->moff[i],
			       bert_tensor_numel(&m->tensors[i]) * sizeof *in);
}

void trainer_free(struct trainer *t)
{
	if (!t->m)
		return;
	bert_grads_free(&t->g, t->m);
	if (t->gm.buf)
		bert_grads_free(&t->gm, t->m);
	free(t->have);
	bert_acts_free(&t->a);
	bert_batch_free(&t->bb);
	adamw_free(&t->opt);
	free(t->targets);
	if (t->dtargets)
		t->m->be->free(t->dtargets);
	free(t->hlogits);
	free(t->hdlogits);
	free(t->decay);
	free(t->live);
	free(t->span);
	free(t->span_len);
	free(t->frozen);
	free(t->moff);
	memset(t, 0, sizeof *t);
}

void trainer_rows_moments(struct trainer *t, const float *m, const float *v)
{
	if (!t->live)
		return;
	const struct bert_tensor *w = &t->m->tensors[t->wte];
	size_t rows = (size_t)w->shape[0], C = (size_t)w->shape[1];
	const float *mr = m + t->moff[t->wte] - t->opt.lo;
	const float *vr = v + t->moff[t->wte] - t->opt.lo;
	for (size_t r = 0; r < rows; r++) {
		/* fresh where every bit is 0: +0, as zeroed moments stay */
		uint32_t any = 0, b;
		for (size_t j = 0; j < C; j++) {
			memcpy(&b, mr + r * C + j, 4);
			any |= b;
			memcpy(&b, vr + r * C + j, 4);
			any |= b;
		}
		t->live[r] = any ? SIFT_ROW_ZERO : SIFT_ROW_FRESH;
	}
}

uint64_t trainer_batch_seed(const struct trainer *t, int64_t pos)
{
	return sift_hash64(t->o.seed ^ 0x5eedd70b0a7dULL, (uint64_t)pos);
}

/* the logits of a in host memory: a itself on the CPU, else a copy of
 * a with logits downloaded into *buf (grown to M*L floats); NULL when
 * out of memory.  M is (M,L) of the head's logits */
static const struct bert_acts *host_logits(const struct bert_model *m,
					   const struct bert_acts *a,
					   struct bert_acts *tmp, float **buf,
					   size_t *cap, int M)
{
	if (m->be->host_memory)
		return a;
	size_t n = (size_t)M * (size_t)m->nout;
	if (n > *cap) {
		free(*buf);
		*buf = malloc(n * sizeof **buf);
		*cap = *buf ? n : 0;
		if (!*buf)
			return NULL;
	}
	m->be->download(*buf, a->logits, n * sizeof **buf);
	*tmp = *a;
	tmp->logits = *buf;
	return tmp;
}

/* targets (M, host) in the backend's memory: themselves on the CPU, else
 * a copy in *dbuf (grown); NULL when out of memory */
static const int32_t *device_targets(const struct bert_model *m,
				     const int32_t *targets, int32_t **dbuf,
				     size_t *cap, int M)
{
	if (m->be->host_memory)
		return targets;
	if ((size_t)M > *cap) {
		if (*dbuf)
			m->be->free(*dbuf);
		*dbuf = m->be->alloc((size_t)M * sizeof **dbuf);
		*cap = *dbuf ? (size_t)M : 0;
		if (!*dbuf)
			return NULL;
	}
	m->be->upload(*dbuf, targets, (size_t)M * sizeof **dbuf);
	return *dbuf;
}

static int pack(struct trainer *t, const int32_t *ids, const int32_t *type_ids,
		const uint8_t *mask, const int32_t *labels, int B, int T,
		char *err, size_t errlen)
{
	if (bert_pack(&t->bb, ids, type_ids, mask, B, T, err, errlen) < 0 ||
	    bert_check_batch(t->m, &t->bb, err, errlen) < 0)
		return -1;
	if (t->m->head == BERT_HEAD_MLM && bert_pack_mlm(&t->bb, labels) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t need = (size_t)(t->bb.N > B ? t->bb.N : B);
	if (need > t->cap_targets) {
		free(t->targets);
		t->targets = malloc(need * sizeof *t->targets);
		if (!t->targets) {
			t->cap_targets = 0;
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		t->cap_targets = need;
	}
	if (!t->m->problem)
		bert_pack_targets(t->m, &t->bb, labels, t->targets);
	return 0;
}

/* multi-label and regression: the loss of t->flabels and its gradient
 * into t->hdlogits (g.dlogits_in); 0, 1 for a non-finite loss, -1 */
static int problem_loss(struct trainer *t, const struct bert_acts *hp, int B,
			double *loss, char *err, size_t errlen)
{
	int L = t->m->nout;
	size_t n = (size_t)B * L;
	if (!t->flabels) {
		snprintf(err, errlen, "no f32 labels for a %s head",
			 sift_problem_name(t->m->problem));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (isnan(t->flabels[i])) {
			snprintf(err, errlen, "example %zu has no gold label", i / L);
			return -1;
		}
	if (n > t->cap_hdlogits) {
		free(t->hdlogits);
		t->hdlogits = malloc(n * sizeof *t->hdlogits);
		t->cap_hdlogits = t->hdlogits ? n : 0;
		if (!t->hdlogits) {
			snprintf(err, errlen, "out of memory for the loss");
			return -1;
		}
	}
	*loss = sift_problem_loss(t->m->problem, hp->logits, t->flabels, B, L,
				  t->hdlogits, 1.0f / (float)t->o.accum);
	t->g.dlogits_in = t->hdlogits;
	return isfinite(*loss) ? 0 : 1;
}

int trainer_micro(struct trainer *t, const int32_t *ids,
		  const int32_t *type_ids, const uint8_t *mask,
		  const int32_t *labels, int B, int T, double *loss, char *err,
		  size_t errlen)
{
	if (pack(t, ids, type_ids, mask, labels, B, T, err, errlen) < 0)
		return -1;
	uint64_t seed = trainer_batch_seed(t, t->pos);
	if (bert_forward(t->m, &t->bb, &t->a, 1, seed) < 0) {
		snprintf(err, errlen, "out of memory for the activations");
		return -1;
	}
	int count = 0;
	int M = t->m->head == BERT_HEAD_SEQ ? B :
		t->m->head == BERT_HEAD_MLM ? t->bb.M : t->bb.N;
	for (int i = 0; i < M && !t->m->problem; i++)
		if (t->targets[i] != SIFT_IGNORE &&
		    (t->targets[i] < 0 || t->targets[i] >= t->m->nout)) {
			snprintf(err, errlen, "%s id %d outside 0..%d",
				 t->m->head == BERT_HEAD_MLM ? "mlm label token" : "label",
				 t->targets[i], t->m->nout - 1);
			return -1;
		}
	struct bert_acts ha;
	const struct bert_acts *hp = host_logits(t->m, &t->a, &ha, &t->hlogits,
						 &t->cap_hlogits, M);
	const int32_t *dt = device_targets(t->m, t->targets, &t->dtargets,
					   &t->cap_dtargets, M);
	if (!hp || !dt) {
		snprintf(err, errlen, "out of memory for the loss");
		return -1;
	}
	double l = 0.0, denom = 0.0;
	if (t->m->problem) {
		int k = problem_loss(t, hp, B, &l, err, errlen);
		*loss = l;
		if (k)
			return k;
		count = B;
		denom = B;
	} else {
		l = bert_loss(t->m, hp, t->targets, &count, &denom);
		*loss = l;
		if (!isfinite(l))
			return 1;
	}
	/* the first micro-batch of the group into g, a later one into gm
	 * and then added: the same sums whether one process computes the
	 * group or each rank a part (dist_sum_floats adds in this order) */
	struct bert_grads *g = &t->g;
	if (t->lmicro > 0) {
		if (!t->gm.buf && grads_init(t, &t->gm) < 0) {
			snprintf(err, errlen, "out of memory for %zu gradients", t->nopt);
			return -1;
		}
		g = &t->gm;
		g->dlogits_in = t->g.dlogits_in;	/* a problem head's loss */
	}
	int rc = bert_backward(t->m, &t->a, dt, denom, 1.0f / (float)t->o.accum,
			       g, &t->o.freeze, 1, seed);
	t->g.dlogits_in = NULL;
	t->gm.dlogits_in = NULL;
	if (rc < 0) {
		snprintf(err, errlen, "out of memory for the backward pass");
		return -1;
	}
	if (g == &t->gm) {
		t->m->be->residual_forward(t->g.buf, t->g.buf, t->gm.buf, t->g.n);
		bert_grads_zero(&t->gm, t->m);
	}
	if (t->live)
		for (int r = 0; r < t->bb.N; r++)
			t->live[t->bb.ids[r]] = SIFT_ROW_LIVE;
	t->pos++;
	t->micro++;
	t->lmicro++;
	t->group_loss += l;
	t->group_tokens += t->bb.N;
	return 0;
}

int trainer_mine(const struct trainer *t)
{
	return t->micro % t->o.nranks == t->o.rank;
}

void trainer_skip(struct trainer *t)
{
	t->pos++;
	t->micro++;
}

int trainer_group_full(const struct trainer *t)
{
	return t->micro >= t->o.accum;
}

/* zeroes the gradient after a step: with zr, the rows live marks and
 * whatever lies outside the rows (the others are zero already) */
static void grads_zero(struct trainer *t, const struct grad_rows *zr)
{
	const struct sift_backend *be = t->m->be;
	if (!zr) {
		bert_grads_zero(&t->g, t->m);
		return;
	}
	float *buf = t->g.buf, *end = buf + t->g.n, *w = (float *)zr->at;
	size_t C = (size_t)zr->C, rows = zr->rows;
	be->memset0(buf, (size_t)(w - buf) * sizeof *buf);
	be->memset0(w + rows * C, (size_t)(end - (w + rows * C)) * sizeof *buf);
	for (size_t r = 0; r < rows;) {
		if (zr->live[r] != SIFT_ROW_LIVE) {
			r++;
			continue;
		}
		size_t r1 = r + 1;
		while (r1 < rows && zr->live[r1] == SIFT_ROW_LIVE)
			r1++;
		be->memset0(w + r * C, (r1 - r) * C * sizeof *buf);
		r = r1;
	}
}

int trainer_step(struct trainer *t)
{
	struct bert_model *m = t->m;
	int n = m->ntensors;
	int ranks = t->o.nranks > 1 || dist_collective();
	if (ranks) {
		/* the group's gradients, losses and tokens over the ranks */
		dist_sum_scalars(&t->group_loss, &t->group_tokens, t->lmicro, t->have);
		dist_sum_floats(m->be, t->g.buf, t->g.n, t->have);
	}
	/* the word embeddings' rows, unless other ranks' rows came in */
	struct grad_rows rows, *zr = NULL;
	if (t->live && !ranks) {
		const struct bert_tensor *w = &m->tensors[t->wte];
		rows.at = t->g.buf + gidx(t, t->wte);
		rows.rows = (size_t)w->shape[0];
		rows.C = w->shape[1];
		rows.live = t->live;
		zr = &rows;
	}
	double norm = grad_norm(m->be, t->span, t->span_len, t->nspan, zr);
	t->last_norm = norm;
	t->last_loss = t->micro ? t->group_loss / t->micro : 0.0;
	t->last_tokens = t->group_tokens;
	if (!isfinite(norm))
		return 1;
	/* the clip is applied by the update as it reads each gradient */
	float clip = grad_clip_coef(norm, t->o.max_grad_norm);
	double lr = sched_lr(&t->sched, t->step);
	t->last_lr = lr;
	adamw_tick(&t->opt);
	/* one update per run of neighbouring tensors with the same decay
	 * (a bias and the LayerNorm after it, say): AdamW is element-wise,
	 * so this is the same arithmetic in fewer calls (a GPU launch each) */
	for (int i = 0; i < n;) {
		if (t->frozen[i]) {
			i++;
			continue;
		}
		const struct bert_tensor *bt = &m->tensors[i];
		size_t off = bt->off, end = off;
		int j = i;
		while (j < n && !t->frozen[j] && t->decay[j] == t->decay[i] &&
		       m->tensors[j].off == end)
			end += bert_tensor_numel(&m->tensors[j++]);
		/* ZeRO-1: the part of the run in this rank's shard of the
		 * moments (their offsets are the parameters' without LoRA,
		 * which --zero1 refuses) */
		size_t mo = t->moff[i], lo = t->opt.lo, hi = lo + t->opt.n;
		size_t go = gidx(t, i);
		if (mo < lo) {
			off += lo - mo;
			go += lo - mo;
			mo = lo;
		}
		if (mo + (end - off) > hi)
			end = off + (hi > mo ? hi - mo : 0);
		if (off < end)
			adamw_update(&t->opt, m->be, m->dparams + off, t->g.buf + go,
				     end - off, mo, (float)lr, t->decay[i], clip, zr);
		i = j;
	}
	if (t->o.zero1)
		dist_allgather_floats(m->be, m->dparams, m->nparams);
	grads_zero(t, zr);
	if (t->live) {
		/* the rows this step used have moments now */
		size_t rows = (size_t)m->tensors[t->wte].shape[0];
		for (size_t r = 0; r < rows; r++)
			if (t->live[r] == SIFT_ROW_LIVE)
				t->live[r] = SIFT_ROW_ZERO;
	}
	t->step++;
	t->micro = 0;
	t->lmicro = 0;
	t->group_loss = 0.0;
	t->group_tokens = 0;
	return 0;
}
