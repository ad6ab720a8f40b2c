/* lora.h: LoRA adapters of a BERT encoder, in peft's format. */
#ifndef SIFT_LORA_H
#define SIFT_LORA_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"	/* defines: bert_model */

/* the projections an adapter can target, in layer order */
enum lora_target {
	LORA_QUERY,	/* attention.self.query (C,C) */
	LORA_KEY,	/* attention.self.key (C,C) */
	LORA_VALUE,	/* attention.self.value (C,C) */
	LORA_ATTN_OUT,	/* attention.output.dense (C,C) */
	LORA_INTER,	/* intermediate.dense (I,C) */
	LORA_OUTPUT,	/* output.dense (C,I) */
	LORA_NT
};

/* peft's defaults: alpha 8, dropout 0, query and value */
struct lora_cfg {
	int r;			/* rank, >= 1 */
	float alpha;		/* the update is scaled by alpha / r */
	float dropout;		/* on the adapter's input, while training */
	unsigned targets;	/* 1 << enum lora_target */
	int rslora;		/* peft's use_rslora: alpha / sqrt(r) */
};

#define LORA_DEFAULT_TARGETS ((1u << LORA_QUERY) | (1u << LORA_VALUE))

/* bert_tensor.head of an adapter tensor (lora_A, lora_B) */
#define LORA_TENSOR 2

/* the files of an adapter directory */
#define LORA_CONFIG_NAME "adapter_config.json"
#define LORA_MODEL_NAME "adapter_model.safetensors"
#define LORA_SIFT_NAME "sift-adapter.json"

/* one adapted projection of one layer: W (out,in) at w_off, A (r,in) at
 * a_off, B (out,r) at b_off, offsets in floats of the model's buffer */
struct lora_site {
	size_t w_off, a_off, b_off;
	int in, out;
};

struct lora {
	struct lora_cfg cfg;
	float scale;		/* alpha / r (or / sqrt(r)) */
	int layers;
	struct lora_site *site;	/* [layers * LORA_NT]; in == 0: not adapted */
	size_t nbase;		/* the model's floats before the adapter */
	int ntensors0;		/* its tensors before the adapter */
	uint64_t base_hash;	/* lora_base_hash of the base */
	/* scratch in the backend's memory, grown by lora_reserve */
	const struct sift_backend *be;
	float *s;
	size_t cap_N;
	int cap_train;
	float **u;		/* [layers * LORA_NT]: (N,r), scale * A x */
	float **xd;		/* [layers * LORA_NT]: (N,in), dropout(x);
				 * NULL without dropout (x itself) */
	float *tmp;		/* (N, 3C or I): an update, a gradient */
	float *dus;		/* (N,r) */
	float *dxin;		/* (N, max(C,I)) */
	int32_t *rows;		/* (3N): rows[k N + i] = 3 i + k, the row of
				 * query (k 0), key, value of row i in the
				 * fused (N,3C) = (3N,C) product */
	int32_t *hrows;		/* host copy, to grow */
};

/* "query,value": names are query, key, value, attn-out, intermediate,
 * output (or peft's attention.output.dense, intermediate.dense,
 * output.dense); 0, or -1 with a message naming the bad one */
int lora_parse_targets(const char *list, unsigned *mask, char *err,
		       size_t errlen);
/* the same list written back, sift's names ("query,value") */
void lora_targets_str(unsigned mask, char *buf, size_t len);

/* FNV-1a 64 of the base: every encoder tensor and the pooler (names and
 * values), not the task head nor an adapter */
uint64_t lora_base_hash(const struct bert_model *m);

/*
 * Adds an adapter of c to m (loaded, not uploaded yet): the A and B
 * tensors appended to its buffer and tensor table (LORA_TENSOR), A
 * initialised as peft does (kaiming_uniform_ a = sqrt(5): uniform in
 * +-1/sqrt(in)) from seed, B zero.  0, or -1 with a message in err (a
 * rank above a target's smaller side, out of memory).
 */
int lora_attach(struct bert_model *m, const struct lora_cfg *c,
		uint64_t seed, char *err, size_t errlen);
void lora_free(struct lora *l);

/* grows the scratch for N rows before bert_forward's encoder; 0, or -1
 * when out of memory */
int lora_reserve(const struct bert_model *m, int N, int train);

/*
 * y += scale * B A dropout(x) for target t of layer l, rows r0 .. r0+n-1
 * of the batch (x and y point at row r0 already).  For query, key and
 * value, y is the fused (n,3C) output and the update goes into its
 * third of each row.  x is (n,in), y is (n,out) or (n,3C).
 */
void lora_forward(const struct bert_model *m, int l, enum lora_target t,
		  float *y, const float *x, int r0, int n, int train,
		  uint64_t seed);

struct bert_grads;	/* bert_bwd.h */

/*
 * The adapter's share of the backward pass of that projection: dA, dB
 * += into g (the model's gradients, bert_grads_at), dx += the gradient
 * through the adapter (dx NULL: not wanted).  dy is (N,out) or, for
 * query, key and value, the fused (N,3C); x and dx are (N,in).
 */
void lora_backward(const struct bert_model *m, struct bert_grads *g, int l,
		   enum lora_target t, const float *dy, const float *x,
		   float *dx, int N, int train, uint64_t seed);

/*
 * Writes the adapter and the task head of m with the values params as
 * peft's save_pretrained does (adapter_model.safetensors with
 * base_model.model.bert.<module>.lora_A.weight / lora_B.weight and
 * base_model.model.classifier.*, adapter_config.json), and
 * sift-adapter.json: the base's identity (lora_base_hash, its shape),
 * the head's labels.  base_name goes into base_model_name_or_path.
 * 0, or -1 with a message in err.
 */
int lora_save(const struct bert_model *m, const float *params,
	      const char *base_name, const char *dir, char *err,
	      size_t errlen);

/* what an adapter directory holds, before its base is loaded */
struct lora_info {
	struct lora_cfg cfg;
	enum bert_head head;	/* BERT_HEAD_SEQ or BERT_HEAD_TOKEN */
	int nlabels;
	char **labels;		/* from sift-adapter.json, NULL without */
	int has_hash;		/* sift-adapter.json gave base_hash */
	uint64_t base_hash;
};

/* reads dir's adapter_config.json (and sift-adapter.json when there);
 * 0, or -1 with a message in err naming the file and what is wrong */
int lora_probe(const char *dir, struct lora_info *info, char *err,
	       size_t errlen);
void lora_info_free(struct lora_info *info);

/*
 * Attaches dir's adapter to m (its base, loaded with info's head and
 * labels) and reads the adapter's A, B and head tensors into it: an
 * adapter saved for another base (hash, shapes) is an error.  0, or -1
 * with a message in err.
 */
int lora_load(struct bert_model *m, const char *dir,
	      const struct lora_info *info, char *err, size_t errlen);

/*
 * The base model of dir base with the adapter of dir adapter attached
 * (not merged): the head is the adapter's (want, when not
 * BERT_HEAD_NONE, must be it), its labels those of sift-adapter.json,
 * else labels (nlabels of them, the stream's) when as many.  0, or -1
 * with a message in err.
 */
int lora_open(struct bert_model *m, const char *base, const char *adapter,
	      enum bert_head want, char *const *labels, int nlabels,
	      char *err, size_t errlen);

/* W += scale * B A into every adapted weight of m (host memory, before
 * bert_upload), then drops the adapter: m is an ordinary model */
void lora_merge(struct bert_model *m);

#endif
