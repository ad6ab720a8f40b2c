/* conlleval.c: NER chunk counting with conlleval.pl's rules and seqeval's default and strict modes. */
#include <stdlib.h>
#include <string.h>

#include "prog.h"	/* defines: sift_oom */
#include "conlleval.h"

/* a string slice; tags are never copied while a sentence is scored */
struct sv {
	const char *p;
	size_t n;
};

static int sv_eq(struct sv a, struct sv b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static int sv_is(struct sv a, const char *s)
{
	return a.n == strlen(s) && memcmp(a.p, s, a.n) == 0;
}

static int sv_cmp(struct sv a, struct sv b)
{
	size_t m = a.n < b.n ? a.n : b.n;
	int r = memcmp(a.p, b.p, m);
	if (r)
		return r;
	return a.n < b.n ? -1 : a.n > b.n;
}

int sift_ner_parse_scheme(const char *s, enum sift_ner_scheme *out)
{
	if (!strcmp(s, "iob1"))
		*out = SIFT_SCHEME_IOB1;
	else if (!strcmp(s, "iob2"))
		*out = SIFT_SCHEME_IOB2;
	else if (!strcmp(s, "iobes"))
		*out = SIFT_SCHEME_IOBES;
	else
		return -1;
	return 0;
}

int sift_ner_parse_mode(const char *s, enum sift_ner_mode *out)
{
	if (!strcmp(s, "conlleval"))
		*out = SIFT_MODE_CONLLEVAL;
	else if (!strcmp(s, "strict"))
		*out = SIFT_MODE_STRICT;
	else
		return -1;
	return 0;
}

const char *sift_ner_scheme_name(enum sift_ner_scheme s)
{
	return s == SIFT_SCHEME_IOB1 ? "iob1" : s == SIFT_SCHEME_IOB2 ? "iob2" : "iobes";
}

const char *sift_ner_mode_name(enum sift_ner_mode m)
{
	return m == SIFT_MODE_STRICT ? "strict" : "conlleval";
}

int sift_ner_init(struct sift_ner_counts *c, enum sift_ner_scheme scheme,
		  enum sift_ner_mode mode)
{
	memset(c, 0, sizeof *c);
	c->scheme = scheme;
	c->mode = mode;
	if (mode == SIFT_MODE_STRICT && scheme == SIFT_SCHEME_IOB1) {
		snprintf(c->err, sizeof c->err,
			 "strict mode needs scheme iob2 or iobes");
		return -1;
	}
	return 0;
}

void sift_ner_free(struct sift_ner_counts *c)
{
	for (int i = 0; i < c->ntypes; i++)
		free(c->types[i].name);
	free(c->types);
	c->types = NULL;
	c->ntypes = c->cap = 0;
}

/* the entry for a type, inserted in sorted place when new */
static struct sift_ner_type *type_get(struct sift_ner_counts *c, struct sv name)
{
	int lo = 0, hi = c->ntypes;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		struct sv m = { c->types[mid].name, strlen(c->types[mid].name) };
		int r = sv_cmp(m, name);
		if (r == 0)
			return &c->types[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (c->ntypes == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		struct sift_ner_type *t = realloc(c->types, c->cap * sizeof *t);
		if (!t) {
			sift_oom(0);
		}
		c->types = t;
	}
	memmove(&c->types[lo + 1], &c->types[lo],
		(c->ntypes - lo) * sizeof *c->types);
	c->ntypes++;
	struct sift_ner_type *t = &c->types[lo];
	memset(t, 0, sizeof *t);
	t->name = malloc(name.n + 1);
	if (!t->name) {
		sift_oom(0);
	}
	memcpy(t->name, name.p, name.n);
	t->name[name.n] = 0;
	return t;
}

void sift_ner_add_type(struct sift_ner_counts *c, const char *name,
		       long gold, long pred, long correct)
{
	struct sv s = { name, strlen(name) };
	struct sift_ner_type *t = type_get(c, s);
	t->gold += gold;
	t->pred += pred;
	t->correct += correct;
}

/* ---- conlleval.pl ---- */

/* a tag split at its first hyphen; a type "0" is "" (Perl's truth) */
struct ctag {
	struct sv tag, type;
};

static struct ctag csplit(const char *s)
{
	struct ctag t;
	const char *h = strchr(s, '-');
	if (h) {
		t.tag = (struct sv){ s, (size_t)(h - s) };
		t.type = (struct sv){ h + 1, strlen(h + 1) };
	} else {
		t.tag = (struct sv){ s, strlen(s) };
		t.type = (struct sv){ "", 0 };
	}
	if (sv_is(t.type, "0"))
		t.type = (struct sv){ "", 0 };
	return t;
}

static int c_end(struct ctag prev, struct ctag cur)
{
	struct sv p = prev.tag, t = cur.tag;
	if ((sv_is(p, "B") || sv_is(p, "I")) && (sv_is(t, "B") || sv_is(t, "O")))
		return 1;
	if (sv_is(p, "E") && (sv_is(t, "E") || sv_is(t, "I") || sv_is(t, "O")))
		return 1;
	if (!sv_is(p, "O") && !sv_is(p, ".") && !sv_eq(prev.type, cur.type))
		return 1;
	if (sv_is(p, "]") || sv_is(p, "["))
		return 1;
	return 0;
}

static int c_start(struct ctag prev, struct ctag cur)
{
	struct sv p = prev.tag, t = cur.tag;
	if ((sv_is(p, "B") || sv_is(p, "I") || sv_is(p, "O")) && sv_is(t, "B"))
		return 1;
	if (sv_is(p, "O") && (sv_is(t, "I") || sv_is(t, "E")))
		return 1;
	if (sv_is(p, "E") && (sv_is(t, "E") || sv_is(t, "I")))
		return 1;
	if (!sv_is(t, "O") && !sv_is(t, ".") && !sv_eq(prev.type, cur.type))
		return 1;
	if (sv_is(t, "[") || sv_is(t, "]"))
		return 1;
	return 0;
}

/* one sentence then the boundary line that follows it */
static void conlleval_sentence(struct sift_ner_counts *c, const char *const *gold,
			       const char *const *pred, size_t n)
{
	struct ctag O = { { "O", 1 }, { "", 0 } };
	struct ctag lc = O, lg = O;
	int in_correct = 0;

	for (size_t i = 0; i <= n; i++) {
		int boundary = i == n;
		struct ctag cc = boundary ? O : csplit(gold[i]);
		struct ctag cg = boundary ? O : csplit(pred[i]);

		if (in_correct) {
			int ec = c_end(lc, cc), eg = c_end(lg, cg);
			if (ec && eg && sv_eq(lg.type, lc.type)) {
				in_correct = 0;
				c->correct++;
				type_get(c, lc.type)->correct++;
			} else if (ec != eg || !sv_eq(cg.type, cc.type)) {
				in_correct = 0;
			}
		}
		int sc = c_start(lc, cc), sg = c_start(lg, cg);
		if (sc && sg && sv_eq(cg.type, cc.type))
			in_correct = 1;
		if (sc) {
			c->gold++;
			type_get(c, cc.type)->gold++;
		}
		if (sg) {
			c->pred++;
			type_get(c, cg.type)->pred++;
		}
		if (!boundary) {
			if (sv_eq(cc.tag, cg.tag) && sv_eq(cc.type, cg.type))
				c->correct_tags++;
			c->tokens++;
		}
		lc = cc;
		lg = cg;
	}
	/* the boundary (O) ends every chunk, so in_correct is 0 here */
}

/* ---- seqeval ---- */

struct ent {
	size_t start, end;	/* [start, end) words */
	struct sv type;
};

static int ent_cmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return sv_cmp(x->type, y->type);
}

struct ents {
	struct ent *v;
	size_t n, cap;
};

static void ents_push(struct ents *e, size_t start, size_t end, struct sv type)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 16;
		struct ent *v = realloc(e->v, e->cap * sizeof *v);
		if (!v) {
			sift_oom(0);
		}
		e->v = v;
	}
	e->v[e->n++] = (struct ent){ start, end, type };
}

/* sorted, duplicates removed: seqeval keeps entities in sets */
static void ents_set(struct ents *e)
{
	if (!e->n)
		return;
	qsort(e->v, e->n, sizeof *e->v, ent_cmp);
	size_t k = 1;
	for (size_t i = 1; i < e->n; i++)
		if (ent_cmp(&e->v[i], &e->v[k - 1]))
			e->v[k++] = e->v[i];
	e->n = k;
}

/* seqeval default mode: tag = first character, type = what follows the
 * first hyphen after it, or "_" */
struct qtag {
	char tag;
	struct sv type;
};

static struct qtag qsplit(const char *s)
{
	struct qtag t;
	t.tag = s[0];
	const char *r = s[0] ? s + 1 : s;
	const char *h = strchr(r, '-');
	t.type = h ? (struct sv){ h + 1, strlen(h + 1) } : (struct sv){ r, strlen(r) };
	if (!t.type.n)
		t.type = (struct sv){ "_", 1 };
	return t;
}

static int q_end(struct qtag p, struct qtag t)
{
	if (p.tag == 'E' || p.tag == 'S')
		return 1;
	if ((p.tag == 'B' || p.tag == 'I') &&
	    (t.tag == 'B' || t.tag == 'S' || t.tag == 'O'))
		return 1;
	if (p.tag != 'O' && p.tag != '.' && !sv_eq(p.type, t.type))
		return 1;
	return 0;
}

static int q_start(struct qtag p, struct qtag t)
{
	if (t.tag == 'B' || t.tag == 'S')
		return 1;
	if ((p.tag == 'E' || p.tag == 'S' || p.tag == 'O') &&
	    (t.tag == 'E' || t.tag == 'I'))
		return 1;
	if (t.tag != 'O' && t.tag != '.' && !sv_eq(p.type, t.type))
		return 1;
	return 0;
}

/* get_entities over the sentence then the 'O' seqeval appends; the very
 * first sentence starts from seqeval's initial previous type "" */
static void default_entities(const char *const *tags, size_t n, int first,
			     struct ents *out)
{
	struct qtag prev = { 'O', first ? (struct sv){ "", 0 } : (struct sv){ "_", 1 } };
	struct qtag O = { 'O', { "_", 1 } };
	size_t begin = 0;
	for (size_t i = 0; i <= n; i++) {
		struct qtag t = i == n ? O : qsplit(tags[i]);
		if (q_end(prev, t) && i > 0)
			ents_push(out, begin, i, prev.type);
		if (q_start(prev, t))
			begin = i;
		prev = t;
	}
}

/* seqeval strict mode: a token is a prefix letter and the rest with its
 * hyphens stripped ("_" when empty) */
struct stok {
	char p;
	struct sv tag;
};

static int stok_make(const char *s, enum sift_ner_scheme sch, struct stok *t,
		     char *err, size_t errn)
{
	const char *allowed = sch == SIFT_SCHEME_IOBES ? "IOBES" : "IOB";
	if (!s[0] || !strchr(allowed, s[0])) {
		snprintf(err, errn, "tag '%s' is not valid in %s", s,
			 sift_ner_scheme_name(sch));
		return -1;
	}
	t->p = s[0];
	const char *a = s + 1, *b = s + strlen(s);
	while (a < b && *a == '-')
		a++;
	while (b > a && b[-1] == '-')
		b--;
	t->tag = a < b ? (struct sv){ a, (size_t)(b - a) } : (struct sv){ "_", 1 };
	return 0;
}

static int s_start(enum sift_ner_scheme sch, struct stok prev, struct stok t)
{
	(void)prev;
	return t.p == 'B' || (sch == SIFT_SCHEME_IOBES && t.p == 'S');
}

static int s_inside(enum sift_ner_scheme sch, struct stok prev, struct stok t)
{
	if (!(prev.p == 'B' || prev.p == 'I') || !sv_eq(prev.tag, t.tag))
		return 0;
	return t.p == 'I' || (sch == SIFT_SCHEME_IOBES && t.p == 'E');
}

static int s_end(enum sift_ner_scheme sch, struct stok prev, struct stok t)
{
	if (sch == SIFT_SCHEME_IOBES)
		return prev.p == 'S' || prev.p == 'E';
	if (!(prev.p == 'B' || prev.p == 'I'))
		return 0;
	return t.p == 'O' || t.p == 'B' || (t.p == 'I' && !sv_eq(prev.tag, t.tag));
}

static int strict_entities(struct sift_ner_counts *c, const char *const *tags,
			   size_t n, struct ents *out)
{
	struct stok *ext = malloc((n + 1) * sizeof *ext);
	if (!ext) {
		sift_oom(0);
	}
	for (size_t i = 0; i < n; i++)
		if (stok_make(tags[i], c->scheme, &ext[i], c->err, sizeof c->err)) {
			free(ext);
			return -1;
		}
	struct stok O = { 'O', { "_", 1 } };
	ext[n] = O;
	size_t i = 0;
	struct stok prev = O;
	while (i < n + 1) {
		struct stok t = ext[i];
		if (s_start(c->scheme, prev, t)) {
			size_t end = n;	/* never reached: O is never inside */
			struct stok q = t;
			for (size_t j = i + 1; j < n + 1; j++) {
				if (s_inside(c->scheme, q, ext[j])) {
					q = ext[j];
				} else {
					end = j;
					break;
				}
			}
			if (s_end(c->scheme, ext[end - 1], ext[end]))
				ents_push(out, i, end, t.tag);
			i = end;
		} else {
			i++;
		}
		prev = ext[i - 1];
	}
	free(ext);
	return 0;
}

static int set_sentence(struct sift_ner_counts *c, const char *const *gold,
			const char *const *pred, size_t n)
{
	struct ents g = { 0 }, p = { 0 };
	if (c->mode == SIFT_MODE_STRICT) {
		if (strict_entities(c, gold, n, &g) ||
		    strict_entities(c, pred, n, &p)) {
			free(g.v);
			free(p.v);
			return -1;
		}
	} else {
		default_entities(gold, n, c->sentences == 0, &g);
		default_entities(pred, n, c->sentences == 0, &p);
	}
	ents_set(&g);
	ents_set(&p);
	for (size_t i = 0; i < g.n; i++) {
		c->gold++;
		type_get(c, g.v[i].type)->gold++;
	}
	size_t k = 0;
	for (size_t i = 0; i < p.n; i++) {
		c->pred++;
		struct sift_ner_type *t = type_get(c, p.v[i].type);
		t->pred++;
		while (k < g.n && ent_cmp(&g.v[k], &p.v[i]) < 0)
			k++;
		if (k < g.n && ent_cmp(&g.v[k], &p.v[i]) == 0) {
			c->correct++;
			t->correct++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(gold[i], pred[i]))
			c->correct_tags++;
		c->tokens++;
	}
	free(g.v);
	free(p.v);
	return 0;
}

int sift_ner_add_sentence(struct sift_ner_counts *c, const char *const *gold,
			  const char *const *pred, size_t n)
{
	if (c->mode == SIFT_MODE_CONLLEVAL && c->scheme != SIFT_SCHEME_IOBES)
		conlleval_sentence(c, gold, pred, n);
	else if (set_sentence(c, gold, pred, n))
		return -1;
	c->sentences++;
	return 0;
}

long sift_ner_spans(struct sift_ner_counts *c, const char *const *tags,
		    size_t n, struct sift_ner_span **out)
{
	struct ents e = { 0 };
	*out = NULL;
	if (c->mode == SIFT_MODE_STRICT) {
		if (strict_entities(c, tags, n, &e) < 0)
			return -1;
	} else if (c->scheme == SIFT_SCHEME_IOBES) {
		default_entities(tags, n, 0, &e);
		ents_set(&e);
	} else {
		/* conlleval.pl's rules on one column */
		struct ctag O = { { "O", 1 }, { "", 0 } }, prev = O;
		size_t start = 0;
		int open = 0;
		for (size_t i = 0; i <= n; i++) {
			struct ctag t = i == n ? O : csplit(tags[i]);
			int st = c_start(prev, t);
			if (open && (c_end(prev, t) || st)) {
				ents_push(&e, start, i, prev.type);
				open = 0;
			}
			if (st) {
				start = i;
				open = 1;
			}
			prev = t;
		}
	}
	if (e.n) {
		*out = malloc(e.n * sizeof **out);
		if (!*out) {
			sift_oom(0);
		}
	}
	for (size_t i = 0; i < e.n; i++)
		(*out)[i] = (struct sift_ner_span){ e.v[i].start, e.v[i].end,
						    e.v[i].type.p, e.v[i].type.n };
	free(e.v);
	return (long)e.n;
}

int sift_ner_add_ids(struct sift_ner_counts *c, char *const *labels,
		     int nlabels, const int32_t *gold, const int32_t *pred,
		     size_t n)
{
	const char **g = malloc((2 * n + 1) * sizeof *g);
	if (!g) {
		sift_oom(0);
	}
	const char **p = g + n;
	for (size_t i = 0; i < n; i++) {
		if (gold[i] < 0 || gold[i] >= nlabels || pred[i] < 0 ||
		    pred[i] >= nlabels) {
			snprintf(c->err, sizeof c->err,
				 "label id %d out of range [0,%d) at word %zu",
				 (gold[i] < 0 || gold[i] >= nlabels) ? gold[i] : pred[i],
				 nlabels, i);
			free(g);
			return -1;
		}
		g[i] = labels[gold[i]];
		p[i] = labels[pred[i]];
	}
	int r = sift_ner_add_sentence(c, g, p, n);
	free(g);
	return r;
}

/* ---- scores ---- */

static double ratio(long a, long b)
{
	return b > 0 ? (double)a / (double)b : 0.0;
}

static double f1_of(double p, double r)
{
	return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double sift_ner_precision(const struct sift_ner_counts *c)
{
	return ratio(c->correct, c->pred);
}

double sift_ner_recall(const struct sift_ner_counts *c)
{
	return ratio(c->correct, c->gold);
}

double sift_ner_f1(const struct sift_ner_counts *c)
{
	return f1_of(sift_ner_precision(c), sift_ner_recall(c));
}

double sift_ner_accuracy(const struct sift_ner_counts *c)
{
	return ratio(c->correct_tags, c->tokens);
}

void sift_ner_type_prf(const struct sift_ner_type *t, double *p, double *r,
		       double *f1)
{
	*p = ratio(t->correct, t->pred);
	*r = ratio(t->correct, t->gold);
	*f1 = f1_of(*p, *r);
}

/* conlleval.pl computes in percent, then prints with %6.2f */
void sift_ner_print_conlleval(FILE *f, const struct sift_ner_counts *c)
{
	double p = 0, r = 0, fb = 0;
	if (c->pred > 0)
		p = 100.0 * c->correct / c->pred;
	if (c->gold > 0)
		r = 100.0 * c->correct / c->gold;
	if (p + r > 0)
		fb = 2 * p * r / (p + r);
	fprintf(f, "processed %ld tokens with %ld phrases; found: %ld phrases; correct: %ld.\n",
		c->tokens, c->gold, c->pred, c->correct);
	if (c->tokens > 0) {
		fprintf(f, "accuracy: %6.2f%%; ", 100.0 * c->correct_tags / c->tokens);
		fprintf(f, "precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f\n", p, r, fb);
	}
	for (int i = 0; i < c->ntypes; i++) {
		const struct sift_ner_type *t = &c->types[i];
		if (!t->gold && !t->pred)
			continue;
		p = t->pred ? 100.0 * t->correct / t->pred : 0.0;
		r = t->gold ? 100.0 * t->correct / t->gold : 0.0;
		fb = p + r == 0.0 ? 0.0 : 2 * p * r / (p + r);
		/* conlleval.pl's duplicate check treats "" and "0" as false,
		 * so such a type found in both columns prints twice */
		int times = (!strcmp(t->name, "") || !strcmp(t->name, "0")) &&
			t->gold && t->pred ? 2 : 1;
		while (times--)
			fprintf(f, "%17s: precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f  %ld\n",
				t->name, p, r, fb, t->pred);
	}
}

/* ---- windows ---- */

static char *dup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (!d) {
		sift_oom(0);
	}
	return memcpy(d, s, n);
}

void sift_ner_merge_init(struct sift_ner_merge *m)
{
	memset(m, 0, sizeof *m);
	m->doc = -1;
}

static void merge_clear(struct sift_ner_merge *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->gold[i]);
		free(m->pred[i]);
	}
	m->n = 0;
	m->got = 0;
	m->doc = -1;
}

void sift_ner_merge_free(struct sift_ner_merge *m)
{
	merge_clear(m);
	free(m->gold);
	free(m->pred);
	sift_ner_merge_init(m);
}

/* the merged sentence is an array of word0 + keep1 words: a word0
 * past any real sentence would overflow its size, or ask for gigabytes */
int sift_ner_check_word0(int64_t word0, char *err, size_t nerr)
{
	if (word0 >= 0 && word0 <= SIFT_NER_MAX_WORDS)
		return 0;
	if (word0 < 0)
		snprintf(err, nerr, "word0 %lld: below 0", (long long)word0);
	else
		snprintf(err, nerr, "word0 %lld: a sentence of over %d words",
			 (long long)word0, SIFT_NER_MAX_WORDS);
	return -1;
}

int sift_ner_merge_add(struct sift_ner_merge *m, struct sift_ner_counts *c,
		       int64_t doc, int64_t nwin, int64_t word0, int64_t keep0,
		       int64_t keep1, const char *const *gold,
		       const char *const *pred, size_t n)
{
	if (keep0 < 0 || keep1 < keep0 || (uint64_t)keep1 > n || word0 < 0 || nwin < 1) {
		snprintf(c->err, sizeof c->err,
			 "keep: expected [from,to) within the %zu words", n);
		return -1;
	}
	if (sift_ner_check_word0(word0, c->err, sizeof c->err) < 0)
		return -1;
	if (m->doc >= 0 && m->doc != doc) {
		snprintf(c->err, sizeof c->err,
			 "doc %lld: only %lld of its %lld windows came before doc %lld",
			 (long long)m->doc, (long long)m->got, (long long)m->nwin,
			 (long long)doc);
		return -1;
	}
	if (m->doc < 0) {
		m->doc = doc;
		m->nwin = nwin;
	}
	size_t end = (size_t)word0 + (size_t)keep1;
	if (end > m->cap) {
		size_t cap = end * 2;
		char **g = realloc(m->gold, cap * sizeof *g);
		char **p = g ? realloc(m->pred, cap * sizeof *p) : NULL;
		if (!g || !p) {
			sift_oom(0);
		}
		m->gold = g;
		m->pred = p;
		m->cap = cap;
	}
	for (size_t i = m->n; i < end; i++)
		m->gold[i] = m->pred[i] = NULL;
	if (end > m->n)
		m->n = end;
	for (int64_t k = keep0; k < keep1; k++) {
		size_t at = (size_t)word0 + (size_t)k;
		if (m->pred[at]) {
			snprintf(c->err, sizeof c->err,
				 "doc %lld: word %zu is kept by two windows",
				 (long long)doc, at);
			return -1;
		}
		m->gold[at] = dup(gold[k]);
		m->pred[at] = dup(pred[k]);
	}
	if (++m->got < m->nwin)
		return 0;
	for (size_t i = 0; i < m->n; i++)
		if (!m->pred[i]) {
			snprintf(c->err, sizeof c->err,
				 "doc %lld: word %zu is kept by no window",
				 (long long)doc, i);
			return -1;
		}
	int r = sift_ner_add_sentence(c, (const char *const *)m->gold,
				      (const char *const *)m->pred, m->n);
	merge_clear(m);
	return r < 0 ? -1 : 1;
}

int sift_ner_merge_finish(struct sift_ner_merge *m, struct sift_ner_counts *c)
{
	if (m->doc < 0)
		return 0;
	snprintf(c->err, sizeof c->err, "doc %lld: only %lld of its %lld windows at the end",
		 (long long)m->doc, (long long)m->got, (long long)m->nwin);
	return -1;
}
