/* sift-tok: turns text into tokenized examples for a BERT model, as Hugging Face's BertTokenizerFast does. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stream.h"
#include "tokrun.h"	/* defines: sift_tokrun */

static const char usage[] =
	"usage: sift-tok -m dir [-f format] [--task task] [--labels file]"
	" [--multi-label [--label-sep sep]] [--regression]"
	" [--iob1-to-iob2] [--label-all] [--group-texts] [--max-length n] [--stride n]"
	" [--id-offset n]"
	" [--encoding enc] [--header] [--text-col col] [--text-b-col col]"
	" [--label-col col] [--time-col col] [--topic-col col] [--word-col n]"
	" [--tag-col n] [--strip-word-digits] [--text-key key] [--text-b-key key]"
	" [--label-key key] [--time-key key] [--topic-key key] [--words | --chars]"
	" [--force] [file ...]\n";

static const char help[] =
	"Tokenize text for the BERT model in DIR (vocab.txt or tokenizer.json,\n"
	"tokenizer_config.json) exactly as Hugging Face's BertTokenizerFast, and\n"
	"write an examples stream: one example per sentence (NER) or text.\n"
	"\n"
	"  -m, --model DIR       the model directory\n"
	"  -f, --format F        lines (default), conll, tsv, csv, jsonl, at (text@label)\n"
	"      --task T          ner, cls, pair or mlm (default: from the input; mlm:\n"
	"                        plain text for masked language modelling)\n"
	"      --labels FILE     the label set, one a line (default: sorted, from the data)\n"
	"      --multi-label     cls, pair: a set of labels per text: a JSON lines\n"
	"                        array (also without this option), else the label\n"
	"                        column split at --label-sep\n"
	"      --label-sep S     --multi-label: the separator of labels (default ,)\n"
	"      --regression      cls, pair: the label is a number (a score)\n"
	"      --iob1-to-iob2    convert IOB1 tags (CoNLL-2003) to IOB2\n"
	"      --label-all       label every sub-token (B- continues as I-), not the first\n"
	"      --group-texts     mlm: texts joined and cut into blocks of --max-length\n"
	"                        tokens, as run_mlm.py's group_texts\n"
	"      --max-length N    tokens per example (default: the model's)\n"
	"      --stride N        tokens shared by overlapping NER windows (default 128)\n"
	"      --id-offset N     number the examples (and NER sentences) from N, not 0\n"
	"      --encoding E      utf8 (default) or latin1\n"
	"      --header          tsv/csv: the first row names the columns\n"
	"      --text-col C      tsv/csv: text column, 1-based or a name (default 2)\n"
	"      --text-b-col C    tsv/csv: second text column (sentence pairs)\n"
	"      --label-col C     tsv/csv: label column (default 1; 0: none)\n"
	"      --time-col C      tsv/csv: time column, passed through to predictions\n"
	"                        (default: a header's column named time)\n"
	"      --topic-col C     tsv/csv: topic column, passed through (default: a\n"
	"                        header's column named topic)\n"
	"      --word-col N      conll: word column (default 1)\n"
	"      --tag-col N       conll: tag column (default: the last; 0: none)\n"
	"      --strip-word-digits\n"
	"                        conll: drop the digits ending each word, never its\n"
	"                        first character (Weibo NER: 她0 -> 她)\n"
	"      --text-key K      jsonl: text key (default text)\n"
	"      --text-b-key K    jsonl: second text key\n"
	"      --label-key K     jsonl: label key (default label; an object of\n"
	"                        character spans, as CLUENER, makes NER tags)\n"
	"      --time-key K      jsonl: time key, passed through to predictions\n"
	"                        (default time, where present)\n"
	"      --topic-key K     jsonl: topic key (default topic, where present)\n"
	"      --words           lines, jsonl: split texts into words at blanks (NER)\n"
	"      --chars           lines, jsonl: split texts into characters (NER)\n"
	"      --force           write the stream even to a terminal\n"
	"  -h, --help            this help\n"
	"      --version         the version\n";

/* an int option in [lo, hi]; -1 after a misuse message */
static int int_opt(const char *name, const char *s, long lo, long hi, int *v)
{
	long long x;

	if (sift_int_opt(name, s, lo, hi, &x) < 0)
		return -1;
	*v = (int)x;
	return 0;
}

/* a column option (--text-col and the like): a name, or a number from
 * lo (1, or 0 for none) to 2^20; NULL for none; -1 after a misuse message */
static int col_opt(const char *name, const char *s, long lo, const char **v)
{
	char *end;
	long long x;

	(void)strtoll(s, &end, 10);
	if (end != s && !*end && sift_int_opt(name, s, lo, 1 << 20, &x) < 0)
		return -1;
	*v = end != s && !*end && x == 0 ? NULL : s;
	return 0;
}

enum {
	O_TASK = 256, O_LABELS, O_IOB, O_LABEL_ALL, O_MAXLEN, O_STRIDE, O_ENC,
	O_HEADER, O_TEXTCOL, O_TEXTBCOL, O_LABELCOL, O_WORDCOL, O_TAGCOL,
	O_TEXTKEY, O_TEXTBKEY, O_LABELKEY, O_WORDS, O_CHARS, O_FORCE, O_VERSION,
	O_TIMECOL, O_TOPICCOL, O_TIMEKEY, O_TOPICKEY, O_STRIPDIGITS, O_GROUP,
	O_MULTI, O_LABELSEP, O_REGRESSION, O_IDOFF,
};

static const struct option longopts[] = {
	{ "model", required_argument, 0, 'm' },
	{ "format", required_argument, 0, 'f' },
	{ "task", required_argument, 0, O_TASK },
	{ "labels", required_argument, 0, O_LABELS },
	{ "id-offset", required_argument, 0, O_IDOFF },
	{ "multi-label", no_argument, 0, O_MULTI },
	{ "label-sep", required_argument, 0, O_LABELSEP },
	{ "regression", no_argument, 0, O_REGRESSION },
	{ "iob1-to-iob2", no_argument, 0, O_IOB },
	{ "label-all", no_argument, 0, O_LABEL_ALL },
	{ "group-texts", no_argument, 0, O_GROUP },
	{ "max-length", required_argument, 0, O_MAXLEN },
	{ "stride", required_argument, 0, O_STRIDE },
	{ "encoding", required_argument, 0, O_ENC },
	{ "header", no_argument, 0, O_HEADER },
	{ "text-col", required_argument, 0, O_TEXTCOL },
	{ "text-b-col", required_argument, 0, O_TEXTBCOL },
	{ "label-col", required_argument, 0, O_LABELCOL },
	{ "time-col", required_argument, 0, O_TIMECOL },
	{ "topic-col", required_argument, 0, O_TOPICCOL },
	{ "strip-word-digits", no_argument, 0, O_STRIPDIGITS },
	{ "time-key", required_argument, 0, O_TIMEKEY },
	{ "topic-key", required_argument, 0, O_TOPICKEY },
	{ "word-col", required_argument, 0, O_WORDCOL },
	{ "tag-col", required_argument, 0, O_TAGCOL },
	{ "text-key", required_argument, 0, O_TEXTKEY },
	{ "text-b-key", required_argument, 0, O_TEXTBKEY },
	{ "label-key", required_argument, 0, O_LABELKEY },
	{ "words", no_argument, 0, O_WORDS },
	{ "chars", no_argument, 0, O_CHARS },
	{ "force", no_argument, 0, O_FORCE },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, O_VERSION },
	{ 0, 0, 0, 0 },
};

int main(int argc, char **argv)
{
	static const char *const fmts[] = { "lines", "conll", "tsv", "csv", "jsonl", "at" };
	struct sift_tokrun_opts o = { 0 };
	const char *model = NULL;
	int c;

	sift_setprog(argv[0]);
	opterr = 0;
	o.in.fmt = SIFT_FMT_LINES;
	o.in.tag_col = -1;
	o.in.text_col = "2";
	o.in.label_col = "1";
	o.stride = -1;
	while ((c = getopt_long(argc, argv, ":m:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'f': {
			size_t i = 0;
			while (i < sizeof fmts / sizeof *fmts && strcmp(fmts[i], optarg))
				i++;
			if (i == sizeof fmts / sizeof *fmts)
				return sift_misuse("unknown format '%s'", optarg);
			o.in.fmt = (enum sift_textfmt)i;
			break;
		}
		case O_TASK:
			if (strcmp(optarg, "ner") && strcmp(optarg, "cls") && strcmp(optarg, "pair") &&
			    strcmp(optarg, "mlm"))
				return sift_misuse("unknown task '%s'", optarg);
			o.task = optarg;
			break;
		case O_LABELS: o.labels = optarg; break;
		case O_MULTI: o.multi_label = 1; break;
		case O_LABELSEP:
			if (!*optarg)
				return sift_misuse("%s", "--label-sep: the separator is empty");
			o.label_sep = optarg;
			break;
		case O_REGRESSION: o.regression = 1; break;
		case O_IOB: o.iob1_to_iob2 = 1; break;
		case O_LABEL_ALL: o.label_all = 1; break;
		case O_GROUP: o.group_texts = 1; break;
		case O_MAXLEN:
			if (int_opt("--max-length", optarg, 3, 1 << 20, &o.max_len) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_STRIDE:
			if (int_opt("--stride", optarg, 0, 1 << 20, &o.stride) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_IDOFF:
			/* ids that sift-eval takes: below 2^31 */
			if (sift_int_opt("--id-offset", optarg, 0, 2147483647,
					 &o.id_offset) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_ENC:
			if (!strcmp(optarg, "latin1") || !strcmp(optarg, "iso-8859-1"))
				o.in.latin1 = 1;
			else if (strcmp(optarg, "utf8") && strcmp(optarg, "utf-8"))
				return sift_misuse("unknown encoding '%s' (utf8 or latin1)", optarg);
			break;
		case O_HEADER: o.in.header = 1; break;
		case O_TEXTCOL:
			if (col_opt("--text-col", optarg, 1, &o.in.text_col) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_TEXTBCOL:
			if (col_opt("--text-b-col", optarg, 1, &o.in.text_b_col) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_LABELCOL:
			if (col_opt("--label-col", optarg, 0, &o.in.label_col) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_WORDCOL:
			if (int_opt("--word-col", optarg, 1, 1000, &o.in.word_col) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_TAGCOL:
			if (int_opt("--tag-col", optarg, 0, 1000, &o.in.tag_col) < 0)
				return SIFT_EXIT_USAGE;
			break;
		case O_TIMECOL:
			if (col_opt("--time-col", optarg, 0, &o.in.time_col) < 0)
				return SIFT_EXIT_USAGE;
			if (!o.in.time_col)
				o.in.time_col = "0";	/* none, not even by name */
			break;
		case O_TOPICCOL:
			if (col_opt("--topic-col", optarg, 0, &o.in.topic_col) < 0)
				return SIFT_EXIT_USAGE;
			if (!o.in.topic_col)
				o.in.topic_col = "0";
			break;
		case O_STRIPDIGITS: o.in.strip_word_digits = 1; break;
		case O_TIMEKEY: o.in.time_key = optarg; break;
		case O_TOPICKEY: o.in.topic_key = optarg; break;
		case O_TEXTKEY: o.in.text_key = optarg; break;
		case O_TEXTBKEY: o.in.text_b_key = optarg; break;
		case O_LABELKEY: o.in.label_key = optarg; break;
		case O_WORDS: o.in.words = 1; break;
		case O_CHARS: o.in.chars = 1; break;
		case O_FORCE: o.force = 1; break;
		case 'h':
			return sift_help(usage, help);
		case O_VERSION:
			return sift_version();
		default:
			return sift_opt_error(c, argv, longopts);
		}
	}
	if (!model)
		return sift_misuse("%s", "no model: -m DIR is required");
	int mlm = o.task && !strcmp(o.task, "mlm");
	if (o.group_texts && !mlm)
		return sift_misuse("%s", "--group-texts: only with --task mlm");
	if (mlm && o.labels)
		return sift_misuse("%s", "--labels: --task mlm has no labels");
	int textual = !o.task || !strcmp(o.task, "cls") || !strcmp(o.task, "pair");
	if ((o.multi_label || o.regression) && !textual)
		return sift_misuse("%s: only with --task cls or pair",
				   o.regression ? "--regression" : "--multi-label");
	if (o.multi_label && o.regression)
		return sift_misuse("%s", "--multi-label and --regression: one or the other");
	if (o.label_sep && !o.multi_label)
		return sift_misuse("%s", "--label-sep: only with --multi-label");
	if (o.regression && o.labels)
		return sift_misuse("%s", "--labels: --regression has no label set");

	struct sift_tokenizer tk;
	char err[512];
	if (sift_tokenizer_open(&tk, model, err, sizeof err) < 0) {
		sift_warn("%s", err);
		return SIFT_EXIT_DATA;
	}
	static char *stdin_only[] = { "-" };
	char **files = optind < argc ? argv + optind : stdin_only;
	int nfiles = optind < argc ? argc - optind : 1;
	int status = sift_tokrun(&tk, &o, files, nfiles, stdout);
	sift_tokenizer_close(&tk);
	if (status == SIFT_EXIT_OK && sift_close_stdout() < 0)
		status = SIFT_EXIT_DATA;
	return status;
}
