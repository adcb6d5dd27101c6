import { Network } from "../model/network";
import { Dataset, makeDataset } from "../data/dataset";
import { noiseImage, sneakyFrom } from "../attacks/article";
import { checkDiverged, descentWork } from "../attacks/loop";
import { drawStarts } from "../attacks/start";
import type { DescentProgram } from "../model/backend";
import { runAsync, runSync, Work } from "../util/work";
import { createRng, DEFAULT_SEED, Rng } from "../util/random";
import { checkCount, checkFinite, checkSeed, markFinite } from "../util/validate";

export interface AugmentOptions {
  seed?: number;
  /** Called with the number of examples done so far and the total (after every chunk; the reference: every example). */
  onProgress?: (done: number, total: number) => void;
  /** Step size of the sneaky attack (article: 1). */
  eta?: number;
  /** Weight of the ridge prior (article: 0.05). */
  lam?: number;
}

/** Adversarial examples with their provenance: `goals[i]` is the label the attack aimed at, `sources[i]` the index in the source data. */
export interface AugmentedDataset extends Dataset {
  goals: Uint8Array;
  sources: Uint32Array;
}

/** Indices of the images of each digit 0..9 in `data`. */
export function indicesByDigit(data: Dataset): Uint32Array[] {
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < data.length; i++) counts[data.labels[i]]++;
  const byDigit = counts.map((c) => new Uint32Array(c));
  const filled = new Array<number>(10).fill(0);
  for (let i = 0; i < data.length; i++) byDigit[data.labels[i]][filled[data.labels[i]]++] = i;
  return byDigit;
}

/** Checks augmentData's arguments; returns the options filled in and the images of each digit. */
function prepareAugment(net: Network, n: number, data: Dataset, steps: number, options: AugmentOptions) {
  const seed = options.seed ?? DEFAULT_SEED;
  const eta = options.eta ?? 1;
  const lam = options.lam ?? 0.05;
  if (!(net instanceof Network)) throw new TypeError("net must be a Network");
  checkCount(n, "n");
  checkCount(steps, "steps");
  checkSeed(seed);
  checkFinite(eta, "eta");
  checkFinite(lam, "lam");
  if (!data || !data.images || !data.labels) throw new TypeError("data must be a Dataset ({ images, labels, length, image(i) })");
  if (data.length > 0 && data.images.length !== data.length * net.inputSize) {
    throw new RangeError(`augmentData: data images have ${data.images.length / data.length} pixels, the network takes ${net.inputSize}`);
  }
  const byDigit = indicesByDigit(data);
  const missing = byDigit.findIndex((ix) => ix.length === 0);
  if (missing >= 0 && n > 0) throw new RangeError(`augmentData: the data has no image of digit ${missing}`);
  return { seed, eta, lam, byDigit };
}

/** Room for n examples of `size` pixels: images, true labels, goal labels, source indices. */
function augmentedArrays(n: number, size: number) {
  return { images: new Float32Array(n * size), labels: new Uint8Array(n), goals: new Uint8Array(n), sources: new Uint32Array(n) };
}

/**
 * One example's draws: a true digit d, the index j of a random image of d, a fake label f.
 * This order, followed by the start image's pixels, is part of what a seed means; the fast path
 * and the reference both draw through here.
 */
function drawExample(rng: Rng, byDigit: Uint32Array[]): { d: number; j: number; f: number } {
  const d = rng.int(10);
  const j = byDigit[d][rng.int(byDigit[d].length)];
  const f = rng.int(10);
  return { d, j, f };
}

/**
 * Defence 2's training data (article §5): `n` times, draw a true digit d, a random image of d
 * from `data`, and a fake label f (uniform over 0..9, so about 10 % equal d); run
 * `sneakyAdversarial(net, f, image, steps, eta)` and keep the result with the TRUE label d.
 * Returns a Dataset (Float32Array images) that `Network.sgd` takes directly.
 *
 * Runs on the batched float32 kernels (`augmentDataReference` is the one-image-at-a-time
 * float64 original, with the same draws in the same order); `onProgress` is called as chunks
 * of examples finish.
 *
 *   const adv = augmentData(net, 50_000, training, 100, { seed: 1 });
 *   net2.sgd(concatDatasets(adv, training), 30, 10, 3.0);
 */
export function augmentData(net: Network, n: number, data: Dataset, steps: number, options: AugmentOptions = {}): AugmentedDataset {
  return runSync(augmentChunks(net, n, data, steps, options));
}

/**
 * `augmentData` that leaves the event loop free while the worker threads compute (and turns it
 * after every chunk of examples), so a notebook can show `onProgress` live. The same numbers
 * as `augmentData`.
 *
 *   const bar = progress(50_000, "adversarial examples");
 *   const adv = await augmentDataAsync(net, 50_000, training, 100, { seed: 1, onProgress: (done) => bar.update(done) });
 *   await bar.finish();
 */
export async function augmentDataAsync(
  net: Network, n: number, data: Dataset, steps: number, options: AugmentOptions = {},
): Promise<AugmentedDataset> {
  return runAsync(() => augmentChunks(net, n, data, steps, options));
}

function* augmentChunks(net: Network, n: number, data: Dataset, steps: number, options: AugmentOptions): Work<AugmentedDataset> {
  const { seed, eta, lam, byDigit } = prepareAugment(net, n, data, steps, options);
  const size = net.inputSize;
  const rng = createRng(seed);
  const { labels, goals, sources } = augmentedArrays(n, size);
  // Every example's draws in the reference's order (digit, image, fake label, start pixels), made
  // range by range as the backend asks for the starts (on the kernels, while the previous chunk
  // computes); the range's goals and prior targets are written then too, before they are read.
  const targets = new Float32Array(n * size);
  const starts = (i0: number, i1: number, out: Float32Array | Float64Array) => {
    for (let i = i0; i < i1; i++) {
      const { d, j, f } = drawExample(rng, byDigit);
      drawStarts("noise", rng, out, out.subarray((i - i0) * size, (i - i0 + 1) * size), size);
      targets.set(data.images.subarray(j * size, (j + 1) * size), i * size);
      labels[i] = d;
      goals[i] = f;
      sources[i] = j;
    }
  };
  const program: DescentProgram = {
    starts, labels: goals, loss: { name: "quadratic", kappa: 0, targeted: true }, steps, step: "gradient", stepSize: eta,
    priorTargets: targets, lam, origins: null, ball: "none", eps: 0, clip: false, earlyStop: false,
  };
  const result = yield* descentWork(net, program, (done) => options.onProgress?.(done, n));
  checkDiverged(result.images, size, program);
  const images = result.images instanceof Float32Array ? result.images : Float32Array.from(result.images);
  // checkDiverged has just looked at every pixel: the dataset need not look again.
  markFinite(images);
  return Object.assign(makeDataset(images, labels, size), { goals, sources });
}

/**
 * The readable float64 reference for `augmentData`: one `sneakyAdversarial` after another,
 * `onProgress` after every example. The same draws in the same order, so the two agree up to
 * float32 rounding.
 */
export function augmentDataReference(net: Network, n: number, data: Dataset, steps: number, options: AugmentOptions = {}): AugmentedDataset {
  const { seed, eta, lam, byDigit } = prepareAugment(net, n, data, steps, options);
  const size = net.inputSize;
  const rng = createRng(seed);
  const { images, labels, goals, sources } = augmentedArrays(n, size);
  for (let i = 0; i < n; i++) {
    const { d, j, f } = drawExample(rng, byDigit);
    const x = sneakyFrom(net, f, noiseImage(rng, size), data.image(j), steps, eta, lam);
    images.set(x, i * size);
    labels[i] = d;
    goals[i] = f;
    sources[i] = j;
    options.onProgress?.(i + 1, n);
  }
  return Object.assign(makeDataset(images, labels, size), { goals, sources });
}
