/* basictok.c: BERT's basic tokenizer, character for character as Hugging Face tokenizers' BertNormalizer and BertPreTokenizer. */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "basictok.h"
#include "stream.h"	/* defines: sift_xrealloc */

int sift_bt_raw;

/* an empty table until tests/ref/make_tok_unicode.py has been run */
#if __has_include("bertuni.h")
#include "bertuni.h"	/* defines: sift_bt_excs, HF's view of newer code points */
#define NEXC (sizeof sift_bt_excs / sizeof sift_bt_excs[0])
#else
static const struct sift_bt_exc { int32_t cp; uint8_t mode, kind, n; int32_t c[3]; } *sift_bt_excs;
#define NEXC 0
#endif

static const struct sift_bt_exc *find_exc(int32_t c, int mode)
{
	size_t lo = 0, hi = NEXC;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct sift_bt_exc *e = &sift_bt_excs[mid];
		if (e->cp < c || (e->cp == c && e->mode < mode))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < NEXC && sift_bt_excs[lo].cp == c && sift_bt_excs[lo].mode == mode)
		return &sift_bt_excs[lo];
	return NULL;
}

/*
 * The order is HF's: clean text (drop NUL, U+FFFD and every C* code point
 * except \t \n \r; map White_Space to ' '), put spaces around CJK
 * ideographs, then (when stripping accents) NFD and drop Mn, then
 * lower-case (full mapping: U+0130 becomes "i" U+0307).  The pre-tokenizer
 * splits on white space and isolates each punctuation character (Unicode
 * P*, and every ASCII symbol in 33-47, 58-64, 91-96, 123-126).  Every
 * step is per character, so each output byte keeps the index of the input
 * code point it came from (the offsets).
 */

int sift_bt_is_chinese(int32_t c)
{
	/* the ranges of tokenizers' bert.rs, 0x2B920 (sic) included */
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
	       (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

int sift_bt_is_space(int32_t c)
{
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
		return 1;
	if (c < 0x80)
		return c == 0x0b || c == 0x0c;
	utf8proc_category_t k = utf8proc_category(c);
	return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL ||
	       k == UTF8PROC_CATEGORY_ZP || c == 0x85;
}

int sift_bt_is_dropped(int32_t c)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return 0;
	if (c == 0 || c == 0xFFFD)
		return 1;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
	case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
		return 1;	/* not Cn: HF keeps unassigned code points */
	default:
		return 0;
	}
}

int sift_bt_is_punct(int32_t c)
{
	if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
	    (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
		return 1;
	if (c < 0x80)
		return 0;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD:
	case UTF8PROC_CATEGORY_PS: case UTF8PROC_CATEGORY_PE:
	case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
	case UTF8PROC_CATEGORY_PO:
		return 1;
	default:
		return 0;
	}
}

void sift_bwords_clear(struct sift_bwords *o)
{
	o->len = 0;
	o->n = 0;
}

void sift_bwords_free(struct sift_bwords *o)
{
	free(o->buf);
	free(o->src);
	free(o->w);
	memset(o, 0, sizeof *o);
}

static void reserve(struct sift_bwords *o, size_t more)
{
	if (o->len + more <= o->cap)
		return;
	size_t cap = o->cap ? o->cap * 2 : 256;
	while (cap < o->len + more)
		cap *= 2;
	o->buf = sift_xrealloc(o->buf, cap);
	o->src = sift_xrealloc(o->src, cap * sizeof *o->src);
	o->cap = cap;
}

/* state of the word being built: open (1) or not (0) */
struct wstate {
	struct sift_bwords *o;
	int open;
};

static void word_end(struct wstate *st)
{
	st->open = 0;
}

static void put(struct wstate *st, int32_t c, int32_t src, int alone)
{
	struct sift_bwords *o = st->o;
	if (alone)
		st->open = 0;
	if (!st->open) {
		if (o->n == o->wcap) {
			o->wcap = o->wcap ? o->wcap * 2 : 64;
			o->w = sift_xrealloc(o->w, o->wcap * sizeof *o->w);
		}
		o->w[o->n++] = (struct sift_bword){ (uint32_t)o->len, 0, 0 };
		st->open = 1;
	}
	reserve(o, 4);
	utf8proc_ssize_t k;
	if (c < 0x80) {
		o->buf[o->len] = (char)c;
		k = 1;
	} else {
		k = utf8proc_encode_char(c, (utf8proc_uint8_t *)o->buf + o->len);
	}
	for (utf8proc_ssize_t i = 0; i < k; i++)
		o->src[o->len + i] = src;
	o->len += k;
	struct sift_bword *w = &o->w[o->n - 1];
	w->len += k;
	w->nchars++;
	if (alone)
		st->open = 0;
}

/* a normalized character: punctuation stands alone */
static void emit(struct wstate *st, int32_t c, int32_t src)
{
	if (sift_bt_is_punct(c))
		put(st, c, src, 1);
	else if (sift_bt_is_space(c))
		word_end(st);
	else
		put(st, c, src, 0);
}

int sift_bt_ends_word(const struct sift_basictok *bt, int32_t c)
{
	if (c < 0x80)	/* as the ASCII fast path below */
		return c == ' ' || c == '\t' || c == '\n' || c == '\r' || sift_bt_is_punct(c);
	int strip = bt->strip_accents;
	const struct sift_bt_exc *e = sift_bt_raw ? NULL : find_exc(c, (bt->lower ? 1 : 0) | (strip ? 2 : 0));
	if (e)
		return e->kind != 0;
	if (sift_bt_is_dropped(c))
		return 0;
	if (sift_bt_is_space(c) || (bt->chinese && sift_bt_is_chinese(c)))
		return 1;
	if (!sift_bt_is_punct(c) || c == 0x130 || (bt->lower && utf8proc_tolower(c) != c))
		return 0;
	if (strip) {
		utf8proc_int32_t d[32];
		int last = 0;
		if (utf8proc_decompose_char(c, d, 32, UTF8PROC_DECOMPOSE, &last) != 1 || d[0] != c)
			return 0;
	}
	return 1;	/* punctuation that stays itself stands alone */
}

long sift_basictok(const struct sift_basictok *bt, const char *s, size_t n,
		   int32_t cp0, struct sift_bwords *o, size_t *bad)
{
	struct wstate st = { o, 0 };
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;
	int32_t cp = cp0;
	int strip = bt->strip_accents;

	while (i < n) {
		int32_t c = p[i];
		if (c < 0x80) {
			/* the ASCII fast path: no decomposition, no accents */
			i++;
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
				word_end(&st);
			else if (c < 0x20 || c == 0x7f)
				;	/* NUL and C0 controls are dropped */
			else if (sift_bt_is_punct(c))
				put(&st, c, cp, 1);
			else
				put(&st, bt->lower && c >= 'A' && c <= 'Z' ? c + 32 : c, cp, 0);
			cp++;
			continue;
		}
		utf8proc_int32_t u;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &u);
		if (k < 0) {
			if (bad)
				*bad = i;
			return -1;
		}
		i += k;
		const struct sift_bt_exc *e = sift_bt_raw ? NULL : find_exc(u, (bt->lower ? 1 : 0) | (strip ? 2 : 0));
		if (e) {
			if (e->kind)
				word_end(&st);
			for (int j = 0; j < e->n; j++)
				put(&st, e->c[j], cp, 0);
			if (e->kind)
				word_end(&st);
			cp++;
			continue;
		}
		if (sift_bt_is_dropped(u)) {
			cp++;
			continue;
		}
		if (sift_bt_is_space(u)) {
			word_end(&st);
			cp++;
			continue;
		}
		int chinese = bt->chinese && sift_bt_is_chinese(u);
		if (chinese)
			word_end(&st);
		utf8proc_int32_t d[32];
		utf8proc_ssize_t nd = 1;
		d[0] = u;
		if (strip) {
			int last = 0;
			nd = utf8proc_decompose_char(u, d, 32, UTF8PROC_DECOMPOSE, &last);
			if (nd < 0 || nd > 32) {
				nd = 1;
				d[0] = u;
			}
		}
		for (utf8proc_ssize_t j = 0; j < nd; j++) {
			int32_t c2 = d[j];
			if (strip && utf8proc_category(c2) == UTF8PROC_CATEGORY_MN)
				continue;
			if (bt->lower) {
				if (c2 == 0x130) {
					emit(&st, 'i', cp);
					emit(&st, 0x307, cp);
					continue;
				}
				c2 = utf8proc_tolower(c2);
			}
			emit(&st, c2, cp);
		}
		if (chinese)
			word_end(&st);
		cp++;
	}
	return cp - cp0;
}
