/* reportpred.c: predictions made readable (entities inline, CoNLL columns, labels beside texts) and monitored over time windows. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertstate.h"	/* defines: alert_state_load, alert_state_see */
#include "conlleval.h"	/* defines: sift_ner_spans */
#include "msgjson.h"	/* defines: sift_msg_to_json */
#include "report.h"
#include "reportmetrics.h"	/* defines: sift_get_strs */

int report_parse_alert(const char *s, struct report_alert *a)
{
	memset(a, 0, sizeof *a);
	a->text = s;
	const char *op = strpbrk(s, "<>");
	if (!op || op == s || (size_t)(op - s) >= sizeof a->label)
		return -1;
	memcpy(a->label, s, op - s);
	size_t ol = op[1] == '=' ? 2 : 1;
	memcpy(a->op, op, ol);
	const char *v = op + ol;
	char *end;
	a->value = strtod(v, &end);
	if (end == v)
		return -1;
	if (*end == '%') {
		a->value /= 100;
		end++;
	}
	if (*end || !(a->value >= 0 && a->value <= 1))
		return -1;
	return 0;
}

long report_parse_window(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v <= 0)
		return -1;
	long mul = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 :
		!strcmp(end, "h") ? 3600 : !strcmp(end, "d") ? 86400 :
		!strcmp(end, "w") ? 604800 : -1;
	if (mul < 0 || v > 100L * 366 * 86400 / mul)
		return -1;
	return v * mul;
}

/* n digits at p as an integer, or -1 */
static int digits(const char *p, const char *e, int n)
{
	int v = 0;
	if (e - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int month_days(int Y, int M)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = Y % 4 == 0 && (Y % 100 != 0 || Y % 400 == 0);
	return M == 2 && leap ? 29 : d[M - 1];
}

const char *report_check_time(double t)
{
	/* 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z: what ISO 8601's
	 * four-digit years can name, and a window start a long holds */
	if (!(t >= -62167219200.0 && t < 253402300800.0))
		return "is outside the years 0000 to 9999";
	return NULL;
}

int report_parse_time(const char *s, size_t n, double *t, const char **why)
{
	const char *p = s, *e = s + n;
	char buf[64];
	*why = "is neither ISO 8601 nor epoch seconds";
	if (n == 0 || n >= sizeof buf)
		return -1;
	/* epoch seconds */
	size_t i = 0;
	while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		i++;
	if (i == n && (n < 5 || s[4] != '-')) {
		memcpy(buf, s, n);
		buf[n] = 0;
		char *end;
		*t = strtod(buf, &end);
		if (*end)
			return -1;
		return (*why = report_check_time(*t)) ? -1 : 0;
	}
	int Y = digits(p, e, 4), M, D, h = 0, mi = 0, sec = 0;
	double frac = 0;
	if (Y < 0 || p[4] != '-' || (M = digits(p + 5, e, 2)) < 1 || M > 12 ||
	    e - p < 10 || p[7] != '-' || (D = digits(p + 8, e, 2)) < 1 || D > 31)
		return -1;
	if (D > month_days(Y, M)) {
		*why = "is a day its month does not have";
		return -1;
	}
	p += 10;
	long off = 0;
	if (p < e && (*p == 'T' || *p == 't' || *p == ' ')) {
		p++;
		if ((h = digits(p, e, 2)) < 0 || h > 23 || p + 2 >= e || p[2] != ':' ||
		    (mi = digits(p + 3, e, 2)) < 0 || mi > 59)
			return -1;
		p += 5;
		if (p < e && *p == ':') {
			if ((sec = digits(p + 1, e, 2)) < 0 || sec > 60)
				return -1;
			p += 3;
			if (p < e && (*p == '.' || *p == ',')) {
				double scale = 0.1;
				for (p++; p < e && isdigit((unsigned char)*p); p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
		if (p < e && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < e && (*p == '+' || *p == '-')) {
			int sign = *p == '-' ? -1 : 1, oh, om = 0;
			p++;
			if ((oh = digits(p, e, 2)) < 0)
				return -1;
			p += 2;
			int colon = p < e && *p == ':';
			p += colon;
			if ((p < e || colon) && (om = digits(p, e, 2)) < 0)
				return -1;
			if (p < e)
				p += 2;
			if (oh > 23 || om > 59) {
				*why = "has an offset outside -23:59 to +23:59";
				return -1;
			}
			off = sign * (oh * 3600L + om * 60L);
		}
	}
	if (p != e)
		return -1;
	struct tm tm = { 0 };
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = (double)timegm(&tm) - off + frac;
	return (*why = report_check_time(*t)) ? -1 : 0;
}

/* ---- readable predictions ---- */

/* a word as one CoNLL column: no blanks inside */
static void conll_word(FILE *f, const char *w)
{
	if (!*w) {
		fputc('_', f);
		return;
	}
	for (; *w; w++)
		fputc(isspace((unsigned char)*w) ? '_' : *w, f);
}

/* after a record of a live input, out goes out now: 1 when its reader
 * has gone (a normal end, as for head), else 0 (another error stays on
 * out for sift_close_stdout to report) */
static int live_flush(const struct report_opts *o, FILE *out)
{
	if (!o->live || fflush(out) == 0 || errno != EPIPE)
		return 0;
	clearerr(out);
	return 1;
}

static void ner_inline(FILE *f, char **words, size_t n,
		       const struct sift_ner_span *sp, long ns)
{
	long k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(' ', f);
		if (k < ns && sp[k].start == i)
			fprintf(f, "[%.*s ", (int)sp[k].typelen, sp[k].type);
		fputs(words[i], f);
		if (k < ns && sp[k].end == i + 1) {
			fputc(']', f);
			k++;
		}
	}
	fputc('\n', f);
}

static int same_spans(const struct sift_ner_span *a, long na,
		      const struct sift_ner_span *b, long nb)
{
	if (na != nb)
		return 0;
	for (long i = 0; i < na; i++)
		if (a[i].start != b[i].start || a[i].end != b[i].end ||
		    a[i].typelen != b[i].typelen ||
		    memcmp(a[i].type, b[i].type, a[i].typelen))
			return 0;
	return 1;
}

/* the sentence with its predicted entities in brackets, and a second
 * line with the gold ones when they differ */
static int ner_sentence(FILE *f, struct sift_ner_counts *c, char **words,
			char **pred, char **gold, size_t n)
{
	struct sift_ner_span *ps, *gs = NULL;
	long np = sift_ner_spans(c, (const char *const *)pred, n, &ps), ng = 0;
	if (np < 0)
		return -1;
	if (gold && (ng = sift_ner_spans(c, (const char *const *)gold, n, &gs)) < 0) {
		free(ps);
		return -1;
	}
	ner_inline(f, words, n, ps, np);
	if (gold && !same_spans(ps, np, gs, ng)) {
		fputs("  gold: ", f);
		ner_inline(f, words, n, gs, ng);
	}
	free(ps);
	free(gs);
	return 0;
}

/* entities as JSON: [{"type", "start", "end", "text"}], end exclusive */
static json_t *spans_json(char **words, const struct sift_ner_span *sp, long ns)
{
	json_t *a = json_array();
	for (long k = 0; k < ns; k++) {
		size_t len = 0;
		for (size_t i = sp[k].start; i < sp[k].end; i++)
			len += strlen(words[i]) + 1;
		char *text = sift_xmalloc(len + 1), *p = text;
		for (size_t i = sp[k].start; i < sp[k].end; i++)
			p += sprintf(p, "%s%s", i > sp[k].start ? " " : "", words[i]);
		json_t *e = json_object();
		json_object_set_new(e, "type", json_stringn(sp[k].type, sp[k].typelen));
		json_object_set_new(e, "start", json_integer((json_int_t)sp[k].start));
		json_object_set_new(e, "end", json_integer((json_int_t)sp[k].end));
		json_object_set_new(e, "text", json_string(text));
		json_array_append_new(a, e);
		free(text);
	}
	return a;
}

/* one JSON line per sentence: id, src, its entities, and the gold ones */
static int ner_json(FILE *f, const struct sift_reader *r, const msgpack_object *rec,
		    struct sift_ner_counts *c, char **words, char **pred,
		    char **gold, size_t n)
{
	struct sift_ner_span *sp;
	long ns = sift_ner_spans(c, (const char *const *)pred, n, &sp);
	if (ns < 0)
		return -1;
	json_t *j = json_object();
	int64_t id;
	const char *src;
	uint32_t sl;
	if (sift_opt_int(r, rec, "id", &id) > 0)
		json_object_set_new(j, "id", json_integer(id));
	if (sift_opt_str(r, rec, "src", &src, &sl) > 0)
		json_object_set_new(j, "src", json_stringn(src, sl));
	json_object_set_new(j, "entities", spans_json(words, sp, ns));
	free(sp);
	if (gold) {
		if ((ns = sift_ner_spans(c, (const char *const *)gold, n, &sp)) < 0) {
			json_decref(j);
			return -1;
		}
		json_object_set_new(j, "gold", spans_json(words, sp, ns));
		free(sp);
	}
	json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(j);
	return 0;
}

static int show_ner(struct sift_reader *r, const struct report_opts *o, FILE *out)
{
	const msgpack_object *rec;
	struct sift_ner_counts c;
	int ret, first = 1;
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
	while ((ret = sift_read(r, &rec)) > 0) {
		char **words, **pred, **gold;
		size_t nw, np, ng;
		if (sift_get_strs(r, rec, "words", 0, &words, &nw) < 0) {
			sift_ner_free(&c);
			return -1;
		}
		if (sift_get_strs(r, rec, "pred", 0, &pred, &np) < 0 ||
		    sift_get_strs(r, rec, "gold", 1, &gold, &ng) < 0) {
			free(words);
			free(pred);
			sift_ner_free(&c);
			return -1;
		}
		int bad = 0;
		if (np != nw || (gold && ng != nw)) {
			sift_rerror(r, "%zu words but %zu predicted and %zu gold tags",
				    nw, np, gold ? ng : nw);
			bad = 1;
		} else if (o->conll && !gold) {
			sift_rerror(r, "no gold tags: CoNLL columns need word, gold and predicted tags");
			bad = 1;
		} else if (o->conll) {
			if (!first)
				fputc('\n', out);
			for (size_t i = 0; i < nw; i++) {
				conll_word(out, words[i]);
				fprintf(out, " %s %s\n", gold[i], pred[i]);
			}
		} else {
			bad = (o->format == REPORT_JSON ?
			       ner_json(out, r, rec, &c, words, pred, gold, nw) :
			       ner_sentence(out, &c, words, pred, gold, nw)) < 0;
			if (bad)
				sift_rerror(r, "%s", c.err);
		}
		first = 0;
		free(words);
		free(pred);
		free(gold);
		if (bad || live_flush(o, out)) {
			sift_ner_free(&c);
			return bad ? -1 : 0;
		}
	}
	sift_ner_free(&c);
	return ret < 0 ? -1 : 0;
}

/* one line of text, newlines and tabs as spaces */
static void flat(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i], f);
}

/* a CSV field, quoted when it must be */
static void csv_field(FILE *f, const char *s, size_t n)
{
	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
	    !memchr(s, '\r', n)) {
		fwrite(s, 1, n, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

/* a markdown table cell: one line, '|' escaped */
static void md_cell(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '|')
			fputc('\\', f);
		fputc(s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i], f);
	}
}

/* copies the keys of rec that are there into j, in this order */
static void copy_keys(json_t *j, const msgpack_object *rec, const char *const *keys)
{
	for (; *keys; keys++) {
		const msgpack_object *v = sift_get(rec, *keys);
		if (v)
			json_object_set_new(j, *keys, sift_msg_to_json(v));
	}
}

static int show_cls(struct sift_reader *r, const struct sift_header *h,
		    const struct report_opts *o, FILE *out)
{
	static const char *const head[] = { "id", "src", "text", "text_b", "pred", NULL };
	static const char *const tail[] = { "gold", "time", "topic", NULL };
	const msgpack_object *rec;
	int ret, width = 1;
	for (int k = 0; k < h->nlabels; k++)
		if ((int)strlen(h->labels[k]) > width)
			width = (int)strlen(h->labels[k]);
	if (o->format == REPORT_CSV)
		fputs("id,pred,prob,gold,text,text_b\n", out);
	for (long nrec = 0; (ret = sift_read(r, &rec)) > 0; nrec++) {
		const char *pred, *gold, *text, *tb;
		uint32_t pl, gl = 0, tl = 0, bl = 0;
		float *probs = NULL;
		size_t np = 0;
		int hg, ht, hb, hi;
		int64_t id;
		if (sift_need_str(r, rec, "pred", &pred, &pl) < 0 ||
		    (hg = sift_opt_str(r, rec, "gold", &gold, &gl)) < 0 ||
		    (ht = sift_opt_str(r, rec, "text", &text, &tl)) < 0 ||
		    (hb = sift_opt_str(r, rec, "text_b", &tb, &bl)) < 0 ||
		    (hi = sift_opt_int(r, rec, "id", &id)) < 0)
			return -1;
		if (sift_get(rec, "probs") && sift_need_f32s(r, rec, "probs", &probs, &np) < 0)
			return -1;
		int k = sift_label_index(h, pred, pl);
		int hp = k >= 0 && (size_t)k < np;
		if (o->format == REPORT_JSON) {
			/* the record's own keys, and the probability of pred */
			json_t *j = json_object();
			copy_keys(j, rec, head);
			json_object_set_new(j, "prob", hp ? json_real(probs[k]) : json_null());
			copy_keys(j, rec, tail);
			json_dumpf(j, out, JSON_COMPACT | JSON_PRESERVE_ORDER |
				   JSON_REAL_PRECISION(9));
			fputc('\n', out);
			json_decref(j);
		} else if (o->format == REPORT_CSV) {
			if (hi)
				fprintf(out, "%lld", (long long)id);
			fputc(',', out);
			csv_field(out, pred, pl);
			fputc(',', out);
			if (hp)
				fprintf(out, "%.9g", probs[k]);
			fputc(',', out);
			csv_field(out, hg ? gold : "", gl);
			fputc(',', out);
			csv_field(out, ht ? text : "", tl);
			fputc(',', out);
			csv_field(out, hb ? tb : "", bl);
			fputc('\n', out);
		} else if (o->format == REPORT_MARKDOWN) {
			if (!nrec)	/* no records: no table */
				fputs("| id | pred | prob | gold | text |\n|--:|:--|--:|:--|:--|\n", out);
			fputs("| ", out);
			if (hi)
				fprintf(out, "%lld", (long long)id);
			fputs(" | ", out);
			md_cell(out, pred, pl);
			fputs(" | ", out);
			if (hp)
				fprintf(out, "%.3f", probs[k]);
			fputs(" | ", out);
			md_cell(out, hg ? gold : "", gl);
			fputs(" | ", out);
			if (ht)
				md_cell(out, text, tl);
			if (hb) {
				fputs(" \\|\\| ", out);
				md_cell(out, tb, bl);
			}
			fputs(" |\n", out);
		} else {
			fprintf(out, "%-*.*s", width, (int)pl, pred);
			if (hp)
				fprintf(out, " %.3f", probs[k]);
			else
				fputs("     -", out);
			fputs("  ", out);
			if (ht)
				flat(out, text, tl);
			if (hb) {
				fputs(" || ", out);
				flat(out, tb, bl);
			}
			if (hg && (gl != pl || memcmp(gold, pred, pl)))
				fprintf(out, "  [gold: %.*s]", (int)gl, gold);
			fputc('\n', out);
		}
		free(probs);
		if (live_flush(o, out))
			return 0;
	}
	return ret < 0 ? -1 : 0;
}

/* ---- monitoring ---- */

/* LONG_MIN: no --window, one window for all; LONG_MAX: no time */
#define ALL_TIME LONG_MIN
#define UNTIMED LONG_MAX

/* one of the most confident predictions of a label in a group */
struct pick {
	double prob;		/* NaN without probs: ranks last */
	json_t *j;		/* {"text", "prob", "time"[, "id"]}, NULL = free */
};

struct group {
	long window;		/* start, seconds since the epoch, or the above */
	char *topic;		/* NULL = all */
	long n;
	long *count;		/* per label */
	struct pick *top;	/* per label, top picks each; NULL without alerts */
};

struct groups {
	struct group *g;
	size_t n, cap;
	int nl;			/* labels */
	char **labels;
	int ntop;		/* picks per label */
};

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->window != y->window)
		return x->window < y->window ? -1 : 1;
	if (!x->topic || !y->topic)
		return !!x->topic - !!y->topic;
	return strcmp(x->topic, y->topic);
}

static struct group *group_get(struct groups *gs, long window, const char *topic,
			       size_t tl)
{
	/* the last group first: records mostly come in time order */
	for (size_t i = gs->n; i-- > 0;) {
		struct group *g = &gs->g[i];
		if (g->window == window &&
		    (topic ? g->topic && strlen(g->topic) == tl && !memcmp(g->topic, topic, tl)
			   : !g->topic))
			return g;
	}
	if (gs->n == gs->cap) {
		gs->cap = gs->cap ? 2 * gs->cap : 64;
		gs->g = sift_xrealloc(gs->g, gs->cap * sizeof *gs->g);
	}
	struct group *g = &gs->g[gs->n++];
	g->window = window;
	g->topic = topic ? strndup(topic, tl) : NULL;
	g->n = 0;
	g->count = sift_xcalloc(gs->nl, sizeof *g->count);
	g->top = gs->ntop ? sift_xcalloc((size_t)gs->nl * gs->ntop, sizeof *g->top) : NULL;
	return g;
}

/* a before b: more confident, NaN last; equals keep the earlier record */
static int more_confident(double a, double b)
{
	return !isnan(a) && (isnan(b) || a > b);
}

/* keeps rec among the n most confident picks p[0..n) */
static void pick_add(struct pick *p, int n, double prob, const msgpack_object *rec)
{
	int at = 0;
	while (at < n && p[at].j && !more_confident(prob, p[at].prob))
		at++;
	if (at == n)
		return;
	json_decref(p[n - 1].j);
	memmove(p + at + 1, p + at, (size_t)(n - 1 - at) * sizeof *p);
	json_t *j = json_object();
	const msgpack_object *v;
	json_object_set_new(j, "text", (v = sift_get(rec, "text")) ? sift_msg_to_json(v) : json_null());
	if ((v = sift_get(rec, "text_b")))
		json_object_set_new(j, "text_b", sift_msg_to_json(v));
	json_object_set_new(j, "prob", isnan(prob) ? json_null() : json_real(prob));
	json_object_set_new(j, "time", (v = sift_get(rec, "time")) ? sift_msg_to_json(v) : json_null());
	if ((v = sift_get(rec, "id")))
		json_object_set_new(j, "id", sift_msg_to_json(v));
	p[at].prob = prob;
	p[at].j = j;
}

static void window_name(char *buf, size_t n, long w)
{
	if (w == ALL_TIME) {
		snprintf(buf, n, "all");
		return;
	}
	if (w == UNTIMED) {
		snprintf(buf, n, "untimed");
		return;
	}
	time_t t = (time_t)w;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int crossed(const struct report_alert *a, double share)
{
	if (!strcmp(a->op, ">"))
		return share > a->value;
	if (!strcmp(a->op, ">="))
		return share >= a->value;
	if (!strcmp(a->op, "<"))
		return share < a->value;
	return share <= a->value;
}

/* the rule as a state key: label, operator, the shortest exact fraction
 * ("negative>40%" and "negative>0.4" are one rule) */
static void rule_key(char *buf, size_t n, const struct report_alert *a)
{
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, n, "%s%s%.*g", a->label, a->op, p, a->value);
		if (strtod(buf + strlen(a->label) + strlen(a->op), NULL) == a->value)
			return;
	}
}

static void monitor_print(FILE *out, const struct groups *gs, const struct report_opts *o)
{
	char wb[32];
	int tw = 5;
	for (size_t i = 0; i < gs->n; i++)
		if (gs->g[i].topic && (int)strlen(gs->g[i].topic) > tw)
			tw = (int)strlen(gs->g[i].topic);
	if (o->format == REPORT_CSV) {
		fputs("window,topic,n", out);
		for (int k = 0; k < gs->nl; k++)
			fprintf(out, ",%s", gs->labels[k]);
		fputc('\n', out);
	}
	if (!gs->n)	/* no predictions: nothing (csv: its header) */
		return;
	if (o->format == REPORT_MARKDOWN) {
		fputs("| window | topic | n |", out);
		for (int k = 0; k < gs->nl; k++)
			fprintf(out, " %s |", gs->labels[k]);
		fputs("\n|:--|:--|--:|", out);
		for (int k = 0; k < gs->nl; k++)
			fputs("--:|", out);
		fputc('\n', out);
	} else if (o->format == REPORT_TEXT) {
		fprintf(out, "%-20s  %-*s  %7s", "window", tw, "topic", "n");
		for (int k = 0; k < gs->nl; k++)
			fprintf(out, "  %*s", (int)(strlen(gs->labels[k]) > 6 ? strlen(gs->labels[k]) : 6),
				gs->labels[k]);
		fputc('\n', out);
	}
	for (size_t i = 0; i < gs->n; i++) {
		const struct group *g = &gs->g[i];
		const char *topic = g->topic ? g->topic : "*";
		window_name(wb, sizeof wb, g->window);
		if (o->format == REPORT_JSON) {
			json_t *j = json_object(), *sh = json_object();
			json_object_set_new(j, "window", json_string(wb));
			json_object_set_new(j, "topic", g->topic ? json_string(g->topic) : json_null());
			json_object_set_new(j, "n", json_integer(g->n));
			for (int k = 0; k < gs->nl; k++)
				json_object_set_new(sh, gs->labels[k],
						    json_real((double)g->count[k] / (double)g->n));
			json_object_set_new(j, "share", sh);
			json_dumpf(j, out, JSON_COMPACT | JSON_PRESERVE_ORDER |
				   JSON_REAL_PRECISION(17));
			fputc('\n', out);
			json_decref(j);
			continue;
		}
		if (o->format == REPORT_CSV)
			fprintf(out, "%s,%s,%ld", wb, topic, g->n);
		else if (o->format == REPORT_MARKDOWN)
			fprintf(out, "| %s | %s | %ld |", wb, topic, g->n);
		else
			fprintf(out, "%-20s  %-*s  %7ld", wb, tw, topic, g->n);
		for (int k = 0; k < gs->nl; k++) {
			double s = (double)g->count[k] / (double)g->n;
			if (o->format == REPORT_CSV) {
				fputc(',', out);
				report_num(out, s);
			} else if (o->format == REPORT_MARKDOWN) {
				fprintf(out, " %.3f |", s);
			} else {
				fprintf(out, "  %*.3f", (int)(strlen(gs->labels[k]) > 6 ? strlen(gs->labels[k]) : 6), s);
			}
		}
		fputc('\n', out);
	}
}

/* a JSON string or number as text, "-" for null */
static void json_text(FILE *f, const json_t *v, int md)
{
	if (json_is_string(v)) {
		if (md)
			md_cell(f, json_string_value(v), json_string_length(v));
		else
			flat(f, json_string_value(v), json_string_length(v));
	} else if (json_is_number(v)) {
		report_num(f, json_number_value(v));
	} else {
		fputc('-', f);
	}
}

/* one alert: the group, the share against the rule, the top picks */
static void alert_print(FILE *out, const struct report_opts *o, const struct groups *gs,
			const struct group *g, const struct report_alert *al,
			const char *rule, int k, int fresh, int *ncsv)
{
	char wb[32];
	double s = (double)g->count[k] / (double)g->n;
	const struct pick *p = g->top ? &g->top[(size_t)k * gs->ntop] : NULL;
	int np = 0;
	while (p && np < gs->ntop && p[np].j)
		np++;
	window_name(wb, sizeof wb, g->window);
	if (o->format == REPORT_JSON) {
		json_t *j = json_object(), *grp = json_object(), *top = json_array();
		json_object_set_new(j, "alert", json_true());
		json_object_set_new(j, "rule", json_string(rule));
		json_object_set_new(grp, "window", json_string(wb));
		json_object_set_new(grp, "topic", g->topic ? json_string(g->topic) : json_null());
		json_object_set_new(j, "group", grp);
		json_object_set_new(j, "label", json_string(al->label));
		json_object_set_new(j, "share", json_real(s));
		json_object_set_new(j, "threshold", json_real(al->value));
		json_object_set_new(j, "op", json_string(al->op));
		json_object_set_new(j, "count", json_integer(g->count[k]));
		json_object_set_new(j, "n", json_integer(g->n));
		json_object_set_new(j, "new", json_boolean(fresh));
		for (int i = 0; i < np; i++)
			json_array_append(top, p[i].j);
		json_object_set_new(j, "top", top);
		json_dumpf(j, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
		fputc('\n', out);
		json_decref(j);
		return;
	}
	if (o->format == REPORT_CSV) {
		/* a second table after the groups' */
		if ((*ncsv)++ == 0)
			fprintf(out, "%srule,window,topic,label,share,count,n,new,rank,prob,time,text\n",
				o->alerts_only ? "" : "\n");
		for (int i = 0; i < (np ? np : 1); i++) {
			csv_field(out, rule, strlen(rule));
			fprintf(out, ",%s,", wb);
			if (g->topic)
				csv_field(out, g->topic, strlen(g->topic));
			fprintf(out, ",%s,", al->label);
			report_num(out, s);
			fprintf(out, ",%ld,%ld,%d,", g->count[k], g->n, fresh);
			if (np) {
				const json_t *t = json_object_get(p[i].j, "time"),
					*x = json_object_get(p[i].j, "text");
				fprintf(out, "%d,", i + 1);
				if (!isnan(p[i].prob))
					fprintf(out, "%.9g", p[i].prob);
				fputc(',', out);
				if (json_is_string(t))
					csv_field(out, json_string_value(t), json_string_length(t));
				else if (json_is_number(t))
					report_num(out, json_number_value(t));
				fputc(',', out);
				if (json_is_string(x))
					csv_field(out, json_string_value(x), json_string_length(x));
			} else {
				fputs(",,,", out);
			}
			fputc('\n', out);
		}
		return;
	}
	int md = o->format == REPORT_MARKDOWN;
	fprintf(out, "%s %s window %s topic %s: %s = %.3f (%ld of %ld)\n",
		md ? "**ALERT**" : "ALERT", al->text, wb, g->topic ? g->topic : "*",
		al->label, s, g->count[k], g->n);
	for (int i = 0; i < np; i++) {
		fputs(md ? "- " : "  ", out);
		if (isnan(p[i].prob))
			fputs("    -", out);
		else
			fprintf(out, "%.3f", p[i].prob);
		fputs("  ", out);
		json_text(out, json_object_get(p[i].j, "time"), md);
		fputs("  ", out);
		json_text(out, json_object_get(p[i].j, "text"), md);
		fputc('\n', out);
	}
}

/* the time of rec as its window start, or UNTIMED: 0, or -1 after a
 * diagnostic */
static int record_window(struct sift_reader *r, const msgpack_object *rec, long len,
			 long *window)
{
	double t;
	const char *why, *ts;
	uint32_t tl;
	const msgpack_object *tv = sift_get(rec, "time");
	if (!tv || tv->type == MSGPACK_OBJECT_NIL) {
		*window = UNTIMED;
		return 0;
	}
	if (tv->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    tv->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
	    tv->type == MSGPACK_OBJECT_FLOAT64 || tv->type == MSGPACK_OBJECT_FLOAT32) {
		if (sift_opt_num(r, rec, "time", &t) < 0)
			return -1;	/* past int64: t was never set */
		if ((why = report_check_time(t))) {
			sift_rerror(r, "time %.17g %s", t, why);
			return -1;
		}
	} else if (sift_need_str(r, rec, "time", &ts, &tl) < 0) {
		return -1;
	} else if (report_parse_time(ts, tl, &t, &why) < 0) {
		sift_rerror(r, "time '%.*s' %s", (int)tl, ts, why);
		return -1;
	}
	*window = (long)floor(t / len) * len;
	return 0;
}

static int monitor(struct sift_reader *r, const struct sift_header *h,
		   const struct report_opts *o, FILE *out)
{
	struct groups gs = { 0 };
	struct alert_state st = { 0 };
	const msgpack_object *rec;
	int ret = 0, status = 0;
	gs.nl = h->nlabels;
	gs.labels = h->labels;
	gs.ntop = o->nalerts ? o->top : 0;
	/* the labels some rule names: only theirs are ranked */
	char *ranked = sift_xcalloc(gs.nl ? gs.nl : 1, 1);
	for (int a = 0; a < o->nalerts; a++)
		ranked[sift_label_index(h, o->alerts[a].label, strlen(o->alerts[a].label))] = 1;
	if (o->state && o->nalerts && alert_state_load(&st, o->state) < 0)
		status = -1;
	while (status == 0 && (ret = sift_read(r, &rec)) > 0) {
		const char *pred, *topic = NULL;
		uint32_t pl, topl = 0;
		if (sift_need_str(r, rec, "pred", &pred, &pl) < 0) {
			status = -1;
			break;
		}
		int k = sift_label_index(h, pred, pl);
		if (k < 0) {
			sift_rerror(r, "predicted label '%.*s' is not in the header's labels",
				    (int)pl, pred);
			status = -1;
			break;
		}
		long window = ALL_TIME;
		if (o->window && record_window(r, rec, o->window, &window) < 0) {
			status = -1;
			break;
		}
		if (o->by_topic) {
			int has = sift_opt_str(r, rec, "topic", &topic, &topl);
			if (has < 0) {
				status = -1;
				break;
			}
			if (!has) {
				topic = "(none)";
				topl = 6;
			}
		}
		struct group *g = group_get(&gs, window, topic, topl);
		g->n++;
		g->count[k]++;
		if (g->top && ranked[k]) {
			float *probs = NULL;
			size_t np = 0;
			if (sift_get(rec, "probs") && sift_need_f32s(r, rec, "probs", &probs, &np) < 0) {
				status = -1;
				break;
			}
			pick_add(&g->top[(size_t)k * gs.ntop], gs.ntop,
				 (size_t)k < np ? probs[k] : NAN, rec);
			free(probs);
		}
	}
	if (ret < 0)
		status = -1;
	if (gs.n)	/* no records: gs.g is NULL, which qsort may not take */
		qsort(gs.g, gs.n, sizeof *gs.g, group_cmp);
	if (status == 0) {
		if (!o->alerts_only)
			monitor_print(out, &gs, o);
		int alerts = 0, ncsv = 0;
		char wb[32], rule[96];
		/* in window order: a rule and topic's state follows the
		 * groups in time, untimed ones last */
		for (size_t i = 0; i < gs.n; i++) {
			const struct group *g = &gs.g[i];
			if (g->n < o->min_count)
				continue;
			for (int a = 0; a < o->nalerts; a++) {
				const struct report_alert *al = &o->alerts[a];
				int k = sift_label_index(h, al->label, strlen(al->label));
				int c = crossed(al, (double)g->count[k] / (double)g->n);
				int fresh = c;
				rule_key(rule, sizeof rule, al);
				window_name(wb, sizeof wb, g->window);
				if (st.alerts)
					fresh = alert_state_see(&st, rule, g->topic, c, wb,
								g->count[k], g->n);
				if (!c || (!fresh && !o->every_run))
					continue;
				alert_print(out, o, &gs, g, al, rule, k, fresh, &ncsv);
				alerts++;
			}
		}
		if (st.alerts && alert_state_save(&st) < 0)
			status = -1;
		else if (alerts)
			status = SIFT_EXIT_ALERT;
	}
	for (size_t i = 0; i < gs.n; i++) {
		free(gs.g[i].topic);
		free(gs.g[i].count);
		for (size_t p = 0; gs.g[i].top && p < (size_t)gs.nl * gs.ntop; p++)
			json_decref(gs.g[i].top[p].j);
		free(gs.g[i].top);
	}
	free(gs.g);
	free(ranked);
	alert_state_free(&st);
	return status;
}

int report_predictions(struct sift_reader *r, const struct sift_header *h,
		       const struct report_opts *o, FILE *out)
{
	int is_ner = !strcmp(h->task, "ner");
	int monitoring = o->window || o->by_topic || o->nalerts;
	/* fill-mask records are top-k lists per masked token, which
	 * sift-eval scores and sift-cat shows whole; no table of them here */
	if (!strcmp(h->task, "mlm")) {
		sift_rerror(r, "fill-mask predictions (task mlm): score them with sift-eval, read them with sift-cat");
		return -1;
	}
	if (monitoring && is_ner) {
		sift_rerror(r, "monitoring (--window, --by-topic, --alert) needs "
			    "classification predictions, got task ner");
		return -1;
	}
	if (o->conll && !is_ner) {
		sift_rerror(r, "--conll needs NER predictions, got task %s", h->task);
		return -1;
	}
	for (int a = 0; a < o->nalerts; a++)
		if (sift_label_index(h, o->alerts[a].label, strlen(o->alerts[a].label)) < 0) {
			sift_rerror(r, "--alert '%s': no label '%s' in the stream",
				    o->alerts[a].text, o->alerts[a].label);
			return -1;
		}
	if (monitoring)
		return monitor(r, h, o, out);
	return is_ner ? show_ner(r, o, out) : show_cls(r, h, o, out);
}
