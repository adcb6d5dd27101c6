import type { Classifier } from "../model/classifier";
import { attackResult, AttackResult } from "./result";
import { misclassified } from "./criteria";
import {
  argmaxRow, checkAttackInputs, checkChoice, checkIntegerOption, checkNumberOption, checkOptionNames, classDifferences,
  gatherBytes, gatherRows, indicesWhere, logitView, SCORE_SPACES, ScoreSpace,
} from "./support";

export interface DeepFoolOptions {
  /** "l2" (default) or "linf": the norm whose closest linearised boundary each step goes to. */
  norm?: "l2" | "linf";
  /** Most iterations per image (default 50, Foolbox 3). */
  steps?: number;
  /** The total perturbation is scaled by 1 + overshoot (default 0.02, the paper and Foolbox 3). */
  overshoot?: number;
  /** How many of the top classes (by the clean output, the label included) are tried (default 10, Foolbox 3). */
  candidates?: number;
  /**
   * "logits" (default): the scores a are the logits, as Foolbox 3's loss="logits"; for the
   * article's sigmoid networks, the output layer's pre-activations (see logitView in support.ts).
   * "outputs": the model's outputs as `forward` gives them (sigmoid activations there).
   */
  space?: ScoreSpace;
}

const OPTIONS = ["norm", "steps", "overshoot", "candidates", "space"] as const;

/**
 * Where the two variants differ (Foolbox 3's get_distances / get_perturbations): the dual norm
 * ||w||_* that turns a logit gap |f| into a distance |f| / ||w||_*, and the step of length
 * `distance` (in the attack's norm) along the normal w of the closest boundary.
 */
interface DeepFoolNorm {
  /** ||w||_* of w[o .. o + d]. */
  dual(w: Float64Array, o: number, d: number): number;
  /** Adds the step r[p] to out[oo + p], for w[o + p], p < d. */
  addStep(distance: number, w: Float64Array, o: number, d: number, out: Float64Array, oo: number): void;
}

const NORMS: Record<"l2" | "linf", DeepFoolNorm> = {
  /** ||w||_2; r = distance * w / ||w||_2. */
  l2: {
    dual(w, o, d) {
      let s = 0;
      for (let p = o; p < o + d; p++) s += w[p] * w[p];
      return Math.sqrt(s);
    },
    addStep(distance, w, o, d, out, oo) {
      const scale = distance / (this.dual(w, o, d) + 1e-8);
      for (let p = 0; p < d; p++) out[oo + p] += scale * w[o + p];
    },
  },
  /** ||w||_1; r = distance * sign(w). */
  linf: {
    dual(w, o, d) {
      let s = 0;
      for (let p = o; p < o + d; p++) s += Math.abs(w[p]);
      return s;
    },
    addStep(distance, w, o, d, out, oo) {
      for (let p = 0; p < d; p++) out[oo + p] += distance * Math.sign(w[o + p]);
    },
  },
};

/**
 * DeepFool (Moosavi-Dezfooli, Fawzi and Frossard, CVPR 2016): a minimal-norm, untargeted attack
 * that walks to the nearest boundary of the model linearised at the current image.
 *
 * For image x_i with label y, at every iteration and for each candidate class k != y:
 *   f_k = a_k(x) - a_y(x),  w_k = d f_k / dx,
 *   distance to the linearised boundary f_k = 0:  |f_k| / ||w_k||_2   (L2)
 *                                                 |f_k| / ||w_k||_1   (L-inf, the dual norm),
 * and the step goes to the closest one, l = argmin_k distance_k:
 *   r = (distance_l + 1e-4) w_l / ||w_l||_2   (L2)     r = (distance_l + 1e-4) sign(w_l)   (L-inf).
 * The steps add up to r_total and x = clip(x0 + (1 + overshoot) r_total, 0, 1): the overshoot is
 * applied to the total perturbation, as in the paper's Algorithm 2 and Foolbox 3. An image stops
 * as soon as it is misclassified (checked before each iteration) and after `steps` iterations.
 *
 * `a` are the logits (option `space`, default "logits", as Foolbox's loss="logits"): the
 * outputs of an identity output layer, and for the article's sigmoid networks the output layer's
 * pre-activations z, not the activations sigmoid(z). The argmax is the same, but the activations
 * saturate, their gradients vanish and the linearised distances become useless (measured on the
 * article's network, 20 test images: median L2 13 on the activations, 1.9 on z).
 * The k tried are the `candidates - 1` classes other than the label with the largest clean
 * outputs. Gradients come from `model.vjp` (cotangent e_k - e_y, one call per candidate) or,
 * without it, from two quadratic loss gradients (see classDifferences in support.ts).
 *
 * Shapes: images n x inputSize in [0, 1]; labels n. Returns n x inputSize images (Float64Array)
 * in [0, 1]; `l2`/`linf` are the norms found, `steps` the iterations each image used. Images the
 * model already misclassifies are returned unchanged with steps 0; an image not fooled after
 * `steps` iterations is returned as its last iterate (success 0).
 *
 *   const r = deepfool(net, test.images.subarray(0, 50 * 784), test.labels.subarray(0, 50));
 *   // r.success: all 1; median(r.l2) 3.6 on the article's network
 */
export function deepfool(classifier: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: DeepFoolOptions = {}): AttackResult {
  checkOptionNames(options, OPTIONS, "deepfool");
  const { n, labels: ys } = checkAttackInputs(classifier, images, labels);
  const norm = NORMS[checkChoice(options.norm ?? "l2", "norm", ["l2", "linf"] as const)];
  const steps = checkIntegerOption(options.steps ?? 50, "steps", 0);
  const overshoot = checkNumberOption(options.overshoot ?? 0.02, "overshoot", 0, Infinity);
  const model = logitView(classifier, checkChoice(options.space ?? "logits", "space", SCORE_SPACES));
  const K = model.classes, d = model.inputSize;
  const candidates = Math.min(checkIntegerOption(options.candidates ?? 10, "candidates", 2), K);

  const x0 = Float64Array.from(images);
  const x = Float64Array.from(x0);
  const rTotal = new Float64Array(n * d);
  const used = new Int32Array(n);

  // ks[r][i]: image i's r-th candidate, the classes ranked by the clean output without the label.
  const out0 = model.forward(x0);
  const ks: Uint8Array[] = Array.from({ length: candidates - 1 }, () => new Uint8Array(n));
  for (let i = 0; i < n; i++) {
    const order = Array.from({ length: K }, (_, j) => j).filter((j) => j !== ys[i]);
    order.sort((a, b) => out0[i * K + b] - out0[i * K + a] || a - b);
    for (let r = 0; r < candidates - 1; r++) ks[r][i] = order[r];
  }

  let active = indicesWhere(n, (i) => argmaxRow(out0, i * K, K) === ys[i]);
  for (let step = 0; step < steps && active.length > 0; step++) {
    let xa = gatherRows(x, active, d);
    let outA = step === 0 ? gatherRows(out0, active, K) : model.forward(xa);
    // Stop the images already fooled; go on with the rest.
    const still = indicesWhere(active.length, (r) => argmaxRow(outA, r * K, K) === ys[active[r]]);
    if (still.length < active.length) {
      const before = active;
      active = Int32Array.from(still, (r) => before[r]);
      xa = gatherRows(x, active, d);
      outA = gatherRows(outA, still, K);
    }
    const m = active.length;
    if (m === 0) break;
    const yA = gatherBytes(ys, active);
    const difference = classDifferences(model, xa, yA);

    // The closest linearised boundary over the candidates: its distance and normal w.
    const bestDistance = new Float64Array(m).fill(Infinity);
    const bestW = new Float64Array(m * d);
    for (let r = 0; r < candidates - 1; r++) {
      const kA = gatherBytes(ks[r], active);
      const w = difference(kA);
      for (let i = 0; i < m; i++) {
        const f = outA[i * K + kA[i]] - outA[i * K + yA[i]];
        const distance = Math.abs(f) / (norm.dual(w, i * d, d) + 1e-8);
        if (distance < bestDistance[i]) {
          bestDistance[i] = distance;
          bestW.set(w.subarray(i * d, (i + 1) * d), i * d);
        }
      }
    }

    // r = the step onto that boundary (1e-4 further, for numerical stability, as Foolbox 3).
    for (let i = 0; i < m; i++) {
      const img = active[i];
      norm.addStep(bestDistance[i] + 1e-4, bestW, i * d, d, rTotal, img * d);
      for (let q = img * d; q < (img + 1) * d; q++) x[q] = Math.min(1, Math.max(0, x0[q] + (1 + overshoot) * rTotal[q]));
      used[img]++;
    }
  }
  return attackResult(classifier, x0, x, misclassified(ys), used);
}
