import { Activation, ACTIVATIONS } from "./activations";

/**
 * One dense layer, its forward rule beside its backward rule (float64: the readable reference
 * the kernels are held to).
 *
 * Shapes: W is `rows x cols`, row-major (row = unit fed, col = unit feeding), so the layer maps
 * an input of `cols` numbers to `rows` numbers: z = W a + b, a' = f(z).
 */

/** Forward: aOut = f(W a + b). a: cols numbers; b, aOut: rows numbers. f defaults to sigmoid. */
export function denseForward(
  W: Float64Array, b: Float64Array, a: ArrayLike<number>, rows: number, cols: number, aOut: Float64Array,
  f: Activation = ACTIVATIONS.sigmoid,
): void {
  for (let r = 0; r < rows; r++) {
    let z = b[r];
    const base = r * cols;
    for (let c = 0; c < cols; c++) z += W[base + c] * a[c];
    aOut[r] = f.forward(z);
  }
}

/**
 * Backward: given aOut = f(z) from the forward pass and gradOut = dC/daOut (rows), writes
 * delta = dC/dz = gradOut * f'(z) (rows) and, when gradIn is given, dC/da = W^T delta (cols).
 * dC/db is delta; dC/dW is the outer product delta a^T (`addOuter`). For sigmoid, f'(z) is
 * taken as aOut (1 - aOut), the same number without a second exp.
 */
export function denseBackward(
  W: Float64Array, aOut: Float64Array, gradOut: ArrayLike<number>, rows: number, cols: number,
  delta: Float64Array, gradIn: Float64Array | null, f: Activation = ACTIVATIONS.sigmoid,
): void {
  if (f.name === "sigmoid") {
    for (let r = 0; r < rows; r++) delta[r] = gradOut[r] * aOut[r] * (1 - aOut[r]);
  } else {
    for (let r = 0; r < rows; r++) delta[r] = gradOut[r] * f.derivative(aOut[r]);
  }
  if (gradIn === null) return;
  gradIn.fill(0, 0, cols);
  for (let r = 0; r < rows; r++) {
    const d = delta[r];
    const base = r * cols;
    for (let c = 0; c < cols; c++) gradIn[c] += W[base + c] * d;
  }
}

/** nablaW += delta a^T (rows x cols), nablaB += delta: the weight and bias gradients of one example. */
export function addOuter(
  nablaW: Float64Array, nablaB: Float64Array, delta: Float64Array, a: ArrayLike<number>, rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const d = delta[r];
    nablaB[r] += d;
    const base = r * cols;
    for (let c = 0; c < cols; c++) nablaW[base + c] += d * a[c];
  }
}
