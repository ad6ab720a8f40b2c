/* wordpiece.h: WordPiece, greedy longest-match-first with "##" continuations, over a byte trie. */
#ifndef SIFT_WORDPIECE_H
#define SIFT_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

struct sift_wordpiece;

/* tok: n vocabulary entries, id = index (a later duplicate wins, as in
 * HF's dict); unk: the [UNK] id; max_chars: longer words become [UNK]
 * (HF: 100) */
struct sift_wordpiece *sift_wordpiece_new(char *const *tok, int n, int unk,
					  int max_chars);
void sift_wordpiece_free(struct sift_wordpiece *wp);

/* the id of a whole vocabulary entry, or -1 */
int sift_wordpiece_lookup(const struct sift_wordpiece *wp, const char *s,
			  size_t n);

/* tokenizes one normalized word w[0..n) of nchars characters: writes at
 * most cap ids to ids[] and the byte end of each piece in w to ends[]
 * (ends may be NULL).  Returns the number of pieces (1 for [UNK]), which
 * may exceed cap (then call again with more room). */
int sift_wordpiece_word(const struct sift_wordpiece *wp, const char *w,
			size_t n, int nchars, int32_t *ids, int32_t *ends,
			int cap);

#endif
