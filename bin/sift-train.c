/* sift-train: fine-tunes a BERT model on a batches stream and writes a Hugging Face checkpoint. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>	/* defines: stat, for --class-weights auto */
#include <unistd.h>
#include <cblas.h>	/* defines: openblas_set_num_threads */

#include "backend.h"	/* defines: sift_backend_get */
#include "device.h"	/* defines: sift_device_parse, sift_device_resolve */
#include "cli.h"
#include "dist.h"	/* defines: dist_init, dist_finish (mpirun, srun) */
#include "stream.h"
#include "trainrun.h"	/* defines: train_run, struct run_cfg */

static const char usage[] =
	"usage: sift-train (-m dir | --config file) -o dir [-f] [--lr x]"
	" [--weight-decay x] [--warmup n | --warmup-ratio x]"
	" [--schedule linear|constant|cosine] [--max-grad-norm x] [--accum n]"
	" [--dropout p] [--attn-dropout p] [--seed n] [--task ner|cls|pair|mlm]"
	" [--freeze-embeddings] [--freeze-layers k]"
	" [--class-weights auto|file] [--label-smoothing x] [--dev file]"
	" [--eval-every n] [--patience k] [--metric name]"
	" [--max-steps n] [--save-every n] [--stop-after n] [--resume]"
	" [--no-state] [--lora r [--lora-alpha a] [--lora-dropout p]"
	" [--lora-targets list]] [--zero1]"
	" [--device where] [--precision fp32|bf16] [file]\n";

static const char help[] =
	"Fine-tune a BERT encoder with a token or sequence classification head,\n"
	"or train it with the masked language model head (--task mlm), on a\n"
	"batches stream (from sift-batch; stdin by default), one AdamW step\n"
	"per batch or per --accum batches, and write a checkpoint that\n"
	"transformers loads into dir.  A log stream goes to stdout.\n"
	"\n"
	"  -m, --model DIR        initial model (config.json, model.safetensors)\n"
	"      --config FILE      random initialisation from a config.json alone\n"
	"  -o, --output DIR       the checkpoint directory (replaced atomically)\n"
	"      --lr X             peak learning rate (5e-5)\n"
	"      --weight-decay X   AdamW weight decay, not on biases/LayerNorm (0)\n"
	"      --warmup N         warmup steps (0)\n"
	"      --warmup-ratio X   warmup as a fraction of the steps\n"
	"      --schedule S       linear (default), constant or cosine\n"
	"      --max-grad-norm X  clip the global gradient norm (1; 0: never)\n"
	"      --accum N          batches per optimizer step (1)\n"
	"      --dropout P        hidden dropout (the config's)\n"
	"      --attn-dropout P   attention dropout (the config's)\n"
	"      --seed N           dropout masks and head initialisation (42)\n"
	"      --task T           require the stream's task to be T\n"
	"      --freeze-embeddings  do not train the embeddings\n"
	"      --freeze-layers K  do not train the embeddings and layers 0..K-1\n"
	"      --class-weights W  weight the loss per class: auto (balanced, from\n"
	"                         the input file) or a file of 'label weight' lines\n"
	"      --label-smoothing X  label smoothing of the loss, 0..1 (0)\n"
	"      --dev FILE         score this batches stream at each epoch end\n"
	"      --eval-every N     and every N steps; keep the best model\n"
	"      --patience K       stop after K scores without improvement\n"
	"      --metric M         f1 (ner), accuracy (cls), macro_f1 or loss (mlm);\n"
	"                         multi-label: micro_f1, macro_f1, subset_accuracy;\n"
	"                         regression: pearson, spearman, mse, mae\n"
	"      --max-steps N      train N steps (the schedule spans them)\n"
	"      --save-every N     checkpoint every N steps\n"
	"      --stop-after N     checkpoint and stop after N steps\n"
	"      --resume           continue from the checkpoint in DIR\n"
	"      --no-state         write no train_state.bin (no --resume then)\n"
	"      --lora R           train a LoRA adapter of rank R and the classifier\n"
	"                         only; the checkpoint is a peft adapter\n"
	"      --lora-alpha A     the update is scaled by A/R (8)\n"
	"      --lora-dropout P   dropout on the adapter's input (0)\n"
	"      --lora-targets L   query,key,value,attn-out,intermediate,output\n"
	"                         (query,value)\n"
	"      --zero1            under mpirun: shard AdamW's moments over the ranks\n"
	"      --device D         auto, cpu (default) or cuda\n"
	"      --precision P      fp32 (default) or bf16\n"
	"  -f, --force            write the log stream even to a terminal\n"
	"  -h, --help             this help\n"
	"      --version          the version\n";

enum {
	O_CONFIG = 256, O_LR, O_WD, O_WARMUP, O_WRATIO, O_SCHED, O_CLIP,
	O_ACCUM, O_DROPOUT, O_ADROPOUT, O_SEED, O_TASK, O_FREEZE_EMB,
	O_FREEZE_LAYERS, O_DEV, O_EVAL_EVERY, O_PATIENCE, O_METRIC,
	O_MAX_STEPS, O_SAVE_EVERY, O_STOP_AFTER, O_RESUME, O_VERSION,
	O_DEVICE, O_PRECISION, O_NO_STATE, O_CLASS_WEIGHTS, O_SMOOTH,
	O_LORA, O_LORA_ALPHA,
	O_LORA_DROPOUT, O_LORA_TARGETS, O_ZERO1,
};

static const struct option longopts[] = {
	{ "model", required_argument, 0, 'm' },
	{ "config", required_argument, 0, O_CONFIG },
	{ "output", required_argument, 0, 'o' },
	{ "lr", required_argument, 0, O_LR },
	{ "weight-decay", required_argument, 0, O_WD },
	{ "warmup", required_argument, 0, O_WARMUP },
	{ "warmup-ratio", required_argument, 0, O_WRATIO },
	{ "schedule", required_argument, 0, O_SCHED },
	{ "max-grad-norm", required_argument, 0, O_CLIP },
	{ "accum", required_argument, 0, O_ACCUM },
	{ "dropout", required_argument, 0, O_DROPOUT },
	{ "attn-dropout", required_argument, 0, O_ADROPOUT },
	{ "seed", required_argument, 0, O_SEED },
	{ "task", required_argument, 0, O_TASK },
	{ "freeze-embeddings", no_argument, 0, O_FREEZE_EMB },
	{ "freeze-layers", required_argument, 0, O_FREEZE_LAYERS },
	{ "class-weights", required_argument, 0, O_CLASS_WEIGHTS },
	{ "label-smoothing", required_argument, 0, O_SMOOTH },
	{ "dev", required_argument, 0, O_DEV },
	{ "eval-every", required_argument, 0, O_EVAL_EVERY },
	{ "patience", required_argument, 0, O_PATIENCE },
	{ "metric", required_argument, 0, O_METRIC },
	{ "max-steps", required_argument, 0, O_MAX_STEPS },
	{ "save-every", required_argument, 0, O_SAVE_EVERY },
	{ "stop-after", required_argument, 0, O_STOP_AFTER },
	{ "resume", no_argument, 0, O_RESUME },
	{ "no-state", no_argument, 0, O_NO_STATE },
	{ "lora", required_argument, 0, O_LORA },
	{ "lora-alpha", required_argument, 0, O_LORA_ALPHA },
	{ "lora-dropout", required_argument, 0, O_LORA_DROPOUT },
	{ "lora-targets", required_argument, 0, O_LORA_TARGETS },
	{ "zero1", no_argument, 0, O_ZERO1 },
	{ "device", required_argument, 0, O_DEVICE },
	{ "precision", required_argument, 0, O_PRECISION },
	{ "force", no_argument, 0, 'f' },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, O_VERSION },
	{ 0, 0, 0, 0 },
};

/* "--name" of the long option whose value is ch, for messages */
static const char *optname(int ch)
{
	static char buf[40];
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == ch) {
			snprintf(buf, sizeof buf, "--%s", o->name);
			return buf;
		}
	return "option";
}

/* SIGTERM or SIGINT, once: the run saves at the next step boundary and
 * ends; SA_RESETHAND gives a second one its default action (the end,
 * at once) */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

int main(int argc, char **argv)
{
	/*
	 * How an OpenMP thread waits for the next op.  libgomp's default
	 * spins ~300,000 times first, which burns the core a thread still
	 * working needs on a loaded machine (10x slower on 2 busy cores);
	 * not spinning at all (passive) makes every parallel region wake a
	 * sleeping thread, ~50 us on this VM, a few hundred times a step
	 * (20 NER steps at 2 threads: 5.4-5.8 s passive, 5.1-5.5 s with a
	 * spin of 1,000, the same on 2 busy cores).  So a short spin, then
	 * sleep.  libgomp reads these before main, so the first start sets
	 * GOMP_SPINCOUNT and runs the program again, once; either variable
	 * set by the user is left alone.
	 */
	if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) {
		setenv("GOMP_SPINCOUNT", "1000", 1);
		execv("/proc/self/exe", argv);
		/* no /proc: go on spinning */
	}
	sift_setprog(argv[0]);
	struct run_cfg c;
	memset(&c, 0, sizeof c);
	trainer_opts_default(&c.o);
	c.dropout = c.attn_dropout = -1.0f;
	c.input = "-";
	enum sift_device_req req = SIFT_DEVICE_CPU, device;
	enum sift_precision prec = SIFT_PREC_FP32;
	struct lora_cfg lora = { 0, 8.0f, 0.0f, LORA_DEFAULT_TARGETS, 0 };
	int lora_more = 0;	/* a --lora-* option given */
	double v;
	long long n;
	int ch;
	char err[256];
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:o:fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm': c.model_dir = optarg; break;
		case O_CONFIG: c.config = optarg; break;
		case 'o': c.out_dir = optarg; break;
		case 'f': c.force = 1; break;
		case O_FREEZE_EMB: c.o.freeze.freeze_embeddings = 1; break;
		case O_RESUME: c.resume = 1; break;
		case O_NO_STATE: c.no_state = 1; break;
		case O_ZERO1: c.o.zero1 = 1; break;
		case O_DEV: c.dev = optarg; break;
		case O_CLASS_WEIGHTS:
			if (!*optarg)
				return sift_misuse("%s", "--class-weights: expected auto or a file");
			c.class_weights = optarg;
			break;
		case O_SMOOTH:
			if (sift_double_opt("--label-smoothing", optarg, 0, 1, &v) < 0)
				return SIFT_EXIT_USAGE;
			c.label_smoothing = (float)v;
			break;
		case O_DEVICE:
			if (sift_device_parse(optarg, &req))
				return sift_misuse("--device: expected auto, cpu or cuda, got '%s'", optarg);
			break;
		case O_PRECISION:
			if (sift_precision_parse(optarg, &prec))
				return sift_misuse("--precision: expected fp32 or bf16, got '%s'", optarg);
			if (prec == SIFT_PREC_INT8)
				return sift_misuse("%s", "--precision int8: for inference only (sift-fwd), not for training");
			break;
		case O_TASK:
			if (strcmp(optarg, "ner") && strcmp(optarg, "cls") &&
			    strcmp(optarg, "pair") && strcmp(optarg, "mlm"))
				return sift_misuse("--task: '%s' is not ner, cls, pair or mlm", optarg);
			c.task = optarg;
			break;
		case O_METRIC:
			if (strcmp(optarg, "f1") && strcmp(optarg, "accuracy") &&
			    strcmp(optarg, "macro_f1") && strcmp(optarg, "loss") &&
			    strcmp(optarg, "micro_f1") && strcmp(optarg, "subset_accuracy") &&
			    strcmp(optarg, "pearson") && strcmp(optarg, "spearman") &&
			    strcmp(optarg, "mse") && strcmp(optarg, "mae"))
				return sift_misuse("--metric: unknown metric '%s'", optarg);
			c.metric = optarg;
			break;
		case O_SCHED:
			if (sched_parse(optarg, &c.o.sched) < 0)
				return sift_misuse("--schedule: unknown schedule '%s'", optarg);
			break;
		case O_LR:
			if (sift_double_opt("--lr", optarg, 0, 1e3, &v) < 0)
				return SIFT_EXIT_USAGE;
			c.o.lr = v;
			break;
		case O_WD:
			if (sift_double_opt("--weight-decay", optarg, 0, 1e3, &v) < 0)
				return SIFT_EXIT_USAGE;
			c.o.weight_decay = (float)v;
			break;
		case O_WARMUP:
			if (sift_int_opt("--warmup", optarg, 0, 1000000000000000, &n) < 0)
				return SIFT_EXIT_USAGE;
			c.o.warmup = n;
			break;
		case O_WRATIO:
			if (sift_double_opt("--warmup-ratio", optarg, 0, 1, &v) < 0)
				return SIFT_EXIT_USAGE;
			c.o.warmup_ratio = v;
			break;
		case O_CLIP:
			if (sift_double_opt("--max-grad-norm", optarg, 0, 1e30, &v) < 0)
				return SIFT_EXIT_USAGE;
			c.o.max_grad_norm = (float)v;
			break;
		case O_ACCUM:
			if (sift_int_opt("--accum", optarg, 1, 1000000, &n) < 0)
				return SIFT_EXIT_USAGE;
			c.o.accum = (int)n;
			break;
		case O_DROPOUT:
		case O_ADROPOUT:
			if (sift_double_opt(optname(ch), optarg, 0, 0.999, &v) < 0)
				return SIFT_EXIT_USAGE;
			*(ch == O_DROPOUT ? &c.dropout : &c.attn_dropout) = (float)v;
			break;
		case O_SEED:
			if (sift_seed_opt("--seed", optarg, &c.o.seed) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_FREEZE_LAYERS:
		case O_PATIENCE:
			if (sift_int_opt(optname(ch), optarg, 0, 1000000, &n) < 0)
				return SIFT_EXIT_USAGE;
			*(ch == O_PATIENCE ? &c.patience : &c.o.freeze.freeze_layers) = (int)n;
			break;
		case O_EVAL_EVERY:
		case O_MAX_STEPS:
		case O_SAVE_EVERY:
		case O_STOP_AFTER:
			if (sift_int_opt(optname(ch), optarg, 1, 1000000000000000, &n) < 0)
				return SIFT_EXIT_USAGE;
			*(ch == O_EVAL_EVERY ? &c.eval_every : ch == O_MAX_STEPS ? &c.max_steps :
			  ch == O_SAVE_EVERY ? &c.save_every : &c.stop_after) = n;
			break;
		/* LoRA (lib/lora.h) */
		case O_LORA:
			if (sift_int_opt("--lora", optarg, 1, 1 << 20, &n) < 0)
				return SIFT_EXIT_USAGE;
			lora.r = (int)n;
			break;
		case O_LORA_ALPHA:
		case O_LORA_DROPOUT:
			if (sift_double_opt(optname(ch), optarg, 0,
					    ch == O_LORA_ALPHA ? 1e6 : 0.999, &v) < 0)
				return SIFT_EXIT_USAGE;
			*(ch == O_LORA_ALPHA ? &lora.alpha : &lora.dropout) = (float)v;
			lora_more = 1;
			break;
		case O_LORA_TARGETS:
			if (lora_parse_targets(optarg, &lora.targets, err, sizeof err) < 0)
				return sift_misuse("%s", err);
			lora_more = 1;
			break;
		case 'h':
			return sift_help(usage, help);
		case O_VERSION:
			return sift_version();
		default:
			return sift_opt_error(ch, argv, longopts);
		}
	}
	if (!c.model_dir == !c.config)
		return sift_misuse("%s", "give one of -m DIR and --config FILE");
	if (!c.out_dir)
		return sift_misuse("%s", "missing -o DIR");
	if (c.o.warmup >= 0 && c.o.warmup_ratio > 0)
		return sift_misuse("%s", "--warmup and --warmup-ratio exclude each other");
	if (c.o.warmup < 0 && c.o.warmup_ratio == 0)
		c.o.warmup = 0;
	if ((c.eval_every || c.patience) && !c.dev)
		return sift_misuse("%s", "--eval-every and --patience need --dev");
	if (lora_more && !lora.r)
		return sift_misuse("%s", "--lora-alpha, --lora-dropout and --lora-targets need --lora");
	if (lora.r && (c.o.freeze.freeze_embeddings || c.o.freeze.freeze_layers))
		return sift_misuse("%s", "--lora freezes the whole base: no --freeze-embeddings or --freeze-layers with it");
	if (lora.r && c.o.zero1)
		return sift_misuse("%s", "--zero1 shards the moments of the whole model: not with --lora, whose few moments need no sharding");
	if (lora.r) {
		c.lora = &lora;
		c.o.freeze.freeze_base = 1;
	}
	if (optind < argc - 1)
		return sift_misuse("extra operand '%s'", argv[optind + 1]);
	if (optind < argc)
		c.input = argv[optind];
	/* auto counts the labels in a first pass over the input */
	struct stat ist;
	if (c.class_weights && !strcmp(c.class_weights, "auto") &&
	    (strcmp(c.input, "-") ? stat(c.input, &ist) : fstat(0, &ist)) == 0 &&
	    !S_ISREG(ist.st_mode))
		return sift_misuse("--class-weights auto: %s is not a regular file (a pipe cannot be read twice); give the weights in a file",
				   strcmp(c.input, "-") ? c.input : "stdin");
	/* under mpirun or srun: this process's rank of a data-parallel job;
	 * every rank reads the batches file itself (a pipe reaches rank 0
	 * alone) */
	if (dist_init(err, sizeof err) < 0)
		return sift_misuse("%s", err);
	c.o.rank = dist_rank();
	c.o.nranks = dist_size();
	if (c.o.nranks > 1 && !strcmp(c.input, "-")) {
		/* every rank sees it: rank 0 says so, and all end alike */
		int st = c.o.rank ? SIFT_EXIT_USAGE :
			sift_misuse("%d ranks read the batches from a file, not stdin", c.o.nranks);
		return dist_finish_agreed(st);
	}
	if (sift_device_resolve(req, &device, err, sizeof err)) {
		sift_warn("%s", err);
		return dist_finish(SIFT_EXIT_DATA);
	}
	if (sift_device_set_precision(device, prec, err, sizeof err)) {
		sift_warn("%s", err);
		return dist_finish(SIFT_EXIT_DATA);
	}
	c.precision = sift_precision_name(prec);
	c.be = sift_backend_get(sift_device_name(device));
	if (!c.be) {
		sift_warn("%s: backend not built in", sift_device_name(device));
		return dist_finish(SIFT_EXIT_DATA);
	}
	/* one pool of threads: the matrix products split their rows over
	 * the OpenMP threads, so OpenBLAS's own would only spin against them */
	openblas_set_num_threads(1);
	/* SA_RESTART: a write to the log pipe or a checkpoint file goes on
	 * after the handler; the stream reader waits in poll, which the
	 * signal ends all the same */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGTERM, SIGINT };
	for (int i = 0; i < 2; i++) {
		/* one ignored at the start (nohup, a background job of sh)
		 * stays ignored */
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
	c.stop = &stop_signal;
	int status = train_run(&c);
	if (status == SIFT_EXIT_OK && sift_close_stdout() < 0)
		status = SIFT_EXIT_DATA;
	/* a failed rank ends the job: the others may wait for it */
	return dist_finish(status);
}
