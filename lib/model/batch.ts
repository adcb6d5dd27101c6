import type { Dataset } from "../data/dataset";
import { Classifier, checkClassifier, predictRows } from "./classifier";

/**
 * The batched forward pass under the names the notebooks use: many images at once, on the backend
 * in use (the float32 kernels by default). Each image is computed exactly as it would be alone,
 * so results do not depend on the batch, its order or the thread count.
 */

/**
 * The outputs of `model` for n images at once: `images` holds n x inputSize numbers back to back;
 * returns n x classes float32 numbers (row i = image i).
 *
 *   feedforwardBatch(net, test.images.subarray(0, 2 * 784))  // Float32Array of 20 numbers
 */
export function feedforwardBatch(model: Classifier, images: ArrayLike<number>): Float32Array {
  checkClassifier(model);
  const out = model.forward(images);
  return out instanceof Float32Array ? out : Float32Array.from(out);
}

/**
 * The predicted class (argmax of the output, first on ties) of each of the n images in `images`
 * (n x inputSize numbers, back to back): the batched `predict`.
 *
 *   predictBatch(net, test.images)  // Uint8Array of 10,000 digits
 */
export function predictBatch(model: Classifier, images: ArrayLike<number>): Uint8Array {
  checkClassifier(model);
  return predictRows(model.forward(images), model.classes);
}

/**
 * How many images of `data` the model classifies right, from one batched forward pass: the fast
 * counterpart of `Network.evaluate`.
 *
 *   evaluateBatch(net, test)  // e.g. 9496 for the article's network
 */
export function evaluateBatch(model: Classifier, data: Dataset): number {
  const predicted = predictBatch(model, data.images);
  let correct = 0;
  for (let i = 0; i < data.length; i++) if (predicted[i] === data.labels[i]) correct++;
  return correct;
}
