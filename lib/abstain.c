/* abstain.c: the scores of an abstain label, CLINC150's, and the threshold that maximises one. */
#include <math.h>		/* defines: isfinite */
#include <stdlib.h>
#include <string.h>

#include "abstain.h"
#include "evalpred.h"	/* defines: eval_pred_add, the checks of sift-eval */

int sift_objective_parse(const char *s, enum sift_objective *o)
{
	if (!strcmp(s, "balanced"))
		*o = SIFT_OBJ_BALANCED;
	else if (!strcmp(s, "abstain-f1"))
		*o = SIFT_OBJ_ABSTAIN_F1;
	else
		return -1;
	return 0;
}

static double ratio(long a, long b)
{
	return b ? (double)a / (double)b : 0.0;
}

void sift_abstain_scores(const struct sift_cls_metrics *m, const char *label,
			 struct sift_abstain *a)
{
	int k = sift_cls_label((struct sift_cls_metrics *)m, label, 0);
	long correct = 0;
	a->label = label;
	a->in_scope = 0;
	a->predicted = 0;
	memset(&a->oos, 0, sizeof a->oos);
	for (int g = 0; g < m->n; g++) {
		if (g == k)
			continue;
		for (int p = 0; p < m->n; p++)
			a->in_scope += sift_cls_count(m, g, p);
		correct += sift_cls_count(m, g, g);
	}
	a->in_scope_accuracy = ratio(correct, a->in_scope);
	if (k >= 0) {
		a->oos = sift_cls_class(m, k);
		for (int g = 0; g < m->n; g++)
			a->predicted += sift_cls_count(m, g, k);
	}
}

/* one example for the search */
struct ex {
	float top;		/* the top probability */
	int arg;		/* its label id (the header's) */
	char *gold;
	unsigned char oos, arg_ok, arg_abs;	/* gold is the label; argmax is
						 * gold; argmax is the label */
};

static int by_top(const void *x, const void *y)
{
	const struct ex *a = *(struct ex *const *)x, *b = *(struct ex *const *)y;
	return (a->top > b->top) - (a->top < b->top);
}

/* the counts of the predictions at a threshold */
struct counts {
	long ins_ok, n_ins;	/* in-scope examples right, all */
	long tp, fp, fn;	/* the label as the positive class */
};

static double objective(enum sift_objective obj, const struct counts *c)
{
	if (obj == SIFT_OBJ_ABSTAIN_F1)
		return ratio(2 * c->tp, 2 * c->tp + c->fp + c->fn);
	return (ratio(c->ins_ok, c->n_ins) + ratio(c->tp, c->tp + c->fn)) / 2;
}

/* the sweep over exs sorted by top: at the first example of each run of
 * equal tops, the examples before it abstain */
static void search(struct ex **s, size_t n, enum sift_objective obj,
		   float *thr, double *best)
{
	struct counts c = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct ex *e = s[i];
		if (!e->oos) {
			c.n_ins++;
			c.ins_ok += e->arg_ok;
			c.fp += e->arg_abs;
		} else {
			c.tp += e->arg_abs;
			c.fn += !e->arg_abs;
		}
	}
	*best = -1;
	for (size_t i = 0; i < n; ) {
		double v = objective(obj, &c);
		if (v > *best) {
			*best = v;
			*thr = s[i]->top;
		}
		size_t j = i;
		for (; j < n && s[j]->top == s[i]->top; j++) {
			const struct ex *e = s[j];
			if (!e->oos) {
				c.ins_ok -= e->arg_ok;
				c.fp += !e->arg_abs;
			} else if (!e->arg_abs) {
				c.tp++;
				c.fn--;
			}
		}
		i = j;
	}
}

int sift_abstain_search(struct sift_reader *r, const struct sift_header *h,
			struct sift_cls_metrics *cm, const char *label,
			enum sift_objective obj, struct sift_abstain *a,
			struct sift_calib *cal)
{
	struct sift_cls_metrics scratch;
	struct eval_pred e;
	struct ex *ex = NULL;
	size_t n = 0, cap = 0;
	const msgpack_object *rec;
	int ret, status = 0;
	sift_cls_init(&scratch, h->labels, h->nlabels);
	eval_pred_init(&e, NULL, &scratch);
	e.cal = cal;	/* every record has probs here, or is an error */
	e.nprobs = h->nlabels;
	while (status == 0 && (ret = sift_read(r, &rec)) > 0) {
		if ((status = eval_pred_add(&e, r, rec)) < 0)
			break;
		float *probs;
		size_t np;
		const char *g;
		uint32_t gl;
		if (sift_need_f32s(r, rec, "probs", &probs, &np) < 0) {
			status = -1;
			break;
		}
		if ((int)np != h->nlabels || np == 0) {
			sift_rerror(r, "probs has %zu entries for the header's %d labels",
				    np, h->nlabels);
			free(probs);
			status = -1;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			ex = sift_xrealloc(ex, cap * sizeof *ex);
		}
		struct ex *x = &ex[n++];
		x->arg = 0;
		for (size_t l = 1; l < np; l++)
			if (probs[l] > probs[x->arg])
				x->arg = (int)l;
		x->top = probs[x->arg];
		size_t bad = 0;
		while (bad < np && isfinite(probs[bad]))
			bad++;
		free(probs);
		if (bad < np) {
			sift_rerror(r, "probs[%zu] is not a finite number", bad);
			n--;
			status = -1;
			break;
		}
		sift_opt_str(r, rec, "gold", &g, &gl);	/* checked above */
		x->gold = strndup(g, gl);
		if (!x->gold)
			sift_oom(0);
		const char *al = h->labels[x->arg];
		x->oos = !strcmp(x->gold, label);
		x->arg_ok = !strcmp(x->gold, al);
		x->arg_abs = !strcmp(al, label);
	}
	if (status == 0 && ret < 0)
		status = -1;
	if (status == 0)
		status = eval_pred_end(&e, r);
	else
		eval_pred_free(&e);
	sift_cls_free(&scratch);
	if (status == 0 && n == 0) {
		sift_rerror(r, "no predictions to choose a threshold from");
		status = -1;
	}
	if (status == 0) {
		struct ex **s = sift_xmalloc(n * sizeof *s);
		for (size_t i = 0; i < n; i++)
			s[i] = &ex[i];
		/* qsort is not stable, but equal tops are one candidate */
		qsort(s, n, sizeof *s, by_top);
		search(s, n, obj, &a->threshold, &a->score);
		free(s);
		for (size_t i = 0; i < n; i++)
			sift_cls_add_str(cm, ex[i].gold, ex[i].top < a->threshold ?
					 label : h->labels[ex[i].arg]);
		sift_abstain_scores(cm, label, a);
		a->found = 1;
		a->objective = obj == SIFT_OBJ_ABSTAIN_F1 ? "abstain-f1" : "balanced";
	}
	for (size_t i = 0; i < n; i++)
		free(ex[i].gold);
	free(ex);
	return status;
}
