/* sift-eval: scores predictions against their gold labels and writes one metrics record. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reportmetrics.h"	/* defines: sift_pack_ner_metrics, sift_get_strs */
#include "stream.h"

static const char usage[] =
	"usage: sift-eval [-f] [-m mode] [-s scheme] [file]\n";

static const char help[] =
	"Score a predictions stream (from sift-fwd) that carries gold labels and\n"
	"write a metrics stream of one record.  NER is scored by entity, as\n"
	"conlleval.pl does, or as seqeval's strict mode; classification by\n"
	"accuracy, per-class and averaged precision, recall and F1.\n"
	"\n"
	"  -s, --scheme S      tag scheme: iob1, iob2 (default) or iobes\n"
	"  -m, --mode M        conlleval (default) or strict (needs iob2 or iobes)\n"
	"  -f, --force         write the binary stream even to a terminal\n"
	"  -h, --help          this help\n"
	"      --version       the version\n";

static int misuse(const char *fmt, const char *arg)
{
	fprintf(stderr, "sift-eval: ");
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'sift-eval --help'.\n", stderr);
	return SIFT_EXIT_USAGE;
}

/* ids seen so far, to refuse a sentence scored twice */
struct seen {
	unsigned char *bit;
	size_t cap;
};

static int seen_test_set(struct seen *s, int64_t id)
{
	if (id < 0)
		return 0;
	size_t byte = (size_t)id / 8;
	if (byte >= s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		while (cap <= byte)
			cap *= 2;
		s->bit = sift_xrealloc(s->bit, cap);
		memset(s->bit + s->cap, 0, cap - s->cap);
		s->cap = cap;
	}
	int was = s->bit[byte] >> (id % 8) & 1;
	s->bit[byte] |= 1 << (id % 8);
	return was;
}

static int score_sentence(const struct sift_reader *r, struct sift_ner_counts *c,
			  char *const *gold, char *const *pred, size_t n)
{
	if (sift_ner_add_sentence(c, (const char *const *)gold,
				  (const char *const *)pred, n) < 0) {
		sift_rerror(r, "%s", c->err);
		return -1;
	}
	return 0;
}

/* adds one window; the sentence is scored once its last window is in */
static int add_window(const struct sift_reader *r, const msgpack_object *rec,
		      struct sift_ner_merge *d, struct seen *docs,
		      struct sift_ner_counts *c, char **gold, char **pred, size_t n)
{
	int64_t doc, win, nwin, word0 = 0;
	int32_t *keep;
	size_t nk;
	if (sift_need_int(r, rec, "doc", &doc) < 0 ||
	    sift_need_int(r, rec, "win", &win) < 0 ||
	    sift_need_int(r, rec, "nwin", &nwin) < 0 ||
	    sift_opt_int(r, rec, "word0", &word0) < 0 ||
	    sift_need_i32s(r, rec, "keep", &keep, &nk) < 0)
		return -1;
	int64_t k0 = nk == 2 ? keep[0] : -1, k1 = nk == 2 ? keep[1] : -1;
	free(keep);
	if (d->doc < 0 && seen_test_set(docs, doc)) {
		sift_rerror(r, "doc %ld appears twice", (long)doc);
		return -1;
	}
	if (sift_ner_merge_add(d, c, doc, nwin, word0, k0, k1,
			       (const char *const *)gold,
			       (const char *const *)pred, n) < 0) {
		sift_rerror(r, "%s", c->err);
		return -1;
	}
	return 0;
}

static int eval_ner(struct sift_reader *r, struct sift_ner_counts *c)
{
	const msgpack_object *rec;
	struct seen ids = { 0 }, docs = { 0 };
	struct sift_ner_merge d;
	int ret, status = 0;

	sift_ner_merge_init(&d);
	while (status == 0 && (ret = sift_read(r, &rec)) > 0) {
		char **gold, **pred;
		size_t ng, np;
		int64_t id = -1, nwin = 1;
		if (sift_opt_int(r, rec, "id", &id) < 0 ||
		    sift_opt_int(r, rec, "nwin", &nwin) < 0 ||
		    sift_get_strs(r, rec, "pred", 0, &pred, &np) < 0) {
			status = -1;
			break;
		}
		if (!sift_get(rec, "gold")) {
			sift_rerror(r, "no gold tags: only predictions with gold labels can be scored");
			free(pred);
			status = -1;
			break;
		}
		if (sift_get_strs(r, rec, "gold", 0, &gold, &ng) < 0) {
			free(pred);
			status = -1;
			break;
		}
		if (ng != np) {
			sift_rerror(r, "%zu gold tags for %zu predicted", ng, np);
			status = -1;
		} else if (nwin > 1 && sift_get(rec, "keep")) {
			status = add_window(r, rec, &d, &docs, c, gold, pred, np);
		} else if (seen_test_set(&ids, id)) {
			sift_rerror(r, "id %ld appears twice: each sentence is scored "
				    "once (merge the windows of a long sentence first)",
				    (long)id);
			status = -1;
		} else {
			status = score_sentence(r, c, gold, pred, np);
		}
		free(gold);
		free(pred);
	}
	if (status == 0 && ret < 0)
		status = -1;
	if (status == 0 && sift_ner_merge_finish(&d, c) < 0) {
		sift_rerror(r, "%s", c->err);
		status = -1;
	}
	sift_ner_merge_free(&d);
	free(ids.bit);
	free(docs.bit);
	return status;
}

static int eval_cls(struct sift_reader *r, struct sift_cls_metrics *m)
{
	const msgpack_object *rec;
	struct seen ids = { 0 };
	int ret, status = 0;

	while ((ret = sift_read(r, &rec)) > 0) {
		const char *g, *p;
		uint32_t gl, pl;
		int64_t id = -1;
		if (sift_opt_int(r, rec, "id", &id) < 0 ||
		    sift_need_str(r, rec, "pred", &p, &pl) < 0) {
			status = -1;
			break;
		}
		int has = sift_opt_str(r, rec, "gold", &g, &gl);
		if (has < 0) {
			status = -1;
			break;
		}
		if (has == 0) {
			sift_rerror(r, "no gold label: only predictions with gold labels can be scored");
			status = -1;
			break;
		}
		if (seen_test_set(&ids, id)) {
			sift_rerror(r, "id %ld appears twice: each text is scored once",
				    (long)id);
			status = -1;
			break;
		}
		char *gs = strndup(g, gl), *ps = strndup(p, pl);
		if (!gs || !ps)
			sift_die(SIFT_EXIT_DATA, "out of memory");
		sift_cls_add_str(m, gs, ps);
		free(gs);
		free(ps);
	}
	free(ids.bit);
	return status == 0 && ret < 0 ? -1 : status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scheme", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	enum sift_ner_scheme scheme = SIFT_SCHEME_IOB2;
	enum sift_ner_mode mode = SIFT_MODE_CONLLEVAL;
	int force = 0, c;

	sift_setprog(argv[0]);
	while ((c = getopt_long(argc, argv, "s:m:fh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (sift_ner_parse_scheme(optarg, &scheme) < 0)
				return misuse("--scheme: expected iob1, iob2 or iobes, got '%s'", optarg);
			break;
		case 'm':
			if (sift_ner_parse_mode(optarg, &mode) < 0)
				return misuse("--mode: expected conlleval or strict, got '%s'", optarg);
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(help, stdout);
			return sift_close_stdout() ? SIFT_EXIT_DATA : SIFT_EXIT_OK;
		case 'V':
			printf("sift-eval %s\n", SIFT_VERSION);
			return sift_close_stdout() ? SIFT_EXIT_DATA : SIFT_EXIT_OK;
		default:
			fputs("Try 'sift-eval --help'.\n", stderr);
			return SIFT_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return misuse("expected at most one file, got '%s'", argv[optind + 1]);
	if (mode == SIFT_MODE_STRICT && scheme == SIFT_SCHEME_IOB1)
		return misuse("--mode strict: needs --scheme iob2 or iobes, got '%s'", "iob1");

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
	} else if (strcmp(h.task, "ner") && strcmp(h.task, "cls") && strcmp(h.task, "pair")) {
		sift_rerror(r, "unknown task '%s'", h.task);
		status = -1;
	}
	if (status == 0 && sift_writer_init(&w, stdout, "stdout", force) < 0)
		status = -1;
	else if (status == 0) {
		struct sift_header out;
		sift_header_init(&out, "metrics", h.task, NULL);
		snprintf(out.producer, sizeof out.producer, "sift-eval %s", SIFT_VERSION);
		if (!strcmp(h.task, "ner")) {
			struct sift_ner_counts nc;
			sift_ner_init(&nc, scheme, mode);
			status = eval_ner(r, &nc);
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
			sift_cls_init(&m, h.labels, h.nlabels);
			status = eval_cls(r, &m);
			sift_header_set_labels(&out, m.labels, m.n);
			if (status == 0) {
				sift_pack_header(&w, &out, 0);
				if (sift_commit(&w) < 0)
					status = -1;
				sift_pack_cls_metrics(&w.pk, &m, h.task);
			}
			sift_cls_free(&m);
		}
		if (status == 0 && sift_commit(&w) < 0)
			status = -1;
		if (sift_writer_close(&w) < 0)
			status = -1;
		sift_writer_free(&w);
		sift_header_free(&out);
	}
	sift_header_free(&h);
	sift_reader_free(r);
	if (fd > 0)
		close(fd);
	return status == 0 ? SIFT_EXIT_OK : SIFT_EXIT_DATA;
}
