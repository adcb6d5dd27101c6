import { checkClassifier, Classifier } from "../model/classifier";
import type { DenseModel, LossSpec } from "../model/backend";
import { backend } from "../model/backends";
import { checkImages, checkLabels } from "../model/checks";
import { argmaxRow } from "../util/argmax";

/**
 * Small private helpers shared by the minimal-norm and score-based attacks (DeepFool,
 * Carlini-Wagner, JSMA, Square): argument checks, row gathering for the images still being
 * attacked, and class-difference gradients. Not part of the public surface.
 *
 * Shapes: images n x d numbers back to back (d = model.inputSize); labels n bytes.
 */

/** Checks the model, the images (n x inputSize, finite, inside [0, 1]) and n labels; returns n and the labels as bytes. */
export function checkAttackInputs(
  model: unknown, images: unknown, labels: unknown, labelsName = "labels",
): { n: number; labels: Uint8Array } {
  checkClassifier(model);
  const n = checkImages(images, model.inputSize, "images");
  const x = images as ArrayLike<number>;
  for (let q = 0; q < x.length; q++) {
    if (x[q] < 0 || x[q] > 1) {
      throw new RangeError(`images[${q}] (image ${Math.floor(q / model.inputSize)}, pixel ${q % model.inputSize}) must be inside [0, 1], got ${x[q]}`);
    }
  }
  return { n, labels: checkLabels(labels, n, model.classes, labelsName) };
}

/** Throws when `options` is not a plain object or names an option `known` does not list (a typo such as "stepsize"). */
export function checkOptionNames(options: unknown, known: readonly string[], attack: string): void {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`${attack}: options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new RangeError(`${attack}: unknown option ${JSON.stringify(key)} (known: ${known.join(", ")})`);
    }
  }
}

/** A number option: finite and inside [min, max] (ends included unless `open`). */
export function checkNumberOption(
  value: unknown, name: string, min: number, max: number, open: { min?: boolean; max?: boolean } = {},
): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${show(value)}`);
  const lowOk = open.min ? value > min : value >= min;
  const highOk = open.max ? value < max : value <= max;
  if (!lowOk || !highOk) {
    throw new RangeError(`${name} must be in ${open.min ? "(" : "["}${min}, ${max}${open.max ? ")" : "]"}, got ${value}`);
  }
  return value;
}

/** A whole-number option >= min. */
export function checkIntegerOption(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${show(value)}`);
  }
  return value;
}

/** A boolean option. */
export function checkBooleanOption(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${name} must be true or false, got ${show(value)}`);
  return value;
}

/** One of a few strings. */
export function checkChoice<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${show(value)}`);
  }
  return value as T;
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined || typeof value !== "object") return String(value);
  return Array.isArray(value) ? `an array of length ${value.length}` : typeof value;
}

/**
 * Rows `rows` of the m x width matrix `src`, back to back: a new Float64Array of rows.length x
 * width, or the start of `into` (which must hold that many) for a loop that gathers often.
 */
export function gatherRows(src: ArrayLike<number>, rows: ArrayLike<number>, width: number, into?: Float64Array): Float64Array {
  const out = into ? into.subarray(0, rows.length * width) : new Float64Array(rows.length * width);
  const typed = src instanceof Float64Array;
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * width;
    if (typed) out.set((src as Float64Array).subarray(o, o + width), r * width);
    else for (let j = 0; j < width; j++) out[r * width + j] = src[o + j];
  }
  return out;
}

/** Entries `rows` of a per-image array. */
export function gatherBytes(src: Uint8Array, rows: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(rows.length);
  for (let r = 0; r < rows.length; r++) out[r] = src[rows[r]];
  return out;
}

/** The indices i < n where keep(i) holds. */
export function indicesWhere(n: number, keep: (i: number) => boolean): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep(i)) out.push(i);
  return Int32Array.from(out);
}

export { argmaxRow };

const QUADRATIC: LossSpec = { name: "quadratic", kappa: 0, targeted: false };

/**
 * Gradients of class differences for m images x (m x d): `difference(ks)` returns row i =
 * d (a_{ks[i]}(x_i) - a_{ys[i]}(x_i)) / d x_i (m x d), where a is the model's output.
 *
 * With `model.vjp` this is one vector-Jacobian product with cotangent e_k - e_y. Without it, the
 * quadratic loss does the work: L(a, y) = 1/2 ||a||^2 - a_y + 1/2, so
 * L(a, y) - L(a, k) = a_k - a_y exactly, and d(a_k - a_y)/dx = dL(x, y)/dx - dL(x, k)/dx
 * (one loss gradient at ys, computed once, and one per call at ks).
 */
export function classDifferences(model: Classifier, x: Float64Array, ys: Uint8Array): (ks: Uint8Array) => Float64Array {
  const m = ys.length, K = model.classes;
  if (model.vjp) {
    const vjp = model.vjp.bind(model);
    return (ks) => {
      const cot = new Float64Array(m * K);
      for (let i = 0; i < m; i++) {
        cot[i * K + ks[i]] += 1;
        cot[i * K + ys[i]] -= 1;
      }
      return Float64Array.from(vjp(x, cot));
    };
  }
  let atY: ArrayLike<number> | null = null;
  return (ks) => {
    atY ??= model.lossGradient(x, ys, QUADRATIC).gradient;
    const atK = model.lossGradient(x, ks, QUADRATIC).gradient;
    const g = new Float64Array(atK.length);
    for (let q = 0; q < g.length; q++) g[q] = atY[q] - atK[q];
    return g;
  };
}

/** Where an attack reads the model's scores: see `logitView`. */
export type ScoreSpace = "logits" | "outputs";

export const SCORE_SPACES: readonly ScoreSpace[] = ["logits", "outputs"];

/**
 * The classifier an attack computes its scores and gradients on.
 *
 * "outputs": `model` itself, its outputs as `forward` gives them.
 * "logits": the same, except for a dense network whose output layer is a sigmoid (the article's
 * networks; `model.dense()` says so): then a view of the same weights with an identity output
 * layer, whose outputs are the pre-activations z (a = sigmoid(z)). The argmax, and so every
 * criterion, is unchanged (sigmoid is increasing), but z does not saturate: on the article's
 * network the top activation is often exactly 1 in float32 (z > 17) and its gradient vanishes,
 * which ruins the linearisation of DeepFool and the margin of Carlini-Wagner. The view shares
 * the weight arrays (no copy) and runs on the backend in use.
 */
export function logitView(model: Classifier, space: ScoreSpace): Classifier {
  if (space === "outputs") return model;
  const dense = typeof model.dense === "function" ? model.dense() : null;
  if (!dense || dense.activations[dense.activations.length - 1] !== "sigmoid") return model;
  const z: DenseModel = {
    sizes: dense.sizes,
    activations: [...dense.activations.slice(0, -1), "identity"],
    weights: dense.weights,
    biases: dense.biases,
  };
  return {
    inputSize: model.inputSize,
    classes: model.classes,
    forward: (images) => backend().forward(z, images),
    lossGradient: (images, labels, loss) => backend().lossGradient(z, images, labels, loss),
    vjp: (images, cotangents) => backend().vjp(z, images, cotangents),
    dense: () => z,
  };
}
