import { Dataset, makeDataset } from "../data/dataset";
import { createRng, DEFAULT_SEED, Rng } from "../util/random";
import { checkCount } from "../util/validate";

/**
 * The experiment protocols the notebooks share, in one place: a change of protocol touches one
 * function, not every notebook.
 */

/**
 * The images of `data` at `indices`, as a new Dataset (Float32Array images, copied).
 *
 *   gatherImages(test, [0, 5, 9]).labels  // Uint8Array [7, 1, 9]
 */
export function gatherImages(data: Dataset, indices: ArrayLike<number>): Dataset {
  const size = data.length === 0 ? 0 : data.images.length / data.length;
  const images = new Float32Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= data.length) {
      throw new RangeError(`gatherImages: indices[${k}] must be a whole number from 0 to ${data.length - 1}, got ${i}`);
    }
    images.set(data.image(i), k * size);
    labels[k] = data.labels[i];
  }
  return makeDataset(images, labels, size || 784);
}

/** n (image, goal) pairs: `indices` into the data, their true `labels`, a `goal` label other than the true one, and the images. */
export interface Pairs {
  indices: Uint32Array;
  labels: Uint8Array;
  goals: Uint8Array;
  /** n x imageSize pixels, image k = data.image(indices[k]). */
  images: Float32Array;
}

/**
 * The seeded (image, other label) protocol of the article's targeted experiments: n times, draw
 * an image index uniformly from `data`, then a goal uniformly among the 9 labels that are not its
 * own: goal = (label + 1 + U{0..8}) mod 10. With `accept`, a drawn index it rejects is skipped
 * (its draws are spent), e.g. to keep only images every network reads correctly.
 *
 *   const { images, goals } = drawPairs(test, 1000, { seed: 3 });
 */
export function drawPairs(data: Dataset, n: number, options: { seed?: number; rng?: Rng; accept?: (index: number) => boolean; classes?: number } = {}): Pairs {
  checkCount(n, "n");
  if (data.length === 0 && n > 0) throw new RangeError("drawPairs: the data set is empty");
  const rng = options.rng ?? createRng(options.seed ?? DEFAULT_SEED);
  const classes = options.classes ?? 10;
  const indices = new Uint32Array(n), labels = new Uint8Array(n), goals = new Uint8Array(n);
  let tries = 0;
  for (let k = 0; k < n;) {
    if (++tries > 1000 * (n + 10)) throw new Error(`drawPairs: accept() rejected ${tries - 1} draws in a row; is any image acceptable?`);
    const index = rng.int(data.length);
    const label = data.labels[index];
    const goal = (label + 1 + rng.int(classes - 1)) % classes;
    if (options.accept && !options.accept(index)) continue;
    indices[k] = index; labels[k] = label; goals[k] = goal;
    k++;
  }
  const gathered = gatherImages(data, indices);
  return { indices, labels, goals, images: gathered.images as Float32Array };
}
