import type { Classifier } from "../model/classifier";
import { createRng, DEFAULT_SEED } from "../util/random";
import { checkSeed } from "../util/validate";
import { attackResult, AttackResult } from "./result";
import { misclassified } from "./criteria";
import {
  argmaxRow, checkAttackInputs, checkChoice, checkIntegerOption, checkNumberOption, checkOptionNames, gatherBytes, gatherRows,
  indicesWhere, logitView, SCORE_SPACES, ScoreSpace,
} from "./support";

export interface SquareOptions {
  /** The L-inf radius: every returned pixel is within eps of the clean one (required, in (0, 1]). */
  eps: number;
  /** Queries per image, the stripe initialisation included (default 5,000, as AutoAttack). */
  queries?: number;
  /** Initial share p of the pixels in a square, halved along the paper's schedule (default 0.8, as AutoAttack). */
  p?: number;
  /** What a candidate must lower to be kept: "margin" (default) Z_y - max_{j != y} Z_j, or "ce" log softmax(Z)_y. */
  loss?: "margin" | "ce";
  /** Seed of the one random stream behind the stripes, squares and signs (default 0). */
  seed?: number;
  /** "logits" (default) or "outputs" (see DeepFoolOptions.space); only `forward` is called either way. */
  space?: ScoreSpace;
}

const OPTIONS = ["eps", "queries", "p", "loss", "seed", "space"] as const;

/**
 * The share of pixels a square covers at iteration `it` of `queries`: p halves at fixed points
 * of a 10,000-query run (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000), rescaled to `queries`
 * (Andriushchenko et al.'s p_selection).
 */
export function squareShare(p: number, it: number, queries: number): number {
  const t = Math.floor((it / queries) * 10000);
  const ends = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let halvings = 0;
  while (halvings < ends.length && t > ends[halvings]) halvings++;
  return p / 2 ** halvings;
}

/**
 * The Square attack, L-inf (Andriushchenko, Croce, Flammarion and Hein, ECCV 2020): a score-based
 * random search that calls only `model.forward`, never a gradient. That is its use in an
 * evaluation: if it fools a model that gradient attacks do not, the gradients are masked.
 *
 * Each image starts from vertical stripes, x0 + (+-eps per column), clipped to [0, 1]. Then, per
 * query, one random square of side s = round(sqrt(p_it * d)) (at least 1, at most side - 1) at a
 * random place gets one random sign: inside it the candidate is clip(x0 + (+-eps)), elsewhere the
 * best image so far; a sign that would change nothing is drawn again. The candidate is kept when
 * it lowers the loss. An image stops once the model misclassifies it, or after `queries` queries.
 * Images must be square (d = side^2, 28 x 28 for MNIST), one channel.
 *
 * Batched: one forward pass per query covers every unfinished image. Every draw comes from one
 * seeded stream, image by image in order. Images the model already misclassifies are returned
 * unchanged with 0 queries.
 *
 * Shapes: images n x inputSize in [0, 1]; labels n. Returns n x inputSize images (Float64Array)
 * within eps of the clean images in L-inf and inside [0, 1]; `steps` counts each image's queries.
 *
 *   const r = squareAttack(net, images, labels, { eps: 0.3, queries: 1000, seed: 1 });
 */
export function squareAttack(classifier: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: SquareOptions): AttackResult {
  if (options === undefined) throw new TypeError("squareAttack: options with eps are required, e.g. { eps: 0.3 }");
  checkOptionNames(options, OPTIONS, "squareAttack");
  const { n, labels: ys } = checkAttackInputs(classifier, images, labels);
  const eps = checkNumberOption(options.eps, "eps", 0, 1, { min: true });
  const queries = checkIntegerOption(options.queries ?? 5000, "queries", 1);
  const p = checkNumberOption(options.p ?? 0.8, "p", 0, 1, { min: true });
  const lossName = checkChoice(options.loss ?? "margin", "loss", ["margin", "ce"] as const);
  const seed = options.seed ?? DEFAULT_SEED;
  checkSeed(seed);
  const model = logitView(classifier, checkChoice(options.space ?? "logits", "space", SCORE_SPACES));
  const K = model.classes, d = model.inputSize;
  const side = Math.round(Math.sqrt(d));
  if (side * side !== d || side < 2) throw new RangeError(`squareAttack needs square images (inputSize = side^2), got inputSize ${d}`);
  const rng = createRng(seed);

  /** The loss of row r of `out` at label y: lower is closer to fooled. */
  const lossOf = (out: ArrayLike<number>, r: number, y: number): number => {
    const o = r * K;
    if (lossName === "margin") {
      let other = -Infinity;
      for (let j = 0; j < K; j++) if (j !== y && out[o + j] > other) other = out[o + j];
      return out[o + y] - other;
    }
    let top = -Infinity;
    for (let j = 0; j < K; j++) top = Math.max(top, out[o + j]);
    let sum = 0;
    for (let j = 0; j < K; j++) sum += Math.exp(out[o + j] - top);
    return out[o + y] - top - Math.log(sum);
  };
  const clip = (v: number) => Math.min(1, Math.max(0, v));

  const x0 = Float64Array.from(images);
  const best = Float64Array.from(x0);
  const bestLoss = new Float64Array(n);
  const used = new Int32Array(n);
  const done = new Uint8Array(n);
  const clean = model.forward(x0);
  for (let i = 0; i < n; i++) done[i] = argmaxRow(clean, i * K, K) !== ys[i] ? 1 : 0;

  // The vertical stripes: one sign per column, the same down the column.
  let active = indicesWhere(n, (i) => !done[i]);
  for (const i of active) {
    for (let col = 0; col < side; col++) {
      const sign = rng.uniform() < 0.5 ? -eps : eps;
      for (let row = 0; row < side; row++) {
        const q = i * d + row * side + col;
        best[q] = clip(x0[q] + sign);
      }
    }
  }
  if (active.length > 0) {
    const out = model.forward(gatherRows(best, active, d));
    active.forEach((i, r) => {
      bestLoss[i] = lossOf(out, r, ys[i]);
      used[i] = 1;
      if (argmaxRow(out, r * K, K) !== ys[i]) done[i] = 1;
    });
  }

  // One buffer for every query's candidates (a fresh one each query cost more than the forward pass).
  const room = new Float64Array(n * d);
  for (let it = 0; it < queries - 1; it++) {
    active = indicesWhere(n, (i) => !done[i]);
    if (active.length === 0) break;
    const s = Math.min(Math.max(Math.round(Math.sqrt(squareShare(p, it, queries) * d)), 1), side - 1);
    const candidates = gatherRows(best, active, d, room);
    active.forEach((i, r) => {
      const top = rng.int(side - s), left = rng.int(side - s);
      // Draw signs until the square changes something (at most a few draws: one of +-eps always does).
      for (let tries = 0; tries < 100; tries++) {
        const sign = rng.uniform() < 0.5 ? -eps : eps;
        let changed = false;
        for (let row = top; row < top + s; row++) {
          for (let col = left; col < left + s; col++) {
            const v = clip(x0[i * d + row * side + col] + sign);
            if (Math.abs(v - best[i * d + row * side + col]) >= 1e-7) changed = true;
            candidates[r * d + row * side + col] = v;
          }
        }
        if (changed) break;
      }
    });
    const out = model.forward(candidates);
    const ysA = gatherBytes(ys, active);
    active.forEach((i, r) => {
      used[i]++;
      const loss = lossOf(out, r, ysA[r]);
      if (loss < bestLoss[i]) {
        bestLoss[i] = loss;
        best.set(candidates.subarray(r * d, (r + 1) * d), i * d);
        if (argmaxRow(out, r * K, K) !== ys[i]) done[i] = 1;
      }
    });
  }
  return attackResult(classifier, x0, best, misclassified(ys), used);
}
