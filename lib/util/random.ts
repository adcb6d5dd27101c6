import { randomLcg, randomNormal } from "d3-random";
import { shuffler } from "d3-array";
import { checkSeed } from "./validate";

/** The seed every function uses when the caller gives none: same call, same numbers. */
export const DEFAULT_SEED = 0;

/**
 * A seeded stream of random numbers (d3-random's linear congruential generator).
 * Everything random in the library draws from one of these, so a seed fixes a result.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Normal with mean `mu` and standard deviation `sigma`. */
  normal(mu?: number, sigma?: number): number;
  /** Uniform integer in 0 .. n-1. */
  int(n: number): number;
  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
}

/** A new stream from `seed`, a non-negative whole number. `createRng(7)` twice gives the same draws. */
export function createRng(seed: number = DEFAULT_SEED): Rng {
  checkSeed(seed);
  const uniform = randomLcg(seed);
  const standard = randomNormal.source(uniform)(0, 1);
  const shuffle = shuffler(uniform);
  return {
    uniform,
    normal: (mu = 0, sigma = 1) => mu + sigma * standard(),
    int: (n: number) => Math.floor(uniform() * n),
    shuffle: <T extends { length: number; [i: number]: unknown }>(array: T): T =>
      shuffle(array as unknown as unknown[]) as unknown as T,
  };
}
