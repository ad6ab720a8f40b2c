/* test-conlleval.c: NER chunk counts and classification scores against numbers printed by conlleval.pl, seqeval and scikit-learn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "clsmetrics.h"
#include "conlleval.h"

/* the expected numbers below were printed by conlleval.pl (2004-01-26)
 * and seqeval 1.2.2 on the same tag sequences (tests/ref/make_eval_fixtures.py
 * checks the same rules on CoNLL-2003 at scale) */

struct counts {
	long tokens, correct_tags, gold, pred, correct;
};

static void score(struct sift_ner_counts *c, const char *const *gold,
		  const char *const *pred, size_t n)
{
	CHECK_EQ_INT(sift_ner_add_sentence(c, gold, pred, n), 0);
}

static void expect(const struct sift_ner_counts *c, struct counts e)
{
	CHECK_EQ_INT(c->tokens, e.tokens);
	CHECK_EQ_INT(c->correct_tags, e.correct_tags);
	CHECK_EQ_INT(c->gold, e.gold);
	CHECK_EQ_INT(c->pred, e.pred);
	CHECK_EQ_INT(c->correct, e.correct);
}

static const struct sift_ner_type *type(const struct sift_ner_counts *c,
					const char *name)
{
	for (int i = 0; i < c->ntypes; i++)
		if (!strcmp(c->types[i].name, name))
			return &c->types[i];
	return NULL;
}

static void two_sentences(void)
{
	struct sift_ner_counts c;
	const char *g1[] = { "B-PER", "I-PER" }, *p1[] = { "B-PER", "O" };
	const char *g2[] = { "B-LOC" }, *p2[] = { "B-LOC" };
	CHECK_EQ_INT(sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL), 0);
	score(&c, g1, p1, 2);
	score(&c, g2, p2, 1);
	expect(&c, (struct counts){ 3, 2, 2, 2, 1 });
	CHECK_CLOSE(sift_ner_f1(&c), 0.5, 0, 1e-15);
	CHECK_CLOSE(sift_ner_accuracy(&c), 0.66666666666666663, 0, 1e-15);
	CHECK_EQ_INT(c.ntypes, 2);
	CHECK_STR(c.types[0].name, "LOC");
	CHECK_STR(c.types[1].name, "PER");

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	sift_ner_print_conlleval(f, &c);
	fclose(f);
	CHECK_STR(buf,
		  "processed 3 tokens with 2 phrases; found: 2 phrases; correct: 1.\n"
		  "accuracy:  66.67%; precision:  50.00%; recall:  50.00%; FB1:  50.00\n"
		  "              LOC: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n"
		  "              PER: precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n");
	free(buf);
	sift_ner_free(&c);
}

/* IOB1: I- begins a chunk after O, B- only separates two of one type */
static void iob1_input(void)
{
	struct sift_ner_counts c;
	const char *g[] = { "I-PER", "I-PER", "B-PER", "O", "I-LOC" };
	const char *p[] = { "I-PER", "I-PER", "I-PER", "O", "B-LOC" };
	sift_ner_init(&c, SIFT_SCHEME_IOB1, SIFT_MODE_CONLLEVAL);
	score(&c, g, p, 5);
	expect(&c, (struct counts){ 5, 3, 3, 2, 1 });
	CHECK_EQ_INT(type(&c, "PER")->gold, 2);
	CHECK_EQ_INT(type(&c, "PER")->pred, 1);
	CHECK_EQ_INT(type(&c, "PER")->correct, 0);
	CHECK_EQ_INT(type(&c, "LOC")->correct, 1);
	CHECK_CLOSE(sift_ner_f1(&c), 0.40000000000000002, 0, 1e-15);
	sift_ner_free(&c);
}

/* a change of type starts a chunk whatever the prefix */
static void type_change(void)
{
	struct sift_ner_counts c;
	const char *g[] = { "I-LOC", "I-ORG", "O", "B-MISC", "I-MISC" };
	const char *p[] = { "B-LOC", "B-ORG", "O", "I-MISC", "I-MISC" };
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
	score(&c, g, p, 5);
	expect(&c, (struct counts){ 5, 2, 3, 3, 3 });
	sift_ner_free(&c);

	/* seqeval strict IOB2: an entity must begin with B- */
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_STRICT);
	score(&c, g, p, 5);
	expect(&c, (struct counts){ 5, 2, 1, 2, 0 });
	CHECK_CLOSE(sift_ner_f1(&c), 0.0, 0, 0);
	sift_ner_free(&c);
}

static void strict_iob2(void)
{
	struct sift_ner_counts c;
	const char *g[] = { "B-PER", "I-PER", "O", "B-LOC" };
	const char *p[] = { "I-PER", "I-PER", "O", "B-LOC" };
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
	score(&c, g, p, 4);
	CHECK_CLOSE(sift_ner_f1(&c), 1.0, 0, 0);
	sift_ner_free(&c);
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_STRICT);
	score(&c, g, p, 4);
	CHECK_CLOSE(sift_ner_precision(&c), 1.0, 0, 0);
	CHECK_CLOSE(sift_ner_recall(&c), 0.5, 0, 0);
	CHECK_CLOSE(sift_ner_f1(&c), 0.66666666666666663, 0, 1e-15);
	sift_ner_free(&c);
	/* IOBES strict on the same tags: no E-/S-, so no entity at all */
	sift_ner_init(&c, SIFT_SCHEME_IOBES, SIFT_MODE_STRICT);
	score(&c, g, p, 4);
	expect(&c, (struct counts){ 4, 3, 0, 0, 0 });
	sift_ner_free(&c);
}

static void iobes(void)
{
	struct sift_ner_counts c;
	const char *g[] = { "B-PER", "E-PER", "S-LOC", "O" };
	const char *p[] = { "B-PER", "I-PER", "S-LOC", "S-LOC" };
	/* seqeval default: p 0.66666666666666663 r 1 f1 0.8 */
	sift_ner_init(&c, SIFT_SCHEME_IOBES, SIFT_MODE_CONLLEVAL);
	score(&c, g, p, 4);
	expect(&c, (struct counts){ 4, 2, 2, 3, 2 });
	CHECK_CLOSE(sift_ner_f1(&c), 0.80000000000000004, 0, 1e-15);
	sift_ner_free(&c);
	/* seqeval strict IOBES: p 0.5 r 0.5 */
	sift_ner_init(&c, SIFT_SCHEME_IOBES, SIFT_MODE_STRICT);
	score(&c, g, p, 4);
	expect(&c, (struct counts){ 4, 2, 2, 2, 1 });
	sift_ner_free(&c);
	/* "Invalid token is found: E-PER. Allowed prefixes are: I|O|B." */
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_STRICT);
	CHECK_EQ_INT(sift_ner_add_sentence(&c, g, p, 4), -1);
	CHECK_STR(c.err, "tag 'E-PER' is not valid in iob2");
	CHECK_EQ_INT(c.tokens, 0);
	sift_ner_free(&c);
	CHECK_EQ_INT(sift_ner_init(&c, SIFT_SCHEME_IOB1, SIFT_MODE_STRICT), -1);
	sift_ner_free(&c);
}

static void by_ids(void)
{
	char *labels[] = { "O", "B-PER", "I-PER", "B-LOC" };
	int32_t g[] = { 1, 2, 0, 3 }, p[] = { 1, 0, 0, 3 }, bad[] = { 1, -100, 0, 3 };
	struct sift_ner_counts c;
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
	CHECK_EQ_INT(sift_ner_add_ids(&c, labels, 4, g, p, 4), 0);
	expect(&c, (struct counts){ 4, 3, 2, 2, 1 });
	CHECK_EQ_INT(sift_ner_add_ids(&c, labels, 4, g, bad, 4), -1);
	CHECK_EQ_INT(c.tokens, 4);
	sift_ner_free(&c);
}

/* two windows of one sentence, overlapping on words 2..4: merged, the
 * entity across the edge is one entity and no word counts twice */
static void windows(void)
{
	const char *g[] = { "O", "B-PER", "I-PER", "I-PER", "O", "B-LOC" };
	const char *p[] = { "O", "B-PER", "I-PER", "I-PER", "O", "O" };
	struct sift_ner_counts c, whole;
	struct sift_ner_merge m;
	sift_ner_init(&c, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
	sift_ner_init(&whole, SIFT_SCHEME_IOB2, SIFT_MODE_CONLLEVAL);
	sift_ner_merge_init(&m);
	/* window 0: words 0..4, owns 0..2; window 1: words 2..5, owns 3..5 */
	CHECK_EQ_INT(sift_ner_merge_add(&m, &c, 7, 2, 0, 0, 3, g, p, 5), 0);
	CHECK_EQ_INT(c.tokens, 0);
	CHECK_EQ_INT(sift_ner_merge_add(&m, &c, 7, 2, 2, 1, 4, g + 2, p + 2, 4), 1);
	CHECK_EQ_INT(sift_ner_merge_finish(&m, &c), 0);
	score(&whole, g, p, 6);
	expect(&c, (struct counts){ whole.tokens, whole.correct_tags, whole.gold,
				    whole.pred, whole.correct });
	CHECK_EQ_INT(c.tokens, 6);
	CHECK_EQ_INT(c.correct, 1);
	/* a word kept by both windows */
	CHECK_EQ_INT(sift_ner_merge_add(&m, &c, 8, 2, 0, 0, 3, g, p, 5), 0);
	CHECK_EQ_INT(sift_ner_merge_add(&m, &c, 8, 2, 2, 0, 4, g + 2, p + 2, 4), -1);
	CHECK_STR(c.err, "doc 8: word 2 is kept by two windows");
	sift_ner_merge_free(&m);
	/* another doc before the last window, and a doc left open */
	sift_ner_merge_init(&m);
	CHECK_EQ_INT(sift_ner_merge_add(&m, &c, 9, 3, 0, 0, 3, g, p, 5), 0);
	CHECK_EQ_INT(sift_ner_merge_finish(&m, &c), -1);
	CHECK_STR(c.err, "doc 9: only 1 of its 3 windows at the end");
	CHECK_EQ_INT(sift_ner_merge_add(&m, &c, 10, 2, 0, 0, 3, g, p, 5), -1);
	CHECK_STR(c.err, "doc 9: only 1 of its 3 windows came before doc 10");
	CHECK_EQ_INT(c.tokens, 6);
	sift_ner_merge_free(&m);
	sift_ner_free(&c);
	sift_ner_free(&whole);
}

/* sklearn 1.9.1 classification_report(output_dict=True, zero_division=0) on
 * y_true = a a a b b c, y_pred = a a b b c c */
static void classification(void)
{
	char *labels[] = { "a", "b", "c" };
	struct sift_cls_metrics m;
	sift_cls_init(&m, labels, 3);
	const char *g = "aaabbc", *p = "aabbcc";
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(sift_cls_add(&m, g[i] - 'a', p[i] - 'a'), 0);
	CHECK_EQ_INT(sift_cls_add(&m, 3, 0), -1);
	CHECK_CLOSE(sift_cls_accuracy(&m), 0.66666666666666663, 0, 1e-15);
	struct sift_prf a = sift_cls_class(&m, 0);
	CHECK_CLOSE(a.precision, 1.0, 0, 0);
	CHECK_CLOSE(a.recall, 0.66666666666666663, 0, 1e-15);
	CHECK_CLOSE(a.f1, 0.80000000000000004, 0, 1e-15);
	CHECK_EQ_INT(a.support, 3);
	struct sift_prf mac = sift_cls_average(&m, SIFT_AVG_MACRO);
	CHECK_CLOSE(mac.precision, 0.66666666666666663, 0, 1e-15);
	CHECK_CLOSE(mac.recall, 0.72222222222222221, 0, 1e-15);
	CHECK_CLOSE(mac.f1, 0.65555555555555556, 0, 1e-15);
	struct sift_prf w = sift_cls_average(&m, SIFT_AVG_WEIGHTED);
	CHECK_CLOSE(w.precision, 0.75, 0, 1e-15);
	CHECK_CLOSE(w.f1, 0.67777777777777792, 0, 1e-15);
	CHECK_CLOSE(sift_cls_average(&m, SIFT_AVG_MICRO).f1, 0.66666666666666663, 0, 1e-15);
	sift_cls_add_str(&m, "d", "a");
	CHECK_EQ_INT(m.n, 4);
	CHECK_EQ_INT(sift_cls_count(&m, 3, 0), 1);
	CHECK_EQ_INT(sift_cls_count(&m, 0, 0), 2);
	sift_cls_free(&m);
}

/* 2,000 labels met one at a time (sift-eval on a stream of new names):
 * the matrix grows geometrically, so it moves a few times, not once per
 * label (that copied it whole each time: O(L^3)) */
static void many_labels(void)
{
	struct sift_cls_metrics m;
	sift_cls_init(&m, NULL, 0);
	char g[16], p[16];
	int moves = 0;
	const long *conf = NULL;
	for (int i = 0; i < 1000; i++) {
		snprintf(g, sizeof g, "g%d", i);
		snprintf(p, sizeof p, "p%d", i);
		sift_cls_add_str(&m, g, i % 2 ? p : g);
		if (m.conf != conf)
			moves++;
		conf = m.conf;
	}
	CHECK_EQ_INT(m.n, 1500);
	CHECK(moves < 32);
	/* g998 is label 1497, g999 1498, p999 1499 */
	CHECK_EQ_INT(sift_cls_count(&m, 1497, 1497), 1);
	CHECK_EQ_INT(sift_cls_count(&m, 1498, 1498), 0);
	CHECK_EQ_INT(sift_cls_count(&m, 1498, 1499), 1);
	CHECK_CLOSE(sift_cls_accuracy(&m), 0.5, 0, 0);
	/* g even: f1 1 (500); g odd and p: f1 0 (1000) */
	CHECK_CLOSE(sift_cls_macro_f1(&m), 500.0 / 1500, 0, 1e-15);
	sift_cls_free(&m);
}

int main(void)
{
	two_sentences();
	iob1_input();
	type_change();
	strict_iob2();
	iobes();
	by_ids();
	windows();
	classification();
	many_labels();
	return check_done("test-conlleval");
}
