/* tokex.h: turns sentences and texts into tokenized example records ([CLS] ... [SEP], windows, labels) of a sift examples stream. */
#ifndef SIFT_TOKEX_H
#define SIFT_TOKEX_H

#include <stddef.h>
#include <stdint.h>

#include "basictok.h"
#include "stream.h"
#include "vocab.h"
#include "wordpiece.h"

/* a BertTokenizerFast: vocabulary, basic tokenizer, WordPiece */
struct sift_tokenizer {
	struct sift_vocab v;
	struct sift_basictok bt;
	struct sift_wordpiece *wp;
	struct sift_bwords bw;
	const char *spec[5];	/* special tokens matched in raw text */
	int specid[5];
	int nspec;
	unsigned char spec0[256];	/* 1 for the first byte of a special */
};

/* tokens: id, code point span in the text, word index */
struct sift_enc {
	int32_t *ids, *start, *end, *word;
	int n, cap;
};

int sift_tokenizer_open(struct sift_tokenizer *t, const char *dir, char *err,
			size_t errlen);
void sift_tokenizer_close(struct sift_tokenizer *t);
void sift_enc_free(struct sift_enc *e);
/* appends the tokens of UTF-8 text s[0..n) (offsets from cp0, word index
 * word) to e, without specials; returns the code points of s or -1 at
 * invalid UTF-8 */
long sift_encode(struct sift_tokenizer *t, const char *s, size_t n,
		 int32_t cp0, int32_t word, struct sift_enc *e);

enum sift_task { SIFT_TASK_NER, SIFT_TASK_CLS, SIFT_TASK_PAIR, SIFT_TASK_MLM };

/* run_mlm.py's group_texts works on the texts of one datasets.map batch:
 * its default batch size */
#define SIFT_GROUP_TEXTS 1000

struct sift_tokex {
	struct sift_tokenizer *tk;
	enum sift_task task;
	int max_len;		/* tokens per example, specials included */
	int stride;		/* NER windows: tokens of overlap */
	int label_all;		/* NER: label every sub-token */
	const struct sift_header *h;	/* labels */
	int *b_to_i;		/* label id -> its I- twin (label_all) */
	long nex;		/* examples written */
	long long id0;		/* --id-offset: the first id (and doc) */
	long ndoc;		/* sentences or texts seen */
	long ntrunc;		/* texts truncated */
	long nwin;		/* sentences split into windows */
	int group;		/* mlm: texts grouped into blocks of max_len */
	long ndrop;		/* mlm groups: tokens of the short ends dropped */
	/* time and topic of the next sentence or text (every window of it),
	 * passed through to predictions; NULL: none */
	const char *time, *topic;
	/* cls, pair: the label set of the next text (multi-label, lset
	 * non-NULL, nlset ids ascending) or its target (regression) */
	const int32_t *lset;
	int nlset;
	int has_target;
	double target;
	struct sift_enc e, e2;
	/* mlm groups: the tokens of the open group of texts, where each text
	 * begins in them and its src, and the next word's number */
	struct sift_enc g;
	int32_t gstart[SIFT_GROUP_TEXTS];
	char *gsrc[SIFT_GROUP_TEXTS];
	int ngtext;
	int32_t gword;
};

void sift_tokex_init(struct sift_tokex *x, struct sift_tokenizer *tk,
		     enum sift_task task, const struct sift_header *h);
void sift_tokex_free(struct sift_tokex *x);
/* one sentence of words; labels: label id per word (or NULL), gold: the
 * tags as read (or NULL).  Writes one example per window.  0 or -1. */
int sift_tokex_ner(struct sift_tokex *x, struct sift_writer *w,
		   const char *src, char *const *words, int nw,
		   const int *labels, char *const *gold);
/* one text or pair; label -1 for none.  0 or -1. */
int sift_tokex_cls(struct sift_tokex *x, struct sift_writer *w,
		   const char *src, const char *text, const char *text_b,
		   int label);
/* mlm: one text.  Alone: [CLS] text [SEP] truncated to max_len, an
 * empty or blank text skipped (run_mlm.py --line_by_line).  With group:
 * the text joins the open group, which is cut into blocks once it holds
 * SIFT_GROUP_TEXTS texts (see group_cut in tokex.c).  0 or -1. */
int sift_tokex_mlm(struct sift_tokex *x, struct sift_writer *w,
		   const char *src, const char *text);
/* mlm with group: cuts the open group into blocks (at the end of input) */
int sift_tokex_mlm_end(struct sift_tokex *x, struct sift_writer *w);

#endif
