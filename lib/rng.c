/* rng.c: splitmix64 streams and a counter-based hash for seeded randomness. */
#include <math.h>

#include "rng.h"

void sift_rng_seed(struct sift_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t sift_rng_next(struct sift_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return sift_mix64(r->s);
}

uint32_t sift_rng_below(struct sift_rng *r, uint32_t n)
{
	/* Lemire's multiply-shift with rejection of the biased zone */
	uint64_t m = (uint64_t)(uint32_t)(sift_rng_next(r) >> 32) * n;
	uint32_t low = (uint32_t)m;
	if (low < n) {
		uint32_t t = -n % n;
		while (low < t) {
			m = (uint64_t)(uint32_t)(sift_rng_next(r) >> 32) * n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

float sift_rng_normal(struct sift_rng *r)
{
	double u1 = ((sift_rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
	double u2 = (sift_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
	return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t sift_hash64(uint64_t seed, uint64_t counter)
{
	return sift_hash64_keyed(sift_hash_key(seed), counter);
}

float sift_hash_uniform(uint64_t seed, uint64_t counter)
{
	return (float)(sift_hash64(seed, counter) >> 40) * (1.0f / 16777216.0f);
}
