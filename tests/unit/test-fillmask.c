/* test-fillmask.c: fill-mask top-k order, and MiniLM with a fresh head against transformers' pipeline. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "bert.h"
#include "fillmask.h"
#include "safetensors.h"
#include "vocab.h"

#define FIX "tests/fixtures/fwd"

/* the top-k order: by descending logit, equal logits by the lower id */
static void test_topk_order(void)
{
	const float x[8] = { 0.5f, 2.0f, -1.0f, 2.0f, 3.0f, 0.5f, 2.0f, -4.0f };
	int32_t ids[8];
	sift_fill_topk(x, 8, 4, ids);
	CHECK_EQ_INT(ids[0], 4);
	CHECK_EQ_INT(ids[1], 1);
	CHECK_EQ_INT(ids[2], 3);
	CHECK_EQ_INT(ids[3], 6);
	sift_fill_topk(x, 8, 8, ids);
	const int32_t all[8] = { 4, 1, 3, 6, 0, 5, 2, 7 };
	int same = 1;
	for (int i = 0; i < 8; i++)
		same &= ids[i] == all[i];
	CHECK(same);
	sift_fill_topk(x, 8, 1, ids);
	CHECK_EQ_INT(ids[0], 4);
}

/* log-softmax in double: log p of each token sums to 1 */
static void test_logprob(void)
{
	const float x[4] = { 1.0f, -2.0f, 0.25f, 3.0f };
	double s = 0;
	for (int y = 0; y < 4; y++)
		s += exp(sift_fill_logprob(x, 4, y));
	CHECK_CLOSE(s, 1.0, 1e-12, 0);
	CHECK_CLOSE(sift_fill_logprob(x, 4, 3) - sift_fill_logprob(x, 4, 1),
		    5.0, 1e-12, 0);
}

/* the head tensors of file into m (loaded with a head of its own) */
static int put_head(struct bert_model *m, const char *file)
{
	char err[512];
	struct sift_st_file f;
	if (sift_st_open(&f, file, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	int n = 0;
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *t = &m->tensors[i];
		if (strncmp(t->name, "cls.predictions.", 16))
			continue;
		const struct sift_st_tensor *s = sift_st_find(&f, t->name);
		if (!s || s->nelem != bert_tensor_numel(t) ||
		    sift_st_to_f32(s, m->params + t->off)) {
			fprintf(stderr, "%s: %s missing or of another shape\n",
				file, t->name);
			sift_st_close(&f);
			return -1;
		}
		n++;
	}
	sift_st_close(&f);
	return n == 5 ? 0 : -1;
}

static int32_t *ints(const json_t *a, size_t *n)
{
	*n = json_array_size(a);
	int32_t *v = malloc(*n * sizeof *v + 1);
	for (size_t i = 0; i < *n; i++)
		v[i] = (int32_t)json_integer_value(json_array_get(a, i));
	return v;
}

/* MiniLM and the head of make_mlm_fixtures.py: the top 5 of every
 * [MASK] are the pipeline's tokens, their probabilities within 1e-5 */
static void test_minilm(void)
{
	const char *dir = getenv("SIFT_MODEL") ? getenv("SIFT_MODEL") :
		"models/all-MiniLM-L6-v2";
	char path[1100], err[1024];
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	if (access(path, R_OK) != 0) {
		printf("SKIP: minilm fill-mask: MiniLM model not installed (make model)\n");
		if (getenv("SIFT_TEST_STRICT") && !strcmp(getenv("SIFT_TEST_STRICT"), "1"))
			CHECK(0);
		return;
	}
	struct bert_model m;
	int rc = bert_load(&m, dir, BERT_HEAD_MLM, NULL, 0, 1, 1, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		return;
	CHECK_EQ_INT(put_head(&m, FIX "/minilm-mlm-head.safetensors"), 0);
	CHECK_EQ_INT(bert_upload(&m, sift_backend_get("cpu")), 0);
	struct sift_vocab v;
	CHECK_EQ_INT(sift_vocab_load(&v, dir, err, sizeof err), 0);
	int V = m.nout;
	CHECK_EQ_INT(v.n, V);
	struct sift_fill *f = sift_fill_new(v.tok, V, 5, v.mask);
	FILE *in = fopen(FIX "/minilm-mlm.expect.jsonl", "r");
	CHECK(in != NULL);
	char line[65536];
	int nmask = 0;
	struct bert_batch bb = { 0 };
	struct bert_acts a;
	bert_acts_init(&a);
	while (in && fgets(line, sizeof line, in)) {
		json_error_t je;
		json_t *r = json_loads(line, 0, &je);
		CHECK(r != NULL);
		if (!r)
			break;
		size_t T;
		int32_t *ids = ints(json_object_get(r, "ids"), &T);
		uint8_t *mask = malloc(T);
		memset(mask, 1, T);
		CHECK_EQ_INT(bert_pack(&bb, ids, NULL, mask, 1, (int)T, err, sizeof err), 0);
		CHECK_EQ_INT(sift_fill_rows(f, &bb, NULL), 0);
		CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
		const json_t *masks = json_object_get(r, "masks");
		CHECK_EQ_INT(bb.M, json_array_size(masks));
		for (int i = 0; i < bb.M && i < (int)json_array_size(masks); i++) {
			const json_t *mk = json_array_get(masks, i);
			CHECK_EQ_INT(bb.mlm_rows[i], json_integer_value(json_object_get(mk, "pos")));
			int32_t top[5];
			const float *x = a.logits + (size_t)i * V, *p = a.probs + (size_t)i * V;
			sift_fill_topk(x, V, 5, top);
			const json_t *want = json_object_get(mk, "top");
			for (int k = 0; k < 5; k++) {
				const json_t *w = json_array_get(want, k);
				CHECK_EQ_INT(top[k], json_integer_value(json_object_get(w, "token")));
				CHECK_STR(v.tok[top[k]], json_string_value(json_object_get(w, "token_str")));
				CHECK_CLOSE(p[top[k]], json_real_value(json_object_get(w, "prob")), 1e-5, 0);
			}
			nmask++;
		}
		free(ids);
		free(mask);
		json_decref(r);
	}
	if (in)
		fclose(in);
	CHECK_EQ_INT(nmask, 6);
	bert_acts_free(&a);
	bert_batch_free(&bb);
	sift_fill_free(f);
	sift_vocab_free(&v);
	bert_free(&m);
}

int main(void)
{
	test_topk_order();
	test_logprob();
	test_minilm();
	return check_done("test-fillmask");
}
