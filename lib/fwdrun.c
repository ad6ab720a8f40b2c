/* fwdrun.c: the sift-fwd run: a batches stream in, the model over each batch, a predictions stream out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>		/* defines: isfinite */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bert.h"	/* defines: bert_load, bert_pack, bert_forward */
#include "fwdrun.h"
#include "batch.h"	/* defines: sift_batch_rec_read, the one batch reader */
#include "predict.h"	/* defines: sift_pred_batch */
#include "lora.h"	/* defines: lora_open, lora_merge */
#include "ckpt.h"	/* defines: ckpt_save, ckpt_prepare */
#include "stream.h"

/* the model for the stream's task; 0, or -1 with a diagnostic */
static int open_model(struct bert_model *m, const char *dir,
		      const struct sift_header *h, int init, uint64_t seed,
		      const char *adapter)
{
	char err[1024];
	enum bert_head want = !strcmp(h->task, "ner") ? BERT_HEAD_TOKEN :
		!strcmp(h->task, "cls") || !strcmp(h->task, "pair") ?
		BERT_HEAD_SEQ : BERT_HEAD_NONE;
	if (want == BERT_HEAD_NONE) {
		sift_warn("the input's task '%s' is not ner, cls or pair", h->task);
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
	       const struct fwd_cfg *c)
{
	struct bert_batch bb = { 0 };
	struct bert_acts a;
	bert_acts_init(&a);
	int ner = m->head == BERT_HEAD_TOKEN;
	struct sift_pred *pred = sift_pred_new(ner, m->labels, m->nlabels, h);
	if (c->topk > 0 || c->abstain)
		sift_pred_set_decision(pred, c->topk, c->threshold, c->abstain);
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
	if (open_model(&m, c->model_dir, &h, c->init, c->seed, c->adapter) < 0)
		goto done_header;
	if (bert_upload(&m, c->be) < 0) {
		sift_warn("%s: cannot put the model on the %s device",
			  c->model_dir, c->be->name);
		goto done_model;
	}
	sift_header_init(&out, "predictions", h.task, NULL);
	snprintf(out.producer, sizeof out.producer, "sift-fwd %s", SIFT_VERSION);
	sift_header_set_labels(&out, m.labels, m.nlabels);
	out.vocab_size = h.vocab_size;
	memcpy(out.vocab_hash, h.vocab_hash, sizeof out.vocab_hash);
	sift_pack_header(&w, &out, 0);
	if (sift_commit(&w) == 0 && run_batches(r, &m, &h, &w, c) == 0)
		status = SIFT_EXIT_OK;
	/* a write error was reported where it happened */
	if (!ferror(w.f) && sift_writer_close(&w) < 0)
		status = SIFT_EXIT_DATA;
	status = sift_writer_status(&w, status);
	sift_header_free(&out);
done_model:
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
