/* test-lora.c: LoRA adapters against peft: gradients, AdamW steps, merging, errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "check.h"
#include "lora.h"
#include "safetensors.h"
#include "trainer.h"

/*
 * tests/ref/make_lora_fixtures.py wrote, for the small token and
 * sequence models of tests/fixtures/train: an adapter made by peft
 * (rank 4, alpha 8, all six targets, B random) and the reference
 * loss/logits and gradient of every trained tensor (the adapter and the
 * classifier) on batch 0, every trained tensor after 5 AdamW steps (lr
 * 1e-3, warmup 2 of 5 linear, clipping at 0.5, weight decay 0.01,
 * dropout 0), and the eval-mode logits of batch 0.
 * Tolerance as test-trainer: |x - ref| <= tol + 1e-4 |ref|.
 */

#define FIX "tests/fixtures/train/"
#define LFIX "tests/fixtures/lora/"

struct jbatch {
	int B, T;
	int32_t *ids, *tt, *labels;
	uint8_t *mask;
};

static int32_t *ints(json_t *a, size_t *n)
{
	*n = json_array_size(a);
	int32_t *v = malloc((*n ? *n : 1) * sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = (int32_t)json_integer_value(json_array_get(a, i));
	return v;
}

/* the JSON lines stream: labels of the header, the batches */
static int read_fixture(const char *path, char ***labels, int *nlabels,
			struct jbatch *bs, int maxb)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[1 << 16];
	int nb = 0;
	while (fgets(line, sizeof line, f)) {
		json_t *o = json_loads(line, 0, NULL);
		if (!o)
			continue;
		if (json_object_get(o, "sift")) {
			json_t *l = json_object_get(o, "labels");
			*nlabels = (int)json_array_size(l);
			*labels = calloc((size_t)*nlabels, sizeof **labels);
			for (int i = 0; i < *nlabels; i++)
				(*labels)[i] = strdup(json_string_value(json_array_get(l, i)));
		} else if (json_object_get(o, "B") && nb < maxb) {
			struct jbatch *b = &bs[nb++];
			size_t n;
			b->B = (int)json_integer_value(json_object_get(o, "B"));
			b->T = (int)json_integer_value(json_object_get(o, "T"));
			b->ids = ints(json_object_get(o, "ids"), &n);
			b->tt = ints(json_object_get(o, "type_ids"), &n);
			b->labels = ints(json_object_get(o, "labels"), &n);
			int32_t *mk = ints(json_object_get(o, "mask"), &n);
			b->mask = malloc(n);
			for (size_t i = 0; i < n; i++)
				b->mask[i] = (uint8_t)mk[i];
			free(mk);
		}
		json_decref(o);
	}
	fclose(f);
	return nb;
}

static void free_batches(struct jbatch *bs, int nb, char **labels, int nl)
{
	for (int i = 0; i < nb; i++) {
		free(bs[i].ids);
		free(bs[i].tt);
		free(bs[i].labels);
		free(bs[i].mask);
	}
	for (int i = 0; i < nl; i++)
		free(labels[i]);
	free(labels);
}

static float *ref(const struct sift_st_file *f, const char *name, size_t *n)
{
	const struct sift_st_tensor *t = sift_st_find(f, name);
	if (!t)
		return NULL;
	float *v = malloc(t->nelem * sizeof *v);
	sift_st_to_f32(t, v);
	*n = t->nelem;
	return v;
}

/* worst |x - r| / (tol + rel |r|): <= 1 passes */
static double worst(const float *x, const float *r, size_t n, double tol,
		    double rel)
{
	double w = 0.0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)x[i] - r[i]) / (tol + rel * fabs(r[i]));
		if (!(e <= w))
			w = e;
	}
	return w;
}

/* the logits of batch b (packed rows for tokens) against the padded
 * reference r: the count of entries off */
static int logits_off(const float *x, const float *r, const struct bert_batch *bb,
		      const struct jbatch *b, int L, enum bert_head head)
{
	int bad = 0;
	if (head == BERT_HEAD_SEQ) {
		for (int i = 0; i < b->B * L; i++)
			bad += fabs(x[i] - r[i]) > 1e-5 + 1e-4 * fabs(r[i]);
		return bad;
	}
	for (int e = 0; e < b->B; e++)
		for (int i = bb->offs[e]; i < bb->offs[e + 1]; i++)
			for (int j = 0; j < L; j++) {
				float want = r[((size_t)e * b->T + (i - bb->offs[e])) * L + j];
				bad += fabs(x[(size_t)i * L + j] - want) > 1e-5 + 1e-4 * fabs(want);
			}
	return bad;
}

/* the trained tensors against ref's prefix.NAME: the count off (or
 * missing); *seen: how many were compared */
static int compare(const struct bert_model *m, const float *vals,
		   const struct sift_st_file *rf, const char *prefix,
		   const char *what, int *seen)
{
	int bad = 0;
	*seen = 0;
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *bt = &m->tensors[i];
		if (bt->head != LORA_TENSOR && strncmp(bt->name, "classifier.", 11))
			continue;
		char rn[200];
		snprintf(rn, sizeof rn, "%s.%s", prefix, bt->name);
		size_t n;
		float *r = ref(rf, rn, &n);
		if (!r || n != bert_tensor_numel(bt)) {
			fprintf(stderr, "test-lora: %s: no reference %s\n", what, rn);
			free(r);
			bad++;
			continue;
		}
		double scale = 0.0;
		for (size_t k = 0; k < n; k++)
			scale = fmax(scale, fabs(r[k]));
		double w = worst(vals + bt->off, r, n, 1e-5 * scale + 1e-9, 1e-4);
		if (w > 1.0) {
			fprintf(stderr, "test-lora: %s: %s off by %.3g x tolerance\n",
				what, rn, w);
			bad++;
		}
		(*seen)++;
		free(r);
	}
	return bad;
}

static void set_opts(struct trainer_opts *o)
{
	trainer_opts_default(o);
	o->lr = 1e-3;
	o->weight_decay = 0.01f;
	o->warmup = 2;
	o->max_grad_norm = 0.5f;
	o->freeze.freeze_base = 1;
}

/* peft's adapter on the base: logits, gradients, 5 steps, merging */
static void run(const char *name, enum bert_head head)
{
	char path[256], apath[256], err[1024];
	char **labels = NULL;
	int nlabels = 0;
	struct jbatch bs[5];
	snprintf(path, sizeof path, FIX "%s.jsonl", name);
	int nb = read_fixture(path, &labels, &nlabels, bs, 5);
	CHECK_EQ_INT(nb, 5);
	if (nb != 5)
		return;
	struct sift_st_file rf;
	snprintf(path, sizeof path, LFIX "%s.ref.safetensors", name);
	CHECK(sift_st_open(&rf, path, err, sizeof err) == 0);
	snprintf(path, sizeof path, FIX "%s", name);
	snprintf(apath, sizeof apath, LFIX "peft-%s", name);

	struct bert_model m;
	int rc = lora_open(&m, path, apath, head, labels, nlabels, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK(rc == 0);
	if (rc)
		return;
	CHECK(m.lora != NULL && m.lora->cfg.r == 4 && m.lora->cfg.targets == 63);
	CHECK(m.head == head);
	bert_upload(&m, &sift_backend_cpu);
	struct trainer_opts o;
	set_opts(&o);
	struct trainer t;
	CHECK(trainer_init(&t, &m, &o, 5, err, sizeof err) == 0);
	/* AdamW state for the trained floats only */
	size_t ntrain = 0;
	for (int i = 0; i < m.ntensors; i++)
		if (m.tensors[i].head == LORA_TENSOR ||
		    !strncmp(m.tensors[i].name, "classifier.", 11))
			ntrain += bert_tensor_numel(&m.tensors[i]);
	CHECK(t.nopt == ntrain && t.opt.n == ntrain && ntrain < m.nparams / 4);

	double loss;
	struct jbatch *b = &bs[0];
	CHECK(trainer_micro(&t, b->ids, b->tt, b->mask, b->labels, b->B, b->T,
			    &loss, err, sizeof err) == 0);
	size_t n;
	float *r = ref(&rf, "loss0", &n);
	CHECK_CLOSE(loss, r[0], 1e-6, 1e-5);
	free(r);
	r = ref(&rf, "logits0", &n);
	CHECK_EQ_INT(logits_off(t.a.logits, r, &t.bb, b, nlabels, head), 0);
	free(r);
	/* the gradient buffer holds the trained tensors only, side by
	 * side as their moments (no floats for the frozen base): laid out
	 * as the parameters again by trainer_scatter, zero elsewhere */
	CHECK(t.g.n == ntrain && t.g.goff != NULL);
	float *full = calloc(m.nparams, sizeof *full);
	trainer_scatter(&t, t.g.buf, full);
	int seen;
	CHECK_EQ_INT(compare(&m, full, &rf, "grad", name, &seen), 0);
	CHECK_EQ_INT(seen, 2 * 6 * m.cfg.layers + 2);
	/* the base has no gradient views at all: nothing computed for it */
	CHECK(t.g.g.pool_w == NULL && t.g.g.wte == NULL && t.g.g.layer[0].qkv_w == NULL &&
	      t.g.g.layer[0].ln2_b == NULL && t.g.g.cls_w != NULL);
	free(full);
	trainer_free(&t);
	bert_free(&m);

	/* 5 AdamW steps from the adapter as loaded */
	CHECK(lora_open(&m, path, apath, head, labels, nlabels, err, sizeof err) == 0);
	bert_upload(&m, &sift_backend_cpu);
	float *base = malloc(m.lora->nbase * sizeof *base);
	memcpy(base, m.params, m.lora->nbase * sizeof *base);
	CHECK(trainer_init(&t, &m, &o, 5, err, sizeof err) == 0);
	for (int k = 0; k < 5; k++) {
		b = &bs[k];
		CHECK(trainer_micro(&t, b->ids, b->tt, b->mask, b->labels, b->B,
				    b->T, &loss, err, sizeof err) == 0);
		CHECK(trainer_step(&t) == 0);
	}
	CHECK_EQ_INT(compare(&m, m.params, &rf, "step5", name, &seen), 0);
	/* the frozen base is the base, bit for bit, but the classifier */
	int moved = 0;
	for (int i = 0; i < m.lora->ntensors0; i++) {
		const struct bert_tensor *bt = &m.tensors[i];
		if (strncmp(bt->name, "classifier.", 11))
			moved += memcmp(base + bt->off, m.params + bt->off,
					bert_tensor_numel(bt) * sizeof(float)) != 0;
	}
	CHECK_EQ_INT(moved, 0);
	free(base);
	trainer_free(&t);
	bert_free(&m);

	/* accumulation: the group's second micro-batch goes through a
	 * buffer of its own, the trained floats' size too, and adds into
	 * the first's: a group of two is the first batch's gradient plus
	 * the second's as a group of one at the same position computes it */
	o.accum = 2;
	CHECK(lora_open(&m, path, apath, head, labels, nlabels, err, sizeof err) == 0);
	bert_upload(&m, &sift_backend_cpu);
	CHECK(trainer_init(&t, &m, &o, 5, err, sizeof err) == 0);
	float *g0 = malloc(ntrain * sizeof *g0);
	CHECK(trainer_micro(&t, bs[0].ids, bs[0].tt, bs[0].mask, bs[0].labels,
			    bs[0].B, bs[0].T, &loss, err, sizeof err) == 0);
	memcpy(g0, t.g.buf, ntrain * sizeof *g0);
	CHECK(trainer_micro(&t, bs[1].ids, bs[1].tt, bs[1].mask, bs[1].labels,
			    bs[1].B, bs[1].T, &loss, err, sizeof err) == 0);
	CHECK(t.gm.n == ntrain && t.g.n == ntrain);
	struct trainer t1;
	CHECK(trainer_init(&t1, &m, &o, 5, err, sizeof err) == 0);
	t1.pos = 1;
	CHECK(trainer_micro(&t1, bs[1].ids, bs[1].tt, bs[1].mask, bs[1].labels,
			    bs[1].B, bs[1].T, &loss, err, sizeof err) == 0);
	int differ = 0;
	for (size_t k = 0; k < ntrain; k++)
		differ += t.g.buf[k] != g0[k] + t1.g.buf[k];
	CHECK_EQ_INT(differ, 0);
	free(g0);
	trainer_free(&t1);
	trainer_free(&t);
	bert_free(&m);
	o.accum = 1;

	/* eval mode: peft's logits, unmerged, then merged (W += s B A) */
	CHECK(lora_open(&m, path, apath, head, labels, nlabels, err, sizeof err) == 0);
	struct bert_batch bb;
	memset(&bb, 0, sizeof bb);
	b = &bs[0];
	CHECK(bert_pack(&bb, b->ids, b->tt, b->mask, b->B, b->T, err, sizeof err) == 0);
	struct bert_acts a;
	bert_acts_init(&a);
	CHECK(bert_forward(&m, &bb, &a, 0, 0) == 0);
	size_t nl = (size_t)(head == BERT_HEAD_SEQ ? bb.B : bb.N) * nlabels;
	float *unmerged = malloc(nl * sizeof *unmerged);
	memcpy(unmerged, a.logits, nl * sizeof *unmerged);
	r = ref(&rf, "eval0", &n);
	CHECK_EQ_INT(logits_off(unmerged, r, &bb, b, nlabels, head), 0);
	free(r);
	size_t nbase = m.lora->nbase;
	/* the base weights before the merge, to see the update land */
	float *before = malloc(nbase * sizeof *before);
	memcpy(before, m.params, nbase * sizeof *before);
	lora_merge(&m);
	CHECK(m.lora == NULL && m.nparams == nbase);
	bert_acts_free(&a);
	bert_acts_init(&a);
	CHECK(bert_forward(&m, &bb, &a, 0, 0) == 0);
	CHECK(worst(a.logits, unmerged, nl, 1e-5, 1e-4) <= 1.0);
	/* the merge changed the targeted weights: the update is there (the
	 * logits may round to unmerged's bits on some CPUs, the weights
	 * cannot stay) */
	CHECK(memcmp(before, m.params, nbase * sizeof *before) != 0);
	free(before);
	free(unmerged);
	bert_acts_free(&a);
	bert_batch_free(&bb);
	bert_free(&m);
	sift_st_close(&rf);
	free_batches(bs, nb, labels, nlabels);
}

/* sift's own save, read back: the same tensors; and another base refused */
static void test_save_load(void)
{
	char err[1024], dir[] = "/tmp/test-lora-XXXXXX";
	char *labs[3] = { "negative", "neutral", "positive" };
	struct bert_model m, m2;
	CHECK(bert_load(&m, FIX "seq", BERT_HEAD_SEQ, labs, 3, 0, 0, err, sizeof err) == 0);
	struct lora_cfg c = { 8, 16.0f, 0.0f, LORA_DEFAULT_TARGETS | (1u << LORA_OUTPUT), 0 };
	CHECK(lora_attach(&m, &c, 7, err, sizeof err) == 0);
	/* A is uniform in +-1/sqrt(in), B is zero */
	const struct lora_site *s = &m.lora->site[LORA_QUERY];
	float mx = 0.0f;
	for (int i = 0; i < 8 * s->in; i++)
		mx = fmaxf(mx, fabsf(m.params[s->a_off + i]));
	CHECK(mx > 0.0f && mx <= 1.0f / sqrtf((float)s->in));
	int nz = 0;
	for (int i = 0; i < 8 * s->out; i++)
		nz += m.params[s->b_off + i] != 0.0f;
	CHECK_EQ_INT(nz, 0);
	for (int i = 0; i < 8 * s->out; i++)
		m.params[s->b_off + i] = 0.01f * (float)(i % 7);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(lora_save(&m, m.params, FIX "seq", dir, err, sizeof err) == 0);
	CHECK(lora_open(&m2, FIX "seq", dir, BERT_HEAD_SEQ, NULL, 0, err, sizeof err) == 0);
	CHECK(m2.lora && m2.lora->cfg.r == 8 && m2.lora->cfg.targets == c.targets);
	CHECK(m2.nparams == m.nparams && m2.nlabels == 3 && !strcmp(m2.labels[2], "positive"));
	CHECK(memcmp(m.params, m2.params, m.nparams * sizeof(float)) == 0);
	bert_free(&m2);
	/* one base weight changed is another base */
	struct lora_info li;
	CHECK(lora_probe(dir, &li, err, sizeof err) == 0);
	CHECK(li.has_hash && li.head == BERT_HEAD_SEQ && li.nlabels == 3);
	CHECK(bert_load(&m2, FIX "seq", BERT_HEAD_SEQ, labs, 3, 0, 0, err, sizeof err) == 0);
	m2.p.layer[1].fc_w[5] += 1e-3f;
	CHECK(lora_load(&m2, dir, &li, err, sizeof err) == -1);
	CHECK(strstr(err, "sift-adapter.json: the adapter was trained on another base model (base_hash ") != NULL);
	CHECK(m2.lora == NULL);
	bert_free(&m2);
	lora_info_free(&li);
	/* a sequence adapter for a token task */
	CHECK(lora_open(&m2, FIX "seq", dir, BERT_HEAD_TOKEN, NULL, 0, err, sizeof err) == -1);
	CHECK(strstr(err, "is a sequence classifier") != NULL);
	char p[300];
	const char *files[] = { LORA_CONFIG_NAME, LORA_MODEL_NAME, LORA_SIFT_NAME };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	bert_free(&m);
}

static void test_errors(void)
{
	char err[512];
	unsigned mask;
	CHECK(lora_parse_targets("query,attn-out,intermediate.dense", &mask, err, sizeof err) == 0);
	CHECK(mask == ((1u << LORA_QUERY) | (1u << LORA_ATTN_OUT) | (1u << LORA_INTER)));
	CHECK(lora_parse_targets("query,dense", &mask, err, sizeof err) == -1);
	CHECK(!strcmp(err, "--lora-targets: 'dense' is not a target (query, key, value, attn-out, intermediate, output)"));
	char buf[128];
	lora_targets_str(LORA_DEFAULT_TARGETS | (1u << LORA_OUTPUT), buf, sizeof buf);
	CHECK(!strcmp(buf, "query,value,output"));
	struct bert_model m;
	char *labs[3] = { "negative", "neutral", "positive" };
	CHECK(bert_load(&m, FIX "seq", BERT_HEAD_SEQ, labs, 3, 0, 0, err, sizeof err) == 0);
	size_t n0 = m.nparams;
	/* hidden 32: rank 33 is above the (32,32) query weight */
	struct lora_cfg c = { 33, 8.0f, 0.0f, LORA_DEFAULT_TARGETS, 0 };
	CHECK(lora_attach(&m, &c, 1, err, sizeof err) == -1);
	CHECK(!strcmp(err, "--lora 33: the rank of query must be 1..32, the smaller side of its (32,32) weight"));
	CHECK(m.lora == NULL && m.nparams == n0);
	c.r = 32;
	CHECK(lora_attach(&m, &c, 1, err, sizeof err) == 0);
	bert_free(&m);
}

int main(void)
{
	run("seq", BERT_HEAD_SEQ);
	run("tok", BERT_HEAD_TOKEN);
	test_save_load();
	test_errors();
	return check_done("test-lora");
}
