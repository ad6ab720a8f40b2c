/* bert.c: loads a Hugging Face BERT checkpoint into one fp32 buffer and runs its forward pass. */
#include <errno.h>
#include <math.h>		/* defines: isfinite */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bert.h"
#include "modelfile.h"	/* defines: sift_model_json */
#include "rng.h"		/* defines: sift_rng_normal, sift_hash64 */
#include "safetensors.h"
#include "lora.h"		/* defines: lora_forward, lora_reserve, lora_free */
#include "quant.h"	/* defines: sift_q8_linear_forward, sift_q8_model_free */

/* ---- config.json ---- */

static int get_int(json_t *root, const char *key, int def, int *out,
		   const char *path, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);
	if (!v || json_is_null(v)) {
		if (def < 0) {
			snprintf(err, errlen, "%s: %s missing", path, key);
			return -1;
		}
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1 << 30) {
		snprintf(err, errlen, "%s: %s is not a count", path, key);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static float get_num(json_t *root, const char *key, float def)
{
	json_t *v = json_object_get(root, key);
	return json_is_number(v) ? (float)json_number_value(v) : def;
}

/* a number that must be positive and finite once a float (layer_norm_eps:
 * 0, below 0, NaN or past FLT_MAX would make every output NaN) */
static int get_pos(json_t *root, const char *key, float def, float *out,
		   const char *path, char *err, size_t errlen)
{
	json_t *v = json_object_get(root, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	float x = json_is_number(v) ? (float)json_number_value(v) : 0.0f;
	if (!(x > 0.0f) || !isfinite(x)) {
		if (json_is_number(v))
			snprintf(err, errlen, "%s: %s %g is not a positive finite float",
				 path, key, json_number_value(v));
		else
			snprintf(err, errlen, "%s: %s is not a number", path, key);
		return -1;
	}
	*out = x;
	return 0;
}

void bert_config_free(struct bert_config *c)
{
	for (int i = 0; i < c->nlabels; i++)
		free(c->labels[i]);
	free(c->labels);
	json_decref(c->json);
	memset(c, 0, sizeof *c);
}

int bert_config_load(struct bert_config *c, const char *dir, char *err,
		     size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/config.json", dir);
	return bert_config_read(c, path, err, errlen);
}

int bert_config_read(struct bert_config *c, const char *path, char *err,
		     size_t errlen)
{
	memset(c, 0, sizeof *c);
	json_t *root = sift_model_json(path, err, errlen);
	if (!root)
		return -1;
	c->json = root;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		goto fail;
	}
	json_t *mt = json_object_get(root, "model_type");
	if (json_is_string(mt) && strcmp(json_string_value(mt), "bert")) {
		snprintf(err, errlen, "%s: model_type %s is not bert", path,
			 json_string_value(mt));
		goto fail;
	}
	if (get_int(root, "vocab_size", -1, &c->vocab_size, path, err, errlen) ||
	    get_int(root, "hidden_size", -1, &c->hidden, path, err, errlen) ||
	    get_int(root, "num_hidden_layers", -1, &c->layers, path, err, errlen) ||
	    get_int(root, "num_attention_heads", -1, &c->heads, path, err, errlen) ||
	    get_int(root, "intermediate_size", -1, &c->intermediate, path, err, errlen) ||
	    get_int(root, "max_position_embeddings", 512, &c->max_pos, path, err, errlen) ||
	    get_int(root, "type_vocab_size", 2, &c->type_vocab, path, err, errlen) ||
	    get_int(root, "pad_token_id", 0, &c->pad_token_id, path, err, errlen))
		goto fail;
	/* a size of 0 names its key; then the heads must divide the width */
	const struct { const char *key; int v; } sz[] = {
		{ "vocab_size", c->vocab_size }, { "hidden_size", c->hidden },
		{ "num_hidden_layers", c->layers },
		{ "num_attention_heads", c->heads },
		{ "intermediate_size", c->intermediate },
		{ "max_position_embeddings", c->max_pos },
		{ "type_vocab_size", c->type_vocab },
	};
	for (size_t i = 0; i < sizeof sz / sizeof *sz; i++)
		if (sz[i].v < 1) {
			snprintf(err, errlen, "%s: %s is 0", path, sz[i].key);
			goto fail;
		}
	if (c->hidden % c->heads) {
		snprintf(err, errlen,
			 "%s: hidden_size %d is not a multiple of num_attention_heads %d",
			 path, c->hidden, c->heads);
		goto fail;
	}
	if (get_pos(root, "layer_norm_eps", 1e-12f, &c->ln_eps, path, err, errlen))
		goto fail;
	c->init_range = get_num(root, "initializer_range", 0.02f);
	c->hidden_dropout = get_num(root, "hidden_dropout_prob", 0.1f);
	c->attn_dropout = get_num(root, "attention_probs_dropout_prob", 0.1f);
	c->classifier_dropout = get_num(root, "classifier_dropout", -1.0f);
	json_t *act = json_object_get(root, "hidden_act");
	if (act && (!json_is_string(act) ||
		    strcmp(json_string_value(act), "gelu"))) {
		snprintf(err, errlen,
			 "%s: hidden_act %s is not supported (only gelu)", path,
			 json_is_string(act) ? json_string_value(act) : "?");
		goto fail;
	}
	json_t *pe = json_object_get(root, "position_embedding_type");
	if (json_is_string(pe) && strcmp(json_string_value(pe), "absolute")) {
		snprintf(err, errlen,
			 "%s: position_embedding_type %s is not supported",
			 path, json_string_value(pe));
		goto fail;
	}
	json_t *arch = json_object_get(root, "architectures");
	if (json_is_array(arch) && json_is_string(json_array_get(arch, 0)))
		snprintf(c->arch, sizeof c->arch, "%s",
			 json_string_value(json_array_get(arch, 0)));
	json_t *id2 = json_object_get(root, "id2label");
	if (json_is_object(id2) && json_object_size(id2) > 0) {
		int n = (int)json_object_size(id2);
		c->labels = calloc(n, sizeof *c->labels);
		if (!c->labels) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		c->nlabels = n;
		const char *k;
		json_t *v;
		json_object_foreach(id2, k, v) {
			char *end;
			long id = strtol(k, &end, 10);
			if (*end || end == k || id < 0 || id >= n ||
			    !json_is_string(v) || c->labels[id]) {
				snprintf(err, errlen,
					 "%s: id2label: ids must be 0..%d, each once",
					 path, n - 1);
				goto fail;
			}
			c->labels[id] = strdup(json_string_value(v));
		}
	} else if (json_integer_value(json_object_get(root, "num_labels")) > 0) {
		/* labels without names, as transformers names them; the
		 * range is checked before the value becomes an int */
		json_int_t n = json_integer_value(json_object_get(root, "num_labels"));
		if (n > 1 << 20) {
			snprintf(err, errlen, "%s: num_labels %lld", path, (long long)n);
			goto fail;
		}
		c->labels = calloc(n, sizeof *c->labels);
		if (!c->labels) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		c->nlabels = (int)n;
		for (int i = 0; i < c->nlabels; i++) {
			char nm[32];
			snprintf(nm, sizeof nm, "LABEL_%d", i);
			if (!(c->labels[i] = strdup(nm))) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
		}
	}
	return 0;
fail:
	bert_config_free(c);
	return -1;
}

enum bert_head bert_head_of_arch(const char *arch)
{
	if (!strcmp(arch, "BertForTokenClassification"))
		return BERT_HEAD_TOKEN;
	if (!strcmp(arch, "BertForSequenceClassification"))
		return BERT_HEAD_SEQ;
	if (!strcmp(arch, "BertForMaskedLM"))
		return BERT_HEAD_MLM;
	return BERT_HEAD_NONE;
}

/* ---- the parameter layout ---- */

static void add_tensor(struct bert_model *m, size_t *off, const char *name,
		       int64_t d0, int64_t d1, int head)
{
	struct bert_tensor *t = &m->tensors[m->ntensors++];
	snprintf(t->name, sizeof t->name, "%s", name);
	t->off = *off;
	t->ndim = d1 ? 2 : 1;
	t->shape[0] = d0;
	t->shape[1] = d1;
	t->head = head;
	*off += (size_t)d0 * (size_t)(d1 ? d1 : 1);
}

/* builds the tensor table and the offsets; the views come later */
static void layout(struct bert_model *m)
{
	const struct bert_config *c = &m->cfg;
	int64_t C = c->hidden, I = c->intermediate;
	size_t off = 0;
	char nm[96];
	m->tensors = calloc((size_t)16 * c->layers + 16, sizeof *m->tensors);
	m->ntensors = 0;
	add_tensor(m, &off, "embeddings.word_embeddings.weight", c->vocab_size, C, 0);
	add_tensor(m, &off, "embeddings.position_embeddings.weight", c->max_pos, C, 0);
	add_tensor(m, &off, "embeddings.token_type_embeddings.weight", c->type_vocab, C, 0);
	add_tensor(m, &off, "embeddings.LayerNorm.weight", C, 0, 0);
	add_tensor(m, &off, "embeddings.LayerNorm.bias", C, 0, 0);
	static const char *const qkv[3] = { "query", "key", "value" };
	for (int l = 0; l < c->layers; l++) {
		for (int i = 0; i < 3; i++) {
			snprintf(nm, sizeof nm, "encoder.layer.%d.attention.self.%s.weight", l, qkv[i]);
			add_tensor(m, &off, nm, C, C, 0);
		}
		for (int i = 0; i < 3; i++) {
			snprintf(nm, sizeof nm, "encoder.layer.%d.attention.self.%s.bias", l, qkv[i]);
			add_tensor(m, &off, nm, C, 0, 0);
		}
#define LT(fmt, d0, d1) do { snprintf(nm, sizeof nm, "encoder.layer.%d." fmt, l); \
		add_tensor(m, &off, nm, d0, d1, 0); } while (0)
		LT("attention.output.dense.weight", C, C);
		LT("attention.output.dense.bias", C, 0);
		LT("attention.output.LayerNorm.weight", C, 0);
		LT("attention.output.LayerNorm.bias", C, 0);
		LT("intermediate.dense.weight", I, C);
		LT("intermediate.dense.bias", I, 0);
		LT("output.dense.weight", C, I);
		LT("output.dense.bias", C, 0);
		LT("output.LayerNorm.weight", C, 0);
		LT("output.LayerNorm.bias", C, 0);
#undef LT
	}
	if (m->has_pooler) {
		add_tensor(m, &off, "pooler.dense.weight", C, C, 1);
		add_tensor(m, &off, "pooler.dense.bias", C, 0, 1);
	}
	if (m->head == BERT_HEAD_MLM) {
		/* BertForMaskedLM's cls.predictions; its decoder is wte */
		add_tensor(m, &off, "cls.predictions.transform.dense.weight", C, C, 1);
		add_tensor(m, &off, "cls.predictions.transform.dense.bias", C, 0, 1);
		add_tensor(m, &off, "cls.predictions.transform.LayerNorm.weight", C, 0, 1);
		add_tensor(m, &off, "cls.predictions.transform.LayerNorm.bias", C, 0, 1);
		add_tensor(m, &off, "cls.predictions.bias", c->vocab_size, 0, 1);
	} else if (m->head != BERT_HEAD_NONE) {
		add_tensor(m, &off, "classifier.weight", m->nlabels, C, 1);
		add_tensor(m, &off, "classifier.bias", m->nlabels, 0, 1);
	}
	m->nparams = off;
}

/* the named views of a buffer laid out by layout() */
static void views(const struct bert_model *m, float *base,
		  struct bert_params *p)
{
	const struct bert_tensor *t = m->tensors;
	int k = 0;
	p->wte = base + t[k++].off;
	p->wpe = base + t[k++].off;
	p->wtt = base + t[k++].off;
	p->emb_ln_w = base + t[k++].off;
	p->emb_ln_b = base + t[k++].off;
	for (int l = 0; l < m->cfg.layers; l++) {
		struct bert_layer *L = &p->layer[l];
		L->qkv_w = base + t[k].off;
		k += 3;
		L->qkv_b = base + t[k].off;
		k += 3;
		L->attout_w = base + t[k++].off;
		L->attout_b = base + t[k++].off;
		L->ln1_w = base + t[k++].off;
		L->ln1_b = base + t[k++].off;
		L->fc_w = base + t[k++].off;
		L->fc_b = base + t[k++].off;
		L->fcproj_w = base + t[k++].off;
		L->fcproj_b = base + t[k++].off;
		L->ln2_w = base + t[k++].off;
		L->ln2_b = base + t[k++].off;
	}
	p->pool_w = p->pool_b = p->cls_w = p->cls_b = NULL;
	p->mlm_w = p->mlm_b = p->mlm_ln_w = p->mlm_ln_b = p->mlm_bias = NULL;
	if (m->has_pooler) {
		p->pool_w = base + t[k++].off;
		p->pool_b = base + t[k++].off;
	}
	if (m->head == BERT_HEAD_MLM) {
		p->mlm_w = base + t[k++].off;
		p->mlm_b = base + t[k++].off;
		p->mlm_ln_w = base + t[k++].off;
		p->mlm_ln_b = base + t[k++].off;
		p->mlm_bias = base + t[k++].off;
	} else if (m->head != BERT_HEAD_NONE) {
		p->cls_w = base + t[k++].off;
		p->cls_b = base + t[k++].off;
	}
}

/* ---- loading ---- */

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* whether a tensor of ours sits at the top level of the file, beside
 * the encoder's prefix: the classifier and BertForMaskedLM's cls.* (the
 * pooler sits with the encoder) */
static int top_level(const char *name)
{
	return !strncmp(name, "classifier", 10) || !strncmp(name, "cls.", 4);
}

/* the checkpoint tensor for our name, trying the encoder prefix and the
 * old gamma/beta names of LayerNorm */
static const struct sift_st_tensor *
find(const struct sift_st_file *f, const char *prefix, const char *name,
     int head)
{
	char nm[256];
	const struct sift_st_tensor *t;
	if (head && top_level(name)) {
		if ((t = sift_st_find(f, name)))
			return t;
		if (!strncmp(name, "cls.", 4))
			prefix = "";	/* for the old names below */
	}
	snprintf(nm, sizeof nm, "%s%s", prefix, name);
	if ((t = sift_st_find(f, nm)))
		return t;
	if (ends_with(name, "LayerNorm.weight") ||
	    ends_with(name, "LayerNorm.bias")) {
		size_t n = strlen(nm);
		if (ends_with(nm, ".weight"))
			snprintf(nm + n - 6, sizeof nm - (n - 6), "gamma");
		else
			snprintf(nm + n - 4, sizeof nm - (n - 4), "beta");
		return sift_st_find(f, nm);
	}
	return NULL;
}

size_t bert_grow(struct bert_model *m, size_t extra, int extra_tensors)
{
	float *p = realloc(m->params, (m->nparams + extra) * sizeof *p);
	if (!p)
		return (size_t)-1;
	memset(p + m->nparams, 0, extra * sizeof *p);
	m->params = p;
	struct bert_tensor *t = realloc(m->tensors, (size_t)(m->ntensors +
		extra_tensors) * sizeof *t);
	if (!t)
		return (size_t)-1;
	m->tensors = t;
	size_t off = m->nparams;
	m->nparams += extra;
	views(m, m->params, &m->p);
	m->dparams = m->params;
	m->dp = m->p;
	return off;
}

void bert_free(struct bert_model *m)
{
	if (m->lora) {
		lora_free(m->lora);
		free(m->lora);
	}
	sift_q8_model_free(m->q8);
	if (m->be && m->dparams && m->dparams != m->params)
		m->be->free(m->dparams);
	if (m->be && m->ce_dweight && m->ce_dweight != m->ce_weight)
		m->be->free(m->ce_dweight);
	free(m->ce_weight);
	free(m->params);
	if (m->dp.layer != m->p.layer)
		free(m->dp.layer);
	free(m->p.layer);
	free(m->tensors);
	for (int i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->labels);
	bert_config_free(&m->cfg);
	memset(m, 0, sizeof *m);
}

static void init_normal(float *w, size_t n, float std, struct sift_rng *r)
{
	for (size_t i = 0; i < n; i++)
		w[i] = sift_rng_normal(r) * std;
}

/* a head tensor as transformers' _init_weights makes it: normal(0,
 * std) weights, LayerNorm weights 1, biases 0 (cls.predictions.bias
 * included) */
static void init_head(const struct bert_tensor *bt, float *dst, float std,
		      struct sift_rng *r)
{
	size_t ne = bert_tensor_numel(bt);
	if (bt->ndim == 2)
		init_normal(dst, ne, std, r);
	else if (ends_with(bt->name, "LayerNorm.weight"))
		for (size_t i = 0; i < ne; i++)
			dst[i] = 1.0f;
	else
		memset(dst, 0, ne * sizeof(float));
}

int bert_load(struct bert_model *m, const char *dir, enum bert_head head,
	      char *const *labels, int nlabels, int allow_init,
	      uint64_t init_seed, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	if (bert_config_load(&m->cfg, dir, err, errlen))
		return -1;
	char path[4096];
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	struct sift_st_file f;
	if (sift_st_open(&f, path, err, errlen)) {
		bert_config_free(&m->cfg);
		return -1;
	}
	/* the encoder's prefix: "", "bert.", or whatever the layout uses */
	char prefix[128] = "";
	int found = 0;
	for (int i = 0; i < f.ntensors; i++) {
		const char *nm = f.t[i].name;
		if (ends_with(nm, "embeddings.word_embeddings.weight")) {
			size_t n = strlen(nm) - strlen("embeddings.word_embeddings.weight");
			if (n < sizeof prefix) {
				memcpy(prefix, nm, n);
				prefix[n] = 0;
				found = 1;
				break;
			}
		}
	}
	if (!found) {
		snprintf(err, errlen,
			 "%s: tensor embeddings.word_embeddings.weight missing",
			 path);
		goto fail;
	}
	m->head = head != BERT_HEAD_NONE ? head : bert_head_of_arch(m->cfg.arch);
	const struct sift_st_tensor *cw = NULL;
	int classifier = m->head == BERT_HEAD_TOKEN || m->head == BERT_HEAD_SEQ;
	if (classifier)
		cw = find(&f, prefix, "classifier.weight", 1);
	/* the labels: the caller's, else the config's (the MLM head has
	 * none: its outputs are the vocabulary) */
	if (classifier) {
		char *const *src = labels ? labels : m->cfg.labels;
		int n = labels ? nlabels : m->cfg.nlabels;
		if (!labels && cw && cw->ndim == 2 && cw->shape[0] != n) {
			snprintf(err, errlen,
				 "%s: id2label has %d labels but classifier.weight has %lld rows",
				 dir, n, (long long)cw->shape[0]);
			goto fail;
		}
		if (n < 1) {
			snprintf(err, errlen, "%s: no labels for the head", dir);
			goto fail;
		}
		if (labels && cw && m->cfg.nlabels > 0) {
			/* a trained head must mean the same labels */
			int same = m->cfg.nlabels == n;
			for (int i = 0; same && i < n; i++)
				same = !strcmp(m->cfg.labels[i], labels[i]);
			if (!same) {
				snprintf(err, errlen,
					 "%s: the labels of the model (id2label) differ from the labels wanted",
					 dir);
				goto fail;
			}
		}
		m->labels = calloc(n, sizeof *m->labels);
		m->nlabels = n;
		for (int i = 0; i < n; i++)
			m->labels[i] = strdup(src[i]);
	}
	m->nout = m->head == BERT_HEAD_MLM ? m->cfg.vocab_size : m->nlabels;
	/* the MLM decoder is the word embeddings; a checkpoint whose own
	 * decoder weight is not would be trained as another model */
	if (m->head == BERT_HEAD_MLM &&
	    json_is_false(json_object_get(m->cfg.json, "tie_word_embeddings"))) {
		snprintf(err, errlen,
			 "%s: tie_word_embeddings is false; only a decoder tied to the word embeddings is supported",
			 dir);
		goto fail;
	}
	/* transformers' token and MLM heads have no pooler
	 * (add_pooling_layer=False): one in the file is not loaded; a
	 * sequence head needs one */
	m->has_pooler = m->head == BERT_HEAD_SEQ ||
		(m->head == BERT_HEAD_NONE &&
		 find(&f, prefix, "pooler.dense.weight", 1) != NULL);
	layout(m);
	m->params = malloc(m->nparams * sizeof(float));
	m->p.layer = calloc(m->cfg.layers, sizeof *m->p.layer);
	if (!m->params || !m->p.layer || !m->tensors) {
		snprintf(err, errlen, "%s: out of memory for %zu parameters",
			 dir, m->nparams);
		goto fail;
	}
	views(m, m->params, &m->p);
	struct sift_rng rng;
	sift_rng_seed(&rng, init_seed);
	for (int i = 0; i < m->ntensors; i++) {
		struct bert_tensor *bt = &m->tensors[i];
		float *dst = m->params + bt->off;
		const struct sift_st_tensor *t = find(&f, prefix, bt->name, bt->head);
		if (!t) {
			if (!bt->head) {
				snprintf(err, errlen, "%s: tensor %s%s missing",
					 path, prefix, bt->name);
				goto fail;
			}
			if (!allow_init) {
				snprintf(err, errlen,
					 "%s: the model has no trained head (%s missing); give a seed to initialise one",
					 path, bt->name);
				goto fail;
			}
			init_head(bt, dst, m->cfg.init_range, &rng);
			m->head_initialised = 1;
			continue;
		}
		int ok = t->ndim == bt->ndim && t->shape[0] == bt->shape[0] &&
			(bt->ndim == 1 || t->shape[1] == bt->shape[1]);
		if (!ok) {
			char got[64] = "", want[64];
			for (int d = 0; d < t->ndim; d++)
				snprintf(got + strlen(got), sizeof got - strlen(got),
					 "%s%lld", d ? "," : "", (long long)t->shape[d]);
			if (bt->ndim == 2)
				snprintf(want, sizeof want, "%lld,%lld",
					 (long long)bt->shape[0], (long long)bt->shape[1]);
			else
				snprintf(want, sizeof want, "%lld",
					 (long long)bt->shape[0]);
			snprintf(err, errlen,
				 "%s: tensor %s has shape (%s), expected (%s)",
				 path, t->name, got, want);
			goto fail;
		}
		if (sift_st_to_f32(t, dst)) {
			snprintf(err, errlen,
				 "%s: tensor %s has dtype %s (F32, F16 or BF16 wanted)",
				 path, t->name, t->dtype_name);
			goto fail;
		}
	}
	sift_st_close(&f);
	m->be = &sift_backend_cpu;
	m->dparams = m->params;
	m->dp = m->p;		/* on the CPU dp is p, layer array included */
	return 0;
fail:
	sift_st_close(&f);
	bert_free(m);
	return -1;
}

/* the parameters of config c with head (and the pooler a sequence head
 * brings), counted in double so that no size overflows */
static double count_params(const struct bert_config *c, enum bert_head head,
			   int nlabels)
{
	double C = c->hidden, I = c->intermediate;
	double n = C * ((double)c->vocab_size + c->max_pos + c->type_vocab + 2);
	n += c->layers * (4 * C * C + 2 * C * I + 9 * C + I);
	if (head == BERT_HEAD_SEQ)
		n += C * C + C;
	if (head == BERT_HEAD_MLM)
		n += C * C + 3 * C + c->vocab_size;
	else if (head != BERT_HEAD_NONE)
		n += (double)nlabels * (C + 1);
	return n;
}

int bert_new(struct bert_model *m, struct bert_config *c, enum bert_head head,
	     char *const *labels, int nlabels, uint64_t init_seed,
	     double max_params, const char *name, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->cfg = *c;
	memset(c, 0, sizeof *c);
	m->head = head;
	if (head == BERT_HEAD_MLM)
		nlabels = 0;
	else if (head != BERT_HEAD_NONE && nlabels < 1) {
		snprintf(err, errlen, "%s: no labels for the head", name);
		goto fail;
	}
	double n = count_params(&m->cfg, head, nlabels);
	if (max_params > 0 && n > max_params) {
		snprintf(err, errlen,
			 "%s: %.3g parameters (%d layers of hidden_size %d), more than the %.3g allowed",
			 name, n, m->cfg.layers, m->cfg.hidden, max_params);
		goto fail;
	}
	m->has_pooler = head == BERT_HEAD_SEQ;
	m->nlabels = head != BERT_HEAD_NONE ? nlabels : 0;
	m->nout = head == BERT_HEAD_MLM ? m->cfg.vocab_size : m->nlabels;
	if (m->nlabels) {
		m->labels = calloc(nlabels, sizeof *m->labels);
		if (!m->labels)
			goto oom;
		for (int i = 0; i < nlabels; i++)
			if (!(m->labels[i] = strdup(labels[i])))
				goto oom;
	}
	layout(m);
	m->params = calloc(m->nparams, sizeof(float));
	m->p.layer = calloc(m->cfg.layers, sizeof *m->p.layer);
	if (!m->params || !m->p.layer || !m->tensors)
		goto oom;
	views(m, m->params, &m->p);
	/* the head as bert_load initialises a missing one: normal weights,
	 * LayerNorm weights 1, zero biases, drawn in tensor order from
	 * init_seed */
	struct sift_rng rng;
	sift_rng_seed(&rng, init_seed);
	for (int i = 0; i < m->ntensors; i++) {
		struct bert_tensor *bt = &m->tensors[i];
		if (bt->head)
			init_head(bt, m->params + bt->off, m->cfg.init_range, &rng);
	}
	m->head_initialised = head != BERT_HEAD_NONE;
	m->be = &sift_backend_cpu;
	m->dparams = m->params;
	m->dp = m->p;
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory for %.0f parameters", name, n);
fail:
	bert_free(m);
	return -1;
}

int bert_upload(struct bert_model *m, const struct sift_backend *be)
{
	if (m->be && m->dparams && m->dparams != m->params)
		m->be->free(m->dparams);
	if (m->dp.layer != m->p.layer)
		free(m->dp.layer);
	m->be = be;
	if (be->host_memory) {
		m->dparams = m->params;
		m->dp = m->p;
		return 0;
	}
	m->dparams = be->alloc(m->nparams * sizeof(float));
	m->dp.layer = calloc(m->cfg.layers, sizeof *m->dp.layer);
	if (!m->dparams || !m->dp.layer)
		return -1;
	be->upload(m->dparams, m->params, m->nparams * sizeof(float));
	views(m, m->dparams, &m->dp);
	return 0;
}

/* ---- saving ---- */

int bert_save(const struct bert_model *m, const char *dir, char *err,
	      size_t errlen)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	struct sift_st_out *t = calloc(m->ntensors, sizeof *t);
	char (*names)[112] = calloc(m->ntensors, sizeof *names);
	if (!t || !names) {
		free(t);
		free(names);
		snprintf(err, errlen, "%s: out of memory", dir);
		return -1;
	}
	const char *prefix = m->head != BERT_HEAD_NONE ? "bert." : "";
	int nt = 0;
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *bt = &m->tensors[i];
		if (bt->head == LORA_TENSOR)
			continue;	/* an adapter is saved by lora_save */
		snprintf(names[nt], sizeof names[nt], "%s%s",
			 top_level(bt->name) ? "" : prefix,
			 bt->name);
		t[nt].name = names[nt];
		t[nt].ndim = bt->ndim;
		t[nt].shape[0] = bt->shape[0];
		t[nt].shape[1] = bt->shape[1];
		t[nt].data = m->params + bt->off;
		nt++;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/model.safetensors", dir);
	int rc = sift_st_write(path, t, nt, err, errlen);
	free(t);
	free(names);
	if (rc)
		return -1;
	/* config.json: the loaded one with the head's architecture and labels */
	json_t *c = json_deep_copy(m->cfg.json);
	if (!c)
		c = json_object();
	const char *arch = m->head == BERT_HEAD_TOKEN ? "BertForTokenClassification" :
		m->head == BERT_HEAD_SEQ ? "BertForSequenceClassification" :
		m->head == BERT_HEAD_MLM ? "BertForMaskedLM" : "BertModel";
	json_t *a = json_array();
	json_array_append_new(a, json_string(arch));
	json_object_set_new(c, "architectures", a);
	if (m->nlabels > 0) {
		json_t *id2 = json_object(), *l2 = json_object();
		for (int i = 0; i < m->nlabels; i++) {
			char k[16];
			snprintf(k, sizeof k, "%d", i);
			json_object_set_new(id2, k, json_string(m->labels[i]));
			json_object_set_new(l2, m->labels[i], json_integer(i));
		}
		json_object_set_new(c, "id2label", id2);
		json_object_set_new(c, "label2id", l2);
	}
	/* the head's problem_type, not one the initial model's config had */
	if (m->head == BERT_HEAD_SEQ && (m->problem || json_object_get(c, "problem_type")))
		json_object_set_new(c, "problem_type", json_string(
			m->problem == 1 ? "multi_label_classification" :
			m->problem == 2 ? "regression" : "single_label_classification"));
	else if (m->head != BERT_HEAD_SEQ)
		json_object_del(c, "problem_type");
	snprintf(path, sizeof path, "%s/config.json", dir);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (json_dump_file(c, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
	    rename(tmp, path)) {
		snprintf(err, errlen, "%s: cannot write", path);
		json_decref(c);
		unlink(tmp);
		return -1;
	}
	json_decref(c);
	return 0;
}

/* ---- batches ---- */

void bert_batch_free(struct bert_batch *bb)
{
	free(bb->ids);
	free(bb->type_ids);
	free(bb->pos);
	free(bb->offs);
	free(bb->cls_rows);
	free(bb->mlm_rows);
	memset(bb, 0, sizeof *bb);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = need < 64 ? 64 : need;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

int bert_pack(struct bert_batch *bb, const int32_t *ids,
	      const int32_t *type_ids, const uint8_t *mask, int B, int T,
	      char *err, size_t errlen)
{
	size_t capN = bb->cap_N, capB = bb->cap_B;
	size_t cN = capN, cB = capB;
	if (grow((void **)&bb->ids, &cN, (size_t)B * T, 4) ||
	    (cN = capN, grow((void **)&bb->type_ids, &cN, (size_t)B * T, 4)) ||
	    (cN = capN, grow((void **)&bb->pos, &cN, (size_t)B * T, 4)) ||
	    grow((void **)&bb->offs, &cB, (size_t)B + 1, 4) ||
	    (cB = capB, grow((void **)&bb->cls_rows, &cB, (size_t)B + 1, 4))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bb->cap_N = cN;
	bb->cap_B = cB;
	int n = 0;
	bb->offs[0] = 0;
	for (int b = 0; b < B; b++) {
		const uint8_t *mk = mask + (size_t)b * T;
		int len = 0;
		while (len < T && mk[len])
			len++;
		for (int t = len; t < T; t++)
			if (mk[t]) {
				snprintf(err, errlen,
					 "example %d: mask is not ones then zeros",
					 b);
				return -1;
			}
		if (len == 0) {
			snprintf(err, errlen, "example %d: no tokens", b);
			return -1;
		}
		bb->cls_rows[b] = n;
		for (int t = 0; t < len; t++, n++) {
			bb->ids[n] = ids[(size_t)b * T + t];
			bb->type_ids[n] = type_ids ? type_ids[(size_t)b * T + t] : 0;
			bb->pos[n] = t;
		}
		bb->offs[b + 1] = n;
	}
	bb->B = B;
	bb->T = T;
	bb->N = n;
	bb->M = 0;
	return 0;
}

int bert_pack_mlm(struct bert_batch *bb, const int32_t *labels)
{
	if (grow((void **)&bb->mlm_rows, &bb->cap_M, (size_t)bb->N, 4) < 0)
		return -1;
	int M = 0;
	for (int b = 0; b < bb->B; b++) {
		int r0 = bb->offs[b], len = bb->offs[b + 1] - r0;
		for (int t = 0; t < len; t++)
			if (labels[(size_t)b * bb->T + t] != -100)
				bb->mlm_rows[M++] = r0 + t;
	}
	bb->M = M;
	return 0;
}

int bert_check_batch(const struct bert_model *m, const struct bert_batch *bb,
		     char *err, size_t errlen)
{
	for (int b = 0; b < bb->B; b++) {
		int len = bb->offs[b + 1] - bb->offs[b];
		if (len > m->cfg.max_pos) {
			snprintf(err, errlen,
				 "example %d: %d tokens, more than the model's %d positions",
				 b, len, m->cfg.max_pos);
			return -1;
		}
		for (int r = bb->offs[b]; r < bb->offs[b + 1]; r++) {
			if (bb->ids[r] < 0 || bb->ids[r] >= m->cfg.vocab_size) {
				snprintf(err, errlen,
					 "example %d: token id %d outside the vocabulary of %d",
					 b, bb->ids[r], m->cfg.vocab_size);
				return -1;
			}
			if (bb->type_ids[r] < 0 ||
			    bb->type_ids[r] >= m->cfg.type_vocab) {
				snprintf(err, errlen,
					 "example %d: type id %d outside 0..%d",
					 b, bb->type_ids[r], m->cfg.type_vocab - 1);
				return -1;
			}
		}
	}
	return 0;
}

/* ---- activations ---- */

uint64_t bert_dropout_seed(uint64_t seed, int site)
{
	return sift_hash64(seed, (uint64_t)site);
}

void bert_acts_init(struct bert_acts *a)
{
	memset(a, 0, sizeof *a);
}

void bert_acts_free(struct bert_acts *a)
{
	if (a->be) {
		a->be->free(a->buf);
		a->be->free(a->in);
	}
	free(a->qkv);
	memset(a, 0, sizeof *a);
}

/* points the views at buf for N rows, B examples, MM labelled rows (an
 * MLM head), natt attention floats per layer; with base NULL only
 * counts.  Returns the floats needed. */
static size_t place(struct bert_acts *a, const struct bert_model *m,
		    float *base, size_t N, size_t B, size_t MM, size_t natt,
		    int train)
{
	size_t C = m->cfg.hidden, I = m->cfg.intermediate, L = m->nout;
	size_t off = 0;
	size_t M = m->head == BERT_HEAD_TOKEN ? N :
		m->head == BERT_HEAD_MLM ? MM : B;
#define TAKE(ptr, n) do { if (base) (ptr) = base + off; off += (n); \
		off = (off + 15) & ~(size_t)15; } while (0)
	TAKE(a->emb, N * C);
	TAKE(a->emb_ln, N * C);
	TAKE(a->emb_mean, N);
	TAKE(a->emb_rstd, N);
	if (train)
		TAKE(a->emb_out, N * C);
	else if (base)
		a->emb_out = a->emb_ln;
	int nl = m->cfg.layers;
	for (int l = 0; l < nl; l++) {
		if (!train && l > 0) {
			if (base) {
				a->qkv[l] = a->qkv[0]; a->att[l] = a->att[0];
				a->atty[l] = a->atty[0]; a->attproj[l] = a->attproj[0];
				a->res1[l] = a->res1[0]; a->ln1[l] = a->ln1[0];
				a->ln1_mean[l] = a->ln1_mean[0]; a->ln1_rstd[l] = a->ln1_rstd[0];
				a->fch[l] = a->fch[0]; a->fch_gelu[l] = a->fch_gelu[0];
				a->fcproj[l] = a->fcproj[0]; a->res2[l] = a->res2[0];
				a->ln2[l] = a->ln2[0]; a->ln2_mean[l] = a->ln2_mean[0];
				a->ln2_rstd[l] = a->ln2_rstd[0];
			}
			continue;
		}
		TAKE(a->qkv[l], N * 3 * C);
		TAKE(a->att[l], natt);
		TAKE(a->atty[l], N * C);
		TAKE(a->attproj[l], N * C);
		TAKE(a->res1[l], N * C);
		TAKE(a->ln1[l], N * C);
		TAKE(a->ln1_mean[l], N);
		TAKE(a->ln1_rstd[l], N);
		TAKE(a->fch[l], N * I);
		if (train)
			TAKE(a->fch_gelu[l], N * I);
		else if (base)
			a->fch_gelu[l] = a->fch[l];	/* gelu in place */
		TAKE(a->fcproj[l], N * C);
		TAKE(a->res2[l], N * C);
		TAKE(a->ln2[l], N * C);
		TAKE(a->ln2_mean[l], N);
		TAKE(a->ln2_rstd[l], N);
	}
	if (m->head == BERT_HEAD_SEQ && !m->full_last)
		TAKE(a->catty, N * C);
	TAKE(a->cls, B * C);
	TAKE(a->pool_pre, B * C);
	TAKE(a->pooled, B * C);
	if (train && m->head != BERT_HEAD_MLM)
		TAKE(a->head_in, M * C);
	if (m->head == BERT_HEAD_MLM) {
		TAKE(a->mlm_in, MM * C);
		TAKE(a->mlm_pre, MM * C);
		TAKE(a->mlm_act, MM * C);
		TAKE(a->mlm_h, MM * C);
		TAKE(a->mlm_mean, MM);
		TAKE(a->mlm_rstd, MM);
	}
	TAKE(a->logits, M * (L ? L : 1));
	TAKE(a->probs, M * (L ? L : 1));
#undef TAKE
	if (base) {
		a->out = a->ln2[nl - 1];
		if (!train)
			a->head_in = m->head == BERT_HEAD_TOKEN ? a->out : a->pooled;
	}
	return off;
}

/* out (n,OC) = inp (n,C) @ w^T + b: the backend's product, or the
 * int8 one of slot (quant.h) when the model is quantised */
static void linear(const struct bert_model *m, int slot, float *out,
		   const float *inp, const float *w, const float *b, int n,
		   int C, int OC)
{
	if (m->q8 && m->q8->lin[slot].C)
		sift_q8_linear_forward(&m->q8->lin[slot], out, inp, b, n);
	else
		m->be->matmul_forward(out, inp, w, b, n, C, OC);
}

/*
 * The encoder over rows r0 .. r0+n-1 (nb examples, offs local: offs[0]
 * = 0) of the activations, whose attention probabilities start at float
 * att0 of each layer's att.  With cls (the examples' [CLS] rows, local
 * too), the last layer past its attention runs over those nb rows
 * alone, gathered to rows r0 .. r0+nb-1 (bert_acts: trim).  ids, tids,
 * pos, offs and cls are in the backend's memory.  The serial pass is r0
 * = 0, att0 = 0 with every example.
 */
static void encode(const struct bert_model *m, struct bert_acts *a,
		   const int32_t *ids, const int32_t *tids, const int32_t *pos,
		   const int32_t *offs, const int32_t *cls, int r0, int n,
		   int nb, size_t att0, int train, uint64_t seed)
{
	const struct sift_backend *be = m->be;
	const struct bert_config *c = &m->cfg;
	const struct bert_params *p = &m->dp;
	int C = c->hidden, I = c->intermediate, NH = c->heads, nl = c->layers;
	float ph = train ? c->hidden_dropout : 0.0f;
	float pa = train ? c->attn_dropout : 0.0f;
	size_t NC = (size_t)n * C, oC = (size_t)r0 * C;
	size_t o3 = 3 * oC, oI = (size_t)r0 * I;

	be->embed_forward(a->emb + oC, ids, tids, pos, p->wte, p->wpe, p->wtt,
			  n, C);
	be->layernorm_forward(a->emb_ln + oC, a->emb_mean + r0,
			      a->emb_rstd + r0, a->emb + oC, p->emb_ln_w,
			      p->emb_ln_b, n, C, c->ln_eps);
	if (train)
		be->dropout_forward(a->emb_out + oC, a->emb_ln + oC, NC, ph,
				    bert_dropout_seed(seed, 4 * nl), oC);
	const float *x = a->emb_out + oC;
	for (int l = 0; l < nl; l++) {
		const struct bert_layer *w = &p->layer[l];
		linear(m, 4 * l + SIFT_Q8_QKV, a->qkv[l] + o3, x, w->qkv_w,
		       w->qkv_b, n, C, 3 * C);
		if (m->lora)
			for (int t = LORA_QUERY; t <= LORA_VALUE; t++)
				lora_forward(m, l, t, a->qkv[l] + o3, x, r0, n,
					     train, seed);
		be->attention_forward(a->atty[l] + oC, a->att[l] + att0,
				      a->qkv[l] + o3, offs, nb, a->T, C, NH, pa,
				      bert_dropout_seed(seed, 4 * l));
		/* rows past the attention: all n, or in a trimmed last
		 * layer the nb [CLS] rows, the residual's among them
		 * (res2 is free until the layer's end writes it) */
		int rn = n;
		const float *ay = a->atty[l] + oC;
		if (cls && l == nl - 1) {
			rn = nb;
			be->gather_rows_forward(a->catty + oC, ay, cls, nb, C);
			be->gather_rows_forward(a->res2[l] + oC, x, cls, nb, C);
			ay = a->catty + oC;
			x = a->res2[l] + oC;
		}
		size_t RC = (size_t)rn * C;
		linear(m, 4 * l + SIFT_Q8_ATTOUT, a->attproj[l] + oC, ay,
		       w->attout_w, w->attout_b, rn, C, C);
		if (m->lora)
			lora_forward(m, l, LORA_ATTN_OUT, a->attproj[l] + oC,
				     ay, r0, rn, train, seed);
		if (train)
			be->dropout_forward(a->attproj[l] + oC,
					    a->attproj[l] + oC, RC, ph,
					    bert_dropout_seed(seed, 4 * l + 1), oC);
		be->residual_layernorm_forward(a->res1[l] + oC, a->ln1[l] + oC,
					       a->ln1_mean[l] + r0,
					       a->ln1_rstd[l] + r0,
					       a->attproj[l] + oC, x, w->ln1_w,
					       w->ln1_b, rn, C, c->ln_eps);
		linear(m, 4 * l + SIFT_Q8_FC, a->fch[l] + oI, a->ln1[l] + oC,
		       w->fc_w, w->fc_b, rn, C, I);
		if (m->lora)
			lora_forward(m, l, LORA_INTER, a->fch[l] + oI,
				     a->ln1[l] + oC, r0, rn, train, seed);
		be->gelu_forward(a->fch_gelu[l] + oI, a->fch[l] + oI,
				 (size_t)rn * I);
		linear(m, 4 * l + SIFT_Q8_FCPROJ, a->fcproj[l] + oC,
		       a->fch_gelu[l] + oI, w->fcproj_w, w->fcproj_b, rn, I, C);
		if (m->lora)
			lora_forward(m, l, LORA_OUTPUT, a->fcproj[l] + oC,
				     a->fch_gelu[l] + oI, r0, rn, train, seed);
		if (train)
			be->dropout_forward(a->fcproj[l] + oC, a->fcproj[l] + oC,
					    RC, ph,
					    bert_dropout_seed(seed, 4 * l + 2), oC);
		be->residual_layernorm_forward(a->res2[l] + oC, a->ln2[l] + oC,
					       a->ln2_mean[l] + r0,
					       a->ln2_rstd[l] + r0,
					       a->fcproj[l] + oC, a->ln1[l] + oC,
					       w->ln2_w, w->ln2_b, rn, C, c->ln_eps);
		x = a->ln2[l] + oC;
	}
}

int bert_forward(const struct bert_model *m, const struct bert_batch *bb,
		 struct bert_acts *a, int train, uint64_t seed)
{
	const struct sift_backend *be = m->be;
	const struct bert_config *c = &m->cfg;
	int N = bb->N, B = bb->B, C = c->hidden;
	int NH = c->heads, L = m->nlabels, nl = c->layers;
	if (a->be && a->be != be) {
		bert_acts_free(a);
	}
	a->be = be;
	if (!a->qkv) {
		a->qkv = calloc((size_t)15 * nl, sizeof(float *));
		if (!a->qkv)
			return -1;
		float **v = a->qkv;
		a->att = v + nl; a->atty = v + 2 * nl; a->attproj = v + 3 * nl;
		a->res1 = v + 4 * nl; a->ln1 = v + 5 * nl; a->ln1_mean = v + 6 * nl;
		a->ln1_rstd = v + 7 * nl; a->fch = v + 8 * nl; a->fch_gelu = v + 9 * nl;
		a->fcproj = v + 10 * nl; a->res2 = v + 11 * nl; a->ln2 = v + 12 * nl;
		a->ln2_mean = v + 13 * nl; a->ln2_rstd = v + 14 * nl;
	}
	size_t natt = sift_att_offset(bb->offs, B, NH);
	int M = m->head == BERT_HEAD_MLM ? bb->M : 0;
	size_t need = place(a, m, NULL, N, B, M, natt, train);
	if (need > a->cap) {
		be->free(a->buf);
		/* some headroom, so that slowly growing batches do not
		 * reallocate every time */
		size_t cap = need + need / 4;
		a->buf = be->alloc(cap * sizeof(float));
		if (!a->buf) {
			a->cap = 0;
			return -1;
		}
		a->cap = cap;
	}
	place(a, m, a->buf, N, B, M, natt, train);
	if (m->lora && lora_reserve(m, N, train) < 0)
		return -1;
	a->N = N;
	a->B = B;
	a->M = M;
	a->T = bb->T;
	a->natt = natt;
	a->shared = !train;
	/* the batch, in the backend's memory */
	int nin = 3 * N + 3 * B + 1 + M;
	if (nin > a->cap_in) {
		be->free(a->in);
		a->cap_in = nin + nin / 4;
		a->in = be->alloc((size_t)a->cap_in * sizeof(int32_t));
		if (!a->in) {
			a->cap_in = 0;
			return -1;
		}
	}
	int32_t *ids = a->in, *tids = ids + N, *pos = tids + N;
	int32_t *offs = pos + N, *cls_rows = offs + B + 1;
	int32_t *mlm_rows = cls_rows + B, *out_rows = mlm_rows + M;
	a->trim = m->head == BERT_HEAD_SEQ && !m->full_last;
	be->upload(ids, bb->ids, (size_t)N * 4);
	be->upload(tids, bb->type_ids, (size_t)N * 4);
	be->upload(pos, bb->pos, (size_t)N * 4);
	be->upload(offs, bb->offs, (size_t)(B + 1) * 4);
	be->upload(cls_rows, bb->cls_rows, (size_t)B * 4);
	if (M)
		be->upload(mlm_rows, bb->mlm_rows, (size_t)M * 4);

	/*
	 * Inference on a backend that cuts rows into groups (the CPU: by
	 * its tile rule): the examples whose first row falls in group g
	 * run together, and the threads share the groups out, each running
	 * the whole encoder over its group with single-threaded ops, so
	 * that threads never wait for each other inside a layer.  The
	 * groups depend on the batch alone, so the bits do not depend on
	 * the thread count.
	 */
	int cut[SIFT_MAX_ROW_GROUPS + 1], nt = 1;
	int ng = be->row_groups && !train ?
		be->row_groups(N, cut, B < SIFT_MAX_ROW_GROUPS ? B : SIFT_MAX_ROW_GROUPS, &nt) : 1;
	if (a->trim) {
		/* where each example's last-layer row lands: row b in the
		 * serial pass, its group's first rows in the grouped one */
		int32_t *orow = malloc(sizeof(int32_t) * (B ? B : 1));
		if (!orow)
			return -1;
		for (int b = 0, g = 0, first = 0; b < B; b++) {
			if (ng > 1) {
				while (g + 1 < ng && bb->offs[b] >= cut[g + 1])
					g++;
				if (b == 0 || bb->offs[b - 1] < cut[g])
					first = b;
				orow[b] = bb->offs[first] + (b - first);
			} else {
				orow[b] = b;
			}
		}
		be->upload(out_rows, orow, (size_t)B * 4);
		free(orow);
	}
	if (ng > 1) {
		int bad = 0;
#pragma omp parallel for schedule(static) num_threads(nt) reduction(|:bad)
		for (int g = 0; g < ng; g++) {
			int64_t lo_row = cut[g];
			int64_t hi_row = cut[g + 1];
			int b0 = 0, b1 = 0;
			for (int b = 0; b < B; b++) {
				int64_t r = bb->offs[b];
				if (r < lo_row)
					b0 = b + 1;
				if (r < hi_row)
					b1 = b + 1;
			}
			if (b1 <= b0)
				continue;
			/* offs and [CLS] rows, local to the group */
			int32_t *lo = malloc(sizeof(int32_t) * 2 * (b1 - b0 + 1));
			if (!lo) {
				bad = 1;
				continue;
			}
			int32_t *lcls = lo + (b1 - b0 + 1);
			int r0 = bb->offs[b0];
			for (int b = b0; b <= b1; b++)
				lo[b - b0] = bb->offs[b] - r0;
			for (int b = b0; b < b1; b++)
				lcls[b - b0] = bb->cls_rows[b] - r0;
			encode(m, a, ids + r0, tids + r0, pos + r0, lo,
			       a->trim ? lcls : NULL, r0, bb->offs[b1] - r0,
			       b1 - b0, sift_att_offset(bb->offs, b0, NH), 0, 0);
			free(lo);
		}
		if (bad)
			return -1;
	} else {
		encode(m, a, ids, tids, pos, offs, a->trim ? cls_rows : NULL,
		       0, N, B, 0, train, seed);
	}
	const struct bert_params *p = &m->dp;
	size_t NC = (size_t)N * C;
	float pc = !train ? 0.0f : c->classifier_dropout >= 0 ?
		c->classifier_dropout : c->hidden_dropout;
	uint64_t hseed = bert_dropout_seed(seed, 4 * nl + 1);
	if (m->has_pooler && m->head != BERT_HEAD_TOKEN) {
		be->gather_rows_forward(a->cls, a->out,
					a->trim ? out_rows : cls_rows, B, C);
		linear(m, 4 * nl + SIFT_Q8_POOL, a->pool_pre, a->cls, p->pool_w,
		       p->pool_b, B, C, C);
		be->tanh_forward(a->pooled, a->pool_pre, (size_t)B * C);
	}
	if (m->head == BERT_HEAD_TOKEN) {
		if (train)
			be->dropout_forward(a->head_in, a->out, NC, pc, hseed, 0);
		linear(m, 4 * nl + SIFT_Q8_CLS, a->logits, a->head_in, p->cls_w,
		       p->cls_b, N, C, L);
		be->softmax_forward(a->probs, a->logits, N, L);
	} else if (m->head == BERT_HEAD_SEQ) {
		if (train)
			be->dropout_forward(a->head_in, a->pooled,
					    (size_t)B * C, pc, hseed, 0);
		linear(m, 4 * nl + SIFT_Q8_CLS, a->logits, a->head_in, p->cls_w,
		       p->cls_b, B, C, L);
		be->softmax_forward(a->probs, a->logits, B, L);
	} else if (m->head == BERT_HEAD_MLM && M > 0) {
		int V = m->nout;
		/* only the M labelled rows go through the head: the (M,V)
		 * product is the cost, not (N,V) */
		be->gather_rows_forward(a->mlm_in, a->out, mlm_rows, M, C);
		/* mlm_pre = mlm_in @ dense^T + b; mlm_act = gelu(mlm_pre) */
		linear(m, 4 * nl + SIFT_Q8_MLM, a->mlm_pre, a->mlm_in, p->mlm_w,
		       p->mlm_b, M, C, C);
		be->gelu_forward(a->mlm_act, a->mlm_pre, (size_t)M * C);
		be->layernorm_forward(a->mlm_h, a->mlm_mean, a->mlm_rstd,
				      a->mlm_act, p->mlm_ln_w, p->mlm_ln_b, M, C,
				      c->ln_eps);
		/* the decoder, tied: logits = mlm_h @ wte^T + bias */
		be->matmul_forward(a->logits, a->mlm_h, p->wte, p->mlm_bias,
				   M, C, V);
		be->softmax_forward(a->probs, a->logits, M, V);
	}
	return 0;
}
