import type { EpochReport, Network, SgdOptions } from "../model/network";
import { Dataset } from "../data/dataset";
import { createRng, DEFAULT_SEED } from "../util/random";
import { kernelEngine } from "./pool";
import { WAIT, Work } from "./drive";
import { Arena } from "./arena";
import { downloadNetwork, feedforwardScratchBytes, freeNetwork, lineUp, NetHandle, uploadNetwork } from "./net";

/**
 * How many times a thread checks a barrier before it sleeps. Two barriers per mini-batch:
 * sleeping and being woken costs ~25 us on this project's machines, so spinning long pays
 * (measured on an idle machine, 50,000 examples, 2 threads: 8.3 us/example with 500 checks,
 * 6-7 with 5,000, 3.0 with 50,000).
 */
const BARRIER_SPINS = 50_000;

/**
 * Nielsen's mini-batch sgd (the same algorithm as `Network.sgdReference`: the same seeded
 * shuffle every epoch, batches of `miniBatchSize` in that order, w -= eta / batch length *
 * summed gradient) on float32 SIMD kernels over every thread. The training images are copied
 * into kernel memory once (4 bytes a pixel); the weights live there during the call and are
 * copied back into `net` after every epoch. Arguments are checked by the caller.
 *
 * A generator run by `runSync` or `runAsync` (kernels/drive.ts): one job per epoch.
 */
export function* sgdFast(
  net: Network, training: Dataset, epochs: number, miniBatchSize: number, eta: number, options: SgdOptions,
): Work<void> {
  const engine = kernelEngine();
  const { arena } = engine;
  const n = training.length;
  const size = net.inputSize;
  const B = miniBatchSize;
  const units = net.sizes.slice(1);
  const unitsTotal = units.reduce((s, u) => s + u, 0);
  const regions: number[] = [];
  const take = (bytes: number) => { const p = arena.alloc(bytes); regions.push(p); return p; };
  let handle: NetHandle | null = null;
  engine.begin();
  try {
    handle = arena.allOrNothing(() => uploadNetwork(arena, net));
    const images = take(4 * n * size);
    yield* copyImages(arena, images, training, size);
    const labels = take(n);
    arena.u8(labels, n).set(training.labels);
    const order = take(4 * n);
    const acts = take(8 * B * unitsTotal);
    const deltas = take(4 * B * unitsTotal);
    const T = engine.threadCount;
    const perThread = lineUp(4 * B + ((B + 3) & ~3) + 4 * B + 32 + 8 * Math.max(...net.sizes) + 64);
    const scratch = take(perThread * T);
    const ctx = take(64);
    const words = arena.u32(ctx, 16);
    words.fill(0);
    words[0] = images; words[1] = labels; words[2] = order; words[3] = n; words[4] = B;
    words[5] = BARRIER_SPINS;
    new Float32Array(arena.memory.buffer, ctx + 24, 1)[0] = eta;
    words[9] = acts; words[10] = deltas; words[11] = scratch; words[12] = perThread;

    const test = options.testData && options.testData.length > 0 ? options.testData : null;
    let testImages = 0, testOut = 0, testScratch = 0, testStride = 0;
    if (test) {
      testImages = take(4 * test.length * size);
      yield* copyImages(arena, testImages, test, size);
      testOut = take(4 * test.length * net.outputSize);
      testStride = lineUp(feedforwardScratchBytes(net.sizes));
      testScratch = take(testStride * T);
    }

    const rng = createRng(options.seed ?? DEFAULT_SEED);
    const shuffled = Uint32Array.from({ length: n }, (_, i) => i);
    const batches = Math.ceil(n / B);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = performance.now();
      rng.shuffle(shuffled);
      arena.u32(order, n).set(shuffled);
      engine.start({ kernel: "sgdRange", args: [handle.ptr, ctx, 0, batches], appendThread: true });
      yield WAIT;
      const seconds = (performance.now() - start) / 1000;
      downloadNetwork(arena, handle, net);
      if (options.onEpoch) {
        const report: EpochReport = { epoch, epochs, seconds };
        if (options.testData) {
          let correct = 0;
          if (test) {
            // The test accuracy from the float32 forward pass on the kernel's weights.
            engine.start({
              kernel: "feedforwardRange", args: [handle.ptr, testImages, 0, test.length, testOut, testScratch],
              splitAt: 2, scratchAt: 5, scratchStride: testStride,
            });
            yield WAIT;
            correct = countRight(arena.f32(testOut, test.length * net.outputSize), test.labels, net.outputSize);
          }
          report.correct = correct;
          report.total = options.testData.length;
          report.accuracy = report.total === 0 ? 0 : correct / report.total;
        }
        options.onEpoch(report);
      }
      if (epoch < epochs) yield epoch;
    }
  } finally {
    engine.settle();
    engine.end();
    regions.forEach((p) => arena.free(p));
    if (handle) freeNetwork(arena, handle);
  }
}

/** Copies the images of `data` into kernel memory at `ptr` (float32), yielding between slices. */
function* copyImages(arena: Arena, ptr: number, data: Dataset, size: number): Work<void> {
  const slice = 8192;
  for (let i = 0; i < data.length; i += slice) {
    const m = Math.min(slice, data.length - i);
    arena.f32(ptr + 4 * i * size, m * size).set(data.images.subarray(i * size, (i + m) * size));
    if (i + m < data.length) yield i + m;
  }
}

/** How many rows of `outputs` (k numbers each) have their largest number (first on ties) at their label. */
function countRight(outputs: Float32Array, labels: Uint8Array, k: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (outputs[i * k + j] > outputs[i * k + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}
