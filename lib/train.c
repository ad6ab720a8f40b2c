/* train.c: one fine-tuning run: micro-batches, optimizer steps, schedule, freezing, dev scoring. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clsmetrics.h"	/* defines: sift_cls_* (accuracy, macro-F1) */
#include "conlleval.h"	/* defines: sift_ner_* (entity F1) */
#include "rng.h"	/* defines: sift_hash64 */
#include "stream.h"	/* defines: SIFT_IGNORE */
#include "train.h"

void train_opts_default(struct train_opts *o)
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
}

int64_t train_total_steps(int64_t total, int64_t epochs, int accum)
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

static int is_frozen(const char *name, const struct bert_train_opts *f,
		     enum bert_head head)
{
	/* transformers' token head has no pooler: one loaded with the
	 * encoder stays as it was (and is not saved) */
	if (head == BERT_HEAD_TOKEN && !strncmp(name, "pooler.", 7))
		return 1;
	if (!strncmp(name, "embeddings.", 11))
		return f->freeze_embeddings || f->freeze_layers > 0;
	int l;
	if (sscanf(name, "encoder.layer.%d.", &l) == 1)
		return l < f->freeze_layers;
	return 0;
}

int trainer_init(struct trainer *t, struct bert_model *m,
		 const struct train_opts *o, int64_t total_steps, char *err,
		 size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->m = m;
	t->o = *o;
	if (o->accum < 1)
		t->o.accum = 1;
	t->sched.kind = o->sched;
	t->sched.lr = o->lr;
	t->sched.total = total_steps > 0 ? total_steps : 1;
	t->sched.warmup = o->warmup >= 0 ? o->warmup
		: sched_warmup_from_ratio(o->warmup_ratio, t->sched.total);
	if (bert_grads_init(&t->g, m) < 0) {
		snprintf(err, errlen, "out of memory for %zu gradients", m->nparams);
		return -1;
	}
	bert_grads_zero(&t->g, m);
	bert_acts_init(&t->a);
	if (adamw_init(&t->opt, m->be, m->nparams, o->weight_decay) < 0) {
		snprintf(err, errlen, "out of memory for the optimizer state on %s",
			 m->be->name);
		return -1;
	}
	t->decay = calloc((size_t)m->ntensors, 1);
	t->frozen = calloc((size_t)m->ntensors, 1);
	if (!t->decay || !t->frozen) {
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
		t->frozen[i] = (unsigned char)is_frozen(bt->name, &o->freeze, m->head);
		if (t->frozen[i])
			continue;
		int k = t->nspan;
		if (k > 0 && t->span[k - 1] + t->span_len[k - 1] == t->g.buf + bt->off) {
			t->span_len[k - 1] += bert_tensor_numel(bt);
			continue;
		}
		t->span[k] = t->g.buf + bt->off;
		t->span_len[k] = bert_tensor_numel(bt);
		t->nspan++;
	}
	return 0;
}

void trainer_free(struct trainer *t)
{
	if (!t->m)
		return;
	bert_grads_free(&t->g, t->m);
	bert_acts_free(&t->a);
	bert_batch_free(&t->bb);
	adamw_free(&t->opt);
	free(t->targets);
	if (t->dtargets)
		t->m->be->free(t->dtargets);
	free(t->hlogits);
	free(t->decay);
	free(t->span);
	free(t->span_len);
	free(t->frozen);
	memset(t, 0, sizeof *t);
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
	if (m->be == &sift_backend_cpu)
		return a;
	size_t n = (size_t)M * (size_t)m->nlabels;
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
	if (m->be == &sift_backend_cpu)
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
	bert_pack_targets(t->m, &t->bb, labels, t->targets);
	return 0;
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
	int M = t->m->head == BERT_HEAD_SEQ ? B : t->bb.N;
	for (int i = 0; i < M; i++)
		if (t->targets[i] != SIFT_IGNORE &&
		    (t->targets[i] < 0 || t->targets[i] >= t->m->nlabels)) {
			snprintf(err, errlen, "label id %d outside 0..%d",
				 t->targets[i], t->m->nlabels - 1);
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
	double l = bert_loss(t->m, hp, t->targets, &count);
	*loss = l;
	if (!isfinite(l))
		return 1;
	if (bert_backward(t->m, &t->bb, &t->a, dt, count,
			  1.0f / (float)t->o.accum, &t->g, &t->o.freeze, 1,
			  seed) < 0) {
		snprintf(err, errlen, "out of memory for the backward pass");
		return -1;
	}
	t->pos++;
	t->micro++;
	t->group_loss += l;
	t->group_tokens += t->bb.N;
	return 0;
}

int trainer_group_full(const struct trainer *t)
{
	return t->micro >= t->o.accum;
}

int trainer_step(struct trainer *t)
{
	struct bert_model *m = t->m;
	int n = m->ntensors;
	double norm = grad_norm(m->be, t->span, t->span_len, t->nspan);
	t->last_norm = norm;
	t->last_loss = t->micro ? t->group_loss / t->micro : 0.0;
	t->last_tokens = t->group_tokens;
	if (!isfinite(norm))
		return 1;
	grad_clip(m->be, t->span, t->span_len, t->nspan, norm, t->o.max_grad_norm);
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
		adamw_update(&t->opt, m->be, m->dparams + off, t->g.buf + off,
			     end - off, off, (float)lr, t->decay[i]);
		i = j;
	}
	bert_grads_zero(&t->g, m);
	t->step++;
	t->micro = 0;
	t->group_loss = 0.0;
	t->group_tokens = 0;
	return 0;
}

/* ---- dev scoring ---- */

struct dev_eval {
	int ner;
	int none;		/* the label of a word without tokens ("O") */
	struct sift_ner_counts nc;
	struct sift_ner_merge mg;	/* the windows of a long sentence */
	struct sift_cls_metrics cm;
	double loss;
	long count;
	int32_t *targets, *pred, *g1, *p1;
	size_t cap;
	const char **gw, **pw;	/* per word of a window: gold, predicted tag */
	char **own;		/* gold tags copied out of the stream */
	size_t capw;
	float *hlogits;		/* host copy of the logits off the CPU */
	size_t cap_hlogits;
};

struct dev_eval *dev_new(const struct bert_model *m)
{
	struct dev_eval *d = sift_xcalloc(1, sizeof *d);
	d->ner = m->head == BERT_HEAD_TOKEN;
	for (int i = 0; i < m->nlabels; i++)
		if (!strcmp(m->labels[i], "O"))
			d->none = i;
	sift_ner_merge_init(&d->mg);
	if (d->ner)
		sift_ner_init(&d->nc, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
	else
		sift_cls_init(&d->cm, m->labels, m->nlabels);
	return d;
}

/* the i32 array ex[key] (typed or plain) into a malloc'd buffer: its
 * length, or -1 when absent or not an array of integers */
static long ex_i32s(const msgpack_object *ex, const char *key, int32_t **out)
{
	const msgpack_object *o = sift_get(ex, key);
	enum sift_dtype dt;
	size_t n;
	const char *data;
	*out = NULL;
	if (!o)
		return -1;
	if (sift_typed(o, &dt, &n, &data) == 0) {
		if (dt != SIFT_I32)
			return -1;
		*out = malloc(n ? n * 4 : 1);
		if (!*out)
			return -1;
		for (size_t i = 0; i < n; i++) {
			const unsigned char *b = (const unsigned char *)data + 4 * i;
			(*out)[i] = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
					      (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		}
		return (long)n;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return -1;
	n = o->via.array.size;
	*out = malloc(n ? n * 4 : 1);
	if (!*out)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *e = &o->via.array.ptr[i];
		if (e->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			(*out)[i] = (int32_t)e->via.u64;
		else if (e->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			(*out)[i] = (int32_t)e->via.i64;
		else {
			free(*out);
			*out = NULL;
			return -1;
		}
	}
	return (long)n;
}

static int64_t ex_int(const msgpack_object *ex, const char *key, int64_t dflt)
{
	const msgpack_object *o = sift_get(ex, key);
	if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (int64_t)o->via.u64;
	if (o && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	return dflt;
}

/*
 * Scores the words of example b (packed rows offs[b]..) as sift-fwd |
 * sift-eval does: each word takes the prediction of its first sub-token
 * (the "O" label when it has none), its gold tag from the example's gold
 * strings or else from the label of that sub-token; the windows of a
 * long sentence are merged before the sentence is scored.
 */
static int dev_words(struct dev_eval *d, const struct bert_model *m,
		     const struct bert_batch *bb, const msgpack_object *ex,
		     int b, char *err, size_t errlen)
{
	const msgpack_object *words = sift_get(ex, "words");
	const msgpack_object *gold = sift_get(ex, "gold");
	int32_t *widx = NULL, *keep = NULL;
	int rc = -1;
	if (!words || words->type != MSGPACK_OBJECT_ARRAY) {
		snprintf(err, errlen, "example %d: no words", b);
		return -1;
	}
	size_t nw = words->via.array.size;
	int len = bb->offs[b + 1] - bb->offs[b];
	long ni = ex_i32s(ex, "word_idx", &widx);
	if (ni != len) {
		snprintf(err, errlen, "example %d: word_idx has %ld entries for %d tokens",
			 b, ni, len);
		goto out;
	}
	if (gold && (gold->type != MSGPACK_OBJECT_ARRAY || gold->via.array.size != nw)) {
		snprintf(err, errlen, "example %d: gold does not have one tag per word", b);
		goto out;
	}
	if (nw > d->capw) {
		const char **gw = realloc(d->gw, nw * sizeof *gw);
		if (gw)
			d->gw = gw;
		const char **pw = gw ? realloc(d->pw, nw * sizeof *pw) : NULL;
		if (pw)
			d->pw = pw;
		char **own = pw ? realloc(d->own, nw * sizeof *own) : NULL;
		if (!own) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		d->own = own;
		d->capw = nw;
	}
	const char *O = m->labels[d->none];
	for (size_t k = 0; k < nw; k++) {
		d->gw[k] = O;
		d->pw[k] = NULL;
		d->own[k] = NULL;
	}
	for (size_t k = 0; gold && k < nw; k++) {
		const msgpack_object *g = &gold->via.array.ptr[k];
		if (g->type != MSGPACK_OBJECT_STR)
			continue;
		d->own[k] = malloc(g->via.str.size + 1);
		if (!d->own[k]) {
			snprintf(err, errlen, "out of memory");
			goto out_own;
		}
		memcpy(d->own[k], g->via.str.ptr, g->via.str.size);
		d->own[k][g->via.str.size] = 0;
		d->gw[k] = d->own[k];
	}
	for (int t = 0; t < len; t++) {
		int k = widx[t], r = bb->offs[b] + t;
		if (k < 0)
			continue;
		if ((size_t)k >= nw) {
			snprintf(err, errlen, "example %d: word_idx %d beyond its %zu words",
				 b, k, nw);
			goto out_own;
		}
		if (d->pw[k])
			continue;	/* not the first sub-token */
		d->pw[k] = m->labels[d->pred[r]];
		if (!gold && d->targets[r] != SIFT_IGNORE)
			d->gw[k] = m->labels[d->targets[r]];
	}
	for (size_t k = 0; k < nw; k++)
		if (!d->pw[k])
			d->pw[k] = O;
	int64_t nwin = ex_int(ex, "nwin", 1);
	if (nwin > 1) {
		int64_t k0 = -1, k1 = -1;
		long nk = ex_i32s(ex, "keep", &keep);
		if (nk == 2) {
			k0 = keep[0];
			k1 = keep[1];
		}
		if (sift_ner_merge_add(&d->mg, &d->nc, ex_int(ex, "doc", -1), nwin,
				       ex_int(ex, "word0", 0), k0, k1,
				       (const char *const *)d->gw,
				       (const char *const *)d->pw, nw) < 0) {
			snprintf(err, errlen, "example %d: %s", b, d->nc.err);
			goto out_own;
		}
	} else if (sift_ner_add_sentence(&d->nc, (const char *const *)d->gw,
					 (const char *const *)d->pw, nw) < 0) {
		snprintf(err, errlen, "example %d: %s", b, d->nc.err);
		goto out_own;
	}
	rc = 0;
out_own:
	for (size_t k = 0; k < nw; k++)
		free(d->own[k]);
out:
	free(widx);
	free(keep);
	return rc;
}

int dev_batch(struct dev_eval *d, struct bert_model *m, struct bert_acts *a,
	      struct bert_batch *bb, const int32_t *ids,
	      const int32_t *type_ids, const uint8_t *mask,
	      const int32_t *labels, int B, int T, const msgpack_object *ex,
	      char *err, size_t errlen)
{
	if (bert_pack(bb, ids, type_ids, mask, B, T, err, errlen) < 0 ||
	    bert_check_batch(m, bb, err, errlen) < 0)
		return -1;
	size_t need = (size_t)(bb->N > B ? bb->N : B);
	if (need > d->cap) {
		free(d->targets); free(d->pred); free(d->g1); free(d->p1);
		d->targets = malloc(need * 4);
		d->pred = malloc(need * 4);
		d->g1 = malloc(need * 4);
		d->p1 = malloc(need * 4);
		d->cap = need;
		if (!d->targets || !d->pred || !d->g1 || !d->p1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	bert_pack_targets(m, bb, labels, d->targets);
	if (bert_forward(m, bb, a, 0, 0) < 0) {
		snprintf(err, errlen, "out of memory for the activations");
		return -1;
	}
	int L = m->nlabels, M = d->ner ? bb->N : B;
	for (int i = 0; i < M; i++)
		if (d->targets[i] != SIFT_IGNORE &&
		    (d->targets[i] < 0 || d->targets[i] >= L)) {
			snprintf(err, errlen, "label id %d outside 0..%d",
				 d->targets[i], L - 1);
			return -1;
		}
	int cnt = 0;
	struct bert_acts ha;
	const struct bert_acts *hp = host_logits(m, a, &ha, &d->hlogits,
						 &d->cap_hlogits, M);
	if (!hp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	double l = bert_loss(m, hp, d->targets, &cnt);
	d->loss += l * cnt;
	d->count += cnt;
	for (int i = 0; i < M; i++) {
		const float *x = hp->logits + (size_t)i * L;
		int best = 0;
		for (int j = 1; j < L; j++)
			if (x[j] > x[best])
				best = j;
		d->pred[i] = best;
	}
	if (!d->ner) {
		for (int b = 0; b < B; b++)
			if (d->targets[b] != SIFT_IGNORE)
				sift_cls_add(&d->cm, d->targets[b], d->pred[b]);
		return 0;
	}
	/* batches with the examples' words: scored per word, as sift-fwd */
	if (ex && ex->type == MSGPACK_OBJECT_ARRAY && (int)ex->via.array.size == B) {
		for (int b = 0; b < B; b++)
			if (dev_words(d, m, bb, &ex->via.array.ptr[b], b, err,
				      errlen) < 0)
				return -1;
		return 0;
	}
	/* otherwise one sentence per example: its labelled tokens */
	for (int b = 0; b < B; b++) {
		size_t n = 0;
		for (int r = bb->offs[b]; r < bb->offs[b + 1]; r++)
			if (d->targets[r] != SIFT_IGNORE) {
				d->g1[n] = d->targets[r];
				d->p1[n] = d->pred[r];
				n++;
			}
		if (n && sift_ner_add_ids(&d->nc, m->labels, L, d->g1, d->p1, n) < 0) {
			snprintf(err, errlen, "%s", d->nc.err);
			return -1;
		}
	}
	return 0;
}

int dev_finish(struct dev_eval *d, struct dev_scores *s, char *err,
	       size_t errlen)
{
	int rc = 0;
	memset(s, 0, sizeof *s);
	if (d->ner && sift_ner_merge_finish(&d->mg, &d->nc) < 0) {
		snprintf(err, errlen, "%s", d->nc.err);
		rc = -1;
	}
	sift_ner_merge_free(&d->mg);
	s->loss = d->count ? d->loss / d->count : 0.0;
	s->n = d->count;
	if (d->ner) {
		s->f1 = sift_ner_f1(&d->nc);
		s->precision = sift_ner_precision(&d->nc);
		s->recall = sift_ner_recall(&d->nc);
		s->accuracy = sift_ner_accuracy(&d->nc);
		sift_ner_free(&d->nc);
	} else {
		s->accuracy = sift_cls_accuracy(&d->cm);
		s->macro_f1 = sift_cls_macro_f1(&d->cm);
		sift_cls_free(&d->cm);
	}
	free(d->targets); free(d->pred); free(d->g1); free(d->p1);
	free(d->gw); free(d->pw); free(d->own);
	free(d->hlogits);
	free(d);
	return rc;
}
