import type { Classifier } from "../model/classifier";
import type { Criterion } from "./criteria";
import { distances } from "../eval/norms";

/**
 * What every attack returns. Arrays are per image (n of them) except `images` (n x inputSize).
 * `success` is decided by predicting the returned images again with the attack's criterion, never
 * taken from inside the search.
 */
export interface AttackResult {
  /** The adversarial images, inside [0, 1] and the attack's budget. */
  images: Float32Array | Float64Array;
  /** 1 where the criterion holds for images[i] (untargeted: the prediction differs from labels[i]). */
  success: Uint8Array;
  /** Distances of each returned image from its clean image. */
  l0: Float64Array;
  l2: Float64Array;
  linf: Float64Array;
  /** Iterations each image used (gradient steps; for DeepFool its iterations; for Square its queries). */
  steps: Int32Array;
}

/** Assembles an AttackResult: re-predicts `adversarial` with `criterion` and measures the distances. */
export function attackResult(
  model: Classifier, clean: ArrayLike<number>, adversarial: Float32Array | Float64Array, criterion: Criterion, steps: Int32Array,
): AttackResult {
  const d = model.inputSize;
  const success = criterion.decide(model.forward(adversarial), model.classes);
  const { l0, l2, linf } = distances(adversarial, clean, d);
  return { images: adversarial, success, l0, l2, linf, steps };
}

/** The share of images an attack fooled, in [0, 1]. */
export function successRate(result: Pick<AttackResult, "success">): number {
  const s = result.success;
  let c = 0;
  for (let i = 0; i < s.length; i++) c += s[i];
  return s.length === 0 ? 0 : c / s.length;
}
