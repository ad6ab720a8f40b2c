/* textin.h: reading labelled text in the common corpus formats (CoNLL columns, TSV/CSV, JSON lines, text@label, plain lines). */
#ifndef SIFT_TEXTIN_H
#define SIFT_TEXTIN_H

#include <stdio.h>

enum sift_textfmt {
	SIFT_FMT_LINES,		/* one text per line */
	SIFT_FMT_CONLL,		/* word columns, a blank line ends a sentence */
	SIFT_FMT_TSV,
	SIFT_FMT_CSV,		/* RFC 4180 */
	SIFT_FMT_JSONL,		/* {"text":..,"label":..}; span labels as CLUENER */
	SIFT_FMT_AT,		/* sentence@label, split at the last @ */
};

struct sift_textin_opts {
	enum sift_textfmt fmt;
	int latin1;		/* input is ISO-8859-1 */
	int header;		/* TSV/CSV: the first row names the columns */
	/* TSV/CSV columns, 1-based (0: none), or names with header */
	const char *text_col, *text_b_col, *label_col;
	/* TSV/CSV: time and topic columns, as text_col (NULL: the columns
	 * named "time" and "topic" of a header, if any) */
	const char *time_col, *topic_col;
	/* CoNLL: word and tag columns, 1-based; tag 0: none, -1: the last */
	int word_col, tag_col;
	/* CoNLL: drop the digits that end a word, never its first character
	 * (Weibo NER's "char + segmentation position" tokens) */
	int strip_word_digits;
	/* JSON lines keys */
	const char *text_key, *text_b_key, *label_key;
	/* JSON lines: time and topic keys (NULL: "time" and "topic" when a
	 * record has them; given: every record must have them) */
	const char *time_key, *topic_key;
	int words;		/* lines, jsonl: split texts into words (NER) */
	int chars;		/* lines, jsonl: split texts into characters (NER) */
	int keep_blank;		/* lines: a blank line is a text too (mlm groups) */
	int allow_empty;	/* no record at all is no error (mlm) */
};

/* one input record: a sentence of words (tags optional) or a text or pair */
struct sift_rec {
	long line;		/* where it starts, 1-based */
	int nw;
	char **words, **tags;	/* tags NULL when the input has none */
	char *text, *text_b, *label;	/* label NULL when absent */
	/* JSON lines: a label that is an array (multi-label), its nlset
	 * strings (numbers printed); lset NULL when the label is not one */
	char **lset;
	int nlset;
	int label_real;		/* JSON lines: the label was a fraction */
	char *time, *topic;	/* passed through; NULL when absent */
};

struct sift_textin;

/* path "-" is stdin; NULL with a diagnostic printed on error */
struct sift_textin *sift_textin_open(const char *path,
				     const struct sift_textin_opts *o);
void sift_textin_close(struct sift_textin *t);
/* 1 a record, 0 the end, -1 an error (printed: "prog: file:line: msg").
 * r belongs to the caller; sift_rec_free() it. */
int sift_textin_next(struct sift_textin *t, struct sift_rec *r);
void sift_rec_free(struct sift_rec *r);
/* the name used in diagnostics and in src ("stdin" for "-") */
const char *sift_textin_name(const struct sift_textin *t);
/* the input is a pipe or terminal: flush each record */
int sift_textin_live(const struct sift_textin *t);

#endif
