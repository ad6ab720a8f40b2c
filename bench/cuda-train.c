/* cuda-train.c: trains a BERT checkpoint on synthetic batches through one backend, for the CPU/CUDA loss-curve parity run and the GPU benchmark. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>	/* defines: openblas_set_num_threads */

#include "backend.h"
#include "bert.h"
#include "device.h"
#include "rng.h"
#include "stream.h"	/* defines: sift_setprog, sift_die, exit statuses */
#include "trainer.h"	/* defines: trainer_init, trainer_micro, trainer_step */
#ifdef SIFT_CUDA
#include "../kernels/backend_cuda.h"	/* defines: sift_cuda_set_precision, sift_cuda_describe */
#endif

/*
 * Not an installed program: scripts/check-gpu.sh, bench/bench-cuda.sh
 * and scripts/check-cuda-emu.sh build it.  Each step draws a batch from
 * the seed alone (so every backend sees the same batches) and hands it
 * to the library's trainer (lib/train.c), the step sift-train takes:
 * trainer_micro (forward with dropout, loss, backward), trainer_step
 * (global gradient norm clipped at 1, AdamW at a constant lr 5e-5
 * without warmup, weight decay 0.01 except biases and LayerNorm; the
 * token head's pooler frozen), dropout seeded by trainer_batch_seed.
 * It prints one line per step with the loss and norm in %a (exact) and
 * %.9g, then a hash of the final parameters, so two runs can be
 * compared bit for bit; a loss or norm that is not finite is an error.
 * With --bench W it runs W untimed steps first and prints tokens/s and
 * model FLOPs utilisation.
 */

static const char usage[] =
	"usage: cuda-train [--device auto|cpu|cuda] [--precision fp32|bf16]\n"
	"                  [--head seq|token] [--steps n] [--batch B] [--seq T]\n"
	"                  [--varlen] [--bench warmup] [--profile] [--seed n]\n"
	"                  model-dir\n";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- --profile: every op of the table timed on its own ----
 * A copy of the backend whose slots sync the device, call the real op and
 * sync again, adding the wall time to the op's total.  The syncs cost a
 * launch latency or so per call (the count is printed), so small ops read
 * high; the shares of the large ones are what this is for. */
static struct sift_backend real;
static double op_s[SIFT_OP_COUNT];
static long op_n[SIFT_OP_COUNT];
static double op_t0;

static void op_in(void)
{
	real.sync();
	op_t0 = now();
}

static void op_out(enum sift_op op)
{
	real.sync();
	op_s[op] += now() - op_t0;
	op_n[op]++;
}

#define PROF(slot, op, params, args) \
	static void p_##slot params { op_in(); real.slot args; op_out(op); }
#define PROFR(slot, op, rt, params, args) \
	static rt p_##slot params { op_in(); rt r_ = real.slot args; op_out(op); return r_; }

PROF(embed_forward, SIFT_OP_EMBED, (float *o, const int32_t *i, const int32_t *t,
     const int32_t *p, const float *a, const float *b, const float *c, int N, int C),
     (o, i, t, p, a, b, c, N, C))
PROF(matmul_forward, SIFT_OP_MATMUL, (float *o, const float *i, const float *w,
     const float *b, int N, int C, int OC), (o, i, w, b, N, C, OC))
PROF(layernorm_forward, SIFT_OP_LAYERNORM, (float *o, float *m, float *r, const float *i,
     const float *w, const float *b, int N, int C, float e), (o, m, r, i, w, b, N, C, e))
PROF(gelu_forward, SIFT_OP_GELU, (float *o, const float *i, size_t n), (o, i, n))
PROF(tanh_forward, SIFT_OP_TANH, (float *o, const float *i, size_t n), (o, i, n))
PROF(attention_forward, SIFT_OP_ATTENTION, (float *o, float *a, const float *q,
     const int32_t *f, int B, int T, int C, int NH, float p, uint64_t s),
     (o, a, q, f, B, T, C, NH, p, s))
PROF(residual_forward, SIFT_OP_RESIDUAL, (float *o, const float *a, const float *b,
     size_t n), (o, a, b, n))
PROF(dropout_forward, SIFT_OP_DROPOUT, (float *o, const float *i, size_t n, float p,
     uint64_t s, uint64_t c), (o, i, n, p, s, c))
PROF(gather_rows_forward, SIFT_OP_GATHER_ROWS, (float *o, const float *i,
     const int32_t *r, int M, int C), (o, i, r, M, C))
PROF(softmax_forward, SIFT_OP_SOFTMAX, (float *p, const float *l, int M, int L),
     (p, l, M, L))
PROF(crossentropy_forward, SIFT_OP_CROSSENTROPY, (float *o, const float *p,
     const int32_t *t, int M, int L, const float *w, float e), (o, p, t, M, L, w, e))
PROF(embed_backward, SIFT_OP_EMBED_BWD, (float *a, float *b, float *c, const float *d,
     const int32_t *i, const int32_t *t, const int32_t *p, int N, int C),
     (a, b, c, d, i, t, p, N, C))
PROF(matmul_backward, SIFT_OP_MATMUL_BWD, (float *di, float *dw, float *db,
     const float *d, const float *i, const float *w, int N, int C, int OC),
     (di, dw, db, d, i, w, N, C, OC))
PROF(layernorm_backward, SIFT_OP_LAYERNORM_BWD, (float *di, float *dw, float *db,
     const float *d, const float *i, const float *w, const float *m, const float *r,
     int N, int C), (di, dw, db, d, i, w, m, r, N, C))
PROF(gelu_backward, SIFT_OP_GELU_BWD, (float *di, const float *i, const float *d,
     size_t n), (di, i, d, n))
PROF(tanh_backward, SIFT_OP_TANH_BWD, (float *di, const float *o, const float *d,
     size_t n), (di, o, d, n))
PROF(attention_backward, SIFT_OP_ATTENTION_BWD, (float *dq, float *da, const float *d,
     const float *q, const float *a, const int32_t *f, int B, int T, int C, int NH,
     float p, uint64_t s), (dq, da, d, q, a, f, B, T, C, NH, p, s))
PROF(scatter_rows_backward, SIFT_OP_SCATTER_ROWS_BWD, (float *di, const float *d,
     const int32_t *r, int M, int C), (di, d, r, M, C))
PROF(crossentropy_backward, SIFT_OP_CROSSENTROPY_BWD, (float *dl, const float *p,
     const int32_t *t, int M, int L, const float *w, float e, float s),
     (dl, p, t, M, L, w, e, s))
PROF(adamw_update, SIFT_OP_ADAMW, (float *p, const float *g, float *m, float *v,
     size_t n, float lr, float b1, float b2, float e, float wd, int t, float gs),
     (p, g, m, v, n, lr, b1, b2, e, wd, t, gs))
PROFR(sumsq, SIFT_OP_SUMSQ, double, (const float *x, size_t n), (x, n))
PROF(scale, SIFT_OP_SCALE, (float *x, size_t n, float s), (x, n, s))
PROF(residual_layernorm_forward, SIFT_OP_RESIDUAL_LAYERNORM, (float *res, float *o,
     float *m, float *r, const float *a, const float *b, const float *w,
     const float *bi, int N, int C, float e), (res, o, m, r, a, b, w, bi, N, C, e))
PROF(residual_layernorm_backward, SIFT_OP_RESIDUAL_LAYERNORM_BWD, (float *di,
     float *dw, float *db, float *da, const float *d2, const float *i,
     const float *w, const float *m, const float *r, int N, int C),
     (di, dw, db, da, d2, i, w, m, r, N, C))

static struct sift_backend *profiled(const struct sift_backend *be)
{
	static struct sift_backend p;
	real = *be;
	p = *be;
#define SET(slot) p.slot = p_##slot
	SET(embed_forward); SET(matmul_forward); SET(layernorm_forward);
	SET(gelu_forward); SET(tanh_forward); SET(attention_forward);
	SET(residual_forward); SET(dropout_forward); SET(gather_rows_forward);
	SET(softmax_forward); SET(crossentropy_forward); SET(embed_backward);
	SET(matmul_backward); SET(layernorm_backward); SET(gelu_backward);
	SET(tanh_backward); SET(attention_backward); SET(scatter_rows_backward);
	SET(crossentropy_backward); SET(adamw_update); SET(sumsq); SET(scale);
	SET(residual_layernorm_forward); SET(residual_layernorm_backward);
#undef SET
	return &p;
}

/* per step: ms and calls of each op, largest first, and their sum
 * against the whole step */
static void profile_report(int steps, double step_s)
{
	int order[SIFT_OP_COUNT];
	double sum = 0.0;
	for (int i = 0; i < SIFT_OP_COUNT; i++) {
		order[i] = i;
		sum += op_s[i];
	}
	for (int i = 1; i < SIFT_OP_COUNT; i++)
		for (int j = i; j > 0 && op_s[order[j]] > op_s[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	printf("# profile, per step (each op between two device syncs):\n");
	for (int i = 0; i < SIFT_OP_COUNT; i++) {
		int k = order[i];
		if (!op_n[k])
			continue;
		printf("profile %-22s %9.3f ms %5.1f%% %6.1f calls\n",
		       sift_op_name((enum sift_op)k), 1e3 * op_s[k] / steps,
		       sum > 0 ? 100.0 * op_s[k] / sum : 0.0, (double)op_n[k] / steps);
	}
	printf("profile %-22s %9.3f ms of %.3f ms a step\n", "ops total",
	       1e3 * sum / steps, 1e3 * step_s / steps);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "device", required_argument, 0, 'd' },
		{ "precision", required_argument, 0, 'p' },
		{ "head", required_argument, 0, 'H' },
		{ "steps", required_argument, 0, 's' },
		{ "batch", required_argument, 0, 'B' },
		{ "seq", required_argument, 0, 'T' },
		{ "varlen", no_argument, 0, 'v' },
		{ "bench", required_argument, 0, 'w' },
		{ "seed", required_argument, 0, 'S' },
		{ "profile", no_argument, 0, 'P' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	enum sift_device_req req = SIFT_DEVICE_AUTO, device;
	enum sift_precision prec = SIFT_PREC_FP32;
	enum bert_head head = BERT_HEAD_SEQ;
	int steps = 50, B = 8, T = 64, varlen = 0, warm = -1, prof = 0, c;
	uint64_t seed = 42;
	char err[512];

	sift_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (sift_device_parse(optarg, &req) < 0)
				sift_die(SIFT_EXIT_USAGE, "--device: %s: not auto, cpu or cuda", optarg);
			break;
		case 'p':
			if (sift_precision_parse(optarg, &prec) < 0)
				sift_die(SIFT_EXIT_USAGE, "--precision: %s: not fp32 or bf16", optarg);
			break;
		case 'H':
			head = strcmp(optarg, "token") == 0 ? BERT_HEAD_TOKEN : BERT_HEAD_SEQ;
			break;
		case 's': steps = atoi(optarg); break;
		case 'B': B = atoi(optarg); break;
		case 'T': T = atoi(optarg); break;
		case 'v': varlen = 1; break;
		case 'w': warm = atoi(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 10); break;
		case 'P': prof = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return SIFT_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || steps < 1 || B < 1 || T < 3) {
		fputs(usage, stderr);
		return SIFT_EXIT_USAGE;
	}
	if (sift_device_resolve(req, &device, err, sizeof err) < 0)
		sift_die(SIFT_EXIT_DATA, "%s", err);
	if (prec == SIFT_PREC_BF16 && device != SIFT_DEVICE_CUDA)
		sift_die(SIFT_EXIT_USAGE, "--precision bf16 needs the cuda device");
	struct sift_backend *be = sift_backend_get(sift_device_name(device));
	if (!be)
		sift_die(SIFT_EXIT_DATA, "%s: backend not built in", sift_device_name(device));
	if (prof)
		be = profiled(be);
	/* as sift-train: the products split their rows over the OpenMP
	 * threads, OpenBLAS's own threads would only spin against them */
	openblas_set_num_threads(1);
#ifdef SIFT_CUDA
	if (device == SIFT_DEVICE_CUDA) {
		char desc[256] = "";
		sift_cuda_set_precision(prec == SIFT_PREC_BF16);
		if (sift_cuda_describe(0, desc, sizeof desc) == 0)
			printf("# device %s\n", desc);
	}
#endif

	/* labels L0 .. L8 (a CoNLL-sized tag set); the head is initialised
	 * from the seed when the checkpoint has none */
	char *names[9], nb[9][4];
	for (int i = 0; i < 9; i++) {
		snprintf(nb[i], sizeof nb[i], "L%d", i);
		names[i] = nb[i];
	}
	struct bert_model m;
	if (bert_load(&m, argv[optind], head, names, head == BERT_HEAD_SEQ ? 3 : 9, 1,
		      seed, err, sizeof err) < 0)
		sift_die(SIFT_EXIT_DATA, "%s", err);
	if (bert_upload(&m, be) < 0)
		sift_die(SIFT_EXIT_DATA, "%s: out of memory for the parameters", be->name);
	const struct bert_config *cf = &m.cfg;
	int L = m.nlabels;
	size_t nemb = (size_t)(cf->vocab_size + cf->max_pos + cf->type_vocab) * cf->hidden;
	printf("# backend %s precision %s head %s layers %d hidden %d heads %d "
	       "params %zu (non-embedding %zu) B %d T %d labels %d\n",
	       be->name, sift_precision_name(prec), head == BERT_HEAD_SEQ ? "seq" : "token",
	       cf->layers, cf->hidden, cf->heads, m.nparams, m.nparams - nemb, B, T, L);

	/* the training step of sift-train, with this program's settings */
	int total = steps + (warm > 0 ? warm : 0);
	struct trainer_opts o;
	struct trainer tr;
	trainer_opts_default(&o);
	o.lr = 5e-5;
	o.sched = SCHED_CONSTANT;
	o.warmup = 0;
	o.weight_decay = 0.01f;
	o.max_grad_norm = 1.0f;
	o.seed = seed;
	if (trainer_init(&tr, &m, &o, total, err, sizeof err) < 0)
		sift_die(SIFT_EXIT_DATA, "%s", err);
	int32_t *ids = malloc((size_t)B * T * 4), *labels = malloc((size_t)B * T * 4);
	int32_t *seqlab = malloc((size_t)B * 4);
	uint8_t *mask = malloc((size_t)B * T);
	if (!ids || !labels || !seqlab || !mask)
		sift_die(SIFT_EXIT_DATA, "out of memory");

	double t0 = 0.0;
	long tokens = 0;
	for (int step = 0; step < total; step++) {
		if (warm >= 0 && step == warm) {
			be->sync();
			t0 = now();
			tokens = 0;
			memset(op_s, 0, sizeof op_s);
			memset(op_n, 0, sizeof op_n);
		}
		/* the batch of this step, from the seed alone */
		struct sift_rng r;
		sift_rng_seed(&r, seed * 1000003u + (uint64_t)step);
		for (int b = 0; b < B; b++) {
			int len = varlen ? T / 4 + (int)sift_rng_below(&r, (uint32_t)(T - T / 4 + 1)) : T;
			for (int t = 0; t < T; t++) {
				size_t k = (size_t)b * T + t;
				mask[k] = t < len;
				ids[k] = t >= len ? 0 : t == 0 ? 101 : t == len - 1 ? 102 :
					1000 + (int32_t)sift_rng_below(&r, (uint32_t)(cf->vocab_size - 1000));
				labels[k] = t >= len || t == 0 || t == len - 1 ? -100 :
					(int32_t)sift_rng_below(&r, (uint32_t)L);
			}
			seqlab[b] = (int32_t)sift_rng_below(&r, (uint32_t)L);
		}
		double loss;
		int k = trainer_micro(&tr, ids, NULL, mask,
				      head == BERT_HEAD_SEQ ? seqlab : labels, B, T,
				      &loss, err, sizeof err);
		if (k < 0)
			sift_die(SIFT_EXIT_DATA, "step %d: %s", step + 1, err);
		if (k == 1)
			sift_die(SIFT_EXIT_DATA, "step %d: loss is %s", step + 1,
				 isnan(loss) ? "nan" : "inf");
		if (trainer_step(&tr) == 1)
			sift_die(SIFT_EXIT_DATA, "step %d: gradient norm is %s", step + 1,
				 isnan(tr.last_norm) ? "nan" : "inf");
		tokens += tr.last_tokens;
		if (warm < 0)
			printf("step %d loss %a norm %a  (%.9g %.9g)\n", step + 1, loss,
			       tr.last_norm, loss, tr.last_norm);
	}
	be->sync();
	if (warm >= 0) {
		double dt = now() - t0;
		double tps = tokens / dt;
		/* 6N + 12 L H T per token (PaLM's count; N without embeddings) */
		double fpt = 6.0 * (double)(m.nparams - nemb) +
			12.0 * cf->layers * cf->hidden * (double)T;
		printf("tokens/s %.1f step_ms %.3f tflops %.2f mfu_989 %.4f mfu_790 %.4f\n",
		       tps, 1e3 * dt / steps, tps * fpt / 1e12, tps * fpt / 989e12,
		       tps * fpt / 790e12);
		if (prof)
			profile_report(steps, dt);
	}
	/* FNV-1a 64 over the final parameters' bytes */
	float *hp = malloc(m.nparams * sizeof(float));
	if (!hp)
		sift_die(SIFT_EXIT_DATA, "out of memory");
	be->download(hp, m.dparams, m.nparams * sizeof(float));
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p = (const unsigned char *)hp;
	for (size_t i = 0; i < m.nparams * sizeof(float); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	printf("params_hash %016llx\n", (unsigned long long)h);
	free(hp);
	free(ids); free(labels); free(seqlab); free(mask);
	trainer_free(&tr);
	bert_free(&m);
	return 0;
}
