/* fillmask.c: fill-mask records from an MLM head: the top-k tokens of each masked position. */
#include <math.h>	/* defines: exp, log */
#include <stdlib.h>
#include <string.h>

#include "fillmask.h"

struct sift_fill {
	char *const *pieces;
	int V, topk;
	int32_t mask_id;
	int32_t *sel;		/* (B,T): 0 for a row the head runs on */
	size_t cap_sel;
	int32_t *top;		/* (topk) */
	struct cand { float x; int32_t id; } *all;	/* (V), a large k */
};

struct sift_fill *sift_fill_new(char *const *pieces, int V, int topk,
				int32_t mask_id)
{
	struct sift_fill *f = sift_xcalloc(1, sizeof *f);
	f->pieces = pieces;
	f->V = V;
	f->topk = topk;
	f->mask_id = mask_id;
	f->top = sift_xmalloc((size_t)topk * sizeof *f->top);
	return f;
}

void sift_fill_free(struct sift_fill *f)
{
	if (!f)
		return;
	free(f->sel);
	free(f->top);
	free(f->all);
	free(f);
}

int sift_fill_rows(struct sift_fill *f, struct bert_batch *bb,
		   const int32_t *labels)
{
	size_t n = (size_t)bb->B * bb->T;
	if (n > f->cap_sel) {
		int32_t *s = realloc(f->sel, n * sizeof *s);
		if (!s)
			return -1;
		f->sel = s;
		f->cap_sel = n;
	}
	for (int b = 0; b < bb->B; b++) {
		int r0 = bb->offs[b], len = bb->offs[b + 1] - r0;
		int32_t *s = f->sel + (size_t)b * bb->T;
		for (int t = 0; t < bb->T; t++)
			s[t] = t < len && (bb->ids[r0 + t] == f->mask_id ||
					   (labels && labels[(size_t)b * bb->T + t] != SIFT_IGNORE))
				? 0 : SIFT_IGNORE;
	}
	return bert_pack_mlm(bb, f->sel);
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->x != y->x)
		return x->x > y->x ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* a large k: every token sorted (k above 64 is rare, and V log V is
 * cheaper than V k then) */
static void topk_sort(struct sift_fill *f, const float *x, int V, int k,
		      int32_t *ids)
{
	if (!f->all)
		f->all = sift_xmalloc((size_t)V * sizeof *f->all);
	for (int j = 0; j < V; j++) {
		f->all[j].x = x[j];
		f->all[j].id = j;
	}
	qsort(f->all, (size_t)V, sizeof *f->all, cand_cmp);
	for (int i = 0; i < k; i++)
		ids[i] = f->all[i].id;
}

void sift_fill_topk(const float *x, int V, int k, int32_t *ids)
{
	/* insertion into the k best so far: a token displaces the last only
	 * when strictly higher, so of equal logits the lower id stays first */
	int n = 0;
	for (int j = 0; j < V; j++) {
		if (n == k && !(x[j] > x[ids[k - 1]]))
			continue;
		int i = n < k ? n++ : k - 1;
		while (i > 0 && x[ids[i - 1]] < x[j]) {
			ids[i] = ids[i - 1];
			i--;
		}
		ids[i] = j;
	}
}

double sift_fill_logprob(const float *x, int V, int32_t y)
{
	/* the very sums of bert_loss: mx + log(sum exp(x - mx)) - x[y] */
	double mx = x[0], s = 0.0;
	for (int j = 1; j < V; j++)
		if (x[j] > mx)
			mx = x[j];
	for (int j = 0; j < V; j++)
		s += exp(x[j] - mx);
	return -(mx + log(s) - x[y]);
}

/* the optional string keys an example passes on */
static const char *const pass_keys[] = { "src", "text", "time", "topic" };

static int one_example(struct sift_fill *f, const struct sift_reader *r,
		       const msgpack_object *ex, const struct bert_batch *bb,
		       int b, int *row, const int32_t *labels,
		       const float *logits, const float *probs,
		       struct sift_writer *w)
{
	int64_t id = 0;
	if (sift_need_int(r, ex, "id", &id) < 0)
		return -1;
	int r0 = bb->offs[b], r1 = bb->offs[b + 1], V = f->V;
	int i0 = *row, i1 = i0;
	while (i1 < bb->M && bb->mlm_rows[i1] < r1)
		i1++;
	*row = i1;
	msgpack_packer *pk = &w->pk;
	int npass = 0;
	for (int k = 0; k < 4; k++)
		npass += sift_get(ex, pass_keys[k]) != NULL;
	msgpack_pack_map(pk, 2 + npass);
	sift_pack_str(pk, "id");
	msgpack_pack_int64(pk, id);
	for (int k = 0; k < 4; k++) {
		const msgpack_object *v = sift_get(ex, pass_keys[k]);
		if (v) {
			sift_pack_str(pk, pass_keys[k]);
			sift_pack_obj(pk, v);
		}
	}
	sift_pack_str(pk, "masks");
	msgpack_pack_array(pk, (size_t)(i1 - i0));
	for (int i = i0; i < i1; i++) {
		int t = bb->mlm_rows[i] - r0;
		int32_t y = labels ? labels[(size_t)b * bb->T + t] : SIFT_IGNORE;
		if (y != SIFT_IGNORE && (y < 0 || y >= V)) {
			sift_rerror(r, "example %lld: label token id %d outside 0..%d",
				    (long long)id, y, V - 1);
			return -1;
		}
		const float *x = logits + (size_t)i * V, *p = probs + (size_t)i * V;
		if (f->topk > 64)
			topk_sort(f, x, V, f->topk, f->top);
		else
			sift_fill_topk(x, V, f->topk, f->top);
		msgpack_pack_map(pk, y != SIFT_IGNORE ? 4 : 2);
		sift_pack_str(pk, "pos");
		msgpack_pack_int(pk, t);
		sift_pack_str(pk, "top");
		msgpack_pack_array(pk, (size_t)f->topk);
		for (int k = 0; k < f->topk; k++) {
			int32_t tok = f->top[k];
			msgpack_pack_map(pk, 3);
			sift_pack_str(pk, "token");
			msgpack_pack_int32(pk, tok);
			sift_pack_str(pk, "token_str");
			sift_pack_str(pk, f->pieces[tok]);
			sift_pack_str(pk, "prob");
			msgpack_pack_float(pk, p[tok]);
		}
		if (y != SIFT_IGNORE) {
			sift_pack_str(pk, "label");
			msgpack_pack_int32(pk, y);
			sift_pack_str(pk, "logprob");
			msgpack_pack_double(pk, sift_fill_logprob(x, V, y));
		}
	}
	return sift_commit(w);
}

int sift_fill_batch(struct sift_fill *f, const struct sift_reader *r,
		    const msgpack_object *rec, const struct bert_batch *bb,
		    const int32_t *labels, const float *logits,
		    const float *probs, struct sift_writer *w)
{
	const msgpack_object *exs = sift_get(rec, "ex");
	if (!exs || exs->type != MSGPACK_OBJECT_ARRAY ||
	    (int)exs->via.array.size != bb->B) {
		sift_rerror(r, "ex must be an array of B = %d example maps", bb->B);
		return -1;
	}
	int row = 0;
	for (int b = 0; b < bb->B; b++) {
		const msgpack_object *ex = &exs->via.array.ptr[b];
		if (ex->type != MSGPACK_OBJECT_MAP) {
			sift_rerror(r, "ex[%d] is not a map", b);
			return -1;
		}
		if (one_example(f, r, ex, bb, b, &row, labels, logits, probs, w) < 0)
			return -1;
	}
	return 0;
}
