import type { Classifier } from "../model/classifier";
import { attackResult, AttackResult } from "./result";
import { targeted } from "./criteria";
import {
  argmaxRow, checkAttackInputs, checkChoice, checkNumberOption, checkOptionNames, gatherRows, indicesWhere, logitView,
  SCORE_SPACES, ScoreSpace,
} from "./support";

export interface JsmaOptions {
  /**
   * The change made to each chosen pixel, clipped to [0, 1] (default 1: the pixel is set to 1,
   * the paper's and cleverhans' setting). theta > 0 increases pixels, theta < 0 decreases them.
   */
  theta?: number;
  /**
   * The largest share of pixels changed, in (0, 1] (default 0.1). The attack makes
   * floor(gamma * d / 2) pair changes at most, as cleverhans; the paper used 0.145 on MNIST.
   */
  gamma?: number;
  /** "logits" (default; cleverhans differentiates the logits) or "outputs" (see DeepFoolOptions.space). */
  space?: ScoreSpace;
}

const OPTIONS = ["theta", "gamma", "space"] as const;

/**
 * The Jacobian-based saliency map attack (Papernot, McDaniel, Jha, Fredrikson, Celik and
 * Swami, "The Limitations of Deep Learning in Adversarial Settings", EuroS&P 2016): a targeted
 * L0 attack that changes two pixels at a time, as cleverhans' jsma_symbolic.
 *
 * At every iteration, for image x_i and its target t, two vector-Jacobian products give
 *   alpha = d Z_t / dx                  (cotangent e_t),
 *   beta  = d (sum_{j != t} Z_j) / dx   (cotangent 1 - e_t),
 * and over pairs p != q of pixels still in the search domain, the saliency of increasing both is
 *   S(p, q) = -(alpha_p + alpha_q)(beta_p + beta_q)  when alpha_p + alpha_q > 0 and beta_p + beta_q < 0,
 * else 0 (theta < 0: the signs swap). The best pair is moved by theta (clipped to [0, 1]) and
 * leaves the domain, which starts as the pixels below 1 (theta < 0: above 0). An image stops when
 * the model predicts t, after floor(gamma * d / 2) pairs, when fewer than two pixels remain, or
 * when no pair has a positive saliency. Z are the logits (see `space`).
 *
 * Needs `model.vjp`. Batched: the products run on all unfinished images at once; the pair search
 * is O(d^2) per image and iteration in plain TypeScript (d^2 / 2 = 307,000 pairs on MNIST).
 *
 * Shapes: images n x inputSize in [0, 1]; targets n. Returns n x inputSize images (Float64Array);
 * `l0` counts the changed pixels, `steps` the pairs changed.
 *
 *   const r = jsma(net, images, targets);  // r.success: the model predicts targets[i]; r.l0 / 784 <= 0.1
 */
export function jsma(classifier: Classifier, images: ArrayLike<number>, targets: ArrayLike<number>, options: JsmaOptions = {}): AttackResult {
  checkOptionNames(options, OPTIONS, "jsma");
  const { n, labels: ts } = checkAttackInputs(classifier, images, targets, "targets");
  const theta = checkNumberOption(options.theta ?? 1, "theta", -1, 1);
  if (theta === 0) throw new RangeError("theta must not be 0 (it is the change made to each chosen pixel), got 0");
  const gamma = checkNumberOption(options.gamma ?? 0.1, "gamma", 0, 1, { min: true });
  const model = logitView(classifier, checkChoice(options.space ?? "logits", "space", SCORE_SPACES));
  if (typeof model.vjp !== "function") {
    throw new TypeError("jsma needs model.vjp (the Jacobian rows of the outputs); this model has only forward and lossGradient");
  }
  const K = model.classes, d = model.inputSize;
  const increase = theta > 0;
  const maxIters = Math.floor(d * gamma / 2);

  const x0 = Float64Array.from(images);
  const x = Float64Array.from(x0);
  const domain = Uint8Array.from(x0, (v) => (increase ? v < 1 : v > 0) ? 1 : 0);
  const used = new Int32Array(n);
  const done = new Uint8Array(n);

  for (let iter = 0; iter < maxIters; iter++) {
    let active = indicesWhere(n, (i) => !done[i]);
    if (active.length === 0) break;
    let xa = gatherRows(x, active, d);
    const out = model.forward(xa);
    const going = indicesWhere(active.length, (r) => argmaxRow(out, r * K, K) !== ts[active[r]]);
    for (let r = 0; r < active.length; r++) if (argmaxRow(out, r * K, K) === ts[active[r]]) done[active[r]] = 1;
    if (going.length === 0) break;
    if (going.length < active.length) {
      const before = active;
      active = Int32Array.from(going, (r) => before[r]);
      xa = gatherRows(x, active, d);
    }
    const m = active.length;
    const eT = new Float64Array(m * K), others = new Float64Array(m * K).fill(1);
    for (let r = 0; r < m; r++) {
      eT[r * K + ts[active[r]]] = 1;
      others[r * K + ts[active[r]]] = 0;
    }
    const alpha = model.vjp(xa, eT);
    const beta = model.vjp(xa, others);

    for (let r = 0; r < m; r++) {
      const i = active[r];
      const pair = bestPair(alpha, beta, r * d, domain, i * d, d, increase);
      if (pair === null) {
        done[i] = 1;
        continue;
      }
      for (const p of pair) {
        const q = i * d + p;
        x[q] = Math.min(1, Math.max(0, x[q] + theta));
        domain[q] = 0;
      }
      used[i]++;
      // Fewer than two pixels left to change: this image is done.
      let left = 0;
      for (let q = i * d; q < (i + 1) * d && left < 2; q++) left += domain[q];
      if (left < 2) done[i] = 1;
    }
  }
  return attackResult(classifier, x0, x, targeted(ts), used);
}

/**
 * The pair p < q of domain pixels with the largest saliency -(alpha_p + alpha_q)(beta_p + beta_q)
 * among those with alpha_p + alpha_q > 0 > beta_p + beta_q (increase; signs swapped to decrease),
 * or null when there is none. alpha, beta rows start at `o`; the domain row at `od`.
 */
function bestPair(
  alpha: ArrayLike<number>, beta: ArrayLike<number>, o: number, domain: Uint8Array, od: number, d: number, increase: boolean,
): [number, number] | null {
  // The domain's pixels, their alpha and beta packed together (with the sign folded in for
  // decreasing, so one loop serves both: increase wants a > 0 > b, decrease a < 0 < b).
  const s = increase ? 1 : -1;
  const index: number[] = [];
  for (let p = 0; p < d; p++) if (domain[od + p]) index.push(p);
  const k = index.length;
  const a = new Float64Array(k), b = new Float64Array(k);
  for (let u = 0; u < k; u++) {
    a[u] = s * alpha[o + index[u]];
    b[u] = s * beta[o + index[u]];
  }
  let best = 0, bu = -1, bv = -1;
  for (let u = 0; u < k; u++) {
    const au = a[u], bu0 = b[u];
    for (let v = u + 1; v < k; v++) {
      const sa = au + a[v], sb = bu0 + b[v];
      if (sa > 0 && sb < 0) {
        const score = -sa * sb;
        if (score > best) {
          best = score;
          bu = u;
          bv = v;
        }
      }
    }
  }
  return bu < 0 ? null : [index[bu], index[bv]];
}
