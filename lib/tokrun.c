/* tokrun.c: sift-tok's driver: reads the inputs, settles task and labels, writes the header and one example per sentence or text. */
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <math.h>

#include "cli.h"	/* defines: sift_misuse */
#include "problem.h"	/* defines: enum sift_problem */
#include "tokrun.h"

void sift_iob1_to_iob2(char **tags, int n)
{
	for (int i = 0; i < n; i++) {
		char *t = tags[i];
		if (strncmp(t, "I-", 2) != 0)
			continue;
		const char *p = i ? tags[i - 1] : "O";
		if ((p[0] == 'B' || p[0] == 'I') && p[1] == '-' && strcmp(p + 2, t + 2) == 0)
			continue;
		t[0] = 'B';
	}
}

struct held {
	struct sift_rec r;
	char *src;
	const char *file;
};

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* adds s to the sorted-later set of labels */
static void addlabel(char ***l, int *n, int *cap, const char *s)
{
	for (int i = 0; i < *n; i++)
		if (strcmp((*l)[i], s) == 0)
			return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*l = sift_xrealloc(*l, *cap * sizeof **l);
	}
	(*l)[(*n)++] = sift_xstrdup(s);
}

static int read_labels(const char *path, struct sift_header *h)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		sift_warn("%s: %m", path);
		return -1;
	}
	char **l = NULL, *line = NULL;
	int n = 0, cap = 0, bad = 0;
	long lineno = 0;
	size_t lc = 0;
	ssize_t k;
	while (!bad && (k = getline(&line, &lc, f)) >= 0) {
		lineno++;
		while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r' || line[k - 1] == ' '))
			line[--k] = 0;
		if (!k)
			continue;
		/* a second copy would shift the ids of the labels after it */
		for (int i = 0; i < n && !bad; i++)
			if (strcmp(l[i], line) == 0) {
				sift_warn("%s:%ld: duplicate label '%s'", path, lineno, line);
				bad = 1;
			}
		if (!bad)
			addlabel(&l, &n, &cap, line);
	}
	free(line);
	fclose(f);
	if (bad) {
		for (int i = 0; i < n; i++)
			free(l[i]);
		free(l);
		return -1;
	}
	if (n == 0) {
		sift_warn("%s:1: empty file", path);
		return -1;
	}
	sift_header_set_labels(h, l, n);
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
	return 0;
}

struct run {
	struct sift_tokex x;
	struct sift_writer w;
	struct sift_header h;
	const struct sift_tokrun_opts *o;
	int started;
	int nertask;
	int mlm;
	int *lab;
	int labcap;
	int problem;		/* enum sift_problem of cls and pair */
	int32_t *lset;
	int lscap;
};

/* the names of r's label set: its JSON array, or its label split at sep,
 * empty pieces dropped (an empty label: the empty set; "a,,b," is a and
 * b); *n of them, the strings r's or fresh ones that *own (freed by
 * free_names) */
static char **label_names(const struct sift_rec *r, const char *sep, int *n,
			  int *own)
{
	*own = 0;
	if (r->lset) {
		*n = r->nlset;
		return r->lset;
	}
	*own = 1;
	char **v = NULL;
	int k = 0;
	size_t sl = strlen(sep);
	for (const char *p = r->label; *p;) {
		const char *q = strstr(p, sep);
		size_t len = q ? (size_t)(q - p) : strlen(p);
		if (len) {
			v = sift_xrealloc(v, (k + 1) * sizeof *v);
			v[k] = sift_xmalloc(len + 1);
			memcpy(v[k], p, len);
			v[k++][len] = 0;
		}
		if (!q)
			break;
		p = q + sl;
	}
	*n = k;
	return v;
}

static void free_names(char **v, int n, int own)
{
	if (!own)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int cmpi32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* the label of a cls or pair record as the problem reads it, set on
 * u->x: the label id (single), the ids of the set (multi-label) or the
 * target (regression); 0, or -1 after a diagnostic */
static int text_label(struct run *u, const char *file, const struct sift_rec *r,
		      int *label)
{
	*label = -1;
	u->x.lset = NULL;
	u->x.nlset = 0;
	u->x.has_target = 0;
	if (u->problem == SIFT_PROBLEM_REGRESSION) {
		if (r->lset) {
			sift_warn("%s:%ld: a label list where a number is expected (--regression)",
				  file, r->line);
			return -1;
		}
		if (!r->label)
			return 0;
		char *end;
		errno = 0;
		double v = strtod(r->label, &end);
		if (end == r->label || *end) {
			sift_warn("%s:%ld: label '%s' is not a number (--regression)", file,
				  r->line, r->label);
			return -1;
		}
		if (!isfinite(v) || !isfinite((float)v)) {
			sift_warn("%s:%ld: label '%s' is not a finite number", file, r->line,
				  r->label);
			return -1;
		}
		u->x.has_target = 1;
		u->x.target = v;
		return 0;
	}
	if (u->problem == SIFT_PROBLEM_SINGLE) {
		if (r->lset) {
			sift_warn("%s:%ld: a label list where one label is expected (--multi-label)",
				  file, r->line);
			return -1;
		}
		if (r->label && r->label_real) {
			sift_warn("%s:%ld: label %s is a fraction where a class label is expected (--regression)",
				  file, r->line, r->label);
			return -1;
		}
		if (r->label && u->h.nlabels) {
			*label = sift_label_index(&u->h, r->label, strlen(r->label));
			if (*label < 0) {
				sift_warn("%s:%ld: label '%s' not in --labels", file, r->line, r->label);
				return -1;
			}
		}
		return 0;
	}
	if (!r->lset && !r->label)
		return 0;
	int n, own;
	char **names = label_names(r, u->o->label_sep ? u->o->label_sep : ",", &n, &own);
	if (n > u->lscap) {
		u->lscap = n * 2;
		u->lset = sift_xrealloc(u->lset, u->lscap * sizeof *u->lset);
	}
	int k = 0;
	for (int i = 0; i < n; i++) {
		int id = sift_label_index(&u->h, names[i], strlen(names[i]));
		if (id < 0) {
			sift_warn("%s:%ld: label '%s' not in --labels", file, r->line, names[i]);
			free_names(names, n, own);
			return -1;
		}
		u->lset[k++] = id;
	}
	free_names(names, n, own);
	/* ascending, each once (a label named twice is in the set once) */
	qsort(u->lset, k, sizeof *u->lset, cmpi32);
	int m = 0;
	for (int i = 0; i < k; i++)
		if (!m || u->lset[m - 1] != u->lset[i])
			u->lset[m++] = u->lset[i];
	u->x.lset = u->lset;
	u->x.nlset = m;
	return 0;
}

static int start(struct run *u, struct sift_tokenizer *tk)
{
	if (u->started)
		return 0;
	u->started = 1;
	u->h.vocab_size = tk->v.n;
	snprintf(u->h.vocab_hash, sizeof u->h.vocab_hash, "%016llx",
		 (unsigned long long)tk->v.hash);
	sift_tokex_init(&u->x, tk, !strcmp(u->h.task, "ner") ? SIFT_TASK_NER :
			!strcmp(u->h.task, "pair") ? SIFT_TASK_PAIR :
			u->mlm ? SIFT_TASK_MLM : SIFT_TASK_CLS, &u->h);
	if (u->o->max_len > 0 && u->o->max_len < u->x.max_len)
		u->x.max_len = u->o->max_len;
	if (u->o->stride >= 0)
		u->x.stride = u->o->stride;
	u->x.label_all = u->o->label_all;
	u->x.id0 = u->o->id_offset;
	u->x.group = u->mlm && u->o->group_texts;
	sift_pack_header(&u->w, &u->h, (u->mlm ? 3 : 1) + (u->problem != SIFT_PROBLEM_SINGLE));
	sift_pack_str(&u->w.pk, "pad_id");
	msgpack_pack_int(&u->w.pk, tk->v.pad >= 0 ? tk->v.pad : 0);
	if (u->problem != SIFT_PROBLEM_SINGLE) {
		sift_pack_str(&u->w.pk, "problem_type");
		sift_pack_str(&u->w.pk, sift_problem_name(u->problem));
	}
	if (u->mlm) {
		/* [MASK]; the tokens masking never chooses: those of HF's
		 * special_tokens_mask ([CLS], [SEP], padding), not [UNK] and
		 * not [MASK] (labels [] is the header's, as every mlm one) */
		sift_pack_str(&u->w.pk, "mask_id");
		msgpack_pack_int(&u->w.pk, tk->v.mask);
		int32_t sp[3];
		int ns = 0;
		const int cand[3] = { tk->v.cls, tk->v.sep, tk->v.pad };
		for (int i = 0; i < 3; i++) {
			int dup = cand[i] < 0;
			for (int j = 0; j < ns; j++)
				dup |= sp[j] == cand[i];
			if (!dup)
				sp[ns++] = cand[i];
		}
		sift_pack_str(&u->w.pk, "special_ids");
		sift_pack_i32s(&u->w.pk, sp, ns);
	}
	return sift_commit(&u->w);
}

/* one record: labels looked up, then written */
static int emit(struct run *u, const char *file, const char *src, struct sift_rec *r)
{
	u->x.time = r->time;
	u->x.topic = r->topic;
	if (u->nertask) {
		if (!r->words) {
			sift_warn("%s:%ld: a text where sentences of words were expected", file, r->line);
			return -1;
		}
		int *lab = NULL;
		if (r->tags && u->h.nlabels) {
			if (r->nw > u->labcap) {
				u->labcap = r->nw * 2;
				u->lab = sift_xrealloc(u->lab, u->labcap * sizeof *u->lab);
			}
			lab = u->lab;
			for (int i = 0; i < r->nw; i++) {
				lab[i] = sift_label_index(&u->h, r->tags[i], strlen(r->tags[i]));
				if (lab[i] < 0) {
					long line = u->o->in.fmt == SIFT_FMT_CONLL ? r->line + i : r->line;
					sift_warn("%s:%ld: label '%s' not in --labels", file, line, r->tags[i]);
					return -1;
				}
			}
		}
		return sift_tokex_ner(&u->x, &u->w, src, r->words, r->nw, lab, r->tags);
	}
	if (!r->text) {
		sift_warn("%s:%ld: a sentence of words where a text was expected", file, r->line);
		return -1;
	}
	if (u->mlm)
		return sift_tokex_mlm(&u->x, &u->w, src, r->text);	/* labels ignored */
	int label;
	if (text_label(u, file, r, &label) < 0)
		return -1;
	return sift_tokex_cls(&u->x, &u->w, src, r->text,
			      !strcmp(u->h.task, "pair") ? (r->text_b ? r->text_b : "") : NULL,
			      label);
}

static void prepare(struct run *u, struct sift_rec *r)
{
	if (u->o->iob1_to_iob2 && r->tags)
		sift_iob1_to_iob2(r->tags, r->nw);
}

int sift_tokrun(struct sift_tokenizer *tk, const struct sift_tokrun_opts *o,
		char **files, int nfiles, FILE *out)
{
	struct run u;
	memset(&u, 0, sizeof u);
	u.o = o;
	if (sift_writer_init(&u.w, out, "stdout", o->force) < 0)
		return SIFT_EXIT_USAGE;	/* a terminal: misuse, as everywhere */
	int status = SIFT_EXIT_OK;
	struct held *held = NULL;
	int nheld = 0, hcap = 0, fi = 0, streaming = 0;
	struct sift_textin *in = NULL;
	char **labels = NULL;
	int nl = 0, lcap = 0;
	char src[4200];
	struct sift_rec r;
	struct sift_textin_opts in_o = o->in;

	u.mlm = o->task && !strcmp(o->task, "mlm");
	if (u.mlm) {
		if (tk->v.mask < 0 || tk->v.cls < 0 || tk->v.sep < 0) {
			sift_warn("%s", "--task mlm: the vocabulary lacks [MASK], [CLS] or [SEP]");
			sift_writer_free(&u.w);
			return SIFT_EXIT_DATA;
		}
		if (o->max_len > tk->v.max_len) {
			sift_writer_free(&u.w);
			return sift_misuse("--max-length %d: over the model's limit of %d tokens",
					   o->max_len, tk->v.max_len);
		}
		/* no text at all is an empty stream; a blank line is a text of a
		 * group (run_mlm.py's datasets keep it: [CLS] [SEP]) */
		in_o.allow_empty = 1;
		in_o.keep_blank = o->group_texts;
	}

	if (o->labels) {
		sift_header_init(&u.h, "examples", "", "sift-tok " SIFT_VERSION);
		if (read_labels(o->labels, &u.h) < 0) {
			status = SIFT_EXIT_DATA;
			goto done;
		}
	}
	/* the first record settles the task; without --labels, labels in the
	 * data mean reading everything before the header */
	for (; fi < nfiles; fi++) {
		in = sift_textin_open(files[fi], &in_o);
		if (!in) {
			status = SIFT_EXIT_DATA;
			goto flush;
		}
		int k;
		while ((k = sift_textin_next(in, &r)) > 0) {
			prepare(&u, &r);
			if (nheld == 0) {
				const char *task = o->task ? o->task : r.words ? "ner" :
					r.text_b ? "pair" : "cls";
				char **keep = u.h.labels;
				int nk = u.h.nlabels;
				u.h.labels = NULL;
				u.h.nlabels = 0;
				sift_header_init(&u.h, "examples", task, "sift-tok " SIFT_VERSION);
				u.h.labels = keep;
				u.h.nlabels = nk;
				u.nertask = !strcmp(task, "ner");
				u.problem = u.nertask || u.mlm ? SIFT_PROBLEM_SINGLE :
					o->regression ? SIFT_PROBLEM_REGRESSION :
					o->multi_label || r.lset ? SIFT_PROBLEM_MULTI :
					SIFT_PROBLEM_SINGLE;
				if (u.problem == SIFT_PROBLEM_REGRESSION) {
					/* one output, as transformers' num_labels=1 */
					char *one[] = { "score" };
					sift_header_set_labels(&u.h, one, 1);
				}
				streaming = o->labels || !(r.tags || r.label || r.lset) || u.mlm ||
					u.problem == SIFT_PROBLEM_REGRESSION;
			}
			snprintf(src, sizeof src, "%s:%ld", sift_textin_name(in), r.line);
			if (streaming) {
				nheld = 1;
				if (start(&u, tk) < 0 || emit(&u, sift_textin_name(in), src, &r) < 0) {
					sift_rec_free(&r);
					status = SIFT_EXIT_DATA;
					goto flush;
				}
				sift_rec_free(&r);
				if (sift_textin_live(in) && sift_writer_flush(&u.w) < 0) {
					status = SIFT_EXIT_DATA;
					goto flush;
				}
				continue;
			}
			if (r.tags)
				for (int i = 0; i < r.nw; i++)
					addlabel(&labels, &nl, &lcap, r.tags[i]);
			if (r.label && u.problem == SIFT_PROBLEM_SINGLE)
				addlabel(&labels, &nl, &lcap, r.label);
			if ((r.label || r.lset) && u.problem == SIFT_PROBLEM_MULTI) {
				int n, own;
				char **names = label_names(&r, o->label_sep ? o->label_sep : ",",
							   &n, &own);
				for (int i = 0; i < n; i++)
					addlabel(&labels, &nl, &lcap, names[i]);
				free_names(names, n, own);
			}
			if (nheld == hcap) {
				hcap = hcap ? hcap * 2 : 1024;
				held = sift_xrealloc(held, hcap * sizeof *held);
			}
			held[nheld].r = r;
			held[nheld].src = sift_xstrdup(src);
			held[nheld].file = files[fi];
			nheld++;
		}
		if (k < 0) {
			status = SIFT_EXIT_DATA;
			goto flush;
		}
		sift_textin_close(in);
		in = NULL;
	}
	if (u.mlm && !u.started) {
		/* no text at all: the header alone */
		sift_header_init(&u.h, "examples", "mlm", "sift-tok " SIFT_VERSION);
		if (start(&u, tk) < 0)
			status = SIFT_EXIT_DATA;
	}
	/* the last group of texts, cut into blocks */
	if (u.mlm && status == SIFT_EXIT_OK && sift_tokex_mlm_end(&u.x, &u.w) < 0)
		status = SIFT_EXIT_DATA;
flush:
	/* held records (all of them, or those before an error) go out under
	 * a header with the labels seen */
	if (!streaming && nheld) {
		qsort(labels, nl, sizeof *labels, cmpstr);
		sift_header_set_labels(&u.h, labels, nl);
		int bad = start(&u, tk) < 0;
		for (int i = 0; i < nheld && !bad; i++) {
			char *sl = strrchr(held[i].src, ':');
			*sl = 0;
			const char *file = held[i].src;
			char full[4200];
			snprintf(full, sizeof full, "%s:%s", file, sl + 1);
			bad = emit(&u, file, full, &held[i].r) < 0;
			*sl = ':';
		}
		if (bad)
			status = SIFT_EXIT_DATA;
	}
done:
	for (int i = 0; i < nheld && held; i++) {
		sift_rec_free(&held[i].r);
		free(held[i].src);
	}
	free(held);
	for (int i = 0; i < nl; i++)
		free(labels[i]);
	free(labels);
	sift_textin_close(in);
	if (u.x.ntrunc)
		sift_warn("%ld of %ld texts truncated to %d tokens", u.x.ntrunc, u.x.ndoc,
			  u.x.max_len);
	if (u.x.ndrop)
		sift_warn("%ld tokens dropped: the short ends of groups of %d texts cut into "
			  "blocks of %d, as run_mlm.py drops them", u.x.ndrop, SIFT_GROUP_TEXTS,
			  u.x.max_len);
	/* a failed write was reported where it failed */
	if (u.started && !ferror(out) && sift_writer_close(&u.w) < 0 &&
	    status == SIFT_EXIT_OK)
		status = SIFT_EXIT_DATA;
	if (u.started)
		status = sift_writer_status(&u.w, status);
	if (u.started)
		sift_tokex_free(&u.x);
	sift_writer_free(&u.w);
	sift_header_free(&u.h);
	free(u.lab);
	free(u.lset);
	return status;
}
