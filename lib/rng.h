/* rng.h: the project's own random numbers, the same on every machine. */
#ifndef SIFT_RNG_H
#define SIFT_RNG_H

#include <stdint.h>

/* sequential generator (splitmix64): shuffles, initialisation */
struct sift_rng {
	uint64_t s;
};

void sift_rng_seed(struct sift_rng *r, uint64_t seed);
uint64_t sift_rng_next(struct sift_rng *r);
/* uniform in [0, n), without modulo bias; n > 0 */
uint32_t sift_rng_below(struct sift_rng *r, uint32_t n);
/* uniform in [0, 1) with 24 random bits */
float sift_rng_uniform(struct sift_rng *r);
/* standard normal (Box-Muller, one value per call) */
float sift_rng_normal(struct sift_rng *r);

/* counter-based: a pure function of (seed, counter), so that dropout masks
 * do not depend on thread scheduling or on the order of calls */
uint64_t sift_hash64(uint64_t seed, uint64_t counter);
/* uniform in [0, 1) from sift_hash64 */
float sift_hash_uniform(uint64_t seed, uint64_t counter);

#endif
