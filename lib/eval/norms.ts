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
  return distances(a, b, size, tolerance, "l0Distances").l0;
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
  return distances(a, b, size, 0, "linfDistances").linf;
}

/**
 * The three distances in one pass over the images (what an attack result reports): l0 counts
 * pixels that differ by more than `tolerance`; l2 sums in the same order as l2Distances, so the
 * numbers are the same to the bit.
 */
export function distances(
  a: ArrayLike<number>, b: ArrayLike<number>, size: number, tolerance = 0, name = "distances",
): { l0: Float64Array; l2: Float64Array; linf: Float64Array } {
  const n = rowsOf(a, b, size, name);
  const l0 = new Float64Array(n), l2 = new Float64Array(n), linf = new Float64Array(n);
  for (let i = 0, p = 0; i < n; i++) {
    let c = 0, s = 0, m = 0;
    // Branch-free counting and maximum: the changed pixels of an attack follow no pattern a
    // branch predictor could learn.
    for (const end = p + size; p < end; p++) {
      const e = a[p] - b[p];
      const x = Math.abs(e);
      c += Number(x > tolerance);
      s += e * e;
      m = Math.max(m, x);
    }
    l0[i] = c; l2[i] = Math.sqrt(s); linf[i] = m;
  }
  return { l0, l2, linf };
}

/** ||a - b||_2 for two single images. */
export function l2Distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return l2Distances(a, b, a.length || 1)[0] ?? 0;
}
