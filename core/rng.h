/* Seeded random numbers that do not depend on libc: xoshiro256** (Blackman &
 * Vigna 2018) seeded through splitmix64, so a seed gives the same weights and
 * data on every machine and compiler. Streams for different purposes (init,
 * train data, test data) are derived with rng_fork so they never overlap. */
#ifndef SEQ_RNG_H
#define SEQ_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } Rng;

void     rng_seed(Rng *r, uint64_t seed);
Rng      rng_fork(uint64_t seed, uint64_t stream);  /* independent stream `stream` of `seed` */
uint64_t rng_u64(Rng *r);
double   rng_uniform(Rng *r);                        /* [0, 1) with 53 random bits */
uint32_t rng_below(Rng *r, uint32_t n);             /* uniform in [0, n), unbiased */
double   rng_normal(Rng *r);                         /* standard normal (Box-Muller) */

#endif
