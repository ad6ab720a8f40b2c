/* wordpiece.c: WordPiece tokenization over two byte tries, one for word-initial pieces and one for "##" continuations. */
#include <stdlib.h>
#include <string.h>

#include "stream.h"	/* defines: sift_xmalloc, sift_xrealloc */
#include "wordpiece.h"

/*
 * A trie node's children are a sorted run of edges in one array; the root
 * of each trie has a direct table of 256.  Matching walks the trie from
 * the current position and keeps the deepest node that ends a vocabulary
 * entry: greedy longest-match-first, as HF's WordPiece, without building
 * a substring per candidate.  A cache of whole words (most words repeat)
 * sits in front.
 */

struct node {
	int32_t id;		/* vocabulary id ending here, or -1 */
	uint32_t first;		/* index of the first edge */
	uint16_t nedge;
};

struct edge {
	uint8_t byte;
	uint32_t child;
};

/* a trie while it is being built: children as linked lists */
struct bnode {
	int32_t id;
	int32_t child, next;	/* first child, next sibling */
	uint8_t byte;
};

struct trie {
	struct node *nodes;
	struct edge *edges;
	uint32_t root[256];	/* child of the root per first byte, 0 = none */
	int32_t rootid;
};

struct cache_ent {
	uint64_t h;
	uint32_t off, n;	/* word bytes in cache text */
	uint32_t ids;		/* first id in cache ids; count in nid */
	int32_t nid;
};

struct sift_wordpiece {
	struct trie start, cont;
	int unk, max_chars;
	/* the word cache; not thread-safe, like the rest of a tokenizer */
	struct cache_ent *ce;
	size_t ncache;		/* slots, a power of 2 */
	char *ctext;
	size_t ctlen, ctcap;
	int32_t *cids, *cends;
	size_t cilen, cicap;
	size_t nused;
};

static int32_t bnew(struct bnode **b, int *n, int *cap, uint8_t byte)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*b = sift_xrealloc(*b, *cap * sizeof **b);
	}
	(*b)[*n] = (struct bnode){ -1, -1, -1, byte };
	return (*n)++;
}

static void binsert(struct bnode **b, int *n, int *cap, const char *s,
		    size_t len, int32_t id)
{
	int32_t cur = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];
		int32_t prev = -1, k = (*b)[cur].child;
		while (k >= 0 && (*b)[k].byte < c) {
			prev = k;
			k = (*b)[k].next;
		}
		if (k < 0 || (*b)[k].byte != c) {
			int32_t nk = bnew(b, n, cap, c);
			(*b)[nk].next = k;
			if (prev < 0)
				(*b)[cur].child = nk;
			else
				(*b)[prev].next = nk;
			k = nk;
		}
		cur = k;
	}
	(*b)[cur].id = id;
}

static void trie_build(struct trie *t, char *const *tok, int ntok, int cont)
{
	struct bnode *b = NULL;
	int n = 0, cap = 0;
	bnew(&b, &n, &cap, 0);
	for (int i = 0; i < ntok; i++) {
		const char *s = tok[i];
		size_t len = strlen(s);
		if (cont) {
			if (len < 2 || s[0] != '#' || s[1] != '#')
				continue;
			s += 2;
			len -= 2;
		}
		binsert(&b, &n, &cap, s, len, i);
	}
	/* flatten: breadth order is not needed, any order with contiguous
	 * sibling runs will do */
	t->nodes = sift_xmalloc(n * sizeof *t->nodes);
	t->edges = sift_xmalloc((n ? n : 1) * sizeof *t->edges);
	uint32_t ne = 0;
	for (int i = 0; i < n; i++) {
		t->nodes[i].id = b[i].id;
		t->nodes[i].first = ne;
		uint16_t k = 0;
		for (int32_t c = b[i].child; c >= 0; c = b[c].next) {
			t->edges[ne++] = (struct edge){ b[c].byte, (uint32_t)c };
			k++;
		}
		t->nodes[i].nedge = k;
	}
	memset(t->root, 0, sizeof t->root);
	for (uint16_t k = 0; k < t->nodes[0].nedge; k++) {
		struct edge *e = &t->edges[t->nodes[0].first + k];
		t->root[e->byte] = e->child;
	}
	t->rootid = b[0].id;
	free(b);
}

static inline uint32_t child(const struct trie *t, uint32_t nd, uint8_t c)
{
	const struct node *x = &t->nodes[nd];
	const struct edge *e = t->edges + x->first;
	for (uint16_t k = 0; k < x->nedge; k++) {
		if (e[k].byte == c)
			return e[k].child;
		if (e[k].byte > c)
			break;
	}
	return 0;
}

/* the longest entry of t that is a prefix of s[0..n): its id and length */
static int32_t longest(const struct trie *t, const uint8_t *s, size_t n,
		       size_t *mlen)
{
	int32_t best = -1;
	size_t blen = 0;
	if (n == 0)
		return -1;
	uint32_t nd = t->root[s[0]];
	size_t i = 1;
	while (nd) {
		if (t->nodes[nd].id >= 0) {
			best = t->nodes[nd].id;
			blen = i;
		}
		if (i == n)
			break;
		nd = child(t, nd, s[i]);
		i++;
	}
	*mlen = blen;
	return best;
}

struct sift_wordpiece *sift_wordpiece_new(char *const *tok, int n, int unk,
					  int max_chars)
{
	struct sift_wordpiece *wp = sift_xcalloc(1, sizeof *wp);
	trie_build(&wp->start, tok, n, 0);
	trie_build(&wp->cont, tok, n, 1);
	wp->unk = unk;
	wp->max_chars = max_chars;
	wp->ncache = 1 << 16;
	wp->ce = sift_xcalloc(wp->ncache, sizeof *wp->ce);
	return wp;
}

void sift_wordpiece_free(struct sift_wordpiece *wp)
{
	if (!wp)
		return;
	free(wp->start.nodes);
	free(wp->start.edges);
	free(wp->cont.nodes);
	free(wp->cont.edges);
	free(wp->ce);
	free(wp->ctext);
	free(wp->cids);
	free(wp->cends);
	free(wp);
}

int sift_wordpiece_lookup(const struct sift_wordpiece *wp, const char *s,
			  size_t n)
{
	const struct trie *t = &wp->start;
	if (n == 0)
		return t->rootid;
	uint32_t nd = t->root[(uint8_t)s[0]];
	for (size_t i = 1; nd && i < n; i++)
		nd = child(t, nd, (uint8_t)s[i]);
	return nd ? t->nodes[nd].id : -1;
}

/* the plain algorithm, no cache */
static int wp_run(const struct sift_wordpiece *wp, const char *w, size_t n,
		  int nchars, int32_t *ids, int32_t *ends, int cap)
{
	if (nchars > wp->max_chars) {
		if (cap > 0) {
			ids[0] = wp->unk;
			if (ends)
				ends[0] = (int32_t)n;
		}
		return 1;
	}
	const uint8_t *s = (const uint8_t *)w;
	size_t i = 0;
	int k = 0;
	while (i < n) {
		size_t m = 0;
		int32_t id = longest(i ? &wp->cont : &wp->start, s + i, n - i, &m);
		if (id < 0) {
			if (cap > 0) {
				ids[0] = wp->unk;
				if (ends)
					ends[0] = (int32_t)n;
			}
			return 1;
		}
		if (k < cap) {
			ids[k] = id;
			if (ends)
				ends[k] = (int32_t)(i + m);
		}
		k++;
		i += m;
	}
	return k;
}

static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

int sift_wordpiece_word(const struct sift_wordpiece *cwp, const char *w,
			size_t n, int nchars, int32_t *ids, int32_t *ends,
			int cap)
{
	struct sift_wordpiece *wp = (struct sift_wordpiece *)cwp;
	if (n > 64)
		return wp_run(wp, w, n, nchars, ids, ends, cap);
	uint64_t h = fnv(w, n);
	size_t slot = h & (wp->ncache - 1);
	struct cache_ent *e = &wp->ce[slot];
	if (e->nid > 0 && e->h == h && e->n == n &&
	    memcmp(wp->ctext + e->off, w, n) == 0) {
		if (e->nid <= cap) {
			memcpy(ids, wp->cids + e->ids, e->nid * sizeof *ids);
			if (ends)
				memcpy(ends, wp->cends + e->ids, e->nid * sizeof *ends);
		}
		return e->nid;
	}
	int32_t tmp[128];
	if (!ends && cap <= 128)
		ends = tmp;
	int k = wp_run(wp, w, n, nchars, ids, ends, cap);
	if (!ends)
		return k;
	if (k > cap || wp->nused > wp->ncache * 4)
		return k;
	/* remember it (an occupied slot is overwritten; the text and ids
	 * arrays only grow, bounded by the use count above) */
	if (wp->ctlen + n > wp->ctcap) {
		wp->ctcap = (wp->ctcap + n) * 2;
		wp->ctext = sift_xrealloc(wp->ctext, wp->ctcap);
	}
	if (wp->cilen + k > wp->cicap) {
		wp->cicap = (wp->cicap + k) * 2;
		wp->cids = sift_xrealloc(wp->cids, wp->cicap * sizeof *wp->cids);
		wp->cends = sift_xrealloc(wp->cends, wp->cicap * sizeof *wp->cends);
	}
	memcpy(wp->ctext + wp->ctlen, w, n);
	memcpy(wp->cids + wp->cilen, ids, k * sizeof *ids);
	memcpy(wp->cends + wp->cilen, ends, k * sizeof *ends);
	*e = (struct cache_ent){ h, (uint32_t)wp->ctlen, (uint32_t)n,
				 (uint32_t)wp->cilen, k };
	wp->ctlen += n;
	wp->cilen += k;
	wp->nused++;
	return k;
}
