/* lora.c: LoRA adapters of a BERT encoder, in peft's format. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "bert_bwd.h"	/* defines: bert_grads_at */
#include "ckpt.h"		/* defines: ckpt_fnv, CKPT_FNV0 */
#include "lora.h"
#include "rng.h"		/* defines: sift_rng, sift_hash64 */
#include "safetensors.h"

/* sift's name, the module under encoder.layer.L, peft's name in
 * target_modules (a suffix of the module path) */
static const struct {
	const char *name, *module, *peft;
} targets[LORA_NT] = {
	{ "query", "attention.self.query", "query" },
	{ "key", "attention.self.key", "key" },
	{ "value", "attention.self.value", "value" },
	{ "attn-out", "attention.output.dense", "attention.output.dense" },
	{ "intermediate", "intermediate.dense", "intermediate.dense" },
	{ "output", "output.dense", NULL },	/* a regex: ".output.dense"
						 * is also attention's */
};

int lora_parse_targets(const char *list, unsigned *mask, char *err,
		       size_t errlen)
{
	*mask = 0;
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		int k = -1;
		for (int t = 0; t < LORA_NT; t++)
			if ((strlen(targets[t].name) == n &&
			     !strncmp(p, targets[t].name, n)) ||
			    (strlen(targets[t].module) == n &&
			     !strncmp(p, targets[t].module, n) && t >= LORA_ATTN_OUT))
				k = t;
		if (k < 0) {
			snprintf(err, errlen, "--lora-targets: '%.*s' is not a target (query, key, value, attn-out, intermediate, output)",
				 (int)(n > 64 ? 64 : n), p);
			return -1;
		}
		*mask |= 1u << k;
		if (!p[n])
			break;
		p += n + 1;
	}
	return 0;
}

void lora_targets_str(unsigned mask, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	for (int t = 0; t < LORA_NT; t++)
		if (mask & (1u << t) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      o ? "," : "", targets[t].name);
}

uint64_t lora_base_hash(const struct bert_model *m)
{
	uint64_t h = CKPT_FNV0;
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *t = &m->tensors[i];
		if (t->head == LORA_TENSOR ||
		    (t->head && strncmp(t->name, "pooler.", 7)))
			continue;
		h = ckpt_fnv(h, t->name, strlen(t->name) + 1);
		h = ckpt_fnv(h, m->params + t->off,
			     bert_tensor_numel(t) * sizeof(float));
	}
	return h;
}

/* the tensor called name, or NULL */
static const struct bert_tensor *find(const struct bert_model *m,
				      const char *name)
{
	for (int i = 0; i < m->ntensors; i++)
		if (!strcmp(m->tensors[i].name, name))
			return &m->tensors[i];
	return NULL;
}

int lora_attach(struct bert_model *m, const struct lora_cfg *c,
		uint64_t seed, char *err, size_t errlen)
{
	int NL = m->cfg.layers, C = m->cfg.hidden, I = m->cfg.intermediate;
	int in[LORA_NT] = { C, C, C, C, C, I }, out[LORA_NT] = { C, C, C, C, I, C };
	if (!c->targets) {
		snprintf(err, errlen, "--lora-targets: no target");
		return -1;
	}
	for (int t = 0; t < LORA_NT; t++) {
		int lim = in[t] < out[t] ? in[t] : out[t];
		if (c->targets & (1u << t) && (c->r < 1 || c->r > lim)) {
			snprintf(err, errlen, "--lora %d: the rank of %s must be 1..%d, the smaller side of its (%d,%d) weight",
				 c->r, targets[t].name, lim, out[t], in[t]);
			return -1;
		}
	}
	struct lora *L = calloc(1, sizeof *L);
	if (!L)
		goto oom;
	L->cfg = *c;
	L->scale = c->rslora ? c->alpha / sqrtf((float)c->r) : c->alpha / (float)c->r;
	L->layers = NL;
	L->site = calloc((size_t)NL * LORA_NT, sizeof *L->site);
	L->u = calloc((size_t)NL * LORA_NT, sizeof *L->u);
	L->xd = calloc((size_t)NL * LORA_NT, sizeof *L->xd);
	if (!L->site || !L->u || !L->xd)
		goto oom;
	L->base_hash = lora_base_hash(m);
	L->nbase = m->nparams;
	L->ntensors0 = m->ntensors;
	size_t extra = 0;
	int ntens = 0;
	for (int t = 0; t < LORA_NT; t++)
		if (c->targets & (1u << t)) {
			extra += (size_t)NL * c->r * (size_t)(in[t] + out[t]);
			ntens += 2 * NL;
		}
	size_t off = bert_grow(m, extra, ntens);
	if (off == (size_t)-1)
		goto oom;
	struct sift_rng rng;
	sift_rng_seed(&rng, sift_hash64(seed, 0x10aa));
	char nm[96];
	for (int l = 0; l < NL; l++)
		for (int t = 0; t < LORA_NT; t++) {
			if (!(c->targets & (1u << t)))
				continue;
			struct lora_site *s = &L->site[l * LORA_NT + t];
			snprintf(nm, sizeof nm, "encoder.layer.%d.%s.weight", l,
				 targets[t].module);
			const struct bert_tensor *w = find(m, nm);
			if (!w) {
				snprintf(err, errlen, "the model has no %s", nm);
				goto fail;
			}
			s->w_off = w->off;
			s->in = in[t];
			s->out = out[t];
			for (int k = 0; k < 2; k++) {
				struct bert_tensor *bt = &m->tensors[m->ntensors++];
				snprintf(bt->name, sizeof bt->name,
					 "encoder.layer.%d.%s.lora_%c.weight", l,
					 targets[t].module, k ? 'B' : 'A');
				bt->off = off;
				bt->ndim = 2;
				bt->shape[0] = k ? out[t] : c->r;
				bt->shape[1] = k ? c->r : in[t];
				bt->head = LORA_TENSOR;
				if (k)
					s->b_off = off;
				else
					s->a_off = off;
				off += (size_t)c->r * (size_t)(k ? out[t] : in[t]);
			}
			/* kaiming_uniform_(a=sqrt(5)) of (r,in): bound
			 * sqrt(6 / ((1 + 5) in)) = 1/sqrt(in) */
			float bound = 1.0f / sqrtf((float)in[t]);
			float *A = m->params + s->a_off;
			for (size_t i = 0; i < (size_t)c->r * in[t]; i++) {
				double u = (double)(sift_rng_next(&rng) >> 11) * 0x1p-53;
				A[i] = (float)((2.0 * u - 1.0) * bound);
			}
		}
	m->lora = L;
	return 0;
oom:
	snprintf(err, errlen, "out of memory for the adapter");
fail:
	if (L) {
		lora_free(L);
		free(L);
	}
	return -1;
}

void lora_free(struct lora *l)
{
	if (l->be) {
		if (l->s)
			l->be->free(l->s);
		if (l->rows)
			l->be->free(l->rows);
	}
	free(l->hrows);
	free(l->site);
	free(l->u);
	free(l->xd);
	memset(l, 0, sizeof *l);
}

int lora_reserve(const struct bert_model *m, int N, int train)
{
	struct lora *L = m->lora;
	const struct sift_backend *be = m->be;
	int drop = train && L->cfg.dropout > 0.0f;
	if (L->be == be && (size_t)N <= L->cap_N && (!drop || L->cap_train))
		return 0;
	if (L->be) {
		if (L->s)
			L->be->free(L->s);
		if (L->rows)
			L->be->free(L->rows);
		L->s = NULL;
		L->rows = NULL;
	}
	L->be = be;
	size_t cN = (size_t)N > L->cap_N ? (size_t)N : L->cap_N;
	if (cN < 16)
		cN = 16;
	size_t C = m->cfg.hidden, I = m->cfg.intermediate, r = L->cfg.r;
	size_t wide = 3 * C > I ? 3 * C : I, in = C > I ? C : I;
	size_t total = cN * wide + cN * r + cN * in;
	int ns = L->layers * LORA_NT;
	for (int k = 0; k < ns; k++)
		if (L->site[k].in)
			total += cN * r + (drop ? cN * L->site[k].in : 0);
	L->s = be->alloc(total * sizeof(float));
	L->rows = be->alloc(3 * cN * sizeof(int32_t));
	int32_t *h = realloc(L->hrows, 3 * cN * sizeof *h);
	if (!L->s || !L->rows || !h) {
		if (h)
			L->hrows = h;
		L->cap_N = 0;
		return -1;
	}
	L->hrows = h;
	float *p = L->s;
	L->tmp = p;
	p += cN * wide;
	L->dus = p;
	p += cN * r;
	L->dxin = p;
	p += cN * in;
	for (int k = 0; k < ns; k++) {
		L->u[k] = L->xd[k] = NULL;
		if (!L->site[k].in)
			continue;
		L->u[k] = p;
		p += cN * r;
		if (drop) {
			L->xd[k] = p;
			p += cN * L->site[k].in;
		}
	}
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < cN; i++)
			h[k * cN + i] = (int32_t)(3 * i + k);
	be->upload(L->rows, h, 3 * cN * sizeof *h);
	L->cap_N = cN;
	L->cap_train = drop;
	return 0;
}

/* the dropout seed of target t of layer l: site 4 l + 3 of
 * bert_dropout_seed (free: 0..2 are the layer's own), one per target */
static uint64_t drop_seed(uint64_t seed, int l, int t)
{
	return sift_hash64(bert_dropout_seed(seed, 4 * l + 3), (uint64_t)t);
}

void lora_forward(const struct bert_model *m, int l, enum lora_target t,
		  float *y, const float *x, int r0, int n, int train,
		  uint64_t seed)
{
	const struct lora *L = m->lora;
	const struct lora_site *s = &L->site[l * LORA_NT + t];
	if (!s->in || n == 0)
		return;
	const struct sift_backend *be = m->be;
	int r = L->cfg.r, k = l * LORA_NT + t;
	const float *A = m->dparams + s->a_off, *B = m->dparams + s->b_off;
	const float *xin = x;
	if (train && L->cfg.dropout > 0.0f) {
		float *xd = L->xd[k] + (size_t)r0 * s->in;
		be->dropout_forward(xd, x, (size_t)n * s->in, L->cfg.dropout,
				    drop_seed(seed, l, t), (uint64_t)r0 * s->in);
		xin = xd;
	}
	/* u (n,r) = scale * xin @ A^T */
	float *u = L->u[k] + (size_t)r0 * r;
	be->matmul_forward(u, xin, A, NULL, n, s->in, r);
	be->scale(u, (size_t)n * r, L->scale);
	/* delta (n,out) = u @ B^T, added to y */
	float *d = L->tmp + (size_t)r0 * s->out;
	be->matmul_forward(d, u, B, NULL, n, r, s->out);
	if (t <= LORA_VALUE)
		/* y (n,3C) as (3n,C): row 3i + t is row i's third */
		be->scatter_rows_backward(y, d, L->rows + (size_t)t * L->cap_N,
					  n, s->out);
	else
		be->residual_forward(y, y, d, (size_t)n * s->out);
}

void lora_backward(const struct bert_model *m, struct bert_grads *g, int l,
		   enum lora_target t, const float *dy, const float *x,
		   float *dx, int N, int train, uint64_t seed)
{
	const struct lora *L = m->lora;
	const struct lora_site *s = &L->site[l * LORA_NT + t];
	if (!s->in || N == 0)
		return;
	const struct sift_backend *be = m->be;
	int r = L->cfg.r, k = l * LORA_NT + t;
	const float *A = m->dparams + s->a_off, *B = m->dparams + s->b_off;
	float *dA = bert_grads_at(g, m, s->a_off);
	float *dB = bert_grads_at(g, m, s->b_off);
	int drop = train && L->cfg.dropout > 0.0f;
	const float *xin = drop ? L->xd[k] : x;
	const float *dyp = dy;
	if (t <= LORA_VALUE) {
		be->gather_rows_forward(L->tmp, dy, L->rows + (size_t)t * L->cap_N,
					N, s->out);
		dyp = L->tmp;
	}
	/* dus (N,r) = dy @ B; dB += dy^T @ u (u holds scale * A x) */
	be->matmul_backward(L->dus, dB, NULL, dyp, L->u[k], B, N, r, s->out);
	/* d(A x) = scale * dus; dA += its^T @ xin; dxin = its @ A */
	be->scale(L->dus, (size_t)N * r, L->scale);
	be->matmul_backward(dx ? L->dxin : NULL, dA, NULL, L->dus, xin, A, N,
			    s->in, r);
	if (!dx)
		return;
	if (drop)
		be->dropout_forward(L->dxin, L->dxin, (size_t)N * s->in,
				    L->cfg.dropout, drop_seed(seed, l, t), 0);
	be->residual_forward(dx, dx, L->dxin, (size_t)N * s->in);
}

/* ---- peft's files ---- */

static int write_json(json_t *j, const char *dir, const char *name, char *err,
		      size_t errlen)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
	    rename(tmp, path)) {
		snprintf(err, errlen, "%s: cannot write", path);
		remove(tmp);
		return -1;
	}
	return 0;
}

static const char *task_type(enum bert_head h)
{
	return h == BERT_HEAD_TOKEN ? "TOKEN_CLS" : "SEQ_CLS";
}

/* the target_modules of adapter_config.json: peft's suffix list, or a
 * regular expression when output.dense alone is meant */
static json_t *target_modules(unsigned mask)
{
	if (mask & (1u << LORA_OUTPUT)) {
		char re[512] = ".*\\.layer\\.\\d+\\.(";
		size_t o = strlen(re);
		int first = 1;
		for (int t = 0; t < LORA_NT; t++)
			if (mask & (1u << t)) {
				o += (size_t)snprintf(re + o, sizeof re - o, "%s", first ? "" : "|");
				for (const char *p = targets[t].module; *p && o < sizeof re - 3; p++) {
					if (*p == '.')
						re[o++] = '\\';
					re[o++] = *p;
				}
				re[o] = 0;
				first = 0;
			}
		snprintf(re + o, sizeof re - o, ")");
		return json_string(re);
	}
	json_t *a = json_array();
	for (int t = 0; t < LORA_NT; t++)
		if (mask & (1u << t))
			json_array_append_new(a, json_string(targets[t].peft));
	return a;
}

static json_t *jhex(uint64_t h)
{
	char b[24];
	snprintf(b, sizeof b, "%016llx", (unsigned long long)h);
	return json_string(b);
}

int lora_save(const struct bert_model *m, const float *params,
	      const char *base_name, const char *dir, char *err,
	      size_t errlen)
{
	const struct lora *L = m->lora;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	int n = m->ntensors;
	struct sift_st_out *t = calloc((size_t)n, sizeof *t);
	char (*names)[160] = calloc((size_t)n, sizeof *names);
	if (!t || !names) {
		free(t);
		free(names);
		snprintf(err, errlen, "%s: out of memory", dir);
		return -1;
	}
	int k = 0;
	for (int i = 0; i < n; i++) {
		const struct bert_tensor *bt = &m->tensors[i];
		if (bt->head == LORA_TENSOR)
			snprintf(names[k], sizeof names[k], "base_model.model.bert.%s",
				 bt->name);
		else if (!strncmp(bt->name, "classifier.", 11))
			snprintf(names[k], sizeof names[k], "base_model.model.%s",
				 bt->name);
		else
			continue;
		t[k].name = names[k];
		t[k].ndim = bt->ndim;
		t[k].shape[0] = bt->shape[0];
		t[k].shape[1] = bt->shape[1];
		t[k].data = params + bt->off;
		k++;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/" LORA_MODEL_NAME, dir);
	int rc = sift_st_write(path, t, k, err, errlen);
	free(t);
	free(names);
	if (rc)
		return -1;
	json_t *c = json_object();
	json_object_set_new(c, "peft_type", json_string("LORA"));
	json_object_set_new(c, "task_type", json_string(task_type(m->head)));
	json_object_set_new(c, "base_model_name_or_path",
			    base_name ? json_string(base_name) : json_null());
	json_object_set_new(c, "r", json_integer(L->cfg.r));
	json_object_set_new(c, "lora_alpha", json_real(L->cfg.alpha));
	json_object_set_new(c, "lora_dropout", json_real(L->cfg.dropout));
	json_object_set_new(c, "target_modules", target_modules(L->cfg.targets));
	json_t *ms = json_array();
	json_array_append_new(ms, json_string("classifier"));
	json_object_set_new(c, "modules_to_save", ms);
	json_object_set_new(c, "bias", json_string("none"));
	json_object_set_new(c, "fan_in_fan_out", json_false());
	json_object_set_new(c, "init_lora_weights", json_true());
	json_object_set_new(c, "use_rslora", json_boolean(L->cfg.rslora));
	json_object_set_new(c, "use_dora", json_false());
	json_object_set_new(c, "rank_pattern", json_object());
	json_object_set_new(c, "alpha_pattern", json_object());
	json_object_set_new(c, "layers_to_transform", json_null());
	json_object_set_new(c, "layers_pattern", json_null());
	json_object_set_new(c, "inference_mode", json_true());
	rc = write_json(c, dir, LORA_CONFIG_NAME, err, errlen);
	json_decref(c);
	if (rc)
		return -1;
	/* the base's identity and the head's labels, for sift */
	json_t *s = json_object();
	json_object_set_new(s, "format", json_integer(1));
	json_object_set_new(s, "base_hash", jhex(L->base_hash));
	json_t *b = json_object();
	json_object_set_new(b, "hidden_size", json_integer(m->cfg.hidden));
	json_object_set_new(b, "num_hidden_layers", json_integer(m->cfg.layers));
	json_object_set_new(b, "num_attention_heads", json_integer(m->cfg.heads));
	json_object_set_new(b, "intermediate_size", json_integer(m->cfg.intermediate));
	json_object_set_new(b, "vocab_size", json_integer(m->cfg.vocab_size));
	json_object_set_new(s, "base", b);
	char tl[128];
	lora_targets_str(L->cfg.targets, tl, sizeof tl);
	json_object_set_new(s, "targets", json_string(tl));
	json_t *lab = json_array();
	for (int i = 0; i < m->nlabels; i++)
		json_array_append_new(lab, json_string(m->labels[i]));
	json_object_set_new(s, "labels", lab);
	rc = write_json(s, dir, LORA_SIFT_NAME, err, errlen);
	json_decref(s);
	return rc;
}

void lora_info_free(struct lora_info *info)
{
	for (int i = 0; info->labels && i < info->nlabels; i++)
		free(info->labels[i]);
	free(info->labels);
	memset(info, 0, sizeof *info);
}

/* the targets named by the tensors of an adapter file: layer 0's */
static unsigned file_targets(const struct sift_st_file *f)
{
	unsigned mask = 0;
	char nm[200];
	for (int t = 0; t < LORA_NT; t++) {
		snprintf(nm, sizeof nm, "base_model.model.bert.encoder.layer.0.%s.lora_A.weight",
			 targets[t].module);
		if (sift_st_find(f, nm))
			mask |= 1u << t;
	}
	return mask;
}

int lora_probe(const char *dir, struct lora_info *info, char *err,
	       size_t errlen)
{
	memset(info, 0, sizeof *info);
	char path[4096];
	snprintf(path, sizeof path, "%s/" LORA_CONFIG_NAME, dir);
	json_error_t je;
	json_t *c = json_load_file(path, 0, &je);
	if (!c) {
		if (errno == ENOENT && je.line < 1)
			snprintf(err, errlen, "%s: no such adapter (no " LORA_CONFIG_NAME ")", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return -1;
	}
	int rc = -1;
	const char *pt = json_string_value(json_object_get(c, "peft_type"));
	const char *tt = json_string_value(json_object_get(c, "task_type"));
	json_t *r = json_object_get(c, "r"), *a = json_object_get(c, "lora_alpha");
	json_t *d = json_object_get(c, "lora_dropout");
	const char *bias = json_string_value(json_object_get(c, "bias"));
	if (!pt || strcmp(pt, "LORA")) {
		snprintf(err, errlen, "%s: peft_type is not LORA", path);
		goto out;
	}
	if (!tt || (strcmp(tt, "SEQ_CLS") && strcmp(tt, "TOKEN_CLS"))) {
		snprintf(err, errlen, "%s: task_type %s: sift reads SEQ_CLS and TOKEN_CLS adapters",
			 path, tt ? tt : "missing");
		goto out;
	}
	info->head = !strcmp(tt, "TOKEN_CLS") ? BERT_HEAD_TOKEN : BERT_HEAD_SEQ;
	if (!json_is_integer(r) || json_integer_value(r) < 1 ||
	    json_integer_value(r) > 1 << 20 || !json_is_number(a)) {
		snprintf(err, errlen, "%s: r and lora_alpha must be numbers, r >= 1", path);
		goto out;
	}
	info->cfg.r = (int)json_integer_value(r);
	info->cfg.alpha = (float)json_number_value(a);
	info->cfg.dropout = json_is_number(d) ? (float)json_number_value(d) : 0.0f;
	info->cfg.rslora = json_is_true(json_object_get(c, "use_rslora"));
	if (json_is_true(json_object_get(c, "use_dora")) ||
	    json_is_true(json_object_get(c, "fan_in_fan_out")) ||
	    (bias && strcmp(bias, "none")) ||
	    json_object_size(json_object_get(c, "rank_pattern")) ||
	    json_object_size(json_object_get(c, "alpha_pattern")) ||
	    !json_is_null(json_object_get(c, "layers_to_transform") ?
			  json_object_get(c, "layers_to_transform") : json_null())) {
		snprintf(err, errlen, "%s: DoRA, fan_in_fan_out, bias, rank_pattern, alpha_pattern and layers_to_transform are not read by sift",
			 path);
		goto out;
	}
	/* the targets: the tensors say which, whatever target_modules is */
	struct sift_st_file f;
	snprintf(path, sizeof path, "%s/" LORA_MODEL_NAME, dir);
	if (sift_st_open(&f, path, err, errlen) < 0)
		goto out;
	info->cfg.targets = file_targets(&f);
	const struct sift_st_tensor *cw = sift_st_find(&f, "base_model.model.classifier.weight");
	if (cw && cw->ndim == 2)
		info->nlabels = (int)cw->shape[0];
	sift_st_close(&f);
	if (!info->cfg.targets) {
		snprintf(err, errlen, "%s: no lora_A of layer 0 of a target sift knows", path);
		goto out;
	}
	if (info->nlabels < 1) {
		snprintf(err, errlen, "%s: no base_model.model.classifier.weight (the head, modules_to_save)", path);
		goto out;
	}
	/* sift's own file, when there */
	snprintf(path, sizeof path, "%s/" LORA_SIFT_NAME, dir);
	json_t *s = json_load_file(path, 0, &je);
	if (s) {
		const char *h = json_string_value(json_object_get(s, "base_hash"));
		json_t *lab = json_object_get(s, "labels");
		if (h) {
			info->base_hash = strtoull(h, NULL, 16);
			info->has_hash = 1;
		}
		if (json_is_array(lab) && (int)json_array_size(lab) == info->nlabels) {
			info->labels = calloc((size_t)info->nlabels, sizeof *info->labels);
			for (int i = 0; info->labels && i < info->nlabels; i++) {
				const char *v = json_string_value(json_array_get(lab, i));
				info->labels[i] = strdup(v ? v : "");
			}
		}
		json_decref(s);
	}
	rc = 0;
out:
	json_decref(c);
	return rc;
}

/* reads tensor name of f into dst (shape d0 x d1); 0, or -1 with err */
static int read_tensor(const struct sift_st_file *f, const char *path,
		       const char *name, float *dst, int64_t d0, int64_t d1,
		       char *err, size_t errlen)
{
	const struct sift_st_tensor *t = sift_st_find(f, name);
	if (!t) {
		snprintf(err, errlen, "%s: no tensor %s", path, name);
		return -1;
	}
	int ok = d1 ? t->ndim == 2 && t->shape[0] == d0 && t->shape[1] == d1
		    : t->ndim == 1 && t->shape[0] == d0;
	if (!ok) {
		snprintf(err, errlen, "%s: %s has the shape of another base model (want (%lld%s%lld))",
			 path, name, (long long)d0, d1 ? "," : "", d1 ? (long long)d1 : 0LL);
		return -1;
	}
	if (sift_st_to_f32(t, dst) < 0) {
		snprintf(err, errlen, "%s: %s: dtype %s is not F32, F16 or BF16", path,
			 name, t->dtype_name);
		return -1;
	}
	return 0;
}

int lora_load(struct bert_model *m, const char *dir,
	      const struct lora_info *info, char *err, size_t errlen)
{
	char path[4096];
	if (info->has_hash && lora_base_hash(m) != info->base_hash) {
		snprintf(err, errlen, "%s/" LORA_SIFT_NAME ": the adapter was trained on another base model (base_hash %016llx, this base %016llx)",
			 dir, (unsigned long long)info->base_hash,
			 (unsigned long long)lora_base_hash(m));
		return -1;
	}
	if (lora_attach(m, &info->cfg, 0, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/" LORA_MODEL_NAME, dir);
	struct sift_st_file f;
	if (sift_st_open(&f, path, err, errlen) < 0)
		return -1;
	int rc = -1;
	char nm[200];
	for (int i = m->lora->ntensors0; i < m->ntensors; i++) {
		const struct bert_tensor *bt = &m->tensors[i];
		snprintf(nm, sizeof nm, "base_model.model.bert.%s", bt->name);
		if (read_tensor(&f, path, nm, m->params + bt->off, bt->shape[0],
				bt->shape[1], err, errlen) < 0)
			goto out;
	}
	const struct bert_tensor *cw = find(m, "classifier.weight");
	const struct bert_tensor *cb = find(m, "classifier.bias");
	if (!cw || !cb) {
		snprintf(err, errlen, "%s: the model has no classifier", dir);
		goto out;
	}
	if (read_tensor(&f, path, "base_model.model.classifier.weight",
			m->params + cw->off, cw->shape[0], cw->shape[1], err, errlen) < 0 ||
	    read_tensor(&f, path, "base_model.model.classifier.bias",
			m->params + cb->off, cb->shape[0], 0, err, errlen) < 0)
		goto out;
	m->head_initialised = 0;
	rc = 0;
out:
	sift_st_close(&f);
	return rc;
}

int lora_open(struct bert_model *m, const char *base, const char *adapter,
	      enum bert_head want, char *const *labels, int nlabels,
	      char *err, size_t errlen)
{
	struct lora_info li;
	if (lora_probe(adapter, &li, err, errlen) < 0)
		return -1;
	int rc = -1;
	if (want != BERT_HEAD_NONE && want != li.head) {
		snprintf(err, errlen, "%s: the adapter is a %s classifier but the input's task is not",
			 adapter, li.head == BERT_HEAD_TOKEN ? "token" : "sequence");
		goto out;
	}
	char *const *lab = li.labels;
	if (!lab && labels && nlabels == li.nlabels)
		lab = labels;
	if (!lab) {
		/* a peft adapter: the base's id2label, when as many */
		struct bert_config bc;
		if (bert_config_load(&bc, base, err, errlen) < 0)
			goto out;
		int n = bc.nlabels;
		bert_config_free(&bc);
		if (n != li.nlabels) {
			snprintf(err, errlen, "%s: no " LORA_SIFT_NAME " with the labels of its %d classes, and neither the input nor the base's id2label has %d",
				 adapter, li.nlabels, li.nlabels);
			goto out;
		}
	}
	if (bert_load(m, base, li.head, lab, lab ? li.nlabels : 0, 1, 0, err,
		      errlen) < 0)
		goto out;
	if (lora_load(m, adapter, &li, err, errlen) < 0) {
		bert_free(m);
		goto out;
	}
	rc = 0;
out:
	lora_info_free(&li);
	return rc;
}

void lora_merge(struct bert_model *m)
{
	struct lora *L = m->lora;
	if (!L)
		return;
	int r = L->cfg.r;
	for (int k = 0; k < L->layers * LORA_NT; k++) {
		const struct lora_site *s = &L->site[k];
		if (!s->in)
			continue;
		float *W = m->params + s->w_off;
		const float *A = m->params + s->a_off, *B = m->params + s->b_off;
		/* W (out,in) += scale * B (out,r) @ A (r,in) */
		for (int o = 0; o < s->out; o++)
			for (int i = 0; i < s->in; i++) {
				float acc = 0.0f;
				for (int j = 0; j < r; j++)
					acc += B[(size_t)o * r + j] * A[(size_t)j * s->in + i];
				W[(size_t)o * s->in + i] += L->scale * acc;
			}
	}
	m->ntensors = L->ntensors0;
	m->nparams = L->nbase;
	lora_free(L);
	free(L);
	m->lora = NULL;
}
