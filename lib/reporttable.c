/* reporttable.c: a metrics record as conlleval's or scikit-learn's table, markdown, JSON or CSV. */
#include <errno.h>
#include <math.h>	/* defines: exp */
#include <stdlib.h>
#include <string.h>

#include "abstain.h"	/* defines: sift_abstain_scores */
#include "msgjson.h"	/* defines: sift_msg_to_json */
#include "report.h"
#include "reportmetrics.h"
#include "svgplot.h"	/* defines: sift_svg_reliability */

void report_num(FILE *f, double v)
{
	char buf[40];
	for (int d = 15; d <= 17; d++) {
		snprintf(buf, sizeof buf, "%.*g", d, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

/* a CSV field, quoted when it needs to be (RFC 4180) */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* a markdown table cell: pipes escaped */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static double pct(long a, long b)
{
	return b > 0 ? 100.0 * a / b : 0.0;
}

static double fb1(double p, double r)
{
	return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

static void ner_markdown(FILE *f, const struct sift_ner_counts *c)
{
	fprintf(f, "| type | precision | recall | FB1 | gold | predicted | correct |\n"
		"|:-----|----------:|-------:|----:|-----:|----------:|--------:|\n");
	for (int i = 0; i < c->ntypes; i++) {
		const struct sift_ner_type *t = &c->types[i];
		double p = pct(t->correct, t->pred), r = pct(t->correct, t->gold);
		fputs("| ", f);
		md_cell(f, t->name);
		fprintf(f, " | %.2f%% | %.2f%% | %.2f | %ld | %ld | %ld |\n",
			p, r, fb1(p, r), t->gold, t->pred, t->correct);
	}
	double p = pct(c->correct, c->pred), r = pct(c->correct, c->gold);
	fprintf(f, "| **overall** | %.2f%% | %.2f%% | %.2f | %ld | %ld | %ld |\n",
		p, r, fb1(p, r), c->gold, c->pred, c->correct);
	fprintf(f, "\nToken accuracy %.2f%% over %ld tokens (%s, %s).\n",
		pct(c->correct_tags, c->tokens), c->tokens,
		sift_ner_mode_name(c->mode), sift_ner_scheme_name(c->scheme));
}

static void ner_csv(FILE *f, const struct sift_ner_counts *c)
{
	fputs("type,precision,recall,f1,phrases_gold,phrases_pred,correct\n", f);
	for (int i = 0; i < c->ntypes; i++) {
		const struct sift_ner_type *t = &c->types[i];
		double p, r, f1;
		sift_ner_type_prf(t, &p, &r, &f1);
		csv_field(f, t->name);
		fputc(',', f);
		report_num(f, p);
		fputc(',', f);
		report_num(f, r);
		fputc(',', f);
		report_num(f, f1);
		fprintf(f, ",%ld,%ld,%ld\n", t->gold, t->pred, t->correct);
	}
	fputs("overall,", f);
	report_num(f, sift_ner_precision(c));
	fputc(',', f);
	report_num(f, sift_ner_recall(c));
	fputc(',', f);
	report_num(f, sift_ner_f1(c));
	fprintf(f, ",%ld,%ld,%ld\n", c->gold, c->pred, c->correct);
}

/* sklearn.metrics.classification_report, character for character */
static void cls_text(FILE *f, const struct sift_cls_metrics *m, int digits)
{
	int width = 12;	/* strlen("weighted avg") */
	for (int k = 0; k < m->n; k++)
		if ((int)strlen(m->labels[k]) > width)
			width = (int)strlen(m->labels[k]);
	if (digits > width)
		width = digits;
	fprintf(f, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall",
		"f1-score", "support");
	for (int k = 0; k < m->n; k++) {
		struct sift_prf p = sift_cls_class(m, k);
		fprintf(f, "%*s  %9.*f %9.*f %9.*f %9ld\n", width, m->labels[k],
			digits, p.precision, digits, p.recall, digits, p.f1, p.support);
	}
	fputc('\n', f);
	fprintf(f, "%*s  %9s %9s %9.*f %9ld\n", width, "accuracy", "", "", digits,
		sift_cls_accuracy(m), m->total);
	static const char *const names[] = { "macro avg", "weighted avg" };
	enum sift_cls_avg avg[] = { SIFT_AVG_MACRO, SIFT_AVG_WEIGHTED };
	for (int i = 0; i < 2; i++) {
		struct sift_prf p = sift_cls_average(m, avg[i]);
		fprintf(f, "%*s  %9.*f %9.*f %9.*f %9ld\n", width, names[i], digits,
			p.precision, digits, p.recall, digits, p.f1, p.support);
	}
}

static void cls_confusion(FILE *f, const struct sift_cls_metrics *m)
{
	int width = 4, cw = 6;
	for (int k = 0; k < m->n; k++) {
		int l = (int)strlen(m->labels[k]);
		if (l > width)
			width = l;
		if (l + 1 > cw)
			cw = l + 1;
	}
	fprintf(f, "\nconfusion matrix (rows: gold, columns: predicted)\n%*s ", width, "");
	for (int k = 0; k < m->n; k++)
		fprintf(f, " %*s", cw, m->labels[k]);
	fputc('\n', f);
	for (int g = 0; g < m->n; g++) {
		fprintf(f, "%*s ", width, m->labels[g]);
		for (int p = 0; p < m->n; p++)
			fprintf(f, " %*ld", cw, sift_cls_count(m, g, p));
		fputc('\n', f);
	}
}

/* sift-eval --abstain's scores, recomputed from the counts, and its
 * threshold (--find-threshold) as the record has it; rec without an
 * "abstain" label prints nothing */
static void cls_abstain(FILE *f, const struct sift_cls_metrics *m,
			const msgpack_object *rec, int digits)
{
	const msgpack_object *ab = sift_get(rec, "abstain");
	const msgpack_object *lo = ab && ab->type == MSGPACK_OBJECT_MAP ?
		sift_get(ab, "label") : NULL;
	if (!lo || lo->type != MSGPACK_OBJECT_STR)
		return;
	char *label = strndup(lo->via.str.ptr, lo->via.str.size);
	if (!label)
		return;
	struct sift_abstain a;
	sift_abstain_scores(m, label, &a);
	fprintf(f, "\nout-of-scope label %s\n", label);
	fprintf(f, "%20s  %9.*f %9ld\n", "in-scope accuracy", digits,
		a.in_scope_accuracy, a.in_scope);
	fprintf(f, "%20s  %9.*f\n", "oos precision", digits, a.oos.precision);
	fprintf(f, "%20s  %9.*f %9ld\n", "oos recall", digits, a.oos.recall,
		a.oos.support);
	fprintf(f, "%20s  %9.*f\n", "oos f1", digits, a.oos.f1);
	const msgpack_object *t = sift_get(ab, "threshold");
	const msgpack_object *o = sift_get(ab, "objective");
	const msgpack_object *v = sift_get(ab, "score");
	if (t && t->type == MSGPACK_OBJECT_FLOAT64 && o &&
	    o->type == MSGPACK_OBJECT_STR && v && v->type == MSGPACK_OBJECT_FLOAT64) {
		fprintf(f, "%20s  ", "threshold");
		report_num(f, t->via.f64);
		fprintf(f, " (%.*s %.*f)\n", (int)o->via.str.size, o->via.str.ptr,
			digits, v->via.f64);
	}
	free(label);
}

/* the expected calibration error of the record, when it has one */
static void cls_calib(FILE *f, const struct sift_calib *c, enum report_format fmt)
{
	if (fmt == REPORT_TEXT) {
		fprintf(f, "\ncalibration (%d equal-width bins of the top probability)\n",
			SIFT_CALIB_BINS);
		fprintf(f, "%20s  %9.4f %9ld\n", "ece", sift_calib_ece(c), c->n);
	} else if (fmt == REPORT_MARKDOWN) {
		fprintf(f, "\n**ECE** (%d equal-width bins of the top probability): %.4f over %ld examples\n",
			SIFT_CALIB_BINS, sift_calib_ece(c), c->n);
	} else {
		fputs("ece,,,", f);
		report_num(f, sift_calib_ece(c));
		fprintf(f, ",%ld\n", c->n);
	}
}

/* --plot of a metrics stream: the reliability diagram of its (last)
 * calibrated record */
static int reliability(const char *path, const char *src, const struct sift_calib *c)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		sift_warn("%s: %s", path, strerror(errno));
		return -1;
	}
	char title[300];
	snprintf(title, sizeof title, "reliability: %s", strcmp(src, "-") ? src : "stdin");
	int rc = sift_svg_reliability(f, title, c);
	if (fclose(f) != 0 || rc < 0) {
		sift_warn("%s: write error", path);
		return -1;
	}
	return 0;
}

static void cls_markdown(FILE *f, const struct sift_cls_metrics *m, int digits)
{
	fputs("| class | precision | recall | f1-score | support |\n"
	      "|:------|----------:|-------:|---------:|--------:|\n", f);
	for (int k = 0; k < m->n; k++) {
		struct sift_prf p = sift_cls_class(m, k);
		fputs("| ", f);
		md_cell(f, m->labels[k]);
		fprintf(f, " | %.*f | %.*f | %.*f | %ld |\n", digits, p.precision,
			digits, p.recall, digits, p.f1, p.support);
	}
	fprintf(f, "| **accuracy** | | | %.*f | %ld |\n", digits,
		sift_cls_accuracy(m), m->total);
	static const char *const names[] = { "macro avg", "weighted avg" };
	enum sift_cls_avg avg[] = { SIFT_AVG_MACRO, SIFT_AVG_WEIGHTED };
	for (int i = 0; i < 2; i++) {
		struct sift_prf p = sift_cls_average(m, avg[i]);
		fprintf(f, "| **%s** | %.*f | %.*f | %.*f | %ld |\n", names[i], digits,
			p.precision, digits, p.recall, digits, p.f1, p.support);
	}
	fputs("\n| gold \\ predicted |", f);
	for (int k = 0; k < m->n; k++) {
		fputc(' ', f);
		md_cell(f, m->labels[k]);
		fputs(" |", f);
	}
	fputs("\n|:--|", f);
	for (int k = 0; k < m->n; k++)
		fputs("--:|", f);
	fputc('\n', f);
	for (int g = 0; g < m->n; g++) {
		fputs("| ", f);
		md_cell(f, m->labels[g]);
		fputs(" |", f);
		for (int p = 0; p < m->n; p++)
			fprintf(f, " %ld |", sift_cls_count(m, g, p));
		fputc('\n', f);
	}
}

static void cls_csv(FILE *f, const struct sift_cls_metrics *m)
{
	fputs("class,precision,recall,f1,support\n", f);
	for (int k = 0; k < m->n; k++) {
		struct sift_prf p = sift_cls_class(m, k);
		csv_field(f, m->labels[k]);
		fputc(',', f);
		report_num(f, p.precision);
		fputc(',', f);
		report_num(f, p.recall);
		fputc(',', f);
		report_num(f, p.f1);
		fprintf(f, ",%ld\n", p.support);
	}
	fputs("accuracy,,,", f);
	report_num(f, sift_cls_accuracy(m));
	fprintf(f, ",%ld\n", m->total);
	static const char *const names[] = { "micro avg", "macro avg", "weighted avg" };
	enum sift_cls_avg avg[] = { SIFT_AVG_MICRO, SIFT_AVG_MACRO, SIFT_AVG_WEIGHTED };
	for (int i = 0; i < 3; i++) {
		struct sift_prf p = sift_cls_average(m, avg[i]);
		fprintf(f, "%s,", names[i]);
		report_num(f, p.precision);
		fputc(',', f);
		report_num(f, p.recall);
		fputc(',', f);
		report_num(f, p.f1);
		fprintf(f, ",%ld\n", p.support);
	}
}

/* mlm: one row of the masked-token scores */
static void mlm_table(FILE *f, const struct sift_mlm_scores *s,
		      enum report_format fmt)
{
	double acc = s->masked ? (double)s->correct / s->masked : 0.0;
	double ppl = exp(s->loss);
	if (fmt == REPORT_TEXT) {
		fprintf(f, "masked tokens: %ld in %ld examples; %ld predicted right\n",
			s->masked, s->examples, s->correct);
		fprintf(f, "loss: %.4f  perplexity: %.4f  accuracy: %6.2f%%\n",
			s->loss, ppl, 100 * acc);
		return;
	}
	if (fmt == REPORT_MARKDOWN)
		fprintf(f, "| loss | perplexity | accuracy | masked | correct | examples |\n"
			"|-----:|-----------:|---------:|-------:|--------:|---------:|\n"
			"| %.4f | %.4f | %.2f | %ld | %ld | %ld |\n", s->loss, ppl,
			100 * acc, s->masked, s->correct, s->examples);
	else {
		fputs("loss,perplexity,accuracy,masked,correct,examples\n", f);
		report_num(f, s->loss);
		fputc(',', f);
		report_num(f, ppl);
		fputc(',', f);
		report_num(f, acc);
		fprintf(f, ",%ld,%ld,%ld\n", s->masked, s->correct, s->examples);
	}
}

static int json_record(FILE *f, const msgpack_object *rec)
{
	json_t *j = sift_msg_to_json(rec);
	if (!j)
		return -1;
	int r = json_dumpf(j, f, JSON_COMPACT | JSON_REAL_PRECISION(17));
	fputc('\n', f);
	json_decref(j);
	return r;
}

int report_metrics(struct sift_reader *r, const struct sift_header *h,
		   const struct report_opts *o, FILE *out)
{
	const msgpack_object *rec;
	int ret, n = 0, calibrated = 0;
	struct sift_calib plotcal;
	while ((ret = sift_read(r, &rec)) > 0) {
		const char *task;
		uint32_t tl;
		if (sift_need_str(r, rec, "task", &task, &tl) < 0)
			return -1;
		if (h->task[0] && (strlen(h->task) != tl || memcmp(h->task, task, tl))) {
			sift_rerror(r, "metrics of task %.*s in a stream of task %s",
				    (int)tl, task, h->task);
			return -1;
		}
		if (n++ && o->format != REPORT_JSON)
			fputc('\n', out);
		if (o->format == REPORT_JSON) {
			if (json_record(out, rec) < 0) {
				sift_rerror(r, "cannot write JSON");
				return -1;
			}
			struct sift_calib cal;
			int hc = o->plot ? sift_read_calib(r, rec, &cal) : 0;
			if (hc < 0)
				return -1;
			if (hc) {
				plotcal = cal;
				calibrated = 1;
			}
		} else if (sift_get(rec, "problem_type")) {
			if (report_problem(out, r, rec, o) < 0)
				return -1;
		} else if (tl == 3 && !memcmp(task, "ner", 3)) {
			struct sift_ner_counts c;
			if (sift_read_ner_metrics(r, rec, &c) < 0) {
				sift_ner_free(&c);
				return -1;
			}
			if (o->format == REPORT_TEXT)
				sift_ner_print_conlleval(out, &c);
			else if (o->format == REPORT_MARKDOWN)
				ner_markdown(out, &c);
			else
				ner_csv(out, &c);
			sift_ner_free(&c);
		} else if ((tl == 3 && !memcmp(task, "cls", 3)) ||
			   (tl == 4 && !memcmp(task, "pair", 4))) {
			struct sift_cls_metrics m;
			struct sift_calib cal;
			int hc;
			if (sift_read_cls_metrics(r, rec, &m) < 0 ||
			    (hc = sift_read_calib(r, rec, &cal)) < 0) {
				sift_cls_free(&m);
				return -1;
			}
			if (o->format == REPORT_TEXT) {
				cls_text(out, &m, o->digits);
				if (hc)
					cls_calib(out, &cal, o->format);
				cls_confusion(out, &m);
				cls_abstain(out, &m, rec, o->digits);
			} else if (o->format == REPORT_MARKDOWN) {
				cls_markdown(out, &m, o->digits);
				if (hc)
					cls_calib(out, &cal, o->format);
			} else {
				cls_csv(out, &m);
				if (hc)
					cls_calib(out, &cal, o->format);
			}
			if (hc) {
				plotcal = cal;
				calibrated = 1;
			}
			sift_cls_free(&m);
		} else if (tl == 3 && !memcmp(task, "mlm", 3)) {
			struct sift_mlm_scores s;
			if (sift_read_mlm_metrics(r, rec, &s) < 0)
				return -1;
			mlm_table(out, &s, o->format);
		} else {
			sift_rerror(r, "unknown task '%.*s' in a metrics record", (int)tl, task);
			return -1;
		}
	}
	if (ret < 0)
		return -1;
	if (o->plot && !calibrated) {
		sift_warn("%s: --plot: no calibration in the metrics (sift-eval of cls or pair predictions with probs)",
			  sift_reader_name(r));
		return -1;
	}
	if (o->plot && reliability(o->plot, sift_reader_name(r), &plotcal) < 0)
		return -1;
	return 0;
}
