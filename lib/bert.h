/* bert.h: a BERT encoder with its heads: config, parameters, forward pass. */
#ifndef SIFT_BERT_H
#define SIFT_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

struct lora;
struct sift_q8_model;

/* config.json of a Hugging Face BERT directory */
struct bert_config {
	int vocab_size, hidden, layers, heads, intermediate;
	int max_pos, type_vocab, pad_token_id;
	float ln_eps, init_range;
	float hidden_dropout, attn_dropout;
	float classifier_dropout;	/* -1 when null: hidden_dropout applies */
	char arch[64];			/* architectures[0], "" when absent */
	int nlabels;			/* from id2label, 0 when absent */
	char **labels;			/* id2label in id order, owned */
	void *json;			/* the whole config (json_t *), kept
					 * for bert_save */
};

/* reads dir/config.json; 0, or -1 with a message in err */
int bert_config_load(struct bert_config *c, const char *dir, char *err,
		     size_t errlen);
/* the same from the file path itself (messages name path) */
int bert_config_read(struct bert_config *c, const char *path, char *err,
		     size_t errlen);
void bert_config_free(struct bert_config *c);

enum bert_head {
	BERT_HEAD_NONE = 0,	/* encoder only */
	BERT_HEAD_TOKEN,	/* BertForTokenClassification: (N,L) logits */
	BERT_HEAD_SEQ,		/* BertForSequenceClassification: (B,L) logits */
	BERT_HEAD_MLM,		/* BertForMaskedLM: (M,V) logits of the M
				 * labelled (masked) rows only */
};

/* the head that config.json's architectures names, BERT_HEAD_NONE else */
enum bert_head bert_head_of_arch(const char *arch);

/* named views into the parameter buffer; offsets are in floats */
struct bert_layer {
	float *qkv_w;	/* (3C,C): query.weight, key.weight, value.weight */
	float *qkv_b;	/* (3C): query.bias, key.bias, value.bias */
	float *attout_w, *attout_b;	/* (C,C), (C): attention.output.dense */
	float *ln1_w, *ln1_b;		/* (C): attention.output.LayerNorm */
	float *fc_w, *fc_b;		/* (I,C), (I): intermediate.dense */
	float *fcproj_w, *fcproj_b;	/* (C,I), (C): output.dense */
	float *ln2_w, *ln2_b;		/* (C): output.LayerNorm */
};

struct bert_params {
	float *wte;		/* (V,C) word_embeddings */
	float *wpe;		/* (P,C) position_embeddings */
	float *wtt;		/* (TV,C) token_type_embeddings */
	float *emb_ln_w, *emb_ln_b;	/* (C) embeddings.LayerNorm */
	struct bert_layer *layer;	/* [layers] */
	float *pool_w, *pool_b;	/* (C,C), (C) pooler.dense; NULL without */
	float *cls_w, *cls_b;	/* (L,C), (L) classifier; NULL without */
	/* the MLM head (NULL without): cls.predictions.transform.dense
	 * (C,C), (C), its LayerNorm (C), (C), and cls.predictions.bias (V);
	 * the decoder weight is wte itself (tied) */
	float *mlm_w, *mlm_b, *mlm_ln_w, *mlm_ln_b, *mlm_bias;
};

/* one tensor of the Hugging Face layout, as a view of the buffer */
struct bert_tensor {
	char name[96];		/* Hugging Face name, without "bert." (the
				 * head's classifier.* and cls.* are top-level
				 * names in the file) */
	size_t off;		/* offset in floats from the buffer start */
	int ndim;
	int64_t shape[2];
	int head;		/* 1 for pooler/classifier/cls.* tensors */
};

/* the floats a tensor holds */
static inline size_t bert_tensor_numel(const struct bert_tensor *t)
{
	return (size_t)t->shape[0] * (t->ndim == 2 ? (size_t)t->shape[1] : 1);
}

struct bert_model {
	struct bert_config cfg;
	enum bert_head head;
	int has_pooler;		/* never with a token head */
	int full_last;		/* 1: the last layer over every row, even
				 * for a sequence head (bert_acts: trim);
				 * the tests compare the two */
	int nlabels;		/* head labels (0 without a head, and for MLM) */
	char **labels;		/* owned */
	int nout;		/* logit columns: nlabels, vocab_size for MLM */
	/* sequence head: enum sift_problem (problem.h), 0 single-label;
	 * set by the caller (sift_problem_of_model, or the stream's) */
	int problem;
	size_t nparams;
	float *params;		/* ONE buffer of nparams floats, host memory */
	struct bert_params p;	/* views into params */
	struct bert_tensor *tensors;
	int ntensors;
	int head_initialised;	/* the head came from the seed, not the file */
	/* the parameters in a backend's memory (bert_upload); on the CPU
	 * dparams == params and dp == p */
	const struct sift_backend *be;
	float *dparams;
	struct bert_params dp;
	/* the classifier loss, torch.nn.CrossEntropyLoss(weight,
	 * label_smoothing) (classweights.h: bert_set_loss, after
	 * bert_upload): class weights (nout) on the host and in the
	 * backend's memory, NULL: all 1; the label smoothing, 0: none */
	float *ce_weight, *ce_dweight;
	float ce_smoothing;
	struct lora *lora;	/* an adapter (lib/lora.h), NULL without */
	/* int8 inference (lib/quant.h, sift-fwd --precision int8): the
	 * linear layers quantised, NULL: fp32 */
	struct sift_q8_model *q8;
};

/* room for extra floats (zeroed) and extra_tensors more tensors at the
 * end of the buffer and the table, the views moved with it; before
 * bert_upload (host memory).  The offset of the first new float, or
 * (size_t)-1 when out of memory */
size_t bert_grow(struct bert_model *m, size_t extra, int extra_tensors);

/* puts the parameters where backend be computes (a copy for a device,
 * none for the CPU); call again after changing params on the host.
 * 0, or -1 when out of memory */
int bert_upload(struct bert_model *m, const struct sift_backend *be);

/*
 * Loads dir (config.json and model.safetensors).  head: the head wanted
 * (BERT_HEAD_NONE: the one the config names, or none).  labels/nlabels:
 * the label set the caller needs (NULL: the config's id2label; unused
 * for BERT_HEAD_MLM, whose outputs are the vocabulary).  When the
 * checkpoint lacks the head's tensors, they are initialised as
 * transformers does (normal(0, initializer_range) weights, LayerNorm
 * weight 1, zero biases) from init_seed if allow_init, else that is an
 * error; tensors of another head in the file are not read.  The pooler:
 * a sequence head has one (loaded, else initialised likewise), a token
 * or MLM head none (as transformers' BertForTokenClassification and
 * BertForMaskedLM: one in the file is not loaded), no head the file's
 * if it has one.  An MLM head needs tie_word_embeddings (not false).
 * Returns 0, or -1 with a message in err naming the tensor or file.
 */
int bert_load(struct bert_model *m, const char *dir, enum bert_head head,
	      char *const *labels, int nlabels, int allow_init,
	      uint64_t init_seed, char *err, size_t errlen);
void bert_free(struct bert_model *m);

/*
 * A model of config c in memory, without a file: c is taken over (and
 * zeroed; bert_free frees it).  Every encoder parameter is 0, for the
 * caller to fill through m->tensors; the head (and the pooler of a
 * sequence head) is initialised from init_seed exactly as bert_load
 * initialises a checkpoint's missing head.  The size is checked before
 * anything is allocated: more than max_params parameters (> 0) is an
 * error.  0, or -1 with a message naming name in err.
 */
int bert_new(struct bert_model *m, struct bert_config *c, enum bert_head head,
	     char *const *labels, int nlabels, uint64_t init_seed,
	     double max_params, const char *name, char *err, size_t errlen);

/* writes the parameters as model.safetensors (Hugging Face names with
 * the "bert." prefix for the encoder when there is a head) and
 * config.json with id2label/label2id into dir (created if missing);
 * 0, or -1 with a message in err */
int bert_save(const struct bert_model *m, const char *dir, char *err,
	      size_t errlen);

/* a batch, packed (see backend.h): N real tokens of B examples */
struct bert_batch {
	int B, T, N;
	int32_t *ids, *type_ids, *pos;	/* (N) */
	int32_t *offs;			/* (B+1) */
	int32_t *cls_rows;		/* (B): offs[0..B-1] */
	int M;				/* MLM: the labelled rows */
	int32_t *mlm_rows;		/* (M), ascending (bert_pack_mlm) */
	size_t cap_N, cap_B, cap_M;
};

/* packs a padded batch: ids, type_ids (NULL: zeros) and mask are (B,T);
 * each mask row must be ones then zeros (right padding) and start with a
 * real token.  0, or -1 with a message naming the example in err. */
int bert_pack(struct bert_batch *bb, const int32_t *ids,
	      const int32_t *type_ids, const uint8_t *mask, int B, int T,
	      char *err, size_t errlen);
void bert_batch_free(struct bert_batch *bb);
/* after bert_pack, for an MLM head: the packed rows whose label (B,T,
 * as on the stream) is not -100 become bb->mlm_rows, the rows the head
 * runs on (bb->M of them; padding never counts).  0, or -1 when out of
 * memory */
int bert_pack_mlm(struct bert_batch *bb, const int32_t *labels);
/* checks a packed batch against the model: ids below the vocabulary,
 * type ids below the type vocabulary, lengths within the positions;
 * 0, or -1 with a message naming the example in err */
int bert_check_batch(const struct bert_model *m, const struct bert_batch *bb,
		     char *err, size_t errlen);

/*
 * The activations a forward pass saves for the backward pass, all in
 * ONE buffer, grown when a batch needs more (N, B or T larger).  Per
 * layer l, with x the layer input (x of layer 0 is emb_out, x of layer
 * l > 0 is ln2 of layer l-1):
 *   qkv      (N,3C) = x @ qkv_w^T + qkv_b
 *   att      attention probabilities (before dropout), packed per
 *            example as attention_forward in backend.h says
 *   atty     (N,C)  attention context (after attention dropout)
 *   attproj  (N,C)  = atty @ attout_w^T + attout_b, then hidden dropout
 *                    in place (so it holds the dropped values)
 *   res1     (N,C)  = attproj + x
 *   ln1      (N,C)  = LayerNorm(res1); ln1_mean, ln1_rstd (N)
 *   fch      (N,I)  = ln1 @ fc_w^T + fc_b
 *   fch_gelu (N,I)  = gelu(fch)
 *   fcproj   (N,C)  = fch_gelu @ fcproj_w^T + fcproj_b, dropout in place
 *   res2     (N,C)  = fcproj + ln1
 *   ln2      (N,C)  = LayerNorm(res2); ln2_mean, ln2_rstd (N)
 * Embeddings: emb (N,C) the sum, emb_ln (N,C) = LayerNorm(emb) with
 * emb_mean, emb_rstd (N), emb_out (N,C) = dropout(emb_ln).
 * Heads:
 *   token:  head_in (N,C) = dropout(ln2 of the last layer);
 *           logits, probs (N,L)
 *   seq:    cls (B,C) the [CLS] rows of the last ln2; pool_pre (B,C) =
 *           cls @ pool_w^T + pool_b; pooled (B,C) = tanh(pool_pre);
 *           head_in (B,C) = dropout(pooled); logits, probs (B,L)
 *   mlm:    mlm_in (M,C) the labelled rows of the last ln2 (mlm_rows);
 *           mlm_pre (M,C) = mlm_in @ mlm_w^T + mlm_b; mlm_act (M,C) =
 *           gelu(mlm_pre); mlm_h (M,C) = LayerNorm(mlm_act) with
 *           mlm_mean, mlm_rstd (M); logits, probs (M,V) with logits =
 *           mlm_h @ wte^T + mlm_bias (no dropout in this head)
 *   none:   only the encoder; ln2 of the last layer is the output.
 * Per-layer arrays are [layers] of pointers into the buffer.  With
 * train = 0 the layers share their buffers (only the last layer's values
 * remain) and emb_out, head_in alias their undropped inputs.
 */
struct bert_acts {
	const struct sift_backend *be;	/* whose memory buf is in */
	int32_t *in;		/* the batch in be's memory: ids, type_ids,
				 * pos (N each), offs (B+1), cls_rows (B),
				 * mlm_rows (M), out_rows (B) */
	int N, B, T, M;		/* the shape of the last forward pass */
	size_t natt;		/* floats of att per layer */
	int cap_in;		/* int32s in in */
	size_t cap;		/* floats in buf */
	int shared;		/* inference: the layers share one set of
				 * buffers, so only the last layer's stay */
	float *buf;
	size_t nfloats;
	float *emb, *emb_ln, *emb_mean, *emb_rstd, *emb_out;
	float **qkv, **att, **atty, **attproj, **res1, **ln1, **ln1_mean,
	      **ln1_rstd, **fch, **fch_gelu, **fcproj, **res2, **ln2,
	      **ln2_mean, **ln2_rstd;
	float *cls, *pool_pre, *pooled, *head_in, *logits, *probs;
	float *mlm_in, *mlm_pre, *mlm_act, *mlm_h, *mlm_mean, *mlm_rstd;
	float *out;		/* (N,C): ln2 of the last layer; with trim,
				 * only rows out_rows hold anything */
	/*
	 * trim: a sequence head reads the last layer at the [CLS] rows
	 * alone, so past its attention (whose keys and values need every
	 * row) the last layer runs over those B rows only, gathered to
	 * rows out_rows (0 .. B-1 in training), catty holding its
	 * attention output there; the other rows of attproj .. ln2 of the
	 * last layer are not written
	 */
	int trim;
	float *catty;
};

/* dropout seeds: site k of layer l is bert_dropout_seed(seed, 4*l + k)
 * with k = 0 attention probabilities, 1 attention output, 2 feed-forward
 * output; the embeddings are site 4*layers, the head 4*layers + 1 */
uint64_t bert_dropout_seed(uint64_t seed, int site);

void bert_acts_init(struct bert_acts *a);
void bert_acts_free(struct bert_acts *a);

/*
 * The forward pass through the op table of m->be (bert_upload first);
 * bb is in host memory and is copied to the backend.
 * train = 0: no dropout (inference).  train = 1: dropout with the
 * config's probabilities and seeds from bert_dropout_seed(seed, site).
 * Fills a (growing it as needed); logits and probs per the head.
 * 0, or -1 when out of memory.
 */
int bert_forward(const struct bert_model *m,
		 const struct bert_batch *bb, struct bert_acts *a, int train,
		 uint64_t seed);

#endif
