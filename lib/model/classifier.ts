import type { DenseModel, GradientResult, LossSpec } from "./backend";
import { argmaxRow } from "../util/argmax";

/**
 * What every attack, defence and evaluation is written against: a model that classifies
 * `inputSize`-number inputs into `classes` classes, many at a time.
 *
 * Shapes: `images` holds n x inputSize numbers back to back (row i = image i, pixels in [0, 1]);
 * outputs are n x classes numbers; gradients n x inputSize.
 *
 * `Network` is one; `preprocessed(model, transform)` builds another from any classifier. A model
 * of your own needs only `forward` and `lossGradient` (attacks then run the readable descent
 * loop); `dense()` lets the fast kernels run the whole attack without returning per step.
 */
export interface Classifier {
  readonly inputSize: number;
  readonly classes: number;
  /** n x classes outputs (scores: the larger, the more likely). */
  forward(images: ArrayLike<number>): Float32Array | Float64Array;
  /** Per-image loss at `labels` and d loss / d image (see LossName for the losses). */
  lossGradient(images: ArrayLike<number>, labels: Uint8Array, loss: LossSpec): GradientResult;
  /** Row i: d (sum_k cotangents[i, k] output_k(x_i)) / d x_i; optional (DeepFool and JSMA use it when present). */
  vjp?(images: ArrayLike<number>, cotangents: ArrayLike<number>): Float32Array | Float64Array;
  /** The dense network behind the model, when the backend's fused kernels may run it directly. */
  dense?(): DenseModel | null;
  /**
   * For "binary thresholding at t, then a dense network" with its gradient taken straight
   * through (BPDA): t and that network, so that the fused kernels run attacks on the composition
   * (see DescentProgram.inputThreshold). Absent or null otherwise.
   */
  thresholded?(): { dense: DenseModel; threshold: number } | null;
}

/** Is `model` shaped like a Classifier? (A check for arguments, with an error that says what is missing.) */
export function checkClassifier(model: unknown, name = "model"): asserts model is Classifier {
  const m = model as Partial<Classifier> | null;
  const missing: string[] = [];
  if (m === null || typeof m !== "object") throw new TypeError(`${name} must be a Classifier (a Network, or an object with inputSize, classes, forward and lossGradient)`);
  if (!Number.isInteger(m.inputSize) || (m.inputSize as number) < 1) missing.push("inputSize");
  if (!Number.isInteger(m.classes) || (m.classes as number) < 2) missing.push("classes");
  if (typeof m.forward !== "function") missing.push("forward()");
  if (typeof m.lossGradient !== "function") missing.push("lossGradient()");
  if (missing.length > 0) throw new TypeError(`${name} is not a Classifier: it lacks ${missing.join(", ")}`);
}

/** The predicted class (argmax of the outputs, first on ties) of each of the n images. */
export function predictRows(outputs: ArrayLike<number>, classes: number): Uint8Array {
  const n = outputs.length / classes;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = argmaxRow(outputs, i * classes, classes);
  return out;
}
