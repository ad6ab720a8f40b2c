/* predict.c: prediction records from probabilities, per word (first sub-token) or per text, windows stitched back. */
#include <string.h>

#include "conlleval.h"	/* defines: sift_ner_check_word0 */
#include "predict.h"
#include "problempred.h"	/* defines: sift_problem_pred_prep, _pack */

/* a sentence being assembled from its windows */
struct doc {
	int64_t id;
	int nwin, got;
	char *src, *time, *topic;
	int W, cap;		/* words so far (the highest index + 1) */
	char **words, **gold;
	int *pred;		/* label index, -1 for a word without tokens */
	float *prob;
	unsigned char *kept;	/* 1 once a window's keep range held the word */
	int has_gold;
};

struct sift_pred {
	int ner;
	char *const *labels;
	int L;
	const struct sift_header *in;
	struct doc *q;		/* FIFO of sentences, head first */
	int qn, qcap;
	int none;		/* the label of a word without tokens */
	int topk;		/* labels in "top", 0 for no "top" */
	float threshold;	/* below it, pred is abstain */
	const char *abstain;	/* NULL: no decision rule */
	int *order;		/* L label ids, for "top" */
	const struct sift_problem_pred *pp;	/* multi-label, regression */
};

struct sift_pred *sift_pred_new(int ner, char *const *labels, int nlabels,
				const struct sift_header *in)
{
	struct sift_pred *p = sift_xcalloc(1, sizeof *p);
	p->ner = ner;
	p->labels = labels;
	p->L = nlabels;
	p->in = in;
	for (int i = 0; i < nlabels; i++)
		if (!strcmp(labels[i], "O"))
			p->none = i;
	return p;
}

void sift_pred_set_decision(struct sift_pred *p, int topk, float threshold,
			    const char *abstain)
{
	p->topk = topk < p->L ? topk : p->L;
	p->threshold = threshold;
	p->abstain = abstain;
	free(p->order);
	p->order = p->topk > 0 ? sift_xmalloc(p->L * sizeof *p->order) : NULL;
}

static void doc_free(struct doc *d)
{
	for (int i = 0; i < d->W; i++) {
		free(d->words[i]);
		free(d->gold[i]);
	}
	free(d->words);
	free(d->gold);
	free(d->pred);
	free(d->prob);
	free(d->kept);
	free(d->src);
	free(d->time);
	free(d->topic);
	memset(d, 0, sizeof *d);
}

void sift_pred_free(struct sift_pred *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->qn; i++)
		doc_free(&p->q[i]);
	free(p->q);
	free(p->order);
	free(p);
}

static char *dupobj(const msgpack_object *o)
{
	if (!o || o->type != MSGPACK_OBJECT_STR)
		return NULL;
	char *s = sift_xmalloc(o->via.str.size + 1);
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = 0;
	return s;
}

/* packs the optional string keys time and topic of ex */
static int npass(const msgpack_object *ex)
{
	return (sift_get(ex, "time") != NULL) + (sift_get(ex, "topic") != NULL);
}

static void pass(msgpack_packer *pk, const msgpack_object *ex)
{
	static const char *const keys[] = { "time", "topic" };
	for (int i = 0; i < 2; i++) {
		const msgpack_object *v = sift_get(ex, keys[i]);
		if (v) {
			sift_pack_str(pk, keys[i]);
			sift_pack_obj(pk, v);
		}
	}
}

static const char *label_name(const struct sift_pred *p, int64_t id)
{
	if (id >= 0 && id < p->in->nlabels)
		return p->in->labels[id];
	return NULL;
}

/* "top": the topk labels of pr by descending probability, ties by
 * label id (an insertion sort: stable, and L is small) */
static void pack_top(struct sift_pred *p, msgpack_packer *pk, const float *pr)
{
	int *o = p->order;
	for (int l = 0; l < p->L; l++) {
		int k = l;
		while (k > 0 && pr[o[k - 1]] < pr[l]) {
			o[k] = o[k - 1];
			k--;
		}
		o[k] = l;
	}
	sift_pack_str(pk, "top");
	msgpack_pack_array(pk, p->topk);
	for (int k = 0; k < p->topk; k++) {
		msgpack_pack_map(pk, 2);
		sift_pack_str(pk, "label");
		sift_pack_str(pk, p->labels[o[k]]);
		sift_pack_str(pk, "prob");
		msgpack_pack_float(pk, pr[o[k]]);
	}
}

void sift_pred_set_problem(struct sift_pred *p, const struct sift_problem_pred *pp)
{
	p->pp = pp;
}

/* cls and pair: one record per example, right away */
static int one_text(struct sift_pred *p, const struct sift_reader *r,
		    const msgpack_object *ex, const float *pr,
		    const int32_t *glab, struct sift_writer *w)
{
	int64_t id = 0;
	if (sift_need_int(r, ex, "id", &id) < 0)
		return -1;
	const msgpack_object *src = sift_get(ex, "src");
	const msgpack_object *text = sift_get(ex, "text");
	const msgpack_object *text_b = sift_get(ex, "text_b");
	if (p->pp) {
		/* multi-label, regression: problempred.c's keys */
		struct sift_problem_gold g;
		int nk = sift_problem_pred_prep(p->pp, r, ex, id, &g);
		if (nk < 0)
			return -1;
		msgpack_packer *pk = &w->pk;
		msgpack_pack_map(pk, 1 + (src != NULL) + (text != NULL) +
				 (text_b != NULL) + nk + npass(ex));
		sift_pack_str(pk, "id");
		msgpack_pack_int64(pk, id);
		const char *k3[] = { "src", "text", "text_b" };
		const msgpack_object *v3[] = { src, text, text_b };
		for (int i = 0; i < 3; i++)
			if (v3[i]) {
				sift_pack_str(pk, k3[i]);
				sift_pack_obj(pk, v3[i]);
			}
		sift_problem_pred_pack(p->pp, &g, pr, pk);
		pass(pk, ex);
		return sift_commit(w);
	}
	const char *gold = NULL;
	int64_t g;
	int has = glab ? (g = *glab, 1) : sift_opt_int(r, ex, "label", &g);
	if (has < 0)
		return -1;
	if (has && g != SIFT_IGNORE && !(gold = label_name(p, g))) {
		sift_rerror(r, "example %lld: gold label %lld outside the header's %d labels",
			    (long long)id, (long long)g, p->in->nlabels);
		return -1;
	}
	int best = 0;
	for (int l = 1; l < p->L; l++)
		if (pr[l] > pr[best])
			best = l;
	int abstained = p->abstain && pr[best] < p->threshold;
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 3 + (src != NULL) + (text != NULL) +
			 (text_b != NULL) + (gold != NULL) + npass(ex) +
			 (p->topk > 0) + (p->abstain != NULL));
	sift_pack_str(pk, "id");
	msgpack_pack_int64(pk, id);
	if (src) {
		sift_pack_str(pk, "src");
		sift_pack_obj(pk, src);
	}
	if (text) {
		sift_pack_str(pk, "text");
		sift_pack_obj(pk, text);
	}
	if (text_b) {
		sift_pack_str(pk, "text_b");
		sift_pack_obj(pk, text_b);
	}
	sift_pack_str(pk, "pred");
	sift_pack_str(pk, abstained ? p->abstain : p->labels[best]);
	sift_pack_str(pk, "probs");
	sift_pack_f32s(pk, pr, p->L);
	if (p->abstain) {
		sift_pack_str(pk, "abstained");
		abstained ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
	}
	if (p->topk > 0)
		pack_top(p, pk, pr);
	if (gold) {
		sift_pack_str(pk, "gold");
		sift_pack_str(pk, gold);
	}
	pass(pk, ex);
	return sift_commit(w);
}

static void doc_grow(struct doc *d, int W)
{
	if (W > d->cap) {
		int cap = W > 2 * d->cap ? W : 2 * d->cap;
		d->words = sift_xrealloc(d->words, cap * sizeof *d->words);
		d->gold = sift_xrealloc(d->gold, cap * sizeof *d->gold);
		d->pred = sift_xrealloc(d->pred, cap * sizeof *d->pred);
		d->prob = sift_xrealloc(d->prob, cap * sizeof *d->prob);
		d->kept = sift_xrealloc(d->kept, cap * sizeof *d->kept);
		d->cap = cap;
	}
	for (int i = d->W; i < W; i++) {
		d->words[i] = d->gold[i] = NULL;
		d->pred[i] = -1;
		d->prob[i] = 0.0f;
		d->kept[i] = 0;
	}
	if (W > d->W)
		d->W = W;
}

static int write_doc(struct sift_pred *p, struct doc *d, struct sift_writer *w)
{
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 4 + (d->src != NULL) + d->has_gold +
			 (d->time != NULL) + (d->topic != NULL));
	sift_pack_str(pk, "id");
	msgpack_pack_int64(pk, d->id);
	if (d->src) {
		sift_pack_str(pk, "src");
		sift_pack_str(pk, d->src);
	}
	sift_pack_str(pk, "words");
	msgpack_pack_array(pk, d->W);
	for (int i = 0; i < d->W; i++)
		sift_pack_str(pk, d->words[i] ? d->words[i] : "");
	sift_pack_str(pk, "pred");
	msgpack_pack_array(pk, d->W);
	for (int i = 0; i < d->W; i++)
		sift_pack_str(pk, p->labels[d->pred[i] >= 0 ? d->pred[i] : p->none]);
	sift_pack_str(pk, "prob");
	sift_pack_f32s(pk, d->prob, d->W);
	if (d->has_gold) {
		sift_pack_str(pk, "gold");
		msgpack_pack_array(pk, d->W);
		for (int i = 0; i < d->W; i++)
			sift_pack_str(pk, d->gold[i] ? d->gold[i] : "O");
	}
	if (d->time) {
		sift_pack_str(pk, "time");
		sift_pack_str(pk, d->time);
	}
	if (d->topic) {
		sift_pack_str(pk, "topic");
		sift_pack_str(pk, d->topic);
	}
	return sift_commit(w);
}

/* one window of a sentence: its words in [keep0,keep1) */
static int one_window(struct sift_pred *p, const struct sift_reader *r,
		      const msgpack_object *ex, const float *pr, int len,
		      const int32_t *glab, struct sift_writer *w)
{
	int64_t id = 0, doc, win = 0, nwin = 1, word0 = 0;
	if (sift_need_int(r, ex, "id", &id) < 0)
		return -1;
	int has_doc = sift_opt_int(r, ex, "doc", &doc);
	if (has_doc < 0 || sift_opt_int(r, ex, "win", &win) < 0 ||
	    sift_opt_int(r, ex, "nwin", &nwin) < 0 ||
	    sift_opt_int(r, ex, "word0", &word0) < 0)
		return -1;
	if (!has_doc)
		doc = id;
	const msgpack_object *words = sift_get(ex, "words");
	if (!words || words->type != MSGPACK_OBJECT_ARRAY) {
		sift_rerror(r, "example %lld: words missing", (long long)id);
		return -1;
	}
	int nw = (int)words->via.array.size;
	int32_t *widx = NULL, *keep = NULL;
	size_t nidx, nkeep;
	if (sift_need_i32s(r, ex, "word_idx", &widx, &nidx) < 0)
		return -1;
	int kk = sift_opt_i32s(r, ex, "keep", &keep, &nkeep);
	int keep0 = 0, keep1 = nw;
	if (kk < 0) {
		free(widx);
		return -1;
	}
	if (kk > 0) {
		if (nkeep != 2 || keep[0] < 0 || keep[1] > nw || keep[0] > keep[1]) {
			sift_rerror(r, "example %lld: keep is not a range of its %d words",
				    (long long)id, nw);
			free(widx);
			free(keep);
			return -1;
		}
		keep0 = keep[0];
		keep1 = keep[1];
	}
	free(keep);
	if ((int)nidx != len || nwin < 1 || nwin > SIFT_NER_MAX_WORDS ||
	    win < 0 || win >= nwin) {
		sift_rerror(r, "example %lld: word_idx has %zu entries for %d tokens, or bad win/nwin",
			    (long long)id, nidx, len);
		free(widx);
		return -1;
	}
	char err[96];
	if (sift_ner_check_word0(word0, err, sizeof err) < 0) {
		sift_rerror(r, "example %lld: %s", (long long)id, err);
		free(widx);
		return -1;
	}
	const msgpack_object *gold = sift_get(ex, "gold");
	if (gold && (gold->type != MSGPACK_OBJECT_ARRAY ||
		     (int)gold->via.array.size != nw)) {
		sift_rerror(r, "example %lld: gold does not have one tag per word",
			    (long long)id);
		free(widx);
		return -1;
	}
	/* the sentence: the open one, or a new one at the tail */
	struct doc *d = NULL;
	for (int i = p->qn - 1; i >= 0 && !d; i--)
		if (p->q[i].id == doc && p->q[i].got < p->q[i].nwin)
			d = &p->q[i];
	if (!d) {
		if (p->qn == p->qcap) {
			p->qcap = p->qcap ? 2 * p->qcap : 8;
			p->q = sift_xrealloc(p->q, p->qcap * sizeof *p->q);
		}
		d = &p->q[p->qn++];
		memset(d, 0, sizeof *d);
		d->id = doc;
		d->nwin = (int)nwin;
		d->src = dupobj(sift_get(ex, "src"));
		d->time = dupobj(sift_get(ex, "time"));
		d->topic = dupobj(sift_get(ex, "topic"));
	}
	d->got++;
	doc_grow(d, (int)word0 + keep1);
	for (int k = keep0; k < keep1; k++) {
		int j = (int)word0 + k;
		d->kept[j] = 1;
		free(d->words[j]);
		d->words[j] = dupobj(&words->via.array.ptr[k]);
		if (gold) {
			free(d->gold[j]);
			d->gold[j] = dupobj(&gold->via.array.ptr[k]);
			d->has_gold = 1;
		}
	}
	/* the first sub-token of each kept word */
	int prev = -1;
	for (int t = 0; t < len; t++) {
		int k = widx[t];
		if (k < 0 || k == prev)
			continue;
		prev = k;
		if (k >= nw) {
			sift_rerror(r, "example %lld: word_idx %d beyond its %d words",
				    (long long)id, k, nw);
			free(widx);
			return -1;
		}
		if (k < keep0 || k >= keep1)
			continue;
		int j = (int)word0 + k;
		if (d->pred[j] >= 0)
			continue;	/* not the first sub-token */
		const float *row = pr + (size_t)t * p->L;
		int best = 0;
		for (int l = 1; l < p->L; l++)
			if (row[l] > row[best])
				best = l;
		d->pred[j] = best;
		d->prob[j] = row[best];
		if (!gold && glab && glab[t] != SIFT_IGNORE) {
			const char *g = label_name(p, glab[t]);
			if (!g) {
				sift_rerror(r, "example %lld: gold label %d outside the header's %d labels",
					    (long long)id, glab[t], p->in->nlabels);
				free(widx);
				return -1;
			}
			free(d->gold[j]);
			d->gold[j] = sift_xstrdup(g);
			d->has_gold = 1;
		}
	}
	free(widx);
	/* a complete sentence has every word from some window (sift-eval
	 * refuses a gap, and a far word0 would write millions of "") */
	if (d->got == d->nwin)
		for (int i = 0; i < d->W; i++)
			if (!d->kept[i]) {
				sift_rerror(r, "sentence %lld: word %d is kept by no window",
					    (long long)d->id, i);
				return -1;
			}
	/* write the complete sentences at the head, in order */
	int done = 0;
	while (done < p->qn && p->q[done].got == p->q[done].nwin) {
		if (write_doc(p, &p->q[done], w) < 0)
			return -1;
		doc_free(&p->q[done]);
		done++;
	}
	if (done) {
		memmove(p->q, p->q + done, (p->qn - done) * sizeof *p->q);
		p->qn -= done;
	}
	return 0;
}

int sift_pred_batch(struct sift_pred *p, const struct sift_reader *r,
		    const msgpack_object *rec, const struct bert_batch *bb,
		    const float *probs, struct sift_writer *w)
{
	const msgpack_object *exs = sift_get(rec, "ex");
	if (!exs || exs->type != MSGPACK_OBJECT_ARRAY ||
	    (int)exs->via.array.size != bb->B) {
		sift_rerror(r, "ex must be an array of B = %d example maps", bb->B);
		return -1;
	}
	int32_t *labels = NULL;
	size_t nl = 0;
	/* multi-label, regression: the gold is the examples' own */
	int hl = p->pp ? 0 : sift_opt_i32s(r, rec, "labels", &labels, &nl);
	if (hl < 0)
		return -1;
	size_t want = p->ner ? (size_t)bb->B * bb->T : (size_t)bb->B;
	if (hl > 0 && nl != want) {
		sift_rerror(r, "labels has %zu entries, expected %zu", nl, want);
		free(labels);
		return -1;
	}
	int rc = 0;
	for (int b = 0; b < bb->B && rc == 0; b++) {
		const msgpack_object *ex = &exs->via.array.ptr[b];
		if (ex->type != MSGPACK_OBJECT_MAP) {
			sift_rerror(r, "ex[%d] is not a map", b);
			rc = -1;
			break;
		}
		if (p->ner)
			rc = one_window(p, r, ex,
					probs + (size_t)bb->offs[b] * p->L,
					bb->offs[b + 1] - bb->offs[b],
					labels ? labels + (size_t)b * bb->T : NULL, w);
		else
			rc = one_text(p, r, ex, probs + (size_t)b * p->L,
				      labels ? labels + b : NULL, w);
	}
	free(labels);
	return rc;
}

int sift_pred_finish(struct sift_pred *p, const struct sift_reader *r)
{
	if (p->qn > 0) {
		sift_rerror(r, "sentence %lld: %d of its %d windows missing at the end of the input",
			    (long long)p->q[0].id, p->q[0].nwin - p->q[0].got,
			    p->q[0].nwin);
		return -1;
	}
	return 0;
}
