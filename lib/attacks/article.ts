import { Network } from "../model/network";
import { oneHot } from "../data/dataset";
import { createRng, DEFAULT_SEED, Rng } from "../util/random";
import { checkCount, checkFinite, checkLabel, checkSeed, checkVector } from "../util/validate";
import { drawStarts, START_MEAN, START_SD } from "./start";

/**
 * The article's attacks: gradient descent on the input image with the weights frozen.
 * Both share `descend`; they differ only in the prior added to the cost.
 */

export interface AttackOptions {
  /** Seed of the random starting image (default 0). */
  seed?: number;
  /** Called before every step with the step number and the cost at the current image. */
  onStep?: (step: number, cost: number) => void;
}

/** A term added to the network's cost: its value and its gradient with respect to x. */
export interface Prior {
  cost(x: Float64Array): number;
  /** Adds d(prior)/dx into `grad`. */
  addGradient(x: Float64Array, grad: Float64Array): void;
}

export { START_MEAN, START_SD };

/** A starting image of `size` pixels drawn from N(0.5, 0.3), as the article's attacks begin. */
export function noiseImage(rng: Rng, size: number): Float64Array {
  const x = new Float64Array(size);
  drawStarts("noise", rng, x, x, size);
  return x;
}

/**
 * The shared attack loop: `steps` times, x -= eta * dC/dx with
 * C(x) = 1/2 ||feedforward(x) - goal||^2 (+ prior). Updates x in place and returns it.
 */
export function descend(
  net: Network, x: Float64Array, goal: ArrayLike<number>, steps: number, eta: number,
  prior: Prior | null = null, onStep?: (step: number, cost: number) => void,
): Float64Array {
  const L = net.sizes.length - 1;
  for (let step = 0; step < steps; step++) {
    const as = net.activationsOf(x);
    const grad = net.backpropInto(as, goal, null, null, true)!;
    if (onStep) onStep(step, halfSquaredError(as[L], goal) + (prior ? prior.cost(x) : 0));
    if (prior) prior.addGradient(x, grad);
    for (let i = 0; i < x.length; i++) x[i] -= eta * grad[i];
  }
  return x;
}

/** 1/2 ||a - y||^2. */
export function halfSquaredError(a: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - y[i]) ** 2;
  return s / 2;
}

/**
 * The ridge prior lam/2 ||x - xTarget||^2, whose gradient lam (x - xTarget) pulls the image
 * towards a real one: the article's "sneaky" term.
 */
export function ridgePrior(xTarget: ArrayLike<number>, lam: number): Prior {
  return {
    cost(x) {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += (x[i] - xTarget[i]) ** 2;
      return (lam / 2) * s;
    },
    addGradient(x, grad) {
      for (let i = 0; i < x.length; i++) grad[i] += lam * (x[i] - xTarget[i]);
    },
  };
}

function checkAttack(net: Network, n: number, steps: number, eta: number, seed: number): void {
  if (!(net instanceof Network)) throw new TypeError("net must be a Network");
  checkLabel(n, "goal label n", net.outputSize);
  checkCount(steps, "steps");
  checkFinite(eta, "eta");
  checkSeed(seed);
}

/**
 * Non-targeted attack (article §2): an image, starting from N(0.5, 0.3) noise, that the network
 * maps towards the one-hot output of label `n`. Returns `sizes[0]` (784) numbers, not clipped
 * to [0, 1]. The article runs steps = 1000, eta = 1.
 *
 *   const x = adversarial(net, 5, 1000, 1, { seed: 3 });
 *   net.predict(x)  // 5, for most seeds: the net sees a 5 in noise
 */
export function adversarial(net: Network, n: number, steps: number, eta: number, options: AttackOptions = {}): Float64Array {
  const seed = options.seed ?? DEFAULT_SEED;
  checkAttack(net, n, steps, eta, seed);
  const x = noiseImage(createRng(seed), net.inputSize);
  return descend(net, x, oneHot(n, net.outputSize), steps, eta, null, options.onStep);
}

/**
 * Targeted ("sneaky") attack (article §3): like `adversarial`, plus the prior
 * lam/2 ||x - xTarget||^2 so the result looks like the real image `xTarget` (784 numbers in
 * [0, 1]) while the network reads label `n`. Update: x -= eta * (grad + lam (x - xTarget)).
 * The article runs steps = 100, eta = 1, lam = 0.05.
 *
 *   const x = sneakyAdversarial(net, 8, test.image(i), 100, 1);  // i: a test image of a 2
 *   net.predict(x)  // often 8, though x still looks like the 2
 */
export function sneakyAdversarial(
  net: Network, n: number, xTarget: ArrayLike<number>, steps: number, eta: number, lam = 0.05, options: AttackOptions = {},
): Float64Array {
  const seed = options.seed ?? DEFAULT_SEED;
  checkAttack(net, n, steps, eta, seed);
  checkVector(xTarget, net.inputSize, "xTarget");
  checkFinite(lam, "lam");
  const x = noiseImage(createRng(seed), net.inputSize);
  return sneakyFrom(net, n, x, xTarget, steps, eta, lam, options.onStep);
}

/** The sneaky loop from a given start x (updated in place); arguments already checked. */
export function sneakyFrom(
  net: Network, n: number, x: Float64Array, xTarget: ArrayLike<number>, steps: number, eta: number, lam: number,
  onStep?: (step: number, cost: number) => void,
): Float64Array {
  return descend(net, x, oneHot(n, net.outputSize), steps, eta, ridgePrior(xTarget, lam), onStep);
}
