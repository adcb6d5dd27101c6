import type { DenseModel, LossSpec } from "./backend";
import { ACTIVATIONS } from "./activations";
import { LOSSES } from "./losses";
import { addOuter, denseBackward, denseForward } from "./layer";

/**
 * The float64 reference of a dense network, one example at a time: the forward pass keeping
 * every layer's activations, and backpropagation from any output gradient dL/da. The reference
 * backend and the `Network` class are written on these two.
 */

/** The activations of every layer for input x (sizes[0] numbers), input included. */
export function forwardAll(model: DenseModel, x: ArrayLike<number>): Float64Array[] {
  const as: Float64Array[] = [Float64Array.from(x)];
  for (let l = 0; l < model.weights.length; l++) {
    const rows = model.sizes[l + 1], cols = model.sizes[l];
    const out = new Float64Array(rows);
    denseForward(model.weights[l], model.biases[l], as[l], rows, cols, out, ACTIVATIONS[model.activations[l]]);
    as.push(out);
  }
  return as;
}

/**
 * Backpropagates dL/da of the output layer (`grad`, sizes[L] numbers) through activations `as`
 * (from `forwardAll`): adds each layer's dL/db and dL/dW into nablaB / nablaW when given, and
 * returns dL/dx when `wantInput` (else null).
 */
export function backpropFrom(
  model: DenseModel, as: Float64Array[], grad: Float64Array,
  nablaB: Float64Array[] | null, nablaW: Float64Array[] | null, wantInput: boolean,
): Float64Array | null {
  for (let l = model.weights.length - 1; l >= 0; l--) {
    const rows = model.sizes[l + 1], cols = model.sizes[l];
    const delta = new Float64Array(rows);
    const below = l > 0 || wantInput ? new Float64Array(cols) : null;
    denseBackward(model.weights[l], as[l + 1], grad, rows, cols, delta, below, ACTIVATIONS[model.activations[l]]);
    if (nablaB && nablaW) addOuter(nablaW[l], nablaB[l], delta, as[l], rows, cols);
    if (below === null) return null;
    grad = below;
  }
  return grad;
}

/** L(a(x), label) and dL/da at the output, with the activations of every layer. */
export function lossAt(model: DenseModel, x: ArrayLike<number>, label: number, spec: LossSpec): { loss: number; as: Float64Array[]; grad: Float64Array } {
  const as = forwardAll(model, x);
  const out = as[as.length - 1];
  const grad = new Float64Array(out.length);
  const loss = LOSSES[spec.name].valueAndGradient(out, label, spec, grad);
  return { loss, as, grad };
}
