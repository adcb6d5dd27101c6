import { maxIndex } from "d3-array";

/**
 * Index of the largest entry (the first one on ties); -1 for an empty array.
 *
 *   argmax([0.1, 0.7, 0.2])  // 1
 */
export function argmax(v: ArrayLike<number>): number {
  return maxIndex(v as unknown as Iterable<number>);
}
