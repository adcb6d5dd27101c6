import { shuffler } from "d3-array";
import { checkSeed } from "./validate";

/** The seed every function uses when the caller gives none: same call, same numbers. */
export const DEFAULT_SEED = 0;

/**
 * A seeded stream of random numbers: d3-random's linear congruential generator (`randomLcg`) and
 * its Marsaglia polar normal (`randomNormal.source`), written out here so that `fillNormal` can
 * draw a whole array in one loop; the draws are d3-random's, bit for bit (test/random.test.ts).
 * Everything random in the library draws from one of these, so a seed fixes a result.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /**
   * Moves the stream past the next `count` uniforms and returns the state they start from, for
   * a caller that draws them itself (lcgJump): the stream goes on as if they had been drawn.
   */
  claimUniforms(count: number): number;
  /** out[i] = uniform() for every i in order (the same numbers, faster). */
  fillUniform(out: Float32Array | Float64Array): void;
  /** Normal with mean `mu` and standard deviation `sigma`. */
  normal(mu?: number, sigma?: number): number;
  /** out[i] = normal(mu, sigma) for every i in order (the same numbers, faster). */
  fillNormal(out: { length: number; [i: number]: number }, mu?: number, sigma?: number): void;
  /** Uniform integer in 0 .. n-1. */
  int(n: number): number;
  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T;
}

/**
 * Draws `pairs` whole pairs of fillNormal into out[start ...] from LCG state `state` (an int32)
 * and returns the state after them: the same numbers as the loop below, computed elsewhere
 * (the native module's vectorised draws, native/draws.h).
 */
export type NormalPairs = (out: Float32Array | Float64Array, start: number, pairs: number, state: number, mu: number, sigma: number) => number;
let fastPairs: NormalPairs | null = null;
/** Pairs at least this many go to `fastPairs` (a call costs about as much as a few pairs). */
const FAST_PAIRS_FROM = 32;

/** Has fillNormal draw its whole pairs with `f` (null: in JavaScript). */
export function useNormalPairs(f: NormalPairs | null): void {
  fastPairs = f;
}

// d3-random's LCG: state = MUL * state + INC mod 2^32; a uniform is the state / 2^32. Module
// constants, not exports, inside the hot loops: the CommonJS build reads an export as a property.
const MUL = 0x19660d, INC = 0x3c6ef35f, EPS = 1 / 0x100000000;
/** A uniform is the LCG state (as unsigned) times this, 2^-32. */
export const LCG_EPS = EPS;

/**
 * The LCG's next state (an int32). d3-random takes MUL * state + INC in float64 (exact below
 * 2^53) and keeps its low 32 bits; Math.imul gives the same bits in integer arithmetic, 4x faster.
 */
export function lcgNext(state: number): number {
  return (Math.imul(MUL, state) + INC) | 0;
}

/**
 * The LCG state `k` steps after `state` (an int32; k a whole number below 2^53), in log2 k
 * steps (Brown's skip-ahead): whoever knows where a stream starts can draw any part of it.
 */
export function lcgJump(state: number, k: number): number {
  let mul = MUL, add = INC, accMul = 1, accAdd = 0;
  while (k > 0) {
    if (k % 2 === 1) {
      accMul = Math.imul(accMul, mul);
      accAdd = (Math.imul(accAdd, mul) + add) | 0;
    }
    add = Math.imul((mul + 1) | 0, add);
    mul = Math.imul(mul, mul);
    k = Math.floor(k / 2);
  }
  return (Math.imul(accMul, state) + accAdd) | 0;
}

/** A new stream from `seed`, a non-negative whole number. `createRng(7)` twice gives the same draws. */
export function createRng(seed: number = DEFAULT_SEED): Rng {
  checkSeed(seed);
  let state = (0 <= seed && seed < 1 ? seed / EPS : Math.abs(seed)) | 0;
  const uniform = () => (state = lcgNext(state), EPS * (state >>> 0));
  // d3-random's polar method keeps the pair's second number (x) for the next call, and r with it.
  let x: number | null = null, r = 0;
  const standard = (): number => {
    let y: number;
    if (x !== null) {
      y = x;
      x = null;
    } else {
      do {
        x = uniform() * 2 - 1;
        y = uniform() * 2 - 1;
        r = x * x + y * y;
      } while (!r || r > 1);
    }
    return 0 + 1 * y * Math.sqrt((-2 * Math.log(r)) / r);
  };
  const shuffle = shuffler(uniform);
  return {
    uniform,
    normal: (mu = 0, sigma = 1) => mu + sigma * standard(),
    claimUniforms(count) {
      const from = state;
      state = lcgJump(state, count);
      return from;
    },
    fillUniform(out) {
      // The state in a local while the loop runs: a closure variable costs a load and a store per draw.
      let st = state;
      for (let i = 0; i < out.length; i++) {
        st = lcgNext(st);
        out[i] = EPS * (st >>> 0);
      }
      state = st;
    },
    fillNormal(out, mu = 0, sigma = 1) {
      let i = 0;
      if (x !== null && out.length > 0) out[i++] = mu + sigma * standard();
      // Whole pairs: one log and one square root serve both numbers, as d3's second call recomputes them alike.
      const pairs = (out.length - i) >> 1;
      if (fastPairs && pairs >= FAST_PAIRS_FROM && (out instanceof Float32Array || out instanceof Float64Array)) {
        state = fastPairs(out, i, pairs, state, mu, sigma);
        i += 2 * pairs;
      }
      let st = state;
      for (; i + 1 < out.length; i += 2) {
        let u: number, v: number, q: number;
        do {
          st = lcgNext(st);
          u = EPS * (st >>> 0) * 2 - 1;
          st = lcgNext(st);
          v = EPS * (st >>> 0) * 2 - 1;
          q = u * u + v * v;
        } while (!q || q > 1);
        const f = Math.sqrt((-2 * Math.log(q)) / q);
        out[i] = mu + sigma * (0 + 1 * v * f);
        out[i + 1] = mu + sigma * (0 + 1 * u * f);
      }
      state = st;
      if (i < out.length) out[i] = mu + sigma * standard();
    },
    int: (n: number) => Math.floor(uniform() * n),
    shuffle: <T extends { length: number; [i: number]: unknown }>(array: T): T =>
      shuffle(array as unknown as unknown[]) as unknown as T,
  };
}
