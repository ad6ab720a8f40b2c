/* trainrun.c: sift-train's driver (as fwdrun.c is sift-fwd's): a batches stream in, the trainer's steps, dev scoring, checkpoints, a log stream out. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>	/* defines: json_*, for sift-train.json */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"	/* defines: sift_batch_rec_read, the one batch reader */
#include "problem.h"	/* defines: sift_problem_of_header */
#include "ckpt.h"
#include "classweights.h"	/* defines: bert_set_loss, classweights_* */
#include "dist.h"	/* defines: dist_rank, dist_size, dist_bcast* (ranks) */
#include "modelfile.h"	/* defines: sift_model_fopen */
#include "devscore.h"	/* defines: dev_new, dev_batch, dev_finish (--dev) */
#include "rng.h"
#include "safetensors.h"
#include "stream.h"
#include "trainrun.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- random initialisation from a config alone ---- */

/* the most parameters --config may ask for: 2^30 (3 times BERT-large;
 * MiniLM with 1000 layers is 1.77e9), and training's copies (parameters,
 * gradients, AdamW's two moments, the best model: 20 bytes a parameter)
 * within the machine's memory; checked before anything is drawn */
static double max_train_params(void)
{
	double most = 1073741824.0;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	if (pages > 0 && psize > 0 && (double)pages * psize / 20 < most)
		most = (double)pages * psize / 20;
	return most;
}

/* a model from --config FILE, built in memory (no file is written): the
 * encoder initialised as transformers' BertPreTrainedModel._init_weights
 * does, normal(0, range) weights and embeddings (the padding row zero),
 * zero biases, LayerNorm weight 1 and bias 0; the head as bert_load
 * initialises a missing one */
static int load_random(struct bert_model *m, const char *config,
		       enum bert_head head, char **labels, int nlabels,
		       uint64_t seed, char *err, size_t errlen)
{
	struct bert_config c;
	if (bert_config_read(&c, config, err, errlen) < 0)
		return -1;
	if (bert_new(m, &c, head, labels, nlabels, seed, max_train_params(),
		     config, err, errlen) < 0)
		return -1;
	/* a stream of its own: the head is drawn from seed itself, and the
	 * two must not draw the same numbers */
	struct sift_rng r;
	sift_rng_seed(&r, sift_hash64(seed, 1));
	const struct bert_config *k = &m->cfg;
	for (int i = 0; i < m->ntensors; i++) {
		const struct bert_tensor *t = &m->tensors[i];
		if (t->head)
			continue;
		float *v = m->params + t->off;
		size_t ne = bert_tensor_numel(t), nlen = strlen(t->name);
		if (t->ndim == 2) {
			for (size_t j = 0; j < ne; j++)
				v[j] = k->init_range * sift_rng_normal(&r);
		} else if (nlen > 16 && !strcmp(t->name + nlen - 16, "LayerNorm.weight")) {
			for (size_t j = 0; j < ne; j++)
				v[j] = 1.0f;
		}	/* biases stay 0 */
	}
	if (k->pad_token_id >= 0 && k->pad_token_id < k->vocab_size)
		memset(m->p.wte + (size_t)k->pad_token_id * k->hidden, 0,
		       (size_t)k->hidden * sizeof(float));
	return 0;
}

/* ---- the run ---- */

struct run {
	const struct run_cfg *c;
	struct bert_model m;
	struct trainer t;
	struct sift_header h;
	struct sift_writer w;
	int log;		/* writing the log stream */
	int64_t saved_step;	/* the step the checkpoint on disk holds, or -1 */
	int tty;		/* progress line on stderr */
	int ner;
	int mlm;		/* task mlm: BertForMaskedLM, no labels */
	int lower_better;	/* the metric is the loss */
	const char *metric;
	float *best;		/* best parameters (host), with --dev; the
				 * trained floats only under --lora
				 * (trainer_gather's layout) */
	struct ckpt_state st;
	double t0;		/* start of this process's training */
	int64_t step0;		/* steps done before this process */
	int64_t total;		/* the schedule's total steps */
	int64_t last_eval;	/* step of the last dev score, -1 none */
	int64_t tokens;		/* real tokens trained on by this process */
	float *hm, *hv;		/* host copies of AdamW's moments when they
				 * live on a device (NULL on the CPU) */
	float *tp;		/* --lora: the trained floats side by side
				 * (trainer_gather), the state's parameters */
	const char *src_dir;	/* tokenizer files come from here */
	/* the log stream as written so far (train.log), stdout or not */
	char *lg;
	size_t lglen, lgcap;
	size_t saved_lglen;	/* of the checkpoint on disk */
	int saved_state;	/* it holds train_state.bin */
	msgpack_sbuffer hb;	/* a record packed again, to hash it */
	uint64_t in_hash;	/* of the input records consumed */
	uint64_t init_hash;	/* ckpt_model_hash of the initial model */
	int64_t epochs;		/* the header's */
	uint64_t dev_hash;	/* of the dev records, after a dev round */
	struct dev_scores last_dev;	/* of the round at last_eval */
	const char *end;	/* why the run ended, NULL while it runs */
	int dsig;		/* N ranks: the signal they agreed to stop on */
	/* at the last optimizer-step boundary: what a signal in the middle
	 * of a group saves (a micro-batch changes the gradients only) */
	struct { int64_t recs, pos, epoch; uint64_t in_hash; } mark;
};

/* h and the FNV-1a 64 of record o as msgpack packs it again (the
 * smallest encodings: the hash does not depend on the writer's) */
static uint64_t rec_hash(struct run *r, uint64_t h, const msgpack_object *o)
{
	msgpack_packer pk;
	msgpack_sbuffer_clear(&r->hb);
	msgpack_packer_init(&pk, &r->hb, msgpack_sbuffer_write);
	msgpack_pack_object(&pk, *o);
	return ckpt_fnv(h, r->hb.data, r->hb.size);
}

static double elapsed(const struct run *r)
{
	return r->st.elapsed + (now() - r->t0);
}

static void progress(struct run *r, int final)
{
	if (!r->tty)
		return;
	double el = now() - r->t0;
	int64_t done = r->t.step - r->step0;
	double eta = done > 0 && r->total > 0 ?
		el / done * (double)(r->total - r->t.step) : 0.0;
	if (eta < 0)
		eta = 0;
	double rate = el > 0 ? (double)r->tokens / el : 0;
	fprintf(stderr, "\r%s: step %lld/%lld loss %.4f %.0f tok/s ETA %d:%02d:%02d ",
		sift_prog, (long long)r->t.step, (long long)r->total,
		r->t.last_loss, rate, (int)(eta / 3600), (int)fmod(eta / 60, 60),
		(int)fmod(eta, 60));
	if (final)
		fputc('\n', stderr);
}

/* the AdamW moments in host memory: the trainer's own on the CPU, else
 * the host copies (allocated once); NULL pointers when out of memory */
static void host_moments(struct run *r, float **m, float **v)
{
	if (r->m.be->host_memory && !r->c->o.zero1) {
		*m = r->t.opt.m;
		*v = r->t.opt.v;
		return;
	}
	if (!r->hm)
		r->hm = malloc(r->t.nopt * sizeof(float));
	if (!r->hv)
		r->hv = malloc(r->t.nopt * sizeof(float));
	*m = r->hm;
	*v = r->hv;
}

static const char *const sched_names[] = { "linear", "constant", "cosine" };

/* a float as the shortest decimal that reads back as it (0.1, not
 * 0.100000001490116) */
static json_t *jfloat(float f)
{
	char b[32];
	for (int d = 6; d <= 9; d++) {
		snprintf(b, sizeof b, "%.*g", d, f);
		if (strtof(b, NULL) == f)
			break;
	}
	return json_real(strtod(b, NULL));
}

static json_t *jhash(uint64_t h)
{
	char b[17];
	snprintf(b, sizeof b, "%016llx", (unsigned long long)h);
	return json_string(b);
}

static json_t *jpath(const char *p)
{
	return p ? json_string(p) : json_null();
}

/* the dev scores of a multi-label or regression head: the names and
 * values of the metrics of --metric, in log and sift-train.json */
static int problem_scores(const struct run *r, const struct dev_scores *s,
			  const char **name, double *v)
{
	int n = 0;
	if (r->m.problem == SIFT_PROBLEM_MULTI) {
		name[n] = "micro_f1", v[n++] = s->micro_f1;
		name[n] = "macro_f1", v[n++] = s->macro_f1;
		name[n] = "subset_accuracy", v[n++] = s->subset_accuracy;
	} else {
		name[n] = "pearson", v[n++] = s->pearson;
		name[n] = "spearman", v[n++] = s->spearman;
		name[n] = "mse", v[n++] = s->mse;
		name[n] = "mae", v[n++] = s->mae;
	}
	return n;
}

static void problem_jscores(const struct run *r, const struct dev_scores *s, json_t *j)
{
	const char *name[4];
	double v[4];
	int n = problem_scores(r, s, name, v);
	json_object_del(j, "accuracy");
	for (int i = 0; i < n; i++)
		json_object_set_new(j, name[i], json_real(v[i]));
}

static json_t *jscores(const struct run *r, const struct dev_scores *s)
{
	json_t *j = json_object();
	json_object_set_new(j, "loss", json_real(s->loss));
	json_object_set_new(j, "accuracy", json_real(s->accuracy));
	if (r->m.problem) {
		problem_jscores(r, s, j);
	} else if (r->ner) {
		json_object_set_new(j, "f1", json_real(s->f1));
		json_object_set_new(j, "precision", json_real(s->precision));
		json_object_set_new(j, "recall", json_real(s->recall));
	} else {
		json_object_set_new(j, "macro_f1", json_real(s->macro_f1));
	}
	json_object_set_new(j, "n", json_integer(s->n));
	return j;
}

/* the class weights by label, null without */
static json_t *jweights(const struct run *r)
{
	if (!r->m.ce_weight)
		return json_null();
	json_t *j = json_object();
	for (int i = 0; i < r->h.nlabels; i++)
		json_object_set_new(j, r->h.labels[i], jfloat(r->m.ce_weight[i]));
	return j;
}

/* sift-train.json of the checkpoint being written (state: it holds
 * train_state.bin): a string to free, NULL when out of memory */
static char *run_record(const struct run *r, int state)
{
	const struct run_cfg *c = r->c;
	const struct trainer_opts *o = &c->o;
	char date[32];
	time_t now_t = time(NULL);
	struct tm tm;
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now_t, &tm));
	json_t *j = json_object(), *a, *x;
	json_object_set_new(j, "program", json_string("sift-train"));
	json_object_set_new(j, "version", json_string(SIFT_VERSION));
	json_object_set_new(j, "date", json_string(date));
	json_object_set_new(j, "task", json_string(r->h.task));
	a = json_array();
	for (int i = 0; i < r->h.nlabels; i++)
		json_array_append_new(a, json_string(r->h.labels[i]));
	json_object_set_new(j, "labels", a);
	x = json_object();
	json_object_set_new(x, "path", jpath(c->model_dir));
	json_object_set_new(x, "config", jpath(c->config));
	json_object_set_new(x, "hash", jhash(r->init_hash));
	json_object_set_new(j, "model", x);
	x = json_object();
	json_object_set_new(x, "path", json_string(c->input));
	json_object_set_new(x, "records", json_integer(r->st.recs));
	json_object_set_new(x, "batches", json_integer(r->t.pos));
	json_object_set_new(x, "hash", jhash(r->in_hash));
	json_object_set_new(j, "input", x);
	if (c->dev) {
		x = json_object();
		json_object_set_new(x, "path", json_string(c->dev));
		json_object_set_new(x, "hash", r->last_eval >= 0 ? jhash(r->dev_hash) : json_null());
		json_object_set_new(x, "metric", json_string(r->metric));
		json_object_set_new(x, "best", r->st.best_step >= 0 ? json_real(r->st.best_metric) : json_null());
		json_object_set_new(x, "last_step", r->last_eval >= 0 ? json_integer(r->last_eval) : json_null());
		json_object_set_new(x, "last", r->last_eval >= 0 ? jscores(r, &r->last_dev) : json_null());
		json_object_set_new(j, "dev", x);
	} else {
		json_object_set_new(j, "dev", json_null());
	}
	x = json_object();
	json_object_set_new(x, "lr", json_real(o->lr));
	json_object_set_new(x, "weight_decay", jfloat(o->weight_decay));
	json_object_set_new(x, "schedule", json_string(sched_names[o->sched]));
	json_object_set_new(x, "warmup", json_integer(r->t.sched.warmup));
	json_object_set_new(x, "max_grad_norm", jfloat(o->max_grad_norm));
	json_object_set_new(x, "accum", json_integer(o->accum));
	json_object_set_new(x, "ranks", json_integer(o->nranks));
	json_object_set_new(x, "zero1", json_boolean(o->zero1));
	json_object_set_new(x, "allreduce", json_string(dist_summed()));
	json_object_set_new(x, "dropout", jfloat(r->m.cfg.hidden_dropout));
	json_object_set_new(x, "attn_dropout", jfloat(r->m.cfg.attn_dropout));
	/* JSON readers hold integers to 2^63-1 at best, jq to 2^53 */
	if (o->seed <= INT64_MAX) {
		json_object_set_new(x, "seed", json_integer((json_int_t)o->seed));
	} else {
		char b[24];
		snprintf(b, sizeof b, "%llu", (unsigned long long)o->seed);
		json_object_set_new(x, "seed", json_string(b));
	}
	json_object_set_new(x, "label_smoothing", jfloat(r->m.ce_smoothing));
	json_object_set_new(x, "class_weights", jweights(r));
	json_object_set_new(x, "class_weights_from", jpath(c->class_weights));
	json_object_set_new(x, "freeze_embeddings", json_boolean(o->freeze.freeze_embeddings));
	json_object_set_new(x, "freeze_layers", json_integer(o->freeze.freeze_layers));
	if (r->c->lora) {
		const struct lora_cfg *lc = r->c->lora;
		char tl[128];
		lora_targets_str(lc->targets, tl, sizeof tl);
		json_t *lj = json_object();
		json_object_set_new(lj, "r", json_integer(lc->r));
		json_object_set_new(lj, "alpha", jfloat(lc->alpha));
		json_object_set_new(lj, "dropout", jfloat(lc->dropout));
		json_object_set_new(lj, "targets", json_string(tl));
		json_object_set_new(x, "lora", lj);
	}
	json_object_set_new(x, "epochs", json_integer(r->epochs));
	json_object_set_new(x, "max_steps", c->max_steps > 0 ? json_integer(c->max_steps) : json_null());
	json_object_set_new(x, "total_steps", json_integer(r->total));
	json_object_set_new(x, "eval_every", json_integer(c->eval_every));
	json_object_set_new(x, "patience", json_integer(c->patience));
	json_object_set_new(x, "device", json_string(r->m.be->name));
	json_object_set_new(x, "precision", json_string(c->precision ? c->precision : "fp32"));
	json_object_set_new(j, "options", x);
	json_object_set_new(j, "steps", json_integer(r->t.step));
	json_object_set_new(j, "best_step", json_integer(r->st.best_step >= 0 ? r->st.best_step : r->t.step));
	json_object_set_new(j, "end", r->end ? json_string(r->end) : json_null());
	json_object_set_new(j, "elapsed", json_real(elapsed(r)));
	json_object_set_new(j, "state", json_boolean(state));
	char *out = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	json_decref(j);
	if (!out)
		return NULL;
	/* one line more: a text file */
	size_t n = strlen(out);
	char *t = realloc(out, n + 2);
	if (!t) {
		free(out);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = 0;
	return t;
}

/* ZeRO-1: every rank's shard of AdamW's moments into rank 0's host
 * copies; a collective, so every rank saves at the same steps.  0, -1 */
static int gather_moments(struct run *r)
{
	const struct sift_backend *be = r->m.be;
	struct adamw *o = &r->t.opt;
	float *hm = NULL, *hv = NULL;
	if (dist_rank() == 0) {
		host_moments(r, &hm, &hv);
		if (!hm || !hv) {
			sift_warn("out of memory for the checkpoint");
			return -1;
		}
	}
	float *pm = o->m, *pv = o->v;
	if (!be->host_memory) {
		pm = sift_xmalloc((o->n ? o->n : 1) * sizeof *pm);
		pv = sift_xmalloc((o->n ? o->n : 1) * sizeof *pv);
		be->download(pm, o->m, o->n * sizeof *pm);
		be->download(pv, o->v, o->n * sizeof *pv);
	}
	dist_gather_shards(pm, hm, r->m.nparams);
	dist_gather_shards(pv, hv, r->m.nparams);
	if (pm != o->m) {
		free(pm);
		free(pv);
	}
	return 0;
}

/* a resumed run of N ranks or ZeRO-1: rank 0 read the checkpoint (its
 * moments into the host copies); the others get its progress,
 * parameters and moments, each rank its shard of them under ZeRO-1 */
static void resume_ranks(struct run *r)
{
	const struct sift_backend *be = r->m.be;
	struct adamw *o = &r->t.opt;
	size_t np = r->m.nparams, bytes = np * sizeof(float);
	dist_bcast(&r->st, sizeof r->st);
	r->t.step = r->st.step;
	r->t.pos = r->st.pos;
	o->t = r->st.adam_t;
	dist_bcast(r->m.params, bytes);
	be->upload(r->m.dparams, r->m.params, bytes);
	float *hm = NULL, *hv = NULL;
	if (dist_rank() == 0 || !r->c->o.zero1)
		host_moments(r, &hm, &hv);
	if (!r->c->o.zero1) {
		/* the moments of the trained floats (fewer under --lora) */
		size_t mbytes = r->t.nopt * sizeof(float);
		dist_bcast(hm, mbytes);
		dist_bcast(hv, mbytes);
		if (hm != o->m) {
			be->upload(o->m, hm, mbytes);
			be->upload(o->v, hv, mbytes);
		}
		return;
	}
	float *pm = o->m, *pv = o->v;
	if (!be->host_memory) {
		pm = sift_xmalloc((o->n ? o->n : 1) * sizeof *pm);
		pv = sift_xmalloc((o->n ? o->n : 1) * sizeof *pv);
	}
	dist_scatter_shards(hm, pm, np);
	dist_scatter_shards(hv, pv, np);
	if (pm != o->m) {
		be->upload(o->m, pm, o->n * sizeof *pm);
		be->upload(o->v, pv, o->n * sizeof *pv);
		free(pm);
		free(pv);
	}
}

/* the group of a resumed run (ranks x --accum batches a step) must be
 * the saved one's, from its sift-train.json (no "ranks": 1); 0, -1 */
static int check_group(const struct run *r)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/" CKPT_RECORD_NAME, r->c->out_dir);
	json_t *j = json_load_file(path, 0, NULL);
	if (!j)
		return 0;	/* ckpt_load_state has checked the state */
	json_t *o = json_object_get(j, "options");
	json_int_t accum = json_integer_value(json_object_get(o, "accum"));
	json_t *k = json_object_get(o, "ranks");
	json_int_t ranks = k ? json_integer_value(k) : 1;
	json_decref(j);
	if (accum < 1)
		return 0;
	int64_t now_g = (int64_t)r->c->o.accum * r->c->o.nranks;
	if ((int64_t)accum * ranks != now_g) {
		sift_warn("%s: saved with %lld batches a step (%lld ranks x --accum %lld), resumed with %lld (%d x %d); resume with the same product",
			  r->c->out_dir, (long long)(accum * ranks), (long long)ranks,
			  (long long)accum, (long long)now_g, r->c->o.nranks, r->c->o.accum);
		return -1;
	}
	return 0;
}

/* a checkpoint of this step (with the state unless --no-state; state 1:
 * with it whatever the options) */
static int save(struct run *r, int state)
{
	char err[9000];
	struct ckpt_state *s = &r->st;
	/* N ranks: rank 0 writes; ZeRO-1's moment shards go to it first */
	if (r->c->o.zero1 && gather_moments(r) < 0)
		return -1;
	if (dist_rank() != 0)
		return 0;
	state = state || !r->c->no_state;
	/* a dev round, --save-every and the end of the run can fall on one
	 * step: the checkpoint of that step is written once, and then only
	 * its record and log follow the log */
	int written = r->saved_step == r->t.step && (r->saved_state || !state);
	char *rec = run_record(r, written ? r->saved_state : state);
	if (!rec) {
		sift_warn("out of memory for the checkpoint");
		return -1;
	}
	struct ckpt_file files[2] = {
		{ CKPT_RECORD_NAME, rec, strlen(rec) },
		{ CKPT_LOG_NAME, r->lg, r->lglen },
	};
	if (written) {
		int rc = 0;
		if (r->lglen != r->saved_lglen) {
			rc = ckpt_update(r->c->out_dir, files, 2, err, sizeof err);
			if (rc < 0)
				sift_warn("%s", err);
			else
				r->saved_lglen = r->lglen;
		}
		free(rec);
		return rc;
	}
	/* the parameters and moments from the device (on the CPU params is
	 * dparams and the copy is none) */
	float *hm, *hv;
	size_t bytes = r->m.nparams * sizeof(float);
	size_t mbytes = r->t.nopt * sizeof(float);
	host_moments(r, &hm, &hv);
	if (!hm || !hv || (r->tp == NULL && r->c->lora &&
			   !(r->tp = malloc(mbytes)))) {
		free(rec);
		sift_warn("out of memory for the checkpoint");
		return -1;
	}
	r->m.be->download(r->m.params, r->m.dparams, bytes);
	if (hm != r->t.opt.m && !r->c->o.zero1) {
		r->m.be->download(hm, r->t.opt.m, mbytes);
		r->m.be->download(hv, r->t.opt.v, mbytes);
	}
	/* --lora: the state holds the trained floats, not the base */
	float *sp = r->m.params;
	if (r->c->lora) {
		trainer_gather(&r->t, r->m.params, r->tp);
		sp = r->tp;
	}
	s->step = r->t.step;
	s->pos = r->t.pos;
	s->adam_t = r->t.opt.t;
	s->seed = (int64_t)r->c->o.seed;
	s->total_steps = r->total;
	double el0 = s->elapsed;
	s->elapsed = elapsed(r);
	/* --lora --dev: the best trained floats into the parameters for
	 * the adapter written, the current ones (tp) back after it */
	const float *mp = r->best ? r->best : r->m.params;
	if (r->c->lora && r->best) {
		trainer_scatter(&r->t, r->best, r->m.params);
		mp = r->m.params;
	}
	int rc = ckpt_save(r->c->out_dir, &r->m, mp,
			   r->src_dir, state ? s : NULL, sp, hm, hv,
			   r->t.nopt, files, 2, err, sizeof err);
	if (r->c->lora && r->best)
		trainer_scatter(&r->t, r->tp, r->m.params);
	s->elapsed = el0;
	free(rec);
	if (rc < 0) {
		sift_warn("%s", err);
		return -1;
	}
	r->saved_step = r->t.step;
	r->saved_state = state;
	r->saved_lglen = r->lglen;
	return 0;
}

/* the record packed so far, into the copy for train.log */
static void log_keep(struct run *r)
{
	msgpack_sbuffer *sb = &r->w.sb;
	if (r->lglen + sb->size > r->lgcap) {
		r->lgcap = 2 * (r->lglen + sb->size) + 4096;
		r->lg = sift_xrealloc(r->lg, r->lgcap);
	}
	memcpy(r->lg + r->lglen, sb->data, sb->size);
	r->lglen += sb->size;
}

/* ends a log record: kept for train.log, and flushed to stdout when the
 * log goes there, so that a live reader (sift-report) sees every step;
 * a reader that went away ends the run (status 0) */
/* a closed log reader (sift-train | head) stops the log, not the run:
 * the model is the product, and it is trained and saved as planned */
static int log_flush(struct run *r)
{
	log_keep(r);
	if (!r->log) {
		msgpack_sbuffer_clear(&r->w.sb);
		return 0;
	}
	if (sift_writer_flush(&r->w) < 0) {
		r->log = 0;
		if (r->w.closed) {
			sift_warn("stdout: the log's reader went away; training goes on without the log");
			return 0;
		}
		return -1;
	}
	return 0;
}

static int log_step(struct run *r, double secs)
{
	msgpack_packer *pk = &r->w.pk;
	msgpack_pack_map(pk, 8);
	sift_pack_str(pk, "step");
	msgpack_pack_int64(pk, r->t.step);
	sift_pack_str(pk, "epoch");
	msgpack_pack_int64(pk, r->st.epoch);
	sift_pack_str(pk, "loss");
	msgpack_pack_double(pk, r->t.last_loss);
	sift_pack_str(pk, "lr");
	msgpack_pack_double(pk, r->t.last_lr);
	sift_pack_str(pk, "grad_norm");
	msgpack_pack_double(pk, r->t.last_norm);
	sift_pack_str(pk, "tokens");
	msgpack_pack_int64(pk, r->t.last_tokens);
	sift_pack_str(pk, "tokens_per_s");
	msgpack_pack_double(pk, secs > 0 ? r->t.last_tokens / secs : 0.0);
	sift_pack_str(pk, "elapsed");
	msgpack_pack_double(pk, elapsed(r));
	return log_flush(r);
}

/* the end record, kept for the last checkpoint's train.log; log_out
 * writes it out once that checkpoint is saved */
static void log_end(struct run *r, const char *why)
{
	r->end = why;
	msgpack_packer *pk = &r->w.pk;
	msgpack_pack_map(pk, 5);
	sift_pack_str(pk, "step");
	msgpack_pack_int64(pk, r->t.step);
	sift_pack_str(pk, "epoch");
	msgpack_pack_int64(pk, r->st.epoch);
	sift_pack_str(pk, "elapsed");
	msgpack_pack_double(pk, elapsed(r));
	sift_pack_str(pk, "end");
	sift_pack_str(pk, why);
	/* the step of the model in the checkpoint: without dev scores, the
	 * last one */
	sift_pack_str(pk, "best_step");
	msgpack_pack_int64(pk, r->st.best_step >= 0 ? r->st.best_step : r->t.step);
	log_keep(r);
}

static void log_out(struct run *r)
{
	if (r->log)
		sift_commit(&r->w);
	else
		msgpack_sbuffer_clear(&r->w.sb);
}

/* scores --dev: 0, or -1 (diagnostic printed).  In the trainer's
 * activations and batch: a dev round comes between optimizer steps (no
 * micro-batch open), so no forward pass there awaits its backward */
static int evaluate(struct run *r, struct dev_scores *s)
{
	const char *path = r->c->dev;
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		sift_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	struct sift_reader *rd = sift_reader_new(fd, path);
	struct sift_header h;
	int rc = -1;
	struct dev_scorer *d = NULL;
	if (sift_read_header(rd, &h) < 0)
		goto out_nohdr;
	if (strcmp(h.kind, "batches") || strcmp(h.task, r->h.task) ||
	    h.nlabels != r->h.nlabels) {
		sift_rerror(rd, "not a batches stream of the training task and labels");
		goto out;
	}
	for (int i = 0; i < h.nlabels; i++)
		if (strcmp(h.labels[i], r->h.labels[i])) {
			sift_rerror(rd, "labels differ from the training stream's");
			goto out;
		}
	int dp = sift_problem_of_header(rd);
	if (dp < 0)
		goto out;
	if (dp != r->m.problem) {
		sift_rerror(rd, "problem_type %s, the training stream's is %s",
			    sift_problem_name(dp), sift_problem_name(r->m.problem));
		goto out;
	}
	d = dev_new(&r->m, &h);
	if (!d) {
		sift_rerror(rd, "out of memory");
		goto out;
	}
	const msgpack_object *rec;
	int k;
	uint64_t hash = CKPT_FNV0;
	while ((k = sift_read(rd, &rec)) == 1) {
		hash = rec_hash(r, hash, rec);
		if (!sift_get(rec, "B"))
			continue;	/* epoch markers */
		struct sift_batch_rec b;
		int bad = sift_batch_rec_read(rd, rec, r->ner || r->mlm, 0, &b) < 0 ||
			  dev_batch(d, &r->m, &r->t.a, &r->t.bb, rd, rec, &b) < 0;
		sift_batch_rec_free(&b);
		if (bad)
			goto out;
	}
	if (k < 0)
		goto out;
	rc = dev_finish(d, rd, s);
	r->dev_hash = hash;
out:
	dev_free(d);
	sift_header_free(&h);
out_nohdr:
	sift_reader_free(rd);
	close(fd);
	return rc;
}

/* multi-label and regression: the batch's f32 labels are (B,L) or (B);
 * 1, or 0 after a diagnostic */
static int problem_labels(const struct run *r, const struct sift_reader *rd,
			  const struct sift_batch_rec *b)
{
	size_t want = (size_t)b->B * (size_t)r->m.nout;
	if (!b->flabels || b->nflabels != want) {
		sift_rerror(rd, "labels must be f32[%zu] (%s), got %s", want,
			    sift_problem_name(r->m.problem),
			    b->flabels ? "another length" : "i32 labels");
		return 0;
	}
	return 1;
}

/* a metric of multi-label or regression dev data only */
static int problem_metric(const char *m)
{
	static const char *const names[] = { "micro_f1", "subset_accuracy", "pearson",
					     "spearman", "mse", "mae" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(m, names[i]))
			return 1;
	return 0;
}

/* --metric for a multi-label or regression head: one of its scores or
 * the loss; 0, or -1 after a diagnostic */
static int problem_metric_check(const struct run *r)
{
	if (!r->m.problem || !strcmp(r->metric, "loss"))
		return 0;
	const char *name[4];
	double v[4];
	struct dev_scores s = { 0 };
	int n = problem_scores(r, &s, name, v);
	for (int i = 0; i < n; i++)
		if (!strcmp(r->metric, name[i]))
			return 0;
	sift_warn("--metric %s: not a score of %s dev data (%s or loss)", r->metric,
		  sift_problem_name(r->m.problem),
		  r->m.problem == SIFT_PROBLEM_MULTI ? "micro_f1, macro_f1, subset_accuracy" :
		  "pearson, spearman, mse, mae");
	return -1;
}

static double metric_of(const struct run *r, const struct dev_scores *s)
{
	const char *m = r->metric;
	if (!strcmp(m, "f1"))
		return s->f1;
	if (!strcmp(m, "macro_f1"))
		return s->macro_f1;
	if (!strcmp(m, "loss"))
		return s->loss;
	if (!strcmp(m, "micro_f1"))
		return s->micro_f1;
	if (!strcmp(m, "subset_accuracy"))
		return s->subset_accuracy;
	if (!strcmp(m, "pearson"))
		return s->pearson;
	if (!strcmp(m, "spearman"))
		return s->spearman;
	if (!strcmp(m, "mse"))
		return s->mse;
	if (!strcmp(m, "mae"))
		return s->mae;
	return s->accuracy;
}

/* dev scoring, logging, best keeping; returns 1 when patience ran out,
 * -1 on error, 0 otherwise */
static int dev_round_here(struct run *r)
{
	struct dev_scores s;
	if (evaluate(r, &s) < 0)
		return -1;
	r->last_eval = r->t.step;
	r->last_dev = s;
	r->saved_step = -1;	/* the best model and patience count move on */
	double v = metric_of(r, &s);
	int better = r->st.best_step < 0 ||
		(r->lower_better ? v < r->st.best_metric : v > r->st.best_metric);
	if (better) {
		r->st.best_metric = v;
		r->st.best_step = r->t.step;
		r->st.bad_evals = 0;
		if (r->c->lora) {
			r->m.be->download(r->m.params, r->m.dparams, r->m.nparams * sizeof(float));
			trainer_gather(&r->t, r->m.params, r->best);
		} else {
			r->m.be->download(r->best, r->m.dparams, r->m.nparams * sizeof(float));
		}
	} else {
		r->st.bad_evals++;
	}
	{
		msgpack_packer *pk = &r->w.pk;
		msgpack_pack_map(pk, 5);
		sift_pack_str(pk, "step");
		msgpack_pack_int64(pk, r->t.step);
		sift_pack_str(pk, "epoch");
		msgpack_pack_int64(pk, r->st.epoch);
		sift_pack_str(pk, "elapsed");
		msgpack_pack_double(pk, elapsed(r));
		sift_pack_str(pk, "best");
		if (better)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		sift_pack_str(pk, "dev");
		const char *pname[4];
		double pv[4];
		int np = r->m.problem ? problem_scores(r, &s, pname, pv) : 0;
		msgpack_pack_map(pk, r->m.problem ? 2 + np : r->ner ? 6 : 4);
		sift_pack_str(pk, "loss");
		msgpack_pack_double(pk, s.loss);
		if (!r->m.problem) {
			sift_pack_str(pk, "accuracy");
			msgpack_pack_double(pk, s.accuracy);
		}
		if (r->m.problem) {
			for (int i = 0; i < np; i++) {
				sift_pack_str(pk, pname[i]);
				msgpack_pack_double(pk, pv[i]);
			}
		} else if (r->mlm) {
			sift_pack_str(pk, "perplexity");
			msgpack_pack_double(pk, s.perplexity);
		} else if (r->ner) {
			sift_pack_str(pk, "f1");
			msgpack_pack_double(pk, s.f1);
			sift_pack_str(pk, "precision");
			msgpack_pack_double(pk, s.precision);
			sift_pack_str(pk, "recall");
			msgpack_pack_double(pk, s.recall);
		} else {
			sift_pack_str(pk, "macro_f1");
			msgpack_pack_double(pk, s.macro_f1);
		}
		sift_pack_str(pk, "n");
		msgpack_pack_int64(pk, s.n);
		if (log_flush(r) < 0)
			return -1;
	}
	if (save(r, 0) < 0)
		return -1;
	return r->c->patience > 0 && r->st.bad_evals >= r->c->patience;
}

/* dev_round_here on rank 0, whose outcome the others are told; they
 * save with it (ZeRO-1's moments), which writes nothing there */
static int dev_round(struct run *r)
{
	if (dist_size() == 1)
		return dev_round_here(r);
	int d;
	if (dist_rank() == 0) {
		d = dev_round_here(r);
		if (d < 0)
			return -1;	/* dist_finish aborts the job */
	} else {
		r->last_eval = r->t.step;
		d = save(r, 0) < 0 ? -1 : 0;
	}
	return dist_bcast_int(d);
}

/* one optimizer step plus what follows it; 1: stop (done), 2: stop
 * (patience), 3: stop (--stop-after), 4: stop (a signal, N ranks),
 * -1 error, 0 go on */
static int after_group(struct run *r, double tstart)
{
	int k = trainer_step(&r->t);
	if (k == 1) {
		if (r->tty)
			fputc('\n', stderr);
		sift_warn("step %lld: gradient norm is %s; stopping (the last checkpoint is kept)",
			  (long long)r->t.step + 1, isnan(r->t.last_norm) ? "nan" : "inf");
		return -1;
	}
	r->tokens += r->t.last_tokens;
	if (log_step(r, now() - tstart) < 0)
		return -1;
	progress(r, 0);
	const struct run_cfg *c = r->c;
	if (c->dev && c->eval_every > 0 && r->t.step % c->eval_every == 0) {
		int d = dev_round(r);
		if (d < 0)
			return -1;
		if (d > 0)
			return 2;
	} else if (c->save_every > 0 && r->t.step % c->save_every == 0) {
		if (save(r, 0) < 0)
			return -1;
	}
	if (r->total > 0 && r->t.step >= r->total)
		return 1;
	if (c->stop_after > 0 && r->t.step >= c->stop_after)
		return 3;
	/* N ranks stop together, at a step boundary they agree on */
	if (dist_size() > 1 && c->stop && (r->dsig = dist_max_int(*c->stop)))
		return 4;
	return 0;
}

/* the checkpoint's train.log, which this run's log continues (none
 * before this version: the log starts here) */
static int load_log(struct run *r)
{
	char path[4200], err[600];
	snprintf(path, sizeof path, "%s/" CKPT_LOG_NAME, r->c->out_dir);
	FILE *f = sift_model_fopen(path, err, sizeof err);
	if (!f) {
		if (errno == ENOENT)
			return 0;
		sift_warn("%s", err);
		return -1;
	}
	char buf[1 << 16];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (r->lglen + n > r->lgcap) {
			r->lgcap = 2 * (r->lglen + n);
			r->lg = sift_xrealloc(r->lg, r->lgcap);
		}
		memcpy(r->lg + r->lglen, buf, n);
		r->lglen += n;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		sift_warn("%s: read error", path);
		return -1;
	}
	return 0;
}

/* --class-weights and --label-smoothing onto the model's loss */
static int loss_setup(struct run *r)
{
	const struct run_cfg *c = r->c;
	if (!c->class_weights && c->label_smoothing == 0.0f)
		return 0;
	if (r->mlm) {
		sift_warn("%s: for ner, cls and pair, not mlm",
			  c->class_weights ? "--class-weights" : "--label-smoothing");
		return -1;
	}
	if (r->m.problem) {
		sift_warn("%s: for single-label heads (cross-entropy), not %s",
			  c->class_weights ? "--class-weights" : "--label-smoothing",
			  sift_problem_name(r->m.problem));
		return -1;
	}
	float *w = NULL;
	if (c->class_weights) {
		char err[512];
		w = malloc((size_t)r->h.nlabels * sizeof *w);
		if (!w) {
			sift_warn("out of memory");
			return -1;
		}
		int rc = strcmp(c->class_weights, "auto")
			? classweights_read(c->class_weights, r->h.labels,
					    r->h.nlabels, w, err, sizeof err)
			: classweights_balanced(c->input, r->ner, r->h.labels,
						r->h.nlabels, w);
		if (rc < 0 && strcmp(c->class_weights, "auto"))
			sift_warn("%s", err);
		if (rc < 0) {
			free(w);
			return -1;
		}
	}
	int rc = bert_set_loss(&r->m, w, c->label_smoothing);
	free(w);
	if (rc < 0)
		sift_warn("out of memory for the class weights on %s", r->m.be->name);
	return rc;
}

/* a resumed run's loss must be the checkpoint's: its sift-train.json's
 * label_smoothing and class_weights (a record without them: none) */
static int loss_resume_check(struct run *r)
{
	const struct run_cfg *c = r->c;
	char path[4096];
	snprintf(path, sizeof path, "%s/" CKPT_RECORD_NAME, c->out_dir);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return 0;	/* the state's own checks said what they had to */
	json_t *o = json_object_get(j, "options");
	json_t *ls = json_object_get(o, "label_smoothing");
	json_t *cw = json_object_get(o, "class_weights");
	int same = (ls && json_is_number(ls) ? (float)json_number_value(ls) : 0.0f)
		== r->m.ce_smoothing;
	if (!cw || json_is_null(cw)) {
		same = same && !r->m.ce_weight;
	} else if (!r->m.ce_weight || json_object_size(cw) != (size_t)r->h.nlabels) {
		same = 0;
	} else {
		for (int i = 0; i < r->h.nlabels && same; i++) {
			json_t *v = json_object_get(cw, r->h.labels[i]);
			same = v && json_is_number(v) &&
				(float)json_number_value(v) == r->m.ce_weight[i];
		}
	}
	json_decref(j);
	if (!same) {
		sift_warn("%s: saved with other class weights or label smoothing; resume with the same ones",
			  c->out_dir);
		return -1;
	}
	return 0;
}

/* --lora: the adapter on the loaded model (host memory still) */
static int attach_lora(struct run *r, enum bert_head head)
{
	char err[768];
	if (head == BERT_HEAD_MLM) {
		sift_warn("--lora: the task is mlm; adapters train a ner, cls or pair head");
		return -1;
	}
	if (lora_attach(&r->m, r->c->lora, r->c->o.seed, err, sizeof err) < 0) {
		sift_warn("%s", err);
		return -1;
	}
	return 0;
}

/* --lora --resume: the base loaded as the run loads it, with the adapter
 * of the checkpoint on disk (its model, whose hash the state holds);
 * 0, or -1 with a diagnostic */
static int load_adapted(struct run *r, enum bert_head head,
			struct bert_model *bm)
{
	const struct run_cfg *c = r->c;
	char err[768];
	struct lora_info li;
	int rc = c->config
		? load_random(bm, c->config, head, r->h.labels, r->h.nlabels,
			      c->o.seed, err, sizeof err)
		: bert_load(bm, c->model_dir, head, r->h.labels, r->h.nlabels,
			    1, c->o.seed, err, sizeof err);
	if (rc < 0) {
		sift_warn("%s", err);
		return -1;
	}
	if (lora_probe(c->out_dir, &li, err, sizeof err) < 0 ||
	    lora_load(bm, c->out_dir, &li, err, sizeof err) < 0) {
		sift_warn("%s", err);
		lora_info_free(&li);
		bert_free(bm);
		return -1;
	}
	lora_info_free(&li);
	return 0;
}

static int setup(struct run *r, struct sift_reader *rd)
{
	const struct run_cfg *c = r->c;
	char err[768];
	if (strcmp(r->h.kind, "batches")) {
		sift_rerror(rd, "expected a batches stream, got %s", r->h.kind);
		return -1;
	}
	if (c->task && strcmp(c->task, r->h.task)) {
		sift_rerror(rd, "the stream's task is '%s', not '%s'", r->h.task, c->task);
		return -1;
	}
	r->ner = !strcmp(r->h.task, "ner");
	r->mlm = !strcmp(r->h.task, "mlm");
	if (!r->ner && !r->mlm && strcmp(r->h.task, "cls") && strcmp(r->h.task, "pair")) {
		sift_rerror(rd, "task '%s' cannot be trained (ner, cls, pair or mlm)", r->h.task);
		return -1;
	}
	if (r->h.nlabels < 1 && !r->mlm) {
		sift_rerror(rd, "the header has no labels");
		return -1;
	}
	const msgpack_object *ho = sift_reader_header_obj(rd);
	int64_t total = -1, epochs = 1;
	if (sift_opt_int(rd, ho, "total", &total) < 0 ||
	    sift_opt_int(rd, ho, "epochs", &epochs) < 0)
		return -1;
	if (!sift_get(ho, "total"))
		total = -1;
	r->epochs = epochs;
	/* a count no stream can hold (the --max-steps bound) is a broken
	 * header, not a schedule of 10^18 steps */
	const int64_t most = 1000000000000000LL;
	if (c->max_steps <= 0 && (total > most || epochs > most)) {
		sift_rerror(rd, "key '%s': %lld is out of range (at most %lld)",
			    total > most ? "total" : "epochs",
			    (long long)(total > most ? total : epochs), (long long)most);
		return -1;
	}
	r->total = c->max_steps > 0 ? c->max_steps
		: trainer_total_steps(total, epochs, c->o.accum * c->o.nranks);
	if (r->total < 0) {
		sift_rerror(rd, "the header has no batch total; give --max-steps");
		return -1;
	}
	enum bert_head head = r->ner ? BERT_HEAD_TOKEN :
		r->mlm ? BERT_HEAD_MLM : BERT_HEAD_SEQ;
	int rc = c->config
		? load_random(&r->m, c->config, head, r->h.labels, r->h.nlabels,
			      c->o.seed, err, sizeof err)
		: bert_load(&r->m, c->model_dir, head, r->h.labels, r->h.nlabels,
			    1, c->o.seed, err, sizeof err);
	if (rc < 0) {
		sift_warn("%s", err);
		return -1;
	}
	/* multi-label and regression: the stream says (config.json gets it) */
	int problem = sift_problem_of_header(rd);
	if (problem < 0)
		return -1;
	r->m.problem = problem;
	r->init_hash = ckpt_model_hash(&r->m, r->m.params);
	if (c->dropout >= 0)
		r->m.cfg.hidden_dropout = c->dropout;
	if (c->attn_dropout >= 0)
		r->m.cfg.attn_dropout = c->attn_dropout;
	if (c->lora && attach_lora(r, head) < 0)
		return -1;
	const struct sift_backend *be = c->be ? c->be : &sift_backend_cpu;
	if (bert_upload(&r->m, be) < 0) {
		sift_warn("out of memory for the parameters on %s", be->name);
		return -1;
	}
	if (trainer_init(&r->t, &r->m, &c->o, r->total, err, sizeof err) < 0) {
		sift_warn("%s", err);
		return -1;
	}
	if (loss_setup(r) < 0)
		return -1;
	r->st.best_step = -1;
	r->saved_step = -1;
	/* what the bits depend on besides the inputs, recorded in the state;
	 * SIFT_TEST_DESCRIBE stands in for it (for tests only) */
	char describe[sizeof r->st.describe];
	const char *td = getenv("SIFT_TEST_DESCRIBE");
	if (td)
		snprintf(describe, sizeof describe, "%s", td);
	else
		snprintf(describe, sizeof describe, "%s%s%s", be->name,
			 be->describe ? "; " : "", be->describe ? be->describe() : "");
	snprintf(r->st.describe, sizeof r->st.describe, "%s", describe);
	r->metric = c->metric ? c->metric : r->ner ? "f1" : r->mlm ? "loss" :
		r->m.problem == SIFT_PROBLEM_MULTI ? "micro_f1" :
		r->m.problem == SIFT_PROBLEM_REGRESSION ? "pearson" : "accuracy";
	r->lower_better = !strcmp(r->metric, "loss") || !strcmp(r->metric, "mse") ||
		!strcmp(r->metric, "mae");
	if (problem_metric_check(r) < 0)
		return -1;
	/* dev scoring has no entity F1 for classes, no macro-F1 for tags:
	 * such a metric would read 0 every time and keep the first model */
	if (r->mlm && strcmp(r->metric, "loss") && strcmp(r->metric, "accuracy")) {
		sift_warn("--metric %s: not a score of mlm dev data (loss or accuracy)",
			  r->metric);
		return -1;
	}
	if (!r->mlm && !r->m.problem && (!strcmp(r->metric, r->ner ? "macro_f1" : "f1") ||
					  problem_metric(r->metric))) {
		sift_warn("--metric %s: not a score of %s dev data (%s)", r->metric,
			  r->ner ? "ner" : "cls and pair",
			  r->ner ? "f1, accuracy or loss" : "accuracy, macro_f1 or loss");
		return -1;
	}
	if (c->dev) {
		r->best = malloc((c->lora ? r->t.nopt : r->m.nparams) * sizeof(float));
		if (!r->best) {
			sift_warn("out of memory");
			return -1;
		}
		trainer_gather(&r->t, r->m.params, r->best);
	}
	if (c->resume && dist_rank() == 0) {
		float *hm, *hv;
		size_t bytes = r->m.nparams * sizeof(float);
		size_t mbytes = r->t.nopt * sizeof(float);
		host_moments(r, &hm, &hv);
		if (!hm || !hv || (c->lora && !(r->tp = malloc(mbytes)))) {
			sift_warn("out of memory");
			return -1;
		}
		if (ckpt_load_state(c->out_dir, &r->st, c->lora ? r->tp : r->m.params,
				    hm, hv, r->t.nopt, err, sizeof err) < 0) {
			sift_warn("%s", err);
			return -1;
		}
		if (c->lora)
			trainer_scatter(&r->t, r->tp, r->m.params);
		/* onto the device (nothing to copy on the CPU) */
		be->upload(r->m.dparams, r->m.params, bytes);
		if (hm != r->t.opt.m && !c->o.zero1) {
			be->upload(r->t.opt.m, hm, mbytes);
			be->upload(r->t.opt.v, hv, mbytes);
		}
		trainer_rows_moments(&r->t, hm, hv);
		if (check_group(r) < 0)
			return -1;
		if ((uint64_t)r->st.seed != c->o.seed || r->st.total_steps != r->total) {
			sift_warn("%s: saved with another seed or step total; resume with the same options and stream",
				  c->out_dir);
			return -1;
		}
		if (loss_resume_check(r) < 0)
			return -1;
		r->t.step = r->st.step;
		r->t.pos = r->st.pos;
		r->t.opt.t = r->st.adam_t;
		/* the state must be the one saved with the model beside it */
		struct bert_model bm;
		if (c->lora ? load_adapted(r, head, &bm) < 0
		    : bert_load(&bm, c->out_dir, head, r->h.labels, r->h.nlabels,
				0, 0, err, sizeof err) < 0) {
			if (!c->lora)
				sift_warn("%s", err);
			return -1;
		}
		if (bm.nparams != r->m.nparams ||
		    ckpt_model_hash(&bm, bm.params) != r->st.model_hash) {
			sift_warn("%s/" CKPT_STATE_NAME ": not the state of the model.safetensors beside it (saved with another model)",
				  c->out_dir);
			bert_free(&bm);
			return -1;
		}
		/* the same bytes as an uninterrupted run hold for one machine
		 * and build; another one is within floating-point tolerance */
		if (strcmp(r->st.describe, describe)) {
			if (r->st.describe[0])
				sift_warn("%s: saved by another machine or build (%s), resumed on %s; the result may differ from an uninterrupted run's in the last bits",
					  c->out_dir, r->st.describe, describe);
			snprintf(r->st.describe, sizeof r->st.describe, "%s", describe);
		}
		if (r->best && r->st.best_step >= 0) {
			/* the best parameters are the checkpoint's model, loaded
			 * with the run's head and labels: the same layout */
			trainer_gather(&r->t, bm.params, r->best);
		}
		bert_free(&bm);
		if (load_log(r) < 0)
			return -1;
		r->saved_step = r->t.step;
		r->saved_state = 1;
		r->saved_lglen = r->lglen;
	}
	if (c->resume && (dist_size() > 1 || c->o.zero1))
		resume_ranks(r);
	r->step0 = r->t.step;
	return 0;
}

/* after SIGTERM or SIGINT, at an optimizer-step boundary: the
 * checkpoint of the last step (with its state but under --no-state),
 * unless this process took none; the exit status */
static int stopped(struct run *r)
{
	const struct run_cfg *c = r->c;
	int sig = r->dsig ? r->dsig : *c->stop;
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
	if (r->t.step == r->step0) {
		/* no step in this process: dir is as it was */
		if (r->step0 == 0)
			sift_warn("%s: stopped before the first step; nothing saved", name);
		else
			sift_warn("%s: checkpoint at step %lld in %s; --resume continues",
				  name, (long long)r->step0, c->out_dir);
		return SIFT_EXIT_SIGNAL + sig;
	}
	if (r->tty)
		fputc('\n', stderr);
	if (r->t.micro > 0) {
		/* in the middle of a group: the checkpoint of the step before
		 * it, whose parameters and moments these still are */
		r->st.recs = r->mark.recs;
		r->t.pos = r->mark.pos;
		r->st.epoch = r->mark.epoch;
		r->in_hash = r->mark.in_hash;
		r->t.micro = 0;
	}
	log_end(r, "stopped");
	/* with its state, unless --no-state: that means no state file ever */
	if (save(r, 0) < 0)
		return SIFT_EXIT_DATA;
	log_out(r);
	if (dist_rank() == 0 && c->no_state)
		sift_warn("%s: model of step %lld in %s, without train_state.bin (--no-state): nothing to resume",
			  name, (long long)r->t.step, c->out_dir);
	else if (dist_rank() == 0)
		sift_warn("%s: checkpoint at step %lld in %s; --resume continues", name,
			  (long long)r->t.step, c->out_dir);
	return SIFT_EXIT_SIGNAL + sig;
}

/* the run, with out_dir's lock held */
static int run_locked(const struct run_cfg *c)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.c = c;
	r.src_dir = c->model_dir;
	r.last_eval = -1;
	int fd = strcmp(c->input, "-") ? open(c->input, O_RDONLY) : 0;
	if (fd < 0) {
		sift_warn("%s: %s", c->input, strerror(errno));
		return SIFT_EXIT_DATA;
	}
	struct sift_reader *rd = sift_reader_new(fd, c->input);
	if (c->stop && dist_size() == 1)	/* N ranks: after_group */
		sift_reader_stop_on(rd, c->stop);
	int status = SIFT_EXIT_DATA;
	int hk = sift_read_header(rd, &r.h);
	if (hk < 0) {
		sift_reader_free(rd);
		if (fd > 0)
			close(fd);
		if (hk == -2)
			return stopped(&r);
		return SIFT_EXIT_DATA;
	}
	if (setup(&r, rd) < 0)
		goto out;
	/* N ranks: no progress line (Open MPI's ranks write to a terminal
	 * whatever mpirun's stderr is) */
	r.tty = isatty(2) && dist_size() == 1;
	r.log = (c->force || !isatty(1)) && dist_rank() == 0;
	/* the log is packed whether stdout takes it or not: train.log */
	if (sift_writer_init(&r.w, stdout, "stdout", 1) < 0)
		goto out;
	struct sift_header lh;
	sift_header_init(&lh, "log", r.h.task, "sift-train " SIFT_VERSION);
	sift_header_set_labels(&lh, r.h.labels, r.h.nlabels);
	sift_pack_header(&r.w, &lh, 1);
	sift_pack_str(&r.w.pk, "total_steps");
	msgpack_pack_int64(&r.w.pk, r.total);
	sift_header_free(&lh);
	if (log_flush(&r) < 0)
		goto out;
	r.t0 = now();
	const msgpack_object *rec;
	int64_t recs = 0;
	int k = 0, stop = 0;
	double tstart = now();
	const char *why = "done";
	r.in_hash = CKPT_FNV0;
	if (r.total > 0 && r.t.step >= r.total)
		stop = 1;
	while (!stop) {
		if (r.t.micro == 0) {
			r.mark.recs = r.st.recs;
			r.mark.pos = r.t.pos;
			r.mark.epoch = r.st.epoch;
			r.mark.in_hash = r.in_hash;
		}
		if (c->stop && *c->stop && dist_size() == 1) {
			stop = 4;
			break;
		}
		if ((k = sift_read(rd, &rec)) != 1)
			break;
		r.in_hash = rec_hash(&r, r.in_hash, rec);
		if (recs++ < r.st.recs)
			continue;	/* consumed before the resumed checkpoint */
		r.st.recs = recs;
		int64_t e;
		if (sift_get(rec, "epoch_end")) {
			if (sift_need_int(rd, rec, "epoch_end", &e) < 0)
				goto out;
			int s = 0;
			if (r.t.micro > 0)
				s = after_group(&r, tstart);
			if (s < 0)
				goto out;
			r.st.epoch = e + 1;
			if (!s && c->dev && (c->eval_every <= 0 || r.t.step % c->eval_every)) {
				int d = dev_round(&r);
				if (d < 0)
					goto out;
				if (d > 0)
					s = 2;
			}
			if (s) {
				stop = s;
				break;
			}
			tstart = now();
			continue;
		}
		struct sift_batch_rec b;
		if (sift_batch_rec_read(rd, rec, r.ner || r.mlm, 1, &b) < 0) {
			sift_batch_rec_free(&b);
			goto out;
		}
		if (sift_opt_int(rd, rec, "epoch", &e) == 1)
			r.st.epoch = e;
		if (r.t.micro == 0)
			tstart = now();
		double loss = 0.0;
		char err[256];
		if (r.m.problem && !problem_labels(&r, rd, &b)) {
			sift_batch_rec_free(&b);
			goto out;
		}
		r.t.flabels = b.flabels;
		int m = 0;
		if (trainer_mine(&r.t))	/* N ranks: batches rank, rank+N, ... */
			m = trainer_micro(&r.t, b.ids, b.type_ids, b.mask, b.labels,
					  (int)b.B, (int)b.T, &loss, err, sizeof err);
		else
			trainer_skip(&r.t);
		sift_batch_rec_free(&b);
		if (m < 0) {
			sift_rerror(rd, "%s", err);
			goto out;
		}
		if (m == 1) {
			if (r.tty)
				fputc('\n', stderr);
			sift_warn("step %lld: loss is %s; stopping (the last checkpoint is kept)",
				  (long long)r.t.step + 1, isnan(loss) ? "nan" : "inf");
			goto out;
		}
		if (trainer_group_full(&r.t)) {
			int s = after_group(&r, tstart);
			if (s < 0)
				goto out;
			stop = s;
		}
	}
	/* the input ended or was given up after a signal */
	if (!stop && k != -1 && c->stop && *c->stop && dist_size() == 1)
		stop = 4;
	if (stop == 4) {
		status = stopped(&r);
		goto out;
	}
	if (!stop && k < 0)
		goto out;
	if (!stop && r.t.micro > 0) {
		/* the stream ended inside a group (no epoch marker) */
		stop = after_group(&r, tstart);
		if (stop < 0)
			goto out;
	}
	if (c->dev && stop != 2 && stop != 3 && r.last_eval != r.t.step) {
		/* the last steps were not scored yet */
		if (dev_round(&r) < 0)
			goto out;
	}
	why = stop == 2 ? "early_stop" : stop == 3 ? "stopped" :
		c->max_steps > 0 && r.t.step >= c->max_steps ? "max_steps" : "done";
	progress(&r, 1);
	log_end(&r, why);
	if (save(&r, 0) < 0)
		goto out;
	log_out(&r);
	status = SIFT_EXIT_OK;
out:
	if (r.w.f) {
		/* r.log is cleared after a write error, which was reported;
		 * so is the stream's error indicator */
		if (r.log && !ferror(r.w.f) && sift_writer_close(&r.w) < 0 &&
		    !r.w.closed)
			status = SIFT_EXIT_DATA;
		sift_writer_free(&r.w);
	}
	sift_header_free(&r.h);
	sift_reader_free(rd);
	if (fd > 0)
		close(fd);
	trainer_free(&r.t);
	free(r.best);
	free(r.hm);
	free(r.hv);
	free(r.tp);
	free(r.lg);
	msgpack_sbuffer_destroy(&r.hb);
	if (r.m.params)
		bert_free(&r.m);
	return status;
}

int train_run(const struct run_cfg *c)
{
	/* N ranks: rank 0 alone writes -o (the others write nothing) */
	if (dist_rank() != 0)
		return run_locked(c);
	/* -o, before anything is read: its parent made, a link refused */
	char err[9000];
	int k = ckpt_prepare(c->out_dir, err, sizeof err);
	if (k < 0) {
		sift_warn("%s", err);
		return k == -2 ? SIFT_EXIT_USAGE : SIFT_EXIT_DATA;
	}
	/* one run writes out_dir at a time: a second fails here, at once */
	int lock = ckpt_lock(c->out_dir, err, sizeof err);
	if (lock < 0) {
		sift_warn("%s", err);
		return SIFT_EXIT_DATA;
	}
	if (c->resume ? ckpt_check_resume(c->out_dir, err, sizeof err) < 0
		      : ckpt_check_dir(c->out_dir, err, sizeof err) < 0) {
		sift_warn("%s", err);
		close(lock);
		return SIFT_EXIT_DATA;
	}
	int status = run_locked(c);
	close(lock);
	return status;
}
