/* sift-fwd: runs a BERT model over batches and writes one prediction per sentence or text. */
#include <getopt.h>
#include <stdlib.h>

#include <cblas.h>	/* defines: openblas_set_num_threads */
#include <omp.h>

#include "device.h"	/* defines: sift_device_parse, sift_device_resolve */
#include "fwdrun.h"
#include "problem.h"	/* defines: sift_problem_of_dir */
#include "cli.h"
#include "stream.h"

static const char usage[] =
	"usage: sift-fwd -m model [-f] [-j threads] [--device where]"
	" [--precision fp32|bf16|int8] [--init-head seed] [--top-k k]"
	" [--threshold x --abstain label] [--threshold x] [--thresholds file]"
	" [--adapter dir [--save-merged out]] [file]\n";

static const char help[] =
	"Run a BERT model (a Hugging Face directory) over a batches stream (from\n"
	"sift-batch) and write a predictions stream: one record per sentence or\n"
	"text, in input order.  NER: a label and its probability per word (its\n"
	"first sub-token), the windows of a long sentence stitched back together.\n"
	"Classification: the label and the probability of every class.  Gold\n"
	"labels pass through for sift-eval.  MLM (fill-mask): the top-k tokens\n"
	"of each [MASK], and the label's log-probability in a masked batch.\n"
	"\n"
	"  -m, --model DIR     the model: config.json and model.safetensors\n"
	"      --init-head S   a model without a trained head gets one initialised\n"
	"                      from seed S, for the stream's task and labels\n"
	"      --top-k K       cls and pair: the K most probable labels, named;\n"
	"                      mlm: the K most probable tokens (default 5)\n"
	"      --threshold X   cls and pair: below a top probability of X (0 to 1)\n"
	"      --abstain L     the prediction is label L (\"oos\", say)\n"
	"      --threshold X   multi-label: the labels of probability X or more\n"
	"                      (default 0.5); without --abstain\n"
	"      --thresholds F  multi-label: per-label thresholds, lines \"LABEL X\"\n"
	"      --adapter DIR   a LoRA adapter (peft's format) for the model,\n"
	"                      merged into its weights at load\n"
	"      --save-merged D write the merged model to D as a checkpoint;\n"
	"                      no stream is read\n"
	"  -j, --threads N     threads (default: OMP_NUM_THREADS, or the cores)\n"
	"      --device D      auto, cpu (default) or cuda\n"
	"      --precision P   fp32 (default), bf16 or int8 (cpu only:\n"
	"                      dynamically quantised linear layers)\n"
	"  -f, --force         write the binary stream even to a terminal\n"
	"  -h, --help          this help\n"
	"      --version       the version\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "init-head", required_argument, NULL, 'I' },
		{ "threads", required_argument, NULL, 'j' },
		{ "device", required_argument, NULL, 'D' },
		{ "precision", required_argument, NULL, 'P' },
		{ "top-k", required_argument, NULL, 'K' },
		{ "threshold", required_argument, NULL, 'X' },
		{ "abstain", required_argument, NULL, 'A' },
		{ "thresholds", required_argument, NULL, 'Y' },
		{ "adapter", required_argument, NULL, 'L' },
		{ "save-merged", required_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *abstain = NULL, *thresholds = NULL;
	const char *adapter = NULL, *merged = NULL;
	int force = 0, init = 0, c, has_threshold = 0;
	long long topk = 0;
	double threshold = 0;
	uint64_t seed = 0;
	long long threads = 0;
	enum sift_device_req req = SIFT_DEVICE_CPU, device;
	enum sift_precision prec = SIFT_PREC_FP32;
	sift_setprog(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:j:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'I':
			if (sift_seed_opt("--init-head", optarg, &seed) < 0)
				return SIFT_EXIT_USAGE;
			init = 1;
			break;
		case 'j':
			if (sift_int_opt("--threads", optarg, 1, 1024, &threads) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case 'D':
			if (sift_device_parse(optarg, &req))
				return sift_misuse("--device: expected auto, cpu or cuda, got '%s'", optarg);
			break;
		case 'P':
			if (sift_precision_parse(optarg, &prec))
				return sift_misuse("--precision: expected fp32, bf16 or int8, got '%s'", optarg);
			break;
		case 'K':
			if (sift_int_opt("--top-k", optarg, 1, 1000000, &topk) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case 'X':
			if (sift_double_opt("--threshold", optarg, 0, 1, &threshold) < 0)
				return SIFT_EXIT_USAGE;
			has_threshold = 1;
			break;
		case 'A':
			if (!*optarg)
				return sift_misuse("%s", "--abstain: the label is empty");
			abstain = optarg;
			break;
		case 'Y':
			thresholds = optarg;
			break;
		case 'L': adapter = optarg; break;
		case 'S': merged = optarg; break;
		case 'f': force = 1; break;
		case 'h':
			return sift_help(usage, help);
		case 'V':
			return sift_version();
		default:
			return sift_opt_error(c, argv, opts);
		}
	}
	if (!model)
		return sift_misuse("%s", "a model is needed (-m DIR)");
	if (argc - optind > 1)
		return sift_misuse("extra operand '%s'", argv[optind + 1]);
	/* a multi-label model takes --threshold alone (its label sets) */
	int multi = (has_threshold || thresholds) && !abstain &&
		(init || sift_problem_of_dir(model) == SIFT_PROBLEM_MULTI);
	if (thresholds && !multi)
		return sift_misuse("%s", "--thresholds: for a multi-label model, without --abstain");
	if (!multi && has_threshold != (abstain != NULL))
		return sift_misuse("%s", has_threshold ?
				   "--threshold needs --abstain LABEL" :
				   "--abstain needs --threshold X");
	if (merged && !adapter)
		return sift_misuse("%s", "--save-merged needs --adapter DIR");
	if (merged && optind < argc)
		return sift_misuse("%s", "--save-merged reads no stream: no file operand");
	const char *path = optind < argc ? argv[optind] : "-";
	/* the examples of a batch split over the threads, each running
	 * the model with OpenBLAS on one thread (bert_forward) */
	if (threads)
		omp_set_num_threads((int)threads);
	openblas_set_num_threads(1);
	char err[512];
	/* int8 runs on the cpu only: there, auto means the cpu */
	if (prec == SIFT_PREC_INT8 && req == SIFT_DEVICE_AUTO)
		req = SIFT_DEVICE_CPU;
	if (sift_device_resolve(req, &device, err, sizeof err)) {
		sift_warn("%s", err);
		return SIFT_EXIT_DATA;
	}
	if (sift_device_set_precision(device, prec, err, sizeof err)) {
		sift_warn("%s", err);
		return SIFT_EXIT_DATA;
	}
	struct fwd_cfg cfg = {
		.model_dir = model, .input = path, .init = init, .seed = seed,
		.force = force, .be = sift_backend_get(sift_device_name(device)),
		.topk = (int)topk, .threshold = (float)threshold, .abstain = abstain,
		.has_threshold = has_threshold, .thresholds = thresholds,
		.adapter = adapter, .save_merged = merged,
		.int8 = prec == SIFT_PREC_INT8,
	};
	if (merged)
		return fwd_save_merged(&cfg);
	if (!cfg.be) {
		sift_warn("%s: the device's backend is not built in", sift_device_name(device));
		return SIFT_EXIT_DATA;
	}
	return fwd_run(&cfg);
}
