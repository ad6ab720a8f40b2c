/* devscore.c: scores a model on a dev batches stream as sift-fwd | sift-eval would, plus the mean loss. */
#include <math.h>	/* defines: exp */
#include <stdlib.h>
#include <string.h>

#include "devscore.h"
#include "bert_bwd.h"	/* defines: bert_pack_targets, bert_loss */
#include "evalpred.h"	/* defines: eval_pred_add, the rule of sift-eval */
#include "predict.h"	/* defines: sift_pred_batch, the rule of sift-fwd */
#include "problemeval.h"	/* defines: sift_pm_*, sift-eval's scores */
#include "problempred.h"	/* defines: struct sift_problem_pred */

/*
 * The predictions are made by lib/predict.c, which sift-fwd writes
 * through; here its records go, through a writer's sink, to
 * lib/evalpred.c, which sift-eval reads them with.  So the windows of a
 * long sentence are stitched, in whatever order they come, and every
 * word scored, by the very code of sift-fwd | sift-eval.
 */
struct dev_scorer {
	const struct bert_model *m;
	int ner;
	int mlm;			/* no predictions: loss and accuracy */
	long hits;			/* mlm: argmax = label */
	struct sift_pred *pred;
	struct sift_writer w;		/* its records go to sink() */
	struct eval_pred ev;
	struct sift_ner_counts nc;
	struct sift_cls_metrics cm;
	const struct sift_reader *r;	/* the dev stream, for diagnostics */
	msgpack_unpacked up;
	double loss;
	long count;
	double denom;	/* the loss's divisor: count, or the targets' weights */
	int32_t *targets;
	size_t cap;
	float *hbuf;			/* logits and probs off the CPU */
	size_t cap_h;
	int ended;			/* eval_pred_end done */
	/* multi-label and regression: sift-fwd's records at its default
	 * threshold 0.5, scored as sift-eval scores them */
	struct sift_problem_pred pp;
	struct sift_problem_metrics pm;
	float *thr, *out;
	size_t cap_out;
};

/* one prediction record, packed by predict.c: scored as sift-eval does */
static int sink(void *ctx, const char *buf, size_t n)
{
	struct dev_scorer *d = ctx;
	size_t off = 0;
	if (msgpack_unpack_next(&d->up, buf, n, &off) != MSGPACK_UNPACK_SUCCESS) {
		sift_rerror(d->r, "internal error: a prediction record does not unpack");
		return -1;
	}
	return eval_pred_add(&d->ev, d->r, &d->up.data);
}

struct dev_scorer *dev_new(const struct bert_model *m, const struct sift_header *in)
{
	struct dev_scorer *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->m = m;
	d->ner = m->head == BERT_HEAD_TOKEN;
	d->mlm = m->head == BERT_HEAD_MLM;
	msgpack_unpacked_init(&d->up);
	if (d->mlm)
		return d;
	d->pred = sift_pred_new(d->ner, m->labels, m->nlabels, in);
	sift_writer_init_sink(&d->w, "dev predictions", sink, d);
	if (d->ner) {
		sift_ner_init(&d->nc, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
		eval_pred_init(&d->ev, &d->nc, NULL);
	} else {
		sift_cls_init(&d->cm, in->labels, in->nlabels);
		eval_pred_init(&d->ev, NULL, &d->cm);
	}
	if (m->problem) {
		d->thr = sift_xmalloc(m->nlabels * sizeof *d->thr);
		sift_problem_read_thresholds(NULL, m->labels, m->nlabels, 0.5f, d->thr);
		d->pp = (struct sift_problem_pred){ m->problem, m->labels, m->nlabels,
						    in, d->thr };
		sift_pred_set_problem(d->pred, &d->pp);
		sift_pm_init(&d->pm, m->problem, m->labels, m->nlabels);
		eval_pred_set_problem(&d->ev, &d->pm);
	}
	return d;
}

/* multi-label and regression: the loss of the batch's f32 labels (when
 * it has them) and the head's outputs into d->out; 0, or -1 */
static int problem_batch(struct dev_scorer *d, const struct bert_acts *hp,
			 const struct sift_reader *r, const struct sift_batch_rec *b)
{
	const struct bert_model *m = d->m;
	size_t n = (size_t)b->B * (size_t)m->nout;
	if (b->labels || (b->flabels && b->nflabels != n)) {
		sift_rerror(r, "labels must be f32[%zu] (%s)", n, sift_problem_name(m->problem));
		return -1;
	}
	if (n > d->cap_out) {
		d->out = sift_xrealloc(d->out, n * sizeof *d->out);
		d->cap_out = n;
	}
	sift_problem_outputs(m->problem, hp->logits, d->out, n);
	int gold = b->flabels != NULL;
	for (size_t i = 0; gold && i < n; i++)
		gold = !isnan(b->flabels[i]);
	if (gold) {
		double l = sift_problem_loss(m->problem, hp->logits, b->flabels,
					     (int)b->B, m->nout, NULL, 1.0f);
		d->loss += l * b->B;
		d->count += b->B;
	}
	return 0;
}

/* the logits and probs of a (M rows) in host memory: a itself on the
 * CPU, else copies in d->hbuf; NULL when out of memory */
static const struct bert_acts *host_acts(struct dev_scorer *d,
					 const struct bert_acts *a,
					 struct bert_acts *tmp, int M)
{
	const struct bert_model *m = d->m;
	if (m->be->host_memory)
		return a;
	size_t n = (size_t)M * (size_t)m->nout;
	if (2 * n > d->cap_h) {
		free(d->hbuf);
		d->hbuf = malloc(2 * n * sizeof *d->hbuf);
		d->cap_h = d->hbuf ? 2 * n : 0;
		if (!d->hbuf)
			return NULL;
	}
	m->be->download(d->hbuf, a->logits, n * sizeof *d->hbuf);
	m->be->download(d->hbuf + n, a->probs, n * sizeof *d->hbuf);
	*tmp = *a;
	tmp->logits = d->hbuf;
	tmp->probs = d->hbuf + n;
	return tmp;
}

int dev_batch(struct dev_scorer *d, struct bert_model *m, struct bert_acts *a,
	      struct bert_batch *bb, const struct sift_reader *r,
	      const msgpack_object *rec, const struct sift_batch_rec *b)
{
	char err[512];
	if (bert_pack(bb, b->ids, b->type_ids, b->mask, (int)b->B, (int)b->T,
		      err, sizeof err) < 0 ||
	    bert_check_batch(m, bb, err, sizeof err) < 0) {
		sift_rerror(r, "%s", err);
		return -1;
	}
	if (d->mlm && !b->labels) {
		sift_rerror(r, "missing key 'labels' (mlm dev scoring needs the masked tokens)");
		return -1;
	}
	if (d->mlm && bert_pack_mlm(bb, b->labels) < 0) {
		sift_rerror(r, "out of memory");
		return -1;
	}
	int L = m->nout, M = d->mlm ? bb->M : d->ner ? bb->N : bb->B;
	if ((size_t)M > d->cap) {
		free(d->targets);
		d->targets = malloc((size_t)M * sizeof *d->targets);
		d->cap = d->targets ? (size_t)M : 0;
		if (!d->targets) {
			sift_rerror(r, "out of memory");
			return -1;
		}
	}
	if (bert_forward(m, bb, a, 0, 0) < 0) {
		sift_rerror(r, "out of memory for a batch of %d tokens", bb->N);
		return -1;
	}
	struct bert_acts ha;
	const struct bert_acts *hp = host_acts(d, a, &ha, M);
	if (!hp) {
		sift_rerror(r, "out of memory");
		return -1;
	}
	if (m->problem) {
		d->r = r;
		if (problem_batch(d, hp, r, b) < 0)
			return -1;
		return sift_pred_batch(d->pred, r, rec, bb, d->out, &d->w);
	}
	/* the loss over the labelled targets, as training takes it */
	if (b->labels) {
		bert_pack_targets(m, bb, b->labels, d->targets);
		for (int i = 0; i < M; i++)
			if (d->targets[i] != SIFT_IGNORE &&
			    (d->targets[i] < 0 || d->targets[i] >= L)) {
				sift_rerror(r, "label id %d outside 0..%d",
					    d->targets[i], L - 1);
				return -1;
			}
		int cnt = 0;
		double den = 0.0;
		double l = bert_loss(m, hp, d->targets, &cnt, &den);
		d->loss += l * den;
		d->count += cnt;
		d->denom += den;
	}
	if (d->mlm) {
		/* masked-token accuracy: the first highest logit is the label */
		for (int i = 0; i < M; i++) {
			const float *x = hp->logits + (size_t)i * L;
			int best = 0;
			for (int j = 1; j < L; j++)
				if (x[j] > x[best])
					best = j;
			d->hits += best == d->targets[i];
		}
		return 0;
	}
	d->r = r;
	if (sift_pred_batch(d->pred, r, rec, bb, hp->probs, &d->w) < 0)
		return -1;
	return 0;
}

int dev_finish(struct dev_scorer *d, const struct sift_reader *r,
	       struct dev_scores *s)
{
	int rc = 0;
	memset(s, 0, sizeof *s);
	if (d->mlm) {
		s->loss = d->denom > 0 ? d->loss / d->denom : 0.0;
		s->perplexity = exp(s->loss);
		s->accuracy = d->count ? (double)d->hits / d->count : 0.0;
		s->n = d->count;
		return 0;
	}
	if (sift_pred_finish(d->pred, r) < 0)
		rc = -1;
	d->ended = 1;
	if (eval_pred_end(&d->ev, r) < 0)
		rc = -1;
	s->loss = d->denom > 0 ? d->loss / d->denom : 0.0;
	s->n = d->count;
	if (d->m->problem) {
		struct sift_pm_prf mac = sift_pm_macro(&d->pm);
		s->micro_f1 = sift_pm_micro(&d->pm).f1;
		s->macro_f1 = mac.f1;
		s->subset_accuracy = s->accuracy = sift_pm_subset_accuracy(&d->pm);
		if (d->m->problem == SIFT_PROBLEM_REGRESSION) {
			s->mse = sift_pm_mse(&d->pm);
			s->mae = sift_pm_mae(&d->pm);
			s->pearson = sift_pm_pearson(&d->pm);
			s->spearman = sift_pm_spearman(&d->pm);
		}
		s->n = d->pm.total;
	} else if (d->ner) {
		s->f1 = sift_ner_f1(&d->nc);
		s->precision = sift_ner_precision(&d->nc);
		s->recall = sift_ner_recall(&d->nc);
		s->accuracy = sift_ner_accuracy(&d->nc);
	} else {
		s->accuracy = sift_cls_accuracy(&d->cm);
		s->macro_f1 = sift_cls_macro_f1(&d->cm);
	}
	return rc;
}

void dev_free(struct dev_scorer *d)
{
	if (!d)
		return;
	if (d->mlm) {
		msgpack_unpacked_destroy(&d->up);
		free(d->targets);
		free(d->hbuf);
		free(d);
		return;
	}
	if (!d->ended)
		eval_pred_free(&d->ev);
	if (d->ner)
		sift_ner_free(&d->nc);
	else
		sift_cls_free(&d->cm);
	sift_pred_free(d->pred);
	if (d->m->problem)
		sift_pm_free(&d->pm);
	free(d->thr);
	free(d->out);
	sift_writer_free(&d->w);
	msgpack_unpacked_destroy(&d->up);
	free(d->targets);
	free(d->hbuf);
	free(d);
}
