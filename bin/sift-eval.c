/* sift-eval: scores predictions against their gold labels and writes one metrics record. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abstain.h"	/* defines: sift_abstain_search */
#include "evalpred.h"	/* defines: eval_pred_stream */
#include "problemeval.h"	/* defines: sift_pm_init, sift_pack_pm */
#include "reportmetrics.h"	/* defines: sift_pack_ner_metrics, sift_pack_abstain */
#include "cli.h"
#include "stream.h"

static const char usage[] =
	"usage: sift-eval [-f] [-m mode] [-s scheme]"
	" [--abstain label [--find-threshold] [--objective name]] [file]\n";

static const char help[] =
	"Score a predictions stream (from sift-fwd) that carries gold labels and\n"
	"write a metrics stream of one record.  NER is scored by entity, as\n"
	"conlleval.pl does, or as seqeval's strict mode; classification by\n"
	"accuracy, per-class and averaged precision, recall and F1; fill-mask\n"
	"(mlm) by the loss, perplexity and accuracy of the masked tokens.\n"
	"\n"
	"  -s, --scheme S      tag scheme: iob1, iob2 (default) or iobes\n"
	"  -m, --mode M        conlleval (default) or strict (needs iob2 or iobes)\n"
	"      --abstain L     cls and pair: CLINC150's scores with L (\"oos\") as the\n"
	"                      out-of-scope label: in-scope accuracy, L's P/R/F1\n"
	"      --find-threshold  the threshold of sift-fwd --threshold that\n"
	"                      maximises the objective, and the scores there\n"
	"      --objective O   balanced (default: the mean of in-scope accuracy\n"
	"                      and L's recall) or abstain-f1 (L's F1)\n"
	"  -f, --force         write the binary stream even to a terminal\n"
	"  -h, --help          this help\n"
	"      --version       the version\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scheme", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "abstain", required_argument, NULL, 'A' },
		{ "find-threshold", no_argument, NULL, 'T' },
		{ "objective", required_argument, NULL, 'O' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	enum sift_ner_scheme scheme = SIFT_SCHEME_IOB2;
	enum sift_ner_mode mode = SIFT_MODE_CONLLEVAL;
	int force = 0, c, find = 0, has_obj = 0;
	const char *abstain = NULL;
	enum sift_objective obj = SIFT_OBJ_BALANCED;

	sift_setprog(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:m:fh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (sift_ner_parse_scheme(optarg, &scheme) < 0)
				return sift_misuse("--scheme: expected iob1, iob2 or iobes, got '%s'", optarg);
			break;
		case 'm':
			if (sift_ner_parse_mode(optarg, &mode) < 0)
				return sift_misuse("--mode: expected conlleval or strict, got '%s'", optarg);
			break;
		case 'A':
			if (!*optarg)
				return sift_misuse("%s", "--abstain: the label is empty");
			abstain = optarg;
			break;
		case 'T':
			find = 1;
			break;
		case 'O':
			if (sift_objective_parse(optarg, &obj) < 0)
				return sift_misuse("--objective: expected balanced or abstain-f1, got '%s'", optarg);
			has_obj = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			return sift_help(usage, help);
		case 'V':
			return sift_version();
		default:
			return sift_opt_error(c, argv, opts);
		}
	}
	if (argc - optind > 1)
		return sift_misuse("expected at most one file, got '%s'", argv[optind + 1]);
	if (find && !abstain)
		return sift_misuse("%s", "--find-threshold needs --abstain LABEL, the out-of-scope gold");
	if (has_obj && !find)
		return sift_misuse("%s", "--objective needs --find-threshold");
	if (mode == SIFT_MODE_STRICT && scheme == SIFT_SCHEME_IOB1)
		return sift_misuse("--mode strict: needs --scheme iob2 or iobes, got '%s'", "iob1");

	const char *name = optind < argc ? argv[optind] : "-";
	int fd = 0;
	if (strcmp(name, "-") != 0 && (fd = open(name, O_RDONLY)) < 0) {
		sift_warn("%s: %s", name, strerror(errno));
		return SIFT_EXIT_DATA;
	}
	struct sift_reader *r = sift_reader_new(fd, name);
	struct sift_header h;
	struct sift_writer w;
	int status = 0;
	if (sift_read_header(r, &h) < 0) {
		sift_reader_free(r);
		return SIFT_EXIT_DATA;
	}
	if (strcmp(h.kind, "predictions") != 0) {
		sift_rerror(r, "expected a predictions stream, got %s", h.kind);
		status = -1;
	} else if (strcmp(h.task, "ner") && strcmp(h.task, "cls") && strcmp(h.task, "pair") &&
		   strcmp(h.task, "mlm")) {
		sift_rerror(r, "unknown task '%s'", h.task);
		status = -1;
	} else if (abstain && (!strcmp(h.task, "ner") || !strcmp(h.task, "mlm"))) {
		sift_rerror(r, "--abstain is for cls and pair, the input's task is %s", h.task);
		status = -1;
	}
	int problem = status == 0 ? sift_problem_of_header(r) : 0;
	if (problem < 0)
		status = -1;
	else if (problem && (abstain || scheme != SIFT_SCHEME_IOB2 || mode != SIFT_MODE_CONLLEVAL)) {
		sift_rerror(r, "--abstain, --scheme and --mode are not for %s predictions",
			    sift_problem_name(problem));
		status = -1;
	}
	if (status == 0 && sift_writer_init(&w, stdout, "stdout", force) < 0)
		status = -2;	/* a terminal: misuse, as everywhere */
	else if (status == 0) {
		struct sift_header out;
		sift_header_init(&out, "metrics", h.task, NULL);
		snprintf(out.producer, sizeof out.producer, "sift-eval %s", SIFT_VERSION);
		if (problem) {
			struct sift_problem_metrics pm;
			sift_pm_init(&pm, problem, h.labels, h.nlabels);
			status = eval_pred_stream_problem(r, &pm);
			sift_header_set_labels(&out, h.labels, h.nlabels);
			if (status == 0) {
				sift_pack_header(&w, &out, 1);
				sift_pack_str(&w.pk, "problem_type");
				sift_pack_str(&w.pk, sift_problem_name(problem));
				if (sift_commit(&w) < 0)
					status = -1;
				sift_pack_pm(&w.pk, &pm, h.task);
			}
			sift_pm_free(&pm);
		} else if (!strcmp(h.task, "mlm")) {
			struct eval_mlm e;
			status = eval_mlm_stream(r, &e);
			if (status == 0) {
				struct sift_mlm_scores s = {
					.loss = e.nll / e.masked, .masked = e.masked,
					.correct = e.correct, .examples = e.examples,
				};
				sift_pack_header(&w, &out, 0);
				if (sift_commit(&w) < 0)
					status = -1;
				sift_pack_mlm_metrics(&w.pk, &s);
			}
		} else if (!strcmp(h.task, "ner")) {
			struct sift_ner_counts nc;
			sift_ner_init(&nc, scheme, mode);
			status = eval_pred_stream(r, &nc, NULL);
			sift_header_set_labels(&out, h.labels, h.nlabels);
			if (status == 0) {
				sift_pack_header(&w, &out, 0);
				if (sift_commit(&w) < 0)
					status = -1;
				sift_pack_ner_metrics(&w.pk, &nc);
			}
			sift_ner_free(&nc);
		} else {
			struct sift_cls_metrics m;
			struct sift_abstain a = { 0 };
			struct sift_calib cal = { 0 };
			long noprobs = 0;
			sift_cls_init(&m, h.labels, h.nlabels);
			status = find ? sift_abstain_search(r, &h, &m, abstain, obj, &a, &cal) :
				eval_pred_stream_calib(r, &m, &cal, h.nlabels, &noprobs);
			/* calibration when every record has its probs */
			int calib = cal.n > 0 && noprobs == 0;
			sift_header_set_labels(&out, m.labels, m.n);
			if (status == 0) {
				sift_pack_header(&w, &out, 0);
				if (sift_commit(&w) < 0)
					status = -1;
				sift_pack_cls_metrics_n(&w.pk, &m, h.task,
							(abstain != NULL) + calib);
				if (calib)
					sift_pack_calib(&w.pk, &cal);
				if (abstain && !find)
					sift_abstain_scores(&m, abstain, &a);
				if (abstain)
					sift_pack_abstain(&w.pk, &a);
			}
			sift_cls_free(&m);
		}
		if (status == 0 && sift_commit(&w) < 0)
			status = -1;
		if (sift_writer_close(&w) < 0)
			status = -1;
		if (w.closed)
			status = 0;	/* the reader went away: a normal end */
		sift_writer_free(&w);
		sift_header_free(&out);
	}
	sift_header_free(&h);
	sift_reader_free(r);
	if (fd > 0)
		close(fd);
	return status == 0 ? SIFT_EXIT_OK :
		status == -2 ? SIFT_EXIT_USAGE : SIFT_EXIT_DATA;
}
