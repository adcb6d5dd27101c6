// Seeded normal draws, bit for bit those of lib/util/random.ts (d3-random's LCG and its
// Marsaglia polar method, with V8's fdlibm logarithm): the attacks' N(0.5, 0.3) starts cost
// the main thread as much as a fifth of a sneaky attack when drawn in JavaScript.
#ifndef ADVLAB_NATIVE_DRAWS_H
#define ADVLAB_NATIVE_DRAWS_H

#include <stdint.h>

/** fdlibm's __ieee754_log (as V8's Math.log) for a finite x > 0 of normal size. */
double advlabLog(double x);

/**
 * `pairs` accepted pairs of the polar method from LCG state `state`: for the pair (u, v), the
 * numbers mu + sigma * (v * f) then mu + sigma * (u * f), f = sqrt(-2 log q / q), written to
 * out32 (float32, rounded to nearest) or out64 (whichever is not null), 2 * pairs numbers.
 * Returns the state after the last uniform of the last accepted pair.
 */
uint32_t advlabNormalPairs(uint32_t state, long pairs, double mu, double sigma, float* out32, double* out64);

/** The same numbers, eight attempts at a time with AVX-512 F (x86-64 processors that have it). */
uint32_t advlabNormalPairsAvx512(uint32_t state, long pairs, double mu, double sigma, float* out32, double* out64);

#endif
