/* mlmmask.h: the BERT masking rule of masked language modelling, seeded per example. */
#ifndef SIFT_MLMMASK_H
#define SIFT_MLMMASK_H

#include <stdint.h>

/*
 * The rule of transformers' DataCollatorForLanguageModeling: each token
 * whose id is not in special is chosen with probability p (a Bernoulli
 * per token, not an exact share); of the chosen, 80% become mask_id, 10%
 * a token id uniform in [0, vocab_size) (torch.randint(len(tokenizer)))
 * and 10% stay as they are; the labels are the original id at the chosen
 * positions and -100 elsewhere.  With whole_word, the Bernoulli is drawn
 * once per word (word_idx) and every token of a chosen word is chosen;
 * the 80/10/10 decision stays per token.
 *
 * Every draw is a pure function of (seed, epoch, example id, position):
 * the mask of an example does not depend on the batch it is in, on its
 * neighbours or on the order of the calls.
 */
struct sift_mlm {
	double p;		/* mlm_probability, 0 < p < 1 */
	int whole_word;
	uint64_t seed;
	int32_t mask_id;
	int64_t vocab_size;	/* > 0 */
	const int32_t *special;	/* ids never chosen ([CLS], [SEP], [PAD]) */
	int nspecial;
};

/* masks one example of T tokens: ids (T) in place become the model's
 * input, labels (T) are written; word (T) is the word of each token, -1
 * for none (needed with whole_word, else ignored; NULL: every token a word
 * of its own).  Returns the number of tokens chosen. */
int sift_mlm_mask(const struct sift_mlm *m, int epoch, int64_t id,
		  const int32_t *word, int32_t *ids, int32_t *labels, uint32_t T);

#endif
