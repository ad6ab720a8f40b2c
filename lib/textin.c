/* textin.c: reads CoNLL, TSV/CSV, JSON lines, text@label and plain-line corpora into sentences and texts. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <utf8proc.h>

#include "stream.h"	/* defines: sift_warn, sift_x* */
#include "textin.h"

struct sift_textin {
	FILE *f;
	char *name;
	struct sift_textin_opts o;
	long lineno;		/* lines read so far */
	char *line;		/* the current line, UTF-8, no newline */
	size_t len, cap;
	char *raw;
	size_t rawcap;
	int live;
	int nrec;
	int eof;
	/* TSV/CSV: column indices (0-based, -1 none) */
	int ct, cb, cl, cti, cto;
	int cols_done;
	/* CoNLL: the tag column, 1-based, fixed by the first token line
	 * (0: not yet) */
	int tagc;
};

const char *sift_textin_name(const struct sift_textin *t) { return t->name; }
int sift_textin_live(const struct sift_textin *t) { return t->live; }

static int err(struct sift_textin *t, long line, const char *msg, const char *arg)
{
	if (arg)
		sift_warn("%s:%ld: %s%s", t->name, line, msg, arg);
	else
		sift_warn("%s:%ld: %s", t->name, line, msg);
	return -1;
}

struct sift_textin *sift_textin_open(const char *path,
				     const struct sift_textin_opts *o)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		sift_warn("%s: %s", path, strerror(errno));
		return NULL;
	}
	struct sift_textin *t = sift_xcalloc(1, sizeof *t);
	t->f = f;
	t->name = sift_xstrdup(f == stdin ? "stdin" : path);
	t->o = *o;
	struct stat st;
	t->live = fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode);
	t->ct = t->cb = t->cl = t->cti = t->cto = -1;
	return t;
}

void sift_textin_close(struct sift_textin *t)
{
	if (!t)
		return;
	if (t->f != stdin)
		fclose(t->f);
	free(t->name);
	free(t->line);
	free(t->raw);
	free(t);
}

void sift_rec_free(struct sift_rec *r)
{
	for (int i = 0; i < r->nw; i++) {
		free(r->words[i]);
		if (r->tags)
			free(r->tags[i]);
	}
	free(r->words);
	free(r->tags);
	free(r->text);
	free(r->text_b);
	free(r->label);
	for (int i = 0; i < r->nlset; i++)
		free(r->lset[i]);
	free(r->lset);
	free(r->time);
	free(r->topic);
	memset(r, 0, sizeof *r);
}

static int valid_utf8(const char *s, size_t n)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		utf8proc_int32_t u;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &u);
		if (k < 0)
			return 0;
		i += k;
	}
	return 1;
}

/* next line into t->line (UTF-8, without "\n" and a "\r" before it):
 * 1, 0 at the end, -1 on error */
static int next_line(struct sift_textin *t)
{
	ssize_t k = getline(&t->raw, &t->rawcap, t->f);
	if (k < 0) {
		if (ferror(t->f))
			return err(t, t->lineno + 1, strerror(errno), NULL);
		t->eof = 1;
		return 0;
	}
	t->lineno++;
	if (k > 0 && t->raw[k - 1] == '\n')
		k--;
	if (k > 0 && t->raw[k - 1] == '\r')
		k--;
	const char *s = t->raw;
	if (t->lineno == 1 && !t->o.latin1 && k >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;		/* a byte order mark */
		k -= 3;
	}
	size_t need = 2 * (size_t)k + 1;
	if (t->o.latin1 && need > t->cap) {
		t->cap = need * 2;
		t->line = sift_xrealloc(t->line, t->cap);
	}
	if (t->o.latin1) {
		size_t j = 0;
		for (ssize_t i = 0; i < k; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x80) {
				t->line[j++] = (char)c;
			} else {
				t->line[j++] = (char)(0xC0 | (c >> 6));
				t->line[j++] = (char)(0x80 | (c & 0x3F));
			}
		}
		t->len = j;
	} else {
		if (!valid_utf8(s, k))
			return err(t, t->lineno, "invalid UTF-8", NULL);
		/* the line is the buffer read, without a copy: the old line's
		 * buffer takes the next one */
		memmove(t->raw, s, k);
		char *b = t->line;
		t->line = t->raw;
		t->raw = b;
		size_t c = t->cap;
		t->cap = t->rawcap;
		t->rawcap = c;
		t->len = k;
	}
	/* NUL would end a C string: U+0001 stands for it, which the tokenizer
	 * drops just the same, in one code point (the offsets stay right) */
	for (char *z = memchr(t->line, 0, t->len); z; z = memchr(z, 0, t->len - (z - t->line)))
		*z = 1;
	t->line[t->len] = 0;
	return 1;
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\v' && *s != '\f')
			return 0;
	return 1;
}

/* splits s in place on runs of ASCII blanks; returns the field count */
static int split_ws(char *s, char ***f, int *cap)
{
	int n = 0;
	char *save = NULL;
	for (char *p = strtok_r(s, " \t\v\f\r", &save); p; p = strtok_r(NULL, " \t\v\f\r", &save)) {
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*f = sift_xrealloc(*f, *cap * sizeof **f);
		}
		(*f)[n++] = p;
	}
	return n;
}

static void push_word(struct sift_rec *r, int *cap, const char *w, const char *tag)
{
	if (r->nw == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		r->words = sift_xrealloc(r->words, *cap * sizeof *r->words);
		if (tag || r->tags)
			r->tags = sift_xrealloc(r->tags, *cap * sizeof *r->tags);
	}
	r->words[r->nw] = sift_xstrdup(w);
	if (tag)
		r->tags[r->nw] = sift_xstrdup(tag);
	r->nw++;
}

/* w without the ASCII digits that end it, its first character kept:
 * Weibo NER's "她0", "310" (the digit 3 at position 10) */
static void strip_digits(char *w)
{
	size_t n = strlen(w), first = 1;
	while (first < n && ((unsigned char)w[first] & 0xC0) == 0x80)
		first++;
	while (n > first && w[n - 1] >= '0' && w[n - 1] <= '9')
		n--;
	w[n] = 0;
}

static int next_conll(struct sift_textin *t, struct sift_rec *r)
{
	char **f = NULL;
	int fcap = 0, wcap = 0, k;
	int tagged = t->o.tag_col != 0;
	while ((k = next_line(t)) > 0) {
		if (blank(t->line) || strncmp(t->line, "-DOCSTART-", 10) == 0) {
			if (r->nw)
				break;
			continue;
		}
		int n = split_ws(t->line, &f, &fcap);
		if (r->nw == 0)
			r->line = t->lineno;
		int wc = t->o.word_col > 0 ? t->o.word_col : 1;
		if (wc > n) {
			free(f);
			char a[32];
			snprintf(a, sizeof a, "%d missing", wc);
			return err(t, t->lineno, "word column ", a);
		}
		const char *tag = NULL;
		if (tagged) {
			/* the last column of the first token line, for the file:
			 * a shorter line lacks it (its last is another column) */
			if (!t->tagc)
				t->tagc = t->o.tag_col > 0 ? t->o.tag_col : n < 2 ? 2 : n;
			if (t->tagc > n) {
				free(f);
				char a[32];
				snprintf(a, sizeof a, "%d missing", t->tagc);
				return err(t, t->lineno, "tag column ", a);
			}
			tag = f[t->tagc - 1];
		}
		if (tagged && !r->tags && wcap == 0) {
			wcap = 32;
			r->words = sift_xmalloc(wcap * sizeof *r->words);
			r->tags = sift_xmalloc(wcap * sizeof *r->tags);
		}
		if (t->o.strip_word_digits)
			strip_digits(f[wc - 1]);
		push_word(r, &wcap, f[wc - 1], tag);
	}
	free(f);
	if (k < 0)
		return -1;
	return r->nw > 0;
}

static int next_lines(struct sift_textin *t, struct sift_rec *r)
{
	int k;
	while ((k = next_line(t)) > 0) {
		if (blank(t->line) && !t->o.keep_blank)
			continue;
		r->line = t->lineno;
		if (t->o.words) {
			char **f = NULL;
			int fcap = 0, wcap = 0;
			int n = split_ws(t->line, &f, &fcap);
			for (int i = 0; i < n; i++)
				push_word(r, &wcap, f[i], NULL);
			free(f);
		} else {
			r->text = t->line;	/* the buffer itself: a long line once */
			t->line = NULL;
			t->cap = 0;
		}
		return 1;
	}
	return k;
}

static int next_at(struct sift_textin *t, struct sift_rec *r)
{
	int k;
	while ((k = next_line(t)) > 0) {
		if (blank(t->line))
			continue;
		r->line = t->lineno;
		char *at = strrchr(t->line, '@');
		if (!at)
			return err(t, t->lineno, "no @label", NULL);
		*at = 0;
		r->text = sift_xstrdup(t->line);
		r->label = sift_xstrdup(at + 1);
		return 1;
	}
	return k;
}

static void free_fields(char **f, int n)
{
	for (int i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

/* one TSV/CSV row into fields (owned strings); CSV fields may span lines */
static int read_row(struct sift_textin *t, char ***fields, int *n)
{
	int k;
	do {
		k = next_line(t);
		if (k <= 0)
			return k;
	} while (t->len == 0);
	int cap = 0;
	*n = 0;
	*fields = NULL;
	if (t->o.fmt == SIFT_FMT_TSV) {
		char *s = t->line;
		for (;;) {
			char *tab = strchr(s, '\t');
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*fields = sift_xrealloc(*fields, cap * sizeof **fields);
			}
			if (tab)
				*tab = 0;
			(*fields)[(*n)++] = sift_xstrdup(s);
			if (!tab)
				break;
			s = tab + 1;
		}
		return 1;
	}
	/* RFC 4180: a field in double quotes may hold commas, "" and newlines */
	char *buf = NULL;
	size_t blen = 0, bcap = 0, i = 0;
	long first = t->lineno;
	int inq = 0, atstart = 1;
	for (;;) {
		int end = i >= t->len;
		char c = end ? 0 : t->line[i++];
		if (inq && end) {
			if ((k = next_line(t)) <= 0) {
				free(buf);
				free_fields(*fields, *n);
				*fields = NULL;
				return k < 0 ? -1 : err(t, first, "unterminated quoted field", NULL);
			}
			c = '\n';
			i = 0;
		} else if (inq && c == '"') {
			if (i < t->len && t->line[i] == '"') {
				i++;
			} else {
				inq = 0;
				continue;
			}
		} else if (!inq && c == '"' && atstart) {
			inq = 1;
			atstart = 0;
			continue;
		} else if (!inq && (end || c == ',')) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 8;
				*fields = sift_xrealloc(*fields, cap * sizeof **fields);
			}
			char *f = sift_xmalloc(blen + 1);
			if (blen)	/* buf is NULL before the first byte */
				memcpy(f, buf, blen);
			f[blen] = 0;
			(*fields)[(*n)++] = f;
			blen = 0;
			atstart = 1;
			if (end)
				break;
			continue;
		}
		atstart = 0;
		if (blen + 2 > bcap)
			buf = sift_xrealloc(buf, bcap = bcap * 2 + 64);
		buf[blen++] = c;
	}
	free(buf);
	return 1;
}


/* a column option: a 1-based number or, with a header, a name */
static int column(struct sift_textin *t, const char *spec, char **hdr, int nh,
		  int *col)
{
	*col = -1;
	if (!spec || !*spec)
		return 0;
	char *end;
	long v = strtol(spec, &end, 10);
	if (*end == 0 && v > 0 && v <= INT_MAX) {
		*col = (int)v - 1;
		return 0;
	}
	for (int i = 0; i < nh; i++)
		if (strcmp(hdr[i], spec) == 0) {
			*col = i;
			return 0;
		}
	return err(t, 1, "no column named ", spec);
}

/* a pass-through column: as given, or the header's column named name */
static int pass_column(struct sift_textin *t, const char *spec, const char *name,
		       char **hdr, int nh, int *col)
{
	*col = -1;
	if (spec && strcmp(spec, "0") == 0)
		return 0;	/* none, not even by name */
	if (spec)
		return column(t, spec, hdr, nh, col);
	for (int i = 0; i < nh; i++)
		if (strcmp(hdr[i], name) == 0)
			*col = i;
	return 0;
}

static int next_table(struct sift_textin *t, struct sift_rec *r)
{
	char **f;
	int n, k;
	if (!t->cols_done) {
		char **h = NULL;
		int nh = 0;
		if (t->o.header) {
			if ((k = read_row(t, &h, &nh)) <= 0)
				return k;
		}
		int e = column(t, t->o.text_col, h, nh, &t->ct) |
			column(t, t->o.text_b_col, h, nh, &t->cb) |
			column(t, t->o.label_col, h, nh, &t->cl) |
			pass_column(t, t->o.time_col, "time", h, nh, &t->cti) |
			pass_column(t, t->o.topic_col, "topic", h, nh, &t->cto);
		free_fields(h, nh);
		if (e)
			return -1;
		t->cols_done = 1;
	}
	long line = t->lineno + 1;
	if ((k = read_row(t, &f, &n)) <= 0)
		return k;
	r->line = line;
	const char *what = NULL;
	int miss = 0;
	if (t->ct >= n)
		what = "text", miss = t->ct;
	else if (t->cb >= n)
		what = "text_b", miss = t->cb;
	else if (t->cl >= n)
		what = "label", miss = t->cl;
	else if (t->cti >= n)
		what = "time", miss = t->cti;
	else if (t->cto >= n)
		what = "topic", miss = t->cto;
	if (what) {
		free_fields(f, n);
		char a[64];
		snprintf(a, sizeof a, " column %d missing", miss + 1);
		sift_warn("%s:%ld: %s%s", t->name, line, what, a);
		return -1;
	}
	if (t->cb >= 0)
		r->text_b = sift_xstrdup(f[t->cb]);
	if (t->cl >= 0)
		r->label = sift_xstrdup(f[t->cl]);
	if (t->cti >= 0)
		r->time = sift_xstrdup(f[t->cti]);
	if (t->cto >= 0)
		r->topic = sift_xstrdup(f[t->cto]);
	/* the text field itself, not a copy (the others copied first: one
	 * may be the same column) */
	if (t->ct >= 0) {
		r->text = f[t->ct];
		f[t->ct] = NULL;
	} else {
		r->text = sift_xstrdup("");
	}
	free_fields(f, n);
	return 1;
}

/* a copy of s[0..n), NUL bytes made U+0001 as in next_line() */
static char *dupnul(const char *s, size_t n)
{
	char *d = sift_xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		d[i] = s[i] ? s[i] : 1;
	d[n] = 0;
	return d;
}

/* a JSON value as label text: a string as it is, a number printed */
static char *label_str(json_t *v)
{
	if (json_is_string(v))
		return sift_xstrdup(json_string_value(v));
	if (json_is_integer(v)) {
		char b[32];
		snprintf(b, sizeof b, "%lld", (long long)json_integer_value(v));
		return sift_xstrdup(b);
	}
	return NULL;
}

/* a label as text: label_str, or a fraction printed so that it reads
 * back exactly (a regression target) */
static char *label_num_str(json_t *v)
{
	if (json_is_real(v)) {
		char b[40];
		snprintf(b, sizeof b, "%.17g", json_real_value(v));
		return sift_xstrdup(b);
	}
	return label_str(v);
}

/* a pass-through value (time, topic): a string, or a number printed;
 * key given: every record has it.  0, or -1 with a diagnostic. */
static int pass_key(struct sift_textin *t, json_t *j, const char *given,
		    const char *name, char **out)
{
	const char *key = given ? given : name;
	json_t *v = json_object_get(j, key);
	if (!v || json_is_null(v))
		return given ? err(t, t->lineno, name[1] == 'i' ? "no time key " : "no topic key ", given) : 0;
	if (json_is_real(v)) {
		char b[40];
		double x = json_real_value(v);
		snprintf(b, sizeof b, "%.15g", x);
		if (strtod(b, NULL) != x)
			snprintf(b, sizeof b, "%.17g", x);
		*out = sift_xstrdup(b);
	} else if (json_is_string(v)) {
		*out = dupnul(json_string_value(v), json_string_length(v));
	} else {
		*out = label_str(v);
	}
	if (!*out) {
		sift_warn("%s:%ld: key '%s' is not a string or number", t->name, t->lineno, key);
		return -1;
	}
	return 0;
}

static int next_jsonl(struct sift_textin *t, struct sift_rec *r)
{
	int k;
	while ((k = next_line(t)) > 0) {
		if (blank(t->line))
			continue;
		r->line = t->lineno;
		json_error_t je;
		json_t *j = json_loadb(t->line, t->len, JSON_ALLOW_NUL, &je);
		if (!j)
			return err(t, t->lineno, je.text, NULL);
		const char *tk = t->o.text_key ? t->o.text_key : "text";
		json_t *tx = json_object_get(j, tk);
		if (!json_is_string(tx)) {
			json_decref(j);
			return err(t, t->lineno, "no text key ", tk);
		}
		const char *ts = json_string_value(tx);
		size_t tn = json_string_length(tx);
		if (pass_key(t, j, t->o.time_key, "time", &r->time) < 0 ||
		    pass_key(t, j, t->o.topic_key, "topic", &r->topic) < 0) {
			json_decref(j);
			return -1;
		}
		json_t *b = json_object_get(j, t->o.text_b_key ? t->o.text_b_key : "text_b");
		if (t->o.text_b_key || b) {
			if (!json_is_string(b)) {
				json_decref(j);
				return err(t, t->lineno, "no text key ",
					   t->o.text_b_key ? t->o.text_b_key : "text_b");
			}
			r->text_b = dupnul(json_string_value(b), json_string_length(b));
		}
		const char *lk = t->o.label_key ? t->o.label_key : "label";
		json_t *lab = json_object_get(j, lk);
		if (json_is_object(lab)) {
			/* CLUENER: {type: {surface: [[start, end], ...]}}, character
			 * offsets, end inclusive: per-character BIO tags */
			int nc = 0, cap = 0;
			int32_t *cps = NULL;
			for (size_t i = 0; i < tn;) {
				utf8proc_int32_t u;
				utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)ts + i,
								      (utf8proc_ssize_t)(tn - i), &u);
				if (nc == cap)
					cps = sift_xrealloc(cps, (cap = cap * 2 + 64) * sizeof *cps);
				cps[nc++] = (int32_t)i;
				i += m < 1 ? 1 : m;
			}
			/* the spans in order, then applied last first: each
			 * character takes the last span over it (B- at that span's
			 * start), skipping those taken through nxt (a union-find of
			 * the next untagged character), O(length + spans) */
			struct span { const char *type; int32_t a, b; } *sp = NULL;
			size_t ns = 0, scap = 0;
			const char *type;
			json_t *surf;
			int bad = 0;
			json_object_foreach(lab, type, surf) {
				const char *sk;
				json_t *spans;
				json_object_foreach(surf, sk, spans) {
					size_t si;
					json_t *sv;
					json_array_foreach(spans, si, sv) {
						json_int_t a = json_integer_value(json_array_get(sv, 0));
						json_int_t b = json_integer_value(json_array_get(sv, 1));
						if (a < 0 || b < a || b >= nc) {
							bad = 1;
							continue;
						}
						if (ns == scap)
							sp = sift_xrealloc(sp, (scap = scap * 2 + 16) * sizeof *sp);
						sp[ns++] = (struct span){ type, (int32_t)a, (int32_t)b };
					}
				}
			}
			if (bad) {
				free(sp);
				free(cps);
				json_decref(j);
				return err(t, t->lineno, "entity span outside the text", NULL);
			}
			char **tags = sift_xcalloc(nc ? nc : 1, sizeof *tags);
			int32_t *nxt = sift_xmalloc((nc + 1) * sizeof *nxt);
			for (int i = 0; i <= nc; i++)
				nxt[i] = i;
			for (size_t q = ns; q-- > 0;) {
				for (int32_t c = sp[q].a;;) {
					int32_t r0 = c;	/* the first untagged from c */
					while (nxt[r0] != r0)
						r0 = nxt[r0];
					while (nxt[c] != r0) {
						int32_t up = nxt[c];
						nxt[c] = r0;
						c = up;
					}
					c = r0;
					if (c > sp[q].b)
						break;
					size_t tl = strlen(sp[q].type) + 3;
					tags[c] = sift_xmalloc(tl);
					snprintf(tags[c], tl, "%s-%s", c == sp[q].a ? "B" : "I", sp[q].type);
					nxt[c] = c + 1;
				}
			}
			free(nxt);
			free(sp);
			r->nw = nc;
			r->words = sift_xmalloc((nc ? nc : 1) * sizeof *r->words);
			r->tags = tags;
			for (int i = 0; i < nc; i++) {
				size_t e = i + 1 < nc ? (size_t)cps[i + 1] : tn;
				r->words[i] = dupnul(ts + cps[i], e - cps[i]);
				if (!tags[i])
					tags[i] = sift_xstrdup("O");
			}
			free(cps);
			free(r->text_b);
			r->text_b = NULL;
		} else {
			r->text = dupnul(ts, tn);
			if (json_is_array(lab)) {
				/* multi-label: the label set */
				size_t n = json_array_size(lab), i;
				json_t *v;
				r->lset = sift_xcalloc(n ? n : 1, sizeof *r->lset);
				json_array_foreach(lab, i, v) {
					if (!(r->lset[i] = label_str(v))) {
						json_decref(j);
						return err(t, t->lineno, "a label of the list is not a string or integer", NULL);
					}
					r->nlset++;
				}
			} else if (lab && !json_is_null(lab)) {
				r->label = label_num_str(lab);
				r->label_real = json_is_real(lab);
				if (!r->label) {
					json_decref(j);
					return err(t, t->lineno, "label is not a string, number or list", NULL);
				}
			}
		}
		json_decref(j);
		return 1;
	}
	return k;
}

/* a text as a sentence: its characters, or its words at ASCII blanks */
static void text_to_words(struct sift_rec *r, int chars)
{
	int cap = 0;
	char *s = r->text;
	r->text = NULL;
	if (chars) {
		size_t n = strlen(s);
		for (size_t i = 0; i < n;) {
			utf8proc_int32_t u;
			utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
							      (utf8proc_ssize_t)(n - i), &u);
			if (k < 1)
				k = 1;
			char c[8] = { 0 };
			memcpy(c, s + i, k);
			push_word(r, &cap, c, NULL);
			i += k;
		}
	} else {
		char **f = NULL;
		int fcap = 0;
		int n = split_ws(s, &f, &fcap);
		for (int i = 0; i < n; i++)
			push_word(r, &cap, f[i], NULL);
		free(f);
	}
	if (!r->words)
		r->words = sift_xmalloc(sizeof *r->words);
	free(s);
}

int sift_textin_next(struct sift_textin *t, struct sift_rec *r)
{
	memset(r, 0, sizeof *r);
	int k;
	if (t->eof)
		k = 0;
	else
		switch (t->o.fmt) {
		case SIFT_FMT_CONLL: k = next_conll(t, r); break;
		case SIFT_FMT_TSV:
		case SIFT_FMT_CSV: k = next_table(t, r); break;
		case SIFT_FMT_JSONL: k = next_jsonl(t, r); break;
		case SIFT_FMT_AT: k = next_at(t, r); break;
		default: k = next_lines(t, r); break;
		}
	if (k <= 0)
		sift_rec_free(r);
	if (k > 0) {
		t->nrec++;
		if (r->text && (t->o.chars || t->o.words))
			text_to_words(r, t->o.chars);
	}
	if (k == 0 && t->nrec == 0 && !t->o.allow_empty)
		return err(t, t->lineno ? t->lineno : 1,
			   t->lineno ? "no examples" : "empty file", NULL);
	return k;
}
