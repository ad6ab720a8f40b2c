/* mlmmask.c: the BERT masking rule of masked language modelling, seeded per example. */
#include <stdlib.h>

#include "stream.h"	/* defines: SIFT_IGNORE */
#include "mlmmask.h"
#include "rng.h"	/* defines: sift_hash64, sift_hash_key, sift_hash64_keyed */

/* the draws of one token or word: three counters each */
enum { DRAW_CHOOSE, DRAW_REPLACE, DRAW_RANDOM, DRAWS };

/* uniform in [0, 1) from 53 bits, the same on every machine */
static double uniform(uint64_t key, uint64_t counter)
{
	return (double)(sift_hash64_keyed(key, counter) >> 11) * (1.0 / 9007199254740992.0);
}

static int is_special(const struct sift_mlm *m, int32_t id)
{
	for (int i = 0; i < m->nspecial; i++)
		if (m->special[i] == id)
			return 1;
	return 0;
}

int sift_mlm_mask(const struct sift_mlm *m, int epoch, int64_t id,
		  const int32_t *word, int32_t *ids, int32_t *labels, uint32_t T)
{
	/* the stream of (seed, epoch, example id) */
	uint64_t key = sift_hash_key(sift_hash64(sift_hash64(m->seed, (uint64_t)epoch),
						 (uint64_t)id));
	int n = 0;

	for (uint32_t t = 0; t < T; t++) {
		labels[t] = SIFT_IGNORE;
		if (is_special(m, ids[t]))
			continue;
		/* whole words draw once per word: the counter of the word */
		uint64_t unit = m->whole_word && word && word[t] >= 0 ? (uint64_t)word[t] : t;
		if (!(uniform(key, unit * DRAWS + DRAW_CHOOSE) < m->p))
			continue;
		labels[t] = ids[t];
		n++;
		/* the 80/10/10 decision, per token even in a whole word */
		double u = uniform(key, (uint64_t)t * DRAWS + DRAW_REPLACE);
		if (u < 0.8) {
			ids[t] = m->mask_id;
		} else if (u < 0.9) {
			uint64_t h = sift_hash64_keyed(key, (uint64_t)t * DRAWS + DRAW_RANDOM);
			ids[t] = (int32_t)(((unsigned __int128)h * (uint64_t)m->vocab_size) >> 64);
		}
	}
	return n;
}
