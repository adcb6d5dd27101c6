import { checkLabel, firstNonFiniteIndex, knownFinite, markFinite } from "../util/validate";

/**
 * A labelled set of images. `images` holds `length` images of `imageSize` pixels each,
 * back to back (row-major 28x28 for MNIST, values in [0, 1]); `labels[i]` is the digit 0..9
 * of image i. Datasets are treated as immutable: nothing in the library writes into one.
 */
export interface Dataset {
  images: Float32Array | Float64Array;
  labels: Uint8Array;
  length: number;
  /** A view (no copy) of image i: `imageSize` numbers. */
  image(i: number): Float32Array | Float64Array;
}

/** Pixels per MNIST image (28 x 28). */
export const IMAGE_SIZE = 784;

/**
 * Wraps flat images and their labels as a Dataset, checking that they agree.
 *
 *   makeDataset(new Float32Array(2 * 784), Uint8Array.of(3, 7)).length  // 2
 */
export function makeDataset(
  images: Float32Array | Float64Array,
  labels: Uint8Array,
  imageSize = IMAGE_SIZE,
): Dataset {
  if (images.length !== labels.length * imageSize) {
    throw new RangeError(
      `dataset: ${labels.length} labels need ${labels.length * imageSize} pixels (${imageSize} each), got ${images.length}`,
    );
  }
  for (let i = 0; i < labels.length; i++) checkLabel(labels[i], `dataset label ${i}`);
  const p = knownFinite(images) ? -1 : firstNonFiniteIndex(images);
  if (p >= 0) throw new RangeError(`dataset: image ${Math.floor(p / imageSize)} pixel ${p % imageSize} is ${images[p]}, not a finite number`);
  markFinite(images);
  const length = labels.length;
  return {
    images,
    labels,
    length,
    image(i: number) {
      if (!Number.isInteger(i) || i < 0 || i >= length) {
        throw new RangeError(`image index must be a whole number from 0 to ${length - 1}, got ${i}`);
      }
      return images.subarray(i * imageSize, (i + 1) * imageSize);
    },
  };
}

/** Images `start` .. `end - 1` of `data`, as views (no copy). */
export function sliceDataset(data: Dataset, start: number, end = data.length): Dataset {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > data.length || start > end) {
    throw new RangeError(`sliceDataset: range ${start}..${end} is not within 0..${data.length}`);
  }
  const size = data.length === 0 ? IMAGE_SIZE : data.images.length / data.length;
  return makeDataset(data.images.subarray(start * size, end * size), data.labels.subarray(start, end), size);
}

/**
 * One dataset holding every image of `sets`, in order (e.g. adversarial plus training
 * images, for `Network.sgd`). Stored as Float32Array: 4 bytes a pixel.
 */
export function concatDatasets(...sets: Dataset[]): Dataset {
  if (sets.length === 0) return makeDataset(new Float32Array(0), new Uint8Array(0));
  const size = sets[0].length === 0 ? IMAGE_SIZE : sets[0].images.length / sets[0].length;
  let total = 0;
  for (const [k, set] of sets.entries()) {
    if (set.length > 0 && set.images.length / set.length !== size) {
      throw new RangeError(`concatDatasets: set ${k} has images of ${set.images.length / set.length} pixels, set 0 of ${size}`);
    }
    total += set.length;
  }
  const images = new Float32Array(total * size);
  const labels = new Uint8Array(total);
  let offset = 0;
  for (const set of sets) {
    images.set(set.images, offset * size);
    labels.set(set.labels, offset);
    offset += set.length;
  }
  // Float32 copies of finite float32 pixels are finite: no need to look at 78 million of them
  // again (a float64 pixel can overflow to Infinity in float32, so those are checked).
  if (sets.every((set) => set.images instanceof Float32Array && knownFinite(set.images))) markFinite(images);
  return makeDataset(images, labels, size);
}

/**
 * The 10-vector with a 1 at `label` and 0 elsewhere: the goal output for that digit.
 *
 *   oneHot(3)  // Float64Array [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
 */
export function oneHot(label: number, classes = 10): Float64Array {
  checkLabel(label, "label", classes);
  const y = new Float64Array(classes);
  y[label] = 1;
  return y;
}
