import { maxIndex } from "d3-array";

/**
 * Index of the largest entry (the first one on ties); -1 for an empty array.
 *
 *   argmax([0.1, 0.7, 0.2])  // 1
 */
export function argmax(v: ArrayLike<number>): number {
  return maxIndex(v as unknown as Iterable<number>);
}

/**
 * argmax of the k numbers of a flat array starting at offset o (row i of an n x k array is at
 * o = i k), first on ties, without copying the row: the form every batched prediction takes.
 */
/** How many rows of a flat n x k array have their argmax (first on ties) at labels[i]. */
export function countArgmaxAt(out: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (argmaxRow(out, i * k, k) === labels[i]) right++;
  return right;
}

export function argmaxRow(out: ArrayLike<number>, o: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (out[o + j] > out[o + best]) best = j;
  return best;
}
