/* fwdrun.c: the sift-fwd run: a batches stream in, the model over each batch, a predictions stream out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>		/* defines: isfinite */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bert.h"	/* defines: bert_load, bert_pack, bert_forward */
#include "cli.h"	/* defines: sift_misuse */
#include "fwdrun.h"
#include "batch.h"	/* defines: sift_batch_rec_read, the one batch reader */
#include "predict.h"	/* defines: sift_pred_batch */
#include "problempred.h"	/* defines: struct sift_problem_pred */
#include "fillmask.h"	/* defines: sift_fill_batch, the mlm records */
#include "cpu_bf16.h"	/* defines: sift_cpu_bf16_freeze, sift_cpu_f32_pack */
#include "ops_cpu.h"	/* defines: sift_cpu_gemm_packs */
#include "quant.h"	/* defines: sift_q8_model_quantize */
#include "lora.h"	/* defines: lora_open, lora_merge */
#include "ckpt.h"	/* defines: ckpt_save, ckpt_prepare */
#include "stream.h"
#include "vocab.h"	/* defines: sift_vocab_load, the token strings */

/* mlm: the model with its MLM head (a head-less encoder gets a new one
 * with init); 0, or -1 with a diagnostic */
static int fill_open_model(struct bert_model *m, const char *dir,
			   const struct sift_header *h, enum bert_head has,
			   int init, uint64_t seed)
{
	char err[1024];
	if (has == BERT_HEAD_TOKEN || has == BERT_HEAD_SEQ) {
		sift_warn("%s: the model is a %s classifier, not a masked-language model, but the input's task is mlm",
			  dir, has == BERT_HEAD_TOKEN ? "token" : "sequence");
		return -1;
	}
	if (has != BERT_HEAD_MLM && !init) {
		sift_warn("%s: the model has no MLM head; give --init-head SEED to initialise one",
			  dir);
		return -1;
	}
	if (bert_load(m, dir, BERT_HEAD_MLM, NULL, 0, init, seed, err, sizeof err)) {
		sift_warn("%s", err);
		return -1;
	}
	if (h->vocab_size > 0 && h->vocab_size != m->cfg.vocab_size) {
		sift_warn("%s: the model's vocabulary has %d tokens, the input's %lld",
			  dir, m->cfg.vocab_size, (long long)h->vocab_size);
		bert_free(m);
		return -1;
	}
	return 0;
}

/* the model for the stream's task; 0, or -1 with a diagnostic */
static int open_model(struct bert_model *m, const char *dir,
		      const struct sift_header *h, int init, uint64_t seed,
		      const char *adapter)
{
	char err[1024];
	enum bert_head want = !strcmp(h->task, "ner") ? BERT_HEAD_TOKEN :
		!strcmp(h->task, "cls") || !strcmp(h->task, "pair") ?
		BERT_HEAD_SEQ : !strcmp(h->task, "mlm") ? BERT_HEAD_MLM :
		BERT_HEAD_NONE;
	if (want == BERT_HEAD_NONE) {
		sift_warn("the input's task '%s' is not ner, cls, pair or mlm", h->task);
		return -1;
	}
	if (adapter) {
		/* base + adapter, the update merged: no cost per batch */
		if (lora_open(m, dir, adapter, want, h->labels, h->nlabels, err,
			      sizeof err) < 0) {
			sift_warn("%s", err);
			return -1;
		}
		lora_merge(m);
		goto check;
	}
	struct bert_config c;
	if (bert_config_load(&c, dir, err, sizeof err)) {
		sift_warn("%s", err);
		return -1;
	}
	enum bert_head has = bert_head_of_arch(c.arch);
	bert_config_free(&c);
	if (want == BERT_HEAD_MLM)
		return fill_open_model(m, dir, h, has, init, seed);
	if (has == BERT_HEAD_MLM)
		has = BERT_HEAD_NONE;	/* no classifier: its cls.* are not read */
	if (has != BERT_HEAD_NONE && has != want) {
		sift_warn("%s: the model is a %s classifier but the input's task is %s",
			  dir, has == BERT_HEAD_TOKEN ? "token" : "sequence", h->task);
		return -1;
	}
	/* a trained head brings its labels; a new one takes the stream's */
	int rc;
	if (has != BERT_HEAD_NONE)
		rc = bert_load(m, dir, want, NULL, 0, init, seed, err, sizeof err);
	else if (!init) {
		sift_warn("%s: the model has no trained head; give --init-head SEED to initialise one",
			  dir);
		return -1;
	} else if (h->nlabels < 1) {
		sift_warn("the input header has no labels for a new head");
		return -1;
	} else
		rc = bert_load(m, dir, want, h->labels, h->nlabels, 1, seed,
			       err, sizeof err);
	if (rc) {
		sift_warn("%s", err);
		return -1;
	}
check:
	if (h->vocab_size > 0 && h->vocab_size != m->cfg.vocab_size) {
		sift_warn("%s: the model's vocabulary has %d tokens, the input's %lld",
			  dir, m->cfg.vocab_size, (long long)h->vocab_size);
		bert_free(m);
		return -1;
	}
	return 0;
}

/* each weight of a product whose weight is fixed for the run, (OC,C),
 * given to fn; the bitwise or of fn's results */
static int each_weight(const struct bert_model *m, int (*fn)(const float *, int, int))
{
	const struct bert_config *c = &m->cfg;
	const struct bert_params *p = &m->dp;
	int C = c->hidden, I = c->intermediate;
	int bad = 0;
	for (int l = 0; l < c->layers; l++) {
		const struct bert_layer *w = &p->layer[l];
		bad |= fn(w->qkv_w, 3 * C, C);
		bad |= fn(w->attout_w, C, C);
		bad |= fn(w->fc_w, I, C);
		bad |= fn(w->fcproj_w, C, I);
	}
	bad |= fn(p->pool_w, C, C);
	if (m->head != BERT_HEAD_MLM)
		bad |= fn(p->cls_w, m->nlabels, C);
	bad |= fn(p->mlm_w, C, C);
	if (m->head == BERT_HEAD_MLM)	/* the decoder, tied to the word embeddings */
		bad |= fn(p->wte, c->vocab_size, C);
	return bad;
}

/* --precision bf16 on the cpu: the weights rounded to bf16 once rather
 * than at every call */
static int bf16_freeze(const float *w, int OC, int C)
{
	return sift_cpu_bf16_freeze(w, (size_t)OC * C);
}

/* the index of the first NaN or infinity of x[0..n-1], n when none */
static size_t first_nonfinite(const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return i;
	return n;
}

/* runs every batch of r; 0, or -1 with a diagnostic printed */
static int run_batches(struct sift_reader *r, struct bert_model *m,
	       const struct sift_header *h, struct sift_writer *w,
	       const struct fwd_cfg *c, const struct sift_problem_pred *pp)
{
	struct bert_batch bb = { 0 };
	struct bert_acts a;
	bert_acts_init(&a);
	int ner = m->head == BERT_HEAD_TOKEN;
	struct sift_pred *pred = sift_pred_new(ner, m->labels, m->nlabels, h);
	if (c->topk > 0 || c->abstain)
		sift_pred_set_decision(pred, c->topk, c->threshold, c->abstain);
	if (m->problem)
		sift_pred_set_problem(pred, pp);
	float *probs = NULL, *logits = NULL;
	size_t cap = 0;
	const msgpack_object *rec;
	int ret, status = 0;
	char err[512];
	while ((ret = sift_read(r, &rec)) > 0) {
		if (sift_get(rec, "epoch_end"))
			continue;
		struct sift_batch_rec b;
		int bad = sift_batch_rec_read(r, rec, ner, 0, &b) < 0;
		if (!bad && (bert_pack(&bb, b.ids, b.type_ids, b.mask, (int)b.B,
				       (int)b.T, err, sizeof err) ||
			     bert_check_batch(m, &bb, err, sizeof err))) {
			sift_rerror(r, "%s", err);
			bad = 1;
		}
		sift_batch_rec_free(&b);
		if (bad) {
			status = -1;
			break;
		}
		if (bert_forward(m, &bb, &a, 0, 0) < 0) {
			sift_rerror(r, "out of memory for a batch of %d tokens", bb.N);
			status = -1;
			break;
		}
		size_t need = (size_t)(ner ? bb.N : bb.B) * m->nlabels;
		if (need > cap) {
			cap = need;
			probs = sift_xrealloc(probs, cap * sizeof *probs);
			logits = sift_xrealloc(logits, cap * sizeof *logits);
		}
		m->be->download(probs, a.probs, need * sizeof *probs);
		/* a NaN or infinite weight (or an overflow) ends in NaN
		 * probabilities and all-O tags: refuse them, once a batch */
		m->be->download(logits, a.logits, need * sizeof *logits);
		size_t bad_at = first_nonfinite(logits, need);
		if (bad_at < need) {
			int row = (int)(bad_at / (size_t)m->nlabels), b = row;
			if (ner)
				for (b = 0; b < bb.B - 1 && bb.offs[b + 1] <= row; b++)
					;
			sift_rerror(r, "example %d: non-finite logits (a NaN or infinite weight, or an overflow)",
				    b);
			status = -1;
			break;
		}
		if (m->problem)
			sift_problem_outputs(m->problem, logits, probs, need);
		if (sift_pred_batch(pred, r, rec, &bb, probs, w) < 0) {
			status = -1;
			break;
		}
		/* each batch's records go down the pipe before the next is read */
		if (sift_writer_flush(w) < 0) {
			status = -1;
			break;
		}
	}
	if (ret < 0)
		status = -1;
	if (status == 0 && ret == 0 && sift_pred_finish(pred, r) < 0)
		status = -1;
	sift_pred_free(pred);
	free(probs);
	free(logits);
	bert_acts_free(&a);
	bert_batch_free(&bb);
	return status;
}

/* mlm: every batch's [MASK] and labelled rows through the MLM head,
 * one fill-mask record per example; 0, or -1 with a diagnostic */
static int run_fill(struct sift_reader *r, struct bert_model *m,
		    struct sift_fill *f, struct sift_writer *w)
{
	struct bert_batch bb = { 0 };
	struct bert_acts a;
	bert_acts_init(&a);
	float *logits = NULL, *probs = NULL;
	size_t cap = 0;
	const msgpack_object *rec;
	int ret, status = 0, V = m->nout;
	char err[512];
	while (status == 0 && (ret = sift_read(r, &rec)) > 0) {
		if (sift_get(rec, "epoch_end"))
			continue;
		struct sift_batch_rec b;
		if (sift_batch_rec_read(r, rec, 1, 0, &b) < 0) {
			sift_batch_rec_free(&b);
			status = -1;
			break;
		}
		if (bert_pack(&bb, b.ids, b.type_ids, b.mask, (int)b.B, (int)b.T,
			      err, sizeof err) ||
		    bert_check_batch(m, &bb, err, sizeof err)) {
			sift_rerror(r, "%s", err);
			status = -1;
		} else if (sift_fill_rows(f, &bb, b.labels) < 0 ||
			   bert_forward(m, &bb, &a, 0, 0) < 0) {
			sift_rerror(r, "out of memory for a batch of %d tokens", bb.N);
			status = -1;
		}
		size_t need = (size_t)bb.M * V;
		if (status == 0 && need > cap) {
			cap = need;
			logits = sift_xrealloc(logits, cap * sizeof *logits);
			probs = sift_xrealloc(probs, cap * sizeof *probs);
		}
		if (status == 0 && need > 0) {
			m->be->download(logits, a.logits, need * sizeof *logits);
			m->be->download(probs, a.probs, need * sizeof *probs);
			size_t bad_at = first_nonfinite(logits, need);
			if (bad_at < need) {
				int row = bb.mlm_rows[bad_at / (size_t)V], e = 0;
				while (e < bb.B - 1 && bb.offs[e + 1] <= row)
					e++;
				sift_rerror(r, "example %d: non-finite logits (a NaN or infinite weight, or an overflow)",
					    e);
				status = -1;
			}
		}
		if (status == 0 &&
		    (sift_fill_batch(f, r, rec, &bb, b.labels, logits, probs, w) < 0 ||
		     sift_writer_flush(w) < 0))
			status = -1;
		sift_batch_rec_free(&b);
	}
	if (ret < 0)
		status = -1;
	free(logits);
	free(probs);
	bert_acts_free(&a);
	bert_batch_free(&bb);
	return status;
}

/* mlm: the constants of fill-mask, from the stream and the model:
 * the [MASK] id, the token strings, --top-k (default 5); NULL with a
 * diagnostic and *status set */
static struct sift_fill *fill_setup(struct sift_reader *r, const struct fwd_cfg *c,
				    const struct bert_model *m,
				    struct sift_vocab *v, int *status)
{
	int V = m->nout, k = c->topk > 0 ? c->topk : 5;
	int64_t mask_id;
	char err[1024];
	*status = SIFT_EXIT_DATA;
	if (k > V) {
		*status = sift_misuse("--top-k %d: the model's vocabulary has %d tokens", k, V);
		return NULL;
	}
	if (sift_need_int(r, sift_reader_header_obj(r), "mask_id", &mask_id) < 0)
		return NULL;
	if (mask_id < 0 || mask_id >= V) {
		sift_rerror(r, "key 'mask_id': %lld is no token id of a vocabulary of %d",
			    (long long)mask_id, V);
		return NULL;
	}
	if (sift_vocab_load(v, c->model_dir, err, sizeof err) < 0) {
		sift_warn("%s", err);
		return NULL;
	}
	if (v->n != V) {
		sift_warn("%s: the vocabulary has %d tokens, the model %d",
			  c->model_dir, v->n, V);
		sift_vocab_free(v);
		return NULL;
	}
	return sift_fill_new(v->tok, V, k, (int32_t)mask_id);
}

int fwd_run(const struct fwd_cfg *c)
{
	int fd = strcmp(c->input, "-") ? open(c->input, O_RDONLY) : 0;
	if (fd < 0) {
		sift_warn("%s: %s", c->input, strerror(errno));
		return SIFT_EXIT_DATA;
	}
	struct sift_writer w;
	if (sift_writer_init(&w, stdout, "stdout", c->force) < 0)
		return SIFT_EXIT_USAGE;	/* a terminal: misuse, as everywhere */
	struct sift_reader *r = sift_reader_new(fd, c->input);
	struct sift_header h, out;
	struct bert_model m;
	int status = SIFT_EXIT_DATA;
	if (sift_read_header(r, &h) < 0)
		goto done_reader;
	if (strcmp(h.kind, "batches")) {
		sift_rerror(r, "expected a batches stream (from sift-batch), got kind '%s'", h.kind);
		goto done_header;
	}
	if ((c->topk > 0 || c->abstain) && !strcmp(h.task, "ner")) {
		sift_rerror(r, "--top-k and --threshold are for cls and pair, the input's task is ner");
		goto done_header;
	}
	int mlm = !strcmp(h.task, "mlm");
	if (c->abstain && mlm) {
		sift_rerror(r, "--threshold and --abstain are for cls and pair, the input's task is mlm");
		goto done_header;
	}
	struct sift_vocab v;
	struct sift_fill *fill = NULL;
	if (open_model(&m, c->model_dir, &h, c->init, c->seed, c->adapter) < 0)
		goto done_header;
	/* multi-label and regression: the checkpoint's problem_type (a new
	 * head: the stream's), and the label thresholds */
	int problem = m.head_initialised ? sift_problem_of_header(r) :
		sift_problem_of_model(&m, c->model_dir);
	float *thr = NULL;
	struct sift_problem_pred pp = { 0 };
	if (problem < 0)
		goto done_model;
	m.problem = problem;
	if (problem != SIFT_PROBLEM_MULTI && (c->thresholds || (c->has_threshold && !c->abstain))) {
		status = sift_misuse("%s: --threshold%s without --abstain: for a multi-label model only",
				     c->model_dir, c->thresholds ? "s" : "");
		goto done_model;
	}
	if (problem && (c->topk > 0 || c->abstain)) {
		status = sift_misuse("%s: --top-k and --abstain are for single-label models",
				     c->model_dir);
		goto done_model;
	}
	if (problem) {
		thr = sift_xmalloc(m.nlabels * sizeof *thr);
		if (sift_problem_read_thresholds(c->thresholds, m.labels, m.nlabels,
						 c->has_threshold ? c->threshold : 0.5f, thr) < 0)
			goto done_model;
		pp = (struct sift_problem_pred){ problem, m.labels, m.nlabels, &h, thr };
	}
	if (mlm && !(fill = fill_setup(r, c, &m, &v, &status)))
		goto done_model;
	if (bert_upload(&m, c->be) < 0) {
		sift_warn("%s: cannot put the model on the %s device",
			  c->model_dir, c->be->name);
		goto done_model;
	}
	if (c->int8 && sift_q8_model_quantize(&m) < 0) {
		sift_warn("%s: out of memory quantising the model", c->model_dir);
		goto done_model;
	}
	if (sift_cpu_bf16_on() && each_weight(&m, bf16_freeze) < 0) {
		sift_warn("%s: out of memory rounding the model to bf16", c->model_dir);
		goto done_model;
	}
	/* fp32 on the cpu's oneDNN: the weights packed once for its matmul,
	 * rather than by every product (about a tenth of their time) */
	if (!c->int8 && !sift_cpu_bf16_on() && c->be == &sift_backend_cpu &&
	    sift_cpu_gemm_packs() && each_weight(&m, sift_cpu_f32_pack) < 0) {
		sift_warn("%s: out of memory packing the model's weights", c->model_dir);
		goto done_model;
	}
	sift_header_init(&out, "predictions", h.task, NULL);
	snprintf(out.producer, sizeof out.producer, "sift-fwd %s", SIFT_VERSION);
	sift_header_set_labels(&out, m.labels, m.nlabels);
	out.vocab_size = h.vocab_size;
	memcpy(out.vocab_hash, h.vocab_hash, sizeof out.vocab_hash);
	sift_pack_header(&w, &out, m.problem != 0);
	if (m.problem) {
		sift_pack_str(&w.pk, "problem_type");
		sift_pack_str(&w.pk, sift_problem_name(m.problem));
	}
	if (sift_commit(&w) == 0 &&
	    (fill ? run_fill(r, &m, fill, &w) : run_batches(r, &m, &h, &w, c, &pp)) == 0)
		status = SIFT_EXIT_OK;
	/* a write error was reported where it happened */
	if (!ferror(w.f) && sift_writer_close(&w) < 0)
		status = SIFT_EXIT_DATA;
	status = sift_writer_status(&w, status);
	sift_header_free(&out);
done_model:
	sift_cpu_bf16_thaw();
	sift_cpu_f32_unpack();
	free(thr);
	if (fill) {
		sift_fill_free(fill);
		sift_vocab_free(&v);
	}
	bert_free(&m);
done_header:
	sift_header_free(&h);
done_reader:
	sift_reader_free(r);
	sift_writer_free(&w);
	if (fd > 0)
		close(fd);
	return status;
}

/* dir is missing, empty, or holds a model.safetensors */
static int is_model_dir(const char *dir)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/model.safetensors", dir);
	if (access(p, F_OK) == 0)
		return 1;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT;
	struct dirent *e;
	int empty = 1;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

int fwd_save_merged(const struct fwd_cfg *c)
{
	char err[1024];
	struct bert_model m;
	if (lora_open(&m, c->model_dir, c->adapter, BERT_HEAD_NONE, NULL, 0, err,
		      sizeof err) < 0) {
		sift_warn("%s", err);
		return SIFT_EXIT_DATA;
	}
	lora_merge(&m);
	/* written whole and swapped in, as a checkpoint is, with the base's
	 * tokenizer files; a directory that holds something else than a
	 * model is not replaced */
	int rc = ckpt_prepare(c->save_merged, err, sizeof err);
	if (rc == 0 && !is_model_dir(c->save_merged)) {
		snprintf(err, sizeof err, "%s: exists and holds no model.safetensors; not replaced",
			 c->save_merged);
		rc = -1;
	}
	if (rc == 0)
		rc = ckpt_save(c->save_merged, &m, m.params, c->model_dir, NULL,
			       NULL, NULL, NULL, 0, NULL, 0, err, sizeof err);
	if (rc < 0)
		sift_warn("%s", err);
	bert_free(&m);
	return rc < 0 ? SIFT_EXIT_DATA : SIFT_EXIT_OK;
}
