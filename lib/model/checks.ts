import { firstNonFiniteIndex, knownFinite, markFinite } from "../util/validate";

/** Checks of batched inputs shared by the models and the attacks; errors name the argument and the value. */

/** The number of images in `images` (n x size finite numbers), or an error naming the first problem. */
export function checkImages(images: unknown, size: number, name: string): number {
  if (images === null || typeof images !== "object" || typeof (images as ArrayLike<number>).length !== "number") {
    throw new TypeError(`${name} must be an array of numbers (n x ${size}), got ${images === null ? "null" : typeof images}`);
  }
  const v = images as ArrayLike<number>;
  if (v.length % size !== 0) throw new RangeError(`${name} has ${v.length} numbers, not a whole number of ${size}-pixel images`);
  if (knownFinite(images)) return v.length / size;
  const i = firstNonFiniteIndex(v);
  if (i >= 0) throw new RangeError(`${name}[${i}] (image ${Math.floor(i / size)}, pixel ${i % size}) must be a finite number, got ${v[i]}`);
  if (ArrayBuffer.isView(images)) markFinite(images);
  return v.length / size;
}

/** n labels, each a whole number in 0 .. classes - 1. */
export function checkLabels(labels: unknown, n: number, classes: number, name: string): Uint8Array {
  if (labels === null || typeof labels !== "object" || typeof (labels as ArrayLike<number>).length !== "number") {
    throw new TypeError(`${name} must be an array of ${n} labels`);
  }
  const v = labels as ArrayLike<number>;
  if (v.length !== n) throw new RangeError(`${name} holds ${v.length} labels for ${n} images`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = v[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new RangeError(`${name}[${i}] must be a whole number from 0 to ${classes - 1}, got ${y}`);
    }
    out[i] = y;
  }
  return out;
}
