import type { LossName, LossSpec } from "./backend";
import { checkFinite } from "../util/validate";

/**
 * Output losses as values: each computes L(a, y) for one output row a (after the output
 * activation) and a label y, beside its derivative dL/da. Lower always means "more like y", so
 * an untargeted attack ascends L on the true label and a targeted one descends it on the target.
 */
export interface Loss {
  readonly name: LossName;
  /** L(a, y); writes dL/da into `grad` (a.length numbers). */
  valueAndGradient(a: ArrayLike<number>, y: number, spec: LossSpec, grad: Float64Array): number;
}

/** 1/2 ||a - onehot(y)||^2: the article's quadratic cost. dL/da = a - onehot(y). */
export const quadratic: Loss = {
  name: "quadratic",
  valueAndGradient(a, y, _spec, grad) {
    let s = 0;
    for (let j = 0; j < a.length; j++) {
      const d = a[j] - (j === y ? 1 : 0);
      grad[j] = d;
      s += d * d;
    }
    return s / 2;
  },
};

/**
 * Softmax cross-entropy: -log softmax(a)_y = logsumexp(a) - a_y, with the largest entry
 * subtracted first so no exp overflows. dL/da = softmax(a) - onehot(y).
 */
export const softmaxCrossEntropy: Loss = {
  name: "softmax-cross-entropy",
  valueAndGradient(a, y, _spec, grad) {
    let m = -Infinity;
    for (let j = 0; j < a.length; j++) if (a[j] > m) m = a[j];
    let sum = 0;
    for (let j = 0; j < a.length; j++) {
      grad[j] = Math.exp(a[j] - m);
      sum += grad[j];
    }
    for (let j = 0; j < a.length; j++) grad[j] = grad[j] / sum - (j === y ? 1 : 0);
    return m + Math.log(sum) - a[y];
  },
};

/**
 * Carlini and Wagner's margin: m = max_{j != y} a_j - a_y (j* the first largest other entry),
 * clamped at the confidence kappa on the attacker's side: a targeted attack (descending) stops
 * gaining once the target leads by kappa, max(m, -kappa); an untargeted one (ascending) once
 * another class leads by kappa, min(m, kappa). dL/da = e_j* - e_y, or 0 where clamped.
 */
export const margin: Loss = {
  name: "margin",
  valueAndGradient(a, y, spec, grad) {
    let best = -1;
    for (let j = 0; j < a.length; j++) if (j !== y && (best < 0 || a[j] > a[best])) best = j;
    grad.fill(0, 0, a.length);
    const m = a[best] - a[y];
    const kappa = spec.kappa;
    if (spec.targeted ? m < -kappa : m > kappa) return spec.targeted ? -kappa : kappa;
    grad[best] = 1;
    grad[y] = -1;
    return m;
  },
};

export const LOSSES: Readonly<Record<LossName, Loss>> = {
  quadratic,
  "softmax-cross-entropy": softmaxCrossEntropy,
  margin,
};

export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

/** Checks a loss name, or throws an error listing the known ones. */
export function checkLossName(name: unknown, what = "loss"): asserts name is LossName {
  if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(LOSSES, name)) {
    throw new RangeError(`${what} must be one of ${LOSS_NAMES.map((n) => `"${n}"`).join(", ")}, got ${JSON.stringify(name)}`);
  }
}

/** A checked LossSpec: `name` known, kappa a finite number >= 0 (only the margin uses it). */
export function lossSpec(name: unknown, options: { kappa?: number; targeted?: boolean } = {}): LossSpec {
  checkLossName(name);
  const kappa = options.kappa ?? 0;
  checkFinite(kappa, "kappa");
  if (kappa < 0) throw new RangeError(`kappa must be >= 0, got ${kappa}`);
  return { name, kappa, targeted: options.targeted ?? false };
}
