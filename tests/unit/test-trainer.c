/* test-trainer.c: gradients and AdamW steps of small models against PyTorch/transformers fixtures. */
#include <limits.h>	/* defines: PATH_MAX */
#include <stdint.h>
#include <stdlib.h>	/* defines: realpath */
#include <string.h>
#include <unistd.h>	/* defines: rmdir */
#include <jansson.h>

#include "check.h"
#include "classweights.h"	/* defines: bert_set_loss, classweights_read */
#include "lrsched.h"
#include "problem.h"	/* defines: SIFT_PROBLEM_* */
#include "safetensors.h"
#include "trainer.h"

/*
 * tests/ref/make_train_fixtures.py wrote, for a token and a sequence
 * classification model: the initial model, 5 padded batches (JSON
 * lines), and the reference loss/logits/gradient of every parameter on
 * batch 0 and every parameter after 5 AdamW steps (lr 1e-3, warmup 2 of
 * 5 linear, clipping at 0.5, weight decay 0.01, dropout 0).
 * Tolerance as llm.c against PyTorch: |x - ref| <= tol + 1e-3 |ref|.
 */

#define FIX "tests/fixtures/train/"

struct jbatch {
	int B, T;
	int32_t *ids, *tt, *labels;
	uint8_t *mask;
	float *flabels;		/* multi-label, regression: (B,L) or (B) */
};

static int32_t *ints(json_t *a, size_t *n)
{
	*n = json_array_size(a);
	int32_t *v = malloc((*n ? *n : 1) * sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = (int32_t)json_integer_value(json_array_get(a, i));
	return v;
}

/* reads the JSON lines fixture: labels of the header, the batches */
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
			json_t *lab = json_object_get(o, "labels");
			if (json_is_real(json_array_get(lab, 0))) {
				/* make_problem_fixtures.py: f32 labels */
				b->flabels = malloc(json_array_size(lab) * sizeof *b->flabels);
				for (size_t i = 0; i < json_array_size(lab); i++)
					b->flabels[i] = (float)json_real_value(json_array_get(lab, i));
				b->labels = NULL;
			} else {
				b->labels = ints(lab, &n);
				b->flabels = NULL;
			}
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

/* the reference tensor, as floats */
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

/* the Hugging Face name of a tensor of the model */
static void hf_name(const struct bert_model *m, const struct bert_tensor *bt,
		    char *out, size_t n)
{
	int top = !strncmp(bt->name, "classifier", 10) || !strncmp(bt->name, "cls.", 4);
	snprintf(out, n, "%s%s", top ? "" : "bert.", bt->name);
	(void)m;
}

/* worst |x - r| / (tol + |r|) over a tensor: <= 1 passes */
static double worst(const float *x, const float *r, size_t n, double tol,
		    double rel)
{
	double w = 0.0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)x[i] - r[i]) / (tol + rel * fabs(r[i]));
		if (!(e <= w))
			w = e;	/* NaN included */
	}
	return w;
}

/* one micro-batch of b, its f32 labels for a multi-label or regression head */
static int micro(struct trainer *t, const struct jbatch *b, double *loss, char *err,
		 size_t errlen)
{
	t->flabels = b->flabels;
	return trainer_micro(t, b->ids, b->tt, b->mask, b->labels, b->B, b->T, loss,
			     err, errlen);
}

/* problem: enum sift_problem of a sequence head (0: single-label) */
static void run(const char *name, enum bert_head head, int problem)
{
	char path[256], err[512];
	char **labels = NULL;
	int nlabels = 0;
	struct jbatch bs[5];
	snprintf(path, sizeof path, FIX "%s.jsonl", name);
	int nb = read_fixture(path, &labels, &nlabels, bs, 5);
	CHECK_EQ_INT(nb, 5);
	if (nb != 5)
		return;
	struct sift_st_file rf;
	snprintf(path, sizeof path, FIX "%s.ref.safetensors", name);
	CHECK(sift_st_open(&rf, path, err, sizeof err) == 0);

	struct bert_model m;
	snprintf(path, sizeof path, FIX "%s", name);
	int rc = bert_load(&m, path, head, labels, nlabels, 0, 0, err, sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK(rc == 0);
	if (rc)
		return;
	m.problem = problem;
	bert_upload(&m, &sift_backend_cpu);
	struct trainer_opts o;
	trainer_opts_default(&o);
	o.lr = 1e-3;
	o.weight_decay = 0.01f;
	o.warmup = 2;
	o.max_grad_norm = 0.5f;
	struct trainer t;
	CHECK(trainer_init(&t, &m, &o, 5, err, sizeof err) == 0);

	/* batch 0: loss, logits and every gradient */
	double loss;
	struct jbatch *b = &bs[0];
	CHECK(micro(&t, b, &loss, err, sizeof err) == 0);
	size_t n;
	float *r = ref(&rf, "loss0", &n);
	CHECK_CLOSE(loss, r[0], 1e-6, 1e-5);
	free(r);
	r = ref(&rf, "logits0", &n);
	/* the reference logits are padded (B,T,L) for tokens: compare the
	 * packed rows */
	if (head == BERT_HEAD_TOKEN) {
		int L = nlabels, bad = 0;
		for (int e = 0; e < b->B; e++)
			for (int i = t.bb.offs[e]; i < t.bb.offs[e + 1]; i++)
				for (int j = 0; j < L; j++) {
					float want = r[((size_t)e * b->T + (i - t.bb.offs[e])) * L + j];
					if (fabs(t.a.logits[(size_t)i * L + j] - want) > 1e-5 + 1e-4 * fabs(want))
						bad++;
				}
		CHECK_EQ_INT(bad, 0);
	} else if (head == BERT_HEAD_MLM) {
		/* the logits of the labelled rows only, (M,V) in row order */
		CHECK(t.bb.M > 0);
		CHECK(n == (size_t)t.bb.M * m.cfg.vocab_size);
		CHECK(worst(t.a.logits, r, n, 1e-5, 1e-4) <= 1.0);
	} else {
		CHECK(n == (size_t)b->B * nlabels);
		CHECK(worst(t.a.logits, r, n, 1e-5, 1e-4) <= 1.0);
	}
	free(r);
	int missing = 0, badg = 0;
	for (int i = 0; i < m.ntensors; i++) {
		char hn[160], rn[180];
		hf_name(&m, &m.tensors[i], hn, sizeof hn);
		snprintf(rn, sizeof rn, "grad.%s", hn);
		r = ref(&rf, rn, &n);
		if (!r) {
			missing++;
			continue;
		}
		/* ~1e-4 relative to the tensor's scale, as llm.c */
		double scale = 0.0;
		for (size_t k = 0; k < n; k++)
			scale = fmax(scale, fabs(r[k]));
		double w = worst(t.g.buf + m.tensors[i].off, r, n, 1e-5 * scale + 1e-9, 1e-4);
		if (getenv("TEST_TRAIN_VERBOSE"))
			fprintf(stderr, "%s %s %.3g\n", name, hn, w);
		if (w > 1.0) {
			badg++;
			fprintf(stderr, "test-trainer: %s: gradient of %s off by %.3g x tolerance\n",
				name, hn, w);
		}
		free(r);
	}
	CHECK_EQ_INT(missing, 0);
	CHECK_EQ_INT(badg, 0);

	/* 5 AdamW steps, one per batch; the first one's gradient is there */
	float *rl = ref(&rf, "step5_lr", &n), *rg = ref(&rf, "step5_grad_norm", &n),
	      *rloss = ref(&rf, "step5_loss", &n);
	for (int s = 0; s < 5; s++) {
		if (s > 0) {
			b = &bs[s];
			CHECK(micro(&t, b, &loss, err, sizeof err) == 0);
		}
		CHECK(trainer_group_full(&t));
		CHECK(trainer_step(&t) == 0);
		CHECK_CLOSE(t.last_loss, rloss[s], 1e-6, 1e-4);
		CHECK_CLOSE(t.last_lr, rl[s], 1e-12, 1e-6);
		CHECK_CLOSE(t.last_norm, rg[s], 1e-6, 1e-4);
	}
	free(rl); free(rg); free(rloss);
	int badp = 0;
	for (int i = 0; i < m.ntensors; i++) {
		char hn[160], rn[180];
		hf_name(&m, &m.tensors[i], hn, sizeof hn);
		snprintf(rn, sizeof rn, "step5.%s", hn);
		r = ref(&rf, rn, &n);
		if (!r)
			continue;
		double w = worst(m.params + m.tensors[i].off, r, n, 1e-6, 1e-4);
		if (w > 1.0) {
			badp++;
			fprintf(stderr, "test-trainer: %s: %s after 5 steps off by %.3g x tolerance\n",
				name, hn, w);
		}
		free(r);
	}
	CHECK_EQ_INT(badp, 0);
	CHECK_EQ_INT(t.step, 5);
	CHECK_EQ_INT(t.opt.t, 5);
	trainer_free(&t);
	bert_free(&m);

	/* gradient accumulation: 2 batches a step, the last step short */
	snprintf(path, sizeof path, FIX "%s", name);
	CHECK(bert_load(&m, path, head, labels, nlabels, 0, 0, err, sizeof err) == 0);
	m.problem = problem;
	bert_upload(&m, &sift_backend_cpu);
	o.accum = 2;
	o.warmup = 1;
	CHECK(trainer_init(&t, &m, &o, trainer_total_steps(5, 1, 2), err, sizeof err) == 0);
	CHECK_EQ_INT(t.sched.total, 3);
	for (int s = 0; s < 5; s++) {
		b = &bs[s];
		CHECK(micro(&t, b, &loss, err, sizeof err) == 0);
		if (trainer_group_full(&t) || s == 4)
			CHECK(trainer_step(&t) == 0);
	}
	CHECK_EQ_INT(t.step, 3);
	badp = 0;
	for (int i = 0; i < m.ntensors; i++) {
		char hn[160], rn[180];
		hf_name(&m, &m.tensors[i], hn, sizeof hn);
		snprintf(rn, sizeof rn, "accum3.%s", hn);
		r = ref(&rf, rn, &n);
		if (!r) {
			badp++;
			continue;
		}
		double w = worst(m.params + m.tensors[i].off, r, n, 1e-6, 1e-4);
		if (w > 1.0) {
			badp++;
			fprintf(stderr, "test-trainer: %s: %s after 3 accumulated steps off by %.3g x tolerance\n",
				name, hn, w);
		}
		free(r);
	}
	CHECK_EQ_INT(badp, 0);
	trainer_free(&t);
	bert_free(&m);
	sift_st_close(&rf);
	for (int i = 0; i < 5; i++) {
		free(bs[i].ids); free(bs[i].tt); free(bs[i].labels); free(bs[i].mask);
		free(bs[i].flabels);
	}
	for (int i = 0; i < nlabels; i++)
		free(labels[i]);
	free(labels);
}

/*
 * A gradient with a NaN or an Inf after a real backward pass (finite
 * loss): trainer_step reports it (1, a non-finite last_norm) and leaves
 * the parameters, the step and AdamW's count as they were.  at is where
 * the bad value goes: 0 the first word embedding, 1 the middle of the
 * word embeddings, 2 the last element of the last tensor.  dense: the
 * word embeddings' gradient read whole; else only the rows the batch
 * used are (the others are zero by construction), so 0 and 1 are in the
 * rows of the batch's first and second token.
 */
static void test_bad_grad(float bad, int at, int dense)
{
	char err[512], **labels = NULL;
	int nlabels = 0;
	struct jbatch bs[5];
	int nb = read_fixture(FIX "tok.jsonl", &labels, &nlabels, bs, 5);
	CHECK_EQ_INT(nb, 5);
	if (nb != 5)
		return;
	struct bert_model m;
	CHECK(bert_load(&m, FIX "tok", BERT_HEAD_TOKEN, labels, nlabels, 0, 0,
			err, sizeof err) == 0);
	bert_upload(&m, &sift_backend_cpu);
	struct trainer_opts o;
	trainer_opts_default(&o);
	o.dense_rows = dense;
	struct trainer t;
	CHECK(trainer_init(&t, &m, &o, 5, err, sizeof err) == 0);
	CHECK((t.live != NULL) == !dense);
	double loss;
	CHECK(trainer_micro(&t, bs[0].ids, bs[0].tt, bs[0].mask, bs[0].labels,
			    bs[0].B, bs[0].T, &loss, err, sizeof err) == 0);
	CHECK(isfinite(loss));
	const struct bert_tensor *we = NULL;
	for (int k = 0; k < m.ntensors; k++)
		if (!strcmp(m.tensors[k].name, "embeddings.word_embeddings.weight"))
			we = &m.tensors[k];
	CHECK(we != NULL);
	if (!we)
		return;
	const struct bert_tensor *last = &m.tensors[m.ntensors - 1];
	size_t lastn = (size_t)last->shape[0] * (last->ndim == 2 ? (size_t)last->shape[1] : 1);
	size_t C = (size_t)we->shape[1];
	size_t i = at == 0 ? we->off + (dense ? 0 : (size_t)bs[0].ids[0] * C)
		: at == 1 ? we->off + (dense ? (size_t)we->shape[0] * C / 2 :
				       (size_t)bs[0].ids[1] * C) + 3
		: last->off + lastn - 1;
	t.g.buf[i] = bad;
	float *before = malloc(m.nparams * sizeof *before);
	memcpy(before, m.params, m.nparams * sizeof *before);
	CHECK_EQ_INT(trainer_step(&t), 1);
	CHECK(!isfinite(t.last_norm));
	CHECK(memcmp(before, m.params, m.nparams * sizeof *before) == 0);
	CHECK_EQ_INT(t.step, 0);
	CHECK_EQ_INT(t.opt.t, 0);
	free(before);
	trainer_free(&t);
	bert_free(&m);
	for (int k = 0; k < 5; k++) {
		free(bs[k].ids); free(bs[k].tt); free(bs[k].labels); free(bs[k].mask);
	}
	for (int k = 0; k < nlabels; k++)
		free(labels[k]);
	free(labels);
}

/*
 * The word embeddings' gradient by rows (trainer.h: live) against the
 * same steps reading and zeroing every row (dense_rows): the same bits
 * in every parameter, with accum micro-batches a step, 5 batches (the
 * last step short under accumulation).
 */
static void test_rows_bits(const char *name, enum bert_head head, int accum)
{
	char path[256], err[512], **labels = NULL;
	int nlabels = 0;
	struct jbatch bs[5];
	snprintf(path, sizeof path, FIX "%s.jsonl", name);
	int nb = read_fixture(path, &labels, &nlabels, bs, 5);
	CHECK_EQ_INT(nb, 5);
	if (nb != 5)
		return;
	float *after[2] = { NULL, NULL };
	size_t np = 0;
	int had_rows = 0;
	for (int dense = 0; dense < 2; dense++) {
		struct bert_model m;
		snprintf(path, sizeof path, FIX "%s", name);
		CHECK(bert_load(&m, path, head, labels, nlabels, 0, 0, err, sizeof err) == 0);
		bert_upload(&m, &sift_backend_cpu);
		struct trainer_opts o;
		trainer_opts_default(&o);
		o.lr = 1e-3;
		o.weight_decay = 0.01f;
		o.max_grad_norm = 0.5f;
		o.accum = accum;
		o.dense_rows = dense;
		struct trainer t;
		CHECK(trainer_init(&t, &m, &o, trainer_total_steps(5, 1, accum), err,
				   sizeof err) == 0);
		if (!dense)
			had_rows = t.live != NULL;
		double loss;
		for (int s = 0; s < 5; s++) {
			CHECK(micro(&t, &bs[s], &loss, err, sizeof err) == 0);
			if (trainer_group_full(&t) || s == 4)
				CHECK(trainer_step(&t) == 0);
		}
		np = m.nparams;
		after[dense] = malloc(np * sizeof(float));
		memcpy(after[dense], m.params, np * sizeof(float));
		trainer_free(&t);
		bert_free(&m);
	}
	CHECK(had_rows);
	CHECK(memcmp(after[0], after[1], np * sizeof(float)) == 0);
	free(after[0]);
	free(after[1]);
	for (int i = 0; i < 5; i++) {
		free(bs[i].ids); free(bs[i].tt); free(bs[i].labels); free(bs[i].mask);
		free(bs[i].flabels);
	}
	for (int i = 0; i < nlabels; i++)
		free(labels[i]);
	free(labels);
}

/* the tensor of m named name, or NULL */
static const struct bert_tensor *tensor(const struct bert_model *m,
					const char *name)
{
	for (int i = 0; i < m->ntensors; i++)
		if (!strcmp(m->tensors[i].name, name))
			return &m->tensors[i];
	return NULL;
}

/*
 * The MLM head's loading: a model without one (the token fixture, a
 * BertForTokenClassification as all-MiniLM-L6-v2 is a BertModel) gets
 * one as transformers' _init_weights makes it, drawn from the seed; an
 * MLM checkpoint loaded for a classifier leaves cls.* out; sift's MLM
 * checkpoint loads back to the same bits, under the names transformers
 * saves (no decoder tensors: they are tied).
 */
static void test_mlm_load(void)
{
	char err[512];
	char *labs3[] = { "O", "B-PER", "I-PER" };
	struct bert_model m, m2;
	CHECK(bert_load(&m, FIX "tok", BERT_HEAD_MLM, NULL, 0, 0, 0, err, sizeof err) == -1);
	CHECK(strstr(err, "no trained head") != NULL);
	CHECK(bert_load(&m, FIX "tok", BERT_HEAD_MLM, NULL, 0, 1, 7, err, sizeof err) == 0);
	CHECK(m.head == BERT_HEAD_MLM && m.head_initialised && !m.has_pooler);
	CHECK_EQ_INT(m.nlabels, 0);
	CHECK_EQ_INT(m.nout, m.cfg.vocab_size);
	CHECK(tensor(&m, "classifier.weight") == NULL);
	int C = m.cfg.hidden, V = m.cfg.vocab_size, ones = 0, zeros = 0;
	for (int i = 0; i < C; i++) {
		ones += m.p.mlm_ln_w[i] == 1.0f;
		zeros += (m.p.mlm_ln_b[i] == 0.0f) + (m.p.mlm_b[i] == 0.0f);
	}
	for (int i = 0; i < V; i++)
		zeros += m.p.mlm_bias[i] == 0.0f;
	CHECK_EQ_INT(ones, C);
	CHECK_EQ_INT(zeros, 2 * C + V);
	double ss = 0.0;
	for (int i = 0; i < C * C; i++)
		ss += (double)m.p.mlm_w[i] * m.p.mlm_w[i];
	double sd = sqrt(ss / (C * C));
	CHECK(sd > 0.8 * m.cfg.init_range && sd < 1.2 * m.cfg.init_range);
	/* the seed decides the draw */
	CHECK(bert_load(&m2, FIX "tok", BERT_HEAD_MLM, NULL, 0, 1, 7, err, sizeof err) == 0);
	CHECK(memcmp(m.params, m2.params, m.nparams * sizeof(float)) == 0);
	bert_free(&m2);
	CHECK(bert_load(&m2, FIX "tok", BERT_HEAD_MLM, NULL, 0, 1, 8, err, sizeof err) == 0);
	CHECK(memcmp(m.p.mlm_w, m2.p.mlm_w, (size_t)C * C * sizeof(float)) != 0);
	bert_free(&m2);
	bert_free(&m);

	/* an untied decoder is refused, not trained as a tied one */
	char udir[] = "/tmp/test-trainer-untiedXXXXXX", up[160], ust[160];
	CHECK(mkdtemp(udir) != NULL);
	snprintf(up, sizeof up, "%s/config.json", udir);
	snprintf(ust, sizeof ust, "%s/model.safetensors", udir);
	json_t *uc = json_load_file(FIX "mlm/config.json", 0, NULL);
	json_object_set_new(uc, "tie_word_embeddings", json_false());
	CHECK(json_dump_file(uc, up, 0) == 0);
	json_decref(uc);
	char real[PATH_MAX];
	CHECK(realpath(FIX "mlm/model.safetensors", real) != NULL);
	CHECK(symlink(real, ust) == 0);
	CHECK(bert_load(&m, udir, BERT_HEAD_MLM, NULL, 0, 1, 1, err, sizeof err) == -1);
	CHECK(strstr(err, "tie_word_embeddings is false") != NULL);
	CHECK(bert_load(&m, udir, BERT_HEAD_TOKEN, labs3, 3, 1, 1, err, sizeof err) == 0);
	bert_free(&m);
	unlink(ust);
	unlink(up);
	rmdir(udir);

	/* an MLM checkpoint as a classifier's start: cls.* is not read */
	CHECK(bert_load(&m, FIX "mlm", BERT_HEAD_TOKEN, labs3, 3, 1, 1, err, sizeof err) == 0);
	int cls = 0;
	for (int i = 0; i < m.ntensors; i++)
		cls += !strncmp(m.tensors[i].name, "cls.", 4);
	CHECK_EQ_INT(cls, 0);
	CHECK(m.p.mlm_w == NULL && m.nout == 3 && !m.has_pooler);
	bert_free(&m);

	/* the architecture names the head; save and load back */
	CHECK(bert_load(&m, FIX "mlm", BERT_HEAD_NONE, NULL, 0, 0, 0, err, sizeof err) == 0);
	CHECK(m.head == BERT_HEAD_MLM && !m.head_initialised);
	char dir[] = "/tmp/test-trainer-mlmXXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	CHECK(bert_save(&m, dir, err, sizeof err) == 0);
	char path[128];
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	struct sift_st_file f;
	CHECK(sift_st_open(&f, path, err, sizeof err) == 0);
	CHECK(sift_st_find(&f, "cls.predictions.bias") != NULL);
	CHECK(sift_st_find(&f, "cls.predictions.transform.LayerNorm.weight") != NULL);
	CHECK(sift_st_find(&f, "bert.embeddings.word_embeddings.weight") != NULL);
	CHECK(sift_st_find(&f, "cls.predictions.decoder.weight") == NULL);
	CHECK_EQ_INT(f.ntensors, m.ntensors);
	sift_st_close(&f);
	snprintf(path, sizeof path, "%s/config.json", dir);
	json_t *cj = json_load_file(path, 0, NULL);
	CHECK(cj != NULL);
	CHECK(!strcmp(json_string_value(json_array_get(json_object_get(cj, "architectures"), 0)),
		      "BertForMaskedLM"));
	CHECK(json_object_get(cj, "id2label") == NULL);
	json_decref(cj);
	CHECK(bert_load(&m2, dir, BERT_HEAD_NONE, NULL, 0, 0, 0, err, sizeof err) == 0);
	CHECK(m2.head == BERT_HEAD_MLM && m2.nparams == m.nparams);
	CHECK(memcmp(m.params, m2.params, m.nparams * sizeof(float)) == 0);
	bert_free(&m2);
	bert_free(&m);
	remove(path);
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	remove(path);
	rmdir(dir);
}

/*
 * Freezing with the tied decoder: --freeze-embeddings leaves the word
 * embeddings as they were (transformers freezes the one tensor for both
 * of its uses) and trains the MLM head; a batch with no labelled token
 * has a loss of 0 over 0 tokens and adds no gradient.
 */
static void test_mlm_freeze(void)
{
	char err[512], **labels = NULL;
	int nlabels = 0;
	struct jbatch bs[5];
	CHECK_EQ_INT(read_fixture(FIX "mlm.jsonl", &labels, &nlabels, bs, 5), 5);
	struct bert_model m;
	CHECK(bert_load(&m, FIX "mlm", BERT_HEAD_MLM, NULL, 0, 0, 0, err, sizeof err) == 0);
	size_t nw = (size_t)m.cfg.vocab_size * m.cfg.hidden;
	float *wte = malloc(nw * sizeof *wte), *head = malloc(m.cfg.hidden * sizeof *head);
	memcpy(wte, m.p.wte, nw * sizeof *wte);
	memcpy(head, m.p.mlm_b, m.cfg.hidden * sizeof *head);
	struct trainer_opts o;
	trainer_opts_default(&o);
	o.lr = 1e-3;
	o.freeze.freeze_embeddings = 1;
	struct trainer t;
	CHECK(trainer_init(&t, &m, &o, 5, err, sizeof err) == 0);
	double loss;
	/* batch 0 without its labels: nothing to learn from */
	size_t bt = (size_t)bs[0].B * bs[0].T;
	int32_t *none = malloc(bt * sizeof *none);
	for (size_t i = 0; i < bt; i++)
		none[i] = -100;
	CHECK(trainer_micro(&t, bs[0].ids, bs[0].tt, bs[0].mask, none, bs[0].B,
			    bs[0].T, &loss, err, sizeof err) == 0);
	CHECK(loss == 0.0);
	CHECK_EQ_INT(t.bb.M, 0);
	int nz = 0;
	for (size_t i = 0; i < t.g.n; i++)
		nz += t.g.buf[i] != 0.0f;
	CHECK_EQ_INT(nz, 0);
	free(none);
	CHECK(trainer_step(&t) == 0);
	for (int s = 1; s < 5; s++) {
		struct jbatch *b = &bs[s];
		CHECK(trainer_micro(&t, b->ids, b->tt, b->mask, b->labels, b->B,
				    b->T, &loss, err, sizeof err) == 0);
		CHECK(trainer_step(&t) == 0);
	}
	CHECK(memcmp(wte, m.p.wte, nw * sizeof *wte) == 0);
	CHECK(memcmp(head, m.p.mlm_b, m.cfg.hidden * sizeof *head) != 0);
	free(wte);
	free(head);
	trainer_free(&t);
	bert_free(&m);
	for (int k = 0; k < 5; k++) {
		free(bs[k].ids); free(bs[k].tt); free(bs[k].labels); free(bs[k].mask);
	}
	free(labels);
}

/* transformers' get_*_schedule_with_warmup values */
static void test_sched(void)
{
	struct sched s = { SCHED_LINEAR, 1.0, 2, 10 };
	CHECK_CLOSE(sched_lr(&s, 0), 0.0, 1e-12, 0);
	CHECK_CLOSE(sched_lr(&s, 1), 0.5, 1e-12, 0);
	CHECK_CLOSE(sched_lr(&s, 2), 1.0, 1e-12, 0);
	CHECK_CLOSE(sched_lr(&s, 6), 0.5, 1e-12, 0);
	CHECK_CLOSE(sched_lr(&s, 10), 0.0, 1e-12, 0);
	s.kind = SCHED_COSINE;
	CHECK_CLOSE(sched_lr(&s, 6), 0.5, 1e-12, 1e-9);
	CHECK_CLOSE(sched_lr(&s, 4), 0.5 * (1 + cos(M_PI * 0.25)), 1e-12, 1e-9);
	s.kind = SCHED_CONSTANT;
	CHECK_CLOSE(sched_lr(&s, 1), 0.5, 1e-12, 0);
	CHECK_CLOSE(sched_lr(&s, 9), 1.0, 1e-12, 0);
	CHECK_EQ_INT(sched_warmup_from_ratio(0.1, 25), 3);
	CHECK_EQ_INT(trainer_total_steps(10, 2, 3), 4);	/* 5 per epoch: 2 + 2 */
	CHECK_EQ_INT(trainer_total_steps(-1, 1, 1), -1);
	/* closed form: huge counts neither spin nor overflow */
	CHECK_EQ_INT(trainer_total_steps(5, INT64_MAX, 1), 5);
	CHECK_EQ_INT(trainer_total_steps(5, INT64_MAX, 2), 5);	/* 5 epochs of 1 */
	CHECK_EQ_INT(trainer_total_steps(INT64_MAX, 1, 1), INT64_MAX);
	CHECK_EQ_INT(trainer_total_steps(INT64_MAX, 1, 7), INT64_MAX / 7);	/* 7 divides it */
	CHECK_EQ_INT(trainer_total_steps(INT64_MAX, 2, 1000000), 2 * (INT64_MAX / 2 / 1000000 + 1));
	CHECK_EQ_INT(trainer_total_steps(11, 3, 2), 6);	/* 4, 4, 3 batches: 2 + 2 + 2 */
	CHECK_EQ_INT(trainer_total_steps(10, 3, 4), 3);	/* 4, 3, 3: 1 + 1 + 1 */
}

/*
 * tests/ref/make_loss_fixtures.py: on the same models and batches, the
 * loss and every gradient of batch 0 with torch.nn.CrossEntropyLoss(
 * weight=W, label_smoothing=X) for the cases w (W only), ls (X only) and
 * both; with step5, every parameter after 5 AdamW steps with both.  W
 * comes from the weights file as sift-train --class-weights reads it.
 */
static void run_loss(const char *file, const char *model, const char *jsonl,
		     enum bert_head head, const char *wfile, float eps,
		     const char *const *cases, int ncases, int step5)
{
	char path[256], err[512];
	char **labels = NULL;
	int nlabels = 0;
	struct jbatch bs[5];
	snprintf(path, sizeof path, FIX "%s", jsonl);
	int nb = read_fixture(path, &labels, &nlabels, bs, 5);
	CHECK_EQ_INT(nb, 5);
	if (nb != 5)
		return;
	struct sift_st_file rf;
	snprintf(path, sizeof path, FIX "%s", file);
	CHECK(sift_st_open(&rf, path, err, sizeof err) == 0);
	float w[8];
	snprintf(path, sizeof path, FIX "%s", wfile);
	CHECK(classweights_read(path, labels, nlabels, w, err, sizeof err) == 0);
	for (int k = 0; k < ncases + step5; k++) {
		const char *cs = k < ncases ? cases[k] : "both";
		int uw = strcmp(cs, "ls") != 0, ue = strcmp(cs, "w") != 0;
		struct bert_model m;
		snprintf(path, sizeof path, FIX "%s", model);
		CHECK(bert_load(&m, path, head, labels, nlabels, 0, 0, err, sizeof err) == 0);
		bert_upload(&m, &sift_backend_cpu);
		CHECK(bert_set_loss(&m, uw ? w : NULL, ue ? eps : 0.0f) == 0);
		struct trainer_opts o;
		trainer_opts_default(&o);
		o.lr = 1e-3;
		o.weight_decay = 0.01f;
		o.warmup = 2;
		o.max_grad_norm = 0.5f;
		struct trainer t;
		CHECK(trainer_init(&t, &m, &o, 5, err, sizeof err) == 0);
		double loss;
		char rn[200];
		size_t n;
		float *r;
		if (k < ncases) {
			struct jbatch *b = &bs[0];
			CHECK(trainer_micro(&t, b->ids, b->tt, b->mask, b->labels, b->B,
					    b->T, &loss, err, sizeof err) == 0);
			snprintf(rn, sizeof rn, "%s.loss0", cs);
			r = ref(&rf, rn, &n);
			CHECK(r != NULL);
			if (r)
				CHECK_CLOSE(loss, r[0], 1e-6, 1e-5);
			free(r);
			int missing = 0, badg = 0;
			for (int i = 0; i < m.ntensors; i++) {
				char hn[160];
				hf_name(&m, &m.tensors[i], hn, sizeof hn);
				snprintf(rn, sizeof rn, "%s.grad.%s", cs, hn);
				r = ref(&rf, rn, &n);
				if (!r) {
					missing++;
					continue;
				}
				double scale = 0.0;
				for (size_t q = 0; q < n; q++)
					scale = fmax(scale, fabs(r[q]));
				double e = worst(t.g.buf + m.tensors[i].off, r, n,
						 1e-5 * scale + 1e-9, 1e-4);
				if (e > 1.0) {
					badg++;
					fprintf(stderr, "test-trainer: %s %s: gradient of %s off by %.3g x tolerance\n",
						file, cs, hn, e);
				}
				free(r);
			}
			CHECK_EQ_INT(missing, 0);
			CHECK_EQ_INT(badg, 0);
		} else {
			float *rloss = ref(&rf, "both.step5_loss", &n);
			CHECK(rloss != NULL);
			for (int s = 0; s < 5 && rloss; s++) {
				struct jbatch *b = &bs[s];
				CHECK(trainer_micro(&t, b->ids, b->tt, b->mask, b->labels,
						    b->B, b->T, &loss, err, sizeof err) == 0);
				CHECK(trainer_step(&t) == 0);
				CHECK_CLOSE(t.last_loss, rloss[s], 1e-6, 1e-4);
			}
			free(rloss);
			int badp = 0, found = 0;
			for (int i = 0; i < m.ntensors; i++) {
				char hn[160];
				hf_name(&m, &m.tensors[i], hn, sizeof hn);
				snprintf(rn, sizeof rn, "both.step5.%s", hn);
				r = ref(&rf, rn, &n);
				if (!r)
					continue;
				found++;
				double e = worst(m.params + m.tensors[i].off, r, n, 1e-6, 1e-4);
				if (e > 1.0) {
					badp++;
					fprintf(stderr, "test-trainer: %s: %s after 5 weighted smoothed steps off by %.3g x tolerance\n",
						file, hn, e);
				}
				free(r);
			}
			CHECK_EQ_INT(found, m.ntensors);
			CHECK_EQ_INT(badp, 0);
		}
		trainer_free(&t);
		bert_free(&m);
	}
	sift_st_close(&rf);
	for (int i = 0; i < 5; i++) {
		free(bs[i].ids); free(bs[i].tt); free(bs[i].labels); free(bs[i].mask);
	}
	for (int i = 0; i < nlabels; i++)
		free(labels[i]);
	free(labels);
}

/* the class-weights file: labels it omits get 1, errors name the line */
static void test_weights_file(void)
{
	char *labels[3] = { "negative", "neutral", "positive" };
	float w[3];
	char err[512], dir[] = "/tmp/test-trainer-XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/w.txt", dir);
	static const struct { const char *text, *err; float w0, w2; } cases[] = {
		{ "# rare ones up\n\npositive 4\n  negative\t0.25  \n", NULL, 0.25f, 4.0f },
		{ "neutral 2\nangry 3\n", "w.txt:2: unknown label 'angry'", 0, 0 },
		{ "neutral 2\nneutral 3\n", "w.txt:2: label 'neutral' given twice", 0, 0 },
		{ "neutral 0\n", "w.txt:1: weight '0' is not a positive finite number", 0, 0 },
		{ "neutral -1\n", "w.txt:1: weight '-1' is not a positive finite number", 0, 0 },
		{ "neutral nan\n", "w.txt:1: weight 'nan' is not a positive finite number", 0, 0 },
		{ "neutral inf\n", "w.txt:1: weight 'inf' is not a positive finite number", 0, 0 },
		{ "neutral 1e99\n", "w.txt:1: weight '1e99' is not a positive finite number", 0, 0 },
		{ "\n3\n", "w.txt:2: expected 'label weight'", 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		FILE *f = fopen(path, "w");
		fputs(cases[i].text, f);
		fclose(f);
		int rc = classweights_read(path, labels, 3, w, err, sizeof err);
		if (!cases[i].err) {
			CHECK(rc == 0);
			CHECK(w[0] == cases[i].w0 && w[1] == 1.0f && w[2] == cases[i].w2);
		} else {
			CHECK(rc == -1);
			const char *e = strrchr(err, '/');
			CHECK(e && !strcmp(e + 1, cases[i].err));
			if (!e || strcmp(e + 1, cases[i].err))
				fprintf(stderr, "test-trainer: got '%s'\n", err);
		}
	}
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_sched();
	run("tok", BERT_HEAD_TOKEN, SIFT_PROBLEM_SINGLE);
	run("seq", BERT_HEAD_SEQ, SIFT_PROBLEM_SINGLE);
	run("mlm", BERT_HEAD_MLM, SIFT_PROBLEM_SINGLE);
	/* make_problem_fixtures.py: BCEWithLogitsLoss and MSELoss heads */
	run("multi", BERT_HEAD_SEQ, SIFT_PROBLEM_MULTI);
	run("reg", BERT_HEAD_SEQ, SIFT_PROBLEM_REGRESSION);
	static const char *const all[] = { "w", "ls", "both" }, *both[] = { "both" };
	run_loss("loss-seq.ref.safetensors", "seq", "seq.jsonl", BERT_HEAD_SEQ,
		 "weights-seq.txt", 0.1f, all, 3, 1);
	run_loss("loss-tok.ref.safetensors", "tok", "tok.jsonl", BERT_HEAD_TOKEN,
		 "weights-tok.txt", 0.2f, all, 3, 0);
	run_loss("loss-pair.ref.safetensors", "seq", "pair.jsonl", BERT_HEAD_SEQ,
		 "weights-seq.txt", 0.1f, both, 1, 0);
	test_weights_file();
	test_mlm_load();
	test_mlm_freeze();
	for (int dense = 0; dense < 2; dense++)
		for (int at = 0; at < 3; at++) {
			test_bad_grad(NAN, at, dense);
			test_bad_grad(INFINITY, at, dense);
			test_bad_grad(-INFINITY, at, dense);
		}
	test_rows_bits("tok", BERT_HEAD_TOKEN, 1);
	test_rows_bits("tok", BERT_HEAD_TOKEN, 2);
	test_rows_bits("seq", BERT_HEAD_SEQ, 2);
	return check_done("test-trainer");
}
