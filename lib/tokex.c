/* tokex.c: tokenizes sentences and texts as BertTokenizerFast and writes them as example records, windows and labels included. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tokex.h"

/* the HF limit on word length (WordPiece max_input_chars_per_word) */
#define MAX_WORD_CHARS 100

int sift_tokenizer_open(struct sift_tokenizer *t, const char *dir, char *err,
			size_t errlen)
{
	memset(t, 0, sizeof *t);
	if (sift_vocab_load(&t->v, dir, err, errlen) < 0)
		return -1;
	t->bt.lower = t->v.lower;
	t->bt.strip_accents = t->v.strip_accents < 0 ? t->v.lower : t->v.strip_accents;
	t->bt.chinese = t->v.chinese;
	t->wp = sift_wordpiece_new(t->v.tok, t->v.n, t->v.unk, MAX_WORD_CHARS);
	/* the special tokens HF's added vocabulary finds in raw text */
	const char *s[5] = { t->v.pad_s, t->v.unk_s, t->v.cls_s, t->v.sep_s, t->v.mask_s };
	int id[5] = { t->v.pad, t->v.unk, t->v.cls, t->v.sep, t->v.mask };
	for (int i = 0; i < 5; i++)
		if (id[i] >= 0 && s[i][0]) {
			t->spec[t->nspec] = s[i];
			t->specid[t->nspec++] = id[i];
			t->spec0[(unsigned char)s[i][0]] = 1;
		}
	return 0;
}

void sift_tokenizer_close(struct sift_tokenizer *t)
{
	sift_wordpiece_free(t->wp);
	sift_bwords_free(&t->bw);
	sift_vocab_free(&t->v);
}

void sift_enc_free(struct sift_enc *e)
{
	free(e->ids);
	free(e->start);
	free(e->end);
	free(e->word);
	memset(e, 0, sizeof *e);
}

static void enc_reserve(struct sift_enc *e, int more)
{
	if (e->n + more <= e->cap)
		return;
	int cap = e->cap ? e->cap * 2 : 256;
	while (cap < e->n + more)
		cap *= 2;
	e->ids = sift_xrealloc(e->ids, cap * sizeof *e->ids);
	e->start = sift_xrealloc(e->start, cap * sizeof *e->start);
	e->end = sift_xrealloc(e->end, cap * sizeof *e->end);
	e->word = sift_xrealloc(e->word, cap * sizeof *e->word);
	e->cap = cap;
}

static void enc_push(struct sift_enc *e, int32_t id, int32_t s, int32_t en, int32_t w)
{
	enc_reserve(e, 1);
	e->ids[e->n] = id;
	e->start[e->n] = s;
	e->end[e->n] = en;
	e->word[e->n] = w;
	e->n++;
}

static int32_t ncp(const char *s, size_t n)
{
	int32_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

/* what to keep of a text's tokens: at most keep stored, counted in n
 * (all of them, or stopping at the first word that reaches stop) */
struct lim {
	long keep, stop, n;
	int32_t *wnext;	/* not NULL: each word its own index, *wnext the next */
};

/* a piece of about this many bytes at a time: bounded scratch memory */
#define PIECE 65536

/* the end of a piece of s[p..n) from about p + PIECE: after a character
 * where no word stays open, else the end of s */
static size_t piece_end(const struct sift_basictok *bt, const char *s, size_t p,
			size_t n)
{
	size_t i = p + PIECE;
	if (i >= n)
		return n;
	while (i > p && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;	/* the start of a character */
	while (i < n) {
		utf8proc_int32_t u;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
						      (utf8proc_ssize_t)(n - i), &u);
		if (k < 1)
			return n;	/* invalid UTF-8: one piece reports it */
		i += k;
		if (sift_bt_ends_word(bt, u))
			return i;
	}
	return n;
}

/* basic tokenizer + WordPiece over a text without special tokens, piece
 * by piece; returns its code points (those of the pieces read, when
 * stopped), or -1 at invalid UTF-8 */
static long encode_plain(struct sift_tokenizer *t, const char *s, size_t n,
			 int32_t cp0, int32_t word, struct sift_enc *e,
			 struct lim *lim)
{
	struct sift_bwords *bw = &t->bw;
	int32_t ids[MAX_WORD_CHARS + 8], ends[MAX_WORD_CHARS + 8];
	int32_t cp = cp0;
	for (size_t p = 0; p < n && lim->n < lim->stop;) {
		size_t q = piece_end(&t->bt, s, p, n);
		sift_bwords_clear(bw);
		long k = sift_basictok(&t->bt, s + p, q - p, cp, bw, NULL);
		if (k < 0)
			return -1;
		for (int i = 0; i < bw->n && lim->n < lim->stop; i++) {
			const struct sift_bword *w = &bw->w[i];
			int m = sift_wordpiece_word(t->wp, bw->buf + w->off, w->len, (int)w->nchars,
						    ids, ends, MAX_WORD_CHARS + 8);
			/* at most one piece per character, and words over the
			 * limit are one [UNK]: m fits */
			long room = lim->keep - lim->n;
			int keep = room <= 0 ? 0 : room < m ? (int)room : m;
			enc_reserve(e, keep);
			int32_t b = 0;
			for (int j = 0; j < keep; j++) {
				e->ids[e->n + j] = ids[j];
				e->start[e->n + j] = bw->src[w->off + b];
				e->end[e->n + j] = bw->src[w->off + ends[j] - 1] + 1;
				e->word[e->n + j] = lim->wnext ? *lim->wnext : word;
				b = ends[j];
			}
			e->n += keep;
			lim->n += m;
			if (lim->wnext)
				(*lim->wnext)++;
		}
		cp += (int32_t)k;
		p = q;
	}
	return cp - cp0;
}

/* sift_encode, keeping what lim says */
static long encode(struct sift_tokenizer *t, const char *s, size_t n,
		   int32_t cp0, int32_t word, struct sift_enc *e, struct lim *lim)
{
	size_t seg = 0;
	int32_t cp = cp0;
	for (size_t i = 0; i < n && lim->n < lim->stop; i++) {
		if (!t->spec0[(unsigned char)s[i]])
			continue;
		int best = -1;
		size_t blen = 0;
		for (int j = 0; j < t->nspec; j++) {
			size_t l = strlen(t->spec[j]);
			if (l > blen && l <= n - i && memcmp(s + i, t->spec[j], l) == 0) {
				best = j;
				blen = l;
			}
		}
		if (best < 0)
			continue;
		long k = encode_plain(t, s + seg, i - seg, cp, word, e, lim);
		if (k < 0)
			return -1;
		cp += (int32_t)k;
		int32_t kl = ncp(s + i, blen);
		if (lim->n < lim->keep)
			enc_push(e, t->specid[best], cp, cp + kl,
				 lim->wnext ? *lim->wnext : word);
		if (lim->wnext)
			(*lim->wnext)++;
		lim->n++;
		cp += kl;
		i += blen - 1;
		seg = i + 1;
	}
	long k = lim->n < lim->stop ? encode_plain(t, s + seg, n - seg, cp, word, e, lim) : 0;
	if (k < 0)
		return -1;
	return cp + k - cp0;
}

long sift_encode(struct sift_tokenizer *t, const char *s, size_t n,
		 int32_t cp0, int32_t word, struct sift_enc *e)
{
	struct lim lim = { LONG_MAX, LONG_MAX, 0, NULL };
	return encode(t, s, n, cp0, word, e, &lim);
}

void sift_tokex_init(struct sift_tokex *x, struct sift_tokenizer *tk,
		     enum sift_task task, const struct sift_header *h)
{
	memset(x, 0, sizeof *x);
	x->tk = tk;
	x->task = task;
	x->max_len = tk->v.max_len;
	x->stride = 128;
	x->h = h;
	/* B-X -> I-X where the I- label exists (run_ner's b_to_i_label) */
	int nl = h ? h->nlabels : 0;
	x->b_to_i = sift_xmalloc((nl ? nl : 1) * sizeof *x->b_to_i);
	for (int i = 0; i < nl; i++) {
		x->b_to_i[i] = i;
		const char *l = h->labels[i];
		if (strncmp(l, "B-", 2) == 0) {
			char *il = sift_xstrdup(l);
			il[0] = 'I';
			int j = sift_label_index(h, il, strlen(il));
			if (j >= 0)
				x->b_to_i[i] = j;
			free(il);
		}
	}
}

void sift_tokex_free(struct sift_tokex *x)
{
	free(x->b_to_i);
	sift_enc_free(&x->e);
	sift_enc_free(&x->e2);
	sift_enc_free(&x->g);
	for (int i = 0; i < x->ngtext; i++)
		free(x->gsrc[i]);
}

static void pack_key(msgpack_packer *pk, const char *k)
{
	sift_pack_str(pk, k);
}

/* the pass-through keys: how many, then packed */
static int npass(const struct sift_tokex *x)
{
	return (x->time != NULL) + (x->topic != NULL);
}

static void pack_pass(const struct sift_tokex *x, msgpack_packer *pk)
{
	if (x->time) {
		pack_key(pk, "time");
		sift_pack_str(pk, x->time);
	}
	if (x->topic) {
		pack_key(pk, "topic");
		sift_pack_str(pk, x->topic);
	}
}

/* one window [a, b) of the words; tokens [ta, tb) of x->e */
static int write_window(struct sift_tokex *x, struct sift_writer *w,
			const char *src, char *const *words, const int *labels,
			char *const *gold, const int32_t *wcp, int a, int b,
			int ta, int tb, int win, int nwin, int keep0, int keep1)
{
	struct sift_enc *e = &x->e;
	int T = tb - ta + 2;
	int32_t *ids = sift_xmalloc(T * sizeof *ids);
	int32_t *off = sift_xmalloc(2 * T * sizeof *off);
	int32_t *widx = sift_xmalloc(T * sizeof *widx);
	int32_t *lab = labels ? sift_xmalloc(T * sizeof *lab) : NULL;
	int32_t base = wcp[a];
	ids[0] = x->tk->v.cls;
	ids[T - 1] = x->tk->v.sep;
	off[0] = off[1] = off[2 * T - 2] = off[2 * T - 1] = -1;
	widx[0] = widx[T - 1] = -1;
	if (lab)
		lab[0] = lab[T - 1] = SIFT_IGNORE;
	int prev = -1;
	for (int i = ta; i < tb; i++) {
		int k = i - ta + 1;
		ids[k] = e->ids[i];
		off[2 * k] = e->start[i] - base;
		off[2 * k + 1] = e->end[i] - base;
		widx[k] = e->word[i] - a;
		if (lab) {
			int l = labels[e->word[i]];
			if (l < 0)
				lab[k] = SIFT_IGNORE;
			else if (e->word[i] != prev)
				lab[k] = l;
			else
				lab[k] = x->label_all ? x->b_to_i[l] : SIFT_IGNORE;
		}
		prev = e->word[i];
	}
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 11 + (lab != NULL) + (gold != NULL) + npass(x));
	pack_key(pk, "id");
	msgpack_pack_int64(pk, x->id0 + x->nex);
	pack_key(pk, "src");
	sift_pack_str(pk, src);
	pack_key(pk, "ids");
	sift_pack_i32s(pk, ids, T);
	pack_key(pk, "offsets");
	sift_pack_i32s(pk, off, 2 * T);
	pack_key(pk, "words");
	msgpack_pack_array(pk, b - a);
	for (int i = a; i < b; i++)
		sift_pack_str(pk, words[i]);
	pack_key(pk, "word_idx");
	sift_pack_i32s(pk, widx, T);
	if (lab) {
		pack_key(pk, "labels");
		sift_pack_i32s(pk, lab, T);
	}
	pack_key(pk, "doc");
	msgpack_pack_int64(pk, x->id0 + x->ndoc);
	pack_key(pk, "win");
	msgpack_pack_int(pk, win);
	pack_key(pk, "nwin");
	msgpack_pack_int(pk, nwin);
	pack_key(pk, "word0");
	msgpack_pack_int(pk, a);
	pack_key(pk, "keep");
	int32_t kp[2] = { keep0 - a, keep1 - a };
	sift_pack_i32s(pk, kp, 2);
	if (gold) {
		pack_key(pk, "gold");
		msgpack_pack_array(pk, b - a);
		for (int i = a; i < b; i++)
			sift_pack_str(pk, gold[i]);
	}
	pack_pass(x, pk);
	free(ids);
	free(off);
	free(widx);
	free(lab);
	x->nex++;
	return sift_commit(w);
}

int sift_tokex_ner(struct sift_tokex *x, struct sift_writer *w,
		   const char *src, char *const *words, int nw,
		   const int *labels, char *const *gold)
{
	struct sift_enc *e = &x->e;
	e->n = 0;
	int32_t *wcp = sift_xmalloc((nw + 1) * sizeof *wcp);	/* code point of each word */
	int32_t *wt = sift_xmalloc((nw + 1) * sizeof *wt);	/* first token of each word */
	int32_t cp = 0;
	for (int i = 0; i < nw; i++) {
		wcp[i] = cp;
		wt[i] = e->n;
		long k = sift_encode(x->tk, words[i], strlen(words[i]), cp, i, e);
		cp += (int32_t)k + 1;
	}
	wcp[nw] = cp;
	wt[nw] = e->n;
	int cap = x->max_len - 2;
	int rc = 0;
	if (e->n <= cap) {
		rc = write_window(x, w, src, words, labels, gold, wcp, 0, nw, 0, e->n,
				  0, 1, 0, nw);
	} else {
		/* overlapping windows of whole words, about stride tokens shared */
		int nwn = 0, wcap = 8;
		int *ws = sift_xmalloc(wcap * sizeof *ws), *we = sift_xmalloc(wcap * sizeof *we);
		int s = 0;
		for (;;) {
			int en = s;
			while (en < nw && wt[en + 1] - wt[s] <= cap)
				en++;
			if (en == s)
				en = s + 1;	/* a word longer than a window */
			if (nwn == wcap) {
				wcap *= 2;
				ws = sift_xrealloc(ws, wcap * sizeof *ws);
				we = sift_xrealloc(we, wcap * sizeof *we);
			}
			ws[nwn] = s;
			we[nwn++] = en;
			if (en >= nw)
				break;
			int ns = en;
			while (ns - 1 > s && wt[en] - wt[ns - 1] <= x->stride)
				ns--;
			s = ns;
		}
		for (int k = 0; k < nwn && rc == 0; k++) {
			int k0 = k == 0 ? ws[k] : (ws[k] + we[k - 1]) / 2;
			int k1 = k == nwn - 1 ? we[k] : (ws[k + 1] + we[k]) / 2;
			int ta = wt[ws[k]], tb = wt[we[k]];
			if (tb - ta > cap)
				tb = ta + cap;
			rc = write_window(x, w, src, words, labels, gold, wcp, ws[k], we[k],
					  ta, tb, k, nwn, k0, k1);
		}
		free(ws);
		free(we);
		x->nwin++;
	}
	free(wcp);
	free(wt);
	x->ndoc++;
	return rc;
}

/* HF's longest_first: the budget m split between sequences of n1, n2 */
static void longest_first(int m, int *n1, int *n2)
{
	if (*n1 + *n2 <= m)
		return;
	int a = *n1, b = *n2, swap = 0;
	if (a > b) {
		int t = a;
		a = b;
		b = t;
		swap = 1;
	}
	if (a > m)
		b = a;
	else
		b = b < m - a ? b : (m - a > a ? m - a : a);
	if (a + b > m) {
		a = m / 2;
		b = a + m % 2;
	}
	if (swap) {
		int t = a;
		a = b;
		b = t;
	}
	*n1 = a;
	*n2 = b;
}

int sift_tokex_cls(struct sift_tokex *x, struct sift_writer *w,
		   const char *src, const char *text, const char *text_b,
		   int label)
{
	struct sift_enc *e = &x->e, *f = &x->e2;
	e->n = f->n = 0;
	int m = x->max_len - (text_b ? 3 : 2);
	/* what the truncation needs, not the whole text: m tokens a side
	 * stored, and counted to past m (the side is cut).  longest_first
	 * gives an odd m's extra token to the longer side, so a pair there
	 * counts both sides whole (in the same bounded memory) */
	long stop = text_b && m % 2 ? LONG_MAX : m + 1;
	struct lim l1 = { m, stop, 0, NULL }, l2 = { m, stop, 0, NULL };
	encode(x->tk, text, strlen(text), 0, 0, e, &l1);
	if (text_b)
		encode(x->tk, text_b, strlen(text_b), 0, 1, f, &l2);
	/* counts past INT_MAX are cut at the same m */
	int n1 = l1.n > INT_MAX / 2 ? INT_MAX / 2 : (int)l1.n;
	int n2 = l2.n > INT_MAX / 2 ? INT_MAX / 2 : (int)l2.n;
	if (text_b)
		longest_first(m, &n1, &n2);
	else if (n1 > m)
		n1 = m;
	if (n1 < l1.n || n2 < l2.n)
		x->ntrunc++;
	int T = n1 + 2 + (text_b ? n2 + 1 : 0);
	int32_t *ids = sift_xmalloc(T * sizeof *ids);
	int32_t *tt = sift_xcalloc(T, sizeof *tt);
	int32_t *off = sift_xmalloc(2 * T * sizeof *off);
	int k = 0;
	ids[k] = x->tk->v.cls;
	off[2 * k] = off[2 * k + 1] = -1;
	k++;
	for (int i = 0; i < n1; i++, k++) {
		ids[k] = e->ids[i];
		off[2 * k] = e->start[i];
		off[2 * k + 1] = e->end[i];
	}
	ids[k] = x->tk->v.sep;
	off[2 * k] = off[2 * k + 1] = -1;
	k++;
	if (text_b) {
		for (int i = 0; i < n2; i++, k++) {
			ids[k] = f->ids[i];
			tt[k] = 1;
			off[2 * k] = f->start[i];
			off[2 * k + 1] = f->end[i];
		}
		ids[k] = x->tk->v.sep;
		tt[k] = 1;
		off[2 * k] = off[2 * k + 1] = -1;
		k++;
	}
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 5 + (text_b ? 2 : 0) + (label >= 0) + npass(x) +
			 (x->lset != NULL) + x->has_target);
	pack_key(pk, "id");
	msgpack_pack_int64(pk, x->id0 + x->nex);
	pack_key(pk, "src");
	sift_pack_str(pk, src);
	pack_key(pk, "ids");
	sift_pack_i32s(pk, ids, T);
	if (text_b) {
		pack_key(pk, "type_ids");
		sift_pack_i32s(pk, tt, T);
	}
	pack_key(pk, "offsets");
	sift_pack_i32s(pk, off, 2 * T);
	pack_key(pk, "text");
	sift_pack_str(pk, text);
	if (text_b) {
		pack_key(pk, "text_b");
		sift_pack_str(pk, text_b);
	}
	if (label >= 0) {
		pack_key(pk, "label");
		msgpack_pack_int(pk, label);
	}
	if (x->lset) {
		pack_key(pk, "label_set");
		sift_pack_i32s(pk, x->lset, x->nlset);
	}
	if (x->has_target) {
		pack_key(pk, "target");
		msgpack_pack_double(pk, x->target);
	}
	pack_pass(x, pk);
	free(ids);
	free(tt);
	free(off);
	x->nex++;
	x->ndoc++;
	return sift_commit(w);
}

/* whether Python's str.isspace() holds for s (run_mlm.py --line_by_line
 * drops such lines, and empty ones) */
static int py_blank(const char *s)
{
	static const int32_t ws[] = {
		0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0,
		0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
		0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
	};
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	while (*p) {
		utf8proc_int32_t u;
		utf8proc_ssize_t k = utf8proc_iterate(p, -1, &u);
		if (k < 1)
			return 0;
		size_t i = 0;
		while (i < sizeof ws / sizeof *ws && ws[i] != u)
			i++;
		if (i == sizeof ws / sizeof *ws)
			return 0;
		p += k;
	}
	return 1;
}

/* one mlm example: tokens [a, b) of e, word numbers less w0 (-1 stays) */
static int write_mlm(struct sift_tokex *x, struct sift_writer *w, const char *src,
		     const char *text, const struct sift_enc *e, int a, int b,
		     int32_t w0)
{
	int T = b - a;
	int32_t *off = sift_xmalloc(2 * T * sizeof *off);
	int32_t *widx = sift_xmalloc(T * sizeof *widx);
	for (int i = 0; i < T; i++) {
		off[2 * i] = e->start[a + i];
		off[2 * i + 1] = e->end[a + i];
		widx[i] = e->word[a + i] < 0 ? -1 : e->word[a + i] - w0;
	}
	msgpack_packer *pk = &w->pk;
	msgpack_pack_map(pk, 5 + (text != NULL) + npass(x));
	pack_key(pk, "id");
	msgpack_pack_int64(pk, x->id0 + x->nex);
	pack_key(pk, "src");
	sift_pack_str(pk, src);
	pack_key(pk, "ids");
	sift_pack_i32s(pk, e->ids + a, T);
	pack_key(pk, "offsets");
	sift_pack_i32s(pk, off, 2 * T);
	if (text) {
		pack_key(pk, "text");
		sift_pack_str(pk, text);
	}
	pack_key(pk, "word_idx");
	sift_pack_i32s(pk, widx, T);
	pack_pass(x, pk);
	free(off);
	free(widx);
	x->nex++;
	return sift_commit(w);
}

/*
 * run_mlm.py's group_texts: the texts of a group, each as the tokenizer
 * gives it ([CLS] text [SEP], never truncated), one after another, cut
 * into blocks of max_len tokens; the short end is dropped, unless the
 * group is shorter than one block: then it is one short block.  A block
 * begins and ends wherever the cut falls, [CLS] and [SEP] of the texts
 * inside it.
 */
static int group_cut(struct sift_tokex *x, struct sift_writer *w)
{
	struct sift_enc *g = &x->g;
	int L = x->max_len, nb = g->n / L, rc = 0, k = 0;
	if (nb == 0 && g->n > 0) {
		nb = 1;
		L = g->n;
	}
	/* a block is of many texts: no text's time and topic */
	const char *time = x->time, *topic = x->topic;
	x->time = x->topic = NULL;
	for (int b = 0; b < nb && rc == 0; b++) {
		int a = b * L;
		while (k + 1 < x->ngtext && x->gstart[k + 1] <= a)
			k++;	/* the text of the block's first token */
		int32_t w0 = 0;
		for (int i = a; i < a + L; i++)
			if (g->word[i] >= 0) {
				w0 = g->word[i];
				break;
			}
		rc = write_mlm(x, w, x->gsrc[k], NULL, g, a, a + L, w0);
	}
	x->time = time;
	x->topic = topic;
	x->ndrop += g->n - (long)nb * L;
	g->n = 0;
	for (int i = 0; i < x->ngtext; i++)
		free(x->gsrc[i]);
	x->ngtext = 0;
	x->gword = 0;
	return rc;
}

int sift_tokex_mlm(struct sift_tokex *x, struct sift_writer *w,
		   const char *src, const char *text)
{
	struct sift_tokenizer *tk = x->tk;
	if (x->group) {
		struct sift_enc *g = &x->g;
		struct lim lim = { LONG_MAX, LONG_MAX, 0, &x->gword };
		x->gstart[x->ngtext] = g->n;
		x->gsrc[x->ngtext++] = sift_xstrdup(src);
		enc_push(g, tk->v.cls, -1, -1, -1);
		encode(tk, text, strlen(text), 0, 0, g, &lim);
		enc_push(g, tk->v.sep, -1, -1, -1);
		x->ndoc++;
		return x->ngtext == SIFT_GROUP_TEXTS ? group_cut(x, w) : 0;
	}
	if (py_blank(text))
		return 0;
	struct sift_enc *e = &x->e;
	int m = x->max_len - 2;
	int32_t word = 0;
	struct lim lim = { m, m + 1, 0, &word };
	e->n = 0;
	enc_push(e, tk->v.cls, -1, -1, -1);	/* lim counts the text's tokens only */
	encode(tk, text, strlen(text), 0, 0, e, &lim);
	if (lim.n > m)
		x->ntrunc++;
	enc_push(e, tk->v.sep, -1, -1, -1);
	x->ndoc++;
	return write_mlm(x, w, src, text, e, 0, e->n, 0);
}

int sift_tokex_mlm_end(struct sift_tokex *x, struct sift_writer *w)
{
	return x->group && x->ngtext ? group_cut(x, w) : 0;
}
