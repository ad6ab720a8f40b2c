/* basictok.h: BERT's basic tokenizer (clean, split CJK, strip accents, lower-case, split punctuation), as Hugging Face's BertNormalizer + BertPreTokenizer. */
#ifndef SIFT_BASICTOK_H
#define SIFT_BASICTOK_H

#include <stddef.h>
#include <stdint.h>

struct sift_basictok {
	int lower;		/* do_lower_case */
	int strip_accents;	/* NFD and drop Mn; HF: strip_accents, or lower when unset */
	int chinese;		/* tokenize_chinese_chars */
};

/* one pre-token: bytes [off, off+len) of the normalized buffer */
struct sift_bword {
	uint32_t off, len, nchars;
};

/* the normalized words of a text; reused between calls */
struct sift_bwords {
	char *buf;		/* normalized UTF-8 of all words, back to back */
	int32_t *src;		/* per byte of buf: code point index in the input */
	size_t len, cap;
	struct sift_bword *w;
	int n, wcap;
};

void sift_bwords_clear(struct sift_bwords *o);
void sift_bwords_free(struct sift_bwords *o);

/* appends the words of UTF-8 text s[0..n) to o; the code point indices
 * recorded in o->src start at cp0.  Returns the number of code points of
 * s, or -1 at invalid UTF-8 (*bad set to its byte offset). */
long sift_basictok(const struct sift_basictok *bt, const char *s, size_t n,
		   int32_t cp0, struct sift_bwords *o, size_t *bad);

/* 1 when code point c leaves no word open, whatever came before it (white
 * space, lone punctuation, a CJK ideograph): a text cut after it
 * tokenizes as its two halves do */
int sift_bt_ends_word(const struct sift_basictok *bt, int32_t c);

/* 1: ignore the table of HF's view of newer code points (lib/bertuni.h) */
extern int sift_bt_raw;

/* the character classes used above, for tests */
int sift_bt_is_punct(int32_t c);
int sift_bt_is_chinese(int32_t c);
int sift_bt_is_space(int32_t c);
int sift_bt_is_dropped(int32_t c);

#endif
