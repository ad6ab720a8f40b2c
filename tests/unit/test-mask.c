/* test-mask.c: unit tests of the MLM masking rule against its statistics. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mlmmask.h"
#include "rng.h"
#include "stream.h"	/* defines: SIFT_IGNORE */

#define V 30522
#define CLS 101
#define SEP 102
#define PAD 0
#define MASK 103

static const int32_t special[] = { CLS, SEP, PAD };

/* |k - n p| within 5 standard deviations of a binomial(n, p) */
static int binomial_ok(long k, long n, double p)
{
	return fabs((double)k - n * p) <= 5 * sqrt(n * p * (1 - p));
}

/* an example of T tokens: [CLS] ids [SEP], a [PAD] inside now and then
 * (never chosen), words of 1 to 4 tokens */
static void example(struct sift_rng *r, uint32_t T, int32_t *ids, int32_t *word)
{
	int32_t w = 0;
	uint32_t left = 0;
	for (uint32_t t = 0; t < T; t++) {
		if (t == 0 || t == T - 1) {
			ids[t] = t ? SEP : CLS;
			word[t] = -1;
			continue;
		}
		if (left == 0) {
			left = 1 + sift_rng_below(r, 4);
			w++;
		}
		left--;
		ids[t] = sift_rng_below(r, 50) == 0 ? PAD : 1000 + (int32_t)sift_rng_below(r, 29000);
		word[t] = ids[t] == PAD ? -1 : w - 1;
	}
}

struct tally {
	long n;		/* tokens that may be chosen */
	long chosen, masked, kept, random;
	long bad;	/* rule broken: special chosen, label wrong, id changed */
	long bins[10];	/* random ids by tenth of the vocabulary */
	long words, wchosen, split;
};

static void run(int whole, double p, long want, struct tally *s)
{
	struct sift_mlm m = { p, whole, 1234, MASK, V, special, 3 };
	struct sift_rng r;
	int32_t ids[160], orig[160], word[160], lab[160];
	memset(s, 0, sizeof *s);
	sift_rng_seed(&r, 99);
	for (int64_t id = 0; s->n < want; id++) {
		uint32_t T = 3 + sift_rng_below(&r, 150);
		example(&r, T, orig, word);
		memcpy(ids, orig, sizeof ids);
		int k = sift_mlm_mask(&m, 0, id, word, ids, lab, T);
		int got = 0;
		for (uint32_t t = 0; t < T; t++) {
			int sp = orig[t] == CLS || orig[t] == SEP || orig[t] == PAD;
			s->n += !sp;
			if (lab[t] == SIFT_IGNORE) {
				s->bad += ids[t] != orig[t];
				continue;
			}
			got++;
			s->chosen++;
			s->bad += sp || lab[t] != orig[t] || ids[t] < 0 || ids[t] >= V;
			if (ids[t] == MASK)
				s->masked++;
			else if (ids[t] == orig[t])
				s->kept++;
			else {
				s->random++;
				s->bins[(long)ids[t] * 10 / V]++;
			}
		}
		s->bad += got != k;
		/* words: all chosen or none */
		for (uint32_t t = 1; t + 1 < T; t++) {
			if (word[t] < 0 || (word[t - 1] == word[t]))
				continue;
			uint32_t e = t;
			int c = 0;
			while (e < T && word[e] == word[t])
				c += lab[e++] != SIFT_IGNORE;
			s->words++;
			s->wchosen += c > 0;
			s->split += c > 0 && c < (int)(e - t);
		}
	}
}

/* the share chosen and the 80/10/10 split, within binomial bounds, on
 * 200k tokens; a random id is any id of the vocabulary ([MASK] or the
 * original id among them, a chance of 1/V each, inside the bounds) */
static void test_token_rule(void)
{
	struct tally s;
	run(0, 0.15, 200000, &s);
	CHECK(s.n >= 200000);
	CHECK_EQ_INT(s.bad, 0);
	CHECK(binomial_ok(s.chosen, s.n, 0.15));
	CHECK(binomial_ok(s.masked, s.chosen, 0.8));
	CHECK(binomial_ok(s.kept, s.chosen, 0.1));
	CHECK(binomial_ok(s.random, s.chosen, 0.1));
	/* over the whole vocabulary, not the ids of the text (1000 up) */
	for (int b = 0; b < 10; b++)
		CHECK(binomial_ok(s.bins[b], s.random, 0.1));
	/* per token, words are split */
	CHECK(s.split > 0);

	run(0, 0.4, 200000, &s);
	CHECK_EQ_INT(s.bad, 0);
	CHECK(binomial_ok(s.chosen, s.n, 0.4));
	CHECK(binomial_ok(s.masked, s.chosen, 0.8));
}

/* whole words: every token of a word or none, a Bernoulli per word, the
 * 80/10/10 split still per token */
static void test_whole_word(void)
{
	struct tally s;
	run(1, 0.15, 200000, &s);
	CHECK_EQ_INT(s.bad, 0);
	CHECK_EQ_INT(s.split, 0);
	CHECK(binomial_ok(s.wchosen, s.words, 0.15));
	CHECK(binomial_ok(s.masked, s.chosen, 0.8));
	CHECK(binomial_ok(s.kept, s.chosen, 0.1));
	CHECK(binomial_ok(s.random, s.chosen, 0.1));
}

/* the mask is a function of (seed, epoch, id) alone: the same in any
 * order, another for another epoch, id or seed */
static void test_seeding(void)
{
	enum { T = 128, N = 50 };
	struct sift_mlm m = { 0.15, 0, 7, MASK, V, special, 3 };
	static int32_t orig[N][T], word[N][T], a[N][T], la[N][T], b[N][T], lb[N][T];
	struct sift_rng r;
	sift_rng_seed(&r, 5);
	for (int i = 0; i < N; i++)
		example(&r, T, orig[i], word[i]);
	for (int i = 0; i < N; i++) {
		memcpy(a[i], orig[i], sizeof a[i]);
		sift_mlm_mask(&m, 3, i, word[i], a[i], la[i], T);
	}
	for (int i = N - 1; i >= 0; i--) {
		memcpy(b[i], orig[i], sizeof b[i]);
		sift_mlm_mask(&m, 3, i, word[i], b[i], lb[i], T);
	}
	CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(la, lb, sizeof la) == 0);
	int other_epoch = 0, other_id = 0, other_seed = 0;
	for (int i = 0; i < N; i++) {
		memcpy(b[i], orig[i], sizeof b[i]);
		sift_mlm_mask(&m, 4, i, word[i], b[i], lb[i], T);
		other_epoch += memcmp(la[i], lb[i], sizeof la[i]) != 0;
		memcpy(b[i], orig[i], sizeof b[i]);
		sift_mlm_mask(&m, 3, i + N, word[i], b[i], lb[i], T);
		other_id += memcmp(la[i], lb[i], sizeof la[i]) != 0;
	}
	m.seed = 8;
	for (int i = 0; i < N; i++) {
		memcpy(b[i], orig[i], sizeof b[i]);
		sift_mlm_mask(&m, 3, i, word[i], b[i], lb[i], T);
		other_seed += memcmp(la[i], lb[i], sizeof la[i]) != 0;
	}
	/* 128 tokens at 0.15: two masks agree by chance almost never */
	CHECK_EQ_INT(other_epoch, N);
	CHECK_EQ_INT(other_id, N);
	CHECK_EQ_INT(other_seed, N);
}

/* an example of specials only has nothing to choose */
static void test_nothing_to_choose(void)
{
	struct sift_mlm m = { 0.99, 0, 1, MASK, V, special, 3 };
	int32_t ids[4] = { CLS, PAD, PAD, SEP }, lab[4];
	CHECK_EQ_INT(sift_mlm_mask(&m, 0, 0, NULL, ids, lab, 4), 0);
	CHECK(ids[0] == CLS && ids[1] == PAD && ids[3] == SEP);
	CHECK(lab[0] == SIFT_IGNORE && lab[1] == SIFT_IGNORE && lab[3] == SIFT_IGNORE);
}

int main(void)
{
	test_token_rule();
	test_whole_word();
	test_seeding();
	test_nothing_to_choose();
	printf("test-mask: %d passed, %d failed\n", check_pass, check_fail);
	return check_fail != 0;
}
