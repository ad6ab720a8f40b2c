/* conlleval.h: entity-level NER scores, counted the way conlleval.pl and seqeval count them. */
#ifndef SIFT_CONLLEVAL_H
#define SIFT_CONLLEVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Tags are strings "PREFIX-TYPE" ("B-PER", "I-LOC", "O").  Sentences are
 * added one at a time; chunks never cross a sentence.
 *
 * mode conlleval, scheme iob1 or iob2: exactly conlleval.pl (2004-01-26):
 *   the tag is split at its first hyphen, a chunk starts at B, at I after
 *   O, at E after E or I... and wherever the type changes; the correct
 *   count follows its state machine, token accuracy compares whole tags.
 *   IOB1 and IOB2 input are read the same way.
 * mode conlleval, scheme iobes: seqeval's default mode (its extension of
 *   the conlleval chunk rules to E- and S- tags), scored as sets.
 * mode strict, scheme iob2 or iobes: seqeval's strict mode
 *   (mode="strict", scheme=IOB2/IOBES): only well-formed entities count;
 *   a tag whose prefix the scheme does not allow is an error.
 */
enum sift_ner_scheme { SIFT_SCHEME_IOB1, SIFT_SCHEME_IOB2, SIFT_SCHEME_IOBES };
enum sift_ner_mode { SIFT_MODE_CONLLEVAL, SIFT_MODE_STRICT };

struct sift_ner_type {
	char *name;		/* entity type, "" for a tag without one */
	long gold;		/* phrases of this type in the gold tags */
	long pred;		/* phrases of this type predicted */
	long correct;		/* predicted phrases that match a gold one */
};

struct sift_ner_counts {
	enum sift_ner_scheme scheme;
	enum sift_ner_mode mode;
	long sentences;
	long tokens;		/* words scored */
	long correct_tags;	/* words whose predicted tag is the gold tag */
	long gold, pred, correct;	/* phrases, all types */
	int ntypes, cap;
	struct sift_ner_type *types;	/* sorted by name, bytewise */
	char err[160];		/* why the last call returned -1 */
};

/* "iob1" "iob2" "iobes" / "conlleval" "strict": 0, or -1 when unknown */
int sift_ner_parse_scheme(const char *s, enum sift_ner_scheme *out);
int sift_ner_parse_mode(const char *s, enum sift_ner_mode *out);
const char *sift_ner_scheme_name(enum sift_ner_scheme s);
const char *sift_ner_mode_name(enum sift_ner_mode m);
/* 0, or -1 when the combination is not supported (strict needs iob2 or
 * iobes), with c->err set */
int sift_ner_init(struct sift_ner_counts *c, enum sift_ner_scheme scheme,
		  enum sift_ner_mode mode);
void sift_ner_free(struct sift_ner_counts *c);

/* scores one sentence of n words: gold[i], pred[i] are the tags of word i.
 * 0, or -1 with c->err set (strict mode: a tag the scheme forbids); the
 * counts are unchanged on error. */
int sift_ner_add_sentence(struct sift_ner_counts *c, const char *const *gold,
			  const char *const *pred, size_t n);
/* the same with label ids into labels[0..nlabels-1]; an id out of range
 * (SIFT_IGNORE included) is an error */
int sift_ner_add_ids(struct sift_ner_counts *c, char *const *labels,
		     int nlabels, const int32_t *gold, const int32_t *pred,
		     size_t n);

/*
 * The windows of a sentence too long for the model (sift-tok's doc, win,
 * nwin, word0, keep) are merged before they are scored, so that no word
 * counts twice and no entity is cut at a window edge.  Windows of one doc
 * must come one after another.
 */
struct sift_ner_merge {
	int64_t doc;		/* the doc being merged, -1 when none */
	int64_t nwin, got;
	size_t n, cap;
	char **gold, **pred;	/* per word of the sentence; NULL: not yet */
};
void sift_ner_merge_init(struct sift_ner_merge *m);
void sift_ner_merge_free(struct sift_ner_merge *m);
/* the most words a merged sentence may have: word0 beyond it is refused */
#define SIFT_NER_MAX_WORDS (1 << 24)
/* 0 when a window may start at word word0 of its sentence (0 to
 * SIFT_NER_MAX_WORDS), else -1 with the reason in err: the one rule of
 * every reader that stitches windows (sift-eval, sift-fwd) */
int sift_ner_check_word0(int64_t word0, char *err, size_t nerr);
/* window of doc with nwin windows: tags[i] is word word0+i of the
 * sentence; it owns words [keep0,keep1) of the window.  1 when this
 * completed the sentence and it was scored into c, 0 while windows are
 * missing, -1 with c->err set (windows interleaved, a word kept twice or
 * by none, a tag the scheme forbids) */
int sift_ner_merge_add(struct sift_ner_merge *m, struct sift_ner_counts *c,
		       int64_t doc, int64_t nwin, int64_t word0, int64_t keep0,
		       int64_t keep1, const char *const *gold,
		       const char *const *pred, size_t n);
/* 0, or -1 with c->err set when a doc still waits for windows */
int sift_ner_merge_finish(struct sift_ner_merge *m, struct sift_ner_counts *c);

/* adds one type's counts, as read back from a metrics record */
void sift_ner_add_type(struct sift_ner_counts *c, const char *name,
		       long gold, long pred, long correct);

/* fractions in [0,1], computed as seqeval does (0 when undefined):
 * precision = correct/pred, recall = correct/gold, f1 = 2pr/(p+r) */
double sift_ner_precision(const struct sift_ner_counts *c);
double sift_ner_recall(const struct sift_ner_counts *c);
double sift_ner_f1(const struct sift_ner_counts *c);
double sift_ner_accuracy(const struct sift_ner_counts *c);
void sift_ner_type_prf(const struct sift_ner_type *t, double *p, double *r,
		       double *f1);

/* the entities of one tag sequence, read as c's scheme and mode read
 * it: *out gets a malloc'd array of [start,end) word spans; their count,
 * or -1 with c->err set */
struct sift_ner_span {
	size_t start, end;
	const char *type;	/* points into the tag it came from, not ended by NUL */
	size_t typelen;
};
long sift_ner_spans(struct sift_ner_counts *c, const char *const *tags,
		    size_t n, struct sift_ner_span **out);

/* conlleval.pl's report, line for line, from the counts */
void sift_ner_print_conlleval(FILE *f, const struct sift_ner_counts *c);

#endif
