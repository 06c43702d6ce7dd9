/*
 * prng.h - the generator's only source of randomness: xoshiro256** seeded
 * through splitmix64. Scenarios must be byte-identical for a given seed, so
 * nothing in scengen calls rand(), time() or reads /dev/urandom; every
 * stream is derived from the scenario seed plus a few stable labels.
 */
#ifndef MW_SG_PRNG_H
#define MW_SG_PRNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_prng {
    uint64_t s[4];
} mw_prng_t;

/* Seeds a stream from the scenario seed and up to three labels (bs, slice, kind). */
void mw_prng_init(mw_prng_t *r, uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
uint64_t mw_prng_next(mw_prng_t *r);
/* Uniform integer in [lo, hi] (inclusive); hi < lo returns lo. */
uint64_t mw_prng_range(mw_prng_t *r, uint64_t lo, uint64_t hi);
/* Uniform double in [0, 1). */
double mw_prng_unit(mw_prng_t *r);
/* Exponential with the given mean. */
double mw_prng_exp(mw_prng_t *r, double mean);
/* Poisson count with the given mean (Knuth for small means, normal approx above 30). */
unsigned mw_prng_poisson(mw_prng_t *r, double mean);
/* Fills buf with random bytes ("encrypted-looking" payload). */
void mw_prng_fill(mw_prng_t *r, uint8_t *buf, size_t len);
/* Writes n random characters from [a-z0-9] into out (no terminator). */
void mw_prng_alnum(mw_prng_t *r, char *out, size_t n);

#endif
