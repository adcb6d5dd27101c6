/**
 * Distances between images, one number per image. `a` and `b` hold n x size numbers back to
 * back (row i = image i); each function returns n numbers.
 *
 *   l2Distances(adv, clean, 784)  // Float64Array: ||adv_i - clean_i||_2 for every i
 */

function rowsOf(a: ArrayLike<number>, b: ArrayLike<number>, size: number, name: string): number {
  if (a.length !== b.length) throw new RangeError(`${name}: the two image arrays differ in length (${a.length} and ${b.length})`);
  if (!Number.isInteger(size) || size < 1 || a.length % size !== 0) {
    throw new RangeError(`${name}: ${a.length} numbers are not a whole number of ${size}-number images`);
  }
  return a.length / size;
}

/** Number of pixels that differ (by more than `tolerance`, default 0). */
export function l0Distances(a: ArrayLike<number>, b: ArrayLike<number>, size: number, tolerance = 0): Float64Array {
  const n = rowsOf(a, b, size, "l0Distances");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let p = i * size; p < (i + 1) * size; p++) if (Math.abs(a[p] - b[p]) > tolerance) c++;
    out[i] = c;
  }
  return out;
}

/** Euclidean distance. */
export function l2Distances(a: ArrayLike<number>, b: ArrayLike<number>, size: number): Float64Array {
  const n = rowsOf(a, b, size, "l2Distances");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = i * size; p < (i + 1) * size; p++) s += (a[p] - b[p]) ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Largest change of any one pixel. */
export function linfDistances(a: ArrayLike<number>, b: ArrayLike<number>, size: number): Float64Array {
  const n = rowsOf(a, b, size, "linfDistances");
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let p = i * size; p < (i + 1) * size; p++) m = Math.max(m, Math.abs(a[p] - b[p]));
    out[i] = m;
  }
  return out;
}

/** ||a - b||_2 for two single images. */
export function l2Distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return l2Distances(a, b, a.length || 1)[0] ?? 0;
}
