/* test-bert.c: the forward pass against Hugging Face transformers, loading, saving and safetensors. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>	/* defines: openblas_set_num_threads */
#include <jansson.h>
#include <omp.h>

#include "check.h"
#include "ops_cpu.h"	/* defines: sift_cpu_split_threads */
#include "bert.h"
#include "rng.h"
#include "safetensors.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/fwd"
#endif

struct fcase {
	char model[512];
	int B, T;
	int32_t *ids, *type_ids;
	uint8_t *mask;
	int nout;
	char outname[4][32];
	size_t outn[4];
	float *out[4];
};

static int32_t *ints(json_t *a, size_t *n)
{
	*n = json_array_size(a);
	int32_t *v = malloc(*n * sizeof *v + 4);
	for (size_t i = 0; i < *n; i++)
		v[i] = (int32_t)json_integer_value(json_array_get(a, i));
	return v;
}

/* reads FIXTURES/name.json and name.f32; 0, or -1 */
static int load_case(const char *name, struct fcase *fc)
{
	char path[1024];
	memset(fc, 0, sizeof *fc);
	snprintf(path, sizeof path, "%s/%s.json", FIXTURES, name);
	json_error_t je;
	json_t *r = json_load_file(path, 0, &je);
	if (!r) {
		fprintf(stderr, "%s: %s\n", path, je.text);
		return -1;
	}
	snprintf(fc->model, sizeof fc->model, "%s/%s", FIXTURES,
		 json_string_value(json_object_get(r, "model")));
	fc->B = (int)json_integer_value(json_object_get(r, "B"));
	fc->T = (int)json_integer_value(json_object_get(r, "T"));
	size_t n;
	fc->ids = ints(json_object_get(r, "ids"), &n);
	fc->type_ids = ints(json_object_get(r, "type_ids"), &n);
	int32_t *m = ints(json_object_get(r, "mask"), &n);
	fc->mask = malloc(n);
	for (size_t i = 0; i < n; i++)
		fc->mask[i] = (uint8_t)m[i];
	free(m);
	snprintf(path, sizeof path, "%s/%s.f32", FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		json_decref(r);
		return -1;
	}
	json_t *outs = json_object_get(r, "outputs");
	fc->nout = (int)json_array_size(outs);
	for (int k = 0; k < fc->nout && k < 4; k++) {
		json_t *o = json_array_get(outs, k);
		snprintf(fc->outname[k], sizeof fc->outname[k], "%s",
			 json_string_value(json_object_get(o, "name")));
		json_t *sh = json_object_get(o, "shape");
		size_t ne = 1;
		for (size_t d = 0; d < json_array_size(sh); d++)
			ne *= (size_t)json_integer_value(json_array_get(sh, d));
		fc->outn[k] = ne;
		fc->out[k] = malloc(ne * sizeof(float));
		if (fread(fc->out[k], sizeof(float), ne, f) != ne) {
			fprintf(stderr, "%s: short\n", path);
			fclose(f);
			json_decref(r);
			return -1;
		}
	}
	fclose(f);
	json_decref(r);
	return 0;
}

static void free_case(struct fcase *fc)
{
	free(fc->ids);
	free(fc->type_ids);
	free(fc->mask);
	for (int k = 0; k < fc->nout; k++)
		free(fc->out[k]);
}

static int argmax(const float *v, int n)
{
	int best = 0;
	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/*
 * Compares rows of width W: ours (packed, or per example when per_example)
 * against the reference (B,T,W) at the real tokens, or (B,W).  Reports
 * the largest difference; checks it and (when want_argmax) every argmax.
 */
static void compare(const char *what, const struct fcase *fc,
		    const struct bert_batch *bb, const float *ours,
		    const float *ref, int W, int per_token, int want_argmax)
{
	double maxd = 0.0;
	int bad_arg = 0, rows = 0;
	for (int b = 0; b < fc->B; b++) {
		int nt = per_token ? bb->offs[b + 1] - bb->offs[b] : 1;
		for (int t = 0; t < nt; t++) {
			const float *o = per_token ?
				ours + (size_t)(bb->offs[b] + t) * W :
				ours + (size_t)b * W;
			const float *r = per_token ?
				ref + ((size_t)b * fc->T + t) * W :
				ref + (size_t)b * W;
			for (int i = 0; i < W; i++) {
				double d = fabs((double)o[i] - r[i]);
				if (d > maxd)
					maxd = d;
			}
			if (want_argmax && argmax(o, W) != argmax(r, W))
				bad_arg++;
			rows++;
		}
	}
	printf("test-bert: %s: %d rows, max |diff| %.3g%s\n", what, rows, maxd,
	       want_argmax ? (bad_arg ? ", ARGMAX DIFFERS" : ", same argmax") : "");
	CHECK(maxd <= 1e-4);
	if (want_argmax)
		CHECK_EQ_INT(bad_arg, 0);
}

static char err[1024];

/* the small models: logits of transformers */
static void test_small(const char *name, enum bert_head head)
{
	struct fcase fc;
	if (load_case(name, &fc)) {
		CHECK(0);
		return;
	}
	struct bert_model m;
	int rc = bert_load(&m, fc.model, BERT_HEAD_NONE, NULL, 0, 0, 0, err,
			   sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		free_case(&fc);
		return;
	}
	CHECK_EQ_INT(m.head, head);
	CHECK_EQ_INT(m.head_initialised, 0);
	struct bert_batch bb = { 0 };
	CHECK_EQ_INT(bert_pack(&bb, fc.ids, fc.type_ids, fc.mask, fc.B, fc.T,
			       err, sizeof err), 0);
	CHECK_EQ_INT(bert_check_batch(&m, &bb, err, sizeof err), 0);
	struct bert_acts a;
	bert_acts_init(&a);
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
	compare(name, &fc, &bb, a.logits, fc.out[0], m.nlabels,
		head == BERT_HEAD_TOKEN, 1);

	/* examples split over threads (OpenBLAS on one thread): the same
	 * logits as transformers */
	int blas = openblas_get_num_threads(), omp = omp_get_max_threads();
	openblas_set_num_threads(1);
	omp_set_num_threads(3);
	CHECK_EQ_INT(sift_cpu_split_threads(), 3);
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
	char what[64];
	snprintf(what, sizeof what, "%s, 3 threads", name);
	compare(what, &fc, &bb, a.logits, fc.out[0], m.nlabels,
		head == BERT_HEAD_TOKEN, 1);
	openblas_set_num_threads(blas);
	omp_set_num_threads(omp);

	/* the same bits on a second run (fixed thread count) */
	size_t M = head == BERT_HEAD_TOKEN ? (size_t)bb.N : (size_t)bb.B;
	float *first = malloc(M * m.nlabels * sizeof(float));
	memcpy(first, a.logits, M * m.nlabels * sizeof(float));
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
	CHECK(memcmp(first, a.logits, M * m.nlabels * sizeof(float)) == 0);

	/* training mode: dropout changes the logits, the same seed repeats */
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 1, 7), 0);
	float *drop = malloc(M * m.nlabels * sizeof(float));
	memcpy(drop, a.logits, M * m.nlabels * sizeof(float));
	CHECK(memcmp(first, drop, M * m.nlabels * sizeof(float)) != 0);
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 1, 7), 0);
	CHECK(memcmp(drop, a.logits, M * m.nlabels * sizeof(float)) == 0);

	/* one example at a time gives what the batch gave (packing) */
	double maxd = 0.0;
	struct bert_batch one = { 0 };
	for (int b = 0; b < fc.B; b++) {
		CHECK_EQ_INT(bert_pack(&one, fc.ids + (size_t)b * fc.T,
				       fc.type_ids + (size_t)b * fc.T,
				       fc.mask + (size_t)b * fc.T, 1, fc.T,
				       err, sizeof err), 0);
		CHECK_EQ_INT(bert_forward(&m, &one, &a, 0, 0), 0);
		size_t r0 = head == BERT_HEAD_TOKEN ? (size_t)bb.offs[b] : (size_t)b;
		for (size_t i = 0; i < (size_t)one.N * m.nlabels &&
		     (head == BERT_HEAD_TOKEN || i < (size_t)m.nlabels); i++) {
			double d = fabs(a.logits[i] - first[r0 * m.nlabels + i]);
			if (d > maxd)
				maxd = d;
		}
	}
	CHECK(maxd <= 1e-5);
	bert_batch_free(&one);
	free(first);
	free(drop);
	bert_acts_free(&a);
	bert_batch_free(&bb);
	bert_free(&m);
	free_case(&fc);
}

/* the real MiniLM: last_hidden_state and pooler_output of BertModel */
static void test_minilm(const char *name)
{
	struct fcase fc;
	if (load_case(name, &fc)) {
		CHECK(0);
		return;
	}
	char path[1100];
	snprintf(path, sizeof path, "%s/model.safetensors", fc.model);
	if (access(path, R_OK) != 0) {
		printf("SKIP: %s: MiniLM model not installed (make model)\n",
		       name);
		if (getenv("SIFT_TEST_STRICT") &&
		    !strcmp(getenv("SIFT_TEST_STRICT"), "1"))
			CHECK(0);
		free_case(&fc);
		return;
	}
	struct bert_model m;
	int rc = bert_load(&m, fc.model, BERT_HEAD_NONE, NULL, 0, 0, 0, err,
			   sizeof err);
	if (rc)
		fprintf(stderr, "%s\n", err);
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		free_case(&fc);
		return;
	}
	CHECK_EQ_INT(m.head, BERT_HEAD_NONE);
	CHECK(m.has_pooler);
	struct bert_batch bb = { 0 };
	CHECK_EQ_INT(bert_pack(&bb, fc.ids, fc.type_ids, fc.mask, fc.B, fc.T,
			       err, sizeof err), 0);
	struct bert_acts a;
	bert_acts_init(&a);
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
	char what[128];
	snprintf(what, sizeof what, "%s last_hidden_state", name);
	compare(what, &fc, &bb, a.out, fc.out[0], m.cfg.hidden, 1, 0);
	snprintf(what, sizeof what, "%s pooler_output", name);
	compare(what, &fc, &bb, a.pooled, fc.out[1], m.cfg.hidden, 0, 0);
	bert_acts_free(&a);
	bert_batch_free(&bb);
	bert_free(&m);
	free_case(&fc);
}

/* the largest |x - y| over n floats */
static double maxdiff(const float *x, const float *y, size_t n)
{
	double d = 0.0;
	for (size_t i = 0; i < n; i++)
		if (fabs(x[i] - y[i]) > d)
			d = fabs(x[i] - y[i]);
	return d;
}

/*
 * A sequence head runs its last layer past the attention over the [CLS]
 * rows alone (bert_acts: trim).  48 examples of 5 to 40 tokens, enough
 * rows for several row groups: the trimmed logits are the full layer's
 * within rounding, serially (training mode, no dropout) and in groups,
 * and the groups give the same bits for 1 and 3 threads.
 */
static void test_trim(const char *name)
{
	struct fcase fc;
	if (load_case(name, &fc)) {
		CHECK(0);
		return;
	}
	struct bert_model m;
	CHECK_EQ_INT(bert_load(&m, fc.model, BERT_HEAD_NONE, NULL, 0, 0, 0,
			       err, sizeof err), 0);
	CHECK_EQ_INT(m.head, BERT_HEAD_SEQ);
	enum { B = 48, T = 40 };
	int32_t *ids = calloc(B * T, sizeof *ids), *tt = calloc(B * T, sizeof *tt);
	uint8_t *mask = calloc(B * T, 1);
	struct sift_rng r;
	sift_rng_seed(&r, 11);
	for (int b = 0; b < B; b++) {
		int len = 5 + (int)sift_rng_below(&r, T - 4);
		for (int t = 0; t < len; t++) {
			ids[b * T + t] = 1 + (int)sift_rng_below(&r, m.cfg.vocab_size - 1);
			tt[b * T + t] = t >= len / 2;
			mask[b * T + t] = 1;
		}
	}
	struct bert_batch bb = { 0 };
	CHECK_EQ_INT(bert_pack(&bb, ids, tt, mask, B, T, err, sizeof err), 0);
	CHECK(sift_cpu_tiles(bb.N) >= 4);
	size_t nl = (size_t)B * m.nlabels;
	float *full = malloc(nl * sizeof(float)), *one = malloc(nl * sizeof(float));
	struct bert_acts a;
	bert_acts_init(&a);
	int blas = openblas_get_num_threads(), omp = omp_get_max_threads();
	openblas_set_num_threads(1);
	omp_set_num_threads(1);
	m.full_last = 1;
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
	CHECK_EQ_INT(a.trim, 0);
	memcpy(full, a.logits, nl * sizeof(float));
	m.full_last = 0;
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
	CHECK_EQ_INT(a.trim, 1);
	memcpy(one, a.logits, nl * sizeof(float));
	CHECK(maxdiff(one, full, nl) <= 1e-5);
	omp_set_num_threads(3);
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 0, 0), 0);
	CHECK(memcmp(one, a.logits, nl * sizeof(float)) == 0);
	omp_set_num_threads(1);
	/* the serial pass: training mode without dropout */
	m.cfg.hidden_dropout = m.cfg.attn_dropout = 0.0f;
	m.cfg.classifier_dropout = 0.0f;
	CHECK_EQ_INT(bert_forward(&m, &bb, &a, 1, 5), 0);
	CHECK_EQ_INT(a.trim, 1);
	CHECK(maxdiff(a.logits, full, nl) <= 1e-5);
	openblas_set_num_threads(blas);
	omp_set_num_threads(omp);
	bert_acts_free(&a);
	bert_batch_free(&bb);
	bert_free(&m);
	free(full); free(one); free(ids); free(tt); free(mask);
	free_case(&fc);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(p, 1, n, f);
	fclose(f);
}

/* fp16 and bf16 tensors convert exactly; a bad header is an error */
static void test_safetensors_dtypes(const char *dir)
{
	const char *hdr = "{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
		"\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[10,14]}}";
	unsigned char buf[256];
	size_t hl = strlen(hdr);
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
	memcpy(buf + 8, hdr, hl);
	/* 1.0, -2.0, 0.5, the smallest subnormal, 65504; bf16 1.0, -3.0 */
	uint16_t h[7] = { 0x3c00, 0xc000, 0x3800, 0x0001, 0x7bff, 0x3f80, 0xc040 };
	for (int i = 0; i < 7; i++) {
		buf[8 + hl + 2 * i] = h[i] & 0xff;
		buf[8 + hl + 2 * i + 1] = h[i] >> 8;
	}
	char path[512];
	snprintf(path, sizeof path, "%s/dtypes.safetensors", dir);
	write_file(path, buf, 8 + hl + 14);
	struct sift_st_file f;
	CHECK_EQ_INT(sift_st_open(&f, path, err, sizeof err), 0);
	const struct sift_st_tensor *t = sift_st_find(&f, "h");
	float out[5];
	CHECK(t && sift_st_to_f32(t, out) == 0);
	if (t) {
		CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.5f);
		CHECK(out[3] == 5.9604644775390625e-08f && out[4] == 65504.0f);
	}
	t = sift_st_find(&f, "b");
	CHECK(t && sift_st_to_f32(t, out) == 0);
	if (t)
		CHECK(out[0] == 1.0f && out[1] == -3.0f);
	sift_st_close(&f);
	/* offsets past the end of the file */
	write_file(path, buf, 8 + hl + 6);
	CHECK_EQ_INT(sift_st_open(&f, path, err, sizeof err), -1);
	CHECK(strstr(err, "tensor h: data offsets out of range") ||
	      strstr(err, "tensor b: data offsets out of range"));
	unlink(path);
}

static void copy_config(const char *from, const char *todir)
{
	char a[1024], b[1024], cmd[2200];
	snprintf(a, sizeof a, "%s/config.json", from);
	snprintf(b, sizeof b, "%s/config.json", todir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
	CHECK_EQ_INT(system(cmd), 0);
}

/* saving, reloading, and the errors of a broken checkpoint */
static void test_save_and_errors(const char *dir)
{
	char model[512];
	snprintf(model, sizeof model, "%s/tok-model", FIXTURES);
	struct bert_model m, m2;
	CHECK_EQ_INT(bert_load(&m, model, BERT_HEAD_NONE, NULL, 0, 0, 0, err,
			       sizeof err), 0);
	char out[512];
	snprintf(out, sizeof out, "%s/saved", dir);
	CHECK_EQ_INT(bert_save(&m, out, err, sizeof err), 0);
	CHECK_EQ_INT(bert_load(&m2, out, BERT_HEAD_NONE, NULL, 0, 0, 0, err,
			       sizeof err), 0);
	CHECK_EQ_INT(m2.head, BERT_HEAD_TOKEN);
	CHECK_EQ_INT(m2.nparams, m.nparams);
	CHECK(memcmp(m.params, m2.params, m.nparams * sizeof(float)) == 0);
	CHECK_STR(m2.labels[1], "B-PER");
	bert_free(&m2);

	/* the checkpoint written again without one tensor, and with one of
	 * the wrong shape */
	struct sift_st_out t[256];
	char names[256][112];
	int n = 0, skip = -1, bad = -1;
	for (int i = 0; i < m.ntensors && n < 256; i++) {
		const struct bert_tensor *bt = &m.tensors[i];
		if (!strcmp(bt->name, "encoder.layer.1.output.dense.bias"))
			skip = i;
		if (!strcmp(bt->name, "classifier.weight"))
			bad = n;
		snprintf(names[n], sizeof names[n], "%s%s",
			 strncmp(bt->name, "classifier", 10) ? "bert." : "",
			 bt->name);
		t[n].name = names[n];
		t[n].ndim = bt->ndim;
		t[n].shape[0] = bt->shape[0];
		t[n].shape[1] = bt->shape[1];
		t[n].data = m.params + bt->off;
		n++;
	}
	CHECK(skip >= 0 && bad >= 0);
	char path[600];
	snprintf(out, sizeof out, "%s/broken", dir);
	mkdir(out, 0777);
	copy_config(model, out);
	snprintf(path, sizeof path, "%s/model.safetensors", out);
	/* without encoder.layer.1.output.dense.bias */
	struct sift_st_out keep = t[skip];
	memmove(&t[skip], &t[skip + 1], (n - skip - 1) * sizeof t[0]);
	CHECK_EQ_INT(sift_st_write(path, t, n - 1, err, sizeof err), 0);
	CHECK_EQ_INT(bert_load(&m2, out, BERT_HEAD_NONE, NULL, 0, 0, 0, err,
			       sizeof err), -1);
	CHECK(strstr(err, "tensor bert.encoder.layer.1.output.dense.bias missing") != NULL);
	memmove(&t[skip + 1], &t[skip], (n - skip - 1) * sizeof t[0]);
	t[skip] = keep;
	/* classifier.weight (5,32) written as (4,32) */
	t[bad].shape[0] = 4;
	CHECK_EQ_INT(sift_st_write(path, t, n, err, sizeof err), 0);
	CHECK_EQ_INT(bert_load(&m2, out, BERT_HEAD_NONE, NULL, 0, 0, 0, err,
			       sizeof err), -1);
	CHECK(strstr(err, "classifier.weight has 4 rows") != NULL ||
	      strstr(err, "tensor classifier.weight has shape (4,32), expected (5,32)") != NULL);

	/* an encoder without a head (BertModel layout, no prefix): a head
	 * needs a seed, and the seed gives transformers' initialisation */
	m.head = BERT_HEAD_NONE;	/* save the encoder only */
	int nt = m.ntensors;
	m.ntensors -= 2;
	snprintf(out, sizeof out, "%s/encoder", dir);
	CHECK_EQ_INT(bert_save(&m, out, err, sizeof err), 0);
	m.ntensors = nt;
	m.head = BERT_HEAD_TOKEN;
	char *labels[3] = { "O", "B-X", "I-X" };
	CHECK_EQ_INT(bert_load(&m2, out, BERT_HEAD_TOKEN, labels, 3, 0, 0, err,
			       sizeof err), -1);
	CHECK(strstr(err, "no trained head (classifier.weight missing)") != NULL);
	CHECK_EQ_INT(bert_load(&m2, out, BERT_HEAD_TOKEN, labels, 3, 1, 42, err,
			       sizeof err), 0);
	CHECK(m2.head_initialised);
	CHECK_EQ_INT(m2.nlabels, 3);
	CHECK_STR(m2.labels[2], "I-X");
	/* the encoder came through unchanged */
	CHECK(memcmp(m2.p.wte, m.p.wte, sizeof(float) * 1000 * 32) == 0);
	CHECK(memcmp(m2.p.layer[1].ln2_b, m.p.layer[1].ln2_b, sizeof(float) * 32) == 0);
	/* weights: normal(0, 0.02) from seed 42, biases zero */
	struct sift_rng r;
	sift_rng_seed(&r, 42);
	int same = 1;
	double ss = 0.0;
	for (int i = 0; i < 3 * 32; i++) {
		float w = sift_rng_normal(&r) * 0.02f;
		same &= m2.p.cls_w[i] == w;
		ss += (double)m2.p.cls_w[i] * m2.p.cls_w[i];
	}
	CHECK(same);
	CHECK(sqrt(ss / 96) > 0.01 && sqrt(ss / 96) < 0.03);
	CHECK(m2.p.cls_b[0] == 0.0f && m2.p.cls_b[2] == 0.0f);
	bert_free(&m2);
	bert_free(&m);
}

static void write_text(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

/* config.json: what is read, what is refused */
static void test_config(const char *dir)
{
	char d[512], path[600];
	snprintf(d, sizeof d, "%s/cfg", dir);
	mkdir(d, 0777);
	snprintf(path, sizeof path, "%s/config.json", d);
	struct bert_config c;
	write_text(path, "{\"vocab_size\": 10, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
		   " \"num_attention_heads\": 2, \"intermediate_size\": 16,"
		   " \"hidden_act\": \"gelu\", \"num_labels\": 3, \"layer_norm_eps\": 1e-5,"
		   " \"architectures\": [\"BertForSequenceClassification\"]}");
	CHECK_EQ_INT(bert_config_load(&c, d, err, sizeof err), 0);
	CHECK_EQ_INT(c.max_pos, 512);
	CHECK_EQ_INT(c.type_vocab, 2);
	CHECK(c.ln_eps == 1e-5f);
	CHECK(c.classifier_dropout < 0);
	CHECK_EQ_INT(c.nlabels, 3);
	if (c.nlabels == 3)
		CHECK_STR(c.labels[2], "LABEL_2");
	CHECK_EQ_INT(bert_head_of_arch(c.arch), BERT_HEAD_SEQ);
	bert_config_free(&c);
	write_text(path, "{\"vocab_size\": 10, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
		   " \"num_attention_heads\": 2, \"intermediate_size\": 16,"
		   " \"hidden_act\": \"relu\"}");
	CHECK_EQ_INT(bert_config_load(&c, d, err, sizeof err), -1);
	char want[700];
	snprintf(want, sizeof want, "%s: hidden_act relu is not supported (only gelu)", path);
	CHECK_STR(err, want);
	write_text(path, "{\"vocab_size\": 10, \"hidden_size\": 8,"
		   " \"num_attention_heads\": 2, \"intermediate_size\": 16}");
	CHECK_EQ_INT(bert_config_load(&c, d, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: num_hidden_layers missing", path);
	CHECK_STR(err, want);
}

/* bert_pack: right padding only */
static void test_pack(void)
{
	int32_t ids[6] = { 101, 5, 102, 101, 102, 0 };
	uint8_t mask[6] = { 1, 1, 1, 1, 1, 0 };
	struct bert_batch bb = { 0 };
	CHECK_EQ_INT(bert_pack(&bb, ids, NULL, mask, 2, 3, err, sizeof err), 0);
	CHECK_EQ_INT(bb.N, 5);
	CHECK_EQ_INT(bb.offs[1], 3);
	CHECK_EQ_INT(bb.offs[2], 5);
	CHECK_EQ_INT(bb.pos[4], 1);
	CHECK_EQ_INT(bb.cls_rows[1], 3);
	uint8_t hole[6] = { 1, 0, 1, 1, 1, 0 };
	CHECK_EQ_INT(bert_pack(&bb, ids, NULL, hole, 2, 3, err, sizeof err), -1);
	CHECK_STR(err, "example 0: mask is not ones then zeros");
	uint8_t empty[6] = { 1, 1, 1, 0, 0, 0 };
	CHECK_EQ_INT(bert_pack(&bb, ids, NULL, empty, 2, 3, err, sizeof err), -1);
	CHECK_STR(err, "example 1: no tokens");
	bert_batch_free(&bb);
}

int main(void)
{
	char dir[] = "/tmp/test-bert-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_small("tok-ner", BERT_HEAD_TOKEN);
	test_small("cls-single", BERT_HEAD_SEQ);
	test_small("cls-pair", BERT_HEAD_SEQ);
	test_trim("cls-single");
	test_minilm("minilm-ner");
	test_minilm("minilm-pair");
	test_safetensors_dtypes(dir);
	test_save_and_errors(dir);
	test_config(dir);
	test_pack();
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "test-bert: could not remove %s\n", dir);
	return check_done("test-bert");
}
