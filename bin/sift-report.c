/* sift-report: turns metrics, training logs and predictions into tables, summaries, plots and alerts. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"	/* defines: report_metrics, report_log, report_predictions */
#include "cli.h"
#include "stream.h"

static const char usage[] =
	"usage: sift-report [-ceqt] [-a rule] [-d digits] [-F format] [-k count]"
	" [-m metric] [-n count] [-p file] [-s file] [-w window] [file]\n";

static const char help[] =
	"Make a sift stream readable.  The kind of stream decides what comes out:\n"
	"metrics become conlleval's table (NER) or scikit-learn's\n"
	"classification_report (classes), with the calibration error when the\n"
	"record has one (and with --plot, a reliability diagram as SVG); a\n"
	"training log becomes a summary and, with --plot, an SVG of its curves;\n"
	"predictions become text with the entities marked, CoNLL columns, or\n"
	"labels beside the texts, and with\n"
	"--window, --by-topic or --alert, shares of each label per group.\n"
	"Predictions go out one by one when the input is not a regular file.\n"
	"\n"
	"  -F, --format F      text (default), markdown, json or csv\n"
	"  -d, --digits N      digits of classification tables (default 2)\n"
	"  -p, --plot FILE     log: write loss, learning rate and dev curves as SVG;\n"
	"                      calibrated cls metrics: a reliability diagram\n"
	"  -m, --metric KEY    log: the dev score to rank by (default: the first of\n"
	"                      f1, accuracy, overall.f1, macro_f1, macro.f1)\n"
	"  -c, --conll         NER predictions: word gold pred columns for conlleval\n"
	"  -w, --window DUR    classification predictions: group by time windows of\n"
	"                      DUR (90s, 15m, 1h, 1d, 1w), aligned on the epoch, UTC;\n"
	"                      records without a time form the group untimed\n"
	"  -t, --by-topic      classification predictions: group by topic\n"
	"  -a, --alert RULE    LABEL>SHARE, >=, < or <= (0.4 or 40%): print an ALERT\n"
	"                      line per group that crosses it and exit 3\n"
	"  -n, --min-count N   alert only for groups of at least N predictions (1)\n"
	"  -k, --top N         show the N most confident texts of an alert (3)\n"
	"  -s, --state FILE    remember ongoing alerts in FILE: a rule and topic\n"
	"                      alert once, again only after the condition cleared\n"
	"  -e, --every-run     with --state, alert for ongoing conditions too\n"
	"  -q, --alerts-only   monitoring: the alerts without the table\n"
	"  -h, --help          this help\n"
	"      --version       the version\n";

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "digits", required_argument, NULL, 'd' },
		{ "plot", required_argument, NULL, 'p' },
		{ "metric", required_argument, NULL, 'm' },
		{ "conll", no_argument, NULL, 'c' },
		{ "window", required_argument, NULL, 'w' },
		{ "by-topic", no_argument, NULL, 't' },
		{ "alert", required_argument, NULL, 'a' },
		{ "min-count", required_argument, NULL, 'n' },
		{ "top", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "every-run", no_argument, NULL, 'e' },
		{ "alerts-only", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static struct report_alert alerts[64];
	struct report_opts o = { .format = REPORT_TEXT, .digits = 2, .min_count = 1,
				 .alerts = alerts, .top = 3 };
	long long v;
	int c;

	sift_setprog(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":F:d:p:m:cw:ta:n:k:s:eqh", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (!strcmp(optarg, "text"))
				o.format = REPORT_TEXT;
			else if (!strcmp(optarg, "markdown"))
				o.format = REPORT_MARKDOWN;
			else if (!strcmp(optarg, "json"))
				o.format = REPORT_JSON;
			else if (!strcmp(optarg, "csv"))
				o.format = REPORT_CSV;
			else
				return sift_misuse("--format: expected text, markdown, json or csv, got '%s'", optarg);
			break;
		case 'd':
			if (sift_int_opt("--digits", optarg, 0, 17, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.digits = (int)v;
			break;
		case 'p':
			o.plot = optarg;
			break;
		case 'm':
			o.metric = optarg;
			break;
		case 'c':
			o.conll = 1;
			break;
		case 'w':
			if ((o.window = report_parse_window(optarg)) < 0)
				return sift_misuse("--window: expected a duration such as 1h or 1d, got '%s'", optarg);
			break;
		case 't':
			o.by_topic = 1;
			break;
		case 'a':
			if (o.nalerts == 64)
				return sift_misuse("--alert: at most 64 rules, got '%s'", optarg);
			if (report_parse_alert(optarg, &o.alerts[o.nalerts]) < 0)
				return sift_misuse("--alert: expected LABEL>SHARE such as negative>0.4, got '%s'", optarg);
			o.nalerts++;
			break;
		case 'n':
			if (sift_int_opt("--min-count", optarg, 1, LONG_MAX, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.min_count = (long)v;
			break;
		case 'k':
			if (sift_int_opt("--top", optarg, 0, 1000, &v) < 0)
				return SIFT_EXIT_USAGE;
			o.top = (int)v;
			break;
		case 's':
			o.state = optarg;
			break;
		case 'e':
			o.every_run = 1;
			break;
		case 'q':
			o.alerts_only = 1;
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

	const char *name = optind < argc ? argv[optind] : "-";
	int fd = 0;
	if (strcmp(name, "-") != 0 && (fd = open(name, O_RDONLY)) < 0) {
		sift_warn("%s: %s", name, strerror(errno));
		return SIFT_EXIT_DATA;
	}
	/* a pipe, FIFO, terminal or socket is live: each prediction goes
	 * out when it is read, not when a buffer fills */
	struct stat st;
	o.live = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode);
	struct sift_reader *r = sift_reader_new(fd, name);
	struct sift_header h;
	int status;
	if (sift_read_header(r, &h) < 0) {
		sift_reader_free(r);
		return SIFT_EXIT_DATA;
	}
	if (!strcmp(h.kind, "metrics"))
		status = report_metrics(r, &h, &o, stdout);
	else if (!strcmp(h.kind, "log"))
		status = report_log(r, &h, &o, stdout);
	else if (!strcmp(h.kind, "predictions"))
		status = report_predictions(r, &h, &o, stdout);
	else {
		sift_rerror(r, "expected a metrics, log or predictions stream, got %s", h.kind);
		status = -1;
	}
	sift_header_free(&h);
	sift_reader_free(r);
	if (fd > 0)
		close(fd);
	if (sift_close_stdout() < 0)
		return SIFT_EXIT_DATA;
	return status < 0 ? SIFT_EXIT_DATA : status;
}
