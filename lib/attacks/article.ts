import { Network } from "../model/network";
import { oneHot } from "../data/dataset";
import { createRng, DEFAULT_SEED, Rng } from "../util/random";
import { checkCount, checkFinite, checkLabel, checkSeed, checkVector } from "../util/validate";
import { drawStarts, START_MEAN, START_SD } from "./start";
import type { DescentProgram } from "../model/backend";
import { checkImages, checkLabels } from "../model/checks";
import { runSync } from "../util/work";
import { checkDiverged, checkSteps, descentWork } from "./loop";
import { forwardAll } from "../model/dense";

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
 * The article's loop for one image, in float64 (the readable form of the batched loop): `steps`
 * times, x -= eta * dC/dx with C(x) = 1/2 ||feedforward(x) - goal||^2 (+ prior). Updates x in
 * place and returns it; a step that leaves a pixel NaN or infinite is reported as divergence.
 */
export function descend(
  net: Network, x: Float64Array, goal: ArrayLike<number>, steps: number, eta: number,
  prior: Prior | null = null, onStep?: (step: number, cost: number) => void,
): Float64Array {
  const L = net.sizes.length - 1;
  for (let step = 0; step < steps; step++) {
    const as = forwardAll(net, x);
    const grad = net.backpropInto(as, goal, null, null, true)!;
    if (onStep) onStep(step, halfSquaredError(as[L], goal) + (prior ? prior.cost(x) : 0));
    if (prior) prior.addGradient(x, grad);
    for (let i = 0; i < x.length; i++) x[i] -= eta * grad[i];
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) {
        throw new RangeError(`the attack diverged: pixel ${i} is ${x[i]} after step ${step + 1} of ${steps} (eta ${eta}${prior ? ", with the prior" : ""}); use a smaller eta or lam`);
      }
    }
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

// ---------------------------------------------------------------- many images at once

export interface BatchAttackOptions {
  /** Seed of the random starting images, drawn image after image (default 0). */
  seed?: number;
}

function articleProgram(
  net: Network, goals: ArrayLike<number>, steps: number, eta: number, seed: number, prior: { targets: Float32Array; lam: number } | null,
): DescentProgram {
  if (!(net instanceof Network)) throw new TypeError("net must be a Network");
  checkSteps(steps);
  checkFinite(eta, "eta");
  checkSeed(seed);
  if (!goals || typeof goals.length !== "number") throw new TypeError("goals must be an array of labels");
  const labels = checkLabels(goals, goals.length, net.outputSize, "goals");
  const d = net.inputSize;
  // Drawn image after image as the backend asks for them (overlapping the kernels' work).
  const rng = createRng(seed);
  const starts = (_i0: number, _i1: number, out: Float32Array | Float64Array) => drawStarts("noise", rng, out, out, d);
  return {
    starts, labels, loss: { name: "quadratic", kappa: 0, targeted: true }, steps, step: "gradient", stepSize: eta,
    priorTargets: prior?.targets ?? null, lam: prior?.lam ?? 0, origins: null, ball: "none", eps: 0, clip: false, earlyStop: false,
  };
}

function runArticle(net: Network, program: DescentProgram): Float32Array {
  const { images } = runSync(descentWork(net, program));
  checkDiverged(images, net.inputSize, program);
  return images instanceof Float32Array ? images : Float32Array.from(images);
}

/**
 * The non-targeted attack (`adversarial`) on many goals at once: image i starts from
 * N(0.5, 0.3) noise (drawn from one stream seeded by `seed`, image 0 first) and descends
 * towards the one-hot output of `goals[i]`. Returns goals.length x sizes[0] float32 numbers.
 * A configuration of the one attack loop (see attacks/loop.ts), run whole in the backend's fused
 * kernel; with one goal it gives `adversarial(net, goal, steps, eta, { seed })` up to float32
 * rounding (exactly, on the reference backend).
 *
 *   const xs = adversarialBatch(net, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1000, 1, { seed: 1 });
 */
export function adversarialBatch(
  net: Network, goals: ArrayLike<number>, steps: number, eta: number, options: BatchAttackOptions = {},
): Float32Array {
  return runArticle(net, articleProgram(net, goals, steps, eta, options.seed ?? DEFAULT_SEED, null));
}

/**
 * The sneaky attack (`sneakyAdversarial`) on many images at once: image i starts from
 * N(0.5, 0.3) noise (one stream seeded by `seed`, image 0 first) and descends on
 * 1/2 ||a(x) - onehot(goals[i])||^2 + lam/2 ||x - target_i||^2, where target_i is row i of
 * `xTargets` (goals.length x sizes[0] numbers in [0, 1]). Returns goals.length x sizes[0]
 * float32 numbers. With one goal it gives `sneakyAdversarial(net, goal, target, steps, eta,
 * lam, { seed })` up to float32 rounding.
 *
 *   const xs = sneakyAdversarialBatch(net, [8, 8], test.images.subarray(0, 2 * 784), 100, 1);
 */
export function sneakyAdversarialBatch(
  net: Network, goals: ArrayLike<number>, xTargets: ArrayLike<number>, steps: number, eta: number, lam = 0.05,
  options: BatchAttackOptions = {},
): Float32Array {
  checkFinite(lam, "lam");
  if (!(net instanceof Network)) throw new TypeError("net must be a Network");
  const n = checkImages(xTargets, net.inputSize, "xTargets");
  if (goals && n !== goals.length) throw new RangeError(`xTargets holds ${n} images but there are ${goals.length} goals`);
  const program = articleProgram(net, goals, steps, eta, options.seed ?? DEFAULT_SEED, { targets: Float32Array.from(xTargets), lam });
  return runArticle(net, program);
}
