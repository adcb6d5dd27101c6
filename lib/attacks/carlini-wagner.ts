import type { Classifier } from "../model/classifier";
import { lossSpec } from "../model/losses";
import { checkLabels } from "../model/checks";
import { attackResult, AttackResult } from "./result";
import { misclassified, targeted as targetedCriterion } from "./criteria";
import {
  checkAttackInputs, checkBooleanOption, checkChoice, checkIntegerOption, checkNumberOption, checkOptionNames,
  gatherBytes, indicesWhere, logitView, SCORE_SPACES, ScoreSpace,
} from "./support";

export interface CarliniWagnerOptions {
  /** n target classes: a targeted attack (success when the model predicts targets[i]); default untargeted. */
  targets?: ArrayLike<number>;
  /** The confidence kappa >= 0: success needs a lead of kappa in the logits (default 0, the paper's). */
  kappa?: number;
  /** Rounds of the search over c (default 9, the paper's code and Foolbox 3). */
  binarySteps?: number;
  /** Adam steps per round (default 10,000, the paper's code and Foolbox 3; 100 to 1,000 is usually enough with abortEarly). */
  steps?: number;
  /** Adam's learning rate (default 0.01, the paper's code and Foolbox 3). */
  stepSize?: number;
  /** The first c (default 1e-3, the paper's code and Foolbox 3). */
  initialC?: number;
  /** Stop an image's round when its loss has not fallen by 0.01 % over a tenth of the steps (default true). */
  abortEarly?: boolean;
  /** "logits" (default, the paper's Z) or "outputs" (see DeepFoolOptions.space). */
  space?: ScoreSpace;
}

const OPTIONS = ["targets", "kappa", "binarySteps", "steps", "stepSize", "initialC", "abortEarly", "space"] as const;

/** Adam's constants (Kingma and Ba; Foolbox 3's AdamOptimizer). */
const BETA1 = 0.9, BETA2 = 0.999, ADAM_EPSILON = 1e-8;

/**
 * The Carlini-Wagner L2 attack (Carlini and Wagner, "Towards Evaluating the Robustness of Neural
 * Networks", IEEE S&P 2017), as in their code and Foolbox 3's L2CarliniWagnerAttack.
 *
 * Change of variables: x' = (tanh(w) + 1) / 2 keeps x' in [0, 1] without clipping; w starts at
 * atanh((2 x0 - 1) * 0.999999). Adam minimises, per image,
 *   ||x' - x0||_2^2 + c * f(x'),
 *   f = max(Z_y - max_{j != y} Z_j + kappa, 0)      untargeted (y the label),
 *   f = max(max_{j != t} Z_j - Z_t + kappa, 0)      targeted (t the target),
 * where Z are the logits (see `space`). f is the library's margin loss L = lossSpec("margin",
 * { kappa, targeted }) shifted: untargeted f = kappa - L, targeted f = L + kappa; its gradient
 * comes from `model.lossGradient`. The norm is measured from the tanh-reconstructed x0, as Foolbox.
 *
 * Binary search over c, per image: a round that found an adversarial image (lead >= kappa) sets
 * the upper bound to c, else the lower bound; c grows tenfold while no upper bound is known, else
 * halves the interval. Over all rounds each image keeps its smallest-L2 adversarial image.
 *
 * Shapes: images n x inputSize in [0, 1]; labels n (the true labels); targets n. Returns n x
 * inputSize images (Float64Array) in [0, 1]: the best adversarial image, or the clean image where
 * none was found (success 0, distances 0); `steps` counts each image's Adam steps over all rounds.
 *
 *   const r = carliniWagnerL2(net, images, labels, { steps: 200, binarySteps: 6 });
 *   // on the article's network, mean L2 about a third of DeepFool's on the same images
 */
export function carliniWagnerL2(
  classifier: Classifier, images: ArrayLike<number>, labels: ArrayLike<number>, options: CarliniWagnerOptions = {},
): AttackResult {
  checkOptionNames(options, OPTIONS, "carliniWagnerL2");
  const { n, labels: ys } = checkAttackInputs(classifier, images, labels);
  const isTargeted = options.targets !== undefined;
  const targets = isTargeted ? checkLabels(options.targets, n, classifier.classes, "targets") : null;
  const kappa = checkNumberOption(options.kappa ?? 0, "kappa", 0, Infinity);
  const binarySteps = checkIntegerOption(options.binarySteps ?? 9, "binarySteps", 1);
  const steps = checkIntegerOption(options.steps ?? 10000, "steps", 1);
  const stepSize = checkNumberOption(options.stepSize ?? 0.01, "stepSize", 0, Infinity, { min: true });
  const initialC = checkNumberOption(options.initialC ?? 1e-3, "initialC", 0, Infinity, { min: true });
  const abortEarly = checkBooleanOption(options.abortEarly ?? true, "abortEarly");
  const model = logitView(classifier, checkChoice(options.space ?? "logits", "space", SCORE_SPACES));
  const K = model.classes, d = model.inputSize;
  const goal = targets ?? ys; // the class the margin is taken at
  const spec = lossSpec("margin", { kappa, targeted: isTargeted });

  const x0 = Float64Array.from(images);
  const w0 = new Float64Array(n * d);
  const x0r = new Float64Array(n * d); // x0 as the tanh variables reproduce it
  for (let q = 0; q < n * d; q++) {
    w0[q] = Math.atanh((2 * x0[q] - 1) * 0.999999);
    x0r[q] = (Math.tanh(w0[q]) + 1) / 2;
  }

  const best = Float64Array.from(x0);
  const bestNorm = new Float64Array(n).fill(Infinity);
  const used = new Int32Array(n);
  const c = new Float64Array(n).fill(initialC);
  const lower = new Float64Array(n);
  const upper = new Float64Array(n).fill(Infinity);

  /** Is row r of `out` (image i) adversarial with a lead of kappa? (Foolbox: shift the logit of y or t by kappa, then argmax.) */
  const adversarial = (out: ArrayLike<number>, r: number, i: number): boolean => {
    const o = r * K, t = goal[i];
    let top = -1, topValue = -Infinity;
    for (let j = 0; j < K; j++) {
      const v = out[o + j] + (j === t ? (isTargeted ? -kappa : kappa) : 0);
      if (v > topValue) { topValue = v; top = j; }
    }
    return isTargeted ? top === t : top !== t;
  };

  for (let round = 0; round < binarySteps; round++) {
    // The paper's code: with 10 or more rounds, the last one uses the upper bound.
    if (round === binarySteps - 1 && binarySteps >= 10) for (let i = 0; i < n; i++) c[i] = Math.min(upper[i], 1e10);
    const delta = new Float64Array(n * d); // w = w0 + delta
    const m1 = new Float64Array(n * d), m2 = new Float64Array(n * d);
    const found = new Uint8Array(n);
    const previousLoss = new Float64Array(n).fill(Infinity);
    let active = Int32Array.from({ length: n }, (_, i) => i);
    for (let step = 0; step < steps && active.length > 0; step++) {
      const m = active.length;
      const tanhW = new Float64Array(m * d);
      const x = new Float64Array(m * d);
      for (let r = 0; r < m; r++) {
        for (let p = 0, q = active[r] * d; p < d; p++, q++) {
          const th = Math.tanh(w0[q] + delta[q]);
          tanhW[r * d + p] = th;
          x[r * d + p] = (th + 1) / 2;
        }
      }
      // Keep the smallest adversarial image seen (at the point the gradient is taken, as Foolbox).
      const out = model.forward(x);
      for (let r = 0; r < m; r++) {
        const i = active[r];
        if (!adversarial(out, r, i)) continue;
        found[i] = 1;
        let s = 0;
        for (let p = 0; p < d; p++) s += (x[r * d + p] - x0[i * d + p]) ** 2;
        if (Math.sqrt(s) < bestNorm[i]) {
          bestNorm[i] = Math.sqrt(s);
          best.set(x.subarray(r * d, (r + 1) * d), i * d);
        }
      }
      const { loss: margin, gradient } = model.lossGradient(x, gatherBytes(goal, active), spec);
      const t = step + 1;
      const correction1 = 1 - BETA1 ** t, correction2 = 1 - BETA2 ** t;
      const keep = new Uint8Array(m).fill(1);
      for (let r = 0; r < m; r++) {
        const i = active[r];
        // f and df/dx from the clamped margin L: untargeted f = kappa - L, targeted f = L + kappa.
        const f = isTargeted ? margin[r] + kappa : kappa - margin[r];
        const sign = isTargeted ? 1 : -1;
        let distance = 0;
        for (let p = 0, q = i * d; p < d; p++, q++) {
          const e = x[r * d + p] - x0r[q];
          distance += e * e;
          // d/dw of ||x' - x0||^2 + c f, with dx'/dw = (1 - tanh^2 w) / 2.
          const th = tanhW[r * d + p];
          const g = (2 * e + c[i] * sign * gradient[r * d + p]) * (1 - th * th) / 2;
          m1[q] = BETA1 * m1[q] + (1 - BETA1) * g;
          m2[q] = BETA2 * m2[q] + (1 - BETA2) * g * g;
          const mHat = m1[q] / correction1, vHat = m2[q] / correction2;
          delta[q] -= stepSize * mHat / (Math.sqrt(vHat) + ADAM_EPSILON);
        }
        const loss = distance + c[i] * f;
        used[i]++;
        if (abortEarly && step % Math.ceil(steps / 10) === 0) {
          if (!(loss <= 0.9999 * previousLoss[i])) keep[r] = 0;
          previousLoss[i] = loss;
        }
      }
      if (keep.includes(0)) {
        const before = active;
        active = Int32Array.from(indicesWhere(m, (r) => keep[r] === 1), (r) => before[r]);
      }
    }
    for (let i = 0; i < n; i++) {
      if (found[i]) upper[i] = c[i];
      else lower[i] = c[i];
      c[i] = upper[i] === Infinity ? c[i] * 10 : (lower[i] + upper[i]) / 2;
    }
  }
  return attackResult(classifier, x0, best, isTargeted ? targetedCriterion(targets!) : misclassified(ys), used);
}
