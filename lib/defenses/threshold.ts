import { checkFinite, markFinite } from "../util/validate";

/**
 * Defence 1 (article §4): every pixel above `threshold` becomes 1, every other 0, which wipes
 * out the faint grey background adversarial examples carry. Works on one image or on n images
 * back to back (it is pixel by pixel). Returns a new array. Its derivative is 0 almost everywhere
 * (`binaryThreshold.backward`), which is why a gradient attack that ignores it stalls.
 *
 *   binaryThreshold([0.2, 0.5, 0.51])  // Float64Array [0, 0, 1]
 */
export const binaryThreshold = Object.assign(
  function binaryThreshold(x: ArrayLike<number>, threshold = 0.5): Float64Array {
    checkFinite(threshold, "threshold");
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v > threshold) out[i] = 1;
      else if (!(v <= threshold)) throw new RangeError(`binaryThreshold: x[${i}] is NaN`);
    }
    // Only 0s and 1s: a model taking these images need not scan them for NaN again.
    markFinite(out);
    return out;
  },
  {
    /** The exact derivative: 0 everywhere but at the threshold itself, where it does not exist. */
    backward: (images: ArrayLike<number>, _gradOut: ArrayLike<number>): Float64Array => new Float64Array(images.length),
  },
);
