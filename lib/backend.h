/* backend.h: the op table, one function pointer per op: the contract every backend fills. */
#ifndef SIFT_BACKEND_H
#define SIFT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/*
 * Conventions (read these before adding an op or a backend):
 *
 * - A backend is a struct sift_backend: a name, supports_op, memory
 *   functions, and one function pointer per op.  The CPU backend
 *   (sift_backend_cpu, lib/backend_cpu.c) is the reference; another backend
 *   (CUDA, the kernels/ directory) fills the same slots and is checked against it.
 *   sift_backend_get("cpu") / ("cuda") finds one by name.
 *
 * - All tensors are fp32 (ids int32, masks uint8), row-major, in the
 *   backend's memory (alloc/upload/download).  Shapes are written in the
 *   comment of each op with these letters:
 *     N  rows: the real tokens of a batch, PACKED (no padding rows).
 *        Example b owns rows offs[b] .. offs[b+1]-1; offs is int32 (B+1)
 *        with offs[0] = 0 and offs[B] = N.  Its length is
 *        len_b = offs[b+1] - offs[b] <= T.
 *     B  examples of a batch, T the longest example (the padded length
 *        of the batch on the stream)
 *     C  hidden size, OC output channels, NH heads, hs = C/NH, I the
 *        intermediate size, L labels, V vocabulary
 *   Padding never enters a computation: it is removed when a batch is
 *   packed (bert_pack) and the attention of example b sees its len_b keys
 *   only, which is exactly what the additive -inf padding mask of
 *   transformers computes.
 *
 * - Forward ops are named <op>_forward, backward ops <op>_backward, and
 *   their prototypes are fixed below so that the forward pass, the
 *   training loop and the CUDA kernels agree.  An op family lives in one
 *   file per backend, forward and backward together: lib/cpu_<family>.c
 *   (sift_cpu_<op>, declared in lib/ops_cpu.h) and its twin
 *   kernels/<family>.cu, e.g. lib/cpu_layernorm.c and
 *   kernels/layernorm.cu; tests/unit/test-grad.c checks the CPU
 *   backward against finite differences and test-backend-ops every
 *   backend against the CPU.
 *   Backward ops ACCUMULATE (+=) into parameter gradients and OVERWRITE
 *   input gradients (dinp), unless the comment says otherwise.
 *
 * - A slot left NULL means "not supported"; supports_op() reports it, and
 *   the caller says so instead of crashing.
 *
 * - Determinism: every op gives bit-identical results run to run; on
 *   the CPU for any thread count too (lib/ops_cpu.h says how).  No
 *   reduction may depend on thread scheduling (static partitions over
 *   rows; a reduction over rows, as in a bias gradient, is done by one
 *   thread per output element in a fixed order).
 *
 * - Dropout uses the counter-based hash of lib/rng.h: element i is dropped
 *   when sift_hash_uniform(seed, counter + i) < p and the kept ones are
 *   scaled by 1/(1-p) (dropout_forward below).  Its backward is the same op applied to the gradient with the
 *   same seed.  bert_forward derives the seed of each dropout site with
 *   bert_dropout_seed() (lib/bert.h).
 */

enum sift_op {
	/* forward */
	SIFT_OP_EMBED,
	SIFT_OP_MATMUL,
	SIFT_OP_LAYERNORM,
	SIFT_OP_GELU,
	SIFT_OP_TANH,
	SIFT_OP_ATTENTION,
	SIFT_OP_RESIDUAL,
	SIFT_OP_DROPOUT,
	SIFT_OP_GATHER_ROWS,
	SIFT_OP_SOFTMAX,
	SIFT_OP_CROSSENTROPY,
	SIFT_OP_RESIDUAL_LAYERNORM,
	/* backward and optimizer */
	SIFT_OP_EMBED_BWD,
	SIFT_OP_MATMUL_BWD,
	SIFT_OP_LAYERNORM_BWD,
	SIFT_OP_GELU_BWD,
	SIFT_OP_TANH_BWD,
	SIFT_OP_ATTENTION_BWD,
	SIFT_OP_SCATTER_ROWS_BWD,
	SIFT_OP_CROSSENTROPY_BWD,
	SIFT_OP_ADAMW,
	SIFT_OP_SUMSQ,
	SIFT_OP_SCALE,
	SIFT_OP_RESIDUAL_LAYERNORM_BWD,
	SIFT_OP_ADAMW_ROWS,
	SIFT_OP_SUMSQ_ROWS,
	SIFT_OP_COUNT
};

/* "embed", "matmul_backward", ...: for messages */
const char *sift_op_name(enum sift_op op);

/* a row of the word embeddings' gradient for the _rows ops (live[r]) */
enum {
	SIFT_ROW_ZERO = 0,	/* zero, not read */
	SIFT_ROW_LIVE = 1,	/* read */
	SIFT_ROW_FRESH = 2,	/* zero, and its moments m, v all +0 */
};

struct sift_backend {
	const char *name;
	int host_memory;	/* 1: its memory is the host's, so a pointer
				 * is good on both sides and the copies of
				 * upload and download may be skipped */
	/* what its bits depend on beyond its name (BLAS, kernels, vector
	 * unit), recorded in training state; NULL: the name says it all */
	const char *(*describe)(void);
	/* inference only: cuts a batch of rows into k <= max groups whose
	 * encoders run side by side, one thread each: fills cut[0..k]
	 * (cut[0] = 0, cut[k] = rows) by the row count alone, sets
	 * *threads, returns k; NULL: the batch runs as one group */
	int (*row_groups)(int rows, int *cut, int max, int *threads);
#define SIFT_MAX_ROW_GROUPS 64
	int (*supports_op)(enum sift_op op);
	void *(*alloc)(size_t bytes);		/* zeroed; NULL when out of memory */
	/* as alloc, for a buffer every step uses whole (the gradient, the
	 * optimizer's moments): the CPU backend faults its pages in at
	 * once, where a first pass would fault them one by one (twice
	 * over for a buffer read before it is written); NULL: alloc
	 * (sift_alloc_whole) */
	void *(*alloc_whole)(size_t bytes);
	void (*free)(void *p);
	void (*upload)(void *dst, const void *src_host, size_t bytes);
	void (*download)(void *dst_host, const void *src, size_t bytes);
	void (*memset0)(void *p, size_t bytes);
	void (*sync)(void);

	/* ---- forward ---- */

	/* out = word + position + token type embeddings
	 * out is (N,C); ids, type_ids, pos are (N); wte is (V,C),
	 * wpe is (P,C), wtt is (TV,C) */
	void (*embed_forward)(float *out, const int32_t *ids,
			      const int32_t *type_ids, const int32_t *pos,
			      const float *wte, const float *wpe,
			      const float *wtt, int N, int C);

	/* out = inp @ weight^T + bias (torch.nn.Linear)
	 * out is (N,OC), inp is (N,C), weight is (OC,C), bias is (OC) or NULL */
	void (*matmul_forward)(float *out, const float *inp,
			       const float *weight, const float *bias,
			       int N, int C, int OC);

	/* out = (inp - mean) * rstd * weight + bias, over the last axis;
	 * saves mean and rstd = 1/sqrt(var + eps) for the backward pass
	 * out is (N,C), mean is (N), rstd is (N), inp is (N,C),
	 * weight and bias are (C) */
	void (*layernorm_forward)(float *out, float *mean, float *rstd,
				  const float *inp, const float *weight,
				  const float *bias, int N, int C, float eps);

	/* exact GELU: x * 0.5 * (1 + erf(x / sqrt(2)))
	 * out is (n), inp is (n); out == inp is allowed */
	void (*gelu_forward)(float *out, const float *inp, size_t n);

	/* out is (n), inp is (n); out == inp is allowed */
	void (*tanh_forward)(float *out, const float *inp, size_t n);

	/* multi-head self-attention of each example over its own rows.
	 * qkv holds q, k, v side by side in each row (the packed output of
	 * the fused query/key/value matmul): q of head h of row r is
	 * qkv[r*3C + h*hs .. +hs], k at + C, v at + 2C.
	 * att holds the probabilities BEFORE dropout, packed per example:
	 * example b's block starts at float sift_att_offset(offs, b, NH) and
	 * is (NH, len_b, len_b): softmax over j < len_b of q_i.k_j / sqrt(hs).
	 * Attention dropout (p = 0: none) uses seed with counter
	 * sift_att_offset(offs, b, NH) + (h*len_b + i)*len_b + j, so that an
	 * example is exactly a padding-free batch of one (B=1, T=len_b) of
	 * the CPU ops (lib/ops_cpu.h) called with that counter.
	 * T bounds every len_b (the batch's padded length): a GPU sizes its
	 * launch from it without reading offs back; the CPU ignores it.
	 * out is (N,C), att is (sift_att_offset(offs, B, NH)), qkv is (N,3C),
	 * offs is (B+1) */
	void (*attention_forward)(float *out, float *att, const float *qkv,
				  const int32_t *offs, int B, int T, int C,
				  int NH, float p, uint64_t seed);

	/* out = a + b; out is (n), a is (n), b is (n); out may alias a or b */
	void (*residual_forward)(float *out, const float *a, const float *b,
				 size_t n);

	/* see the dropout convention above (element i uses counter + i);
	 * out is (n), inp is (n), in place allowed; p = 0 copies */
	void (*dropout_forward)(float *out, const float *inp, size_t n,
				float p, uint64_t seed, uint64_t counter);

	/* out[i] = inp[rows[i]]: the [CLS] rows for the pooler
	 * out is (M,C), inp is (N,C), rows is (M) */
	void (*gather_rows_forward)(float *out, const float *inp,
				    const int32_t *rows, int M, int C);

	/* probs = softmax(logits) per row
	 * probs is (M,L), logits is (M,L) */
	void (*softmax_forward)(float *probs, const float *logits, int M,
				int L);

	/* torch.nn.CrossEntropyLoss(weight, label_smoothing=eps) per row,
	 * unreduced: with y = targets[i] and w = weight (NULL: all 1),
	 * losses[i] = (1-eps) w[y] (-log probs[i,y])
	 *           + eps/L sum_c w[c] (-log probs[i,c]),
	 * 0 where y is -100; the caller divides the sum by sum_i w[y]
	 * (eps = 0, weight NULL: -log probs[i,y])
	 * losses is (M), probs is (M,L), targets is (M), weight is (L) */
	void (*crossentropy_forward)(float *losses, const float *probs,
				     const int32_t *targets, int M, int L,
				     const float *weight, float eps);

	/* res = a + b, then out = LayerNorm(res) saving mean and rstd:
	 * residual_forward then layernorm_forward, bit for bit, in one op so
	 * that a backend can do both in one pass over the rows (res is still
	 * written: the backward pass reads it)
	 * res, out, a, b are (N,C), mean, rstd (N), weight, bias (C) */
	void (*residual_layernorm_forward)(float *res, float *out, float *mean,
					   float *rstd, const float *a,
					   const float *b, const float *weight,
					   const float *bias, int N, int C,
					   float eps);

	/* ---- backward and optimizer ---- */

	/* dwte, dwpe, dwtt += scatter of dout; deterministic (no atomics
	 * whose order varies)
	 * dwte is (V,C), dwpe is (P,C), dwtt is (TV,C), dout is (N,C),
	 * ids, type_ids, pos are (N) */
	void (*embed_backward)(float *dwte, float *dwpe, float *dwtt,
			       const float *dout, const int32_t *ids,
			       const int32_t *type_ids, const int32_t *pos,
			       int N, int C);

	/* dinp = dout @ weight (overwritten; NULL: not wanted),
	 * dweight += dout^T @ inp, dbias += sum over rows of dout (NULL: none)
	 * dinp is (N,C), dweight is (OC,C), dbias is (OC), dout is (N,OC),
	 * inp is (N,C), weight is (OC,C) */
	void (*matmul_backward)(float *dinp, float *dweight, float *dbias,
				const float *dout, const float *inp,
				const float *weight, int N, int C, int OC);

	/* dinp = layernorm'(dout) (overwritten), dweight, dbias +=
	 * dinp is (N,C), dweight, dbias are (C), dout is (N,C), inp is (N,C),
	 * weight is (C), mean, rstd are (N) */
	void (*layernorm_backward)(float *dinp, float *dweight, float *dbias,
				   const float *dout, const float *inp,
				   const float *weight, const float *mean,
				   const float *rstd, int N, int C);

	/* dinp = gelu'(inp) * dout; dinp, inp, dout are (n); dinp may alias dout */
	void (*gelu_backward)(float *dinp, const float *inp,
			      const float *dout, size_t n);

	/* dinp = (1 - out^2) * dout, out being tanh's OUTPUT
	 * dinp, out, dout are (n); dinp may alias dout */
	void (*tanh_backward)(float *dinp, const float *out,
			      const float *dout, size_t n);

	/* dqkv = attention'(dout) (overwritten), with the same dropout p and
	 * seed as the forward call; datt is scratch of the size of att;
	 * T as in attention_forward
	 * dqkv is (N,3C), datt and att as att of attention_forward,
	 * dout is (N,C), qkv is (N,3C), offs is (B+1) */
	void (*attention_backward)(float *dqkv, float *datt, const float *dout,
				   const float *qkv, const float *att,
				   const int32_t *offs, int B, int T, int C,
				   int NH, float p, uint64_t seed);

	/* dinp[rows[i]] += dout[i]; other rows untouched
	 * dinp is (N,C), dout is (M,C), rows is (M) */
	void (*scatter_rows_backward)(float *dinp, const float *dout,
				      const int32_t *rows, int M, int C);

	/* the gradient of crossentropy_forward's losses times scale:
	 * dlogits[i,j] = (probs[i,j] ((1-eps) w[y] + eps/L sum_c w[c])
	 *                 - (1-eps) w[y] [j == y] - eps/L w[j]) * scale,
	 * 0 rows where y is -100 (weight NULL, eps 0: (probs - onehot(y))
	 * * scale; scale = 1 / sum_i w[y], usually)
	 * dlogits is (M,L), probs is (M,L), targets is (M), weight is (L) */
	void (*crossentropy_backward)(float *dlogits, const float *probs,
				      const int32_t *targets, int M, int L,
				      const float *weight, float eps,
				      float scale);

	/* AdamW (torch.optim.AdamW) on n parameters; t is the 1-based step.
	 * Each gradient is first multiplied by gscale, the coefficient of
	 * the gradient-norm clip (1: none): scale(grads, n, gscale) then the
	 * update, bit for bit, in one pass that leaves grads as they were
	 * params, grads, m, v are (n) */
	void (*adamw_update)(float *params, const float *grads, float *m,
			     float *v, size_t n, float lr, float beta1,
			     float beta2, float eps, float weight_decay, int t,
			     float gscale);

	/* the sum of squares of x, in double, in an order fixed by n alone
	 * (not by the thread count): a span's share of the squared global
	 * gradient norm.  x is (n) */
	double (*sumsq)(const float *x, size_t n);

	/* x *= s: gradient clipping.  x is (n) */
	void (*scale)(float *x, size_t n, float s);

	/* adamw_update and sumsq over a gradient some of whose rows are
	 * known to be zero: the rows of C floats at x + zoff (x: grads),
	 * zrows of them, where live[r] is not SIFT_ROW_LIVE, are taken as
	 * zero and never read (the word embeddings' rows no token of the
	 * step used).  A row SIFT_ROW_FRESH also has m and v all +0 (no
	 * token has used it since the moments were zeroed): its step is
	 * the decay alone, m and v are not touched.  The same bits as
	 * adamw_update / sumsq on the gradient with those rows zero; NULL
	 * where a backend has no such form (the caller zeroes the rows and
	 * calls the plain op) */
	void (*adamw_update_rows)(float *params, const float *grads, float *m,
				  float *v, size_t n, float lr, float beta1,
				  float beta2, float eps, float weight_decay,
				  int t, float gscale, size_t zoff, size_t zrows,
				  int C, const unsigned char *live);
	double (*sumsq_rows)(const float *x, size_t n, size_t zoff,
			     size_t zrows, int C, const unsigned char *live);

	/* layernorm_backward of dout = da + db, the gradient arriving by both
	 * branches of a residual connection: residual_forward(da, da, db)
	 * then layernorm_backward, bit for bit, in one op so that a backend
	 * need not store the sum.  dinp may alias db; da is scratch (its
	 * contents afterwards are unspecified)
	 * shapes as layernorm_backward; da, db are (N,C) */
	void (*residual_layernorm_backward)(float *dinp, float *dweight,
					    float *dbias, float *da,
					    const float *db, const float *inp,
					    const float *weight,
					    const float *mean,
					    const float *rstd, int N, int C);
};

/* where example b's attention block starts in att: NH * sum over
 * b' < b of len_b'^2 floats; b = B gives the size of att */
static inline size_t sift_att_offset(const int32_t *offs, int b, int NH)
{
	size_t s = 0;
	for (int i = 0; i < b; i++) {
		size_t l = (size_t)(offs[i + 1] - offs[i]);
		s += l * l;
	}
	return s * (size_t)NH;
}

/* the CPU backend (always present): lib/backend_cpu.c */
extern struct sift_backend sift_backend_cpu;

/* be's function for op, or NULL when be leaves it out (supports_op) */
const void *sift_backend_slot(const struct sift_backend *be, enum sift_op op);

/* a backend by name ("cpu", "cuda"), or NULL when not built in */
struct sift_backend *sift_backend_get(const char *name);

/* be->alloc_whole where the backend has it, else be->alloc */
static inline void *sift_alloc_whole(const struct sift_backend *be, size_t bytes)
{
	return be->alloc_whole ? be->alloc_whole(bytes) : be->alloc(bytes);
}

#endif
