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
/* standard normal (Box-Muller, one value per call) */
float sift_rng_normal(struct sift_rng *r);

/* counter-based: a pure function of (seed, counter), so that dropout masks
 * do not depend on thread scheduling or on the order of calls */
uint64_t sift_hash64(uint64_t seed, uint64_t counter);
/* uniform in [0, 1) from sift_hash64 */
float sift_hash_uniform(uint64_t seed, uint64_t counter);

/* splitmix64's finaliser */
static inline uint64_t sift_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* sift_hash64 in two halves, for loops over counters (dropout masks):
 * the key once per seed, then one mix per counter, inline so that the
 * loop vectorises.  sift_hash64(s, c) == sift_hash64_keyed(sift_hash_key(s), c) */
static inline uint64_t sift_hash_key(uint64_t seed)
{
	return sift_mix64(seed + 0x9e3779b97f4a7c15ULL);
}

static inline uint64_t sift_hash64_keyed(uint64_t key, uint64_t counter)
{
	return sift_mix64(key ^ (counter * 0xd1b54a32d192ed03ULL));
}

/* whether element counter is dropped with probability p: exactly
 * sift_hash_uniform(seed, counter) < p, with key = sift_hash_key(seed) */
static inline int sift_hash_drop(uint64_t key, uint64_t counter, float p)
{
	return (float)(sift_hash64_keyed(key, counter) >> 40) * (1.0f / 16777216.0f) < p;
}

#endif
