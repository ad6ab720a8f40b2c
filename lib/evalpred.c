/* evalpred.c: scores prediction records with gold labels into NER counts or a confusion matrix, for sift-eval and dev scoring alike. */
#include <math.h>	/* defines: isfinite */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evalpred.h"
#include "problemeval.h"	/* defines: sift_pm_add */
#include "reportmetrics.h"	/* defines: sift_get_strs */

/* 1 when id was seen before, 0 when not (and now it is), -1 with a
 * diagnostic for an id the bitmap will not grow to (over 2^31 - 1) */
static int seen_test_set(const struct sift_reader *r, struct eval_seen *s,
			 const char *what, int64_t id)
{
	if (id < 0)
		return 0;
	if (id > INT32_MAX) {
		sift_rerror(r, "%s %lld: over 2147483647", what, (long long)id);
		return -1;
	}
	size_t byte = (size_t)id / 8;
	if (byte >= s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		while (cap <= byte)
			cap *= 2;
		s->bit = sift_xrealloc(s->bit, cap);
		memset(s->bit + s->cap, 0, cap - s->cap);
		s->cap = cap;
	}
	int was = s->bit[byte] >> (id % 8) & 1;
	s->bit[byte] |= 1 << (id % 8);
	return was;
}

/* a text's id the first time: 0; seen before: -1 with a diagnostic */
static int scored_once(const struct sift_reader *r, struct eval_seen *ids, int64_t id)
{
	int seen = seen_test_set(r, ids, "id", id);
	if (seen > 0)
		sift_rerror(r, "id %ld appears twice: each text is scored once", (long)id);
	return seen ? -1 : 0;
}

static int score_sentence(const struct sift_reader *r, struct sift_ner_counts *c,
			  char *const *gold, char *const *pred, size_t n)
{
	if (sift_ner_add_sentence(c, (const char *const *)gold,
				  (const char *const *)pred, n) < 0) {
		sift_rerror(r, "%s", c->err);
		return -1;
	}
	return 0;
}

/* adds one window; the sentence is scored once its last window is in */
static int add_window(const struct sift_reader *r, const msgpack_object *rec,
		      struct sift_ner_merge *d, struct eval_seen *docs,
		      struct sift_ner_counts *c, char **gold, char **pred, size_t n)
{
	int64_t doc, win, nwin, word0 = 0;
	int32_t *keep;
	size_t nk;
	if (sift_need_int(r, rec, "doc", &doc) < 0 ||
	    sift_need_int(r, rec, "win", &win) < 0 ||
	    sift_need_int(r, rec, "nwin", &nwin) < 0 ||
	    sift_opt_int(r, rec, "word0", &word0) < 0 ||
	    sift_need_i32s(r, rec, "keep", &keep, &nk) < 0)
		return -1;
	int64_t k0 = nk == 2 ? keep[0] : -1, k1 = nk == 2 ? keep[1] : -1;
	free(keep);
	int seen = d->doc < 0 ? seen_test_set(r, docs, "doc", doc) : 0;
	if (seen) {
		if (seen > 0)
			sift_rerror(r, "doc %ld appears twice", (long)doc);
		return -1;
	}
	if (sift_ner_merge_add(d, c, doc, nwin, word0, k0, k1,
			       (const char *const *)gold,
			       (const char *const *)pred, n) < 0) {
		sift_rerror(r, "%s", c->err);
		return -1;
	}
	return 0;
}

void eval_pred_init(struct eval_pred *e, struct sift_ner_counts *nc,
		    struct sift_cls_metrics *cm)
{
	memset(e, 0, sizeof *e);
	e->nc = nc;
	e->cm = cm;
	sift_ner_merge_init(&e->mg);
}

static int add_ner(struct eval_pred *e, const struct sift_reader *r,
		   const msgpack_object *rec)
{
	char **gold, **pred;
	size_t ng, np;
	int64_t id = -1, nwin = 1;
	int status;
	if (sift_opt_int(r, rec, "id", &id) < 0 ||
	    sift_opt_int(r, rec, "nwin", &nwin) < 0 ||
	    sift_get_strs(r, rec, "pred", 0, &pred, &np) < 0)
		return -1;
	if (!sift_get(rec, "gold")) {
		sift_rerror(r, "no gold tags: only predictions with gold labels can be scored");
		free(pred);
		return -1;
	}
	if (sift_get_strs(r, rec, "gold", 0, &gold, &ng) < 0) {
		free(pred);
		return -1;
	}
	if (ng != np) {
		sift_rerror(r, "%zu gold tags for %zu predicted", ng, np);
		status = -1;
	} else if (nwin > 1 && sift_get(rec, "keep")) {
		status = add_window(r, rec, &e->mg, &e->docs, e->nc, gold, pred, np);
	} else if ((status = seen_test_set(r, &e->ids, "id", id)) != 0) {
		if (status > 0)
			sift_rerror(r, "id %ld appears twice: each sentence is scored "
				    "once (merge the windows of a long sentence first)",
				    (long)id);
		status = -1;
	} else {
		status = score_sentence(r, e->nc, gold, pred, np);
	}
	free(gold);
	free(pred);
	return status;
}

/* the top probability of rec's probs and whether its label is gold */
static int add_calib(struct eval_pred *e, const struct sift_reader *r,
		     const msgpack_object *rec, const char *gold)
{
	if (!sift_get(rec, "probs")) {
		e->noprobs++;
		return 0;
	}
	float *probs;
	size_t np;
	if (sift_need_f32s(r, rec, "probs", &probs, &np) < 0)
		return -1;
	if ((int)np != e->nprobs || np == 0) {
		sift_rerror(r, "probs has %zu entries for the header's %d labels",
			    np, e->nprobs);
		free(probs);
		return -1;
	}
	size_t arg = 0;
	for (size_t l = 0; l < np; l++) {
		if (!isfinite(probs[l]) || probs[l] < 0 || probs[l] > 1) {
			sift_rerror(r, "probs[%zu] is not a probability", l);
			free(probs);
			return -1;
		}
		if (probs[l] > probs[arg])
			arg = l;
	}
	sift_calib_add(e->cal, probs[arg], !strcmp(gold, e->cm->labels[arg]));
	free(probs);
	return 0;
}

static int add_cls(struct eval_pred *e, const struct sift_reader *r,
		   const msgpack_object *rec)
{
	const char *g, *p;
	uint32_t gl, pl;
	int64_t id = -1;
	if (sift_opt_int(r, rec, "id", &id) < 0 ||
	    sift_need_str(r, rec, "pred", &p, &pl) < 0)
		return -1;
	int has = sift_opt_str(r, rec, "gold", &g, &gl);
	if (has < 0)
		return -1;
	if (has == 0) {
		sift_rerror(r, "no gold label: only predictions with gold labels can be scored");
		return -1;
	}
	if (scored_once(r, &e->ids, id) < 0)
		return -1;
	char *gs = strndup(g, gl), *ps = strndup(p, pl);
	if (!gs || !ps) {
		free(gs);
		free(ps);
		sift_rerror(r, "out of memory");
		return -1;
	}
	int rc = e->cal ? add_calib(e, r, rec, gs) : 0;
	if (rc == 0)
		sift_cls_add_str(e->cm, gs, ps);
	free(gs);
	free(ps);
	return rc;
}

void eval_pred_set_problem(struct eval_pred *e, struct sift_problem_metrics *pm)
{
	e->pm = pm;
}

static int add_problem(struct eval_pred *e, const struct sift_reader *r,
		       const msgpack_object *rec)
{
	int64_t id = -1;
	if (sift_opt_int(r, rec, "id", &id) < 0)
		return -1;
	if (scored_once(r, &e->ids, id) < 0)
		return -1;
	return sift_pm_add(e->pm, r, rec);
}

int eval_pred_add(struct eval_pred *e, const struct sift_reader *r,
		  const msgpack_object *rec)
{
	if (e->pm)
		return add_problem(e, r, rec);
	return e->nc ? add_ner(e, r, rec) : add_cls(e, r, rec);
}

void eval_pred_free(struct eval_pred *e)
{
	sift_ner_merge_free(&e->mg);
	free(e->ids.bit);
	free(e->docs.bit);
	memset(&e->ids, 0, sizeof e->ids);
	memset(&e->docs, 0, sizeof e->docs);
}

int eval_pred_end(struct eval_pred *e, const struct sift_reader *r)
{
	int status = 0;
	if (e->nc && sift_ner_merge_finish(&e->mg, e->nc) < 0) {
		sift_rerror(r, "%s", e->nc->err);
		status = -1;
	}
	eval_pred_free(e);
	return status;
}


static int stream(struct sift_reader *r, struct sift_ner_counts *nc,
		  struct sift_cls_metrics *cm, struct sift_problem_metrics *pm,
		  struct sift_calib *cal, int nprobs, long *noprobs)
{
	struct eval_pred e;
	const msgpack_object *rec;
	int ret, status = 0;
	eval_pred_init(&e, nc, cm);
	e.pm = pm;
	e.cal = cal;
	e.nprobs = nprobs;
	while (status == 0 && (ret = sift_read(r, &rec)) > 0)
		status = eval_pred_add(&e, r, rec);
	if (noprobs)
		*noprobs = e.noprobs;
	if (status == 0 && ret < 0)
		status = -1;
	if (status == 0)
		return eval_pred_end(&e, r);
	eval_pred_free(&e);
	return status;
}

int eval_pred_stream_calib(struct sift_reader *r, struct sift_cls_metrics *cm,
			   struct sift_calib *cal, int nprobs, long *noprobs)
{
	return stream(r, NULL, cm, NULL, cal, nprobs, noprobs);
}

int eval_pred_stream_problem(struct sift_reader *r, struct sift_problem_metrics *pm)
{
	return stream(r, NULL, NULL, pm, NULL, 0, NULL);
}

int eval_pred_stream(struct sift_reader *r, struct sift_ner_counts *nc,
		     struct sift_cls_metrics *cm)
{
	return stream(r, nc, cm, NULL, NULL, 0, NULL);
}

/* one masks entry of record id: 0, or -1 after a diagnostic */
static int add_mask(struct eval_mlm *m, const struct sift_reader *r,
		    int64_t id, const msgpack_object *e)
{
	int64_t label, tok;
	double lp;
	if (e->type != MSGPACK_OBJECT_MAP) {
		sift_rerror(r, "id %lld: a masks entry is not a map", (long long)id);
		return -1;
	}
	int has = sift_opt_int(r, e, "label", &label);
	if (has <= 0)
		return has;	/* a [MASK] of the text: nothing to score */
	const msgpack_object *top = sift_get(e, "top");
	if (!top || top->type != MSGPACK_OBJECT_ARRAY || top->via.array.size < 1 ||
	    top->via.array.ptr[0].type != MSGPACK_OBJECT_MAP) {
		sift_rerror(r, "id %lld: a labelled masks entry without top", (long long)id);
		return -1;
	}
	if (sift_need_int(r, &top->via.array.ptr[0], "token", &tok) < 0)
		return -1;
	int got = sift_opt_num(r, e, "logprob", &lp);
	if (got <= 0) {
		if (got == 0)
			sift_rerror(r, "id %lld: a labelled masks entry without logprob",
				    (long long)id);
		return -1;
	}
	if (!(lp <= 0)) {
		sift_rerror(r, "id %lld: logprob %g is not a log-probability",
			    (long long)id, lp);
		return -1;
	}
	m->nll -= lp;
	m->masked++;
	m->correct += tok == label;
	return 0;
}

static int add_mlm(struct eval_mlm *m, const struct sift_reader *r,
		   const msgpack_object *rec)
{
	int64_t id = -1;
	if (sift_opt_int(r, rec, "id", &id) < 0)
		return -1;
	const msgpack_object *masks = sift_get(rec, "masks");
	if (!masks || masks->type != MSGPACK_OBJECT_ARRAY) {
		sift_rerror(r, "missing key 'masks' (an array): not a fill-mask record");
		return -1;
	}
	if (scored_once(r, &m->ids, id) < 0)
		return -1;
	for (uint32_t i = 0; i < masks->via.array.size; i++)
		if (add_mask(m, r, id, &masks->via.array.ptr[i]) < 0)
			return -1;
	m->examples++;
	return 0;
}

int eval_mlm_stream(struct sift_reader *r, struct eval_mlm *m)
{
	const msgpack_object *rec;
	int ret, status = 0;
	memset(m, 0, sizeof *m);
	while (status == 0 && (ret = sift_read(r, &rec)) > 0)
		status = add_mlm(m, r, rec);
	if (status == 0 && ret < 0)
		status = -1;
	if (status == 0 && m->masked == 0) {
		sift_rerror(r, "no labelled masked token: only fill-mask predictions of "
			    "masked batches (sift-batch --mlm-probability) can be scored");
		status = -1;
	}
	free(m->ids.bit);
	m->ids.bit = NULL;
	m->ids.cap = 0;
	return status;
}
